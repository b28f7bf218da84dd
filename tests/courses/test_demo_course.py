"""The demo course file encodes the syllabus of CS 4803/7643 Spring 2021 (shared/seed)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from courses.models import Assignment, Course, Enrollment
from grading import scoring

DEMO = Path(__file__).resolve().parents[2] / "demo"
NY = ZoneInfo("America/New_York")

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo():
    call_command("load_course", str(DEMO / "cs7643-sp21.toml"))
    call_command("import_roster", "cs7643-sp21", str(DEMO / "roster.csv"))
    return Course.objects.get(slug="cs7643-sp21")


def local(moment):
    return moment.astimezone(NY).replace(tzinfo=None)


def test_course_links(demo):
    links = {link["name"]: link for link in demo.links}
    assert links["website"]["url"] == "https://www.cc.gatech.edu/classes/AY2021/cs7643_spring/"
    assert links["forum"]["url"] == "http://piazza.com/gatech/spring2021/cs48037643a"
    assert "DL2021" in links["forum"]["note"]
    assert links["dean_of_students"]["url"] == "https://studentlife.gatech.edu/"


def test_sections_and_their_links(demo):
    sections = {s.code: s for s in demo.sections.all()}
    assert sections["CS4803"].level == "undergraduate"
    assert sections["CS7643"].level == "graduate"
    lms = {code: {x["name"]: x["url"] for x in s.links} for code, s in sections.items()}
    assert lms["CS4803"]["lms"].endswith("/172518")
    assert lms["CS7643"]["lms"].endswith("/172536")
    assert lms["CS4803"]["gradescope"].endswith("/228228")
    assert lms["CS7643"]["gradescope"].endswith("/229744")
    assert all(s.capacity > 0 for s in sections.values())


def test_registration_ends_in_the_first_week(demo):
    # Classes began Tue Jan 19 2021.
    assert datetime(2021, 1, 19) < local(demo.registration_ends) < datetime(2021, 1, 26)


def test_regrade_window(demo):
    assert demo.regrade_days == 7


def test_weights(demo):
    cats = {c.slug: (c.weight, c.bonus) for c in demo.categories.all()}
    assert cats == {
        "homework": (Decimal(80), False),
        "project": (Decimal(20), False),
        "participation": (Decimal(3), True),
        "ps0": (Decimal(0), False),
    }


def test_ps0(demo):
    ps0 = Assignment.objects.get(course=demo, slug="ps0")
    assert local(ps0.release_at) == datetime(2021, 1, 19, 9, 0)  # Tue
    assert local(ps0.due_at) == datetime(2021, 1, 20, 23, 59)  # Wed 11:59pm
    assert ps0.grace_days == 0 and ps0.after_grace == "accept_late"
    assert ps0.collaboration is False
    assert ps0.readiness_threshold == 75
    assert ps0.category.slug == "ps0"


def test_homeworks(demo):
    hws = {a.slug: a for a in Assignment.objects.filter(course=demo, category__slug="homework")}
    assert sorted(hws) == ["hw1", "hw2", "hw3", "hw4", "hw5"]
    for hw in hws.values():
        assert hw.grace_days == 2 and hw.after_grace == "refuse" and hw.collaboration
        assert hw.autograder_bundle and Path(hw.autograder_bundle, "run_autograder").exists()
        ec = [q for q in hw.questions.all() if q.undergraduate == "extra_credit"]
        assert ec and all(q.graduate == "required" for q in ec)
    assert {s: hws[s].autograder_queue for s in hws} == {
        "hw1": "cpu",
        "hw2": "gpu",
        "hw3": "gpu",
        "hw4": "gpu",
        "hw5": "cpu",
    }


def test_project(demo):
    project = Assignment.objects.get(course=demo, slug="project")
    assert project.group and (project.group_min, project.group_max) == (3, 4)
    assert project.category.slug == "project"
    assert local(project.due_at) == datetime(2021, 5, 4, 23, 59)


def test_every_role_in_both_sections(demo):
    have = set(Enrollment.objects.filter(course=demo).values_list("role", "section__code"))
    for role in ["student", "waitlisted", "sit_in", "ta"]:
        for section in ["CS4803", "CS7643"]:
            assert (role, section) in have, (role, section)
    assert ("instructor", None) in have


def test_loading_the_demo_twice_changes_nothing(demo, capsys):
    capsys.readouterr()
    call_command("load_course", str(DEMO / "cs7643-sp21.toml"))
    assert "created 0, updated 0, deleted 0" in capsys.readouterr().out


# --- questions and their autograders ---------------------------------------------------------

AUTOGRADED = ["ps0", "hw1", "hw2", "hw3", "hw4", "hw5"]


def questions_of(demo, slug):
    return list(Assignment.objects.get(course=demo, slug=slug).questions.all())


def test_every_autograded_assignment_has_its_own_bundle_folder(demo):
    bundles = dict(
        Assignment.objects.filter(course=demo)
        .exclude(autograder_bundle="")
        .values_list("slug", "autograder_bundle")
    )
    assert sorted(bundles) == sorted(AUTOGRADED)
    for slug, bundle in bundles.items():
        assert Path(bundle) == (DEMO / "autograders" / slug).resolve()
        for name in ["run_autograder", "setup.sh"]:
            assert os.access(Path(bundle, name), os.X_OK), (slug, name)
        assert Path(bundle, "grade.py").is_file()


def test_homework_questions(demo):
    shown = {
        slug: [(q.slug, q.title, q.points, q.tests) for q in questions_of(demo, slug)]
        for slug in ["hw1", "hw2", "hw3", "hw4", "hw5"]
    }

    def qs(q1, q2, ec1, written=True):
        return [
            ("q1", q1[0], Decimal(q1[1]), ["q1*"]),
            ("q2", q2[0], Decimal(q2[1]), ["q2*"]),
            *([("q3", "Problem set: written answers", Decimal(30), [])] if written else []),
            ("ec1", f"{ec1} (extra credit for 4803, required for 7643)", Decimal(10), ["ec1*"]),
        ]

    assert shown == {
        "hw1": qs(("Linear layer", 35), ("Backpropagation", 35), "ReLU"),
        "hw2": qs(("Convolution", 40), ("Max pooling", 30), "Zero padding"),
        "hw3": qs(("Saliency maps", 30), ("Style transfer losses", 40), "Total variation loss"),
        "hw4": qs(("Recurrent cell", 30), ("Attention", 40), "Causal masking"),
        "hw5": qs(
            ("Q-learning update", 60), ("Epsilon-greedy policy", 40), "Double Q-learning", False
        ),
    }


def test_homeworks_are_out_of_100_with_10_extra(demo):
    for slug in ["hw1", "hw2", "hw3", "hw4", "hw5"]:
        questions = questions_of(demo, slug)
        required = sum(q.points for q in questions if q.undergraduate == "required")
        extra = sum(q.points for q in questions if q.undergraduate == "extra_credit")
        assert (required, extra) == (100, 10), slug
        assert all(q.graduate == "required" for q in questions)


def test_ps0_and_the_project_have_no_questions(demo):
    # PS0 takes the autograder's whole score; the project is graded by staff.
    for slug in ["ps0", "project"]:
        assignment = Assignment.objects.get(course=demo, slug=slug)
        assert (assignment.points, questions_of(demo, slug)) == (100, [])


def specs_of(demo, slug):
    """The assignment's questions as grading.scoring reads them."""
    specs = [
        scoring.QuestionSpec(q.slug, q.points, tuple(q.tests)) for q in questions_of(demo, slug)
    ]
    return specs or scoring.implicit(Assignment.objects.get(course=demo, slug=slug).points)


def grade_sample(slug, tmp_path):
    """The sample solution's results.json, graded by the assignment's bundle."""
    out = tmp_path / f"{slug}.json"
    subprocess.run(
        [sys.executable, DEMO / "autograders" / slug / "grade.py", DEMO / "solutions" / slug, out],
        check=True,
        timeout=60,
    )
    return json.loads(out.read_text())["tests"]


@pytest.mark.parametrize("slug", AUTOGRADED)
def test_every_bundle_test_feeds_a_question_its_points_can_hold(demo, slug, tmp_path):
    specs = specs_of(demo, slug)
    tests = [
        scoring.TestScore(t["name"], t["max_score"], t["max_score"])
        for t in grade_sample(slug, tmp_path)
    ]
    # Full marks on every test fill every autograded question exactly, and need no review.
    assert scoring.review_reasons(specs, tests, sum(t.score for t in tests)) == []
    full = scoring.autograded_parts(specs, tests, sum(t.score for t in tests))
    assert full == {q.slug: q.points if q.tests else None for q in specs}


SAMPLE_SCORES = {
    "ps0": {"": 100},
    "hw1": {"q1": 35, "q2": 25, "q3": None, "ec1": 10},
    "hw2": {"q1": 40, "q2": 30, "q3": None, "ec1": 10},
    "hw3": {"q1": 30, "q2": 20, "q3": None, "ec1": 0},
    "hw4": {"q1": 30, "q2": 30, "q3": None, "ec1": 10},
    "hw5": {"q1": 30, "q2": 40, "ec1": 0},
}


@pytest.mark.parametrize("slug", AUTOGRADED)
def test_the_sample_solutions_get_full_and_partial_credit(demo, slug, tmp_path):
    specs = specs_of(demo, slug)
    results = grade_sample(slug, tmp_path)
    tests = [scoring.TestScore(t["name"], t["score"], t["max_score"]) for t in results]
    parts = scoring.autograded_parts(specs, tests, sum(t.score for t in tests))
    expected = SAMPLE_SCORES[slug]
    assert parts == {q: None if v is None else Decimal(v) for q, v in expected.items()}
