"""Mail through the worker: the API hands each email to the email queue after the commit."""

import asyncio
import logging
import uuid
from dataclasses import asdict

from kombu.exceptions import OperationalError

from ..core.config import Settings
from ..core.email import Email
from . import tasks  # noqa: F401 (registers the tasks on every app, this one included)
from .app import SEND_EMAIL, ServiceCelery

logger = logging.getLogger(__name__)


class CeleryEmailSender:
    """Enqueues `send_email`; the worker delivers, with retries, and sends each email once."""

    def __init__(self, settings: Settings) -> None:
        self.celery = ServiceCelery(settings)

    async def send(self, email: Email) -> None:
        task = self.celery.tasks[SEND_EMAIL]
        key = uuid.uuid4().hex
        try:
            # Publishing is blocking network I/O: keep it off the event loop. The body may hold
            # a code: logs, events and Flower show the key only (`kwargsrepr` is a documented
            # option of apply_async that celery-types does not list).
            await asyncio.to_thread(
                task.apply_async,
                kwargs={"email": asdict(email), "idempotency_key": key},
                kwargsrepr=repr({"email": "<redacted>", "idempotency_key": key}),  # type: ignore[call-arg]
            )
        except OperationalError:
            # The recipient and the body (which may hold a code) stay out of the log.
            logger.exception("email not queued, the broker is unreachable: %s", email.subject)
