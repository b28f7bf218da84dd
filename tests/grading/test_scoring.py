"""grading.scoring: how a question's score is made (pure; no database)."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from grading import scoring
from grading.scoring import QuestionSpec, TestScore

D = Decimal
Q1 = QuestionSpec("q1", D(10), ("q1*",))
Q2 = QuestionSpec("q2", D(5), ("q2*", "extra*"))
WRITTEN = QuestionSpec("written", D(20))

points = st.decimals(min_value=-1000, max_value=1000, places=2, allow_nan=False)


def test_a_question_takes_the_tests_its_globs_match_the_first_match_wins() -> None:
    tests = [
        TestScore("q1 shapes", 4, 5),
        TestScore("q1 grads", 3, 5),
        TestScore("q2 loss", 2, 5),
        TestScore("extra q1", 1, 1),  # matches q2 ("extra*") before... q1 does not match it
    ]
    parts = scoring.autograded_parts([Q1, Q2, WRITTEN], tests, total=10)
    assert parts == {"q1": D(7), "q2": D(3), "written": None}


def test_a_test_matching_two_questions_feeds_the_first() -> None:
    first = QuestionSpec("a", D(5), ("t*",))
    second = QuestionSpec("b", D(5), ("*",))
    parts = scoring.autograded_parts([first, second], [TestScore("t1", 2, 2)], total=2)
    assert parts == {"a": D(2), "b": D(0)}


def test_without_questions_the_whole_score_feeds_the_implicit_question() -> None:
    specs = scoring.implicit(D(100))
    assert scoring.autograded_parts(specs, [TestScore("t", 1, 1)], total=70.5) == {"": D("70.50")}
    assert scoring.autograded_parts(specs, [], total=None) == {"": None}
    assert scoring.autograded_parts(specs, [], total=-3) == {"": D(0)}


def test_score_is_the_autograded_part_plus_the_adjustment_within_the_points() -> None:
    q = scoring.question_points
    assert q(points=D(10), autograded=D(7)) == D(7)
    assert q(points=D(10), autograded=D(7), adjustment=D(-2)) == D(5)
    assert q(points=D(10), autograded=D(9), adjustment=D(5)) == D(10)
    assert q(points=D(10), autograded=None, adjustment=D(3)) == D(3)
    assert q(points=D(10), autograded=None) is None  # ungraded
    assert q(points=D(10), autograded=D(2), adjustment=D(-5)) == D(0)


def test_an_override_wins_until_removed() -> None:
    q = scoring.question_points
    assert q(points=D(10), autograded=D(2), adjustment=D(1), override=D(8)) == D(8)
    assert q(points=D(10), autograded=None, override=D(0)) == D(0)
    assert q(points=D(10), autograded=D(2), override=D(99)) == D(10)


def test_applied_rubric_items_add_to_the_autograded_part_within_the_points() -> None:
    q = scoring.question_points
    assert q(points=D(10), autograded=D(7), rubric=[D(-2), D(-1)]) == D(4)
    assert q(points=D(10), autograded=D(7), rubric=[D(-2)], adjustment=D(1)) == D(6)
    assert q(points=D(10), autograded=None, rubric=[D(8), D(5)]) == D(10)
    assert q(points=D(10), autograded=D(1), rubric=[D(-5)]) == D(0)


def test_a_rubric_item_worth_nothing_still_grades_the_question() -> None:
    assert scoring.question_points(points=D(10), autograded=None, rubric=[D(0)]) == D(0)


def test_an_override_wins_over_applied_rubric_items() -> None:
    assert scoring.question_points(
        points=D(10), autograded=D(2), rubric=[D(3)], override=D(8)
    ) == D(8)


@given(
    maximum=st.decimals(min_value=0, max_value=500, places=2),
    autograded=st.one_of(st.none(), points),
    adjustment=points,
    override=st.one_of(st.none(), points),
    rubric=st.lists(points, max_size=5),
)
def test_a_score_is_never_outside_zero_and_the_points(
    maximum, autograded, adjustment, override, rubric
):
    score = scoring.question_points(
        points=maximum,
        autograded=autograded,
        adjustment=adjustment,
        override=override,
        rubric=rubric,
    )
    if score is None:
        assert override is None and autograded is None and not adjustment and not rubric
    else:
        assert D(0) <= score <= maximum


def test_a_forged_total_needs_review() -> None:
    tests = [TestScore("q1 t", 999, 1)]
    reasons = scoring.review_reasons([Q1, Q2], tests, total=999)
    assert "test 'q1 t' scored 999 of at most 1" in reasons
    assert "the total 999 is above the tests' maximum 1" in reasons
    assert "the total 999 is above the 15 points the autograder feeds" in reasons


def test_a_total_without_tests_above_the_points_needs_review() -> None:
    reasons = scoring.review_reasons(scoring.implicit(D(100)), [], total=999)
    assert reasons == ["the total 999 is above the 100 points the autograder feeds"]
    assert scoring.review_reasons(scoring.implicit(D(100)), [], total=100) == []


def test_a_test_that_feeds_no_question_needs_review_where_questions_have_tests() -> None:
    tests = [TestScore("q1 a", 1, 1), TestScore("stray", 1, 1)]
    assert scoring.review_reasons([Q1, WRITTEN], tests, total=2) == [
        "test 'stray' feeds no question"
    ]
    # No question has tests: nothing can be fed, and nothing is flagged for it.
    assert scoring.review_reasons([WRITTEN], tests, total=2) == []


def test_consistent_results_need_no_review() -> None:
    tests = [TestScore("q1 a", 5, 5), TestScore("q2 b", 4, 5)]
    assert scoring.review_reasons([Q1, Q2], tests, total=9) == []
