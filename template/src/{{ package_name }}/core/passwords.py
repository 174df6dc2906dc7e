"""Password hashing: Argon2id for new hashes, bcrypt only to verify hashes brought from elsewhere.

Hashing is CPU-bound and deliberately slow, so it runs in a small thread pool: the event loop
keeps serving other requests, and a storm of logins queues here instead of exhausting memory.
"""

import asyncio
import os
from concurrent.futures import ThreadPoolExecutor

from pwdlib import PasswordHash
from pwdlib.exceptions import HashVerificationError
from pwdlib.hashers.argon2 import Argon2Hasher
from pwdlib.hashers.bcrypt import BcryptHasher

# OWASP's minimum for Argon2id: 19 MiB of memory, two passes, one lane.
ARGON2_MEMORY_KIB = 19 * 1024
ARGON2_TIME_COST = 2
ARGON2_PARALLELISM = 1

_password_hash = PasswordHash(
    (
        Argon2Hasher(
            memory_cost=ARGON2_MEMORY_KIB,
            time_cost=ARGON2_TIME_COST,
            parallelism=ARGON2_PARALLELISM,
        ),
        BcryptHasher(),
    )
)
_hashing_pool = ThreadPoolExecutor(
    max_workers=os.cpu_count() or 1, thread_name_prefix="password-hashing"
)


async def hash_password(password: str) -> str:
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_hashing_pool, _password_hash.hash, password)


def _verify_and_update(password: str, password_hash: str) -> tuple[bool, str | None]:
    try:
        return _password_hash.verify_and_update(password, password_hash)
    except HashVerificationError:
        # A hash that cannot be checked against this password: bcrypt refuses passwords over
        # 72 bytes instead of truncating them. No match, never a 500.
        return False, None


async def verify_password(password: str, password_hash: str) -> tuple[bool, str | None]:
    """Whether the password matches, and a new hash when the stored one is outdated."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_hashing_pool, _verify_and_update, password, password_hash)


#: A hash of no one's password, with the parameters above, so that checking it costs what
#: checking a real one does. `test_passwords.py` fails if the parameters change without it.
DUMMY_HASH = (
    "$argon2id$v=19$m=19456,t=2,p=1$bqVsSGHKYMCSnmJ0F1zQMg"
    "$tt/MoFwFQHeJoEIhi88XkKKjopn9EKnjFqTK+jUhIHc"
)


async def burn_verification_time(password: str) -> None:
    """Verify against a dummy hash, so that an unknown account costs what a known one does."""
    await verify_password(password, DUMMY_HASH)
