"""PS0 readiness for staff: the students (and waitlisted students, who do PS0 too) whose
score on an assignment with a ``readiness_threshold`` is at or below it, as the one grade
selector flags them (``readiness_flag``; grades released, scored, not excused), with that
score. Under anonymous grading a TA who sees that assignment by pseudonym gets no list
(``hidden``): it would pair names with scores."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from courses.models import Assignment, Enrollment
from grading.selectors.final_grades import course_assignments, grade_rows
from grading.selectors.grades import staff_check
from grading.selectors.staff_gradebook import gradebook_roster, withheld_for


@dataclass(frozen=True)
class ReadinessRow:
    enrollment: Enrollment
    assignment: Assignment
    points: Decimal
    max_points: Decimal
    percent: Decimal | None
    threshold: Decimal


@dataclass(frozen=True)
class Readiness:
    assignments: list[Assignment]  # those with a readiness threshold
    rows: list[ReadinessRow]
    hidden: bool  # withheld from this viewer (anonymous grading)


def readiness_list(*, enrollment: Enrollment, now: datetime) -> Readiness:
    """Staff: the students flagged as maybe not prepared, by last name, each with their
    score on the readiness assignment(s) at or below its threshold. Queries as
    :func:`grade_rows` for the roster (flat in the number of students)."""
    staff_check(enrollment)
    gauged = list(
        course_assignments(enrollment.course_id).filter(readiness_threshold__isnull=False)
    )
    withheld = withheld_for(enrollment=enrollment, assignments=gauged, now=now)
    if withheld.slugs:
        return Readiness(assignments=gauged, rows=[], hidden=True)
    if not gauged:
        return Readiness(assignments=[], rows=[], hidden=False)
    # Rows over the readiness assignments only: their cells and the readiness flag are the
    # full rows' (see grade_rows's ``only``), at a fraction of the cost.
    rows = grade_rows(
        course_id=enrollment.course_id,
        students=list(gradebook_roster(enrollment.course_id)),
        now=now,
        questions=False,
        only={a.slug for a in gauged},
    )
    out = []
    for row in rows:
        if row.report.readiness_flag is not True:
            continue
        # The flag is the selector's (rule 11 of grading.gradebook); each scored
        # readiness assignment is shown beside it.
        for a in gauged:
            cell = row.cell(a.slug)
            if cell.points is not None and not cell.excused:
                out.append(
                    ReadinessRow(
                        row.enrollment,
                        a,
                        cell.points,
                        cell.max_points,
                        cell.percent,
                        a.readiness_threshold or Decimal(0),
                    )
                )
    return Readiness(assignments=gauged, rows=out, hidden=False)
