"""load_course: the TOML config, its refusals, and an idempotent, all-or-nothing write."""

from __future__ import annotations

import shutil
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from courses.hooks import assignments_changed
from courses.models import Assignment, Category, ConfigChange, Course, Question, Section
from courses.services import CourseConfigRefused, LoadReport, course_load
from tests.factories import EnrollmentFactory, ExtensionFactory

pytestmark = pytest.mark.django_db

CONFIGS = Path(__file__).parent / "configs"
GOOD = CONFIGS / "cs7643.toml"
GOOD_TEXT = GOOD.read_text()
MODELS = (Course, Section, Category, Assignment, Question)


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A folder with the autograder bundles, for edited copies of the good config."""
    shutil.copytree(CONFIGS / "autograders", tmp_path / "autograders")
    return tmp_path


def edit(*changes: tuple[str, str], text: str = GOOD_TEXT) -> str:
    for old, new in changes:
        assert old in text, old
        text = text.replace(old, new, 1)
    return text


def write(folder: Path, text: str, name: str = "course.toml") -> Path:
    path = folder / name
    path.write_text(text)
    return path


def problems_of(path: Path) -> list[str]:
    with pytest.raises(CourseConfigRefused) as refused:
        course_load(path=path)
    return refused.value.problems


def snapshot() -> dict[str, list[dict[str, Any]]]:
    return {m.__name__: list(m.objects.order_by("pk").values()) for m in MODELS}


def without_record(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Course rows without the record of their last load (``loaded_*``)."""
    return [{k: v for k, v in row.items() if not k.startswith("loaded_")} for row in rows]


def writes(queries: CaptureQueriesContext) -> list[str]:
    return [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
    ]


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# --- a good config ---------------------------------------------------------------------------


@pytest.fixture
def loaded() -> LoadReport:
    """The good config, loaded into an empty database."""
    return course_load(path=GOOD)


@pytest.fixture
def loaded_course(loaded: LoadReport) -> Course:
    return Course.objects.get(slug="cs7643-sp21")


@pytest.fixture
def loaded_assignments(loaded_course: Course) -> dict[str, Assignment]:
    return {x.slug: x for x in loaded_course.assignments.select_related("category")}


def test_good_config_report_counts_every_row(loaded: LoadReport) -> None:
    assert (loaded.created, loaded.updated, loaded.deleted, loaded.unchanged) == (15, 0, 0, 0)
    assert loaded.summary() == (
        "Course cs7643-sp21: 2 sections, 4 categories, 5 assignments, 3 questions "
        "(created 15, updated 0, deleted 0, unchanged 0)"
    )


def test_good_config_course_fields(loaded_course: Course) -> None:
    assert (loaded_course.title, loaded_course.term, loaded_course.timezone) == (
        "Deep Learning",
        "Spring 2021",
        "America/New_York",
    )
    assert loaded_course.registration_ends == utc(2021, 1, 30, 4, 59)
    assert loaded_course.regrade_days == 7
    assert loaded_course.links == [
        {"name": "website", "url": "https://example.edu/cs7643", "note": ""},
        {"name": "forum", "url": "https://example.edu/forum/dl2021", "note": "access code DL2021"},
    ]


def test_good_config_sections(loaded_course: Course) -> None:
    sections = {s.code: s for s in loaded_course.sections.all()}
    assert sections["CS4803"].level == "undergraduate"
    assert sections["CS4803"].capacity == 90
    assert sections["CS4803"].links == [
        {"name": "lms", "url": "https://example.edu/lms/172518", "note": ""}
    ]
    assert (sections["CS7643"].level, sections["CS7643"].capacity) == ("graduate", 150)
    assert sections["CS7643"].links == []


def test_good_config_categories_in_file_order(loaded_course: Course) -> None:
    assert [(c.slug, c.weight, c.bonus, c.position) for c in loaded_course.categories.all()] == [
        ("ps0", Decimal(5), False, 0),
        ("homework", Decimal(65), False, 1),
        ("project", Decimal(30), False, 2),
        ("participation", Decimal(3), True, 3),
    ]


def test_good_config_assignments_in_file_order(loaded_course: Course) -> None:
    assert [x.slug for x in loaded_course.assignments.all()] == [
        "ps0",
        "hw1",
        "hw2",
        "participation",
        "project",
    ]


def test_good_config_an_assignment_without_autograder(
    loaded_assignments: dict[str, Assignment],
) -> None:
    ps0 = loaded_assignments["ps0"]
    assert ps0.category.slug == "ps0"
    assert ps0.release_at == utc(2021, 1, 19, 14, 0)
    assert ps0.due_at == utc(2021, 1, 21, 4, 59)
    assert (ps0.grace_days, ps0.after_grace, ps0.collaboration) == (0, "accept_late", False)
    assert ps0.readiness_threshold == Decimal(75)
    assert ps0.autograder_bundle == ""


def test_good_config_an_assignment_in_winter_time_with_its_autograder(
    loaded_assignments: dict[str, Assignment],
) -> None:
    hw1 = loaded_assignments["hw1"]
    # 23:59 in New York in February is 04:59 the next day in UTC (EST, -05:00).
    assert hw1.due_at == utc(2021, 2, 13, 4, 59)
    assert hw1.release_at == utc(2021, 1, 25, 14, 0)
    assert (hw1.grace_days, hw1.after_grace, hw1.collaboration) == (2, "refuse", True)
    assert hw1.readiness_threshold is None
    assert hw1.points == Decimal(100)
    assert hw1.autograder_bundle == str((CONFIGS / "autograders" / "hw1").resolve())
    assert Path(hw1.autograder_bundle).is_absolute()
    assert (hw1.autograder_queue, hw1.autograder_timeout_s, hw1.autograder_memory_mb) == (
        "gpu",
        600,
        4096,
    )


def test_good_config_questions_in_file_order(loaded_assignments: dict[str, Assignment]) -> None:
    questions = list(loaded_assignments["hw1"].questions.all())
    assert [
        (q.slug, q.title, q.points, q.undergraduate, q.graduate, q.position) for q in questions
    ] == [
        ("q1", "Backpropagation", Decimal(10), "required", "required", 0),
        ("q2", "", Decimal("12.5"), "required", "required", 1),
        ("ec1", "", Decimal(5), "extra_credit", "required", 2),
    ]


def test_good_config_question_tests(loaded_assignments: dict[str, Assignment]) -> None:
    # q1 is fed by the autograder tests its globs match; the others are graded by staff.
    tests = {q.slug: q.tests for q in loaded_assignments["hw1"].questions.all()}
    assert tests == {"q1": ["q1 *", "backprop*"], "q2": [], "ec1": []}


def test_good_config_an_assignment_in_summer_time_with_defaults(
    loaded_assignments: dict[str, Assignment],
) -> None:
    hw2 = loaded_assignments["hw2"]
    # In April New York is on daylight saving time (EDT, -04:00).
    assert hw2.due_at == utc(2021, 4, 17, 3, 59)
    assert hw2.release_at is None
    assert hw2.grace_days == 3
    assert (hw2.autograder_queue, hw2.autograder_timeout_s, hw2.autograder_memory_mb) == (
        "cpu",
        600,
        768,
    )
    assert (hw2.group, hw2.group_min, hw2.group_max) == (False, 1, 1)


def test_good_config_an_offset_date_time_is_that_instant(
    loaded_assignments: dict[str, Assignment],
) -> None:
    # An offset date-time is that instant, whatever the course's zone.
    assert loaded_assignments["participation"].due_at == utc(2021, 4, 30, 16, 0)
    assert loaded_assignments["participation"].category.bonus is True


def test_good_config_a_group_assignment(loaded_assignments: dict[str, Assignment]) -> None:
    project = loaded_assignments["project"]
    assert project.due_at == utc(2021, 5, 5, 3, 59)
    assert (project.group, project.group_min, project.group_max) == (True, 3, 4)


def test_loading_twice_writes_nothing_the_second_time() -> None:
    course_load(path=GOOD)
    before = snapshot()

    with CaptureQueriesContext(connection) as queries:
        report = course_load(path=GOOD)

    assert writes(queries) == []
    assert (report.created, report.updated, report.deleted, report.unchanged) == (0, 0, 0, 15)
    assert not report.changed
    assert snapshot() == before


def test_an_edited_file_updates_just_what_changed(workdir: Path) -> None:
    course_load(path=write(workdir, GOOD_TEXT))
    before = snapshot()
    edited = edit(
        ('title = "HW1"', 'title = "HW1: Neural networks"'),
        ("weight = 65", "weight = 60"),
        ("weight = 30", "weight = 35"),
        ("due_at = 2021-05-04T23:59:00", "due_at = 2021-05-06T23:59:00"),
    )

    with CaptureQueriesContext(connection) as queries:
        report = course_load(path=write(workdir, edited))

    assert (report.created, report.updated, report.deleted, report.unchanged) == (0, 4, 0, 11)
    # Four updates, one insert of the change log's rows (by nobody: load_course), and the
    # course's record of this load (its export, for drift).
    written = writes(queries)
    assert len(written) == 6
    assert all(sql.lstrip().upper().startswith("UPDATE") for sql in written[:4])
    assert sum('INSERT INTO "courses_configchange"' in sql for sql in written) == 1
    assert sum('"loaded_toml"' in sql for sql in written) == 1
    logged = {
        (c.object, c.field, c.old, c.new): (c.by_id, c.source) for c in ConfigChange.objects.all()
    }
    assert logged == {
        ("assignment hw1", "title", "HW1", "HW1: Neural networks"): (None, "load_course"),
        ("category homework", "weight", "65", "60"): (None, "load_course"),
        ("category project", "weight", "30", "35"): (None, "load_course"),
        (
            "assignment project",
            "due_at",
            "2021-05-04T23:59:00-04:00",
            "2021-05-06T23:59:00-04:00",
        ): (None, "load_course"),
    }
    after = snapshot()
    assert [r["id"] for r in after["Assignment"]] == [r["id"] for r in before["Assignment"]]
    assert without_record(after["Course"]) == without_record(before["Course"])
    assert after["Section"] == before["Section"]
    assert after["Question"] == before["Question"]
    assert Assignment.objects.get(slug="hw1").title == "HW1: Neural networks"
    assert Assignment.objects.get(slug="project").due_at == utc(2021, 5, 7, 3, 59)
    assert Category.objects.get(slug="homework").weight == Decimal(60)


# HW1's first two questions as the good config writes them.
Q1 = (
    '[[assignments.questions]]\nslug = "q1"\ntitle = "Backpropagation"\npoints = 10\n'
    'tests = ["q1 *", "backprop*"]   # the autograder tests whose scores feed q1\n'
)
Q2 = '[[assignments.questions]]\nslug = "q2"\npoints = 12.5\n'


def test_removed_rows_are_deleted_and_new_ones_created(workdir: Path) -> None:
    course_load(path=write(workdir, GOOD_TEXT))
    hw1_id = Assignment.objects.get(slug="hw1").pk
    edited = edit(
        # ec1 goes; q3 comes; q2 moves before q1.
        (
            '[[assignments.questions]]\nslug = "ec1"\npoints = 5\n'
            'undergraduate = "extra_credit"\ngraduate = "required"\n',
            '[[assignments.questions]]\nslug = "q3"\npoints = 7\n',
        ),
        (
            f"{Q1}\n{Q2}",
            f"{Q2}\n{Q1}",
        ),
        # The second section goes.
        ('[[sections]]\ncode = "CS7643"\nlevel = "graduate"\ncapacity = 150\n', ""),
    )

    report = course_load(path=write(workdir, edited))

    questions = Question.objects.filter(assignment_id=hw1_id)
    assert [(q.slug, q.position) for q in questions] == [("q2", 0), ("q1", 1), ("q3", 2)]
    assert not Question.objects.filter(slug="ec1").exists()
    assert list(Section.objects.values_list("code", flat=True)) == ["CS4803"]
    # q1 and q2 changed position; q3 is new; ec1 and CS7643 are gone.
    assert (report.created, report.updated, report.deleted) == (1, 2, 2)


def test_a_removed_assignment_takes_its_questions_and_may_change_category(
    workdir: Path,
) -> None:
    course_load(path=write(workdir, GOOD_TEXT))
    start = GOOD_TEXT.index('[[assignments]]\nslug = "hw1"')
    end = GOOD_TEXT.index('[[assignments]]\nslug = "hw2"')
    edited = edit(
        (GOOD_TEXT[start:end], ""),
        # PS0 moves into homework; the ps0 category goes.
        ('[[categories]]\nslug = "ps0"\nweight = 5\n', ""),
        ("weight = 65", "weight = 70"),
        ('category = "ps0"', 'category = "homework"'),
    )

    report = course_load(path=write(workdir, edited))

    assert not Assignment.objects.filter(slug="hw1").exists()
    assert Question.objects.count() == 0
    assert not Category.objects.filter(slug="ps0").exists()
    assert Assignment.objects.get(slug="ps0").category.slug == "homework"
    # hw1 with its 3 questions, and the ps0 category.
    assert report.deleted == 5


def test_a_failed_load_of_an_edited_file_leaves_the_earlier_state(workdir: Path) -> None:
    course_load(path=write(workdir, GOOD_TEXT))
    EnrollmentFactory(section=Section.objects.get(code="CS7643"), role="student")
    before = snapshot()
    edited = edit(
        ('title = "Deep Learning"', 'title = "Deep Learning II"'),
        ('slug = "q2"', 'slug = "q9"'),
        ('[[sections]]\ncode = "CS7643"\nlevel = "graduate"\ncapacity = 150\n', ""),
    )

    problems = problems_of(write(workdir, edited))

    assert len(problems) == 1
    assert problems[0].startswith(
        "sections[CS7643]: is no longer in the file but cannot be deleted: "
        "still referred to by 1 enrollment"
    )
    assert snapshot() == before


def test_removing_an_assignment_with_an_extension_is_refused(workdir: Path) -> None:
    course_load(path=write(workdir, GOOD_TEXT))
    ExtensionFactory(assignment=Assignment.objects.get(slug="hw2"))
    before = snapshot()
    start = GOOD_TEXT.index('[[assignments]]\nslug = "hw2"')
    end = GOOD_TEXT.index('[[assignments]]\nslug = "participation"')

    problems = problems_of(write(workdir, edit((GOOD_TEXT[start:end], ""))))

    assert problems == [
        "assignments[hw2]: is no longer in the file but cannot be deleted: that would also "
        "delete 1 courses.Extension"
    ]
    assert snapshot() == before


def test_a_zip_bundle_is_accepted(workdir: Path) -> None:
    with zipfile.ZipFile(workdir / "hw2.zip", "w") as archive:
        archive.writestr("run_autograder", "#!/bin/sh\n")
        archive.writestr("setup.sh", "#!/bin/sh\n")
    edited = edit(
        (
            '[assignments.autograder]\nbundle = "autograders/hw1"',
            '[assignments.autograder]\nbundle = "hw2.zip"',
        )
    )

    course_load(path=write(workdir, edited))

    assert Assignment.objects.get(slug="hw2").autograder_bundle == str(workdir / "hw2.zip")


# --- assignments_changed: the assignments whose grades may need recomputing ------------------


@pytest.fixture
def sent() -> Iterator[list[list[int]]]:
    """The ``assignment_ids`` of every ``assignments_changed`` sent during the test."""
    calls: list[list[int]] = []

    def receiver(sender: type[Assignment], assignment_ids: list[int], **kwargs: Any) -> None:
        assert sender is Assignment
        calls.append(assignment_ids)

    assignments_changed.connect(receiver, weak=False)
    yield calls
    assignments_changed.disconnect(receiver)


def ids(*slugs: str) -> list[int]:
    return sorted(Assignment.objects.get(slug=slug).pk for slug in slugs)


def test_a_first_load_sends_no_assignments_changed(sent: list[list[int]]) -> None:
    course_load(path=GOOD)

    assert sent == []


def test_an_unchanged_second_load_sends_no_assignments_changed(sent: list[list[int]]) -> None:
    course_load(path=GOOD)
    course_load(path=GOOD)

    assert sent == []


def test_changed_question_tests_send_their_assignment(workdir: Path, sent: list[list[int]]) -> None:
    course_load(path=write(workdir, GOOD_TEXT))

    report = course_load(path=write(workdir, edit((TESTS_LINE, 'tests = ["q1 *"]'))))

    assert sent == [ids("hw1")]
    assert Question.objects.get(slug="q1").tests == ["q1 *"]
    assert (report.updated, report.unchanged) == (1, 14)


def test_changed_question_points_send_their_assignment(
    workdir: Path, sent: list[list[int]]
) -> None:
    course_load(path=write(workdir, GOOD_TEXT))

    course_load(path=write(workdir, edit(("points = 12.5", "points = 15"))))

    assert sent == [ids("hw1")]


def test_changed_assignment_points_send_that_assignment(
    workdir: Path, sent: list[list[int]]
) -> None:
    course_load(path=write(workdir, GOOD_TEXT))

    course_load(path=write(workdir, edit(("grace_days = 3\n", "grace_days = 3\npoints = 90\n"))))

    assert sent == [ids("hw2")]


def test_reordered_questions_send_their_assignment(workdir: Path, sent: list[list[int]]) -> None:
    # A test matching several questions feeds the first: the order is part of the scoring.
    course_load(path=write(workdir, GOOD_TEXT))

    course_load(path=write(workdir, edit((f"{Q1}\n{Q2}", f"{Q2}\n{Q1}"))))

    assert sent == [ids("hw1")]


def test_an_added_question_sends_its_assignment(workdir: Path, sent: list[list[int]]) -> None:
    course_load(path=write(workdir, GOOD_TEXT))
    edited = edit(
        (
            "grace_days = 3\n",
            'grace_days = 3\n\n[[assignments.questions]]\nslug = "q1"\npoints = 100\n',
        )
    )

    course_load(path=write(workdir, edited))

    assert sent == [ids("hw2")]


def test_a_removed_question_sends_its_assignment(workdir: Path, sent: list[list[int]]) -> None:
    course_load(path=write(workdir, GOOD_TEXT))

    course_load(path=write(workdir, edit((Q2, ""))))

    assert sent == [ids("hw1")]
    assert not Question.objects.filter(slug="q2").exists()


def test_several_changed_assignments_are_sent_once_in_id_order(
    workdir: Path, sent: list[list[int]]
) -> None:
    course_load(path=write(workdir, GOOD_TEXT))
    edited = edit(
        ("grace_days = 3\n", "grace_days = 3\npoints = 90\n"),
        ("points = 12.5", "points = 15"),
        (TESTS_LINE, 'tests = ["q1 *"]'),
    )

    course_load(path=write(workdir, edited))

    assert sent == [ids("hw1", "hw2")]


def test_a_new_assignment_is_not_sent(workdir: Path, sent: list[list[int]]) -> None:
    # Its points and questions are new, but it has no grades to recompute.
    course_load(path=write(workdir, GOOD_TEXT))
    edited = GOOD_TEXT + (
        '\n[[assignments]]\nslug = "hw9"\ntitle = "HW9"\ncategory = "homework"\n'
        'due_at = 2021-04-16T23:59:00\n\n[[assignments.questions]]\nslug = "q1"\npoints = 5\n'
    )

    report = course_load(path=write(workdir, edited))

    assert report.created == 2
    assert sent == []


def test_changes_outside_scoring_send_nothing(workdir: Path, sent: list[list[int]]) -> None:
    course_load(path=write(workdir, GOOD_TEXT))
    edited = edit(
        ('title = "Backpropagation"', 'title = "Backpropagation through time"'),
        ('undergraduate = "extra_credit"', 'undergraduate = "not_offered"'),
        ('title = "HW1"', 'title = "HW1: Neural networks"'),
        ("due_at = 2021-05-04T23:59:00", "due_at = 2021-05-06T23:59:00"),
    )

    report = course_load(path=write(workdir, edited))

    assert report.updated == 4
    assert sent == []


def test_assignments_changed_is_sent_inside_the_load_transaction(workdir: Path) -> None:
    # A receiver that fails takes the whole load back with it.
    course_load(path=write(workdir, GOOD_TEXT))
    before = snapshot()

    def refuse(**kwargs: Any) -> None:
        assert Question.objects.get(slug="q1").tests == ["q1 *"]  # written already
        raise RuntimeError("the receiver failed")

    assignments_changed.connect(refuse, weak=False)
    try:
        with pytest.raises(RuntimeError, match="the receiver failed"):
            course_load(path=write(workdir, edit((TESTS_LINE, 'tests = ["q1 *"]'))))
    finally:
        assignments_changed.disconnect(refuse)

    assert snapshot() == before


def test_a_refused_load_sends_nothing(workdir: Path, sent: list[list[int]]) -> None:
    course_load(path=write(workdir, GOOD_TEXT))
    EnrollmentFactory(section=Section.objects.get(code="CS7643"), role="student")
    edited = edit(
        (TESTS_LINE, 'tests = ["q1 *"]'),
        ('[[sections]]\ncode = "CS7643"\nlevel = "graduate"\ncapacity = 150\n', ""),
    )

    problems_of(write(workdir, edited))

    assert sent == []


# --- refusals --------------------------------------------------------------------------------

HW2_BUNDLE = '[assignments.autograder]\nbundle = "autograders/hw1"'
TESTS_LINE = 'tests = ["q1 *", "backprop*"]'

BAD_CONFIGS = {
    "unknown key": (
        (
            "due_at = 2021-02-12T23:59:00\n",
            "due_at = 2021-02-12T23:59:00\nduee_at = 2021-02-12T23:59:00\n",
        ),
        "assignments[hw1].duee_at: unknown key",
    ),
    "unknown key in course": (
        ("regrade_days = 7", "regrade_days = 7\nregrade_dayz = 7"),
        "course.regrade_dayz: unknown key",
    ),
    "unknown key in a link": (
        ('note = "access code', 'notes = "access code'),
        "course.links.forum.notes: unknown key",
    ),
    "unknown top-level table": (
        ("[course.links]", "[extras]\nx = 1\n\n[course.links]"),
        "extras: unknown key",
    ),
    "bad time zone": (
        ('timezone = "America/New_York"', 'timezone = "America/Gotham"'),
        "course.timezone: 'America/Gotham' is not a known IANA time zone",
    ),
    "unknown category": (
        ('category = "homework"\nrelease_at', 'category = "homewrok"\nrelease_at'),
        "assignments[hw1].category: 'homewrok' is not a declared category "
        "(ps0, homework, project, participation)",
    ),
    "due before release": (
        ("release_at = 2021-01-25T09:00:00", "release_at = 2021-02-13T09:00:00"),
        "assignments[hw1].due_at: must be after release_at",
    ),
    "due at release": (
        ("release_at = 2021-01-25T09:00:00", "release_at = 2021-02-12T23:59:00"),
        "assignments[hw1].due_at: must be after release_at",
    ),
    "duplicate assignment slug": (
        ('slug = "hw2"', 'slug = "hw1"'),
        "assignments[hw1].slug: duplicate slug 'hw1' (listed 2 times)",
    ),
    "duplicate question slug": (
        ('slug = "q2"', 'slug = "q1"'),
        "assignments[hw1].questions[q1].slug: duplicate slug 'q1' (listed 2 times)",
    ),
    "duplicate section code": (
        ('code = "CS7643"', 'code = "CS4803"'),
        "sections[CS4803].code: duplicate code 'CS4803' (listed 2 times)",
    ),
    "duplicate category slug": (
        ('slug = "project"\nweight', 'slug = "homework"\nweight'),
        "categories[homework].slug: duplicate slug 'homework' (listed 2 times)",
    ),
    "weights not 100": (
        ("weight = 65", "weight = 60"),
        "categories: the weights of the non-bonus categories sum to 95, not 100",
    ),
    "weight over 100": (
        ("weight = 3\n", "weight = 103\n"),
        "categories[participation].weight: must be at most 100, not 103",
    ),
    "bad level": (
        ('level = "graduate"', 'level = "grad"'),
        "sections[CS7643].level: must be 'undergraduate' or 'graduate', not 'grad'",
    ),
    "bad capacity": (
        ("capacity = 150", "capacity = 0"),
        "sections[CS7643].capacity: must be greater than 0, not 0",
    ),
    "group size min over max": (
        ("group_size = [3, 4]", "group_size = [4, 3]"),
        "assignments[project].group_size: must be [min, max] with 1 <= min <= max, not [4, 3]",
    ),
    "group size of zero": (
        ("group_size = [3, 4]", "group_size = [0, 4]"),
        "assignments[project].group_size: must be [min, max] with 1 <= min <= max, not [0, 4]",
    ),
    "group size of one number": (
        ("group_size = [3, 4]", "group_size = [3]"),
        "assignments[project].group_size: must be [min, max], two whole numbers",
    ),
    "group size without group": (
        ("group = true\n", "group = false\n"),
        "assignments[project].group_size: only allowed with group = true",
    ),
    "not TOML": (
        ('title = "Deep Learning"', "title = Deep Learning"),
        "not valid TOML: Invalid value (at line 5, column 9)",
    ),
    "missing course key": (
        ('term = "Spring 2021"\n', ""),
        "course.term: missing required key",
    ),
    "missing assignment key": (
        ("due_at = 2021-05-04T23:59:00\n", ""),
        "assignments[project].due_at: missing required key",
    ),
    "missing slug named by position": (
        ('slug = "hw2"\n', ""),
        "assignments[3].slug: missing required key",
    ),
    "bad after_grace": (
        ('after_grace = "accept_late"', 'after_grace = "late"'),
        "assignments[ps0].after_grace: must be 'refuse' or 'accept_late', not 'late'",
    ),
    "bad URL": (
        ('website = "https://example.edu/cs7643"', 'website = "ftp://example.edu/cs7643"'),
        "course.links.website: 'ftp://example.edu/cs7643' is not an http(s) URL",
    ),
    "bad URL in a link table": (
        ('url = "https://example.edu/forum/dl2021"', 'url = "example.edu/forum"'),
        "course.links.forum.url: 'example.edu/forum' is not an http(s) URL",
    ),
    "missing bundle": (
        ('bundle = "autograders/hw1", queue', 'bundle = "autograders/hw9", queue'),
        "assignments[hw1].autograder.bundle: {workdir}/autograders/hw9 does not exist",
    ),
    "absolute bundle path": (
        (HW2_BUNDLE, '[assignments.autograder]\nbundle = "/etc"'),
        "assignments[hw2].autograder.bundle: must be a path relative to the config file's folder",
    ),
    "bad queue": (
        ('queue = "gpu"', 'queue = "tpu"'),
        "assignments[hw1].autograder.queue: must be 'cpu' or 'gpu', not 'tpu'",
    ),
    "autograder without bundle": (
        (HW2_BUNDLE, "[assignments.autograder]\ntimeout_s = 60"),
        "assignments[hw2].autograder.bundle: missing required key",
    ),
    "local time in the DST gap": (
        ("due_at = 2021-04-16T23:59:00", "due_at = 2021-03-14T02:30:00"),
        "assignments[hw2].due_at: 2021-03-14T02:30:00 does not exist in America/New_York: "
        "the clocks skip it for daylight saving time",
    ),
    "a bare date": (
        ("due_at = 2021-05-04T23:59:00", "due_at = 2021-05-04"),
        "assignments[project].due_at: needs a date and a time",
    ),
    "a bare time": (
        ("registration_ends = 2021-01-29T23:59:00", "registration_ends = 23:59:00"),
        "course.registration_ends: needs a date and a time",
    ),
    "a quoted time": (
        ("due_at = 2021-05-04T23:59:00", 'due_at = "2021-05-04T23:59:00"'),
        "assignments[project].due_at: must be a TOML date-time",
    ),
    "bad question requirement": (
        ('undergraduate = "extra_credit"', 'undergraduate = "optional"'),
        "assignments[hw1].questions[ec1].undergraduate: must be 'required', 'extra_credit' "
        "or 'not_offered', not 'optional'",
    ),
    "negative question points": (
        ("points = 12.5", "points = -1"),
        "assignments[hw1].questions[q2].points: must be at least 0, not -1",
    ),
    "negative points": (
        ("points = 100", "points = -100"),
        "assignments[hw1].points: must be at least 0, not -100",
    ),
    "readiness over 100": (
        ("readiness_threshold = 75", "readiness_threshold = 150"),
        "assignments[ps0].readiness_threshold: must be at most 100, not 150",
    ),
    "fractional grace days": (
        ("grace_days = 0", "grace_days = 1.5"),
        "assignments[ps0].grace_days: must be a whole number, not 1.5",
    ),
    "negative grace days": (
        ("grace_days = 0", "grace_days = -1"),
        "assignments[ps0].grace_days: must be at least 0, not -1",
    ),
    "negative regrade days": (
        ("regrade_days = 7", "regrade_days = -7"),
        "course.regrade_days: must be at least 0, not -7",
    ),
    "string for a boolean": (
        ("collaboration = false", 'collaboration = "no"'),
        "assignments[ps0].collaboration: must be true or false, not 'no'",
    ),
    "question tests not an array": (
        (TESTS_LINE, 'tests = "q1 *"'),
        "assignments[hw1].questions[q1].tests: must be an array",
    ),
    "an empty question test glob": (
        (TESTS_LINE, 'tests = ["q1 *", ""]'),
        "assignments[hw1].questions[q1].tests[2]: must not be empty",
    ),
    "a question test glob that is not a string": (
        (TESTS_LINE, "tests = [1]"),
        "assignments[hw1].questions[q1].tests[1]: must be a string, not 1",
    ),
    "a question test glob over 200 characters": (
        (TESTS_LINE, f'tests = ["{"x" * 201}"]'),
        "assignments[hw1].questions[q1].tests[1]: must be at most 200 characters",
    ),
    "more than 50 question test globs": (
        (TESTS_LINE, f"tests = {[f'q1 {n}' for n in range(51)]}"),
        "assignments[hw1].questions[q1].tests: must have at most 50 items, not 51",
    ),
    "question tests without an autograder": (
        (
            "readiness_threshold = 75\n",
            'readiness_threshold = 75\n\n[[assignments.questions]]\nslug = "q1"\n'
            'points = 100\ntests = ["q1 *"]\n',
        ),
        "assignments[ps0].questions[q1].tests: tests feed a question from the autograder; "
        "this assignment has none",
    ),
    "slug with a space": (
        ('slug = "cs7643-sp21"', 'slug = "cs7643 sp21"'),
        "course.slug: must be a slug",
    ),
}


@pytest.mark.parametrize("change, expected", BAD_CONFIGS.values(), ids=BAD_CONFIGS.keys())
def test_a_bad_config_is_refused_naming_the_key(
    workdir: Path, change: tuple[str, str], expected: str
) -> None:
    path = write(workdir, edit(change))

    problems = problems_of(path)

    expected = expected.format(workdir=workdir.resolve())
    assert any(p.startswith(expected) for p in problems), problems
    assert all(Model.objects.count() == 0 for Model in MODELS)


def test_every_problem_is_reported_at_once(workdir: Path) -> None:
    edited = edit(
        ('timezone = "America/New_York"', 'timezone = "Mars/Olympus"'),
        ("due_at = 2021-02-12T23:59:00\n", "due_at = 2021-02-12T23:59:00\nduee_at = 1\n"),
        ('level = "graduate"', 'level = "grad"'),
        ("weight = 65", "weight = 60"),
        ('category = "homework"\nrelease_at', 'category = "hw"\nrelease_at'),
    )

    problems = problems_of(write(workdir, edited))

    assert sorted(p.split(":")[0] for p in problems) == [
        "assignments[hw1].category",
        "assignments[hw1].duee_at",
        "categories",
        "course.timezone",
        "sections[CS7643].level",
    ]


def test_a_bundle_folder_needs_run_autograder(workdir: Path) -> None:
    (workdir / "autograders" / "empty").mkdir()
    edited = edit((HW2_BUNDLE, '[assignments.autograder]\nbundle = "autograders/empty"'))

    problems = problems_of(write(workdir, edited))

    assert problems == [
        f"assignments[hw2].autograder.bundle: folder {workdir.resolve()}/autograders/empty "
        "has no run_autograder"
    ]


def test_a_zip_bundle_needs_run_autograder(workdir: Path) -> None:
    with zipfile.ZipFile(workdir / "hw2.zip", "w") as archive:
        archive.writestr("setup.sh", "#!/bin/sh\n")
    edited = edit((HW2_BUNDLE, '[assignments.autograder]\nbundle = "hw2.zip"'))

    problems = problems_of(write(workdir, edited))

    assert problems == [
        f"assignments[hw2].autograder.bundle: {workdir.resolve()}/hw2.zip has no "
        "run_autograder at its top level"
    ]


def test_fifty_question_test_globs_of_200_characters_are_accepted(workdir: Path) -> None:
    globs = [f"{n:02d}".ljust(200, "*") for n in range(50)]
    edited = edit((TESTS_LINE, f"tests = {globs}"))

    course_load(path=write(workdir, edited))

    assert Question.objects.get(slug="q1").tests == globs


def test_empty_question_tests_need_no_autograder(workdir: Path) -> None:
    edited = edit(
        (
            "readiness_threshold = 75\n",
            'readiness_threshold = 75\n\n[[assignments.questions]]\nslug = "q1"\n'
            "points = 100\ntests = []\n",
        )
    )

    course_load(path=write(workdir, edited))

    assert Question.objects.get(assignment__slug="ps0").tests == []


def test_bonus_categories_stay_outside_the_sum(workdir: Path) -> None:
    edited = edit(("weight = 3\n", "weight = 10\n"))

    course_load(path=write(workdir, edited))

    assert Category.objects.get(slug="participation").weight == Decimal(10)


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    problems = problems_of(tmp_path / "nope.toml")

    assert problems == [f"{tmp_path}/nope.toml: cannot be read (No such file or directory)"]


# --- the command -----------------------------------------------------------------------------


def test_command_prints_a_summary(capsys: pytest.CaptureFixture[str]) -> None:
    call_command("load_course", str(GOOD))
    call_command("load_course", str(GOOD))

    out = capsys.readouterr().out.splitlines()
    assert out[0] == (
        "Course cs7643-sp21: 2 sections, 4 categories, 5 assignments, 3 questions "
        "(created 15, updated 0, deleted 0, unchanged 0)"
    )
    assert out[1].startswith("New autograder versions: hw1 ")
    # The second run changes nothing, and says so.
    assert out[2:] == [
        "Course cs7643-sp21: 2 sections, 4 categories, 5 assignments, 3 questions "
        "(created 0, updated 0, deleted 0, unchanged 15)",
    ]


def test_command_refuses_a_bad_file_with_a_nonzero_exit(workdir: Path) -> None:
    path = write(
        workdir, edit(('level = "graduate"', 'level = "grad"'), ("weight = 65", "weight = 6"))
    )

    with pytest.raises(CommandError) as refused:
        call_command("load_course", str(path))

    assert refused.value.returncode != 0
    assert str(refused.value).splitlines() == [
        f"{path} refused, nothing was written:",
        "sections[CS7643].level: must be 'undergraduate' or 'graduate', not 'grad'",
        "categories: the weights of the non-bonus categories sum to 41, not 100",
    ]
    assert Course.objects.count() == 0


HW1_GRADER = 'autograder = { bundle = "autograders/hw1", queue = "gpu"'


def test_a_similarity_starter_folder_is_stored_resolved(workdir: Path) -> None:
    (workdir / "starter" / "hw1").mkdir(parents=True)
    edited = edit((HW1_GRADER, 'similarity = { starter = "starter/hw1" }\n' + HW1_GRADER))

    course_load(path=write(workdir, edited))

    hw1 = Assignment.objects.get(slug="hw1")
    assert hw1.similarity_starter == str((workdir / "starter" / "hw1").resolve())
    assert Assignment.objects.get(slug="hw2").similarity_starter == ""
    # Taken out of the file: no starter any more.
    course_load(path=write(workdir, GOOD_TEXT))
    assert Assignment.objects.get(slug="hw1").similarity_starter == ""


@pytest.mark.parametrize(
    ("starter", "problem"),
    [
        ('"missing"', "{root}/missing does not exist"),
        ('"notes.txt"', "{root}/notes.txt is not a folder"),
        ('"/etc"', "must be a folder relative to the config file's folder, not '/etc'"),
        ("7", "must be a string, not 7"),
    ],
)
def test_a_similarity_starter_must_be_a_folder(workdir: Path, starter: str, problem: str) -> None:
    (workdir / "notes.txt").write_text("hi")
    edited = edit((HW1_GRADER, f"similarity = {{ starter = {starter} }}\n" + HW1_GRADER))

    problems = problems_of(write(workdir, edited))

    assert problems == [
        "assignments[hw1].similarity.starter: " + problem.format(root=workdir.resolve())
    ]


def test_a_similarity_table_allows_only_starter(workdir: Path) -> None:
    (workdir / "starter").mkdir()
    edited = edit((HW1_GRADER, 'similarity = { starter = "starter", k = 5 }\n' + HW1_GRADER))

    problems = problems_of(write(workdir, edited))

    assert len(problems) == 1 and problems[0].startswith("assignments[hw1].similarity.k")
