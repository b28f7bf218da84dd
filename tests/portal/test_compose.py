"""docker-compose.yml runs the production shape (CONTRACT.md): web, a CPU grading worker, a
GPU grading worker, beat, PostgreSQL and Redis. No Docker engine runs here, so this checks
the file itself."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def test_the_compose_file_has_the_production_shape():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert set(services) == {"web", "worker-cpu", "worker-gpu", "beat", "db", "redis"}
    assert "gunicorn portal.wsgi" in services["web"]["command"]
    assert "celery -A portal worker -Q grading.cpu" in services["worker-cpu"]["command"]
    assert "celery -A portal worker -Q grading.gpu" in services["worker-gpu"]["command"]
    assert "celery -A portal beat" in services["beat"]["command"]
    assert services["db"]["image"].startswith("postgres")
    assert services["redis"]["image"].startswith("redis")
    for name in ("web", "worker-cpu", "worker-gpu", "beat"):
        env = services[name]["environment"]
        assert env["DJANGO_SETTINGS_MODULE"] == "portal.settings.production"
        assert env["DATABASE_URL"].startswith("postgres://")
        assert env["REDIS_URL"].startswith("redis://")
        assert "?" in env["SECRET_KEY"]  # required from the environment, no default
    gpu = services["worker-gpu"]
    assert gpu["deploy"]["resources"]["reservations"]["devices"][0]["capabilities"] == ["gpu"]
    for worker in ("worker-cpu", "worker-gpu"):
        # Podman by default, each worker with its own engine: privileged, its own storage.
        spec = services[worker]
        assert spec["environment"]["GRADING_SANDBOX"] == "${GRADING_SANDBOX:-podman}"
        assert spec["privileged"] is True
        assert any(v.endswith(":/var/lib/containers") for v in spec["volumes"])
        assert "bin/system-packages --only podman" in spec["build"]["dockerfile_inline"]
        assert "bin/build-base-image" in spec["entrypoint"][2]
    assert (ROOT / "Dockerfile").exists()
