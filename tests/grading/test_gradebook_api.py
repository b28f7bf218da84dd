"""The staff gradebook (JSON and page) and the results awaiting review: who sees them, their
filters and paging, and query counts that stay flat as students and grades grow."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from grading import services
from grading.models import Grade
from tests.factories import AssignmentFactory, EnrollmentFactory, QuestionFactory
from tests.grading.conftest import autograde

pytestmark = pytest.mark.django_db


def book_url(course: Any, query: str = "") -> str:
    return f"/api/v1/courses/{course.slug}/gradebook/{query}"


@pytest.fixture(autouse=True)
def quiet(monkeypatch: Any, media: Any) -> None:
    monkeypatch.setattr(services, "publish", lambda job: None)


def test_the_gradebook_is_for_staff(api_client, course, student, ta, instructor) -> None:
    api_client.force_authenticate(student.user)
    assert api_client.get(book_url(course)).status_code == 404
    for who in (ta, instructor):
        api_client.force_authenticate(who.user)
        assert api_client.get(book_url(course)).status_code == 200


def test_rows_carry_every_assignments_grade_and_the_final_percent(
    api_client, course, homework, student, grad_student, ta, assignment
) -> None:
    autograde(assignment, student, "70")
    services.grade_set(by=ta, assignment=assignment, student=grad_student.user, excused=True)
    assignment.grades_released_at = timezone.now()
    assignment.save()
    api_client.force_authenticate(ta.user)
    body = api_client.get(book_url(course)).json()
    assert body["count"] == 2
    rows = {r["username"]: r for r in body["results"]}
    mine = rows[student.user.username]
    assert mine["assignments"]["hw1"] == {
        "points": 70.0,
        "max_points": 100.0,
        "excused": False,
        "missing": False,
        "needs_review": False,
        "hidden": False,
    }
    assert mine["final_percent"] == 70.0 and mine["level"] == "undergraduate"
    assert mine["section"] == "CS4803" and mine["role"] == "student"
    assert rows[grad_student.user.username]["assignments"]["hw1"]["excused"] is True


def test_filters_and_pages(api_client, course, sections, ta) -> None:
    for i in range(5):
        EnrollmentFactory(section=sections["CS4803" if i % 2 else "CS7643"], role="student")
    api_client.force_authenticate(ta.user)
    assert api_client.get(book_url(course, "?section=CS4803")).json()["count"] == 2
    page = api_client.get(book_url(course, "?page=2&page_size=2")).json()
    assert page["count"] == 5 and len(page["results"]) == 2
    one = page["results"][0]["username"]
    assert api_client.get(book_url(course, f"?search={one}")).json()["count"] == 1
    for bad in ("?page=0", "?page_size=1001", "?page=x"):
        r = api_client.get(book_url(course, bad))
        assert r.status_code == 400 and r.json()["error"]["code"] == "invalid"


def test_a_forged_result_is_listed_for_review_and_counts_once_accepted(
    api_client, course, student, ta, assignment
) -> None:
    job = autograde(assignment, student, "999")  # the whole score above the 100 points
    grade = Grade.objects.get(student=student.user, assignment=assignment)
    assert grade.points is None and grade.needs_review
    api_client.force_authenticate(ta.user)
    listed = api_client.get(
        f"/api/v1/courses/{course.slug}/assignments/{assignment.slug}/review/"
    ).json()
    assert [r["job"] for r in listed] == [job.pk] and listed[0]["accepted_at"] is None
    assert "above the 100 points" in listed[0]["reasons"][0]
    r = api_client.post(f"/api/v1/jobs/{job.pk}/accept/")
    assert r.status_code == 200 and r.json()["accepted_by"] == ta.user.username
    grade.refresh_from_db()
    assert grade.points == Decimal(100) and not grade.needs_review  # capped at the points
    assert grade.changes.last().source == "accepted"
    api_client.force_authenticate(student.user)
    assert api_client.post(f"/api/v1/jobs/{job.pk}/accept/").status_code == 403


def _students(course: Any, sections: Any, assignments: list[Any], n: int) -> None:
    for i in range(n):
        e = EnrollmentFactory(section=sections["CS4803" if i % 2 else "CS7643"], role="student")
        for a in assignments:
            Grade.objects.create(assignment=a, student=e.user, question="q1", points=1)


@pytest.mark.parametrize("path", ["/api/v1/courses/{c}/gradebook/", "/courses/{c}/gradebook/"])
def test_the_gradebook_query_count_is_flat(client, course, homework, sections, ta, path) -> None:
    assignments = [
        AssignmentFactory(course=course, category=homework, slug=f"hw{i}", position=i)
        for i in range(3)
    ]
    for a in assignments:
        QuestionFactory(assignment=a, slug="q1")
    client.force_login(ta.user)
    counts = []
    for n in (3, 30):
        _students(course, sections, assignments, n - len(counts) * 3)
        with CaptureQueriesContext(connection) as ctx:
            r = client.get(path.format(c=course.slug))
        assert r.status_code == 200
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1], counts


def test_the_gradebook_page_filters_and_links_a_csv_per_section(
    client, course, sections, student, grad_student, ta
) -> None:
    client.force_login(ta.user)
    html = client.get(f"/courses/{course.slug}/gradebook/?section=CS4803").content.decode()
    assert f'id="student-{student.user.username}"' in html
    assert f'id="student-{grad_student.user.username}"' not in html
    assert "gradebook.csv?section=CS4803" in html and "gradebook.csv?section=CS7643" in html
    client.force_login(student.user)
    assert client.get(f"/courses/{course.slug}/gradebook/").status_code == 404


def test_the_review_list_query_count_is_flat(api_client, course, sections, ta, assignment) -> None:
    api_client.force_authenticate(ta.user)
    url = f"/api/v1/courses/{course.slug}/assignments/{assignment.slug}/review/"
    counts = []
    for n in (2, 12):
        for _ in range(n - len(counts) * 2):
            autograde(assignment, EnrollmentFactory(section=sections["CS4803"]), "500")
        with CaptureQueriesContext(connection) as ctx:
            r = api_client.get(url)
        assert r.status_code == 200 and len(r.json()) == n
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1], counts
