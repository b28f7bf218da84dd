"""The Deep Learning course as the browser tests build it: the course, its undergraduate
section, the homework category, and people with names a page shows."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from courses.models import Category, Course, Enrollment, Section
from tests.factories import (
    CategoryFactory,
    CourseFactory,
    EnrollmentFactory,
    SectionFactory,
    UserFactory,
)


@dataclass
class DeepLearning:
    course: Course
    ug: Section
    homework: Category


def deep_learning(**course_fields: Any) -> DeepLearning:
    """CS 4803/7643 Spring 2021 with its CS4803 section and 80% homework; ``course_fields``
    add to (or replace) the course's fields."""
    course = CourseFactory(
        slug="cs7643-sp21",
        title="Deep Learning",
        term="Spring 2021",
        **course_fields,
    )
    ug = SectionFactory(course=course, code="CS4803", level="undergraduate", capacity=90)
    homework = CategoryFactory(course=course, slug="homework", weight=Decimal(80))
    return DeepLearning(course=course, ug=ug, homework=homework)


def person(username: str, first: str = "", last: str = "", **enrollment: Any) -> Enrollment:
    """An enrolled person with a name (``section=…, role=…`` or ``course=…`` as for
    EnrollmentFactory)."""
    user = UserFactory(username=username, first_name=first, last_name=last)
    enrollment.setdefault("role", "student")
    result: Enrollment = EnrollmentFactory(user=user, **enrollment)
    return result


def george(dl: DeepLearning) -> Enrollment:
    """The undergraduate every browser test follows."""
    return person("gburdell", "George", "Burdell", section=dl.ug)
