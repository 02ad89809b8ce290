//! Saving page files from the workspace, and every version of them.
//!
//! The file on disk is the page: the site is built from it, and staff may
//! still edit it with a text editor on the server. The history beside it
//! (`page_revisions`, step 9 of `comments/schema.sql`) keeps each version
//! whole, with the SHA-256 of its bytes, and who made it.
//!
//! A save names the version it started from (its hash). If the file is no
//! longer that version, someone else saved in between: the save is refused
//! as a conflict and what was typed is kept as a draft, so nothing is lost
//! and nothing is overwritten unseen.
//!
//! The file is written first and its revision recorded after. A crash in
//! between leaves a file that no revision accounts for, which the next
//! look (the watcher, or the pass at start-up) records as an edit made
//! outside the workspace: true, if less precise. Recording first would
//! leave a revision claiming a save that never reached the disk.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use sha2::{Digest, Sha256};

use crate::auth::activity::{Actor, Kind, page_subject, record};
use crate::util::bytes::hex;
use crate::util::fs::{is_link_outside, is_temporary, write_atomic};

/// The largest page the workspace saves. The longest page the clinic has
/// is a few KiB; a text this size is a paste gone wrong, and every
/// revision keeps the text whole.
pub const MAX_TEXT_BYTES: usize = 256 * 1024;

/// A save message longer than this is not a message.
pub const MAX_MESSAGE_CHARS: usize = 500;

/// Why a page was not saved or read. The texts are for the member of
/// staff who asked, and say what to do.
#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    #[error(
        "the page was changed by someone else (or outside the workspace) since you opened it; what you typed is kept as a draft: compare it with the page as it is now, then save again"
    )]
    Conflict { current_text: String, current_hash: String },
    #[error("the page is {} KiB, more than the {} KiB a page may be: split it into sections", bytes.div_ceil(1024), MAX_TEXT_BYTES / 1024)]
    TooLarge { bytes: usize },
    #[error("the message is {chars} characters long; keep it under {MAX_MESSAGE_CHARS}, one line about what changed")]
    MessageTooLong { chars: usize },
    #[error("\"{path}\" is not a page in the content folder: {why}")]
    BadPath { path: String, why: &'static str },
    #[error("there is no page {path} in the content folder; it may have been renamed or deleted")]
    NotFound { path: String },
    #[error(
        "{path} is not plain UTF-8 text, so it cannot be edited here; open it in a text editor and save it as UTF-8"
    )]
    NotText { path: String },
    #[error(
        "version {id} is a change waiting for a clinical review, so it cannot be put back here; a reviewer publishes it from Reviews"
    )]
    WaitingForReview { id: i64 },
    #[error("there is no revision {id} of {path}")]
    NoSuchRevision { path: String, id: i64 },
    #[error("cannot read or write {path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("the page history failed: {0}")]
    Database(#[from] rusqlite::Error),
}

/// How a revision came to be. The names are stored, so never rename one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum RevisionKind {
    /// Saved from the workspace and written to the file.
    Save,
    /// Kept, not written: text with content errors, or a save that came
    /// too late (a conflict).
    Draft,
    /// Found on disk, written by something other than the workspace.
    Outside,
    /// An earlier revision's text, saved again.
    Restore,
    /// A new page, written from the template (`structure`).
    Create,
    /// The page's last text as it was moved to the trash; the file is gone.
    Trash,
    /// A reviewer's clinical sign-off: the text they reviewed, written with
    /// the review in its front matter (`signoff`).
    SignOff,
    /// Kept, not written, waiting for a reviewer: a save of a signed-off
    /// page when `site.toml` requires review before a change goes live.
    Pending,
}

impl RevisionKind {
    pub const ALL: [RevisionKind; 8] = [
        RevisionKind::Save,
        RevisionKind::Draft,
        RevisionKind::Outside,
        RevisionKind::Restore,
        RevisionKind::Create,
        RevisionKind::Trash,
        RevisionKind::SignOff,
        RevisionKind::Pending,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RevisionKind::Save => "save",
            RevisionKind::Draft => "draft",
            RevisionKind::Outside => "outside",
            RevisionKind::Restore => "restore",
            RevisionKind::Create => "create",
            RevisionKind::Trash => "trash",
            RevisionKind::SignOff => "sign-off",
            RevisionKind::Pending => "pending",
        }
    }

    pub fn parse(name: &str) -> Option<RevisionKind> {
        RevisionKind::ALL.into_iter().find(|kind| kind.as_str() == name)
    }
}

/// One revision, without its text, for a page's history.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RevisionSummary {
    pub id: i64,
    /// Relative to the content folder: `dry-needling/safety.md`.
    pub path: String,
    /// `None` for changes made outside the workspace.
    pub account_id: Option<i64>,
    /// "Jane Smith (jane)", or "outside the workspace".
    pub author: String,
    /// Seconds since 1970 (UTC).
    pub at: i64,
    pub message: String,
    pub kind: RevisionKind,
    /// SHA-256 of the text's bytes, in hex: what a save's base hash is.
    pub hash: String,
    /// The file's hash this revision was made against, when there was one.
    pub base_hash: Option<String>,
}

/// One revision with its text.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Revision {
    pub summary: RevisionSummary,
    pub text: String,
}

/// What a save did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Saved {
    /// The new revision; `None` when the text was already the file's, so
    /// nothing was written or recorded.
    pub revision: Option<i64>,
    /// The file's hash now: the base hash of the next save.
    pub hash: String,
}

/// The SHA-256 of `text`'s bytes, in hex, as revisions store it.
pub fn content_hash(text: &str) -> String {
    hex(&Sha256::digest(text.as_bytes()))
}

/// A page path, checked: relative to the content folder, `/`-separated.
pub(super) struct PagePath {
    /// As stored: `dry-needling/safety.md`.
    pub(super) relative: String,
    /// On disk, under the content folder.
    pub(super) full: PathBuf,
}

/// The editing workspace's store: the content folder's page files and
/// their revisions in the data folder's database.
pub struct Workspace {
    conn: Mutex<Connection>,
    /// The content folder, canonical, so links can be checked against it.
    content: PathBuf,
    /// One lock per page: a save reads, compares and writes the file and
    /// records the revision as one step, so two saves of one page (or a
    /// save and the watcher's look) never interleave.
    locks: Mutex<HashMap<String, Arc<Mutex<()>>>>,
}

pub(super) const SUMMARY_COLUMNS: &str = "id, path, account_id, author, at, message, kind, hash, base_hash";

pub(super) fn summary_from_row(row: &rusqlite::Row<'_>) -> Result<RevisionSummary, rusqlite::Error> {
    let kind: String = row.get(6)?;
    Ok(RevisionSummary {
        id: row.get(0)?,
        path: row.get(1)?,
        account_id: row.get(2)?,
        author: row.get(3)?,
        at: row.get(4)?,
        message: row.get(5)?,
        kind: RevisionKind::parse(&kind).ok_or_else(|| {
            rusqlite::Error::FromSqlConversionFailure(
                6,
                rusqlite::types::Type::Text,
                format!("unknown revision kind \"{kind}\"").into(),
            )
        })?,
        hash: row.get(7)?,
        base_hash: row.get(8)?,
    })
}

/// What a save or restore asks to write.
#[derive(Clone, Copy)]
pub(super) struct Edit<'a> {
    pub(super) text: &'a str,
    /// The hash of the file as the person saw it.
    pub(super) base_hash: &'a str,
    pub(super) by: &'a Actor,
    pub(super) message: &'a str,
    pub(super) now: i64,
}

/// A revision about to be added, and its line in the activity record.
pub(super) struct NewRevision<'a> {
    pub(super) page: &'a PagePath,
    pub(super) kind: RevisionKind,
    pub(super) text: &'a str,
    pub(super) hash: &'a str,
    pub(super) base_hash: Option<&'a str>,
    pub(super) by: &'a Actor,
    pub(super) message: &'a str,
    /// The activity record's line for it; `None` for the first version of
    /// a page the history sees, which nobody did just now, and for a file
    /// changed as part of a larger change that has its own line.
    pub(super) activity: Option<Kind>,
    pub(super) now: i64,
}

impl<'a> NewRevision<'a> {
    /// Text kept but not written: it has content errors, or its save came
    /// too late (a conflict).
    pub(super) fn draft(page: &'a PagePath, hash: &'a str, edit: &Edit<'a>) -> NewRevision<'a> {
        NewRevision {
            page,
            kind: RevisionKind::Draft,
            text: edit.text,
            hash,
            base_hash: Some(edit.base_hash),
            by: edit.by,
            message: edit.message,
            activity: Some(Kind::PageDraftSaved),
            now: edit.now,
        }
    }
}

impl Workspace {
    /// Opens the data folder's database, whose schema the comments store
    /// has already brought up to date (`Store::open` runs first), for the
    /// pages in `content_dir`.
    pub fn open(database: &Path, content_dir: &Path) -> Result<Workspace, SaveError> {
        let conn = Connection::open(database)?;
        conn.execute_batch("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;")?;
        // Fail at start-up, not at the first save, if the table is missing.
        conn.query_row("SELECT count(*) FROM page_revisions, staff_activity LIMIT 1", [], |row| row.get::<_, i64>(0))?;
        let content = std::fs::canonicalize(content_dir)
            .map_err(|source| SaveError::Io { path: content_dir.display().to_string(), source })?;
        Ok(Workspace { conn: Mutex::new(conn), content, locks: Mutex::default() })
    }

    pub(super) fn conn(&self) -> MutexGuard<'_, Connection> {
        // Each change is one transaction, so a panic cannot leave one
        // half-done and the connection is safe to use after one.
        self.conn.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The lock for one page. Pages are few, so the map is never pruned.
    pub(super) fn lock(&self, page: &PagePath) -> Arc<Mutex<()>> {
        let mut locks = self.locks.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        locks.entry(page.relative.clone()).or_default().clone()
    }

    /// Checks a path as typed or sent by a form: a relative path of a `.md`
    /// file inside the content folder, reached through no link that leads
    /// out of it.
    pub(super) fn page(&self, path: &str) -> Result<PagePath, SaveError> {
        let relative = normalize(path)?;
        let full = self.content.join(&relative);
        let bad = |why| SaveError::BadPath { path: path.to_string(), why };
        let mut walked = self.content.clone();
        for part in relative.split('/') {
            walked.push(part);
            if is_link_outside(&self.content, &walked) {
                return Err(bad("it is a link to a file outside the content folder"));
            }
        }
        // A save renames a new file over the old one, which would replace
        // the link itself and leave the file it points to as it was.
        if std::fs::symlink_metadata(&full).is_ok_and(|meta| meta.file_type().is_symlink()) {
            return Err(bad("it is a link to another file; edit that file instead"));
        }
        Ok(PagePath { relative, full })
    }

    /// The page as it is on disk now, and its hash (the base hash for a
    /// save).
    pub fn current(&self, path: &str) -> Result<(String, String), SaveError> {
        read(&self.page(path)?)
    }

    /// Writes `text` to the page, if the page is still the version
    /// `base_hash` names, and records it as a revision by `by`. On a
    /// conflict the text is kept as a draft revision instead.
    pub fn save(
        &self,
        path: &str,
        text: &str,
        base_hash: &str,
        by: &Actor,
        message: &str,
        now: i64,
    ) -> Result<Saved, SaveError> {
        let page = self.page(path)?;
        let edit = Edit { text, base_hash, by, message, now };
        self.write(&page, &edit, RevisionKind::Save, Kind::PageSaved)
    }

    /// Keeps `text` as a draft revision without touching the file: for
    /// text with content errors that would stop the site publishing it.
    pub fn save_draft(
        &self,
        path: &str,
        text: &str,
        base_hash: &str,
        by: &Actor,
        message: &str,
        now: i64,
    ) -> Result<i64, SaveError> {
        check_size(text, message)?;
        let page = self.page(path)?;
        let hash = content_hash(text);
        let edit = Edit { text, base_hash, by, message, now };
        self.insert(&NewRevision::draft(&page, &hash, &edit))
    }

    /// Writes an earlier revision's text to the page as a new revision (of
    /// kind `restore`), under the same rule as a save: the page must still
    /// be the version `base_hash` names. The history is not rewritten.
    pub fn restore(
        &self,
        path: &str,
        revision_id: i64,
        base_hash: &str,
        by: &Actor,
        now: i64,
    ) -> Result<Saved, SaveError> {
        let page = self.page(path)?;
        let old = self
            .revision(revision_id)?
            .filter(|r| r.summary.path == page.relative)
            .ok_or_else(|| SaveError::NoSuchRevision { path: page.relative.clone(), id: revision_id })?;
        // A change waiting for review goes live only through a sign-off.
        if old.summary.kind == RevisionKind::Pending {
            return Err(SaveError::WaitingForReview { id: revision_id });
        }
        let message = format!("restored revision {revision_id}");
        let edit = Edit { text: &old.text, base_hash, by, message: &message, now };
        self.write(&page, &edit, RevisionKind::Restore, Kind::PageRestored)
    }

    pub(super) fn write(
        &self,
        page: &PagePath,
        edit: &Edit<'_>,
        kind: RevisionKind,
        activity: Kind,
    ) -> Result<Saved, SaveError> {
        let Edit { text, base_hash, by, message, now } = *edit;
        check_size(text, message)?;
        let lock = self.lock(page);
        let _held = lock.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let (current_text, current_hash) = read(page)?;
        let hash = content_hash(text);
        if current_hash != base_hash {
            self.insert(&NewRevision::draft(page, &hash, edit))?;
            return Err(SaveError::Conflict { current_text, current_hash });
        }
        if hash == current_hash {
            return Ok(Saved { revision: None, hash });
        }
        write_atomic(&page.full, text.as_bytes())
            .map_err(|source| SaveError::Io { path: page.relative.clone(), source })?;
        let revision = NewRevision {
            page,
            kind,
            text,
            hash: &hash,
            base_hash: Some(base_hash),
            by,
            message,
            activity: Some(activity),
            now,
        };
        let id = self.insert(&revision)?;
        Ok(Saved { revision: Some(id), hash })
    }

    /// Adds a revision and its activity line in one transaction, so neither
    /// is ever there without the other.
    pub(super) fn insert(&self, new: &NewRevision<'_>) -> Result<i64, SaveError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute(
            "INSERT INTO page_revisions (path, account_id, author, at, message, kind, text, hash, base_hash)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                new.page.relative,
                new.by.account_id,
                new.by.label,
                new.now,
                new.message.trim(),
                new.kind.as_str(),
                new.text,
                new.hash,
                new.base_hash
            ],
        )?;
        let id = tx.last_insert_rowid();
        let detail = match new.message.trim() {
            "" => format!("revision {id}"),
            message => format!("revision {id}: {message}"),
        };
        if let Some(activity) = new.activity {
            record(&tx, new.by, activity, &page_subject(&new.page.relative), &detail, new.now)?;
        }
        tx.commit()?;
        Ok(id)
    }

    /// Records the page as changed outside the workspace if the file is not
    /// the newest version the history has of it (drafts and pending
    /// revisions aside, since they were never written), with a line in the activity record unless the
    /// history had no version of it yet. The new revision's id, if one was
    /// added; a page that is gone is not recorded.
    pub fn record_outside_edit(&self, path: &str, now: i64) -> Result<Option<i64>, SaveError> {
        let page = self.page(path)?;
        let lock = self.lock(&page);
        let _held = lock.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let (text, hash) = match read(&page) {
            Ok(current) => current,
            Err(SaveError::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(e),
        };
        let newest: Option<String> = self
            .conn()
            .query_row(
                "SELECT hash FROM page_revisions WHERE path = ?1 AND kind NOT IN ('draft', 'pending') ORDER BY id DESC LIMIT 1",
                params![page.relative],
                |row| row.get(0),
            )
            .optional()?;
        if newest.as_deref() == Some(hash.as_str()) {
            return Ok(None);
        }
        let outside = NewRevision {
            page: &page,
            kind: RevisionKind::Outside,
            text: &text,
            hash: &hash,
            base_hash: newest.as_deref(),
            by: &Actor::outside_workspace(),
            message: "",
            // A page the history has never seen is where its history
            // starts (the first start-up, a page added by hand), not a
            // change anyone made now: the activity record would otherwise
            // say every page was edited on the day the workspace arrived.
            activity: newest.is_some().then_some(Kind::PageEditedOutside),
            now,
        };
        self.insert(&outside).map(Some)
    }

    /// Looks at every page in the content folder, as [`record_outside_edit`]
    /// does one: at start-up, so edits made while the server was off leave
    /// no hole in the history. How many were recorded; a page that cannot
    /// be read is logged and skipped, so one bad file does not hide the rest.
    ///
    /// [`record_outside_edit`]: Workspace::record_outside_edit
    pub fn record_outside_edits(&self, now: i64) -> Result<usize, SaveError> {
        let mut recorded = 0;
        for path in self.pages() {
            match self.record_outside_edit(&path, now) {
                Ok(found) => recorded += usize::from(found.is_some()),
                Err(SaveError::Database(e)) => return Err(SaveError::Database(e)),
                Err(e) => tracing::warn!("cannot record the history of {path}: {e}"),
            }
        }
        Ok(recorded)
    }

    /// Every page file under the content folder, relative, sorted, as
    /// [`Workspace::current`] can open them: links are left out (a save
    /// would replace the link, not the file; a linked folder could lead in
    /// a circle), and so are editors' temporary files.
    pub fn pages(&self) -> Vec<String> {
        let mut pages = Vec::new();
        let mut stack = vec![self.content.clone()];
        while let Some(dir) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else { continue };
            for entry in entries.flatten() {
                let path = entry.path();
                let Ok(kind) = entry.file_type() else { continue };
                if is_temporary(&path) || kind.is_symlink() {
                    continue;
                }
                if kind.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == "md")
                    && let Ok(relative) = path.strip_prefix(&self.content)
                {
                    let parts: Vec<_> = relative.components().map(|c| c.as_os_str().to_string_lossy()).collect();
                    pages.push(parts.join("/"));
                }
            }
        }
        pages.sort();
        pages
    }

    /// A page's revisions, newest first. A page deleted since still has
    /// its history.
    pub fn history(&self, path: &str) -> Result<Vec<RevisionSummary>, SaveError> {
        let relative = normalize(path)?;
        let conn = self.conn();
        let mut statement =
            conn.prepare(&format!("SELECT {SUMMARY_COLUMNS} FROM page_revisions WHERE path = ?1 ORDER BY id DESC"))?;
        let rows = statement.query_map(params![relative], summary_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The text of the version of a page whose hash is `hash`: the file's,
    /// if it is still that version, or the newest revision with that hash.
    /// What an edit started from, to apply a form's fields to.
    pub fn text_with_hash(&self, path: &str, hash: &str) -> Result<Option<String>, SaveError> {
        let page = self.page(path)?;
        if let Ok((text, current)) = read(&page)
            && current == hash
        {
            return Ok(Some(text));
        }
        let text = self
            .conn()
            .query_row(
                "SELECT text FROM page_revisions WHERE path = ?1 AND hash = ?2 ORDER BY id DESC LIMIT 1",
                params![page.relative, hash],
                |row| row.get(0),
            )
            .optional()?;
        Ok(text)
    }

    /// One revision with its text.
    pub fn revision(&self, id: i64) -> Result<Option<Revision>, SaveError> {
        let conn = self.conn();
        let revision = conn
            .query_row(
                &format!("SELECT {SUMMARY_COLUMNS}, text FROM page_revisions WHERE id = ?1"),
                params![id],
                |row| Ok(Revision { summary: summary_from_row(row)?, text: row.get(9)? }),
            )
            .optional()?;
        Ok(revision)
    }
}

pub(super) fn check_size(text: &str, message: &str) -> Result<(), SaveError> {
    if text.len() > MAX_TEXT_BYTES {
        return Err(SaveError::TooLarge { bytes: text.len() });
    }
    let chars = message.trim().chars().count();
    if chars > MAX_MESSAGE_CHARS {
        return Err(SaveError::MessageTooLong { chars });
    }
    Ok(())
}

/// The file's text and hash.
pub(super) fn read(page: &PagePath) -> Result<(String, String), SaveError> {
    let bytes = std::fs::read(&page.full).map_err(|source| match source.kind() {
        std::io::ErrorKind::NotFound => SaveError::NotFound { path: page.relative.clone() },
        _ => SaveError::Io { path: page.relative.clone(), source },
    })?;
    let text = String::from_utf8(bytes).map_err(|_| SaveError::NotText { path: page.relative.clone() })?;
    let hash = content_hash(&text);
    Ok((text, hash))
}

/// The path as stored, `/`-separated, if it can name a page at all: a
/// relative path of visible `.md` files and folders, without `..`.
fn normalize(path: &str) -> Result<String, SaveError> {
    let bad = |why| SaveError::BadPath { path: path.to_string(), why };
    if path.contains('\\') || path.contains('\0') {
        return Err(bad("use / between folder and file names"));
    }
    let as_path = Path::new(path);
    if as_path.has_root() || as_path.is_absolute() {
        return Err(bad("give the path inside the content folder, like dry-needling/safety.md"));
    }
    let mut parts = Vec::new();
    for component in as_path.components() {
        match component {
            Component::Normal(part) => {
                let part = part.to_str().ok_or_else(|| bad("the name is not plain text"))?;
                if is_temporary(Path::new(part)) {
                    return Err(bad("names starting with a dot or ending in ~, .swp or .tmp are not pages"));
                }
                parts.push(part);
            }
            Component::CurDir => {}
            Component::ParentDir => return Err(bad("\"..\" would lead out of the content folder")),
            Component::RootDir | Component::Prefix(_) => {
                return Err(bad("give the path inside the content folder, like dry-needling/safety.md"));
            }
        }
    }
    match parts.last() {
        Some(name) if name.ends_with(".md") && name.len() > 3 => Ok(parts.join("/")),
        _ => Err(bad("pages are .md files")),
    }
}

#[cfg(test)]
mod tests;
