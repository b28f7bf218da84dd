"""The instructor's course settings (the settings page and the instructor console API): an
assignment's title, release, due date, grace days, after-grace policy, points and question
points; the categories and their weights; the course's regrade days and links. Each change is
kept as a :class:`~courses.models.ConfigChange` (who, when, the value before and after).

Every service here is the instructor's alone (a TA gets ``permission_denied``), checks every
value before writing any, and runs in one transaction: a refusal writes nothing.

A moved due date or grace period re-times the stored submissions (``courses.hooks``:
submissions count them first, then re-time them on :data:`~courses.hooks.deadlines_changed`);
changed points rescore the grades (:data:`~courses.hooks.assignments_changed`)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from django.db import transaction
from django.db.models import Count

from courses import deadlines, hooks
from courses.models import (
    AfterGrace,
    Assignment,
    Category,
    ChangeSource,
    ConfigChange,
    Course,
    Enrollment,
    Question,
    Role,
)
from portal.errors import ApplicationError, NotFound, PermissionDeniedError, ValidationFailed
from portal.numbers import plain

ASSIGNMENT_FIELDS = ("title", "release_at", "due_at", "grace_days", "after_grace", "points")
# The largest number the points columns hold (max_digits 8, 2 decimal places).
MAX_POINTS = Decimal("999999.99")
MAX_GRACE_DAYS = 365
MAX_REGRADE_DAYS = 365


def change_text(value: Any, tz: tzinfo) -> str | None:
    """A configuration value as the change log keeps it: times as ISO 8601 in the course's
    zone, numbers without trailing zeros, booleans as true/false, lists as JSON; None stays
    None (no value)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.astimezone(tz).isoformat()
    if isinstance(value, Decimal):
        return plain(value)
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def changes_record(
    *,
    course: Course,
    by_id: int | None,
    at: datetime,
    items: Sequence[tuple[str, str, Any, Any]],
    source: str = ChangeSource.PORTAL,
) -> list[ConfigChange]:
    """Writes one :class:`ConfigChange` per ``(object, field, old, new)``; one query."""
    tz = deadlines.zone(course.timezone)
    return ConfigChange.objects.bulk_create(
        ConfigChange(
            course=course,
            at=at,
            by_id=by_id,
            source=source,
            object=obj,
            field=name,
            old=change_text(old, tz),
            new=change_text(new, tz),
        )
        for obj, name, old, new in items
    )


def _require_instructor(enrollment: Enrollment, what: str) -> None:
    if enrollment.role != Role.INSTRUCTOR:
        raise PermissionDeniedError(f"Only the instructor changes {what}.")


def _refuse(problems: dict[str, list[str]]) -> None:
    if problems:
        message = " ".join(f"{name}: {' '.join(texts)}" for name, texts in problems.items())
        raise ValidationFailed(message, fields=problems)


# --- assignments -------------------------------------------------------------------------------


@dataclass(frozen=True)
class AssignmentUpdate:
    """What an assignment change did: the assignment as it is now, the change log's new rows,
    and how many stored submissions changed timing class (on time / grace / late)."""

    assignment: Assignment
    changes: list[ConfigChange] = field(default_factory=list)
    affected_submissions: int = 0


def _check_points(value: Any, name: str, problems: dict[str, list[str]]) -> None:
    if not isinstance(value, Decimal) or not value.is_finite():
        problems.setdefault(name, []).append("Give a number of points, like 10 or 12.5.")
    elif value < 0 or value > MAX_POINTS:
        problems.setdefault(name, []).append(f"Points go from 0 to {MAX_POINTS}.")
    elif value != value.quantize(Decimal("0.01")):
        problems.setdefault(name, []).append("Points have at most two decimal places.")


def _check_times(assignment: Assignment, new: Mapping[str, Any], say: Any) -> None:
    for name in ("release_at", "due_at"):
        value = new.get(name)
        if value is not None and (not isinstance(value, datetime) or value.tzinfo is None):
            say(name, "Give a date and time (read in the course's time zone).")
    if "due_at" in new and new["due_at"] is None:
        say("due_at", "An assignment needs a due date.")
    release = new.get("release_at", assignment.release_at)
    due = new.get("due_at", assignment.due_at)
    aware = [t for t in (release, due) if isinstance(t, datetime) and t.tzinfo is not None]
    if len(aware) == 2 and release >= due:
        say("due_at", "The due date must come after the release.")


def _check_assignment(assignment: Assignment, new: Mapping[str, Any]) -> dict[str, list[str]]:
    problems: dict[str, list[str]] = {}

    def say(name: str, text: str) -> None:
        problems.setdefault(name, []).append(text)

    for name in sorted(set(new) - set(ASSIGNMENT_FIELDS)):
        say(name, f"Unknown field: an assignment's settings are {', '.join(ASSIGNMENT_FIELDS)}.")
    title = new.get("title", assignment.title)
    if not isinstance(title, str) or not title.strip() or len(title) > 200:
        say("title", "Give a title of 1 to 200 characters.")
    _check_times(assignment, new, say)
    grace = new.get("grace_days", assignment.grace_days)
    if isinstance(grace, bool) or not isinstance(grace, int) or not 0 <= grace <= MAX_GRACE_DAYS:
        say("grace_days", f"Grace days are a whole number from 0 to {MAX_GRACE_DAYS}.")
    if new.get("after_grace", assignment.after_grace) not in AfterGrace.values:
        say("after_grace", f"After the grace period work is {' or '.join(AfterGrace.values)}.")
    if "points" in new:
        _check_points(new["points"], "points", problems)
    return problems


def _check_questions(
    assignment: Assignment,
    questions: Mapping[str, Question],
    points: Mapping[str, Any],
    problems: dict[str, list[str]],
) -> None:
    for slug, value in points.items():
        if slug not in questions:
            problems.setdefault("questions", []).append(
                f"'{slug}' is not a question of {assignment.title}."
            )
        else:
            _check_points(value, f"questions.{slug}.points", problems)


def _assignment_diff(
    assignment: Assignment,
    values: Mapping[str, Any],
    questions: Mapping[str, Question],
    question_points: Mapping[str, Any],
) -> tuple[list[tuple[str, str, Any, Any]], list[str], list[Question]]:
    """The change log's items, the assignment's changed fields, the questions to save (their
    new points set)."""
    items: list[tuple[str, str, Any, Any]] = []
    changed = [
        name
        for name in ASSIGNMENT_FIELDS
        if name in values and getattr(assignment, name) != values[name]
    ]
    items += [
        (f"assignment {assignment.slug}", n, getattr(assignment, n), values[n]) for n in changed
    ]
    dirty: list[Question] = []
    for slug, points in question_points.items():
        question = questions[slug]
        if question.points != points:
            items.append((f"question {assignment.slug}/{slug}", "points", question.points, points))
            question.points = points
            dirty.append(question)
    return items, changed, dirty


def assignment_settings_update(
    *,
    enrollment: Enrollment,
    assignment_slug: str,
    values: Mapping[str, Any],
    question_points: Mapping[str, Any] | None = None,
    now: datetime,
) -> AssignmentUpdate:
    """Changes an assignment's settings (``values``: any of :data:`ASSIGNMENT_FIELDS`; times
    aware) and its questions' points (``question_points``: slug → points). Values equal to the
    stored ones change nothing; a refusal (400 ``invalid`` with ``fields``) changes nothing."""
    _require_instructor(enrollment, "an assignment's settings")
    question_points = question_points or {}
    with transaction.atomic():
        assignment = (
            Assignment.objects.select_for_update(of=("self",))
            .select_related("course", "category")
            .filter(course_id=enrollment.course_id, slug=assignment_slug)
            .first()
        )
        if assignment is None:
            raise NotFound("There is no such assignment in this course.")
        questions = {q.slug: q for q in assignment.questions.all()}
        problems = _check_assignment(assignment, values)
        _check_questions(assignment, questions, question_points, problems)
        _refuse(problems)
        items, changed, changed_questions = _assignment_diff(
            assignment, values, questions, question_points
        )
        if not items:
            return AssignmentUpdate(assignment=assignment)

        retimes = "due_at" in changed or "grace_days" in changed
        affected = (
            hooks.retimed_count(
                assignment=assignment,
                due_at=values.get("due_at", assignment.due_at),
                grace_days=values.get("grace_days", assignment.grace_days),
            )
            if retimes
            else 0
        )
        for name in changed:
            setattr(assignment, name, values[name])
        if changed:
            assignment.save(update_fields=changed)
        if changed_questions:
            Question.objects.bulk_update(changed_questions, ["points"])
        written = changes_record(
            course=assignment.course, by_id=enrollment.user_id, at=now, items=items
        )
        if retimes:
            hooks.deadlines_changed.send(sender=Assignment, assignment_ids=[assignment.pk])
        if "points" in changed or changed_questions:
            hooks.assignments_changed.send(sender=Assignment, assignment_ids=[assignment.pk])
    return AssignmentUpdate(assignment=assignment, changes=written, affected_submissions=affected)


def assignment_timing_impact(
    *, enrollment: Enrollment, assignment: Assignment, due_at: datetime, grace_days: int
) -> int:
    """How many stored submissions a new due date / grace period would move to another timing
    class (the page asks to confirm such a change). A read, kept here beside the change."""
    _require_instructor(enrollment, "an assignment's settings")
    return hooks.retimed_count(assignment=assignment, due_at=due_at, grace_days=grace_days)


# --- categories --------------------------------------------------------------------------------


@dataclass(frozen=True)
class CategoryInput:
    slug: str
    weight: Decimal
    bonus: bool = False


def weights_sum_message(total: Decimal) -> str:
    shown = plain(total)
    return f"The weights of the graded categories add up to {shown}%, not 100%."


def categories_set(
    *, enrollment: Enrollment, items: Sequence[CategoryInput], now: datetime
) -> list[Category]:
    """The course's categories become exactly ``items``, in that order: weights and bonus
    flags change, new slugs are added, categories left out are removed. Refused (nothing
    written): the non-bonus weights not summing to 100 (400 ``weights_do_not_sum``), a
    category left out that still has assignments (400 ``category_in_use``), a repeated or
    malformed slug or a weight outside 0 to 100 (400 ``invalid``)."""
    _require_instructor(enrollment, "the categories")
    listed = _check_categories(items)
    with transaction.atomic():
        course = Course.objects.select_for_update().get(pk=enrollment.course_id)
        existing = {
            c.slug: c
            for c in Category.objects.filter(course=course).annotate(
                n_assignments=Count("assignments")
            )
        }
        dropped = [c for slug, c in existing.items() if slug not in listed]
        in_use = [c.slug for c in dropped if c.n_assignments]  # type: ignore[attr-defined]
        if in_use:
            many = len(in_use) > 1
            raise ApplicationError(
                f"The categor{'ies' if many else 'y'} {', '.join(in_use)} still "
                f"{'have' if many else 'has'} assignments: list {'them' if many else 'it'}, or "
                "move the assignments to another category first.",
                code="category_in_use",
            )
        changes: list[tuple[str, str, Any, Any]] = []
        for category in dropped:
            label = f"category {category.slug}"
            changes += [
                (label, "weight", category.weight, None),
                (label, "bonus", category.bonus, None),
            ]
            category.delete()
        for position, item in enumerate(items):
            changes += _category_write(course, existing.get(item.slug), item, position)
        if changes:
            changes_record(course=course, by_id=enrollment.user_id, at=now, items=changes)
    return list(Category.objects.filter(course_id=enrollment.course_id).order_by("position"))


def _check_categories(items: Sequence[CategoryInput]) -> set[str]:
    """The listed slugs; refuses a malformed or repeated slug, a weight out of range, and
    non-bonus weights that do not sum to 100."""
    problems: dict[str, list[str]] = {}
    seen: set[str] = set()
    for index, item in enumerate(items):
        where = f"categories[{index}]"
        if not re.fullmatch(r"[-a-zA-Z0-9_]{1,64}", item.slug):
            problems.setdefault(where, []).append(
                f"'{item.slug}' is not a category slug (letters, digits, - and _, at most 64)."
            )
        if item.slug in seen:
            problems.setdefault(where, []).append(f"'{item.slug}' is listed twice.")
        seen.add(item.slug)
        weight = item.weight
        if not isinstance(weight, Decimal) or not weight.is_finite() or not 0 <= weight <= 100:
            problems.setdefault(where, []).append("A weight goes from 0 to 100 (percent).")
        elif weight != weight.quantize(Decimal("0.01")):
            problems.setdefault(where, []).append("A weight has at most two decimal places.")
    _refuse(problems)
    total = sum((item.weight for item in items if not item.bonus), Decimal(0))
    if total != 100:
        raise ApplicationError(weights_sum_message(total), code="weights_do_not_sum")
    return seen


def _category_write(
    course: Course, category: Category | None, item: CategoryInput, position: int
) -> list[tuple[str, str, Any, Any]]:
    label = f"category {item.slug}"
    if category is None:
        Category.objects.create(
            course=course, slug=item.slug, weight=item.weight, bonus=item.bonus, position=position
        )
        return [(label, "weight", None, item.weight), (label, "bonus", None, item.bonus)]
    changes: list[tuple[str, str, Any, Any]] = []
    dirty = []
    for name, value in (("weight", item.weight), ("bonus", item.bonus), ("position", position)):
        if getattr(category, name) != value:
            if name != "position":  # the order is not a setting the log needs
                changes.append((label, name, getattr(category, name), value))
            setattr(category, name, value)
            dirty.append(name)
    if dirty:
        category.save(update_fields=dirty)
    return changes


# --- the course: regrade days and links ---------------------------------------------------------


def _clean_links(
    links: Sequence[Mapping[str, Any]], problems: dict[str, list[str]]
) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    names: set[str] = set()
    for index, link in enumerate(links):
        where = f"links[{index}]"
        name = str(link.get("name") or "").strip()
        url = str(link.get("url") or "").strip()
        note = str(link.get("note") or "").strip()
        if not name or len(name) > 64:
            problems.setdefault(where, []).append("A link needs a name of 1 to 64 characters.")
        elif name in names:
            problems.setdefault(where, []).append(f"Two links are called '{name}'.")
        names.add(name)
        parts = urlsplit(url)
        if (
            parts.scheme not in ("http", "https")
            or not parts.netloc
            or any(c.isspace() for c in url)
        ):
            problems.setdefault(where, []).append(
                f"'{url}' is not an http(s) address, like https://example.edu/forum."
            )
        if len(note) > 500:
            problems.setdefault(where, []).append("A note has at most 500 characters.")
        out.append({"name": name, "url": url, "note": note})
    return out


def course_settings_update(
    *,
    enrollment: Enrollment,
    regrade_days: Any,
    links: Sequence[Mapping[str, Any]],
    now: datetime,
) -> Course:
    """The course's regrade window (days after grades are released) and its links
    (``[{"name", "url", "note"}]``, in order)."""
    _require_instructor(enrollment, "the course's settings")
    problems: dict[str, list[str]] = {}
    if (
        isinstance(regrade_days, bool)
        or not isinstance(regrade_days, int)
        or not 0 <= regrade_days <= MAX_REGRADE_DAYS
    ):
        problems["regrade_days"] = [
            f"Regrade days are a whole number from 0 to {MAX_REGRADE_DAYS}."
        ]
    cleaned = _clean_links(links, problems)
    _refuse(problems)
    with transaction.atomic():
        course = Course.objects.select_for_update().get(pk=enrollment.course_id)
        changes: list[tuple[str, str, Any, Any]] = []
        dirty = []
        for name, value in (("regrade_days", regrade_days), ("links", cleaned)):
            if getattr(course, name) != value:
                changes.append(("course", name, getattr(course, name), value))
                setattr(course, name, value)
                dirty.append(name)
        if dirty:
            course.save(update_fields=dirty)
            changes_record(course=course, by_id=enrollment.user_id, at=now, items=changes)
    return course
