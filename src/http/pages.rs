//! Article pages, redirects to canonical addresses, and the 404 page.

use axum::extract::{Path, State};
use axum::http::{HeaderValue, Method, StatusCode, Uri, header};
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
    let site = state.site.load();
    if state.config.dev && let Some(errors) = state.site.error() {
        return super::dev::error_page(&site, &errors);
    }
    let path = uri.path();
    if let Some(html) = site.page(path) {
        return ([(header::CONTENT_TYPE, "text/html; charset=utf-8"), (header::CACHE_CONTROL, PAGE_CACHE)], html.clone()).into_response();
    }
    // An old address staff listed in `aliases` gets 301, the status every
    // link preview crawler and old browser follows; a spelling variant of a
    // current address gets 308.
    if let Some(canonical) = site.alias(path) {
        return moved(StatusCode::MOVED_PERMANENTLY, canonical, &uri);
    }
    if let Some(canonical) = site.canonical(path) {
        return moved(StatusCode::PERMANENT_REDIRECT, canonical, &uri);
    }
    AppError::NotFound.into_response_with(&state)
}

/// A redirect that keeps the query: it means nothing to us, but may to
/// whoever shared the link. The browser keeps the #fragment by itself.
fn moved(status: StatusCode, canonical: &str, uri: &Uri) -> Response {
    let target = match uri.query() {
        Some(query) => format!("{canonical}?{query}"),
        None => canonical.to_string(),
    };
    match HeaderValue::try_from(target) {
        Ok(location) => (status, [(header::LOCATION, location)]).into_response(),
        Err(_) => Redirect::permanent(canonical).into_response(),
    }
}

/// Social card images change only with the content, so caches may keep
/// them a day; the URL stays the same across edits.
pub async fn card(State(state): State<AppState>, Path(path): Path<String>) -> Response {
    let site = state.site.load();
    let path = format!("/og/{path}");
    // Drawing a card takes a few milliseconds of CPU: keep it off the
    // threads that answer other requests.
    let png = tokio::task::spawn_blocking(move || site.card(&path)).await.ok().flatten();
    match png {
        Some(png) => ([(header::CONTENT_TYPE, "image/png"), (header::CACHE_CONTROL, "public, max-age=86400")], png).into_response(),
        None => AppError::NotFound.into_response_with(&state),
    }
}

pub async fn sitemap(State(state): State<AppState>) -> Response {
    ([(header::CONTENT_TYPE, "application/xml; charset=utf-8"), (header::CACHE_CONTROL, PAGE_CACHE)], state.site.load().sitemap().clone()).into_response()
}

pub async fn robots(State(state): State<AppState>) -> Response {
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8"), (header::CACHE_CONTROL, PAGE_CACHE)], state.site.load().robots().clone()).into_response()
}

/// The 404 page for paths under /static/ that hold no file.
pub async fn not_found(State(state): State<AppState>) -> Response {
    AppError::NotFound.into_response_with(&state)
}

/// Liveness for load balancers and uptime checks: always 200 while the
/// server answers. A content error that kept the latest edit off the site is
/// reported in the body, since the site itself is still up.
pub async fn healthz(State(state): State<AppState>) -> impl IntoResponse {
    let body = match state.site.error() {
        None => "ok\n".to_string(),
        Some(errors) => format!(
            "ok\ncontent error: the latest edit was not published; the last good version is still being served\n\n{}",
            crate::check::format_text(&errors.0)
        ),
    };
    ([(header::CACHE_CONTROL, "no-store")], body)
}
