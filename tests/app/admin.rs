//! The staff area: sign-in, sessions, CSRF, moderation, and the command
//! line tools for the clinic's records.

use std::process::Command;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use clinic_site::auth::{Account, Actor, NewAccount, Role, Roles};
use clinic_site::comments::{CommentText, DisplayName, NewComment, PersonalDetail, Status};
use tower::ServiceExt;

use crate::helpers::*;

pub(crate) const PASSWORD: &str = "correct horse battery";

pub(crate) async fn send_with(
    app: &TestApp,
    method: Method,
    path: &str,
    cookie: Option<&str>,
    form: &str,
) -> TestResponse {
    let mut builder = Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("sec-fetch-site", "same-origin")
        .header("user-agent", "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0");
    if let Some(cookie) = cookie {
        builder = builder.header("cookie", cookie);
    }
    let response = app.router.clone().oneshot(builder.body(Body::from(form.to_string())).unwrap()).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = http_body_util::BodyExt::collect(response.into_body()).await.unwrap().to_bytes();
    TestResponse { status, headers, body: String::from_utf8(bytes.to_vec()).unwrap() }
}

fn add_comment(app: &TestApp, text: &str) -> i64 {
    let comment = NewComment {
        page: "/dry-needling/safety/".into(),
        name: DisplayName::parse("Ali").unwrap(),
        text: CommentText::parse(text).unwrap(),
        flags: Vec::new(),
    };
    app.state.comments.insert(&comment, 1_764_000_000).unwrap()
}

/// The person most tests sign in as: Jane Smith, an owner who moderates.
const JANE: &str = "jane";

/// Adds a person with `PASSWORD` (unless they exist), as the command line
/// would.
pub(crate) fn add_staff(app: &TestApp, username: &str, roles: &[Role]) -> Account {
    if let Some((account, _)) = app.state.staff.find(username).unwrap() {
        return account;
    }
    let name = format!("{} Smith", username[..1].to_uppercase() + &username[1..]);
    let new = NewAccount::parse(username, &name, "", Roles::of(roles.iter().copied())).unwrap();
    let hash = clinic_site::auth::password::hash(PASSWORD).unwrap();
    app.state.staff.add(&new, Some(&hash), &Actor::command_line(), now()).unwrap()
}

pub(crate) fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

/// The sign-in form's body.
pub(crate) fn login_form(username: &str, password: &str) -> String {
    format!(
        "username={}&password={}",
        clinic_site::util::html::percent_encode(username),
        clinic_site::util::html::percent_encode(password)
    )
}

/// Signs in as Jane; the session cookie and the CSRF token from the admin page.
async fn sign_in(app: &TestApp) -> (String, String) {
    add_staff(app, JANE, &[Role::Owner, Role::Moderator]);
    sign_in_as(app, JANE).await
}

/// Signs in as someone added with `add_staff`, through the sign-in form.
pub(crate) async fn sign_in_as(app: &TestApp, username: &str) -> (String, String) {
    let response = send_with(app, Method::POST, "/admin/login", None, &login_form(username, PASSWORD)).await;
    assert_eq!(response.status, StatusCode::SEE_OTHER, "{}", response.body);
    let set_cookie = response.header("set-cookie").to_string();
    let cookie = set_cookie.split(';').next().unwrap().to_string();
    let page = send_with(app, Method::GET, "/admin", Some(&cookie), "").await;
    assert_eq!(page.status, StatusCode::OK);
    let csrf = select(&page.html(), "input[name='csrf']")[0].value().attr("value").unwrap().to_string();
    (cookie, csrf)
}

#[tokio::test]
async fn staff_pages_need_a_session() {
    let app = real_app();
    let id = add_comment(&app, "waiting");
    let home = get(&app, "/admin").await;
    assert_eq!(home.status, StatusCode::SEE_OTHER);
    assert_eq!(home.header("location"), "/admin/login");
    for action in ["approve", "reject", "delete", "reply"] {
        let response = send_with(&app, Method::POST, &format!("/admin/comments/{id}/{action}"), None, "csrf=x").await;
        assert_eq!((response.status, response.header("location")), (StatusCode::SEE_OTHER, "/admin/login"), "{action}");
    }
    let forged =
        send_with(&app, Method::POST, &format!("/admin/comments/{id}/approve"), Some("clinic_admin=made-up"), "csrf=x")
            .await;
    assert_eq!((forged.status, forged.header("location")), (StatusCode::SEE_OTHER, "/admin/login"));
    assert_eq!(app.state.comments.get(id).unwrap().unwrap().status, Status::Pending);
}

#[tokio::test]
async fn the_login_page_explains_how_to_add_the_first_owner_until_there_is_one() {
    let app = real_app();
    let page = get(&app, "/admin/login").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("clinic-site staff add USERNAME --name \"Full Name\" --role owner"), "{}", page.body);
    assert!(select(&page.html(), "input[type='password']").is_empty());
    add_staff(&app, JANE, &[Role::Owner]);
    let html = get(&app, "/admin/login").await.html();
    assert_eq!(select(&html, "input#username[autocomplete='username']").len(), 1);
    assert_eq!(select(&html, "input#password[type='password'][autocomplete='current-password']").len(), 1);
}

#[tokio::test]
async fn a_wrong_password_is_refused_and_repeated_failures_are_slowed() {
    let app = real_app();
    add_staff(&app, JANE, &[Role::Moderator]);
    let right = login_form(JANE, PASSWORD);
    for _ in 0..6 {
        assert_eq!(
            send_with(&app, Method::POST, "/admin/login", None, &right).await.status,
            StatusCode::SEE_OTHER,
            "signing in often is fine"
        );
    }
    for _ in 0..5 {
        let response = send_with(&app, Method::POST, "/admin/login", None, &login_form(JANE, "guess")).await;
        assert_eq!(response.status, StatusCode::UNAUTHORIZED);
        assert!(response.body.contains("The username or password is not right"));
        assert_eq!(select(&response.html(), "input#username")[0].value().attr("value"), Some(JANE), "kept");
        assert!(response.header("set-cookie").is_empty());
    }
    let blocked = send_with(&app, Method::POST, "/admin/login", None, &right).await;
    assert_eq!(blocked.status, StatusCode::TOO_MANY_REQUESTS, "even the right password waits after five failures");
}

#[tokio::test]
async fn the_session_cookie_is_locked_down_and_staff_pages_are_private() {
    let app = real_app();
    add_staff(&app, JANE, &[Role::Moderator]);
    let response = send_with(&app, Method::POST, "/admin/login", None, &login_form(JANE, PASSWORD)).await;
    let cookie = response.header("set-cookie");
    for part in ["HttpOnly", "SameSite=Strict", "Secure", "Path=/admin", "Max-Age=43200"] {
        assert!(cookie.contains(part), "{cookie} lacks {part}");
    }
    let token = cookie.split(';').next().unwrap().split('=').nth(1).unwrap();
    assert_eq!(token.len(), 64, "32 random bytes");
    let page = send_with(&app, Method::GET, "/admin", Some(cookie.split(';').next().unwrap()), "").await;
    assert_eq!(page.header("cache-control"), "no-store");
    assert_eq!(page.header("x-robots-tag"), "noindex, nofollow");
    assert_eq!(select(&page.html(), "meta[name='robots'][content='noindex']").len(), 1);
    assert_eq!(get(&app, "/admin/login").await.header("cache-control"), "no-store");
}

#[tokio::test]
async fn moderation_needs_the_csrf_token() {
    let app = real_app();
    let id = add_comment(&app, "needs review");
    let (cookie, _) = sign_in(&app).await;
    for form in ["", "csrf=wrong"] {
        let response =
            send_with(&app, Method::POST, &format!("/admin/comments/{id}/approve"), Some(&cookie), form).await;
        assert_eq!(response.status, StatusCode::BAD_REQUEST, "{form:?}");
    }
    assert_eq!(app.state.comments.get(id).unwrap().unwrap().status, Status::Pending);
}

#[tokio::test]
async fn staff_approve_reply_reject_and_delete_from_the_browser() {
    let app = real_app();
    let first = add_comment(&app, "first comment");
    let second = add_comment(&app, "second comment");
    let third = add_comment(&app, "third comment");
    let (cookie, csrf) = sign_in(&app).await;

    let home = send_with(&app, Method::GET, "/admin/comments", Some(&cookie), "").await.html();
    assert!(text_of(&home, ".counts").contains("3 waiting for review"), "{}", text_of(&home, ".counts"));
    let listed: Vec<String> = select(&home, "#pending + ol .comment-body").iter().map(|b| b.text().collect()).collect();
    assert_eq!(listed, ["third comment", "second comment", "first comment"], "newest first");
    assert_eq!(select(&home, "#pending + ol a[href='/dry-needling/safety/']").len(), 3, "each links to its page");
    assert!(text_of(&home, "#pending + ol .comment-meta").contains("Is Dry Needling Safe?"), "with the page title");

    let act = |id: i64, action: &str, extra: &str| format!("/admin/comments/{id}/{action}#{extra}");
    let form = format!("csrf={csrf}");
    let reply = format!("csrf={csrf}&reply=Thank+you+for+sharing.");
    let response =
        send_with(&app, Method::POST, &act(first, "reply", "").replace('#', ""), Some(&cookie), &reply).await;
    assert_eq!(response.status, StatusCode::SEE_OTHER);
    let response =
        send_with(&app, Method::POST, &act(first, "approve", "").replace('#', ""), Some(&cookie), &form).await;
    assert_eq!(
        (response.status, response.header("location")),
        (StatusCode::SEE_OTHER, "/admin/comments?done=approved")
    );
    send_with(&app, Method::POST, &format!("/admin/comments/{second}/reject"), Some(&cookie), &form).await;
    send_with(&app, Method::POST, &format!("/admin/comments/{third}/delete"), Some(&cookie), &form).await;

    let page = get(&app, "/dry-needling/safety/").await.html();
    let shown: Vec<String> = select(&page, ".comment > .comment-body").iter().map(|b| b.text().collect()).collect();
    assert_eq!(shown, ["first comment"], "only the approved comment is on the page");
    assert_eq!(text_of(&page, ".comment-reply .comment-body"), "Thank you for sharing.");
    assert_eq!(app.state.comments.get(second).unwrap().unwrap().status, Status::Rejected);
    assert!(app.state.comments.get(third).unwrap().is_none(), "deleted for good");
    let home = send_with(&app, Method::GET, "/admin/comments?done=approved", Some(&cookie), "").await.html();
    assert!(text_of(&home, ".counts").contains("0 waiting for review"));
    assert_eq!(text_of(&home, "[role='status']"), "Comment approved: it is now on the page.");

    // Hiding an approved comment takes it off the page again.
    send_with(&app, Method::POST, &format!("/admin/comments/{first}/reject"), Some(&cookie), &form).await;
    assert!(select(&get(&app, "/dry-needling/safety/").await.html(), ".comment").is_empty());

    let out = send_with(&app, Method::POST, "/admin/logout", Some(&cookie), &form).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert_eq!(
        send_with(&app, Method::GET, "/admin", Some(&cookie), "").await.status,
        StatusCode::SEE_OTHER,
        "signed out"
    );
}

#[tokio::test]
async fn staff_see_why_a_comment_was_flagged_and_names_are_isolated() {
    let app = real_app();
    let health = NewComment {
        page: "/dry-needling/safety/".into(),
        name: DisplayName::parse("\u{202E}1 December 2026").unwrap(),
        text: CommentText::parse("On warfarin, 20 weeks pregnant, short of breath for hours").unwrap(),
        flags: vec![PersonalDetail::Medicine, PersonalDetail::Pregnancy, PersonalDetail::SymptomsNow],
    };
    let health = app.state.comments.insert(&health, 1_764_000_000).unwrap();
    let phone = NewComment {
        page: "/dry-needling/safety/".into(),
        name: DisplayName::parse("سارا").unwrap(),
        text: CommentText::parse("Call me on 555 010 0199").unwrap(),
        flags: vec![PersonalDetail::Phone],
    };
    let phone = app.state.comments.insert(&phone, 1_764_000_001).unwrap();
    let plain = add_comment(&app, "plain");
    let (cookie, _) = sign_in(&app).await;
    let page = send_with(&app, Method::GET, "/admin/comments", Some(&cookie), "").await;
    assert!(!page.body.contains('\u{202E}'), "no override reaches the page");
    let html = page.html();
    let item = |id: i64| text_of(&html, &format!("#comment-{id} .flag"));
    assert_eq!(
        item(health),
        "Check for personal details: the writer was warned this may include the name of a medicine, a pregnancy and symptoms happening now and chose to post it."
    );
    assert_eq!(select(&html, &format!("#comment-{health} .flag")).len(), 2, "and a second line: read it first");
    assert!(text_of(&html, &format!("#comment-{health} .flag + .flag")).contains("may be unwell now"));
    assert_eq!(
        item(phone),
        "Check for personal details: the writer was warned this may include a phone number and chose to post it."
    );
    assert_eq!(item(plain), "");
    assert_eq!(text_of(&html, &format!("#comment-{health} .comment-meta strong bdi")), "1 December 2026");
    assert_eq!(text_of(&html, &format!("#comment-{phone} .comment-meta strong bdi")), "سارا");
    assert_eq!(select(&html, "#pending + ol .comment-body[dir='auto']").len(), 3);
}

#[tokio::test]
async fn rejecting_in_the_browser_starts_the_clock_for_deleting_it() {
    let app = real_app();
    let id = add_comment(&app, "to reject");
    let (cookie, csrf) = sign_in(&app).await;
    let rejected_at = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    send_with(&app, Method::POST, &format!("/admin/comments/{id}/reject"), Some(&cookie), &format!("csrf={csrf}"))
        .await;
    let day = 24 * 60 * 60;
    // Written long before (add_comment dates it 2025), but rejected now.
    assert_eq!(app.state.comments.delete_rejected(30, rejected_at + 29 * day).unwrap(), 0);
    assert_eq!(app.state.comments.delete_rejected(30, rejected_at + 31 * day).unwrap(), 1);
}

pub(crate) fn cli(args: &[&str], data: &std::path::Path) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_clinic-site"))
        .args(args)
        .args(["--data", data.to_str().unwrap()])
        .output()
        .unwrap();
    (
        output.status.code().unwrap(),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

#[tokio::test]
async fn comments_can_be_exported_and_deleted_from_the_command_line() {
    let app = real_app();
    let id = add_comment(&app, "line one\nline \"two\", with a comma");
    add_comment(&app, "=HYPERLINK(\"http://evil.example\")");
    let (code, json, _) = cli(&["comments", "export", "--format", "json"], app.data.path());
    assert_eq!(code, 0);
    let all: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(all.as_array().unwrap().len(), 2);
    assert_eq!(all[0]["body"], "line one\nline \"two\", with a comma");
    assert_eq!(all[0]["status"], "pending");

    let (code, csv, _) = cli(&["comments", "export", "--format", "csv"], app.data.path());
    assert_eq!(code, 0);
    assert!(csv.starts_with("id,page,name,created,status,flagged,body,reply\n"), "{csv}");
    assert!(csv.contains("\"line one\nline \"\"two\"\", with a comma\""), "{csv}");
    assert!(csv.contains("\"'=HYPERLINK(\"\"http://evil.example\"\")\""), "formulas are neutralised: {csv}");

    let (code, out, _) = cli(&["comments", "delete", &id.to_string()], app.data.path());
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with(&format!("Deleted comment {id}")));
    assert!(app.state.comments.get(id).unwrap().is_none());
    let (code, _, err) = cli(&["comments", "delete", &id.to_string()], app.data.path());
    assert_eq!(code, 1);
    assert!(err.contains(&format!("there is no comment number {id}")), "{err}");
}

/// Runs the command with `stdin` as its standard input.
pub(crate) fn cli_with_input(args: &[&str], data: &std::path::Path, stdin: &str) -> (i32, String, String) {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_clinic-site"))
        .args(args)
        .args(["--data", data.to_str().unwrap()])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // A command that fails before reading its input (an unknown role, a
    // taken username) may exit first: the pipe is then closed, which is
    // not the test's concern.
    let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
    let output = child.wait_with_output().unwrap();
    (
        output.status.code().unwrap(),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

#[test]
fn staff_are_added_from_the_command_line_with_the_password_stored_hashed() {
    let data = tempfile::tempdir().unwrap();
    let add = [
        "staff",
        "add",
        "jane",
        "--name",
        "Jane Smith",
        "--role",
        "owner",
        "--role",
        "reviewer",
        "--credentials",
        "DPT",
    ];
    let (code, out, err) = cli_with_input(&add, data.path(), &format!("{PASSWORD}\n"));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("Added Jane Smith, DPT as jane (reviewer, owner)"), "{out}");
    let conn = rusqlite::Connection::open(data.path().join("comments.db")).unwrap();
    let stored: String = conn
        .query_row("SELECT password_hash FROM staff_accounts WHERE username = 'jane'", [], |row| row.get(0))
        .unwrap();
    assert!(stored.starts_with("$argon2id$"), "{stored}");
    let files: Vec<u8> = std::fs::read_dir(data.path())
        .unwrap()
        .flat_map(|entry| std::fs::read(entry.unwrap().path()).unwrap())
        .collect();
    assert!(!files.windows(PASSWORD.len()).any(|w| w == PASSWORD.as_bytes()), "the password itself is nowhere");

    for (args, input, message) in [
        (&add[..], format!("{PASSWORD}\n"), "there is already someone with the username \"jane\""),
        (
            &["staff", "add", "ali", "--name", "Ali Khan", "--role", "admin"][..],
            format!("{PASSWORD}\n"),
            "there is no role called \"admin\"; the roles are moderator, editor, reviewer, owner",
        ),
        (
            &["staff", "add", "ali", "--name", "Ali Khan", "--role", "editor"][..],
            "short\n".into(),
            "at least 12 characters",
        ),
        (
            &["staff", "add", "ali", "--name", "Ali Khan", "--role", "editor"][..],
            "Password1234\n".into(),
            "most common",
        ),
        (
            &["staff", "add", "Ali Khan", "--name", "Ali Khan", "--role", "editor"][..],
            format!("{PASSWORD}\n"),
            "a username starts with a letter",
        ),
        (&["staff", "disable", "nobody"][..], String::new(), "there is no one with the username \"nobody\""),
    ] {
        let (code, _, err) = cli_with_input(args, data.path(), &input);
        assert_eq!(code, 1, "{args:?}");
        assert!(err.contains(message), "{args:?}: {err}");
    }
    let (code, out, _) = cli(&["staff", "list"], data.path());
    assert_eq!(code, 0);
    assert_eq!(out.lines().count(), 1, "nothing half-written by the refused commands: {out}");
    assert!(
        out.contains("jane")
            && out.contains("Jane Smith, DPT")
            && out.contains("reviewer, owner")
            && out.contains("active"),
        "{out}"
    );
}

#[tokio::test]
async fn every_staff_answer_is_private_redirects_and_errors_included() {
    let app = real_app();
    let id = add_comment(&app, "waiting");
    add_staff(&app, JANE, &[Role::Owner, Role::Moderator]);
    let right = login_form(JANE, PASSWORD);
    let mut answers = vec![
        ("home, signed out", StatusCode::SEE_OTHER, get(&app, "/admin").await),
        ("home with a slash", StatusCode::PERMANENT_REDIRECT, get(&app, "/admin/").await),
        ("sign-in page", StatusCode::OK, get(&app, "/admin/login").await),
        (
            "sign-in from another site",
            StatusCode::FORBIDDEN,
            send_form(&app, Method::POST, "/admin/login", &[("sec-fetch-site", "cross-site")], &right).await,
        ),
        (
            "wrong password",
            StatusCode::UNAUTHORIZED,
            send_with(&app, Method::POST, "/admin/login", None, &login_form(JANE, "guess")).await,
        ),
        (
            "moderating signed out",
            StatusCode::SEE_OTHER,
            send_with(&app, Method::POST, &format!("/admin/comments/{id}/approve"), None, "csrf=x").await,
        ),
        (
            "moderating with GET",
            StatusCode::METHOD_NOT_ALLOWED,
            get(&app, &format!("/admin/comments/{id}/approve")).await,
        ),
        ("unknown staff address", StatusCode::NOT_FOUND, get(&app, "/admin/settings").await),
        ("unknown staff address, HEAD", StatusCode::NOT_FOUND, send(&app, Method::HEAD, "/admin/settings").await),
    ];
    let (cookie, csrf) = sign_in(&app).await;
    let form = format!("csrf={csrf}");
    answers.extend([
        ("home", StatusCode::OK, send_with(&app, Method::GET, "/admin", Some(&cookie), "").await),
        (
            "expired form",
            StatusCode::BAD_REQUEST,
            send_with(&app, Method::POST, &format!("/admin/comments/{id}/approve"), Some(&cookie), "csrf=old").await,
        ),
        (
            "no such comment",
            StatusCode::NOT_FOUND,
            send_with(&app, Method::POST, "/admin/comments/999999/approve", Some(&cookie), &form).await,
        ),
        (
            "no such action",
            StatusCode::NOT_FOUND,
            send_with(&app, Method::POST, &format!("/admin/comments/{id}/publish"), Some(&cookie), &form).await,
        ),
        (
            "approving",
            StatusCode::SEE_OTHER,
            send_with(&app, Method::POST, &format!("/admin/comments/{id}/approve"), Some(&cookie), &form).await,
        ),
        (
            "signing out",
            StatusCode::SEE_OTHER,
            send_with(&app, Method::POST, "/admin/logout", Some(&cookie), &form).await,
        ),
    ]);
    for _ in 0..5 {
        send_with(&app, Method::POST, "/admin/login", None, &login_form(JANE, "guess")).await;
    }
    answers.push((
        "too many attempts",
        StatusCode::TOO_MANY_REQUESTS,
        send_with(&app, Method::POST, "/admin/login", None, &right).await,
    ));
    for (what, status, response) in answers {
        assert_eq!(response.status, status, "{what}");
        assert_eq!(response.header("cache-control"), "no-store", "{what}");
        assert_eq!(response.header("x-robots-tag"), "noindex, nofollow", "{what}");
        if status.is_client_error() && status != StatusCode::METHOD_NOT_ALLOWED && !what.ends_with("HEAD") {
            assert!(!text_of(&response.html(), "main h1").is_empty(), "{what}: the friendly page");
        }
    }
    // The rest of the site is not marked so.
    assert_eq!(get(&app, "/dry-needling/").await.header("x-robots-tag"), "");
    assert_eq!(get(&app, "/nope").await.header("x-robots-tag"), "");
}

/// Renames a table behind the server's back, so its next statement on it
/// fails with SQLite's own reason.
fn rename_table(app: &TestApp, from: &str, to: &str) {
    let conn = rusqlite::Connection::open(app.data.path().join("comments.db")).unwrap();
    conn.execute_batch(&format!("ALTER TABLE {from} RENAME TO {to}")).unwrap();
}

/// The headings and details of the staff page's problems section.
fn problems_on(html: &scraper::Html) -> String {
    select(html, "#site-problems ~ h3, #site-problems ~ pre")
        .iter()
        .map(|e| e.text().collect::<String>())
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn staff_see_the_details_healthz_leaves_out() {
    use clinic_site::config::Config;
    use clinic_site::site::Site;
    let content = copy_fixture("valid");
    let app = TestApp::with_config(|data| Config::for_test(data).with_content(content.path()));
    let (cookie, _) = sign_in(&app).await;
    let home = send_with(&app, Method::GET, "/admin", Some(&cookie), "").await;
    assert!(select(&home.html(), "#site-problems").is_empty(), "nothing wrong, nothing shown");

    let page = content.path().join("guide/first.md");
    std::fs::write(
        &page,
        std::fs::read_to_string(&page)
            .unwrap()
            .replace("weight = 1\n", "weight = 1\nnote = \"<script>alert(1)</script>\"\n"),
    )
    .unwrap();
    let options = clinic_site::site::SiteOptions::for_server(&app.state.config);
    assert!(app.state.site.reload(|| Site::load(content.path(), &options, &[])).is_err());
    app.state.site.set_watcher_problem(Some("cannot watch content/guide: too many open files".into()));
    rename_table(&app, "used_forms", "used_forms_away");
    let comment = NewComment {
        page: "/guide/first/".into(),
        name: DisplayName::parse("").unwrap(),
        text: CommentText::parse("hello").unwrap(),
        flags: Vec::new(),
    };
    let nonce = clinic_site::comments::token::Nonce { nonce: "n", expires_at: i64::MAX };
    assert!(app.state.comments.insert_once(&comment, nonce, 1).is_err());
    assert_eq!(
        get(&app, "/healthz").await.body,
        "content error: the newest edit is not published; the last good version is being served\nstorage error: the comments database is failing\nwatcher error: saved edits are not being picked up\n"
    );
    assert_eq!(get(&app, "/admin").await.status, StatusCode::SEE_OTHER, "signed out, no details");
    let dashboard = send_with(&app, Method::GET, "/admin", Some(&cookie), "").await;
    assert!(problems_on(&dashboard.html()).contains("The newest edit to the content is not published"));

    let home = send_with(&app, Method::GET, "/admin/comments", Some(&cookie), "").await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(!home.body.contains("<script>alert"), "quoted lines are escaped");
    let html = home.html();
    let problems = problems_on(&html);
    for detail in [
        "The newest edit to the content is not published",
        "guide/first.md:5:1: error:",
        "note = \"<script>alert(1)</script>\"",
        "Saved edits are not being picked up",
        "cannot watch content/guide: too many open files",
        "The comments database is failing",
        "SQLite's last error: no such table: used_forms.",
    ] {
        assert!(problems.contains(detail), "{detail:?} missing from:\n{problems}");
    }
    assert!(text_of(&html, ".counts").contains("0 waiting for review"), "the comments are still listed");

    // With the comments unreadable too, staff still get the page and why.
    rename_table(&app, "comments", "comments_away");
    let home = send_with(&app, Method::GET, "/admin/comments", Some(&cookie), "").await;
    assert_eq!(home.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(home.header("x-robots-tag"), "noindex, nofollow");
    let html = home.html();
    assert!(problems_on(&html).contains("SQLite's last error: no such table: comments."), "{}", home.body);
    assert!(text_of(&html, "main").contains("The comments cannot be listed right now"));
    // The dashboard says the same instead of failing without a word.
    let dashboard = send_with(&app, Method::GET, "/admin", Some(&cookie), "").await;
    assert_eq!(dashboard.status, StatusCode::INTERNAL_SERVER_ERROR);
    let problems = problems_on(&dashboard.html());
    assert!(problems.contains("The comments cannot be read"), "{problems}");
    let failed = send_with(
        &app,
        Method::POST,
        "/admin/comments/1/approve",
        Some(&cookie),
        &format!("csrf={}", select(&html, "input[name='csrf']")[0].value().attr("value").unwrap()),
    )
    .await;
    assert_eq!(failed.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(text_of(&failed.html(), "main h1"), "Sorry, there is a problem with the service");
    assert!(!failed.body.contains("no such table"), "the reason is for the log and the staff page");
    assert_eq!(failed.header("x-robots-tag"), "noindex, nofollow");
}

#[tokio::test]
async fn simultaneous_wrong_sign_ins_from_one_address_check_at_most_five_passwords() {
    let app = real_app();
    add_staff(&app, JANE, &[Role::Moderator]);
    let attempts: Vec<_> = (0..30)
        .map(|_| {
            let router = app.router.clone();
            tokio::spawn(async move {
                let request = Request::builder()
                    .method(Method::POST)
                    .uri("/admin/login")
                    .header("content-type", "application/x-www-form-urlencoded")
                    .header("sec-fetch-site", "same-origin")
                    .body(Body::from(login_form(JANE, "guess")))
                    .unwrap();
                router.oneshot(request).await.unwrap().status()
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for attempt in attempts {
        statuses.push(attempt.await.unwrap());
    }
    let wrong = statuses.iter().filter(|s| **s == StatusCode::UNAUTHORIZED).count();
    let slowed = statuses.iter().filter(|s| **s == StatusCode::TOO_MANY_REQUESTS).count();
    assert_eq!((wrong, slowed), (5, 25), "{statuses:?}");
    assert_eq!(app.state.limits.password_checks.started(), 5, "only five passwords were checked");
}

#[tokio::test]
async fn changing_the_password_ends_the_other_sessions() {
    let app = real_app();
    let id = add_comment(&app, "waiting");
    let (old, old_csrf) = sign_in(&app).await;
    let (here, csrf) = sign_in(&app).await;
    let new = "a brand new password";
    let change = |current: &str, password: &str, again: &str| {
        format!(
            "csrf={csrf}&current={}&password={}&again={}",
            clinic_site::util::html::percent_encode(current),
            clinic_site::util::html::percent_encode(password),
            clinic_site::util::html::percent_encode(again)
        )
    };
    for (form, problem) in [
        (change("not it at all", new, new), "Your current password is not right"),
        (change(PASSWORD, new, "a brand new passw0rd"), "The two passwords are different"),
        (change(PASSWORD, "jane smith 2026", "jane smith 2026"), "built on your name"),
    ] {
        let refused = send_with(&app, Method::POST, "/admin/account/password", Some(&here), &form).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert!(text_of(&refused.html(), "[role='alert']").contains(problem), "{}", refused.body);
    }
    let changed =
        send_with(&app, Method::POST, "/admin/account/password", Some(&here), &change(PASSWORD, new, new)).await;
    assert_eq!((changed.status, changed.header("location")), (StatusCode::SEE_OTHER, "/admin/account?done=password"));
    assert_eq!(send_with(&app, Method::GET, "/admin", Some(&here), "").await.status, StatusCode::OK, "this one stays");
    let home = send_with(&app, Method::GET, "/admin", Some(&old), "").await;
    assert_eq!((home.status, home.header("location")), (StatusCode::SEE_OTHER, "/admin/login"));
    let approve = send_with(
        &app,
        Method::POST,
        &format!("/admin/comments/{id}/approve"),
        Some(&old),
        &format!("csrf={old_csrf}"),
    )
    .await;
    assert_eq!((approve.status, approve.header("location")), (StatusCode::SEE_OTHER, "/admin/login"));
    assert_eq!(app.state.comments.get(id).unwrap().unwrap().status, Status::Pending);
    let signed_in = send_with(&app, Method::POST, "/admin/login", None, &login_form(JANE, new)).await;
    assert_eq!(signed_in.status, StatusCode::SEE_OTHER, "the new password works");
}

#[tokio::test]
async fn each_use_of_the_staff_area_renews_the_session_cookie() {
    let app = real_app();
    let (cookie, _) = sign_in(&app).await;
    let page = send_with(&app, Method::GET, "/admin", Some(&cookie), "").await;
    let renewed = page.header("set-cookie");
    assert!(renewed.starts_with(&format!("{cookie};")), "the same session: {renewed}");
    for part in ["HttpOnly", "SameSite=Strict", "Secure", "Path=/admin", "Max-Age=43200"] {
        assert!(renewed.contains(part), "{renewed} lacks {part}");
    }
    let signed_out = get(&app, "/admin").await;
    assert!(signed_out.header("set-cookie").is_empty(), "no session, no cookie");
}

#[tokio::test]
async fn staff_replies_are_limited_to_two_thousand_characters() {
    let app = real_app();
    let id = add_comment(&app, "a question");
    let (cookie, csrf) = sign_in(&app).await;
    let too_long = "é".repeat(2_001);
    let reply = async |text: &str| {
        let form = format!("csrf={csrf}&reply={}", clinic_site::util::html::percent_encode(text));
        send_with(&app, Method::POST, &format!("/admin/comments/{id}/reply"), Some(&cookie), &form).await
    };
    let refused = reply(&too_long).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let page = refused.html();
    assert!(
        text_of(&page, "[role='alert']").contains("2,001 characters"),
        "says how long it was: {}",
        text_of(&page, "[role='alert']")
    );
    assert_eq!(select(&page, &format!("#reply-{id}"))[0].text().collect::<String>(), too_long, "the text is kept");
    assert_eq!(app.state.comments.get(id).unwrap().unwrap().reply, None, "nothing stored");

    let longest = "é".repeat(2_000);
    let saved = reply(&longest).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER);
    assert_eq!(app.state.comments.get(id).unwrap().unwrap().reply, Some(longest));
}

/// Peak memory of the real server under many simultaneous wrong sign-ins
/// from different addresses: the per-address limit lets every one through,
/// so only the cap on password checks keeps memory down.
#[test]
fn many_simultaneous_sign_ins_run_a_few_password_checks_at_a_time_in_bounded_memory() {
    let data = tempfile::tempdir().unwrap();
    let (code, _, err) = cli_with_input(
        &["staff", "add", "jane", "--name", "Jane Smith", "--role", "owner"],
        data.path(),
        &format!("{PASSWORD}\n"),
    );
    assert_eq!(code, 0, "{err}");
    let server = Server::start_with_data(&["serve", "--trust-proxy"], data);
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(200));
    let attempts: Vec<_> = (0..200u32)
        .map(|i| {
            let (addr, barrier) = (server.addr, barrier.clone());
            std::thread::spawn(move || {
                use std::io::{Read, Write};
                let mut stream = std::net::TcpStream::connect(addr).unwrap();
                stream.set_read_timeout(Some(std::time::Duration::from_secs(60))).unwrap();
                barrier.wait();
                // Ten try Jane's account (her limit), the rest usernames no
                // one has: both run a full password check, so both wait
                // their turn, and different addresses mean no limit stops
                // them first.
                let username = if i % 20 == 0 { "jane".to_string() } else { format!("nobody{i}") };
                let form = login_form(&username, "guess");
                write!(
                    stream,
                    "POST /admin/login HTTP/1.0\r\nHost: {addr}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nSec-Fetch-Site: same-origin\r\nX-Forwarded-For: 10.1.{}.{}\r\nConnection: close\r\n\r\n{form}",
                    form.len(),
                    i / 250,
                    i % 250 + 1
                )
                .unwrap();
                let mut raw = Vec::new();
                let _ = stream.read_to_end(&mut raw);
                String::from_utf8_lossy(&raw).split_whitespace().nth(1).unwrap_or("none").to_string()
            })
        })
        .collect();
    let statuses: Vec<String> = attempts.into_iter().map(|t| t.join().unwrap()).collect();
    let status = std::fs::read_to_string(format!("/proc/{}/status", server.pid())).unwrap();
    let peak_kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    let count = |code: &str| statuses.iter().filter(|s| *s == code).count();
    eprintln!(
        "200 simultaneous wrong sign-ins: peak RSS {} MiB; 401: {}, 503: {}, 429: {}",
        peak_kib / 1024,
        count("401"),
        count("503"),
        count("429")
    );
    assert_eq!(count("401") + count("503") + count("429"), 200, "each is refused or told to wait: {statuses:?}");
    assert!(count("401") >= 1);
    // The log reaches the test through the server's log thread and a pipe.
    assert!(
        wait_until(10, || server.log.lock().unwrap().contains("password checks at once: ")),
        "{}",
        server.log.lock().unwrap()
    );
    let log = server.log.lock().unwrap().clone();
    let most_at_once = log
        .lines()
        .filter_map(|l| l.split("password checks at once: ").nth(1))
        .filter_map(|rest| rest.split_whitespace().next()?.parse::<usize>().ok())
        .max()
        .expect("the server logs how many checks ran at once");
    let cap = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 4);
    eprintln!("most password checks at once: {most_at_once} (cap {cap})");
    assert!(most_at_once <= cap, "{most_at_once} checks at once, over the cap of {cap}");
    assert!(peak_kib < 200 * 1024, "peak RSS {} MiB", peak_kib / 1024);
}

/// The app again on the same data folder, as after a restart.
fn restarted(app: &TestApp) -> TestApp {
    let state = clinic_site::http::AppState::load(clinic_site::config::Config::for_test(app.data.path())).unwrap();
    let data = tempfile::tempdir().unwrap();
    TestApp { router: clinic_site::http::router(state.clone()), state, data }
}

#[tokio::test]
async fn a_session_survives_a_restart_and_sign_out_still_ends_it() {
    let app = real_app();
    let id = add_comment(&app, "waiting");
    let (cookie, csrf) = sign_in(&app).await;
    let after = restarted(&app);
    let home = send_with(&after, Method::GET, "/admin", Some(&cookie), "").await;
    assert_eq!(home.status, StatusCode::OK, "still signed in after a restart");
    let form = format!("csrf={csrf}");
    let approve = send_with(&after, Method::POST, &format!("/admin/comments/{id}/approve"), Some(&cookie), &form).await;
    assert_eq!(approve.status, StatusCode::SEE_OTHER, "the same CSRF token: {}", approve.body);
    send_with(&after, Method::POST, "/admin/logout", Some(&cookie), &form).await;
    let home = send_with(&app, Method::GET, "/admin", Some(&cookie), "").await;
    assert_eq!((home.status, home.header("location")), (StatusCode::SEE_OTHER, "/admin/login"), "ended everywhere");
}

/// Moves a session's times back, as if `seconds` had passed.
fn age_sessions(app: &TestApp, column: &str, seconds: i64) {
    let conn = rusqlite::Connection::open(app.data.path().join("comments.db")).unwrap();
    conn.execute(&format!("UPDATE staff_sessions SET {column} = {column} - ?1"), [seconds]).unwrap();
}

#[tokio::test]
async fn sessions_end_after_twelve_idle_hours_or_seven_days() {
    let app = real_app();
    let (cookie, _) = sign_in(&app).await;
    age_sessions(&app, "last_seen", 11 * 60 * 60);
    age_sessions(&app, "created_at", 11 * 60 * 60);
    assert_eq!(send_with(&app, Method::GET, "/admin", Some(&cookie), "").await.status, StatusCode::OK, "11 hours idle");
    age_sessions(&app, "last_seen", 12 * 60 * 60);
    let idle = send_with(&app, Method::GET, "/admin", Some(&cookie), "").await;
    assert_eq!((idle.status, idle.header("location")), (StatusCode::SEE_OTHER, "/admin/login"), "12 hours idle");

    let (cookie, _) = sign_in(&app).await;
    age_sessions(&app, "created_at", 7 * 24 * 60 * 60 - 60);
    let nearly = send_with(&app, Method::GET, "/admin", Some(&cookie), "").await;
    assert_eq!(nearly.status, StatusCode::OK, "used a minute ago, signed in nearly 7 days ago");
    assert!(
        nearly.header("set-cookie").contains("Max-Age=60"),
        "the cookie ends with it: {}",
        nearly.header("set-cookie")
    );
    age_sessions(&app, "created_at", 60);
    let old = send_with(&app, Method::GET, "/admin", Some(&cookie), "").await;
    assert_eq!((old.status, old.header("location")), (StatusCode::SEE_OTHER, "/admin/login"), "7 days after sign-in");
}

#[tokio::test]
async fn the_database_keeps_no_session_token() {
    let app = real_app();
    let (cookie, csrf) = sign_in(&app).await;
    let token = cookie.split_once('=').unwrap().1;
    let conn = rusqlite::Connection::open(app.data.path().join("comments.db")).unwrap();
    let rows: Vec<(Vec<u8>, i64)> = conn
        .prepare("SELECT token_hash, account_id FROM staff_sessions")
        .unwrap()
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(rows.len(), 1);
    let hash = <sha2::Sha256 as sha2::Digest>::digest(token.as_bytes()).to_vec();
    assert_eq!(rows[0].0, hash, "the token's SHA-256 only");
    let dump: String = conn
        .query_row(
            "SELECT group_concat(hex(token_hash) || account_id || created_at || last_seen || browser) FROM staff_sessions",
            [],
            |row| row.get(0),
        )
        .unwrap();
    for secret in [token, csrf.as_str()] {
        assert!(!dump.to_lowercase().contains(secret), "{secret} is stored");
    }
}

#[tokio::test]
async fn resetting_a_password_from_the_command_line_ends_that_persons_sessions() {
    let app = real_app();
    sign_in(&app).await;
    add_staff(&app, "ali", &[Role::Moderator]);
    sign_in_as(&app, "ali").await;
    let count = || {
        let conn = rusqlite::Connection::open(app.data.path().join("comments.db")).unwrap();
        conn.query_row("SELECT count(*) FROM staff_sessions", [], |row| row.get::<_, i64>(0)).unwrap()
    };
    assert_eq!(count(), 2);
    let (code, out, err) =
        cli_with_input(&["staff", "reset-password", "jane"], app.data.path(), "another long password\n");
    assert_eq!(code, 0, "{err}");
    assert!(err.is_empty(), "{err}");
    assert!(out.contains("Jane Smith (jane)"), "{out}");
    assert_eq!(count(), 1, "Ali stays signed in");
    let signed_in =
        send_with(&app, Method::POST, "/admin/login", None, &login_form(JANE, "another long password")).await;
    assert_eq!(signed_in.status, StatusCode::SEE_OTHER);
}
