"""Numbers as people write them on pages and in messages: 8, 8.5 or 8.25, never 8.00 or
8E+1 (one helper for every app)."""

from __future__ import annotations

from decimal import Decimal


def plain(value: Decimal) -> str:
    """A Decimal without trailing zeros or exponent; a non-finite one as Decimal writes it."""
    return f"{value.normalize():f}" if value.is_finite() else str(value)
