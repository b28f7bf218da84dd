from __future__ import annotations

import io
import json
import subprocess
import time
import zipfile
from pathlib import Path

import pytest

from grading.models import Bundle
from grading.services import _bundle_store

REPO = Path(__file__).resolve().parents[2]
BASE_IMAGE = "portal-autograder-base:latest"

RUN_AUTOGRADER = b"""#!/usr/bin/env bash
echo '{"score": 1, "tests": [{"name": "t", "score": 1, "max_score": 1}]}' > /autograder/results/results.json
"""


def bundle_zip(
    run_autograder: bytes = RUN_AUTOGRADER, extra: dict[str, bytes] | None = None
) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        info = zipfile.ZipInfo("run_autograder")
        info.external_attr = 0o755 << 16
        zf.writestr(info, run_autograder)
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return buf.getvalue()


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


@pytest.fixture
def make_bundle(media):
    def make(assignment, run_autograder: bytes = RUN_AUTOGRADER) -> Bundle:
        return _bundle_store(
            assignment=assignment, data=bundle_zip(run_autograder), source="upload"
        )

    return make


def autograde(assignment, enrollment, points, *, submission=None):
    """The student's grade comes from a real autograder result, as on a worker: ``points`` is
    the implicit question's score (a string or number), or ``{question: points}`` for
    questions (each fed by a test named after it). The result is for ``submission``, else
    the student's counting one (made if there is none). Returns the job."""
    from decimal import Decimal

    from django.utils import timezone

    from courses.models import Question
    from grading import services
    from grading.models import Bundle, GradingJob
    from submissions.models import Submission
    from submissions.selectors import counting_submissions

    bundle = Bundle.objects.filter(assignment=assignment, active=True).first() or _bundle_store(
        assignment=assignment, data=bundle_zip(), source="upload"
    )
    if submission is None:
        submission = counting_submissions(assignment=assignment, user_ids=[enrollment.user_id])[
            enrollment.user_id
        ]
    now = timezone.now()
    if submission is None:
        submission = Submission.objects.create(
            course=assignment.course,
            assignment=assignment,
            student=enrollment.user,
            number=1,
            submitted_at=now,
            timing="on_time",
            due_at=assignment.due_at,
            grace_ends_at=assignment.due_at,
        )
    if isinstance(points, dict):
        tests = []
        for slug, given in points.items():
            question = Question.objects.get(assignment=assignment, slug=slug)
            if not question.tests:
                question.tests = [f"{slug} *"]
                question.save(update_fields=["tests"])
            tests.append(
                {
                    "name": f"{slug} test",
                    "score": float(Decimal(str(given))),
                    "max_score": float(question.points),
                }
            )
        raw = {"tests": tests}
    else:
        raw = {"score": float(Decimal(str(points)))}
    job = GradingJob.objects.create(
        submission=submission,
        bundle=bundle,
        queue="cpu",
        state="running",
        worker="test-worker",
        queued_at=now,
        started_at=now,
        heartbeat_at=now,
    )
    assert services.job_finish(
        job_id=job.pk,
        worker="test-worker",
        score=raw.get("score"),
        max_score=None,
        data={"raw": json.dumps(raw)},
    )
    return job


@pytest.fixture(scope="session")
def base_image() -> str:
    """The portal's base image for the Podman tests, built by bin/build-base-image when this
    machine lacks it (about a minute, once)."""
    from grading.sandbox import podman

    if not podman.image_exists(BASE_IMAGE):
        started = time.monotonic()
        subprocess.run([str(REPO / "bin" / "build-base-image")], check=True, timeout=900)
        print(f"base image built in {time.monotonic() - started:.0f} s")
    return BASE_IMAGE
