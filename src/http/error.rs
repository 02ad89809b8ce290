//! Every way a request can fail, and the page a reader sees for each.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::AppState;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// 404: no page at this address.
    #[error("no page at this address")]
    NotFound,
    /// 405: pages can only be read.
    #[error("this address can only be read, not sent to")]
    MethodNotAllowed,
}

impl AppError {
    pub fn status_code(&self) -> StatusCode {
        match self {
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
        }
    }

    /// The friendly page for this error, from the current site's templates.
    pub fn into_response_with(self, state: &AppState) -> Response {
        let mut response = (self.status_code(), [(header::CONTENT_TYPE, "text/html; charset=utf-8")], state.site.load().not_found().clone()).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if let AppError::MethodNotAllowed = self {
            headers.insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        }
        response
    }
}
