"""Runs one claimed job: fetches the bundle and the student's files through the storage API,
sets the bundle up once per worker, runs it in the sandbox while beating the heart, and
stores the parsed results (or a failure a student understands)."""

from __future__ import annotations

import fcntl
import io
import json
import logging
import shutil
import socket
import threading
import zipfile
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connection
from django.utils import timezone

from courses import deadlines
from grading import sandbox, services
from grading.models import Bundle, BundleSetup, GradingJob, GradingResult
from grading.results import ResultsInvalid, parse_results
from grading.slots import Slot

log = logging.getLogger(__name__)

MACHINE = socket.gethostname()
STAFF_TOLD = "The course staff have been told."


def work_dir() -> Path:
    return Path(settings.GRADING_WORK_DIR)


def _bundle_ready(bundle: Bundle, slot: Slot) -> tuple[Path, Path, str | None]:
    """The bundle's files and its setup environment on this machine: unpacked and set up
    once per bundle version (setup.sh's output kept in BundleSetup for staff). Returns
    (source, env, error)."""
    root = work_dir() / "bundles" / bundle.sha256
    source, env, done = root / "source", root / "env", root / "setup-done"
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if done.exists():
            return source, env, None
        failed = root / "setup-failed"
        if failed.exists():
            return source, env, failed.read_text()
        shutil.rmtree(source, ignore_errors=True)
        shutil.rmtree(env, ignore_errors=True)
        with bundle.file.open("rb") as fh, zipfile.ZipFile(io.BytesIO(fh.read())) as zf:
            for info in zf.infolist():
                target = source / info.filename
                if info.is_dir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(zf.read(info))
                target.chmod(((info.external_attr >> 16) & 0o777) or 0o644)
        env.mkdir(parents=True, exist_ok=True)
        setup_row, _ = BundleSetup.objects.update_or_create(
            bundle=bundle, worker=MACHINE, defaults={"state": "running", "log": ""}
        )
        error = None
        if (source / "setup.sh").exists():
            result = sandbox.run_setup(
                source,
                env,
                limits=sandbox.Limits(
                    wall_seconds=settings.GRADING_SETUP_TIMEOUT,
                    memory_mb=None,
                    max_file_mb=16384,  # pip installing PyTorch writes files over 1 GB
                    max_processes=512,
                ),
                uid=slot.uid,
                network=settings.GRADING_SETUP_NETWORK,
            )
            setup_row.log = result.output
            if result.exit_code != 0:
                error = f"setup.sh failed: {sandbox.describe(result)}"
        else:
            setup_row.log = "(no setup.sh)"
        setup_row.state = "failed" if error else "done"
        setup_row.finished_at = timezone.now()
        setup_row.save(update_fields=["state", "log", "finished_at"])
        (failed if error else done).write_text(error or "ok")
        return source, env, error


def _metadata(job: GradingJob) -> dict[str, Any]:
    """submission_metadata.json, as Gradescope writes it."""
    sub = job.submission
    a = sub.assignment
    tz = deadlines.zone(a.course.timezone)
    previous = (
        GradingResult.objects.filter(
            job__submission__assignment=a, job__submission__student=sub.student
        )
        .exclude(job__submission=sub)
        .select_related("job__submission")
        .order_by("job__submission__submitted_at")
    )
    return {
        "id": sub.pk,
        "created_at": sub.submitted_at.astimezone(tz).isoformat(),
        "submission_method": "upload",
        "assignment": {
            "id": a.pk,
            "course_id": a.course_id,
            "title": a.title,
            "release_date": a.release_at.astimezone(tz).isoformat() if a.release_at else None,
            "due_date": sub.due_at.astimezone(tz).isoformat(),
            "late_due_date": sub.grace_ends_at.astimezone(tz).isoformat(),
            "group_submission": a.group,
            "group_size": a.group_max if a.group else None,
            "total_points": str(a.points),
        },
        "users": [
            {
                "email": sub.student.email,
                "id": sub.student_id,
                "name": sub.student.get_full_name() or sub.student.username,
            }
        ],
        "previous_submissions": [
            {
                "submission_time": r.job.submission.submitted_at.astimezone(tz).isoformat(),
                "score": r.score,
                "results": {},
            }
            for r in previous
        ],
    }


class _Heart(threading.Thread):
    def __init__(self, job_id: int, worker: str):
        super().__init__(daemon=True)
        self.job_id, self.worker = job_id, worker
        self.stop = threading.Event()
        self.lost = False

    def run(self) -> None:
        try:
            while not self.stop.wait(services.HEARTBEAT_SECONDS):
                if not services.job_heartbeat(job_id=self.job_id, worker=self.worker):
                    self.lost = True
        finally:
            connection.close()


def run_job(job: GradingJob, *, slot: Slot, worker: str) -> str:
    """Grades one claimed job to its end. Returns the job's new state."""
    try:
        sandbox.check_available()
    except sandbox.SandboxUnavailable as exc:
        log.error("%s", exc)
        return services.job_fail(
            job_id=job.pk,
            worker=worker,
            message=f"The autograder could not run on the grading machine. {STAFF_TOLD}",
            log_text=str(exc),
        )
    source, env, setup_error = _bundle_ready(job.bundle, slot)
    if setup_error:
        return services.job_fail(
            job_id=job.pk,
            worker=worker,
            message=f"The autograder's setup failed, so your code could not be graded. {STAFF_TOLD}",
            log_text=setup_error,
        )
    folder = work_dir() / "jobs" / f"job-{job.pk}-{job.attempts}"
    shutil.rmtree(folder, ignore_errors=True)
    heart = _Heart(job.pk, worker)
    try:
        files = []
        for f in job.submission.files.all():
            with f.file.open("rb") as fh:
                files.append((f.name, fh.read()))
        sandbox.prepare_job(folder, bundle_dir=source, submission=files, metadata=_metadata(job))
        assignment = job.submission.assignment
        limits = sandbox.Limits(
            wall_seconds=assignment.autograder_timeout_s,
            memory_mb=assignment.autograder_memory_mb if job.queue == "cpu" else None,
        )
        heart.start()
        result = sandbox.run_autograder(
            folder, limits=limits, uid=slot.uid, env=slot.env, setup_env=env
        )
        heart.stop.set()
        if heart.lost:
            return "lost"
        # Never open results.json plainly: the student's code could have made it a link to a
        # file of the worker's. read_results follows no links and takes regular files only.
        try:
            raw = None if result.timed_out else sandbox.read_results(folder)
        except sandbox.JobFolderError as exc:
            return services.job_fail(
                job_id=job.pk,
                worker=worker,
                message="The autograder wrote a results file that is too large to read.",
                log_text=f"{exc}\n\n{result.output}",
            )
        if raw is None:
            reason = sandbox.describe(result)
            return services.job_fail(
                job_id=job.pk,
                worker=worker,
                message=f"Your code could not be graded: {reason}",
                log_text=result.output,
            )
        try:
            parsed = parse_results(raw)
        except ResultsInvalid as exc:
            return services.job_fail(
                job_id=job.pk,
                worker=worker,
                message=exc.student_message,
                log_text=f"{exc.detail}\n\n{result.output}",
            )
        data = {"raw": raw.decode("utf-8", errors="replace"), "stdout": result.output[-65536:]}
        services.job_finish(
            job_id=job.pk,
            worker=worker,
            score=parsed.score,
            max_score=parsed.max_score,
            data=json.loads(json.dumps(data, default=str)),
            log_text=result.output,
        )
        return "done"
    except Exception as exc:  # the worker's own trouble: try again elsewhere
        log.exception("job %s failed on %s", job.pk, worker)
        return services.job_fail(
            job_id=job.pk,
            worker=worker,
            message=f"The grading machine had a problem while grading your code. {STAFF_TOLD}",
            log_text=repr(exc),
            retry=True,
        )
    finally:
        heart.stop.set()
        shutil.rmtree(folder, ignore_errors=True)
        close_old_connections()
