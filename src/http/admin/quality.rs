//! The quality report (editors and reviewers): each page's clinical review,
//! sources, claim warnings, reading grades, helpfulness, views and open
//! problem reports, as evidence for an assessor. The report is built by
//! `crate::quality`, as `clinic-site report` builds it; this page shows it
//! as one table, and `?format=csv` sends it as a spreadsheet.

use askama::Template;
use axum::Extension;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::editor::page_address;
use super::{Nav, Staff, admin_chrome, now, page};
use crate::auth::Role;
use crate::http::AppState;
use crate::http::error::{AppError, blocking};
use crate::quality::{self, Inputs, PageQuality, QualityReport};
use crate::site::Chrome;
use crate::urls;

/// One page's row, with the staff pages this person may open from it.
struct Row {
    page: PageQuality,
    /// The page editor, for editors.
    edit: Option<String>,
    /// The sign-off page, for reviewers.
    sign_off: Option<String>,
}

#[derive(Template)]
#[template(path = "admin_quality.html")]
struct QualityTemplate<'a> {
    chrome: Chrome<'a>,
    nav: Nav,
    summary: Vec<String>,
    /// "2 December 2026, 14:05 UTC".
    generated: String,
    rows: Vec<Row>,
}

#[derive(Deserialize)]
pub(super) struct QualityQuery {
    format: Option<String>,
}

pub(super) async fn report(
    State(state): State<AppState>,
    Extension(staff): Extension<Staff>,
    Query(query): Query<QualityQuery>,
) -> Result<Response, AppError> {
    let site = state.site.load();
    let (reading, built) = (state.clone(), site.clone());
    let at = now();
    let report: QualityReport = blocking(move || {
        let inputs = Inputs {
            site: &built,
            content_dir: &reading.config.folders.content,
            workspace: &reading.workspace,
            feedback: &reading.feedback,
            figures: &reading.figures.store,
            now: at,
        };
        quality::build(&inputs).map_err(|e| AppError::Internal(format!("cannot make the quality report: {e}")))
    })
    .await?;
    if query.format.as_deref() == Some("csv") {
        let disposition =
            format!("attachment; filename=\"quality-report-{}.csv\"", crate::util::date::Date::from_unix(at).iso());
        return Ok((
            [
                (header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8")),
                (header::CONTENT_DISPOSITION, HeaderValue::from_str(&disposition).expect("a date is ASCII")),
            ],
            report.csv(),
        )
            .into_response());
    }
    let roles = staff.account.roles;
    let summary = report.summary();
    let rows = report
        .pages
        .into_iter()
        .map(|page| Row {
            edit: roles.may(Role::Editor).then(|| page_address(urls::ADMIN_PAGE_EDIT, &page.file)),
            sign_off: roles.may(Role::Reviewer).then(|| page_address(urls::ADMIN_PAGE_SIGN_OFF, &page.file)),
            page,
        })
        .collect();
    page(
        StatusCode::OK,
        &QualityTemplate {
            chrome: admin_chrome(&site, "Quality report"),
            nav: Nav::new(&staff, urls::ADMIN_QUALITY),
            summary,
            generated: crate::util::date::moment(at),
            rows,
        },
    )
}
