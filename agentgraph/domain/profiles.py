"""User profiles: who a phone number is, in which language they want replies.

A profile is keyed by (tenant, E.164 phone) and always comes with a wallet, created
in the same transaction. `get_or_create` and `update` create the profile when it
is missing (the user is known as soon as they talk to us) and are safe to call
concurrently for the same phone. Phones are normalised on the way in, so any form
`normalize_phone` accepts finds the same profile. `name` is stripped, 1 to 80
characters; `language` is `en` or `fr` (English/French spelled out also work).
"""

from __future__ import annotations

import re
from datetime import datetime

from agentgraph.clock import Clock
from agentgraph.domain.db import Database, Executor, Row
from agentgraph.domain.errors import InvalidLanguage, InvalidName, ProfileNotFound
from agentgraph.domain.models import Profile
from agentgraph.domain.phones import normalize_phone
from agentgraph.domain.timestamps import as_datetime

LANGUAGES = ("en", "fr")
NAME_MAX_LENGTH = 80

_LANGUAGE_ALIASES = {
    "english": "en",
    "anglais": "en",
    "french": "fr",
    "francais": "fr",
    "français": "fr",
}
_TENANT = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")

PROFILE_COLUMNS = _COLUMNS = "id, tenant, phone, name, language, opted_out, created_at"


def check_tenant(tenant: str) -> str:
    """`tenant` if it is a valid slug (lowercase letters, digits, - and _); else ValueError."""
    if not isinstance(tenant, str) or not _TENANT.match(tenant):
        raise ValueError(f"invalid tenant slug {tenant!r}")
    return tenant


def normalize_language(language: object) -> str:
    """`en` or `fr` for a code or a language name in English or French, in any case;
    raises `InvalidLanguage`."""
    if not isinstance(language, str):
        raise InvalidLanguage(language)
    key = language.strip().lower()
    key = _LANGUAGE_ALIASES.get(key, key)
    if key not in LANGUAGES:
        raise InvalidLanguage(language)
    return key


def normalize_name(name: object) -> str:
    """`name` with runs of whitespace collapsed to one space; raises `InvalidName` unless
    that leaves 1 to `NAME_MAX_LENGTH` characters."""
    if not isinstance(name, str):
        raise InvalidName(NAME_MAX_LENGTH)
    cleaned = " ".join(name.split())
    if not 1 <= len(cleaned) <= NAME_MAX_LENGTH:
        raise InvalidName(NAME_MAX_LENGTH)
    return cleaned


def profile_from_row(row: Row) -> Profile:
    """A `Profile` from a row selected with `PROFILE_COLUMNS`."""
    return Profile(
        id=int(row["id"]),
        tenant=row["tenant"],
        phone=row["phone"],
        name=row["name"],
        language=row["language"],
        opted_out=bool(row["opted_out"]),
        created_at=as_datetime(row["created_at"]),
    )


async def ensure_profile(
    tx: Executor, tenant: str, phone: str, name: str | None, now: datetime
) -> tuple[Profile, bool]:
    """Inside a transaction: the profile (and its wallet) for a normalised phone,
    created if missing; a missing name is filled in, an existing one kept.
    Returns the profile and whether this call created it."""
    check_tenant(tenant)
    inserted = await tx.fetchone(
        "INSERT INTO profiles (tenant, phone, name, language, opted_out, created_at, updated_at) "
        "VALUES (?, ?, ?, 'en', FALSE, ?, ?) ON CONFLICT (tenant, phone) DO NOTHING RETURNING id",
        [tenant, phone, name, now, now],
    )
    await tx.execute(
        "INSERT INTO wallets (tenant, phone, kind, balance, created_at, updated_at) "
        "VALUES (?, ?, 'user', 0, ?, ?) ON CONFLICT (tenant, phone) DO NOTHING",
        [tenant, phone, now, now],
    )
    if inserted is None and name is not None:
        await tx.execute(
            "UPDATE profiles SET name = ?, updated_at = ? "
            "WHERE tenant = ? AND phone = ? AND name IS NULL",
            [name, now, tenant, phone],
        )
    row = await tx.fetchone(
        f"SELECT {_COLUMNS} FROM profiles WHERE tenant = ? AND phone = ?", [tenant, phone]
    )
    assert row is not None
    return profile_from_row(row), inserted is not None


async def profile_exists(db: Executor, tenant: str, phone: str) -> bool:
    """Whether the (already normalised) phone has a profile in the tenant; only reads."""
    row = await db.fetchone(
        "SELECT 1 AS found FROM profiles WHERE tenant = ? AND phone = ?", [tenant, phone]
    )
    return row is not None


class Profiles:
    """`domain.profiles`: look up, create and update user profiles."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def get(self, tenant: str, phone: str) -> Profile:
        """The existing profile; raises `ProfileNotFound` (never creates)."""
        phone = normalize_phone(phone)
        row = await self._db.fetchone(
            f"SELECT {_COLUMNS} FROM profiles WHERE tenant = ? AND phone = ?", [tenant, phone]
        )
        if row is None:
            raise ProfileNotFound(phone)
        return profile_from_row(row)

    async def get_or_create(self, tenant: str, phone: str, name: str | None = None) -> Profile:
        """The profile for `phone`, created with an empty wallet if missing."""
        phone = normalize_phone(phone)
        clean_name = None if name is None else normalize_name(name)
        row = await self._db.fetchone(
            f"SELECT {_COLUMNS} FROM profiles WHERE tenant = ? AND phone = ?", [tenant, phone]
        )
        # The common case (known user, nothing to fill in) takes no write lock.
        if row is not None and (clean_name is None or row["name"] is not None):
            return profile_from_row(row)
        async with self._db.transaction() as tx:
            profile, _ = await ensure_profile(tx, tenant, phone, clean_name, self._clock.now())
        return profile

    async def update(
        self,
        tenant: str,
        phone: str,
        *,
        name: str | None = None,
        language: str | None = None,
        opted_out: bool | None = None,
    ) -> Profile:
        """Change the given fields (None = leave as is); creates the profile if missing."""
        phone = normalize_phone(phone)
        changes: dict[str, object] = {}
        if name is not None:
            changes["name"] = normalize_name(name)
        if language is not None:
            changes["language"] = normalize_language(language)
        if opted_out is not None:
            changes["opted_out"] = bool(opted_out)
        now = self._clock.now()
        async with self._db.transaction() as tx:
            await ensure_profile(tx, tenant, phone, None, now)
            if changes:
                assignments = ", ".join(f"{column} = ?" for column in changes)
                await tx.execute(
                    f"UPDATE profiles SET {assignments}, updated_at = ? "
                    "WHERE tenant = ? AND phone = ?",
                    [*changes.values(), now, tenant, phone],
                )
            row = await tx.fetchone(
                f"SELECT {_COLUMNS} FROM profiles WHERE tenant = ? AND phone = ?",
                [tenant, phone],
            )
        assert row is not None
        return profile_from_row(row)
