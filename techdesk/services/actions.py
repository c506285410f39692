"""Acting on hosts: run a script (an ad-hoc command or a fix) on several hosts, audited.

Every script goes through the same warm connection pool as runs, is recorded in the
audit log before it is sent, runs with stdin closed and a deadline, and its output is
capped and cleaned before anyone sees or stores it. Bulk: bounded concurrency, Cancel,
and optionally stop at the first host that fails (hosts not started yet are skipped).
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from techdesk.core.findings import HostError
from techdesk.core.roster import Host, RosterError
from techdesk.diagnostics import fixscript
from techdesk.diagnostics.sanitize import clean_output
from techdesk.services.runner import (
    DEFAULT_CONCURRENCY,
    EndpointPrompt,
    Route,
    plan_route,
    secret_lookup,
    started_pool,
)
from techdesk.ssh.connect import Timeouts
from techdesk.ssh.errors import Cancelled, SshError
from techdesk.store import audit

OUTPUT_CAP = 64 * 1024


def fenced(text: str) -> str:
    """`text` as a Markdown code block for a note: the fence is longer than any run of
    backticks in it, so output from a client machine cannot close it and write prose."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}\n{text}\n{fence}"


@dataclass
class ActionResult:
    host: str
    exit_code: int | None = None
    output: str = ""
    truncated: bool = False
    error: HostError | None = None
    duration_s: float = 0.0
    skipped: bool = False  # not started: cancelled, or stopped after another host failed

    @property
    def ok(self) -> bool:
        return self.error is None and self.exit_code == 0

    def as_json(self) -> dict:
        return {"host": self.host, "exit_code": self.exit_code, "output": self.output,
                "truncated": self.truncated, "skipped": self.skipped,
                "error": self.error.as_json() if self.error else None,
                "duration_s": round(self.duration_s, 3)}


class ActionService:
    def __init__(self, services) -> None:
        self.services = services
        self.conn = services.conn

    async def execute(self, hosts: list[Host], scripts: dict[str, str], *, action: str, detail: str,
                      root: bool = False, timeout: float = 300, concurrency: int = DEFAULT_CONCURRENCY,
                      cancel: threading.Event | None = None, stop_on_failure: bool = False,
                      accept_new_hostkeys: bool = False, endpoint_prompt: EndpointPrompt | None = None,
                      timeouts: Timeouts | None = None,
                      on_result: Callable[[ActionResult], None] | None = None) -> list[ActionResult]:
        """Run scripts[host.name] on each host; results in the order of `hosts`.

        The audit log gets the script (as given: never the sudo password) before it is sent,
        then the outcome. `endpoint_prompt` (the window's) asks whether a stored secret may
        go to a host that moved; without it the secret is not sent (the CLI says which
        `techdesk hosts confirm` to run).
        """
        svc = self.services
        loop = asyncio.get_running_loop()
        cancel = cancel or threading.Event()
        stopped = threading.Event()
        limiter = asyncio.Semaphore(max(1, concurrency))
        pool = await loop.run_in_executor(None, started_pool, min(max(1, concurrency), max(1, len(hosts))),
                                          "techdesk-act")
        results: dict[str, ActionResult] = {}

        def audit_sent(host: str) -> None:  # in a worker: block until the entry is committed
            async def write() -> None:
                audit.append(self.conn, technician=svc.workspace.technician,
                             device=svc.workspace.settings.device_id, host=host, action=action,
                             detail=detail, script=scripts[host], outcome="sent")
            asyncio.run_coroutine_threadsafe(write(), loop).result(30)

        async def one(host: Host) -> None:
            async with limiter:
                if cancel.is_set() or stopped.is_set():
                    why = "cancelled" if cancel.is_set() else "not run: stopped after a failure"
                    result = ActionResult(host.name, skipped=True, error=HostError("protocol", why))
                elif host.os == "windows":
                    result = ActionResult(host.name, error=HostError(
                        "protocol", f"{host.name} is a Windows host: commands and fixes here are sh"))
                else:
                    try:  # the same route, pins and endpoint-bound secrets as a run
                        route = plan_route(svc.roster, svc.trust, host.name)
                    except RosterError as exc:
                        route, result = None, ActionResult(host.name, error=HostError("protocol", str(exc)))
                    if route is not None:
                        secrets = secret_lookup(loop, route.endpoints, None, endpoint_prompt, cancel)
                        result = await loop.run_in_executor(
                            pool, self._one_host, host.name, route, secrets, scripts[host.name], root, timeout,
                            cancel, accept_new_hostkeys, audit_sent, timeouts or Timeouts())
                    self._audit_outcome(action, detail, result)
                if stop_on_failure and not result.ok:
                    stopped.set()
                results[host.name] = result
                if on_result is not None:
                    on_result(result)

        try:
            await asyncio.gather(*(one(h) for h in hosts))
        except asyncio.CancelledError:
            cancel.set()
            raise
        finally:
            pool.shutdown(wait=False, cancel_futures=True)
        return [results[h.name] for h in hosts if h.name in results]

    def attach_notes(self, results: list[ActionResult], label: str) -> list[str]:
        """Keep each host's output in a note on the host (it joins a running visit)."""
        ids = []
        for r in results:
            if r.error is None and not r.skipped:
                note = self.services.notes.add(f"Command on {r.host}: {label[:80]} (exit {r.exit_code})",
                                               fenced(f"$ {label}\n{r.output.rstrip()}"), host=r.host)
                ids.append(note.id)
        return ids

    def _one_host(self, name: str, route: Route, secrets, body: str, root: bool, timeout: float,
                  cancel: threading.Event, accept_new: bool, audit_sent, timeouts: Timeouts) -> ActionResult:
        """Blocking, in a worker. `secrets` releases a stored secret only to its endpoint."""
        t0 = time.monotonic()
        result = ActionResult(name)
        nonce = fixscript.new_nonce()
        password = None
        chunks: list[bytes] = []
        size = 0

        feed: fixscript.SudoFeed | None = None

        def on_output(chunk: bytes) -> None:
            nonlocal size
            if feed is not None:
                feed.see(chunk)
            if size <= OUTPUT_CAP:
                chunks.append(chunk)
                size += len(chunk)

        try:
            if root and (route.chain[-1].user or "") != "root":  # sudo's, sent only if the host asks
                password = secrets("password", name)
            text = fixscript.wrap(body, root=root, password=password, nonce=nonce)
            if password is not None:
                feed = fixscript.SudoFeed(text, password, nonce)
            deadline = t0 + timeout  # connecting and authenticating count too
            result.exit_code = self.services.connections.run(
                route.chain, route.trust, "sh -s", feed or text.encode("utf-8"), on_output,
                deadline=deadline, connect_deadline=deadline, cancel=cancel,
                before_send=lambda: audit_sent(name), secrets=secrets,
                accept_new=accept_new, timeouts=timeouts)
        except Cancelled:
            result.error = HostError("protocol", "cancelled by the technician")
        except SshError as exc:
            result.error = HostError(exc.kind, exc.message)
        except Exception as exc:  # one host's bug must not stop the others
            result.error = HostError("protocol", f"{type(exc).__name__}: {exc}")
        raw = b"".join(chunks)
        if feed is not None:
            raw = feed.shown(raw)
        result.output, result.truncated = clean_output(raw, OUTPUT_CAP)
        marker = fixscript.refused_marker(nonce)
        if result.exit_code == fixscript.SUDO_REFUSED_EXIT and marker in result.output:
            reason = "wrong password or not allowed" if password else "no password stored in the keyring"
            if "not installed" in result.output:
                reason = "sudo is not installed"
            result.error = HostError("auth", f"sudo refused on {name} ({reason}): nothing was run")
            result.output = ""
        result.duration_s = time.monotonic() - t0
        return result

    def _audit_outcome(self, action: str, detail: str, result: ActionResult) -> None:
        if result.error and result.error.kind in ("hostkey-unknown", "hostkey-changed"):
            return  # nothing was sent
        ws = self.services.workspace
        outcome = result.error.kind if result.error else f"exit {result.exit_code}"
        audit.append(self.conn, technician=ws.technician, device=ws.settings.device_id, host=result.host,
                     action=f"{action}-result", outcome=outcome,
                     detail=result.error.message if result.error else detail)
