from django.apps import AppConfig


class CoursesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "courses"

    def ready(self) -> None:
        """Registers the Celery tasks in every process, so that the roster invitations are
        found by name (and the demo, eager, runs them in-process)."""
        from courses import tasks  # noqa: F401
