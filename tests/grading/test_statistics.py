"""Statistics of an assignment: the pure arithmetic (grading.statistics), and the API and
page over the grades the one selector computes, overall, per question and per section;
staff only; queries flat in the number of students."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from grading import services
from grading.statistics import histogram, summarize
from tests.factories import EnrollmentFactory, QuestionFactory

D = Decimal


# --- the arithmetic -------------------------------------------------------------------------------


def test_a_summary_of_scores() -> None:
    s = summarize([D(2), D(4), D(4), D(4), D(5), D(5), D(7), D(9)], D(10))
    assert (s.count, s.mean, s.median, s.stdev, s.min, s.max) == (
        8,
        D("5.00"),
        D("4.50"),
        D("2.00"),  # the population's standard deviation
        D("2.00"),
        D("9.00"),
    )
    assert [(b.start, b.end, b.count) for b in s.histogram[:3]] == [
        (D("0.00"), D("1.00"), 0),
        (D("1.00"), D("2.00"), 0),
        (D("2.00"), D("3.00"), 1),
    ]
    assert sum(b.count for b in s.histogram) == 8


def test_no_scores_have_no_numbers_and_one_score_no_spread() -> None:
    empty = summarize([], D(10))
    assert empty.count == 0 and empty.mean is None and empty.stdev is None
    assert len(empty.histogram) == 10 and all(b.count == 0 for b in empty.histogram)
    one = summarize([D("7.5")], D(10))
    assert (one.mean, one.median, one.stdev) == (D("7.50"), D("7.50"), D("0.00"))


def test_full_marks_fall_in_the_last_bin_and_extra_credit_widens_the_range() -> None:
    bins = histogram([D(0), D(10), D("9.99")], D(10))
    assert bins[0].count == 1 and bins[-1].count == 2 and bins[-1].end == D(10)
    wider = summarize([D(12)], D(10))
    assert wider.histogram[-1].end == D("12.00") and wider.histogram[-1].count == 1


# --- the API and the page --------------------------------------------------------------------------


@pytest.fixture
def graded(course: Any, sections: Any, assignment: Any, instructor: Any) -> dict[str, Any]:
    """HW with two questions (q1: 6 points, q2: 4); three undergraduates and one graduate
    student graded, one undergraduate not; a waitlisted student graded (not counted)."""
    QuestionFactory(assignment=assignment, slug="q1", title="Shapes", points=6, position=0)
    QuestionFactory(assignment=assignment, slug="q2", title="Loss", points=4, position=1)
    people = {}
    for name, section, q1, q2 in [
        ("u1", "CS4803", 6, 4),
        ("u2", "CS4803", 3, 1),
        ("u3", "CS4803", 0, 2),
        ("g1", "CS7643", 5, 4),
    ]:
        who = EnrollmentFactory(section=sections[section], role="student")
        people[name] = who
        for slug, points in (("q1", q1), ("q2", q2)):
            services.grade_set(
                by=instructor,
                assignment=assignment,
                student=who.user,
                question=slug,
                points=D(points),
            )
    EnrollmentFactory(section=sections["CS4803"], role="student")  # ungraded: left out
    waiting = EnrollmentFactory(section=sections["CS4803"], role="waitlisted")
    services.grade_set(
        by=instructor, assignment=assignment, student=waiting.user, question="q1", points=D(0)
    )
    return people


def url(assignment: Any) -> str:
    return f"/api/v1/courses/{assignment.course.slug}/assignments/{assignment.slug}/statistics/"


@pytest.mark.django_db
def test_the_api_gives_the_numbers_overall_per_question_and_per_section(
    api_client: Any, ta: Any, assignment: Any, graded: Any
) -> None:
    api_client.force_authenticate(ta.user)
    body = api_client.get(url(assignment)).json()
    # Totals: 10, 4, 2, 9 (the ungraded and the waitlisted student are not counted).
    assert (body["count"], body["mean"], body["median"], body["min"], body["max"]) == (
        4,
        6.25,
        6.5,
        2.0,
        10.0,
    )
    assert body["stdev"] == 3.34  # sqrt(44.75 / 4)
    assert body["histogram"][0] == {"from": 0.0, "to": 1.0, "count": 0}
    assert body["histogram"][-1] == {"from": 9.0, "to": 10.0, "count": 2}  # 9 and 10
    assert sum(b["count"] for b in body["histogram"]) == 4
    assert body["released"] is False and body["assignment"] == assignment.slug
    questions = {q["slug"]: q for q in body["questions"]}
    assert (questions["q1"]["title"], questions["q1"]["mean"], questions["q1"]["max_points"]) == (
        "Shapes",
        3.5,
        6.0,
    )
    assert questions["q2"]["median"] == 3.0
    sections = {s["code"]: s for s in body["sections"]}
    assert sections["CS4803"]["count"] == 3 and sections["CS4803"]["mean"] == 5.33
    assert sections["CS7643"]["count"] == 1 and sections["CS7643"]["level"] == "graduate"


@pytest.mark.django_db
def test_students_and_strangers_get_404(
    api_client: Any, student: Any, assignment: Any, graded: Any
) -> None:
    api_client.force_authenticate(student.user)
    assert api_client.get(url(assignment)).status_code == 404
    wrong = url(assignment).replace(assignment.slug, "nope")
    api_client.force_authenticate(graded["u1"].user)
    assert api_client.get(wrong).status_code == 404


@pytest.mark.django_db
def test_the_query_count_stays_flat_as_students_grow(
    api_client: Any, ta: Any, sections: Any, assignment: Any, instructor: Any, graded: Any
) -> None:
    api_client.force_authenticate(ta.user)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert api_client.get(url(assignment)).status_code == 200
        return len(queries)

    few = count()
    for _ in range(25):
        who = EnrollmentFactory(section=sections["CS7643"], role="student")
        services.grade_set(
            by=instructor, assignment=assignment, student=who.user, question="q1", points=D(3)
        )
    assert count() == few


@pytest.mark.django_db
def test_the_page_shows_the_tables_and_carries_the_histogram(
    client: Any, instructor: Any, assignment: Any, graded: Any
) -> None:
    services.grades_release(enrollment=instructor, assignment=assignment, now=timezone.now())
    client.force_login(instructor.user)
    page = client.get(
        f"/courses/{assignment.course.slug}/assignments/{assignment.slug}/statistics/"
    ).content.decode()
    assert 'id="summary"' in page and 'id="sections"' in page and 'id="questions"' in page
    assert '<canvas id="histogram" role="img"' in page
    assert 'id="histogram-data"' in page and "vendor/chartjs/chart.umd.min.js" in page
    assert "a missing submission counts 0" in page
    detail = client.get(
        f"/courses/{assignment.course.slug}/assignments/{assignment.slug}/"
    ).content.decode()
    assert f"/assignments/{assignment.slug}/statistics/" in detail
