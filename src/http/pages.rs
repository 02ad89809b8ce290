//! Article pages, redirects to canonical addresses, and the 404 page.

use axum::extract::State;
use axum::http::{Method, Uri, header};
use axum::response::{IntoResponse, Redirect, Response};

use super::AppState;
use super::error::AppError;

/// Pages may be cached briefly by browsers and shared caches; staff edits
/// still show within five minutes.
const PAGE_CACHE: &str = "public, max-age=300";

/// Any path that is not another route: a page, a variant of a page's address,
/// or not found.
pub async fn page(State(state): State<AppState>, method: Method, uri: Uri) -> Response {
    if method != Method::GET && method != Method::HEAD {
        return AppError::MethodNotAllowed.into_response_with(&state);
    }
    let path = uri.path();
    if let Some(html) = state.site.page(path) {
        return ([(header::CONTENT_TYPE, "text/html; charset=utf-8"), (header::CACHE_CONTROL, PAGE_CACHE)], html.clone()).into_response();
    }
    if let Some(canonical) = state.site.canonical(path) {
        // Keep the query: it means nothing to us, but may to whoever shared
        // the link. The browser keeps the #fragment by itself.
        let target = match uri.query() {
            Some(query) => format!("{canonical}?{query}"),
            None => canonical.to_string(),
        };
        return Redirect::permanent(&target).into_response();
    }
    AppError::NotFound.into_response_with(&state)
}

/// The 404 page for paths under /static/ that hold no file.
pub async fn not_found(State(state): State<AppState>) -> Response {
    AppError::NotFound.into_response_with(&state)
}

/// Liveness for load balancers and uptime checks.
pub async fn healthz() -> impl IntoResponse {
    ([(header::CACHE_CONTROL, "no-store")], "ok\n")
}
