-- Thread ids and traces name a user by a pseudonym (a keyed hash of tenant and phone),
-- never by the phone number. The key is made once per deployment and kept here unless
-- AGENTGRAPH_PSEUDONYM_KEY sets it; the mapping back to the phone stays in this
-- database, for operators and for a customer's data request.

CREATE TABLE app_keys (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE user_pseudonyms (
    tenant TEXT NOT NULL,
    pseudonym TEXT NOT NULL,
    user_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (tenant, pseudonym)
);

CREATE INDEX user_pseudonyms_user_idx ON user_pseudonyms (tenant, user_id);
