"""The real services the template's tests use, and throwaway databases on them.

Point the tests elsewhere with TEMPLATE_TEST_POSTGRES_URL, TEMPLATE_TEST_MYSQL_URL and
TEMPLATE_TEST_REDIS_URL; the defaults are this machine's servers and `tests/compose.yaml`.
"""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

import psycopg
import pymysql
import redis

POSTGRES_URL = os.environ.get(
    "TEMPLATE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
MYSQL_URL = os.environ.get("TEMPLATE_TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306/")
REDIS_URL = os.environ.get("TEMPLATE_TEST_REDIS_URL", "redis://127.0.0.1:6379").rstrip("/")

#: The async driver each generated variant uses for its engine.
SERVICE_DRIVERS = {"postgresql": "postgresql+psycopg", "mysql": "mysql+aiomysql"}


def database_url(database: str, name: str) -> str:
    """The URL a generated service uses to reach database `name` on the test server."""
    server = urlsplit(POSTGRES_URL if database == "postgresql" else MYSQL_URL)
    return f"{SERVICE_DRIVERS[database]}://{server.netloc}/{name}"


def _connect(database: str, name: str | None = None) -> psycopg.Connection | pymysql.Connection:
    """An autocommit connection to the server, in database `name` when given."""
    if database == "postgresql":
        return psycopg.connect(POSTGRES_URL, autocommit=True, **({"dbname": name} if name else {}))
    server = urlsplit(MYSQL_URL)
    return pymysql.connect(
        host=server.hostname or "127.0.0.1",
        port=server.port or 3306,
        user=server.username or "root",
        password=server.password or "",
        database=name,
        autocommit=True,
    )


def create_database(database: str, name: str) -> None:
    with _connect(database) as connection, connection.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {name}")
        if database == "postgresql":
            cursor.execute(f"CREATE DATABASE {name}")
        else:
            cursor.execute(f"CREATE DATABASE {name} CHARACTER SET utf8mb4")


def drop_database(database: str, name: str) -> None:
    with _connect(database) as connection, connection.cursor() as cursor:
        force = " WITH (FORCE)" if database == "postgresql" else ""
        cursor.execute(f"DROP DATABASE IF EXISTS {name}{force}")


@contextmanager
def throwaway_database(database: str, name: str) -> Iterator[str]:
    """A fresh database for one variant, dropped afterwards; yields the service's URL."""
    create_database(database, name)
    try:
        yield database_url(database, name)
    finally:
        drop_database(database, name)


def check_services() -> str | None:
    """None when every service answers, else a line naming what is down and how to start it."""
    down = []
    for name, probe in (
        ("PostgreSQL at " + POSTGRES_URL, lambda: _connect("postgresql").close()),
        ("MySQL/MariaDB at " + MYSQL_URL, lambda: _connect("mysql").close()),
        ("Redis at " + REDIS_URL, lambda: redis.Redis.from_url(REDIS_URL).ping()),
    ):
        try:
            probe()
        except Exception as error:  # any failure means: not usable
            down.append(f"{name} ({type(error).__name__})")
    if not down:
        return None
    return (
        "Not reachable: " + "; ".join(down) + ". Start them with "
        "`docker compose -f tests/compose.yaml up -d`, or point the TEMPLATE_TEST_*_URL "
        "variables at running servers."
    )


def table_rows(database: str, name: str) -> dict[str, list[dict[str, object]]]:
    """Every row of every table in database `name` but Alembic's own, as column -> value."""
    schema = "current_schema()" if database == "postgresql" else "DATABASE()"
    with _connect(database, name) as connection, connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name FROM information_schema.tables "
            f"WHERE table_schema = {schema} AND table_name <> 'alembic_version'"
        )
        tables = [table for (table,) in cursor.fetchall()]
        rows = {}
        for table in tables:
            cursor.execute(f"SELECT * FROM {table}")
            columns = [column[0] for column in cursor.description or ()]
            rows[table] = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    return rows
