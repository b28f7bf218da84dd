"""The shape of a parsed ``results.json``: :class:`Results` and its parts, the values the
format allows, and :class:`ResultsInvalid`, the one error the parser raises."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Visibility = Literal["hidden", "after_due_date", "after_published", "visible"]
Status = Literal["passed", "failed"]
Order = Literal["asc", "desc"]

VISIBILITIES: tuple[str, ...] = ("hidden", "after_due_date", "after_published", "visible")
STATUSES: tuple[str, ...] = ("passed", "failed")
ORDERS: tuple[str, ...] = ("asc", "desc")
# specs.md, "Output String Formatting". An unknown format is not an error (Gradescope may add
# more); it falls back to the default, which is always the safe plain "text".
FORMATS: tuple[str, ...] = ("text", "html", "simple_format", "md", "ansi")

STUDENT_MESSAGE = (
    "The autograder did not produce a valid results file; the course staff have been told."
)


class ResultsInvalid(ValueError):
    """The results file breaks the format. ``student_message`` is safe to show a student;
    ``detail`` (also ``str(exc)``) tells staff which field and what value."""

    def __init__(
        self, detail: str, *, field: str | None = None, student_message: str = STUDENT_MESSAGE
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field
        self.student_message = student_message


@dataclass
class TestResult:
    __test__ = False  # not a pytest test class

    name: str
    number: str | None = None
    score: float | None = None
    max_score: float | None = None
    # As written, or else derived as specs.md "Test case status" says: passed when the score
    # reaches max_score, failed below it; None when the test has neither.
    status: Status | None = None
    output: str = ""
    tags: list[str] = field(default_factory=list)
    # Effective visibility: the test's own, else the top-level one, else "visible".
    visibility: Visibility = "visible"
    extra_data: dict[str, Any] = field(default_factory=dict)
    output_format: str | None = None
    name_format: str | None = None


@dataclass
class LeaderboardEntry:
    name: str
    value: float | str | None
    order: Order = "desc"  # specs.md / leaderboards.md: "The default is "desc""


@dataclass
class Results:
    score: float | None  # the top-level score, else the sum of the tests' scores
    max_score: float | None = None  # the sum of the tests' max_score, None when no test has one
    execution_time: float | None = None
    output: str = ""
    output_format: str | None = None
    visibility: Visibility = "visible"
    stdout_visibility: Visibility = "hidden"
    extra_data: dict[str, Any] = field(default_factory=dict)
    tests: list[TestResult] = field(default_factory=list)
    leaderboard: list[LeaderboardEntry] = field(default_factory=list)
    test_output_format: str | None = None
    test_name_format: str | None = None
