-- Migrations, applied in order at start-up. Each runs once, inside a
-- transaction, and `PRAGMA user_version` records how many have run.
-- Add new steps at the end; never edit a step that has shipped.

-- step 1: comments and their moderation state
CREATE TABLE comments (
    id         INTEGER PRIMARY KEY,
    page       TEXT    NOT NULL,
    name       TEXT    NOT NULL DEFAULT '',
    body       TEXT    NOT NULL CHECK (length(body) BETWEEN 1 AND 2000),
    created_at INTEGER NOT NULL,
    status     TEXT    NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected')),
    reply      TEXT
);
CREATE INDEX comments_by_page ON comments (page, status, created_at);

-- step 2: comments whose writer confirmed text that looked like personal details
ALTER TABLE comments ADD COLUMN flagged INTEGER NOT NULL DEFAULT 0;
CREATE INDEX comments_by_status ON comments (status, created_at);

-- step 3: why a flagged comment was flagged (personal-detail codes, comma-separated)
ALTER TABLE comments ADD COLUMN flag_reasons TEXT NOT NULL DEFAULT '';

-- step 4: each comment form (its token's nonce) stores one comment; kept
-- until the token has expired anyway. The comment may be deleted later
-- (a privacy request) while the form must stay used.
CREATE TABLE used_forms (
    nonce      TEXT    PRIMARY KEY,
    comment_id INTEGER REFERENCES comments (id) ON DELETE SET NULL,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX used_forms_by_expiry ON used_forms (expires_at);

-- step 5: when a comment last changed state, so rejected comments can be
-- deleted a set number of days after they were rejected. Comments rejected
-- before this step count as rejected now (the upgrade): the true time is
-- unknown, and guessing early could delete one sooner than staff expect;
-- this way each is kept the full period once, then deleted.
ALTER TABLE comments ADD COLUMN status_changed_at INTEGER;
UPDATE comments SET status_changed_at = CAST(strftime('%s', 'now') AS INTEGER) WHERE status = 'rejected';
CREATE INDEX comments_by_status_change ON comments (status, status_changed_at);

-- step 6: staff sign-in sessions. This table belongs to staff sign-in
-- (`auth::sessions`), not to comments: it lives here because this is the
-- one SQLite database in the data folder. A session is kept as the SHA-256
-- of its token, never the token itself, with the stored password it was
-- started under; its CSRF token is derived from the token, so not stored.
CREATE TABLE staff_sessions (
    token_hash BLOB    PRIMARY KEY,
    password   BLOB    NOT NULL,
    created_at INTEGER NOT NULL,
    last_seen  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX staff_sessions_by_last_seen ON staff_sessions (last_seen);
