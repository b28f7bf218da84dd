"""Handing work in through a real browser: a student logs in, opens an assignment, chooses
files (or drops them on the page), names a classmate, submits, and reads the receipt. The
page's script uploads with a progress bar; without JavaScript the form posts as it is. A
closed assignment says why and has no Submit button."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from submissions.models import Submission
from tests.browser.builders import deep_learning, george, person
from tests.browser.conftest import log_in
from tests.factories import (
    AssignmentFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# 2021-02-13T04:59Z is 11:59 PM on Friday 12 February in New York (EST, UTC-5).
HW1_DUE = datetime(2021, 2, 13, 4, 59, tzinfo=UTC)


@pytest.fixture
def dl(transactional_db: Any) -> dict[str, Any]:
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    built = deep_learning(
        links=[
            {"name": "website", "url": "https://example.edu/cs7643", "note": ""},
            {
                "name": "dean_of_students",
                "url": "https://studentlife.example.edu/",
                "note": "Send all medical requests here, never to the course",
            },
        ],
    )
    course, ug, homework = built.course, built.ug, built.homework
    hw1 = AssignmentFactory(
        course=course,
        category=homework,
        slug="hw1",
        title="HW1",
        position=1,
        release_at=datetime(2021, 1, 25, 14, 0, tzinfo=UTC),
        due_at=HW1_DUE,
    )
    hw2 = AssignmentFactory(
        course=course,
        category=homework,
        slug="hw2",
        title="HW2",
        position=2,
        release_at=now - timedelta(days=2),
        due_at=now + timedelta(days=3, hours=5),
    )
    hw3 = AssignmentFactory(
        course=course,
        category=homework,
        slug="hw3",
        title="HW3",
        position=3,
        release_at=now - timedelta(days=6),
        due_at=now - timedelta(hours=20),
    )
    student = george(built)
    mate = person("aturing", "Alan", "Turing", section=ug)
    return {"course": course, "student": student, "mate": mate, "hw1": hw1, "hw2": hw2, "hw3": hw3}


def a_file(name: str, data: bytes) -> dict[str, Any]:
    return {"name": name, "mimeType": "application/octet-stream", "buffer": data}


def test_student_submits_and_reads_the_receipt(page, live_server, dl, shots):
    log_in(page, "gburdell")
    page.goto("/courses/cs7643-sp21/assignments/")
    page.get_by_role("link", name="HW2", exact=True).click()
    expect(page).to_have_url(f"{live_server.url}/courses/cs7643-sp21/assignments/hw2/")
    expect(page.get_by_role("heading", name="HW2", level=1)).to_be_visible()
    expect(page.get_by_text("Never send medical information")).to_be_visible()
    expect(page.get_by_role("link", name="Dean of Students")).to_have_attribute(
        "href", "https://studentlife.example.edu/"
    )
    expect(page.locator(".time-left")).to_have_text(re.compile(r"^3 days [45] hours left$"))

    page.get_by_label("Files").set_input_files(
        [
            a_file("hw2.py", b"def answer():\n    return 42\n"),
            a_file("report.pdf", b"%PDF-1.4\n" + b"0" * 3000),
        ]
    )
    expect(page.locator("[data-file-list]")).to_contain_text("hw2.py")
    expect(page.locator("[data-file-list]")).to_contain_text("report.pdf")
    page.get_by_label("Collaborators").fill("aturing")
    page.screenshot(path=str(shots / "assignment.png"), full_page=True)
    page.get_by_role("button", name="Submit").click()

    expect(page).to_have_url(re.compile(r"/submissions/\d+/$"))
    expect(page.get_by_role("heading", name="Submission #1 received")).to_be_visible()
    expect(page.get_by_text("On time", exact=True)).to_be_visible()
    files = page.locator("table.files")
    expect(files.get_by_role("link", name="hw2.py")).to_be_visible()
    expect(files).to_contain_text("2.9 KB")
    expect(page.locator(".receipt")).to_contain_text("aturing")
    page.screenshot(path=str(shots / "receipt.png"), full_page=True)
    assert (shots / "receipt.png").stat().st_size > 0

    sub = Submission.objects.get()
    assert sub.timing == "on_time"
    assert [u.username for u in sub.collaborators.all()] == ["aturing"]

    # The history on the assignment page links back to it.
    page.get_by_role("link", name="Back to HW2").click()
    history = page.locator("table.history")
    expect(history.get_by_role("link", name="#1")).to_be_visible()
    expect(history).to_contain_text("Counts")
    page.screenshot(path=str(shots / "assignment_after.png"), full_page=True)


def test_work_in_the_grace_period_says_so(page, live_server, dl):
    log_in(page, "gburdell")
    page.goto("/courses/cs7643-sp21/assignments/hw3/")
    expect(page.locator(".time-left")).to_contain_text("In grace period")
    page.get_by_label("Files").set_input_files([a_file("hw3.py", b"print(3)\n")])
    page.get_by_role("button", name="Submit").click()
    expect(page).to_have_url(re.compile(r"/submissions/\d+/$"))
    expect(page.get_by_text("In grace period", exact=True)).to_be_visible()


def test_a_closed_assignment_says_why_and_has_no_submit_button(page, live_server, dl, shots):
    log_in(page, "gburdell")
    page.goto("/courses/cs7643-sp21/assignments/hw1/")
    expect(page.get_by_role("heading", name="Submissions are closed")).to_be_visible()
    expect(
        page.get_by_text("Closed: the grace period ended Sun Feb 14 2021, 11:59 PM EST.")
    ).to_be_visible()
    expect(page.get_by_role("button", name="Submit")).to_have_count(0)
    expect(page.get_by_label("Files")).to_have_count(0)
    page.screenshot(path=str(shots / "closed.png"), full_page=True)


def test_dropped_files_and_a_refusal_stay_on_the_page(page, live_server, dl):
    log_in(page, "gburdell")
    page.goto("/courses/cs7643-sp21/assignments/hw2/")
    transfer = page.evaluate_handle(
        """() => {
            const dt = new DataTransfer();
            dt.items.add(new File(["print('dropped')\\n"], "dropped.py", {type: "text/x-python"}));
            return dt;
        }"""
    )
    page.locator("[data-dropzone]").dispatch_event("drop", {"dataTransfer": transfer})
    expect(page.locator("[data-file-list]")).to_contain_text("dropped.py")
    assert page.get_by_label("Files").evaluate("input => input.files.length") == 1

    page.get_by_label("Collaborators").fill("ghost")
    page.get_by_role("button", name="Submit").click()
    alert = page.get_by_role("alert")
    expect(alert).to_have_text(
        "'ghost' is not a student in this course. List classmates by their username."
    )
    expect(page).to_have_url(f"{live_server.url}/courses/cs7643-sp21/assignments/hw2/")
    assert not Submission.objects.exists()

    # The chosen file is still there: fix the name and submit again.
    page.get_by_label("Collaborators").fill("")
    page.get_by_role("button", name="Submit").click()
    expect(page).to_have_url(re.compile(r"/submissions/\d+/$"))
    expect(page.get_by_text("On time", exact=True)).to_be_visible()
    expect(page.locator("table.files")).to_contain_text("dropped.py")


@pytest.fixture
def no_js_page(chromium: Any, live_server: Any) -> Iterator[Any]:
    context = chromium.new_context(
        base_url=live_server.url,
        viewport={"width": 1366, "height": 900},
        locale="en-US",
        java_script_enabled=False,
    )
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def test_without_javascript_the_form_posts_as_it_is(no_js_page, live_server, dl):
    page = no_js_page
    log_in(page, "gburdell")
    page.goto("/courses/cs7643-sp21/assignments/hw2/")
    page.get_by_label("Files").set_input_files([a_file("plain.py", b"print('plain')\n")])
    page.get_by_label("Collaborators").fill("nobody")
    page.get_by_role("button", name="Submit").click()
    expect(page.get_by_role("alert")).to_contain_text("'nobody' is not a student in this course.")
    expect(page.get_by_label("Collaborators")).to_have_value("nobody")
    page.get_by_label("Files").set_input_files([a_file("plain.py", b"print('plain')\n")])
    page.get_by_label("Collaborators").fill("aturing")
    page.get_by_role("button", name="Submit").click()
    expect(page).to_have_url(re.compile(r"/submissions/\d+/$"))
    expect(page.get_by_text("On time", exact=True)).to_be_visible()


def test_the_upload_reports_its_progress(page, live_server, dl):
    log_in(page, "gburdell")
    page.goto("/courses/cs7643-sp21/assignments/hw2/")
    progress = page.locator("[data-progress]")
    expect(progress).to_be_hidden()
    # What the progress text says is kept in sessionStorage, which outlives the navigation.
    page.evaluate(
        """() => {
            const text = document.querySelector("[data-progress-text]");
            new MutationObserver(() => {
                const seen = JSON.parse(sessionStorage.getItem("progress") || "[]");
                seen.push(text.textContent);
                sessionStorage.setItem("progress", JSON.stringify(seen));
            }).observe(text, {childList: true, characterData: true, subtree: true});
        }"""
    )
    page.get_by_label("Files").set_input_files([a_file("data.bin", b"\0" * (8 * 1024 * 1024))])
    page.get_by_role("button", name="Submit").click()
    expect(page).to_have_url(re.compile(r"/submissions/\d+/$"))
    seen = page.evaluate("() => JSON.parse(sessionStorage.getItem('progress') || '[]')")
    assert any(re.fullmatch(r"\d+% \(.* of 8\.0 MB\)", s) for s in seen), seen
    assert "Uploaded; checking and storing your files…" in seen
    expect(page.locator("table.files")).to_contain_text("8.0 MB")
