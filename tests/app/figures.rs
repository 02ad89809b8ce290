//! Reading figures: what is counted, what is not, what is kept, and the
//! dashboard that shows them.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use clinic_site::auth::Role;
use clinic_site::config::Config;
use clinic_site::feedback::store::Sent;
use clinic_site::feedback::{FeedbackText, NewAnswer, NewReport, ProblemKind};
use clinic_site::figures::store::{FiguresStore, PageFigures};
use clinic_site::figures::{Channel, today};
use clinic_site::http::{AppState, flush_figures, router};
use http_body_util::BodyExt;
use tower::ServiceExt;

use crate::admin::{add_staff, send_with, sign_in_as};
use crate::helpers::*;

const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
const GOOGLEBOT: &str = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";

/// A request with these headers; the status and the `ETag`.
async fn request(
    app: &axum::Router,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (StatusCode, String) {
    let mut builder = Request::builder().method(method).uri(path);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    let response = app.clone().oneshot(builder.body(Body::from(body.to_string())).unwrap()).await.unwrap();
    let status = response.status();
    let etag = response.headers().get("etag").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
    response.into_body().collect().await.unwrap();
    (status, etag)
}

async fn read(app: &axum::Router, path: &str, headers: &[(&str, &str)]) -> StatusCode {
    request(app, Method::GET, path, headers, "").await.0
}

fn figures_of(store: &FiguresStore, page: &str) -> PageFigures {
    let day = today();
    store
        .per_page(day - 1, day)
        .unwrap()
        .into_iter()
        .find(|p| p.page == page)
        .unwrap_or(PageFigures { page: page.into(), ..PageFigures::default() })
}

fn figures(store: &FiguresStore, page: &str) -> (u64, u64, u64) {
    let f = figures_of(store, page);
    (f.views, f.prints, f.shares)
}

#[tokio::test]
async fn a_scripted_sequence_gives_exact_counts_and_skips_head_304_prefetch_and_bots() {
    let app = real_app();
    let browser = [("user-agent", FIREFOX)];
    for _ in 0..3 {
        assert_eq!(read(&app, "/dry-needling/", &browser).await, StatusCode::OK);
    }
    let (status, etag) = request(&app, Method::HEAD, "/dry-needling/", &browser, "").await;
    assert_eq!(status, StatusCode::OK);
    let revalidate = [("user-agent", FIREFOX), ("if-none-match", etag.as_str())];
    assert_eq!(read(&app, "/dry-needling/", &revalidate).await, StatusCode::NOT_MODIFIED);
    for prefetch in [("sec-purpose", "prefetch"), ("purpose", "prefetch"), ("sec-purpose", "prefetch;prerender")] {
        assert_eq!(read(&app, "/dry-needling/", &[("user-agent", FIREFOX), prefetch]).await, StatusCode::OK);
    }
    for bot in [GOOGLEBOT, "facebookexternalhit/1.1", "curl/8.5.0", ""] {
        assert_eq!(read(&app, "/dry-needling/", &[("user-agent", bot)]).await, StatusCode::OK);
    }
    // Not pages: errors, redirects, files, a form post.
    assert_eq!(read(&app, "/no-such-page/", &browser).await, StatusCode::NOT_FOUND);
    assert_eq!(read(&app, "/Dry-Needling", &browser).await, StatusCode::PERMANENT_REDIRECT);
    assert_eq!(read(&app, "/static/share.js", &browser).await, StatusCode::OK);
    assert_eq!(request(&app, Method::POST, "/dry-needling/", &browser, "").await.0, StatusCode::METHOD_NOT_ALLOWED);
    // One reading of another page, sent from a search, and one print.
    let searched = [("user-agent", FIREFOX), ("referer", "https://www.google.com/search?q=needles")];
    assert_eq!(read(&app, "/dry-needling/safety/", &searched).await, StatusCode::OK);
    let ours = [("user-agent", FIREFOX), ("referer", "https://riverside-pt.example/dry-needling/")];
    assert_eq!(read(&app, "/dry-needling/print/", &ours).await, StatusCode::OK);

    flush_figures(&app.state).await;
    let store = &app.state.figures.store;
    assert_eq!(figures(store, "/dry-needling/"), (3, 0, 0));
    assert_eq!(figures(store, "/dry-needling/safety/"), (1, 0, 0));
    assert_eq!(figures(store, "/dry-needling/print/"), (0, 1, 0));
    let all = store.per_page(today() - 1, today()).unwrap();
    assert_eq!(all.len(), 3, "nothing else was counted: {all:?}");
    assert_eq!(store.views_per_day(today(), today()).unwrap(), [(today(), 4)]);
    // Moving between our own pages is not a referring site.
    assert_eq!(store.referrers(today() - 1, today(), 10).unwrap(), [("www.google.com".to_string(), 1)]);
    // Flushing again adds nothing.
    flush_figures(&app.state).await;
    assert_eq!(figures(store, "/dry-needling/"), (3, 0, 0));
}

/// Every byte the database keeps: its file and SQLite's write-ahead log.
fn database_bytes(data: &std::path::Path) -> Vec<u8> {
    let mut bytes = Vec::new();
    for entry in std::fs::read_dir(data).unwrap() {
        let path = entry.unwrap().path();
        if path.file_name().unwrap().to_string_lossy().starts_with("comments.db") {
            bytes.extend(std::fs::read(path).unwrap());
        }
    }
    bytes
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[tokio::test]
async fn only_the_referring_host_is_stored_never_the_path_query_or_user_agent() {
    let app = real_app();
    let agent = "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0 UniqueAgentMarker-5521";
    let referer = "https://forum.example/threads/knee-pain-4471?member=secret-token-991#post-8";
    let headers = [("user-agent", agent), ("referer", referer), ("x-forwarded-for", "203.0.113.77")];
    assert_eq!(read(&app, "/dry-needling/safety/", &headers).await, StatusCode::OK);
    flush_figures(&app.state).await;
    let bytes = database_bytes(app.data.path());
    assert!(contains(&bytes, "forum.example"), "the host is kept, so the search looks in the right files");
    for secret in ["knee-pain-4471", "secret-token-991", "post-8", "UniqueAgentMarker", "203.0.113.77", "Firefox"] {
        assert!(!contains(&bytes, secret), "{secret} is in the database");
    }
}

fn beacon_headers<'a>(extra: &'a [(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut headers = vec![("user-agent", FIREFOX), ("content-type", "application/x-www-form-urlencoded")];
    headers.extend_from_slice(extra);
    headers
}

#[tokio::test]
async fn the_share_beacon_counts_known_pages_from_our_own_pages_only() {
    let app = real_app();
    let same = beacon_headers(&[("sec-fetch-site", "same-origin")]);
    let beacon = |body: &'static str, headers: Vec<(&'static str, &'static str)>| {
        let app = app.router.clone();
        async move { request(&app, Method::POST, "/share-beacon", &headers, body).await.0 }
    };
    assert_eq!(beacon("page=%2Fdry-needling%2Fsafety%2F&channel=email", same.clone()).await, StatusCode::NO_CONTENT);
    assert_eq!(beacon("page=/dry-needling/safety/&channel=copy", same.clone()).await, StatusCode::NO_CONTENT);
    let origin = beacon_headers(&[("origin", "http://localhost:3000"), ("host", "localhost:3000")]);
    assert_eq!(beacon("page=/dry-needling/safety/&channel=copy", origin).await, StatusCode::NO_CONTENT);
    // Ignored, with the same answer.
    assert_eq!(beacon("page=/no-such-page/&channel=copy", same.clone()).await, StatusCode::NO_CONTENT);
    assert_eq!(beacon("page=/dry-needling/safety/&channel=pigeon", same.clone()).await, StatusCode::NO_CONTENT);
    assert_eq!(beacon("nonsense", same.clone()).await, StatusCode::NO_CONTENT);
    let bot = vec![("user-agent", GOOGLEBOT), ("sec-fetch-site", "same-origin")];
    assert_eq!(beacon("page=/dry-needling/safety/&channel=copy", bot).await, StatusCode::NO_CONTENT);
    // Refused: from another site, or saying nothing about where from.
    let cross = beacon_headers(&[("sec-fetch-site", "cross-site")]);
    assert_eq!(beacon("page=/dry-needling/safety/&channel=copy", cross).await, StatusCode::FORBIDDEN);
    let evil = beacon_headers(&[("origin", "https://evil.example"), ("host", "localhost:3000")]);
    assert_eq!(beacon("page=/dry-needling/safety/&channel=copy", evil).await, StatusCode::FORBIDDEN);
    assert_eq!(beacon("page=/dry-needling/safety/&channel=copy", beacon_headers(&[])).await, StatusCode::FORBIDDEN);
    let long: &'static str =
        Box::leak(format!("page=/dry-needling/safety/&channel=copy&x={}", "a".repeat(2000)).into());
    assert_eq!(beacon(long, same.clone()).await, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(request(&app, Method::GET, "/share-beacon", &same, "").await.0, StatusCode::METHOD_NOT_ALLOWED);

    flush_figures(&app.state).await;
    let store = &app.state.figures.store;
    assert_eq!(figures(store, "/dry-needling/safety/"), (0, 0, 3));
    let shares = store.shares(today() - 1, today()).unwrap();
    assert!(shares.contains(&(Channel::Email, 1)) && shares.contains(&(Channel::Copy, 2)), "{shares:?}");
    assert_eq!(store.per_page(today() - 1, today()).unwrap().len(), 1);
}

#[tokio::test]
async fn counts_survive_a_clean_restart() {
    let data = tempfile::tempdir().unwrap();
    let state = AppState::load(Config::for_test(data.path())).unwrap();
    let app = router(state.clone());
    for _ in 0..2 {
        read(&app, "/dry-needling/", &[("user-agent", FIREFOX)]).await;
    }
    flush_figures(&state).await;
    drop((app, state));
    let state = AppState::load(Config::for_test(data.path())).unwrap();
    assert_eq!(figures(&state.figures.store, "/dry-needling/"), (2, 0, 0));
    // And add to what was there.
    read(&router(state.clone()), "/dry-needling/", &[("user-agent", FIREFOX)]).await;
    flush_figures(&state).await;
    assert_eq!(figures(&state.figures.store, "/dry-needling/"), (3, 0, 0));
}

#[cfg(unix)]
#[test]
fn the_server_writes_its_counts_when_told_to_stop() {
    let server = Server::start(&["serve"]);
    for _ in 0..2 {
        let (status, _) = exchange(
            server.addr,
            &format!(
                "GET /dry-needling/ HTTP/1.0\r\nHost: {}\r\nUser-Agent: {FIREFOX}\r\nConnection: close\r\n\r\n",
                server.addr
            ),
        );
        assert_eq!(status, 200);
    }
    let stopped = std::process::Command::new("kill").args(["-TERM", &server.pid().to_string()]).status().unwrap();
    assert!(stopped.success());
    let db = server.data.path().join("comments.db");
    // Long before the minute's write, so only the one at shutdown can do it.
    let written = wait_until(10, || {
        FiguresStore::open(&db).ok().is_some_and(|store| figures(&store, "/dry-needling/") == (2, 0, 0))
    });
    assert!(written, "the counts were not written at shutdown:\n{}", server.log.lock().unwrap());
}

#[tokio::test]
async fn nothing_is_counted_with_no_counting_and_the_privacy_notice_says_so() {
    let app = TestApp::with_config(|data| Config { no_counting: true, ..Config::for_test(data) });
    assert_eq!(read(&app, "/dry-needling/", &[("user-agent", FIREFOX)]).await, StatusCode::OK);
    let same = beacon_headers(&[("sec-fetch-site", "same-origin")]);
    let (status, _) = request(&app, Method::POST, "/share-beacon", &same, "page=/dry-needling/&channel=copy").await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    flush_figures(&app.state).await;
    assert!(app.state.figures.store.per_page(0, today()).unwrap().is_empty());
    let privacy = get(&app, "/privacy/").await.body;
    assert!(privacy.contains("This website does not count visits."), "{privacy}");

    let counting = real_app();
    let privacy = get(&counting, "/privacy/").await.body;
    assert!(privacy.contains("up to one minute of visits may not be counted"), "{privacy}");
    assert!(privacy.contains("we do not keep your internet (IP) address"), "{privacy}");
}

/// Cells of a table on the dashboard, row by row.
fn table(html: &scraper::Html, id: &str) -> Vec<Vec<String>> {
    table_cells(html, &format!("#table-{id}"))
}

#[tokio::test]
async fn the_dashboard_shows_each_role_its_panels_with_csv_of_every_table() {
    let app = real_app();
    for (path, times) in [("/dry-needling/", 3), ("/dry-needling/safety/", 1)] {
        for _ in 0..times {
            let headers = [("user-agent", FIREFOX), ("referer", "https://news.example/a,b?c=1")];
            read(&app, path, &headers).await;
        }
    }
    flush_figures(&app.state).await;
    let pending = clinic_site::comments::NewComment {
        page: "/dry-needling/safety/".into(),
        name: clinic_site::comments::DisplayName::parse("Ali").unwrap(),
        text: clinic_site::comments::CommentText::parse("Does it hurt?").unwrap(),
        flags: Vec::new(),
    };
    app.state.comments.insert(&pending, 1_764_000_000).unwrap();
    // Three answers on the safety page (one "no"), one on the front page,
    // and two problem reports, one of them already dealt with.
    let form = |nonce: &'static str| clinic_site::comments::token::Nonce { nonce, expires_at: 4_000_000_000 };
    let answer = |page: &str, helpful: bool| NewAnswer { page: page.into(), helpful, text: None, flags: Vec::new() };
    let feedback = &app.state.feedback;
    feedback.add_answer(&answer("/dry-needling/safety/", true), form("a1"), 1_764_000_000).unwrap();
    feedback.add_answer(&answer("/dry-needling/safety/", true), form("a2"), 1_764_000_000).unwrap();
    feedback.add_answer(&answer("/dry-needling/safety/", false), form("a3"), 1_764_000_000).unwrap();
    feedback.add_answer(&answer("/dry-needling/", true), form("a4"), 1_764_000_000).unwrap();
    let report = |page: &str, kind| NewReport {
        page: page.into(),
        kind,
        details: FeedbackText::parse("The link to the study is broken.").unwrap(),
        flags: Vec::new(),
    };
    feedback.add_report(&report("/dry-needling/safety/", ProblemKind::BrokenLink), form("r1"), 1_764_000_000).unwrap();
    let done = feedback
        .add_report(&report("/dry-needling/", ProblemKind::WrongInformation), form("r2"), 1_764_000_000)
        .unwrap();
    assert_eq!(done, Sent::Stored);
    let closed = feedback.reports().unwrap().into_iter().find(|r| r.page == "/dry-needling/").unwrap();
    let owner = add_staff(&app, "olive", &[Role::Owner]);
    feedback.set_done(closed.id, true, &clinic_site::auth::Actor::person(&owner), 1_764_000_100).unwrap();

    let (cookie, _) = sign_in_as(&app, "olive").await;
    let page = send_with(&app, Method::GET, "/admin", Some(&cookie), "").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let html = page.html();
    assert_eq!(text_of(&html, "main h1"), "Dashboard");
    let pages = table(&html, "pages");
    let front = pages.iter().find(|row| row[0].ends_with("(/dry-needling/)") || row[0] == "/dry-needling/").unwrap();
    assert_eq!(front[1..], ["3", "3", "0", "0"]);
    let safety = pages.iter().find(|row| row[0].contains("/dry-needling/safety/")).unwrap();
    assert_eq!(safety[1..], ["1", "1", "0", "0"]);
    let days = table(&html, "days");
    assert_eq!(days.len(), 30);
    // Long tables start folded away; short ones are shown.
    assert_eq!(select(&html, "details.figures-table #table-days").len(), 1, "30 rows fold away");
    assert!(select(&html, "details #table-reviews").is_empty(), "7 rows stay open");
    assert_eq!(days.last().unwrap()[1], "4");
    assert_eq!(table(&html, "referrers"), [["news.example", "4", "4"]]);
    assert_eq!(table(&html, "comments").len(), 1);
    let helpful = table(&html, "helpful");
    assert_eq!(helpful.len(), 2, "{helpful:?}");
    assert!(helpful[0][0].contains("(/dry-needling/safety/)"), "most \"no\" answers first: {helpful:?}");
    assert_eq!(helpful[0][1..], ["2", "1", "66%"]);
    assert_eq!(helpful[1][1..], ["1", "0", "100%"]);
    let reports = table(&html, "reports");
    assert_eq!(reports.len(), 1, "only the open report: {reports:?}");
    assert!(reports[0][0].contains("(/dry-needling/safety/)") && reports[0][1] == "A broken link", "{reports:?}");
    assert!(page.body.contains("1 problem report is open."), "{}", page.body);
    // No page of the real content has been signed off.
    let reviews = table(&html, "reviews");
    assert_eq!(reviews.len(), 7, "{reviews:?}");
    assert!(reviews.iter().all(|row| row[1] == "Never reviewed" && row[2] == "Never"), "{reviews:?}");
    // Every chart is one image named by its title and described by the summary.
    let charts = select(&html, "svg.chart");
    assert!(charts.len() >= 4);
    for chart in charts {
        assert_eq!(chart.value().attr("role"), Some("img"));
        let described = chart.value().attr("aria-describedby").unwrap();
        assert!(!text_of(&html, &format!("#{described}")).is_empty(), "{described}");
        let named = chart.value().attr("aria-labelledby").unwrap();
        assert!(!select(&html, &format!("#{named}")).is_empty(), "{named}");
    }
    assert!(page.body.contains("Pages were read 4 times in the last 30 days."), "{}", page.body);

    for id in ["days", "pages", "referrers", "shares", "helpful", "reports", "comments", "reviews"] {
        assert_eq!(select(&html, &format!("a[href='/admin?format=csv&table={id}']")).len(), 1, "{id}");
        let csv = send_with(&app, Method::GET, &format!("/admin?format=csv&table={id}"), Some(&cookie), "").await;
        assert_eq!(csv.status, StatusCode::OK);
        assert!(csv.header("content-type").starts_with("text/csv"));
        let rows = parse_csv(&csv.body);
        assert!(rows.iter().all(|row| row.len() == rows[0].len()), "{id}: {rows:?}");
        assert_eq!(rows[1..], table(&html, id)[..], "{id}: the CSV has the page's numbers");
    }
    let missing = send_with(&app, Method::GET, "/admin?format=csv&table=nope", Some(&cookie), "").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    // The figures' old address still leads here, CSV addresses included.
    let moved = send_with(&app, Method::GET, "/admin/figures?format=csv&table=pages", Some(&cookie), "").await;
    assert_eq!(
        (moved.status, moved.header("location")),
        (StatusCode::PERMANENT_REDIRECT, "/admin?format=csv&table=pages")
    );

    // A moderator sees what readers said and the comments, not the
    // reading figures or the review queue, and cannot download them.
    add_staff(&app, "mo", &[Role::Moderator]);
    let (moderator, _) = sign_in_as(&app, "mo").await;
    let theirs = send_with(&app, Method::GET, "/admin", Some(&moderator), "").await;
    assert_eq!(theirs.status, StatusCode::OK);
    let theirs = theirs.html();
    assert!(select(&theirs, "#table-pages").is_empty() && select(&theirs, "#table-reviews").is_empty());
    assert_eq!(table(&theirs, "helpful"), helpful);
    let csv = send_with(&app, Method::GET, "/admin?format=csv&table=pages", Some(&moderator), "").await;
    assert_eq!(csv.status, StatusCode::NOT_FOUND);
    // A reviewer sees the queue, with the way to it.
    add_staff(&app, "rev", &[Role::Reviewer]);
    let (reviewer, _) = sign_in_as(&app, "rev").await;
    let theirs = send_with(&app, Method::GET, "/admin", Some(&reviewer), "").await.html();
    assert_eq!(table(&theirs, "reviews"), reviews);
    assert!(select(&theirs, "#table-helpful").is_empty() && select(&theirs, "#table-days").is_empty());
    assert_eq!(select(&theirs, "section.figures a[href='/admin/reviews']").len(), 1);
}
