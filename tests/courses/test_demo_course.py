"""The demo course file encodes the syllabus of CS 4803/7643 Spring 2021 (shared/seed)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from courses.models import Assignment, Course, Enrollment

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
