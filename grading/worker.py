"""Runs one claimed job: fetches the bundle and the student's files through the storage API,
sets the bundle up once per worker, runs it in the sandbox while beating the heart, and
stores the parsed results (or a failure a student understands).

Like DMOJ's judge, the worker never touches the site's tables itself: it writes only through
:mod:`grading.services` and reads only through :mod:`grading.selectors`. Each step of
:func:`run_job` ends the attempt with one :class:`Outcome`, and :func:`_record` alone turns
it into the job's new state."""

from __future__ import annotations

import fcntl
import io
import json
import logging
import shutil
import socket
import threading
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connection

from grading import sandbox, selectors, services
from grading.models import Bundle, GradingJob
from grading.results import ResultsInvalid, parse_results
from grading.slots import Slot

log = logging.getLogger(__name__)

MACHINE = socket.gethostname()
STAFF_TOLD = "The course staff have been told."
# How much of the autograder's output the stored result keeps.
STDOUT_KEPT = 65536


def work_dir() -> Path:
    return Path(settings.GRADING_WORK_DIR)


@dataclass(frozen=True)
class Outcome:
    """How an attempt ended. ``ok``: graded, with ``score``, ``max_score`` and ``data`` to
    store. Otherwise failed, with ``message`` for the student and ``log_text`` for staff;
    ``retry`` when the trouble was the worker's own, not the student's. ``lost``: the
    sweeper gave the job to another worker meanwhile, so nothing is recorded."""

    ok: bool
    message: str = ""
    log_text: str = ""
    retry: bool = False
    lost: bool = False
    score: float | None = None
    max_score: float | None = None
    data: dict[str, Any] = field(default_factory=dict)


LOST = Outcome(ok=False, lost=True)


@dataclass(frozen=True)
class BundleDirs:
    """A bundle version set up on this machine: its files and its setup environment."""

    source: Path
    env: Path


def _unpack(bundle: Bundle, source: Path) -> None:
    """The bundle's zip, fetched through the storage API, unpacked with its file modes."""
    with bundle.file.open("rb") as fh, zipfile.ZipFile(io.BytesIO(fh.read())) as zf:
        for info in zf.infolist():
            target = source / info.filename
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(zf.read(info))
            target.chmod(((info.external_attr >> 16) & 0o777) or 0o644)


def _setup(bundle: Bundle, dirs: BundleDirs, slot: Slot) -> str | None:
    """Runs the bundle's setup.sh (if it has one) into its setup environment, its output
    kept for staff through the services. Returns the error, None when it succeeded."""
    setup_row = services.bundle_setup_start(bundle=bundle, worker=MACHINE)
    if not (dirs.source / "setup.sh").exists():
        services.bundle_setup_finish(setup=setup_row, log_text="(no setup.sh)", failed=False)
        return None
    result = sandbox.run_setup(
        dirs.source,
        dirs.env,
        limits=sandbox.Limits(
            wall_seconds=settings.GRADING_SETUP_TIMEOUT,
            memory_mb=None,
            max_file_mb=16384,  # pip installing PyTorch writes files over 1 GB
            max_processes=512,
        ),
        uid=slot.uid,
        network=settings.GRADING_SETUP_NETWORK,
    )
    error = f"setup.sh failed: {sandbox.describe(result)}" if result.exit_code != 0 else None
    services.bundle_setup_finish(setup=setup_row, log_text=result.output, failed=bool(error))
    return error


def _bundle_ready(bundle: Bundle, slot: Slot) -> tuple[BundleDirs, str | None]:
    """The bundle's files and its setup environment on this machine: unpacked and set up
    once per bundle version, under a lock that the machine's other workers wait on. Returns
    the folders and the setup error (None when it succeeded), remembered on disk."""
    root = work_dir() / "bundles" / bundle.sha256
    dirs = BundleDirs(source=root / "source", env=root / "env")
    done, failed = root / "setup-done", root / "setup-failed"
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if done.exists():
            return dirs, None
        if failed.exists():
            return dirs, failed.read_text()
        shutil.rmtree(dirs.source, ignore_errors=True)
        shutil.rmtree(dirs.env, ignore_errors=True)
        _unpack(bundle, dirs.source)
        dirs.env.mkdir(parents=True, exist_ok=True)
        error = _setup(bundle, dirs, slot)
        (failed if error else done).write_text(error or "ok")
        return dirs, error


def _prepare_bundle(job: GradingJob, slot: Slot) -> BundleDirs | Outcome:
    """Step 1: the sandbox works on this machine and the job's bundle is set up here; else
    the failed Outcome."""
    try:
        sandbox.check_available()
    except sandbox.SandboxUnavailable as exc:
        log.error("%s", exc)
        return Outcome(
            ok=False,
            message=f"The autograder could not run on the grading machine. {STAFF_TOLD}",
            log_text=str(exc),
        )
    dirs, setup_error = _bundle_ready(job.bundle, slot)
    if setup_error:
        return Outcome(
            ok=False,
            message=f"The autograder's setup failed, so your code could not be graded. {STAFF_TOLD}",
            log_text=setup_error,
        )
    return dirs


def _prepare_job_folder(job: GradingJob, folder: Path, *, source: Path) -> None:
    """Step 2: the job folder in Gradescope's layout, with the student's files (fetched
    through the storage API) and submission_metadata.json."""
    files = []
    for f in job.submission.files.all():
        with f.file.open("rb") as fh:
            files.append((f.name, fh.read()))
    sandbox.prepare_job(
        folder,
        bundle_dir=source,
        submission=files,
        metadata=selectors.submission_metadata(job=job),
    )


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


def _run(
    job: GradingJob, folder: Path, *, setup_env: Path, slot: Slot, heart: _Heart
) -> sandbox.SandboxResult:
    """Step 3: the autograder in the sandbox, with the assignment's limits (memory only on
    the CPU queue), the heart beating while it runs."""
    assignment = job.submission.assignment
    limits = sandbox.Limits(
        wall_seconds=assignment.autograder_timeout_s,
        memory_mb=assignment.autograder_memory_mb if job.queue == "cpu" else None,
    )
    heart.start()
    result = sandbox.run_autograder(
        folder, limits=limits, uid=slot.uid, env=slot.env, setup_env=setup_env
    )
    heart.stop.set()
    return result


def _parse(folder: Path, result: sandbox.SandboxResult) -> Outcome:
    """Step 4: results.json read and parsed into the Outcome to store, or the failure the
    student reads."""
    # Never open results.json plainly: the student's code could have made it a link to a
    # file of the worker's. read_results follows no links and takes regular files only.
    try:
        raw = None if result.timed_out else sandbox.read_results(folder)
    except sandbox.JobFolderError as exc:
        return Outcome(
            ok=False,
            message="The autograder wrote a results file that is too large to read.",
            log_text=f"{exc}\n\n{result.output}",
        )
    if raw is None:
        return Outcome(
            ok=False,
            message=f"Your code could not be graded: {sandbox.describe(result)}",
            log_text=result.output,
        )
    try:
        parsed = parse_results(raw)
    except ResultsInvalid as exc:
        return Outcome(
            ok=False, message=exc.student_message, log_text=f"{exc.detail}\n\n{result.output}"
        )
    data = {"raw": raw.decode("utf-8", errors="replace"), "stdout": result.output[-STDOUT_KEPT:]}
    return Outcome(
        ok=True,
        score=parsed.score,
        max_score=parsed.max_score,
        data=json.loads(json.dumps(data, default=str)),
        log_text=result.output,
    )


def _record(job: GradingJob, *, worker: str, outcome: Outcome) -> str:
    """Step 5, the one place an attempt's end is written: the result through
    :func:`grading.services.job_finish`, a failure through :func:`grading.services.job_fail`.
    Returns the job's new state ("lost" when the job is no longer this worker's)."""
    if outcome.lost:
        return "lost"
    if outcome.ok:
        services.job_finish(
            job_id=job.pk,
            worker=worker,
            score=outcome.score,
            max_score=outcome.max_score,
            data=outcome.data,
            log_text=outcome.log_text,
        )
        return "done"
    return services.job_fail(
        job_id=job.pk,
        worker=worker,
        message=outcome.message,
        log_text=outcome.log_text,
        retry=outcome.retry,
    )


def run_job(job: GradingJob, *, slot: Slot, worker: str) -> str:
    """Grades one claimed job to its end: prepare the bundle, prepare the job folder, run,
    parse, record. Returns the job's new state. Trouble of the worker's own while grading
    (not while setting the bundle up) puts the job back in the queue for another try."""
    prepared = _prepare_bundle(job, slot)
    if isinstance(prepared, Outcome):
        return _record(job, worker=worker, outcome=prepared)
    folder = work_dir() / "jobs" / f"job-{job.pk}-{job.attempts}"
    shutil.rmtree(folder, ignore_errors=True)
    heart = _Heart(job.pk, worker)
    try:
        _prepare_job_folder(job, folder, source=prepared.source)
        result = _run(job, folder, setup_env=prepared.env, slot=slot, heart=heart)
        outcome = LOST if heart.lost else _parse(folder, result)
        return _record(job, worker=worker, outcome=outcome)
    except Exception as exc:  # the worker's own trouble: try again elsewhere
        log.exception("job %s failed on %s", job.pk, worker)
        trouble = Outcome(
            ok=False,
            message=f"The grading machine had a problem while grading your code. {STAFF_TOLD}",
            log_text=repr(exc),
            retry=True,
        )
        return _record(job, worker=worker, outcome=trouble)
    finally:
        heart.stop.set()
        shutil.rmtree(folder, ignore_errors=True)
        close_old_connections()
