"""A NUL byte or bytes that are not UTF-8, anywhere in a request, are ``400 invalid`` (the
envelope under /api/, a page elsewhere), never a 500 (portal/input_check.py).

The sweep walks the URL resolver, so a new endpoint is covered without being listed: every
path is filled with real objects of a small course and called by a student, an instructor
and the site administrator with bad query strings, headers, paths, and POST / PUT / PATCH /
DELETE bodies (urlencoded, JSON, multipart)."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from datetime import timedelta
from functools import partial
from typing import Any

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from access.services import api_token_issue
from courses.models import Course
from grading.models import (
    GradingJob,
    RegradeRequest,
    RubricItem,
    SimilarityCheck,
    SimilarityPair,
)
from submissions.models import Submission, SubmissionFile
from submissions.services import submission_create
from tests.factories import (
    EnrollmentFactory,
    ExtensionFactory,
    GroupMembershipFactory,
    ProjectGroupFactory,
    QuestionFactory,
    UserFactory,
)
from tests.grading.conftest import make_bundle, media  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db

# What a request may carry: the names the views read from a query string or a form.
QUERY_NAMES = [
    "student",
    "assignment",
    "course",
    "section",
    "search",
    "status",
    "question",
    "page",
    "page_size",
    "mine",
    "timing",
    "ungraded",
    "expand",
    "inline",
    "name",
    "due_at",
    "grace_days",
    "next",
    "q",
]
FORM_NAMES = [
    "collaborators",
    "student",
    "assignment",
    "reference",
    "name",
    "join_code",
    "message",
    "response",
    "question",
    "description",
    "comment",
    "grader",
    "username",
    "password",
    "title",
    "subject",
]


# --- the requests ------------------------------------------------------------------------------


def _form(value: str) -> dict[str, str]:
    return dict.fromkeys(FORM_NAMES, value)


def _multipart(fields: dict[str, bytes], file_name: bytes) -> tuple[bytes, str]:
    """A multipart body built by hand, so that its bytes are exactly these."""
    boundary = uuid.uuid4().hex
    out = b""
    for name, value in fields.items():
        out += (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
            + value
            + b"\r\n"
        )
    for name in ("files", "file"):
        out += (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="'.encode()
            + file_name
            + b'"\r\nContent-Type: text/plain\r\n\r\nprint(1)\n\r\n'
        )
    out += f"--{boundary}--\r\n".encode()
    return out, f"multipart/form-data; boundary={boundary}"


def _urlencoded(value: bytes) -> bytes:
    return b"&".join(name.encode() + b"=" + value for name in FORM_NAMES)


# (label, body, content type): each one must be refused before a view runs.
REFUSED_BODIES = [
    ("form with %00", _urlencoded(b"a%00b"), "application/x-www-form-urlencoded"),
    ("form with %ff", _urlencoded(b"a%ffb"), "application/x-www-form-urlencoded"),
    ("form with a raw 0xff", _urlencoded(b"a\xffb"), "application/x-www-form-urlencoded"),
    ("form name with %00", b"stu%00dent=x", "application/x-www-form-urlencoded"),
    ("JSON with \\u0000", json.dumps(_form("a\x00b")).encode(), "application/json"),
    ("JSON key with \\u0000", b'{"stu\\u0000dent": "x"}', "application/json"),
    ("JSON nested \\u0000", b'{"questions": {"q1": {"comment": "\\u0000"}}}', "application/json"),
    ("JSON list \\u0000", b'{"collaborators": ["ok", "a\\u0000"]}', "application/json"),
    ("JSON with a lone surrogate", b'{"student": "\\ud800"}', "application/json"),
    ("JSON with raw 0xff", b'{"student": "a\xffb"}', "application/json"),
    ("JSON with a raw NUL", b'{"student": "a\x00b"}', "application/json"),
]
# Parsed by the view (when it reads its body at all): refused then, never a 500.
MULTIPART_BODIES = [
    ("multipart with a NUL", *_multipart(dict.fromkeys(FORM_NAMES, b"a\x00b"), b"ok.py")),
    ("multipart with 0xff", *_multipart(dict.fromkeys(FORM_NAMES, b"a\xffb"), b"ok.py")),
    ("multipart file name with a NUL", *_multipart({}, b"a\x00.py")),
    ("multipart file name with 0xff", *_multipart({}, b"a\xff.py")),
]
BAD_QUERIES = [
    "&".join(f"{name}={value}" for name in QUERY_NAMES) for value in ("a%00b", "a%FFb", "%ED%A0%80")
] + ["stu%00dent=x", "x=%C3"]
BAD_HEADERS = [
    {"HTTP_IDEMPOTENCY_KEY": "key\x00"},
    {"HTTP_AUTHORIZATION": "Token \x00abc"},
    {"HTTP_COOKIE": "sessionid=abc\x00def"},
    # A WSGI server hands a header's bytes over as ISO-8859-1: these are 0xff 0xfe, not UTF-8.
    {"HTTP_X_REQUESTED_WITH": "\xff\xfe"},
    {"HTTP_REFERER": "https://example.edu/\xff"},
]


# --- the course and its addresses --------------------------------------------------------------


@pytest.fixture
def world(course, sections, assignment, make_bundle):  # noqa: F811
    """A course with one of everything an address can name."""
    now = timezone.now()
    student = EnrollmentFactory(section=sections["CS4803"], role="student")
    other = EnrollmentFactory(section=sections["CS4803"], role="student")
    ta = EnrollmentFactory(section=sections["CS4803"], role="ta")
    instructor = EnrollmentFactory(course=course, section=None, role="instructor")
    admin = UserFactory(username="siteadmin", is_staff=True, is_superuser=True)
    QuestionFactory(assignment=assignment, slug="q1", points=10)
    bundle = make_bundle(assignment)
    subs = [
        submission_create(
            enrollment=who,
            assignment=assignment,
            files=[(SimpleUploadedFile("main.py", b"print(1)\n"), "main.py")],
            received_at=now,
        ).submission
        for who in (student, other)
    ]
    sub = subs[0]
    check = SimilarityCheck.objects.create(
        assignment=assignment, status="done", requested_by=ta.user, created_at=now
    )
    pair = SimilarityPair.objects.create(
        similarity_check=check,
        submission_a=subs[0],
        submission_b=subs[1],
        student_a=student.user,
        student_b=other.user,
        similarity=0.5,
        similarity_a=0.5,
        similarity_b=0.5,
    )
    ExtensionFactory(assignment=assignment, student=student.user, due_at=now + timedelta(days=9))
    group = ProjectGroupFactory(course=course)
    GroupMembershipFactory(group=group, user=other.user)
    return {
        "users": {"student": student.user, "instructor": instructor.user, "admin": admin},
        "fill": {
            "course_slug": course.slug,
            "assignment_slug": assignment.slug,
            "submission_id": sub.pk,
            "file_id": SubmissionFile.objects.get(submission=sub).pk,
            "job_id": GradingJob.objects.get(submission=sub).pk,
            "bundle_id": bundle.pk,
            "item_id": RubricItem.objects.create(
                assignment=assignment, question="q1", description="Bias", points=-1
            ).pk,
            "request_id": RegradeRequest.objects.create(
                submission=sub, student=student.user, question="q1", message="Please"
            ).pk,
            "pair_id": pair.pk,
            "token_id": api_token_issue(user=instructor.user, now=timezone.now()).token.pk,
            # A set-password link's parts (a real user's id; Django's placeholder token).
            "uidb64": urlsafe_base64_encode(force_bytes(student.user.pk)),
            "token": "set-password",
            "username": ta.user.username,
            "rest": "nothing/here",
            # The admin's.
            "app_label": "courses",
            "object_id": str(course.pk),
            "content_type_id": ContentType.objects.get_for_model(Course).pk,
            "id": student.user.pk,
            "url": "nothing/here/",
        },
    }


def _routes() -> Iterator[tuple[str, str | None]]:
    """Every pattern of the URL resolver, as its route text, with its view's name."""

    def walk(patterns: list[Any], prefix: str) -> Iterator[tuple[str, str | None]]:
        for p in patterns:
            if isinstance(p, URLResolver):
                yield from walk(p.url_patterns, prefix + str(p.pattern))
            else:
                assert isinstance(p, URLPattern)
                yield prefix + str(p.pattern), p.name

    yield from walk(get_resolver().url_patterns, "")


PARAM = re.compile(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>[^)]*\)")


def _addresses(fill: dict[str, Any]) -> list[tuple[str, str | None, str | None]]:
    """(address, view name, the address with a NUL for its last parameter or None)."""
    out = []
    for route, name in _routes():
        names = [a or b for a, b in PARAM.findall(route)]
        unknown = set(names) - set(fill)
        assert not unknown, f"{route}: give the sweep a value for {unknown}"

        def fill_in(m: re.Match[str], bad: str | None = None, last: str = "") -> str:
            key = m.group(1) or m.group(2)
            return bad if bad is not None and key == last else str(fill[key])

        text = route.replace("^", "").replace("$", "")
        address = "/" + PARAM.sub(fill_in, text)
        poisoned = None
        if names:
            poisoned = "/" + PARAM.sub(partial(fill_in, bad="a\x00b", last=names[-1]), text)
        out.append((address, name, poisoned))
    return out


def _refused(response: Any, address: str, what: str) -> None:
    assert response.status_code == 400, f"{what} {address}: {response.status_code}"
    if address.startswith("/api/"):
        assert response.json()["error"]["code"] == "invalid", (what, address, response.content)
    else:
        assert b"Request refused" in response.content, (what, address)


def _in_turn(items: list[Any], start: int, count: int) -> list[Any]:
    return [items[(start + j) % len(items)] for j in range(count)]


def _sweep_refused(client: Client, who: str, i: int, address: str, poisoned: str | None) -> None:
    """What the middleware refuses before any view runs: exactly 400 invalid."""
    for query in BAD_QUERIES:
        _refused(client.get(f"{address}?{query}"), address, f"{who} GET ?{query}")
    for headers in BAD_HEADERS:
        _refused(client.get(address, **headers), address, f"{who} GET {headers}")
    if poisoned:
        _refused(client.get(poisoned), poisoned, f"{who} GET")
        _refused(client.post(poisoned, {}), poisoned, f"{who} POST")
    for k, method in enumerate(("post", "put", "patch", "delete")):
        bodies = REFUSED_BODIES if k == 0 else _in_turn(REFUSED_BODIES, 3 * i + k, 3)
        for label, body, content_type in bodies:
            response = getattr(client, method)(address, body, content_type=content_type)
            _refused(response, address, f"{who} {method.upper()} {label}")


def _sweep_multipart(client: Client, who: str, i: int, address: str) -> tuple[list[str], int]:
    """Multipart bodies, parsed when the view reads them: refused then, never a 500. The
    failures, and how many were refused."""
    failures, refused = [], 0
    for k, method in enumerate(("post", "put", "patch")):
        bodies = MULTIPART_BODIES if k == 0 else _in_turn(MULTIPART_BODIES, i + k, 1)
        for label, body, content_type in bodies:
            response = getattr(client, method)(address, body, content_type=content_type)
            if response.status_code >= 500:
                failures.append(f"{who} {method.upper()} {address} {label}")
            elif response.status_code == 400 and address.startswith("/api/"):
                code = response.json()["error"]["code"]
                assert code in ("invalid", "parse_error"), (address, label, code)
                refused += code == "invalid"
            elif response.status_code == 400:
                refused += b"Request refused" in response.content
    return failures, refused


def test_every_endpoint_refuses_what_is_not_text(world: dict[str, Any]) -> None:
    """Each address, as the student and the instructor (and the admin's as the site
    administrator): every bad query, header and POST body, and PUT / PATCH / DELETE with a
    few of the bodies each, taken in turn (so every body goes with every method many times
    over the sweep)."""
    addresses = _addresses(world["fill"])
    assert len(addresses) > 100  # the whole resolver, the admin's included
    failures: list[str] = []
    refused_in_views = 0
    for who, user in world["users"].items():
        client = Client(raise_request_exception=False)
        client.force_login(user)
        for i, (address, name, poisoned) in enumerate(addresses):
            if who == "admin" and not address.startswith("/admin/"):
                continue
            _sweep_refused(client, who, i, address, poisoned)
            failed, refused = _sweep_multipart(client, who, i, address)
            failures += failed
            refused_in_views += refused
            if name == "logout":
                client.force_login(user)
    assert not failures, "\n".join(failures)
    assert refused_in_views > 100  # the views that read a form did refuse it


# --- what used to be a 500, one by one ---------------------------------------------------------


@pytest.fixture
def student_client(student, media):  # noqa: F811
    client = Client(raise_request_exception=False)
    client.force_login(student.user)
    return client


def _submissions(assignment: Any) -> str:
    return f"/api/v1/courses/{assignment.course.slug}/assignments/{assignment.slug}/submissions/"


def test_a_nul_in_a_collaborator_is_refused_and_nothing_is_stored(student_client, assignment):
    response = student_client.post(
        _submissions(assignment),
        {"files": [SimpleUploadedFile("a.py", b"x")], "collaborators": ["a\x00b"]},
    )
    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "invalid",
        "message": "The form field 'collaborators' contains a NUL byte, which no text may contain.",
    }
    assert not Submission.objects.exists()


def test_a_nul_in_an_uploaded_file_name_is_refused_not_stripped(student_client, assignment):
    response = student_client.post(
        _submissions(assignment), {"files": [SimpleUploadedFile("a\x00.py", b"x")]}
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid" and "'a\\x00.py'" in error["message"]
    assert not Submission.objects.exists()


def test_the_assignment_page_refuses_a_nul_collaborator_with_a_page(student_client, assignment):
    response = student_client.post(
        f"/courses/{assignment.course.slug}/assignments/{assignment.slug}/",
        {"files": [SimpleUploadedFile("a.py", b"x")], "collaborators": "a\x00b"},
    )
    assert response.status_code == 400
    assert b"Request refused" in response.content
    assert b"The form field &#x27;collaborators&#x27; contains a NUL byte" in response.content
    assert not Submission.objects.exists()


@pytest.mark.parametrize(
    "query",
    ["student=a%00b", "student=a%ffb"],
)
def test_the_staff_student_filter(query, ta, assignment):
    client = Client(raise_request_exception=False)
    client.force_login(ta.user)
    response = client.get(f"{_submissions(assignment)}?{query}")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert "'student'" in response.json()["error"]["message"]


def test_the_regrade_list_assignment_filter(ta, assignment):
    client = Client(raise_request_exception=False)
    client.force_login(ta.user)
    response = client.get(
        f"/api/v1/courses/{assignment.course.slug}/regrade-requests/?assignment=%00"
    )
    assert response.status_code == 400
    assert response.json()["error"]["message"] == (
        "The query parameter 'assignment' contains a NUL byte, which no text may contain."
    )


def test_a_token_with_a_nul_is_refused_before_the_database_is_asked(db):
    response = Client(raise_request_exception=False).get(
        "/api/v1/courses/", HTTP_AUTHORIZATION="Token \x00"
    )
    assert response.status_code == 400
    assert "'Authorization'" in response.json()["error"]["message"]


def test_a_json_body_that_is_not_utf8_is_invalid_not_a_parse_error(db):
    response = Client().post(
        "/api/v1/auth/token/", b'{"username": "a\xff", "password": "x"}', "application/json"
    )
    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "invalid",
        "message": "The request body is not valid UTF-8 text.",
    }


def test_a_form_read_by_the_csrf_check_is_refused_with_a_page(instructor, course):
    """Django's CSRF check reads a page's form before the view runs; what it finds there is
    refused by handler400, with the same page."""
    client = Client(enforce_csrf_checks=True, raise_request_exception=False)
    client.force_login(instructor.user)
    url = f"/courses/{course.slug}/extensions/"
    assert client.get(url).status_code == 200
    body, content_type = _multipart(
        {"csrfmiddlewaretoken": client.cookies["csrftoken"].value.encode(), "reference": b"\x00"},
        b"ok.py",
    )
    response = client.post(url, body, content_type=content_type)
    assert response.status_code == 400
    assert b"Request refused" in response.content
    assert b"The form field &#x27;reference&#x27; contains a NUL byte" in response.content


def test_an_api_form_read_by_the_csrf_check_is_refused_in_the_envelope(student, assignment):
    """With a session, DRF's CSRF check reads the form before the view: the same refusal."""
    client = Client(enforce_csrf_checks=True, raise_request_exception=False)
    client.force_login(student.user)
    body, content_type = _multipart({"collaborators": b"a\x00b"}, b"ok.py")
    response = client.post(_submissions(assignment), body, content_type=content_type)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert "'collaborators'" in response.json()["error"]["message"]


def test_the_login_page_refuses_a_nul_with_a_page(db):
    response = Client().post("/accounts/login/", {"username": "a\x00", "password": "x"})
    assert response.status_code == 400
    assert b"Request refused" in response.content
    assert b"Back to my courses" in response.content


# --- text that is text still goes through ------------------------------------------------------


def test_unicode_text_goes_through_everywhere(student_client, student, assignment):
    """Accents, other scripts and emoji in a query, a form, JSON, a file name and a header."""
    url = _submissions(assignment)
    assert student_client.get(f"{url}?student=J%C3%B6rg%20%F0%9F%99%82").status_code == 200
    response = student_client.post(
        url,
        {"files": [SimpleUploadedFile("Übung 1 日本 😀.py", b"\x00binary is fine\xff")]},
        # UTF-8 bytes, as a WSGI server hands them over (ISO-8859-1).
        HTTP_IDEMPOTENCY_KEY="clé-1".encode().decode("iso-8859-1"),
    )
    assert response.status_code == 201, response.content
    assert response.json()["files"][0]["name"] == "Übung 1 日本 😀.py"
    response = student_client.post(
        f"/api/v1/courses/{assignment.course.slug}/groups/",
        {"name": "Ἀθηνᾶ 😀"},
        content_type="application/json",
    )
    assert response.status_code != 400 or response.json()["error"]["code"] != "invalid"


def test_a_json_body_that_is_not_json_is_still_a_parse_error(student_client, assignment):
    response = student_client.post(
        f"/api/v1/courses/{assignment.course.slug}/groups/", b"{nope", "application/json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parse_error"


def test_a_json_body_over_the_form_limit_is_refused_clearly(student_client, assignment, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    body = json.dumps({"name": "x" * 2000}).encode()
    response = student_client.post(
        f"/api/v1/courses/{assignment.course.slug}/groups/", body, "application/json"
    )
    assert response.status_code == 400
    assert "larger than" in response.json()["error"]["message"]


def test_every_api_view_parses_multipart_through_the_check() -> None:
    """A view that names its own parsers takes the multipart one from portal.parsers."""
    from rest_framework.parsers import MultiPartParser as DrfMultiPartParser

    from portal.parsers import MultiPartParser

    for view in _api_views():
        for parser in view.parser_classes:
            if issubclass(parser, DrfMultiPartParser):
                assert issubclass(parser, MultiPartParser), view


def _api_views() -> list[Any]:
    from rest_framework.views import APIView

    views = []

    def walk(patterns: list[Any]) -> None:
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns)
            else:
                cls = getattr(p.callback, "cls", None)
                if isinstance(cls, type) and issubclass(cls, APIView):
                    views.append(cls)

    walk(get_resolver().url_patterns)
    assert len(views) > 40
    return views
