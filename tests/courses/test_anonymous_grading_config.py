"""The course config's ``anonymous_grading`` key: a strict boolean (default false), loaded
onto the assignment; reloading leaves the instructor's reveal alone."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.utils import timezone

from courses.models import Assignment
from courses.services import course_load
from tests.courses.test_load_course import GOOD, edit, problems_of, workdir, write

pytestmark = pytest.mark.django_db

__all__ = ["workdir"]  # the fixture, used by name

ON = ("collaboration = false", "collaboration = false\nanonymous_grading = true")


def test_assignments_are_graded_with_names_by_default() -> None:
    course_load(path=GOOD)
    assert not Assignment.objects.filter(anonymous_grading=True).exists()


def test_anonymous_grading_true_is_loaded(workdir: Path) -> None:
    course_load(path=write(workdir, edit(ON)))
    ps0 = Assignment.objects.get(slug="ps0")
    assert ps0.anonymous_grading is True and ps0.names_revealed_at is None
    assert not Assignment.objects.exclude(slug="ps0").filter(anonymous_grading=True).exists()


@pytest.mark.parametrize("typed", ['"yes"', "1", '"true"', "[true]"])
def test_a_non_boolean_is_refused_and_nothing_is_written(workdir: Path, typed: str) -> None:
    bad = ("collaboration = false", f"collaboration = false\nanonymous_grading = {typed}")
    problems = problems_of(write(workdir, edit(bad)))
    assert any(
        p.startswith("assignments[ps0].anonymous_grading: must be true or false") for p in problems
    ), problems
    assert not Assignment.objects.exists()


def test_reloading_keeps_the_reveal_and_turning_it_off_is_an_update(workdir: Path) -> None:
    path = write(workdir, edit(ON))
    course_load(path=path)
    Assignment.objects.filter(slug="ps0").update(names_revealed_at=timezone.now())
    report = course_load(path=path)
    assert not report.changed
    assert Assignment.objects.get(slug="ps0").names_revealed_at is not None
    course_load(path=GOOD)
    assert Assignment.objects.get(slug="ps0").anonymous_grading is False
