"""What sorting, filtering and exporting a whole course's gradebook read of each student (the
final percent, each category's percent, each assignment's points, which assignments are
missing or excused, the readiness flag), taken from :func:`grade_rows` (the one selector) and
remembered per process, so that sorting 10,000 students recomputes only the students whose
grades changed since the last time.

A student's remembered keys are used only while everything :func:`grade_rows` read for them
is unchanged:

- the course's configuration as it reads it (every field of the assignments, their questions
  and the categories) and which assignments' grades are released at ``now``: when any of it
  differs, every student is recomputed;
- the student's role and section level;
- a 64-bit fingerprint of the student's grade rows in the course, which PostgreSQL computes
  from exactly the columns :func:`grade_rows` reads (``bit_xor`` over the rows of a hash of
  each row's assignment, question, points, excused, override and review flag): a write by
  any path (a service, ``bulk_update``, ``QuerySet.update``, raw SQL, a deletion) changes it.

The fingerprints are read before the grades are, so a grade written in between is
recomputed at the next read, never kept stale. Elsewhere than on PostgreSQL (the SQLite
demo) nothing is remembered: every read computes every student."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import connection, models

from courses.models import SUBMITTING_ROLES, Assignment, Category, Enrollment
from grading.selectors.final_grades import IN_LIST_MAX, StudentRow, grade_rows
from grading.selectors.grades import grades_released

# (user id, role, section level) of a student, as the roster reads them.
RosterEntry = tuple[int, str, str | None]


@dataclass(frozen=True, slots=True)
class StudentKeys:
    """One student's numbers as :func:`grade_rows` gives them, by assignment and category
    slug; ``tag``: what they were computed for (role, level, grade fingerprint)."""

    tag: tuple[str, str | None, int | None]
    final_percent: Decimal | None
    categories: dict[str, Decimal | None]
    points: dict[str, Decimal | None]
    missing: frozenset[str]
    excused: frozenset[str]
    flagged: bool | None


def keys_of(row: StudentRow, tag: tuple[str, str | None, int | None]) -> StudentKeys:
    report = row.report
    return StudentKeys(
        tag=tag,
        final_percent=report.final_percent,
        categories={c.slug: c.percent for c in report.categories},
        points={c.assignment.slug: c.points for c in row.cells},
        missing=frozenset(c.assignment.slug for c in row.cells if c.missing),
        excused=frozenset(c.assignment.slug for c in row.cells if c.excused),
        flagged=report.readiness_flag,
    )


@dataclass
class _CourseKeys:
    signature: tuple[Any, ...]
    students: dict[int, StudentKeys]


_KEPT_COURSES = 8  # courses remembered per process (the least recently read go first)
_kept: OrderedDict[int, _CourseKeys] = OrderedDict()
_lock = threading.Lock()


def forget() -> None:
    """Forgets every course (tests; the numbers never depend on it)."""
    with _lock:
        _kept.clear()


def _fields(obj: models.Model) -> tuple[Any, ...]:
    return tuple(getattr(obj, f.attname) for f in obj._meta.concrete_fields)


def signature(
    assignments: Sequence[Assignment], categories: Iterable[Category], now: datetime
) -> tuple[Any, ...]:
    """Everything of the course's configuration :func:`grade_rows` reads (more, to be safe:
    every field), and which assignments' grades are released at ``now``. ``assignments``
    come with their questions prefetched."""
    return (
        tuple(
            (_fields(a), tuple(_fields(q) for q in a.questions.all()), grades_released(a, now))
            for a in assignments
        ),
        tuple(_fields(c) for c in categories),
    )


# Each grade row hashed from the columns grade_rows reads, without formatting them as text:
# each column's hash seeded with the previous one's (chained, so that equal changes to two
# rows cannot cancel out), a NULL hashed apart; a student's rows combined by XOR (their
# (assignment, question) pairs are unique, so no two rows are the same).
# A NULL is the seed XOR a constant with alternating bits: PostgreSQL hashes a zero numeric
# to ``seed - 1`` (and NaN to ``seed``), so a constant of the form 0…011…1 (such as 1) would
# make NULL and 0 the same for half of all seeds; an alternating one never equals either.
_FINGERPRINTS = """
    SELECT student_id,
           bit_xor(coalesce(hash_numeric_extended(override, h), h # 3689348814741910323))
    FROM (
        SELECT student_id, override,
               coalesce(hash_numeric_extended(points, h), h # 6148914691236517205) AS h
        FROM (
            SELECT g.student_id, g.points, g.override,
                   hashtextextended(g.question, g.assignment_id * 16
                                    + g.excused::int * 4 + g.needs_review::int * 8) AS h
            FROM grading_grade g
            JOIN courses_assignment a ON a.id = g.assignment_id
            WHERE a.course_id = %s
        ) AS q
    ) AS p
    GROUP BY student_id
"""


def _fingerprints(course_id: int) -> dict[int, int]:
    with connection.cursor() as cursor:
        cursor.execute(_FINGERPRINTS, [course_id])
        return dict(cursor.fetchall())


def remembers() -> bool:
    """Whether keys are remembered here (on PostgreSQL only)."""
    return connection.vendor == "postgresql"


# What a recomputation did, for tests and the benchmark: students recomputed last time.
last_recomputed = 0


def course_keys(
    *,
    course_id: int,
    roster: Sequence[RosterEntry],
    assignments: Sequence[Assignment],
    categories: Iterable[Category],
    now: datetime,
) -> dict[int, StudentKeys]:
    """The keys of the roster's students (by user id), recomputing through
    :func:`grade_rows` only those whose inputs changed since they were remembered (all of
    them where nothing is remembered). Two queries when nothing changed, eight otherwise."""
    global last_recomputed
    if not remembers():
        stale_ids = [uid for uid, _, _ in roster]
        computed = _compute(course_id, stale_ids, now)
        last_recomputed = len(computed)
        return {uid: keys_of(row, ("", None, None)) for uid, row in computed.items()}
    sig = signature(assignments, categories, now)
    fingerprints = _fingerprints(course_id)  # before the grades: see the module's note
    with _lock:
        kept = _kept.get(course_id)
        if kept is None or kept.signature != sig:
            kept = _CourseKeys(signature=sig, students={})
        _kept[course_id] = kept
        _kept.move_to_end(course_id)
        while len(_kept) > _KEPT_COURSES:
            _kept.popitem(last=False)
        students = dict(kept.students)
    tags = {uid: (role, level, fingerprints.get(uid)) for uid, role, level in roster}
    stale = [uid for uid, tag in tags.items() if (k := students.get(uid)) is None or k.tag != tag]
    last_recomputed = len(stale)
    if stale:
        for uid, row in _compute(course_id, stale, now).items():
            students[uid] = keys_of(row, tags[uid])
        with _lock:
            if _kept.get(course_id) is kept:
                kept.students.update({uid: students[uid] for uid in stale if uid in students})
    return {uid: students[uid] for uid in tags if uid in students}


def _compute(course_id: int, user_ids: list[int], now: datetime) -> dict[int, StudentRow]:
    """These students' light rows (no question cells), by user id."""
    wanted = set(user_ids)
    enrollments = Enrollment.objects.filter(
        course_id=course_id, role__in=sorted(SUBMITTING_ROLES)
    ).select_related("user", "section")
    if len(wanted) <= IN_LIST_MAX:
        enrollments = enrollments.filter(user_id__in=wanted)
    students = [e for e in enrollments if e.user_id in wanted]
    rows = grade_rows(course_id=course_id, students=students, now=now, questions=False)
    return {r.enrollment.user_id: r for r in rows}
