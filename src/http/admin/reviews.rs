//! Clinical review (reviewers): the pages that need one, and signing a page
//! off as it will be live.
//!
//! - `/admin/reviews` lists pages never reviewed, changed since their
//!   sign-off (with the words changed since), due within 30 days or
//!   overdue, and changes waiting for review when `site.toml` requires it.
//! - The sign-off page shows the text exactly as readers will get it
//!   (`Site::preview`, the editor's preview), the words changed since the
//!   last sign-off, and "Sign off as Jane Smith, DPT". Its form names the
//!   version the reviewer read; a page changed since is refused (409) and
//!   shown again as it is now, and a page with content errors cannot be
//!   signed off (422, with the errors).

use askama::Template;
use axum::Extension;
use axum::extract::{Path as UrlPath, Query, RawForm, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::editor::{file_of, page_address, published};
use super::{Nav, Staff, admin_chrome, done_at, now, page};
use crate::content::{Date, Severity};
use crate::http::AppState;
use crate::http::error::{AppError, blocking, capitalised};
use crate::site::Chrome;
use crate::urls;
use crate::workspace::{Document, QueueItem, ReviewQueue, Segment, SignOffError, SignOffRequest, diff};

/// A page in the queue as the list shows it.
struct Row {
    item: QueueItem,
    sign_off: String,
    /// For changed pages: the words changed since the last sign-off.
    changes: Vec<Segment>,
}

#[derive(Template)]
#[template(path = "admin_reviews.html")]
struct QueueTemplate<'a> {
    chrome: Chrome<'a>,
    nav: Nav,
    done: Option<String>,
    error: Option<String>,
    pending: Vec<Row>,
    changed: Vec<Row>,
    never: Vec<Row>,
    due: Vec<Row>,
}

#[derive(Deserialize, Default)]
pub(super) struct QueueQuery {
    done: Option<String>,
}

/// The sign-off page's address for a queue item.
/// The words a reviewer is asked about, changed between two versions of a
/// page: what a sign-off covers, not the settings around it.
fn reviewed_words(before: &str, after: &str) -> Vec<Segment> {
    diff::words(&Document::reviewed_text(before), &Document::reviewed_text(after))
}

fn sign_off_address(item: &QueueItem) -> String {
    let address = page_address(urls::ADMIN_PAGE_SIGN_OFF, &item.file);
    match item.pending_revision {
        Some(id) => format!("{address}?pending={id}"),
        None => address,
    }
}

pub(super) async fn queue(
    State(state): State<AppState>,
    Extension(staff): Extension<Staff>,
    Query(query): Query<QueueQuery>,
) -> Result<Response, AppError> {
    let workspace = state.workspace.clone();
    let (queue, changes) = blocking(move || {
        let queue: ReviewQueue = workspace.review_queue(Date::today())?;
        // The words changed since each changed page's last sign-off.
        let changes: Vec<Vec<Segment>> = queue
            .changed_since_review
            .iter()
            .map(|item| {
                let signed = item.signed_revision.and_then(|id| workspace.revision(id).ok().flatten());
                match (signed, workspace.current(&item.file)) {
                    (Some(signed), Ok((now, _))) => reviewed_words(&signed.text, &now),
                    _ => Vec::new(),
                }
            })
            .collect();
        Ok::<_, AppError>((queue, changes))
    })
    .await?;
    let rows = |items: Vec<QueueItem>| -> Vec<Row> {
        items.into_iter().map(|item| Row { sign_off: sign_off_address(&item), item, changes: Vec::new() }).collect()
    };
    let mut changed = rows(queue.changed_since_review);
    for (row, changes) in changed.iter_mut().zip(changes) {
        row.changes = changes;
    }
    let site = state.site.load();
    let template = QueueTemplate {
        chrome: admin_chrome(&site, "Reviews"),
        nav: Nav::new(&staff, urls::ADMIN_REVIEWS),
        done: match query.done.as_deref() {
            Some("signed-off") => Some("Signed off. Readers now see your review on the page.".into()),
            Some("signed-off-not-live") => Some(
                "Signed off. The live site has not shown it yet: another page has a problem that stops the site updating (see Pages)."
                    .into(),
            ),
            _ => None,
        },
        error: None,
        pending: rows(queue.pending),
        changed,
        never: rows(queue.never_reviewed),
        due: rows(queue.due),
    };
    page(StatusCode::OK, &template)
}

#[derive(Template)]
#[template(path = "admin_sign_off.html")]
struct SignOffTemplate<'a> {
    chrome: Chrome<'a>,
    nav: Nav,
    file: String,
    title: String,
    action: String,
    /// The file's hash as shown: what the sign-off is of.
    base: String,
    pending: Option<i64>,
    /// "Jane Smith, DPT"; empty when the account has no credentials.
    signature: String,
    note: String,
    preview_html: Option<String>,
    /// Problems that stop a sign-off (content errors), as sentences.
    errors: Vec<String>,
    /// The words changed since the last sign-off, if there was one.
    changes: Option<Vec<Segment>>,
    /// "Jane Smith, DPT on 2 December 2026".
    last_signoff: Option<String>,
    done: Option<String>,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
pub(super) struct SignOffQuery {
    pending: Option<i64>,
}

/// What the reviewer is asked to sign: the page now, or a change waiting.
struct Shown {
    base: String,
    preview_html: Option<String>,
    errors: Vec<String>,
    title: String,
    changes: Option<Vec<Segment>>,
    last_signoff: Option<String>,
}

/// Reads the page (or its pending revision), renders it as readers will get
/// it, and compares it with the last sign-off. Reads the content folder.
fn shown(state: &AppState, file: &str, pending: Option<i64>) -> Result<Shown, AppError> {
    let workspace = &state.workspace;
    let (current, base) = workspace.current(file)?;
    let text = match pending {
        None => current,
        Some(id) => {
            workspace
                .revision(id)?
                .filter(|r| r.summary.path == file && r.summary.kind == crate::workspace::RevisionKind::Pending)
                .ok_or(AppError::NotFound)?
                .text
        }
    };
    let site = state.site.load();
    let preview =
        site.preview(&state.config.folders.content, &state.config.folders.static_dir, file, &text, None, Date::today());
    let errors = preview
        .problems
        .iter()
        .filter(|p| p.severity == Severity::Error)
        .map(|p| match p.line {
            0 => capitalised(&p.message),
            line => format!("Line {line}: {}", capitalised(&p.message)),
        })
        .collect();
    let title = crate::workspace::Document::parse(&text)
        .ok()
        .and_then(|d| d.title().map(str::to_string))
        .unwrap_or_else(|| file.to_string());
    let last = workspace.signoffs(file)?.into_iter().next();
    let changes = match &last {
        Some(signed) => workspace.revision(signed.revision_id)?.map(|r| reviewed_words(&r.text, &text)),
        None => None,
    };
    let last_signoff = last.map(|s| {
        let on = s.signed_on.parse::<Date>().map_or(s.signed_on.clone(), |d| d.long());
        format!("{}, {} on {on}", s.name, s.credentials)
    });
    Ok(Shown { base, preview_html: preview.html, errors, title, changes, last_signoff })
}

async fn render(
    state: &AppState,
    staff: &Staff,
    file: &str,
    pending: Option<i64>,
    note: &str,
    error: Option<String>,
    status: StatusCode,
) -> Result<Response, AppError> {
    let (looking, reading) = (state.clone(), file.to_string());
    let shown = blocking(move || shown(&looking, &reading, pending)).await?;
    let site = state.site.load();
    let account = &staff.account;
    let template = SignOffTemplate {
        chrome: admin_chrome(&site, &format!("Sign off {}", shown.title)),
        nav: Nav::new(staff, urls::ADMIN_REVIEWS),
        file: file.to_string(),
        title: shown.title,
        action: page_address(urls::ADMIN_PAGE_SIGN_OFF, file),
        base: shown.base,
        pending,
        signature: if account.credentials.trim().is_empty() { String::new() } else { account.signature() },
        note: note.to_string(),
        preview_html: shown.preview_html,
        errors: shown.errors,
        changes: shown.changes,
        last_signoff: shown.last_signoff,
        done: None,
        error,
    };
    page(status, &template)
}

pub(super) async fn sign_off_page(
    State(state): State<AppState>,
    Extension(staff): Extension<Staff>,
    UrlPath((article, name)): UrlPath<(String, String)>,
    Query(query): Query<SignOffQuery>,
) -> Result<Response, AppError> {
    let file = file_of(&article, &name)?;
    render(&state, &staff, &file, query.pending, "", None, StatusCode::OK).await
}

pub(super) async fn sign_off(
    State(state): State<AppState>,
    Extension(staff): Extension<Staff>,
    UrlPath((article, name)): UrlPath<(String, String)>,
    RawForm(body): RawForm,
) -> Result<Response, AppError> {
    let file = file_of(&article, &name)?;
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&body)
        .map_err(|_| AppError::BadRequest("The form could not be read. Reload the page and try again.".into()))?;
    let one = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default();
    let (base, note) = (one("base"), one("note"));
    let pending = match one("pending").trim() {
        "" => None,
        id => Some(id.parse::<i64>().map_err(|_| AppError::BadRequest("The form could not be read.".into()))?),
    };
    // Content errors stop a page going live, so they stop a sign-off too:
    // a review is of the page readers will get.
    let (looking, reading) = (state.clone(), file.clone());
    let errors = blocking(move || shown(&looking, &reading, pending).map(|s| s.errors.len())).await?;
    if errors > 0 {
        let error = "This page has problems that stop it going live (listed below), so it cannot be signed off. Ask an editor to fix them first.";
        return render(&state, &staff, &file, pending, &note, Some(error.into()), StatusCode::UNPROCESSABLE_ENTITY)
            .await;
    }
    let live = state.site.subscribe();
    let (workspace, account, signing, note_sent) =
        (state.workspace.clone(), staff.account.clone(), file.clone(), note.clone());
    let result = blocking(move || {
        let request = SignOffRequest {
            path: &signing,
            base_hash: &base,
            pending,
            note: &note_sent,
            reviewer: &account,
            today: Date::today(),
            now: now(),
        };
        Ok::<_, AppError>(workspace.sign_off(&request))
    })
    .await?;
    match result {
        Ok(_) => {
            let shown = published(&state, live).await;
            Ok(done_at(urls::ADMIN_REVIEWS, if shown { "signed-off" } else { "signed-off-not-live" }))
        }
        Err(SignOffError::Changed { .. }) => {
            let error = "This page was changed after you opened it, so it was not signed off: you must review the text that will be live. It is shown below as it is now. Read it again, then sign off.";
            render(&state, &staff, &file, pending, &note, Some(error.into()), StatusCode::CONFLICT).await
        }
        Err(SignOffError::NoSuchPending { .. }) => Err(AppError::NotFound),
        Err(why @ (SignOffError::NoCredentials | SignOffError::Document(_))) => {
            let error = capitalised(&why.to_string());
            render(&state, &staff, &file, pending, &note, Some(error), StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(SignOffError::Save(error)) => Err(error.into()),
    }
}
