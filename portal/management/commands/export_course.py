"""``python manage.py export_course SLUG [--output FILE]``: prints the course as its TOML
config (``courses.services.course_export``); ``load_course`` of that text gives the same
course. With ``--output``, the text goes to FILE instead, its autograder bundle paths relative
to FILE's folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from courses.models import Course
from courses.services import course_export


class Command(BaseCommand):
    help = (
        "Prints a course as its TOML config, in the format load_course reads; loading it "
        "gives the same course."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", metavar="SLUG", help="the course's slug")
        parser.add_argument(
            "--output",
            type=Path,
            metavar="FILE",
            help="write the TOML to FILE (bundle paths relative to its folder), not stdout",
        )

    def handle(
        self, *args: Any, slug: str, output: Path | str | None = None, **options: Any
    ) -> None:
        course = Course.objects.filter(slug=slug).first()
        if course is None:
            known = ", ".join(Course.objects.values_list("slug", flat=True)) or "none"
            raise CommandError(f"There is no course {slug!r} (courses: {known}).")
        if output is None:
            self.stdout.write(course_export(course=course), ending="")
            return
        output = Path(output)  # a str from call_command
        text = course_export(course=course, base_dir=output.resolve().parent)
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"{output}: cannot be written ({exc.strerror or exc})") from None
        self.stdout.write(f"Course {slug} written to {output}")
