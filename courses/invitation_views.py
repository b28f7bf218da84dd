"""The page a roster invitation links to: Django's password-reset confirm view (the same
token, the same form that revokes API tokens), naming the course the person was invited to."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import views as auth_views
from django.shortcuts import get_object_or_404

from access.passwords import PortalSetPasswordForm
from courses.models import Course


class InvitationView(auth_views.PasswordResetConfirmView):
    form_class = PortalSetPasswordForm

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["course"] = get_object_or_404(Course, slug=self.kwargs["course_slug"])
        return context
