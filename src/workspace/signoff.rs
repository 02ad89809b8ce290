//! Clinical sign-off: a reviewer approves the exact text of a page.
//!
//! Signing off writes the review into the page's front matter
//! (`reviewed_by`, `last_reviewed`, `next_review`, `reviewed_revision`) so
//! it travels with the file and the export, as a revision of kind
//! `sign-off`, with a row in `page_signoffs` (step 10 of
//! `comments/schema.sql`) and a line in the activity record, all in one
//! transaction after the file is written (as a save does; see
//! `revisions`).
//!
//! A sign-off names the version the reviewer read (the file's hash when
//! they opened it). If the file changed since, it is refused: they must
//! review what will be live. When `site.toml` requires review, an edit of
//! a signed-off page waits as a `pending` revision and signing it off is
//! what puts it on the page.

use rusqlite::{OptionalExtension, TransactionBehavior, params};

use super::document::{Document, DocumentError};
use super::revisions::{
    Edit, NewRevision, RevisionKind, SaveError, Workspace, check_size, content_hash, read, summary_from_row,
};
use crate::auth::Account;
use crate::auth::activity::{Actor, Kind, page_subject, record};
use crate::content::{Date, Page, Review, ReviewState};
use crate::util::fs::write_atomic;

/// How long a review lasts: the front matter's own rule (a year after
/// `last_reviewed`, see `FrontMatter::review`) written out.
const REVIEW_YEARS: i32 = 1;

/// A review is listed as due this many days before its date.
pub const DUE_WITHIN_DAYS: u64 = 30;

/// Why a sign-off was refused. The texts are for the reviewer.
#[derive(Debug, thiserror::Error)]
pub enum SignOffError {
    #[error(
        "the page was changed since you opened it, so it was not signed off: you must review the text that will be live. Open it again, read it, and sign off"
    )]
    Changed { current_hash: String },
    #[error("the change waiting for review ({id}) is not one of this page's; open the page from Reviews again")]
    NoSuchPending { id: i64 },
    #[error(
        "your account has no credentials, and readers are told who reviewed a page with their credentials (\"Jane Smith, DPT\"); ask an owner to add them on Staff"
    )]
    NoCredentials,
    #[error("the settings at the top of the page cannot be read ({0}); fix them in the page editor first")]
    Document(#[from] DocumentError),
    #[error(transparent)]
    Save(#[from] SaveError),
}

impl From<rusqlite::Error> for SignOffError {
    fn from(e: rusqlite::Error) -> Self {
        SignOffError::Save(SaveError::Database(e))
    }
}

/// What the reviewer asks to sign.
pub struct SignOffRequest<'a> {
    pub path: &'a str,
    /// The file's hash when the reviewer opened the page.
    pub base_hash: &'a str,
    /// A pending revision to sign and publish, instead of the file's text.
    pub pending: Option<i64>,
    pub note: &'a str,
    pub reviewer: &'a Account,
    pub today: Date,
    pub now: i64,
}

/// What a sign-off did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedOff {
    pub revision: i64,
    /// The file's hash now.
    pub hash: String,
    pub reviewed_hash: String,
}

/// One sign-off as `page_signoffs` keeps it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SignOffRecord {
    pub id: i64,
    pub path: String,
    pub revision_id: i64,
    pub reviewed_hash: String,
    pub account_id: i64,
    pub name: String,
    pub credentials: String,
    /// "2026-12-02".
    pub signed_on: String,
    pub at: i64,
    pub note: String,
}

/// Why a page is in the review queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Reason {
    /// No review at all.
    Never,
    /// Its text is not the text that was signed off (or the review was
    /// typed by hand, so nobody can tell).
    Changed,
    /// The review is due within [`DUE_WITHIN_DAYS`] days, or overdue.
    Due,
    /// A change is waiting for review before it goes live.
    Pending,
}

/// A page that needs a reviewer.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct QueueItem {
    /// Relative to the content folder: `dry-needling/safety.md`.
    pub file: String,
    pub title: String,
    pub reason: Reason,
    /// "Jane Smith, DPT", for the last review named, if any.
    pub last_reviewed_by: Option<String>,
    /// ISO dates.
    pub last_reviewed: Option<String>,
    pub next_review: Option<String>,
    /// The revision of the last sign-off, when there is one to compare with.
    pub signed_revision: Option<i64>,
    /// The pending revision waiting, for [`Reason::Pending`].
    pub pending_revision: Option<i64>,
}

/// Every page that needs a reviewer, by why.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ReviewQueue {
    pub never_reviewed: Vec<QueueItem>,
    pub changed_since_review: Vec<QueueItem>,
    pub due: Vec<QueueItem>,
    pub pending: Vec<QueueItem>,
}

impl ReviewQueue {
    pub fn is_empty(&self) -> bool {
        self.never_reviewed.is_empty()
            && self.changed_since_review.is_empty()
            && self.due.is_empty()
            && self.pending.is_empty()
    }
}

fn signoff_from_row(row: &rusqlite::Row<'_>) -> Result<SignOffRecord, rusqlite::Error> {
    Ok(SignOffRecord {
        id: row.get(0)?,
        path: row.get(1)?,
        revision_id: row.get(2)?,
        reviewed_hash: row.get(3)?,
        account_id: row.get(4)?,
        name: row.get(5)?,
        credentials: row.get(6)?,
        signed_on: row.get(7)?,
        at: row.get(8)?,
        note: row.get(9)?,
    })
}

const SIGNOFF_COLUMNS: &str =
    "id, path, revision_id, reviewed_hash, account_id, name, credentials, signed_on, at, note";

impl Workspace {
    /// Signs off the page's text as the reviewer read it (or a pending
    /// revision of it): writes the review into its front matter and records
    /// the sign-off. Refused if the file is no longer the version the
    /// reviewer opened.
    pub fn sign_off(&self, request: &SignOffRequest<'_>) -> Result<SignedOff, SignOffError> {
        let reviewer = request.reviewer;
        if reviewer.credentials.trim().is_empty() {
            return Err(SignOffError::NoCredentials);
        }
        check_size("", request.note)?;
        let page = self.page(request.path)?;
        let lock = self.lock(&page);
        let _held = lock.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let (current_text, current_hash) = read(&page)?;
        if current_hash != request.base_hash {
            return Err(SignOffError::Changed { current_hash });
        }
        let reviewed_text = match request.pending {
            None => current_text,
            Some(id) => {
                let pending = self
                    .revision(id)?
                    .filter(|r| r.summary.path == page.relative && r.summary.kind == RevisionKind::Pending)
                    .ok_or(SignOffError::NoSuchPending { id })?;
                // Only the newest waiting change, made from the page as it
                // is now: publishing an older one, or one made before a
                // later rename or reorder, would undo what came after it.
                let newest = self.pending(request.path)?.map(|r| r.id);
                if newest != Some(id) || pending.summary.base_hash.as_deref() != Some(current_hash.as_str()) {
                    return Err(SignOffError::Changed { current_hash });
                }
                pending.text
            }
        };
        let mut document = Document::parse(&reviewed_text)?;
        let reviewed_hash = document.reviewed_hash();
        let next = request.today.add_years(REVIEW_YEARS);
        document.set_review(&reviewer.signature(), request.today, next, &reviewed_hash);
        let text = document.to_text();
        let hash = content_hash(&text);
        write_atomic(&page.full, text.as_bytes())
            .map_err(|source| SaveError::Io { path: page.relative.clone(), source })?;

        let by = Actor::person(reviewer);
        let note = request.note.trim();
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute(
            "INSERT INTO page_revisions (path, account_id, author, at, message, kind, text, hash, base_hash)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                page.relative,
                by.account_id,
                by.label,
                request.now,
                note,
                RevisionKind::SignOff.as_str(),
                text,
                hash,
                current_hash
            ],
        )?;
        let revision = tx.last_insert_rowid();
        tx.execute(
            "INSERT INTO page_signoffs (path, revision_id, reviewed_hash, account_id, name, credentials, signed_on, at, note)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                page.relative,
                revision,
                reviewed_hash,
                reviewer.id,
                reviewer.name,
                reviewer.credentials,
                request.today.iso(),
                request.now,
                note
            ],
        )?;
        let mut detail = format!(
            "revision {revision} signed off as {} on {}, reviewed text {}",
            reviewer.signature(),
            request.today.iso(),
            &reviewed_hash[..12]
        );
        if let Some(id) = request.pending {
            detail.push_str(&format!(", published pending revision {id}"));
        }
        if !note.is_empty() {
            detail.push_str(&format!(": {note}"));
        }
        record(&tx, &by, Kind::PageSignedOff, &page_subject(&page.relative), &detail, request.now)?;
        tx.commit()?;
        Ok(SignedOff { revision, hash, reviewed_hash })
    }

    /// Keeps `text` as a change waiting for review, without touching the
    /// file (the live page keeps its signed text). Refused as a conflict,
    /// like a save, if the file is no longer the version `base_hash` names.
    pub fn save_pending(
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
        let lock = self.lock(&page);
        let _held = lock.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let (current_text, current_hash) = read(&page)?;
        let hash = content_hash(text);
        let edit = Edit { text, base_hash, by, message, now };
        if current_hash != base_hash {
            self.insert(&NewRevision::draft(&page, &hash, &edit))?;
            return Err(SaveError::Conflict { current_text, current_hash });
        }
        self.insert(&NewRevision {
            page: &page,
            kind: RevisionKind::Pending,
            text,
            hash: &hash,
            base_hash: Some(base_hash),
            by,
            message,
            activity: Some(Kind::PageSavedForReview),
            now,
        })
    }

    /// The page's sign-offs, newest first.
    pub fn signoffs(&self, path: &str) -> Result<Vec<SignOffRecord>, SaveError> {
        let page = self.page(path)?;
        let conn = self.conn();
        let mut statement =
            conn.prepare(&format!("SELECT {SIGNOFF_COLUMNS} FROM page_signoffs WHERE path = ?1 ORDER BY id DESC"))?;
        let rows = statement.query_map(params![page.relative], signoff_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The newest pending revision of the page that no sign-off or later
    /// save has overtaken: the change waiting for a reviewer, if any.
    pub fn pending(&self, path: &str) -> Result<Option<super::RevisionSummary>, SaveError> {
        let page = self.page(path)?;
        let conn = self.conn();
        let newest = conn
            .query_row(
                &format!(
                    "SELECT {} FROM page_revisions WHERE path = ?1 AND kind != 'draft' ORDER BY id DESC LIMIT 1",
                    super::revisions::SUMMARY_COLUMNS
                ),
                params![page.relative],
                summary_from_row,
            )
            .optional()?;
        Ok(newest.filter(|r| r.kind == RevisionKind::Pending))
    }

    /// With review required, whether putting back revision `revision_id`
    /// of a signed-off page must wait for a reviewer: it must unless the
    /// words being put back are themselves the words a sign-off covered
    /// (undoing a mistake by going back to the reviewed text needs no new
    /// review, and the page then says so).
    pub fn restore_needs_review(&self, path: &str, revision_id: i64) -> Result<bool, SaveError> {
        if !self.is_signed_off(path)? {
            return Ok(false);
        }
        let page = self.page(path)?;
        // Another page's revision, or a change already waiting: `restore`
        // refuses both, with the reason.
        let Some(old) = self
            .revision(revision_id)?
            .filter(|r| r.summary.path == page.relative && r.summary.kind != RevisionKind::Pending)
        else {
            return Ok(false);
        };
        let signed =
            Page::parse(&page.full, old.text).is_ok_and(|p| matches!(p.review_state(), ReviewState::Current(_)));
        Ok(!signed)
    }

    /// Whether the page has ever been signed off in the workspace: then,
    /// when review is required, its edits wait for a reviewer.
    pub fn is_signed_off(&self, path: &str) -> Result<bool, SaveError> {
        Ok(!self.signoffs(path)?.is_empty())
    }

    /// Every live page (drafts are not read by patients, so they wait until
    /// they are published) that needs a reviewer, by why. A page that cannot
    /// be read is left out: `check` reports it.
    pub fn review_queue(&self, today: Date) -> Result<ReviewQueue, SaveError> {
        let mut queue = ReviewQueue::default();
        for file in self.pages() {
            let Ok(page) = self.page(&file) else { continue };
            let Ok((text, _)) = read(&page) else { continue };
            let Ok(parsed) = Page::parse(&page.full, text) else { continue };
            if parsed.front.draft {
                continue;
            }
            let state = parsed.review_state();
            let last = state.last().cloned();
            let signed_revision = self.signoffs(&file)?.first().map(|s| s.revision_id);
            let item = |reason, pending_revision| QueueItem {
                file: file.clone(),
                title: parsed.front.title.clone(),
                reason,
                last_reviewed_by: last.as_ref().map(|r: &Review| r.by.clone()),
                last_reviewed: last.as_ref().map(|r| r.on.iso()),
                next_review: last.as_ref().map(|r| r.next.iso()),
                signed_revision,
                pending_revision,
            };
            if let Some(pending) = self.pending(&file)? {
                queue.pending.push(item(Reason::Pending, Some(pending.id)));
            }
            match &state {
                ReviewState::Never => queue.never_reviewed.push(item(Reason::Never, None)),
                ReviewState::Changed(_) | ReviewState::Unsigned(_) => {
                    queue.changed_since_review.push(item(Reason::Changed, None));
                }
                ReviewState::Current(review)
                    if review.next.days_since_epoch() <= today.days_since_epoch() + DUE_WITHIN_DAYS =>
                {
                    queue.due.push(item(Reason::Due, None));
                }
                ReviewState::Current(_) => {}
            }
        }
        Ok(queue)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_764_000_000;
    const PAGE: &str =
        "+++\ntitle = \"Safety\"\n# kept as typed\ndescription = \"How safe it is.\"\nweight = 2\n+++\n\nIt is safe.\n";

    fn setup() -> (tempfile::TempDir, Workspace, Account) {
        let (dir, _staff, mut jane) = crate::auth::test_store(NOW);
        jane.credentials = "DPT".into();
        let content = dir.path().join("content");
        std::fs::create_dir_all(content.join("a")).unwrap();
        std::fs::write(content.join("a/p.md"), PAGE).unwrap();
        let workspace = Workspace::open(&dir.path().join("comments.db"), &content).unwrap();
        (dir, workspace, jane)
    }

    fn request<'a>(base: &'a str, pending: Option<i64>, jane: &'a Account) -> SignOffRequest<'a> {
        let today = Date::new(2026, 12, 2).unwrap();
        SignOffRequest { path: "a/p.md", base_hash: base, pending, note: "ok", reviewer: jane, today, now: NOW }
    }

    #[test]
    fn a_sign_off_writes_the_review_keeps_every_other_byte_and_is_kept_for_good() {
        let (dir, workspace, jane) = setup();
        let (_, base) = workspace.current("a/p.md").unwrap();
        let signed = workspace.sign_off(&request(&base, None, &jane)).unwrap();
        let (text, hash) = workspace.current("a/p.md").unwrap();
        assert_eq!(hash, signed.hash);
        let signature = jane.signature();
        let expected = format!(
            "+++\ntitle = \"Safety\"\n# kept as typed\ndescription = \"How safe it is.\"\nweight = 2\nlast_reviewed = 2026-12-02\nnext_review = 2027-12-02\nreviewed_by = \"{signature}\"\nreviewed_revision = \"{}\"\n+++\n\nIt is safe.\n",
            signed.reviewed_hash
        );
        assert_eq!(text, expected);
        let page = Page::parse(std::path::Path::new("a/p.md"), text).unwrap();
        assert!(matches!(page.review_state(), ReviewState::Current(_)));
        // Signing again with the old base: the page changed since.
        assert!(matches!(workspace.sign_off(&request(&base, None, &jane)), Err(SignOffError::Changed { .. })));
        let conn = rusqlite::Connection::open(dir.path().join("comments.db")).unwrap();
        assert!(conn.execute("DELETE FROM page_signoffs", []).is_err(), "sign-offs cannot be deleted");
        assert!(conn.execute("UPDATE page_signoffs SET name = 'x'", []).is_err(), "nor changed");
    }

    #[test]
    fn a_pending_change_waits_until_it_is_signed_off_and_a_reviewer_needs_credentials() {
        let (_dir, workspace, mut jane) = setup();
        let by = Actor::person(&jane);
        // The history starts with the file as found (at start-up).
        assert!(workspace.record_outside_edit("a/p.md", NOW).unwrap().is_some());
        let (text, base) = workspace.current("a/p.md").unwrap();
        let changed = text.replace("It is safe.", "It is safe for most people.");
        let id = workspace.save_pending("a/p.md", &changed, &base, &by, "", NOW).unwrap();
        assert_eq!(workspace.current("a/p.md").unwrap().0, text, "the file is untouched");
        assert_eq!(workspace.pending("a/p.md").unwrap().map(|r| r.id), Some(id));
        assert_eq!(workspace.record_outside_edit("a/p.md", NOW).unwrap(), None, "a pending change is not on disk");
        workspace.sign_off(&request(&base, Some(id), &jane)).unwrap();
        assert!(workspace.current("a/p.md").unwrap().0.contains("It is safe for most people."));
        assert_eq!(workspace.pending("a/p.md").unwrap(), None, "signed off, no longer waiting");
        jane.credentials.clear();
        let (_, base) = workspace.current("a/p.md").unwrap();
        assert!(matches!(workspace.sign_off(&request(&base, None, &jane)), Err(SignOffError::NoCredentials)));
    }
}
