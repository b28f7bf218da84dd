"""``python manage.py load_course FILE.toml``: creates or updates a course from its config."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from courses.services import CourseConfigRefused, course_load


class Command(BaseCommand):
    help = (
        "Creates or updates a course from its TOML config. Running it twice changes nothing "
        "the second time; a bad file is refused whole, naming each key and the reason."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path, metavar="FILE.toml", help="the course config")

    def handle(self, *args: Any, path: Path, **options: Any) -> None:
        try:
            report = course_load(path=path)
        except CourseConfigRefused as exc:
            raise CommandError(
                f"{path} refused, nothing was written:\n" + "\n".join(exc.problems)
            ) from None
        self.stdout.write(report.summary())
