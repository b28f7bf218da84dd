"""The Content-Security-Policy of one response, where a page needs more than the site's policy
(``CONTENT_SECURITY_POLICY`` in the settings, which django-csp's middleware writes on every
other response)."""

from __future__ import annotations

from typing import TypeVar

from csp.constants import HEADER, SELF
from csp.utils import build_policy
from django.http import HttpResponseBase

R = TypeVar("R", bound=HttpResponseBase)

# A page that embeds a submitted PDF in an <object> (the receipt, the grading view).
EMBEDS_FILES = {"object-src": [SELF]}
# The inline image or PDF that those pages embed: only this site's pages may frame it.
FRAMED_BY_THIS_SITE = {"frame-ancestors": [SELF]}


def csp_replace(response: R, directives: dict[str, list[str]]) -> R:
    """``response`` with the site's policy, these directives replaced (the middleware leaves
    a header that is already there alone)."""
    response[HEADER] = build_policy(replace=directives)
    return response
