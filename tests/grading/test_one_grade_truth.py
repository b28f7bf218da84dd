"""One grade truth (issue 8): every surface that shows a student's grade shows the same
number. A dozen scenarios, driven through the API and the worker's services as people and
workers do, check every surface after each step (``truth_builders.assert_agree``); a
Hypothesis state machine does the same over random sequences of those operations, against a
model of what the grade must be."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from courses.models import Assignment
from grading import services
from tests.grading.truth_builders import (
    Klass,
    Q,
    accept,
    api,
    ask_regrade,
    assignment_url,
    check,
    choose,
    code_of,
    deliver,
    extend,
    grade,
    hand_in,
    make_assignment,
    make_group,
    make_klass,
    pass_deadline,
    release,
    resolve,
    results_json,
    two_graded,
    unrelease,
)

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture
def klass(media: Any, monkeypatch: Any) -> Klass:
    """A course with its people; nothing goes to Redis, files go to a temporary folder."""
    monkeypatch.setattr(services, "publish", lambda job: None)
    return make_klass()


# --- the scenarios ---------------------------------------------------------------------------


def on_time_then_late_resubmission(k: Klass) -> None:
    hw = make_assignment(k, "hw", after_grace="accept_late", grace_days=0)
    check(k, hw)
    first = hand_in(k.alice, hw)
    assert first["timing"] == "on_time"
    (s,) = check(k, hw, k.alice)
    assert (s.counting, s.points) == (first["id"], None)
    deliver(first["id"], {"score": 80})
    (s,) = check(k, hw, k.alice)
    assert s.points == D(80)
    pass_deadline(hw)
    late = hand_in(k.alice, hw)
    assert late["timing"] == "late"
    (s,) = check(k, hw, k.alice)
    assert (s.counting, s.points) == (late["id"], None)  # it waits for the late one's result
    deliver(late["id"], {"score": 60})
    (s,) = check(k, hw, k.alice)
    assert s.points == D(60)
    release(k.instructor, hw)
    alice, bob, _ = check(k, hw)
    assert alice.list_row["my_grade"] == {"points": 60.0, "max_points": 100.0, "excused": False}
    assert bob.gradebook["missing"] and bob.points == 0


def staff_choose_an_older_submission(k: Klass) -> None:
    hw = make_assignment(k, "hw")
    first = hand_in(k.alice, hw)["id"]
    deliver(first, {"score": 90})
    second = hand_in(k.alice, hw)["id"]
    (s,) = check(k, hw, k.alice)
    assert (s.counting, s.points) == (second, None)
    deliver(second, {"score": 50})
    (s,) = check(k, hw, k.alice)
    assert (s.counting, s.points) == (second, D(50))
    assert choose(k.ta, first).status_code == 200
    (s,) = check(k, hw, k.alice)
    assert (s.counting, s.points) == (first, D(90))
    release(k.instructor, hw)
    (s,) = check(k, hw, k.alice)
    assert s.list_row["my_grade"]["points"] == 90.0
    assert choose(k.ta, second).status_code == 200  # staff still may, after the release
    (s,) = check(k, hw, k.alice)
    assert (s.counting, s.points) == (second, D(50))


def student_choose_before_release(k: Klass) -> None:
    hw = make_assignment(k, "hw")
    first, second = two_graded(k.alice, hw, 30, 70)
    r = choose(k.alice, first)
    assert r.status_code == 200 and r.json()["counts"] is True
    (s,) = check(k, hw, k.alice)
    assert (s.counting, s.points) == (first, D(30))
    assert choose(k.alice, second).status_code == 200
    (s,) = check(k, hw, k.alice)
    assert (s.counting, s.points) == (second, D(70))
    release(k.instructor, hw)
    check(k, hw)


def student_choice_refused_after_release(k: Klass) -> None:
    hw = make_assignment(k, "hw")
    first, second = two_graded(k.alice, hw, 30, 70)
    release(k.instructor, hw)
    (before,) = check(k, hw, k.alice)
    r = choose(k.alice, first)
    assert r.status_code == 409 and code_of(r) == "grades_released"
    (after,) = check(k, hw, k.alice)
    assert (after.counting, after.points) == (before.counting, before.points) == (second, D(70))
    assert after.list_row["my_grade"] == before.list_row["my_grade"]


QUESTIONS = (
    Q("q1", "10", ("q1 *",)),
    Q("q2", "5", ("q2*",)),
    Q("q3", "5"),  # graded by staff
    Q("ec", "3", ("ec*",), undergraduate="extra_credit"),
)


def question_grades_with_autograded_parts(k: Klass) -> None:
    hw = make_assignment(k, "hw", questions=QUESTIONS)
    sub = hand_in(k.alice, hw)["id"]
    deliver(sub, results_json(q1_small=(4, 5), q1_big=(3, 5), q2=(5, 5), ec=(2, 3)))
    (s,) = check(k, hw, k.alice)
    assert s.points == D(14) and s.gradebook["max_points"] == 20.0  # 7 + 5 + ungraded + 2
    steps = [
        ({"question": "q1", "adjustment": "-2"}, D(12)),  # 7 - 2
        ({"question": "q3", "points": "4"}, D(16)),  # staff grade a question without tests
        ({"question": "q2", "adjustment": "3"}, D(16)),  # 5 + 3 stays within 5
        ({"question": "q3", "points": "5"}, D(17)),
        ({"question": "q1", "adjustment": "3"}, D(22)),  # 10 + 5 + 5 + 2: extra credit on top
    ]
    for body, points in steps:
        assert grade(k.ta, k.alice, hw, **body).status_code == 200
        (s,) = check(k, hw, k.alice)
        assert s.points == points, body
    for refused in ({"question": "q3", "points": "6"}, {"question": "q1", "points": "10.01"}):
        r = grade(k.ta, k.alice, hw, **refused)
        assert r.status_code == 400 and code_of(r) == "points_out_of_range"
        (s,) = check(k, hw, k.alice)
        assert s.points == D(22)
    graduate = hand_in(k.bob, hw)["id"]  # extra credit is required of graduates
    deliver(graduate, results_json(q1_a=(5, 5), q1_b=(5, 5), q2=(4, 5), ec=(3, 3)))
    (s,) = check(k, hw, k.bob)
    assert (s.points, s.csv_points_possible) == (D(17), "23.00")
    release(k.instructor, hw)
    alice, bob, _ = check(k, hw)
    assert [q["points"] for q in alice.my_grades["questions"]] == [10.0, 5.0, 5.0, 2.0]
    assert bob.list_row["my_grade"] == {"points": 17.0, "max_points": 23.0, "excused": False}


def regrade_resolved_with_and_without_a_score(k: Klass) -> None:
    hw = make_assignment(k, "hw", questions=(Q("q1", "10", ("q1*",)), Q("q2", "10")))
    sub = hand_in(k.alice, hw)["id"]
    deliver(sub, results_json(q1=(6, 10)))
    assert grade(k.ta, k.alice, hw, question="q2", points="5").status_code == 200
    release(k.instructor, hw)
    first = ask_regrade(k.alice, sub, "q1")
    (s,) = check(k, hw, k.alice)
    assert s.regrades == {first: ("q1", 6.0)} and s.points == D(11)
    assert resolve(k.ta, first).status_code == 200  # no score: the grade stays
    (s,) = check(k, hw, k.alice)
    assert s.regrades[first] == ("q1", 6.0) and s.points == D(11)
    second = ask_regrade(k.alice, sub, "q1")
    assert resolve(k.ta, second, "9").status_code == 200
    (s,) = check(k, hw, k.alice)
    assert s.regrades[second] == ("q1", 9.0) and s.points == D(14)
    third = ask_regrade(k.alice, sub, "q2")
    r = resolve(k.ta, third, "11")
    assert r.status_code == 400 and code_of(r) == "points_out_of_range"
    (s,) = check(k, hw, k.alice)
    assert s.regrades[third] == ("q2", 5.0) and s.points == D(14)
    assert api(k.ta).get(f"/api/v1/regrade-requests/{third}/").json()["status"] == "open"
    assert resolve(k.ta, third, "10").status_code == 200
    whole = ask_regrade(k.alice, sub)
    (s,) = check(k, hw, k.alice)
    assert s.regrades[whole] == ("", 19.0) and s.points == D(19)
    deliver(sub, results_json(q1=(2, 10)))  # a re-run: the regrade's override stays
    (s,) = check(k, hw, k.alice)
    assert s.points == D(19)


def group_submission(k: Klass) -> None:
    proj = make_assignment(k, "proj", category="project", group=True, group_max=3)
    make_group(k, k.alice, k.carol)
    first = hand_in(k.alice, proj)["id"]
    deliver(first, {"score": 70})
    alice, bob, carol = check(k, proj)
    assert (alice.counting, alice.points) == (carol.counting, carol.points) == (first, D(70))
    assert bob.counts == {} and bob.points is None
    assert grade(k.ta, k.carol, proj, points="75").status_code == 200  # one member's grade
    alice, carol = check(k, proj, k.alice, k.carol)
    assert (alice.points, carol.points) == (D(70), D(75))
    second = hand_in(k.carol, proj)["id"]
    deliver(second, {"score": 85})
    alice, carol = check(k, proj, k.alice, k.carol)
    assert (alice.counting, carol.counting) == (second, second)
    assert (alice.points, carol.points) == (D(85), D(75))
    assert choose(k.alice, first).status_code == 200  # a member chooses for the group
    alice, carol = check(k, proj, k.alice, k.carol)
    assert (alice.counting, carol.counting) == (first, first)
    assert (alice.points, carol.points) == (D(70), D(75))
    release(k.instructor, proj)
    alice, _, carol = check(k, proj)
    assert alice.list_row["my_grade"]["points"] == 70.0
    assert carol.list_row["my_grade"]["points"] == 75.0


def extension(k: Klass) -> None:
    hw = make_assignment(k, "hw", grace_days=0)
    pass_deadline(hw)
    upload = {"files": []}
    r = api(k.alice).post(assignment_url(hw, "submissions/"), upload, format="multipart")
    assert r.status_code == 403 and code_of(r) == "deadline_passed"
    r = extend(k.instructor, k.alice, hw, timezone.now() + timedelta(days=2))
    assert r.status_code == 201 and r.json()["reference"] == "DOS-1234"
    check(k, hw)
    sub = hand_in(k.alice, hw)
    assert (sub["timing"], sub["extended"]) == ("on_time", True)
    deliver(sub["id"], {"score": 88})
    (s,) = check(k, hw, k.alice)
    assert s.points == D(88)
    release(k.instructor, hw)
    alice, bob, carol = check(k, hw)
    assert alice.list_row["my_grade"]["points"] == 88.0
    assert bob.gradebook["missing"]
    assert carol.list_row["my_grade"] == {"points": 0.0, "max_points": 100.0, "excused": False}
    assert (carol.csv_cell, carol.gradebook["missing"]) == ("", True)


def excused(k: Klass) -> None:
    hw = make_assignment(k, "hw")
    sub = hand_in(k.alice, hw)["id"]
    deliver(sub, {"score": 40})
    check(k, hw, k.alice)
    assert grade(k.ta, k.alice, hw, excused=True).status_code == 200
    (s,) = check(k, hw, k.alice)
    assert (s.excused, s.points, s.csv_cell) == (True, None, "EX")
    deliver(sub, {"score": 45})  # a re-run changes nothing while excused
    (s,) = check(k, hw, k.alice)
    assert (s.excused, s.points) == (True, None)
    release(k.instructor, hw)
    (s,) = check(k, hw, k.alice)
    assert s.list_row["my_grade"] == {"points": None, "max_points": 100.0, "excused": True}
    assert grade(k.ta, k.alice, hw, excused=False).status_code == 200
    (s,) = check(k, hw, k.alice)
    assert (s.excused, s.points) == (False, D(45))


def forged_result(k: Klass) -> None:
    hw = make_assignment(k, "hw", questions=(Q("q1", "10", ("q1*",)), Q("q2", "10", ("q2*",))))
    first = hand_in(k.alice, hw)["id"]
    deliver(first, results_json(q1=(8, 10), q2=(9, 10)))
    second = hand_in(k.alice, hw)["id"]
    job = deliver(second, results_json(q1=(999, 1), q2=(1, 1)))
    (s,) = check(k, hw, k.alice)
    assert (s.counting, s.points, s.needs_review) == (second, None, True)
    review = api(k.ta).get(assignment_url(hw, "review/")).json()
    assert [r["job"] for r in review] == [job.pk]
    release(k.instructor, hw)
    (s,) = check(k, hw, k.alice)
    assert (s.points, s.needs_review, s.gradebook["missing"]) == (D(0), True, True)
    assert accept(k.ta, job.pk)["accepted_by"] == k.ta.user.username
    (s,) = check(k, hw, k.alice)
    assert (s.points, s.needs_review) == (D(11), False)  # 999 within 10, and 1


def forged_result_without_questions(k: Klass) -> None:
    hw = make_assignment(k, "hw")
    sub = hand_in(k.alice, hw)["id"]
    job = deliver(sub, {"score": 999, "tests": [{"name": "t", "score": 999, "max_score": 1}]})
    (s,) = check(k, hw, k.alice)
    assert (s.points, s.needs_review) == (None, True)
    accept(k.ta, job.pk)
    (s,) = check(k, hw, k.alice)
    assert (s.points, s.needs_review) == (D(100), False)
    release(k.instructor, hw)
    check(k, hw)


def unrelease_and_release_again(k: Klass) -> None:
    hw = make_assignment(k, "hw")
    first, second = two_graded(k.alice, hw, 30, 70)
    release(k.instructor, hw)
    three_days_ago = timezone.now() - timedelta(days=3)  # the grades went out three days ago
    Assignment.objects.filter(pk=hw.pk).update(grades_released_at=three_days_ago)
    (s,) = check(k, hw, k.alice)
    closes = datetime.fromisoformat(s.window_closes_at or "")
    assert s.list_row["my_grade"]["points"] == 70.0
    unrelease(k.instructor, hw)
    (s,) = check(k, hw, k.alice)
    assert (s.list_row["my_grade"], s.points) == (None, D(70))
    r = api(k.alice).post(
        f"/api/v1/submissions/{second}/regrade-requests/", {"message": "again"}, format="json"
    )
    assert r.status_code == 409 and code_of(r) == "grades_not_released"
    assert choose(k.alice, first).status_code == 200  # the choice is open again
    (s,) = check(k, hw, k.alice)
    assert (s.counting, s.points) == (first, D(30))
    again = release(k.instructor, hw)
    (s,) = check(k, hw, k.alice)
    reopened = datetime.fromisoformat(s.window_closes_at or "")
    assert again["regrade_window_closes_at"] == s.window_closes_at
    assert reopened - closes > timedelta(days=2, hours=23)  # the window restarted
    assert s.list_row["my_grade"]["points"] == 30.0
    ask_regrade(k.alice, first)
    check(k, hw, k.alice)


def override_until_removed(k: Klass) -> None:
    hw = make_assignment(k, "hw")
    sub = hand_in(k.alice, hw)["id"]
    deliver(sub, {"score": 70})
    assert grade(k.ta, k.alice, hw, points="50").status_code == 200
    (s,) = check(k, hw, k.alice)
    assert s.points == D(50)
    deliver(sub, {"score": 80})  # a re-run: the override stays
    (s,) = check(k, hw, k.alice)
    assert s.points == D(50)
    r = grade(k.ta, k.alice, hw, points="100.5")
    assert r.status_code == 400 and code_of(r) == "points_out_of_range"
    assert grade(k.ta, k.alice, hw, points=None).status_code == 200
    (s,) = check(k, hw, k.alice)
    assert s.points == D(80)
    release(k.instructor, hw)
    (s,) = check(k, hw, k.alice)
    assert s.list_row["my_grade"]["points"] == 80.0


SCENARIOS = [
    on_time_then_late_resubmission,
    staff_choose_an_older_submission,
    student_choose_before_release,
    student_choice_refused_after_release,
    question_grades_with_autograded_parts,
    regrade_resolved_with_and_without_a_score,
    group_submission,
    extension,
    excused,
    forged_result,
    forged_result_without_questions,
    unrelease_and_release_again,
    override_until_removed,
]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda f: f.__name__)
def test_every_surface_agrees_after_each_step(klass: Klass, scenario: Any) -> None:
    scenario(klass)
