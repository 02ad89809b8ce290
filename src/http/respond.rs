//! Sending a prepared body: content negotiation, conditional requests and
//! caching headers, all decided per request from bytes made once. And the
//! few pages rendered per request, with their cache policy.

use std::time::SystemTime;

use askama::Template;
use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::error::AppError;
use crate::asset::Prepared;
use crate::util::date::{httpdate, parse_httpdate, whole_seconds};

/// How long others may keep a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cache {
    /// Article pages: five minutes fresh in browsers and CDNs, then served
    /// stale for up to a day while the cache checks for a newer version
    /// (an `ETag` makes that check a cheap 304). Edits show within minutes
    /// and a slow origin never leaves a reader waiting.
    Page,
    /// Files whose name holds a hash of their content: never change.
    Immutable,
    /// Files under plain names and images: an hour, then revalidate.
    Short,
    /// Per visitor, or private: never stored.
    NoStore,
}

impl Cache {
    fn header(self) -> &'static str {
        match self {
            Cache::Page => "public, max-age=300, stale-while-revalidate=86400",
            Cache::Immutable => "public, max-age=31536000, immutable",
            Cache::Short => "public, max-age=3600",
            Cache::NoStore => "no-store",
        }
    }
}

/// A page rendered for this request (the comment form, staff pages, error
/// pages) as HTML with its cache policy: what differs per visitor is
/// `Cache::NoStore`.
pub fn html(status: StatusCode, cache: Cache, template: &impl Template) -> Result<Response, AppError> {
    let body = template.render().map_err(|e| AppError::Internal(format!("a page could not be rendered: {e}")))?;
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache.header()));
    Ok(response)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Brotli,
    Gzip,
    Identity,
}

/// Builds the response for `prepared` as this request asks for it.
pub fn send(
    prepared: &Prepared,
    status: StatusCode,
    method: &Method,
    request: &HeaderMap,
    cache: Cache,
    modified: SystemTime,
) -> Response {
    let compressible = prepared.gzip.is_some() || prepared.brotli.is_some();
    let encoding =
        negotiate(request.get(header::ACCEPT_ENCODING).and_then(|v| v.to_str().ok()).unwrap_or(""), prepared);
    let last_modified = httpdate(modified);
    let fresh = status == StatusCode::OK && not_modified(request, &prepared.etag, modified);

    let mut response = Response::new(Body::empty());
    *response.status_mut() = if fresh { StatusCode::NOT_MODIFIED } else { status };
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache.header()));
    if status == StatusCode::OK {
        headers.insert(header::ETAG, HeaderValue::from_str(&prepared.etag).expect("an ETag is hex in quotes"));
        headers.insert(header::LAST_MODIFIED, HeaderValue::from_str(&last_modified).expect("an HTTP date is ASCII"));
    }
    if compressible {
        headers.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    }
    if fresh {
        return response;
    }
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(prepared.content_type));
    let body = match encoding {
        Encoding::Brotli => {
            headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("br"));
            prepared.brotli.clone().expect("negotiated only when present")
        }
        Encoding::Gzip => {
            headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            prepared.gzip.clone().expect("negotiated only when present")
        }
        Encoding::Identity => prepared.identity.clone(),
    };
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
    if method != Method::HEAD {
        *response.body_mut() = Body::from(body);
    }
    response
}

/// Picks the encoding with the highest q-value the client accepts, from
/// those we have; ties go to the smaller (brotli, then gzip). `identity` is
/// the fallback unless the client refuses it, and even then we send it:
/// a readable page beats a 406.
fn negotiate(accept: &str, prepared: &Prepared) -> Encoding {
    let mut wildcard = None;
    let mut q = |name: &str| -> Option<f32> {
        accept.split(',').find_map(|item| {
            let mut parts = item.split(';');
            let coding = parts.next()?.trim();
            let quality =
                parts.find_map(|p| p.trim().strip_prefix("q=").and_then(|v| v.trim().parse().ok())).unwrap_or(1.0);
            if coding == "*" {
                wildcard = Some(quality);
            }
            coding.eq_ignore_ascii_case(name).then_some(quality)
        })
    };
    let br = q("br");
    let gz = q("gzip");
    let star = wildcard.unwrap_or(0.0);
    let br = if prepared.brotli.is_some() { br.unwrap_or(star) } else { 0.0 };
    let gz = if prepared.gzip.is_some() { gz.unwrap_or(star) } else { 0.0 };
    if br > 0.0 && br >= gz {
        Encoding::Brotli
    } else if gz > 0.0 {
        Encoding::Gzip
    } else {
        Encoding::Identity
    }
}

/// `If-None-Match` wins over `If-Modified-Since` (RFC 9110, 13.2.2).
fn not_modified(request: &HeaderMap, etag: &str, modified: SystemTime) -> bool {
    if let Some(tags) = request.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) {
        // Weak comparison: W/"x" matches "x".
        return tags.split(',').map(|t| t.trim().trim_start_matches("W/")).any(|t| t == "*" || t == etag);
    }
    match request.get(header::IF_MODIFIED_SINCE).and_then(|v| v.to_str().ok()).and_then(parse_httpdate) {
        Some(since) => whole_seconds(modified) <= since,
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use axum::body::Bytes;

    use super::*;

    fn prepared() -> Prepared {
        Prepared::new("text/html; charset=utf-8", Bytes::from("<p>hello</p>".repeat(100)))
    }

    #[test]
    fn encodings_are_chosen_by_q_value() {
        let p = prepared();
        assert_eq!(negotiate("gzip, deflate, br", &p), Encoding::Brotli);
        assert_eq!(negotiate("gzip", &p), Encoding::Gzip);
        assert_eq!(negotiate("br;q=0.5, gzip;q=0.8", &p), Encoding::Gzip);
        assert_eq!(negotiate("br;q=0, gzip;q=0", &p), Encoding::Identity);
        assert_eq!(negotiate("identity", &p), Encoding::Identity);
        assert_eq!(negotiate("", &p), Encoding::Identity);
        assert_eq!(negotiate("*", &p), Encoding::Brotli);
        assert_eq!(negotiate("*;q=0.5, br;q=0", &p), Encoding::Gzip);
        let png = Prepared::new("image/png", Bytes::from(vec![1; 1000]));
        assert_eq!(negotiate("br, gzip", &png), Encoding::Identity);
    }

    #[derive(Template)]
    #[template(source = "<p>{{ text }}</p>", ext = "html")]
    struct Snippet<'a> {
        text: &'a str,
    }

    #[test]
    fn rendered_pages_are_html_with_their_cache_policy() {
        let response = html(StatusCode::BAD_REQUEST, Cache::NoStore, &Snippet { text: "<b>" }).unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert_eq!(response.headers()[header::CONTENT_TYPE], "text/html; charset=utf-8");
        assert_eq!(response.headers()[header::CACHE_CONTROL], "no-store");
        let page = html(StatusCode::OK, Cache::Short, &Snippet { text: "" }).unwrap();
        assert_eq!(page.headers()[header::CACHE_CONTROL], "public, max-age=3600");
    }

    #[test]
    fn http_dates_round_trip() {
        let time = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(784_111_777);
        assert_eq!(httpdate(time), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(parse_httpdate("Sun, 06 Nov 1994 08:49:37 GMT"), Some(784_111_777));
        assert_eq!(parse_httpdate("Sunday, 06-Nov-94 08:49:37 GMT"), None);
        let now = SystemTime::now();
        assert_eq!(parse_httpdate(&httpdate(now)), Some(whole_seconds(now)));
    }
}
