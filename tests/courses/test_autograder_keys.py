"""The course config's container-engine keys of ``autograder``: ``image``, ``cpus`` and
``network`` load, export back the same, and bad values are refused with the key named."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from courses.models import Assignment, Course
from courses.services import course_export, course_load
from tests.courses.test_load_course import GOOD_TEXT, edit, problems_of, workdir, write

pytestmark = pytest.mark.django_db

__all__ = ["workdir"]

HW1 = (
    'autograder = { bundle = "autograders/hw1", queue = "gpu", timeout_s = 600, memory_mb = 4096 }'
)


def with_keys(keys: str) -> str:
    return edit((HW1, HW1[:-2] + ", " + keys + " }"))


def test_defaults_without_the_keys(workdir: Path) -> None:
    course_load(path=write(workdir, GOOD_TEXT))
    hw1 = Assignment.objects.get(slug="hw1")
    assert (hw1.autograder_image, hw1.autograder_cpus, hw1.autograder_network) == (
        "",
        Decimal(1),
        False,
    )
    assert "image" not in course_export(course=Course.objects.get())


def test_the_keys_load_and_export_back(workdir: Path) -> None:
    text = with_keys('image = "registry.example.edu/dl/pytorch:2.4", cpus = 2.5, network = true')
    course_load(path=write(workdir, text))
    hw1 = Assignment.objects.get(slug="hw1")
    assert hw1.autograder_image == "registry.example.edu/dl/pytorch:2.4"
    assert hw1.autograder_cpus == Decimal("2.5")
    assert hw1.autograder_network is True

    exported = course_export(course=Course.objects.get(), base_dir=workdir)
    assert 'image = "registry.example.edu/dl/pytorch:2.4"' in exported
    assert "cpus = 2.5" in exported and "network = true" in exported
    # Loading the export changes nothing.
    report = course_load(path=write(workdir, exported, "again.toml"))
    assert not report.changed
    again = Assignment.objects.get(slug="hw1")
    assert (again.autograder_image, again.autograder_cpus, again.autograder_network) == (
        "registry.example.edu/dl/pytorch:2.4",
        Decimal("2.5"),
        True,
    )


@pytest.mark.parametrize(
    ("keys", "problem"),
    [
        ('image = "bad image name"', "image"),
        ("image = 3", "image"),
        ("cpus = 0", "cpus"),
        ("cpus = -1", "cpus"),
        ('cpus = "two"', "cpus"),
        ('network = "yes"', "network"),
        ("gpus = 2", "gpus"),
    ],
)
def test_bad_values_are_refused_naming_the_key(workdir: Path, keys: str, problem: str) -> None:
    problems = problems_of(write(workdir, with_keys(keys)))
    assert len(problems) == 1, problems
    assert "hw1" in problems[0] and f"autograder.{problem}" in problems[0], problems[0]
    assert not Course.objects.exists()
