"""Liveness and readiness probes."""

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import text

from .dependencies import ResourcesDep
from .errors import ServiceUnavailableError
from .openapi import raises
from .reachability import reason
from .resources import Resources

logger = logging.getLogger(__name__)

#: Seconds each dependency gets to answer a readiness probe.
CHECK_TIMEOUT = 2.0

CheckResult = Literal["ok", "down"]


class LiveStatus(BaseModel):
    status: Literal["ok"] = "ok"


class ReadyStatus(BaseModel):
    status: Literal["ok"] = "ok"
    checks: dict[str, CheckResult]


#: A readiness check: returns when the dependency answers, raises when it does not.
Probe = Callable[[Resources], Awaitable[None]]


async def _ping_database(resources: Resources) -> None:
    async with resources.engine.connect() as connection:
        await connection.execute(text("SELECT 1"))


async def _ping_redis(resources: Resources) -> None:
    await resources.redis.ping()


CORE_PROBES: dict[str, Probe] = {"database": _ping_database, "redis": _ping_redis}


#: Probes still running after their check gave up on them, kept until they end.
_late_probes: set[asyncio.Task[None]] = set()


def _forget(probe: asyncio.Task[None]) -> None:
    _late_probes.discard(probe)
    if not probe.cancelled():
        probe.exception()  # its check already said "down"; nothing is left to report


async def _check(probe: Probe, name: str, resources: Resources) -> CheckResult:
    """Down when the probe fails or takes longer than CHECK_TIMEOUT. A late probe is left to
    end on its own (the clients' timeouts bound it) rather than cancelled: psycopg answers a
    cancelled statement by asking the server to cancel it, and waits, seconds more when the
    server is silent."""
    running = asyncio.ensure_future(probe(resources))
    done, _ = await asyncio.wait({running}, timeout=CHECK_TIMEOUT)
    if not done:
        logger.warning("readiness check timed out: %s", name)
        _late_probes.add(running)
        running.add_done_callback(_forget)
        return "down"
    if (error := running.exception()) is not None:
        # One line: a probe failing every few seconds must not fill the log with tracebacks.
        logger.warning("readiness check failed: %s: %s", name, reason(error))
        return "down"
    return "ok"


def create_health_router(probes: Mapping[str, Probe]) -> APIRouter:
    """/health/live, and /health/ready running every probe at once."""
    router = APIRouter(prefix="/health", tags=["health"])

    @router.get("/live")
    async def live() -> LiveStatus:
        return LiveStatus()

    @router.get("/ready")
    @raises(ServiceUnavailableError)
    async def ready(resources: ResourcesDep) -> ReadyStatus:
        results = await asyncio.gather(
            *(_check(probe, name, resources) for name, probe in probes.items())
        )
        checks = dict(zip(probes, results, strict=True))
        down = [name for name, result in checks.items() if result == "down"]
        if down:
            raise ServiceUnavailableError(f"Not ready: {', '.join(down)} down.", details=checks)
        return ReadyStatus(checks=checks)

    return router
