"""Typed readers for one field of a results.json object, and the error that names a bad one.

A missing key and JSON ``null`` both mean "absent". Every refusal is a :class:`ResultsInvalid`
whose detail names the field's path (``tests[3].score``) and shows the value, shortened.
"""

from __future__ import annotations

import json
import math
from typing import Any, cast

from grading.results.model import FORMATS, ResultsInvalid
from grading.results.text import clean_json, clean_str


def field_path(where: str | None, key: str) -> str:
    return f"{where}.{key}" if where else key


def read_number(obj: dict[str, Any], key: str, where: str | None = None) -> float | None:
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise bad(field_path(where, key), value, "a number")
    return to_float(value, field_path(where, key))


def to_float(value: float, path: str) -> float:
    try:
        result = float(value)
    except OverflowError:  # an int with hundreds of digits
        raise bad(path, value, "a number of sensible size") from None
    if not math.isfinite(result):
        raise bad(path, value, "a finite number")
    return result


def read_string(obj: dict[str, Any], key: str, where: str | None = None) -> str | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise bad(field_path(where, key), value, "a string")
    return clean_str(value)


def read_enum(
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
        raise bad(field_path(where, key), value, "one of " + ", ".join(allowed))
    return cast(str, value)


def read_format(obj: dict[str, Any], key: str, where: str | None = None) -> str | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise bad(field_path(where, key), value, "a string (one of " + ", ".join(FORMATS) + ")")
    return value if value in FORMATS else None


def read_object(obj: dict[str, Any], key: str, where: str | None = None) -> dict[str, Any]:
    value = obj.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise bad(field_path(where, key), value, "an object")
    return cast(dict[str, Any], clean_json(value, field_path(where, key)))


def bad(path: str, value: Any, expected: str) -> ResultsInvalid:
    return ResultsInvalid(
        f"results.json field {path} must be {expected}; got {kind(value)} {short(_repr(value))}",
        field=path,
    )


def kind(value: Any) -> str:
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


def short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
