//! The reading figures (owners and editors): views per day and per page,
//! the sites that sent readers, share controls used, and comments waiting.
//! Each part is a [`Section`]: a heading, a sentence that says what the
//! chart shows, the chart (SVG drawn here, in the site's colours), and the
//! numbers as a table, which `?format=csv&table=<id>` sends as CSV. A new
//! panel (helpfulness, problem reports, the review queue) is one more
//! `Section` pushed in [`sections`].

use askama::Template;
use axum::Extension;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::{Nav, Staff, admin_chrome, page};
use crate::comments::Status;
use crate::figures::store::PageFigures;
use crate::figures::{Day, today};
use crate::http::AppState;
use crate::http::error::{AppError, blocking};
use crate::site::{Chrome, Site};
use crate::urls;
use crate::util::date::Date;
use crate::util::html::escape;

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
#[template(path = "admin_figures.html")]
struct FiguresTemplate<'a> {
    chrome: Chrome<'a>,
    nav: Nav,
    counting: bool,
    sections: Vec<Section>,
}

#[derive(Deserialize)]
pub(super) struct FiguresQuery {
    format: Option<String>,
    table: Option<String>,
}

/// Everything the dashboard reads, loaded off the async threads.
struct Loaded {
    days: Vec<(Day, u64)>,
    pages_30: Vec<PageFigures>,
    pages_90: Vec<PageFigures>,
    referrers_30: Vec<(String, u64)>,
    referrers_90: Vec<(String, u64)>,
    shares: Vec<(crate::figures::Channel, u64)>,
    /// The newest waiting comments, and how many wait in all.
    pending: Vec<crate::comments::Comment>,
    pending_count: usize,
}

/// Most referring sites listed.
const TOP_SITES: usize = 20;
/// Most pending comments listed (the moderation page has them all).
const PENDING_SHOWN: usize = 20;

pub(super) async fn dashboard(
    State(state): State<AppState>,
    Extension(staff): Extension<Staff>,
    Query(query): Query<FiguresQuery>,
) -> Result<Response, AppError> {
    let today = today();
    let reading = state.clone();
    let loaded = blocking(move || {
        let store = &reading.figures.store;
        let failed = |e: rusqlite::Error| AppError::Internal(format!("cannot read the reading figures: {e}"));
        let comments_failed =
            |e: crate::comments::store::StoreError| AppError::Internal(format!("cannot read the comments: {e}"));
        Ok::<_, AppError>(Loaded {
            days: store.views_per_day(today - 29, today).map_err(failed)?,
            pages_30: store.per_page(today - 29, today).map_err(failed)?,
            pages_90: store.per_page(today - 89, today).map_err(failed)?,
            referrers_30: store.referrers(today - 29, today, usize::MAX >> 1).map_err(failed)?,
            referrers_90: store.referrers(today - 89, today, TOP_SITES).map_err(failed)?,
            shares: store.shares(today - 89, today).map_err(failed)?,
            pending: reading.comments.with_status(Status::Pending, PENDING_SHOWN).map_err(comments_failed)?,
            pending_count: reading.comments.counts().map_err(comments_failed)?.pending,
        })
    })
    .await?;
    let site = state.site.load();
    let sections = sections(&site, &loaded, staff.account.roles.may(crate::auth::Role::Moderator));
    if query.format.as_deref() == Some("csv") {
        let wanted = query.table.as_deref().unwrap_or("");
        let section = sections.iter().find(|s| s.id == wanted).ok_or(AppError::NotFound)?;
        return Ok(csv_response(section));
    }
    page(
        StatusCode::OK,
        &FiguresTemplate {
            chrome: admin_chrome(&site, "Reading figures"),
            nav: Nav::new(&staff, urls::ADMIN_FIGURES),
            counting: state.figures.counter.is_some(),
            sections,
        },
    )
}

fn day_label(day: Day) -> String {
    Date::from_unix(day * 86_400).long()
}

fn day_iso(day: Day) -> String {
    Date::from_unix(day * 86_400).iso()
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

fn sections(site: &Site, loaded: &Loaded, may_moderate: bool) -> Vec<Section> {
    let mut sections = Vec::new();

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
        chart: Some(column_chart("days", "Views per day, last 30 days", &bars)),
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
        chart: (!top.is_empty()).then(|| bar_chart("pages", "The 10 most read pages, last 30 days", &top)),
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
            .then(|| bar_chart("referrers", "Sites that sent readers, last 90 days", &loaded.referrers_90)),
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
        chart: (shared > 0).then(|| bar_chart("shares", "Share controls used, last 90 days", &shares)),
        summary,
        table: Table {
            caption: "Uses of each share control, last 90 days".into(),
            columns: vec!["Share control", "Uses"],
            rows: shares.iter().map(|(label, n)| vec![label.clone(), n.to_string()]).collect(),
        },
        link: None,
    });

    let summary = match loaded.pending_count {
        0 => "No comments are waiting for review.".to_string(),
        1 => "1 comment is waiting for review.".to_string(),
        n if n > PENDING_SHOWN => {
            format!("{n} comments are waiting for review. The newest {PENDING_SHOWN} are listed.")
        }
        n => format!("{n} comments are waiting for review."),
    };
    sections.push(Section {
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
        link: may_moderate.then_some((urls::ADMIN, "Review comments")),
    });
    sections
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

/// Bars lying down, one per labelled row, longest first as given.
fn bar_chart(id: &str, title: &str, bars: &[(String, u64)]) -> String {
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
            r#"<rect class="chart-bar chart-bar-soft" x="0" y="{}" width="{width:.1}" height="{}"><title>{}: {n}</title></rect>"#,
            y + 2,
            ROW - 4,
            escape(&label)
        ));
        svg.push_str(&format!(
            r#"<text class="chart-text" x="6" y="{}">{}</text><text class="chart-text" x="{WIDTH}" y="{}" text-anchor="end">{n}</text>"#,
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
    let disposition = format!("attachment; filename=\"figures-{}.csv\"", section.id);
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
        let svg = bar_chart("t", "Title <b>", &[("<script>".into(), 3), ("b".into(), 1)]);
        assert!(svg.contains(r#"role="img""#));
        assert!(svg.contains("<title id=\"chart-t-title\">Title &lt;b&gt;</title>"));
        assert!(!svg.contains("<script>"));
        let columns = column_chart("d", "Days", &[("1 May".into(), 0), ("2 May".into(), 5)]);
        assert_eq!(columns.matches("<rect").count(), 2);
        assert!(columns.ends_with("</svg>"));
    }
}
