"""Start untrusted code under bubblewrap, as an unprivileged slot uid, with resource limits.

Every run is one process chain, started from the worker (which runs as root)::

    prlimit --cpu --as --nproc --fsize --nofile --core=0 --      (limits, still root)
      setpriv --reuid=UID --regid=UID --clear-groups --no-new-privs --   (drop to the slot uid)
        bwrap --unshare-all --disable-userns --die-with-parent --new-session ...
          bash (PID 2 of a new PID namespace; bwrap's reaper is PID 1)
            /autograder/source/run_autograder

The chain execs in place, so the worker's child *is* the outer bwrap, in its own session and
process group. A wall-clock timeout SIGKILLs that group; bwrap's ``--die-with-parent`` then
kills the sandbox's PID 1, and the kernel kills everything else in that PID namespace. The
same happens when ``run_autograder`` exits: background processes do not outlive it. As a
backstop, every process still owned by the slot uid is killed after (and before) each run,
which is why each concurrent slot needs its own uid, used by nothing else.

Inside the sandbox: no network (a fresh network namespace with only loopback), no other
processes, a read-only system (``/usr`` and the merged-/usr links ``/bin``, ``/sbin``,
``/lib``, ``/lib64``; from ``/etc`` only what programs need, see
:data:`~grading.sandbox.mounts.ETC_ENTRIES`, plus a
generated passwd, group, hosts and hostname), fresh ``/proc`` and ``/dev``, private size-limited
tmpfs at ``/tmp`` and ``/dev/shm``, and the job folder read-write at ``/autograder``. Nothing of
``/root``, ``/home``, ``/work``, ``/var``, ``/srv``, ``/opt``, ``/run``, ``/mnt`` or ``/sys`` is
there, and the sandbox root itself is read-only. bwrap's own options travel through a pipe
(``--args``), so ``ps`` inside does not show host paths.

Not contained (know these before relying on it):

* Memory is limited per process (RLIMIT_AS), not per run: N processes may use N times
  ``memory_mb``; with ``memory_mb=None`` (GPU jobs) nothing limits it. No cgroups are used.
* Disk: the job folder is on the worker's disk with no quota; RLIMIT_FSIZE bounds each file,
  not their number. Put job folders on a size-limited filesystem.
* GPUs: every ``/dev/nvidia*`` is bound in; ``CUDA_VISIBLE_DEVICES`` selects the slot's GPU,
  but student code can change it and reach the other GPUs of the machine.
* Student code and the grader run as the same uid (as on Gradescope): the submission can
  rewrite ``/autograder/source`` or ``results.json``. Read results with
  :func:`~grading.sandbox.layout.read_results`, never with a plain ``open()`` as root.
* No seccomp filter: the whole kernel syscall surface (minus what user namespaces forbid)
  is reachable; a kernel bug is an escape. ``/proc/self/mountinfo`` shows the host paths of
  the binds.
* ``run_setup(network=True)`` shares the worker's network, loopback services included.
* Inside Docker, bwrap needs the worker container to allow it (the default seccomp profile
  and masked /proc paths stop it: ``security_opt: [seccomp=unconfined,
  systempaths=unconfined]`` or a custom profile, plus ``apparmor=unconfined`` on AppArmor
  hosts); without that :func:`check_available` fails closed.

This module holds the public entry points and where the host's tools are; the steps live
beside it:

- :mod:`~grading.sandbox.autograde`: one run of a job's ``run_autograder``;
- :mod:`~grading.sandbox.setup_sh`: ``setup.sh`` and the shared environment it builds;
- :mod:`~grading.sandbox.probe`: whether sandboxes can be started here;
- :mod:`~grading.sandbox.command`: the prlimit → setpriv → bwrap command line, with
  :mod:`~grading.sandbox.mounts` (the file system inside) and
  :mod:`~grading.sandbox.environment` (user, host name, environment variables);
- :mod:`~grading.sandbox.execute`: starting it, the wall-clock timeout and the kill, the
  backstop sweep, and the result (the output through :mod:`~grading.sandbox.output`).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from pathlib import Path

from grading.sandbox.autograde import run_job
from grading.sandbox.command import Tools
from grading.sandbox.errors import SandboxUnavailable
from grading.sandbox.layout import check_uid
from grading.sandbox.limits import Limits
from grading.sandbox.probe import probe
from grading.sandbox.result import SandboxResult
from grading.sandbox.setup_sh import build_env

# Where the tools live. Module-level so that tests (and unusual images) can point elsewhere:
# they are read at every call.
BWRAP_PATH = "/usr/bin/bwrap"
SETPRIV_PATH = "/usr/bin/setpriv"
PRLIMIT_PATH = "/usr/bin/prlimit"

_availability: dict[tuple[str, str, str], str | None] = {}
_availability_lock = threading.Lock()


def _tools() -> Tools:
    return Tools(bwrap=BWRAP_PATH, setpriv=SETPRIV_PATH, prlimit=PRLIMIT_PATH)


def check_available() -> None:
    """Raise :class:`SandboxUnavailable` unless sandboxes can be started here.

    Checks that bwrap, setpriv and prlimit exist, that the worker is root (needed to switch to
    the slot uid), and starts one trivial sandbox. The answer is cached per process (and per
    tool paths).
    """
    key = _tools()
    with _availability_lock:
        if key not in _availability:
            _availability[key] = probe(key)
        error = _availability[key]
    if error is not None:
        raise SandboxUnavailable(error)


def run_autograder(
    job_root: Path,
    *,
    limits: Limits,
    uid: int,
    env: Mapping[str, str] | None = None,
    setup_env: Path | None = None,
) -> SandboxResult:
    """Run ``/autograder/source/run_autograder`` of a job made by :func:`prepare_job`.

    ``job_root/autograder`` is bound read-write at ``/autograder`` (the working folder and
    HOME); nothing else is writable apart from the private tmpfs. ``env`` adds variables to the
    clean environment (``CUDA_VISIBLE_DEVICES`` for a GPU slot: when it is set and
    ``/dev/nvidia*`` exist, those devices are bound in). ``setup_env`` is a folder made by
    :func:`run_setup`, bound read-only at ``/autograder/env`` with ``PYTHONUSERBASE`` and
    ``PATH`` pointing into it.

    Never raises for what the student's code does; raises :class:`SandboxUnavailable` when
    no sandbox can be started and :class:`JobFolderError` for a broken job folder.
    """
    check_uid(uid)
    check_available()
    return run_job(job_root, tools=_tools(), limits=limits, uid=uid, env=env, setup_env=setup_env)


def run_setup(
    bundle_dir: Path,
    env_dir: Path,
    *,
    limits: Limits,
    uid: int,
    network: bool = True,
) -> SandboxResult:
    """Run the bundle's ``setup.sh`` once, to build a shared environment in ``env_dir``.

    ``setup.sh`` runs as ``bash -e /autograder/source/setup.sh`` (errexit even without
    ``set -e``) in ``/autograder/source`` (a
    throw-away copy of the bundle), with ``env_dir`` bound read-write at ``/autograder/env``:
    ``HOME`` is there, ``PYTHONUSERBASE=/autograder/env/python`` and ``PIP_USER=1`` make
    ``pip install`` land in it (``PIP_BREAK_SYSTEM_PACKAGES=1`` because Debian's pip refuses
    user installs otherwise). Only ``env_dir`` survives; later jobs get it read-only through
    ``run_autograder(..., setup_env=env_dir)``. Afterwards ``env_dir`` belongs to root and is
    world-readable, without set-id bits.

    The system stays read-only, so ``apt-get install`` cannot work: system packages belong in
    the worker image. ``network=True`` shares the worker's network namespace (for ``pip``),
    which includes services listening on the worker's loopback: only run trusted bundles with
    network. Installing large packages (PyTorch) needs generous ``limits``: ``memory_mb=None``
    and ``max_file_mb`` above the largest file in a wheel (more than 1 GB for CUDA builds).

    The caller keeps the result's output as the setup log. A bundle without ``setup.sh`` gets
    an empty environment and a successful result.
    """
    check_uid(uid)
    check_available()
    return build_env(bundle_dir, env_dir, tools=_tools(), limits=limits, uid=uid, network=network)
