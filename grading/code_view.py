"""Submitted files as readable HTML, pure (no ORM, no settings): source code highlighted by
Pygments with line numbers and staff annotations under their lines, Jupyter notebooks rendered
by nbconvert and cleaned by nh3, and the rules for what is not shown as text (binaries, files
too large). Every piece of the file and of the annotations is escaped or cleaned here: the HTML
strings returned are safe to show as they are (the caller marks them safe)."""

from __future__ import annotations

import functools
import logging
import re
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

from pygments.lexers import get_lexer_by_name, get_lexer_for_filename
from pygments.lexers.special import TextLexer
from pygments.token import STANDARD_TYPES, _TokenType
from pygments.util import ClassNotFound

MAX_LINES = 2000  # lines shown per file (per notebook, lines of its cells)
MAX_BYTES = 5 * 1024 * 1024  # larger files are not read for display
IMAGES = {"png", "jpg", "jpeg", "gif"}  # shown inline (submissions' inline download)


def extension(name: str) -> str:
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""


def kind_of(name: str) -> str:
    """How a file is shown: "image", "pdf", "notebook" or "text" (until read)."""
    ext = extension(name)
    if ext in IMAGES:
        return "image"
    if ext == "pdf":
        return "pdf"
    return "notebook" if ext == "ipynb" else "text"


def decode_text(data: bytes) -> str | None:
    """The file's text, or None for a binary (a NUL byte, or not UTF-8)."""
    if b"\0" in data[:8192]:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


@dataclass(frozen=True)
class Note:
    """A staff annotation on one line."""

    line: int
    text: str


@dataclass(frozen=True)
class Rendered:
    """A file rendered: its HTML, how many lines were left out, and the notes whose line is
    not shown (beyond the cap, or in a notebook)."""

    html: str  # safe: everything in it is escaped
    more_lines: int
    unplaced: list[Note]


def _css_class(ttype: _TokenType) -> str:
    while ttype not in STANDARD_TYPES:
        ttype = ttype.parent
    return STANDARD_TYPES[ttype]


def _lexer(filename: str, language: str | None = None) -> Any:
    """The lexer by the notebook's language or the file's name; plain text when unknown.
    Leading and trailing blank lines are kept, so line numbers stay true."""
    try:
        if language:
            return get_lexer_by_name(language, stripnl=False)
        return get_lexer_for_filename(filename, stripnl=False)
    except ClassNotFound:
        return TextLexer(stripnl=False)


def highlight_lines(text: str, lexer: Any) -> list[str]:
    """The text highlighted, one HTML string per line (spans never cross a line)."""
    lines: list[str] = [""]
    for ttype, value in lexer.get_tokens(text):
        css = _css_class(ttype)
        for i, part in enumerate(value.split("\n")):
            if i:
                lines.append("")
            if part:
                lines[-1] += f'<span class="{css}">{escape(part)}</span>' if css else escape(part)
    if len(lines) > 1 and lines[-1] == "":
        lines.pop()  # the newline Pygments ensures at the end
    return lines


def _note_html(note: Note) -> str:
    return (
        f'<div class="annotation" role="note"><span class="annotation-label">'
        f"Comment on line {note.line}:</span> {escape(note.text)}</div>"
    )


def _lines_html(lines: Sequence[str], notes: Mapping[int, list[Note]], anchor: str) -> str:
    items = []
    for number, line in enumerate(lines, start=1):
        here = notes.get(number, [])
        css = ' class="annotated"' if here else ""
        below = "".join(_note_html(n) for n in here)
        items.append(
            f'<li id="{escape(anchor)}-L{number}"{css}><code>{line or " "}</code>{below}</li>'
        )
    return f'<ol class="code-lines">{"".join(items)}</ol>'


def _by_line(notes: Iterable[Note]) -> dict[int, list[Note]]:
    grouped: dict[int, list[Note]] = {}
    for note in notes:
        grouped.setdefault(note.line, []).append(note)
    return grouped


@functools.cache
def code_renderer() -> str:
    """This highlighting's version with Pygments': a cache key part."""
    from importlib.metadata import version

    return f"code-1-pygments{version('pygments')}"


def highlight_file(filename: str, text: str) -> list[str]:
    """The file's text highlighted by the lexer its name calls for, one HTML string per line:
    the slow part of showing code (Pygments), and the same whatever the annotations."""
    return highlight_lines(text, _lexer(filename))


def render_code(filename: str, text: str, notes: Sequence[Note], *, anchor: str) -> Rendered:
    """Source code with line numbers, at most ``MAX_LINES`` lines, each annotated line
    marked with its comments under it."""
    return render_lines(highlight_file(filename, text), notes, anchor=anchor)


def render_lines(lines: Sequence[str], notes: Sequence[Note], *, anchor: str) -> Rendered:
    """Lines from ``highlight_file`` with line numbers, at most ``MAX_LINES``, each annotated
    line marked with its comments under it."""
    shown = lines[:MAX_LINES]
    html = _lines_html(shown, _by_line(n for n in notes if n.line <= len(shown)), anchor)
    unplaced = [n for n in notes if n.line > len(shown)]
    return Rendered(html=html, more_lines=len(lines) - len(shown), unplaced=unplaced)


# --- notebooks ---------------------------------------------------------------------------------
# nbformat reads and validates a notebook, nbconvert's HTMLExporter renders it (its "basic"
# template: the cells only, no page, no scripts or CDN links), and nh3 (ammonia) cleans the
# result: a notebook is untrusted input shown to staff, so only an allowlist of tags and
# attributes survives, images only as inline data, links only to http(s) and mailto. nbconvert's
# own ``sanitize_html`` is not used: its allowlist escapes headings, paragraphs and images, so
# markdown would be shown as tags.

NOTEBOOK_ALT = "Output image"  # images nbconvert leaves without a description
# What a cached rendering depends on besides the file: bump it when the rendering changes.
NOTEBOOK_RENDERER = "nb-1"

_NB_TAGS = {
    *("a", "abbr", "b", "blockquote", "br", "caption", "code", "dd", "del", "details", "div"),
    *("dl", "dt", "em", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i"),
    *("img", "ins", "kbd", "li", "mark", "ol", "p", "pre", "q", "s", "samp", "small", "span"),
    *("strong", "sub", "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr"),
    *("u", "ul", "var"),
}
# Removed with everything in them (other unknown tags are removed, their text kept).
_NB_DROPPED = {
    *("script", "style", "iframe", "object", "embed", "template", "noscript", "textarea"),
    *("select", "title", "frameset", "frame", "applet", "noembed", "xmp"),
}
_NB_ATTRIBUTES = {
    "*": {"class"},
    "a": {"href", "title"},
    "abbr": {"title"},
    "img": {"src", "alt", "title", "width", "height"},
    "ol": {"start"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
}
# The classes nbconvert's basic template and Pygments write; a notebook's own are dropped, so
# it cannot borrow the portal's.
_NB_CLASSES = {
    *("cell", "border-box-sizing", "code_cell", "text_cell", "rendered", "input", "prompt"),
    *("input_prompt", "output_prompt", "inner_cell", "input_area", "highlight", "output"),
    *("output_wrapper", "output_area", "output_subarea", "output_stream", "output_stdout"),
    *("output_stderr", "output_text", "output_error", "output_execute_result", "output_html"),
    *("rendered_html", "output_markdown", "output_png", "output_jpeg", "output_svg"),
    *("output_latex", "output_javascript", "text_cell_render", "unconfined"),
    *(c for c in STANDARD_TYPES.values() if c),
}
_NB_CLASS_PATTERN = re.compile(r"(ansi-[a-z-]+|hl-[\w+#.-]+)\Z")
_IMAGE_DATA = re.compile(r"data:image/(png|jpeg|gif|webp|svg\+xml);base64,", re.IGNORECASE)
_NBCONVERT_ALT = "No description has been provided for this image"
# The output kinds shown, best first: no JavaScript, widgets or Mermaid (they would need
# scripts); an output with only those shows its text/plain.
_NB_PRIORITY = [
    *("text/html", "text/markdown", "image/svg+xml", "image/png", "image/jpeg"),
    *("text/latex", "text/plain"),
]
_HEADING = re.compile(r"<(/?)h([1-6])\b")
_render_lock = threading.Lock()


@functools.cache
def notebook_renderer() -> str:
    """This rendering's version with nbconvert's and nh3's: a cache key part."""
    from importlib.metadata import version

    return f"{NOTEBOOK_RENDERER}-nbconvert{version('nbconvert')}-nh3{version('nh3')}"


class BrokenNotebook(ValueError):
    """Not a notebook that nbformat reads and validates; the message says why."""


def read_notebook(text: str) -> Any:
    """The notebook (nbformat 4) in ``text``, validated; ``BrokenNotebook`` otherwise."""
    import nbformat
    from nbformat.reader import NotJSONError

    try:
        notebook = nbformat.convert(nbformat.reader.reads(text), 4)
        nbformat.validate(notebook)
    except NotJSONError:
        raise BrokenNotebook("it is not valid JSON") from None
    except nbformat.ValidationError as error:
        raise BrokenNotebook(f"it does not follow the notebook format: {error.message}") from None
    except Exception:  # untrusted input: any other failure to read it is a broken notebook
        raise BrokenNotebook("nbformat cannot read it") from None
    return notebook


def _cap_cells(notebook: Any) -> int:
    """Keeps the cells within ``MAX_LINES`` lines of source (a cell cut at the cap); how
    many lines were left out."""
    budget, more, kept = MAX_LINES, 0, []
    for cell in notebook.cells:
        lines = str(cell.get("source", "")).split("\n")
        if budget <= 0:
            more += len(lines)
            continue
        if len(lines) > budget:
            more += len(lines) - budget
            cell["source"] = "\n".join(lines[:budget])
        kept.append(cell)
        budget -= len(lines)
    notebook.cells = kept
    return more


@functools.cache
def _exporter() -> Any:
    """nbconvert's HTMLExporter, built once per process (its templates compile on first use)."""
    from nbconvert import HTMLExporter
    from traitlets.config import Config

    config = Config()
    config.NbConvertBase.display_data_priority = _NB_PRIORITY
    quiet = logging.getLogger("grading.code_view.nbconvert")
    quiet.setLevel(logging.ERROR)  # not a warning per image without a description
    return HTMLExporter(config=config, template_name="basic", exclude_anchor_links=True, log=quiet)


def _attribute(element: str, attribute: str, value: str) -> str | None:
    """nh3's attribute filter: known classes only, images only from inline data, no data:
    links; nbconvert's stock description of an image becomes a short one."""
    if attribute == "class":
        kept = [c for c in value.split() if c in _NB_CLASSES or _NB_CLASS_PATTERN.match(c)]
        return " ".join(kept) or None
    if attribute == "src":
        return value if _IMAGE_DATA.match(value) else None
    if attribute == "href":
        return None if value.strip().lower().startswith("data:") else value
    if element == "img" and attribute == "alt" and value == _NBCONVERT_ALT:
        return NOTEBOOK_ALT
    return value


def clean_notebook_html(html: str) -> str:
    """nbconvert's HTML made safe to show in a portal page: scripts, styles, frames, event
    handlers, inline styles, ids and external resources removed; headings moved down three
    levels so a notebook's ``#`` sits under the file's name."""
    import nh3

    cleaned = nh3.clean(
        html,
        tags=_NB_TAGS,
        clean_content_tags=_NB_DROPPED,
        attributes=_NB_ATTRIBUTES,
        attribute_filter=_attribute,
        url_schemes={"http", "https", "mailto", "data"},
        url_relative="deny",
        strip_comments=True,
    )
    # nh3 writes every tag itself and escapes ``<`` in text, so a heading tag is a tag.
    return _HEADING.sub(lambda m: f"<{m[1]}h{min(6, int(m[2]) + 3)}", cleaned)


def render_notebook(text: str, notes: Sequence[Note]) -> Rendered:
    """A Jupyter notebook as nbconvert renders it (markdown as HTML, code highlighted,
    outputs with their images), cleaned, at most ``MAX_LINES`` lines of cells. Annotations are
    all listed below it. ``BrokenNotebook`` when nbformat cannot read or validate it."""
    notebook = read_notebook(text)
    more = _cap_cells(notebook)
    with _render_lock:  # the exporter registers filters per call: one rendering at a time
        body, _ = _exporter().from_notebook_node(notebook)
    html = f'<div class="notebook">{clean_notebook_html(body)}</div>'
    return Rendered(html=html, more_lines=more, unplaced=list(notes))
