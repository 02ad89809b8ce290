//! Every way a request can fail, and the page a reader sees for each.
//!
//! A handler returns `Err(AppError)`. Its `IntoResponse` logs what must be
//! logged and answers with the bare status, carrying the error along; the
//! [`error_page`] layer then renders the friendly page with the current
//! site's look. So the page is made in one place for every route and
//! middleware, as in axum's error-handling example, and handlers need no
//! state to fail.

use std::time::Duration;

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::respond::{AcceptEncoding, Cache, html, send};
use crate::comments::store::StoreError;
use crate::site::Chrome;

#[derive(Debug, Clone, thiserror::Error)]
pub(crate) enum AppError {
    /// 404: no page at this address.
    #[error("no page at this address")]
    NotFound,
    /// 405: pages can only be read.
    #[error("this address can only be read, not sent to")]
    MethodNotAllowed,
    /// 400: the request could not be understood; the text says why.
    #[error("{0}")]
    BadRequest(String),
    /// 414: an address longer than any page's.
    #[error("the address is too long")]
    UriTooLong,
    /// 403: a form sent from another website.
    #[error("this form was sent from another website")]
    CrossSite,

    /// 413: more data than any form on the site sends.
    #[error("too much data was sent")]
    PayloadTooLarge,
    /// 413: a file larger than the staff form sending it takes.
    #[error("a file over {max_mb} MB was sent")]
    UploadTooLarge { max_mb: usize },
    /// 429: too many attempts; try again after the duration.
    #[error("too many attempts")]
    TooManyRequests(Duration),
    /// 503: the server is too busy for this now; try again after the
    /// duration.
    #[error("too busy")]
    Busy(Duration),
    /// 500: something failed on our side; logged, never shown in detail.
    #[error("{0}")]
    Internal(String),
}

/// The database's own reason (SQLite's words) is in the message, so it
/// reaches the log; the store has also noted the failure for `/healthz`.
impl From<StoreError> for AppError {
    fn from(error: StoreError) -> Self {
        AppError::Internal(error.to_string())
    }
}

/// A report that is not there is the asker's; a database failure is ours.
impl From<crate::feedback::store::FeedbackError> for AppError {
    fn from(error: crate::feedback::store::FeedbackError) -> Self {
        use crate::feedback::store::FeedbackError;
        match error {
            FeedbackError::NoSuchReport(_) => AppError::NotFound,
            FeedbackError::Database(_) => AppError::Internal(error.to_string()),
        }
    }
}

/// Why a staff change was refused is for the person who asked; a database
/// failure is ours, logged and not shown.
impl From<crate::auth::AuthError> for AppError {
    fn from(error: crate::auth::AuthError) -> Self {
        use crate::auth::AuthError;
        match error {
            AuthError::Database(_) | AuthError::Random(_) => AppError::Internal(error.to_string()),
            other => AppError::BadRequest(capitalised(&other.to_string())),
        }
    }
}

/// A workspace failure: the person's mistake (a page or revision that is
/// not there, a page too large) or ours (disk, database), logged.
impl From<crate::workspace::SaveError> for AppError {
    fn from(error: crate::workspace::SaveError) -> Self {
        use crate::workspace::SaveError;
        match error {
            SaveError::NotFound { .. } | SaveError::BadPath { .. } | SaveError::NoSuchRevision { .. } => {
                AppError::NotFound
            }
            SaveError::TooLarge { .. } => AppError::PayloadTooLarge,
            SaveError::Io { .. } | SaveError::Database(_) => AppError::Internal(error.to_string()),
            other => AppError::BadRequest(capitalised(&other.to_string())),
        }
    }
}

/// A structure change refused (for the person who asked) or failed (ours,
/// logged). Handlers show most refusals with their form instead.
impl From<crate::workspace::StructureError> for AppError {
    fn from(error: crate::workspace::StructureError) -> Self {
        use crate::workspace::StructureError;
        match error {
            StructureError::Save(error) => error.into(),
            StructureError::NoSuchArticle { .. } => AppError::NotFound,
            other => AppError::BadRequest(capitalised(&other.to_string())),
        }
    }
}

/// A password check turned away because too many are running waits a
/// few seconds: a check takes well under one.
impl From<crate::auth::password::NotChecked> for AppError {
    fn from(error: crate::auth::password::NotChecked) -> Self {
        match error {
            crate::auth::password::NotChecked::Busy => AppError::Busy(Duration::from_secs(5)),
            crate::auth::password::NotChecked::Failed(why) => AppError::Internal(why),
        }
    }
}

/// "this link..." as the start of a sentence: "This link...".
pub(crate) fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| first.to_uppercase().chain(chars).collect::<String>() + ".")
}

/// Blocking work that panicked (or was cancelled at shutdown).
impl From<tokio::task::JoinError> for AppError {
    fn from(error: tokio::task::JoinError) -> Self {
        AppError::Internal(format!("background work failed: {error}"))
    }
}

/// Runs blocking work (SQLite, Argon2, drawing cards) off the threads that
/// answer requests. Its error and a panic in it both become an `AppError`,
/// so callers use `?`.
pub async fn blocking<T, E>(work: impl FnOnce() -> Result<T, E> + Send + 'static) -> Result<T, AppError>
where
    T: Send + 'static,
    E: Send + 'static,
    AppError: From<E>,
{
    Ok(tokio::task::spawn_blocking(work).await??)
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorTemplate<'a> {
    chrome: Chrome<'a>,
    heading: &'static str,
    message: String,
}

impl AppError {
    pub(crate) fn status_code(&self) -> StatusCode {
        match self {
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::UriTooLong => StatusCode::URI_TOO_LONG,
            AppError::CrossSite => StatusCode::FORBIDDEN,
            AppError::PayloadTooLarge | AppError::UploadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            AppError::Busy(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The heading and explanation a reader sees.
    fn explain(&self) -> (&'static str, String) {
        match self {
            AppError::NotFound | AppError::MethodNotAllowed => ("Page not found", String::new()),
            AppError::BadRequest(why) => ("Sorry, something was wrong with that request", why.clone()),
            AppError::UriTooLong => ("Sorry, something was wrong with that request", "That web address is too long. Check it and try again.".into()),
            AppError::CrossSite => (
                "This form was sent from another website",
                "For your safety, comments can only be sent from this website's own form. Go back to the article and use the form there.".into(),
            ),
            AppError::PayloadTooLarge => (
                "That was too much to send",
                "Comments can be up to 2,000 characters. Please shorten your comment and try again.".into(),
            ),
            AppError::UploadTooLarge { max_mb } => (
                "That file is too large",
                format!("Files sent with this form can be up to {max_mb} MB. Choose a smaller file, or share the photo from your phone at a smaller size, then go back and try again."),
            ),
            AppError::TooManyRequests(wait) => (
                "Please wait a moment",
                format!("You have sent several in a short time. Please try again in about {} minutes.", wait.as_secs().div_ceil(60).max(1)),
            ),
            AppError::Busy(wait) => (
                "Please wait a moment",
                format!("Many people are using this at once. Please try again in {} seconds.", wait.as_secs().max(1)),
            ),
            AppError::Internal(_) => (
                "Sorry, there is a problem with the service",
                "Please try again later. Nothing you sent has been lost if you saw a thank-you message.".into(),
            ),
        }
    }
}

/// The status and the headers that belong to it, with the error carried
/// along for [`error_page`]. Logged here, in the failing request's span.
impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        if let AppError::Internal(detail) = &self {
            tracing::error!("{detail}");
        }
        let mut response = self.status_code().into_response();
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        match &self {
            AppError::MethodNotAllowed => {
                headers.insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
            }
            AppError::TooManyRequests(wait) | AppError::Busy(wait) => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(wait.as_secs().max(1)));
            }
            _ => {}
        }
        response.extensions_mut().insert(self);
        response
    }
}

/// Layer: gives an error's bare answer the friendly page, with the current
/// site's look. Headers set on the way out (`Allow`, `Retry-After`, the
/// staff area's) are kept; any other response passes untouched.
pub async fn error_page(
    State(state): State<AppState>,
    method: Method,
    accept: AcceptEncoding,
    mut response: Response,
) -> Response {
    let Some(error) = response.extensions_mut().remove::<AppError>() else { return response };
    let site = state.site.load();
    let status = response.status();
    let page = match error {
        // The 404 page is built with the site (it lists the articles), and
        // compressed with it: sent as the request asks, not compressed again.
        AppError::NotFound | AppError::MethodNotAllowed => {
            Ok(send(site.not_found(), status, &method, &accept.headers(), Cache::NoStore, &site))
        }
        other => {
            let (heading, message) = other.explain();
            html(
                status,
                Cache::NoStore,
                &ErrorTemplate {
                    chrome: Chrome::plain(&site.settings, &site.asset_urls, heading, "/"),
                    heading,
                    message,
                },
            )
        }
    };
    match page {
        Ok(page) => {
            let (mut parts, _) = response.into_parts();
            let (page, body) = page.into_parts();
            parts.headers.extend(page.headers);
            Response::from_parts(parts, body)
        }
        // The bare status still says what happened.
        Err(e) => {
            tracing::error!("the error page could not be shown: {e}");
            response
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_answers_its_status_and_carries_itself_to_the_page_layer() {
        let response = AppError::TooManyRequests(Duration::from_secs(90)).into_response();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()[header::RETRY_AFTER], "90");
        assert_eq!(response.headers()[header::CACHE_CONTROL], "no-store");
        assert!(matches!(response.extensions().get::<AppError>(), Some(AppError::TooManyRequests(_))));
        assert_eq!(AppError::MethodNotAllowed.into_response().headers()[header::ALLOW], "GET, HEAD");
    }

    #[tokio::test]
    async fn a_panic_or_a_store_failure_in_blocking_work_is_a_500_with_its_reason() {
        let panicked = blocking(|| -> Result<(), AppError> { panic!("drawing went wrong") }).await.unwrap_err();
        assert_eq!(panicked.status_code(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(panicked.to_string().contains("drawing went wrong"), "{panicked}");
        let failed = blocking(|| {
            Err::<(), _>(StoreError::Database(rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(10),
                Some("disk I/O error".into()),
            )))
        })
        .await
        .unwrap_err();
        assert_eq!(failed.status_code(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(failed.to_string(), "the comments database failed: disk I/O error");
    }
}
