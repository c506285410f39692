"""Fix, verify, record: run a check's fix on hosts, re-run the check, keep before → after.

The flow (the CLI and the window both call it): plan() shows the exact scripts and the
hosts; apply() refuses a disruptive fix unless every host name was typed, records each
script in the audit log before it is sent (ActionService), runs it through the warm
connection pool with the fix's timeout, re-runs the check on the hosts where it ran,
and writes the result as a note on the host — which joins the running visit at that
host's client, so it appears under "Work performed" in the visit report.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from techdesk.core.findings import CheckResult, HostError
from techdesk.core.roster import Host
from techdesk.core.severity import Status
from techdesk.core.work import WorkError
from techdesk.diagnostics.bundle import Bundle, CheckDef, FixDef
from techdesk.diagnostics.fixscript import fix_body
from techdesk.services.actions import ActionResult, fenced
from techdesk.services.runner import EndpointPrompt
from techdesk.ssh.connect import Timeouts

UNREACHED = ("unreachable", "timeout")  # the check-first never got a session: nothing was sent


class FixError(WorkError):
    """A fix that cannot be planned or was not confirmed: nothing ran."""


@dataclass
class Finding:
    status: str
    summary: str
    tampered: bool = False  # from a run the client machine tampered with: never drives a fix

    @classmethod
    def of(cls, status: str, summary: str, error_kind: str | None) -> Finding:
        return cls(status, summary, error_kind == "tampered")

    @property
    def word(self) -> str:
        return Status(self.status).word if self.status in Status._value2member_map_ else "?"


@dataclass
class FixPlan:
    bundle: Bundle
    check: CheckDef
    fix: FixDef
    hosts: list[Host]
    before: dict[str, Finding | None] = field(default_factory=dict)

    @property
    def needs_typed_confirmation(self) -> bool:
        return self.fix.risk == "disruptive"

    def refused(self, host: str) -> str | None:
        """Why the fix must not run on `host` (None = it may): its finding came from a run
        the machine tampered with, so its variables (a unit, a path) may be an attacker's."""
        before = self.before.get(host)
        if before is None or not before.tampered:
            return None
        return (f"the last {self.check.id} result on {host} is not trusted (its run was tampered with): "
                f"the fix was not run; check the machine, then run the check again")

    def script(self, host: str) -> str:
        """Exactly what is sent to `host` (and audited); the finding's variables included
        (none from a tampered finding: refused() keeps it from running anyway)."""
        before = None if self.refused(host) else self.before.get(host)
        header = f"techdesk fix {self.bundle.name}/{self.check.id}/{self.fix.id} on {host}"
        return fix_body(self.fix, before.status if before else None, before.summary if before else None,
                        header)

    def describe(self) -> str:
        root = ", as root (sudo)" if self.fix.root else ""
        return (f"{self.fix.title} — {self.check.title} ({self.bundle.name}/{self.check.id}/"
                f"{self.fix.id}), risk {self.fix.risk}{root}, timeout {self.fix.timeout} s")


@dataclass
class FixOutcome:
    host: str
    before: Finding | None
    after: CheckResult | None
    action: ActionResult
    note_id: str | None = None

    @property
    def line(self) -> str:
        """ "Failed systemd units on web01: WARN → OK, nginx.service restarted" """
        before = self.before.word if self.before else "not checked"
        if self.action.error:
            return f"{self.host}: {before}, fix not applied: {self.action.error.message}"
        after = self.after.status.word if self.after else "UNKNOWN"
        return f"{self.host}: {before} → {after}, {self.what_was_done}"

    @property
    def what_was_done(self) -> str:
        if self.action.exit_code != 0:
            return f"the fix failed (exit {self.action.exit_code})"
        lines = [ln.strip() for ln in self.action.output.splitlines() if ln.strip()]
        return (lines[-1][:120] if lines else "done")

    def as_json(self) -> dict:
        return {"host": self.host, "before": self.before.__dict__ if self.before else None,
                "after": self.after.as_json() if self.after else None, "fix": self.action.as_json(),
                "note": self.note_id, "line": self.line}


def _ask_once(prompt: EndpointPrompt) -> EndpointPrompt:
    """One apply asks once per moved host: "don't send" for the check-first stands for the
    fix and the re-check too ("send" confirms the endpoint, so nothing asks again)."""
    refused: set[tuple[str, str]] = set()

    async def ask(change) -> bool:
        if (change.host, change.now) in refused:
            return False
        if await prompt(change):
            return True
        refused.add((change.host, change.now))
        return False

    return ask


class FixService:
    def __init__(self, services) -> None:
        self.services = services

    def fixes_for(self, check_id: str, bundle_name: str | None = None) -> list[tuple[Bundle, CheckDef]]:
        bundles = [self.services.bundles.get(bundle_name)] if bundle_name else \
            list(self.services.bundles.all().values())
        return [(b, c) for b in bundles for c in b.checks if c.id == check_id and c.fixes]

    def plan(self, hosts: list[Host], check_id: str, fix_id: str | None = None,
             bundle_name: str | None = None) -> FixPlan:
        if not hosts:
            raise FixError("no hosts to fix")
        found = self.fixes_for(check_id, bundle_name)
        if not found:
            raise FixError(f"no bundle has fixes for a check named {check_id!r}")
        if len(found) > 1:
            names = ", ".join(b.name for b, _ in found)
            raise FixError(f"check {check_id!r} has fixes in several bundles ({names}): name one with --bundle")
        bundle, check = found[0]
        if fix_id is None:
            if len(check.fixes) > 1:
                raise FixError(f"check {check_id!r} has several fixes "
                               f"({', '.join(f.id for f in check.fixes)}): name one")
            fix = check.fixes[0]
        else:
            fix = check.fix(fix_id)
            if fix is None:
                raise FixError(f"check {check_id!r} has no fix {fix_id!r} "
                               f"(it has {', '.join(f.id for f in check.fixes)})")
        wrong = [h.name for h in hosts if h.os and h.os != bundle.os]
        if wrong:
            raise FixError(f"{bundle.name} is for {bundle.os} hosts; not for {', '.join(wrong)}")
        plan = FixPlan(bundle, check, fix, list(hosts))
        lasts = {h.name: self.services.history.check_history(h.name, check.id, limit=1) for h in hosts}
        # A finding from a teammate's synced run is checked again first: a writer of the
        # shared folder could otherwise choose the variables of a fix that may run as root.
        received = self.services.history.received_runs([last[0]["run_id"] for last in lasts.values() if last])
        for host in hosts:
            last = lasts[host.name]
            mine = last and last[0]["run_id"] not in received
            plan.before[host.name] = Finding.of(last[0]["status"], last[0]["summary"],
                                                last[0]["error_kind"]) if mine else None
        return plan

    def refusal(self, plan: FixPlan, confirmed: set[str] | None) -> str | None:
        """Why the plan may not run yet (None = it may): a disruptive fix needs every host typed."""
        if not plan.needs_typed_confirmation:
            return None
        missing = [h.name for h in plan.hosts if h.name not in (confirmed or set())]
        if missing:
            return (f"{plan.fix.id} is disruptive: type the host name to confirm "
                    f"({', '.join(missing)}); nothing was run")
        return None

    async def apply(self, plan: FixPlan, *, confirmed: set[str] | None = None, concurrency: int = 8,
                    cancel: threading.Event | None = None, stop_on_failure: bool = False,
                    accept_new_hostkeys: bool = False, endpoint_prompt: EndpointPrompt | None = None,
                    timeouts: Timeouts | None = None,
                    on_outcome: Callable[[FixOutcome], None] | None = None) -> list[FixOutcome]:
        problem = self.refusal(plan, confirmed)
        if problem:
            raise FixError(problem)
        svc = self.services
        cancel = cancel or threading.Event()
        endpoint_prompt = _ask_once(endpoint_prompt) if endpoint_prompt else None
        one_check = Bundle(name=plan.bundle.name, title=plan.bundle.title, os=plan.bundle.os,
                           version=plan.bundle.version, description="", checks=[plan.check],
                           source=plan.bundle.source)
        unchecked = [h for h in plan.hosts if plan.before.get(h.name) is None]
        unreached: dict[str, HostError] = {}
        if unchecked:  # no finding yet: check first, so there is a "before"
            report = await svc.runner.run(one_check, unchecked, concurrency=concurrency, cancel=cancel,
                                          accept_new_hostkeys=accept_new_hostkeys, endpoint_prompt=endpoint_prompt,
                                          timeouts=timeouts, trigger="fix")
            for r in report.results:
                if r.error is not None and r.error.kind in UNREACHED and not r.checks:
                    unreached[r.host] = r.error  # not dialled again for the fix: one wait, not two
                if r.checks:
                    plan.before[r.host] = Finding.of(r.checks[0].status.value, r.checks[0].summary,
                                                     r.error.kind if r.error else None)
        refused = {h.name: why for h in plan.hosts if (why := plan.refused(h.name))}
        allowed = [h for h in plan.hosts if h.name not in refused and h.name not in unreached]
        scripts = {h.name: plan.script(h.name) for h in allowed}
        sent = await svc.actions.execute(
            allowed, scripts, action="fix", detail=plan.describe(), root=plan.fix.root,
            timeout=plan.fix.timeout, concurrency=concurrency, cancel=cancel,
            stop_on_failure=stop_on_failure, accept_new_hostkeys=accept_new_hostkeys,
            endpoint_prompt=endpoint_prompt, timeouts=timeouts) if allowed else []
        by_host = {a.host: a for a in sent}
        actions = [by_host.get(h.name) or ActionResult(h.name, error=unreached.get(h.name)
                                                       or HostError("tampered", refused[h.name]))
                   for h in plan.hosts]
        ran = [h for h, a in zip(plan.hosts, actions, strict=True) if a.error is None]
        after: dict[str, CheckResult] = {}
        after_run = None
        if ran and not cancel.is_set():
            report = await svc.runner.run(one_check, ran, concurrency=concurrency, cancel=cancel,
                                          endpoint_prompt=endpoint_prompt, timeouts=timeouts, trigger="fix")
            after_run = report.run_id
            after = {r.host: r.checks[0] for r in report.results if r.checks}
        outcomes = []
        for host, action in zip(plan.hosts, actions, strict=True):
            outcome = FixOutcome(host.name, plan.before.get(host.name), after.get(host.name), action)
            if not action.skipped:
                outcome.note_id = self._record(plan, outcome, after_run)
            outcomes.append(outcome)
            if on_outcome is not None:
                on_outcome(outcome)
        return outcomes

    def _record(self, plan: FixPlan, outcome: FixOutcome, after_run: str | None) -> str:
        """A note on the host (joins the running visit at its client: "Work performed")."""
        title = f"{plan.check.title} on {outcome.line}"
        before = outcome.before
        lines = [f"**Fix:** {plan.describe()}",
                 f"**Before:** {before.word} — {before.summary}" if before else "**Before:** not checked"]
        if outcome.after is not None:
            lines.append(f"**After:** {outcome.after.status.word} — {outcome.after.summary}")
        elif outcome.action.error:
            lines.append(f"**Not applied:** {outcome.action.error.message}")
        if outcome.action.output.strip():
            lines += ["", "Output of the fix:", "", fenced(outcome.action.output.strip()[:4000])]
        runs = [after_run] if after_run and outcome.after is not None else []
        notes = self.services.notes
        note = notes.add(title, "\n".join(lines), host=outcome.host, runs=runs)
        if outcome.after is not None and outcome.after.status == Status.OK:
            note = notes.edit(note.id, status="resolved")  # fixed and proven: nothing left open
        return note.id

