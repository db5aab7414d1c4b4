-- WhatsApp conversations belong to a tenant: the inbox keeps the tenant each message
-- was resolved to (once, at ingest), and the outbox keeps the business number a reply
-- is sent from, so no one parses either back out of a thread id.

ALTER TABLE wa_inbox ADD COLUMN tenant TEXT NOT NULL DEFAULT '';
ALTER TABLE wa_outbox ADD COLUMN phone_number_id TEXT;
