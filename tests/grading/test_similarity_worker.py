"""A similarity check run by a real Celery worker on the CPU queue, through Redis: the
staff's POST queues it, the worker compares the counting submissions, the GET reads the
disguised copy first."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from grading.models import SimilarityCheck
from tests.factories import EnrollmentFactory
from tests.grading.similarity_sources import INDEPENDENT, ORIGINAL, RENAMED
from tests.grading.test_worker_integration import (  # noqa: F401  (fixtures)
    broker,
    redis_server,
    sandbox_name,
    shared_dirs,
    submit,
    wait_for,
    workers,
)

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_a_real_worker_runs_the_check(workers, course, sections, assignment, tmp_path):  # noqa: F811
    people = [EnrollmentFactory(section=sections["CS4803"], role="student") for _ in range(3)]
    for enrollment, text in zip(people, (ORIGINAL, RENAMED, INDEPENDENT), strict=True):
        submit(enrollment, assignment, name="matrix.py", data=text.encode())
    ta = APIClient()
    ta.force_authenticate(EnrollmentFactory(section=sections["CS4803"], role="ta").user)
    url = f"/api/v1/courses/{course.slug}/assignments/{assignment.slug}/similarity/"
    assert ta.post(url).status_code == 202
    workers()
    wait_for(
        lambda: SimilarityCheck.objects.get().status in ("done", "failed"),
        what="the check to finish",
    )
    body = ta.get(url).json()
    assert body["status"] == "done", (body, (tmp_path / "worker.log").read_text())
    assert body["submissions"] == 3
    first = body["pairs"][0]
    assert sorted(first["students"]) == sorted(p.user.username for p in people[:2])
    assert first["similarity"] >= 0.9
