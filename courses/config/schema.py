"""The config's schema: one pydantic model per TOML table, every key typed and nothing
unknown allowed."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    model_validator,
)
from pydantic_core import PydanticCustomError

from courses import references
from courses.config.fields import (
    BundlePath,
    Code,
    Count,
    CpuShare,
    GroupSize,
    ImageName,
    Instant,
    Percent,
    Points,
    PositiveCount,
    ReferencePattern,
    Requirement,
    Slug,
    StarterPath,
    TestGlobs,
    Text,
    Timezone,
    Title,
    Url,
    check_url,
)


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
            return {"url": check_url(value)}  # a bad URL is named by the link's own key
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
    timezone: Timezone
    registration_ends: Instant | None = None
    regrade_days: Count = 7
    links: Links = Field(default_factory=dict)
    # The assignments waitlisted students may hand in (None: every assignment).
    waitlisted_may_submit: list[Slug] | None = None
    groups_mix_levels: Annotated[bool, Field(strict=True)] = False
    # What a Dean of Students extension's reference must match (courses.references).
    extension_reference_pattern: ReferencePattern = references.DEFAULT_PATTERN


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
    """``image``: the base image the bundle is built on (any image the container engine has;
    empty for the portal's own); ``cpus``: the share of the machine's CPUs a run gets;
    ``network``: whether runs may reach the network (``setup.sh`` always has it)."""

    bundle: BundlePath
    queue: Literal["cpu", "gpu"] = "cpu"
    timeout_s: PositiveCount = 600
    memory_mb: PositiveCount = 768
    image: ImageName = ""
    cpus: CpuShare = Decimal(1)
    network: Annotated[bool, Field(strict=True)] = False


class SimilarityConfig(_Table):
    """Similarity checks: ``starter`` is the folder of code handed out to every student,
    left out of the comparison (see ``grading.similarity``)."""

    starter: StarterPath


class QuestionConfig(_Table):
    """A question: its ``tests`` are fnmatch globs on the names of the autograder's tests whose
    scores feed it (none: staff grade it). See ``grading.scoring``."""

    slug: Slug
    points: Points
    title: Text = ""
    tests: TestGlobs = Field(default_factory=list)
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
    # Our extension: TAs see students by a pseudonym until the instructor reveals the names.
    anonymous_grading: Annotated[bool, Field(strict=True)] = False
    readiness_threshold: Percent | None = None
    points: Points = Decimal(100)
    group: Annotated[bool, Field(strict=True)] = False
    group_size: GroupSize | None = None
    # Our extension: the largest file a student may upload, in MB.
    max_upload_mb: Annotated[int, Field(strict=True, ge=1, le=2048)] = 50
    autograder: AutograderConfig | None = None
    similarity: SimilarityConfig | None = None
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
