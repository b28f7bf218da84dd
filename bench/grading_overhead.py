"""How long from a submission's commit to its stored result, against running the same bundle
directly in the same sandbox: the portal's own grading overhead.

    .venv/bin/python bench/grading_overhead.py [--runs 30]

Builds a throwaway PostgreSQL database (test_portal_bench_grading), starts one real Celery
worker on grading.cpu (Redis on 127.0.0.1, database 13), and for each run, with the worker
idle, hands in a submission to an assignment whose autograder is trivial (writes a
results.json with score 1). It measures the time from the commit (when the wake-up is
published) to the result row's timestamp, and separately runs the same bundle directly in the
sandbox (prepare_job + run_autograder). It prints medians and p90s and their difference.
Needs root and bubblewrap, like a grading worker. Nothing is pass/fail.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.test")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/portal_bench_grading")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/13")
BASE = Path(tempfile.mkdtemp(prefix="portal-bench-grading-", dir="/tmp"))
BASE.chmod(0o755)
os.environ["MEDIA_ROOT"] = str(BASE / "media")
os.environ["GRADING_WORK_DIR"] = str(BASE / "work")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import setup_databases, setup_test_environment, teardown_databases  # noqa: E402

TRIVIAL = b"""#!/usr/bin/env bash
echo '{"score": 1, "tests": [{"name": "t", "score": 1, "max_score": 1}]}' > /autograder/results/results.json
"""


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    setup_test_environment()
    old = setup_databases(verbosity=0, interactive=False)
    worker = None
    try:
        worker = run(args.runs)
    finally:
        if worker is not None and worker.poll() is None:
            os.killpg(worker.pid, signal.SIGTERM)
            worker.wait(timeout=30)
        teardown_databases(old, verbosity=0)
        shutil.rmtree(BASE, ignore_errors=True)


def run(runs: int) -> subprocess.Popen[bytes]:
    import redis
    from django.conf import settings
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.utils import timezone

    from courses.models import Assignment, Category, Course, Enrollment, Section
    from grading import sandbox
    from grading.models import GradingJob, GradingResult
    from grading.services import _bundle_store
    from submissions.services import submission_create
    from tests.grading.conftest import bundle_zip

    redis.Redis.from_url(settings.CELERY_BROKER_URL).flushdb()
    for d in (BASE / "media", BASE / "work"):
        d.mkdir(parents=True, exist_ok=True)
        d.chmod(0o755)
    from django.contrib.auth import get_user_model

    User = get_user_model()
    course = Course.objects.create(slug="bench", title="B", term="T", timezone="America/New_York")
    section = Section.objects.create(course=course, code="S", level="graduate", capacity=10_000)
    cat = Category.objects.create(course=course, slug="hw", weight=100)
    now = timezone.now()
    assignment = Assignment.objects.create(
        course=course, category=cat, slug="hw", title="HW", due_at=now + timezone.timedelta(days=1)
    )
    bundle = _bundle_store(assignment=assignment, data=bundle_zip(TRIVIAL), source="upload")
    students = []
    for i in range(runs + 1):
        user = User.objects.create(username=f"s{i}")
        students.append(
            Enrollment.objects.create(course=course, user=user, section=section, role="student")
        )

    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{connection.settings_dict['NAME']}",
    }
    log = open(BASE / "worker.log", "w")  # noqa: SIM115 - closed with the process
    worker = subprocess.Popen(
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
            "WARNING",
            "-n",
            "bench@%h",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )

    def submit(enrollment):
        submission_create(
            enrollment=enrollment,
            assignment=assignment,
            files=[(SimpleUploadedFile("a.py", b"x = 1\n"), "a.py")],
            received_at=timezone.now(),
        )
        return time.time()

    def wait_done(n: int) -> None:
        deadline = time.monotonic() + 120
        while GradingResult.objects.count() < n:
            if time.monotonic() > deadline:
                raise SystemExit(f"timed out; worker log:\n{(BASE / 'worker.log').read_text()}")
            time.sleep(0.005)

    # Warm-up: the worker starts, unpacks the bundle and runs its (absent) setup once.
    submit(students[0])
    wait_done(1)
    end_to_end = []
    for i in range(1, runs + 1):
        committed = submit(students[i])
        wait_done(i + 1)
        job = GradingJob.objects.filter(submission__student=students[i].user).get()
        end_to_end.append((job.result.created_at.timestamp() - committed) * 1000)
        time.sleep(0.05)  # the worker is idle again

    direct = []
    source = BASE / "work" / "bundles" / bundle.sha256 / "source"
    for i in range(runs):
        root = BASE / "direct" / f"j{i}"
        root.parent.mkdir(parents=True, exist_ok=True)
        root.parent.chmod(0o755)
        t = time.perf_counter()
        sandbox.prepare_job(root, bundle_dir=source, submission=[("a.py", b"x = 1\n")], metadata={})
        sandbox.run_autograder(root, limits=sandbox.Limits(wall_seconds=60), uid=61500)
        direct.append((time.perf_counter() - t) * 1000)
        shutil.rmtree(root, ignore_errors=True)

    e2e_med, direct_med = statistics.median(end_to_end), statistics.median(direct)
    print(f"runs: {runs}, one worker (prefork, concurrency 1), idle before each submission")
    print(
        f"commit -> stored result : median {e2e_med:6.1f} ms   p90 {pct(end_to_end, 0.9):6.1f} ms"
    )
    print(
        f"same bundle, sandbox only: median {direct_med:6.1f} ms   p90 {pct(direct, 0.9):6.1f} ms"
    )
    print(f"grading overhead        : median {e2e_med - direct_med:6.1f} ms (target < 250 ms)")
    return worker


if __name__ == "__main__":
    main()
