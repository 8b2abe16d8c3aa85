# modules/order_notes/listeners.py
from core.events import listener
from core.jobs import JobContext
from modules.order_notes.models import OrderNote
from modules.orders.events import OrderCreated


@listener(OrderCreated)
def note_the_new_order(event: OrderCreated, context: JobContext) -> None:
    """Delivered at least once: the note is named by the event, so a second delivery adds nothing."""
    with context.session() as session:
        if session.get(OrderNote, event.event_id) is None:
            note = OrderNote(
                id=event.event_id,
                order_id=event.order_id,
                owner_id=event.owner_id,
                body="Placed",
            )
            session.add(note)
            session.commit()
