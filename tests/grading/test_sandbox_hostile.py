"""Hostile submissions: each one is contained, gets a clear result, and the worker is unharmed.

Every test claims its own slot uid; the fixture fails the test if any process of that uid
is left behind. Limits are short (wall 5 s, 256 MB) so the file runs in seconds.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from grading.sandbox import (
    JobFolderError,
    Limits,
    describe,
    processes_of_uid,
    read_results,
    run_autograder,
)
from tests.grading import sandbox_fixtures
from tests.grading.sandbox_fixtures import QUICK, make_bundle, new_job, requires_sandbox, run_script

pytestmark = requires_sandbox

job_base = sandbox_fixtures.job_base
slot_uid = sandbox_fixtures.slot_uid


def _worker_is_fine() -> None:
    """The worker (this process) can still fork and run programs."""
    assert subprocess.run(["/bin/true"], check=False).returncode == 0


def test_network_is_unreachable(job_base: Path, slot_uid: int) -> None:
    # Redis and PostgreSQL listen on the worker's loopback (in CI); the sandbox has its own.
    result, _ = run_script(
        job_base,
        slot_uid,
        """
        python3 - <<'PY'
        import socket
        for host, port in [("127.0.0.1", 6379), ("127.0.0.1", 5432), ("1.1.1.1", 53),
                           ("1.1.1.1", 443)]:
            try:
                socket.create_connection((host, port), timeout=2).close()
                print(f"CONNECTED {host}:{port}")
            except OSError as exc:
                print(f"blocked {host}:{port}: {exc}")
        try:
            print("RESOLVED", socket.gethostbyname("example.com"))
        except OSError as exc:
            print("no DNS:", exc)
        PY
        """,
    )
    assert "CONNECTED" not in result.output and "RESOLVED" not in result.output
    assert result.output.count("blocked") == 4, result.output
    assert "no DNS" in result.output


def test_other_jobs_solutions_and_host_files_are_invisible(job_base: Path, slot_uid: int) -> None:
    # A second job beside this one, with a secret in it.
    other_bundle = make_bundle(job_base, "true\n")
    other_job = new_job(
        job_base, other_bundle, slot_uid, submission=[("secret.py", b"OTHER-STUDENT-SECRET")]
    )
    other_file = other_job / "autograder" / "submission" / "secret.py"
    # Solutions kept beside the bundle on the worker.
    (job_base / "solutions.py").write_text("INSTRUCTOR-SOLUTION")
    (job_base / "solutions.py").chmod(0o644)
    targets = [
        str(other_file),
        str(job_base / "solutions.py"),
        "/etc/shadow",
        "/etc/sudoers",
        "/root/.bash_history",
        "/work/main/portal/settings/base.py",
        "/proc/1/environ",
        "/var/lib/postgresql",
    ]
    listing = ["/", "/etc", str(job_base), "/home", "/work", "/root", "/var", "/srv", "/opt"]
    result, _ = run_script(
        job_base,
        slot_uid,
        "\n".join(
            [f"cat {t} && echo 'READ {t}' || echo 'unreadable {t}'" for t in targets]
            + [f"ls -a {d} 2>&1 | tr '\\n' ' '; echo" for d in listing]
            # (the pattern is split so that this script itself does not contain it)
            + ['grep -rl "OTHER""-STUDENT" /autograder /tmp /etc /dev /home 2>/dev/null']
            + ["echo done"]
        )
        + "\n",
    )
    assert "done" in result.output
    assert "OTHER-STUDENT-SECRET" not in result.output
    assert "INSTRUCTOR-SOLUTION" not in result.output
    assert "SECRET_KEY" not in result.output and "DATABASE_URL" not in result.output
    for target in targets:
        if target == "/proc/1/environ":
            continue  # the sandbox's own PID 1 (bubblewrap): readable, holds nothing
        assert f"READ {target}" not in result.output, target
    top = next(line for line in result.output.splitlines() if line.startswith(". .."))
    assert set(top.split()) == {".", "..", "autograder", "bin", "dev", "etc", "lib", "lib64"} | {
        "proc",
        "sbin",
        "tmp",
        "usr",
    }
    assert "shadow" not in result.output.split("unreadable /etc/shadow")[1]


def test_reading_etc_shadow_fails(job_base: Path, slot_uid: int) -> None:
    result, _ = run_script(
        job_base, slot_uid, "cat /etc/shadow /etc/gshadow; python3 -c 'import spwd' ; echo end\n"
    )
    assert "root:" not in result.output
    assert "No such file or directory" in result.output


def test_fork_bomb_is_limited_by_processes(job_base: Path, slot_uid: int) -> None:
    limits = Limits(wall_seconds=5, memory_mb=256, max_processes=32)
    result, _ = run_script(
        job_base,
        slot_uid,
        """
        python3 - <<'PY'
        import os, time
        children = 0
        while True:
            if os.fork() == 0:
                time.sleep(60)
                os._exit(0)
            children += 1
            if children > 1000:
                print("NOT LIMITED")
                break
        PY
        """,
        limits=limits,
    )
    assert "NOT LIMITED" not in result.output
    assert "BlockingIOError" in result.output
    assert result.limit_hit == "processes"
    assert "too many processes" in describe(result)
    assert not result.timed_out and result.duration_s < 4
    assert processes_of_uid(slot_uid) == []
    _worker_is_fine()


def test_classic_shell_fork_bomb_is_killed_at_the_wall_clock(job_base: Path, slot_uid: int) -> None:
    limits = Limits(wall_seconds=2, memory_mb=256, max_processes=32)
    start = time.monotonic()
    result, _ = run_script(job_base, slot_uid, ":(){ :|:& };:\nsleep 30\n", limits=limits)
    assert time.monotonic() - start < 2 + 3
    assert result.timed_out or result.limit_hit == "processes"
    assert processes_of_uid(slot_uid) == []
    _worker_is_fine()


@pytest.mark.parametrize(
    "program",
    [
        "x = bytearray(1 << 30)",
        "chunks = []\nwhile True:\n    chunks.append(bytearray(16 << 20))",
    ],
    ids=["one-big-allocation", "growing-list"],
)
def test_memory_bomb_hits_the_memory_limit(job_base: Path, slot_uid: int, program: str) -> None:
    Path(job_base / "bomb.py").write_text(program + "\n")
    result, _ = run_script(
        job_base,
        slot_uid,
        "python3 /autograder/submission/bomb.py\n",
        submission=[("bomb.py", job_base / "bomb.py")],
    )
    assert "MemoryError" in result.output
    assert result.exit_code == 1 and result.limit_hit == "memory"
    assert "ran out of memory (the limit is 256 MB per process)" in describe(result)
    assert result.duration_s < 5


def test_infinite_loop_is_killed_at_the_wall_clock(job_base: Path, slot_uid: int) -> None:
    limits = Limits(wall_seconds=2, memory_mb=256)
    start = time.monotonic()
    result, _ = run_script(
        job_base, slot_uid, "echo started\npython3 -c 'while True: pass'\n", limits=limits
    )
    elapsed = time.monotonic() - start
    assert result.timed_out and result.limit_hit == "wall_time"
    assert result.exit_code is None and result.signal == 9
    assert "started" in result.output
    assert 2 <= result.duration_s < 2 + 2 and elapsed < 2 + 2
    assert "time limit of 2 seconds" in describe(result)
    _worker_is_fine()


def test_cpu_limit_stops_a_busy_process(job_base: Path, slot_uid: int) -> None:
    limits = Limits(wall_seconds=5, cpu_seconds=1, memory_mb=256)
    result, _ = run_script(job_base, slot_uid, "python3 -c 'while True: pass'\n", limits=limits)
    assert not result.timed_out
    assert result.limit_hit == "cpu_time", result.output
    assert "CPU time" in describe(result)


@pytest.mark.parametrize(
    "writer",
    [
        "head -c 100000000 /dev/zero > /autograder/big",
        "python3 -c \"open('/autograder/big', 'wb').write(b'0' * 100_000_000)\"",
    ],
    ids=["shell", "python"],
)
def test_huge_file_is_limited_by_file_size(job_base: Path, slot_uid: int, writer: str) -> None:
    result, job_root = run_script(job_base, slot_uid, writer + "\n")
    assert result.limit_hit == "file_size", result.output
    assert (job_root / "autograder" / "big").stat().st_size <= QUICK.max_file_mb << 20
    assert "larger than the limit of 16 MB" in describe(result)


def test_filling_tmp_is_bounded(job_base: Path, slot_uid: int) -> None:
    limits = Limits(wall_seconds=5, memory_mb=256, max_file_mb=200, tmp_mb=8)
    result, _ = run_script(
        job_base,
        slot_uid,
        "head -c 100000000 /dev/zero > /tmp/fill; head -c 100000000 /dev/zero > /dev/shm/fill\n"
        "du -sk /tmp /dev/shm\n",
        limits=limits,
    )
    assert result.output.count("No space left on device") == 2, result.output
    assert not Path("/tmp/fill").exists()


def test_output_flood_is_capped_and_does_not_block(job_base: Path, slot_uid: int) -> None:
    limits = Limits(wall_seconds=5, memory_mb=256, max_output_bytes=100_000)
    result, job_root = run_script(
        job_base,
        slot_uid,
        """
        python3 -c "import sys; sys.stdout.write('a' * 50_000_000)"
        head -c 20000000 /dev/urandom >&2
        echo THE-END
        echo '{"score": 1}' > /autograder/results/results.json
        """,
        limits=limits,
    )
    assert result.exit_code == 0 and not result.timed_out
    assert result.output_truncated and result.limit_hit == "output"
    assert len(result.output.encode()) < 100_000 * 3 + 200  # replacement chars may widen bytes
    assert result.output.startswith("aaaa")
    assert "bytes of output omitted" in result.output
    assert result.output.rstrip().endswith("THE-END")
    assert read_results(job_root) == b'{"score": 1}\n'
    assert result.duration_s < 5


def test_killing_the_parent_or_everything_leaves_the_worker_alive(
    job_base: Path, slot_uid: int
) -> None:
    # The worker's real pid is handed to the submission: it cannot reach it either.
    result, job_root = run_script(
        job_base,
        slot_uid,
        """
        kill -9 $PPID; echo "ppid $PPID still here"
        kill -9 $(cat /autograder/submission/worker.pid) || echo "worker pid unreachable"
        kill -9 -1
        echo "after kill -1"
        echo '{"score": 0}' > /autograder/results/results.json
        """,
        submission=[("worker.pid", str(os.getpid()).encode())],
    )
    assert "still here" in result.output and "after kill -1" in result.output
    assert read_results(job_root) == b'{"score": 0}\n'
    os.kill(os.getpid(), 0)
    _worker_is_fine()


def test_background_processes_do_not_outlive_the_run(job_base: Path, slot_uid: int) -> None:
    start = time.monotonic()
    result, _ = run_script(
        job_base,
        slot_uid,
        """
        nohup sleep 1000 >/dev/null 2>&1 &
        (sleep 1000 &)
        setsid sleep 1000 &
        python3 - <<'PY'
        import os, time
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                time.sleep(1000)
            os._exit(0)
        PY
        echo leaving
        """,
    )
    assert result.exit_code == 0 and "leaving" in result.output
    assert time.monotonic() - start < 3
    assert processes_of_uid(slot_uid) == []


def test_the_system_is_read_only(job_base: Path, slot_uid: int) -> None:
    marker = f"sandbox-escape-{os.getpid()}"
    targets = ["/x", "/usr/x", "/usr/local/bin/x", "/bin/x", "/etc/x", "/etc/passwd"]
    result, _ = run_script(
        job_base,
        slot_uid,
        "\n".join(f"echo owned >> {t} && echo 'WROTE {t}'" for t in targets)
        + f"\necho inside > /tmp/{marker} && echo 'tmp ok'"
        + "\necho 1 > /proc/sys/kernel/hostname 2>/dev/null || echo 'proc read-only'\n",
    )
    assert "WROTE" not in result.output
    assert result.output.count("Read-only file system") == len(targets), result.output
    assert "tmp ok" in result.output and "proc read-only" in result.output
    assert not Path(f"/tmp/{marker}").exists()  # the sandbox's /tmp is its own


def test_setuid_and_privilege_escalation_fail(job_base: Path, slot_uid: int) -> None:
    result, _ = run_script(
        job_base,
        slot_uid,
        """
        python3 -c 'import os; os.setuid(0)' 2>&1 | tail -1
        su -c id root </dev/null || echo "su failed"
        grep -E '^(NoNewPrivs|CapEff|CapBnd)' /proc/self/status
        unshare --user --map-root-user id || echo "no new user namespace"
        mount -t tmpfs none /tmp || echo "mount failed"
        id -u
        """,
    )
    out = result.output
    # root is not even mapped into the sandbox's user namespace: EINVAL (or EPERM)
    assert re.search(r"(PermissionError|OSError): \[Errno (1|22)\]", out), out
    assert "su failed" in out
    assert "NoNewPrivs:\t1" in out
    assert "CapEff:\t0000000000000000" in out and "CapBnd:\t0000000000000000" in out
    assert "no new user namespace" in out and "mount failed" in out
    assert "uid=0" not in out and out.strip().endswith(str(slot_uid))


def test_results_symlink_to_a_host_file_is_not_followed(job_base: Path, slot_uid: int) -> None:
    # Inside, /etc/shadow does not exist; on the worker (root) it does.
    result, job_root = run_script(
        job_base, slot_uid, "ln -s /etc/shadow /autograder/results/results.json\n"
    )
    assert result.exit_code == 0
    assert read_results(job_root) is None


def test_results_folder_symlink_to_a_host_folder_is_not_followed(
    job_base: Path, slot_uid: int
) -> None:
    _, job_root = run_script(
        job_base,
        slot_uid,
        "rm -r /autograder/results && ln -s /etc /autograder/results\n",
    )
    assert read_results(job_root) is None


def test_results_fifo_is_not_read(job_base: Path, slot_uid: int) -> None:
    _, job_root = run_script(job_base, slot_uid, "mkfifo /autograder/results/results.json\n")
    assert read_results(job_root) is None  # and it did not block


def test_results_larger_than_allowed_are_refused(job_base: Path, slot_uid: int) -> None:
    _, job_root = run_script(
        job_base, slot_uid, "head -c 2000000 /dev/zero > /autograder/results/results.json\n"
    )
    with pytest.raises(JobFolderError, match=r"results\.json is"):
        read_results(job_root, max_bytes=1_000_000)


def test_open_files_are_limited(job_base: Path, slot_uid: int) -> None:
    result, _ = run_script(
        job_base,
        slot_uid,
        """
        python3 - <<'PY'
        files = []
        try:
            while True:
                files.append(open("/dev/null"))
        except OSError as exc:
            print("stopped after", len(files), exc)
        PY
        """,
        limits=Limits(wall_seconds=5, memory_mb=256, max_open_files=64),
    )
    count = int(result.output.split("stopped after ")[1].split()[0])
    assert count < 64 and "Too many open files" in result.output


def test_results_json_written_by_the_grader_round_trips(job_base: Path, slot_uid: int) -> None:
    """Sanity check for the hostile helpers: a benign run still works after all of the above."""
    result, job_root = run_script(
        job_base,
        slot_uid,
        'echo \'{"score": 3, "tests": []}\' > /autograder/results/results.json\n',
    )
    assert result.ok
    raw = read_results(job_root)
    assert raw is not None and json.loads(raw)["score"] == 3


def test_run_autograder_does_not_raise_for_a_broken_grader(job_base: Path, slot_uid: int) -> None:
    bundle = make_bundle(job_base, "exec /nonexistent/program\n")
    job_root = new_job(job_base, bundle, slot_uid)
    result = run_autograder(job_root, limits=QUICK, uid=slot_uid)
    assert result.exit_code == 127
    assert "No such file or directory" in result.output


def test_sandbox_dies_with_a_killed_worker(job_base: Path, slot_uid: int) -> None:
    """A worker killed mid-run (OOM killer, kill -9) takes its sandbox with it."""
    bundle = make_bundle(job_base, "sleep 1000 &\nsleep 1000\n")
    job_root = new_job(job_base, bundle, slot_uid)
    worker_code = (
        "import sys; from pathlib import Path; from grading.sandbox import Limits, run_autograder;"
        f"run_autograder(Path({str(job_root)!r}), limits=Limits(wall_seconds=60), uid={slot_uid})"
    )
    repo = Path(__file__).resolve().parents[2]
    worker = subprocess.Popen([sys.executable, "-c", worker_code], cwd=repo)
    try:
        deadline = time.monotonic() + 10
        while len(processes_of_uid(slot_uid)) < 3:  # bwrap, its PID 1, bash, the sleeps
            assert worker.poll() is None and time.monotonic() < deadline, "sandbox never started"
            time.sleep(0.02)
    finally:
        worker.kill()
        worker.wait()
    deadline = time.monotonic() + 3
    while processes_of_uid(slot_uid) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert processes_of_uid(slot_uid) == []
