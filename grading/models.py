"""Grading: autograder bundles, grading jobs and their results.

PostgreSQL is the truth: a job's row says where it stands; Redis only carries wake-up
messages. Exactly one result per job, however often a message is delivered."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual

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
        # Staff asked for another try: the machine's next job of this bundle builds again.
        RETRY = "retry", "Retry requested"

    bundle = models.ForeignKey(Bundle, on_delete=models.CASCADE, related_name="setups")
    worker = models.CharField(max_length=200)
    state = models.CharField(max_length=8, choices=State.choices, default=State.RUNNING)
    # The sandbox that built it ("podman", "bubblewrap") and what it built: the image's tag,
    # or the setup folder. A worker rebuilds when what it would build differs.
    engine = models.CharField(max_length=16, blank=True, default="")
    artifact = models.CharField(max_length=500, blank=True, default="")
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
    harmless. A result whose numbers do not add up (``review`` lists why) counts for nothing
    until a staff member accepts it."""

    job = models.OneToOneField(GradingJob, on_delete=models.CASCADE, related_name="result")
    score = models.FloatField(null=True, blank=True)
    max_score = models.FloatField(null=True, blank=True)
    data = models.JSONField(help_text="the parsed results (staff view)")
    created_at = models.DateTimeField(auto_now_add=True)
    review = models.JSONField(default=list, blank=True, help_text="why it needs review")
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    accepted_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"result of job {self.job_id}: {self.score}"

    @property
    def counts(self) -> bool:
        """Whether its scores count: consistent, or accepted by staff."""
        return not self.review or self.accepted_at is not None


class Grade(models.Model):
    """A student's score on one question of an assignment (``question`` empty: the implicit
    question of an assignment without questions; there it also holds ``excused`` for the
    whole assignment). ``points`` is computed by ``grading.scoring.question_points`` from
    the parts (the autograded part, the rubric items applied, the staff's adjustment, an
    override) whenever one of them changes, and every change of ``points`` is kept in
    GradeChange. ``comment`` is the staff's word to the student on the question."""

    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="grades")
    student = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="grades"
    )
    # Empty for the whole assignment; else one of the assignment's question slugs.
    question = models.CharField(max_length=64, blank=True, default="")
    points = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    excused = models.BooleanField(default=False)
    # The parts: from the counting submission's result (None: no result that counts), the
    # staff's adjustment (plus or minus), and an explicit override that wins until removed.
    autograded = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    adjustment = models.DecimalField(max_digits=8, decimal_places=2, default=0)
    override = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    # The counting submission's result needs a staff member's review before it counts.
    needs_review = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)
    rubric_items: models.ManyToManyField[RubricItem, AppliedRubricItem] = models.ManyToManyField(
        "RubricItem", through="AppliedRubricItem", related_name="grades", blank=True
    )
    comment = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["assignment", "student", "question"]
        constraints = [
            models.UniqueConstraint(
                fields=["assignment", "student", "question"], name="one_grade_per_question"
            ),
            models.CheckConstraint(
                condition=Q(points__isnull=True) | Q(points__gte=0), name="grade_points_nonneg"
            ),
            models.CheckConstraint(
                condition=Q(override__isnull=True) | Q(override__gte=0),
                name="grade_override_nonneg",
            ),
        ]
        indexes = [models.Index(fields=["student", "assignment"])]

    def __str__(self) -> str:
        q = f"/{self.question}" if self.question else ""
        return f"{self.student} {self.assignment}{q}: {self.points}"


class RubricItem(models.Model):
    """One item of a question's rubric (``question`` "": the implicit question of an
    assignment without questions): staff apply it to a student's work, and its points (plus
    or minus) go into the question's staff part."""

    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="rubric")
    question = models.CharField(max_length=64, blank=True, default="")
    description = models.CharField(max_length=500)
    points = models.DecimalField(max_digits=8, decimal_places=2)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["assignment", "question", "position", "pk"]
        indexes = [models.Index(fields=["assignment", "question", "position"])]

    def __str__(self) -> str:
        return f"{self.assignment}/{self.question}: {self.description} ({self.points})"


class AppliedRubricItem(models.Model):
    """A rubric item applied to a student's grade on its question."""

    grade = models.ForeignKey(Grade, on_delete=models.CASCADE, related_name="applied")
    item = models.ForeignKey(RubricItem, on_delete=models.CASCADE, related_name="applied")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["grade", "item"], name="rubric_item_applied_once"),
        ]

    def __str__(self) -> str:
        return f"{self.item} on {self.grade}"


class Annotation(models.Model):
    """A staff comment on one line of one file of a submission."""

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="annotations")
    file = models.CharField(max_length=255)
    line = models.PositiveIntegerField()
    text = models.CharField(max_length=2000)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["submission", "file", "line", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(line__gte=1), name="annotation_line_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.submission} {self.file}:{self.line}"


class GradeChange(models.Model):
    """The history of a grade: who changed it, when, from what to what, and why."""

    class Source(models.TextChoices):
        AUTOGRADER = "autograder", "Autograder"
        STAFF = "staff", "Staff"
        REGRADE = "regrade", "Regrade request"
        SUBMISSION = "submission", "New submission"
        CHOICE = "choice", "Choice of submission"
        ACCEPTED = "accepted", "Result accepted"

    grade = models.ForeignKey(Grade, on_delete=models.CASCADE, related_name="changes")
    old_points = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    new_points = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    source = models.CharField(max_length=12, choices=Source.choices)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    changed_at = models.DateTimeField(auto_now_add=True)
    regrade_request = models.ForeignKey(
        "RegradeRequest", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    job = models.ForeignKey(
        GradingJob, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # What changed, in words ("override 8 set", "submission #3 counts").
    detail = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        ordering = ["grade", "changed_at", "pk"]

    def __str__(self) -> str:
        return f"{self.grade}: {self.old_points} -> {self.new_points} ({self.source})"


# The longest regrade message, thread message or response taken, in characters.
REGRADE_TEXT_MAX = 5000


class RegradeRequest(models.Model):
    """A student's request for a regrade of a submission (one question or the whole), with
    the staff member it is assigned to (None: anyone's) and, once resolved, the answer."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        RESOLVED = "resolved", "Resolved"

    submission = models.ForeignKey(
        Submission, on_delete=models.CASCADE, related_name="regrade_requests"
    )
    student = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="regrade_requests"
    )
    question = models.CharField(max_length=64, blank=True, default="")
    message = models.TextField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)
    response = models.TextField(blank=True, default="")
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The requester's grade on what the request is about, per question slug, when it was
    # asked and when it was resolved (grading.selectors.evaluation_snapshot): the rubric as
    # applied then, so staff grade against it and the student sees what changed.
    evaluation_before = models.JSONField(null=True, blank=True)
    evaluation_after = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["open", "resolved"]), name="regrade_status_valid"
            ),
        ]
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return f"regrade of {self.submission} ({self.status})"


class RegradeMessage(models.Model):
    """One message of a regrade request's thread, by the requester (or a member of the
    submission's group) or the course's staff, written while the request is open."""

    request = models.ForeignKey(RegradeRequest, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    body = models.TextField()
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["request", "created_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(body="") & Q(LessThanOrEqual(Length("body"), REGRADE_TEXT_MAX)),
                name="regrade_message_length",
            ),
        ]
        indexes = [models.Index(fields=["request", "created_at"])]

    def __str__(self) -> str:
        return f"message by {self.author} on {self.request}"


class GradeRelease(models.Model):
    """Every release and unrelease of an assignment's grades, with who and when."""

    class Action(models.TextChoices):
        RELEASE = "release", "Released"
        UNRELEASE = "unrelease", "Unreleased"

    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="releases")
    action = models.CharField(max_length=10, choices=Action.choices)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField()

    class Meta:
        ordering = ["assignment", "at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(action__in=["release", "unrelease"]), name="grade_release_action_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.assignment} {self.action} at {self.at}"


class GraderAssignment(models.Model):
    """The share of an assignment's grading one TA or instructor does: the students of
    ``sections`` (section codes; [] = every section) on ``questions`` (question slugs; [] =
    every question). One per grader per assignment."""

    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="graders")
    grader = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    sections = models.JSONField(default=list, blank=True)
    questions = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["assignment", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["assignment", "grader"], name="one_grader_assignment_per_grader"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.grader} grades {self.assignment}"

    def covers(self, *, section: str | None, question: str) -> bool:
        """Whether this share holds a student of ``section`` on ``question`` ("": the whole
        assignment, held only by a share of every question)."""
        return (not self.sections or section in self.sections) and (
            not self.questions or (question != "" and question in self.questions)
        )


class GradingLock(models.Model):
    """A soft lock: ``grader`` is grading ``student``'s counting submission (for group work,
    the submitter's) on ``question`` ("": the whole submission) until ``expires_at``; others
    are not handed it by the grading queue meanwhile."""

    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="+")
    student = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    question = models.CharField(max_length=64, blank=True, default="")
    grader = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    expires_at = models.DateTimeField()

    class Meta:
        ordering = ["assignment", "student", "question"]
        constraints = [
            models.UniqueConstraint(
                fields=["assignment", "student", "question"], name="one_grading_lock"
            ),
        ]
        indexes = [models.Index(fields=["assignment", "expires_at"])]

    def __str__(self) -> str:
        return f"{self.grader} holds {self.student} on {self.assignment}/{self.question}"


class SimilarityCheck(models.Model):
    """A similarity (plagiarism) check of an assignment's counting submissions, started by
    staff and run by a CPU worker (``grading.tasks.similarity_check``): queued, running,
    then done or failed (``error`` says why). ``starter`` is the starter code left out, as
    it was when the check started (``{name: text}``)."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    assignment = models.ForeignKey(
        Assignment, on_delete=models.CASCADE, related_name="similarity_checks"
    )
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True, default="")
    worker = models.CharField(max_length=200, blank=True, default="")
    # How many counting submissions (one per student, or per group) were compared.
    submissions = models.PositiveIntegerField(default=0)
    starter = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["assignment", "-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["queued", "running", "done", "failed"]),
                name="similarity_check_status_valid",
            ),
            models.UniqueConstraint(
                fields=["assignment"],
                condition=Q(status__in=["queued", "running"]),
                name="one_active_similarity_check",
            ),
        ]
        indexes = [models.Index(fields=["assignment", "-created_at"], name="similarity_latest")]

    def __str__(self) -> str:
        return f"similarity check {self.pk} ({self.status}) of {self.assignment}"


class SimilarityPair(models.Model):
    """Two counting submissions of a check that share code: ``similarity`` (0 to 1) is the
    mean of the two directional ratios (``similarity_a``: the share of a's code found in
    b's, and the other way round); ``regions`` the matching character slices per pair of
    files, for the side-by-side view: ``[{"file_a", "file_b", "a": [[start, end], …],
    "b": [[start, end], …]}]``. Submission a is the earlier made (the smaller id)."""

    similarity_check = models.ForeignKey(
        SimilarityCheck, on_delete=models.CASCADE, related_name="pairs"
    )
    submission_a = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="+")
    submission_b = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="+")
    student_a = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    student_b = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    similarity = models.FloatField()
    similarity_a = models.FloatField()
    similarity_b = models.FloatField()
    declared_collaborators = models.BooleanField(default=False)
    regions = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["similarity_check", "-similarity", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["similarity_check", "submission_a", "submission_b"],
                name="similarity_pair_unique",
            ),
            models.CheckConstraint(
                condition=Q(similarity__gte=0, similarity__lte=1)
                & Q(similarity_a__gte=0, similarity_a__lte=1)
                & Q(similarity_b__gte=0, similarity_b__lte=1),
                name="similarity_0_1",
            ),
        ]
        indexes = [
            models.Index(fields=["similarity_check", "-similarity"], name="similarity_pair_rank")
        ]

    def __str__(self) -> str:
        return f"{self.submission_a_id} ~ {self.submission_b_id}: {self.similarity:.2f}"
