"""import_roster --invite: each person of the file without a usable password gets an email
(through Celery, after the import commits, to a real SMTP server) with a link to a page that
names the course and sets their password; nobody is invited twice unless --reinvite; people
with a password never are; who was invited when is recorded."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from access.models import ApiToken
from access.services import api_token_issue
from courses.models import Course, RosterInvitation
from courses.services import RosterRefused, roster_import
from courses.tasks import notify_invitations
from tests.courses.test_import_roster import ROSTERS, dl
from tests.factories import UserFactory
from tests.grading.test_notifications import BASE, Inbox, body, smtp

__all__ = ["dl", "smtp"]

pytestmark = pytest.mark.django_db

GOOD = ROSTERS / "good.csv"
EVERYONE = sorted(f"{n}@example.edu" for n in ("alice", "bob", "carol", "dave", "erin", "frank"))
NEW = "a-New-passw0rd-for-2021"


def run(capture: Any, *args: str) -> list[str]:
    """Runs the command with on-commit callbacks executed; its output lines."""
    from io import StringIO

    out = StringIO()
    with capture(execute=True):
        call_command("import_roster", *args, stdout=out)
    return out.getvalue().splitlines()


def link_in(text: str) -> str:
    found = re.search(rf"{re.escape(BASE)}(/accounts/invitation/\S+/)", text)
    assert found, text
    return found.group(1)


def test_invite_emails_each_new_person_a_link_naming_the_course(
    dl: Course, smtp: Inbox, django_capture_on_commit_callbacks: Any
) -> None:
    lines = run(django_capture_on_commit_callbacks, dl.slug, str(GOOD), "--invite")
    assert lines[1:] == [
        "Invited 6 people by email to choose a password (sent once the import is saved)."
    ]
    assert smtp.recipients() == EVERYONE
    assert len(smtp.sessions) == 1
    (email,) = smtp.to("alice@example.edu")
    assert email["Subject"] == f"[{dl.title}] Choose your password for the course portal"
    text = body(email)
    assert "Your username is alice." in text
    assert f"{BASE}/accounts/invitation/{dl.slug}/" in text
    assert f"{BASE}/accounts/password_reset/" in text
    invitations = RosterInvitation.objects.filter(course=dl)
    assert invitations.count() == 6
    assert all(i.sent_at is not None and i.times == 1 for i in invitations)


def test_the_link_names_the_course_sets_the_password_and_revokes_tokens(
    dl: Course, client: Client, smtp: Inbox, django_capture_on_commit_callbacks: Any
) -> None:
    run(django_capture_on_commit_callbacks, dl.slug, str(GOOD), "--invite")
    alice = get_user_model().objects.get(username="alice")
    api_token_issue(user=alice, now=timezone.now())
    (email,) = smtp.to("alice@example.edu")
    page = client.get(link_in(body(email)), follow=True)
    assert page.context["validlink"]
    assert f"Welcome to {dl.title}" in page.content.decode()
    form_path = page.redirect_chain[-1][0]
    done = client.post(form_path, {"new_password1": NEW, "new_password2": NEW})
    assert done.status_code == 302 and done["Location"] == "/accounts/reset/done/"
    alice.refresh_from_db()
    assert alice.check_password(NEW)
    assert not ApiToken.objects.filter(user=alice).exists()
    assert client.get(link_in(body(email)), follow=True).context["validlink"] is False


def test_a_rerun_invites_nobody_again_and_reinvite_does_those_still_without_a_password(
    dl: Course, smtp: Inbox, django_capture_on_commit_callbacks: Any
) -> None:
    run(django_capture_on_commit_callbacks, dl.slug, str(GOOD), "--invite")
    alice = get_user_model().objects.get(username="alice")
    alice.set_password(NEW)
    alice.save()
    smtp.messages.clear()
    lines = run(django_capture_on_commit_callbacks, dl.slug, str(GOOD), "--invite")
    assert smtp.messages == []
    assert lines[1:] == [
        "5 people have no password yet: they were invited before "
        "(run with --reinvite to send a new link)."
    ]
    lines = run(django_capture_on_commit_callbacks, dl.slug, str(GOOD), "--reinvite")
    assert smtp.recipients() == [e for e in EVERYONE if e != "alice@example.edu"]
    assert lines[1:] == [
        "Invited 5 people by email to choose a password (sent once the import is saved)."
    ]
    assert RosterInvitation.objects.get(course=dl, user__username="bob").times == 2
    assert RosterInvitation.objects.get(course=dl, user=alice).times == 1


def test_without_invite_nobody_is_emailed_and_the_output_says_so(
    dl: Course, smtp: Inbox, django_capture_on_commit_callbacks: Any
) -> None:
    lines = run(django_capture_on_commit_callbacks, dl.slug, str(GOOD))
    assert smtp.messages == []
    assert not RosterInvitation.objects.exists()
    assert lines[1:] == [
        "6 people have no password yet: run with --invite or have them use Forgot password."
    ]
    # A later --invite reaches them: they were never invited.
    run(django_capture_on_commit_callbacks, dl.slug, str(GOOD), "--invite")
    assert smtp.recipients() == EVERYONE


def test_a_person_with_a_password_is_never_invited(
    dl: Course, smtp: Inbox, django_capture_on_commit_callbacks: Any
) -> None:
    UserFactory(username="alice", email="alice@example.edu")
    with django_capture_on_commit_callbacks(execute=True):
        report = roster_import(course_slug=dl.slug, path=GOOD, reinvite=True)
    assert (report.invited, report.without_password) == (5, 0)
    assert "alice@example.edu" not in smtp.recipients()


def test_emails_are_queued_on_commit_and_a_refused_file_queues_nothing(
    dl: Course, tmp_path: Path, smtp: Inbox, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        roster_import(course_slug=dl.slug, path=GOOD, invite=True)
    assert len(callbacks) == 1
    assert smtp.messages == []
    bad = tmp_path / "bad.csv"
    bad.write_text(GOOD.read_text() + "student,zed,not-an-email,Zed,Z,CS4803\n")
    with (
        django_capture_on_commit_callbacks(execute=False) as callbacks,
        pytest.raises(RosterRefused),
    ):
        roster_import(course_slug=dl.slug, path=bad, invite=True)
    assert callbacks == []


def test_invitations_go_out_in_chunks_and_skip_who_chose_a_password_meanwhile(
    dl: Course, settings: Any, smtp: Inbox, django_capture_on_commit_callbacks: Any
) -> None:
    settings.NOTIFY_CHUNK_SIZE = 4
    with django_capture_on_commit_callbacks(execute=False):
        roster_import(course_slug=dl.slug, path=GOOD, invite=True)
    ids = sorted(
        get_user_model().objects.filter(roster_invitations__course=dl).values_list("pk", flat=True)
    )
    alice = get_user_model().objects.get(username="alice")
    alice.set_password(NEW)
    alice.save()
    assert notify_invitations.apply(args=[dl.pk, ids]).get() == 2
    assert len(smtp.sessions) == 2
    assert smtp.recipients() == [e for e in EVERYONE if e != "alice@example.edu"]


def test_the_admins_roster_shows_who_was_invited_when(
    dl: Course, client: Client, smtp: Inbox, django_capture_on_commit_callbacks: Any
) -> None:
    run(django_capture_on_commit_callbacks, dl.slug, str(GOOD))
    alice = get_user_model().objects.get(username="alice")
    alice.set_password(NEW)
    alice.save()
    with django_capture_on_commit_callbacks(execute=False):
        roster_import(course_slug=dl.slug, path=GOOD, invite=True)
    bob = RosterInvitation.objects.get(course=dl, user__username="bob")
    bob.sent_at = timezone.now()
    bob.save()
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(admin)
    page = client.get("/admin/courses/enrollment/")
    assert page.status_code == 200
    text = page.content.decode()
    invited = re.findall(r'<td class="field-invited">([^<]*)</td>', text)
    assert sorted(invited) == sorted(
        ["has a password", timezone.localtime(bob.sent_at).strftime("%Y-%m-%d %H:%M")]
        + ["queued"] * 4
    )
