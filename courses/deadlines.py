"""Deadlines, the syllabus's way. Pure functions: no Django, no models.

Every moment is an aware ``datetime``; a naive one is refused with ``ValueError``. Moments
come back in UTC (show them with ``.astimezone(course_zone)``). Local clock times are read in
the course's IANA time zone.

Boundaries (which side is inclusive):

* on time:  ``at <= due``                      (a submission stamped exactly at the due time is on time)
* in grace: ``due < at <= grace_end``          (exactly at the grace end is still in grace)
* late:     ``at > grace_end``

With ``grace_days = 0`` the grace end is the due time itself, so nothing is ever "in grace".

The grace end is the same local clock time ``grace_days`` calendar days after the due time, in
the course's zone, across daylight-saving changes (11:59pm stays 11:59pm, so a grace period
that spans a change is 47 or 49 hours long). Where that clock time does not exist on the
target day (the spring-forward gap) it moves forward by the gap (02:30 becomes 03:30); where it
happens twice (the fall-back hour) the later of the two is used: both choices favour the
student.

An extension replaces the due date; the grace period then runs from the extended due date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from enum import StrEnum
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

ON_TIME = "on_time"
IN_GRACE = "in_grace"
LATE = "late"

REFUSE = "refuse"
ACCEPT_LATE = "accept_late"


class Timing(StrEnum):
    ON_TIME = ON_TIME
    IN_GRACE = IN_GRACE
    LATE = LATE

    @property
    def label(self) -> str:
        return {ON_TIME: "On time", IN_GRACE: "In grace period", LATE: "Late"}[self.value]


def _require_aware(name: str, value: datetime) -> datetime:
    """The moment in UTC. Python compares and subtracts two datetimes that share a tzinfo by
    their wall clocks, which is wrong across a DST change, so all logic here works in UTC."""
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {value!r}")
    return value.astimezone(UTC)


def zone(name: str) -> ZoneInfo:
    """The IANA zone called ``name``; ``ValueError`` with a readable message when unknown."""
    if not isinstance(name, str) or name not in _known_zones():
        raise ValueError(f"'{name}' is not a known IANA time zone (for example America/New_York)")
    return ZoneInfo(name)


@cache
def _known_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def exists_locally(local: datetime) -> bool:
    """Whether the wall-clock time ``local`` (aware, in a ZoneInfo) really occurs."""
    round_trip = local.astimezone(UTC).astimezone(local.tzinfo)
    return round_trip.replace(tzinfo=None) == local.replace(tzinfo=None)


def localize(naive: datetime, tz: tzinfo) -> datetime:
    """A course's local clock time as an aware moment. A time in the spring-forward gap moves
    forward by the gap; a time in the fall-back hour is read as its later occurrence."""
    if naive.tzinfo is not None:
        raise ValueError("localize() takes a naive wall-clock time")
    later = naive.replace(tzinfo=tz, fold=1)
    if exists_locally(later):
        return later
    # In the gap: fold=0 reads it with the pre-transition offset, which lands after the gap.
    return naive.replace(tzinfo=tz, fold=0).astimezone(UTC).astimezone(tz)


def local_time_exists(naive: datetime, tz: tzinfo) -> bool:
    """Whether a naive local clock time exists in ``tz`` (False inside a spring-forward gap)."""
    return exists_locally(naive.replace(tzinfo=tz, fold=0)) or exists_locally(
        naive.replace(tzinfo=tz, fold=1)
    )


def effective_due(due_at: datetime, extension_due_at: datetime | None = None) -> datetime:
    """A student's due date: an extension replaces the assignment's (earlier or later)."""
    due = _require_aware("due_at", due_at)
    if extension_due_at is None:
        return due
    return _require_aware("extension_due_at", extension_due_at)


def grace_end(due_at: datetime, grace_days: int, tz: tzinfo) -> datetime:
    """The same local clock time ``grace_days`` calendar days after ``due_at``, in ``tz``."""
    due = _require_aware("due_at", due_at)
    if grace_days < 0:
        raise ValueError("grace_days cannot be negative")
    if grace_days == 0:
        return due
    local = due.astimezone(tz)
    wall = local.replace(tzinfo=None) + timedelta(days=grace_days)
    return localize(wall, tz).astimezone(UTC)


def timing(at: datetime, due_at: datetime, grace_ends_at: datetime) -> Timing:
    """The timing class of a moment against a (student's) due time and grace end."""
    at = _require_aware("at", at)
    if at <= _require_aware("due_at", due_at):
        return Timing.ON_TIME
    if at <= _require_aware("grace_ends_at", grace_ends_at):
        return Timing.IN_GRACE
    return Timing.LATE


def is_accepted(timing_class: str, after_grace: str) -> bool:
    """Whether work handed in with this timing is taken: late only where ``accept_late``."""
    if after_grace not in (REFUSE, ACCEPT_LATE):
        raise ValueError(f"after_grace must be 'refuse' or 'accept_late', not {after_grace!r}")
    return timing_class != LATE or after_grace == ACCEPT_LATE


@dataclass(frozen=True)
class Deadline:
    """One student's deadline for one assignment."""

    due_at: datetime
    grace_ends_at: datetime
    extended: bool
    after_grace: str

    def timing(self, at: datetime) -> Timing:
        return timing(at, self.due_at, self.grace_ends_at)

    def accepts(self, at: datetime) -> bool:
        return is_accepted(self.timing(at), self.after_grace)

    def closes_at(self) -> datetime | None:
        """When submitting stops being possible; None when late work is always taken."""
        return None if self.after_grace == ACCEPT_LATE else self.grace_ends_at


def student_deadline(
    *,
    due_at: datetime,
    grace_days: int,
    after_grace: str,
    tz: tzinfo,
    extension_due_at: datetime | None = None,
) -> Deadline:
    due = effective_due(due_at, extension_due_at)
    return Deadline(
        due_at=due,
        grace_ends_at=grace_end(due, grace_days, tz),
        extended=extension_due_at is not None,
        after_grace=after_grace,
    )


def time_left(now: datetime, until: datetime) -> str:
    """'2 days 3 hours left', '45 minutes left', or 'closed' — for people, not for logic."""
    seconds = int((_require_aware("until", until) - _require_aware("now", now)).total_seconds())
    if seconds < 0:
        return "closed"
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60

    def plural(n: int, word: str) -> str:
        return f"{n} {word}{'' if n == 1 else 's'}"

    if days:
        parts = [plural(days, "day")] + ([plural(hours, "hour")] if hours else [])
    elif hours:
        parts = [plural(hours, "hour")] + ([plural(minutes, "minute")] if minutes else [])
    else:
        parts = [plural(minutes, "minute")] if minutes else ["less than a minute"]
    return " ".join(parts) + " left"
