"""PS0 readiness: the students the one grade selector flags (score at or below the
threshold, once released), with their score, as JSON, CSV and a page; the instructor emails
them through Celery (a real SMTP server on 127.0.0.1 receives them); TAs may read but not
send; withheld under anonymous grading; queries flat."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from grading import services
from tests.factories import AssignmentFactory, CategoryFactory, EnrollmentFactory
from tests.grading.test_notifications import Inbox, smtp

pytestmark = pytest.mark.django_db

__all__ = ["smtp"]

D = Decimal


@pytest.fixture
def ps0(course: Any, instructor: Any, sections: Any) -> dict[str, Any]:
    """PS0 (100 points, readiness at 75%): low (60, flagged), edge (75, flagged), fine (90),
    a waitlisted student at 50 (flagged: they do PS0 too); released."""
    category = CategoryFactory(course=course, slug="ps0", weight=0)
    past = datetime.now(UTC) - timedelta(days=3)
    ps0 = AssignmentFactory(
        course=course,
        category=category,
        slug="ps0",
        title="PS0",
        readiness_threshold=75,
        release_at=past - timedelta(days=7),
        due_at=past,
    )
    people = {}
    for name, role, points in [
        ("low", "student", 60),
        ("edge", "student", 75),
        ("fine", "student", 90),
        ("wait", "waitlisted", 50),
    ]:
        who = EnrollmentFactory(section=sections["CS4803"], role=role)
        people[name] = who
        services.grade_set(by=instructor, assignment=ps0, student=who.user, points=D(points))
    services.grades_release(enrollment=instructor, assignment=ps0, now=timezone.now())
    return {"ps0": ps0, **people}


def url(course: Any, rest: str = "readiness/") -> str:
    return f"/api/v1/courses/{course.slug}/{rest}"


def test_the_list_has_the_flagged_students_with_their_score(
    api_client: Any, course: Any, ta: Any, ps0: dict[str, Any]
) -> None:
    api_client.force_authenticate(ta.user)
    body = api_client.get(url(course)).json()
    assert body["assignments"] == ["ps0"] and body["hidden"] is False
    rows = {r["username"]: r for r in body["results"]}
    assert set(rows) == {ps0[n].user.username for n in ("low", "edge", "wait")}
    low = rows[ps0["low"].user.username]
    assert (low["points"], low["max_points"], low["percent"], low["threshold"]) == (
        60.0,
        100.0,
        60.0,
        75.0,
    )
    assert rows[ps0["wait"].user.username]["role"] == "waitlisted"
    assert body["count"] == 3


def test_nothing_is_flagged_before_the_release(
    api_client: Any, course: Any, ta: Any, instructor: Any, ps0: dict[str, Any]
) -> None:
    services.grades_unrelease(enrollment=instructor, assignment=ps0["ps0"], now=timezone.now())
    api_client.force_authenticate(ta.user)
    assert api_client.get(url(course)).json()["results"] == []


def test_the_csv_has_the_same_rows(
    api_client: Any, course: Any, ta: Any, ps0: dict[str, Any]
) -> None:
    api_client.force_authenticate(ta.user)
    r = api_client.get(url(course, "readiness.csv"))
    assert r.status_code == 200 and r["Content-Type"] == "text/csv; charset=utf-8"
    assert r["Content-Disposition"] == f'attachment; filename="{course.slug}-readiness.csv"'
    lines = r.content.decode().splitlines()
    assert lines[0] == "username,name,section,role,assignment,points,max_points,percent,threshold"
    assert len(lines) == 4, lines
    assert any(
        line.startswith(f"{ps0['edge'].user.username},") and ",ps0,75.00,100.00,75.00,75.00" in line
        for line in lines
    )


def test_students_get_404(api_client: Any, course: Any, ps0: dict[str, Any]) -> None:
    api_client.force_authenticate(ps0["low"].user)
    assert api_client.get(url(course)).status_code == 404
    assert api_client.get(url(course, "readiness.csv")).status_code == 404


def test_a_ta_sees_nothing_when_ps0_is_graded_anonymously(
    api_client: Any, course: Any, ta: Any, instructor: Any, ps0: dict[str, Any]
) -> None:
    ps0["ps0"].anonymous_grading = True
    ps0["ps0"].save()
    api_client.force_authenticate(ta.user)
    body = api_client.get(url(course)).json()
    assert body["hidden"] is True and body["results"] == []
    api_client.force_authenticate(instructor.user)
    assert api_client.get(url(course)).json()["count"] == 3


def test_the_query_count_stays_flat(
    api_client: Any, course: Any, ta: Any, instructor: Any, sections: Any, ps0: dict[str, Any]
) -> None:
    api_client.force_authenticate(ta.user)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            api_client.get(url(course))
        return len(queries)

    few = count()
    for _ in range(20):
        who = EnrollmentFactory(section=sections["CS7643"], role="student")
        services.grade_set(by=instructor, assignment=ps0["ps0"], student=who.user, points=D(10))
    assert count() == few
    assert api_client.get(url(course)).json()["count"] == 23


def test_the_instructor_emails_the_flagged_students(
    api_client: Any,
    course: Any,
    instructor: Any,
    ps0: dict[str, Any],
    smtp: Inbox,
    django_capture_on_commit_callbacks: Any,
) -> None:
    api_client.force_authenticate(instructor.user)
    with django_capture_on_commit_callbacks(execute=True):
        r = api_client.post(
            url(course, "readiness/email/"),
            {"subject": "About PS0", "message": "Please come to office hours."},
            format="json",
        )
    assert r.status_code == 202 and r.json() == {"recipients": 3}
    expected = sorted(ps0[n].user.email for n in ("low", "edge", "wait"))
    assert smtp.recipients() == expected
    (email,) = smtp.to(ps0["low"].user.email)
    assert email["Subject"] == f"[{course.title}] About PS0"
    assert "Please come to office hours." in email.get_body(("plain",)).get_content()


def test_tas_may_not_send_and_an_empty_message_is_refused(
    api_client: Any, course: Any, ta: Any, instructor: Any, ps0: dict[str, Any]
) -> None:
    api_client.force_authenticate(ta.user)
    r = api_client.post(url(course, "readiness/email/"), {"subject": "x", "message": "y"})
    assert r.status_code == 403
    api_client.force_authenticate(instructor.user)
    r = api_client.post(url(course, "readiness/email/"), {"subject": "x", "message": "  "})
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid"


def test_the_page_lists_them_and_the_instructor_has_the_form(
    client: Any, course: Any, ta: Any, instructor: Any, ps0: dict[str, Any]
) -> None:
    client.force_login(ta.user)
    page = client.get(f"/courses/{course.slug}/readiness/").content.decode()
    assert 'id="readiness"' in page and ps0["low"].user.username in page
    assert ps0["fine"].user.username not in page
    assert "Send email" not in page and "readiness.csv" in page
    client.force_login(instructor.user)
    page = client.get(f"/courses/{course.slug}/readiness/").content.decode()
    assert "Send email" in page
    detail = client.get(f"/courses/{course.slug}/").content.decode()
    assert f"/courses/{course.slug}/readiness/" in detail
