"""A regrade request's two kept grades (``evaluation_before``: when it was asked;
``evaluation_after``: once resolved, both from :func:`grading.selectors.evaluation_snapshot`)
typed for pages, and what the resolution changed: rubric items applied or removed, the
adjustment, an override, the comment, the points. Pure: no queries."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from grading.models import RegradeRequest


@dataclass(frozen=True)
class ItemShown:
    id: int
    description: str  # the item's text at that time
    points: Decimal  # the item's points at that time


@dataclass(frozen=True)
class AsApplied:
    """One question of a grade kept on a regrade request."""

    slug: str
    title: str
    items: list[ItemShown]
    adjustment: Decimal
    override: Decimal | None
    comment: str
    points: Decimal | None


@dataclass(frozen=True)
class QuestionChange:
    """One question before the request and once it was resolved."""

    before: AsApplied
    after: AsApplied

    @property
    def added(self) -> list[ItemShown]:
        had = {i.id for i in self.before.items}
        return [i for i in self.after.items if i.id not in had]

    @property
    def removed(self) -> list[ItemShown]:
        has = {i.id for i in self.after.items}
        return [i for i in self.before.items if i.id not in has]

    @property
    def comment_changed(self) -> bool:
        return self.before.comment != self.after.comment

    @property
    def unchanged(self) -> bool:
        b, a = self.before, self.after
        same = (b.points, b.adjustment, b.override, b.comment) == (
            a.points,
            a.adjustment,
            a.override,
            a.comment,
        )
        return same and not (self.added or self.removed)


def _number(value: object) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def as_applied(kept: dict[str, Any] | None, titles: dict[str, str]) -> list[AsApplied]:
    """A grade kept on a regrade request, per question, typed (empty when none was kept:
    an open request's ``evaluation_after``, requests from before grades were kept)."""
    return [
        AsApplied(
            slug=slug,
            title=titles.get(slug) or "Score",
            items=[
                ItemShown(int(i["id"]), str(i["description"]), Decimal(str(i["points"])))
                for i in part.get("rubric_items", [])
            ],
            adjustment=_number(part.get("adjustment")) or Decimal(0),
            override=_number(part.get("override")),
            comment=str(part.get("comment", "")),
            points=_number(part.get("points")),
        )
        for slug, part in (kept or {}).items()
    ]


def regrade_changes(request: RegradeRequest, titles: dict[str, str]) -> list[QuestionChange]:
    """Per question of a resolved request, its grade when asked beside its grade once
    resolved (empty for an open request)."""
    before = {a.slug: a for a in as_applied(request.evaluation_before, titles)}
    changes = []
    for after in as_applied(request.evaluation_after, titles):
        was = before.get(after.slug) or AsApplied(
            after.slug, after.title, [], Decimal(0), None, "", None
        )
        changes.append(QuestionChange(before=was, after=after))
    return changes
