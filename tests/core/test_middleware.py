"""The body limit as plain ASGI, for the messages an HTTP client cannot easily send."""

from typing import Any

import pytest
from starlette.exceptions import HTTPException
from starlette.types import Message, Receive, Scope, Send

from core.middleware import BodyLimitMiddleware


def http_scope(*headers: tuple[bytes, bytes]) -> Scope:
    return {"type": "http", "method": "POST", "path": "/", "headers": list(headers)}


def feed(*messages: Message) -> Receive:
    queue = list(messages)

    async def receive() -> Message:
        return queue.pop(0)

    return receive


async def ignore(_message: Message) -> None:
    return None


class Reader:
    """An app that reads every message it is given and keeps them."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.seen: list[Message] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        for _ in range(self.count):
            self.seen.append(await receive())


async def test_a_disconnect_passes_through_uncounted() -> None:
    reader = Reader(2)
    body = {"type": "http.request", "body": b"x" * 10, "more_body": True}
    disconnect = {"type": "http.disconnect"}

    await BodyLimitMiddleware(reader, max_bytes=10)(http_scope(), feed(body, disconnect), ignore)

    assert reader.seen == [body, disconnect]


async def test_an_unreadable_content_length_is_counted_instead() -> None:
    reader = Reader(2)
    chunk: dict[str, Any] = {"type": "http.request", "body": b"x" * 6, "more_body": True}

    with pytest.raises(HTTPException) as refused:
        await BodyLimitMiddleware(reader, max_bytes=10)(
            http_scope((b"content-length", b"five")), feed(chunk, chunk), ignore
        )

    assert refused.value.status_code == 413


async def test_other_scopes_pass_through() -> None:
    seen: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope["type"])

    await BodyLimitMiddleware(app, max_bytes=1)({"type": "websocket"}, feed(), ignore)

    assert seen == ["websocket"]
