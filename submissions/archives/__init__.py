"""Archives checked without unpacking them: submissions' zips and tars, and autograder bundles.
Pure Python: imports no Django and nothing from the apps
(tests/submissions/test_bundle_archives.py checks); a refusal is :class:`ArchiveRefused`, which
``submissions.uploads`` turns into its ``UploadRefused`` with the same code and message.

Which file is an archive is told by its *name* (:func:`archive_kind`: ``.zip``; ``.tar``,
``.tar.gz``, ``.tgz``, ``.tar.bz2``, ``.tbz2``, ``.tar.xz``, ``.txz``); it is never
extracted: zipfile and tarfile read the same file object, members' data is decompressed in
memory in bounded chunks and thrown away. A name that says ``.zip`` must hold a zip (``PK``
at byte 0); a tar-family name may hold a plain, gzip, bzip2 or xz tar whatever its suffix
says (compression is told by magic bytes, the way ``tar -xf`` does).

The rules (all ``invalid_file`` unless noted; numbers from :class:`ArchiveLimits`):

* every member path relative and inside the archive: no ``..`` component, no leading ``/`` or
  ``\\`` (UNC), no drive letter (``C:``); ``\\`` counts as a separator, so ``..\\..\\x`` is
  traversal too; ``./`` prefixes and empty components are dropped;
* no control characters (Unicode ``Cc``), undecodable bytes, line/paragraph separators or
  bidirectional overrides in member names (``exe\\u202etxt.py`` disguises itself);
* at most ``max_depth`` path components (``a/b/c.py`` is 3), each at most
  ``max_name_length`` UTF-8 bytes;
* only regular files and folders: no symbolic links, hard links, devices, FIFOs, sparse
  files; a zip member's Unix mode (``external_attr >> 16``) is read whatever system made it;
* no duplicate paths after normalisation (NFC, ``./`` dropped, ``\\`` as ``/``), and no path
  that is both a file and a folder; comparison is case-sensitive (the sandbox is Linux);
* at most ``max_members`` entries (for a zip also checked from the end-of-central-directory
  record *before* zipfile parses the directory, so a huge directory is not loaded);
* declared uncompressed total at most ``max_uncompressed_bytes`` (``file_too_large``: a big
  dataset is "too large", not "invalid");
* compression ratio at most ``max_ratio``, per zip member and for the whole archive, once the
  uncompressed size passes ``ratio_grace_bytes`` (a small, very repetitive file is normal;
  Apache POI's zip-bomb guard works the same way);
* the *actual* bytes: every zip member's raw data is inflated independently of zipfile with
  an output budget of its declared size + 1, so a header that under-states the size is caught
  even when its CRC was forged to match the truncated data (Python's zipfile would silently
  truncate; ``unzip`` would not); the CRC is checked; local and central names must agree;
  entries must not overlap; a tar's decompressed stream is read through a byte budget
  (uncompressed limit and ratio) and to its end, so gzip/bzip2/xz integrity is checked; any
  single read of tar header data (GNU long names, pax records) is capped at 1 MiB;
* no encrypted zip members; only stored, deflate and bzip2 zip members (LZMA, Deflate64 and
  others are refused: they cannot be checked with a bounded budget here);
* a damaged archive (bad directory, bad CRC, truncated stream, junk where a tar header should
  be) is refused; so is an archive with no files at all (an empty ``.zip`` is almost always a
  mistake, better told now than by a zero from the autograder).

Nested archives (a zip inside a zip) are not opened: they are opaque members.

Modules: ``refusal`` (ArchiveRefused, codes, message words), ``limits``, ``paths`` (name
characters, the catalogue of paths), ``inspector`` (one archive being checked, every
refusal), ``zip`` and ``inflate``, ``tar``, ``check`` (the entry point for one upload) and
``bundle`` (autograder bundles: :func:`check_bundle_archive`).
"""

from submissions.archives.bundle import (
    BUNDLE_ENTRY_POINT,
    BUNDLE_LIMITS,
    MAX_BUNDLE_BYTES,
    check_bundle_archive,
)
from submissions.archives.check import archive_kind, inspect_archive, seekable
from submissions.archives.limits import ArchiveLimits
from submissions.archives.refusal import FILE_TOO_LARGE, INVALID_FILE, KB, MB, ArchiveRefused

__all__ = [
    "BUNDLE_ENTRY_POINT",
    "BUNDLE_LIMITS",
    "FILE_TOO_LARGE",
    "INVALID_FILE",
    "KB",
    "MAX_BUNDLE_BYTES",
    "MB",
    "ArchiveLimits",
    "ArchiveRefused",
    "archive_kind",
    "check_bundle_archive",
    "inspect_archive",
    "seekable",
]
