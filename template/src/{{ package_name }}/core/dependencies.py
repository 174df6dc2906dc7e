"""FastAPI dependencies: the shared resources, and the tools of one request, for handlers.

Every dependency here and in the domains is `async def`, even one that awaits nothing: FastAPI
runs a plain `def` in a worker thread, a thread hop on every request for a getter
(`tests/core/test_dependencies.py` keeps it so).
"""

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated, Concatenate, cast

from fastapi import BackgroundTasks, Depends, Request
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from .audit import AuditTrail
from .config import Settings
from .email import Outbox
from .errors import (
    AppError,
    ConflictError,
    DatabaseBusyError,
    DatabaseUnavailableError,
    InvalidValueError,
    RedisUnavailableError,
)
from .openapi import raises
from .ratelimit import RateLimitedError, Throttle
from .resources import Resources
from .transactions import retry_transaction

logger = logging.getLogger(__name__)

#: The longest User-Agent the audit trail keeps.
USER_AGENT_MAX_LENGTH = 255

#: Work done after the response, in a transaction of its own.
DeferredWork = Callable[[AsyncSession, Settings, Outbox], Awaitable[None]]


async def get_resources(request: Request) -> Resources:
    return cast(Resources, request.app.state.resources)


ResourcesDep = Annotated[Resources, Depends(get_resources)]


async def get_settings(resources: ResourcesDep) -> Settings:
    return resources.settings


@raises(RedisUnavailableError)
async def get_redis(resources: ResourcesDep) -> Redis:
    return resources.redis


# What the database can answer a request with (see `errors.error_response`).
@raises(DatabaseUnavailableError, DatabaseBusyError, ConflictError, InvalidValueError)
async def get_db(
    resources: ResourcesDep, after_answer: BackgroundTasks
) -> AsyncIterator[AsyncSession]:
    """One request, one transaction: committed when the handler returns, rolled back if it raises.

    The dependency is function-scoped, so the commit happens before the response is sent and a
    failed commit becomes the request's error instead of a lost write behind a 200. An error
    marked `keeps_changes` commits what the request wrote before it is answered, and then what
    the request queued for after its answer (its mail) goes too: it follows the commit, always.
    A request whose transaction lost to a concurrent one runs again, whole (`transactions.py`).
    """
    async with resources.sessionmaker() as db:
        try:
            yield db
        except AppError as error:
            if error.keeps_changes:
                await db.commit()
                error.after_answer = after_answer
            raise
        await db.commit()


@raises(DatabaseUnavailableError, DatabaseBusyError, InvalidValueError)
async def get_read_db(resources: ResourcesDep) -> AsyncIterator[AsyncSession]:
    """A session for a route that only reads, which a write through it refuses: on PostgreSQL
    each statement runs on its own, without the round trips of BEGIN and COMMIT. A route that
    reads in one statement takes it; one whose statements must see one snapshot takes `DbDep`."""
    async with resources.read_sessionmaker() as db:
        yield db


SettingsDep = Annotated[Settings, Depends(get_settings)]
RedisDep = Annotated[Redis, Depends(get_redis)]
DbDep = Annotated[AsyncSession, Depends(get_db, scope="function")]
ReadDbDep = Annotated[AsyncSession, Depends(get_read_db, scope="function")]


async def client_ip(request: Request) -> str:
    """The caller's address; behind TRUSTED_PROXIES, the one they forwarded (see main.py)."""
    return request.client.host if request.client else "unknown"


ClientIpDep = Annotated[str, Depends(client_ip)]


@raises(RateLimitedError, RedisUnavailableError)
async def get_throttle(request: Request, resources: ResourcesDep, ip: ClientIpDep) -> Throttle:
    """The request's one throttle, kept on it, so that a request run again counts once."""
    throttle: Throttle | None = getattr(request.state, "throttle", None)
    if throttle is None:
        throttle = request.state.throttle = Throttle(resources.rate_limiter, ip)
    return throttle


async def get_outbox(resources: ResourcesDep, background: BackgroundTasks) -> Outbox:
    return Outbox(resources.settings, resources.email_sender, background)


async def get_audit_trail(db: DbDep, request: Request, ip: ClientIpDep) -> AuditTrail:
    user_agent = request.headers.get("user-agent")
    return AuditTrail(db, ip, user_agent[:USER_AGENT_MAX_LENGTH] if user_agent else None)


ThrottleDep = Annotated[Throttle, Depends(get_throttle)]
OutboxDep = Annotated[Outbox, Depends(get_outbox)]
AuditTrailDep = Annotated[AuditTrail, Depends(get_audit_trail)]


class AfterResponse:
    """Work that must not show in the answer's time: the request answers first, then the work
    runs in a transaction of its own (its mail goes out after that commit). Where the answer
    must not tell whether an account exists, the account's work goes here, so both cases answer
    alike and just as fast. A failure is logged: there is nobody left to answer."""

    def __init__(self, resources: Resources, background: BackgroundTasks) -> None:
        self.resources = resources
        self.background = background

    def run[**P](
        self,
        work: Callable[Concatenate[AsyncSession, Settings, Outbox, P], Awaitable[None]],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> None:
        """Run `work(db, settings, outbox, *args, **kwargs)` after the response."""

        async def bound(db: AsyncSession, settings: Settings, outbox: Outbox) -> None:
            await work(db, settings, outbox, *args, **kwargs)

        self.background.add_task(self._in_transaction, bound, work.__name__)

    async def _in_transaction(self, work: DeferredWork, name: str) -> None:
        try:
            mail = await retry_transaction(lambda: self._attempt(work))
        except Exception:
            logger.exception("work after the response failed: %s", name)
            return
        await mail()

    async def _attempt(self, work: DeferredWork) -> BackgroundTasks:
        """One try at the work; its mail, which waits for its commit: a rolled-back code is
        never mailed, and a retried work mails once."""
        mail = BackgroundTasks()
        outbox = Outbox(self.resources.settings, self.resources.email_sender, mail)
        async with self.resources.sessionmaker.begin() as db:
            await work(db, self.resources.settings, outbox)
        return mail


async def get_after_response(resources: ResourcesDep, background: BackgroundTasks) -> AfterResponse:
    return AfterResponse(resources, background)


AfterResponseDep = Annotated[AfterResponse, Depends(get_after_response)]
