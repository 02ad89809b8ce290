//! Counting readings as they are served, and the share controls' beacon.
//! What counts and what is kept is decided in [`crate::figures`]; this is
//! where requests are looked at, once, and forgotten.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::AppState;
use super::error::AppError;
use crate::figures::{Channel, Kind, day_of, host_of, is_browser, is_prefetch, referrer_host};
use crate::site::Site;
use crate::urls;

/// The beacon's form is two short fields; anything longer is not ours.
pub(super) const BEACON_LIMIT: usize = 512;

/// Counts a page served: only a whole `200` to a `GET` from a browser
/// reading (not a prefetch), never a `HEAD`, a `304` or an error. Called
/// with the response already built, so a count never changes what is sent,
/// and with the snapshot the page came from, so it is not loaded twice.
/// This runs for every page served (see `benches/counting.rs`): it reads no
/// clock and allocates only when its thread first counts a page or a
/// referring host in a minute.
pub(super) fn page_served(
    state: &AppState,
    site: &Site,
    path: &str,
    method: &Method,
    headers: &HeaderMap,
    status: StatusCode,
) {
    let Some(counter) = &state.figures.counter else { return };
    if method != Method::GET || status != StatusCode::OK || !is_reader(headers) {
        return;
    }
    let kind = if path.ends_with(urls::PRINT) { Kind::Print } else { Kind::View };
    let referrer = headers.get(header::REFERER).and_then(|v| v.to_str().ok()).and_then(|referer| {
        let own = host_of(&site.settings.base_url);
        let host = referrer_host(referer, &[own])?;
        // The address the reader asked for counts as ours too; only looked
        // at when the referrer is another host than the site's own.
        let asked = headers.get(header::HOST).and_then(|v| v.to_str().ok()).map_or("", host_of);
        (!asked.eq_ignore_ascii_case(&host)).then_some(host)
    });
    counter.count(counter.day(), path, kind, referrer.as_deref());
}

/// The headers that mark a prefetch, named once: naming them by `&str`
/// checks and hashes the name again on every lookup.
const SEC_PURPOSE: HeaderName = HeaderName::from_static("sec-purpose");
const PURPOSE: HeaderName = HeaderName::from_static("purpose");
const X_MOZ: HeaderName = HeaderName::from_static("x-moz");

/// A browser with a person at it, not fetching ahead.
fn is_reader(headers: &HeaderMap) -> bool {
    let text = |name: &HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
    is_browser(text(&header::USER_AGENT).unwrap_or(""))
        && !is_prefetch(text(&SEC_PURPOSE), text(&PURPOSE), text(&X_MOZ))
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
        && state.site.load().has_page(&beacon.page)
    {
        counter.count(counter.day(), &beacon.page, Kind::Share(channel), None);
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
    // Also how a clock set back or forward reaches the counts.
    counter.check_day();
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

/// Writes the counts every minute, and moves counting on to the next day
/// as it begins (pages served read the day from memory, not the clock).
pub(super) async fn flush_regularly(state: AppState) {
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + FLUSH_EVERY, FLUSH_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => flush_figures(&state).await,
            // Timers wake at or after the time asked, never before; if the
            // clock disagrees, the day is checked again right after.
            _ = tokio::time::sleep(until_tomorrow(since_1970())) => {
                if let Some(counter) = &state.figures.counter {
                    counter.check_day();
                }
            }
        }
    }
}

fn since_1970() -> Duration {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default()
}

/// From `now` (since 1970) to the start of the next UTC day.
fn until_tomorrow(now: Duration) -> Duration {
    let tomorrow = (day_of(now.as_secs() as i64) + 1) as u64 * 86_400;
    Duration::from_secs(tomorrow).saturating_sub(now)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs.iter().map(|(k, v)| (axum::http::HeaderName::from_static(k), HeaderValue::from_static(v))).collect()
    }

    #[test]
    fn the_day_turns_at_utc_midnight() {
        assert_eq!(until_tomorrow(Duration::ZERO), Duration::from_secs(86_400));
        assert_eq!(until_tomorrow(Duration::from_millis(86_399_750)), Duration::from_millis(250));
        assert_eq!(until_tomorrow(Duration::from_secs(86_400)), Duration::from_secs(86_400));
        let just_after = Duration::from_secs(20_000 * 86_400) + Duration::from_nanos(1);
        assert_eq!(until_tomorrow(just_after), Duration::from_secs(86_400) - Duration::from_nanos(1));
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
