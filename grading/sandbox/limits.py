"""Resource limits for one sandboxed run."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    """Limits applied to every process of one sandboxed run.

    wall_seconds
        Wall-clock time for the whole run; when it is over, the whole process tree is killed
        (SIGKILL). Gradescope's default is 10 minutes.
    cpu_seconds
        RLIMIT_CPU, per process (SIGXCPU at the limit, SIGKILL one second later). Defaults to
        ``wall_seconds``. Each process has its own CPU clock, so several processes together can
        use more: the wall clock is the real bound.
    memory_mb
        RLIMIT_AS (address space) per process, in MiB. ``None`` means no address-space limit:
        GPU jobs need it, because the CUDA driver maps huge virtual ranges (tens of GiB) at
        start-up and fails under any realistic RLIMIT_AS. Without a limit, a GPU job is bounded
        only by the worker machine's memory. RLIMIT_AS is per process, not per run: several
        processes may each use up to the limit.
    max_processes
        RLIMIT_NPROC: processes *and threads* of the slot's uid together (so each concurrent
        slot needs its own uid). Thread-hungry libraries (OpenMP, PyTorch) count against it.
    max_file_mb
        RLIMIT_FSIZE: the largest file any process may write, in MiB.
    max_open_files
        RLIMIT_NOFILE.
    max_output_bytes
        How much of stdout+stderr is kept; the rest is read and discarded.
    tmp_mb
        Size of each private tmpfs (``/tmp`` and ``/dev/shm``), in MiB. tmpfs pages are RAM
        and are not counted by ``memory_mb``, so this is bounded separately.
    disk_mb
        Container engine only: the size of the writable ``/autograder`` (a tmpfs holding a
        copy of the image's ``/autograder``; the rest of the container is read-only), and of
        the host folder that holds the submission and the results. Filling it ends in "No
        space left on device", never in a full host disk. tmpfs pages are memory: they also
        count against the container's ``memory_mb``.
    """

    wall_seconds: float = 600
    cpu_seconds: float | None = None
    memory_mb: int | None = 768
    max_processes: int = 128
    max_file_mb: int = 256
    max_open_files: int = 256
    max_output_bytes: int = 1_000_000
    tmp_mb: int = 256
    disk_mb: int = 1024

    def __post_init__(self) -> None:
        if self.cpu_seconds is None:
            object.__setattr__(self, "cpu_seconds", self.wall_seconds)
        if not self.wall_seconds > 0:
            raise ValueError("wall_seconds must be positive")
        if not self.cpu_limit > 0:
            raise ValueError("cpu_seconds must be positive")
        if self.memory_mb is not None and self.memory_mb < 16:
            raise ValueError("memory_mb must be at least 16 (or None for no limit)")
        for name in ("max_processes", "max_file_mb", "max_open_files", "tmp_mb", "disk_mb"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")
        if self.max_output_bytes < 0:
            raise ValueError("max_output_bytes must not be negative")

    @property
    def cpu_limit(self) -> float:
        """``cpu_seconds`` after the default was applied."""
        return self.wall_seconds if self.cpu_seconds is None else self.cpu_seconds

    def prlimit_args(self) -> list[str]:
        """Options for util-linux ``prlimit`` (soft:hard)."""
        cpu = max(1, math.ceil(self.cpu_limit))
        memory = "unlimited" if self.memory_mb is None else str(self.memory_mb * 1024 * 1024)
        fsize = self.max_file_mb * 1024 * 1024
        return [
            f"--cpu={cpu}:{cpu + 1}",
            f"--as={memory}:{memory}",
            f"--nproc={self.max_processes}:{self.max_processes}",
            f"--fsize={fsize}:{fsize}",
            f"--nofile={self.max_open_files}:{self.max_open_files}",
            "--core=0:0",
        ]
