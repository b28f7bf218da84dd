"""The Celery app is wired to Redis: a real worker answers on the default queue, and the
grading queues are declared with the durability settings the house plan asks for."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from portal.celery import app, ping

ROOT = Path(__file__).resolve().parents[2]


def test_queues_and_reliability_settings():
    names = {q.name for q in app.conf.task_queues}
    assert {"grading.cpu", "grading.gpu"} <= names
    assert app.conf.task_acks_late is True
    assert app.conf.worker_prefetch_multiplier == 1
    assert app.conf.task_serializer == "json" and app.conf.accept_content == ["json"]
    assert app.conf.broker_url.startswith("redis://")


@pytest.mark.slow
def test_a_real_worker_answers_through_redis():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "portal.settings.test"}
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "portal",
            "worker",
            "-Q",
            "default",
            "--pool=solo",
            "--concurrency=1",
            "--loglevel=WARNING",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-n",
            f"ping-{os.getpid()}@%h",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert settings.CELERY_BROKER_URL.startswith("redis://127.0.0.1")
        assert ping.apply_async(queue="default").get(timeout=60) == "pong"
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=30)
