"""Exceptions raised by the sandbox.

Student misbehaviour never raises: it is reported in a :class:`~grading.sandbox.SandboxResult`.
Only a missing or broken sandbox (:class:`SandboxUnavailable`) or a job folder the worker
prepared wrongly (:class:`JobFolderError`) raise.
"""

from __future__ import annotations


class SandboxUnavailable(RuntimeError):
    """The sandbox cannot be started: student code must not run at all."""


class JobFolderError(ValueError):
    """A job folder, bundle or setup environment is not usable (a worker or bundle problem)."""


class UnsafePath(JobFolderError):
    """A submission file name tries to leave the submission folder ('..', absolute, ...)."""
