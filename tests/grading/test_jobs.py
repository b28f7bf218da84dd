"""Grading jobs in PostgreSQL: written with the submission, claimed once, fair, held for late
PS0, retried with a cap, swept when a worker dies or Redis forgets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from grading import services
from grading.models import GradingJob, GradingResult, JobState
from submissions.services import submission_create
from tests.factories import AssignmentFactory, EnrollmentFactory, ExtensionFactory

pytestmark = pytest.mark.django_db

NOW = datetime.now(UTC)


@pytest.fixture
def published(monkeypatch):
    sent: list[int] = []
    monkeypatch.setattr(services, "publish", lambda job: sent.append(job.pk))
    return sent


def submit(enrollment, assignment, at=None):
    return submission_create(
        enrollment=enrollment,
        assignment=assignment,
        files=[(SimpleUploadedFile("a.py", b"x = 1\n"), "a.py")],
        received_at=at or timezone.now(),
    ).submission


def test_the_job_is_written_with_the_submission_and_published_on_commit(
    student, assignment, make_bundle, published, django_capture_on_commit_callbacks
):
    make_bundle(assignment)
    with django_capture_on_commit_callbacks(execute=True):
        sub = submit(student, assignment)
    job = GradingJob.objects.get(submission=sub)
    assert job.state == JobState.QUEUED and job.queue == "cpu" and job.rank == 1
    assert published == [job.pk]


def test_no_bundle_no_job(student, assignment, media):
    submit(student, assignment)
    assert not GradingJob.objects.exists()


def test_gpu_assignments_go_to_the_gpu_queue(student, assignment, make_bundle):
    assignment.autograder_queue = "gpu"
    assignment.save()
    make_bundle(assignment)
    submit(student, assignment)
    assert GradingJob.objects.get().queue == "gpu"


def test_a_newer_submission_supersedes_the_owners_queued_job(
    student, grad_student, assignment, make_bundle
):
    make_bundle(assignment)
    first = submit(student, assignment)
    other = submit(grad_student, assignment)
    second = submit(student, assignment)
    states = {j.submission_id: j.state for j in GradingJob.objects.all()}
    assert states == {
        first.pk: JobState.SUPERSEDED,
        other.pk: JobState.QUEUED,
        second.pk: JobState.QUEUED,
    }


def test_twenty_resubmissions_never_delay_another_students_first(
    student, grad_student, assignment, make_bundle
):
    make_bundle(assignment)
    for _ in range(20):
        submit(student, assignment)
    # Running jobs are not superseded; make them all "already graded" except the last.
    GradingJob.objects.filter(state=JobState.SUPERSEDED).update(state=JobState.DONE)
    late_first = submit(grad_student, assignment)
    claimed = services.job_claim(queue="cpu", worker="w1", now=timezone.now())
    assert claimed.submission_id == late_first.pk
    assert services.job_claim(queue="cpu", worker="w1", now=timezone.now()).rank == 20


def test_late_ps0_waits_until_registration_ends(
    student, grad_student, course, homework, make_bundle
):
    course.registration_ends = NOW + timedelta(days=1)
    course.save()
    ps0 = AssignmentFactory(
        course=course,
        category=homework,
        slug="ps0",
        release_at=NOW - timedelta(days=3),
        due_at=NOW - timedelta(days=1),
        grace_days=0,
        after_grace="accept_late",
    )
    make_bundle(ps0)
    late = submit(student, ps0)
    # An on-time PS0 for comparison: the grad student has an extension.
    ExtensionFactory(assignment=ps0, student=grad_student.user, due_at=NOW + timedelta(days=1))
    on_time = submit(grad_student, ps0)
    assert late.grade_after == course.registration_ends and on_time.grade_after is None
    first = services.job_claim(queue="cpu", worker="w", now=timezone.now())
    assert first.submission_id == on_time.pk
    assert services.job_claim(queue="cpu", worker="w", now=timezone.now()) is None
    after = services.job_claim(queue="cpu", worker="w", now=NOW + timedelta(days=1, seconds=1))
    assert after.submission_id == late.pk


def test_a_job_is_claimed_once_and_has_one_result(student, assignment, make_bundle):
    make_bundle(assignment)
    submit(student, assignment)
    job = services.job_claim(queue="cpu", worker="w1", now=timezone.now())
    assert services.job_claim(queue="cpu", worker="w2", now=timezone.now()) is None
    assert job.attempts == 1 and job.state == JobState.RUNNING
    assert services.job_finish(job_id=job.pk, worker="w1", score=1, max_score=1, data={"raw": "{}"})
    # A duplicate delivery, or a worker that lost the job, stores nothing.
    assert not services.job_finish(job_id=job.pk, worker="w1", score=5, max_score=1, data={})
    assert not services.job_finish(job_id=job.pk, worker="w2", score=5, max_score=1, data={})
    assert GradingResult.objects.get().score == 1


def test_retry_is_capped(student, assignment, make_bundle, published):
    make_bundle(assignment)
    submit(student, assignment)
    for attempt in range(1, services.MAX_ATTEMPTS + 1):
        job = services.job_claim(queue="cpu", worker="w", now=timezone.now())
        assert job.attempts == attempt
        state = services.job_fail(job_id=job.pk, worker="w", message="m", log_text="l", retry=True)
    assert state == JobState.FAILED
    job.refresh_from_db()
    assert job.state == JobState.FAILED and job.message == "m"


def test_sweep_requeues_a_job_whose_worker_died_and_fails_it_after_the_cap(
    student, assignment, make_bundle, published
):
    make_bundle(assignment)
    submit(student, assignment)
    job = services.job_claim(queue="cpu", worker="dead", now=timezone.now())
    later = timezone.now() + services.HEARTBEAT_TIMEOUT + timedelta(seconds=1)
    assert services.jobs_sweep(now=later)["requeued"] == 1
    job.refresh_from_db()
    assert job.state == JobState.QUEUED
    for _ in range(services.MAX_ATTEMPTS - 1):
        services.job_claim(queue="cpu", worker="dead", now=timezone.now())
        later += services.HEARTBEAT_TIMEOUT * 2
        services.jobs_sweep(now=later)
    job.refresh_from_db()
    assert job.state == JobState.FAILED and "stopped" in job.message


def test_sweep_republishes_queued_jobs_nobody_woke(
    student, grad_student, assignment, make_bundle, published
):
    make_bundle(assignment)
    submit(student, assignment)
    submit(grad_student, assignment)
    assert services.jobs_sweep(now=timezone.now())["republished"] == 0  # just published
    later = timezone.now() + services.REPUBLISH_AFTER + timedelta(seconds=1)
    assert services.jobs_sweep(now=later)["republished"] == 2
    assert len(published) == 2
    assert services.jobs_sweep(now=later)["republished"] == 0  # not again right away


def test_rerun_by_staff(student, ta, assignment, make_bundle, published):
    make_bundle(assignment)
    sub = submit(student, assignment)
    job = services.job_claim(queue="cpu", worker="w", now=timezone.now())
    services.job_finish(job_id=job.pk, worker="w", score=0, max_score=1, data={"raw": "{}"})
    new = services.job_rerun(enrollment=ta, submission=sub)
    assert new.state == JobState.QUEUED and GradingJob.objects.filter(submission=sub).count() == 2
    with pytest.raises(Exception, match="staff"):
        services.job_rerun(enrollment=student, submission=sub)
    mate = EnrollmentFactory(section=student.section, role="student")
    submit(mate, assignment)
    assert services.jobs_rerun_latest(enrollment=ta, assignment=assignment) == 2


def test_bundle_versions_by_content(assignment, make_bundle):
    first = make_bundle(assignment)
    again = make_bundle(assignment)
    assert first.pk == again.pk
    second = make_bundle(assignment, run_autograder=b"#!/bin/sh\necho changed\n")
    first.refresh_from_db()
    assert second.active and not first.active
    with pytest.raises(Exception, match="run_autograder"):
        from grading.services import _bundle_store

        _bundle_store(assignment=assignment, data=_zip_without_runner(), source="upload")


def _zip_without_runner() -> bytes:
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("setup.sh", "echo")
    return buf.getvalue()


def test_load_course_stores_bundles_and_an_upload_survives_a_reload(media, tmp_path, capsys):
    import shutil
    from pathlib import Path

    from django.core.management import call_command

    from courses.models import Assignment
    from grading.models import Bundle
    from tests.grading.conftest import bundle_zip

    demo = Path(__file__).resolve().parents[2] / "demo"
    call_command("load_course", str(demo / "cs7643-sp21.toml"))
    assert "New autograder versions: ps0" in capsys.readouterr().out
    # Two bundle folders, shared by six assignments: one version per assignment.
    assert Bundle.objects.filter(active=True).count() == 6
    call_command("load_course", str(demo / "cs7643-sp21.toml"))
    assert Bundle.objects.count() == 6  # nothing new the second time
    hw1 = Assignment.objects.get(slug="hw1")
    instructor = EnrollmentFactory(course=hw1.course, section=None, role="instructor")
    import io

    uploaded = services.bundle_upload(
        enrollment=instructor, assignment=hw1, fileobj=io.BytesIO(bundle_zip(b"#!/bin/sh\n"))
    )
    call_command("load_course", str(demo / "cs7643-sp21.toml"))
    assert services.active_bundle(assignment=hw1).pk == uploaded.pk
    # A changed bundle folder in the config does replace it.
    copy = tmp_path / "course"
    shutil.copytree(demo, copy)
    (copy / "autograders" / "pytorch_style" / "extra.txt").write_text("new")
    call_command("load_course", str(copy / "cs7643-sp21.toml"))
    assert services.active_bundle(assignment=hw1).source == "config"
