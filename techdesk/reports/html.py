"""Reports as HTML: Jinja2 templates (autoescaped, sandboxed) and a small Markdown subset.

Templates come from techdesk/resources/templates/; a file of the same name in
`<workspace>/templates/` replaces the built-in one, and `builtin/<name>` always
names the built-in (so an override can extend it). A user template is code we do
not trust either: it runs in Jinja2's *immutable* sandbox on a deep copy of the
data (no report can change the colours or data of the next one), with guarded
`*`/`**` (no 10 GB string) and a time limit (no endless loop); whatever it raises
becomes one WorkError line. Everything a client, host or
note says is untrusted text: it is escaped, and note bodies go through `markdown()`,
which escapes first and then adds only the tags it makes itself.
"""

from __future__ import annotations

import copy
import re
import sys
import threading
import time
import traceback
from importlib import resources
from pathlib import Path

from jinja2 import ChoiceLoader, FileSystemLoader, FunctionLoader, TemplateError, TemplateNotFound
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError
from markupsafe import Markup, escape

from techdesk.core.work import WorkError

STATUS_COLORS = {"ok": "#2e9d4f", "warn": "#e0a100", "crit": "#d64541", "unknown": "#8e6bbf", None: "#9aa0a6"}
STATUS_WORDS = {"ok": "OK", "warn": "WARNING", "crit": "CRITICAL", "unknown": "UNKNOWN", None: "NOT CHECKED"}
BUILTIN_PREFIX = "builtin/"
RENDER_LIMIT_S = 20.0         # a report renders in well under a second, even on a loaded machine
MAX_TEMPLATE_VALUE = 10 ** 7  # longest string/list a template may build with * (and largest ** result)


def builtin_templates():
    return resources.files("techdesk").joinpath("resources", "templates")


def _load_builtin(name: str) -> str | None:
    name = name.removeprefix(BUILTIN_PREFIX)
    if "/" in name or "\\" in name or name.startswith("."):
        return None
    item = builtin_templates().joinpath(name)
    return item.read_text(encoding="utf-8") if item.is_file() else None


class ReportSandbox(ImmutableSandboxedEnvironment):
    """No mutation of lists, dicts or sets; range() is already capped by Jinja2; * and **
    are checked so a template cannot ask for a value too big to build."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context, operator, left, right):
        numbers = isinstance(left, int | float) and isinstance(right, int | float)
        if operator == "**" and numbers and abs(right) > 64 and abs(left) > 1:
            raise SecurityError(f"{left!r} ** {right!r} is too big for a report")
        if operator == "*":
            for seq, n in ((left, right), (right, left)):
                if isinstance(seq, str | list | tuple) and isinstance(n, int) \
                        and len(seq) * n > MAX_TEMPLATE_VALUE:
                    raise SecurityError(f"a value of {len(seq) * n} items is too big for a report")
        return super().call_binop(context, operator, left, right)


def environment(workspace: Path | None = None) -> ReportSandbox:
    loaders = []
    if workspace is not None:
        loaders.append(FileSystemLoader(str(Path(workspace) / "templates")))
    loaders.append(FunctionLoader(_load_builtin))
    env = ReportSandbox(loader=ChoiceLoader(loaders), autoescape=True, trim_blocks=True,
                        lstrip_blocks=True)
    env.filters.update(markdown=markdown, status_color=lambda s: STATUS_COLORS.get(s, STATUS_COLORS[None]),
                       status_word=lambda s: STATUS_WORDS.get(s, str(s).upper()))
    return env


def render(template: str, data: dict, workspace: Path | None = None, for_pdf: bool = False) -> str:
    """The report as one self-contained HTML page. A broken user template is a WorkError."""
    env = environment(workspace)
    # Copies: whatever a template reaches, the caller's data and STATUS_COLORS stay as they are.
    context = copy.deepcopy({**data, "for_pdf": for_pdf, "colors": STATUS_COLORS})
    try:
        page = env.get_template(template)
        return _bounded(lambda: page.render(**context), RENDER_LIMIT_S)
    except TemplateNotFound as exc:
        raise WorkError(f"report template {exc.name!r} not found") from None
    except TemplateError as exc:
        where = f"{exc.filename or template}, line {exc.lineno}" if getattr(exc, "lineno", None) else template
        raise WorkError(f"report template {where}: {' '.join(str(exc.message).split())}") from None
    except _TooLong:
        raise WorkError(f"report template {template} did not finish within {RENDER_LIMIT_S:g} s "
                        "(an endless loop?); nothing was written") from None
    except (Exception, RecursionError) as exc:  # the template's own error: 1/0, a bad call, ...
        where = _template_line(exc, template)
        raise WorkError(f"report template {where}: {type(exc).__name__}: "
                        f"{' '.join(str(exc).split())[:200]}") from None


class _TooLong(BaseException):
    """Raised inside a runaway render (BaseException: Jinja2 must not catch it)."""


def _bounded(render, seconds: float) -> str:
    """Run ``render`` in a worker thread that stops itself past ``seconds``: a trace hook
    checks the clock at every Python call (a Jinja2 loop makes several per step)."""
    deadline = time.monotonic() + seconds
    outcome: dict = {}

    def hook(frame, event, arg):
        if time.monotonic() > deadline:
            raise _TooLong
        return None

    def work() -> None:
        sys.settrace(hook)
        try:
            outcome["page"] = render()
        except BaseException as exc:  # handed to the caller's thread
            outcome["error"] = exc
        finally:
            sys.settrace(None)

    worker = threading.Thread(target=work, name="techdesk-report", daemon=True)
    worker.start()
    worker.join(seconds + 5)
    if worker.is_alive():  # stuck inside one C call: give up on it, say so
        raise _TooLong
    if "error" in outcome:
        raise outcome["error"]
    return outcome["page"]


def _template_line(exc: BaseException, template: str) -> str:
    """"name, line N" of the innermost template frame of the traceback (Jinja2 maps it)."""
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if frame.filename.endswith((".j2", ".html", "<template>")):
            return f"{Path(frame.filename).name}, line {frame.lineno}"
    return template


# -- Markdown, a safe subset ------------------------------------------------------
_FENCE = re.compile(r"^\s{0,3}(```|~~~)")
_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_BULLET = re.compile(r"^\s{0,3}[-*+]\s+(.*)$")
_NUMBER = re.compile(r"^\s{0,3}\d{1,9}[.)]\s+(.*)$")
_QUOTE = re.compile(r"^\s{0,3}>\s?(.*)$")
_RULE = re.compile(r"^\s{0,3}([-*_])(\s*\1){2,}\s*$")
_CODE_SPAN = re.compile(r"(`+)(.+?)\1")
# Each pattern stops at the next delimiter, so hostile input costs linear time.
_LINK = re.compile(r"\[([^\[\]\n]+)\]\(([^()\[\]\s]+)\)")
_STRONG = re.compile(r"\*\*(?=\S)((?:[^*]|\*(?!\*))+?)(?<=\S)\*\*|(?<!\w)__(?=\S)((?:[^_]|_(?!_))+?)(?<=\S)__(?!\w)")
_EM = re.compile(r"\*(?=[^\s*])([^*]+?)(?<=\S)\*|(?<!\w)_(?=[^\s_])([^_]+?)(?<=\S)_(?!\w)")
MAX_QUOTE_DEPTH = 3


def _emphasis(html: str) -> str:
    html = _STRONG.sub(lambda m: f"<strong>{m.group(1) or m.group(2)}</strong>", html)
    return _EM.sub(lambda m: f"<em>{m.group(1) or m.group(2)}</em>", html)


def _inline(text: str) -> str:
    """Escape, then add inline code, links (as text and URL), bold and italic."""
    spans: list[str] = []

    def keep(html: str) -> str:
        spans.append(resolve(html))
        return f"\x00{len(spans) - 1}\x00"

    def resolve(html: str) -> str:
        return re.sub("\x00(\\d+)\x00", lambda m: spans[int(m.group(1))], html)

    def link(m: re.Match) -> str:
        label, url = m.group(1), m.group(2)
        if label.strip() == url:
            return keep(f"<code>{escape(url)}</code>")
        return keep(f"{_emphasis(str(escape(label)))} (<code>{escape(url)}</code>)")

    text = _CODE_SPAN.sub(lambda m: keep(f"<code>{escape(m.group(2).strip())}</code>"), text)
    text = _LINK.sub(link, text)
    return resolve(_emphasis(str(escape(text))))


def markdown(source: str | None, _depth: int = 0) -> Markup:
    """Paragraphs (a line break is kept), headings (shown small: a note sits under its own
    title), lists, quotes, rules, bold/italic, inline code, code blocks, links as text + URL.
    Raw HTML is never passed through: it shows as the text it is."""
    lines = (source or "").replace("\x00", "").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    out: list[str] = []
    para: list[str] = []
    items: list[str] = []
    kind = ""

    def flush() -> None:
        nonlocal items, para, kind
        if para:
            out.append("<p>" + "<br>\n".join(_inline(x.strip()) for x in para) + "</p>")
        if items:
            out.append(f"<{kind}>" + "".join(f"<li>{i}</li>" for i in items) + f"</{kind}>")
        para, items, kind = [], [], ""

    i = 0
    while i < len(lines):
        line = lines[i]
        fence = _FENCE.match(line)
        if fence:
            flush()
            code, i = [], i + 1
            while i < len(lines) and not lines[i].strip().startswith(fence.group(1)):
                code.append(lines[i])
                i += 1
            out.append(f"<pre><code>{escape(chr(10).join(code))}</code></pre>")
        elif not line.strip():
            flush()
        elif line.startswith(("    ", "\t")) and not para and not items:
            code = []
            while i < len(lines) and (lines[i].startswith(("    ", "\t")) or not lines[i].strip()):
                code.append(lines[i][4:] if lines[i].startswith("    ") else lines[i][1:])
                i += 1
            out.append(f"<pre><code>{escape(chr(10).join(code).rstrip())}</code></pre>")
            continue
        elif _RULE.match(line):
            flush()
            out.append("<hr>")
        elif m := _HEADING.match(line):
            flush()
            level = min(len(m.group(1)) + 3, 6)
            out.append(f"<h{level}>{_inline(m.group(2))}</h{level}>")
        elif _depth < MAX_QUOTE_DEPTH and (m := _QUOTE.match(line)):
            flush()
            quoted = [m.group(1)]
            while i + 1 < len(lines) and (q := _QUOTE.match(lines[i + 1])):
                quoted.append(q.group(1))
                i += 1
            out.append(f"<blockquote>{markdown(chr(10).join(quoted), _depth + 1)}</blockquote>")
        elif (m := _BULLET.match(line)) or (m := _NUMBER.match(line)):
            new_kind = "ul" if _BULLET.match(line) else "ol"
            if para or (items and kind != new_kind):
                flush()
            kind = new_kind
            items.append(_inline(m.group(1).strip()))
        elif items and line.startswith((" ", "\t")):
            items[-1] += " " + _inline(line.strip())  # a list item's continuation line
        else:
            if items:
                flush()
            para.append(line)
        i += 1
    flush()
    return Markup("\n".join(out))
