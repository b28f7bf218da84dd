"""``setup.sh``: building a bundle's shared environment once, in a throw-away copy of the bundle.

The public entry point is :func:`grading.sandbox.runner.run_setup` (its docstring says what
the environment holds and who may use it), which checks the slot uid and the sandbox's
availability before it calls :func:`build_env`.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from grading.sandbox.command import Command, Tools
from grading.sandbox.environment import ENV_MOUNT, base_env, setup_env_vars
from grading.sandbox.errors import JobFolderError
from grading.sandbox.execute import execute
from grading.sandbox.layout import (
    AUTOGRADER,
    SETUP_SH,
    chown_tree,
    ensure_reachable,
    make_world_readable,
)
from grading.sandbox.limits import Limits
from grading.sandbox.result import SandboxResult


def build_env(
    bundle_dir: Path,
    env_dir: Path,
    *,
    tools: Tools,
    limits: Limits,
    uid: int,
    network: bool,
) -> SandboxResult:
    """Run the bundle's ``setup.sh`` as the slot ``uid`` with ``env_dir`` at ``/autograder/env``;
    afterwards ``env_dir`` is root's and world-readable."""
    bundle_dir = Path(os.path.abspath(bundle_dir))
    env_dir = Path(os.path.abspath(env_dir))
    if env_dir.is_symlink():
        raise JobFolderError(f"the setup environment {env_dir} is a symbolic link")
    env_dir.mkdir(parents=True, exist_ok=True)
    ensure_reachable(env_dir, uid)
    if not (bundle_dir / SETUP_SH).is_file():
        make_world_readable(env_dir)
        return _nothing_to_set_up(limits)

    work = Path(tempfile.mkdtemp(prefix=".setup-", dir=env_dir.parent))
    try:
        autograder = _scratch_copy(bundle_dir, work, uid)
        chown_tree(env_dir, uid, uid)
        command = Command(
            tools=tools,
            limits=limits,
            uid=uid,
            network=network,
            gpu=False,
            binds=[("--bind", autograder, "/autograder"), ("--bind", env_dir, ENV_MOUNT)],
            chdir="/autograder/source",
            env=_setup_sh_env(),
            # errexit whether or not the script says ``set -e``: a failing command (an
            # apt-get that cannot work here, say) fails the setup instead of going unnoticed.
            argv=["/bin/bash", "-e", f"/autograder/source/{SETUP_SH}"],
        )
        return execute(command, sweep=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        make_world_readable(env_dir)


def _nothing_to_set_up(limits: Limits) -> SandboxResult:
    return SandboxResult(
        exit_code=0,
        signal=None,
        timed_out=False,
        output=f"The bundle has no {SETUP_SH}: nothing to set up.\n",
        output_truncated=False,
        duration_s=0.0,
        limit_hit=None,
        limits=limits,
    )


def _scratch_copy(bundle_dir: Path, work: Path, uid: int) -> Path:
    """``work/autograder`` with a copy of the bundle in ``source``, given to the slot uid."""
    work.chmod(0o711)
    autograder = work / AUTOGRADER
    autograder.mkdir(mode=0o700)
    shutil.copytree(bundle_dir, autograder / "source", symlinks=True)
    (autograder / "env").mkdir()
    (autograder / "tmp").mkdir()
    chown_tree(autograder, uid, uid)
    return autograder


def _setup_sh_env() -> dict[str, str]:
    """``HOME`` in the environment, and ``pip install`` landing there."""
    env = base_env(home=ENV_MOUNT)
    env.update(setup_env_vars())
    env.update(
        {
            "PIP_USER": "1",
            "PIP_BREAK_SYSTEM_PACKAGES": "1",
            "PIP_DISABLE_PIP_VERSION_CHECK": "1",
            "TMPDIR": "/autograder/tmp",
            "XDG_CACHE_HOME": "/autograder/tmp/cache",
        }
    )
    return env
