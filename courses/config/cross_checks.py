"""The checks no single key can make: duplicates, references to categories, the order of
times, weights that sum to 100, group sizes with group work, question tests with an autograder. They read the raw TOML data,
skipping values of the wrong type (the schema reports those), so that every problem is found in
one go."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, tzinfo
from decimal import Decimal
from typing import Any

from pydantic_core import PydanticCustomError

from courses.config.errors import item_label
from courses.config.fields import to_instant


def _items(data: Any, key: str) -> list[dict[str, Any]]:
    value = data.get(key) if isinstance(data, dict) else None
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _duplicates(prefix: str, items: list[dict[str, Any]], key: str) -> list[str]:
    counts = Counter(item[key] for item in items if isinstance(item.get(key), str))
    return [
        f"{prefix}[{name}].{key}: duplicate {key} {name!r} (listed {n} times)"
        for name, n in counts.items()
        if n > 1
    ]


def _format_decimal(value: Decimal) -> str:
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def cross_checks(data: dict[str, Any], tz: tzinfo) -> list[str]:
    """What no single key can say: duplicates, references, order of times, weights, groups.

    Reads the raw data, skipping values of the wrong type (the schema reports those), so that
    every problem is found in one go."""
    problems: list[str] = []
    sections = _items(data, "sections")
    categories = _items(data, "categories")
    assignments = _items(data, "assignments")
    problems += _duplicates("sections", sections, "code")
    problems += _duplicates("categories", categories, "slug")
    problems += _duplicates("assignments", assignments, "slug")
    declared = [c["slug"] for c in categories if isinstance(c.get("slug"), str)]
    for index, assignment in enumerate(assignments):
        where = "assignments" + item_label("assignments", assignment, index)
        problems += _assignment_problems(where, assignment, declared, tz)
    problems += _weight_problems(categories)
    problems += _waitlisted_problems(data, assignments)
    return problems


def _waitlisted_problems(data: dict[str, Any], assignments: list[dict[str, Any]]) -> list[str]:
    """``[course] waitlisted_may_submit`` names assignments of this file."""
    course = data.get("course")
    named = course.get("waitlisted_may_submit") if isinstance(course, dict) else None
    if not isinstance(named, list):
        return []
    known = {a.get("slug") for a in assignments}
    unknown = [s for s in named if isinstance(s, str) and s not in known]
    return [
        f"course.waitlisted_may_submit: '{slug}' is not an assignment of this course"
        for slug in unknown
    ]


def _assignment_problems(
    where: str, assignment: dict[str, Any], declared: list[str], tz: tzinfo
) -> list[str]:
    """One assignment's: its questions, its category, its times, its group size."""
    problems = _question_problems(where, assignment)
    category = assignment.get("category")
    if isinstance(category, str) and category not in declared:
        known = ", ".join(declared) or "none are declared"
        problems.append(f"{where}.category: {category!r} is not a declared category ({known})")
    due, release = (
        _try_instant(assignment.get("due_at"), tz),
        _try_instant(assignment.get("release_at"), tz),
    )
    if due is not None and release is not None and due <= release:
        problems.append(
            f"{where}.due_at: must be after release_at "
            f"({due.astimezone(tz):%Y-%m-%d %H:%M %Z} is not after "
            f"{release.astimezone(tz):%Y-%m-%d %H:%M %Z})"
        )
    group = assignment.get("group")
    if "group_size" in assignment and group is not True:
        problems.append(f"{where}.group_size: only allowed with group = true")
    if group is True and "group_size" not in assignment:
        problems.append(f"{where}.group_size: required when group = true")
    return problems


def _question_problems(where: str, assignment: dict[str, Any]) -> list[str]:
    """Question slugs are unique; questions fed by tests need the assignment's autograder."""
    questions = _items(assignment, "questions")
    problems = _duplicates(f"{where}.questions", questions, "slug")
    if "autograder" in assignment:
        return problems
    for index, question in enumerate(questions):
        tests = question.get("tests")
        if isinstance(tests, list) and tests:  # an empty list feeds nothing
            label = item_label("questions", question, index)
            problems.append(
                f"{where}.questions{label}.tests: tests feed a question from the autograder; "
                "this assignment has none"
            )
    return problems


def _weight_problems(categories: list[dict[str, Any]]) -> list[str]:
    """The weights of the non-bonus categories must sum to 100."""
    weights: list[Decimal] = []
    for category in categories:
        weight, bonus = category.get("weight"), category.get("bonus", False)
        if isinstance(weight, bool) or not isinstance(weight, int | float):
            return []  # the schema reports the bad weight; no sum to speak of
        if bonus is not True:
            weights.append(Decimal(str(weight)))
    total = sum(weights, Decimal(0))
    if categories and total != 100:
        return [
            f"categories: the weights of the non-bonus categories sum to "
            f"{_format_decimal(total)}, not 100"
        ]
    return []


def _try_instant(value: Any, tz: tzinfo) -> datetime | None:
    try:
        return to_instant(value, tz)
    except PydanticCustomError:
        return None
