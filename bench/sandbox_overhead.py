"""What the sandbox costs: a trivial bundle run in the sandbox vs. the same script run directly.

    sudo .venv/bin/python bench/sandbox_overhead.py [--runs 20] [--uid 60001]

Needs root and bubblewrap, like the grading worker. The bundle's run_autograder only writes a
results.json with score 1. Each run gets a fresh job folder from prepare_job (timed apart);
"sandboxed" is run_autograder (availability check cached, uid sweeps, prlimit, setpriv, bwrap
with all its mounts, PID 1 reaper, output reader); "direct" is subprocess.run of the same
script with bash in the same folder, no sandbox. Prints medians; nothing is pass/fail here.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from grading.sandbox import (
    Limits,
    check_available,
    prepare_job,
    read_results,
    run_autograder,
)

RUN_AUTOGRADER = """#!/usr/bin/env bash
echo '{"score": 1}' > results/results.json
"""


def _ms(values: list[float]) -> str:
    ordered = sorted(values)
    p90 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.9))]
    return (
        f"median {statistics.median(values) * 1000:7.1f} ms   "
        f"min {ordered[0] * 1000:7.1f} ms   p90 {p90 * 1000:7.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--uid", type=int, default=60001)
    args = parser.parse_args()

    check_available()  # the one-off probe is not part of a run
    base = Path(tempfile.mkdtemp(prefix="sandbox-bench-", dir="/tmp"))
    base.chmod(0o711)
    try:
        bundle = base / "bundle"
        bundle.mkdir()
        (bundle / "run_autograder").write_text(RUN_AUTOGRADER)
        limits = Limits(wall_seconds=60)
        prepare: list[float] = []
        sandboxed: list[float] = []
        direct: list[float] = []
        for run in range(args.runs):
            job = base / f"sandboxed-{run}"
            start = time.perf_counter()
            prepare_job(job, bundle_dir=bundle, submission=[], metadata={"id": run}, uid=args.uid)
            prepare.append(time.perf_counter() - start)
            start = time.perf_counter()
            run_autograder(job, limits=limits, uid=args.uid)
            sandboxed.append(time.perf_counter() - start)
            raw = read_results(job)
            assert raw is not None and json.loads(raw)["score"] == 1

            plain = base / f"direct-{run}"
            prepare_job(plain, bundle_dir=bundle, submission=[], metadata={"id": run})
            folder = plain / "autograder"
            start = time.perf_counter()
            subprocess.run(["/bin/bash", "source/run_autograder"], cwd=folder, check=True)
            direct.append(time.perf_counter() - start)
            assert json.loads((folder / "results" / "results.json").read_text())["score"] == 1

        overhead = statistics.median(sandboxed) - statistics.median(direct)
        print(f"trivial bundle, {args.runs} runs each, slot uid {args.uid}")
        print(f"  prepare_job          {_ms(prepare)}")
        print(f"  sandboxed run        {_ms(sandboxed)}")
        print(f"  direct subprocess    {_ms(direct)}")
        print(f"  sandbox overhead     {overhead * 1000:7.1f} ms (difference of the medians)")
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
