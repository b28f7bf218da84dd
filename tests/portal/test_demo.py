"""The README's first command, as a newcomer runs it: bin/demo serves the demo course."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_bin_demo_serves_the_login_page_with_the_demo_course(tmp_path):
    port = free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'demo.sqlite3'}"
    env["MEDIA_ROOT"] = str(tmp_path / "media")
    log = open(tmp_path / "demo.log", "w+")  # noqa: SIM115 - closed in finally
    proc = subprocess.Popen(
        [str(ROOT / "bin" / "demo"), f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        body = ""
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/accounts/login/", timeout=5
                ) as r:
                    body = r.read().decode()
                    break
            except OSError:
                assert proc.poll() is None, (tmp_path / "demo.log").read_text()
                time.sleep(0.5)
        assert 'for="id_username"' in body and "Log in" in body, (tmp_path / "demo.log").read_text()
        out = (tmp_path / "demo.log").read_text()
        assert "every password is 'demo'" in out
        assert re.search(r"student4803\s+undergraduate student", out)
        # Sample work from the term, graded in-process by the sandbox at setup.
        assert "Sample: student4803 handed in ps0 (On time)" in out
        assert "Sample: student7643 handed in hw1 (In grace period)" in out
        assert "Sample: grad2 handed in hw4 (On time)" in out

        # Log in as the undergraduate and see the course with its sections and deadlines.
        import http.cookiejar

        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        base = f"http://127.0.0.1:{port}"
        page = opener.open(f"{base}/accounts/login/").read().decode()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        data = urllib.parse.urlencode(
            {"username": "student4803", "password": "demo", "csrfmiddlewaretoken": token}
        ).encode()
        req = urllib.request.Request(
            f"{base}/accounts/login/", data=data, headers={"Referer": base}
        )
        home = opener.open(req).read().decode()
        assert "Deep Learning" in home
        listing = opener.open(f"{base}/courses/cs7643-sp21/assignments/").read().decode()
        assert "PS0" in listing and "HW5" in listing
        api = opener.open(f"{base}/api/v1/courses/cs7643-sp21/assignments/ps0/submissions/")
        mine = json.loads(api.read())
        assert [s["timing"] for s in mine] == ["on_time"]
        assert mine[0]["autograde"]["status"] in {"done", "failed"}  # failed only without root
        # HW5's tests feed its questions by name; the sample slips on a terminal step.
        hw5 = opener.open(f"{base}/api/v1/courses/cs7643-sp21/assignments/hw5/submissions/")
        autograde = json.loads(hw5.read())[0]["autograde"]
        assert autograde["status"] in {"done", "failed"}
        if autograde["status"] == "done":
            scores = {t["name"]: t["score"] for t in autograde["tests"]}
            assert scores["q1 q-learning update moves toward the target"] == 30
            assert scores["q1 a terminal step does not bootstrap"] == 0
            assert scores["q2 epsilon 1 explores every action"] == 20
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
        log.close()
