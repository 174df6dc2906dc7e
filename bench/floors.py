"""The floors the benchmark compares the service with, served by uvicorn like the service.

`/bare` is an async endpoint that does nothing; `/select-1` runs one `SELECT 1` through the
service's own engine (same driver, same pool settings), in a session of its own as a request
would. Both run in the rendered service's virtualenv, so the versions are the service's.
`/sink/...` takes what a service under `bench/observability.py` reports (error reports, traces)
and drops it.
"""

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import import_module

from fastapi import FastAPI, Request, Response
from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker

#: The rendered service's package, named by `bench/run.py`.
PACKAGE = os.environ["BENCH_PACKAGE"]
settings = import_module(f"{PACKAGE}.core.config").get_settings()
engine = import_module(f"{PACKAGE}.core.db").create_engine(settings)
sessions = async_sessionmaker(engine, expire_on_commit=False)


@asynccontextmanager
async def lifespan(_: FastAPI) -> AsyncIterator[None]:
    yield
    await engine.dispose()


app = FastAPI(lifespan=lifespan)


@app.get("/bare")
async def bare() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/select-1")
async def select_1() -> dict[str, int]:
    async with sessions() as db:
        return {"one": (await db.execute(text("SELECT 1"))).scalar_one()}


@app.post("/sink/{path:path}")
async def sink(request: Request) -> Response:
    await request.body()
    return Response(status_code=200)
