"""Grades imported from a CSV by the instructor (participation, or grades kept elsewhere):
all or nothing. The file is read by :mod:`grading.grade_import`; here each line's student
and question are checked against the course, every problem named by its line, and, when
all is well, each grade's points are set (as a staff override, as ``grade_set`` does) and
the students' grades recomputed in one transaction, the history saying where they came
from."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from courses.models import SUBMITTING_ROLES, Assignment, Enrollment, Role
from grading import scoring
from grading.grade_import import MAX_BYTES, ImportRow, parse_grades_csv
from grading.models import Grade, GradeChange
from grading.selectors.grades import question_specs
from grading.services.recompute import grades_recompute
from portal.errors import NotFound, PermissionDeniedError, ValidationFailed
from portal.numbers import plain

SHOWN_PROBLEMS = 20
GRADES_IMPORT_MAX_BYTES = MAX_BYTES  # what the pages and the API read of an upload


@dataclass(frozen=True)
class Imported:
    grades: int
    students: int


def _row_problem(
    row: ImportRow, assignment: Assignment, specs: dict[str, scoring.QuestionSpec]
) -> str | None:
    spec = specs.get(row.question)
    if spec is None:
        if "" in specs:
            return f"line {row.line}: {assignment.title} has no questions: leave the question out"
        if not row.question:
            return (
                f"line {row.line}: {assignment.title} is graded by question: name one "
                f"({', '.join(specs)}) in a question column"
            )
        return f"line {row.line}: '{row.question}' is not a question of {assignment.title}"
    if row.points > spec.points:
        most = plain(spec.points)
        what = (
            f"the {most} points of {row.question}"
            if row.question
            else f"{assignment.title}'s {most} points"
        )
        return f"line {row.line}: {plain(row.points)} is above {what}"
    return None


def _refuse(problems: list[str]) -> ValidationFailed:
    shown = "; ".join(problems[:SHOWN_PROBLEMS])
    more = len(problems) - SHOWN_PROBLEMS
    message = f"Nothing was imported: {shown}" + (f" (and {more} more)" if more > 0 else "") + "."
    return ValidationFailed(message, fields={"file": problems})


def grades_import(
    *, by: Enrollment, assignment: Assignment, data: bytes, filename: str = ""
) -> Imported:
    """The instructor imports a grades CSV (``username,points[,question]``) into the
    assignment: every line checked first (400 ``invalid`` naming each bad line, nothing
    written), then every grade set and recomputed in one transaction."""
    if by.course_id != assignment.course_id:
        raise NotFound("There is no such assignment in this course.")
    if by.role != Role.INSTRUCTOR:
        raise PermissionDeniedError("Only the instructor imports grades.")
    parsed = parse_grades_csv(data)
    problems = list(parsed.problems)
    students = dict(
        Enrollment.objects.filter(
            course_id=assignment.course_id,
            role__in=sorted(SUBMITTING_ROLES),
            user__username__in={r.username for r in parsed.rows},
        ).values_list("user__username", "user_id")
    )
    specs = {q.slug: q for q in question_specs(assignment)}
    for row in parsed.rows:
        if row.username not in students:
            problems.append(f"line {row.line}: '{row.username}' is not a student of this course")
        elif problem := _row_problem(row, assignment, specs):
            problems.append(problem)
    if problems:
        raise _refuse(sorted(problems, key=_line_of))
    return _write(by, assignment, parsed.rows, students, filename)


def _line_of(problem: str) -> int:
    head = problem.split(":", 1)[0]
    return int(head[5:]) if head.startswith("line ") and head[5:].isdigit() else 0


def _write(
    by: Enrollment,
    assignment: Assignment,
    rows: list[ImportRow],
    students: dict[str, int],
    filename: str,
) -> Imported:
    user_ids = {students[r.username] for r in rows}
    with transaction.atomic():
        existing = {
            (g.student_id, g.question): g
            for g in Grade.objects.select_for_update().filter(
                assignment=assignment, student_id__in=user_ids
            )
        }
        new, changed = [], []
        for row in rows:
            key = (students[row.username], row.question)
            grade = existing.get(key)
            if grade is None:
                new.append(
                    Grade(
                        assignment=assignment,
                        student_id=key[0],
                        question=row.question,
                        override=row.points,
                    )
                )
            else:
                grade.override = row.points
                changed.append(grade)
        Grade.objects.bulk_create(new)
        Grade.objects.bulk_update(changed, ["override"])
        grades_recompute(
            assignment=assignment,
            user_ids=user_ids,
            source=GradeChange.Source.STAFF,
            by=by.user,
            detail=f"imported from {filename or 'a CSV file'}",
        )
    return Imported(grades=len(rows), students=len(user_ids))
