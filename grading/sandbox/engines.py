"""The worker's one small interface to both sandboxes: make a bundle version ready to grade
with (its ``setup.sh``), then run jobs with it.

``engine("podman")`` (production): each bundle version becomes a container image, built from
a base image with ``setup.sh`` run as root with network (:mod:`~grading.sandbox.podman`); every
job runs in a fresh container of it. ``engine("bubblewrap")`` (the demo, hosts without an
engine): ``setup.sh`` builds a shared folder as the slot's uid, and every job runs under
bubblewrap with it (:mod:`~grading.sandbox.runner`).

The worker names what it needs in a :class:`BuildSpec` and a :class:`RunSpec`; the engine
names the thing it builds (:meth:`Engine.artifact`: an image tag, or the setup folder), says
whether it is there (:meth:`Engine.is_built`), builds it (:meth:`Engine.build`), gives a job
folder (:meth:`Engine.job_folder`), runs (:meth:`Engine.run`) and prunes what is no longer
needed (:meth:`Engine.prune`). Standard library only.
"""

from __future__ import annotations

import hashlib
import shutil
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from grading.sandbox import podman, runner
from grading.sandbox.errors import SandboxUnavailable
from grading.sandbox.layout import SETUP_SH
from grading.sandbox.limits import Limits
from grading.sandbox.result import SandboxResult, describe

ENGINES = ("podman", "bubblewrap")
# The portal's own base image (bin/build-base-image tags it :latest).
DEFAULT_IMAGE = "portal-autograder-base:latest"
BUNDLE_REPOSITORY = "localhost/portal-bundle"


@dataclass(frozen=True)
class BuildSpec:
    """One bundle version to make ready: its unpacked files (``source``), its content hash,
    the base image (container engine; ``""`` for the default), whether ``setup.sh`` has
    network, its time limit, and ``root``: this machine's folder for the version."""

    source: Path
    sha256: str
    root: Path
    image: str = ""
    network: bool = True
    wall_seconds: float = 1800
    uid: int | None = None


@dataclass(frozen=True)
class Built:
    """How a build ended: ``ok``, the log staff read, what was built, how long it took."""

    ok: bool
    log: str
    artifact: str
    duration_s: float = 0.0
    error: str = ""


@dataclass(frozen=True)
class RunSpec:
    """One job's run: limits, the slot's uid (bubblewrap), extra environment, the network,
    a CPU share (container engine) and the slot's GPUs."""

    limits: Limits
    uid: int
    env: Mapping[str, str] = field(default_factory=dict)
    network: bool = False
    cpus: float | None = 1.0
    gpus: Sequence[str] = ()
    # The job's name (the same for each of its attempts), and whether an earlier attempt
    # ran: a container engine then first removes what that attempt may have left running.
    job: str = ""
    retry: bool = False


class Engine(Protocol):
    name: str

    def check_available(self) -> None: ...

    def artifact(self, spec: BuildSpec) -> str: ...

    def is_built(self, artifact: str) -> bool: ...

    def build(self, spec: BuildSpec, artifact: str) -> Built: ...

    def job_folder(self, path: Path, *, size_mb: int) -> AbstractContextManager[Path]: ...

    def run(self, job_root: Path, artifact: str, spec: RunSpec) -> SandboxResult: ...

    def prune(self, keep: Sequence[str]) -> list[str]: ...


def _setup_failure(result: SandboxResult) -> str:
    return f"setup.sh failed: {describe(result)}"


class Bubblewrap:
    """``setup.sh`` into ``<root>/env`` as the slot uid (read-only system: no ``apt-get``),
    jobs under bubblewrap with that folder at ``/autograder/env``."""

    name = "bubblewrap"

    def check_available(self) -> None:
        runner.check_available()

    def artifact(self, spec: BuildSpec) -> str:
        return str(spec.root / "env")

    def is_built(self, artifact: str) -> bool:
        return (Path(artifact).parent / "setup-done").is_file()

    def build(self, spec: BuildSpec, artifact: str) -> Built:
        if spec.uid is None:
            raise ValueError("the bubblewrap engine builds as a slot uid")
        env_dir = Path(artifact)
        done = env_dir.parent / "setup-done"
        done.unlink(missing_ok=True)
        shutil.rmtree(env_dir, ignore_errors=True)
        env_dir.mkdir(parents=True)
        if not (spec.source / SETUP_SH).is_file():
            done.write_text("ok")
            return Built(True, "(no setup.sh)", artifact)
        result = runner.run_setup(
            spec.source,
            env_dir,
            limits=Limits(
                wall_seconds=spec.wall_seconds,
                memory_mb=None,
                max_file_mb=16384,  # pip installing PyTorch writes files over 1 GB
                max_processes=512,
            ),
            uid=spec.uid,
            network=spec.network,
        )
        if result.exit_code != 0 or result.timed_out:
            return Built(False, result.output, artifact, result.duration_s, _setup_failure(result))
        done.write_text("ok")
        return Built(True, result.output, artifact, result.duration_s)

    @contextmanager
    def job_folder(self, path: Path, *, size_mb: int) -> Iterator[Path]:
        shutil.rmtree(path, ignore_errors=True)
        try:
            yield path
        finally:
            shutil.rmtree(path, ignore_errors=True)

    def run(self, job_root: Path, artifact: str, spec: RunSpec) -> SandboxResult:
        return runner.run_autograder(
            job_root, limits=spec.limits, uid=spec.uid, env=spec.env, setup_env=Path(artifact)
        )

    def prune(self, keep: Sequence[str]) -> list[str]:
        """The setup folders beside those in ``keep`` (``env`` paths of bundle versions still
        in use, all under one bundles folder) whose versions are not kept."""
        if not keep:
            return []
        kept = {Path(k).parent for k in keep}
        removed = []
        for version in sorted(next(iter(kept)).parent.iterdir()):
            if version.is_dir() and version not in kept and (version / "env").exists():
                shutil.rmtree(version / "env", ignore_errors=True)
                (version / "setup-done").unlink(missing_ok=True)
                removed.append(str(version / "env"))
        return removed


class Podman:
    """An image per bundle version (and base image), a fresh container per job."""

    name = "podman"

    def check_available(self) -> None:
        podman.check_available()

    def artifact(self, spec: BuildSpec) -> str:
        base = spec.image or DEFAULT_IMAGE
        # The bundle's content and the base image: what the image is built from. (Network
        # while building is not part of it: a build that failed for want of it is retried.)
        key = hashlib.sha256(f"{spec.sha256}\n{base}".encode()).hexdigest()
        return f"{BUNDLE_REPOSITORY}:{key[:32]}"

    def is_built(self, artifact: str) -> bool:
        return podman.image_exists(artifact)

    def build(self, spec: BuildSpec, artifact: str) -> Built:
        base = spec.image or DEFAULT_IMAGE
        if not podman.image_exists(base):
            hint = " (run bin/build-base-image)" if base == DEFAULT_IMAGE else ""
            message = f"the base image {base} is not on this machine{hint}"
            return Built(False, message, artifact, 0.0, f"setup.sh could not run: {message}")
        started = time.monotonic()
        result = podman.build_bundle_image(
            spec.source, artifact, base, wall_seconds=spec.wall_seconds, network=spec.network
        )
        duration = time.monotonic() - started
        header = f"$ build of {artifact} from {base}\n"
        if not result.ok:
            last = result.log.strip().splitlines()[-1:] or ["(no output)"]
            return Built(
                False, header + result.log, artifact, duration, f"setup.sh failed: {last[0]}"
            )
        return Built(True, header + result.log, artifact, duration)

    def job_folder(self, path: Path, *, size_mb: int) -> AbstractContextManager[Path]:
        return podman.job_folder(path, size_mb)

    def run(self, job_root: Path, artifact: str, spec: RunSpec) -> SandboxResult:
        return podman.run_in_container(
            artifact,
            job_root,
            spec.limits,
            spec.network,
            cpus=spec.cpus,
            env=spec.env,
            gpus=spec.gpus,
            job=spec.job,
            retry=spec.retry,
        )

    def prune(self, keep: Sequence[str]) -> list[str]:
        return podman.prune_bundle_images(keep, BUNDLE_REPOSITORY)


def engine(name: str) -> Engine:
    """The engine called ``name`` (``podman`` or ``bubblewrap``)."""
    if name == "podman":
        return Podman()
    if name == "bubblewrap":
        return Bubblewrap()
    raise SandboxUnavailable(
        f"GRADING_SANDBOX={name!r} is not a sandbox: choose one of {', '.join(ENGINES)}"
    )
