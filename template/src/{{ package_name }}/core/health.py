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


async def _check(probe: Probe, name: str, resources: Resources) -> CheckResult:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT):
            await probe(resources)
    except Exception:
        logger.warning("readiness check failed: %s", name, exc_info=True)
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
