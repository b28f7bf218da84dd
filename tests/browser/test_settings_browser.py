"""The instructor's course settings in a real browser: move a deadline (the grace end is
previewed as it is typed, daylight saving included) and a weight; the student then sees the
new deadline; a weight sum of 95 is refused on the page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from playwright.sync_api import expect

from courses.models import Category, ConfigChange
from tests.browser.builders import deep_learning, george, person
from tests.browser.conftest import log_in
from tests.factories import AssignmentFactory, CategoryFactory, QuestionFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def dl(transactional_db: Any) -> dict[str, Any]:
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    built = deep_learning()
    project = CategoryFactory(course=built.course, slug="project", weight=Decimal(20))
    CategoryFactory(course=built.course, slug="participation", weight=Decimal(3), bonus=True)
    hw1 = AssignmentFactory(
        course=built.course,
        category=built.homework,
        slug="hw1",
        title="HW1",
        position=1,
        release_at=now - timedelta(days=3),
        due_at=now + timedelta(days=5),
    )
    QuestionFactory(assignment=hw1, slug="q1", title="Shapes", points=Decimal(10), position=1)
    AssignmentFactory(
        course=built.course,
        category=project,
        slug="project",
        title="Final project",
        position=2,
        due_at=now + timedelta(days=40),
    )
    george(built)
    person("zkira", "Zsolt", "Kira", course=built.course, section=None, role="instructor")
    return {"slug": built.course.slug}


def test_the_instructor_moves_a_deadline_and_a_weight_and_the_student_sees_it(
    chromium: Any, live_server: Any, dl: dict[str, Any], shots: Any
) -> None:
    context = chromium.new_context(
        base_url=live_server.url, viewport={"width": 1366, "height": 900}
    )
    page = context.new_page()
    try:
        log_in(page, "zkira")
        page.goto(f"/courses/{dl['slug']}/")
        page.get_by_role("link", name="Course settings").click()
        expect(page.get_by_role("heading", name="Course settings", level=1)).to_be_visible()

        hw1 = page.locator("#assignment-hw1")
        due = hw1.get_by_label("Due (America/New_York)")
        due.fill("2030-03-09T23:59")  # New York springs forward on Sunday 10 March 2030
        hw1.get_by_label("Grace days").fill("2")
        preview = hw1.locator("output")
        expect(preview).to_have_text("Grace period ends Mon Mar 11 2030, 11:59 PM EDT")
        page.screenshot(path=str(shots / "settings.png"), full_page=True)
        hw1.get_by_role("button", name="Save HW1").click()
        expect(page.get_by_text("HW1 saved.")).to_be_visible()

        weights = page.locator("#categories")
        weights.get_by_label("Weight of homework in percent").fill("75")
        expect(weights.locator("[data-weights-sum]")).to_have_text("95")
        weights.get_by_role("button", name="Save categories").click()
        expect(
            page.get_by_text("The weights of the graded categories add up to 95%, not 100%.")
        ).to_be_visible()
        assert Category.objects.get(slug="homework").weight == Decimal(80)

        weights = page.locator("#categories")
        weights.get_by_label("Weight of homework in percent").fill("70")
        weights.get_by_label("Weight of project in percent").fill("30")
        expect(weights.locator("[data-weights-sum]")).to_have_text("100")
        weights.get_by_role("button", name="Save categories").click()
        expect(page.get_by_text("Categories and weights saved.")).to_be_visible()
        assert Category.objects.get(slug="project").weight == Decimal(30)

        page.goto(f"/courses/{dl['slug']}/changes/")
        changes = page.locator("table.changes")
        expect(changes).to_contain_text("2030-03-09T23:59:00-05:00")
        expect(changes).to_contain_text("category project")
        page.screenshot(path=str(shots / "changes.png"), full_page=True)
    finally:
        context.close()
    assert ConfigChange.objects.filter(field="due_at", by__username="zkira").exists()

    context = chromium.new_context(
        base_url=live_server.url, viewport={"width": 1366, "height": 900}
    )
    page = context.new_page()
    try:
        log_in(page, "gburdell")
        page.goto(f"/courses/{dl['slug']}/assignments/")
        row = page.locator("tr", has=page.get_by_role("rowheader", name="HW1"))
        expect(row.locator("td.due")).to_contain_text("Sat Mar 9 2030")
        expect(row.locator("td.due")).to_contain_text("11:59 PM EST")
        expect(row).to_contain_text("Mon Mar 11 2030")
    finally:
        context.close()
