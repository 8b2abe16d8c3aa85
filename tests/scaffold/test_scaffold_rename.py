"""Renaming copied source: identifiers, prose, paths, tags, and what must stay."""

import pytest

from scaffold.names import Names, rename

EXAMPLE = Names("items", "item")
ORDER_LINES = Names.parse("order_lines")


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (
            "def list_items(item_in: ItemCreate) -> Item: ...",
            "def list_order_lines(order_line_in: OrderLineCreate) -> OrderLine: ...",
        ),
        (
            "OwnedItem = Annotated[Item, Depends(get_owned_item)]",
            "OwnedOrderLine = Annotated[OrderLine, Depends(get_owned_order_line)]",
        ),
        (
            "from modules.items.schemas import ItemsPage",
            "from modules.order_lines.schemas import OrderLinesPage",
        ),
        ("MAX_ITEMS = ITEM_LIMIT", "MAX_ORDER_LINES = ORDER_LINE_LIMIT"),
        ('raise NotFoundError("Item not found")', 'raise NotFoundError("Order line not found")'),
        (
            '"""The caller\'s items; a superuser sees the item."""',
            '"""The caller\'s order lines; a superuser sees the order line."""',
        ),
        ("# Items: one per line", "# Order lines: one per line"),
        ('url = "/api/v1/items/{item_id}"', 'url = "/api/v1/order_lines/{order_line_id}"'),
        ('assert ids == ["items-list"]', 'assert ids == ["order-lines-list"]'),
        ('assert tag == "x-items"', 'assert tag == "x-order-lines"'),
        ('page = r.json()["items"]', 'page = r.json()["items"]'),
        ('assert body == {"items": [], "total": 0}', 'assert body == {"items": [], "total": 0}'),
        ('assert tags == ["items"]', 'assert tags == ["order-lines"]'),
        (
            "for k, v in item_in.model_dump().items(): ...",
            "for k, v in order_line_in.model_dump().items(): ...",
        ),
        ("f\"{URL}/{item['id']}\"", "f\"{URL}/{order_line['id']}\""),
        ("itemize(items_count, Itemset)", "itemize(order_lines_count, Itemset)"),
    ],
)
def test_rename(source: str, expected: str):
    assert rename(source, EXAMPLE, ORDER_LINES) == expected


def test_names_derive_every_form():
    names = Names.parse("order_lines")
    assert (names.singular, names.pascal, names.pascal_plural) == ("order_line", "OrderLine", "OrderLines")
    assert (names.prose, names.prose_plural) == ("order line", "order lines")
    assert Names.parse("categories").singular == "category"
    assert Names.parse("people", "person").pascal == "Person"
