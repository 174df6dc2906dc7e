"""The Redis client: one per process, built in the lifespan."""

from redis.asyncio import Redis

from .config import Settings

#: Seconds to wait on Redis before calling it down; a readiness probe must answer quickly.
REDIS_TIMEOUT = 2.0


def create_redis(settings: Settings) -> Redis:
    return Redis.from_url(
        settings.redis_url,
        decode_responses=True,
        socket_connect_timeout=REDIS_TIMEOUT,
        socket_timeout=REDIS_TIMEOUT,
        health_check_interval=30,
    )
