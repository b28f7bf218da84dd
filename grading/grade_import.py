"""A CSV of grades to import, read and checked, pure (no ORM, no settings): the header
``username,points`` or ``username,points,question`` (any case, spaces around names
ignored), one student (and question) per line, points a number >= 0 with at most two
decimals. Every problem is found in one go, each naming its line (the header is line 1),
so that a refused file can be fixed at once; nothing is imported unless all is well."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 20_000
HEADERS = (["username", "points"], ["username", "points", "question"])


@dataclass(frozen=True)
class ImportRow:
    line: int
    username: str
    points: Decimal
    question: str


@dataclass(frozen=True)
class Parsed:
    rows: list[ImportRow]
    problems: list[str]


def _text(data: bytes) -> str | None:
    if b"\0" in data:
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None


def _points(typed: str) -> Decimal | None:
    try:
        value = Decimal(typed)
    except InvalidOperation:
        return None
    if not value.is_finite() or value < 0 or value.as_tuple().exponent < -2:  # type: ignore[operator]
        return None
    return value


def _row(line: int, cells: list[str], width: int) -> ImportRow | str:
    cells = [c.strip() for c in cells]
    if len(cells) != width:
        return f"line {line}: {len(cells)} values, the header names {width}"
    username, typed = cells[0], cells[1]
    if not username:
        return f"line {line}: no username"
    points = _points(typed)
    if points is None:
        return f"line {line}: '{typed}' is not a number of points (like 3 or 2.5, at least 0)"
    return ImportRow(line, username, points, cells[2] if width == 3 else "")


def parse_grades_csv(data: bytes) -> Parsed:
    """The rows of a grades CSV, or the problems that keep it from being imported."""
    if len(data) > MAX_BYTES:
        return Parsed([], [f"the file is over {MAX_BYTES // (1024 * 1024)} MB"])
    text = _text(data)
    if text is None:
        return Parsed([], ["the file is not UTF-8 text (save it as CSV, UTF-8)"])
    lines = list(csv.reader(io.StringIO(text)))
    header = [h.strip().lower() for h in lines[0]] if lines else []
    if header not in HEADERS:
        return Parsed(
            [], ["line 1: the header must be username,points or username,points,question"]
        )
    rows: list[ImportRow] = []
    problems: list[str] = []
    seen: dict[tuple[str, str], int] = {}
    for line, cells in enumerate(lines[1:], start=2):
        if not any(c.strip() for c in cells):
            continue  # blank lines are skipped
        row = _row(line, cells, len(header))
        if isinstance(row, str):
            problems.append(row)
            continue
        key = (row.username, row.question)
        if key in seen:
            problems.append(f"line {line}: {row.username} is already on line {seen[key]}")
            continue
        seen[key] = line
        rows.append(row)
    if len(rows) > MAX_ROWS:
        problems.append(f"more than {MAX_ROWS} lines")
    if not rows and not problems:
        problems.append("the file has no grades under its header")
    return Parsed(rows, problems)
