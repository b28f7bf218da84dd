"""Writes of grades. A grade row holds a question's parts (the autograded part from the result
of the submission that counts, the rubric items applied, the staff's adjustment, an override)
and its ``points``, which only :func:`grades_recompute` (``grading.services.recompute``)
writes, through ``grading.scoring`` (see its docstring for the model). Every change of points is kept in the history with its source: the autograder, staff,
a regrade, a new submission, a choice of submission, a result accepted."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.contrib.auth.models import User
from django.db import transaction

from courses.models import (
    STAFF_ROLES,
    SUBMITTING_ROLES,
    Assignment,
    Enrollment,
    GroupMembership,
)
from grading import scoring
from grading.errors import InvalidField
from grading.models import Grade, GradeChange, GradingJob, GradingResult, RegradeRequest
from grading.results import ResultsInvalid, parse_results
from grading.selectors.grades import question_specs
from grading.services.recompute import grades_recompute
from portal.errors import ApplicationError, NotFound, PermissionDeniedError
from portal.numbers import plain
from submissions.models import Submission
from submissions.selectors import counting_ids

# A grade fits Grade.points: eight digits, two after the point.
MAX_POINTS = Decimal("999999.99")


class _Keep:
    """A part the caller leaves as it is."""

    def __repr__(self) -> str:
        return "KEEP"


KEEP = _Keep()


def question_check(*, assignment: Assignment, question: str) -> None:
    """``question`` is "" (the whole assignment) or one of the assignment's question slugs."""
    if question == "":
        return
    slugs = list(assignment.questions.order_by("position").values_list("slug", flat=True))
    if question not in slugs:
        known = ", ".join(f"'{s}'" for s in slugs) or "none: leave it empty"
        raise InvalidField(
            "question",
            f"'{question}' is not a question of {assignment.title} (its questions: {known}).",
        )


def _spec(assignment: Assignment, question: str) -> scoring.QuestionSpec | None:
    """The question a staff grade is for (None: the whole assignment of an assignment with
    questions, which only holds ``excused``)."""
    specs = question_specs(assignment)
    return next((q for q in specs if q.slug == question), None)


def _out_of_range(field: str, value: Decimal, low: Decimal, high: Decimal, what: str) -> None:
    if not value.is_finite() or value < low or value > high:
        span = f"from {plain(low)} to {plain(high)}"
        raise ApplicationError(
            f"{what} must be {span} points; {plain(value)} is not.",
            code="points_out_of_range",
            fields={field: [span]},
        )


def _decimal(value: Decimal | float | int | str, field: str) -> Decimal:
    try:
        return Decimal(str(value))
    except ArithmeticError:
        raise InvalidField(field, f"'{value}' is not a number.") from None


@dataclass(frozen=True)
class StaffInput:
    """What staff set on a question: ``points`` (an override; None removes it), an
    ``adjustment`` (plus or minus), ``excused`` (the whole assignment); KEEP leaves a part."""

    points: Decimal | _Keep | None = KEEP
    adjustment: Decimal | _Keep = KEEP
    excused: bool | _Keep = KEEP

    def checked(self, *, assignment: Assignment, question: str) -> StaffInput:
        """The input with its numbers in range for the question (cents), or a refusal."""
        spec = _spec(assignment, question)
        if spec is None and (self.points is not KEEP or self.adjustment is not KEEP):
            raise InvalidField(
                "question",
                f"{assignment.title} is graded by question: name the question to grade.",
            )
        if question and self.excused is not KEEP:
            raise InvalidField("excused", "Excuse the whole assignment: leave out the question.")
        points, adjustment = self.points, self.adjustment
        if spec is not None and isinstance(points, (Decimal, int, float, str)):
            points = _decimal(points, "points")
            _out_of_range(
                "points",
                points,
                Decimal(0),
                spec.points,
                f"Points on {question or assignment.title}",
            )
            points = scoring.cents(points)
        if spec is not None and isinstance(adjustment, (Decimal, int, float, str)):
            adjustment = _decimal(adjustment, "adjustment")
            _out_of_range("adjustment", adjustment, -spec.points, spec.points, "An adjustment")
            adjustment = scoring.cents(adjustment)
        return StaffInput(points=points, adjustment=adjustment, excused=self.excused)

    def describe(self) -> str:
        said = []
        if self.points is not KEEP:
            said.append("override removed" if self.points is None else f"override {self.points}")
        if self.adjustment is not KEEP:
            said.append(f"adjustment {self.adjustment:+}")
        if self.excused is not KEEP:
            said.append("excused" if self.excused else "no longer excused")
        return ", ".join(said)


def _people_check(*, by: Enrollment | None, assignment: Assignment, student: User | None) -> None:
    """A person who sets a grade is staff of the assignment's course, and grades only a
    student (or waitlisted student) of it (``student`` None: staff only)."""
    if by is None:
        return
    if by.role not in STAFF_ROLES or by.course_id != assignment.course_id:
        raise PermissionDeniedError("Only the course's TAs and instructors set grades.")
    if (
        student is not None
        and not Enrollment.objects.filter(
            course_id=assignment.course_id, user_id=student.pk, role__in=sorted(SUBMITTING_ROLES)
        ).exists()
    ):
        raise ApplicationError(
            f"{student.username} is not a student of this course.", code="unknown_student"
        )


def grade_set(
    *,
    by: Enrollment | None,
    assignment: Assignment,
    student: User,
    question: str = "",
    points: Decimal | _Keep | None = KEEP,
    adjustment: Decimal | _Keep = KEEP,
    excused: bool | _Keep = KEEP,
    source: str = GradeChange.Source.STAFF,
    regrade_request: RegradeRequest | None = None,
) -> Grade:
    """Staff set a question's parts (see :class:`StaffInput`) and the grade is recomputed,
    its change kept with ``source`` (staff, or regrade) and who. Points above the question's
    maximum are refused (``points_out_of_range``)."""
    if source not in (GradeChange.Source.STAFF, GradeChange.Source.REGRADE):
        raise ValueError(f"staff set grades as staff or through a regrade, not {source!r}")
    _people_check(by=by, assignment=assignment, student=student)
    question_check(assignment=assignment, question=question)
    given = StaffInput(points=points, adjustment=adjustment, excused=excused)
    given = given.checked(assignment=assignment, question=question)
    with transaction.atomic():
        grade, _ = Grade.objects.select_for_update().get_or_create(
            assignment=assignment, student=student, question=question
        )
        excused_before = grade.excused
        if not isinstance(given.points, _Keep):
            grade.override = given.points
        if not isinstance(given.adjustment, _Keep):
            grade.adjustment = given.adjustment
        if not isinstance(given.excused, _Keep):
            grade.excused = given.excused
        grade.save(update_fields=["override", "adjustment", "excused", "updated_at"])
        grades_recompute(
            assignment=assignment,
            user_ids=[student.pk],
            source=source,
            by=by.user if by is not None else None,
            regrade_request=regrade_request,
            detail=given.describe(),
            force_change=grade.excused != excused_before,
        )
    grade.refresh_from_db()
    return grade


def graded_students(submission: Submission) -> list[User]:
    """Whose grade a submission decides: the submitter, or every member of its group."""
    if submission.group_id:
        return [
            m.user
            for m in GroupMembership.objects.filter(group_id=submission.group_id)
            .select_related("user")
            .order_by("user__username")
        ]
    return [submission.student]


def result_review_store(*, result: GradingResult, assignment: Assignment) -> list[str]:
    """Checks a new result's numbers (``grading.scoring.review_reasons``) and keeps the
    reasons it needs review for: such a result counts for nothing until staff accept it."""
    try:
        parsed = parse_results(result.data["raw"])
    except (ResultsInvalid, KeyError, TypeError):
        return []
    tests = [scoring.TestScore(t.name, t.score, t.max_score) for t in parsed.tests]
    reasons = scoring.review_reasons(question_specs(assignment), tests, parsed.score)
    if reasons != result.review:
        result.review = reasons
        result.save(update_fields=["review"])
    return reasons


def grades_from_result(*, job_id: int) -> None:
    """The autograder hook (called by :func:`grading.services.jobs.job_finish` in its
    transaction): the result is checked, and when its submission is the one that counts for
    its owner, the grades of the submitter (every group member for group work) take their
    autograded parts from it, source "autograder"."""
    job = GradingJob.objects.select_related(
        "result", "submission__assignment", "submission__student"
    ).get(pk=job_id)
    result = getattr(job, "result", None)
    if result is None:
        return
    submission = job.submission
    result_review_store(result=result, assignment=submission.assignment)
    if submission.pk not in counting_ids(submissions=[submission]):
        return
    grades_recompute(
        assignment=submission.assignment,
        user_ids=[u.pk for u in graded_students(submission)],
        source=GradeChange.Source.AUTOGRADER,
        job=job,
        detail=f"result of submission #{submission.number}",
    )


def result_accept(*, enrollment: Enrollment, job_id: int, now: datetime) -> GradingResult:
    """Staff accept a result that awaits review: it counts from now on, and the grades of
    its owner take their autograded parts from it (clamped to the questions' points), source
    "accepted". Accepting again changes nothing."""
    job = (
        GradingJob.objects.select_related("result", "submission__assignment", "submission__student")
        .filter(pk=job_id)
        .first()
    )
    result = getattr(job, "result", None) if job is not None else None
    if job is None or result is None or job.submission.course_id != enrollment.course_id:
        raise NotFound("There is no such result.")
    if enrollment.role not in STAFF_ROLES:
        raise PermissionDeniedError("Only the course's TAs and instructors accept results.")
    if result.accepted_at is not None or not result.review:
        return result
    with transaction.atomic():
        result.accepted_by, result.accepted_at = enrollment.user, now
        result.save(update_fields=["accepted_by", "accepted_at"])
        submission = job.submission
        grades_recompute(
            assignment=submission.assignment,
            user_ids=[u.pk for u in graded_students(submission)],
            source=GradeChange.Source.ACCEPTED,
            by=enrollment.user,
            job=job,
            detail=f"result of submission #{submission.number} accepted",
        )
    return result


def grades_rescore(*, assignment: Assignment) -> int:
    """Recomputes every grade of the assignment after its scoring changed (the course config:
    its points, its questions' points or tests): rows of questions that no longer exist are
    removed; the others are recomputed from the stored results. Returns how many students."""
    slugs = {q.slug for q in question_specs(assignment)}
    with transaction.atomic():
        stale = Grade.objects.filter(assignment=assignment).exclude(question__in=slugs | {""})
        stale.delete()
        if "" not in slugs:  # graded by question now: the whole row keeps only `excused`
            Grade.objects.filter(assignment=assignment, question="").update(
                points=None, autograded=None, override=None, adjustment=0, needs_review=False
            )
        user_ids = set(
            Grade.objects.filter(assignment=assignment).values_list("student_id", flat=True)
        )
        if user_ids:
            grades_recompute(
                assignment=assignment,
                user_ids=user_ids,
                source=GradeChange.Source.STAFF,
                detail="the course's configuration of this assignment changed",
            )
    return len(user_ids)
