"""One grade truth: how a student's score on a question is made. Pure: no Django, no models.

- **Questions** feed on the autograder's tests: a question's ``tests`` are fnmatch globs on
  the tests' names, and its *autograded part* is the sum of the scores of the tests it
  matches (a test feeds the first question, in the assignment's order, whose globs match it).
  An assignment without questions is one implicit question (slug ``""``) fed by the
  autograder's whole score. A question without ``tests`` gets no autograded part (it is
  graded by staff).
- **A question's score** = its autograded part + the staff's part (the points of the rubric
  items applied to the student's work, plus or minus, and an adjustment, plus or minus),
  never below 0 nor above the question's points; an explicit staff *override* replaces that
  sum (still within 0..points) until it is removed. With no autograded part, no rubric item
  applied, no adjustment and no override, the question is ungraded (None).
- **A result needs review** (and counts for nothing until staff accept it) when its numbers
  do not add up: a test above its ``max_score``, a total above the tests' maximum, a total
  above what the autograded questions can hold, or, where questions have tests, a test that
  feeds no question.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fnmatch import fnmatchcase

CENT = Decimal("0.01")
ZERO = Decimal(0)


@dataclass(frozen=True)
class QuestionSpec:
    """A question as scoring needs it. ``slug`` "" is an assignment's implicit question."""

    slug: str
    points: Decimal
    tests: tuple[str, ...] = ()


@dataclass(frozen=True)
class TestScore:
    """One autograder test's numbers."""

    __test__ = False  # not a pytest test class

    name: str
    score: float | None
    max_score: float | None


def cents(value: Decimal | float | int) -> Decimal:
    """Rounded to cents, half up, as grades are stored."""
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


def implicit(points: Decimal) -> list[QuestionSpec]:
    """The one question of an assignment without questions, fed by the whole score."""
    return [QuestionSpec(slug="", points=points, tests=("*",))]


def is_implicit(questions: Sequence[QuestionSpec]) -> bool:
    return len(questions) == 1 and questions[0].slug == ""


def feeding_question(name: str, questions: Sequence[QuestionSpec]) -> str | None:
    """The slug of the first question whose globs match a test's name (None: none does)."""
    for q in questions:
        if any(fnmatchcase(name, glob) for glob in q.tests):
            return q.slug
    return None


def autograded_parts(
    questions: Sequence[QuestionSpec], tests: Sequence[TestScore], total: float | None
) -> dict[str, Decimal | None]:
    """Each question's autograded part from one result. The implicit question takes the
    result's total; a question with tests takes the sum of the tests it is fed by (0 when
    none of them ran); a question without tests takes None. Negative parts count as 0."""
    if is_implicit(questions):
        return {"": None if total is None else max(cents(total), ZERO)}
    parts: dict[str, Decimal | None] = {q.slug: (ZERO if q.tests else None) for q in questions}
    for test in tests:
        slug = feeding_question(test.name, questions)
        if slug is not None and test.score is not None:
            parts[slug] = (parts[slug] or ZERO) + cents(test.score)
    return {slug: None if part is None else max(part, ZERO) for slug, part in parts.items()}


def autograded_maximum(questions: Sequence[QuestionSpec]) -> Decimal:
    """What the autograder can give at most: the points of the questions it feeds."""
    return sum((q.points for q in questions if q.tests), ZERO)


def review_reasons(
    questions: Sequence[QuestionSpec], tests: Sequence[TestScore], total: float | None
) -> list[str]:
    """Why a result's numbers cannot be trusted as they are (empty: they can)."""
    reasons = [
        f"test '{t.name}' scored {t.score:g} of at most {t.max_score:g}"
        for t in tests
        if t.score is not None and t.max_score is not None and t.score > t.max_score
    ]
    maxima = [t.max_score for t in tests if t.max_score is not None]
    if total is not None and maxima and total > sum(maxima):
        reasons.append(f"the total {total:g} is above the tests' maximum {sum(maxima):g}")
    most = autograded_maximum(questions)
    if total is not None and most and cents(total) > most:
        reasons.append(
            f"the total {total:g} is above the {most.normalize():f} points the autograder feeds"
        )
    if not is_implicit(questions) and any(q.tests for q in questions):
        reasons += [
            f"test '{t.name}' feeds no question"
            for t in tests
            if feeding_question(t.name, questions) is None
        ]
    return reasons


def clamp(value: Decimal, points: Decimal) -> Decimal:
    return min(max(value, ZERO), points)


def question_points(
    *,
    points: Decimal,
    autograded: Decimal | None,
    adjustment: Decimal = ZERO,
    override: Decimal | None = None,
    rubric: Sequence[Decimal] = (),
) -> Decimal | None:
    """A question's score (see the module docstring); None while nothing grades it.
    ``rubric``: the points of the rubric items applied (an item applied grades the question,
    even one worth 0)."""
    if override is not None:
        return clamp(cents(override), points)
    if autograded is None and not adjustment and not rubric:
        return None
    staff = sum(rubric, ZERO) + adjustment
    return clamp(cents((autograded or ZERO) + staff), points)
