//! The staff area: sign in, then approve, reject, delete or reply to
//! comments from a browser.
//!
//! Sessions are random tokens in an `HttpOnly`, `SameSite=Strict` cookie
//! (`Secure` when browsers keep one: https, or a loopback address), kept
//! hashed in SQLite by `auth::sessions` so a restart signs no one out, and
//! ended after 12 hours without use or 7 days after signing in: each
//! answer to a signed-in request sends the cookie again with a fresh
//! lifetime. A session ends too when the password
//! is changed. Every form carries the session's CSRF token. The password
//! is stored only as an Argon2 hash, set with
//! `clinic-site admin set-password`; sign-ins are limited per address
//! (counted before the slow check, so simultaneous attempts cannot slip
//! past) and only a few password checks run at once.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use askama::Template;
use axum::Router;
use axum::extract::{Form, Path as UrlPath, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{any, get, post};
use serde::Deserialize;

use super::AppState;
use super::comments::same_origin;
use super::error::{AppError, blocking};
use super::limit::ClientIp;
use super::respond::{Cache, html};
use crate::auth::password::{self, Check, NotChecked};
use crate::auth::sessions::{Session, SessionError};
use crate::comments::store::{Counts, StoreError};
use crate::comments::{Comment, PersonalDetail, Status, TEXT_MAX, in_words};
use crate::site::{Chrome, Site};
use crate::urls;
use crate::util::date::Date;

const COOKIE: &str = "clinic_admin";
/// How long a sign-in turned away because too many checks are running is
/// told to wait: a check takes well under a second.
const BUSY_WAIT: Duration = Duration::from_secs(5);

pub fn router() -> Router<AppState> {
    Router::new()
        .route(urls::ADMIN, get(home))
        .route(&format!("{}/", urls::ADMIN), get(|| async { Redirect::permanent(urls::ADMIN) }))
        .route(urls::ADMIN_LOGIN, get(login_form).post(login))
        .route(urls::ADMIN_LOGOUT, post(logout))
        .route(urls::ADMIN_MODERATE, post(moderate))
        // Any other address under the staff area is not found, but still
        // private like the rest.
        .route(&format!("{}/{{*rest}}", urls::ADMIN), any(|| async { AppError::NotFound }))
        .layer(axum::middleware::map_response(private))
}

/// Layer: every answer from the staff area, redirects and errors included,
/// is kept by no cache and listed by no search engine.
async fn private(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert("x-robots-tag", HeaderValue::from_static("noindex, nofollow"));
    response
}

/// Seconds since 1970, for the sessions' limits.
fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

fn session_failed(error: SessionError) -> AppError {
    AppError::Internal(format!("staff sessions: {error}"))
}

/// The request's live session, which using it keeps alive. The password
/// file is read (once, and only when there is a cookie) so a session from
/// before a password change is refused.
async fn active(state: &AppState, headers: &HeaderMap) -> Result<Option<Session>, AppError> {
    let Some(token) = cookie(headers, COOKIE) else { return Ok(None) };
    let looking = state.clone();
    blocking(move || {
        let current = password::fingerprint(&looking.config.data);
        looking.sessions.touch(&token, current.as_ref(), now()).map_err(session_failed)
    })
    .await
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

#[derive(Template)]
#[template(path = "admin_login.html")]
struct LoginTemplate<'a> {
    chrome: Chrome<'a>,
    error: Option<&'static str>,
    password_set: bool,
}

async fn login_form(State(state): State<AppState>) -> Result<Response, AppError> {
    let site = state.site.load();
    let password_set = password::is_set(&state.config.data);
    page(StatusCode::OK, &LoginTemplate { chrome: admin_chrome(&site, "Staff sign in"), error: None, password_set })
}

fn admin_chrome<'a>(site: &'a Site, title: &str) -> Chrome<'a> {
    Chrome::plain(&site.settings, &site.asset_urls, title, urls::ADMIN)
}

#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    password: String,
}

async fn login(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Result<Response, AppError> {
    if !same_origin(&headers, &state.site.load().settings.base_url) {
        return Err(AppError::CrossSite);
    }
    // The failure is counted before the slow check, atomically, so
    // attempts arriving together cannot all pass a check made before any
    // of them failed; a right password gives the slot back.
    let slot = state.limits.logins.reserve(client).map_err(AppError::TooManyRequests)?;
    let checked = match state.limits.password_checks.check(state.config.data.clone(), form.password).await {
        Ok(checked) => checked,
        Err(NotChecked::Busy) => return Err(AppError::Busy(BUSY_WAIT)),
        Err(NotChecked::Failed(why)) => return Err(AppError::Internal(why)),
    };
    let fingerprint = match checked {
        Check::Right(fingerprint) => fingerprint,
        Check::Wrong | Check::NotSet => {
            slot.commit();
            tracing::warn!(%client, "failed staff sign-in");
            let site = state.site.load();
            let template = LoginTemplate {
                chrome: admin_chrome(&site, "Staff sign in"),
                error: Some("The password is not right. Check it and try again."),
                password_set: matches!(checked, Check::Wrong),
            };
            return page(StatusCode::UNAUTHORIZED, &template);
        }
    };
    drop(slot);
    let sessions = state.sessions.clone();
    let session = blocking(move || sessions.start(&fingerprint, now()).map_err(session_failed)).await?;
    renewed(&state, &session, Redirect::to(urls::ADMIN).into_response())
}

#[derive(Deserialize)]
struct CsrfForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    reply: String,
}

async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Result<Response, AppError> {
    if let Some(session) = active(&state, &headers).await?.filter(|session| session.csrf == form.csrf) {
        let sessions = state.sessions.clone();
        blocking(move || sessions.end(&session.token).map_err(session_failed)).await?;
    }
    let mut response = Redirect::to(urls::ADMIN_LOGIN).into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("clinic_admin=; Path=/admin; HttpOnly; SameSite=Strict; Max-Age=0"),
    );
    Ok(response)
}

/// A comment as the moderation page shows it.
struct Row {
    comment: Comment,
    page_title: String,
    date: String,
    /// What the writer was warned about, in words ("a phone number and
    /// the name of a medicine"); empty when not kept.
    flag_reasons: String,
    unwell_now: bool,
    /// A reply that was not saved, shown again in its box.
    draft: Option<String>,
}

impl Row {
    /// What the reply box holds: an unsaved draft, else the saved reply.
    fn reply_text(&self) -> &str {
        self.draft.as_deref().or(self.comment.reply.as_deref()).unwrap_or("")
    }
}

#[derive(Template)]
#[template(path = "admin.html")]
struct AdminTemplate<'a> {
    chrome: Chrome<'a>,
    csrf: String,
    /// What is wrong with the site now, in full: only staff see this.
    problems: Vec<Problem>,
    /// `None` when the comments could not be loaded.
    counts: Option<Counts>,
    pending: Vec<Row>,
    approved: Vec<Row>,
    /// What the last action did, for the status message.
    done: Option<String>,
    /// Why the last action was not done.
    refused: Option<String>,
}

/// Something wrong with the site. `/healthz` names only its kind; staff
/// get the details, which may quote files.
struct Problem {
    heading: &'static str,
    details: String,
}

/// Everything wrong with the site now. Reads the content files for the
/// lines the messages quote, so it runs off the async threads.
fn site_problems(state: &AppState) -> Vec<Problem> {
    let mut problems = Vec::new();
    if let Some(errors) = state.site.error() {
        problems.push(Problem {
            heading: "The newest edit to the content is not published",
            details: format!(
                "The last good version is still being served. Fix these and save again:\n\n{}{} found in the content",
                crate::content::format_text(&errors.0),
                crate::content::summary(&errors.0)
            ),
        });
    }
    if let Some(why) = state.site.watcher_problem() {
        problems.push(Problem { heading: "Saved edits are not being picked up", details: why.to_string() });
    }
    if let Some(reason) = state.comments.failure() {
        problems.push(Problem {
            heading: "The comments database is failing",
            details: format!("SQLite's last error: {reason}. Comments may not be saved, changed or listed until it works again; the server log has each failure."),
        });
    }
    problems
}

#[derive(Deserialize)]
struct Done {
    done: Option<String>,
}

async fn home(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: axum::extract::Query<Done>,
) -> Result<Response, AppError> {
    let Some(session) = active(&state, &headers).await? else {
        return Ok(Redirect::to(urls::ADMIN_LOGIN).into_response());
    };
    let done = query.0.done.as_deref().and_then(|d| match d {
        "approved" => Some("Comment approved: it is now on the page."),
        "rejected" => Some("Comment rejected: it will not appear."),
        "deleted" => Some("Comment deleted for good."),
        "replied" => Some("Reply saved: it shows under the comment once the comment is approved."),
        _ => None,
    });
    let page = moderation_page(&state, &session, Outcome { done: done.map(String::from), refused: None }).await?;
    renewed(&state, &session, page)
}

/// What the moderation page reports about the last action.
struct Outcome {
    done: Option<String>,
    /// The action was refused: why, and the reply typed (comment id and
    /// text) to show again.
    refused: Option<(String, Option<(i64, String)>)>,
}

async fn moderation_page(state: &AppState, session: &Session, outcome: Outcome) -> Result<Response, AppError> {
    let looking = state.clone();
    let (loaded, problems) = blocking(move || {
        let store = &looking.comments;
        let loaded = (|| {
            Ok::<_, StoreError>((
                store.counts()?,
                store.with_status(Status::Pending, 200)?,
                store.with_status(Status::Approved, 50)?,
            ))
        })();
        // After loading, so a failure just now is among the problems.
        Ok::<_, AppError>((loaded, site_problems(&looking)))
    })
    .await?;
    let ok = if outcome.refused.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    // Staff still get the page, with the problems that say why the
    // comments are missing.
    let (status, counts, pending, approved) = match loaded {
        Ok((counts, pending, approved)) => (ok, Some(counts), pending, approved),
        Err(e) => {
            tracing::error!("loading comments for the staff page failed: {e}");
            (StatusCode::INTERNAL_SERVER_ERROR, None, Vec::new(), Vec::new())
        }
    };
    let (refused, draft) = match outcome.refused {
        Some((why, draft)) => (Some(why), draft),
        None => (None, None),
    };
    let site = state.site.load();
    let row = |comment: Comment| Row {
        page_title: site.comment_page(&comment.page).map_or_else(|| comment.page.clone(), |p| p.title.clone()),
        date: Date::from_unix(comment.created_at).long(),
        flag_reasons: in_words(&comment.flags.iter().map(|f| f.for_staff()).collect::<Vec<_>>(), "and"),
        unwell_now: comment.flags.contains(&PersonalDetail::SymptomsNow),
        draft: draft.as_ref().filter(|(id, _)| *id == comment.id).map(|(_, text)| text.clone()),
        comment,
    };
    page(
        status,
        &AdminTemplate {
            chrome: admin_chrome(&site, "Comments to moderate"),
            csrf: session.csrf.clone(),
            problems,
            counts,
            pending: pending.into_iter().map(row).collect(),
            approved: approved.into_iter().map(row).collect(),
            done: outcome.done,
            refused,
        },
    )
}

/// `n` with thousands separated, as the staff guide writes numbers.
fn grouped(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

#[tracing::instrument(skip(state, headers, form))]
async fn moderate(
    State(state): State<AppState>,
    headers: HeaderMap,
    UrlPath((id, action)): UrlPath<(i64, String)>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, AppError> {
    let Some(session) = active(&state, &headers).await? else { return Err(AppError::Unauthorized) };
    if form.csrf.is_empty() || form.csrf != session.csrf || !same_origin(&headers, &state.site.load().settings.base_url)
    {
        return Err(AppError::BadRequest("This form has expired. Go back, reload the page and try again.".into()));
    }
    let reply = form.reply;
    // The same rule as readers' comments: characters, not bytes, with a
    // line break counted once however the browser sent it.
    let length = reply.trim().replace("\r\n", "\n").chars().count();
    if action == "reply" && length > TEXT_MAX {
        let why = format!(
            "The reply was not saved: it is {} characters long, and replies can be at most {}. It is still in its box below: shorten it and save it again.",
            grouped(length),
            grouped(TEXT_MAX)
        );
        let page =
            moderation_page(&state, &session, Outcome { done: None, refused: Some((why, Some((id, reply)))) }).await?;
        return renewed(&state, &session, page);
    }
    let store = state.comments.clone();
    let done = blocking(move || match action.as_str() {
        "approve" => store.set_status(id, Status::Approved).map(|c| c.map(|_| "approved")),
        "reject" => store.set_status(id, Status::Rejected).map(|c| c.map(|_| "rejected")),
        "delete" => store.delete(id).map(|c| c.map(|_| "deleted")),
        "reply" => store.set_reply(id, &reply).map(|c| c.map(|_| "replied")),
        _ => Ok(None),
    })
    .await?
    .ok_or(AppError::NotFound)?;
    tracing::info!(id, done, "comment moderated");
    super::publish_comments(&state).await;
    renewed(&state, &session, Redirect::to(&format!("{}?done={done}", urls::ADMIN)).into_response())
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

    #[test]
    fn numbers_are_grouped_in_thousands() {
        let cases = [(0, "0"), (999, "999"), (2_000, "2,000"), (16_000, "16,000"), (1_234_567, "1,234,567")];
        for (n, text) in cases {
            assert_eq!(super::grouped(n), text);
        }
    }
}
