-- Human inbox: conversations handed to a person, what was said while they had them,
-- and each tenant's template for replies outside WhatsApp's 24-hour window.
-- SQLite variant; keep in step with 0009_human_inbox.postgres.sql.

-- One item per escalation. status: waiting (nobody has it), claimed (one operator
-- has it: assignee), released (the assistant has the conversation again). At most
-- one unreleased item per conversation; a later escalation opens a new item.
CREATE TABLE inbox_items (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant TEXT NOT NULL,
    thread_id TEXT NOT NULL,
    channel TEXT NOT NULL,
    phone TEXT NOT NULL,
    phone_number_id TEXT,
    reason TEXT NOT NULL,
    source TEXT NOT NULL CONSTRAINT inbox_items_source_known
        CHECK (source IN ('user', 'tool', 'policy')),
    priority TEXT NOT NULL CONSTRAINT inbox_items_priority_known
        CHECK (priority IN ('urgent', 'high', 'medium')),
    status TEXT NOT NULL CONSTRAINT inbox_items_status_known
        CHECK (status IN ('waiting', 'claimed', 'released')),
    assignee TEXT,
    assignee_name TEXT,
    ticket_id INTEGER,
    acknowledged INTEGER NOT NULL DEFAULT 0,
    customer_messages INTEGER NOT NULL DEFAULT 0,
    human_messages INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    sla_due_at TEXT NOT NULL,
    last_customer_at TEXT NOT NULL,
    claimed_at TEXT,
    last_reply_at TEXT,
    released_at TEXT,
    release_note TEXT,
    updated_at TEXT NOT NULL,
    -- A waiting item has no owner, a claimed one has; a released one keeps its last owner.
    CONSTRAINT inbox_items_owner_by_status CHECK (
        (status = 'waiting' AND assignee IS NULL)
        OR (status = 'claimed' AND assignee IS NOT NULL)
        OR status = 'released'
    )
);
CREATE UNIQUE INDEX inbox_items_one_open ON inbox_items (tenant, thread_id)
    WHERE status <> 'released';
CREATE INDEX inbox_items_by_status ON inbox_items (tenant, status, created_at);
CREATE INDEX inbox_items_by_thread ON inbox_items (thread_id, id);

-- What the customer and the humans said while an item was open, in order.
CREATE TABLE inbox_messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    item_id INTEGER NOT NULL REFERENCES inbox_items (id),
    tenant TEXT NOT NULL,
    author TEXT NOT NULL CONSTRAINT inbox_messages_author_known
        CHECK (author IN ('customer', 'human')),
    operator TEXT,
    kind TEXT NOT NULL CONSTRAINT inbox_messages_kind_known CHECK (kind IN ('text', 'template')),
    text TEXT NOT NULL,
    outbox_id INTEGER,
    created_at TEXT NOT NULL
);
CREATE INDEX inbox_messages_by_item ON inbox_messages (item_id, id);

-- The approved template a late human reply goes out as (Cloud API `template` type).
-- parameters: JSON list of body parameter texts; "{text}" stands for the reply.
CREATE TABLE inbox_templates (
    tenant TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    language TEXT NOT NULL,
    parameters TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
