"""Database engine, declarative base and the column types every model shares."""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Dialect, MetaData, event
from sqlalchemy.dialects import mysql
from sqlalchemy.exc import InvalidRequestError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    ORMExecuteState,
    Session,
    UOWTransaction,
    mapped_column,
)
from sqlalchemy.types import TypeDecorator, TypeEngine

from .config import Settings
from .driver import READ_ONLY_OPTIONS, bounded_connector

#: Stable constraint names, so that migrations name things the same on every engine.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every engine, to the microsecond.

    MySQL's DATETIME keeps no zone, and no fraction of a second unless asked: DATETIME(6).
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name in {"mysql", "mariadb"}:
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(self.impl)

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            msg = "naive datetimes are ambiguous; pass an aware one"
            raise ValueError(msg)
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime}  # noqa: RUF012 (read by SQLAlchemy)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


def create_engine(settings: Settings) -> AsyncEngine:
    """The pool is bounded and fails fast: a short wait, then a 503, never a queue that hangs.

    Connecting and every statement are bounded too, so that a database that accepts connections
    but never answers costs a request seconds and a 503, not minutes: the driver's connection
    gives up, closes and raises its own lost-connection error (see `driver.py`), which
    SQLAlchemy takes for a disconnect, discarding the connection instead of pooling it.
    """
    return create_async_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout,
        pool_recycle=settings.db_pool_recycle,
        pool_pre_ping=True,
        connect_args={
            "connect_timeout": settings.db_connect_timeout,
            # What the dialect calls instead of the driver's own connect (both dialects take it).
            "async_creator_fn": bounded_connector(settings.db_statement_timeout),
        },
        # Errors in the log name no bound values: emails, password hashes, code digests.
        hide_parameters=True,
    )


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


class ReadOnlySession(Session):
    """A session for work that only reads: an INSERT, UPDATE or DELETE statement through it, or
    a flush of changed objects, raises (SQL written as text is not looked into). On PostgreSQL
    it holds no transaction (see `driver.py`), so a write would take effect at once, with no
    commit to wait for: it is refused instead, on every engine alike."""


_WRITE_REFUSED = "a read-only session does not write: take a session with a transaction"


@event.listens_for(ReadOnlySession, "do_orm_execute")
def _refuse_statements_that_write(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        raise InvalidRequestError(_WRITE_REFUSED)


@event.listens_for(ReadOnlySession, "before_flush")
def _refuse_changes(session: Session, _: UOWTransaction, __: object) -> None:
    if session.new or session.dirty or session.deleted:
        raise InvalidRequestError(_WRITE_REFUSED)


def create_read_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions for requests that only read, each statement on its own (see `ReadOnlySession`):
    a request that reads one statement saves the round trips of a transaction."""
    return async_sessionmaker(
        engine.execution_options(**READ_ONLY_OPTIONS),
        expire_on_commit=False,
        sync_session_class=ReadOnlySession,
    )
