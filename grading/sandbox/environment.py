"""Who the sandbox says it is, and the environment its programs start with.

The user name and host name it shows, the clean environment every run starts from (bwrap
clears the worker's), the variables a caller may add, and where a setup environment is
mounted. Nothing of the worker's own environment reaches the sandbox.
"""

from __future__ import annotations

from collections.abc import Mapping

SANDBOX_HOSTNAME = "autograder"
SANDBOX_USER = "autograder"
SANDBOX_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
ENV_MOUNT = "/autograder/env"
ENV_PYTHONUSERBASE = "/autograder/env/python"


def base_env(*, home: str) -> dict[str, str]:
    """The clean environment of a sandboxed program, with ``HOME`` at ``home``."""
    return {
        "PATH": SANDBOX_PATH,
        "HOME": home,
        "USER": SANDBOX_USER,
        "LOGNAME": SANDBOX_USER,
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "TMPDIR": "/tmp",
    }


def merge_env(base: dict[str, str], extra: Mapping[str, str] | None) -> dict[str, str]:
    """``base`` with the caller's variables added; refuses names and values bwrap cannot set."""
    merged = dict(base)
    for name, value in (extra or {}).items():
        if not isinstance(name, str) or not name or "=" in name or "\x00" in name:
            raise ValueError(f"bad environment variable name {name!r}")
        if not isinstance(value, str) or "\x00" in value:
            raise ValueError(f"bad value for environment variable {name}")
        merged[name] = value
    return merged


def wants_gpu(env: Mapping[str, str]) -> bool:
    """Whether ``CUDA_VISIBLE_DEVICES`` names a GPU (so the GPU devices are bound in)."""
    value = env.get("CUDA_VISIBLE_DEVICES")
    return value is not None and value.strip() not in ("", "-1", "none", "NoDevFiles")


def setup_env_vars() -> dict[str, str]:
    """``PATH`` and ``PYTHONUSERBASE`` pointing into the setup environment at :data:`ENV_MOUNT`."""
    return {
        "PATH": f"{ENV_PYTHONUSERBASE}/bin:{SANDBOX_PATH}",
        "PYTHONUSERBASE": ENV_PYTHONUSERBASE,
    }
