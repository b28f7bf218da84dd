"""GPU slots: one grading slot per GPU, each with its own CUDA_VISIBLE_DEVICES and uid; a
process beyond the GPUs is refused. The worker never imports torch."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

CLAIM = """
import json, sys, time, django
django.setup()
from grading.slots import slot_for
try:
    slot = slot_for("gpu")
    print(json.dumps({"uid": slot.uid, "env": slot.env}), flush=True)
except RuntimeError as exc:
    print(json.dumps({"error": str(exc)}), flush=True)
time.sleep(3)
print(json.dumps({"torch": "torch" in sys.modules}), flush=True)
"""


def test_one_slot_per_gpu_each_with_its_own_device_and_uid(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings.test",
        "GRADING_WORK_DIR": str(tmp_path),
        "GRADING_GPUS": "0,1",
    }
    procs = []
    for _ in range(3):
        procs.append(
            subprocess.Popen(
                [sys.executable, "-c", CLAIM], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True
            )
        )
        time.sleep(0.3)
    outputs = [p.communicate(timeout=60)[0].splitlines() for p in procs]
    first = [json.loads(lines[0]) for lines in outputs]
    claimed = [f for f in first if "uid" in f]
    refused = [f for f in first if "error" in f]
    assert sorted(c["env"]["CUDA_VISIBLE_DEVICES"] for c in claimed) == ["0", "1"]
    assert len({c["uid"] for c in claimed}) == 2
    assert len(refused) == 1 and "one GPU worker process per GPU" in refused[0]["error"]
    assert all(json.loads(lines[-1]) == {"torch": False} for lines in outputs)


def test_cpu_slots_have_no_gpu(tmp_path, settings):
    from grading import slots

    settings.GRADING_WORK_DIR = str(tmp_path)
    slots._held.pop("cpu", None)
    slot = slots.slot_for("cpu")
    assert slot.env == {} and slot.uid >= slots.UID_BASE["cpu"]
