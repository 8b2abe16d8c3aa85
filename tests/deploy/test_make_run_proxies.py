"""`make run` counts rate limits against the real peer: uvicorn, started the way the Makefile
starts it, trusts X-Forwarded-For only from TRUSTED_PROXIES, not from 127.0.0.1 by default.
And the docs' first requests (docs/examples/try-the-api.sh) work against it, as shown."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.deploy.servers import free_port, service_env
from tests.helpers import PASSWORD, ROOT, require_server

# Starts servers or processes: run once in CI, not in every template variant.
pytestmark = pytest.mark.slow

LOGIN_LIMIT = 2
EMAIL = "bob@example.com"


class MakeRun:
    def __init__(self, url: str, log: Path) -> None:
        self.url = url
        self.log = log

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@pytest.fixture
def make_run(tmp_path: Path) -> Iterator[Any]:
    """`make_run(**settings)`: `make run` on a port and a SQLite file of its own, in a process group
    that is ended afterwards (the reloader has a child)."""
    if shutil.which("make") is None:
        require_server("make is not installed")
    started: list[subprocess.Popen[bytes]] = []

    def start(**settings: str) -> MakeRun:
        port = free_port()
        env = service_env(
            f"sqlite:///{tmp_path / 'app.db'}",
            LOG_LEVEL="INFO",
            RATE_LIMIT_ENABLED="true",
            RATE_LIMIT_LOGIN=f"{LOGIN_LIMIT}/minute",
            **settings,
        )
        env.pop("VIRTUAL_ENV", None)
        log = tmp_path / "make-run.log"
        with log.open("wb") as out:
            started.append(
                subprocess.Popen(
                    # The Makefile's own run recipe (migrate, superuser, serve), with this run's
                    # interpreter's tools; `-o install`: that environment is built already.
                    ["make", "-o", "install", "run", f"PORT={port}", f"BIN={Path(sys.executable).parent}"],
                    cwd=ROOT,
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
        server = MakeRun(f"http://127.0.0.1:{port}", log)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert started[-1].poll() is None, server.output()
            try:
                if httpx.get(f"{server.url}/health", timeout=1).status_code == 200:
                    return server
            except httpx.TransportError:
                time.sleep(0.2)
        raise AssertionError(f"make run did not serve within 120 s:\n{server.output()}")

    yield start
    for process in started:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(30)


def _register(url: str) -> None:
    r = httpx.post(f"{url}/api/v1/auth/register", json={"email": EMAIL, "password": PASSWORD})
    assert r.status_code == 201, r.text


def _logins(url: str, addresses: list[str]) -> list[httpx.Response]:
    form = {"username": EMAIL, "password": PASSWORD}
    return [
        httpx.post(f"{url}/api/v1/auth/login", data=form, headers={"X-Forwarded-For": address})
        for address in addresses
    ]


def _session_addresses(url: str, response: httpx.Response) -> set[str]:
    headers = {"Authorization": f"Bearer {response.json()['access_token']}"}
    r = httpx.get(f"{url}/api/v1/auth/sessions", headers=headers)
    assert r.status_code == 200, r.text
    return {session["ip_address"] for session in r.json()}


FORGED = [f"198.51.100.{n}" for n in range(1, 9)]


def test_make_run_ignores_x_forwarded_for_from_loopback(make_run: Any) -> None:
    server = make_run()
    _register(server.url)

    answers = _logins(server.url, FORGED)

    assert Counter(r.status_code for r in answers) == {200: LOGIN_LIMIT, 429: len(FORGED) - LOGIN_LIMIT}
    assert _session_addresses(server.url, answers[0]) == {"127.0.0.1"}


def test_make_run_reads_x_forwarded_for_from_a_trusted_proxy(make_run: Any) -> None:
    # The same requests, with loopback named as the proxy: each address has a budget of its own.
    server = make_run(TRUSTED_PROXIES='["127.0.0.1"]')
    _register(server.url)

    answers = _logins(server.url, FORGED)

    assert [r.status_code for r in answers] == [200] * len(FORGED)
    assert _session_addresses(server.url, answers[-1]) == set(FORGED)


def test_the_api_examples_run_against_make_run(make_run: Any, tmp_path: Path) -> None:
    """The examples of getting-started.md and api.md, as they are, against a real `make run`:
    try-the-api.sh registers, signs in and reads the account back (its last line), and
    generate-a-client.sh writes a typed client of the live schema."""
    if shutil.which("curl") is None:
        require_server("curl is not installed")
    # Open registration whatever the service's .env says.
    server = make_run(OPEN_REGISTRATION="true")
    tried = run_example("try-the-api.sh", API=f"{server.url}/api/v1")
    assert tried.returncode == 0, tried.stdout + tried.stderr + server.output()
    assert json.loads(tried.stdout.splitlines()[-1])["email"] == "ada@example.com", tried.stdout

    client = tmp_path / "api_client"
    generated = run_example("generate-a-client.sh", SERVICE=server.url, OUTPUT=str(client))
    assert generated.returncode == 0, generated.stdout + generated.stderr
    assert (client / "client.py").is_file()
    assert (client / "api" / "users").is_dir()


def run_example(name: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(ROOT / "docs/examples" / name)],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
