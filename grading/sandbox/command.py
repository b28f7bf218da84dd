"""The prlimit → setpriv → bwrap command line of one run, and the descriptors it hands over.

:class:`Command` builds the chain described in :mod:`grading.sandbox.runner`: prlimit sets
the limits (still root), setpriv drops to the slot uid, bwrap builds the sandbox
(:mod:`grading.sandbox.mounts`) and starts a small shell shim that reports "started" through
a pipe before it becomes the real program. Generated files and bwrap's own options travel
through pipes whose read ends the child inherits.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

from grading.sandbox import mounts
from grading.sandbox.environment import SANDBOX_HOSTNAME
from grading.sandbox.limits import Limits

#: bwrap's options go through a pipe when they fit its buffer.
_MAX_PIPED_OPTIONS = 60_000

#: A host folder bound into the sandbox: (bwrap option, host path, path inside).
Bind = tuple[str, Path, str]


class Tools(NamedTuple):
    """Where the host's bwrap, setpriv and prlimit are."""

    bwrap: str
    setpriv: str
    prlimit: str


def _pipe_with_data(data: bytes) -> int:
    """A pipe's read end already holding ``data`` (small: it must fit the pipe buffer)."""
    read_fd, write_fd = os.pipe()
    try:
        os.write(write_fd, data)
    finally:
        os.close(write_fd)
    return read_fd


def _namespace_args(*, network: bool) -> list[str]:
    """New namespaces for everything (the worker's network too, unless ``network``)."""
    args = ["--unshare-user", "--unshare-all"]
    if network:
        args.append("--share-net")
    args += ["--disable-userns", "--die-with-parent", "--new-session"]
    args += ["--hostname", SANDBOX_HOSTNAME]
    return args


def _bind_args(binds: Sequence[Bind]) -> list[str]:
    args: list[str] = []
    for option, source, dest in binds:
        args += [option, str(source), dest]
    return args


def _start_args(*, chdir: str, env: Mapping[str, str]) -> list[str]:
    """Seal the root read-only, then the working folder and the clean environment."""
    args = ["--remount-ro", "/", "--chdir", chdir, "--clearenv"]
    for name, value in env.items():
        args += ["--setenv", name, value]
    return args


def _shim(started_write: int, argv: Sequence[str]) -> list[str]:
    """Tell the worker that the sandbox is up (before any untrusted code runs), close that
    descriptor, and become the real program."""
    shim = f'printf x >&{started_write} && exec {started_write}>&- && exec "$@"'
    return ["--", "/bin/bash", "-c", shim, "autograder-start", *argv]


class Command:
    """The prlimit → setpriv → bwrap command line and the descriptors it inherits."""

    def __init__(
        self,
        *,
        tools: Tools,
        limits: Limits,
        uid: int,
        network: bool,
        gpu: bool,
        binds: Sequence[Bind],
        chdir: str,
        env: Mapping[str, str],
        argv: Sequence[str],
    ) -> None:
        self.tools = tools
        self.limits = limits
        self.uid = uid
        self.child_fds: list[int] = []  # closed in the worker once the child has them
        started_read, started_write = os.pipe()
        self.started_fd = started_read
        self.child_fds.append(started_write)
        try:
            options = self._bwrap_options(network=network, gpu=gpu, binds=binds)
            options += _start_args(chdir=chdir, env=env)
            self.args = self._command_line(options, _shim(started_write, argv))
        except BaseException:
            self.close_child_fds()
            os.close(self.started_fd)
            raise

    def _bwrap_options(self, *, network: bool, gpu: bool, binds: Sequence[Bind]) -> list[str]:
        """bwrap's namespaces and mounts, in the order it applies them."""
        args = _namespace_args(network=network) + mounts.system_args() + mounts.etc_args()
        for data, dest in mounts.generated_etc_files(self.uid):
            args += ["--ro-bind-data", str(self._pass_data(data)), dest]
        if network:
            args += mounts.resolver_args()
        args += mounts.scratch_args(self.limits.tmp_mb)
        if gpu:
            args += mounts.gpu_args()
        return args + _bind_args(binds)

    def _launcher(self) -> list[str]:
        """prlimit with the run's limits, then setpriv down to the slot uid."""
        uid = self.uid
        prlimit = [self.tools.prlimit, *self.limits.prlimit_args(), "--"]
        setpriv = [self.tools.setpriv, f"--reuid={uid}", f"--regid={uid}", "--clear-groups"]
        return prlimit + setpriv + ["--no-new-privs", "--"]

    def _command_line(self, options: list[str], command: list[str]) -> list[str]:
        # bwrap's options go through a pipe (--args), so that the sandbox's view of its PID 1
        # command line does not show host paths.
        packed = b"".join(arg.encode() + b"\0" for arg in options)
        if len(packed) < _MAX_PIPED_OPTIONS:  # must fit in the pipe buffer
            fd = self._pass_data(packed)
            return [*self._launcher(), self.tools.bwrap, "--args", str(fd), *command]
        return [*self._launcher(), self.tools.bwrap, *options, *command]

    def _pass_data(self, data: bytes) -> int:
        """A descriptor the child inherits, reading ``data``."""
        fd = _pipe_with_data(data)
        self.child_fds.append(fd)
        return fd

    def close_child_fds(self) -> None:
        """Close the worker's copies of the child's descriptors."""
        for fd in self.child_fds:
            with contextlib.suppress(OSError):
                os.close(fd)
        self.child_fds = []

    def sandbox_started(self) -> bool:
        """Whether the shim reported that the sandbox was set up (reads it once)."""
        os.set_blocking(self.started_fd, False)
        try:
            return os.read(self.started_fd, 16).startswith(b"x")
        except BlockingIOError:
            return False
        finally:
            os.close(self.started_fd)
