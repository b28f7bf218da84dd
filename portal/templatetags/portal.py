"""Template filters every page uses: ``{% load portal %}``."""

from __future__ import annotations

import re
from typing import Any

from django import template

register = template.Library()

_SMALL_WORDS = frozenset({"a", "an", "and", "at", "by", "for", "in", "of", "on", "or", "the", "to"})


@register.filter
def label(slug: str) -> str:
    """A slug or config key as words for a person: ``dean_of_students`` → "Dean of students",
    ``ps0`` → "PS0", ``lms`` → "LMS", ``homework`` → "Homework". Words with a digit, and
    other words of three letters or fewer, are taken for abbreviations."""
    words = [w for w in re.split(r"[_\-\s]+", str(slug)) if w]
    shown = []
    for i, word in enumerate(words):
        lower = word.lower()
        if any(ch.isdigit() for ch in word) or (len(word) <= 3 and lower not in _SMALL_WORDS):
            shown.append(word.upper())
        elif i == 0:
            shown.append(lower.capitalize())
        else:
            shown.append(lower)
    return " ".join(shown)


@register.filter
def get(mapping: Any, key: Any) -> Any:
    """``{{ grades|get:slug }}``: a mapping's value for a key (None when absent)."""
    try:
        return mapping.get(key) if mapping else None
    except AttributeError:
        return None


@register.filter
def username_for(user: Any, names: Any) -> str:
    """``{{ s.student|username_for:names }}``: the username as this viewer may see it, the
    pseudonym under anonymous grading (``names``: a ``courses.anonymity.StudentNames``; none
    in the context: the username)."""
    if user is None:
        return ""
    return str(names.username(user)) if names else str(user.username)


@register.filter
def name_for(user: Any, names: Any) -> str:
    """``{{ r.student|name_for:names }}``: the full name (else the username) as this viewer
    may see it, the pseudonym under anonymous grading."""
    if user is None:
        return ""
    return str(names.full_name(user)) if names else str(user.get_full_name() or user.username)


@register.filter
def group_for(group: Any, names: Any) -> str:
    """``{{ s.group|group_for:names }}``: a project group's name, or its pseudonym."""
    if group is None:
        return ""
    return str(names.group(group.pk, group.name)) if names else str(group.name)
