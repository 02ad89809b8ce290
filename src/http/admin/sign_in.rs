//! Signing in and out, and setting a password with a one-time link.
//!
//! Failed sign-ins are limited per client and per username, each slot
//! taken before the slow check (atomically, so attempts arriving together
//! cannot all slip past) and given back when the password was right. An
//! unknown username goes through the same check, against a decoy hash, and
//! gets the same answer as a wrong password.

use askama::Template;
use axum::Extension;
use axum::extract::{Form, Path as UrlPath, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::{Staff, admin_chrome, cleared_cookie, now, page, renewed};
use crate::auth::password::{self, PASSWORD_MIN};
use crate::auth::{Account, Actor, AuthError, Kind};
use crate::http::AppState;
use crate::http::comments::same_origin;
use crate::http::error::{AppError, blocking};
use crate::http::limit::ClientIp;
use crate::site::Chrome;
use crate::urls;

/// Usernames are at most 32 characters; anything much longer is not one
/// and is not worth a limiter entry.
const TYPED_USERNAME_MAX: usize = 64;

#[derive(Template)]
#[template(path = "admin_login.html")]
struct LoginTemplate<'a> {
    chrome: Chrome<'a>,
    error: Option<String>,
    /// What the page says before the form (a password just set, say).
    done: Option<&'static str>,
    username: String,
    /// No one can sign in yet: the page says how to add the first owner.
    no_accounts: bool,
}

#[derive(Deserialize)]
pub(super) struct Done {
    done: Option<String>,
}

pub(super) async fn form(State(state): State<AppState>, Query(query): Query<Done>) -> Result<Response, AppError> {
    let staff = state.staff.clone();
    let no_accounts = !blocking(move || staff.has_accounts()).await?;
    let done = match query.done.as_deref() {
        Some("password-set") => Some("Your password is set. Sign in with your username and the new password."),
        Some("signed-out") => Some("You are signed out."),
        _ => None,
    };
    login_page(&state, StatusCode::OK, None, done, String::new(), no_accounts)
}

fn login_page(
    state: &AppState,
    status: StatusCode,
    error: Option<String>,
    done: Option<&'static str>,
    username: String,
    no_accounts: bool,
) -> Result<Response, AppError> {
    let site = state.site.load();
    page(status, &LoginTemplate { chrome: admin_chrome(&site, "Staff sign in"), error, done, username, no_accounts })
}

#[derive(Deserialize)]
pub(super) struct SignInForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
}

/// What the browser calls itself, to tell sessions apart on the account page.
fn browser(headers: &HeaderMap) -> String {
    headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or("").to_string()
}

pub(super) async fn sign_in(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
    Form(form): Form<SignInForm>,
) -> Result<Response, AppError> {
    if !same_origin(&headers, &state.site.load().settings.base_url) {
        return Err(AppError::CrossSite);
    }
    let typed: String = form.username.trim().to_lowercase().chars().take(TYPED_USERNAME_MAX).collect();
    // Both limits are taken before the slow check; a right password gives
    // the slots back.
    let client_slot = state.limits.logins.reserve(client).map_err(AppError::TooManyRequests)?;
    let account_slot = state.limits.account_logins.reserve(typed.clone()).map_err(AppError::TooManyRequests)?;
    let staff = state.staff.clone();
    let lookup = typed.clone();
    let found = blocking(move || staff.find(&lookup)).await?;
    let (account, hash) = match found {
        Some((account, hash)) => (Some(account), hash),
        None => (None, None),
    };
    // Unknown usernames and people without a password yet are checked
    // against the decoy: the same work and the same answer as a wrong
    // password.
    let right = state.limits.password_checks.check(hash, form.password).await?;
    let account = match account {
        Some(account) if right => account,
        failed => {
            client_slot.commit();
            account_slot.commit();
            tracing::warn!(%client, "failed staff sign-in");
            let by = match &failed {
                Some(account) => Actor::person(account),
                None => Actor::unknown(),
            };
            let subject = failed.as_ref().map(|a| a.username.clone()).unwrap_or_default();
            // For the record only: the person signing in is told the same
            // thing whichever it was.
            let detail = match &failed {
                Some(account) if !account.has_password => "no password set yet (their link is unused)",
                Some(_) => "wrong password",
                None => "no one has this username",
            };
            let staff = state.staff.clone();
            blocking(move || staff.record(&by, Kind::SignInFailed, &subject, detail, now())).await?;
            let error = "The username or password is not right. Check both and try again.".to_string();
            return login_page(&state, StatusCode::UNAUTHORIZED, Some(error), None, form.username, false);
        }
    };
    drop((client_slot, account_slot));
    if account.disabled {
        // Said only to someone who knows the password.
        let (staff, by, subject) = (state.staff.clone(), Actor::person(&account), account.username.clone());
        blocking(move || staff.record(&by, Kind::SignInFailed, &subject, "the account is disabled", now())).await?;
        let error = "Your account has been disabled, so you cannot sign in. If you still work at the clinic, ask one of its owners to enable it again.".to_string();
        return login_page(&state, StatusCode::FORBIDDEN, Some(error), None, form.username, false);
    }
    if account.two_step {
        return super::two_step::ask_for_code(&state, &account).await;
    }
    start_session(&state, &account, &browser(&headers)).await
}

/// Signs a person in whose password (and code, if they use two-step
/// sign-in) was right.
pub(super) async fn start_session(state: &AppState, account: &Account, browser: &str) -> Result<Response, AppError> {
    let (staff, signing_in, browser) = (state.staff.clone(), account.clone(), browser.to_string());
    let session = blocking(move || staff.start_session(&signing_in, &browser, now())).await?;
    renewed(state, &session, Redirect::to(urls::ADMIN).into_response())
}

pub(super) async fn sign_out(
    State(state): State<AppState>,
    Extension(staff): Extension<Staff>,
) -> Result<Response, AppError> {
    let store = state.staff.clone();
    blocking(move || store.end_session(&staff.session.token, &staff.account, now())).await?;
    let mut response = Redirect::to(&format!("{}?done=signed-out", urls::ADMIN_LOGIN)).into_response();
    response.headers_mut().insert(header::SET_COOKIE, cleared_cookie());
    Ok(response)
}

#[derive(Template)]
#[template(path = "admin_set_password.html")]
struct SetPasswordTemplate<'a> {
    chrome: Chrome<'a>,
    /// `None` when the link cannot be used: `error` says why.
    account: Option<Account>,
    error: Option<String>,
    action: String,
    min: usize,
}

fn link_page(
    state: &AppState,
    status: StatusCode,
    token: &str,
    account: Option<Account>,
    error: Option<String>,
) -> Result<Response, AppError> {
    let site = state.site.load();
    page(
        status,
        &SetPasswordTemplate {
            chrome: admin_chrome(&site, "Set your password"),
            account,
            error,
            action: urls::ADMIN_SET_PASSWORD.replace("{token}", token),
            min: PASSWORD_MIN,
        },
    )
}

/// A link that cannot be used: the status says why to machines, the page
/// to people.
fn bad_link(state: &AppState, token: &str, error: AuthError) -> Result<Response, AppError> {
    let status = match error {
        AuthError::LinkUsed | AuthError::LinkExpired => StatusCode::GONE,
        AuthError::LinkUnknown => StatusCode::NOT_FOUND,
        other => return Err(other.into()),
    };
    link_page(state, status, token, None, Some(crate::http::error::capitalised(&error.to_string())))
}

pub(super) async fn link_form(
    State(state): State<AppState>,
    UrlPath(token): UrlPath<String>,
) -> Result<Response, AppError> {
    let (staff, looking) = (state.staff.clone(), token.clone());
    match blocking(move || Ok::<_, AppError>(staff.link_account(&looking, now()))).await? {
        Ok(account) => link_page(&state, StatusCode::OK, &token, Some(account), None),
        Err(error) => bad_link(&state, &token, error),
    }
}

#[derive(Deserialize)]
pub(super) struct NewPasswordForm {
    #[serde(default)]
    password: String,
    #[serde(default)]
    again: String,
}

/// Why a new password cannot be used, or `None` when it can.
pub(super) fn new_password_problem(account: &Account, password: &str, again: &str) -> Option<String> {
    if password != again {
        return Some("The two passwords are different. Type the same password in both boxes.".into());
    }
    password::acceptable(password, &[&account.username, &account.name])
        .err()
        .map(|why| crate::http::error::capitalised(&why))
}

pub(super) async fn use_link(
    State(state): State<AppState>,
    UrlPath(token): UrlPath<String>,
    headers: HeaderMap,
    Form(form): Form<NewPasswordForm>,
) -> Result<Response, AppError> {
    if !same_origin(&headers, &state.site.load().settings.base_url) {
        return Err(AppError::CrossSite);
    }
    let (staff, looking) = (state.staff.clone(), token.clone());
    let account = match blocking(move || Ok::<_, AppError>(staff.link_account(&looking, now()))).await? {
        Ok(account) => account,
        Err(error) => return bad_link(&state, &token, error),
    };
    if let Some(problem) = new_password_problem(&account, &form.password, &form.again) {
        return link_page(&state, StatusCode::UNPROCESSABLE_ENTITY, &token, Some(account), Some(problem));
    }
    let hash = state.limits.password_checks.hash(form.password).await?;
    let (staff, using) = (state.staff.clone(), token.clone());
    // Checked again inside the transaction: two tabs sending the form at
    // once set the password once.
    match blocking(move || Ok::<_, AppError>(staff.use_link(&using, &hash, now()))).await? {
        Ok(_) => Ok(Redirect::to(&format!("{}?done=password-set", urls::ADMIN_LOGIN)).into_response()),
        Err(error) => bad_link(&state, &token, error),
    }
}
