"""The image's start command, run outside Docker: migrate, first superuser, serve with workers."""

import os
import sys
from collections import Counter
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, inspect

from core import discovery
from core.db import metadata
from tests.deploy.servers import Service, free_port, service_env
from tests.helpers import ROOT

# Starts servers or processes: run once in CI, not in every template variant.
pytestmark = pytest.mark.slow

START = ROOT / "scripts" / "start.sh"
WORKERS = 2
LOGIN_LIMIT = 2


def test_the_start_script_migrates_creates_the_superuser_and_serves(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'app.db'}"
    port = free_port()
    env = service_env(
        url,
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        HOST="127.0.0.1",
        PORT=str(port),
        WEB_CONCURRENCY=str(WORKERS),
        LOG_LEVEL="INFO",
        FIRST_SUPERUSER_EMAIL="admin@example.com",
        FIRST_SUPERUSER_PASSWORD="first superuser password",
        RATE_LIMIT_LOGIN=f"{LOGIN_LIMIT}/minute",
    )
    env.pop("TRUSTED_PROXIES", None)
    service = Service(["sh", str(START)], env, port, tmp_path / "start.log")
    try:
        # Migrations, the superuser, then the workers, one after the other: on a busy machine
        # (the template tests run generated suites side by side) that takes more than 30 s.
        service.wait_ready(timeout=90)
        tables = set(inspect(create_engine(url)).get_table_names())
        discovery.import_models()
        assert {"alembic_version", "users", "auth_sessions", *metadata().tables} <= tables

        form = {"username": "admin@example.com", "password": "first superuser password"}
        r = httpx.post(f"{service.url}/api/v1/auth/login", data=form)
        assert r.status_code == 200, r.text
        me = httpx.get(
            f"{service.url}/api/v1/users/me", headers={"Authorization": f"Bearer {r.json()['access_token']}"}
        )
        assert me.json()["is_superuser"] is True

        # No proxy is trusted: a forged X-Forwarded-For changes nothing, uvicorn's or ours. Each
        # worker counts on its own (memory storage), so at most WORKERS x LOGIN_LIMIT get through.
        bad = {"username": "admin@example.com", "password": "wrong password"}
        answers = Counter(
            httpx.post(
                f"{service.url}/api/v1/auth/login", data=bad, headers={"X-Forwarded-For": f"198.51.100.{n}"}
            ).status_code
            for n in range(8)
        )
        assert answers[429] >= 8 - 1 - WORKERS * LOGIN_LIMIT, answers
    finally:
        exit_code = service.terminate()
    output = service.output()
    assert exit_code == 0, output
    assert "first superuser: admin@example.com" in output
    assert output.count("Started server process") == WORKERS, output
