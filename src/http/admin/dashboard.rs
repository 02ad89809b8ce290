//! The staff home (`/admin`): one screen for the clinic, showing each
//! person what their roles let them act on. Problems with the site come
//! first, for everyone; then editors see the reading figures (views per
//! day and per page, the sites that sent readers, share controls used);
//! moderators and editors see what readers said (helpful or not per page,
//! open problem reports) and the comments waiting; reviewers and editors
//! see the review queue.
//!
//! Each part is a [`Section`]: a heading, a sentence that says what the
//! chart shows, the chart (SVG drawn here, in the site's colours), and the
//! numbers as a table, which `?format=csv&table=<id>` sends as CSV. A new
//! panel is one more `Section` pushed in [`sections`], loaded in [`load`].

use askama::Template;
use axum::Extension;
use axum::extract::{Query, RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::{Nav, Staff, admin_chrome, page};
use crate::auth::{Role, Roles};
use crate::comments::Status;
use crate::feedback::store::{PageFeedback, Report};
use crate::figures::store::PageFigures;
use crate::figures::{Day, today};
use crate::http::AppState;
use crate::http::error::{AppError, blocking};
use crate::site::{Chrome, Site};
use crate::urls;
use crate::util::date::{Date, long_day};
use crate::util::html::escape;
use crate::workspace::{QueueItem, Reason, ReviewQueue};

/// A table of figures: what the page shows and the CSV sends.
pub(crate) struct Table {
    pub caption: String,
    pub columns: Vec<&'static str>,
    pub rows: Vec<Vec<String>>,
}

/// One part of the dashboard.
pub(crate) struct Section {
    /// For the heading's id and the CSV address: `days`, `pages`...
    pub id: &'static str,
    pub heading: &'static str,
    /// What the chart shows, in words: its text alternative.
    pub summary: String,
    /// Inline SVG, already escaped; `None` for a table alone.
    pub chart: Option<String>,
    pub table: Table,
    /// A staff page with more, and its link text.
    pub link: Option<(&'static str, &'static str)>,
}

#[derive(Template)]
#[template(path = "admin_dashboard.html")]
struct DashboardTemplate<'a> {
    chrome: Chrome<'a>,
    nav: Nav,
    problems: Vec<Problem>,
    /// Whether the reading figures are shown, and counting is on.
    figures: bool,
    counting: bool,
    sections: Vec<Section>,
    /// Tables longer than this start folded away.
    fold_after: usize,
}

#[derive(Deserialize)]
pub(super) struct DashboardQuery {
    format: Option<String>,
    table: Option<String>,
}

/// Something wrong with the site. `/healthz` names only its kind; staff
/// get the details, which may quote files.
pub(super) struct Problem {
    pub heading: &'static str,
    pub details: String,
}

/// Everything wrong with the site now. Reads the content files for the
/// lines the messages quote, so it runs off the async threads.
pub(super) fn site_problems(state: &AppState) -> Vec<Problem> {
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

/// What the person's roles let them see on the dashboard.
#[derive(Clone, Copy)]
struct Panels {
    figures: bool,
    feedback: bool,
    reviews: bool,
    may_moderate: bool,
    may_review: bool,
}

impl Panels {
    fn for_roles(roles: Roles) -> Panels {
        let editor = roles.may(Role::Editor);
        Panels {
            figures: editor,
            feedback: editor || roles.may(Role::Moderator),
            reviews: editor || roles.may(Role::Reviewer),
            may_moderate: roles.may(Role::Moderator),
            may_review: roles.may(Role::Reviewer),
        }
    }
}

/// Everything the dashboard reads, loaded off the async threads. Parts
/// the person may not see are left empty and not read.
#[derive(Default)]
struct Loaded {
    days: Vec<(Day, u64)>,
    pages_30: Vec<PageFigures>,
    pages_90: Vec<PageFigures>,
    referrers_30: Vec<(String, u64)>,
    referrers_90: Vec<(String, u64)>,
    shares: Vec<(crate::figures::Channel, u64)>,
    helpfulness: Vec<PageFeedback>,
    open_reports: Vec<Report>,
    /// The newest waiting comments, and how many wait in all.
    pending: Vec<crate::comments::Comment>,
    pending_count: usize,
    queue: ReviewQueue,
}

/// Tables longer than this start folded away (`<details>`).
const FOLD_AFTER: usize = 10;
/// Most referring sites listed.
const TOP_SITES: usize = 20;
/// Most pending comments and open reports listed (their own pages have
/// them all).
const LISTED: usize = 20;

/// Reads what the person's panels show. A failure names what could not be
/// read, for the problems at the top of the page.
fn load(state: &AppState, panels: Panels, today: Day) -> Result<Loaded, String> {
    let mut loaded = Loaded::default();
    if panels.figures {
        let store = &state.figures.store;
        let failed = |e: rusqlite::Error| format!("The reading figures cannot be read. SQLite's error: {e}.");
        loaded.days = store.views_per_day(today - 29, today).map_err(failed)?;
        loaded.pages_30 = store.per_page(today - 29, today).map_err(failed)?;
        loaded.pages_90 = store.per_page(today - 89, today).map_err(failed)?;
        loaded.referrers_30 = store.referrers(today - 29, today, usize::MAX >> 1).map_err(failed)?;
        loaded.referrers_90 = store.referrers(today - 89, today, TOP_SITES).map_err(failed)?;
        loaded.shares = store.shares(today - 89, today).map_err(failed)?;
    }
    if panels.feedback {
        let failed = |e: crate::feedback::store::FeedbackError| format!("Readers' feedback cannot be read: {e}.");
        loaded.helpfulness = state.feedback.by_page().map_err(failed)?;
        loaded.open_reports =
            state.feedback.reports().map_err(failed)?.into_iter().filter(|r| r.closed.is_none()).collect();
        let failed = |e: crate::comments::store::StoreError| format!("The comments cannot be read: {e}.");
        loaded.pending = state.comments.with_status(Status::Pending, LISTED).map_err(failed)?;
        loaded.pending_count = state.comments.counts().map_err(failed)?.pending;
    }
    if panels.reviews {
        loaded.queue = state
            .workspace
            .review_queue(Date::from_days_since_epoch(today))
            .map_err(|e| format!("The review queue cannot be read: {e}."))?;
    }
    Ok(loaded)
}

fn day_start(day: Day) -> i64 {
    day * 86_400
}

pub(super) async fn dashboard(
    State(state): State<AppState>,
    Extension(staff): Extension<Staff>,
    Query(query): Query<DashboardQuery>,
) -> Result<Response, AppError> {
    let today = today();
    let panels = Panels::for_roles(staff.account.roles);
    let reading = state.clone();
    let (loaded, mut problems) = blocking(move || {
        let loaded = load(&reading, panels, today);
        // After loading, so a failure just now is among the problems.
        Ok::<_, AppError>((loaded, site_problems(&reading)))
    })
    .await?;
    // Staff still get the page, with the problems that say what is missing.
    let (status, loaded) = match loaded {
        Ok(loaded) => (StatusCode::OK, loaded),
        Err(why) => {
            tracing::error!("loading the dashboard failed: {why}");
            problems.push(Problem { heading: "Parts of the dashboard cannot be shown", details: why });
            (StatusCode::INTERNAL_SERVER_ERROR, Loaded::default())
        }
    };
    let site = state.site.load();
    let sections = sections(&site, &loaded, panels);
    if query.format.as_deref() == Some("csv") {
        let wanted = query.table.as_deref().unwrap_or("");
        let section = sections.iter().find(|s| s.id == wanted).ok_or(AppError::NotFound)?;
        return Ok(csv_response(section));
    }
    page(
        status,
        &DashboardTemplate {
            chrome: admin_chrome(&site, "Dashboard"),
            nav: Nav::new(&staff, urls::ADMIN),
            problems,
            figures: panels.figures,
            counting: state.figures.counter.is_some(),
            sections,
            fold_after: FOLD_AFTER,
        },
    )
}

/// `/admin/figures`, where the reading figures were before the dashboard
/// took them in: links and bookmarks (a CSV address included) still work.
pub(super) async fn figures_moved(RawQuery(query): RawQuery) -> Redirect {
    match query {
        Some(query) => Redirect::permanent(&format!("{}?{query}", urls::ADMIN)),
        None => Redirect::permanent(urls::ADMIN),
    }
}

fn day_label(day: Day) -> String {
    Date::from_unix(day_start(day)).long()
}

fn day_iso(day: Day) -> String {
    Date::from_unix(day_start(day)).iso()
}

/// "Safety (/dry-needling/safety/)" when the title is known.
fn page_label(site: &Site, path: &str) -> String {
    match site.comment_page(path) {
        Some(page) => format!("{} ({path})", page.title),
        None => path.to_string(),
    }
}

fn times(n: u64) -> String {
    if n == 1 { "once".to_string() } else { format!("{n} times") }
}

/// "1 comment is", "3 comments are".
fn counted(n: usize, one: &str, many: &str) -> String {
    if n == 1 { format!("1 {one} is") } else { format!("{n} {many} are") }
}

/// How many there are of a list the dashboard shows the newest
/// [`LISTED`] of: "No comments are waiting for review.", "1 comment is
/// waiting for review.", "25 ... The newest 20 are listed."
fn listed(n: usize, (one, many): (&str, &str), state: &str) -> String {
    match n {
        0 => format!("No {many} are {state}."),
        n if n > LISTED => format!("{} {state}. The newest {LISTED} are listed.", counted(n, one, many)),
        n => format!("{} {state}.", counted(n, one, many)),
    }
}

fn sections(site: &Site, loaded: &Loaded, panels: Panels) -> Vec<Section> {
    let mut sections = Vec::new();
    if panels.figures {
        figure_sections(site, loaded, &mut sections);
    }
    if panels.feedback {
        sections.push(helpfulness(site, &loaded.helpfulness));
        sections.push(open_reports(site, &loaded.open_reports));
        sections.push(pending_comments(site, loaded, panels.may_moderate));
    }
    if panels.reviews {
        sections.push(review_queue(&loaded.queue, panels.may_review));
    }
    sections
}

fn figure_sections(site: &Site, loaded: &Loaded, sections: &mut Vec<Section>) {
    let total: u64 = loaded.days.iter().map(|(_, n)| n).sum();
    let busiest = loaded.days.iter().max_by_key(|(day, n)| (*n, -day)).filter(|(_, n)| *n > 0);
    let summary = match busiest {
        Some((day, n)) => format!(
            "Pages were read {} in the last 30 days. The busiest day was {} ({}).",
            times(total),
            day_label(*day),
            times(*n)
        ),
        None => "No pages were read in the last 30 days.".to_string(),
    };
    let bars: Vec<(String, u64)> = loaded.days.iter().map(|(day, n)| (day_label(*day), *n)).collect();
    sections.push(Section {
        id: "days",
        heading: "Views per day, last 30 days",
        chart: (total > 0).then(|| column_chart("days", "Views per day, last 30 days", &bars)),
        summary,
        table: Table {
            caption: "Views of all pages per day (UTC)".into(),
            columns: vec!["Day", "Views"],
            rows: loaded.days.iter().map(|(day, n)| vec![day_iso(*day), n.to_string()]).collect(),
        },
        link: None,
    });

    let views_30 = |page: &str| loaded.pages_30.iter().find(|p| p.page == page).map_or(0, |p| p.views);
    let mut pages = loaded.pages_90.clone();
    pages.sort_by(|a, b| {
        views_30(&b.page).cmp(&views_30(&a.page)).then(b.views.cmp(&a.views)).then(a.page.cmp(&b.page))
    });
    let top: Vec<(String, u64)> =
        pages.iter().take(10).map(|p| (page_label(site, &p.page), views_30(&p.page))).filter(|(_, n)| *n > 0).collect();
    let summary = match top.first() {
        Some((label, n)) => format!(
            "{} pages were read in the last 30 days. The most read was {label}, {}.",
            pages.iter().filter(|p| views_30(&p.page) > 0).count(),
            times(*n)
        ),
        None => "No pages were read in the last 30 days.".to_string(),
    };
    sections.push(Section {
        id: "pages",
        heading: "Views per page",
        chart: (!top.is_empty()).then(|| bar_chart("pages", "The 10 most read pages, last 30 days", &top, "")),
        summary,
        table: Table {
            caption: "Views, prints and shares per page (print pages count as prints)".into(),
            columns: vec!["Page", "Views (30 days)", "Views (90 days)", "Prints (90 days)", "Shares (90 days)"],
            rows: pages
                .iter()
                .map(|p| {
                    vec![
                        page_label(site, &p.page),
                        views_30(&p.page).to_string(),
                        p.views.to_string(),
                        p.prints.to_string(),
                        p.shares.to_string(),
                    ]
                })
                .collect(),
        },
        link: None,
    });

    let summary = match loaded.referrers_90.first() {
        Some((host, n)) => format!(
            "{} sites sent readers here in the last 90 days. The most was {host}, {}.",
            loaded.referrers_90.len(),
            times(*n)
        ),
        None => "No other sites sent readers here in the last 90 days, or their browsers did not say.".to_string(),
    };
    let in_30 = |host: &str| loaded.referrers_30.iter().find(|(h, _)| h == host).map_or(0, |(_, n)| *n);
    sections.push(Section {
        id: "referrers",
        heading: "Sites that sent readers",
        chart: (!loaded.referrers_90.is_empty())
            .then(|| bar_chart("referrers", "Sites that sent readers, last 90 days", &loaded.referrers_90, "")),
        summary,
        table: Table {
            caption: format!("The top {TOP_SITES} sites that linked readers here (the site's name only)"),
            columns: vec!["Site", "Readers (30 days)", "Readers (90 days)"],
            rows: loaded
                .referrers_90
                .iter()
                .map(|(host, n)| vec![host.clone(), in_30(host).to_string(), n.to_string()])
                .collect(),
        },
        link: None,
    });

    let shared: u64 = loaded.shares.iter().map(|(_, n)| n).sum();
    let shares: Vec<(String, u64)> = loaded.shares.iter().map(|(c, n)| (c.label().to_string(), *n)).collect();
    let summary = match shares.iter().max_by_key(|(_, n)| *n).filter(|(_, n)| *n > 0) {
        Some((label, n)) => {
            format!(
                "The share controls were used {} in the last 90 days, most often {label} ({}).",
                times(shared),
                times(*n)
            )
        }
        None => "Nobody used the share controls in the last 90 days.".to_string(),
    };
    sections.push(Section {
        id: "shares",
        heading: "Sharing",
        chart: (shared > 0).then(|| bar_chart("shares", "Share controls used, last 90 days", &shares, "")),
        summary,
        table: Table {
            caption: "Uses of each share control, last 90 days".into(),
            columns: vec!["Share control", "Uses"],
            rows: shares.iter().map(|(label, n)| vec![label.clone(), n.to_string()]).collect(),
        },
        link: None,
    });
}

/// What readers answered to "Was this page helpful?", pages with the most
/// "no" answers first (the ones to look at).
fn helpfulness(site: &Site, pages: &[PageFeedback]) -> Section {
    let answers: usize = pages.iter().map(|p| p.helpful + p.not_helpful).sum();
    let percent = |p: &PageFeedback| (p.helpful * 100).checked_div(p.helpful + p.not_helpful).unwrap_or(0);
    let summary = match pages.first().filter(|p| p.not_helpful > 0) {
        _ if answers == 0 => "Nobody has answered \u{201c}Was this page helpful?\u{201d} yet.".to_string(),
        Some(worst) => format!(
            "Readers answered \u{201c}Was this page helpful?\u{201d} {}. Most \u{201c}no\u{201d} answers: {} ({} of {}).",
            times(answers as u64),
            page_label(site, &worst.page),
            worst.not_helpful,
            worst.helpful + worst.not_helpful
        ),
        None => format!(
            "Readers answered \u{201c}Was this page helpful?\u{201d} {}, all of them \u{201c}yes\u{201d}.",
            times(answers as u64)
        ),
    };
    let bars: Vec<(String, u64)> =
        pages.iter().take(10).map(|p| (page_label(site, &p.page), percent(p) as u64)).collect();
    Section {
        id: "helpful",
        heading: "Was this page helpful?",
        chart: (answers > 0).then(|| bar_chart("helpful", "Share of readers who found each page helpful", &bars, "%")),
        summary,
        table: Table {
            caption: "Answers per page since feedback began, most \u{201c}no\u{201d} answers first".into(),
            columns: vec!["Page", "Yes", "No", "Found it helpful"],
            rows: pages
                .iter()
                .map(|p| {
                    vec![
                        page_label(site, &p.page),
                        p.helpful.to_string(),
                        p.not_helpful.to_string(),
                        format!("{}%", percent(p)),
                    ]
                })
                .collect(),
        },
        link: Some((urls::ADMIN_FEEDBACK, "Read what readers wrote")),
    }
}

fn open_reports(site: &Site, reports: &[Report]) -> Section {
    let summary = listed(reports.len(), ("problem report", "problem reports"), "open");
    Section {
        id: "reports",
        heading: "Problem reports",
        chart: None,
        summary,
        table: Table {
            caption: "Open problem reports, newest first".into(),
            columns: vec!["Page", "Problem", "Reported on"],
            rows: reports
                .iter()
                .take(LISTED)
                .map(|r| {
                    vec![
                        page_label(site, &r.page),
                        r.kind.map_or_else(|| "Something else".to_string(), |kind| kind.to_string()),
                        long_day(&r.day),
                    ]
                })
                .collect(),
        },
        link: Some((urls::ADMIN_FEEDBACK, "Open the problem reports")),
    }
}

fn pending_comments(site: &Site, loaded: &Loaded, may_moderate: bool) -> Section {
    let summary = listed(loaded.pending_count, ("comment", "comments"), "waiting for review");
    Section {
        id: "comments",
        heading: "Comments waiting for review",
        chart: None,
        summary,
        table: Table {
            caption: "Comments waiting for review, newest first".into(),
            columns: vec!["Page", "Left on"],
            rows: loaded
                .pending
                .iter()
                .map(|c| vec![page_label(site, &c.page), Date::from_unix(c.created_at).long()])
                .collect(),
        },
        link: may_moderate.then_some((urls::ADMIN_COMMENTS, "Moderate comments")),
    }
}

fn review_queue(queue: &ReviewQueue, may_review: bool) -> Section {
    let why = |item: &QueueItem| match item.reason {
        Reason::Never => "Never reviewed",
        Reason::Changed => "Changed since review",
        Reason::Due => "Review due",
        Reason::Pending => "Change waiting for sign-off",
    };
    let items: Vec<&QueueItem> = queue
        .pending
        .iter()
        .chain(&queue.changed_since_review)
        .chain(&queue.due)
        .chain(&queue.never_reviewed)
        .collect();
    let summary = match items.len() {
        0 => "Every page's clinical review is up to date.".to_string(),
        n => format!(
            "{} in the review queue: {} with a change waiting, {} changed since review, {} due or overdue, {} never reviewed.",
            counted(n, "page", "pages"),
            queue.pending.len(),
            queue.changed_since_review.len(),
            queue.due.len(),
            queue.never_reviewed.len()
        ),
    };
    Section {
        id: "reviews",
        heading: "Clinical review",
        chart: None,
        summary,
        table: Table {
            caption: "Pages that need a reviewer, the most urgent first".into(),
            columns: vec!["Page", "Why", "Last reviewed", "Next review due"],
            rows: items
                .iter()
                .map(|item| {
                    let date = |iso: &Option<String>| {
                        iso.as_deref()
                            .and_then(|iso| iso.parse::<Date>().ok())
                            .map_or_else(|| "Never".to_string(), |d| d.long())
                    };
                    let reviewed = match (&item.last_reviewed_by, date(&item.last_reviewed)) {
                        (Some(by), when) if item.last_reviewed.is_some() => format!("{when} by {by}"),
                        (_, when) => when,
                    };
                    let next = if item.next_review.is_some() { date(&item.next_review) } else { "Not set".into() };
                    vec![item.title.clone(), why(item).to_string(), reviewed, next]
                })
                .collect(),
        },
        link: may_review.then_some((urls::ADMIN_REVIEWS, "Open the review queue")),
    }
}

/// Width and height of every chart's drawing, in its own units; it scales
/// to the page's width.
const WIDTH: u64 = 640;

/// Upright bars, one per label, for a series in time order. Labels are in
/// the table; the chart marks the first and last.
fn column_chart(id: &str, title: &str, bars: &[(String, u64)]) -> String {
    const HEIGHT: u64 = 200;
    const AXIS: u64 = 24;
    let max = bars.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1);
    let slot = WIDTH as f64 / bars.len().max(1) as f64;
    let mut svg = svg_open(id, title, WIDTH, HEIGHT + AXIS);
    for (index, (label, n)) in bars.iter().enumerate() {
        let height = (*n as f64 / max as f64) * (HEIGHT - 16) as f64;
        let x = index as f64 * slot + slot * 0.15;
        svg.push_str(&format!(
            r#"<rect class="chart-bar" x="{x:.1}" y="{:.1}" width="{:.1}" height="{height:.1}"><title>{}: {n}</title></rect>"#,
            HEIGHT as f64 - height,
            slot * 0.7,
            escape(label)
        ));
    }
    svg.push_str(&format!(r#"<line class="chart-axis" x1="0" y1="{HEIGHT}" x2="{WIDTH}" y2="{HEIGHT}"/>"#));
    if let (Some((first, _)), Some((last, _))) = (bars.first(), bars.last()) {
        let y = HEIGHT + AXIS - 6;
        svg.push_str(&format!(r#"<text class="chart-text" x="0" y="{y}">{}</text>"#, escape(first)));
        svg.push_str(&format!(
            r#"<text class="chart-text" x="{WIDTH}" y="{y}" text-anchor="end">{}</text>"#,
            escape(last)
        ));
    }
    svg.push_str(&format!(r#"<text class="chart-text" x="0" y="12">Most: {max}</text>"#));
    svg.push_str("</svg>");
    svg
}

/// Bars lying down, one per labelled row, longest first as given; each
/// value is written after the bar with `unit` ("%", or nothing).
fn bar_chart(id: &str, title: &str, bars: &[(String, u64)], unit: &str) -> String {
    const ROW: u64 = 28;
    let max = bars.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1);
    let height = ROW * bars.len() as u64;
    let mut svg = svg_open(id, title, WIDTH, height);
    let room = (WIDTH - 60) as f64;
    for (index, (label, n)) in bars.iter().enumerate() {
        let y = index as u64 * ROW;
        let width = (*n as f64 / max as f64 * room).max(1.0);
        let label: String =
            if label.chars().count() > 60 { label.chars().take(59).chain(['…']).collect() } else { label.clone() };
        svg.push_str(&format!(
            r#"<rect class="chart-bar chart-bar-soft" x="0" y="{}" width="{width:.1}" height="{}"><title>{}: {n}{unit}</title></rect>"#,
            y + 2,
            ROW - 4,
            escape(&label)
        ));
        svg.push_str(&format!(
            r#"<text class="chart-text" x="6" y="{}">{}</text><text class="chart-text" x="{WIDTH}" y="{}" text-anchor="end">{n}{unit}</text>"#,
            y + ROW - 9,
            escape(&label),
            y + ROW - 9
        ));
    }
    svg.push_str("</svg>");
    svg
}

/// An SVG that is one image to assistive technology, named by its title
/// and described by the section's summary sentence.
fn svg_open(id: &str, title: &str, width: u64, height: u64) -> String {
    format!(
        r#"<svg class="chart" role="img" aria-labelledby="chart-{id}-title" aria-describedby="figures-{id}-summary" viewBox="0 0 {width} {height}" width="100%" preserveAspectRatio="xMinYMin meet" xmlns="http://www.w3.org/2000/svg"><title id="chart-{id}-title">{}</title>"#,
        escape(title)
    )
}

/// One section's table as RFC 4180 CSV, cells that a spreadsheet would run
/// as a formula neutralised, as `clinic-site audit export` does.
fn csv_response(section: &Section) -> Response {
    let mut csv = String::new();
    for row in std::iter::once(section.table.columns.iter().map(|c| c.to_string()).collect::<Vec<_>>())
        .chain(section.table.rows.iter().cloned())
    {
        csv.push_str(&row.iter().map(|cell| crate::util::csv::field(cell)).collect::<Vec<_>>().join(","));
        csv.push_str("\r\n");
    }
    let disposition = format!("attachment; filename=\"dashboard-{}.csv\"", section.id);
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8")),
            (header::CONTENT_DISPOSITION, HeaderValue::from_str(&disposition).expect("the id is ASCII")),
        ],
        csv,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_escape_their_labels_and_have_a_title() {
        let svg = bar_chart("t", "Title <b>", &[("<script>".into(), 3), ("b".into(), 1)], "%");
        assert!(svg.contains(r#"role="img""#));
        assert!(svg.contains("<title id=\"chart-t-title\">Title &lt;b&gt;</title>"));
        assert!(!svg.contains("<script>"));
        let columns = column_chart("d", "Days", &[("1 May".into(), 0), ("2 May".into(), 5)]);
        assert_eq!(columns.matches("<rect").count(), 2);
        assert!(columns.ends_with("</svg>"));
    }
}
