"""TrustStore: OpenSSH known_hosts matching, tolerant reading, append-only add, exact forget."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import stat
import threading
from pathlib import Path

import paramiko
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from techdesk.ssh.knownhosts import TrustStore, fingerprint, host_string


def ed_key() -> paramiko.PKey:
    line = ed25519.Ed25519PrivateKey.generate().public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()
    key_type, b64 = line.split()
    return paramiko.PKey.from_type_string(key_type, base64.b64decode(b64))


KEY = ed_key()
OTHER = ed_key()
ECDSA = paramiko.ECDSAKey.generate()
RSA = paramiko.RSAKey.generate(1024)


def line(pattern: str, key: paramiko.PKey = KEY, marker: str = "") -> str:
    prefix = f"{marker} " if marker else ""
    return f"{prefix}{pattern} {key.get_name()} {key.get_base64()}"


def hashed(name: str, salt: bytes = b"0123456789abcdefghij") -> str:
    digest = hmac.new(salt, name.encode(), hashlib.sha1).digest()
    return f"|1|{base64.b64encode(salt).decode()}|{base64.b64encode(digest).decode()}"


def store(tmp_path: Path, own: list[str] | bytes, user: list[str] | None = None) -> TrustStore:
    own_file = tmp_path / "ws" / "known_hosts"
    own_file.parent.mkdir(exist_ok=True)
    own_file.write_bytes(own if isinstance(own, bytes) else "".join(f"{x}\n" for x in own).encode())
    user_file = None
    if user is not None:
        user_file = tmp_path / "user_known_hosts"
        user_file.write_text("".join(f"{x}\n" for x in user))
    return TrustStore(own_file, user_file)


# (host pattern field, host, port, should match) in the spirit of asyncssh's test_known_hosts
MATCHES = [
    ("example.com", "example.com", 22, True),
    ("example.com", "EXAMPLE.COM", 22, True),
    ("Example.Com", "example.com", 22, True),
    ("example.com", "example.com", 2222, False),
    ("example.com", "examplexcom", 22, False),
    ("[example.com]:2222", "example.com", 2222, True),
    ("[example.com]:2222", "example.com", 22, False),
    ("[example.com]:2222", "example.com", 2200, False),
    ("a.example,b.example", "b.example", 22, True),
    ("a.example,b.example", "c.example", 22, False),
    ("*.example.com", "host.example.com", 22, True),
    ("*.example.com", "example.com", 22, False),
    ("host?.lan", "host1.lan", 22, True),
    ("host?.lan", "host10.lan", 22, False),
    ("*.lan,!bad.lan", "good.lan", 22, True),
    ("*.lan,!bad.lan", "bad.lan", 22, False),
    ("!bad.lan,*.lan", "bad.lan", 22, False),
    ("!bad.lan", "good.lan", 22, False),
    ("[10.0.0.*]:2222", "10.0.0.7", 2222, True),
    ("10.0.0.*", "10.0.0.7", 22, True),
    ("10.0.0.*", "10.0.0.7", 2222, False),
    ("*", "anything.lan", 2222, True),
    ("[fe80::1]:2222", "fe80::1", 2222, True),
    ("fe80::1", "fe80::1", 22, True),
    (hashed("example.com"), "example.com", 22, True),
    (hashed("example.com"), "Example.com", 22, True),
    (hashed("example.com"), "other.com", 22, False),
    (hashed("example.com"), "example.com", 2222, False),
    (hashed("[example.com]:2222"), "example.com", 2222, True),
    ("|1|bm90IGJhc2U2NA|garbage", "example.com", 22, False),
    ("|2|c2FsdA==|aGFzaA==", "example.com", 22, False),
]


@pytest.mark.parametrize(("pattern", "host", "port", "expected"), MATCHES)
def test_host_matching(tmp_path, pattern, host, port, expected):
    trust = store(tmp_path, [line(pattern)])
    assert bool(trust.lookup(host, port)) is expected
    assert trust.verify(host, port, KEY) == ("known" if expected else "unknown")


def test_lookup_returns_source_and_line_and_skips_cert_authority(tmp_path):
    trust = store(tmp_path, [
        "# comment", "", line("h.lan"), line("*.lan", OTHER, "@cert-authority"),
        line("h.lan", OTHER, "@revoked"),
    ])
    found = trust.lookup("h.lan", 22)
    assert [(e.marker, e.line) for e in found] == [(None, 3), ("@revoked", 5)]
    assert found[0].source == str(trust.own_file)
    assert (found[0].key_type, found[0].key_b64) == ("ssh-ed25519", KEY.get_base64())
    assert found[0].host_pattern == "h.lan"
    assert [e.marker for e in trust.entries()] == [None, "@cert-authority", "@revoked"]
    assert trust.pinned_key_types("h.lan", 22) == ["ssh-ed25519"]


def test_cert_authority_alone_does_not_make_a_host_known(tmp_path):
    trust = store(tmp_path, [line("*.lan", KEY, "@cert-authority")])
    assert trust.lookup("h.lan", 22) == []
    assert trust.verify("h.lan", 22, KEY) == "unknown"


@pytest.mark.parametrize(
    ("lines", "key", "verdict"),
    [
        ([line("h.lan")], KEY, "known"),
        ([], KEY, "unknown"),
        ([line("other.lan")], KEY, "unknown"),
        ([line("h.lan", OTHER)], KEY, "changed"),
        ([line("h.lan", ECDSA)], KEY, "changed"),  # pinned type differs: still not "unknown"
        ([line("h.lan", OTHER), line("h.lan")], KEY, "known"),  # several keys pinned
        ([line("h.lan"), line("h.lan", KEY, "@revoked")], KEY, "revoked"),
        ([line("*", KEY, "@revoked")], KEY, "revoked"),
        ([line("h.lan"), line("h.lan", OTHER, "@revoked")], KEY, "known"),
        ([line("h.lan", OTHER, "@revoked")], KEY, "unknown"),
        ([line("h.lan", RSA)], RSA, "known"),
        ([line("[h.lan]:2222", ECDSA)], ECDSA, "unknown"),  # port 22 asked
    ],
)
def test_verify(tmp_path, lines, key, verdict):
    assert store(tmp_path, lines).verify("h.lan", 22, key) == verdict


def test_pinned_key_types_in_file_order_without_duplicates(tmp_path):
    trust = store(tmp_path, [line("h.lan", RSA), line("h.lan", KEY), line("h.lan", OTHER),
                             line("h.lan", ECDSA, "@revoked")], [line("h.lan", ECDSA)])
    assert trust.pinned_key_types("h.lan", 22) == ["ssh-rsa", "ssh-ed25519",
                                                   "ecdsa-sha2-nistp256"]


def test_bad_lines_and_unknown_types_are_skipped_not_fatal(tmp_path):
    good = line("good.lan")
    blob_mismatch = f"x.lan ssh-ed25519 {RSA.get_base64()}"
    content = "\n".join([
        "garbage",                                   # 1 too few fields
        "host.lan ssh-ed25519",                      # 2 too few fields
        "host.lan ssh-ed25519 !!!not-base64!!!",     # 3 bad base64
        "host.lan ssh-dss AAAAB3NzaC1kc3MAAACBAP",   # 4 unsupported type
        "host.lan sk-ssh-ed25519@openssh.com AAAA",  # 5 unsupported type
        blob_mismatch,                               # 6 key data of another type
        line("h.lan", KEY, "@bogus"),                # 7 unknown marker
        "   # indented comment",                     # 8 ignored, not "skipped"
        "",                                          # 9
        good + " trailing comment words",            # 10
        "\xff\xfe binary junk",                      # 11
        line("crlf.lan") + "\r",                     # 12 CRLF is fine
        "host.lan ssh-ed25519 AAAAC3NzaC1lZDI1NTE5",  # 13 truncated key
    ]).encode("utf-8", "surrogateescape")
    trust = store(tmp_path, content + b"\n")
    assert [s.line for s in trust.skipped] == [1, 2, 3, 4, 5, 6, 7, 11, 13]
    assert all(s.source == str(trust.own_file) for s in trust.skipped)
    assert trust.verify("good.lan", 22, KEY) == "known"
    assert trust.verify("crlf.lan", 22, KEY) == "known"
    assert [e.line for e in trust.entries()] == [10, 12]


def test_missing_files_are_empty(tmp_path):
    trust = TrustStore(tmp_path / "nope" / "known_hosts", tmp_path / "also-nope")
    assert trust.entries() == [] and trust.verify("h.lan", 22, KEY) == "unknown"
    assert trust.forget("h.lan", 22) == 0
    assert not (tmp_path / "nope").exists()


def test_user_file_is_read_after_own_file(tmp_path):
    trust = store(tmp_path, [line("own.lan")], [line("user.lan"), line("own.lan", OTHER)])
    assert trust.verify("user.lan", 22, KEY) == "known"
    assert [e.source for e in trust.lookup("own.lan", 22)] == [
        str(trust.own_file), str(trust.user_file)]


def test_add_appends_exactly_one_line_and_keeps_earlier_bytes(tmp_path):
    before = b"# mine\r\nweird line that is not valid\n" + line("a.lan").encode() + b"\n"
    trust = store(tmp_path, before)
    trust.add("New.Host", 2222, KEY)
    trust.add("plain.host", 22, RSA)
    after = trust.own_file.read_bytes()
    assert after.startswith(before)
    added = after[len(before):].decode().splitlines()
    assert added == [line("[new.host]:2222"), line("plain.host", RSA)]
    assert trust.verify("new.host", 2222, KEY) == "known"
    assert trust.verify("plain.host", 22, RSA) == "known"


def test_add_same_line_twice_is_a_no_op(tmp_path):
    trust = store(tmp_path, [])
    trust.add("h.lan", 22, KEY)
    trust.add("h.lan", 22, KEY)
    assert trust.own_file.read_text().count("\n") == 1


def test_add_after_unterminated_last_line_starts_a_new_line(tmp_path):
    before = line("a.lan").encode()  # no final newline
    trust = store(tmp_path, before)
    trust.add("b.lan", 22, OTHER)
    assert trust.own_file.read_bytes() == before + b"\n" + line("b.lan", OTHER).encode() + b"\n"
    assert trust.verify("a.lan", 22, KEY) == "known"


def test_add_creates_private_file_and_directory(tmp_path):
    own = tmp_path / "deep" / "ws" / "known_hosts"
    trust = TrustStore(own, None)
    trust.add("h.lan", 22, KEY)
    assert stat.S_IMODE(own.stat().st_mode) == 0o600
    assert own.read_text() == line("h.lan") + "\n"


@pytest.mark.parametrize("host", ["", "a b", "a,b", "*.lan", "!x", "h\nbad", "[h]", "|1|x"])
def test_add_refuses_names_that_would_corrupt_the_file(tmp_path, host):
    with pytest.raises(ValueError):
        TrustStore(tmp_path / "kh", None).add(host, 22, KEY)
    assert not (tmp_path / "kh").exists()


def test_user_file_is_never_written(tmp_path):
    trust = store(tmp_path, [line("h.lan")], [line("h.lan", OTHER), line("u.lan")])
    user_before = trust.user_file.read_bytes()
    mtime = trust.user_file.stat().st_mtime_ns
    trust.add("u.lan", 22, OTHER)
    assert trust.forget("u.lan", 22) == 1  # only the own file's line
    assert trust.forget("h.lan", 22) == 1
    assert trust.user_file.read_bytes() == user_before
    assert trust.user_file.stat().st_mtime_ns == mtime
    assert trust.verify("u.lan", 22, KEY) == "known"  # still pinned by the user file


def test_forget_removes_matching_lines_and_keeps_others_byte_identical(tmp_path):
    keep = [
        b"# header comment \t \n",
        line("other.lan").encode() + b"\r\n",
        b"not a valid line at all\n",
        line("[h.lan]:2222", OTHER).encode() + b"\n",   # other port
        line("h.lan", OTHER, "@revoked").encode() + b"\n",  # markers stay
        line("*.lan", OTHER, "@cert-authority").encode() + b"\n",
        b"\n",
        (hashed("other.lan") + " ssh-ed25519 " + KEY.get_base64()).encode() + b"\n",
    ]
    drop = [
        line("h.lan").encode() + b"\n",
        line("H.LAN", RSA).encode() + b"\n",
        (hashed("h.lan") + " ssh-ed25519 " + KEY.get_base64()).encode() + b"\n",
        line("x.lan,h.lan", ECDSA).encode() + b"\n",  # keeps x.lan's pin (only the host named goes)
    ]
    content = keep[0] + drop[0] + keep[1] + keep[2] + drop[1] + keep[3] + keep[4] + drop[2] \
        + keep[5] + keep[6] + drop[3] + keep[7] + b"last line without newline"
    trust = store(tmp_path, content)
    os.chmod(trust.own_file, 0o640)
    assert trust.verify("h.lan", 22, KEY) == "known"
    assert trust.forget("h.lan", 22) == 4
    assert trust.own_file.read_bytes() == b"".join(keep[:7]) + line("x.lan", ECDSA).encode() + b"\n" \
        + keep[7] + b"last line without newline"
    assert trust.verify("x.lan", 22, ECDSA) == "known"
    assert stat.S_IMODE(trust.own_file.stat().st_mode) == 0o640
    assert trust.verify("h.lan", 22, KEY) == "unknown"
    assert trust.forget("h.lan", 22) == 0
    assert not [p for p in trust.own_file.parent.iterdir() if p.name.endswith(".tmp")]


def test_changes_on_disk_are_seen_and_reload_works(tmp_path):
    trust = store(tmp_path, [])
    assert trust.verify("h.lan", 22, KEY) == "unknown"
    with open(trust.own_file, "a") as f:  # another process appends
        f.write(line("h.lan") + "\n")
    assert trust.verify("h.lan", 22, KEY) == "known"
    trust.reload()
    assert trust.verify("h.lan", 22, KEY) == "known"


def test_concurrent_adds_keep_every_line(tmp_path):
    trust = store(tmp_path, [])
    keys = [ed_key() for _ in range(20)]
    threads = [threading.Thread(target=trust.add, args=(f"h{i}.lan", 22, k))
               for i, k in enumerate(keys)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(trust.own_file.read_text().splitlines()) == 20
    assert all(trust.verify(f"h{i}.lan", 22, k) == "known" for i, k in enumerate(keys))


def test_fingerprint_matches_openssh_format():
    fp = fingerprint(KEY)
    assert fp == KEY.fingerprint  # paramiko's OpenSSH-compatible property
    raw = hashlib.sha256(base64.b64decode(KEY.get_base64())).digest()
    assert fp == "SHA256:" + base64.b64encode(raw).decode().rstrip("=")
    assert "=" not in fp and len(fp) == len("SHA256:") + 43


def test_host_string():
    assert host_string("Example.com", 22) == "example.com"
    assert host_string("10.0.0.5", 2222) == "[10.0.0.5]:2222"
    assert host_string("fe80::1", 22) == "fe80::1"
    with pytest.raises(ValueError):
        host_string("h", 0)


def test_line_numbers_count_lf_only_like_openssh(tmp_path):
    content = b"bad\rline\n" + line("h.lan").encode() + b"\r\n" + b"x\n"
    trust = store(tmp_path, content)
    assert [e.line for e in trust.entries()] == [2]
    assert [s.line for s in trust.skipped] == [1, 3]
    assert trust.forget("h.lan", 22) == 1
    assert trust.own_file.read_bytes() == b"bad\rline\nx\n"
