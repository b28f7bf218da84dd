"""Run untrusted autograder code (Gradescope's layout) under bubblewrap.

Standard library only: nothing here imports Django or the project's apps.

Typical use by a grading worker (running as root, one dedicated uid per slot)::

    from grading.sandbox import Limits, prepare_job, read_results, run_autograder

    prepare_job(job_root, bundle_dir=bundle, submission=files, metadata=meta, uid=slot_uid)
    result = run_autograder(job_root, limits=Limits(wall_seconds=600), uid=slot_uid,
                            env={"CUDA_VISIBLE_DEVICES": "0"}, setup_env=env_dir)
    raw = read_results(job_root)           # never a plain open(): see read_results
    message = describe(result)             # for the student

Where things are: :mod:`~grading.sandbox.runner` (the entry points, and how the sandbox is
built and what it does not contain), :mod:`~grading.sandbox.layout` (the job folder),
:mod:`~grading.sandbox.limits`, :mod:`~grading.sandbox.result` (what a run returns),
:mod:`~grading.sandbox.procs` (slot uids and their processes), :mod:`~grading.sandbox.errors`.
"""

from grading.sandbox.engines import ENGINES, BuildSpec, Built, Engine, RunSpec, engine
from grading.sandbox.errors import JobFolderError, SandboxUnavailable, UnsafePath
from grading.sandbox.layout import prepare_job, read_results
from grading.sandbox.limits import Limits
from grading.sandbox.procs import claim_uid, kill_uid_processes, processes_of_uid
from grading.sandbox.result import SandboxResult, describe
from grading.sandbox.runner import check_available, run_autograder, run_setup

__all__ = [
    "ENGINES",
    "BuildSpec",
    "Built",
    "Engine",
    "JobFolderError",
    "Limits",
    "RunSpec",
    "SandboxResult",
    "SandboxUnavailable",
    "UnsafePath",
    "check_available",
    "claim_uid",
    "describe",
    "engine",
    "kill_uid_processes",
    "prepare_job",
    "processes_of_uid",
    "read_results",
    "run_autograder",
    "run_setup",
]
