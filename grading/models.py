"""Grading: autograder bundles, grading jobs and their results.

PostgreSQL is the truth: a job's row says where it stands; Redis only carries wake-up
messages. Exactly one result per job, however often a message is delivered."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from courses.models import Assignment
from submissions.models import Submission


class Bundle(models.Model):
    """One version of an assignment's autograder, in Gradescope's layout, stored as a zip
    through the storage API so that workers on other machines can fetch it."""

    class Source(models.TextChoices):
        CONFIG = "config", "Course config"
        UPLOAD = "upload", "Uploaded by staff"

    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="bundles")
    sha256 = models.CharField(max_length=64, help_text="hash of the bundle's files")
    file = models.FileField(max_length=500)
    size = models.BigIntegerField(default=0)
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.CONFIG)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["assignment", "-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["assignment", "sha256"], name="bundle_version_unique"),
            models.UniqueConstraint(
                fields=["assignment"], condition=Q(active=True), name="one_active_bundle"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.assignment} bundle {self.sha256[:12]}"


class BundleSetup(models.Model):
    """setup.sh of one bundle version on one worker: run once, its output kept for staff."""

    class State(models.TextChoices):
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    bundle = models.ForeignKey(Bundle, on_delete=models.CASCADE, related_name="setups")
    worker = models.CharField(max_length=200)
    state = models.CharField(max_length=8, choices=State.choices, default=State.RUNNING)
    log = models.TextField(blank=True, default="")
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["bundle", "worker"], name="one_setup_per_worker"),
        ]

    def __str__(self) -> str:
        return f"setup of {self.bundle} on {self.worker}: {self.state}"


class JobState(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"
    SUPERSEDED = "superseded", "Superseded by a newer submission"


class GradingJob(models.Model):
    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="jobs")
    bundle = models.ForeignKey(Bundle, on_delete=models.PROTECT, related_name="jobs")
    queue = models.CharField(max_length=8)  # "cpu" or "gpu": Celery queue grading.<queue>
    state = models.CharField(max_length=12, choices=JobState.choices, default=JobState.QUEUED)
    attempts = models.PositiveIntegerField(default=0)
    # Fairness: a student's n-th submission waits behind everyone's earlier ones.
    rank = models.PositiveIntegerField(default=1)
    # Late PS0 work is not graded before registration ends.
    hold_until = models.DateTimeField(null=True, blank=True)
    worker = models.CharField(max_length=200, blank=True, default="")
    queued_at = models.DateTimeField()
    # When a wake-up message for it was last sent (the sweeper re-sends stale ones).
    published_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # For the student: why it failed, in a sentence. For staff: the log.
    message = models.TextField(blank=True, default="")
    log = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-queued_at"]
        constraints = [
            models.CheckConstraint(condition=Q(state__in=JobState.values), name="job_state_valid"),
            models.CheckConstraint(condition=Q(queue__in=["cpu", "gpu"]), name="job_queue_valid"),
        ]
        indexes = [
            models.Index(
                fields=["queue", "rank", "queued_at"],
                condition=Q(state="queued"),
                name="job_claim_order",
            ),
            models.Index(fields=["state", "heartbeat_at"], name="job_state_heartbeat"),
            models.Index(fields=["submission", "-queued_at"], name="job_submission_latest"),
        ]

    def __str__(self) -> str:
        return f"job {self.pk} ({self.state}) for {self.submission}"


class GradingResult(models.Model):
    """The autograder's results.json, parsed. One per job: the database makes retries
    harmless."""

    job = models.OneToOneField(GradingJob, on_delete=models.CASCADE, related_name="result")
    score = models.FloatField(null=True, blank=True)
    max_score = models.FloatField(null=True, blank=True)
    data = models.JSONField(help_text="the parsed results (staff view)")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"result of job {self.job_id}: {self.score}"
