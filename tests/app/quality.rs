//! The quality report: the same figures from `clinic-site report` (text and
//! JSON) and `/admin/quality` (HTML and CSV), for a fixture site with known
//! sign-offs, an edit since one, a change waiting, feedback, problem
//! reports and views.

use std::path::Path;

use axum::http::{Method, StatusCode};
use clinic_site::auth::{Actor, NewAccount, Role, Roles};
use clinic_site::comments::token::Nonce;
use clinic_site::config::Config;
use clinic_site::content::{Date, Page};
use clinic_site::feedback::{FeedbackText, NewAnswer, NewReport, ProblemKind};
use clinic_site::figures::{Counter, Kind, today};
use clinic_site::http::{AppState, router};
use clinic_site::readability::Readability;
use clinic_site::workspace::SignOffRequest;
use serde_json::{Value, json};

use crate::admin::{add_staff, cli, now, send_with};
use crate::helpers::*;
use crate::staff::session_for;

const INDEX: &str = "knee/index.md";
const EXERCISES: &str = "knee/exercises.md";
const SHORT: &str = "knee/short.md";

/// The fixture's content (copied, as sign-offs write to it) served from a
/// data folder holding:
/// - `knee/index.md` signed off by Jane Smith, DPT today, with a change
///   waiting for review; 2 "helpful" and 1 "not helpful"; 3 views today
///   and 2 forty days ago.
/// - `knee/exercises.md` signed off, then edited (changed since review),
///   with two health claims and no sources; 1 "not helpful"; two problem
///   reports, one marked done; 1 view a hundred days ago.
/// - `knee/short.md` never reviewed, one sentence long; 1 open report; 4
///   views 29 days ago.
struct Seeded {
    app: TestApp,
    content: tempfile::TempDir,
}

fn seeded() -> Seeded {
    let content = copy_fixture("quality");
    let data = tempfile::tempdir().unwrap();
    let config = || Config::for_test(data.path()).with_content(content.path());
    let first = AppState::load(config()).unwrap();
    let at = now();
    let new = NewAccount::parse("jane", "Jane Smith", "DPT", Roles::of([Role::Reviewer])).unwrap();
    let jane = first.staff.add(&new, None, &Actor::command_line(), at).unwrap();
    let new = NewAccount::parse("eddie", "Eddie Editor", "", Roles::of([Role::Editor])).unwrap();
    let editor = Actor::person(&first.staff.add(&new, None, &Actor::command_line(), at).unwrap());
    let workspace = &first.workspace;
    for file in [INDEX, EXERCISES] {
        let (_, base) = workspace.current(file).unwrap();
        let request = SignOffRequest {
            path: file,
            base_hash: &base,
            pending: None,
            note: "",
            reviewer: &jane,
            today: Date::from_unix(at),
            now: at,
        };
        workspace.sign_off(&request).unwrap();
    }
    let (text, hash) = workspace.current(EXERCISES).unwrap();
    workspace.save(EXERCISES, &text.replace("five seconds", "ten seconds"), &hash, &editor, "longer hold", at).unwrap();
    let (text, hash) = workspace.current(INDEX).unwrap();
    workspace.save_pending(INDEX, &text.replace("a lot", "often"), &hash, &editor, "plainer", at).unwrap();

    let form = |nonce: &'static str| Nonce { nonce, expires_at: at + 3600 };
    for (page, helpful, nonce) in
        [("/knee/", true, "a1"), ("/knee/", true, "a2"), ("/knee/", false, "a3"), ("/knee/exercises/", false, "a4")]
    {
        let answer = NewAnswer { page: page.into(), helpful, text: None, flags: Vec::new() };
        first.feedback.add_answer(&answer, form(nonce), at).unwrap();
    }
    for (page, nonce) in [("/knee/exercises/", "r1"), ("/knee/exercises/", "r2"), ("/knee/short/", "r3")] {
        let report = NewReport {
            page: page.into(),
            kind: ProblemKind::BrokenLink,
            details: FeedbackText::parse("A link goes nowhere").unwrap(),
            flags: Vec::new(),
        };
        first.feedback.add_report(&report, form(nonce), at).unwrap();
    }
    let done = first.feedback.reports().unwrap().into_iter().find(|r| r.page == "/knee/exercises/").unwrap();
    first.feedback.set_done(done.id, true, &editor, at).unwrap();

    let counter = Counter::default();
    let day = today();
    for (page, days_ago, views) in
        [("/knee/", 0, 3), ("/knee/", 40, 2), ("/knee/exercises/", 100, 1), ("/knee/short/", 29, 4)]
    {
        for _ in 0..views {
            counter.count(day - days_ago, page, Kind::View, None);
        }
    }
    // A print is not a view.
    counter.count(day, "/knee/print/", Kind::Print, None);
    first.figures.store.add(&counter.take()).unwrap();
    drop(first);

    // Started again, as after the edits, so the site is built from them.
    let state = AppState::load(config()).unwrap();
    Seeded { app: TestApp { router: router(state.clone()), state, data }, content }
}

fn parsed(content: &Path, file: &str) -> Page {
    let source = std::fs::read_to_string(content.join(file)).unwrap();
    Page::parse(&content.join(file), source).unwrap()
}

/// The grades `readability` gives the page's text as the site renders it,
/// to one decimal place: (Flesch-Kincaid, SMOG).
fn grades(content: &Path, file: &str) -> (Value, Value) {
    let page = parsed(content, file);
    let counts = Readability::of_blocks(&clinic_site::render::render(page.body()).text);
    let tenth = |g: f64| json!((g * 10.0).round() / 10.0);
    (tenth(counts.grade()), if counts.smog_scored() { tenth(counts.smog()) } else { Value::Null })
}

/// The report's figures for one page, as the JSON names them, without the
/// grades.
fn figures(page: &Value) -> Value {
    let mut page = page.clone();
    let object = page.as_object_mut().unwrap();
    object.remove("flesch_kincaid_grade");
    object.remove("smog_grade");
    object.remove("words");
    object.remove("sentences");
    page
}

#[test]
fn the_command_line_report_gives_each_pages_figures_as_json_and_text() {
    let seeded = seeded();
    let content = seeded.content.path();
    let (code, out, err) =
        cli(&["report", "--content", content.to_str().unwrap(), "--format", "json"], seeded.app.data.path());
    assert_eq!(code, 0, "{err}");
    let report: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    let today = Date::from_unix(now());
    // As the sign-off wrote it into the page.
    let next = parsed(content, INDEX).front.review().unwrap().next.iso();
    let pages = report["pages"].as_array().unwrap();
    assert_eq!(pages.len(), 3, "the article's pages in reading order: {report:#}");
    assert_eq!(
        figures(&pages[0]),
        json!({
            "title": "Knee Pain: A Test Guide", "url": "/knee/", "file": INDEX,
            "review_status": "current", "review_status_label": "Current", "change_waiting": true,
            "reviewed_by": "Jane Smith, DPT", "last_reviewed": today.iso(),
            "next_review": next,
            "sources": 1, "claim_warnings": 0,
            "helpful_yes": 2, "helpful_no": 1, "views_30_days": 3, "views_90_days": 5, "open_problem_reports": 0,
        })
    );
    assert_eq!(
        figures(&pages[1]),
        json!({
            "title": "Exercises for Your Knee", "url": "/knee/exercises/", "file": EXERCISES,
            "review_status": "changed-since-review", "review_status_label": "Changed since review",
            "change_waiting": false,
            "reviewed_by": "Jane Smith, DPT", "last_reviewed": today.iso(), "next_review": next,
            "sources": 0, "claim_warnings": 2,
            "helpful_yes": 0, "helpful_no": 1, "views_30_days": 0, "views_90_days": 0, "open_problem_reports": 1,
        })
    );
    assert_eq!(
        figures(&pages[2]),
        json!({
            "title": "Contact Us About Your Knee", "url": "/knee/short/", "file": SHORT,
            "review_status": "never-reviewed", "review_status_label": "Never reviewed", "change_waiting": false,
            "reviewed_by": null, "last_reviewed": null, "next_review": null,
            "sources": 0, "claim_warnings": 0,
            "helpful_yes": 0, "helpful_no": 0, "views_30_days": 4, "views_90_days": 4, "open_problem_reports": 1,
        })
    );
    for (page, file) in pages.iter().zip([INDEX, EXERCISES, SHORT]) {
        let (grade, smog) = grades(content, file);
        assert_eq!((&page["flesch_kincaid_grade"], &page["smog_grade"]), (&grade, &smog), "{file}");
    }
    assert!(pages[0]["smog_grade"].is_f64(), "five sentences are enough for SMOG");
    assert!(pages[2]["smog_grade"].is_null(), "one sentence is too short for SMOG");
    assert_eq!(pages[2]["words"], 5);
    let totals = &report["totals"];
    let mut counts = totals.clone();
    counts.as_object_mut().unwrap().retain(|key, _| !key.ends_with("_grade"));
    assert_eq!(
        counts,
        json!({
            "pages": 3, "current": 1, "due_soon": 0, "overdue": 0, "changed_since_review": 1, "never_reviewed": 1,
            "changes_waiting": 1, "claim_warnings": 2, "helpful_yes": 2, "helpful_no": 2,
            "views_30_days": 7, "views_90_days": 9, "open_problem_reports": 2,
        })
    );
    assert!(totals["smog_grade"].is_f64() && totals["flesch_kincaid_grade"].is_f64(), "{totals}");
    assert_eq!(report["clinic"], "Quality Test Clinic");
    assert!(report["generated"].as_str().unwrap().starts_with(&today.iso()), "{report}");

    let (code, text, err) = cli(&["report", "--content", content.to_str().unwrap()], seeded.app.data.path());
    assert_eq!(code, 0, "{err}");
    assert!(text.starts_with("Quality report for Quality Test Clinic, "), "{text}");
    assert!(
        text.contains("3 pages: 1 current, 0 due for review within 30 days, 0 overdue, 1 changed since review, 1 never reviewed; 1 change waiting for review.\n"),
        "{text}"
    );
    assert!(text.contains("2 claim warnings"), "{text}");
    let row = |url: &str, table: &str| -> Vec<String> {
        let section = text.split(table).nth(1).unwrap();
        let line = section.lines().find(|l| l.starts_with(&format!("{url} "))).unwrap();
        line.split("  ").map(str::trim).filter(|c| !c.is_empty()).map(String::from).collect()
    };
    assert_eq!(
        row("/knee/exercises/", "Clinical review and evidence"),
        ["/knee/exercises/", "Changed since review", &format!("Jane Smith, DPT, {}", today.iso()), "0", "2"]
    );
    assert_eq!(row("/knee/", "Clinical review and evidence")[1], "Current; change waiting");
    let short = row("/knee/short/", "Readability and readers");
    assert_eq!(short[2..], ["too short to score", "0 / 0", "4", "4", "1"], "{text}");
}

#[test]
fn the_command_line_report_works_on_an_empty_data_folder_and_names_a_missing_content_folder() {
    let data = tempfile::tempdir().unwrap();
    let empty = data.path().join("new");
    let (code, out, err) = cli(&["report", "--content", "tests/fixtures/quality", "--format", "json"], &empty);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("a new, empty one was made"), "{err}");
    let report: Value = serde_json::from_str(&out).unwrap();
    let totals = &report["totals"];
    assert_eq!(
        (&totals["pages"], &totals["never_reviewed"], &totals["claim_warnings"]),
        (&json!(3), &json!(3), &json!(2))
    );
    for key in
        ["helpful_yes", "helpful_no", "views_30_days", "views_90_days", "open_problem_reports", "changes_waiting"]
    {
        assert_eq!(totals[key], 0, "{key}");
    }

    let (code, _, err) = cli(&["report", "--content", "tests/fixtures/no-such-folder"], &empty);
    assert_eq!(code, 1);
    assert!(
        err.contains("there is no content folder at tests/fixtures/no-such-folder; give the folder with site.toml"),
        "{err}"
    );
}

/// Cells of the report's table, row by row.
fn table(html: &scraper::Html) -> Vec<Vec<String>> {
    table_cells(html, "#quality-table")
}

#[tokio::test]
async fn the_staff_page_shows_the_same_figures_to_editors_and_reviewers_with_csv() {
    let seeded = seeded();
    let app = &seeded.app;
    let content = seeded.content.path();
    let today = Date::from_unix(now());
    let editor = add_staff(app, "ed", &[Role::Editor]);
    let (cookie, _) = session_for(app, &editor);
    let page = send_with(app, Method::GET, "/admin/quality", Some(&cookie), "").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let html = page.html();
    assert!(text_of(&html, "main p").contains("assessor"), "{}", page.body);
    assert!(page.body.contains("3 pages: 1 current, 0 due for review within 30 days"), "{}", page.body);
    assert_eq!(select(&html, ".admin-nav a[href='/admin/quality'][aria-current='page']").len(), 1);
    assert_eq!(text_of(&html, "#quality-table caption"), "Quality of each page, in reading order");
    assert_eq!(select(&html, "#quality-table thead th[scope='col']").len(), 12);
    let region = select(&html, ".table-scroll[role='region'][tabindex='0']");
    assert_eq!(region.len(), 1, "the wide table scrolls by keyboard too");
    assert_eq!(region[0].value().attr("aria-labelledby"), Some("quality-caption"));

    let rows = table(&html);
    let (index_grade, index_smog) = grades(content, INDEX);
    let (exercises_grade, exercises_smog) = grades(content, EXERCISES);
    let (short_grade, short_smog) = grades(content, SHORT);
    let shown = |v: &Value| format!("{:.1}", v.as_f64().unwrap());
    assert!(short_smog.is_null());
    let review = format!("Jane Smith, DPT, {}", today.iso());
    assert_eq!(
        rows,
        [
            vec![
                "Knee Pain: A Test Guide /knee/".to_string(),
                "Current; change waiting".into(),
                review.clone(),
                "1".into(),
                "0".into(),
                shown(&index_grade),
                shown(&index_smog),
                "2".into(),
                "1".into(),
                "3".into(),
                "5".into(),
                "0".into(),
            ],
            vec![
                "Exercises for Your Knee /knee/exercises/".to_string(),
                "Changed since review".into(),
                review.clone(),
                "0".into(),
                "2".into(),
                shown(&exercises_grade),
                shown(&exercises_smog),
                "0".into(),
                "1".into(),
                "0".into(),
                "0".into(),
                "1".into(),
            ],
            vec![
                "Contact Us About Your Knee /knee/short/".to_string(),
                "Never reviewed".into(),
                "none".into(),
                "0".into(),
                "0".into(),
                shown(&short_grade),
                "too short to score".into(),
                "0".into(),
                "0".into(),
                "4".into(),
                "4".into(),
                "1".into(),
            ],
        ]
    );
    // Editors open the editor from a title; the sign-off is for reviewers.
    assert_eq!(select(&html, "#quality-table a[href='/admin/pages/knee/exercises']").len(), 1);
    assert!(select(&html, "#quality-table a[href$='/sign-off']").is_empty());

    let csv = send_with(app, Method::GET, "/admin/quality?format=csv", Some(&cookie), "").await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.header("content-type").starts_with("text/csv"));
    assert_eq!(
        csv.header("content-disposition"),
        format!("attachment; filename=\"quality-report-{}.csv\"", today.iso())
    );
    let cells = parse_csv(&csv.body);
    assert_eq!(cells.len(), 4, "{}", csv.body);
    assert!(cells.iter().all(|row| row.len() == 19), "{cells:?}");
    assert_eq!(
        cells[2],
        [
            "Exercises for Your Knee",
            "/knee/exercises/",
            EXERCISES,
            "Changed since review",
            "no",
            "Jane Smith, DPT",
            &today.iso(),
            &cells[1][7],
            "0",
            "2",
            &cells[2][10],
            &cells[2][11],
            &shown(&exercises_grade),
            &shown(&exercises_smog),
            "0",
            "1",
            "0",
            "0",
            "1",
        ]
    );
    assert_eq!((cells[1][4].as_str(), cells[3][13].as_str()), ("yes", "too short to score"));

    // Reviewers get the sign-off links, and no editor links.
    let reviewer = add_staff(app, "rev", &[Role::Reviewer]);
    let (cookie, _) = session_for(app, &reviewer);
    let page = send_with(app, Method::GET, "/admin/quality", Some(&cookie), "").await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.html();
    let link = select(&html, "#quality-table a[href='/admin/pages/knee/exercises/sign-off']");
    assert_eq!(link.len(), 1);
    assert_eq!(collapse(&link[0].text().collect::<String>()), "Changed since review: review Exercises for Your Knee");
    assert!(select(&html, "#quality-table a[href='/admin/pages/knee/exercises']").is_empty());
    // The same figures; each status link names its page for screen readers.
    let mut shown = table(&html);
    for (row, title) in
        shown.iter_mut().zip(["Knee Pain: A Test Guide", "Exercises for Your Knee", "Contact Us About Your Knee"])
    {
        let status = row[1].strip_suffix(&format!(": review {title}")).unwrap_or_else(|| panic!("{row:?}"));
        row[1] = status.to_string();
    }
    assert_eq!(shown, rows, "the same figures");

    // Moderators may not see it, nor its CSV.
    let moderator = add_staff(app, "mo", &[Role::Moderator]);
    let (cookie, _) = session_for(app, &moderator);
    for path in ["/admin/quality", "/admin/quality?format=csv"] {
        assert_eq!(send_with(app, Method::GET, path, Some(&cookie), "").await.status, StatusCode::FORBIDDEN, "{path}");
    }
}
