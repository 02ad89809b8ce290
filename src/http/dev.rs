//! Preview-only endpoints for `serve --dev`: the event stream that tells
//! open pages to reload, and the page that shows content errors in the
//! browser. The router adds none of this without `--dev`.

use std::convert::Infallible;

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::response::sse::{Event, KeepAlive, Sse};
use tokio_stream::wrappers::WatchStream;
use tokio_stream::{Stream, StreamExt};

use super::AppState;
use super::error::AppError;
use super::respond::{Cache, html};
use crate::content::{ContentErrors, summary};
use crate::site::{Chrome, Site};

/// Sends `reload` each time the content is rebuilt, whether the rebuild
/// worked or not: either way the open page has something new to show.
pub async fn events(State(state): State<AppState>) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    // The first value is the version the page was built from: skip it, or
    // every page would reload as soon as it connected.
    let versions = WatchStream::new(state.site.subscribe()).skip(1);
    Sse::new(versions.map(|version| Ok(Event::default().event("reload").data(version.to_string()))))
        .keep_alive(KeepAlive::default())
}

/// One problem as the error page shows it.
pub(crate) struct Problem {
    pub location: String,
    pub severity: &'static str,
    pub message: String,
    pub source_line: Option<String>,
    pub hint: Option<String>,
}

#[derive(Template)]
#[template(path = "dev_error.html")]
struct DevErrorTemplate<'a> {
    chrome: Chrome<'a>,
    summary: String,
    problems: Vec<Problem>,
}

/// Shown instead of every page while the content has errors, so the
/// person editing sees what to fix; it reloads itself once fixed.
pub(crate) fn error_page(site: &Site, errors: &ContentErrors) -> Result<Response, AppError> {
    let problems = errors
        .0
        .iter()
        .map(|p| Problem {
            location: if p.line > 0 {
                format!("{}:{}:{}", p.path.display(), p.line, p.column.unwrap_or(1))
            } else {
                p.path.display().to_string()
            },
            severity: match p.severity {
                crate::content::Severity::Error => "Error",
                crate::content::Severity::Warning => "Warning",
            },
            message: p.message.clone(),
            source_line: crate::content::source_line(&p.path, p.line),
            hint: p.hint.clone(),
        })
        .collect();
    let template = DevErrorTemplate {
        chrome: Chrome { dev: true, ..Chrome::plain(&site.settings, &site.asset_urls, "Content error", "/") },
        summary: summary(&errors.0),
        problems,
    };
    html(StatusCode::INTERNAL_SERVER_ERROR, Cache::NoStore, &template)
}
