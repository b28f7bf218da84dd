"""The autograder in a real browser: a student watches their receipt go from queued to running
to done without reloading it (the page's script polls the status fragment); staff read the
queue page and re-run an assignment; the instructor uploads an autograder on the assignment's
page. The jobs move from Python, through the same services the workers call."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from playwright.sync_api import expect

from grading import services
from grading.models import Bundle, BundleSetup, GradingJob
from submissions.models import Submission
from submissions.services import submission_create
from tests.browser.builders import deep_learning, george, person
from tests.browser.conftest import log_in
from tests.factories import (
    AssignmentFactory,
    EnrollmentFactory,
)
from tests.grading.conftest import bundle_zip

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RESULTS = {
    "output": "Good work. Gradients need another look.",
    "tests": [
        {"name": "forward pass shapes", "number": "1.1", "score": 3, "max_score": 3},
        {
            "name": "backward pass",
            "number": "1.2",
            "score": 2,
            "max_score": 4,
            "output": "test_backward: expected 0.5000, got 0.2500\n  at layer fc2",
        },
        {
            "name": "training converges",
            "number": "2.1",
            "score": 3,
            "max_score": 3,
            "output": "loss 2.31 -> 0.41 in 200 steps",
        },
    ],
}


@pytest.fixture(autouse=True)
def published(no_wakeups: list[int]) -> list[int]:
    return no_wakeups


@pytest.fixture
def dl(transactional_db: Any) -> dict[str, Any]:
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    built = deep_learning()
    course, ug = built.course, built.ug
    hw2 = AssignmentFactory(
        course=course,
        category=built.homework,
        slug="hw2",
        title="HW2",
        position=2,
        release_at=now - timedelta(days=2),
        due_at=now + timedelta(days=3),
    )
    student = george(built)
    mate = person("aturing", "Alan", "Turing", section=ug)
    instructor = person("zkira", "Zsolt", "Kira", course=course, section=None, role="instructor")
    return {
        "course": course,
        "hw2": hw2,
        "student": student,
        "mate": mate,
        "instructor": instructor,
    }


def submit(enrollment: Any, assignment: Any) -> Submission:
    return submission_create(
        enrollment=enrollment,
        assignment=assignment,
        files=[(SimpleUploadedFile("hw2.py", b"def answer():\n    return 42\n"), "hw2.py")],
        received_at=timezone.now(),
    ).submission


def install_bundle(assignment: Any, user: Any = None) -> Bundle:
    return services._bundle_store(
        assignment=assignment,
        data=bundle_zip(extra={"setup.sh": b"pip install numpy\n"}),
        source="upload",
        user=user,
    )


def test_the_receipt_follows_the_job_without_a_reload(page, live_server, dl, shots):
    install_bundle(dl["hw2"])
    submit(dl["mate"], dl["hw2"])  # ahead in the queue
    sub = submit(dl["student"], dl["hw2"])
    log_in(page, "gburdell")
    page.goto(f"/submissions/{sub.pk}/")
    status = page.locator(f"#job-status-{sub.pk}")
    expect(status).to_contain_text("Queued — position 2 in the cpu queue")
    # A marker that a reload would wipe out.
    page.evaluate("() => { window.__notReloaded = true; }")

    # The mate's job is claimed: this one moves up.
    services.job_claim(queue="cpu", worker="gpu-node-3:101", now=timezone.now())
    expect(status).to_contain_text("Queued — position 1 in the cpu queue")
    page.screenshot(path=str(shots / "receipt_queued.png"), full_page=True)

    job = services.job_claim(queue="cpu", worker="gpu-node-3:102", now=timezone.now())
    assert job is not None and job.submission_id == sub.pk
    running = page.locator(f"#job-status-{sub.pk}")
    expect(running).to_contain_text(re.compile(r"Running for \d+s"))
    # The elapsed time ticks up in the page between two polls.
    first = running.locator("[data-elapsed]").text_content()
    page.wait_for_timeout(2500)
    assert running.locator("[data-elapsed]").text_content() != first

    assert services.job_finish(
        job_id=job.pk,
        worker=job.worker,
        score=8,
        max_score=10,
        data={"raw": json.dumps(RESULTS)},
        log_text="ran 3 tests",
    )
    done = page.locator(f"#job-status-{sub.pk}")
    expect(done).to_contain_text("Done — 8 / 10")
    tests = done.locator("table.job-tests")
    expect(tests.get_by_role("row")).to_have_count(4)
    expect(tests.get_by_role("row", name=re.compile("backward pass"))).to_contain_text("Failed")
    expect(tests).to_contain_text("expected 0.5000, got 0.2500")
    expect(done).to_contain_text("Good work. Gradients need another look.")
    expect(done).to_have_attribute("data-poll", "false")
    assert page.evaluate("() => window.__notReloaded === true")
    expect(page.get_by_text("Grading log")).to_have_count(0)  # staff only
    page.screenshot(path=str(shots / "receipt_done.png"), full_page=True)

    # The assignment page shows the latest submission's results too.
    page.get_by_role("link", name="Back to HW2").click()
    expect(page.locator("#autograder-latest")).to_contain_text("Done — 8 / 10")


def test_staff_read_the_queue_and_rerun_an_assignment(page, live_server, dl, shots):
    course, hw2 = dl["course"], dl["hw2"]
    bundle = install_bundle(hw2, dl["instructor"].user)
    others = [EnrollmentFactory(section=dl["student"].section, role="student") for _ in range(4)]
    for enrollment in [dl["student"], dl["mate"], *others]:
        submit(enrollment, hw2)
    done = services.job_claim(queue="cpu", worker="cpu-node-1:7", now=timezone.now())
    assert done is not None
    services.job_finish(
        job_id=done.pk,
        worker=done.worker,
        score=8,
        max_score=10,
        data={"raw": json.dumps(RESULTS)},
    )
    failed = services.job_claim(queue="cpu", worker="cpu-node-1:7", now=timezone.now())
    assert failed is not None
    services.job_fail(
        job_id=failed.pk, worker=failed.worker, message="Timed out.", log_text="killed at 600 s"
    )
    services.job_claim(
        queue="cpu", worker="cpu-node-2:9", now=timezone.now() - timedelta(seconds=75)
    )
    BundleSetup.objects.create(
        bundle=bundle,
        worker="cpu-node-1:7",
        state="done",
        log="+ pip install numpy\nSuccessfully installed numpy-1.26.4",
        finished_at=timezone.now(),
    )
    # The running job's worker beats; the other one has not been heard from for a while.
    GradingJob.objects.filter(worker="cpu-node-2:9").update(heartbeat_at=timezone.now())
    GradingJob.objects.filter(worker="cpu-node-1:7").update(
        heartbeat_at=timezone.now() - timedelta(minutes=5)
    )

    log_in(page, "zkira")
    page.goto(f"/courses/{course.slug}/")
    page.get_by_role("link", name="Grading queue").click()
    expect(page.get_by_role("heading", name="Grading queue", level=1)).to_be_visible()
    expect(page.locator("#counts-cpu")).to_have_text(
        re.compile(r"cpu\s+grading.cpu\s+3\s+1\s+1\s+1\s+0")
    )
    expect(page.locator("table.queued-jobs tbody tr")).to_have_count(3)
    expect(page.locator("table.running-jobs")).to_contain_text("cpu-node-2:9")
    expect(page.locator("table.workers tr.stale")).to_contain_text("cpu-node-1:7")
    expect(page.locator("table.workers tbody tr:not(.stale)")).to_contain_text("cpu-node-2:9")
    page.get_by_text("Build log").first.click()
    expect(page.get_by_text("Successfully installed numpy-1.26.4")).to_be_visible()
    page.screenshot(path=str(shots / "queue.png"), full_page=True)

    before = GradingJob.objects.count()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Re-run all latest submissions").click()
    expect(
        page.get_by_text("Re-running the autograder on 6 latest submissions of HW2.")
    ).to_be_visible()
    assert GradingJob.objects.count() == before + 6


def test_the_instructor_uploads_an_autograder(page, live_server, dl, shots):
    log_in(page, "zkira")
    page.goto("/courses/cs7643-sp21/assignments/hw2/")
    card = page.locator("#autograder")
    expect(card).to_contain_text("No autograder")
    page.get_by_label("Autograder bundle (.zip)").set_input_files(
        {"name": "broken.zip", "mimeType": "application/zip", "buffer": b"not a zip"}
    )
    page.get_by_role("button", name="Upload autograder").click()
    expect(page.get_by_text("The autograder bundle is not a valid zip file.")).to_be_visible()

    page.get_by_label("Autograder bundle (.zip)").set_input_files(
        {
            "name": "hw2-autograder.zip",
            "mimeType": "application/zip",
            "buffer": bundle_zip(extra={"setup.sh": b"pip install numpy\n"}),
        }
    )
    page.get_by_role("button", name="Upload autograder").click()
    bundle = Bundle.objects.get(assignment=dl["hw2"], active=True)
    expect(
        page.get_by_text(f"Autograder version {bundle.sha256[:12]} is now active")
    ).to_be_visible()
    expect(page.locator("#autograder")).to_contain_text("Uploaded by Zsolt Kira (zkira)")
    BundleSetup.objects.create(
        bundle=bundle,
        worker="cpu-node-1:7",
        state="failed",
        log="+ pip install numpy\nERROR: Could not find a version that satisfies numpy",
        finished_at=timezone.now(),
    )
    page.reload()
    page.locator("#autograder").get_by_text("Build log").click()
    expect(page.get_by_text("ERROR: Could not find a version")).to_be_visible()
    page.locator("#autograder").screenshot(path=str(shots / "autograder_card.png"))

    # The build failed: staff retry it from the card, and come back to it.
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#autograder").get_by_role("button", name="Retry the build").click()
    expect(
        page.get_by_text("The autograder's setup will run again on each worker's next job")
    ).to_be_visible()
    expect(page.locator("#autograder")).to_contain_text("Retry requested")
    expect(page.locator("#autograder").get_by_role("button", name="Retry the build")).to_have_count(
        0
    )
    assert page.url.endswith("/assignments/hw2/#autograder")
    assert BundleSetup.objects.get(bundle=bundle).state == "retry"
    page.locator("#autograder").screenshot(path=str(shots / "autograder_card_retry.png"))
