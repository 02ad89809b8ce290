//! Responses rendered per request (forms, staff pages, error pages, CSV)
//! are compressed as the client asks, and decode to the same bytes as the
//! uncompressed answer.

use std::io::Read;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Method, Request, StatusCode};
use clinic_site::auth::Role;
use clinic_site::config::Config;
use http_body_util::BodyExt;
use tower::ServiceExt;

use crate::admin::add_staff;
use crate::helpers::*;
use crate::staff::session_for;

struct Raw {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl Raw {
    fn header(&self, name: &str) -> &str {
        self.headers.get(name).map_or("", |v| v.to_str().expect("header is text"))
    }

    /// The body as the client reads it, after undoing `Content-Encoding`.
    fn decoded(&self) -> String {
        let mut out = Vec::new();
        match self.header("content-encoding") {
            "" => out.extend_from_slice(&self.body),
            "gzip" => {
                flate2::read::GzDecoder::new(&self.body[..]).read_to_end(&mut out).expect("valid gzip");
            }
            "br" => brotli::BrotliDecompress(&mut &self.body[..], &mut out).expect("valid brotli"),
            other => panic!("unexpected Content-Encoding {other}"),
        }
        String::from_utf8(out).expect("body is UTF-8")
    }
}

async fn fetch(app: &TestApp, method: Method, path: &str, accept: Option<&str>, cookie: Option<&str>) -> Raw {
    let mut builder = Request::builder().method(method).uri(path);
    if let Some(accept) = accept {
        builder = builder.header("accept-encoding", accept);
    }
    if let Some(cookie) = cookie {
        builder = builder.header("cookie", cookie);
    }
    let response = app.router.clone().oneshot(builder.body(Body::empty()).unwrap()).await.unwrap();
    let (status, headers) = (response.status(), response.headers().clone());
    let body = response.into_body().collect().await.unwrap().to_bytes();
    Raw { status, headers, body }
}

/// Form pages hold a fresh one-time token each time they are rendered:
/// the same page apart from it.
fn without_tokens(html: &str) -> String {
    let mut out = html.to_string();
    let parsed = scraper::Html::parse_document(html);
    for input in select(&parsed, "input[name='token']") {
        out = out.replace(input.value().attr("value").expect("a token has a value"), "TOKEN");
    }
    out
}

/// `path` asked for as every kind of client asks: same status, same page
/// once decoded, the encoding asked for, a `Content-Length` that is the
/// bytes sent, and `Vary: Accept-Encoding`. HEAD has GET's headers and no
/// body. The identity page, for more checks.
async fn same_under_every_encoding(app: &TestApp, path: &str, cookie: Option<&str>) -> Raw {
    let plain = fetch(app, Method::GET, path, None, cookie).await;
    assert!(plain.body.len() >= 1024, "{path} is too short to be compressed: {} bytes", plain.body.len());
    let expected = without_tokens(&plain.decoded());
    for (accept, encoding) in [
        (None, ""),
        (Some("identity"), ""),
        (Some("gzip"), "gzip"),
        (Some("br"), "br"),
        (Some("gzip, deflate, br, zstd"), "br"),
        (Some("br;q=0, gzip"), "gzip"),
        (Some("br;q=0, gzip;q=0"), ""),
    ] {
        let response = fetch(app, Method::GET, path, accept, cookie).await;
        assert_eq!(response.status, plain.status, "{path} {accept:?}");
        assert_eq!(response.header("content-encoding"), encoding, "{path} {accept:?}");
        assert_eq!(response.header("content-length"), response.body.len().to_string(), "{path} {accept:?}");
        assert!(response.header("vary").to_ascii_lowercase().contains("accept-encoding"), "{path} {accept:?}");
        assert_eq!(without_tokens(&response.decoded()), expected, "{path} {accept:?} decodes to another page");
        if !encoding.is_empty() {
            assert!(response.body.len() < plain.body.len() / 2, "{path} {accept:?}: {} bytes", response.body.len());
        }
        let head = fetch(app, Method::HEAD, path, accept, cookie).await;
        assert!(head.body.is_empty(), "{path} {accept:?}: HEAD has a body");
        for name in ["content-encoding", "content-type", "cache-control", "vary"] {
            assert_eq!(head.header(name), response.header(name), "{path} {accept:?} HEAD {name}");
        }
        if without_tokens(&response.decoded()) == response.decoded() {
            // Same bytes, so the same length (a token is random and
            // compresses differently each time).
            assert_eq!(head.header("content-length"), response.header("content-length"), "{path} {accept:?} HEAD");
        }
    }
    plain
}

#[tokio::test]
async fn reader_forms_decode_to_the_same_page_under_every_encoding() {
    let app = real_app();
    let comment = same_under_every_encoding(&app, "/dry-needling/migraines/comment/", None).await;
    assert_eq!(comment.status, StatusCode::OK);
    assert_eq!(comment.header("cache-control"), "no-store", "per-visitor pages stay unstored");
    assert!(!comment.header("content-security-policy").is_empty(), "security headers are kept");
    let feedback = same_under_every_encoding(&app, "/dry-needling/migraines/feedback/", None).await;
    assert_eq!(feedback.status, StatusCode::OK);
    assert_eq!(feedback.header("cache-control"), "no-store");
}

#[tokio::test]
async fn staff_pages_and_their_csv_decode_to_the_same_bytes_under_every_encoding() {
    let app = real_app();
    let owner = add_staff(&app, "jane", &[Role::Owner, Role::Editor]);
    let (cookie, _) = session_for(&app, &owner);
    let home = same_under_every_encoding(&app, "/admin", Some(&cookie)).await;
    assert_eq!(home.status, StatusCode::OK);
    assert_eq!(home.header("cache-control"), "no-store");
    let csv = same_under_every_encoding(&app, "/admin/quality?format=csv", Some(&cookie)).await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.header("content-type").starts_with("text/csv"));
    assert!(csv.header("content-disposition").starts_with("attachment"));
}

#[tokio::test]
async fn error_pages_decode_to_the_same_page_under_every_encoding() {
    let app = real_app();
    let missing = same_under_every_encoding(&app, "/no-such-page/", None).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.header("cache-control"), "no-store");
    // Rendered per request, unlike the 404 page.
    let bad = same_under_every_encoding(&app, "/static/%2e%2e/Cargo.toml", None).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn short_answers_are_sent_as_they_are() {
    let app = real_app();
    let health = fetch(&app, Method::GET, "/healthz", Some("br, gzip"), None).await;
    assert_eq!(health.status, StatusCode::OK);
    assert_eq!(health.body, "ok\n");
    assert_eq!(health.header("content-encoding"), "");
    assert_eq!(health.header("vary"), "", "nothing varies below the threshold");
    assert_eq!(health.header("content-length"), "3");
}

#[tokio::test]
async fn the_dev_reload_stream_is_never_buffered_or_compressed() {
    let preview = TestApp::with_config(|data| Config { dev: true, ..fixture_config_in("valid", data) });
    let request = Request::get("/_dev/events").header("accept-encoding", "br, gzip").body(Body::empty()).unwrap();
    // A buffered stream would never answer: it has no end.
    let response = tokio::time::timeout(Duration::from_secs(10), preview.router.clone().oneshot(request))
        .await
        .expect("the stream answers at once")
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/event-stream"));
    assert!(response.headers().get("content-encoding").is_none());
    assert!(response.headers().get("content-length").is_none());
}
