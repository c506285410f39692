"""Run a bundle on many hosts: one connection and one session per host, bounded fan-out.

The blocking SSH work runs in a thread pool of our own (sized to the requested
concurrency); everything that touches the store runs on the event loop thread.
Events stream back with loop.call_soon_threadsafe so the CLI and the GUI can show
per-host, per-check progress as it arrives.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets as pysecrets
import threading
import time
import uuid
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime

from techdesk import secrets as keyring_secrets
from techdesk.core.findings import CheckResult, HostError, HostResult
from techdesk.core.host_state import CANCELLED_BEFORE_START, CANCELLED_BY_TECHNICIAN
from techdesk.core.roster import Host, RosterError, endpoint_of
from techdesk.diagnostics.bundle import Bundle
from techdesk.diagnostics.compile import CompiledScript, compile_script
from techdesk.diagnostics.frames import FrameParser, ScriptFeed, untrusted
from techdesk.ssh.connect import Target, Timeouts
from techdesk.ssh.errors import Cancelled, SshError
from techdesk.ssh.knownhosts import RouteTrust, TrustStore, fingerprint, pin_name
from techdesk.ssh.pool import ConnectionPool
from techdesk.store import audit
from techdesk.store import runs as runs_repo

DEFAULT_CONCURRENCY = 16
RUN_LIMIT_S = 600.0  # a whole host's run is stopped after this (each check has its own timeout too)


@dataclass
class RunEvent:
    """What happened: host-started, check, host-done (with result) or run-done."""

    kind: str
    host: str | None = None
    check: CheckResult | None = None
    result: HostResult | None = None


@dataclass
class RunReport:
    run_id: str
    bundle: str
    started: str
    results: list[HostResult] = field(default_factory=list)
    cancelled: bool = False

    def as_json(self) -> dict:
        return {"run_id": self.run_id, "bundle": self.bundle, "started": self.started,
                "hosts": [r.as_json() for r in self.results]}


class OsMismatch(RosterError):
    """A bundle for one OS asked to run on hosts of another: refused before anything is
    sent or stored (its checks could only fail, and would look like findings)."""

    def __init__(self, bundle: Bundle, hosts: list[Host]) -> None:
        self.bundle, self.hosts = bundle, hosts
        names = ", ".join(f"{h.name} ({h.os})" for h in hosts[:5]) + (f" and {len(hosts) - 5} more"
                                                                     if len(hosts) > 5 else "")
        super().__init__(f"bundle {bundle.name} is for {bundle.os}, not for {names}; "
                         "set the host's OS, or run anyway with --any-os")


def os_mismatches(bundle: Bundle, hosts: list[Host]) -> list[Host]:
    """The hosts whose OS (as the roster says, linux by default) is not the bundle's."""
    return [h for h in hosts if h.os != bundle.os]


HostKeyPrompt = Callable[[Target, object], Awaitable[bool | str]]
# Asked when the keyring has no password/passphrase: (kind, host) -> secret or None.
SecretPrompt = Callable[[str, str], Awaitable[str | None]]
# Asked when a stored secret's host changed endpoint: True sends it (and remembers the new one).
EndpointPrompt = Callable[[keyring_secrets.EndpointChanged], Awaitable[bool]]


class RunService:
    def __init__(self, conn, roster, trust: TrustStore, technician: str, device: str,
                 connections: ConnectionPool | None = None,
                 clock: Callable[[], datetime] | None = None) -> None:
        self.conn = conn
        # Warm connections shared with fixes/exec; without one, each run connects afresh.
        self.connections = connections or ConnectionPool(idle_s=0)
        self.roster = roster
        self.trust = trust
        self.technician = technician
        self.device = device
        # Where runs and their metrics get their times: injectable, so history can be replayed.
        self.clock = clock or (lambda: datetime.now(UTC))

    def resolve_targets(self, names: list[str]) -> list[Host]:
        hosts, seen = [], set()
        for name in names:
            if name not in seen:
                seen.add(name)
                hosts.append(self.roster.get(name))
        if not hosts:
            raise RosterError("no hosts to run on")
        return hosts

    async def run(self, bundle: Bundle, hosts: list[Host], *, concurrency: int = DEFAULT_CONCURRENCY,
                  accept_new_hostkeys: bool = False, hostkey_prompt: HostKeyPrompt | None = None,
                  secret_prompt: SecretPrompt | None = None, endpoint_prompt: EndpointPrompt | None = None,
                  on_event: Callable[[RunEvent], None] | None = None,
                  cancel: threading.Event | None = None, trigger: str = "manual",
                  timeouts: Timeouts | None = None, any_os: bool = False) -> RunReport:
        """Raises OsMismatch (nothing run, nothing stored) for a host of another OS
        than the bundle's, unless ``any_os``."""
        wrong = [] if any_os else os_mismatches(bundle, hosts)
        if wrong:
            raise OsMismatch(bundle, wrong)
        loop = asyncio.get_running_loop()
        cancel = cancel or threading.Event()
        emit = on_event or (lambda event: None)
        run_id = uuid.uuid4().hex[:12]
        started = self.clock().astimezone(UTC).isoformat(timespec="seconds")
        runs_repo.create_run(self.conn, run_id, bundle.name, bundle.version, self.technician, started, trigger)
        report = RunReport(run_id=run_id, bundle=bundle.name, started=started)
        # One mark per run, one token per check and host (compile.py, frames.py).
        nonce = pysecrets.token_hex(16)
        compiled = compile_script(bundle, nonce)
        plans, endpoints, routes = self._plan_hosts(hosts)
        pool = await loop.run_in_executor(None, started_pool, min(max(1, concurrency), max(1, len(plans))),
                                          "techdesk-ssh")
        limiter = asyncio.Semaphore(max(1, concurrency))

        def from_worker(event: RunEvent) -> None:
            loop.call_soon_threadsafe(emit, event)

        def before_send(host_name: str) -> None:
            # Blocks the worker until the audit entry is committed: nothing reaches a
            # client machine without a record of it.
            fut = asyncio.run_coroutine_threadsafe(self._audit_send(host_name, bundle, compiled), loop)
            fut.result(timeout=30)

        def on_hostkey(event: str, target: Target, key, known) -> None:
            asyncio.run_coroutine_threadsafe(self._audit_hostkey(event, target, key, known), loop).result(30)

        decide = accept_new_hostkeys
        if hostkey_prompt is not None and not accept_new_hostkeys:
            def decide(target, key):  # noqa: E306 - runs in a worker, asks on the loop
                return asyncio.run_coroutine_threadsafe(hostkey_prompt(target, key), loop).result()

        options = _HostRunOptions(
            connections=self.connections, compiled=compiled, bundle=bundle, accept_new=decide,
            timeouts=timeouts or Timeouts(), cancel=cancel, emit=from_worker, before_send=before_send,
            on_hostkey=on_hostkey,
            lookup_secret=secret_lookup(loop, endpoints, secret_prompt, endpoint_prompt, cancel))

        async def one(host: Host, chain, error: HostError | None) -> None:
            async with limiter:
                host_started = self.clock().astimezone(UTC).isoformat(timespec="seconds")
                if error is None and not cancel.is_set():
                    emit(RunEvent("host-started", host=host.name))
                    result = await loop.run_in_executor(pool, _run_host, options, host.name, chain,
                                                        routes[host.name])
                else:
                    result = HostResult(host=host.name, error=error or HostError("protocol", CANCELLED_BEFORE_START))
                runs_repo.save_host_result(self.conn, run_id, result, host_started)
                self._audit_outcome(host.name, result)
                report.results.append(result)
                emit(RunEvent("host-done", host=host.name, result=result))

        try:
            await asyncio.gather(*(one(*plan) for plan in plans))
        except asyncio.CancelledError:
            cancel.set()
            raise
        finally:
            pool.shutdown(wait=False, cancel_futures=True)
            runs_repo.finish_run(self.conn, run_id)
        order = {h.name: i for i, h in enumerate(hosts)}
        report.results.sort(key=lambda r: order.get(r.host, 0))
        report.cancelled = cancel.is_set()
        emit(RunEvent("run-done"))
        return report

    def _plan_hosts(self, hosts: list[Host]) -> tuple[list[tuple[Host, list[Target] | None, HostError | None]],
                                                     dict[str, str], dict[str, RouteTrust]]:
        """Each host's jump chain (or why it has none), slowest-known hosts first so a long
        one does not start last and hold up the end. On the loop thread (the store is not
        thread-safe)."""
        plans: list[tuple[Host, list[Target] | None, HostError | None]] = []
        endpoints: dict[str, str] = {}  # host name -> where its secret may go (techdesk.secrets)
        routes: dict[str, RouteTrust] = {}  # host name -> host keys pinned per route
        for host in hosts:
            try:
                route = plan_route(self.roster, self.trust, host.name)
                plans.append((host, route.chain, None))
                endpoints.update(route.endpoints)
                routes[host.name] = route.trust
            except RosterError as exc:
                plans.append((host, None, HostError("protocol", str(exc))))
        durations = runs_repo.last_durations(self.conn, [host.name for host in hosts])
        plans.sort(key=lambda plan: -durations.get(plan[0].name, float("inf")))
        return plans, endpoints, routes

    async def _audit_send(self, host: str, bundle: Bundle, compiled: CompiledScript) -> None:
        # What changes per run (the nonce; the tokens where they are in the text) is kept
        # apart, so the audit holds each bundle version's script once, not once per run.
        fills = (compiled.nonce,) + (() if compiled.converse else compiled.tokens)
        audit.append(self.conn, technician=self.technician, device=self.device, host=host, action="run",
                     detail=f"bundle {bundle.name} v{bundle.version}", script=compiled.text,
                     outcome="sent", script_fills=fills)

    async def _audit_hostkey(self, event: str, target: Target, key, known) -> None:
        detail = f"{target.address}:{target.port} {key.get_name()} {fingerprint(key)}"
        if known:
            detail += " (pinned: " + ", ".join(f"{k.key_type}" for k in known) + ")"
        audit.append(self.conn, technician=self.technician, device=self.device, host=target.name,
                     action=f"hostkey-{event}", detail=detail)

    def _audit_outcome(self, host: str, result: HostResult) -> None:
        outcome = result.error.kind if result.error else result.status.value
        if result.error and result.error.kind in ("hostkey-unknown", "hostkey-changed"):
            return  # nothing was sent; the host-key event is already recorded when it matters
        audit.append(self.conn, technician=self.technician, device=self.device, host=host,
                     action="run-result", outcome=outcome,
                     detail=result.error.message if result.error else f"{len(result.checks)} checks")


class _Tampered(Exception):
    """Raised from the output callback to end a run whose frames were forged."""


def _target(host: Host) -> Target:
    return Target(name=host.name, address=host.address, port=host.port, user=host.user, key_file=host.key)


@dataclass
class Route:
    """How to reach a host: the hops, where each hop's stored secret may go, its host-key pins."""

    chain: list[Target]
    endpoints: dict[str, str]   # hop name -> endpoint its keyring secret is bound to
    trust: RouteTrust           # host keys pinned per route (like OpenSSH's HostKeyAlias)

    @property
    def pin(self) -> str:
        """The known_hosts name the host itself (the last hop) is pinned under."""
        last = self.chain[-1]
        return self.trust.aliases[(last.address, int(last.port))]



def started_pool(workers: int, prefix: str) -> ThreadPoolExecutor:
    """A thread pool whose threads are already running. ThreadPoolExecutor starts a thread
    inside submit(), and Thread.start() waits until that thread runs: tens of ms each on a
    busy machine, which on the event loop's thread freezes the window. Call it in a worker."""
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=prefix)
    ready = threading.Barrier(workers + 1)

    def arrive() -> None:
        with contextlib.suppress(threading.BrokenBarrierError):
            ready.wait(10)

    for _ in range(workers):
        pool.submit(arrive)
    arrive()
    return pool

def plan_route(roster, trust: TrustStore, name: str) -> Route:
    """The route to `name` through its jump chain; on the loop thread (the store is not
    thread-safe). Raises RosterError. Runs, shells, forwards and file sessions all use it."""
    hops = roster.jump_chain(name)
    return Route(chain=[_target(h) for h in hops],
                 endpoints={h.name: endpoint_of(hops[:i + 1]) for i, h in enumerate(hops)},
                 trust=trust.route({(h.address, h.port): pin_name([(j.address, j.port) for j in hops[:i + 1]])
                                    for i, h in enumerate(hops)}))


def secret_lookup(loop: asyncio.AbstractEventLoop, endpoints: dict[str, str],
                  secret_prompt: SecretPrompt | None, endpoint_prompt: EndpointPrompt | None,
                  cancel: threading.Event | None = None) -> Callable[[str, str], str | None]:
    """connect()'s `secrets` callback, for a worker thread: the keyring first (a secret is
    released only to the endpoint it belongs to; a moved host is asked about on the loop),
    then (in the window) the technician."""
    cancel = cancel or threading.Event()

    def lookup_secret(kind: str, host_name: str) -> str | None:
        endpoint = endpoints.get(host_name)
        try:
            value = keyring_secrets.get_secret(kind, host_name, endpoint=endpoint)
        except keyring_secrets.EndpointChanged as exc:
            if endpoint_prompt is None or cancel.is_set() or not asyncio.run_coroutine_threadsafe(
                    endpoint_prompt(exc), loop).result():
                raise SshError("auth", str(exc), target=host_name) from None
            keyring_secrets.confirm_endpoint(host_name, exc.now)
            value = keyring_secrets.get_secret(kind, host_name, endpoint=endpoint)
        if value is None and secret_prompt is not None and not cancel.is_set():
            value = asyncio.run_coroutine_threadsafe(secret_prompt(kind, host_name), loop).result()
            if value is not None and endpoint is not None:
                keyring_secrets.bind(kind, host_name, endpoint)
        return value

    return lookup_secret


@dataclass(frozen=True)
class _HostRunOptions:
    """What every host of one run shares; the callbacks run in the worker thread."""

    connections: ConnectionPool
    compiled: CompiledScript  # the run's; each host gets its own tokens (for_host)
    bundle: Bundle
    accept_new: object  # bool, or a (target, key) -> bool | str decision asked on the loop
    timeouts: Timeouts
    cancel: threading.Event
    emit: Callable[[RunEvent], None]
    before_send: Callable[[str], None]  # host name; blocks until the audit entry is committed
    on_hostkey: Callable
    lookup_secret: Callable[[str, str], str | None]


def _run_host(opts: _HostRunOptions, name: str, chain: list[Target], trust: TrustStore | RouteTrust) -> HostResult:
    """Blocking: connect, send the compiled bundle on one session, parse results as they stream."""
    t0 = time.monotonic()
    compiled = opts.compiled.for_host()
    parser = FrameParser(compiled, opts.bundle.checks)
    result = HostResult(host=name)

    def on_output(chunk: bytes) -> None:
        for check in parser.feed(chunk):
            result.checks.append(check)
            opts.emit(RunEvent("check", host=name, check=check))
        if parser.tampered:
            raise _Tampered  # stop reading now: nothing more from this host counts

    deadline = t0 + RUN_LIMIT_S  # connecting and authenticating count too
    try:
        if opts.cancel.is_set():
            raise Cancelled("cancelled")
        opts.connections.run(chain, trust, compiled.command, ScriptFeed(compiled, parser), on_output,
                             deadline=deadline, cancel=opts.cancel, before_send=lambda: opts.before_send(name),
                             secrets=opts.lookup_secret, accept_new=opts.accept_new, timeouts=opts.timeouts,
                             on_hostkey_event=opts.on_hostkey, connect_deadline=deadline)
        result.checks.extend(parser.finish(None))
    except _Tampered:
        result.checks.extend(parser.finish(None))
    except Cancelled:
        result.checks.extend(parser.finish("cancelled") if result.checks else [])
        result.error = HostError("protocol", CANCELLED_BY_TECHNICIAN)
    except SshError as exc:
        if result.checks:
            result.checks.extend(parser.finish(f"no result: {exc.message}"))
        result.error = HostError(exc.kind, exc.message)
    except Exception as exc:  # never let one host's bug stop the others
        result.error = HostError("protocol", f"{type(exc).__name__}: {exc}")
    if parser.tampered:  # never silently: every result of this host is suspect
        result.checks = [untrusted(c, "tampered run") for c in result.checks]
        result.error = HostError("tampered", f"results not trusted: the client machine sent "
                                 f"{parser.tampered}")
    result.duration_s = time.monotonic() - t0
    return result
