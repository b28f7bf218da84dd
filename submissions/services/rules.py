"""The syllabus's rules an upload is checked against before anything is stored: who may hand
in, the deadline (an extension included), collaborators, the project group, an Idempotency-Key
already used; what they decide is an :class:`Accepted`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any, BinaryIO, cast

from courses import deadlines
from courses.models import (
    SUBMITTING_ROLES,
    Assignment,
    Enrollment,
    Extension,
    GroupMembership,
    ProjectGroup,
    Role,
)
from portal.errors import ApplicationError, NotFound, PermissionDeniedError
from submissions.models import Submission
from submissions.uploads import CheckedFile, UploadLimits, check_files

MAX_COLLABORATORS = 20


class DeadlinePassed(ApplicationError):
    code = "deadline_passed"
    status = 403


class IdempotencyKeyReused(ApplicationError):
    code = "idempotency_key_reused"
    status = 422


@dataclass(frozen=True)
class SubmissionResult:
    submission: Submission
    replayed: bool  # True when an Idempotency-Key returned an earlier submission


def _released(assignment: Assignment, at: datetime) -> bool:
    return assignment.release_at is None or assignment.release_at <= at


def submission_deadline(*, assignment: Assignment, student_id: int) -> deadlines.Deadline:
    """A student's deadline for an assignment, their extension included."""
    ext = Extension.objects.filter(assignment=assignment, student_id=student_id).first()
    return deadlines.student_deadline(
        due_at=assignment.due_at,
        grace_days=assignment.grace_days,
        after_grace=assignment.after_grace,
        tz=deadlines.zone(assignment.course.timezone),
        extension_due_at=ext.due_at if ext else None,
    )


def _check_collaborators(
    *, enrollment: Enrollment, assignment: Assignment, usernames: Sequence[str]
) -> list[Any]:
    names = list(dict.fromkeys(u.strip() for u in usernames if u and u.strip()))
    if not names:
        return []
    if not assignment.collaboration:
        raise ApplicationError(
            f"Collaboration is not allowed on {assignment.title}: everyone works alone, "
            "so no collaborators can be listed.",
            code="collaboration_not_allowed",
        )
    if len(names) > MAX_COLLABORATORS:
        raise ApplicationError(
            f"List at most {MAX_COLLABORATORS} collaborators.", code="unknown_collaborator"
        )
    if enrollment.user.username in names:
        raise ApplicationError(
            "List your classmates as collaborators, not yourself.", code="unknown_collaborator"
        )
    found = {
        e.user.username: e.user
        for e in Enrollment.objects.filter(
            course_id=enrollment.course_id,
            user__username__in=names,
            role__in=sorted(SUBMITTING_ROLES),
        ).select_related("user")
    }
    unknown = [n for n in names if n not in found]
    if unknown:
        listed = ", ".join(f"'{n}'" for n in unknown)
        raise ApplicationError(
            f"{listed} {'is' if len(unknown) == 1 else 'are'} not a student in this course. "
            "List classmates by their username.",
            code="unknown_collaborator",
        )
    return [found[n] for n in names]


def _group_for(*, enrollment: Enrollment, assignment: Assignment) -> ProjectGroup | None:
    if not assignment.group:
        return None
    membership = (
        GroupMembership.objects.filter(course_id=enrollment.course_id, user_id=enrollment.user_id)
        .select_related("group")
        .first()
    )
    if membership is None:
        raise ApplicationError(
            f"{assignment.title} is handed in by a project group: create or join a group first.",
            code="group_required",
            status=409,
        )
    size = GroupMembership.objects.filter(group_id=membership.group_id).count()
    if not assignment.group_min <= size <= assignment.group_max:
        raise ApplicationError(
            f"Your group has {size} member{'s' if size != 1 else ''}; {assignment.title} needs "
            f"{assignment.group_min} to {assignment.group_max}.",
            code="group_size",
            status=409,
        )
    return membership.group


def replay(*, student_id: int, key: str | None, assignment: Assignment) -> Submission | None:
    """The student's earlier submission under this Idempotency-Key (None without a key)."""
    if key is None:
        return None
    existing = Submission.objects.filter(student_id=student_id, idempotency_key=key).first()
    if existing is None:
        return None
    if existing.assignment_id != assignment.pk:
        raise IdempotencyKeyReused(
            "This Idempotency-Key was already used for another assignment; "
            "send a new key for a new submission."
        )
    return existing


@dataclass(frozen=True)
class Accepted:
    """What the checks decided about an upload, for the writes that follow."""

    deadline: deadlines.Deadline
    timing: str
    grade_after: datetime | None
    group: ProjectGroup | None
    people: list[Any]
    checked: list[CheckedFile]


def check_admission(
    *, enrollment: Enrollment, assignment: Assignment, key: str | None, received_at: datetime
) -> None:
    """Who may hand in what, and when: refusals before anything else is looked at."""
    if enrollment.role not in SUBMITTING_ROLES:
        raise PermissionDeniedError(
            "Only students (and waitlisted students) hand work in; "
            f"you are {enrollment.get_role_display().lower()} in this course."
        )
    if assignment.course_id != enrollment.course_id:
        raise NotFound()
    if not _released(assignment, received_at):
        raise ApplicationError(
            f"{assignment.title} is not released yet.", code="not_released", status=404
        )
    _check_waitlisted(enrollment=enrollment, assignment=assignment)
    if key is not None and len(key) > 200:
        raise ApplicationError(
            "The Idempotency-Key header is longer than 200 characters.", code="invalid"
        )


def _check_waitlisted(*, enrollment: Enrollment, assignment: Assignment) -> None:
    """Waitlisted students hand in only what ``[course] waitlisted_may_submit`` names (when
    it names anything: else every assignment)."""
    allowed = assignment.course.waitlisted_may_submit
    if enrollment.role != Role.WAITLISTED or allowed is None or assignment.slug in allowed:
        return
    named = ", ".join(allowed) or "nothing"
    raise ApplicationError(
        f"Waitlisted students hand in {named} until they are enrolled; {assignment.title} "
        "is for enrolled students.",
        code="waitlisted",
        status=403,
    )


def _check_deadline(*, assignment: Assignment, student_id: int, at: datetime) -> deadlines.Deadline:
    deadline = submission_deadline(assignment=assignment, student_id=student_id)
    if not deadline.accepts(at):
        tz = deadlines.zone(assignment.course.timezone)
        raise DeadlinePassed(
            f"The deadline for {assignment.title} has passed: the grace period ended "
            f"{deadline.grace_ends_at.astimezone(tz):%a %b %-d %Y, %-I:%M %p %Z}. Late work "
            "gets a zero unless the Dean of Students confirms an extension."
        )
    return deadline


def _grade_after(*, assignment: Assignment, timing: str, at: datetime) -> datetime | None:
    """Late work handed in before registration ends is graded after it (the syllabus's PS0
    rule; only assignments that accept late work get here)."""
    ends = assignment.course.registration_ends
    if timing == deadlines.LATE and ends is not None and at < ends:
        return ends
    return None


def accept(
    *,
    enrollment: Enrollment,
    assignment: Assignment,
    files: Sequence[tuple[IO[bytes], str]],
    collaborators: Sequence[str],
    received_at: datetime,
    limits: UploadLimits | None,
) -> Accepted:
    """Every check of an upload against the syllabus's rules, in the order refusals are
    given: the deadline, the collaborators, the group, the files."""
    deadline = _check_deadline(assignment=assignment, student_id=enrollment.user_id, at=received_at)
    timing = deadline.timing(received_at)
    people = _check_collaborators(
        enrollment=enrollment, assignment=assignment, usernames=collaborators
    )
    group = _group_for(enrollment=enrollment, assignment=assignment)
    checked = check_files(cast(Sequence[tuple[BinaryIO, str]], files), limits or UploadLimits())
    return Accepted(
        deadline=deadline,
        timing=timing,
        grade_after=_grade_after(assignment=assignment, timing=timing, at=received_at),
        group=group,
        people=people,
        checked=checked,
    )
