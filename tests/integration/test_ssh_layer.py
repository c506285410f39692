"""techdesk.ssh against a real OpenSSH sshd (tests/fixtures/sshd.py)."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

import paramiko
import pytest

from techdesk.ssh import (
    Cancelled,
    SshError,
    Target,
    Timeouts,
    TrustStore,
    fingerprint,
)
from techdesk.ssh.connect import connect

# fixtures sshd / sshd_fresh come from tests.fixtures.sshd via tests/conftest.py
from tests.fixtures.sshd import SshdServer, make_client_keys

pytestmark = pytest.mark.sshd


@pytest.fixture(autouse=True)
def _no_agent(monkeypatch):
    """Never offer the developer's ssh-agent keys to the test server."""
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)


def collect():
    chunks: list[bytes] = []
    return chunks, chunks.append


def pinned(tmp_path: Path, server: SshdServer, keys: list[paramiko.PKey],
           marker: str = "") -> TrustStore:
    own = tmp_path / "pinned_known_hosts"
    prefix = f"{marker} " if marker else ""
    own.write_text("".join(f"{prefix}[{server.host}]:{server.port} {k.get_name()} "
                           f"{k.get_base64()}\n" for k in keys))
    return TrustStore(own, None)


def wait_for_log(server: SshdServer, offset: int, needle: str, timeout: float = 5) -> str:
    end = time.monotonic() + timeout
    while True:
        text = server.log_text(since=offset)
        if needle in text or time.monotonic() > end:
            return text
        time.sleep(0.05)


def test_key_auth_runs_command_with_stdout_stderr_and_status(sshd, tmp_path):
    with connect([sshd.target()], sshd.trust_store(tmp_path)) as conn:
        chunks, on_output = collect()
        status = conn.run("echo hi; echo err >&2; exit 3", b"", on_output)
        assert status == 3
        out = b"".join(chunks)
        assert b"hi\n" in out and b"err\n" in out
        chunks, on_output = collect()
        assert conn.run("sh -s", b"echo from-stdin\nexit 0\n", on_output) == 0
        assert b"".join(chunks) == b"from-stdin\n"
        assert conn.host_key in sshd.host_keys
    assert not conn.transport.is_active()
    conn.close()  # idempotent
    with pytest.raises(SshError):
        conn.run("true", b"", print)


def test_unknown_host_key_is_refused_before_auth_and_nothing_runs(sshd, tmp_path):
    trust = TrustStore(tmp_path / "empty_known_hosts", None)
    offset = sshd.log_size()
    events = []
    with pytest.raises(SshError) as err:
        connect([sshd.target()], trust, on_hostkey_event=lambda *a: events.append(a))
    assert err.value.kind == "hostkey-unknown"
    assert fingerprint(sshd.host_keys[0]) in str(err.value)  # ed25519 is preferred
    assert err.value.key == sshd.host_keys[0]
    assert events == [] and not trust.own_file.exists()
    log = wait_for_log(sshd, offset, "[preauth]")
    assert "[preauth]" in log  # the server saw us leave before authenticating
    assert "Accepted" not in log and "Starting session" not in log


def test_accept_new_remembers_the_key(sshd, tmp_path):
    own = tmp_path / "ws" / "known_hosts"
    events = []
    with connect([sshd.target()], TrustStore(own, None), accept_new=True,
                 on_hostkey_event=lambda *a: events.append(a)) as conn:
        assert conn.run("true", b"", lambda _: None) == 0
    lines = own.read_text().splitlines()
    key = sshd.host_keys[0]
    assert lines == [f"[127.0.0.1]:{sshd.port} ssh-ed25519 {key.get_base64()}"]
    assert [(e[0], e[1].name, e[2]) for e in events] == [("added", "local", key)]
    fresh = TrustStore(own, None)
    assert fresh.verify("127.0.0.1", sshd.port, key) == "known"
    with connect([sshd.target()], fresh, accept_new=True):
        pass
    assert own.read_text().splitlines() == lines


def test_accept_new_callable_decides(sshd, tmp_path):
    asked = []

    def no(target, key):
        asked.append((target.name, key))
        return False

    trust = TrustStore(tmp_path / "kh", None)
    with pytest.raises(SshError) as err:
        connect([sshd.target("box")], trust, accept_new=no)
    assert err.value.kind == "hostkey-unknown"
    assert asked == [("box", sshd.host_keys[0])]
    with connect([sshd.target("box")], trust, accept_new=lambda t, k: True):
        pass
    assert trust.verify("127.0.0.1", sshd.port, sshd.host_keys[0]) == "known"


def test_changed_host_key_is_refused_even_with_accept_new(sshd, sshd_fresh, tmp_path):
    # the fresh server has NEW host keys on its own port; pin the old server's keys there
    trust = pinned(tmp_path, sshd_fresh, [sshd.host_keys[0]])
    before = trust.own_file.read_bytes()
    offset = sshd_fresh.log_size()
    events = []
    with pytest.raises(SshError) as err:
        connect([sshd_fresh.target("client-pc")], trust, accept_new=True,
                on_hostkey_event=lambda *a: events.append(a))
    message = str(err.value)
    assert err.value.kind == "hostkey-changed"
    assert fingerprint(sshd_fresh.host_keys[0]) in message  # presented
    assert fingerprint(sshd.host_keys[0]) in message  # pinned
    assert "techdesk hostkeys forget client-pc" in message
    assert [(e[0], e[2]) for e in events] == [("changed", sshd_fresh.host_keys[0])]
    assert [k.key_b64 for k in events[0][3]] == [sshd.host_keys[0].get_base64()]
    assert trust.own_file.read_bytes() == before
    assert "Accepted" not in wait_for_log(sshd_fresh, offset, "[preauth]")


def test_revoked_host_key_is_refused(sshd, tmp_path):
    trust = pinned(tmp_path, sshd, [sshd.host_keys[0]])
    with trust.own_file.open("a") as f:
        f.write(f"@revoked * ssh-ed25519 {sshd.host_keys[0].get_base64()}\n")
    with pytest.raises(SshError) as err:
        connect([sshd.target()], trust, accept_new=True)
    assert err.value.kind == "hostkey-changed" and "REVOKED" in str(err.value)


@pytest.mark.parametrize("index", [0, 1], ids=["only-ed25519-pinned", "only-rsa-pinned"])
def test_two_host_key_types_one_pinned_is_not_a_false_change(sshd, tmp_path, index):
    # paramiko alone would negotiate ed25519 first (#2411): pinning only RSA must still work
    assert paramiko.Transport._preferred_keys[0] == "ssh-ed25519"
    key = sshd.host_keys[index]
    with connect([sshd.target()], pinned(tmp_path, sshd, [key])) as conn:
        assert conn.host_key == key
        assert conn.run("true", b"", lambda _: None) == 0


def test_wrong_key_fails_auth_quickly_and_says_what_was_tried(sshd, tmp_path):
    stranger = make_client_keys(tmp_path / "stranger")
    started = time.monotonic()
    with pytest.raises(SshError) as err:
        connect([sshd.target(key_file=str(stranger.key_path))], sshd.trust_store(tmp_path))
    assert time.monotonic() - started < 5
    assert err.value.kind == "auth"
    message = str(err.value)
    assert str(stranger.key_path) in message
    assert "no agent keys" in message and "no password stored" in message


def test_no_credentials_and_wrong_password_fail_auth_quickly(sshd, tmp_path):
    trust = sshd.trust_store(tmp_path)
    started = time.monotonic()
    with pytest.raises(SshError) as err:
        connect([sshd.target(key_file=None)], trust)
    assert err.value.kind == "auth"
    with pytest.raises(SshError) as err:
        connect([sshd.target(key_file=None)], trust,
                secrets=lambda kind, name: "not-the-password" if kind == "password" else None)
    assert err.value.kind == "auth" and "stored password" in str(err.value)
    assert time.monotonic() - started < 5


def test_encrypted_key_uses_passphrase_from_secrets(sshd, tmp_path):
    trust = sshd.trust_store(tmp_path)
    target = sshd.target("enc", key_file=str(sshd.encrypted_key_path))
    asked = []

    def secrets(kind, name):
        asked.append((kind, name))
        return sshd.passphrase if kind == "passphrase" else None

    with connect([target], trust, secrets=secrets) as conn:
        assert conn.run("true", b"", lambda _: None) == 0
    assert asked == [("passphrase", "enc")]
    with pytest.raises(SshError) as err:
        connect([target], trust)
    assert err.value.kind == "auth"
    assert str(sshd.encrypted_key_path) in str(err.value)
    assert "no passphrase stored" in str(err.value)
    with pytest.raises(SshError) as err:
        connect([target], trust, secrets=lambda kind, name: "wrong")
    assert err.value.kind == "auth" and "wrong passphrase" in str(err.value)


@pytest.fixture
def agent(tmp_path, monkeypatch):
    """A throwaway ssh-agent; returns add(key_path)."""
    if not (shutil.which("ssh-agent") and shutil.which("ssh-add")):
        pytest.skip("ssh-agent/ssh-add not installed")
    sock = tmp_path / "agent.sock"
    proc = subprocess.Popen(["ssh-agent", "-D", "-a", str(sock)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    end = time.monotonic() + 5
    while not sock.exists() and time.monotonic() < end:
        time.sleep(0.02)
    monkeypatch.setenv("SSH_AUTH_SOCK", str(sock))

    def add(path: Path) -> None:
        subprocess.run(["ssh-add", "-q", str(path)], env={**os.environ, "SSH_AUTH_SOCK": str(sock)},
                       check=True, capture_output=True)

    yield add
    proc.terminate()
    proc.wait(5)


def test_agent_keys_are_tried_after_the_key_file(sshd, tmp_path, agent):
    stranger = make_client_keys(tmp_path / "stranger")
    trust = sshd.trust_store(tmp_path)
    agent(stranger.key_path)
    with pytest.raises(SshError) as err:  # file key rejected, agent key rejected
        connect([sshd.target(key_file=str(stranger.encrypted_key_path))], trust,
                secrets=lambda kind, name: stranger.passphrase if kind == "passphrase" else None)
    assert f"tried key {stranger.encrypted_key_path}, 1 agent key, no password stored" in str(
        err.value)
    agent(sshd.client_key_path)
    with connect([sshd.target(key_file=None)], trust) as conn:
        assert conn.run("true", b"", lambda _: None) == 0


def test_nothing_listening_is_unreachable_fast(sshd, tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    started = time.monotonic()
    with pytest.raises(SshError) as err:
        connect([sshd.target(port=port)], sshd.trust_store(tmp_path))
    assert time.monotonic() - started < 2
    assert err.value.kind == "unreachable"
    assert f"127.0.0.1:{port}" in str(err.value) and "refused" in str(err.value)


def test_server_that_never_speaks_times_out_within_banner(sshd, tmp_path):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept_and_sleep():
        listener.settimeout(0.2)
        while not stop.is_set():
            with contextlib.suppress(OSError):
                held.append(listener.accept()[0])

    thread = threading.Thread(target=accept_and_sleep, daemon=True)
    thread.start()
    try:
        started = time.monotonic()
        with pytest.raises(SshError) as err:
            connect([sshd.target(port=listener.getsockname()[1])], sshd.trust_store(tmp_path),
                    timeouts=Timeouts(banner=1.5))
        assert time.monotonic() - started < 1.5 + 2
        assert err.value.kind == "timeout"
    finally:
        stop.set()
        thread.join()
        for s in held:
            s.close()
        listener.close()


def test_jump_chain_through_the_same_sshd(sshd, tmp_path):
    trust = sshd.trust_store(tmp_path)
    for key in sshd.host_keys:  # the second hop is reached as "localhost" from the jump host
        trust.add("localhost", sshd.port, key)
    chain = [sshd.target("jump"), sshd.target("final", address="localhost")]
    with connect(chain, trust) as conn:
        assert len(conn.transports) == 2
        chunks, on_output = collect()
        assert conn.run("echo through; echo $SSH_CONNECTION", b"", on_output) == 0
        assert b"".join(chunks).startswith(b"through\n")
    assert not any(t.is_active() for t in conn.transports)


def test_jump_chain_errors(sshd, tmp_path):
    trust = sshd.trust_store(tmp_path)
    with pytest.raises(ValueError):
        connect([sshd.target("a"), sshd.target("b")], trust)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead_port = s.getsockname()[1]
    with pytest.raises(SshError) as err:
        connect([sshd.target("jump"), sshd.target("final", address="localhost",
                                                  port=dead_port)], trust)
    assert err.value.kind == "unreachable" and "jump host jump" in str(err.value)


def test_deadline_stops_a_long_command(sshd, tmp_path):
    with connect([sshd.target()], sshd.trust_store(tmp_path)) as conn:
        started = time.monotonic()
        with pytest.raises(SshError) as err:
            conn.run("sleep 30", b"", lambda _: None, deadline=started + 1)
        assert err.value.kind == "timeout"
        assert time.monotonic() - started < 2
        assert conn.run("echo still-usable", b"", lambda _: None) == 0


def test_cancel_from_another_thread(sshd, tmp_path):
    cancel = threading.Event()
    with connect([sshd.target()], sshd.trust_store(tmp_path)) as conn:
        timer = threading.Timer(0.5, cancel.set)
        timer.start()
        started = time.monotonic()
        with pytest.raises(Cancelled):
            conn.run("sleep 30", b"", lambda _: None, cancel=cancel)
        assert time.monotonic() - started < 1.5
        with pytest.raises(Cancelled):  # already cancelled: never starts
            conn.run("touch should-not-exist", b"", lambda _: None, cancel=cancel)


def test_50mb_interleaved_stdout_and_stderr_does_not_deadlock(sshd, tmp_path):
    script = ("i=0; while [ $i -lt 50 ]; do head -c 524288 /dev/zero; "
              "head -c 524288 /dev/zero >&2; i=$((i+1)); done")
    received = 0

    def count(chunk: bytes) -> None:
        nonlocal received
        received += len(chunk)

    with connect([sshd.target()], sshd.trust_store(tmp_path)) as conn:
        status = conn.run(script, b"", count, deadline=time.monotonic() + 60)
    assert status == 0
    assert received == 50 * 1024 * 1024


def test_big_stdin_while_the_command_floods_output(sshd, tmp_path):
    # writes 4 MB before reading stdin: sending all stdin first would deadlock
    payload = b"x" * (4 * 1024 * 1024)
    chunks, on_output = collect()
    with connect([sshd.target()], sshd.trust_store(tmp_path)) as conn:
        status = conn.run("head -c 4194304 /dev/zero; wc -c", payload, on_output,
                          deadline=time.monotonic() + 60)
    out = b"".join(chunks)
    assert status == 0
    assert len(out) > 4194304 and out[4194304:].strip() == b"4194304"


def test_server_killed_mid_run_is_an_error_not_a_hang(sshd_fresh, tmp_path):
    with connect([sshd_fresh.target()], sshd_fresh.trust_store(tmp_path)) as conn:
        assert sshd_fresh.connection_pids()
        threading.Timer(1.0, sshd_fresh.kill).start()
        started = time.monotonic()
        with pytest.raises(SshError) as err:
            conn.run("sleep 30", b"", lambda _: None, deadline=started + 20)
        assert err.value.kind in ("unreachable", "protocol")
        assert time.monotonic() - started < 5
        assert not conn.is_active()


class _StallingServer(paramiko.ServerInterface):
    """In-process server that hangs in auth or in exec, to prove we never block forever."""

    def __init__(self, stall: str) -> None:
        self.stall = stall
        self.release = threading.Event()

    def get_allowed_auths(self, username):
        return "publickey"

    def check_auth_publickey(self, username, key):
        if self.stall == "auth":
            self.release.wait(30)
        return paramiko.AUTH_SUCCESSFUL

    def check_channel_request(self, kind, chanid):
        return paramiko.OPEN_SUCCEEDED

    def check_channel_exec_request(self, channel, command):
        self.release.wait(30)
        return True


@contextlib.contextmanager
def stalling_server(stall: str):
    host_key = paramiko.ECDSAKey.generate()
    listener = socket.create_server(("127.0.0.1", 0))
    server, transports = _StallingServer(stall), []

    def serve():
        with contextlib.suppress(OSError):
            sock, _ = listener.accept()
            transport = paramiko.Transport(sock)
            transport.add_server_key(host_key)
            transports.append(transport)
            transport.start_server(server=server)

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield listener.getsockname()[1], host_key
    finally:
        server.release.set()
        listener.close()
        for transport in transports:
            transport.close()


def test_auth_that_never_answers_is_bounded_by_the_auth_timeout(tmp_path):
    keys = make_client_keys(tmp_path / "keys")
    with stalling_server("auth") as (port, host_key):
        trust = TrustStore(tmp_path / "kh", None)
        trust.add("127.0.0.1", port, host_key)
        started = time.monotonic()
        with pytest.raises(SshError) as err:
            connect([_target(port, keys.key_path)], trust, timeouts=Timeouts(auth=1))
        assert err.value.kind == "timeout"
        assert time.monotonic() - started < 3


def test_exec_that_never_answers_is_bounded_by_the_deadline(tmp_path):
    keys = make_client_keys(tmp_path / "keys")
    with stalling_server("exec") as (port, host_key):
        trust = TrustStore(tmp_path / "kh", None)
        trust.add("127.0.0.1", port, host_key)
        with connect([_target(port, keys.key_path)], trust) as conn:
            started = time.monotonic()
            with pytest.raises(SshError) as err:
                conn.run("true", b"", lambda _: None, deadline=started + 1)
            assert err.value.kind == "timeout"
            assert time.monotonic() - started < 1 + 4  # deadline + watchdog grace


def _target(port: int, key_path: Path) -> Target:
    return Target("stall", "127.0.0.1", port, user="tech", key_file=str(key_path))
