"""Rate limits: moving windows counted in Redis with the `limits` library.

A limit is keyed by what it protects: the client's address, or a key its domain chooses (an
account's, say). Redis being down fails the request with 503 instead of letting it through
unlimited.
"""

import math
import time
from functools import cache

from limits import RateLimitItem, parse
from limits.aio.storage import RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter
from redis.asyncio import Redis

from .errors import AppError


class RateLimitedError(AppError):
    status_code = 429
    code = "rate_limited"
    message = "Too many requests; try again later."


@cache
def _limit(spec: str) -> RateLimitItem:
    return parse(spec)


class RateLimiter:
    """Counts hits per (action, key) in the service's Redis; one per process."""

    def __init__(self, redis: Redis) -> None:
        # The service's own connection pool: one set of connections and timeouts, closed with
        # the client in the lifespan. (`limits` documents `connection_pool`; its annotation of
        # the keyword options leaves it out.)
        storage = RedisStorage(
            "async+redis://",
            implementation="redispy",
            connection_pool=redis.connection_pool,  # type: ignore[arg-type]
        )
        self._strategy = MovingWindowRateLimiter(storage)

    async def allows(self, spec: str, action: str, key: str) -> bool:
        """Count one hit; whether it was within the limit."""
        return await self._strategy.hit(_limit(spec), action, key)

    async def hit(self, spec: str, action: str, key: str) -> None:
        """Count one hit; `RateLimitedError` with Retry-After once the limit is reached."""
        if await self.allows(spec, action, key):
            return
        limit = _limit(spec)
        stats = await self._strategy.get_window_stats(limit, action, key)
        retry_after = max(1, math.ceil(stats.reset_time - time.time()))
        raise RateLimitedError(headers={"Retry-After": str(retry_after)})


class Throttle:
    """The rate limits of one request, with its client's address at hand. The request counts
    once, however often it runs (one whose transaction lost to a concurrent one runs again,
    see `transactions.py`): a hit an earlier run counted is not counted again."""

    def __init__(self, limiter: RateLimiter, client_ip: str) -> None:
        self.limiter = limiter
        self.client_ip = client_ip
        self._counted: dict[tuple[str, str, str], bool] = {}

    async def per_ip(self, spec: str, action: str) -> None:
        await self.per_key(spec, action, f"ip:{self.client_ip}")

    async def per_key(self, spec: str, action: str, key: str) -> None:
        if (spec, action, key) not in self._counted:
            await self.limiter.hit(spec, action, key)
            self._counted[spec, action, key] = True

    async def allows(self, spec: str, action: str, key: str) -> bool:
        """Count one hit without refusing the request: whether it was within the limit."""
        if (spec, action, key) not in self._counted:
            self._counted[spec, action, key] = await self.limiter.allows(spec, action, key)
        return self._counted[spec, action, key]
