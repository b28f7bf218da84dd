"""Schemathesis against a live server: every operation of the served schema, called with
generated requests as a student, a TA and an instructor of a small real course, answers
without a 5xx, with a status the schema declares for it and a body the schema describes.

Path parameters are pinned to the course's real objects (its slug, an assignment, a graded
submission and its file, a rubric item, a regrade request, a finished grading job, a grader),
so the generated queries and bodies reach the views' logic instead of stopping at a 404; the
queries and bodies themselves are generated from the schema. Operations that revoke the
token they are called with (``auth/logout/``, ``auth/logout-all/``, ``DELETE
auth/tokens/{id}/``) get a fresh throw-away token for each case, so they cannot log the other
cases out. Nothing is excluded.

Bounded: ``SCHEMATHESIS_MAX_EXAMPLES`` cases per operation and person (default 10), and a
wall-clock budget of ``SCHEMATHESIS_BUDGET_S`` seconds (default 100) after which the
remaining operations are tried with a single case each. Generation is derandomized, so a run
is reproducible. Run it alone: ``pytest tests/portal/test_schemathesis.py``."""

from __future__ import annotations

import json
import os
import time
from datetime import timedelta
from typing import Any

import pytest
import schemathesis
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from rest_framework.test import APIClient
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)

from access.services import api_token_issue
from grading import services as grading_services
from grading.models import GradingJob, RegradeRequest, RubricItem
from submissions.models import Submission
from tests.factories import (
    AssignmentFactory,
    CategoryFactory,
    EnrollmentFactory,
    ExtensionFactory,
    QuestionFactory,
)
from tests.grading.conftest import make_bundle, media  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "10"))
BUDGET_S = float(os.environ.get("SCHEMATHESIS_BUDGET_S", "100"))
MODES = [GenerationMode(m) for m in os.environ.get("SCHEMATHESIS_MODES", "positive").split(",")]
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]
# These revoke the token they are called with: each case gets a throw-away one.
REVOKING = {
    ("POST", "/api/v1/auth/logout/"),
    ("POST", "/api/v1/auth/logout-all/"),
    ("DELETE", "/api/v1/auth/tokens/{token_id}/"),
}
RESULTS = {
    "score": 7,
    "tests": [
        {"name": "q1 shapes", "score": 5, "max_score": 5, "output": "ok"},
        {"name": "q2 hidden", "score": 2, "max_score": 5, "visibility": "after_published"},
    ],
}


@pytest.fixture
def small_course(course, sections, homework, make_bundle):  # noqa: F811
    """Two assignments (one autograded, with questions; one for groups), a student with a
    graded submission, a TA, an instructor, a rubric item, a regrade request, an extension."""
    now = timezone.now()
    student = EnrollmentFactory(section=sections["CS4803"], role="student")
    grad = EnrollmentFactory(section=sections["CS7643"], role="student")
    ta = EnrollmentFactory(section=sections["CS4803"], role="ta")
    instructor = EnrollmentFactory(course=course, section=None, role="instructor")
    hw1 = AssignmentFactory(
        course=course,
        category=homework,
        slug="hw1",
        release_at=now - timedelta(days=10),
        due_at=now + timedelta(days=3),
    )
    QuestionFactory(assignment=hw1, slug="q1", points=5)
    QuestionFactory(assignment=hw1, slug="ec", points=5, undergraduate="extra_credit")
    AssignmentFactory(
        course=course,
        category=CategoryFactory(course=course, slug="project", weight=20),
        slug="project",
        group=True,
        group_min=1,
        group_max=4,
        due_at=now + timedelta(days=30),
    )
    make_bundle(hw1)
    ExtensionFactory(assignment=hw1, student=grad.user, due_at=now + timedelta(days=9))

    api = APIClient()
    api.force_authenticate(student.user)
    response = api.post(
        f"/api/v1/courses/{course.slug}/assignments/hw1/submissions/",
        {"files": [SimpleUploadedFile("main.py", b"print(1)\n")]},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    submission = Submission.objects.get(pk=response.json()["id"])
    job = grading_services.job_claim(queue="cpu", worker="w", now=now)
    assert job is not None
    grading_services.job_finish(
        job_id=job.pk, worker="w", score=7, max_score=10, data={"raw": json.dumps(RESULTS)}
    )
    staff = APIClient()
    staff.force_authenticate(instructor.user)
    base = f"/api/v1/courses/{course.slug}/assignments/hw1"
    item = staff.post(
        f"{base}/rubric/", {"question": "q1", "description": "Bias", "points": -1}, format="json"
    )
    assert item.status_code == 201, item.content
    grader = {"grader": ta.user.username, "sections": ["CS4803"], "questions": ["q1"]}
    assert staff.post(f"{base}/graders/", grader, format="json").status_code == 201
    assert staff.post(f"{base}/release/").status_code == 200
    asked = api.post(
        f"/api/v1/submissions/{submission.pk}/regrade-requests/",
        {"question": "q1", "message": "Please look again."},
        format="json",
    )
    assert asked.status_code == 201, asked.content
    return {
        "people": {"student": student.user, "ta": ta.user, "instructor": instructor.user},
        "path": {
            "course_slug": course.slug,
            "assignment_slug": "hw1",
            "submission_id": submission.pk,
            "file_id": submission.files.get().pk,
            "item_id": RubricItem.objects.get().pk,
            "request_id": RegradeRequest.objects.get().pk,
            "job_id": GradingJob.objects.get().pk,
            "username": ta.user.username,
        },
    }


def _run_operation(
    operation: Any,
    *,
    base_url: str,
    user: Any,
    path: dict[str, Any],
    examples: int,
    mode: GenerationMode,
) -> tuple[int, list[str]]:
    """Up to ``examples`` generated cases of one operation as ``user``; the number of cases
    sent and the failures, each with the request that caused it."""
    method, template = operation.method.upper(), operation.path
    revoking = (method, template) in REVOKING
    token = api_token_issue(user=user, name="schemathesis", now=timezone.now())
    pinned = {p.name: path[p.name] for p in operation.path_parameters if p.name in path} | (
        {"token_id": token.token.pk} if "token_id" in template else {}
    )
    sent = 0
    failures: list[str] = []

    @given(case=operation.as_strategy(generation_mode=mode, path_parameters=pinned))
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        nonlocal sent
        key = token.key
        if revoking:
            fresh = api_token_issue(user=user, name="throw-away", now=timezone.now())
            key = fresh.key
            if "token_id" in case.path_parameters:
                case.path_parameters["token_id"] = fresh.token.pk
        sent += 1
        try:
            case.call_and_validate(
                base_url=base_url, headers={"Authorization": f"Token {key}"}, checks=CHECKS
            )
        except (AssertionError, FailureGroup) as failure:
            found = failure.exceptions if isinstance(failure, FailureGroup) else [failure]
            failures.extend(
                f"{method} {template} as {user.username} "
                f"(path {case.path_parameters}, query {case.query}, body {str(case.body)[:200]}): "
                f"{getattr(f, 'title', '')} {getattr(f, 'message', f)}"[:1500]
                for f in found
            )

    try:
        run()
    except Unsatisfiable:
        # Negative mode, and nothing left to make invalid (the path is pinned, no body).
        assert mode is GenerationMode.NEGATIVE
    return sent, failures


def test_schemathesis_finds_no_server_error_or_schema_violation(live_server, small_course):
    started = time.monotonic()
    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/schema/?format=json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 50
    counts: dict[str, int] = {}
    failures: list[str] = []
    for mode in MODES:
        for operation in operations:
            for role, user in small_course["people"].items():
                over = time.monotonic() - started > BUDGET_S
                sent, found = _run_operation(
                    operation,
                    base_url=live_server.url,
                    user=user,
                    path=small_course["path"],
                    examples=1 if over else MAX_EXAMPLES,
                    mode=mode,
                )
                counts[f"{mode.value} {role}"] = counts.get(f"{mode.value} {role}", 0) + sent
                failures.extend(found)
    elapsed = time.monotonic() - started
    print(
        f"schemathesis: {len(operations)} operations, {sum(counts.values())} cases "
        f"({counts}), {elapsed:.0f}s"
    )
    # One example of each kind of failure per operation: one bug often fails many cases.
    kinds: dict[str, str] = {}
    for failure in failures:
        kinds.setdefault(failure.split(" as ")[0] + failure.split("): ", 1)[-1][:80], failure)
    assert not failures, f"{len(failures)} failures, {len(kinds)} kinds:\n\n" + "\n\n".join(
        list(kinds.values())[:30]
    )
