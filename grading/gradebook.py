"""Final grades, the syllabus's way. Pure functions: no Django, no models, standard library only.

The syllabus (CS 4803/7643): problem sets and homeworks 80%, final project 20%, class
participation a 3% bonus; PS0 is required but not counted, and a PS0 score at or below 75% flags a
student who may not be prepared; extra-credit questions for 4803 are required for 7643.

The caller (a selector) turns the course's rows into plain values: ``CategoryPolicy`` per
category, ``AssignmentPolicy`` per assignment *at the student's level* (``max_points`` is the sum
of the questions required at that level, ``extra_credit_points`` the sum of the extra-credit ones;
``courses.selectors`` already computes both), and a ``Score`` per assignment slug. ``final_grade``
applies the rules below and returns a ``GradeReport``.

Rules (which side of each boundary is inclusive is stated where it matters):

1. **Only released grades count.** An assignment whose grades are not released
   (``released=False``) is left out of everything: its score, even if one exists, changes no
   percent, no flag, and it does not appear in ``GradeReport.assignments``.
2. **A released assignment with no score counts as 0** (no ``Score``, or ``Score(points=None)``):
   after the grace period a missing submission is a zero. It appears with ``points = 0`` and
   ``missing = True``.
3. **An excused assignment is left out of its category** (neither its points nor its maximum are
   added); it appears with ``points = None``, ``percent = None``, ``excused = True``. An excused
   score's points, if any, are ignored.
4. **Scores are clamped to** ``[0, max_points + extra_credit_points]`` (both ends inclusive): the
   policy never credits more than the syllabus allows nor takes away more than the assignment is
   worth. The clamped value is the one reported and counted.
5. **Assignment percent** = points / max_points * 100; ``None`` when ``max_points`` is 0 (an
   assignment made only of extra credit has no percent of its own, its points still count).
6. **Category percent** = Σ points / Σ max_points * 100 over its counted assignments (released and
   not excused), so assignments weigh by their points, as in a Canvas assignment group. Extra
   credit adds points beyond the maximum, so a category can exceed 100%. ``None`` when the
   category has no counted assignment or their maxima sum to 0.
7. **A category counts** (``counted = True``) when its weight is above 0 and its percent is not
   ``None``. A **weight-0 category (PS0) never counts**: its percent is reported, but it is
   neither in the numerator nor in the denominator below, so it can never change the final, not
   even when it is the only category with released grades.
8. **Base percent** = Σ weight * percent / Σ weight over the counted non-bonus categories: the
   percent *so far*. When every category counts and the weights sum to 100, this is the plain
   weighted sum Σ weight * percent / 100. ``None`` when no non-bonus category counts yet.
9. **Bonus** (categories with ``bonus=True``, class participation): each counted bonus category
   adds weight * min(percent, 100) / 100 points on top of the base percent, so it adds between
   0 and its weight (both inclusive); it is never negative and never lowers a grade. Bonus
   categories are not in the base percent's denominator.
10. **Final percent** = base percent + bonus, rounded once, from the exact values, to 2 places
    with ROUND_HALF_UP (80.125 → 80.13). All arithmetic before that is exact (``Fraction``), so
    ``base_percent + bonus_percent`` can differ from ``final_percent`` by 0.01. The final is not
    capped at 100: extra credit and the bonus can take it above. ``None`` while the base percent
    is ``None`` (no grades to speak of yet; a bonus alone is no grade).
11. **Readiness flag** (assignments with a ``readiness_threshold``, PS0): ``True`` when the
    student's percent on such an assignment is **at or below** the threshold (inclusive: the
    syllabus's "≤ 75%"; 75% flags, 75.01% does not), ``False`` when above. The comparison is exact
    (points * 100 ≤ threshold * max_points), not on the rounded percent. Only released, scored,
    not excused assignments with a positive maximum are looked at: ``None`` while PS0's grades
    are not released, or PS0 is ungraded (no score: a late PS0 is graded after registration) or
    excused. With several such assignments, ``True`` if any flags, else ``False`` if any was
    looked at, else ``None``.
12. **Waitlisted students** (``enrolled=False``): an assignment they did not hand in is neither
    missing nor counted (points ``None``, no zero), and there is no base or final percent until
    they are enrolled; what they do have a score for is shown, PS0's readiness flag included.

Displayed percents (assignment, category, base, bonus, final) are ``Decimal`` rounded to 2 places
with ROUND_HALF_UP; points are ``Decimal`` as given (after clamping).

Bad input is refused with ``ValueError``: a negative or non-finite weight, maximum, extra credit or
threshold, a duplicate slug, an assignment in an unknown category, a non-finite score. A score for
a slug that is not among the assignments is ignored.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Context, Decimal, Inexact, InvalidOperation
from fractions import Fraction
from functools import lru_cache

__all__ = [
    "AssignmentGrade",
    "AssignmentPolicy",
    "CategoryGrade",
    "CategoryPolicy",
    "GradeReport",
    "Score",
    "final_grade",
    "round_percent",
]

ZERO = Decimal(0)
HUNDRED = Fraction(100)


# --- inputs -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CategoryPolicy:
    """A grading category: ``weight`` is percent of the final grade (a bonus: percent on top)."""

    slug: str
    weight: Decimal
    bonus: bool = False


@dataclass(frozen=True, slots=True)
class AssignmentPolicy:
    """One assignment as it applies to one student (maxima at the student's level).

    ``released``: the assignment's grades are released to students; until then it counts for
    nothing. ``readiness_threshold``: a percent; a score at or below it flags the student."""

    slug: str
    title: str
    category: str
    max_points: Decimal
    extra_credit_points: Decimal = ZERO
    released: bool = False
    readiness_threshold: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Score:
    """A student's score on one assignment. ``points=None``: not graded (counts 0 once released)."""

    points: Decimal | None
    excused: bool = False


# --- outputs ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AssignmentGrade:
    slug: str
    title: str
    category: str
    points: Decimal | None  # counted points (clamped); 0 when missing; None when excused
    max_points: Decimal
    extra_credit_points: Decimal
    percent: Decimal | None  # None when excused or max_points is 0
    missing: bool  # released with no score: counted as 0
    excused: bool


@dataclass(frozen=True, slots=True)
class CategoryGrade:
    slug: str
    weight: Decimal
    bonus: bool
    points: Decimal  # over counted assignments, extra credit included
    max_points: Decimal
    percent: Decimal | None  # None when nothing counted yet
    counted: bool  # contributes to the final percent (weight > 0 and percent known)


@dataclass(frozen=True, slots=True)
class GradeReport:
    assignments: tuple[AssignmentGrade, ...]  # released assignments only, in the order given
    categories: tuple[CategoryGrade, ...]  # every category, in the order given
    base_percent: Decimal | None  # weighted percent of the non-bonus categories so far
    bonus_percent: Decimal  # points added by bonus categories
    final_percent: Decimal | None
    readiness_flag: bool | None

    def category(self, slug: str) -> CategoryGrade:
        for grade in self.categories:
            if grade.slug == slug:
                return grade
        raise KeyError(slug)

    def assignment(self, slug: str) -> AssignmentGrade:
        for grade in self.assignments:
            if grade.slug == slug:
                return grade
        raise KeyError(slug)


# --- arithmetic -------------------------------------------------------------------------------


def round_percent(value: Fraction | Decimal) -> Decimal:
    """``value`` rounded to 2 places, ROUND_HALF_UP (halves away from zero), exactly."""
    numerator, denominator = value.as_integer_ratio()
    return _round_ratio(numerator, denominator)


def _round_ratio(numerator: int, denominator: int) -> Decimal:
    """``numerator / denominator`` (``denominator`` > 0) rounded as :func:`round_percent`,
    in integers: floor(|x| * 100 + 1/2) = (200 |n| + d) // 2d hundredths, signed."""
    units = (abs(numerator) * 200 + denominator) // (2 * denominator)
    if numerator < 0 and units:
        units = -units
    return Decimal(units).scaleb(-2)


def _percent(points: Decimal, maximum: Fraction) -> Decimal:
    """Rule 5: points / maximum * 100, rounded, exactly, in integers (``maximum`` > 0)."""
    n, d = points.as_integer_ratio()
    return _round_ratio(n * maximum.denominator * 100, d * maximum.numerator)


def _policy_exact(assignment: AssignmentPolicy) -> tuple[Fraction, Fraction | None]:
    """An assignment policy's numbers checked and made exact, once per policy (a selector
    grades thousands of students with the same policies); a policy that cannot be a cache
    key (a value of a wrong type) is checked, and refused, uncached."""
    try:
        return _policy_exact_cached(assignment)
    except TypeError:
        return _policy_exact_checked(assignment)


@lru_cache(maxsize=4096)
def _policy_exact_cached(assignment: AssignmentPolicy) -> tuple[Fraction, Fraction | None]:
    return _policy_exact_checked(assignment)


def _policy_exact_checked(assignment: AssignmentPolicy) -> tuple[Fraction, Fraction | None]:
    name = f"assignment {assignment.slug!r}"
    maximum = _exact(f"{name} max_points", assignment.max_points)
    _exact(f"{name} extra_credit_points", assignment.extra_credit_points)
    threshold = (
        None
        if assignment.readiness_threshold is None
        else _exact(f"{name} readiness_threshold", assignment.readiness_threshold)
    )
    return maximum, threshold


# Decimal sums of points, exact: a sum that would need rounding raises instead (grades,
# with two decimals, never come near 60 digits).
_EXACT = Context(prec=60, traps=[Inexact, InvalidOperation])


def _exact_sum(total: Decimal, value: Decimal) -> Decimal:
    """``total + value``, refused rather than rounded."""
    return _EXACT.add(total, value)


def _exact(name: str, value: Decimal, *, allow_negative: bool = False) -> Fraction:
    if not isinstance(value, Decimal | int):
        raise ValueError(f"{name} must be a Decimal, got {value!r}")
    number = Decimal(value)
    if not number.is_finite():
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    fraction = Fraction(number)
    if fraction < 0 and not allow_negative:
        raise ValueError(f"{name} must not be negative, got {value!r}")
    return fraction


def _finite(name: str, value: Decimal) -> None:
    """What :func:`_exact` checks of a value that may be negative, without making it exact."""
    if not isinstance(value, Decimal | int):
        raise ValueError(f"{name} must be a Decimal, got {value!r}")
    if not Decimal(value).is_finite():
        raise ValueError(f"{name} must be a finite number, got {value!r}")


def _clamp(points: Decimal, maximum: Decimal, extra: Decimal) -> Decimal:
    """``points`` within ``[0, maximum + extra]``, keeping the Decimal as given when inside."""
    if points < 0:
        return ZERO
    top = maximum + extra
    return top if points > top else points


# --- the policy -------------------------------------------------------------------------------


@dataclass(slots=True)
class _Tally:
    """A category's counted assignments so far: exact sums, and the Decimals to report."""

    points_decimal: Decimal = ZERO
    maximum_decimal: Decimal = ZERO
    counted_assignments: int = 0

    def add(self, points: Decimal, max_points: Decimal) -> None:
        self.points_decimal = _exact_sum(self.points_decimal, points)
        self.maximum_decimal = _exact_sum(self.maximum_decimal, max_points)
        self.counted_assignments += 1

    def percent(self) -> Fraction | None:
        """Rule 6: Σ points / Σ max_points * 100; ``None`` when nothing counted or Σ max is 0."""
        if self.counted_assignments and self.maximum_decimal > 0:
            return Fraction(self.points_decimal) * HUNDRED / Fraction(self.maximum_decimal)
        return None


def final_grade(
    categories: Iterable[CategoryPolicy],
    assignments: Iterable[AssignmentPolicy],
    scores: Mapping[str, Score],
    *,
    enrolled: bool = True,
) -> GradeReport:
    """One student's grades under the rules in this module's docstring. A student not
    ``enrolled`` yet (waitlisted) is not charged for what they did not hand in (no missing
    zeros) and gets no final percent; what they have a score for is shown (their PS0 and its
    readiness flag)."""
    categories = tuple(categories)
    weights = _category_weights(categories)
    tallies = {slug: _Tally() for slug in weights}
    assignment_grades, readiness = _grade_assignments(
        tuple(assignments), weights, scores, tallies, enrolled=enrolled
    )
    percents = {category.slug: tallies[category.slug].percent() for category in categories}
    counted = _counted_categories(categories, weights, percents)
    counted_slugs = {category.slug for category, _, _ in counted}
    base = _base_percent(counted) if enrolled else None
    bonus = _bonus_percent(counted)
    return GradeReport(
        assignments=tuple(assignment_grades),
        categories=tuple(
            _category_grade(
                category,
                tallies[category.slug],
                percents[category.slug],
                counted=category.slug in counted_slugs,
            )
            for category in categories
        ),
        base_percent=None if base is None else round_percent(base),
        bonus_percent=round_percent(bonus),
        final_percent=None if base is None else round_percent(base + bonus),  # rule 10
        readiness_flag=any(readiness) if readiness else None,
    )


# --- assignments ------------------------------------------------------------------------------


def _grade_assignments(
    assignments: tuple[AssignmentPolicy, ...],
    weights: Mapping[str, Fraction],
    scores: Mapping[str, Score],
    tallies: Mapping[str, _Tally],
    *,
    enrolled: bool,
) -> tuple[list[AssignmentGrade], list[bool]]:
    """Every assignment checked; the released ones graded and added to their category's
    tally. Returns their grades and the readiness verdicts (rule 11) of those looked at."""
    seen: set[str] = set()
    grades: list[AssignmentGrade] = []
    readiness: list[bool] = []
    for assignment in assignments:
        maximum, threshold = _check_assignment(assignment, weights, seen, scores)
        if not assignment.released:
            continue  # rule 1: unreleased grades count for nothing and are not shown
        score = scores.get(assignment.slug)
        grade = _grade_assignment(
            assignment, score, maximum, tallies[assignment.category], enrolled=enrolled
        )
        flag = _readiness(grade, maximum, threshold)
        if flag is not None:
            readiness.append(flag)
        grades.append(grade)
    return grades, readiness


def _check_assignment(
    assignment: AssignmentPolicy,
    weights: Mapping[str, Fraction],
    seen: set[str],
    scores: Mapping[str, Score],
) -> tuple[Fraction, Fraction | None]:
    """Refuse bad input (see the module docstring); the exact maximum and threshold."""
    name = f"assignment {assignment.slug!r}"
    if assignment.slug in seen:
        raise ValueError(f"{name} appears twice")
    seen.add(assignment.slug)
    if assignment.category not in weights:
        raise ValueError(f"{name} is in unknown category {assignment.category!r}")
    maximum, threshold = _policy_exact(assignment)
    score = scores.get(assignment.slug)
    if score is not None and score.points is not None:
        _finite(f"{name} score", score.points)
    return maximum, threshold


def _counted_points(assignment: AssignmentPolicy, score: Score | None) -> Decimal | None:
    """Rules 2 to 4: ``None`` when excused, 0 when missing, else the clamped score."""
    if score is not None and score.excused:
        return None
    if score is None or score.points is None:
        return ZERO
    return _clamp(score.points, assignment.max_points, assignment.extra_credit_points)


def assignment_grade(
    assignment: AssignmentPolicy, score: Score | None, *, enrolled: bool = True
) -> AssignmentGrade:
    """One assignment's grade as :func:`final_grade` reports it once released (rules 2 to 5),
    whether or not it is released: for staff, who see every grade."""
    return _grade_assignment(
        assignment, score, Fraction(assignment.max_points), _Tally(), enrolled=enrolled
    )


def _grade_assignment(
    assignment: AssignmentPolicy,
    score: Score | None,
    maximum: Fraction,
    tally: _Tally,
    *,
    enrolled: bool = True,
) -> AssignmentGrade:
    """A released assignment's grade; its counted points go into ``tally``. Nothing handed
    in by a student not enrolled yet is neither missing nor counted."""
    excused = score is not None and score.excused
    missing = not excused and (score is None or score.points is None)
    points = _counted_points(assignment, score)
    if missing and not enrolled:
        missing, points = False, None
    percent: Decimal | None = None
    if points is not None:
        tally.add(points, assignment.max_points)
        if maximum > 0:
            percent = _percent(points, maximum)  # rule 5
    return AssignmentGrade(
        slug=assignment.slug,
        title=assignment.title,
        category=assignment.category,
        points=points,
        max_points=assignment.max_points,
        extra_credit_points=assignment.extra_credit_points,
        percent=percent,
        missing=missing,
        excused=excused,
    )


def _readiness(
    grade: AssignmentGrade, maximum: Fraction, threshold: Fraction | None
) -> bool | None:
    """Rule 11 for one assignment: whether it flags the student; ``None`` when not looked at."""
    if threshold is None or grade.points is None or grade.missing or not maximum > 0:
        return None
    return Fraction(grade.points) * HUNDRED <= threshold * maximum


# --- categories -------------------------------------------------------------------------------


def _category_weights(categories: tuple[CategoryPolicy, ...]) -> dict[str, Fraction]:
    """Each category's exact weight, by slug; refuses a repeated slug or a bad weight."""
    weights: dict[str, Fraction] = {}
    for category in categories:
        if category.slug in weights:
            raise ValueError(f"category {category.slug!r} appears twice")
        weights[category.slug] = _exact(f"category {category.slug!r} weight", category.weight)
    return weights


_Counted = tuple[CategoryPolicy, Fraction, Fraction]  # category, exact weight, exact percent


def _counted_categories(
    categories: tuple[CategoryPolicy, ...],
    weights: Mapping[str, Fraction],
    percents: Mapping[str, Fraction | None],
) -> list[_Counted]:
    """Rule 7: the categories that count, those with a weight above 0 and a known percent."""
    counted: list[_Counted] = []
    for category in categories:
        weight, percent = weights[category.slug], percents[category.slug]
        if weight > 0 and percent is not None:
            counted.append((category, weight, percent))
    return counted


def _category_grade(
    category: CategoryPolicy, tally: _Tally, percent: Fraction | None, *, counted: bool
) -> CategoryGrade:
    return CategoryGrade(
        slug=category.slug,
        weight=category.weight,
        bonus=category.bonus,
        points=tally.points_decimal,
        max_points=tally.maximum_decimal,
        percent=None if percent is None else round_percent(percent),
        counted=counted,
    )


def _base_percent(counted: list[_Counted]) -> Fraction | None:
    """Rule 8: Σ weight * percent / Σ weight over the counted non-bonus categories."""
    weighted_sum = Fraction(0)
    weight_sum = Fraction(0)
    for category, weight, percent in counted:
        if not category.bonus:
            weighted_sum += weight * percent
            weight_sum += weight
    return weighted_sum / weight_sum if weight_sum > 0 else None


def _bonus_percent(counted: list[_Counted]) -> Fraction:
    """Rule 9: each counted bonus category adds weight * min(percent, 100) / 100."""
    bonus = Fraction(0)
    for category, weight, percent in counted:
        if category.bonus:
            bonus += weight * min(percent, HUNDRED) / HUNDRED
    return bonus
