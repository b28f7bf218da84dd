"""The Podman engine (grading/sandbox/podman.py) against a real Podman.

Runs only where ``podman`` is on PATH (``bin/system-packages`` installs it), as root. Builds
the base image with ``bin/build-base-image`` when no ``portal-autograder-base:latest`` exists
(about a minute), then two bundle images: one without ``setup.sh`` (for the limits) and one
whose ``setup.sh`` runs ``apt-get install bc`` (needs the Debian mirror over plain HTTP; skipped
when the container cannot reach it) and ``pip install`` of a wheel shipped in the bundle (HTTPS
to PyPI from inside a container is not assumed: hosts behind a TLS-intercepting proxy lack its
CA in the image).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import time
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(
    shutil.which("podman") is None or os.geteuid() != 0,
    reason="needs rootful podman on PATH (bin/system-packages installs it; run as root)",
)

from grading.sandbox import Limits, prepare_job, read_results  # noqa: E402
from grading.sandbox import podman as engine  # noqa: E402

DISPATCH = """#!/usr/bin/env bash
# What to do comes from the submission, so that one image serves every test.
cd /autograder
case "$(cat /autograder/submission/mode.txt)" in
  grade)
    want=$(echo "6*7" | bc)
    got=$(cat /autograder/submission/answer.txt)
    python3 - "$want" "$got" <<'EOF'
import json, sys
import portalcalc
want, got = sys.argv[1], sys.argv[2]
score = portalcalc.points(want == got)
json.dump({"score": score, "tests": [{"name": "answer", "score": score, "max_score": 1}]},
          open("/autograder/results/results.json", "w"))
EOF
    ;;
  hog)
    python3 -c 'data = b"x" * (300 << 20); print(len(data))'
    ;;
  hog-child)
    python3 -c 'data = b"x" * (300 << 20); print(len(data))'
    echo "the grader carries on after status $?"
    ;;
  net)
    python3 - <<'EOF'
import json, socket
try:
    socket.create_connection(("151.101.2.132", 80), timeout=5).close()
    outcome = "connected"
except OSError as exc:
    outcome = f"blocked: {exc}"
print(outcome)
json.dump({"score": 0, "output": outcome}, open("/autograder/results/results.json", "w"))
EOF
    ;;
  sleep)
    sleep 120
    ;;
esac
"""

SETUP_SH = """#!/usr/bin/env bash
set -e
apt-get update -q
apt-get install -y -q --no-install-recommends bc
pip install --break-system-packages --no-index /autograder/source/wheels/*.whl
"""


def _wheel(folder: Path) -> Path:
    """A tiny pure-Python wheel (``portalcalc``), so that pip needs no network."""
    files = {
        "portalcalc.py": b"def points(ok):\n    return 1 if ok else 0\n",
        "portalcalc-1.0.dist-info/METADATA": (
            b"Metadata-Version: 2.1\nName: portalcalc\nVersion: 1.0\n"
        ),
        "portalcalc-1.0.dist-info/WHEEL": (
            b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        ),
    }
    record = []
    for name, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{name},sha256={digest},{len(data)}")
    record.append("portalcalc-1.0.dist-info/RECORD,,")
    files["portalcalc-1.0.dist-info/RECORD"] = ("\n".join(record) + "\n").encode()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "portalcalc-1.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return path


def _bundle(folder: Path, *, setup: bool) -> Path:
    folder.mkdir(parents=True)
    (folder / "run_autograder").write_text(DISPATCH)
    (folder / "run_autograder").chmod(0o755)
    if setup:
        (folder / "setup.sh").write_text(SETUP_SH)
        _wheel(folder / "wheels")
    return folder


def _build(tmp: Path, base: str, *, setup: bool) -> Iterator[str]:
    tag = f"localhost/portal-test-bundle:{uuid.uuid4().hex[:8]}"
    built = engine.build_bundle_image(
        _bundle(tmp / "bundle", setup=setup), tag, base, wall_seconds=300
    )
    assert built.ok, built.log[-3000:]
    assert built.image == tag
    yield tag
    engine._podman("rmi", "--force", tag)


@pytest.fixture(scope="module")
def plain_image(base_image: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from _build(tmp_path_factory.mktemp("plain"), base_image, setup=False)


def _mirror_reachable(base: str) -> bool:
    probe = engine._podman(
        "run",
        "--rm",
        base,
        "bash",
        "-c",
        "exec 3<>/dev/tcp/deb.debian.org/80",
        timeout=60,
    )
    return probe.returncode == 0


@pytest.fixture(scope="module")
def setup_image(base_image: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not _mirror_reachable(base_image):
        pytest.skip("a container cannot reach deb.debian.org:80 here (no apt-get in setup.sh)")
    yield from _build(tmp_path_factory.mktemp("setup"), base_image, setup=True)


def _job(tmp_path: Path, mode: str, **files: bytes) -> Path:
    bundle = tmp_path / "job-bundle"
    bundle.mkdir()
    (bundle / "run_autograder").write_text("#!/bin/sh\n")  # prepare_job wants one
    job_root = tmp_path / "job"
    prepare_job(
        job_root,
        bundle_dir=bundle,
        submission=[("mode.txt", mode.encode()), *((k, v) for k, v in files.items())],
        metadata={"id": 1, "users": [{"name": "Ada", "email": "ada@example.com", "id": 7}]},
    )
    return job_root


def test_setup_sh_apt_and_pip_then_grades(setup_image: str, tmp_path: Path) -> None:
    job_root = _job(tmp_path, "grade", **{"answer.txt": b"42"})
    result = engine.run_in_container(setup_image, job_root, Limits(wall_seconds=60))
    assert result.ok, result.output
    results = json.loads(read_results(job_root) or b"null")
    assert results["score"] == 1
    assert results["tests"][0]["name"] == "answer"


def test_failing_setup_sh_is_not_committed(base_image: str, tmp_path: Path) -> None:
    bundle = _bundle(tmp_path / "bundle", setup=False)
    (bundle / "setup.sh").write_text("echo before\nfalse\necho after\nexit 3\n")
    tag = f"localhost/portal-test-bundle:{uuid.uuid4().hex[:8]}"
    built = engine.build_bundle_image(bundle, tag, base_image, wall_seconds=60, network=False)
    assert not built.ok
    assert built.image is None
    # errexit although the script has no set -e: it stops at the failing command.
    assert "before" in built.log and "after" not in built.log
    assert "exit status 1" in built.log
    assert not engine.image_exists(tag)


def test_memory_hog_is_killed_as_memory_limit(plain_image: str, tmp_path: Path) -> None:
    job_root = _job(tmp_path, "hog")
    result = engine.run_in_container(plain_image, job_root, Limits(wall_seconds=60, memory_mb=100))
    assert result.limit_hit == "memory", result
    assert result.signal == 9 and result.exit_code is None
    assert not result.timed_out


def test_child_killed_for_memory_is_seen_though_the_grader_carries_on(
    plain_image: str, tmp_path: Path
) -> None:
    job_root = _job(tmp_path, "hog-child")
    result = engine.run_in_container(plain_image, job_root, Limits(wall_seconds=60, memory_mb=100))
    assert "carries on after status 137" in result.output
    assert result.exit_code == 0
    assert result.limit_hit == "memory", result


def test_network_none_blocks_connections(plain_image: str, tmp_path: Path) -> None:
    job_root = _job(tmp_path, "net")
    result = engine.run_in_container(plain_image, job_root, Limits(wall_seconds=60))
    assert result.ok, result.output
    assert "blocked" in result.output
    assert "Network is unreachable" in result.output


def test_sleep_past_the_wall_clock_is_killed(plain_image: str, tmp_path: Path) -> None:
    job_root = _job(tmp_path, "sleep")
    started = time.monotonic()
    name = f"sleep-{uuid.uuid4().hex[:8]}"
    result = engine.run_in_container(plain_image, job_root, Limits(wall_seconds=3), job=name)
    assert result.timed_out
    assert result.limit_hit == "wall_time"
    assert result.signal == 9
    assert time.monotonic() - started < 20
    # Its container is gone (only its own: other tests may run containers meanwhile).
    leftover = engine._podman(
        "ps", "--all", "--quiet", "--filter", f"label={engine.JOB_LABEL}={name}"
    )
    assert leftover.returncode == 0 and leftover.stdout.strip() == ""


def test_missing_image_is_engine_trouble(tmp_path: Path) -> None:
    job_root = _job(tmp_path, "grade")
    with pytest.raises(engine.SandboxUnavailable):
        engine.run_in_container("localhost/portal-no-such-image:x", job_root, Limits())
