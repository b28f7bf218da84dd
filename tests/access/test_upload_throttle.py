"""Hand-ins are throttled per person (20 a minute by default): one student's burst of 50 is
slowed with 429 throttled and Retry-After; a class handing in together is not."""

from __future__ import annotations

import pytest
from django.core.cache import caches
from django.core.files.uploadedfile import SimpleUploadedFile

from submissions.models import Submission
from tests.factories import EnrollmentFactory

pytestmark = pytest.mark.django_db

RATE = 20


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


def api_url(a) -> str:
    return f"/api/v1/courses/{a.course.slug}/assignments/{a.slug}/submissions/"


def page_url(a) -> str:
    return f"/courses/{a.course.slug}/assignments/{a.slug}/"


def files(n: int = 0) -> dict:
    return {"files": [SimpleUploadedFile("solution.py", f"print({n})\n".encode())]}


def test_fifty_uploads_in_a_minute_from_one_student_are_slowed(api_client, student, assignment):
    api_client.force_authenticate(student.user)
    answers = [
        api_client.post(api_url(assignment), files(i), format="multipart") for i in range(50)
    ]
    assert [r.status_code for r in answers] == [201] * RATE + [429] * (50 - RATE)
    refused = answers[RATE]
    body = refused.json()["error"]
    assert body["code"] == "throttled"
    assert "more than 20 times in the last minute" in body["message"]
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert Submission.objects.filter(student=student.user).count() == RATE


def test_reading_the_list_is_not_throttled(api_client, student, assignment):
    api_client.force_authenticate(student.user)
    for i in range(RATE + 1):
        api_client.post(api_url(assignment), files(i), format="multipart")
    assert api_client.get(api_url(assignment)).status_code == 200


def test_a_class_handing_in_together_is_not_slowed(api_client, sections, assignment):
    """More students than the per-person rate each hand in once: the limit is per person,
    never one count for everyone (the 1,000-student rush, in small)."""
    students = [
        EnrollmentFactory(section=sections["CS4803"], role="student") for _ in range(RATE + 10)
    ]
    for i, enrollment in enumerate(students):
        api_client.force_authenticate(enrollment.user)
        r = api_client.post(api_url(assignment), files(i), format="multipart")
        assert r.status_code == 201, (i, r.content)
    assert Submission.objects.count() == RATE + 10
    cache = caches["throttle"]
    counted = [len(cache.get(f"throttle_uploads_{e.user.pk}", [])) for e in students]
    assert counted == [1] * len(students)


def test_one_students_burst_does_not_slow_another(api_client, student, grad_student, assignment):
    api_client.force_authenticate(student.user)
    for i in range(RATE + 1):
        api_client.post(api_url(assignment), files(i), format="multipart")
    api_client.force_authenticate(grad_student.user)
    assert api_client.post(api_url(assignment), files(), format="multipart").status_code == 201


def test_the_page_is_throttled_too_and_counts_with_the_api(client, api_client, student, assignment):
    api_client.force_authenticate(student.user)
    for i in range(RATE - 1):
        assert api_client.post(api_url(assignment), files(i), format="multipart").status_code == 201
    client.force_login(student.user)
    assert client.post(page_url(assignment), files()).status_code == 302  # the receipt
    r = client.post(page_url(assignment), files())
    assert r.status_code == 429
    assert 1 <= int(r["Retry-After"]) <= 60
    page = r.content.decode()
    assert "more than 20 times in the last minute" in page and "wait" in page
    assert Submission.objects.count() == RATE


def test_the_pages_upload_script_gets_the_envelope(client, student, assignment):
    client.force_login(student.user)
    xhr = {"HTTP_X_REQUESTED_WITH": "XMLHttpRequest"}
    for i in range(RATE):
        assert client.post(page_url(assignment), files(i), **xhr).status_code == 201
    r = client.post(page_url(assignment), files(), **xhr)
    assert r.status_code == 429 and int(r["Retry-After"]) >= 1
    assert r.json()["error"]["code"] == "throttled"


def test_the_rate_is_configurable(api_client, student, assignment, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"uploads": "2/hour"},
    }
    api_client.force_authenticate(student.user)
    codes = [
        api_client.post(api_url(assignment), files(i), format="multipart").status_code
        for i in range(3)
    ]
    assert codes == [201, 201, 429]
    r = api_client.post(api_url(assignment), files(), format="multipart")
    assert "more than 2 times in the last hour" in r.json()["error"]["message"]
    assert int(r["Retry-After"]) > 60
