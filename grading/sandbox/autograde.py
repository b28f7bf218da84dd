"""One run of a job's ``run_autograder``: the job folder's checks, its binds, its entry point.

The public entry point is :func:`grading.sandbox.runner.run_autograder`, which checks the
slot uid and the sandbox's availability before it calls :func:`run_job`.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from pathlib import Path

from grading.sandbox.command import Bind, Command, Tools
from grading.sandbox.environment import ENV_MOUNT, base_env, merge_env, setup_env_vars, wants_gpu
from grading.sandbox.errors import JobFolderError
from grading.sandbox.execute import execute
from grading.sandbox.layout import AUTOGRADER, RUN_AUTOGRADER, chown_tree, ensure_reachable
from grading.sandbox.limits import Limits
from grading.sandbox.result import SandboxResult


def run_job(
    job_root: Path,
    *,
    tools: Tools,
    limits: Limits,
    uid: int,
    env: Mapping[str, str] | None,
    setup_env: Path | None,
) -> SandboxResult:
    """Run ``/autograder/source/run_autograder`` of ``job_root`` as the slot ``uid``."""
    job_root = Path(os.path.abspath(job_root))
    autograder = job_root / AUTOGRADER
    ensure_reachable(autograder, uid)
    _claim_job_folder(autograder, uid)
    script = autograder / "source" / RUN_AUTOGRADER
    if not script.is_file() or script.is_symlink():
        raise JobFolderError(f"{script} is missing: the job folder is broken")

    sandbox_env = base_env(home="/autograder")
    binds: list[Bind] = [("--bind", autograder, "/autograder")]
    if setup_env is not None:
        binds.append(_setup_env_bind(setup_env, autograder, uid))
        sandbox_env.update(setup_env_vars())
    sandbox_env = merge_env(sandbox_env, env)

    command = Command(
        tools=tools,
        limits=limits,
        uid=uid,
        network=False,
        gpu=wants_gpu(sandbox_env),
        binds=binds,
        chdir="/autograder",
        env=sandbox_env,
        argv=_entry_argv(script, f"/autograder/source/{RUN_AUTOGRADER}"),
    )
    return execute(command, sweep=True)


def _claim_job_folder(path: Path, uid: int) -> None:
    """Check the job folder; hand a fresh (root-owned) one to the slot uid."""
    try:
        st = os.lstat(path)
    except OSError as exc:
        raise JobFolderError(f"the job folder {path} is missing: {exc}") from exc
    if not stat.S_ISDIR(st.st_mode):
        raise JobFolderError(f"the job folder {path} is not a folder")
    if st.st_uid == 0:
        chown_tree(path, uid, uid)
    elif st.st_uid != uid:
        raise JobFolderError(
            f"the job folder {path} belongs to uid {st.st_uid}, not to the slot uid {uid}: "
            f"prepare a fresh job folder for every run"
        )


def _setup_env_bind(setup_env: Path, autograder: Path, uid: int) -> Bind:
    """Check the setup environment, make its mount point, and bind it read-only there."""
    setup_env = Path(os.path.abspath(setup_env))
    if not setup_env.is_dir() or setup_env.is_symlink():
        raise JobFolderError(f"the setup environment {setup_env} is not a folder")
    ensure_reachable(setup_env, uid)
    mountpoint = autograder / "env"
    if mountpoint.is_symlink() or (mountpoint.exists() and not mountpoint.is_dir()):
        raise JobFolderError(f"{mountpoint} is in the way of the setup environment")
    mountpoint.mkdir(exist_ok=True)
    os.chown(mountpoint, uid, uid, follow_symlinks=False)
    return ("--ro-bind", setup_env, ENV_MOUNT)


def _entry_argv(host_script: Path, sandbox_script: str) -> list[str]:
    """How to start a Gradescope script: bash unless it names another interpreter."""
    with open(host_script, "rb") as handle:
        first = handle.readline(256)
    if first.startswith(b"#!"):
        words = first[2:].strip().split()
        names = [os.path.basename(word) for word in words[:2]]
        if not any(name in (b"bash", b"sh") for name in names) and os.access(host_script, os.X_OK):
            return [sandbox_script]
    return ["/bin/bash", sandbox_script]
