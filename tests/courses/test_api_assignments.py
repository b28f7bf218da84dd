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
        course=course,
        category=assignment.category,
        slug="hw9",
        release_at=datetime.now(UTC) + timedelta(days=1),
        due_at=datetime.now(UTC) + timedelta(days=9),
    )
    QuestionFactory(assignment=assignment, slug="q1", points=10)
    QuestionFactory(
        assignment=assignment,
        slug="ec1",
        points=5,
        undergraduate="extra_credit",
        graduate="required",
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


def test_unauthenticated_gets_the_envelope(api_client, course):
    r = api_client.get(url(course))
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "not_authenticated"
    assert r.json()["error"]["message"]


def test_a_bad_token_is_refused_in_the_envelope(api_client, course):
    api_client.credentials(HTTP_AUTHORIZATION="Token nope")
    r = api_client.get("/api/v1/courses/")
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "authentication_failed"


def test_token_request_missing_fields_names_them(api_client, db):
    r = api_client.post("/api/v1/auth/token/", {"username": "x"}, format="json")
    assert r.status_code == 400
    body = r.json()["error"]
    assert body["code"] == "invalid" and "password" in body["message"]


def test_unknown_api_address_answers_in_the_envelope(api_client, student):
    api_client.force_authenticate(student.user)
    for path in ["/api/v1/nothing-here/", "/api/v2/courses/"]:
        r = api_client.get(path)
        assert r.status_code == 404
        assert r.json()["error"]["code"] == "not_found"


def test_nonexistent_course_looks_the_same_as_one_not_in(api_client, student):
    api_client.force_authenticate(student.user)
    r = api_client.get("/api/v1/courses/no-such-course/assignments/")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_enrolled"


def test_courses_lists_only_my_courses_with_role_and_section(api_client, student, instructor):
    EnrollmentFactory(role="student")  # someone else's course
    api_client.force_authenticate(instructor.user)
    data = api_client.get("/api/v1/courses/").json()
    assert [(c["slug"], c["my_role"], c["my_section"]) for c in data] == [
        (instructor.course.slug, "instructor", None)
    ]


def test_staff_see_unreleased_and_no_personal_deadline(
    api_client, ta, instructor, course, homework
):
    AssignmentFactory(
        course=course,
        category=homework,
        slug="later",
        release_at=datetime.now(UTC) + timedelta(days=3),
        due_at=datetime.now(UTC) + timedelta(days=10),
    )
    for who in (ta, instructor):
        api_client.force_authenticate(who.user)
        data = api_client.get(url(course)).json()
        assert [a["slug"] for a in data] == ["later"]
        assert data[0]["released"] is False and data[0]["my_deadline"] is None


def test_waitlisted_get_a_deadline_sit_ins_do_not(api_client, sections, assignment, course):
    waitlisted = EnrollmentFactory(section=sections["CS7643"], role="waitlisted")
    sit_in = EnrollmentFactory(course=course, section=None, role="sit_in")
    api_client.force_authenticate(waitlisted.user)
    assert api_client.get(url(course)).json()[0]["my_deadline"]["extended"] is False
    api_client.force_authenticate(sit_in.user)
    assert api_client.get(url(course)).json()[0]["my_deadline"] is None


def test_max_points_follow_the_level(
    api_client, student, grad_student, instructor, assignment, course
):
    QuestionFactory(assignment=assignment, slug="q1", points=30)
    QuestionFactory(
        assignment=assignment,
        slug="ec",
        points=10,
        undergraduate="extra_credit",
        graduate="required",
    )
    QuestionFactory(assignment=assignment, slug="grad-only", points=5, undergraduate="not_offered")
    expect = {student: (30, 10), grad_student: (45, 0), instructor: (45, 0)}
    for who, (max_points, extra) in expect.items():
        api_client.force_authenticate(who.user)
        a = api_client.get(url(course)).json()[0]
        assert (a["max_points"], a["extra_credit_points"]) == (max_points, extra)
        assert a["max_points_by_level"] == {"undergraduate": 30, "graduate": 45}


def test_no_questions_means_the_assignment_points(api_client, student, assignment, course):
    api_client.force_authenticate(student.user)
    assert api_client.get(url(course)).json()[0]["max_points"] == 100


def test_deadlines_are_in_the_course_zone_with_grace_across_dst(
    api_client, student, course, homework
):
    from zoneinfo import ZoneInfo

    ny = ZoneInfo("America/New_York")
    AssignmentFactory(
        course=course,
        category=homework,
        slug="hw3",
        release_at=datetime(2021, 3, 5, 9, 0, tzinfo=ny),
        due_at=datetime(2021, 3, 12, 23, 59, tzinfo=ny),
        after_grace="refuse",
        collaboration=False,
    )
    api_client.force_authenticate(student.user)
    a = api_client.get(url(course)).json()[0]
    assert a["due_at"] == "2021-03-12T23:59:00-05:00"
    assert a["grace_ends_at"] == "2021-03-14T23:59:00-04:00"
    assert a["my_deadline"] == {
        "due_at": "2021-03-12T23:59:00-05:00",
        "grace_ends_at": "2021-03-14T23:59:00-04:00",
        "extended": False,
    }
    assert a["after_grace"] == "refuse" and a["collaboration"] is False and a["group"] is False


def test_an_extension_is_only_for_its_student(api_client, student, course, assignment, sections):
    other = EnrollmentFactory(section=sections["CS4803"], role="student")
    ext = ExtensionFactory(assignment=assignment, student=student.user)
    api_client.force_authenticate(other.user)
    mine = api_client.get(url(course)).json()[0]["my_deadline"]
    assert mine["extended"] is False
    api_client.force_authenticate(student.user)
    mine = api_client.get(url(course)).json()[0]["my_deadline"]
    assert mine["extended"] is True
    assert datetime.fromisoformat(mine["due_at"]) == ext.due_at


def test_schema_is_served(api_client, db):
    r = api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert r.status_code == 200
    assert b"/api/v1/courses/{course_slug}/assignments/" in r.content


def _populate(course, category, sections, n):
    """n more students (half with an extension), n assignments with 3 questions each."""
    from django.contrib.auth import get_user_model

    from courses.models import Assignment, Enrollment, Question

    User = get_user_model()
    start = Assignment.objects.count()
    users = User.objects.bulk_create(
        [User(username=f"bulk-{course.slug}-{start}-{i}") for i in range(n)]
    )
    Enrollment.objects.bulk_create(
        [
            Enrollment(course=course, user=u, section=sections["CS4803"], role="student")
            for u in users
        ]
    )
    now = datetime.now(UTC)
    assignments = Assignment.objects.bulk_create(
        [
            Assignment(
                course=course,
                category=category,
                slug=f"bulk-{start + i}",
                title=f"A{i}",
                release_at=now - timedelta(days=1),
                due_at=now + timedelta(days=i + 1),
            )
            for i in range(n)
        ]
    )
    Question.objects.bulk_create(
        [Question(assignment=a, slug=f"q{j}", points=10) for a in assignments for j in range(3)]
    )
    return users, assignments


def test_assignment_list_queries_stay_flat_from_5_to_500(api_client, course, homework, sections):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from courses.models import Extension

    me = EnrollmentFactory(section=sections["CS4803"], role="student")
    token = api_client.post(
        "/api/v1/auth/token/", {"username": me.user.username, "password": PASSWORD}
    ).json()["token"]
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token}")

    counts = []
    for n in (5, 495):
        users, assignments = _populate(course, homework, sections, n)
        Extension.objects.bulk_create(
            [
                Extension(
                    assignment=a,
                    student=me.user,
                    due_at=a.due_at + timedelta(days=3),
                    reference=f"R{a.pk}",
                )
                for a in assignments[::2]
            ]
            + [
                Extension(
                    assignment=a, student=u, due_at=a.due_at + timedelta(days=3), reference="X1"
                )
                for a, u in zip(assignments, users, strict=True)
            ]
        )
        with CaptureQueriesContext(connection) as ctx:
            r = api_client.get(url(course))
        assert r.status_code == 200
        counts.append((len(r.json()), len(ctx)))
    assert counts[0][0] == 5 and counts[1][0] == 500
    assert counts[0][1] == counts[1][1], counts


def test_course_list_queries_stay_flat(api_client, db):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.factories import UserFactory

    me = UserFactory()
    api_client.force_authenticate(me)
    counts = []
    for n in (2, 40):
        while me.enrollments.count() < n:
            EnrollmentFactory(user=me, role="student")
        with CaptureQueriesContext(connection) as ctx:
            data = api_client.get("/api/v1/courses/").json()
        counts.append((len(data), len(ctx)))
    assert [c[0] for c in counts] == [2, 40]
    assert counts[0][1] == counts[1][1], counts
