"""Every write to submissions: handing work in (``create``, checked by ``rules``), which
submission counts (``choose``), and the stored files (``storage``)."""

from submissions.services.choose import submission_choose
from submissions.services.create import submission_create
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
    "submission_choose",
    "submission_create",
    "submission_deadline",
]
