"""Similarity checks: generated submissions (a solution, a copy with renamed variables and
reordered functions, an independent solution, the starter code alone) compared by the
worker's task; the copy ranks first, the starter code alone scores low once the starter is
given; declared collaborators are marked; group work counts once; the API and the pages,
their refusals and their query counts."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
import redis
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.test import APIClient

from courses.anonymity import student_pseudonym
from courses.models import GroupMembership, ProjectGroup
from grading import similarity, tasks
from grading.models import SimilarityCheck, SimilarityPair
from grading.services import similarity_check_start
from submissions.services import submission_create
from tests.factories import AssignmentFactory, EnrollmentFactory
from tests.grading.conftest import media  # noqa: F401  (fixture)
from tests.grading.similarity_sources import INDEPENDENT, ORIGINAL, RENAMED, STARTER

pytestmark = pytest.mark.django_db


def _doc(key: int, text: str, name: str = "matrix.py") -> similarity.Document:
    return similarity.Document(key, [similarity.SourceFile(name, text, name)])


STARTER_FILES = [similarity.SourceFile("matrix.py", STARTER, "matrix.py")]


# --- the comparison (pure) ---------------------------------------------------------------------


def test_a_renamed_reordered_copy_ranks_first_and_high():
    docs = [_doc(1, ORIGINAL), _doc(2, RENAMED), _doc(3, INDEPENDENT), _doc(4, STARTER)]
    results = similarity.compare(docs, STARTER_FILES)
    assert (results[0].key_a, results[0].key_b) == (1, 2)
    assert results[0].similarity >= 0.9
    others = [r.similarity for r in results[1:]]
    assert all(s < 0.5 for s in others), others


def test_the_starter_code_alone_scores_low_once_the_starter_is_given():
    docs = [_doc(1, ORIGINAL), _doc(2, RENAMED), _doc(3, INDEPENDENT), _doc(4, STARTER)]

    def with_starter(results: list[similarity.PairResult]) -> list[float]:
        return [r.similarity for r in results if 4 in (r.key_a, r.key_b)]

    without = with_starter(similarity.compare(docs))
    assert without and max(without) > 0.5  # handed-out code looks like copying…
    given = with_starter(similarity.compare(docs, STARTER_FILES))
    assert all(s < 0.1 for s in given)  # …until it is left out


def test_regions_are_slices_of_the_text_and_marked_escaped():
    evil = ORIGINAL + '\n\ndef show():\n    return "<script>alert(1)</script>"\n'
    copy = RENAMED + '\n\ndef show():\n    return "<script>alert(1)</script>"\n'
    [pair] = similarity.compare([_doc(1, evil), _doc(2, copy)])
    region = pair.regions[0]
    assert region["file_a"] == region["file_b"] == "matrix.py"
    for start, end in region["a"]:
        assert 0 <= start < end <= len(evil)
    html = similarity.marked_html(evil, region["a"])
    assert "<mark>" in html and "<script>" not in html and "&lt;script&gt;" in html
    # The marked text reads back as the file (the marks aside).
    assert html.count("<mark>") == len(region["a"])
    # The whole transpose function of the original is inside a match.
    start = evil.index("def transpose")
    assert any(s <= start + 10 and e >= evil.index("return result") for s, e in region["a"])


def test_leading_blank_lines_and_crlf_keep_the_slices_true():
    text_a, _ = similarity.comparable_text(
        "a.py", ("\n\n\n" + ORIGINAL).replace("\n", "\r\n").encode()
    )
    [pair] = similarity.compare([_doc(1, text_a, "a.py"), _doc(2, RENAMED, "a.py")])
    assert "\r" not in text_a
    first = min(s for s, _ in pair.regions[0]["a"])
    # A match starts on a token, never inside the blank lines Pygments drops.
    assert first >= 3 and not text_a[first].isspace()


def test_which_files_are_compared():
    assert similarity.comparable_text("data.bin", b"\x00\x01\x02") is None
    assert similarity.comparable_text("latin.txt", "café".encode("latin-1")) is None
    big = b"x = 1\n" * (similarity.MAX_FILE_BYTES // 6 + 1)
    assert similarity.comparable_text("big.py", big) is None
    notebook = {
        "metadata": {"language_info": {"name": "python"}},
        "cells": [
            {"cell_type": "markdown", "source": ["# Title"]},
            {"cell_type": "code", "source": ["x = 1\n", "y = 2"], "outputs": [{"text": "z"}]},
        ],
    }
    text, lexed_as = similarity.comparable_text("hw.ipynb", json.dumps(notebook).encode())
    assert text == "x = 1\ny = 2" and lexed_as == "hw.ipynb.py"


# --- the worker's task over real submissions ---------------------------------------------------


def _submit(enrollment, assignment, text: str, collaborators=(), name: str = "matrix.py"):
    return submission_create(
        enrollment=enrollment,
        assignment=assignment,
        files=[
            (SimpleUploadedFile(name, text.encode()), name),
            (SimpleUploadedFile("plot.png", b"\x89PNG\r\n\x1a\n\x00\x00binary"), "plot.png"),
        ],
        collaborators=collaborators,
        received_at=timezone.now(),
    ).submission


@pytest.fixture
def starter_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "starter"
    folder.mkdir()
    (folder / "matrix.py").write_text(STARTER)
    (folder / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00")
    return folder


@pytest.fixture
def world(course, sections, assignment, media, starter_dir):  # noqa: F811
    """Four students: a solution, its disguised copy (who named the first as collaborator),
    an independent solution, the starter code alone; a TA, an instructor."""
    assignment.similarity_starter = str(starter_dir)
    assignment.save(update_fields=["similarity_starter"])
    people = {
        name: EnrollmentFactory(section=sections["CS4803"], role="student", user__username=name)
        for name in ("ada", "bob", "cy", "dee")
    }
    _submit(people["ada"], assignment, "print('first try')\n")  # superseded: not counted
    subs = {
        "ada": _submit(people["ada"], assignment, ORIGINAL),
        "bob": _submit(people["bob"], assignment, RENAMED, collaborators=["ada"]),
        "cy": _submit(people["cy"], assignment, INDEPENDENT),
        "dee": _submit(people["dee"], assignment, STARTER),
    }
    return {
        "assignment": assignment,
        "course": course,
        "people": people,
        "subs": subs,
        "ta": EnrollmentFactory(section=sections["CS4803"], role="ta"),
        "instructor": EnrollmentFactory(course=course, section=None, role="instructor"),
    }


def _run(world: dict[str, Any]) -> SimilarityCheck:
    check, created = similarity_check_start(
        by=world["instructor"], assignment=world["assignment"], now=timezone.now()
    )
    assert created
    assert tasks.similarity_check(check.pk) == "done"
    check.refresh_from_db()
    return check


def test_the_task_ranks_the_copy_first_and_marks_declared_collaborators(world):
    check = _run(world)
    assert check.status == "done" and check.started_at and check.finished_at
    assert check.submissions == 4  # ada's first try does not count
    assert [f["name"] for f in check.starter["files"]] == ["matrix.py"]  # the png left out
    pairs = list(
        SimilarityPair.objects.filter(similarity_check=check).select_related(
            "student_a", "student_b"
        )
    )
    top = pairs[0]
    assert {top.student_a.username, top.student_b.username} == {"ada", "bob"}
    assert top.similarity >= 0.9 and top.declared_collaborators
    assert top.submission_a_id == world["subs"]["ada"].pk
    assert [p.similarity for p in pairs] == sorted((p.similarity for p in pairs), reverse=True)
    assert not any(p.declared_collaborators for p in pairs[1:])
    for p in pairs:
        if "dee" in (p.student_a.username, p.student_b.username):
            assert p.similarity < 0.1
    assert all(r["file_a"] != "plot.png" for p in pairs for r in p.regions)


def test_a_duplicate_delivery_does_nothing(world):
    check = _run(world)
    count = SimilarityPair.objects.filter(similarity_check=check).count()
    assert tasks.similarity_check(check.pk) == "nothing"
    assert SimilarityPair.objects.filter(similarity_check=check).count() == count


def test_a_failure_is_recorded_and_a_new_check_may_start(world):
    check, _ = similarity_check_start(
        by=world["ta"], assignment=world["assignment"], now=timezone.now()
    )
    with mock.patch.object(similarity, "compare", side_effect=ValueError("bad tokens")):
        assert tasks.similarity_check(check.pk) == "failed"
    check.refresh_from_db()
    assert check.status == "failed" and check.error == "ValueError: bad tokens"
    assert check.finished_at and not check.pairs.exists()
    again, created = similarity_check_start(
        by=world["ta"], assignment=world["assignment"], now=timezone.now()
    )
    assert created and again.pk != check.pk


def test_group_work_counts_once_per_group(course, sections, homework, media):  # noqa: F811
    project = AssignmentFactory(
        course=course, category=homework, slug="proj", group=True, group_min=1, group_max=3
    )
    members = [EnrollmentFactory(section=sections["CS4803"], role="student") for _ in range(3)]
    group = ProjectGroup.objects.create(course=course, name="Descenders", join_code="abc123")
    solo = ProjectGroup.objects.create(course=course, name="Solo", join_code="def456")
    for m, g in zip(members, (group, group, solo), strict=True):
        GroupMembership.objects.create(course=course, group=g, user=m.user)
    _submit(members[0], project, ORIGINAL)
    _submit(members[1], project, ORIGINAL)  # the same group's newer one: it counts
    _submit(members[2], project, RENAMED, collaborators=[members[1].user.username])
    instructor = EnrollmentFactory(course=course, section=None, role="instructor")
    check, _ = similarity_check_start(by=instructor, assignment=project, now=timezone.now())
    tasks.similarity_check(check.pk)
    check.refresh_from_db()
    assert check.submissions == 2
    [pair] = check.pairs.all()
    # members[2] named members[1], who is in the group that handed in the other one.
    assert pair.declared_collaborators and pair.similarity >= 0.9


def test_one_check_at_a_time_and_a_lost_message_is_sent_again(world):
    now = timezone.now()
    first, created = similarity_check_start(by=world["ta"], assignment=world["assignment"], now=now)
    assert created
    with pytest.raises(IntegrityError), transaction.atomic():  # one active per assignment
        SimilarityCheck.objects.create(assignment=world["assignment"], created_at=now)
    with mock.patch("grading.services.similarity.publish") as publish:
        with django_on_commit():
            same, created = similarity_check_start(
                by=world["ta"], assignment=world["assignment"], now=now + timedelta(seconds=5)
            )
        assert not created and same.pk == first.pk and not publish.called
        with django_on_commit():
            similarity_check_start(
                by=world["ta"], assignment=world["assignment"], now=now + timedelta(minutes=5)
            )
        assert publish.call_count == 1  # queued for long: its wake-up goes out again


def test_a_check_whose_worker_died_is_failed_and_replaced(world):
    now = timezone.now()
    first, _ = similarity_check_start(by=world["ta"], assignment=world["assignment"], now=now)
    SimilarityCheck.objects.filter(pk=first.pk).update(status="running", started_at=now)
    later = now + timedelta(seconds=settings.GRADING_TASK_TIME_LIMIT + 1)
    _, created = similarity_check_start(by=world["ta"], assignment=world["assignment"], now=later)
    first.refresh_from_db()
    assert created and first.status == "failed" and "worker stopped" in first.error


class django_on_commit:
    """Runs the on_commit callbacks of the block (the test's transaction never commits)."""

    def __enter__(self) -> None:
        from django.test import TestCase

        self._ctx = TestCase.captureOnCommitCallbacks(execute=True)
        self._ctx.__enter__()

    def __exit__(self, *exc: Any) -> None:
        self._ctx.__exit__(*exc)


# --- the API -----------------------------------------------------------------------------------


def _api(enrollment) -> APIClient:
    client = APIClient()
    client.force_authenticate(enrollment.user)
    return client


def _url(world: dict[str, Any], slug: str | None = None) -> str:
    a = slug or world["assignment"].slug
    return f"/api/v1/courses/{world['course'].slug}/assignments/{a}/similarity/"


def test_post_queues_the_check_on_the_cpu_queue(world):
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    broker.delete("grading.cpu")
    with django_on_commit():
        response = _api(world["ta"]).post(_url(world))
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["status"] == "queued" and body["pairs"] == [] and body["checked_at"] is None
    assert body["requested_by"] == world["ta"].user.username
    [message] = broker.lrange("grading.cpu", 0, -1)
    envelope = json.loads(message)
    assert envelope["headers"]["task"] == "grading.similarity_check"
    assert json.loads(__import__("base64").b64decode(envelope["body"]))[0] == [body["id"]]
    broker.delete("grading.cpu")
    # While it waits, a second POST hands back the same check.
    again = _api(world["instructor"]).post(_url(world))
    assert again.status_code == 200 and again.json()["id"] == body["id"]


def test_get_reads_the_latest_check_most_similar_first(world):
    assert _api(world["ta"]).get(_url(world)).json()["error"]["code"] == "no_similarity_check"
    check = _run(world)
    body = _api(world["ta"]).get(_url(world)).json()
    assert body["id"] == check.pk and body["status"] == "done" and body["submissions"] == 4
    first = body["pairs"][0]
    assert sorted(first["students"]) == ["ada", "bob"]
    assert first["declared_collaborators"] is True and 0.9 <= first["similarity"] <= 1
    sims = [p["similarity"] for p in body["pairs"]]
    assert sims == sorted(sims, reverse=True)
    assert set(first) >= {"students", "similarity", "declared_collaborators"}


def test_refusals(world):
    student = _api(world["people"]["ada"])
    for method in ("get", "post"):
        response = getattr(student, method)(_url(world))
        assert response.status_code == 404, response.content
        assert getattr(_api(world["ta"]), method)(_url(world, "nope")).status_code == 404
    assert not SimilarityCheck.objects.exists()
    stranger = EnrollmentFactory(role="instructor")  # staff of another course
    assert _api(stranger).post(_url(world)).status_code == 404


def test_a_starter_folder_gone_is_refused(world, starter_dir):
    for path in starter_dir.iterdir():
        path.unlink()
    starter_dir.rmdir()
    response = _api(world["ta"]).post(_url(world))
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "starter_missing"
    assert not SimilarityCheck.objects.exists()


def test_a_ta_sees_pseudonyms_on_an_anonymous_assignment(world):
    _run(world)
    assignment = world["assignment"]
    assignment.anonymous_grading = True
    assignment.save(update_fields=["anonymous_grading"])
    ada, bob = world["people"]["ada"].user, world["people"]["bob"].user
    expected = {
        student_pseudonym(assignment_id=assignment.pk, student_id=ada.pk),
        student_pseudonym(assignment_id=assignment.pk, student_id=bob.pk),
    }
    first = _api(world["ta"]).get(_url(world)).json()["pairs"][0]
    assert set(first["students"]) == expected
    assert sorted(_api(world["instructor"]).get(_url(world)).json()["pairs"][0]["students"]) == [
        "ada",
        "bob",
    ]
    page = _page(world["ta"]).get(_page_url(world)).content.decode()
    # As a word: a pseudonym's hex digits may spell "ada" ("Anonymous 3ada91c2").
    assert not re.search(r"\bada\b", page) and next(iter(expected)) in page


def test_get_query_count_stays_flat(world, django_assert_max_num_queries):
    check = _run(world)
    client = _api(world["ta"])
    with django_assert_max_num_queries(12) as few:
        assert client.get(_url(world)).status_code == 200
    # 30 more pairs, each of other students and submissions.
    for _ in range(30):
        a = EnrollmentFactory(section=world["ta"].section, role="student")
        b = EnrollmentFactory(section=world["ta"].section, role="student")
        sa = _submit(a, world["assignment"], "x = 1\n")
        sb = _submit(b, world["assignment"], "y = 2\n")
        SimilarityPair.objects.create(
            similarity_check=check,
            submission_a=sa,
            submission_b=sb,
            student_a=a.user,
            student_b=b.user,
            similarity=0.05,
            similarity_a=0.05,
            similarity_b=0.05,
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        body = client.get(_url(world)).json()
    assert len(body["pairs"]) == check.pairs.count() > 30


# --- the pages ---------------------------------------------------------------------------------


def _page(enrollment):
    from django.test import Client

    client = Client()
    client.force_login(enrollment.user)
    return client


def _page_url(world: dict[str, Any], tail: str = "") -> str:
    return (
        f"/courses/{world['course'].slug}/assignments/{world['assignment'].slug}/similarity/{tail}"
    )


def test_the_pages_start_list_and_show_a_pair_side_by_side(world):
    ta = _page(world["ta"])
    page = ta.get(_page_url(world)).content.decode()
    assert "No similarity check" in page and "Start a similarity check" in page
    with mock.patch("grading.services.similarity.publish"):
        response = ta.post(_page_url(world, "start/"))
    assert response.status_code == 302
    check = SimilarityCheck.objects.get()
    assert check.status == "queued"
    assert "Start a similarity check" not in ta.get(_page_url(world)).content.decode()
    tasks.similarity_check(check.pk)
    page = ta.get(_page_url(world)).content.decode()
    assert 'id="similarity-pairs"' in page and "declared collaborators" in page
    assert page.index("ada and bob") < page.index("cy")
    top = check.pairs.first()
    side = ta.get(_page_url(world, f"{top.pk}/")).content.decode()
    assert side.count('<pre class="similarity-code"') == 2 and "<mark>" in side
    assert "def transpose" in side or "<mark>def transpose" in side


def test_the_assignment_page_links_staff_to_the_check(world):
    url = f"/courses/{world['course'].slug}/assignments/{world['assignment'].slug}/"
    assert _page_url(world) in _page(world["ta"]).get(url).content.decode()
    assert _page_url(world) not in _page(world["people"]["ada"]).get(url).content.decode()


def test_students_and_other_assignments_get_404_on_the_pages(world):
    check = _run(world)
    pair = check.pairs.first()
    student = _page(world["people"]["ada"])
    assert student.get(_page_url(world)).status_code == 404
    assert student.get(_page_url(world, f"{pair.pk}/")).status_code == 404
    assert student.post(_page_url(world, "start/")).status_code == 404
    other = AssignmentFactory(course=world["course"], category=world["assignment"].category)
    url = f"/courses/{world['course'].slug}/assignments/{other.slug}/similarity/{pair.pk}/"
    assert _page(world["ta"]).get(url).status_code == 404
