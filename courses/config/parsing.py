"""Reading a config file: TOML into a checked :class:`CourseConfig`, or :class:`ConfigError`
with every problem the schema and the cross-checks find."""

from __future__ import annotations

import tomllib
from datetime import UTC, tzinfo
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from courses import deadlines
from courses.config.cross_checks import cross_checks
from courses.config.errors import ConfigError, key_path, reason
from courses.config.schema import CourseConfig


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
        problems += [f"{key_path(e['loc'], data)}: {reason(e)}" for e in exc.errors()]
    problems += cross_checks(data, tz or UTC)
    if problems or config is None:
        raise ConfigError(list(dict.fromkeys(problems)))
    return config
