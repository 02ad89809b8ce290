//! Two-step sign-in: the code asked for after a right password, and
//! setting it up or turning it off from the account page.

use axum::Extension;
use axum::extract::{Path as UrlPath, State};
use axum::response::Response;

use super::Staff;
use crate::auth::Account;
use crate::http::AppState;
use crate::http::error::AppError;

pub(super) async fn ask_for_code(
    _state: &AppState,
    _account: &Account,
    _browser: String,
) -> Result<Response, AppError> {
    Err(AppError::NotFound)
}

pub(super) async fn second_step(State(_state): State<AppState>) -> Result<Response, AppError> {
    Err(AppError::NotFound)
}

pub(super) async fn page(
    State(_state): State<AppState>,
    Extension(_staff): Extension<Staff>,
) -> Result<Response, AppError> {
    Err(AppError::NotFound)
}

pub(super) async fn act(
    State(_state): State<AppState>,
    Extension(_staff): Extension<Staff>,
    UrlPath(_action): UrlPath<String>,
) -> Result<Response, AppError> {
    Err(AppError::NotFound)
}
