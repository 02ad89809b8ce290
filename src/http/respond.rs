//! Sending a prepared body: content negotiation, conditional requests and
//! caching headers, all decided per request from bytes made once. And the
//! few pages rendered per request, with their cache policy, compressed on
//! the way out by [`compress`].

use std::io::Write;
use std::time::SystemTime;

use askama::Template;
use axum::body::{Body, HttpBody};
use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::AppError;
use crate::asset::Prepared;
use crate::site::Site;
use crate::util::date::{parse_httpdate, whole_seconds};

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

/// Dynamic bodies shorter than this are sent as they are: below it the
/// saving is a few hundred bytes, less than a packet, for the same work.
pub(crate) const COMPRESS_FROM: usize = 1024;

/// Brotli quality and gzip level for bodies compressed per request, chosen
/// with `cargo bench --bench dynamic` on the comment form page (4.6 KB;
/// figures in BENCHMARKS.md, section 10). On bodies this small setting up
/// the hash tables is most of the work. Quality 4 sends 1.7 KB, 8% less
/// than gzip 6, in 0.15 to 0.3 ms; quality 5 saves another 7% for 40% more
/// time, and only with a window over 64 KB: with a window as small as the
/// page, qualities 5 to 9 pick a hasher that takes about 9 ms here. Gzip 6
/// (zlib's default) is as small as gzip 9 on these pages, and faster.
const DYNAMIC_BROTLI_QUALITY: i32 = 4;
const DYNAMIC_GZIP_LEVEL: u32 = 6;

/// Layer: compresses what was rendered for this request (forms, staff
/// pages, error pages, CSV, JSON) as the client's `Accept-Encoding` asks,
/// with `Content-Length` and `Vary: Accept-Encoding`.
///
/// Our own rather than tower-http's `CompressionLayer`: that one compresses
/// as the body streams, so answers lose `Content-Length` and go chunked.
/// Every dynamic body here is already whole in memory when the handler
/// returns, so compressing it in one go holds nothing back that was not
/// already held, and the length is known before the first byte is sent.
/// What this passes untouched:
/// - bodies prepared when the site was built, which negotiated already
///   (they carry `Content-Encoding` or `Vary: Accept-Encoding`);
/// - bodies whose length is not known, i.e. streams such as the `--dev`
///   reload events (`text/event-stream`), which must never wait in a buffer;
/// - no-body statuses (1xx, 204, 304), ranges, strong `ETag`s (the tag
///   names the exact bytes), types that do not compress (images), and
///   bodies under [`COMPRESS_FROM`].
///
/// `HEAD` is compressed like `GET`, so both carry the same headers; the
/// router drops the body afterwards.
///
/// Compressing a page that holds a secret (a staff page's CSRF token) next
/// to text an attacker chose is what BREACH measures. Here the attacker
/// cannot get such a page: the staff cookie is `SameSite=Strict`, so a
/// request started from another site arrives signed out and gets the
/// sign-in page, and readers' form tokens are not secrets (anyone may ask
/// for one).
pub async fn compress(request: Request, next: Next) -> Response {
    let accept = request.headers().get(header::ACCEPT_ENCODING).cloned();
    let response = next.run(request).await;
    compress_response(accept.as_ref().and_then(|v| v.to_str().ok()).unwrap_or(""), response).await
}

/// The request's `Accept-Encoding`, for answers made outside a handler
/// (the error pages), without copying the other headers.
pub(crate) struct AcceptEncoding(pub Option<HeaderValue>);

impl AcceptEncoding {
    /// As request headers, for [`send`].
    pub(crate) fn headers(self) -> HeaderMap {
        let mut headers = HeaderMap::new();
        if let Some(value) = self.0 {
            headers.insert(header::ACCEPT_ENCODING, value);
        }
        headers
    }
}

impl<S: Send + Sync> FromRequestParts<S> for AcceptEncoding {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(AcceptEncoding(parts.headers.get(header::ACCEPT_ENCODING).cloned()))
    }
}

type Compressor = fn(&[u8]) -> Vec<u8>;

async fn compress_response(accept: &str, response: Response) -> Response {
    let Some(length) = compressible_length(&response) else { return response };
    let (mut parts, body) = response.into_parts();
    parts.headers.append(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    let (name, compress): (&str, Compressor) = match negotiate(accept, true, true) {
        Encoding::Brotli => ("br", dynamic_brotli),
        Encoding::Gzip => ("gzip", dynamic_gzip),
        Encoding::Identity => return Response::from_parts(parts, body),
    };
    let identity = match axum::body::to_bytes(body, length).await {
        Ok(bytes) => bytes,
        // A body of known length in memory does not fail to read; if one
        // ever did, the status and headers still say what happened.
        Err(e) => {
            tracing::error!("a response body could not be read for compressing: {e}");
            parts.headers.remove(header::CONTENT_LENGTH);
            return Response::from_parts(parts, Body::empty());
        }
    };
    let compressed = compress(&identity);
    let body = if compressed.len() < identity.len() {
        parts.headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static(name));
        axum::body::Bytes::from(compressed)
    } else {
        identity
    };
    parts.headers.insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
    Response::from_parts(parts, Body::from(body))
}

/// The body's length, if this response should be compressed here.
fn compressible_length(response: &Response) -> Option<usize> {
    let status = response.status();
    if status.is_informational() || status == StatusCode::NO_CONTENT || status == StatusCode::NOT_MODIFIED {
        return None;
    }
    let headers = response.headers();
    let negotiated = headers.contains_key(header::CONTENT_ENCODING)
        || headers
            .get_all(header::VARY)
            .iter()
            .any(|v| v.to_str().is_ok_and(|v| v.to_ascii_lowercase().contains("accept-encoding")));
    let strong_tag = headers.get(header::ETAG).is_some_and(|tag| !tag.as_bytes().starts_with(b"W/"));
    if negotiated || strong_tag || headers.contains_key(header::CONTENT_RANGE) {
        return None;
    }
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok())?;
    if content_type.starts_with("text/event-stream") || !crate::asset::is_text(content_type) {
        return None;
    }
    let length = usize::try_from(response.body().size_hint().exact()?).ok()?;
    (length >= COMPRESS_FROM).then_some(length)
}

/// With the window as large as the body and no larger (`asset::brotli_at`):
/// the same output for less setup work on small pages.
fn dynamic_brotli(data: &[u8]) -> Vec<u8> {
    crate::asset::brotli_at(data, DYNAMIC_BROTLI_QUALITY)
}

fn dynamic_gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder =
        flate2::write::GzEncoder::new(Vec::with_capacity(data.len() / 3), flate2::Compression::new(DYNAMIC_GZIP_LEVEL));
    encoder.write_all(data).expect("writing to memory cannot fail");
    encoder.finish().expect("writing to memory cannot fail")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Brotli,
    Gzip,
    Identity,
}

/// Builds the response for `prepared` from `site`, as this request asks
/// for it. Every header value is made once, with the body or the site
/// version; here they are only put together.
pub fn send(
    prepared: &Prepared,
    status: StatusCode,
    method: &Method,
    request: &HeaderMap,
    cache: Cache,
    site: &Site,
) -> Response {
    let compressible = prepared.gzip.is_some() || prepared.brotli.is_some();
    let fresh = status == StatusCode::OK && not_modified(request, &prepared.etag, site.built_at);

    let mut response = Response::new(Body::empty());
    *response.status_mut() = if fresh { StatusCode::NOT_MODIFIED } else { status };
    let headers = response.headers_mut();
    headers.reserve(16);
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache.header()));
    if status == StatusCode::OK {
        headers.insert(header::ETAG, HeaderValue::from_str(&prepared.etag).expect("an ETag is hex in quotes"));
        headers
            .insert(header::LAST_MODIFIED, HeaderValue::from_str(&site.last_modified).expect("an HTTP date is ASCII"));
    }
    if compressible {
        headers.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    }
    if fresh {
        return response;
    }
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(prepared.content_type));
    let encoding = if compressible {
        negotiate(accept_encoding(request), prepared.brotli.is_some(), prepared.gzip.is_some())
    } else {
        Encoding::Identity
    };
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

fn accept_encoding(request: &HeaderMap) -> &str {
    request.get(header::ACCEPT_ENCODING).and_then(|v| v.to_str().ok()).unwrap_or("")
}

/// Picks the encoding with the highest q-value the client accepts, from
/// those we have (`brotli`, `gzip`); ties go to the smaller (brotli, then
/// gzip). `identity` is the fallback unless the client refuses it, and
/// even then we send it: a readable page beats a 406.
fn negotiate(accept: &str, brotli: bool, gzip: bool) -> Encoding {
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
    let br = if brotli { br.unwrap_or(star) } else { 0.0 };
    let gz = if gzip { gz.unwrap_or(star) } else { 0.0 };
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
        let negotiate = |accept: &str, p: &Prepared| negotiate(accept, p.brotli.is_some(), p.gzip.is_some());
        assert_eq!(negotiate("gzip, deflate, br", &p), Encoding::Brotli);
        assert_eq!(negotiate("gzip", &p), Encoding::Gzip);
        assert_eq!(negotiate("br;q=0.5, gzip;q=0.8", &p), Encoding::Gzip);
        assert_eq!(negotiate("br;q=0, gzip;q=0", &p), Encoding::Identity);
        assert_eq!(negotiate("identity", &p), Encoding::Identity);
        assert_eq!(negotiate("", &p), Encoding::Identity);
        assert_eq!(negotiate("*", &p), Encoding::Brotli);
        assert_eq!(negotiate("*;q=0.5, br;q=0", &p), Encoding::Gzip);
        assert_eq!(negotiate("br;q=0, gzip", &p), Encoding::Gzip);
        assert_eq!(negotiate("identity, *;q=0", &p), Encoding::Identity);
        let png = Prepared::new("image/png", Bytes::from(vec![1; 1000]));
        assert_eq!(negotiate("br, gzip", &png), Encoding::Identity);
    }

    #[tokio::test]
    async fn only_whole_text_bodies_from_1_kb_not_yet_encoded_are_compressed() {
        let page = "<p>hello</p>".repeat(100);
        let response = |content_type: &str, body: Body| {
            Response::builder().header(header::CONTENT_TYPE, content_type).body(body).unwrap()
        };
        let compressed = compress_response("br", response("text/csv", Body::from(page.clone()))).await;
        assert_eq!(compressed.headers()[header::CONTENT_ENCODING], "br");
        assert_eq!(compressed.headers()[header::VARY], "Accept-Encoding");
        let length: usize = compressed.headers()[header::CONTENT_LENGTH].to_str().unwrap().parse().unwrap();
        let bytes = axum::body::to_bytes(compressed.into_body(), usize::MAX).await.unwrap();
        assert_eq!(bytes.len(), length);
        let mut decoded = Vec::new();
        brotli::BrotliDecompress(&mut &bytes[..], &mut decoded).unwrap();
        assert_eq!(decoded, page.as_bytes());

        let short = "a".repeat(COMPRESS_FROM - 1);
        let chunks = tokio_stream::iter([Ok::<_, std::convert::Infallible>(page.clone())]);
        let mut tagged = response("text/html", Body::from(page.clone()));
        tagged.headers_mut().insert(header::ETAG, HeaderValue::from_static("\"abc\""));
        let mut encoded = response("text/html", Body::from(page.clone()));
        encoded.headers_mut().insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        let mut empty = response("text/html", Body::from(page.clone()));
        *empty.status_mut() = StatusCode::NO_CONTENT;
        for (why, untouched) in [
            ("short", response("text/html", Body::from(short))),
            ("not text", response("image/png", Body::from(page.clone()))),
            ("a stream of unknown length", response("text/html", Body::from_stream(chunks))),
            ("a strong ETag", tagged),
            ("already encoded", encoded),
            ("no content", empty),
        ] {
            let before = untouched.headers().get(header::CONTENT_ENCODING).cloned();
            let after = compress_response("br, gzip", untouched).await;
            assert_eq!(after.headers().get(header::CONTENT_ENCODING).cloned(), before, "{why}");
            assert!(after.headers().get(header::VARY).is_none(), "{why}");
        }
        let identity = compress_response("identity", response("text/html", Body::from(page.clone()))).await;
        assert!(identity.headers().get(header::CONTENT_ENCODING).is_none());
        assert_eq!(identity.headers()[header::VARY], "Accept-Encoding", "another client would get brotli");
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
}
