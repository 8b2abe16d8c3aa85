"""`python -m bench.against REF`: this checkout's service against the same service at git REF.

A change that should cost nothing (a refactoring) is held to that here: both services run at
once on one freshly seeded database, with the same production settings, and the read, list and
create scenarios of `bench.run` load them in turn, round after round, alternating which goes
first. What is compared is the CPU time each process spends per request, which drifts far less on
a shared machine than requests per second. REF is exported with `git archive`, so it needs no
clean tree and leaves none behind; it is served by this checkout's interpreter and libraries.
"""

import argparse
import json
import statistics
import subprocess
import tarfile
import tempfile
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine

from bench.run import ITEMS, Server, database, login, service_env, wrk
from bench.seed import ROOT, migrate, seed

APP = "core.app:create_app"
POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def export(ref: str, target: Path) -> Path:
    archive = target / "ref.tar"
    subprocess.run(["git", "archive", "--output", str(archive), ref], cwd=ROOT, check=True)  # noqa: S603, S607
    with tarfile.open(archive) as tar:
        tar.extractall(target / "ref", filter="data")
    return target / "ref"


def cpu_ms_per_request(server: Server, url: str, seconds: int, **options: Any) -> float:
    before = server.cpu_seconds()
    requests: int = wrk(url, seconds=seconds, **options)["requests"]
    return (server.cpu_seconds() - before) * 1000 / requests


def run_backend(backend: str, ref_root: Path, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    with database(backend, workdir, args.postgres_url) as url:
        engine = create_engine(url)
        migrate(engine)
        seeded = seed(engine)
        engine.dispose()
        env = service_env(url, {})
        log = workdir / f"{backend}.log"
        servers = {"ref": Server(APP, env, log, cwd=ref_root), "head": Server(APP, env, log)}
        try:
            for server in servers.values():
                server.wait_ready("/health/ready")
            auth = {"Authorization": f"Bearer {login(servers['head'].url, seeded.owner_email)}"}
            body = json.dumps({"title": "A new item", "description": "Made by the benchmark"})
            paths = [f"{ITEMS}/{item_id}" for item_id in seeded.owner_item_ids[:200]]
            scenarios: dict[str, tuple[str, dict[str, Any]]] = {
                "read": (paths[0], {"headers": auth, "args": ["paths", *paths]}),
                "list": (f"{ITEMS}?limit=20", {"headers": auth}),
                "create": (ITEMS, {"headers": auth, "args": ["post", "application/json", body]}),
            }
            samples: dict[str, dict[str, list[float]]] = {name: {"ref": [], "head": []} for name in scenarios}
            for server in servers.values():  # warm-up
                for path, options in scenarios.values():
                    wrk(server.url + path, seconds=1, **options)
            for round_ in range(args.rounds):
                order = list(servers) if round_ % 2 == 0 else list(reversed(servers))
                for name, (path, options) in scenarios.items():
                    for label in order:
                        server = servers[label]
                        samples[name][label].append(
                            cpu_ms_per_request(server, server.url + path, args.seconds, **options)
                        )
        finally:
            for server in servers.values():
                server.stop()
    return {
        name: {
            "ref_cpu_ms": statistics.median(values["ref"]),
            "head_cpu_ms": statistics.median(values["head"]),
            "head_over_ref": statistics.median(values["head"]) / statistics.median(values["ref"]),
        }
        for name, values in samples.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ref")
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--postgres-url", default=POSTGRES_URL)
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "against.json")
    args = parser.parse_args()
    results: dict[str, Any] = {"ref": args.ref}
    with tempfile.TemporaryDirectory() as temp:
        ref_root = export(args.ref, Path(temp))
        for backend in args.backends:
            (Path(temp) / backend).mkdir()
            results[backend] = run_backend(backend, ref_root, args, Path(temp) / backend)
            print(f"{backend}: CPU ms per request at {args.ref} and HEAD, and HEAD/ref")
            for name, row in results[backend].items():
                ref, head, ratio = row["ref_cpu_ms"], row["head_cpu_ms"], row["head_over_ref"]
                print(f"  {name:<8} {ref:8.3f} {head:8.3f}  {ratio:.3f}")
    args.output.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
