"""The service's tasks: synchronous, each with its own database session or SMTP connection.

Every task may run twice (a redelivery after a worker died), so each is idempotent.
"""

import logging
import smtplib
import ssl
from datetime import timedelta
from functools import cache
from typing import Any, cast

from celery import Task, shared_task
from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from ..core.cleanup import delete_expired_sync
from ..core.config import Settings
from ..core.db import utcnow
from ..core.email import Email, build_message
from ..core.redis import REDIS_TIMEOUT
from ..extensions import EXTENSIONS
from .app import CLEAN_UP, MAX_RETRY_DELAY, SEND_EMAIL, ServiceCelery

logger = logging.getLogger(__name__)

#: How long a sent email is remembered by its idempotency key: longer than any redelivery.
SENT_EMAIL_MEMORY = timedelta(days=7)


def _app(task: Task[Any, Any]) -> ServiceCelery:
    return cast(ServiceCelery, task.app)


@cache
def _tls() -> ssl.SSLContext:
    """smtplib checks no certificate unless given a context that does; loading the system's
    certificates is slow, so it is done once per worker process."""
    return ssl.create_default_context()


def _deliver(settings: Settings, email: Email) -> None:
    host, port, timeout = settings.smtp_host, settings.smtp_port, settings.smtp_timeout
    connection: smtplib.SMTP
    if settings.smtp_security == "tls":
        connection = smtplib.SMTP_SSL(host, port, timeout=timeout, context=_tls())
    else:
        connection = smtplib.SMTP(host, port, timeout=timeout)
    with connection as smtp:
        if settings.smtp_security == "starttls":
            smtp.starttls(context=_tls())
        if settings.smtp_username:
            smtp.login(settings.smtp_username, settings.smtp_password.get_secret_value())
        smtp.send_message(build_message(settings, email))


@shared_task(
    bind=True,
    name=SEND_EMAIL,
    autoretry_for=(smtplib.SMTPException, OSError, RedisConnectionError, RedisTimeoutError),
    # A refused sender or recipient is refused for good: retrying cannot help.
    dont_autoretry_for=(smtplib.SMTPSenderRefused, smtplib.SMTPRecipientsRefused),
    retry_backoff=True,
    retry_backoff_max=MAX_RETRY_DELAY,
    retry_jitter=True,
    max_retries=10,
)
def send_email(self: Task[Any, Any], email: dict[str, str], idempotency_key: str) -> None:
    """Send one email, once: a redelivered task finds its key and sends nothing.

    On SMTP errors it retries with exponential backoff (up to 10 minutes apart, 10 times),
    except when the server refuses the sender or the recipient.
    """
    settings = _app(self).settings
    sent = f"email-sent:{idempotency_key}"
    with Redis.from_url(
        settings.redis_url, socket_connect_timeout=REDIS_TIMEOUT, socket_timeout=REDIS_TIMEOUT
    ) as redis:
        if redis.exists(sent):
            logger.info("email already sent, not again: %s", idempotency_key)
            return
        _deliver(settings, Email(**email))
        redis.set(sent, 1, ex=SENT_EMAIL_MEMORY)


@shared_task(bind=True, name=CLEAN_UP)
def clean_up(self: Task[Any, Any]) -> dict[str, int]:
    """Delete what has expired, by the rules each domain declares (`extensions.py`)."""
    app = _app(self)
    with app.sessionmaker.begin() as db:
        deleted = dict(delete_expired_sync(db, app.settings, EXTENSIONS.clean_up, utcnow()))
    logger.info("clean-up deleted %s", deleted)
    return deleted
