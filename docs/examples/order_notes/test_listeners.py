# tests/order_notes/test_listeners.py
from core.events.testing import pending_deliveries


async def test_a_new_order_gets_its_first_note(client, user_headers, engine):
    order = await client.post(
        "/api/v1/orders",
        json={"number": "A-1", "placed_on": "2026-12-01"},
        headers=user_headers,
    )
    assert order.status_code == 201, order.text
    assert pending_deliveries(engine) == []  # the listener has run
    notes = await client.get(
        "/api/v1/order_notes",
        params={"order_id": order.json()["id"]},
        headers=user_headers,
    )
    assert [note["body"] for note in notes.json()["items"]] == ["Placed"]
