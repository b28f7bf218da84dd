"""Choosing a password in a real browser: from the login page's "Forgot your password?" to the
email (a real SMTP server), the link, the new password and a login with it; and a roster
invitation's link, which names the course."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.builders import deep_learning, person
from tests.grading.test_notifications import Inbox, body, smtp

__all__ = ["smtp"]

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NEW = "a-New-passw0rd-for-2021"


def link(inbox: Inbox, address: str, base: str) -> str:
    (email,) = inbox.to(address)
    found = re.search(rf"{re.escape(base)}(/accounts/\S+/)", body(email))
    assert found, body(email)
    return found.group(1)


def set_password(page: Any) -> None:
    page.get_by_label("New password", exact=True).fill(NEW)
    page.get_by_label("New password again").fill(NEW)
    page.get_by_role("button", name="Set my password").click()
    expect(page.get_by_role("heading", name="Your password is set")).to_be_visible()
    page.get_by_role("link", name="Log in").click()


def log_in_with_new_password(page: Any, username: str) -> None:
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(NEW)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="My courses")).to_be_visible()


def test_forgot_your_password_from_the_login_page_to_logging_in(
    page: Any, live_server: Any, smtp: Inbox, settings: Any
) -> None:
    built = deep_learning()
    student = person("newbie", "Nora", "Newman", section=built.ug, role="student")
    student.user.set_unusable_password()
    student.user.save()
    settings.PORTAL_BASE_URL = live_server.url
    page.goto("/accounts/login/")
    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_label("Email address").fill(student.user.email)
    page.get_by_role("button", name="Email me a link").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    page.goto(link(smtp, student.user.email, live_server.url))
    expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible()
    set_password(page)
    log_in_with_new_password(page, "newbie")


def test_a_roster_invitation_names_the_course_and_sets_the_password(
    page: Any, live_server: Any, smtp: Inbox, settings: Any, tmp_path: Any
) -> None:
    from django.core.management import call_command

    built = deep_learning()
    roster = tmp_path / "roster.csv"
    roster.write_text(
        "username,email,first_name,last_name,section,role\n"
        f"invitee,invitee@example.edu,Ivy,Invitee,{built.ug.code},student\n"
    )
    settings.PORTAL_BASE_URL = live_server.url
    call_command("import_roster", built.course.slug, str(roster), "--invite")
    page.goto(link(smtp, "invitee@example.edu", live_server.url))
    expect(page.get_by_role("heading", name=f"Welcome to {built.course.title}")).to_be_visible()
    set_password(page)
    log_in_with_new_password(page, "invitee")
    expect(page.get_by_role("link", name=re.compile(built.course.title))).to_be_visible()
