"""grading.worker in-process: each step's Outcome (results read and parsed, or the failure a
student reads), the one place that records it, and the ends of run_job that come before the
sandbox runs the autograder: the sandbox missing, setup.sh failing, the worker's own trouble."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from grading import sandbox, services, worker
from grading.models import BundleSetup, GradingJob, GradingResult, JobState
from grading.slots import Slot
from submissions.services import submission_create
from tests.grading import sandbox_fixtures
from tests.grading.conftest import bundle_zip

pytestmark = pytest.mark.django_db

job_base = sandbox_fixtures.job_base
slot_uid = sandbox_fixtures.slot_uid

GOOD = {"score": 2, "tests": [{"name": "t", "score": 2, "max_score": 3}]}


def sandbox_result(*, output: str = "out", timed_out: bool = False) -> sandbox.SandboxResult:
    return sandbox.SandboxResult(
        exit_code=None if timed_out else 0,
        signal=9 if timed_out else None,
        timed_out=timed_out,
        output=output,
        output_truncated=False,
        duration_s=1.0,
        limit_hit="wall_time" if timed_out else None,
        limits=sandbox.Limits(wall_seconds=5),
    )


def results_file(folder: Path, data: bytes) -> None:
    results = folder / "autograder" / "results"
    results.mkdir(parents=True)
    (results / "results.json").write_bytes(data)


def submit_and_claim(enrollment: Any, assignment: Any) -> GradingJob:
    submission_create(
        enrollment=enrollment,
        assignment=assignment,
        files=[(SimpleUploadedFile("a.py", b"x = 1\n"), "a.py")],
        received_at=timezone.now(),
    )
    job = services.job_claim(queue="cpu", worker="w", now=timezone.now())
    assert job is not None
    return job


@pytest.fixture
def claimed(student: Any, assignment: Any, make_bundle: Any) -> GradingJob:
    make_bundle(assignment)
    return submit_and_claim(student, assignment)


@pytest.fixture
def work_dir(settings: Any, job_base: Path) -> Path:
    settings.GRADING_WORK_DIR = str(job_base / "work")
    return job_base / "work"


# --- parse: results.json to an Outcome ---------------------------------------------------------


def test_parse_keeps_the_score_the_raw_results_and_the_output(tmp_path: Path) -> None:
    results_file(tmp_path, json.dumps(GOOD).encode())
    outcome = worker._parse(tmp_path, sandbox_result(output="ran"))
    assert outcome.ok and (outcome.score, outcome.max_score) == (2, 3)
    assert json.loads(outcome.data["raw"]) == GOOD and outcome.data["stdout"] == "ran"
    assert outcome.log_text == "ran"


def test_parse_keeps_the_end_of_a_long_output(tmp_path: Path) -> None:
    results_file(tmp_path, json.dumps(GOOD).encode())
    output = "a" * worker.STDOUT_KEPT + "the end"
    outcome = worker._parse(tmp_path, sandbox_result(output=output))
    assert outcome.data["stdout"] == output[-worker.STDOUT_KEPT :]
    assert outcome.data["stdout"].endswith("the end") and outcome.log_text == output


def test_parse_a_timed_out_run_says_why_and_reads_no_results(tmp_path: Path) -> None:
    results_file(tmp_path, json.dumps(GOOD).encode())
    result = sandbox_result(timed_out=True)
    outcome = worker._parse(tmp_path, result)
    assert not outcome.ok and not outcome.retry
    assert outcome.message == f"Your code could not be graded: {sandbox.describe(result)}"
    assert outcome.log_text == "out"


def test_parse_without_a_results_file_fails(tmp_path: Path) -> None:
    outcome = worker._parse(tmp_path, sandbox_result())
    assert not outcome.ok and outcome.message.startswith("Your code could not be graded: ")


def test_parse_invalid_results_fail_with_the_parsers_sentence(tmp_path: Path) -> None:
    results_file(tmp_path, b"not json")
    outcome = worker._parse(tmp_path, sandbox_result(output="ran"))
    assert not outcome.ok and not outcome.retry and outcome.message
    assert outcome.log_text.endswith("\n\nran")


def test_parse_refuses_a_results_file_too_large_to_read(tmp_path: Path) -> None:
    results_file(tmp_path, b" " * 10_000_001)
    outcome = worker._parse(tmp_path, sandbox_result(output="ran"))
    assert not outcome.ok
    assert outcome.message == "The autograder wrote a results file that is too large to read."
    assert outcome.log_text.endswith("\n\nran")


# --- record: the one place an Outcome is written -----------------------------------------------


def test_record_stores_a_graded_outcome(claimed: GradingJob) -> None:
    outcome = worker.Outcome(ok=True, score=1, max_score=2, data={"raw": "{}"}, log_text="log")
    assert worker._record(claimed, worker="w", outcome=outcome) == "done"
    claimed.refresh_from_db()
    assert claimed.state == JobState.DONE and claimed.log == "log"
    assert GradingResult.objects.get(job=claimed).score == 1


def test_record_fails_the_job_with_the_students_message(claimed: GradingJob) -> None:
    outcome = worker.Outcome(ok=False, message="for you", log_text="for staff")
    assert worker._record(claimed, worker="w", outcome=outcome) == JobState.FAILED
    claimed.refresh_from_db()
    assert (claimed.state, claimed.message, claimed.log) == ("failed", "for you", "for staff")


def test_record_puts_the_job_back_on_the_workers_trouble(claimed: GradingJob) -> None:
    outcome = worker.Outcome(ok=False, message="m", log_text="l", retry=True)
    assert worker._record(claimed, worker="w", outcome=outcome) == JobState.QUEUED
    claimed.refresh_from_db()
    assert claimed.state == JobState.QUEUED


def test_record_writes_nothing_for_a_lost_job(claimed: GradingJob) -> None:
    assert worker._record(claimed, worker="w", outcome=worker.LOST) == "lost"
    claimed.refresh_from_db()
    assert claimed.state == JobState.RUNNING and not GradingResult.objects.exists()


# --- run_job's ends before the autograder runs -------------------------------------------------


def test_run_job_without_a_sandbox_fails_the_job_for_staff_to_fix(
    claimed: GradingJob, work_dir: Path, monkeypatch: Any
) -> None:
    def unavailable() -> None:
        raise sandbox.SandboxUnavailable("no bubblewrap here")

    monkeypatch.setattr(sandbox.runner, "check_available", unavailable)
    slot = Slot(queue="cpu", index=0, uid=60000)
    assert worker.run_job(claimed, slot=slot, worker="w") == JobState.FAILED
    claimed.refresh_from_db()
    assert claimed.message.startswith("The autograder could not run on the grading machine.")
    assert claimed.log == "no bubblewrap here"


@sandbox_fixtures.requires_sandbox
def test_run_job_fails_when_setup_fails_and_remembers_it(
    student: Any, assignment: Any, media: Any, work_dir: Path, slot_uid: int
) -> None:
    services._bundle_store(
        assignment=assignment,
        data=bundle_zip(extra={"setup.sh": b"#!/bin/sh\necho broken\nexit 3\n"}),
        source="upload",
    )
    for _ in range(2):
        job = submit_and_claim(student, assignment)
        slot = Slot(queue="cpu", index=0, uid=slot_uid)
        assert worker.run_job(job, slot=slot, worker="w") == JobState.FAILED
        job.refresh_from_db()
        assert job.message.startswith("The autograder's setup failed")
        assert job.log.startswith("setup.sh failed: ")
    setup = BundleSetup.objects.get()  # setup.sh ran once on this machine
    assert setup.state == BundleSetup.State.FAILED and "broken" in setup.log
    assert setup.worker == worker.MACHINE and setup.finished_at is not None


@pytest.mark.django_db(transaction=True)
def test_run_job_puts_the_job_back_on_the_workers_own_trouble(
    claimed: GradingJob, work_dir: Path, monkeypatch: Any
) -> None:
    folders: list[Path] = []

    def broken_disk(folder: Path, **kwargs: Any) -> None:
        folder.mkdir(parents=True)
        folders.append(folder)
        raise OSError("disk full")

    monkeypatch.setattr(sandbox.runner, "check_available", lambda: None)
    monkeypatch.setattr(sandbox, "prepare_job", broken_disk)
    slot = Slot(queue="cpu", index=0, uid=60000)
    assert worker.run_job(claimed, slot=slot, worker="w") == JobState.QUEUED
    claimed.refresh_from_db()
    assert claimed.state == JobState.QUEUED and claimed.log == "OSError('disk full')"
    assert BundleSetup.objects.get().log == "(no setup.sh)"
    assert folders and not folders[0].exists()  # the job folder is cleaned up


@pytest.fixture(autouse=True)
def _no_wake_ups(monkeypatch: Any) -> Iterator[None]:
    monkeypatch.setattr(services, "publish", lambda job: None)
    yield
