"""Dean of Students extensions: the instructor records a new due date and the confirmation
reference only; the student's deadline follows it everywhere."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from courses.models import Extension

pytestmark = pytest.mark.django_db


def url(course):
    return f"/api/v1/courses/{course.slug}/extensions/"


def test_instructor_grants_and_the_students_deadline_follows(
    api_client, course, instructor, student, assignment
):
    api_client.force_authenticate(instructor.user)
    r = api_client.post(
        url(course),
        {
            "student": student.user.username,
            "assignment": "hw1",
            "due_at": "2030-03-12T23:59:00",  # local: read in America/New_York
            "reference": "DOS-2021-0042",
        },
        format="json",
    )
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["due_at"] == "2030-03-12T23:59:00-04:00"
    assert body["grace_ends_at"] == "2030-03-14T23:59:00-04:00"
    assert body["reference"] == "DOS-2021-0042" and body["granted_by"] == instructor.user.username
    ext = Extension.objects.get()
    assert ext.due_at == datetime(2030, 3, 13, 3, 59, tzinfo=UTC)

    api_client.force_authenticate(student.user)
    mine = api_client.get(f"/api/v1/courses/{course.slug}/assignments/").json()[0]["my_deadline"]
    assert mine == {
        "due_at": "2030-03-12T23:59:00-04:00",
        "grace_ends_at": "2030-03-14T23:59:00-04:00",
        "extended": True,
    }
    assert [e["assignment"] for e in api_client.get(url(course)).json()] == ["hw1"]


def test_a_second_grant_replaces_the_first(api_client, course, instructor, student, assignment):
    api_client.force_authenticate(instructor.user)
    payload = {"student": student.user.username, "assignment": "hw1", "reference": "A1"}
    assert (
        api_client.post(url(course), {**payload, "due_at": "2030-01-01T12:00:00Z"}).status_code
        == 201
    )
    r = api_client.post(
        url(course), {**payload, "due_at": "2030-01-05T12:00:00Z", "reference": "A2"}
    )
    assert r.status_code == 200
    assert Extension.objects.count() == 1 and Extension.objects.get().reference == "A2"


@pytest.mark.parametrize(
    "reference",
    [
        "Student has the flu",  # a sentence: refused
        "diagnosis: covid",
        "",
        "x" * 41,
        "-starts-with-dash",
    ],
)
def test_only_a_reference_token_is_accepted(
    api_client, course, instructor, student, assignment, reference
):
    api_client.force_authenticate(instructor.user)
    r = api_client.post(
        url(course),
        {
            "student": student.user.username,
            "assignment": "hw1",
            "due_at": "2030-01-01T12:00:00Z",
            "reference": reference,
        },
        format="json",
    )
    assert r.status_code == 400
    assert r.json()["error"]["code"] in {"invalid_reference", "invalid"}
    assert not Extension.objects.exists()


def test_refusals(api_client, course, instructor, student, ta, assignment):
    good = {
        "student": student.user.username,
        "assignment": "hw1",
        "due_at": "2030-01-01T12:00:00Z",
        "reference": "R1",
    }
    api_client.force_authenticate(ta.user)
    r = api_client.post(url(course), good, format="json")
    assert r.status_code == 403 and r.json()["error"]["code"] == "permission_denied"
    api_client.force_authenticate(student.user)
    assert api_client.post(url(course), good, format="json").status_code == 403
    api_client.force_authenticate(instructor.user)
    r = api_client.post(url(course), {**good, "student": "nobody"}, format="json")
    assert r.status_code == 400 and r.json()["error"]["code"] == "unknown_student"
    r = api_client.post(url(course), {**good, "assignment": "hw99"}, format="json")
    assert r.status_code == 400 and r.json()["error"]["code"] == "unknown_assignment"
    r = api_client.post(url(course), {**good, "due_at": "next tuesday"}, format="json")
    assert r.status_code == 400 and "due_at" in r.json()["error"]["message"]
    r = api_client.post(url(course), {**good, "medical_note": "x"}, format="json")
    assert r.status_code == 400 and "medical_note" in r.json()["error"]["message"]
    assert {f.name for f in Extension._meta.get_fields()} == {
        "id",
        "assignment",
        "student",
        "due_at",
        "reference",
        "granted_by",
        "granted_at",
    }
    assert not Extension.objects.exists()
