from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tests.factories import (
    AssignmentFactory,
    CategoryFactory,
    CourseFactory,
    EnrollmentFactory,
    SectionFactory,
)


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def course(db):  # type: ignore[no-untyped-def]
    return CourseFactory()


@pytest.fixture
def sections(course):  # type: ignore[no-untyped-def]
    """The two sections of the Deep Learning course."""
    return {
        "CS4803": SectionFactory(course=course, code="CS4803", level="undergraduate"),
        "CS7643": SectionFactory(course=course, code="CS7643", level="graduate"),
    }


@pytest.fixture
def homework(course):  # type: ignore[no-untyped-def]
    return CategoryFactory(course=course, slug="homework", weight=80)


@pytest.fixture
def student(sections):  # type: ignore[no-untyped-def]
    return EnrollmentFactory(section=sections["CS4803"], role="student")


@pytest.fixture
def grad_student(sections):  # type: ignore[no-untyped-def]
    return EnrollmentFactory(section=sections["CS7643"], role="student")


@pytest.fixture
def ta(sections):  # type: ignore[no-untyped-def]
    return EnrollmentFactory(section=sections["CS4803"], role="ta")


@pytest.fixture
def instructor(course):  # type: ignore[no-untyped-def]
    return EnrollmentFactory(course=course, section=None, role="instructor")


@pytest.fixture
def assignment(course, homework):  # type: ignore[no-untyped-def]
    return AssignmentFactory(course=course, category=homework, slug="hw1", title="HW1")
