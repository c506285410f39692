"""The care report: what proactive care did for one client over a period (a plain dict).

Every figure is read from the store in a few queries over the client's hosts and the
period (see docs/reports.md "Care report" for the rules):

- fleet health per day: each host's worst status of the day (not reached = unknown);
- availability: runs in which the host answered / runs that tried it;
- problems: for each host and check, an episode runs from the first WARNING or
  CRITICAL to the next OK (UNKNOWN and "not reached" neither start nor end one);
- caught before an outage: an episode that never became CRITICAL, was acted on while
  open (a note on the host — a fix writes one — or a visit that touched the host) and
  was resolved in the period; and a capacity forecast that crossed its limit within
  the forecast horizon when a note was written and no longer did afterwards;
- fixes: notes on a host that keep two or more runs (the first is "before", the last
  "after"), as `techdesk fix` and the visit panel write them;
- alerts: the alert log (opened, resolved, time to resolve).
"""

from __future__ import annotations

import statistics
from datetime import UTC, datetime, timedelta

from techdesk.core.forecast import capacity_for, describe, forecast_series
from techdesk.core.roster import RosterError
from techdesk.core.severity import Status
from techdesk.reports import data as common
from techdesk.reports.period import Period

LOOKBACK = timedelta(days=30)        # history read before the period: problems already open
EVIDENCE_BEFORE = timedelta(days=10)  # how much of a metric's history an evidence chart shows
EVIDENCE_AFTER = timedelta(days=7)
TABLE_ROWS = 30                       # longer lists are cut in the tables ("and N more"): a report, not a log
STAYED = timedelta(days=3)            # a resolved problem must not come back this soon to count as caught
DAY_S = 86400.0
CATEGORIES = ("ok", "warn", "crit", "unknown", "none")  # fleet chart, bottom to top


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).isoformat(timespec="seconds")


def _ts(text: str) -> datetime:
    when = datetime.fromisoformat(text)
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _marks(names: list[str]) -> str:
    return ",".join("?" * len(names))


# -- queries ------------------------------------------------------------------------
def _host_runs(conn, names: list[str], period: Period) -> list[tuple]:
    """(host, started, status, error_kind, run_id, trigger) of every run in the period."""
    return conn.execute(
        f"SELECT rh.host, rh.started, rh.status, rh.error_kind, rh.run_id, r.trigger FROM run_hosts rh"
        f" JOIN runs r ON r.id = rh.run_id WHERE rh.host IN ({_marks(names)}) AND rh.started >= ?"
        f" AND rh.started < ? ORDER BY rh.started", [*names, period.start_iso, period.end_iso]).fetchall()


def _check_rows(conn, names: list[str], since: str, until: str) -> list[tuple]:
    """(host, check_id, title, status, summary, started, run_id), oldest first."""
    return conn.execute(
        f"SELECT cr.host, cr.check_id, cr.title, cr.status, cr.summary, rh.started, cr.run_id"
        f" FROM check_results cr JOIN run_hosts rh ON rh.run_id = cr.run_id AND rh.host = cr.host"
        f" WHERE rh.host IN ({_marks(names)}) AND rh.started >= ? AND rh.started < ?"
        f" ORDER BY rh.started, cr.run_id", [*names, since, until]).fetchall()


def _series(conn, host: str, check: str, since: str, until: str) -> dict[str, list[tuple]]:
    """label -> [(ts, value, uom, warn, crit, min, max)] of one check of one host."""
    out: dict[str, list[tuple]] = {}
    for label, ts, value, uom, warn, crit, mn, mx in conn.execute(
            "SELECT label, ts, value, uom, warn, crit, min, max FROM metrics WHERE host = ? AND check_id = ?"
            " AND ts >= ? AND ts < ? ORDER BY ts", (host, check, since, until)):
        out.setdefault(label, []).append((ts, value, uom, warn, crit, mn, mx))
    return out


# -- fleet and availability ------------------------------------------------------------
def _fleet(period: Period, names: list[str], runs: list[tuple]) -> dict:
    """Per local day, how many hosts were at worst OK / WARNING / CRITICAL / not reached / not run."""
    days = period.days()
    index = {d: i for i, d in enumerate(days)}
    worst: dict[tuple[str, int], Status] = {}
    for host, started, status, error_kind, *_ in runs:
        day = index.get(_ts(started).astimezone().date())
        if day is None:
            continue
        st = Status.UNKNOWN if error_kind else Status(status)
        key = (host, day)
        if key not in worst or st.rank > worst[key].rank:
            worst[key] = st
    counts = {c: [0] * len(days) for c in CATEGORIES}
    for host in names:
        for i in range(len(days)):
            st = worst.get((host, i))
            counts[st.value if st else "none"][i] += 1
    return {"kind": "fleet", "days": [d.isoformat() for d in days], "counts": counts, "hosts": len(names)}


def _availability(names: list[str], runs: list[tuple]) -> list[dict]:
    tried = dict.fromkeys(names, 0)
    answered = dict.fromkeys(names, 0)
    for host, _started, _status, error_kind, *_ in runs:
        tried[host] += 1
        answered[host] += 0 if error_kind else 1
    rows = [{"host": h, "attempted": tried[h], "reachable": answered[h],
             "percent": round(100.0 * answered[h] / tried[h], 1) if tried[h] else None} for h in names]
    rows.sort(key=lambda r: (r["percent"] is None, r["percent"] if r["percent"] is not None else 0,
                             r["host"].casefold()))
    return rows


# -- problems -------------------------------------------------------------------------
def episodes(check_rows: list[tuple]) -> list[dict]:
    """Each stretch of WARNING/CRITICAL of a (host, check), until the next OK."""
    open_: dict[tuple[str, str], dict] = {}
    done: list[dict] = []
    for host, check, title, status, summary, started, run_id in check_rows:
        key = (host, check)
        ep = open_.get(key)
        if status in ("warn", "crit"):
            if ep is None:
                ep = open_[key] = {"host": host, "check": check, "title": title, "start": started, "end": None,
                                   "worst": status, "summary": summary, "first": status,
                                   "worst_run": run_id, "last_bad": started}
            elif Status(status).rank > Status(ep["worst"]).rank:
                ep.update(worst=status, summary=summary, worst_run=run_id)
            ep["last_bad"] = started
        elif status == "ok" and ep is not None:
            ep["end"] = started
            done.append(open_.pop(key))
    return done + list(open_.values())


def _actions(ep: dict, notes, visits, until: str) -> list[dict]:
    """Notes on the host and visits that touched it while the problem was open."""
    end = ep["end"] or until
    acts = [{"kind": "fix" if len(n.runs) >= 2 else "note", "at": _acted_at(n), "text": n.title}
            for n in notes if n.host == ep["host"] and ep["start"] <= _acted_at(n) <= end]
    acts += [{"kind": "visit", "at": v.started, "text": f"visit by {v.technician}"}
             for v in visits if ep["host"] in v.hosts and ep["start"] <= v.started <= end]
    return sorted(acts, key=lambda a: a["at"])


def _acted_at(note) -> str:
    """When a note acted: a fix's note is written after its re-check, so its first kept
    run (the "before") says when the work began."""
    return min([note.created] + [r.started for r in note.runs if r.host == note.host])


def _level_of(m: tuple) -> int:
    _ts_, value, _uom, warn, crit, *_ = m
    return 2 if crit is not None and value >= crit else 1 if warn is not None and value >= warn else 0


def _worst_label(series: dict[str, list[tuple]], at: str) -> str | None:
    """The metric that was furthest past its threshold at `at` (the problem's worst run)."""
    best, key = None, None
    for label, points in series.items():
        near = [p for p in points if p[0] <= at] or points
        p = near[-1]
        rank = (_level_of(p), p[2] == "%", p[1])
        if key is None or rank > key:
            best, key = label, rank
    return best


def _evidence(conn, host: str, check: str, title: str, label_hint: str | None, start: str, acted: str,
              end: str | None, until: str) -> dict | None:
    """The metric chart of a problem: values, thresholds, the forecast made when it was
    acted on, before → after."""
    lo = _iso(_ts(start) - EVIDENCE_BEFORE)
    hi = _iso(min(_ts(end or until) + EVIDENCE_AFTER, _ts(until)))
    series = _series(conn, host, check, lo, hi)
    if not series:
        return None
    label = label_hint if label_hint in series else _worst_label(series, acted)
    points = series[label]
    _t, _v, uom, warn, crit, mn, mx = points[-1]
    before = [p for p in points if p[0] <= acted]
    after = [p for p in points if p[0] > (end or acted)]
    fit = None
    capacity = capacity_for(check, label, uom, crit=crit, min=mn, max=mx)
    if capacity is not None and len(before) >= 3:
        fit = forecast_series([(_ts(p[0]).timestamp(), p[1]) for p in before], capacity, host=host,
                              check=check, label=label, now=_ts(acted).timestamp())
    line = None
    if fit is not None and fit.value_at(fit.now) is not None:
        t0 = fit.fitted_from or _ts(before[0][0]).timestamp()
        t1 = fit.eta.timestamp() if fit.eta else _ts(hi).timestamp()
        t1 = min(t1, _ts(hi).timestamp() + 3 * DAY_S)
        line = [(t0, fit.value_at(t0)), (t1, fit.value_at(t1))]
    was = before[-1][1] if before else points[0][1]
    now = after[-1][1] if after else points[-1][1]
    return {
        "kind": "metric", "title": f"{title} — {label.replace('_', ' ')} on {host}", "label": label,
        "uom": uom, "points": [(_ts(p[0]).timestamp(), p[1]) for p in points], "warn": warn, "crit": crit,
        "forecast": line, "forecast_text": describe(fit) if fit is not None and fit.eta else "",
        "acted": _ts(acted).timestamp(), "resolved": _ts(end).timestamp() if end else None,
        "before": common.fmt_value(was, uom), "after": common.fmt_value(now, uom),
        "days_left": round(fit.days_left, 1) if fit is not None and fit.days_left is not None else None,
    }


def _forecast_catches(conn, notes, names: set[str], period: Period, horizon: float, known: set) -> list[dict]:
    """Capacity metrics whose forecast crossed the limit within `horizon` days when a note
    was written on the host, and no longer did at the end of the period."""
    caught = []
    for note in notes:
        if note.host not in names or not period.start_iso <= note.created < period.end_iso:
            continue
        rows = conn.execute(
            "SELECT DISTINCT check_id, label FROM metrics WHERE host = ? AND ts >= ? AND ts < ?",
            (note.host, _iso(_ts(note.created) - LOOKBACK), note.created)).fetchall()
        for check, label in rows:
            if (note.host, check) in known:
                continue
            series = _series(conn, note.host, check, _iso(_ts(note.created) - LOOKBACK), period.end_iso).get(label)
            _t, _v, uom, _w, crit, mn, mx = series[-1]
            capacity = capacity_for(check, label, uom, crit=crit, min=mn, max=mx)
            if capacity is None:
                continue
            pts = [(_ts(p[0]).timestamp(), p[1]) for p in series]
            at = _ts(note.created).timestamp()
            then = forecast_series([p for p in pts if p[0] <= at], capacity, now=at)
            if then.days_left is None or then.days_left > horizon or len([p for p in pts if p[0] > at]) < 2:
                continue
            later = forecast_series(pts, capacity, now=pts[-1][0])
            if later.days_left is not None and later.days_left <= horizon:
                continue  # still heading for the limit: not (yet) a catch
            known.add((note.host, check))
            ev = _evidence(conn, note.host, check, _title(conn, note.host, check), label, note.created,
                           note.created, None, period.end_iso)
            caught.append({"host": note.host, "check": check, "title": _title(conn, note.host, check),
                           "kind": "forecast", "start": note.created, "end": None, "worst": "ok",
                           "summary": f"forecast: {label} would reach its limit in "
                                      f"{then.days_left:.0f} days", "days_left": round(then.days_left, 1),
                           "actions": [{"kind": "fix" if len(note.runs) >= 2 else "note", "at": _acted_at(note),
                                        "text": note.title}], "evidence": ev})
    return caught


def _title(conn, host: str, check: str) -> str:
    row = conn.execute("SELECT title FROM check_results WHERE host = ? AND check_id = ? LIMIT 1",
                       (host, check)).fetchone()
    return row[0] if row else check


def _problem_entry(ep: dict, actions: list[dict]) -> dict:
    start, end = ep["start"], ep["end"]
    hours = (_ts(end) - _ts(start)).total_seconds() / 3600 if end else None
    return {"host": ep["host"], "check": ep["check"], "title": ep["title"], "worst": ep["worst"],
            "summary": ep["summary"], "start": start, "end": end, "start_text": common.fmt_datetime(start),
            "end_text": common.fmt_datetime(end) if end else "still open", "hours": hours,
            "duration": _hours_text(hours), "actions": actions,
            "actions_text": "; ".join(f"{a['kind']} {common.fmt_date(a['at'])}: {a['text']}" for a in actions)}


def _hours_text(hours: float | None) -> str:
    if hours is None:
        return ""
    return common.duration_text(hours * 60) if hours < 48 else f"{hours / 24:.1f} days"


# -- fixes, alerts, time -----------------------------------------------------------------
def _fixes(notes, names: set[str], period: Period) -> list[dict]:
    out = []
    for note in notes:
        if note.host not in names or len(note.runs) < 2 or not period.start_iso <= note.created < period.end_iso:
            continue
        before, after = note.runs[0], note.runs[-1]
        was = {f["id"]: f for f in before.findings}
        changes = []
        for f in after.findings:
            old = was.get(f["id"])
            if old is None or (old["status"] == f["status"] == "ok"):
                continue
            if old["status"] == f["status"] and old.get("metrics") == f.get("metrics"):
                continue
            deltas = common.metric_deltas(old.get("metrics") or {}, f.get("metrics") or {}, limit=2)
            changes.append({"title": f["title"], "was": old["status"], "now": f["status"],
                            "text": f"{f['title']}: {Status(old['status']).word} → {Status(f['status']).word}"
                                    + (f" ({', '.join(deltas)})" if deltas else "")})
        out.append({"host": note.host, "title": note.title, "date": common.fmt_date(note.created),
                    "author": note.author, "was": before.status, "now": after.status, "changes": changes})
    return out


def _alerts(conn, names: list[str], period: Period, titles: dict[tuple[str, str], str]) -> dict:
    rows = conn.execute(
        f"SELECT at, event, host, check_id, severity, message, opened_at FROM alert_events"
        f" WHERE host IN ({_marks(names)}) AND at < ? ORDER BY seq", [*names, period.end_iso]).fetchall()
    current: dict[tuple[str, str], dict] = {}
    episodes_: list[dict] = []
    for at, event, host, check, severity, message, opened_at in rows:
        key = (host, check)
        alert = current.get(key)
        if alert is None or event == "opened":
            title = titles.get(key) or ("Reachability" if check == "host-unreachable" else check)
            alert = current[key] = {"host": host, "check": check, "title": title, "severity": severity,
                                    "message": message,
                                    "opened": opened_at or at, "resolved": None}
            episodes_.append(alert)
        if Status(severity).rank > Status(alert["severity"]).rank:
            alert["severity"] = severity
        if event == "resolved":
            alert["resolved"] = at
            current.pop(key, None)
    start = period.start_iso
    seen = [a for a in episodes_ if a["opened"] >= start or a["resolved"] is None or a["resolved"] >= start]
    resolved = [a for a in seen if a["resolved"] and a["resolved"] >= start]
    hours = [(_ts(a["resolved"]) - _ts(a["opened"])).total_seconds() / 3600 for a in resolved]
    for a in seen:
        h = (_ts(a["resolved"]) - _ts(a["opened"])).total_seconds() / 3600 if a["resolved"] else None
        a.update(opened_text=common.fmt_datetime(a["opened"]),
                 resolved_text=common.fmt_datetime(a["resolved"]) if a["resolved"] else "still open",
                 took=_hours_text(h))
    return {"opened": sum(1 for a in seen if a["opened"] >= start), "resolved": len(resolved),
            "still_open": sum(1 for a in seen if not a["resolved"]),
            "median_hours": round(statistics.median(hours), 1) if hours else None,
            "median_text": _hours_text(statistics.median(hours)) if hours else "",
            "items": sorted(seen, key=lambda a: a["opened"])}


def _time_spent(visits, period: Period) -> dict:
    inside = sorted((v for v in visits if period.start_iso <= v.started < period.end_iso and v.stopped),
                    key=lambda v: v.started)
    minutes = sum(v.minutes_on_site() for v in inside)
    billable = sum(v.billable_minutes or 0 for v in inside)
    return {"visits": [{"date": common.fmt_date(v.started), "site": v.site or "", "technician": v.technician,
                        "minutes": round(v.minutes_on_site()), "time": common.duration_text(v.minutes_on_site()),
                        "billable": common.duration_text(v.billable_minutes) if v.billable_minutes else "",
                        "summary": v.summary} for v in inside],
            "count": len(inside), "minutes": round(minutes), "billable_minutes": billable,
            "time": common.duration_text(minutes) if inside else "", "billable": common.duration_text(billable)
            if billable else ""}


def _open_items(services, names: list[str], notes) -> tuple[list[dict], list[dict]]:
    latest = [e for e in common.latest_entries(services, names) if e["status"]]
    return common.recommendations(latest), common.open_followups([n for n in notes if n.status == "open"])


# -- the report ------------------------------------------------------------------------
def care_report(services, name: str, period: Period) -> dict:
    if name not in {c.name for c in services.roster.clients()}:
        raise RosterError(f"no client named {name!r}")
    conn = services.conn
    names = sorted((h.name for h in services.roster.hosts(client=name)), key=str.casefold)
    notes = services.notes.list(client=name)
    visits = services.visits.list(name)
    horizon = float(services.workspace.settings.forecast_days)
    data = common._header("care")
    data.update({"title": f"Care report — {name}", "client": name, "period": period.as_json(),
                 "period_label": period.label, "date": datetime.now().astimezone().strftime("%Y-%m-%d"),
                 "technician": services.workspace.technician, "host_count": len(names)})
    runs = _host_runs(conn, names, period) if names else []
    rows = _check_rows(conn, names, _iso(period.start - LOOKBACK), period.end_iso) if names else []
    in_period = [r for r in rows if r[5] >= period.start_iso]
    availability = _availability(names, runs)

    problems, caught = [], []
    all_episodes = episodes(rows)
    starts: dict[tuple[str, str], list[str]] = {}
    for ep in all_episodes:
        starts.setdefault((ep["host"], ep["check"]), []).append(ep["start"])
    for ep in all_episodes:
        if ep["start"] >= period.end_iso or (ep["end"] is not None and ep["end"] < period.start_iso):
            continue
        acts = _actions(ep, notes, visits, period.end_iso)
        entry = _problem_entry(ep, acts)
        problems.append(entry)
        if ep["worst"] == "warn" and ep["end"] and acts and ep["end"] >= period.start_iso \
                and _stayed_resolved(ep, starts[ep["host"], ep["check"]]):
            entry["kind"] = "warning"
            label = _worst_metric_label(conn, ep)
            entry["evidence"] = _evidence(conn, ep["host"], ep["check"], ep["title"], label, ep["start"],
                                          acts[0]["at"], ep["end"], period.end_iso)
            caught.append(entry)
    known = {(p["host"], p["check"]) for p in problems}  # judged by the rules for problems above
    for item in _forecast_catches(conn, notes, set(names), period, horizon, known):
        caught.append({**_problem_entry(item, item["actions"]), **{k: item[k] for k in (
            "kind", "evidence", "summary", "days_left")}, "end_text": "limit no longer in sight"})
    caught.sort(key=lambda c: c["start"])
    problems.sort(key=lambda p: (-Status(p["worst"]).rank, p["start"]))

    recs, followups = _open_items(services, names, notes)
    titles = {(r[0], r[1]): r[2] for r in rows}
    alerts = _alerts(conn, names, period, titles) if names else {"opened": 0, "resolved": 0, "still_open": 0,
                                                         "median_hours": None, "median_text": "", "items": []}
    time = _time_spent(visits, period)
    fixes = _fixes(notes, set(names), period)
    attempted = [a for a in availability if a["attempted"]]
    notes_in_period = [n for n in notes if period.start_iso <= n.created < period.end_iso]
    data.update({
        "fleet": _fleet(period, names, runs),
        "availability": availability,
        "availability_overall": round(100.0 * sum(a["reachable"] for a in attempted)
                                      / sum(a["attempted"] for a in attempted), 1) if attempted else None,
        "runs": len({r[4] for r in runs}), "sweeps": len({r[4] for r in runs if r[5] == "schedule"}),
        "checks_run": len(in_period),
        "never_reached": [a["host"] for a in availability if a["attempted"] and not a["reachable"]],
        "never_checked": [a["host"] for a in availability if not a["attempted"]],
        "problems": problems, "caught": caught, "fixes": fixes, "alerts": alerts,
        "problems_table": problems[:TABLE_ROWS], "problems_more": max(0, len(problems) - TABLE_ROWS),
        "alerts_table": sorted(alerts["items"], key=lambda a: (-Status(a["severity"]).rank, a["opened"]))[:TABLE_ROWS],
        "alerts_more": max(0, len(alerts["items"]) - TABLE_ROWS),
        "recommendations": recs, "followups": followups, "time": time,
        "notes_in_period": len(notes_in_period),
    })
    data["empty"] = not (runs or time["count"] or notes_in_period or alerts["items"])
    data["headline"] = headline(data)
    return data


def _stayed_resolved(ep: dict, starts: list[str]) -> bool:
    """A problem that comes back within STAYED of its resolution was not fixed, only flapping."""
    limit = _iso(_ts(ep["end"]) + STAYED)
    return not any(ep["end"] < s <= limit for s in starts)


def _worst_metric_label(conn, ep: dict) -> str | None:
    rows = conn.execute("SELECT label, value, uom, warn, crit FROM metrics WHERE run_id = ? AND host = ?"
                        " AND check_id = ?", (ep["worst_run"], ep["host"], ep["check"])).fetchall()
    if not rows:
        return None
    return max(rows, key=lambda r: (_level_of((None, r[1], r[2], r[3], r[4])), r[2] == "%", r[1]))[0]


def headline(d: dict) -> str:
    """One paragraph a client reads first."""
    if d["empty"]:
        if not d["host_count"]:
            return f"No machines of {d['client']} are in techdesk yet, so there is nothing to report for " \
                   f"{d['period_label']}."
        machines = "its machine" if d["host_count"] == 1 else f"any of its {d['host_count']} machines"
        return (f"{_during(d['period_label'])}, nothing was checked, visited or noted for {d['client']}: "
                f"no check ran on {machines} in this period.")
    parts = [f"{common.plural(d['checks_run'], 'check')} ran on "
             f"{common.plural(d['host_count'] - len(d['never_checked']), 'machine')} "
             f"({common.plural(d['sweeps'], 'scheduled sweep')})"]
    if d["caught"]:
        parts.append(f"{common.plural(len(d['caught']), 'problem was', 'problems were')} caught and resolved "
                     "before causing an outage")
    if d["alerts"]["opened"] or d["alerts"]["resolved"]:
        text = f"{common.plural(d['alerts']['opened'], 'alert')} opened, {d['alerts']['resolved']} resolved"
        if d["alerts"]["median_text"]:
            text += f" (typically within {d['alerts']['median_text']})"
        parts.append(text)
    if d["time"]["count"]:
        parts.append(f"{common.plural(d['time']['count'], 'visit')}, {d['time']['time']} on site")
    return f"{_during(d['period_label'])}: " + "; ".join(parts) + "."


def _during(label: str) -> str:
    """"In November 2026" or "From 2026-11-03 to 2026-11-20"."""
    return f"From {label.replace(' – ', ' to ')}" if " – " in label else f"In {label}"
