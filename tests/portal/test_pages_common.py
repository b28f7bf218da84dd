"""What every page shares: slugs shown as words, and the portal's own 404 page."""

from __future__ import annotations

import pytest

from portal.templatetags.portal import label
from tests.factories import EnrollmentFactory


@pytest.mark.parametrize(
    ("slug", "shown"),
    [
        ("ps0", "PS0"),
        ("hw1", "HW1"),
        ("homework", "Homework"),
        ("dean_of_students", "Dean of students"),
        ("Dean_of_students", "Dean of students"),
        ("lms", "LMS"),
        ("course-website", "Course website"),
        ("forum", "Forum"),
    ],
)
def test_label_shows_a_slug_as_words(slug: str, shown: str) -> None:
    assert label(slug) == shown


@pytest.mark.django_db
def test_a_mistyped_address_under_a_course_is_the_portals_404_page(client, sections) -> None:
    student = EnrollmentFactory(section=sections["CS4803"], role="student")
    client.force_login(student.user)
    r = client.get(f"/courses/{student.course.slug}/assignmnets/")
    assert r.status_code == 404
    assert r.templates[0].name == "portal/error.html"
    assert "There is nothing at this address" in r.content.decode()
    assert 'href="/"' in r.content.decode()


@pytest.mark.django_db
def test_a_mistyped_api_address_answers_in_the_envelope(client) -> None:
    r = client.get("/api/v1/nowhere/")
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_found"


@pytest.mark.django_db
def test_every_page_has_a_favicon_and_the_table_hint_script(client) -> None:
    html = client.get("/accounts/login/").content.decode()
    assert 'rel="icon"' in html and "portal/favicon.svg" in html
    assert "portal/tables.js" in html
    r = client.get("/favicon.ico")
    assert r.status_code == 301 and r["Location"].endswith("portal/favicon.svg")
