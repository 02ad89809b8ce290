//! Page text is not trusted: nothing typed into markdown may run.

use axum::http::StatusCode;

use crate::helpers::*;

#[tokio::test]
async fn raw_html_in_markdown_is_shown_as_text_not_live() {
    let response = get(&fixture_app("valid"), "/guide/").await;
    assert_eq!(response.status, StatusCode::OK);
    let html = response.html();
    let scripts: Vec<_> = select(&html, "script")
        .iter()
        .map(|s| (s.value().attr("type"), s.value().attr("src").map(|src| src.starts_with("/static/share."))))
        .collect();
    assert_eq!(
        scripts,
        [(Some("application/ld+json"), None), (None, Some(true))],
        "a live script element reached the page"
    );
    assert!(select(&html, "img").is_empty(), "a live img element reached the page");
    assert!(select(&html, "[onerror], [onclick]").is_empty());
    let prose = text_of(&html, ".prose");
    assert!(prose.contains("<script>alert(\"raw\")</script>"), "{prose}");
    assert!(prose.contains("<img src=x onerror=alert(1)>"), "{prose}");
}

#[tokio::test]
async fn script_links_in_markdown_are_not_links() {
    let html = get(&fixture_app("valid"), "/guide/").await.html();
    for a in select(&html, "a[href]") {
        let href = a.value().attr("href").expect("selected by href").to_ascii_lowercase();
        assert!(!href.starts_with("javascript:"), "live script link: {href}");
    }
    assert!(text_of(&html, ".prose").contains("Sneaky link."));
}

#[tokio::test]
async fn static_files_never_come_from_outside_the_static_folder() {
    let app = real_app();
    for path in [
        "/static/../Cargo.toml",
        "/static/%2e%2e/Cargo.toml",
        "/static/..%2fCargo.toml",
        "/static/%2e%2e%2fcontent%2fsite.toml",
    ] {
        let response = get(&app, path).await;
        assert!(!response.body.contains("[package]") && !response.body.contains("clinic_name"), "{path} leaked a file");
        assert!(response.status.is_client_error(), "{path}: {}", response.status);
    }
}

#[tokio::test]
async fn security_headers_are_on_every_response() {
    let app = real_app();
    for path in ["/", "/dry-needling/", "/nope", "/static/site.css", "/healthz"] {
        let response = get(&app, path).await;
        assert!(response.header("content-security-policy").contains("default-src 'self'"), "{path}");
        assert_eq!(response.header("x-content-type-options"), "nosniff", "{path}");
        assert_eq!(response.header("referrer-policy"), "strict-origin-when-cross-origin", "{path}");
    }
}
