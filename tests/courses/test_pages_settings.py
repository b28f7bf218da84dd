"""The instructor's course settings page and the change log page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from courses.models import Assignment, Category, ConfigChange
from submissions.models import Submission
from tests.factories import CategoryFactory, EnrollmentFactory, QuestionFactory

pytestmark = pytest.mark.django_db


def s_url(course):
    return f"/courses/{course.slug}/settings/"


def assignment_form(assignment, **overrides):
    form = {
        "action": "assignment",
        "assignment": assignment.slug,
        "title": assignment.title,
        "release_at": "",
        "due_at": "2030-03-01T23:59",
        "grace_days": "2",
        "after_grace": "refuse",
        "points": "100",
    }
    return {**form, **overrides}


def test_the_instructor_sees_times_labelled_with_the_zone(client, course, instructor, assignment):
    assignment.due_at = datetime(2030, 3, 2, 4, 59, tzinfo=UTC)
    assignment.save()
    QuestionFactory(assignment=assignment, slug="q1", title="Shapes", points=Decimal(10))
    client.force_login(instructor.user)
    r = client.get(s_url(course))
    assert r.status_code == 200
    html = r.content.decode()
    assert "Due (America/New_York)" in html and "Release (America/New_York)" in html
    assert 'value="2030-03-01T23:59"' in html  # on the course's clock
    assert "Grace period ends Sun Mar 3 2030, 11:59 PM EST" in html
    assert 'name="question-q1"' in html and "Shapes" in html
    assert "add up to <strong data-weights-sum>80</strong>%" in html


def test_only_the_instructor_has_the_settings_page(client, course, ta, student):
    for who in (ta, student):
        client.force_login(who.user)
        assert client.get(s_url(course)).status_code == 404
    client.force_login(ta.user)
    assert client.post(s_url(course), {"action": "course", "regrade_days": "3"}).status_code == 404


def test_moving_a_deadline_saves_it_and_logs_it(client, course, instructor, assignment):
    client.force_login(instructor.user)
    r = client.post(s_url(course), assignment_form(assignment, due_at="2030-03-07T23:59"))
    assert r.status_code == 302 and r["Location"].endswith("#assignment-hw1")
    assignment.refresh_from_db()
    assert assignment.due_at == datetime(2030, 3, 8, 4, 59, tzinfo=UTC)
    assert assignment.release_at is None
    change = ConfigChange.objects.get(field="due_at")
    assert change.by == instructor.user and change.new == "2030-03-07T23:59:00-05:00"
    page = client.get(r["Location"]).content.decode()
    assert "HW1 saved." in page


def test_a_deadline_that_re_times_submissions_asks_first(
    client, course, instructor, student, assignment
):
    due = datetime(2030, 3, 2, 4, 59, tzinfo=UTC)
    assignment.due_at, assignment.release_at = due, None
    assignment.save()
    handed_in = Submission.objects.create(
        course=course,
        assignment=assignment,
        student=student.user,
        number=1,
        submitted_at=due - timedelta(hours=2),
        timing="on_time",
        due_at=due,
        grace_ends_at=due + timedelta(days=2),
    )
    client.force_login(instructor.user)
    form = assignment_form(assignment, due_at="2030-02-27T23:59")
    r = client.post(s_url(course), form)
    assert r.status_code == 200
    html = r.content.decode()
    assert "1 submission</strong> already handed in" in html
    assert 'name="confirm" value="1"' in html
    assignment.refresh_from_db()
    assert assignment.due_at == due  # not yet
    r = client.post(s_url(course), {**form, "confirm": "1"})
    assert r.status_code == 302
    assignment.refresh_from_db()
    handed_in.refresh_from_db()
    assert assignment.due_at == datetime(2030, 2, 28, 4, 59, tzinfo=UTC)
    assert handed_in.timing == "in_grace"
    assert "1 submission changed timing class" in client.get(s_url(course)).content.decode()


def test_a_bad_value_is_refused_on_the_page_and_nothing_changes(
    client, course, instructor, assignment
):
    before = Assignment.objects.values().get(pk=assignment.pk)
    client.force_login(instructor.user)
    r = client.post(s_url(course), assignment_form(assignment, grace_days="-1", title="New"))
    assert r.status_code == 400
    html = r.content.decode()
    assert "Grace days are a whole number from 0 to 365." in html
    assert 'value="New"' in html  # what was typed stays
    assert Assignment.objects.values().get(pk=assignment.pk) == before


def test_weights_of_95_are_refused_on_the_page(client, course, instructor, homework):
    project = CategoryFactory(course=course, slug="project", weight=Decimal(20))
    client.force_login(instructor.user)
    rows = {c.slug: i for i, c in enumerate([homework, project])}
    r = client.post(
        s_url(course),
        {
            "action": "categories",
            f"weight-{rows['homework']}": "75",
            f"weight-{rows['project']}": "20",
            "weight-2": "3",
            "bonus-2": "on",
            "new-slug": "participation",
        },
    )
    assert r.status_code == 400
    html = r.content.decode()
    assert "The weights of the graded categories add up to 95%, not 100%." in html
    assert 'value="75"' in html
    assert Category.objects.get(slug="homework").weight == Decimal(80)
    assert not Category.objects.filter(slug="participation").exists()

    r = client.post(
        s_url(course),
        {
            "action": "categories",
            f"weight-{rows['homework']}": "80",
            f"weight-{rows['project']}": "20",
            "weight-2": "3",
            "bonus-2": "on",
            "new-slug": "participation",
        },
    )
    assert r.status_code == 302
    assert Category.objects.get(slug="participation").bonus is True


def test_regrade_days_and_links(client, course, instructor):
    client.force_login(instructor.user)
    r = client.post(
        s_url(course),
        {
            "action": "course",
            "regrade_days": "5",
            "link-name-0": "website",
            "link-url-0": "https://example.edu/dl",
            "link-note-0": "",
            "link-name-1": "forum",
            "link-url-1": "https://example.edu/forum",
            "link-note-1": "code DL",
            "link-name-2": "",
            "link-url-2": "",
            "link-note-2": "",
        },
    )
    assert r.status_code == 302
    course.refresh_from_db()
    assert course.regrade_days == 5
    assert course.links[1] == {
        "name": "forum",
        "url": "https://example.edu/forum",
        "note": "code DL",
    }
    r = client.post(
        s_url(course),
        {"action": "course", "regrade_days": "5", "link-name-0": "bad", "link-url-0": "ftp://x"},
    )
    assert r.status_code == 400 and "is not an http(s) address" in r.content.decode()
    course.refresh_from_db()
    assert len(course.links) == 2


def test_the_grace_end_preview_follows_daylight_saving(client, course, instructor, ta):
    client.force_login(instructor.user)
    url = f"/courses/{course.slug}/settings/grace-end/"
    r = client.get(url, {"due_at": "2026-03-07T23:59", "grace_days": "2"})
    assert r.status_code == 200
    assert r.json() == {
        "text": "Grace period ends Mon Mar 9 2026, 11:59 PM EDT",
        "at": "2026-03-09T23:59:00-04:00",
    }
    assert client.get(url, {"due_at": "soon", "grace_days": "2"}).status_code == 400
    client.force_login(ta.user)
    assert client.get(url, {"due_at": "2026-03-07T23:59", "grace_days": "2"}).status_code == 404


def test_the_changes_page_is_for_staff_and_costs_flat_queries(
    client, course, instructor, ta, student, django_assert_max_num_queries
):
    from courses.services import changes_record

    now = datetime.now(UTC)
    changes_record(
        course=course, by_id=instructor.user_id, at=now, items=[("course", "regrade_days", 7, 5)]
    )
    client.force_login(ta.user)
    with django_assert_max_num_queries(20) as few:
        r = client.get(f"/courses/{course.slug}/changes/")
    assert r.status_code == 200 and "regrade_days" in r.content.decode()
    tas = [EnrollmentFactory(course=course, section=None, role="ta") for _ in range(3)]
    for n in range(30):
        changes_record(
            course=course,
            by_id=tas[n % 3].user_id,
            at=now,
            items=[(f"assignment hw{n}", "points", n, n + 1)],
        )
    changes_record(
        course=course,
        by_id=None,
        at=now,
        items=[("course", "title", "A", "B")],
        source="load_course",
    )
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = client.get(f"/courses/{course.slug}/changes/").content.decode()
    assert "assignment hw29" in html and "load_course" in html
    client.force_login(student.user)
    assert client.get(f"/courses/{course.slug}/changes/").status_code == 404


def test_the_settings_page_costs_flat_queries(
    client, course, instructor, homework, django_assert_max_num_queries
):
    from tests.factories import AssignmentFactory

    AssignmentFactory(course=course, category=homework, slug="a0")
    client.force_login(instructor.user)
    with django_assert_max_num_queries(20) as few:
        assert client.get(s_url(course)).status_code == 200
    for n in range(1, 15):
        a = AssignmentFactory(course=course, category=homework, slug=f"a{n}")
        QuestionFactory(assignment=a, slug="q1")
        CategoryFactory(course=course, slug=f"cat{n}", weight=Decimal(0))
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = client.get(s_url(course)).content.decode()
    assert "Save A14" in html
