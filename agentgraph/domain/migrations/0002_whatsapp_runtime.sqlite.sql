-- WhatsApp channel runtime: inbound inbox (dedup + per-conversation order), outbound
-- outbox (exactly-once replies), delivery statuses of sent messages. Times are Unix
-- epoch seconds so both engines compare them the same way.

CREATE TABLE wa_inbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id TEXT NOT NULL CONSTRAINT wa_inbox_message_id_key UNIQUE,
    thread_id TEXT NOT NULL,
    phone_number_id TEXT NOT NULL,
    wa_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    received_at REAL NOT NULL,
    status TEXT NOT NULL DEFAULT 'queued'
        CONSTRAINT wa_inbox_status_known CHECK (status IN ('queued', 'done')),
    processed_at REAL
);

CREATE INDEX wa_inbox_pending_idx ON wa_inbox (thread_id, seq) WHERE status = 'queued';

CREATE TABLE wa_outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    idempotency_key TEXT NOT NULL CONSTRAINT wa_outbox_idempotency_key_key UNIQUE,
    thread_id TEXT NOT NULL,
    recipient TEXT NOT NULL,
    inbound_id TEXT,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending'
        CONSTRAINT wa_outbox_status_known
        CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'dev')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL,
    claimed_at REAL,
    wamid TEXT,
    error_code INTEGER,
    error TEXT,
    created_at REAL NOT NULL,
    sent_at REAL
);

CREATE INDEX wa_outbox_due_idx ON wa_outbox (next_attempt_at) WHERE status = 'pending';
CREATE INDEX wa_outbox_thread_pending_idx ON wa_outbox (thread_id, id) WHERE status = 'pending';
CREATE INDEX wa_outbox_wamid_idx ON wa_outbox (wamid);

CREATE TABLE wa_message_status (
    wamid TEXT PRIMARY KEY,
    recipient TEXT NOT NULL,
    status TEXT NOT NULL
        CONSTRAINT wa_message_status_known CHECK (status IN ('sent', 'delivered', 'read', 'failed')),
    rank INTEGER NOT NULL,
    error_code INTEGER,
    error_title TEXT,
    outside_window INTEGER NOT NULL DEFAULT 0,
    status_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
