"""The served schema is exactly what the API returns: real answers of every endpoint, read as a
student, a TA and an instructor on a course with every kind of row, are validated against
``/api/schema/``, strictly (an object may carry no key the schema does not declare, a key the
schema requires must be there, ``null`` only where it says nullable). Every JSON ``GET`` in the
schema must have been checked, so a new endpoint cannot slip by without a declared shape."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from jsonschema import Draft202012Validator
from rest_framework.test import APIClient

from courses.models import Assignment
from grading import services as grading_services
from grading import tasks as grading_tasks
from grading.models import GradeChange, GradingJob, SimilarityPair
from submissions.models import Submission
from tests.factories import (
    PASSWORD,
    AssignmentFactory,
    CategoryFactory,
    EnrollmentFactory,
    ExtensionFactory,
    QuestionFactory,
)
from tests.grading.conftest import make_bundle, media  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db

# Answers that are files, not JSON: their content type is what the schema declares.
NOT_JSON = {
    "/api/v1/courses/{course_slug}/gradebook.csv",
    "/api/v1/courses/{course_slug}/readiness.csv",
    "/api/v1/submissions/{submission_id}/files/{file_id}/",
}


def _to_json_schema(node: Any) -> Any:
    """OpenAPI 3.0 to JSON Schema 2020-12, made strict: ``nullable`` becomes a ``null``
    alternative, and an object with declared properties allows no others."""
    if isinstance(node, list):
        return [_to_json_schema(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: _to_json_schema(v) for k, v in node.items() if k != "nullable"}
    for bound, exclusive in (("maximum", "exclusiveMaximum"), ("minimum", "exclusiveMinimum")):
        # OpenAPI 3.0's boolean form: true makes the bound exclusive.
        if isinstance(out.get(exclusive), bool) and out.pop(exclusive):
            out[exclusive] = out.pop(bound)
    if "properties" in out and "additionalProperties" not in out:
        out["additionalProperties"] = False
    if node.get("nullable"):
        if "type" in out:
            out["type"] = [out["type"], "null"]
            if "enum" in out:
                out["enum"] = [*out["enum"], None]
        else:
            out = {"anyOf": [out, {"type": "null"}]}
    return out


class SchemaChecker:
    def __init__(self, schema: dict[str, Any]) -> None:
        self.schema = schema
        self.components = _to_json_schema(schema.get("components", {}))
        self.checked: set[tuple[str, str]] = set()
        self.routes = [
            (re.compile("^" + re.sub(r"\{[^}]+\}", r"[^/]+", p) + "$"), p) for p in schema["paths"]
        ]

    def template(self, path: str) -> str:
        for pattern, template in self.routes:
            if pattern.match(path):
                return template
        raise AssertionError(f"{path} is not in the schema")

    def check(self, method: str, path: str, response: Any) -> Any:
        template = self.template(path)
        operation = self.schema["paths"][template].get(method.lower())
        assert operation is not None, f"{method} {template} is not in the schema"
        status = str(response.status_code)
        assert status in operation["responses"], (
            f"{method} {template} answered {status}, which the schema does not declare "
            f"(it declares {sorted(operation['responses'])}): {response.content[:300]!r}"
        )
        declared = operation["responses"][status]
        if template in NOT_JSON and status.startswith("2"):
            self.checked.add((method, template))
            return None
        content = declared.get("content", {})
        if not content and not response.content:  # 204: nothing declared, nothing sent
            self.checked.add((method, template))
            return None
        assert "application/json" in content, f"{method} {template} {status}: no JSON declared"
        body = json.loads(response.content)
        validator = Draft202012Validator(
            {
                "components": self.components,
                **_to_json_schema(content["application/json"]["schema"]),
            }
        )
        errors = sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path))
        assert not errors, f"{method} {template} {status}: " + "; ".join(
            f"at {'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}" for e in errors[:5]
        )
        self.checked.add((method, template))
        return body


@pytest.fixture
def checker(client: Any) -> SchemaChecker:
    response = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    return SchemaChecker(json.loads(response.content))


class Caller:
    """One person's API client whose every answer goes through the checker."""

    def __init__(self, checker: SchemaChecker, user: Any) -> None:
        self.api = APIClient()
        self.api.force_authenticate(user)
        self.checker = checker

    def get(self, path: str, expect: int = 200) -> Any:
        response = self.api.get(path)
        assert response.status_code == expect, response.content[:500]
        return self.checker.check("GET", path.split("?")[0], response)

    def post(self, path: str, data: Any = None, expect: int = 200, **kwargs: Any) -> Any:
        return self.send("POST", path, data, expect, **kwargs)

    def send(
        self, method: str, path: str, data: Any = None, expect: int = 200, **kwargs: Any
    ) -> Any:
        """A write (POST, PUT, PATCH, DELETE) whose answer goes through the checker."""
        kwargs.setdefault("format", "json")
        response = getattr(self.api, method.lower())(path, data, **kwargs)
        assert response.status_code == expect, response.content[:500]
        return self.checker.check(method, path, response)


RESULTS = {
    "score": 7,
    "output": "Well done",
    "stdout_visibility": "visible",
    "tests": [
        {"name": "q1 shapes", "score": 5, "max_score": 5, "output": "ok", "visibility": "visible"},
        {"name": "q2 hidden", "score": 2, "max_score": 5, "visibility": "after_published"},
    ],
    "leaderboard": [{"name": "accuracy", "value": 0.9}],
}


@pytest.fixture
def world(course, sections, homework, make_bundle):  # noqa: F811
    """A course with an autograded assignment, a graded and a queued submission, released
    grades, a regrade request, an extension and a project group."""
    now = timezone.now()
    student = EnrollmentFactory(section=sections["CS4803"], role="student")
    grad = EnrollmentFactory(section=sections["CS7643"], role="student")
    ta = EnrollmentFactory(section=sections["CS4803"], role="ta")
    instructor = EnrollmentFactory(course=course, section=None, role="instructor")
    hw1 = AssignmentFactory(
        course=course,
        category=homework,
        slug="hw1",
        title="HW1",
        release_at=now - timedelta(days=10),
        due_at=now + timedelta(days=3),
    )
    QuestionFactory(assignment=hw1, slug="q1", points=5)
    QuestionFactory(assignment=hw1, slug="ec", points=5, undergraduate="extra_credit")
    project_cat = CategoryFactory(course=course, slug="project", weight=20)
    project = AssignmentFactory(
        course=course,
        category=project_cat,
        slug="project",
        group=True,
        group_min=1,
        group_max=4,
        due_at=now + timedelta(days=30),
    )
    make_bundle(hw1)
    ExtensionFactory(
        assignment=hw1, student=grad.user, due_at=now + timedelta(days=9), reference="DOS-12345"
    )
    return {
        "course": course,
        "student": student,
        "grad": grad,
        "ta": ta,
        "instructor": instructor,
        "hw1": hw1,
        "project": project,
    }


def _upload(caller: Caller, course: Any, assignment: Any, name: str = "main.py") -> Any:
    return caller.post(
        f"/api/v1/courses/{course.slug}/assignments/{assignment.slug}/submissions/",
        {"files": [SimpleUploadedFile(name, b"print(1)\n")]},
        format="multipart",
        expect=201,
    )


def _grade(submission_id: int) -> None:
    """The submission's queued job runs to the end, as a worker would."""
    job = grading_services.job_claim(queue="cpu", worker="w", now=timezone.now())
    assert job is not None and job.submission_id == submission_id
    grading_services.job_finish(
        job_id=job.pk, worker="w", score=7, max_score=10, data={"raw": json.dumps(RESULTS)}
    )


def _grade_next(raw: str) -> int:
    """The next queued job ends with this results.json; its id."""
    job = grading_services.job_claim(queue="cpu", worker="w", now=timezone.now())
    assert job is not None
    grading_services.job_finish(
        job_id=job.pk, worker="w", score=None, max_score=None, data={"raw": raw}
    )
    return job.pk


def test_every_answer_matches_the_served_schema(
    checker: SchemaChecker, world: dict[str, Any]
) -> None:
    c, hw1 = world["course"], world["hw1"]
    student = Caller(checker, world["student"].user)
    grad = Caller(checker, world["grad"].user)
    ta = Caller(checker, world["ta"].user)
    instructor = Caller(checker, world["instructor"].user)
    base = f"/api/v1/courses/{c.slug}"
    hw = f"{base}/assignments/{hw1.slug}"

    # Courses and assignments, for each kind of person.
    for who in (student, grad, ta, instructor):
        who.get("/api/v1/courses/")
        who.get(f"{base}/assignments/")

    # Submissions: one graded, one still queued; staff list and detail.
    first = _upload(student, c, hw1)
    _grade(first["id"])
    second = _upload(student, c, hw1, "other.py")
    for who in (student, ta):
        who.get(f"{hw}/submissions/")
        who.get(f"/api/v1/submissions/{first['id']}/")
        who.get(f"/api/v1/submissions/{second['id']}/")
    ta.get(f"{hw}/submissions/?student={world['student'].user.username}")
    file_id = GradingJob.objects.get(submission_id=first["id"]).submission.files.get().pk
    student.get(f"/api/v1/submissions/{first['id']}/files/{file_id}/")
    ta.post(f"/api/v1/submissions/{first['id']}/choose/")

    # The queue, re-runs, an autograder upload.
    ta.get(f"{base}/grading/queue/")
    ta.post(f"/api/v1/submissions/{first['id']}/rerun/", expect=202)
    ta.post(f"{hw}/rerun/", expect=202)

    # Grades: staff set one, release, the student reads theirs; a regrade to resolution.
    ta.post(
        f"{hw}/grades/", {"student": world["student"].user.username, "question": "q1", "points": 4}
    )
    ta.get(f"{hw}/grades/")

    # Rubrics and an evaluation; the student reads it once released.
    bias = ta.post(
        f"{hw}/rubric/", {"question": "q1", "description": "Missing bias", "points": -1}, expect=201
    )
    spare = ta.post(
        f"{hw}/rubric/", {"question": "ec", "description": "x", "points": 1}, expect=201
    )
    ta.get(f"{hw}/rubric/")
    ta.send("PATCH", f"/api/v1/rubric-items/{bias['id']}/", {"points": -2})
    ta.send("DELETE", f"/api/v1/rubric-items/{spare['id']}/", expect=204)
    evaluation = f"/api/v1/submissions/{first['id']}/evaluation/"
    ta.send(
        "PUT",
        evaluation,
        {
            "questions": {"q1": {"rubric_items": [bias["id"]], "adjustment": 1, "comment": "ok"}},
            "annotations": [{"file": "main.py", "line": 1, "text": "Nice"}],
        },
    )
    ta.get(evaluation)

    # Graders' shares and the grading queue; the next ungraded submission, then none.
    share = {"grader": world["ta"].user.username, "sections": ["CS4803"], "questions": ["ec"]}
    instructor.post(f"{hw}/graders/", share, expect=201)
    instructor.post(f"{hw}/graders/", {**share, "questions": ["q1", "ec"]})
    ta.get(f"{hw}/graders/")
    ta.get(f"{hw}/statistics/")
    ta.get(f"{base}/readiness/")
    ta.get(f"{base}/readiness.csv")
    instructor.send(
        "POST", f"{base}/readiness/email/", {"subject": "PS0", "message": "Hi"}, expect=202
    )
    student_name = world["student"].user.username
    instructor.send(
        "POST",
        f"{hw}/grades/import/",
        {
            "file": SimpleUploadedFile(
                "g.csv", f"username,points,question\n{student_name},1,q1\n".encode()
            )
        },
        format="multipart",
    )
    instructor.send(
        "POST",
        f"{hw}/grades/import/",
        {"file": SimpleUploadedFile("g.csv", b"username,points\nghost,1\n")},
        expect=400,
        format="multipart",
    )
    instructor.send("PUT", f"{base}/head-tas/", {"usernames": [world["ta"].user.username]})
    ta.get(f"{base}/head-tas/")
    instructor.send("PUT", f"{base}/head-tas/", {"usernames": ["nobody"]}, expect=400)
    # The instructor console: an assignment's settings, the categories, the change log.
    instructor.send("PATCH", f"{hw}/", {"grace_days": 3, "due_at": "2030-03-07T23:59"})
    instructor.send("PATCH", f"{hw}/", {"grace_days": -1}, expect=400)
    ta.send("PATCH", f"{hw}/", {"grace_days": 4}, expect=403)
    categories = ta.get(f"{base}/categories/")
    assert sum(c["weight"] for c in categories if not c["bonus"]) == 100
    instructor.send("PUT", f"{base}/categories/", categories)
    short = [{**c, "weight": c["weight"] - 5} if c["slug"] == "homework" else c for c in categories]
    instructor.send("PUT", f"{base}/categories/", short, expect=400)
    ta.get(f"{base}/changes/")
    ta.send("DELETE", f"{hw}/graders/{world['ta'].user.username}/", expect=204)
    instructor.post(f"{hw}/graders/", {**share, "questions": ["q1", "ec"]}, expect=201)
    for query in ("", "?mine=1", "?question=q1"):
        ta.get(f"{hw}/grading-queue/{query}")
    handed = ta.post(f"{hw}/grading-queue/next/", {})
    assert handed["student"] == world["student"].user.username
    ta.post(f"{hw}/grading-queue/next/", {"question": "q1"}, expect=204)
    instructor.post(f"{hw}/release/")
    student.get(evaluation)
    student.get(f"{base}/grades/")
    grad.get(f"{base}/grades/")
    asked = student.post(
        f"/api/v1/submissions/{first['id']}/regrade-requests/",
        {"question": "q1", "message": "Please look again."},
        expect=201,
    )
    student.get(f"/api/v1/regrade-requests/{asked['id']}/")
    # Its thread and its assignment.
    student.post(
        f"/api/v1/regrade-requests/{asked['id']}/messages/", {"message": "Part (b)."}, expect=201
    )
    ta.post(
        f"/api/v1/regrade-requests/{asked['id']}/messages/", {"message": "Checking."}, expect=201
    )
    instructor.post(
        f"/api/v1/regrade-requests/{asked['id']}/assign/",
        {"assigned_to": world["ta"].user.username},
    )
    thread = student.get(f"/api/v1/regrade-requests/{asked['id']}/")
    assert [m["staff"] for m in thread["messages"]] == [False, True]
    assert thread["assigned_to"] == world["ta"].user.username
    ta.get(f"{base}/regrade-requests/")
    ta.get(f"{base}/regrade-requests/?status=open")
    ta.post(
        f"/api/v1/regrade-requests/{asked['id']}/resolve/",
        {"response": "Fixed.", "questions": {"q2": {"adjustment": 1}}},
        expect=400,
    )
    ta.post(f"/api/v1/regrade-requests/{asked['id']}/resolve/", {"response": "Fixed.", "score": 5})
    through_rubric = student.post(
        f"/api/v1/submissions/{first['id']}/regrade-requests/",
        {"question": "q1", "message": "And the bias?"},
        expect=201,
    )
    resolved = ta.post(
        f"/api/v1/regrade-requests/{through_rubric['id']}/resolve/",
        {"response": "Added it.", "questions": {"q1": {"rubric_items": [bias["id"]]}}},
    )
    assert resolved["evaluation_after"]["q1"]["rubric_items"][0]["id"] == bias["id"]
    ta.get(f"/api/v1/regrade-requests/{asked['id']}/")
    student.post(
        f"/api/v1/regrade-requests/{asked['id']}/messages/", {"message": "Thanks"}, expect=409
    )
    ta.get(f"{base}/gradebook.csv")
    ta.get(f"{base}/gradebook.csv?section=CS4803")
    assert GradeChange.objects.filter(source="regrade").exists()

    # The gradebook as JSON; a result that needs review, accepted; unrelease and release.
    for query in ("", "?page=1&page_size=1", "?section=CS7643", "?search=zz"):
        ta.get(f"{base}/gradebook/{query}")
    _upload(grad, c, hw1)
    forged = _grade_next(
        json.dumps({"score": 999, "tests": [{"name": "q1 t", "score": 999, "max_score": 1}]})
    )
    reviews = ta.get(f"{hw}/review/")
    assert reviews and reviews[0]["reasons"]
    ta.post(f"/api/v1/jobs/{forged}/accept/")
    for who in (student, grad):
        who.get(f"{base}/assignments/")  # my_grade, once released
    instructor.post(f"{hw}/unrelease/")
    student.get(f"{base}/assignments/")
    instructor.post(f"{hw}/release/")

    # Extensions and groups.
    instructor.get(f"{base}/extensions/")
    instructor.post(
        f"{base}/extensions/",
        {
            "student": world["student"].user.username,
            "assignment": "hw1",
            "due_at": (hw1.due_at + timedelta(days=5)).isoformat(),
            "reference": "DOS-777",
        },
        expect=201,
    )
    group = student.post(f"{base}/groups/", {"name": "Descenders"}, expect=201)
    student.get(f"{base}/groups/")
    ta.get(f"{base}/groups/")
    grad.post(f"{base}/groups/join/", {"join_code": group["join_code"]}, expect=409)  # levels
    c.groups_mix_levels = True
    c.save()
    grad.post(f"{base}/groups/join/", {"join_code": group["join_code"]})
    grad.post(f"{base}/groups/leave/", expect=204)
    _upload(student, c, world["project"])
    student.get(f"{base}/assignments/project/submissions/")

    # Similarity checks: none yet, one started, one already under way, then done with a pair.
    ta.get(f"{hw}/similarity/", expect=404)
    started = ta.post(f"{hw}/similarity/", expect=202)
    assert instructor.post(f"{hw}/similarity/")["id"] == started["id"]
    assert grading_tasks.similarity_check(started["id"]) == "done"
    subs = list(Submission.objects.filter(assignment=hw1).order_by("id")[:2])
    SimilarityPair.objects.create(
        similarity_check_id=started["id"],
        submission_a=subs[0],
        submission_b=subs[1],
        student_a=subs[0].student,
        student_b=subs[1].student,
        similarity=0.5,
        similarity_a=0.4,
        similarity_b=0.6,
        declared_collaborators=True,
    )
    assert ta.get(f"{hw}/similarity/")["pairs"][0]["similarity"] == 0.5
    student.get(f"{hw}/similarity/", expect=404)

    # Signing in: a token (as a script gets it), the caller's tokens, logging out.
    script = APIClient()
    issued = checker.check(
        "POST",
        "/api/v1/auth/token/",
        script.post(
            "/api/v1/auth/token/",
            {"username": world["student"].user.username, "password": PASSWORD, "name": "cli"},
        ),
    )
    script.credentials(HTTP_AUTHORIZATION=f"Token {issued['token']}")
    assert checker.check("GET", "/api/v1/auth/tokens/", script.get("/api/v1/auth/tokens/"))
    checker.check(
        "DELETE",
        "/api/v1/auth/tokens/999999/",
        script.delete("/api/v1/auth/tokens/999999/"),
    )
    checker.check("POST", "/api/v1/auth/logout-all/", script.post("/api/v1/auth/logout-all/"))

    # Every JSON GET of the schema was checked.
    gets = {
        ("GET", p)
        for p, ops in checker.schema["paths"].items()
        if "get" in ops and p.startswith("/api/v1/")
    }
    assert gets - checker.checked == set()


def test_refusals_are_declared_and_match_the_error_envelope(
    checker: SchemaChecker, world: dict[str, Any]
) -> None:
    c, hw1 = world["course"], world["hw1"]
    student = Caller(checker, world["student"].user)
    ta = Caller(checker, world["ta"].user)
    base = f"/api/v1/courses/{c.slug}"
    student.get(f"{base}/grading/queue/", expect=404)
    student.get("/api/v1/courses/nope/assignments/", expect=404)
    ta.post(f"{base}/assignments/{hw1.slug}/release/", expect=403)
    Assignment.objects.filter(pk=hw1.pk).update(grades_released_at=None)
    first = _upload(student, c, hw1)
    student.post(
        f"/api/v1/submissions/{first['id']}/regrade-requests/",
        {"question": "q1", "message": "?"},
        expect=409,
    )
    student.get(f"/api/v1/submissions/{first['id']}/evaluation/", expect=409)
    ta.post(
        f"{base}/assignments/{hw1.slug}/rubric/",
        {"question": "q9", "description": "x", "points": 1},
        expect=400,
    )
    ta.post(
        f"{base}/assignments/{hw1.slug}/rubric/",
        {"question": "q1", "description": "x", "points": 6},
        expect=400,
    )
    ta.send(
        "PUT",
        f"/api/v1/submissions/{first['id']}/evaluation/",
        {"annotations": [{"file": "nope.py", "line": 1, "text": "x"}]},
        expect=400,
    )
    instructor = Caller(checker, world["instructor"].user)
    instructor.post(f"{base}/assignments/{hw1.slug}/graders/", {"grader": "nobody"}, expect=400)
    ta.post(f"{base}/assignments/{hw1.slug}/graders/", {"grader": "nobody"}, expect=403)
    ta.get(f"{base}/assignments/{hw1.slug}/grading-queue/?question=q9", expect=400)
    ta.post(f"{base}/assignments/{hw1.slug}/grading-queue/next/", {"question": "q9"}, expect=400)
    Assignment.objects.filter(pk=hw1.pk).update(grades_released_at=timezone.now())
    asked = student.post(
        f"/api/v1/submissions/{first['id']}/regrade-requests/",
        {"question": "q1", "message": "?"},
        expect=201,
    )
    student.post(f"/api/v1/regrade-requests/{asked['id']}/messages/", {"message": ""}, expect=400)
    student.post(
        f"/api/v1/regrade-requests/{asked['id']}/assign/", {"assigned_to": "x"}, expect=403
    )
    ta.post(f"/api/v1/regrade-requests/{asked['id']}/assign/", {"assigned_to": "x"}, expect=400)

    # Locked out of the token request; throttled hand-ins; an unknown token.
    anonymous = APIClient()
    for expect in (400, 400, 400, 400, 429):
        r = anonymous.post("/api/v1/auth/token/", {"username": "nobody", "password": "x"})
        assert r.status_code == expect
        checker.check("POST", "/api/v1/auth/token/", r)
    for _ in range(20 - Submission.objects.filter(student=world["student"].user).count()):
        _upload(student, c, hw1)
    r = student.api.post(
        f"{base}/assignments/{hw1.slug}/submissions/",
        {"files": [SimpleUploadedFile("main.py", b"print(1)\n")]},
        format="multipart",
    )
    assert r.status_code == 429
    checker.check("POST", f"{base}/assignments/{hw1.slug}/submissions/", r)
    unknown = APIClient()
    unknown.credentials(HTTP_AUTHORIZATION="Token nope")
    checker.check("POST", "/api/v1/auth/logout/", unknown.post("/api/v1/auth/logout/"))


def test_the_input_checks_and_query_refusals_are_declared(
    checker: SchemaChecker, world: dict[str, Any]
) -> None:
    """Found by schemathesis: a GET's bad query parameter answered an undeclared 400. Every
    operation can answer 400 (the input check reads the path, query and headers of every
    request), and one that reads a body answers 415 to a content type it does not parse."""
    c, hw1 = world["course"], world["hw1"]
    ta = Caller(checker, world["ta"].user)
    student = Caller(checker, world["student"].user)
    base = f"/api/v1/courses/{c.slug}"
    ta.get(f"{base}/changes/?offset=-525", expect=400)
    ta.get(f"{base}/changes/?limit=-1", expect=400)
    student.get("/api/v1/courses/?x=%00", expect=400)
    student.get(f"{base}/assignments/?x=%00", expect=400)
    student.send("POST", f"{base}/assignments/{hw1.slug}/submissions/", {"files": "x"}, expect=415)
    ta.send(
        "POST",
        f"{base}/assignments/{hw1.slug}/rubric/",
        "x",
        expect=415,
        format=None,
        content_type="text/plain",
    )
    for template, operations in checker.schema["paths"].items():
        for method, operation in operations.items():
            assert "400" in operation["responses"], f"{method} {template}"


def test_dates_outside_a_courses_years_are_refused(
    checker: SchemaChecker, world: dict[str, Any]
) -> None:
    """Found by schemathesis: PATCH due_at 0714-07-23 was stored and then every answer
    naming it carried "-04:56:02" (New York's local mean time), which is no RFC 3339
    date-time; 9999-12-31 would overflow the grace end."""
    c = world["course"]
    instructor = Caller(checker, world["instructor"].user)
    hw = f"/api/v1/courses/{c.slug}/assignments/{world['hw1'].slug}"
    for due_at in ("0714-07-23T10:03:56", "9999-12-31T23:59:00+00:00", "1969-12-31T23:59"):
        body = instructor.send("PATCH", f"{hw}/", {"due_at": due_at}, expect=400)
        assert body["error"]["code"] == "invalid"
        assert "due_at" in body["error"]["fields"]
    instructor.send("PATCH", f"{hw}/", {"release_at": "0001-01-01T00:00:00Z"}, expect=400)
    body = instructor.send(
        "POST",
        f"/api/v1/courses/{c.slug}/extensions/",
        {
            "student": world["student"].user.username,
            "assignment": "hw1",
            "due_at": "0714-07-23T10:03:56",
            "reference": "DOS-777",
        },
        expect=400,
    )
    assert "due_at" in body["error"]["fields"]


def test_a_moment_whose_local_offset_has_seconds_is_given_in_utc() -> None:
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from portal.serializers import iso

    new_york = ZoneInfo("America/New_York")
    assert iso(datetime(1850, 1, 1, 12, tzinfo=UTC), new_york) == "1850-01-01T12:00:00+00:00"
    assert iso(datetime(2021, 2, 13, 4, 59, tzinfo=UTC), new_york) == "2021-02-12T23:59:00-05:00"


def test_integers_beyond_the_database_are_refused(
    checker: SchemaChecker, world: dict[str, Any]
) -> None:
    """Found by schemathesis: PATCH rubric-items/{id}/ with position 3599646812693253208902991872
    overflowed PostgreSQL's integer column, a 500."""
    c, hw1 = world["course"], world["hw1"]
    ta = Caller(checker, world["ta"].user)
    hw = f"/api/v1/courses/{c.slug}/assignments/{hw1.slug}"
    item = ta.post(
        f"{hw}/rubric/", {"question": "q1", "description": "Bias", "points": -1}, expect=201
    )
    huge = 3599646812693253208902991872
    body = ta.send("PATCH", f"/api/v1/rubric-items/{item['id']}/", {"position": huge}, expect=400)
    assert "position" in body["error"]["fields"]
    ta.post(
        f"{hw}/rubric/",
        {"question": "q1", "description": "x", "points": 1, "position": 2**31},
        expect=400,
    )
    first = _upload(Caller(checker, world["student"].user), c, hw1)
    ta.send(
        "PUT",
        f"/api/v1/submissions/{first['id']}/evaluation/",
        {"questions": {"q1": {"rubric_items": [huge]}}},
        expect=400,
    )
