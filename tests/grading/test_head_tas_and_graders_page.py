"""Splitting the grading: the instructor names head TAs (API and page), who then assign and
remove graders' shares like the instructor; other TAs only look. The graders page lists the
shares and assigns them; refusals change nothing; its queries stay flat."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from courses.models import Enrollment
from grading.models import GraderAssignment
from tests.factories import AssignmentFactory, EnrollmentFactory, QuestionFactory
from tests.grading.test_grading_queue import assign, base, code_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def hw(course: Any, homework: Any) -> Any:
    """HW2 with two questions, q1 and written."""
    assignment = AssignmentFactory(course=course, category=homework, slug="hw2", title="HW2")
    QuestionFactory(assignment=assignment, slug="q1", points=10, position=0)
    QuestionFactory(assignment=assignment, slug="written", points=5, position=1)
    return assignment


@pytest.fixture
def ta2(sections: Any) -> Any:
    return EnrollmentFactory(section=sections["CS7643"], role="ta")


def heads_url(course: Any) -> str:
    return f"/api/v1/courses/{course.slug}/head-tas/"


def page_url(hw: Any) -> str:
    return f"/courses/{hw.course.slug}/assignments/{hw.slug}/graders/"


def name_heads(api_client: Any, who: Any, course: Any, usernames: list[str]) -> Any:
    api_client.force_authenticate(who.user)
    return api_client.put(heads_url(course), {"usernames": usernames}, format="json")


def test_the_instructor_names_head_tas_and_staff_read_them(
    api_client: Any,
    instructor: Any,
    ta: Any,
    ta2: Any,
    course: Any,
) -> None:
    r = name_heads(api_client, instructor, course, [ta.user.username])
    assert r.status_code == 200 and r.json() == {"usernames": [ta.user.username]}
    r = name_heads(api_client, instructor, course, [ta2.user.username])
    assert r.json() == {"usernames": [ta2.user.username]}  # exactly these: ta is no longer
    api_client.force_authenticate(ta.user)
    assert api_client.get(heads_url(course)).json() == {"usernames": [ta2.user.username]}


def test_only_tas_can_be_head_tas_and_a_refusal_changes_nothing(
    api_client: Any, instructor: Any, ta: Any, student: Any, course: Any
) -> None:
    name_heads(api_client, instructor, course, [ta.user.username])
    r = name_heads(api_client, instructor, course, [student.user.username])
    assert r.status_code == 400 and code_of(r) == "not_a_ta"
    assert student.user.username in r.json()["error"]["message"]
    assert list(Enrollment.objects.filter(head_ta=True)) == [ta]


def test_tas_and_students_may_not_name_head_tas(
    api_client: Any, ta: Any, student: Any, course: Any
) -> None:
    r = name_heads(api_client, ta, course, [ta.user.username])
    assert r.status_code == 403 and code_of(r) == "permission_denied"
    assert name_heads(api_client, student, course, []).status_code == 404
    assert not Enrollment.objects.filter(head_ta=True).exists()


def test_a_head_ta_assigns_and_removes_graders(
    api_client: Any,
    instructor: Any,
    ta: Any,
    ta2: Any,
    course: Any,
    hw: Any,
) -> None:
    assert assign(api_client, ta, hw, {"grader": ta2.user.username}).status_code == 403
    name_heads(api_client, instructor, course, [ta.user.username])
    r = assign(api_client, ta, hw, {"grader": ta2.user.username, "questions": ["q1"]})
    assert r.status_code == 201, r.content
    # The other TA, not a head TA, may neither assign nor remove.
    r = assign(api_client, ta2, hw, {"grader": ta2.user.username})
    assert r.status_code == 403
    api_client.force_authenticate(ta2.user)
    assert api_client.delete(f"{base(hw)}/graders/{ta2.user.username}/").status_code == 403
    api_client.force_authenticate(ta.user)
    assert api_client.delete(f"{base(hw)}/graders/{ta2.user.username}/").status_code == 204
    assert not GraderAssignment.objects.exists()
    assert api_client.delete(f"{base(hw)}/graders/{ta2.user.username}/").status_code == 404


def test_the_graders_page_lists_shares_and_the_instructor_assigns_one(
    client: Any,
    instructor: Any,
    ta: Any,
    hw: Any,
) -> None:
    client.force_login(instructor.user)
    page = client.get(page_url(hw)).content.decode()
    assert "Nobody has a share yet" in page and "Head TAs" in page
    r = client.post(
        f"{page_url(hw)}assign/",
        {"grader": ta.user.username, "sections": ["CS7643"], "questions": ["written"]},
        follow=True,
    )
    assert f"{ta.user.username}&#x27;s share of HW2 is assigned." in r.content.decode()
    share = GraderAssignment.objects.get()
    assert (share.sections, share.questions) == (["CS7643"], ["written"])
    page = client.get(page_url(hw)).content.decode()
    assert 'id="grader-shares"' in page and "CS7643" in page and "written" in page
    r = client.post(f"{page_url(hw)}remove/", {"grader": ta.user.username}, follow=True)
    assert "no longer has a share" in r.content.decode()
    assert not GraderAssignment.objects.exists()


def test_the_graders_page_refuses_an_unknown_section_with_its_message(
    client: Any,
    instructor: Any,
    ta: Any,
    hw: Any,
) -> None:
    client.force_login(instructor.user)
    r = client.post(
        f"{page_url(hw)}assign/", {"grader": ta.user.username, "sections": ["CS9999"]}, follow=True
    )
    assert "Not a section of this course: CS9999." in r.content.decode()
    assert not GraderAssignment.objects.exists()


def test_the_instructor_names_head_tas_on_the_page(
    client: Any,
    instructor: Any,
    ta: Any,
    hw: Any,
) -> None:
    client.force_login(instructor.user)
    r = client.post(f"{page_url(hw)}head-tas/", {"usernames": [ta.user.username]}, follow=True)
    assert f"Head TAs: {ta.user.username}." in r.content.decode()
    ta.refresh_from_db()
    assert ta.head_ta


def test_a_ta_sees_the_shares_but_no_forms_and_students_get_404(
    client: Any,
    ta: Any,
    student: Any,
    hw: Any,
) -> None:
    client.force_login(ta.user)
    page = client.get(page_url(hw)).content.decode()
    assert "Shares" in page and "Assign a grader" not in page and "Head TAs" not in page
    assert client.post(f"{page_url(hw)}assign/", {"grader": ta.user.username}).status_code == 403
    assert client.post(f"{page_url(hw)}head-tas/", {"usernames": []}).status_code == 403
    client.force_login(student.user)
    assert client.get(page_url(hw)).status_code == 404


def test_the_graders_page_queries_stay_flat_as_shares_grow(
    client: Any,
    instructor: Any,
    sections: Any,
    hw: Any,
) -> None:
    client.force_login(instructor.user)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(page_url(hw)).status_code == 200
        return len(queries)

    def add(n: int) -> None:
        for _ in range(n):
            grader = EnrollmentFactory(section=sections["CS7643"], role="ta")
            GraderAssignment.objects.create(assignment=hw, grader=grader.user)

    add(2)
    few = count()
    add(20)
    assert count() == few
