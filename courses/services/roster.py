"""Importing a roster: ``roster_import`` and the :class:`RosterReport` it gives.

The file is read and checked whole first (``courses.services.roster_file``); only a file with
no problem is written: the people (accounts made or their names and emails brought up to date),
the staff among them let into the admin, then the enrollments."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from courses.models import STAFF_ROLES, Course, Enrollment, Section
from courses.services.invitations import invitations_queue, without_password
from courses.services.reporting import plural
from courses.services.roster_file import (
    RosterRefused,
    RosterRow,
    capacity_problems,
    roster_check,
    roster_read,
)
from courses.services.staff import staff_admit

_PROFILE_FIELDS = ("email", "first_name", "last_name")


@dataclass(frozen=True)
class RosterReport:
    """What an import did, per row of the file: ``created`` a new enrollment, ``updated`` an
    enrollment or the person's name or email, ``unchanged`` nothing. ``users_created`` counts
    the accounts made for people new to the portal. ``invited``: the people emailed an
    invitation (``invite``); ``without_password``: the others of the file who cannot log in
    yet (no usable password)."""

    course_slug: str
    rows: int
    created: int
    updated: int
    unchanged: int
    users_created: int
    invited: int = 0
    without_password: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated)

    def summary(self) -> str:
        return (
            f"Roster {self.course_slug}: {plural(self.rows, 'row')} "
            f"(created {self.created}, updated {self.updated}, unchanged {self.unchanged}; "
            f"{plural(self.users_created, 'new user')})"
        )

    def password_notes(self, *, invite: bool) -> list[str]:
        """What the person running the import should know about who can log in."""
        notes = []
        if self.invited:
            notes.append(
                f"Invited {plural(self.invited, 'person', 'people')} by email to choose a "
                "password (sent once the import is saved)."
            )
        if self.without_password:
            how = (
                "they were invited before (run with --reinvite to send a new link)"
                if invite
                else "run with --invite or have them use Forgot password"
            )
            notes.append(
                f"{plural(self.without_password, 'person', 'people')} "
                f"{'has' if self.without_password == 1 else 'have'} no password yet: {how}."
            )
        return notes


def roster_import(
    *, course_slug: str, path: Path, invite: bool = False, reinvite: bool = False
) -> RosterReport:
    """Creates or updates the people and enrollments a roster CSV lists.

    The file is checked whole first: every bad row is reported by its line number (the header
    is line 1) and nothing is imported. People enrolled but absent from the file are left as
    they are.

    ``invite``: the file's people without a usable password who were never invited to this
    course get an email to choose one, queued once the import commits; ``reinvite`` (implies
    ``invite``): those invited before get a new link too. People with a password never do."""
    rows, malformed = roster_read(path)
    with transaction.atomic():
        course = Course.objects.filter(slug=course_slug).first()
        if course is None:
            raise RosterRefused([f"course {course_slug!r} does not exist"])
        sections = {s.code: s for s in Section.objects.select_for_update().filter(course=course)}
        bad_rows = sorted(malformed + roster_check(course, sections, rows), key=lambda p: p[0])
        problems = [f"line {line}: {reason}" for line, reason in bad_rows]
        problems += capacity_problems(course, sections, rows)
        if problems:
            raise RosterRefused(problems)
        report, people = _roster_write(course, sections, rows)
        invited = (
            invitations_queue(course=course, users=people, reinvite=reinvite, now=timezone.now())
            if invite or reinvite
            else []
        )
        return replace(
            report,
            invited=len(invited),
            without_password=len(without_password(people)) - len(invited),
        )


@dataclass
class _People:
    """The file's people by username, and which of them this import makes or changes."""

    by_username: dict[str, User]
    new: list[User] = field(default_factory=list)
    changed: list[User] = field(default_factory=list)


@dataclass
class _EnrollmentCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


def _roster_write(
    course: Course, sections: dict[str, Section], rows: list[RosterRow]
) -> tuple[RosterReport, list[User]]:
    """The report, and the file's people."""
    people = _users_write(rows)
    admitted = staff_admit(
        [(people.by_username[row.username], row.role) for row in rows if row.role in STAFF_ROLES]
    )
    # A person whose name, email or admin access changed counts their row as updated.
    refreshed = {user.pk for user in people.changed} | admitted
    counts = _enrollments_write(course, sections, rows, people.by_username, refreshed)
    report = RosterReport(
        course_slug=course.slug,
        rows=len(rows),
        created=counts.created,
        updated=counts.updated,
        unchanged=counts.unchanged,
        users_created=len(people.new),
    )
    return report, list(people.by_username.values())


def _users_write(rows: list[RosterRow]) -> _People:
    """Makes the accounts of people new to the portal (no usable password: they cannot log in
    until they choose one, through an invitation or "Forgot your password?") and brings the
    others' names and emails up to date."""
    user_model = get_user_model()
    people = _People(
        by_username={
            u.username: u
            for u in user_model.objects.filter(username__in=[r.username for r in rows])
        }
    )
    for row in rows:
        user = people.by_username.get(row.username)
        profile = {name: getattr(row, name) for name in _PROFILE_FIELDS}
        if user is None:
            user = user_model(username=row.username, is_staff=row.role in STAFF_ROLES, **profile)
            user.set_unusable_password()
            people.by_username[row.username] = user
            people.new.append(user)
        elif any(getattr(user, name) != value for name, value in profile.items()):
            for name, value in profile.items():
                setattr(user, name, value)
            people.changed.append(user)
    user_model.objects.bulk_create(people.new)
    user_model.objects.bulk_update(people.changed, list(_PROFILE_FIELDS))
    return people


def _enrollments_write(
    course: Course,
    sections: dict[str, Section],
    rows: list[RosterRow],
    users: dict[str, User],
    refreshed: set[int],
) -> _EnrollmentCounts:
    """Enrolls each row's person with its role and section, counting each row as created,
    updated (the enrollment, or the person: ``refreshed``) or unchanged."""
    enrollments = {
        e.user_id: e
        for e in Enrollment.objects.filter(course=course, user__in=list(users.values()))
    }
    counts = _EnrollmentCounts()
    new: list[Enrollment] = []
    changed: list[Enrollment] = []
    for row in rows:
        user = users[row.username]
        section = sections[row.section] if row.section else None
        enrollment = enrollments.get(user.pk)
        if enrollment is None:
            new.append(Enrollment(course=course, user=user, section=section, role=row.role))
            counts.created += 1
        elif enrollment.role != row.role or enrollment.section_id != (
            section.pk if section else None
        ):
            enrollment.role, enrollment.section = row.role, section
            changed.append(enrollment)
            counts.updated += 1
        elif user.pk in refreshed:
            counts.updated += 1
        else:
            counts.unchanged += 1
    Enrollment.objects.bulk_create(new)
    Enrollment.objects.bulk_update(changed, ["role", "section"])
    return counts
