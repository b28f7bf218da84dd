"""The admin's assignment and extension forms show and read times on the course's clock, and
name the zone on each time field."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.contrib.auth import get_user_model

from tests.factories import AssignmentFactory, CourseFactory, ExtensionFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, db):
    superuser = get_user_model().objects.create_superuser("root", "root@example.edu", "pw-1234")
    client.force_login(superuser)
    return client


@pytest.fixture
def tokyo_hw():
    course = CourseFactory(slug="tokyo", timezone="Asia/Tokyo")
    return AssignmentFactory(
        course=course,
        slug="hw1",
        release_at=datetime(2030, 1, 1, 0, 0, tzinfo=UTC),
        due_at=datetime(2030, 3, 1, 14, 59, tzinfo=UTC),  # 23:59 in Tokyo
    )


def test_the_assignment_form_is_on_the_courses_clock(admin_client, tokyo_hw):
    url = f"/admin/courses/assignment/{tokyo_hw.pk}/change/"
    html = admin_client.get(url).content.decode()
    assert "Due at (Asia/Tokyo)" in html and "Release at (Asia/Tokyo)" in html
    assert 'name="due_at_0" value="2030-03-01"' in html
    assert 'name="due_at_1" value="23:59:00"' in html

    form = {
        "course": tokyo_hw.course_id,
        "slug": "hw1",
        "title": "HW1",
        "category": tokyo_hw.category_id,
        "position": 0,
        "points": "100",
        "release_at_0": "2030-01-01",
        "release_at_1": "09:00:00",
        "due_at_0": "2030-03-02",
        "due_at_1": "23:59:00",
        "grace_days": 2,
        "after_grace": "refuse",
        "collaboration": "on",
        "group_min": 1,
        "group_max": 1,
        "max_upload_mb": 50,
        "autograder_queue": "cpu",
        "autograder_timeout_s": 600,
        "autograder_memory_mb": 768,
        "autograder_cpus": "1",
        "questions-TOTAL_FORMS": 0,
        "questions-INITIAL_FORMS": 0,
        "questions-MIN_NUM_FORMS": 0,
        "questions-MAX_NUM_FORMS": 1000,
    }
    r = admin_client.post(url, form)
    assert r.status_code == 302, r.content.decode()[:3000]
    tokyo_hw.refresh_from_db()
    assert tokyo_hw.due_at == datetime(2030, 3, 2, 14, 59, tzinfo=UTC)


def test_the_extension_form_is_on_the_courses_clock(admin_client, tokyo_hw):
    extension = ExtensionFactory(
        assignment=tokyo_hw, student=UserFactory(), due_at=datetime(2030, 3, 5, 14, 59, tzinfo=UTC)
    )
    html = admin_client.get(f"/admin/courses/extension/{extension.pk}/change/").content.decode()
    assert "Due at (Asia/Tokyo)" in html
    assert 'name="due_at_1" value="23:59:00"' in html
