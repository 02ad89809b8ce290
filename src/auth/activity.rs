//! The activity record: who did what and when, for every staff action.
//! Rows are only ever added; the table's triggers refuse changes and
//! deletions, so nothing (the web interface included) can rewrite it.

use rusqlite::{Connection, params};

use super::{Account, AuthError, StaffStore};

/// Who did something: a person, or the server itself (an upgrade, a
/// command run on the server).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub account_id: Option<i64>,
    /// As shown in the record: "Jane Smith (jane)".
    pub label: String,
}

impl Actor {
    pub fn person(account: &Account) -> Actor {
        Actor { account_id: Some(account.id), label: account.label() }
    }

    /// Someone at the server's command line, who signs in as no one.
    pub fn command_line() -> Actor {
        Actor { account_id: None, label: "the command line on the server".into() }
    }

    /// Whoever changed a page file other than through the editing
    /// workspace (a text editor on the server, a copy, a restore from a
    /// backup): the file says what changed, not who.
    pub fn outside_workspace() -> Actor {
        Actor { account_id: None, label: "outside the workspace".into() }
    }

    /// A sign-in with a username that belongs to no one.
    pub fn unknown() -> Actor {
        Actor { account_id: None, label: "an unknown username".into() }
    }
}

/// What was done. The names are stored, so never rename one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    SignIn,
    SignInFailed,
    SignOut,
    SignOutEverywhere,
    PasswordChanged,
    PasswordSet,
    PasswordReset,
    AccountAdded,
    AccountUpgraded,
    RolesChanged,
    AccountDisabled,
    AccountEnabled,
    TwoStepOn,
    TwoStepOff,
    RecoveryCodeUsed,
    CommentApproved,
    CommentRejected,
    CommentHidden,
    CommentDeleted,
    CommentReplied,
    PageSaved,
    PageDraftSaved,
    PageRestored,
    PageEditedOutside,
    PageCreated,
    PageRenamed,
    PagesReordered,
    PageTrashed,
    PageRestoredFromTrash,
    ImageUploaded,
    ProblemReportDone,
    ProblemReportReopened,
    PageSignedOff,
    PageSavedForReview,
}

impl Kind {
    pub const ALL: [Kind; 34] = [
        Kind::SignIn,
        Kind::SignInFailed,
        Kind::SignOut,
        Kind::SignOutEverywhere,
        Kind::PasswordChanged,
        Kind::PasswordSet,
        Kind::PasswordReset,
        Kind::AccountAdded,
        Kind::AccountUpgraded,
        Kind::RolesChanged,
        Kind::AccountDisabled,
        Kind::AccountEnabled,
        Kind::TwoStepOn,
        Kind::TwoStepOff,
        Kind::RecoveryCodeUsed,
        Kind::CommentApproved,
        Kind::CommentRejected,
        Kind::CommentHidden,
        Kind::CommentDeleted,
        Kind::CommentReplied,
        Kind::PageSaved,
        Kind::PageDraftSaved,
        Kind::PageRestored,
        Kind::PageEditedOutside,
        Kind::PageCreated,
        Kind::PageRenamed,
        Kind::PagesReordered,
        Kind::PageTrashed,
        Kind::PageRestoredFromTrash,
        Kind::ImageUploaded,
        Kind::ProblemReportDone,
        Kind::ProblemReportReopened,
        Kind::PageSignedOff,
        Kind::PageSavedForReview,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::SignIn => "sign-in",
            Kind::SignInFailed => "failed-sign-in",
            Kind::SignOut => "sign-out",
            Kind::SignOutEverywhere => "sign-out-everywhere",
            Kind::PasswordChanged => "password-changed",
            Kind::PasswordSet => "password-set",
            Kind::PasswordReset => "password-reset",
            Kind::AccountAdded => "account-added",
            Kind::AccountUpgraded => "account-upgraded",
            Kind::RolesChanged => "roles-changed",
            Kind::AccountDisabled => "account-disabled",
            Kind::AccountEnabled => "account-enabled",
            Kind::TwoStepOn => "two-step-on",
            Kind::TwoStepOff => "two-step-off",
            Kind::RecoveryCodeUsed => "recovery-code-used",
            Kind::CommentApproved => "comment-approved",
            Kind::CommentRejected => "comment-rejected",
            Kind::CommentHidden => "comment-hidden",
            Kind::CommentDeleted => "comment-deleted",
            Kind::CommentReplied => "comment-replied",
            Kind::PageSaved => "page-saved",
            Kind::PageDraftSaved => "page-draft-saved",
            Kind::PageRestored => "page-restored",
            Kind::PageEditedOutside => "page-edited-outside",
            Kind::PageCreated => "page-created",
            Kind::PageRenamed => "page-renamed",
            Kind::PagesReordered => "pages-reordered",
            Kind::PageTrashed => "page-trashed",
            Kind::PageRestoredFromTrash => "page-restored-from-trash",
            Kind::ImageUploaded => "image-uploaded",
            Kind::ProblemReportDone => "problem-report-done",
            Kind::ProblemReportReopened => "problem-report-reopened",
            Kind::PageSignedOff => "page-signed-off",
            Kind::PageSavedForReview => "page-saved-for-review",
        }
    }

    pub fn parse(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|kind| kind.as_str() == name)
    }

    /// In the activity page's words.
    pub fn describe(self) -> &'static str {
        match self {
            Kind::SignIn => "Signed in",
            Kind::SignInFailed => "Failed to sign in",
            Kind::SignOut => "Signed out",
            Kind::SignOutEverywhere => "Signed out everywhere",
            Kind::PasswordChanged => "Changed their password",
            Kind::PasswordSet => "Set a password with a link",
            Kind::PasswordReset => "Made a set-password link",
            Kind::AccountAdded => "Added a person",
            Kind::AccountUpgraded => "Turned the shared password into an account",
            Kind::RolesChanged => "Changed roles",
            Kind::AccountDisabled => "Disabled a person",
            Kind::AccountEnabled => "Enabled a person again",
            Kind::TwoStepOn => "Turned on two-step sign-in",
            Kind::TwoStepOff => "Turned off two-step sign-in",
            Kind::RecoveryCodeUsed => "Signed in with a recovery code",
            Kind::CommentApproved => "Approved a comment",
            Kind::CommentRejected => "Rejected a comment",
            Kind::CommentHidden => "Hid a comment",
            Kind::CommentDeleted => "Deleted a comment",
            Kind::CommentReplied => "Replied to a comment",
            Kind::PageSaved => "Saved a page",
            Kind::PageDraftSaved => "Kept a draft of a page",
            Kind::PageRestored => "Restored an earlier version of a page",
            Kind::PageEditedOutside => "A page was changed outside the workspace",
            Kind::PageCreated => "Added a page",
            Kind::PageRenamed => "Changed a page's address",
            Kind::PagesReordered => "Changed the order of an article's pages",
            Kind::PageTrashed => "Moved a page to the trash",
            Kind::PageRestoredFromTrash => "Brought a page back from the trash",
            Kind::ImageUploaded => "Uploaded a picture",
            Kind::ProblemReportDone => "Marked a reader's problem report as done",
            Kind::ProblemReportReopened => "Reopened a reader's problem report",
            Kind::PageSignedOff => "Signed off a page clinically",
            Kind::PageSavedForReview => "Saved a change to a page for review",
        }
    }
}

/// One line of the record.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Entry {
    pub id: i64,
    /// Seconds since 1970 (UTC).
    pub at: i64,
    pub account_id: Option<i64>,
    pub actor: String,
    /// A [`Kind`] name; older records may hold kinds this version does not know.
    pub kind: String,
    /// What it was done to: "comment 12", "jane".
    pub subject: String,
    pub detail: String,
}

impl Entry {
    pub fn describe(&self) -> &str {
        match Kind::parse(&self.kind) {
            Some(kind) => kind.describe(),
            None => &self.kind,
        }
    }
}

/// What the activity page and `audit export` ask for.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub account_id: Option<i64>,
    pub kind: Option<Kind>,
    /// From this time on (inclusive).
    pub since: Option<i64>,
    /// Before this time.
    pub until: Option<i64>,
    /// Only entries about this subject ("comment 12").
    pub subject: Option<String>,
}

/// Adds an entry inside the caller's transaction, so the action and its
/// record are written together or not at all.
pub(crate) fn record(
    conn: &Connection,
    by: &Actor,
    kind: Kind,
    subject: &str,
    detail: &str,
    now: i64,
) -> Result<(), rusqlite::Error> {
    conn.execute(
        "INSERT INTO staff_activity (at, account_id, actor, kind, subject, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![now, by.account_id, by.label, kind.as_str(), subject, detail],
    )?;
    Ok(())
}

impl StaffStore {
    /// Adds one entry on its own.
    pub fn record(&self, by: &Actor, kind: Kind, subject: &str, detail: &str, now: i64) -> Result<(), AuthError> {
        record(&self.conn(), by, kind, subject, detail, now)?;
        Ok(())
    }

    /// Entries matching `filter`, newest first, at most `limit`.
    pub fn activity(&self, filter: &Filter, limit: usize) -> Result<Vec<Entry>, AuthError> {
        self.activity_ordered(filter, limit, "DESC")
    }

    /// Entries matching `filter`, oldest first (for exports).
    pub fn activity_oldest_first(&self, filter: &Filter) -> Result<Vec<Entry>, AuthError> {
        self.activity_ordered(filter, usize::MAX >> 1, "ASC")
    }

    fn activity_ordered(&self, filter: &Filter, limit: usize, order: &str) -> Result<Vec<Entry>, AuthError> {
        let conn = self.conn();
        let sql = format!(
            "SELECT id, at, account_id, actor, kind, subject, detail FROM staff_activity
             WHERE (?1 IS NULL OR account_id = ?1) AND (?2 IS NULL OR kind = ?2)
               AND (?3 IS NULL OR at >= ?3) AND (?4 IS NULL OR at < ?4) AND (?5 IS NULL OR subject = ?5)
             ORDER BY at {order}, id {order} LIMIT ?6"
        );
        let mut statement = conn.prepare(&sql)?;
        let rows = statement.query_map(
            params![
                filter.account_id,
                filter.kind.map(Kind::as_str),
                filter.since,
                filter.until,
                filter.subject,
                i64::try_from(limit).unwrap_or(i64::MAX)
            ],
            |row| {
                Ok(Entry {
                    id: row.get(0)?,
                    at: row.get(1)?,
                    account_id: row.get(2)?,
                    actor: row.get(3)?,
                    kind: row.get(4)?,
                    subject: row.get(5)?,
                    detail: row.get(6)?,
                })
            },
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The latest entry of `kind` about each of `subjects`, for "approved
    /// by Jane Smith on 2 December 2026" on the moderation page.
    pub fn latest_about(&self, kind: Kind, subjects: &[String]) -> Result<Vec<(String, Entry)>, AuthError> {
        let mut found = Vec::new();
        for subject in subjects {
            let filter = Filter { kind: Some(kind), subject: Some(subject.clone()), ..Filter::default() };
            if let Some(entry) = self.activity(&filter, 1)?.into_iter().next() {
                found.push((subject.clone(), entry));
            }
        }
        Ok(found)
    }
}

/// What a page is called in the record: its path under `content/`.
pub fn page_subject(path: &str) -> String {
    format!("page {path}")
}

/// What a comment is called in the record.
pub fn comment_subject(id: i64) -> String {
    format!("comment {id}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::comments::store::Store;

    #[test]
    fn kinds_round_trip() {
        for kind in Kind::ALL {
            assert_eq!(Kind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(Kind::parse("made-up"), None);
    }

    #[test]
    fn the_record_cannot_be_changed_or_deleted_even_by_sql() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("comments.db");
        Store::open(&path).unwrap();
        let staff = StaffStore::open(&path).unwrap();
        staff.record(&Actor::command_line(), Kind::SignIn, "", "", 1).unwrap();
        let conn = staff.conn();
        let update = conn.execute("UPDATE staff_activity SET actor = 'someone else'", []);
        assert!(update.unwrap_err().to_string().contains("cannot be changed"));
        let delete = conn.execute("DELETE FROM staff_activity", []);
        assert!(delete.unwrap_err().to_string().contains("cannot be deleted"));
        drop(conn);
        assert_eq!(staff.activity(&Filter::default(), 10).unwrap()[0].actor, "the command line on the server");
    }
}
