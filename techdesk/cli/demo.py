"""`techdesk demo` and `techdesk selftest`: the demo workspace from the command line.

Both make their OWN throwaway demo workspace (techdesk/demo/), served by the embedded
SSH server on 127.0.0.1, and ignore the --workspace the other commands use. Nothing
here reads files outside the package (selftest runs in frozen builds too).
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path

from techdesk.cli.output import print_json, table


def register(sub) -> None:
    p = sub.add_parser("demo", help="run linux-health on throwaway demo hosts (no servers needed)",
                       description="Create a throwaway demo workspace whose eight hosts are "
                       "served by techdesk's own SSH server on 127.0.0.1, run linux-health on "
                       "all of them and show the findings. Exit 0 when every demo host gave its "
                       "designed result, 1 otherwise.")
    p.add_argument("--keep", metavar="DIR", help="keep the demo workspace in DIR (a new or empty "
                   "folder) to open it in the window afterwards")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_demo, own_workspace=True)

    p = sub.add_parser("selftest", help="check this installation: SSH, keyring, window",
                       description="Run linux-quick against the embedded demo SSH server, check "
                       "that an unreachable host is reported as such, report the keyring "
                       "backend, and open and close the main window offscreen. Exit 0 only if "
                       "every step passed.")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_selftest, own_workspace=True)


# -- techdesk demo ----------------------------------------------------------------------------

def cmd_demo(_services, args) -> int:
    from techdesk.demo import personas
    from techdesk.demo.server import DemoError
    from techdesk.demo.workspace import SEED_DAYS, DemoEnvironment
    from techdesk.services.context import Services
    from techdesk.workspace import Workspace

    quiet = args.json
    say = (lambda *a: None) if quiet else print
    t0 = time.monotonic()
    say(f"Starting {len(personas.HOSTS)} demo hosts on 127.0.0.1 (techdesk's own SSH server)…")
    try:
        env = DemoEnvironment.create(Path(args.keep) if args.keep else None)
    except DemoError as exc:
        print(f"techdesk: error: {exc}", file=sys.stderr)
        return 1
    try:
        services = Services(Workspace(env.workspace_path))
        try:
            bundle = services.bundles.get("linux-health")
            hosts = [services.roster.get(h.name) for h in personas.HOSTS]
            clients = len(services.roster.clients())
            say(f"Demo workspace ready in {time.monotonic() - t0:.1f} s: {clients} clients, "
                f"{len(hosts)} hosts, {SEED_DAYS} days of history, 2 notes, 1 visit.\n")
            say(f"Running {bundle.name} ({len(bundle.checks)} checks) on every demo host:")
            live = _Live(len(hosts), sys.stdout if not quiet else sys.stderr,
                         show=not quiet or sys.stderr.isatty())
            report = asyncio.run(services.runner.run(bundle, hosts, concurrency=len(hosts),
                                                     on_event=live.event))
            differences = designed_differences(report, [c.id for c in bundle.checks])
            if args.json:
                print_json({"workspace": str(env.workspace_path), "kept": bool(args.keep),
                            "as_designed": not differences, "differences": differences,
                            "run": report.as_json()})
            else:
                _print_summary(report, services, differences)
                _print_where(env.workspace_path, args.keep)
        finally:
            services.close()
    finally:
        env.close()
    return 0 if not differences else 1


class _Live:
    """One line per host as its result arrives."""

    def __init__(self, total: int, stream, show: bool) -> None:
        self.total, self.done, self.t0, self.stream, self.show = total, 0, time.monotonic(), stream, show

    def event(self, event) -> None:
        if event.kind != "host-done" or event.result is None or not self.show:
            return
        self.done += 1
        r = event.result
        if r.error:
            what = f"{r.error.kind}: {r.error.message}"
        else:
            counts = _counts(r)
            what = f"{len(r.checks)} checks" + "".join(
                f", {n} {s}" for s, n in counts.items() if n and s != "ok")
        print(f"  [{self.done}/{self.total} {time.monotonic() - self.t0:4.1f}s] {r.host:<15} "
              f"{r.status.value.upper():<8} {what}", file=self.stream, flush=True)


def _counts(result) -> dict[str, int]:
    counts = {"ok": 0, "warn": 0, "crit": 0, "unknown": 0}
    for check in result.checks:
        counts[check.status.value] += 1
    return counts


def designed_differences(report, check_ids: list[str]) -> list[str]:
    """How the run differs from what the demo personas are designed to show ([] = as designed)."""
    from techdesk.demo import personas

    results = {r.host: r for r in report.results}
    out = []
    for h in personas.HOSTS:
        r = results.get(h.name)
        if r is None:
            continue
        if h.unreachable:
            if r.error is None or r.error.kind != "unreachable":
                out.append(f"{h.name}: designed unreachable, got "
                           f"{r.error.kind if r.error else r.status.value}")
            continue
        if r.error is not None:
            out.append(f"{h.name}: {r.error.kind}: {r.error.message}")
            continue
        got = {c.id: c.status for c in r.checks}
        for cid, want in personas.designed_statuses(h, check_ids).items():
            if got.get(cid) != want:
                have = got[cid].value if cid in got else "missing"
                out.append(f"{h.name}: {cid} is {have}, designed {want.value}")
    return out


def _print_summary(report, services, differences: list[str]) -> None:
    rows, attention = [], []
    for r in report.results:
        spec = services.roster.get(r.host).spec
        where = spec.client + (f" / {spec.site}" if spec.site else "")
        counts = _counts(r)
        bad = sorted((c for c in r.checks if c.status.value != "ok"), key=lambda c: -c.status.rank)
        if r.error:
            worst = f"{r.error.kind}: {r.error.message}"
        else:
            worst = f"{bad[0].id}: {bad[0].summary}" if bad else "all checks OK"
        rows.append([r.host, where, r.status.value.upper(),
                     f"{counts['ok']}/{counts['warn']}/{counts['crit']}/{counts['unknown']}",
                     _cut(worst, 64)])
        attention += [[r.host, c.status.value.upper(), c.id, _cut(c.summary, 80)] for c in bad]
    print()
    print(table(rows, ["HOST", "CLIENT / SITE", "STATUS", "OK/WARN/CRIT/UNKN", "WORST FINDING"]))
    if attention:
        print(f"\nFindings to look at ({len(attention)}):")
        print(table(attention, ["HOST", "STATUS", "CHECK", "SUMMARY"]))
    if differences:
        print("\nNot as designed (the demo hosts should give the results in docs/demo.md):")
        for line in differences:
            print(f"  {line}")
    else:
        print(f"\nEvery demo host gave its designed result (run {report.run_id}).")


def _print_where(path: Path, keep: str | None) -> None:
    print(f"Workspace: {path}")
    if keep:
        print("It stays there: the roster, a month of history, the notes, the visit and this run.\n"
              "Open it in the window:\n"
              f"    techdesk --workspace {_quote(str(path))} gui\n"
              "The demo SSH server stopped with this command, so new runs from that window "
              "find the hosts unreachable;\nfor live demo hosts use `techdesk gui --demo`.")
    else:
        print("It was temporary and is removed now (keep it with --keep DIR). "
              "To see it all in the window: techdesk gui --demo")


def _quote(text: str) -> str:
    import shlex

    return shlex.quote(text)


def _cut(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


# -- techdesk selftest ------------------------------------------------------------------------

class _Skip(Exception):
    """A step that cannot run here (no POSIX shell, no Qt): reported, not a failure."""


def cmd_selftest(_services, args) -> int:
    from techdesk import __version__

    out = sys.stderr if args.json else sys.stdout
    show = not args.json or sys.stderr.isatty()
    if show:
        print(f"techdesk {__version__} selftest", file=out, flush=True)
    steps: list[dict] = []
    state: dict = {}
    t0 = time.monotonic()

    def step(name: str, fn) -> None:
        started = time.monotonic()
        try:
            detail, status = fn() or "", "ok"
        except _Skip as exc:
            detail, status = str(exc), "skip"
        except Exception as exc:  # a failed step is reported, the others still run
            detail, status = f"{type(exc).__name__}: {exc}", "FAILED"
        took = time.monotonic() - started
        steps.append({"step": name, "status": status, "seconds": round(took, 3), "detail": detail})
        if show:
            print(f"{status:<7} {name:<34} {took:6.2f} s  {detail}", file=out, flush=True)

    from techdesk.demo import personas

    try:
        step("demo SSH server", lambda: _st_environment(state))
        step(f"linux-quick on {personas.HEALTHY_HOST}", lambda: _st_quick(state))
        step(f"unreachable host {personas.UNREACHABLE_HOST}", lambda: _st_unreachable(state))
        step("keyring", _st_keyring)
        step("main window (offscreen)", lambda: _st_window(state))
    finally:
        step("cleanup", lambda: _st_cleanup(state))
    failed = [s for s in steps if s["status"] == "FAILED"]
    if args.json:
        print_json({"ok": not failed, "version": __version__, "steps": steps})
    if show:
        verdict = "passed" if not failed else f"FAILED ({len(failed)} of {len(steps)} steps)"
        print(f"selftest {verdict} in {time.monotonic() - t0:.1f} s", file=out, flush=True)
    return 0 if not failed else 1


def _st_environment(state: dict) -> str:
    from techdesk.demo.workspace import DemoEnvironment
    from techdesk.services.context import Services
    from techdesk.workspace import Workspace

    if os.name != "posix":
        raise _Skip("skipped: the demo SSH server runs /bin/sh (Linux and macOS only)")
    env = state["env"] = DemoEnvironment.create()
    state["services"] = Services(Workspace(env.workspace_path))
    return f"{len(env.hosts)} hosts on 127.0.0.1, workspace {env.workspace_path}"


def _run(state: dict, bundle: str, host: str):
    services = state.get("services")
    if services is None:
        raise _Skip("skipped: no demo SSH server")
    report = asyncio.run(services.runner.run(services.bundles.get(bundle),
                                             [services.roster.get(host)]))
    return report.results[0]


def _st_quick(state: dict) -> str:
    from techdesk.demo import personas

    r = _run(state, "linux-quick", personas.HEALTHY_HOST)
    if r.error is not None:
        raise RuntimeError(f"{r.error.kind}: {r.error.message}")
    if len(r.checks) < 4:
        raise RuntimeError(f"only {len(r.checks)} checks came back (expected at least 4)")
    counts = _counts(r)
    return f"{len(r.checks)} checks: " + ", ".join(f"{n} {s}" for s, n in counts.items() if n)


def _st_unreachable(state: dict) -> str:
    from techdesk.demo import personas

    r = _run(state, "linux-quick", personas.UNREACHABLE_HOST)
    if r.error is None or r.error.kind != "unreachable":
        raise RuntimeError("expected an 'unreachable' error, got "
                           + (f"{r.error.kind}: {r.error.message}" if r.error else r.status.value))
    return f"{r.error.kind}: {r.error.message}"


def _st_keyring() -> str:
    from techdesk.secrets import backend_info

    info = backend_info()
    return f"{info.name}: {info.message}" + ("" if info.secure else " (WARNING: not secure)")


def _st_window(state: dict) -> str:
    if not os.environ.get("DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    try:
        import techdesk.ui.smoke  # noqa: F401 - imports Qt
    except ImportError as exc:
        raise _Skip(f"skipped (no Qt: {exc})") from None
    services = state.get("services")
    if services is None:  # no demo (Windows): an empty throwaway workspace
        import tempfile

        from techdesk.services.context import Services
        from techdesk.workspace import Workspace

        folder = state["window_ws"] = tempfile.mkdtemp(prefix="techdesk-selftest-")
        services = state["window_services"] = Services(Workspace(folder))
    from techdesk.ui.smoke import open_and_close_main_window

    return open_and_close_main_window(services)


def _st_cleanup(state: dict) -> str:
    import shutil

    for key in ("services", "window_services"):
        if state.get(key) is not None:
            state[key].close()
    if state.get("window_ws"):
        shutil.rmtree(state["window_ws"], ignore_errors=True)
    env = state.get("env")
    if env is None:
        return "nothing to clean up"
    env.close()
    if env.workspace_path.exists():
        raise RuntimeError(f"the demo workspace {env.workspace_path} is still there")
    return "demo server stopped, workspace removed"
