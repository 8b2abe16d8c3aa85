"""Real servers for the deployment tests: uvicorn processes, and a PostgreSQL cluster of our own."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Mapping
from pathlib import Path

import httpx

from tests.helpers import ROOT, TEST_SECRET_KEY


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def service_env(database_url: str, **overrides: str) -> dict[str, str]:
    """The environment of a service process: the test settings, nothing inherited that matters."""
    env = {key: value for key, value in os.environ.items() if key not in {"TEST_DATABASE_URL"}}
    env.update(
        ENVIRONMENT="test",
        DATABASE_URL=database_url,
        SECRET_KEY=TEST_SECRET_KEY,
        BCRYPT_ROUNDS="4",
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
        # `core.serve` serves metrics on a port of their own: one per service, so none collide.
        METRICS_PORT=str(free_port()),
        # Counts of its own in a shared Redis: the project's .env may name one (a generation
        # answer), and another test's service must not have spent this one's limits there.
        SERVICE_NAME=f"test-{uuid.uuid4().hex[:12]}",
        # Clients register themselves, whatever the service's own .env decides (closed
        # registration is a generation answer; these tests are about serving, not signing up).
        OPEN_REGISTRATION="true",
    )
    env.update(overrides)
    return env


class Service:
    """One uvicorn process serving the app on a loopback port; its output goes to a log file."""

    def __init__(self, command: list[str], env: Mapping[str, str], port: int, log: Path) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log = log
        self._log_file = log.open("wb")
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=dict(env), stdout=self._log_file, stderr=subprocess.STDOUT
        )

    @classmethod
    def uvicorn(
        cls, env: Mapping[str, str], log: Path, app: str = "core.app:create_app", *args: str
    ) -> "Service":
        port = free_port()
        command = [sys.executable, "-m", "uvicorn", app, "--factory", "--host", "127.0.0.1"]
        return cls([*command, "--port", str(port), *args], env, port, log)

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"service exited with {self.process.returncode}:\n{self.output()}")
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"service did not answer within {timeout}s:\n{self.output()}")

    def terminate(self, timeout: float = 30) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        finally:
            self._log_file.close()

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self._log_file.close()


class PostgresCluster:
    """A throwaway PostgreSQL server (initdb + pg_ctl) in a directory of its own, on loopback."""

    def __init__(self, directory: Path) -> None:
        self.bindir = Path(subprocess.check_output(["pg_config", "--bindir"], text=True).strip())
        self.directory = directory
        self.data = directory / "data"
        self.port = free_port()
        # initdb refuses to run as root; the cluster then belongs to the postgres account.
        self._as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self._as:
            shutil.chown(directory, "postgres")
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "--no-sync")

    @staticmethod
    def available() -> bool:
        """Whether one can be made here: the server's tools, and runuser to run them as root."""
        return shutil.which("pg_config") is not None and (
            os.geteuid() != 0 or shutil.which("runuser") is not None
        )

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def command(self, tool: str) -> list[str]:
        return [*self._as, str(self.bindir / tool)]

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run([*self.command(tool), *args], check=True, capture_output=True, cwd=self.directory)

    def start(self) -> None:
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            "pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.directory / "log"), "-w", "start"
        )

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")
