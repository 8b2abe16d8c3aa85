"""A new user's first minute: generate, `make run`, and the API answers."""

import os
import re
import signal
import socket
import subprocess
import time

import httpx
import pytest

from tests.template.conftest import TEMPLATE_TIMES, user_env

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def test_make_run_serves_a_fresh_project(generate, tmp_path):
    project = generate("project_name=First Run")
    port = free_port()
    started = time.monotonic()
    server = subprocess.Popen(
        ["make", "run", f"PORT={port}"],
        cwd=project,
        # The metrics port too is free: the variants run beside this test serve theirs.
        env={**user_env(tmp_path), "METRICS_PORT": str(free_port())},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 600  # the first run installs .venv from the lock
        while time.monotonic() < deadline:
            assert server.poll() is None, server.stdout.read() if server.stdout else ""
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/health", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.5)
        else:
            pytest.fail("make run did not serve within 10 minutes")
        TEMPLATE_TIMES.append(f"make run in a fresh project: serving after {time.monotonic() - started:.1f}s")
        assert health.json() == {"status": "ok"}
        base = f"http://127.0.0.1:{port}/api/v1"
        registered = httpx.post(
            f"{base}/auth/register", json={"email": "a@example.com", "password": "password123"}
        )
        assert registered.status_code == 201, registered.text
        assert (project / "data" / "app.db").is_file()
        assert httpx.get(f"http://127.0.0.1:{port}/docs").status_code == 200
        # The admin site with every asset it names served by the service itself: it works offline.
        login = httpx.get(f"http://127.0.0.1:{port}/admin/login")
        assert login.status_code == 200
        assets = re.findall(r'(?:src|href)="([^"]+)"', login.text)
        assert assets
        for asset in assets:
            url = httpx.URL(f"http://127.0.0.1:{port}/").join(asset)
            assert url.host == "127.0.0.1", asset
            assert httpx.get(url).status_code == 200, asset
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
