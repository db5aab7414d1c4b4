-- WhatsApp updates that could not be read (wrong types, impossible values, a sender
-- that is no phone number): recorded with why and dropped, so the rest of their
-- webhook body is still answered and an operator can see what was refused.

CREATE TABLE wa_rejected (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    phone_number_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    item_id TEXT,
    reason TEXT NOT NULL,
    payload TEXT NOT NULL,
    received_at DOUBLE PRECISION NOT NULL
);

CREATE INDEX wa_rejected_received_idx ON wa_rejected (received_at);
