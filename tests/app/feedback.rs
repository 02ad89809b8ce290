//! Readers' feedback: "Was this page helpful?" without JavaScript, the
//! optional text with the personal-details warning, forged and replayed
//! forms, size and rate limits, nothing identifying kept, problem reports
//! for staff, and the static export's stand-in pages.

use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use clinic_site::auth::Role;
use clinic_site::config::Config;
use tower::ServiceExt;

use crate::admin::{add_staff, send_with};
use crate::helpers::*;
use crate::staff::session_for;

const PAGE: &str = "/dry-needling/migraines/";
const FORM: &str = "/dry-needling/migraines/feedback/";
const REPORT: &str = "/dry-needling/migraines/report/";
const CLIENT: &str = "203.0.113.77";
const BROWSER: &str = "FeedbackTestBrowser/9.9 (marker-5b1f)";

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

/// A token for `form` as if it had been served `age` seconds ago.
fn token(app: &TestApp, form: &str, age: i64) -> String {
    app.state.secret.sign(form, now() - age).unwrap()
}

fn encode(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", clinic_site::util::html::percent_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Posts a form the way a browser on this site would, from [`CLIENT`].
async fn post(app: &TestApp, path: &str, pairs: &[(&str, &str)]) -> TestResponse {
    post_body(app, path, encode(pairs)).await
}

async fn post_body(app: &TestApp, path: &str, body: String) -> TestResponse {
    let request = Request::builder()
        .method(Method::POST)
        .uri(path)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("sec-fetch-site", "same-origin")
        .header("x-forwarded-for", CLIENT)
        .header("user-agent", BROWSER)
        .body(Body::from(body))
        .unwrap();
    let response = app.router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = http_body_util::BodyExt::collect(response.into_body()).await.unwrap().to_bytes();
    TestResponse { status, headers, body: String::from_utf8(bytes.to_vec()).unwrap() }
}

fn app() -> TestApp {
    TestApp::with_config(|data| Config { trust_proxy: true, ..Config::for_test(data) })
}

fn token_in(html: &scraper::Html) -> String {
    select(html, "input[name='token']")[0].value().attr("value").unwrap().to_string()
}

/// (yes, no) answers stored for [`PAGE`].
fn counts(app: &TestApp) -> (usize, usize) {
    let pages = app.state.feedback.by_page().unwrap();
    pages.iter().find(|p| p.page == PAGE).map_or((0, 0), |p| (p.helpful, p.not_helpful))
}

#[tokio::test]
async fn yes_without_javascript_opens_the_readers_own_form_and_stores_one_answer_with_thanks() {
    let app = app();
    let article = get(&app, PAGE).await.html();
    let ask = select(&article, "section#feedback form");
    assert_eq!(ask.len(), 1);
    assert_eq!(ask[0].value().attr("method"), Some("get"), "the cached page carries no token, so it asks with GET");
    assert_eq!(ask[0].value().attr("action"), Some(FORM));
    assert_eq!(text_of(&article, "section#feedback legend"), "Was this page helpful?");
    let buttons: Vec<(&str, &str)> = select(&article, "section#feedback button")
        .iter()
        .map(|b| (b.value().attr("name").unwrap(), b.value().attr("value").unwrap()))
        .collect();
    assert_eq!(buttons, [("helpful", "yes"), ("helpful", "no")]);
    assert_eq!(
        select(&article, "section#feedback a")[0].value().attr("href"),
        Some(REPORT),
        "the report link is on the page"
    );

    // Pressing Yes asks for the reader's own form: it stores nothing.
    let own = get(&app, &format!("{FORM}?helpful=yes")).await;
    assert_eq!(own.status, StatusCode::OK);
    assert_eq!(own.header("cache-control"), "no-store");
    let html = own.html();
    assert_eq!(select(&html, "#feedback-helpful[checked]").len(), 1, "Yes is already chosen");
    assert_eq!(select(&html, "label[for='feedback-text']").len(), 1);
    assert_eq!(counts(&app), (0, 0), "a GET changes nothing");

    // Sent at once (one click): stored, thanks shown.
    let sent = post(&app, FORM, &[("helpful", "yes"), ("text", ""), ("token", &token_in(&html))]).await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
    assert_eq!(text_of(&sent.html(), "main h1"), "Thank you for your feedback");
    assert_eq!(counts(&app), (1, 0));

    // No choice at all is a message, not a stored answer.
    let fresh = get(&app, FORM).await.html();
    let empty = post(&app, FORM, &[("token", &token_in(&fresh))]).await;
    assert_eq!(empty.status, StatusCode::BAD_REQUEST);
    assert!(text_of(&empty.html(), ".error-summary").contains("Choose Yes or No"));
    assert_eq!(counts(&app), (1, 0));
}

#[tokio::test]
async fn text_with_personal_details_gets_the_warning_and_is_kept_flagged_only_when_confirmed() {
    let app = app();
    let t = token(&app, FORM, 10);
    let text = "It did not say what to do if the headache comes back. Call me on 07700 900123";
    let warned = post(&app, FORM, &[("helpful", "no"), ("text", text), ("token", &t)]).await;
    assert_eq!(warned.status, StatusCode::OK);
    let html = warned.html();
    assert!(text_of(&html, "#personal-details").contains("a phone number"), "{}", text_of(&html, "main"));
    assert_eq!(select(&html, "textarea")[0].text().collect::<String>(), text, "the text is kept");
    assert_eq!(counts(&app), (0, 0), "nothing stored until the reader decides");

    let sent = post(&app, FORM, &[("helpful", "no"), ("text", text), ("token", &t), ("confirm_personal", "yes")]).await;
    assert_eq!(sent.status, StatusCode::OK);
    assert_eq!(counts(&app), (0, 1));
    let notes = &app.state.feedback.by_page().unwrap()[0].texts;
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0].text, text);
    assert_eq!(notes[0].flags, [clinic_site::comments::PersonalDetail::Phone]);
    assert_eq!(notes[0].day.len(), "2026-12-02".len(), "the day only, not the time");
}

#[tokio::test]
async fn forged_borrowed_and_replayed_tokens_store_nothing_more() {
    let app = app();
    let forged = clinic_site::comments::token::Secret::load_or_create(&app.data.path().join("other.key"))
        .unwrap()
        .sign(FORM, now() - 10)
        .unwrap();
    let comment_token = token(&app, PAGE, 10);
    let report_token = token(&app, REPORT, 10);
    for bad in ["", "1.2.3", forged.as_str(), comment_token.as_str(), report_token.as_str()] {
        let refused = post(&app, FORM, &[("helpful", "yes"), ("token", bad)]).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{bad}");
        let html = refused.html();
        assert!(text_of(&html, ".error-summary").contains("nothing has been sent yet"), "{bad}");
        assert!(app.state.secret.verify_any_speed(&token_in(&html), FORM, now()).is_ok(), "a fresh token to send with");
    }
    assert_eq!(counts(&app), (0, 0));

    let t = token(&app, FORM, 10);
    assert_eq!(post(&app, FORM, &[("helpful", "yes"), ("token", &t)]).await.status, StatusCode::OK);
    let replayed = post(&app, FORM, &[("helpful", "no"), ("token", &t)]).await;
    assert_eq!(replayed.status, StatusCode::OK);
    assert!(text_of(&replayed.html(), "main").contains("already sent"));
    assert_eq!(counts(&app), (1, 0), "one form, one answer");

    // The same for reports, sent with one form many times.
    let r = token(&app, REPORT, 10);
    for _ in 0..3 {
        let sent =
            post(&app, REPORT, &[("kind", "broken-link"), ("text", "The NICE link is dead"), ("token", &r)]).await;
        assert_eq!(sent.status, StatusCode::OK);
    }
    assert_eq!(app.state.feedback.reports().unwrap().len(), 1);
    // A report sent sooner than anyone could type is dropped quietly.
    let instant = token(&app, REPORT, 0);
    let bot = post(&app, REPORT, &[("kind", "broken-link"), ("text", "spam"), ("token", &instant)]).await;
    assert_eq!(bot.status, StatusCode::OK);
    assert_eq!(app.state.feedback.reports().unwrap().len(), 1);
}

#[tokio::test]
async fn oversized_text_is_refused_unread_and_long_text_is_explained() {
    let app = app();
    let t = token(&app, FORM, 10);
    let huge = format!("helpful=no&token={t}&text={}", "a".repeat(20_000));
    assert_eq!(post_body(&app, FORM, huge).await.status, StatusCode::PAYLOAD_TOO_LARGE);
    let r = token(&app, REPORT, 10);
    let huge = format!("kind=wrong-information&token={r}&text={}", "%F0%9F%98%80".repeat(1_200));
    assert_eq!(post_body(&app, REPORT, huge).await.status, StatusCode::PAYLOAD_TOO_LARGE);

    // 1,000 characters of any script fit; one more is a message.
    let fits = "😀".repeat(1_000);
    assert_eq!(post(&app, FORM, &[("helpful", "no"), ("text", &fits), ("token", &t)]).await.status, StatusCode::OK);
    let t = token(&app, FORM, 10);
    let long = post(&app, FORM, &[("helpful", "no"), ("text", &"a".repeat(1_001)), ("token", &t)]).await;
    assert_eq!(long.status, StatusCode::BAD_REQUEST);
    assert!(text_of(&long.html(), ".error-summary").contains("1,000 characters or fewer"));
    assert_eq!(counts(&app), (0, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn simultaneous_answers_from_one_reader_store_no_more_than_the_limit() {
    let app = std::sync::Arc::new(app());
    let limit = clinic_site::http::FEEDBACK_PER_CLIENT;
    let count = limit + 10;
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(count));
    let tasks: Vec<_> = (0..count)
        .map(|_| {
            let (app, barrier) = (app.clone(), barrier.clone());
            let t = token(&app, FORM, 10);
            tokio::spawn(async move {
                barrier.wait().await;
                post(&app, FORM, &[("helpful", "yes"), ("token", &t)]).await.status
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap());
    }
    let ok = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    let waiting = statuses.iter().filter(|s| **s == StatusCode::TOO_MANY_REQUESTS).count();
    assert_eq!((ok, waiting), (limit, 10), "{statuses:?}");
    assert_eq!(counts(&app), (limit, 0));

    // Another reader is not affected.
    let t = token(&app, FORM, 10);
    let request = Request::builder()
        .method(Method::POST)
        .uri(FORM)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("sec-fetch-site", "same-origin")
        .header("x-forwarded-for", "198.51.100.3")
        .body(Body::from(encode(&[("helpful", "no"), ("token", &t)])))
        .unwrap();
    assert_eq!(app.router.clone().oneshot(request).await.unwrap().status(), StatusCode::OK);
}

#[tokio::test]
async fn nothing_identifying_is_in_the_database_file() {
    let app = app();
    let t = token(&app, FORM, 10);
    let answer = "The page did not say how long the soreness lasts";
    assert_eq!(post(&app, FORM, &[("helpful", "no"), ("text", answer), ("token", &t)]).await.status, StatusCode::OK);
    let r = token(&app, REPORT, 10);
    let report = "The second link in the sources goes to an error page";
    let sent = post(&app, REPORT, &[("kind", "broken-link"), ("text", report), ("token", &r)]).await;
    assert_eq!(sent.status, StatusCode::OK);
    assert_eq!(app.state.feedback.reports().unwrap().len(), 1);

    let db = app.state.config.data.comments_db();
    let mut bytes = std::fs::read(&db).unwrap();
    // WAL mode: recent writes are in the -wal file until a checkpoint.
    let wal = db.with_file_name(format!("{}-wal", db.file_name().unwrap().to_string_lossy()));
    bytes.extend(std::fs::read(&wal).unwrap_or_default());
    let contains = |needle: &str| bytes.windows(needle.len()).any(|w| w == needle.as_bytes());
    assert!(contains(answer) && contains(report), "the search looks where the feedback is");
    for identifying in [CLIENT, BROWSER, "FeedbackTestBrowser", "203.0.113"] {
        assert!(!contains(identifying), "{identifying} is in the database");
    }
}

#[tokio::test]
async fn problem_reports_are_listed_for_staff_and_marked_done_with_who_closed_them() {
    let app = app();
    let form = get(&app, REPORT).await;
    assert_eq!(form.status, StatusCode::OK);
    assert_eq!(form.header("cache-control"), "no-store");
    let html = form.html();
    assert_eq!(select(&html, "input[name='kind']").len(), 3);
    let missing = post(&app, REPORT, &[("token", &token(&app, REPORT, 10))]).await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    let summary = text_of(&missing.html(), ".error-summary");
    assert!(summary.contains("Choose what kind of problem it is") && summary.contains("Tell us what the problem is"));

    let r = token(&app, REPORT, 10);
    let sent =
        post(&app, REPORT, &[("kind", "wrong-information"), ("text", "The dose in step 2 is wrong"), ("token", &r)])
            .await;
    assert_eq!(text_of(&sent.html(), "main h1"), "Thank you for telling us");

    let anonymous = get(&app, "/admin/feedback").await;
    assert_eq!((anonymous.status, anonymous.header("location")), (StatusCode::SEE_OTHER, "/admin/login"));
    let reviewer = add_staff(&app, "rev", &[Role::Reviewer]);
    let (cookie, _) = session_for(&app, &reviewer);
    assert_eq!(send_with(&app, Method::GET, "/admin/feedback", Some(&cookie), "").await.status, StatusCode::FORBIDDEN);

    let moderator = add_staff(&app, "mod", &[Role::Moderator]);
    let (cookie, csrf) = session_for(&app, &moderator);
    let listed = send_with(&app, Method::GET, "/admin/feedback", Some(&cookie), "").await;
    assert_eq!(listed.status, StatusCode::OK);
    let html = listed.html();
    let item = text_of(&html, ".feedback-report-item");
    assert!(
        item.contains("Wrong information") && item.contains("The dose in step 2 is wrong") && item.contains("Open")
    );
    let action = select(&html, ".feedback-report-item form")[0].value().attr("action").unwrap().to_string();

    let done = send_with(&app, Method::POST, &action, Some(&cookie), &format!("csrf={csrf}")).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    let report = &app.state.feedback.reports().unwrap()[0];
    assert_eq!(report.closed.as_ref().map(|(by, _)| by.as_str()), Some("Mod Smith (mod)"));

    let owner = add_staff(&app, "own", &[Role::Owner]);
    let (cookie, _) = session_for(&app, &owner);
    let html = send_with(&app, Method::GET, "/admin/feedback", Some(&cookie), "").await.html();
    assert!(text_of(&html, ".feedback-done").contains("Marked as done by Mod Smith (mod)"));
    assert!(text_of(&html, "main").contains("No open problem reports."));
    let record = app
        .state
        .staff
        .activity(
            &clinic_site::auth::activity::Filter {
                subject: Some(format!("problem report {}", report.id)),
                ..Default::default()
            },
            5,
        )
        .unwrap();
    assert_eq!(record.len(), 1);
    assert_eq!((record[0].kind.as_str(), record[0].actor.as_str()), ("problem-report-done", "Mod Smith (mod)"));
}

#[tokio::test]
async fn staff_see_answers_per_page_with_the_newest_text_first() {
    let app = app();
    for (helpful, text) in [("yes", ""), ("no", "first note"), ("no", "second note")] {
        let t = token(&app, FORM, 10);
        assert_eq!(
            post(&app, FORM, &[("helpful", helpful), ("text", text), ("token", &t)]).await.status,
            StatusCode::OK
        );
    }
    let editor = add_staff(&app, "ed", &[Role::Editor]);
    let (cookie, _) = session_for(&app, &editor);
    let html = send_with(&app, Method::GET, "/admin/feedback", Some(&cookie), "").await.html();
    let cells: Vec<String> = select(&html, ".admin-table tbody td").iter().map(|c| c.text().collect()).collect();
    assert_eq!(cells, ["How Can Dry Needling Help Migraines?", "1", "2"]);
    let notes: Vec<String> =
        select(&html, ".feedback-notes .comment-body").iter().map(|n| n.text().collect()).collect();
    assert_eq!(notes, ["second note", "first note"]);
}

#[test]
fn the_static_export_has_contact_pages_where_the_feedback_forms_are() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("public");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_clinic-site"))
        .args(["build", "--allow-placeholders", "--content", "content", "--out", out.to_str().unwrap()])
        .args(["--data", dir.path().join("no-data").to_str().unwrap()])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    for (form, heading) in [
        ("dry-needling/migraines/feedback", "Was this page helpful?"),
        ("dry-needling/report", "Report a problem with this page"),
    ] {
        let page = std::fs::read_to_string(out.join(form).join("index.html")).unwrap();
        let html = scraper::Html::parse_document(&page);
        assert_eq!(text_of(&html, "main h1"), heading, "{form}");
        assert!(text_of(&html, "main").contains("Feedback cannot be sent from this copy of the website"), "{form}");
        assert!(select(&html, "main a[href^='tel:']").len() == 1, "{form}: the clinic's phone number");
    }
    // The article page's buttons ask for that page with GET, which a static
    // host answers; its report link leads to the other.
    let article =
        scraper::Html::parse_document(&std::fs::read_to_string(out.join("dry-needling/migraines/index.html")).unwrap());
    let ask = select(&article, "section#feedback form")[0].value();
    assert_eq!((ask.attr("method"), ask.attr("action")), (Some("get"), Some(FORM)));
}
