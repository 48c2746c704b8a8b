-- One row per request that reached the receiver, whatever its body.
CREATE TABLE IF NOT EXISTS events (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused, so cursors stay valid after clear()
    received_at      TEXT    NOT NULL,  -- ISO 8601, UTC, microseconds
    endpoint         TEXT    NOT NULL,
    method           TEXT    NOT NULL,
    path             TEXT    NOT NULL,
    query            TEXT    NOT NULL,
    headers          TEXT    NOT NULL,  -- JSON list of [name, value], in order and case as sent
    body             BLOB    NOT NULL,  -- exactly the bytes received
    content_type     TEXT,
    size             INTEGER NOT NULL,  -- bytes received (for a rejected body: all of them, though not all are kept)
    client           TEXT    NOT NULL,
    status           INTEGER NOT NULL,  -- the status the receiver answered with
    response_headers TEXT    NOT NULL,
    response_body    BLOB    NOT NULL,
    provider         TEXT,
    event_type       TEXT,
    delivery_id      TEXT,
    preview          TEXT    NOT NULL,
    note             TEXT,
    verified         INTEGER,           -- 1 or 0 when the endpoint has a secret, NULL when it has none
    reason           TEXT,              -- why verification failed: a SignatureError reason
    verification     TEXT,              -- the verifier's full message
    duplicate_of     INTEGER            -- the first event with the same endpoint and delivery id
);
CREATE INDEX IF NOT EXISTS events_by_endpoint ON events (endpoint, id);
CREATE INDEX IF NOT EXISTS events_by_delivery ON events (endpoint, delivery_id);
