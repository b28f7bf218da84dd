"""What the sandbox's file system holds: bwrap's mount options, in the order bwrap applies them.

A read-only system (``/usr`` and the merged-/usr links), the few parts of ``/etc`` that
programs need plus generated ``passwd``, ``group``, ``hosts`` and ``hostname``, fresh
``/proc`` and ``/dev``, size-limited private tmpfs at ``/tmp`` and ``/dev/shm``, and the GPU
devices for a GPU run. The job's own folders are bound by the caller
(:class:`~grading.sandbox.command.Command`'s ``binds``).
"""

from __future__ import annotations

import glob
import os

from grading.sandbox.environment import SANDBOX_HOSTNAME, SANDBOX_USER

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

_HOSTS = (
    f"127.0.0.1\tlocalhost {SANDBOX_HOSTNAME}\n::1\tlocalhost ip6-localhost ip6-loopback\n"
).encode()


def system_args() -> list[str]:
    """The read-only system: ``/usr``, and ``/bin``, ``/lib``... as links or read-only binds."""
    args: list[str] = []
    for folder in SYSTEM_DIRS:
        args += ["--ro-bind", folder, folder]
    for top in SYSTEM_TOP_LINKS:
        if os.path.islink(top):
            args += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            args += ["--ro-bind", top, top]
    return args


def etc_args() -> list[str]:
    """The entries of :data:`ETC_ENTRIES` that exist on this host, bound read-only."""
    args: list[str] = []
    for entry in ETC_ENTRIES:
        for path in sorted(glob.glob(os.path.join("/etc", entry))):
            args += ["--ro-bind-try", path, path]
    return args


def generated_etc_files(uid: int) -> list[tuple[bytes, str]]:
    """(content, path) of the files written into the sandbox's ``/etc`` for the slot ``uid``."""
    return [
        (_passwd(uid), "/etc/passwd"),
        (_group(uid), "/etc/group"),
        (_HOSTS, "/etc/hosts"),
        (f"{SANDBOX_HOSTNAME}\n".encode(), "/etc/hostname"),
    ]


def _passwd(uid: int) -> bytes:
    return (
        "root:x:0:0:root:/root:/usr/sbin/nologin\n"
        f"{SANDBOX_USER}:x:{uid}:{uid}:Autograder:/autograder:/bin/bash\n"
        "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
    ).encode()


def _group(uid: int) -> bytes:
    return f"root:x:0:\n{SANDBOX_USER}:x:{uid}:\nnogroup:x:65534:\n".encode()


def resolver_args() -> list[str]:
    """The host's resolver configuration, for a run that shares the worker's network."""
    return ["--ro-bind-try", "/etc/resolv.conf", "/etc/resolv.conf"]


def scratch_args(tmp_mb: int) -> list[str]:
    """Fresh ``/proc`` and ``/dev``, and private tmpfs of ``tmp_mb`` MiB at ``/tmp`` and
    ``/dev/shm``."""
    tmp_bytes = str(tmp_mb * 1024 * 1024)
    args = ["--proc", "/proc", "--dev", "/dev"]
    args += ["--size", tmp_bytes, "--tmpfs", "/tmp"]
    args += ["--size", tmp_bytes, "--tmpfs", "/dev/shm"]
    return args


def gpu_args() -> list[str]:
    """Every ``/dev/nvidia*`` device of the host (the slot's GPU is chosen by
    ``CUDA_VISIBLE_DEVICES``)."""
    args: list[str] = []
    for device in sorted(glob.glob("/dev/nvidia*")):
        args += ["--dev-bind", device, device]
    return args
