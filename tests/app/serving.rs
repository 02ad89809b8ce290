//! Serving prepared responses: conditional requests, compression, HEAD,
//! caching and security headers, and the limits that keep hostile clients
//! from hurting anyone.

use std::io::{Read, Write};
use std::time::Duration;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use tower::ServiceExt;

use crate::helpers::*;

async fn request(
    app: &TestApp,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let mut builder = Request::builder().method(method).uri(path);
    for (k, v) in headers {
        builder = builder.header(*k, *v);
    }
    let response = app.router.clone().oneshot(builder.body(Body::empty()).unwrap()).await.unwrap();
    let (parts, body) = response.into_parts();
    let bytes = http_body_util::BodyExt::collect(body).await.unwrap().to_bytes().to_vec();
    (parts.status, parts.headers, bytes)
}

fn header<'a>(headers: &'a axum::http::HeaderMap, name: &str) -> &'a str {
    headers.get(name).map(|v| v.to_str().unwrap()).unwrap_or("")
}

#[tokio::test]
async fn matching_validators_get_304_without_a_body() {
    let app = real_app();
    let (status, headers, _) = request(&app, Method::GET, "/dry-needling/", &[]).await;
    assert_eq!(status, StatusCode::OK);
    let etag = header(&headers, "etag").to_string();
    assert!(etag.starts_with('"') && etag.len() > 10, "a strong ETag: {etag}");
    let modified = header(&headers, "last-modified").to_string();
    for conditional in [
        vec![("if-none-match", etag.as_str())],
        vec![("if-none-match", &format!("\"nope\", W/{etag}"))],
        vec![("if-modified-since", modified.as_str())],
    ] {
        let (status, headers, body) = request(&app, Method::GET, "/dry-needling/", &conditional).await;
        assert_eq!(status, StatusCode::NOT_MODIFIED, "{conditional:?}");
        assert!(body.is_empty());
        assert_eq!(header(&headers, "etag"), etag);
    }
    let (status, _, _) = request(&app, Method::GET, "/dry-needling/", &[("if-none-match", "\"other\"")]).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) =
        request(&app, Method::GET, "/dry-needling/", &[("if-modified-since", "Thu, 01 Jan 2015 00:00:00 GMT")]).await;
    assert_eq!(status, StatusCode::OK, "changed since then");
    let (_, other, _) = request(&app, Method::GET, "/dry-needling/safety/", &[]).await;
    assert_ne!(header(&other, "etag"), etag, "each page has its own ETag");
}

#[tokio::test]
async fn encodings_are_negotiated_and_all_decode_to_the_same_page() {
    let app = real_app();
    let (_, _, plain) = request(&app, Method::GET, "/dry-needling/safety/", &[]).await;
    let cases = [
        ("br, gzip", "br"),
        ("gzip, deflate, br;q=0.1", "gzip"),
        ("gzip;q=0, br;q=0", ""),
        ("identity", ""),
        ("*", "br"),
        ("deflate", ""),
    ];
    for (accept, expected) in cases {
        let (status, headers, body) =
            request(&app, Method::GET, "/dry-needling/safety/", &[("accept-encoding", accept)]).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(header(&headers, "content-encoding"), expected, "{accept}");
        assert_eq!(header(&headers, "vary"), "Accept-Encoding", "{accept}");
        assert_eq!(header(&headers, "content-length"), body.len().to_string());
        let decoded = match expected {
            "br" => {
                let mut out = Vec::new();
                brotli::BrotliDecompress(&mut &body[..], &mut out).unwrap();
                out
            }
            "gzip" => {
                let mut out = Vec::new();
                flate2::read::GzDecoder::new(&body[..]).read_to_end(&mut out).unwrap();
                out
            }
            _ => body.clone(),
        };
        assert_eq!(decoded, plain, "{accept}");
        if !expected.is_empty() {
            assert!(body.len() * 2 < plain.len(), "{accept}: compressed");
        }
    }
}

#[tokio::test]
async fn head_answers_the_headers_without_the_body() {
    let app = real_app();
    for path in ["/dry-needling/", "/sitemap.xml", "/nope"] {
        let (get_status, get_headers, body) = request(&app, Method::GET, path, &[("accept-encoding", "gzip")]).await;
        let (status, headers, empty) = request(&app, Method::HEAD, path, &[("accept-encoding", "gzip")]).await;
        assert_eq!(status, get_status, "{path}");
        assert!(empty.is_empty(), "{path}");
        assert_eq!(header(&headers, "content-length"), body.len().to_string(), "{path}");
        assert_eq!(header(&headers, "etag"), header(&get_headers, "etag"), "{path}");
    }
}

#[tokio::test]
async fn pages_link_to_fingerprinted_assets_that_are_cached_for_a_year() {
    let app = real_app();
    let html = get(&app, "/dry-needling/safety/").await.html();
    let mut assets: Vec<String> = select(&html, "link[rel='stylesheet'], script[src]")
        .iter()
        .map(|e| e.value().attr("href").or(e.value().attr("src")).unwrap().to_string())
        .collect();
    assets.sort();
    assert_eq!(assets.len(), 2, "{assets:?}");
    for url in &assets {
        let name = url.rsplit('/').next().unwrap();
        let parts: Vec<&str> = name.split('.').collect();
        assert_eq!(parts.len(), 3, "{url} has a hash in its name");
        assert!(parts[1].len() == 8 && parts[1].chars().all(|c| c.is_ascii_hexdigit()), "{url}");
        let (status, headers, body) = request(&app, Method::GET, url, &[("accept-encoding", "br")]).await;
        assert_eq!(status, StatusCode::OK, "{url}");
        assert_eq!(header(&headers, "cache-control"), "public, max-age=31536000, immutable", "{url}");
        assert_eq!(header(&headers, "content-encoding"), "br", "{url}");
        assert!(!body.is_empty());
    }
    let (_, headers, _) = request(&app, Method::GET, "/static/site.css", &[]).await;
    assert_eq!(
        header(&headers, "cache-control"),
        "public, max-age=3600",
        "plain names change, so they are not immutable"
    );
    assert!(header(&headers, "content-type").starts_with("text/css"));
}

#[tokio::test]
async fn each_kind_of_response_has_its_cache_policy() {
    let app = real_app();
    let cases = [
        ("/dry-needling/", "public, max-age=300, stale-while-revalidate=86400"),
        ("/", "public, max-age=300, stale-while-revalidate=86400"),
        ("/og/dry-needling/index.png", "public, max-age=3600"),
        ("/sitemap.xml", "public, max-age=3600"),
        ("/nope", "no-store"),
        ("/dry-needling/migraines/comment/", "no-store"),
        ("/admin/login", "no-store"),
        ("/healthz", "no-store"),
    ];
    for (path, expected) in cases {
        let (_, headers, _) = request(&app, Method::GET, path, &[]).await;
        assert_eq!(header(&headers, "cache-control"), expected, "{path}");
    }
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let app = real_app();
    let csp = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'self'; object-src 'none'";
    for (method, path) in [
        (Method::GET, "/"),
        (Method::GET, "/dry-needling/safety/"),
        (Method::GET, "/nope"),
        (Method::GET, "/static/site.css"),
        (Method::GET, "/og/dry-needling/index.png"),
        (Method::GET, "/healthz"),
        (Method::GET, "/admin/login"),
        (Method::POST, "/dry-needling/"),
        (Method::GET, "/static/../x"),
        (Method::GET, "/dry-needling"),
    ] {
        let (_, headers, _) = request(&app, method.clone(), path, &[]).await;
        assert_eq!(header(&headers, "content-security-policy"), csp, "{method} {path}");
        assert_eq!(header(&headers, "x-content-type-options"), "nosniff", "{path}");
        assert_eq!(header(&headers, "referrer-policy"), "strict-origin-when-cross-origin", "{path}");
        assert_eq!(header(&headers, "cross-origin-opener-policy"), "same-origin", "{path}");
        assert!(header(&headers, "permissions-policy").contains("camera=()"), "{path}");
        assert_eq!(
            header(&headers, "strict-transport-security"),
            "max-age=31536000; includeSubDomains",
            "{path}: the base URL is https"
        );
    }
}

#[tokio::test]
async fn no_hsts_when_the_site_is_not_served_over_https() {
    let content = copy_fixture("valid");
    let settings = content.path().join("site.toml");
    std::fs::write(
        &settings,
        std::fs::read_to_string(&settings).unwrap().replace("https://clinic.test/", "http://clinic.test/"),
    )
    .unwrap();
    let app = TestApp::with_config(|data| clinic_site::config::Config::for_test(data).with_content(content.path()));
    let (_, headers, _) = request(&app, Method::GET, "/guide/", &[]).await;
    assert_eq!(header(&headers, "strict-transport-security"), "");
}

#[tokio::test]
async fn hostile_paths_never_reach_a_file_or_an_error() {
    let app = real_app();
    let paths = [
        "/static/../Cargo.toml",
        "/static/%2e%2e/Cargo.toml",
        "/static/%2E%2E/%2E%2E/etc/passwd",
        "/static/..%2fCargo.toml",
        "/static/%2e%2e%2fcontent%2fsite.toml",
        "/static/..%5cCargo.toml",
        "/static/site.css%00.png",
        "/static//etc/passwd",
        "/static/fonts/../../src/main.rs",
        "/../../../../etc/passwd",
        "/og/../../Cargo.toml",
        "/dry-needling/%2e%2e/%2e%2e/data/secret.key",
    ];
    for path in paths {
        let (status, _, body) = request(&app, Method::GET, path, &[]).await;
        let text = String::from_utf8_lossy(&body);
        assert!(status == StatusCode::BAD_REQUEST || status == StatusCode::NOT_FOUND, "{path}: {status}");
        assert!(
            !text.contains("[package]") && !text.contains("root:") && !text.contains("fn main"),
            "{path} leaked a file"
        );
    }
    let long = format!("/{}", "a".repeat(5000));
    let (status, _, _) = request(&app, Method::GET, &long, &[]).await;
    assert_eq!(status, StatusCode::URI_TOO_LONG);
}

#[tokio::test]
async fn bodies_over_the_limit_are_refused_everywhere() {
    let app = real_app();
    for path in ["/admin/login", "/dry-needling/migraines/comment/"] {
        // Over both limits: the comment form takes up to about 25 KB, room
        // for 2,000 characters of any script (tests/app/comments.rs).
        let big = format!("password={}", "x".repeat(32 * 1024));
        let request = Request::post(path)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("sec-fetch-site", "same-origin")
            .body(Body::from(big))
            .unwrap();
        let response = app.router.clone().oneshot(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE, "{path}");
    }
}

/// Reads until the server closes the connection or `limit` passes.
fn read_until_closed(stream: &mut std::net::TcpStream, limit: Duration) -> Option<Vec<u8>> {
    stream.set_read_timeout(Some(limit)).unwrap();
    let mut seen = Vec::new();
    let mut buffer = [0; 1024];
    loop {
        match stream.read(&mut buffer) {
            Ok(0) => return Some(seen),
            Ok(n) => seen.extend_from_slice(&buffer[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock || e.kind() == std::io::ErrorKind::TimedOut => {
                return None;
            }
            Err(_) => return Some(seen),
        }
    }
}

#[test]
fn a_client_too_slow_to_send_its_headers_is_disconnected() {
    let server = Server::start(&["serve", "--header-timeout", "1"]);
    let mut slow = std::net::TcpStream::connect(server.addr).unwrap();
    slow.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n").unwrap();
    let started = std::time::Instant::now();
    let closed = read_until_closed(&mut slow, Duration::from_secs(10));
    assert!(closed.is_some(), "the connection was still open after 10 s");
    assert!(started.elapsed() < Duration::from_secs(8));
    assert_eq!(server.get("/healthz").0, 200, "others are still served");
}

#[test]
fn past_the_connection_cap_clients_get_a_clear_503() {
    let server = Server::start(&["serve", "--max-connections", "2", "--header-timeout", "30"]);
    // Two idle connections take both slots.
    let _first = std::net::TcpStream::connect(server.addr).unwrap();
    let _second = std::net::TcpStream::connect(server.addr).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let mut third = std::net::TcpStream::connect(server.addr).unwrap();
    let answer = read_until_closed(&mut third, Duration::from_secs(5)).expect("answered at once");
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 503"), "{text}");
    assert!(text.contains("retry-after: 5"), "{text}");
    assert!(text.contains("very busy"), "{text}");
    drop(_first);
    drop(_second);
    assert!(
        wait_until(10, || std::panic::catch_unwind(|| server.get("/healthz").0 == 200).unwrap_or(false)),
        "served again once slots free up"
    );
}

#[tokio::test]
async fn every_error_page_is_the_friendly_page_with_the_sites_look() {
    let app = real_app();
    let article = get(&app, "/dry-needling/").await.html();
    let stylesheet = select(&article, "link[rel='stylesheet']")[0].value().attr("href").unwrap().to_string();
    let same_site = [("sec-fetch-site", "same-origin")];
    let mut cases = vec![
        (StatusCode::BAD_REQUEST, get(&app, "/static/%2e%2e/Cargo.toml").await),
        (StatusCode::URI_TOO_LONG, get(&app, &format!("/{}", "a".repeat(2000))).await),
        (StatusCode::NOT_FOUND, get(&app, "/nope").await),
        (StatusCode::METHOD_NOT_ALLOWED, send(&app, Method::POST, "/dry-needling/").await),
        (
            StatusCode::FORBIDDEN,
            send_form(
                &app,
                Method::POST,
                "/dry-needling/migraines/comment/",
                &[("sec-fetch-site", "cross-site")],
                "comment=hi",
            )
            .await,
        ),
        (
            StatusCode::PAYLOAD_TOO_LARGE,
            send_form(
                &app,
                Method::POST,
                "/dry-needling/migraines/comment/",
                &same_site,
                &format!("comment={}", "x".repeat(200_000)),
            )
            .await,
        ),
        (
            StatusCode::FORBIDDEN,
            send_form(&app, Method::POST, "/admin/login", &[("sec-fetch-site", "cross-site")], "username=a").await,
        ),
    ];
    for _ in 0..5 {
        send_form(&app, Method::POST, "/admin/login", &same_site, "password=guess").await;
    }
    cases.push((
        StatusCode::TOO_MANY_REQUESTS,
        send_form(&app, Method::POST, "/admin/login", &same_site, "password=guess").await,
    ));
    for (status, response) in cases {
        assert_eq!(response.status, status);
        assert_eq!(response.header("content-type"), "text/html; charset=utf-8", "{status}");
        assert_eq!(response.header("cache-control"), "no-store", "{status}");
        assert_eq!(response.header("content-length"), response.body.len().to_string(), "{status}");
        let html = response.html();
        assert!(!text_of(&html, "main h1").is_empty(), "{status}: a heading that says what happened");
        assert_eq!(text_of(&html, ".site-name"), "Riverside Physical Therapy", "{status}");
        assert_eq!(
            select(&html, &format!("link[rel='stylesheet'][href='{stylesheet}']")).len(),
            1,
            "{status}: the current stylesheet"
        );
        assert!(text_of(&html, "footer").contains("(555) 010-0142"), "{status}: the clinic's phone number");
        assert!(response.header("content-security-policy").starts_with("default-src 'self'"), "{status}");
    }
}

#[tokio::test]
async fn healthz_names_only_the_kind_of_problem_never_paths_lines_or_contents() {
    use clinic_site::config::Config;
    use clinic_site::site::Site;
    let content = copy_real_content();
    let app = TestApp::with_config(|data| Config::for_test(data).with_content(content.path()));
    // The probe: a page that is a link to a system file, and a broken page.
    #[cfg(unix)]
    std::os::unix::fs::symlink("/etc/passwd", content.path().join("dry-needling/passwd.md")).unwrap();
    let safety = content.path().join("dry-needling/safety.md");
    std::fs::write(
        &safety,
        std::fs::read_to_string(&safety).unwrap().replacen("+++\n", "+++\nsecret_key = \"hunter2\"\n", 1),
    )
    .unwrap();
    let options = clinic_site::site::SiteOptions::for_server(&app.state.config);
    assert!(app.state.site.reload(|| Site::load(content.path(), &options, &[])).is_err(), "the edit is refused");
    app.state.site.set_watcher_problem(Some(format!("cannot watch {}: too many open files", content.path().display())));

    let health = get(&app, "/healthz").await;
    assert_eq!(health.status, StatusCode::OK, "liveness: the site is still up");
    assert_eq!(health.header("cache-control"), "no-store");
    assert_eq!(
        health.body,
        "content error: the newest edit is not published; the last good version is being served\nwatcher error: saved edits are not being picked up\n"
    );
    for leak in ["root:", "passwd", "hunter2", "secret_key", ".md", "/"] {
        assert!(!health.body.contains(leak), "{leak:?} leaked: {}", health.body);
    }
    app.state.site.set_watcher_problem(None);
    std::fs::remove_file(content.path().join("dry-needling/passwd.md")).ok();
    std::fs::copy("content/dry-needling/safety.md", &safety).unwrap();
    assert!(app.state.site.reload(|| Site::load(content.path(), &options, &[])).is_ok());
    assert_eq!(get(&app, "/healthz").await.body, "ok\n");
}
