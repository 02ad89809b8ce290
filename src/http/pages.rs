//! Article pages, static files, social cards, the sitemap, redirects to
//! canonical addresses, and the 404 page. Every body here was prepared when
//! the site was built; a request only picks the right bytes.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Redirect, Response};

use super::AppState;
use super::error::AppError;
use super::respond::{Cache, send};
use crate::urls;

/// Any path that is not another route: a page, a variant of a page's
/// address, an old address, or not found.
pub async fn page(State(state): State<AppState>, method: Method, headers: HeaderMap, uri: Uri) -> Response {
    if method != Method::GET && method != Method::HEAD {
        return AppError::MethodNotAllowed.into_response_with(&state);
    }
    let site = state.site.load();
    if state.config.dev && let Some(errors) = state.site.error() {
        return super::dev::error_page(&site, &errors);
    }
    let path = uri.path();
    if let Some(page) = site.page(path) {
        return send(page, StatusCode::OK, &method, &headers, Cache::Page, site.built_at);
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

/// Files from `static/`, from memory: a path can only name a file that was
/// read from the folder at start-up, so nothing outside it is reachable.
pub async fn asset(State(state): State<AppState>, method: Method, headers: HeaderMap, Path(path): Path<String>) -> Response {
    let site = state.site.load();
    let path = format!("{}{path}", urls::STATIC);
    match site.assets.get(&path) {
        Some(file) => {
            let cache = if site.assets.is_fingerprinted(&path) { Cache::Immutable } else { Cache::Short };
            send(file, StatusCode::OK, &method, &headers, cache, site.built_at)
        }
        None => AppError::NotFound.into_response_with(&state),
    }
}

/// Social card images: the URL stays the same across edits, so caches keep
/// them an hour and then revalidate.
pub async fn card(State(state): State<AppState>, method: Method, headers: HeaderMap, Path(path): Path<String>) -> Response {
    let site = state.site.load();
    let path = format!("{}{path}", urls::CARDS);
    // Drawing a card takes a few milliseconds of CPU: keep it off the
    // threads that answer other requests.
    let drawing = site.clone();
    let png = tokio::task::spawn_blocking(move || drawing.card(&path)).await.ok().flatten();
    match png {
        Some(png) => send(&png, StatusCode::OK, &method, &headers, Cache::Short, site.built_at),
        None => AppError::NotFound.into_response_with(&state),
    }
}

pub async fn sitemap(State(state): State<AppState>, method: Method, headers: HeaderMap) -> Response {
    let site = state.site.load();
    send(site.sitemap(), StatusCode::OK, &method, &headers, Cache::Short, site.built_at)
}

pub async fn robots(State(state): State<AppState>, method: Method, headers: HeaderMap) -> Response {
    let site = state.site.load();
    send(site.robots(), StatusCode::OK, &method, &headers, Cache::Short, site.built_at)
}

/// Liveness for load balancers and uptime checks: always 200 while the
/// server answers. A content error that kept the latest edit off the site is
/// reported in the body, since the site itself is still up.
pub async fn healthz(State(state): State<AppState>) -> impl IntoResponse {
    let body = match state.site.error() {
        None => "ok\n".to_string(),
        Some(errors) => format!(
            "ok\ncontent error: the latest edit was not published; the last good version is still being served\n\n{}",
            crate::content::format_text(&errors.0)
        ),
    };
    ([(header::CACHE_CONTROL, "no-store"), (header::CONTENT_TYPE, "text/plain; charset=utf-8")], body)
}
