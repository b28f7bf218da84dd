"""grading/gradebook.py: the syllabus's grading rules, exhaustively (Hypothesis included).

Pure policy: no database, no Django. The syllabus: problem sets + homeworks 80%, final project
20%, class participation a 3% bonus; PS0 required but not counted, <= 75% flags a student who
may not be prepared; extra-credit questions for 4803 are required for 7643.
"""

from __future__ import annotations

import ast
import itertools
import random
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from grading import gradebook as g
from grading.gradebook import AssignmentPolicy, CategoryPolicy, Score, final_grade

D = Decimal

# --- the syllabus's course --------------------------------------------------------------------

HOMEWORK = CategoryPolicy("homework", D(80))
PROJECT = CategoryPolicy("project", D(20))
PARTICIPATION = CategoryPolicy("participation", D(3), bonus=True)
PS0_CATEGORY = CategoryPolicy("ps0", D(0))
CATEGORIES = (HOMEWORK, PROJECT, PARTICIPATION, PS0_CATEGORY)


def assignment(
    slug: str,
    category: str = "homework",
    max_points: str | int = 100,
    extra: str | int = 0,
    *,
    released: bool = True,
    threshold: str | int | None = None,
) -> AssignmentPolicy:
    return AssignmentPolicy(
        slug=slug,
        title=slug.upper(),
        category=category,
        max_points=D(max_points),
        extra_credit_points=D(extra),
        released=released,
        readiness_threshold=None if threshold is None else D(threshold),
    )


def pts(value: str | int) -> Score:
    return Score(D(value))


PS0 = assignment("ps0", "ps0", threshold=75)
PROJECT_A = assignment("project", "project")
PARTICIPATION_A = assignment("participation", "participation", 3)


# --- the module's boundary ------------------------------------------------------------------


def test_the_module_imports_only_the_standard_library():
    source = Path(g.__file__).read_text()
    imported: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    assert imported <= {
        "__future__",
        "collections",
        "dataclasses",
        "decimal",
        "fractions",
        "functools",
    }


def test_the_docstring_documents_every_rule_and_its_boundaries():
    doc = g.__doc__ or ""
    for phrase in (
        "Only released grades count",
        "no score counts as 0",
        "excused assignment is left out",
        "weight-0 category (PS0) never counts",
        "never lowers a grade",
        "ROUND_HALF_UP",
        "at or below",
        "inclusive",
    ):
        assert phrase in doc


# --- the syllabus, case by case ---------------------------------------------------------------


def test_4803_student_earns_extra_credit_beyond_100_percent():
    # HW1: q1..q4 worth 100 are required at both levels; ec1 (5 points) is extra credit for 4803.
    hw1 = assignment("hw1", max_points=100, extra=5)
    report = final_grade(CATEGORIES, [hw1, PROJECT_A], {"hw1": pts(103), "project": pts(90)})
    assert report.assignment("hw1").percent == D("103.00")
    assert report.category("homework").percent == D("103.00")
    assert report.category("homework").points == D(103)
    assert report.category("homework").max_points == D(100)
    # (80 * 103 + 20 * 90) / 100
    assert report.final_percent == D("100.40")


def test_7643_student_must_answer_the_same_questions():
    # The same 5 extra-credit points are required at the graduate level: the maximum is 105.
    hw1 = assignment("hw1", max_points=105, extra=0)
    report = final_grade(CATEGORIES, [hw1, PROJECT_A], {"hw1": pts(103), "project": pts(90)})
    assert report.assignment("hw1").percent == D("98.10")  # 103 / 105
    # 80 * 103/105 + 20 * 0.9 = 78.476... + 18 = 96.476...
    assert report.final_percent == D("96.48")


def test_the_same_raw_score_is_worth_more_to_a_4803_student():
    scores = {"hw1": pts(100)}
    ugrad = final_grade(CATEGORIES, [assignment("hw1", max_points=100, extra=5)], scores)
    grad = final_grade(CATEGORIES, [assignment("hw1", max_points=105)], scores)
    assert ugrad.final_percent == D("100.00")
    assert grad.final_percent == D("95.24")


def test_extra_credit_is_capped_at_its_points():
    hw1 = assignment("hw1", max_points=100, extra=5)
    report = final_grade(CATEGORIES, [hw1], {"hw1": pts(120)})
    assert report.assignment("hw1").points == D(105)
    assert report.final_percent == D("105.00")


def test_a_score_without_extra_credit_is_capped_at_the_maximum():
    report = final_grade(CATEGORIES, [assignment("hw1")], {"hw1": pts("100.5")})
    assert report.assignment("hw1").points == D(100)
    assert report.final_percent == D("100.00")


def test_a_negative_score_counts_as_zero():
    report = final_grade(CATEGORIES, [assignment("hw1")], {"hw1": pts(-5)})
    assert report.assignment("hw1").points == D(0)
    assert report.final_percent == D("0.00")


def test_ps0_is_excluded_from_the_final_grade():
    hw1 = assignment("hw1")
    scores = {"hw1": pts(90), "ps0": pts(10)}
    with_ps0 = final_grade(CATEGORIES, [hw1, PS0], scores)
    without = final_grade(CATEGORIES, [hw1], scores)
    assert with_ps0.final_percent == without.final_percent == D("90.00")
    ps0 = with_ps0.category("ps0")
    assert ps0.percent == D("10.00")
    assert ps0.counted is False
    assert with_ps0.assignment("ps0").percent == D("10.00")


def test_ps0_alone_gives_no_final_grade_but_does_give_the_flag():
    report = final_grade(CATEGORIES, [PS0], {"ps0": pts(60)})
    assert report.final_percent is None
    assert report.base_percent is None
    assert report.readiness_flag is True


def test_a_perfect_ps0_does_not_raise_the_final_either():
    hw1 = assignment("hw1")
    report = final_grade(CATEGORIES, [hw1, PS0], {"hw1": pts(50), "ps0": pts(100)})
    assert report.final_percent == D("50.00")


def test_full_course_is_the_plain_weighted_sum():
    hw = [assignment(f"hw{i}", max_points=50 * i) for i in range(1, 5)]
    scores = {"hw1": pts(40), "hw2": pts(90), "hw3": pts(120), "hw4": pts(160), "project": pts(85)}
    report = final_grade(CATEGORIES, [*hw, PROJECT_A, PS0], scores)
    homework = Fraction(40 + 90 + 120 + 160, 50 + 100 + 150 + 200) * 100  # 82%
    assert report.category("homework").percent == D("82.00")
    expected = (80 * homework + 20 * 85) / 100
    assert report.final_percent == g.round_percent(expected) == D("82.60")


def test_category_percent_weighs_assignments_by_their_points():
    small = assignment("hw1", max_points=10)
    large = assignment("hw2", max_points=90)
    report = final_grade(CATEGORIES, [small, large], {"hw1": pts(0), "hw2": pts(90)})
    # points-weighted: 90 / 100, not the mean of 0% and 100%
    assert report.category("homework").percent == D("90.00")


# --- participation bonus ------------------------------------------------------------------------


def test_participation_bonus_adds_up_to_3_points():
    scores = {"hw1": pts(80), "project": pts(80), "participation": pts(3)}
    report = final_grade(CATEGORIES, [assignment("hw1"), PROJECT_A, PARTICIPATION_A], scores)
    assert report.base_percent == D("80.00")
    assert report.bonus_percent == D("3.00")
    assert report.final_percent == D("83.00")


def test_partial_participation_adds_a_share_of_the_3_points():
    scores = {"hw1": pts(80), "participation": pts(2)}
    report = final_grade(CATEGORIES, [assignment("hw1"), PARTICIPATION_A], scores)
    assert report.bonus_percent == D("2.00")
    assert report.final_percent == D("82.00")


def test_participation_bonus_is_capped_at_its_weight_even_with_extra_credit():
    participation = assignment("participation", "participation", 3, extra=10)
    scores = {"hw1": pts(80), "participation": pts(13)}
    report = final_grade(CATEGORIES, [assignment("hw1"), participation], scores)
    assert report.category("participation").percent == D("433.33")
    assert report.bonus_percent == D("3.00")
    assert report.final_percent == D("83.00")


@pytest.mark.parametrize("participation", [None, Score(None), pts(0), pts(-3)])
def test_no_participation_never_lowers_the_grade(participation):
    scores = {"hw1": pts(80)}
    if participation is not None:
        scores["participation"] = participation
    report = final_grade(CATEGORIES, [assignment("hw1"), PARTICIPATION_A], scores)
    assert report.final_percent == D("80.00")
    assert report.bonus_percent == D("0.00")


def test_the_bonus_is_not_in_the_denominator():
    report = final_grade(
        CATEGORIES, [assignment("hw1"), PARTICIPATION_A], {"hw1": pts(100), "participation": pts(0)}
    )
    assert report.final_percent == D("100.00")
    assert report.category("participation").counted is True


def test_final_may_exceed_100_with_the_bonus():
    scores = {"hw1": pts(100), "project": pts(100), "participation": pts(3)}
    report = final_grade(CATEGORIES, [assignment("hw1"), PROJECT_A, PARTICIPATION_A], scores)
    assert report.final_percent == D("103.00")


def test_a_bonus_alone_is_no_final_grade():
    report = final_grade(CATEGORIES, [PARTICIPATION_A], {"participation": pts(3)})
    assert report.final_percent is None
    assert report.bonus_percent == D("3.00")


# --- readiness (PS0) ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("score", "max_points", "flag"),
    [
        ("75", 100, True),  # "<= 75%": the boundary is inclusive
        ("75.01", 100, False),
        ("74.99", 100, True),
        ("0", 100, True),
        ("100", 100, False),
        ("30", 40, True),  # exactly 75%
        ("30.01", 40, False),
        ("2.25", 3, True),  # exactly 75% again
        ("2.26", 3, False),
    ],
)
def test_readiness_flag_at_and_around_75_percent(score, max_points, flag):
    ps0 = assignment("ps0", "ps0", max_points, threshold=75)
    assert final_grade(CATEGORIES, [ps0], {"ps0": pts(score)}).readiness_flag is flag


def test_readiness_compares_exactly_not_the_rounded_percent():
    # 75.004 / 100 shows as 75.00% but is above 75%.
    ps0 = assignment("ps0", "ps0", "100000", threshold=75)
    report = final_grade(CATEGORIES, [ps0], {"ps0": pts("75004")})
    assert report.assignment("ps0").percent == D("75.00")
    assert report.readiness_flag is False


def test_readiness_is_none_until_ps0_grades_are_released():
    unreleased = assignment("ps0", "ps0", threshold=75, released=False)
    report = final_grade(CATEGORIES, [unreleased], {"ps0": pts(10)})
    assert report.readiness_flag is None
    assert report.assignments == ()


@pytest.mark.parametrize("score", [None, Score(None), Score(D(10), excused=True)])
def test_readiness_is_none_when_ps0_is_ungraded_or_excused(score):
    scores = {} if score is None else {"ps0": score}
    assert final_grade(CATEGORIES, [PS0], scores).readiness_flag is None


def test_readiness_is_none_without_a_threshold():
    report = final_grade(CATEGORIES, [assignment("hw1")], {"hw1": pts(10)})
    assert report.readiness_flag is None


@pytest.mark.parametrize(
    ("scores", "flag"),
    [
        ({"ps0a": pts(80), "ps0b": pts(80)}, False),
        ({"ps0a": pts(80), "ps0b": pts(40)}, True),
        ({"ps0a": pts(80)}, False),
    ],
    ids=["both-fine", "one-low", "one-ungraded"],
)
def test_readiness_with_two_thresholds_flags_if_either_does(scores, flag):
    ps0a = assignment("ps0a", "ps0", threshold=75)
    ps0b = assignment("ps0b", "ps0", threshold=50)
    assert final_grade(CATEGORIES, [ps0a, ps0b], scores).readiness_flag is flag


# 80 raw points: 80% of 100 for 4803, 76.19% of 105 for 7643, 72.73% of 110.
@pytest.mark.parametrize(("maximum", "flag"), [(100, False), (105, False), (110, True)])
def test_readiness_uses_the_students_level_maximum(maximum, flag):
    ps0 = assignment("ps0", "ps0", maximum, threshold=75)
    assert final_grade(CATEGORIES, [ps0], {"ps0": pts(80)}).readiness_flag is flag


def test_readiness_ignores_a_zero_maximum():
    ps0 = assignment("ps0", "ps0", 0, extra=5, threshold=75)
    assert final_grade(CATEGORIES, [ps0], {"ps0": pts(0)}).readiness_flag is None


# --- released, missing, excused ---------------------------------------------------------------


def test_unreleased_grades_count_for_nothing_and_are_not_shown():
    hw1 = assignment("hw1")
    hw2 = assignment("hw2", released=False)
    report = final_grade(CATEGORIES, [hw1, hw2], {"hw1": pts(90), "hw2": pts(0)})
    assert report.final_percent == D("90.00")
    assert [a.slug for a in report.assignments] == ["hw1"]


@pytest.mark.parametrize(
    "scores",
    [{"hw1": pts(90)}, {"hw1": pts(90), "hw2": Score(None)}],
    ids=["no-score", "ungraded-score"],
)
def test_a_released_assignment_without_a_score_is_a_zero(scores):
    hw1, hw2 = assignment("hw1"), assignment("hw2")
    report = final_grade(CATEGORIES, [hw1, hw2], scores)
    assert report.final_percent == D("45.00")
    hw2_grade = report.assignment("hw2")
    assert hw2_grade.points == D(0)
    assert hw2_grade.percent == D("0.00")
    assert hw2_grade.missing is True


def test_an_excused_assignment_is_left_out_of_its_category():
    hw1, hw2 = assignment("hw1"), assignment("hw2")
    report = final_grade(CATEGORIES, [hw1, hw2], {"hw1": pts(90), "hw2": Score(None, excused=True)})
    assert report.final_percent == D("90.00")
    hw2_grade = report.assignment("hw2")
    assert (hw2_grade.points, hw2_grade.percent, hw2_grade.excused) == (None, None, True)
    assert report.category("homework").max_points == D(100)


def test_excused_wins_over_points():
    hw1, hw2 = assignment("hw1"), assignment("hw2")
    report = final_grade(
        CATEGORIES, [hw1, hw2], {"hw1": pts(90), "hw2": Score(D(10), excused=True)}
    )
    assert report.final_percent == D("90.00")


def test_a_category_with_everything_excused_does_not_count():
    scores = {"hw1": pts(70), "project": Score(None, excused=True)}
    report = final_grade(CATEGORIES, [assignment("hw1"), PROJECT_A], scores)
    assert report.category("project").counted is False
    assert report.category("project").percent is None
    assert report.final_percent == D("70.00")


def test_the_final_is_the_percent_so_far():
    # Only homework is released: the project does not count as zero yet.
    project = assignment("project", "project", released=False)
    report = final_grade(CATEGORIES, [assignment("hw1"), project], {"hw1": pts(85)})
    assert report.final_percent == D("85.00")
    assert report.category("project").counted is False


def test_nothing_released_gives_no_final():
    report = final_grade(CATEGORIES, [assignment("hw1", released=False)], {})
    assert report.final_percent is None
    assert report.base_percent is None
    assert report.bonus_percent == D("0.00")
    assert report.readiness_flag is None
    assert all(not c.counted for c in report.categories)


def test_no_categories_no_assignments():
    report = final_grade([], [], {})
    assert report == g.GradeReport((), (), None, D("0.00"), None, None)


def test_scores_for_unknown_assignments_are_ignored():
    report = final_grade(CATEGORIES, [assignment("hw1")], {"hw1": pts(50), "ghost": pts(100)})
    assert report.final_percent == D("50.00")


def test_an_extra_credit_only_assignment_adds_points_without_a_percent():
    bonus_q = assignment("hw-ec", max_points=0, extra=10)
    report = final_grade(
        CATEGORIES, [assignment("hw1"), bonus_q], {"hw1": pts(80), "hw-ec": pts(10)}
    )
    assert report.assignment("hw-ec").percent is None
    assert report.category("homework").percent == D("90.00")


def test_a_category_of_zero_maxima_does_not_count():
    report = final_grade(CATEGORIES, [assignment("hw1", max_points=0)], {"hw1": pts(0)})
    assert report.category("homework").percent is None
    assert report.final_percent is None


# --- rounding -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("points", "maximum", "expected"),
    [
        ("320.5", 400, "80.13"),  # 80.125: half up, not half even
        ("320.3", 400, "80.08"),  # 80.075
        ("2", 3, "66.67"),
        ("1", 3, "33.33"),
        ("0.5", 200000, "0.00"),  # 0.00025
        ("1", 200000, "0.00"),  # 0.0005 -> 0.00 (below the half cent)
        ("1", 200, "0.50"),
        ("1", 160000, "0.00"),  # 0.000625
        ("1", 80000, "0.00"),  # 0.00125
        ("1", 8000, "0.01"),  # 0.0125
    ],
)
def test_final_percent_rounds_half_up_to_two_places(points, maximum, expected):
    report = final_grade(CATEGORIES, [assignment("hw1", max_points=maximum)], {"hw1": pts(points)})
    assert report.final_percent == D(expected)
    assert report.final_percent.as_tuple().exponent == -2


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Fraction(80125, 1000), "80.13"),
        (Fraction(-80125, 1000), "-80.13"),
        (Fraction(1, 200), "0.01"),
        (Fraction(-1, 200), "-0.01"),
        (Fraction(1, 201), "0.00"),
        (Fraction(0), "0.00"),
        (D("99.995"), "100.00"),
        (D("12.344999"), "12.34"),
    ],
)
def test_round_percent(value, expected):
    assert g.round_percent(value) == D(expected)
    assert str(g.round_percent(value)) == expected


def test_the_final_is_rounded_once_from_exact_values():
    # homework 1/3 * 100 = 33.333..., bonus 3 * 1/6 = 0.5 -> 33.8333 -> 33.83
    participation = assignment("participation", "participation", 6)
    report = final_grade(
        CATEGORIES,
        [assignment("hw1", max_points=3), participation],
        {"hw1": pts(1), "participation": pts(1)},
    )
    assert report.base_percent == D("33.33")
    assert report.bonus_percent == D("0.50")
    assert report.final_percent == D("33.83")


def test_rounding_base_and_bonus_separately_would_lose_a_cent():
    # homework 80004 / 100000 = 80.004%; participation 4 / 3000 of 3 points = 0.004
    participation = assignment("participation", "participation", 3000)
    report = final_grade(
        CATEGORIES,
        [assignment("hw1", max_points=100000), participation],
        {"hw1": pts(80004), "participation": pts(4)},
    )
    assert (report.base_percent, report.bonus_percent) == (D("80.00"), D("0.00"))
    assert report.final_percent == D("80.01")


# --- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("categories", "assignments", "scores", "message"),
    [
        ([HOMEWORK, HOMEWORK], [], {}, "category 'homework' appears twice"),
        ([CategoryPolicy("x", D(-1))], [], {}, "weight must not be negative"),
        ([CategoryPolicy("x", D("NaN"))], [], {}, "finite"),
        ([CategoryPolicy("x", D("Infinity"))], [], {}, "finite"),
        ([HOMEWORK], [assignment("hw1"), assignment("hw1")], {}, "'hw1' appears twice"),
        ([HOMEWORK], [assignment("hw1", "nope")], {}, "unknown category 'nope'"),
        ([HOMEWORK], [assignment("hw1", max_points=-1)], {}, "max_points must not be negative"),
        ([HOMEWORK], [assignment("hw1", extra=-1)], {}, "extra_credit_points must not be"),
        ([HOMEWORK], [assignment("hw1", threshold=-1)], {}, "readiness_threshold must not be"),
        ([HOMEWORK], [assignment("hw1")], {"hw1": Score(D("NaN"))}, "score must be a finite"),
        ([HOMEWORK], [assignment("hw1")], {"hw1": Score(1.5)}, "score must be a Decimal"),
    ],
)
def test_bad_input_is_refused(categories, assignments, scores, message):
    with pytest.raises(ValueError, match=message):
        final_grade(categories, assignments, scores)


def test_a_bad_score_on_an_unreleased_assignment_is_still_refused():
    with pytest.raises(ValueError, match="finite"):
        final_grade([HOMEWORK], [assignment("hw1", released=False)], {"hw1": Score(D("sNaN"))})


# --- Hypothesis ---------------------------------------------------------------------------------

two_places = st.integers(min_value=0, max_value=20_000).map(lambda n: Decimal(n).scaleb(-2))
weights = st.one_of(st.just(D(0)), st.integers(min_value=1, max_value=100).map(Decimal), two_places)


def points_up_to(top: Decimal) -> st.SearchStrategy[Decimal]:
    cents = int(top * 100)
    return st.integers(min_value=-500, max_value=cents + 500).map(lambda n: Decimal(n).scaleb(-2))


@st.composite
def scores_for(draw: st.DrawFn, assignments: list[AssignmentPolicy]) -> dict[str, Score]:
    scores: dict[str, Score] = {}
    for a in assignments:
        kind = draw(st.sampled_from(["absent", "ungraded", "excused", "points", "points"]))
        if kind == "ungraded":
            scores[a.slug] = Score(None)
        elif kind == "excused":
            scores[a.slug] = Score(draw(st.none() | two_places), excused=True)
        elif kind == "points":
            scores[a.slug] = Score(draw(points_up_to(a.max_points + a.extra_credit_points)))
    return scores


@st.composite
def courses(
    draw: st.DrawFn, *, bonus: bool = True
) -> tuple[list[CategoryPolicy], list[AssignmentPolicy], dict[str, Score]]:
    n_regular = draw(st.integers(min_value=1, max_value=4))
    n_bonus = draw(st.integers(min_value=0, max_value=2)) if bonus else 0
    categories = [CategoryPolicy(f"c{i}", draw(weights)) for i in range(n_regular)]
    categories += [
        CategoryPolicy(f"b{i}", draw(st.integers(0, 10).map(Decimal)), bonus=True)
        for i in range(n_bonus)
    ]
    n_assignments = draw(st.integers(min_value=0, max_value=8))
    assignments = [
        AssignmentPolicy(
            slug=f"a{i}",
            title=f"A{i}",
            category=draw(st.sampled_from([c.slug for c in categories])),
            max_points=draw(st.one_of(st.just(D(0)), two_places, st.just(D(100)))),
            extra_credit_points=draw(st.one_of(st.just(D(0)), two_places.map(lambda d: d / 4))),
            released=draw(st.booleans()),
            readiness_threshold=draw(st.none() | st.integers(0, 100).map(Decimal)),
        )
        for i in range(n_assignments)
    ]
    return categories, assignments, draw(scores_for(assignments))


def exact_final(categories, assignments, scores) -> Fraction | None:
    """An independent, straightforward restatement of the rules, in exact arithmetic."""
    by_category: dict[str, list[tuple[Fraction, Fraction]]] = {c.slug: [] for c in categories}
    for a in assignments:
        score = scores.get(a.slug)
        if not a.released or (score is not None and score.excused):
            continue
        raw = Fraction(0) if score is None or score.points is None else Fraction(score.points)
        top = Fraction(a.max_points + a.extra_credit_points)
        by_category[a.category].append((min(max(raw, Fraction(0)), top), Fraction(a.max_points)))
    num = den = bonus = Fraction(0)
    for c in categories:
        got = sum((p for p, _ in by_category[c.slug]), Fraction(0))
        out_of = sum((m for _, m in by_category[c.slug]), Fraction(0))
        if not by_category[c.slug] or out_of == 0 or c.weight == 0:
            continue
        percent = got * 100 / out_of
        if c.bonus:
            bonus += Fraction(c.weight) * min(percent, Fraction(100)) / 100
        else:
            num += Fraction(c.weight) * percent
            den += Fraction(c.weight)
    return None if den == 0 else num / den + bonus


@settings(max_examples=400)
@given(courses())
def test_matches_an_independent_restatement_of_the_rules(course):
    categories, assignments, scores = course
    expected = exact_final(categories, assignments, scores)
    got = final_grade(categories, assignments, scores).final_percent
    assert got == (None if expected is None else g.round_percent(expected))


@settings(max_examples=400)
@given(courses())
def test_final_is_between_0_and_100_plus_extra_credit_plus_bonus(course):
    categories, assignments, scores = course
    report = final_grade(categories, assignments, scores)
    if report.final_percent is None:
        return
    # The largest ratio (maximum + extra credit) / maximum over counted non-bonus categories.
    ratio = Fraction(1)
    for c in categories:
        counted = [
            a
            for a in assignments
            if a.category == c.slug and a.released and not scores.get(a.slug, Score(None)).excused
        ]
        out_of = sum((Fraction(a.max_points) for a in counted), Fraction(0))
        if not c.bonus and out_of > 0:
            with_extra = sum(
                (Fraction(a.max_points + a.extra_credit_points) for a in counted), Fraction(0)
            )
            ratio = max(ratio, with_extra / out_of)
    bonus_cap = sum((Fraction(c.weight) for c in categories if c.bonus), Fraction(0))
    assert D(0) <= report.final_percent <= g.round_percent(100 * ratio + bonus_cap)
    assert D(0) <= report.bonus_percent <= g.round_percent(bonus_cap)
    for category in report.categories:
        if category.percent is not None:
            assert category.percent >= 0


@settings(max_examples=400)
@given(courses(), st.data())
def test_raising_any_score_never_lowers_the_final(course, data):
    categories, assignments, scores = course
    assume(assignments)
    target = data.draw(st.sampled_from(assignments))
    before = scores.get(target.slug)
    assume(before is None or not before.excused)
    low = D(0) if before is None or before.points is None else before.points
    top = target.max_points + target.extra_credit_points
    raised = data.draw(points_up_to(top).filter(lambda p: p >= low))
    after = {**scores, target.slug: Score(raised)}
    old = final_grade(categories, assignments, scores)
    new = final_grade(categories, assignments, after)
    if old.final_percent is None:
        assert new.final_percent is None
    else:
        assert new.final_percent is not None
        assert new.final_percent >= old.final_percent
    assert new.bonus_percent >= old.bonus_percent
    if old.readiness_flag is False and before is not None and before.points is not None:
        # A better PS0 score never raises the flag. (Grading an ungraded one may: it was not
        # looked at before.)
        assert new.readiness_flag is False


@settings(max_examples=300)
@given(courses(bonus=False), st.data())
def test_a_bonus_category_never_lowers_the_final(course, data):
    categories, assignments, scores = course
    weight = data.draw(st.integers(0, 10).map(Decimal))
    extra = data.draw(st.one_of(st.just(D(0)), two_places))
    bonus_category = CategoryPolicy("participation", weight, bonus=True)
    participation = AssignmentPolicy(
        "participation", "Participation", "participation", D(3), extra, data.draw(st.booleans())
    )
    with_bonus_scores = {**scores, **data.draw(scores_for([participation]))}
    without = final_grade(categories, assignments, scores)
    with_bonus = final_grade(
        [*categories, bonus_category], [*assignments, participation], with_bonus_scores
    )
    assert with_bonus.base_percent == without.base_percent
    if without.final_percent is None:
        assert with_bonus.final_percent is None
    else:
        assert with_bonus.final_percent is not None
        assert without.final_percent <= with_bonus.final_percent
        assert with_bonus.final_percent <= without.final_percent + weight + D("0.01")


@settings(max_examples=300)
@given(courses(), st.randoms(use_true_random=False))
def test_order_of_categories_and_assignments_does_not_matter(course, rnd: random.Random):
    categories, assignments, scores = course
    shuffled_c, shuffled_a = list(categories), list(assignments)
    rnd.shuffle(shuffled_c)
    rnd.shuffle(shuffled_a)
    a = final_grade(categories, assignments, scores)
    b = final_grade(shuffled_c, shuffled_a, scores)
    assert (a.final_percent, a.base_percent, a.bonus_percent, a.readiness_flag) == (
        b.final_percent,
        b.base_percent,
        b.bonus_percent,
        b.readiness_flag,
    )
    assert {c.slug: c for c in a.categories} == {c.slug: c for c in b.categories}
    assert {x.slug: x for x in a.assignments} == {x.slug: x for x in b.assignments}


@settings(max_examples=300)
@given(courses(), st.data())
def test_weight_0_categories_never_change_the_final(course, data):
    categories, assignments, scores = course
    is_bonus = data.draw(st.booleans())
    zero = CategoryPolicy("ps0", D(0), bonus=is_bonus)
    extra_assignments = [
        AssignmentPolicy(
            f"ps0-{i}",
            f"PS0 part {i}",
            "ps0",
            data.draw(two_places),
            data.draw(st.one_of(st.just(D(0)), two_places)),
            released=data.draw(st.booleans()),
            readiness_threshold=D(75),
        )
        for i in range(data.draw(st.integers(1, 3)))
    ]
    extra_scores = data.draw(scores_for(extra_assignments))
    before = final_grade(categories, assignments, scores)
    after = final_grade(
        [*categories, zero], [*assignments, *extra_assignments], {**scores, **extra_scores}
    )
    assert after.final_percent == before.final_percent
    assert after.base_percent == before.base_percent
    assert after.bonus_percent == before.bonus_percent
    assert after.category("ps0").counted is False


@settings(max_examples=300)
@given(courses(), st.data())
def test_unreleased_scores_change_nothing(course, data):
    categories, assignments, scores = course
    hidden = [a for a in assignments if not a.released]
    assume(hidden)
    changed = {**scores, **data.draw(scores_for(hidden))}
    a = final_grade(categories, assignments, scores)
    b = final_grade(categories, assignments, changed)
    assert a == b


@settings(max_examples=300)
@given(courses())
def test_readiness_flag_matches_its_definition(course):
    categories, assignments, scores = course
    looked_at = []
    for a in assignments:
        score = scores.get(a.slug)
        if (
            a.readiness_threshold is None
            or not a.released
            or score is None
            or score.excused
            or score.points is None
            or a.max_points == 0
        ):
            continue
        clamped = min(max(score.points, D(0)), a.max_points + a.extra_credit_points)
        looked_at.append(clamped * 100 <= a.readiness_threshold * a.max_points)
    expected = any(looked_at) if looked_at else None
    assert final_grade(categories, assignments, scores).readiness_flag is expected


@st.composite
def full_courses(
    draw: st.DrawFn,
) -> tuple[list[CategoryPolicy], list[AssignmentPolicy], dict[str, Score]]:
    """Every category has released, non-excused work; integer weights summing to 100."""
    cuts = sorted(draw(st.lists(st.integers(0, 100), min_size=0, max_size=3)))
    bounds = [0, *cuts, 100]
    categories = [
        CategoryPolicy(f"c{i}", D(hi - lo)) for i, (lo, hi) in enumerate(itertools.pairwise(bounds))
    ]
    assignments = []
    scores: dict[str, Score] = {}
    for c in categories:
        for j in range(draw(st.integers(1, 3))):
            a = AssignmentPolicy(
                f"{c.slug}-{j}",
                "t",
                c.slug,
                draw(st.integers(1, 20_000).map(lambda n: Decimal(n).scaleb(-2))),
                draw(st.one_of(st.just(D(0)), two_places)),
                released=True,
            )
            assignments.append(a)
            if draw(st.booleans()):
                scores[a.slug] = Score(draw(points_up_to(a.max_points + a.extra_credit_points)))
    return categories, assignments, scores


@settings(max_examples=300)
@given(full_courses())
def test_when_every_category_counts_with_weights_summing_to_100_it_is_the_weighted_sum(course):
    categories, assignments, scores = course
    report = final_grade(categories, assignments, scores)
    weighted = Fraction(0)
    for c in categories:
        grade = report.category(c.slug)
        assert grade.counted is (c.weight > 0)
        weighted += Fraction(c.weight) * Fraction(grade.points) * 100 / Fraction(grade.max_points)
    assert report.final_percent == report.base_percent == g.round_percent(weighted / 100)


@given(
    maximum=st.decimals(min_value=0, max_value=200, places=2),
    extra=st.decimals(min_value=0, max_value=20, places=2),
    points=st.one_of(st.none(), st.decimals(min_value=-50, max_value=300, places=2)),
    excused=st.booleans(),
)
def test_one_assignments_grade_is_what_the_report_says_of_it(maximum, extra, points, excused):
    """assignment_grade (every surface's cell) agrees with final_grade's report once released."""
    policy = AssignmentPolicy(
        slug="hw1",
        title="HW1",
        category="homework",
        max_points=maximum,
        extra_credit_points=extra,
        released=True,
    )
    score = Score(points=points, excused=excused)
    report = final_grade(
        [CategoryPolicy(slug="homework", weight=Decimal(100))], [policy], {"hw1": score}
    )
    assert g.assignment_grade(policy, score) == report.assignment("hw1")
