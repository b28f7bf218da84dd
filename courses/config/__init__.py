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

Modules: ``fields`` (the field types and their checks), ``schema`` (one model per table),
``parsing`` (``read_config``, ``parse_config``), ``errors`` (:class:`ConfigError`, key paths and
reasons in plain words), ``cross_checks`` (what no single key can say).
"""

from courses.config.errors import ConfigError, key_path
from courses.config.fields import (
    BUNDLE_ENTRY_POINT,
    MAX_INT,
    SLUG_CHARS,
    BundlePath,
    Code,
    Count,
    GroupSize,
    Instant,
    Percent,
    Points,
    PositiveCount,
    Requirement,
    Slug,
    TestGlobs,
    Text,
    Timezone,
    Title,
    Url,
    to_instant,
)
from courses.config.parsing import parse_config, read_config
from courses.config.schema import (
    AssignmentConfig,
    AutograderConfig,
    CategoryConfig,
    CourseConfig,
    CourseSettings,
    LinkConfig,
    Links,
    QuestionConfig,
    SectionConfig,
    links_json,
)

__all__ = [
    "BUNDLE_ENTRY_POINT",
    "MAX_INT",
    "SLUG_CHARS",
    "AssignmentConfig",
    "AutograderConfig",
    "BundlePath",
    "CategoryConfig",
    "Code",
    "ConfigError",
    "Count",
    "CourseConfig",
    "CourseSettings",
    "GroupSize",
    "Instant",
    "LinkConfig",
    "Links",
    "Percent",
    "Points",
    "PositiveCount",
    "QuestionConfig",
    "Requirement",
    "SectionConfig",
    "Slug",
    "TestGlobs",
    "Text",
    "Timezone",
    "Title",
    "Url",
    "key_path",
    "links_json",
    "parse_config",
    "read_config",
    "to_instant",
]
