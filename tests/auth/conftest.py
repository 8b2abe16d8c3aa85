"""Fixtures for the account lifecycle tests."""

import pytest

from tests.auth.lifecycle import Outbox


@pytest.fixture
def outbox(caplog: pytest.LogCaptureFixture) -> Outbox:
    """The mail the console backend has logged during the test."""
    return Outbox(caplog)
