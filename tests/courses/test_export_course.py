"""export_course and the file/portal drift: the course as TOML, read back into the same course
(round trips over the test and demo configs, and Hypothesis-made ones); load_course over a
course changed in the portal since its last load prints the differences and refuses unless
--force; the instructor's download of the same text."""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
import tomlkit
from django.conf import settings as django_settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.urls import reverse
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from courses import deadlines
from courses.config.export import ABSOLUTE_BUNDLE_NOTE, toml_value
from courses.models import Assignment, Category, Course, Question, Section
from courses.services import (
    CourseChangedInPortal,
    CourseConfigRefused,
    course_export,
    course_load,
)
from tests.factories import (
    AssignmentFactory,
    CategoryFactory,
    CourseFactory,
    EnrollmentFactory,
    QuestionFactory,
)

pytestmark = pytest.mark.django_db

CONFIGS = Path(__file__).parent / "configs"
GOOD = CONFIGS / "cs7643.toml"
DEMO = Path(django_settings.BASE_DIR) / "demo"
SLUG = "cs7643-sp21"


def rows() -> dict[str, list[dict[str, Any]]]:
    """The course's config rows, without ids and the record of the last load; references by
    their slugs, so that two loads into fresh databases compare equal."""
    return {
        "course": list(
            Course.objects.order_by("slug").values(
                "slug", "title", "term", "timezone", "registration_ends", "regrade_days", "links"
            )
        ),
        "sections": list(
            Section.objects.order_by("course__slug", "code").values(
                "course__slug", "code", "level", "capacity", "links"
            )
        ),
        "categories": list(
            Category.objects.order_by("course__slug", "position").values(
                "course__slug", "slug", "weight", "bonus", "position"
            )
        ),
        "assignments": [
            {k: v for k, v in row.items() if k not in ("id", "course_id", "category_id")}
            for row in Assignment.objects.order_by("course__slug", "position").values(
                "category__slug", *(f.attname for f in Assignment._meta.concrete_fields)
            )
        ],
        "questions": [
            {k: v for k, v in row.items() if k not in ("id", "assignment_id")}
            for row in Question.objects.order_by("assignment__slug", "position").values(
                "assignment__slug", *(f.attname for f in Question._meta.concrete_fields)
            )
        ],
    }


def load_and_export(path: Path) -> tuple[str, dict[str, list[dict[str, Any]]]]:
    """Loads ``path`` into the course-less database and gives the export and the rows, then
    rolls the load back."""
    with transaction.atomic():
        report = course_load(path=path)
        text = course_export(course=Course.objects.get(slug=report.course_slug))
        snapshot = rows()
        transaction.set_rollback(True)
    return text, snapshot


def assert_round_trip(path: Path) -> str:
    """load(path) -> export; load(export) -> export again: the same text, the same rows."""
    exported, first = load_and_export(path)
    again = path.with_name(f"{path.stem}-exported.toml")
    again.write_text(exported, encoding="utf-8")
    reexported, second = load_and_export(again)
    assert reexported == exported
    assert second == first
    return exported


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A copy of the test configs (with their autograder bundles)."""
    shutil.copytree(CONFIGS, tmp_path / "configs")
    return tmp_path / "configs"


# --- the export ------------------------------------------------------------------------------


def test_the_good_config_round_trips(workdir: Path) -> None:
    exported = assert_round_trip(workdir / "cs7643.toml")

    # Local times with their offset (EST in winter, EDT after the change), every key written.
    assert "due_at = 2021-02-12T23:59:00-05:00\n" in exported
    assert "due_at = 2021-04-16T23:59:00-04:00\n" in exported
    assert "registration_ends = 2021-01-29T23:59:00-05:00\n" in exported
    assert "points = 12.5\n" in exported
    assert 'forum = {url = "https://example.edu/forum/dl2021", note = "access code DL2021"}' in (
        exported
    )
    assert (
        'autograder = {bundle = "autograders/hw1", queue = "gpu", timeout_s = 600, '
        "memory_mb = 4096}" in exported
    )
    assert 'tests = ["q1 *", "backprop*"]' in exported
    assert "group_size = [3, 4]" in exported
    assert exported.startswith("# Exported by `manage.py export_course`")


def test_the_demo_course_round_trips(tmp_path: Path) -> None:
    shutil.copytree(DEMO, tmp_path / "demo", ignore=shutil.ignore_patterns("solutions"))
    exported = assert_round_trip(tmp_path / "demo" / "cs7643-sp21.toml")
    assert exported.count("[[assignments]]") == 7
    assert exported.count("[[assignments.questions]]") == 19


def test_the_export_lists_rows_in_the_loaders_order(workdir: Path) -> None:
    course_load(path=workdir / "cs7643.toml")
    data = tomlkit.parse(course_export(course=Course.objects.get(slug=SLUG))).unwrap()

    assert [s["code"] for s in data["sections"]] == ["CS4803", "CS7643"]
    assert [c["slug"] for c in data["categories"]] == [
        "ps0",
        "homework",
        "project",
        "participation",
    ]
    assert [a["slug"] for a in data["assignments"]] == [
        "ps0",
        "hw1",
        "hw2",
        "participation",
        "project",
    ]
    hw1 = data["assignments"][1]
    assert [q["slug"] for q in hw1["questions"]] == ["q1", "q2", "ec1"]
    # None and empty values are left out: no release time, no title, no tests.
    assert "release_at" not in data["assignments"][2]
    assert set(hw1["questions"][1]) == {"slug", "points", "undergraduate", "graduate"}


def test_a_time_in_the_repeated_fall_back_hour_keeps_its_occurrence(workdir: Path) -> None:
    course_load(path=workdir / "cs7643.toml")
    first = datetime(2021, 11, 7, 5, 30, tzinfo=UTC)  # 01:30 EDT, the first 1:30 that night
    Assignment.objects.filter(slug="project").update(due_at=first)
    exported = course_export(course=Course.objects.get(slug=SLUG))
    assert "due_at = 2021-11-07T01:30:00-04:00\n" in exported

    path = workdir / "fall-back.toml"
    path.write_text(exported)
    course_load(path=path, force=True)
    assert Assignment.objects.get(slug="project").due_at == first


def test_a_course_never_loaded_exports_its_bundle_paths_as_recorded() -> None:
    course = CourseFactory(slug="made-in-admin")
    category = CategoryFactory(course=course, slug="homework", weight=100)
    AssignmentFactory(
        course=course, category=category, slug="hw1", autograder_bundle="/srv/bundles/hw1"
    )
    exported = course_export(course=course)
    assert 'bundle = "/srv/bundles/hw1"' in exported
    assert f"# {ABSOLUTE_BUNDLE_NOTE}" in exported


def test_decimals_are_written_as_whole_numbers_or_their_digits() -> None:
    assert toml_value(Decimal("100.00")) == 100
    assert isinstance(toml_value(Decimal("100.00")), int)
    assert toml_value(Decimal("12.50")) == 12.5
    assert str(toml_value(Decimal("0.10"))) == "0.1"
    assert str(toml_value(Decimal("999999.99"))) == "999999.99"


# --- Hypothesis: varied courses --------------------------------------------------------------

ZONES = ["America/New_York", "Europe/London", "Australia/Lord_Howe", "Asia/Kolkata", "UTC"]
# Text a person may type: any character but surrogates and NUL (refused everywhere).
TEXT = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")
SLUGS = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_", min_size=1, max_size=12)
URLS = st.builds(lambda s: f"https://example.edu/{s}", SLUGS)
LINKS = st.dictionaries(
    st.text(TEXT, min_size=1, max_size=12),
    st.one_of(URLS, st.fixed_dictionaries({"url": URLS, "note": st.text(TEXT, max_size=20)})),
    max_size=3,
)
CENTS = st.integers(min_value=0, max_value=99_999_999).map(lambda n: Decimal(n) / 100)
PERCENT = st.integers(min_value=0, max_value=10_000).map(lambda n: Decimal(n) / 100)
# Around the changes of the clocks (northern spring and autumn, southern autumn and spring).
DST_DAYS = [
    datetime(2021, 3, 14),
    datetime(2021, 11, 7),
    datetime(2021, 4, 4),
    datetime(2021, 10, 3),
]


@st.composite
def moments(draw: st.DrawFn, tz_name: str, after: datetime | None = None) -> Any:
    """A time as a config writes it: a local date-time (never one the clocks skip) or an
    offset date-time, near a change of the clocks."""
    tz = deadlines.zone(tz_name)
    if after is None:
        local = draw(st.sampled_from(DST_DAYS)) + timedelta(
            minutes=draw(st.integers(min_value=-180, max_value=180))
        )
    else:
        local = after + timedelta(minutes=draw(st.integers(min_value=1, max_value=60 * 24 * 30)))
    assume(deadlines.local_time_exists(local, tz))
    return deadlines.localize(local, tz) if draw(st.booleans()) else local


def weights(draw: st.DrawFn) -> list[Decimal]:
    """Non-bonus weights summing to exactly 100."""
    cuts = sorted(draw(st.lists(st.integers(0, 10_000), max_size=3)))
    bounds = [0, *cuts, 10_000]
    return [Decimal(b - a) / 100 for a, b in itertools.pairwise(bounds)]


@st.composite
def configs(draw: st.DrawFn) -> dict[str, Any]:
    tz_name = draw(st.sampled_from(ZONES))
    course: dict[str, Any] = {
        "slug": draw(SLUGS),
        "title": draw(st.text(TEXT, min_size=1, max_size=40)),
        "term": draw(st.text(TEXT, min_size=1, max_size=20)),
        "timezone": tz_name,
        "regrade_days": draw(st.integers(0, 30)),
        "links": draw(LINKS),
    }
    if draw(st.booleans()):
        course["registration_ends"] = draw(moments(tz_name))
    codes = draw(
        st.lists(
            st.text(TEXT, min_size=1, max_size=10).filter(lambda c: c == c.strip()),
            max_size=3,
            unique=True,
        )
    )
    sections = [
        {
            "code": code,
            "level": draw(st.sampled_from(["undergraduate", "graduate"])),
            "capacity": draw(st.integers(1, 500)),
            "links": draw(LINKS),
        }
        for code in codes
    ]
    categories: list[dict[str, Any]] = [
        {"slug": f"c{n}", "weight": w} for n, w in enumerate(weights(draw))
    ]
    if draw(st.booleans()):
        categories.append({"slug": "bonus", "weight": draw(PERCENT), "bonus": True})
    assignments = [
        draw(assignment(f"a{n}", tz_name, [c["slug"] for c in categories]))
        for n in range(draw(st.integers(0, 3)))
    ]
    return {
        "course": course,
        "sections": sections,
        "categories": categories,
        "assignments": assignments,
    }


@st.composite
def assignment(draw: st.DrawFn, slug: str, tz_name: str, categories: list[str]) -> dict[str, Any]:
    release = draw(st.none() | moments(tz_name))
    due = draw(
        moments(tz_name, after=release.replace(tzinfo=None) if release is not None else None)
    )
    item: dict[str, Any] = {
        "slug": slug,
        "title": draw(st.text(TEXT, min_size=1, max_size=40)),
        "category": draw(st.sampled_from(categories)),
        "due_at": due,
        "grace_days": draw(st.integers(0, 10)),
        "after_grace": draw(st.sampled_from(["refuse", "accept_late"])),
        "collaboration": draw(st.booleans()),
        "anonymous_grading": draw(st.booleans()),
        "points": draw(CENTS),
        "max_upload_mb": draw(st.integers(1, 2048)),
    }
    if release is not None:
        item["release_at"] = release
    if draw(st.booleans()):
        item["readiness_threshold"] = draw(PERCENT)
    if draw(st.booleans()):
        low = draw(st.integers(1, 5))
        item["group"], item["group_size"] = True, [low, low + draw(st.integers(0, 3))]
    graded = draw(st.booleans())
    if graded:
        item["autograder"] = {
            "bundle": "bundle",
            "queue": draw(st.sampled_from(["cpu", "gpu"])),
            "timeout_s": draw(st.integers(1, 3600)),
            "memory_mb": draw(st.integers(1, 65536)),
        }
    item["questions"] = [
        {
            "slug": f"q{n}",
            "points": draw(CENTS),
            "title": draw(st.text(TEXT, max_size=30)),
            "tests": draw(st.lists(st.text(TEXT, min_size=1, max_size=10), max_size=3))
            if graded
            else [],
            "undergraduate": draw(st.sampled_from(["required", "extra_credit", "not_offered"])),
            "graduate": draw(st.sampled_from(["required", "extra_credit", "not_offered"])),
        }
        for n in range(draw(st.integers(0, 3)))
    ]
    return item


def _plain(value: Any) -> Any:
    """Config data as tomlkit writes it (decimals as numbers)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return toml_value(value)


@pytest.fixture(scope="module")
def bundle_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("hypothesis")
    (folder / "bundle").mkdir()
    (folder / "bundle" / "run_autograder").write_text("#!/bin/sh\n")
    yield folder


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(config=configs())
def test_varied_courses_round_trip(config: dict[str, Any], bundle_dir: Path) -> None:
    path = bundle_dir / "course.toml"
    path.write_text(tomlkit.dumps(_plain(config)), encoding="utf-8")
    assert_round_trip(path)


# --- export_course ---------------------------------------------------------------------------


def test_export_course_prints_the_export(workdir: Path) -> None:
    course_load(path=workdir / "cs7643.toml")
    out = StringIO()
    call_command("export_course", SLUG, stdout=out)
    assert out.getvalue() == course_export(course=Course.objects.get(slug=SLUG))


def test_export_course_of_an_unknown_slug_is_refused() -> None:
    CourseFactory(slug="other")
    with pytest.raises(CommandError) as refused:
        call_command("export_course", "nope")
    assert refused.value.returncode != 0
    assert str(refused.value) == "There is no course 'nope' (courses: other)."


def test_export_course_output_writes_bundle_paths_relative_to_the_file(
    workdir: Path, tmp_path: Path
) -> None:
    course_load(path=workdir / "cs7643.toml")
    before = rows()
    target = tmp_path / "elsewhere" / "course.toml"
    target.parent.mkdir()

    call_command("export_course", SLUG, output=str(target), stdout=StringIO())

    text = target.read_text()
    assert 'bundle = "../configs/autograders/hw1"' in text
    course_load(path=target)  # moving the file is no change in the portal
    assert rows() == before


# --- drift: changes in the portal since the last load ----------------------------------------


@pytest.fixture
def loaded(workdir: Path) -> Path:
    path = workdir / "cs7643.toml"
    course_load(path=path)
    return path


def test_a_load_records_the_course_as_loaded(loaded: Path) -> None:
    course = Course.objects.get(slug=SLUG)
    assert course.loaded_toml == course_export(course=course)
    assert course.loaded_from == str(loaded.resolve())
    assert course.loaded_at is not None and course.loaded_at.tzinfo is not None


def test_a_change_in_the_portal_is_shown_and_the_load_refused(
    loaded: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    Assignment.objects.filter(slug="hw1").update(title="HW1: changed in the portal")
    Category.objects.filter(slug="homework").update(weight=60)
    Category.objects.filter(slug="project").update(weight=35)
    before = rows()
    recorded = Course.objects.get(slug=SLUG).loaded_at
    assert recorded is not None

    with pytest.raises(CommandError) as refused:
        call_command("load_course", str(loaded))

    assert refused.value.returncode != 0
    when = recorded.astimezone(deadlines.zone("America/New_York"))
    assert str(refused.value) == (
        f"{loaded} refused, nothing was written: Course {SLUG} was changed in the portal "
        f"since its last load on {when:%Y-%m-%d %H:%M %Z}; export it with export_course, "
        "merge, or rerun with --force to overwrite."
    )
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"--- {SLUG} as loaded from {loaded.resolve()}"
    assert out[1] == f"+++ {SLUG} as the portal holds it now"
    assert '-title = "HW1"' in out
    assert '+title = "HW1: changed in the portal"' in out
    assert "-weight = 65" in out and "+weight = 60" in out
    assert "-weight = 30" in out and "+weight = 35" in out
    assert rows() == before  # nothing was written


def test_the_service_refuses_with_the_diff(loaded: Path) -> None:
    Question.objects.filter(slug="q2").update(points=Decimal("13.25"))
    with pytest.raises(CourseChangedInPortal) as refused:
        course_load(path=loaded)
    assert refused.value.code == "course_changed_in_portal"
    assert "-points = 12.5\n+points = 13.25\n" in refused.value.diff


def test_an_edited_file_over_a_change_in_the_portal_is_refused_too(loaded: Path) -> None:
    Assignment.objects.filter(slug="hw1").update(grace_days=5)
    loaded.write_text(loaded.read_text().replace('title = "HW1"', 'title = "HW1 again"'))
    with pytest.raises(CourseChangedInPortal):
        course_load(path=loaded)
    assert Assignment.objects.get(slug="hw1").title == "HW1"


def test_force_overwrites_the_change_and_records_anew(loaded: Path) -> None:
    Assignment.objects.filter(slug="hw1").update(grace_days=5)

    call_command("load_course", str(loaded), "--force", stdout=StringIO())

    course = Course.objects.get(slug=SLUG)
    assert Assignment.objects.get(slug="hw1").grace_days == 2
    assert course.loaded_toml == course_export(course=course)
    course_load(path=loaded)  # and the next load goes through


def test_a_change_undone_in_the_portal_is_no_change(loaded: Path) -> None:
    Assignment.objects.filter(slug="hw1").update(grace_days=5)
    Assignment.objects.filter(slug="hw1").update(grace_days=2)
    course_load(path=loaded)


def test_a_course_never_loaded_is_loaded_as_before() -> None:
    CourseFactory(slug=SLUG, title="Made in the admin")
    report = course_load(path=GOOD)
    course = Course.objects.get(slug=SLUG)
    assert report.updated == 1
    assert course.title == "Deep Learning"
    assert course.loaded_toml == course_export(course=course)


def test_a_refused_file_leaves_the_record_alone(loaded: Path, workdir: Path) -> None:
    before = Course.objects.values("loaded_toml", "loaded_from", "loaded_at").get(slug=SLUG)
    bad = workdir / "bad.toml"
    bad.write_text(loaded.read_text().replace("weight = 65", "weight = 6"))
    with pytest.raises(CourseConfigRefused):
        course_load(path=bad)
    assert Course.objects.values("loaded_toml", "loaded_from", "loaded_at").get(slug=SLUG) == before


def test_an_edited_file_is_recorded_with_the_time_of_its_load(loaded: Path) -> None:
    first = Course.objects.get(slug=SLUG).loaded_at
    assert first is not None
    loaded.write_text(loaded.read_text().replace('title = "HW1"', 'title = "HW1 again"'))

    course_load(path=loaded)

    course = Course.objects.get(slug=SLUG)
    assert 'title = "HW1 again"' in course.loaded_toml
    assert course.loaded_at is not None and course.loaded_at > first


# --- the download ----------------------------------------------------------------------------


def export_url(slug: str = SLUG) -> str:
    return reverse("courses:course_export", args=[slug])


def test_the_instructor_downloads_the_same_text(client: Any, loaded: Path) -> None:
    course = Course.objects.get(slug=SLUG)
    instructor = EnrollmentFactory(course=course, section=None, role="instructor")
    client.force_login(instructor.user)

    response = client.get(export_url())

    assert response.status_code == 200
    assert response["Content-Type"] == "application/toml; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="{SLUG}.toml"'
    out = StringIO()
    call_command("export_course", SLUG, stdout=out)
    assert response.content.decode() == out.getvalue()


@pytest.mark.parametrize("role", ["ta", "student", "waitlisted", "sit_in"])
def test_others_enrolled_get_a_404(client: Any, loaded: Path, role: str) -> None:
    course = Course.objects.get(slug=SLUG)
    section = course.sections.first()
    member = EnrollmentFactory(course=course, section=section, role=role)
    client.force_login(member.user)
    assert client.get(export_url()).status_code == 404


def test_someone_not_enrolled_gets_a_404(client: Any, loaded: Path, student: Any) -> None:
    client.force_login(student.user)
    assert client.get(export_url()).status_code == 404


def test_the_download_needs_a_login(client: Any, loaded: Path) -> None:
    response = client.get(export_url())
    assert response.status_code == 302
    assert "login" in response["Location"]


def test_the_course_page_links_the_download_for_the_instructor_only(
    client: Any, instructor: Any, ta: Any, student: Any
) -> None:
    url = reverse("courses:course_detail", args=[instructor.course.slug])
    link = f'href="{export_url(instructor.course.slug)}" download>Download course TOML</a>'
    client.force_login(instructor.user)
    assert link in client.get(url).content.decode()
    for other in (ta, student):
        client.force_login(other.user)
        assert "Download course TOML" not in client.get(url).content.decode()


def test_the_download_makes_the_same_queries_however_many_rows(
    client: Any, instructor: Any, homework: Any, django_assert_max_num_queries: Any
) -> None:
    course = instructor.course
    client.force_login(instructor.user)

    def add(n: int) -> None:
        for _ in range(n):
            a = AssignmentFactory(course=course, category=homework)
            QuestionFactory(assignment=a)
            QuestionFactory(assignment=a)

    add(1)
    with django_assert_max_num_queries(10):
        assert client.get(export_url(course.slug)).status_code == 200
    add(20)
    with django_assert_max_num_queries(10):
        assert client.get(export_url(course.slug)).status_code == 200


def test_the_course_rules_and_a_similarity_starter_round_trip(workdir: Path) -> None:
    """The keys other features added (roster rules, the similarity starter) are exported."""
    (workdir / "starter" / "hw1").mkdir(parents=True)
    text = (workdir / "cs7643.toml").read_text()
    text = text.replace(
        "regrade_days = 7\n",
        'regrade_days = 7\nwaitlisted_may_submit = ["ps0"]\ngroups_mix_levels = true\n',
        1,
    )
    grader = 'autograder = { bundle = "autograders/hw1"'
    assert grader in text
    text = text.replace(grader, 'similarity = { starter = "starter/hw1" }\n' + grader, 1)
    path = workdir / "rules.toml"
    path.write_text(text)
    exported = assert_round_trip(path)
    assert 'waitlisted_may_submit = ["ps0"]\n' in exported
    assert "groups_mix_levels = true\n" in exported
    assert 'similarity = {starter = "starter/hw1"}' in exported
