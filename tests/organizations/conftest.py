"""Fixtures for the organizations tests."""

import pytest

from tests.organizations.helpers import URL


@pytest.fixture
async def organization(client, user_headers):
    """Acme, which `user` (alice) created through the API, and so owns."""
    r = await client.post(URL, json={"name": "Acme"}, headers=user_headers)
    assert r.status_code == 201, r.text
    return r.json()
