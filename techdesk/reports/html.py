"""Reports as HTML: Jinja2 templates (autoescaped, sandboxed); note bodies through Markdown.

Templates come from resources/templates/; a file of the same name in
`<workspace>/templates/` replaces the built-in one, and `builtin/<name>` always
names the built-in (so an override can extend it). Everything a client, host or
note says is untrusted text: it is escaped, and note bodies go through `markdown()`
(techdesk/reports/markdown.py: raw HTML off, links and images as text + address),
the same renderer as the window's note preview.
"""

from __future__ import annotations

from pathlib import Path

from jinja2 import ChoiceLoader, FileSystemLoader, FunctionLoader, TemplateError, TemplateNotFound
from jinja2.sandbox import SandboxedEnvironment

from techdesk.core.work import WorkError
from techdesk.reports.markdown import MARKDOWN_CSS, markdown
from techdesk.resources import resource

STATUS_COLORS = {"ok": "#2e9d4f", "warn": "#e0a100", "crit": "#d64541", "unknown": "#8e6bbf", None: "#9aa0a6"}
STATUS_WORDS = {"ok": "OK", "warn": "WARNING", "crit": "CRITICAL", "unknown": "UNKNOWN", None: "NOT CHECKED"}
BUILTIN_PREFIX = "builtin/"


def builtin_templates():
    return resource("templates")


def _load_builtin(name: str) -> str | None:
    name = name.removeprefix(BUILTIN_PREFIX)
    if "/" in name or "\\" in name or name.startswith("."):
        return None
    item = builtin_templates().joinpath(name)
    return item.read_text(encoding="utf-8") if item.is_file() else None


def environment(workspace: Path | None = None) -> SandboxedEnvironment:
    loaders = []
    if workspace is not None:
        loaders.append(FileSystemLoader(str(Path(workspace) / "templates")))
    loaders.append(FunctionLoader(_load_builtin))
    env = SandboxedEnvironment(loader=ChoiceLoader(loaders), autoescape=True, trim_blocks=True,
                               lstrip_blocks=True)
    env.filters.update(markdown=markdown, status_color=lambda s: STATUS_COLORS.get(s, STATUS_COLORS[None]),
                       status_word=lambda s: STATUS_WORDS.get(s, str(s).upper()))
    env.globals["markdown_css"] = MARKDOWN_CSS
    return env


def render(template: str, data: dict, workspace: Path | None = None, for_pdf: bool = False) -> str:
    """The report as one self-contained HTML page. A broken user template is a WorkError."""
    env = environment(workspace)
    try:
        return env.get_template(template).render(**data, for_pdf=for_pdf, colors=STATUS_COLORS)
    except TemplateNotFound as exc:
        raise WorkError(f"report template {exc.name!r} not found") from None
    except TemplateError as exc:
        where = f"{exc.filename or template}, line {exc.lineno}" if getattr(exc, "lineno", None) else template
        raise WorkError(f"report template {where}: {exc.message}") from None
