"""Limits that keep one client or one burst from taking the service down: the size of a request
body, and how many requests are answered at once. Pure ASGI, so they cost no task switch."""

from collections.abc import Callable

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import OverloadedError, PayloadTooLargeError, error_response

#: Probes are answered even past the limit: an overloaded service is alive, and a liveness
#: probe that failed would have it restarted, losing what it holds.
NEVER_SHED = "/health/"


def _too_large() -> HTTPException:
    # FastAPI's own exception: raised while a body is read, it reaches the error handlers as it
    # is, where anything else would become a 400 "error parsing the body".
    return HTTPException(PayloadTooLargeError.status_code, PayloadTooLargeError.message)


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None


class BodySizeLimitMiddleware:
    """413 for a body over `max_bytes`: at once by its declared length, else (a chunked body)
    as soon as what arrived passes the limit; nothing larger is ever read."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _declared_length(scope)
        if declared is not None and declared > self.max_bytes:
            await error_response(_too_large())(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                raise _too_large()
            return message

        await self.app(scope, counted, send)


class LoadSheddingMiddleware:
    """503 with Retry-After, at once, for a request past `max_in_flight` being answered: the
    requests the service takes stay fast instead of all queueing behind a burst. `on_shed`, if
    given, is called for each request refused: for whoever counts them."""

    def __init__(
        self, app: ASGIApp, max_in_flight: int, on_shed: Callable[[], object] | None = None
    ) -> None:
        self.app = app
        self.max_in_flight = max_in_flight
        self.on_shed = on_shed
        self.in_flight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(NEVER_SHED):
            await self.app(scope, receive, send)
            return
        if self.in_flight >= self.max_in_flight:
            if self.on_shed is not None:
                self.on_shed()
            refusal = OverloadedError(headers={"Retry-After": "1"})
            await error_response(refusal)(scope, receive, send)
            return
        self.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1
