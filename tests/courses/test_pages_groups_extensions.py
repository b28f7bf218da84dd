"""The project groups page and the extensions page through Django's test client: create, join
and leave with every refusal shown; staff see every group; the instructor records extensions
(local times read in the course's zone) and revokes them, TAs read, students see their own;
the medical-information notice everywhere; flat query counts."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html import unescape
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from courses.models import Extension, GroupMembership, ProjectGroup
from tests.factories import (
    AssignmentFactory,
    CategoryFactory,
    EnrollmentFactory,
    ExtensionFactory,
)

pytestmark = pytest.mark.django_db

NOTICE = (
    "Record only the Dean of Students confirmation reference. "
    "Never send or store medical information."
)


def text_of(response: Any) -> str:
    html = response.content.decode()
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()


def groups_url(course: Any) -> str:
    return f"/courses/{course.slug}/groups/"


def extensions_url(course: Any) -> str:
    return f"/courses/{course.slug}/extensions/"


@pytest.fixture
def project(course):
    cat = CategoryFactory(course=course, slug="project", weight=20)
    return AssignmentFactory(
        course=course,
        category=cat,
        slug="project",
        title="Final project",
        group=True,
        group_min=2,
        group_max=3,
    )


def students(sections: Any, n: int) -> list[Any]:
    return [EnrollmentFactory(section=sections["CS4803"], role="student") for _ in range(n)]


# --- links ----------------------------------------------------------------------------------------


def test_course_page_links_to_groups_and_extensions(client, course, student, instructor):
    client.force_login(student.user)
    html = client.get(f"/courses/{course.slug}/").content.decode()
    assert f'href="{groups_url(course)}"' in html and "Project groups" in html
    assert f'href="{extensions_url(course)}"' in html and "My extensions" in html
    client.force_login(instructor.user)
    text = text_of(client.get(f"/courses/{course.slug}/"))
    assert "Project groups Extensions" in text


@pytest.mark.parametrize("page", [groups_url, extensions_url])
def test_pages_need_login_and_enrollment(client, course, page):
    r = client.get(page(course))
    assert r.status_code == 302 and r["Location"].startswith("/accounts/login/")
    outsider = EnrollmentFactory(role="student")
    client.force_login(outsider.user)
    assert client.get(page(course)).status_code == 404
    assert client.post(page(course), {"action": "create", "name": "X"}).status_code == 404


# --- groups ---------------------------------------------------------------------------------------


def test_create_share_join_and_see_members(client, course, sections, project):
    a, b, c = students(sections, 3)
    client.force_login(a.user)
    r = client.get(groups_url(course))
    assert r.status_code == 200
    text = text_of(r)
    assert "Handed in by a group: Final project (2\N{EN DASH}3 people)." in text
    assert "Create a group" in text and "Join a group" in text
    html = r.content.decode()
    assert '<label for="id_name">Group name</label>' in html
    assert '<label for="id_join_code">Join code</label>' in html

    r = client.post(groups_url(course), {"action": "create", "name": "  Gradient   Descenders "})
    assert r.status_code == 302 and r["Location"] == groups_url(course)
    group = ProjectGroup.objects.get()
    assert group.name == "Gradient Descenders"
    r = client.get(groups_url(course))
    text = text_of(r)
    assert "Group Gradient Descenders created. Share its join code with your team." in text
    assert "Your group: Gradient Descenders" in text
    assert f"Join code {group.join_code}" in text
    assert f"{a.user.get_full_name()} ({a.user.username}) you" in text
    assert "Create a group" not in text

    client.force_login(b.user)
    r = client.post(groups_url(course), {"action": "join", "join_code": group.join_code.lower()})
    assert r.status_code == 302
    text = text_of(client.get(groups_url(course)))
    assert "You are in Gradient Descenders." in text
    assert a.user.username in text and b.user.username in text

    # The third member fills it; a fourth is refused with the service's message.
    client.force_login(c.user)
    client.post(groups_url(course), {"action": "join", "join_code": group.join_code})
    (d,) = students(sections, 1)
    client.force_login(d.user)
    r = client.post(groups_url(course), {"action": "join", "join_code": group.join_code})
    assert r.status_code == 409
    assert "Gradient Descenders is full: groups have at most 3 members." in text_of(r)
    assert 'data-code="group_size"' in r.content.decode()
    assert GroupMembership.objects.filter(group=group).count() == 3


def test_group_refusals_are_shown(client, course, sections, project):
    a, b = students(sections, 2)
    client.force_login(a.user)
    client.post(groups_url(course), {"action": "create", "name": "Same"})
    r = client.post(groups_url(course), {"action": "create", "name": "Other"})
    assert r.status_code == 409
    assert "You are already in a project group: leave it first." in text_of(r)

    client.force_login(b.user)
    r = client.post(groups_url(course), {"action": "join", "join_code": "NOPE1234"})
    assert r.status_code == 404
    assert "No project group in this course has that join code." in text_of(r)
    assert 'value="NOPE1234"' in r.content.decode()  # what was typed stays
    r = client.post(groups_url(course), {"action": "create", "name": "Same"})
    assert r.status_code == 409 and "There is already a group called 'Same'." in text_of(r)
    r = client.post(groups_url(course), {"action": "create", "name": "   "})
    assert r.status_code == 400 and "Give the group a name." in text_of(r)
    r = client.post(groups_url(course), {"action": "leave"})
    assert r.status_code == 404 and "You are not in a project group." in text_of(r)
    r = client.post(groups_url(course), {"action": "dance"})
    assert r.status_code == 400
    assert ProjectGroup.objects.count() == 1


def test_leave_until_the_first_submission(client, course, sections, project):
    a, b = students(sections, 2)
    client.force_login(a.user)
    client.post(groups_url(course), {"action": "create", "name": "Leavers"})
    group = ProjectGroup.objects.get()
    client.force_login(b.user)
    client.post(groups_url(course), {"action": "join", "join_code": group.join_code})
    r = client.get(groups_url(course))
    assert re.search(r"<button[^>]*>Leave group</button>", r.content.decode())
    r = client.post(groups_url(course), {"action": "leave"})
    assert r.status_code == 302
    text = text_of(client.get(groups_url(course)))
    assert "You left your project group." in text and "Create a group" in text
    assert GroupMembership.objects.filter(group=group).count() == 1

    ProjectGroup.objects.filter(pk=group.pk).update(locked_at=datetime(2021, 5, 1, tzinfo=UTC))
    client.force_login(a.user)
    text = text_of(client.get(groups_url(course)))
    assert "Your group handed in work on Fri Apr 30 2021, 8:00 PM EDT" in text
    assert "its members are fixed." in text
    r = client.post(groups_url(course), {"action": "leave"})
    assert r.status_code == 409
    assert (
        "Leavers has handed work in, so its members are fixed. Ask the instructor if a change "
        "is needed." in text_of(r)
    )
    assert GroupMembership.objects.filter(group=group, user=a.user).exists()


def test_last_member_leaving_removes_the_group(client, course, sections, project):
    (a,) = students(sections, 1)
    client.force_login(a.user)
    client.post(groups_url(course), {"action": "create", "name": "Solo"})
    client.post(groups_url(course), {"action": "leave"})
    assert not ProjectGroup.objects.exists()


def test_no_group_work_in_the_course(client, course, sections):
    (a,) = students(sections, 1)
    client.force_login(a.user)
    assert "This course has no group assignments." in text_of(client.get(groups_url(course)))
    r = client.post(groups_url(course), {"action": "create", "name": "X"})
    assert r.status_code == 409 and "This course has no group assignments." in text_of(r)


def test_staff_see_every_group_and_sit_ins_cannot_form_one(client, course, sections, project, ta):
    a, b, c = students(sections, 3)
    for name, members in (("Alpha", [a, b]), ("Beta", [c])):
        g = ProjectGroup.objects.create(course=course, name=name, join_code=f"CODE{name}")
        for m in members:
            GroupMembership.objects.create(group=g, course=course, user=m.user)
    client.force_login(ta.user)
    r = client.get(groups_url(course))
    text = text_of(r)
    assert "All groups (2)" in text
    assert re.search(rf"Alpha .*{a.user.username}.*{b.user.username}.* 2 CODEAlpha Not yet", text)
    assert re.search(rf"Beta .*{c.user.username}.* 1 CODEBeta Not yet", text)
    assert "Create a group" not in text
    r = client.post(groups_url(course), {"action": "create", "name": "Staff"})
    assert r.status_code == 403 and "Only students can create project groups." in text_of(r)

    sit_in = EnrollmentFactory(course=course, section=None, role="sit_in")
    client.force_login(sit_in.user)
    text = text_of(client.get(groups_url(course)))
    assert "only students form project groups" in text and "Alpha" not in text


def test_groups_page_query_count_is_flat(client, course, sections, project, ta):
    client.force_login(ta.user)
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
            r = client.get(groups_url(course))
        assert f"All groups ({n})" in text_of(r)
        counts.append(len(ctx))
    assert counts[0] == counts[1]


# --- extensions -----------------------------------------------------------------------------------


def test_instructor_records_an_extension_in_the_course_zone(
    client, course, instructor, student, assignment
):
    client.force_login(instructor.user)
    r = client.get(extensions_url(course))
    assert r.status_code == 200
    text = text_of(r)
    html = r.content.decode()
    assert NOTICE in text
    assert '<label for="id_student">Student username</label>' in html
    assert '<label for="id_assignment">Assignment</label>' in html
    assert re.search(r'<input type="datetime-local" id="id_due_at" name="due_at"', html)
    assert '<label for="id_reference">Dean of Students reference</label>' in html
    assert '<option value="hw1">HW1</option>' in html
    assert "In the course's time zone, America/New_York." in text

    r = client.post(
        extensions_url(course),
        {
            "action": "grant",
            "student": student.user.username,
            "assignment": "hw1",
            "due_at": "2030-03-12T23:59",  # a New York clock time, daylight saving
            "reference": "DOS-2021-0042",
        },
    )
    assert r.status_code == 302 and r["Location"] == extensions_url(course)
    ext = Extension.objects.get()
    assert ext.due_at == datetime(2030, 3, 13, 3, 59, tzinfo=UTC)
    assert ext.reference == "DOS-2021-0042" and ext.granted_by == instructor.user
    r = client.get(extensions_url(course))
    text = text_of(r)
    assert f"Extension recorded for {student.user.username} on HW1." in text
    assert (
        f"{student.user.username} {student.user.get_full_name()} HW1 Tue Mar 12 2030, 11:59 PM "
        f"EDT Thu Mar 14 2030, 11:59 PM EDT DOS-2021-0042 {instructor.user.get_full_name()} "
        "Revoke" in text
    )
    assert '<time datetime="2030-03-12T23:59:00-04:00">' in r.content.decode()

    # A second grant replaces the first.
    client.post(
        extensions_url(course),
        {
            "action": "grant",
            "student": student.user.username,
            "assignment": "hw1",
            "due_at": "2030-01-05T09:30",
            "reference": "DOS-2021-0043",
        },
    )
    ext = Extension.objects.get()
    assert ext.due_at == datetime(2030, 1, 5, 14, 30, tzinfo=UTC) and ext.reference.endswith("43")
    assert "Extension updated" in text_of(client.get(extensions_url(course)))


def test_the_student_sees_the_extended_deadline(client, course, instructor, student, assignment):
    client.force_login(instructor.user)
    client.post(
        extensions_url(course),
        {
            "action": "grant",
            "student": student.user.username,
            "assignment": "hw1",
            "due_at": "2030-03-12T23:59",
            "reference": "DOS-1",
        },
    )
    client.force_login(student.user)
    text = text_of(client.get(f"/courses/{course.slug}/assignments/hw1/"))
    assert "Extended to Tue Mar 12 2030, 11:59 PM EDT" in text


@pytest.mark.parametrize(
    ("data", "status", "message"),
    [
        (
            {"reference": "sick note from Dr. Who"},
            400,
            "Give only the Dean of Students confirmation number",
        ),
        ({"student": "ghost"}, 400, "'ghost' is not a student in this course."),
        ({"assignment": "hw99"}, 400, "'hw99' is not an assignment of this course."),
        ({"due_at": "next tuesday"}, 400, "Give the new due date as a date and a time"),
        ({"due_at": ""}, 400, "Give the new due date as a date and a time"),
    ],
)
def test_grant_refusals_are_shown_and_store_nothing(
    client, course, instructor, student, assignment, data, status, message
):
    client.force_login(instructor.user)
    form = {
        "action": "grant",
        "student": student.user.username,
        "assignment": "hw1",
        "due_at": "2030-03-12T23:59",
        "reference": "DOS-1",
        **data,
    }
    r = client.post(extensions_url(course), form)
    assert r.status_code == status
    assert message in text_of(r)
    assert 'role="alert"' in r.content.decode()
    assert not Extension.objects.exists()
    if "student" in data:  # the form keeps what was typed
        assert 'value="ghost"' in r.content.decode()


def test_revoke(client, course, instructor, student, assignment):
    ext = ExtensionFactory(assignment=assignment, student=student.user, reference="DOS-7")
    client.force_login(instructor.user)
    r = client.get(extensions_url(course))
    assert (
        f'aria-label="Revoke the extension of {student.user.username} on HW1"' in r.content.decode()
    )
    r = client.post(extensions_url(course), {"action": "revoke", "extension": str(ext.pk)})
    assert r.status_code == 302
    assert not Extension.objects.exists()
    text = text_of(client.get(extensions_url(course)))
    assert "Extension revoked." in text and "No extension has been recorded." in text
    r = client.post(extensions_url(course), {"action": "revoke", "extension": str(ext.pk)})
    assert r.status_code == 404 and "There is no such extension." in text_of(r)
    r = client.post(extensions_url(course), {"action": "revoke", "extension": "abc"})
    assert r.status_code == 404


def test_ta_reads_the_list_only(client, course, ta, student, assignment):
    ext = ExtensionFactory(assignment=assignment, student=student.user, reference="DOS-7")
    client.force_login(ta.user)
    r = client.get(extensions_url(course))
    text = text_of(r)
    html = r.content.decode()
    assert NOTICE in text
    assert "DOS-7" in text and student.user.username in text
    assert 'name="due_at"' not in html and "Revoke" not in text
    assert "Only the instructor records and revokes extensions." in text
    r = client.post(extensions_url(course), {"action": "revoke", "extension": str(ext.pk)})
    assert r.status_code == 403 and "Only the instructor changes extensions." in text_of(r)
    r = client.post(
        extensions_url(course),
        {
            "action": "grant",
            "student": student.user.username,
            "assignment": "hw1",
            "due_at": "2030-03-12T23:59",
            "reference": "DOS-8",
        },
    )
    assert r.status_code == 403 and "Only the instructor grants extensions." in text_of(r)
    assert Extension.objects.get().reference == "DOS-7"


def test_a_student_sees_only_their_own(client, course, homework, sections, student, assignment):
    other = EnrollmentFactory(section=sections["CS4803"], role="student")
    hw2 = AssignmentFactory(course=course, category=homework, slug="hw2", title="HW2")
    ExtensionFactory(
        assignment=assignment,
        student=student.user,
        due_at=datetime(2030, 3, 13, 3, 59, tzinfo=UTC),
        reference="DOS-MINE",
    )
    ExtensionFactory(assignment=hw2, student=other.user, reference="DOS-THEIRS")
    course.links = [{"name": "dean_of_students", "url": "https://dos.example.edu/", "note": ""}]
    course.save()
    client.force_login(student.user)
    r = client.get(extensions_url(course))
    assert r.status_code == 200
    text = text_of(r)
    assert "My extensions" in text
    assert "HW1 Tue Mar 12 2030, 11:59 PM EDT Thu Mar 14 2030, 11:59 PM EDT DOS-MINE" in text
    assert "DOS-THEIRS" not in text and other.user.username not in text
    assert "Never send medical information" in text
    assert 'href="https://dos.example.edu/"' in r.content.decode()
    assert 'name="due_at"' not in r.content.decode()
    r = client.post(
        extensions_url(course),
        {
            "action": "grant",
            "student": student.user.username,
            "assignment": "hw1",
            "due_at": "2030-12-01T12:00",
            "reference": "DOS-X",
        },
    )
    assert r.status_code == 403 and Extension.objects.count() == 2


def test_extensions_page_query_count_is_flat(client, course, homework, sections, instructor):
    client.force_login(instructor.user)
    counts = []
    for n in (3, 30):
        while Extension.objects.count() < n:
            who = EnrollmentFactory(section=sections["CS7643"], role="student")
            a = AssignmentFactory(course=course, category=homework)
            ExtensionFactory(assignment=a, student=who.user, due_at=a.due_at + timedelta(days=3))
        with CaptureQueriesContext(connection) as ctx:
            r = client.get(extensions_url(course))
        assert f"Extensions granted ({n})" in text_of(r)
        counts.append(len(ctx))
    assert counts[0] == counts[1]
