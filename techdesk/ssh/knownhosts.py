"""Host keys in OpenSSH known_hosts format: the workspace's own file plus the user's, read-only.

Reading is tolerant: comments, blank lines, bad lines and key types paramiko cannot use are
skipped (bad ones are listed in `TrustStore.skipped`), never fatal. Writing touches only the
own file: `add` appends one line with a single write(); `forget` rewrites through a temporary
file and keeps every other line byte for byte.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import os
import re
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, NamedTuple

import paramiko

Verdict = Literal["known", "unknown", "changed", "revoked"]
MARKERS = ("@revoked", "@cert-authority")
# Public key types that may be pinned (paramiko 5 has no DSA and no security-key types).
KEY_TYPES = ("ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384",
             "ecdsa-sha2-nistp521", "ssh-rsa")
_BAD_HOST_CHARS = re.compile(r"[\s,*?!|#\[\]\\]")


@dataclass(frozen=True)
class KnownKey:
    """One usable known_hosts line. marker: None, "@revoked" or "@cert-authority"."""

    host_pattern: str
    key_type: str
    key_b64: str
    marker: str | None
    source: str
    line: int

    @property
    def blob(self) -> bytes:
        return base64.b64decode(self.key_b64)

    def pkey(self) -> paramiko.PKey:
        return paramiko.PKey.from_type_string(self.key_type, self.blob)

    def matches_key(self, key: paramiko.PKey) -> bool:
        return self.blob == key.asbytes()


class SkippedLine(NamedTuple):
    source: str
    line: int
    reason: str


def fingerprint(key: paramiko.PKey) -> str:
    """The key's fingerprint as OpenSSH prints it: "SHA256:" + unpadded base64."""
    digest = hashlib.sha256(key.asbytes()).digest()
    return "SHA256:" + base64.b64encode(digest).decode("ascii").rstrip("=")


def host_string(host: str, port: int) -> str:
    """How OpenSSH names host:port in known_hosts: `host` for 22, else `[host]:port`."""
    host = host.strip().lower()
    if not host or _BAD_HOST_CHARS.search(host):
        raise ValueError(f"not a host name or address usable in known_hosts: {host!r}")
    if not 0 < int(port) < 65536:
        raise ValueError(f"bad port {port!r}")
    return host if int(port) == 22 else f"[{host}]:{int(port)}"


def pin_name(route: list[tuple[str, int]]) -> str:
    """The known_hosts name a host's key is pinned under. `route` is the (address, port)
    of each hop, outermost first, ending with the host. A direct host is pinned as
    OpenSSH pins it (`host` or `[host]:port`, shared with ~/.ssh/known_hosts); a host
    behind jump hosts is pinned under its whole route, in the spirit of OpenSSH's
    HostKeyAlias: 10.0.0.5 behind gw-a and 10.0.0.5 behind gw-b are different machines
    and keep separate pins (`10.0.0.5:22~via~gw-a:22`)."""
    *jumps, (address, port) = route
    if not jumps:
        return host_string(address, port)
    hops = [f"{host_string(a, 22)}:{int(p)}" for a, p in reversed(route)]
    return "~via~".join(hops)


@functools.lru_cache(maxsize=1024)
def _glob(pattern: str) -> re.Pattern[str]:
    parts = (".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile("".join(parts), re.DOTALL)


def _hashed_matches(field: str, name: str) -> bool:
    # |1|base64(salt)|base64(HMAC-SHA1(salt, name))
    try:
        empty, magic, salt_b64, hash_b64 = field.split("|")
        if empty or magic != "1":
            return False
        salt = base64.b64decode(salt_b64, validate=True)
        expected = base64.b64decode(hash_b64, validate=True)
    except (ValueError, binascii.Error):
        return False
    actual = hmac.new(salt, name.encode("utf-8"), hashlib.sha1).digest()
    return hmac.compare_digest(actual, expected)


def pattern_matches(field: str, name: str) -> bool:
    """OpenSSH host matching: hashed entry, or comma list with * ? wildcards and !negation."""
    if field.startswith("|"):
        return _hashed_matches(field, name)
    matched = False
    for pat in field.lower().split(","):
        negated = pat.startswith("!")
        pat = pat[1:] if negated else pat
        if pat and _glob(pat).fullmatch(name):
            if negated:
                return False
            matched = True
    return matched


class _Skip(Exception):
    pass


def _parse_line(raw: bytes, source: str, lineno: int) -> KnownKey | None:
    """A KnownKey, None for blank/comment lines; raises _Skip(reason) for bad ones."""
    text = raw.decode("utf-8", errors="replace").strip()
    if not text or text.startswith("#"):
        return None
    fields = text.split()
    marker = None
    if fields[0].startswith("@"):
        marker = fields.pop(0)
        if marker not in MARKERS:
            raise _Skip(f"unknown marker {marker}")
    if len(fields) < 3:
        raise _Skip("too few fields")
    pattern, key_type, key_b64 = fields[:3]
    if key_type not in KEY_TYPES:
        raise _Skip(f"unsupported key type {key_type[:40]}")
    try:
        blob = base64.b64decode(key_b64, validate=True)
        if paramiko.Message(blob).get_text() != key_type:
            raise _Skip("key data does not match its key type")
        paramiko.PKey.from_type_string(key_type, blob)
    except _Skip:
        raise
    except Exception as exc:  # binascii.Error, SSHException, struct errors, ...
        raise _Skip(f"bad key data ({type(exc).__name__})") from None
    return KnownKey(pattern, key_type, key_b64, marker, source, lineno)


class _FileState(NamedTuple):
    signature: tuple[int, int, int] | None
    entries: list[KnownKey]
    skipped: list[SkippedLine]


def _signature(path: Path) -> tuple[int, int, int] | None:
    try:
        st = path.stat()
        return (st.st_ino, st.st_size, st.st_mtime_ns)
    except OSError:
        return None


def _read(path: Path) -> _FileState:
    sig = _signature(path)
    entries: list[KnownKey] = []
    skipped: list[SkippedLine] = []
    try:
        data = path.read_bytes()
    except OSError:
        return _FileState(sig, entries, skipped)
    for lineno, raw in enumerate(_lines(data), start=1):
        try:
            entry = _parse_line(raw, str(path), lineno)
        except _Skip as skip:
            skipped.append(SkippedLine(str(path), lineno, str(skip)))
            continue
        if entry is not None:
            entries.append(entry)
    return _FileState(sig, entries, skipped)


def _lines(data: bytes) -> list[bytes]:
    """Lines as OpenSSH counts them (split at LF only), each with its own ending."""
    parts = data.split(b"\n")
    return [p + b"\n" for p in parts[:-1]] + ([parts[-1]] if parts[-1] else [])


def _last_byte(fd: int) -> bytes:
    os.lseek(fd, -1, os.SEEK_END)
    return os.read(fd, 1)


def _fsync_dir(path: Path) -> None:
    if os.name == "posix":  # Windows cannot open a directory for fsync
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class TrustStore:
    """Known host keys: `own_file` (read-write, created on first add) + `user_file` (read-only).

    Thread-safe within a process. Files changed on disk are re-read automatically.
    """

    def __init__(self, own_file: Path, user_file: Path | None) -> None:
        self.own_file = Path(own_file)
        self.user_file = Path(user_file) if user_file is not None else None
        self._lock = threading.RLock()
        self._states: dict[Path, _FileState] = {}

    def _files(self) -> list[Path]:
        return [self.own_file] + ([self.user_file] if self.user_file is not None else [])

    def _current(self) -> list[_FileState]:
        with self._lock:
            states = []
            for path in self._files():
                state = self._states.get(path)
                if state is None or state.signature != _signature(path):
                    state = self._states[path] = _read(path)
                states.append(state)
            return states

    def reload(self) -> None:
        """Forget cached contents; the next call reads both files again."""
        with self._lock:
            self._states.clear()

    def entries(self) -> list[KnownKey]:
        """Every usable line, own file first, markers included."""
        return [e for state in self._current() for e in state.entries]

    @property
    def skipped(self) -> list[SkippedLine]:
        """Lines that could not be used (bad syntax, unsupported key type, ...)."""
        return [s for state in self._current() for s in state.skipped]

    def lookup(self, host: str, port: int) -> list[KnownKey]:
        """Entries for host:port: plain keys and @revoked ones (never @cert-authority)."""
        return self.lookup_name(host_string(host, port))

    def lookup_name(self, name: str) -> list[KnownKey]:
        """Entries for a known_hosts name (host_string or pin_name)."""
        return [e for e in self.entries()
                if e.marker != "@cert-authority" and pattern_matches(e.host_pattern, name)]

    def route(self, aliases: dict[tuple[str, int], str]) -> RouteTrust:
        """This store as one connection sees it: each hop pinned under its pin_name."""
        return RouteTrust(self, aliases)

    def pinned_key_types(self, host: str, port: int) -> list[str]:
        """Key types pinned for host:port (e.g. ["ssh-ed25519", "ssh-rsa"]), file order."""
        types = [e.key_type for e in self.lookup(host, port) if e.marker is None]
        return list(dict.fromkeys(types))

    def verify(self, host: str, port: int, key: paramiko.PKey) -> Verdict:
        """Revoked beats known; a pinned key for host:port that differs (any type) = changed."""
        return self.verify_name(host_string(host, port), key)

    def verify_name(self, name: str, key: paramiko.PKey) -> Verdict:
        found = self.lookup_name(name)
        if any(e.marker == "@revoked" and e.matches_key(key) for e in found):
            return "revoked"
        pinned = [e for e in found if e.marker is None]
        if any(e.matches_key(key) for e in pinned):
            return "known"
        return "changed" if pinned else "unknown"

    def add(self, host: str, port: int, key: paramiko.PKey) -> None:
        """Append ONE line for host:port to the own file (no-op if that exact line exists)."""
        self.add_name(host_string(host, port), key)

    def add_name(self, name: str, key: paramiko.PKey) -> None:
        """Append ONE line pinning `key` for a known_hosts name (host_string or pin_name)."""
        line = f"{name} {key.get_name()} {key.get_base64()}\n".encode("ascii")
        with self._lock:
            if any(e.marker is None and e.host_pattern == name and e.matches_key(key)
                   for e in self._current()[0].entries):
                return
            parent = self.own_file.parent
            new_dir = not parent.exists()
            parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            flags = os.O_RDWR | os.O_APPEND | os.O_CREAT
            flags |= getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
            existed = self.own_file.exists()
            fd = os.open(self.own_file, flags, 0o600)
            try:
                if os.fstat(fd).st_size and _last_byte(fd) != b"\n":
                    line = b"\n" + line  # never glue our line onto an unterminated last line
                written = os.write(fd, line)
                if written != len(line):
                    raise OSError(f"short write to {self.own_file} ({written} of {len(line)})")
                os.fsync(fd)
            finally:
                os.close(fd)
            if not existed:
                _fsync_dir(parent)
            if new_dir:
                _fsync_dir(parent.parent)
            self._states.pop(self.own_file, None)

    def forget(self, host: str, port: int) -> int:
        """Forget the own file's pins of host:port (see forget_name)."""
        return self.forget_name(host_string(host, port))

    def forget_name(self, name: str) -> int:
        """Remove this name's pins from the own file; returns how many keys were unpinned.

        Only the host named is affected: a line naming it among others keeps the others
        (the name is taken out of its list), a hashed line for it goes, and wildcard
        patterns (which pin other hosts too) are left alone. Every other line stays
        byte-identical. The user file is never touched.
        """
        with self._lock:
            try:
                data = self.own_file.read_bytes()
                mode = self.own_file.stat().st_mode & 0o7777
            except FileNotFoundError:
                return 0
            lines = _lines(data)
            out, removed = [], 0
            for raw in lines:
                kept = self._without(raw, name)
                removed += kept is not raw
                if kept:
                    out.append(kept)
            if removed:
                self._rewrite(b"".join(out), mode)
            self._states.pop(self.own_file, None)
            return removed

    def _without(self, raw: bytes, name: str) -> bytes:
        """The line without its pin of `name` (b"" when nothing is left), or `raw` itself."""
        try:
            entry = _parse_line(raw, str(self.own_file), 0)
        except _Skip:
            return raw
        if not entry or entry.marker is not None:
            return raw
        field = entry.host_pattern
        if field.startswith("|"):
            return b"" if _hashed_matches(field, name) else raw
        patterns = field.split(",")
        rest = [p for p in patterns if p.lower() != name]
        if len(rest) == len(patterns):
            return raw
        if not rest or all(p.startswith("!") for p in rest):
            return b""
        text = raw.decode("utf-8", errors="replace")
        return text.replace(field, ",".join(rest), 1).encode("utf-8")

    def _rewrite(self, data: bytes, mode: int) -> None:
        parent = self.own_file.parent
        fd, tmp = tempfile.mkstemp(dir=parent, prefix=f".{self.own_file.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp, mode)
            os.replace(tmp, self.own_file)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        _fsync_dir(parent)


class RouteTrust:
    """A TrustStore seen through one connection's route, for ssh.connect: the same calls,
    each hop's (address, port) looked up and pinned under its pin_name."""

    def __init__(self, store: TrustStore, aliases: dict[tuple[str, int], str]) -> None:
        self.store, self.aliases = store, aliases

    def _name(self, host: str, port: int) -> str:
        return self.aliases.get((host, int(port))) or host_string(host, port)

    def lookup(self, host: str, port: int) -> list[KnownKey]:
        return self.store.lookup_name(self._name(host, port))

    def pinned_key_types(self, host: str, port: int) -> list[str]:
        types = [e.key_type for e in self.lookup(host, port) if e.marker is None]
        return list(dict.fromkeys(types))

    def verify(self, host: str, port: int, key: paramiko.PKey) -> Verdict:
        return self.store.verify_name(self._name(host, port), key)

    def add(self, host: str, port: int, key: paramiko.PKey) -> None:
        self.store.add_name(self._name(host, port), key)
