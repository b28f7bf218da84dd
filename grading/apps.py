from django.apps import AppConfig


class GradingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "grading"

    def ready(self) -> None:
        """Grading joins submissions through their hooks (submissions never imports it), and
        its Celery tasks are registered in every process, so that ``services.publish`` finds
        ``grading.grade_next`` by name (and the demo, eager, runs it in-process)."""
        from grading import hooks, tasks  # noqa: F401
        from submissions import hooks as submission_hooks

        submission_hooks.register(hooks.EXTENSION)
        submission_hooks.submission_stored.connect(
            hooks.on_submission_stored, sender=None, dispatch_uid="grading.job_enqueue"
        )
