//! Headers every response carries, set in one place.

use axum::http::{HeaderName, HeaderValue, header};
use axum::response::Response;

/// Pages load only our own stylesheet, script and images, so the policy can
/// forbid everything else; a page that tried to load a third-party script
/// would be stopped by the browser.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'self'; object-src 'none'";

const SECURITY_HEADERS: &[(HeaderName, &str)] = &[
    (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (header::REFERRER_POLICY, "strict-origin-when-cross-origin"),
    (header::X_FRAME_OPTIONS, "DENY"),
];

pub async fn security(mut response: Response) -> Response {
    let headers = response.headers_mut();
    for (name, value) in SECURITY_HEADERS {
        headers.entry(name.clone()).or_insert(HeaderValue::from_static(value));
    }
    headers.entry(HeaderName::from_static("permissions-policy")).or_insert(HeaderValue::from_static("camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()"));
    response
}
