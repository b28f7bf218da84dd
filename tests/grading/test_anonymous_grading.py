"""Anonymous grading: on an assignment with ``anonymous_grading``, a TA sees every student by a
stable pseudonym on every page, API and CSV (the leak test fetches them all and looks for the
student's username and names in the bodies), the gradebook withholds the assignment's numbers
from TAs, the instructor sees names and reveals them (then the TA sees them too), filtering by
username probes nothing, emails to TAs carry no name; query counts stay flat."""

from __future__ import annotations

import io
import zipfile
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core import mail
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from courses.anonymity import (
    STUDENT_PREFIX,
    group_pseudonym,
    names_hidden,
    pseudonym_student_id,
    student_pseudonym,
)
from grading import notifications, services
from grading.models import (
    Grade,
    GradeChange,
    GradingJob,
    GradingResult,
    RegradeMessage,
    RegradeRequest,
)
from submissions.models import Submission, SubmissionFile
from tests.factories import AssignmentFactory, EnrollmentFactory, QuestionFactory, UserFactory

pytestmark = pytest.mark.django_db

# Distinctive enough that no page says them by chance.
SECRETS = ("zqleak", "Zorblat", "Quixley", "zqcollab", "Quenton", "Vexby")
POINTS = "7.37"


def _submit(enrollment: Any, assignment: Any, number: int = 1) -> Submission:
    now = timezone.now()
    return Submission.objects.create(
        course=assignment.course,
        assignment=assignment,
        student=enrollment.user,
        number=number,
        submitted_at=now,
        timing="on_time",
        due_at=assignment.due_at,
        grace_ends_at=assignment.due_at,
    )


@pytest.fixture
def world(course: Any, sections: Any, homework: Any, ta: Any, instructor: Any, make_bundle: Any):
    """An anonymous assignment, released, with a distinctive student who submitted (naming a
    distinctive collaborator), has a grade (and a grade change they caused), a result to
    review, a queued autograder job and a regrade request with a thread."""
    hw = AssignmentFactory(
        course=course,
        category=homework,
        slug="hw1",
        title="HW1",
        anonymous_grading=True,
        grades_released_at=timezone.now() - timedelta(hours=1),
    )
    # q1 graded, q2 not: "Next ungraded" still hands the submission out.
    QuestionFactory(assignment=hw, slug="q1", points=10, position=0)
    QuestionFactory(assignment=hw, slug="q2", points=10, position=1)
    leak = EnrollmentFactory(
        user=UserFactory(username="zqleak", first_name="Zorblat", last_name="Quixley"),
        section=sections["CS4803"],
        role="student",
    )
    collab = EnrollmentFactory(
        user=UserFactory(username="zqcollab", first_name="Quenton", last_name="Vexby"),
        section=sections["CS4803"],
        role="student",
    )
    submission = _submit(leak, hw)
    submission.collaborators.add(collab.user)
    services.grade_set(
        by=instructor,
        assignment=hw,
        student=leak.user,
        question="q1",
        points=Decimal(POINTS),
        source=GradeChange.Source.STAFF,
    )
    grade = Grade.objects.get(assignment=hw, student=leak.user, question="q1")
    # The student chose a submission: the history names them as who changed it.
    GradeChange.objects.create(
        grade=grade,
        old_points=Decimal(POINTS),
        new_points=Decimal(POINTS),
        source=GradeChange.Source.CHOICE,
        changed_by=leak.user,
        detail="submission #1 counts",
    )
    path = default_storage.save(f"submissions/{submission.pk}/answer.py", ContentFile(b"x = 1\n"))
    SubmissionFile.objects.create(
        submission=submission, name="answer.py", size=6, sha256="0" * 64, file=path
    )
    bundle = make_bundle(hw)
    done = GradingJob.objects.create(
        submission=submission,
        bundle=bundle,
        queue="cpu",
        state="done",
        queued_at=timezone.now() - timedelta(minutes=5),
    )
    GradingResult.objects.create(
        job=done, score=30, max_score=20, data={"tests": []}, review=["the total is above 20"]
    )
    GradingJob.objects.create(
        submission=submission, bundle=bundle, queue="cpu", queued_at=timezone.now()
    )
    regrade = RegradeRequest.objects.create(
        submission=submission, student=leak.user, question="q1", message="Please look again."
    )
    RegradeMessage.objects.create(
        request=regrade, author=leak.user, body="One more thing.", created_at=timezone.now()
    )
    RegradeMessage.objects.create(
        request=regrade, author=ta.user, body="Looking at it.", created_at=timezone.now()
    )
    return {
        "hw": hw,
        "leak": leak,
        "collab": collab,
        "submission": submission,
        "regrade": regrade,
        "ta": ta,
        "instructor": instructor,
    }


def _client(who: Any) -> Client:
    client = Client()
    client.force_login(who.user)
    return client


def _surfaces(world: dict[str, Any], who: Any) -> dict[str, bytes]:
    """Every page and API that shows a TA a student of the assignment, as ``who`` gets it."""
    c = _client(who)
    hw, sub, regrade = world["hw"], world["submission"], world["regrade"]
    course = hw.course.slug
    api = "/api/v1"
    a = f"courses/{course}/assignments/{hw.slug}"
    gets = {
        "overview page": f"/{a}/grade/",
        "grading page": f"/{a}/grade/{sub.pk}/",
        "receipt page": f"/submissions/{sub.pk}/",
        "assignment page": f"/{a}/",
        "staff list page": f"/{a}/submissions/",
        "regrade queue page": f"/courses/{course}/regrades/?status=all",
        "job queue page": f"/courses/{course}/grading/",
        "submissions api": f"{api}/{a}/submissions/",
        "submission api": f"{api}/submissions/{sub.pk}/",
        "evaluation api": f"{api}/submissions/{sub.pk}/evaluation/",
        "grading queue api": f"{api}/{a}/grading-queue/",
        "grades api": f"{api}/{a}/grades/",
        "review api": f"{api}/{a}/review/",
        "regrade list api": f"{api}/courses/{course}/regrade-requests/",
        "regrade detail api": f"{api}/regrade-requests/{regrade.pk}/",
    }
    bodies = {}
    for name, url in gets.items():
        r = c.get(url)
        assert r.status_code == 200, (name, r.status_code, r.content[:300])
        bodies[name] = b"".join(r.streaming_content) if r.streaming else r.content
    r = c.post(f"{api}/{a}/grading-queue/next/", {}, content_type="application/json")
    assert r.status_code == 200, r.content
    bodies["grading next api"] = r.content
    r = c.get(f"/{a}/submissions.zip")
    assert r.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(b"".join(r.streaming_content)))
    bodies["zip folders"] = "\n".join(archive.namelist()).encode()
    return bodies


def _leaks(bodies: dict[str, bytes]) -> dict[str, list[str]]:
    found = {}
    for name, body in bodies.items():
        text = body.decode(errors="replace").lower()
        hits = [s for s in SECRETS if s.lower() in text]
        if hits:
            found[name] = hits
    return found


# --- the leak test -------------------------------------------------------------------------------


def test_a_ta_sees_no_name_of_an_anonymous_assignments_student_anywhere(world: Any) -> None:
    bodies = _surfaces(world, world["ta"])
    assert _leaks(bodies) == {}
    pseudonym = student_pseudonym(assignment_id=world["hw"].pk, student_id=world["leak"].user_id)
    # ... and the pseudonym stands in for the name, the same one everywhere.
    for name in ("overview page", "grading page", "receipt page", "submissions api"):
        assert pseudonym.encode() in bodies[name], name
    assert b"Anonymous grading: student names are hidden" in bodies["overview page"]
    assert b"Anonymous grading: student names are hidden" in bodies["grading page"]


def test_the_same_surfaces_show_the_names_without_anonymous_grading(world: Any) -> None:
    """The leak test can fail: with the flag off, every surface it reads names the student
    (the zip by username; the grading queue by username only)."""
    hw = world["hw"]
    hw.anonymous_grading = False
    hw.save()
    leaks = _leaks(_surfaces(world, world["ta"]))
    assert set(leaks) == set(_surfaces(world, world["ta"])) - {"evaluation api"}
    assert all("zqleak" in hits for hits in leaks.values())


def test_the_instructor_sees_the_names(world: Any) -> None:
    leaks = _leaks(_surfaces(world, world["instructor"]))
    for name in ("overview page", "grading page", "receipt page", "submissions api", "grades api"):
        assert "zqleak" in leaks.get(name, []), name


def test_after_the_reveal_the_ta_sees_the_names_and_hiding_again_hides_them(
    world: Any, api_client: Any
) -> None:
    hw, course = world["hw"], world["hw"].course.slug
    url = f"/api/v1/courses/{course}/assignments/{hw.slug}/reveal-names/"
    api_client.force_authenticate(world["instructor"].user)
    r = api_client.post(url, {"revealed": True}, format="json")
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["names_revealed"] is True
    assert body["names_revealed_by"] == world["instructor"].user.username
    first = body["names_revealed_at"]
    assert api_client.post(url, {"revealed": True}, format="json").json()["names_revealed_at"] == (
        first
    )
    leaks = _leaks(_surfaces(world, world["ta"]))
    assert "zqleak" in leaks["overview page"] and "zqleak" in leaks["grades api"]
    r = api_client.post(url, {"revealed": False}, format="json")
    assert r.json()["names_revealed"] is False
    assert _leaks(_surfaces(world, world["ta"])) == {}


def test_only_the_instructor_reveals(world: Any, api_client: Any, student: Any) -> None:
    hw = world["hw"]
    url = f"/api/v1/courses/{hw.course.slug}/assignments/{hw.slug}/reveal-names/"
    api_client.force_authenticate(world["ta"].user)
    r = api_client.post(url, {"revealed": True}, format="json")
    assert r.status_code == 403 and r.json()["error"]["code"] == "permission_denied"
    api_client.force_authenticate(student.user)
    assert api_client.post(url, {"revealed": True}, format="json").status_code == 404
    api_client.force_authenticate(world["instructor"].user)
    assert api_client.post(url, {"revealed": "maybe"}, format="json").status_code == 400
    hw.refresh_from_db()
    assert hw.names_revealed_at is None


def test_revealing_an_assignment_graded_with_names_is_refused(
    api_client: Any, instructor: Any, assignment: Any
) -> None:
    url = f"/api/v1/courses/{assignment.course.slug}/assignments/{assignment.slug}/reveal-names/"
    api_client.force_authenticate(instructor.user)
    r = api_client.post(url, {"revealed": True}, format="json")
    assert r.status_code == 400 and r.json()["error"]["code"] == "not_anonymous"


def test_the_reveal_button_on_the_overview_page(world: Any) -> None:
    hw = world["hw"]
    page = f"/courses/{hw.course.slug}/assignments/{hw.slug}/grade/"
    c = _client(world["instructor"])
    body = c.get(page).content.decode()
    assert "Reveal names to TAs" in body and "data-confirm" in body
    assert "Reveal names to TAs" not in _client(world["ta"]).get(page).content.decode()
    r = c.post(page + "reveal-names/", {"revealed": "1"})
    assert r.status_code == 302
    assert "Hide names from TAs" in c.get(page).content.decode()
    assert "zqleak" in _client(world["ta"]).get(page).content.decode()
    assert _client(world["ta"]).post(page + "reveal-names/", {"revealed": "0"}).status_code == 403
    c.post(page + "reveal-names/", {"revealed": "0"})
    assert "zqleak" not in _client(world["ta"]).get(page).content.decode()


# --- the gradebook -------------------------------------------------------------------------------


def test_the_gradebook_withholds_the_anonymous_assignments_numbers_from_tas(world: Any) -> None:
    hw, course = world["hw"], world["hw"].course.slug
    ta, instructor = _client(world["ta"]), _client(world["instructor"])
    book = ta.get(f"/api/v1/courses/{course}/gradebook/").json()
    assert book["hidden_assignments"] == ["hw1"] and book["final_percent_hidden"] is True
    row = next(r for r in book["results"] if r["username"] == "zqleak")
    assert row["assignments"]["hw1"]["points"] is None
    assert row["assignments"]["hw1"]["hidden"] is True
    assert row["final_percent"] is None and row["readiness_flag"] is None
    mine = instructor.get(f"/api/v1/courses/{course}/gradebook/").json()
    assert mine["hidden_assignments"] == [] and mine["final_percent_hidden"] is False
    row = next(r for r in mine["results"] if r["username"] == "zqleak")
    assert row["assignments"]["hw1"] == {
        "points": float(POINTS),
        "max_points": 20.0,
        "excused": False,
        "missing": False,
        "needs_review": False,
        "hidden": False,
    }
    csv_ta = ta.get(f"/api/v1/courses/{course}/gradebook.csv").content.decode()
    assert "HW1" not in csv_ta.splitlines()[0] and POINTS not in csv_ta
    csv_instructor = instructor.get(f"/api/v1/courses/{course}/gradebook.csv").content.decode()
    assert "HW1" in csv_instructor.splitlines()[0] and POINTS in csv_instructor
    page = ta.get(f"/courses/{course}/gradebook/").content.decode()
    assert "hidden: anonymous grading" in page and POINTS not in page
    assert POINTS in instructor.get(f"/courses/{course}/gradebook/").content.decode()
    hw.names_revealed_at = timezone.now()
    hw.save()
    assert POINTS in ta.get(f"/api/v1/courses/{course}/gradebook.csv").content.decode()


def test_an_unreleased_anonymous_assignment_leaves_the_final_percent_shown(
    world: Any,
) -> None:
    hw = world["hw"]
    hw.grades_released_at = None
    hw.save()
    book = _client(world["ta"]).get(f"/api/v1/courses/{hw.course.slug}/gradebook/").json()
    assert book["hidden_assignments"] == ["hw1"] and book["final_percent_hidden"] is False


# --- filters cannot probe, and pseudonyms work as names --------------------------------------------


def test_filtering_by_username_finds_nothing_for_a_ta_but_the_pseudonym_works(
    world: Any,
) -> None:
    hw, course = world["hw"], world["hw"].course.slug
    a = f"/api/v1/courses/{course}/assignments/{hw.slug}"
    pseudonym = student_pseudonym(assignment_id=hw.pk, student_id=world["leak"].user_id)
    ta = _client(world["ta"])
    assert ta.get(f"{a}/submissions/", {"student": "zqleak"}).json() == []
    assert ta.get(f"{a}/grades/", {"student": "zqleak"}).json() == []
    found = ta.get(f"{a}/submissions/", {"student": pseudonym}).json()
    assert [s["id"] for s in found] == [world["submission"].pk]
    assert [g["student"] for g in ta.get(f"{a}/grades/", {"student": pseudonym}).json()] == [
        pseudonym
    ]
    page = ta.get(f"/courses/{course}/assignments/{hw.slug}/submissions/", {"student": "zqleak"})
    assert b"No submissions match" in page.content
    instructor = _client(world["instructor"])
    assert len(instructor.get(f"{a}/submissions/", {"student": "zqleak"}).json()) == 1


def test_a_ta_sets_a_grade_by_pseudonym_not_by_username(world: Any) -> None:
    hw = world["hw"]
    url = f"/api/v1/courses/{hw.course.slug}/assignments/{hw.slug}/grades/"
    ta = _client(world["ta"])
    r = ta.post(
        url, {"student": "zqleak", "question": "q2", "points": "5"}, content_type="application/json"
    )
    assert r.status_code == 400 and r.json()["error"]["code"] == "unknown_student"
    assert "zqleak" in r.json()["error"]["message"]  # only what the TA typed
    pseudonym = student_pseudonym(assignment_id=hw.pk, student_id=world["leak"].user_id)
    r = ta.post(
        url,
        {"student": pseudonym, "question": "q2", "points": "5"},
        content_type="application/json",
    )
    assert r.status_code == 200, r.content
    assert r.json()["student"] == pseudonym and r.json()["points"] == 5.0
    assert not [s for s in SECRETS if s.lower() in r.content.decode().lower()]


def test_pseudonyms_are_stable_per_assignment_and_tell_nothing(world: Any) -> None:
    hw, leak = world["hw"], world["leak"]
    one = student_pseudonym(assignment_id=hw.pk, student_id=leak.user_id)
    assert one == student_pseudonym(assignment_id=hw.pk, student_id=leak.user_id)
    assert one.startswith(STUDENT_PREFIX) and len(one) == len(STUDENT_PREFIX) + 8
    assert one != student_pseudonym(assignment_id=hw.pk + 1, student_id=leak.user_id)
    assert one != student_pseudonym(assignment_id=hw.pk, student_id=world["collab"].user_id)
    assert str(leak.user_id) not in one.removeprefix(STUDENT_PREFIX) or len(str(leak.user_id)) > 8
    assert pseudonym_student_id(assignment=hw, pseudonym=one) == leak.user_id
    assert pseudonym_student_id(assignment=hw, pseudonym="zqleak") is None
    assert group_pseudonym(assignment_id=hw.pk, group_id=1).startswith("Group ")


def test_the_rule(world: Any, student: Any) -> None:
    hw = world["hw"]
    assert names_hidden(enrollment=world["ta"], assignment=hw)
    assert not names_hidden(enrollment=world["instructor"], assignment=hw)
    assert not names_hidden(enrollment=student, assignment=hw)
    hw.names_revealed_at = timezone.now()
    assert not names_hidden(enrollment=world["ta"], assignment=hw)


def test_the_student_still_sees_their_own_name_on_their_receipt(world: Any) -> None:
    body = _client(world["leak"]).get(f"/submissions/{world['submission'].pk}/").content
    assert b"zqcollab" in body  # their collaborator, by username as they typed it
    assert b"Anonymous grading" not in body


# --- emails --------------------------------------------------------------------------------------


def test_the_regrade_email_names_nobody_to_a_ta_and_the_student_to_the_instructor(
    world: Any, settings: Any
) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    regrade = world["regrade"]
    mail.outbox.clear()
    assert notifications.send_regrade_opened(request_id=regrade.pk) == 1  # the course's TA
    (email,) = mail.outbox
    assert email.to == [world["ta"].user.email]
    text = (email.subject + email.body).lower()
    assert not [s for s in SECRETS if s.lower() in text]
    assert STUDENT_PREFIX.lower() in text
    regrade.assigned_to = world["instructor"].user
    regrade.save()
    mail.outbox.clear()
    notifications.send_regrade_opened(request_id=regrade.pk)
    assert "Zorblat" in mail.outbox[0].subject


# --- query counts --------------------------------------------------------------------------------


def _more_students(world: Any, sections: Any, n: int) -> None:
    for _ in range(n):
        e = EnrollmentFactory(section=sections["CS4803"], role="student")
        s = _submit(e, world["hw"])
        RegradeRequest.objects.create(submission=s, student=e.user, message="Look again.")


@pytest.mark.parametrize(
    "path",
    [
        "/{a}/grade/",
        "/api/v1/{a}/grading-queue/",
        "/api/v1/{a}/submissions/",
        "/api/v1/{a}/grades/",
        "/api/v1/courses/{c}/regrade-requests/",
        "/courses/{c}/regrades/",
        "/{a}/submissions/",
    ],
)
def test_anonymous_lists_stay_flat_in_queries(
    world: Any, sections: Any, path: str, django_assert_max_num_queries: Any
) -> None:
    hw = world["hw"]
    url = path.format(a=f"courses/{hw.course.slug}/assignments/{hw.slug}", c=hw.course.slug)
    ta = _client(world["ta"])
    _more_students(world, sections, 2)
    ta.get(url)  # warm the session
    with CaptureQueriesContext(connection) as few:
        assert ta.get(url).status_code == 200
    _more_students(world, sections, 10)
    with django_assert_max_num_queries(len(few)):
        assert ta.get(url).status_code == 200
