"""The staff gradebook's filters (level, role, flagged, missing, section, search), its sort by
any column, its question drill-down and its category columns, on the API and the page alike
(one selector), with anonymous grading withholding what a TA may not sort or filter by, and
query counts that stay flat as students grow, whether the page is computed in SQL or from
every student's grades."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from grading import services
from grading.models import Grade
from tests.factories import (
    AssignmentFactory,
    CategoryFactory,
    EnrollmentFactory,
    QuestionFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def quiet(monkeypatch: Any, media: Any) -> None:
    monkeypatch.setattr(services, "publish", lambda job: None)


def _grade(assignment: Any, enrollment: Any, points: str, question: str = "") -> None:
    Grade.objects.create(
        assignment=assignment, student=enrollment.user, question=question, points=Decimal(points)
    )


@pytest.fixture
def book(course: Any, sections: Any, homework: Any, ta: Any, instructor: Any) -> dict[str, Any]:
    """PS0 (weight 0, flags at or below 75%), HW1 (100 points), HW2 (two questions of 10)
    released, HW3 not; four students named so that their name order is a, b, c, d:

    =======  =======  ==========  ====  ========  ==========  =====
    student  section  role        PS0   HW1       HW2         final
    =======  =======  ==========  ====  ========  ==========  =====
    ann      CS4803   student     70    90        5 + 5       83.33
    ben      CS7643   student     90    missing   10 + 10     16.67
    cat      CS4803   waitlisted  80    50        (nothing)   none
    dan      CS7643   student     60    excused   2 (q1)      10
    =======  =======  ==========  ====  ========  ==========  =====
    """
    released = timezone.now() - timedelta(days=1)
    ps0_cat = CategoryFactory(course=course, slug="ps0", weight=0)
    ps0 = AssignmentFactory(
        course=course,
        category=ps0_cat,
        slug="ps0",
        title="PS0",
        position=0,
        readiness_threshold=Decimal(75),
        grades_released_at=released,
    )
    hw1 = AssignmentFactory(
        course=course,
        category=homework,
        slug="hw1",
        title="HW1",
        position=1,
        grades_released_at=released,
    )
    hw2 = AssignmentFactory(
        course=course,
        category=homework,
        slug="hw2",
        title="HW2",
        position=2,
        grades_released_at=released,
    )
    QuestionFactory(assignment=hw2, slug="q1", title="Backprop", points=10, position=0)
    QuestionFactory(assignment=hw2, slug="q2", title="Adam", points=10, position=1)
    hw3 = AssignmentFactory(course=course, category=homework, slug="hw3", title="HW3", position=3)

    def person(name: str, section: str, role: str = "student") -> Any:
        user = UserFactory(username=name, first_name=name.capitalize(), last_name=f"{name}son")
        return EnrollmentFactory(user=user, section=sections[section], role=role)

    ann, ben = person("ann", "CS4803"), person("ben", "CS7643")
    cat, dan = person("cat", "CS4803", "waitlisted"), person("dan", "CS7643")
    for who, ps0_points in ((ann, "70"), (ben, "90"), (cat, "80"), (dan, "60")):
        _grade(ps0, who, ps0_points)
    _grade(hw1, ann, "90")
    _grade(hw1, cat, "50")
    services.grade_set(by=instructor, assignment=hw1, student=dan.user, excused=True)
    for who, q1, q2 in ((ann, "5", "5"), (ben, "10", "10")):
        _grade(hw2, who, q1, "q1")
        _grade(hw2, who, q2, "q2")
    _grade(hw2, dan, "2", "q1")
    _grade(hw3, ann, "100")
    return {"ps0": ps0, "hw1": hw1, "hw2": hw2, "hw3": hw3, "ta": ta, "course": course}


def _names(api_client: Any, course: Any, query: str) -> list[str]:
    r = api_client.get(f"/api/v1/courses/{course.slug}/gradebook/{query}")
    assert r.status_code == 200, r.content
    body = r.json()
    names = [row["username"] for row in body["results"]]
    assert body["count"] >= len(names)
    return names


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["ann", "ben", "cat", "dan"]),
        ("?level=graduate", ["ben", "dan"]),
        ("?level=undergraduate", ["ann", "cat"]),
        ("?role=waitlisted", ["cat"]),
        ("?role=student", ["ann", "ben", "dan"]),
        ("?flagged=true", ["ann", "dan"]),
        ("?flagged=1&section=CS7643", ["dan"]),
        ("?flagged=false", ["ann", "ben", "cat", "dan"]),
        # a waitlisted student's unsubmitted HW2 is not missing (not charged until enrolled)
        ("?missing=any", ["ben"]),
        ("?missing=hw1", ["ben"]),
        ("?missing=hw2", []),
        ("?missing=hw3", []),  # not released: nothing is missing yet
        ("?search=BEN", ["ben"]),
        ("?section=CS4803&role=student", ["ann"]),
        ("?missing=any&level=undergraduate", []),
    ],
)
def test_each_filter(api_client, book, query, expected) -> None:
    api_client.force_authenticate(book["ta"].user)
    assert _names(api_client, book["course"], query) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("?sort=name", ["ann", "ben", "cat", "dan"]),
        ("?sort=name&order=desc", ["dan", "cat", "ben", "ann"]),
        ("?sort=section", ["ann", "cat", "ben", "dan"]),
        ("?sort=section&order=desc", ["ben", "dan", "ann", "cat"]),  # by name within
        # points: missing counts 0; excused and the waitlisted student's nothing come last
        ("?sort=assignment:hw1", ["ben", "cat", "ann", "dan"]),
        ("?sort=assignment:hw1&order=desc", ["ann", "cat", "ben", "dan"]),
        ("?sort=assignment:hw2&order=desc", ["ben", "ann", "dan", "cat"]),
        ("?sort=assignment:ps0", ["dan", "ann", "cat", "ben"]),
        # ties keep the name order, whichever way: HW3 is ungraded but for ann
        ("?sort=assignment:hw3&order=desc", ["ann", "ben", "cat", "dan"]),
        ("?sort=final_percent", ["dan", "ben", "ann", "cat"]),
        ("?sort=final_percent&order=desc", ["ann", "ben", "dan", "cat"]),
        ("?sort=category:homework&order=desc", ["ann", "cat", "ben", "dan"]),
        ("?sort=category:ps0", ["dan", "ann", "cat", "ben"]),
        ("?sort=final_percent&flagged=true", ["dan", "ann"]),
    ],
)
def test_each_sort(api_client, book, query, expected) -> None:
    api_client.force_authenticate(book["ta"].user)
    assert _names(api_client, book["course"], query) == expected


def test_a_computed_sort_pages_after_sorting(api_client, book) -> None:
    api_client.force_authenticate(book["ta"].user)
    course = book["course"]
    body = api_client.get(
        f"/api/v1/courses/{course.slug}/gradebook/?sort=final_percent&page=2&page_size=2"
    ).json()
    assert body["count"] == 4 and [r["username"] for r in body["results"]] == ["ann", "cat"]
    flagged = api_client.get(
        f"/api/v1/courses/{course.slug}/gradebook/?flagged=1&page=2&page_size=1"
    ).json()
    assert flagged["count"] == 2 and [r["username"] for r in flagged["results"]] == ["dan"]


def test_rows_carry_each_categorys_percent(api_client, book) -> None:
    api_client.force_authenticate(book["ta"].user)
    rows = {
        r["username"]: r
        for r in api_client.get(f"/api/v1/courses/{book['course'].slug}/gradebook/").json()[
            "results"
        ]
    }
    assert rows["ann"]["categories"] == {"homework": 83.33, "ps0": 70.0}
    assert rows["ann"]["final_percent"] == 83.33
    assert rows["cat"]["final_percent"] is None


@pytest.mark.parametrize(
    "query",
    [
        "?level=postdoc",
        "?role=ta",
        "?flagged=maybe",
        "?missing=hw9",
        "?sort=assignment:hw9",
        "?sort=category:labs",
        "?sort=points",
        "?order=sideways",
    ],
)
def test_bad_filters_are_refused(api_client, book, query) -> None:
    api_client.force_authenticate(book["ta"].user)
    r = api_client.get(f"/api/v1/courses/{book['course'].slug}/gradebook/{query}")
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid"


@pytest.fixture
def anonymous(book: Any) -> dict[str, Any]:
    """HW2 graded anonymously (released, names not revealed): its numbers, the final percent,
    the categories and the readiness flag are withheld from the TA."""
    hw2 = book["hw2"]
    hw2.anonymous_grading = True
    hw2.save()
    return book


@pytest.mark.parametrize(
    "query",
    [
        "?sort=assignment:hw2",
        "?missing=hw2",
        "?sort=final_percent",
        "?sort=category:homework",
        "?flagged=true",
    ],
)
def test_a_ta_cannot_sort_or_filter_by_withheld_numbers(
    api_client, client, anonymous, instructor, query
) -> None:
    course = anonymous["course"]
    api_client.force_authenticate(anonymous["ta"].user)
    r = api_client.get(f"/api/v1/courses/{course.slug}/gradebook/{query}")
    assert r.status_code == 400 and r.json()["error"]["code"] == "withheld"
    assert "HW2" in r.json()["error"]["message"]
    client.force_login(anonymous["ta"].user)
    page = client.get(f"/courses/{course.slug}/gradebook/{query}")
    assert page.status_code == 400 and "graded anonymously" in page.content.decode()
    assert 'id="student-ann"' in page.content.decode()  # the unfiltered book, by name
    api_client.force_authenticate(instructor.user)
    assert api_client.get(f"/api/v1/courses/{course.slug}/gradebook/{query}").status_code == 200


def test_missing_any_leaves_out_withheld_assignments_for_a_ta(api_client, anonymous) -> None:
    hw2 = anonymous["hw2"]
    Grade.objects.filter(assignment=hw2, student__username="ann").delete()  # ann misses HW2
    api_client.force_authenticate(anonymous["ta"].user)
    course = anonymous["course"]
    assert _names(api_client, course, "?missing=any") == ["ben"]  # HW1 only, not ann's HW2
    assert _names(api_client, course, "?sort=assignment:hw1&order=desc")[0] == "ann"


def test_the_page_sorts_by_its_column_heads_and_keeps_filters_in_links(
    client, book, sections
) -> None:
    course = book["course"]
    client.force_login(book["ta"].user)
    html = client.get(
        f"/courses/{course.slug}/gradebook/?sort=assignment:hw1&order=desc&role=student"
    ).content.decode()
    order = [html.index(f'id="student-{n}"') for n in ("ann", "ben", "dan")]
    assert order == sorted(order) and 'id="student-cat"' not in html
    assert 'aria-sort="descending"' in html and html.count("aria-sort=") == 1
    # the sorted head links to the other order, keeping the filter
    assert 'href="?role=student&amp;sort=assignment%3Ahw1">HW1' in html
    assert 'href="?role=student&amp;sort=final_percent">Final %' in html
    assert 'name="role"' in html and '<option value="student" selected>' in html
    assert '<option value="graduate">Graduate</option>' in html
    assert 'id="id_flagged" name="flagged" type="checkbox"' in html
    flagged = client.get(f"/courses/{course.slug}/gradebook/?flagged=true").content.decode()
    assert 'id="student-ann"' in flagged and 'id="student-ben"' not in flagged
    assert "2 students match" in flagged
    missing = client.get(f"/courses/{course.slug}/gradebook/?missing=hw1").content.decode()
    assert 'id="student-ben"' in missing and 'id="student-ann"' not in missing


def test_the_page_shows_category_and_final_columns_and_drills_down_into_questions(
    client, book
) -> None:
    course = book["course"]
    client.force_login(book["ta"].user)
    html = client.get(f"/courses/{course.slug}/gradebook/").content.decode()
    assert "Homework %" in html and "Ps0 %" in html and "83.33%" in html
    assert "Backprop" not in html and "?expand=hw2" in html
    drill = client.get(f"/courses/{course.slug}/gradebook/?expand=hw2").content.decode()
    assert "HW2 · Backprop" in drill and "HW2 · Adam" in drill
    assert 'aria-expanded="true"' in drill
    row = drill[drill.index('id="student-ben"') :]
    row = row[: row.index("</tr>")]
    assert row.count('class="num question-col">10<') == 2


def test_paging_links_keep_filters_and_sort(client, book, sections) -> None:
    for _ in range(55):
        EnrollmentFactory(section=sections["CS4803"], role="student")
    client.force_login(book["ta"].user)
    html = client.get(
        f"/courses/{book['course'].slug}/gradebook/?level=undergraduate&sort=final_percent"
    ).content.decode()
    assert "Page 1 of 2" in html
    assert 'href="?level=undergraduate&amp;sort=final_percent&amp;page=2">Next' in html


def _more(course: Any, sections: Any, assignments: list[Any], n: int) -> None:
    for i in range(n):
        e = EnrollmentFactory(section=sections["CS4803" if i % 2 else "CS7643"], role="student")
        for a in assignments:
            Grade.objects.create(assignment=a, student=e.user, question="", points=i)


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/courses/{c}/gradebook/?level=graduate&sort=section&order=desc",
        "/api/v1/courses/{c}/gradebook/?sort=final_percent&missing=any",
        "/api/v1/courses/{c}/gradebook/?flagged=true&sort=category:homework",
        "/courses/{c}/gradebook/?sort=assignment:hw1&role=student&expand=hw2",
        "/courses/{c}/gradebook/?flagged=true&missing=hw1&level=undergraduate",
    ],
)
def test_the_query_count_is_flat_with_filters_and_sorts(client, book, sections, path) -> None:
    course = book["course"]
    assignments = [book["ps0"], book["hw1"]]
    client.force_login(book["ta"].user)
    counts = []
    for n in (3, 30):
        _more(course, sections, assignments, n - len(counts) * 3)
        with CaptureQueriesContext(connection) as ctx:
            r = client.get(path.format(c=course.slug))
        assert r.status_code == 200, r.content
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1], counts


def test_partial_rows_read_what_the_full_rows_say(book) -> None:
    """What the computed filters and sorts read of a partial row (grade_rows ``only``) is
    what the full row says: the cells, a whole category's percent, the readiness flag."""
    from courses.models import Enrollment
    from grading.selectors import grade_rows

    course = book["course"]
    students = list(
        Enrollment.objects.filter(course=course, role__in=["student", "waitlisted"])
        .select_related("user", "section")
        .order_by("user__username")
    )
    now = timezone.now()
    full = grade_rows(course_id=course.id, students=students, now=now)
    for only in ({"hw1"}, {"hw2", "hw3", "hw1"}, {"ps0"}):
        partial = grade_rows(
            course_id=course.id, students=students, now=now, questions=False, only=only
        )
        for f, p in zip(full, partial, strict=True):
            assert [c.assignment.slug for c in p.cells] == sorted(
                only, key=lambda s: [c.assignment.slug for c in f.cells].index(s)
            )
            for c in p.cells:
                whole = f.cell(c.assignment.slug)
                assert (c.points, c.missing, c.excused, c.percent) == (
                    whole.points,
                    whole.missing,
                    whole.excused,
                    whole.percent,
                )
            if only == {"hw2", "hw3", "hw1"}:
                assert p.report.category("homework") == f.report.category("homework")
            if only == {"ps0"}:
                assert p.report.readiness_flag == f.report.readiness_flag
