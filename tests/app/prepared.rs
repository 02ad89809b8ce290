//! Pages and static files are answered by the real server without the
//! router (`http::service`). Every other serving test asks the router, so
//! here the binary's answers are compared with the router's for the same
//! requests, header for header and byte for byte; and every request, fast
//! or routed, gets one access-log line.

use std::collections::BTreeMap;

use axum::body::Body;
use axum::http::Request;
use http_body_util::BodyExt;
use tower::ServiceExt;

use crate::helpers::*;

/// Status, headers (lower-case names; a repeated name's values joined with
/// ", ") and body of one raw HTTP/1.1 exchange.
struct Answer {
    status: u16,
    headers: BTreeMap<String, String>,
    body: Vec<u8>,
}

fn raw(addr: std::net::SocketAddr, method: &str, path: &str, extra: &[(&str, &str)]) -> Answer {
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (name, value) in extra {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    let (head, body) = exchange_raw(addr, &request);
    let mut lines = head.split("\r\n");
    let status = lines.next().and_then(|l| l.split(' ').nth(1)).and_then(|s| s.parse().ok()).expect("a status");
    let mut headers = BTreeMap::new();
    for line in lines {
        let (name, value) = line.split_once(':').expect("name: value");
        headers
            .entry(name.to_ascii_lowercase())
            .and_modify(|v: &mut String| v.push_str(&format!(", {}", value.trim())))
            .or_insert_with(|| value.trim().to_string());
    }
    Answer { status, headers, body }
}

async fn routed(app: &TestApp, method: &str, path: &str, extra: &[(&str, &str)]) -> Answer {
    let mut builder = Request::builder().method(method).uri(path);
    for (name, value) in extra {
        builder = builder.header(*name, *value);
    }
    let response = app.router.clone().oneshot(builder.body(Body::empty()).unwrap()).await.unwrap();
    let status = response.status().as_u16();
    let mut headers = BTreeMap::new();
    for name in response.headers().keys() {
        let values: Vec<&str> = response.headers().get_all(name).iter().map(|v| v.to_str().unwrap()).collect();
        headers.insert(name.as_str().to_string(), values.join(", "));
    }
    let body = response.into_body().collect().await.unwrap().to_bytes().to_vec();
    Answer { status, headers, body }
}

/// What differs between two processes or is the transport's alone: the
/// time of the answer, when each one's site was built, the connection, and
/// the length of a 304 (hyper writes none on the wire, whoever made it).
fn comparable(answer: &Answer) -> BTreeMap<String, String> {
    let mut headers = answer.headers.clone();
    for name in ["date", "last-modified", "connection"] {
        headers.remove(name);
    }
    if answer.status == 304 {
        headers.remove("content-length");
    }
    headers
}

#[tokio::test]
async fn pages_and_files_sent_without_the_router_are_what_the_router_sends() {
    let server = Server::start(&["serve"]);
    let app = real_app();
    let page = body(server.get("/dry-needling/safety/"));
    let css = stylesheet(&page);
    let etag = raw(server.addr, "GET", "/dry-needling/", &[]).headers["etag"].clone();

    let mut paths: Vec<String> = ARTICLE.iter().map(|(path, _)| path.to_string()).collect();
    paths.extend([
        "/".to_string(),
        "/dry-needling/print/".to_string(),
        "/dry-needling/?utm_source=newsletter".to_string(),
        css,
        // Routed, for comparison: not found, a spelling variant, a hostile
        // path, a file with no fingerprint, a card.
        "/static/missing.css".to_string(),
        "/Dry-Needling/Safety".to_string(),
        "/static/%2e%2e/Cargo.toml".to_string(),
        "/robots.txt".to_string(),
    ]);
    let variants: &[(&str, &[(&str, &str)])] = &[
        ("GET", &[]),
        ("GET", &[("accept-encoding", "gzip")]),
        ("GET", &[("accept-encoding", "br, gzip")]),
        ("GET", &[("if-none-match", &etag)]),
        ("GET", &[("if-modified-since", "Fri, 01 Jan 2100 00:00:00 GMT")]),
        ("HEAD", &[("accept-encoding", "br")]),
    ];
    let mut fast = 0;
    for path in &paths {
        for (method, extra) in variants {
            let sent = raw(server.addr, method, path, extra);
            let expected = routed(&app, method, path, extra).await;
            let case = format!("{method} {path} {extra:?}");
            assert_eq!(sent.status, expected.status, "{case}");
            assert_eq!(sent.body, expected.body, "{case}: body");
            assert_eq!(sent.headers.contains_key("last-modified"), expected.headers.contains_key("last-modified"));
            assert_eq!(comparable(&sent), comparable(&expected), "{case}: headers");
            fast += usize::from(expected.status == 200 || expected.status == 304);
        }
    }
    assert!(fast >= (ARTICLE.len() + 4) * variants.len(), "the pages and the stylesheet were all answered: {fast}");
}

#[test]
fn every_request_gets_one_access_line_without_its_query() {
    let server = Server::start(&["serve"]);
    assert_eq!(server.get("/dry-needling/?utm_source=private-newsletter-42").0, 200);
    assert_eq!(server.get("/no-such-page/").0, 404);
    assert_eq!(server.get("/dry-needling/safety/").0, 200);
    let logged = |needle: &str| server.log.lock().unwrap().lines().filter(|line| line.contains(needle)).count();
    // The log is written by its own thread; give it a moment.
    assert!(wait_until(10, || logged("GET /dry-needling/safety/ 200 ") == 1), "{}", server.log.lock().unwrap());
    assert_eq!(logged("GET /dry-needling/ 200 "), 1, "a page sent without the router");
    assert_eq!(logged("GET /no-such-page/ 404 "), 1, "an answer from the router");
    let log = server.log.lock().unwrap().clone();
    assert!(!log.contains("private-newsletter"), "the query is not written down:\n{log}");
    let access: Vec<&str> = log.lines().filter(|line| line.contains("GET /")).collect();
    assert_eq!(access.len(), 3, "{log}");
    assert!(access.iter().all(|line| !line.contains("127.0.0.1")), "no client address is written down:\n{log}");
}
