"""`conflicts resolve --merge`: one body that keeps every head's text.

Notes: every distinct text is kept, each under a marker line naming its author, time
and device; the title (and placement) come from the newest version; follow-ups and
attached runs are united. Visits: checklists, hosts and runs united, summaries
concatenated. Roster records and runs are not mergeable: keep one version.
Heads are untrusted bodies; whatever comes out is validated again when applied.
"""

from __future__ import annotations

from datetime import UTC, datetime

from techdesk.core.work import WorkError

MARK = "===="


def merge_body(kind: str, heads: list) -> dict:
    live = [h for h in heads if not h.deleted]  # an edit beats a deletion: nothing is lost
    if kind not in ("note", "visit"):
        raise WorkError(f"a {kind} cannot be merged field by field: keep one version with --keep REV "
                        "(see `techdesk conflicts` for the versions)")
    if not live:
        raise WorkError("every version is a deletion: keep one with --keep REV")
    return (_merge_note if kind == "note" else _merge_visit)(live)


def _text(body: dict, key: str) -> str:
    value = body.get(key)
    return value if isinstance(value, str) else ""


def _list(body: dict, key: str) -> list:
    value = body.get(key)
    return value if isinstance(value, list) else []


def _union(items: list, key) -> list:
    """Items of several lists, the first of each key kept (done if any copy is done)."""
    out: dict = {}
    for item in items:
        try:
            k = key(item)
        except (TypeError, KeyError, AttributeError):
            continue
        if k not in out:
            out[k] = dict(item) if isinstance(item, dict) else item
        elif isinstance(item, dict) and item.get("done") is True:
            out[k]["done"] = True
    return list(out.values())


def _when(time: str) -> str:
    return time.replace("T", " ")[:19] + " UTC"


def merged_text(versions: list[tuple[object, str]]) -> str:
    """[(head, text)] -> one text; identical texts are kept once."""
    distinct: list[tuple[object, str]] = []
    for head, text in versions:
        if all(text != t for _, t in distinct):
            distinct.append((head, text))
    if len(distinct) == 1:
        return distinct[0][1]
    parts = []
    for n, (head, text) in enumerate(distinct, 1):
        parts.append(f"{MARK} merged version {n} of {len(distinct)}: by {head.author}, {_when(head.time)}, "
                     f"device {head.device} {MARK}")
        parts.append(text.rstrip("\n"))
        parts.append("")
    parts.append(f"{MARK} end of merged versions {MARK}")
    return "\n".join(parts) + "\n"


def _merge_note(live: list) -> dict:
    newest = live[-1]
    body = dict(newest.body)
    body["body"] = merged_text([(h, _text(h.body, "body")) for h in live])
    created = sorted(_text(h.body, "created") for h in live if _text(h.body, "created"))
    if created:
        body["created"] = created[0]
    body["updated"] = datetime.now(UTC).isoformat(timespec="seconds")
    if any(h.body.get("status") == "open" for h in live):
        body["status"] = "open"
    body["followups"] = _union([f for h in live for f in _list(h.body, "followups")], lambda f: f["text"])
    body["runs"] = _union([r for h in live for r in _list(h.body, "runs")], lambda r: (r["run_id"], r["host"]))
    return body


def _merge_visit(live: list) -> dict:
    newest = live[-1]
    body = dict(newest.body)
    summaries = [(h, _text(h.body, "summary")) for h in live if _text(h.body, "summary").strip()]
    distinct = list(dict.fromkeys(text.strip() for _, text in summaries))
    body["summary"] = "\n\n".join(distinct)
    body["checklist"] = _union([c for h in live for c in _list(h.body, "checklist")], lambda c: c["text"])
    body["hosts"] = list(dict.fromkeys(x for h in live for x in _list(h.body, "hosts") if isinstance(x, str)))
    body["runs"] = list(dict.fromkeys(x for h in live for x in _list(h.body, "runs") if isinstance(x, str)))
    started = sorted(_text(h.body, "started") for h in live if _text(h.body, "started"))
    if started:
        body["started"] = started[0]
    stops = [_text(h.body, "stopped") for h in live if _text(h.body, "stopped")]
    body["stopped"] = max(stops) if stops else None
    minutes = [h.body.get("billable_minutes") for h in live if type(h.body.get("billable_minutes")) is int]
    body["billable_minutes"] = max(minutes) if minutes else None
    return body
