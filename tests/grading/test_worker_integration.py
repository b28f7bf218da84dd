"""A real Celery worker against a real Redis and the real PostgreSQL: a submission graded end
to end in the sandbox; a worker killed with SIGKILL mid-job and restarted still finishes every
job exactly once; FLUSHALL on Redis with jobs queued loses none.

Each test gets a redis-server of its own (:class:`RedisServer`: a free port of 127.0.0.1,
nothing saved to disk, stopped at the end), and the worker and this process's Celery app
both use it: what a test does to its broker, FLUSHALL included, never touches the Redis that
other tests and other people share."""

from __future__ import annotations

import itertools
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import kombu.pools
import pytest
import redis
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import timezone

from grading import services
from grading.models import BundleSetup, GradingJob, GradingResult, JobState
from portal.celery import app as celery_app
from submissions.services import submission_create
from tests.factories import EnrollmentFactory
from tests.grading.conftest import bundle_zip

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "demo"

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

SLOW_BUNDLE = b"""#!/usr/bin/env bash
sleep 3
echo '{"score": 1, "tests": [{"name": "slow", "score": 1, "max_score": 1}]}' \\
  > /autograder/results/results.json
"""


@pytest.fixture
def shared_dirs(settings, tmp_path) -> Iterator[dict[str, str]]:
    """Media and grading folders the worker shares with the test (traversable by the
    sandbox's unprivileged uid)."""
    base = Path(f"/tmp/portal-itest-{uuid.uuid4().hex[:8]}")
    media, work = base / "media", base / "work"
    for d in (base, media, work):
        d.mkdir(parents=True, exist_ok=True)
        d.chmod(0o755)
    settings.MEDIA_ROOT = str(media)
    yield {"MEDIA_ROOT": str(media), "GRADING_WORK_DIR": str(work)}
    shutil.rmtree(base, ignore_errors=True)


class RedisServer:
    """A redis-server of a test's own: bound to 127.0.0.1 on a free port, saving nothing
    (``--save "" --appendonly no``), its files in ``folder``; :meth:`stop` ends it."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        executable = shutil.which("redis-server")
        if executable is None:
            raise RuntimeError("redis-server is not on PATH (bin/test installs Redis)")
        self.folder.mkdir(parents=True, exist_ok=True)
        log = self.folder / "redis.log"
        for _ in range(5):  # another process may take the free port first: try another
            self.port = _free_port()
            options = {
                "--bind": "127.0.0.1",
                "--port": str(self.port),
                "--save": "",
                "--appendonly": "no",
                "--dir": str(self.folder),
                "--logfile": str(log),
            }
            self.proc = subprocess.Popen(
                [executable, *itertools.chain.from_iterable(options.items())],
                start_new_session=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            if self._wait_until_up():
                return self
            self.stop()
        raise RuntimeError(f"redis-server did not start: {log.read_text()[-2000:]}")

    def _wait_until_up(self, timeout: float = 10.0) -> bool:
        client = redis.Redis(host="127.0.0.1", port=self.port, socket_connect_timeout=1)
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline and self.proc and self.proc.poll() is None:
                try:
                    return bool(client.ping())
                except (redis.ConnectionError, redis.TimeoutError):
                    time.sleep(0.02)
            return False
        finally:
            client.close()

    def stop(self) -> None:
        terminate(self.proc)


def terminate(proc: subprocess.Popen[bytes] | None) -> None:
    """Stops a server the test started: SIGTERM, then SIGKILL after 10 s."""
    if proc and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def celery_broker(url: str) -> Iterator[None]:
    """This process's Celery app publishes to ``url``, then back to where it did. Celery
    keeps its connection and producer pools once made, so they are let go, as Celery itself
    does after a fork (``Celery._after_fork``)."""

    def point_at(target: str) -> None:
        celery_app.conf.broker_url = target
        celery_app._pool = None
        celery_app.amqp._producer_pool = None
        # The pools live in kombu's registry (one per broker URL), which Celery reuses: closing
        # one there would leave it closed for the next test that publishes to that URL
        # ("Acquire on closed pool"); reset empties the registry, as after a fork.
        kombu.pools.reset()

    before = celery_app.conf.broker_url
    point_at(url)
    try:
        yield
    finally:
        point_at(before)


@pytest.fixture
def redis_server(tmp_path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "redis").start()
    yield server
    server.stop()


@pytest.fixture
def broker(redis_server) -> Iterator[redis.Redis]:
    """The test's own Redis, which this process's Celery publishes to (and the workers it
    starts read from)."""
    client = redis.Redis.from_url(redis_server.url)
    with celery_broker(redis_server.url):
        yield client
    client.close()


class Worker:
    def __init__(self, env: dict[str, str], log: Path):
        self.env, self.log, self.proc = env, log, None

    def start(self) -> Worker:
        name = f"itest-{uuid.uuid4().hex[:6]}@%h"
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "portal",
                "worker",
                "-Q",
                "grading.cpu",
                "--concurrency",
                "1",
                "--loglevel",
                "INFO",
                "-n",
                name,
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            cwd=ROOT,
            env=self.env,
            start_new_session=True,
            stdout=self.log.open("a"),
            stderr=subprocess.STDOUT,
        )
        return self

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def sandbox_name() -> str:
    """The sandbox the worker grades in (the end-to-end test runs with both)."""
    return "bubblewrap"


@pytest.fixture
def workers(
    shared_dirs, tmp_path, redis_server, broker, sandbox_name, request
) -> Iterator[callable]:
    if sandbox_name == "podman":
        request.getfixturevalue("base_image")
    env = {
        **os.environ,
        **shared_dirs,
        "GRADING_SANDBOX": sandbox_name,
        "DJANGO_SETTINGS_MODULE": "portal.settings.test",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{connection.settings_dict['NAME']}",
        "REDIS_URL": redis_server.url,
        "GRADING_HEARTBEAT_SECONDS": "1",
    }
    started: list[Worker] = []

    def start() -> Worker:
        w = Worker(env, tmp_path / "worker.log").start()
        started.append(w)
        return w

    yield start
    for w in started:
        w.stop()


def wait_for(predicate, timeout=90.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def submit(enrollment, assignment, name="solution.py", data=b"x = 1\n"):
    return submission_create(
        enrollment=enrollment,
        assignment=assignment,
        files=[(SimpleUploadedFile(name, data), name)],
        received_at=timezone.now(),
    ).submission


PODMAN_MISSING = shutil.which("podman") is None or os.geteuid() != 0
BOTH_SANDBOXES = pytest.mark.parametrize(
    "sandbox_name",
    [
        "bubblewrap",
        pytest.param(
            "podman",
            marks=pytest.mark.skipif(PODMAN_MISSING, reason="needs rootful podman on PATH"),
        ),
    ],
)


@BOTH_SANDBOXES
def test_a_submission_is_graded_end_to_end(workers, student, assignment, tmp_path, sandbox_name):
    services._bundle_store(
        assignment=assignment,
        data=services._zip_folder(DEMO / "autograders" / "ps0"),
        source="config",
    )
    workers()
    sub = submit(
        student, assignment, data=(DEMO / "solutions" / "ps0" / "solution.py").read_bytes()
    )
    job = GradingJob.objects.get(submission=sub)
    wait_for(
        lambda: GradingJob.objects.get(pk=job.pk).state in ("done", "failed"),
        what="the job to finish",
    )
    job.refresh_from_db()
    assert job.state == JobState.DONE, (job.message, job.log, (tmp_path / "worker.log").read_text())
    result = GradingResult.objects.get(job=job)
    assert result.score == 100
    setup = BundleSetup.objects.get(bundle=job.bundle)
    assert (setup.state, setup.engine) == ("done", sandbox_name)


@BOTH_SANDBOXES
def test_sigkill_mid_job_then_restart_finishes_every_job_exactly_once(
    workers, course, sections, assignment, tmp_path, shared_dirs, sandbox_name
):
    services._bundle_store(assignment=assignment, data=bundle_zip(SLOW_BUNDLE), source="upload")
    students = [EnrollmentFactory(section=sections["CS4803"], role="student") for _ in range(3)]
    subs = [submit(s, assignment) for s in students]
    first = workers()
    wait_for(
        lambda: GradingJob.objects.filter(state=JobState.RUNNING).exists(), what="a job to start"
    )
    first.kill()
    killed = GradingJob.objects.get(state=JobState.RUNNING)
    workers()
    # The beat's sweeper notices the dead worker's heartbeat (here: as if a minute later).
    services.jobs_sweep(now=timezone.now() + services.HEARTBEAT_TIMEOUT + timedelta(seconds=1))
    wait_for(
        lambda: GradingJob.objects.filter(state=JobState.DONE).count() == 3,
        timeout=120,
        what="every job done",
    )
    assert GradingResult.objects.count() == 3
    for sub in subs:
        jobs = GradingJob.objects.filter(submission=sub)
        assert [j.state for j in jobs] == ["done"]
        assert GradingResult.objects.filter(job__submission=sub).count() == 1
    killed.refresh_from_db()
    assert killed.attempts == 2
    # Nothing of the killed attempt is left: no container, no mounted job folder.
    jobs_dir = Path(shared_dirs["GRADING_WORK_DIR"]) / "jobs"
    assert not [p for p in jobs_dir.glob("job-*") if os.path.ismount(p)]
    if sandbox_name == "podman":
        from grading.sandbox import podman

        left = podman._podman(
            "ps", "--all", "--quiet", "--filter", f"label={podman.JOB_LABEL}=job-{killed.pk}"
        )
        assert left.stdout.strip() == ""


def test_flushall_with_jobs_queued_loses_none(workers, course, sections, assignment, broker):
    services._bundle_store(assignment=assignment, data=bundle_zip(), source="upload")
    students = [EnrollmentFactory(section=sections["CS4803"], role="student") for _ in range(3)]
    for s in students:
        submit(s, assignment)
    assert broker.llen("grading.cpu") == 3
    # The FLUSHALL goes to the test's own server: the shared Redis keeps its data.
    shared = redis.Redis.from_url(settings.REDIS_URL)
    sentinel = f"itest-sentinel-{uuid.uuid4().hex}"
    shared.set(sentinel, b"kept", ex=300)
    try:
        broker.flushall()
        assert shared.get(sentinel) == b"kept"
    finally:
        shared.delete(sentinel)
        shared.close()
    workers()
    time.sleep(2)
    assert GradingJob.objects.filter(state=JobState.QUEUED).count() == 3  # nobody woke up
    services.jobs_sweep(now=timezone.now() + services.REPUBLISH_AFTER + timedelta(seconds=1))
    wait_for(
        lambda: GradingJob.objects.filter(state=JobState.DONE).count() == 3, what="every job done"
    )
    assert GradingResult.objects.count() == 3


def test_duplicate_deliveries_grade_once(workers, student, assignment):
    services._bundle_store(assignment=assignment, data=bundle_zip(), source="upload")
    sub = submit(student, assignment)
    job = GradingJob.objects.get(submission=sub)
    for _ in range(3):
        services.publish(job)
    workers()
    wait_for(lambda: GradingJob.objects.get(pk=job.pk).state == "done", what="the job")
    time.sleep(1.5)  # let the extra deliveries arrive and find nothing to do
    assert GradingResult.objects.filter(job=job).count() == 1
    assert GradingJob.objects.get(pk=job.pk).attempts == 1
