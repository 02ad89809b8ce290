//! The staff area: everyone signs in as themselves, and each address
//! states once, in [`routes`], who may use it.
//!
//! One layer, [`guard`], stands in front of every staff address: it finds
//! the request's session (a random token in an `HttpOnly`,
//! `SameSite=Strict` cookie, `Secure` when browsers keep one), refuses
//! people whose roles do not allow the address, checks the CSRF token and
//! origin of every form sent, and sends the cookie again with a fresh
//! lifetime, so a session ends 12 hours after its last use (or 7 days
//! after signing in). Handlers get the signed-in person as a [`Staff`]
//! extension and never check any of this themselves.

mod account;
mod activity;
mod dashboard;
mod editor;
mod feedback;
mod images;
mod moderation;
mod pages;
mod quality;
mod reviews;
mod sign_in;
mod staff;
mod structure;
mod two_step;

use std::time::{SystemTime, UNIX_EPOCH};

use askama::Template;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{MethodRouter, any, get, post};

use super::AppState;
use super::comments::same_origin;
use super::error::{AppError, blocking};
use super::respond::{Cache, html};
use crate::auth::sessions::Session;
use crate::auth::{Account, Need, Role};
use crate::site::{Chrome, Site};
use crate::urls;

const COOKIE: &str = "clinic_admin";
/// More than any staff form sends; the sign-in and set-password forms are
/// a few hundred bytes, a reply at most 2,000 characters. A route that
/// takes files states its own limit ([`AdminRoute::taking`]).
const FORM_LIMIT: usize = 64 * 1024;

/// One staff address: who may use it, the methods it answers and what
/// answers them.
pub struct AdminRoute {
    pub path: &'static str,
    pub need: Need,
    pub methods: &'static [Method],
    /// The largest request body the guard reads: [`FORM_LIMIT`] unless
    /// the route takes files.
    pub body_limit: usize,
    handler: MethodRouter<AppState>,
}

impl AdminRoute {
    /// The route takes bodies up to `limit` bytes (a file upload, a page).
    fn taking(self, limit: usize) -> AdminRoute {
        AdminRoute { body_limit: limit, ..self }
    }
}

const GET: &[Method] = &[Method::GET];
const POST: &[Method] = &[Method::POST];
const GET_POST: &[Method] = &[Method::GET, Method::POST];

fn route(path: &'static str, need: Need, methods: &'static [Method], handler: MethodRouter<AppState>) -> AdminRoute {
    AdminRoute { path, need, methods, body_limit: FORM_LIMIT, handler }
}

/// Every staff address and who may use it: the one place permissions are
/// stated. The role matrix test walks this list.
pub fn routes() -> Vec<AdminRoute> {
    use Need::{Nobody, SignedIn};
    let role = Need::Role;
    let either = Need::Either;
    vec![
        route(urls::ADMIN_LOGIN, Nobody, GET_POST, get(sign_in::form).post(sign_in::sign_in)),
        route(urls::ADMIN_LOGIN_CODE, Nobody, POST, post(two_step::second_step)),
        route(urls::ADMIN_SET_PASSWORD, Nobody, GET_POST, get(sign_in::link_form).post(sign_in::use_link)),
        route(urls::ADMIN_LOGOUT, SignedIn, POST, post(sign_in::sign_out)),
        route(urls::ADMIN, SignedIn, GET, get(dashboard::dashboard)),
        route(urls::ADMIN_COMMENTS, role(Role::Moderator), GET, get(moderation::comments)),
        route(urls::ADMIN_MODERATE, role(Role::Moderator), POST, post(moderation::moderate)),
        route(urls::ADMIN_ACCOUNT, SignedIn, GET, get(account::page)),
        route(urls::ADMIN_ACCOUNT_PASSWORD, SignedIn, POST, post(account::change_password)),
        route(urls::ADMIN_ACCOUNT_SIGN_OUT_OTHERS, SignedIn, POST, post(account::sign_out_everywhere)),
        route(urls::ADMIN_TWO_STEP, SignedIn, GET, get(two_step::page)),
        route(urls::ADMIN_TWO_STEP_ACTION, SignedIn, POST, post(two_step::act)),
        route(urls::ADMIN_STAFF, role(Role::Owner), GET_POST, get(staff::list).post(staff::add)),
        route(urls::ADMIN_STAFF_ACTION, role(Role::Owner), POST, post(staff::act)),
        route(urls::ADMIN_ACTIVITY, role(Role::Owner), GET, get(activity::page)),
        // Owners and editors (owners may act as every role).
        route(urls::ADMIN_PAGES, role(Role::Editor), GET, get(pages::list)),
        route(urls::ADMIN_PAGE_EDIT, role(Role::Editor), GET_POST, get(editor::edit).post(editor::save))
            .taking(editor::EDITOR_FORM_LIMIT),
        route(urls::ADMIN_PAGE_PREVIEW, role(Role::Editor), POST, post(editor::preview))
            .taking(editor::EDITOR_FORM_LIMIT),
        route(urls::ADMIN_PAGE_HISTORY, role(Role::Editor), GET, get(pages::history)),
        route(urls::ADMIN_PAGE_RESTORE, role(Role::Editor), POST, post(pages::restore)),
        route(
            urls::ADMIN_PAGE_RENAME,
            role(Role::Editor),
            GET_POST,
            get(structure::rename_page).post(structure::rename),
        ),
        route(urls::ADMIN_PAGE_TRASH, role(Role::Editor), GET_POST, get(structure::trash_page).post(structure::trash)),
        route(
            urls::ADMIN_ARTICLE_NEW,
            role(Role::Editor),
            GET_POST,
            get(structure::new_page).post(structure::add_page),
        ),
        route(
            urls::ADMIN_ARTICLE_ORDER,
            role(Role::Editor),
            GET_POST,
            get(structure::order_page).post(structure::reorder),
        ),
        route(urls::ADMIN_TRASH, role(Role::Editor), GET, get(structure::trash_page_list)),
        route(urls::ADMIN_TRASH_RESTORE, role(Role::Editor), POST, post(structure::restore)),
        route(urls::ADMIN_IMAGES, role(Role::Editor), GET_POST, get(images::page).post(images::upload))
            .taking(images::BODY_LIMIT),
        route(urls::ADMIN_FEEDBACK, either(Role::Moderator, Role::Editor), GET, get(feedback::page_get)),
        route(urls::ADMIN_FEEDBACK_REPORT, either(Role::Moderator, Role::Editor), POST, post(feedback::act)),
        route(urls::ADMIN_REVIEWS, role(Role::Reviewer), GET, get(reviews::queue)),
        route(
            urls::ADMIN_PAGE_SIGN_OFF,
            role(Role::Reviewer),
            GET_POST,
            get(reviews::sign_off_page).post(reviews::sign_off),
        ),
        route(urls::ADMIN_QUALITY, either(Role::Editor, Role::Reviewer), GET, get(quality::report)),
    ]
}

pub fn router(state: &AppState) -> Router<AppState> {
    let mut router = Router::new();
    for AdminRoute { path, need, handler, body_limit, .. } in routes() {
        let guarded =
            handler.route_layer(axum::middleware::from_fn_with_state((state.clone(), need, body_limit), guard));
        // Extractors keep the site-wide limit (16 KiB) unless the route
        // takes more, as an upload does.
        let guarded = if body_limit > FORM_LIMIT { guarded.layer(DefaultBodyLimit::max(body_limit)) } else { guarded };
        router = router.route(path, guarded);
    }
    router
        .route(&format!("{}/", urls::ADMIN), get(|| async { Redirect::permanent(urls::ADMIN) }))
        .route(urls::ADMIN_FIGURES, get(dashboard::figures_moved))
        // Any other address under the staff area is not found, but still
        // private like the rest.
        .route(&format!("{}/{{*rest}}", urls::ADMIN), any(|| async { AppError::NotFound }))
        .layer(axum::middleware::map_response(private))
}

/// The signed-in person making a request, as [`guard`] found them.
#[derive(Clone)]
pub(crate) struct Staff {
    pub account: Account,
    pub session: Session,
}

/// Layer on each staff route: who is asking, may they, and is the form
/// theirs.
async fn guard(
    State((state, need, body_limit)): State<(AppState, Need, usize)>,
    request: Request,
    next: Next,
) -> Result<Response, AppError> {
    if need == Need::Nobody {
        return Ok(next.run(request).await);
    }
    let Some(staff) = signed_in(&state, request.headers()).await? else {
        // Signed out, expired, disabled or forged: all sign in again.
        return Ok(Redirect::to(urls::ADMIN_LOGIN).into_response());
    };
    // `site.toml` may require two-step sign-in for this person's roles:
    // until it is on, every staff page but its own leads there.
    if two_step::must_set_up(&state.site.load().settings, &staff.account) && !two_step::exempt(request.uri().path()) {
        return renewed(&state, &staff.session, Redirect::to(urls::ADMIN_TWO_STEP).into_response());
    }
    if let Some(roles) = need.roles_named()
        && !need.allows(staff.account.roles)
    {
        return renewed(&state, &staff.session, forbidden(&state, &staff, roles)?);
    }
    let mut request = request;
    if request.method() == Method::POST {
        request = checked_form(&state, &staff, request, body_limit).await?;
    }
    request.extensions_mut().insert(staff.clone());
    let response = next.run(request).await;
    // Signing out sends its own cookie, which must win.
    if response.headers().contains_key(header::SET_COOKIE) {
        return Ok(response);
    }
    renewed(&state, &staff.session, response)
}

#[derive(Template)]
#[template(path = "admin_forbidden.html")]
struct ForbiddenTemplate<'a> {
    chrome: Chrome<'a>,
    nav: Nav,
    /// "moderator", or "moderator or editor".
    role: String,
}

/// 403 for a signed-in person whose roles do not include the one needed:
/// a plain page that says which role, with their own staff links.
fn forbidden(state: &AppState, staff: &Staff, role: String) -> Result<Response, AppError> {
    let site = state.site.load();
    let template =
        ForbiddenTemplate { chrome: admin_chrome(&site, "Your role cannot do this"), nav: Nav::new(staff, ""), role };
    page(StatusCode::FORBIDDEN, &template)
}

/// The request with its body read and put back, once the form is known to
/// come from this site and to carry the session's CSRF token. A file
/// upload (multipart) is read whole here too, so its token is checked
/// before a handler sees a byte of the file.
async fn checked_form(state: &AppState, staff: &Staff, request: Request, limit: usize) -> Result<Request, AppError> {
    let expired = || AppError::BadRequest("This form has expired. Go back, reload the page and try again.".into());
    if !same_origin(request.headers(), &state.site.load().settings.base_url) {
        return Err(AppError::CrossSite);
    }
    let upload = multipart_boundary(request.headers()).is_some();
    let too_large = || {
        if upload { AppError::UploadTooLarge { max_mb: limit / (1024 * 1024) } } else { AppError::PayloadTooLarge }
    };
    // Refused before reading when the size is stated.
    let stated = request.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
    if stated.is_some_and(|length| length > limit) {
        return Err(too_large());
    }
    let (parts, body) = request.into_parts();
    let bytes: Bytes = axum::body::to_bytes(body, limit).await.map_err(|_| too_large())?;
    let csrf = match multipart_boundary(&parts.headers) {
        Some(boundary) => multipart_field(bytes.clone(), boundary, "csrf").await,
        None => form_urlencoded_field(&bytes, "csrf"),
    };
    if csrf.as_deref().is_none_or(|csrf| csrf.is_empty() || csrf != staff.session.csrf) {
        return Err(expired());
    }
    Ok(Request::from_parts(parts, Body::from(bytes)))
}

/// One field of a form body, decoded.
fn form_urlencoded_field(body: &[u8], name: &str) -> Option<String> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body).ok()?;
    pairs.into_iter().find(|(key, _)| key == name).map(|(_, value)| value)
}

/// The boundary of a `multipart/form-data` body (a form with a file).
fn multipart_boundary(headers: &HeaderMap) -> Option<String> {
    let content_type = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    content_type
        .to_ascii_lowercase()
        .starts_with("multipart/form-data")
        .then(|| multer::parse_boundary(content_type).ok())
        .flatten()
}

/// One text field of a multipart body, read from memory. Forms put the
/// token first, so the file after it is skipped, not read as text.
async fn multipart_field(body: Bytes, boundary: String, name: &str) -> Option<String> {
    let stream = tokio_stream::once(Ok::<Bytes, std::convert::Infallible>(body));
    let mut multipart = multer::Multipart::new(stream, boundary);
    while let Ok(Some(field)) = multipart.next_field().await {
        if field.name() == Some(name) {
            return field.text().await.ok();
        }
    }
    None
}

/// Layer: every answer from the staff area, redirects and errors included,
/// is kept by no cache and listed by no search engine.
async fn private(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert("x-robots-tag", HeaderValue::from_static("noindex, nofollow"));
    response
}

/// Seconds since 1970, for the sessions' limits and the activity record.
pub(crate) fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

/// The request's live session and its person; using it keeps it alive.
async fn signed_in(state: &AppState, headers: &HeaderMap) -> Result<Option<Staff>, AppError> {
    let Some(token) = cookie(headers, COOKIE) else { return Ok(None) };
    let staff = state.staff.clone();
    let found = blocking(move || staff.touch(&token, now())).await?;
    Ok(found.map(|(session, account)| Staff { account, session }))
}

/// Whether browsers keep a `Secure` cookie for the site: served over
/// https, or on a loopback address, which browsers count as a secure
/// origin even over plain http.
fn secure_origin(base_url: &str) -> bool {
    if base_url.starts_with("https://") {
        return true;
    }
    let Some(rest) = base_url.strip_prefix("http://") else { return false };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => authority.rsplit_once(':').map_or(authority, |(host, _)| host),
    };
    let host = host.to_ascii_lowercase();
    host == "localhost"
        || host.ends_with(".localhost")
        || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// The session cookie, living as long as the session does if not used
/// again.
fn session_cookie(state: &AppState, session: &Session) -> Result<HeaderValue, AppError> {
    let secure = if secure_origin(&state.site.load().settings.base_url) { "; Secure" } else { "" };
    let cookie = format!(
        "{COOKIE}={}; Path=/admin; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
        session.token, session.lifetime
    );
    HeaderValue::from_str(&cookie).map_err(|e| AppError::Internal(format!("a session cookie that is not ASCII: {e}")))
}

/// The cookie that ends the browser's copy of a session.
fn cleared_cookie() -> HeaderValue {
    HeaderValue::from_static("clinic_admin=; Path=/admin; HttpOnly; SameSite=Strict; Max-Age=0")
}

/// Sends the cookie again, so the browser's copy, like the session, ends
/// 12 hours after the last use rather than after signing in.
fn renewed(state: &AppState, session: &Session, mut response: Response) -> Result<Response, AppError> {
    response.headers_mut().insert(header::SET_COOKIE, session_cookie(state, session)?);
    Ok(response)
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

fn page(status: StatusCode, template: &impl Template) -> Result<Response, AppError> {
    html(status, Cache::NoStore, template)
}

fn admin_chrome<'a>(site: &'a Site, title: &str) -> Chrome<'a> {
    Chrome { staff: true, ..Chrome::plain(&site.settings, &site.asset_urls, title, urls::ADMIN) }
}

/// The staff pages' own navigation: who is signed in, the pages their
/// roles open, and signing out.
pub(crate) struct Nav {
    pub who: String,
    pub roles: String,
    pub csrf: String,
    /// (address, label, is this page)
    pub links: Vec<(&'static str, &'static str, bool)>,
}

impl Nav {
    fn new(staff: &Staff, here: &str) -> Nav {
        let roles = staff.account.roles;
        let mut links = vec![(urls::ADMIN, "Dashboard")];
        if roles.may(Role::Moderator) {
            links.push((urls::ADMIN_COMMENTS, "Comments"));
        }
        if roles.may(Role::Moderator) || roles.may(Role::Editor) {
            links.push((urls::ADMIN_FEEDBACK, "Feedback"));
        }
        if roles.may(Role::Editor) {
            links.push((urls::ADMIN_PAGES, "Pages"));
            links.push((urls::ADMIN_IMAGES, "Pictures"));
        }
        if roles.may(Role::Reviewer) {
            links.push((urls::ADMIN_REVIEWS, "Reviews"));
        }
        if roles.may(Role::Editor) || roles.may(Role::Reviewer) {
            links.push((urls::ADMIN_QUALITY, "Quality"));
        }
        if roles.may(Role::Owner) {
            links.push((urls::ADMIN_STAFF, "Staff"));
            links.push((urls::ADMIN_ACTIVITY, "Activity"));
        }
        links.push((urls::ADMIN_ACCOUNT, "Your account"));
        Nav {
            who: staff.account.name.clone(),
            roles: roles.describe(),
            csrf: staff.session.csrf.clone(),
            links: links.into_iter().map(|(href, label)| (href, label, href == here)).collect(),
        }
    }
}

/// A staff page's address with a message for the page to show after a
/// change: `/admin/staff?done=added`.
fn done_at(path: &str, done: &str) -> Response {
    Redirect::to(&format!("{path}?done={done}")).into_response()
}

#[cfg(test)]
mod tests {
    #[test]
    fn session_cookies_are_secure_over_https_and_on_loopback() {
        for url in [
            "https://clinic.example",
            "http://localhost:8080",
            "http://127.0.0.1",
            "http://[::1]:3000/x",
            "http://app.localhost",
        ] {
            assert!(super::secure_origin(url), "{url}");
        }
        for url in ["http://clinic.example", "http://10.0.0.2:8080", "http://localhost.example.com", ""] {
            assert!(!super::secure_origin(url), "{url}");
        }
    }

    /// Every staff route is under `/admin`, so the `private` layer covers
    /// it and no page can take its address.
    #[test]
    fn every_staff_route_is_under_admin_and_stated_once() {
        let routes = super::routes();
        let mut paths: Vec<&str> = routes.iter().map(|route| route.path).collect();
        for path in &paths {
            assert!(path.starts_with(&format!("{}/", crate::urls::ADMIN)) || *path == crate::urls::ADMIN, "{path}");
        }
        paths.sort_unstable();
        paths.dedup();
        assert_eq!(paths.len(), routes.len(), "each address has one line, so one statement of who may use it");
    }

    #[tokio::test]
    async fn the_token_is_found_in_a_multipart_form_before_its_file() {
        let body = "--XyZ\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\nab+c d\r\n--XyZ\r\nContent-Disposition: form-data; name=\"image\"; filename=\"a.jpg\"\r\nContent-Type: image/jpeg\r\n\r\nnot really a JPEG\r\n--XyZ--\r\n";
        let mut headers = super::HeaderMap::new();
        headers.insert(super::header::CONTENT_TYPE, "multipart/form-data; boundary=XyZ".parse().unwrap());
        let boundary = super::multipart_boundary(&headers).unwrap();
        let body = super::Bytes::from(body.to_string());
        assert_eq!(super::multipart_field(body.clone(), boundary.clone(), "csrf").await.as_deref(), Some("ab+c d"));
        assert_eq!(super::multipart_field(body, boundary, "page").await, None);
        headers.insert(super::header::CONTENT_TYPE, "application/x-www-form-urlencoded".parse().unwrap());
        assert_eq!(super::multipart_boundary(&headers), None);
    }

    #[test]
    fn form_fields_are_decoded() {
        assert_eq!(super::form_urlencoded_field(b"a=1&csrf=ab%2Bc+d", "csrf").as_deref(), Some("ab+c d"));
        assert_eq!(super::form_urlencoded_field(b"a=1", "csrf"), None);
    }
}
