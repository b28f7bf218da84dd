"""The course as its config file: ``course_export`` gives the TOML text that ``course_load``
reads back into the same course (the reverse of ``course_load``; a read, kept next to it
because each mirrors the other, and because a load compares the course's export with the one
recorded at its last load to find changes made in the portal since).

Every key the loader knows is written, defaults included, except where the value is none or
empty (no release time, no readiness threshold, a question without title or tests, no links,
no autograder), and except keys added since export_course was (an autograder's ``cpus`` and
``network``, the course's ``extension_reference_pattern``), written only where they are not
the default so that a course loaded before they existed still exports as it was recorded. Rows come in the order the loader keeps: sections by code, categories,
assignments and questions by their place in the file.

Autograder bundles: the portal records the bundle's resolved absolute path; the file names it
relative to the file's folder. The export writes it relative to ``base_dir`` (by default the
folder of the file the course was last loaded from); a course never loaded from a file has no
such folder, and its bundles are written as the absolute paths recorded, with a comment (the
loader refuses absolute paths: edit them before loading the file)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Prefetch

from courses import deadlines, references
from courses.config.export import config_toml
from courses.models import Assignment, Course, Question


def course_export(*, course: Course, base_dir: Path | None = None) -> str:
    """The course's TOML text. ``base_dir``: the folder bundle paths are relative to (default:
    that of the file the course was last loaded from). Reads the rows afresh (4 queries)."""
    if base_dir is None and course.loaded_from:
        base_dir = Path(course.loaded_from).parent
    return config_toml(course_config_data(course=course, base_dir=base_dir))


def course_config_data(*, course: Course, base_dir: Path | None) -> dict[str, Any]:
    """The course's rows as config data: the keys and values ``read_config`` reads."""
    course = Course.objects.get(pk=course.pk)
    tz = deadlines.zone(course.timezone)
    assignments = (
        Assignment.objects.filter(course=course)
        .select_related("category")
        .prefetch_related(Prefetch("questions", queryset=Question.objects.order_by("position")))
        .order_by("position", "due_at", "slug")
    )
    return {
        "course": {
            "slug": course.slug,
            "title": course.title,
            "term": course.term,
            "timezone": course.timezone,
            "registration_ends": _local(course.registration_ends, tz),
            "regrade_days": course.regrade_days,
            "waitlisted_may_submit": course.waitlisted_may_submit,
            "groups_mix_levels": course.groups_mix_levels,
            # Written where it is not the default, so that a course loaded before the key
            # existed exports as it was recorded then (no drift from an upgrade).
            "extension_reference_pattern": (
                course.extension_reference_pattern
                if course.extension_reference_pattern != references.DEFAULT_PATTERN
                else None
            ),
            "links": _links(course.links),
        },
        "sections": [
            {
                "code": s.code,
                "level": s.level,
                "capacity": s.capacity,
                "links": _links(s.links) or None,
            }
            for s in course.sections.order_by("code")
        ],
        "categories": [
            {"slug": c.slug, "weight": c.weight, "bonus": c.bonus}
            for c in course.categories.order_by("position", "slug")
        ],
        "assignments": [_assignment(a, tz, base_dir) for a in assignments],
    }


def _assignment(a: Assignment, tz: ZoneInfo, base_dir: Path | None) -> dict[str, Any]:
    return {
        "slug": a.slug,
        "title": a.title,
        "category": a.category.slug,
        "release_at": _local(a.release_at, tz),
        "due_at": _local(a.due_at, tz),
        "grace_days": a.grace_days,
        "after_grace": a.after_grace,
        "collaboration": a.collaboration,
        "anonymous_grading": a.anonymous_grading,
        "readiness_threshold": a.readiness_threshold,
        "points": a.points,
        "group": a.group,
        "group_size": [a.group_min, a.group_max] if a.group else None,
        "max_upload_mb": a.max_upload_mb,
        "autograder": (
            {
                "bundle": _bundle(a.autograder_bundle, base_dir),
                "queue": a.autograder_queue,
                "timeout_s": a.autograder_timeout_s,
                "memory_mb": a.autograder_memory_mb,
                "image": a.autograder_image or None,
                "cpus": a.autograder_cpus if a.autograder_cpus != 1 else None,
                "network": a.autograder_network or None,
            }
            if a.autograder_bundle
            else None
        ),
        "similarity": (
            {"starter": _bundle(a.similarity_starter, base_dir)} if a.similarity_starter else None
        ),
        "questions": [
            {
                "slug": q.slug,
                "title": q.title or None,
                "points": q.points,
                "tests": list(q.tests) or None,
                "undergraduate": q.undergraduate,
                "graduate": q.graduate,
            }
            for q in a.questions.all()
        ],
    }


def _local(moment: Any, tz: ZoneInfo) -> Any:
    return None if moment is None else moment.astimezone(tz)


def _links(links: list[dict[str, str]]) -> dict[str, Any]:
    return {
        link["name"]: (
            {"url": link["url"], "note": link["note"]} if link.get("note") else link["url"]
        )
        for link in links
    }


def _bundle(path: str, base_dir: Path | None) -> str:
    if base_dir is None:
        return path
    return Path(os.path.relpath(path, base_dir)).as_posix()
