"""Domain events between modules, delivered through a durable publication registry (core.jobs).

    # modules/orders/events.py: what the module tells the others
    class OrderPlaced(Event):
        order_id: uuid.UUID

    # modules/orders/service.py: published in the transaction of the change, before its commit
    publish(session, OrderPlaced(order_id=order.id))
    session.commit()

    # modules/stock/listeners.py: found by discovery
    @listener(OrderPlaced)
    def reserve_stock(event: OrderPlaced, context: JobContext) -> None:
        with context.session() as session: ...

`publish` writes one delivery per listener in the publisher's transaction: committed, each
listener gets the event at least once; rolled back, nobody ever does; nobody listening, nothing
is written. Each delivery is a job of its own kind (`orders.OrderPlaced>stock.reserve_stock`),
with its own attempts, backoff, lease and dead state, so a failing listener neither blocks nor
repeats another, and several runners never hold one delivery at once.

Deliveries run in no promised order, and at least once: a listener makes itself idempotent,
with the event's `event_id` as its key (docs/layout.md: Publish and listen). Dead ones are
listed and resubmitted with `python -m core.events dead|resubmit [--event E] [--listener L]
[--older-than 2h]`.
"""

from core.events.bus import listener, publish
from core.events.event import Event

__all__ = ["Event", "listener", "publish"]
