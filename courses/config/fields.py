"""The config's field types: each a pydantic type with its check, refusing a bad value with a
sentence that names what was expected (``must be a slug …``, ``… does not exist in
America/New_York: the clocks skip it …``)."""

from __future__ import annotations

import zipfile
from datetime import UTC, date, datetime, time, tzinfo
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BeforeValidator, Field, ValidationInfo
from pydantic_core import PydanticCustomError

from courses import deadlines, references

MAX_INT = 2_147_483_647  # PostgreSQL integer, what PositiveIntegerField stores
SLUG_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")
BUNDLE_ENTRY_POINT = "run_autograder"


def _slug(value: str) -> str:
    if not value or len(value) > 64 or not set(value) <= SLUG_CHARS:
        raise PydanticCustomError(
            "slug",
            "must be a slug of 1 to 64 letters, digits, '-' or '_', not {value}",
            {"value": repr(value)},
        )
    return value


def _code(value: str) -> str:
    if not value or len(value) > 32 or value != value.strip():
        raise PydanticCustomError(
            "code",
            "must be 1 to 32 characters with no surrounding spaces, not {value}",
            {"value": repr(value)},
        )
    return value


def check_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or any(c.isspace() for c in value):
        raise PydanticCustomError("url", "{value} is not an http(s) URL", {"value": repr(value)})
    return value


def _number(value: Any) -> Any:
    """TOML integers and floats as exact decimals (0.1 stays 0.1)."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise PydanticCustomError("number", "must be a number")
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _instant(value: Any, info: ValidationInfo) -> datetime:
    context = info.context or {}
    return to_instant(value, context.get("tz") or UTC)


def to_instant(value: Any, tz: tzinfo) -> datetime:
    """A TOML date-time as an aware moment: local times are read in ``tz``."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            return value
        if not deadlines.local_time_exists(value, tz):
            raise PydanticCustomError(
                "time_in_gap",
                "{value} does not exist in {zone}: the clocks skip it for daylight saving time",
                {"value": value.isoformat(), "zone": str(tz)},
            )
        return deadlines.localize(value, tz)
    if isinstance(value, date | time):
        raise PydanticCustomError(
            "needs_date_and_time",
            "needs a date and a time, such as 2021-02-12T23:59:00, not {value}",
            {"value": value.isoformat()},
        )
    raise PydanticCustomError(
        "datetime_type", "must be a TOML date-time such as 2021-02-12T23:59:00 (no quotes)"
    )


def _timezone(value: str) -> str:
    try:
        deadlines.zone(value)
    except ValueError as exc:
        raise PydanticCustomError("timezone", str(exc)) from None
    return value


def _reference_pattern(value: str) -> str:
    problem = references.pattern_problem(value)
    if problem:
        raise PydanticCustomError("reference_pattern", "{problem}", {"problem": problem})
    return value


def _group_size(value: Any) -> tuple[int, int]:
    if (
        not isinstance(value, list)
        or len(value) != 2
        or not all(isinstance(n, int) and not isinstance(n, bool) for n in value)
    ):
        raise PydanticCustomError("group_size", "must be [min, max], two whole numbers")
    low, high = value
    if not 1 <= low <= high:
        raise PydanticCustomError(
            "group_size",
            "must be [min, max] with 1 <= min <= max, not [{low}, {high}]",
            {"low": low, "high": high},
        )
    return low, high


def _bundle(value: str, info: ValidationInfo) -> str:
    """The bundle's absolute path: a folder holding run_autograder, or a .zip holding it."""
    base_dir: Path | None = (info.context or {}).get("base_dir")
    if base_dir is None:
        return value
    if not value or Path(value).is_absolute():
        raise PydanticCustomError(
            "bundle",
            "must be a path relative to the config file's folder, not {value}",
            {"value": repr(value)},
        )
    path = (base_dir / value).resolve()
    if path.is_dir():
        if not (path / BUNDLE_ENTRY_POINT).is_file():
            raise PydanticCustomError(
                "bundle", "folder {path} has no run_autograder", {"path": str(path)}
            )
    elif path.is_file() and path.suffix.lower() == ".zip":
        if not zipfile.is_zipfile(path):
            raise PydanticCustomError("bundle", "{path} is not a zip file", {"path": str(path)})
        with zipfile.ZipFile(path) as archive:
            if BUNDLE_ENTRY_POINT not in archive.namelist():
                raise PydanticCustomError(
                    "bundle",
                    "{path} has no run_autograder at its top level",
                    {"path": str(path)},
                )
    elif path.exists():
        raise PydanticCustomError(
            "bundle", "{path} is neither a folder nor a .zip file", {"path": str(path)}
        )
    else:
        raise PydanticCustomError("bundle", "{path} does not exist", {"path": str(path)})
    return str(path)


def _starter(value: str, info: ValidationInfo) -> str:
    """The starter code's absolute path: a folder, relative to the config file's folder."""
    base_dir: Path | None = (info.context or {}).get("base_dir")
    if base_dir is None:
        return value
    if not value or Path(value).is_absolute():
        raise PydanticCustomError(
            "starter",
            "must be a folder relative to the config file's folder, not {value}",
            {"value": repr(value)},
        )
    path = (base_dir / value).resolve()
    if not path.is_dir():
        problem = "is not a folder" if path.exists() else "does not exist"
        raise PydanticCustomError("starter", "{path} " + problem, {"path": str(path)})
    return str(path)


Slug = Annotated[str, Field(strict=True), AfterValidator(_slug)]
Code = Annotated[str, Field(strict=True), AfterValidator(_code)]
Url = Annotated[str, Field(strict=True), AfterValidator(check_url)]
Title = Annotated[str, Field(strict=True, min_length=1, max_length=200)]
Text = Annotated[str, Field(strict=True, max_length=200)]
# A question's ``tests``: fnmatch globs on the names of the autograder's tests.
TestGlob = Annotated[str, Field(strict=True, min_length=1, max_length=200)]
TestGlobs = Annotated[list[TestGlob], Field(max_length=50)]
Count = Annotated[int, Field(strict=True, ge=0, le=MAX_INT)]
PositiveCount = Annotated[int, Field(strict=True, gt=0, le=MAX_INT)]
Percent = Annotated[Decimal, BeforeValidator(_number), Field(ge=0, le=100, decimal_places=2)]
Points = Annotated[Decimal, BeforeValidator(_number), Field(ge=0, max_digits=8, decimal_places=2)]
# A share of the machine's CPUs for one autograder run (0.5 = half a CPU).
CpuShare = Annotated[
    Decimal, BeforeValidator(_number), Field(gt=0, le=256, max_digits=5, decimal_places=2)
]
# A container image reference: name[:tag][@digest], optionally with a registry host.
ImageName = Annotated[
    str, Field(strict=True, max_length=300, pattern=r"^(?:[A-Za-z0-9][A-Za-z0-9._/:@-]*)?$")
]
Instant = Annotated[datetime, BeforeValidator(_instant)]
Timezone = Annotated[str, Field(strict=True), AfterValidator(_timezone)]
GroupSize = Annotated[tuple[int, int], BeforeValidator(_group_size)]
# A regex (Python's ``re``) an extension's reference must match whole.
ReferencePattern = Annotated[str, Field(strict=True), AfterValidator(_reference_pattern)]
BundlePath = Annotated[str, Field(strict=True), AfterValidator(_bundle)]
StarterPath = Annotated[str, Field(strict=True), AfterValidator(_starter)]
Requirement = Literal["required", "extra_credit", "not_offered"]
