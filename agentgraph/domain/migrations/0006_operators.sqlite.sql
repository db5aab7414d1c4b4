-- SQLite variant; keep in step with 0006_operators.postgres.sql.
-- Operator accounts (the people who run a tenant's assistant), their login sessions
-- (refresh-token families) and service API keys. A super admin has no tenant; every
-- other role belongs to exactly one existing tenant. Secrets are stored hashed only:
-- Argon2 for passwords, SHA-256 for refresh-token ids and API keys (high entropy).

CREATE TABLE operators (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    email TEXT NOT NULL CONSTRAINT operators_email_key UNIQUE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CONSTRAINT operators_role_known
        CHECK (role IN ('super_admin', 'tenant_admin', 'agent', 'viewer')),
    tenant TEXT REFERENCES tenants (slug),
    active INTEGER NOT NULL DEFAULT 1 CONSTRAINT operators_active_bool CHECK (active IN (0, 1)),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    last_login_at TEXT,
    CONSTRAINT operators_tenant_by_role CHECK ((role = 'super_admin') = (tenant IS NULL))
);
CREATE INDEX operators_tenant_idx ON operators (tenant, id);

-- One row per login: each refresh rotates current_hash; a refresh token whose hash is
-- not the current one is a reuse and revokes the family (and its access tokens).
CREATE TABLE operator_sessions (
    id TEXT PRIMARY KEY,
    operator_id INTEGER NOT NULL REFERENCES operators (id),
    current_hash TEXT NOT NULL,
    created_at TEXT NOT NULL,
    rotated_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    revoked_at TEXT,
    revoked_reason TEXT
);
CREATE INDEX operator_sessions_operator_idx ON operator_sessions (operator_id);

CREATE TABLE api_keys (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant TEXT NOT NULL REFERENCES tenants (slug),
    role TEXT NOT NULL CONSTRAINT api_keys_role_known
        CHECK (role IN ('tenant_admin', 'agent', 'viewer')),
    name TEXT NOT NULL,
    prefix TEXT NOT NULL,
    key_hash TEXT NOT NULL CONSTRAINT api_keys_key_hash_key UNIQUE,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_used_at TEXT,
    revoked_at TEXT
);
CREATE INDEX api_keys_tenant_idx ON api_keys (tenant, id);
