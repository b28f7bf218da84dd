"""courses/deadlines.py: the syllabus's deadline rules, exhaustively (Hypothesis included)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from courses import deadlines as d

NY = ZoneInfo("America/New_York")
UTC_ = ZoneInfo("UTC")

# America/New_York in 2021: clocks spring forward on Sun Mar 14 (02:00 EST -> 03:00 EDT) and
# fall back on Sun Nov 7 (02:00 EDT -> 01:00 EST).


def ny(*args: int, fold: int = 0) -> datetime:
    return datetime(*args, tzinfo=NY, fold=fold)


# ---- grace end -----------------------------------------------------------------------------


def test_grace_end_is_two_calendar_days_at_the_same_clock_time():
    due = ny(2021, 2, 12, 23, 59)
    assert d.grace_end(due, 2, NY) == ny(2021, 2, 14, 23, 59)
    assert d.grace_end(due, 2, NY) - due.astimezone(UTC) == timedelta(hours=48)


def test_grace_across_spring_forward_is_47_hours_and_keeps_11_59_pm():
    due = ny(2021, 3, 12, 23, 59)  # EST
    end = d.grace_end(due, 2, NY)
    assert end == ny(2021, 3, 14, 23, 59)
    assert end.astimezone(NY).utcoffset() == timedelta(hours=-4)  # EDT
    assert end.astimezone(UTC) == datetime(2021, 3, 15, 3, 59, tzinfo=UTC)
    assert end - due.astimezone(UTC) == timedelta(hours=47)


def test_grace_across_fall_back_is_49_hours_and_keeps_11_59_pm():
    due = ny(2021, 11, 5, 23, 59)  # EDT
    end = d.grace_end(due, 2, NY)
    assert end.astimezone(NY).replace(tzinfo=None) == datetime(2021, 11, 7, 23, 59)
    assert end.astimezone(NY).utcoffset() == timedelta(hours=-5)  # EST
    assert end - due.astimezone(UTC) == timedelta(hours=49)


def test_grace_end_landing_in_the_spring_gap_moves_forward_by_the_gap():
    due = ny(2021, 3, 12, 2, 30)  # 02:30 on Mar 14 does not exist
    end = d.grace_end(due, 2, NY)
    assert end.astimezone(UTC) == datetime(2021, 3, 14, 7, 30, tzinfo=UTC)  # 03:30 EDT
    assert end.astimezone(NY).hour == 3


def test_grace_end_landing_in_the_repeated_hour_takes_the_later_one():
    due = ny(2021, 11, 5, 1, 30)  # 01:30 happens twice on Nov 7
    end = d.grace_end(due, 2, NY)
    assert end.astimezone(UTC) == datetime(2021, 11, 7, 6, 30, tzinfo=UTC)  # 01:30 EST


def test_due_inside_the_repeated_hour_keeps_its_own_instant():
    first = ny(2021, 11, 7, 1, 30, fold=0)  # 01:30 EDT
    # (An ambiguous local time never compares equal across zones, PEP 495: compare in UTC.)
    assert d.grace_end(first, 0, NY) == first.astimezone(UTC)
    assert d.grace_end(first, 1, NY).astimezone(UTC) == datetime(2021, 11, 8, 6, 30, tzinfo=UTC)


def test_zero_grace_days_means_grace_ends_at_the_due_time():
    due = ny(2021, 1, 20, 23, 59)
    assert d.grace_end(due, 0, NY) == due


def test_negative_grace_days_are_refused():
    with pytest.raises(ValueError):
        d.grace_end(ny(2021, 1, 20, 23, 59), -1, NY)


NAIVE = datetime(2021, 1, 20, 23, 59)
AWARE = ny(2021, 1, 20, 23, 59)


@pytest.mark.parametrize(
    "call",
    [
        lambda: d.grace_end(NAIVE, 2, NY),
        lambda: d.timing(NAIVE, AWARE, AWARE),
        lambda: d.effective_due(AWARE, NAIVE),
        lambda: d.time_left(NAIVE, AWARE),
    ],
    ids=["grace_end", "timing", "effective_due", "time_left"],
)
def test_naive_datetimes_are_refused(call):
    with pytest.raises(ValueError, match="naive"):
        call()


# ---- timing classes and boundaries ---------------------------------------------------------


def test_boundaries_are_inclusive_on_the_early_side():
    due = ny(2021, 2, 12, 23, 59)
    end = d.grace_end(due, 2, NY)
    tick = timedelta(microseconds=1)
    assert d.timing(due - tick, due, end) == d.Timing.ON_TIME
    assert d.timing(due, due, end) == d.Timing.ON_TIME
    assert d.timing(due + tick, due, end) == d.Timing.IN_GRACE
    assert d.timing(end, due, end) == d.Timing.IN_GRACE
    assert d.timing(end + tick, due, end) == d.Timing.LATE


def test_timing_around_the_spring_forward_grace_end():
    due = ny(2021, 3, 12, 23, 59).astimezone(UTC)
    end = d.grace_end(due, 2, NY)
    # 23:30 EDT on Mar 14 is inside grace; 00:01 EDT on Mar 15 is late.
    assert d.timing(ny(2021, 3, 14, 23, 30), due, end) == d.Timing.IN_GRACE
    assert d.timing(ny(2021, 3, 15, 0, 1), due, end) == d.Timing.LATE
    # 48 hours after the due time is already past the (47-hour) grace period.
    assert d.timing(due + timedelta(hours=48), due, end) == d.Timing.LATE


def test_timing_around_the_fall_back_grace_end():
    due = ny(2021, 11, 5, 23, 59).astimezone(UTC)
    end = d.grace_end(due, 2, NY)
    # 48 hours after the due time is still in grace: the day had 25 hours.
    assert d.timing(due + timedelta(hours=48), due, end) == d.Timing.IN_GRACE
    assert d.timing(due + timedelta(hours=49), due, end) == d.Timing.IN_GRACE
    assert d.timing(due + timedelta(hours=49, seconds=1), due, end) == d.Timing.LATE


def test_ps0_has_no_grace_and_is_accepted_late():
    dl = d.student_deadline(
        due_at=ny(2021, 1, 20, 23, 59), grace_days=0, after_grace=d.ACCEPT_LATE, tz=NY
    )
    assert dl.timing(ny(2021, 1, 20, 23, 59)) == d.Timing.ON_TIME
    assert dl.timing(ny(2021, 1, 21, 0, 0)) == d.Timing.LATE
    assert dl.accepts(ny(2021, 1, 25, 12, 0))
    assert dl.closes_at() is None


def test_after_grace_refuse_refuses_only_late_work():
    assert d.is_accepted(d.ON_TIME, d.REFUSE)
    assert d.is_accepted(d.IN_GRACE, d.REFUSE)
    assert not d.is_accepted(d.LATE, d.REFUSE)


def test_after_grace_accept_late_accepts_late_work():
    assert d.is_accepted(d.LATE, d.ACCEPT_LATE)


def test_an_unknown_after_grace_policy_is_refused():
    with pytest.raises(ValueError):
        d.is_accepted(d.LATE, "maybe")


def test_timing_labels_are_the_words_students_see():
    assert [t.label for t in d.Timing] == ["On time", "In grace period", "Late"]


# ---- extensions ----------------------------------------------------------------------------


def test_an_extension_replaces_the_due_date_and_grace_follows_it():
    due = ny(2021, 2, 12, 23, 59)
    ext = ny(2021, 2, 19, 23, 59)
    dl = d.student_deadline(
        due_at=due, grace_days=2, after_grace=d.REFUSE, tz=NY, extension_due_at=ext
    )
    assert dl.extended and dl.due_at == ext
    assert dl.grace_ends_at == ny(2021, 2, 21, 23, 59)
    assert dl.timing(ny(2021, 2, 15, 12, 0)) == d.Timing.ON_TIME
    assert dl.closes_at() == ny(2021, 2, 21, 23, 59)


def test_an_earlier_extension_date_still_replaces():
    due = ny(2021, 2, 12, 23, 59)
    earlier = ny(2021, 2, 10, 23, 59)
    assert d.effective_due(due, earlier) == earlier


def test_without_an_extension_the_due_date_stands():
    due = ny(2021, 2, 12, 23, 59)
    assert d.effective_due(due, None) == due


# ---- zones and local times -----------------------------------------------------------------


def test_zone_lookup_finds_a_known_zone():
    assert d.zone("America/New_York") == NY


@pytest.mark.parametrize("bad", ["Mars/Olympus_Mons", "EST5EDTX", "", "../etc/passwd"])
def test_zone_lookup_refuses_an_unknown_zone(bad):
    with pytest.raises(ValueError, match="time zone"):
        d.zone(bad)


def test_localize_reads_a_naive_time_in_the_zone():
    assert d.localize(datetime(2021, 1, 20, 23, 59), NY) == ny(2021, 1, 20, 23, 59)


def test_localize_refuses_an_aware_datetime():
    with pytest.raises(ValueError):
        d.localize(ny(2021, 1, 1, 0, 0), NY)


@pytest.mark.parametrize(
    ("local", "exists"),
    [
        (datetime(2021, 3, 14, 2, 30), False),  # in the spring-forward gap
        (datetime(2021, 3, 14, 3, 30), True),
        (datetime(2021, 11, 7, 1, 30), True),  # in the repeated hour
    ],
)
def test_local_time_exists_only_outside_the_gap(local, exists):
    assert d.local_time_exists(local, NY) is exists


@pytest.mark.parametrize(
    ("left", "words"),
    [
        (timedelta(days=2, hours=3, minutes=5), "2 days 3 hours left"),
        (timedelta(days=1), "1 day left"),
        (timedelta(hours=1, minutes=1), "1 hour 1 minute left"),
        (timedelta(minutes=45), "45 minutes left"),
        (timedelta(seconds=30), "less than a minute left"),
        (-timedelta(seconds=1), "closed"),
    ],
)
def test_time_left_in_words(left, words):
    now = datetime(2021, 2, 10, 12, 0, tzinfo=UTC)
    assert d.time_left(now, now + left) == words


# ---- properties (Hypothesis) ---------------------------------------------------------------

ZONES = st.sampled_from(
    [
        "America/New_York",
        "America/Los_Angeles",
        "Europe/London",
        "Australia/Lord_Howe",  # 30-minute DST shift
        "Asia/Kolkata",
        "America/Sao_Paulo",
        "UTC",
    ]
)
MOMENTS = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2037, 12, 31), timezones=st.just(UTC_)
)


@given(due=MOMENTS, days=st.integers(min_value=0, max_value=30), zone_name=ZONES)
def test_grace_end_keeps_the_local_clock_time_and_stays_near_n_days(due, days, zone_name):
    tz = ZoneInfo(zone_name)
    end = d.grace_end(due, days, tz)
    assert end >= due
    # Within an hour of N * 24 hours (DST shifts are at most an hour in these zones).
    assert abs((end - due) - timedelta(days=days)) <= timedelta(hours=1)
    local_due = due.astimezone(tz)
    local_end = end.astimezone(tz)
    if days == 0:
        assert end == due
    elif local_end.replace(tzinfo=None) != local_due.replace(tzinfo=None) + timedelta(days=days):
        # Only when the target clock time falls in a gap does it move, and only forward.
        target = local_due.replace(tzinfo=None) + timedelta(days=days)
        assert not d.local_time_exists(target, tz)
        assert local_end.replace(tzinfo=None) > target


@given(
    due=MOMENTS,
    days=st.integers(min_value=0, max_value=10),
    offset=st.timedeltas(min_value=timedelta(days=-20), max_value=timedelta(days=20)),
    zone_name=ZONES,
)
def test_timing_partitions_time_in_order(due, days, offset, zone_name):
    tz = ZoneInfo(zone_name)
    end = d.grace_end(due, days, tz)
    at = due + offset
    t = d.timing(at, due, end)
    assert (t == d.Timing.ON_TIME) == (at <= due)
    assert (t == d.Timing.LATE) == (at > end)
    # Monotone: a later moment never has an earlier class.
    order = [d.Timing.ON_TIME, d.Timing.IN_GRACE, d.Timing.LATE]
    later = d.timing(at + timedelta(minutes=1), due, end)
    assert order.index(later) >= order.index(t)


@given(
    due=MOMENTS,
    ext_offset=st.timedeltas(min_value=timedelta(days=-5), max_value=timedelta(days=30)),
    days=st.integers(0, 5),
)
def test_extension_deadline_equals_the_plain_rule_on_the_extended_date(due, ext_offset, days):
    ext = due + ext_offset
    dl = d.student_deadline(
        due_at=due, grace_days=days, after_grace=d.REFUSE, tz=NY, extension_due_at=ext
    )
    plain = d.student_deadline(due_at=ext, grace_days=days, after_grace=d.REFUSE, tz=NY)
    assert (dl.due_at, dl.grace_ends_at) == (plain.due_at, plain.grace_ends_at)
    assert dl.extended and not plain.extended


@given(
    naive=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2037, 12, 31)),
    zone_name=ZONES,
)
def test_localize_never_goes_backwards_and_round_trips_existing_times(naive, zone_name):
    tz = ZoneInfo(zone_name)
    moment = d.localize(naive, tz)
    local = moment.astimezone(tz).replace(tzinfo=None)
    if d.local_time_exists(naive, tz):
        assert local == naive
    else:
        assert local > naive
