//! "Was this page helpful?" and "Report a problem with this page".
//!
//! Article pages are the same for every reader and cached, so they cannot
//! carry a signed, one-time token. Their Yes and No buttons therefore ask
//! for a page of the reader's own with GET (`<page>feedback/?helpful=yes`):
//! it stores nothing, and holds a fresh token with the answer already
//! chosen and the optional "What was missing or wrong?" box. The answer is
//! stored when that form is sent, once per token, so a forged or replayed
//! post stores nothing; a GET never changes anything, and in the static
//! export the same buttons lead to a "Contact the clinic" page at that
//! address. With JavaScript (`static/share.js`) the reader's page is
//! fetched and shown in place, and sent in place.
//!
//! Problem reports have their own form page (`<page>report/`), linked
//! from every article page, with the same protections.

use std::time::{SystemTime, UNIX_EPOCH};

use askama::Template;
use axum::Router;
use axum::extract::rejection::FormRejection;
use axum::extract::{DefaultBodyLimit, Form, Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;

use super::AppState;
use super::comments::same_origin;
use super::error::{AppError, blocking};
use super::limit::ClientIp;
use super::reader_form::{self, FieldMessage, Messages};
use super::respond::{Cache, html};
use crate::comments::personal_details;
use crate::comments::token::TokenError;
use crate::feedback::store::Sent;
use crate::feedback::{FeedbackText, NewAnswer, NewReport, ProblemKind, TEXT_MAX};
use crate::site::{Chrome, CommentPage, Site};
use crate::urls;

/// The largest feedback or report form a reader can send within the
/// rules: 1,000 characters in any script (4 UTF-8 bytes, each sent as
/// `%XX`) and the other fields. Anything bigger is refused unread (413).
pub(crate) const FEEDBACK_BODY_LIMIT: usize = TEXT_MAX * 4 * 3 + 1024;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(urls::FEEDBACK_FORM_ROUTES[0], get(feedback_form).post(post_feedback))
        .route(urls::FEEDBACK_FORM_ROUTES[1], get(feedback_form).post(post_feedback))
        .route(urls::REPORT_FORM_ROUTES[0], get(report_form).post(post_report))
        .route(urls::REPORT_FORM_ROUTES[1], get(report_form).post(post_report))
        .layer(DefaultBodyLimit::max(FEEDBACK_BODY_LIMIT))
}

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

/// What either form sends. Every field defaults to empty, so a missing
/// field is a message for the reader rather than a rejected request.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct FeedbackForm {
    /// `yes` or `no` (the feedback form); also what the article page's
    /// buttons send with GET.
    #[serde(default)]
    helpful: String,
    /// The kind of problem (the report form).
    #[serde(default)]
    kind: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    token: String,
    /// Set when the reader chose to send text that looked like personal details.
    #[serde(default)]
    confirm_personal: Option<String>,
}

/// Which of the two forms a page is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Which {
    Feedback,
    Report,
}

#[derive(Template)]
#[template(path = "feedback_form.html")]
struct FormTemplate<'a> {
    chrome: Chrome<'a>,
    page: &'a CommentPage,
    report: bool,
    action: String,
    token: String,
    /// "yes", "no" or "" (feedback); a [`ProblemKind`] code or "" (report).
    choice: &'a str,
    text: &'a str,
    messages: Messages,
    kinds: Vec<(&'static str, String)>,
    /// Stored: the page says thank you instead of showing the form.
    sent: bool,
    /// Sent before with this form: nothing more was stored.
    already: bool,
}

fn page_path(uri: &Uri) -> String {
    urls::page_of_feedback_form(uri.path()).unwrap_or(uri.path()).to_string()
}

fn action(which: Which, page: &CommentPage) -> String {
    match which {
        Which::Feedback => urls::feedback_form(&page.url),
        Which::Report => urls::report_form(&page.url),
    }
}

fn fresh_token(state: &AppState, which: Which, page: &CommentPage) -> Result<String, AppError> {
    // Signed for the form's own address, so a comment form's token (signed
    // for the page) is no good here, nor one form's for the other.
    state
        .secret
        .sign(&action(which, page), now())
        .map_err(|e| AppError::Internal(format!("cannot make a feedback form token: {e}")))
}

fn form_chrome<'a>(site: &'a Site, which: Which, page: &CommentPage) -> Chrome<'a> {
    let heading = match which {
        Which::Feedback => crate::site::FEEDBACK_HEADING,
        Which::Report => crate::site::REPORT_HEADING,
    };
    // share.js moves focus to the error summary when there is one.
    Chrome {
        script: true,
        ..Chrome::plain(&site.settings, &site.asset_urls, &format!("{heading}: {}", page.title), &action(which, page))
    }
}

fn template<'a>(
    site: &'a Site,
    which: Which,
    page: &'a CommentPage,
    token: String,
    form: &'a FeedbackForm,
) -> FormTemplate<'a> {
    let choice = match which {
        Which::Feedback if matches!(form.helpful.as_str(), "yes" | "no") => form.helpful.as_str(),
        Which::Report if ProblemKind::parse(&form.kind).is_some() => form.kind.as_str(),
        _ => "",
    };
    FormTemplate {
        chrome: form_chrome(site, which, page),
        page,
        report: which == Which::Report,
        action: action(which, page),
        token,
        choice,
        text: &form.text,
        messages: Messages::default(),
        kinds: ProblemKind::ALL.iter().map(|kind| (kind.code(), kind.to_string())).collect(),
        sent: false,
        already: false,
    }
}

/// Per visitor and holding a token: never cached (the page also asks not
/// to be indexed).
fn respond(status: StatusCode, template: &FormTemplate<'_>) -> Result<Response, AppError> {
    html(status, Cache::NoStore, template)
}

/// The reader's own feedback form, with the answer they chose on the
/// article page already ticked. Stores nothing.
pub async fn feedback_form(
    State(state): State<AppState>,
    uri: Uri,
    Query(chosen): Query<FeedbackForm>,
) -> Result<Response, AppError> {
    show_form(&state, Which::Feedback, &uri, &chosen)
}

pub async fn report_form(State(state): State<AppState>, uri: Uri) -> Result<Response, AppError> {
    show_form(&state, Which::Report, &uri, &FeedbackForm::default())
}

fn show_form(state: &AppState, which: Which, uri: &Uri, chosen: &FeedbackForm) -> Result<Response, AppError> {
    let site = state.site.load();
    let page = site.feedback_page(&page_path(uri)).ok_or(AppError::NotFound)?;
    let token = fresh_token(state, which, page)?;
    let blank = FeedbackForm { helpful: chosen.helpful.clone(), ..FeedbackForm::default() };
    respond(StatusCode::OK, &template(&site, which, page, token, &blank))
}

#[tracing::instrument(skip_all, fields(page = %uri.path()))]
pub async fn post_feedback(
    State(state): State<AppState>,
    client: ClientIp,
    headers: HeaderMap,
    uri: Uri,
    form: Result<Form<FeedbackForm>, FormRejection>,
) -> Result<Response, AppError> {
    post(state, Which::Feedback, client, headers, uri, form).await
}

#[tracing::instrument(skip_all, fields(page = %uri.path()))]
pub async fn post_report(
    State(state): State<AppState>,
    client: ClientIp,
    headers: HeaderMap,
    uri: Uri,
    form: Result<Form<FeedbackForm>, FormRejection>,
) -> Result<Response, AppError> {
    post(state, Which::Report, client, headers, uri, form).await
}

/// What a valid form stores.
enum Entry {
    Answer(NewAnswer),
    Report(NewReport),
}

/// Told to a reader whose feedback the database failed to store.
const NOT_SAVED: &str = "Sorry, a problem on our side stopped this from being saved. It is kept below: please send it again in a few minutes.";

async fn post(
    state: AppState,
    which: Which,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
    uri: Uri,
    form: Result<Form<FeedbackForm>, FormRejection>,
) -> Result<Response, AppError> {
    let site = state.site.load();
    if !same_origin(&headers, &site.settings.base_url) {
        return Err(AppError::CrossSite);
    }
    let page = site.feedback_page(&page_path(&uri)).ok_or(AppError::NotFound)?;
    let form = reader_form::read(form)?;
    let mut template = template(&site, which, page, form.token.clone(), &form);

    // A Yes or No answer can honestly be sent a second after its form
    // appears; a report needs typing, so one sent that fast is a bot,
    // dropped quietly below as comments are.
    let verified = match which {
        Which::Feedback => state.secret.verify_any_speed(&form.token, &template.action, now()),
        Which::Report => state.secret.verify(&form.token, &template.action, now()),
    };
    let problem = match verified {
        Err(TokenError::Expired) => Some(
            "This form was open for a long time, so it has expired. Nothing has been sent yet: please send it again.",
        ),
        Err(TokenError::Invalid) => {
            Some("This form could not be checked, so nothing has been sent yet. Please send it again from this page.")
        }
        Ok(_) | Err(TokenError::TooFast) => None,
    };
    if let Some(problem) = problem {
        template.token = fresh_token(&state, which, page)?;
        template.messages.notice = Some(problem.into());
        return respond(StatusCode::BAD_REQUEST, &template);
    }

    let (entry, text) = match validate(which, page, &form) {
        Ok(valid) => valid,
        Err(errors) => {
            template.messages.errors = errors;
            return respond(StatusCode::BAD_REQUEST, &template);
        }
    };
    let Ok(used) = verified else {
        tracing::info!("dropped a problem report sent too soon after the form was served");
        template.sent = true;
        return respond(StatusCode::OK, &template);
    };

    let found = text.as_deref().map(personal_details).unwrap_or_default();
    if !found.is_empty() && form.confirm_personal.is_none() {
        template.messages.personal = found;
        return respond(StatusCode::OK, &template);
    }

    // The slot is taken before storing, so posts arriving together cannot
    // all slip under the limit, and given back unless something is stored.
    let slot = match state.limits.feedback.reserve(client) {
        Ok(slot) => slot,
        Err(wait) => {
            template.messages.notice = Some(format!(
                "You have sent a lot of feedback in a short time. Please wait about {} minutes, then send this again. It is kept below.",
                reader_form::minutes(wait)
            ));
            return Ok(reader_form::over_limit(respond(StatusCode::OK, &template)?, wait));
        }
    };
    let entry = match entry {
        Entry::Answer(answer) => Entry::Answer(NewAnswer { flags: found, ..answer }),
        Entry::Report(report) => Entry::Report(NewReport { flags: found, ..report }),
    };
    let (nonce, expires_at) = (used.nonce.to_string(), used.expires_at);
    let store = state.feedback.clone();
    let stored = blocking(move || {
        let form = crate::comments::token::Nonce { nonce: &nonce, expires_at };
        match &entry {
            Entry::Answer(answer) => store.add_answer(answer, form, now()),
            Entry::Report(report) => store.add_report(report, form, now()),
        }
    })
    .await;
    match stored {
        Ok(Sent::Stored) => {
            // Not logged: a log line's exact time next to the stored row's
            // day would undo keeping the day only.
            slot.commit();
            template.sent = true;
            respond(StatusCode::OK, &template)
        }
        Ok(Sent::AlreadyUsed) => {
            tracing::info!(
                "a feedback form that was already used was sent again (a double click or a replay); nothing stored"
            );
            template.sent = true;
            template.already = true;
            respond(StatusCode::OK, &template)
        }
        Err(e) => {
            tracing::error!("storing reader feedback failed: {e}");
            template.messages.notice = Some(NOT_SAVED.into());
            respond(StatusCode::INTERNAL_SERVER_ERROR, &template)
        }
    }
}

/// The form's fields as something to store, and the text to check for
/// personal details; or what the reader must fix.
fn validate(
    which: Which,
    page: &CommentPage,
    form: &FeedbackForm,
) -> Result<(Entry, Option<String>), Vec<FieldMessage>> {
    let mut errors = Vec::new();
    match which {
        Which::Feedback => {
            let helpful = match form.helpful.as_str() {
                "yes" => Some(true),
                "no" => Some(false),
                _ => {
                    errors.push(FieldMessage::new("feedback-helpful", "Choose Yes or No"));
                    None
                }
            };
            let text = FeedbackText::parse_optional(&form.text).map_err(|e| {
                errors.push(FieldMessage::new("feedback-text", e.to_string()));
            });
            match (helpful, text) {
                (Some(helpful), Ok(text)) if errors.is_empty() => {
                    let typed = text.as_ref().map(|t| t.as_str().to_string());
                    Ok((Entry::Answer(NewAnswer { page: page.url.clone(), helpful, text, flags: Vec::new() }), typed))
                }
                _ => Err(errors),
            }
        }
        Which::Report => {
            let kind = ProblemKind::parse(&form.kind);
            if kind.is_none() {
                errors.push(FieldMessage::new("report-kind", "Choose what kind of problem it is"));
            }
            let details = FeedbackText::parse(&form.text).map_err(|e| {
                errors.push(FieldMessage::new("report-text", e.to_string()));
            });
            match (kind, details) {
                (Some(kind), Ok(details)) if errors.is_empty() => {
                    let typed = Some(details.as_str().to_string());
                    Ok((Entry::Report(NewReport { page: page.url.clone(), kind, details, flags: Vec::new() }), typed))
                }
                _ => Err(errors),
            }
        }
    }
}
