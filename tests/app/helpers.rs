//! Building the app on a content folder and sending it requests.

use std::path::Path;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use clinic_site::config::Config;
use clinic_site::http::{AppState, router};
use http_body_util::BodyExt;
use scraper::{Html, Selector};
use tower::ServiceExt;

/// The app serving the repository's real `content/`.
pub fn real_app() -> Router {
    router(AppState::load(Config::for_test()).expect("the real content loads"))
}

/// The app serving a fixture folder under `tests/fixtures/`.
pub fn fixture_app(name: &str) -> Router {
    router(AppState::load(fixture_config(name)).expect("the fixture loads"))
}

pub fn fixture_config(name: &str) -> Config {
    Config { content: Path::new("tests/fixtures").join(name), ..Config::for_test() }
}

pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl TestResponse {
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).map(|v| v.to_str().expect("header is text")).unwrap_or("")
    }

    pub fn html(&self) -> Html {
        Html::parse_document(&self.body)
    }
}

pub async fn get(app: &Router, path: &str) -> TestResponse {
    send(app, Method::GET, path).await
}

pub async fn send(app: &Router, method: Method, path: &str) -> TestResponse {
    let request = Request::builder().method(method).uri(path).body(Body::empty()).expect("valid request");
    let response = app.clone().oneshot(request).await.expect("the router never fails");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.expect("body reads").to_bytes();
    TestResponse { status, headers, body: String::from_utf8(bytes.to_vec()).expect("body is UTF-8") }
}

pub fn select<'a>(html: &'a Html, css: &str) -> Vec<scraper::ElementRef<'a>> {
    html.select(&Selector::parse(css).expect("valid selector")).collect()
}

/// Text of the first element matching `css`, with whitespace collapsed.
pub fn text_of(html: &Html, css: &str) -> String {
    select(html, css).first().map(|e| collapse(&e.text().collect::<String>())).unwrap_or_default()
}

pub fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The real article's pages in reading order, with the titles the clinic's
/// text gives them.
pub const ARTICLE: &[(&str, &str)] = &[
    ("/dry-needling/", "How Dry Needling Therapy Effectively Relieves Migraines and Chronic Pain"),
    ("/dry-needling/migraines/", "How Can Dry Needling Help Migraines?"),
    ("/dry-needling/chronic-pain/", "Benefits of Dry Needling for Chronic Pain"),
    ("/dry-needling/what-to-expect/", "What to Expect During a Dry Needling Session"),
    ("/dry-needling/who-can-benefit/", "Who Can Benefit from Dry Needling?"),
    ("/dry-needling/safety/", "Is Dry Needling Safe?"),
    ("/dry-needling/right-for-you/", "Final Thoughts: Is Dry Needling Right for You?"),
];
