"""`python -m core.serve`: uvicorn's command line trusts X-Forwarded-* from TRUSTED_PROXIES alone."""

from pathlib import Path

import pytest
from uvicorn import main as uvicorn

from core.config import ConfigurationError
from core.serve import arguments, refuse_metrics_on_api_port
from tests.helpers import make_settings


def test_without_trusted_proxies_uvicorn_trusts_nobody(tmp_path: Path) -> None:
    command = arguments(["--reload"], make_settings(f"sqlite:///{tmp_path / 'x.db'}"))

    assert command[:3] == ["core.app:create_app", "--factory", "--reload"]
    assert command[-2:] == ["--forwarded-allow-ips", ""]


def test_trusted_proxies_are_handed_over_as_networks(tmp_path: Path) -> None:
    settings = make_settings(f"sqlite:///{tmp_path / 'x.db'}", TRUSTED_PROXIES=["10.0.0.0/8", "192.0.2.7"])

    assert arguments([], settings)[-1] == "10.0.0.0/8,192.0.2.7/32"


def test_an_option_given_on_the_command_line_cannot_widen_the_list(tmp_path: Path) -> None:
    command = arguments(["--forwarded-allow-ips", "*"], make_settings(f"sqlite:///{tmp_path / 'x.db'}"))

    # What uvicorn's own command line makes of it: the last of a repeated option wins.
    parsed = uvicorn.make_context("uvicorn", command).params
    assert parsed["forwarded_allow_ips"] == ""
    assert parsed["proxy_headers"] is True


def test_metrics_are_refused_on_the_apis_port(tmp_path: Path) -> None:
    settings = make_settings(f"sqlite:///{tmp_path / 'x.db'}", METRICS_PORT=8000)

    with pytest.raises(ConfigurationError, match="METRICS_PORT is the API's port"):
        refuse_metrics_on_api_port(arguments(["--port", "8000"], settings), settings)
    refuse_metrics_on_api_port(arguments(["--port", "8001"], settings), settings)
