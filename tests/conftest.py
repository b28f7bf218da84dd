from __future__ import annotations

import pytest
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from rest_framework.test import APIClient

from tests.factories import (
    AssignmentFactory,
    CategoryFactory,
    CourseFactory,
    EnrollmentFactory,
    SectionFactory,
)


@pytest.fixture(autouse=True)
def _fresh_throttle_counts() -> None:
    """Each test starts with no request counted against any throttle (the counts live in
    Redis, keyed by user id, which a new test database hands out again)."""
    cache = caches["throttle"]
    if not isinstance(cache, RedisCache):
        cache.clear()
        return
    client = cache._cache.get_client(write=True)
    keys = list(client.scan_iter(match=f"{cache.key_prefix}:*", count=1000))
    if keys:
        client.delete(*keys)


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
