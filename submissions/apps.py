from django.apps import AppConfig


class SubmissionsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "submissions"

    def ready(self) -> None:
        """A moved deadline (``courses.hooks``): submissions count and re-time their stored
        work (courses never imports submissions)."""
        from courses import hooks as course_hooks
        from submissions.services import retime

        course_hooks.register_timing_impact(retime.TIMING)
        course_hooks.deadlines_changed.connect(
            retime.on_deadlines_changed, dispatch_uid="submissions.retime"
        )
