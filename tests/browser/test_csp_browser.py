"""The pages work under the site's Content-Security-Policy: each kind of person opens their main
pages (the course the accessibility test builds: a receipt with a notebook, a PDF and an image,
the grading view, statistics with Chart.js, the gradebook, live job status) and no violation is
reported, neither as a ``securitypolicyviolation`` event nor on Chromium's console. The
watching itself is conftest's ``csp_violations``, which every browser test runs under."""

from __future__ import annotations

import json
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser import test_accessibility as a11y
from tests.browser.conftest import log_in
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The same rich course the accessibility test visits.
course = a11y.course


def _visit(page: Any, path: str, seen: list[str]) -> list[str]:
    """Opens ``path``, lets its scripts run and fetch what they fetch, and returns the
    violations it caused."""
    before = len(seen)
    response = page.goto(path)
    assert response is not None and response.status == 200, path
    assert "content-security-policy" in response.headers, path
    page.wait_for_load_state("networkidle")
    return seen[before:]


def test_every_roles_pages_run_without_a_csp_violation(
    chromium: Any, live_server: Any, course: Any, csp_violations: list[str]
) -> None:
    found: dict[str, list[str]] = {}
    for username, paths in a11y._pages(course).items():
        context = chromium.new_context(base_url=live_server.url)
        page = context.new_page()
        try:
            log_in(page, username)
            for path in [*paths, "/api/docs/"]:
                if violations := _visit(page, path, csp_violations):
                    found[f"{username} {path}"] = violations
        finally:
            context.close()
    # The Django admin, for a superuser: its list and change pages run their own scripts.
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    context = chromium.new_context(base_url=live_server.url)
    page = context.new_page()
    log_in(page, "root")
    for path in ("/admin/", "/admin/auth/user/", f"/admin/auth/user/{admin.pk}/change/"):
        if violations := _visit(page, path, csp_violations):
            found[f"root {path}"] = violations
    context.close()
    anonymous = chromium.new_context(base_url=live_server.url)
    if violations := _visit(anonymous.new_page(), "/accounts/login/", csp_violations):
        found["/accounts/login/"] = violations
    anonymous.close()
    csp_violations.clear()  # reported here, by page, rather than by the fixture
    assert not found, json.dumps(found, indent=1)


def test_the_scripts_still_do_their_work_under_the_policy(
    chromium: Any, live_server: Any, course: Any
) -> None:
    """What the policy would silently stop if a script were inline: the open regrade count on
    the course page (moved from the template to static/portal/open_regrades.js), the
    histogram, Swagger UI, and the PDF the receipt embeds (object-src 'self' there, and the
    file itself may be framed by the site: frame-ancestors 'self')."""
    context = chromium.new_context(base_url=live_server.url)
    page = context.new_page()
    try:
        log_in(page, "zkira")
        page.goto(f"/courses/{course['slug']}/")
        expect(page.locator("#regrade-queue-link")).to_contain_text("(1 open)")
        page.goto(f"/courses/{course['slug']}/assignments/hw1/statistics/")
        page.wait_for_function("document.getElementById('histogram').dataset.drawn === 'true'")
        page.goto("/api/docs/")
        expect(page.locator(".swagger-ui .info .title")).to_contain_text("Course portal API")
        response = page.goto(f"/submissions/{course['submission']}/")
        assert response is not None
        assert "object-src 'self'" in response.headers["content-security-policy"]
        pdf = page.locator("object.file-pdf")
        expect(pdf).to_be_attached()
        served = page.request.get(str(pdf.get_attribute("data")))
        assert "frame-ancestors 'self'" in served.headers["content-security-policy"]
        page.wait_for_load_state("networkidle")
    finally:
        context.close()


def test_a_violation_is_caught(chromium: Any, live_server: Any, csp_violations: list[str]) -> None:
    """The watch works: an inline script added to a page is refused, and reported."""
    context = chromium.new_context(base_url=live_server.url)
    page = context.new_page()
    try:
        page.goto("/accounts/login/")
        page.evaluate(
            """() => {
                const s = document.createElement("script");
                s.textContent = "window.ranInline = true";
                document.body.append(s);
            }"""
        )
        for _ in range(50):  # the report arrives a moment later
            if csp_violations:
                break
            page.wait_for_timeout(100)
        assert page.evaluate("() => window.ranInline === undefined")
    finally:
        context.close()
    assert any("script-src" in v for v in csp_violations), csp_violations
    csp_violations.clear()
