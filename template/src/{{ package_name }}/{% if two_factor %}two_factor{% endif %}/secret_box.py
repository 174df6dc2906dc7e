"""The keys of two-factor sign-in: TWO_FACTOR_ENCRYPTION_KEY and the TWO_FACTOR_PREVIOUS_KEYS.

TOTP secrets are encrypted with cryptography's MultiFernet: the current key encrypts, every
configured key decrypts, and `rotate` re-encrypts with the current key, so a key is replaced
without a moment when stored secrets cannot be read. Fernet authenticates what it decrypts: a
tampered row fails loudly instead of yielding a wrong secret.

Backup codes are kept as HMAC-SHA256 under a key derived from the same keys: a copy of the
database alone cannot test guesses offline. They cannot be re-keyed (the codes themselves are
never stored), so they are checked under every configured key.
"""

import hashlib
import hmac

from cryptography.fernet import Fernet, MultiFernet
from pydantic import SecretStr

from ..core.config import Settings


def _hmac_key(key: SecretStr) -> bytes:
    # A key of its own for each use of the secret: the Fernet key never signs anything else.
    return hmac.new(key.get_secret_value().encode(), b"backup-codes", hashlib.sha256).digest()


class SecretBox:
    def __init__(self, settings: Settings) -> None:
        keys = [settings.two_factor_encryption_key, *settings.two_factor_previous_keys]
        self._fernet = MultiFernet([Fernet(key.get_secret_value()) for key in keys])
        self._hmac_keys = [_hmac_key(key) for key in keys]

    def encrypt(self, secret: str) -> str:
        return self._fernet.encrypt(secret.encode()).decode()

    def decrypt(self, encrypted: str) -> str:
        """The secret; `cryptography.fernet.InvalidToken` when no configured key opens it."""
        return self._fernet.decrypt(encrypted).decode()

    def rotate(self, encrypted: str) -> str:
        """The same secret, encrypted with the current key."""
        return self._fernet.rotate(encrypted).decode()

    def digest(self, message: str) -> str:
        """The HMAC of a message under the current key: what is stored."""
        return self.digests(message)[0]

    def digests(self, message: str) -> list[str]:
        """The HMAC of a message under every configured key, the current one first: what a
        stored digest may be."""
        return [
            hmac.new(key, message.encode(), hashlib.sha256).hexdigest() for key in self._hmac_keys
        ]
