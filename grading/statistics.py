"""Statistics of a set of scores, pure (no ORM, no settings): count, mean, median, standard
deviation, minimum, maximum and a histogram of equal-width bins from 0 to the maximum
points (or the highest score, when extra credit takes one above it).

The standard deviation is the population's (``statistics.pstdev``: every student of the
course is in the set, not a sample of them); with one score it is 0, with none every number
is None. Numbers are ``Decimal`` rounded to 2 places (ROUND_HALF_UP). A bin holds the scores
``from <= x < to``; the last bin also holds its upper edge, so a full score is counted."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

BINS = 10
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Bin:
    start: Decimal
    end: Decimal
    count: int


@dataclass(frozen=True)
class Summary:
    count: int
    mean: Decimal | None
    median: Decimal | None
    stdev: Decimal | None
    min: Decimal | None
    max: Decimal | None
    histogram: list[Bin]


def _round(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _edges(top: Decimal, bins: int) -> list[Decimal]:
    return [_round(top * i / bins) for i in range(bins + 1)]


def histogram(scores: Sequence[Decimal], top: Decimal, bins: int = BINS) -> list[Bin]:
    """``bins`` equal bins from 0 to ``top`` (> 0); scores below 0 go in the first bin and
    above ``top`` in the last."""
    edges = _edges(top, bins)
    counts = [0] * bins
    for score in scores:
        index = int(score * bins / top) if score > 0 else 0
        counts[min(index, bins - 1)] += 1
    return [Bin(edges[i], edges[i + 1], counts[i]) for i in range(bins)]


def summarize(scores: Sequence[Decimal], maximum: Decimal, bins: int = BINS) -> Summary:
    """The statistics of these scores on an assignment or question worth ``maximum``."""
    top = max([maximum, *scores, Decimal(0)])
    shown = histogram(scores, top, bins) if top > 0 else []
    if not scores:
        return Summary(0, None, None, None, None, None, shown)
    return Summary(
        count=len(scores),
        mean=_round(sum(scores, Decimal(0)) / len(scores)),
        median=_round(Decimal(statistics.median(scores))),
        stdev=_round(Decimal(statistics.pstdev(scores))),
        min=_round(min(scores)),
        max=_round(max(scores)),
        histogram=shown,
    )
