"""Every write to courses: loading a course from its config, importing a roster, project
groups, Dean of Students extensions.

Each service is keyword-only and runs in one transaction: it either does all of its work or,
refusing, none of it. A run that finds nothing to change writes nothing at all.
"""

from __future__ import annotations

import csv
import io
import re
import secrets
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, models, transaction
from django.db.models import Count
from django.db.models.deletion import ProtectedError, RestrictedError

from courses import config as course_config
from courses.models import (
    EXTENSION_REFERENCE_REGEX,
    STAFF_ROLES,
    SUBMITTING_ROLES,
    Assignment,
    Category,
    Course,
    Enrollment,
    Extension,
    GroupMembership,
    ProjectGroup,
    Question,
    Role,
    Section,
)
from courses.selectors import course_student_get
from portal.errors import ApplicationError, NotFound, PermissionDeniedError

M = TypeVar("M", bound=models.Model)


class CourseConfigRefused(ApplicationError):
    """A course config refused whole; ``problems`` has one ``<key path>: <reason>`` per line."""

    code = "invalid_config"

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


class RosterRefused(ApplicationError):
    """A roster refused whole; ``problems`` has one ``line N: <reason>`` (or similar) each."""

    code = "invalid_roster"

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


def _plural(n: int, word: str, plural: str = "") -> str:
    return f"{n} {word if n == 1 else plural or word + 's'}"


@dataclass
class _Tally:
    created: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0


# --- load_course -----------------------------------------------------------------------------


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
            f"Course {self.course_slug}: {_plural(self.sections, 'section')}, "
            f"{_plural(self.categories, 'category', 'categories')}, "
            f"{_plural(self.assignments, 'assignment')}, {_plural(self.questions, 'question')} "
            f"(created {self.created}, updated {self.updated}, deleted {self.deleted}, "
            f"unchanged {self.unchanged})"
        )


# The rows a config owns; deleting one may take only these with it.
_CONFIG_MODELS = frozenset(m._meta.label for m in (Section, Category, Assignment, Question))


def course_load(*, path: Path) -> LoadReport:
    """Creates or updates the course described by the config file at ``path``.

    Rows are matched by their keys (course slug, section code, category and assignment slug,
    question slug within its assignment) and saved only where a value differs. Rows the file no
    longer lists are deleted, unless something else still refers to them: then the whole load
    is refused, naming them, and nothing is written."""
    try:
        cfg = course_config.read_config(path)
    except course_config.ConfigError as exc:
        raise CourseConfigRefused(exc.problems) from None
    with transaction.atomic():
        return _course_write(cfg)


def _course_write(cfg: course_config.CourseConfig) -> LoadReport:
    tally = _Tally()
    problems: list[str] = []
    head = cfg.course
    course = Course.objects.select_for_update().filter(slug=head.slug).first()
    course = _upsert(
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
        },
        tally,
    )
    sections = {s.code: s for s in Section.objects.filter(course=course)}
    categories = {c.slug: c for c in Category.objects.filter(course=course)}
    assignments = {a.slug: a for a in Assignment.objects.filter(course=course)}
    questions = {
        (q.assignment_id, q.slug): q for q in Question.objects.filter(assignment__course=course)
    }

    for section in cfg.sections:
        sections[section.code] = _upsert(
            Section,
            sections.get(section.code),
            {
                "course_id": course.pk,
                "code": section.code,
                "level": section.level,
                "capacity": section.capacity,
                "links": course_config.links_json(section.links),
            },
            tally,
        )
    for position, category in enumerate(cfg.categories):
        categories[category.slug] = _upsert(
            Category,
            categories.get(category.slug),
            {
                "course_id": course.pk,
                "slug": category.slug,
                "weight": category.weight,
                "bonus": category.bonus,
                "position": position,
            },
            tally,
        )
    kept_questions: set[tuple[int, str]] = set()
    for position, item in enumerate(cfg.assignments):
        grader = item.autograder or course_config.AutograderConfig.model_construct(
            bundle="", queue="cpu", timeout_s=600, memory_mb=768
        )
        assignment = _upsert(
            Assignment,
            assignments.get(item.slug),
            {
                "course_id": course.pk,
                "slug": item.slug,
                "title": item.title,
                "category_id": categories[item.category].pk,
                "position": position,
                "release_at": item.release_at,
                "due_at": item.due_at,
                "grace_days": item.grace_days,
                "after_grace": item.after_grace,
                "collaboration": item.collaboration,
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
            },
            tally,
        )
        assignments[item.slug] = assignment
        for q_position, question in enumerate(item.questions):
            key = (assignment.pk, question.slug)
            kept_questions.add(key)
            questions[key] = _upsert(
                Question,
                questions.get(key),
                {
                    "assignment_id": assignment.pk,
                    "slug": question.slug,
                    "title": question.title,
                    "points": question.points,
                    "undergraduate": question.undergraduate,
                    "graduate": question.graduate,
                    "position": q_position,
                },
                tally,
            )

    # Removals, dependents first: questions, assignments, then categories and sections.
    listed_assignments = {a.slug for a in cfg.assignments}
    by_id = {a.pk: a for a in assignments.values()}
    for key, q_row in questions.items():
        owner = by_id[q_row.assignment_id]
        if key not in kept_questions and owner.slug in listed_assignments:
            name = f"assignments[{owner.slug}].questions[{q_row.slug}]"
            _delete(q_row, name, tally, problems)
    for slug, a_row in assignments.items():
        if slug not in listed_assignments:
            _delete(a_row, f"assignments[{slug}]", tally, problems)
    listed_categories = {c.slug for c in cfg.categories}
    for slug, c_row in categories.items():
        if slug not in listed_categories:
            _delete(c_row, f"categories[{slug}]", tally, problems)
    listed_sections = {s.code for s in cfg.sections}
    for code, s_row in sections.items():
        if code not in listed_sections:
            _delete(s_row, f"sections[{code}]", tally, problems)
    if problems:
        raise CourseConfigRefused(problems)  # rolls the whole load back

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


def _upsert(model: type[M], row: M | None, values: dict[str, Any], tally: _Tally) -> M:
    """Creates the row, or saves just the fields that differ, or leaves it alone."""
    if row is None:
        tally.created += 1
        return model._default_manager.create(**values)
    changed = [name for name, value in values.items() if getattr(row, name) != value]
    if not changed:
        tally.unchanged += 1
        return row
    for name in changed:
        setattr(row, name, values[name])
    row.save(update_fields=changed)
    tally.updated += 1
    return row


def _delete(row: models.Model, name: str, tally: _Tally, problems: list[str]) -> None:
    """Deletes a row the file no longer lists, or notes why it cannot go.

    Refused where something protects it, and where deleting it would take anything beyond the
    config's own rows with it (an extension, a submission, a grade): removing an assignment
    from the file must never silently delete students' work."""
    try:
        with transaction.atomic():
            _, per_model = row.delete()
    except (ProtectedError, RestrictedError) as exc:
        blockers = (
            exc.protected_objects if isinstance(exc, ProtectedError) else exc.restricted_objects
        )
        problems.append(
            f"{name}: is no longer in the file but cannot be deleted: still referred to by "
            f"{_describe(blockers)}"
        )
        return
    except IntegrityError as exc:
        problems.append(f"{name}: is no longer in the file but cannot be deleted: {exc}")
        return
    others = {label: n for label, n in per_model.items() if n and label not in _CONFIG_MODELS}
    if others:
        listed = ", ".join(f"{n} {label}" for label, n in sorted(others.items()))
        problems.append(
            f"{name}: is no longer in the file but cannot be deleted: that would also delete "
            f"{listed}"
        )
        return
    tally.deleted += sum(per_model.values())


def _describe(objects: Iterable[models.Model], limit: int = 5) -> str:
    rows = list(objects)
    by_model = Counter(str(row._meta.verbose_name) for row in rows)
    kinds = ", ".join(f"{n} {kind}{'' if n == 1 else 's'}" for kind, n in sorted(by_model.items()))
    shown = "; ".join(sorted(str(row) for row in rows)[:limit])
    more = f"; and {len(rows) - limit} more" if len(rows) > limit else ""
    return f"{kinds} ({shown}{more})"


# --- import_roster ---------------------------------------------------------------------------

ROSTER_COLUMNS = ("username", "email", "first_name", "last_name", "section", "role")


@dataclass(frozen=True)
class RosterReport:
    """What an import did, per row of the file: ``created`` a new enrollment, ``updated`` an
    enrollment or the person's name or email, ``unchanged`` nothing. ``users_created`` counts
    the accounts made for people new to the portal."""

    course_slug: str
    rows: int
    created: int
    updated: int
    unchanged: int
    users_created: int

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated)

    def summary(self) -> str:
        return (
            f"Roster {self.course_slug}: {_plural(self.rows, 'row')} "
            f"(created {self.created}, updated {self.updated}, unchanged {self.unchanged}; "
            f"{_plural(self.users_created, 'new user')})"
        )


@dataclass(frozen=True)
class _RosterRow:
    line: int
    username: str
    email: str
    first_name: str
    last_name: str
    section: str
    role: str


@dataclass
class _Changes:
    users_new: list[Any] = field(default_factory=list)
    users_changed: list[Any] = field(default_factory=list)
    enrollments_new: list[Enrollment] = field(default_factory=list)
    enrollments_changed: list[Enrollment] = field(default_factory=list)


def roster_import(*, course_slug: str, path: Path) -> RosterReport:
    """Creates or updates the people and enrollments a roster CSV lists.

    The file is checked whole first: every bad row is reported by its line number (the header
    is line 1) and nothing is imported. People enrolled but absent from the file are left as
    they are."""
    rows, malformed = _roster_read(path)
    with transaction.atomic():
        course = Course.objects.filter(slug=course_slug).first()
        if course is None:
            raise RosterRefused([f"course {course_slug!r} does not exist"])
        sections = {s.code: s for s in Section.objects.select_for_update().filter(course=course)}
        bad_rows = sorted(malformed + _roster_check(course, sections, rows), key=lambda p: p[0])
        problems = [f"line {line}: {reason}" for line, reason in bad_rows]
        problems += _capacity_problems(course, sections, rows)
        if problems:
            raise RosterRefused(problems)
        return _roster_write(course, sections, rows)


def _roster_read(path: Path) -> tuple[list[_RosterRow], list[tuple[int, str]]]:
    """The rows of the file, and the lines that are not rows (wrong number of fields). A file
    that cannot be read at all, or has a bad header, is refused here."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise RosterRefused([f"{path}: cannot be read ({exc.strerror or exc})"]) from None
    except UnicodeDecodeError as exc:
        raise RosterRefused([f"{path}: not UTF-8 text (byte {exc.start})"]) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    problems: list[str] = []
    malformed: list[tuple[int, str]] = []
    rows: list[_RosterRow] = []
    header: list[str] | None = None
    last_line = 0
    try:
        for fields in reader:
            line, last_line = last_line + 1, reader.line_num
            values = [value.strip() for value in fields]
            if not any(values):
                continue
            if header is None:
                header = values
                problems += _header_problems(line, header)
                if problems:
                    break
                continue
            if len(values) != len(header):
                malformed.append((line, f"expected {len(header)} fields, found {len(values)}"))
                continue
            rows.append(_RosterRow(line=line, **dict(zip(header, values, strict=True))))
    except csv.Error as exc:
        problems.append(f"line {reader.line_num}: not valid CSV ({exc})")
    if header is None and not problems:
        problems.append(
            f"line 1: the file is empty; expected the header {','.join(ROSTER_COLUMNS)}"
        )
    if problems:
        raise RosterRefused(problems)
    return rows, malformed


def _header_problems(line: int, header: list[str]) -> list[str]:
    counts = Counter(header)
    missing = [c for c in ROSTER_COLUMNS if c not in counts]
    unexpected = [c for c in counts if c not in ROSTER_COLUMNS]
    repeated = [c for c, n in counts.items() if n > 1 and c in ROSTER_COLUMNS]
    if not (missing or unexpected or repeated):
        return []
    details = [
        f"{label}: {', '.join(names)}"
        for label, names in (("missing", missing), ("unknown", unexpected), ("twice", repeated))
        if names
    ]
    return [
        f"line {line}: the header must have the columns {','.join(ROSTER_COLUMNS)} "
        f"(in any order); {'; '.join(details)}"
    ]


def _max_length(model: type[models.Model], name: str) -> int:
    field = model._meta.get_field(name)
    if isinstance(field, models.CharField) and field.max_length is not None:
        return field.max_length
    raise TypeError(f"{model.__name__}.{name} is not a CharField with a max_length")


def _roster_check(
    course: Course, sections: dict[str, Section], rows: list[_RosterRow]
) -> list[tuple[int, str]]:
    """Each row's problems, as (line, reason)."""
    user_model = get_user_model()
    username_validator = user_model.username_validator  # type: ignore[attr-defined]
    limits = {
        name: _max_length(user_model, name)
        for name in ("username", "email", "first_name", "last_name")
    }
    problems: list[tuple[int, str]] = []
    first_seen: dict[str, int] = {}
    for row in rows:
        reasons: list[str] = []
        if not row.username:
            reasons.append("username is empty")
        else:
            try:
                username_validator(row.username)
                if len(row.username) > limits["username"]:
                    raise ValidationError("too long")
            except ValidationError:
                reasons.append(
                    f"username {row.username!r} is not valid (at most "
                    f"{limits['username']} letters, digits and @ . + - _)"
                )
            if row.username in first_seen:
                reasons.append(
                    f"username {row.username!r} already appears on line {first_seen[row.username]}"
                )
            else:
                first_seen[row.username] = row.line
        if not row.email:
            reasons.append("email is empty")
        else:
            try:
                validate_email(row.email)
                if len(row.email) > limits["email"]:
                    raise ValidationError("too long")
            except ValidationError:
                reasons.append(f"email {row.email!r} is not a valid email address")
        for name in ("first_name", "last_name"):
            if len(getattr(row, name)) > limits[name]:
                reasons.append(f"{name} is longer than {limits[name]} characters")
        if row.role not in Role.values:
            reasons.append(f"role {row.role!r} is not one of {', '.join(Role.values)}")
        if row.section and row.section not in sections:
            known = ", ".join(sorted(sections)) or "it has none"
            reasons.append(f"section {row.section!r} is not a section of {course.slug} ({known})")
        elif not row.section and row.role in SUBMITTING_ROLES:
            reasons.append(f"section is required for role {row.role!r}")
        problems += [(row.line, reason) for reason in reasons]
    return problems


def _capacity_problems(
    course: Course, sections: dict[str, Section], rows: list[_RosterRow]
) -> list[str]:
    """Students per section after the import: those enrolled and not in the file, plus the
    file's. Waitlisted people are not limited."""
    listed = {row.username for row in rows}
    staying = dict(
        Enrollment.objects.filter(course=course, role=Role.STUDENT, section__isnull=False)
        .exclude(user__username__in=listed)
        .values_list("section_id")
        .annotate(n=Count("id"))
    )
    problems: list[str] = []
    for code, section in sections.items():
        mine = [r for r in rows if r.role == Role.STUDENT and r.section == code]
        already = staying.get(section.pk, 0)
        total = already + len(mine)
        if mine and total > section.capacity:
            first_over = mine[max(section.capacity - already, 0)]
            problems.append(
                f"section {code}: capacity {section.capacity} exceeded, {total} students after "
                f"the import (line {first_over.line} is the first over it)"
            )
    return problems


def _roster_write(
    course: Course, sections: dict[str, Section], rows: list[_RosterRow]
) -> RosterReport:
    user_model = get_user_model()
    users = {
        u.username: u for u in user_model.objects.filter(username__in=[r.username for r in rows])
    }
    enrollments = {
        e.user_id: e
        for e in Enrollment.objects.filter(course=course, user__in=list(users.values()))
    }
    changes = _Changes()
    for row in rows:
        user = users.get(row.username)
        profile = {"email": row.email, "first_name": row.first_name, "last_name": row.last_name}
        if user is None:
            user = user_model(username=row.username, is_staff=row.role in STAFF_ROLES, **profile)
            user.set_unusable_password()
            users[row.username] = user
            changes.users_new.append(user)
        elif any(getattr(user, name) != value for name, value in profile.items()):
            for name, value in profile.items():
                setattr(user, name, value)
            changes.users_changed.append(user)
    user_model.objects.bulk_create(changes.users_new)
    user_model.objects.bulk_update(changes.users_changed, ["email", "first_name", "last_name"])
    admitted = _staff_admit(
        [(users[row.username], row.role) for row in rows if row.role in STAFF_ROLES]
    )

    created = updated = unchanged = 0
    changed_users = {id(u) for u in changes.users_changed}
    for row in rows:
        user = users[row.username]
        section = sections[row.section] if row.section else None
        enrollment = enrollments.get(user.pk)
        if enrollment is None:
            changes.enrollments_new.append(
                Enrollment(course=course, user=user, section=section, role=row.role)
            )
            created += 1
        elif enrollment.role != row.role or enrollment.section_id != (
            section.pk if section else None
        ):
            enrollment.role, enrollment.section = row.role, section
            changes.enrollments_changed.append(enrollment)
            updated += 1
        elif id(user) in changed_users or user.pk in admitted:
            updated += 1
        else:
            unchanged += 1
    Enrollment.objects.bulk_create(changes.enrollments_new)
    Enrollment.objects.bulk_update(changes.enrollments_changed, ["role", "section"])
    return RosterReport(
        course_slug=course.slug,
        rows=len(rows),
        created=created,
        updated=updated,
        unchanged=unchanged,
        users_created=len(changes.users_new),
    )


# --- staff in the admin ----------------------------------------------------------------------

# The auth groups that let a course's staff work in the Django admin. Which rows a person sees
# there is the admin's business: only those of the courses they teach or assist in.
STAFF_GROUPS: dict[str, str] = {Role.INSTRUCTOR: "Course instructors", Role.TA: "Course TAs"}
_COURSE_ROW_MODELS: list[type[models.Model]] = [
    Section,
    Enrollment,
    Category,
    Assignment,
    Question,
    Extension,
    ProjectGroup,
    GroupMembership,
]
# Per role, (model, action) pairs. Instructors manage their courses' rows and edit the course
# itself (never add or delete a course); TAs look. Only instructors grant extensions.
STAFF_GROUP_PERMISSIONS: dict[str, list[tuple[type[models.Model], str]]] = {
    Role.INSTRUCTOR: [
        *(
            (m, action)
            for m in _COURSE_ROW_MODELS
            for action in ("add", "change", "delete", "view")
        ),
        (Course, "change"),
        (Course, "view"),
    ],
    Role.TA: [(Course, "view"), *((m, "view") for m in _COURSE_ROW_MODELS)],
}


def staff_groups_ensure() -> dict[str, Group]:
    """The staff groups by role, each holding exactly the permissions of
    ``STAFF_GROUP_PERMISSIONS``: a group or permission that is missing is created, a permission
    the group should not have is taken away. Where all is in place it only reads."""
    with transaction.atomic(savepoint=False):
        wanted_models = {m for pairs in STAFF_GROUP_PERMISSIONS.values() for m, _ in pairs}
        content_types = ContentType.objects.get_for_models(*wanted_models)
        permissions = {
            (p.content_type_id, p.codename): p
            for p in Permission.objects.filter(content_type__in=list(content_types.values()))
        }
        wanted: dict[str, set[int]] = {}
        for role, pairs in STAFF_GROUP_PERMISSIONS.items():
            wanted[role] = set()
            for model, action in pairs:
                content_type = content_types[model]
                codename = f"{action}_{model._meta.model_name}"
                permission = permissions.get((content_type.pk, codename))
                if permission is None:  # migrate makes them; a database it has not seen may not
                    permission = permissions[content_type.pk, codename] = Permission.objects.create(
                        content_type=content_type,
                        codename=codename,
                        name=f"Can {action} {model._meta.verbose_name}",
                    )
                wanted[role].add(permission.pk)
        groups = {g.name: g for g in Group.objects.filter(name__in=STAFF_GROUPS.values())}
        by_role: dict[str, Group] = {
            role: groups.get(name) or Group.objects.get_or_create(name=name)[0]
            for role, name in STAFF_GROUPS.items()
        }
        links = Group.permissions.through.objects
        held = set(
            links.filter(group__in=list(by_role.values())).values_list(
                "pk", "group_id", "permission_id"
            )
        )
        goal = {(by_role[role].pk, pk) for role, pks in wanted.items() for pk in pks}
        extra = [pk for pk, group_id, perm_id in held if (group_id, perm_id) not in goal]
        missing = goal - {(group_id, perm_id) for _, group_id, perm_id in held}
        if extra:
            links.filter(pk__in=extra).delete()
        if missing:
            links.bulk_create(
                [links.model(group_id=g, permission_id=p) for g, p in sorted(missing)],
                ignore_conflicts=True,
            )
    return by_role


def _staff_admit(staff: list[tuple[Any, str]]) -> set[int]:
    """Lets a roster's instructors and TAs into the admin: ``is_staff`` (given here, never taken
    away; ``is_superuser`` is never touched) and the staff group of their role. Returns the pks
    of the people it changed; writes nothing for those already set."""
    if not staff:
        return set()
    user_model = get_user_model()
    promoted = {user.pk for user, _ in staff if not user.is_staff}
    if promoted:
        user_model.objects.filter(pk__in=promoted).update(is_staff=True)
        for user, _ in staff:
            user.is_staff = True
    groups = staff_groups_ensure()
    members = Group.user_set.through.objects
    goal = {(user.pk, groups[role].pk) for user, role in staff}
    held = set(
        members.filter(
            user_id__in={u for u, _ in goal}, group_id__in={g for _, g in goal}
        ).values_list("user_id", "group_id")
    )
    missing = goal - held
    if missing:
        members.bulk_create(
            [members.model(user_id=u, group_id=g) for u, g in sorted(missing)],
            ignore_conflicts=True,
        )
    return promoted | {u for u, _ in missing}


# --- project groups ----------------------------------------------------------------------------

# Join codes avoid look-alike characters (0/O, 1/I/L) so they can be read aloud.
JOIN_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


def _conflict(code: str, message: str) -> ApplicationError:
    err = ApplicationError(message, code=code)
    err.status = 409
    return err


def _require_student(enrollment: Enrollment, doing: str) -> None:
    if enrollment.role not in SUBMITTING_ROLES:
        raise PermissionDeniedError(f"Only students can {doing}.")


def group_max_size(*, course_id: int) -> int | None:
    """The largest group any group assignment of the course allows (None: no group work)."""
    sizes = Assignment.objects.filter(course_id=course_id, group=True).values_list(
        "group_max", flat=True
    )
    return max(sizes, default=None)


def group_create(*, enrollment: Enrollment, name: str) -> ProjectGroup:
    """A new project group with the caller as its first member, and a join code to share."""
    _require_student(enrollment, "create project groups")
    name = " ".join((name or "").split())
    if not name:
        raise ApplicationError("Give the group a name.", code="invalid")
    if len(name) > 100:
        raise ApplicationError("A group name has at most 100 characters.", code="invalid")
    if group_max_size(course_id=enrollment.course_id) is None:
        raise _conflict("no_group_work", "This course has no group assignments.")
    with transaction.atomic():
        Enrollment.objects.select_for_update().filter(pk=enrollment.pk).get()
        if GroupMembership.objects.filter(
            course_id=enrollment.course_id, user_id=enrollment.user_id
        ).exists():
            raise _conflict(
                "already_in_group", "You are already in a project group: leave it first."
            )
        if ProjectGroup.objects.filter(course_id=enrollment.course_id, name=name).exists():
            raise _conflict("group_name_taken", f"There is already a group called '{name}'.")
        group = ProjectGroup.objects.create(
            course_id=enrollment.course_id, name=name, join_code=_new_join_code()
        )
        GroupMembership.objects.create(
            group=group, course_id=enrollment.course_id, user_id=enrollment.user_id
        )
    return group


def _new_join_code() -> str:
    while True:
        code = "".join(secrets.choice(JOIN_CODE_ALPHABET) for _ in range(8))
        if not ProjectGroup.objects.filter(join_code=code).exists():
            return code


def group_join(*, enrollment: Enrollment, join_code: str) -> ProjectGroup:
    """Joins the group with this code. Joining one's own group again changes nothing."""
    _require_student(enrollment, "join project groups")
    code = (join_code or "").strip().upper()
    with transaction.atomic():
        group = (
            ProjectGroup.objects.select_for_update()
            .filter(course_id=enrollment.course_id, join_code=code)
            .first()
        )
        if group is None:
            raise NotFound("No project group in this course has that join code.")
        current = GroupMembership.objects.filter(
            course_id=enrollment.course_id, user_id=enrollment.user_id
        ).first()
        if current is not None:
            if current.group_id == group.pk:
                return group
            raise _conflict(
                "already_in_group", "You are already in a project group: leave it first."
            )
        limit = group_max_size(course_id=enrollment.course_id) or 1
        size = GroupMembership.objects.filter(group=group).count()
        if size >= limit:
            raise _conflict(
                "group_size", f"{group.name} is full: groups have at most {limit} members."
            )
        GroupMembership.objects.create(
            group=group, course_id=enrollment.course_id, user_id=enrollment.user_id
        )
    return group


def group_leave(*, enrollment: Enrollment) -> None:
    """Leaves one's group, only before its first group submission (which sets the group's
    ``locked_at``); an empty group goes away."""
    with transaction.atomic():
        membership = (
            GroupMembership.objects.select_for_update()
            .filter(course_id=enrollment.course_id, user_id=enrollment.user_id)
            .select_related("group")
            .first()
        )
        if membership is None:
            raise NotFound("You are not in a project group.")
        group = ProjectGroup.objects.select_for_update().get(pk=membership.group_id)
        if group.locked_at is not None:
            raise _conflict(
                "group_locked",
                f"{group.name} has handed work in, so its members are fixed. "
                "Ask the instructor if a change is needed.",
            )
        membership.delete()
        if not GroupMembership.objects.filter(group=group).exists():
            group.delete()


# --- extensions ----------------------------------------------------------------------------------


def extension_grant(
    *,
    enrollment: Enrollment,
    student: str,
    assignment_slug: str,
    due_at: datetime,
    reference: str,
) -> tuple[Extension, bool]:
    """Records a Dean of Students confirmed extension: the new due date and the confirmation's
    reference, nothing else. A second grant for the same student and assignment replaces the
    first. Returns the extension and whether it is new."""
    if enrollment.role != Role.INSTRUCTOR:
        raise PermissionDeniedError("Only the instructor grants extensions.")
    reference = (reference or "").strip()
    if not re.fullmatch(EXTENSION_REFERENCE_REGEX, reference):
        raise ApplicationError(
            "Give only the Dean of Students confirmation number (letters, digits and . _ / -, "
            "at most 40 characters, no spaces). Never send or store medical information.",
            code="invalid_reference",
        )
    if due_at.tzinfo is None:
        raise ApplicationError("The new due date needs a time zone.", code="invalid")
    target = course_student_get(course_id=enrollment.course_id, username=student)
    assignment = Assignment.objects.filter(
        course_id=enrollment.course_id, slug=(assignment_slug or "").strip()
    ).first()
    if assignment is None:
        raise ApplicationError(
            f"'{assignment_slug}' is not an assignment of this course.", code="unknown_assignment"
        )
    with transaction.atomic():
        extension, created = Extension.objects.update_or_create(
            assignment=assignment,
            student=target.user,
            defaults={"due_at": due_at, "reference": reference, "granted_by": enrollment.user},
        )
    return extension, created


def extension_revoke(*, enrollment: Enrollment, extension_id: int) -> None:
    if enrollment.role != Role.INSTRUCTOR:
        raise PermissionDeniedError("Only the instructor changes extensions.")
    deleted, _ = Extension.objects.filter(
        pk=extension_id, assignment__course_id=enrollment.course_id
    ).delete()
    if not deleted:
        raise NotFound("There is no such extension.")
