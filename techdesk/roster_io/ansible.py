"""Ansible inventories (INI and YAML) in, INI out. Groups become tags.

Both syntaxes fill one small inventory model, so group vars, child groups and
"the same host in several groups" behave alike in each.
"""

from __future__ import annotations

import re
import shlex
import string
from dataclasses import dataclass, field

import yaml

from techdesk.core.roster import OS_CHOICES, HostSpec, RosterError, parse_port
from techdesk.roster_io import RosterFormatError, checked, strip_bom

# HostSpec field -> the variable export writes; import reads it and the older spellings.
EXPORT_VARS = {"address": "ansible_host", "port": "ansible_port", "user": "ansible_user"}
EXPORT_VARS["key"] = "ansible_ssh_private_key_file"
EXPORT_VARS |= {f: f"techdesk_{f}" for f in ("client", "site", "os", "jump")}  # techdesk's own
VARS = {var: attr for attr, var in EXPORT_VARS.items()}
VARS |= {"ansible_ssh_host": "address", "ansible_ssh_port": "port", "ansible_ssh_user": "user"}
VARS["ansible_private_key_file"] = "key"
NO_TAG = {"all", "ungrouped"}  # Ansible's implicit groups say nothing about a host
MAX_EXPANSION = 10_000  # a typo like web[1:9999999] should fail, not eat memory
MAX_HOSTS = 50_000      # all patterns of one file together
MAX_ALIASES = 1_000     # YAML aliases (*name); real inventories use a handful
MAX_WALK = 100_000      # mapping entries visited: aliases must not multiply the work
RANGE = re.compile(r"\[([0-9a-zA-Z]*):([0-9a-zA-Z]*)(?::(\d+))?\]")
SECTION = re.compile(r"\[([^\]]*)\]\s*(?:[#;].*)?")
CHILD = re.compile(r"([^\s#;]+)\s*(?:[#;].*)?")
YAML_KEY = re.compile(r"---|\{|[^\s#;\[=][^=#]*?:(\s|$)")
NULL = "tag:yaml.org,2002:null"

Value = tuple[str | int, int]  # a variable's value and the line it was set on


@dataclass
class _Group:
    vars: dict[str, Value] = field(default_factory=dict)
    parents: set[str] = field(default_factory=set)


@dataclass
class _Host:
    line: int
    vars: dict[str, Value] = field(default_factory=dict)
    groups: set[str] = field(default_factory=set)


class _Inventory:
    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.groups: dict[str, _Group] = {"all": _Group()}
        self.hosts: dict[str, _Host] = {}

    def error(self, line: int | None, message: str) -> RosterFormatError:
        return RosterFormatError(self.filename, line, message)

    def group(self, name: str, parent: str | None = None) -> _Group:
        group = self.groups.setdefault(name, _Group())
        if parent is not None and parent != name:
            group.parents.add(parent)
        return group

    def put(self, target: dict[str, Value], key: str, value: str | None, line: int) -> None:
        """Record a variable techdesk understands (others, like ansible_connection, are
        ignored), checking port and os at the line that sets them."""
        attr = VARS.get(key)
        if attr is None or value in (None, ""):
            return
        try:
            if attr == "port":
                value = parse_port(value)
            elif attr == "os":
                if value.strip().lower() not in OS_CHOICES:  # "Windows" means windows
                    raise RosterError(f"os must be one of {', '.join(OS_CHOICES)}, not {value!r}")
                value = value.strip().lower()
        except RosterError as e:
            raise self.error(line, f"{key}: {e}") from None
        target[attr] = (value, line)

    def add_pattern(
        self, pattern: str, literal: bool, group: str, line: int, hostvars: dict
    ) -> None:
        for name, port in host_names(pattern, literal, self.filename, line):
            own = dict(hostvars)
            if port is not None and "port" not in own:
                self.put(own, "ansible_port", port, line)
            self.add_host(name, group, line, own)

    def add_host(self, name: str, group: str, line: int, hostvars: dict[str, Value]) -> None:
        if name not in self.hosts and len(self.hosts) >= MAX_HOSTS:
            raise self.error(line, f"more than {MAX_HOSTS} hosts in one file; split it")
        host = self.hosts.setdefault(name, _Host(line))
        for attr, (value, vline) in hostvars.items():
            old = host.vars.setdefault(attr, (value, vline))
            # Listing a host in several groups is normal; contradicting oneself is not.
            if old[0] != value:
                raise self.error(
                    vline,
                    f"host {name!r} is given {attr} {value!r} here but {old[0]!r} on line {old[1]}",
                )
        self.group(group)
        host.groups.add(group)

    def _ancestors(self, name: str) -> set[str]:
        found, todo = set(), [name]
        while todo:
            g = todo.pop()
            if g not in found:
                found.add(g)
                todo.extend(self.groups[g].parents if g in self.groups else ())
        return found

    def _depth(self, name: str, seen: frozenset[str] = frozenset()) -> int:
        # Like Ansible, a deeper (more specific) group's vars override its parents'.
        if name == "all":
            return 0
        parents = self.groups[name].parents - seen - {"all"}
        return 1 + max((self._depth(p, seen | {name}) for p in parents), default=0)

    def specs(self) -> list[HostSpec]:
        specs = []
        for name, host in self.hosts.items():
            groups = set().union(*(self._ancestors(g) for g in host.groups)) | {"all"}
            merged: dict[str, Value] = {}
            for g in sorted(groups, key=lambda g: (self._depth(g), g)):
                merged.update(self.groups[g].vars)
            merged.update(host.vars)
            values = {attr: v for attr, (v, _line) in merged.items()}
            spec = HostSpec(name=name, tags=sorted(groups - NO_TAG), **values)
            specs.append(checked(spec, self.filename, host.line))
        return specs


def expand_range(pattern: str, filename: str, line: int) -> list[str]:
    """Ansible host ranges: web[01:03] -> web01..web03, db[a:c], x[0:10:5]."""
    m = RANGE.search(pattern)
    if not m:
        return [pattern]
    beg, end, step = m.group(1) or "0", m.group(2), int(m.group(3) or 1)
    bad = f"bad host range {m.group(0)!r}"
    if not end or step < 1:
        raise RosterFormatError(filename, line, bad)
    too_many = RosterFormatError(filename, line, f"{bad}: expands to no or too many hosts "
                                 f"(at most {MAX_EXPANSION})")
    if beg.isdigit() and end.isdigit():
        width = len(beg) if beg.startswith("0") and len(beg) > 1 else 0
        if width and len(end) != width:
            raise RosterFormatError(filename, line, f"{bad}: zero-padded ends need equal length")
        # Counted before anything is built: web[1:9999999999] must not allocate.
        if len(end) > 9 or len(beg) > 9:
            raise too_many
        numbers = range(int(beg), int(end) + 1, step)
        if not 0 < len(numbers) <= MAX_EXPANSION:
            raise too_many
        seq = [str(i).zfill(width) for i in numbers]
    elif len(beg) == len(end) == 1 and beg.isalpha() and end.isalpha():
        letters = string.ascii_letters
        seq = list(letters[letters.index(beg) : letters.index(end) + 1 : step])
    else:
        raise RosterFormatError(filename, line, bad)
    if not seq:
        raise too_many
    rest = expand_range(pattern[m.end() :], filename, line)
    if len(seq) * len(rest) > MAX_EXPANSION:
        raise too_many
    return [pattern[: m.start()] + s + r for s in seq for r in rest]


def host_names(token: str, literal: bool, filename: str, line: int) -> list[tuple[str, str | None]]:
    """Names (and a port, from Ansible's "host:port" form) a host pattern stands for.

    A quoted name is taken literally, which is how the exporter protects names
    holding ':' or '[' from being read as a port or a range.
    """
    if literal:
        return [(token, None)]
    port = None
    outside = re.sub(r"\[[^\]]*\]", "", token)
    m = re.search(r":(\d+)$", token)
    if m and outside.count(":") == 1:  # not an IPv6 address
        token, port = token[: m.start()], m.group(1)
    return [(n, port) for n in expand_range(token, filename, line)]


def _parse_ini(text: str, filename: str) -> list[HostSpec]:
    inv = _Inventory(filename)
    group, kind = "ungrouped", "hosts"  # hosts above any section are ungrouped
    for lineno, raw in enumerate(text.split("\n"), start=1):
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("["):
            m = SECTION.fullmatch(line)
            if not m:
                raise inv.error(lineno, f"malformed section header {line!r}")
            group, _, kind = m.group(1).strip().partition(":")
            kind = kind or "hosts"
            if not group or re.search(r"\s", group):
                raise inv.error(lineno, f"bad group name in {line!r}")
            if kind not in ("hosts", "vars", "children"):
                raise inv.error(lineno, f"section {line!r} has unknown type {kind!r}")
            inv.group(group)
        elif kind == "hosts":
            _ini_host(inv, group, line, lineno)
        elif kind == "vars":
            key, eq, value = line.partition("=")
            if not eq or not key.strip():
                raise inv.error(lineno, f"expected key=value in [{group}:vars], got {line!r}")
            value = value.strip()
            try:
                words = shlex.split(value, comments=True)
            except ValueError:
                words = [value]  # e.g. O'Brien: a lone quote is just a character here
            inv.put(
                inv.groups[group].vars, key.strip(), words[0] if len(words) == 1 else value, lineno
            )
        else:
            m = CHILD.fullmatch(line)
            if not m:
                raise inv.error(
                    lineno, f"expected one group name in [{group}:children], got {line!r}"
                )
            inv.group(m.group(1), parent=group)
    return inv.specs()


def _ini_host(inv: _Inventory, group: str, line: str, lineno: int) -> None:
    try:
        tokens = shlex.split(line, comments=True)  # what Ansible's own INI parser does
    except ValueError as e:
        raise inv.error(lineno, f"cannot read host line: {e}") from None
    hostvars: dict[str, Value] = {}
    for token in tokens[1:]:
        key, eq, value = token.partition("=")
        if not eq or not key:
            raise inv.error(lineno, f"expected key=value after the host name, got {token!r}")
        inv.put(hostvars, key, value, lineno)
    inv.add_pattern(tokens[0], line[0] in "'\"", group, lineno, hostvars)


class _Loader(yaml.SafeLoader):
    """SafeLoader that refuses alias bombs while composing (before any walk)."""

    def __init__(self, stream: str, inv: _Inventory) -> None:
        super().__init__(stream)
        self.inv, self.aliases = inv, 0

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            self.aliases += 1
            if self.aliases > MAX_ALIASES:
                mark = self.peek_event().start_mark
                raise self.inv.error(mark.line + 1, f"more than {MAX_ALIASES} YAML aliases "
                                     "(an alias bomb?); refused")
        return super().compose_node(parent, index)


class _YamlWalker:
    def __init__(self, loader: yaml.SafeLoader, inv: _Inventory) -> None:
        self.loader, self.inv = loader, inv
        self.active: set[int] = set()  # nodes being walked: an alias loop must not recurse forever
        self.budget = MAX_WALK  # aliases let a small file name the same group a billion times

    @staticmethod
    def line(node: yaml.Node) -> int:
        return node.start_mark.line + 1

    def pairs(self, node: yaml.Node, what: str) -> list[tuple[str, yaml.Node, yaml.Node]]:
        if isinstance(node, yaml.ScalarNode) and node.tag == NULL:
            return []  # "hosts:" with nothing under it
        if not isinstance(node, yaml.MappingNode):
            raise self.inv.error(self.line(node), f"{what} must be a mapping")
        self.loader.flatten_mapping(node)  # resolves "<<: *defaults" merge keys
        self.budget -= len(node.value)
        if self.budget < 0:
            raise self.inv.error(self.line(node), f"the inventory names more than {MAX_WALK} "
                                 "entries through its aliases (an alias bomb?); refused")
        out = []
        for k, v in node.value:
            if not isinstance(k, yaml.ScalarNode):
                raise self.inv.error(self.line(k), f"a key in {what} must be a plain name")
            out.append((k.value, k, v))
        return out

    def vars(self, node: yaml.Node, what: str) -> dict[str, Value]:
        found: dict[str, Value] = {}
        for key, knode, vnode in self.pairs(node, what):
            if key in VARS:
                if not isinstance(vnode, yaml.ScalarNode):
                    raise self.inv.error(self.line(vnode), f"{key} must be a single value")
                # The scalar's text as written: "yes" stays "yes", 022 stays "022".
                self.inv.put(
                    found, key, None if vnode.tag == NULL else vnode.value, self.line(knode)
                )
        return found

    def group(self, name: str, at: yaml.Node, node: yaml.Node, parent: str | None) -> None:
        """Walk group `name` (its key node `at`, its body `node`) and its children."""
        if id(node) in self.active:
            raise self.inv.error(self.line(at), f"group {name!r} contains itself")
        self.active.add(id(node))
        self.inv.group(name, parent)
        for key, knode, vnode in self.pairs(node, f"group {name!r}"):
            if key == "hosts":
                for hname, hk, hv in self.pairs(vnode, f"hosts of group {name!r}"):
                    hostvars = self.vars(hv, f"host {hname!r}")
                    # a quoted key is a literal name, like a quoted INI host name
                    self.inv.add_pattern(hname, hk.style is not None, name, self.line(hk), hostvars)
            elif key == "vars":
                self.inv.groups[name].vars.update(self.vars(vnode, f"vars of group {name!r}"))
            elif key == "children":
                for child, ck, cnode in self.pairs(vnode, f"children of group {name!r}"):
                    self.group(child, ck, cnode, name)
            else:
                raise self.inv.error(
                    self.line(knode),
                    f"unexpected key {key!r} in group {name!r} (expected hosts, vars, children)",
                )
        self.active.discard(id(node))


def _parse_yaml(text: str, filename: str) -> list[HostSpec]:
    inv = _Inventory(filename)
    loader = None
    try:
        loader = _Loader(text, inv)
        root = loader.get_single_node()
        if root is None:
            return []
        walker = _YamlWalker(loader, inv)
        for name, key, node in walker.pairs(root, "the inventory"):
            walker.group(name, key, node, None)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark is not None else None
        raise inv.error(line, f"YAML error: {e.problem or e.context}") from None
    except yaml.reader.ReaderError as e:  # a control character, reported by position
        raise inv.error(text[: e.position].count("\n") + 1, f"YAML error: {e.reason}") from None
    finally:
        if loader is not None:
            loader.dispose()
    return inv.specs()


def looks_like_yaml(text: str) -> bool:
    """YAML if the first meaningful line is '---', a flow mapping, or 'key:' at column 0."""
    for raw in text.split("\n"):
        stripped = raw.strip()
        if stripped and stripped[0] not in "#;":
            return YAML_KEY.match(raw.rstrip()) is not None
    return False


def parse_ansible(text: str, filename: str) -> list[HostSpec]:
    """Parse an Ansible inventory, INI or YAML (told apart by its first meaningful line)."""
    text = strip_bom(text)
    return _parse_yaml(text, filename) if looks_like_yaml(text) else _parse_ini(text, filename)


def _quote_name(name: str) -> str:
    # shlex.quote leaves "db:5432" bare, which the importer would read as host:port.
    quoted = shlex.quote(name)
    return f"'{name}'" if quoted == name and ":" in name else quoted


def export_ansible_ini(hosts: list[HostSpec]) -> str:
    """An INI inventory: one section per tag ([ungrouped] for hosts without tags).

    A host's variables are written on its first line only; later sections just
    list its name. Raises RosterError for what INI cannot hold: a tag that is not
    a valid group name, or a value containing a line break.
    """
    sections: dict[str, list[HostSpec]] = {}
    for h in hosts:
        for tag in h.tags:
            if tag in NO_TAG or re.search(r"[\s\[\]:]", tag):
                raise RosterError(f"host {h.name!r}: tag {tag!r} cannot be an Ansible group name")
        for value in h.as_dict().values():
            if isinstance(value, str) and "\n" in value:
                raise RosterError(
                    f"host {h.name!r}: a value with a line break cannot be written to INI"
                )
        for group in h.tags or ["ungrouped"]:
            sections.setdefault(group, []).append(h)

    lines: list[str] = []
    written: set[str] = set()
    for group in sorted(sections, key=lambda g: (g != "ungrouped", g)):
        lines += [""] if lines else []
        lines.append(f"[{group}]")
        for h in sections[group]:
            words = [_quote_name(h.name)]
            if h.name not in written:
                written.add(h.name)
                for attr, var in EXPORT_VARS.items():
                    value = getattr(h, attr)
                    if value not in (None, ""):
                        words.append(f"{var}={shlex.quote(str(value))}")
            lines.append(" ".join(words))
    return "\n".join(lines) + "\n" if lines else ""
