//! What every response carries, and what every request must look like,
//! set in one place.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, header};
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
    let https = state.site.load().settings.base_url.starts_with("https://");
    add_security(response.headers_mut(), https);
    response
}

/// The security headers, on every response: the router's through the
/// layer above, prepared pages' in [`super::service`].
pub(super) fn add_security(headers: &mut HeaderMap, https: bool) {
    for (name, value) in SECURITY_HEADERS {
        headers.insert(name.clone(), HeaderValue::from_static(value));
    }
    headers.insert(PERMISSIONS_POLICY_HEADER, HeaderValue::from_static(PERMISSIONS_POLICY));
    headers.insert(CROSS_ORIGIN_OPENER_POLICY, HeaderValue::from_static("same-origin"));
    // Only a site served over HTTPS may promise to stay on it.
    if https {
        headers
            .insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000; includeSubDomains"));
    }
}

/// Named once: a name made from a `&str` on each response is checked and
/// copied each time.
const PERMISSIONS_POLICY_HEADER: HeaderName = HeaderName::from_static("permissions-policy");
const CROSS_ORIGIN_OPENER_POLICY: HeaderName = HeaderName::from_static("cross-origin-opener-policy");

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

pub(super) fn path_problem(path: &str) -> Option<AppError> {
    let invalid = || Some(AppError::BadRequest("That web address is not valid. Check it and try again.".into()));
    if path.len() > MAX_PATH {
        return Some(AppError::UriTooLong);
    }
    // Checked on every request, pages included: byte by byte, without
    // copying the path.
    let bytes = path.as_bytes();
    let escaped =
        |at: usize, code: &[u8; 2]| bytes.get(at + 1..at + 3).is_some_and(|hex| hex.eq_ignore_ascii_case(code));
    for (at, &byte) in bytes.iter().enumerate() {
        let hidden =
            byte == b'\\' || (byte == b'%' && (escaped(at, b"00") || escaped(at, b"2f") || escaped(at, b"5c")));
        if hidden {
            return invalid();
        }
    }
    // `.` and `..` segments, with the dots written out or as `%2e`.
    let dots = |segment: &str| {
        let mut rest = segment.as_bytes();
        let mut count = 0;
        while !rest.is_empty() {
            if rest[0] == b'.' {
                rest = &rest[1..];
            } else if rest.len() >= 3 && rest[0] == b'%' && rest[1..3].eq_ignore_ascii_case(b"2e") {
                rest = &rest[3..];
            } else {
                return None;
            }
            count += 1;
        }
        Some(count)
    };
    if path.split('/').any(|segment| matches!(dots(segment), Some(1 | 2))) {
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
            "/a/%2E/b",
            "/a/.%2e/b",
            "/a/%5C",
        ] {
            assert!(path_problem(bad).is_some(), "{bad}");
        }
        assert!(path_problem(&format!("/{}", "a".repeat(2000))).is_some());
        for good in [
            "/",
            "/dry-needling/safety/",
            "/static/site.3f9a1c2b.css",
            "/og/dry-needling/index.png",
            "/a/b.c/",
            "/a/.../",
            "/a/%25/",
            "/a/.well-known/",
        ] {
            assert!(path_problem(good).is_none(), "{good}");
        }
    }
}
