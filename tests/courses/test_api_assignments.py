from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from tests.factories import (
    PASSWORD,
    AssignmentFactory,
    CourseFactory,
    EnrollmentFactory,
    ExtensionFactory,
    QuestionFactory,
)

pytestmark = pytest.mark.django_db


def url(course):
    return reverse("api-assignments", kwargs={"course_slug": course.slug})


def test_token_then_courses(api_client, student):
    r = api_client.post(
        "/api/v1/auth/token/", {"username": student.user.username, "password": PASSWORD}
    )
    assert r.status_code == 200, r.content
    token = r.json()["token"]
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    r = api_client.get("/api/v1/courses/")
    assert r.status_code == 200
    assert r.json() == [
        {
            "slug": student.course.slug,
            "title": student.course.title,
            "term": student.course.term,
            "timezone": "America/New_York",
            "my_role": "student",
            "my_section": "CS4803",
        }
    ]


def test_bad_password_is_refused_in_the_envelope(api_client, student):
    r = api_client.post(
        "/api/v1/auth/token/", {"username": student.user.username, "password": "nope"}
    )
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "invalid_credentials"


def test_course_not_in_is_404(api_client, student):
    other = CourseFactory()
    api_client.force_authenticate(student.user)
    r = api_client.get(url(other))
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_enrolled"


def test_student_sees_released_with_own_deadline(api_client, student, assignment, course):
    AssignmentFactory(
        course=course, category=assignment.category, slug="hw9",
        release_at=datetime.now(UTC) + timedelta(days=1),
        due_at=datetime.now(UTC) + timedelta(days=9),
    )
    QuestionFactory(assignment=assignment, slug="q1", points=10)
    QuestionFactory(
        assignment=assignment, slug="ec1", points=5,
        undergraduate="extra_credit", graduate="required",
    )
    ExtensionFactory(assignment=assignment, student=student.user)
    api_client.force_authenticate(student.user)
    data = api_client.get(url(course)).json()
    assert [a["slug"] for a in data] == ["hw1"]
    a = data[0]
    assert a["max_points"] == 10 and a["extra_credit_points"] == 5
    assert a["my_deadline"]["extended"] is True
    assert a["my_deadline"]["due_at"] != a["due_at"]
    assert a["due_at"].endswith(("-05:00", "-04:00"))
