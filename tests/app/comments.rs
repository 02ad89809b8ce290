//! Reader comments: posting, validation, spam and abuse defences,
//! moderation, and that nothing accepted is ever lost.

use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use clinic_site::comments::Status;
use clinic_site::config::Config;
use tower::ServiceExt;

use crate::helpers::*;

const PAGE: &str = "/dry-needling/migraines/";
const FORM: &str = "/dry-needling/migraines/comment/";

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

/// A token as if the form had been served `age` seconds ago.
fn token(app: &TestApp, page: &str, age: i64) -> String {
    app.state.secret.sign(page, now() - age).unwrap()
}

fn encode(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", clinic_site::util::html::percent_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Posts a form the way a browser on this site would.
async fn post(app: &TestApp, path: &str, pairs: &[(&str, &str)], extra: &[(&str, &str)]) -> TestResponse {
    let mut request = Request::builder()
        .method(Method::POST)
        .uri(path)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("sec-fetch-site", "same-origin");
    for (k, v) in extra {
        request = request.header(*k, *v);
    }
    let response = app.router.clone().oneshot(request.body(Body::from(encode(pairs))).unwrap()).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = http_body_util::BodyExt::collect(response.into_body()).await.unwrap().to_bytes();
    TestResponse { status, headers, body: String::from_utf8(bytes.to_vec()).unwrap() }
}

async fn post_comment(app: &TestApp, text: &str, name: &str) -> TestResponse {
    let token = token(app, PAGE, 10);
    post(app, FORM, &[("name", name), ("comment", text), ("consent", "yes"), ("token", &token)], &[]).await
}

fn stored(app: &TestApp) -> Vec<clinic_site::comments::Comment> {
    app.state.comments.all().unwrap()
}

/// Approves every pending comment and republishes, as staff would.
async fn approve_all(app: &TestApp) {
    for comment in stored(app) {
        app.state.comments.set_status(comment.id, Status::Approved).unwrap();
    }
    clinic_site::http::publish_comments(&app.state).await;
}

#[tokio::test]
async fn section_pages_link_to_a_per_visitor_form_that_is_never_cached() {
    let app = real_app();
    let html = get(&app, PAGE).await.html();
    assert_eq!(text_of(&html, "#comments-heading"), "Comments");
    assert!(text_of(&html, "#comments").contains("No comments yet."));
    assert_eq!(select(&html, "#comments a[href='/dry-needling/migraines/comment/']").len(), 1);
    assert_eq!(
        get(&app, PAGE).await.header("cache-control"),
        "public, max-age=300, stale-while-revalidate=86400",
        "the article page stays cacheable"
    );

    let form = get(&app, FORM).await;
    assert_eq!(form.status, StatusCode::OK);
    assert_eq!(form.header("cache-control"), "no-store");
    let html = form.html();
    assert_eq!(select(&html, "form[method='post'][action='/dry-needling/migraines/comment/']").len(), 1);
    assert_eq!(select(&html, "input[name='token']").len(), 1);
    assert_eq!(select(&html, ".honeypot input[name='website']").len(), 1);
    assert_eq!(
        text_of(&html, "label[for='comment-consent']"),
        "I understand my comment will be public and I will not include personal medical details"
    );
    assert_ne!(get(&app, FORM).await.body, "", "served fresh each time");
    // The front page of the article takes no comments unless it says so.
    assert_eq!(get(&app, "/dry-needling/comment/").await.status, StatusCode::NOT_FOUND);
    assert!(select(&get(&app, "/dry-needling/").await.html(), "#comments").is_empty());
}

#[tokio::test]
async fn a_posted_comment_waits_for_approval_then_appears_with_the_reply() {
    let app = real_app();
    let response = post_comment(&app, "It helped my headaches.\nThree sessions in.", "Sam").await;
    assert_eq!(response.status, StatusCode::SEE_OTHER);
    assert_eq!(response.header("location"), "/dry-needling/migraines/#comment-received");
    let page = get(&app, PAGE).await.html();
    assert_eq!(
        text_of(&page, "#comment-received"),
        "Thank you, your comment will appear after the clinic has reviewed it."
    );
    assert!(!text_of(&page, "#comments").contains("It helped"), "nothing shows before approval");
    let comments = stored(&app);
    assert_eq!(comments.len(), 1);
    assert_eq!(
        (comments[0].status, comments[0].name.as_str(), comments[0].body.as_str()),
        (Status::Pending, "Sam", "It helped my headaches.\nThree sessions in.")
    );

    app.state.comments.set_reply(comments[0].id, "Glad to hear it!").unwrap();
    approve_all(&app).await;
    let html = get(&app, PAGE).await.html();
    assert_eq!(text_of(&html, "#comments-heading"), "Comments (1)");
    assert_eq!(text_of(&html, ".comment .comment-meta strong"), "Sam");
    let body = select(&html, ".comment > .comment-body")[0].text().collect::<String>();
    assert_eq!(body, "It helped my headaches.\nThree sessions in.", "line breaks kept as text");
    assert_eq!(text_of(&html, ".comment-reply .comment-meta"), "Reply from Riverside Physical Therapy");
    assert_eq!(text_of(&html, ".comment-reply .comment-body"), "Glad to hear it!");
    assert!(
        select(&get(&app, "/dry-needling/chronic-pain/").await.html(), ".comment").is_empty(),
        "only on its own page"
    );
}

#[tokio::test]
async fn an_anonymous_comment_shows_as_anonymous() {
    let app = real_app();
    post_comment(&app, "No name given.", "   ").await;
    approve_all(&app).await;
    assert_eq!(text_of(&get(&app, PAGE).await.html(), ".comment .comment-meta strong"), "Anonymous");
}

#[tokio::test]
async fn bad_input_is_explained_and_the_text_is_kept() {
    let app = real_app();
    let t = token(&app, PAGE, 10);
    let cases: [(&[(&str, &str)], &str); 4] = [
        (&[("name", "Kim"), ("comment", "   "), ("consent", "yes")], "Enter your comment"),
        (
            &[("name", "Kim"), ("comment", &"x".repeat(2001)), ("consent", "yes")],
            "Your comment must be 2,000 characters or fewer. It is 2,001 characters now.",
        ),
        (
            &[("name", "Kim"), ("comment", "Kept text <b>here</b>")],
            "Tick the box to confirm you understand your comment will be public",
        ),
        (
            &[("name", &"n".repeat(61)), ("comment", "Kept text"), ("consent", "yes")],
            "Your name must be 60 characters or fewer. It is 61 characters now.",
        ),
    ];
    for (fields, message) in cases {
        let mut pairs = fields.to_vec();
        pairs.push(("token", &t));
        let response = post(&app, FORM, &pairs, &[]).await;
        assert_eq!(response.status, StatusCode::BAD_REQUEST, "{message}");
        assert_eq!(response.header("cache-control"), "no-store");
        let html = response.html();
        assert!(text_of(&html, ".error-summary").contains(message), "{message}: {}", text_of(&html, ".error-summary"));
        assert!(text_of(&html, ".error-message").contains(message));
        let kept = select(&html, "textarea[name='comment']")[0].text().collect::<String>();
        let sent = fields.iter().find(|(k, _)| *k == "comment").unwrap().1;
        assert_eq!(kept, sent, "the reader's text is kept");
    }
    assert!(stored(&app).is_empty());
}

#[tokio::test]
async fn unknown_pages_and_oversized_posts_are_refused() {
    let app = real_app();
    let t = token(&app, "/dry-needling/nope/", 10);
    let response =
        post(&app, "/dry-needling/nope/comment/", &[("comment", "hi"), ("consent", "yes"), ("token", &t)], &[]).await;
    assert_eq!(response.status, StatusCode::NOT_FOUND);
    let big = "x".repeat(26 * 1024);
    let response = post(&app, FORM, &[("comment", &big), ("consent", "yes")], &[]).await;
    assert_eq!(response.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(response.body.contains("That was too much to send"));
    assert!(stored(&app).is_empty());
}

#[tokio::test]
async fn a_person_sending_an_empty_form_at_once_is_told_what_to_fix() {
    let app = real_app();
    let fresh = token(&app, PAGE, 0);
    let response = post(&app, FORM, &[("comment", ""), ("token", &fresh)], &[]).await;
    assert_eq!(response.status, StatusCode::BAD_REQUEST);
    assert!(text_of(&response.html(), ".error-summary").contains("Enter your comment"));
}

#[tokio::test]
async fn bots_filling_the_hidden_field_or_posting_instantly_are_dropped_quietly() {
    let app = real_app();
    let t = token(&app, PAGE, 10);
    let response = post(
        &app,
        FORM,
        &[("comment", "Buy pills"), ("consent", "yes"), ("website", "http://spam.example"), ("token", &t)],
        &[],
    )
    .await;
    assert_eq!(response.status, StatusCode::SEE_OTHER, "the bot learns nothing");
    let fresh = token(&app, PAGE, 0);
    let response = post(&app, FORM, &[("comment", "Too quick"), ("consent", "yes"), ("token", &fresh)], &[]).await;
    assert_eq!(response.status, StatusCode::SEE_OTHER);
    assert!(stored(&app).is_empty());
}

#[tokio::test]
async fn missing_forged_other_page_and_expired_tokens_are_refused_with_a_message() {
    let app = real_app();
    let other = token(&app, "/dry-needling/safety/", 10);
    let expired = token(&app, PAGE, 13 * 60 * 60);
    for (token, message) in [
        ("", "This form could not be checked"),
        ("123.abcd", "This form could not be checked"),
        (other.as_str(), "This form could not be checked"),
        (expired.as_str(), "This form was open for a long time, so it has expired"),
    ] {
        let response = post(&app, FORM, &[("comment", "My text"), ("consent", "yes"), ("token", token)], &[]).await;
        assert_eq!(response.status, StatusCode::BAD_REQUEST, "{token}");
        let html = response.html();
        assert!(text_of(&html, ".error-summary").contains(message), "{token}");
        assert_eq!(select(&html, "textarea")[0].text().collect::<String>(), "My text");
        let fresh = select(&html, "input[name='token']")[0].value().attr("value").unwrap().to_string();
        assert!(app.state.secret.verify(&fresh, PAGE, now() + 5).is_ok(), "a fresh token to send it again with");
    }
    assert!(stored(&app).is_empty());
}

#[tokio::test]
async fn posts_from_other_websites_are_refused() {
    let app = real_app();
    let t = token(&app, PAGE, 10);
    let fields = [("comment", "cross"), ("consent", "yes"), ("token", t.as_str())];
    let request = |headers: Vec<(&'static str, &'static str)>| {
        let mut builder = Request::builder()
            .method(Method::POST)
            .uri(FORM)
            .header("content-type", "application/x-www-form-urlencoded");
        for (k, v) in headers {
            builder = builder.header(k, v);
        }
        builder.body(Body::from(encode(&fields))).unwrap()
    };
    for headers in [
        vec![("sec-fetch-site", "cross-site")],
        vec![("origin", "https://evil.example"), ("host", "riverside-pt.example")],
        vec![("origin", "null")],
    ] {
        let response = app.router.clone().oneshot(request(headers.clone())).await.unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{headers:?}");
    }
    let response = app.router.clone().oneshot(request(vec![("origin", "https://riverside-pt.example")])).await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(stored(&app).len(), 1);
}

/// A comment as a reader would send it, from a form opened 10 s before.
async fn post_from(app: &TestApp, text: &str, forwarded_for: &str) -> TestResponse {
    let t = token(app, PAGE, 10);
    post(app, FORM, &[("comment", text), ("consent", "yes"), ("token", &t)], &[("x-forwarded-for", forwarded_for)])
        .await
}

#[tokio::test]
async fn each_reader_may_post_a_few_comments_then_is_asked_to_wait() {
    let app = TestApp::with_config(|data| Config { trust_proxy: true, comment_limit: 2, ..Config::for_test(data) });
    for n in 0..2 {
        assert_eq!(post_from(&app, &format!("hello {n}"), "203.0.113.9").await.status, StatusCode::SEE_OTHER);
    }
    let refused = post_from(&app, "one too many", "203.0.113.9").await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(refused.header("retry-after").parse::<u64>().unwrap() > 0);
    let html = refused.html();
    assert!(
        text_of(&html, ".error-summary")
            .contains("You have sent several comments in a short time. Please wait about 10 minutes"),
        "{}",
        text_of(&html, ".error-summary")
    );
    assert_eq!(select(&html, "textarea")[0].text().collect::<String>(), "one too many", "the reader's text is kept");
    // Another reader behind the same proxy is not affected.
    assert_eq!(post_from(&app, "hello", "198.51.100.7, 203.0.113.10").await.status, StatusCode::SEE_OTHER);
    assert_eq!(stored(&app).len(), 3);
}

#[tokio::test]
async fn forwarded_addresses_are_ignored_unless_trusted() {
    let app = TestApp::with_config(|data| Config { comment_limit: 1, ..Config::for_test(data) });
    assert_eq!(post_from(&app, "hello", "203.0.113.1").await.status, StatusCode::SEE_OTHER);
    let spoofed = post_from(&app, "hello again", "203.0.113.2").await;
    assert_eq!(spoofed.status, StatusCode::TOO_MANY_REQUESTS, "a made-up header does not buy more posts");
}

#[tokio::test]
async fn personal_details_get_a_warning_and_a_confirmed_post_is_flagged() {
    let app = real_app();
    let t = token(&app, PAGE, 10);
    let text = "Call me on 555 010 0199 to talk about it";
    let warned = post(&app, FORM, &[("comment", text), ("consent", "yes"), ("token", &t)], &[]).await;
    assert_eq!(warned.status, StatusCode::OK);
    let html = warned.html();
    assert!(text_of(&html, "[role='alert']").contains("may include a phone number"), "{}", text_of(&html, "main"));
    assert_eq!(select(&html, "textarea")[0].text().collect::<String>(), text);
    assert_eq!(select(&html, "button[name='confirm_personal']").len(), 1);
    assert!(stored(&app).is_empty(), "not stored until confirmed");
    let kept = select(&html, "input[name='token']")[0].value().attr("value").unwrap().to_string();
    assert_eq!(kept, t, "the form keeps its original token, so confirming at once is not taken for a bot");

    let confirmed =
        post(&app, FORM, &[("comment", text), ("consent", "yes"), ("token", &kept), ("confirm_personal", "yes")], &[])
            .await;
    assert_eq!(confirmed.status, StatusCode::SEE_OTHER);
    let comments = stored(&app);
    assert!(comments[0].flagged, "flagged for staff");
}

#[tokio::test]
async fn comment_text_is_always_shown_as_text() {
    let app = TestApp::with_config(|data| Config { comment_limit: 100, ..Config::for_test(data) });
    let payloads = [
        "<script>alert('x')</script>",
        "<img src=x onerror=alert(1)>",
        "[click](javascript:alert(1)) javascript:alert(1)",
        "</textarea><script>alert(2)</script>",
        "\"><svg onload=alert(3)>",
        "&lt;b&gt;entity&lt;/b&gt; &amp;",
        "\u{202e}gnp.exe \u{200b}zero width",
        "**not bold** _not italic_ <https://example.org>",
        "Robert'); DROP TABLE comments;--",
    ];
    for payload in payloads {
        assert_eq!(post_comment(&app, payload, "<b>Name</b>").await.status, StatusCode::SEE_OTHER, "{payload}");
    }
    approve_all(&app).await;
    let page = get(&app, PAGE).await;
    let html = page.html();
    let bodies: Vec<String> = select(&html, ".comment > .comment-body").iter().map(|b| b.text().collect()).collect();
    // Exactly as typed, but for the bidi override, which is removed.
    assert_eq!(
        bodies,
        payloads.iter().map(|p| p.trim().replace('\u{202e}', "")).collect::<Vec<_>>(),
        "every payload reads back as typed"
    );
    assert!(select(&html, "#comments script, #comments img, #comments svg, #comments [onerror], #comments [onload], #comments strong b").is_empty());
    assert!(select(&html, "#comments .comment-list a").is_empty(), "no links from comment text");
    assert_eq!(text_of(&html, ".comment .comment-meta strong"), "<b>Name</b>");
    assert_eq!(stored(&app).len(), payloads.len(), "the SQL text did no harm");
}

#[tokio::test]
async fn concurrent_posts_are_all_kept_exactly_once() {
    let app = TestApp::with_config(|data| Config { comment_limit: 1000, ..Config::for_test(data) });
    let app = std::sync::Arc::new(app);
    let mut tasks = Vec::new();
    for task in 0..8 {
        let app = app.clone();
        tasks.push(tokio::spawn(async move {
            for n in 0..50 {
                let response = post_comment(&app, &format!("task {task} comment {n}"), "").await;
                assert_eq!(response.status, StatusCode::SEE_OTHER);
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let mut bodies: Vec<String> = stored(&app).into_iter().map(|c| c.body).collect();
    bodies.sort();
    let mut expected: Vec<String> =
        (0..8).flat_map(|t| (0..50).map(move |n| format!("task {t} comment {n}"))).collect();
    expected.sort();
    assert_eq!(bodies, expected);
}

#[test]
fn accepted_comments_survive_the_server_being_killed() {
    let server = Server::start(&["serve", "--comment-limit", "1000"]);
    let secret = clinic_site::comments::token::Secret::load_or_create(&server.data.path().join("secret.key")).unwrap();
    for n in 0..25 {
        let token = secret.sign(PAGE, now() - 10).unwrap();
        let body = encode(&[("comment", &format!("survivor {n}")), ("consent", "yes"), ("token", &token)]);
        let status = raw_post(server.addr, FORM, &body);
        assert_eq!(status, 303, "comment {n}");
    }
    // SIGKILL: no shutdown, no flushing, as in a crash.
    let data = server.kill();
    let restarted = Server::start_with_data(&["serve"], data);
    let store = clinic_site::comments::store::Store::open(&restarted.data.path().join("comments.db")).unwrap();
    let mut bodies: Vec<String> = store.all().unwrap().into_iter().map(|c| c.body).collect();
    bodies.sort();
    let mut expected: Vec<String> = (0..25).map(|n| format!("survivor {n}")).collect();
    expected.sort();
    assert_eq!(bodies, expected);
    assert!(store.all().unwrap().iter().all(|c| c.status == Status::Pending));
    assert_eq!(restarted.get("/healthz").0, 200);
}

/// A form POST over a real socket; the status code.
fn raw_post(addr: std::net::SocketAddr, path: &str, body: &str) -> u16 {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nSec-Fetch-Site: same-origin\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response.split_whitespace().nth(1).unwrap().parse().unwrap()
}

// ---------------------------------------------------------------------------
// Health details, the unwell note and the privacy link

/// The form's token field.
fn token_in(html: &scraper::Html) -> String {
    select(html, "input[name='token']")[0].value().attr("value").unwrap().to_string()
}

#[tokio::test]
async fn the_form_tells_readers_who_feel_unwell_to_call_and_links_the_privacy_notice() {
    let app = real_app();
    let form = get(&app, FORM).await;
    let html = form.html();
    let note = select(&html, "main .callout.callout-urgent#feeling-unwell");
    assert_eq!(note.len(), 1);
    assert_eq!(
        text_of(&html, "#feeling-unwell"),
        "Urgent advice: Feeling unwell after a treatment? Do not post here: call the clinic on (555) 010-0142, or 911 in an emergency."
    );
    assert_eq!(select(&html, "#feeling-unwell a[href='tel:5550100142']").len(), 1);
    assert!(
        form.body.find("id=\"feeling-unwell\"").unwrap() < form.body.find("<form class=\"comment-form\"").unwrap(),
        "near the top, before the form"
    );
    assert_eq!(
        select(&html, "main a[href='/privacy/']")
            .iter()
            .map(|a| collapse(&a.text().collect::<String>()))
            .collect::<Vec<_>>(),
        ["privacy notice"]
    );
    assert!(select(&html, "#unwell-now").is_empty(), "the call-now warning is for comments that describe symptoms");
}

#[tokio::test]
async fn the_unwell_note_uses_the_numbers_in_site_toml() {
    let content = copy_real_content();
    edit_site_toml(content.path(), "emergency_number = \"911\"", "emergency_number = \"999\"");
    edit_site_toml(content.path(), "phone = \"(555) 010-0142\"", "phone = \"01632 960 001\"");
    let app = TestApp::with_config(|data| Config::for_test(data).with_content(content.path()));
    let html = get(&app, FORM).await.html();
    assert_eq!(
        text_of(&html, "#feeling-unwell p"),
        "Do not post here: call the clinic on 01632 960 001, or 999 in an emergency."
    );
}

#[tokio::test]
async fn health_details_get_a_warning_with_call_now_advice_and_a_confirmed_post_is_flagged_with_its_reasons() {
    let app = real_app();
    let t = token(&app, PAGE, 10);
    let text = "I'm 20 weeks pregnant, on warfarin, and short of breath for hours";
    let warned = post(&app, FORM, &[("name", "Dee"), ("comment", text), ("consent", "yes"), ("token", &t)], &[]).await;
    assert_eq!(warned.status, StatusCode::OK);
    let html = warned.html();
    assert_eq!(
        text_of(&html, "#personal-details[role='alert'] p"),
        "Your comment looks like it may include the name of a medicine, a pregnancy or symptoms you have now. Everyone will be able to read it."
    );
    let urgent = text_of(&html, "#unwell-now.callout-urgent[role='alert']");
    assert!(urgent.contains("If you feel unwell now, do not wait for a reply"), "{urgent}");
    assert!(urgent.contains("Call the clinic now on (555) 010-0142. In an emergency, call 911."), "{urgent}");
    assert_eq!(select(&html, "#unwell-now a[href='tel:5550100142']").len(), 1);
    assert!(select(&html, "#feeling-unwell").is_empty(), "the call-now advice takes the general note's place");
    assert!(
        warned.body.find("id=\"unwell-now\"").unwrap() < warned.body.find("id=\"personal-details\"").unwrap(),
        "the call-now advice comes first"
    );
    assert_eq!(select(&html, "textarea")[0].text().collect::<String>(), text, "the text is kept");
    assert!(stored(&app).is_empty(), "not stored until confirmed");

    let confirmed = post(
        &app,
        FORM,
        &[
            ("name", "Dee"),
            ("comment", text),
            ("consent", "yes"),
            ("token", &token_in(&html)),
            ("confirm_personal", "yes"),
        ],
        &[],
    )
    .await;
    assert_eq!(confirmed.status, StatusCode::SEE_OTHER);
    let comments = stored(&app);
    assert!(comments[0].flagged);
    use clinic_site::comments::PersonalDetail::*;
    assert_eq!(comments[0].flags, vec![Medicine, Pregnancy, SymptomsNow]);
}

#[tokio::test]
async fn a_medicine_alone_gets_the_warning_without_call_now_advice() {
    let app = real_app();
    let t = token(&app, PAGE, 10);
    let warned =
        post(&app, FORM, &[("comment", "I take sertraline and it was fine"), ("consent", "yes"), ("token", &t)], &[])
            .await;
    assert_eq!(warned.status, StatusCode::OK);
    let html = warned.html();
    assert!(text_of(&html, "#personal-details").contains("the name of a medicine"));
    assert!(select(&html, "#unwell-now").is_empty());
}

#[tokio::test]
async fn ordinary_experiences_are_posted_without_a_warning() {
    let app = real_app();
    for text in [
        "It helped my neck pain.",
        "I felt better after two sessions.",
        "As an aspiring runner I was nervous, but it was fine.",
    ] {
        assert_eq!(post_comment(&app, text, "").await.status, StatusCode::SEE_OTHER, "{text}");
    }
    assert!(stored(&app).iter().all(|c| !c.flagged));
}

// ---------------------------------------------------------------------------
// Hostile text: bidi controls, invisible text, every script

#[tokio::test]
async fn a_right_to_left_override_in_a_name_cannot_reverse_the_page() {
    let app = real_app();
    post_comment(&app, "It helped.\u{202E} reversed?", "\u{202E}1 December 2026").await;
    approve_all(&app).await;
    let page = get(&app, PAGE).await;
    assert!(!page.body.contains('\u{202E}'), "no override reaches the page");
    let html = page.html();
    assert_eq!(text_of(&html, ".comment .comment-meta strong bdi"), "1 December 2026");
    assert_eq!(
        select(&html, ".comment > .comment-body[dir='auto']")[0].text().collect::<String>(),
        "It helped. reversed?"
    );
}

#[tokio::test]
async fn right_to_left_names_and_comments_show_as_written() {
    let app = real_app();
    post_comment(&app, "שלום, הטיפול עזר לי מאוד.", "سارا").await;
    approve_all(&app).await;
    let html = get(&app, PAGE).await.html();
    assert_eq!(text_of(&html, ".comment .comment-meta strong bdi"), "سارا");
    assert_eq!(text_of(&html, ".comment > .comment-body[dir='auto']"), "שלום, הטיפול עזר לי מאוד.");
}

#[tokio::test]
async fn names_and_comments_with_nothing_visible_are_refused_with_a_message() {
    let app = real_app();
    let t = token(&app, PAGE, 10);
    let name = post(
        &app,
        FORM,
        &[("name", "\u{200B}\u{200D}\u{202E}"), ("comment", "Kept text"), ("consent", "yes"), ("token", &t)],
        &[],
    )
    .await;
    assert_eq!(name.status, StatusCode::BAD_REQUEST);
    let html = name.html();
    assert_eq!(
        text_of(&html, "#comment-name-error"),
        "Error: Your name has no letters or numbers we can show. Leave it empty to post as Anonymous"
    );
    assert_eq!(select(&html, ".error-summary a[href='#comment-name']").len(), 1);
    assert_eq!(select(&html, "textarea")[0].text().collect::<String>(), "Kept text");

    let text = post(
        &app,
        FORM,
        &[
            ("name", "Kim"),
            ("comment", "\u{200B}\u{2060}\u{FEFF} \u{2066}\u{2069}\u{FE0F}"),
            ("consent", "yes"),
            ("token", &t),
        ],
        &[],
    )
    .await;
    assert_eq!(text.status, StatusCode::BAD_REQUEST);
    assert_eq!(text_of(&text.html(), "#comment-text-error"), "Error: Enter your comment");
    assert!(stored(&app).is_empty());
}

#[tokio::test]
async fn huge_words_and_every_script_are_stored_as_sent() {
    let app = TestApp::with_config(|data| Config { comment_limit: 100, ..Config::for_test(data) });
    let texts = [
        "a".repeat(2000),
        "漢字かなカナ한국어".repeat(200),
        "ॐ मणि पद्मे हूँ தமிழ் ქართული አማርኛ ไทย ᠮᠣᠩᠭᠣᠯ 𓀀𓁐".to_string(),
        "Z\u{0351}\u{0352}\u{0357}a\u{036B}\u{0364}l\u{0310}g\u{0314}o".repeat(50),
        "👩🏽\u{200D}⚕️👨\u{200D}👩\u{200D}👧\u{200D}👦🏳️\u{200D}🌈".to_string(),
    ];
    for text in &texts {
        assert_eq!(
            post_comment(&app, text, "名前").await.status,
            StatusCode::SEE_OTHER,
            "{}",
            text.chars().take(20).collect::<String>()
        );
    }
    let mut bodies: Vec<String> = stored(&app).into_iter().map(|c| c.body).collect();
    bodies.sort();
    let mut expected: Vec<String> = texts.to_vec();
    expected.sort();
    assert_eq!(bodies, expected);
}

// ---------------------------------------------------------------------------
// Body size

#[tokio::test]
async fn two_thousand_characters_of_any_script_fit_and_only_abuse_gets_413() {
    let app = TestApp::with_config(|data| Config { comment_limit: 100, ..Config::for_test(data) });
    // 1,999 Chinese characters are 18 KB URL-encoded, more than the 16 KB
    // the rest of the site accepts: this also shows the comment route's own
    // limit wins over the site-wide one.
    let chinese = "漢".repeat(1999);
    assert!(encode(&[("comment", &chinese)]).len() > 16 * 1024);
    assert_eq!(post_comment(&app, &chinese, "").await.status, StatusCode::SEE_OTHER);
    // The worst case a reader can send: 4-byte characters in both fields.
    let emoji = "😀".repeat(2000);
    assert_eq!(post_comment(&app, &emoji, &"🙂".repeat(60)).await.status, StatusCode::SEE_OTHER);
    // A line break is sent as two characters (%0D%0A) but counts as one.
    let lines = "a\r\n".repeat(1000);
    let response = post_comment(&app, &lines, "").await;
    assert_eq!(response.status, StatusCode::SEE_OTHER, "{}", response.body);
    assert_eq!(stored(&app).len(), 3);

    // A little over the rule is a reader: they get the message, text kept.
    let over = post_comment(&app, &"😀".repeat(2001), "").await;
    assert_eq!(over.status, StatusCode::BAD_REQUEST);
    assert!(text_of(&over.html(), ".error-summary").contains("It is 2,001 characters now."));

    // Far over is not.
    let abuse = post_comment(&app, &"😀".repeat(2200), "").await;
    assert_eq!(abuse.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(abuse.body.contains("That was too much to send"));
    assert_eq!(stored(&app).len(), 3);
}

#[tokio::test]
async fn other_forms_keep_the_smaller_site_wide_limit() {
    let app = real_app();
    let big = format!("password={}", "x".repeat(17 * 1024));
    let request = Request::builder()
        .method(Method::POST)
        .uri("/admin/login")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("sec-fetch-site", "same-origin")
        .body(Body::from(big))
        .unwrap();
    let response = app.router.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

// ---------------------------------------------------------------------------
// Rate limit: only stored comments count, also under concurrency

#[tokio::test]
async fn mistakes_and_warnings_do_not_use_up_the_allowance() {
    let app = TestApp::with_config(|data| Config { comment_limit: 5, ..Config::for_test(data) });
    let t = token(&app, PAGE, 10);
    for mistake in [vec![("comment", "   "), ("consent", "yes")], vec![("comment", "no consent")]] {
        let mut fields = mistake.clone();
        fields.push(("token", &t));
        assert_eq!(post(&app, FORM, &fields, &[]).await.status, StatusCode::BAD_REQUEST);
    }
    let personal = [("comment", "Call me on 555 010 0199"), ("consent", "yes"), ("token", t.as_str())];
    assert_eq!(post(&app, FORM, &personal, &[]).await.status, StatusCode::OK, "the warning");
    let mut confirmed = personal.to_vec();
    confirmed.push(("confirm_personal", "yes"));
    assert_eq!(post(&app, FORM, &confirmed, &[]).await.status, StatusCode::SEE_OTHER);
    // Bots dropped quietly are not stored, so they do not count either.
    let bot = [("comment", "spam"), ("consent", "yes"), ("website", "x"), ("token", t.as_str())];
    assert_eq!(post(&app, FORM, &bot, &[]).await.status, StatusCode::SEE_OTHER);
    for n in 0..4 {
        assert_eq!(
            post_comment(&app, &format!("more {n}"), "").await.status,
            StatusCode::SEE_OTHER,
            "post {n} of the 4 left"
        );
    }
    assert_eq!(post_comment(&app, "sixth", "").await.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(stored(&app).len(), 5);
}

/// Sends `count` posts at once on the multi-threaded runtime; their statuses.
async fn at_once(
    app: &std::sync::Arc<TestApp>,
    count: usize,
    pairs: impl Fn(usize) -> Vec<(String, String)>,
) -> Vec<StatusCode> {
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(count));
    let tasks: Vec<_> = (0..count)
        .map(|n| {
            let (app, barrier, fields) = (app.clone(), barrier.clone(), pairs(n));
            tokio::spawn(async move {
                let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                barrier.wait().await;
                post(&app, FORM, &fields, &[]).await.status
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap());
    }
    statuses
}

fn count(statuses: &[StatusCode], status: StatusCode) -> usize {
    statuses.iter().filter(|s| **s == status).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn simultaneous_posts_from_one_reader_store_no_more_than_the_limit() {
    let app = std::sync::Arc::new(TestApp::with_config(|data| Config { comment_limit: 5, ..Config::for_test(data) }));
    let statuses = at_once(&app, 20, |n| {
        let t = token(&app, PAGE, 10);
        vec![("comment".into(), format!("at once {n}")), ("consent".into(), "yes".into()), ("token".into(), t)]
    })
    .await;
    assert_eq!(
        (count(&statuses, StatusCode::SEE_OTHER), count(&statuses, StatusCode::TOO_MANY_REQUESTS)),
        (5, 15),
        "{statuses:?}"
    );
    assert_eq!(stored(&app).len(), 5);
}

// ---------------------------------------------------------------------------
// One form, one comment

#[tokio::test]
async fn two_readers_opening_the_form_in_the_same_second_get_different_tokens() {
    let app = real_app();
    let (a, b) = tokio::join!(get(&app, FORM), get(&app, FORM));
    assert_ne!(token_in(&a.html()), token_in(&b.html()));
}

#[tokio::test]
async fn one_form_stores_one_comment_however_often_it_is_sent() {
    let app = TestApp::with_config(|data| Config { comment_limit: 3, ..Config::for_test(data) });
    let t = token(&app, PAGE, 10);
    let fields = [("name", "Jo"), ("comment", "Sent thirty times"), ("consent", "yes"), ("token", t.as_str())];
    for n in 0..30 {
        let response = post(&app, FORM, &fields, &[]).await;
        assert_eq!(
            (response.status, response.header("location")),
            (StatusCode::SEE_OTHER, "/dry-needling/migraines/#comment-received"),
            "post {n}: a double click gets the thank-you"
        );
    }
    assert_eq!(stored(&app).len(), 1);

    // The reader went back and wrote something else on the used form: it is
    // kept, with a fresh form to send it with.
    let other = post(&app, FORM, &[("comment", "A second thought"), ("consent", "yes"), ("token", &t)], &[]).await;
    assert_eq!(other.status, StatusCode::BAD_REQUEST);
    let html = other.html();
    assert!(
        text_of(&html, ".error-summary").contains("This form has already been used to send a comment"),
        "{}",
        text_of(&html, ".error-summary")
    );
    assert_eq!(select(&html, "textarea")[0].text().collect::<String>(), "A second thought");
    let fresh = token_in(&html);
    assert_ne!(fresh, t);
    assert_eq!(stored(&app).len(), 1);

    // The replays did not use up the allowance: two more fit.
    let fresh_aged = token(&app, PAGE, 10);
    assert_eq!(
        post(&app, FORM, &[("comment", "A second thought"), ("consent", "yes"), ("token", &fresh_aged)], &[])
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(post_comment(&app, "third", "").await.status, StatusCode::SEE_OTHER);
    assert_eq!(post_comment(&app, "fourth", "").await.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(stored(&app).len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_form_sent_many_times_at_once_stores_one_comment() {
    let app = std::sync::Arc::new(TestApp::with_config(|data| Config { comment_limit: 100, ..Config::for_test(data) }));
    let t = token(&app, PAGE, 10);
    let statuses = at_once(&app, 20, |_| {
        vec![("comment".into(), "double click".into()), ("consent".into(), "yes".into()), ("token".into(), t.clone())]
    })
    .await;
    assert_eq!(count(&statuses, StatusCode::SEE_OTHER), 20, "{statuses:?}");
    assert_eq!(stored(&app).len(), 1);
    // And with a different text each time, still one.
    let t = token(&app, PAGE, 10);
    let statuses = at_once(&app, 20, |n| {
        vec![("comment".into(), format!("replay {n}")), ("consent".into(), "yes".into()), ("token".into(), t.clone())]
    })
    .await;
    assert_eq!(
        (count(&statuses, StatusCode::SEE_OTHER), count(&statuses, StatusCode::BAD_REQUEST)),
        (1, 19),
        "{statuses:?}"
    );
    assert_eq!(stored(&app).len(), 2);
}

// ---------------------------------------------------------------------------
// Retention

const DAY: i64 = 24 * 60 * 60;

fn add_with_status(app: &TestApp, text: &str, status: Status, changed: i64) -> i64 {
    use clinic_site::comments::{CommentText, DisplayName, NewComment};
    let comment = NewComment {
        page: PAGE.into(),
        name: DisplayName::parse("").unwrap(),
        text: CommentText::parse(text).unwrap(),
        flags: Vec::new(),
    };
    let id = app.state.comments.insert(&comment, changed - 100 * DAY).unwrap();
    app.state.comments.set_status_at(id, status, changed).unwrap();
    id
}

#[tokio::test]
async fn the_server_deletes_rejected_comments_after_the_days_set_in_site_toml() {
    let content = copy_real_content();
    edit_site_toml(content.path(), "delete_rejected_after_days = 30", "delete_rejected_after_days = 7");
    let app = TestApp::with_config(|data| Config::for_test(data).with_content(content.path()));
    let now = now();
    add_with_status(&app, "rejected 8 days ago", Status::Rejected, now - 8 * DAY);
    add_with_status(&app, "rejected 6 days ago", Status::Rejected, now - 6 * DAY);
    add_with_status(&app, "pending for 100 days", Status::Pending, now - 100 * DAY);
    add_with_status(&app, "approved 100 days ago", Status::Approved, now - 100 * DAY);
    assert_eq!(clinic_site::http::delete_old_rejected_comments(&app.state, now).await.unwrap(), 1);
    let mut left: Vec<String> = stored(&app).into_iter().map(|c| c.body).collect();
    left.sort();
    assert_eq!(left, ["approved 100 days ago", "pending for 100 days", "rejected 6 days ago"]);
}

#[test]
fn the_running_server_deletes_old_rejected_comments_at_start_up() {
    let data = tempfile::tempdir().unwrap();
    {
        use clinic_site::comments::{CommentText, DisplayName, NewComment};
        let store = clinic_site::comments::store::Store::open(&data.path().join("comments.db")).unwrap();
        let now = now();
        for (text, status, changed) in [
            ("old rejected", Status::Rejected, now - 31 * DAY),
            ("new rejected", Status::Rejected, now - DAY),
            ("old pending", Status::Pending, now - 400 * DAY),
        ] {
            let comment = NewComment {
                page: PAGE.into(),
                name: DisplayName::parse("").unwrap(),
                text: CommentText::parse(text).unwrap(),
                flags: Vec::new(),
            };
            let id = store.insert(&comment, now - 400 * DAY).unwrap();
            store.set_status_at(id, status, changed).unwrap();
        }
    }
    let server = Server::start_with_data(&["serve"], data);
    let store = clinic_site::comments::store::Store::open(&server.data.path().join("comments.db")).unwrap();
    assert!(
        wait_until(20, || store.all().unwrap().len() == 2),
        "the old rejected comment was not deleted:\n{}",
        server.log.lock().unwrap()
    );
    let mut left: Vec<String> = store.all().unwrap().into_iter().map(|c| c.body).collect();
    left.sort();
    assert_eq!(left, ["new rejected", "old pending"]);
    assert!(
        wait_until(5, || server.log.lock().unwrap().contains("deleted rejected comments")),
        "the deletion is logged:\n{}",
        server.log.lock().unwrap()
    );
}

// ---------------------------------------------------------------------------
// When the database fails

/// Renames a table behind the server's back, through a second connection,
/// so the server's next statement on it fails with SQLite's own reason.
fn rename_table(app: &TestApp, from: &str, to: &str) {
    let conn = rusqlite::Connection::open(app.data.path().join("comments.db")).unwrap();
    conn.execute_batch(&format!("ALTER TABLE {from} RENAME TO {to}")).unwrap();
}

#[tokio::test]
async fn a_comment_the_database_cannot_store_comes_back_on_the_form_and_healthz_says_storage_error() {
    let app = real_app();
    assert_eq!(get(&app, "/healthz").await.body, "ok\n");
    rename_table(&app, "used_forms", "used_forms_away");
    let token = token(&app, PAGE, 10);
    let form = [
        ("name", "Sam"),
        ("comment", "Two sessions & my neck <feels> better."),
        ("consent", "yes"),
        ("token", token.as_str()),
    ];
    let failed = post(&app, FORM, &form, &[]).await;
    assert_eq!(failed.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(failed.header("cache-control"), "no-store");
    let html = failed.html();
    assert_eq!(text_of(&html, "[role='alert'] h2"), "Your comment has not been sent");
    assert!(
        text_of(&html, "[role='alert'] p").contains("a problem on our side stopped your comment from being saved"),
        "{}",
        failed.body
    );
    assert_eq!(
        text_of(&html, "textarea[name='comment']"),
        "Two sessions & my neck <feels> better.",
        "what they typed is kept"
    );
    assert_eq!(select(&html, "input[name='name'][value='Sam']").len(), 1);
    assert_eq!(text_of(&html, ".site-name"), "Riverside Physical Therapy", "with the site's look");
    assert!(!failed.body.contains("used_forms"), "the reason is for the log, not the reader");

    let health = get(&app, "/healthz").await;
    assert_eq!(
        (health.status, health.body.as_str()),
        (StatusCode::OK, "storage error: the comments database is failing\n")
    );
    assert_eq!(
        app.state.comments.failure().as_deref(),
        Some("no such table: used_forms"),
        "SQLite's own reason is kept"
    );

    // Once the database works again, the same form sends the same comment.
    rename_table(&app, "used_forms_away", "used_forms");
    let sent = post(&app, FORM, &form, &[]).await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);
    assert_eq!(stored(&app).len(), 1);
    assert_eq!(get(&app, "/healthz").await.body, "ok\n");
}

/// The probe's full disk, for one server process: a file size limit makes
/// SQLite's writes fail while reads still work.
#[cfg(unix)]
#[test]
fn with_the_disk_full_posts_keep_their_text_healthz_says_storage_error_and_the_log_says_why() {
    // Room for the page history the server records at start-up (every
    // content file's text) and a few hundred comments after it.
    let server = Server::start_with_file_limit(&["serve", "--comment-limit", "1000"], 1024);
    let secret = clinic_site::comments::token::Secret::load_or_create(&server.data.path().join("secret.key")).unwrap();
    assert_eq!(body(server.get("/healthz")), "ok\n");
    let mut failed = None;
    for n in 0..1000 {
        let token = secret.sign(PAGE, now() - 10).unwrap();
        let text = format!("comment {n}: {}", "the needling helped. ".repeat(40));
        let (status, page) =
            http_post_form(server.addr, FORM, &encode(&[("comment", &text), ("consent", "yes"), ("token", &token)]));
        if status != 303 {
            failed = Some((n, status, String::from_utf8(page).unwrap(), text));
            break;
        }
    }
    let (n, status, page, text) = failed.expect("the file size limit was never reached");
    assert!(n > 0, "some comments were stored before the disk filled");
    assert_eq!(status, 500);
    assert!(
        page.contains("Your comment has not been sent") && page.contains(&text),
        "the reader keeps their text: {page}"
    );
    let health = server.get("/healthz");
    assert_eq!((health.0, body(health)), (200, "storage error: the comments database is failing\n".to_string()));
    assert!(
        wait_until(5, || server
            .log
            .lock()
            .unwrap()
            .contains("storing a comment failed: the comments database failed: disk I/O error")),
        "the log has SQLite's reason:\n{}",
        server.log.lock().unwrap()
    );
    assert_eq!(server.get(PAGE).0, 200, "pages are still served");
}

fn database_with_comments(data: &std::path::Path) -> std::path::PathBuf {
    use clinic_site::comments::{CommentText, DisplayName, NewComment};
    let path = data.join("comments.db");
    let store = clinic_site::comments::store::Store::open(&path).unwrap();
    for n in 0..100 {
        let comment = NewComment {
            page: PAGE.into(),
            name: DisplayName::parse("Jo").unwrap(),
            text: CommentText::parse(&format!("comment {n} {}", "words ".repeat(300))).unwrap(),
            flags: Vec::new(),
        };
        store.insert(&comment, n).unwrap();
    }
    path
}

#[test]
fn a_damaged_comments_database_is_refused_at_start_up_with_what_to_do() {
    let data = tempfile::tempdir().unwrap();
    let path = database_with_comments(data.path());
    damage_the_middle_of(&path);
    let before = std::fs::read(&path).unwrap();
    let error = match clinic_site::http::AppState::load(Config::for_test(data.path())) {
        Ok(_) => panic!("a damaged database should be refused"),
        Err(e) => format!("{e:#}"),
    };
    assert!(
        error
            .contains(&format!("the comments database {} is damaged (SQLite's integrity check says: ", path.display())),
        "{error}"
    );
    assert!(
        error.contains(&format!("restore the data folder {} from your latest backup", data.path().display())),
        "{error}"
    );
    assert!(
        error.contains(&format!(
            "move {} (and comments.db-wal and comments.db-shm, if they are there) out of the data folder",
            path.display()
        )),
        "{error}"
    );
    assert_eq!(std::fs::read(&path).unwrap(), before, "nothing is changed");

    // The binary says the same and stops.
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_clinic-site"))
        .args(["serve", "--addr", "127.0.0.1:0", "--data", data.path().to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.starts_with(&format!("error: the comments database {} is damaged", path.display())), "{stderr}");
    assert!(stderr.contains("restore the data folder"), "{stderr}");
}

#[test]
fn a_file_that_is_not_a_database_is_refused_at_start_up_with_what_to_do() {
    let data = tempfile::tempdir().unwrap();
    std::fs::write(data.path().join("comments.db"), "id,page,name\n1,/dry-needling/,Jo\n").unwrap();
    let error = match clinic_site::http::AppState::load(Config::for_test(data.path())) {
        Ok(_) => panic!("refused"),
        Err(e) => format!("{e:#}"),
    };
    assert!(error.contains("is damaged (file is not a database)"), "{error}");
    assert!(error.contains("to start again with no comments"), "{error}");
}
