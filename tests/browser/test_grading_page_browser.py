"""The TA's grading pages in a real browser: a TA goes from the assignment page to the grading
overview, takes the next ungraded submission, ticks rubric items (by clicking and by a number
key), types an adjustment and a comment, comments a line of the code, and saves; once the
instructor releases the grades the student reads it all on the receipt. Two TAs taking the
next ungraded submission at once get different ones."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from playwright.sync_api import expect

from grading import services
from grading.models import Annotation, Grade, RubricItem
from grading.services.rubrics import QuestionEvaluation
from submissions.models import Submission
from submissions.services import submission_create
from tests.browser.builders import deep_learning, george, person
from tests.browser.conftest import log_in
from tests.factories import AssignmentFactory, QuestionFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CODE = b"import torch\n\ndef forward(x):\n    return x @ x.T\n"


def hand_in(enrollment: Any, assignment: Any) -> int:
    return submission_create(
        enrollment=enrollment,
        assignment=assignment,
        files=[(SimpleUploadedFile("model.py", CODE), "model.py")],
        received_at=timezone.now(),
    ).submission.pk


@pytest.fixture
def dl(transactional_db: Any, no_wakeups: list[int]) -> dict[str, Any]:
    """HW1 with one question (q1, 10 points, graded by staff) and two rubric items; George
    handed in model.py; two TAs and the instructor."""
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    built = deep_learning()
    hw1 = AssignmentFactory(
        course=built.course,
        category=built.homework,
        slug="hw1",
        title="HW1",
        release_at=now - timedelta(days=5),
        due_at=now + timedelta(days=2),
        points=Decimal(10),
    )
    QuestionFactory(assignment=hw1, slug="q1", title="Forward pass", points=10, position=0)
    RubricItem.objects.create(
        assignment=hw1, question="q1", description="Correct forward pass", points=6, position=0
    )
    RubricItem.objects.create(
        assignment=hw1, question="q1", description="Clear plots", points=2, position=1
    )
    student = george(built)
    return {
        "course": built.course,
        "hw1": hw1,
        "student": student,
        "submission": hand_in(student, hw1),
        "ta": person("tahelper", "Tara", "Helper", section=built.ug, role="ta"),
        "ta2": person("tbright", "Tom", "Bright", section=built.ug, role="ta"),
        "instructor": person(
            "zkira", "Zsolt", "Kira", course=built.course, section=None, role="instructor"
        ),
        "ug": built.ug,
    }


def test_a_ta_grades_in_the_browser_and_the_student_reads_it(
    chromium: Any, live_server: Any, dl: dict[str, Any], shots: Any
) -> None:
    context = chromium.new_context(
        base_url=live_server.url, viewport={"width": 1366, "height": 900}
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    log_in(page, "tahelper")
    page.goto("/courses/cs7643-sp21/assignments/hw1/")
    page.get_by_role("link", name="Grade submissions").click()
    expect(page.get_by_role("heading", name="Grade HW1", level=1)).to_be_visible()
    expect(page.locator("#grading-progress")).to_have_text("Graded 0 of 1")
    page.get_by_role("button", name="Next ungraded").click()
    expect(page.get_by_role("heading", name="Grade gburdell: HW1", level=1)).to_be_visible()

    # grading.js has run once the code's lines are buttons.
    expect(page.get_by_role("button", name="Comment on line 4 of model.py")).to_be_visible()
    page.get_by_role("checkbox", name="Correct forward pass").click()
    page.keyboard.press("2")  # the focus is on a checkbox, not in a text field
    expect(page.get_by_role("checkbox", name="Correct forward pass")).to_be_checked()
    expect(page.get_by_role("checkbox", name="Clear plots")).to_be_checked()
    page.get_by_role("textbox", name="Adjustment").fill("0.5")
    page.get_by_role("textbox", name="Comment", exact=True).fill("Tidy work; mind the shapes.")
    page.get_by_role("textbox", name="Comment", exact=True).press("1")  # typed, not a toggle
    expect(page.get_by_role("checkbox", name="Correct forward pass")).to_be_checked()

    page.get_by_role("button", name="Comment on line 4 of model.py").click()
    line_form = page.locator("form.line-comment-form")
    line_form.get_by_role("textbox", name="Comment on line 4 of model.py").fill("Transpose?")
    line_form.get_by_role("button", name="Save comment").click()
    expect(page.locator("#code")).to_contain_text("Comment on line 4: Transpose?")
    expect(page.get_by_role("checkbox", name="Clear plots")).to_be_checked()  # not reloaded
    page.screenshot(path=str(shots / "grading-view.png"), full_page=True)

    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("Evaluation saved.")).to_be_visible()
    expect(page.locator("#points-q1")).to_contain_text("8.5")
    expect(page.locator("#grade-total")).to_have_text(re.compile(r"^8\.50 / 10$"))
    expect(page.get_by_role("checkbox", name="Clear plots")).to_be_checked()
    grade = Grade.objects.get(assignment=dl["hw1"], student=dl["student"].user, question="q1")
    assert grade.points == Decimal("8.5") and grade.comment.endswith("mind the shapes.1")
    assert list(Annotation.objects.values_list("line", "text")) == [(4, "Transpose?")]
    context.close()

    boss = chromium.new_context(base_url=live_server.url)
    boss_page = boss.new_page()
    log_in(boss_page, "zkira")
    boss_page.goto("/courses/cs7643-sp21/assignments/hw1/")
    boss_page.once("dialog", lambda dialog: dialog.accept())
    boss_page.get_by_role("button", name="Release grades").click()
    expect(boss_page.get_by_text("The grades of HW1 are released")).to_be_visible()
    boss.close()

    reader = chromium.new_context(base_url=live_server.url)
    student_page = reader.new_page()
    log_in(student_page, "gburdell")
    student_page.goto(f"/submissions/{dl['submission']}/")
    feedback = student_page.locator("#feedback")
    expect(feedback).to_contain_text("Correct forward pass")
    expect(feedback).to_contain_text("Clear plots")
    expect(feedback).to_contain_text("Tidy work; mind the shapes.")
    expect(feedback).to_contain_text("+0.5")
    expect(student_page.locator("#code")).to_contain_text("Transpose?")
    expect(student_page.locator("#grade-total")).to_contain_text("8.50 / 10")
    reader.close()


def test_two_tas_taking_next_ungraded_at_once_get_different_submissions(
    chromium: Any, live_server: Any, dl: dict[str, Any]
) -> None:
    other = person("aturing", "Alan", "Turing", section=dl["ug"])
    hand_in(other, dl["hw1"])
    pages = []
    contexts = []
    for username in ("tahelper", "tbright"):
        context = chromium.new_context(base_url=live_server.url)
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        log_in(page, username)
        page.goto("/courses/cs7643-sp21/assignments/hw1/grade/")
        pages.append(page)
    for page in pages:
        page.get_by_role("button", name="Next ungraded").click(no_wait_after=True)
    taken = re.compile(r"/assignments/hw1/grade/(\d+)/$")
    for page in pages:
        page.wait_for_url(taken)
    ids = {taken.search(page.url).group(1) for page in pages}  # type: ignore[union-attr]
    assert len(ids) == 2
    pages[0].goto("/courses/cs7643-sp21/assignments/hw1/grade/")
    expect(pages[0].locator("table.grading-rows")).to_contain_text("tahelper")
    expect(pages[0].locator("table.grading-rows")).to_contain_text("tbright")
    for context in contexts:
        context.close()


def test_a_regrade_thread_to_resolution_through_the_rubric(
    chromium: Any, live_server: Any, dl: dict[str, Any], shots: Any
) -> None:
    """George asks for a regrade of q1 on his receipt; the TA finds it on the grading
    overview, asks a question in the thread, George answers, the TA ticks the item he
    missed, writes a response and presses Save and resolve; George's receipt says what
    changed and why."""
    hw1, submission = dl["hw1"], dl["submission"]
    correct = RubricItem.objects.get(description="Correct forward pass")
    services.evaluation_set(
        by=dl["ta"],
        submission=Submission.objects.get(pk=submission),
        questions={"q1": QuestionEvaluation(rubric_items=[correct.pk])},
    )
    services.grades_release(
        enrollment=dl["instructor"], assignment=hw1, now=timezone.now() - timedelta(minutes=5)
    )
    student_context = chromium.new_context(base_url=live_server.url)
    student_context.set_default_timeout(15_000)
    student_page = student_context.new_page()
    log_in(student_page, "gburdell")
    student_page.goto(f"/submissions/{submission}/")
    student_page.get_by_label("Question").select_option("q1")
    student_page.get_by_label("Message").fill("My plots are in figures/, please look.")
    student_page.get_by_role("button", name="Request regrade").click()
    expect(student_page.locator(".messages")).to_contain_text("Your regrade request is in")

    ta_context = chromium.new_context(
        base_url=live_server.url, viewport={"width": 1366, "height": 900}
    )
    ta_context.set_default_timeout(15_000)
    ta_page = ta_context.new_page()
    log_in(ta_page, "tahelper")
    ta_page.goto("/courses/cs7643-sp21/assignments/hw1/grade/")
    ta_page.locator("#open-regrades").get_by_role("link").first.click()
    request = ta_page.locator(".regrade-card .regrade-item").first
    expect(request).to_contain_text("My plots are in figures/")
    expect(request).to_contain_text("The grade when asked")
    expect(request).to_contain_text("Correct forward pass (+6)")
    request.get_by_role("textbox", name="Message").fill("Which file holds the loss curve?")
    request.get_by_role("button", name="Send").click()
    expect(ta_page.locator(".messages")).to_contain_text("Your message is in the thread.")

    student_page.reload()
    expect(student_page.locator("#regrade")).to_contain_text("Which file holds the loss")
    student_page.get_by_role("textbox", name="Message").last.fill("figures/loss.png")
    student_page.locator(".reply-form").get_by_role("button", name="Send").click()
    expect(student_page.locator(".messages")).to_contain_text("Your message is in the thread.")

    ta_page.reload()
    expect(ta_page.locator(".regrade-card")).to_contain_text("figures/loss.png")
    ta_page.get_by_role("checkbox", name="Clear plots").check()
    ta_page.get_by_role("textbox", name="Response to the regrade request").fill(
        "Found them: plots credited."
    )
    ta_page.screenshot(path=str(shots / "grading-view-regrade.png"), full_page=True)
    ta_page.get_by_role("button", name="Save and resolve").click()
    expect(ta_page.locator(".messages")).to_contain_text("regrade request resolved")
    expect(ta_page.locator("#points-q1")).to_contain_text("8")
    ta_context.close()

    student_page.reload()
    changed = student_page.locator(".regrade-changes")
    expect(changed).to_contain_text("6 → 8 points")
    expect(changed).to_contain_text("Applied: Clear plots (+2)")
    expect(student_page.locator("#regrade")).to_contain_text("Found them: plots credited.")
    expect(student_page.locator("#grade-total")).to_contain_text("8 / 10")
    student_page.screenshot(path=str(shots / "receipt-regrade-changes.png"), full_page=True)
    student_context.close()


def test_the_grading_view_shows_a_notebook_a_pdf_and_an_image_and_passes_axe(
    chromium: Any, live_server: Any, dl: dict[str, Any], shots: Any
) -> None:
    """A submission with code, a notebook (markdown, highlighted code, a plot), a PDF and an
    image: the TA sees them all on the grading view, the PDF in an <object> served as a PDF
    that the page may frame, the plot and the image loaded, and the page passes axe."""
    from tests.browser.test_accessibility import WIDTHS, _violations
    from tests.grading.test_notebook_view import PDF, analysis, png

    other = person("aturing", "Alan", "Turing", section=dl["ug"])
    submission = submission_create(
        enrollment=other,
        assignment=dl["hw1"],
        files=[
            (SimpleUploadedFile("model.py", CODE), "model.py"),
            (SimpleUploadedFile("analysis.ipynb", analysis().encode()), "analysis.ipynb"),
            (SimpleUploadedFile("report.pdf", PDF), "report.pdf"),
            (SimpleUploadedFile("plot.png", png()), "plot.png"),
        ],
        received_at=timezone.now(),
    ).submission
    for width in ("desktop", "phone"):
        context = chromium.new_context(base_url=live_server.url, viewport=WIDTHS[width])
        context.set_default_timeout(15_000)
        page = context.new_page()
        log_in(page, "tahelper")
        page.goto(f"/courses/cs7643-sp21/assignments/hw1/grade/{submission.pk}/")
        notebook = page.get_by_role("region", name="analysis.ipynb")
        expect(notebook.get_by_role("heading", name="Training curves", level=4)).to_be_visible()
        expect(notebook.locator(".highlight .kn").first).to_have_text("import")
        plot = notebook.get_by_role("img", name="Output image")
        expect(plot).to_be_visible()
        assert plot.evaluate("img => img.complete && img.naturalWidth > 0")
        image = page.get_by_role("img", name="plot.png, as submitted")
        expect(image).to_be_visible()
        assert image.evaluate("img => img.complete && img.naturalWidth > 0")
        pdf = page.locator("object.file-pdf")
        expect(pdf).to_be_attached()
        expect(pdf).to_have_attribute("type", "application/pdf")
        served = page.request.get(str(pdf.get_attribute("data")))
        assert served.status == 200
        assert served.headers["content-type"] == "application/pdf"
        assert served.headers["x-frame-options"] == "SAMEORIGIN"
        assert served.body() == PDF
        expect(page.get_by_role("link", name="Open PDF")).to_be_visible()
        page.screenshot(path=str(shots / f"grading-view-files-{width}.png"), full_page=True)
        page.locator("#code").screenshot(path=str(shots / f"grading-view-files-panel-{width}.png"))
        assert _violations(page) == []
        context.close()
