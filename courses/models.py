"""Courses as their config says: sections, roster and roles, categories, assignments and
questions, extensions, project groups. The database guards the invariants; the writes live in
``courses.services`` (the config file is read by ``courses.config``), the reads in
``courses.selectors``."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q

from courses import references


class Level(models.TextChoices):
    UNDERGRADUATE = "undergraduate", "Undergraduate"
    GRADUATE = "graduate", "Graduate"


class Role(models.TextChoices):
    STUDENT = "student", "Student"
    WAITLISTED = "waitlisted", "Waitlisted"
    SIT_IN = "sit_in", "Sitting in"
    TA = "ta", "TA"
    INSTRUCTOR = "instructor", "Instructor"


STAFF_ROLES = frozenset({Role.TA, Role.INSTRUCTOR})
# Roles that hand work in: waitlisted students do PS0 too; sit-ins never submit.
SUBMITTING_ROLES = frozenset({Role.STUDENT, Role.WAITLISTED})


class Requirement(models.TextChoices):
    REQUIRED = "required", "Required"
    EXTRA_CREDIT = "extra_credit", "Extra credit"
    NOT_OFFERED = "not_offered", "Not offered"


class AfterGrace(models.TextChoices):
    REFUSE = "refuse", "Refused"
    ACCEPT_LATE = "accept_late", "Accepted as late"


class Queue(models.TextChoices):
    CPU = "cpu", "CPU"
    GPU = "gpu", "GPU"


class Course(models.Model):
    slug = models.SlugField(max_length=64, unique=True)
    title = models.CharField(max_length=200)
    term = models.CharField(max_length=100)
    timezone = models.CharField(max_length=64, help_text="IANA zone, e.g. America/New_York")
    registration_ends = models.DateTimeField(null=True, blank=True)
    regrade_days = models.PositiveIntegerField(default=7)
    # [{"name": "forum", "url": "https://…", "note": "access code DL2021"}], in config order.
    links = models.JSONField(default=list, blank=True)
    # The assignment slugs waitlisted students may hand in (null: every assignment).
    waitlisted_may_submit = models.JSONField(null=True, blank=True)
    # Whether a project group may mix undergraduate and graduate students.
    groups_mix_levels = models.BooleanField(default=False)
    # The regex an extension's reference must match whole, on top of the token every reference
    # is (``courses.references``): by default capital letters and digits such as DOS-2021-0042.
    extension_reference_pattern = models.CharField(
        max_length=references.PATTERN_MAX_LENGTH, default=references.DEFAULT_PATTERN
    )
    # What the last load_course wrote: the course as export_course gave it right after that
    # load, the file it came from, and when. A later load compares the course's export with
    # ``loaded_toml``: a difference is a change made in the portal since (see
    # ``courses.services.course_load``). Empty: never loaded from a file.
    loaded_toml = models.TextField(blank=True, default="")
    loaded_from = models.CharField(max_length=1000, blank=True, default="")
    loaded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return f"{self.title} ({self.term})"


class Section(models.Model):
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="sections")
    code = models.CharField(max_length=32)
    level = models.CharField(max_length=16, choices=Level.choices)
    capacity = models.PositiveIntegerField()
    links = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["course", "code"]
        constraints = [
            models.UniqueConstraint(fields=["course", "code"], name="section_code_unique"),
            models.CheckConstraint(condition=Q(level__in=Level.values), name="section_level_valid"),
        ]

    def __str__(self) -> str:
        return self.code


class Enrollment(models.Model):
    """One per person per course: their role, and their section where they have one."""

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="enrollments")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="enrollments"
    )
    section = models.ForeignKey(
        Section, on_delete=models.PROTECT, null=True, blank=True, related_name="enrollments"
    )
    role = models.CharField(max_length=16, choices=Role.choices)
    # A TA the instructor lets split the grading: assign graders (their role stays "ta").
    head_ta = models.BooleanField(default=False)

    class Meta:
        ordering = ["course", "user__username"]
        constraints = [
            models.UniqueConstraint(fields=["course", "user"], name="one_enrollment_per_course"),
            models.CheckConstraint(condition=Q(role__in=Role.values), name="enrollment_role_valid"),
            models.CheckConstraint(
                condition=~Q(role__in=sorted(SUBMITTING_ROLES)) | Q(section__isnull=False),
                name="students_have_a_section",
            ),
        ]
        indexes = [models.Index(fields=["course", "role"])]

    def __str__(self) -> str:
        return f"{self.user} in {self.course.slug} as {self.role}"

    @property
    def is_staff_role(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def assigns_graders(self) -> bool:
        """The instructor, and head TAs, split an assignment's grading among the staff."""
        return self.role == Role.INSTRUCTOR or (self.role == Role.TA and self.head_ta)

    @property
    def can_submit(self) -> bool:
        return self.role in SUBMITTING_ROLES


class Category(models.Model):
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="categories")
    slug = models.SlugField(max_length=64)
    weight = models.DecimalField(max_digits=6, decimal_places=2)
    bonus = models.BooleanField(default=False)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["course", "position"]
        verbose_name_plural = "categories"
        constraints = [
            models.UniqueConstraint(fields=["course", "slug"], name="category_slug_unique"),
            models.CheckConstraint(
                condition=Q(weight__gte=0) & Q(weight__lte=100), name="category_weight_0_100"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.slug} ({self.weight}%{' bonus' if self.bonus else ''})"


class Assignment(models.Model):
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="assignments")
    slug = models.SlugField(max_length=64)
    title = models.CharField(max_length=200)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="assignments")
    position = models.PositiveIntegerField(default=0)
    # No release time means visible to students from the start.
    release_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField()
    grace_days = models.PositiveIntegerField(default=2)
    after_grace = models.CharField(
        max_length=16, choices=AfterGrace.choices, default=AfterGrace.REFUSE
    )
    collaboration = models.BooleanField(default=True)
    readiness_threshold = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    # Used when the assignment has no questions.
    points = models.DecimalField(
        max_digits=8, decimal_places=2, default=Decimal(100), validators=[MinValueValidator(0)]
    )
    group = models.BooleanField(default=False)
    group_min = models.PositiveIntegerField(default=1)
    group_max = models.PositiveIntegerField(default=1)
    # Set when the instructor releases grades: the regrade window starts then.
    grades_released_at = models.DateTimeField(null=True, blank=True)
    # The largest file a student may upload for this assignment.
    max_upload_mb = models.PositiveIntegerField(default=50)
    # Autograder: bundle is the resolved path of a folder or .zip in Gradescope's layout.
    autograder_bundle = models.CharField(max_length=500, blank=True, default="")
    autograder_queue = models.CharField(max_length=8, choices=Queue.choices, default=Queue.CPU)
    autograder_timeout_s = models.PositiveIntegerField(default=600)
    autograder_memory_mb = models.PositiveIntegerField(default=768)
    # Container engine only: the base image its bundle is built on ("" = the portal's own),
    # the share of the machine's CPUs each run gets, and whether runs have network.
    autograder_image = models.CharField(max_length=300, blank=True, default="")
    autograder_cpus = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=Decimal(1),
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(256)],
    )
    autograder_network = models.BooleanField(default=False)
    # Similarity checks: the resolved path of the starter-code folder left out of them
    # (``similarity = { starter = "folder" }``); read when staff start a check.
    similarity_starter = models.CharField(max_length=500, blank=True, default="")
    # Anonymous grading: TAs see a pseudonym per student instead of their name, until the
    # instructor reveals the names (``names_revealed_at`` set; cleared to hide them again).
    # The rule is ``courses.selectors.names_hidden``.
    anonymous_grading = models.BooleanField(default=False)
    names_revealed_at = models.DateTimeField(null=True, blank=True)
    names_revealed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["course", "position", "due_at"]
        constraints = [
            models.UniqueConstraint(fields=["course", "slug"], name="assignment_slug_unique"),
            models.CheckConstraint(
                condition=Q(release_at__isnull=True) | Q(due_at__gt=F("release_at")),
                name="assignment_due_after_release",
            ),
            models.CheckConstraint(
                condition=Q(after_grace__in=AfterGrace.values), name="assignment_after_grace_valid"
            ),
            models.CheckConstraint(condition=Q(points__gte=0), name="assignment_points_nonneg"),
            models.CheckConstraint(
                condition=Q(group_min__gte=1) & Q(group_max__gte=F("group_min")),
                name="assignment_group_size_valid",
            ),
            models.CheckConstraint(
                condition=Q(readiness_threshold__isnull=True)
                | (Q(readiness_threshold__gte=0) & Q(readiness_threshold__lte=100)),
                name="assignment_readiness_0_100",
            ),
            models.CheckConstraint(
                condition=Q(autograder_queue__in=Queue.values), name="assignment_queue_valid"
            ),
            models.CheckConstraint(
                condition=Q(max_upload_mb__gte=1) & Q(max_upload_mb__lte=2048),
                name="assignment_max_upload_1_2048",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.course.slug}/{self.slug}"


class Question(models.Model):
    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="questions")
    slug = models.SlugField(max_length=64)
    title = models.CharField(max_length=200, blank=True, default="")
    points = models.DecimalField(max_digits=8, decimal_places=2)
    # The autograder tests (fnmatch globs on the test's name) whose points feed this question.
    tests = models.JSONField(default=list, blank=True)
    undergraduate = models.CharField(
        max_length=16, choices=Requirement.choices, default=Requirement.REQUIRED
    )
    graduate = models.CharField(
        max_length=16, choices=Requirement.choices, default=Requirement.REQUIRED
    )
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["assignment", "position"]
        constraints = [
            models.UniqueConstraint(fields=["assignment", "slug"], name="question_slug_unique"),
            models.CheckConstraint(condition=Q(points__gte=0), name="question_points_nonneg"),
            models.CheckConstraint(
                condition=Q(undergraduate__in=Requirement.values)
                & Q(graduate__in=Requirement.values),
                name="question_requirement_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.assignment}/{self.slug}"

    def requirement_for(self, level: str) -> str:
        return self.graduate if level == Level.GRADUATE else self.undergraduate

    @property
    def shown(self) -> str:
        """What pages call the question: its title, else its slug."""
        return self.title or self.slug


# A Dean of Students confirmation reference: a short token (letters, digits, . _ / -), so that
# no sentence, reason or medical detail can be stored in it (each course narrows it further:
# ``Course.extension_reference_pattern``).
EXTENSION_REFERENCE_REGEX = references.TOKEN_REGEX


class Extension(models.Model):
    """A Dean of Students confirmed extension: the new due date and the confirmation's reference.

    Deliberately no reason, note or free-text field: the course must never hold medical
    information."""

    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="extensions")
    student = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="extensions"
    )
    due_at = models.DateTimeField()
    reference = models.CharField(max_length=40)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    granted_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["assignment", "student"], name="one_extension_per_student"
            ),
            models.CheckConstraint(
                condition=Q(reference__regex=EXTENSION_REFERENCE_REGEX),
                name="extension_reference_is_a_token",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.student} {self.assignment} until {self.due_at:%Y-%m-%d %H:%M}"


class ProjectGroup(models.Model):
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="groups")
    name = models.CharField(max_length=100)
    join_code = models.CharField(max_length=16, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Set by the group's first submission: from then on its members are fixed.
    locked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["course", "name"]
        constraints = [
            models.UniqueConstraint(fields=["course", "name"], name="group_name_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.course.slug}: {self.name}"


class GroupMembership(models.Model):
    """One group per student per course: ``course`` is repeated here so the database can say so."""

    group = models.ForeignKey(ProjectGroup, on_delete=models.CASCADE, related_name="memberships")
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="group_memberships"
    )
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["course", "user"], name="one_group_per_course"),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.group}"


class NotificationPreference(models.Model):
    """Which emails a person wants (every kind on by default). Written lazily by
    ``courses.services.notification_preferences_set``: no row means every kind is on."""

    KINDS = ("grades_released", "regrade_answered", "regrade_opened")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preference"
    )
    grades_released = models.BooleanField(default=True)
    regrade_answered = models.BooleanField(default=True)
    regrade_opened = models.BooleanField(default=True)

    def __str__(self) -> str:
        return f"{self.user} notifications"


class ChangeSource(models.TextChoices):
    PORTAL = "portal", "Portal (settings page or API)"
    LOAD_COURSE = "load_course", "load_course (the config file)"


class ConfigChange(models.Model):
    """One changed value of a course's configuration: who (``by``; null for ``load_course``),
    when, what (``object`` such as "assignment hw1", ``field``) and the value before and
    after, as text (times in the course's zone). Written by ``courses.services.settings`` and
    ``course_load``; never edited."""

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="config_changes")
    at = models.DateTimeField()
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    source = models.CharField(
        max_length=16, choices=ChangeSource.choices, default=ChangeSource.PORTAL
    )
    object = models.CharField(max_length=200)
    field = models.CharField(max_length=64)
    # Null where there was no value (a row created or removed).
    old = models.TextField(null=True, blank=True)  # noqa: DJ001
    new = models.TextField(null=True, blank=True)  # noqa: DJ001

    class Meta:
        ordering = ["course", "-at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(source__in=ChangeSource.values), name="config_change_source_valid"
            ),
        ]
        indexes = [models.Index(fields=["course", "-at", "-id"])]

    def __str__(self) -> str:
        return f"{self.course.slug}: {self.object} {self.field} {self.old!r} → {self.new!r}"


class RosterInvitation(models.Model):
    """A roster import emailed this person a link to choose their password and join the
    course (``import_roster --invite``): when it was queued, and when the email went out.
    One per person per course; ``--reinvite`` sends a new link and updates it."""

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="invitations")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="roster_invitations"
    )
    invited_at = models.DateTimeField(help_text="when the import queued the email")
    sent_at = models.DateTimeField(
        null=True, blank=True, help_text="when the email went out; empty while it is queued"
    )
    times = models.PositiveIntegerField(default=1, help_text="how many links were sent")

    class Meta:
        ordering = ["course", "-invited_at"]
        constraints = [
            models.UniqueConstraint(fields=["course", "user"], name="one_invitation_per_course")
        ]

    def __str__(self) -> str:
        return f"{self.user} invited to {self.course.slug}"
