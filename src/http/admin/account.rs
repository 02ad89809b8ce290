//! Everyone's own account: change their password, see where they are
//! signed in, and sign out everywhere else.

use askama::Template;
use axum::Extension;
use axum::extract::{Form, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::sign_in::new_password_problem;
use super::{Nav, Staff, admin_chrome, done_at, now};
use crate::auth::password::PASSWORD_MIN;
use crate::auth::sessions::SessionInfo;
use crate::auth::{Actor, Kind};
use crate::http::AppState;
use crate::http::error::{AppError, blocking};
use crate::site::Chrome;
use crate::urls;
use crate::util::date::moment;

/// A session as the account page lists it.
struct SessionRow {
    browser: String,
    started: String,
    last_used: String,
    current: bool,
}

#[derive(Template)]
#[template(path = "admin_account.html")]
struct AccountTemplate<'a> {
    chrome: Chrome<'a>,
    nav: Nav,
    csrf: String,
    username: String,
    signature: String,
    roles: String,
    two_step: bool,
    sessions: Vec<SessionRow>,
    done: Option<&'static str>,
    error: Option<String>,
    min: usize,
}

#[derive(Deserialize)]
pub(super) struct Done {
    done: Option<String>,
}

fn done_message(done: Option<&str>) -> Option<&'static str> {
    match done {
        Some("password") => Some(
            "Your password is changed. You are still signed in here; everywhere else you were signed in has been signed out.",
        ),
        Some("signed-out") => Some("You are signed out everywhere else. This browser stays signed in."),
        Some("two-step-on") => Some("Two-step sign-in is on. Keep your recovery codes somewhere safe."),
        Some("two-step-off") => Some("Two-step sign-in is off."),
        _ => None,
    }
}

pub(super) async fn page(
    State(state): State<AppState>,
    Extension(staff): Extension<Staff>,
    Query(query): Query<Done>,
) -> Result<Response, AppError> {
    let done = done_message(query.done.as_deref());
    account_page(&state, &staff, StatusCode::OK, done, None).await
}

async fn account_page(
    state: &AppState,
    staff: &Staff,
    status: StatusCode,
    done: Option<&'static str>,
    error: Option<String>,
) -> Result<Response, AppError> {
    let (store, looking) = (state.staff.clone(), staff.clone());
    let sessions: Vec<SessionInfo> =
        blocking(move || store.sessions_of(&looking.account, &looking.session.token, now())).await?;
    let site = state.site.load();
    let account = &staff.account;
    super::page(
        status,
        &AccountTemplate {
            chrome: admin_chrome(&site, "Your account"),
            nav: Nav::new(staff, urls::ADMIN_ACCOUNT),
            csrf: staff.session.csrf.clone(),
            username: account.username.clone(),
            signature: account.signature(),
            roles: account.roles.describe(),
            two_step: account.two_step,
            sessions: sessions
                .into_iter()
                .map(|s| SessionRow {
                    browser: browser_name(&s.browser),
                    started: moment(s.created_at),
                    last_used: moment(s.last_seen),
                    current: s.current,
                })
                .collect(),
            done,
            error,
            min: PASSWORD_MIN,
        },
    )
}

/// "Firefox on Android" from a user-agent string: enough to tell one's
/// own sessions apart, without pretending to be exact.
fn browser_name(agent: &str) -> String {
    let browser = [("Edg/", "Edge"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"), ("Safari/", "Safari")]
        .into_iter()
        .find(|(mark, _)| agent.contains(mark))
        .map_or("A browser", |(_, name)| name);
    let system = [
        ("Android", "Android"),
        ("iPhone", "iPhone"),
        ("iPad", "iPad"),
        ("Windows", "Windows"),
        ("Mac OS X", "a Mac"),
        ("Linux", "Linux"),
    ]
    .into_iter()
    .find(|(mark, _)| agent.contains(mark))
    .map(|(_, name)| name);
    match system {
        Some(system) => format!("{browser} on {system}"),
        None => browser.to_string(),
    }
}

#[derive(Deserialize)]
pub(super) struct ChangePasswordForm {
    #[serde(default)]
    current: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    again: String,
}

pub(super) async fn change_password(
    State(state): State<AppState>,
    Extension(staff): Extension<Staff>,
    Form(form): Form<ChangePasswordForm>,
) -> Result<Response, AppError> {
    let (store, username) = (state.staff.clone(), staff.account.username.clone());
    let hash = blocking(move || store.find(&username)).await?.and_then(|(_, hash)| hash);
    // The current password too, so a browser left signed in cannot be
    // used to take the account over.
    let slot =
        state.limits.account_logins.reserve(staff.account.username.clone()).map_err(AppError::TooManyRequests)?;
    if !state.limits.password_checks.check(hash, form.current).await? {
        slot.commit();
        let error = "Your current password is not right. Type the password you signed in with.".to_string();
        return account_page(&state, &staff, StatusCode::UNPROCESSABLE_ENTITY, None, Some(error)).await;
    }
    drop(slot);
    if let Some(problem) = new_password_problem(&staff.account, &form.password, &form.again) {
        return account_page(&state, &staff, StatusCode::UNPROCESSABLE_ENTITY, None, Some(problem)).await;
    }
    let hash = state.limits.password_checks.hash(form.password).await?;
    let store = state.staff.clone();
    let changing = staff.clone();
    blocking(move || {
        let account = &changing.account;
        store.set_password_hash(
            account.id,
            &hash,
            Some(&changing.session.token),
            &Actor::person(account),
            Kind::PasswordChanged,
            now(),
        )
    })
    .await?;
    Ok(done_at(urls::ADMIN_ACCOUNT, "password"))
}

pub(super) async fn sign_out_everywhere(
    State(state): State<AppState>,
    Extension(staff): Extension<Staff>,
) -> Result<Response, AppError> {
    let store = state.staff.clone();
    blocking(move || store.end_other_sessions(&staff.account, &staff.session.token, now())).await?;
    Ok(done_at(urls::ADMIN_ACCOUNT, "signed-out"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn browsers_are_named_plainly() {
        let cases = [
            ("Mozilla/5.0 (Android 14; Mobile; rv:128.0) Gecko/128.0 Firefox/128.0", "Firefox on Android"),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Version/17.5 Mobile/15E148 Safari/604.1",
                "Safari on iPhone",
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36 Edg/126.0",
                "Edge on Windows",
            ),
            (
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 HeadlessChrome/156.0 Safari/537.36",
                "Chrome on Linux",
            ),
            ("curl/8.0", "A browser"),
        ];
        for (agent, name) in cases {
            assert_eq!(super::browser_name(agent), name, "{agent}");
        }
    }
}
