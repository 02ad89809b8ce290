//! Staff accounts: who may sign in, with which roles, their sessions and
//! set-password links, and the record of what each person did. Nothing
//! here knows about HTTP; `http::admin` turns it into pages and cookies.
//!
//! Everything lives in the data folder's one SQLite database (the tables
//! are steps 6 and 7 of `comments/schema.sql`), behind [`StaffStore`].
//! Calls block: async callers run them off the async threads. Times are
//! seconds since 1970 passed in by the caller, so tests can move the clock.

pub mod accounts;
pub mod activity;
pub mod password;
pub mod roles;
pub mod sessions;
pub mod two_step;

use std::path::Path;
use std::sync::Mutex;

use rusqlite::Connection;
use sha2::{Digest, Sha256};

pub use accounts::{Account, NewAccount};
pub use activity::{Actor, Kind};
pub use roles::{Need, Role, Roles};

/// Why something about staff accounts was not done. The texts are for the
/// person who asked: the staff pages and the command line show them as
/// they are.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("{0}")]
    Invalid(String),
    #[error("there is already someone with the username \"{0}\"")]
    UsernameTaken(String),
    #[error("there is no one with the username \"{0}\"; `clinic-site staff list` shows everyone")]
    NoSuchUser(String),
    #[error("this would leave no one who can add staff: keep at least one owner who is not disabled")]
    LastOwner,
    #[error("this set-password link has already been used; ask an owner for a new one")]
    LinkUsed,
    #[error("this set-password link has expired (links last 24 hours); ask an owner for a new one")]
    LinkExpired,
    #[error("this set-password link is not one we made; check it was copied whole, or ask an owner for a new one")]
    LinkUnknown,
    #[error("cannot make a random token: {0}")]
    Random(#[from] std::io::Error),
    #[error("the staff tables failed: {0}")]
    Database(#[from] rusqlite::Error),
}

pub struct StaffStore {
    conn: Mutex<Connection>,
}

impl StaffStore {
    /// Opens the data folder's database, whose schema the comments store
    /// has already brought up to date (`Store::open` runs first).
    pub fn open(path: &Path) -> Result<StaffStore, AuthError> {
        let conn = Connection::open(path)?;
        conn.execute_batch("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;")?;
        // Fail at start-up, not at the first sign-in, if a table is missing.
        conn.query_row("SELECT count(*) FROM staff_accounts, staff_sessions, staff_activity LIMIT 1", [], |row| {
            row.get::<_, i64>(0)
        })?;
        Ok(StaffStore { conn: Mutex::new(conn) })
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        // Multi-statement changes run in transactions, so a panic cannot
        // leave one half-done.
        self.conn.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// What the tables keep in place of a secret token (sessions, links,
/// recovery codes): someone who reads the database or a backup of it
/// cannot use what they find there.
pub(crate) fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// A fresh data folder's store with one owner, Jane Smith, DPT, added at
/// `now`: what the unit tests of each part start from.
#[cfg(test)]
pub(crate) fn test_store(now: i64) -> (tempfile::TempDir, StaffStore, Account) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("comments.db");
    crate::comments::store::Store::open(&path).unwrap();
    let staff = StaffStore::open(&path).unwrap();
    let new = NewAccount::parse("jane", "Jane Smith", "DPT", Roles::of([Role::Owner])).unwrap();
    let account = staff.add(&new, Some("$argon2id$not-a-real-hash"), &Actor::command_line(), now).unwrap();
    (dir, staff, account)
}
