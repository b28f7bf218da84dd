"""Every write to submissions. ``submission_create`` is the deadline-rush path: it checks the
syllabus's rules, stores the files, and writes the rows in one transaction, so that a refused
or failed upload leaves neither a row nor a stored file behind."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import IO, Any, BinaryIO, cast

from django.core.files import File
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from courses import deadlines
from courses.models import (
    STAFF_ROLES,
    SUBMITTING_ROLES,
    Assignment,
    Enrollment,
    Extension,
    GroupMembership,
    ProjectGroup,
)
from portal.errors import ApplicationError, NotFound, PermissionDeniedError
from submissions.hooks import submission_stored
from submissions.models import Submission, SubmissionCollaborator, SubmissionFile
from submissions.uploads import CheckedFile, UploadLimits, check_files

log = logging.getLogger(__name__)

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


def _replay(*, student_id: int, key: str | None, assignment: Assignment) -> Submission | None:
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
class _Accepted:
    """What the checks decided about an upload, for the writes that follow."""

    deadline: deadlines.Deadline
    timing: str
    grade_after: datetime | None
    group: ProjectGroup | None
    people: list[Any]
    checked: list[CheckedFile]


def _check_admission(
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
    if key is not None and len(key) > 200:
        raise ApplicationError(
            "The Idempotency-Key header is longer than 200 characters.", code="invalid"
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


def _accept(
    *,
    enrollment: Enrollment,
    assignment: Assignment,
    files: Sequence[tuple[IO[bytes], str]],
    collaborators: Sequence[str],
    received_at: datetime,
    limits: UploadLimits | None,
) -> _Accepted:
    """Every check of an upload against the syllabus's rules, in the order refusals are
    given: the deadline, the collaborators, the group, the files."""
    deadline = _check_deadline(assignment=assignment, student_id=enrollment.user_id, at=received_at)
    timing = deadline.timing(received_at)
    people = _check_collaborators(
        enrollment=enrollment, assignment=assignment, usernames=collaborators
    )
    group = _group_for(enrollment=enrollment, assignment=assignment)
    checked = check_files(cast(Sequence[tuple[BinaryIO, str]], files), limits or UploadLimits())
    return _Accepted(
        deadline=deadline,
        timing=timing,
        grade_after=_grade_after(assignment=assignment, timing=timing, at=received_at),
        group=group,
        people=people,
        checked=checked,
    )


def _store_files(
    *, assignment: Assignment, files: Sequence[tuple[IO[bytes], str]], checked: list[CheckedFile]
) -> list[str]:
    """Saves the files under a fresh folder; returns their storage paths. On failure, what
    was saved is deleted again."""
    folder = f"submissions/{assignment.course.slug}/{assignment.slug}/{uuid.uuid4().hex}"
    stored: list[str] = []
    try:
        for (fileobj, _), info in zip(files, checked, strict=True):
            fileobj.seek(0)
            # An UploadedFile is a File already: passing it as is lets the storage move a
            # large upload's temporary file instead of copying it.
            content = fileobj if isinstance(fileobj, File) else File(fileobj)
            stored.append(default_storage.save(f"{folder}/{info.name}", content))
    except BaseException:
        _delete_quietly(stored)
        raise
    return stored


def submission_create(
    *,
    enrollment: Enrollment,
    assignment: Assignment,
    files: Sequence[tuple[IO[bytes], str]],
    collaborators: Sequence[str] = (),
    idempotency_key: str | None = None,
    received_at: datetime,
    limits: UploadLimits | None = None,
) -> SubmissionResult:
    """Hands work in. ``received_at`` is the server's clock when the request arrived. The
    files are stored first, then the rows are written in one transaction (with what other
    apps write for a new submission: grading's job, see ``submissions.hooks``); a failure
    deletes the stored files again."""
    key = (idempotency_key or "").strip() or None
    _check_admission(enrollment=enrollment, assignment=assignment, key=key, received_at=received_at)
    earlier = _replay(student_id=enrollment.user_id, key=key, assignment=assignment)
    if earlier is not None:
        return SubmissionResult(earlier, replayed=True)
    accepted = _accept(
        enrollment=enrollment,
        assignment=assignment,
        files=files,
        collaborators=collaborators,
        received_at=received_at,
        limits=limits,
    )
    stored = _store_files(assignment=assignment, files=files, checked=accepted.checked)
    try:
        with transaction.atomic():
            submission = _write_rows(
                enrollment=enrollment,
                assignment=assignment,
                accepted=accepted,
                received_at=received_at,
                key=key,
                stored=stored,
            )
    except IntegrityError:
        _delete_quietly(stored)
        # A request racing with this one under the same key got there first.
        earlier = _replay(student_id=enrollment.user_id, key=key, assignment=assignment)
        if earlier is None:
            raise
        return SubmissionResult(earlier, replayed=True)
    except BaseException:
        _delete_quietly(stored)
        raise
    return SubmissionResult(submission, replayed=False)


def _next_number(
    *, enrollment: Enrollment, assignment: Assignment, group: ProjectGroup | None, at: datetime
) -> int:
    """Locks the owner (the group, else the student's enrollment), so that one owner hands in
    one submission at a time, and returns the owner's next submission number."""
    if group is not None:
        ProjectGroup.objects.select_for_update().filter(pk=group.pk).get()
        ProjectGroup.objects.filter(pk=group.pk, locked_at__isnull=True).update(locked_at=at)
        owner = Submission.objects.filter(assignment=assignment, group=group)
    else:
        Enrollment.objects.select_for_update().filter(pk=enrollment.pk).get()
        owner = Submission.objects.filter(
            assignment=assignment, student_id=enrollment.user_id, group=None
        )
    return (owner.aggregate(n=Max("number"))["n"] or 0) + 1


def _write_rows(
    *,
    enrollment: Enrollment,
    assignment: Assignment,
    accepted: _Accepted,
    received_at: datetime,
    key: str | None,
    stored: Sequence[str],
) -> Submission:
    deadline, group = accepted.deadline, accepted.group
    submission = Submission.objects.create(
        course_id=assignment.course_id,
        assignment=assignment,
        student_id=enrollment.user_id,
        group=group,
        number=_next_number(
            enrollment=enrollment, assignment=assignment, group=group, at=received_at
        ),
        submitted_at=received_at,
        timing=accepted.timing,
        due_at=deadline.due_at,
        grace_ends_at=deadline.grace_ends_at,
        extended=deadline.extended,
        grade_after=accepted.grade_after,
        total_bytes=sum(c.size for c in accepted.checked),
        idempotency_key=key,
    )
    files = SubmissionFile.objects.bulk_create(
        [
            SubmissionFile(
                submission=submission, name=c.name, size=c.size, sha256=c.sha256, file=path
            )
            for c, path in zip(accepted.checked, stored, strict=True)
        ]
    )
    SubmissionCollaborator.objects.bulk_create(
        [SubmissionCollaborator(submission=submission, user=u) for u in accepted.people]
    )
    # The caller shows what it just wrote: no need to read it back. Receivers of
    # submission_stored add their own prefetched rows (grading: the job it queued).
    submission.student = enrollment.user
    submission.group = group
    submission._prefetched_objects_cache = {  # type: ignore[attr-defined]
        "files": sorted(files, key=lambda f: f.name),
        "collaborators": list(accepted.people),
    }
    submission_stored.send(sender=Submission, submission=submission, received_at=received_at)
    return submission


def _delete_quietly(paths: Sequence[str]) -> None:
    for path in paths:
        try:
            default_storage.delete(path)
        except Exception:  # pragma: no cover - the storage is gone; the sweeper retries
            log.exception("could not delete %s after a failed submission", path)


def orphan_files_sweep(*, older_than: timedelta = timedelta(hours=1)) -> list[str]:
    """Deletes stored submission files that no row refers to, once they are older than
    ``older_than`` (an upload in flight writes its files a moment before its rows). Such a file
    is only left behind when a process dies between the two writes; this makes "a stored file
    never lacks its row" hold after the crash too. Returns the deleted paths."""
    cutoff = timezone.now() - older_than
    deleted: list[str] = []

    def walk(folder: str) -> None:
        dirs, names = default_storage.listdir(folder)
        paths = [f"{folder}/{n}" for n in names]
        known = set(SubmissionFile.objects.filter(file__in=paths).values_list("file", flat=True))
        for path in paths:
            if path not in known and default_storage.get_modified_time(path) < cutoff:
                default_storage.delete(path)
                deleted.append(path)
        for d in dirs:
            walk(f"{folder}/{d}")

    if default_storage.exists("submissions"):
        walk("submissions")
    return deleted


def submission_choose(*, enrollment: Enrollment, submission: Submission) -> Submission:
    """Staff choose which of an owner's submissions counts (instead of the latest); choosing
    the latest again simply makes it explicit. One chosen per owner and assignment: the
    database holds to it."""
    if enrollment.role not in STAFF_ROLES or enrollment.course_id != submission.course_id:
        raise PermissionDeniedError("Only the course's staff choose which submission counts.")
    with transaction.atomic():
        owner = Submission.objects.filter(assignment_id=submission.assignment_id)
        owner = (
            owner.filter(group_id=submission.group_id)
            if submission.group_id
            else owner.filter(student_id=submission.student_id, group__isnull=True)
        )
        owner.select_for_update().filter(chosen=True).exclude(pk=submission.pk).update(chosen=False)
        Submission.objects.filter(pk=submission.pk).update(chosen=True)
    submission.chosen = True
    return submission
