"""What grading costs beyond the bundle's own run: from a submission's commit to its stored
result, under each sandbox (bubblewrap and podman), and where that time goes.

    .venv/bin/python bench/grading_overhead.py [--runs 20] [--sandbox bubblewrap podman]

Builds a throwaway PostgreSQL database (test_portal_bench_overhead on 127.0.0.1:5432), uses
Redis database 11 (flushed before and after: nothing else may use it) and, for each sandbox
in turn, starts one real Celery worker on grading.cpu (prefork, concurrency 1) with
GRADING_SANDBOX set to it. Submissions go in through the real path
(submissions.services.submission_create: the job is enqueued in the submission's
transaction and its wake-up published on commit). One warm-up job first builds the bundle
version (the Podman image, the bubblewrap setup folder) and is not counted; then, with the
worker idle before each, ``--runs`` submissions one at a time.

The bundle is trivial: run_autograder writes results.json at once and prints bash's
$EPOCHREALTIME when it starts and when it ends, which the stored stdout carries. For each
job: overhead = (the result's commit - the submission's commit) - (the bundle's end - its
start). The submission's commit is taken in this process when its on-commit wake-up is
published; the rest in the worker, which this script starts with timing probes around the
steps of grading.worker.run_job (wrappers that write a timestamp line per step to a file;
nothing in the code under test is changed). The worker's housekeeping prune after a build
is switched off, so that it never removes other bundle images of this machine's Podman; the
Podman bundle image the run built is removed at the end.

Needs root, bubblewrap, and for podman rootful Podman with the base image
(bin/system-packages, bin/build-base-image). Prints p50/p95/max and the step breakdown;
nothing is pass/fail (the issue's targets are printed beside the figures).
"""

from __future__ import annotations

import argparse
import functools
import io
import math
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import pairwise
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.test")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/portal_bench_overhead")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/11")

TARGET_MS = {"bubblewrap": 50, "podman": 400}
BUNDLE = b"""#!/usr/bin/env bash
start=$EPOCHREALTIME
echo '{"score": 1, "tests": [{"name": "t", "score": 1, "max_score": 1}]}' \\
  > /autograder/results/results.json
echo "bench-bundle $start $EPOCHREALTIME"
"""
WORKER_FLAG = "--as-probed-worker"

# The overhead in phases: each from the previous mark to its own.
PHASES = [
    ("commit", ""),
    ("prerun", "Celery wake-up (publish, Redis, pool child)"),
    ("claim<", "claim (with a new PostgreSQL connection)"),
    ("prepare_bundle<", "bundle ready? (check_available, setup row, is_built)"),
    ("run>", "job folder, file fetch, prepare_job"),
    ("run<", "SANDBOX start + exit (the bundle's own run taken off)"),
    ("parse<", "keep stdout, parse"),
    ("finish<", "record (folder cleanup, job_finish, commit)"),
]

# Steps between two probe marks, by the marks (in the order they happen).
STEPS = {
    ("commit", "received"): "Celery: publish, Redis -> worker main process",
    ("received", "prerun"): "Celery: main process -> pool child",
    ("prerun", "claim>"): "task start",
    ("claim>", "connect>"): "claim: -",
    ("connect>", "connect<"): "claim: PostgreSQL connect (new every task)",
    ("connect<", "claim<"): "claim: queries (job_claim + the job's rows)",
    ("claim>", "claim<"): "claim (job_claim + the job's rows)",
    ("claim<", "run_job>"): "slot",
    ("run_job>", "prepare_bundle>"): "engine()",
    ("prepare_bundle>", "check_available>"): "prepare bundle: start",
    ("check_available>", "check_available<"): "prepare bundle: check_available",
    ("check_available<", "is_built>"): "prepare bundle: bundle_setup row (lock, select)",
    ("is_built>", "is_built<"): "prepare bundle: is_built",
    ("is_built<", "prepare_bundle<"): "prepare bundle: end",
    ("prepare_bundle<", "job_folder>"): "earlier attempts' job folders",
    ("job_folder>", "job_folder<"): "job folder (tmpfs mount under podman)",
    ("job_folder<", "prepare_job_folder>"): "-",
    ("prepare_job_folder>", "prepare_job>"): "file fetch + submission_metadata",
    ("prepare_job>", "prepare_job<"): "prepare_job (layout, copies)",
    ("prepare_job<", "prepare_job_folder<"): "-",
    ("prepare_job_folder<", "run>"): "RunSpec",
    ("run>", "sweep_before>"): "SANDBOX: runner checks, bwrap command",
    ("sweep_before>", "sweep_before<"): "SANDBOX: kill slot uid's processes (before)",
    ("sweep_before<", "bundle_start"): "SANDBOX: bwrap start -> run_autograder runs",
    ("bundle_end", "sweep_after>"): "SANDBOX: sandbox exit -> bwrap returns",
    ("sweep_after>", "sweep_after<"): "SANDBOX: wait for slot uid gone (after)",
    ("sweep_after<", "run<"): "SANDBOX: read output, result",
    ("run>", "podman_run>"): "SANDBOX: podman args, conmon folder",
    ("run>", "leftovers>"): "SANDBOX: -",
    ("leftovers>", "leftovers<"): "SANDBOX: an earlier attempt's container? (podman ps)",
    ("leftovers<", "podman_run>"): "SANDBOX: podman args, conmon folder",
    ("podman_run>", "bundle_start"): "SANDBOX: podman run -> run_autograder runs",
    ("bundle_end", "podman_run<"): "SANDBOX: container exit -> podman run returns",
    ("podman_run<", "inspect>"): "SANDBOX: output",
    ("inspect>", "inspect<"): "SANDBOX: podman container inspect",
    ("inspect<", "remove>"): "SANDBOX: -",
    ("remove>", "remove<"): "SANDBOX: podman rm",
    ("remove<", "run<"): "SANDBOX: oom file, result",
    ("bundle_start", "bundle_end"): "BUNDLE (its own run, not overhead)",
    ("run<", "parse>"): "keep stdout",
    ("parse>", "parse<"): "parse results.json",
    ("parse<", "cleanup>"): "-",
    ("cleanup>", "cleanup<"): "job folder cleanup (umount, rmtree)",
    ("cleanup<", "finish>"): "-",
    ("finish>", "finish<"): "record: job_finish (result row, grades, commit)",
}


# --- the worker side: Celery with probes ---------------------------------------------------


def probed_worker(events: str, celery_args: list[str]) -> None:
    """Runs Celery's worker (``celery_args``) with timing probes around run_job's steps."""
    import django

    django.setup()
    from celery import signals
    from celery.bin.celery import main as celery_main
    from django.db import connection, connections

    from grading import sandbox, services, worker
    from grading.sandbox import engines, execute, podman

    fd = os.open(events, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    current: dict[str, Any] = {"job": 0, "sql": 0, "sql_s": 0.0}

    def write(job: int | None, name: str, value: str) -> None:
        os.write(fd, f"{job if job is not None else current['job']} {name} {value}\n".encode())

    def mark(name: str, job: int | None = None) -> None:
        write(job, name, f"{time.time():.6f}")

    def count_sql(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            current["sql"] += 1
            current["sql_s"] += time.perf_counter() - started

    def probe(owner: Any, attr: str, name: str, *, sql: bool = False) -> None:
        """Marks ``name>`` and ``name<`` around ``owner.attr``; with ``sql``, also how many
        statements it sent and their time (an ``sql:name`` line)."""
        original = getattr(owner, attr)

        @functools.wraps(original)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            mark(f"{name}>")
            count, seconds = current["sql"], current["sql_s"]
            try:
                return original(*args, **kwargs)
            finally:
                mark(f"{name}<")
                if sql:
                    spent = (current["sql_s"] - seconds) * 1000
                    write(None, f"sql:{name}", f"{current['sql'] - count}:{spent:.3f}")

        setattr(owner, attr, wrapper)

    def probe_folder(cls: Any) -> None:
        original = cls.job_folder

        @contextmanager
        def job_folder(self: Any, path: Path, *, size_mb: int) -> Iterator[Path]:
            mark("job_folder>")
            manager = original(self, path, size_mb=size_mb)
            value = manager.__enter__()
            mark("job_folder<")
            try:
                yield value
            finally:
                mark("cleanup>")
                manager.__exit__(None, None, None)
                mark("cleanup<")

        cls.job_folder = job_folder

    claim = services.job_claim

    def job_claim(**kwargs: Any) -> Any:
        job = claim(**kwargs)
        if job is not None:
            current["job"] = job.pk
        return job

    services.job_claim = job_claim
    probe(services, "job_claim", "claim", sql=True)
    # Celery's Django fix-up closes the database connection before and after every task:
    # each job opens a new one (inside the claim).
    probe(connections["default"].__class__, "connect", "connect")
    probe(worker, "run_job", "run_job")
    probe(worker, "_prepare_bundle", "prepare_bundle", sql=True)
    probe(worker, "_prepare_job_folder", "prepare_job_folder", sql=True)
    probe(sandbox, "prepare_job", "prepare_job")
    probe(worker, "_parse", "parse")
    probe(services, "job_finish", "finish", sql=True)
    for cls in (engines.Podman, engines.Bubblewrap):
        probe(cls, "check_available", "check_available")
        probe(cls, "is_built", "is_built")
        probe(cls, "run", "run")
        probe_folder(cls)
    if hasattr(podman, "remove_job_containers"):
        probe(podman, "remove_job_containers", "leftovers")
    probe(podman, "_attached", "podman_run")
    probe(podman, "_state", "inspect")
    probe(podman, "_remove", "remove")
    probe(execute, "_sweep_before", "sweep_before")
    probe(execute, "_sweep_after", "sweep_after")
    # Housekeeping after a build, never in a measured job: off, so that it cannot remove
    # bundle images of this machine's Podman that are not this database's.
    worker._prune = lambda eng: None

    @signals.task_received.connect(weak=False)
    def received(request: Any, **kwargs: Any) -> None:
        if request.task_name == "grading.grade_next" and len(request.args) > 1:
            mark("received", request.args[1])

    @signals.task_prerun.connect(weak=False)
    def prerun(task: Any, args: Any = (), **kwargs: Any) -> None:
        if task.name == "grading.grade_next" and args and len(args) > 1:
            current["job"] = args[1]
            mark("prerun")
            if count_sql not in connection.execute_wrappers:
                connection.execute_wrappers.append(count_sql)

    sys.argv = ["celery", *celery_args]
    celery_main()


# --- the bench side -------------------------------------------------------------------------


def bundle_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        info = zipfile.ZipInfo("run_autograder")
        info.external_attr = 0o755 << 16
        zf.writestr(info, BUNDLE)
    return buf.getvalue()


def pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


class Events:
    """The probe marks the worker writes: ``job name time`` lines."""

    def __init__(self, path: Path):
        self.path, self.offset = path, 0
        self.marks: dict[int, list[tuple[str, float]]] = defaultdict(list)
        # job -> step -> (SQL statements, ms in them)
        self.sql: dict[int, dict[str, tuple[int, float]]] = defaultdict(dict)

    def read(self) -> None:
        with self.path.open("rb") as fh:
            fh.seek(self.offset)
            data = fh.read()
        complete = data.rfind(b"\n") + 1
        self.offset += complete
        for line in data[:complete].decode().splitlines():
            job, name, value = line.split()
            if name.startswith("sql:"):
                count, ms = value.split(":")
                self.sql[int(job)][name[4:]] = (int(count), float(ms))
            else:
                self.marks[int(job)].append((name, float(value)))

    def wait_for(
        self, job: int, name: str, timeout: float, worker: subprocess.Popen[bytes], log: Path
    ) -> None:
        deadline = time.monotonic() + timeout
        while not any(n == name for n, _ in self.marks.get(job, ())):
            if time.monotonic() > deadline or worker.poll() is not None:
                tail = log.read_text()[-4000:] if log.exists() else ""
                raise SystemExit(f"job {job}: no {name}; worker log:\n{tail}")
            time.sleep(0.005)
            self.read()


class Bench:
    def __init__(self, base: Path, runs: int, gap: float):
        self.base, self.runs, self.gap = base, runs, gap
        self.commits: dict[int, tuple[float, float]] = {}  # job id -> (commit, published)
        self.images: set[str] = set()  # the Podman bundle images built
        self.students = 0
        self.published: int | None = None  # the job the last commit woke a worker for

    def setup(self) -> None:
        from django.contrib.auth import get_user_model
        from django.utils import timezone

        from courses.models import Assignment, Category, Course, Section
        from grading import services
        from grading.services import _bundle_store

        course = Course.objects.create(
            slug="bench", title="B", term="T", timezone="America/New_York"
        )
        self.section = Section.objects.create(
            course=course, code="S", level="graduate", capacity=10_000
        )
        category = Category.objects.create(course=course, slug="hw", weight=100)
        self.assignment = Assignment.objects.create(
            course=course,
            category=category,
            slug="hw",
            title="HW",
            due_at=timezone.now() + timezone.timedelta(days=1),
        )
        self.bundle = _bundle_store(assignment=self.assignment, data=bundle_zip(), source="upload")
        self.user_model = get_user_model()

        # The submission's commit: its on-commit hook publishes the wake-up.
        original = services.publish

        def publish(job: Any) -> None:
            committed = time.time()
            original(job)
            self.commits[job.pk] = (committed, time.time())
            self.published = job.pk

        services.publish = publish

    def submit(self) -> int:
        from django.core.files.uploadedfile import SimpleUploadedFile
        from django.utils import timezone

        from courses.models import Enrollment
        from submissions.services import submission_create

        self.students += 1
        user = self.user_model.objects.create(username=f"s{self.students}")
        enrollment = Enrollment.objects.create(
            course=self.assignment.course, user=user, section=self.section, role="student"
        )
        self.published = None
        submission_create(
            enrollment=enrollment,
            assignment=self.assignment,
            files=[(SimpleUploadedFile("a.py", b"x = 1\n"), "a.py")],
            received_at=timezone.now(),
        )
        if self.published is None:
            raise SystemExit("the submission published no grading job")
        return self.published

    def start_worker(self, sandbox: str, events: Path, log: Path) -> subprocess.Popen[bytes]:
        from urllib.parse import quote

        from django.db import connection

        db = connection.settings_dict
        login = quote(db["USER"]) + (f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else "")
        env = {
            **os.environ,
            # Production keeps connections for CONN_MAX_AGE (60 s, portal/settings/base.py);
            # the test settings this worker runs with would close them after every task.
            "DATABASE_URL": (
                f"postgres://{login}@{db['HOST']}:{db['PORT']}/{db['NAME']}?conn_max_age=60"
            ),
            "GRADING_SANDBOX": sandbox,
        }
        celery = ["-A", "portal", "worker", "-Q", "grading.cpu", "--concurrency", "1"]
        celery += ["--loglevel", "WARNING", "-n", f"bench-{sandbox}@%h"]
        celery += ["--without-gossip", "--without-mingle", "--without-heartbeat"]
        return subprocess.Popen(
            [sys.executable, __file__, WORKER_FLAG, str(events), *celery],
            cwd=ROOT,
            env=env,
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def grade(
        self, events: Events, worker: subprocess.Popen[bytes], log: Path, timeout: float
    ) -> int:
        from grading.models import GradingJob

        job = self.submit()
        events.wait_for(job, "run_job<", timeout, worker, log)
        state = GradingJob.objects.get(pk=job)
        if state.state != "done":
            raise SystemExit(f"job {job} {state.state}: {state.message}\n{state.log[-3000:]}")
        return job

    def run(self, sandbox: str) -> dict[str, Any]:
        from grading.models import BundleSetup, GradingResult

        events_path = self.base / f"events-{sandbox}"
        events_path.touch()
        log = self.base / f"worker-{sandbox}.log"
        worker = self.start_worker(sandbox, events_path, log)
        events = Events(events_path)
        try:
            self.grade(events, worker, log, timeout=900)  # warm-up: worker start, bundle build
            time.sleep(self.gap)
            jobs = []
            for _ in range(self.runs):
                jobs.append(self.grade(events, worker, log, timeout=120))
                time.sleep(self.gap)  # the worker is idle again before the next one
        finally:
            stop(worker)
            setups = BundleSetup.objects.filter(engine="podman")
            self.images.update(setups.values_list("artifact", flat=True))
        rows = []
        for job in jobs:
            stdout = GradingResult.objects.get(job_id=job).data["stdout"]
            line = next(ln for ln in stdout.splitlines() if ln.startswith("bench-bundle "))
            start, end = (float(v.replace(",", ".")) for v in line.split()[1:3])
            committed, published = self.commits[job]
            marks = [("commit", committed), ("bundle_start", start), ("bundle_end", end)]
            marks += events.marks[job]
            marks.sort(key=lambda m: m[1])
            at = {}
            for name, when in marks:
                at.setdefault(name, when)
            stored = at["finish<"]
            steps = [
                (a, b, (tb - ta) * 1000) for (a, ta), (b, tb) in pairwise(marks) if tb <= stored
            ]
            own = (end - start) * 1000
            bounds = [at[name] for name, _ in PHASES]
            phases = {
                label: (b - a) * 1000
                for (_, label), a, b in zip(PHASES[1:], bounds[:-1], bounds[1:], strict=True)
            }
            phases[PHASES[5][1]] -= own
            rows.append(
                {
                    "total": (stored - committed) * 1000,
                    "own": own,
                    "overhead": (stored - committed) * 1000 - own,
                    "sandbox": phases[PHASES[5][1]],
                    "publish": (published - committed) * 1000,
                    "phases": phases,
                    "steps": steps,
                    "sql": events.sql[job],
                }
            )
        return {"sandbox": sandbox, "rows": rows}


def stop(worker: subprocess.Popen[bytes]) -> None:
    if worker.poll() is None:
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()


def report(result: dict[str, Any], runs: int) -> None:
    sandbox, rows = result["sandbox"], result["rows"]

    def line(label: str, values: list[float]) -> str:
        return (
            f"  {label:<48} p50 {statistics.median(values):7.1f}   "
            f"p95 {pct(values, 0.95):7.1f}   max {max(values):7.1f} ms"
        )

    overhead = [r["overhead"] for r in rows]
    print(
        f"\n== GRADING_SANDBOX={sandbox}: {runs} submissions, one at a time, worker idle before each"
    )
    print(line("commit -> result row committed", [r["total"] for r in rows]))
    print(line("the bundle's own run", [r["own"] for r in rows]))
    print(line(f"OVERHEAD (target <= {TARGET_MS[sandbox]} ms)", overhead))
    print(line("  of which sandbox start/exit", [r["sandbox"] for r in rows]))
    shares = [r["sandbox"] / r["overhead"] * 100 for r in rows]
    print(
        f"  {'sandbox start/exit share of the overhead':<48} p50 {statistics.median(shares):6.0f} %"
    )
    print("  by phase (p50, p95, max in ms):")
    for _, label in PHASES[1:]:
        values = [r["phases"][label] for r in rows]
        print(
            f"    {label:<60} {statistics.median(values):7.2f} {pct(values, 0.95):7.2f} "
            f"{max(values):7.2f}"
        )
    publish = [r["publish"] for r in rows]
    print(
        f"    (the publish call itself, in the web process: p50 {statistics.median(publish):.2f})"
    )
    for step in ("claim", "prepare_bundle", "prepare_job_folder", "finish"):
        counts = [r["sql"][step][0] for r in rows if step in r["sql"]]
        spent = [r["sql"][step][1] for r in rows if step in r["sql"]]
        if counts:
            print(
                f"    SQL in {step}: p50 {statistics.median(counts):g} statements, "
                f"{statistics.median(spent):.2f} ms in them"
            )
    print("  step by step (p50, p95, max in ms; in order):")
    by_step: dict[tuple[str, str], list[float]] = defaultdict(list)
    order: list[tuple[str, str]] = []
    for r in rows:
        for a, b, ms in r["steps"]:
            if (a, b) not in by_step:
                order.append((a, b))
            by_step[(a, b)].append(ms)
    for key in order:
        values = by_step[key]
        label = STEPS.get(key, f"{key[0]} -> {key[1]}")
        note = "" if len(values) == len(rows) else f"  ({len(values)} of {len(rows)} jobs)"
        print(
            f"    {label:<60} {statistics.median(values):7.2f} {pct(values, 0.95):7.2f} "
            f"{max(values):7.2f}{note}"
        )


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == WORKER_FLAG:
        probed_worker(sys.argv[2], sys.argv[3:])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--sandbox", nargs="+", default=["bubblewrap", "podman"], choices=TARGET_MS)
    parser.add_argument("--gap", type=float, default=0.3, help="idle seconds between submissions")
    args = parser.parse_args()

    base = Path(tempfile.mkdtemp(prefix="portal-bench-overhead-", dir="/tmp"))
    base.chmod(0o755)
    os.environ["MEDIA_ROOT"] = str(base / "media")
    os.environ["GRADING_WORK_DIR"] = str(base / "work")
    for folder in (base / "media", base / "work"):
        folder.mkdir()
        folder.chmod(0o755)

    import django

    django.setup()
    import redis
    from django.conf import settings
    from django.test.utils import setup_databases, setup_test_environment, teardown_databases

    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    broker.flushdb()
    setup_test_environment()
    old = setup_databases(verbosity=0, interactive=False)
    bench = Bench(base, args.runs, args.gap)
    try:
        bench.setup()
        for sandbox in args.sandbox:
            report(bench.run(sandbox), args.runs)
    finally:
        remove_images(bench.images)
        teardown_databases(old, verbosity=0)
        broker.flushdb()
        shutil.rmtree(base, ignore_errors=True)


def remove_images(tags: set[str]) -> None:
    """The Podman bundle images this run built."""
    from grading.sandbox import podman

    for tag in sorted(tags):
        subprocess.run(
            [podman.PODMAN, "rmi", "--ignore", tag],
            env=podman.podman_env(),
            capture_output=True,
            check=False,
        )


if __name__ == "__main__":
    main()
