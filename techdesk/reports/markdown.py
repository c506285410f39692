"""Note bodies as HTML: one Markdown for the client's report and the window's preview.

markdown-it-py (CommonMark) with tables and strikethrough, raw HTML off (it shows as
the text it is), a line break kept. Nothing in a note can make the report or the
preview fetch or open anything: links and images are shown as their text followed by
the address in code (``site (https://e.com)``); headings are shown small (h1 -> h4),
as a note sits under its own title.
"""

from __future__ import annotations

from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.token import Token
from markupsafe import Markup

HEADING_SHIFT = 3
# How a note's tables look, in the report (_base.html.j2) and in the window's preview.
# Qt's rich text knows this much CSS too.
MARKDOWN_CSS = ("table.md { border-collapse: collapse; margin-bottom: 7px; } "
                "table.md th, table.md td { border: 1px solid #c9d3df; padding: 3px 6px; } "
                "table.md th { background-color: #eef2f6; }")


def _text(content: str) -> Token:
    token = Token("text", "", 0)
    token.content = content
    return token


def _code(content: str) -> Token:
    token = Token("code_inline", "code", 0)
    token.content = content
    return token


def _addresses_as_text(children: list[Token], md: MarkdownIt) -> list[Token]:
    """Links become their label + " (address)", images their description + " (address)";
    a link whose label is its own address (an autolink) is the address alone."""
    out: list[Token] = []
    closing: list[str] = []  # per open link: the address to add at its end ("" if none)
    i = 0
    while i < len(children):
        tok = children[i]
        if tok.type == "link_open":
            raw = str(tok.attrGet("href") or "")
            href = md.normalizeLinkText(raw)
            nxt = children[i + 1: i + 3]
            if (len(nxt) == 2 and nxt[0].type == "text" and nxt[1].type == "link_close"
                    and nxt[0].content.strip() in (href, raw)):
                out.append(_code(href))
                i += 3
                continue
            closing.append(href)
        elif tok.type == "link_close":
            out += [_text(" ("), _code(closing.pop()), _text(")")] if closing else []
        elif tok.type == "image":
            src = md.normalizeLinkText(str(tok.attrGet("src") or ""))
            out += [_text(tok.content), _text(" ("), _code(src), _text(")")] if tok.content else [_code(src)]
        else:
            out.append(tok)
        i += 1
    return out


def _rewrite(state: StateCore) -> None:
    for tok in state.tokens:
        if tok.type in ("heading_open", "heading_close"):
            tok.tag = f"h{min(int(tok.tag[1]) + HEADING_SHIFT, 6)}"
        elif tok.type == "table_open":
            tok.attrSet("class", "md")
        elif tok.type == "inline" and tok.children:
            tok.children = _addresses_as_text(tok.children, state.md)


def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "breaks": True, "linkify": False})
    md.enable(["table", "strikethrough"])
    md.core.ruler.push("techdesk_rewrite", _rewrite)
    return md


_MD = _parser()


def markdown(source: str | None) -> Markup:
    """A note body as safe HTML (Markup, so Jinja2 does not escape it a second time)."""
    return Markup(_MD.render(source or ""))
