"""Operator passwords: Argon2id hashes (argon2-cffi), computed off the event loop.

`await hash_password(p)` answers an encoded Argon2id hash (parameters and salt
inside it); `await verify_password(hash, p)` answers whether `p` matches. Both take
tens of milliseconds of CPU on purpose, so they run in a worker thread.
`await burn_verification(p)` spends the same time on a fixed hash, so a login for an
unknown email takes as long as one with a wrong password and does not tell an
attacker which emails exist. Passwords are 8 to 128 characters (`check_password`).
"""

from __future__ import annotations

import asyncio
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from agentgraph.domain.errors import DomainError

__all__ = [
    "MAX_PASSWORD_LENGTH",
    "MIN_PASSWORD_LENGTH",
    "WeakPassword",
    "burn_verification",
    "check_password",
    "hash_password",
    "verify_password",
]

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 128
_HASHER = PasswordHasher()


@cache
def _dummy_hash() -> str:
    return _HASHER.hash("not a password anyone has")


class WeakPassword(DomainError):
    """A password shorter than 8 or longer than 128 characters."""

    code = "weak_password"

    def __init__(self) -> None:
        super().__init__(
            f"A password has {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters."
        )


def check_password(password: str) -> str:
    """`password` when its length is acceptable; `WeakPassword` otherwise."""
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise WeakPassword()
    return password


async def hash_password(password: str) -> str:
    """The Argon2id hash of `password` (checked by `check_password` first)."""
    check_password(password)
    return await asyncio.to_thread(_HASHER.hash, password)


def _verify(encoded: str, password: str) -> bool:
    try:
        return _HASHER.verify(encoded, password)
    except (VerificationError, InvalidHashError):
        return False


async def verify_password(encoded: str, password: str) -> bool:
    """True when `password` matches the stored hash `encoded`."""
    if len(password) > MAX_PASSWORD_LENGTH:
        return False
    return await asyncio.to_thread(_verify, encoded, password)


async def burn_verification(password: str) -> None:
    """Spend a verification's time on a fixed hash (logins for unknown emails)."""
    await asyncio.to_thread(lambda: _verify(_dummy_hash(), password[:MAX_PASSWORD_LENGTH]))
