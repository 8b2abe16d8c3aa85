"""Start uvicorn on the app: `python -m core.serve [uvicorn options]`. `make run` and
`scripts/start.sh` both start the service this way.

uvicorn rewrites the client address and scheme from `X-Forwarded-*` for the peers it trusts, and
by default it trusts 127.0.0.1: anyone connecting from there (a browser on the laptop, a local
tool) could pick the address the rate limits count per request. This hands it TRUSTED_PROXIES
instead, the same list the app's own client address reads (empty: trust nobody), after every
other option so nothing on the command line can widen it.

It also serves the Prometheus metrics of every worker on a port of their own (`core.metrics`).
"""

import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path

from uvicorn import main as uvicorn

from core.config import ConfigurationError, Settings, get_settings

APP = "core.app:create_app"


def forwarded_allow_ips(settings: Settings) -> str:
    return ",".join(str(network) for network in settings.TRUSTED_PROXIES)


def arguments(options: list[str], settings: Settings) -> list[str]:
    """uvicorn's command line for the app, with `options` and the trusted proxies."""
    return [
        APP,
        "--factory",
        *options,
        "--proxy-headers",
        "--forwarded-allow-ips",
        forwarded_allow_ips(settings),
    ]


def refuse_metrics_on_api_port(command: list[str], settings: Settings) -> None:
    """The metrics listener never shares the API's port: whoever reaches the API would read them."""
    api_port = uvicorn.make_context("uvicorn", list(command)).params["port"]
    if api_port == settings.METRICS_PORT:
        raise ConfigurationError(f"METRICS_PORT is the API's port ({api_port}): metrics would be public")


def prepare_metrics_directory() -> None:
    """Give every worker one directory to write its metrics to (prometheus-client's multiprocess
    mode), emptied of a previous run's values. It must be in the environment before
    prometheus_client is imported, here and in the workers, which inherit it."""
    given = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if given:
        Path(given).mkdir(parents=True, exist_ok=True)
        for stale in Path(given).glob("*.db"):
            stale.unlink()
        return
    directory = tempfile.mkdtemp(prefix="metrics-")
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = directory


def main(options: list[str], settings: Settings) -> None:
    command = arguments(options, settings)
    if settings.METRICS_ENABLED:
        refuse_metrics_on_api_port(command, settings)
        prepare_metrics_directory()
        # Imported only now: prometheus_client reads the directory when it is first imported.
        from core import metrics

        # Served by this, the supervising process, which outlives the workers and sums them.
        metrics.serve(settings)
    uvicorn.main(args=command, prog_name="uvicorn")


if __name__ == "__main__":
    main(sys.argv[1:], get_settings())
