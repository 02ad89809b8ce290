//! What readers' forms share: a comment, "Was this page helpful?" and a
//! problem report each show messages above their fields (what to fix, a
//! problem with the form as a whole, personal details found in the text),
//! read their bodies the same way, and keep the reader's text when they
//! are over the per-client limit. The wording of each form stays in its
//! own template; the rules are here once.

use std::time::Duration;

use axum::extract::Form;
use axum::extract::rejection::FormRejection;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;

use super::error::AppError;
use crate::comments::{PersonalDetail, in_words};

/// What is wrong with one field, linked from the error summary by the
/// field's id.
pub(super) struct FieldMessage {
    pub field: &'static str,
    pub message: String,
}

impl FieldMessage {
    pub(super) fn new(field: &'static str, message: impl Into<String>) -> FieldMessage {
        FieldMessage { field, message: message.into() }
    }
}

/// The messages a reader's form shows above its fields.
#[derive(Default)]
pub(super) struct Messages {
    pub errors: Vec<FieldMessage>,
    /// A problem with the form as a whole (an expired token, say).
    pub notice: Option<String>,
    /// Personal details found in the text, which the reader is asked about
    /// before anything is sent.
    pub personal: Vec<PersonalDetail>,
}

impl Messages {
    pub(super) fn error_for(&self, field: &str) -> Option<&str> {
        self.errors.iter().find(|e| e.field == field).map(|e| e.message.as_str())
    }

    /// "a phone number or the name of a medicine".
    pub(super) fn personal_list(&self) -> String {
        let kinds: Vec<String> = self.personal.iter().map(ToString::to_string).collect();
        in_words(&kinds.iter().map(String::as_str).collect::<Vec<_>>(), "or")
    }

    /// The reader may be unwell now: the form tells them to call, not to
    /// wait for anyone to read what they wrote.
    pub(super) fn symptoms_now(&self) -> bool {
        self.personal.contains(&PersonalDetail::SymptomsNow)
    }
}

/// The posted form, or a page that says why it could not be read (413 for
/// a body over the limit, 400 otherwise).
pub(super) fn read<T>(form: Result<Form<T>, FormRejection>) -> Result<T, AppError> {
    match form {
        Ok(Form(form)) => Ok(form),
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => Err(AppError::PayloadTooLarge),
        Err(rejection) => Err(AppError::BadRequest(format!(
            "The form could not be read ({}). Please go back and try again.",
            rejection.body_text()
        ))),
    }
}

/// Whole minutes to wait, at least one, for the "please wait" notice.
pub(super) fn minutes(wait: Duration) -> u64 {
    wait.as_secs().div_ceil(60).max(1)
}

/// A form shown again with its text because the reader is over the limit:
/// 429 with `Retry-After`, so tools wait too.
pub(super) fn over_limit(mut response: Response, wait: Duration) -> Response {
    *response.status_mut() = StatusCode::TOO_MANY_REQUESTS;
    response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(wait.as_secs().max(1)));
    response
}
