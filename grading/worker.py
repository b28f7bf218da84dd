"""Runs one claimed job: fetches the bundle and the student's files through the storage API,
builds the bundle version once per machine in the sandbox ``GRADING_SANDBOX`` names (an image
under Podman, a setup folder under bubblewrap), runs the job in it while beating the heart,
and stores the parsed results (or a failure a student understands).

Like DMOJ's judge, the worker never touches the site's tables itself: it writes only through
:mod:`grading.services` and reads only through :mod:`grading.selectors`. Each step of
:func:`run_job` ends the attempt with one :class:`Outcome`, and :func:`_record` alone turns
it into the job's new state."""

from __future__ import annotations

import fcntl
import io
import json
import logging
import os
import shutil
import socket
import subprocess
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
class Ready:
    """A bundle version ready on this machine: its unpacked files and what the engine built
    from them (an image tag, or bubblewrap's setup folder)."""

    source: Path
    artifact: str


def engine() -> sandbox.Engine:
    """The sandbox this worker grades in: ``GRADING_SANDBOX`` (podman or bubblewrap)."""
    return sandbox.engine(settings.GRADING_SANDBOX)


def _unpack(bundle: Bundle, source: Path) -> None:
    """The bundle's zip, fetched through the storage API, unpacked with its file modes."""
    shutil.rmtree(source, ignore_errors=True)
    with bundle.file.open("rb") as fh, zipfile.ZipFile(io.BytesIO(fh.read())) as zf:
        for info in zf.infolist():
            target = source / info.filename
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(zf.read(info))
            target.chmod(((info.external_attr >> 16) & 0o777) or 0o644)


def _build_spec(bundle: Bundle, root: Path, slot: Slot) -> sandbox.BuildSpec:
    assignment = bundle.assignment
    return sandbox.BuildSpec(
        source=root / "source",
        sha256=bundle.sha256,
        root=root,
        image=assignment.autograder_image,
        network=settings.GRADING_SETUP_NETWORK,
        wall_seconds=settings.GRADING_SETUP_TIMEOUT,
        uid=slot.uid,
    )


def _bundle_ready(eng: sandbox.Engine, bundle: Bundle, slot: Slot) -> tuple[Ready, str | None]:
    """The bundle version built on this machine by ``eng``: once per version (and base
    image), under a lock the machine's other workers wait on. A failed build stays failed
    (its log on the queue page) until staff ask for a retry. Returns what is ready and the
    build's error (None when it succeeded)."""
    root = work_dir() / "bundles" / bundle.sha256
    root.mkdir(parents=True, exist_ok=True)
    spec = _build_spec(bundle, root, slot)
    with open(root / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        artifact = eng.artifact(spec)
        ready = Ready(source=spec.source, artifact=artifact)
        row = selectors.bundle_setup_get(bundle_id=bundle.pk, worker=MACHINE)
        if row is not None and row.engine == eng.name and row.artifact == artifact:
            if row.state == row.State.DONE and eng.is_built(artifact):
                if not (spec.source / "run_autograder").is_file():
                    _unpack(bundle, spec.source)  # built earlier, its files since removed
                return ready, None
            if row.state == row.State.FAILED:
                return ready, (
                    f"setup.sh failed: the build of this version on {MACHINE} failed earlier; "
                    f"staff can retry it from the grading queue page.\n\n{row.log}"
                )
        _unpack(bundle, spec.source)
        row = services.bundle_setup_start(
            bundle=bundle, worker=MACHINE, engine=eng.name, artifact=artifact
        )
        built = eng.build(spec, artifact)
        services.bundle_setup_finish(setup=row, log_text=built.log, failed=not built.ok)
        if not built.ok:
            return ready, f"{built.error}\n\n{built.log}"
    _prune(eng)
    return ready, None


def _prune(eng: sandbox.Engine) -> None:
    """After a build: what this machine built for bundle versions no longer in use goes."""
    try:
        keep = selectors.bundle_artifacts_in_use(worker=MACHINE, engine=eng.name)
        removed = eng.prune(keep)
    except Exception:  # pruning is housekeeping: never a job's failure
        log.exception("pruning old bundle builds failed")
        return
    if removed:
        log.info("pruned %d old bundle build(s): %s", len(removed), ", ".join(removed))


def _prepare_bundle(job: GradingJob, slot: Slot, eng: sandbox.Engine) -> Ready | Outcome:
    """Step 1: the sandbox works on this machine and the job's bundle is built here; else
    the failed Outcome."""
    try:
        eng.check_available()
    except sandbox.SandboxUnavailable as exc:
        log.error("%s", exc)
        return Outcome(
            ok=False,
            message=f"The autograder could not run on the grading machine. {STAFF_TOLD}",
            log_text=str(exc),
        )
    ready, setup_error = _bundle_ready(eng, job.bundle, slot)
    if setup_error:
        return Outcome(ok=False, message=services.SETUP_FAILED_MESSAGE, log_text=setup_error)
    return ready


def _prepare_job_folder(job: GradingJob, folder: Path, *, source: Path | None) -> None:
    """Step 2: the job folder in Gradescope's layout, with the student's files (fetched
    through the storage API) and submission_metadata.json (``source`` is left out for an
    engine whose image carries the bundle)."""
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


def _limits(job: GradingJob, eng: sandbox.Engine) -> sandbox.Limits:
    """The assignment's limits. Memory: under bubblewrap only on the CPU queue (RLIMIT_AS
    breaks CUDA); a container's cgroup limit holds on both queues."""
    assignment = job.submission.assignment
    memory = assignment.autograder_memory_mb
    return sandbox.Limits(
        wall_seconds=assignment.autograder_timeout_s,
        memory_mb=memory if job.queue == "cpu" or eng.name == "podman" else None,
    )


def _run(
    job: GradingJob,
    folder: Path,
    *,
    eng: sandbox.Engine,
    ready: Ready,
    slot: Slot,
    heart: _Heart,
    limits: sandbox.Limits,
) -> sandbox.SandboxResult:
    """Step 3: the autograder in the sandbox, with the assignment's limits, network and CPU
    share, the slot's GPU, the heart beating while it runs."""
    assignment = job.submission.assignment
    spec = sandbox.RunSpec(
        limits=limits,
        uid=slot.uid,
        env=slot.env,
        network=assignment.autograder_network,
        cpus=float(assignment.autograder_cpus),
        gpus=tuple(g for g in slot.env.get("CUDA_VISIBLE_DEVICES", "").split(",") if g),
        job=f"job-{job.pk}",
        retry=job.attempts > 1,
    )
    heart.start()
    try:
        result = eng.run(folder, ready.artifact, spec)
    finally:
        heart.stop.set()
    _keep_stdout(folder, result)
    return result


def _keep_stdout(folder: Path, result: sandbox.SandboxResult) -> None:
    """Gradescope keeps what run_autograder printed as ``/autograder/results/stdout``."""
    results = folder / "autograder" / "results"
    target = results / "stdout"
    if results.is_dir() and not results.is_symlink() and not target.is_symlink():
        try:
            target.unlink(missing_ok=True)
            target.write_text(result.output, encoding="utf-8")
        except OSError:
            log.warning("could not write %s", target)


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


def _forget_earlier_attempts(job: GradingJob, folder: Path) -> None:
    """The job folders an earlier attempt of this job left on this machine (its worker was
    killed before it could clean up), unmounted where they are mounts, and removed."""
    for old in [*folder.parent.glob(f"job-{job.pk}-*"), folder]:
        if os.path.ismount(old):
            subprocess.run(["umount", "--lazy", str(old)], capture_output=True, check=False)
        shutil.rmtree(old, ignore_errors=True)


def run_job(job: GradingJob, *, slot: Slot, worker: str) -> str:
    """Grades one claimed job to its end: prepare the bundle, prepare the job folder, run,
    parse, record. Returns the job's new state. Trouble of the worker's own while grading
    (not while setting the bundle up) puts the job back in the queue for another try."""
    try:
        eng = engine()
    except sandbox.SandboxUnavailable as exc:
        log.error("%s", exc)
        trouble = Outcome(
            ok=False,
            message=f"The autograder could not run on the grading machine. {STAFF_TOLD}",
            log_text=str(exc),
        )
        return _record(job, worker=worker, outcome=trouble)
    prepared = _prepare_bundle(job, slot, eng)
    if isinstance(prepared, Outcome):
        return _record(job, worker=worker, outcome=prepared)
    folder = work_dir() / "jobs" / f"job-{job.pk}-{job.attempts}"
    _forget_earlier_attempts(job, folder)
    heart = _Heart(job.pk, worker)
    try:
        limits = _limits(job, eng)
        with eng.job_folder(folder, size_mb=limits.disk_mb):
            source = prepared.source if eng.name == "bubblewrap" else None
            _prepare_job_folder(job, folder, source=source)
            result = _run(
                job, folder, eng=eng, ready=prepared, slot=slot, heart=heart, limits=limits
            )
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
