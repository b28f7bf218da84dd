"""Text hygiene for what the grader wrote: storable strings, capped outputs, bounded nesting."""

from __future__ import annotations

from typing import Any

from grading.results.model import ResultsInvalid

MAX_OUTPUT_BYTES = 64 * 1024
# extra_data deeper than this is refused: the portal copies and serialises it recursively.
MAX_EXTRA_DATA_DEPTH = 32
TRUNCATION_MARKER = "\n\n[output truncated by the course portal: {omitted} more bytes]"


def clean_str(text: str) -> str:
    """Make text storable: PostgreSQL text and jsonb refuse NUL, and a lone surrogate (from a
    ``\\ud800`` escape) cannot be encoded as UTF-8. Both become U+FFFD."""
    if "\x00" in text:
        text = text.replace("\x00", "\ufffd")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = "".join("\ufffd" if "\ud800" <= ch <= "\udfff" else ch for ch in text)
    return text


def clean_json(value: Any, path: str) -> Any:
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
                copy = clean_str(item)
            elif isinstance(item, dict | list):
                copy = {} if isinstance(item, dict) else []
                stack.append((item, copy, depth + 1))
            else:
                copy = item
            if isinstance(target, dict):
                target[clean_str(str(key))] = copy
            else:
                target.append(copy)
    return root[0]


def truncate(text: str) -> str:
    """At most MAX_OUTPUT_BYTES of UTF-8, marker included, cut on a character boundary."""
    encoded = text.encode("utf-8")
    if len(encoded) <= MAX_OUTPUT_BYTES:
        return text
    keep = MAX_OUTPUT_BYTES - len(TRUNCATION_MARKER.format(omitted=len(encoded)).encode())
    head = encoded[:keep].decode("utf-8", "ignore")
    omitted = len(encoded) - len(head.encode("utf-8"))
    return head + TRUNCATION_MARKER.format(omitted=omitted)
