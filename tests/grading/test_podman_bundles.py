"""Real autograder bundles and hostile programs on the Podman engine (grading/sandbox/podman.py).

Runs only where ``podman`` is on PATH, as root (like test_podman_engine.py). The bundles are
folders under ``tests/grading/podman_bundles/`` (see its README), each built once per module
from ``portal-autograder-base:latest`` into ``localhost/portal-test-bundle:<uuid>`` and removed
afterwards:

* a Java assignment whose ``setup.sh`` installs a JDK with apt-get (the slow part, needs the
  Debian mirror: skipped when a container cannot reach it) and a C assignment built with
  ``make`` and checked by ``diff``, each graded with the default :class:`Limits`;
* Gradescope's isolation advice (a ``student`` user, ``chmod o=``, ``runuser``) against a
  submission that forges a 999 score, and the same forgery against a grader without the advice;
* hostile programs (fork bombs, a memory hog, network, filling the disk, sleeping, looking
  for the host's and other jobs' files), each in a fresh container, each followed by a normal
  job in another container.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.skipif(
    shutil.which("podman") is None or os.geteuid() != 0,
    reason="needs rootful podman on PATH (bin/system-packages installs it; run as root)",
)

from grading import scoring  # noqa: E402
from grading.results import ResultsInvalid, parse_results  # noqa: E402
from grading.sandbox import Limits, SandboxResult, describe, prepare_job, read_results  # noqa: E402
from grading.sandbox import podman as engine  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
BUNDLES = Path(__file__).resolve().parent / "podman_bundles"
METADATA = {"id": 1, "users": [{"name": "Ada", "email": "ada@example.com", "id": 7}]}
MB = 1024 * 1024


# --- images ----------------------------------------------------------------------------------


def _build(name: str, base: str) -> Iterator[str]:
    tag = f"localhost/portal-test-bundle:{uuid.uuid4().hex[:8]}"
    built = engine.build_bundle_image(BUNDLES / name, tag, base, wall_seconds=600)
    assert built.ok, built.log[-3000:]
    print(f"bundle {name} built in {built.duration_s:.0f} s")
    # A stopped container holds the image: a worker's prune_bundle_images run meanwhile on
    # this machine (another test session) removes bundle images, but none in use.
    holder = f"portal-test-hold-{uuid.uuid4().hex[:8]}"
    held = engine._podman("create", f"--name={holder}", "--pull=never", tag, "true")
    assert held.returncode == 0, held.stderr
    try:
        yield tag
    finally:
        engine._podman("rm", "--force", "--ignore", holder)
        engine._podman("rmi", "--force", tag)


def _mirror_reachable(base: str) -> bool:
    probe = engine._podman(
        "run", "--rm", base, "bash", "-c", "exec 3<>/dev/tcp/deb.debian.org/80", timeout=60
    )
    return probe.returncode == 0


@pytest.fixture(scope="module")
def java_image(base_image: str) -> Iterator[str]:
    if not _mirror_reachable(base_image):
        pytest.skip("a container cannot reach deb.debian.org:80 here (no apt-get in setup.sh)")
    yield from _build("java", base_image)


@pytest.fixture(scope="module")
def c_image(base_image: str) -> Iterator[str]:
    yield from _build("c", base_image)


@pytest.fixture(scope="module")
def isolated_image(base_image: str) -> Iterator[str]:
    yield from _build("isolated", base_image)


@pytest.fixture(scope="module")
def naive_image(base_image: str) -> Iterator[str]:
    yield from _build("naive", base_image)


@pytest.fixture(scope="module")
def runner_image(base_image: str) -> Iterator[str]:
    yield from _build("runner", base_image)


# --- jobs ------------------------------------------------------------------------------------


def _job(job_root: Path, files: dict[str, bytes]) -> Path:
    prepare_job(job_root, bundle_dir=None, submission=list(files.items()), metadata=METADATA)
    return job_root


def _grade(
    image: str, tmp_path: Path, files: dict[str, bytes], limits: Limits | None = None
) -> tuple[SandboxResult, dict[str, Any] | None]:
    """One job in a fresh container, its folder on a tmpfs as the worker makes it."""
    limits = limits or Limits()
    with engine.job_folder(tmp_path / f"job-{uuid.uuid4().hex[:6]}", limits.disk_mb) as root:
        result = engine.run_in_container(image, _job(root, files), limits)
        raw = read_results(root)
    return result, None if raw is None else json.loads(raw)


def _scores(results: dict[str, Any]) -> dict[str, float]:
    return {t["name"]: t["score"] for t in results["tests"]}


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the containers the engine makes during one test."""
    names: list[str] = []
    real = engine._container_name

    def record(prefix: str) -> str:
        names.append(real(prefix))
        return names[-1]

    monkeypatch.setattr(engine, "_container_name", record)
    return names


def _assert_no_leftovers(names: list[str]) -> None:
    """None of this test's containers is left (others' may run at the same time: only this
    test's names are compared with the label's list)."""
    assert names
    listed = engine._podman(
        "ps", "--all", "--filter", f"label={engine.LABEL}", "--format", "{{.Names}}"
    )
    assert listed.returncode == 0, listed.stderr
    assert set(listed.stdout.split()) & set(names) == set()


HELLO = b'print("hello from a normal job")\n'


def _assert_normal_job_runs(image: str, tmp_path: Path) -> None:
    """After a hostile run, another job in another container is graded as usual."""
    result, results = _grade(image, tmp_path, {"main.py": HELLO}, Limits(wall_seconds=60))
    assert result.ok, result
    assert "hello from a normal job" in result.output
    assert results is not None and _scores(results) == {"runs": 1}


# --- Java: apt-get in setup.sh, javac and java under the default limits ------------------------

CALC_JAVA = b"""\
public class Calc {
    public static int add(int a, int b) {
        return a + b;
    }

    public static long factorial(int n) {
        long product = 1;
        for (int i = 2; i <= n; i++) {
            product *= i;
        }
        return product;
    }

    public static boolean isPalindrome(String s) {
        return Strings.isPalindrome(s);
    }
}
"""

STRINGS_JAVA = b"""\
final class Strings {
    static boolean isPalindrome(String s) {
        String letters = s.toLowerCase().replaceAll("[^a-z0-9]", "");
        return new StringBuilder(letters).reverse().toString().equals(letters);
    }
}
"""


def test_java_correct_submission_gets_full_marks(java_image: str, tmp_path: Path) -> None:
    files = {"Calc.java": CALC_JAVA, "Strings.java": STRINGS_JAVA}
    result, results = _grade(java_image, tmp_path, files)
    assert result.ok, result.output
    assert result.limits == Limits()
    assert "graded: 10.0" in result.output
    assert results is not None
    assert _scores(results) == {"add": 2, "factorial": 3, "isPalindrome": 5}
    assert parse_results(json.dumps(results)).score == 10


def test_java_wrong_submission_gets_partial_marks(java_image: str, tmp_path: Path) -> None:
    # factorial in an int: 20! overflows.
    wrong = CALC_JAVA.replace(b"long product = 1", b"int product = 1")
    result, results = _grade(
        java_image, tmp_path, {"Calc.java": wrong, "Strings.java": STRINGS_JAVA}
    )
    assert result.ok, result.output
    assert results is not None
    assert _scores(results) == {"add": 2, "factorial": 0, "isPalindrome": 5}
    assert results["score"] == 7
    (factorial,) = [t for t in results["tests"] if t["name"] == "factorial"]
    assert "expected 2432902008176640000, got -2102132736" in factorial["output"]
    assert parse_results(json.dumps(results)).score == 7


def test_java_compile_error_scores_zero(java_image: str, tmp_path: Path) -> None:
    result, results = _grade(java_image, tmp_path, {"Calc.java": CALC_JAVA})  # no Strings
    assert result.ok, result.output
    assert results is not None and results["score"] == 0
    assert "cannot find symbol" in results["output"]


# --- C: make and diff, one test per case --------------------------------------------------------

SUM_C = b"""\
#include <stdio.h>

int main(void) {
    long long total = 0, x;
    while (scanf("%lld", &x) == 1) {
        total += x;
    }
    printf("%lld\\n", total);
    return 0;
}
"""


def test_c_correct_submission_gets_full_marks(c_image: str, tmp_path: Path) -> None:
    result, results = _grade(c_image, tmp_path, {"sum.c": SUM_C})
    assert result.ok, result.output
    assert "gcc -std=c11 -O2 -Wall -Wextra -o sum sum.c" in result.output
    assert results is not None
    assert _scores(results) == {"case 1": 1, "case 2": 1, "case 3": 1, "case 4": 1}
    assert parse_results(json.dumps(results)).score == 4


def test_c_wrong_submission_gets_partial_marks(c_image: str, tmp_path: Path) -> None:
    # An int total: 2000000000 + 2000000000 does not fit.
    wrong = SUM_C.replace(b"long long total = 0, x;", b"int total = 0, x;")
    wrong = wrong.replace(b"%lld", b"%d")
    result, results = _grade(c_image, tmp_path, {"sum.c": wrong})
    assert result.ok, result.output
    assert results is not None
    assert _scores(results) == {"case 1": 1, "case 2": 1, "case 3": 1, "case 4": 0}
    (case4,) = [t for t in results["tests"] if t["name"] == "case 4"]
    assert "-4000000000" in case4["output"]  # diff -u: the expected line
    parsed = parse_results(json.dumps(results))
    assert (parsed.score, parsed.max_score) == (3, 4)


# --- Gradescope's isolation advice, and a grader without it -------------------------------------

FORGER = b"""\
import atexit
import json
import sys

FORGED = {"score": 999, "tests": [{"name": "answer", "score": 999, "max_score": 1}]}


def forge(when):
    try:
        with open("/autograder/results/results.json", "w") as f:
            json.dump(FORGED, f)
        print(f"forged results.json {when}", file=sys.stderr, flush=True)
    except OSError as exc:
        print(f"could not forge results.json {when}: {exc}", file=sys.stderr, flush=True)


forge("at import")
atexit.register(forge, "at exit")


def answer():
    return 41


if __name__ == "__main__":
    print(answer())
"""


def test_isolation_advice_keeps_the_graders_results(isolated_image: str, tmp_path: Path) -> None:
    result, results = _grade(isolated_image, tmp_path, {"solution.py": FORGER})
    assert result.ok, result.output
    out = result.output
    assert "could not forge results.json at import: [Errno 13] Permission denied" in out
    assert "could not forge results.json at exit: [Errno 13] Permission denied" in out
    assert "forged results.json" not in out
    assert results is not None
    assert results["tests"][1]["output"] == "printed '41'"
    parsed = parse_results(json.dumps(results))
    assert (parsed.score, parsed.max_score) == (1, 2)  # it ran; its answer is wrong
    assert scoring.review_reasons(scoring.implicit(Decimal(2)), _tests(parsed), parsed.score) == []


def _tests(parsed: Any) -> list[scoring.TestScore]:
    return [scoring.TestScore(t.name, t.score, t.max_score) for t in parsed.tests]


def test_without_the_advice_a_forged_999_is_caught_by_the_grade_truth(
    naive_image: str, tmp_path: Path
) -> None:
    """The forgery succeeds here: results.json is the student's. ``parse_results`` does not
    refuse it (a top-level score overrides the tests' total, and a test above its max_score is
    well-formed JSON); what stands between it and a grade is the grade truth's consistency
    check, ``scoring.review_reasons``: such a result needs review and counts for nothing
    until staff accept it (tests/grading/test_one_grade_truth.py shows that part)."""
    with engine.job_folder(tmp_path / "job", 64) as root:
        result = engine.run_in_container(naive_image, _job(root, {"solution.py": FORGER}), Limits())
        raw = read_results(root)
    assert result.ok, result.output
    assert "grader wrote results.json" in result.output
    assert "forged results.json at exit" in result.output
    assert raw is not None
    assert json.loads(raw)["score"] == 999
    parsed = parse_results(raw)
    assert parsed.score == 999
    reasons = scoring.review_reasons(scoring.implicit(Decimal(10)), _tests(parsed), parsed.score)
    assert reasons == [
        "test 'answer' scored 999 of at most 1",
        "the total 999 is above the tests' maximum 1",
        "the total 999 is above the 10 points the autograder feeds",
    ]
    # A forged score too large for a float is refused by the parser itself.
    with pytest.raises(ResultsInvalid):
        parse_results(raw.replace(b"999", b"1e999"))


# --- hostile programs ----------------------------------------------------------------------------

CLASSIC_FORK_BOMB = b"""\
import os

# The bomb rages in the background while the program itself never ends.
os.execvp("bash", ["bash", "-c", ":(){ :|:& };:; exec sleep 600"])
"""

BOUNDED_FORK_BOMB = b"""\
import os
import time

children = 0
try:
    while True:
        if os.fork() == 0:
            time.sleep(3)
            os._exit(0)
        children += 1
except BlockingIOError:
    print(f"fork refused after {children} children", flush=True)
    raise
"""


def test_classic_fork_bomb_is_held_by_the_pids_limit(
    runner_image: str, tmp_path: Path, started: list[str]
) -> None:
    """A bash fork bomb that keeps its container at the pids limit until the wall clock ends
    it; meanwhile the host forks and another job in another container is graded as usual."""
    limits = Limits(wall_seconds=12)
    bomb: dict[str, Any] = {}

    def run_bomb() -> None:
        bomb["result"], _ = _grade(runner_image, tmp_path, {"main.py": CLASSIC_FORK_BOMB}, limits)

    began = time.monotonic()
    thread = threading.Thread(target=run_bomb)
    thread.start()
    try:
        time.sleep(3)
        assert thread.is_alive()
        assert subprocess.run(["true"], check=False).returncode == 0  # the host still forks
        _assert_normal_job_runs(runner_image, tmp_path)  # beside the bomb
        assert thread.is_alive(), "the bomb's run ended before the other job did"
    finally:
        thread.join(timeout=limits.wall_seconds + 60)
    assert not thread.is_alive()
    result: SandboxResult = bomb["result"]
    assert time.monotonic() - began < limits.wall_seconds + 20
    assert result.timed_out and result.limit_hit == "wall_time", result
    assert result.signal == 9
    assert "fork: retry: Resource temporarily unavailable" in result.output  # the pids limit
    assert limits.wall_seconds <= result.duration_s < limits.wall_seconds + 10
    _assert_no_leftovers(started)
    _assert_normal_job_runs(runner_image, tmp_path)


def test_bounded_fork_bomb_reads_as_the_process_limit(
    runner_image: str, tmp_path: Path, started: list[str]
) -> None:
    result, results = _grade(
        runner_image, tmp_path, {"main.py": BOUNDED_FORK_BOMB}, Limits(wall_seconds=60)
    )
    assert not result.timed_out
    assert result.limit_hit == "processes", result
    (line,) = [ln for ln in result.output.splitlines() if ln.startswith("fork refused after")]
    children = int(line.split()[3])
    assert 50 < children < Limits().max_processes
    assert "BlockingIOError: [Errno 11]" in result.output
    assert results is not None and _scores(results) == {"runs": 0}
    assert "too many processes" in describe(result)
    _assert_no_leftovers(started)
    _assert_normal_job_runs(runner_image, tmp_path)


MEMORY_HOG = b"""\
chunks = []
while True:
    chunks.append(b"x" * (64 << 20))
    print(f"{len(chunks) * 64} MB", flush=True)
"""


def test_memory_hog_is_killed_at_the_containers_limit(
    runner_image: str, tmp_path: Path, started: list[str]
) -> None:
    result, results = _grade(
        runner_image, tmp_path, {"main.py": MEMORY_HOG}, Limits(wall_seconds=60)
    )
    assert result.limit_hit == "memory", result
    assert not result.timed_out
    assert "main.py exited with status 137" in result.output  # SIGKILL from the OOM killer
    reached = [int(ln.split()[0]) for ln in result.output.splitlines() if ln.endswith(" MB")]
    assert reached and max(reached) < 768
    assert results is not None and _scores(results) == {"runs": 0}
    message = describe(result)
    assert "768 MB for the whole run" in message
    _assert_no_leftovers(started)
    _assert_normal_job_runs(runner_image, tmp_path)


NETWORK = b"""\
import json
import socket
import sys

report = {"interfaces": [name for _, name in socket.if_nameindex()]}
for host in ("1.1.1.1", "151.101.0.223", "10.88.0.1"):
    try:
        socket.create_connection((host, 443), timeout=5).close()
        report[host] = "connected"
    except OSError as exc:
        report[host] = f"blocked: {exc}"
try:
    socket.getaddrinfo("pypi.org", 443)
    report["dns"] = "resolved"
except OSError as exc:
    report["dns"] = f"blocked: {exc}"
print("REPORT " + json.dumps(report), flush=True)
sys.exit(1 if "connected" in report.values() or report["dns"] == "resolved" else 0)
"""


def _report(output: str) -> dict[str, Any]:
    (line,) = [ln for ln in output.splitlines() if ln.startswith("REPORT ")]
    return json.loads(line.removeprefix("REPORT "))


def test_network_is_blocked(runner_image: str, tmp_path: Path, started: list[str]) -> None:
    result, results = _grade(runner_image, tmp_path, {"main.py": NETWORK}, Limits(wall_seconds=60))
    assert result.ok, result.output
    report = _report(result.output)
    assert report["interfaces"] == ["lo"]
    for host in ("1.1.1.1", "151.101.0.223", "10.88.0.1"):
        assert report[host] == "blocked: [Errno 101] Network is unreachable"
    assert report["dns"].startswith("blocked:")
    assert results is not None and _scores(results) == {"runs": 1}
    _assert_no_leftovers(started)
    _assert_normal_job_runs(runner_image, tmp_path)


DISK_FILLER = b"""\
import os
import time


def mark(name):  # for the test on the host: the job's results folder is the host's
    open(f"/autograder/results/{name}", "w").close()


mark("filling")
for folder in ("/autograder", "/tmp", "/var/tmp", "/root"):
    fd = os.open(os.path.join(folder, "fill"), os.O_WRONLY | os.O_CREAT, 0o600)
    written = 0
    try:
        while True:
            written += os.write(fd, b"\\0" * (1 << 20))
    except OSError as exc:
        print(f"{folder}: {written >> 20} MB, then {exc}", flush=True)
    os.close(fd)
mark("full")
time.sleep(2)  # full, for a moment: the test looks at the host meanwhile
raise SystemExit(1)
"""


def _disk_free() -> int:
    return min(shutil.disk_usage(p).free for p in ("/", "/var/lib/containers", "/tmp"))


def _bytes_under(top: str) -> int:
    total = 0
    for folder, _, files in os.walk(top):
        for name in files:
            with contextlib.suppress(OSError):  # gone meanwhile
                total += os.lstat(os.path.join(folder, name)).st_blocks * 512
    return total


def test_filling_the_disk_ends_in_enospc_not_a_full_host_disk(
    runner_image: str, tmp_path: Path, started: list[str]
) -> None:
    """About 250 MB written until ENOSPC in /autograder, /tmp, /var/tmp and /root, all tmpfs:
    the container's writable layer on the host stays empty (the image is read-only) and the
    host's free disk space drops by less than disk_mb + tmp_mb while the program sits on
    full folders (measured between the program's "filling" and "full" marks, so that other
    work on this machine matters little)."""
    limits = Limits(wall_seconds=60, disk_mb=64, tmp_mb=64)
    seen: dict[str, int] = {}
    done = threading.Event()

    def watch(results: Path) -> None:
        while not done.is_set() and "full" not in seen:
            if "free_before" not in seen and (results / "filling").exists():
                seen["free_before"] = _disk_free()
            if "free_before" in seen and (results / "full").exists():
                seen["free_full"] = _disk_free()
                upper = engine._podman(
                    "container",
                    "inspect",
                    "--format",
                    "{{.GraphDriver.Data.UpperDir}}",
                    started[-1],
                )
                seen["upper"] = _bytes_under(upper.stdout.strip()) if upper.returncode == 0 else -1
                seen["full"] = 1
            time.sleep(0.02)

    with engine.job_folder(tmp_path / "job", limits.disk_mb) as root:
        _job(root, {"main.py": DISK_FILLER})
        watcher = threading.Thread(target=watch, args=(root / "autograder" / "results",))
        watcher.start()
        try:
            result = engine.run_in_container(runner_image, root, limits)
        finally:
            done.set()
            watcher.join()
        raw = read_results(root)
    assert not result.timed_out
    assert result.limit_hit == "disk", result
    filled = {}
    for line in result.output.splitlines():
        if ": " in line and " MB, then " in line:
            folder, rest = line.split(": ", 1)
            filled[folder] = int(rest.split()[0])
            assert rest.endswith("[Errno 28] No space left on device"), line
    assert set(filled) == {"/autograder", "/tmp", "/var/tmp", "/root"}
    assert 32 < filled["/autograder"] <= 64  # less the image's /autograder copied there
    assert all(60 <= filled[f] <= 64 for f in ("/tmp", "/var/tmp", "/root"))
    assert set(seen) == {"free_before", "free_full", "upper", "full"}, seen
    assert 0 <= seen["upper"] < MB
    assert seen["free_before"] - seen["free_full"] < (limits.disk_mb + limits.tmp_mb) * MB
    assert raw is not None and _scores(json.loads(raw)) == {"runs": 0}
    assert "filled the disk space" in describe(result)
    _assert_no_leftovers(started)
    _assert_normal_job_runs(runner_image, tmp_path)


def test_sleeping_past_the_timeout_is_killed(
    runner_image: str, tmp_path: Path, started: list[str]
) -> None:
    limits = Limits(wall_seconds=5)
    began = time.monotonic()
    result, results = _grade(
        runner_image, tmp_path, {"main.py": b"import time\ntime.sleep(600)\n"}, limits
    )
    elapsed = time.monotonic() - began
    assert result.timed_out
    assert result.limit_hit == "wall_time"
    assert result.signal == 9 and result.exit_code is None
    assert limits.wall_seconds <= result.duration_s < limits.wall_seconds + 5
    assert elapsed < limits.wall_seconds + 15
    assert results is None
    _assert_no_leftovers(started)
    _assert_normal_job_runs(runner_image, tmp_path)


SNOOP = b"""\
import glob
import hashlib
import json
import os
import socket

wanted = json.load(open("/autograder/submission/wanted.json"))


def digest(path):
    try:
        with open(path, "rb") as f:
            return hashlib.sha256(f.read()).hexdigest()
    except OSError as exc:
        return f"error: {exc.strerror}"


found = []
for top, folders, files in os.walk("/"):
    if top == "/":
        folders[:] = [f for f in folders if f not in ("proc", "sys", "dev")]
    found += [os.path.join(top, n) for n in files + folders if n == wanted["name"]]
commands = []
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        commands.append(open(f"/proc/{pid}/cmdline", "rb").read().replace(b"\\0", b" ").decode())
    except OSError:
        pass
report = {
    "submission": sorted(os.listdir("/autograder/submission")),
    "exists": {path: os.path.exists(path) for path in wanted["paths"]},
    "portal_tmp": glob.glob("/tmp/portal-*"),
    "found": found,
    "shadow": digest("/etc/shadow"),
    "hostname": socket.gethostname(),
    "processes": commands,
}
print("REPORT " + json.dumps(report), flush=True)
"""


def test_a_job_sees_neither_the_host_nor_other_jobs(
    runner_image: str, tmp_path: Path, started: list[str]
) -> None:
    secret = f"secret-{uuid.uuid4().hex}"
    other = _job(tmp_path / "other-job", {f"{secret}.txt": b"another student's work\n"})
    other_file = other / "autograder" / "submission" / f"{secret}.txt"
    host_tmp = Path(f"/tmp/portal-{secret}")
    host_tmp.write_text("the host's\n")
    paths = [
        str(other),
        str(other_file),
        str(host_tmp),
        str(REPO),
        "/work",
        "/root/.ssh",
        str(Path.home()),
        str(tmp_path),
    ]
    wanted = json.dumps({"name": f"{secret}.txt", "paths": paths}).encode()
    try:
        result, _ = _grade(
            runner_image,
            tmp_path,
            {"main.py": SNOOP, "wanted.json": wanted},
            Limits(wall_seconds=60),
        )
    finally:
        host_tmp.unlink()
    assert result.ok, result.output
    report = _report(result.output)
    assert report["submission"] == ["main.py", "wanted.json"]
    expected_absent = {p: False for p in paths}
    if Path.home() == Path("/root"):
        expected_absent["/root"] = True  # the container's own /root (a tmpfs), not the host's
    assert report["exists"] == expected_absent
    assert report["portal_tmp"] == []
    assert report["found"] == []
    host_shadow = Path("/etc/shadow")
    if host_shadow.exists():
        assert report["shadow"] != hashlib.sha256(host_shadow.read_bytes()).hexdigest()
    assert report["hostname"] == "autograder"
    # Its own PID namespace: the grader's processes only, none of the host's (pytest).
    assert report["processes"]
    assert not any("pytest" in c for c in report["processes"])
    assert all("/autograder" in c or "main.py" in c for c in report["processes"]), report
    _assert_no_leftovers(started)
    _assert_normal_job_runs(runner_image, tmp_path)
