//! Comments in SQLite. Calls block: async callers run them on
//! `spawn_blocking` threads so the server keeps answering meanwhile.
//!
//! The database is in WAL mode with `synchronous=FULL`: once `insert`
//! returns, the comment survives a crash or power cut, which is what lets
//! the server tell the reader "thank you" only after it returned.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use super::token::Nonce;
use super::{Comment, NewComment, Status, flags_from_codes, flags_to_codes};

const SCHEMA: &str = include_str!("schema.sql");

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the comments database {path}")]
    Open {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("cannot update the comments database to the current version (step {step})")]
    Migrate {
        step: usize,
        #[source]
        source: rusqlite::Error,
    },
    /// The file is not a database, or SQLite's integrity check found it
    /// damaged. The server cannot fix that itself; the message says what
    /// staff can do.
    #[error(
        "the comments database {} is damaged ({detail}), so it was not opened.\n\
         To fix it, stop the server, then either\n\
         - restore the data folder {} from your latest backup, or\n\
         - move {} (and comments.db-wal and comments.db-shm, if they are there) out of the data folder to start again with no comments.\n\
         Keep the damaged copy: some comments may still be recovered from it with sqlite3's .recover command.",
        path.display(),
        path.parent().unwrap_or(path).display(),
        path.display()
    )]
    Damaged { path: PathBuf, detail: String },
    /// A value broke one of the table's rules; input checks should have
    /// caught it first.
    #[error("the comment was refused by the database: {0}")]
    Rejected(String),
    /// SQLite's own reason is part of the message (not only a `source`),
    /// so every log line that prints the error says what went wrong: "disk
    /// I/O error", "database or disk is full", "database is locked".
    #[error("the comments database failed: {0}")]
    Database(rusqlite::Error),
}

/// Whether SQLite says the file itself is damaged or not a database.
fn is_damage(error: &rusqlite::Error) -> bool {
    matches!(error.sqlite_error_code(), Some(rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase))
}

/// One place that turns SQLite's rule violations into a "refused" error
/// rather than a failure of the database itself.
fn on_constraint(error: rusqlite::Error) -> StoreError {
    match error {
        rusqlite::Error::SqliteFailure(ref e, ref message) if e.code == rusqlite::ErrorCode::ConstraintViolation => {
            StoreError::Rejected(message.clone().unwrap_or_else(|| "a rule of the comments table".into()))
        }
        other => StoreError::Database(other),
    }
}

/// What `insert_once` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inserted {
    /// Stored, with this id.
    New(i64),
    /// Nothing stored: the form had been used. `same` when the earlier
    /// comment had the same name and text (a double click).
    AlreadyUsed { same: bool },
}

/// How many comments are in each state, for the admin home page.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub pending: usize,
    pub approved: usize,
    pub rejected: usize,
}

pub struct Store {
    conn: Mutex<Connection>,
    /// The database's last failure, until a later call shows it works
    /// again; `/healthz` and the staff page report it.
    failure: Mutex<Option<Failure>>,
}

/// Why the database failed, in SQLite's words.
#[derive(Debug, Clone)]
struct Failure {
    reason: String,
    /// A failed write (a full disk, say) is only known to be over once a
    /// write succeeds: reads often keep working meanwhile.
    writing: bool,
}

impl Store {
    /// Opens (creating if needed) the database, checks it is intact and
    /// brings its schema up to date. A damaged database is refused: started
    /// on one, the server would fail every comment posted.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let open_error = |source: rusqlite::Error| {
            if is_damage(&source) {
                StoreError::Damaged { path: path.to_path_buf(), detail: source.to_string() }
            } else {
                StoreError::Open { path: path.to_path_buf(), source }
            }
        };
        let mut conn = Connection::open(path).map_err(open_error)?;
        conn.execute_batch("PRAGMA busy_timeout = 5000;").map_err(open_error)?;
        use_wal(&conn).map_err(open_error)?;
        conn.execute_batch("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;").map_err(open_error)?;
        check_integrity(&conn, path)?;
        migrate(&mut conn)?;
        Ok(Store { conn: Mutex::new(conn), failure: Mutex::default() })
    }

    /// Opens an existing database for reading only (the static export);
    /// `None` when there is none yet.
    pub fn open_existing(path: &Path) -> Result<Option<Store>, StoreError> {
        if !path.exists() {
            return Ok(None);
        }
        Store::open(path).map(Some)
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave SQLite half-written
        // (each call is one statement or one transaction), so carry on.
        self.conn.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// SQLite's reason for the database's last failure, while it stands: a
    /// failed write until a write succeeds, a failed read until anything
    /// does.
    pub fn failure(&self) -> Option<String> {
        self.failures().as_ref().map(|f| f.reason.clone())
    }

    fn failures(&self) -> std::sync::MutexGuard<'_, Option<Failure>> {
        // Only ever replaced whole, so a panic cannot leave it half-set.
        self.failure.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Remembers how a call went, for [`Store::failure`]. `writing`: the
    /// call meant to change something; `wrote`: its result says it did (an
    /// update that matched no row writes nothing, so proves nothing).
    fn track<T>(
        &self,
        writing: bool,
        result: Result<T, StoreError>,
        wrote: impl FnOnce(&T) -> bool,
    ) -> Result<T, StoreError> {
        let mut failure = self.failures();
        match &result {
            Err(StoreError::Database(e)) => *failure = Some(Failure { reason: e.to_string(), writing }),
            // The database answered; the value was at fault.
            Err(_) => {}
            Ok(value) => {
                if failure.as_ref().is_some_and(|f| !f.writing || wrote(value)) {
                    *failure = None;
                    tracing::info!("the comments database works again");
                }
            }
        }
        result
    }

    /// Stores a new comment as pending and returns its id. When this
    /// returns, the comment is on disk.
    pub fn insert(&self, comment: &NewComment, now: i64) -> Result<i64, StoreError> {
        let inserted = insert_row(&self.conn(), comment, now);
        self.track(true, inserted, |_| true)
    }

    /// Stores a new comment sent with the form `form`, unless that form has
    /// already stored one: a double click, a reader going back and sending
    /// again, or a bot replaying one form. Marking the form used happens in
    /// the same transaction as the insert, so of any number of posts with
    /// one form, at once or not, exactly one is stored.
    pub fn insert_once(&self, comment: &NewComment, form: Nonce<'_>, now: i64) -> Result<Inserted, StoreError> {
        let inserted = self.insert_once_untracked(comment, form, now);
        self.track(true, inserted, |inserted| matches!(inserted, Inserted::New(_)))
    }

    fn insert_once_untracked(&self, comment: &NewComment, form: Nonce<'_>, now: i64) -> Result<Inserted, StoreError> {
        let mut conn = self.conn();
        let tx =
            conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).map_err(StoreError::Database)?;
        // Forms past their expiry are refused before they get here, so
        // their records are no longer needed.
        tx.execute("DELETE FROM used_forms WHERE expires_at < ?1", params![now]).map_err(StoreError::Database)?;
        let used: Option<Option<i64>> = tx
            .query_row("SELECT comment_id FROM used_forms WHERE nonce = ?1", params![form.nonce], |row| row.get(0))
            .optional()
            .map_err(StoreError::Database)?;
        if let Some(earlier) = used {
            let earlier: Option<(String, String)> = match earlier {
                Some(id) => tx
                    .query_row("SELECT name, body FROM comments WHERE id = ?1", params![id], |row| {
                        Ok((row.get(0)?, row.get(1)?))
                    })
                    .optional()
                    .map_err(StoreError::Database)?,
                None => None,
            };
            // A comment since deleted cannot be compared: treat it as the same.
            let same =
                earlier.is_none_or(|(name, body)| name == comment.name.as_str() && body == comment.text.as_str());
            return Ok(Inserted::AlreadyUsed { same });
        }
        let id = insert_row(&tx, comment, now)?;
        tx.execute(
            "INSERT INTO used_forms (nonce, comment_id, expires_at) VALUES (?1, ?2, ?3)",
            params![form.nonce, id, form.expires_at],
        )
        .map_err(on_constraint)?;
        tx.commit().map_err(StoreError::Database)?;
        Ok(Inserted::New(id))
    }

    /// Changes when another connection (another process) commits to the
    /// database; this connection's own writes do not change it.
    pub(crate) fn data_version(&self) -> Result<i64, StoreError> {
        let version = self.conn().query_row("PRAGMA data_version", [], |row| row.get(0)).map_err(StoreError::Database);
        self.track(false, version, |_| false)
    }

    /// Every approved comment, by page and oldest first, for the pages.
    pub fn approved(&self) -> Result<Vec<Comment>, StoreError> {
        self.query("WHERE status = 'approved' ORDER BY page, created_at, id", params![])
    }

    /// Approved comments for a rebuild of the pages. A database failure is
    /// logged and shows the pages without comments rather than stopping the
    /// rebuild: readers keep the article.
    pub(crate) fn approved_or_none(&self) -> Vec<Comment> {
        self.approved().unwrap_or_else(|e| {
            tracing::error!("reading approved comments failed: {e}");
            Vec::new()
        })
    }

    /// Comments in one state, newest first.
    pub(crate) fn with_status(&self, status: Status, limit: usize) -> Result<Vec<Comment>, StoreError> {
        self.query(
            "WHERE status = ?1 ORDER BY created_at DESC, id DESC LIMIT ?2",
            params![status.as_str(), limit as i64],
        )
    }

    /// Every comment, oldest first, for the clinic's records.
    pub fn all(&self) -> Result<Vec<Comment>, StoreError> {
        self.query("ORDER BY created_at, id", params![])
    }

    pub fn get(&self, id: i64) -> Result<Option<Comment>, StoreError> {
        Ok(self.query("WHERE id = ?1", params![id])?.into_iter().next())
    }

    pub fn counts(&self) -> Result<Counts, StoreError> {
        let counts = self.counts_untracked();
        self.track(false, counts, |_| false)
    }

    fn counts_untracked(&self) -> Result<Counts, StoreError> {
        let conn = self.conn();
        let mut statement =
            conn.prepare("SELECT status, count(*) FROM comments GROUP BY status").map_err(StoreError::Database)?;
        let rows = statement
            .query_map([], |row| Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)? as usize)))
            .map_err(StoreError::Database)?;
        let mut counts = Counts::default();
        for row in rows {
            let (status, n) = row.map_err(StoreError::Database)?;
            match Status::parse(&status) {
                Some(Status::Pending) => counts.pending = n,
                Some(Status::Approved) => counts.approved = n,
                Some(Status::Rejected) => counts.rejected = n,
                None => {}
            }
        }
        Ok(counts)
    }

    /// Moves a comment to another state; the updated comment, or `None`
    /// if there is no such comment.
    pub fn set_status(&self, id: i64, status: Status) -> Result<Option<Comment>, StoreError> {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
        self.set_status_at(id, status, now)
    }

    /// The same at a given time (seconds since 1970). Setting the state a
    /// comment is already in keeps the time it got there, so rejecting it
    /// twice does not put off its deletion.
    pub fn set_status_at(&self, id: i64, status: Status, now: i64) -> Result<Option<Comment>, StoreError> {
        let changed = self
            .conn()
            .execute(
                "UPDATE comments SET status_changed_at = CASE WHEN status = ?1 THEN status_changed_at ELSE ?3 END, status = ?1 WHERE id = ?2",
                params![status.as_str(), id, now],
            )
            .map_err(on_constraint);
        self.track(true, changed, |&n| n > 0)?;
        self.get(id)
    }

    /// Deletes for good the comments rejected at least `days` days before
    /// `now`; how many. With 0 days, every rejected comment goes. Pending
    /// and approved comments are never touched, whatever their age.
    pub fn delete_rejected(&self, days: u32, now: i64) -> Result<usize, StoreError> {
        let cutoff = now - i64::from(days) * 24 * 60 * 60;
        let deleted = self
            .conn()
            .execute("DELETE FROM comments WHERE status = 'rejected' AND status_changed_at <= ?1", params![cutoff])
            .map_err(StoreError::Database);
        self.track(true, deleted, |&n| n > 0)
    }

    /// Sets or (with empty text) removes the clinic's reply.
    pub fn set_reply(&self, id: i64, reply: &str) -> Result<Option<Comment>, StoreError> {
        let reply = Some(reply.trim()).filter(|r| !r.is_empty());
        let changed = self
            .conn()
            .execute("UPDATE comments SET reply = ?1 WHERE id = ?2", params![reply, id])
            .map_err(on_constraint);
        self.track(true, changed, |&n| n > 0)?;
        self.get(id)
    }

    /// Removes a comment for good (a reader's privacy request); the removed
    /// comment, or `None` if there was none.
    pub fn delete(&self, id: i64) -> Result<Option<Comment>, StoreError> {
        let comment = self.get(id)?;
        let deleted =
            self.conn().execute("DELETE FROM comments WHERE id = ?1", params![id]).map_err(StoreError::Database);
        self.track(true, deleted, |&n| n > 0)?;
        Ok(comment)
    }

    fn query(&self, filter: &str, params: impl rusqlite::Params) -> Result<Vec<Comment>, StoreError> {
        let comments = self.query_untracked(filter, params);
        self.track(false, comments, |_| false)
    }

    fn query_untracked(&self, filter: &str, params: impl rusqlite::Params) -> Result<Vec<Comment>, StoreError> {
        let conn = self.conn();
        let sql = format!(
            "SELECT id, page, name, body, created_at, status, reply, flagged, flag_reasons FROM comments {filter}"
        );
        let mut statement = conn.prepare(&sql).map_err(StoreError::Database)?;
        let rows = statement
            .query_map(params, |row| {
                let status: String = row.get(5)?;
                Ok(Comment {
                    id: row.get(0)?,
                    page: row.get(1)?,
                    name: row.get(2)?,
                    body: row.get(3)?,
                    created_at: row.get(4)?,
                    status: Status::parse(&status).unwrap_or(Status::Pending),
                    reply: row.get(6)?,
                    flagged: row.get(7)?,
                    flags: flags_from_codes(&row.get::<_, String>(8)?),
                })
            })
            .map_err(StoreError::Database)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(StoreError::Database)
    }
}

fn insert_row(conn: &Connection, comment: &NewComment, now: i64) -> Result<i64, StoreError> {
    conn.execute(
        "INSERT INTO comments (page, name, body, created_at, status, flagged, flag_reasons) VALUES (?1, ?2, ?3, ?4, 'pending', ?5, ?6)",
        params![comment.page, comment.name.as_str(), comment.text.as_str(), now, !comment.flags.is_empty(), flags_to_codes(&comment.flags)],
    )
    .map_err(on_constraint)?;
    Ok(conn.last_insert_rowid())
}

/// Puts the database in WAL mode. The switch needs the file to itself for
/// a moment, and when another connection is opening it at the same time
/// SQLite answers "locked" at once instead of waiting (its busy handler is
/// skipped there to avoid a deadlock), so wait and try again here.
fn use_wal(conn: &Connection) -> rusqlite::Result<()> {
    let give_up = Instant::now() + Duration::from_secs(5);
    loop {
        match conn.query_row("PRAGMA journal_mode = WAL", [], |row| row.get::<_, String>(0)) {
            Ok(_) => return Ok(()),
            Err(e) if e.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy) && Instant::now() < give_up => {
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(e) => return Err(e),
        }
    }
}

/// Refuses a database SQLite finds damaged. `quick_check` reads every page
/// but skips the slow index cross-checks, so it takes milliseconds on a
/// comments database.
fn check_integrity(conn: &Connection, path: &Path) -> Result<(), StoreError> {
    let damaged = |detail: String| StoreError::Damaged { path: path.to_path_buf(), detail };
    let findings = conn.prepare("PRAGMA quick_check(5)").and_then(|mut statement| {
        statement.query_map([], |row| row.get::<_, String>(0))?.collect::<Result<Vec<_>, _>>()
    });
    match findings {
        Ok(findings) if findings == ["ok"] => Ok(()),
        Ok(findings) => {
            // One line for the log: the "*** in database main ***" header
            // only says which file, which the message already does.
            let lines: Vec<&str> = findings.iter().flat_map(|f| f.lines()).filter(|l| !l.starts_with("***")).collect();
            Err(damaged(format!("SQLite's integrity check says: {}", lines.join("; "))))
        }
        Err(e) if is_damage(&e) => Err(damaged(e.to_string())),
        Err(source) => Err(StoreError::Open { path: path.to_path_buf(), source }),
    }
}

/// The schema's steps, split on their `-- step N:` comments (kept, so
/// each step's SQL starts with its own description).
fn steps() -> Vec<String> {
    SCHEMA.split("\n-- step ").skip(1).map(|step| format!("-- step {step}")).collect()
}

/// Applies the steps this database has not had yet, each in a transaction,
/// so running it again (or on a new database) is safe.
///
/// Several processes may open a new or old database at once (`serve` and
/// `check` started together, or a test suite's binaries): each step takes
/// the write lock first (`BEGIN IMMEDIATE`) and reads the version under it,
/// so a step another process has just applied is skipped, not run twice.
fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let steps = steps();
    loop {
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|source| StoreError::Migrate { step: 0, source })?;
        let done: i64 = tx
            .query_row("PRAGMA user_version", [], |row| row.get(0))
            .map_err(|source| StoreError::Migrate { step: 0, source })?;
        let done = usize::try_from(done).unwrap_or(0);
        let Some(step) = steps.get(done) else {
            return Ok(());
        };
        let number = done + 1;
        let failed = |source| StoreError::Migrate { step: number, source };
        tx.execute_batch(step).map_err(failed)?;
        tx.pragma_update(None, "user_version", number as i64).map_err(failed)?;
        tx.commit().map_err(failed)?;
    }
}

/// The schema version a database is at (for tests and diagnostics).
#[cfg(test)]
pub(crate) fn schema_version(path: &Path) -> Result<usize, StoreError> {
    let conn = Connection::open(path).map_err(|source| StoreError::Open { path: path.to_path_buf(), source })?;
    let version: Option<i64> =
        conn.query_row("PRAGMA user_version", [], |row| row.get(0)).optional().map_err(StoreError::Database)?;
    Ok(version.map_or(0, |v| usize::try_from(v).unwrap_or(0)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::comments::{CommentText, DisplayName};

    fn new(page: &str, text: &str) -> NewComment {
        NewComment {
            page: page.into(),
            name: DisplayName::parse("Jo").unwrap(),
            text: CommentText::parse(text).unwrap(),
            flags: Vec::new(),
        }
    }

    #[test]
    fn migrations_run_once_on_new_and_existing_databases() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("comments.db");
        let store = Store::open(&path).unwrap();
        store.insert(&new("/a/", "kept"), 1).unwrap();
        drop(store);
        assert_eq!(schema_version(&path).unwrap(), steps().len());
        // Opening again changes nothing and loses nothing.
        let store = Store::open(&path).unwrap();
        assert_eq!(store.all().unwrap().len(), 1);
        assert_eq!(schema_version(&path).unwrap(), steps().len());
    }

    #[test]
    fn a_database_from_the_first_version_is_upgraded_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("comments.db");
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(&steps()[0]).unwrap();
            conn.pragma_update(None, "user_version", 1).unwrap();
            conn.execute(
                "INSERT INTO comments (page, name, body, created_at) VALUES ('/a/', '', 'old comment', 5)",
                [],
            )
            .unwrap();
        }
        let store = Store::open(&path).unwrap();
        let all = store.all().unwrap();
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].body, "old comment");
        assert!(!all[0].flagged, "the new column has its default");
        assert_eq!(schema_version(&path).unwrap(), steps().len());
    }

    /// Processes starting together (a test suite, `serve` beside `check`)
    /// must not apply a step twice: that failed CI once with "duplicate
    /// column name". Threads with their own connections race the same way.
    #[test]
    fn many_openers_at_once_upgrade_a_database_exactly_once() {
        for from_version in [0, 1, 2] {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("comments.db");
            if from_version > 0 {
                let conn = Connection::open(&path).unwrap();
                for step in &steps()[..from_version] {
                    conn.execute_batch(step).unwrap();
                }
                conn.pragma_update(None, "user_version", from_version as i64).unwrap();
            }
            let openers = 8;
            let start = std::sync::Barrier::new(openers);
            std::thread::scope(|scope| {
                let handles: Vec<_> = (0..openers)
                    .map(|_| {
                        scope.spawn(|| {
                            start.wait();
                            Store::open(&path).map(drop)
                        })
                    })
                    .collect();
                for handle in handles {
                    if let Err(e) = handle.join().unwrap() {
                        panic!("from version {from_version}: {:#}", anyhow::Error::new(e));
                    }
                }
            });
            assert_eq!(schema_version(&path).unwrap(), steps().len());
        }
    }

    #[test]
    fn the_reasons_a_comment_was_flagged_are_kept() {
        use crate::comments::PersonalDetail::{Medicine, Phone, SymptomsNow};
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("c.db")).unwrap();
        let flagged = store
            .insert(
                &NewComment {
                    flags: vec![Phone, Medicine, SymptomsNow],
                    ..new("/p/", "on warfarin, call 555 010 0199")
                },
                1,
            )
            .unwrap();
        let plain = store.insert(&new("/p/", "plain"), 2).unwrap();
        let flagged = store.get(flagged).unwrap().unwrap();
        assert!(flagged.flagged);
        assert_eq!(flagged.flags, vec![Phone, Medicine, SymptomsNow]);
        let plain = store.get(plain).unwrap().unwrap();
        assert!(!plain.flagged && plain.flags.is_empty());
    }

    #[test]
    fn comments_flagged_before_reasons_were_kept_stay_flagged_without_reasons() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("comments.db");
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(&steps()[..2].join("\n")).unwrap();
            conn.pragma_update(None, "user_version", 2).unwrap();
            conn.execute(
                "INSERT INTO comments (page, name, body, created_at, flagged) VALUES ('/a/', '', 'call me', 5, 1)",
                [],
            )
            .unwrap();
        }
        let all = Store::open(&path).unwrap().all().unwrap();
        assert!(all[0].flagged);
        assert!(all[0].flags.is_empty());
    }

    fn form(nonce: &str) -> Nonce<'_> {
        Nonce { nonce, expires_at: 1_000 }
    }

    #[test]
    fn a_form_stores_one_comment() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("c.db")).unwrap();
        let Inserted::New(id) = store.insert_once(&new("/p/", "first"), form("aa"), 10).unwrap() else {
            panic!("stored")
        };
        assert_eq!(
            store.insert_once(&new("/p/", "first"), form("aa"), 11).unwrap(),
            Inserted::AlreadyUsed { same: true }
        );
        assert_eq!(
            store.insert_once(&new("/p/", "changed"), form("aa"), 12).unwrap(),
            Inserted::AlreadyUsed { same: false }
        );
        assert!(matches!(store.insert_once(&new("/p/", "other form"), form("bb"), 13).unwrap(), Inserted::New(_)));
        assert_eq!(store.all().unwrap().len(), 2);
        // A comment deleted for a privacy request leaves its form used.
        store.delete(id).unwrap();
        assert_eq!(
            store.insert_once(&new("/p/", "first"), form("aa"), 14).unwrap(),
            Inserted::AlreadyUsed { same: true }
        );
        assert_eq!(store.all().unwrap().len(), 1);
    }

    #[test]
    fn records_of_used_forms_go_once_the_form_has_expired() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("c.db")).unwrap();
        store.insert_once(&new("/p/", "a"), Nonce { nonce: "old", expires_at: 100 }, 50).unwrap();
        store.insert_once(&new("/p/", "b"), Nonce { nonce: "new", expires_at: 300 }, 60).unwrap();
        let count =
            || store.conn().query_row("SELECT count(*) FROM used_forms", [], |row| row.get::<_, i64>(0)).unwrap();
        assert_eq!(count(), 2);
        store.insert_once(&new("/p/", "c"), Nonce { nonce: "later", expires_at: 400 }, 200).unwrap();
        assert_eq!(count(), 2, "the expired record went, the live one stayed");
        assert!(matches!(
            store.insert_once(&new("/p/", "b"), Nonce { nonce: "new", expires_at: 300 }, 250).unwrap(),
            Inserted::AlreadyUsed { .. }
        ));
    }

    #[test]
    fn one_form_posted_from_many_threads_stores_one_comment() {
        let dir = tempfile::tempdir().unwrap();
        let store = std::sync::Arc::new(Store::open(&dir.path().join("c.db")).unwrap());
        let threads: Vec<_> = (0..16)
            .map(|n| {
                let store = store.clone();
                std::thread::spawn(move || {
                    store
                        .insert_once(&new("/p/", &format!("try {n}")), Nonce { nonce: "one", expires_at: 1_000 }, 10)
                        .unwrap()
                })
            })
            .collect();
        let stored = threads.into_iter().map(|t| t.join().unwrap()).filter(|r| matches!(r, Inserted::New(_))).count();
        assert_eq!(stored, 1);
        assert_eq!(store.all().unwrap().len(), 1);
    }

    const DAY: i64 = 24 * 60 * 60;

    #[test]
    fn rejected_comments_are_deleted_only_once_the_days_have_passed() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("c.db")).unwrap();
        let now = 1_800_000_000;
        let old_rejected = store.insert(&new("/p/", "old rejected"), now - 400 * DAY).unwrap();
        store.set_status_at(old_rejected, Status::Rejected, now - 31 * DAY).unwrap();
        let due = store.insert(&new("/p/", "due today"), now - 40 * DAY).unwrap();
        store.set_status_at(due, Status::Rejected, now - 30 * DAY).unwrap();
        // Written long ago but rejected recently: the clock runs from the rejection.
        let recent = store.insert(&new("/p/", "rejected yesterday"), now - 400 * DAY).unwrap();
        store.set_status_at(recent, Status::Rejected, now - DAY).unwrap();
        let pending = store.insert(&new("/p/", "old pending"), now - 400 * DAY).unwrap();
        let approved = store.insert(&new("/p/", "old approved"), now - 400 * DAY).unwrap();
        store.set_status_at(approved, Status::Approved, now - 399 * DAY).unwrap();
        // Rejected long ago, approved since: kept.
        let second_thoughts = store.insert(&new("/p/", "approved after all"), now - 400 * DAY).unwrap();
        store.set_status_at(second_thoughts, Status::Rejected, now - 300 * DAY).unwrap();
        store.set_status_at(second_thoughts, Status::Approved, now - 200 * DAY).unwrap();

        assert_eq!(store.delete_rejected(30, now).unwrap(), 2);
        let mut left: Vec<i64> = store.all().unwrap().into_iter().map(|c| c.id).collect();
        left.sort();
        assert_eq!(left, vec![recent, pending, approved, second_thoughts]);
        assert_eq!(store.delete_rejected(30, now).unwrap(), 0, "running again deletes nothing more");
        assert_eq!(store.delete_rejected(0, now).unwrap(), 1, "0 days: every rejected comment goes");
        assert_eq!(store.all().unwrap().len(), 3);
    }

    #[test]
    fn rejecting_again_does_not_restart_the_clock() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("c.db")).unwrap();
        let id = store.insert(&new("/p/", "x"), 0).unwrap();
        store.set_status_at(id, Status::Rejected, 10 * DAY).unwrap();
        store.set_status_at(id, Status::Rejected, 20 * DAY).unwrap();
        assert_eq!(store.delete_rejected(30, 40 * DAY).unwrap(), 1);
    }

    #[test]
    fn comments_rejected_before_the_upgrade_get_the_full_period_from_the_upgrade() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("comments.db");
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(&steps()[..4].join("\n")).unwrap();
            conn.pragma_update(None, "user_version", 4).unwrap();
            conn.execute("INSERT INTO comments (page, body, created_at, status) VALUES ('/a/', 'rejected long ago', 5, 'rejected')", []).unwrap();
            conn.execute("INSERT INTO comments (page, body, created_at, status) VALUES ('/a/', 'pending long ago', 5, 'pending')", []).unwrap();
        }
        let store = Store::open(&path).unwrap();
        let upgraded = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64;
        assert_eq!(store.delete_rejected(30, upgraded).unwrap(), 0, "nothing deleted by the upgrade itself");
        assert_eq!(store.delete_rejected(30, upgraded + 29 * DAY).unwrap(), 0);
        assert_eq!(store.delete_rejected(30, upgraded + 31 * DAY).unwrap(), 1);
        assert_eq!(store.all().unwrap()[0].body, "pending long ago");
    }

    #[test]
    fn moderation_moves_comments_between_states() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("c.db")).unwrap();
        let a = store.insert(&new("/p/", "first"), 10).unwrap();
        let b = store.insert(&new("/p/", "second"), 20).unwrap();
        assert_eq!(store.counts().unwrap(), Counts { pending: 2, approved: 0, rejected: 0 });
        assert_eq!(
            store.with_status(Status::Pending, 10).unwrap().iter().map(|c| c.id).collect::<Vec<_>>(),
            vec![b, a],
            "newest first"
        );
        store.set_status(a, Status::Approved).unwrap();
        store.set_reply(a, " Thanks! ").unwrap();
        store.set_status(b, Status::Rejected).unwrap();
        let approved = store.approved().unwrap();
        assert_eq!(approved.len(), 1);
        assert_eq!(approved[0].reply.as_deref(), Some("Thanks!"));
        assert!(store.delete(b).unwrap().is_some());
        assert!(store.delete(b).unwrap().is_none());
        assert_eq!(store.counts().unwrap(), Counts { pending: 0, approved: 1, rejected: 0 });
    }

    #[test]
    fn sql_metacharacters_are_stored_verbatim() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("c.db")).unwrap();
        let text = "Robert'); DROP TABLE comments;-- \"quoted\" % _ \\";
        let id = store.insert(&new("/p/", text), 1).unwrap();
        assert_eq!(store.get(id).unwrap().unwrap().body, text);
    }

    /// A database with several pages of comments, closed (so its WAL is
    /// folded in) and then damaged in the middle, as a failing disk would.
    fn damaged_database(dir: &Path) -> PathBuf {
        let path = dir.join("comments.db");
        let store = Store::open(&path).unwrap();
        for n in 0..200 {
            store.insert(&new("/p/", &format!("comment {n} {}", "words ".repeat(200))), n).unwrap();
        }
        drop(store);
        let mut bytes = std::fs::read(&path).unwrap();
        assert!(bytes.len() > 50 * 4096, "several pages: {}", bytes.len());
        let middle = bytes.len() / 2;
        bytes[middle..middle + 3 * 4096].fill(0xA5);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    #[test]
    fn a_damaged_database_is_refused_with_what_to_do() {
        let dir = tempfile::tempdir().unwrap();
        let path = damaged_database(dir.path());
        let message = Store::open(&path).err().expect("a damaged database is refused").to_string();
        assert!(
            message.starts_with(&format!(
                "the comments database {} is damaged (SQLite's integrity check says: Tree ",
                path.display()
            )),
            "{message}"
        );
        assert!(
            message.contains(&format!("restore the data folder {} from your latest backup", dir.path().display())),
            "{message}"
        );
        assert!(message.contains(&format!("move {} (and comments.db-wal", path.display())), "{message}");
    }

    #[test]
    fn a_file_that_is_not_a_database_is_refused_with_what_to_do() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("comments.db");
        std::fs::write(&path, "name,comment\nJo,hello\n".repeat(500)).unwrap();
        let message = Store::open(&path).err().expect("refused").to_string();
        assert!(message.contains("is damaged (file is not a database)"), "{message}");
        assert!(message.contains("restore the data folder"), "{message}");
        assert_eq!(
            std::fs::read(&path).unwrap(),
            "name,comment\nJo,hello\n".repeat(500).into_bytes(),
            "the file is left as it was"
        );
    }

    #[test]
    fn database_failures_say_sqlites_reason_and_stand_until_a_write_succeeds() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("c.db")).unwrap();
        assert_eq!(store.failure(), None);
        store.conn().execute_batch("PRAGMA query_only = ON").unwrap();
        let error = store.insert_once(&new("/p/", "lost?"), form("aa"), 10).unwrap_err();
        assert!(
            error.to_string().contains("attempt to write a readonly database"),
            "the log line carries SQLite's reason: {error}"
        );
        assert_eq!(store.failure().as_deref(), Some("attempt to write a readonly database"));
        assert!(store.approved().unwrap().is_empty());
        assert!(store.failure().is_some(), "reads still working prove nothing about writes");
        store.conn().execute_batch("PRAGMA query_only = OFF").unwrap();
        store.insert_once(&new("/p/", "saved"), form("aa"), 11).unwrap();
        assert_eq!(store.failure(), None, "a write that worked clears it");

        store.conn().execute_batch("ALTER TABLE comments RENAME TO elsewhere").unwrap();
        assert!(store.all().unwrap_err().to_string().contains("no such table: comments"));
        assert!(store.failure().is_some());
        store.conn().execute_batch("ALTER TABLE elsewhere RENAME TO comments").unwrap();
        assert_eq!(store.all().unwrap().len(), 1);
        assert_eq!(store.failure(), None, "a failed read is over once a read works");
    }

    #[test]
    fn database_rules_are_reported_as_refusals() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("c.db")).unwrap();
        let err = store
            .conn()
            .execute("INSERT INTO comments (page, body, created_at) VALUES ('/p/', '', 1)", [])
            .map_err(on_constraint)
            .unwrap_err();
        assert!(matches!(err, StoreError::Rejected(_)), "{err:?}");
    }
}
