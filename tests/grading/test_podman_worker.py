"""The worker with ``GRADING_SANDBOX=podman`` against a real Podman: a bundle version becomes
an image once per machine (setup.sh as root: apt-get and pip), each job runs in a fresh
container of it, stdout is kept and shown as stdout_visibility says, previous submissions'
results reach the grader, a failing setup.sh (with or without ``set -e``) fails the build
with its log for staff until they retry, and old images are pruned.

Runs where rootful ``podman`` is on PATH (``bin/system-packages``); builds the base image with
``bin/build-base-image`` when it is missing (about a minute)."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from grading import selectors, services, worker
from grading.models import Bundle, BundleSetup, GradingJob, JobState
from grading.sandbox import podman
from grading.slots import Slot
from submissions.services import submission_create
from tests.grading.conftest import bundle_zip

pytestmark = [
    pytest.mark.skipif(
        shutil.which("podman") is None or os.geteuid() != 0,
        reason="needs rootful podman on PATH (bin/system-packages installs it; run as root)",
    ),
    pytest.mark.django_db(transaction=True),
]

SLOT = Slot(queue="cpu", index=0, uid=61000)

# Grades with bc (apt-get) and six (pip), prints to stdout, and reports what it was told of
# earlier submissions.
RUN_AUTOGRADER = b"""#!/usr/bin/env bash
set -e
cd /autograder
want=$(echo "6*7" | bc)
echo "GRADER STDOUT: comparing with $want"
python3 - "$want" <<'EOF'
import json, sys
import six
want = sys.argv[1]
got = open("/autograder/submission/answer.txt").read().strip()
meta = json.load(open("/autograder/submission_metadata.json"))
previous = meta["previous_submissions"]
note = f"previous={len(previous)}"
if previous:
    note += f" first_score={previous[0]['score']} first_tests={len(previous[0]['results']['tests'])}"
score = 1 if got == want else 0
json.dump({
    "stdout_visibility": "visible",
    "tests": [{"name": "answer", "score": score, "max_score": 1, "output": note}],
}, open("/autograder/results/results.json", "w"))
print("six", six.__version__)
EOF
"""

SETUP_SH = b"""#!/usr/bin/env bash
set -e
apt-get update -q
apt-get install -y -q --no-install-recommends bc
pip install --break-system-packages --no-cache-dir six==1.16.0
"""

# The same install, without set -e: a failed apt-get must still fail the build.
SETUP_SH_NO_SET_E = b"""#!/usr/bin/env bash
apt-get update -q
apt-get install -y -q --no-install-recommends bc
pip install --break-system-packages --no-cache-dir six==1.16.0
echo "setup.sh reached its end"
"""


@pytest.fixture(scope="session")
def registries_reachable(base_image: str) -> None:
    """Debian's mirror and PyPI from inside a container (setup.sh needs them)."""
    probe = podman._podman(
        "run",
        "--rm",
        base_image,
        "bash",
        "-c",
        "exec 3<>/dev/tcp/deb.debian.org/80 && curl -sfI https://pypi.org/simple/six/ >/dev/null",
        timeout=90,
    )
    if probe.returncode != 0:
        pytest.skip("a container cannot reach deb.debian.org and pypi.org here")


@pytest.fixture
def grading_dirs(settings: Any, tmp_path: Path) -> Iterator[Path]:
    settings.GRADING_SANDBOX = "podman"
    settings.MEDIA_ROOT = str(tmp_path / "media")
    work = Path(f"/tmp/portal-podman-worker-{uuid.uuid4().hex[:8]}")
    settings.GRADING_WORK_DIR = str(work)
    yield work
    shutil.rmtree(work, ignore_errors=True)


@pytest.fixture
def built_images() -> Iterator[list[str]]:
    """Images the test's bundles became, removed afterwards."""
    tags: list[str] = []
    yield tags
    for row in BundleSetup.objects.exclude(artifact=""):
        tags.append(row.artifact)
    for tag in set(tags):
        podman._podman("rmi", "--force", tag)


def submit(enrollment: Any, assignment: Any, answer: bytes) -> GradingJob:
    submission_create(
        enrollment=enrollment,
        assignment=assignment,
        files=[(SimpleUploadedFile("answer.txt", answer), "answer.txt")],
        received_at=timezone.now(),
    )
    job = services.job_claim(queue="cpu", worker="w", now=timezone.now())
    assert job is not None
    return job


def grade(job: GradingJob) -> GradingJob:
    worker.run_job(job, slot=SLOT, worker="w")
    job.refresh_from_db()
    return job


def test_an_apt_and_pip_bundle_builds_once_and_grades_in_containers(
    student: Any,
    assignment: Any,
    grading_dirs: Path,
    base_image: str,
    registries_reachable: None,
    built_images: list[str],
) -> None:
    bundle = services._bundle_store(
        assignment=assignment,
        data=bundle_zip(RUN_AUTOGRADER, {"setup.sh": SETUP_SH}),
        source="upload",
    )
    first = grade(submit(student, assignment, b"41\n"))
    assert first.state == JobState.DONE, (first.message, first.log)
    assert (first.result.score, first.result.max_score) == (0, 1)

    setup = BundleSetup.objects.get(bundle=bundle)
    assert setup.state == BundleSetup.State.DONE and setup.engine == "podman"
    assert setup.artifact.startswith("localhost/portal-bundle:")
    assert podman.image_exists(setup.artifact)
    assert "Setting up bc" in setup.log and "Successfully installed six" in setup.log

    # stdout is kept; this results.json makes it visible to the student.
    stdout = first.result.data["stdout"]
    assert "GRADER STDOUT: comparing with 42" in stdout and "six 1.16.0" in stdout
    view = selectors.autograde_view(first.submission, staff=False, now=timezone.now())
    assert view["stdout_visible"] is True and "GRADER STDOUT" in view["stdout"]
    assert view["tests"][0]["output"] == "previous=0"

    # A second submission: no second build, and the grader sees the first one's results.
    second = grade(submit(student, assignment, b"42\n"))
    assert second.state == JobState.DONE, (second.message, second.log)
    assert (second.result.score, second.result.max_score) == (1, 1)
    again = BundleSetup.objects.get(bundle=bundle)
    assert again.started_at == setup.started_at and again.finished_at == setup.finished_at
    output = second.result.data["raw"]
    assert "previous=1 first_score=0.0 first_tests=1" in output


def test_a_failing_setup_fails_the_build_until_staff_retry(
    student: Any,
    ta: Any,
    assignment: Any,
    grading_dirs: Path,
    base_image: str,
    registries_reachable: None,
    built_images: list[str],
    settings: Any,
    client: Any,
) -> None:
    # No network while building: apt-get update fails. The script has no set -e, and its
    # last line would succeed: the build still fails, at the failing command.
    settings.GRADING_SETUP_NETWORK = False
    bundle = services._bundle_store(
        assignment=assignment,
        data=bundle_zip(RUN_AUTOGRADER, {"setup.sh": SETUP_SH_NO_SET_E}),
        source="upload",
    )
    job = grade(submit(student, assignment, b"42\n"))
    assert job.state == JobState.FAILED
    assert job.message == services.SETUP_FAILED_MESSAGE
    setup = BundleSetup.objects.get(bundle=bundle)
    assert setup.state == BundleSetup.State.FAILED
    assert "setup.sh reached its end" not in setup.log
    assert "[setup.sh failed]" in setup.log and "exit status 100" in setup.log
    assert not podman.image_exists(setup.artifact)

    # It stays failed: the next job does not build again.
    other = grade(submit(student, assignment, b"42\n"))
    assert other.state == JobState.FAILED and other.message == services.SETUP_FAILED_MESSAGE
    assert "failed earlier; staff can retry it" in other.log
    assert BundleSetup.objects.get(bundle=bundle).started_at == setup.started_at

    # Staff fix the cause (network for builds) and retry from the queue page: both failed
    # submissions are queued again, and the build runs again with the next job.
    settings.GRADING_SETUP_NETWORK = True
    client.force_login(ta.user)
    response = client.post(
        f"/courses/{assignment.course.slug}/grading/setups/{bundle.pk}/retry/", follow=True
    )
    assert response.status_code == 200
    assert "2 submissions that failed because of it are queued again" in (response.content.decode())
    assert BundleSetup.objects.get(bundle=bundle).state == BundleSetup.State.RETRY
    graded = []
    while (requeued := services.job_claim(queue="cpu", worker="w", now=timezone.now())) is not None:
        graded.append(grade(requeued))
    assert sorted(j.submission_id for j in graded) == sorted(
        [job.submission_id, other.submission_id]
    )
    assert all(j.state == JobState.DONE for j in graded), [(j.message, j.log) for j in graded]
    assert [j.result.score for j in graded] == [1, 1]
    rebuilt = BundleSetup.objects.get(bundle=bundle)
    assert rebuilt.state == BundleSetup.State.DONE and "setup.sh reached its end" in rebuilt.log

    # Nothing failed any more: a second retry is refused with a reason.
    response = client.post(
        f"/courses/{assignment.course.slug}/grading/setups/{bundle.pk}/retry/", follow=True
    )
    assert "nothing to retry" in response.content.decode()


def test_set_e_failure_and_old_images_pruned(
    student: Any,
    assignment: Any,
    grading_dirs: Path,
    base_image: str,
    built_images: list[str],
) -> None:
    broken = services._bundle_store(
        assignment=assignment,
        data=bundle_zip(
            b"#!/bin/sh\necho '{\"score\": 1}' > /autograder/results/results.json\n",
            {"setup.sh": b"#!/bin/bash\nset -e\necho step one\nfalse\necho step two\n"},
        ),
        source="upload",
    )
    job = grade(submit(student, assignment, b"x"))
    assert job.state == JobState.FAILED
    setup = BundleSetup.objects.get(bundle=broken)
    assert setup.state == BundleSetup.State.FAILED
    assert "step one" in setup.log and "step two" not in setup.log

    # A fixed version is a new version: it builds at once. The old one's image is pruned
    # once a build succeeds (the failed one never had an image; a working one did).
    good_v1 = services._bundle_store(
        assignment=assignment,
        data=bundle_zip(b"#!/bin/sh\necho '{\"score\": 1}' > /autograder/results/results.json\n"),
        source="upload",
    )
    assert grade(submit(student, assignment, b"x")).state == JobState.DONE
    v1_image = BundleSetup.objects.get(bundle=good_v1).artifact
    assert podman.image_exists(v1_image)
    good_v2 = services._bundle_store(
        assignment=assignment,
        data=bundle_zip(b"#!/bin/sh\necho '{\"score\": 2}' > /autograder/results/results.json\n"),
        source="upload",
    )
    done = grade(submit(student, assignment, b"x"))
    assert done.state == JobState.DONE and done.result.score == 2
    assert podman.image_exists(BundleSetup.objects.get(bundle=good_v2).artifact)
    assert not podman.image_exists(v1_image)
    assert Bundle.objects.get(pk=good_v1.pk).active is False


def test_a_memory_hog_fails_with_the_memory_limit_and_the_next_job_is_graded(
    student: Any, assignment: Any, grading_dirs: Path, base_image: str, built_images: list[str]
) -> None:
    assignment.autograder_memory_mb = 100
    assignment.save(update_fields=["autograder_memory_mb"])
    services._bundle_store(
        assignment=assignment,
        data=bundle_zip(
            b"""#!/usr/bin/env bash
if grep -q hog /autograder/submission/answer.txt; then
  exec python3 -c 'data = b"x" * (300 << 20)'
fi
echo '{"score": 1}' > /autograder/results/results.json
"""
        ),
        source="upload",
    )
    hog = grade(submit(student, assignment, b"hog"))
    assert hog.state == JobState.FAILED
    assert "ran out of memory (the limit is 100 MB for the whole run)" in hog.message
    # The next job, in a fresh container of the same image, is graded as usual.
    fine = grade(submit(student, assignment, b"fine"))
    assert fine.state == JobState.DONE and fine.result.score == 1


def test_without_the_engine_the_job_fails_for_staff_to_fix(
    student: Any, assignment: Any, grading_dirs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    services._bundle_store(assignment=assignment, data=bundle_zip(), source="upload")
    monkeypatch.setattr(podman, "PODMAN", "/nonexistent/podman")
    job = grade(submit(student, assignment, b"x"))
    assert job.state == JobState.FAILED
    assert job.message.startswith("The autograder could not run on the grading machine.")
    assert "podman is not installed" in job.log


def test_results_stdout_is_written_for_the_grader_layout(tmp_path: Path) -> None:
    folder = tmp_path / "job"
    (folder / "autograder" / "results").mkdir(parents=True)
    result = podman.SandboxResult(
        exit_code=0,
        signal=None,
        timed_out=False,
        output="printed\n",
        output_truncated=False,
        duration_s=0.1,
        limit_hit=None,
    )
    worker._keep_stdout(folder, result)
    assert (folder / "autograder" / "results" / "stdout").read_text() == "printed\n"
