"""Sets up the demo course and serves it: `python manage.py demo` (the README's first command
runs it through bin/demo). Safe to run again: loading and importing are idempotent, and the
sample submissions are made once.

The course is Spring 2021, so every deadline has passed; a few sample submissions (``SAMPLES``,
the files in ``demo/solutions/<assignment>/``), handed in "back then" through the same service
as a real upload, are graded in-process (no Redis) by the same sandbox as a worker, with each
assignment's own bundle in ``demo/autograders/<assignment>/``, so the first start shows real
autograder results feeding the questions, some with full and some with partial credit."""

from __future__ import annotations

import io
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from courses.models import Assignment, Enrollment
from portal.management.commands.load_course import CourseChangedError
from submissions.models import Submission
from submissions.services import submission_create

DEMO_DIR = Path(settings.BASE_DIR) / "demo"
DEMO_COURSE = "cs7643-sp21"
DEMO_PASSWORD = "demo"
# (username, what they are) — printed so a newcomer knows whom to log in as.
DEMO_LOGINS = [
    ("instructor", "instructor (Zsolt Kira), no section"),
    ("headta", "head TA, CS7643"),
    ("ta4803", "TA, CS4803"),
    ("ta7643", "TA, CS7643"),
    ("student4803", "undergraduate student, CS4803"),
    ("student7643", "graduate student, CS7643"),
    ("ugrad2", "another undergraduate, CS4803 (ugrad3 too)"),
    ("grad2", "another graduate student, CS7643 (grad3 too)"),
    ("waitlisted", "waitlisted student, CS7643"),
    ("waitlisted4803", "waitlisted student, CS4803"),
    ("sitin", "sitting in with the instructor's approval, CS7643"),
    ("sitin4803", "sitting in with the instructor's approval, CS4803"),
    ("admin", "site administrator (Django admin at /admin/)"),
]


_NY = ZoneInfo("America/New_York")
# Sample work "back then": (who, which assignment, when, in New York). The files handed in are
# those in demo/solutions/<assignment>/, answers with a few deliberate slips so that the
# autograded questions show full and partial credit.
SAMPLES = [
    ("student4803", "ps0", datetime(2021, 1, 20, 21, 15, tzinfo=_NY)),  # on time
    ("waitlisted", "ps0", datetime(2021, 1, 21, 9, 30, tzinfo=_NY)),  # late PS0
    ("student7643", "hw1", datetime(2021, 2, 13, 10, 0, tzinfo=_NY)),  # in grace
    # HW2-HW4 are on the GPU queue; their demo bundles are pure Python and run on a CPU.
    ("student7643", "hw2", datetime(2021, 3, 5, 22, 0, tzinfo=_NY)),
    ("ugrad2", "hw3", datetime(2021, 3, 26, 20, 30, tzinfo=_NY)),
    ("grad2", "hw4", datetime(2021, 4, 16, 23, 0, tzinfo=_NY)),
    ("student4803", "hw5", datetime(2021, 4, 27, 18, 0, tzinfo=_NY)),  # on time
]


class Command(BaseCommand):
    help = "Create the demo course with its users, then serve the portal (SQLite by default)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000")
        parser.add_argument(
            "--no-serve", action="store_true", help="Set up the demo data and stop."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        try:
            call_command("load_course", str(DEMO_DIR / "cs7643-sp21.toml"))
        except CourseChangedError:
            # Changed in the portal since: a demo run again keeps what was changed there.
            self.stdout.write(
                "The demo course was changed in the portal since it was loaded; keeping those "
                "changes (`manage.py load_course --force demo/cs7643-sp21.toml` resets it)."
            )
        roster_output = io.StringIO()
        call_command(
            "import_roster", DEMO_COURSE, str(DEMO_DIR / "roster.csv"), stdout=roster_output
        )
        # Its summary only: the note that people have no password yet does not hold here.
        self.stdout.write(roster_output.getvalue().splitlines()[0])
        user_model = get_user_model()
        for user in user_model.objects.filter(enrollments__course__slug=DEMO_COURSE):
            if not user.has_usable_password():
                user.set_password(DEMO_PASSWORD)
                user.save(update_fields=["password"])
        if not user_model.objects.filter(username="admin").exists():
            user_model.objects.create_superuser("admin", "admin@example.edu", DEMO_PASSWORD)
        self._sample_submissions()
        host = (
            options["addrport"]
            if ":" in options["addrport"]
            else f"127.0.0.1:{options['addrport']}"
        )
        self.stdout.write(self.style.SUCCESS(f"\nThe demo course is ready at http://{host}/"))
        self.stdout.write(f"Log in with any of these users; every password is '{DEMO_PASSWORD}':")
        for username, what in DEMO_LOGINS:
            self.stdout.write(f"  {username:<12} {what}")
        self.stdout.write("")
        if options["no_serve"]:
            return
        call_command("runserver", host, use_reloader=False)

    def _sample_submissions(self) -> None:
        """Work handed in during the term, graded now (in-process without Redis)."""
        if Submission.objects.filter(course__slug=DEMO_COURSE).exists():
            return
        for username, slug, local in SAMPLES:
            enrollment = Enrollment.objects.select_related("course", "user").get(
                course__slug=DEMO_COURSE, user__username=username
            )
            assignment = Assignment.objects.select_related("course").get(
                course__slug=DEMO_COURSE, slug=slug
            )
            paths = sorted(p for p in (DEMO_DIR / "solutions" / slug).iterdir() if p.is_file())
            with ExitStack() as stack:
                result = submission_create(
                    enrollment=enrollment,
                    assignment=assignment,
                    files=[(stack.enter_context(p.open("rb")), p.name) for p in paths],
                    received_at=local,
                )
            sub = result.submission
            self.stdout.write(f"Sample: {username} handed in {slug} ({sub.get_timing_display()})")
