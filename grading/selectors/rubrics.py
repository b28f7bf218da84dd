"""Reads of rubrics and evaluations: an assignment's rubric items and one item (staff), and a
submission's evaluation (the owner's grade rows per question with the rubric items applied,
and the annotations on its files) for staff, and for its owner once grades are released."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Prefetch, QuerySet

from courses.models import STAFF_ROLES, Assignment, Enrollment
from grading.models import AppliedRubricItem, Grade, RubricItem
from grading.selectors.grades import grades_released, question_specs, staff_check
from portal.errors import ApplicationError, NotFound
from submissions.models import Submission


def rubric_list(*, enrollment: Enrollment, assignment: Assignment) -> QuerySet[RubricItem]:
    """Staff: the assignment's rubric items, by question and position. One query."""
    staff_check(enrollment)
    if enrollment.course_id != assignment.course_id:
        raise NotFound("There is no such assignment in this course.")
    return RubricItem.objects.filter(assignment=assignment).order_by("question", "position", "pk")


def rubric_item_get(
    *, user: AbstractBaseUser | AnonymousUser, item_id: int
) -> tuple[RubricItem, Enrollment]:
    """Staff of its course: one rubric item, with the caller's enrollment; 404 otherwise."""
    item = RubricItem.objects.select_related("assignment__course").filter(pk=item_id).first()
    enrollment = None
    if item is not None and user.is_authenticated:
        enrollment = (
            Enrollment.objects.select_related("course", "user")
            .filter(course_id=item.assignment.course_id, user_id=user.pk)
            .first()
        )
    if item is None or enrollment is None or enrollment.role not in STAFF_ROLES:
        raise NotFound("There is no such rubric item.")
    return item, enrollment


@dataclass(frozen=True)
class QuestionView:
    rubric_items: list[int]
    adjustment: Decimal
    comment: str
    points: Decimal | None


@dataclass(frozen=True)
class EvaluationView:
    questions: dict[str, QuestionView]
    annotations: list[dict[str, object]]


def _whose(enrollment: Enrollment, submission: Submission) -> int:
    """Whose grade rows the evaluation shows: the caller's own for a student (a member of
    the submission's group), else the submitter's."""
    staff = enrollment.role in STAFF_ROLES
    return submission.student_id if staff else enrollment.user_id


def evaluation_get(
    *, enrollment: Enrollment, submission: Submission, now: datetime
) -> EvaluationView:
    """A submission's evaluation for its viewer (``enrollment`` from
    ``submissions.selectors.submission_get``, which refuses others): staff always; its owner
    and group members once the grades are released (409 ``grades_not_released`` before).
    Per question of the assignment, the rubric items applied, the adjustment, the comment and
    the points of the grade row (None: ungraded). Three queries."""
    assignment = submission.assignment
    if enrollment.role not in STAFF_ROLES and not grades_released(assignment, now):
        raise ApplicationError(
            f"The grades of {assignment.title} are not released yet.",
            code="grades_not_released",
            status=409,
        )
    grades = {
        g.question: g
        for g in Grade.objects.filter(
            assignment=assignment, student_id=_whose(enrollment, submission)
        ).prefetch_related(Prefetch("applied", queryset=AppliedRubricItem.objects.order_by("pk")))
    }
    questions = {}
    for spec in question_specs(assignment):
        grade = grades.get(spec.slug)
        questions[spec.slug] = QuestionView(
            rubric_items=sorted(a.item_id for a in grade.applied.all()) if grade else [],
            adjustment=grade.adjustment if grade else Decimal(0),
            comment=grade.comment if grade else "",
            points=grade.points if grade else None,
        )
    annotations = [
        {"file": a.file, "line": a.line, "text": a.text}
        for a in submission.annotations.order_by("file", "line", "pk")
    ]
    return EvaluationView(questions=questions, annotations=annotations)


def evaluation_snapshot(
    *, assignment: Assignment, student_id: int, questions: list[str]
) -> dict[str, dict[str, object]]:
    """What a student's grade holds on these questions, as a regrade request keeps it (when
    asked, and when resolved): per question slug, the rubric items applied with their
    description and points as they were then, the adjustment, the comment, the override and
    the points (None: ungraded). Plain JSON values (numbers as strings). Two queries."""
    grades = {
        g.question: g
        for g in Grade.objects.filter(
            assignment=assignment, student_id=student_id, question__in=questions
        ).prefetch_related(
            Prefetch(
                "applied",
                queryset=AppliedRubricItem.objects.select_related("item").order_by(
                    "item__position", "item__pk"
                ),
            )
        )
    }

    def text(value: Decimal | None) -> str | None:
        return None if value is None else str(value)

    snapshot: dict[str, dict[str, object]] = {}
    for slug in questions:
        grade = grades.get(slug)
        applied = list(grade.applied.all()) if grade else []
        snapshot[slug] = {
            "rubric_items": [
                {"id": a.item_id, "description": a.item.description, "points": str(a.item.points)}
                for a in applied
            ],
            "adjustment": text(grade.adjustment if grade else Decimal(0)),
            "comment": grade.comment if grade else "",
            "override": text(grade.override if grade else None),
            "points": text(grade.points if grade else None),
        }
    return snapshot
