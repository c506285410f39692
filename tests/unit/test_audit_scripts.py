"""A compiled bundle is audited as one template per bundle version plus each run's
nonce (and tokens, where they are in the text): rebuilt exactly, and every edit or
deletion of what it is kept as is still found by `verify()`."""

from __future__ import annotations

import hashlib

from techdesk.diagnostics.compile import compile_script, new_nonce
from techdesk.diagnostics.registry import builtin_bundles
from techdesk.store import audit
from techdesk.store.db import open_database


def _count(conn, table: str) -> int:
    return conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]


def _send(conn, compiled, host: str = "web") -> str:
    fills = (compiled.nonce,) + (() if compiled.converse else compiled.tokens)
    entry = audit.append(conn, technician="ann", device="d", host=host, action="run",
                         script=compiled.text, outcome="sent", script_fills=fills)
    return entry.script_sha256


def test_runs_of_one_bundle_share_one_template_and_rebuild_exactly(tmp_path):
    conn = open_database(tmp_path / "t.db")
    bundles = builtin_bundles()[0]
    sent = {}
    for name in ("linux-health", "linux-health", "linux-health", "windows-health", "windows-health"):
        compiled = compile_script(bundles[name], new_nonce())
        sent[_send(conn, compiled)] = compiled.text
    assert len(sent) == 5  # five different scripts went out...
    assert _count(conn, "audit_templates") == 2 and _count(conn, "audit_script_fills") == 5
    assert _count(conn, "audit_scripts") == 0  # ...kept as two templates and five sets of fills
    stored = audit.stored_scripts(conn)
    assert {sha: stored[sha] for sha in sent} == sent
    assert all(hashlib.sha256(t.encode()).hexdigest() == sha for sha, t in sent.items())
    assert audit.verify(conn) == []
    conn.close()


def test_an_edited_or_deleted_template_or_fill_is_found(tmp_path):
    conn = open_database(tmp_path / "t.db")
    health = builtin_bundles()[0]["linux-health"]
    first = _send(conn, compile_script(health, new_nonce()))
    second = _send(conn, compile_script(health, new_nonce()))
    conn.execute("UPDATE audit_templates SET text = replace(text, 'td_check', 'rm -rf ~; td_check')")
    assert audit.verify(conn) == [f"script {first[:12]}: its text does not match its hash (edited)",
                                  f"script {second[:12]}: its text does not match its hash (edited)"]
    conn.execute("UPDATE audit_script_fills SET fills = '[\"0000000000000000\"]' WHERE sha256 = ?", (first,))
    conn.execute("DELETE FROM audit_templates")
    assert audit.verify(conn) == [
        f"script {first[:12]}: the template it was kept with is missing (deleted)",
        f"script {second[:12]}: the template it was kept with is missing (deleted)"]
    conn.execute("DELETE FROM audit_script_fills WHERE sha256 = ?", (second,))
    assert any("is missing from the stored scripts (deleted)" in p for p in audit.verify(conn))
    conn.close()


def test_scripts_that_cannot_be_split_are_kept_whole(tmp_path):
    conn = open_database(tmp_path / "t.db")
    nonce = new_nonce()
    for text, fills in ((f"echo {nonce}\x00", (nonce,)),          # a NUL: slots would be ambiguous
                        ("echo no nonce here", (nonce,)),          # the fill is not in the text
                        (f"echo {nonce[:8]}", (nonce[:8],)),       # too short to be a nonce
                        ("plain script", ())):
        audit.append(conn, technician="ann", device="d", host="h", action="exec", script=text,
                     script_fills=fills)
    assert _count(conn, "audit_scripts") == 4 and _count(conn, "audit_templates") == 0
    assert audit.verify(conn) == []
    conn.close()
