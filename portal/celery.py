"""The Celery app. Workers: `celery -A portal worker -Q grading.cpu` (or `-Q grading.gpu`)."""

import os

from celery import Celery
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.local")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_queues = (
    Queue("default"),
    Queue("grading.cpu"),
    Queue("grading.gpu"),
)
app.autodiscover_tasks()


@app.task(name="portal.ping", ignore_result=False)
def ping() -> str:
    """A no-op a deployment check (and the tests) can send to see a worker answer."""
    return "pong"
