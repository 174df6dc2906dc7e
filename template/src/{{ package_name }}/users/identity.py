"""An account's identity: the one spelling of its email address, and the key that its rate
limits count on."""

import hashlib


def normalize_email(email: str) -> str:
    """The one spelling of an address: one mailbox is one account, and one rate-limit key."""
    return email.strip().lower()


def account_key(email: str) -> str:
    """The rate-limit key of the account an email names (whether or not it exists); hashed, so
    that Redis holds no address."""
    return "account:" + hashlib.sha256(normalize_email(email).encode()).hexdigest()
