//! Every way a request can fail, and the page a reader sees for each.

use std::time::Duration;

use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::AppState;
use crate::site::Chrome;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// 404: no page at this address.
    #[error("no page at this address")]
    NotFound,
    /// 405: pages can only be read.
    #[error("this address can only be read, not sent to")]
    MethodNotAllowed,
    /// 400: the request could not be understood; the text says why.
    #[error("{0}")]
    BadRequest(String),
    /// 401: staff pages need signing in.
    #[error("sign in to see this page")]
    Unauthorized,
    /// 403: a form sent from another website.
    #[error("this form was sent from another website")]
    CrossSite,
    /// 413: more data than any form on the site sends.
    #[error("too much data was sent")]
    PayloadTooLarge,
    /// 429: too many attempts; try again after the duration.
    #[error("too many attempts")]
    TooManyRequests(Duration),
    /// 500: something failed on our side; logged, never shown in detail.
    #[error("internal error: {0}")]
    Internal(String),
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorTemplate<'a> {
    chrome: Chrome<'a>,
    heading: &'static str,
    message: String,
}

impl AppError {
    pub fn status_code(&self) -> StatusCode {
        match self {
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Unauthorized => StatusCode::UNAUTHORIZED,
            AppError::CrossSite => StatusCode::FORBIDDEN,
            AppError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The heading and explanation a reader sees.
    fn explain(&self) -> (&'static str, String) {
        match self {
            AppError::NotFound | AppError::MethodNotAllowed => ("Page not found", String::new()),
            AppError::BadRequest(why) => ("Sorry, something was wrong with that request", why.clone()),
            AppError::Unauthorized => ("Please sign in", "This page is for clinic staff. Sign in at /admin/login to continue.".into()),
            AppError::CrossSite => (
                "This form was sent from another website",
                "For your safety, comments can only be sent from this website's own form. Go back to the article and use the form there.".into(),
            ),
            AppError::PayloadTooLarge => (
                "That was too much to send",
                "Comments can be up to 2,000 characters. Please shorten your comment and try again.".into(),
            ),
            AppError::TooManyRequests(wait) => (
                "Please wait a moment",
                format!("You have sent several in a short time. Please try again in about {} minutes.", wait.as_secs().div_ceil(60).max(1)),
            ),
            AppError::Internal(_) => (
                "Sorry, there is a problem with the service",
                "Please try again later. Nothing you sent has been lost if you saw a thank-you message.".into(),
            ),
        }
    }

    /// The friendly page for this error, with the current site's look.
    pub fn into_response_with(self, state: &AppState) -> Response {
        let site = state.site.load();
        let status = self.status_code();
        let body = match self {
            // The 404 page is built with the site: it lists the articles.
            AppError::NotFound | AppError::MethodNotAllowed => {
                let mut response = super::respond::send(site.not_found(), status, &axum::http::Method::GET, &axum::http::HeaderMap::new(), super::respond::Cache::NoStore, site.built_at);
                if let AppError::MethodNotAllowed = self {
                    response.headers_mut().insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
                }
                return response;
            }
            ref other => {
                if let AppError::Internal(detail) = other {
                    tracing::error!("{detail}");
                }
                let (heading, message) = other.explain();
                let template = ErrorTemplate { chrome: Chrome::plain(&site.settings, &site.asset_urls, heading, "/"), heading, message };
                template.render().expect("the error page renders from plain data").into_bytes()
            }
        };
        let mut response = (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if let AppError::TooManyRequests(wait) = self {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(wait.as_secs().max(1)));
        }
        response
    }
}
