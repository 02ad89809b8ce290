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

-- step 7: staff accounts. Like `staff_sessions`, these tables belong to
-- staff sign-in (`auth`), kept here because this is the one database.
-- Everyone signs in as themselves with one or more roles; the shared
-- password of earlier versions becomes the account `owner` at start-up
-- (`auth::accounts::upgrade_shared_password`). Sessions now belong to an
-- account, so the sessions of the shared password are ended: everyone
-- signs in once more after the upgrade.
CREATE TABLE staff_accounts (
    id                  INTEGER PRIMARY KEY,
    username            TEXT    NOT NULL UNIQUE COLLATE NOCASE,
    name                TEXT    NOT NULL,
    credentials         TEXT    NOT NULL DEFAULT '',
    -- argon2id, in the PHC string format; NULL until the person sets one
    -- with their set-password link.
    password_hash       TEXT,
    password_changed_at INTEGER,
    disabled_at         INTEGER,
    -- two-step sign-in: the TOTP secret once confirmed, and the last time
    -- step a code was accepted for, so a code works once.
    totp_secret         BLOB,
    totp_last_step      INTEGER NOT NULL DEFAULT 0,
    created_at          INTEGER NOT NULL
);
CREATE TABLE staff_roles (
    account_id INTEGER NOT NULL REFERENCES staff_accounts (id),
    role       TEXT    NOT NULL CHECK (role IN ('moderator', 'editor', 'reviewer', 'owner')),
    PRIMARY KEY (account_id, role)
) WITHOUT ROWID;
-- one-time set-password links, kept hashed like session tokens
CREATE TABLE staff_links (
    token_hash BLOB    PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES staff_accounts (id),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
) WITHOUT ROWID;
CREATE TABLE staff_recovery_codes (
    account_id INTEGER NOT NULL REFERENCES staff_accounts (id),
    code_hash  BLOB    NOT NULL,
    used_at    INTEGER,
    PRIMARY KEY (account_id, code_hash)
) WITHOUT ROWID;
-- a sign-in whose password was right and whose two-step code is awaited
CREATE TABLE staff_sign_in_steps (
    token_hash BLOB    PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES staff_accounts (id),
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;
DROP TABLE staff_sessions;
CREATE TABLE staff_sessions (
    token_hash BLOB    PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES staff_accounts (id),
    created_at INTEGER NOT NULL,
    last_seen  INTEGER NOT NULL,
    -- so people can tell their sessions apart on their account page
    browser    TEXT    NOT NULL DEFAULT ''
) WITHOUT ROWID;
CREATE INDEX staff_sessions_by_last_seen ON staff_sessions (last_seen);
CREATE INDEX staff_sessions_by_account ON staff_sessions (account_id);
-- who did what and when. Append-only: the triggers refuse any change or
-- deletion, whoever asks, so the web interface cannot edit it either.
CREATE TABLE staff_activity (
    id         INTEGER PRIMARY KEY,
    at         INTEGER NOT NULL,
    account_id INTEGER REFERENCES staff_accounts (id),
    -- the person's name and username as they were then
    actor      TEXT    NOT NULL,
    kind       TEXT    NOT NULL,
    subject    TEXT    NOT NULL DEFAULT '',
    detail     TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX staff_activity_by_account ON staff_activity (account_id, at);
CREATE INDEX staff_activity_by_kind ON staff_activity (kind, at);
CREATE INDEX staff_activity_by_subject ON staff_activity (subject, at);
CREATE TRIGGER staff_activity_is_append_only_update BEFORE UPDATE ON staff_activity
BEGIN SELECT RAISE(ABORT, 'the activity record cannot be changed'); END;
CREATE TRIGGER staff_activity_is_append_only_delete BEFORE DELETE ON staff_activity
BEGIN SELECT RAISE(ABORT, 'the activity record cannot be deleted'); END;

-- step 8: two-step sign-in being set up. The secret shown on the set-up
-- page waits here, on the server, until the person types a code made from
-- it; only then does it become `staff_accounts.totp_secret`, so a form
-- never carries a secret back and nobody is locked out by a half-done
-- set-up. One per person; starting again replaces it.
CREATE TABLE staff_totp_pending (
    account_id INTEGER PRIMARY KEY REFERENCES staff_accounts (id),
    secret     BLOB    NOT NULL,
    created_at INTEGER NOT NULL
);

-- step 9: page revisions from the editing workspace. Every version of a
-- page file the workspace wrote, kept as a draft, or found on disk written
-- by something else (account_id NULL, author "outside the workspace"),
-- whole, with the SHA-256 of its bytes (hex) so the file on disk can be
-- matched to the revision it is. Like the activity record, rows are only
-- added: a restore is a new revision, so history cannot be rewritten.
CREATE TABLE page_revisions (
    id         INTEGER PRIMARY KEY,
    -- relative to the content folder: "dry-needling/safety.md"
    path       TEXT    NOT NULL,
    account_id INTEGER REFERENCES staff_accounts (id),
    -- the person's name and username as they were then
    author     TEXT    NOT NULL,
    at         INTEGER NOT NULL,
    message    TEXT    NOT NULL DEFAULT '',
    -- save, draft, outside, restore
    kind       TEXT    NOT NULL,
    text       TEXT    NOT NULL,
    hash       TEXT    NOT NULL,
    -- the file's hash the revision was made against: for a save, the
    -- version it replaced; for a draft, the version it was typed over
    base_hash  TEXT
);
CREATE INDEX page_revisions_by_path ON page_revisions (path, id);
CREATE TRIGGER page_revisions_are_append_only_update BEFORE UPDATE ON page_revisions
BEGIN SELECT RAISE(ABORT, 'page revisions cannot be changed'); END;
CREATE TRIGGER page_revisions_are_append_only_delete BEFORE DELETE ON page_revisions
BEGIN SELECT RAISE(ABORT, 'page revisions cannot be deleted'); END;

-- step 10: clinical sign-offs. A reviewer signed off the page's text: the
-- revision written with the review in its front matter, the reviewed hash
-- (`content::reviewed_hash`: title, description, sources and body, which
-- the page's `reviewed_revision` repeats), and who, with the credentials
-- readers were shown, as they were then. Only ever added to.
CREATE TABLE page_signoffs (
    id            INTEGER PRIMARY KEY,
    -- relative to the content folder: "dry-needling/safety.md"
    path          TEXT    NOT NULL,
    revision_id   INTEGER NOT NULL REFERENCES page_revisions (id),
    reviewed_hash TEXT    NOT NULL,
    account_id    INTEGER NOT NULL REFERENCES staff_accounts (id),
    name          TEXT    NOT NULL,
    credentials   TEXT    NOT NULL,
    -- the review's date as the page shows it: "2026-12-02"
    signed_on     TEXT    NOT NULL,
    at            INTEGER NOT NULL,
    note          TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX page_signoffs_by_path ON page_signoffs (path, id);
CREATE TRIGGER page_signoffs_are_append_only_update BEFORE UPDATE ON page_signoffs
BEGIN SELECT RAISE(ABORT, 'sign-offs cannot be changed'); END;
CREATE TRIGGER page_signoffs_are_append_only_delete BEFORE DELETE ON page_signoffs
BEGIN SELECT RAISE(ABORT, 'sign-offs cannot be deleted'); END;
-- step 11: readers' feedback on pages ("Was this page helpful?") and
-- reports of problems with a page. Like the staff tables, these belong to
-- another module (`feedback`) and live here because this is the one
-- database. Nothing that identifies the reader is kept: no address, no
-- cookie, no browser, and the day only (not the time), so answers cannot
-- be matched to server logs or to each other. Feedback is never published.
-- (Numbered 11: step 10 is the clinical sign-off, from its own branch.)
CREATE TABLE page_feedback (
    id           INTEGER PRIMARY KEY,
    page         TEXT    NOT NULL,
    helpful      INTEGER NOT NULL CHECK (helpful IN (0, 1)),
    -- "What was missing or wrong?", optional
    text         TEXT    CHECK (text IS NULL OR length(text) BETWEEN 1 AND 1000),
    -- personal-detail codes the reader was warned about and sent anyway
    flag_reasons TEXT    NOT NULL DEFAULT '',
    -- YYYY-MM-DD (UTC)
    day          TEXT    NOT NULL
);
CREATE INDEX page_feedback_by_page ON page_feedback (page, id);
CREATE TABLE problem_reports (
    id           INTEGER PRIMARY KEY,
    page         TEXT    NOT NULL,
    kind         TEXT    NOT NULL CHECK (kind IN ('wrong-information', 'broken-link', 'hard-to-understand')),
    details      TEXT    NOT NULL CHECK (length(details) BETWEEN 1 AND 1000),
    flag_reasons TEXT    NOT NULL DEFAULT '',
    day          TEXT    NOT NULL,
    status       TEXT    NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'done')),
    -- who marked it done and when: the person's name and username as they
    -- were then, as in the activity record; NULL while open
    closed_by    TEXT,
    closed_at    INTEGER
);
CREATE INDEX problem_reports_by_status ON problem_reports (status, id);
-- each feedback or report form (its token's nonce) sends once; kept until
-- the token has expired anyway. Not linked to what it sent.
CREATE TABLE used_feedback_forms (
    nonce      TEXT    PRIMARY KEY,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX used_feedback_forms_by_expiry ON used_feedback_forms (expires_at);
-- step 12: reading figures (the `figures` module owns these tables).
-- Counts per UTC day (days since 1970) and page address, one row per kind
-- (view, print, share-copy, ...), and the hosts of the sites that sent
-- readers: never a person, an address, a user agent or a path of theirs.
-- Written every minute by adding to the row (`count = count + excluded.count`).
-- Steps 10 and 11 come from other branches; `IF NOT EXISTS` keeps a test
-- database made before they merged from failing here.
CREATE TABLE IF NOT EXISTS page_views (
    day   INTEGER NOT NULL,
    page  TEXT    NOT NULL,
    kind  TEXT    NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (day, page, kind)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS referrers (
    day   INTEGER NOT NULL,
    host  TEXT    NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (day, host)
) WITHOUT ROWID;
