"""The Gradescope job layout on the host, and safe reading of what the sandbox left there.

A job folder looks like this (``job_root`` is owned by root, mode 0711; everything under
``autograder`` belongs to the slot uid)::

    job_root/
      autograder/                     bound read-write at /autograder in the sandbox
        source/                       a copy of the bundle (run_autograder, setup.sh, ...)
        submission/                   the student's files
        results/                      empty; the grader writes results.json here
        submission_metadata.json

Prepare a fresh job folder for every run: student code runs as the same uid as the grader
(as on Gradescope) and may change anything under ``autograder/``.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from grading.sandbox.errors import JobFolderError, UnsafePath

AUTOGRADER = "autograder"
RESULTS_FILE = "results.json"
METADATA_FILE = "submission_metadata.json"
RUN_AUTOGRADER = "run_autograder"
SETUP_SH = "setup.sh"


def check_uid(uid: int) -> None:
    """Refuse uids that must never run student code (root, system accounts, nobody)."""
    if isinstance(uid, bool) or not isinstance(uid, int):
        raise ValueError(f"slot uid must be an int, not {uid!r}")
    if uid < 1000 or uid in (65534, 65535) or uid >= 2**31:
        raise ValueError(
            f"slot uid {uid} is not usable: use a dedicated unprivileged uid per grading slot "
            f"(for example 60001..60064), never root, a system account or nobody"
        )


def ensure_reachable(path: Path, uid: int) -> None:
    """Check that ``uid`` can traverse every folder above ``path``.

    bubblewrap runs as the slot uid and opens its bind sources as that user, so every
    ancestor needs the search (x) bit for it.
    """
    path = Path(os.path.abspath(path))
    for folder in reversed(path.parents):
        try:
            st = os.stat(folder)
        except OSError as exc:
            raise JobFolderError(f"cannot stat {folder}: {exc}") from exc
        mode = st.st_mode
        if (
            mode & stat.S_IXOTH
            or (st.st_uid == uid and mode & stat.S_IXUSR)
            or (st.st_gid == uid and mode & stat.S_IXGRP)
        ):
            continue
        raise JobFolderError(
            f"{folder} (mode {stat.filemode(mode)}) cannot be traversed by the slot uid {uid}: "
            f"bubblewrap opens {path} as that user. Keep job folders under a folder with mode "
            f"0711 (for example /var/lib/portal/jobs), or chmod o+x {folder}."
        )


def chown_tree(top: Path, uid: int, gid: int) -> None:
    """``chown -R`` without following symbolic links."""
    os.chown(top, uid, gid, follow_symlinks=False)
    for dirpath, dirnames, filenames in os.walk(top, followlinks=False):
        for name in dirnames + filenames:
            os.chown(os.path.join(dirpath, name), uid, gid, follow_symlinks=False)


def safe_relative_path(name: str) -> PurePosixPath:
    """A submission file name as a relative path that stays inside the submission folder."""
    if not isinstance(name, str) or not name or "\x00" in name:
        raise UnsafePath(f"refusing submission file name {name!r}: empty or not text")
    if "\\" in name:
        raise UnsafePath(f"refusing submission file name {name!r}: backslashes are not allowed")
    path = PurePosixPath(name)
    if path.is_absolute():
        raise UnsafePath(f"refusing submission file name {name!r}: absolute path")
    parts = [part for part in path.parts if part != "."]
    if not parts:
        raise UnsafePath(f"refusing submission file name {name!r}: names no file")
    if ".." in parts:
        raise UnsafePath(f"refusing submission file name {name!r}: '..' leaves the folder")
    return PurePosixPath(*parts)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def _make_executable(path: Path) -> None:
    if path.is_file() and not path.is_symlink():
        path.chmod(path.stat().st_mode | 0o755)


def prepare_job(
    job_root: Path,
    *,
    bundle_dir: Path | None,
    submission: Iterable[tuple[str, Path | bytes]],
    metadata: Mapping[str, Any],
    uid: int | None = None,
) -> Path:
    """Create Gradescope's layout under ``job_root`` and return ``job_root/autograder``.

    ``job_root`` must not exist yet or be empty. ``bundle_dir`` is the unpacked bundle (with
    ``run_autograder`` at its top), copied to ``source``; ``None`` leaves ``source`` out (the
    container engine's image carries it). ``submission`` yields (relative name, content) pairs; the
    content is bytes or a host file to copy; names may contain folders but not '..' and may
    not be absolute (:class:`UnsafePath`). ``metadata`` becomes
    ``submission_metadata.json`` (datetimes as ISO 8601). Everything under ``autograder/`` is
    given to the slot ``uid``; ``job_root`` itself stays root's (mode 0711). Without ``uid``
    the folder stays root's until :func:`run_autograder` hands it to the uid it runs as.
    """
    if uid is not None:
        check_uid(uid)
    job_root = Path(job_root)
    if bundle_dir is not None and not (Path(bundle_dir) / RUN_AUTOGRADER).is_file():
        raise JobFolderError(f"the bundle {bundle_dir} has no {RUN_AUTOGRADER} at its top")
    files = [(safe_relative_path(name), content) for name, content in submission]

    _make_job_root(job_root, uid)
    autograder = job_root / AUTOGRADER
    autograder.mkdir(mode=0o700)
    if bundle_dir is not None:
        _copy_bundle(Path(bundle_dir), autograder / "source")
    _write_submission(autograder / "submission", files)
    (autograder / "results").mkdir()
    (autograder / METADATA_FILE).write_text(
        json.dumps(dict(metadata), indent=2, default=_json_default), encoding="utf-8"
    )
    if uid is not None:
        chown_tree(autograder, uid, uid)
    return autograder


def _make_job_root(job_root: Path, uid: int | None) -> None:
    """An empty ``job_root`` (made if missing), root's, only traversable by others."""
    if job_root.is_symlink():
        raise JobFolderError(f"{job_root} is a symbolic link: prepare a fresh job folder")
    job_root.mkdir(parents=True, exist_ok=True)
    if any(job_root.iterdir()):
        raise JobFolderError(f"{job_root} is not an empty folder: prepare a fresh job folder")
    job_root.chmod(0o711)
    if uid is not None:
        ensure_reachable(job_root, uid)


def _copy_bundle(bundle_dir: Path, source: Path) -> None:
    """The bundle, links kept as links, with its two scripts executable."""
    shutil.copytree(bundle_dir, source, symlinks=True)
    _make_executable(source / RUN_AUTOGRADER)
    _make_executable(source / SETUP_SH)


def _write_submission(
    submission_dir: Path, files: list[tuple[PurePosixPath, Path | bytes]]
) -> None:
    """The student's files under ``submission_dir``; a name given twice is refused."""
    submission_dir.mkdir()
    for relative, content in files:
        target = submission_dir.joinpath(*relative.parts)
        if target.exists() or target.is_symlink():
            raise UnsafePath(f"submission file {relative} is given twice or clashes with a folder")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError) as exc:
            raise UnsafePath(f"submission file {relative} clashes with another file") from exc
        if isinstance(content, bytes | bytearray):
            target.write_bytes(bytes(content))
        else:
            shutil.copyfile(content, target)


def make_world_readable(top: Path) -> None:
    """Give a tree to root, readable by everyone, with no set-id bits (a shared setup env)."""
    os.chown(top, 0, 0, follow_symlinks=False)
    os.chmod(top, 0o755)
    for dirpath, dirnames, filenames in os.walk(top, followlinks=False):
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            st = os.lstat(path)
            os.chown(path, 0, 0, follow_symlinks=False)
            if stat.S_ISLNK(st.st_mode):
                continue
            mode = stat.S_IMODE(st.st_mode) & ~0o7000
            if stat.S_ISDIR(st.st_mode) or mode & 0o100:
                mode |= 0o555
            else:
                mode |= 0o444
            os.chmod(path, mode)


def _open_no_follow(directory_fd: int, name: str, flags: int) -> int:
    return os.open(name, flags | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=directory_fd)


def read_results(job_root: Path, *, max_bytes: int = 10_000_000) -> bytes | None:
    """Read ``autograder/results/results.json`` without trusting what the sandbox left.

    Student code can replace results.json (or the results folder) with a symbolic link to a
    host file, a FIFO or a huge file; the worker runs as root, so a plain ``open()`` could
    read /etc/shadow into the student's feedback. This opens every component with
    O_NOFOLLOW, accepts only a regular file, and reads at most ``max_bytes``.

    Returns ``None`` when there is no such regular file. Raises :class:`JobFolderError` when
    the file is larger than ``max_bytes``.
    """
    try:
        root_fd = os.open(job_root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError as exc:
        raise JobFolderError(f"cannot open job folder {job_root}: {exc}") from exc
    fds = [root_fd]
    try:
        try:
            fds.append(_open_no_follow(fds[-1], AUTOGRADER, os.O_RDONLY | os.O_DIRECTORY))
            fds.append(_open_no_follow(fds[-1], "results", os.O_RDONLY | os.O_DIRECTORY))
            fds.append(_open_no_follow(fds[-1], RESULTS_FILE, os.O_RDONLY | os.O_NONBLOCK))
        except OSError:
            return None
        fd = fds[-1]
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return None
        if st.st_size > max_bytes:
            raise JobFolderError(f"results.json is {st.st_size} bytes (limit {max_bytes})")
        chunks: list[bytes] = []
        size = 0
        while True:
            chunk = os.read(fd, min(1 << 20, max_bytes + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
            if size > max_bytes:
                raise JobFolderError(f"results.json is larger than {max_bytes} bytes")
        return b"".join(chunks)
    finally:
        for fd in reversed(fds):
            os.close(fd)
