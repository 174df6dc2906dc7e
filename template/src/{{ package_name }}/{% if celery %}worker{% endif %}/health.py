"""The broker's readiness probe."""

from redis.asyncio import Redis

from ..core.redis import REDIS_TIMEOUT
from ..core.resources import Resources


async def ping_broker(resources: Resources) -> None:
    async with Redis.from_url(
        resources.settings.broker_url,
        socket_connect_timeout=REDIS_TIMEOUT,
        socket_timeout=REDIS_TIMEOUT,
    ) as broker:
        await broker.ping()
