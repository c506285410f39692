"""The demo's slow-burn pieces (linux-health's tls_certs, raid, smart, backup, journal checks):
what a persona's machine holds for them, the stub replies, and what the checks print.

Kept apart from personas.py, which calls these three functions for every host. A persona
sets State.certs, .mdstat, .smart and .backups; a host without them gets "not applicable"
(certificates, RAID, backups, logs) and two healthy disks (SMART).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

DAY = 86400
_MON = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
_NA_CERTS = "OK - no TLS certificates configured here (not applicable)"
_NA_RAID = "OK - no software RAID here (no /proc/mdstat: not applicable)"
_NA_BACKUP = "OK - no backup path configured (not applicable; see /etc/techdesk/backup-paths)"
_NA_LOGS = "OK - no /var/log here (not applicable)"
HEALTHY_DISKS = {"sda": (True, 0, 0)}


def _cert_name(path: str) -> str:
    name = path.removesuffix("/cert.pem").removesuffix("/fullchain.pem").rsplit("/", 1)[-1]
    return name.removesuffix(".pem").removesuffix(".crt")


def _not_after(days_left: float, now: float) -> datetime:
    # Half a day past the whole number, so the check's rounding down gives the same days.
    return datetime.fromtimestamp(now + (int(days_left) + 0.5) * DAY, UTC)


def root_files(s) -> dict[str, str]:
    """Files under the fake root: certificate placeholders (the stub openssl reads the
    dates), the web and mail server configs naming them, mdstat, the backup-paths list."""
    files: dict[str, str] = {}
    for path, _days in s.certs:
        files[f"root{path}"] = "-----BEGIN CERTIFICATE-----\n(demo: dates come from the openssl stub)\n"
    nginx = [p for p, _ in s.certs if p.startswith("/etc/ssl/")]
    if nginx:
        files["root/etc/nginx/sites-enabled/shop"] = "server {\n  listen 443 ssl;\n" + "".join(
            f"  ssl_certificate {p};\n" for p in nginx) + "}\n"
    mail = [p for p, _ in s.certs if p.startswith("/etc/postfix/")]
    if mail:
        files["root/etc/postfix/main.cf"] = f"smtpd_tls_cert_file = {mail[0]}\n"
    if s.mdstat is not None:
        files["root/proc/mdstat"] = s.mdstat
    if s.backups:
        files["root/etc/techdesk/backup-paths"] = "".join(f"{p}\n" for p, _ in s.backups)
        for path, _age in s.backups:
            files[f"root{path}/latest.tar.zst"] = "demo backup\n"
    return files


def backup_files(s) -> list[tuple[str, float]]:
    """(file under the fake root, its age in hours) to date back after writing."""
    return [(f"root{path}/latest.tar.zst", age) for path, age in s.backups]


def replies(s, now: float | None = None) -> dict[str, str]:
    now = time.time() if now is None else now
    out = {}
    for path, days in s.certs:
        end = _not_after(days, now)
        out[f"openssl-{path.rsplit('/', 1)[-1]}"] = (
            f"notAfter={_MON[end.month - 1]} {end.day:2d} {end:%H:%M:%S} {end.year} GMT\n")
    disks = s.smart or HEALTHY_DISKS
    out["smartctl-scan"] = "".join(f"/dev/{d} -d sat # /dev/{d}, ATA device\n" for d in disks)
    for disk, (healthy, realloc, pending) in disks.items():
        out[f"smartctl-{disk}"] = (
            "=== START OF READ SMART DATA SECTION ===\nSMART overall-health self-assessment test result: "
            f"{'PASSED' if healthy else 'FAILED!'}\n\nID# ATTRIBUTE_NAME          FLAG     VALUE WORST THRESH "
            "TYPE      UPDATED  WHEN_FAILED RAW_VALUE\n"
            f"  5 Reallocated_Sector_Ct   0x0033   100   100   010    Pre-fail  Always       -       {realloc}\n"
            f"197 Current_Pending_Sector  0x0012   100   100   000    Old_age   Always       -       {pending}\n")
    return out


def check_lines(s) -> dict[str, tuple[str, int]]:
    """What the five checks print for ``s`` (the seeded history imitates the scripts)."""
    out: dict[str, tuple[str, int]] = {}
    if s.certs:
        certs = sorted((path, int(days)) for path, days in s.certs)
        worst_path, worst = min(certs, key=lambda c: c[1])
        rc = 2 if worst < 7 else 1 if worst < 30 else 0
        word = ("OK", "WARNING", "CRITICAL")[rc]
        what = (f"{_cert_name(worst_path)} expired {-worst} days ago" if worst < 0
                else f"{_cert_name(worst_path)} expires in {worst} days")
        perf = " ".join(f"'{_cert_name(p)}_days_left'={d}d;30;7" for p, d in certs)
        out["tls_certs"] = (f"{word} - {len(certs)} certificate(s), soonest: {what}|{perf}", rc)
    else:
        out["tls_certs"] = (_NA_CERTS, 0)
    if s.mdstat is None:
        out["raid"] = (_NA_RAID, 0)
    else:
        arrays = [line.split()[0] for line in s.mdstat.splitlines() if line.startswith("md")]
        bad = [(a, m) for a, m in zip(arrays, [line.split()[-1] for line in s.mdstat.splitlines()
                                               if line.rstrip().endswith("]") and "blocks" in line],
                                      strict=False) if "_" in m]
        if bad:
            what = "".join(f" {a} {m}" for a, m in bad)
            out["raid"] = (f"CRITICAL - {len(bad)} of {len(arrays)} arrays degraded:{what}|"
                           f"md_degraded={len(bad)};;1;0", 2)
        else:
            out["raid"] = (f"OK - {len(arrays)} md array(s), all members up|md_degraded=0;;1;0", 0)
    disks = s.smart or HEALTHY_DISKS
    r = sum(v[1] for v in disks.values())
    p = sum(v[2] for v in disks.values())
    failed = "".join(f" {d}" for d, v in disks.items() if not v[0])
    rc = 2 if failed else 1 if r or p else 0
    perf = " ".join(f"{d}_reallocated={v[1]};1;;0 {d}_pending={v[2]};1;;0" for d, v in disks.items())
    out["smart"] = (f"{('OK', 'WARNING', 'CRITICAL')[rc]} - {len(disks)} disk(s): {r} reallocated, {p} pending "
                    f"sectors{'; SMART health FAILED:' + failed if failed else ''}|{perf}", rc)
    if s.backups:
        oldest, age = max(s.backups, key=lambda b: b[1])
        rc = 2 if age > 50 else 1 if age > 26 else 0
        perf = " ".join(f"'backup_{path.replace('/', '_').lstrip('_')}_age'={h:.1f}h;26;50;0"
                        for path, h in s.backups)
        out["backup"] = (f"{('OK', 'WARNING', 'CRITICAL')[rc]} - oldest backup {oldest}: {age:.1f} h|{perf}", rc)
    else:
        out["backup"] = (_NA_BACKUP, 0)
    out["journal"] = (_NA_LOGS, 0)
    return out
