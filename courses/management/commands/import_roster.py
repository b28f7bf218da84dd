"""``python manage.py import_roster COURSE_SLUG FILE.csv``: enrolls the people a roster lists."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from courses.services import ROSTER_COLUMNS, RosterRefused, roster_import


class Command(BaseCommand):
    help = (
        f"Imports a roster CSV with the columns {','.join(ROSTER_COLUMNS)} into a course. "
        "Idempotent; a bad row is reported by its line number and nothing is imported. "
        "New people get no password: --invite emails them a link to choose one."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("course_slug", metavar="COURSE_SLUG")
        parser.add_argument("path", type=Path, metavar="FILE.csv", help="the roster")
        parser.add_argument(
            "--invite",
            action="store_true",
            help="email each person of the file who has no password and was never invited to "
            "this course a link to choose one (sent by Celery once the import is saved)",
        )
        parser.add_argument(
            "--reinvite",
            action="store_true",
            help="like --invite, and send a new link to those invited before who still have "
            "no password",
        )

    def handle(
        self,
        *args: Any,
        course_slug: str,
        path: Path,
        invite: bool,
        reinvite: bool,
        **options: Any,
    ) -> None:
        try:
            report = roster_import(
                course_slug=course_slug, path=path, invite=invite, reinvite=reinvite
            )
        except RosterRefused as exc:
            raise CommandError(
                f"{path} refused, nothing was imported:\n" + "\n".join(exc.problems)
            ) from None
        self.stdout.write(report.summary())
        for note in report.password_notes(invite=invite or reinvite):
            self.stdout.write(note)
