"""Start uvicorn on the app: `python -m core.serve [uvicorn options]`. `make run` and
`scripts/start.sh` both start the service this way.

uvicorn rewrites the client address and scheme from `X-Forwarded-*` for the peers it trusts, and
by default it trusts 127.0.0.1: anyone connecting from there (a browser on the laptop, a local
tool) could pick the address the rate limits count per request. This hands it TRUSTED_PROXIES
instead, the same list the app's own client address reads (empty: trust nobody), after every
other option so nothing on the command line can widen it.
"""

import sys

from uvicorn import main as uvicorn

from core.config import Settings, get_settings

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


if __name__ == "__main__":
    uvicorn.main(args=arguments(sys.argv[1:], get_settings()), prog_name="uvicorn")
