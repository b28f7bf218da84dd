"""The instructor console API: an assignment's settings (PATCH), the categories (PUT), and the
change log (GET changes/). Times typed without an offset are the course's clock; every change
is kept; a refusal changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from courses.models import Assignment, Category, ConfigChange, Question
from submissions.models import Submission
from tests.factories import CategoryFactory, CourseFactory, EnrollmentFactory, QuestionFactory

pytestmark = pytest.mark.django_db


def a_url(course, slug="hw1"):
    return f"/api/v1/courses/{course.slug}/assignments/{slug}/"


def c_url(course):
    return f"/api/v1/courses/{course.slug}/categories/"


def log_url(course):
    return f"/api/v1/courses/{course.slug}/changes/"


@pytest.fixture
def project(course):
    return CategoryFactory(course=course, slug="project", weight=Decimal(20))


def submit(enrollment, assignment, at, timing="on_time", number=1):
    return Submission.objects.create(
        course=assignment.course,
        assignment=assignment,
        student=enrollment.user,
        number=number,
        submitted_at=at,
        timing=timing,
        due_at=assignment.due_at,
        grace_ends_at=assignment.due_at,
    )


# --- PATCH an assignment -------------------------------------------------------------------------


def test_a_local_due_date_across_dst_gives_the_right_utc_and_grace_end(
    api_client, course, instructor, assignment
):
    """New York springs forward on Sunday 8 March 2026: 23:59 on the 7th is EST (-05:00),
    the grace end two days later is 23:59 EDT (-04:00), 47 hours on."""
    api_client.force_authenticate(instructor.user)
    r = api_client.patch(
        a_url(course),
        {"due_at": "2026-03-07T23:59", "grace_days": 2, "release_at": None},
        format="json",
    )
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["due_at"] == "2026-03-07T23:59:00-05:00"
    assert body["grace_ends_at"] == "2026-03-09T23:59:00-04:00"
    assert body["release_at"] is None
    assert body["affected_submissions"] == 0
    assignment.refresh_from_db()
    assert assignment.due_at == datetime(2026, 3, 8, 4, 59, tzinfo=UTC)
    assert assignment.release_at is None


def test_an_offset_is_taken_as_it_is_and_every_field_changes(
    api_client, course, instructor, assignment
):
    QuestionFactory(assignment=assignment, slug="q1", points=Decimal(10))
    api_client.force_authenticate(instructor.user)
    r = api_client.patch(
        a_url(course),
        {
            "title": "Homework 1",
            "release_at": "2030-01-01T09:00:00Z",
            "due_at": "2030-02-01T12:00:00+00:00",
            "grace_days": 0,
            "after_grace": "accept_late",
            "points": "50.5",
            "questions": {"q1": {"points": 12.5}},
        },
        format="json",
    )
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["title"] == "Homework 1"
    assert body["due_at"] == "2030-02-01T07:00:00-05:00"  # answered in the course's zone
    assert body["grace_ends_at"] == body["due_at"]
    assert body["after_grace"] == "accept_late"
    assert body["questions"][0]["points"] == 12.5
    assignment.refresh_from_db()
    assert (assignment.points, assignment.grace_days) == (Decimal("50.5"), 0)
    assert Question.objects.get(slug="q1").points == Decimal("12.5")


def test_every_change_is_kept_with_who_old_and_new(api_client, course, instructor, assignment):
    assignment.due_at = datetime(2030, 3, 1, 4, 59, tzinfo=UTC)
    assignment.save()
    api_client.force_authenticate(instructor.user)
    r = api_client.patch(
        a_url(course), {"due_at": "2030-03-05T23:59", "grace_days": 3}, format="json"
    )
    assert r.status_code == 200, r.content
    changes = {(c.object, c.field): c for c in ConfigChange.objects.all()}
    assert set(changes) == {("assignment hw1", "due_at"), ("assignment hw1", "grace_days")}
    due = changes["assignment hw1", "due_at"]
    assert due.by == instructor.user and due.source == "portal"
    assert (due.old, due.new) == ("2030-02-28T23:59:00-05:00", "2030-03-05T23:59:00-05:00")
    assert (
        changes["assignment hw1", "grace_days"].old,
        changes["assignment hw1", "grace_days"].new,
    ) == ("2", "3")
    # The same values again: nothing changes, nothing is logged.
    again = api_client.patch(
        a_url(course), {"due_at": "2030-03-05T23:59", "grace_days": 3}, format="json"
    )
    assert again.status_code == 200 and ConfigChange.objects.count() == 2


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"grace_days": -1}, "grace_days"),
        ({"after_grace": "maybe"}, "after_grace"),
        ({"points": "-3"}, "points"),
        ({"due_at": "next tuesday"}, "due_at"),
        ({"due_at": None}, "due_at"),
        ({"title": ""}, "title"),
        ({"release_at": "2030-06-01T00:00Z", "due_at": "2030-05-01T00:00Z"}, "due_at"),
        ({"questions": {"q9": {"points": 3}}}, "questions"),
        ({"collaboration": False}, "collaboration"),
    ],
)
def test_a_bad_value_is_400_invalid_with_fields_and_nothing_is_written(
    api_client, course, instructor, assignment, payload, field
):
    before = Assignment.objects.values().get(pk=assignment.pk)
    api_client.force_authenticate(instructor.user)
    r = api_client.patch(a_url(course), {"title": "Changed", **payload}, format="json")
    assert r.status_code == 400, r.content
    error = r.json()["error"]
    assert error["code"] == "invalid" and field in error["fields"], error
    assert Assignment.objects.values().get(pk=assignment.pk) == before
    assert not ConfigChange.objects.exists()


def test_tas_are_refused_403_students_and_strangers_404(
    api_client, course, ta, student, assignment
):
    api_client.force_authenticate(ta.user)
    r = api_client.patch(a_url(course), {"grace_days": 5}, format="json")
    assert r.status_code == 403 and r.json()["error"]["code"] == "permission_denied"
    api_client.force_authenticate(student.user)
    assert api_client.patch(a_url(course), {"grace_days": 5}, format="json").status_code == 404
    stranger = EnrollmentFactory(course=CourseFactory(), section=None, role="instructor")
    api_client.force_authenticate(stranger.user)
    assert api_client.patch(a_url(course), {"grace_days": 5}, format="json").status_code == 404
    assignment.refresh_from_db()
    assert assignment.grace_days == 2


def test_a_moved_deadline_counts_and_re_times_the_stored_submissions(
    api_client, course, instructor, student, grad_student, assignment
):
    due = datetime(2030, 3, 2, 4, 59, tzinfo=UTC)  # Mar 1 23:59 EST
    assignment.due_at, assignment.grace_days = due, 2
    assignment.save()
    on_time = submit(student, assignment, due - timedelta(hours=1))
    in_grace = submit(grad_student, assignment, due + timedelta(days=1), timing="in_grace")
    from courses.services import assignment_timing_impact

    earlier = due - timedelta(days=1)
    assert (
        assignment_timing_impact(
            enrollment=instructor, assignment=assignment, due_at=earlier, grace_days=2
        )
        == 1
    )
    assert (
        assignment_timing_impact(
            enrollment=instructor, assignment=assignment, due_at=due, grace_days=0
        )
        == 1
    )
    api_client.force_authenticate(instructor.user)
    r = api_client.patch(a_url(course), {"due_at": "2030-02-28T23:59"}, format="json")
    assert r.status_code == 200, r.content
    assert r.json()["affected_submissions"] == 1
    on_time.refresh_from_db()
    in_grace.refresh_from_db()
    assert on_time.timing == "in_grace" and on_time.due_at == earlier
    assert in_grace.timing == "in_grace"  # still in the (new) grace period
    assert in_grace.grace_ends_at == datetime(2030, 3, 3, 4, 59, tzinfo=UTC)


# --- PUT the categories -------------------------------------------------------------------------


def test_weights_summing_to_95_are_refused_and_nothing_changes(
    api_client, course, instructor, homework, project
):
    api_client.force_authenticate(instructor.user)
    r = api_client.put(
        c_url(course),
        [
            {"slug": "homework", "weight": 75, "bonus": False},
            {"slug": "project", "weight": 20, "bonus": False},
            {"slug": "participation", "weight": 3, "bonus": True},
        ],
        format="json",
    )
    assert r.status_code == 400
    error = r.json()["error"]
    assert error["code"] == "weights_do_not_sum"
    assert error["message"] == "The weights of the graded categories add up to 95%, not 100%."
    assert sorted(Category.objects.values_list("slug", "weight")) == [
        ("homework", Decimal(80)),
        ("project", Decimal(20)),
    ]
    assert not ConfigChange.objects.exists()


def test_the_whole_list_changes_weights_adds_and_removes(
    api_client, course, instructor, homework, project, assignment
):
    CategoryFactory(course=course, slug="ps0", weight=Decimal(0))
    api_client.force_authenticate(instructor.user)
    r = api_client.put(
        c_url(course),
        [
            {"slug": "project", "weight": "25.5", "bonus": False},
            {"slug": "homework", "weight": 74.5},
            {"slug": "participation", "weight": 3, "bonus": True},
        ],
        format="json",
    )
    assert r.status_code == 200, r.content
    assert r.json() == [
        {"slug": "project", "weight": 25.5, "bonus": False},
        {"slug": "homework", "weight": 74.5, "bonus": False},
        {"slug": "participation", "weight": 3.0, "bonus": True},
    ]
    logged = {(c.object, c.field, c.old, c.new) for c in ConfigChange.objects.all()}
    assert logged == {
        ("category homework", "weight", "80", "74.5"),
        ("category project", "weight", "20", "25.5"),
        ("category participation", "weight", None, "3"),
        ("category participation", "bonus", None, "true"),
        ("category ps0", "weight", "0", None),
        ("category ps0", "bonus", "false", None),
    }


def test_a_category_with_assignments_cannot_be_left_out(
    api_client, course, instructor, homework, project, assignment
):
    api_client.force_authenticate(instructor.user)
    r = api_client.put(c_url(course), [{"slug": "project", "weight": 100}], format="json")
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "category_in_use"
    assert "homework" in r.json()["error"]["message"]
    assert Category.objects.count() == 2


@pytest.mark.parametrize(
    "body",
    [
        {"slug": "homework", "weight": 100},
        [{"slug": "homework", "weight": 101}],
        [{"slug": "home work", "weight": 100}],
        [{"slug": "homework", "weight": 50}, {"slug": "homework", "weight": 50}],
        [{"slug": "homework", "weight": 100, "colour": "red"}],
    ],
)
def test_malformed_category_lists_are_400_invalid(api_client, course, instructor, homework, body):
    api_client.force_authenticate(instructor.user)
    r = api_client.put(c_url(course), body, format="json")
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid", r.content
    assert list(Category.objects.values_list("slug", "weight")) == [("homework", Decimal(80))]


def test_categories_get_is_staff_and_put_is_the_instructors(
    api_client, course, ta, student, homework
):
    api_client.force_authenticate(ta.user)
    assert api_client.get(c_url(course)).json() == [
        {"slug": "homework", "weight": 80.0, "bonus": False}
    ]
    r = api_client.put(c_url(course), [{"slug": "homework", "weight": 100}], format="json")
    assert r.status_code == 403
    api_client.force_authenticate(student.user)
    assert api_client.get(c_url(course)).status_code == 404


# --- the change log ----------------------------------------------------------------------------


def test_the_change_log_is_staff_only_newest_first(
    api_client, course, instructor, ta, student, assignment
):
    api_client.force_authenticate(instructor.user)
    api_client.patch(a_url(course), {"grace_days": 3}, format="json")
    api_client.patch(a_url(course), {"grace_days": 4}, format="json")
    api_client.force_authenticate(ta.user)
    r = api_client.get(log_url(course))
    assert r.status_code == 200 and r["X-Total-Count"] == "2"
    first = r.json()[0]
    assert {k: first[k] for k in ("by", "source", "object", "field", "old", "new")} == {
        "by": instructor.user.username,
        "source": "portal",
        "object": "assignment hw1",
        "field": "grace_days",
        "old": "3",
        "new": "4",
    }
    assert first["at"].endswith(("-05:00", "-04:00"))
    assert [c["new"] for c in api_client.get(log_url(course) + "?limit=1&offset=1").json()] == ["3"]
    assert api_client.get(log_url(course) + "?limit=x").status_code == 400
    api_client.force_authenticate(student.user)
    assert api_client.get(log_url(course)).status_code == 404


def test_the_change_log_costs_the_same_queries_however_long(
    api_client, course, instructor, django_assert_max_num_queries
):
    from courses.services import changes_record

    now = datetime.now(UTC)
    for n in range(3):
        changes_record(
            course=course,
            by_id=instructor.user_id,
            at=now,
            items=[("course", "regrade_days", n, n + 1)],
        )
    api_client.force_authenticate(instructor.user)
    with django_assert_max_num_queries(6) as few:
        assert len(api_client.get(log_url(course)).json()) == 3
    others = [EnrollmentFactory(course=course, section=None, role="ta") for _ in range(3)]
    for n in range(40):
        changes_record(
            course=course,
            by_id=others[n % 3].user_id,
            at=now,
            items=[("assignment hw1", "points", n, n + 1)],
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(api_client.get(log_url(course)).json()) == 43


def test_question_points_alone_can_change(api_client, course, instructor, assignment):
    QuestionFactory(assignment=assignment, slug="q1", points=Decimal(10))
    api_client.force_authenticate(instructor.user)
    r = api_client.patch(a_url(course), {"questions": {"q1": {"points": 15}}}, format="json")
    assert r.status_code == 200, r.content
    change = ConfigChange.objects.get()
    assert (change.object, change.field, change.old, change.new) == (
        "question hw1/q1",
        "points",
        "10",
        "15",
    )
