from django.apps import AppConfig


class GradingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "grading"

    def ready(self) -> None:
        """Grading joins submissions through their hooks (submissions never imports it), and
        its Celery tasks are registered in every process, so that ``services.publish`` finds
        ``grading.grade_next`` by name (and the demo, eager, runs it in-process)."""
        from courses import hooks as course_hooks
        from grading import hooks, tasks  # noqa: F401
        from submissions import hooks as submission_hooks

        course_hooks.register(hooks.LIST_EXTENSION)
        course_hooks.assignments_changed.connect(
            hooks.on_assignments_changed, dispatch_uid="grading.rescore"
        )
        submission_hooks.register(hooks.EXTENSION)
        submission_hooks.submission_stored.connect(
            hooks.on_submission_stored, dispatch_uid="grading.job_enqueue"
        )
        submission_hooks.submission_chosen.connect(
            hooks.on_submission_chosen, dispatch_uid="grading.grades_from_choice"
        )
