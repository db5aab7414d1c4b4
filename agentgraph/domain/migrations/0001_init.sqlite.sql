-- Initial schema (SQLite variant; keep in step with 0001_init.postgres.sql).
-- Timestamps are fixed-width UTC ISO text and dates YYYY-MM-DD text, so text order
-- is time order; booleans are 0/1.
-- Every business table carries the tenant slug; money is integer RWF (or minor units).

CREATE TABLE tenants (
    slug TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE profiles (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant TEXT NOT NULL,
    phone TEXT NOT NULL,
    name TEXT,
    language TEXT NOT NULL DEFAULT 'en'
        CONSTRAINT profiles_language_known CHECK (language IN ('en', 'fr')),
    opted_out INTEGER NOT NULL DEFAULT 0
        CONSTRAINT profiles_opted_out_bool CHECK (opted_out IN (0, 1)),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    CONSTRAINT profiles_tenant_phone_key UNIQUE (tenant, phone)
);

-- A user wallet belongs to a profile's phone; the system wallet 'system:treasury'
-- is the other side of top-ups, booking payments and refunds, and may go negative.
CREATE TABLE wallets (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant TEXT NOT NULL,
    phone TEXT NOT NULL,
    kind TEXT NOT NULL CONSTRAINT wallets_kind_known CHECK (kind IN ('user', 'system')),
    balance INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    CONSTRAINT wallets_tenant_phone_key UNIQUE (tenant, phone),
    CONSTRAINT wallets_balance_nonnegative CHECK (kind = 'system' OR balance >= 0)
);

-- One row per money movement; its two ledger entries sum to zero.
CREATE TABLE transfers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    kind TEXT NOT NULL
        CONSTRAINT transfers_kind_known CHECK (kind IN ('transfer', 'credit', 'booking', 'refund')),
    source TEXT NOT NULL,
    target TEXT NOT NULL,
    amount INTEGER NOT NULL CONSTRAINT transfers_amount_positive CHECK (amount > 0),
    note TEXT,
    created_at TEXT NOT NULL,
    CONSTRAINT transfers_tenant_key UNIQUE (tenant, idempotency_key),
    CONSTRAINT transfers_distinct_sides CHECK (source <> target)
);
CREATE INDEX transfers_outgoing ON transfers (tenant, source, kind, created_at);

CREATE TABLE ledger_entries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant TEXT NOT NULL,
    transfer_id INTEGER NOT NULL REFERENCES transfers (id),
    wallet_id INTEGER NOT NULL REFERENCES wallets (id),
    phone TEXT NOT NULL,
    amount INTEGER NOT NULL CONSTRAINT ledger_entries_amount_nonzero CHECK (amount <> 0),
    balance_after INTEGER NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX ledger_entries_by_phone ON ledger_entries (tenant, phone, created_at);
CREATE INDEX ledger_entries_by_transfer ON ledger_entries (transfer_id);

CREATE TABLE trips (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant TEXT NOT NULL,
    origin TEXT NOT NULL,
    destination TEXT NOT NULL,
    departure TEXT NOT NULL,
    seats_total INTEGER NOT NULL CONSTRAINT trips_seats_total_positive CHECK (seats_total > 0),
    seats_available INTEGER NOT NULL,
    price INTEGER NOT NULL CONSTRAINT trips_price_nonnegative CHECK (price >= 0),
    created_at TEXT NOT NULL,
    CONSTRAINT trips_route_departure_key UNIQUE (tenant, origin, destination, departure),
    CONSTRAINT trips_seats_in_range CHECK (seats_available >= 0 AND seats_available <= seats_total)
);

CREATE TABLE bookings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant TEXT NOT NULL,
    phone TEXT NOT NULL,
    trip_id INTEGER NOT NULL REFERENCES trips (id),
    seats INTEGER NOT NULL CONSTRAINT bookings_seats_positive CHECK (seats > 0),
    amount INTEGER NOT NULL CONSTRAINT bookings_amount_nonnegative CHECK (amount >= 0),
    status TEXT NOT NULL
        CONSTRAINT bookings_status_known CHECK (status IN ('confirmed', 'cancelled')),
    create_key TEXT NOT NULL,
    cancel_key TEXT,
    created_at TEXT NOT NULL,
    cancelled_at TEXT,
    CONSTRAINT bookings_create_key UNIQUE (tenant, create_key),
    CONSTRAINT bookings_cancel_key UNIQUE (tenant, cancel_key)
);
CREATE INDEX bookings_by_phone ON bookings (tenant, phone);

CREATE TABLE articles (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant TEXT NOT NULL,
    slug TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    tags TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    CONSTRAINT articles_tenant_slug_key UNIQUE (tenant, slug)
);

CREATE TABLE tickets (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant TEXT NOT NULL,
    phone TEXT NOT NULL,
    kind TEXT NOT NULL CONSTRAINT tickets_kind_known CHECK (kind IN ('support', 'escalation')),
    subject TEXT NOT NULL,
    description TEXT NOT NULL,
    priority TEXT NOT NULL
        CONSTRAINT tickets_priority_known CHECK (priority IN ('urgent', 'high', 'medium')),
    status TEXT NOT NULL
        CONSTRAINT tickets_status_known CHECK (status IN ('open', 'in_progress', 'resolved')),
    thread_id TEXT,
    created_at TEXT NOT NULL,
    due_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX tickets_by_phone ON tickets (tenant, phone);

CREATE TABLE customers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant TEXT NOT NULL,
    email TEXT NOT NULL,
    name TEXT NOT NULL,
    company TEXT,
    created_at TEXT NOT NULL,
    CONSTRAINT customers_tenant_email_key UNIQUE (tenant, email)
);

CREATE TABLE subscriptions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant TEXT NOT NULL,
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    plan TEXT NOT NULL,
    status TEXT NOT NULL CONSTRAINT subscriptions_status_known
        CHECK (status IN ('active', 'trialing', 'past_due', 'cancelled')),
    amount INTEGER NOT NULL CONSTRAINT subscriptions_amount_nonnegative CHECK (amount >= 0),
    currency TEXT NOT NULL,
    start_date TEXT NOT NULL,
    end_date TEXT,
    created_at TEXT NOT NULL,
    CONSTRAINT subscriptions_natural_key UNIQUE (tenant, customer_id, plan, start_date)
);

CREATE TABLE invoices (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant TEXT NOT NULL,
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    number TEXT NOT NULL,
    amount INTEGER NOT NULL CONSTRAINT invoices_amount_nonnegative CHECK (amount >= 0),
    currency TEXT NOT NULL,
    status TEXT NOT NULL
        CONSTRAINT invoices_status_known CHECK (status IN ('paid', 'open', 'overdue')),
    issued_date TEXT NOT NULL,
    due_date TEXT NOT NULL,
    paid_date TEXT,
    created_at TEXT NOT NULL,
    CONSTRAINT invoices_tenant_number_key UNIQUE (tenant, number)
);

CREATE TABLE feature_flags (
    tenant TEXT NOT NULL,
    name TEXT NOT NULL,
    enabled INTEGER NOT NULL CONSTRAINT feature_flags_enabled_bool CHECK (enabled IN (0, 1)),
    updated_at TEXT NOT NULL,
    PRIMARY KEY (tenant, name)
);
