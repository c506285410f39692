"""What a report says, as a plain dict gathered from the services (no Qt, no Jinja).

Times are stored in UTC and shown in the local time zone of the machine that
writes the report. A finding is the JSON shape of a check result
(`CheckResult.as_json()`, or the copy a note keeps) plus "host".
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from techdesk import __version__
from techdesk.core.roster import RosterError
from techdesk.core.severity import Status
from techdesk.core.work import WorkError

SEVERITIES = ("crit", "warn", "unknown")          # the order findings are shown in
GROUP_TITLES = {"crit": "Critical", "warn": "Warnings", "unknown": "Could not be checked"}
OUTPUT_LINES = 200                                # raw output kept per check in the appendix
OUTPUT_CHARS = 30_000


def _local(ts: str | None, fmt: str) -> str:
    return datetime.fromisoformat(ts).astimezone().strftime(fmt) if ts else ""


def fmt_date(ts: str | None) -> str:
    return _local(ts, "%Y-%m-%d")


def fmt_time(ts: str | None) -> str:
    return _local(ts, "%H:%M")


def fmt_datetime(ts: str | None) -> str:
    return _local(ts, "%Y-%m-%d %H:%M")


def duration_text(minutes: float | None) -> str:
    if minutes is None:
        return ""
    total = int(round(minutes))
    hours, mins = divmod(total, 60)
    return f"{hours} h {mins:02d} min" if hours else f"{mins} min"


def plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n} {word if n == 1 else (many or word + 's')}"


def _header(kind: str) -> dict:
    now = datetime.now(UTC).isoformat(timespec="seconds")
    return {"kind": kind, "generated": fmt_datetime(now), "generator": f"techdesk {__version__}",
            "timezone": datetime.now().astimezone().tzname() or ""}


# -- run results ---------------------------------------------------------------
def _host_result(services, cache: dict, run_id: str, host: str):
    if (run_id, host) not in cache:
        cache[run_id, host] = services.history.host_result(run_id, host)
    return cache[run_id, host]


def _empty_host(name: str) -> dict:
    return {"name": name, "status": None, "checked": None, "bundles": [], "error": None, "checks": {}}


def _merge(entry: dict, started: str, bundle: str, checks: list[dict], error: dict | None) -> None:
    """Later observations of a check replace earlier ones (runs are merged oldest first)."""
    for check in checks:
        entry["checks"][check["id"]] = {**check, "host": entry["name"], "observed": started}
    entry["error"] = error if error else (None if checks else entry["error"])
    entry["checked"] = started
    if bundle not in entry["bundles"]:
        entry["bundles"].append(bundle)


def _finish(entry: dict) -> dict:
    statuses = [Status(c["status"]) for c in entry["checks"].values()]
    if entry["error"]:
        statuses.append(Status.UNKNOWN)
    entry["status"] = max(statuses, key=lambda s: s.rank).value if statuses else None
    entry["counts"] = {s.value: sum(1 for x in statuses if x == s) for s in Status}
    entry["checked_text"] = fmt_datetime(entry["checked"])
    words = (("crit", "critical", "critical"), ("warn", "warning", "warnings"),
             ("unknown", "not evaluated", "not evaluated"), ("ok", "OK", "OK"))
    entry["counts_text"] = ", ".join(plural(entry["counts"][s], one, many) for s, one, many in words
                                     if entry["counts"][s])
    if entry["error"] and not entry["checks"]:
        entry["counts_text"] = f"could not be reached ({entry['error']['kind']})"
    return entry


def visit_results(services, visit, notes, cache: dict) -> list[dict]:
    """Each host touched during the visit, with the latest result of each of its checks
    from the visit's runs; a host without such a run falls back to the runs its notes keep."""
    hosts = {name: _empty_host(name) for name in visit.hosts}
    if visit.runs:
        marks = ",".join("?" * len(visit.runs))
        rows = services.conn.execute(
            f"SELECT rh.run_id, rh.host, rh.started, r.bundle FROM run_hosts rh JOIN runs r ON r.id = rh.run_id"
            f" WHERE rh.run_id IN ({marks}) ORDER BY rh.started, rh.run_id", visit.runs).fetchall()
        for run_id, host, started, bundle in rows:
            if host not in hosts:
                continue
            result = _host_result(services, cache, run_id, host)
            if result is not None:
                _merge(hosts[host], started, bundle,
                       [dict(c.as_json(), run_id=run_id) for c in result.checks],
                       result.error.as_json() if result.error else None)
    from_runs = {name for name, entry in hosts.items() if entry["checked"]}
    attached = sorted((r for n in notes for r in n.runs), key=lambda r: r.started)
    for run in attached:
        if run.host in from_runs:
            continue
        entry = hosts.setdefault(run.host, _empty_host(run.host))
        _merge(entry, run.started, run.bundle,
               [dict(f, output=None, run_id=run.run_id) for f in run.findings], run.error)
    return [_finish(hosts[name]) for name in sorted(hosts, key=str.casefold)]


def latest_entries(services, names: list[str]) -> list[dict]:
    """Each host with its latest run's checks (each keeping its run_id); a host never run
    has status None."""
    entries = []
    for host in names:
        entry = _empty_host(host)
        found = services.history.latest(host)
        if found is not None and found[1] is not None:
            run, result = found
            _merge(entry, run.started, run.bundle, [dict(c.as_json(), run_id=run.run_id) for c in result.checks],
                   result.error.as_json() if result.error else None)
        entries.append(_finish(entry))
    return entries


def error_finding(host: dict) -> dict:
    err = host["error"]
    return {"host": host["name"], "id": "_connection", "title": "Connection", "status": "unknown",
            "summary": f"could not be checked ({err['kind']}): {err['message']}", "metrics": {}}


def group_findings(hosts: list[dict]) -> list[dict]:
    """Findings that are not OK, grouped by severity (crit, warn, unknown), each with its host."""
    groups = {s: [] for s in SEVERITIES}
    for host in hosts:
        if host["error"]:
            groups["unknown"].append(error_finding(host))
        for check in host["checks"].values():
            if check["status"] in groups:
                groups[check["status"]].append(check)
    return [{"status": s, "title": GROUP_TITLES[s], "items": groups[s]} for s in SEVERITIES if groups[s]]


def totals(hosts: list[dict]) -> dict:
    return {s.value: sum(h["counts"][s.value] for h in hosts if h["status"]) for s in Status}


APPENDIX_CHOICES = ("problems", "all", "none")  # raw output of: non-OK checks (default), every check, none


def appendix(hosts: list[dict], max_lines: int = OUTPUT_LINES, which: str = "all") -> list[dict]:
    entries = []
    if which == "none":
        return entries
    for host in hosts:
        for check in host["checks"].values():
            if which == "problems" and check["status"] == "ok":
                continue
            output = (check.get("output") or "").rstrip("\n")
            if not output:
                continue
            lines = output[:OUTPUT_CHARS].split("\n")
            shown = lines[:max_lines]
            total = output.count("\n") + 1
            entries.append({"host": host["name"], "title": check["title"], "id": check["id"],
                            "status": check["status"], "observed": fmt_datetime(check["observed"]),
                            "text": "\n".join(shown), "shown": len(shown), "total": total,
                            "cut": total - len(shown)})
    return entries


# -- what changed since the previous visit ---------------------------------------
def previous_visit(services, visit):
    earlier = [v for v in services.visits.list(visit.client)
               if v.id != visit.id and v.started < visit.started]
    return earlier[0] if earlier else None  # list_visits is newest first


def _check_at(services, cache: dict, host: str, check_id: str, ts: str) -> dict | None:
    row = services.conn.execute(
        "SELECT cr.run_id FROM check_results cr JOIN run_hosts rh ON rh.run_id = cr.run_id"
        " AND rh.host = cr.host WHERE cr.host = ? AND cr.check_id = ? AND rh.started <= ?"
        " ORDER BY rh.started DESC LIMIT 1", (host, check_id, ts)).fetchone()
    if row is None:
        return None
    result = _host_result(services, cache, row[0], host)
    found = next((c for c in result.checks if c.id == check_id), None) if result else None
    return dict(found.as_json(), run_id=row[0]) if found else None


def changes_since(services, hosts: list[dict], prev, cache: dict) -> list[dict]:
    """Checks whose status differs from the same host+check at the time of `prev`."""
    cutoff = prev.stopped or prev.started
    changes = []
    for host in hosts:
        for check in host["checks"].values():
            before = _check_at(services, cache, host["name"], check["id"], cutoff)
            if before is None or before["run_id"] == check.get("run_id") or before["status"] == check["status"]:
                continue
            was, now = Status(before["status"]), Status(check["status"])
            changes.append({
                "host": host["name"], "title": check["title"], "id": check["id"],
                "was": was.value, "now": now.value, "was_word": was.word, "now_word": now.word,
                "direction": "worse" if now.rank > was.rank else "better",
                "text": f"{check['title']}: was {was.word}, now {now.word}",
                "deltas": metric_deltas(before["metrics"], check["metrics"]),
            })
    changes.sort(key=lambda c: (c["direction"] != "worse", -Status(c["now"]).rank, c["host"].casefold()))
    return changes


# -- plain words for findings ----------------------------------------------------
_ADVICE = {  # check id -> advice; a pair = (with the worst metric, without one)
    "disk": ("Free up space on {label} of {host} ({value} used)", "Free up disk space on {host}"),
    "inodes": ("Remove unneeded small files on {label} of {host} ({value} of its inodes used)",
               "Remove unneeded small files on {host}: it is running out of inodes"),
    "memory": ("Find out what uses the memory of {host} ({value} used), or add memory",
               "Find out what uses the memory of {host}, or add memory"),
    "swap": ("Relieve the memory of {host}: it is swapping ({value} of swap used)",
             "Relieve the memory of {host}: it is swapping"),
    "updates": "Install the pending updates on {host}",
    "reboot": "Restart {host} at a convenient time to finish installing updates",
    "failed_units": "Repair or disable the failed services on {host}",
    "clock": "Turn on time synchronisation (NTP) on {host}",
    "load": "Find out what keeps the processor of {host} busy",
    "kernel_errors": "Review the system error log of {host}",
    "failed_logins": "Review the failed logins on {host} and block where they come from",
    "firewall": "Turn on the firewall of {host}",
    "defender": "Bring the virus protection of {host} up to date",
    "filevault": "Turn on disk encryption (FileVault) on {host}",
    "sip": "Turn System Integrity Protection back on for {host}",
    "uptime": "Plan a restart of {host}",
}
for _alias, _same in (("windows_update", "updates"), ("units", "failed_units"), ("services", "failed_units"),
                      ("launchd", "failed_units"), ("ntp", "clock"), ("cpu", "load"), ("eventlog", "kernel_errors")):
    _ADVICE[_alias] = _ADVICE[_same]


def fmt_value(value: float, uom: str) -> str:
    number = f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"
    return number if uom in ("", "c") else number + uom if uom == "%" else f"{number} {uom}"


def _level(m: dict) -> int:
    crit, warn, value = m.get("crit"), m.get("warn"), m["value"]
    return 2 if crit is not None and value >= crit else 1 if warn is not None and value >= warn else 0


def worst_metric(metrics: dict) -> tuple[str, dict] | None:
    return max(metrics.items(), key=lambda kv: (_level(kv[1]), kv[1]["uom"] == "%", kv[1]["value"]),
               default=None)


def metric_deltas(before: dict, now: dict, limit: int = 4) -> list[str]:
    """"/ 86% → 93%" for the metrics whose value changed, biggest change first."""
    changed = [(label, before[label], m) for label, m in now.items()
               if label in before and before[label]["value"] != m["value"]]
    changed.sort(key=lambda x: (-_level(x[2]), -abs(x[2]["value"] - x[1]["value"])))
    return [f"{label.replace('_', ' ')} {fmt_value(old['value'], old['uom'])} → {fmt_value(m['value'], m['uom'])}"
            for label, old, m in changed[:limit]]


def advice(check: dict, host: str) -> str:
    entry = _ADVICE.get(check["id"])
    if entry is None:
        summary = check.get("summary") or ""
        return f"Review {check['title']} on {host}" + (f" ({summary})" if summary else "")
    with_metric, without = entry if isinstance(entry, tuple) else (entry, entry)
    worst = worst_metric(check.get("metrics") or {})
    if worst is None:
        return without.format(host=host)
    return with_metric.format(host=host, label=worst[0], value=fmt_value(worst[1]["value"], worst[1]["uom"]))


def recommendations(hosts: list[dict]) -> list[dict]:
    """One recommendation per critical or warning finding (critical first), and one per host
    that could not be reached."""
    items = []
    for host in hosts:
        if host["error"]:
            items.append({"status": "unknown", "host": host["name"], "check": "_connection",
                          "text": f"Find out why {host['name']} could not be checked ({host['error']['kind']})"})
        items += [{"status": c["status"], "host": host["name"], "check": c["id"], "text": advice(c, host["name"])}
                  for c in host["checks"].values() if c["status"] in ("crit", "warn")]
    order = {"crit": 0, "warn": 1, "unknown": 2}
    return sorted(items, key=lambda r: order[r["status"]])


# -- notes -----------------------------------------------------------------------
def note_target(note) -> str:
    return note.host or " / ".join(x for x in (note.client, note.site) if x)


def note_entry(note) -> dict:
    return {"id": note.id, "title": note.title, "body": note.body, "status": note.status,
            "for": note_target(note), "author": note.author, "created": fmt_datetime(note.created),
            "updated": fmt_datetime(note.updated),
            "followups": [{"text": f.text, "done": f.done} for f in note.followups]}


def open_followups(notes) -> list[dict]:
    return [{"text": f.text, "note": n.title, "for": note_target(n)}
            for n in notes for f in n.followups if not f.done]


def summary_line(hosts: list[dict], n_notes: int) -> str:
    """"3 machines checked, 1 critical finding, 2 warnings; 2 notes"."""
    checked = [h for h in hosts if h["status"]]
    t, unreachable = totals(checked), sum(1 for h in checked if h["error"])
    text = plural(len(checked), "machine") + " checked"
    if unreachable:
        text += f" ({unreachable} could not be reached)"
    problems = [plural(t["crit"], "critical finding")] if t["crit"] else []
    problems += [plural(t["warn"], "warning")] if t["warn"] else []
    if t["unknown"] - unreachable:
        problems += [plural(t["unknown"] - unreachable, "check") + " that could not be evaluated"]
    if checked:
        text = ", ".join([text, *(problems or ["no problems found"])])
    return f"{text}; {plural(n_notes, 'note')}" if n_notes else text


# -- the two reports -------------------------------------------------------------
def visit_report(services, visit_id: str, appendix_of: str = "problems", unticked: bool = True) -> dict:
    """``appendix_of``: whose raw output the appendix carries (APPENDIX_CHOICES; OK
    checks are left out by default); ``unticked=False`` hides checklist items not done."""
    if appendix_of not in APPENDIX_CHOICES:
        raise WorkError(f"appendix must be one of {', '.join(APPENDIX_CHOICES)}, not {appendix_of!r}")
    visit = services.visits.get(visit_id)
    notes = sorted(services.visits.notes(visit), key=lambda n: n.created)
    cache: dict = {}
    hosts = visit_results(services, visit, notes, cache)
    prev = previous_visit(services, visit)
    checked = [h for h in hosts if h["status"]]
    minutes = visit.minutes_on_site()
    data = _header("visit")
    data.update({
        "title": f"Visit report — {visit.client}" + (f" / {visit.site}" if visit.site else ""),
        "visit_id": visit.id, "client": visit.client, "site": visit.site or "",
        "technician": visit.technician, "date": fmt_date(visit.started),
        "start": fmt_time(visit.started), "stop": fmt_time(visit.stopped), "running": visit.running,
        "minutes_on_site": round(minutes), "time_on_site": duration_text(minutes),
        "billable_minutes": visit.billable_minutes,
        "billable": duration_text(visit.billable_minutes) if visit.billable_minutes is not None else "",
        "summary": visit.summary.strip() or summary_line(hosts, len(notes)),
        "summary_generated": not visit.summary.strip(),
        "checklist": [{"text": c.text, "done": c.done} for c in visit.checklist if unticked or c.done],
        "hosts": hosts, "totals": totals(checked),
        "findings": group_findings(checked),
        "ok_counts": [{"host": h["name"], "count": h["counts"]["ok"]} for h in checked if h["counts"]["ok"]],
        "previous_visit": {"id": prev.id, "date": fmt_date(prev.started)} if prev else None,
        "changes": changes_since(services, checked, prev, cache) if prev else [],
        "work": [note_entry(n) for n in notes],
        "followups": open_followups(notes),
        "recommendations": recommendations(checked),
        "appendix": appendix(checked, which=appendix_of), "output_lines": OUTPUT_LINES,
    })
    return data


def client_report(services, name: str, trends: list[dict] | None = None) -> dict:
    if name not in {c.name for c in services.roster.clients()}:
        raise RosterError(f"no client named {name!r}")
    stale_after = timedelta(hours=services.workspace.settings.stale_after_hours)
    now = datetime.now(UTC)
    site_order = [s.name for s in services.roster.sites(name)]
    sites: dict[str, list[dict]] = {}
    checked = []
    hosts = sorted(services.roster.hosts(client=name), key=lambda h: h.name.casefold())
    # The one definition of a host's status (core/host_state.py): current states, any bundle.
    states = services.history.host_states(stale_after, [h.name for h in hosts], now=now)
    for host in hosts:
        entry = _empty_host(host.name)
        state = states[host.name]
        for check, at, bundle in sorted(services.history.current_results(host.name), key=lambda c: c[1]):
            _merge(entry, at, bundle, [check.as_json()], None)
        attempt = state.attempt
        if state.attempt_failed and not attempt.cancelled:
            entry["error"] = {"kind": attempt.error_kind, "message": attempt.error_message}
        if entry["checks"] or entry["error"]:
            checked.append(entry)
        _finish(entry)
        if entry["status"]:
            entry["status"] = state.status
        entry["stale"] = bool(entry["checked"]) and state.stale
        problems = sorted((c for c in entry["checks"].values() if c["status"] != "ok"),
                          key=lambda c: -Status(c["status"]).rank)
        entry["worst"] = ([error_finding(entry)] if entry["error"] else []) + problems[:3]
        entry["more"] = max(0, len(problems) - 3)
        sites.setdefault(host.spec.site or "", []).append(entry)
    order = site_order + sorted(set(sites) - set(site_order))
    notes = [n for n in services.notes.list(client=name) if n.status == "open"]
    data = _header("client")
    data.update({
        "title": f"IT health report — {name}", "client": name, "technician": services.workspace.technician,
        "date": datetime.now().astimezone().strftime("%Y-%m-%d"),
        "sites": [{"name": s or "Without a site", "hosts": sites[s]} for s in order if s in sites],
        "host_count": sum(len(v) for v in sites.values()), "checked_count": len(checked),
        "never_checked": sum(1 for v in sites.values() for h in v if not h["status"]),
        "stale_count": sum(1 for v in sites.values() for h in v if h["stale"]),
        "stale_hours": services.workspace.settings.stale_after_hours,
        "status_counts": {s.value: sum(1 for h in checked if h["status"] == s.value) for s in Status},
        "notes": [note_entry(n) for n in notes], "followups": open_followups(notes),
        "recommendations": recommendations(checked),
    })
    if trends:
        data["trends"] = trends  # filled by trends/forecasts (see docs/reports.md)
    return data
