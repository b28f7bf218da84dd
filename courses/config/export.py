"""Writing a config file: :func:`config_toml` lays out plain config data (the keys and values
the loader reads, as ``tomllib`` would give them) as TOML text in the format of
``docs/course-config.md``: ``[course]`` and ``[course.links]``, then ``[[sections]]``,
``[[categories]]``, ``[[assignments]]`` with their ``[[assignments.questions]]``.

Pure: no ORM import; ``courses.services.course_export`` reads the rows into this data. The
text is written by tomlkit (quoting and escaping are the library's, not ours), so that
``read_config`` reads back exactly the values given here.

Values: a ``Decimal`` is written as a whole number where it is one, else as a TOML float with
its digits (``12.5``; the loader reads floats by their decimal text, so 0.1 stays 0.1); an
aware ``datetime`` as an offset date-time (``2021-02-12T23:59:00-05:00``), the instant itself,
so that a time in a repeated fall-back hour keeps its occurrence. ``None`` has no TOML form:
a key whose value is ``None`` is left out."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from pathlib import PurePosixPath
from typing import Any

import tomlkit
from tomlkit.items import AoT, InlineTable, Table

HEADER = (
    "Exported by `manage.py export_course`: the course as the portal holds it, in the format\n"
    "load_course reads (docs/course-config.md). Times are the course's local times with their\n"
    "offset. The roster is not part of it: see import_roster."
)
ABSOLUTE_BUNDLE_NOTE = (
    "the path the portal recorded; load_course wants it relative to this file's folder"
)


def toml_value(value: Any) -> Any:
    """A value as tomlkit writes it: decimals as whole numbers or floats, tuples as arrays."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, tuple | list):
        return [toml_value(item) for item in value]
    return value


def _fill(container: Table | InlineTable, data: Mapping[str, Any]) -> None:
    for key, value in data.items():
        if value is None:
            continue
        if isinstance(value, Mapping):
            container.add(key, _inline(value))
        else:
            container.add(key, toml_value(value))


def _inline(data: Mapping[str, Any]) -> InlineTable:
    table = tomlkit.inline_table()
    _fill(table, data)
    return table


def _table(data: Mapping[str, Any], *, nested: tuple[str, ...] = ()) -> Table:
    """A table with its scalars (and inline tables); the keys in ``nested`` become sub-tables
    (a mapping) or arrays of tables (a list of mappings), written after the scalars."""
    table = tomlkit.table()
    _fill(table, {k: v for k, v in data.items() if k not in nested})
    for key in nested:
        value = data.get(key)
        if not value:
            continue
        if isinstance(value, Mapping):
            sub = tomlkit.table()
            _fill(sub, value)
            table.add(key, sub)
        else:
            table.add(key, _array_of_tables(value))
    return table


def _array_of_tables(items: list[Mapping[str, Any]]) -> AoT:
    return AoT([_table(item) for item in items])


def _assignment(data: Mapping[str, Any]) -> Table:
    autograder = data.get("autograder")
    table = _table(data, nested=("questions",))
    bundle = autograder.get("bundle") if isinstance(autograder, Mapping) else None
    if isinstance(bundle, str) and PurePosixPath(bundle).is_absolute():
        table["autograder"].comment(ABSOLUTE_BUNDLE_NOTE)
    return table


def config_toml(data: Mapping[str, Any]) -> str:
    """The config ``data`` (``course``, ``sections``, ``categories``, ``assignments``) as TOML
    text, headed by :data:`HEADER`."""
    doc = tomlkit.document()
    for line in HEADER.splitlines():
        doc.add(tomlkit.comment(line))
    doc.add(tomlkit.nl())
    doc.add("course", _table(data["course"], nested=("links",)))
    for key in ("sections", "categories"):
        if data.get(key):
            doc.add(key, _array_of_tables(data[key]))
    if data.get("assignments"):
        doc.add("assignments", AoT([_assignment(item) for item in data["assignments"]]))
    return tomlkit.dumps(doc)
