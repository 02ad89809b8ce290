//! Reading and posting comments.
//!
//! Article pages are built once per content version and cached, so nothing
//! on them may differ between visitors. The form that needs a fresh signed
//! token per visitor lives on its own page (`<page>comment/`), rendered per
//! request and never cached; the article page only links to it and lists
//! approved comments. After a post the reader is sent back to the article
//! (post/redirect/get) at `#comment-received`, a thank-you note the page
//! always contains and shows only when it is the link's target.

use std::time::{SystemTime, UNIX_EPOCH};

use askama::Template;
use axum::Router;
use axum::extract::rejection::FormRejection;
use axum::extract::{DefaultBodyLimit, Form, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;

use super::AppState;
use super::error::{AppError, blocking};
use super::limit::ClientIp;
use super::reader_form::{self, FieldMessage, Messages};
use super::respond::{Cache, html};
use crate::comments::store::Inserted;
use crate::comments::token::{Nonce, TokenError};
use crate::comments::{CommentText, DisplayName, InputError, NAME_MAX, NewComment, TEXT_MAX, personal_details};
use crate::site::{Chrome, CommentPage, Site};
use crate::urls;

/// No other form on the site sends more; anything bigger is refused
/// unread. The comment form has its own, larger limit.
pub(crate) const BODY_LIMIT: usize = 16 * 1024;

/// The most a browser sends for one character of a form field: 4 UTF-8
/// bytes (emoji, rarer CJK), each written as `%XX`. A line break counts as
/// one character but is sent as `%0D%0A`, which fits too.
const MAX_SENT_BYTES_PER_CHAR: usize = 4 * 3;

/// Field names, the token, the tick boxes and the buttons.
const FORM_OVERHEAD: usize = 1024;

/// The largest comment form a reader can send within the rules: a
/// 2,000-character comment and a 60-character name in any script. More
/// than this is not a reader, so it is refused unread (413).
pub(crate) const COMMENT_BODY_LIMIT: usize = (TEXT_MAX + NAME_MAX) * MAX_SENT_BYTES_PER_CHAR + FORM_OVERHEAD;

pub fn router() -> Router<AppState> {
    // The route's own limit wins over the site-wide one set in `router`:
    // the layer nearest the handler sets it last.
    Router::new()
        .route(urls::COMMENT_FORM_ROUTES[0], get(comment_form).post(post_comment))
        .route(urls::COMMENT_FORM_ROUTES[1], get(comment_form).post(post_comment))
        .layer(DefaultBodyLimit::max(COMMENT_BODY_LIMIT))
}

/// What the form sends. Every field defaults to empty, so a missing field
/// is a validation message rather than a rejected request.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct CommentForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    comment: String,
    #[serde(default)]
    consent: Option<String>,
    /// Hidden from people; bots fill it in.
    #[serde(default)]
    website: String,
    #[serde(default)]
    token: String,
    /// Set when the writer chose to post text that looked like personal details.
    #[serde(default)]
    confirm_personal: Option<String>,
}

#[derive(Template)]
#[template(path = "comment_form.html")]
struct FormTemplate<'a> {
    chrome: Chrome<'a>,
    page: &'a CommentPage,
    token: String,
    name: &'a str,
    comment: &'a str,
    consent: bool,
    messages: Messages,
    name_max: usize,
}

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

/// `/dry-needling/migraines/comment/` -> `/dry-needling/migraines/`.
fn page_path(uri: &Uri) -> String {
    urls::page_of_comment_form(uri.path()).unwrap_or(uri.path()).to_string()
}

/// Per visitor and holding a token: never cached (the template also asks
/// not to be indexed).
fn form_response(status: StatusCode, template: &FormTemplate<'_>) -> Result<Response, AppError> {
    html(status, Cache::NoStore, template)
}

/// Told to a reader whose comment the database failed to store: the form
/// comes back with their text, so nothing they typed is lost.
const NOT_SAVED: &str = "Sorry, a problem on our side stopped your comment from being saved. It is kept below: please send it again in a few minutes, or copy it to keep it.";

pub async fn comment_form(State(state): State<AppState>, uri: Uri) -> Result<Response, AppError> {
    let site = state.site.load();
    let path = page_path(&uri);
    let page = site.comment_page(&path).ok_or(AppError::NotFound)?;
    let token = fresh_token(&state, page)?;
    let template = FormTemplate {
        chrome: form_chrome(&site, page),
        page,
        token,
        name: "",
        comment: "",
        consent: false,
        messages: Messages::default(),
        name_max: NAME_MAX,
    };
    form_response(StatusCode::OK, &template)
}

fn fresh_token(state: &AppState, page: &CommentPage) -> Result<String, AppError> {
    state
        .secret
        .sign(&page.url, now())
        .map_err(|e| AppError::Internal(format!("cannot make a comment form token: {e}")))
}

fn form_chrome<'a>(site: &'a Site, page: &CommentPage) -> Chrome<'a> {
    // share.js moves focus to the error summary when there is one.
    Chrome {
        script: true,
        ..Chrome::plain(
            &site.settings,
            &site.asset_urls,
            &format!("Share your experience: {}", page.title),
            &urls::comment_form(&page.url),
        )
    }
}

#[tracing::instrument(skip_all, fields(page = %uri.path()))]
pub async fn post_comment(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
    uri: Uri,
    form: Result<Form<CommentForm>, FormRejection>,
) -> Result<Response, AppError> {
    if !same_origin(&headers, &state.site.load().settings.base_url) {
        return Err(AppError::CrossSite);
    }
    let site = state.site.load();
    let path = page_path(&uri);
    let page = site.comment_page(&path).ok_or(AppError::NotFound)?;
    let form = reader_form::read(form)?;
    let thanks = || Ok(Redirect::to(&format!("{}#comment-received", page.url)).into_response());

    // Bots get the same answer as people, so they learn nothing.
    if !form.website.is_empty() {
        tracing::info!("dropped a comment that filled in the hidden field");
        return thanks();
    }
    // The form shown again keeps the token it was sent with, so its clock
    // still runs from when the reader first opened it: a fresh token would
    // make a quick "post it as it is" look like a bot.
    let mut template = FormTemplate {
        chrome: form_chrome(&site, page),
        page,
        token: form.token.clone(),
        name: &form.name,
        comment: &form.comment,
        consent: form.consent.is_some(),
        messages: Messages::default(),
        name_max: NAME_MAX,
    };
    // A post sooner than a person could type is a bot; it is dropped
    // quietly, but only after the checks a hasty person would also fail,
    // so someone who sends an empty form at once still sees what to fix.
    let verified = state.secret.verify(&form.token, &page.url, now());
    let problem = match verified {
        Err(TokenError::Expired) => Some(
            "This form was open for a long time, so it has expired. Your comment has not been sent yet: check it and send it again.",
        ),
        Err(TokenError::Invalid) => Some(
            "This form could not be checked, so your comment has not been sent yet. Please send it again from this page.",
        ),
        Ok(_) | Err(TokenError::TooFast) => None,
    };
    if let Some(problem) = problem {
        template.token = fresh_token(&state, page)?;
        template.messages.notice = Some(problem.into());
        return form_response(StatusCode::BAD_REQUEST, &template);
    }

    let name = DisplayName::parse(&form.name);
    let text = CommentText::parse(&form.comment);
    let mut errors: Vec<InputError> =
        [text.as_ref().err(), name.as_ref().err()].into_iter().flatten().cloned().collect();
    if form.consent.is_none() {
        errors.push(InputError::ConsentMissing);
    }
    let (Ok(name), Ok(text), true) = (name, text, errors.is_empty()) else {
        template.messages.errors = errors.iter().map(|e| FieldMessage::new(e.field(), e.to_string())).collect();
        return form_response(StatusCode::BAD_REQUEST, &template);
    };

    let Ok(used) = verified else {
        tracing::info!("dropped a comment sent too soon after the form was served");
        return thanks();
    };

    let found = personal_details(text.as_str());
    let confirmed = form.confirm_personal.is_some();
    if !found.is_empty() && !confirmed {
        template.messages.personal = found;
        return form_response(StatusCode::OK, &template);
    }

    // Only stored comments use up the allowance: the slot is taken now, so
    // posts arriving together cannot all slip under the limit, and given
    // back below unless the comment is stored. Over the limit, the reader
    // keeps their text and is told when to send it.
    let slot = match state.limits.comments.reserve(client) {
        Ok(slot) => slot,
        Err(wait) => {
            template.messages.notice = Some(format!(
                "You have sent several comments in a short time. Please wait about {} minutes, then send this one again. It is kept below.",
                reader_form::minutes(wait)
            ));
            return Ok(reader_form::over_limit(form_response(StatusCode::OK, &template)?, wait));
        }
    };

    let comment = NewComment { page: page.url.clone(), name, text, flags: found };
    let (nonce, expires_at) = (used.nonce.to_string(), used.expires_at);
    let store = state.comments.clone();
    let stored = blocking(move || store.insert_once(&comment, Nonce { nonce: &nonce, expires_at }, now())).await;
    match stored {
        Ok(Inserted::New(id)) => {
            slot.commit();
            tracing::info!(id, "comment received for moderation");
            thanks()
        }
        Ok(Inserted::AlreadyUsed { same: true }) => {
            tracing::info!(
                "a form that already stored a comment was sent again with the same text (a double click or a replay); nothing stored"
            );
            thanks()
        }
        Ok(Inserted::AlreadyUsed { same: false }) => {
            // Most likely the reader went back after posting and wrote
            // something else: keep it, and give them a form to send it with.
            tracing::info!(
                "a form that already stored a comment was sent again with other text; nothing stored, form shown again"
            );
            template.token = fresh_token(&state, page)?;
            template.messages.notice = Some("This form has already been used to send a comment. This comment has not been sent yet: check it and send it again.".into());
            form_response(StatusCode::BAD_REQUEST, &template)
        }
        // Nothing was stored, so the form's token is still unused and the
        // reader can send the same form again once the database recovers.
        Err(e) => {
            tracing::error!("storing a comment failed: {e}");
            template.messages.notice = Some(NOT_SAVED.into());
            form_response(StatusCode::INTERNAL_SERVER_ERROR, &template)
        }
    }
}

/// Whether a form post came from this site. Browsers say where a request
/// came from in `Sec-Fetch-Site` (current ones) or `Origin`; a request with
/// neither is from a tool, not a page on another site, and still needs a
/// valid token.
pub(crate) fn same_origin(headers: &HeaderMap, base_url: &str) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return matches!(site, "same-origin" | "none");
    }
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else { return true };
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("");
    origin == base_url
        || (!host.is_empty() && (origin == format!("http://{host}") || origin == format!("https://{host}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, axum::http::HeaderValue::from_static(v));
        }
        map
    }

    #[test]
    fn posts_from_other_sites_are_told_apart() {
        let base = "https://clinic.test";
        assert!(same_origin(&headers(&[("sec-fetch-site", "same-origin")]), base));
        assert!(!same_origin(&headers(&[("sec-fetch-site", "cross-site")]), base));
        assert!(!same_origin(&headers(&[("sec-fetch-site", "same-site")]), base));
        assert!(same_origin(&headers(&[("origin", "https://clinic.test")]), base));
        assert!(same_origin(&headers(&[("origin", "http://127.0.0.1:3000"), ("host", "127.0.0.1:3000")]), base));
        assert!(!same_origin(&headers(&[("origin", "https://evil.example"), ("host", "clinic.test")]), base));
        assert!(!same_origin(&headers(&[("origin", "null")]), base));
        assert!(same_origin(&headers(&[]), base));
    }
}
