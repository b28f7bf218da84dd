"""Gradescope-compatible ``results.json``: parse, validate, and decide what a student may see.

Standard library only: no Django, no project apps. The format is Gradescope's autograder
specification (gradescope/autograder_samples, docs/specs.md, "Output format"); the sizes and
counts in :mod:`~grading.results.parse` and :mod:`~grading.results.text` are this portal's
own caps, not Gradescope's.

- :func:`parse_results` turns the file's bytes into :class:`Results`, or raises
  :class:`ResultsInvalid` with a sentence for the student and a detail for the staff.
- :func:`student_view` filters by visibility; :func:`staff_view` keeps everything. The staff
  view uses Gradescope's own keys, so ``parse_results(json.dumps(staff_view(r)))`` gives the
  same results back (the portal stores the staff view and can rebuild from it).

Modules: ``model`` (the dataclasses, allowed values and :class:`ResultsInvalid`), ``parse``
(reading the file), ``fields`` (typed readers of one field), ``text`` (storable strings,
capped outputs), ``visibility`` (the student's and the staff's views).
"""

from grading.results.model import (
    FORMATS,
    ORDERS,
    STATUSES,
    STUDENT_MESSAGE,
    VISIBILITIES,
    LeaderboardEntry,
    Order,
    Results,
    ResultsInvalid,
    Status,
    TestResult,
    Visibility,
)
from grading.results.parse import MAX_RESULTS_BYTES, MAX_TESTS, parse_results
from grading.results.text import MAX_EXTRA_DATA_DEPTH, MAX_OUTPUT_BYTES, TRUNCATION_MARKER
from grading.results.visibility import staff_view, student_view, visible_to_student

__all__ = [
    "FORMATS",
    "MAX_EXTRA_DATA_DEPTH",
    "MAX_OUTPUT_BYTES",
    "MAX_RESULTS_BYTES",
    "MAX_TESTS",
    "ORDERS",
    "STATUSES",
    "STUDENT_MESSAGE",
    "TRUNCATION_MARKER",
    "VISIBILITIES",
    "LeaderboardEntry",
    "Order",
    "Results",
    "ResultsInvalid",
    "Status",
    "TestResult",
    "Visibility",
    "parse_results",
    "staff_view",
    "student_view",
    "visible_to_student",
]
