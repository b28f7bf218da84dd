"""Writes of rubrics and evaluations: staff create, change and delete a question's rubric
items, and grade a submission's work (the rubric items applied per question, an adjustment
and a comment on the owner's grade rows, every member's for group work; comments on lines of
its files). Every change of points goes through ``grades_recompute``, kept in the history
with who and why."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction

from courses.models import Assignment, Enrollment
from grading import scoring
from grading.errors import InvalidField
from grading.models import (
    Annotation,
    AppliedRubricItem,
    Grade,
    GradeChange,
    RegradeRequest,
    RubricItem,
)
from grading.services.grades import (
    KEEP,
    StaffInput,
    _decimal,
    _Keep,
    _out_of_range,
    _people_check,
    _spec,
    graded_students,
    question_check,
)
from grading.services.recompute import grades_recompute
from portal.numbers import plain
from submissions.models import Submission


def _question_spec(assignment: Assignment, question: str) -> scoring.QuestionSpec:
    """The question a rubric item or an evaluation is about; 400 ``invalid`` otherwise."""
    question_check(assignment=assignment, question=question)
    spec = _spec(assignment, question)
    if spec is None:
        raise InvalidField(
            "question", f"{assignment.title} is graded by question: name the question."
        )
    return spec


def _item_points(value: Decimal | float | int | str, spec: scoring.QuestionSpec) -> Decimal:
    """An item's points, within plus or minus the question's points (cents)."""
    points = _decimal(value, "points")
    _out_of_range("points", points, -spec.points, spec.points, "A rubric item's points")
    return scoring.cents(points)


def _staff_check(by: Enrollment, assignment: Assignment) -> None:
    _people_check(by=by, assignment=assignment, student=None)


def rubric_item_create(
    *,
    by: Enrollment,
    assignment: Assignment,
    question: str,
    description: str,
    points: Decimal,
    position: int | None = None,
) -> RubricItem:
    """A new item of a question's rubric (staff), last unless ``position`` says where.
    Refusals: an unknown question (400 ``invalid``), points beyond plus or minus the
    question's points (400 ``points_out_of_range``)."""
    _staff_check(by, assignment)
    spec = _question_spec(assignment, question)
    checked = _item_points(points, spec)
    with transaction.atomic():
        if position is None:
            last = (
                RubricItem.objects.filter(assignment=assignment, question=question)
                .order_by("-position")
                .values_list("position", flat=True)
                .first()
            )
            position = 0 if last is None else last + 1
        return RubricItem.objects.create(
            assignment=assignment,
            question=question,
            description=description,
            points=checked,
            position=position,
        )


def _rescore_applied(*, item: RubricItem, by: Enrollment, detail: str, user_ids: list[int]) -> None:
    if user_ids:
        grades_recompute(
            assignment=item.assignment,
            user_ids=user_ids,
            source=GradeChange.Source.STAFF,
            by=by.user,
            detail=detail,
        )


def _applied_to(item: RubricItem) -> list[int]:
    """The students whose grades the item is applied to."""
    return list(
        Grade.objects.filter(applied__item=item).values_list("student_id", flat=True).distinct()
    )


def rubric_item_update(
    *,
    by: Enrollment,
    item: RubricItem,
    description: str | _Keep = KEEP,
    points: Decimal | _Keep = KEEP,
    position: int | _Keep = KEEP,
) -> RubricItem:
    """Staff change an item; a change of its points rescores every grade it is applied to,
    in one transaction, each change kept in the history (``rubric item 'X' now -3 (was
    -2)``)."""
    _staff_check(by, item.assignment)
    new_points = (
        points
        if isinstance(points, _Keep)
        else _item_points(points, _question_spec(item.assignment, item.question))
    )
    with transaction.atomic():
        item = RubricItem.objects.select_for_update().select_related("assignment").get(pk=item.pk)
        old_points = item.points
        if not isinstance(description, _Keep):
            item.description = description
        if not isinstance(position, _Keep):
            item.position = position
        if not isinstance(new_points, _Keep):
            item.points = new_points
        item.save()
        if item.points != old_points:
            detail = (
                f"rubric item '{item.description}' now {plain(item.points)} "
                f"(was {plain(old_points)})"
            )
            _rescore_applied(item=item, by=by, detail=detail, user_ids=_applied_to(item))
    return item


def rubric_item_delete(*, by: Enrollment, item: RubricItem) -> None:
    """Staff delete an item: it is unapplied everywhere and those grades are rescored."""
    _staff_check(by, item.assignment)
    with transaction.atomic():
        item = RubricItem.objects.select_for_update().select_related("assignment").get(pk=item.pk)
        user_ids = _applied_to(item)
        detail = f"rubric item '{item.description}' ({plain(item.points)}) deleted"
        item.delete()
        _rescore_applied(item=item, by=by, detail=detail, user_ids=user_ids)


@dataclass(frozen=True)
class QuestionEvaluation:
    """What staff set on one question of a submission's work: the ids of the rubric items
    applied (that question's only), the adjustment, the comment; KEEP leaves a part."""

    rubric_items: Sequence[int] | _Keep = KEEP
    adjustment: Decimal | _Keep = KEEP
    comment: str | _Keep = KEEP


@dataclass(frozen=True)
class AnnotationInput:
    file: str
    line: int
    text: str


def _checked_questions(
    assignment: Assignment, questions: dict[str, QuestionEvaluation]
) -> dict[str, QuestionEvaluation]:
    """Each question known, its items that question's own, its adjustment in range."""
    items = dict(RubricItem.objects.filter(assignment=assignment).values_list("pk", "question"))
    checked = {}
    for slug, given in questions.items():
        _question_spec(assignment, slug)
        ids = given.rubric_items
        if not isinstance(ids, _Keep):
            foreign = sorted({i for i in ids if items.get(i) != slug})
            if foreign:
                raise InvalidField(
                    "questions",
                    f"Rubric items {', '.join(map(str, foreign))} are not items of "
                    f"{slug or assignment.title}.",
                )
            ids = sorted(set(ids))
        adjustment = StaffInput(adjustment=given.adjustment).checked(
            assignment=assignment, question=slug
        )
        checked[slug] = QuestionEvaluation(
            rubric_items=ids, adjustment=adjustment.adjustment, comment=given.comment
        )
    return checked


def _annotations_check(submission: Submission, annotations: Sequence[AnnotationInput]) -> None:
    names = {f.name for f in submission.files.all()}
    unknown = sorted({a.file for a in annotations} - names)
    if unknown:
        raise InvalidField(
            "annotations",
            f"{', '.join(unknown)} is not a file of submission #{submission.number}.",
        )


def _grade_parts_set(grade: Grade, given: QuestionEvaluation) -> None:
    """The question's staff parts on one grade row (the items replaced, not added), and its
    override as the caller left it."""
    if not isinstance(given.adjustment, _Keep):
        grade.adjustment = given.adjustment
    if not isinstance(given.comment, _Keep):
        grade.comment = given.comment
    grade.save(update_fields=["adjustment", "comment", "override", "updated_at"])
    if isinstance(given.rubric_items, _Keep):
        return
    wanted = set(given.rubric_items)
    had = set(grade.applied.values_list("item_id", flat=True))
    AppliedRubricItem.objects.filter(grade=grade, item_id__in=had - wanted).delete()
    AppliedRubricItem.objects.bulk_create(
        [AppliedRubricItem(grade=grade, item_id=i) for i in sorted(wanted - had)]
    )


def _describe(submission: Submission, questions: dict[str, QuestionEvaluation]) -> str:
    said = []
    for slug, given in questions.items():
        parts = []
        if not isinstance(given.rubric_items, _Keep):
            parts.append(f"{len(given.rubric_items)} rubric items")
        if not isinstance(given.adjustment, _Keep):
            parts.append(f"adjustment {given.adjustment:+}")
        said.append(f"{slug or 'score'}: {', '.join(parts) or 'comment'}")
    return f"evaluation of submission #{submission.number}: " + "; ".join(said)


def evaluation_set(
    *,
    by: Enrollment,
    submission: Submission,
    questions: dict[str, QuestionEvaluation],
    annotations: Sequence[AnnotationInput] | None = None,
    regrade_request: RegradeRequest | None = None,
) -> None:
    """Staff grade a submission's work: for each question given, its rubric items applied
    (replacing those applied before), adjustment and comment, on the grade of its owner
    (every member of its group); ``annotations`` replace the submission's. The grades are
    recomputed in the same transaction, source "staff", with who. Refusals (400
    ``invalid``): an unknown question, an item of another question, a file the submission
    lacks; an adjustment out of range: ``points_out_of_range``. For a ``regrade_request``
    being resolved, the history says so (source "regrade") and an override on the questions
    given is removed, so the rubric and adjustment are what the grade is."""
    assignment = submission.assignment
    students = graded_students(submission)
    for student in students:
        _people_check(by=by, assignment=assignment, student=student)
    checked = _checked_questions(assignment, questions)
    if annotations is not None:
        _annotations_check(submission, annotations)
    with transaction.atomic():
        for slug, given in checked.items():
            for student in students:
                grade, _ = Grade.objects.select_for_update().get_or_create(
                    assignment=assignment, student=student, question=slug
                )
                if regrade_request is not None:
                    grade.override = None  # a regrade through the rubric: the rubric counts
                _grade_parts_set(grade, given)
        if annotations is not None:
            submission.annotations.all().delete()
            Annotation.objects.bulk_create(
                Annotation(
                    submission=submission, file=a.file, line=a.line, text=a.text, author=by.user
                )
                for a in annotations
            )
        grades_recompute(
            assignment=assignment,
            user_ids=[s.pk for s in students],
            source=GradeChange.Source.REGRADE if regrade_request else GradeChange.Source.STAFF,
            by=by.user,
            regrade_request=regrade_request,
            detail=_describe(submission, checked),
        )
