"""The slow-burn checks of linux-health (TLS certificates, RAID, SMART, backups, logs) run over the
real sshd against a machine's files (TECHDESK_ROOT): a real certificate made here, a degraded
mdstat, a stale backup; and on a machine without any of them, each says "not applicable"."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import os
import shlex
import shutil
import time
from pathlib import Path

import pytest

from techdesk.core.forecast import capacity_for
from techdesk.core.roster import HostSpec
from techdesk.services.context import Services
from techdesk.workspace import Workspace

CHECKS = ("tls_certs", "raid", "smart", "backup", "journal")


def _certificate(path: Path, days: int, name: str) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=60))
            .not_valid_after(now + dt.timedelta(days=days, hours=12)).sign(key, hashes.SHA256()))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


_SMARTCTL = """#!/bin/sh
case $1 in --scan) printf '/dev/sda -d sat # /dev/sda\\n/dev/sdb -d sat # /dev/sdb\\n'; exit 0 ;; esac
for a in "$@"; do disk=$a; done
echo "SMART overall-health self-assessment test result: PASSED"
echo "ID# ATTRIBUTE_NAME          FLAG     VALUE WORST THRESH TYPE      UPDATED  WHEN_FAILED RAW_VALUE"
if [ "$disk" = /dev/sdb ]; then r=8; p=1; else r=0; p=0; fi
echo "  5 Reallocated_Sector_Ct   0x0033   100   100   010    Pre-fail  Always       -       $r"
echo "197 Current_Pending_Sector  0x0012   100   100   000    Old_age   Always       -       $p"
"""


def _machine(root: Path) -> None:
    """A web and file server: nginx and postfix certificates, a degraded mirror, backups."""
    _certificate(root / "etc/ssl/shop.pem", 20, "shop.example")
    _certificate(root / "etc/letsencrypt/live/www.example/cert.pem", 75, "www.example")
    _certificate(root / "etc/ssl/mail.pem", 5, "mail.example")
    (root / "etc/nginx/sites-enabled").mkdir(parents=True)
    (root / "etc/nginx/sites-enabled/shop").write_text(
        "server {\n  listen 443 ssl;\n  ssl_certificate /etc/ssl/shop.pem;\n}\n")
    (root / "etc/postfix").mkdir(parents=True)
    (root / "etc/postfix/main.cf").write_text("smtpd_tls_cert_file = /etc/ssl/mail.pem\n")
    (root / "proc").mkdir()
    (root / "proc/mdstat").write_text(
        "Personalities : [raid1]\nmd0 : active raid1 sdb1[1] sda1[0](F)\n"
        "      1046528 blocks super 1.2 [2/1] [_U]\n\nunused devices: <none>\n")
    backup = root / "srv/backup"
    backup.mkdir(parents=True)
    (backup / "nightly.tar").write_bytes(b"x" * 100)
    old = time.time() - 30 * 3600
    os.utime(backup / "nightly.tar", (old, old))
    (root / "etc/techdesk").mkdir(parents=True)
    (root / "etc/techdesk/backup-paths").write_text("# where the NAS job writes\n/srv/backup\n")
    (root / "var/log").mkdir(parents=True)
    (root / "var/log/syslog").write_bytes(b"y" * 300_000)


def _services(sshd, workspace_dir: Path, host: str) -> Services:
    """A workspace whose roster names the test sshd as ``host``, its key pinned."""
    workspace_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy(sshd.known_hosts_path, workspace_dir / "known_hosts")
    svc = Services(Workspace(workspace_dir))
    svc.roster.add(HostSpec(name=host, address=sshd.host, port=sshd.port, user=sshd.user,
                            key=str(sshd.client_key_path)))
    return svc


def _run(sshd, workspace_dir: Path, root: Path, path: Path | None = None) -> dict:
    svc = _services(sshd, workspace_dir, "srv1")
    try:
        full = svc.bundles.get("linux-health")
        prefix = f"TECHDESK_ROOT={shlex.quote(str(root))}; export TECHDESK_ROOT\n"
        if path is not None:  # tools of this machine first (a smartctl that answers like a real one)
            prefix += f'PATH={shlex.quote(str(path))}:"$PATH"; export PATH\n'
        bundle = dataclasses.replace(full, checks=[dataclasses.replace(c, script=prefix + c.script)
                                                   for c in full.checks if c.id in CHECKS])
        report = asyncio.run(svc.runner.run(bundle, [svc.roster.get("srv1")]))
        [result] = report.results
        assert result.error is None, result.error
        return {c.id: c for c in result.checks}
    finally:
        svc.close()


def test_slow_burn_checks_find_expiring_certificates_a_degraded_mirror_and_a_stale_backup(
        sshd, workspace_dir, tmp_path):
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    _machine(tmp_path / "root")
    tools = tmp_path / "bin"
    tools.mkdir()
    (tools / "smartctl").write_text(_SMARTCTL)
    (tools / "smartctl").chmod(0o755)
    checks = _run(sshd, workspace_dir, tmp_path / "root", tools)
    certs = checks["tls_certs"]
    assert certs.status.value == "crit", certs.summary
    assert certs.summary == "3 certificate(s), soonest: mail expires in 5 days"
    assert {k: m.value for k, m in certs.metrics.items()} == {
        "mail_days_left": 5, "shop_days_left": 20, "www.example_days_left": 75}
    assert "/etc/ssl/shop.pem: 20 days left" in certs.output
    assert certs.metrics["shop_days_left"].uom == "d"
    assert capacity_for("tls_certs", "shop_days_left", "d", crit=7.0).falling  # forecast as days left
    raid = checks["raid"]
    assert raid.status.value == "crit" and "md0 [_U]" in raid.summary and raid.metrics["md_degraded"].value == 1
    backup = checks["backup"]
    assert backup.status.value == "warn" and "oldest backup /srv/backup: 30" in backup.summary
    assert 29.9 < backup.metrics["backup_srv_backup_age"].value < 30.5
    journal = checks["journal"]
    assert journal.status.value == "ok" and journal.metrics["var_log"].uom == "MB"
    assert journal.metrics["var_log"].value >= 0.2
    smart = checks["smart"]
    assert (smart.status.value, smart.summary) == ("warn", "2 disk(s): 8 reallocated, 1 pending sectors")
    assert smart.metrics["sdb_reallocated"].value == 8 and smart.metrics["sda_pending"].value == 0


def test_without_any_of_it_each_check_says_not_applicable(sshd, workspace_dir, tmp_path):
    (tmp_path / "empty").mkdir()
    checks = _run(sshd, workspace_dir, tmp_path / "empty")
    for check_id in ("tls_certs", "raid", "backup", "journal"):  # smartctl: whatever this machine has
        assert checks[check_id].status.value == "ok", (check_id, checks[check_id].summary)
        assert "not applicable" in checks[check_id].summary


def test_the_macos_backup_check_reads_configured_paths(sshd, workspace_dir, tmp_path):
    """macos-health's backup check is POSIX sh too (Time Machine absent here): a stale and
    a missing directory, run over the real sshd with the paths set as a copied bundle would."""
    stale = tmp_path / "nas-backup"
    stale.mkdir()
    (stale / "photos.sparsebundle").write_bytes(b"x")
    old = time.time() - 28 * 3600
    os.utime(stale / "photos.sparsebundle", (old, old))
    svc = _services(sshd, workspace_dir, "mac1")
    try:
        check = next(c for c in svc.bundles.get("macos-health").checks if c.id == "backup")
        assert 'BACKUP_PATHS=""' in check.script
        script = check.script.replace('BACKUP_PATHS=""', f'BACKUP_PATHS="{stale}"')
        bundle = dataclasses.replace(svc.bundles.get("linux-quick"), checks=[dataclasses.replace(check, script=script)])
        [result] = asyncio.run(svc.runner.run(bundle, [svc.roster.get("mac1")])).results
        [backup] = result.checks
        assert backup.status.value == "warn" and backup.summary.startswith(f"{stale} newest 28.0 h old")
        assert backup.metrics[f"backup_{str(stale).replace('/', '_').lstrip('_')}_age"].value == 28.0
        script = check.script.replace('BACKUP_PATHS=""', f'BACKUP_PATHS="{stale} {tmp_path}/gone"')
        bundle = dataclasses.replace(bundle, checks=[dataclasses.replace(check, script=script)])
        [result] = asyncio.run(svc.runner.run(bundle, [svc.roster.get("mac1")])).results
        assert result.checks[0].status.value == "crit" and "missing:" in result.checks[0].summary
    finally:
        svc.close()
