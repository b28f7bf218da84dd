"""The grading pages through Django's test client: a submission's live autograder status in
every state (students and staff each see their own view), the staff queue page with its
counts, claim order and workers, re-runs, the instructor's autograder upload with its setup
logs, and a queue page whose query count does not grow with the number of jobs."""

from __future__ import annotations

import json
import re
import stat
from datetime import UTC, datetime, timedelta
from html import unescape
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import dateformat, timezone

from grading import services
from grading.models import Bundle, BundleSetup, GradingJob, JobState
from submissions.models import Submission
from submissions.services import submission_create
from tests.factories import AssignmentFactory, EnrollmentFactory
from tests.grading.conftest import bundle_zip
from tests.submissions import builders as bundle_builders

pytestmark = pytest.mark.django_db

NEW_YORK = ZoneInfo("America/New_York")

RESULTS = {
    "output": "Nice work on the shapes.",
    "tests": [
        {
            "name": "shapes",
            "number": "1.1",
            "score": 5,
            "max_score": 5,
            "output": "all 12 shapes match",
        },
        {
            "name": "gradients",
            "number": "1.2",
            "score": 2,
            "max_score": 5,
            "output": "expected 0.5, got 0.25 <b>not bold</b>",
            "visibility": "after_published",
        },
    ],
    "leaderboard": [{"name": "accuracy", "value": 0.93}],
}


@pytest.fixture(autouse=True)
def published(monkeypatch: Any, media: Any) -> list[int]:
    """Nothing goes to Redis: wake-ups are only recorded. (Also puts MEDIA_ROOT in tmp.)"""
    sent: list[int] = []
    monkeypatch.setattr(services, "publish", lambda job: sent.append(job.pk))
    return sent


def text_of(response: Any) -> str:
    html = response.content.decode()
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()


def submit(enrollment: Any, assignment: Any) -> Submission:
    return submission_create(
        enrollment=enrollment,
        assignment=assignment,
        files=[(SimpleUploadedFile("a.py", b"x = 1\n"), "a.py")],
        received_at=timezone.now(),
    ).submission


def job_of(submission: Submission) -> GradingJob:
    return GradingJob.objects.filter(submission=submission).order_by("-queued_at", "-pk").first()


def claim(worker: str = "w1", *, ago: float = 0, queue: str = "cpu") -> GradingJob:
    job = services.job_claim(
        queue=queue, worker=worker, now=timezone.now() - timedelta(seconds=ago)
    )
    assert job is not None
    return job


def finish(job: GradingJob, results: dict[str, Any] | None = None, log: str = "") -> None:
    data = results if results is not None else RESULTS
    assert services.job_finish(
        job_id=job.pk,
        worker=job.worker,
        score=7,
        max_score=10,
        data={"raw": json.dumps(data)},
        log_text=log,
    )


def fragment_url(submission: Submission) -> str:
    return f"/submissions/{submission.pk}/autograde/"


def fragment(client: Any, submission: Submission) -> Any:
    r = client.get(fragment_url(submission))
    assert r.status_code == 200
    return r


def queue_url(course: Any) -> str:
    return f"/courses/{course.slug}/grading/"


def page_url(a: Any) -> str:
    return f"/courses/{a.course.slug}/assignments/{a.slug}/"


def local(dt: datetime) -> str:
    return dateformat.format(dt.astimezone(NEW_YORK), "D M j Y, g:i A T")


# --- the job-status fragment in each state ----------------------------------------------------


def test_without_an_autograder_the_fragment_says_not_autograded_and_pages_say_nothing(
    client, student, assignment
):
    sub = submit(student, assignment)
    client.force_login(student.user)
    r = fragment(client, sub)
    assert "Not autograded" in text_of(r)
    assert 'data-poll="false"' in r.content.decode()
    assert r["Cache-Control"].startswith("max-age=0")
    receipt = client.get(f"/submissions/{sub.pk}/")
    assert "data-job-status" not in receipt.content.decode()
    assert "portal/jobstatus.js" not in receipt.content.decode()


def test_queued_shows_the_position_in_its_queue_and_polls(
    client, student, grad_student, assignment, make_bundle
):
    make_bundle(assignment)
    first = submit(grad_student, assignment)
    mine = submit(student, assignment)
    client.force_login(student.user)
    r = fragment(client, mine)
    html = r.content.decode()
    assert "Queued — position 2 in the cpu queue" in text_of(r)
    assert "No estimate yet" in text_of(r)
    assert 'data-poll="true"' in html and 'data-status="queued"' in html
    assert f'data-url="/submissions/{mine.pk}/autograde/"' in html
    # The one ahead is claimed: this one is next.
    claim()
    assert "Queued — position 1 in the cpu queue" in text_of(fragment(client, mine))
    client.force_login(grad_student.user)
    assert "Running for" in text_of(fragment(client, first))


def test_gpu_work_waits_in_the_gpu_queue(client, student, assignment, make_bundle):
    assignment.autograder_queue = "gpu"
    assignment.save()
    make_bundle(assignment)
    sub = submit(student, assignment)
    client.force_login(student.user)
    assert "Queued — position 1 in the gpu queue" in text_of(fragment(client, sub))


def test_the_estimate_is_the_average_duration_times_position_over_workers(
    client, student, grad_student, ta, course, sections, assignment, make_bundle
):
    make_bundle(assignment)
    others = [EnrollmentFactory(section=sections["CS4803"], role="student") for _ in range(2)]
    # Two done jobs of four minutes each, by one worker seen just now.
    for enrollment in others:
        submit(enrollment, assignment)
        finish(claim("w1", ago=240))
    ahead = submit(grad_student, assignment)
    mine = submit(student, assignment)
    client.force_login(student.user)
    # Position 2 of 2 (index 1): 4 minutes x 2 / 1 worker.
    assert "Results in about 8 minutes." in text_of(fragment(client, mine))
    # A second worker seen lately halves it; the one ahead starts running: 4 x 1 / 2.
    claim("w2")
    assert "Queued — position 1 in the cpu queue" in text_of(fragment(client, mine))
    assert "Results in about 2 minutes." in text_of(fragment(client, mine))
    # Workers not seen for more than two minutes do not count.
    GradingJob.objects.update(heartbeat_at=timezone.now() - timedelta(minutes=3))
    assert "Results in about 4 minutes." in text_of(fragment(client, mine))
    assert ahead.pk != mine.pk


def test_late_ps0_is_held_until_registration_ends(client, course, homework, student, make_bundle):
    ends = (timezone.now() + timedelta(days=1)).replace(second=0, microsecond=0)
    course.registration_ends = ends
    course.save()
    ps0 = AssignmentFactory(
        course=course,
        category=homework,
        slug="ps0",
        release_at=timezone.now() - timedelta(days=3),
        due_at=timezone.now() - timedelta(days=1),
        grace_days=0,
        after_grace="accept_late",
    )
    make_bundle(ps0)
    sub = submit(student, ps0)
    client.force_login(student.user)
    r = fragment(client, sub)
    text = text_of(r)
    assert f"Held until registration ends ({local(ends)})" in text
    assert "position" not in text
    assert "Late PS0 work is graded after registration ends." in text
    # Still watched, but only once a minute.
    assert 'data-poll="true" data-poll-ms="60000"' in r.content.decode()


def test_running_shows_the_elapsed_time_for_the_script_to_tick(
    client, student, assignment, make_bundle
):
    make_bundle(assignment)
    sub = submit(student, assignment)
    claim("w1", ago=42)
    client.force_login(student.user)
    r = fragment(client, sub)
    assert re.search(r"Running for (42|43)s", text_of(r))
    html = r.content.decode()
    assert re.search(r'data-elapsed="(42|43)"', html) and 'data-poll="true"' in html
    assert "w1" not in text_of(r)  # the worker is for staff


def test_done_student_view_hides_what_is_not_visible_until_grades_are_released(
    client, student, assignment, make_bundle
):
    make_bundle(assignment)
    sub = submit(student, assignment)
    finish(claim(), log="secret grader log")
    client.force_login(student.user)
    r = fragment(client, sub)
    text, html = text_of(r), r.content.decode()
    assert 'data-poll="false"' in html and 'data-status="done"' in html
    assert "Done — Score hidden until grades are released" in text
    assert "shapes 1.1 5 / 5 Passed all 12 shapes match" in text
    assert '<pre class="test-output">all 12 shapes match</pre>' in html
    assert "gradients" not in text and "expected 0.5" not in text
    assert "1 more test is not shown yet" in text
    assert "Nice work on the shapes." in text
    assert "accuracy 0.93" in text
    assert "secret grader log" not in text and "Grading log" not in text

    assignment.grades_released_at = timezone.now() - timedelta(minutes=1)
    assignment.save()
    r = fragment(client, sub)
    text, html = text_of(r), r.content.decode()
    assert "Done — 7 / 10" in text
    assert "gradients 1.2 2 / 5 Failed expected 0.5, got 0.25 <b>not bold</b>" in text
    assert "&lt;b&gt;not bold&lt;/b&gt;" in html  # output is text, never HTML
    assert "not shown yet" not in text


def test_done_staff_view_shows_everything_and_the_log(client, ta, student, assignment, make_bundle):
    make_bundle(assignment)
    sub = submit(student, assignment)
    finish(claim("gpu-host:17"), log="secret grader log")
    client.force_login(ta.user)
    r = fragment(client, sub)
    text, html = text_of(r), r.content.decode()
    assert "Done — 7 / 10" in text
    assert "gradients" in text and "after_published" in text
    assert "worker gpu-host:17, attempt 1" in text
    assert re.search(
        r"<details class=\"job-log\"><summary>Grading log \(staff only\)</summary>", html
    )
    assert "secret grader log" in text


def test_failed_gives_students_the_reason_and_staff_the_log(
    client, student, instructor, assignment, make_bundle
):
    make_bundle(assignment)
    sub = submit(student, assignment)
    job = claim("w9")
    services.job_fail(
        job_id=job.pk,
        worker="w9",
        message="Your code used more than 768 MB of memory.",
        log_text="Killed (OOM) in test_gradients",
    )
    client.force_login(student.user)
    r = fragment(client, sub)
    text = text_of(r)
    assert "Failed — Your code used more than 768 MB of memory." in text
    assert "OOM" not in text and "attempt" not in text
    assert 'data-poll="false"' in r.content.decode()
    client.force_login(instructor.user)
    text = text_of(fragment(client, sub))
    assert "Staff: 1 attempt, last on worker w9." in text
    assert "Grading log (staff only) Killed (OOM) in test_gradients" in text


def test_a_superseded_job_says_so(client, student, assignment, make_bundle):
    make_bundle(assignment)
    first = submit(student, assignment)
    second = submit(student, assignment)
    client.force_login(student.user)
    assert "Not autograded — A newer submission replaced it." in text_of(fragment(client, first))
    assert "Queued — position 1" in text_of(fragment(client, second))


def test_the_fragment_is_404_for_anyone_who_may_not_see_the_submission(
    client, student, grad_student, course, assignment, make_bundle
):
    make_bundle(assignment)
    sub = submit(student, assignment)
    client.force_login(grad_student.user)
    assert client.get(fragment_url(sub)).status_code == 404
    outsider = EnrollmentFactory(role="student")  # another course
    client.force_login(outsider.user)
    assert client.get(fragment_url(sub)).status_code == 404
    assert client.get("/submissions/999999/autograde/").status_code == 404
    client.logout()
    assert client.get(fragment_url(sub)).status_code == 302


# --- the receipt and the assignment page ---------------------------------------------------


def test_the_receipt_shows_the_status_and_loads_the_poller(
    client, student, assignment, make_bundle
):
    make_bundle(assignment)
    sub = submit(student, assignment)
    client.force_login(student.user)
    r = client.get(f"/submissions/{sub.pk}/")
    html, text = r.content.decode(), text_of(r)
    assert "Autograder Queued — position 1 in the cpu queue" in text
    assert f'id="job-status-{sub.pk}"' in html and "portal/jobstatus.js" in html
    assert "Re-run autograder" not in text  # staff only


def test_the_assignment_page_shows_the_latest_submissions_status(
    client, student, assignment, make_bundle
):
    make_bundle(assignment)
    first = submit(student, assignment)
    latest = submit(student, assignment)
    client.force_login(student.user)
    r = client.get(page_url(assignment))
    html = r.content.decode()
    assert f'id="job-status-{latest.pk}"' in html
    assert f'id="job-status-{first.pk}"' not in html
    assert "Autograder · submission #2 Queued — position 1 in the cpu queue" in text_of(r)
    assert "portal/jobstatus.js" in html
    # No card for students.
    assert "Upload autograder" not in html and 'id="autograder"' not in html


# --- re-running -------------------------------------------------------------------------------


def test_staff_rerun_one_submission_from_the_receipt(
    client, student, ta, assignment, make_bundle, published
):
    make_bundle(assignment)
    sub = submit(student, assignment)
    finish(claim())
    url = f"/submissions/{sub.pk}/autograde/rerun/"
    client.force_login(student.user)
    assert "Re-run autograder" not in text_of(client.get(f"/submissions/{sub.pk}/"))
    assert client.post(url).status_code == 403
    assert GradingJob.objects.filter(submission=sub).count() == 1

    client.force_login(ta.user)
    r = client.get(f"/submissions/{sub.pk}/")
    assert re.search(
        rf'<form method="post" action="{url}" class="rerun-form">.*Re-run autograder</button>',
        r.content.decode(),
        re.S,
    )
    r = client.post(url, follow=True)
    assert r.redirect_chain == [(f"/submissions/{sub.pk}/", 302)]
    assert "Submission #1 is queued for the autograder again." in text_of(r)
    assert "Autograder Queued — position 1 in the cpu queue" in text_of(r)
    assert GradingJob.objects.filter(submission=sub).count() == 2
    assert client.get(url).status_code == 405


def test_rerun_without_an_autograder_says_why(client, student, ta, assignment):
    sub = submit(student, assignment)
    client.force_login(ta.user)
    r = client.post(f"/submissions/{sub.pk}/autograde/rerun/", follow=True)
    assert "This assignment has no autograder to run." in text_of(r)
    assert not GradingJob.objects.exists()


def test_rerun_all_latest_submissions_of_an_assignment(
    client, student, grad_student, ta, course, assignment, make_bundle
):
    make_bundle(assignment)
    submit(student, assignment)
    latest = submit(student, assignment)
    other = submit(grad_student, assignment)
    url = f"/courses/{course.slug}/assignments/{assignment.slug}/autograder/rerun/"
    client.force_login(student.user)
    assert client.post(url).status_code == 404
    client.force_login(ta.user)
    page = client.get(queue_url(course))
    assert re.search(
        rf'action="{url}"[^>]*data-confirm="Re-run the autograder.*Re-run all latest submissions</button>',
        page.content.decode(),
        re.S,
    )
    before = GradingJob.objects.count()
    r = client.post(url, follow=True)
    assert r.redirect_chain == [(queue_url(course), 302)]
    assert "Re-running the autograder on 2 latest submissions of HW1." in text_of(r)
    assert GradingJob.objects.count() == before + 2
    new = GradingJob.objects.order_by("-pk")[:2]
    assert {j.submission_id for j in new} == {latest.pk, other.pk}


# --- the staff queue page -------------------------------------------------------------------


def rows_of(html: str, table: str) -> list[str]:
    body = re.search(rf'<table class="data {table}">.*?<tbody>(.*?)</tbody>', html, re.S)
    assert body, table
    return [
        re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", row))).strip()
        for row in re.findall(r"<tr\b.*?</tr>", body.group(1), re.S)
    ]


def test_the_queue_page_is_for_staff_only(client, course, student, ta, instructor):
    client.force_login(student.user)
    assert client.get(queue_url(course)).status_code == 404
    for who in (ta, instructor):
        client.force_login(who.user)
        r = client.get(queue_url(course))
        assert r.status_code == 200
        assert "Grading queue" in text_of(r)
    outsider = EnrollmentFactory(role="ta")
    client.force_login(outsider.user)
    assert client.get(queue_url(course)).status_code == 404


def test_the_course_page_and_staff_list_link_to_the_queue(client, course, student, ta, assignment):
    client.force_login(ta.user)
    link = f'href="{queue_url(course)}"'
    assert link in client.get(f"/courses/{course.slug}/").content.decode()
    staff_list = f"/courses/{course.slug}/assignments/{assignment.slug}/submissions/"
    assert link in client.get(staff_list).content.decode()
    client.force_login(student.user)
    assert link not in client.get(f"/courses/{course.slug}/").content.decode()


def test_the_queue_page_counts_and_lists_in_claim_order(
    client, course, homework, sections, student, grad_student, ta, assignment, make_bundle
):
    make_bundle(assignment)
    third = EnrollmentFactory(section=sections["CS4803"], role="student")
    fourth = EnrollmentFactory(section=sections["CS7643"], role="student")
    # The student's first is graded; their second (rank 2) waits behind others' firsts.
    submit(student, assignment)
    finish(claim("w1", ago=60))
    second = submit(student, assignment)
    submit(grad_student, assignment)
    submit(third, assignment)
    # fourth: superseded, then running.
    submit(fourth, assignment)
    submit(fourth, assignment)
    running = services.job_claim(queue="cpu", worker="w2", now=timezone.now())
    assert running is not None and running.submission.student_id == grad_student.user_id
    # A failed one on the gpu queue, and late PS0 work held until registration ends.
    gpu = AssignmentFactory(course=course, category=homework, slug="gpu1", title="GPU1")
    gpu.autograder_queue = "gpu"
    gpu.save()
    make_bundle(gpu)
    submit(third, gpu)
    job = claim("gpu-a", queue="gpu")
    services.job_fail(job_id=job.pk, worker="gpu-a", message="m", log_text="l")
    course.registration_ends = timezone.now() + timedelta(days=1)
    course.save()
    ps0 = AssignmentFactory(
        course=course,
        category=homework,
        slug="ps0",
        title="PS0",
        release_at=timezone.now() - timedelta(days=3),
        due_at=timezone.now() - timedelta(days=1),
        grace_days=0,
        after_grace="accept_late",
    )
    make_bundle(ps0)
    held = submit(grad_student, ps0)
    assert held.grade_after is not None
    # Another course's job in the same queue goes first: positions count it.
    other = AssignmentFactory(slug="elsewhere")
    make_bundle(other)
    stranger = EnrollmentFactory(section__course=other.course, role="student")
    GradingJob.objects.filter(state=JobState.QUEUED).update(
        queued_at=timezone.now() - timedelta(minutes=1)
    )
    submit(stranger, other)
    GradingJob.objects.filter(submission__course=other.course).update(
        queued_at=timezone.now() - timedelta(hours=1)
    )
    # An old heartbeat: that worker is stale.
    GradingJob.objects.filter(worker="gpu-a").update(
        heartbeat_at=timezone.now() - timedelta(minutes=10)
    )
    BundleSetup.objects.create(
        bundle=Bundle.objects.get(assignment=assignment, active=True),
        worker="w1",
        state="done",
        log="pip install numpy\nSuccessfully installed numpy",
        finished_at=timezone.now(),
    )

    client.force_login(ta.user)
    r = client.get(queue_url(course))
    html, text = r.content.decode(), text_of(r)
    counts = rows_of(html, "compact queue-counts")
    # queued: the student's second, third's, fourth's second, the held PS0; superseded:
    # fourth's first.
    assert counts == ["cpu grading.cpu 4 1 1 0 1", "gpu grading.gpu 0 0 0 1 0"]
    waiting = rows_of(html, "queued-jobs")
    assert [re.sub(r" (Mon|Tue|Wed|Thu|Fri|Sat|Sun) .*", "", w) for w in waiting] == [
        f"2 #1 {third.user.username} HW1",
        f"3 #2 {student.user.username} HW1",
        f"4 #2 {fourth.user.username} HW1",
        f"held #1 {grad_student.user.username} PS0",
    ]
    assert local(course.registration_ends) in waiting[3]
    running_rows = rows_of(html, "running-jobs")
    assert len(running_rows) == 1
    assert f"#1 {grad_student.user.username} HW1 w2 1" in running_rows[0]
    assert re.search(r"\d+s$", running_rows[0])
    workers = rows_of(html, "compact workers")
    assert any(w.startswith("gpu-a gpu") and w.endswith("stale") for w in workers)
    assert any(w.startswith("w2 cpu") and w.endswith("beating") for w in workers)
    assert "Re-run all latest submissions" in text
    assert [a.slug for a in r.context["assignments"]] == ["ps0", "hw1", "gpu1"]
    setups = rows_of(html, "setups")
    assert setups[0].startswith("HW1") and "w1 Done" in setups[0]
    assert "Successfully installed numpy" in setups[0]
    assert "Build log" in text
    assert second.pk


def _bulk_jobs(assignment: Any, n: int, prefix: str) -> None:
    users = get_user_model().objects.bulk_create(
        get_user_model()(username=f"{prefix}{i}") for i in range(n)
    )
    now = timezone.now()
    subs = Submission.objects.bulk_create(
        Submission(
            course=assignment.course,
            assignment=assignment,
            student=u,
            number=1,
            submitted_at=now,
            timing="on_time",
            due_at=assignment.due_at,
            grace_ends_at=assignment.due_at,
        )
        for u in users
    )
    for s in subs:
        services.job_enqueue(submission=s, now=now)


def test_queue_page_query_count_does_not_grow(
    client, course, homework, ta, assignment, make_bundle
):
    make_bundle(assignment)
    gpu = AssignmentFactory(course=course, category=homework, slug="gpu1", title="GPU1")
    gpu.autograder_queue = "gpu"
    gpu.save()
    make_bundle(gpu)

    def queries() -> tuple[int, Any]:
        client.force_login(ta.user)
        with CaptureQueriesContext(connection) as ctx:
            r = client.get(queue_url(course))
        assert r.status_code == 200
        return len(ctx.captured_queries), r

    _bulk_jobs(assignment, 6, "a")
    _bulk_jobs(gpu, 4, "b")
    finish(claim("w1"))
    claim("w2")
    claim("g1", queue="gpu")
    few, r_few = queries()
    assert GradingJob.objects.count() == 10
    assert len(r_few.context["queues"][0]["queued"]) == 4
    _bulk_jobs(assignment, 120, "c")
    _bulk_jobs(gpu, 70, "d")
    for worker in ("w3", "w4", "w5"):
        finish(claim(worker))
    claim("g2", queue="gpu")
    many, r_many = queries()
    assert GradingJob.objects.count() == 200
    assert few == many
    assert len(r_many.context["queues"][0]["queued"]) == 50
    assert "Showing the first 50 of 121 waiting jobs." in text_of(r_many)


# --- the instructor's autograder upload -------------------------------------------------------


def upload_url(a: Any) -> str:
    return f"/courses/{a.course.slug}/assignments/{a.slug}/autograder/"


def a_zip(data: bytes, name: str = "autograder.zip") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/zip")


def test_the_instructor_uploads_an_autograder_and_sees_it_active(client, instructor, assignment):
    client.force_login(instructor.user)
    r = client.get(page_url(assignment))
    html, text = r.content.decode(), text_of(r)
    assert '<label for="id_bundle">Autograder bundle (.zip)</label>' in html
    assert re.search(r'<button type="submit" class="button button-primary">Upload autograder', html)
    assert "No autograder: submissions of HW1 are not graded automatically." in text

    data = bundle_zip(extra={"setup.sh": b"pip install numpy\n"})
    r = client.post(upload_url(assignment), {"bundle": a_zip(data)}, follow=True)
    assert r.redirect_chain == [(page_url(assignment) + "#autograder", 302)]
    bundle = Bundle.objects.get(assignment=assignment, active=True)
    assert bundle.source == "upload" and bundle.uploaded_by_id == instructor.user_id
    text = text_of(r)
    assert f"Autograder version {bundle.sha256[:12]} is now active for HW1." in text
    assert f"Active version {bundle.sha256[:12]}" in text
    assert f"Uploaded by {instructor.user.get_full_name()} ({instructor.user.username})" in text
    assert "No worker has set up this version yet" in text

    # setup.sh's output per worker, on the card.
    BundleSetup.objects.create(bundle=bundle, worker="cpu-1:42", state="failed", log="E: no pip")
    r = client.get(page_url(assignment))
    setups = rows_of(r.content.decode(), "setups")
    assert setups[0].startswith("cpu-1:42 Failed") and "E: no pip" in setups[0]


def test_a_bad_bundle_is_refused_with_its_message(client, instructor, assignment):
    client.force_login(instructor.user)
    bad = bundle_zip()
    bad_zip = re.sub(rb"run_autograder", b"run_autograded", bad)
    r = client.post(upload_url(assignment), {"bundle": a_zip(bad_zip)}, follow=True)
    assert "The bundle needs run_autograder at its top level" in text_of(r)
    r = client.post(upload_url(assignment), {"bundle": a_zip(b"not a zip")}, follow=True)
    assert "The autograder bundle is not a valid zip file." in text_of(r)
    r = client.post(upload_url(assignment), {}, follow=True)
    assert "Choose the autograder zip to upload." in text_of(r)
    assert not Bundle.objects.exists()


def test_tas_see_the_card_read_only_and_cannot_upload(client, ta, student, assignment, make_bundle):
    make_bundle(assignment)
    client.force_login(ta.user)
    r = client.get(page_url(assignment))
    text = text_of(r)
    assert "Autograder Active version" in text
    assert "Only the instructor uploads autograders." in text
    assert "Upload autograder" not in text and 'name="bundle"' not in r.content.decode()
    r = client.post(upload_url(assignment), {"bundle": a_zip(bundle_zip(b"#!/bin/sh\n"))})
    assert r.status_code == 403
    client.force_login(student.user)
    r = client.post(upload_url(assignment), {"bundle": a_zip(bundle_zip(b"#!/bin/sh\n"))})
    assert r.status_code == 404
    assert Bundle.objects.count() == 1


def test_the_staff_list_shows_each_submissions_autograder_state(
    client, ta, student, assignment, make_bundle
):
    make_bundle(assignment)
    sub = submit(student, assignment)
    finish(claim())
    client.force_login(ta.user)
    r = client.get(f"/courses/{assignment.course.slug}/assignments/{assignment.slug}/submissions/")
    row = re.search(rf'<tr id="submission-{sub.pk}">.*?</tr>', r.content.decode(), re.S)
    assert row and "Done</span> 7 / 10" in row.group(0)


def test_a_result_that_no_longer_parses_shows_as_failed(
    client, student, ta, assignment, make_bundle
):
    make_bundle(assignment)
    sub = submit(student, assignment)
    job = claim()
    assert services.job_finish(
        job_id=job.pk, worker=job.worker, score=1, max_score=1, data={"raw": "{}"}
    )
    client.force_login(student.user)
    assert "Failed — The autograder did not produce a valid results file" in text_of(
        fragment(client, sub)
    )
    client.force_login(ta.user)
    assert "results.json has no score" in text_of(fragment(client, sub))


def test_times_are_aware(student, assignment, make_bundle):
    """The fragment's context carries aware datetimes only (the house rule)."""
    from grading.selectors import job_status

    make_bundle(assignment)
    sub = submit(student, assignment)
    claim()
    sub = Submission.objects.prefetch_related("jobs").get(pk=sub.pk)
    st = job_status(sub, staff=True, now=datetime.now(UTC))
    assert st["status"] == "running" and st["elapsed_s"] >= 0


@pytest.mark.parametrize(
    ("entry", "says"),
    [
        ((bundle_builders.zinfo("link", stat.S_IFLNK | 0o777), b"/etc/passwd"), "link"),
        (("../escape.sh", b"echo"), "leaves the archive"),
        (("tests\\test_hw.py", b"x"), "\\"),
    ],
    ids=["symlink", "dot-dot", "backslash"],
)
def test_a_bundle_goes_through_the_submissions_archive_checks(
    api_client, instructor, assignment, entry, says
):
    """Bundles use the one archive checker (submissions.archives) with their own limits."""
    api_client.force_authenticate(instructor.user)
    data = bundle_builders.make_bundle(entry)
    r = api_client.post(
        f"/api/v1/courses/{assignment.course.slug}/assignments/{assignment.slug}/autograder/",
        {"bundle": a_zip(data)},
        format="multipart",
    )
    assert r.status_code == 400, r.content
    assert r.json()["error"]["code"] == "invalid_file"
    assert says in r.json()["error"]["message"]
    assert not Bundle.objects.exists()


def test_the_hidden_tests_note_speaks_of_the_due_date_only_while_it_is_ahead(
    client, student, assignment, make_bundle
):
    make_bundle(assignment)
    sub = submit(student, assignment)
    finish(claim())
    client.force_login(student.user)
    assert sub.grace_ends_at > timezone.now()
    ahead = text_of(fragment(client, sub))
    assert "some tests show only after the due date or once grades are released" in ahead
    Submission.objects.filter(pk=sub.pk).update(grace_ends_at=timezone.now() - timedelta(hours=1))
    past = text_of(fragment(client, sub))
    assert "1 more test is not shown yet: they show once grades are released" in past
    assert "after the due date" not in past
