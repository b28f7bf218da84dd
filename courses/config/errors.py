"""How a refused config speaks: :class:`ConfigError` with every problem, each as
``<key path>: <reason>``, the key path naming list items by slug (``assignments[hw1].due_at``)
and the reason in plain words rather than pydantic's."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, time
from typing import Any

from pydantic_core import ErrorDetails

# Which key names a list's items in a key path.
_ITEM_KEYS = {"sections": "code", "categories": "slug", "assignments": "slug", "questions": "slug"}


class ConfigError(Exception):
    """The config is refused; ``problems`` lists every reason, one ``<key path>: <reason>`` each."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


def key_path(loc: Iterable[int | str], data: Any) -> str:
    """``('assignments', 1, 'due_at')`` as ``assignments[hw1].due_at``, reading slugs in data."""
    path = ""
    node = data
    parent = ""
    for part in loc:
        if isinstance(part, int):
            item = node[part] if isinstance(node, list) and 0 <= part < len(node) else None
            path += item_label(parent, item, part)
            node = item
        else:
            path += f".{part}" if path else part
            node = node.get(part) if isinstance(node, dict) else None
            parent = part
    return path or "(the file)"


def item_label(parent: str, item: Any, index: int) -> str:
    key = _ITEM_KEYS.get(parent)
    name = item.get(key) if key and isinstance(item, dict) else None
    return f"[{name}]" if isinstance(name, str) and name else f"[{index + 1}]"


_MESSAGES = {
    "extra_forbidden": "unknown key",
    "missing": "missing required key",
    "int_type": "must be a whole number",
    "string_type": "must be a string",
    "bool_type": "must be true or false",
    "list_type": "must be an array",
    "dict_type": "must be a table",
    "model_type": "must be a table",
    "model_attributes_type": "must be a table",
    "greater_than": "must be greater than {gt}",
    "greater_than_equal": "must be at least {ge}",
    "less_than_equal": "must be at most {le}",
    "string_too_short": "must not be empty",
    "string_too_long": "must be at most {max_length} characters",
    "too_long": "must have at most {max_length} items, not {actual_length}",
    "decimal_max_places": "must have at most {decimal_places} decimal places",
    "decimal_max_digits": "must have at most {max_digits} digits",
    "finite_number": "must be a finite number",
}


# Reasons that do not end in ", not <the value>" (they have none, or name it already).
_NO_VALUE_SHOWN = ("extra_forbidden", "missing", "model_type", "dict_type", "list_type", "too_long")


def reason(error: ErrorDetails) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind == "literal_error":
        return f"must be {ctx.get('expected', 'one of the allowed values')}, not {_show(error)}"
    if kind in _MESSAGES:
        reason = _MESSAGES[kind].format(**ctx)
        if kind not in _NO_VALUE_SHOWN:
            reason += f", not {_show(error)}"
        return reason
    return error["msg"].replace("Input should be", "must be")


def _show(error: ErrorDetails) -> str:
    value = error.get("input")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    return repr(value)
