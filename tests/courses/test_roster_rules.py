"""Roster rules from the syllabus: waitlisted students hand in only what
``[course] waitlisted_may_submit`` names (403 ``waitlisted``), are never charged a missing zero
nor given a final percent until enrolled (their PS0 shows); project groups keep to one level
unless ``groups_mix_levels`` (409 ``group_mixed_levels``) and close with the last group
assignment (409 ``group_work_closed``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from courses.models import Course, GroupMembership, ProjectGroup
from courses.services import course_load
from grading import services as grading_services
from submissions.models import Submission
from tests.courses.test_load_course import GOOD, edit, problems_of, workdir, write
from tests.factories import AssignmentFactory, CategoryFactory, EnrollmentFactory

pytestmark = pytest.mark.django_db

__all__ = ["workdir"]  # the fixture, used by name

COURSE_KEYS = ("regrade_days = 7", 'regrade_days = 7\nwaitlisted_may_submit = ["ps0"]')


# --- the config keys ---------------------------------------------------------------------------


def test_by_default_waitlisted_students_may_submit_everything_and_groups_keep_to_a_level() -> None:
    course_load(path=GOOD)
    course = Course.objects.get()
    assert course.waitlisted_may_submit is None and course.groups_mix_levels is False


def test_the_keys_are_loaded(workdir: Path) -> None:
    keys = ("regrade_days = 7", COURSE_KEYS[1] + "\ngroups_mix_levels = true")
    course_load(path=write(workdir, edit(keys)))
    course = Course.objects.get()
    assert course.waitlisted_may_submit == ["ps0"] and course.groups_mix_levels is True


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ('waitlisted_may_submit = ["ps9"]', "course.waitlisted_may_submit: 'ps9' is not an"),
        ('waitlisted_may_submit = "ps0"', "course.waitlisted_may_submit"),
        ('groups_mix_levels = "no"', "course.groups_mix_levels: must be true or false"),
    ],
)
def test_bad_values_are_refused_and_nothing_is_written(
    workdir: Path, line: str, problem: str
) -> None:
    problems = problems_of(write(workdir, edit(("regrade_days = 7", f"regrade_days = 7\n{line}"))))
    assert any(p.startswith(problem) for p in problems), problems
    assert not Course.objects.exists()


# --- waitlisted students hand in what they may ---------------------------------------------------


def submit(api_client: Any, who: Any, assignment: Any) -> Any:
    api_client.force_authenticate(who.user)
    files = {"files": [SimpleUploadedFile("a.py", b"print(1)\n")]}
    url = f"/api/v1/courses/{assignment.course.slug}/assignments/{assignment.slug}/submissions/"
    return api_client.post(url, files, format="multipart")


@pytest.fixture
def ps0_and_hw1(course: Any, homework: Any, settings: Any, tmp_path: Any) -> tuple[Any, Any]:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    ps0 = AssignmentFactory(
        course=course, category=homework, slug="ps0", title="PS0", readiness_threshold=75
    )
    hw1 = AssignmentFactory(course=course, category=homework, slug="hw1", title="HW1")
    return ps0, hw1


def test_a_waitlisted_student_hands_in_ps0_only_when_the_course_says_so(
    api_client: Any, course: Any, sections: Any, student: Any, ps0_and_hw1: tuple[Any, Any]
) -> None:
    ps0, hw1 = ps0_and_hw1
    waitlisted = EnrollmentFactory(section=sections["CS7643"], role="waitlisted")
    assert submit(api_client, waitlisted, hw1).status_code == 201  # default: everything
    course.waitlisted_may_submit = ["ps0"]
    course.save()
    r = submit(api_client, waitlisted, hw1)
    assert r.status_code == 403 and r.json()["error"]["code"] == "waitlisted"
    assert "Waitlisted students hand in ps0 until they are enrolled" in r.json()["error"]["message"]
    assert Submission.objects.filter(assignment=hw1).count() == 1  # nothing new
    assert submit(api_client, waitlisted, ps0).status_code == 201
    assert submit(api_client, student, hw1).status_code == 201  # enrolled students: all


# --- the gradebook ---------------------------------------------------------------------------------


def test_a_waitlisted_student_is_not_charged_missing_zeros_nor_given_a_final_percent(
    api_client: Any,
    course: Any,
    sections: Any,
    student: Any,
    ta: Any,
    instructor: Any,
    ps0_and_hw1: tuple[Any, Any],
) -> None:
    ps0, hw1 = ps0_and_hw1
    past = datetime.now(UTC) - timedelta(days=10)
    for a in (ps0, hw1):
        a.release_at, a.due_at = past - timedelta(days=7), past
        a.save()
    waitlisted = EnrollmentFactory(section=sections["CS7643"], role="waitlisted")
    for who in (waitlisted, student):
        grading_services.grade_set(
            by=instructor, assignment=ps0, student=who.user, points=Decimal(60)
        )
    for a in (ps0, hw1):
        grading_services.grades_release(enrollment=instructor, assignment=a, now=timezone.now())
    api_client.force_authenticate(ta.user)
    rows = {
        r["username"]: r
        for r in api_client.get(f"/api/v1/courses/{course.slug}/gradebook/").json()["results"]
    }
    wait = rows[waitlisted.user.username]
    assert wait["assignments"]["ps0"]["points"] == 60.0
    assert wait["assignments"]["hw1"]["missing"] is False
    assert wait["assignments"]["hw1"]["points"] is None
    assert wait["final_percent"] is None
    assert wait["readiness_flag"] is True  # PS0 at 60% flags them all the same
    enrolled = rows[student.user.username]
    assert enrolled["assignments"]["hw1"]["missing"] is True
    assert enrolled["assignments"]["hw1"]["points"] == 0.0
    assert enrolled["final_percent"] == 30.0
    api_client.force_authenticate(waitlisted.user)
    mine = api_client.get(f"/api/v1/courses/{course.slug}/grades/").json()
    assert mine["final_percent"] is None


# --- project groups -------------------------------------------------------------------------------


@pytest.fixture
def project(course: Any) -> Any:
    category = CategoryFactory(course=course, slug="project", weight=20)
    return AssignmentFactory(
        course=course, category=category, slug="project", group=True, group_min=1, group_max=4
    )


def groups_url(course: Any) -> str:
    return f"/api/v1/courses/{course.slug}/groups/"


def test_a_group_keeps_to_one_level_unless_the_course_mixes_them(
    api_client: Any, course: Any, sections: Any, student: Any, grad_student: Any, project: Any
) -> None:
    api_client.force_authenticate(student.user)
    code = api_client.post(groups_url(course), {"name": "Undergrads"}).json()["join_code"]
    api_client.force_authenticate(grad_student.user)
    r = api_client.post(groups_url(course) + "join/", {"join_code": code})
    assert r.status_code == 409 and r.json()["error"]["code"] == "group_mixed_levels"
    assert "Undergrads is a group of undergraduate students" in r.json()["error"]["message"]
    assert GroupMembership.objects.count() == 1
    course.groups_mix_levels = True
    course.save()
    assert api_client.post(groups_url(course) + "join/", {"join_code": code}).status_code == 200
    another = EnrollmentFactory(section=sections["CS4803"], role="student")
    api_client.force_authenticate(another.user)
    assert api_client.post(groups_url(course) + "join/", {"join_code": code}).status_code == 200


def test_groups_are_not_formed_or_joined_once_group_work_closed(
    api_client: Any, course: Any, sections: Any, student: Any, project: Any
) -> None:
    api_client.force_authenticate(student.user)
    code = api_client.post(groups_url(course), {"name": "Early"}).json()["join_code"]
    project.release_at = datetime.now(UTC) - timedelta(days=30)
    project.due_at = datetime.now(UTC) - timedelta(days=3)  # grace (2 days) ended yesterday
    project.save()
    late = EnrollmentFactory(section=sections["CS4803"], role="student")
    api_client.force_authenticate(late.user)
    r = api_client.post(groups_url(course) + "join/", {"join_code": code})
    assert r.status_code == 409 and r.json()["error"]["code"] == "group_work_closed"
    assert "Group work in this course closed on" in r.json()["error"]["message"]
    r = api_client.post(groups_url(course), {"name": "Too late"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "group_work_closed"
    assert list(ProjectGroup.objects.values_list("name", flat=True)) == ["Early"]
    # Still within the grace period: open.
    project.due_at = datetime.now(UTC) - timedelta(days=1)
    project.save()
    assert api_client.post(groups_url(course) + "join/", {"join_code": code}).status_code == 200
