//! What every response carries, and what every request must look like,
//! set in one place.

use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::error::AppError;

/// Pages load only our own stylesheet, script and images (the favicon is
/// an empty `data:` URL), so the policy forbids everything else: a script
/// slipped into a page could not run, nor load anything from elsewhere.
pub(crate) const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'self'; object-src 'none'";

/// Browser features the site never uses, turned off for it and anything
/// that might be injected into it.
pub(crate) const PERMISSIONS_POLICY: &str = "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), payment=(), usb=(), interest-cohort=()";

const SECURITY_HEADERS: &[(HeaderName, &str)] = &[
    (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (header::REFERRER_POLICY, "strict-origin-when-cross-origin"),
    (header::X_FRAME_OPTIONS, "DENY"),
];

pub async fn security(State(state): State<AppState>, mut response: Response) -> Response {
    let headers = response.headers_mut();
    for (name, value) in SECURITY_HEADERS {
        headers.insert(name.clone(), HeaderValue::from_static(value));
    }
    headers.insert(HeaderName::from_static("permissions-policy"), HeaderValue::from_static(PERMISSIONS_POLICY));
    headers.insert(HeaderName::from_static("cross-origin-opener-policy"), HeaderValue::from_static("same-origin"));
    // Only a site served over HTTPS may promise to stay on it.
    if state.site.load().settings.base_url.starts_with("https://") {
        headers
            .insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000; includeSubDomains"));
    }
    response
}

/// Longest path any page has is far below this; longer ones are refused
/// before anything looks them up.
const MAX_PATH: usize = 1024;

/// Refuses paths that try to climb out of a folder or hide separators:
/// `..`, `%2e%2e`, encoded slashes and backslashes, NUL bytes. No handler
/// reads files by path, but none should ever see such a path either.
pub async fn paths(request: Request, next: Next) -> Response {
    match path_problem(request.uri().path()) {
        Some(problem) => problem.into_response(),
        None => next.run(request).await,
    }
}

fn path_problem(path: &str) -> Option<AppError> {
    let invalid = || Some(AppError::BadRequest("That web address is not valid. Check it and try again.".into()));
    if path.len() > MAX_PATH {
        return Some(AppError::UriTooLong);
    }
    let lower = path.to_ascii_lowercase();
    if ["%00", "%2f", "%5c", "\\"].iter().any(|bad| lower.contains(bad)) {
        return invalid();
    }
    let decoded = lower.replace("%2e", ".");
    if decoded.split('/').any(|segment| segment == ".." || segment == ".") {
        return invalid();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::path_problem;

    #[test]
    fn climbing_and_hidden_separators_are_refused() {
        for bad in [
            "/static/../Cargo.toml",
            "/static/%2e%2e/x",
            "/static/%2E%2e/x",
            "/a/%2fetc",
            "/a/%5c",
            "/a/%00",
            "/a/./b",
            "/a\\b",
        ] {
            assert!(path_problem(bad).is_some(), "{bad}");
        }
        assert!(path_problem(&format!("/{}", "a".repeat(2000))).is_some());
        for good in ["/", "/dry-needling/safety/", "/static/site.3f9a1c2b.css", "/og/dry-needling/index.png", "/a/b.c/"]
        {
            assert!(path_problem(good).is_none(), "{good}");
        }
    }
}
