"""The submission pages through Django's test client: the assignment page with its deadline,
rules, upload form and history; uploads and every refusal (with the API's message); the
receipt and downloads; the staff list with filters, pages and its zip; query counts that do
not grow with the number of submissions."""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from datetime import UTC, datetime, timedelta
from html import unescape
from types import SimpleNamespace
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from courses.models import GroupMembership, ProjectGroup
from submissions.models import Submission, SubmissionCollaborator, SubmissionFile
from tests.factories import (
    AssignmentFactory,
    CategoryFactory,
    EnrollmentFactory,
    ExtensionFactory,
    ProjectGroupFactory,
)

pytestmark = pytest.mark.django_db

NOW = datetime.now(UTC)
# 2021-02-13T04:59Z is 11:59 PM on Friday 12 February in New York (EST, UTC-5).
HW1_DUE = datetime(2021, 2, 13, 4, 59, tzinfo=UTC)


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "media")


def page_url(a: Any) -> str:
    return f"/courses/{a.course.slug}/assignments/{a.slug}/"


def staff_url(a: Any) -> str:
    return f"/courses/{a.course.slug}/assignments/{a.slug}/submissions/"


def zip_url(a: Any) -> str:
    return f"/courses/{a.course.slug}/assignments/{a.slug}/submissions.zip"


def api_url(a: Any) -> str:
    return f"/api/v1/courses/{a.course.slug}/assignments/{a.slug}/submissions/"


def upload(name: str = "solution.py", data: bytes = b"print('hello')\n") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


def text_of(response: Any) -> str:
    """The page's text with tags dropped and white space collapsed, as a person reads it."""
    html = response.content.decode()
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()


def stored_files() -> list[str]:
    found: list[str] = []

    def walk(path: str) -> None:
        dirs, files = default_storage.listdir(path)
        found.extend(f"{path}/{f}" for f in files)
        for d in dirs:
            walk(f"{path}/{d}")

    if default_storage.exists("submissions"):
        walk("submissions")
    return found


def has_form(response: Any) -> bool:
    html = response.content.decode()
    return 'name="files"' in html or re.search(r"<button[^>]*>\s*Submit\s*</button>", html)


def submit(client: Any, a: Any, files: list[Any] | None = None, **data: Any) -> Any:
    return client.post(page_url(a), {"files": files if files is not None else [upload()], **data})


# --- the assignment page ------------------------------------------------------------------------


def test_assignment_page_for_a_student(client, course, student, assignment):
    course.links = [
        {"name": "website", "url": "https://example.edu/dl", "note": ""},
        {"name": "dean_of_students", "url": "https://studentlife.example.edu/", "note": ""},
    ]
    course.save()
    client.force_login(student.user)
    r = client.get(page_url(assignment))
    assert r.status_code == 200
    text = text_of(r)
    html = r.content.decode()
    assert "HW1" in text and "Homework · 100 points" in text
    local_due = assignment.due_at.astimezone(r.context["tz"])
    assert f'<time datetime="{local_due.isoformat()}">' in html
    assert "Your deadline Due" in text and "Grace period ends" in text
    assert re.search(r"Time left (6|7) days", text)
    assert "Grace period: 2 days after the due date, no penalty, no need to ask." in text
    assert "late work gets a zero unless the Dean of Students confirms an extension" in text
    assert "Collaboration: allowed" in text and "at most 50 MB each and 200 MB together" in text
    # The controls keep their accessible names.
    assert '<label for="id_files">Files</label>' in html
    assert re.search(r'<input type="file" id="id_files" name="files" multiple', html)
    assert '<label for="id_collaborators">Collaborators</label>' in html
    assert re.search(r'<button type="submit" class="button button-primary">Submit</button>', html)
    assert 'enctype="multipart/form-data"' in html and "portal/upload.js" in html
    assert "Upload progress" in html and "data-dropzone" in html
    # The medical notice, with the Dean of Students link from the course's links.
    assert "Never send medical information" in text
    assert "Requests for medical reasons go to the Dean of Students" in text
    assert 'href="https://studentlife.example.edu/"' in html
    assert "Nothing handed in yet." in text


def test_the_assignment_list_links_to_each_page(client, course, student, assignment):
    client.force_login(student.user)
    r = client.get(f"/courses/{course.slug}/assignments/")
    assert f'href="{page_url(assignment)}"' in r.content.decode()


def test_extension_shows_on_the_page(client, course, homework, student):
    hw = AssignmentFactory(
        course=course,
        category=homework,
        slug="hw1",
        release_at=datetime(2021, 1, 25, 14, 0, tzinfo=UTC),
        due_at=HW1_DUE,
    )
    ExtensionFactory(assignment=hw, student=student.user, due_at=NOW + timedelta(days=1))
    client.force_login(student.user)
    r = client.get(page_url(hw))
    text = text_of(r)
    assert "Extended to" in text and "Originally Fri Feb 12 2021, 11:59 PM EST" in text
    assert has_form(r)


def test_closed_assignment_says_why_and_has_no_form(client, course, homework, student):
    hw = AssignmentFactory(
        course=course,
        category=homework,
        slug="hw1",
        release_at=datetime(2021, 1, 25, 14, 0, tzinfo=UTC),
        due_at=HW1_DUE,
    )
    client.force_login(student.user)
    r = client.get(page_url(hw))
    assert r.status_code == 200
    assert (
        "Closed: the grace period ended Sun Feb 14 2021, 11:59 PM EST. Late work gets a zero "
        "unless the Dean of Students confirms an extension." in text_of(r)
    )
    assert not has_form(r)
    assert "Time left Closed" in text_of(r)


def test_no_grace_closed_and_accept_late(client, course, homework, student):
    quiz = AssignmentFactory(
        course=course,
        category=homework,
        slug="quiz",
        release_at=None,
        due_at=HW1_DUE,
        grace_days=0,
    )
    ps0 = AssignmentFactory(
        course=course,
        category=homework,
        slug="ps0",
        release_at=None,
        due_at=HW1_DUE,
        grace_days=0,
        after_grace="accept_late",
    )
    client.force_login(student.user)
    assert "Closed: the due date passed Fri Feb 12 2021, 11:59 PM EST." in text_of(
        client.get(page_url(quiz))
    )
    r = client.get(page_url(ps0))
    assert has_form(r)
    assert "work handed in now is marked late" in text_of(r)


@pytest.mark.parametrize("role", ["sit_in", "ta", "instructor"])
def test_sit_ins_and_staff_see_no_form(client, course, sections, assignment, role):
    section = sections["CS4803"] if role != "instructor" else None
    who = EnrollmentFactory(course=course, section=section, role=role)
    client.force_login(who.user)
    r = client.get(page_url(assignment))
    assert r.status_code == 200
    assert not has_form(r)
    html = r.content.decode()
    if role == "sit_in":
        assert "You are sitting in on this course: sit-ins do not hand in work." in text_of(r)
        assert f'href="{staff_url(assignment)}"' not in html
    else:
        assert f'href="{staff_url(assignment)}"' in html
        assert "Staff do not submit here" in text_of(r)


def test_sit_in_post_is_refused_with_the_message(client, course, assignment):
    sit_in = EnrollmentFactory(course=course, section=None, role="sit_in")
    client.force_login(sit_in.user)
    r = submit(client, assignment)
    assert r.status_code == 403
    assert "Only students (and waitlisted students) hand work in" in text_of(r)
    assert not Submission.objects.exists() and stored_files() == []


def test_not_released_and_not_enrolled_are_404(client, course, homework, student):
    future = AssignmentFactory(
        course=course,
        category=homework,
        slug="future",
        release_at=NOW + timedelta(days=1),
        due_at=NOW + timedelta(days=5),
    )
    client.force_login(student.user)
    r = client.get(page_url(future))
    assert r.status_code == 404 and "is not released yet" in text_of(r)
    outsider = EnrollmentFactory(role="student")
    client.force_login(outsider.user)
    r = client.get(page_url(future))
    assert r.status_code == 404 and "You are not enrolled in this course" in text_of(r)
    assert client.post(page_url(future), {"files": [upload()]}).status_code == 404


def test_login_required(client, assignment):
    r = client.get(page_url(assignment))
    assert r.status_code == 302 and r["Location"].startswith("/accounts/login/")


# --- handing work in ----------------------------------------------------------------------------


def test_upload_redirects_to_the_receipt_on_time(client, sections, student, assignment):
    mate = EnrollmentFactory(section=sections["CS7643"], role="student")
    client.force_login(student.user)
    code = b"def f():\n    return 42\n" * 100
    r = submit(
        client,
        assignment,
        files=[upload("hw1.py", code), upload("notes.txt", b"n")],
        collaborators=f" {mate.user.username}, ",
    )
    sub = Submission.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/submissions/{sub.pk}/"
    assert sub.timing == "on_time" and sub.number == 1
    assert [u.username for u in sub.collaborators.all()] == [mate.user.username]

    r = client.get(r["Location"])
    assert r.status_code == 200
    text = text_of(r)
    html = r.content.decode()
    assert "Submission #1 received" in text
    assert re.search(
        r'<strong class="timing timing-on_time" id="timing-status">On time</strong>', html
    )
    local = sub.submitted_at.astimezone(r.context["tz"])
    assert f'<time datetime="{local.isoformat()}">' in html
    assert f"hw1.py 2.2 KB {hashlib.sha256(code).hexdigest()}" in text
    assert f"notes.txt 1 byte {hashlib.sha256(b'n').hexdigest()}" in text
    assert f"Collaborators {mate.user.username}" in text
    assert "Group None, individual work" in text
    assert "Yes: this is the submission that counts." in text
    for f in sub.files.all():
        assert f'href="/submissions/{sub.pk}/files/{f.pk}/"' in html


def test_the_time_of_arrival_decides(client, course, homework, student, monkeypatch):
    """request.received_at (stamped before the body is read) goes to the service."""
    hw = AssignmentFactory(
        course=course,
        category=homework,
        slug="rush",
        release_at=NOW - timedelta(days=3),
        due_at=NOW - timedelta(seconds=30),
        grace_days=0,
    )
    arrived = NOW - timedelta(minutes=1)
    monkeypatch.setattr("portal.middleware.timezone", SimpleNamespace(now=lambda: arrived))
    client.force_login(student.user)
    r = submit(client, hw)
    assert r.status_code == 302, text_of(r)
    sub = Submission.objects.get()
    assert sub.timing == "on_time" and sub.submitted_at == arrived


def test_in_grace_and_late_receipts(client, course, homework, student):
    in_grace = AssignmentFactory(
        course=course,
        category=homework,
        slug="ingrace",
        release_at=NOW - timedelta(days=5),
        due_at=NOW - timedelta(days=1),
    )
    late_ok = AssignmentFactory(
        course=course,
        category=homework,
        slug="ps0",
        release_at=NOW - timedelta(days=9),
        due_at=NOW - timedelta(days=3),
        grace_days=0,
        after_grace="accept_late",
    )
    client.force_login(student.user)
    r = client.get(page_url(in_grace))
    assert "in the grace period, with no penalty" in text_of(r)
    r = submit(client, in_grace)
    assert "In grace period within the grace period" in text_of(client.get(r["Location"]))
    r = submit(client, late_ok)
    text = text_of(client.get(r["Location"]))
    assert "Timing Late after the due date" in text and "No grace period" in text


def test_extended_receipt(client, course, homework, student):
    hw = AssignmentFactory(
        course=course,
        category=homework,
        slug="ext",
        release_at=NOW - timedelta(days=9),
        due_at=NOW - timedelta(days=4),
    )
    ExtensionFactory(assignment=hw, student=student.user, due_at=NOW + timedelta(hours=2))
    client.force_login(student.user)
    r = submit(client, hw)
    text = text_of(client.get(r["Location"]))
    assert "On time" in text and "Extended by a Dean of Students confirmed extension" in text


def _big(assignment: Any) -> list[Any]:
    assignment.max_upload_mb = 1
    assignment.save()
    return [upload("big.bin", b"x" * (1024 * 1024 + 1))]


def _bad_zip(assignment: Any) -> list[Any]:
    return [upload("ok.py"), upload("hw.zip", b"this is not a zip")]


def _traversal_zip(assignment: Any) -> list[Any]:
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w") as zf:
        zf.writestr("../../evil.py", "x")
    return [upload("hw.zip", data.getvalue())]


def _closed(assignment: Any) -> None:
    assignment.due_at = NOW - timedelta(days=3)
    assignment.release_at = NOW - timedelta(days=9)
    assignment.save()


def _solo(assignment: Any) -> None:
    assignment.collaboration = False
    assignment.save()


def _group(assignment: Any, members: int = 0, student: Any = None) -> None:
    assignment.group, assignment.group_min, assignment.group_max = True, 2, 3
    assignment.save()
    if members:
        group = ProjectGroupFactory(course=assignment.course, name="Solo")
        GroupMembership.objects.create(group=group, course=assignment.course, user=student.user)


REFUSALS = {
    # name: (setup(assignment, student) -> files or None, form data, status, code, message part)
    "deadline_passed": (lambda a, s: _closed(a), {}, 403, "deadline_passed", "grace period ended"),
    "collaboration_not_allowed": (
        lambda a, s: _solo(a),
        {"collaborators": "MATE"},
        400,
        "collaboration_not_allowed",
        "Collaboration is not allowed on HW1",
    ),
    "unknown_collaborator": (
        lambda a, s: None,
        {"collaborators": "ghost, MATE"},
        400,
        "unknown_collaborator",
        "'ghost' is not a student in this course.",
    ),
    "yourself": (
        lambda a, s: None,
        {"collaborators": "ME"},
        400,
        "unknown_collaborator",
        "not yourself",
    ),
    "group_required": (
        lambda a, s: _group(a),
        {},
        409,
        "group_required",
        "create or join a group first",
    ),
    "group_size": (
        lambda a, s: _group(a, 1, s),
        {},
        409,
        "group_size",
        "Your group has 1 member; HW1 needs 2 to 3.",
    ),
    "invalid_file": (
        lambda a, s: _bad_zip(a),
        {},
        400,
        "invalid_file",
        "hw.zip is not a valid zip archive",
    ),
    "unsafe_archive": (
        lambda a, s: _traversal_zip(a),
        {},
        400,
        "invalid_file",
        "a path that leaves the archive's folder",
    ),
    "file_too_large": (
        lambda a, s: _big(a),
        {},
        413,
        "file_too_large",
        "big.bin is larger than 1 MB, the most one file may be.",
    ),
    "no_files": (lambda a, s: [], {}, 400, "invalid_file", "Choose at least one file to submit."),
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_every_refusal_shows_the_apis_message_and_stores_nothing(
    client, sections, student, assignment, case
):
    setup, data, status, code, part = REFUSALS[case]
    mate = EnrollmentFactory(section=sections["CS4803"], role="student")
    data = {
        k: v.replace("MATE", mate.user.username).replace("ME", student.user.username)
        for k, v in data.items()
    }
    files = setup(assignment, student)
    client.force_login(student.user)
    r = client.post(
        page_url(assignment), {"files": files if files is not None else [upload()], **data}
    )
    assert r.status_code == status
    html = r.content.decode()
    assert f'role="alert" data-code="{code}"' in html
    # The API, asked the same, gives the same message.
    api = APIClient()
    api.force_authenticate(student.user)
    files = setup(assignment, student) if case not in ("group_size",) else None
    payload: dict[str, Any] = {"files": files if files is not None else [upload()]}
    if data.get("collaborators"):
        payload["collaborators"] = data["collaborators"]
    body = api.post(api_url(assignment), payload, format="multipart").json()
    assert body["error"]["code"] == code
    assert part in body["error"]["message"]
    assert body["error"]["message"] in text_of(r)
    assert not Submission.objects.exists() and stored_files() == []
    if case == "unknown_collaborator":  # what was typed stays in the field
        assert f'value="ghost, {mate.user.username}"' in html


def test_closed_by_the_time_it_arrived_shows_why(client, course, homework, student):
    hw = AssignmentFactory(
        course=course,
        category=homework,
        slug="hw1",
        release_at=datetime(2021, 1, 25, 14, 0, tzinfo=UTC),
        due_at=HW1_DUE,
    )
    client.force_login(student.user)
    r = submit(client, hw)
    assert r.status_code == 403
    text = text_of(r)
    assert (
        "The deadline for HW1 has passed: the grace period ended Sun Feb 14 2021, 11:59 PM EST."
        in text
    )
    assert "Closed: the grace period ended Sun Feb 14 2021, 11:59 PM EST." in text
    assert not has_form(r)


def test_the_upload_limit_is_checked_before_the_csrf_token(client, student, assignment):
    """The per-assignment limit is in place before the CSRF check parses the body: an
    oversized upload without a token is a 413 with the message, not a 403."""
    assignment.max_upload_mb = 1
    assignment.save()
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(student.user)
    r = strict.post(page_url(assignment), {"files": [upload("big.bin", b"x" * (1024 * 1024 + 1))]})
    assert r.status_code == 413
    assert "big.bin is larger than 1 MB, the most one file may be." in text_of(r)
    # Content-Length over the whole limit: refused before the body is read.
    r = strict.post(
        page_url(assignment),
        {f"f{i}": upload(f"part{i}.bin", b"y" * (1024 * 1024 - 10)) for i in range(6)},
    )
    assert r.status_code == 413 and "Together the files are larger than 4 MB" in text_of(r)
    # A small upload without the token is refused by the CSRF check; with it, it is taken.
    r = strict.post(page_url(assignment), {"files": [upload()]})
    assert r.status_code == 403
    assert not Submission.objects.exists() and stored_files() == []
    strict.get(page_url(assignment))
    token = strict.cookies["csrftoken"].value
    r = strict.post(page_url(assignment), {"files": [upload()], "csrfmiddlewaretoken": token})
    assert r.status_code == 302 and Submission.objects.count() == 1


def test_the_script_gets_json(client, student, assignment):
    client.force_login(student.user)
    xhr = {"HTTP_X_REQUESTED_WITH": "XMLHttpRequest", "HTTP_ACCEPT": "application/json"}
    r = client.post(page_url(assignment), {"files": [upload()]}, **xhr)
    sub = Submission.objects.get()
    assert r.status_code == 201
    assert r.json() == {"id": sub.pk, "receipt_url": f"/submissions/{sub.pk}/"}
    r = client.post(page_url(assignment), {"files": [upload()], "collaborators": "ghost"}, **xhr)
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "unknown_collaborator"
    assignment.max_upload_mb = 1
    assignment.save()
    r = client.post(
        page_url(assignment), {"files": [upload("big.bin", b"x" * (1024 * 1024 + 1))]}, **xhr
    )
    assert r.status_code == 413 and r.json()["error"]["code"] == "file_too_large"
    assert Submission.objects.count() == 1


# --- history ------------------------------------------------------------------------------------


def test_history_newest_first_with_the_one_that_counts(client, student, assignment):
    client.force_login(student.user)
    for name in ("a.py", "b.py", "c.py"):
        assert submit(client, assignment, files=[upload(name)]).status_code == 302
    r = client.get(page_url(assignment))
    history = r.content.decode().split('id="history-heading"', 1)[1]
    numbers = re.findall(r">#(\d+)</a>", history)
    assert numbers == ["3", "2", "1"]
    text = text_of(r).split("Your submissions", 1)[1]
    assert re.search(r"#3 .* On time c\.py 15 bytes Counts #2 .* On time b\.py 15 bytes — #1", text)
    newest = Submission.objects.get(number=3)
    assert f'href="/submissions/{newest.pk}/files/{newest.files.get().pk}/"' in history


def test_group_history_is_shared(client, course, sections):
    cat = CategoryFactory(course=course, slug="project", weight=20)
    project = AssignmentFactory(
        course=course, category=cat, slug="project", group=True, group_min=2, group_max=3
    )
    a, b = (EnrollmentFactory(section=sections["CS4803"], role="student") for _ in range(2))
    group = ProjectGroup.objects.create(course=course, name="Gradient Descenders", join_code="GD1")
    for who in (a, b):
        GroupMembership.objects.create(group=group, course=course, user=who.user)
    client.force_login(a.user)
    r = client.get(page_url(project))
    assert "Handed in for your group Gradient Descenders" in text_of(r)
    r = submit(client, project)
    receipt = r["Location"]
    assert "Group Gradient Descenders" in text_of(client.get(receipt))
    client.force_login(b.user)
    r = client.get(page_url(project))
    assert "Your group's submissions" in text_of(r)
    assert f'href="{receipt}"' in r.content.decode()
    assert client.get(receipt).status_code == 200


# --- receipt and downloads ----------------------------------------------------------------------


def test_receipt_and_downloads_for_owner_and_staff_only(client, sections, student, assignment, ta):
    client.force_login(student.user)
    data = b"secret answer\n"
    receipt = submit(client, assignment, files=[upload("answer.txt", data)])["Location"]
    sub = Submission.objects.get()
    download = f"/submissions/{sub.pk}/files/{sub.files.get().pk}/"
    r = client.get(download)
    assert r.status_code == 200 and b"".join(r.streaming_content) == data
    assert (
        r["Content-Disposition"].startswith("attachment")
        and "answer.txt" in r["Content-Disposition"]
    )

    other = EnrollmentFactory(section=sections["CS4803"], role="student")
    client.force_login(other.user)
    assert client.get(receipt).status_code == 404
    assert client.get(download).status_code == 404
    assert client.get(f"/submissions/{sub.pk}/files/999999/").status_code == 404
    outsider = EnrollmentFactory(role="student")
    client.force_login(outsider.user)
    assert client.get(receipt).status_code == 404 and client.get(download).status_code == 404

    client.force_login(ta.user)
    r = client.get(receipt)
    assert r.status_code == 200
    assert f"Handed in by {student.user.get_full_name()} ({student.user.username})" in text_of(r)
    assert f'href="{staff_url(assignment)}"' in r.content.decode()
    assert client.get(download).status_code == 200

    client.logout()
    assert client.get(receipt).status_code == 302


# --- the staff list -----------------------------------------------------------------------------


@pytest.fixture
def handed_in(client, sections, student, grad_student, assignment):
    """Three submissions: the undergraduate twice (on time), the graduate once (in grace)."""
    client.force_login(student.user)
    submit(client, assignment, files=[upload("a.py", b"first")])
    submit(client, assignment, files=[upload("a.py", b"second"), upload("b.txt", b"notes")])
    client.force_login(grad_student.user)
    submit(client, assignment, files=[upload("g.py", b"grad")])
    Submission.objects.filter(student=grad_student.user).update(timing="in_grace")
    client.logout()
    return Submission.objects.all()


def test_staff_list_is_for_staff_only(
    client, course, sections, student, assignment, ta, instructor
):
    for who, status in ((student, 404), (ta, 200), (instructor, 200)):
        client.force_login(who.user)
        assert client.get(staff_url(assignment)).status_code == status
        assert client.get(zip_url(assignment)).status_code == status
    sit_in = EnrollmentFactory(course=course, section=None, role="sit_in")
    client.force_login(sit_in.user)
    r = client.get(staff_url(assignment))
    assert r.status_code == 404 and "Only the course's TAs and instructors" in text_of(r)


def test_staff_list_rows_and_filters(client, student, grad_student, assignment, ta, handed_in):
    client.force_login(ta.user)
    r = client.get(staff_url(assignment))
    assert r.status_code == 200
    text = text_of(r)
    assert "3 submissions" in text
    u, g = student.user.username, grad_student.user.username
    assert re.search(rf"#1 {g} .* CS7643 .* In grace period 1 file, 4 bytes", text)
    assert re.search(rf"#2 {u} .* CS4803 .* On time 2 files, 11 bytes — Counts", text)
    html = r.content.decode()
    for sub in handed_in:
        assert f'href="/submissions/{sub.pk}/"' in html
    assert f'href="{zip_url(assignment)}"' in html

    def listed(**params: str) -> list[str]:
        resp = client.get(staff_url(assignment), params)
        return [s.student.username for s, _, _ in resp.context["rows"]]

    assert listed(section="CS7643") == [g]
    assert listed(section="CS4803") == [u, u]
    assert listed(timing="in_grace") == [g]
    assert listed(timing="on_time", section="CS7643") == []
    assert listed(student=u) == [u, u]
    assert listed(timing="nonsense") == [g, u, u]
    r = client.get(staff_url(assignment), {"section": "CS4803", "timing": "on_time"})
    assert "2 submissions match these filters" in text_of(r)
    assert f'href="{zip_url(assignment)}?section=CS4803&amp;timing=on_time"' in r.content.decode()
    assert 'value="CS4803" selected' in r.content.decode()


def test_staff_zip_holds_every_listed_file(
    client, student, grad_student, assignment, ta, handed_in
):
    client.force_login(ta.user)
    r = client.get(zip_url(assignment))
    assert r.status_code == 200 and r["Content-Type"] == "application/zip"
    assert f"{assignment.course.slug}-hw1-submissions.zip" in r["Content-Disposition"]
    with zipfile.ZipFile(io.BytesIO(b"".join(r.streaming_content))) as zf:
        contents = {name: zf.read(name) for name in zf.namelist()}
    u, g = student.user.username, grad_student.user.username
    assert contents == {
        f"{u}/1-on_time/a.py": b"first",
        f"{u}/2-on_time/a.py": b"second",
        f"{u}/2-on_time/b.txt": b"notes",
        f"{g}/1-in_grace/g.py": b"grad",
    }
    r = client.get(zip_url(assignment), {"timing": "in_grace"})
    with zipfile.ZipFile(io.BytesIO(b"".join(r.streaming_content))) as zf:
        assert zf.namelist() == [f"{g}/1-in_grace/g.py"]


def test_staff_zip_names_group_folders_safely(client, course, sections, ta):
    cat = CategoryFactory(course=course, slug="project", weight=20)
    project = AssignmentFactory(
        course=course, category=cat, slug="project", group=True, group_min=1, group_max=3
    )
    a = EnrollmentFactory(section=sections["CS4803"], role="student")
    group = ProjectGroup.objects.create(course=course, name="../AC/DC", join_code="ACDC")
    GroupMembership.objects.create(group=group, course=course, user=a.user)
    client.force_login(a.user)
    submit(client, project, files=[upload("report.pdf", b"%PDF")])
    client.force_login(ta.user)
    r = client.get(staff_url(project))
    assert "../AC/DC" in text_of(r)
    r = client.get(zip_url(project))
    with zipfile.ZipFile(io.BytesIO(b"".join(r.streaming_content))) as zf:
        assert zf.namelist() == ["_AC_DC/1-on_time/report.pdf"]


def _bulk_submissions(assignment: Any, students: list[Any], n: int) -> None:
    """``n`` submissions spread over ``students``, each with two files and a collaborator,
    all pointing at one small stored file."""
    stored = default_storage.save("submissions/bulk/hw.py", ContentFile(b"print(1)\n"))
    per = {e.user_id: 0 for e in students}
    rows = []
    for i in range(n):
        who = students[i % len(students)]
        per[who.user_id] += 1
        rows.append(
            Submission(
                course_id=assignment.course_id,
                assignment=assignment,
                student_id=who.user_id,
                number=per[who.user_id],
                submitted_at=NOW - timedelta(minutes=n - i),
                timing="on_time" if i % 3 else "in_grace",
                due_at=assignment.due_at,
                grace_ends_at=assignment.due_at + timedelta(days=2),
                total_bytes=18,
            )
        )
    created = Submission.objects.bulk_create(rows)
    SubmissionFile.objects.bulk_create(
        SubmissionFile(submission=s, name=name, size=9, sha256="0" * 64, file=stored)
        for s in created
        for name in ("a.py", "b.py")
    )
    mate = students[0].user_id
    SubmissionCollaborator.objects.bulk_create(
        SubmissionCollaborator(submission=s, user_id=mate) for s in created if s.student_id != mate
    )


def _queries(client: Any, url: str, **params: Any) -> tuple[int, Any]:
    with CaptureQueriesContext(connection) as ctx:
        r = client.get(url, params)
    assert r.status_code == 200
    return len(ctx.captured_queries), r


def test_staff_list_query_count_does_not_grow(client, course, sections, homework, ta):
    students = [
        EnrollmentFactory(section=sections[code], role="student")
        for code in ("CS4803", "CS7643") * 3
    ]
    small = AssignmentFactory(course=course, category=homework, slug="small")
    large = AssignmentFactory(course=course, category=homework, slug="large")
    _bulk_submissions(small, students, 10)
    _bulk_submissions(large, students, 1000)
    client.force_login(ta.user)
    few, r_few = _queries(client, staff_url(small))
    many, r_many = _queries(client, staff_url(large))
    assert few == many
    assert len(r_few.context["rows"]) == 10 and len(r_many.context["rows"]) == 50
    assert "1000 submissions · page 1 of 20" in text_of(r_many)
    last, r_last = _queries(client, staff_url(large), page=20)
    assert last == many and "Page 20 of 20" in text_of(r_last)
    filtered_few, _ = _queries(client, staff_url(small), section="CS4803", timing="on_time")
    filtered_many, _ = _queries(client, staff_url(large), section="CS4803", timing="on_time")
    assert filtered_few == filtered_many


def test_history_query_count_does_not_grow(client, course, sections, homework, student):
    mate = EnrollmentFactory(section=sections["CS4803"], role="student")
    small = AssignmentFactory(course=course, category=homework, slug="small")
    large = AssignmentFactory(course=course, category=homework, slug="large")
    _bulk_submissions(small, [mate, student], 20)
    _bulk_submissions(large, [mate, student], 2000)
    client.force_login(student.user)
    few, r_few = _queries(client, page_url(small))
    many, r_many = _queries(client, page_url(large))
    assert few == many
    assert len(r_few.context["history"]) == 10 and len(r_many.context["history"]) == 1000


def test_the_assignment_page_lists_questions_by_title(client, student, assignment):
    from tests.factories import QuestionFactory

    QuestionFactory(assignment=assignment, slug="q1", title="Linear layer", tests=["q1*"])
    QuestionFactory(
        assignment=assignment, slug="ec1", title="", undergraduate="extra_credit", points=5
    )
    client.force_login(student.user)
    text = text_of(client.get(page_url(assignment)))
    assert "Linear layer : 10 points autograded" in text
    assert "ec1 : 5 points extra credit for undergraduates, required for graduates" in text
