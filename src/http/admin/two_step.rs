//! Two-step sign-in: the code asked for after a right password, and
//! setting it up or turning it off from the account page.
//!
//! The code form carries a short-lived sign-in step token, not a session:
//! nothing opens until the code is right. Wrong codes count against the
//! same limits as wrong passwords (per client and per username), each slot
//! taken before the check and given back when the code was right, so
//! guessing six digits is no easier than guessing the password.
//!
//! When `site.toml` asks for it (`[staff] require_two_step`), [`guard`]
//! sends people whose roles need two-step sign-in here until it is on:
//! [`must_set_up`] and [`exempt`] say who and where.
//!
//! [`guard`]: super::guard

use askama::Template;
use axum::Extension;
use axum::extract::{Form, Path as UrlPath, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::{Nav, Staff, admin_chrome, done_at, now, page as render};
use crate::auth::two_step::{CodeError, PendingSecret};
use crate::auth::{Account, AuthError, Role};
use crate::content::Settings;
use crate::http::AppState;
use crate::http::comments::same_origin;
use crate::http::error::{AppError, blocking, capitalised};
use crate::http::limit::ClientIp;
use crate::site::Chrome;
use crate::urls;

/// The second step's form: a code, and the token that says whose password
/// was just right.
#[derive(Template)]
#[template(path = "admin_two_step_code.html")]
struct CodeTemplate<'a> {
    chrome: Chrome<'a>,
    /// `None` once the sign-in step cannot be used: the page says to sign
    /// in again.
    step: Option<String>,
    error: Option<String>,
}

fn code_page(state: &AppState, status: StatusCode, step: Option<String>, error: Option<String>) -> Response {
    let site = state.site.load();
    let template = CodeTemplate { chrome: admin_chrome(&site, "Two-step sign-in"), step, error };
    render(status, &template).unwrap_or_else(IntoResponse::into_response)
}

/// After a right password: the code form, with a new sign-in step.
/// The browser is read from the code form's own request, which comes
/// from the same browser; the step keeps only whose sign-in it is.
pub(super) async fn ask_for_code(state: &AppState, account: &Account) -> Result<Response, AppError> {
    let (store, signing_in) = (state.staff.clone(), account.clone());
    let token = blocking(move || store.begin_sign_in_step(&signing_in, now())).await?;
    Ok(code_page(state, StatusCode::OK, Some(token), None))
}

#[derive(Deserialize)]
pub(super) struct CodeForm {
    #[serde(default)]
    step: String,
    #[serde(default)]
    code: String,
}

/// Short enough for any code we accept (a recovery code with dashes and
/// spaces is under 20), long enough not to cut a pasted one short.
const TYPED_CODE_MAX: usize = 64;

/// `POST /admin/login/code`: the code after the password.
pub(super) async fn second_step(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
    Form(form): Form<CodeForm>,
) -> Result<Response, AppError> {
    if !same_origin(&headers, &state.site.load().settings.base_url) {
        return Err(AppError::CrossSite);
    }
    // The client's slot first: guessing step tokens costs like guessing
    // passwords.
    let client_slot = state.limits.logins.reserve(client).map_err(AppError::TooManyRequests)?;
    let (store, token) = (state.staff.clone(), form.step.clone());
    let Some(account) = blocking(move || store.sign_in_step_account(&token, now())).await? else {
        client_slot.commit();
        return Ok(code_page(
            &state,
            StatusCode::UNAUTHORIZED,
            None,
            Some(capitalised(&CodeError::StepExpired.to_string())),
        ));
    };
    let account_slot =
        state.limits.account_logins.reserve(account.username.clone()).map_err(AppError::TooManyRequests)?;
    let code: String = form.code.chars().take(TYPED_CODE_MAX).collect();
    let (store, token) = (state.staff.clone(), form.step.clone());
    let outcome = blocking(move || Ok::<_, AppError>(store.finish_sign_in_step(&token, &code, now()))).await?;
    match outcome {
        Ok(account) => {
            drop((client_slot, account_slot));
            let browser = headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or("");
            super::sign_in::start_session(&state, &account, browser).await
        }
        Err(CodeError::WrongCode) => {
            client_slot.commit();
            account_slot.commit();
            tracing::warn!(%client, "wrong two-step code");
            let error = capitalised(&CodeError::WrongCode.to_string());
            Ok(code_page(&state, StatusCode::UNAUTHORIZED, Some(form.step), Some(error)))
        }
        Err(CodeError::StepExpired) => {
            client_slot.commit();
            let error = capitalised(&CodeError::StepExpired.to_string());
            Ok(code_page(&state, StatusCode::UNAUTHORIZED, None, Some(error)))
        }
        Err(CodeError::Auth(error)) => Err(error.into()),
    }
}

/// A secret being set up, as the page shows it.
struct SetupView {
    /// The QR code, an inline SVG labelled for screen readers.
    qr_svg: String,
    /// The same secret to type in, in groups of four.
    secret: String,
}

#[derive(Template)]
#[template(path = "admin_two_step.html")]
struct TwoStepTemplate<'a> {
    chrome: Chrome<'a>,
    nav: Nav,
    csrf: String,
    on: bool,
    codes_left: usize,
    /// Why the clinic asks this person to turn it on, when it does.
    required: Option<String>,
    setup: Option<SetupView>,
    /// Shown once, right after turning it on.
    recovery_codes: Vec<String>,
    error: Option<String>,
    /// Which form the error belongs to, for the error summary's link.
    error_field: &'static str,
    done: Option<&'static str>,
}

/// Whether `site.toml` asks this person to use two-step sign-in and they
/// have not turned it on yet.
pub(super) fn must_set_up(settings: &Settings, account: &Account) -> bool {
    !account.two_step && required_roles(settings, account).next().is_some()
}

/// The roles this person holds that `site.toml` requires two-step sign-in
/// for.
fn required_roles<'a>(settings: &'a Settings, account: &'a Account) -> impl Iterator<Item = Role> + 'a {
    account.roles.iter().filter(|role| settings.staff.requires_two_step(role.as_str()))
}

/// Staff addresses someone who must set up two-step sign-in can still
/// use: its page and actions, and signing out.
pub(super) fn exempt(path: &str) -> bool {
    path == urls::ADMIN_TWO_STEP
        || path.strip_prefix(urls::ADMIN_TWO_STEP).is_some_and(|rest| rest.starts_with('/'))
        || path == urls::ADMIN_LOGOUT
}

/// The set-up QR code: the `otpauth://` address as an inline SVG, with a
/// name for screen readers; the secret is also on the page as text.
fn qr_svg(uri: &str) -> Result<String, AppError> {
    let code = qrcode::QrCode::with_error_correction_level(uri, qrcode::EcLevel::M)
        .map_err(|e| AppError::Internal(format!("the two-step set-up address does not fit in a QR code: {e}")))?;
    Ok(code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(200, 200)
        .dark_color(qrcode::render::svg::Color("#000000"))
        .light_color(qrcode::render::svg::Color("#ffffff"))
        .build()
        .replacen(
            "<svg ",
            "<svg role=\"img\" aria-label=\"QR code to add this account to an authenticator app; the same key is written out below\" ",
            1,
        )
        .replacen("<?xml version=\"1.0\" standalone=\"yes\"?>", "", 1))
}

/// What the page says after a change it redirected from.
fn done_message(done: Option<&str>) -> Option<&'static str> {
    match done {
        Some("started") => Some("Add the account to your app, then type the code it shows to finish."),
        _ => None,
    }
}

#[derive(Deserialize)]
pub(super) struct Done {
    done: Option<String>,
}

/// `GET /admin/account/two-step`: whether two-step sign-in is on, and the
/// forms to set it up or turn it off.
pub(super) async fn page(
    State(state): State<AppState>,
    Extension(staff): Extension<Staff>,
    Query(query): Query<Done>,
) -> Result<Response, AppError> {
    let view = View { done: done_message(query.done.as_deref()), ..View::default() };
    two_step_page(&state, &staff, StatusCode::OK, view).await
}

/// What changes between the page's answers.
#[derive(Default)]
struct View {
    recovery_codes: Vec<String>,
    error: Option<String>,
    error_field: &'static str,
    done: Option<&'static str>,
}

async fn two_step_page(state: &AppState, staff: &Staff, status: StatusCode, view: View) -> Result<Response, AppError> {
    let (store, looking) = (state.staff.clone(), staff.account.clone());
    // Read again rather than trust the session's copy: turning it on or
    // off in this request changed it.
    let (account, pending, codes_left) = blocking(move || {
        let account = store.account(looking.id)?.unwrap_or(looking);
        let pending = if account.two_step { None } else { store.pending_setup(&account)? };
        let left = store.recovery_codes_left(&account)?;
        Ok::<_, AuthError>((account, pending, left))
    })
    .await?;
    let site = state.site.load();
    let setup = match pending {
        Some(pending) => Some(setup_view(&site.settings, &account, &pending)?),
        None => None,
    };
    let required = must_set_up(&site.settings, &account).then(|| {
        let roles: Vec<&str> = required_roles(&site.settings, &account).map(Role::as_str).collect();
        format!(
            "The clinic asks everyone who is {} to use two-step sign-in. Set it up here before using the other staff pages.",
            roles.iter().map(|role| with_article(role)).collect::<Vec<_>>().join(" or ")
        )
    });
    let template = TwoStepTemplate {
        chrome: admin_chrome(&site, "Two-step sign-in"),
        nav: Nav::new(staff, urls::ADMIN_ACCOUNT),
        csrf: staff.session.csrf.clone(),
        on: account.two_step,
        codes_left,
        required,
        setup,
        recovery_codes: view.recovery_codes,
        error: view.error,
        error_field: view.error_field,
        done: view.done,
    };
    render(status, &template)
}

/// "an owner", "a reviewer".
fn with_article(role: &str) -> String {
    let article = if role.starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" };
    format!("{article} {role}")
}

fn setup_view(settings: &Settings, account: &Account, pending: &PendingSecret) -> Result<SetupView, AppError> {
    let uri = pending.uri(&settings.clinic_name, &account.username);
    Ok(SetupView { qr_svg: qr_svg(&uri)?, secret: pending.base32_grouped() })
}

#[derive(Deserialize)]
pub(super) struct ActForm {
    #[serde(default)]
    code: String,
}

/// `POST /admin/account/two-step/{action}`: `start` makes a secret to add
/// to the app, `confirm` turns it on with the app's first code, and
/// `turn-off` turns it off with a code. The guard has checked the CSRF
/// token.
pub(super) async fn act(
    State(state): State<AppState>,
    Extension(staff): Extension<Staff>,
    UrlPath(action): UrlPath<String>,
    Form(form): Form<ActForm>,
) -> Result<Response, AppError> {
    let code: String = form.code.chars().take(TYPED_CODE_MAX).collect();
    match action.as_str() {
        "start" => {
            let (store, account) = (state.staff.clone(), staff.account.clone());
            blocking(move || store.begin_setup(&account, now())).await?;
            Ok(Redirect::to(&format!("{}?done=started", urls::ADMIN_TWO_STEP)).into_response())
        }
        "confirm" => {
            let (store, account) = (state.staff.clone(), staff.account.clone());
            match blocking(move || Ok::<_, AppError>(store.confirm_setup(&account, &code, now()))).await? {
                // Shown now and never again: only their hashes are kept.
                Ok(recovery_codes) => {
                    let view = View { recovery_codes, ..View::default() };
                    two_step_page(&state, &staff, StatusCode::OK, view).await
                }
                Err(error) => code_refused(&state, &staff, error, "confirm-code").await,
            }
        }
        "turn-off" => {
            // Like changing the password: a browser left signed in must not
            // be enough to guess its way to weakening the account.
            let slot = state
                .limits
                .account_logins
                .reserve(staff.account.username.clone())
                .map_err(AppError::TooManyRequests)?;
            let (store, account) = (state.staff.clone(), staff.account.clone());
            match blocking(move || Ok::<_, AppError>(store.turn_off(&account, &code, now()))).await? {
                Ok(()) => {
                    drop(slot);
                    Ok(done_at(urls::ADMIN_ACCOUNT, "two-step-off"))
                }
                Err(error) => {
                    if matches!(error, CodeError::WrongCode) {
                        slot.commit();
                    }
                    code_refused(&state, &staff, error, "off-code").await
                }
            }
        }
        _ => Err(AppError::NotFound),
    }
}

/// The page again with why the code was refused, next to the form it came
/// from.
async fn code_refused(
    state: &AppState,
    staff: &Staff,
    error: CodeError,
    field: &'static str,
) -> Result<Response, AppError> {
    let message = match error {
        // Ours, not theirs: logged, and the person sees the error page.
        CodeError::Auth(error @ (AuthError::Database(_) | AuthError::Random(_))) => return Err(error.into()),
        other => capitalised(&other.to_string()),
    };
    let view = View { error: Some(message), error_field: field, ..View::default() };
    two_step_page(state, staff, StatusCode::UNPROCESSABLE_ENTITY, view).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn site_settings_and_accounts_name_the_same_roles() {
        assert_eq!(crate::content::STAFF_ROLE_NAMES, Role::ALL.map(Role::as_str));
    }

    #[test]
    fn only_the_two_step_page_its_actions_and_sign_out_stay_open() {
        for path in ["/admin/account/two-step", "/admin/account/two-step/start", "/admin/logout"] {
            assert!(exempt(path), "{path}");
        }
        for path in ["/admin", "/admin/account", "/admin/account/two-steps", "/admin/staff"] {
            assert!(!exempt(path), "{path}");
        }
    }

    #[test]
    fn the_qr_code_is_an_image_with_a_name() {
        let svg = qr_svg("otpauth://totp/Clinic:jane?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Clinic").unwrap();
        assert!(svg.starts_with("<svg role=\"img\" aria-label=\"QR code"), "{}", &svg[..80]);
    }
}
