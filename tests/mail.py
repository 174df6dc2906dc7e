"""The local mail catcher of a rendered service's README, in the test process: an SMTP server
(aiosmtpd) on a free port that keeps what it receives. The smoke and replicas tiers share it."""

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email import message_from_bytes, policy
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from .serving import free_port

#: How long mail may take: it goes out after the response, through the worker when there is one.
MAIL_SECONDS = 10


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    text: str


class Inbox:
    """What the SMTP server received: every mail, in order of arrival."""

    def __init__(self) -> None:
        self.port = free_port()
        self.mails: list[Mail] = []
        #: The plain texts not yet read by `code()`.
        self.texts: list[str] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.original_content, policy=policy.default)
        text = message.get_body(preferencelist=("plain",)).get_content()
        for recipient in envelope.rcpt_tos:
            self.mails.append(Mail(recipient, str(message["Subject"]), text))
        self.texts.append(text)
        return "250 OK"

    def code(self) -> str:
        """The code of the newest mail that has one, read as a person would; mail goes out
        after the response, so it may take a moment."""
        deadline = time.monotonic() + MAIL_SECONDS
        while time.monotonic() < deadline:
            for text in reversed(self.texts):
                if match := re.search(r"\b\d{8}\b", text):
                    self.texts.clear()
                    return match.group()
            time.sleep(0.05)
        pytest.fail("no mail with a code arrived")

    def to(self, recipient: str) -> list[Mail]:
        return [mail for mail in self.mails if mail.to == recipient]

    def find(self, recipient: str, pattern: str) -> str:
        """The first match of `pattern` in the newest mail to `recipient` that has one, once it
        arrives (the whole match, or its first group)."""
        deadline = time.monotonic() + MAIL_SECONDS
        while time.monotonic() < deadline:
            for mail in reversed(self.to(recipient)):
                if match := re.search(pattern, mail.text):
                    return match.group(1) if match.groups() else match.group()
            time.sleep(0.05)
        pytest.fail(f"no mail to {recipient} matching {pattern!r} arrived")


@contextmanager
def catching_mail() -> Iterator[Inbox]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=inbox.port)
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()
