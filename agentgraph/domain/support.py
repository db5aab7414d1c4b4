"""Help articles and support tickets.

`search_articles` ranks the tenant's articles in Python (see `textsearch`), so
SQLite and Postgres return the same articles in the same order. Tickets get
integer ids, start `open`, and carry a `due_at` response target from their
priority: urgent 1 h, high 4 h, medium 24 h. Without an explicit priority the text
decides (`priority_for`): urgent when it names an outage, fraud, a security
problem, lost money or "urgent"; high for payment, billing, refund, a locked
account or login failure; medium otherwise. Users only ever see their own tickets
(`TicketNotFound` for anyone else's). `escalate` opens an urgent `escalation`
ticket that records the conversation's thread id, reusing the thread's escalation
while it is still unresolved so repeated requests do not pile up tickets.
"""

from __future__ import annotations

import re
from datetime import timedelta

from agentgraph.clock import Clock
from agentgraph.domain.db import Database, Executor, Row, is_row_id
from agentgraph.domain.errors import InvalidPriority, InvalidTicketStatus, TicketNotFound
from agentgraph.domain.models import Article, Ticket
from agentgraph.domain.phones import normalize_phone
from agentgraph.domain.profiles import check_tenant
from agentgraph.domain.textsearch import fold, rank
from agentgraph.domain.timestamps import as_datetime

PRIORITIES = ("urgent", "high", "medium")
STATUSES = ("open", "in_progress", "resolved")
RESPONSE_TARGETS = {
    "urgent": timedelta(hours=1),
    "high": timedelta(hours=4),
    "medium": timedelta(hours=24),
}
_PRIORITY_ALIASES = {"critical": "urgent", "normal": "medium"}

SUBJECT_MAX_LENGTH = 200
DESCRIPTION_MAX_LENGTH = 4000

# Matched against accent-folded lowercase text; English and French.
_URGENT = re.compile(
    r"\b(?:outages?|panne|down for everyone|(?:service|system|app|site|website|platform)"
    r"\s+(?:is\s+|was\s+)?down|fraud\w*|fraude\w*|scam\w*|arnaque\w*|hack(?:ed|er|ers|ing)?"
    r"|pirat\w*|security|securite|breach\w*|unauthori[sz]ed|stolen|vole|"
    r"lost\s+(?:(?:all\s+)?my\s+|the\s+|our\s+)?money|money\s+(?:is\s+|was\s+|has\s+)?"
    r"(?:been\s+)?(?:lost|missing|gone|disappeared|vanished)|missing\s+money"
    r"|argent\s+(?:perdu|disparu|vole)|urgent\w*|urgence|emergency)\b"
)
_HIGH = re.compile(
    r"\b(?:pay|payment|payments|paying|paid|paiement\w*|bill|billing|billed|invoices?"
    r"|factur\w*|charged?|charges|refund\w*|rembours\w*|locked|lock\s+out|bloque\w*"
    r"|log\s*-?\s*in|login|logon|sign\s*-?\s*in|can\s*not\s+(?:access|log)"
    r"|can'?t\s+(?:access|log)|password|mot\s+de\s+passe|connexion)\b"
)

_ARTICLE_COLUMNS = "id, tenant, slug, title, body, tags"
_TICKET_COLUMNS = (
    "id, tenant, phone, kind, subject, description, priority, status, thread_id, "
    "created_at, due_at, updated_at"
)


def priority_for(text: str) -> str:
    """The priority the rules give a ticket whose subject and description are `text`."""
    folded = fold(text)
    if _URGENT.search(folded):
        return "urgent"
    if _HIGH.search(folded):
        return "high"
    return "medium"


def normalize_priority(priority: object) -> str:
    """`urgent`, `high` or `medium` for that word or an alias (`critical`, `normal`) in any
    case; raises `InvalidPriority` for anything else, non-strings included."""
    key = str(priority).strip().lower() if isinstance(priority, str) else ""
    key = _PRIORITY_ALIASES.get(key, key)
    if key not in PRIORITIES:
        raise InvalidPriority(priority)
    return key


def _split_tags(tags: str) -> tuple[str, ...]:
    return tuple(tag.strip() for tag in tags.split(",") if tag.strip())


def _article_from_row(row: Row, score: float = 0.0) -> Article:
    return Article(
        id=int(row["id"]),
        tenant=row["tenant"],
        slug=row["slug"],
        title=row["title"],
        body=row["body"],
        tags=_split_tags(row["tags"]),
        score=score,
    )


def _ticket_from_row(row: Row) -> Ticket:
    return Ticket(
        id=int(row["id"]),
        tenant=row["tenant"],
        phone=row["phone"],
        kind=row["kind"],
        subject=row["subject"],
        description=row["description"],
        priority=row["priority"],
        status=row["status"],
        thread_id=row["thread_id"],
        created_at=as_datetime(row["created_at"]),
        due_at=as_datetime(row["due_at"]),
        updated_at=as_datetime(row["updated_at"]),
    )


def _clean(text: object, limit: int) -> str:
    return " ".join(str(text or "").split())[:limit]


class Support:
    """`domain.support`: help articles and tickets."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def search_articles(self, tenant: str, query: str, limit: int = 3) -> list[Article]:
        """The tenant's articles most relevant to `query`, best first (may be empty)."""
        rows = await self._db.fetchall(
            f"SELECT {_ARTICLE_COLUMNS} FROM articles WHERE tenant = ?", [tenant]
        )
        ranked = rank(
            query,
            rows,
            lambda row: (row["slug"], row["title"], _split_tags(row["tags"]), row["body"]),
            limit,
        )
        return [_article_from_row(row, score) for row, score in ranked]

    async def add_article(
        self, tenant: str, slug: str, title: str, body: str, tags: tuple[str, ...] = ()
    ) -> tuple[Article, bool]:
        """Add an article unless its slug exists; returns it and whether it was created."""
        check_tenant(tenant)
        inserted = await self._db.fetchone(
            "INSERT INTO articles (tenant, slug, title, body, tags, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (tenant, slug) DO NOTHING RETURNING id",
            [tenant, slug, title, body, ",".join(tags), self._clock.now()],
        )
        row = await self._db.fetchone(
            f"SELECT {_ARTICLE_COLUMNS} FROM articles WHERE tenant = ? AND slug = ?",
            [tenant, slug],
        )
        assert row is not None
        return _article_from_row(row), inserted is not None

    async def create_ticket(
        self,
        tenant: str,
        phone: str,
        subject: str,
        description: str,
        priority: str | None = None,
    ) -> Ticket:
        """Open a support ticket; `priority` None (or blank) lets the rules decide."""
        check_tenant(tenant)
        phone = normalize_phone(phone)
        # A blank priority (as models sometimes send) means "let the rules decide".
        blank = priority is None or (isinstance(priority, str) and not priority.strip())
        chosen = None if blank else normalize_priority(priority)
        description = _clean(description, DESCRIPTION_MAX_LENGTH)
        subject = _clean(subject, SUBJECT_MAX_LENGTH) or description[:80] or "Support request"
        if chosen is None:
            chosen = priority_for(f"{subject}\n{description}")
        async with self._db.transaction() as tx:
            return await self._insert(tx, tenant, phone, "support", subject, description, chosen)

    async def get_ticket(self, tenant: str, phone: str, ticket_id: int) -> Ticket:
        """One of the user's tickets; `TicketNotFound` for a missing or foreign id."""
        phone = normalize_phone(phone)
        if not is_row_id(ticket_id):
            raise TicketNotFound(ticket_id)
        row = await self._db.fetchone(
            f"SELECT {_TICKET_COLUMNS} FROM tickets WHERE tenant = ? AND id = ? AND phone = ?",
            [tenant, ticket_id, phone],
        )
        if row is None:
            raise TicketNotFound(ticket_id)
        return _ticket_from_row(row)

    async def list_tickets(
        self, tenant: str, phone: str, *, include_resolved: bool = False
    ) -> list[Ticket]:
        """The user's tickets, newest first."""
        phone = normalize_phone(phone)
        sql = f"SELECT {_TICKET_COLUMNS} FROM tickets WHERE tenant = ? AND phone = ?"
        if not include_resolved:
            sql += " AND status <> 'resolved'"
        rows = await self._db.fetchall(sql + " ORDER BY created_at DESC, id DESC", [tenant, phone])
        return [_ticket_from_row(row) for row in rows]

    async def escalate(self, tenant: str, phone: str, thread_id: str, reason: str) -> Ticket:
        """An urgent `escalation` ticket for the conversation `thread_id`."""
        check_tenant(tenant)
        phone = normalize_phone(phone)
        reason = _clean(reason, DESCRIPTION_MAX_LENGTH) or "The user asked for a human agent."
        async with self._db.transaction() as tx:
            existing = await tx.fetchone(
                f"SELECT {_TICKET_COLUMNS} FROM tickets WHERE tenant = ? AND phone = ? "
                "AND kind = 'escalation' AND thread_id = ? AND status <> 'resolved' "
                "ORDER BY id DESC LIMIT 1",
                [tenant, phone, thread_id],
            )
            if existing is not None:
                return _ticket_from_row(existing)
            subject = _clean(f"Human agent requested: {reason}", SUBJECT_MAX_LENGTH)
            return await self._insert(
                tx, tenant, phone, "escalation", subject, reason, "urgent", thread_id
            )

    async def set_status(self, tenant: str, ticket_id: int, status: str) -> Ticket:
        """Staff action: move a ticket to open, in_progress or resolved."""
        if status not in STATUSES:
            raise InvalidTicketStatus(status)
        if not is_row_id(ticket_id):
            raise TicketNotFound(ticket_id)
        async with self._db.transaction() as tx:
            changed = await tx.execute(
                "UPDATE tickets SET status = ?, updated_at = ? WHERE tenant = ? AND id = ?",
                [status, self._clock.now(), tenant, ticket_id],
            )
            if changed == 0:
                raise TicketNotFound(ticket_id)
            row = await tx.fetchone(
                f"SELECT {_TICKET_COLUMNS} FROM tickets WHERE tenant = ? AND id = ?",
                [tenant, ticket_id],
            )
        assert row is not None
        return _ticket_from_row(row)

    async def _insert(
        self,
        tx: Executor,
        tenant: str,
        phone: str,
        kind: str,
        subject: str,
        description: str,
        priority: str,
        thread_id: str | None = None,
    ) -> Ticket:
        now = self._clock.now()
        row = await tx.fetchone(
            "INSERT INTO tickets (tenant, phone, kind, subject, description, priority, status, "
            "thread_id, created_at, due_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, 'open', ?, ?, ?, ?) "
            f"RETURNING {_TICKET_COLUMNS}",
            [
                tenant,
                phone,
                kind,
                subject,
                description,
                priority,
                thread_id,
                now,
                now + RESPONSE_TARGETS[priority],
                now,
            ],
        )
        assert row is not None
        return _ticket_from_row(row)
