"""grading.sandbox: the Gradescope layout, running a bundle, setup environments, availability.

Plain tests: no database. The ones that start sandboxes need root and bubblewrap (as the
grading worker does) and are skipped elsewhere. Hostile submissions: test_sandbox_hostile.py.
"""

from __future__ import annotations

import json
import os
import stat
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from grading import sandbox
from grading.sandbox import (
    JobFolderError,
    Limits,
    SandboxResult,
    SandboxUnavailable,
    UnsafePath,
    describe,
    prepare_job,
    read_results,
    run_autograder,
    run_setup,
)
from grading.sandbox import runner as sandbox_runner
from tests.grading import sandbox_fixtures
from tests.grading.sandbox_fixtures import (
    QUICK,
    make_bundle,
    new_job,
    requires_sandbox,
    run_script,
)

job_base = sandbox_fixtures.job_base
slot_uid = sandbox_fixtures.slot_uid
two_slot_uids = sandbox_fixtures.two_slot_uids

TRIVIAL = """
cat > /autograder/results/results.json <<'JSON'
{"score": 1, "tests": [{"name": "t", "score": 1, "max_score": 1}]}
JSON
"""


# --------------------------------------------------------------------------- limits, describe


def test_limits_defaults() -> None:
    limits = Limits()
    assert limits.wall_seconds == 600
    assert limits.cpu_seconds == 600
    assert limits.memory_mb == 768
    assert (limits.max_processes, limits.max_file_mb, limits.max_open_files) == (128, 256, 256)
    assert limits.max_output_bytes == 1_000_000


def test_limits_cpu_seconds_default_to_the_wall_clock() -> None:
    assert Limits(wall_seconds=30).cpu_seconds == 30


def test_limits_cpu_seconds_may_be_set_apart() -> None:
    assert Limits(wall_seconds=30, cpu_seconds=10).cpu_seconds == 10


def test_limits_prlimit_arguments() -> None:
    args = Limits(wall_seconds=9.5, memory_mb=256, max_file_mb=16).prlimit_args()
    assert "--cpu=10:11" in args
    assert f"--as={256 << 20}:{256 << 20}" in args
    assert f"--fsize={16 << 20}:{16 << 20}" in args
    assert "--nproc=128:128" in args and "--nofile=256:256" in args and "--core=0:0" in args


def test_limits_without_memory_limit_leave_the_address_space_unlimited() -> None:
    # GPU jobs: CUDA maps huge virtual ranges, so no address-space limit at all.
    assert "--as=unlimited:unlimited" in Limits(memory_mb=None).prlimit_args()


@pytest.mark.parametrize(
    "kwargs",
    [{"wall_seconds": 0}, {"cpu_seconds": -1}, {"memory_mb": 1}, {"max_processes": 0}],
)
def test_limits_refuse_nonsense(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        Limits(**kwargs)


def _result(**kwargs: object) -> SandboxResult:
    fields: dict[str, object] = {
        "exit_code": 0,
        "signal": None,
        "timed_out": False,
        "output": "",
        "output_truncated": False,
        "duration_s": 1.0,
        "limit_hit": None,
        "limits": Limits(wall_seconds=60, memory_mb=512, max_processes=32, max_file_mb=8),
    }
    fields.update(kwargs)
    return SandboxResult(**fields)


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({}, "finished normally"),
        ({"exit_code": 2}, "exited with status 2"),
        ({"exit_code": None, "signal": 11}, "SIGSEGV"),
        ({"exit_code": None, "timed_out": True, "limit_hit": "wall_time"}, "time limit of 60"),
        ({"exit_code": 1, "limit_hit": "memory"}, "ran out of memory (the limit is 512 MB"),
        ({"exit_code": None, "signal": 24, "limit_hit": "cpu_time"}, "60 seconds of CPU time"),
        ({"exit_code": 1, "limit_hit": "file_size"}, "larger than the limit of 8 MB"),
        ({"exit_code": 1, "limit_hit": "processes"}, "too many processes or threads"),
        ({"output_truncated": True, "limit_hit": "output"}, "more than 1,000,000 bytes"),
    ],
)
def test_describe(kwargs: dict[str, object], expected: str) -> None:
    assert expected in describe(_result(**kwargs))


# --------------------------------------------------------------------------- layout


@requires_sandbox
def test_prepare_job_layout(job_base: Path, slot_uid: int) -> None:
    bundle = make_bundle(job_base, TRIVIAL, setup="true\n", files={"tests.py": "x = 1\n"})
    upload = job_base / "upload.py"
    upload.write_text("def add(a, b):\n    return a + b\n")
    metadata = {
        "id": 7,
        "created_at": datetime(2025, 3, 1, 12, 0, tzinfo=UTC),
        "assignment": {"title": "HW1", "total_points": "10"},
        "users": [{"email": "s@example.edu", "id": 3, "name": "S"}],
    }
    job_root = job_base / "job"

    autograder = prepare_job(
        job_root,
        bundle_dir=bundle,
        submission=[("calc.py", upload), ("pkg/sub/data.txt", b"42\n"), ("./notes.md", b"n")],
        metadata=metadata,
        uid=slot_uid,
    )

    assert autograder == job_root / "autograder"
    assert sorted(p.name for p in autograder.iterdir()) == [
        "results",
        "source",
        "submission",
        "submission_metadata.json",
    ]
    assert (autograder / "source" / "tests.py").read_text() == "x = 1\n"
    assert os.access(autograder / "source" / "run_autograder", os.X_OK)
    assert (autograder / "submission" / "calc.py").read_text() == upload.read_text()
    assert (autograder / "submission" / "pkg" / "sub" / "data.txt").read_bytes() == b"42\n"
    assert (autograder / "submission" / "notes.md").read_bytes() == b"n"
    assert list((autograder / "results").iterdir()) == []
    written = json.loads((autograder / "submission_metadata.json").read_text())
    assert written["created_at"] == "2025-03-01T12:00:00+00:00"
    assert written["assignment"] == metadata["assignment"]
    assert written["users"] == metadata["users"]
    # Only the slot uid owns the job's files; the job root stays root's and only traversable.
    for path in [autograder, *autograder.rglob("*")]:
        assert path.lstat().st_uid == slot_uid, path
        assert path.lstat().st_gid == slot_uid, path
    assert job_root.stat().st_uid == 0
    assert stat.S_IMODE(job_root.stat().st_mode) == 0o711


@pytest.mark.parametrize(
    "name",
    ["../escape.py", "a/../../escape.py", "/etc/passwd", "", ".", "a\\..\\b", "nul\x00byte"],
)
def test_prepare_job_refuses_unsafe_names(tmp_path: Path, name: str) -> None:
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    (bundle / "run_autograder").write_text("true\n")
    with pytest.raises(UnsafePath):
        prepare_job(
            tmp_path / "job",
            bundle_dir=bundle,
            submission=[(name, b"x")],
            metadata={},
            uid=60001,
        )
    assert not (tmp_path / "job").exists()
    assert not (tmp_path / "escape.py").exists()


def test_prepare_job_refuses_a_bundle_without_run_autograder(tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    with pytest.raises(JobFolderError, match="no run_autograder"):
        prepare_job(tmp_path / "job", bundle_dir=bundle, submission=[], metadata={})


def test_prepare_job_refuses_a_used_folder(tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    (bundle / "run_autograder").write_text("true\n")
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "leftover").write_text("")
    with pytest.raises(JobFolderError, match="not an empty folder"):
        prepare_job(tmp_path / "used", bundle_dir=bundle, submission=[], metadata={})


@pytest.mark.parametrize("uid", [0, 1, 999, 65534])
def test_refuses_privileged_or_shared_uids(tmp_path: Path, uid: int) -> None:
    with pytest.raises(ValueError, match="not usable"):
        run_autograder(tmp_path, limits=QUICK, uid=uid)


@requires_sandbox
def test_job_folder_must_be_reachable_by_the_slot_uid(job_base: Path, slot_uid: int) -> None:
    private = job_base / "private"
    private.mkdir(mode=0o700)
    bundle = make_bundle(job_base, TRIVIAL)
    with pytest.raises(JobFolderError, match="cannot be traversed"):
        prepare_job(private / "job", bundle_dir=bundle, submission=[], metadata={}, uid=slot_uid)


# --------------------------------------------------------------------------- running


@requires_sandbox
def test_trivial_bundle_writes_results_the_host_reads(job_base: Path, slot_uid: int) -> None:
    bundle = make_bundle(
        job_base,
        """
        set -e
        cd /autograder/source
        python3 grade.py
        """,
        files={
            "grade.py": """
                import json, sys
                sys.path.insert(0, "/autograder/submission")
                from calc import add
                meta = json.load(open("/autograder/submission_metadata.json"))
                ok = add(2, 3) == 5
                print("graded submission", meta["id"])
                json.dump(
                    {"score": 1 if ok else 0,
                     "tests": [{"name": "add", "score": int(ok), "max_score": 1}]},
                    open("/autograder/results/results.json", "w"),
                )
            """
        },
    )
    job_root = new_job(
        job_base,
        bundle,
        slot_uid,
        submission=[("calc.py", b"def add(a, b):\n    return a + b\n")],
        metadata={"id": 99},
    )

    result = run_autograder(job_root, limits=QUICK, uid=slot_uid)

    assert result.exit_code == 0, result.output
    assert result.ok and not result.timed_out and result.limit_hit is None
    assert result.signal is None and not result.output_truncated
    assert "graded submission 99" in result.output
    assert 0 < result.duration_s < 5
    assert result.stray_processes_killed == 0
    raw = read_results(job_root)
    assert raw is not None
    assert json.loads(raw)["score"] == 1
    assert describe(result) == "The autograder finished normally."


@requires_sandbox
def test_job_prepared_without_uid_is_handed_to_the_slot(job_base: Path, slot_uid: int) -> None:
    bundle = make_bundle(job_base, TRIVIAL)
    job_root = job_base / "job"
    prepare_job(job_root, bundle_dir=bundle, submission=[], metadata={"id": 1})
    assert (job_root / "autograder").stat().st_uid == 0

    result = run_autograder(job_root, limits=QUICK, uid=slot_uid)

    assert result.exit_code == 0, result.output
    assert (job_root / "autograder" / "results" / "results.json").stat().st_uid == slot_uid


@requires_sandbox
def test_job_of_another_slot_is_refused(job_base: Path, two_slot_uids: list[int]) -> None:
    first, second = two_slot_uids
    job_root = new_job(job_base, make_bundle(job_base, TRIVIAL), first)
    with pytest.raises(JobFolderError, match="belongs to uid"):
        run_autograder(job_root, limits=QUICK, uid=second)


@requires_sandbox
def test_exit_status_and_interleaved_output(job_base: Path, slot_uid: int) -> None:
    result, _ = run_script(job_base, slot_uid, "echo one; echo two >&2; echo three; exit 3\n")
    assert (result.exit_code, result.signal) == (3, None)
    assert result.output == "one\ntwo\nthree\n"
    assert describe(result) == "The autograder exited with status 3."


@requires_sandbox
def test_a_signal_ends_the_run(job_base: Path, slot_uid: int) -> None:
    result, _ = run_script(job_base, slot_uid, "kill -SEGV $$\n")
    assert (result.exit_code, result.signal) == (None, 11)
    assert "SIGSEGV" in describe(result)


@requires_sandbox
def test_environment_is_clean_plus_the_slot_env(
    job_base: Path, slot_uid: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WORKER_SECRET", "do-not-leak")
    result, _ = run_script(
        job_base,
        slot_uid,
        'env; echo "uid=$(id -u) user=$(id -un) host=$(hostname) cwd=$PWD"\n',
        env={"CUDA_VISIBLE_DEVICES": "3", "GRADER_MODE": "strict"},
    )
    assert result.exit_code == 0, result.output
    lines = set(result.output.splitlines())
    assert {
        "CUDA_VISIBLE_DEVICES=3",
        "GRADER_MODE=strict",
        "HOME=/autograder",
        "LANG=C.UTF-8",
        "PYTHONDONTWRITEBYTECODE=1",
    } <= lines
    assert f"uid={slot_uid} user=autograder host=autograder cwd=/autograder" in lines
    assert "do-not-leak" not in result.output
    assert "DATABASE_URL" not in result.output
    assert "DJANGO_SETTINGS_MODULE" not in result.output


def _bundle_with_setup(job_base: Path) -> Path:
    """A bundle whose setup.sh installs a module and a marker that run_autograder reads."""
    return make_bundle(
        job_base,
        """
        python3 -c 'import helper_mod; print("helper says", helper_mod.VALUE)'
        cat /autograder/env/marker.txt
        echo "PYTHONUSERBASE=$PYTHONUSERBASE"
        touch /autograder/env/tampered && echo "env writable" || echo "env read-only"
        echo '{"score": 1}' > /autograder/results/results.json
        """,
        setup="""
        set -e
        echo "setting up in $PWD as $(id -un), HOME=$HOME"
        site=$(python3 -m site --user-site)
        mkdir -p "$site" "$PYTHONUSERBASE/bin"
        echo 'VALUE = 42' > "$site/helper_mod.py"
        echo 'built by setup.sh' > /autograder/env/marker.txt
        echo "PIP_USER=$PIP_USER"
        """,
    )


@requires_sandbox
def test_setup_builds_a_shared_env_owned_by_root(job_base: Path, slot_uid: int) -> None:
    env_dir = job_base / "env"

    setup = run_setup(
        _bundle_with_setup(job_base), env_dir, limits=QUICK, uid=slot_uid, network=False
    )

    assert setup.exit_code == 0, setup.output
    assert "setting up in /autograder/source as autograder, HOME=/autograder/env" in setup.output
    assert "PIP_USER=1" in setup.output
    site = env_dir / "python" / "lib" / "python3.11" / "site-packages" / "helper_mod.py"
    assert site.read_text() == "VALUE = 42\n"
    # The environment is root's afterwards, readable by every slot, with no set-id bits.
    for path in [env_dir, *env_dir.rglob("*")]:
        assert path.lstat().st_uid == 0, path
        assert path.stat().st_mode & 0o004, path
    assert not list(job_base.glob(".setup-*")), "setup's scratch copy was not removed"


@requires_sandbox
def test_setup_env_is_shared_read_only_with_later_jobs(job_base: Path, slot_uid: int) -> None:
    bundle = _bundle_with_setup(job_base)
    env_dir = job_base / "env"
    setup = run_setup(bundle, env_dir, limits=QUICK, uid=slot_uid, network=False)
    assert setup.exit_code == 0, setup.output

    job_root = new_job(job_base, bundle, slot_uid)
    result = run_autograder(job_root, limits=QUICK, uid=slot_uid, setup_env=env_dir)

    assert result.exit_code == 0, result.output
    assert "helper says 42" in result.output
    assert "built by setup.sh" in result.output
    assert "PYTHONUSERBASE=/autograder/env/python" in result.output
    assert "env read-only" in result.output
    assert not (env_dir / "tampered").exists()


@requires_sandbox
def test_setup_network_is_off_unless_asked(job_base: Path, slot_uid: int) -> None:
    bundle = make_bundle(
        job_base,
        TRIVIAL,
        setup="""
        python3 - <<'PY'
        import socket
        try:
            socket.create_connection(("1.1.1.1", 53), timeout=2)
            print("network: reachable")
        except OSError as exc:
            print("network: unreachable", exc)
        PY
        """,
    )
    result = run_setup(bundle, job_base / "env", limits=QUICK, uid=slot_uid, network=False)
    assert "network: unreachable" in result.output


@requires_sandbox
def test_bundle_without_setup_sh_needs_no_setup(job_base: Path, slot_uid: int) -> None:
    bundle = make_bundle(job_base, TRIVIAL)
    result = run_setup(bundle, job_base / "env", limits=QUICK, uid=slot_uid)
    assert result.exit_code == 0
    assert "nothing to set up" in result.output
    assert (job_base / "env").is_dir()


@requires_sandbox
def test_two_slots_run_at_once(job_base: Path, two_slot_uids: list[int]) -> None:
    script = 'sleep 1; echo "{\\"score\\": $(id -u)}" > /autograder/results/results.json\n'
    bundle = make_bundle(job_base, script)
    jobs = {uid: new_job(job_base, bundle, uid) for uid in two_slot_uids}
    results: dict[int, SandboxResult] = {}

    def grade(uid: int) -> None:
        results[uid] = run_autograder(jobs[uid], limits=QUICK, uid=uid)

    threads = [threading.Thread(target=grade, args=(uid,)) for uid in two_slot_uids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    for uid, job_root in jobs.items():
        assert results[uid].exit_code == 0, results[uid].output
        raw = read_results(job_root)
        assert raw is not None and json.loads(raw) == {"score": uid}


# --------------------------------------------------------------------------- availability


def test_unavailable_when_bwrap_is_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sandbox_runner, "BWRAP_PATH", str(tmp_path / "no-such-bwrap"))

    with pytest.raises(SandboxUnavailable) as raised:
        sandbox.check_available()
    assert str(raised.value) == (
        "bubblewrap (bwrap) is not installed: refusing to run student code unsandboxed. "
        "Install the Debian package bubblewrap."
    )


# Nothing runs unsandboxed: run_autograder and run_setup refuse before touching the job.


def test_run_autograder_refuses_without_bwrap(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sandbox_runner, "BWRAP_PATH", str(tmp_path / "no-such-bwrap"))
    with pytest.raises(SandboxUnavailable):
        run_autograder(tmp_path / "job", limits=QUICK, uid=60001)


def test_run_setup_refuses_without_bwrap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sandbox_runner, "BWRAP_PATH", str(tmp_path / "no-such-bwrap"))
    with pytest.raises(SandboxUnavailable):
        run_setup(tmp_path / "bundle", tmp_path / "env", limits=QUICK, uid=60001)
    assert not (tmp_path / "env").exists()


def test_unavailable_when_util_linux_tools_are_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sandbox_runner, "BWRAP_PATH", "/bin/sh")
    monkeypatch.setattr(sandbox_runner, "SETPRIV_PATH", str(tmp_path / "no-setpriv"))
    with pytest.raises(SandboxUnavailable, match="util-linux"):
        sandbox.check_available()


@requires_sandbox
def test_unavailable_when_the_probe_fails(job_base: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = job_base / "bwrap"
    fake.write_text("#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setattr(sandbox_runner, "BWRAP_PATH", str(fake))
    with pytest.raises(SandboxUnavailable, match="No permissions to create new namespace"):
        sandbox.check_available()


@requires_sandbox
def test_check_available_passes_and_is_cached() -> None:
    sandbox.check_available()
    key = (sandbox_runner.BWRAP_PATH, sandbox_runner.SETPRIV_PATH, sandbox_runner.PRLIMIT_PATH)
    assert sandbox_runner._availability[key] is None
    sandbox.check_available()
