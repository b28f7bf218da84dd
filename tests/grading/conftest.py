from __future__ import annotations

import io
import zipfile

import pytest

from grading.models import Bundle
from grading.services import _bundle_store

RUN_AUTOGRADER = b"""#!/usr/bin/env bash
echo '{"score": 1, "tests": [{"name": "t", "score": 1, "max_score": 1}]}' > /autograder/results/results.json
"""


def bundle_zip(
    run_autograder: bytes = RUN_AUTOGRADER, extra: dict[str, bytes] | None = None
) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        info = zipfile.ZipInfo("run_autograder")
        info.external_attr = 0o755 << 16
        zf.writestr(info, run_autograder)
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return buf.getvalue()


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


@pytest.fixture
def make_bundle(media):
    def make(assignment, run_autograder: bytes = RUN_AUTOGRADER) -> Bundle:
        return _bundle_store(
            assignment=assignment, data=bundle_zip(run_autograder), source="upload"
        )

    return make
