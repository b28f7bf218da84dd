"""Every write of grading: bundles, jobs (enqueue, claim, finish, fail, sweep, re-run).

The job row in PostgreSQL is the truth. Celery messages are wake-up calls that carry a queue
name and, for tracing, a job id: a worker that wakes takes the *fairest* claimable job of its
queue (a student's first submission before anyone's second; late PS0 work held until
registration ends), so Redis' first-in-first-out order never decides who goes first, and a
lost or duplicated message costs nothing: each job is claimed once by a conditional update,
and the sweeper re-sends wake-ups for jobs left waiting."""

from __future__ import annotations

import hashlib
import io
import logging
import os
import stat
import zipfile
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import partial
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from courses import deadlines
from courses.models import (
    STAFF_ROLES,
    SUBMITTING_ROLES,
    Assignment,
    Course,
    Enrollment,
    GroupMembership,
    Role,
)
from grading.models import (
    Bundle,
    Grade,
    GradeChange,
    GradingJob,
    GradingResult,
    JobState,
    RegradeRequest,
)
from portal.errors import ApplicationError, NotFound, PermissionDeniedError, ValidationFailed
from submissions.models import Submission

log = logging.getLogger(__name__)

MAX_ATTEMPTS = getattr(settings, "GRADING_MAX_ATTEMPTS", 3)
HEARTBEAT_SECONDS = getattr(settings, "GRADING_HEARTBEAT_SECONDS", 10)
# A running job whose heartbeat is older than this lost its worker.
HEARTBEAT_TIMEOUT = timedelta(seconds=getattr(settings, "GRADING_HEARTBEAT_TIMEOUT", 60))
# A queued, claimable job not woken for this long gets a new wake-up message.
REPUBLISH_AFTER = timedelta(seconds=getattr(settings, "GRADING_REPUBLISH_AFTER", 60))
MAX_BUNDLE_BYTES = 500 * 1024 * 1024


# --- bundles ---------------------------------------------------------------------------------


def _zip_folder(folder: Path) -> bytes:
    """A deterministic zip of a bundle folder: sorted names, fixed times, exec bits kept, so
    the same files always give the same hash."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(p for p in folder.rglob("*") if p.is_file() and not p.is_symlink()):
            rel = path.relative_to(folder).as_posix()
            if "__pycache__" in rel.split("/"):
                continue
            info = zipfile.ZipInfo(rel, date_time=(1980, 1, 1, 0, 0, 0))
            mode = 0o755 if os.access(path, os.X_OK) else 0o644
            info.external_attr = (stat.S_IFREG | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, path.read_bytes())
    return buf.getvalue()


def _bundle_bytes(path: Path) -> bytes:
    if path.is_dir():
        return _zip_folder(path)
    return path.read_bytes()


def _check_bundle_zip(data: bytes) -> None:
    if len(data) > MAX_BUNDLE_BYTES:
        raise ApplicationError("The autograder bundle is larger than 500 MB.", code="invalid_file")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = zf.namelist()
            bad = zf.testzip()
    except zipfile.BadZipFile:
        raise ApplicationError(
            "The autograder bundle is not a valid zip file.", code="invalid_file"
        ) from None
    if bad is not None:
        raise ApplicationError(f"The bundle's {bad} is damaged.", code="invalid_file")
    if "run_autograder" not in names:
        raise ApplicationError(
            "The bundle needs run_autograder at its top level (Gradescope's layout: "
            "setup.sh, run_autograder and anything else they use).",
            code="invalid_file",
        )
    for name in names:
        if name.startswith("/") or ".." in name.split("/"):
            raise ApplicationError(
                f"The bundle contains '{name}', a path outside its folder.", code="invalid_file"
            )


def _bundle_store(*, assignment: Assignment, data: bytes, source: str, user: Any = None) -> Bundle:
    """Stores a bundle version (once per content) and makes it the active one."""
    _check_bundle_zip(data)
    digest = hashlib.sha256(data).hexdigest()
    with transaction.atomic():
        Assignment.objects.select_for_update().filter(pk=assignment.pk).get()
        bundle = Bundle.objects.filter(assignment=assignment, sha256=digest).first()
        if bundle is not None and bundle.active:
            return bundle
        Bundle.objects.filter(assignment=assignment, active=True).update(active=False)
        if bundle is None:
            path = f"autograders/{assignment.course.slug}/{assignment.slug}/{digest}.zip"
            if not default_storage.exists(path):
                path = default_storage.save(path, ContentFile(data))
            bundle = Bundle.objects.create(
                assignment=assignment,
                sha256=digest,
                file=path,
                size=len(data),
                source=source,
                uploaded_by=user,
                active=True,
            )
        else:
            bundle.active = True
            bundle.save(update_fields=["active"])
    return bundle


def bundles_sync(*, course: Course) -> list[Bundle]:
    """Makes each assignment's active bundle the one its config names (run after
    load_course). Returns the bundles that became active; one that did not change is left as
    it is, and a version staff uploaded since is kept while the config's stays the same."""
    out = []
    for assignment in course.assignments.select_related("course"):
        if assignment.autograder_bundle:
            data = _bundle_bytes(Path(assignment.autograder_bundle))
            known = Bundle.objects.filter(
                assignment=assignment, sha256=hashlib.sha256(data).hexdigest()
            ).first()
            active = active_bundle(assignment=assignment)
            if known is not None and active is not None and active.created_at >= known.created_at:
                # Unchanged; or staff uploaded a newer version since, which an unchanged
                # config keeps.
                continue
            out.append(_bundle_store(assignment=assignment, data=data, source="config"))
        else:
            Bundle.objects.filter(assignment=assignment, active=True, source="config").update(
                active=False
            )
    return out


def bundle_upload(*, enrollment: Enrollment, assignment: Assignment, fileobj: IO[bytes]) -> Bundle:
    """An instructor's new autograder version (a zip in Gradescope's layout)."""
    if enrollment.role != Role.INSTRUCTOR or enrollment.course_id != assignment.course_id:
        raise PermissionDeniedError("Only the instructor uploads autograders.")
    data = fileobj.read(MAX_BUNDLE_BYTES + 1)
    return _bundle_store(assignment=assignment, data=data, source="upload", user=enrollment.user)


def active_bundle(*, assignment: Assignment) -> Bundle | None:
    return Bundle.objects.filter(assignment=assignment, active=True).first()


# --- jobs ------------------------------------------------------------------------------------


def _owner_filter(submission: Submission) -> Q:
    if submission.group_id:
        return Q(submission__group_id=submission.group_id)
    return Q(submission__student_id=submission.student_id, submission__group__isnull=True)


def job_enqueue(*, submission: Submission, now: datetime) -> GradingJob | None:
    """Queues the submission for autograding, in the caller's transaction; the wake-up goes
    out when it commits. The owner's older jobs still waiting for this assignment are
    superseded: only their newest work is graded. No active bundle: no job."""
    bundle = active_bundle(assignment=submission.assignment)
    if bundle is None:
        return None
    GradingJob.objects.filter(
        _owner_filter(submission),
        submission__assignment_id=submission.assignment_id,
        state=JobState.QUEUED,
    ).update(state=JobState.SUPERSEDED, finished_at=now, message="A newer submission replaced it.")
    job = GradingJob.objects.create(
        submission=submission,
        bundle=bundle,
        queue=submission.assignment.autograder_queue,
        rank=submission.number,
        hold_until=submission.grade_after,
        queued_at=now,
        published_at=now,
    )
    transaction.on_commit(lambda: publish(job))
    return job


def publish(job: GradingJob) -> None:
    """Sends a wake-up to the job's queue. Never raises: if Redis is down, the sweeper sends
    it again later (the job row is safe in PostgreSQL)."""
    from grading.tasks import grade_next

    try:
        grade_next.apply_async(
            args=[job.queue, job.pk],
            queue=f"grading.{job.queue}",
            time_limit=settings.GRADING_TASK_TIME_LIMIT,
        )
    except Exception:
        if settings.CELERY_TASK_ALWAYS_EAGER:
            raise
        log.exception("could not publish job %s; the sweeper will retry", job.pk)


def job_claim(*, queue: str, worker: str, now: datetime) -> GradingJob | None:
    """Claims the fairest claimable job of the queue: lowest rank (a student's first
    submission before anyone's second), then oldest. Held jobs wait until their time."""
    with transaction.atomic():
        job = (
            GradingJob.objects.select_for_update(skip_locked=True)
            .filter(queue=queue, state=JobState.QUEUED)
            .filter(Q(hold_until__isnull=True) | Q(hold_until__lte=now))
            .order_by("rank", "queued_at", "pk")
            .first()
        )
        if job is None:
            return None
        claimed = GradingJob.objects.filter(pk=job.pk, state=JobState.QUEUED).update(
            state=JobState.RUNNING,
            attempts=job.attempts + 1,
            worker=worker,
            started_at=now,
            heartbeat_at=now,
        )
        if not claimed:
            return None
    return (
        GradingJob.objects.select_related(
            "bundle", "submission__assignment__course", "submission__student", "submission__group"
        )
        .prefetch_related("submission__files")
        .get(pk=job.pk)
    )


def job_heartbeat(*, job_id: int, worker: str) -> bool:
    """Says the worker is still on the job; False when the job was taken away from it."""
    return bool(
        GradingJob.objects.filter(pk=job_id, state=JobState.RUNNING, worker=worker).update(
            heartbeat_at=timezone.now()
        )
    )


def job_finish(
    *,
    job_id: int,
    worker: str,
    score: float | None,
    max_score: float | None,
    data: dict[str, Any],
    log_text: str = "",
) -> bool:
    """Stores the one result of a job. A worker that lost the job (the sweeper gave it to
    another) stores nothing; a second result for the same job is refused by the database."""
    now = timezone.now()
    with transaction.atomic():
        done = GradingJob.objects.filter(pk=job_id, state=JobState.RUNNING, worker=worker).update(
            state=JobState.DONE, finished_at=now, heartbeat_at=now, message="", log=log_text
        )
        if not done:
            return False
        try:
            with transaction.atomic():
                GradingResult.objects.create(
                    job_id=job_id, score=score, max_score=max_score, data=data
                )
        except IntegrityError:
            return False
        grades_from_result(job_id=job_id)
    return True


def job_fail(*, job_id: int, worker: str, message: str, log_text: str, retry: bool = False) -> str:
    """Ends an attempt that produced no result. ``retry`` (the worker's own trouble, not the
    student's) puts the job back in the queue until it has had MAX_ATTEMPTS; otherwise, or
    then, it is failed with ``message`` for the student and ``log_text`` for staff."""
    now = timezone.now()
    with transaction.atomic():
        job = (
            GradingJob.objects.select_for_update()
            .filter(pk=job_id, state=JobState.RUNNING, worker=worker)
            .first()
        )
        if job is None:
            return "lost"
        if retry and job.attempts < MAX_ATTEMPTS:
            job.state = JobState.QUEUED
            job.log = log_text
            job.published_at = now
            job.save(update_fields=["state", "log", "published_at"])
            transaction.on_commit(lambda: publish(job))
            return JobState.QUEUED
        job.state = JobState.FAILED
        job.finished_at = now
        job.message = message
        job.log = log_text
        job.save(update_fields=["state", "finished_at", "message", "log"])
    return JobState.FAILED


def jobs_sweep(*, now: datetime | None = None) -> dict[str, int]:
    """The beat task's work: running jobs whose worker stopped beating go back to the queue
    (or fail after MAX_ATTEMPTS); queued jobs not woken for a while get a new wake-up, so a
    Redis restart or a killed worker loses nothing."""
    now = now or timezone.now()
    requeued = failed = republished = 0
    stale = GradingJob.objects.filter(
        state=JobState.RUNNING, heartbeat_at__lt=now - HEARTBEAT_TIMEOUT
    ).values_list("pk", flat=True)
    for job_id in list(stale):
        with transaction.atomic():
            job = (
                GradingJob.objects.select_for_update(skip_locked=True)
                .filter(pk=job_id, state=JobState.RUNNING, heartbeat_at__lt=now - HEARTBEAT_TIMEOUT)
                .first()
            )
            if job is None:
                continue
            if job.attempts >= MAX_ATTEMPTS:
                job.state = JobState.FAILED
                job.finished_at = now
                job.message = (
                    "The grading machine stopped while running your code, several times. "
                    "The course staff can re-run it."
                )
                job.log += f"\nworker {job.worker} stopped beating; attempts exhausted"
                job.save(update_fields=["state", "finished_at", "message", "log"])
                failed += 1
            else:
                job.state = JobState.QUEUED
                job.published_at = now
                job.log += f"\nworker {job.worker} stopped beating at {job.heartbeat_at}; requeued"
                job.save(update_fields=["state", "published_at", "log"])
                transaction.on_commit(partial(publish, job))
                requeued += 1
    waiting = (
        GradingJob.objects.filter(state=JobState.QUEUED)
        .filter(Q(hold_until__isnull=True) | Q(hold_until__lte=now))
        .filter(Q(published_at__isnull=True) | Q(published_at__lt=now - REPUBLISH_AFTER))
        .order_by("rank", "queued_at")[:1000]
    )
    for job in waiting:
        GradingJob.objects.filter(pk=job.pk).update(published_at=now)
        publish(job)
        republished += 1
    return {"requeued": requeued, "failed": failed, "republished": republished}


def job_rerun(*, enrollment: Enrollment, submission: Submission) -> GradingJob | None:
    """Staff: grade this submission again (after fixing the bundle, say) with the active
    bundle. Its earlier results stay in the history."""
    if enrollment.role not in STAFF_ROLES or enrollment.course_id != submission.course_id:
        raise PermissionDeniedError("Only the course's staff can re-run the autograder.")
    now = timezone.now()
    with transaction.atomic():
        bundle = active_bundle(assignment=submission.assignment)
        if bundle is None:
            raise ApplicationError(
                "This assignment has no autograder to run.", code="no_autograder"
            )
        job = GradingJob.objects.create(
            submission=submission,
            bundle=bundle,
            queue=submission.assignment.autograder_queue,
            rank=submission.number,
            queued_at=now,
            published_at=now,
        )
        transaction.on_commit(lambda: publish(job))
    return job


def jobs_rerun_latest(*, enrollment: Enrollment, assignment: Assignment) -> int:
    """Staff: re-run every owner's latest submission of the assignment."""
    from submissions.selectors import counting_ids

    submissions = list(Submission.objects.filter(assignment=assignment))
    counting = counting_ids(submissions=submissions)
    jobs = 0
    for submission in submissions:
        if submission.pk in counting:
            job_rerun(enrollment=enrollment, submission=submission)
            jobs += 1
    return jobs


# --- grades, their release and regrade requests ----------------------------------------------

# A grade fits Grade.points: eight digits, two after the point.
MAX_POINTS = Decimal("999999.99")
HUMAN_SOURCES = frozenset({GradeChange.Source.STAFF, GradeChange.Source.REGRADE})


class GradesNotReleased(ApplicationError):
    code = "grades_not_released"
    status = 409


class RegradeWindowClosed(ApplicationError):
    code = "regrade_window_closed"
    status = 409


class AlreadyResolved(ApplicationError):
    code = "already_resolved"
    status = 409


def _invalid(field: str, message: str) -> ValidationFailed:
    """A 400 ``invalid`` naming the field, shaped like DRF's validation refusals."""
    return ValidationFailed(message, fields={field: [message]})


def _question_check(*, assignment: Assignment, question: str) -> None:
    """``question`` is "" (the whole assignment) or one of the assignment's question slugs."""
    if question == "":
        return
    slugs = list(assignment.questions.order_by("position").values_list("slug", flat=True))
    if question not in slugs:
        known = ", ".join(f"'{s}'" for s in slugs) or "none: leave it empty"
        raise _invalid(
            "question",
            f"'{question}' is not a question of {assignment.title} (its questions: {known}).",
        )


def _points_check(points: Decimal | None) -> Decimal | None:
    if points is None:
        return None
    if not isinstance(points, Decimal):  # an int or float from a caller's code
        points = Decimal(str(points))
    if not points.is_finite() or points < 0 or points > MAX_POINTS:
        raise _invalid(
            "points",
            f"Points must be a number from 0 to {MAX_POINTS}; {points} is not.",
        )
    return points.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def grade_set(
    *,
    by: Enrollment | None,
    assignment: Assignment,
    student: Any,
    question: str = "",
    points: Decimal | None,
    source: str,
    regrade_request: RegradeRequest | None = None,
    job: GradingJob | None = None,
) -> Grade:
    """Sets a student's grade on an assignment (or one of its questions) and keeps the change
    in the grade's history: old and new points, source, who. No change row when the points
    stay the same. ``by`` is the staff member's enrollment, or None for the system (the
    autograder). A grade a person has set (source staff or regrade) is never overwritten by
    the autograder: its result is still stored with the job, the grade keeps the person's."""
    if by is not None and (by.role not in STAFF_ROLES or by.course_id != assignment.course_id):
        raise PermissionDeniedError("Only the course's TAs and instructors set grades.")
    if source not in GradeChange.Source.values:
        raise ValueError(f"unknown grade source {source!r}")
    _question_check(assignment=assignment, question=question)
    points = _points_check(points)
    if (
        by is not None
        and not Enrollment.objects.filter(
            course_id=assignment.course_id,
            user_id=student.pk,
            role__in=sorted(SUBMITTING_ROLES),
        ).exists()
    ):
        raise ApplicationError(
            f"{student.username} is not a student of this course.", code="unknown_student"
        )
    with transaction.atomic():
        grade, _ = Grade.objects.select_for_update().get_or_create(
            assignment=assignment, student=student, question=question
        )
        if (
            source == GradeChange.Source.AUTOGRADER
            and grade.changes.filter(source__in=sorted(HUMAN_SOURCES)).exists()
        ):
            return grade
        old = grade.points
        if old == points:
            return grade
        grade.points = points
        grade.save(update_fields=["points", "updated_at"])
        GradeChange.objects.create(
            grade=grade,
            old_points=old,
            new_points=points,
            source=source,
            changed_by=by.user if by is not None else None,
            regrade_request=regrade_request,
            job=job,
        )
    return grade


def _graded_students(submission: Submission) -> list[Any]:
    """Whose grade a submission decides: the submitter, or every member of its group."""
    if submission.group_id:
        return [
            m.user
            for m in GroupMembership.objects.filter(group_id=submission.group_id)
            .select_related("user")
            .order_by("user__username")
        ]
    return [submission.student]


def grades_from_result(*, job_id: int) -> list[Grade]:
    """The autograder hook (called by :func:`job_finish` in its transaction): when the job's
    submission is the one that counts for its owner, its score becomes the whole-assignment
    grade of the student (of every group member for group work), source "autograder"."""
    from submissions.selectors import counting_ids

    job = GradingJob.objects.select_related(
        "result", "submission__assignment", "submission__student"
    ).get(pk=job_id)
    result = getattr(job, "result", None)
    if result is None or result.score is None:
        return []
    submission = job.submission
    if submission.pk not in counting_ids(submissions=[submission]):
        return []
    points = min(max(Decimal(str(result.score)), Decimal(0)), MAX_POINTS)
    return [
        grade_set(
            by=None,
            assignment=submission.assignment,
            student=student,
            points=points,
            source=GradeChange.Source.AUTOGRADER,
            job=job,
        )
        for student in _graded_students(submission)
    ]


def grades_release(*, enrollment: Enrollment, assignment: Assignment, now: datetime) -> Assignment:
    """The instructor releases an assignment's grades to its students; the regrade window
    starts. Releasing again changes nothing: the first time stays."""
    if enrollment.role != Role.INSTRUCTOR or enrollment.course_id != assignment.course_id:
        raise PermissionDeniedError("Only the instructor releases grades.")
    with transaction.atomic():
        Assignment.objects.filter(pk=assignment.pk, grades_released_at__isnull=True).update(
            grades_released_at=now
        )
        assignment.grades_released_at = (
            Assignment.objects.filter(pk=assignment.pk)
            .values_list("grades_released_at", flat=True)
            .get()
        )
    return assignment


def regrade_request_create(
    *,
    enrollment: Enrollment,
    submission: Submission,
    question: str,
    message: str,
    now: datetime,
) -> RegradeRequest:
    """A student asks for a regrade of their (or their group's) submission, on one question
    or ("") the whole assignment, while the regrade window is open: from the release of the
    assignment's grades until ``course.regrade_days`` days later, that last instant included.
    """
    from grading.selectors import regrade_window_closes_at

    own = submission.student_id == enrollment.user_id or (
        submission.group_id is not None
        and GroupMembership.objects.filter(
            group_id=submission.group_id, user_id=enrollment.user_id
        ).exists()
    )
    if submission.course_id != enrollment.course_id or not (
        own and enrollment.role in SUBMITTING_ROLES
    ):
        raise PermissionDeniedError(
            "Only the student who handed this work in (or a member of its group) can ask "
            "for a regrade."
        )
    assignment = submission.assignment
    message = message.strip()
    if not message:
        raise _invalid("message", "Say what should be regraded, and why.")
    _question_check(assignment=assignment, question=question)
    released = assignment.grades_released_at
    if released is None or released > now:
        raise GradesNotReleased(
            f"The grades of {assignment.title} are not released yet; regrade requests open "
            "when they are.",
        )
    closes = regrade_window_closes_at(assignment)
    assert closes is not None
    if now > closes:
        tz = deadlines.zone(assignment.course.timezone)
        raise RegradeWindowClosed(
            f"The regrade window for {assignment.title} closed "
            f"{closes.astimezone(tz):%a %b %-d %Y, %-I:%M %p %Z}."
        )
    return RegradeRequest.objects.create(
        submission=submission, student_id=enrollment.user_id, question=question, message=message
    )


def regrade_request_resolve(
    *,
    enrollment: Enrollment,
    request_id: int,
    response: str,
    score: Decimal | None,
    now: datetime,
) -> RegradeRequest:
    """Staff answer a regrade request. With ``score``, the grade of the request's question
    (or of the whole assignment) becomes it for the requesting student, and for every member
    of the group for group work, through :func:`grade_set` (source "regrade"), so the history
    keeps the earlier points. A request is resolved once."""
    response = response.strip()
    if not response:
        raise _invalid("response", "Write a response to the student.")
    with transaction.atomic():
        request = (
            RegradeRequest.objects.select_for_update(of=("self",))
            .select_related("submission__assignment__course", "submission__student", "student")
            .filter(pk=request_id)
            .first()
        )
        if request is None:
            raise NotFound("There is no such regrade request.")
        submission = request.submission
        if enrollment.role not in STAFF_ROLES or enrollment.course_id != submission.course_id:
            raise PermissionDeniedError("Only the course's TAs and instructors resolve regrades.")
        if request.status == RegradeRequest.Status.RESOLVED:
            raise AlreadyResolved("This regrade request is already resolved.")
        if score is not None:
            students = _graded_students(submission) if submission.group_id else [request.student]
            for student in students:
                grade_set(
                    by=enrollment,
                    assignment=submission.assignment,
                    student=student,
                    question=request.question,
                    points=score,
                    source=GradeChange.Source.REGRADE,
                    regrade_request=request,
                )
        request.status = RegradeRequest.Status.RESOLVED
        request.response = response
        request.resolved_by = enrollment.user
        request.resolved_at = now
        request.save(update_fields=["status", "response", "resolved_by", "resolved_at"])
    return request
