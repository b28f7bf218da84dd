"""Browser tests: Playwright's sync API driving Debian's Chromium against pytest-django's
live server. Never ``playwright install``: the machine has Chromium at /usr/bin/chromium.

Every browser context a test opens is watched for Content-Security-Policy violations (the
``csp_violations`` fixture): a test whose pages break the policy fails, whatever it checks."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.factories import PASSWORD

# Playwright's sync API keeps an event loop running in the test's thread; Django refuses ORM
# calls from such a thread unless told that this is fine (it is: nothing here is async).
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"no Chromium at {CHROMIUM}: bin/system-packages installs it")
        pytest.skip(f"no Chromium at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


# In each page, before its own scripts: report every violation of the policy to the test.
REPORT_VIOLATIONS = """
window.addEventListener("securitypolicyviolation", function (e) {
  window.__cspViolation([e.violatedDirective, e.blockedURI || "", e.sourceFile || document.URL,
                        e.lineNumber, e.sample || ""].join(" | "));
}, true);
"""


def watch_csp(context: Any, seen: list[str]) -> Any:
    """Collects the context's CSP violations into ``seen``: the securitypolicyviolation events
    of its pages, and Chromium's own console errors about the policy (a frame-ancestors refusal,
    say, is only told there)."""
    context.expose_binding("__cspViolation", lambda source, text: seen.append(text))
    context.add_init_script(REPORT_VIOLATIONS)

    def console(message: Any) -> None:
        if "Content Security Policy" in message.text:
            seen.append(f"console {message.type}: {message.text}")

    context.on("console", console)
    return context


@pytest.fixture(autouse=True)
def csp_violations(request: Any, monkeypatch: Any) -> Iterator[list[str]]:
    """The CSP violations of every context the test opens (through ``chromium.new_context``);
    any left at the end fail the test. A test that provokes one on purpose clears the list."""
    seen: list[str] = []
    if "chromium" in request.fixturenames:
        browser = request.getfixturevalue("chromium")
        new_context = browser.new_context
        monkeypatch.setattr(browser, "new_context", lambda **kw: watch_csp(new_context(**kw), seen))
    yield seen
    assert not seen, "Content-Security-Policy violations:\n" + "\n".join(seen)


@pytest.fixture
def page(chromium: Any, live_server: Any) -> Iterator[Any]:
    """A fresh browser context (no cookies) on the live server, in a desktop-sized window."""
    context = chromium.new_context(
        base_url=live_server.url, viewport={"width": 1366, "height": 900}, locale="en-US"
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> None:
    """Uploads made through the browser land in the test's own folder."""
    settings.MEDIA_ROOT = str(tmp_path / "media")


def log_in(page: Any, username: str, password: str = PASSWORD, *, expect_home: bool = True) -> None:
    """Signs in through the login form, by the controls' accessible names."""
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    if expect_home:
        expect(page.get_by_role("heading", name="My courses")).to_be_visible()


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    """Where screenshots go: pytest's tmp_path, or BROWSER_SCREENSHOTS to look at them."""
    folder = Path(os.environ.get("BROWSER_SCREENSHOTS", tmp_path / "screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def no_wakeups(monkeypatch: Any) -> list[int]:
    """Grading jobs are written but no wake-up (nor email task) goes to Redis; the job ids
    that would have gone."""
    from grading import services
    from portal import queueing

    sent: list[int] = []
    monkeypatch.setattr(services, "publish", lambda job: sent.append(job.pk))
    monkeypatch.setattr(queueing, "publish", lambda task, *args: None)
    return sent
