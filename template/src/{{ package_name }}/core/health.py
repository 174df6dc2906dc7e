"""Liveness and readiness probes."""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import text

from .dependencies import ResourcesDep
from .errors import ServiceUnavailableError
from .resources import Resources

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/health", tags=["health"])

#: Seconds each dependency gets to answer a readiness probe.
CHECK_TIMEOUT = 2.0

CheckResult = Literal["ok", "down"]


class LiveStatus(BaseModel):
    status: Literal["ok"] = "ok"


class ReadyStatus(BaseModel):
    status: Literal["ok"] = "ok"
    checks: dict[str, CheckResult]


async def _ping_database(resources: Resources) -> None:
    async with resources.engine.connect() as connection:
        await connection.execute(text("SELECT 1"))


async def _ping_redis(resources: Resources) -> None:
    await resources.redis.ping()


_PROBES: dict[str, Callable[[Resources], Awaitable[None]]] = {
    "database": _ping_database,
    "redis": _ping_redis,
}


async def _check(name: str, resources: Resources) -> CheckResult:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT):
            await _PROBES[name](resources)
    except Exception:
        logger.warning("readiness check failed: %s", name, exc_info=True)
        return "down"
    return "ok"


@router.get("/live")
async def live() -> LiveStatus:
    return LiveStatus()


@router.get("/ready", responses={503: {"description": "A dependency is down"}})
async def ready(resources: ResourcesDep) -> ReadyStatus:
    results = await asyncio.gather(*(_check(name, resources) for name in _PROBES))
    checks = dict(zip(_PROBES, results, strict=True))
    down = [name for name, result in checks.items() if result == "down"]
    if down:
        raise ServiceUnavailableError(f"Not ready: {', '.join(down)} down.", details=checks)
    return ReadyStatus(checks=checks)
