//! Staff sessions, each belonging to one account.
//!
//! The table (`staff_sessions`) keeps only the SHA-256 of each session
//! token: someone who reads the database or a backup of it cannot sign in
//! with what they find there.
//!
//! The CSRF token is not stored at all: it is an HMAC-SHA256 keyed with the
//! session token, so the server can put it in every form from the cookie it
//! was sent, it differs from the token (a form leaks nothing that signs in),
//! and the stored hash does not give it away.
//!
//! A session is live while it was last used less than [`IDLE_LIMIT`]
//! seconds ago, started less than [`ABSOLUTE_LIMIT`] seconds ago, and its
//! account is not disabled. Changing a password, disabling a person and
//! "sign out everywhere" delete the sessions outright.

use hmac::{Hmac, Mac};
use rusqlite::{OptionalExtension, params};
use sha2::Sha256;

use super::accounts::account_by_id;
use super::activity::{Actor, Kind, record};
use super::{Account, AuthError, StaffStore, token_hash};
use crate::util::bytes::{hex, random_bytes};

/// Twelve hours without use ends a session.
pub const IDLE_LIMIT: i64 = 12 * 60 * 60;
/// Seven days after signing in, a session ends however much it is used.
pub const ABSOLUTE_LIMIT: i64 = 7 * 24 * 60 * 60;
/// What is kept of the browser's description, to tell sessions apart.
const BROWSER_MAX: usize = 200;

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

/// A session as its owner's account page lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionInfo {
    pub created_at: i64,
    pub last_seen: i64,
    pub browser: String,
    /// The session this list is being shown in.
    pub current: bool,
}

impl StaffStore {
    /// Starts a session for a person who has just signed in, recording
    /// the sign-in; sessions past their limits are deleted on the way.
    pub fn start_session(&self, account: &Account, browser: &str, now: i64) -> Result<Session, AuthError> {
        let token = hex(&random_bytes()?);
        let browser: String = browser.chars().filter(|c| !c.is_control()).take(BROWSER_MAX).collect();
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        delete_expired(&tx, now)?;
        tx.execute(
            "INSERT INTO staff_sessions (token_hash, account_id, created_at, last_seen, browser) VALUES (?1, ?2, ?3, ?3, ?4)",
            params![token_hash(&token), account.id, now, browser],
        )?;
        record(&tx, &Actor::person(account), Kind::SignIn, &account.username, "", now)?;
        tx.commit()?;
        Ok(session(token, now, now))
    }

    /// The session with this token and its person, if it is live; using it
    /// keeps it alive (its idle time starts again from `now`). A session
    /// found dead is deleted.
    pub fn touch(&self, token: &str, now: i64) -> Result<Option<(Session, Account)>, AuthError> {
        let hash = token_hash(token);
        let conn = self.conn();
        let found: Option<(i64, i64, i64)> = conn
            .query_row(
                "SELECT account_id, created_at, last_seen FROM staff_sessions WHERE token_hash = ?1",
                params![hash],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
            )
            .optional()?;
        let Some((account_id, created_at, last_seen)) = found else { return Ok(None) };
        let account = account_by_id(&conn, account_id)?.filter(|account| !account.disabled);
        let live = now - last_seen < IDLE_LIMIT && now - created_at < ABSOLUTE_LIMIT;
        let Some(account) = account.filter(|_| live) else {
            conn.execute("DELETE FROM staff_sessions WHERE token_hash = ?1", params![hash])?;
            return Ok(None);
        };
        // Never backwards, should the clock be set back.
        let seen = now.max(last_seen);
        conn.execute("UPDATE staff_sessions SET last_seen = ?2 WHERE token_hash = ?1", params![hash, seen])?;
        Ok(Some((session(token.to_string(), created_at, seen), account)))
    }

    /// Ends the session with this token (signing out).
    pub fn end_session(&self, token: &str, account: &Account, now: i64) -> Result<(), AuthError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute("DELETE FROM staff_sessions WHERE token_hash = ?1", params![token_hash(token)])?;
        record(&tx, &Actor::person(account), Kind::SignOut, &account.username, "", now)?;
        tx.commit()?;
        Ok(())
    }

    /// Ends every session of a person but `keep`; how many ended.
    pub fn end_other_sessions(&self, account: &Account, keep: &str, now: i64) -> Result<usize, AuthError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let ended = tx.execute(
            "DELETE FROM staff_sessions WHERE account_id = ?1 AND token_hash != ?2",
            params![account.id, token_hash(keep)],
        )?;
        let detail = format!("{ended} other session{} ended", if ended == 1 { "" } else { "s" });
        record(&tx, &Actor::person(account), Kind::SignOutEverywhere, &account.username, &detail, now)?;
        tx.commit()?;
        Ok(ended)
    }

    /// A person's live sessions, newest use first.
    pub fn sessions_of(&self, account: &Account, current: &str, now: i64) -> Result<Vec<SessionInfo>, AuthError> {
        let conn = self.conn();
        let mut statement = conn.prepare(
            "SELECT created_at, last_seen, browser, token_hash = ?2 FROM staff_sessions
             WHERE account_id = ?1 AND last_seen > ?3 AND created_at > ?4 ORDER BY last_seen DESC",
        )?;
        let rows = statement.query_map(
            params![account.id, token_hash(current), now - IDLE_LIMIT, now - ABSOLUTE_LIMIT],
            |row| {
                Ok(SessionInfo {
                    created_at: row.get(0)?,
                    last_seen: row.get(1)?,
                    browser: row.get(2)?,
                    current: row.get(3)?,
                })
            },
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

fn delete_expired(conn: &rusqlite::Connection, now: i64) -> Result<usize, rusqlite::Error> {
    conn.execute(
        "DELETE FROM staff_sessions WHERE last_seen <= ?1 OR created_at <= ?2",
        params![now - IDLE_LIMIT, now - ABSOLUTE_LIMIT],
    )
}

fn session(token: String, created_at: i64, now: i64) -> Session {
    let lifetime = IDLE_LIMIT.min(created_at + ABSOLUTE_LIMIT - now).max(0);
    Session { csrf: csrf_for(&token), token, lifetime }
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
    use crate::auth::{NewAccount, Role, Roles};
    use crate::comments::store::Store;
    use rusqlite::Connection;

    const START: i64 = 1_764_000_000;
    const HOUR: i64 = 60 * 60;

    fn store() -> (tempfile::TempDir, StaffStore, Account) {
        crate::auth::test_store(START)
    }

    #[test]
    fn a_session_survives_reopening_the_database() {
        let (dir, staff, jane) = store();
        let started = staff.start_session(&jane, "Firefox", START).unwrap();
        drop(staff);
        let path = dir.path().join("comments.db");
        Store::open(&path).unwrap();
        let reopened = StaffStore::open(&path).unwrap();
        let (touched, account) = reopened.touch(&started.token, START + HOUR).unwrap().unwrap();
        assert_eq!((touched.token, touched.csrf, account.id), (started.token, started.csrf, jane.id));
    }

    #[test]
    fn a_session_ends_after_twelve_hours_without_use() {
        let (_dir, staff, jane) = store();
        let token = staff.start_session(&jane, "", START).unwrap().token;
        // Used every 11 hours it lives on past 12 hours from the start.
        let mut now = START;
        for _ in 0..3 {
            now += 11 * HOUR;
            assert!(staff.touch(&token, now).unwrap().is_some(), "at {now}");
        }
        assert_eq!(staff.touch(&token, now + 12 * HOUR).unwrap(), None);
        assert_eq!(staff.touch(&token, now).unwrap(), None, "deleted, not just refused");
    }

    #[test]
    fn a_session_ends_seven_days_after_sign_in_however_much_it_is_used() {
        let (_dir, staff, jane) = store();
        let token = staff.start_session(&jane, "", START).unwrap().token;
        let mut now = START;
        while now + 10 * HOUR < START + ABSOLUTE_LIMIT {
            now += 10 * HOUR;
            let (session, _) = staff.touch(&token, now).unwrap().unwrap();
            assert!(session.lifetime <= START + ABSOLUTE_LIMIT - now, "the cookie ends with the session too");
        }
        assert_eq!(staff.touch(&token, START + ABSOLUTE_LIMIT).unwrap(), None);
    }

    #[test]
    fn sessions_end_on_sign_out_everywhere_password_change_and_disabling() {
        let (_dir, staff, jane) = store();
        let new = NewAccount::parse("ali", "Ali Khan", "", Roles::of([Role::Moderator])).unwrap();
        let ali = staff.add(&new, Some("$argon2id$x"), &Actor::command_line(), START).unwrap();
        let here = staff.start_session(&jane, "here", START).unwrap().token;
        let there = staff.start_session(&jane, "there", START).unwrap().token;
        let alis = staff.start_session(&ali, "", START).unwrap().token;
        assert_eq!(staff.sessions_of(&jane, &here, START).unwrap().len(), 2);
        assert_eq!(staff.end_other_sessions(&jane, &here, START).unwrap(), 1);
        assert!(staff.touch(&there, START + 1).unwrap().is_none());
        assert!(staff.touch(&here, START + 1).unwrap().is_some(), "the session it was done from stays");
        assert!(staff.touch(&alis, START + 1).unwrap().is_some(), "other people's stay");
        staff
            .set_password_hash(jane.id, "$argon2id$y", None, &Actor::command_line(), Kind::PasswordChanged, START)
            .unwrap();
        assert!(staff.touch(&here, START + 2).unwrap().is_none());
        staff.set_disabled(ali.id, true, &Actor::person(&jane), START).unwrap();
        assert!(staff.touch(&alis, START + 2).unwrap().is_none());
    }

    #[test]
    fn the_database_holds_neither_the_token_nor_the_csrf_token() {
        let (dir, staff, jane) = store();
        let started = staff.start_session(&jane, "", START).unwrap();
        assert_ne!(started.csrf, started.token);
        let conn = Connection::open(dir.path().join("comments.db")).unwrap();
        let hashes: Vec<Vec<u8>> = conn
            .prepare("SELECT token_hash FROM staff_sessions")
            .unwrap()
            .query_map([], |row| row.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(hashes, vec![token_hash(&started.token)]);
        drop(conn);
        drop(staff);
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
        let (dir, staff, jane) = store();
        staff.start_session(&jane, "", START).unwrap();
        staff.start_session(&jane, "", START + 13 * HOUR).unwrap();
        let conn = Connection::open(dir.path().join("comments.db")).unwrap();
        let count: i64 = conn.query_row("SELECT count(*) FROM staff_sessions", [], |row| row.get(0)).unwrap();
        assert_eq!(count, 1);
    }
}
