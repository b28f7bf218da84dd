"""Who may see what of a parsed results file: the student's view and the staff's view."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from grading.results.model import Results, TestResult


def visible_to_student(visibility: str, *, after_due_date: bool, grades_released: bool) -> bool:
    """specs.md, "Controlling Test Case Visibility": hidden never; after_due_date once the
    (late) due date has passed; after_published once grades are published; visible always.
    Anything else is treated as hidden."""
    if visibility == "visible":
        return True
    if visibility == "after_due_date":
        return after_due_date
    if visibility == "after_published":
        return grades_released
    return False


def student_view(
    results: Results, *, after_due_date: bool, grades_released: bool
) -> dict[str, Any]:
    """What a student may see, as plain JSON-able data.

    - Tests are filtered by their (effective) visibility; ``hidden_tests`` counts the others.
    - specs.md: "If test cases are hidden, students will not be able to see their total score."
      So when any test is withheld, ``score`` and ``max_score`` are None. (An older revision
      of specs.md exempted tests marked ``hidden``; the current one does not, and neither does
      this portal: a hidden test may carry points.) The same holds when the top-level
      visibility itself is not yet reached, even with no tests to withhold.
    - The top-level ``output`` is the grader's message to the student (specs.md: "Any output
      you wish to show to students must be explicitly put in the JSON "output" field"); it
      follows the top-level visibility (the spec says nothing more; this is the cautious
      reading). ``stdout_visible`` says whether the captured stdout of run_autograder, which is
      not part of results.json, may be shown: ``stdout_visibility``, default hidden.
    """

    def can_see(visibility: str) -> bool:
        return visible_to_student(
            visibility, after_due_date=after_due_date, grades_released=grades_released
        )

    shown = [t for t in results.tests if can_see(t.visibility)]
    hidden_tests = len(results.tests) - len(shown)
    overall_visible = can_see(results.visibility)
    total_visible = overall_visible and hidden_tests == 0
    return {
        "score": results.score if total_visible else None,
        "max_score": results.max_score if total_visible else None,
        "tests": [_student_test(t, results) for t in shown],
        "output": results.output if overall_visible else None,
        "output_format": results.output_format or "simple_format",
        "stdout_visible": can_see(results.stdout_visibility),
        "leaderboard": [asdict(entry) for entry in results.leaderboard],
        "hidden_tests": hidden_tests,
    }


def _student_test(test: TestResult, results: Results) -> dict[str, Any]:
    """One test a student may see: everything but its visibility and extra data."""
    return {
        "name": test.name,
        "number": test.number,
        "score": test.score,
        "max_score": test.max_score,
        "status": test.status,
        "output": test.output,
        "tags": list(test.tags),
        # specs.md, "Output String Formatting": "text" is the default for test output
        # and names, "simple_format" for the top-level output.
        "output_format": test.output_format or results.test_output_format or "text",
        "name_format": test.name_format or results.test_name_format or "text",
    }


def staff_view(results: Results) -> dict[str, Any]:
    """Everything, in Gradescope's own keys; parse_results reads it back unchanged."""
    return asdict(results)
