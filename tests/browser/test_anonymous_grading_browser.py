"""Anonymous grading in the browser: a TA's grading overview of an anonymous assignment shows
pseudonyms and the note, passes axe; the instructor reveals the names with the button (after
a confirmation) and the TA then sees them."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from courses.anonymity import student_pseudonym
from submissions.models import Submission
from tests.browser.builders import deep_learning, person
from tests.browser.conftest import log_in
from tests.browser.test_accessibility import AXE, _violations
from tests.factories import AssignmentFactory, QuestionFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def anon(transactional_db: Any, no_wakeups: list[int]) -> dict[str, Any]:
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    dl = deep_learning()
    hw = AssignmentFactory(
        course=dl.course,
        category=dl.homework,
        slug="hw2",
        title="HW2",
        release_at=now - timedelta(days=10),
        due_at=now - timedelta(days=1),
        points=Decimal(20),
        anonymous_grading=True,
    )
    QuestionFactory(assignment=hw, slug="q1", title="Shapes", points=Decimal(10), position=1)
    QuestionFactory(assignment=hw, slug="q2", points=Decimal(10), position=2)
    students = [
        person("zqleak", "Zorblat", "Quixley", section=dl.ug),
        person("gburdell", "George", "Burdell", section=dl.ug),
        person("aliyah", "Aliyah", "Okafor", section=dl.ug),
    ]
    for s in students:
        Submission.objects.create(
            course=dl.course,
            assignment=hw,
            student=s.user,
            number=1,
            submitted_at=now - timedelta(days=2),
            timing="on_time",
            due_at=hw.due_at,
            grace_ends_at=hw.due_at,
        )
    ta = person("tahelper", "Tara", "Helper", section=dl.ug, role="ta")
    teacher = person("zkira", "Zsolt", "Kira", course=dl.course, section=None, role="instructor")
    return {"course": dl.course, "hw": hw, "students": students, "ta": ta, "teacher": teacher}


def test_the_ta_overview_of_an_anonymous_assignment(
    chromium: Any, live_server: Any, anon: Any, shots: Path
) -> None:
    hw = anon["hw"]
    overview = f"/courses/{anon['course'].slug}/assignments/{hw.slug}/grade/"
    context = chromium.new_context(
        base_url=live_server.url, viewport={"width": 1366, "height": 900}, locale="en-US"
    )
    page = context.new_page()
    try:
        log_in(page, "tahelper")
        page.goto(overview)
        expect(page.get_by_text("Anonymous grading: student names are hidden")).to_be_visible()
        pseudonym = student_pseudonym(assignment_id=hw.pk, student_id=anon["students"][0].user_id)
        expect(page.get_by_role("link", name=pseudonym)).to_be_visible()
        text = page.content()
        for secret in ("zqleak", "Zorblat", "Quixley", "gburdell", "Burdell", "Okafor"):
            assert secret not in text
        assert page.get_by_role("button", name="Reveal names to TAs").count() == 0
        page.screenshot(path=str(shots / "anonymous-overview-ta.png"), full_page=True)
        assert AXE.exists()
        assert not _violations(page), json.dumps(_violations(page), indent=1)
        # The grading view of one submission: the pseudonym in the heading.
        page.get_by_role("link", name=pseudonym).click()
        expect(page.get_by_role("heading", level=1)).to_contain_text(pseudonym)
        assert "zqleak" not in page.content()
        assert not _violations(page)
    finally:
        context.close()

    # The instructor sees names and reveals them, after a confirmation.
    context = chromium.new_context(
        base_url=live_server.url, viewport={"width": 1366, "height": 900}
    )
    page = context.new_page()
    try:
        log_in(page, "zkira")
        page.goto(overview)
        expect(page.get_by_role("link", name="zqleak")).to_be_visible()
        assert not _violations(page)
        page.once("dialog", lambda dialog: dialog.accept())
        page.get_by_role("button", name="Reveal names to TAs").click()
        expect(page.get_by_role("button", name="Hide names from TAs")).to_be_visible()
        page.screenshot(path=str(shots / "anonymous-overview-instructor.png"), full_page=True)
    finally:
        context.close()

    context = chromium.new_context(base_url=live_server.url)
    page = context.new_page()
    try:
        log_in(page, "tahelper")
        page.goto(overview)
        expect(page.get_by_role("link", name="zqleak")).to_be_visible()
        expect(page.get_by_text("Anonymous grading: student names are hidden")).to_have_count(0)
    finally:
        context.close()
