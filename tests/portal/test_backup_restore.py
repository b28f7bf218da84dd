"""Issue 12: bin/backup and bin/restore, run as an operator runs them. A small course with
submissions (real files), grades, their history, a regrade request, an extension and an API
token is backed up from the (committed, transactional) test database, restored into a fresh
database and a new media folder, and everything is found again: the same rows, every
submission's files with their sha256, and a site on the restored database that answers a
token's API request and shows a student the receipt of a submission."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from io import BytesIO
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg2
import pytest
from django.db import connection
from django.utils import timezone

from access.models import ApiToken
from access.services import api_token_issue
from courses.models import Extension
from grading import services
from grading.models import Grade, GradeChange, RegradeRequest, RubricItem
from grading.services.rubrics import QuestionEvaluation
from submissions.models import Submission, SubmissionFile
from submissions.services import submission_create
from tests.factories import ExtensionFactory, QuestionFactory

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

# The rows compared between the backed-up and the restored database, table by table.
COMPARED = {
    "submissions_submission": "id, assignment_id, student_id, number, submitted_at, timing",
    "submissions_submissionfile": "id, submission_id, name, size, sha256, file",
    "grading_grade": "id, assignment_id, student_id, question, points, adjustment, comment",
    "grading_gradechange": "id, grade_id, old_points, new_points, source, changed_by_id",
    "grading_regraderequest": "id, submission_id, student_id, question, message, status",
    "courses_extension": "id, assignment_id, student_id, due_at, reference",
    "access_apitoken": "id, user_id, digest, expires_at",
}


def url_of(database: str) -> str:
    s = connection.settings_dict
    password = f":{quote(s['PASSWORD'], safe='')}" if s["PASSWORD"] else ""
    return f"postgres://{quote(s['USER'], safe='')}{password}@{s['HOST']}:{s['PORT']}/{database}"


def rows(url: str, table: str) -> list[tuple[Any, ...]]:
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute(f"SELECT {COMPARED[table]} FROM {table} ORDER BY id")
        return cur.fetchall()


def run(script: str, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(ROOT / "bin" / script), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.STORAGES = {**settings.STORAGES}  # a fresh default_storage on the new root
    return Path(settings.MEDIA_ROOT)


@pytest.fixture
def fresh_database() -> Iterator[str]:
    """A database name nobody uses; dropped at the end, whatever happened."""
    name = f"portal_restore_{uuid.uuid4().hex[:12]}"
    yield name
    conn = psycopg2.connect(url_of("postgres"))
    try:
        conn.autocommit = True  # DROP DATABASE runs outside a transaction
        with conn.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        conn.close()


@pytest.fixture
def course_data(
    media: Path, assignment: Any, student: Any, grad_student: Any, ta: Any, instructor: Any
) -> dict[str, Any]:
    """Two students' submissions (one handed in twice, a binary file among them), graded
    through the rubric and by hand, released, a regrade request resolved, an extension and
    an API token."""
    QuestionFactory(assignment=assignment, slug="q1", points=10, position=0)
    QuestionFactory(assignment=assignment, slug="q2", points=5, position=1)
    bias = RubricItem.objects.create(
        assignment=assignment, question="q1", description="Missing bias", points=-2
    )
    work = {
        student: [
            {"model.py": b"def forward(x):\n    return x @ W\n", "notes.md": b"# Notes\n"},
            {"model.py": b"def forward(x):\n    return x @ W + b\n", "plot.png": os.urandom(3000)},
        ],
        grad_student: [{"model.py": b"def forward(x):\n    return W.T @ x\n"}],
    }
    submissions = []
    for enrollment, handins in work.items():
        for files in handins:
            result = submission_create(
                enrollment=enrollment,
                assignment=assignment,
                files=[(BytesIO(data), name) for name, data in files.items()],
                received_at=timezone.now(),
            )
            submissions.append(result.submission)
    services.evaluation_set(
        by=ta,
        submission=submissions[1],
        questions={
            "q1": QuestionEvaluation(rubric_items=[bias.pk], adjustment=Decimal(10)),
            "q2": QuestionEvaluation(adjustment=Decimal(4), comment="Label the axes."),
        },
    )
    services.grade_set(
        by=ta, assignment=assignment, student=grad_student.user, question="q1", points=Decimal(9)
    )
    services.grades_release(
        enrollment=instructor, assignment=assignment, now=timezone.now() - timedelta(hours=1)
    )
    regrade = services.regrade_request_create(
        enrollment=student,
        submission=submissions[1],
        question="q1",
        message="The bias is on line 2.",
        now=timezone.now(),
    )
    services.regrade_request_resolve(
        enrollment=ta,
        request_id=regrade.pk,
        response="Right, it is there.",
        questions={"q1": QuestionEvaluation(rubric_items=[], adjustment=Decimal(10))},
        now=timezone.now(),
    )
    ExtensionFactory(assignment=assignment, student=grad_student.user)
    token = api_token_issue(user=student.user, name="laptop", now=timezone.now())
    return {"student": student, "submissions": submissions, "token": token.key}


def test_a_backup_restores_into_a_fresh_database_with_every_submission_and_grade(
    course_data: dict[str, Any], media: Path, tmp_path: Path, fresh_database: str
) -> None:
    # The data a backup must keep is there to lose.
    assert Submission.objects.count() == 3 and SubmissionFile.objects.count() == 5
    assert GradeChange.objects.filter(source="regrade").exists()
    assert Grade.objects.count() == 3 and RegradeRequest.objects.get().status == "resolved"
    assert Extension.objects.count() == 1 and ApiToken.objects.count() == 1
    source = url_of(connection.settings_dict["NAME"])
    env = {k: v for k, v in os.environ.items() if k != "AWS_STORAGE_BUCKET_NAME"}

    started = time.monotonic()
    backup = run(
        "backup",
        "--dest",
        str(tmp_path / "backups"),
        env={**env, "DATABASE_URL": source, "MEDIA_ROOT": str(media)},
    )
    backup_seconds = time.monotonic() - started
    assert backup.returncode == 0, backup.stderr
    (folder,) = (tmp_path / "backups").iterdir()
    assert folder.name.startswith("portal-") and not folder.name.endswith(".partial")
    manifest = json.loads((folder / "manifest.json").read_text())
    dump = (folder / "db.dump").read_bytes()
    assert manifest["dump_sha256"] == hashlib.sha256(dump).hexdigest()
    assert manifest["rows"]["submissions_submission"] == 3
    assert manifest["rows"]["submissions_submissionfile"] == 5
    assert manifest["rows"]["grading_grade"] == Grade.objects.count()
    assert manifest["rows"]["grading_gradechange"] == GradeChange.objects.count()
    assert manifest["media"] == "folder" and manifest["media_files"] == 5

    restored_media = tmp_path / "restored-media"
    target = url_of(fresh_database)
    restore_env = {**env, "DATABASE_URL": target, "MEDIA_ROOT": str(restored_media)}
    started = time.monotonic()
    restore = run("restore", str(folder), env=restore_env)
    restore_seconds = time.monotonic() - started
    assert restore.returncode == 0, restore.stdout + restore.stderr
    print(f"backup {backup_seconds:.2f}s, restore {restore_seconds:.2f}s ({len(dump)} bytes)")

    # Every row, as it was.
    for table in COMPARED:
        assert rows(target, table) == rows(source, table), table
    # Every submission's files in the new media folder, byte for byte.
    for name, path, sha256 in SubmissionFile.objects.values_list("name", "file", "sha256"):
        data = (restored_media / path).read_bytes()
        assert (
            hashlib.sha256(data).hexdigest()
            == sha256
            == hashlib.sha256((media / path).read_bytes()).hexdigest()
        ), name

    # The restored site answers: its schema is current, the token still opens the API, the
    # student sees a receipt with its files read from the restored media.
    site_env = {
        **restore_env,
        "DJANGO_SETTINGS_MODULE": "portal.settings.test",
        "ALLOWED_HOSTS": "testserver",
    }
    manage = [str(ROOT / ".venv" / "bin" / "python"), "manage.py"]
    check = subprocess.run(
        [*manage, "migrate", "--check"], cwd=ROOT, env=site_env, capture_output=True, text=True
    )
    assert check.returncode == 0, check.stdout + check.stderr
    submission = course_data["submissions"][1]
    shell = subprocess.run(
        [*manage, "shell", "-c", SITE_CHECK],
        cwd=ROOT,
        env={**site_env, "TOKEN": course_data["token"], "SUBMISSION": str(submission.pk)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert shell.returncode == 0, shell.stdout + shell.stderr
    seen = json.loads(shell.stdout.strip().splitlines()[-1])
    assert seen == {
        "submissions": 3,
        "grades": Grade.objects.count(),
        "grade_changes": GradeChange.objects.count(),
        "courses_by_token": [submission.course.slug],
        "receipt": 200,
        "files_on_receipt": ["model.py", "plot.png"],
        "files_readable": 5,
    }


def test_restore_refuses_a_damaged_backup_and_a_database_in_use(
    course_data: dict[str, Any], media: Path, tmp_path: Path, fresh_database: str
) -> None:
    env = {k: v for k, v in os.environ.items() if k != "AWS_STORAGE_BUCKET_NAME"}
    source = url_of(connection.settings_dict["NAME"])
    backup = run(
        "backup",
        "--dest",
        str(tmp_path / "b"),
        env={**env, "DATABASE_URL": source, "MEDIA_ROOT": str(media)},
    )
    assert backup.returncode == 0, backup.stderr
    (folder,) = (tmp_path / "b").iterdir()

    # The live database is not empty: never overwritten without --force.
    into_live = run(
        "restore",
        str(folder),
        env={**env, "DATABASE_URL": source, "MEDIA_ROOT": str(tmp_path / "m1")},
    )
    assert into_live.returncode != 0 and "is not empty" in into_live.stderr
    assert Submission.objects.count() == 3

    damaged = tmp_path / "damaged"
    subprocess.run(["cp", "-a", str(folder), str(damaged)], check=True)
    with open(damaged / "db.dump", "r+b") as f:
        f.seek(100)
        f.write(b"\0" * 16)
    refused = run(
        "restore",
        str(damaged),
        env={**env, "DATABASE_URL": url_of(fresh_database), "MEDIA_ROOT": str(tmp_path / "m2")},
    )
    assert refused.returncode != 0 and "damaged" in refused.stderr
    assert not (tmp_path / "m2").exists()

    assert run("backup", "--help", env=env).returncode == 0
    assert run("restore", env=env).returncode != 0


# Run by `manage.py shell -c` on the restored database; prints one line of JSON.
SITE_CHECK = """
import hashlib, json, os
from django.contrib.auth import get_user_model
from django.core.files.storage import default_storage
from django.test import Client
from grading.models import Grade, GradeChange
from submissions.models import Submission, SubmissionFile

submission = Submission.objects.get(pk=int(os.environ["SUBMISSION"]))
api = Client().get("/api/v1/courses/", HTTP_AUTHORIZATION="Token " + os.environ["TOKEN"])
page = Client()
page.force_login(submission.student)
receipt = page.get(f"/submissions/{submission.pk}/")
readable = 0
for f in SubmissionFile.objects.all():
    with default_storage.open(f.file.name) as fh:
        readable += hashlib.sha256(fh.read()).hexdigest() == f.sha256
body = receipt.content.decode()
print(json.dumps({
    "submissions": Submission.objects.count(),
    "grades": Grade.objects.count(),
    "grade_changes": GradeChange.objects.count(),
    "courses_by_token": [c["slug"] for c in api.json()] if api.status_code == 200 else api.status_code,
    "receipt": receipt.status_code,
    "files_on_receipt": sorted(n for n in ("model.py", "notes.md", "plot.png") if n in body),
    "files_readable": readable,
}))
"""
