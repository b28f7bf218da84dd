"""Reading a ``results.json``: bytes or text to :class:`~grading.results.model.Results`.

:func:`parse_results` raises only :class:`~grading.results.model.ResultsInvalid`. The file's
size, encoding and JSON are checked first (:func:`_load`), then the top level, each test and
the leaderboard, field by field (:mod:`grading.results.fields`).
"""

from __future__ import annotations

import json
import math
from typing import Any, cast

from grading.results.fields import (
    bad,
    kind,
    read_enum,
    read_format,
    read_number,
    read_object,
    read_string,
    short,
    to_float,
)
from grading.results.model import (
    ORDERS,
    STATUSES,
    VISIBILITIES,
    LeaderboardEntry,
    Order,
    Results,
    ResultsInvalid,
    Status,
    TestResult,
    Visibility,
)
from grading.results.text import clean_str, truncate

MAX_RESULTS_BYTES = 5 * 1024 * 1024
MAX_TESTS = 1000


def parse_results(raw: bytes | str) -> Results:
    """Parse and validate a ``results.json``. Raises only :class:`ResultsInvalid`.

    Unknown keys (``merge_subtests`` from gradescope-utils, graders' own additions) are ignored,
    never an error. JSON ``null`` in an optional field means the field is absent.
    """
    data = _load(raw)
    if not isinstance(data, dict):
        raise ResultsInvalid(
            f"the top level of results.json must be a JSON object, not {kind(data)}"
        )
    tests_raw = _tests_list(data)

    # specs.md, "Controlling Test Case Visibility": the top-level "visibility" is the
    # assignment-level setting, and "a test can override this setting with its own visibility
    # setting"; "visible" is the default. So a test without one takes the top-level value.
    visibility = cast(Visibility, read_enum(data, "visibility", VISIBILITIES, "visible"))
    # specs.md, "Controlling standard output visibility": "By default, anything printed to
    # standard output is recorded and only shown to instructors".
    stdout_visibility = read_enum(data, "stdout_visibility", VISIBILITIES, "hidden")

    score = read_number(data, "score")
    tests = [_parse_test(i, t, visibility) for i, t in enumerate(tests_raw)]
    max_scores = [t.max_score for t in tests if t.max_score is not None]

    return Results(
        score=_total_score(score, tests),
        max_score=_sum(cast(list[float], max_scores), "max_score") if max_scores else None,
        execution_time=_execution_time(data),
        output=truncate(read_string(data, "output") or ""),
        output_format=read_format(data, "output_format"),
        visibility=visibility,
        stdout_visibility=cast(Visibility, stdout_visibility),
        extra_data=read_object(data, "extra_data"),
        tests=tests,
        leaderboard=_parse_leaderboard(data.get("leaderboard")),
        test_output_format=read_format(data, "test_output_format"),
        test_name_format=read_format(data, "test_name_format"),
    )


def _tests_list(data: dict[str, Any]) -> list[Any]:
    tests_raw = data.get("tests")
    if tests_raw is None:
        return []
    if not isinstance(tests_raw, list):
        raise bad("tests", tests_raw, "a list of objects")
    if len(tests_raw) > MAX_TESTS:
        raise ResultsInvalid(
            f"results.json has {len(tests_raw)} tests; at most {MAX_TESTS} are accepted",
            field="tests",
        )
    return tests_raw


def _total_score(score: float | None, tests: list[TestResult]) -> float:
    """specs.md: the top-level score "Overrides total of tests if specified"."""
    test_scores = [t.score for t in tests if t.score is not None]
    if score is None and not test_scores:
        raise ResultsInvalid(
            "results.json has no score: neither a top-level score nor a score on any test",
            field="score",
        )
    return score if score is not None else _sum(cast(list[float], test_scores), "score")


def _sum(values: list[float], what: str) -> float:
    try:
        total = math.fsum(values)
    except OverflowError:
        total = math.inf
    if not math.isfinite(total):
        raise ResultsInvalid(f"the tests' {what} values add up to more than a float holds")
    return total


# --- the file as a whole -------------------------------------------------------------------


def _load(raw: bytes | str) -> Any:
    text = _as_text(raw)
    if not text.strip():
        raise ResultsInvalid("results.json is empty")
    try:
        return json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except ResultsInvalid:
        raise
    except RecursionError:
        raise ResultsInvalid("results.json is nested too deeply to read") from None
    except ValueError as exc:  # JSONDecodeError, and ints longer than Python allows
        raise ResultsInvalid(f"results.json is not valid JSON: {short(str(exc), 200)}") from None


def _as_text(raw: bytes | str) -> str:
    """The file as text, within the size cap, without a byte order mark."""
    if isinstance(raw, bytes | bytearray | memoryview):
        return _decode(bytes(raw))
    if isinstance(raw, str):
        if len(raw) > MAX_RESULTS_BYTES:  # a character is at least one byte
            raise _too_large(len(raw))
        size = len(raw.encode("utf-8", "surrogatepass"))
        if size > MAX_RESULTS_BYTES:
            raise _too_large(size)
        return raw.removeprefix("\ufeff")
    raise ResultsInvalid(f"results must be bytes or text, not {type(raw).__name__}")


def _decode(raw: bytes) -> str:
    if len(raw) > MAX_RESULTS_BYTES:
        raise _too_large(len(raw))
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ResultsInvalid(
            f"results.json is not UTF-8 text (bad byte at offset {exc.start})"
        ) from None


def _refuse_constant(name: str) -> Any:
    raise ResultsInvalid(f"results.json contains {name}, which is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ResultsInvalid(f"results.json contains the number {short(text)}, too large")
    return value


def _too_large(size: int) -> ResultsInvalid:
    return ResultsInvalid(
        f"results.json is {size} bytes; at most {MAX_RESULTS_BYTES} are accepted",
        student_message=(
            "The autograder wrote a results file too large to read; the course staff have "
            "been told."
        ),
    )


# --- one test ------------------------------------------------------------------------------


def _parse_test(index: int, raw: Any, default_visibility: Visibility) -> TestResult:
    where = f"tests[{index}]"
    if not isinstance(raw, dict):
        raise bad(where, raw, "an object")

    name = read_string(raw, "name", where)
    if name is None or not name.strip():
        name = f"Test {index + 1}"
    number = _test_number(raw.get("number"), where)
    score = read_number(raw, "score", where)
    max_score = read_number(raw, "max_score", where)
    status = _test_status(raw, where, score=score, max_score=max_score)
    tags = _test_tags(raw.get("tags"), where)

    return TestResult(
        name=name,
        number=number,
        score=score,
        max_score=max_score,
        status=status,
        output=truncate(read_string(raw, "output", where) or ""),
        tags=tags,
        visibility=cast(
            Visibility, read_enum(raw, "visibility", VISIBILITIES, default_visibility, where)
        ),
        extra_data=read_object(raw, "extra_data", where),
        output_format=read_format(raw, "output_format", where),
        name_format=read_format(raw, "name_format", where),
    )


def _test_number(number_raw: Any, where: str) -> str | None:
    if number_raw is None:
        return None
    if isinstance(number_raw, str):
        return clean_str(number_raw)
    if isinstance(number_raw, int | float) and not isinstance(number_raw, bool):
        return str(number_raw)  # old graders write 1 or 1.2; specs.md wants "1.2"
    raise bad(f"{where}.number", number_raw, 'a string such as "1.2"')


def _test_status(
    raw: dict[str, Any], where: str, *, score: float | None, max_score: float | None
) -> Status | None:
    status = cast(Status | None, read_enum(raw, "status", STATUSES, None, where))
    if status is None and score is not None and max_score is not None:
        status = "passed" if score >= max_score else "failed"
    return status


def _test_tags(tags_raw: Any, where: str) -> list[str]:
    if tags_raw is None:
        return []
    if isinstance(tags_raw, list) and all(isinstance(t, str) for t in tags_raw):
        return [clean_str(t) for t in tags_raw]
    raise bad(f"{where}.tags", tags_raw, "a list of strings")


# --- the rest of the top level ---------------------------------------------------------------


def _parse_leaderboard(raw: Any) -> list[LeaderboardEntry]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise bad("leaderboard", raw, "a list of objects")
    return [_leaderboard_entry(i, item) for i, item in enumerate(raw)]


def _leaderboard_entry(index: int, item: Any) -> LeaderboardEntry:
    where = f"leaderboard[{index}]"
    if not isinstance(item, dict):
        raise bad(where, item, "an object")
    name = read_string(item, "name", where)
    if name is None:
        raise bad(f"{where}.name", item.get("name"), "a string")
    value = _leaderboard_value(item.get("value"), where)
    order = read_enum(item, "order", ORDERS, "desc", where)
    return LeaderboardEntry(name=name, value=value, order=cast(Order, order))


def _leaderboard_value(value: Any, where: str) -> float | str | None:
    # specs.md's example has numbers and a string ("*****"); gradescope-utils writes null
    # when a test never set its value.
    if isinstance(value, str):
        return clean_str(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return to_float(value, f"{where}.value")
    if value is not None:
        raise bad(f"{where}.value", value, "a number or a string")
    return None


def _execution_time(data: dict[str, Any]) -> float | None:
    raw = data.get("execution_time")
    if raw is None:
        return None
    if isinstance(raw, str):  # gradescope-utils writes format(seconds, "0.2f")
        try:
            value = float(raw.strip())
        except ValueError:
            raise bad("execution_time", raw, "a number of seconds") from None
        if not math.isfinite(value):
            raise bad("execution_time", raw, "a finite number of seconds")
    elif isinstance(raw, int | float) and not isinstance(raw, bool):
        value = to_float(raw, "execution_time")
    else:
        raise bad("execution_time", raw, "a number of seconds")
    if value < 0:
        raise bad("execution_time", raw, "a number of seconds, not negative")
    return value
