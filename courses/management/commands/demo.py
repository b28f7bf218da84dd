"""Sets up the demo course and serves it: `python manage.py demo` (the README's first command
runs it through bin/demo). Safe to run again: loading and importing are idempotent."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

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


class Command(BaseCommand):
    help = "Create the demo course with its users, then serve the portal (SQLite by default)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000")
        parser.add_argument(
            "--no-serve", action="store_true", help="Set up the demo data and stop."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        call_command("load_course", str(DEMO_DIR / "cs7643-sp21.toml"))
        call_command("import_roster", DEMO_COURSE, str(DEMO_DIR / "roster.csv"))
        user_model = get_user_model()
        for user in user_model.objects.filter(enrollments__course__slug=DEMO_COURSE):
            if not user.has_usable_password():
                user.set_password(DEMO_PASSWORD)
                user.save(update_fields=["password"])
        if not user_model.objects.filter(username="admin").exists():
            user_model.objects.create_superuser("admin", "admin@example.edu", DEMO_PASSWORD)
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
