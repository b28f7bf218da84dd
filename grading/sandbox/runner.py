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
``/lib``, ``/lib64``; from ``/etc`` only what programs need, see :data:`ETC_ENTRIES`, plus a
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
"""

from __future__ import annotations

import contextlib
import glob
import logging
import os
import shutil
import signal
import stat
import subprocess
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from grading.sandbox.errors import JobFolderError, SandboxUnavailable
from grading.sandbox.layout import (
    AUTOGRADER,
    RUN_AUTOGRADER,
    SETUP_SH,
    check_uid,
    chown_tree,
    ensure_reachable,
    make_world_readable,
)
from grading.sandbox.limits import Limits
from grading.sandbox.procs import kill_uid_processes, wait_until_gone
from grading.sandbox.result import SandboxResult, classify_limit

logger = logging.getLogger(__name__)

# Where the tools live. Module-level so that tests (and unusual images) can point elsewhere.
BWRAP_PATH = "/usr/bin/bwrap"
SETPRIV_PATH = "/usr/bin/setpriv"
PRLIMIT_PATH = "/usr/bin/prlimit"

#: The uid the availability probe runs as (it starts nothing but /bin/true).
PROBE_UID = 65534

BWRAP_MISSING = (
    "bubblewrap (bwrap) is not installed: refusing to run student code unsandboxed. "
    "Install the Debian package bubblewrap."
)

#: System folders bound read-only. On merged-/usr systems /bin, /sbin, /lib... are symbolic
#: links into /usr and are recreated as links; otherwise they are bound read-only too.
SYSTEM_DIRS = ("/usr",)
SYSTEM_TOP_LINKS = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")

#: The parts of /etc that programs need (bound read-only where present). Not the rest of /etc:
#: no shadow, no sudoers, no host names, no service configuration or credentials.
ETC_ENTRIES = (
    "ld.so.cache",
    "ld.so.conf",
    "ld.so.conf.d",
    "alternatives",
    "ssl/certs",
    "ssl/openssl.cnf",
    "ca-certificates",
    "localtime",
    "timezone",
    "nsswitch.conf",
    "host.conf",
    "gai.conf",
    "protocols",
    "services",
    "mime.types",
    "locale.alias",
    "fonts",
    "os-release",
    "debian_version",
    "python3",
    "python3.*",
    "matplotlibrc",
)

SANDBOX_HOSTNAME = "autograder"
SANDBOX_USER = "autograder"
SANDBOX_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
ENV_MOUNT = "/autograder/env"
ENV_PYTHONUSERBASE = "/autograder/env/python"

# The environment of prlimit/setpriv/bwrap themselves (bwrap clears it for the sandbox).
_HOST_ENV = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"}

# How much of the end of the output is kept when the output is cut.
_TAIL_BYTES = 4096
_READ_CHUNK = 1 << 16


# --------------------------------------------------------------------------- availability

_availability: dict[tuple[str, str, str], str | None] = {}
_availability_lock = threading.Lock()


def check_available() -> None:
    """Raise :class:`SandboxUnavailable` unless sandboxes can be started here.

    Checks that bwrap, setpriv and prlimit exist, that the worker is root (needed to switch to
    the slot uid), and starts one trivial sandbox. The answer is cached per process (and per
    tool paths).
    """
    key = (BWRAP_PATH, SETPRIV_PATH, PRLIMIT_PATH)
    with _availability_lock:
        if key not in _availability:
            _availability[key] = _probe()
        error = _availability[key]
    if error is not None:
        raise SandboxUnavailable(error)


def _probe() -> str | None:
    if not os.access(BWRAP_PATH, os.X_OK):
        return BWRAP_MISSING
    for tool in (SETPRIV_PATH, PRLIMIT_PATH):
        if not os.access(tool, os.X_OK):
            return (
                f"{tool} is not installed: refusing to run student code unsandboxed. "
                f"Install the Debian package util-linux."
            )
    if os.geteuid() != 0:
        return (
            "the grading worker is not running as root, so it cannot start sandboxes under a "
            "slot uid: refusing to run student code unsandboxed."
        )
    command = _Command(
        limits=Limits(wall_seconds=30, memory_mb=None),
        uid=PROBE_UID,
        network=False,
        gpu=False,
        binds=(),
        chdir="/",
        env=_base_env(home="/"),
        argv=("/bin/true",),
    )
    try:
        result = _execute(command, sweep=False)
    except SandboxUnavailable as exc:
        return f"{exc}. Check that unprivileged user namespaces are enabled."
    if result.exit_code != 0:
        return (
            f"a trivial sandbox failed ({result.output.strip()[:500]!r}): refusing to run "
            f"student code unsandboxed."
        )
    return None


# --------------------------------------------------------------------------- command line


def _pipe_with_data(data: bytes) -> int:
    """A pipe's read end already holding ``data`` (small: it must fit the pipe buffer)."""
    read_fd, write_fd = os.pipe()
    try:
        os.write(write_fd, data)
    finally:
        os.close(write_fd)
    return read_fd


def _passwd(uid: int) -> bytes:
    return (
        "root:x:0:0:root:/root:/usr/sbin/nologin\n"
        f"{SANDBOX_USER}:x:{uid}:{uid}:Autograder:/autograder:/bin/bash\n"
        "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
    ).encode()


def _group(uid: int) -> bytes:
    return f"root:x:0:\n{SANDBOX_USER}:x:{uid}:\nnogroup:x:65534:\n".encode()


_HOSTS = (
    f"127.0.0.1\tlocalhost {SANDBOX_HOSTNAME}\n::1\tlocalhost ip6-localhost ip6-loopback\n"
).encode()


def _base_env(*, home: str) -> dict[str, str]:
    return {
        "PATH": SANDBOX_PATH,
        "HOME": home,
        "USER": SANDBOX_USER,
        "LOGNAME": SANDBOX_USER,
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "TMPDIR": "/tmp",
    }


def _merge_env(base: dict[str, str], extra: Mapping[str, str] | None) -> dict[str, str]:
    merged = dict(base)
    for name, value in (extra or {}).items():
        if not isinstance(name, str) or not name or "=" in name or "\x00" in name:
            raise ValueError(f"bad environment variable name {name!r}")
        if not isinstance(value, str) or "\x00" in value:
            raise ValueError(f"bad value for environment variable {name}")
        merged[name] = value
    return merged


def _wants_gpu(env: Mapping[str, str]) -> bool:
    value = env.get("CUDA_VISIBLE_DEVICES")
    return value is not None and value.strip() not in ("", "-1", "none", "NoDevFiles")


class _Command:
    """The prlimit → setpriv → bwrap command line and the descriptors it inherits."""

    def __init__(
        self,
        *,
        limits: Limits,
        uid: int,
        network: bool,
        gpu: bool,
        binds: Sequence[tuple[str, Path, str]],
        chdir: str,
        env: Mapping[str, str],
        argv: Sequence[str],
    ) -> None:
        self.limits = limits
        self.uid = uid
        self.child_fds: list[int] = []  # closed in the worker once the child has them
        started_read, started_write = os.pipe()
        self.started_fd = started_read
        self.child_fds.append(started_write)
        try:
            self.args = self._build(
                network=network,
                gpu=gpu,
                binds=binds,
                chdir=chdir,
                env=env,
                argv=argv,
                started_write=started_write,
            )
        except BaseException:
            self.close_child_fds()
            os.close(self.started_fd)
            raise

    def _data(self, args: list[str], data: bytes, dest: str) -> None:
        fd = _pipe_with_data(data)
        self.child_fds.append(fd)
        args += ["--ro-bind-data", str(fd), dest]

    def _build(
        self,
        *,
        network: bool,
        gpu: bool,
        binds: Sequence[tuple[str, Path, str]],
        chdir: str,
        env: Mapping[str, str],
        argv: Sequence[str],
        started_write: int,
    ) -> list[str]:
        uid = self.uid
        launcher = [PRLIMIT_PATH, *self.limits.prlimit_args(), "--"]
        launcher += [
            SETPRIV_PATH,
            f"--reuid={uid}",
            f"--regid={uid}",
            "--clear-groups",
            "--no-new-privs",
            "--",
        ]
        args = ["--unshare-user", "--unshare-all"]
        if network:
            args.append("--share-net")
        args += [
            "--disable-userns",
            "--die-with-parent",
            "--new-session",
            "--hostname",
            SANDBOX_HOSTNAME,
        ]
        for folder in SYSTEM_DIRS:
            args += ["--ro-bind", folder, folder]
        for top in SYSTEM_TOP_LINKS:
            if os.path.islink(top):
                args += ["--symlink", os.readlink(top), top]
            elif os.path.isdir(top):
                args += ["--ro-bind", top, top]
        for entry in ETC_ENTRIES:
            for path in sorted(glob.glob(os.path.join("/etc", entry))):
                args += ["--ro-bind-try", path, path]
        self._data(args, _passwd(uid), "/etc/passwd")
        self._data(args, _group(uid), "/etc/group")
        self._data(args, _HOSTS, "/etc/hosts")
        self._data(args, f"{SANDBOX_HOSTNAME}\n".encode(), "/etc/hostname")
        if network:
            args += ["--ro-bind-try", "/etc/resolv.conf", "/etc/resolv.conf"]
        tmp_bytes = str(self.limits.tmp_mb * 1024 * 1024)
        args += ["--proc", "/proc", "--dev", "/dev"]
        args += ["--size", tmp_bytes, "--tmpfs", "/tmp"]
        args += ["--size", tmp_bytes, "--tmpfs", "/dev/shm"]
        if gpu:
            for device in sorted(glob.glob("/dev/nvidia*")):
                args += ["--dev-bind", device, device]
        for option, source, dest in binds:
            args += [option, str(source), dest]
        args += ["--remount-ro", "/", "--chdir", chdir, "--clearenv"]
        for name, value in env.items():
            args += ["--setenv", name, value]
        # Tell the worker that the sandbox is up (before any untrusted code runs), close that
        # descriptor, and become the real program.
        shim = f'printf x >&{started_write} && exec {started_write}>&- && exec "$@"'
        command = ["--", "/bin/bash", "-c", shim, "autograder-start", *argv]
        # bwrap's options go through a pipe (--args), so that the sandbox's view of its PID 1
        # command line does not show host paths.
        options = b"".join(arg.encode() + b"\0" for arg in args)
        if len(options) < 60_000:  # must fit in the pipe buffer
            fd = _pipe_with_data(options)
            self.child_fds.append(fd)
            return [*launcher, BWRAP_PATH, "--args", str(fd), *command]
        return [*launcher, BWRAP_PATH, *args, *command]

    def close_child_fds(self) -> None:
        for fd in self.child_fds:
            with contextlib.suppress(OSError):
                os.close(fd)
        self.child_fds = []

    def sandbox_started(self) -> bool:
        os.set_blocking(self.started_fd, False)
        try:
            return os.read(self.started_fd, 16).startswith(b"x")
        except BlockingIOError:
            return False
        finally:
            os.close(self.started_fd)


# --------------------------------------------------------------------------- running


class _OutputReader(threading.Thread):
    """Drain one pipe; keep the first bytes and the last few KiB, count the rest."""

    def __init__(self, fd: int, cap: int) -> None:
        super().__init__(name="sandbox-output", daemon=True)
        self._fd = fd
        self._cap = cap
        self._tail_keep = min(_TAIL_BYTES, cap // 4)
        self._head = bytearray()
        self._tail = bytearray()
        self.total = 0

    def run(self) -> None:
        try:
            while True:
                chunk = os.read(self._fd, _READ_CHUNK)
                if not chunk:
                    return
                self.total += len(chunk)
                room = self._cap - len(self._head)
                if room > 0:
                    self._head += chunk[:room]
                if self._tail_keep:
                    self._tail += chunk
                    if len(self._tail) > 4 * self._tail_keep + _READ_CHUNK:
                        del self._tail[: -self._tail_keep]
        except OSError:
            return

    @property
    def truncated(self) -> bool:
        return self.total > self._cap

    def text(self) -> str:
        if not self.truncated:
            data = bytes(self._head)
        elif self._tail_keep == 0:
            data = bytes(self._head[: self._cap])
        else:
            head_keep = self._cap - self._tail_keep
            omitted = self.total - head_keep - self._tail_keep
            marker = f"\n[... {omitted:,} bytes of output omitted ...]\n".encode()
            data = bytes(self._head[:head_keep]) + marker + bytes(self._tail[-self._tail_keep :])
        return data.decode("utf-8", errors="replace")


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)


def _execute(command: _Command, *, sweep: bool) -> SandboxResult:
    limits = command.limits
    if sweep:
        leftover = kill_uid_processes(command.uid)
        if leftover:
            logger.warning("killed %d processes of slot uid %d before a run", leftover, command.uid)
    start = time.monotonic()
    try:
        proc = subprocess.Popen(
            command.args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            pass_fds=command.child_fds,
            env=_HOST_ENV,
            cwd="/",
            start_new_session=True,
        )
    except OSError as exc:
        command.close_child_fds()
        os.close(command.started_fd)
        raise SandboxUnavailable(f"cannot start the sandbox: {exc}") from exc
    command.close_child_fds()
    assert proc.stdout is not None
    reader = _OutputReader(proc.stdout.fileno(), limits.max_output_bytes)
    reader.start()
    timed_out = False
    try:
        try:
            proc.wait(timeout=limits.wall_seconds)
        except subprocess.TimeoutExpired:
            timed_out = True
            _kill_group(proc.pid)
            proc.wait()
    except BaseException:
        _kill_group(proc.pid)
        proc.wait()
        raise
    finally:
        duration = time.monotonic() - start
        strays = 0
        # bwrap's monitor may return while the sandbox's PID 1 is still exiting, and the
        # kernel tears the PID namespace down after that: give it a moment, so that the
        # backstop only finds real strays.
        if sweep and not wait_until_gone(command.uid, timeout=1.0):
            strays = kill_uid_processes(command.uid)
        started = command.sandbox_started()
        reader.join(timeout=5)
        if reader.is_alive():
            logger.error("sandbox output pipe still open after the run (uid %d)", command.uid)
        else:
            proc.stdout.close()
    if strays:
        logger.warning("killed %d stray processes of slot uid %d after a run", strays, command.uid)
    output = reader.text()
    if not started:
        if timed_out:
            raise SandboxUnavailable(
                f"the sandbox did not start within the wall-clock limit of "
                f"{limits.wall_seconds} s: {output.strip()[:2000]}"
            )
        raise SandboxUnavailable(
            f"bubblewrap could not set up the sandbox (status {proc.returncode}): "
            f"{output.strip()[:2000]}"
        )

    status = proc.returncode
    exit_code: int | None
    sig: int | None
    if timed_out:
        exit_code, sig = None, int(signal.SIGKILL)
    elif status < 0:
        exit_code, sig = None, -status
    elif 128 < status <= 128 + 64:
        exit_code, sig = None, status - 128
    else:
        exit_code, sig = status, None
    return SandboxResult(
        exit_code=exit_code,
        signal=sig,
        timed_out=timed_out,
        output=output,
        output_truncated=reader.truncated,
        duration_s=duration,
        limit_hit=classify_limit(
            timed_out=timed_out,
            signal=sig,
            output=output,
            output_truncated=reader.truncated,
        ),
        limits=limits,
        stray_processes_killed=strays,
    )


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
    job_root = Path(os.path.abspath(job_root))
    autograder = job_root / AUTOGRADER
    ensure_reachable(autograder, uid)
    _claim_job_folder(autograder, uid)
    script = autograder / "source" / RUN_AUTOGRADER
    if not script.is_file() or script.is_symlink():
        raise JobFolderError(f"{script} is missing: the job folder is broken")

    sandbox_env = _base_env(home="/autograder")
    binds: list[tuple[str, Path, str]] = [("--bind", autograder, "/autograder")]
    if setup_env is not None:
        setup_env = Path(os.path.abspath(setup_env))
        if not setup_env.is_dir() or setup_env.is_symlink():
            raise JobFolderError(f"the setup environment {setup_env} is not a folder")
        ensure_reachable(setup_env, uid)
        mountpoint = autograder / "env"
        if mountpoint.is_symlink() or (mountpoint.exists() and not mountpoint.is_dir()):
            raise JobFolderError(f"{mountpoint} is in the way of the setup environment")
        mountpoint.mkdir(exist_ok=True)
        os.chown(mountpoint, uid, uid, follow_symlinks=False)
        binds.append(("--ro-bind", setup_env, ENV_MOUNT))
        sandbox_env["PYTHONUSERBASE"] = ENV_PYTHONUSERBASE
        sandbox_env["PATH"] = f"{ENV_PYTHONUSERBASE}/bin:{SANDBOX_PATH}"
    sandbox_env = _merge_env(sandbox_env, env)

    command = _Command(
        limits=limits,
        uid=uid,
        network=False,
        gpu=_wants_gpu(sandbox_env),
        binds=binds,
        chdir="/autograder",
        env=sandbox_env,
        argv=_entry_argv(script, f"/autograder/source/{RUN_AUTOGRADER}"),
    )
    return _execute(command, sweep=True)


def run_setup(
    bundle_dir: Path,
    env_dir: Path,
    *,
    limits: Limits,
    uid: int,
    network: bool = True,
) -> SandboxResult:
    """Run the bundle's ``setup.sh`` once, to build a shared environment in ``env_dir``.

    ``setup.sh`` runs as ``bash /autograder/source/setup.sh`` in ``/autograder/source`` (a
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
    bundle_dir = Path(os.path.abspath(bundle_dir))
    env_dir = Path(os.path.abspath(env_dir))
    if env_dir.is_symlink():
        raise JobFolderError(f"the setup environment {env_dir} is a symbolic link")
    env_dir.mkdir(parents=True, exist_ok=True)
    ensure_reachable(env_dir, uid)
    if not (bundle_dir / SETUP_SH).is_file():
        make_world_readable(env_dir)
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

    work = Path(tempfile.mkdtemp(prefix=".setup-", dir=env_dir.parent))
    try:
        work.chmod(0o711)
        autograder = work / AUTOGRADER
        autograder.mkdir(mode=0o700)
        shutil.copytree(bundle_dir, autograder / "source", symlinks=True)
        (autograder / "env").mkdir()
        (autograder / "tmp").mkdir()
        chown_tree(autograder, uid, uid)
        chown_tree(env_dir, uid, uid)
        sandbox_env = _base_env(home=ENV_MOUNT)
        sandbox_env.update(
            {
                "PATH": f"{ENV_PYTHONUSERBASE}/bin:{SANDBOX_PATH}",
                "PYTHONUSERBASE": ENV_PYTHONUSERBASE,
                "PIP_USER": "1",
                "PIP_BREAK_SYSTEM_PACKAGES": "1",
                "PIP_DISABLE_PIP_VERSION_CHECK": "1",
                "TMPDIR": "/autograder/tmp",
                "XDG_CACHE_HOME": "/autograder/tmp/cache",
            }
        )
        command = _Command(
            limits=limits,
            uid=uid,
            network=network,
            gpu=False,
            binds=[("--bind", autograder, "/autograder"), ("--bind", env_dir, ENV_MOUNT)],
            chdir="/autograder/source",
            env=sandbox_env,
            argv=["/bin/bash", f"/autograder/source/{SETUP_SH}"],
        )
        return _execute(command, sweep=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        make_world_readable(env_dir)
