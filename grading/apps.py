from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core.checks import Error, register


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


@register()
def sandbox_setting_check(app_configs: Any, **kwargs: Any) -> list[Error]:
    """``GRADING_SANDBOX`` names a sandbox the worker knows (refused at start, not per job)."""
    from grading.sandbox.engines import ENGINES

    name = getattr(settings, "GRADING_SANDBOX", "bubblewrap")
    if name in ENGINES:
        return []
    return [
        Error(
            f"GRADING_SANDBOX={name!r} is not a sandbox.",
            hint=f"Set it to one of: {', '.join(ENGINES)}.",
            id="grading.E001",
        )
    ]
