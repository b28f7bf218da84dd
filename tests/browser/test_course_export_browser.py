"""The instructor downloads the course's TOML from the course page: the file the browser saves
is the text export_course prints."""

from __future__ import annotations

from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from tests.browser.builders import deep_learning, george, person
from tests.browser.conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_instructor_downloads_the_course_toml(page: Any, shots: Path) -> None:
    dl = deep_learning()
    person("zkira", "Zsolt", "Kira", course=dl.course, section=None, role="instructor")
    log_in(page, "zkira")
    page.goto(f"/courses/{dl.course.slug}/")
    link = page.get_by_role("link", name="Download course TOML")
    expect(link).to_be_visible()
    page.screenshot(path=str(shots / "course-page-instructor.png"), full_page=True)

    with page.expect_download() as download_info:
        link.click()
    download = download_info.value

    assert download.suggested_filename == f"{dl.course.slug}.toml"
    printed = StringIO()
    call_command("export_course", dl.course.slug, stdout=printed)
    assert Path(download.path()).read_text(encoding="utf-8") == printed.getvalue()


def test_a_student_sees_no_download(page: Any) -> None:
    dl = deep_learning()
    george(dl)
    log_in(page, "gburdell")
    page.goto(f"/courses/{dl.course.slug}/")
    expect(page.get_by_role("link", name="Assignments and deadlines")).to_be_visible()
    expect(page.get_by_role("link", name="Download course TOML")).to_have_count(0)
