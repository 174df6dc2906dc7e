"""A transaction that lost to a concurrent one is tried again, whole: a deadlock or a
serialization failure is the database's way of letting one of two transactions go on, not an
outage. Lock-wait and statement timeouts, lost connections and every other error are not tried
again (see docs/architecture.md, "Transactions that lose to a concurrent one").

The unit of work is the whole request: what the dependencies checked, what the handler wrote,
the audit trail, the mail it queued. A dependency cannot run its handler again, so the request
runs again from the middleware that sits just outside the routes; its mail is sent only after
the attempt that committed, since it waits for the answer, and an attempt that failed has none.
"""

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable

from sqlalchemy.exc import DBAPIError, OperationalError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .driver import lost_to_a_concurrent_transaction
from .errors import error_response

logger = logging.getLogger(__name__)

#: How many times in all a transaction is tried while it loses to concurrent ones.
TRANSACTION_ATTEMPTS = 3
#: The longest pause before the first retry, in seconds; each next one may wait twice as long.
#: Random, so that two transactions that deadlocked do not meet again at the same moment.
FIRST_PAUSE = 0.05


def lost_to_concurrency(error: BaseException) -> bool:
    """Whether the database rolled the transaction back only so that a concurrent one could
    go on: the same work, tried again, may well pass."""
    return isinstance(error, DBAPIError) and lost_to_a_concurrent_transaction(error.orig)


async def retry_transaction[T](
    attempt: Callable[[], Awaitable[T]], *, may_retry: Callable[[], bool] = lambda: True
) -> T:
    """Run `attempt`, the whole work of one transaction, again (after a short random pause)
    when it lost to a concurrent transaction and `may_retry()`; up to TRANSACTION_ATTEMPTS
    times in all, then its error is raised."""
    for tries in range(1, TRANSACTION_ATTEMPTS):
        try:
            return await attempt()
        except DBAPIError as error:
            if not (lost_to_concurrency(error) and may_retry()):
                raise
            logger.warning(
                "transaction lost to a concurrent one; trying it again",
                extra={"attempt": tries, "error": type(error.orig).__name__},
            )
        await asyncio.sleep(random.uniform(0, FIRST_PAUSE * 2 ** (tries - 1)))  # noqa: S311
    return await attempt()


class _RecordedBody:
    """The request's body, recorded as the first attempt reads it, for the next to read again."""

    def __init__(self, receive: Receive) -> None:
        self._receive = receive
        self._messages: list[Message] = []

    def reader(self) -> Receive:
        replay = iter(self._messages.copy())

        async def receive() -> Message:
            if (message := next(replay, None)) is not None:
                return message
            message = await self._receive()
            if message["type"] == "http.request":
                self._messages.append(message)
            return message

        return receive


class RetryLostTransactionsMiddleware:
    """Runs a request again, whole, when its transaction lost to a concurrent one and nothing
    of its answer was sent yet; when it still loses, it answers as for any operational error
    of the database (503 `database_unavailable`).

    Innermost of the middleware, just outside the routes: their error handlers would have
    answered the error already, so OperationalError is left to this one (`errors.py`).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body = _RecordedBody(receive)
        answered = False
        attempts = 0

        async def send_answer(message: Message) -> None:
            nonlocal answered
            answered = True
            await send(message)

        async def attempt() -> None:
            nonlocal attempts
            attempts += 1
            # A copy for each retry: what routing wrote into the scope is not carried over.
            await self.app(scope if attempts == 1 else dict(scope), body.reader(), send_answer)

        try:
            await retry_transaction(attempt, may_retry=lambda: not answered)
        except OperationalError as error:
            if answered:
                raise
            await error_response(error)(scope, receive, send)
