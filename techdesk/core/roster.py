"""Roster domain types: Client -> Site -> Host, and how defaults are inherited.

A client and a site may carry connection defaults (user, port, jump host, key
file). A host's own value wins; otherwise the site's, then the client's, then the
built-in default. `resolve()` returns each effective value with where it came from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields

OS_CHOICES = ("linux", "macos", "windows")
INHERITED = ("user", "port", "jump", "key")
DEFAULT_PORT = 22
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


class RosterError(ValueError):
    """Bad roster input: an unknown host, a duplicate, an invalid field."""


@dataclass
class Defaults:
    """Connection defaults a client or site may set for the hosts under it."""

    user: str | None = None
    port: int | None = None
    jump: str | None = None
    key: str | None = None


@dataclass
class Client:
    name: str
    defaults: Defaults = field(default_factory=Defaults)
    id: int | None = None


@dataclass
class Site:
    name: str
    client: str
    defaults: Defaults = field(default_factory=Defaults)
    id: int | None = None


@dataclass
class HostSpec:
    """A host as entered or imported: only what was said about it (None = not set)."""

    name: str
    address: str | None = None
    port: int | None = None
    user: str | None = None
    client: str | None = None
    site: str | None = None
    tags: list[str] = field(default_factory=list)
    os: str | None = None
    jump: str | None = None
    key: str | None = None

    def as_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass
class Host:
    """A host as stored, with its effective values resolved through site and client."""

    spec: HostSpec
    effective: dict
    sources: dict[str, str]
    id: int | None = None

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def address(self) -> str:
        return self.effective["address"]

    @property
    def port(self) -> int:
        return self.effective["port"]

    @property
    def user(self) -> str | None:
        return self.effective["user"]

    @property
    def jump(self) -> str | None:
        return self.effective["jump"]

    @property
    def key(self) -> str | None:
        return self.effective["key"]

    @property
    def os(self) -> str:
        return self.effective["os"]

    def as_json(self) -> dict:
        """The CLI.md host shape (effective values) plus where inherited ones come from."""
        s = self.spec
        return {
            "name": s.name,
            "address": self.address,
            "port": self.port,
            "user": self.user,
            "client": s.client,
            "site": s.site,
            "tags": list(s.tags),
            "os": self.os,
            "jump": self.jump,
            "key": self.key,
            "sources": dict(self.sources),
        }


def resolve(spec: HostSpec, site: Defaults | None, client: Defaults | None) -> tuple[dict, dict]:
    """Effective values of a host and the source of each inherited one.

    Sources are "host", "site", "client" or "default".
    """
    effective: dict = {
        "address": spec.address or spec.name,
        "os": spec.os or "linux",
    }
    sources: dict[str, str] = {}
    for attr in INHERITED:
        for origin, holder in (("host", spec), ("site", site), ("client", client)):
            value = getattr(holder, attr) if holder is not None else None
            if value not in (None, ""):
                effective[attr] = value
                sources[attr] = origin
                break
        else:
            effective[attr] = DEFAULT_PORT if attr == "port" else None
            sources[attr] = "default"
    return effective, sources


def validate_spec(spec: HostSpec) -> HostSpec:
    """Check a host entry; raise RosterError with a one-line reason. Values are kept literally."""
    if not spec.name or not spec.name.strip():
        raise RosterError("a host needs a name")
    # Names and addresses are kept literally (quotes, `$()`, non-ASCII are fine);
    # only control characters are refused, since they would act on a terminal.
    if _CONTROL.search(spec.name):
        raise RosterError(f"host name {spec.name!r} contains a control character")
    if spec.address is not None and (not spec.address.strip() or _CONTROL.search(spec.address)):
        raise RosterError(f"host {spec.name!r}: address {spec.address!r} is not valid")
    problem = address_problem(spec.address) if spec.address is not None else None
    if problem:
        raise RosterError(f"host {spec.name!r}: {problem}")
    if spec.port is not None:
        port = parse_port(spec.port)
        spec.port = port
    if spec.os is not None and spec.os not in OS_CHOICES:
        raise RosterError(f"host {spec.name!r}: os must be one of {', '.join(OS_CHOICES)}, not {spec.os!r}")
    if spec.site and not spec.client:
        raise RosterError(f"host {spec.name!r}: a site belongs to a client; give the client too")
    if spec.jump is not None and spec.jump == spec.name:
        raise RosterError(f"host {spec.name!r} cannot be its own jump host")
    spec.tags = sorted({t.strip() for t in spec.tags if t and t.strip()})
    for what, value in (("client", spec.client), ("site", spec.site), ("user", spec.user),
                        ("jump host", spec.jump), *(("tag", t) for t in spec.tags)):
        check_text(f"host {spec.name!r}: {what}", value)
    return spec


def address_problem(address: str) -> str | None:
    """Why ``address`` cannot be a host's address, or None. Only what is surely wrong is
    refused: numbers-and-dots that are no IPv4 address (999.300.1.1), a colon form that
    is no IPv6 address. Anything else is kept literally (a name, an SSH-config alias)."""
    import ipaddress

    text = address.strip()
    if text and all(part.isdigit() for part in text.split(".")) and "." in text:
        try:
            ipaddress.IPv4Address(text)
        except ValueError:
            return f"{text} is not an IPv4 address (four numbers 0-255, like 192.0.2.10)"
    if ":" in text:
        try:
            ipaddress.IPv6Address(text.strip("[]").split("%")[0])
        except ValueError:
            return f"{text} is not an IPv6 address"
    return None
def check_text(what: str, value: str | None) -> None:
    """Refuse a name with a control character (ESC starts terminal sequences). Bidi
    marks are legitimate in right-to-left names: every output cleans them instead."""
    if value is not None and _CONTROL.search(value):
        raise RosterError(f"{what} {value!r} contains a control character")


def parse_port(value) -> int:
    try:
        port = int(value)
    except (TypeError, ValueError):
        raise RosterError(f"port {value!r} is not a number") from None
    if not 1 <= port <= 65535:
        raise RosterError(f"port {port} is out of range 1-65535")
    return port


def endpoint_of(chain: list) -> str:
    """Where a host's secret would be sent: its hop as user@address:port, then each jump
    host it goes through (innermost first). `chain` is outermost first, ending with the
    host (RosterService.jump_chain); anything with address, port and user will do."""
    hops = [f"{h.user}@{h.address}:{h.port}" if h.user else f"{h.address}:{h.port}" for h in reversed(chain)]
    return " via ".join(hops)
