"""Submitted files as readable HTML, pure (no ORM, no settings): source code highlighted by
Pygments with line numbers and staff annotations under their lines, Jupyter notebooks cell by
cell, and the rules for what is not shown as text (binaries, files too large). Every piece of
the file and of the annotations is escaped here: the HTML strings returned are safe to show
as they are (the caller marks them safe)."""

from __future__ import annotations

import json
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


def render_code(filename: str, text: str, notes: Sequence[Note], *, anchor: str) -> Rendered:
    """Source code with line numbers, at most ``MAX_LINES`` lines, each annotated line
    marked with its comments under it."""
    lines = highlight_lines(text, _lexer(filename))
    shown = lines[:MAX_LINES]
    html = _lines_html(shown, _by_line(n for n in notes if n.line <= len(shown)), anchor)
    unplaced = [n for n in notes if n.line > len(shown)]
    return Rendered(html=html, more_lines=len(lines) - len(shown), unplaced=unplaced)


def _source(cell: Mapping[str, Any]) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def _outputs_html(cell: Mapping[str, Any]) -> str:
    """A code cell's text outputs (streams, results, errors) as escaped text; others are
    named, not shown."""
    parts = []
    for output in cell.get("outputs") or []:
        if not isinstance(output, dict):
            continue
        data = output.get("data") or {}
        if output.get("output_type") == "stream":
            text = _source({"source": output.get("text", "")})
        elif output.get("output_type") == "error":
            text = f"{output.get('ename', '')}: {output.get('evalue', '')}"
        elif "text/plain" in data:
            text = _source({"source": data["text/plain"]})
        else:
            text = "(output not shown here)"
        parts.append(f'<pre class="nb-output">{escape(text)}</pre>')
    return "".join(parts)


def _cell_html(cell: Mapping[str, Any], lines: list[str], language: str, anchor: str) -> str:
    if cell.get("cell_type") == "code":
        code = _lines_html(lines, {}, anchor)
        return f'<div class="nb-cell nb-code">{code}{_outputs_html(cell)}</div>'
    text = escape("\n".join(lines))
    return f'<div class="nb-cell nb-text"><pre>{text}</pre></div>'


def _notebook_language(notebook: Mapping[str, Any]) -> str:
    metadata = notebook.get("metadata") or {}
    info = metadata.get("language_info") or metadata.get("kernelspec") or {}
    language = info.get("name") or info.get("language") or "python"
    return str(language) if isinstance(language, str) else "python"


def render_notebook(text: str, notes: Sequence[Note], *, anchor: str) -> Rendered | None:
    """A Jupyter notebook cell by cell: code highlighted (its text outputs under it),
    markdown and raw cells as plain text, at most ``MAX_LINES`` lines of cells. None when
    the file is not a notebook's JSON. Annotations are all listed below it."""
    try:
        notebook = json.loads(text)
    except ValueError:
        return None
    cells = notebook.get("cells") if isinstance(notebook, dict) else None
    if not isinstance(cells, list):
        return None
    language = _notebook_language(notebook)
    parts, budget, more = [], MAX_LINES, 0
    for index, cell in enumerate(c for c in cells if isinstance(c, dict)):
        source = _source(cell)
        if cell.get("cell_type") == "code":
            lines = highlight_lines(source, _lexer("", language))
        else:
            lines = source.split("\n")
        if budget <= 0:
            more += len(lines)
            continue
        more += max(0, len(lines) - budget)
        parts.append(_cell_html(cell, lines[:budget], language, f"{anchor}-c{index}"))
        budget -= len(lines)
    html = f'<div class="notebook">{"".join(parts)}</div>'
    return Rendered(html=html, more_lines=more, unplaced=list(notes))
