//! The staff page (owners): add a person, change their roles, disable or
//! enable them, and make set-password links. There is no mail server, so
//! a link is shown once to the owner, to pass on in person or by phone.

use askama::Template;
use axum::Extension;
use axum::extract::{Form, Path as UrlPath, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::{Nav, Staff, admin_chrome, done_at, now, page};
use crate::auth::accounts::LINK_LIFETIME;
use crate::auth::{Account, Actor, AuthError, NewAccount, Role, Roles};
use crate::http::AppState;
use crate::http::error::{AppError, blocking, capitalised};
use crate::site::Chrome;
use crate::urls;
use crate::util::date::moment;

/// A person as the staff page lists them.
struct PersonRow {
    account: Account,
    /// "Active", "Disabled", "Waiting to set a password".
    state: &'static str,
    /// The address their forms post to, without the action.
    actions: String,
    is_you: bool,
}

impl PersonRow {
    fn holds(&self, role: &&'static str) -> bool {
        Role::parse(role).is_some_and(|role| self.account.roles.holds(role))
    }
}

#[derive(Template)]
#[template(path = "admin_staff.html")]
struct StaffTemplate<'a> {
    chrome: Chrome<'a>,
    nav: Nav,
    csrf: String,
    people: Vec<PersonRow>,
    /// (name, what it is for)
    roles: Vec<(&'static str, &'static str)>,
    done: Option<String>,
    error: Option<String>,
    /// What the add form held when it was refused.
    form: AddForm,
    /// A set-password link made just now: (for whom, the link, until when).
    link: Option<(String, String, String)>,
}

#[derive(Deserialize, Default)]
pub(super) struct Done {
    done: Option<String>,
}

pub(super) async fn list(
    State(state): State<AppState>,
    Extension(staff): Extension<Staff>,
    Query(query): Query<Done>,
) -> Result<Response, AppError> {
    let done = match query.done.as_deref() {
        Some("roles") => Some("Roles changed. They apply from the person's next page."),
        Some("disabled") => Some("Disabled: they were signed out everywhere and cannot sign in. Their history stays."),
        Some("enabled") => Some("Enabled again. Make them a set-password link so they can sign in."),
        _ => None,
    };
    let view = View { done: done.map(String::from), ..View::default() };
    staff_page(&state, &staff, StatusCode::OK, view).await
}

#[derive(Default)]
struct View {
    done: Option<String>,
    error: Option<String>,
    form: AddForm,
    link: Option<(String, String, String)>,
}

async fn staff_page(state: &AppState, staff: &Staff, status: StatusCode, view: View) -> Result<Response, AppError> {
    let store = state.staff.clone();
    let accounts = blocking(move || store.accounts()).await?;
    let site = state.site.load();
    let people = accounts
        .into_iter()
        .map(|account| PersonRow {
            state: if account.disabled {
                "Disabled"
            } else if !account.has_password {
                "Waiting to set a password"
            } else {
                "Active"
            },
            actions: format!("{}/{}", urls::ADMIN_STAFF, account.username),
            is_you: account.id == staff.account.id,
            account,
        })
        .collect();
    page(
        status,
        &StaffTemplate {
            chrome: admin_chrome(&site, "Staff"),
            nav: Nav::new(staff, urls::ADMIN_STAFF),
            csrf: staff.session.csrf.clone(),
            people,
            roles: Role::ALL.iter().map(|role| (role.as_str(), role.description())).collect(),
            done: view.done,
            error: view.error,
            form: view.form,
            link: view.link,
        },
    )
}

/// The add form, as sent: roles are repeated `role` fields.
#[derive(Default)]
struct AddForm {
    username: String,
    name: String,
    credentials: String,
    roles: Roles,
}

impl AddForm {
    fn holds(&self, role: &&'static str) -> bool {
        Role::parse(role).is_some_and(|role| self.roles.holds(role))
    }
}

/// The roles ticked in a form; an unknown name is refused, not dropped.
fn ticked_roles(fields: &[(String, String)]) -> Result<Roles, AuthError> {
    fields.iter().filter(|(key, _)| key == "role").try_fold(Roles::default(), |roles, (_, name)| {
        Role::parse(name).map(|role| roles.with(role)).ok_or_else(|| AuthError::Invalid(Role::unknown(name)))
    })
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
    fields.iter().find(|(key, _)| key == name).map_or("", |(_, value)| value.as_str())
}

/// The full address of a set-password link, to read out or paste.
fn link_address(state: &AppState, token: &str) -> String {
    let base = state.site.load().settings.base_url.trim_end_matches('/').to_string();
    format!("{base}{}", urls::ADMIN_SET_PASSWORD.replace("{token}", token))
}

fn link_shown(state: &AppState, account: &Account, token: &str) -> (String, String, String) {
    (account.name.clone(), link_address(state, token), moment(now() + LINK_LIFETIME))
}

pub(super) async fn add(
    State(state): State<AppState>,
    Extension(staff): Extension<Staff>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let roles = ticked_roles(&fields);
    let form = AddForm {
        username: field(&fields, "username").to_string(),
        name: field(&fields, "name").to_string(),
        credentials: field(&fields, "credentials").to_string(),
        roles: *roles.as_ref().unwrap_or(&Roles::default()),
    };
    let new = roles.and_then(|roles| NewAccount::parse(&form.username, &form.name, &form.credentials, roles));
    let new = match new {
        Ok(new) => new,
        Err(error) => {
            let view = View { error: Some(capitalised(&error.to_string())), form, ..View::default() };
            return staff_page(&state, &staff, StatusCode::UNPROCESSABLE_ENTITY, view).await;
        }
    };
    let (store, by) = (state.staff.clone(), Actor::person(&staff.account));
    let made = blocking(move || {
        Ok::<_, AppError>(store.add(&new, None, &by, now()).and_then(|account| {
            let token = store.make_link(account.id, &by, now())?;
            Ok((account, token))
        }))
    })
    .await?;
    match made {
        Ok((account, token)) => {
            let view = View {
                done: Some(format!("{} is added as {}.", account.name, account.roles.describe())),
                link: Some(link_shown(&state, &account, &token)),
                ..View::default()
            };
            staff_page(&state, &staff, StatusCode::OK, view).await
        }
        Err(error @ (AuthError::UsernameTaken(_) | AuthError::Invalid(_))) => {
            let view = View { error: Some(capitalised(&error.to_string())), form, ..View::default() };
            staff_page(&state, &staff, StatusCode::UNPROCESSABLE_ENTITY, view).await
        }
        Err(other) => Err(other.into()),
    }
}

pub(super) async fn act(
    State(state): State<AppState>,
    Extension(staff): Extension<Staff>,
    UrlPath((username, action)): UrlPath<(String, String)>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let store = state.staff.clone();
    let looking = username.clone();
    let Some((person, _)) = blocking(move || store.find(&looking)).await? else { return Err(AppError::NotFound) };
    let by = Actor::person(&staff.account);
    let store = state.staff.clone();
    let id = person.id;
    let result: Result<Option<String>, AuthError> = match action.as_str() {
        "roles" => match ticked_roles(&fields) {
            Ok(roles) => {
                blocking(move || Ok::<_, AppError>(store.set_roles(id, roles, &by, now()).map(|_| None))).await?
            }
            Err(error) => Err(error),
        },
        "disable" if person.id == staff.account.id => {
            Err(AuthError::Invalid("you cannot disable yourself; ask another owner to do it".into()))
        }
        "disable" => {
            blocking(move || Ok::<_, AppError>(store.set_disabled(id, true, &by, now()).map(|_| None))).await?
        }
        "enable" => {
            blocking(move || Ok::<_, AppError>(store.set_disabled(id, false, &by, now()).map(|_| None))).await?
        }
        "reset-password" => blocking(move || Ok::<_, AppError>(store.make_link(id, &by, now()).map(Some))).await?,
        _ => return Err(AppError::NotFound),
    };
    match result {
        Ok(Some(token)) => {
            let view = View {
                done: Some(format!(
                    "A new set-password link for {} is below. Their old password still works until they use it.",
                    person.name
                )),
                link: Some(link_shown(&state, &person, &token)),
                ..View::default()
            };
            staff_page(&state, &staff, StatusCode::OK, view).await
        }
        Ok(None) => Ok(done_at(
            urls::ADMIN_STAFF,
            match action.as_str() {
                "roles" => "roles",
                "disable" => "disabled",
                _ => "enabled",
            },
        )),
        Err(error @ (AuthError::Invalid(_) | AuthError::LastOwner)) => {
            let view = View { error: Some(capitalised(&error.to_string())), ..View::default() };
            staff_page(&state, &staff, StatusCode::UNPROCESSABLE_ENTITY, view).await
        }
        Err(other) => Err(other.into()),
    }
}
