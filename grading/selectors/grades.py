"""Reads of grades: whether an assignment's grades are out, a student's points from their
grade rows, and the grade rows with their history for staff."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from django.contrib.auth.models import User
from django.db.models import Prefetch, Q, QuerySet

from courses.anonymity import names_hidden, pseudonym_student_id
from courses.models import STAFF_ROLES, Assignment, Enrollment, Question
from courses.selectors import course_student_get as courses_course_student_get
from grading import scoring
from grading.models import Grade, GradeChange
from portal.errors import ApplicationError, NotFound


def grades_released(assignment: Assignment, now: datetime) -> bool:
    released = assignment.grades_released_at
    return released is not None and released <= now


def question_specs(assignment: Assignment) -> list[scoring.QuestionSpec]:
    """The assignment's questions as scoring sees them, in order; without questions, the
    implicit one worth the assignment's points. Uses prefetched questions when there are."""
    questions = sorted(assignment.questions.all(), key=lambda q: (q.position, q.pk))
    if not questions:
        return scoring.implicit(assignment.points)
    return [
        scoring.QuestionSpec(slug=q.slug, points=q.points, tests=tuple(q.tests or ()))
        for q in questions
    ]


def question_titles(*, assignments: Iterable[Assignment]) -> dict[tuple[int, str], str]:
    """What pages call each question of these assignments, by (assignment id, slug). One
    query."""
    ids = {a.pk for a in assignments}
    return {
        (q.assignment_id, q.slug): q.shown for q in Question.objects.filter(assignment_id__in=ids)
    }


class GradeLike(Protocol):
    """A grade row as adding up needs it (a Grade, or a lighter row of its fields)."""

    @property
    def question(self) -> str: ...

    @property
    def points(self) -> Decimal | None: ...

    @property
    def excused(self) -> bool: ...


def student_points(grades: Iterable[GradeLike]) -> tuple[Decimal | None, bool]:
    """One student's points on one assignment from their grade rows there (each row's
    ``points`` computed by ``grading.scoring``), and whether they are excused: the sum over
    the questions (None while none is graded); without questions, the implicit question's.
    This is the one place an assignment's points are added up."""
    rows = list(grades)
    whole = next((g for g in rows if g.question == ""), None)
    excused = whole is not None and whole.excused
    per_question = [g.points for g in rows if g.question and g.points is not None]
    if per_question:
        return sum(per_question, Decimal(0)), excused
    return (whole.points if whole is not None else None), excused


def has_autograded_grades(*, assignment: Assignment, user_ids: Iterable[int]) -> bool:
    """Whether any of these students' grades on the assignment holds an autograded part (or
    awaits a review): only then does a new counting submission change them."""
    return (
        Grade.objects.filter(assignment=assignment, student_id__in=list(user_ids))
        .filter(Q(autograded__isnull=False) | Q(needs_review=True))
        .exists()
    )


def needs_review(grades: Iterable[Grade]) -> bool:
    """Whether the result behind a student's grade on an assignment awaits a staff review."""
    return any(g.needs_review for g in grades)


def _changes_prefetch() -> Prefetch:
    return Prefetch(
        "changes",
        queryset=GradeChange.objects.select_related("changed_by").order_by("changed_at", "pk"),
    )


def staff_check(enrollment: Enrollment) -> None:
    """The caller is a TA or instructor of their course; anyone else gets 404."""
    if enrollment.role not in STAFF_ROLES:
        raise NotFound("Only the course's TAs and instructors can see this.")


def grade_list(
    *, enrollment: Enrollment, assignment: Assignment, student: str | None = None
) -> QuerySet[Grade]:
    """Staff: the grade rows of an assignment (of one student with ``student``, a username;
    for a TA on an anonymous assignment the pseudonym they see, a username matching
    nothing), each with its history (``changes``, oldest first). Three queries however
    many rows."""
    if enrollment.role not in STAFF_ROLES or enrollment.course_id != assignment.course_id:
        raise NotFound("Only the course's TAs and instructors can see this.")
    qs = Grade.objects.filter(assignment=assignment)
    if student and names_hidden(enrollment=enrollment, assignment=assignment):
        user_id = pseudonym_student_id(assignment=assignment, pseudonym=student)
        qs = qs.filter(student_id=user_id) if user_id is not None else qs.none()
    elif student:
        qs = qs.filter(student__username=student)
    return (
        qs.select_related("student")
        .prefetch_related(_changes_prefetch())
        .order_by("student__username", "question")
    )


def grade_get(*, pk: int) -> Grade:
    return Grade.objects.select_related("student").prefetch_related(_changes_prefetch()).get(pk=pk)


def course_student_get(
    *, enrollment: Enrollment, username: str, assignment: Assignment | None = None
) -> User:
    """Staff: a student (or waitlisted student) of their course, by username; 400
    ``unknown_student`` otherwise. For a TA on an anonymous ``assignment`` the student is
    named by the pseudonym they see (a username is unknown: no probing who is who)."""
    staff_check(enrollment)
    if assignment is not None and names_hidden(enrollment=enrollment, assignment=assignment):
        user_id = pseudonym_student_id(assignment=assignment, pseudonym=username)
        found = User.objects.filter(pk=user_id).first() if user_id is not None else None
        if found is None:
            raise ApplicationError(
                f"'{username}' is not a student of {assignment.title}: name students by "
                "their pseudonym (anonymous grading).",
                code="unknown_student",
            )
        return found
    return courses_course_student_get(course_id=enrollment.course_id, username=username).user
