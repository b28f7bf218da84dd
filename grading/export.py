"""The gradebook as a CSV in Canvas's import layout. Pure functions: standard library only.

What Canvas writes and reads (instructure/canvas-lms: ``lib/gradebook_exporter.rb``,
``app/models/gradebook_importer.rb``, ``Assignment#title_with_id`` / ``Assignment.title_and_id``,
``I18n.n`` in ``config/initializers/i18n.rb``):

* Header: ``Student``, ``ID``, ``SIS User ID``, ``SIS Login ID``, ``Section``, one column per
  assignment titled ``"<title> (<canvas assignment id>)"``, then read-only totals such as
  ``Current Score``, ``Unposted Current Score``, ``Final Score``, ``Unposted Final Score``
  (per assignment group too).
* Second row: ``"    Points Possible"`` (four leading spaces), empty student cells, each
  assignment's points, ``(read only)`` under every total.
* Student rows: the sortable name ``"Last, First"``, the Canvas user id, SIS user id, login id,
  section, then scores written with exactly 2 decimals (``I18n.n(score, precision: 2)``, that is
  ``number_to_rounded``: ``"7.50"``; halves round up), ``EX`` for excused, empty for ungraded.
* The importer finds the header by ``Student``/``ID`` and the last student column ``Section``;
  drops every column whose title *contains* ``Current Score``, ``Current Points``,
  ``Current Grade``, ``Final Score``, ``Final Points``, ``Final Grade`` or ``Override …``; reads
  an assignment column's points from the ``Points Possible`` row.
* Students are matched by the ``ID`` column (Canvas user id), else by SIS User ID, else by SIS
  Login ID, else by name (``name`` or ``sortable_name``); an unmatched row is a new student.
* Assignments are matched by ``title_and_id``: a header ending in ``" (<digits>)"`` is looked up by
  that Canvas id; failing that (or with no such suffix) by a Canvas assignment whose title equals
  the *whole* header; failing that a new assignment is created, titled with the header minus any
  ``" (<digits>)"`` suffix.

Decisions taken here, from those facts:

* **Assignment columns.** We have no Canvas ids, and writing one of ours in the ``(id)`` slot
  does harm: a number (our primary key) is looked up as a *Canvas* id (it may hit an unrelated
  assignment) and, when it does not, never matches an existing assignment by title and creates a
  fresh one on every import; a slug (``"HW1 (hw1)"``) is not digits, so Canvas compares the whole
  header with titles and creates an assignment literally called ``"HW1 (hw1)"``. So a column is
  titled with the assignment's **bare title** (``HW1``): the import matches the Canvas assignment
  of that title, or creates it once and matches it on every later import.
  ``ExportAssignment.canvas_id``, when known, gives ``"HW1 (12345)"`` and an exact match.
  Two assignments with the same column title would both be read into Canvas's first such column,
  so repeated titles get `` [<our id>]`` appended (each then a distinct, new Canvas assignment).
  Known limits: a title that itself ends in ``" (<digits>)"`` is read by Canvas as carrying an
  id; a title containing ``Final Grade`` and the like is skipped by the importer.
* **Totals.** One read-only column, ``Current Score``: our final percent (the weighted percent
  over released grades, the bonus included), which is what Canvas calls the current score (the
  score so far). The importer ignores it by name.
* **Student columns.** ``Student``: ``"Last, First"`` (just one of them when the other is blank,
  the username when both are). ``ID``: our user id, as asked, or left empty with
  ``include_user_ids=False``; beware that Canvas looks this number up as a *Canvas* user id first,
  so where our ids could coincide with Canvas ids of other students, leave it empty and let the
  SIS columns match. ``SIS User ID``: the username. ``SIS Login ID``: the username by default
  (where students sign in to Canvas with the same campus account), or the email with
  ``login_id="email"``. ``Section``: the section code.
* **Numbers** are written like Canvas's exporter: exactly 2 decimals, ROUND_HALF_UP, no thousands
  separator; a non-finite number is refused with ``ValueError``.
* **CSV injection** (OWASP "CSV Injection"; ASVS 5.0 V1.2.10): every *text* cell (names, ids,
  section, column titles) that starts with ``=``, ``+``, ``-``, ``@``, tab, carriage return,
  line feed or NUL, or whose first non-blank character is one of ``=+-@`` (Canvas's own check is
  ``^\\s*=``), or their full-width forms, gets a single quote ``'`` in front, so a spreadsheet
  shows it as text. Number cells are written by us from ``Decimal`` and hold only digits, a point
  and a possible minus sign, so they are left alone (``-1.00`` stays a number). Quoting of
  commas, quotes and line breaks is RFC 4180's, by the ``csv`` module; lines end with CRLF.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal, Protocol

__all__ = [
    "EXCUSED",
    "POINTS_POSSIBLE",
    "READ_ONLY",
    "STUDENT_COLUMNS",
    "TOTAL_COLUMNS",
    "ExportAssignment",
    "ExportRow",
    "ScoreLike",
    "canvas_csv",
    "format_number",
    "neutralise",
]

STUDENT_COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
TOTAL_COLUMNS = ("Current Score",)
POINTS_POSSIBLE = "    Points Possible"
READ_ONLY = "(read only)"
EXCUSED = "EX"

_CENT = Decimal("0.01")
# OWASP's list (= + - @ tab CR), ASVS's NUL, a line feed, and the full-width forms of = + - @.
_FORMULA_FIRST = frozenset("=+-@\t\r\n\x00\uff1d\uff0b\uff0d\uff20")
_FORMULA_AFTER_BLANKS = frozenset("=+-@\uff1d\uff0b\uff0d\uff20")


class ScoreLike(Protocol):
    """Anything with ``points`` and ``excused``, such as ``grading.gradebook.Score``."""

    @property
    def points(self) -> Decimal | None: ...

    @property
    def excused(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class ExportAssignment:
    """``id``: our key for the assignment (its slug), used in ``ExportRow.scores``.
    ``canvas_id``: the Canvas assignment id, when someone has recorded it."""

    id: str
    title: str
    points_possible: Decimal
    canvas_id: int | None = None


@dataclass(frozen=True, slots=True)
class ExportRow:
    last_name: str
    first_name: str
    user_id: int | str
    username: str
    email: str
    section: str
    scores: Mapping[str, ScoreLike | Decimal | None]  # by ExportAssignment.id
    final_percent: Decimal | None


def neutralise(text: str) -> str:
    """``text`` made safe to open in a spreadsheet: a leading ``'`` where it could be a formula."""
    if text and (text[0] in _FORMULA_FIRST or text.lstrip()[:1] in _FORMULA_AFTER_BLANKS):
        return "'" + text
    return text


def format_number(value: Decimal) -> str:
    """``value`` as Canvas's exporter writes it: 2 decimals, halves up, no separators."""
    if not isinstance(value, Decimal | int) or isinstance(value, bool):
        raise ValueError(f"expected a Decimal, got {value!r}")
    number = Decimal(value)
    if not number.is_finite():
        raise ValueError(f"expected a finite number, got {value!r}")
    rounded = number.quantize(_CENT, rounding=ROUND_HALF_UP)
    if rounded == 0:
        rounded = abs(rounded)  # never "-0.00"
    return f"{rounded:f}"


def _column_titles(assignments: Sequence[ExportAssignment]) -> list[str]:
    def base(a: ExportAssignment) -> str:
        return a.title if a.canvas_id is None else f"{a.title} ({a.canvas_id})"

    ids = Counter(a.id for a in assignments)
    if repeated := sorted(i for i, n in ids.items() if n > 1):
        raise ValueError(f"assignment ids appear more than once: {', '.join(repeated)}")
    counts = Counter(base(a) for a in assignments)
    return [
        neutralise(base(a) if counts[base(a)] == 1 else f"{base(a)} [{a.id}]") for a in assignments
    ]


def _student_name(row: ExportRow) -> str:
    last, first = row.last_name.strip(), row.first_name.strip()
    if last and first:
        return f"{last}, {first}"
    return last or first or row.username


def _score_cell(score: ScoreLike | Decimal | None) -> str:
    if score is None:
        return ""
    if isinstance(score, Decimal):
        return format_number(score)
    if score.excused:
        return EXCUSED
    return "" if score.points is None else format_number(score.points)


def canvas_csv(
    rows: Iterable[ExportRow],
    assignments: Sequence[ExportAssignment],
    *,
    include_user_ids: bool = True,
    login_id: Literal["username", "email"] = "username",
) -> str:
    """The gradebook in Canvas's import layout (see the module docstring), rows in the order
    given."""
    if login_id not in ("username", "email"):
        raise ValueError(f"login_id must be 'username' or 'email', got {login_id!r}")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([*STUDENT_COLUMNS, *_column_titles(assignments), *TOTAL_COLUMNS])
    writer.writerow(
        [
            POINTS_POSSIBLE,
            *[""] * (len(STUDENT_COLUMNS) - 1),
            *(format_number(a.points_possible) for a in assignments),
            *[READ_ONLY] * len(TOTAL_COLUMNS),
        ]
    )
    for row in rows:
        writer.writerow(
            [
                neutralise(_student_name(row)),
                neutralise(str(row.user_id)) if include_user_ids else "",
                neutralise(row.username),
                neutralise(row.email if login_id == "email" else row.username),
                neutralise(row.section),
                *(_score_cell(row.scores.get(a.id)) for a in assignments),
                "" if row.final_percent is None else format_number(row.final_percent),
            ]
        )
    return buffer.getvalue()


def table_csv(header: Sequence[str], rows: Iterable[Sequence[str | Decimal | None]]) -> str:
    """A plain CSV (the readiness list): numbers as :func:`format_number` writes them, None
    as an empty cell, text neutralised against spreadsheet formulas."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(
            [
                ""
                if cell is None
                else format_number(cell)
                if isinstance(cell, Decimal)
                else neutralise(cell)
                for cell in row
            ]
        )
    return out.getvalue()
