//! Article pages, static files, social cards, the sitemap, redirects to
//! canonical addresses, and the 404 page. Every body here was prepared when
//! the site was built; a request only picks the right bytes.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Redirect, Response};

use super::AppState;
use super::error::{AppError, blocking};
use super::respond::{Cache, send};
use crate::urls;

/// Any path that is not another route: a page, a variant of a page's
/// address, an old address, or not found.
pub async fn page(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Response, AppError> {
    if method != Method::GET && method != Method::HEAD {
        return Err(AppError::MethodNotAllowed);
    }
    let site = state.site.load();
    if state.config.dev
        && let Some(errors) = state.site.error()
    {
        return super::dev::error_page(&site, &errors);
    }
    let path = uri.path();
    let page = match site.page(path) {
        Some(page) => Some(page.clone()),
        // A printable page's first request: making it takes milliseconds,
        // so off the threads that answer other requests, like a card.
        None if site.has_page(path) => {
            let (making, wanted) = (site.clone(), path.to_string());
            blocking(move || {
                let page = making.prepare_page(&wanted).cloned();
                // Making it left several times the page's size free in the
                // heap: a client asking for every print page at once of a
                // 5,000-page site took `serve` from 246 MB to 612 MB
                // resident without this, 373 MB with it.
                crate::util::memory::release_free_memory();
                Ok::<_, AppError>(page)
            })
            .await?
        }
        None => None,
    };
    if let Some(page) = page {
        let response = send(&page, StatusCode::OK, &method, &headers, Cache::Page, &site);
        super::counting::page_served(&state, &site, path, &method, &headers, response.status());
        return Ok(response);
    }
    // An old address staff listed in `aliases` gets 301, the status every
    // link preview crawler and old browser follows; a spelling variant of a
    // current address gets 308.
    if let Some(canonical) = site.alias(path) {
        return Ok(moved(StatusCode::MOVED_PERMANENTLY, canonical, &uri));
    }
    if let Some(canonical) = site.canonical(path) {
        return Ok(moved(StatusCode::PERMANENT_REDIRECT, canonical, &uri));
    }
    Err(AppError::NotFound)
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
pub async fn asset(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
    Path(path): Path<String>,
) -> Result<Response, AppError> {
    let site = state.site.load();
    let path = format!("{}{path}", urls::STATIC);
    let file = site.assets.get(&path).ok_or(AppError::NotFound)?;
    let cache = if site.assets.is_fingerprinted(&path) { Cache::Immutable } else { Cache::Short };
    Ok(send(file, StatusCode::OK, &method, &headers, cache, &site))
}

/// Social card images: the URL stays the same across edits, so caches keep
/// them an hour and then revalidate.
pub async fn card(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
    Path(path): Path<String>,
) -> Result<Response, AppError> {
    let site = state.site.load();
    let path = format!("{}{path}", urls::CARDS);
    // Drawing a card takes a few milliseconds of CPU: keep it off the
    // threads that answer other requests.
    let drawing = site.clone();
    let png = blocking(move || drawing.card(&path).ok_or(AppError::NotFound)).await?;
    Ok(send(&png, StatusCode::OK, &method, &headers, Cache::Short, &site))
}

pub async fn sitemap(State(state): State<AppState>, method: Method, headers: HeaderMap) -> Response {
    let site = state.site.load();
    send(site.sitemap(), StatusCode::OK, &method, &headers, Cache::Short, &site)
}

pub async fn robots(State(state): State<AppState>, method: Method, headers: HeaderMap) -> Response {
    let site = state.site.load();
    send(site.robots(), StatusCode::OK, &method, &headers, Cache::Short, &site)
}

/// Liveness for load balancers and uptime checks: always 200 while the
/// server answers, since the site is still up whatever else is wrong. The
/// body is `ok`, or one line per kind of problem. It is public, so it names
/// no files, lines or contents: the log and the staff page have those.
pub async fn healthz(State(state): State<AppState>) -> impl IntoResponse {
    let problems: Vec<&str> = [
        state
            .site
            .error()
            .map(|_| "content error: the newest edit is not published; the last good version is being served"),
        state.comments.failure().map(|_| "storage error: the comments database is failing"),
        state.site.watcher_problem().map(|_| "watcher error: saved edits are not being picked up"),
    ]
    .into_iter()
    .flatten()
    .collect();
    let body = if problems.is_empty() { "ok\n".to_string() } else { format!("{}\n", problems.join("\n")) };
    ([(header::CACHE_CONTROL, "no-store"), (header::CONTENT_TYPE, "text/plain; charset=utf-8")], body)
}
