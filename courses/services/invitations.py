"""Roster invitations: the email that lets a person a roster import made choose their
password, with a link (Django's default token generator, ``access.passwords``) to a page that
names the course.

``roster_import(..., invite=True)`` calls :func:`invitations_queue` inside its transaction:
it records a :class:`RosterInvitation` per person and queues ``courses.notify_invitations``
on commit (ids only); that task fans out chunks of ``NOTIFY_CHUNK_SIZE`` people, each sent over
one SMTP connection by :func:`invitations_send`, which reads again who still has no password.
Delivery is at least once, as for the other emails."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.mail import EmailMessage
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from access.passwords import send_emails, set_password_link
from courses.models import Course, RosterInvitation
from portal.queueing import publish_on_commit


def without_password(users: Iterable[User]) -> list[User]:
    """The active people among ``users`` who cannot log in yet: no usable password."""
    return [u for u in users if u.is_active and not u.has_usable_password()]


def invitations_queue(
    *, course: Course, users: Iterable[User], reinvite: bool, now: datetime
) -> list[User]:
    """Invites those of ``users`` who have no usable password and an address, and were not
    invited to this course before (``reinvite``: again, with a new link). Returns who."""
    candidates = [u for u in without_password(users) if u.email]
    invited_before = set(
        RosterInvitation.objects.filter(course=course, user__in=candidates).values_list(
            "user_id", flat=True
        )
    )
    chosen = [u for u in candidates if reinvite or u.pk not in invited_before]
    if not chosen:
        return []
    again = [u.pk for u in chosen if u.pk in invited_before]
    RosterInvitation.objects.filter(course=course, user_id__in=again).update(
        invited_at=now, sent_at=None, times=F("times") + 1
    )
    RosterInvitation.objects.bulk_create(
        RosterInvitation(course=course, user=u, invited_at=now)
        for u in chosen
        if u.pk not in invited_before
    )
    ids = sorted(u.pk for u in chosen)
    publish_on_commit("courses.notify_invitations", course.pk, ids)
    return chosen


def invitations_send(*, course_id: int, user_ids: list[int]) -> int:
    """Emails these people their invitation to the course, over one connection: those still
    invited, active, with an address and no usable password (someone who chose a password
    meanwhile gets nothing). Returns how many were sent."""
    course = Course.objects.filter(pk=course_id).first()
    if course is None:
        return 0
    people = (
        get_user_model()
        .objects.filter(
            pk__in=user_ids,
            is_active=True,
            roster_invitations__course=course,
        )
        .filter(Q(password="") | Q(password__startswith="!"))
        .exclude(email="")
        .order_by("pk")
    )
    base = settings.PORTAL_BASE_URL.rstrip("/")
    context = {
        "course": course,
        "login": base + reverse("login"),
        "forgot": base + reverse("password_reset"),
        "days": settings.PASSWORD_RESET_TIMEOUT // 86400,
    }
    subject = f"[{course.title}] Choose your password for the course portal"
    messages = [
        EmailMessage(
            subject=subject,
            body=render_to_string(
                "email/roster_invitation.txt",
                {
                    **context,
                    "to": user,
                    "link": set_password_link(user, "courses:invitation", course.slug),
                },
            ),
            to=[user.email],
        )
        for user in people
    ]
    sent = send_emails(messages)
    RosterInvitation.objects.filter(course=course, user_id__in=[u.pk for u in people]).update(
        sent_at=timezone.now()
    )
    return sent
