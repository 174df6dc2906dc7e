"""The Celery application: `celery -A <package>.worker.app worker` (and `beat`, `flower`).

It is configured from the service's settings, with Redis as the broker. Tasks acknowledge
their message only once done (`acks_late`), and a task whose worker process dies is delivered
again (`reject_on_worker_lost`): work survives a crash, so every task must be safe to run twice.
"""

from datetime import timedelta
from functools import cached_property

from celery import Celery
from kombu import Queue
from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session, sessionmaker

from ..core.config import Settings, get_settings

#: One queue per kind of work, so that a flood of one cannot starve the other.
EMAIL_QUEUE = "email"
MAINTENANCE_QUEUE = "maintenance"
#: The longest wait between two tries of a task, in seconds.
MAX_RETRY_DELAY = 600
SEND_EMAIL = f"{__package__}.tasks.send_email"
CLEAN_UP = f"{__package__}.tasks.clean_up"


class ServiceCelery(Celery):
    """A Celery app that carries the service's settings, and a synchronous database for tasks."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(__package__, broker=settings.broker_url, include=[f"{__package__}.tasks"])
        self.settings = settings
        self.conf.update(
            task_serializer="json",
            accept_content=["json"],
            task_ignore_result=True,
            task_acks_late=True,
            task_reject_on_worker_lost=True,
            task_time_limit=settings.celery_task_time_limit,
            task_soft_time_limit=max(1, settings.celery_task_time_limit - 10),
            # One message at a time per process: with acks_late, a prefetched message would
            # wait behind a slow task and be delivered again if the worker died meanwhile.
            worker_prefetch_multiplier=1,
            task_routes={
                SEND_EMAIL: {"queue": EMAIL_QUEUE},
                CLEAN_UP: {"queue": MAINTENANCE_QUEUE},
            },
            # Declared, so that a worker started without --queues (Celery's plain command)
            # consumes every queue the tasks are routed to, not the unused default one.
            task_queues=[Queue(EMAIL_QUEUE), Queue(MAINTENANCE_QUEUE)],
            task_always_eager=settings.celery_task_always_eager,
            task_eager_propagates=True,
            # A message a dead machine held comes back after this long. It must outlast a task
            # and its longest retry delay, or Redis would hand a waiting retry to another worker.
            broker_transport_options={
                "visibility_timeout": MAX_RETRY_DELAY + 2 * settings.celery_task_time_limit
            },
            broker_connection_retry_on_startup=True,
            beat_schedule={
                "clean-up": {
                    "task": CLEAN_UP,
                    "schedule": timedelta(minutes=settings.cleanup_interval_minutes),
                }
            },
        )

    @cached_property
    def sessionmaker(self) -> sessionmaker[Session]:
        """Synchronous sessions for tasks: no event loop is shared with the async engine."""
        return sessionmaker(self.engine, expire_on_commit=False)

    @cached_property
    def engine(self) -> Engine:
        return create_engine(self.settings.sync_database_url, pool_pre_ping=True)


app = ServiceCelery(get_settings())
