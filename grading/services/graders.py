"""Writes of the split of grading work: the instructor names an assignment's graders and
their shares (sections and questions), and a grader takes the next ungraded submission of
their share from the grading queue, with a soft lock (GradingLock) that keeps it from the
other graders for ``GRADING_LOCK_MINUTES``.

Taking the next one is serialized per assignment by a PostgreSQL advisory lock held for the
transaction: a lock on one question and a lock on the whole submission are different rows,
so neither ``skip_locked`` nor the unique constraint alone would keep two graders asking for
different scopes off the same submission; under the advisory lock each caller sees every
lock taken before it. The unique constraint stays as the backstop."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q

from courses.models import Assignment, Enrollment, Section
from courses.selectors import course_grader_get
from grading.errors import InvalidField
from grading.models import GraderAssignment, GradingLock
from grading.selectors.graders import QueueRow, queue_rows, queue_scope
from grading.selectors.grades import question_specs, staff_check
from portal.errors import NotFound, PermissionDeniedError

# The first key of the advisory lock that serializes the queue's hand-outs (the second is the
# assignment's id): "GQ".
QUEUE_LOCK_KEY = 0x4751


def _sections_check(*, assignment: Assignment, sections: list[str]) -> list[str]:
    known = set(
        Section.objects.filter(course_id=assignment.course_id).values_list("code", flat=True)
    )
    unknown = sorted(set(sections) - known)
    if unknown:
        raise InvalidField("sections", f"Not a section of this course: {', '.join(unknown)}.")
    return sorted(set(sections))


def _questions_check(*, assignment: Assignment, questions: list[str]) -> list[str]:
    slugs = [q.slug for q in question_specs(assignment) if q.slug]
    unknown = sorted(set(questions) - set(slugs))
    if unknown:
        raise InvalidField(
            "questions", f"Not a question of {assignment.title}: {', '.join(unknown)}."
        )
    return [s for s in slugs if s in questions]


def grader_assign(
    *,
    by: Enrollment,
    assignment: Assignment,
    grader: str,
    sections: list[str],
    questions: list[str],
) -> tuple[GraderAssignment, bool]:
    """The instructor (or a head TA) gives a TA or instructor of the course (by username; 400
    ``unknown_grader`` otherwise) their share of the assignment's grading: ``sections``
    (codes; [] = all) and ``questions`` (slugs; [] = all); unknown ones are 400 ``invalid``.
    A grader's earlier share is replaced. Returns the share and whether it is new."""
    if by.course_id != assignment.course_id:
        raise NotFound("There is no such assignment in this course.")
    if not by.assigns_graders:
        raise PermissionDeniedError("Only the instructor and head TAs assign graders.")
    user = course_grader_get(course_id=assignment.course_id, username=grader).user
    checked_sections = _sections_check(assignment=assignment, sections=sections)
    checked_questions = _questions_check(assignment=assignment, questions=questions)
    with transaction.atomic():
        share, created = GraderAssignment.objects.update_or_create(
            assignment=assignment,
            grader=user,
            defaults={"sections": checked_sections, "questions": checked_questions},
        )
    return share, created


def grader_unassign(*, by: Enrollment, assignment: Assignment, grader: str) -> None:
    """The instructor (or a head TA) takes a grader's share of the assignment away: they
    grade from everything again, like every grader without a share. 404 when they have no
    share."""
    if by.course_id != assignment.course_id:
        raise NotFound("There is no such assignment in this course.")
    if not by.assigns_graders:
        raise PermissionDeniedError("Only the instructor and head TAs assign graders.")
    deleted, _ = GraderAssignment.objects.filter(
        assignment=assignment, grader__username=grader
    ).delete()
    if not deleted:
        raise NotFound(f"'{grader}' has no share of the grading of {assignment.title}.")


@dataclass(frozen=True)
class Handed:
    """What the queue hands a grader: the row, the question it holds ("": the whole) and
    until when."""

    row: QueueRow
    question: str
    expires_at: datetime


def _queue_serialize(assignment: Assignment) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [QUEUE_LOCK_KEY, assignment.pk])


def grading_next(
    *, by: Enrollment, assignment: Assignment, question: str | None, now: datetime
) -> Handed | None:
    """Staff: the next counting submission of the caller's share (by their GraderAssignment;
    none: everything) whose ``question`` (None: any question of the share) is ungraded and
    that nobody else holds a live lock on, locked for the caller until
    ``GRADING_LOCK_MINUTES`` from now; the caller's other locks on the assignment are let go.
    None when there is nothing left. The same number of queries however many submissions."""
    staff_check(by)
    if by.course_id != assignment.course_id:
        raise NotFound("There is no such assignment in this course.")
    scope = queue_scope(enrollment=by, assignment=assignment, mine=True, question=question)
    if not scope.questions:
        return None
    with transaction.atomic():
        _queue_serialize(assignment)
        GradingLock.objects.filter(assignment=assignment).filter(
            Q(grader_id=by.user_id) | Q(expires_at__lte=now)
        ).delete()
        rows = queue_rows(enrollment=by, assignment=assignment, scope=scope, now=now)
        row = next((r for r in rows if r.ungraded(question) and not r.holders(question)), None)
        if row is None:
            return None
        expires_at = now + timedelta(minutes=settings.GRADING_LOCK_MINUTES)
        GradingLock.objects.create(
            assignment=assignment,
            student_id=row.student_id,
            question=question or "",
            grader_id=by.user_id,
            expires_at=expires_at,
        )
    row.locks.append((question or "", by.user.username))
    return Handed(row=row, question=question or "", expires_at=expires_at)
