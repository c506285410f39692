"""OpenSSH client config (~/.ssh/config): each named `Host` becomes a roster host.

Wildcard `Host` blocks are defaults, applied with OpenSSH's rule that the first
value obtained for a keyword wins, so a `Host *` at the end fills gaps while one
at the start overrides. `Match` blocks and `Include` are skipped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from techdesk.core.roster import HostSpec, RosterError, parse_port
from techdesk.roster_io import RosterFormatError, checked, strip_bom

# ssh_config keyword (lower case) -> HostSpec field
KEYWORDS = {
    "hostname": "address",
    "port": "port",
    "user": "user",
    "identityfile": "key",
    "proxyjump": "jump",
}
# "ProxyJump none" / "IdentityFile none" switch the setting off; with first-wins that
# shields a host from a later wildcard default, so they are recorded as an explicit None.
NONE_OK = {"jump", "key"}
KEYWORD_LINE = re.compile(r"([^\s=]+)(?:\s*=\s*|\s+|$)(.*)")


@dataclass
class _Block:
    patterns: list[str]
    settings: dict[str, str | None] = field(default_factory=dict)

    def matches(self, name: str) -> bool:
        # OpenSSH: any positive pattern must match and no negated one may.
        positive = [p for p in self.patterns if not p.startswith("!")]
        negative = [p[1:] for p in self.patterns if p.startswith("!")]
        return any(_match(name, p) for p in positive) and not any(_match(name, p) for p in negative)


def _match(name: str, pattern: str) -> bool:
    # ssh patterns know only '*' and '?' (no [...] as in fnmatch) and ignore case.
    regex = re.escape(pattern.lower()).replace(r"\*", ".*").replace(r"\?", ".")
    return re.fullmatch(regex, name.lower()) is not None


def _is_wildcard(pattern: str) -> bool:
    return pattern.startswith("!") or "*" in pattern or "?" in pattern


def split_args(text: str, filename: str, line: int) -> list[str]:
    """Split arguments the way OpenSSH's argv_split does.

    Single or double quotes group words; a backslash escapes only a quote, a
    backslash or (outside quotes) a space, so Windows paths like C:\\keys\\id stay
    intact; '#' at the start of a word begins a comment.
    """
    args: list[str] = []
    i, n = 0, len(text)
    while i < n:
        if text[i] in " \t":
            i += 1
            continue
        if text[i] == "#":
            break
        word: list[str] = []
        quote = ""
        while i < n:
            ch = text[i]
            if (
                ch == "\\"
                and i + 1 < n
                and (text[i + 1] in "'\"\\" or (not quote and text[i + 1] == " "))
            ):
                word.append(text[i + 1])
                i += 2
                continue
            if quote:
                if ch == quote:
                    quote = ""
                else:
                    word.append(ch)
            elif ch in "'\"":
                quote = ch
            elif ch in " \t":
                break
            else:
                word.append(ch)
            i += 1
        if quote:
            raise RosterFormatError(filename, line, f"unterminated {quote} quote")
        args.append("".join(word))
    return args


def _jump_name(value: str) -> str:
    """The host of the first hop: "ssh://admin@bastion:2222,next" -> "bastion"."""
    hop = value.split(",", 1)[0].strip()
    hop = hop.removeprefix("ssh://")
    hop = hop.rsplit("@", 1)[-1]
    if hop.startswith("["):  # [v6-address]:port
        return hop[1:].split("]", 1)[0]
    if hop.count(":") == 1:
        return hop.split(":", 1)[0]
    return hop


def _value(attr: str, args: list[str], keyword: str, filename: str, line: int) -> str | None:
    if not args or args[0] == "":
        raise RosterFormatError(filename, line, f"{keyword} needs a value")
    value = args[0]
    if attr in NONE_OK and value.lower() == "none":
        return None
    if attr == "port":
        try:
            parse_port(value)
        except RosterError as e:
            raise RosterFormatError(filename, line, str(e)) from None
    if attr == "jump":
        value = _jump_name(value)
        if not value:
            raise RosterFormatError(filename, line, f"{keyword} {args[0]!r} names no host")
    return value


def _expand_hostname(value: str, name: str) -> str:
    # "HostName %h.corp.example" in a Host * block is common; %h is the alias, %% a '%'.
    return re.sub(r"%([h%])", lambda m: name if m.group(1) == "h" else "%", value)


def parse_ssh_config(text: str, filename: str) -> list[HostSpec]:
    """Parse an OpenSSH client config into hosts (one per non-wildcard Host pattern)."""
    # Lines before the first Host/Match apply to every host, like a leading "Host *".
    current: _Block | None = _Block(["*"])
    blocks: list[_Block] = [current]
    names: dict[str, int] = {}  # host -> line of its Host

    for lineno, raw in enumerate(strip_bom(text).split("\n"), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        m = KEYWORD_LINE.match(line)
        keyword, rest = (m.group(1), m.group(2)) if m else (line, "")
        kw = keyword.lower()
        if kw == "match":
            current = None  # its conditions are evaluated at connect time; skip its body
            continue
        if kw == "host":
            patterns = [p for p in split_args(rest, filename, lineno) if p]
            if not patterns:
                raise RosterFormatError(filename, lineno, "Host needs at least one name")
            current = _Block(patterns)
            blocks.append(current)
            for name in patterns:
                if _is_wildcard(name):
                    continue
                if name in names:
                    raise RosterFormatError(
                        filename, lineno, f"duplicate host {name!r} (first on line {names[name]})"
                    )
                names[name] = lineno
            continue
        if current is None or kw not in KEYWORDS:
            continue  # inside a Match block, Include, or a keyword techdesk does not use
        attr = KEYWORDS[kw]
        value = _value(attr, split_args(rest, filename, lineno), keyword, filename, lineno)
        current.settings.setdefault(attr, value)  # within a block, too, the first one counts

    hosts: list[HostSpec] = []
    for name, lineno in names.items():
        values: dict[str, str | None] = {}
        for block in blocks:
            if block.matches(name):
                for attr, value in block.settings.items():
                    values.setdefault(attr, value)
        address = values.get("address")
        spec = HostSpec(
            name=name,
            address=_expand_hostname(address, name) if address else None,
            port=parse_port(values["port"]) if values.get("port") else None,
            user=values.get("user"),
            key=values.get("key"),
            jump=values.get("jump"),
        )
        hosts.append(checked(spec, filename, lineno))
    return hosts
