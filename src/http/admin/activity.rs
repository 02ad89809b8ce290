//! The activity record (owners): who did what and when, filtered by
//! person, kind and date. Read-only: the web interface has no way to
//! change or delete an entry, and the table's triggers refuse it anyway.

use askama::Template;
use axum::Extension;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::{Nav, Staff, admin_chrome};
use crate::auth::activity::{Entry, Filter};
use crate::auth::{Account, Kind};
use crate::http::AppState;
use crate::http::error::{AppError, blocking};
use crate::site::Chrome;
use crate::urls;
use crate::util::date::{Date, moment, moment_iso};

/// The most entries one page shows; the filters narrow it, and
/// `clinic-site audit export` gives everything.
const SHOWN: usize = 500;

struct EntryRow {
    entry: Entry,
    when: String,
    when_iso: String,
}

#[derive(Template)]
#[template(path = "admin_activity.html")]
struct ActivityTemplate<'a> {
    chrome: Chrome<'a>,
    nav: Nav,
    people: Vec<Account>,
    kinds: Vec<(&'static str, &'static str)>,
    query: ActivityQuery,
    rows: Vec<EntryRow>,
    shown: usize,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
pub(super) struct ActivityQuery {
    #[serde(default)]
    person: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
}

impl ActivityQuery {
    /// The filter asked for, or what is wrong with it.
    fn filter(&self, people: &[Account]) -> Result<Filter, String> {
        let mut filter = Filter::default();
        if !self.person.is_empty() {
            let person = people.iter().find(|a| a.username == self.person);
            filter.account_id =
                Some(person.ok_or_else(|| format!("There is no one with the username \"{}\".", self.person))?.id);
        }
        if !self.kind.is_empty() {
            filter.kind =
                Some(Kind::parse(&self.kind).ok_or_else(|| format!("\"{}\" is not a kind of action.", self.kind))?);
        }
        let day = |text: &str, what: &str| -> Result<Option<i64>, String> {
            if text.is_empty() {
                return Ok(None);
            }
            let date: Date =
                text.parse().map_err(|_| format!("The {what} date \"{text}\" is not a date like 2026-12-01."))?;
            Ok(Some(date.days_since_epoch() as i64 * 86_400))
        };
        filter.since = day(&self.from, "from")?;
        // "To 1 December" includes the whole of that day.
        filter.until = day(&self.to, "to")?.map(|start| start + 86_400);
        Ok(filter)
    }

    fn is(&self, field: &str, value: &str) -> bool {
        match field {
            "person" => self.person == value,
            _ => self.kind == value,
        }
    }
}

pub(super) async fn page(
    State(state): State<AppState>,
    Extension(staff): Extension<Staff>,
    Query(query): Query<ActivityQuery>,
) -> Result<Response, AppError> {
    let store = state.staff.clone();
    let people = blocking(move || store.accounts()).await?;
    let (rows, error) = match query.filter(&people) {
        Ok(filter) => {
            let store = state.staff.clone();
            (blocking(move || store.activity(&filter, SHOWN)).await?, None)
        }
        Err(why) => (Vec::new(), Some(why)),
    };
    let site = state.site.load();
    let status = if error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    super::page(
        status,
        &ActivityTemplate {
            chrome: admin_chrome(&site, "Activity"),
            nav: Nav::new(&staff, urls::ADMIN_ACTIVITY),
            people,
            kinds: Kind::ALL.iter().map(|kind| (kind.as_str(), kind.describe())).collect(),
            shown: SHOWN,
            rows: rows
                .into_iter()
                .map(|entry| EntryRow { when: moment(entry.at), when_iso: moment_iso(entry.at), entry })
                .collect(),
            query,
            error,
        },
    )
}
