//! Feedback and problem reports in SQLite (step 11 of
//! `comments/schema.sql`). Calls block: async callers run them off the
//! async threads. Times are passed in, so tests can move the clock.

use std::path::Path;
use std::sync::Mutex;

use rusqlite::{Connection, OptionalExtension, params};

use super::{NewAnswer, NewReport, ProblemKind};
use crate::auth::activity::record;
use crate::auth::{Actor, Kind};
use crate::comments::token::Nonce;
use crate::comments::{PersonalDetail, flags_from_codes, flags_to_codes};
use crate::util::date::Date;

/// What storing a form's answer did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sent {
    Stored,
    /// Nothing stored: this form had already sent its answer (a double
    /// click, a reload, or a replay).
    AlreadyUsed,
}

/// One page's figures for the quality report: its answers and its problem
/// reports still open.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageCounts {
    pub page: String,
    pub helpful: usize,
    pub not_helpful: usize,
    pub open_reports: usize,
}

/// One page's answers, for staff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageFeedback {
    pub page: String,
    pub helpful: usize,
    pub not_helpful: usize,
    /// Answers with text, newest first.
    pub texts: Vec<FeedbackNote>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedbackNote {
    pub helpful: bool,
    pub text: String,
    /// YYYY-MM-DD.
    pub day: String,
    pub flags: Vec<PersonalDetail>,
}

/// A stored problem report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub id: i64,
    pub page: String,
    /// `None` for a kind this version does not know.
    pub kind: Option<ProblemKind>,
    pub details: String,
    pub flags: Vec<PersonalDetail>,
    pub day: String,
    /// Who marked it done and when (seconds since 1970); `None` while open.
    pub closed: Option<(String, i64)>,
}

#[derive(Debug, thiserror::Error)]
pub enum FeedbackError {
    #[error("there is no problem report {0}")]
    NoSuchReport(i64),
    #[error("the feedback tables failed: {0}")]
    Database(#[from] rusqlite::Error),
}

pub struct FeedbackStore {
    conn: Mutex<Connection>,
}

impl FeedbackStore {
    /// Opens the data folder's database, whose schema the comments store
    /// has already brought up to date (`Store::open` runs first).
    pub fn open(path: &Path) -> Result<FeedbackStore, FeedbackError> {
        let conn = Connection::open(path)?;
        conn.execute_batch("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;")?;
        // Fail at start-up, not at the first answer, if a table is missing.
        conn.query_row(
            "SELECT count(*) FROM page_feedback, problem_reports, used_feedback_forms LIMIT 1",
            [],
            |row| row.get::<_, i64>(0),
        )?;
        Ok(FeedbackStore { conn: Mutex::new(conn) })
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        // Each change is one transaction, so a panic cannot leave one half-done.
        self.conn.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Stores an answer sent with the form `form`, unless that form has
    /// already sent one. Marking the form used happens in the same
    /// transaction, so of any number of posts with one form, at once or
    /// not, exactly one is stored.
    pub fn add_answer(&self, answer: &NewAnswer, form: Nonce<'_>, now: i64) -> Result<Sent, FeedbackError> {
        self.once(form, now, |tx, day| {
            tx.execute(
                "INSERT INTO page_feedback (page, helpful, text, flag_reasons, day) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    answer.page,
                    answer.helpful,
                    answer.text.as_ref().map(|t| t.as_str()),
                    flags_to_codes(&answer.flags),
                    day
                ],
            )
        })
    }

    /// Stores a problem report, once per form as [`FeedbackStore::add_answer`].
    pub fn add_report(&self, report: &NewReport, form: Nonce<'_>, now: i64) -> Result<Sent, FeedbackError> {
        self.once(form, now, |tx, day| {
            tx.execute(
                "INSERT INTO problem_reports (page, kind, details, flag_reasons, day) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![report.page, report.kind.code(), report.details.as_str(), flags_to_codes(&report.flags), day],
            )
        })
    }

    fn once(
        &self,
        form: Nonce<'_>,
        now: i64,
        insert: impl FnOnce(&Connection, &str) -> Result<usize, rusqlite::Error>,
    ) -> Result<Sent, FeedbackError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        // Forms past their expiry are refused before they get here.
        tx.execute("DELETE FROM used_feedback_forms WHERE expires_at < ?1", params![now])?;
        let used = tx.execute(
            "INSERT OR IGNORE INTO used_feedback_forms (nonce, expires_at) VALUES (?1, ?2)",
            params![form.nonce, form.expires_at],
        )?;
        if used == 0 {
            return Ok(Sent::AlreadyUsed);
        }
        insert(&tx, &Date::from_unix(now).iso())?;
        tx.commit()?;
        Ok(Sent::Stored)
    }

    /// Every page's answers, pages with the most "no" answers first.
    pub fn by_page(&self) -> Result<Vec<PageFeedback>, FeedbackError> {
        let conn = self.conn();
        let mut pages: Vec<PageFeedback> = conn
            .prepare(
                "SELECT page, sum(helpful), sum(1 - helpful) FROM page_feedback GROUP BY page
                 ORDER BY sum(1 - helpful) DESC, page",
            )?
            .query_map([], |row| {
                Ok(PageFeedback {
                    page: row.get(0)?,
                    helpful: row.get::<_, i64>(1)? as usize,
                    not_helpful: row.get::<_, i64>(2)? as usize,
                    texts: Vec::new(),
                })
            })?
            .collect::<Result<_, _>>()?;
        let mut texts = conn.prepare(
            "SELECT helpful, text, day, flag_reasons FROM page_feedback
             WHERE page = ?1 AND text IS NOT NULL ORDER BY id DESC LIMIT 200",
        )?;
        for page in &mut pages {
            page.texts = texts
                .query_map(params![page.page], |row| {
                    Ok(FeedbackNote {
                        helpful: row.get(0)?,
                        text: row.get(1)?,
                        day: row.get(2)?,
                        flags: flags_from_codes(&row.get::<_, String>(3)?),
                    })
                })?
                .collect::<Result<_, _>>()?;
        }
        Ok(pages)
    }

    /// Problem reports, open ones first, newest first within each.
    pub fn reports(&self) -> Result<Vec<Report>, FeedbackError> {
        let conn = self.conn();
        let reports = conn
            .prepare(
                "SELECT id, page, kind, details, flag_reasons, day, closed_by, closed_at FROM problem_reports
                 ORDER BY status = 'done', id DESC LIMIT 500",
            )?
            .query_map([], report_row)?
            .collect::<Result<_, _>>()?;
        Ok(reports)
    }

    /// Every page with an answer or an open report, by page address.
    pub fn page_counts(&self) -> Result<Vec<PageCounts>, FeedbackError> {
        let conn = self.conn();
        let mut statement = conn.prepare(
            "SELECT page, sum(helpful), sum(not_helpful), sum(open) FROM (
                 SELECT page, helpful, 1 - helpful AS not_helpful, 0 AS open FROM page_feedback
                 UNION ALL
                 SELECT page, 0, 0, 1 FROM problem_reports WHERE status = 'open'
             ) GROUP BY page ORDER BY page",
        )?;
        let counts = statement
            .query_map([], |row| {
                Ok(PageCounts {
                    page: row.get(0)?,
                    helpful: row.get::<_, i64>(1)? as usize,
                    not_helpful: row.get::<_, i64>(2)? as usize,
                    open_reports: row.get::<_, i64>(3)? as usize,
                })
            })?
            .collect::<Result<_, _>>()?;
        Ok(counts)
    }

    /// How many reports are open, for the staff pages.
    pub fn open_reports(&self) -> Result<usize, FeedbackError> {
        let count: i64 =
            self.conn()
                .query_row("SELECT count(*) FROM problem_reports WHERE status = 'open'", [], |row| row.get(0))?;
        Ok(count as usize)
    }

    /// Marks a report done (recording who and when) or open again, with a
    /// line in the activity record written in the same transaction. Marking
    /// a done report done again keeps who first closed it.
    pub fn set_done(&self, id: i64, done: bool, by: &Actor, now: i64) -> Result<Report, FeedbackError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let changed = if done {
            tx.execute(
                "UPDATE problem_reports SET status = 'done', closed_by = ?2, closed_at = ?3 WHERE id = ?1 AND status = 'open'",
                params![id, by.label, now],
            )?
        } else {
            tx.execute(
                "UPDATE problem_reports SET status = 'open', closed_by = NULL, closed_at = NULL WHERE id = ?1 AND status = 'done'",
                params![id],
            )?
        };
        let report = tx
            .query_row(
                "SELECT id, page, kind, details, flag_reasons, day, closed_by, closed_at FROM problem_reports WHERE id = ?1",
                params![id],
                report_row,
            )
            .optional()?
            .ok_or(FeedbackError::NoSuchReport(id))?;
        if changed > 0 {
            let kind = if done { Kind::ProblemReportDone } else { Kind::ProblemReportReopened };
            record(&tx, by, kind, &report_subject(id), &report.page, now)?;
        }
        tx.commit()?;
        Ok(report)
    }
}

/// How the activity record names a report: "problem report 3".
pub fn report_subject(id: i64) -> String {
    format!("problem report {id}")
}

fn report_row(row: &rusqlite::Row<'_>) -> Result<Report, rusqlite::Error> {
    let closed_by: Option<String> = row.get(6)?;
    let closed_at: Option<i64> = row.get(7)?;
    Ok(Report {
        id: row.get(0)?,
        page: row.get(1)?,
        kind: ProblemKind::parse(&row.get::<_, String>(2)?),
        details: row.get(3)?,
        flags: flags_from_codes(&row.get::<_, String>(4)?),
        day: row.get(5)?,
        closed: closed_by.zip(closed_at),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::feedback::FeedbackText;

    fn store(now: i64) -> (tempfile::TempDir, FeedbackStore, crate::auth::StaffStore, crate::auth::Account) {
        let (dir, staff, account) = crate::auth::test_store(now);
        let feedback = FeedbackStore::open(&dir.path().join("comments.db")).unwrap();
        (dir, feedback, staff, account)
    }

    fn form(nonce: &str) -> Nonce<'_> {
        Nonce { nonce, expires_at: 2_000_000_000 }
    }

    #[test]
    fn a_form_sends_one_answer_and_only_the_day_is_kept() {
        let now = 1_764_650_000; // 2025-12-02, in the afternoon
        let (_dir, feedback, _, _) = store(now);
        let answer = NewAnswer {
            page: "/a/".into(),
            helpful: false,
            text: Some(FeedbackText::parse("The dosage table is missing.").unwrap()),
            flags: vec![PersonalDetail::Phone],
        };
        assert_eq!(feedback.add_answer(&answer, form("n1"), now).unwrap(), Sent::Stored);
        assert_eq!(feedback.add_answer(&answer, form("n1"), now).unwrap(), Sent::AlreadyUsed);
        let yes = NewAnswer { helpful: true, text: None, flags: Vec::new(), ..answer.clone() };
        assert_eq!(feedback.add_answer(&yes, form("n2"), now).unwrap(), Sent::Stored);
        let pages = feedback.by_page().unwrap();
        assert_eq!(pages.len(), 1);
        let counts = PageCounts { page: "/a/".into(), helpful: 1, not_helpful: 1, open_reports: 0 };
        assert_eq!(feedback.page_counts().unwrap(), [counts]);
        assert_eq!((pages[0].helpful, pages[0].not_helpful), (1, 1));
        assert_eq!(
            pages[0].texts,
            [FeedbackNote {
                helpful: false,
                text: "The dosage table is missing.".into(),
                day: "2025-12-02".into(),
                flags: vec![PersonalDetail::Phone]
            }]
        );
    }

    #[test]
    fn reports_are_closed_and_reopened_with_who_did_it_on_the_record() {
        let now = 1_764_650_000;
        let (_dir, feedback, staff, account) = store(now);
        let report = NewReport {
            page: "/a/b/".into(),
            kind: ProblemKind::BrokenLink,
            details: FeedbackText::parse("The NHS link goes nowhere").unwrap(),
            flags: Vec::new(),
        };
        assert_eq!(feedback.add_report(&report, form("r1"), now).unwrap(), Sent::Stored);
        assert_eq!(feedback.add_report(&report, form("r1"), now).unwrap(), Sent::AlreadyUsed);
        let id = feedback.reports().unwrap()[0].id;
        assert_eq!(feedback.open_reports().unwrap(), 1);
        let open = PageCounts { page: "/a/b/".into(), open_reports: 1, ..PageCounts::default() };
        assert_eq!(feedback.page_counts().unwrap(), [open]);
        let by = Actor::person(&account);
        let done = feedback.set_done(id, true, &by, now + 60).unwrap();
        assert_eq!(done.closed, Some(("Jane Smith (jane)".to_string(), now + 60)));
        assert_eq!(feedback.open_reports().unwrap(), 0);
        assert!(feedback.page_counts().unwrap().is_empty(), "a report marked done is not counted");
        let reopened = feedback.set_done(id, false, &by, now + 120).unwrap();
        assert_eq!(reopened.closed, None);
        let kinds: Vec<String> = staff
            .activity(&crate::auth::activity::Filter { subject: Some(report_subject(id)), ..Default::default() }, 10)
            .unwrap()
            .into_iter()
            .map(|e| e.kind)
            .collect();
        assert_eq!(kinds, ["problem-report-reopened", "problem-report-done"]);
        assert!(matches!(feedback.set_done(999, true, &by, now), Err(FeedbackError::NoSuchReport(999))));
    }
}
