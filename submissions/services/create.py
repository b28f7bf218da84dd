"""``submission_create``, the deadline-rush path: the rules checked, the files stored, then the
rows written in one transaction (with what other apps write for a new submission, through
``submissions.hooks``), so that a refused or failed upload leaves neither a row nor a file."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import IO

from django.core.files import File
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import Max

from courses.models import (
    Assignment,
    Enrollment,
    ProjectGroup,
)
from submissions.hooks import submission_stored
from submissions.models import Submission, SubmissionCollaborator, SubmissionFile
from submissions.services.rules import (
    Accepted,
    SubmissionResult,
    accept,
    check_admission,
    replay,
)
from submissions.services.storage import delete_quietly
from submissions.uploads import CheckedFile, UploadLimits


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
        delete_quietly(stored)
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
    check_admission(enrollment=enrollment, assignment=assignment, key=key, received_at=received_at)
    earlier = replay(student_id=enrollment.user_id, key=key, assignment=assignment)
    if earlier is not None:
        return SubmissionResult(earlier, replayed=True)
    accepted = accept(
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
        delete_quietly(stored)
        # A request racing with this one under the same key got there first.
        earlier = replay(student_id=enrollment.user_id, key=key, assignment=assignment)
        if earlier is None:
            raise
        return SubmissionResult(earlier, replayed=True)
    except BaseException:
        delete_quietly(stored)
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
    accepted: Accepted,
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
