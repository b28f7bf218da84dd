"""The deadline rush, for real: many students upload at once through a live server on
PostgreSQL, one of them retrying the same Idempotency-Key ten times in parallel.

Afterwards the database and the storage must agree exactly: no lost submission, none stored
twice, no file without its row and no row without its file. Nothing here is timed.

The server is Django's threaded live server (as pytest-django's ``live_server`` runs it), but
with a listen backlog of 128: Django's own is 10, and a burst of 60 connections overflows it;
the kernel then drops handshakes and about a third of the requests come back as connection
resets after a second (a property of the test server, not of the portal; gunicorn's backlog
is 2048)."""

from __future__ import annotations

import hashlib
import http.client
import io
import json
import os
import threading
import uuid
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.servers.basehttp import ThreadedWSGIServer
from django.test.testcases import LiveServerThread
from django.utils import timezone

from access.services import api_token_issue
from courses.models import Enrollment
from submissions.models import Submission, SubmissionFile
from tests.factories import AssignmentFactory, CategoryFactory, CourseFactory, SectionFactory

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

STUDENTS = 50
RETRIES = 10
TIMEOUT_S = 60


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.STORAGES = {**settings.STORAGES}  # a fresh default_storage on the new root
    return Path(settings.MEDIA_ROOT)


class _Server(ThreadedWSGIServer):
    request_queue_size = 128


class _ServerThread(LiveServerThread):
    server_class = _Server


@pytest.fixture
def port(transactional_db, settings):
    """A live server in this process, on 127.0.0.1; each request thread has its own
    database connection, closed when the request ends."""
    settings.ALLOWED_HOSTS = ["127.0.0.1"]
    thread = _ServerThread("127.0.0.1", static_handler=lambda app: app)
    thread.daemon = True
    thread.start()
    thread.is_ready.wait(TIMEOUT_S)
    if thread.error:
        raise thread.error
    yield thread.port
    thread.terminate()


@pytest.fixture
def rush(transactional_db):
    """One course with an open assignment and 50 students, each with an API token."""
    course = CourseFactory(slug="rush")
    section = SectionFactory(course=course, code="CS4803", capacity=STUDENTS)
    assignment = AssignmentFactory(
        course=course,
        category=CategoryFactory(course=course, slug="homework"),
        slug="hw1",
        title="HW1",
    )
    User = get_user_model()
    users = User.objects.bulk_create(
        [User(username=f"rush{i:02d}", password="!") for i in range(STUDENTS)]
    )
    Enrollment.objects.bulk_create(
        [Enrollment(course=course, section=section, user=u, role="student") for u in users]
    )
    now = timezone.now()
    tokens = {u.username: api_token_issue(user=u, now=now).key for u in users}
    return assignment, tokens


# ---- the client: plain http.client, one connection per request --------------------------------


@dataclass
class Reply:
    status: int
    body: dict
    replayed: bool


def zip_bytes(member: str, text: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(member, text)
    return buf.getvalue()


def multipart(files: list[tuple[str, bytes]]) -> tuple[bytes, str]:
    boundary = f"----rush{uuid.uuid4().hex}"
    out = io.BytesIO()
    for name, data in files:
        out.write(
            f'--{boundary}\r\nContent-Disposition: form-data; name="files"; '
            f'filename="{name}"\r\nContent-Type: application/octet-stream\r\n\r\n'.encode()
        )
        out.write(data)
        out.write(b"\r\n")
    out.write(f"--{boundary}--\r\n".encode())
    return out.getvalue(), f"multipart/form-data; boundary={boundary}"


def post_files(
    port: int, path: str, token: str, files: list[tuple[str, bytes]], key: str | None = None
) -> Reply:
    body, content_type = multipart(files)
    headers = {
        "Authorization": f"Token {token}",
        "Content-Type": content_type,
        "Accept": "application/json",
    }
    if key is not None:
        headers["Idempotency-Key"] = key
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT_S)
    try:
        conn.request("POST", path, body=body, headers=headers)
        r = conn.getresponse()
        raw = r.read()
        return Reply(r.status, json.loads(raw), r.getheader("Idempotent-Replayed") == "true")
    finally:
        conn.close()


def fire(jobs: list) -> list[Reply]:
    """Runs every job in its own thread, all released at the same moment."""
    gate = threading.Barrier(len(jobs), timeout=TIMEOUT_S)

    def run(job):
        gate.wait()
        return job()

    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        return list(pool.map(run, jobs))


def submissions_path(assignment) -> str:
    return f"/api/v1/courses/{assignment.course.slug}/assignments/{assignment.slug}/submissions/"


def stored_files(root: Path) -> set[str]:
    """Every file under MEDIA_ROOT, as storage names (relative, ``/``-separated)."""
    return {
        Path(dirpath, f).relative_to(root).as_posix()
        for dirpath, _, files in os.walk(root)
        for f in files
    }


def assert_storage_matches_rows(root: Path) -> None:
    rows = list(SubmissionFile.objects.all())
    for row in rows:
        path = root / row.file.name
        assert path.is_file(), f"{row.file.name} has a row but no file"
        data = path.read_bytes()
        assert len(data) == row.size
        assert hashlib.sha256(data).hexdigest() == row.sha256
    assert stored_files(root) == {row.file.name for row in rows}, "a stored file lacks its row"


# ---- the tests --------------------------------------------------------------------------------


def test_fifty_students_and_ten_retries_of_one_key_at_once(port, rush, media):
    assignment, tokens = rush
    path = submissions_path(assignment)
    names = sorted(tokens)
    retrier = names[0]
    key = f"retry-{uuid.uuid4()}"

    # Every student hands in an archive and a notes file (their own bytes, so their own
    # hashes); the first of them also retries one more archive ten times with one key.
    sent: dict[str, list[tuple[str, bytes]]] = {
        n: [
            ("hw1.zip", zip_bytes("main.py", f"print({n!r})\n" * 50)),
            ("notes.txt", f"notes of {n}\n".encode()),
        ]
        for n in names
    }
    retried = [("hw1.zip", zip_bytes("main.py", "print('retried')\n" * 50))]

    jobs = [
        lambda n=n: post_files(port, path, tokens[n], sent[n], key=f"own-{n}") for n in names
    ] + [lambda: post_files(port, path, tokens[retrier], retried, key=key)] * RETRIES
    replies = fire(jobs)
    uploads, retries = replies[:STUDENTS], replies[STUDENTS:]

    assert [r.status for r in uploads] == [201] * STUDENTS, [r.body for r in uploads]
    assert [r.status for r in retries] == [201] * RETRIES, [r.body for r in retries]
    assert len({r.body["id"] for r in retries}) == 1, "the retries got different submissions"
    assert sum(not r.replayed for r in retries) == 1, "exactly one retry creates it"

    # 50 first submissions plus the retried one: the retrier has two, numbered 1 and 2.
    assert Submission.objects.count() == STUDENTS + 1
    assert SubmissionFile.objects.count() == 2 * STUDENTS + 1
    numbers = {
        (s.student.username, s.number): s for s in Submission.objects.select_related("student")
    }
    assert set(numbers) == {(n, 1) for n in names} | {(retrier, 2)}
    keyed = Submission.objects.get(idempotency_key=key)
    assert keyed.pk == retries[0].body["id"] and keyed.student.username == retrier

    # Each reply names its own submission, and its files are the bytes that student sent.
    for n, reply in zip(names, uploads, strict=True):
        sub = Submission.objects.get(pk=reply.body["id"])
        assert (sub.student.username, sub.idempotency_key) == (n, f"own-{n}")
        assert {f.name: f.sha256 for f in sub.files.all()} == {
            name: hashlib.sha256(data).hexdigest() for name, data in sent[n]
        }
    assert [f.sha256 for f in keyed.files.all()] == [hashlib.sha256(retried[0][1]).hexdigest()]

    # The nine replays stored nothing that outlived them.
    assert_storage_matches_rows(media)


def test_two_concurrent_uploads_by_one_student_are_numbered_one_and_two(port, rush, media):
    assignment, tokens = rush
    path = submissions_path(assignment)
    name = sorted(tokens)[0]
    files = [[("hw1.zip", zip_bytes("main.py", f"print({i})\n" * 50))] for i in range(2)]

    replies = fire([lambda f=f: post_files(port, path, tokens[name], f) for f in files])

    assert [r.status for r in replies] == [201, 201], [r.body for r in replies]
    assert sorted(r.body["number"] for r in replies) == [1, 2]
    assert len({r.body["id"] for r in replies}) == 2
    assert sorted(Submission.objects.values_list("number", flat=True)) == [1, 2]
    assert SubmissionFile.objects.count() == 2
    assert_storage_matches_rows(media)
