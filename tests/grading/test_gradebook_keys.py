"""The gradebook's remembered keys (grading.selectors.gradebook_keys): a sort or filter over the
whole course recomputes only the students whose grades, role or level changed since, and
everyone when the configuration or a release did; whatever path wrote the change, the page
and the Canvas export read exactly what a fresh computation gives."""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from courses.models import Category, Enrollment, Question
from grading import services
from grading.models import Grade
from grading.selectors import gradebook_export, gradebook_keys
from grading.selectors.staff_gradebook import GradebookFilters, gradebook_page
from tests.factories import (
    AssignmentFactory,
    CategoryFactory,
    EnrollmentFactory,
    QuestionFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

N = 8


@pytest.fixture(autouse=True)
def forgetting(monkeypatch: Any) -> Any:
    monkeypatch.setattr(services, "publish", lambda job: None)
    gradebook_keys.forget()
    yield
    gradebook_keys.forget()


@pytest.fixture
def book(course: Any, sections: Any, homework: Any, ta: Any) -> dict[str, Any]:
    """Two released homeworks (HW2 with an extra-credit question for 4803), one not yet, and
    a released project;
    eight students alternating sections, one waitlisted, with varied grades."""
    project = CategoryFactory(course=course, slug="project", weight=20)
    released = timezone.now() - timedelta(days=1)
    hw1 = AssignmentFactory(
        course=course,
        category=homework,
        slug="hw1",
        position=1,
        points=100,
        grades_released_at=released,
        readiness_threshold=Decimal(75),
    )
    hw2 = AssignmentFactory(
        course=course, category=homework, slug="hw2", position=2, grades_released_at=released
    )
    QuestionFactory(assignment=hw2, slug="q1", points=10, position=0)
    QuestionFactory(assignment=hw2, slug="q2", points=10, position=1, undergraduate="extra_credit")
    hw3 = AssignmentFactory(
        course=course,
        category=homework,
        slug="hw3",
        position=3,
        grades_released_at=timezone.now() + timedelta(hours=1),
    )
    proj = AssignmentFactory(
        course=course, category=project, slug="proj", position=4, grades_released_at=released
    )
    students = []
    for i in range(N):
        user = UserFactory(username=f"s{i}", last_name=f"L{i}")
        students.append(
            EnrollmentFactory(
                user=user,
                section=sections["CS4803" if i % 2 else "CS7643"],
                role="waitlisted" if i == 5 else "student",
            )
        )
        if i != 3:  # s3 hands nothing in: missing
            Grade.objects.create(assignment=hw1, student=user, question="", points=40 + 7 * i)
            Grade.objects.create(assignment=hw2, student=user, question="q1", points=i % 10)
            Grade.objects.create(assignment=hw2, student=user, question="q2", points=(3 * i) % 10)
            Grade.objects.create(assignment=hw3, student=user, question="", points=90 - i)
        Grade.objects.create(assignment=proj, student=user, question="", points=100 - 9 * i)
    return {"hw1": hw1, "hw2": hw2, "hw3": hw3, "students": students, "ta": ta, "course": course}


QUERIES = [
    GradebookFilters(sort="final_percent", order="desc"),
    GradebookFilters(sort="assignment:hw2"),
    GradebookFilters(sort="category:homework", order="desc"),
    GradebookFilters(missing="any"),
    GradebookFilters(flagged=True, sort="assignment:hw1"),
]


def _read(book: dict[str, Any], filters: GradebookFilters, now: Any = None) -> list[Any]:
    page = gradebook_page(
        enrollment=book["ta"], now=now or timezone.now(), page_size=100, filters=filters
    )
    return [
        (
            r.enrollment.user.username,
            r.report.final_percent,
            tuple((c.points, c.missing, c.excused) for c in r.cells),
        )
        for r in page.rows
    ]


def _everything(book: dict[str, Any], now: Any = None) -> list[Any]:
    now = now or timezone.now()
    rows, _ = gradebook_export(enrollment=book["ta"], now=now)
    return [_read(book, f, now) for f in QUERIES] + [rows]


def _fresh(book: dict[str, Any], now: Any = None) -> list[Any]:
    gradebook_keys.forget()
    return _everything(book, now)


def test_a_second_sort_recomputes_nobody(book) -> None:
    first = _read(book, QUERIES[0])
    assert gradebook_keys.last_recomputed == N
    assert _read(book, QUERIES[0]) == first
    assert gradebook_keys.last_recomputed == 0
    assert _read(book, QUERIES[3])[0][0] == "s3"  # another sort and filter, still nobody
    assert gradebook_keys.last_recomputed == 0


def _service(book: dict[str, Any]) -> None:
    services.grade_set(
        by=None, assignment=book["hw1"], student=book["students"][2].user, points=Decimal(99)
    )


def _update(book: dict[str, Any]) -> None:
    # both of HW2's rows change alike: their changes must not cancel out in the fingerprint
    Grade.objects.filter(student=book["students"][2].user, assignment=book["hw2"]).update(
        points=Decimal(7)
    )


def _bulk_update(book: dict[str, Any]) -> None:
    grades = list(Grade.objects.filter(student=book["students"][2].user))
    for g in grades:
        g.points = Decimal(1)
    Grade.objects.bulk_update(grades, ["points"])


def _excuse(book: dict[str, Any]) -> None:
    Grade.objects.filter(
        student=book["students"][2].user, assignment=book["hw1"], question=""
    ).update(excused=True)


def _delete(book: dict[str, Any]) -> None:
    Grade.objects.filter(student=book["students"][2].user, assignment=book["hw1"]).delete()


def _hand_in(book: dict[str, Any]) -> None:
    Grade.objects.create(
        assignment=book["hw1"], student=book["students"][3].user, question="", points=100
    )


def _enrol(book: dict[str, Any]) -> None:
    Enrollment.objects.filter(pk=book["students"][5].pk).update(role="student")


def _move_section(book: dict[str, Any]) -> None:
    grad = book["students"][0].section
    Enrollment.objects.filter(pk=book["students"][1].pk).update(section=grad)


def _override(book: dict[str, Any]) -> None:
    Grade.objects.filter(student=book["students"][2].user, assignment=book["hw2"]).update(
        override=Decimal(5)
    )


def _review(book: dict[str, Any]) -> None:
    Grade.objects.filter(student=book["students"][2].user, question="q1").update(needs_review=True)


@pytest.mark.parametrize(
    "change",
    [
        _service,
        _update,
        _bulk_update,
        _excuse,
        _delete,
        _hand_in,
        _enrol,
        _move_section,
        _override,
        _review,
    ],
)
def test_one_students_change_by_any_path_recomputes_that_student_only(book, change) -> None:
    before = _everything(book)
    change(book)
    _read(book, QUERIES[0])
    assert gradebook_keys.last_recomputed == 1
    after = _everything(book)
    assert after == _fresh(book)
    if change not in (_override, _review):  # the numbers read the points (scoring's), not these
        assert after != before


def test_a_new_student_is_computed_and_a_dropped_one_left_out(book, sections) -> None:
    _everything(book)
    EnrollmentFactory(section=sections["CS4803"], role="student")
    Enrollment.objects.filter(pk=book["students"][0].pk).update(role="sit_in")
    first = _read(book, QUERIES[0])
    assert gradebook_keys.last_recomputed == 1
    assert "s0" not in [name for name, *_ in first]
    assert len(first) == N
    assert _everything(book) == _fresh(book)


@pytest.mark.parametrize(
    "change",
    [
        lambda b: Category.objects.filter(slug="homework").update(weight=60),
        lambda b: Question.objects.filter(slug="q2").update(points=5),
        lambda b: type(b["hw1"]).objects.filter(pk=b["hw1"].pk).update(points=50),
        lambda b: type(b["hw1"]).objects.filter(pk=b["hw1"].pk).update(readiness_threshold=90),
    ],
    ids=["weight", "question points", "assignment points", "threshold"],
)
def test_a_configuration_change_recomputes_everyone(book, change) -> None:
    before = _everything(book)
    change(book)
    _read(book, QUERIES[0])
    assert gradebook_keys.last_recomputed == N
    after = _everything(book)
    assert after == _fresh(book)
    assert after != before


def test_a_release_passing_recomputes_everyone(book) -> None:
    now = timezone.now()
    before = _everything(book, now)
    later = now + timedelta(hours=2)  # HW3's grades are released in between
    _read(book, QUERIES[0], later)
    assert gradebook_keys.last_recomputed == N
    after = _everything(book, later)
    assert after == _fresh(book, later)
    assert after != before


@pytest.mark.parametrize("seed", range(3))
def test_random_changes_always_read_what_a_fresh_computation_gives(book, seed) -> None:
    rng = random.Random(seed)
    students = book["students"]
    assignments = [book["hw1"], book["hw2"], book["hw3"]]
    for _ in range(12):
        who = rng.choice(students)
        kind = rng.randrange(4)
        if kind == 0:
            Grade.objects.update_or_create(
                assignment=assignments[0],
                student=who.user,
                question="",
                defaults={"points": Decimal(rng.randint(0, 120))},
            )
        elif kind == 1:
            Grade.objects.filter(student=who.user, assignment=rng.choice(assignments)).delete()
        elif kind == 2:
            Grade.objects.filter(student=who.user, question=rng.choice(["q1", "q2"])).update(
                override=rng.choice([None, Decimal(rng.randint(0, 12))])
            )
        else:
            Enrollment.objects.filter(pk=who.pk).update(role=rng.choice(["student", "waitlisted"]))
        assert _everything(book) == _fresh(book)


@pytest.mark.parametrize("column", ["points", "override"])
def test_a_grade_going_between_none_and_zero_changes_the_fingerprint(
    book: dict[str, Any], column: str
) -> None:
    """PostgreSQL hashes a zero numeric to ``seed - 1``: NULL must hash apart from it for
    every seed (found by the one-grade-truth state machine: an adjustment of -2 on a missing
    cell made it 0 and the export kept it missing). Every student's rows, each seed, both ways."""
    course_id = book["course"].pk
    rows = Grade.objects.filter(assignment__course_id=course_id)
    rows.update(**{column: None})
    with_none = gradebook_keys._fingerprints(course_id)
    rows.update(**{column: Decimal("0.00")})
    with_zero = gradebook_keys._fingerprints(course_id)
    assert len(with_none) == N
    assert all(with_none[s] != with_zero[s] for s in with_none), (with_none, with_zero)
    # One row at a time, over many seeds (each question name and assignment gives another).
    user = book["students"][0].user
    for n in range(64):
        Grade.objects.create(
            assignment=book["hw1"], student=user, question=f"extra{n}", **{column: None}
        )
        before = gradebook_keys._fingerprints(course_id)[user.pk]
        Grade.objects.filter(student=user, question=f"extra{n}").update(**{column: Decimal(0)})
        assert gradebook_keys._fingerprints(course_id)[user.pk] != before, n
