"""What the service builds once at start-up and shares between requests."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from .config import Settings
from .db import create_engine, create_read_sessionmaker, create_sessionmaker
from .email import EmailSender
from .ratelimit import RateLimiter
from .redis import create_redis


@dataclass(frozen=True, slots=True)
class Resources:
    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    #: For routes that only read (`dependencies.ReadDbDep`).
    read_sessionmaker: async_sessionmaker[AsyncSession]
    redis: Redis
    rate_limiter: RateLimiter
    email_sender: EmailSender


@asynccontextmanager
async def open_resources(settings: Settings, email_sender: EmailSender) -> AsyncIterator[Resources]:
    """Connections are opened lazily by the pools, so start-up does not wait on the network.

    Mail goes out through `email_sender` (see `api.EMAIL_SENDER`).
    """
    engine = create_engine(settings)
    redis = create_redis(settings)
    try:
        yield Resources(
            settings,
            engine,
            create_sessionmaker(engine),
            create_read_sessionmaker(engine),
            redis,
            RateLimiter(redis),
            email_sender,
        )
    finally:
        await redis.aclose()
        await engine.dispose()
