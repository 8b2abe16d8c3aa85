"""`python -m bench.enumeration`: can a request's timing tell whether an address has an account?

For each request that may send mail, against the real service (one uvicorn worker, rate limits
off), the two cases alternate REQUESTS times: an address with an account and one without (for
an email change: an address another account uses and a free one). Prints the median time of
each, on SQLite and PostgreSQL. The medians should differ by no more than the run-to-run noise,
which the same request against the same address, measured twice, shows beside them.
"""

import argparse
import json
import statistics
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import create_engine

from bench.run import SECRET_KEY, Server, database, login
from bench.seed import PASSWORD, migrate
from core.config import API_PREFIX

REQUESTS = 50
KNOWN, UNKNOWN = "known@example.com", "unknown@example.com"
TAKEN, FREE = "taken@example.com", "free@example.com"


def _register(base_url: str, email: str) -> None:
    _request(f"{base_url}{API_PREFIX}/auth/register", "POST", {"email": email, "password": PASSWORD})()


def _timed(send: Callable[[], None]) -> float:
    started = time.perf_counter()
    send()
    return (time.perf_counter() - started) * 1000


def _request(url: str, method: str, body: dict[str, str], token: str | None = None) -> Callable[[], None]:
    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}

    def send() -> None:
        request = urllib.request.Request(url, json.dumps(body).encode(), headers, method=method)  # noqa: S310
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            response.read()

    return send


def measure(first: Callable[[], None], second: Callable[[], None]) -> tuple[float, float]:
    """Median milliseconds of each, the two interleaved so drift hits both alike."""
    for _ in range(5):  # warm-up
        first()
        second()
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(REQUESTS):
        times[0].append(_timed(first))
        times[1].append(_timed(second))
    return statistics.median(times[0]), statistics.median(times[1])


def run_backend(backend: str, postgres_url: str, workdir: Path) -> list[str]:
    lines = []
    with database(backend, workdir, postgres_url) as url:
        engine = create_engine(url)
        migrate(engine)
        engine.dispose()
        env = {
            "ENVIRONMENT": "test",
            "SECRET_KEY": SECRET_KEY,
            "DATABASE_URL": url,
            "RATE_LIMIT_ENABLED": "false",
            "LOG_LEVEL": "WARNING",
            "BCRYPT_ROUNDS": "4",
            "METRICS_ENABLED": "false",
        }
        service = Server("core.app:create_app", env, workdir / f"{backend}.log")
        try:
            service.wait_ready("/health/ready")
            for email in (KNOWN, TAKEN):
                _register(service.url, email)
            token = login(service.url, KNOWN)
            auth = f"{service.url}{API_PREFIX}/auth"
            me = f"{service.url}{API_PREFIX}/users/me"
            cases = {
                "password-reset/request": (f"{auth}/password-reset/request", "POST", KNOWN, UNKNOWN, None),
                "verify/request": (f"{auth}/verify/request", "POST", KNOWN, UNKNOWN, None),
                "PATCH /users/me email": (me, "PATCH", TAKEN, FREE, token),
            }
            for name, (path, method, one, other, bearer) in cases.items():
                one_ms, other_ms = measure(
                    _request(path, method, {"email": one}, bearer),
                    _request(path, method, {"email": other}, bearer),
                )
                same_ms, again_ms = measure(
                    _request(path, method, {"email": other}, bearer),
                    _request(path, method, {"email": other}, bearer),
                )
                lines.append(
                    f"{backend:10} {name:24} {one_ms:6.2f} vs {other_ms:6.2f} ms "
                    f"(noise: the same address twice, {same_ms:6.2f} vs {again_ms:6.2f} ms)"
                )
        finally:
            service.stop()
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.enumeration", description=__doc__)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--postgres-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    with tempfile.TemporaryDirectory() as workdir:
        for backend in backends:
            print("\n".join(run_backend(backend, args.postgres_url, Path(workdir))), flush=True)


if __name__ == "__main__":
    main()
