"""The submission endpoints: timing classes, every refusal code, idempotency, visibility."""

from __future__ import annotations

import hashlib
import io
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from courses.models import GroupMembership, ProjectGroup
from submissions.models import Submission, SubmissionFile
from tests.factories import (
    AssignmentFactory,
    CategoryFactory,
    EnrollmentFactory,
    ExtensionFactory,
)

pytestmark = pytest.mark.django_db

NOW = datetime.now(UTC)


def url(a):
    return f"/api/v1/courses/{a.course.slug}/assignments/{a.slug}/submissions/"


def upload(name="solution.py", data=b"print('hello')\n"):
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


def post(client, a, files=None, **extra):
    data = {"files": files if files is not None else [upload()]}
    if "collaborators" in extra:
        data["collaborators"] = extra.pop("collaborators")
    return client.post(url(a), data, format="multipart", **extra)


def stored_files():
    found = []

    def walk(path):
        dirs, files = default_storage.listdir(path)
        found.extend(f"{path}/{f}" for f in files)
        for d in dirs:
            walk(f"{path}/{d}")

    if default_storage.exists("submissions"):
        walk("submissions")
    return found


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.STORAGES = {**settings.STORAGES}


def test_on_time_submission_is_stored_with_hashes(api_client, student, assignment):
    api_client.force_authenticate(student.user)
    data = b"def f():\n    return 42\n"
    r = post(api_client, assignment, files=[upload("hw1.py", data), upload("notes.txt", b"n")])
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["timing"] == "on_time" and body["number"] == 1
    assert {f["name"]: (f["size"], f["sha256"]) for f in body["files"]} == {
        "hw1.py": (len(data), hashlib.sha256(data).hexdigest()),
        "notes.txt": (1, hashlib.sha256(b"n").hexdigest()),
    }
    assert body["collaborators"] == [] and body["autograde"] == {"status": "none"}
    assert body["submitted_at"].endswith(("-05:00", "-04:00"))
    sub = Submission.objects.get()
    stored = SubmissionFile.objects.get(submission=sub, name="hw1.py")
    with stored.file.open("rb") as fh:
        assert fh.read() == data
    assert len(stored_files()) == 2


def test_in_grace_and_late_and_refused(api_client, student, course, homework):
    api_client.force_authenticate(student.user)
    in_grace = AssignmentFactory(
        course=course,
        category=homework,
        slug="ingrace",
        release_at=NOW - timedelta(days=5),
        due_at=NOW - timedelta(days=1),
    )
    r = post(api_client, in_grace)
    assert r.status_code == 201 and r.json()["timing"] == "in_grace"

    closed = AssignmentFactory(
        course=course,
        category=homework,
        slug="closed",
        release_at=NOW - timedelta(days=9),
        due_at=NOW - timedelta(days=3),
    )
    r = post(api_client, closed)
    assert r.status_code == 403
    err = r.json()["error"]
    assert err["code"] == "deadline_passed" and "grace period ended" in err["message"]

    late_ok = AssignmentFactory(
        course=course,
        category=homework,
        slug="ps0",
        release_at=NOW - timedelta(days=9),
        due_at=NOW - timedelta(days=3),
        grace_days=0,
        after_grace="accept_late",
    )
    r = post(api_client, late_ok)
    assert r.status_code == 201 and r.json()["timing"] == "late"
    assert Submission.objects.count() == 2 and len(stored_files()) == 2


def test_late_ps0_waits_for_registration_end(api_client, student, course, homework):
    course.registration_ends = NOW + timedelta(days=2)
    course.save()
    ps0 = AssignmentFactory(
        course=course,
        category=homework,
        slug="ps0",
        release_at=NOW - timedelta(days=3),
        due_at=NOW - timedelta(days=1),
        grace_days=0,
        after_grace="accept_late",
    )
    api_client.force_authenticate(student.user)
    body = post(api_client, ps0).json()
    assert body["timing"] == "late"
    assert datetime.fromisoformat(body["grade_after"]) == course.registration_ends


def test_an_extension_moves_the_deadline(api_client, student, course, homework):
    closed = AssignmentFactory(
        course=course,
        category=homework,
        slug="closed",
        release_at=NOW - timedelta(days=9),
        due_at=NOW - timedelta(days=3),
    )
    ExtensionFactory(assignment=closed, student=student.user, due_at=NOW + timedelta(hours=1))
    api_client.force_authenticate(student.user)
    body = post(api_client, closed).json()
    assert body["timing"] == "on_time" and body["extended"] is True


def test_not_released_and_not_enrolled(api_client, student, course, homework):
    future = AssignmentFactory(
        course=course,
        category=homework,
        slug="future",
        release_at=NOW + timedelta(days=1),
        due_at=NOW + timedelta(days=5),
    )
    api_client.force_authenticate(student.user)
    r = post(api_client, future)
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_released"
    outsider = EnrollmentFactory(role="student")
    api_client.force_authenticate(outsider.user)
    r = post(api_client, future)
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_enrolled"
    assert not Submission.objects.exists() and stored_files() == []


def test_sit_ins_and_staff_cannot_submit_waitlisted_can(
    api_client, course, sections, assignment, ta
):
    sit_in = EnrollmentFactory(course=course, section=None, role="sit_in")
    for who in (sit_in, ta):
        api_client.force_authenticate(who.user)
        r = post(api_client, assignment)
        assert r.status_code == 403 and r.json()["error"]["code"] == "permission_denied"
    waitlisted = EnrollmentFactory(section=sections["CS7643"], role="waitlisted")
    api_client.force_authenticate(waitlisted.user)
    assert post(api_client, assignment).status_code == 201


def test_collaborators(api_client, student, sections, course, homework, assignment):
    mate = EnrollmentFactory(section=sections["CS7643"], role="student")
    api_client.force_authenticate(student.user)
    r = post(api_client, assignment, collaborators=[mate.user.username])
    assert r.status_code == 201 and r.json()["collaborators"] == [mate.user.username]

    r = post(api_client, assignment, collaborators=[mate.user.username, "ghost"])
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "unknown_collaborator"
    assert "'ghost'" in r.json()["error"]["message"]

    outsider = EnrollmentFactory(role="student")
    r = post(api_client, assignment, collaborators=[outsider.user.username])
    assert r.json()["error"]["code"] == "unknown_collaborator"

    solo = AssignmentFactory(course=course, category=homework, slug="ps0", collaboration=False)
    r = post(api_client, solo, collaborators=[mate.user.username])
    assert r.status_code == 400 and r.json()["error"]["code"] == "collaboration_not_allowed"
    assert Submission.objects.count() == 1 and len(stored_files()) == 1


def test_group_required_and_group_size(api_client, course, sections):
    cat = CategoryFactory(course=course, slug="project", weight=20)
    project = AssignmentFactory(
        course=course, category=cat, slug="project", group=True, group_min=3, group_max=4
    )
    a, b, c = (EnrollmentFactory(section=sections["CS4803"], role="student") for _ in range(3))
    api_client.force_authenticate(a.user)
    r = post(api_client, project)
    assert r.status_code == 409 and r.json()["error"]["code"] == "group_required"
    group = ProjectGroup.objects.create(course=course, name="G", join_code="G1")
    GroupMembership.objects.create(group=group, course=course, user=a.user)
    GroupMembership.objects.create(group=group, course=course, user=b.user)
    r = post(api_client, project)
    assert r.status_code == 409 and r.json()["error"]["code"] == "group_size"
    GroupMembership.objects.create(group=group, course=course, user=c.user)
    r = post(api_client, project)
    assert r.status_code == 201 and r.json()["group"]["name"] == "G"
    group.refresh_from_db()
    assert group.locked_at is not None
    # Every member sees it, and it counts for all.
    for who in (b, c):
        api_client.force_authenticate(who.user)
        listed = api_client.get(url(project)).json()
        assert [s["id"] for s in listed] == [r.json()["id"]] and listed[0]["counts"]
        assert api_client.get(f"/api/v1/submissions/{r.json()['id']}/").status_code == 200


def test_bad_files_leave_nothing_behind(api_client, student, assignment):
    api_client.force_authenticate(student.user)
    bad_zip = io.BytesIO()
    with zipfile.ZipFile(bad_zip, "w") as zf:
        zf.writestr("../../evil.py", "x")
    r = post(api_client, assignment, files=[upload("ok.py"), upload("hw.zip", bad_zip.getvalue())])
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_file"
    assert "hw.zip" in r.json()["error"]["message"]
    r = post(api_client, assignment, files=[])
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_file"
    assert not Submission.objects.exists() and stored_files() == []


def test_file_too_large_per_assignment_limit(api_client, student, assignment):
    assignment.max_upload_mb = 1
    assignment.save()
    api_client.force_authenticate(student.user)
    r = post(api_client, assignment, files=[upload("big.bin", b"x" * (1024 * 1024 + 1))])
    assert r.status_code == 413 and r.json()["error"]["code"] == "file_too_large"
    assert "big.bin" in r.json()["error"]["message"]
    assert (
        post(api_client, assignment, files=[upload("ok.bin", b"x" * 1024 * 1024)]).status_code
        == 201
    )
    assert Submission.objects.count() == 1


def test_idempotency_key_returns_the_same_submission(
    api_client, student, assignment, course, homework
):
    api_client.force_authenticate(student.user)
    first = post(api_client, assignment, HTTP_IDEMPOTENCY_KEY="k-123")
    again = post(
        api_client, assignment, files=[upload("other.py", b"changed")], HTTP_IDEMPOTENCY_KEY="k-123"
    )
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Submission.objects.count() == 1 and len(stored_files()) == 1
    other = AssignmentFactory(course=course, category=homework, slug="hw2")
    r = post(api_client, other, HTTP_IDEMPOTENCY_KEY="k-123")
    assert r.status_code == 422 and r.json()["error"]["code"] == "idempotency_key_reused"
    # A different student may use the same key.
    mate = EnrollmentFactory(section=student.section, role="student")
    api_client.force_authenticate(mate.user)
    assert (
        post(api_client, assignment, HTTP_IDEMPOTENCY_KEY="k-123").json()["id"]
        != first.json()["id"]
    )


def test_history_latest_counts_and_visibility(api_client, student, sections, assignment, ta):
    api_client.force_authenticate(student.user)
    ids = [post(api_client, assignment).json()["id"] for _ in range(3)]
    listed = api_client.get(url(assignment)).json()
    assert [s["id"] for s in listed] == ids[::-1]
    assert [s["number"] for s in listed] == [3, 2, 1]
    assert [s["counts"] for s in listed] == [True, False, False]

    other = EnrollmentFactory(section=sections["CS4803"], role="student")
    api_client.force_authenticate(other.user)
    assert api_client.get(url(assignment)).json() == []
    r = api_client.get(f"/api/v1/submissions/{ids[0]}/")
    assert r.status_code == 404
    sub = Submission.objects.get(pk=ids[0])
    file_id = sub.files.get().pk
    assert api_client.get(f"/api/v1/submissions/{ids[0]}/files/{file_id}/").status_code == 404

    api_client.force_authenticate(ta.user)
    assert len(api_client.get(url(assignment)).json()) == 3
    assert api_client.get(url(assignment), {"student": other.user.username}).json() == []
    r = api_client.get(f"/api/v1/submissions/{ids[0]}/files/{file_id}/")
    assert r.status_code == 200 and b"".join(r.streaming_content) == b"print('hello')\n"


def test_staff_filters(api_client, student, grad_student, assignment, ta):
    for who in (student, grad_student):
        api_client.force_authenticate(who.user)
        post(api_client, assignment)
    api_client.force_authenticate(ta.user)
    by_section = api_client.get(url(assignment), {"section": "CS7643"}).json()
    assert [s["student"] for s in by_section] == [grad_student.user.username]
    by_student = api_client.get(url(assignment), {"student": student.user.username}).json()
    assert [s["student"] for s in by_student] == [student.user.username]
    assert api_client.get(url(assignment), {"timing": "late"}).json() == []
    r = api_client.get(url(assignment), {"limit": 1})
    assert len(r.json()) == 1 and r["X-Total-Count"] == "2"


def test_a_failed_database_write_leaves_no_file(api_client, student, assignment, monkeypatch):
    from submissions.services import create

    def boom(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(create, "_write_rows", boom)
    api_client.force_authenticate(student.user)
    api_client.raise_request_exception = False
    r = post(api_client, assignment)
    assert r.status_code == 500 and r.json()["error"]["code"] == "server_error"
    assert not Submission.objects.exists() and stored_files() == []


def test_a_failed_file_write_leaves_no_row(api_client, student, assignment, monkeypatch):
    from django.core.files.storage import FileSystemStorage

    real_save = FileSystemStorage._save
    calls = []

    def flaky(self, name, content):
        calls.append(name)
        if len(calls) == 2:
            raise OSError("disk full")
        return real_save(self, name, content)

    monkeypatch.setattr(FileSystemStorage, "_save", flaky)
    api_client.force_authenticate(student.user)
    api_client.raise_request_exception = False
    r = post(api_client, assignment, files=[upload("a.py"), upload("b.py")])
    assert r.status_code == 500
    assert not Submission.objects.exists() and stored_files() == []


def test_orphan_sweep_deletes_only_old_files_without_rows(api_client, student, assignment):
    import os
    import time

    from django.core.files.base import ContentFile
    from django.core.management import call_command

    api_client.force_authenticate(student.user)
    post(api_client, assignment)
    kept = SubmissionFile.objects.get().file.name
    orphan = default_storage.save("submissions/x/hw1/dead/orphan.py", ContentFile(b"x"))
    fresh = default_storage.save("submissions/x/hw1/inflight/fresh.py", ContentFile(b"y"))
    old = time.time() - 7200
    os.utime(default_storage.path(orphan), (old, old))
    os.utime(default_storage.path(kept), (old, old))
    call_command("sweep_orphan_files", "--minutes", "60")
    assert set(stored_files()) == {kept, fresh}


def test_orphan_sweep_before_any_submission_finds_nothing(db, settings):
    """On local disk the sweep starts with no ``submissions`` folder at all (it lists the
    folder without asking whether it exists, which S3 never says of a prefix)."""
    from submissions.services import orphan_files_sweep

    assert not (Path(settings.MEDIA_ROOT) / "submissions").exists()
    assert orphan_files_sweep() == []


def test_staff_choose_which_submission_counts(api_client, student, ta, assignment):
    api_client.force_authenticate(student.user)
    first, second = (post(api_client, assignment).json()["id"] for _ in range(2))
    api_client.force_authenticate(ta.user)
    assert api_client.post(f"/api/v1/submissions/{first}/choose/").status_code == 200
    counts = {s["id"]: s["counts"] for s in api_client.get(url(assignment)).json()}
    assert counts == {first: True, second: False}
    api_client.post(f"/api/v1/submissions/{second}/choose/")
    counts = {s["id"]: s["counts"] for s in api_client.get(url(assignment)).json()}
    assert counts == {first: False, second: True}
    assert Submission.objects.filter(chosen=True).count() == 1


def test_students_choose_which_submission_counts_until_grades_are_released(
    api_client, student, ta, assignment
):
    api_client.force_authenticate(student.user)
    first, second = (post(api_client, assignment).json()["id"] for _ in range(2))
    r = api_client.post(f"/api/v1/submissions/{first}/choose/")
    assert r.status_code == 200 and r.json()["counts"] is True
    assert "log" not in r.json()["autograde"]  # what a student sees
    assignment.grades_released_at = timezone.now()
    assignment.save(update_fields=["grades_released_at"])
    r = api_client.post(f"/api/v1/submissions/{second}/choose/")
    assert r.status_code == 409 and r.json()["error"]["code"] == "grades_released"
    assert Submission.objects.get(chosen=True).pk == first
    api_client.force_authenticate(ta.user)  # staff still may
    assert api_client.post(f"/api/v1/submissions/{second}/choose/").status_code == 200


def test_another_student_cannot_choose(api_client, student, sections, assignment):
    api_client.force_authenticate(student.user)
    first = post(api_client, assignment).json()["id"]
    other = EnrollmentFactory(section=sections["CS4803"], role="student")
    api_client.force_authenticate(other.user)
    assert api_client.post(f"/api/v1/submissions/{first}/choose/").status_code == 404


def test_submission_list_api_queries_stay_flat(api_client, ta, sections, assignment):
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from courses.models import Enrollment

    user_model = get_user_model()
    api_client.force_authenticate(ta.user)
    counts = []
    for n in (10, 1000):
        have = Submission.objects.count()
        users = user_model.objects.bulk_create(
            [user_model(username=f"flat-{n}-{i}") for i in range(n - have)]
        )
        Enrollment.objects.bulk_create(
            [
                Enrollment(
                    course=assignment.course, user=u, section=sections["CS4803"], role="student"
                )
                for u in users
            ]
        )
        subs = Submission.objects.bulk_create(
            [
                Submission(
                    course=assignment.course,
                    assignment=assignment,
                    student=u,
                    number=1,
                    submitted_at=NOW,
                    timing="on_time",
                    due_at=assignment.due_at,
                    grace_ends_at=assignment.due_at,
                )
                for u in users
            ]
        )
        SubmissionFile.objects.bulk_create(
            [
                SubmissionFile(submission=s, name="a.py", size=1, sha256="0" * 64, file="x/a.py")
                for s in subs
            ]
        )
        with CaptureQueriesContext(connection) as ctx:
            r = api_client.get(url(assignment))
        counts.append((len(r.json()), len(ctx)))
    assert [c[0] for c in counts] == [10, 1000]
    assert counts[0][1] == counts[1][1], counts


def test_choose_on_the_receipt_page(client, api_client, student, ta, assignment):
    api_client.force_authenticate(student.user)
    first, second = (post(api_client, assignment).json()["id"] for _ in range(2))
    client.force_login(ta.user)
    page = client.get(f"/submissions/{first}/").content.decode()
    assert "Make this the one that counts" in page
    r = client.post(f"/submissions/{first}/choose/")
    assert r.status_code == 302
    assert Submission.objects.get(chosen=True).pk == first
    # The student picks their latest back, until grades are released.
    client.force_login(student.user)
    assert "Make this the one that counts" in client.get(f"/submissions/{second}/").content.decode()
    assert client.post(f"/submissions/{second}/choose/").status_code == 302
    assert Submission.objects.get(chosen=True).pk == second
    assignment.grades_released_at = timezone.now()
    assignment.save(update_fields=["grades_released_at"])
    page = client.get(f"/submissions/{first}/").content.decode()
    assert "Make this the one that counts" not in page
    r = client.post(f"/submissions/{first}/choose/", follow=True)
    assert "the submission that counts is fixed" in r.content.decode()
    assert Submission.objects.get(chosen=True).pk == second
