"""What a Dean of Students extension reference may be: the confirmation's number and nothing
else, so that no reason, note or medical detail can be stored in it.

Two rules, both checked whenever an extension is granted (the API, the page, the admin):

- every course: a token of at most 40 letters, digits and ``. _ / -``, starting with a
  letter or digit (:data:`TOKEN_REGEX`; the database's check constraint holds to it too);
- the course's ``[course] extension_reference_pattern`` (a regex the whole reference must
  match), by default :data:`DEFAULT_PATTERN`: capital letters and digits in groups joined by
  ``-``, ``/`` or ``.``, with at least one digit (``DOS-2021-0042``, ``12345``,
  ``ODS/21/0042``), so no word, no lower case, no space.

The token is checked first, so the course's pattern only ever runs on 40 characters.
Pure: no Django, no models (the config loader uses it too).
"""

from __future__ import annotations

import re

TOKEN_REGEX = r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,39}$"
DEFAULT_PATTERN = r"(?=[^0-9]*[0-9])[A-Z0-9]+(?:[-/.][A-Z0-9]+)*"
EXAMPLE = "DOS-2021-0042"
PATTERN_MAX_LENGTH = 200


def pattern_problem(pattern: str) -> str | None:
    """Why ``pattern`` cannot be a course's reference pattern, or None."""
    if not pattern or len(pattern) > PATTERN_MAX_LENGTH:
        return f"must be a regular expression of 1 to {PATTERN_MAX_LENGTH} characters"
    try:
        re.compile(pattern)
    except re.error as exc:
        return f"is not a regular expression ({exc}): {pattern!r}"
    return None


def reference_rule(pattern: str) -> str:
    """What a reference looks like under ``pattern``, for a person: ends a sentence that
    begins "A reference is"."""
    if pattern == DEFAULT_PATTERN:
        return (
            "capital letters and digits in groups joined by '-', '/' or '.', with at least "
            f"one digit, such as {EXAMPLE}"
        )
    return (
        f"what this course's pattern {pattern} matches, at most 40 letters, digits, '.', '_', "
        "'/' or '-'"
    )


def reference_problem(reference: str, pattern: str) -> str | None:
    """The refusal's sentence when ``reference`` is not one under ``pattern``, or None."""
    if re.fullmatch(TOKEN_REGEX, reference) and re.fullmatch(pattern, reference):
        return None
    return (
        "Give only the Dean of Students confirmation number. A reference is "
        f"{reference_rule(pattern)}: no spaces, no words, nothing else. Never send or store "
        "medical information."
    )
