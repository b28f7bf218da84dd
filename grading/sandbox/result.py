"""What a sandboxed run returns, and how to explain it to a student."""

from __future__ import annotations

import re
import signal as signals
from dataclasses import dataclass

from grading.sandbox.limits import Limits

WALL_TIME = "wall_time"
CPU_TIME = "cpu_time"
MEMORY = "memory"
FILE_SIZE = "file_size"
PROCESSES = "processes"
OUTPUT = "output"
DISK = "disk"


@dataclass(frozen=True)
class SandboxResult:
    """The outcome of one sandboxed run.

    exit_code
        Exit status of ``run_autograder`` (or ``setup.sh``); ``None`` when it was ended by a
        signal or by the wall-clock timeout.
    signal
        The signal that ended it, if any. Inside the sandbox the status travels the shell way
        (128 + N), so a script that ends with ``exit 137`` also reads as SIGKILL, exactly as
        ``$?`` would in bash. SIGKILL on a wall-clock timeout.
    timed_out
        The wall-clock limit was reached and the whole process tree was killed.
    output
        stdout and stderr interleaved, decoded as UTF-8 with ``errors="replace"``. When longer
        than ``max_output_bytes``: the start, a marker line, and the last few KiB.
    output_truncated
        More output was produced than was kept.
    duration_s
        Wall-clock seconds from start to the end of the process tree.
    limit_hit
        Best-effort name of the limit that stopped the run: ``wall_time``, ``cpu_time``,
        ``memory``, ``file_size``, ``disk``, ``processes`` or ``output``; ``None`` when no limit was
        detected. Memory, file size and process limits are recognised from the error messages
        they cause, so a program that hides them is not recognised.
    limits
        The limits the run used (for messages).
    stray_processes_killed
        Processes of the slot uid still alive after the run that the backstop had to kill
        (normally 0: the PID namespace takes every process with it).
    memory_scope
        How ``limits.memory_mb`` applied, for messages: ``"per process"`` (bubblewrap's
        RLIMIT_AS) or ``"for the whole run"`` (a container's cgroup).
    """

    exit_code: int | None
    signal: int | None
    timed_out: bool
    output: str
    output_truncated: bool
    duration_s: float
    limit_hit: str | None
    limits: Limits | None = None
    stray_processes_killed: int = 0
    memory_scope: str = "per process"

    @property
    def ok(self) -> bool:
        """Finished by itself with status 0 and within every limit."""
        return self.exit_code == 0 and not self.timed_out and self.limit_hit is None


# Messages that the limits cause, as printed by bash, Python, glibc, C++ and NumPy.
_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        MEMORY,
        re.compile(
            r"^(?:\w+\.)*\w*MemoryError\b|Cannot allocate memory|std::bad_alloc|"
            r"Unable to allocate [\d.]+ \w+ for an array|xmalloc: .*cannot allocate|"
            r"out of memory",
            re.MULTILINE | re.IGNORECASE,
        ),
    ),
    (CPU_TIME, re.compile(r"CPU time limit exceeded")),
    (DISK, re.compile(r"No space left on device|\[Errno 28\]|Disk quota exceeded")),
    (FILE_SIZE, re.compile(r"File size limit exceeded|\[Errno 27\] File too large|File too large")),
    (
        PROCESSES,
        re.compile(
            r"fork: (?:retry: )?Resource temporarily unavailable|"
            r"BlockingIOError: \[Errno 11\]|can't start new thread|"
            r"pthread_create failed|Resource temporarily unavailable",
        ),
    ),
)

_SIGNAL_LIMITS = {
    int(signals.SIGXCPU): CPU_TIME,
    int(signals.SIGXFSZ): FILE_SIZE,
}


def classify_limit(
    *, timed_out: bool, signal: int | None, output: str, output_truncated: bool
) -> str | None:
    """Best-effort guess at which limit stopped a run (see :attr:`SandboxResult.limit_hit`)."""
    if timed_out:
        return WALL_TIME
    if signal is not None and signal in _SIGNAL_LIMITS:
        return _SIGNAL_LIMITS[signal]
    for name, pattern in _PATTERNS:
        if pattern.search(output):
            return name
    if output_truncated:
        return OUTPUT
    return None


def _signal_name(number: int) -> str:
    try:
        return signals.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _number(value: float) -> str:
    return f"{value:g}"


def describe(result: SandboxResult) -> str:
    """One or two sentences a student understands, saying how the run ended."""
    limits = result.limits or Limits()
    parts: list[str] = []
    limit_sentence = _limit_sentence(result.limit_hit, limits, result.memory_scope)
    if limit_sentence is not None:
        parts.append(limit_sentence)
    if result.output_truncated:
        parts.append(
            f"It printed more than {limits.max_output_bytes:,} bytes of output; only the "
            f"beginning and the end were kept."
        )
    if not parts:
        parts.append(_ending_sentence(result))
    return " ".join(parts)


def _limit_sentence(hit: str | None, limits: Limits, memory_scope: str) -> str | None:
    """What stopped the run, for every limit except the output's (``None`` for no limit)."""
    if hit == WALL_TIME:
        return (
            f"Your submission was stopped because the autograder ran longer than the time "
            f"limit of {_number(limits.wall_seconds)} seconds. Look for an infinite loop, a "
            f"program waiting for input, or a much too slow algorithm."
        )
    if hit == CPU_TIME:
        return (
            f"Your submission was stopped because one process used more than "
            f"{_number(limits.cpu_limit)} seconds of CPU time."
        )
    if hit == MEMORY:
        limit = (
            f"the limit is {limits.memory_mb} MB {memory_scope}"
            if limits.memory_mb is not None
            else "the machine ran out of memory"
        )
        return (
            f"Your submission ran out of memory ({limit}). Use smaller data, avoid keeping "
            f"copies you no longer need, or process the data in pieces."
        )
    if hit == FILE_SIZE:
        return (
            f"Your submission tried to write a file larger than the limit of "
            f"{limits.max_file_mb} MB and was stopped."
        )
    if hit == DISK:
        return (
            f"Your submission filled the disk space it is given ({limits.disk_mb} MB for the "
            f"autograder's folder, {limits.tmp_mb} MB for /tmp) and was stopped."
        )
    if hit == PROCESSES:
        return (
            f"Your submission tried to start too many processes or threads (the limit is "
            f"{limits.max_processes}). Check for runaway fork(), multiprocessing or thread "
            f"creation."
        )
    return None


def _ending_sentence(result: SandboxResult) -> str:
    """How a run that hit no limit ended: normally, by a signal, or with a status."""
    if result.exit_code == 0:
        return "The autograder finished normally."
    if result.signal is not None:
        return (
            f"The autograder was ended by {_signal_name(result.signal)} (signal {result.signal})."
        )
    return f"The autograder exited with status {result.exit_code}."
