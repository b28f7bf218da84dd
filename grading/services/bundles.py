"""Writes of autograder bundles: storing a version once per content, making the course
config's version (or an instructor's upload) the active one, and the bookkeeping of setup.sh
runs on the workers."""

from __future__ import annotations

import hashlib
import io
import os
import stat
import zipfile
from pathlib import Path
from typing import IO

from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from courses.models import Assignment, Course, Enrollment, Role
from grading.models import Bundle, BundleSetup
from portal.errors import PermissionDeniedError
from submissions.archives import MAX_BUNDLE_BYTES, ArchiveRefused, check_bundle_archive
from submissions.uploads import UploadRefused

# What a student reads when their job failed because the bundle's setup.sh failed (how
# bundle_setup_retry finds the jobs to queue again).
SETUP_FAILED_MESSAGE = (
    "The autograder's setup failed, so your code could not be graded. "
    "The course staff have been told."
)


def _zip_folder(folder: Path) -> bytes:
    """A deterministic zip of a bundle folder: sorted names, fixed times, exec bits kept, so
    the same files always give the same hash."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(p for p in folder.rglob("*") if p.is_file() and not p.is_symlink()):
            rel = path.relative_to(folder).as_posix()
            if "__pycache__" in rel.split("/"):
                continue
            info = zipfile.ZipInfo(rel, date_time=(1980, 1, 1, 0, 0, 0))
            mode = 0o755 if os.access(path, os.X_OK) else 0o644
            info.external_attr = (stat.S_IFREG | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, path.read_bytes())
    return buf.getvalue()


def _bundle_bytes(path: Path) -> bytes:
    if path.is_dir():
        return _zip_folder(path)
    return path.read_bytes()


def _check_bundle_zip(data: bytes) -> None:
    """The same archive checks as a submission's (links, ``..``, absolute paths, backslashes,
    bombs, size, member count, damage), with a bundle's own limits, and ``run_autograder``
    at the top level: ``submissions.archives.check_bundle_archive``."""
    try:
        check_bundle_archive(data)
    except ArchiveRefused as refusal:
        raise UploadRefused.from_archive(refusal) from None


def _bundle_store(
    *, assignment: Assignment, data: bytes, source: str, user: User | None = None
) -> Bundle:
    """Stores a bundle version (once per content) and makes it the active one."""
    _check_bundle_zip(data)
    digest = hashlib.sha256(data).hexdigest()
    with transaction.atomic():
        Assignment.objects.select_for_update().filter(pk=assignment.pk).get()
        bundle = Bundle.objects.filter(assignment=assignment, sha256=digest).first()
        if bundle is not None and bundle.active:
            return bundle
        Bundle.objects.filter(assignment=assignment, active=True).update(active=False)
        if bundle is None:
            path = f"autograders/{assignment.course.slug}/{assignment.slug}/{digest}.zip"
            if not default_storage.exists(path):
                path = default_storage.save(path, ContentFile(data))
            bundle = Bundle.objects.create(
                assignment=assignment,
                sha256=digest,
                file=path,
                size=len(data),
                source=source,
                uploaded_by=user,
                active=True,
            )
        else:
            bundle.active = True
            bundle.save(update_fields=["active"])
    return bundle


def bundles_sync(*, course: Course) -> list[Bundle]:
    """Makes each assignment's active bundle the one its config names (run after
    load_course). Returns the bundles that became active; one that did not change is left as
    it is, and a version staff uploaded since is kept while the config's stays the same."""
    out = []
    for assignment in course.assignments.select_related("course"):
        if assignment.autograder_bundle:
            data = _bundle_bytes(Path(assignment.autograder_bundle))
            known = Bundle.objects.filter(
                assignment=assignment, sha256=hashlib.sha256(data).hexdigest()
            ).first()
            active = active_bundle(assignment=assignment)
            if known is not None and active is not None and active.created_at >= known.created_at:
                # Unchanged; or staff uploaded a newer version since, which an unchanged
                # config keeps.
                continue
            out.append(_bundle_store(assignment=assignment, data=data, source="config"))
        else:
            Bundle.objects.filter(assignment=assignment, active=True, source="config").update(
                active=False
            )
    return out


def bundle_upload(*, enrollment: Enrollment, assignment: Assignment, fileobj: IO[bytes]) -> Bundle:
    """An instructor's new autograder version (a zip in Gradescope's layout)."""
    if enrollment.role != Role.INSTRUCTOR or enrollment.course_id != assignment.course_id:
        raise PermissionDeniedError("Only the instructor uploads autograders.")
    data = fileobj.read(MAX_BUNDLE_BYTES + 1)
    return _bundle_store(assignment=assignment, data=data, source="upload", user=enrollment.user)


def active_bundle(*, assignment: Assignment) -> Bundle | None:
    return Bundle.objects.filter(assignment=assignment, active=True).first()


def bundle_setup_start(
    *, bundle: Bundle, worker: str, engine: str = "", artifact: str = ""
) -> BundleSetup:
    """A worker machine starts building a bundle version (setup.sh): its row for staff,
    running, with an empty log and what it builds (the row of an earlier build on the same
    machine is reused)."""
    setup, _ = BundleSetup.objects.update_or_create(
        bundle=bundle,
        worker=worker,
        defaults={
            "state": BundleSetup.State.RUNNING,
            "log": "",
            "engine": engine,
            "artifact": artifact,
            "finished_at": None,
        },
    )
    return setup


def bundle_setup_finish(*, setup: BundleSetup, log_text: str, failed: bool) -> BundleSetup:
    """The end of a setup.sh run: its output for staff, done or failed."""
    setup.log = log_text.replace("\x00", "\ufffd")
    setup.state = BundleSetup.State.FAILED if failed else BundleSetup.State.DONE
    setup.finished_at = timezone.now()
    setup.save(update_fields=["state", "log", "finished_at"])
    return setup
