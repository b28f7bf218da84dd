"""Grading jobs in PostgreSQL: written with the submission, claimed once, fair, held for late
PS0, retried with a cap, swept when a worker dies or Redis forgets."""

from __future__ import annotations

import io
import shutil
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.utils import timezone

from courses.models import Assignment
from grading import services
from grading.models import Bundle, GradingJob, GradingResult, JobState
from submissions.services import submission_create
from tests.factories import AssignmentFactory, EnrollmentFactory, ExtensionFactory
from tests.grading.conftest import bundle_zip

pytestmark = pytest.mark.django_db

NOW = datetime.now(UTC)
DEMO = Path(__file__).resolve().parents[2] / "demo"


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


def test_a_job_is_claimed_once(student, assignment, make_bundle):
    make_bundle(assignment)
    submit(student, assignment)
    job = services.job_claim(queue="cpu", worker="w1", now=timezone.now())
    assert services.job_claim(queue="cpu", worker="w2", now=timezone.now()) is None
    assert job.attempts == 1 and job.state == JobState.RUNNING


def test_a_duplicate_delivery_stores_no_second_result(student, assignment, make_bundle):
    make_bundle(assignment)
    submit(student, assignment)
    job = services.job_claim(queue="cpu", worker="w1", now=timezone.now())
    assert services.job_finish(job_id=job.pk, worker="w1", score=1, max_score=1, data={"raw": "{}"})
    assert not services.job_finish(job_id=job.pk, worker="w1", score=5, max_score=1, data={})
    assert GradingResult.objects.get().score == 1


def test_a_worker_that_does_not_hold_the_job_stores_nothing(student, assignment, make_bundle):
    make_bundle(assignment)
    submit(student, assignment)
    job = services.job_claim(queue="cpu", worker="w1", now=timezone.now())
    assert not services.job_finish(job_id=job.pk, worker="w2", score=5, max_score=1, data={})
    assert not GradingResult.objects.exists()
    assert services.job_finish(job_id=job.pk, worker="w1", score=1, max_score=1, data={"raw": "{}"})
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


def test_sweep_requeues_a_job_whose_worker_died(student, assignment, make_bundle, published):
    make_bundle(assignment)
    submit(student, assignment)
    job = services.job_claim(queue="cpu", worker="dead", now=timezone.now())
    later = timezone.now() + services.HEARTBEAT_TIMEOUT + timedelta(seconds=1)
    assert services.jobs_sweep(now=later)["requeued"] == 1
    job.refresh_from_db()
    assert job.state == JobState.QUEUED


def test_sweep_fails_a_job_whose_workers_died_as_often_as_the_cap(
    student, assignment, make_bundle, published
):
    make_bundle(assignment)
    submit(student, assignment)
    job = services.job_claim(queue="cpu", worker="dead", now=timezone.now())
    later = timezone.now() + services.HEARTBEAT_TIMEOUT + timedelta(seconds=1)
    services.jobs_sweep(now=later)
    for _ in range(services.MAX_ATTEMPTS - 1):
        services.job_claim(queue="cpu", worker="dead", now=timezone.now())
        later += services.HEARTBEAT_TIMEOUT * 2
        services.jobs_sweep(now=later)
    job.refresh_from_db()
    assert job.state == JobState.FAILED and "stopped" in job.message


def test_sweep_leaves_jobs_just_published_alone(
    student, grad_student, assignment, make_bundle, published
):
    make_bundle(assignment)
    submit(student, assignment)
    submit(grad_student, assignment)
    assert services.jobs_sweep(now=timezone.now())["republished"] == 0
    assert published == []


def test_sweep_republishes_queued_jobs_nobody_woke_once(
    student, grad_student, assignment, make_bundle, published
):
    make_bundle(assignment)
    submit(student, assignment)
    submit(grad_student, assignment)
    later = timezone.now() + services.REPUBLISH_AFTER + timedelta(seconds=1)
    assert services.jobs_sweep(now=later)["republished"] == 2
    assert len(published) == 2
    assert services.jobs_sweep(now=later)["republished"] == 0  # not again right away


def test_staff_rerun_a_graded_submission(student, ta, assignment, make_bundle, published):
    make_bundle(assignment)
    sub = submit(student, assignment)
    job = services.job_claim(queue="cpu", worker="w", now=timezone.now())
    services.job_finish(job_id=job.pk, worker="w", score=0, max_score=1, data={"raw": "{}"})
    new = services.job_rerun(enrollment=ta, submission=sub)
    assert new.state == JobState.QUEUED and GradingJob.objects.filter(submission=sub).count() == 2


def test_a_student_cannot_rerun(student, assignment, make_bundle, published):
    make_bundle(assignment)
    sub = submit(student, assignment)
    with pytest.raises(Exception, match="staff"):
        services.job_rerun(enrollment=student, submission=sub)


def test_rerun_latest_reruns_each_owners_counting_submission(
    student, ta, assignment, make_bundle, published
):
    make_bundle(assignment)
    submit(student, assignment)
    submit(student, assignment)
    mate = EnrollmentFactory(section=student.section, role="student")
    submit(mate, assignment)
    assert services.jobs_rerun_latest(enrollment=ta, assignment=assignment) == 2


def test_the_same_bundle_content_is_one_version(assignment, make_bundle):
    first = make_bundle(assignment)
    again = make_bundle(assignment)
    assert first.pk == again.pk


def test_a_new_bundle_version_becomes_the_active_one(assignment, make_bundle):
    first = make_bundle(assignment)
    second = make_bundle(assignment, run_autograder=b"#!/bin/sh\necho changed\n")
    first.refresh_from_db()
    assert second.active and not first.active


def test_a_bundle_without_run_autograder_is_refused(assignment, media):
    with pytest.raises(Exception, match="run_autograder"):
        services._bundle_store(assignment=assignment, data=_zip_without_runner(), source="upload")


def _zip_without_runner() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("setup.sh", "echo")
    return buf.getvalue()


def load_course(folder: Path) -> None:
    call_command("load_course", str(folder / "cs7643-sp21.toml"))


def upload_to_hw1() -> Bundle:
    hw1 = Assignment.objects.get(slug="hw1")
    instructor = EnrollmentFactory(course=hw1.course, section=None, role="instructor")
    return services.bundle_upload(
        enrollment=instructor, assignment=hw1, fileobj=io.BytesIO(bundle_zip(b"#!/bin/sh\n"))
    )


def test_load_course_stores_one_bundle_version_per_assignment(media, capsys):
    load_course(DEMO)
    assert "New autograder versions: ps0" in capsys.readouterr().out
    # Six bundle folders, one per autograded assignment.
    assert Bundle.objects.filter(active=True).count() == 6
    load_course(DEMO)
    assert Bundle.objects.count() == 6  # nothing new the second time


def test_an_upload_survives_a_reload_of_an_unchanged_config(media):
    load_course(DEMO)
    uploaded = upload_to_hw1()
    load_course(DEMO)
    assert services.active_bundle(assignment=uploaded.assignment).pk == uploaded.pk


def test_a_changed_bundle_folder_in_the_config_replaces_an_upload(media, tmp_path):
    load_course(DEMO)
    uploaded = upload_to_hw1()
    copy = tmp_path / "course"
    shutil.copytree(DEMO, copy)
    (copy / "autograders" / "hw1" / "extra.txt").write_text("new")
    load_course(copy)
    assert services.active_bundle(assignment=uploaded.assignment).source == "config"
