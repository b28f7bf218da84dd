"""Grades in a real browser: a student asks for a regrade on a released submission's receipt,
a TA (in another browser context) resolves it with a new score on the regrade queue, and the
student's My grades page shows the new score."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from grading import services
from grading.models import Grade, RegradeRequest
from submissions.models import Submission
from tests.browser.builders import deep_learning, george, person
from tests.browser.conftest import log_in
from tests.factories import (
    AssignmentFactory,
    CategoryFactory,
    QuestionFactory,
)
from tests.grading.conftest import autograde

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_regrade_from_request_to_new_score(
    page, chromium, live_server, shots, transactional_db, no_wakeups
):
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    built = deep_learning()
    course, ug, homework = built.course, built.ug, built.homework
    CategoryFactory(course=course, slug="participation", weight=Decimal(3), bonus=True)
    hw1 = AssignmentFactory(
        course=course,
        category=homework,
        slug="hw1",
        title="HW1",
        position=1,
        release_at=now - timedelta(days=20),
        due_at=now - timedelta(days=10),
        points=Decimal(20),
    )
    QuestionFactory(assignment=hw1, slug="q1", points=Decimal(10), position=1)
    QuestionFactory(assignment=hw1, slug="q2", points=Decimal(10), position=2)
    AssignmentFactory(course=course, category=homework, slug="hw2", title="HW2", position=2)
    student = george(built)
    person("tahelper", "Tara", "Helper", section=ug, role="ta")
    submission = Submission.objects.create(
        course=course,
        assignment=hw1,
        student=student.user,
        number=1,
        submitted_at=now - timedelta(days=11),
        timing="on_time",
        due_at=hw1.due_at,
        grace_ends_at=hw1.due_at,
    )
    autograde(hw1, student, {"q1": "9", "q2": "4"}, submission=submission)
    services.grades_release(
        enrollment=person("zkira", course=course, section=None, role="instructor"),
        assignment=hw1,
        now=timezone.now() - timedelta(hours=1),
    )

    # The student asks for a regrade of q2 on the receipt.
    log_in(page, "gburdell")
    page.goto(f"/courses/{course.slug}/")
    page.get_by_role("link", name="My grades").click()
    expect(page.locator("#grade-hw1")).to_contain_text("13 / 20")
    expect(page.locator("#grade-hw2")).to_contain_text("Not released yet")
    page.goto(f"/submissions/{submission.pk}/")
    expect(page.locator("#regrade-window")).to_contain_text("Regrade requests are open until")
    page.get_by_label("Question").select_option("q2")
    page.get_by_label("Message").fill("Part (b) matches the rubric's second case.")
    page.screenshot(path=str(shots / "receipt_regrade_form.png"), full_page=True)
    page.get_by_role("button", name="Request regrade").click()
    expect(page.locator(".messages")).to_contain_text("Your regrade request is in")
    expect(page.locator(".regrade-list")).to_contain_text("Part (b) matches")
    expect(page.locator(".regrade-list")).to_contain_text("Open")
    regrade = RegradeRequest.objects.get()
    assert regrade.question == "q2"

    # A TA, in a browser context of their own, resolves it with a score.
    context = chromium.new_context(
        base_url=live_server.url, viewport={"width": 1366, "height": 900}, locale="en-US"
    )
    context.set_default_timeout(15_000)
    try:
        staff = context.new_page()
        log_in(staff, "tahelper")
        staff.goto(f"/courses/{course.slug}/")
        expect(staff.locator("#regrade-queue-link")).to_contain_text("(1 open)")
        staff.get_by_role("link", name="Regrade requests").click()
        item = staff.locator(f"#regrade-{regrade.pk}")
        expect(item).to_contain_text("gburdell")
        expect(item).to_contain_text("Current grade of q2: 4")
        expect(item).to_contain_text("— → 4 (Autograder)")
        item.get_by_label("Response").fill("Agreed: full credit for (b).")
        item.get_by_label("New score for q2 (optional)").fill("8")
        staff.screenshot(path=str(shots / "regrade_queue.png"), full_page=True)
        item.get_by_role("button", name="Resolve").click()
        expect(staff.locator(".messages")).to_contain_text("the grade is now 8")
        expect(staff.get_by_text("No open regrade requests")).to_be_visible()
    finally:
        context.close()
    grade = Grade.objects.get(student=student.user, assignment=hw1, question="q2")
    assert grade.points == Decimal("8.00")
    assert [c.source for c in grade.changes.order_by("pk")] == ["autograder", "regrade"]

    # The student sees the answer on the receipt and the new score on My grades.
    page.reload()
    expect(page.locator(".regrade-list")).to_contain_text("Agreed: full credit for (b).")
    expect(page.locator(".regrade-list")).to_contain_text("Answered by Tara Helper")
    page.goto(f"/courses/{course.slug}/grades/")
    expect(page.locator("#grade-hw1")).to_contain_text("17 / 20")
    expect(page.locator("#grade-hw1")).to_contain_text("q2: 8")
    expect(page.locator("#final-percent")).to_contain_text("85.00%")
    page.screenshot(path=str(shots / "my_grades.png"), full_page=True)
