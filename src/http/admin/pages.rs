//! The pages list and each page's history (editors): what needs attention
//! first, every version of a page with who made it, a word-by-word
//! comparison of any two, and putting an earlier version back.

use askama::Template;
use axum::Extension;
use axum::extract::{Form, Path as UrlPath, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::editor::{file_of, page_address, published};
use super::{Nav, Staff, admin_chrome, done_at, now, page};
use crate::auth::Actor;
use crate::content::{Page, ReviewState, Severity};
use crate::http::AppState;
use crate::http::error::{AppError, blocking};
use crate::site::Chrome;
use crate::urls;
use crate::util::date::{Date, moment};
use crate::workspace::{RevisionKind, RevisionSummary, SaveError, Segment, diff};

/// A page as the list shows it.
struct PageRow {
    /// `dry-needling/safety.md`.
    file: String,
    title: String,
    /// Where readers find it; empty for a page that could not be read.
    url: String,
    draft: bool,
    errors: usize,
    warnings: usize,
    /// "7.2", or empty when the page could not be checked.
    grade: String,
    /// "Jane Smith (jane), 2 December 2026, 14:05 UTC".
    last_edited: String,
    /// "Reviewed by ... on ...", or why not.
    review: String,
    /// The review is due within a month or overdue.
    review_due: bool,
    history: String,
    edit: String,
}

impl PageRow {
    /// Lower sorts first: errors, then overdue reviews, then warnings.
    fn attention(&self) -> u8 {
        match (self.errors, self.review_due, self.warnings) {
            (1.., _, _) => 0,
            (0, true, _) => 1,
            (0, false, 1..) => 2,
            _ => 3,
        }
    }
}

#[derive(Template)]
#[template(path = "admin_pages.html")]
struct PagesTemplate<'a> {
    chrome: Chrome<'a>,
    nav: Nav,
    rows: Vec<PageRow>,
}

/// `dry-needling/safety.md` as its history's address, if it is a page in
/// an article folder.
fn history_address(file: &str) -> Option<String> {
    file.strip_suffix(".md")?.split_once('/')?;
    Some(page_address(urls::ADMIN_PAGE_HISTORY, file))
}

/// Where "put this version back" posts, up to the revision's number.
fn restore_address(file: &str) -> String {
    page_address(urls::ADMIN_PAGE_RESTORE, file).replace("/{revision}", "")
}

pub(super) async fn list(
    State(state): State<AppState>,
    Extension(staff): Extension<Staff>,
) -> Result<Response, AppError> {
    let looking = state.clone();
    let rows = blocking(move || Ok::<_, AppError>(page_rows(&looking))).await?;
    let site = state.site.load();
    page(
        StatusCode::OK,
        &PagesTemplate { chrome: admin_chrome(&site, "Pages"), nav: Nav::new(&staff, urls::ADMIN_PAGES), rows },
    )
}

/// Every page file, checked as `check` checks it (drafts included), with
/// its history's last edit. Reads the content folder.
fn page_rows(state: &AppState) -> Vec<PageRow> {
    let content_dir = &state.config.folders.content;
    let inspection = crate::report::inspect(content_dir, &state.config.folders.static_dir);
    let today = Date::today();
    let mut rows: Vec<PageRow> = state
        .workspace
        .pages()
        .into_iter()
        .filter(|file| history_address(file).is_some())
        .map(|file| {
            let path = content_dir.join(&file);
            let problems = inspection.problems.iter().filter(|p| p.path.ends_with(&file));
            let (errors, warnings) = problems.fold((0, 0), |(e, w), p| match p.severity {
                Severity::Error => (e + 1, w),
                Severity::Warning => (e, w + 1),
            });
            let stats = inspection.pages.iter().find(|stats| stats.path.ends_with(&file));
            let parsed = std::fs::read_to_string(&path).ok().and_then(|text| Page::parse(&path, text).ok());
            let (review, review_due) = match parsed.as_ref().map(Page::review_state) {
                Some(ReviewState::Current(review)) => {
                    let due = review.next.days_since_epoch() <= today.days_since_epoch() + 30;
                    (format!("Reviewed by {} on {}; next due {}", review.by, review.on.long(), review.next.long()), due)
                }
                // Readers are no longer told of it: as good as due.
                Some(ReviewState::Changed(review) | ReviewState::Unsigned(review)) => {
                    (format!("Changed since the review by {} on {}", review.by, review.on.long()), true)
                }
                _ => ("Not reviewed".to_string(), true),
            };
            let last_edited = state
                .workspace
                .history(&file)
                .ok()
                .and_then(|history| {
                    history.into_iter().find(|r| !matches!(r.kind, RevisionKind::Draft | RevisionKind::Pending))
                })
                .map_or_else(String::new, |r| format!("{}, {}", r.author, moment(r.at)));
            PageRow {
                title: parsed.as_ref().map_or_else(|| file.clone(), |page| page.front.title.clone()),
                url: stats.map(|stats| stats.url.clone()).unwrap_or_default(),
                draft: parsed.as_ref().is_some_and(|page| page.front.draft),
                errors,
                warnings,
                grade: stats.map(|stats| format!("{:.1}", stats.readability.grade())).unwrap_or_default(),
                last_edited,
                review,
                review_due,
                history: history_address(&file).unwrap_or_default(),
                edit: page_address(urls::ADMIN_PAGE_EDIT, &file),
                file,
            }
        })
        .collect();
    rows.sort_by(|a, b| a.attention().cmp(&b.attention()).then_with(|| a.file.cmp(&b.file)));
    rows
}

/// A revision as the history lists it.
struct RevisionRow {
    summary: RevisionSummary,
    when: String,
    kind: &'static str,
    /// The page's text now: restoring it changes nothing.
    is_current: bool,
}

#[derive(Template)]
#[template(path = "admin_page_history.html")]
struct HistoryTemplate<'a> {
    chrome: Chrome<'a>,
    nav: Nav,
    file: String,
    address: String,
    /// Where "put this version back" posts, but for the revision's number.
    restore: String,
    current_hash: String,
    revisions: Vec<RevisionRow>,
    /// The two revisions compared and their differences.
    compared: Option<(i64, i64, Vec<Segment>)>,
    done: Option<&'static str>,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
pub(super) struct HistoryQuery {
    from: Option<i64>,
    to: Option<i64>,
    done: Option<String>,
}

fn kind_in_words(kind: RevisionKind) -> &'static str {
    match kind {
        RevisionKind::Save => "Saved",
        RevisionKind::Draft => "Draft (not published)",
        RevisionKind::Outside => "Changed outside the workspace",
        RevisionKind::Restore => "Restored an earlier version",
        RevisionKind::Create => "Created",
        RevisionKind::Trash => "Moved to the trash",
        RevisionKind::SignOff => "Signed off clinically",
        RevisionKind::Pending => "Waiting for review (not published)",
    }
}

pub(super) async fn history(
    State(state): State<AppState>,
    Extension(staff): Extension<Staff>,
    UrlPath((article, name)): UrlPath<(String, String)>,
    Query(query): Query<HistoryQuery>,
) -> Result<Response, AppError> {
    let file = file_of(&article, &name)?;
    let done = match query.done.as_deref() {
        Some("restored") => {
            Some("The earlier version is back on the page. It is a new version in the history: nothing was lost.")
        }
        Some("restored-for-review") => Some(
            "The earlier version is waiting for clinical review: readers keep seeing the reviewed text until a reviewer signs it off. Nothing was lost.",
        ),
        _ => None,
    };
    history_page(&state, &staff, &file, &query, StatusCode::OK, done, None).await
}

async fn history_page(
    state: &AppState,
    staff: &Staff,
    file: &str,
    query: &HistoryQuery,
    status: StatusCode,
    done: Option<&'static str>,
    error: Option<String>,
) -> Result<Response, AppError> {
    let (workspace, looking, (from, to)) = (state.workspace.clone(), file.to_string(), (query.from, query.to));
    let (current_hash, revisions, compared) = blocking(move || {
        let (_, current_hash) = workspace.current(&looking)?;
        let revisions = workspace.history(&looking)?;
        let compared = match (from, to) {
            (Some(from), Some(to)) => {
                let text = |id| {
                    workspace
                        .revision(id)?
                        .filter(|r| r.summary.path == looking)
                        .map(|r| r.text)
                        .ok_or(SaveError::NoSuchRevision { path: looking.clone(), id })
                };
                Some((from, to, diff::words(&text(from)?, &text(to)?)))
            }
            _ => None,
        };
        Ok::<_, SaveError>((current_hash, revisions, compared))
    })
    .await?;
    let site = state.site.load();
    let rows = revisions
        .into_iter()
        .map(|summary| RevisionRow {
            when: moment(summary.at),
            kind: kind_in_words(summary.kind),
            is_current: summary.hash == current_hash && summary.kind != RevisionKind::Draft,
            summary,
        })
        .collect();
    page(
        status,
        &HistoryTemplate {
            chrome: admin_chrome(&site, &format!("History of {file}")),
            nav: Nav::new(staff, urls::ADMIN_PAGES),
            file: file.to_string(),
            address: history_address(file).unwrap_or_default(),
            restore: restore_address(file),
            current_hash,
            revisions: rows,
            compared,
            done,
            error,
        },
    )
}

#[derive(Deserialize)]
pub(super) struct RestoreForm {
    #[serde(default)]
    base: String,
}

pub(super) async fn restore(
    State(state): State<AppState>,
    Extension(staff): Extension<Staff>,
    UrlPath((article, name, revision)): UrlPath<(String, String, i64)>,
    Form(form): Form<RestoreForm>,
) -> Result<Response, AppError> {
    let file = file_of(&article, &name)?;
    let live = state.site.subscribe();
    let (workspace, restoring, by) = (state.workspace.clone(), file.clone(), Actor::person(&staff.account));
    // With review required, earlier words that no sign-off covers wait for
    // a reviewer like any other change to a signed-off page.
    let require_review = state.site.load().settings.review.require_review;
    let restored = blocking(move || {
        if require_review && workspace.restore_needs_review(&restoring, revision)? {
            let old = workspace.revision(revision)?.ok_or(AppError::NotFound)?;
            let message = format!("restored revision {revision}, waiting for review");
            return Ok::<_, AppError>(
                workspace.save_pending(&restoring, &old.text, &form.base, &by, &message, now()).map(|_| None),
            );
        }
        Ok(workspace.restore(&restoring, revision, &form.base, &by, now()).map(Some))
    })
    .await?;
    let restored = match restored {
        Ok(None) => return Ok(done_at(&history_address(&file).unwrap_or_default(), "restored-for-review")),
        Ok(Some(saved)) => Ok(saved),
        Err(e) => Err(e),
    };
    match restored {
        Ok(saved) => {
            if saved.revision.is_some() {
                published(&state, live).await;
            }
            Ok(done_at(&history_address(&file).unwrap_or_default(), "restored"))
        }
        Err(SaveError::Conflict { .. }) => {
            let why = "The page changed while you were looking at its history, so nothing was restored. The list below is up to date: check it and restore again.".to_string();
            history_page(&state, &staff, &file, &HistoryQuery::default(), StatusCode::CONFLICT, None, Some(why)).await
        }
        Err(other) => Err(other.into()),
    }
}
