"""A throwaway demo workspace: demo clients and hosts served by the embedded SSH server.

    env = DemoEnvironment.create()          # a temp dir; or create(Path("demo-ws"))
    services = Services(Workspace(env.workspace_path))
    ...
    env.close()                             # stops the server, removes the temp dir

The roster is filled through the real services, host keys are pinned in the
workspace's known_hosts (host-key checking stays on), and a month of nightly runs,
two notes and one visit are seeded so history, trends and reports have data.
"""

from __future__ import annotations

import getpass
import os
import random
import shutil
import tempfile
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import paramiko

from techdesk.core.findings import CheckResult, HostError, HostResult
from techdesk.core.perfdata import apply_thresholds, parse_output, strip_status_word
from techdesk.core.roster import HostSpec
from techdesk.core.severity import Status
from techdesk.core.work import billable
from techdesk.demo import personas
from techdesk.demo.server import DemoError, DemoServer, new_ed25519_key
from techdesk.resources import resource

TECHNICIAN = "Demo Technician"
SEED_DAYS = 30
# The login shell's PATH of a Debian machine reached over SSH; the stubs go first.
BASE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


@dataclass
class DemoEnvironment:
    workspace_path: Path
    server: DemoServer
    hosts: dict[str, int]          # demo host name -> port on 127.0.0.1
    client_key_path: Path
    owns_folder: bool = False

    @classmethod
    def create(cls, path: Path | None = None) -> DemoEnvironment:
        """Make the workspace (a temp dir unless `path`), start the server, fill the roster."""
        if os.name != "posix":
            raise DemoError("the demo runs its hosts' checks in /bin/sh: it works on Linux and "
                            "macOS only")
        owns = path is None
        if path is None:
            folder = Path(tempfile.mkdtemp(prefix="techdesk-demo-"))
        else:
            folder = Path(path).expanduser().resolve()
            if folder.exists() and any(folder.iterdir()):
                raise DemoError(f"{folder} is not empty: the demo needs a new or empty folder")
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        server = None
        try:
            demo = folder / "demo"
            user = getpass.getuser()
            client_key = _write_client_key(demo / "id_ed25519")
            envs = _prepare_hosts(demo, user)
            server = DemoServer(envs, client_key=client_key, user=user).start()
            env = cls(folder, server, dict(server.ports), demo / "id_ed25519", owns)
            env._fill(user)
            return env
        except BaseException:
            if server is not None:
                server.close()
            if owns:
                shutil.rmtree(folder, ignore_errors=True)
            raise

    def close(self) -> None:
        """Stop the server; remove the folder if create() made it. Idempotent."""
        self.server.close()
        if self.owns_folder:
            shutil.rmtree(self.workspace_path, ignore_errors=True)

    def __enter__(self) -> DemoEnvironment:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- filling the workspace ----------------------------------------------------------
    def _fill(self, user: str) -> None:
        from techdesk.services.context import Services
        from techdesk.workspace import Workspace

        ws = Workspace(self.workspace_path)
        ws.settings.technician = TECHNICIAN
        ws.settings.shared = None
        ws.save_settings()
        key = self.server.host_key
        lines = [f"[127.0.0.1]:{port} {key.get_name()} {key.get_base64()}\n"
                 for port in self.hosts.values()]
        fd = os.open(ws.known_hosts_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.writelines(lines)
        services = Services(ws)
        try:
            roster = services.roster
            for h in personas.HOSTS:
                roster.add(HostSpec(name=h.name, address="127.0.0.1", port=self.hosts[h.name],
                                    client=h.client, site=h.site, tags=list(h.tags), os="linux"))
            # Connection defaults on the clients, so the window shows them inherited.
            for client in dict.fromkeys(h.client for h in personas.HOSTS):
                roster.set_defaults(client, user=user, key=str(self.client_key_path))
            _seed(services, self.hosts)
        finally:
            services.close()


def _write_client_key(path: Path) -> paramiko.PKey:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key, pem = new_ed25519_key()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(pem)
    os.chmod(path, 0o600)
    path.with_name(path.name + ".pub").write_text(
        f"{key.get_name()} {key.get_base64()} techdesk-demo\n", encoding="ascii")
    return key


def _prepare_hosts(demo: Path, user: str) -> dict[str, dict[str, str] | None]:
    """The stub folder, each host's fake files, and each host's environment."""
    bin_dir = demo / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    stub = resource("demo", "stub.sh").read_bytes()
    for name in personas.STUB_COMMANDS:
        target = bin_dir / name
        target.write_bytes(stub)
        target.chmod(0o755)
    home = os.path.expanduser("~")
    envs: dict[str, dict[str, str] | None] = {}
    for h in personas.HOSTS:
        folder = demo / "hosts" / h.name
        personas.write_host_files(folder, h.state(0.0))
        envs[h.name] = None if h.unreachable else {
            "PATH": f"{bin_dir}{os.pathsep}{BASE_PATH}", "HOME": home, "USER": user,
            "LOGNAME": user, "SHELL": "/bin/sh", "LANG": "C.UTF-8",
            "TECHDESK_ROOT": str(folder / "root"), "TECHDESK_DEMO_REPLIES": str(folder / "replies"),
            "TECHDESK_DEMO_PATH": BASE_PATH, "TECHDESK_DEMO_HOST": h.name,
        }
    return envs


# -- seeded history ---------------------------------------------------------------------------

def _iso(ts: datetime) -> str:
    return ts.astimezone(UTC).isoformat(timespec="seconds")


def _host_result(h: personas.DemoHost, days_ago: float, rng: random.Random, checks) -> HostResult:
    lines = personas.check_lines(h.state(days_ago, rng))
    result = HostResult(host=h.name)
    for check in checks:
        if check.id not in lines:
            continue
        text, code = lines[check.id]
        first, metrics = parse_output(text)
        status = apply_thresholds(Status.from_exit_code(code), metrics, check.thresholds)
        result.checks.append(CheckResult(
            id=check.id, title=check.title, status=status, summary=strip_status_word(first),
            exit_code=code, duration_s=round(rng.uniform(0.004, 0.09), 3), metrics=metrics,
            output=text))
    result.duration_s = round(0.35 + sum(c.duration_s for c in result.checks), 3)
    return result


def _store_run(conn, bundle, started: datetime, trigger: str, results: list[tuple]) -> str:
    from techdesk.store import runs as runs_repo
    from techdesk.store.db import transaction

    run_id = uuid.uuid4().hex[:12]
    runs_repo.create_run(conn, run_id, bundle.name, bundle.version, TECHNICIAN, _iso(started),
                         trigger)
    took = 0.0
    for offset, result in results:
        runs_repo.save_host_result(conn, run_id, result, _iso(started + timedelta(seconds=offset)))
        took = max(took, offset + result.duration_s)
    with transaction(conn):
        conn.execute("UPDATE runs SET finished = ? WHERE id = ?",
                     (_iso(started + timedelta(seconds=took + 1)), run_id))
    return run_id


def _seed(services, ports: dict[str, int]) -> None:
    """A nightly linux-health sweep for the last 30 days, a visit at Acme HQ a week ago with
    two manual runs and a note, and a note at the practice."""
    from techdesk.store import work as work_repo

    bundle = services.bundles.get("linux-health")
    conn = services.conn
    rngs = {h.name: random.Random(f"techdesk-demo-{h.name}") for h in personas.HOSTS}
    midnight = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    for days_ago in range(SEED_DAYS, 0, -1):
        started = midnight - timedelta(days=days_ago, minutes=-120 - rngs["acme-fs01"].randint(0, 9))
        results = []
        for i, h in enumerate(personas.HOSTS):
            rng = rngs[h.name]
            if h.unreachable and days_ago <= 3:  # switched off since the weekend
                result = HostResult(host=h.name, duration_s=0.002, error=HostError(
                    "unreachable", f"connection refused by 127.0.0.1:{ports[h.name]}"))
            else:
                result = _host_result(h, days_ago - 0.08, rng, bundle.checks)
            results.append((i * 0.4, result))
        _store_run(conn, bundle, started, "schedule", results)
        _record_alerts(conn, [r for _, r in results], started)

    # The visit a week ago: the technician checked the file and DB servers by hand.
    visit_start = midnight - timedelta(days=7, hours=-9, minutes=-12)
    manual = {}
    for offset_min, name in ((14, "acme-fs01"), (31, "acme-db01")):
        h = personas.host(name)
        result = _host_result(h, 7 - 9.4 / 24, rngs[name], bundle.checks)
        manual[name] = _store_run(conn, bundle, visit_start + timedelta(minutes=offset_min),
                                  "manual", [(0.0, result)])
    visits, notes = services.visits, services.notes
    visit = visits.start("Acme Logistics", "HQ")
    note_fs = notes.add(
        "/srv on acme-fs01 fills up: ~0.8 % a day",
        "The scans share (`/srv/scans`) grows by about 30 GB a day since the new scanner "
        "went live.\n\n- Old scans 2019–2021 could go to the archive NAS\n"
        "- Otherwise order 2 × 8 TB disks before the end of the month",
        host="acme-fs01", runs=[manual["acme-fs01"]],
        followups=["Ask Ms. Brandt (Acme office) whether 2019–2021 scans may be archived",
                   "Quote for 2 × 8 TB disks"])
    note_db = notes.add(
        "acme-db01 swaps at night", "PostgreSQL `shared_buffers` is 24 GB on a 32 GB machine; "
        "the backup job then pushes it into swap. Lower to 8 GB at the next maintenance window.",
        host="acme-db01", runs=[manual["acme-db01"]])
    visit = visits.stop(visit.id, summary="Quarterly check at HQ. File server space and DB "
                                          "memory discussed with the office manager; see notes.")
    # Move the visit and its notes to where they happened: a week ago, 2 h 40 min on site.
    visit.started, visit.stopped = _iso(visit_start), _iso(visit_start + timedelta(minutes=160))
    visit.billable_minutes = billable(visit.minutes_on_site(), services.workspace.settings.billing_round_minutes)
    visit.runs = list(manual.values())
    visit.hosts = list(manual)
    for i, item in enumerate(visit.checklist):
        item.done = i < 3
    work_repo.save_visit(conn, visit)
    for minutes, note in ((40, note_fs), (55, note_db)):
        note.created = note.updated = _iso(visit_start + timedelta(minutes=minutes))
        work_repo.save_note(conn, note)
    _seed_care_story(services, bundle, rngs, midnight)
    note_pc = notes.add(
        "New reception PC set up", "Replaced the old reception PC. Printer and the practice "
        "software's client installed; backup of the old disk is in the practice safe.",
        client="Praxis Dr. Weiß")
    note_pc.status = "resolved"
    note_pc.created = note_pc.updated = _iso(midnight - timedelta(days=12, hours=-15))
    work_repo.save_note(conn, note_pc)



def _record_alerts(conn, results: list[HostResult], when: datetime) -> None:
    """Alerts from a seeded sweep, by the same rules as a real one (core/alerts.py)."""
    from techdesk.core import alerts
    from techdesk.store import monitor as repo

    states = repo.alert_states(conn, [r.host for r in results])
    observed = [o for r in results for o in alerts.observations(r)]
    new, events = alerts.evaluate_all(states, observed, alerts.AlertConfig(), when)
    repo.save_alerts(conn, {k: v for k, v in new.items() if states.get(k) != v}, events, _iso(when))


def _seed_care_story(services, bundle, rngs, midnight: datetime) -> None:
    """What the care report and the briefing show: a visit LOG_CLEANUP_DAYS_AGO days ago
    where /var/log of acme-web01 (filling for ten days, a warning, about a day from full)
    was cleaned up — a fix note keeping the run before and after — and notes pinned
    "know before you go"."""
    from techdesk.store import work as work_repo

    conn = services.conn
    web = personas.host("acme-web01")
    start = midnight - timedelta(days=15, hours=-9)  # the cleanup is at LOG_CLEANUP_DAYS_AGO, 9:45
    runs = {}
    for minutes, when in ((12, "before"), (48, "after")):
        at = start + timedelta(minutes=minutes)
        result = _host_result(web, (midnight - at) / timedelta(days=1), rngs[web.name], bundle.checks)
        runs[when] = _store_run(conn, bundle, at, "manual", [(0.0, result)])
    visit = services.visits.start("Acme Logistics", "HQ")
    fix = services.notes.add(
        "Cleaned up /var/log on acme-web01",
        "nginx had been left at `debug` log level since the last certificate change: /var/log grew "
        "by ~0.5 GB a day and would have been full within a day, stopping the web shop.\n\n"
        "- Set `error_log` back to `warn`, compressed and rotated the old logs\n"
        "- logrotate now keeps 14 days, compressed",
        host=web.name, runs=[runs["before"], runs["after"]], visit_id=visit.id)
    visit = services.visits.stop(visit.id, summary="Web server log volume cleaned up before it filled; "
                                                   "backups and UPS checked.")
    visit.started, visit.stopped = _iso(start), _iso(start + timedelta(minutes=75))
    visit.billable_minutes = billable(visit.minutes_on_site(), services.workspace.settings.billing_round_minutes)
    visit.runs, visit.hosts = list(runs.values()), [web.name]
    for item in visit.checklist:
        item.done = True
    work_repo.save_visit(conn, visit)
    fix.created = fix.updated = _iso(start + timedelta(minutes=45))
    fix.status = "resolved"
    work_repo.save_note(conn, fix)
    for title, body, target, days_ago in (
            ("Server room: key and alarm", "The server room key is with Ms. Brandt at reception. "
             "Alarm code is in the team's password manager (entry *Acme HQ alarm*). Sign the visitor "
             "book.", {"client": "Acme Logistics", "site": "HQ"}, 40),
            ("Never restart lager-nas during warehouse hours", "The hand scanners write to it "
             "from 6:00 to 20:00; a restart loses the open picking lists. Plan restarts after 20:00.",
             {"host": "lager-nas"}, 35)):
        note = services.notes.add(title, body, pinned=True, **target)
        note.created = note.updated = _iso(midnight - timedelta(days=days_ago, hours=-11))
        work_repo.save_note(conn, note)
