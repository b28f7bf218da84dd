"""Every page passes axe-core's WCAG 2.1 A and AA rules, as each kind of person sees it, on a
desktop window and at a phone's width (390 px). axe-core is the npm package that bin/bootstrap
installs into node_modules; it is run in each page as it is."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from courses.services import changes_record
from grading import services as grading_services
from grading import tasks as grading_tasks
from grading.models import BundleSetup, SimilarityCheck
from grading.services.rubrics import AnnotationInput, QuestionEvaluation
from submissions.services import submission_create
from tests.browser.builders import deep_learning, george, person
from tests.browser.conftest import log_in
from tests.factories import (
    AssignmentFactory,
    CategoryFactory,
    QuestionFactory,
    SectionFactory,
    UserFactory,
)
from tests.grading.conftest import bundle_zip
from tests.grading.similarity_sources import INDEPENDENT, ORIGINAL, RENAMED
from tests.grading.test_notebook_view import PDF, analysis, png

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
WIDTHS = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}


@pytest.fixture
def course(transactional_db: Any, no_wakeups: list[int]) -> dict[str, Any]:
    """A course with a graded, released assignment (its receipt with rubric items, a comment
    and an annotation, a notebook, a PDF and an image), a regrade request, a group assignment, an extension and an
    autograder: every page has something to show."""
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    built = deep_learning(
        links=[
            {"name": "website", "url": "https://example.edu/cs7643", "note": ""},
            {"name": "forum", "url": "https://example.edu/forum", "note": "access code DL2021"},
        ]
    )
    SectionFactory(course=built.course, code="CS7643", level="graduate", capacity=150)
    CategoryFactory(course=built.course, slug="participation", weight=Decimal(3), bonus=True)
    hw1 = AssignmentFactory(
        course=built.course,
        category=built.homework,
        slug="hw1",
        title="HW1",
        position=1,
        release_at=now - timedelta(days=20),
        due_at=now + timedelta(days=2),
        points=Decimal(20),
    )
    QuestionFactory(assignment=hw1, slug="q1", points=Decimal(10), position=1)
    QuestionFactory(assignment=hw1, slug="q2", points=Decimal(10), position=2)
    project_cat = CategoryFactory(course=built.course, slug="project", weight=Decimal(20))
    AssignmentFactory(
        course=built.course,
        category=project_cat,
        slug="project",
        title="Final project",
        position=2,
        group=True,
        group_min=3,
        group_max=4,
        due_at=now + timedelta(days=40),
    )
    student = george(built)
    ta = person("tahelper", "Tara", "Helper", section=built.ug, role="ta")
    instructor = person(
        "zkira", "Zsolt", "Kira", course=built.course, section=None, role="instructor"
    )
    grading_services._bundle_store(assignment=hw1, data=bundle_zip(), source="upload")
    submission = submission_create(
        enrollment=student,
        assignment=hw1,
        files=[
            (SimpleUploadedFile("hw1.py", b"print('hi')\n"), "hw1.py"),
            # A notebook, a PDF and an image: the receipt and the grading view show them.
            (SimpleUploadedFile("analysis.ipynb", analysis().encode()), "analysis.ipynb"),
            (SimpleUploadedFile("report.pdf", PDF), "report.pdf"),
            (SimpleUploadedFile("plot.png", png()), "plot.png"),
        ],
        received_at=timezone.now(),
    ).submission
    job = grading_services.job_claim(queue="cpu", worker="w", now=timezone.now())
    assert job is not None
    raw = json.dumps(
        {
            "tests": [{"name": "q1 shapes", "score": 8, "max_score": 10}],
            "stdout_visibility": "visible",
        }
    )
    grading_services.job_finish(
        job_id=job.pk,
        worker="w",
        score=8,
        max_score=10,
        data={"raw": raw, "stdout": "Running 1 test...\nq1 shapes: 8/10\n"},
    )
    # The autograder's builds: one failed (with its retry button), one done.
    bundle = job.bundle
    for worker, state in (("cpu-node-1", "failed"), ("cpu-node-2", "done")):
        BundleSetup.objects.create(
            bundle=bundle,
            worker=worker,
            state=state,
            engine="podman",
            artifact="localhost/portal-bundle:0123456789abcdef0123456789abcdef",
            log="$ apt-get install -y bc\nE: Unable to locate package bc"
            if state == "failed"
            else "ok",
            finished_at=timezone.now(),
        )
    grading_services.grade_set(
        by=instructor, assignment=hw1, student=student.user, question="q2", points=Decimal(7)
    )
    # The receipt's feedback: a rubric item applied, an adjustment, a comment, an annotation.
    item = grading_services.rubric_item_create(
        by=instructor, assignment=hw1, question="q1", description="Missing bias", points=Decimal(-2)
    )
    grading_services.evaluation_set(
        by=instructor,
        submission=submission,
        questions={
            "q1": QuestionEvaluation(
                rubric_items=[item.pk], adjustment=Decimal(1), comment="Check the shapes."
            )
        },
        annotations=[AnnotationInput(file="hw1.py", line=1, text="Print the shape too.")],
    )
    grading_services.grades_release(enrollment=instructor, assignment=hw1, now=timezone.now())
    grading_services.regrade_request_create(
        enrollment=student,
        submission=submission,
        question="q2",
        message="Please look at q2 again.",
        now=timezone.now(),
    )
    # A request resolved through the rubric: the receipt says what changed.
    answered = grading_services.regrade_request_create(
        enrollment=student,
        submission=submission,
        question="q1",
        message="The bias is there.",
        now=timezone.now(),
    )
    grading_services.regrade_request_resolve(
        enrollment=ta,
        request_id=answered.pk,
        response="Right, removed the deduction.",
        questions={"q1": QuestionEvaluation(rubric_items=[item.pk], adjustment=Decimal(2))},
        now=timezone.now(),
    )
    # A similarity check of HW1, done: a disguised copy, an independent solution.
    for name, text in (("ada", ORIGINAL), ("bob", RENAMED), ("cy", INDEPENDENT)):
        submission_create(
            enrollment=person(name, name.title(), "Student", section=built.ug),
            assignment=hw1,
            files=[(SimpleUploadedFile("matrix.py", text.encode()), "matrix.py")],
            collaborators=["ada"] if name == "bob" else [],
            received_at=timezone.now(),
        )
    check = SimilarityCheck.objects.create(
        assignment=hw1, created_at=timezone.now(), requested_by=instructor.user
    )
    assert grading_tasks.similarity_check(check.pk) == "done"
    # The change log has a row to show (the settings page writes these).
    changes_record(
        course=built.course,
        by_id=instructor.user_id,
        at=timezone.now(),
        items=[("assignment hw1", "due_at", hw1.due_at, hw1.due_at + timedelta(days=1))],
    )
    return {
        "slug": built.course.slug,
        "submission": submission.pk,
        "pair": check.pairs.first().pk,
        "student": student,
        "ta": ta,
        "instructor": instructor,
    }


def _pages(c: dict[str, Any]) -> dict[str, list[str]]:
    course = f"/courses/{c['slug']}"
    common = [
        "/",
        f"{course}/",
        f"{course}/assignments/",
        f"{course}/assignments/hw1/",
        f"/submissions/{c['submission']}/",
        f"{course}/groups/",
        f"{course}/extensions/",
        f"{course}/grades/",
        "/accounts/profile/",
    ]
    staff = [
        f"{course}/assignments/hw1/submissions/",
        f"{course}/grading/",
        f"{course}/regrades/",
        f"{course}/gradebook/",
        f"{course}/gradebook/?sort=final_percent&order=desc&expand=hw1&level=undergraduate",
        f"{course}/assignments/hw1/grade/",
        f"{course}/assignments/hw1/graders/",
        f"{course}/assignments/hw1/statistics/",
        f"{course}/readiness/",
        f"{course}/assignments/hw1/grade/{c['submission']}/",
        f"{course}/assignments/hw1/similarity/",
        f"{course}/assignments/hw1/similarity/{c['pair']}/",
    ]
    staff.append(f"{course}/changes/")
    instructor = [f"{course}/settings/"]
    return {
        "gburdell": common,
        "tahelper": common + staff,
        "zkira": common + staff + instructor,
    }


@cache
def _axe_source() -> str:
    return AXE.read_text()


def _violations(page: Any) -> list[str]:
    # Evaluated through the DevTools protocol, not added as a <script>: the page's
    # Content-Security-Policy refuses inline scripts, rightly.
    page.evaluate(_axe_source())
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_21_AA
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + ", ".join(" ".join(n["target"]) for n in v["nodes"][:3])
        for v in result["violations"]
    ]


@pytest.mark.parametrize("width", sorted(WIDTHS))
def test_every_page_passes_axe_wcag21_aa(
    chromium: Any, live_server: Any, course: Any, width: str
) -> None:
    assert AXE.exists(), "axe-core is missing: bin/bootstrap installs it (npm ci)"
    found: dict[str, list[str]] = {}
    for username, paths in _pages(course).items():
        context = chromium.new_context(base_url=live_server.url, viewport=WIDTHS[width])
        page = context.new_page()
        try:
            log_in(page, username)
            for path in paths:
                response = page.goto(path)
                assert response is not None and response.status == 200, (path, username)
                if violations := _violations(page):
                    found[f"{username} {path}"] = violations
        finally:
            context.close()
    anonymous = chromium.new_context(base_url=live_server.url, viewport=WIDTHS[width])
    login_page = anonymous.new_page()
    for path in _anonymous_pages(course):
        response = login_page.goto(path)
        assert response is not None and response.status == 200, path
        if violations := _violations(login_page):
            found[path] = violations
    anonymous.close()
    assert not found, json.dumps(found, indent=1)


def _anonymous_pages(c: dict[str, Any]) -> list[str]:
    """The pages of someone not logged in: logging in and choosing a password (by "Forgot
    your password?" or a roster invitation; a link that works and one that does not)."""
    user = UserFactory(username="newcomer")
    user.set_unusable_password()
    user.save()
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    return [
        "/accounts/login/",
        "/accounts/password_reset/",
        "/accounts/password_reset/done/",
        f"/accounts/reset/{uid}/{token}/",
        f"/accounts/reset/{uid}/not-a-token/",
        f"/accounts/invitation/{c['slug']}/{uid}/{token}/",
        "/accounts/reset/done/",
    ]


def test_a_wide_table_says_it_scrolls_at_a_phones_width(
    chromium: Any, live_server: Any, course: Any
) -> None:
    seen = {}
    for width in ("phone", "desktop"):
        context = chromium.new_context(base_url=live_server.url, viewport=WIDTHS[width])
        page = context.new_page()
        log_in(page, "gburdell")
        page.goto(f"/courses/{course['slug']}/assignments/")
        hint = page.locator(".scroll-hint").first
        seen[width] = hint.is_visible()
        if width == "phone":
            wrap = page.locator(".table-wrap").first
            assert wrap.evaluate("w => w.scrollWidth > w.clientWidth")
            wrap.evaluate("w => { w.scrollLeft = w.scrollWidth; }")
            assert wrap.evaluate("w => w.scrollLeft") > 0  # every column can be reached
        context.close()
    assert seen == {"phone": True, "desktop": False}


def test_the_receipt_axe_checks_shows_the_feedback(
    chromium: Any, live_server: Any, course: Any, shots: Any
) -> None:
    """The receipt the axe test visits carries the released feedback: the rubric item, the
    comment, and the code with its annotated line; and the autograder's output, which its
    results make visible to the student."""
    for width in ("desktop", "phone"):
        context = chromium.new_context(base_url=live_server.url, viewport=WIDTHS[width])
        page = context.new_page()
        try:
            log_in(page, "gburdell")
            page.goto(f"/submissions/{course['submission']}/")
            assert "Missing bias" in page.locator("#feedback").inner_text()
            assert "Check the shapes." in page.locator("#feedback").inner_text()
            assert page.locator(".code-lines li.annotated .annotation").is_visible()
            stdout = page.locator(".job-stdout")
            assert stdout.is_visible() and "q1 shapes: 8/10" in stdout.inner_text()
            page.locator("[data-job-status]").first.screenshot(
                path=str(shots / f"receipt_autograder_{width}.png")
            )
        finally:
            context.close()


def test_the_statistics_page_draws_its_histogram(
    chromium: Any, live_server: Any, course: Any
) -> None:
    """Chart.js (shipped in static/vendor) draws the histogram from the page's numbers."""
    context = chromium.new_context(base_url=live_server.url, viewport=WIDTHS["desktop"])
    page = context.new_page()
    try:
        log_in(page, "zkira")
        page.goto(f"/courses/{course['slug']}/assignments/hw1/statistics/")
        canvas = page.locator("#histogram")
        canvas.wait_for()
        page.wait_for_function("document.getElementById('histogram').dataset.drawn === 'true'")
        assert page.evaluate("() => typeof window.Chart") == "function"
        box = canvas.bounding_box()
        assert box is not None and box["height"] > 200
    finally:
        context.close()
