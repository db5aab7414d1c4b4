-- WhatsApp channel runtime: inbound inbox (dedup + per-conversation order), outbound
-- outbox (exactly-once replies), delivery statuses of sent messages. Times are Unix
-- epoch seconds so both engines compare them the same way.

CREATE TABLE wa_inbox (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    message_id TEXT NOT NULL CONSTRAINT wa_inbox_message_id_key UNIQUE,
    thread_id TEXT NOT NULL,
    phone_number_id TEXT NOT NULL,
    wa_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    received_at DOUBLE PRECISION NOT NULL,
    status TEXT NOT NULL DEFAULT 'queued'
        CONSTRAINT wa_inbox_status_known CHECK (status IN ('queued', 'done')),
    processed_at DOUBLE PRECISION
);

CREATE INDEX wa_inbox_pending_idx ON wa_inbox (thread_id, seq) WHERE status = 'queued';

CREATE TABLE wa_outbox (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
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
    next_attempt_at DOUBLE PRECISION NOT NULL,
    claimed_at DOUBLE PRECISION,
    wamid TEXT,
    error_code INTEGER,
    error TEXT,
    created_at DOUBLE PRECISION NOT NULL,
    sent_at DOUBLE PRECISION
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
    status_at DOUBLE PRECISION NOT NULL,
    updated_at DOUBLE PRECISION NOT NULL
);
