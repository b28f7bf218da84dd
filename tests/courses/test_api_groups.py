"""Project groups: create with a join code, join, leave before the first group submission."""

from __future__ import annotations

import pytest

from courses.models import GroupMembership, ProjectGroup
from tests.factories import AssignmentFactory, CategoryFactory, EnrollmentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def project(course):
    cat = CategoryFactory(course=course, slug="project", weight=20)
    return AssignmentFactory(
        course=course, category=cat, slug="project", group=True, group_min=3, group_max=4
    )


def students(sections, n, section="CS4803"):
    return [EnrollmentFactory(section=sections[section], role="student") for _ in range(n)]


def base(course):
    return f"/api/v1/courses/{course.slug}/groups/"


def test_create_join_and_see_members(api_client, course, sections, project):
    a, b, c = students(sections, 3)
    api_client.force_authenticate(a.user)
    r = api_client.post(base(course), {"name": "  Gradient   Descenders "}, format="json")
    assert r.status_code == 201, r.content
    group = r.json()
    assert group["name"] == "Gradient Descenders"
    assert group["members"] == [a.user.username]
    assert len(group["join_code"]) == 8 and group["locked"] is False
    for who in (b, c):
        api_client.force_authenticate(who.user)
        r = api_client.post(base(course) + "join/", {"join_code": group["join_code"].lower()})
        assert r.status_code == 200, r.content
    assert sorted(r.json()["members"]) == sorted(u.user.username for u in (a, b, c))
    # Joining one's own group again changes nothing.
    assert (
        api_client.post(base(course) + "join/", {"join_code": group["join_code"]}).status_code
        == 200
    )
    assert GroupMembership.objects.filter(group_id=group["id"]).count() == 3
    # Everyone sees their own group; staff see all.
    assert [g["id"] for g in api_client.get(base(course)).json()] == [group["id"]]


def test_one_group_per_student(api_client, course, sections, project):
    a, b = students(sections, 2)
    api_client.force_authenticate(b.user)
    code = api_client.post(base(course), {"name": "B"}).json()["join_code"]
    api_client.force_authenticate(a.user)
    assert api_client.post(base(course), {"name": "A"}).status_code == 201
    r = api_client.post(base(course), {"name": "A2"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "already_in_group"
    r = api_client.post(base(course) + "join/", {"join_code": code})
    assert r.status_code == 409 and r.json()["error"]["code"] == "already_in_group"


def test_group_size_is_enforced_at_join(api_client, course, sections, project):
    members = students(sections, 5)
    api_client.force_authenticate(members[0].user)
    code = api_client.post(base(course), {"name": "Full"}).json()["join_code"]
    for m in members[1:4]:
        api_client.force_authenticate(m.user)
        assert api_client.post(base(course) + "join/", {"join_code": code}).status_code == 200
    api_client.force_authenticate(members[4].user)
    r = api_client.post(base(course) + "join/", {"join_code": code})
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "group_size" and "at most 4" in r.json()["error"]["message"]


def test_unknown_join_code_and_duplicate_name(api_client, course, sections, project):
    a, b = students(sections, 2)
    api_client.force_authenticate(a.user)
    api_client.post(base(course), {"name": "Same"})
    api_client.force_authenticate(b.user)
    r = api_client.post(base(course) + "join/", {"join_code": "NOPE1234"})
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    r = api_client.post(base(course), {"name": "Same"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "group_name_taken"
    r = api_client.post(base(course), {"name": ""}, format="json")
    assert r.status_code == 400


def test_leave_until_locked(api_client, course, sections, project):
    a, b = students(sections, 2)
    api_client.force_authenticate(a.user)
    group = api_client.post(base(course), {"name": "Leavers"}).json()
    api_client.force_authenticate(b.user)
    api_client.post(base(course) + "join/", {"join_code": group["join_code"]})
    assert api_client.post(base(course) + "leave/").status_code == 204
    assert api_client.post(base(course) + "leave/").status_code == 404
    ProjectGroup.objects.filter(pk=group["id"]).update(locked_at="2021-05-01T00:00Z")
    api_client.force_authenticate(a.user)
    r = api_client.post(base(course) + "leave/")
    assert r.status_code == 409 and r.json()["error"]["code"] == "group_locked"


def test_last_member_leaving_removes_the_group(api_client, course, sections, project):
    (a,) = students(sections, 1)
    api_client.force_authenticate(a.user)
    group = api_client.post(base(course), {"name": "Solo"}).json()
    assert api_client.post(base(course) + "leave/").status_code == 204
    assert not ProjectGroup.objects.filter(pk=group["id"]).exists()


def test_staff_and_sit_ins_cannot_form_groups_and_outsiders_get_404(
    api_client, course, sections, project, ta
):
    sit_in = EnrollmentFactory(course=course, section=None, role="sit_in")
    for who in (ta, sit_in):
        api_client.force_authenticate(who.user)
        r = api_client.post(base(course), {"name": "Nope"})
        assert r.status_code == 403 and r.json()["error"]["code"] == "permission_denied"
    outsider = EnrollmentFactory(role="student")
    api_client.force_authenticate(outsider.user)
    assert api_client.post(base(course), {"name": "X"}).status_code == 404


def test_no_group_work_in_the_course(api_client, course, sections):
    (a,) = students(sections, 1)
    api_client.force_authenticate(a.user)
    r = api_client.post(base(course), {"name": "X"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "no_group_work"


def test_group_list_queries_flat(api_client, course, sections, project, ta):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    api_client.force_authenticate(ta.user)
    counts = []
    for n in (3, 30):
        while ProjectGroup.objects.filter(course=course).count() < n:
            members = students(sections, 3)
            g = ProjectGroup.objects.create(
                course=course, name=f"G{members[0].pk}", join_code=f"J{members[0].pk}"
            )
            for m in members:
                GroupMembership.objects.create(group=g, course=course, user=m.user)
        with CaptureQueriesContext(connection) as ctx:
            data = api_client.get(base(course)).json()
        counts.append((len(data), len(ctx)))
    assert counts[0][1] == counts[1][1] and counts[1][0] == 30
