from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "access"
    verbose_name = "Access"

    def ready(self) -> None:
        """Registers the Celery tasks in every process, so that the password-reset email is
        found by name (and the demo, eager, runs it in-process)."""
        from access import tasks  # noqa: F401
