"""The visit briefing: what a technician should know before going to a client (a plain dict).

Shown by `techdesk brief` (terminal, JSON, PDF) and the window's Briefing view. The
horizon for forecasts is the forecast_days setting; "not seen recently" is the
stale_after_hours setting (the same rules as the dashboard).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from techdesk.core.roster import RosterError
from techdesk.reports import data as common


def _last_seen(conn, names: list[str]) -> dict[str, str]:
    if not names:
        return {}
    rows = conn.execute(f"SELECT host, MAX(started) FROM run_hosts WHERE error_kind IS NULL AND host IN"
                        f" ({','.join('?' * len(names))}) GROUP BY host", names)
    return dict(rows.fetchall())


def briefing(services, client: str, site: str | None = None, now: datetime | None = None) -> dict:
    if client not in {c.name for c in services.roster.clients()}:
        raise RosterError(f"no client named {client!r}")
    if site and site not in {s.name for s in services.roster.sites(client)}:
        raise RosterError(f"client {client!r} has no site named {site!r}")
    now = now or datetime.now(UTC)
    settings = services.workspace.settings
    hosts = [h for h in services.roster.hosts(client=client) if not site or h.spec.site == site]
    names = sorted((h.name for h in hosts), key=str.casefold)
    in_scope = set(names)
    notes = [n for n in services.notes.list(client=client)
             if n.host in in_scope or (n.host is None and (not site or n.site in (None, site)))]
    visits = [v for v in services.visits.list(client) if v.stopped and (not site or v.site in (None, site))]
    last = visits[0] if visits else None

    cache: dict = {}
    entries = common.latest_entries(services, names)
    checked = [e for e in entries if e["status"]]
    findings = [{"host": e["name"], "status": c["status"], "title": c["title"], "summary": c["summary"],
                 "advice": common.advice(c, e["name"])}
                for e in checked for c in e["checks"].values() if c["status"] in ("crit", "warn")]
    findings += [{"host": e["name"], "status": "unknown", "title": "Connection",
                  "summary": f"not reached in its latest run ({e['error']['kind']})", "advice": ""}
                 for e in checked if e["error"]]
    order = {"crit": 0, "unknown": 1, "warn": 2}
    findings.sort(key=lambda f: (order[f["status"]], f["host"].casefold()))

    horizon = float(settings.forecast_days)
    forecasts = [t for t in services.monitor.client_trends(client, now=now)
                 if t["host"] in in_scope and t.get("days_left") is not None and t["days_left"] <= horizon]

    stale_after = timedelta(hours=settings.stale_after_hours)
    seen = _last_seen(services.conn, names)
    not_seen = []
    for name in names:
        when = seen.get(name)
        if when is None or now - datetime.fromisoformat(when) > stale_after:
            not_seen.append({"host": name, "last_seen": common.fmt_datetime(when) if when else "",
                             "text": f"last answered {common.fmt_datetime(when)}" if when else "never answered"})

    last_visit = None
    if last is not None:
        work = sorted(services.visits.notes(last), key=lambda n: n.created)
        last_visit = {"id": last.id, "date": common.fmt_date(last.started), "technician": last.technician,
                      "site": last.site or "", "time": common.duration_text(last.minutes_on_site()),
                      "summary": last.summary, "work": [{"title": n.title, "for": common.note_target(n),
                                                         "status": n.status} for n in work],
                      "checklist_done": [c.text for c in last.checklist if c.done],
                      "checklist_open": [c.text for c in last.checklist if not c.done]}
    changes = common.changes_since(services, checked, last, cache) if last is not None else []

    data = common._header("briefing")
    data.update({
        "title": f"Visit briefing — {client}" + (f" / {site}" if site else ""), "client": client,
        "site": site or "", "date": now.astimezone().strftime("%Y-%m-%d"),
        "technician": services.workspace.technician, "host_count": len(names),
        "horizon_days": int(horizon), "stale_hours": settings.stale_after_hours,
        "pinned": [common.note_entry(n) for n in sorted(notes, key=lambda n: n.updated, reverse=True)
                   if n.pinned],
        "followups": common.open_followups([n for n in notes if n.status == "open"]),
        "last_visit": last_visit, "findings": findings, "forecasts": forecasts, "not_seen": not_seen,
        "checklist": services.visits.checklist_template(), "changes": changes,
    })
    return data


def as_json(data: dict) -> dict:
    """The briefing for `techdesk brief --json` (the dict minus presentation-only keys)."""
    keys = ("client", "site", "date", "technician", "host_count", "horizon_days", "stale_hours", "pinned",
            "followups", "last_visit", "findings", "forecasts", "not_seen", "checklist")
    out = {k: data[k] for k in keys}
    out["changes"] = [{k: c[k] for k in ("host", "id", "title", "was", "now", "direction", "deltas")}
                      for c in data["changes"]]
    return out


def _section(lines: list[str], title: str, items: list[str], empty: str) -> None:
    lines += ["", title.upper()]
    lines += [f"  {i}" for i in items] if items else [f"  {empty}"]


def as_text(d: dict) -> str:
    """The briefing for a terminal: short sections, the most important first."""
    words = {"crit": "CRIT", "warn": "WARN", "unknown": "UNKN", "ok": "OK"}
    lines = [f"{d['title']}  ({d['date']}, {d['host_count']} machines)"]
    _section(lines, "Know before you go", [f"* {p['title']} ({p['for']})" + (
        f": {p['body'].strip().splitlines()[0]}" if p["body"].strip() else "") for p in d["pinned"]],
        "nothing pinned")
    _section(lines, "Open follow-ups", [f"[ ] {f['text']}  — {f['note']}" for f in d["followups"]], "none")
    lv = d["last_visit"]
    if lv:
        visit = [f"{lv['date']} by {lv['technician']}, {lv['time']}" + (f" at {lv['site']}" if lv["site"] else ""),
                 *([lv["summary"]] if lv["summary"] else []), *[f"- {w['title']} ({w['for']}, {w['status']})"
                                                                 for w in lv["work"]]]
    else:
        visit = []
    _section(lines, "Last visit", visit, "no visit recorded yet")
    _section(lines, "Findings now", [f"{words[f['status']]:4}  {f['host']}: {f['title']} — {f['summary']}"
                                     for f in d["findings"]], "no critical or warning findings")
    _section(lines, f"Forecasts within {d['horizon_days']} days",
             [f"{words.get(f['status'], '')} {f['host']}: {f['text']}" for f in d["forecasts"]], "none")
    _section(lines, f"Not seen in {d['stale_hours']} h", [f"{n['host']}: {n['text']}" for n in d["not_seen"]],
             "every machine answered recently")
    _section(lines, "Changed since the last visit",
             [f"{c['host']}: {c['text']}" + (f" ({', '.join(c['deltas'])})" if c["deltas"] else "")
              for c in d["changes"]], "nothing" if d["last_visit"] else "no earlier visit to compare with")
    _section(lines, "Checklist", [f"[ ] {c}" for c in d["checklist"]], "no checklist")
    return "\n".join(lines)
