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
def course(db):
    return CourseFactory()


@pytest.fixture
def sections(course):
    """The two sections of the Deep Learning course."""
    return {
        "CS4803": SectionFactory(course=course, code="CS4803", level="undergraduate"),
        "CS7643": SectionFactory(course=course, code="CS7643", level="graduate"),
    }


@pytest.fixture
def homework(course):
    return CategoryFactory(course=course, slug="homework", weight=80)


@pytest.fixture
def student(sections):
    return EnrollmentFactory(section=sections["CS4803"], role="student")


@pytest.fixture
def grad_student(sections):
    return EnrollmentFactory(section=sections["CS7643"], role="student")


@pytest.fixture
def ta(sections):
    return EnrollmentFactory(section=sections["CS4803"], role="ta")


@pytest.fixture
def instructor(course):
    return EnrollmentFactory(course=course, section=None, role="instructor")


@pytest.fixture
def assignment(course, homework):
    return AssignmentFactory(course=course, category=homework, slug="hw1", title="HW1")
