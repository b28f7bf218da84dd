"""Gradescope-compatible ``results.json``: parse, validate, and decide what a student may see.

Standard library only: no Django, no project apps. The format is Gradescope's autograder
specification (gradescope/autograder_samples, docs/specs.md, "Output format"); the sizes and
counts below are this portal's own caps, not Gradescope's.

- :func:`parse_results` turns the file's bytes into :class:`Results`, or raises
  :class:`ResultsInvalid` with a sentence for the student and a detail for the staff.
- :func:`student_view` filters by visibility; :func:`staff_view` keeps everything. The staff
  view uses Gradescope's own keys, so ``parse_results(json.dumps(staff_view(r)))`` gives the
  same results back (the portal stores the staff view and can rebuild from it).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, cast

Visibility = Literal["hidden", "after_due_date", "after_published", "visible"]
Status = Literal["passed", "failed"]
Order = Literal["asc", "desc"]

VISIBILITIES: tuple[str, ...] = ("hidden", "after_due_date", "after_published", "visible")
STATUSES: tuple[str, ...] = ("passed", "failed")
ORDERS: tuple[str, ...] = ("asc", "desc")
# specs.md, "Output String Formatting". An unknown format is not an error (Gradescope may add
# more); it falls back to the default, which is always the safe plain "text".
FORMATS: tuple[str, ...] = ("text", "html", "simple_format", "md", "ansi")

MAX_RESULTS_BYTES = 5 * 1024 * 1024
MAX_TESTS = 1000
MAX_OUTPUT_BYTES = 64 * 1024
# extra_data deeper than this is refused: the portal copies and serialises it recursively.
MAX_EXTRA_DATA_DEPTH = 32
TRUNCATION_MARKER = "\n\n[output truncated by the course portal: {omitted} more bytes]"

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


# ---------------------------------------------------------------------------------------------
# Parsing


def parse_results(raw: bytes | str) -> Results:
    """Parse and validate a ``results.json``. Raises only :class:`ResultsInvalid`.

    Unknown keys (``merge_subtests`` from gradescope-utils, graders' own additions) are ignored,
    never an error. JSON ``null`` in an optional field means the field is absent.
    """
    data = _load(raw)
    if not isinstance(data, dict):
        raise ResultsInvalid(
            f"the top level of results.json must be a JSON object, not {_kind(data)}"
        )

    tests_raw = data.get("tests")
    if tests_raw is None:
        tests_raw = []
    if not isinstance(tests_raw, list):
        raise _bad("tests", tests_raw, "a list of objects")
    if len(tests_raw) > MAX_TESTS:
        raise ResultsInvalid(
            f"results.json has {len(tests_raw)} tests; at most {MAX_TESTS} are accepted",
            field="tests",
        )

    # specs.md, "Controlling Test Case Visibility": the top-level "visibility" is the
    # assignment-level setting, and "a test can override this setting with its own visibility
    # setting"; "visible" is the default. So a test without one takes the top-level value.
    visibility = _enum(data, "visibility", VISIBILITIES, "visible")
    # specs.md, "Controlling standard output visibility": "By default, anything printed to
    # standard output is recorded and only shown to instructors".
    stdout_visibility = _enum(data, "stdout_visibility", VISIBILITIES, "hidden")

    score = _number(data, "score")
    tests = [_parse_test(i, t, cast(Visibility, visibility)) for i, t in enumerate(tests_raw)]
    test_scores = [t.score for t in tests if t.score is not None]
    if score is None and not test_scores:
        raise ResultsInvalid(
            "results.json has no score: neither a top-level score nor a score on any test",
            field="score",
        )
    max_scores = [t.max_score for t in tests if t.max_score is not None]

    return Results(
        # specs.md: the top-level score "Overrides total of tests if specified".
        score=score if score is not None else _sum(cast(list[float], test_scores), "score"),
        max_score=_sum(cast(list[float], max_scores), "max_score") if max_scores else None,
        execution_time=_execution_time(data),
        output=_truncate(_string(data, "output") or ""),
        output_format=_format(data, "output_format"),
        visibility=cast(Visibility, visibility),
        stdout_visibility=cast(Visibility, stdout_visibility),
        extra_data=_object(data, "extra_data"),
        tests=tests,
        leaderboard=_parse_leaderboard(data.get("leaderboard")),
        test_output_format=_format(data, "test_output_format"),
        test_name_format=_format(data, "test_name_format"),
    )


def _sum(values: list[float], what: str) -> float:
    try:
        total = math.fsum(values)
    except OverflowError:
        total = math.inf
    if not math.isfinite(total):
        raise ResultsInvalid(f"the tests' {what} values add up to more than a float holds")
    return total


def _load(raw: bytes | str) -> Any:
    if isinstance(raw, bytes | bytearray | memoryview):
        raw = bytes(raw)
        if len(raw) > MAX_RESULTS_BYTES:
            raise _too_large(len(raw))
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ResultsInvalid(
                f"results.json is not UTF-8 text (bad byte at offset {exc.start})"
            ) from None
    elif isinstance(raw, str):
        if len(raw) > MAX_RESULTS_BYTES:  # a character is at least one byte
            raise _too_large(len(raw))
        size = len(raw.encode("utf-8", "surrogatepass"))
        if size > MAX_RESULTS_BYTES:
            raise _too_large(size)
        text = raw.removeprefix("\ufeff")
    else:
        raise ResultsInvalid(f"results must be bytes or text, not {type(raw).__name__}")
    if not text.strip():
        raise ResultsInvalid("results.json is empty")
    try:
        return json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except ResultsInvalid:
        raise
    except RecursionError:
        raise ResultsInvalid("results.json is nested too deeply to read") from None
    except ValueError as exc:  # JSONDecodeError, and ints longer than Python allows
        raise ResultsInvalid(f"results.json is not valid JSON: {_short(str(exc), 200)}") from None


def _refuse_constant(name: str) -> Any:
    raise ResultsInvalid(f"results.json contains {name}, which is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ResultsInvalid(f"results.json contains the number {_short(text)}, too large")
    return value


def _too_large(size: int) -> ResultsInvalid:
    return ResultsInvalid(
        f"results.json is {size} bytes; at most {MAX_RESULTS_BYTES} are accepted",
        student_message=(
            "The autograder wrote a results file too large to read; the course staff have "
            "been told."
        ),
    )


def _parse_test(index: int, raw: Any, default_visibility: Visibility) -> TestResult:
    where = f"tests[{index}]"
    if not isinstance(raw, dict):
        raise _bad(where, raw, "an object")

    name = _string(raw, "name", where)
    if name is None or not name.strip():
        name = f"Test {index + 1}"

    number_raw = raw.get("number")
    number: str | None
    if number_raw is None:
        number = None
    elif isinstance(number_raw, str):
        number = _clean_str(number_raw)
    elif isinstance(number_raw, int | float) and not isinstance(number_raw, bool):
        number = str(number_raw)  # old graders write 1 or 1.2; specs.md wants "1.2"
    else:
        raise _bad(f"{where}.number", number_raw, 'a string such as "1.2"')

    score = _number(raw, "score", where)
    max_score = _number(raw, "max_score", where)
    status = cast(Status | None, _enum(raw, "status", STATUSES, None, where))
    if status is None and score is not None and max_score is not None:
        status = "passed" if score >= max_score else "failed"

    tags_raw = raw.get("tags")
    if tags_raw is None:
        tags: list[str] = []
    elif isinstance(tags_raw, list) and all(isinstance(t, str) for t in tags_raw):
        tags = [_clean_str(t) for t in tags_raw]
    else:
        raise _bad(f"{where}.tags", tags_raw, "a list of strings")

    return TestResult(
        name=name,
        number=number,
        score=score,
        max_score=max_score,
        status=status,
        output=_truncate(_string(raw, "output", where) or ""),
        tags=tags,
        visibility=cast(
            Visibility, _enum(raw, "visibility", VISIBILITIES, default_visibility, where)
        ),
        extra_data=_object(raw, "extra_data", where),
        output_format=_format(raw, "output_format", where),
        name_format=_format(raw, "name_format", where),
    )


def _parse_leaderboard(raw: Any) -> list[LeaderboardEntry]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise _bad("leaderboard", raw, "a list of objects")
    entries = []
    for i, item in enumerate(raw):
        where = f"leaderboard[{i}]"
        if not isinstance(item, dict):
            raise _bad(where, item, "an object")
        name = _string(item, "name", where)
        if name is None:
            raise _bad(f"{where}.name", item.get("name"), "a string")
        value = item.get("value")
        # specs.md's example has numbers and a string ("*****"); gradescope-utils writes null
        # when a test never set its value.
        if isinstance(value, str):
            value = _clean_str(value)
        elif isinstance(value, int | float) and not isinstance(value, bool):
            value = _to_float(value, f"{where}.value")
        elif value is not None:
            raise _bad(f"{where}.value", value, "a number or a string")
        order = _enum(item, "order", ORDERS, "desc", where)
        entries.append(LeaderboardEntry(name=name, value=value, order=cast(Order, order)))
    return entries


def _execution_time(data: dict[str, Any]) -> float | None:
    raw = data.get("execution_time")
    if raw is None:
        return None
    if isinstance(raw, str):  # gradescope-utils writes format(seconds, "0.2f")
        try:
            value = float(raw.strip())
        except ValueError:
            raise _bad("execution_time", raw, "a number of seconds") from None
        if not math.isfinite(value):
            raise _bad("execution_time", raw, "a finite number of seconds")
    elif isinstance(raw, int | float) and not isinstance(raw, bool):
        value = _to_float(raw, "execution_time")
    else:
        raise _bad("execution_time", raw, "a number of seconds")
    if value < 0:
        raise _bad("execution_time", raw, "a number of seconds, not negative")
    return value


# --- typed field readers: a missing key and JSON null mean "absent" --------------------------


def _path(where: str | None, key: str) -> str:
    return f"{where}.{key}" if where else key


def _number(obj: dict[str, Any], key: str, where: str | None = None) -> float | None:
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _bad(_path(where, key), value, "a number")
    return _to_float(value, _path(where, key))


def _to_float(value: float, path: str) -> float:
    try:
        result = float(value)
    except OverflowError:  # an int with hundreds of digits
        raise _bad(path, value, "a number of sensible size") from None
    if not math.isfinite(result):
        raise _bad(path, value, "a finite number")
    return result


def _string(obj: dict[str, Any], key: str, where: str | None = None) -> str | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise _bad(_path(where, key), value, "a string")
    return _clean_str(value)


def _enum(
    obj: dict[str, Any],
    key: str,
    allowed: tuple[str, ...],
    default: str | None,
    where: str | None = None,
) -> str | None:
    value = obj.get(key)
    if value is None:
        return default
    if value not in allowed:  # also refuses non-strings
        raise _bad(_path(where, key), value, "one of " + ", ".join(allowed))
    return cast(str, value)


def _format(obj: dict[str, Any], key: str, where: str | None = None) -> str | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise _bad(_path(where, key), value, "a string (one of " + ", ".join(FORMATS) + ")")
    return value if value in FORMATS else None


def _object(obj: dict[str, Any], key: str, where: str | None = None) -> dict[str, Any]:
    value = obj.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _bad(_path(where, key), value, "an object")
    return cast(dict[str, Any], _clean_json(value, _path(where, key)))


def _bad(path: str, value: Any, expected: str) -> ResultsInvalid:
    return ResultsInvalid(
        f"results.json field {path} must be {expected}; got {_kind(value)} {_short(_repr(value))}",
        field=path,
    )


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _repr(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 10**30:
        return f"<an integer of {len(str(abs(value)))} digits>"
    try:
        return json.dumps(value)[:200]
    except (TypeError, ValueError, RecursionError):
        return repr(value)[:200]


def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- text hygiene -----------------------------------------------------------------------------


def _clean_str(text: str) -> str:
    """Make text storable: PostgreSQL text and jsonb refuse NUL, and a lone surrogate (from a
    ``\\ud800`` escape) cannot be encoded as UTF-8. Both become U+FFFD."""
    if "\x00" in text:
        text = text.replace("\x00", "\ufffd")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = "".join("\ufffd" if "\ud800" <= ch <= "\udfff" else ch for ch in text)
    return text


def _clean_json(value: Any, path: str) -> Any:
    """Clean every string (keys too) in a JSON value, iteratively, refusing nesting deeper
    than MAX_EXTRA_DATA_DEPTH."""
    root: list[Any] = []
    stack: list[tuple[Any, dict[str, Any] | list[Any], int]] = [([value], root, 0)]
    while stack:
        source, target, depth = stack.pop()
        if depth > MAX_EXTRA_DATA_DEPTH:
            raise ResultsInvalid(
                f"results.json field {path} is nested more than {MAX_EXTRA_DATA_DEPTH} levels deep",
                field=path,
            )
        pairs = list(source.items()) if isinstance(source, dict) else [(None, v) for v in source]
        for key, item in pairs:
            copy: Any
            if isinstance(item, str):
                copy = _clean_str(item)
            elif isinstance(item, dict | list):
                copy = {} if isinstance(item, dict) else []
                stack.append((item, copy, depth + 1))
            else:
                copy = item
            if isinstance(target, dict):
                target[_clean_str(str(key))] = copy
            else:
                target.append(copy)
    return root[0]


def _truncate(text: str) -> str:
    """At most MAX_OUTPUT_BYTES of UTF-8, marker included, cut on a character boundary."""
    encoded = text.encode("utf-8")
    if len(encoded) <= MAX_OUTPUT_BYTES:
        return text
    keep = MAX_OUTPUT_BYTES - len(TRUNCATION_MARKER.format(omitted=len(encoded)).encode())
    head = encoded[:keep].decode("utf-8", "ignore")
    omitted = len(encoded) - len(head.encode("utf-8"))
    return head + TRUNCATION_MARKER.format(omitted=omitted)


# ---------------------------------------------------------------------------------------------
# Views


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
        "tests": [
            {
                "name": t.name,
                "number": t.number,
                "score": t.score,
                "max_score": t.max_score,
                "status": t.status,
                "output": t.output,
                "tags": list(t.tags),
                # specs.md, "Output String Formatting": "text" is the default for test output
                # and names, "simple_format" for the top-level output.
                "output_format": t.output_format or results.test_output_format or "text",
                "name_format": t.name_format or results.test_name_format or "text",
            }
            for t in shown
        ],
        "output": results.output if overall_visible else None,
        "output_format": results.output_format or "simple_format",
        "stdout_visible": can_see(results.stdout_visibility),
        "leaderboard": [asdict(entry) for entry in results.leaderboard],
        "hidden_tests": hidden_tests,
    }


def staff_view(results: Results) -> dict[str, Any]:
    """Everything, in Gradescope's own keys; parse_results reads it back unchanged."""
    return asdict(results)
