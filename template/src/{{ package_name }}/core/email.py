"""Email: messages rendered from the templates in `emails/`, delivered after the request commits.

A request queues its mail on the `Outbox`. Each message is rendered at once, so that a template
error fails the request, and handed to the `EmailSender` only once the response has gone out:
after the transaction committed, never when it rolled back. The sender is the one seam through
which mail leaves the service.
"""

import logging
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from pathlib import Path
from typing import Any, Protocol

import aiosmtplib
from fastapi import BackgroundTasks
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from .config import Settings

logger = logging.getLogger(__name__)

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "emails"

_templates = Environment(
    loader=FileSystemLoader(TEMPLATES_DIR),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


@dataclass(frozen=True, slots=True)
class Email:
    to: str
    subject: str
    text: str
    html: str


def render_email(settings: Settings, template: str, to: str, **context: Any) -> Email:
    """Render `emails/<template>.txt` (whose `subject` block is the subject) and its `.html`."""
    context = {"service_name": settings.email_sender_name, **context}
    text = _templates.get_template(f"{template}.txt")
    subject = "".join(text.blocks["subject"](text.new_context(context))).strip()
    html = _templates.get_template(f"{template}.html")
    return Email(
        to=to,
        subject=subject,
        text=text.render(context),
        html=html.render(context, subject=subject),
    )


class EmailSender(Protocol):
    async def send(self, email: Email) -> None: ...


def build_message(settings: Settings, email: Email) -> EmailMessage:
    """The MIME message: plain text with an HTML alternative, from the configured sender."""
    sender = settings.email_sender_address
    message = EmailMessage()
    message["From"] = formataddr((settings.email_sender_name, sender))
    message["To"] = email.to
    message["Subject"] = email.subject
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    message.set_content(email.text)
    message.add_alternative(email.html, subtype="html")
    return message


class SmtpSender:
    """Sends each message in its own SMTP session; a failure is logged, not retried."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def send(self, email: Email) -> None:
        settings = self.settings
        try:
            await aiosmtplib.send(
                build_message(settings, email),
                hostname=settings.smtp_host,
                port=settings.smtp_port,
                username=settings.smtp_username or None,
                password=settings.smtp_password.get_secret_value() or None,
                use_tls=settings.smtp_security == "tls",
                start_tls=settings.smtp_security == "starttls",
                timeout=settings.smtp_timeout,
            )
        except (aiosmtplib.SMTPException, OSError) as error:
            # Only the kind of failure: its text may name the recipient, the body may hold a code.
            logger.error("email not delivered: %s (%s)", email.subject, type(error).__name__)


class Outbox:
    """The mail of one request, delivered once the response is out, so after the commit."""

    def __init__(self, settings: Settings, sender: EmailSender, background: BackgroundTasks):
        self.settings = settings
        self.sender = sender
        self.background = background

    def send(self, template: str, to: str, **context: Any) -> None:
        email = render_email(self.settings, template, to, **context)
        self.background.add_task(self.sender.send, email)
