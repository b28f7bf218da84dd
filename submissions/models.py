"""Submissions and their files. The full history is kept: nothing is ever overwritten.

The submission that counts is the one staff chose, else the latest (highest ``number``) of
its owner: the group for a group assignment, else the student."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from courses.models import Assignment, Course, ProjectGroup


class Timing(models.TextChoices):
    ON_TIME = "on_time", "On time"
    IN_GRACE = "in_grace", "In grace period"
    LATE = "late", "Late"


class Submission(models.Model):
    course = models.ForeignKey(Course, on_delete=models.PROTECT, related_name="+")
    assignment = models.ForeignKey(Assignment, on_delete=models.PROTECT, related_name="submissions")
    # Who handed it in; for a group assignment ``group`` is the owner and every member sees it.
    student = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="submissions"
    )
    group = models.ForeignKey(
        ProjectGroup,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="submissions",
    )
    number = models.PositiveIntegerField(help_text="1, 2, 3… per owner and assignment")
    # The server's clock when the request arrived decides the timing class.
    submitted_at = models.DateTimeField()
    timing = models.CharField(max_length=16, choices=Timing.choices)
    # The student's own deadline at that moment, kept for the record (extensions included).
    due_at = models.DateTimeField()
    grace_ends_at = models.DateTimeField()
    extended = models.BooleanField(default=False)
    # Late PS0 work is graded only after registration ends.
    grade_after = models.DateTimeField(null=True, blank=True)
    total_bytes = models.BigIntegerField(default=0)
    # NULL, not "", when absent: the unique constraint applies only to keys that were sent.
    idempotency_key = models.CharField(max_length=200, null=True, blank=True)  # noqa: DJ001
    # Staff may choose the submission that counts; otherwise the latest does.
    chosen = models.BooleanField(default=False)
    collaborators = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="SubmissionCollaborator", related_name="+"
    )

    class Meta:
        ordering = ["assignment", "-submitted_at", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["student", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="submission_idempotency_key_unique",
            ),
            models.UniqueConstraint(
                fields=["assignment", "student", "number"],
                condition=Q(group__isnull=True),
                name="submission_number_unique_per_student",
            ),
            models.UniqueConstraint(
                fields=["assignment", "group", "number"],
                condition=Q(group__isnull=False),
                name="submission_number_unique_per_group",
            ),
            models.UniqueConstraint(
                fields=["assignment", "student"],
                condition=Q(chosen=True, group__isnull=True),
                name="one_chosen_submission_per_student",
            ),
            models.UniqueConstraint(
                fields=["assignment", "group"],
                condition=Q(chosen=True, group__isnull=False),
                name="one_chosen_submission_per_group",
            ),
            models.CheckConstraint(
                condition=Q(timing__in=Timing.values), name="submission_timing_valid"
            ),
            models.CheckConstraint(condition=Q(number__gte=1), name="submission_number_positive"),
        ]
        indexes = [
            models.Index(fields=["assignment", "student", "-number"]),
            models.Index(fields=["assignment", "group", "-number"]),
            models.Index(fields=["assignment", "-submitted_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.assignment} #{self.number} by {self.student}"


class SubmissionFile(models.Model):
    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="files")
    name = models.CharField(max_length=255)
    size = models.BigIntegerField()
    sha256 = models.CharField(max_length=64)
    # Where the bytes are, through Django's storage API (local files or S3).
    file = models.FileField(max_length=500)

    class Meta:
        ordering = ["submission", "name"]
        constraints = [
            models.UniqueConstraint(fields=["submission", "name"], name="submission_file_unique"),
            models.CheckConstraint(condition=Q(size__gte=0), name="submission_file_size_nonneg"),
        ]

    def __str__(self) -> str:
        return self.name


class SubmissionCollaborator(models.Model):
    submission = models.ForeignKey(
        Submission, on_delete=models.CASCADE, related_name="collaborator_links"
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["submission", "user"], name="submission_collaborator_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} on {self.submission}"
