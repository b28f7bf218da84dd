"""The profile page: a person turns each kind of email on or off (all on until they save),
behind the login, linked from the site header."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

import pytest
from django.urls import reverse

from courses import selectors, services
from courses.models import NotificationPreference
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

KINDS = ("grades_released", "regrade_answered", "regrade_opened")


def profile_url() -> str:
    return reverse("courses:profile")


def checked(html: str) -> dict[str, bool]:
    """Each checkbox of the page by name: ticked or not."""
    boxes = re.findall(r'<input type="checkbox"[^>]*>', html)
    return {re.search(r'name="(\w+)"', b).group(1): " checked" in b for b in boxes}  # type: ignore[union-attr]


def test_the_profile_page_is_at_accounts_profile_behind_the_login(client: Any) -> None:
    assert profile_url() == "/accounts/profile/"
    r = client.get(profile_url())
    assert r.status_code == 302 and r["Location"].startswith(reverse("login"))


def test_every_kind_is_on_until_the_person_saves(client: Any) -> None:
    user = UserFactory()
    client.force_login(user)
    r = client.get(profile_url())
    assert r.status_code == 200
    html = r.content.decode()
    assert checked(html) == dict.fromkeys(KINDS, True)
    for kind in KINDS:
        assert f'<label for="id_{kind}">' in html
    assert ">Save</button>" in html
    assert not NotificationPreference.objects.filter(user=user).exists()


def test_saving_turns_off_the_unticked_kinds_and_says_so(client: Any) -> None:
    user = UserFactory()
    client.force_login(user)
    r = client.post(profile_url(), {"regrade_opened": "on"}, follow=True)
    assert r.redirect_chain == [(profile_url(), 302)]
    assert "Your email preferences are saved." in unescape(r.content.decode())
    assert checked(r.content.decode()) == {
        "grades_released": False,
        "regrade_answered": False,
        "regrade_opened": True,
    }
    stored = NotificationPreference.objects.get(user=user)
    assert (stored.grades_released, stored.regrade_answered, stored.regrade_opened) == (
        False,
        False,
        True,
    )


def test_saving_again_updates_the_one_row(client: Any) -> None:
    user = UserFactory()
    client.force_login(user)
    client.post(profile_url(), {})
    client.post(profile_url(), dict.fromkeys(KINDS, "on"))
    assert NotificationPreference.objects.filter(user=user).count() == 1
    assert checked(client.get(profile_url()).content.decode()) == dict.fromkeys(KINDS, True)


def test_one_persons_preferences_are_not_anothers(client: Any) -> None:
    user, other = UserFactory(), UserFactory()
    services.notification_preferences_set(
        user=other, grades_released=False, regrade_answered=False, regrade_opened=False
    )
    client.force_login(user)
    assert checked(client.get(profile_url()).content.decode()) == dict.fromkeys(KINDS, True)


def test_the_selector_reads_the_stored_row_or_all_on(django_assert_num_queries: Any) -> None:
    user = UserFactory()
    with django_assert_num_queries(1):
        fresh = selectors.notification_preference_get(user=user)
    assert fresh.pk is None
    assert (fresh.grades_released, fresh.regrade_answered, fresh.regrade_opened) == (
        True,
        True,
        True,
    )
    services.notification_preferences_set(
        user=user, grades_released=True, regrade_answered=False, regrade_opened=True
    )
    stored = selectors.notification_preference_get(user=user)
    assert stored.pk is not None and stored.regrade_answered is False


def test_the_site_header_links_to_the_profile(client: Any) -> None:
    client.force_login(UserFactory())
    html = client.get(reverse("courses:my_courses")).content.decode()
    assert f'<a href="{profile_url()}">Profile</a>' in html
