"""Benchmark psycopg 3 against asyncpg through SQLAlchemy's asyncio extension.

For each driver (``postgresql+psycopg`` and ``postgresql+asyncpg``) an
``AsyncEngine`` is created with ``pool_size=20, max_overflow=0,
pool_pre_ping=True`` and warmed up. Then a fixed number of queries is run by
concurrent asyncio tasks, each query in its own ``AsyncSession`` as a web
request would do, for two query shapes:

* ``SELECT 1``
* ``select by PK``: one row by primary key from a 10-column table

Drivers are interleaved over several rounds, alternating which goes first, to
even out noise. The summary reports the median requests per second across
rounds and the asyncpg/psycopg ratio. With the defaults a run takes about a
minute on a 2-core machine.

The table ``bench_driver_item`` is created in the target database and dropped
again at the end.

Usage (needs ``sqlalchemy[asyncio]``, ``psycopg[binary]`` and ``asyncpg``)::

    python tests/benchmarks/postgres_drivers.py \
        --url-base postgresql://postgres@127.0.0.1:5432/postgres \
        --queries 5000 --concurrency 64 --rounds 3
"""

import argparse
import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from importlib.metadata import version

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Float,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    insert,
    make_url,
    select,
    text,
)
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

PSYCOPG = "postgresql+psycopg"
ASYNCPG = "postgresql+asyncpg"
DRIVERS = (PSYCOPG, ASYNCPG)
TABLE_ROWS = 1_000
WARMUP_QUERIES = 1_000

metadata = MetaData()
item = Table(
    "bench_driver_item",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(100), nullable=False),
    Column("email", String(200), nullable=False),
    Column("age", Integer, nullable=False),
    Column("score", Float, nullable=False),
    Column("balance", Numeric(12, 2), nullable=False),
    Column("is_active", Boolean, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("country_code", String(2), nullable=False),
    Column("bio", Text, nullable=False),
)

Query = Callable[[AsyncSession, int], Awaitable[object]]
Rates = dict[tuple[str, str], list[float]]  # (query shape, driver) -> req/s per round


async def select_one(session: AsyncSession, _: int) -> object:
    return (await session.execute(text("SELECT 1"))).scalar_one()


async def select_by_pk(session: AsyncSession, n: int) -> object:
    statement = select(item).where(item.c.id == n % TABLE_ROWS + 1)
    return (await session.execute(statement)).one()


QUERY_SHAPES: dict[str, Query] = {
    "SELECT 1": select_one,
    "select by PK": select_by_pk,
}


async def create_table(engine: AsyncEngine) -> None:
    epoch = datetime(2024, 1, 1, tzinfo=UTC)
    rows = [
        {
            "id": i,
            "name": f"user {i}",
            "email": f"user{i}@example.com",
            "age": 18 + i % 60,
            "score": i / 7,
            "balance": Decimal(i) / 100,
            "is_active": i % 3 != 0,
            "created_at": epoch + timedelta(minutes=i),
            "country_code": "FR",
            "bio": "lorem ipsum " * 10,
        }
        for i in range(1, TABLE_ROWS + 1)
    ]
    async with engine.begin() as conn:
        await conn.run_sync(metadata.drop_all)
        await conn.run_sync(metadata.create_all)
        await conn.execute(insert(item), rows)


async def drop_table(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.run_sync(metadata.drop_all)


async def measure(
    sessions: async_sessionmaker[AsyncSession],
    query: Query,
    total: int,
    concurrency: int,
) -> float:
    """Run ``total`` queries spread over ``concurrency`` tasks; return req/s."""
    indices = iter(range(total))

    async def worker() -> None:
        for n in indices:  # shared iterator: each index is taken by one task
            async with sessions() as session:
                await query(session, n)

    start = time.perf_counter()
    async with asyncio.TaskGroup() as tasks:
        for _ in range(concurrency):
            tasks.create_task(worker())
    return total / (time.perf_counter() - start)


async def benchmark(args: argparse.Namespace) -> Rates:
    """Run the warm-up and every round; return the measured rates."""
    base_url = make_url(args.url_base)
    engines = {
        driver: create_async_engine(
            base_url.set(drivername=driver),
            pool_size=20,
            max_overflow=0,
            pool_pre_ping=True,
        )
        for driver in DRIVERS
    }
    sessions = {driver: async_sessionmaker(engine) for driver, engine in engines.items()}
    results: Rates = {(shape, driver): [] for shape in QUERY_SHAPES for driver in DRIVERS}
    try:
        await create_table(engines[PSYCOPG])
        for driver in DRIVERS:
            for query in QUERY_SHAPES.values():
                await measure(sessions[driver], query, WARMUP_QUERIES, args.concurrency)

        for round_index in range(args.rounds):
            order = DRIVERS if round_index % 2 == 0 else DRIVERS[::-1]
            for driver in order:
                for shape, query in QUERY_SHAPES.items():
                    rate = await measure(sessions[driver], query, args.queries, args.concurrency)
                    results[shape, driver].append(rate)
                    print(
                        f"round {round_index + 1}/{args.rounds}  {driver:<20}"
                        f"{shape:<14}{rate:>9,.0f} req/s",
                        flush=True,
                    )
    finally:
        await drop_table(engines[PSYCOPG])
        for engine in engines.values():
            await engine.dispose()
    return results


def print_summary(results: Rates) -> None:
    print(f"\n{'query shape':<14}{'psycopg':>10}{'asyncpg':>10}{'asyncpg/psycopg':>18}")
    for shape in QUERY_SHAPES:
        psycopg_rate = statistics.median(results[shape, PSYCOPG])
        asyncpg_rate = statistics.median(results[shape, ASYNCPG])
        print(
            f"{shape:<14}{psycopg_rate:>10,.0f}{asyncpg_rate:>10,.0f}"
            f"{asyncpg_rate / psycopg_rate:>17.2f}x"
        )
    print("(median req/s over rounds)")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--url-base",
        default="postgresql://postgres@127.0.0.1:5432/postgres",
        help="database URL; its driver part is replaced for each driver",
    )
    parser.add_argument("--queries", type=int, default=5_000, help="queries per measurement")
    parser.add_argument("--concurrency", type=int, default=64, help="concurrent asyncio tasks")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds per driver")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    print(
        f"sqlalchemy {version('sqlalchemy')}, psycopg {version('psycopg')}, "
        f"asyncpg {version('asyncpg')}; {args.queries:,} queries x "
        f"{args.concurrency} tasks x {args.rounds} rounds"
    )
    print_summary(asyncio.run(benchmark(args)))


if __name__ == "__main__":
    main()
