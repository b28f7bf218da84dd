"""Loading a course from its config file: ``course_load`` and the :class:`LoadReport` it gives.

The write goes one kind of row at a time (the course, its sections, categories, assignments
with their questions), then removes what the file no longer lists, dependents first; every
step counts into one :class:`_Tally`, which also notes the assignments whose scoring changed
(``courses.hooks.assignments_changed`` names them, so that grading recomputes their grades).
"""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from django.db import IntegrityError, models, transaction
from django.db.models.deletion import ProtectedError, RestrictedError
from django.utils import timezone

from courses import config as course_config
from courses import deadlines
from courses.hooks import assignments_changed
from courses.models import Assignment, Category, ChangeSource, Course, Question, Section
from courses.services.course_export import course_export
from courses.services.reporting import FileRefused, plural
from courses.services.settings import changes_record
from portal.errors import ApplicationError

M = TypeVar("M", bound=models.Model)


class CourseConfigRefused(FileRefused):
    """A course config refused whole; ``problems`` has one ``<key path>: <reason>`` per line."""

    code = "invalid_config"


@dataclass(frozen=True)
class LoadReport:
    """What a load did. The counts are rows (the course, its sections, categories, assignments
    and questions); ``deleted`` includes questions removed with their assignment."""

    course_slug: str
    sections: int
    categories: int
    assignments: int
    questions: int
    created: int
    updated: int
    deleted: int
    unchanged: int

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.deleted)

    def summary(self) -> str:
        return (
            f"Course {self.course_slug}: {plural(self.sections, 'section')}, "
            f"{plural(self.categories, 'category', 'categories')}, "
            f"{plural(self.assignments, 'assignment')}, {plural(self.questions, 'question')} "
            f"(created {self.created}, updated {self.updated}, deleted {self.deleted}, "
            f"unchanged {self.unchanged})"
        )


@dataclass
class _Tally:
    created: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    # Assignments whose points or questions changed (new ones included).
    rescored: set[int] = field(default_factory=set)
    # (object, field, old, new) of every value an existing row changed: the change log's.
    changes: list[tuple[str, str, Any, Any]] = field(default_factory=list)


@dataclass
class _Rows:
    """The course's rows by their keys: those the database held when the load began, and those
    each step writes."""

    sections: dict[str, Section]
    categories: dict[str, Category]
    assignments: dict[str, Assignment]
    questions: dict[tuple[int, str], Question]  # (assignment id, question slug)

    @classmethod
    def of(cls, course: Course) -> _Rows:
        return cls(
            sections={s.code: s for s in Section.objects.filter(course=course)},
            categories={c.slug: c for c in Category.objects.filter(course=course)},
            assignments={a.slug: a for a in Assignment.objects.filter(course=course)},
            questions={
                (q.assignment_id, q.slug): q
                for q in Question.objects.filter(assignment__course=course)
            },
        )


# The rows a config owns; deleting one may take only these with it.
_CONFIG_MODELS = frozenset(m._meta.label for m in (Section, Category, Assignment, Question))


class CourseChangedInPortal(ApplicationError):
    """The course was changed in the portal since its last load: loading the file would undo
    those changes. ``diff`` is a unified diff of the course's export, as recorded at that load
    (``---``) against the course now (``+++``): the lines with ``+`` are what the portal
    changed."""

    code = "course_changed_in_portal"
    status = 409

    def __init__(self, *, course: Course, current: str) -> None:
        self.diff = "".join(
            difflib.unified_diff(
                course.loaded_toml.splitlines(keepends=True),
                current.splitlines(keepends=True),
                fromfile=f"{course.slug} as loaded from {course.loaded_from}",
                tofile=f"{course.slug} as the portal holds it now",
            )
        )
        when = (
            "an unknown date"
            if course.loaded_at is None
            else f"{course.loaded_at.astimezone(deadlines.zone(course.timezone)):%Y-%m-%d %H:%M %Z}"
        )
        super().__init__(
            f"Course {course.slug} was changed in the portal since its last load on {when}; "
            f"export it with export_course, merge, or rerun with --force to overwrite."
        )


def course_load(*, path: Path, force: bool = False) -> LoadReport:
    """Creates or updates the course described by the config file at ``path``.

    Rows are matched by their keys (course slug, section code, category and assignment slug,
    question slug within its assignment) and saved only where a value differs. Rows the file no
    longer lists are deleted, unless something else still refers to them: then the whole load
    is refused, naming them, and nothing is written.

    The course's export is recorded at each load (``Course.loaded_toml``, written only where it
    differs). Over a course whose export no longer matches that record, changed in the portal
    since, the load is refused with :class:`CourseChangedInPortal` unless ``force``."""
    try:
        cfg = course_config.read_config(path)
    except course_config.ConfigError as exc:
        raise CourseConfigRefused(exc.problems) from None
    with transaction.atomic():
        before = Course.objects.select_for_update().filter(slug=cfg.course.slug).first()
        if before is not None and before.loaded_toml and not force:
            current = course_export(course=before)
            if current != before.loaded_toml:
                raise CourseChangedInPortal(course=before, current=current)
        report = _course_write(cfg)
        _load_record(slug=report.course_slug, path=path)
        return report


def _load_record(*, slug: str, path: Path) -> None:
    """Records the course as this load left it, where the record differs: nothing is written
    by a load that changes nothing (``loaded_at`` is the last load that wrote)."""
    course = Course.objects.get(slug=slug)
    source = path.resolve()
    text = course_export(course=course, base_dir=source.parent)
    if (text, str(source)) != (course.loaded_toml, course.loaded_from):
        Course.objects.filter(pk=course.pk).update(
            loaded_toml=text, loaded_from=str(source), loaded_at=timezone.now()
        )


def _course_write(cfg: course_config.CourseConfig) -> LoadReport:
    tally = _Tally()
    course = _course_upsert(cfg.course, tally)
    rows = _Rows.of(course)
    existing = {a.pk for a in rows.assignments.values()}
    _sections_upsert(course, cfg.sections, rows, tally)
    _categories_upsert(course, cfg.categories, rows, tally)
    for position, item in enumerate(cfg.assignments):
        assignment = _assignment_upsert(course, item, position, rows, tally)
        _questions_upsert(assignment, item.questions, rows, tally)
    problems: list[str] = []
    for row, name in _unlisted(cfg, rows):
        if _delete(row, name, tally, problems) and isinstance(row, Question):
            tally.rescored.add(row.assignment_id)
    if problems:
        raise CourseConfigRefused(problems)  # rolls the whole load back
    if rescored := sorted(tally.rescored & existing):  # new assignments have no grades yet
        assignments_changed.send(sender=Assignment, assignment_ids=rescored)
    if tally.changes:
        changes_record(
            course=course,
            by_id=None,
            at=timezone.now(),
            items=tally.changes,
            source=ChangeSource.LOAD_COURSE,
        )
    return LoadReport(
        course_slug=course.slug,
        sections=len(cfg.sections),
        categories=len(cfg.categories),
        assignments=len(cfg.assignments),
        questions=sum(len(a.questions) for a in cfg.assignments),
        created=tally.created,
        updated=tally.updated,
        deleted=tally.deleted,
        unchanged=tally.unchanged,
    )


def _course_upsert(head: course_config.CourseSettings, tally: _Tally) -> Course:
    course = Course.objects.select_for_update().filter(slug=head.slug).first()
    return _upsert(
        Course,
        course,
        {
            "slug": head.slug,
            "title": head.title,
            "term": head.term,
            "timezone": head.timezone,
            "registration_ends": head.registration_ends,
            "regrade_days": head.regrade_days,
            "links": course_config.links_json(head.links),
            "waitlisted_may_submit": head.waitlisted_may_submit,
            "groups_mix_levels": head.groups_mix_levels,
            "extension_reference_pattern": head.extension_reference_pattern,
        },
        tally,
        label="course",
    )


def _sections_upsert(
    course: Course, items: list[course_config.SectionConfig], rows: _Rows, tally: _Tally
) -> None:
    for section in items:
        rows.sections[section.code] = _upsert(
            Section,
            rows.sections.get(section.code),
            {
                "course_id": course.pk,
                "code": section.code,
                "level": section.level,
                "capacity": section.capacity,
                "links": course_config.links_json(section.links),
            },
            tally,
            label=f"section {section.code}",
        )


def _categories_upsert(
    course: Course, items: list[course_config.CategoryConfig], rows: _Rows, tally: _Tally
) -> None:
    for position, category in enumerate(items):
        rows.categories[category.slug] = _upsert(
            Category,
            rows.categories.get(category.slug),
            {
                "course_id": course.pk,
                "slug": category.slug,
                "weight": category.weight,
                "bonus": category.bonus,
                "position": position,
            },
            tally,
            label=f"category {category.slug}",
        )


def _assignment_upsert(
    course: Course,
    item: course_config.AssignmentConfig,
    position: int,
    rows: _Rows,
    tally: _Tally,
) -> Assignment:
    grader = item.autograder or course_config.AutograderConfig.model_construct(
        bundle="", queue="cpu", timeout_s=600, memory_mb=768, image="", cpus=1, network=False
    )
    before = rows.assignments.get(item.slug)
    old_points = None if before is None else before.points
    row = rows.assignments[item.slug] = _upsert(
        Assignment,
        before,
        {
            "course_id": course.pk,
            "slug": item.slug,
            "title": item.title,
            "category_id": rows.categories[item.category].pk,
            "position": position,
            "release_at": item.release_at,
            "due_at": item.due_at,
            "grace_days": item.grace_days,
            "after_grace": item.after_grace,
            "collaboration": item.collaboration,
            "anonymous_grading": item.anonymous_grading,
            "readiness_threshold": item.readiness_threshold,
            "points": item.points,
            "group": item.group,
            "group_min": item.group_min,
            "group_max": item.group_max,
            "max_upload_mb": item.max_upload_mb,
            "autograder_bundle": grader.bundle,
            "autograder_queue": grader.queue,
            "autograder_timeout_s": grader.timeout_s,
            "autograder_memory_mb": grader.memory_mb,
            "autograder_image": grader.image,
            "autograder_cpus": grader.cpus,
            "autograder_network": grader.network,
            "similarity_starter": item.similarity.starter if item.similarity else "",
        },
        tally,
        label=f"assignment {item.slug}",
    )
    if row.points != old_points:
        tally.rescored.add(row.pk)
    return row


def _questions_upsert(
    assignment: Assignment,
    items: list[course_config.QuestionConfig],
    rows: _Rows,
    tally: _Tally,
) -> None:
    for position, question in enumerate(items):
        key = (assignment.pk, question.slug)
        before = rows.questions.get(key)
        scoring = None if before is None else _question_scoring(before)
        rows.questions[key] = _upsert(
            Question,
            before,
            {
                "assignment_id": assignment.pk,
                "slug": question.slug,
                "title": question.title,
                "points": question.points,
                "tests": list(question.tests),
                "undergraduate": question.undergraduate,
                "graduate": question.graduate,
                "position": position,
            },
            tally,
            label=f"question {assignment.slug}/{question.slug}",
        )
        if scoring != _question_scoring(rows.questions[key]):
            tally.rescored.add(assignment.pk)


def _question_scoring(question: Question) -> tuple[Any, ...]:
    """What of a question its grades depend on: its points, its tests and their order."""
    return (question.points, list(question.tests), question.position)


def _unlisted(cfg: course_config.CourseConfig, rows: _Rows) -> list[tuple[models.Model, str]]:
    """The rows the file no longer lists, each with its key path, in the order they go:
    dependents first (questions, assignments, then categories and sections). The questions of
    an unlisted assignment are not named: they go with it."""
    listed_assignments = {a.slug for a in cfg.assignments}
    listed_questions = {
        (rows.assignments[a.slug].pk, q.slug) for a in cfg.assignments for q in a.questions
    }
    listed_by_id = {rows.assignments[slug].pk: slug for slug in listed_assignments}
    listed_categories = {c.slug for c in cfg.categories}
    listed_sections = {s.code for s in cfg.sections}
    return [
        *(
            (q_row, f"assignments[{listed_by_id[owner]}].questions[{q_row.slug}]")
            for (owner, slug), q_row in rows.questions.items()
            if owner in listed_by_id and (owner, slug) not in listed_questions
        ),
        *(
            (a_row, f"assignments[{slug}]")
            for slug, a_row in rows.assignments.items()
            if slug not in listed_assignments
        ),
        *(
            (c_row, f"categories[{slug}]")
            for slug, c_row in rows.categories.items()
            if slug not in listed_categories
        ),
        *(
            (s_row, f"sections[{code}]")
            for code, s_row in rows.sections.items()
            if code not in listed_sections
        ),
    ]


def _upsert(
    model: type[M], row: M | None, values: dict[str, Any], tally: _Tally, *, label: str = ""
) -> M:
    """Creates the row, or saves just the fields that differ, or leaves it alone. The values
    an existing row changes go to the change log as ``label``'s (ids and positions left out)."""
    if row is None:
        tally.created += 1
        return model._default_manager.create(**values)
    changed = [name for name, value in values.items() if getattr(row, name) != value]
    if not changed:
        tally.unchanged += 1
        return row
    tally.changes += [
        (label, name, getattr(row, name), values[name])
        for name in changed
        if label and not name.endswith("_id") and name != "position"
    ]
    for name in changed:
        setattr(row, name, values[name])
    row.save(update_fields=changed)
    tally.updated += 1
    return row


def _delete(row: models.Model, name: str, tally: _Tally, problems: list[str]) -> bool:
    """Deletes a row the file no longer lists (True), or notes why it cannot go (False).

    Refused where something protects it, and where deleting it would take anything beyond the
    config's own rows with it (an extension, a submission, a grade): removing an assignment
    from the file must never silently delete students' work."""
    refusal = f"{name}: is no longer in the file but cannot be deleted"
    try:
        with transaction.atomic():
            _, per_model = row.delete()
    except (ProtectedError, RestrictedError) as exc:
        blockers = (
            exc.protected_objects if isinstance(exc, ProtectedError) else exc.restricted_objects
        )
        problems.append(f"{refusal}: still referred to by {_describe(blockers)}")
        return False
    except IntegrityError as exc:
        problems.append(f"{refusal}: {exc}")
        return False
    others = {label: n for label, n in per_model.items() if n and label not in _CONFIG_MODELS}
    if others:
        listed = ", ".join(f"{n} {label}" for label, n in sorted(others.items()))
        problems.append(f"{refusal}: that would also delete {listed}")
        return False
    tally.deleted += sum(per_model.values())
    return True


def _describe(objects: Iterable[models.Model], limit: int = 5) -> str:
    rows = list(objects)
    by_model = Counter(str(row._meta.verbose_name) for row in rows)
    kinds = ", ".join(plural(n, kind) for kind, n in sorted(by_model.items()))
    shown = "; ".join(sorted(str(row) for row in rows)[:limit])
    more = f"; and {len(rows) - limit} more" if len(rows) > limit else ""
    return f"{kinds} ({shown}{more})"
