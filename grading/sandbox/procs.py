"""Processes of a slot uid: the backstop that kills them, and slot uid claims."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import signal
import tempfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

DEFAULT_LOCK_DIR = Path(tempfile.gettempdir()) / "grading-sandbox-slots"


def processes_of_uid(uid: int) -> list[int]:
    """Live (non-zombie) processes whose real, effective, saved or fs uid is ``uid``."""
    found: list[int] = []
    try:
        entries = os.listdir("/proc")
    except OSError:
        return found
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status", "rb") as handle:
                status = handle.read()
        except OSError:
            continue
        uids: list[int] = []
        zombie = False
        for line in status.splitlines():
            if line.startswith(b"State:"):
                zombie = b"Z" in line.split()[1:2] or b"X" in line.split()[1:2]
            elif line.startswith(b"Uid:"):
                uids = [int(value) for value in line.split()[1:]]
                break
        if uid in uids and not zombie:
            found.append(int(entry))
    return found


def wait_until_gone(uid: int, *, timeout: float) -> bool:
    """Wait up to ``timeout`` seconds for every process of ``uid`` to end."""
    deadline = time.monotonic() + timeout
    while processes_of_uid(uid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def kill_uid_processes(uid: int, *, timeout: float = 5.0) -> int:
    """SIGKILL every process of ``uid`` until none is left; return how many were killed.

    Only safe because each grading slot has a dedicated uid that nothing else uses.
    """
    killed: set[int] = set()
    deadline = time.monotonic() + timeout
    while True:
        pids = processes_of_uid(uid)
        if not pids:
            return len(killed)
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
                killed.add(pid)
            except OSError as exc:
                if exc.errno != errno.ESRCH:
                    raise
        if time.monotonic() > deadline:
            return len(killed)
        time.sleep(0.01)


@contextlib.contextmanager
def claim_uid(uids: Iterable[int], *, lock_dir: Path = DEFAULT_LOCK_DIR) -> Iterator[int]:
    """Hold one free uid out of ``uids`` for the duration of the block.

    Uses one ``flock`` per uid, so concurrent worker processes (or test runs) on one machine
    never share a slot uid. Raises ``RuntimeError`` when all of them are taken.
    """
    lock_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    for uid in uids:
        fd = os.open(lock_dir / f"uid-{uid}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        try:
            yield uid
        finally:
            os.close(fd)
        return
    raise RuntimeError("every slot uid is in use")
