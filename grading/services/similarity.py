"""Writes of similarity checks: staff start one (the starter code is read then and kept with
the check), a CPU worker runs it (``grading.tasks.similarity_check``) over the assignment's
counting submissions and stores the pairs that share code; the comparison itself is
``grading.similarity``.

One check at a time per assignment: starting one while another is queued or running hands
back that one (a unique constraint keeps it so). A check is claimed with a conditional
UPDATE, so a duplicate delivery does nothing; one whose message was lost is published again
by the next start, one whose worker died (running past ``GRADING_TASK_TIME_LIMIT``) is
failed and replaced."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from courses.models import STAFF_ROLES, Assignment, Enrollment, GroupMembership
from grading import similarity
from grading.models import SimilarityCheck, SimilarityPair
from portal.errors import ApplicationError, NotFound
from submissions.models import Submission, SubmissionCollaborator, SubmissionFile
from submissions.selectors import counting_ids

log = logging.getLogger(__name__)

Status = SimilarityCheck.Status
ACTIVE = (Status.QUEUED, Status.RUNNING)
# A queued check not started within this long has its wake-up sent again by the next start.
REPUBLISH_AFTER = timedelta(seconds=getattr(settings, "GRADING_REPUBLISH_AFTER", 60))
MAX_PAIRS = 2000  # the most similar pairs kept per check
TASK_NAME = "grading.similarity_check"


def _time_limit() -> int:
    return int(settings.GRADING_TASK_TIME_LIMIT)


def publish(check: SimilarityCheck) -> None:
    """Sends the check to a CPU worker. Never raises (the next start sends it again), except
    in-process (no Redis: the demo), where the check runs right here."""
    try:
        current_app.signature(
            TASK_NAME, args=[check.pk], queue="grading.cpu", time_limit=_time_limit()
        ).apply_async()
    except Exception:
        if settings.CELERY_TASK_ALWAYS_EAGER:
            raise
        log.exception("could not publish similarity check %s", check.pk)


def starter_files(folder: str) -> list[dict[str, str]]:
    """The starter code's files as a check keeps them: ``[{"name", "text", "lexed_as"}]``,
    text files only (see ``grading.similarity.comparable_text``), at most
    ``MAX_STARTER_BYTES`` in all. 409 ``starter_missing`` when the folder is gone."""
    root = Path(folder)
    if not root.is_dir():
        raise ApplicationError(
            f"The starter code folder {folder} is missing; load the course config again.",
            code="starter_missing",
            status=409,
        )
    out: list[dict[str, str]] = []
    total = 0
    for path in sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink()):
        rel = path.relative_to(root).as_posix()
        if "__pycache__" in rel.split("/") or path.stat().st_size > similarity.MAX_FILE_BYTES:
            continue
        comparable = similarity.comparable_text(rel, path.read_bytes())
        if comparable is None:
            continue
        text, lexed_as = comparable
        total += len(text)
        if total > similarity.MAX_STARTER_BYTES:
            break
        out.append({"name": rel, "text": text, "lexed_as": lexed_as})
    return out


def similarity_check_start(
    *, by: Enrollment, assignment: Assignment, now: datetime
) -> tuple[SimilarityCheck, bool]:
    """Staff start a check of the assignment's counting submissions: ``(check, True)``, queued
    for a CPU worker once this commits; or ``(the active one, False)`` while one is queued or
    running. Anyone not staff of the course: 404."""
    if by.role not in STAFF_ROLES or by.course_id != assignment.course_id:
        raise NotFound("Only the course's TAs and instructors can see this.")
    starter = starter_files(assignment.similarity_starter) if assignment.similarity_starter else []
    with transaction.atomic():
        Assignment.objects.select_for_update().filter(pk=assignment.pk).get()
        active = (
            SimilarityCheck.objects.filter(assignment=assignment, status__in=ACTIVE)
            .defer("starter")
            .first()
        )
        if active is not None and active.status == Status.RUNNING:
            started = active.started_at or active.created_at
            if started < now - timedelta(seconds=_time_limit()):
                _fail(active.pk, "The worker stopped before the check finished.", now)
                active = None
        if active is not None:
            if active.status == Status.QUEUED and active.created_at < now - REPUBLISH_AFTER:
                transaction.on_commit(partial(publish, active))
            return active, False
        check = SimilarityCheck.objects.create(
            assignment=assignment,
            requested_by=by.user,
            created_at=now,
            starter={"folder": assignment.similarity_starter, "files": starter},
        )
        transaction.on_commit(partial(publish, check))
    return check, True


def _fail(check_id: int, error: str, now: datetime) -> None:
    SimilarityCheck.objects.filter(pk=check_id, status__in=ACTIVE).update(
        status=Status.FAILED, error=error[:2000], finished_at=now
    )


def similarity_check_run(*, check_id: int, worker: str, now: datetime) -> str:
    """The worker's part: claims the queued check (a duplicate delivery finds nothing to
    claim), compares, stores the pairs and marks it done; a failure marks it failed with the
    error. Returns what happened: ``done``, ``failed`` or ``nothing``."""
    claimed = SimilarityCheck.objects.filter(pk=check_id, status=Status.QUEUED).update(
        status=Status.RUNNING, started_at=now, worker=worker[:200]
    )
    if not claimed:
        return "nothing"
    check = SimilarityCheck.objects.select_related("assignment").get(pk=check_id)
    try:
        count, pairs = _compare(check)
        with transaction.atomic():
            SimilarityPair.objects.bulk_create(pairs)
            SimilarityCheck.objects.filter(pk=check_id, status=Status.RUNNING).update(
                status=Status.DONE, submissions=count, finished_at=timezone.now()
            )
    except Exception as exc:
        log.exception("similarity check %s failed", check_id)
        _fail(check_id, f"{type(exc).__name__}: {exc}", timezone.now())
        return "failed"
    return "done"


def _read(stored: SubmissionFile) -> bytes | None:
    if stored.size > similarity.MAX_FILE_BYTES:
        return None
    try:
        with stored.file.open("rb") as handle:
            return bytes(handle.read(similarity.MAX_FILE_BYTES + 1))
    except OSError:
        return None


def _compare(check: SimilarityCheck) -> tuple[int, list[SimilarityPair]]:
    """The counting submissions (one per student, or per group), their text files, who
    declared whom; the pairs that share code, most similar first."""
    assignment = check.assignment
    everything = list(
        Submission.objects.filter(assignment=assignment).only(
            "id", "assignment_id", "group_id", "student_id", "number", "chosen"
        )
    )
    counting = counting_ids(submissions=everything)
    submissions = {s.pk: s for s in everything if s.pk in counting}
    files: dict[int, list[similarity.SourceFile]] = {pk: [] for pk in submissions}
    for stored in SubmissionFile.objects.filter(submission_id__in=list(submissions)).order_by(
        "submission_id", "name"
    ):
        if len(files[stored.submission_id]) >= similarity.MAX_FILES:
            continue
        data = _read(stored)
        comparable = similarity.comparable_text(stored.name, data) if data is not None else None
        if comparable is not None:
            files[stored.submission_id].append(similarity.SourceFile(stored.name, *comparable))
    starter = [
        similarity.SourceFile(f["name"], f["text"], f["lexed_as"])
        for f in (check.starter or {}).get("files", [])
    ]
    documents = [similarity.Document(pk, files[pk]) for pk in sorted(submissions)]
    results = similarity.compare(documents, starter)[:MAX_PAIRS]

    people = _people(submissions.values())
    declared: dict[int, set[int]] = {pk: set() for pk in submissions}
    for submission_id, user_id in SubmissionCollaborator.objects.filter(
        submission_id__in=list(submissions)
    ).values_list("submission_id", "user_id"):
        declared[submission_id].add(user_id)
    pairs = []
    for r in results:
        a, b = submissions[r.key_a], submissions[r.key_b]
        pairs.append(
            SimilarityPair(
                similarity_check=check,
                submission_a=a,
                submission_b=b,
                student_a_id=a.student_id,
                student_b_id=b.student_id,
                similarity=_unit(r.similarity),
                similarity_a=_unit(r.similarity_a),
                similarity_b=_unit(r.similarity_b),
                declared_collaborators=bool(
                    declared[a.pk] & people[b.pk] or declared[b.pk] & people[a.pk]
                ),
                regions=r.regions,
            )
        )
    return len(submissions), pairs


def _unit(value: float) -> float:
    return round(min(1.0, max(0.0, float(value))), 4)


def _people(submissions: Any) -> dict[int, set[int]]:
    """Per submission, whose work it is: its submitter, and for group work the group's
    members."""
    subs = list(submissions)
    members: dict[int, set[int]] = {}
    group_ids = {s.group_id for s in subs if s.group_id}
    for group_id, user_id in GroupMembership.objects.filter(group_id__in=group_ids).values_list(
        "group_id", "user_id"
    ):
        members.setdefault(group_id, set()).add(user_id)
    return {
        s.pk: {s.student_id, *(members.get(s.group_id, set()) if s.group_id else set())}
        for s in subs
    }
