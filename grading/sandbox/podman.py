"""Run Gradescope autograder bundles in Podman containers (the other engine; groundwork).

Standard library only: every step is one ``podman`` command, run with ``CONTAINERS_CONF``
pointing at ``grading/containers.conf`` (no default ulimits, runc: see that file for why).
Needs rootful Podman (the worker is root), the ``containers`` range in /etc/subuid and
/etc/subgid (``--userns=auto``) and a base image from ``bin/build-base-image``; all of that is
installed by ``bin/system-packages``.

The model is Gradescope's: one image per autograder version, built from the base image by
:func:`build_bundle_image` (the bundle at ``/autograder/source``, ``run_autograder`` copied to
``/autograder/run_autograder``, ``setup.sh`` run as root with network, so ``apt-get install``
and ``pip install`` work), then one fresh container per submission, :func:`run_in_container`,
with the job folder's submission and metadata mounted read-only and its results folder
writable; ``run_autograder`` runs as root inside, from ``/autograder``.

Compared with the bubblewrap engine (:mod:`grading.sandbox.runner`):

* Memory is limited per container (cgroup ``--memory`` = ``--memory-swap``), not per process.
  A run the OOM killer touched reads as ``limit_hit == "memory"``, even when only a child was
  killed and ``run_autograder`` carried on: Podman 4.3 on our cgroup-v1 hosts never sets
  OOMKilled, but conmon 2.1 (not given a persist dir by that Podman) writes an empty ``oom``
  file into its working folder on the OOM event, so each run starts podman in a fresh
  folder and looks for it. Exit status 137 under a memory limit also counts as memory.
* Processes: ``--pids-limit`` per container. CPU: ``--cpus`` (a share of the machine) plus
  RLIMIT_CPU per process from ``Limits.cpu_seconds``.
* Root inside is an unprivileged uid range outside (``--userns=auto``, a fresh range per
  container), with Podman's default capabilities and seccomp profile, so the grader can
  ``runuser`` to a student user as Gradescope advises. The mounted job folders are chowned to
  that range (``:U``); read results with :func:`~grading.sandbox.layout.read_results`.
* Not contained: disk use of the container's writable layer (no quota on overlay here); the
  build step's network is the default Podman bridge (the host's outside network, not its
  loopback).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from grading.sandbox.errors import JobFolderError, SandboxUnavailable
from grading.sandbox.layout import AUTOGRADER, METADATA_FILE, RUN_AUTOGRADER, SETUP_SH
from grading.sandbox.limits import Limits
from grading.sandbox.output import OutputReader
from grading.sandbox.result import MEMORY, SandboxResult, classify_limit

# Module-level so that tests and unusual hosts can point elsewhere: read at every call.
PODMAN = "podman"
CONTAINERS_CONF = Path(__file__).resolve().parent.parent / "containers.conf"
# Every container this module starts carries this label (to find strays after a crash).
LABEL = "portal.grading=1"
# A job's containers carry its name under this label (see remove_job_containers).
JOB_LABEL = "portal.job"
# Every bundle image this module commits carries this label (see prune_bundle_images).
BUNDLE_LABEL = "portal.bundle"
# Where GPU device nodes, CDI specs and the driver's libraries are looked for (tests point
# these at a fake tree).
DEV = Path("/dev")
CDI_DIRS = (Path("/etc/cdi"), Path("/var/run/cdi"))
DRIVER_LIB_DIRS = (Path("/usr/lib/x86_64-linux-gnu"), Path("/usr/lib64"), Path("/usr/lib"))
DRIVER_LIB_PREFIXES = ("libcuda.so", "libnvidia-", "libnvcuvid.so")

_BUILD_LOG_BYTES = 2_000_000
# Exit statuses that come from podman itself, not from the container's command.
_PODMAN_ERROR = 125


@dataclass(frozen=True)
class BuildResult:
    """The outcome of :func:`build_bundle_image`.

    ok
        ``setup.sh`` exited with status 0 within the time limit and the image was committed.
    log
        Everything the steps printed (``setup.sh``'s output and podman's errors), capped at
        about 2 MB (the start and the end kept).
    image
        The tag given, when ``ok``; ``None`` otherwise (nothing is tagged then).
    duration_s
        Wall-clock seconds for the whole build.
    """

    ok: bool
    log: str
    image: str | None = None
    duration_s: float = 0.0


def podman_env() -> dict[str, str]:
    """The environment for podman commands: the worker's, with our containers.conf."""
    env = dict(os.environ)
    env["CONTAINERS_CONF"] = str(CONTAINERS_CONF)
    return env


def _podman(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """One short podman command, output captured (never raises for its exit status)."""
    try:
        return subprocess.run(
            [PODMAN, *args],
            env=podman_env(),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=timeout,
            check=False,
        )
    except FileNotFoundError as exc:
        raise SandboxUnavailable(f"podman is not installed ({PODMAN}): {exc}") from exc
    except subprocess.TimeoutExpired as exc:
        raise SandboxUnavailable(f"podman {args[0]} took longer than {timeout} s") from exc


_available: set[str] = set()


def check_available() -> None:
    """Raise :class:`SandboxUnavailable` unless podman answers here (no container started).
    A yes is remembered per process (and podman path); a no is asked again next time."""
    if PODMAN in _available:
        return
    done = _podman("version", "--format", "{{.Client.Version}}", timeout=30)
    if done.returncode != 0:
        raise SandboxUnavailable(f"podman does not work here: {done.stderr.strip()}")
    _available.add(PODMAN)


def image_exists(image: str) -> bool:
    return _podman("image", "exists", image, timeout=30).returncode == 0


def _container_name(prefix: str) -> str:
    return f"portal-{prefix}-{uuid.uuid4().hex[:12]}"


def _remove(name: str) -> None:
    _podman("rm", "--force", "--ignore", "--time", "0", name, timeout=60)


def _attached(
    args: Sequence[str], *, name: str, wall_seconds: float, cap: int, cwd: str | None = None
) -> _Attached:
    """Run a podman command that attaches to container ``name``; kill it at the deadline."""
    read_fd, write_fd = os.pipe()
    started = time.monotonic()
    try:
        proc = subprocess.Popen(
            [PODMAN, *args],
            env=podman_env(),
            stdin=subprocess.DEVNULL,
            stdout=write_fd,
            stderr=write_fd,
            start_new_session=True,
            cwd=cwd,
        )
    except FileNotFoundError as exc:
        os.close(read_fd)
        os.close(write_fd)
        raise SandboxUnavailable(f"podman is not installed ({PODMAN}): {exc}") from exc
    os.close(write_fd)
    reader = OutputReader(read_fd, cap)
    reader.start()
    timed_out = False
    try:
        proc.wait(timeout=wall_seconds)
    except subprocess.TimeoutExpired:
        timed_out = True
        # SIGKILL to the container's PID 1: the PID namespace takes every process with it.
        _podman("kill", "--signal", "KILL", name, timeout=60)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    duration = time.monotonic() - started
    reader.join(timeout=10)
    os.close(read_fd)
    return _Attached(proc.returncode, timed_out, reader, duration)


@dataclass
class _Attached:
    returncode: int
    timed_out: bool
    reader: OutputReader
    duration_s: float


def _limit_args(limits: Limits, cpus: float | None) -> list[str]:
    """Podman options for ``limits`` (cgroups per container, rlimits per process)."""
    args = [f"--pids-limit={limits.max_processes}"]
    if limits.memory_mb is not None:
        args += [f"--memory={limits.memory_mb}m", f"--memory-swap={limits.memory_mb}m"]
    if cpus is not None:
        args.append(f"--cpus={cpus:g}")
    cpu = max(1, int(limits.cpu_limit + 0.999))
    fsize = limits.max_file_mb * 1024 * 1024
    # Naming any --ulimit makes podman add nofile and nproc at values above the worker's hard
    # limits, which root without CAP_SYS_RESOURCE may not set: name both, at or below them.
    args += [
        f"--ulimit=cpu={cpu}:{cpu + 1}",
        f"--ulimit=fsize={fsize}:{fsize}",
        f"--ulimit=nofile={limits.max_open_files}:{limits.max_open_files}",
        f"--ulimit=nproc={limits.max_processes}:{limits.max_processes}",
        "--ulimit=core=0:0",
        f"--tmpfs=/tmp:rw,nosuid,nodev,size={limits.tmp_mb}m",
        f"--shm-size={limits.tmp_mb}m",
    ]
    return args


def build_bundle_image(
    bundle_dir: Path,
    tag: str,
    base: str,
    *,
    wall_seconds: float = 1800,
    limits: Limits | None = None,
    network: bool = True,
) -> BuildResult:
    """Build the image an autograder version runs in, without a Containerfile.

    A container is created from ``base``; the bundle is copied to ``/autograder/source`` and
    its ``run_autograder`` to ``/autograder/run_autograder`` (both made executable);
    ``bash -e /autograder/source/setup.sh`` runs in ``/autograder/source`` as root (errexit
    whether or not the script says ``set -e``: a failing command fails the build), with the
    default Podman network when ``network`` (for ``apt-get``/``pip``); when it exits with
    status 0 within ``wall_seconds`` the container is committed as ``tag``. Bundles without
    ``setup.sh`` are committed as they are. ``limits`` (memory, processes) apply to the setup
    run when given; its ``wall_seconds`` is not used (``wall_seconds`` is).

    Never raises for what ``setup.sh`` does (the result says); raises
    :class:`SandboxUnavailable` when podman is missing and :class:`JobFolderError` for a
    bundle without ``run_autograder``.
    """
    started = time.monotonic()
    bundle_dir = Path(bundle_dir)
    if not (bundle_dir / RUN_AUTOGRADER).is_file():
        raise JobFolderError(f"{bundle_dir} has no {RUN_AUTOGRADER}")
    name = _container_name("build")
    log: list[str] = []

    def failed(step: str, output: str) -> BuildResult:
        log.append(f"[{step} failed]\n{output}")
        return BuildResult(False, "\n".join(log), None, time.monotonic() - started)

    with tempfile.TemporaryDirectory(prefix="portal-bundle-") as stage:
        autograder = Path(stage) / AUTOGRADER
        shutil.copytree(bundle_dir, autograder / "source", symlinks=True)
        shutil.copy2(bundle_dir / RUN_AUTOGRADER, autograder / RUN_AUTOGRADER)
        for script in (autograder / RUN_AUTOGRADER, autograder / "source" / RUN_AUTOGRADER):
            script.chmod(0o755)
        (autograder / "results").mkdir()
        (autograder / "submission").mkdir()
        has_setup = (autograder / "source" / SETUP_SH).is_file()
        # errexit even without ``set -e`` in the script: a command that fails (apt-get
        # install of a missing package, say) fails the build instead of going unnoticed.
        command = ["bash", "-e", f"/{AUTOGRADER}/source/{SETUP_SH}"] if has_setup else ["true"]
        create = [
            "create",
            f"--name={name}",
            f"--label={LABEL}",
            "--pull=never",
            f"--network={'bridge' if network else 'none'}",
            f"--workdir=/{AUTOGRADER}/source",
            "--env=DEBIAN_FRONTEND=noninteractive",
        ]
        if limits is not None:
            create += _limit_args(limits, None)
        try:
            done = _podman(*create, base, *command)
            if done.returncode != 0:
                return failed("podman create", done.stderr)
            done = _podman("cp", str(autograder), f"{name}:/")
            if done.returncode != 0:
                return failed("podman cp", done.stderr)
            run = _attached(
                ["start", "--attach", name],
                name=name,
                wall_seconds=wall_seconds,
                cap=_BUILD_LOG_BYTES,
                cwd=stage,  # conmon may leave an "oom" file there
            )
            log.append(run.reader.text())
            if run.timed_out:
                return failed("setup.sh", f"stopped after the time limit of {wall_seconds:g} s")
            if run.returncode != 0:
                return failed("setup.sh", f"exit status {run.returncode}")
            done = _podman(
                "commit",
                "--quiet",
                f"--change=WORKDIR /{AUTOGRADER}",
                '--change=CMD ["/autograder/run_autograder"]',
                "--change=ENV DEBIAN_FRONTEND=",
                f"--change=LABEL {BUNDLE_LABEL}=1",
                name,
                tag,
                timeout=600,
            )
            if done.returncode != 0:
                return failed("podman commit", done.stderr)
        finally:
            _remove(name)
    return BuildResult(True, "\n".join(log), tag, time.monotonic() - started)


def run_in_container(
    image: str,
    job_root: Path,
    limits: Limits,
    network: bool = False,
    *,
    cpus: float | None = 1.0,
    env: Mapping[str, str] | None = None,
    gpus: Sequence[str] = (),
    job: str = "",
    retry: bool = False,
) -> SandboxResult:
    """Run ``/autograder/run_autograder`` of ``image`` for a job made by ``prepare_job``.

    Mounted from ``job_root/autograder``: ``submission`` (read-only) at
    ``/autograder/submission``, ``submission_metadata.json`` (read-only) and ``results``
    (writable) at ``/autograder/results``; the rest of ``/autograder`` is the image's. These
    three are chowned to the container's uid range. No network unless ``network``
    (``--network=none``); ``limits`` as cgroups and rlimits (see :func:`_limit_args`), ``cpus``
    a share of the machine's CPUs (``None``: no CPU quota), ``env`` extra variables, ``gpus``
    the host's GPU indexes this container may use (see :func:`gpu_args`; none by default),
    ``job`` a name for the job (its containers carry it); with ``retry`` the run first removes
    any container an earlier run under that name left (its worker was killed, say).
    The image is mounted read-only; ``/autograder`` is a tmpfs of ``limits.disk_mb`` holding
    a copy of the image's, and HOME, ``/tmp`` and ``/var/tmp`` are tmpfs of ``limits.tmp_mb``.

    The wall-clock limit SIGKILLs the container; the result then has ``timed_out``. A run the
    OOM killer ended (or that exits with 137 under a memory limit) has ``limit_hit ==
    "memory"``. Never raises for what the grader or the student's code does; raises
    :class:`SandboxUnavailable` when podman cannot start the container (image missing, engine
    broken) and :class:`JobFolderError` for a job folder without its parts.
    """
    autograder = Path(job_root) / AUTOGRADER
    submission = autograder / "submission"
    metadata = autograder / METADATA_FILE
    results = autograder / "results"
    for path in (submission, results):
        if not path.is_dir() or path.is_symlink():
            raise JobFolderError(f"{path} is not a folder")
    if not metadata.is_file() or metadata.is_symlink():
        raise JobFolderError(f"{metadata} is not a file")
    name = _container_name("job")
    if job and retry:
        # An earlier attempt of the same job whose worker was killed may still be running.
        remove_job_containers(job)
    args = [
        "run",
        f"--name={name}",
        f"--label={LABEL}",
        f"--label={JOB_LABEL}={job}",
        # Nothing inside gains privileges through set-id programs (su, sudo): root inside can
        # still drop to another user (runuser), as Gradescope's isolation advice does.
        "--security-opt=no-new-privileges",
        # A backstop the engine enforces itself (conmon), should the worker that kills at the
        # wall clock die first: the container never outlives its limit by more than a minute.
        f"--timeout={int(limits.wall_seconds) + 60}",
        "--pull=never",
        "--userns=auto",
        f"--network={'bridge' if network else 'none'}",
        "--hostname=autograder",
        f"--workdir=/{AUTOGRADER}",
        "--log-driver=none",
        # The image is read-only; what a grader writes goes to size-limited tmpfs: a copy of
        # the image's /autograder (source, run_autograder, what setup.sh left there), HOME,
        # /tmp and /var/tmp. Filling them is "No space left on device", not a full host disk.
        "--read-only",
        f"--mount=type=tmpfs,destination=/{AUTOGRADER},tmpfs-size={limits.disk_mb}m,"
        "tmpfs-mode=0755,tmpcopyup",
        f"--tmpfs=/root:rw,nosuid,nodev,size={limits.tmp_mb}m,mode=0700",
        f"--tmpfs=/var/tmp:rw,nosuid,nodev,size={limits.tmp_mb}m",
        f"--volume={submission}:/{AUTOGRADER}/submission:ro,U",
        f"--volume={metadata}:/{AUTOGRADER}/{METADATA_FILE}:ro,U",
        f"--volume={results}:/{AUTOGRADER}/results:rw,U",
        *_limit_args(limits, cpus),
        *gpu_args(gpus),
    ]
    for key, value in (env or {}).items():
        if gpus and key == "CUDA_VISIBLE_DEVICES":
            continue  # the container sees only its own GPUs, numbered from 0
        args.append(f"--env={key}={value}")
    args += [image, f"/{AUTOGRADER}/{RUN_AUTOGRADER}"]
    with tempfile.TemporaryDirectory(prefix="portal-conmon-") as conmon_cwd:
        try:
            run = _attached(
                args,
                name=name,
                wall_seconds=limits.wall_seconds,
                cap=limits.max_output_bytes,
                cwd=conmon_cwd,
            )
            output = run.reader.text()
            state = _state(name)
        finally:
            _remove(name)
        oom = (Path(conmon_cwd) / "oom").exists()
    if state is None and not run.timed_out:
        # The container was never made: podman's own error (image missing, bad option).
        raise SandboxUnavailable(f"podman could not start the container: {output.strip()}")
    if run.returncode == _PODMAN_ERROR and state is not None and state.get("Status") == "created":
        # Made but never started (the runtime refused it): still the engine's fault.
        raise SandboxUnavailable(f"podman could not start the container: {output.strip()}")
    return _result(run, state, output, limits, oom=oom)


def _result(
    run: _Attached, state: dict[str, object] | None, output: str, limits: Limits, *, oom: bool
) -> SandboxResult:
    """The run read the shell way (128 + N is signal N); memory from the OOM flag or 137."""
    status = run.returncode
    if state is not None and isinstance(state.get("ExitCode"), int):
        status = int(state["ExitCode"])  # type: ignore[call-overload]
    if run.timed_out:
        exit_code, sig = None, 9
    elif 128 < status <= 128 + 64:
        exit_code, sig = None, status - 128
    else:
        exit_code, sig = status, None
    oom = oom or bool(state and state.get("OOMKilled"))
    if not run.timed_out and (oom or (status == 137 and limits.memory_mb is not None)):
        limit_hit: str | None = MEMORY
    else:
        limit_hit = classify_limit(
            timed_out=run.timed_out,
            signal=sig,
            output=output,
            output_truncated=run.reader.truncated,
        )
    return SandboxResult(
        exit_code=exit_code,
        signal=sig,
        timed_out=run.timed_out,
        output=output,
        output_truncated=run.reader.truncated,
        duration_s=run.duration_s,
        limit_hit=limit_hit,
        limits=limits,
        memory_scope="for the whole run",
    )


def _state(name: str) -> dict[str, object] | None:
    """The container's State (ExitCode, OOMKilled, ...), or None when there is no container."""
    done = _podman("container", "inspect", "--format", "{{json .State}}", name, timeout=60)
    if done.returncode != 0:
        return None
    try:
        state = json.loads(done.stdout)
    except ValueError:
        return None
    return state if isinstance(state, dict) else None


def gpu_args(gpus: Sequence[str]) -> list[str]:
    """Podman options that give a container exactly the host GPUs ``gpus`` (indexes, as in
    ``CUDA_VISIBLE_DEVICES``) and no other.

    Where the NVIDIA container toolkit has written a CDI spec (``/etc/cdi`` or
    ``/var/run/cdi``, ``nvidia*.yaml``/``.json``), each GPU is ``--device=nvidia.com/gpu=N``
    and the toolkit adds the driver's libraries. Otherwise the device nodes are passed by
    hand: ``/dev/nvidiaN`` of each GPU plus the shared control nodes (``nvidiactl``,
    ``nvidia-uvm``, ``nvidia-uvm-tools``, ``nvidia-modeset``), and the host driver's user-space
    libraries (``libcuda.so*``, ``libnvidia-*``) and ``nvidia-smi`` bound read-only at their
    own paths. Other GPUs' nodes are never there, whatever the code inside sets
    ``CUDA_VISIBLE_DEVICES`` to. Raises :class:`SandboxUnavailable` for a GPU the host lacks.
    """
    gpus = [g.strip() for g in gpus if g.strip()]
    if not gpus:
        return []
    for gpu in gpus:
        if not gpu.isdigit():
            raise SandboxUnavailable(f"GPU {gpu!r} is not a GPU index")
    if _has_cdi():
        return [f"--device=nvidia.com/gpu={gpu}" for gpu in gpus]
    args = []
    for gpu in gpus:
        node = DEV / f"nvidia{gpu}"
        if not node.exists():
            raise SandboxUnavailable(f"GPU {gpu} has no device node {node} on this machine")
        args.append(f"--device={node}")
    for shared in ("nvidiactl", "nvidia-uvm", "nvidia-uvm-tools", "nvidia-modeset"):
        if (DEV / shared).exists():
            args.append(f"--device={DEV / shared}")
    for lib in _driver_files():
        args.append(f"--volume={lib}:{lib}:ro")
    return args


def _has_cdi() -> bool:
    for folder in CDI_DIRS:
        if folder.is_dir() and any(
            p.name.startswith("nvidia") and p.suffix in (".yaml", ".json") for p in folder.iterdir()
        ):
            return True
    return False


def _driver_files() -> list[Path]:
    """The host driver's user-space libraries and nvidia-smi (links bound as their targets'
    copies would not resolve: each name is bound on its own)."""
    found: list[Path] = []
    for folder in DRIVER_LIB_DIRS:
        if not folder.is_dir():
            continue
        for path in sorted(folder.iterdir()):
            if path.name.startswith(DRIVER_LIB_PREFIXES) and path.exists():
                found.append(path)
    smi = shutil.which("nvidia-smi")
    if smi:
        found.append(Path(smi))
    return found


def prune_bundle_images(keep: Sequence[str], repository: str) -> list[str]:
    """Remove the bundle images this module committed (label ``portal.bundle``) in
    ``repository`` whose tag is not in ``keep``; images in use by a container stay. Returns
    the tags removed."""
    done = _podman(
        "images",
        "--filter",
        f"label={BUNDLE_LABEL}",
        "--filter",
        f"reference={repository}",
        "--format",
        "{{.Repository}}:{{.Tag}}",
        timeout=60,
    )
    if done.returncode != 0:
        return []
    wanted = {_full_tag(tag) for tag in keep}
    removed = []
    for tag in sorted(set(done.stdout.split())):
        if tag.endswith(":<none>") or _full_tag(tag) in wanted:
            continue
        if _podman("rmi", tag, timeout=120).returncode == 0:
            removed.append(tag)
    return removed


def _full_tag(tag: str) -> str:
    return tag if "/" in tag.split(":", 1)[0] else f"localhost/{tag}"


@contextmanager
def job_folder(job_root: Path, size_mb: int) -> Iterator[Path]:
    """``job_root`` as a fresh tmpfs of ``size_mb`` while the block runs (the submission,
    metadata and results a container sees live there, so a run cannot fill the host's disk
    through them); unmounted and removed afterwards. Where mounting is not permitted the
    folder is a plain one (and the disk is not bounded)."""
    job_root = Path(job_root)
    job_root.mkdir(parents=True, exist_ok=False)
    done = subprocess.run(
        [
            "mount",
            "-t",
            "tmpfs",
            "-o",
            f"size={size_mb}m,mode=0711,nosuid,nodev",
            "tmpfs",
            str(job_root),
        ],
        capture_output=True,
        check=False,
    )
    mounted = done.returncode == 0
    try:
        yield job_root
    finally:
        if mounted:
            subprocess.run(["umount", "--lazy", str(job_root)], capture_output=True, check=False)
        shutil.rmtree(job_root, ignore_errors=True)


def remove_job_containers(job: str) -> int:
    """Kill and remove every container of the job called ``job`` (label ``portal.job``).
    Returns how many there were."""
    done = _podman("ps", "--all", "--quiet", "--filter", f"label={JOB_LABEL}={job}", timeout=60)
    ids = done.stdout.split() if done.returncode == 0 else []
    for container in ids:
        _remove(container)
    return len(ids)
