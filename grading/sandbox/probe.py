"""Whether sandboxes can be started on this host: the tools, root, and one trivial sandbox.

:func:`~grading.sandbox.runner.check_available` caches the answer; this module finds it.
"""

from __future__ import annotations

import os

from grading.sandbox.command import Command, Tools
from grading.sandbox.environment import base_env
from grading.sandbox.errors import SandboxUnavailable
from grading.sandbox.execute import execute
from grading.sandbox.limits import Limits

#: The uid the availability probe runs as (it starts nothing but /bin/true).
PROBE_UID = 65534

BWRAP_MISSING = (
    "bubblewrap (bwrap) is not installed: refusing to run student code unsandboxed. "
    "Install the Debian package bubblewrap."
)


def probe(tools: Tools) -> str | None:
    """Why no sandbox can be started here, or ``None`` when one can."""
    missing = _missing_tool(tools)
    if missing is not None:
        return missing
    if os.geteuid() != 0:
        return (
            "the grading worker is not running as root, so it cannot start sandboxes under a "
            "slot uid: refusing to run student code unsandboxed."
        )
    return _trial_run(tools)


def _missing_tool(tools: Tools) -> str | None:
    if not os.access(tools.bwrap, os.X_OK):
        return BWRAP_MISSING
    for tool in (tools.setpriv, tools.prlimit):
        if not os.access(tool, os.X_OK):
            return (
                f"{tool} is not installed: refusing to run student code unsandboxed. "
                f"Install the Debian package util-linux."
            )
    return None


def _trial_run(tools: Tools) -> str | None:
    """Start ``/bin/true`` in a sandbox; why that failed, or ``None``."""
    command = Command(
        tools=tools,
        limits=Limits(wall_seconds=30, memory_mb=None),
        uid=PROBE_UID,
        network=False,
        gpu=False,
        binds=(),
        chdir="/",
        env=base_env(home="/"),
        argv=("/bin/true",),
    )
    try:
        result = execute(command, sweep=False)
    except SandboxUnavailable as exc:
        return f"{exc}. Check that unprivileged user namespaces are enabled."
    if result.exit_code != 0:
        return (
            f"a trivial sandbox failed ({result.output.strip()[:500]!r}): refusing to run "
            f"student code unsandboxed."
        )
    return None
