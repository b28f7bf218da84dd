"""``python manage.py load_course FILE.toml [--force]``: creates or updates a course from its
config, then stores each assignment's autograder bundle version. It lives in ``portal`` because
it spans two apps (``courses`` may not import ``grading``).

Over a course changed in the portal since its last load, it prints the differences (a unified
diff of the course's export then and now) and refuses, writing nothing, unless ``--force``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from courses.models import Course
from courses.services import CourseChangedInPortal, CourseConfigRefused, course_load
from grading.services import bundles_sync


class CourseChangedError(CommandError):
    """The course was changed in the portal since its last load; nothing was written."""


class Command(BaseCommand):
    help = (
        "Creates or updates a course from its TOML config. Running it twice changes nothing "
        "the second time; a bad file is refused whole, naming each key and the reason."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path, metavar="FILE.toml", help="the course config")
        parser.add_argument(
            "--force",
            action="store_true",
            help="load even over a course changed in the portal since its last load, "
            "overwriting those changes",
        )

    def handle(self, *args: Any, path: Path, force: bool = False, **options: Any) -> None:
        try:
            with transaction.atomic():
                report = course_load(path=path, force=force)
                bundles = bundles_sync(course=Course.objects.get(slug=report.course_slug))
        except CourseConfigRefused as exc:
            raise CommandError(
                f"{path} refused, nothing was written:\n" + "\n".join(exc.problems)
            ) from None
        except CourseChangedInPortal as exc:
            self.stdout.write(exc.diff, ending="")
            raise CourseChangedError(f"{path} refused, nothing was written: {exc}") from None
        self.stdout.write(report.summary())
        if bundles:
            versions = ", ".join(f"{b.assignment.slug} {b.sha256[:12]}" for b in bundles)
            self.stdout.write(f"New autograder versions: {versions}")
