"""Reports as HTML: Jinja2 templates (autoescaped, sandboxed); note bodies through Markdown.

Templates come from resources/templates/; a file of the same name in
`<workspace>/templates/` replaces the built-in one, and `builtin/<name>` always
names the built-in (so an override can extend it). A user template is code we do
not trust either: it runs in Jinja2's *immutable* sandbox on a deep copy of the
data (no report can change the colours or data of the next one), with guarded
`*`/`**` (no 10 GB string) and a time limit (no endless loop); whatever it raises
becomes one WorkError line. Everything a client, host or
note says is untrusted text: it is escaped, and note bodies go through `markdown()`
(techdesk/reports/markdown.py: raw HTML off, links and images as text + address),
the same renderer as the window's note preview.
"""

from __future__ import annotations

import copy
import sys
import threading
import time
import traceback
from pathlib import Path

from jinja2 import ChoiceLoader, FileSystemLoader, FunctionLoader, TemplateError, TemplateNotFound
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

from techdesk.core.work import WorkError
from techdesk.reports.markdown import MARKDOWN_CSS, markdown
from techdesk.resources import resource

STATUS_COLORS = {"ok": "#2e9d4f", "warn": "#e0a100", "crit": "#d64541", "unknown": "#8e6bbf", None: "#9aa0a6"}
STATUS_WORDS = {"ok": "OK", "warn": "WARNING", "crit": "CRITICAL", "unknown": "UNKNOWN", None: "NOT CHECKED"}
BUILTIN_PREFIX = "builtin/"
RENDER_LIMIT_S = 20.0         # a report renders in well under a second, even on a loaded machine
MAX_TEMPLATE_VALUE = 10 ** 7  # longest string/list a template may build with * (and largest ** result)


def builtin_templates():
    return resource("templates")


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
    env.globals["markdown_css"] = MARKDOWN_CSS
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
