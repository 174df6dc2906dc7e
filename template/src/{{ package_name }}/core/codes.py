"""One-time codes (email verification, password reset): random digits, kept only as an HMAC."""

import hashlib
import hmac
import secrets

from .config import Settings


def generate_code(digits: int) -> str:
    """A code of `digits` digits from the operating system's CSPRNG, leading zeros kept."""
    return f"{secrets.randbelow(10**digits):0{digits}d}"


def code_digest(settings: Settings, *parts: str) -> str:
    """The HMAC-SHA256 of a code and what it is bound to (its purpose, its user).

    The key is derived from SECRET_KEY, so a leaked table of digests cannot be brute-forced
    offline without it.
    """
    key = hmac.new(
        settings.secret_key.get_secret_value().encode(), b"one-time-codes", hashlib.sha256
    ).digest()
    return hmac.new(key, "\x1f".join(parts).encode(), hashlib.sha256).hexdigest()
