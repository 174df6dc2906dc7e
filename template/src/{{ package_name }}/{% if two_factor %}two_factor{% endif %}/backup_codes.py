"""Backup codes: for the day the phone is lost. Ten of them, each 50 random bits, single use,
shown once and kept only as an HMAC (see `secret_box.py`)."""

import secrets
import uuid

from .secret_box import SecretBox

COUNT = 10
#: 32 symbols without the look-alikes 0/o and 1/l: 5 bits each.
_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"
_LENGTH = 10


def generate() -> list[str]:
    """Fresh codes, written as people copy them: `abcde-fghij`."""
    codes = ["".join(secrets.choice(_ALPHABET) for _ in range(_LENGTH)) for _ in range(COUNT)]
    return [f"{code[:5]}-{code[5:]}" for code in codes]


def _message(user_id: uuid.UUID, code: str) -> str:
    """What is signed: the code as typed, in any case and with any dashes or spaces, bound to
    its user, so that one user's code is no other's."""
    typed = "".join(code.split()).replace("-", "").lower()
    return f"{user_id}\x1f{typed}"


def digest(box: SecretBox, user_id: uuid.UUID, code: str) -> str:
    return box.digest(_message(user_id, code))


def possible_digests(box: SecretBox, user_id: uuid.UUID, code: str) -> list[str]:
    """The digest the code has under each configured key."""
    return box.digests(_message(user_id, code))
