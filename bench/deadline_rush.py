"""The deadline rush: N students each upload a 1 MB archive through the real API, against the
same load on a bare Django view, both served by gunicorn on 127.0.0.1.

    .venv/bin/python bench/deadline_rush.py --uploads 1000 --concurrency 32 --seconds 30

What it does, and undoes whatever happens (Ctrl-C and errors included):

1. creates a fresh PostgreSQL database (``--database``, default ``portal_bench_rush``, dropped
   and recreated) on DATABASE_URL's server (default postgres://postgres@127.0.0.1:5432),
   migrates it, and makes one course with an open assignment and N students with API tokens;
2. serves the portal with gunicorn on the production settings (``portal.settings.production``:
   DEBUG off, a throwaway SECRET_KEY, MEDIA_ROOT in a temporary folder), then the bare app
   (``bench/bare_app.py``: one row by raw SQL, one file, nothing else) with the same gunicorn
   options and the same database settings;
3. for each app runs two phases of N uploads, each with its own Idempotency-Key and its own
   archive bytes (so its own SHA-256), at most ``--concurrency`` in flight:
   ``paced``: the uploads' start times spread evenly over ``--seconds`` (the rush as it comes);
   ``capacity``: all at once, as fast as the server takes them (the throughput ceiling);
4. prints per phase: uploads, seconds, submissions per second, latency p50/p90/p99/max,
   errors, how late the paced sends started (if the load generator or the server fell
   behind), the CPU used by the load generator, by gunicorn and by the whole machine; the
   throughput ratio portal/bare; and the integrity counts, which must all be zero: lost (a 201
   the database does not have, or a request that never got an answer), duplicated (two rows
   for one key), bad files (a stored file missing or not the bytes sent), orphan files (stored
   without a row);
5. stops gunicorn, drops the database and deletes the files.

Only 127.0.0.1 is contacted, every request has a timeout, and each phase has a hard deadline.
Timings depend on the machine and on whatever else runs on it; nothing here is pass/fail
except the integrity counts (the exit status is 1 when one of them is not zero).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import http.client
import io
import json
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

MiB = 1024 * 1024
COURSE, ASSIGNMENT = "rush", "hw1"
PORTAL_PATH = f"/api/v1/courses/{COURSE}/assignments/{ASSIGNMENT}/submissions/"
BARE_PATH = "/upload/"
REQUEST_TIMEOUT_S = 60
BOUNDARY = "----deadline-rush-" + secrets.token_hex(16)
DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432/postgres"
SOLUTION = "def answer():\n    return 42\n"


# ---- arguments --------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--uploads", type=int, default=1000, help="students, one upload per phase")
    p.add_argument("--concurrency", type=int, default=32, help="uploads in flight at most")
    p.add_argument(
        "--seconds", type=float, default=30, help="paced phase: spread the starts over this"
    )
    p.add_argument("--size-mb", type=float, default=1.0, help="archive size in MiB")
    p.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    p.add_argument(
        "--worker-class", default="sync", choices=["sync", "gthread"], help="gunicorn -k"
    )
    p.add_argument("--threads", type=int, default=1, help="gunicorn --threads (gthread)")
    p.add_argument(
        "--conn-max-age",
        type=int,
        default=None,
        help="CONN_MAX_AGE for both apps (default: whatever DATABASE_URL says, else 0 "
        "as in production settings)",
    )
    p.add_argument("--database", default="portal_bench_rush", help="dropped and recreated")
    p.add_argument("--no-capacity", action="store_true", help="skip the capacity phases")
    p.add_argument("--rounds", type=int, default=1, help="repeat portal, bare this many times")
    p.add_argument("--only", choices=["portal", "bare"], help="run one app only")
    p.add_argument(
        "--profile",
        metavar="DIR",
        help="record the gunicorn workers with py-spy during the measured phases; writes "
        "DIR/<app>.txt (collapsed stacks) and prints where the time goes (timings are then "
        "not representative)",
    )
    p.add_argument("--py-spy", default=shutil.which("py-spy") or "py-spy", help="py-spy binary")
    args = p.parse_args(argv)
    if not 1 <= args.uploads <= 20_000:
        p.error("--uploads must be between 1 and 20000")
    if not 1 <= args.concurrency <= 256:
        p.error("--concurrency must be between 1 and 256")
    if not 0 <= args.seconds <= 600:
        p.error("--seconds must be between 0 and 600")
    if not 0.01 <= args.size_mb <= 40:
        p.error("--size-mb must be between 0.01 and 40")
    if not 1 <= args.rounds <= 5:
        p.error("--rounds must be between 1 and 5")
    if not 1 <= args.workers <= 32 or not 1 <= args.threads <= 64:
        p.error("--workers must be 1..32 and --threads 1..64")
    if "bench" not in args.database:
        p.error("--database must contain 'bench': it is dropped")
    return args


# ---- the database -----------------------------------------------------------------------------


def database_urls(name: str, conn_max_age: int | None) -> tuple[str, str]:
    """(the server's maintenance database, the bench database) from DATABASE_URL's server."""
    parts = urlsplit(os.environ.get("DATABASE_URL") or DEFAULT_SERVER)
    query = parts.query
    if conn_max_age is not None:
        kept = [q for q in query.split("&") if q and not q.lower().startswith("conn_max_age=")]
        query = "&".join([*kept, f"conn_max_age={conn_max_age}"])
    admin = urlunsplit((parts.scheme, parts.netloc, "/postgres", "", ""))
    bench = urlunsplit((parts.scheme, parts.netloc, f"/{name}", query, ""))
    return admin, bench


def admin_execute(admin_url: str, *statements: str) -> None:
    import psycopg2

    u = urlsplit(admin_url)
    conn = psycopg2.connect(
        host=u.hostname or "127.0.0.1",
        port=u.port or 5432,
        user=u.username or "postgres",
        password=u.password or None,
        dbname="postgres",
        connect_timeout=10,
    )
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            for statement in statements:
                cur.execute(statement)
    finally:
        conn.close()


def recreate_database(admin_url: str, name: str) -> None:
    admin_execute(
        admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"'
    )


def drop_database(admin_url: str, name: str) -> None:
    admin_execute(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def populate(n: int) -> list[str]:
    """One course, one open assignment, ``n`` students; returns their API tokens in order."""
    from datetime import UTC, datetime, timedelta
    from decimal import Decimal

    from django.contrib.auth import get_user_model
    from django.db import connection

    from access import keys
    from access.models import ApiToken
    from bench.bare_app import create_table
    from courses.models import Assignment, Category, Course, Enrollment, Section

    now = datetime.now(UTC)
    course = Course.objects.create(
        slug=COURSE, title="Deep Learning", term="Spring", timezone="America/New_York"
    )
    section = Section.objects.create(
        course=course, code="CS4803", level="undergraduate", capacity=n
    )
    category = Category.objects.create(course=course, slug="homework", weight=Decimal(100))
    Assignment.objects.create(
        course=course,
        category=category,
        slug=ASSIGNMENT,
        title="HW1",
        release_at=now - timedelta(days=1),
        due_at=now + timedelta(days=1),
        points=Decimal(100),
    )
    User = get_user_model()
    users = User.objects.bulk_create(
        [User(username=f"student{i:05d}", password="!") for i in range(n)], batch_size=2000
    )
    Enrollment.objects.bulk_create(
        [Enrollment(course=course, section=section, user=u, role="student") for u in users],
        batch_size=2000,
    )
    tokens = [keys.new_key() for _ in users]
    ApiToken.objects.bulk_create(
        [
            ApiToken(
                user=u,
                digest=keys.digest(key),
                prefix=keys.prefix(key),
                name="bench",
                created_at=now,
                expires_at=now + timedelta(days=1),
            )
            for u, key in zip(users, tokens, strict=True)
        ],
        batch_size=2000,
    )
    with connection.cursor() as cursor:
        create_table(cursor)
    return tokens


# ---- archives ---------------------------------------------------------------------------------


class Archives:
    """Valid .zip archives of about ``size`` bytes: a deflated member of random base64 text
    (one of a few prepared variants, so the server really inflates ~1.3x the size) and a small
    member unique to the upload, so every upload has its own bytes and hash. Cheap to make:
    the big member is compressed once, each archive only appends the small one."""

    VARIANTS = 8

    def __init__(self, size: int, seed: int = 7643) -> None:
        rng = random.Random(seed)
        self.bases: list[bytes] = []
        for v in range(self.VARIANTS):
            text = base64.encodebytes(rng.randbytes(int(size * 0.985)))
            buf = io.BytesIO()
            with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
                for name, data in ((f"data/train_{v}.b64", text), ("solution.py", SOLUTION)):
                    info = zipfile.ZipInfo(name, (2021, 2, 12, 23, 0, 0))
                    info.compress_type = zipfile.ZIP_DEFLATED
                    z.writestr(info, data)
            self.bases.append(buf.getvalue())

    def make(self, tag: str, i: int) -> bytes:
        buf = io.BytesIO(self.bases[i % self.VARIANTS])
        with zipfile.ZipFile(buf, "a") as z:  # a fixed date: the same tag, the same bytes
            z.writestr(zipfile.ZipInfo("student.txt", (2021, 2, 12, 23, 59, 0)), tag)
        return buf.getvalue()


def multipart(archive: bytes) -> bytes:
    head = (
        f"--{BOUNDARY}\r\n"
        'Content-Disposition: form-data; name="files"; filename="hw1.zip"\r\n'
        "Content-Type: application/zip\r\n\r\n"
    ).encode()
    return b"".join([head, archive, f"\r\n--{BOUNDARY}--\r\n".encode()])


# ---- gunicorn ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    proc: subprocess.Popen[bytes]
    port: int
    log_path: Path

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=20)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def gunicorn_args(args: argparse.Namespace) -> list[str]:
    out = ["--workers", str(args.workers), "--worker-class", args.worker_class]
    if args.worker_class == "gthread":
        out += ["--threads", str(args.threads)]
    return out


def gunicorn_description(args: argparse.Namespace) -> str:
    return "gunicorn " + " ".join(gunicorn_args(args))


def start_server(
    app: str, settings_module: str, env: dict[str, str], args: argparse.Namespace, workdir: Path
) -> Server:
    port = free_port()
    log_path = workdir / f"gunicorn-{settings_module}.log"
    cmd = [
        str(Path(sys.executable).with_name("gunicorn")),
        app,
        "--bind",
        f"127.0.0.1:{port}",
        *gunicorn_args(args),
        "--backlog",
        "2048",
        "--timeout",
        "120",
        "--graceful-timeout",
        "5",
        "--worker-tmp-dir",
        "/dev/shm" if os.path.isdir("/dev/shm") else str(workdir),
        "--no-control-socket",
        "--log-level",
        "warning",
    ]
    log = open(log_path, "wb")  # noqa: SIM115 - the child keeps it; closed below
    proc = subprocess.Popen(
        cmd,
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": settings_module},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    log.close()
    server = Server(proc, port, log_path)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited at start:\n{server.log_tail()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return server
        except OSError:
            time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"gunicorn did not start within 60 s:\n{server.log_tail()}")


# ---- CPU accounting ---------------------------------------------------------------------------

_TICK = os.sysconf("SC_CLK_TCK")


def _proc_cpu(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _TICK  # utime, stime
    except (OSError, IndexError, ValueError):
        return 0.0


def tree_cpu(root_pid: int) -> float:
    """CPU seconds of a process and its live children (gunicorn's master and workers)."""
    total = _proc_cpu(root_pid)
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if ppid == root_pid:
            total += _proc_cpu(int(entry.name))
    return total


def _stat_fields(pid: int | str) -> list[str]:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def postgres_cpu() -> float:
    """CPU seconds of PostgreSQL on this machine: each postmaster with what its exited
    children used (cutime, cstime: a backend per request when CONN_MAX_AGE is 0) and its live
    children. Other sessions' queries on the same server count too."""
    comm: dict[int, tuple[str, int]] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                name = Path(entry.path, "comm").read_text().strip()
                comm[int(entry.name)] = (name, int(_stat_fields(entry.name)[1]))
            except (OSError, IndexError, ValueError):
                continue
    total = 0.0
    for pid, (name, ppid) in comm.items():
        if name != "postgres":
            continue
        try:
            f = _stat_fields(pid)
        except (OSError, IndexError):
            continue
        total += (int(f[11]) + int(f[12])) / _TICK
        if comm.get(ppid, ("",))[0] != "postgres":  # the postmaster: add its reaped backends
            total += (int(f[13]) + int(f[14])) / _TICK
    return total


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, all cores."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    total = sum(values[:8])
    return (total - idle) / _TICK, total / _TICK


def client_cpu() -> float:
    t = os.times()
    return t.user + t.system


# ---- profiling -------------------------------------------------------------------------------


def start_profiler(py_spy: str, pid: int, out: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            py_spy,
            "record",
            "--pid",
            str(pid),
            "--subprocesses",
            "--format",
            "raw",
            "--rate",
            "100",
            "--nonblocking",
            "--output",
            str(out),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def stop_profiler(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGINT)  # py-spy writes its file on SIGINT
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def summarize_profile(path: Path, top: int = 30) -> None:
    """Inclusive share of the samples per function, from py-spy's collapsed stacks."""
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        print(f"  no profile at {path}")
        return
    for line in lines:
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        n = int(count)
        frames = [f.rsplit(" (", 1) for f in stack.split(";")[1:]]  # drop "process ..."
        names = [f"{f[0]} ({f[1].split(':')[0]})" if len(f) == 2 else f[0] for f in frames]
        total += n
        for name in set(names):
            inclusive[name] += n
        if names:
            own[names[-1]] += n
    if not total:
        print(f"  {path.name}: no samples")
        return
    print(f"  {path.name}: {total} samples (CPU only, all workers); inclusive share:")
    for name, n in inclusive.most_common(top):
        print(f"    {n / total * 100:5.1f}%  {name}")
    print("  self time:")
    for name, n in own.most_common(12):
        print(f"    {n / total * 100:5.1f}%  {name}")


# ---- a phase ----------------------------------------------------------------------------------


@dataclass
class Sent:
    i: int
    key: str
    scheduled: float = 0.0
    start: float = 0.0
    end: float = 0.0
    status: int = 0  # 0: no answer
    error: str = ""
    reply_id: int | None = None
    reply_sha: str | None = None


@dataclass
class PhaseResult:
    app: str
    phase: str
    sent: list[Sent]
    seconds: float
    client_cpu: float
    server_cpu: float
    postgres_cpu: float
    machine_busy: float
    cores: int
    not_started: int = 0
    round: int = 1
    checks: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> list[Sent]:
        return [s for s in self.sent if s.status == 201]

    def pct(self, q: float, values: list[float]) -> float:
        if not values:
            return float("nan")
        values = sorted(values)
        return values[min(len(values) - 1, max(0, round(q * len(values)) - 1))]


def run_phase(
    *,
    app: str,
    phase: str,
    port: int,
    path: str,
    tokens: list[str] | None,
    archives: Archives,
    n: int,
    concurrency: int,
    spread_s: float,
    server_pid: int,
    stop: threading.Event,
) -> PhaseResult:
    sent = [Sent(i, f"{phase}-{i:05d}-{secrets.token_hex(4)}") for i in range(n)]
    interval = spread_s / n if spread_s > 0 else 0.0
    lock = threading.Lock()
    cursor = iter(range(n))
    hard_deadline = time.monotonic() + spread_s + 120 + n * 0.5

    def next_index() -> int | None:
        with lock:
            return next(cursor, None)

    def work() -> None:
        while not stop.is_set():
            i = next_index()
            if i is None:
                return
            s = sent[i]
            s.scheduled = t0 + i * interval
            wait = s.scheduled - time.monotonic()
            if wait > 0 and stop.wait(wait):
                return
            if time.monotonic() > hard_deadline:
                stop.set()
                return
            body = multipart(archives.make(f"{app} {phase} {s.key}\n", i))
            headers = {
                "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
                "Idempotency-Key": s.key,
                "Accept": "application/json",
            }
            if tokens is not None:
                headers["Authorization"] = f"Token {tokens[i]}"
            s.start = time.monotonic()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT_S)
            try:
                conn.request("POST", path, body=body, headers=headers)
                r = conn.getresponse()
                raw = r.read()
                s.end = time.monotonic()
                s.status = r.status
                if r.status == 201:
                    data = json.loads(raw)
                    s.reply_id = data["id"]
                    files = data.get("files") or [{}]
                    s.reply_sha = files[0].get("sha256")
                else:
                    s.error = f"HTTP {r.status}: {raw[:200]!r}"
            except Exception as e:  # counted: a request without an answer
                s.end = time.monotonic()
                s.error = f"{type(e).__name__}: {e}"
            finally:
                conn.close()

    cpu0, server0, pg0 = client_cpu(), tree_cpu(server_pid), postgres_cpu()
    busy0, total0 = machine_cpu()
    t0 = time.monotonic() + 0.05
    threads = [threading.Thread(target=work, daemon=True) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        while t.is_alive():
            t.join(timeout=0.5)  # short joins: Ctrl-C gets through
    cpu1, server1, pg1 = client_cpu(), tree_cpu(server_pid), postgres_cpu()
    busy1, total1 = machine_cpu()
    done = [s for s in sent if s.start]
    end = max((s.end for s in done), default=t0)
    cores = os.cpu_count() or 1
    return PhaseResult(
        app=app,
        phase=phase,
        sent=done,
        seconds=end - t0,
        client_cpu=cpu1 - cpu0,
        server_cpu=server1 - server0,
        postgres_cpu=pg1 - pg0,
        machine_busy=(busy1 - busy0) / max(1e-9, total1 - total0) * cores,
        cores=cores,
        not_started=n - len(done),
    )


# ---- integrity --------------------------------------------------------------------------------


def sha256_file(path: Path) -> str | None:
    try:
        with open(path, "rb") as fh:
            return hashlib.file_digest(fh, "sha256").hexdigest()
    except OSError:
        return None


def check_portal(result: PhaseResult, archives: Archives, media: Path) -> None:
    from django.db.models import Count

    from submissions.models import Submission, SubmissionFile

    keys = [s.key for s in result.sent]
    rows = dict(
        Submission.objects.filter(idempotency_key__in=keys).values_list("idempotency_key", "id")
    )
    counts = (
        Submission.objects.filter(idempotency_key__in=keys)
        .values("idempotency_key")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
    )
    files = {
        f.submission_id: f
        for f in SubmissionFile.objects.filter(submission__idempotency_key__in=keys)
    }
    lost = sum(1 for s in result.ok if rows.get(s.key) != s.reply_id)
    lost += sum(1 for s in result.sent if s.status == 0)
    bad = 0
    for s in result.ok:
        f = files.get(s.reply_id or -1)
        sent_sha = hashlib.sha256(
            archives.make(f"portal {result.phase} {s.key}\n", s.i)
        ).hexdigest()
        if (
            f is None
            or f.sha256 != sent_sha
            or s.reply_sha != sent_sha
            or sha256_file(media / f.file.name) != sent_sha
        ):
            bad += 1
    result.checks = {
        "lost": lost,
        "duplicated": len(counts),
        "bad_files": bad,
        "answered_without_201_but_stored": sum(
            1 for s in result.sent if s.status != 201 and s.key in rows
        ),
    }


def check_bare(result: PhaseResult, archives: Archives, media: Path) -> None:
    from django.db import connection

    from bench.bare_app import TABLE

    keys = [s.key for s in result.sent]
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT idempotency_key, id, path FROM {TABLE} WHERE idempotency_key = ANY(%s)",
            [keys],
        )
        found = cur.fetchall()
        cur.execute(
            f"SELECT count(*) FROM (SELECT idempotency_key FROM {TABLE} "
            "WHERE idempotency_key = ANY(%s) GROUP BY 1 HAVING count(*) > 1) d",
            [keys],
        )
        (duplicated,) = cur.fetchone()
    rows = {k: (pk, p) for k, pk, p in found}
    lost = sum(1 for s in result.ok if rows.get(s.key, (None,))[0] != s.reply_id)
    lost += sum(1 for s in result.sent if s.status == 0)
    bad = 0
    for s in result.ok:
        sent_sha = hashlib.sha256(archives.make(f"bare {result.phase} {s.key}\n", s.i)).hexdigest()
        row = rows.get(s.key)
        if row is None or sha256_file(media / row[1]) != sent_sha:
            bad += 1
    result.checks = {
        "lost": lost,
        "duplicated": duplicated,
        "bad_files": bad,
        "answered_without_201_but_stored": sum(
            1 for s in result.sent if s.status != 201 and s.key in rows
        ),
    }


def orphan_files(media: Path) -> dict[str, int]:
    """Stored files that no row names, per app."""
    from django.db import connection

    from bench.bare_app import TABLE
    from submissions.models import SubmissionFile

    def walk(sub: str) -> set[str]:
        base = media / sub
        return {Path(d, f).relative_to(media).as_posix() for d, _, fs in os.walk(base) for f in fs}

    named = set(SubmissionFile.objects.values_list("file", flat=True))
    with connection.cursor() as cur:
        cur.execute(f"SELECT path FROM {TABLE}")
        named |= {p for (p,) in cur.fetchall()}
    return {
        "portal": len(walk("submissions") - named),
        "bare": len(walk("bare") - named),
    }


# ---- report -----------------------------------------------------------------------------------


def print_table(results: list[PhaseResult], rounds: int = 1) -> None:
    head = (
        ("round " if rounds > 1 else "")
        + f"{'app':<7}{'phase':<10}{'uploads':>8}{'201':>6}{'errors':>7}{'seconds':>9}"
        f"{'subs/s':>8}{'p50 ms':>8}{'p90 ms':>8}{'p99 ms':>8}{'max ms':>8}{'late p99':>9}"
        f" | {'client':>7}{'server':>7}{'pg':>6} | {'client':>6}{'server':>7}{'pg':>5}"
        f"{'machine':>8}"
    )
    left = head.index(" | ") + 3
    print(" " * left + f"{'CPU ms per upload':<20} | CPU % of one core")
    print(head)
    print("-" * len(head))
    for r in results:
        lat = [(s.end - s.start) * 1000 for s in r.ok]
        late = [max(0.0, (s.start - s.scheduled) * 1000) for s in r.sent]
        rate = len(r.ok) / r.seconds if r.seconds > 0 else float("nan")
        errors = len(r.sent) - len(r.ok) + r.not_started
        per = 1000 / max(1, len(r.sent))
        pct = 100 / r.seconds if r.seconds > 0 else float("nan")
        print(
            (f"{r.round:<6}" if rounds > 1 else "")
            + f"{r.app:<7}{r.phase:<10}{len(r.sent):>8}{len(r.ok):>6}{errors:>7}"
            f"{r.seconds:>9.2f}{rate:>8.1f}{r.pct(0.5, lat):>8.0f}{r.pct(0.9, lat):>8.0f}"
            f"{r.pct(0.99, lat):>8.0f}{max(lat, default=float('nan')):>8.0f}"
            f"{r.pct(0.99, late):>9.0f}"
            f" | {r.client_cpu * per:>7.1f}{r.server_cpu * per:>7.1f}{r.postgres_cpu * per:>6.1f}"
            f" | {r.client_cpu * pct:>5.0f}%{r.server_cpu * pct:>6.0f}%{r.postgres_cpu * pct:>4.0f}%"
            f"{r.machine_busy * 100:>7.0f}%"
        )
    print(
        "seconds: first scheduled start to last answer. subs/s: 201s per second. latency: "
        "send to full answer, 201s only.\nlate p99: how far behind its scheduled start an "
        "upload was sent (ms): the load generator or the server fell behind the schedule.\n"
        "CPU: client = this load generator, server = gunicorn (master and workers), pg = "
        "PostgreSQL (all its sessions, so other work on the same server too), machine = "
        f"everything, out of {results[0].cores * 100 if results else 0}%. The per-upload CPU "
        "is the figure that holds up on a busy machine."
    )
    for r in results:
        kinds = Counter(s.error.split(":")[0] for s in r.sent if s.status != 201)
        if kinds:
            print(f"  {r.app} {r.phase} errors: {dict(kinds)}")
            example = next(s.error for s in r.sent if s.status != 201)
            print(f"    e.g. {example[:300]}")


def rate_of(r: PhaseResult) -> float:
    return len(r.ok) / r.seconds if r.seconds > 0 else 0.0


def serve_phases(
    *,
    args: argparse.Namespace,
    app: str,
    round_no: int,
    server: Server,
    path: str,
    tokens: list[str] | None,
    archives: Archives,
    phases: list[tuple[str, float]],
    stop: threading.Event,
) -> list[PhaseResult]:
    common = dict(
        app=app,
        port=server.port,
        path=path,
        tokens=tokens,
        archives=archives,
        server_pid=server.proc.pid,
        stop=stop,
    )
    # Warm up: every worker imports its code and connects before the clock starts.
    run_phase(
        phase=f"warmup{round_no}",
        n=min(args.uploads, 4 * args.workers * args.threads),
        concurrency=min(args.concurrency, args.workers * args.threads),
        spread_s=0,
        **common,  # type: ignore[arg-type]
    )
    profiler = None
    if args.profile:
        Path(args.profile).mkdir(parents=True, exist_ok=True)
        profiler = start_profiler(args.py_spy, server.proc.pid, Path(args.profile) / f"{app}.txt")
        time.sleep(1)
    out = []
    try:
        for phase, spread in phases:
            result = run_phase(
                phase=phase,
                n=args.uploads,
                concurrency=args.concurrency,
                spread_s=spread,
                **common,  # type: ignore[arg-type]
            )
            result.round = round_no
            out.append(result)
            print(
                f"  round {round_no} {app} {phase}: {len(result.ok)}/{args.uploads} in "
                f"{result.seconds:.1f} s",
                flush=True,
            )
    finally:
        if profiler is not None:
            stop_profiler(profiler)
    return out


def median(values: list[float]) -> float:
    values = sorted(values)
    if not values:
        return float("nan")
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2


def report_summary(
    results: list[PhaseResult], phases: list[tuple[str, float]], orphans: dict[str, int]
) -> int:
    """Prints the ratios, the integrity counts and the target; returns the integrity failures."""
    by = {(r.round, r.app, r.phase): r for r in results}
    rounds = sorted({r.round for r in results})
    ratios: dict[str, list[float]] = {}
    for phase, _ in phases:
        for n in rounds:
            p, b = by.get((n, "portal", phase)), by.get((n, "bare", phase))
            if p and b and rate_of(b):
                ratio = rate_of(p) / rate_of(b)
                ratios.setdefault(phase, []).append(ratio)
                print(
                    f"throughput ratio portal/bare, {phase}, round {n}: "
                    f"{rate_of(p):.1f} / {rate_of(b):.1f} = {ratio:.2f}"
                )
    # On a shared machine throughput follows whatever else runs; CPU per upload does not.
    # cores / (CPU per upload) is the ceiling this machine would reach with nothing else on it.
    ceilings: dict[str, float] = {}
    for app in ("portal", "bare"):
        per = [
            (r.client_cpu + r.server_cpu + r.postgres_cpu) / len(r.sent)
            for r in results
            if r.app == app and r.sent
        ]
        if per:
            cpu = median(per)
            ceilings[app] = (results[0].cores) / cpu
            print(
                f"CPU per upload, {app}: {cpu * 1000:.1f} ms (client + gunicorn + PostgreSQL, "
                f"median of phases): CPU-bound ceiling {ceilings[app]:.0f} uploads/s on "
                f"{results[0].cores} cores"
            )
    if len(ceilings) == 2:
        print(f"ceiling ratio portal/bare: {ceilings['portal'] / ceilings['bare']:.2f}")
    failures = 0
    totals: Counter[str] = Counter()
    for r in results:
        totals.update({f"{r.app} {k}": v for k, v in r.checks.items()})
    print(
        "integrity (must all be 0): "
        + ", ".join(f"{k} {v}" for k, v in totals.items() if "answered" not in k)
    )
    stored_anyway = {k: v for k, v in totals.items() if "answered" in k and v}
    if stored_anyway:
        print(
            f"  answered with an error but stored (a retry with its key gets it): {stored_anyway}"
        )
    failures += sum(v for k, v in totals.items() if "answered" not in k)
    print(
        "orphan files (stored without a row): " + ", ".join(f"{k} {v}" for k, v in orphans.items())
    )
    failures += sum(orphans.values())
    paced = [r for r in results if r.app == "portal" and r.phase == "paced"]
    if paced:
        p99 = median([r.pct(0.99, [(s.end - s.start) * 1000 for s in r.ok]) for r in paced])
        shown = {
            phase: f"{median(ratios[phase]):.2f}" if ratios.get(phase) else "n/a"
            for phase in ("capacity", "paced")
        }
        print(
            "target: portal throughput >= 0.70 of bare, paced p99 < 500 ms. Measured: capacity "
            f"ratio {shown['capacity']}, paced ratio {shown['paced']}, paced p99 {p99:.0f} ms"
            + (" (medians over rounds)" if len(paced) > 1 else "")
        )
    return failures


# ---- main -------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    admin_url, bench_url = database_urls(args.database, args.conn_max_age)
    workdir = Path(tempfile.mkdtemp(prefix="deadline_rush_"))
    media = workdir / "media"
    media.mkdir()
    stop = threading.Event()
    server: Server | None = None
    created = False

    def on_term(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    try:
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in {"DJANGO_SETTINGS_MODULE", "REDIS_URL", "AWS_STORAGE_BUCKET_NAME"}
        }
        env.update(
            DATABASE_URL=bench_url,
            SECRET_KEY=secrets.token_urlsafe(50),
            DEBUG="0",
            ALLOWED_HOSTS="127.0.0.1,localhost",
            # Plain HTTP on 127.0.0.1, no TLS proxy in front: production would redirect it.
            SECURE_SSL_REDIRECT="false",
            MEDIA_ROOT=str(media),
            LOG_LEVEL="WARNING",
        )
        os.environ.clear()
        os.environ.update(env)
        os.environ["DJANGO_SETTINGS_MODULE"] = "portal.settings.production"

        t = time.monotonic()
        recreate_database(admin_url, args.database)
        created = True
        import django

        django.setup()
        from django.conf import settings
        from django.core.management import call_command
        from django.db import connection

        call_command("migrate", verbosity=0)
        tokens = populate(args.uploads)
        connection.close()
        archives = Archives(int(args.size_mb * MiB))
        print(
            f"deadline rush: {args.uploads} uploads of {len(archives.make('x', 0)) / MiB:.2f} MiB"
            f" .zip per phase, concurrency {args.concurrency}, paced over {args.seconds:g} s; "
            f"{gunicorn_description(args)}; CONN_MAX_AGE="
            f"{settings.DATABASES['default'].get('CONN_MAX_AGE', 0)}; "
            f"FILE_UPLOAD_MAX_MEMORY_SIZE={settings.FILE_UPLOAD_MAX_MEMORY_SIZE}; "
            f"{os.cpu_count()} CPUs; set-up {time.monotonic() - t:.1f} s",
            flush=True,
        )

        apps = [
            ("portal", "portal.wsgi:application", "portal.settings.production", PORTAL_PATH),
            ("bare", "django.core.wsgi:get_wsgi_application()", "bench.bare_app", BARE_PATH),
        ]
        apps = [a for a in apps if not args.only or a[0] == args.only]
        phases = [("paced", args.seconds)] + ([] if args.no_capacity else [("capacity", 0.0)])
        results: list[PhaseResult] = []
        # Rounds alternate the apps, so that a burst of other work on the machine does not
        # land on one app only.
        for round_no in range(1, args.rounds + 1):
            for app, target, settings_module, path in apps:
                server = start_server(target, settings_module, env, args, workdir)
                results += serve_phases(
                    args=args,
                    app=app,
                    round_no=round_no,
                    server=server,
                    path=path,
                    tokens=tokens if app == "portal" else None,
                    archives=archives,
                    phases=phases,
                    stop=stop,
                )
                server.stop()
                if server.proc.returncode not in (0, -signal.SIGTERM):
                    print(f"  gunicorn ({app}) exited with {server.proc.returncode}")
                if "Traceback" in server.log_path.read_text(errors="replace"):
                    print(f"  gunicorn ({app}) logged errors:\n{server.log_tail()}")
                server = None

        for r in results:
            (check_portal if r.app == "portal" else check_bare)(r, archives, media)
        orphans = orphan_files(media)
        connection.close()

        print()
        print_table(results, rounds=args.rounds)
        print()
        if args.profile:
            for app, *_ in apps:
                summarize_profile(Path(args.profile) / f"{app}.txt")
            print()
        failures = report_summary(results, phases, orphans)
        return 1 if failures else 0
    except KeyboardInterrupt:
        print("\ninterrupted: cleaning up", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stop.set()
        if server is not None:
            server.stop()
        try:
            from django.db import connections

            connections.close_all()
        except Exception:
            pass
        if created:
            try:
                drop_database(admin_url, args.database)
            except Exception as e:
                print(f"could not drop database {args.database}: {e}", file=sys.stderr)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
