"""`python manage.py sweep_orphan_files [--minutes 60]`: deletes stored submission files that
no submission row refers to (left by a process that died mid-upload)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from submissions.services import orphan_files_sweep


class Command(BaseCommand):
    help = "Delete stored submission files that no submission refers to."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--minutes", type=int, default=60, help="only files older than this")

    def handle(self, *args: Any, **options: Any) -> None:
        deleted = orphan_files_sweep(older_than=timedelta(minutes=options["minutes"]))
        for path in deleted:
            self.stdout.write(f"deleted {path}")
        self.stdout.write(f"{len(deleted)} orphaned file(s) deleted.")
