"""Every write to submissions: handing work in (``create``, checked by ``rules``), which
submission counts (``choose``), the stored files (``storage``), and re-timing stored work
when a deadline moves (``retime``)."""

from submissions.services.choose import submission_choose
from submissions.services.create import submission_create
from submissions.services.retime import retimed_count, submissions_retime
from submissions.services.rules import (
    MAX_COLLABORATORS,
    DeadlinePassed,
    IdempotencyKeyReused,
    SubmissionResult,
    submission_deadline,
)
from submissions.services.storage import orphan_files_sweep

__all__ = [
    "MAX_COLLABORATORS",
    "DeadlinePassed",
    "IdempotencyKeyReused",
    "SubmissionResult",
    "orphan_files_sweep",
    "retimed_count",
    "submission_choose",
    "submission_create",
    "submission_deadline",
    "submissions_retime",
]
