//! The quality report: for each page of the live site, what a clinic shows
//! an assessor: its clinical review (status and reviewer), how many sources
//! it gives, its health claims without a source, how hard it is to read
//! (Flesch-Kincaid and SMOG grades), what readers said of it, how often it
//! was read, and the problem reports still open.
//!
//! Built here only, from the site as built (pages in article order, and the
//! warnings its checks found) and the data folder (sign-offs and changes
//! waiting, feedback, reading figures), for `clinic-site report` (text or
//! JSON) and `/admin/quality` (HTML or CSV) alike. Calls block.

use std::collections::{BTreeSet, HashMap};
use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;

use crate::checks::is_claim_warning;
use crate::content::{Page, ReviewState};
use crate::feedback::FeedbackStore;
use crate::feedback::store::FeedbackError;
use crate::figures::day_of;
use crate::figures::store::FiguresStore;
use crate::readability::Readability;
use crate::render::Rendered;
use crate::site::Site;
use crate::util::date::{Date, moment, moment_iso};
use crate::workspace::signoff::DUE_WITHIN_DAYS;
use crate::workspace::{SaveError, Workspace};

/// Why the report could not be made: a part of the data folder that could
/// not be read.
#[derive(Debug, thiserror::Error)]
pub enum QualityError {
    #[error("cannot read the sign-offs and changes waiting for review: {0}")]
    Workspace(#[from] SaveError),
    #[error("cannot read readers' feedback: {0}")]
    Feedback(#[from] FeedbackError),
    #[error("cannot read the reading figures: {0}")]
    Figures(#[from] rusqlite::Error),
}

/// What the report is made from.
pub struct Inputs<'a> {
    /// The site as built: its pages, and the warnings its checks found.
    pub site: &'a Site,
    /// The folder the site was built from, to name each page's file as the
    /// workspace does (`dry-needling/safety.md`).
    pub content_dir: &'a Path,
    pub workspace: &'a Workspace,
    pub feedback: &'a FeedbackStore,
    pub figures: &'a FiguresStore,
    /// Seconds since 1970: the report's time, for review dates and the
    /// figures' last 30 and 90 days (UTC).
    pub now: i64,
}

/// Where a page's clinical review stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReviewStatus {
    /// Signed off, the text unchanged since, and not due for
    /// [`DUE_WITHIN_DAYS`] days.
    Current,
    /// Signed off and unchanged, but due within [`DUE_WITHIN_DAYS`] days.
    DueSoon,
    /// Signed off and unchanged, but its review date has passed.
    Overdue,
    /// The text is not the text that was signed off (or the review was
    /// typed by hand, so nobody can tell).
    ChangedSinceReview,
    NeverReviewed,
}

impl ReviewStatus {
    /// Where the review queue (`/admin/reviews`) would put the page.
    fn of(state: &ReviewState, today: Date) -> ReviewStatus {
        match state {
            ReviewState::Never => ReviewStatus::NeverReviewed,
            ReviewState::Changed(_) | ReviewState::Unsigned(_) => ReviewStatus::ChangedSinceReview,
            ReviewState::Current(review) if review.next < today => ReviewStatus::Overdue,
            ReviewState::Current(review)
                if review.next.days_since_epoch() <= today.days_since_epoch() + DUE_WITHIN_DAYS =>
            {
                ReviewStatus::DueSoon
            }
            ReviewState::Current(_) => ReviewStatus::Current,
        }
    }

    /// In words, for people.
    pub fn label(self) -> &'static str {
        match self {
            ReviewStatus::Current => "Current",
            ReviewStatus::DueSoon => "Review due soon",
            ReviewStatus::Overdue => "Review overdue",
            ReviewStatus::ChangedSinceReview => "Changed since review",
            ReviewStatus::NeverReviewed => "Never reviewed",
        }
    }
}

/// One page's figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PageQuality {
    pub title: String,
    /// Its address on the site: `/dry-needling/safety/`.
    pub url: String,
    /// Relative to the content folder: `dry-needling/safety.md`.
    pub file: String,
    pub review_status: ReviewStatus,
    /// [`ReviewStatus::label`].
    pub review_status_label: &'static str,
    /// An edit is waiting for a reviewer before it goes live (when
    /// `site.toml` requires review).
    pub change_waiting: bool,
    /// The last review named on the page, current or not: "Jane Smith, DPT".
    pub reviewed_by: Option<String>,
    /// ISO dates of that review and the next one due.
    pub last_reviewed: Option<String>,
    pub next_review: Option<String>,
    /// Distinct sources the page lists in `sources` or cites with `[^key]`.
    pub sources: usize,
    /// Sentences with a health claim on a page without sources, as `check`
    /// warns of them.
    pub claim_warnings: usize,
    pub words: usize,
    pub sentences: usize,
    /// Flesch-Kincaid grade to one decimal place; `None` for a page without
    /// words.
    pub flesch_kincaid_grade: Option<f64>,
    /// SMOG grade to one decimal place; `None` for a page of fewer than
    /// three sentences, too short to score.
    pub smog_grade: Option<f64>,
    /// Readers who answered "Was this page helpful?" yes, and no.
    pub helpful_yes: usize,
    pub helpful_no: usize,
    /// Views in the last 30 and 90 days, today (UTC) included.
    pub views_30_days: u64,
    pub views_90_days: u64,
    pub open_problem_reports: usize,
}

/// The whole site's figures.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Totals {
    pub pages: usize,
    pub current: usize,
    pub due_soon: usize,
    pub overdue: usize,
    pub changed_since_review: usize,
    pub never_reviewed: usize,
    pub changes_waiting: usize,
    pub claim_warnings: usize,
    /// All pages read as one text.
    pub flesch_kincaid_grade: Option<f64>,
    pub smog_grade: Option<f64>,
    pub helpful_yes: usize,
    pub helpful_no: usize,
    pub views_30_days: u64,
    pub views_90_days: u64,
    pub open_problem_reports: usize,
}

/// The report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QualityReport {
    /// When it was made: "2026-12-02T14:05:09Z".
    pub generated: String,
    /// The same in seconds since 1970, for the text's heading.
    #[serde(skip)]
    at: i64,
    pub clinic: String,
    pub pages: Vec<PageQuality>,
    pub totals: Totals,
}

/// Rounded to one decimal place, as the report shows it.
fn tenth(value: f64) -> f64 {
    (value * 10.0).round() / 10.0
}

fn grades(readability: &Readability) -> (Option<f64>, Option<f64>) {
    (
        (readability.words > 0).then(|| tenth(readability.grade())),
        readability.smog_scored().then(|| tenth(readability.smog())),
    )
}

/// The page's file as the workspace names it: relative to the content
/// folder, with `/` between the parts.
fn relative_file(page: &Page, content_dir: &Path) -> String {
    let relative = page.path.strip_prefix(content_dir).unwrap_or(&page.path);
    relative.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/")
}

fn sources(page: &Page, rendered: &Rendered) -> usize {
    let keys: BTreeSet<String> = page
        .front
        .sources
        .iter()
        .map(|key| key.to_lowercase())
        .chain(rendered.citations.iter().map(|c| c.key.to_lowercase()))
        .collect();
    keys.len()
}

/// Whether an edit of the page waits for a reviewer. A file the workspace
/// cannot edit (a link to another file) can have none waiting; as in the
/// review queue, it does not stop the report.
fn change_waiting(workspace: &Workspace, file: &str) -> Result<bool, SaveError> {
    match workspace.pending(file) {
        Ok(pending) => Ok(pending.is_some()),
        Err(SaveError::BadPath { .. }) => Ok(false),
        Err(other) => Err(other),
    }
}

/// Builds the report.
pub fn build(inputs: &Inputs<'_>) -> Result<QualityReport, QualityError> {
    let today = Date::from_unix(inputs.now);
    let day = day_of(inputs.now);
    let views_30: HashMap<String, u64> =
        inputs.figures.per_page(day - 29, day)?.into_iter().map(|p| (p.page, p.views)).collect();
    let views_90: HashMap<String, u64> =
        inputs.figures.per_page(day - 89, day)?.into_iter().map(|p| (p.page, p.views)).collect();
    let feedback: HashMap<String, crate::feedback::store::PageCounts> =
        inputs.feedback.page_counts()?.into_iter().map(|c| (c.page.clone(), c)).collect();

    let mut pages = Vec::new();
    let mut whole = Readability::default();
    let rendered = inputs.site.render_articles();
    for article in inputs.site.articles(&rendered) {
        for (page, url, rendered) in article.pages() {
            let readability = Readability::of_blocks(&rendered.text);
            whole.add(readability);
            let (flesch_kincaid_grade, smog_grade) = grades(&readability);
            let state = page.review_state();
            let last = state.last();
            let review_status = ReviewStatus::of(&state, today);
            let file = relative_file(page, inputs.content_dir);
            let counts = feedback.get(url).cloned().unwrap_or_default();
            pages.push(PageQuality {
                title: page.front.title.clone(),
                url: url.to_string(),
                change_waiting: change_waiting(inputs.workspace, &file)?,
                file,
                review_status,
                review_status_label: review_status.label(),
                reviewed_by: last.map(|r| r.by.clone()),
                last_reviewed: last.map(|r| r.on.iso()),
                next_review: last.map(|r| r.next.iso()),
                sources: sources(page, rendered),
                claim_warnings: inputs
                    .site
                    .warnings
                    .iter()
                    .filter(|w| w.path == page.path && is_claim_warning(w))
                    .count(),
                words: readability.words,
                sentences: readability.sentences,
                flesch_kincaid_grade,
                smog_grade,
                helpful_yes: counts.helpful,
                helpful_no: counts.not_helpful,
                views_30_days: views_30.get(url).copied().unwrap_or(0),
                views_90_days: views_90.get(url).copied().unwrap_or(0),
                open_problem_reports: counts.open_reports,
            });
        }
    }
    let count = |status: ReviewStatus| pages.iter().filter(|p| p.review_status == status).count();
    let (flesch_kincaid_grade, smog_grade) = grades(&whole);
    let totals = Totals {
        pages: pages.len(),
        current: count(ReviewStatus::Current),
        due_soon: count(ReviewStatus::DueSoon),
        overdue: count(ReviewStatus::Overdue),
        changed_since_review: count(ReviewStatus::ChangedSinceReview),
        never_reviewed: count(ReviewStatus::NeverReviewed),
        changes_waiting: pages.iter().filter(|p| p.change_waiting).count(),
        claim_warnings: pages.iter().map(|p| p.claim_warnings).sum(),
        flesch_kincaid_grade,
        smog_grade,
        helpful_yes: pages.iter().map(|p| p.helpful_yes).sum(),
        helpful_no: pages.iter().map(|p| p.helpful_no).sum(),
        views_30_days: pages.iter().map(|p| p.views_30_days).sum(),
        views_90_days: pages.iter().map(|p| p.views_90_days).sum(),
        open_problem_reports: pages.iter().map(|p| p.open_problem_reports).sum(),
    };
    Ok(QualityReport {
        generated: moment_iso(inputs.now),
        at: inputs.now,
        clinic: inputs.site.settings.clinic_name.clone(),
        pages,
        totals,
    })
}

/// Text shown for a SMOG grade that could not be given.
pub const TOO_SHORT: &str = "too short to score";

impl PageQuality {
    /// The review status, with a change waiting if there is one.
    pub fn status_text(&self) -> String {
        if self.change_waiting {
            format!("{}; change waiting", self.review_status_label)
        } else {
            self.review_status_label.to_string()
        }
    }

    /// "Jane Smith, DPT, 2026-12-02", or "none".
    pub fn review_text(&self) -> String {
        match (&self.reviewed_by, &self.last_reviewed) {
            (Some(by), Some(on)) => format!("{by}, {on}"),
            (Some(by), None) => by.clone(),
            _ => "none".to_string(),
        }
    }

    pub fn grade_text(&self) -> String {
        self.flesch_kincaid_grade.map_or_else(|| "no text".to_string(), |g| format!("{g:.1}"))
    }

    pub fn smog_text(&self) -> String {
        self.smog_grade.map_or_else(|| TOO_SHORT.to_string(), |g| format!("{g:.1}"))
    }
}

fn plural(n: u64, one: &str, many: &str) -> String {
    if n == 1 { format!("1 {one}") } else { format!("{n} {many}") }
}

impl QualityReport {
    /// The summary as sentences, for the text report and the staff page.
    pub fn summary(&self) -> Vec<String> {
        let t = &self.totals;
        let grade = |g: Option<f64>, missing: &str| g.map_or(missing.to_string(), |g| format!("{g:.1}"));
        vec![
            format!(
                "{}: {} current, {} due for review within {DUE_WITHIN_DAYS} days, {} overdue, {} changed since review, {} never reviewed; {} waiting for review.",
                plural(t.pages as u64, "page", "pages"),
                t.current,
                t.due_soon,
                t.overdue,
                t.changed_since_review,
                t.never_reviewed,
                plural(t.changes_waiting as u64, "change", "changes"),
            ),
            format!(
                "{} (a health claim on a page without sources).",
                plural(t.claim_warnings as u64, "claim warning", "claim warnings")
            ),
            format!(
                "All pages read together: Flesch-Kincaid grade {}, SMOG grade {} (patient pages should read at about grade 6 to 8).",
                grade(t.flesch_kincaid_grade, "none (no text)"),
                grade(t.smog_grade, TOO_SHORT),
            ),
            format!(
                "Readers answered \"Was this page helpful?\" {} yes and {} no; {} open.",
                t.helpful_yes,
                t.helpful_no,
                plural(t.open_problem_reports as u64, "problem report is", "problem reports are"),
            ),
            format!(
                "Pages were read {} in the last 30 days and {} in the last 90 days.",
                plural(t.views_30_days, "time", "times"),
                plural(t.views_90_days, "time", "times"),
            ),
        ]
    }

    /// For people, and for printing: the summary, then two aligned tables
    /// (review and evidence; readers and readability), each page named by
    /// its address so the lines stay short.
    pub fn text(&self) -> String {
        let mut out = format!("Quality report for {}, {}\n\n", self.clinic, moment(self.at));
        for line in self.summary() {
            let _ = writeln!(out, "{line}");
        }
        let review: Vec<Vec<String>> = self
            .pages
            .iter()
            .map(|p| {
                vec![
                    p.url.clone(),
                    p.status_text(),
                    p.review_text(),
                    p.sources.to_string(),
                    p.claim_warnings.to_string(),
                ]
            })
            .collect();
        out.push_str("\nClinical review and evidence\n");
        out.push_str(&aligned(
            &["Page", "Review status", "Last review", "Sources", "Claim warnings"],
            &review,
            &[false, false, false, true, true],
        ));
        let readers: Vec<Vec<String>> = self
            .pages
            .iter()
            .map(|p| {
                vec![
                    p.url.clone(),
                    p.grade_text(),
                    p.smog_text(),
                    format!("{} / {}", p.helpful_yes, p.helpful_no),
                    p.views_30_days.to_string(),
                    p.views_90_days.to_string(),
                    p.open_problem_reports.to_string(),
                ]
            })
            .collect();
        out.push_str("\nReadability and readers\n");
        out.push_str(&aligned(
            &["Page", "FK grade", "SMOG grade", "Helpful yes / no", "Views 30 days", "Views 90 days", "Open reports"],
            &readers,
            &[false, true, true, true, true, true, true],
        ));
        out
    }

    /// Every page as CSV (RFC 4180, cells that could run as a formula
    /// neutralised), one row per page, for a spreadsheet.
    pub fn csv(&self) -> String {
        let header = [
            "Page",
            "Address",
            "File",
            "Review status",
            "Change waiting",
            "Reviewed by",
            "Last reviewed",
            "Next review",
            "Sources",
            "Claim warnings",
            "Words",
            "Sentences",
            "Flesch-Kincaid grade",
            "SMOG grade",
            "Helpful yes",
            "Helpful no",
            "Views 30 days",
            "Views 90 days",
            "Open problem reports",
        ];
        let mut csv = String::new();
        let mut line = |cells: &[String]| {
            let cells: Vec<String> = cells.iter().map(|cell| crate::util::csv::field(cell)).collect();
            csv.push_str(&cells.join(","));
            csv.push_str("\r\n");
        };
        line(&header.map(String::from));
        for p in &self.pages {
            line(&[
                p.title.clone(),
                p.url.clone(),
                p.file.clone(),
                p.review_status_label.to_string(),
                if p.change_waiting { "yes" } else { "no" }.to_string(),
                p.reviewed_by.clone().unwrap_or_default(),
                p.last_reviewed.clone().unwrap_or_default(),
                p.next_review.clone().unwrap_or_default(),
                p.sources.to_string(),
                p.claim_warnings.to_string(),
                p.words.to_string(),
                p.sentences.to_string(),
                p.flesch_kincaid_grade.map(|g| format!("{g:.1}")).unwrap_or_default(),
                p.smog_grade.map_or_else(|| TOO_SHORT.to_string(), |g| format!("{g:.1}")),
                p.helpful_yes.to_string(),
                p.helpful_no.to_string(),
                p.views_30_days.to_string(),
                p.views_90_days.to_string(),
                p.open_problem_reports.to_string(),
            ]);
        }
        csv
    }
}

/// A table in columns two spaces apart, numbers to the right.
fn aligned(header: &[&str], rows: &[Vec<String>], right: &[bool]) -> String {
    let widths: Vec<usize> = (0..header.len())
        .map(|i| rows.iter().map(|r| r[i].chars().count()).chain([header[i].chars().count()]).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    let header: Vec<String> = header.iter().map(|h| h.to_string()).collect();
    for row in std::iter::once(&header).chain(rows) {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            if i > 0 {
                line.push_str("  ");
            }
            let pad = " ".repeat(widths[i] - cell.chars().count());
            if right[i] {
                line.push_str(&pad);
                line.push_str(cell);
            } else {
                line.push_str(cell);
                line.push_str(&pad);
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::Review;

    #[test]
    fn review_status_follows_the_review_queue() {
        let today = Date::new(2026, 12, 2).unwrap();
        let review = |next: Date| Review { by: "Jane Smith, DPT".into(), on: Date::new(2026, 1, 1).unwrap(), next };
        let status = |state: ReviewState| ReviewStatus::of(&state, today);
        assert_eq!(status(ReviewState::Never), ReviewStatus::NeverReviewed);
        assert_eq!(status(ReviewState::Changed(review(today))), ReviewStatus::ChangedSinceReview);
        assert_eq!(status(ReviewState::Unsigned(review(today))), ReviewStatus::ChangedSinceReview);
        assert_eq!(status(ReviewState::Current(review(Date::new(2026, 12, 1).unwrap()))), ReviewStatus::Overdue);
        assert_eq!(status(ReviewState::Current(review(today))), ReviewStatus::DueSoon, "due today is not overdue");
        assert_eq!(status(ReviewState::Current(review(Date::new(2027, 1, 1).unwrap()))), ReviewStatus::DueSoon);
        assert_eq!(status(ReviewState::Current(review(Date::new(2027, 1, 2).unwrap()))), ReviewStatus::Current);
    }

    #[test]
    fn tables_are_aligned_with_numbers_to_the_right() {
        let rows = vec![vec!["/a/".to_string(), "12".to_string()], vec!["/long/".to_string(), "3".to_string()]];
        assert_eq!(aligned(&["Page", "Views"], &rows, &[false, true]), "Page    Views\n/a/        12\n/long/      3\n");
    }
}
