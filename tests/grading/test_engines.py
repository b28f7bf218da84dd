"""The sandbox interface without a container engine: choosing the engine, what a bundle
version's image is named after, the GPU options a container gets, what describe() says of
each engine's memory limit, and where a run's stdout is shown."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.utils import timezone

from grading import sandbox, selectors, services
from grading.models import GradingJob, GradingResult, JobState
from grading.sandbox import engines, podman
from grading.sandbox.result import SandboxResult, describe
from tests.grading.conftest import bundle_zip


def test_engine_names() -> None:
    assert engines.engine("podman").name == "podman"
    assert engines.engine("bubblewrap").name == "bubblewrap"
    with pytest.raises(sandbox.SandboxUnavailable, match="choose one of podman, bubblewrap"):
        engines.engine("docker")


def test_a_wrong_sandbox_setting_is_refused_at_start(settings: Any) -> None:
    settings.GRADING_SANDBOX = "docker"
    with pytest.raises(SystemCheckError, match="GRADING_SANDBOX='docker' is not a sandbox"):
        call_command("check")


def test_an_image_is_named_after_the_bundle_and_its_base(tmp_path: Path) -> None:
    eng = engines.Podman()

    def spec(sha: str, image: str = "", network: bool = True) -> sandbox.BuildSpec:
        return sandbox.BuildSpec(
            source=tmp_path, sha256=sha, root=tmp_path, image=image, network=network
        )

    a = eng.artifact(spec("a" * 64))
    assert a.startswith("localhost/portal-bundle:") and len(a.split(":")[1]) == 32
    assert eng.artifact(spec("a" * 64, image=engines.DEFAULT_IMAGE)) == a
    assert eng.artifact(spec("b" * 64)) != a
    assert eng.artifact(spec("a" * 64, image="docker.io/library/python:3.12")) != a
    # Network while building is not part of it: a build that lacked it is retried instead.
    assert eng.artifact(spec("a" * 64, network=False)) == a
    assert engines.Bubblewrap().artifact(spec("a" * 64)) == str(tmp_path / "env")


@pytest.fixture
def fake_gpu_host(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    dev = tmp_path / "dev"
    dev.mkdir()
    for name in ("nvidia0", "nvidia1", "nvidia2", "nvidiactl", "nvidia-uvm"):
        (dev / name).touch()
    libs = tmp_path / "lib"
    libs.mkdir()
    for name in ("libcuda.so.1", "libnvidia-ml.so.1", "libc.so.6"):
        (libs / name).touch()
    monkeypatch.setattr(podman, "DEV", dev)
    monkeypatch.setattr(podman, "CDI_DIRS", (tmp_path / "cdi",))
    monkeypatch.setattr(podman, "DRIVER_LIB_DIRS", (libs,))
    monkeypatch.setattr(podman.shutil, "which", lambda name: None)
    return tmp_path


def test_a_gpu_slot_gets_exactly_its_device(fake_gpu_host: Path) -> None:
    dev, libs = fake_gpu_host / "dev", fake_gpu_host / "lib"
    args = podman.gpu_args(["1"])
    assert f"--device={dev / 'nvidia1'}" in args
    assert not any("nvidia0" in a or "nvidia2" in a for a in args)
    assert f"--device={dev / 'nvidiactl'}" in args and f"--device={dev / 'nvidia-uvm'}" in args
    assert f"--volume={libs / 'libcuda.so.1'}:{libs / 'libcuda.so.1'}:ro" in args
    assert f"--volume={libs / 'libnvidia-ml.so.1'}:{libs / 'libnvidia-ml.so.1'}:ro" in args
    assert not any("libc.so.6" in a for a in args)
    assert podman.gpu_args([]) == []


def test_cdi_is_used_where_the_toolkit_wrote_a_spec(fake_gpu_host: Path) -> None:
    (fake_gpu_host / "cdi").mkdir()
    (fake_gpu_host / "cdi" / "nvidia.yaml").write_text("cdiVersion: 0.5.0\n")
    assert podman.gpu_args(["2", "0"]) == [
        "--device=nvidia.com/gpu=2",
        "--device=nvidia.com/gpu=0",
    ]


def test_a_gpu_the_host_lacks_is_engine_trouble(fake_gpu_host: Path) -> None:
    with pytest.raises(sandbox.SandboxUnavailable, match="GPU 7 has no device node"):
        podman.gpu_args(["7"])
    with pytest.raises(sandbox.SandboxUnavailable, match="not a GPU index"):
        podman.gpu_args(["../../sda"])


def _memory_result(scope: str) -> SandboxResult:
    return SandboxResult(
        exit_code=None,
        signal=9,
        timed_out=False,
        output="",
        output_truncated=False,
        duration_s=1.0,
        limit_hit="memory",
        limits=sandbox.Limits(memory_mb=256),
        memory_scope=scope,
    )


def test_describe_says_how_the_memory_limit_applied() -> None:
    assert "256 MB per process" in describe(_memory_result("per process"))
    assert "256 MB for the whole run" in describe(_memory_result("for the whole run"))


def test_a_full_disk_is_named() -> None:
    result = SandboxResult(
        exit_code=1,
        signal=None,
        timed_out=False,
        output="OSError: [Errno 28] No space left on device\n",
        output_truncated=False,
        duration_s=1.0,
        limit_hit=sandbox.result.classify_limit(
            timed_out=False,
            signal=None,
            output="OSError: [Errno 28] No space left on device\n",
            output_truncated=False,
        ),
        limits=sandbox.Limits(disk_mb=64, tmp_mb=32),
    )
    assert result.limit_hit == "disk"
    assert "filled the disk space it is given (64 MB" in describe(result)


# --- stdout: kept, and shown as stdout_visibility says ------------------------------------------


def _graded(student: Any, assignment: Any, results: dict[str, Any]) -> GradingJob:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from submissions.services import submission_create

    services._bundle_store(assignment=assignment, data=bundle_zip(), source="upload")
    submission_create(
        enrollment=student,
        assignment=assignment,
        files=[(SimpleUploadedFile("a.py", b"x = 1\n"), "a.py")],
        received_at=timezone.now(),
    )
    job = GradingJob.objects.get()
    GradingResult.objects.create(
        job=job,
        score=results.get("score", 0),
        max_score=1,
        data={"raw": json.dumps(results), "stdout": "debug: loss=0.25\n"},
    )
    GradingJob.objects.filter(pk=job.pk).update(state=JobState.DONE, finished_at=timezone.now())
    return job


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("visibility", "shown"), [("visible", True), ("hidden", False), (None, False)]
)
def test_stdout_reaches_the_student_only_when_visible(
    student: Any, assignment: Any, media: Any, api_client: Any, visibility: str | None, shown: bool
) -> None:
    results: dict[str, Any] = {"score": 1, "tests": [{"name": "t", "score": 1, "max_score": 1}]}
    if visibility is not None:
        results["stdout_visibility"] = visibility
    job = _graded(student, assignment, results)
    submission = job.submission
    student_view = selectors.autograde_view(submission, staff=False, now=timezone.now())
    assert student_view["stdout_visible"] is shown
    assert ("stdout" in student_view) is shown
    staff_view = selectors.autograde_view(submission, staff=True, now=timezone.now())
    assert staff_view["stdout"] == "debug: loss=0.25\n"

    api_client.force_authenticate(student.user)
    body = api_client.get(f"/api/v1/submissions/{submission.pk}/").json()
    assert ("debug: loss=0.25" in json.dumps(body)) is shown

    api_client.force_authenticate(None)
    from django.test import Client

    page = Client()
    page.force_login(student.user)
    html = page.get(f"/submissions/{submission.pk}/autograde/").content.decode()
    assert ("debug: loss=0.25" in html) is shown


@pytest.mark.django_db
def test_previous_submissions_carry_their_results(
    student: Any, assignment: Any, media: Any
) -> None:
    first = _graded(
        student,
        assignment,
        {"score": 0.5, "tests": [{"name": "t", "score": 0.5, "max_score": 1}]},
    )
    from django.core.files.uploadedfile import SimpleUploadedFile

    from submissions.services import submission_create

    submission_create(
        enrollment=student,
        assignment=assignment,
        files=[(SimpleUploadedFile("a.py", b"x = 2\n"), "a.py")],
        received_at=timezone.now(),
    )
    second = GradingJob.objects.exclude(pk=first.pk).get()
    meta = selectors.submission_metadata(job=second)
    [previous] = meta["previous_submissions"]
    assert previous["score"] == 0.5
    assert previous["results"]["tests"] == [{"name": "t", "score": 0.5, "max_score": 1}]


def test_bubblewrap_prunes_setup_folders_of_versions_no_longer_in_use(tmp_path: Path) -> None:
    bundles = tmp_path / "bundles"
    for version in ("aaa", "bbb", "ccc"):
        (bundles / version / "env" / "python").mkdir(parents=True)
        (bundles / version / "source").mkdir()
        (bundles / version / "setup-done").write_text("ok")
    eng = engines.Bubblewrap()
    keep = [str(bundles / "aaa" / "env"), str(bundles / "ccc" / "env")]
    assert eng.prune(keep) == [str(bundles / "bbb" / "env")]
    assert not (bundles / "bbb" / "env").exists()
    assert not eng.is_built(str(bundles / "bbb" / "env"))
    assert eng.is_built(keep[0]) and eng.is_built(keep[1])
    assert eng.prune([]) == []
