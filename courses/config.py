"""The course config file (TOML): its schema, and the parser that turns a file into a checked
:class:`CourseConfig` or refuses it whole with every problem found.

Pure: no ORM import. The loader that writes a checked config to the database is
``courses.services.course_load``.

Every refusal reads ``<key path>: <reason>``. A list item is named by its slug (its ``code`` for
sections) where it has one, else by its 1-based position: ``assignments[hw1].due_at``,
``assignments[3].slug``, ``assignments[hw1].questions[q2].points``.

Times: a TOML local date-time (no offset) is the wall-clock time in ``course.timezone``; one that
falls in a daylight-saving gap is refused. A TOML offset date-time is that instant. A bare date
or a bare time is refused.
"""

from __future__ import annotations

import tomllib
import zipfile
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time, tzinfo
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    model_validator,
)
from pydantic_core import ErrorDetails, PydanticCustomError

from courses import deadlines

MAX_INT = 2_147_483_647  # PostgreSQL integer, what PositiveIntegerField stores
SLUG_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")
BUNDLE_ENTRY_POINT = "run_autograder"

# Which key names a list's items in a key path.
_ITEM_KEYS = {"sections": "code", "categories": "slug", "assignments": "slug", "questions": "slug"}


class ConfigError(Exception):
    """The config is refused; ``problems`` lists every reason, one ``<key path>: <reason>`` each."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


# --- field types -----------------------------------------------------------------------------


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


def _url(value: str) -> str:
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


Slug = Annotated[str, Field(strict=True), AfterValidator(_slug)]
Code = Annotated[str, Field(strict=True), AfterValidator(_code)]
Url = Annotated[str, Field(strict=True), AfterValidator(_url)]
Title = Annotated[str, Field(strict=True, min_length=1, max_length=200)]
Text = Annotated[str, Field(strict=True, max_length=200)]
Count = Annotated[int, Field(strict=True, ge=0, le=MAX_INT)]
PositiveCount = Annotated[int, Field(strict=True, gt=0, le=MAX_INT)]
Percent = Annotated[Decimal, BeforeValidator(_number), Field(ge=0, le=100, decimal_places=2)]
Points = Annotated[Decimal, BeforeValidator(_number), Field(ge=0, max_digits=8, decimal_places=2)]
Instant = Annotated[datetime, BeforeValidator(_instant)]
Requirement = Literal["required", "extra_credit", "not_offered"]


# --- the schema ------------------------------------------------------------------------------


class _Table(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LinkConfig(_Table):
    """A link: a URL string, or an inline table ``{ url = "...", note = "..." }``."""

    url: Url
    note: Annotated[str, Field(strict=True, max_length=500)] = ""

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, value: Any) -> Any:
        if isinstance(value, str):
            return {"url": _url(value)}  # a bad URL is named by the link's own key
        if not isinstance(value, Mapping):
            raise PydanticCustomError(
                "link", 'must be a URL string or an inline table { url = "...", note = "..." }'
            )
        return value


Links = dict[str, LinkConfig]


def links_json(links: Links) -> list[dict[str, str]]:
    """Links as the models store them: ``[{"name", "url", "note"}]`` in file order."""
    return [{"name": name, "url": link.url, "note": link.note} for name, link in links.items()]


class CourseSettings(_Table):
    slug: Slug
    title: Title
    term: Annotated[str, Field(strict=True, min_length=1, max_length=100)]
    timezone: Annotated[str, Field(strict=True), AfterValidator(_timezone)]
    registration_ends: Instant | None = None
    regrade_days: Count = 7
    links: Links = Field(default_factory=dict)


class SectionConfig(_Table):
    code: Code
    level: Literal["undergraduate", "graduate"]
    capacity: PositiveCount
    links: Links = Field(default_factory=dict)


class CategoryConfig(_Table):
    slug: Slug
    weight: Percent
    bonus: Annotated[bool, Field(strict=True)] = False


class AutograderConfig(_Table):
    bundle: Annotated[str, Field(strict=True), AfterValidator(_bundle)]
    queue: Literal["cpu", "gpu"] = "cpu"
    timeout_s: PositiveCount = 600
    memory_mb: PositiveCount = 768


class QuestionConfig(_Table):
    slug: Slug
    points: Points
    title: Text = ""
    undergraduate: Requirement = "required"
    graduate: Requirement = "required"


class AssignmentConfig(_Table):
    slug: Slug
    title: Title
    category: Slug
    due_at: Instant
    release_at: Instant | None = None
    grace_days: Count = 2
    after_grace: Literal["refuse", "accept_late"] = "refuse"
    collaboration: Annotated[bool, Field(strict=True)] = True
    readiness_threshold: Percent | None = None
    points: Points = Decimal(100)
    group: Annotated[bool, Field(strict=True)] = False
    group_size: Annotated[tuple[int, int], BeforeValidator(_group_size)] | None = None
    # Our extension: the largest file a student may upload, in MB.
    max_upload_mb: Annotated[int, Field(strict=True, ge=1, le=2048)] = 50
    autograder: AutograderConfig | None = None
    questions: list[QuestionConfig] = Field(default_factory=list)

    @property
    def group_min(self) -> int:
        return self.group_size[0] if self.group_size else 1

    @property
    def group_max(self) -> int:
        return self.group_size[1] if self.group_size else 1


class CourseConfig(_Table):
    course: CourseSettings
    sections: list[SectionConfig] = Field(default_factory=list)
    categories: list[CategoryConfig] = Field(default_factory=list)
    assignments: list[AssignmentConfig] = Field(default_factory=list)


# --- parsing ---------------------------------------------------------------------------------


def read_config(path: Path) -> CourseConfig:
    """Reads and checks a config file; :class:`ConfigError` with every problem otherwise."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError([f"{path}: cannot be read ({exc.strerror or exc})"]) from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError([f"not valid TOML: not UTF-8 text (byte {exc.start})"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"not valid TOML: {exc}"]) from None
    return parse_config(data, base_dir=path.resolve().parent)


def parse_config(data: dict[str, Any], *, base_dir: Path) -> CourseConfig:
    """Checks parsed TOML. ``base_dir`` is the folder bundle paths are relative to."""
    course = data.get("course")
    tz: tzinfo | None = None
    if isinstance(course, dict) and isinstance(course.get("timezone"), str):
        try:
            tz = deadlines.zone(course["timezone"])
        except ValueError:
            tz = None  # reported by the schema, naming course.timezone
    problems: list[str] = []
    config: CourseConfig | None = None
    try:
        config = CourseConfig.model_validate(data, context={"tz": tz, "base_dir": base_dir})
    except ValidationError as exc:
        problems += [f"{key_path(e['loc'], data)}: {_reason(e)}" for e in exc.errors()]
    problems += _cross_checks(data, tz or UTC)
    if problems or config is None:
        raise ConfigError(list(dict.fromkeys(problems)))
    return config


def key_path(loc: Iterable[int | str], data: Any) -> str:
    """``('assignments', 1, 'due_at')`` as ``assignments[hw1].due_at``, reading slugs in data."""
    path = ""
    node = data
    parent = ""
    for part in loc:
        if isinstance(part, int):
            item = node[part] if isinstance(node, list) and 0 <= part < len(node) else None
            path += _item_label(parent, item, part)
            node = item
        else:
            path += f".{part}" if path else part
            node = node.get(part) if isinstance(node, dict) else None
            parent = part
    return path or "(the file)"


def _item_label(parent: str, item: Any, index: int) -> str:
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
    "decimal_max_places": "must have at most {decimal_places} decimal places",
    "decimal_max_digits": "must have at most {max_digits} digits",
    "finite_number": "must be a finite number",
}


def _reason(error: ErrorDetails) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind == "literal_error":
        return f"must be {ctx.get('expected', 'one of the allowed values')}, not {_show(error)}"
    if kind in _MESSAGES:
        reason = _MESSAGES[kind].format(**ctx)
        if kind not in ("extra_forbidden", "missing", "model_type", "dict_type", "list_type"):
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


# --- checks across keys ----------------------------------------------------------------------


def _items(data: Any, key: str) -> list[dict[str, Any]]:
    value = data.get(key) if isinstance(data, dict) else None
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _duplicates(prefix: str, items: list[dict[str, Any]], key: str) -> list[str]:
    counts = Counter(item[key] for item in items if isinstance(item.get(key), str))
    return [
        f"{prefix}[{name}].{key}: duplicate {key} {name!r} (listed {n} times)"
        for name, n in counts.items()
        if n > 1
    ]


def _format_decimal(value: Decimal) -> str:
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _cross_checks(data: dict[str, Any], tz: tzinfo) -> list[str]:
    """What no single key can say: duplicates, references, order of times, weights, groups.

    Reads the raw data, skipping values of the wrong type (the schema reports those), so that
    every problem is found in one go."""
    problems: list[str] = []
    sections = _items(data, "sections")
    categories = _items(data, "categories")
    assignments = _items(data, "assignments")
    problems += _duplicates("sections", sections, "code")
    problems += _duplicates("categories", categories, "slug")
    problems += _duplicates("assignments", assignments, "slug")

    declared = [c["slug"] for c in categories if isinstance(c.get("slug"), str)]
    for index, assignment in enumerate(assignments):
        where = "assignments" + _item_label("assignments", assignment, index)
        problems += _duplicates(f"{where}.questions", _items(assignment, "questions"), "slug")
        category = assignment.get("category")
        if isinstance(category, str) and category not in declared:
            known = ", ".join(declared) or "none are declared"
            problems.append(f"{where}.category: {category!r} is not a declared category ({known})")
        due, release = (
            _try_instant(assignment.get("due_at"), tz),
            _try_instant(assignment.get("release_at"), tz),
        )
        if due is not None and release is not None and due <= release:
            problems.append(
                f"{where}.due_at: must be after release_at "
                f"({due.astimezone(tz):%Y-%m-%d %H:%M %Z} is not after "
                f"{release.astimezone(tz):%Y-%m-%d %H:%M %Z})"
            )
        group = assignment.get("group")
        if "group_size" in assignment and group is not True:
            problems.append(f"{where}.group_size: only allowed with group = true")
        if group is True and "group_size" not in assignment:
            problems.append(f"{where}.group_size: required when group = true")

    weights: list[Decimal] = []
    for category in categories:
        weight, bonus = category.get("weight"), category.get("bonus", False)
        if isinstance(weight, bool) or not isinstance(weight, int | float):
            return problems  # the schema reports the bad weight; no sum to speak of
        if bonus is not True:
            weights.append(Decimal(str(weight)))
    total = sum(weights, Decimal(0))
    if categories and total != 100:
        problems.append(
            f"categories: the weights of the non-bonus categories sum to "
            f"{_format_decimal(total)}, not 100"
        )
    return problems


def _try_instant(value: Any, tz: tzinfo) -> datetime | None:
    try:
        return to_instant(value, tz)
    except PydanticCustomError:
        return None
