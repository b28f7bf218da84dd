"""The staff gradebook in a real browser: a TA filters it (level, the readiness flag),
sorts it by its column heads both ways, opens an assignment's questions, and the header row
stays in view while the table scrolls; the page passes axe-core's WCAG 2.1 AA rules."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from courses.models import Section
from grading.models import Grade
from tests.browser.builders import deep_learning, person
from tests.browser.conftest import log_in
from tests.browser.test_accessibility import _violations
from tests.factories import AssignmentFactory, CategoryFactory, QuestionFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _order(page: Any) -> list[str]:
    return page.locator("table.gradebook tbody tr").evaluate_all(
        "rows => rows.map(r => r.id.replace('student-', ''))"
    )


def test_staff_filter_sort_and_drill_into_the_gradebook(
    page, live_server, shots, transactional_db, no_wakeups
):
    built = deep_learning()
    course = built.course
    grad = Section.objects.create(course=course, code="CS7643", level="graduate", capacity=90)
    released = timezone.now() - timedelta(days=1)
    ps0 = AssignmentFactory(
        course=course,
        category=CategoryFactory(course=course, slug="ps0", weight=Decimal(0)),
        slug="ps0",
        title="PS0",
        position=0,
        readiness_threshold=Decimal(75),
        grades_released_at=released,
    )
    hw1 = AssignmentFactory(
        course=course,
        category=built.homework,
        slug="hw1",
        title="HW1",
        position=1,
        points=Decimal(20),
        grades_released_at=released,
    )
    QuestionFactory(assignment=hw1, slug="q1", title="Backprop", points=10, position=0)
    QuestionFactory(assignment=hw1, slug="q2", title="Adam", points=10, position=1)
    people = {
        # username: (section, PS0, HW1 q1, HW1 q2)
        "aadams": (grad, "60", "9", "9"),
        "bbrown": (grad, "70", "2", "3"),
        "cclark": (grad, "95", "10", "10"),
        "ddavis": (built.ug, "50", "5", "5"),
    }
    for username, (section, p0, q1, q2) in people.items():
        e = person(username, username[1:].capitalize(), username[1:].capitalize(), section=section)
        Grade.objects.create(assignment=ps0, student=e.user, question="", points=Decimal(p0))
        Grade.objects.create(assignment=hw1, student=e.user, question="q1", points=Decimal(q1))
        Grade.objects.create(assignment=hw1, student=e.user, question="q2", points=Decimal(q2))
    person("tahelper", "Tara", "Helper", section=built.ug, role="ta")

    log_in(page, "tahelper")
    page.goto(f"/courses/{course.slug}/gradebook/")
    assert _order(page) == ["aadams", "bbrown", "cclark", "ddavis"]

    # Graduate students flagged by PS0.
    page.get_by_label("Level").select_option("graduate")
    page.get_by_label("Only students flagged by the readiness check").check()
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("header.page-header")).to_contain_text("2 students match")
    assert _order(page) == ["aadams", "bbrown"]

    # Sort by the final percent: the head is a link; again, and the order reverses.
    page.get_by_role("link", name="Final %").click()
    expect(page.locator("th[aria-sort='ascending']")).to_contain_text("Final %")
    assert _order(page) == ["bbrown", "aadams"]
    page.get_by_role("link", name="Final %").click()
    expect(page.locator("th[aria-sort='descending']")).to_contain_text("Final %")
    assert _order(page) == ["aadams", "bbrown"]
    expect(page.get_by_label("Level")).to_have_value("graduate")  # the filters stay

    # Clear the filters, sort by HW1's points, then open HW1's questions.
    page.get_by_role("link", name="Clear filters").click()
    page.get_by_role("link", name="HW1", exact=True).click()
    assert _order(page) == ["bbrown", "ddavis", "aadams", "cclark"]
    page.get_by_role("link", name="Questions of HW1").click()
    head = page.locator("table.gradebook thead")
    expect(head).to_contain_text("HW1 · Backprop")
    expect(head).to_contain_text("HW1 · Adam")
    assert _order(page) == ["bbrown", "ddavis", "aadams", "cclark"]  # the sort stays
    expect(page.locator("#student-cclark .question-col").first).to_have_text("10 / 10")
    position = page.locator("table.gradebook thead th").first.evaluate(
        "th => getComputedStyle(th).position"
    )
    assert position == "sticky"
    page.screenshot(path=str(shots / "gradebook_sorted_expanded.png"), full_page=True)
    assert not _violations(page)
