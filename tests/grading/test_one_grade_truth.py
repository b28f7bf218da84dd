"""One grade truth (issue 8): every surface that shows a student's grade shows the same
number. A dozen scenarios, driven through the API and the worker's services as people and
workers do, check every surface after each step (``truth_builders.assert_agree``); a
Hypothesis state machine does the same over random sequences of those operations, against a
model of what the grade must be."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

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


# --- random sequences ------------------------------------------------------------------------

SHAPES = {
    "implicit": (),  # one implicit question worth 100, fed by the whole score
    "questions": (
        Q("q1", "10", ("q1 *",)),
        Q("q2", "5"),  # graded by staff
        Q("ec", "2", ("ec*",), undergraduate="extra_credit"),
    ),
}
FORGED = {
    "implicit": {"score": 999, "tests": [{"name": "t", "score": 999, "max_score": 1}]},
    "questions": results_json(q1_a=(999, 1), ec=(1, 1)),
}
halves = st.integers(0, 10).map(lambda n: D(n) / 2)


@dataclass
class Outcome:
    """A result the model knows: its job, the autograded part it gives each question, and
    whether it waits for a review."""

    job: int
    parts: dict[str, Decimal | None]
    flagged: bool
    accepted: bool = False


def clamp(value: Decimal, most: Decimal) -> Decimal:
    return min(max(value, D(0)), most)


class Model:
    """What alice's grade must be, from what happened (the contract, written out again)."""

    def __init__(self, shape: str) -> None:
        self.shape = shape
        questions = SHAPES[shape]
        self.maxima = {q.slug: D(q.points) for q in questions} or {"": D(100)}
        self.top = D(17) if questions else D(100)  # 15 required + 2 extra credit, or 100
        self.subs: list[int] = []
        self.chosen: int | None = None
        self.results: dict[int, Outcome] = {}
        self.override: dict[str, Decimal | None] = {}
        self.adjustment: dict[str, Decimal] = {}
        self.excused = False
        self.released = False

    @property
    def counting(self) -> int | None:
        return self.chosen or (self.subs[-1] if self.subs else None)

    @property
    def result(self) -> Outcome | None:
        return self.results.get(self.counting) if self.counting else None

    @property
    def needs_review(self) -> bool:
        return self.result is not None and self.result.flagged and not self.result.accepted

    def question(self, slug: str) -> Decimal | None:
        result, most = self.result, self.maxima[slug]
        part = None if result is None or self.needs_review else result.parts[slug]
        adjustment = self.adjustment.get(slug, D(0))
        if self.override.get(slug) is not None:
            return clamp(self.override[slug] or D(0), most)
        if part is None and not adjustment:
            return None
        return clamp((part or D(0)) + adjustment, most)

    @property
    def points(self) -> Decimal | None:
        if self.excused:
            return None
        graded = [p for p in map(self.question, self.maxima) if p is not None]
        if not graded:
            return D(0) if self.released else None
        return clamp(sum(graded, D(0)), self.top)


class GradeTruth(RuleBasedStateMachine):
    """Alice's grade on one assignment under random operations; after each, every surface
    agrees (``assert_agree``) and says what the model says. Each example runs in a
    transaction that is rolled back: a fresh course every time."""

    def __init__(self) -> None:
        super().__init__()
        self.atomic = transaction.atomic()
        self.atomic.__enter__()
        self.k = make_klass()

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self.atomic.__exit__(None, None, None)

    @initialize(
        shape=st.sampled_from(sorted(SHAPES)),
        score=st.integers(0, 200),
        q1=st.tuples(halves, halves),
        ec=halves,
    )
    def assignment(self, shape: str, score: int, q1: tuple[Decimal, Decimal], ec: Decimal) -> None:
        """The assignment, and alice's first submission with its result."""
        self.hw = make_assignment(self.k, "hw", questions=SHAPES[shape])
        self.model = Model(shape)
        self.submit()
        self.honest_result(False, score, q1, ec)

    def pick(self, index: int) -> int:
        return self.model.subs[index % len(self.model.subs)]

    def target(self, older: bool) -> int:
        """The counting submission, or (``older``) the latest of the others, if any."""
        others = [s for s in self.model.subs if s != self.model.counting]
        sub = others[-1] if older and others else self.model.counting
        assert sub is not None
        return sub

    @precondition(lambda self: len(self.model.subs) < 4)
    @rule()
    def submit(self) -> None:
        self.model.subs.append(hand_in(self.k.alice, self.hw)["id"])

    def _deliver(self, sub: int, raw: dict[str, Any], parts: dict[str, Any], flagged: bool) -> None:
        job = deliver(sub, raw)
        self.model.results[sub] = Outcome(job=job.pk, parts=parts, flagged=flagged)

    @precondition(lambda self: self.model.subs)
    @rule(older=st.booleans(), score=st.integers(0, 200), q1=st.tuples(halves, halves), ec=halves)
    def honest_result(
        self, older: bool, score: int, q1: tuple[Decimal, Decimal], ec: Decimal
    ) -> None:
        """A result for the counting submission, or for an older one (which changes nothing)."""
        sub = self.target(older)
        if self.model.shape == "implicit":
            self._deliver(sub, {"score": score / 2}, {"": D(score) / 2}, flagged=False)
            return
        ec = min(ec, D(2))
        raw = results_json(q1_a=(float(q1[0]), 5), q1_b=(float(q1[1]), 5), ec=(float(ec), 2))
        self._deliver(sub, raw, {"q1": sum(q1), "q2": None, "ec": ec}, flagged=False)

    @precondition(lambda self: self.model.subs)
    @rule(older=st.booleans())
    def forged_result(self, older: bool) -> None:
        sub = self.target(older)
        parts: dict[str, Decimal | None] = {"": D(999)}  # the 999 it claims
        if self.model.shape == "questions":
            parts = {"q1": D(999), "q2": None, "ec": D(1)}
        self._deliver(sub, FORGED[self.model.shape], parts, flagged=True)

    @precondition(
        lambda self: any(r.flagged and not r.accepted for r in self.model.results.values())
    )
    @rule(data=st.data())
    def accept_result(self, data: st.DataObject) -> None:
        waiting = [r for r in self.model.results.values() if r.flagged and not r.accepted]
        outcome = data.draw(st.sampled_from(waiting))
        accept(self.k.ta, outcome.job)
        outcome.accepted = True

    @precondition(lambda self: self.model.subs)
    @rule(index=st.integers(0, 3), staff=st.booleans())
    def choose_submission(self, index: int, staff: bool) -> None:
        sub = self.pick(index)
        r = choose(self.k.ta if staff else self.k.alice, sub)
        if not staff and self.model.released:
            assert r.status_code == 409 and code_of(r) == "grades_released"
            return
        assert r.status_code == 200, r.content
        self.model.chosen = sub

    @rule(data=st.data(), removed=st.booleans())
    def staff_override(self, data: st.DataObject, removed: bool) -> None:
        slug = data.draw(st.sampled_from(sorted(self.model.maxima)))
        most = self.model.maxima[slug]
        points = None if removed else data.draw(st.integers(0, int(most) + 2).map(D))
        r = grade(self.k.ta, self.k.alice, self.hw, question=slug, points=points)
        if points is not None and points > most:
            assert r.status_code == 400 and code_of(r) == "points_out_of_range"
            return
        assert r.status_code == 200, r.content
        self.model.override[slug] = points

    @rule(data=st.data())
    def staff_adjustment(self, data: st.DataObject) -> None:
        slug = data.draw(st.sampled_from(sorted(self.model.maxima)))
        most = int(self.model.maxima[slug])
        given = data.draw(st.integers(-most, most).map(D))
        r = grade(self.k.ta, self.k.alice, self.hw, question=slug, adjustment=str(given))
        assert r.status_code == 200, r.content
        self.model.adjustment[slug] = given

    @rule(excused=st.booleans())
    def excuse(self, excused: bool) -> None:
        assert grade(self.k.ta, self.k.alice, self.hw, excused=excused).status_code == 200
        self.model.excused = excused

    @precondition(lambda self: self.model.released and self.model.subs)
    @rule(data=st.data(), scored=st.booleans())
    def regrade_resolved(self, data: st.DataObject, scored: bool) -> None:
        slug = data.draw(st.sampled_from(sorted(self.model.maxima)))
        most = self.model.maxima[slug]
        score = data.draw(st.integers(0, int(most) + 2).map(D)) if scored else None
        request = ask_regrade(self.k.alice, self.model.counting or 0, slug)
        r = resolve(self.k.ta, request, score)
        if score is not None and score > most:
            assert r.status_code == 400 and code_of(r) == "points_out_of_range"
            return
        assert r.status_code == 200, r.content
        if score is not None:
            self.model.override[slug] = score

    @rule()
    def release_grades(self) -> None:
        release(self.k.instructor, self.hw)
        self.model.released = True

    @rule()
    def unrelease_grades(self) -> None:
        unrelease(self.k.instructor, self.hw)
        self.model.released = False

    @invariant()
    def surfaces_agree_with_each_other_and_the_model(self) -> None:
        (s,) = check(self.k, self.hw, self.k.alice)
        m = self.model
        assert (s.released, s.counting, s.excused) == (m.released, m.counting, m.excused)
        assert (s.points, s.needs_review) == (m.points, m.needs_review)


def test_every_surface_agrees_after_random_operations(media: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr(services, "publish", lambda job: None)
    run_state_machine_as_test(
        GradeTruth,
        settings=settings(
            max_examples=25,
            stateful_step_count=10,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
