//! Counting readings as they are served, and the share controls' beacon.
//! What counts and what is kept is decided in [`crate::figures`]; this is
//! where requests are looked at, once, and forgotten.

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::AppState;
use super::error::AppError;
use crate::figures::{Channel, Kind, day_of, host_of, is_browser, is_prefetch, referrer_host};
use crate::urls;

/// The beacon's form is two short fields; anything longer is not ours.
pub(super) const BEACON_LIMIT: usize = 512;

/// Counts a page served: only a whole `200` to a `GET` from a browser
/// reading (not a prefetch), never a `HEAD`, a `304` or an error. Called
/// with the response already built, so a count never changes what is sent.
pub(super) fn page_served(state: &AppState, path: &str, method: &Method, headers: &HeaderMap, status: StatusCode) {
    let Some(counter) = &state.figures.counter else { return };
    if method != Method::GET || status != StatusCode::OK || !is_reader(headers) {
        return;
    }
    let kind = if path.ends_with(urls::PRINT) { Kind::Print } else { Kind::View };
    let referrer = headers.get(header::REFERER).and_then(|v| v.to_str().ok()).and_then(|referer| {
        let base = state.site.load();
        let own = host_of(&base.settings.base_url);
        let asked = headers.get(header::HOST).and_then(|v| v.to_str().ok()).map_or("", host_of);
        referrer_host(referer, &[own, asked])
    });
    counter.count(day_of(super::admin::now()), path, kind, referrer.as_deref());
}

/// A browser with a person at it, not fetching ahead.
fn is_reader(headers: &HeaderMap) -> bool {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    is_browser(text("user-agent").unwrap_or("")) && !is_prefetch(text("sec-purpose"), text("purpose"), text("x-moz"))
}

#[derive(Deserialize)]
struct Beacon {
    page: String,
    channel: String,
}

/// `POST /share-beacon` from `share.js`: a share control was used on a
/// page. Only from our own pages (another site's page could otherwise
/// inflate the figures); an unknown page or channel is ignored, and the
/// answer is the same empty 204 whatever happened, so it tells nothing.
pub(super) async fn share_beacon(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, AppError> {
    if !from_our_pages(&headers, &state.site.load().settings.base_url) {
        return Err(AppError::CrossSite);
    }
    if let Some(counter) = &state.figures.counter
        && is_reader(&headers)
        && let Ok(beacon) = serde_urlencoded::from_bytes::<Beacon>(&body)
        && let Some(channel) = Channel::parse(&beacon.channel)
        && state.site.load().page(&beacon.page).is_some()
    {
        counter.count(day_of(super::admin::now()), &beacon.page, Kind::Share(channel), None);
    }
    Ok((StatusCode::NO_CONTENT, [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))]).into_response())
}

/// Stricter than the forms' check: a beacon must say where it comes from
/// (browsers send `Sec-Fetch-Site` or `Origin` with every `sendBeacon`),
/// and it must be this site.
fn from_our_pages(headers: &HeaderMap, base_url: &str) -> bool {
    match headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        Some(site) => site == "same-origin",
        None => headers.contains_key(header::ORIGIN) && super::comments::same_origin(headers, base_url),
    }
}

/// How often counts are written to the database: at most this much is
/// lost if the server is killed (the privacy notice says so).
pub const FLUSH_EVERY: Duration = Duration::from_secs(60);

/// Writes the counts made since the last write. A failed write keeps them
/// in memory for the next try.
pub async fn flush_figures(state: &AppState) {
    let Some(counter) = &state.figures.counter else { return };
    let tally = counter.take();
    if tally.is_empty() {
        return;
    }
    let figures = state.figures.clone();
    match tokio::task::spawn_blocking(move || figures.store.add(&tally).map_err(|e| (e, tally))).await {
        Ok(Ok(())) => {}
        Ok(Err((e, tally))) => {
            tracing::warn!("cannot save the reading figures, keeping them for the next try: {e}");
            counter.put_back(tally);
        }
        Err(e) => tracing::error!("saving the reading figures failed: {e}"),
    }
}

pub(super) async fn flush_regularly(state: AppState) {
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + FLUSH_EVERY, FLUSH_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        flush_figures(&state).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs.iter().map(|(k, v)| (axum::http::HeaderName::from_static(k), HeaderValue::from_static(v))).collect()
    }

    #[test]
    fn beacons_must_come_from_our_own_pages() {
        let base = "https://clinic.test";
        assert!(from_our_pages(&headers(&[("sec-fetch-site", "same-origin")]), base));
        assert!(!from_our_pages(&headers(&[("sec-fetch-site", "cross-site")]), base));
        assert!(!from_our_pages(&headers(&[("sec-fetch-site", "none")]), base));
        assert!(from_our_pages(&headers(&[("origin", "https://clinic.test")]), base));
        assert!(!from_our_pages(&headers(&[("origin", "https://evil.example"), ("host", "clinic.test")]), base));
        assert!(!from_our_pages(&headers(&[]), base));
    }

    #[test]
    fn readers_are_browsers_not_fetching_ahead() {
        let firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
        assert!(is_reader(&headers(&[("user-agent", firefox)])));
        assert!(!is_reader(&headers(&[("user-agent", firefox), ("sec-purpose", "prefetch")])));
        assert!(!is_reader(&headers(&[("user-agent", firefox), ("purpose", "prefetch")])));
        assert!(!is_reader(&headers(&[("user-agent", "Googlebot/2.1")])));
        assert!(!is_reader(&headers(&[])));
    }
}
