"""Statistics of an assignment for staff: over the students' grades as the one grade
selector computes them (:func:`grading.selectors.final_grades.grade_rows`), the assignment's
points and each question's, overall and per section (``grading.statistics`` does the
arithmetic). A grade counts when it has points: ungraded and excused students are left out;
once grades are released, a missing submission counts as its 0, as on every other page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from courses.models import Assignment, Enrollment, Role
from grading import statistics
from grading.selectors.final_grades import GradeCell, grade_rows
from grading.selectors.grades import staff_check
from grading.selectors.staff_gradebook import gradebook_roster
from portal.errors import NotFound


@dataclass(frozen=True)
class QuestionStatistics:
    slug: str
    title: str
    max_points: Decimal
    summary: statistics.Summary


@dataclass(frozen=True)
class SectionStatistics:
    code: str
    level: str
    max_points: Decimal
    summary: statistics.Summary


@dataclass(frozen=True)
class AssignmentStatistics:
    assignment: Assignment
    released: bool
    max_points: Decimal
    summary: statistics.Summary
    questions: list[QuestionStatistics]
    sections: list[SectionStatistics]


def _scored(cells: list[GradeCell]) -> list[Decimal]:
    return [c.points for c in cells if c.points is not None and not c.excused]


def _questions(assignment: Assignment, cells: list[GradeCell]) -> list[QuestionStatistics]:
    """Per question of the assignment (when it has several), the points of the students
    it is offered to (their cells list it) who have points on it."""
    questions = list(assignment.questions.all())
    if len(questions) < 2:
        return []
    scores: dict[str, list[Decimal]] = {q.slug: [] for q in questions}
    for cell in cells:
        if cell.excused:
            continue
        for q in cell.questions:
            if q.points is not None:
                scores[q.slug].append(q.points)
    return [
        QuestionStatistics(
            q.slug, q.shown, q.points, statistics.summarize(scores[q.slug], q.points)
        )
        for q in questions
    ]


def assignment_statistics(
    *, enrollment: Enrollment, assignment: Assignment, now: datetime
) -> AssignmentStatistics:
    """Staff: the statistics of one assignment over the course's enrolled students (the
    waitlisted are not in the class's numbers), overall, per question and per section.
    Queries as :func:`grade_rows` for the whole roster, over this assignment only (flat in
    the number of students)."""
    staff_check(enrollment)
    if assignment.course_id != enrollment.course_id:
        raise NotFound("There is no such assignment in this course.")
    students = list(gradebook_roster(enrollment.course_id).filter(role=Role.STUDENT))
    # Rows over this assignment only: its cells are the full rows' (grade_rows's ``only``).
    rows = grade_rows(
        course_id=enrollment.course_id, students=students, now=now, only={assignment.slug}
    )
    cells = [(row.enrollment, row.cell(assignment.slug)) for row in rows]
    all_cells = [c for _, c in cells]
    maximum = max((c.max_points for c in all_cells), default=assignment.points)
    by_section: dict[str, list[GradeCell]] = {}
    levels: dict[str, str] = {}
    for who, cell in cells:
        if who.section is not None:
            by_section.setdefault(who.section.code, []).append(cell)
            levels[who.section.code] = who.section.level
    return AssignmentStatistics(
        assignment=assignment,
        released=bool(all_cells and all_cells[0].released),
        max_points=maximum,
        summary=statistics.summarize(_scored(all_cells), maximum),
        questions=_questions(assignment, all_cells),
        sections=[
            SectionStatistics(
                code,
                levels[code],
                max(c.max_points for c in section_cells),
                statistics.summarize(
                    _scored(section_cells), max(c.max_points for c in section_cells)
                ),
            )
            for code, section_cells in sorted(by_section.items())
        ],
    )
