"""The demo hosts: who they are, what their machines look like, what a run should find.

A persona is a function of "days ago" that returns the State of a Debian machine at
that time. From the State we write (a) the files a demo host's checks read (a fake
/proc, /run, /var, /boot, /etc under TECHDESK_ROOT) and the canned replies of the
stub commands (df, systemctl, ss, ...), so the REAL bundle scripts run against it,
and (b) for the seeded history only, the plugin output lines those scripts would
print (`check_lines`), parsed by the same perfdata code as a live run.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from techdesk.core.severity import Status
from techdesk.demo import slowburn

STUB_COMMANDS = ("df", "systemctl", "timedatectl", "journalctl", "ss", "netstat", "apt", "apt-get",
                 "uname", "getconf", "chronyc", "ntpq", "dmesg", "lastb", "needs-restarting",
                 "dnf", "yum", "hostname", "sudo", "openssl", "smartctl")
HEALTHY_HOST = "praxis-empfang"
UNREACHABLE_HOST = "lager-pc02"
DAY = 86400


@dataclass(frozen=True)
class Mount:
    path: str
    device: str
    fstype: str
    size_gb: float
    used_pct: int
    inodes: int = 0          # 0: no fixed inode table (vfat, btrfs)
    inode_pct: int = 0


@dataclass
class State:
    """One demo machine at one moment."""

    hostname: str
    mounts: list[Mount]
    cores: int = 4
    load: tuple[float, float, float] = (0.21, 0.18, 0.15)
    mem_total_mb: int = 8192
    mem_used_pct: float = 35.0
    swap_total_mb: int = 2048
    swap_used_pct: float = 0.4
    failed_units: list[tuple[str, str]] = field(default_factory=list)
    reboot_pkgs: list[str] | None = None
    kernel: str = "6.1.0-21-amd64"
    kernels_installed: list[str] = field(default_factory=list)
    debian: str = "12.5"
    codename: str = "bookworm"
    updates: list[tuple[str, str, str, str]] = field(default_factory=list)  # pkg, suite, new, old
    lists_age_days: float = 0.3
    clock_synced: bool = True
    kernel_errors: list[str] = field(default_factory=list)
    tcp: list[int] = field(default_factory=lambda: [22])
    udp: list[int] = field(default_factory=list)
    failed_logins: int = 0
    uptime_s: int = 20 * DAY
    # Slow burners (demo/slowburn.py): certificates (path, days left), /proc/mdstat,
    # SMART per disk (healthy, reallocated, pending), backup dirs (path, age of newest in hours).
    certs: list[tuple[str, float]] = field(default_factory=list)
    mdstat: str | None = None
    smart: dict[str, tuple[bool, int, int]] = field(default_factory=dict)
    backups: list[tuple[str, float]] = field(default_factory=list)


@dataclass(frozen=True)
class DemoHost:
    name: str
    client: str
    site: str | None
    tags: tuple[str, ...]
    persona: str          # key of PERSONAS
    role: str             # one line for docs and the demo output
    designed: dict[str, Status]   # linux-health check id -> status; every other check OK
    unreachable: bool = False

    def state(self, days_ago: float = 0.0, rng: random.Random | None = None) -> State:
        return PERSONAS[self.persona](self.name, days_ago, rng)


# -- personas ------------------------------------------------------------------------------

def _noise(rng: random.Random | None, spread: float) -> float:
    return rng.uniform(-spread, spread) if rng else 0.0


def _loads(rng: random.Random | None, base: float, cores: int) -> tuple[float, float, float]:
    l5 = max(0.01, base * cores * (1 + _noise(rng, 0.35)))
    return (round(l5 * (1 + _noise(rng, 0.3)), 2), round(l5, 2), round(l5 * 0.9, 2))


def _logins(rng: random.Random | None, today: int, spread: int) -> int:
    return max(0, today + int(_noise(rng, spread)))


_SEC = "security"


def fileserver(name: str, d: float, rng: random.Random | None) -> State:
    # /srv fills up by ~0.8 % a day: 70 % a month ago, 94 % today.
    srv = min(99, round(94 - 0.8 * d + _noise(rng, 0.4)))
    inodes = min(99, round(86 - 0.55 * d + _noise(rng, 0.3)))
    return State(
        name, cores=4, load=_loads(rng, 0.1, 4), mem_total_mb=16384,
        mem_used_pct=41 + _noise(rng, 4), swap_total_mb=4096, swap_used_pct=1.2,
        mounts=[Mount("/", "/dev/sda1", "ext4", 30, round(38 + _noise(rng, 1)), 1966080, 12),
                Mount("/srv", "/dev/sdb1", "ext4", 3726, srv, 244191232, inodes),
                Mount("/run", "tmpfs", "tmpfs", 1.6, 1, 2041856, 1)],
        updates=[("tzdata", "bookworm-updates", "2024a-0+deb12u1", "2023c-5+deb12u1"),
                 ("samba", "bookworm", "2:4.17.12+dfsg-0+deb12u1", "2:4.17.10+dfsg-0+deb12u1"),
                 ("samba-common", "bookworm", "2:4.17.12+dfsg-0+deb12u1", "2:4.17.10+dfsg-0+deb12u1")],
        tcp=[22, 139, 445, 2049], udp=[137, 138], failed_logins=_logins(rng, 2, 2),
        uptime_s=int((63 - d) * DAY) + 4711,
        # the nightly backup to /srv/backup ran at 01:00
        backups=[("/srv/backup", 7.0 + (d % 1) * 24)])


LOG_CLEANUP_DAYS_AGO = 14.6  # the care report's "caught before an outage" story (demo/workspace.py)


def _web_logs(d: float) -> float:
    """/var/log of the web server: a debug log level left on filled it from 27 days ago
    until the cleanup LOG_CLEANUP_DAYS_AGO days ago (a warning, never critical)."""
    if LOG_CLEANUP_DAYS_AGO <= d < 27:
        return 29 + (27 - d) * 4.8
    return 33 - 0.3 * d


def webserver(name: str, d: float, rng: random.Random | None) -> State:
    # nginx failed yesterday (its certificate renewal hook broke the config); the
    # OpenSSL security update came out six days ago and is still not installed.
    nginx_down = d < 1.5
    updates = [("tzdata", "bookworm-updates", "2024a-0+deb12u1", "2023c-5+deb12u1")]
    if d < 6.5:
        updates = [("libssl3", "bookworm-security", "3.0.13-1~deb12u1", "3.0.11-1~deb12u2"),
                   ("nginx", "bookworm-security", "1.22.1-9+deb12u1", "1.22.1-9"),
                   ("openssl", "bookworm-security", "3.0.13-1~deb12u1", "3.0.11-1~deb12u2"),
                   *updates]
    return State(
        name, cores=2, load=_loads(rng, 0.04 if nginx_down else 0.2, 2), mem_total_mb=4096,
        mem_used_pct=(28 if nginx_down else 47) + _noise(rng, 3), swap_total_mb=1024,
        swap_used_pct=0.0,
        mounts=[Mount("/", "/dev/vda1", "ext4", 40, round(52 + _noise(rng, 1)), 2621440, 9),
                Mount("/var/log", "/dev/vdb1", "ext4", 10, round(_web_logs(d) + _noise(rng, 1)),
                      655360, 3),
                Mount("/run", "tmpfs", "tmpfs", 0.4, 1, 500000, 1)],
        failed_units=[("nginx.service", "A high performance web server and a reverse proxy server")]
        if nginx_down else [],
        updates=updates, tcp=[22, 25] if nginx_down else [22, 25, 80, 443],
        failed_logins=_logins(rng, 57, 30), uptime_s=int((118 - d) * DAY) + 815,
        # The shop's bought certificate runs out in 12 days; Let's Encrypt renews the
        # www one every 60 days at 30 days left (a sawtooth the forecast knows as a cycle).
        certs=[("/etc/ssl/acme-shop.pem", 12 + d),
               ("/etc/letsencrypt/live/www.acme.example/cert.pem", 30 + (37 + d) % 60)])


def workstation(name: str, d: float, rng: random.Random | None) -> State:
    small = "kasse" in name
    return State(
        name, cores=2 if small else 4, load=_loads(rng, 0.08, 2 if small else 4),
        mem_total_mb=4096 if small else 8192, mem_used_pct=(52 if small else 46) + _noise(rng, 5),
        swap_total_mb=2048, swap_used_pct=0.0,
        mounts=[Mount("/", "/dev/nvme0n1p2", "ext4", 120 if small else 250,
                      round((33 if small else 41) - 0.05 * d + _noise(rng, 0.5)), 15597568, 14),
                Mount("/boot/efi", "/dev/nvme0n1p1", "vfat", 0.5, 2),
                Mount("/run", "tmpfs", "tmpfs", 0.8, 1, 1000000, 1)],
        updates=[("libreoffice-core", "bookworm-updates", "4:7.4.7-1+deb12u3", "4:7.4.7-1+deb12u2"),
                 ("libreoffice-common", "bookworm-updates", "4:7.4.7-1+deb12u3",
                  "4:7.4.7-1+deb12u2")],
        tcp=[22, 631], udp=[631, 5353], failed_logins=0,
        # Switched off every other weekend or so: a short uptime.
        uptime_s=int(((6 - d) % 13) * DAY) + 3 * 3600 + 1020)


def dbserver(name: str, d: float, rng: random.Random | None) -> State:
    # PostgreSQL got more shared_buffers than the box has: memory high and noisy,
    # swap creeping up over the month.
    mem = 92.4 if rng is None else min(94.6, max(85.0, 90.8 + rng.gauss(0, 1.6)))
    return State(
        name, cores=8, load=_loads(rng, 0.42, 8), mem_total_mb=32768, mem_used_pct=mem,
        swap_total_mb=8192, swap_used_pct=min(94.0, max(0.0, 85 - 1.0 * d + _noise(rng, 2))),
        mounts=[Mount("/", "/dev/sda1", "ext4", 40, round(47 + _noise(rng, 1)), 2621440, 11),
                Mount("/var/lib/postgresql", "/dev/sdb1", "xfs", 500,
                      round(71 - 0.15 * d + _noise(rng, 0.5)), 262144000, 1),
                Mount("/run", "tmpfs", "tmpfs", 3.2, 1, 4000000, 1)],
        tcp=[22, 5432], failed_logins=_logins(rng, 1, 1), uptime_s=int((212 - d) * DAY) + 90)


def mailserver(name: str, d: float, rng: random.Random | None) -> State:
    # The glibc and kernel security updates went in twelve days ago: reboot pending since.
    pending = d < 12.5
    return State(
        name, cores=2, load=_loads(rng, 0.06, 2), mem_total_mb=4096,
        mem_used_pct=61 + _noise(rng, 4), swap_total_mb=1024, swap_used_pct=3.1,
        mounts=[Mount("/", "/dev/vda1", "ext4", 30, round(44 + _noise(rng, 1)), 1966080, 10),
                Mount("/var/mail", "/dev/vdb1", "ext4", 200, round(58 - 0.1 * d + _noise(rng, 0.5)),
                      13107200, 22),
                Mount("/run", "tmpfs", "tmpfs", 0.4, 1, 500000, 1)],
        reboot_pkgs=["linux-image-6.1.0-22-amd64", "libc6"] if pending else None,
        kernels_installed=["6.1.0-21-amd64", "6.1.0-22-amd64"] if pending else ["6.1.0-21-amd64"],
        tcp=[22, 25, 143, 465, 587, 993], failed_logins=_logins(rng, 84, 12),
        uptime_s=int((47 - d) * DAY) + 5000,
        certs=[("/etc/postfix/mail.acme.example.pem", 203 + d)],
        # the mailbox backup job has not run since yesterday morning
        backups=[("/var/backups/mail", 31.0 + (d % 1) * 24)])


def nas(name: str, d: float, rng: random.Random | None) -> State:
    # An old Debian 10 based NAS: timesyncd lost its server, and the data disk has
    # started to log ATA errors nine days ago (one more every couple of days).
    errors = [] if d > 9 else [
        f"ata2.00: failed command: READ FPDMA QUEUED (#{i + 1})" for i in range(1 + int((9 - d) // 3))]
    return State(
        name, cores=2, load=_loads(rng, 0.29, 2), mem_total_mb=2048,
        mem_used_pct=38 + _noise(rng, 3), swap_total_mb=1024, swap_used_pct=7,
        mounts=[Mount("/", "/dev/sda1", "ext4", 16, 61, 1048576, 18),
                Mount("/srv/dev-disk-by-label-data", "/dev/md0", "ext4", 3700,
                      round(77 - 0.1 * d + _noise(rng, 0.3)), 243187712, 4),
                Mount("/run", "tmpfs", "tmpfs", 0.2, 2, 250000, 1)],
        kernel="4.19.0-26-amd64", debian="10.13", codename="buster",
        updates=[(p, "buster", "new", "old") for p in
                 ("base-files", "bash", "curl", "dpkg", "e2fsprogs", "libcurl4", "libgnutls30",
                  "libsystemd0", "mdadm", "openssh-client", "openssh-server", "rsync", "samba",
                  "systemd")],
        lists_age_days=63 + d, clock_synced=False, kernel_errors=errors,
        tcp=[22, 80, 139, 445, 2049], udp=[137, 138], failed_logins=_logins(rng, 0, 1),
        uptime_s=int((301 - d) * DAY) + 60,
        # sdb, the disk logging ATA errors, grows reallocated sectors; md0 dropped it 4 days ago
        mdstat=_mdstat(degraded=d < 4),
        smart={"sda": (True, 0, 0), "sdb": (True, 0 if d > 9 else 8 + 3 * int(9 - d), 0 if d > 9 else 2)})


def _mdstat(degraded: bool) -> str:
    members, state = ("sdb1[1](F) sda1[0]", "[2/1] [U_]") if degraded else ("sdb1[1] sda1[0]", "[2/2] [UU]")
    return (f"Personalities : [raid1]\nmd0 : active raid1 {members}\n"
            f"      3906886464 blocks super 1.2 {state}\n      bitmap: 2/30 pages [8KB], 65536KB chunk\n\n"
            "unused devices: <none>\n")


PERSONAS: dict[str, Callable[[str, float, random.Random | None], State]] = {
    "fileserver": fileserver, "webserver": webserver, "workstation": workstation,
    "dbserver": dbserver, "mailserver": mailserver, "nas": nas,
}

W, C = Status.WARN, Status.CRIT
HOSTS: tuple[DemoHost, ...] = (
    DemoHost("acme-fs01", "Acme Logistics", "HQ", ("files", "server"), "fileserver",
             "file server, /srv nearly full", {"disk": C, "inodes": W}),
    DemoHost("acme-web01", "Acme Logistics", "HQ", ("dmz", "server", "web"), "webserver",
             "web server, nginx.service failed, security updates pending, certificate expiring",
             {"failed_units": W, "updates": W, "tls_certs": W}),
    DemoHost("acme-db01", "Acme Logistics", "HQ", ("db", "server"), "dbserver",
             "database server, memory and swap high", {"memory": W, "swap": W}),
    DemoHost("acme-mail", "Acme Logistics", "HQ", ("mail", "server"), "mailserver",
             "mail server, reboot required, mailbox backup a day old", {"reboot": W, "backup": W}),
    DemoHost("lager-nas", "Acme Logistics", "Warehouse", ("nas", "storage"), "nas",
             "old NAS, clock not synchronised, disk errors, RAID degraded",
             {"clock": W, "kernel_errors": W, "raid": C, "smart": W}),
    DemoHost(UNREACHABLE_HOST, "Acme Logistics", "Warehouse", ("workstation",), "workstation",
             "warehouse PC, switched off (unreachable)", {}, unreachable=True),
    DemoHost("sued-kasse1", "Bäckerei Müller", "Filiale Süd", ("pos", "workstation"),
             "workstation", "till PC, healthy", {}),
    DemoHost(HEALTHY_HOST, "Praxis Dr. Weiß", None, ("workstation",), "workstation",
             "reception PC, healthy", {}),
)


def host(name: str) -> DemoHost:
    return next(h for h in HOSTS if h.name == name)


# -- what the stubs and the fake root hold ----------------------------------------------------

def write_host_files(folder: Path, state: State, now: float | None = None) -> None:
    """Write `folder`/root (TECHDESK_ROOT) and `folder`/replies for one host."""
    now = time.time() if now is None else now
    files = dict(_root_files(state))
    files.update(slowburn.root_files(state))
    files.update({f"replies/{k}": v for k, v in _replies(state).items()})
    files.update({f"replies/{k}": v for k, v in slowburn.replies(state, now).items()})
    for rel, text in files.items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    (folder / "root/run/systemd/system").mkdir(parents=True, exist_ok=True)
    _old_temp_files(folder, state, now)
    lists = folder / "root/var/lib/apt/lists"
    age = now - state.lists_age_days * DAY
    for entry in lists.iterdir():
        os.utime(entry, (age, age))
    for rel, hours in slowburn.backup_files(state):
        os.utime(folder / rel, (now - hours * 3600, now - hours * 3600))


def _old_temp_files(folder: Path, s: State, now: float) -> None:
    """A nearly full /srv gets old files in /srv/tmp, for the clean-temp fix to remove;
    once they are gone, df answers with /srv 30 points emptier (replies/df-cleaned)."""
    srv = next((m for m in s.mounts if m.path == "/srv" and m.used_pct >= 80), None)
    if srv is None:
        return
    tmp = folder / "root/srv/tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    old = now - 40 * DAY
    for i in range(6):
        path = tmp / f"scan-{i:03d}.tmp"
        path.write_text("old scanner output\n", encoding="utf-8")
        os.utime(path, (old, old))
    cleaned = [m if m is not srv else Mount(m.path, m.device, m.fstype, m.size_gb, m.used_pct - 30,
                                            m.inodes, m.inode_pct) for m in s.mounts]
    (folder / "replies/df-cleaned").write_text(_df(State(s.hostname, cleaned), False), encoding="utf-8")


def _root_files(s: State) -> dict[str, str]:
    total, swap = s.mem_total_mb * 1024, s.swap_total_mb * 1024
    avail = int(total * (100 - s.mem_used_pct) / 100)
    swap_free = int(swap * (100 - s.swap_used_pct) / 100)
    meminfo = "".join(f"{k + ':':<16}{v:>8} kB\n" for k, v in (
        ("MemTotal", total), ("MemFree", avail // 3), ("MemAvailable", avail),
        ("Buffers", total // 60), ("Cached", avail // 2), ("SwapCached", (swap - swap_free) // 20),
        ("Active", total // 3), ("Inactive", total // 4), ("SwapTotal", swap),
        ("SwapFree", swap_free), ("Dirty", 112), ("Shmem", total // 90),
        ("SReclaimable", total // 50), ("SUnreclaim", total // 200)))
    mounts = "".join(f"{m.device} {m.path} {m.fstype} rw,relatime 0 0\n" for m in s.mounts)
    mounts += "proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0\n"
    mounts += "sysfs /sys sysfs rw,nosuid,nodev,noexec,relatime 0 0\n"
    apt = f"var/lib/apt/lists/deb.debian.org_debian_dists_{s.codename}"
    files = {
        "root/proc/loadavg": "{:.2f} {:.2f} {:.2f} 1/312 31337\n".format(*s.load),
        "root/proc/meminfo": meminfo,
        "root/proc/mounts": mounts,
        "root/proc/uptime": f"{s.uptime_s}.42 {s.uptime_s * s.cores * 0.93:.2f}\n",
        "root/proc/cpuinfo": "".join(f"processor\t: {i}\n\n" for i in range(s.cores)),
        "root/etc/debian_version": s.debian + "\n",
        "root/etc/hostname": s.hostname + "\n",
        "root/etc/os-release": f'PRETTY_NAME="Debian GNU/Linux {s.debian.split(".")[0]} '
                               f'({s.codename})"\nNAME="Debian GNU/Linux"\nID=debian\n',
        f"root/{apt}_InRelease": "",
        f"root/{apt}_main_binary-amd64_Packages": "",
    }
    for kernel in s.kernels_installed or [s.kernel]:
        files[f"root/boot/vmlinuz-{kernel}"] = ""
    if s.reboot_pkgs is not None:
        files["root/var/run/reboot-required"] = "*** System restart required ***\n"
        files["root/var/run/reboot-required.pkgs"] = "".join(p + "\n" for p in s.reboot_pkgs)
    return files


def _df(s: State, inodes: bool) -> str:
    if inodes:
        out = "Filesystem       Inodes    IUsed     IFree IUse% Mounted on\n"
        for m in s.mounts:
            used = m.inodes * m.inode_pct // 100
            pct = f"{m.inode_pct}%" if m.inodes else "-"
            out += f"{m.device:<14} {m.inodes:>9} {used:>8} {m.inodes - used:>9} {pct:>5} {m.path}\n"
        return out
    out = "Filesystem     1024-blocks       Used  Available Capacity Mounted on\n"
    for m in s.mounts:
        size = int(m.size_gb * 1048576)
        used = size * m.used_pct // 100
        out += f"{m.device:<14} {size:>11} {used:>10} {size - used:>10} {m.used_pct:>7}% {m.path}\n"
    return out


def _ss(ports: list[int], proto: str) -> str:
    state = "LISTEN" if proto == "tcp" else "UNCONN"
    out = "State  Recv-Q Send-Q Local Address:Port  Peer Address:PortProcess\n"
    for p in ports:
        out += f"{state} 0      128          0.0.0.0:{p}        0.0.0.0:*\n"
        out += f"{state} 0      128             [::]:{p}           [::]:*\n"
    return out


def _replies(s: State) -> dict[str, str]:
    stamp = time.strftime("%b %d %H:%M:%S", time.localtime(time.time() - 5 * 3600))
    units = "".join(f"{u} loaded failed failed {desc}\n" for u, desc in s.failed_units)
    return {
        "df": _df(s, False), "df-i": _df(s, True),
        "systemctl-failed": units,
        "timedatectl-show": "yes\n" if s.clock_synced else "no\n",
        "journalctl-kernel": "".join(f"{stamp} {s.hostname} kernel: {e}\n" for e in s.kernel_errors),
        "journalctl": "".join(f"Failed password for invalid user admin from 203.0.113.{i % 250 + 1}"
                              f" port {40000 + i} ssh2\n" for i in range(s.failed_logins)),
        "ss-tcp": _ss(s.tcp, "tcp"), "ss-udp": _ss(s.udp, "udp"),
        "apt-list": "Listing...\n" + "".join(f"{p}/{suite} {new} amd64 [upgradable from: {old}]\n"
                                             for p, suite, new, old in s.updates),
        "uname-r": s.kernel + "\n", "uname-n": s.hostname + "\n", "hostname": s.hostname + "\n",
        "getconf-_NPROCESSORS_ONLN": f"{s.cores}\n",
    }


# -- what the checks print (for the seeded history) --------------------------------------------

def _word(value: float, warn: float, crit: float) -> tuple[str, int]:
    if value >= crit:
        return "CRITICAL", 2
    return ("WARNING", 1) if value >= warn else ("OK", 0)


def check_lines(s: State) -> dict[str, tuple[str, int]]:
    """linux-health check id -> (output, exit code) as its script prints them for `s`."""
    out: dict[str, tuple[str, int]] = {}
    l1, l5, l15 = s.load
    p = l5 / s.cores
    w, rc = _word(p, 1.5, 3)
    out["load"] = (f"{w} - load {l1:.2f} {l5:.2f} {l15:.2f} on {s.cores} cores ({p:.2f} per core "
                   f"over 5 min)|load_per_core={p:.2f};1.5;3;0 load1={l1:.2f};;;0 load5={l5:.2f};;;0 "
                   f"load15={l15:.2f};;;0 cores={s.cores};;;0", rc)
    t = s.mem_total_mb * 1024
    a = int(t * (100 - s.mem_used_pct) / 100)
    used = (t - a) * 100 / t
    w, rc = _word(used, 90, 95)
    out["memory"] = (f"{w} - memory {used:.1f}% used, {a / 1048576:.1f} GiB of {t / 1048576:.1f} GiB "
                     f"available|mem_used={used:.1f}%;90;95;0;100 mem_available={a // 1024}MB;;;0;"
                     f"{t // 1024}", rc)
    t = s.swap_total_mb * 1024
    f = int(t * (100 - s.swap_used_pct) / 100)
    used = (t - f) * 100 / t if t else 0.0
    w, rc = _word(used, 80, 95)
    out["swap"] = (f"{w} - swap {used:.1f}% used ({(t - f) // 1024} MiB of {t // 1024} MiB)|"
                   f"swap_used={used:.1f}%;80;95;0;100 swap_used_mb={(t - f) // 1024}MB;;;0;{t // 1024}",
                   rc) if t else ("OK - no swap configured|swap_used=0%;80;95;0;100", 0)
    real = [m for m in s.mounts if m.fstype != "tmpfs"]
    for check, key, what in (("disk", "used_pct", "used"), ("inodes", "inode_pct", "of inodes used")):
        ms = [m for m in real if check == "disk" or m.inodes]
        worst = max(ms, key=lambda m, k=key: getattr(m, k))  # the first of equals, like awk
        pct = getattr(worst, key)
        w, rc = _word(pct, 80, 90)
        perf = " ".join(f"'{m.path}'={getattr(m, key)}%;80;90;0;100" for m in ms)
        of = f" (worst of {len(ms)} filesystems)" if len(ms) > 1 else ""
        if check == "disk":
            size = int(worst.size_gb * 1048576)
            free = (size - size * pct // 100) / 1048576
            out[check] = (f"{w} - {worst.path} {pct}% used, {free:.1f} GiB free{of}|{perf}", rc)
        else:
            out[check] = (f"{w} - {worst.path} {pct}% {what}{of}|{perf}", rc)
    if s.failed_units:
        names = " ".join(u for u, _ in s.failed_units)
        body = "".join(f"\n{u} loaded failed failed {d}" for u, d in s.failed_units)
        out["failed_units"] = (f"WARNING - {len(s.failed_units)} failed: {names} |failed_units="
                               f"{len(s.failed_units)};1;;0{body}", 1)
    else:
        out["failed_units"] = ("OK - no failed units|failed_units=0;1;;0", 0)
    if s.reboot_pkgs is not None:
        out["reboot"] = (f"WARNING - reboot required by: {' '.join(sorted(set(s.reboot_pkgs)))} ", 1)
    else:
        out["reboot"] = (f"OK - no reboot required, running the newest installed kernel {s.kernel}", 0)
    total, sec = len(s.updates), sum(_SEC in suite for _, suite, _, _ in s.updates)
    age = " (package lists older than 7 days)" if s.lists_age_days >= 7 else ""
    if sec:
        out["updates"] = (f"WARNING - {total} updates pending, {sec} of them security{age}|"
                          f"updates={total};;;0 security_updates={sec};1;;0", 1)
    else:
        out["updates"] = (f"OK - {total} updates pending, none for security{age}|updates={total};;;0 "
                          "security_updates=0;1;;0", 0)
    out["clock"] = ("OK - clock synchronised (timedatectl)", 0) if s.clock_synced else (
        "WARNING - clock not synchronised (timedatectl): is NTP/timesyncd running?", 1)
    n = len(s.kernel_errors)
    out["kernel_errors"] = (
        f"WARNING - {n} kernel errors (journal, last 24 h), last: {s.hostname} kernel: "
        f"{s.kernel_errors[-1]}|kernel_errors={n};1;;0", 1) if n else (
        "OK - no kernel errors (journal, last 24 h)|kernel_errors=0;1;;0", 0)

    def listing(ports: list[int]) -> str:
        return ", ".join(str(p) for p in sorted(ports)[:25]) or "none"

    out["listening"] = (f"OK - TCP {len(s.tcp)}: {listing(s.tcp)}; UDP {len(s.udp)}: {listing(s.udp)} "
                        f"(ss)|tcp_listening={len(s.tcp)};;;0 udp_listening={len(s.udp)};;;0", 0)
    w, rc = ("WARNING", 1) if s.failed_logins >= 100 else ("OK", 0)
    out["failed_logins"] = (f"{w} - {s.failed_logins} failed logins (journal, last 24 h)|"
                            f"failed_logins={s.failed_logins};100;;0", rc)
    up = s.uptime_s
    out["uptime"] = (f"OK - up {up // DAY} days, {up % DAY // 3600} h {up % 3600 // 60} min|"
                     f"uptime={up}s;;;0", 0)
    out.update(slowburn.check_lines(s))
    return out


def designed_statuses(h: DemoHost, check_ids: list[str]) -> dict[str, Status]:
    """The status each check of a live linux-health run is designed to have."""
    return {cid: h.designed.get(cid, Status.OK) for cid in check_ids}

