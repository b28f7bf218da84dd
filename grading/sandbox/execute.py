"""Running one built :class:`~grading.sandbox.command.Command`: start, wait, kill, report.

The child starts in its own session and process group; a wall-clock timeout SIGKILLs that
group (the sandbox's PID namespace goes with it). With ``sweep``, every process of the slot
uid is killed before the run and, as a backstop, any that outlive it. The output is read by
an :class:`~grading.sandbox.output.OutputReader` thread, so a flood never blocks the child.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import time

from grading.sandbox.command import Command
from grading.sandbox.errors import SandboxUnavailable
from grading.sandbox.limits import Limits
from grading.sandbox.output import OutputReader
from grading.sandbox.procs import kill_uid_processes, wait_until_gone
from grading.sandbox.result import SandboxResult, classify_limit

logger = logging.getLogger(__name__)

# The environment of prlimit/setpriv/bwrap themselves (bwrap clears it for the sandbox).
_HOST_ENV = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"}


def execute(command: Command, *, sweep: bool) -> SandboxResult:
    """Run ``command`` to its end or its wall-clock limit.

    Raises :class:`SandboxUnavailable` when the sandbox itself could not be set up; whatever
    the code inside does is reported in the result.
    """
    limits = command.limits
    if sweep:
        _sweep_before(command.uid)
    start = time.monotonic()
    proc = _start(command)
    assert proc.stdout is not None
    reader = OutputReader(proc.stdout.fileno(), limits.max_output_bytes)
    reader.start()
    try:
        timed_out = _wait(proc, limits.wall_seconds)
    finally:
        duration = time.monotonic() - start
        strays = _sweep_after(command.uid) if sweep else 0
        started = command.sandbox_started()
        _finish_reading(reader, proc, command.uid)
    if strays:
        logger.warning("killed %d stray processes of slot uid %d after a run", strays, command.uid)
    output = reader.text()
    if not started:
        raise _not_started(proc.returncode, timed_out=timed_out, limits=limits, output=output)
    return _result(
        proc.returncode,
        timed_out=timed_out,
        output=output,
        output_truncated=reader.truncated,
        duration=duration,
        limits=limits,
        strays=strays,
    )


def _sweep_before(uid: int) -> None:
    leftover = kill_uid_processes(uid)
    if leftover:
        logger.warning("killed %d processes of slot uid %d before a run", leftover, uid)


def _sweep_after(uid: int) -> int:
    """Kill what the run left of ``uid``; how many processes that was."""
    # bwrap's monitor may return while the sandbox's PID 1 is still exiting, and the
    # kernel tears the PID namespace down after that: give it a moment, so that the
    # backstop only finds real strays.
    if wait_until_gone(uid, timeout=1.0):
        return 0
    return kill_uid_processes(uid)


def _start(command: Command) -> subprocess.Popen[bytes]:
    try:
        proc = subprocess.Popen(
            command.args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            pass_fds=command.child_fds,
            env=_HOST_ENV,
            cwd="/",
            start_new_session=True,
        )
    except OSError as exc:
        command.close_child_fds()
        os.close(command.started_fd)
        raise SandboxUnavailable(f"cannot start the sandbox: {exc}") from exc
    command.close_child_fds()
    return proc


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)


def _wait(proc: subprocess.Popen[bytes], wall_seconds: float) -> bool:
    """Wait for the run's end; at the wall-clock limit (or when the worker is interrupted)
    kill its whole process group. True when the limit was reached."""
    try:
        try:
            proc.wait(timeout=wall_seconds)
        except subprocess.TimeoutExpired:
            _kill_group(proc.pid)
            proc.wait()
            return True
    except BaseException:
        _kill_group(proc.pid)
        proc.wait()
        raise
    return False


def _finish_reading(reader: OutputReader, proc: subprocess.Popen[bytes], uid: int) -> None:
    reader.join(timeout=5)
    if reader.is_alive():
        logger.error("sandbox output pipe still open after the run (uid %d)", uid)
    else:
        assert proc.stdout is not None
        proc.stdout.close()


def _not_started(
    status: int, *, timed_out: bool, limits: Limits, output: str
) -> SandboxUnavailable:
    if timed_out:
        return SandboxUnavailable(
            f"the sandbox did not start within the wall-clock limit of "
            f"{limits.wall_seconds} s: {output.strip()[:2000]}"
        )
    return SandboxUnavailable(
        f"bubblewrap could not set up the sandbox (status {status}): {output.strip()[:2000]}"
    )


def _exit_status(status: int, *, timed_out: bool) -> tuple[int | None, int | None]:
    """(exit code, signal) of a run, read the shell way: 128 + N is signal N."""
    if timed_out:
        return None, int(signal.SIGKILL)
    if status < 0:
        return None, -status
    if 128 < status <= 128 + 64:
        return None, status - 128
    return status, None


def _result(
    status: int,
    *,
    timed_out: bool,
    output: str,
    output_truncated: bool,
    duration: float,
    limits: Limits,
    strays: int,
) -> SandboxResult:
    exit_code, sig = _exit_status(status, timed_out=timed_out)
    return SandboxResult(
        exit_code=exit_code,
        signal=sig,
        timed_out=timed_out,
        output=output,
        output_truncated=output_truncated,
        duration_s=duration,
        limit_hit=classify_limit(
            timed_out=timed_out,
            signal=sig,
            output=output,
            output_truncated=output_truncated,
        ),
        limits=limits,
        stray_processes_killed=strays,
    )
