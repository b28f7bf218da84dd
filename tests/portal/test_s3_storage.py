"""The files on S3, against a real S3-protocol server: moto's standalone server
(``python -m moto.server``, from ``moto[server]``), started by this module on a free port of
127.0.0.1 and stopped at its end. Each test gets a bucket of its own and points
``STORAGES["default"]`` at django-storages' S3 backend there, with the settings
``portal/settings/production.py`` sets when ``AWS_STORAGE_BUCKET_NAME`` is given.

- a student's upload through the API lands in the bucket (key, bytes, sha256), nothing on
  local disk, and both downloads (API and page) serve the same bytes;
- the orphan-file sweep finds stray files on S3 too (it once asked ``exists("submissions")``,
  which a folder never does on S3, and so swept nothing);
- a bundle stored through the services lands in S3, and a real Celery worker on another
  "machine" (production settings from the environment, as README's "Workers on other
  machines" has them, and a different, empty ``MEDIA_ROOT``) fetches the bundle and the
  student's file from the bucket and grades the job under bubblewrap.

The worker gets its own redis-server, as in ``tests/grading/test_worker_integration.py``.
Credentials are dummies; ``AWS_CONFIG_FILE`` and ``AWS_SHARED_CREDENTIALS_FILE`` point
nowhere, so no profile of the machine's is read."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import boto3
import pytest
import requests
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse

from grading import services
from grading.models import BundleSetup, GradingJob, GradingResult, JobState
from submissions.models import SubmissionFile
from submissions.services import orphan_files_sweep
from tests.grading.test_worker_integration import (
    RedisServer,
    Worker,
    _free_port,
    celery_broker,
    submit,
    terminate,
    wait_for,
)

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "demo"

pytestmark = pytest.mark.slow

CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_CONFIG_FILE": "/nonexistent/aws-config",
    "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/aws-credentials",
}


class MotoServer:
    """``python -m moto.server`` on 127.0.0.1 and a free port, in a session of its own;
    :meth:`stop` ends it."""

    def __init__(self, log: Path):
        self.log, self.proc, self.port = log, None, 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> MotoServer:
        for _ in range(3):  # another process may take the free port first: try another
            self.port = _free_port()
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
                env={**os.environ, **CREDENTIALS},
                start_new_session=True,
                stdout=self.log.open("a"),
                stderr=subprocess.STDOUT,
            )
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and self.proc.poll() is None:
                try:
                    requests.get(f"{self.url}/moto-api/", timeout=1)
                    return self
                except requests.ConnectionError:
                    time.sleep(0.1)
            self.stop()
        raise RuntimeError(f"moto server did not start: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        terminate(self.proc)


@pytest.fixture(scope="module")
def moto_server(tmp_path_factory) -> Iterator[MotoServer]:
    server = MotoServer(tmp_path_factory.mktemp("moto") / "moto.log").start()
    yield server
    server.stop()


@pytest.fixture
def s3(moto_server, settings, monkeypatch, tmp_path):
    """A fresh bucket, and this process's default storage on it as production configures
    it; MEDIA_ROOT an empty folder that must stay empty. Returns a boto3 client and the
    bucket's name."""
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    client = boto3.client("s3", endpoint_url=moto_server.url, region_name="us-east-1")
    bucket = f"portal-test-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=bucket)
    media = tmp_path / "web-media"
    media.mkdir()
    settings.MEDIA_ROOT = str(media)
    # As portal/settings/production.py with AWS_STORAGE_BUCKET_NAME and AWS_S3_ENDPOINT_URL.
    settings.AWS_STORAGE_BUCKET_NAME = bucket
    settings.AWS_S3_ENDPOINT_URL = moto_server.url
    settings.AWS_DEFAULT_ACL = None
    settings.AWS_QUERYSTRING_AUTH = True
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "storages.backends.s3.S3Storage"},
    }
    yield client, bucket
    assert list(media.iterdir()) == [], "a file went to local disk instead of S3"


def _body(client, bucket: str, key: str) -> bytes:
    return client.get_object(Bucket=bucket, Key=key)["Body"].read()


@pytest.mark.django_db
def test_upload_lands_in_the_bucket_and_downloads_serve_it(
    s3, api_client, client, student, assignment
):
    s3_client, bucket = s3
    data = b"def solve():\n    return 42\n" + os.urandom(64)
    api_client.force_authenticate(student.user)
    r = api_client.post(
        f"/api/v1/courses/{assignment.course.slug}/assignments/{assignment.slug}/submissions/",
        {"files": [SimpleUploadedFile("solution.py", data)]},
        format="multipart",
    )
    assert r.status_code == 201, r.content
    stored = SubmissionFile.objects.get(submission_id=r.json()["id"])
    assert stored.sha256 == hashlib.sha256(data).hexdigest()

    keys = [o["Key"] for o in s3_client.list_objects_v2(Bucket=bucket)["Contents"]]
    assert keys == [stored.file.name]
    assert stored.file.name.startswith(
        f"submissions/{assignment.course.slug}/{assignment.slug}/"
    ) and stored.file.name.endswith("/solution.py")
    body = _body(s3_client, bucket, stored.file.name)
    assert body == data and hashlib.sha256(body).hexdigest() == stored.sha256

    # The downloads stream the bytes from the bucket (no redirect to a presigned URL).
    r = api_client.get(f"/api/v1/submissions/{stored.submission_id}/files/{stored.pk}/")
    assert r.status_code == 200
    assert b"".join(r.streaming_content) == data
    client.force_login(student.user)
    r = client.get(
        reverse(
            "submissions:file_download",
            kwargs={"submission_id": stored.submission_id, "file_id": stored.pk},
        )
    )
    assert r.status_code == 200
    assert "attachment" in r["Content-Disposition"]
    assert b"".join(r.streaming_content) == data


@pytest.mark.django_db
def test_orphan_sweep_finds_stray_files_on_s3(s3, student, assignment):
    """Regression: the sweep began with ``default_storage.exists("submissions")``, always
    False on S3 (a prefix is no object), so stray files there were never deleted."""
    s3_client, bucket = s3
    kept = SubmissionFile.objects.get(submission=submit(student, assignment)).file.name
    stray = "submissions/course/hw1/deadbeef/left-behind.py"
    s3_client.put_object(Bucket=bucket, Key=stray, Body=b"x")
    # Everything counts as old enough: S3 keeps times to the second.
    deleted = orphan_files_sweep(older_than=timedelta(seconds=-60))
    assert deleted == [stray]
    keys = [o["Key"] for o in s3_client.list_objects_v2(Bucket=bucket)["Contents"]]
    assert keys == [kept]
    assert default_storage.exists(kept)


@pytest.mark.django_db(transaction=True)
def test_worker_on_another_machine_grades_from_the_bucket(
    s3, moto_server, student, assignment, tmp_path
):
    s3_client, bucket = s3
    bundle = services._bundle_store(
        assignment=assignment,
        data=services._zip_folder(DEMO / "autograders" / "ps0"),
        source="config",
    )
    bundle_bytes = _body(s3_client, bucket, bundle.file.name)
    assert hashlib.sha256(bundle_bytes).hexdigest() == bundle.sha256

    # The other machine: nothing shared with this process but PostgreSQL, Redis and the
    # bucket. Its MEDIA_ROOT is another empty folder; its grading folder is traversable by
    # the sandbox's unprivileged uid.
    base = Path(f"/tmp/portal-s3test-{uuid.uuid4().hex[:8]}")
    worker_media, work = base / "media", base / "work"
    for d in (base, worker_media, work):
        d.mkdir(parents=True, exist_ok=True)
        d.chmod(0o755)
    redis_server = RedisServer(tmp_path / "redis").start()
    env = {
        **os.environ,
        **CREDENTIALS,
        "DJANGO_SETTINGS_MODULE": "portal.settings.production",
        "SECRET_KEY": "s3-test-worker",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{connection.settings_dict['NAME']}",
        "REDIS_URL": redis_server.url,
        "AWS_STORAGE_BUCKET_NAME": bucket,
        "AWS_S3_ENDPOINT_URL": moto_server.url,
        "MEDIA_ROOT": str(worker_media),
        "GRADING_WORK_DIR": str(work),
        "GRADING_SANDBOX": "bubblewrap",
        "GRADING_HEARTBEAT_SECONDS": "1",
    }
    worker = Worker(env, tmp_path / "worker.log")
    try:
        with celery_broker(redis_server.url):
            worker.start()
            sub = submit(
                student,
                assignment,
                data=(DEMO / "solutions" / "ps0" / "solution.py").read_bytes(),
            )
            job = GradingJob.objects.get(submission=sub)
            wait_for(
                lambda: GradingJob.objects.get(pk=job.pk).state in ("done", "failed"),
                timeout=60,
                what="the job to finish",
            )
        job.refresh_from_db()
        log = (tmp_path / "worker.log").read_text()
        assert job.state == JobState.DONE, (job.message, job.log, log)
        assert GradingResult.objects.get(job=job).score == 100
        setup = BundleSetup.objects.get(bundle=bundle)
        assert (setup.state, setup.engine) == ("done", "bubblewrap")
        # The worker fetched both from S3: its MEDIA_ROOT stayed empty, and the bundle it
        # unpacked is the one in the bucket.
        assert list(worker_media.iterdir()) == []
        unpacked = work / "bundles" / bundle.sha256 / "source" / "run_autograder"
        assert unpacked.is_file()
    finally:
        worker.stop()
        redis_server.stop()
        shutil.rmtree(base, ignore_errors=True)
