"""Whether the database and Redis take a connection, told in one line: which server (its URL
without the password), why not, and what to do. Commands say it instead of a driver's
traceback; the service itself starts without waiting on the network, and /health/ready says
what is down."""

from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine


class UnreachableError(Exception):
    """A server the service needs did not take a connection; the message says what to do."""


def reason(error: BaseException) -> str:
    """The driver's own words for `error`, on one line."""
    return " ".join(str(getattr(error, "orig", None) or error).split())


def _unreachable(server: str, url: str | URL, todo: str, error: BaseException) -> UnreachableError:
    shown = make_url(url).render_as_string(hide_password=True)
    return UnreachableError(f"Cannot reach {server} at {shown}: {reason(error)}. {todo}")


async def check_database(engine: AsyncEngine, setting: str = "DATABASE_URL") -> None:
    """`UnreachableError` unless the database takes a connection."""
    try:
        async with engine.connect():
            pass
    except (DBAPIError, OSError) as error:
        todo = (
            "Start it (`docker compose up -d db`) or create its user and database (the README's "
            f'"Running without Docker" says how), or set {setting}.'
        )
        raise _unreachable("the database", engine.url, todo, error) from error


async def check_redis(redis: Redis, url: str, setting: str = "REDIS_URL") -> None:
    """`UnreachableError` unless Redis answers a ping."""
    try:
        await redis.ping()
    except (RedisError, OSError) as error:
        todo = f"Start it (`docker compose up -d redis`, or a Redis of your own), or set {setting}."
        raise _unreachable("Redis", url, todo, error) from error
