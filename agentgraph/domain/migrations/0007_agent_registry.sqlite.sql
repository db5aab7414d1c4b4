-- The agent registry (SQLite variant; keep in step with 0007_agent_registry.postgres.sql).
-- An agent belongs to a tenant (owner = its slug) or to every tenant (owner = '',
-- a global agent); a tenant's row in agent_configurations overrides a global agent
-- for that tenant. JSON columns are text. Deleting archives (archived_at), so the
-- audit trail in agent_changes never points at a missing agent. The one-row table
-- agent_registry_version counts changes: other processes compare it (or the Redis
-- copy of it) to know their cached view is stale.

CREATE TABLE agents (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    owner TEXT NOT NULL,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL,
    description TEXT NOT NULL,
    agent_type TEXT NOT NULL,
    capabilities TEXT NOT NULL,
    system_prompt TEXT,
    model_config TEXT NOT NULL,
    tools TEXT NOT NULL,
    status TEXT NOT NULL
        CONSTRAINT agents_status_known CHECK (status IN ('active', 'inactive', 'maintenance')),
    maintenance_message TEXT,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version INTEGER NOT NULL CONSTRAINT agents_version_positive CHECK (version > 0),
    archived_at TEXT
);

CREATE UNIQUE INDEX agents_owner_name_key ON agents (owner, name_key) WHERE archived_at IS NULL;
CREATE INDEX agents_owner_idx ON agents (owner, id);

CREATE TABLE agent_configurations (
    agent_id INTEGER NOT NULL REFERENCES agents (id),
    tenant TEXT NOT NULL,
    configuration TEXT NOT NULL,
    is_active INTEGER NOT NULL DEFAULT 1
        CONSTRAINT agent_configurations_active_bool CHECK (is_active IN (0, 1)),
    version INTEGER NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (agent_id, tenant)
);

CREATE TABLE agent_changes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    agent_id INTEGER NOT NULL REFERENCES agents (id),
    tenant TEXT NOT NULL,
    action TEXT NOT NULL,
    actor TEXT NOT NULL,
    changed_at TEXT NOT NULL,
    version INTEGER NOT NULL,
    before_json TEXT,
    after_json TEXT
);

CREATE INDEX agent_changes_agent_idx ON agent_changes (agent_id, id);

CREATE TABLE agent_registry_version (
    id INTEGER PRIMARY KEY CONSTRAINT agent_registry_version_one_row CHECK (id = 1),
    version INTEGER NOT NULL
);

INSERT INTO agent_registry_version (id, version) VALUES (1, 0);
