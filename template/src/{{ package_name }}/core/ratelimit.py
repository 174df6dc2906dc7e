"""Rate limits: moving windows counted in Redis with the `limits` library, and limits on
guesses at a secret, which count the failed guesses only.

A limit is keyed by what it protects: the client's address, or a key its domain chooses (an
account's, say). Redis being down fails the request with 503 instead of letting it through
unlimited.
"""

import math
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
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

    def __init__(self, action: str, retry_after: int) -> None:
        super().__init__(headers={"Retry-After": str(retry_after)})
        #: The limit that refused, for whoever watches refusals (never in the answer).
        self.action = action


@cache
def _limit(spec: str) -> RateLimitItem:
    return parse(spec)


#: Counts a guess unless the window already holds the limit's guesses, in one step of Redis's:
#: of guesses sent at once, only as many as the limit allows are counted, and so checked. A
#: sorted set of the guesses in the window, scored by when they came (Redis's clock, one for
#: every process): a right guess is taken out again by its id. Answers 0 when the guess is
#: counted, or else the seconds until the oldest guess leaves the window.
_COUNT_GUESS = """
local key, window, limit, guess = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3]
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
if redis.call('ZCARD', key) >= limit then
    local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
    return math.max(1, math.ceil(tonumber(oldest[2]) + window - now))
end
redis.call('ZADD', key, now, guess)
redis.call('EXPIRE', key, window)
return 0
"""


@dataclass(frozen=True, slots=True)
class Guess:
    """One counted guess: where it is counted, to take it out again."""

    key: str
    id: str


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
        self._redis = redis
        self._count_guess = redis.register_script(_COUNT_GUESS)

    async def allows(self, spec: str, action: str, key: str) -> bool:
        """Count one hit; whether it was within the limit."""
        return await self._strategy.hit(_limit(spec), action, key)

    async def hit(self, spec: str, action: str, key: str) -> None:
        """Count one hit; `RateLimitedError` with Retry-After once the limit is reached."""
        if await self.allows(spec, action, key):
            return
        limit = _limit(spec)
        stats = await self._strategy.get_window_stats(limit, action, key)
        raise RateLimitedError(action, max(1, math.ceil(stats.reset_time - time.time())))

    async def count_guess(self, spec: str, action: str, key: str) -> Guess:
        """Count a guess before it is checked; `RateLimitedError` once the window holds the
        limit's guesses."""
        limit = _limit(spec)
        guess = Guess(f"GUESSES/{action}/{key}", secrets.token_hex(8))
        wait = await self._count_guess(
            keys=[guess.key], args=[limit.get_expiry(), limit.amount, guess.id]
        )
        if wait:
            raise RateLimitedError(action, int(wait))
        return guess

    async def give_back(self, guess: Guess) -> None:
        """Take a guess out of its window: it was right, or never checked."""
        await self._redis.zrem(guess.key, guess.id)


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

    @asynccontextmanager
    async def guessing(
        self, spec: str, action: str, key: str, wrong: type[Exception]
    ) -> AsyncIterator[None]:
        """A guess at a secret (a password, a code) within the block, where only wrong guesses
        count against the limit: an honest user who gets it right is never held back.

        The guess counts before the block runs, so guesses sent at once cannot pass the limit
        (it counts the guesses being checked too), and is given back when the block ends
        without raising `wrong`: the secret was right, or the request failed before or after
        it was checked. A request cancelled midway keeps its guess counted.
        """
        guess = await self.limiter.count_guess(spec, action, key)
        try:
            yield
        except wrong:
            raise
        except Exception:
            await self.limiter.give_back(guess)
            raise
        await self.limiter.give_back(guess)
