"""Grading slots: each worker process takes one slot of its queue for its lifetime. A slot
gives the sandbox its own unprivileged uid (so process limits of one job never touch
another's) and, on the GPU queue, its own GPU through CUDA_VISIBLE_DEVICES. The worker
process itself never imports torch or touches CUDA."""

from __future__ import annotations

import fcntl
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from django.conf import settings

UID_BASE = {"cpu": 61000, "gpu": 62000}
MAX_SLOTS = 64

_held: dict[str, tuple[Slot, IO[str]]] = {}


@dataclass(frozen=True)
class Slot:
    queue: str
    index: int
    uid: int
    env: dict[str, str] = field(default_factory=dict)


def gpu_list() -> list[str]:
    """The GPUs this worker may hand out, one per slot: GRADING_GPUS (e.g. "0,1,2,3"), else
    the worker's own CUDA_VISIBLE_DEVICES."""
    raw = os.environ.get("GRADING_GPUS") or os.environ.get("CUDA_VISIBLE_DEVICES") or ""
    return [g.strip() for g in raw.split(",") if g.strip()]


def slot_for(queue: str) -> Slot:
    """This process's slot of ``queue``, taken on first use with a lock file held for the
    process's life: two processes on one machine never share a slot."""
    if queue in _held:
        return _held[queue][0]
    folder = Path(settings.GRADING_WORK_DIR) / "slots"
    folder.mkdir(parents=True, exist_ok=True)
    gpus = gpu_list() if queue == "gpu" else []
    limit = len(gpus) if gpus else MAX_SLOTS
    for index in range(limit):
        handle = open(folder / f"{queue}-{index}.lock", "w")  # noqa: SIM115 - held for life
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            continue
        env = {"CUDA_VISIBLE_DEVICES": gpus[index]} if gpus else {}
        slot = Slot(queue=queue, index=index, uid=UID_BASE[queue] + index, env=env)
        _held[queue] = (slot, handle)
        return slot
    raise RuntimeError(
        f"All {limit} {queue} grading slots of this machine are taken: run at most one GPU "
        "worker process per GPU (celery -Q grading.gpu --concurrency N for N GPUs)."
    )
