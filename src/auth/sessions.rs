//! Staff sessions in SQLite, so they survive a restart of the server.
//!
//! The table (`staff_sessions`, a step of `comments/schema.sql`, since that
//! is the one database in the data folder) keeps only the SHA-256 of each
//! session token: someone who reads the database or a backup of it cannot
//! sign in with what they find there.
//!
//! The CSRF token is not stored at all: it is an HMAC-SHA256 keyed with the
//! session token, so the server can put it in every form from the cookie it
//! was sent, it differs from the token (a form leaks nothing that signs in),
//! and the stored hash does not give it away.
//!
//! A session is live while it was last used less than [`IDLE_LIMIT`]
//! seconds ago, started less than [`ABSOLUTE_LIMIT`] seconds ago, and the
//! password is still the one it was started under. Times are seconds since
//! 1970, passed in by the caller, so tests can move the clock. Calls block:
//! async callers run them off the async threads.

use std::path::Path;
use std::sync::Mutex;

use hmac::{Hmac, Mac};
use rusqlite::{Connection, OptionalExtension, params};
use sha2::{Digest, Sha256};

use super::password::Fingerprint;
use crate::util::bytes::{hex, random_bytes};

/// Twelve hours without use ends a session.
pub const IDLE_LIMIT: i64 = 12 * 60 * 60;
/// Seven days after signing in, a session ends however much it is used.
pub const ABSOLUTE_LIMIT: i64 = 7 * 24 * 60 * 60;

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("cannot make a session token: {0}")]
    Random(#[from] std::io::Error),
    #[error("the sessions table failed: {0}")]
    Database(#[from] rusqlite::Error),
}

/// A live session, as a request presents it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// What the cookie holds.
    pub token: String,
    /// What every form of the session carries.
    pub csrf: String,
    /// How many seconds it stays live if not used again: the idle limit,
    /// or less when the absolute limit comes first.
    pub lifetime: i64,
}

pub struct SessionStore {
    conn: Mutex<Connection>,
}

impl SessionStore {
    /// Opens the data folder's database, whose schema (with the sessions
    /// table) the comments store has already brought up to date.
    pub fn open(path: &Path) -> Result<SessionStore, SessionError> {
        let conn = Connection::open(path)?;
        conn.execute_batch("PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000;")?;
        // Fail at start-up, not at the first sign-in, if the table is missing.
        conn.query_row("SELECT count(*) FROM staff_sessions", [], |row| row.get::<_, i64>(0))?;
        Ok(SessionStore { conn: Mutex::new(conn) })
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        // Each call is one statement, so a panic cannot leave it half-done.
        self.conn.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Starts a session under the `password` signed in with; sessions
    /// past their limits are deleted on the way.
    pub fn start(&self, password: &Fingerprint, now: i64) -> Result<Session, SessionError> {
        let token = hex(&random_bytes()?);
        let conn = self.conn();
        delete_expired(&conn, now)?;
        conn.execute(
            "INSERT INTO staff_sessions (token_hash, password, created_at, last_seen) VALUES (?1, ?2, ?3, ?3)",
            params![token_hash(&token), password.as_bytes(), now],
        )?;
        Ok(session(token, now, now))
    }

    /// The session with this token, if it is live and was started under
    /// the `current` password; using it keeps it alive (its idle time
    /// starts again from `now`). A session found dead is deleted.
    pub fn touch(&self, token: &str, current: Option<&Fingerprint>, now: i64) -> Result<Option<Session>, SessionError> {
        let hash = token_hash(token);
        let conn = self.conn();
        let found: Option<(Vec<u8>, i64, i64)> = conn
            .query_row(
                "SELECT password, created_at, last_seen FROM staff_sessions WHERE token_hash = ?1",
                params![hash],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
            )
            .optional()?;
        let Some((password, created_at, last_seen)) = found else { return Ok(None) };
        let live = now - last_seen < IDLE_LIMIT
            && now - created_at < ABSOLUTE_LIMIT
            && current.is_some_and(|current| current.as_bytes() == password.as_slice());
        if !live {
            conn.execute("DELETE FROM staff_sessions WHERE token_hash = ?1", params![hash])?;
            return Ok(None);
        }
        // Never backwards, should the clock be set back.
        let seen = now.max(last_seen);
        conn.execute("UPDATE staff_sessions SET last_seen = ?2 WHERE token_hash = ?1", params![hash, seen])?;
        Ok(Some(session(token.to_string(), created_at, seen)))
    }

    /// Ends the session with this token (signing out).
    pub fn end(&self, token: &str) -> Result<(), SessionError> {
        self.conn().execute("DELETE FROM staff_sessions WHERE token_hash = ?1", params![token_hash(token)])?;
        Ok(())
    }

    /// Ends every session; how many there were.
    pub fn end_all(&self) -> Result<usize, SessionError> {
        Ok(self.conn().execute("DELETE FROM staff_sessions", [])?)
    }
}

fn delete_expired(conn: &Connection, now: i64) -> Result<usize, rusqlite::Error> {
    conn.execute(
        "DELETE FROM staff_sessions WHERE last_seen <= ?1 OR created_at <= ?2",
        params![now - IDLE_LIMIT, now - ABSOLUTE_LIMIT],
    )
}

fn session(token: String, created_at: i64, now: i64) -> Session {
    let lifetime = IDLE_LIMIT.min(created_at + ABSOLUTE_LIMIT - now).max(0);
    Session { csrf: csrf_for(&token), token, lifetime }
}

/// What the table keeps in place of the token.
fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// The session's CSRF token: HMAC-SHA256 keyed with the session token.
fn csrf_for(token: &str) -> String {
    // HMAC takes a key of any length, so this cannot fail.
    let mac = <Hmac<Sha256> as Mac>::new_from_slice(token.as_bytes())
        .map(|mac| mac.chain_update(b"clinic-site staff csrf").finalize().into_bytes());
    mac.map_or_else(|_| String::new(), |bytes| hex(&bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::comments::store::Store;

    const START: i64 = 1_764_000_000;
    const HOUR: i64 = 60 * 60;

    fn stores() -> (tempfile::TempDir, SessionStore) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("comments.db");
        Store::open(&path).unwrap();
        let sessions = SessionStore::open(&path).unwrap();
        (dir, sessions)
    }

    #[test]
    fn a_session_survives_reopening_the_database() {
        let (dir, sessions) = stores();
        let password = Fingerprint::for_test(1);
        let started = sessions.start(&password, START).unwrap();
        drop(sessions);
        let path = dir.path().join("comments.db");
        Store::open(&path).unwrap();
        let reopened = SessionStore::open(&path).unwrap();
        let touched = reopened.touch(&started.token, Some(&password), START + HOUR).unwrap().unwrap();
        assert_eq!((touched.token, touched.csrf), (started.token, started.csrf));
    }

    #[test]
    fn a_session_ends_after_twelve_hours_without_use() {
        let (_dir, sessions) = stores();
        let password = Fingerprint::for_test(1);
        let token = sessions.start(&password, START).unwrap().token;
        // Used every 11 hours it lives on past 12 hours from the start.
        let mut now = START;
        for _ in 0..3 {
            now += 11 * HOUR;
            assert!(sessions.touch(&token, Some(&password), now).unwrap().is_some(), "at {now}");
        }
        assert_eq!(sessions.touch(&token, Some(&password), now + 12 * HOUR).unwrap(), None);
        assert_eq!(sessions.touch(&token, Some(&password), now).unwrap(), None, "deleted, not just refused");
    }

    #[test]
    fn a_session_ends_seven_days_after_sign_in_however_much_it_is_used() {
        let (_dir, sessions) = stores();
        let password = Fingerprint::for_test(1);
        let token = sessions.start(&password, START).unwrap().token;
        let mut now = START;
        while now + 10 * HOUR < START + ABSOLUTE_LIMIT {
            now += 10 * HOUR;
            let session = sessions.touch(&token, Some(&password), now).unwrap().unwrap();
            assert!(session.lifetime <= START + ABSOLUTE_LIMIT - now, "the cookie ends with the session too");
        }
        assert_eq!(sessions.touch(&token, Some(&password), START + ABSOLUTE_LIMIT).unwrap(), None);
    }

    #[test]
    fn a_session_ends_with_its_password_on_sign_out_and_with_end_all() {
        let (_dir, sessions) = stores();
        let (old, new) = (Fingerprint::for_test(1), Fingerprint::for_test(2));
        let token = sessions.start(&old, START).unwrap().token;
        assert_eq!(sessions.touch(&token, Some(&new), START + 1).unwrap(), None);
        assert_eq!(sessions.touch(&token, Some(&old), START + 2).unwrap(), None, "not back with the old password");
        let token = sessions.start(&new, START).unwrap().token;
        assert_eq!(sessions.touch(&token, None, START + 1).unwrap(), None, "no password set");
        let token = sessions.start(&new, START).unwrap().token;
        sessions.end(&token).unwrap();
        assert_eq!(sessions.touch(&token, Some(&new), START + 1).unwrap(), None);
        let tokens: Vec<String> = (0..3).map(|_| sessions.start(&new, START).unwrap().token).collect();
        assert_eq!(sessions.end_all().unwrap(), 3);
        for token in tokens {
            assert_eq!(sessions.touch(&token, Some(&new), START + 1).unwrap(), None);
        }
    }

    #[test]
    fn the_database_holds_neither_the_token_nor_the_csrf_token() {
        let (dir, sessions) = stores();
        let started = sessions.start(&Fingerprint::for_test(1), START).unwrap();
        assert_ne!(started.csrf, started.token);
        let conn = Connection::open(dir.path().join("comments.db")).unwrap();
        let hashes: Vec<Vec<u8>> = conn
            .prepare("SELECT token_hash FROM staff_sessions")
            .unwrap()
            .query_map([], |row| row.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(hashes, vec![Sha256::digest(started.token.as_bytes()).to_vec()]);
        drop(conn);
        drop(sessions);
        let bytes = std::fs::read_dir(dir.path())
            .unwrap()
            .flat_map(|entry| std::fs::read(entry.unwrap().path()).unwrap())
            .collect::<Vec<u8>>();
        for secret in [&started.token, &started.csrf] {
            let raw = crate::util::bytes::unhex(secret).unwrap();
            assert!(!bytes.windows(secret.len()).any(|w| w == secret.as_bytes()), "{secret} as text");
            assert!(!bytes.windows(raw.len()).any(|w| w == raw.as_slice()), "{secret} as bytes");
        }
    }

    #[test]
    fn expired_sessions_are_deleted_when_another_starts() {
        let (dir, sessions) = stores();
        let password = Fingerprint::for_test(1);
        sessions.start(&password, START).unwrap();
        sessions.start(&password, START + 13 * HOUR).unwrap();
        let conn = Connection::open(dir.path().join("comments.db")).unwrap();
        let count: i64 = conn.query_row("SELECT count(*) FROM staff_sessions", [], |row| row.get(0)).unwrap();
        assert_eq!(count, 1);
    }
}
