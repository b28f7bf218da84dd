"""A person's email preferences: which notifications they want (see grading.notifications)."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser

from courses.models import NotificationPreference


def notification_preferences_set(
    *,
    user: AbstractBaseUser,
    grades_released: bool,
    regrade_answered: bool,
    regrade_opened: bool,
) -> NotificationPreference:
    """Stores which emails ``user`` wants, creating their row the first time."""
    preference, _ = NotificationPreference.objects.update_or_create(
        user_id=user.pk,
        defaults={
            "grades_released": grades_released,
            "regrade_answered": regrade_answered,
            "regrade_opened": regrade_opened,
        },
    )
    return preference
