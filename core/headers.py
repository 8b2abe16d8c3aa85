"""Response headers every answer carries, and the ones only some must.

Every response: `X-Content-Type-Options: nosniff` (a browser never runs a JSON body as a script
or a page) and `Referrer-Policy: no-referrer` (a link followed from /docs leaks no URL). A
response that carries a token adds `Cache-Control: no-store` (RFC 6749 §5.1), so no cache, proxy
or browser history keeps it: `dependencies=[no_store]`.
"""

from fastapi import Depends, Response

# Raw, as ASGI sends them: appended to every response without building a header object.
EVERY_RESPONSE = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
)


async def _no_store(response: Response) -> None:
    # No I/O: on the event loop.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"


no_store = Depends(_no_store)
