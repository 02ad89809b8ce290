//! Readers' feedback for staff (moderators and editors): each page's Yes
//! and No answers with what readers wrote, newest first, and problem
//! reports, which staff mark done (recording who and when) or reopen.

use askama::Template;
use axum::Extension;
use axum::extract::{Path as UrlPath, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::{Nav, Staff, admin_chrome, done_at, now, page};
use crate::auth::Actor;
use crate::comments::{PersonalDetail, in_words};
use crate::feedback::store::{PageFeedback, Report};
use crate::http::AppState;
use crate::http::error::{AppError, blocking};
use crate::site::Chrome;
use crate::urls;
use crate::util::date::moment;

#[derive(Template)]
#[template(path = "admin_feedback.html")]
struct FeedbackTemplate<'a> {
    chrome: Chrome<'a>,
    nav: Nav,
    pages: Vec<PageRow>,
    open: Vec<ReportRow>,
    done_reports: Vec<ReportRow>,
    error: Option<String>,
    done: Option<&'static str>,
}

struct PageRow {
    title: String,
    feedback: PageFeedback,
}

struct ReportRow {
    report: Report,
    title: String,
    kind: String,
    /// What the reader was warned about and sent anyway, in words.
    flags: String,
    /// "Jane Smith (jane), 2 December 2026, 14:05 UTC".
    closed: Option<String>,
    action: String,
}

/// Personal details in words for staff: "a phone number and a health condition".
fn flag_words(flags: &[PersonalDetail]) -> String {
    let words: Vec<&str> = flags.iter().map(|f| f.for_staff()).collect();
    in_words(&words, "and")
}

#[derive(Deserialize)]
pub(super) struct Done {
    done: Option<String>,
}

pub(super) async fn page_view(
    state: &AppState,
    staff: &Staff,
    done: Option<&'static str>,
) -> Result<Response, AppError> {
    let store = state.feedback.clone();
    let (pages, reports) = blocking(move || Ok::<_, AppError>((store.by_page()?, store.reports()?))).await?;
    let site = state.site.load();
    let title = |url: &str| site.feedback_page(url).map_or_else(|| url.to_string(), |p| p.title.clone());
    let pages = pages.into_iter().map(|feedback| PageRow { title: title(&feedback.page), feedback }).collect();
    let (mut open, mut done_reports) = (Vec::new(), Vec::new());
    for report in reports {
        let row = ReportRow {
            title: title(&report.page),
            kind: report.kind.map_or_else(|| "Another problem".to_string(), |k| k.to_string()),
            flags: flag_words(&report.flags),
            closed: report.closed.as_ref().map(|(by, at)| format!("{by}, {}", moment(*at))),
            action: urls::ADMIN_FEEDBACK_REPORT
                .replace("{id}", &report.id.to_string())
                .replace("{action}", if report.closed.is_some() { "reopen" } else { "done" }),
            report,
        };
        if row.closed.is_some() { done_reports.push(row) } else { open.push(row) }
    }
    let template = FeedbackTemplate {
        chrome: admin_chrome(&site, "Readers' feedback"),
        nav: Nav::new(staff, urls::ADMIN_FEEDBACK),
        pages,
        open,
        done_reports,
        error: None,
        done,
    };
    page(StatusCode::OK, &template)
}

pub(super) async fn page_get(
    State(state): State<AppState>,
    Extension(staff): Extension<Staff>,
    Query(query): Query<Done>,
) -> Result<Response, AppError> {
    let done = match query.done.as_deref() {
        Some("done") => Some("Marked as done, with your name."),
        Some("reopened") => Some("The report is open again."),
        _ => None,
    };
    page_view(&state, &staff, done).await
}

/// Marks a report done or reopens it; either goes on the activity record.
pub(super) async fn act(
    State(state): State<AppState>,
    Extension(staff): Extension<Staff>,
    UrlPath((id, action)): UrlPath<(i64, String)>,
) -> Result<Response, AppError> {
    let done = match action.as_str() {
        "done" => true,
        "reopen" => false,
        _ => return Err(AppError::NotFound),
    };
    let (store, by) = (state.feedback.clone(), Actor::person(&staff.account));
    blocking(move || store.set_done(id, done, &by, now())).await?;
    Ok(done_at(urls::ADMIN_FEEDBACK, if done { "done" } else { "reopened" }))
}
