"""A roster CSV before anything is written: its columns, reading it into rows, and every
problem its rows have (a row's own values, and section capacities after the import).

``roster_import`` (in ``courses.services.roster``) refuses the file whole with
:class:`RosterRefused` if any of these finds a problem."""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import models
from django.db.models import Count

from courses.models import SUBMITTING_ROLES, Course, Enrollment, Role, Section
from courses.services.reporting import FileRefused

if TYPE_CHECKING:
    from _csv import Reader as CsvReader

ROSTER_COLUMNS = ("username", "email", "first_name", "last_name", "section", "role")


class RosterRefused(FileRefused):
    """A roster refused whole; ``problems`` has one ``line N: <reason>`` (or similar) each."""

    code = "invalid_roster"


@dataclass(frozen=True)
class RosterRow:
    line: int
    username: str
    email: str
    first_name: str
    last_name: str
    section: str
    role: str


# --- reading ---------------------------------------------------------------------------------


def roster_read(path: Path) -> tuple[list[RosterRow], list[tuple[int, str]]]:
    """The rows of the file, and the lines that are not rows (wrong number of fields). A file
    that cannot be read at all, or has a bad header, is refused here."""
    reader = csv.reader(io.StringIO(_roster_text(path), newline=""))
    problems: list[str] = []
    malformed: list[tuple[int, str]] = []
    rows: list[RosterRow] = []
    header: list[str] | None = None
    try:
        for line, values in _lines(reader):
            if header is None:
                header = values
                problems += _header_problems(line, header)
                if problems:
                    break
            elif len(values) != len(header):
                malformed.append((line, f"expected {len(header)} fields, found {len(values)}"))
            else:
                rows.append(RosterRow(line=line, **dict(zip(header, values, strict=True))))
    except csv.Error as exc:
        problems.append(f"line {reader.line_num}: not valid CSV ({exc})")
    if header is None and not problems:
        problems.append(
            f"line 1: the file is empty; expected the header {','.join(ROSTER_COLUMNS)}"
        )
    if problems:
        raise RosterRefused(problems)
    return rows, malformed


def _roster_text(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise RosterRefused([f"{path}: cannot be read ({exc.strerror or exc})"]) from None
    except UnicodeDecodeError as exc:
        raise RosterRefused([f"{path}: not UTF-8 text (byte {exc.start})"]) from None


def _lines(reader: CsvReader) -> Iterator[tuple[int, list[str]]]:
    """Each record that is not blank, its values stripped, with the line it starts on (a quoted
    value may span lines)."""
    last_line = 0
    for fields in reader:
        line, last_line = last_line + 1, reader.line_num
        values = [value.strip() for value in fields]
        if any(values):
            yield line, values


def _header_problems(line: int, header: list[str]) -> list[str]:
    counts = Counter(header)
    missing = [c for c in ROSTER_COLUMNS if c not in counts]
    unexpected = [c for c in counts if c not in ROSTER_COLUMNS]
    repeated = [c for c, n in counts.items() if n > 1 and c in ROSTER_COLUMNS]
    if not (missing or unexpected or repeated):
        return []
    details = [
        f"{label}: {', '.join(names)}"
        for label, names in (("missing", missing), ("unknown", unexpected), ("twice", repeated))
        if names
    ]
    return [
        f"line {line}: the header must have the columns {','.join(ROSTER_COLUMNS)} "
        f"(in any order); {'; '.join(details)}"
    ]


# --- checking --------------------------------------------------------------------------------


def roster_check(
    course: Course, sections: dict[str, Section], rows: list[RosterRow]
) -> list[tuple[int, str]]:
    """Each row's problems, as (line, reason)."""
    check = _RowCheck(course, sections)
    return [(row.line, reason) for row in rows for reason in check(row)]


class _RowCheck:
    """The reasons one row is refused, in column order. Remembers the usernames it has seen, to
    refuse a username the file lists twice."""

    def __init__(self, course: Course, sections: dict[str, Section]) -> None:
        self.course = course
        self.sections = sections
        user_model = get_user_model()
        validator = user_model.username_validator  # type: ignore[attr-defined]
        self.username_validator: Callable[[str], None] = validator
        self.limits = {
            name: _max_length(user_model, name)
            for name in ("username", "email", "first_name", "last_name")
        }
        self.first_seen: dict[str, int] = {}

    def __call__(self, row: RosterRow) -> list[str]:
        return [
            *self._username(row),
            *self._email(row),
            *self._names(row),
            *self._role_and_section(row),
        ]

    def _username(self, row: RosterRow) -> list[str]:
        if not row.username:
            return ["username is empty"]
        reasons: list[str] = []
        limit = self.limits["username"]
        if not _valid(self.username_validator, row.username, limit):
            reasons.append(
                f"username {row.username!r} is not valid (at most "
                f"{limit} letters, digits and @ . + - _)"
            )
        if row.username in self.first_seen:
            reasons.append(
                f"username {row.username!r} already appears on line {self.first_seen[row.username]}"
            )
        else:
            self.first_seen[row.username] = row.line
        return reasons

    def _email(self, row: RosterRow) -> list[str]:
        if not row.email:
            return ["email is empty"]
        if not _valid(validate_email, row.email, self.limits["email"]):
            return [f"email {row.email!r} is not a valid email address"]
        return []

    def _names(self, row: RosterRow) -> list[str]:
        return [
            f"{name} is longer than {self.limits[name]} characters"
            for name in ("first_name", "last_name")
            if len(getattr(row, name)) > self.limits[name]
        ]

    def _role_and_section(self, row: RosterRow) -> list[str]:
        reasons: list[str] = []
        if row.role not in Role.values:
            reasons.append(f"role {row.role!r} is not one of {', '.join(Role.values)}")
        if row.section and row.section not in self.sections:
            known = ", ".join(sorted(self.sections)) or "it has none"
            reasons.append(
                f"section {row.section!r} is not a section of {self.course.slug} ({known})"
            )
        elif not row.section and row.role in SUBMITTING_ROLES:
            reasons.append(f"section is required for role {row.role!r}")
        return reasons


def _valid(validator: Callable[[str], object], value: str, max_length: int) -> bool:
    """Whether ``value`` passes Django's ``validator`` and fits the column."""
    try:
        validator(value)
    except ValidationError:
        return False
    return len(value) <= max_length


def _max_length(model: type[models.Model], name: str) -> int:
    field = model._meta.get_field(name)
    if isinstance(field, models.CharField) and field.max_length is not None:
        return field.max_length
    raise TypeError(f"{model.__name__}.{name} is not a CharField with a max_length")


def capacity_problems(
    course: Course, sections: dict[str, Section], rows: list[RosterRow]
) -> list[str]:
    """Students per section after the import: those enrolled and not in the file, plus the
    file's. Waitlisted people are not limited."""
    listed = {row.username for row in rows}
    staying = dict(
        Enrollment.objects.filter(course=course, role=Role.STUDENT, section__isnull=False)
        .exclude(user__username__in=listed)
        .values_list("section_id")
        .annotate(n=Count("id"))
    )
    problems: list[str] = []
    for code, section in sections.items():
        mine = [r for r in rows if r.role == Role.STUDENT and r.section == code]
        already = staying.get(section.pk, 0)
        total = already + len(mine)
        if mine and total > section.capacity:
            first_over = mine[max(section.capacity - already, 0)]
            problems.append(
                f"section {code}: capacity {section.capacity} exceeded, {total} students after "
                f"the import (line {first_over.line} is the first over it)"
            )
    return problems
