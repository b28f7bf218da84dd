"""A person's path through the pages in a real browser: log in through the form, find the
course, read its links and policies, read the deadlines in the course's zone and the time
left. A TA sees what is not released yet; a student does not."""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from tests.browser.builders import deep_learning, george, person
from tests.browser.conftest import log_in
from tests.factories import (
    AssignmentFactory,
    CategoryFactory,
    SectionFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NEW_YORK = ZoneInfo("America/New_York")


def course_time(moment: datetime) -> str:
    """How the pages write a moment: 'Fri Feb 12 2021, 11:59 PM EST', in New York."""
    local = moment.astimezone(NEW_YORK)
    hour = local.hour % 12 or 12
    return (
        f"{local:%a %b} {local.day} {local:%Y}, {hour}:{local:%M} "
        f"{'AM' if local.hour < 12 else 'PM'} {local:%Z}"
    )


@pytest.fixture
def dl(transactional_db: Any) -> dict[str, Any]:
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    built = deep_learning(
        regrade_days=7,
        links=[
            {"name": "website", "url": "https://example.edu/cs7643", "note": ""},
            {
                "name": "forum",
                "url": "https://example.edu/forum/dl2021",
                "note": "access code DL2021",
            },
        ],
    )
    course, ug, homework = built.course, built.ug, built.homework
    SectionFactory(course=course, code="CS7643", level="graduate", capacity=150)
    CategoryFactory(course=course, slug="participation", weight=Decimal(3), bonus=True)
    AssignmentFactory(
        course=course,
        category=homework,
        slug="hw1",
        title="HW1",
        position=1,
        release_at=datetime(2021, 1, 25, 14, 0, tzinfo=UTC),
        due_at=datetime(2021, 2, 13, 4, 59, tzinfo=UTC),
    )
    hw2 = AssignmentFactory(
        course=course,
        category=homework,
        slug="hw2",
        title="HW2",
        position=2,
        release_at=now - timedelta(days=2),
        due_at=now + timedelta(days=3, hours=5),
        collaboration=False,
        grace_days=0,
    )
    AssignmentFactory(
        course=course,
        category=homework,
        slug="hw3",
        title="HW3 secret",
        position=3,
        release_at=now + timedelta(days=4),
        due_at=now + timedelta(days=14),
    )
    student = george(built)
    ta = person("ta-ada", "Ada", "Lovelace", section=ug, role="ta")
    return {"course": course, "student": student, "ta": ta, "hw2": hw2}


def test_student_logs_in_and_reads_course_and_deadlines(page, live_server, dl, tmp_path):
    log_in(page, "gburdell")
    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.get_by_role("heading", name="My courses")).to_be_visible()
    card = page.locator(".course-card")
    expect(card).to_contain_text("Spring 2021")
    expect(card).to_contain_text("Student")
    expect(card).to_contain_text("CS4803")

    card.get_by_role("link", name="Deep Learning").click()
    expect(page).to_have_url(f"{live_server.url}/courses/cs7643-sp21/")
    expect(page.get_by_role("heading", name="Deep Learning", level=1)).to_be_visible()
    forum = page.get_by_role("link", name="Forum")
    expect(forum).to_have_attribute("href", "https://example.edu/forum/dl2021")
    expect(page.get_by_text("access code DL2021")).to_be_visible()
    grading = page.locator("section", has=page.get_by_role("heading", name="Grading"))
    expect(grading).to_contain_text("80%")
    expect(grading).to_contain_text("Added on top, never lowers a grade")
    policies = page.locator("#assignment-policies")
    hw1 = policies.get_by_role("row", name=re.compile(r"^HW1\b"))
    expect(hw1).to_contain_text("Fri Feb 12 2021, 11:59 PM EST")
    expect(hw1).to_contain_text("2-day grace period, no penalty, no need to ask")
    expect(hw1).to_contain_text("A zero after the grace period unless a Dean of Students")
    hw2 = policies.get_by_role("row", name=re.compile(r"^HW2\b"))
    expect(hw2).to_contain_text("No grace period")
    expect(hw2).to_contain_text("No collaboration")
    expect(page.get_by_text("open for 7 days after grades are released")).to_be_visible()
    expect(page.get_by_text("HW3 secret")).to_have_count(0)

    page.get_by_role("link", name="Assignments and deadlines").click()
    expect(page).to_have_url(f"{live_server.url}/courses/cs7643-sp21/assignments/")
    table = page.locator("table.assignments")
    row1 = table.locator("#assignment-hw1")
    expect(row1).to_contain_text("Fri Feb 12 2021, 11:59 PM EST")
    expect(row1).to_contain_text("Sun Feb 14 2021, 11:59 PM EST")
    expect(row1.locator("time").nth(1)).to_have_attribute("datetime", "2021-02-12T23:59:00-05:00")
    expect(row1.locator(".time-left")).to_have_text("Closed")
    row2 = table.locator("#assignment-hw2")
    expect(row2).to_contain_text(course_time(dl["hw2"].due_at))
    expect(row2.locator(".time-left")).to_have_text(re.compile(r"^3 days [45] hours left$"))
    expect(table).not_to_contain_text("HW3 secret")

    shot = Path(os.environ.get("ASSIGNMENT_LIST_SCREENSHOT", tmp_path / "assignment_list.png"))
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 0


def test_bad_password_shows_the_error(page, live_server, dl):
    log_in(page, "gburdell", "not the password", expect_home=False)
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Please enter a correct username and password")
    expect(page.get_by_label("Username")).to_have_value("gburdell")


def test_too_many_bad_passwords_say_how_long_to_wait(page, live_server, dl):
    """The fifth failure locks the username out from this address; the right password then
    does not log in, and the page says how long to wait."""
    for _ in range(5):
        log_in(page, "gburdell", "not the password", expect_home=False)
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Too many failed logins")
    expect(alert).to_contain_text("wait 15 minutes")
    log_in(page, "gburdell", expect_home=False)
    expect(page.get_by_role("alert")).to_contain_text("wait 15 minutes")
    expect(page.get_by_role("heading", name="My courses")).to_have_count(0)
    expect(page.get_by_label("Username")).to_have_value("gburdell")


def test_ta_sees_unreleased_assignment_that_the_student_does_not(page, live_server, dl):
    log_in(page, "ta-ada")
    expect(page.get_by_role("heading", name="My courses")).to_be_visible()
    page.goto("/courses/cs7643-sp21/assignments/")
    secret = page.locator("#assignment-hw3")
    expect(secret).to_contain_text("HW3 secret")
    expect(secret).to_contain_text("Not released yet")

    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    log_in(page, "gburdell")
    expect(page.get_by_role("heading", name="My courses")).to_be_visible()
    page.goto("/courses/cs7643-sp21/assignments/")
    expect(page.locator("#assignment-hw2")).to_be_visible()
    expect(page.locator("#assignment-hw3")).to_have_count(0)
    expect(page.get_by_text("HW3 secret")).to_have_count(0)
