"""Shared helpers and fixtures for the sandbox tests (no Django, no database).

The test modules bind the fixtures by name (``job_base = sandbox_fixtures.job_base``).
"""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
import textwrap
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

import pytest

from grading.sandbox import Limits, SandboxResult, claim_uid, prepare_job, processes_of_uid
from grading.sandbox import runner as sandbox_runner

#: Slot uids the tests may use; each test claims a free one (flock), so concurrent test runs
#: on one machine never share a uid.
TEST_UIDS = range(60001, 60033)

#: Short limits so hostile tests finish quickly.
QUICK = Limits(wall_seconds=5, memory_mb=256, max_processes=64, max_file_mb=16, tmp_mb=32)

_counter = itertools.count()


def sandbox_missing_reason() -> str | None:
    if os.geteuid() != 0:
        return "the sandbox tests need root (the worker switches to slot uids)"
    if shutil.which(sandbox_runner.BWRAP_PATH) is None:
        return "bubblewrap is not installed"
    return None


requires_sandbox = pytest.mark.skipif(
    sandbox_missing_reason() is not None, reason=sandbox_missing_reason() or ""
)


@pytest.fixture
def job_base() -> Iterator[Path]:
    """A folder for bundles and jobs that slot uids can traverse (pytest's tmp_path is 0700)."""
    base = Path(tempfile.mkdtemp(prefix="sandbox-tests-", dir="/tmp"))
    base.chmod(0o711)
    try:
        yield base
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _claim(count: int) -> Iterator[list[int]]:
    with claim_uid(TEST_UIDS) as first:
        if count == 1:
            uids = [first]
            yield uids
        else:
            rest = [uid for uid in TEST_UIDS if uid != first]
            with claim_uid(rest) as second:
                uids = [first, second]
                yield uids
    for uid in uids:
        assert processes_of_uid(uid) == [], f"processes of slot uid {uid} were left behind"


@pytest.fixture
def slot_uid() -> Iterator[int]:
    """A slot uid held for the test; fails the test if any of its processes survive."""
    for uids in _claim(1):
        yield uids[0]


@pytest.fixture
def two_slot_uids() -> Iterator[list[int]]:
    yield from _claim(2)


def make_bundle(
    base: Path,
    run_autograder: str,
    *,
    setup: str | None = None,
    files: Mapping[str, str] | None = None,
) -> Path:
    """A bundle folder with the given run_autograder (and setup.sh) as bash scripts."""
    bundle = base / f"bundle-{next(_counter)}"
    bundle.mkdir()
    (bundle / "run_autograder").write_text(
        "#!/usr/bin/env bash\n" + textwrap.dedent(run_autograder).lstrip()
    )
    if setup is not None:
        (bundle / "setup.sh").write_text("#!/usr/bin/env bash\n" + textwrap.dedent(setup).lstrip())
    for name, content in (files or {}).items():
        (bundle / name).write_text(textwrap.dedent(content).lstrip())
    return bundle


def new_job(
    base: Path,
    bundle: Path,
    uid: int,
    *,
    submission: Iterable[tuple[str, Path | bytes]] = (),
    metadata: Mapping[str, object] | None = None,
) -> Path:
    job_root = base / f"job-{next(_counter)}"
    prepare_job(
        job_root,
        bundle_dir=bundle,
        submission=submission,
        metadata=metadata or {"id": 1},
        uid=uid,
    )
    return job_root


def run_script(
    base: Path,
    uid: int,
    script: str,
    *,
    limits: Limits = QUICK,
    submission: Iterable[tuple[str, Path | bytes]] = (),
    env: Mapping[str, str] | None = None,
) -> tuple[SandboxResult, Path]:
    """Prepare a job whose run_autograder is ``script`` and run it."""
    from grading.sandbox import run_autograder

    bundle = make_bundle(base, script)
    job_root = new_job(base, bundle, uid, submission=submission)
    return run_autograder(job_root, limits=limits, uid=uid, env=env), job_root
