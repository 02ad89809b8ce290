//! Two-step sign-in through the staff pages: setting it up, the code after
//! the password, codes used once, and the setting that requires it.

use std::path::Path;

use axum::http::{Method, StatusCode};
use clinic_site::auth::{Actor, NewAccount, Role, Roles};
use clinic_site::config::Config;

use crate::admin::{PASSWORD, cli, now, send_with};
use crate::helpers::*;

const USERNAME: &str = "jane";

/// Adds the owner `jane` with a password, as `clinic-site staff add` does.
fn add_owner(app: &TestApp) {
    let new = NewAccount::parse(USERNAME, "Jane Smith", "DPT", Roles::of([Role::Owner])).unwrap();
    let hash = clinic_site::auth::password::hash(PASSWORD).unwrap();
    app.state.staff.add(&new, Some(&hash), &Actor::command_line(), now()).unwrap();
}

/// The code an authenticator app shows for `secret`, `ahead` seconds from
/// now.
fn app_code(secret: &[u8], ahead: i64) -> String {
    let totp = totp_rs::Builder::new()
        .with_algorithm(totp_rs::Algorithm::SHA1)
        .with_digits(6)
        .with_step_duration(30)
        .with_secret(secret.to_vec())
        .build()
        .unwrap();
    totp.generate((now() + ahead) as u64).to_string()
}

/// The password step: its answer (the code form, or a session).
async fn password_step(app: &TestApp) -> TestResponse {
    let form = format!("username={USERNAME}&password={}", clinic_site::util::html::percent_encode(PASSWORD));
    send_with(app, Method::POST, "/admin/login", None, &form).await
}

fn session_cookie(response: &TestResponse) -> String {
    let set_cookie = response.header("set-cookie");
    assert!(set_cookie.starts_with("clinic_admin=") && !set_cookie.contains("Max-Age=0"), "{set_cookie}");
    set_cookie.split(';').next().unwrap().to_string()
}

/// Signs in with the password alone (two-step sign-in off).
async fn sign_in(app: &TestApp) -> String {
    let response = password_step(app).await;
    assert_eq!(response.status, StatusCode::SEE_OTHER, "{}", response.body);
    session_cookie(&response)
}

fn input_value(html: &scraper::Html, css: &str) -> String {
    select(html, css)[0].value().attr("value").unwrap().to_string()
}

/// The sign-in step token the code form carries.
fn step_of(response: &TestResponse) -> String {
    input_value(&response.html(), "input[name='step']")
}

/// Sets up two-step sign-in from the pages, as a person would; the secret
/// read from the key written under the QR code, and the recovery codes.
async fn set_up(app: &TestApp, cookie: &str) -> (Vec<u8>, Vec<String>) {
    let page = send_with(app, Method::GET, "/admin/account/two-step", Some(cookie), "").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let csrf = input_value(&page.html(), "input[name='csrf']");
    let started =
        send_with(app, Method::POST, "/admin/account/two-step/start", Some(cookie), &format!("csrf={csrf}")).await;
    assert_eq!(started.status, StatusCode::SEE_OTHER, "{}", started.body);
    let page = send_with(app, Method::GET, "/admin/account/two-step", Some(cookie), "").await;
    let html = page.html();
    let svg = select(&html, "figure svg");
    assert_eq!(svg.len(), 1, "one QR code");
    assert_eq!(svg[0].value().attr("role"), Some("img"));
    assert!(svg[0].value().attr("aria-label").unwrap().contains("QR code"));
    let key = text_of(&html, "code.two-step-key").replace(' ', "");
    assert_eq!(key.len(), 32, "20 bytes in base32: {key}");
    let secret = totp_rs::Secret::try_from_base32(&key).unwrap().as_bytes().to_vec();
    for input in select(&html, "input[name='code']") {
        assert_eq!(input.value().attr("autocomplete"), Some("one-time-code"));
        assert_eq!(input.value().attr("inputmode"), Some("numeric"));
        let id = input.value().attr("id").unwrap();
        assert_eq!(select(&html, &format!("label[for='{id}']")).len(), 1, "labelled");
    }
    let still_off = app.state.staff.require(USERNAME).unwrap();
    assert!(!still_off.two_step, "nothing changes until a code from the app is typed");

    let wrong = format!("csrf={csrf}&code=000000");
    let refused = send_with(app, Method::POST, "/admin/account/two-step/confirm", Some(cookie), &wrong).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(text_of(&refused.html(), ".error-summary").contains("not right"));

    let right = format!("csrf={csrf}&code={}", app_code(&secret, 0));
    let on = send_with(app, Method::POST, "/admin/account/two-step/confirm", Some(cookie), &right).await;
    assert_eq!(on.status, StatusCode::OK, "{}", on.body);
    let codes: Vec<String> =
        select(&on.html(), ".recovery-codes code").iter().map(|code| code.text().collect::<String>()).collect();
    assert_eq!(codes.len(), 10);
    assert!(app.state.staff.require(USERNAME).unwrap().two_step);
    // Shown once: the page never shows them again.
    let later = send_with(app, Method::GET, "/admin/account/two-step", Some(cookie), "").await;
    assert!(select(&later.html(), ".recovery-codes").is_empty());
    assert!(!later.body.contains(&codes[0]));
    (secret, codes)
}

#[tokio::test]
async fn a_password_then_a_code_signs_in_and_each_code_works_once() {
    let app = real_app();
    add_owner(&app);
    let cookie = sign_in(&app).await;
    let (secret, _) = set_up(&app, &cookie).await;

    // The password alone now gives the code form, not a session.
    let asked = password_step(&app).await;
    assert_eq!(asked.status, StatusCode::OK, "{}", asked.body);
    assert_eq!(asked.header("set-cookie"), "", "no session before the code");
    let step = step_of(&asked);
    let html = asked.html();
    let code_input = select(&html, "input#code")[0];
    assert_eq!(code_input.value().attr("autocomplete"), Some("one-time-code"));
    // No numeric keypad: a recovery code, with letters, goes in here too.
    assert_eq!(code_input.value().attr("inputmode"), None);
    assert_eq!(select(&html, "label[for='code']").len(), 1);

    let wrong = send_with(&app, Method::POST, "/admin/login/code", None, &format!("step={step}&code=123456")).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong.header("set-cookie"), "", "no session for a wrong code");
    assert!(text_of(&wrong.html(), ".error-summary").contains("not right"));

    // The code that turned it on was spent; the app's next one works.
    let code = app_code(&secret, 30);
    let right = send_with(&app, Method::POST, "/admin/login/code", None, &format!("step={step}&code={code}")).await;
    assert_eq!(right.status, StatusCode::SEE_OTHER, "{}", right.body);
    assert_eq!(right.header("location"), "/admin");
    let session = session_cookie(&right);
    assert_eq!(send_with(&app, Method::GET, "/admin", Some(&session), "").await.status, StatusCode::OK);

    // The same code again, after the password again: refused.
    let step = step_of(&password_step(&app).await);
    let replay = send_with(&app, Method::POST, "/admin/login/code", None, &format!("step={step}&code={code}")).await;
    assert_eq!(replay.status, StatusCode::UNAUTHORIZED);
    assert_eq!(replay.header("set-cookie"), "");
}

#[tokio::test]
async fn a_recovery_code_signs_in_once_and_the_record_says_so() {
    let app = real_app();
    add_owner(&app);
    let cookie = sign_in(&app).await;
    let (_, codes) = set_up(&app, &cookie).await;
    let step = step_of(&password_step(&app).await);
    let used =
        send_with(&app, Method::POST, "/admin/login/code", None, &format!("step={step}&code={}", codes[0])).await;
    assert_eq!(used.status, StatusCode::SEE_OTHER, "{}", used.body);
    let step = step_of(&password_step(&app).await);
    let again =
        send_with(&app, Method::POST, "/admin/login/code", None, &format!("step={step}&code={}", codes[0])).await;
    assert_eq!(again.status, StatusCode::UNAUTHORIZED);
    let record = app.state.staff.activity(&Default::default(), 20).unwrap();
    assert!(record.iter().any(|e| e.kind == "recovery-code-used" && e.detail == "9 recovery codes left"));
}

#[tokio::test]
async fn a_made_up_or_cross_site_code_form_opens_nothing() {
    let app = real_app();
    add_owner(&app);
    let unknown = send_with(&app, Method::POST, "/admin/login/code", None, "step=made-up&code=123456").await;
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    assert!(select(&unknown.html(), "input[name='code']").is_empty(), "sign in again instead");
    let cross = send_form(
        &app,
        Method::POST,
        "/admin/login/code",
        &[("sec-fetch-site", "cross-site")],
        "step=made-up&code=123456",
    )
    .await;
    assert_eq!(cross.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn wrong_codes_count_against_the_sign_in_limits() {
    let app = real_app();
    add_owner(&app);
    let cookie = sign_in(&app).await;
    let (secret, _) = set_up(&app, &cookie).await;
    let step = step_of(&password_step(&app).await);
    for _ in 0..5 {
        let wrong = send_with(&app, Method::POST, "/admin/login/code", None, &format!("step={step}&code=000000")).await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    }
    let code = app_code(&secret, 30);
    let limited = send_with(&app, Method::POST, "/admin/login/code", None, &format!("step={step}&code={code}")).await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS, "even a right code waits");
}

/// The real content with `extra` added to `site.toml`, in a folder that
/// lives as long as the app.
fn app_with_settings(extra: &str) -> (TestApp, tempfile::TempDir) {
    let content = tempfile::tempdir().unwrap();
    copy_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("content").as_path(), content.path());
    let site = content.path().join("site.toml");
    let settings = std::fs::read_to_string(&site).unwrap();
    std::fs::write(&site, format!("{settings}\n{extra}")).unwrap();
    let folder = content.path().to_path_buf();
    (TestApp::with_config(|data| Config::for_test(data).with_content(&folder)), content)
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[tokio::test]
async fn the_clinic_can_require_two_step_sign_in_for_owners() {
    let (app, _content) = app_with_settings("[staff]\nrequire_two_step = [\"owner\", \"reviewer\"]\n");
    add_owner(&app);
    let cookie = sign_in(&app).await;
    for path in ["/admin", "/admin/account", "/admin/staff", "/admin/activity"] {
        let sent = send_with(&app, Method::GET, path, Some(&cookie), "").await;
        assert_eq!(sent.status, StatusCode::SEE_OTHER, "{path}");
        assert_eq!(sent.header("location"), "/admin/account/two-step", "{path}");
    }
    let page = send_with(&app, Method::GET, "/admin/account/two-step", Some(&cookie), "").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(text_of(&page.html(), ".notice").contains("asks everyone who is an owner"), "{}", page.body);

    // Once it is on, the other pages open.
    set_up(&app, &cookie).await;
    assert_eq!(send_with(&app, Method::GET, "/admin", Some(&cookie), "").await.status, StatusCode::OK);

    // Signing out always works, even for someone who has not set it up.
    let (app, _content) = app_with_settings("[staff]\nrequire_two_step = [\"owner\"]\n");
    add_owner(&app);
    let cookie = sign_in(&app).await;
    let page = send_with(&app, Method::GET, "/admin/account/two-step", Some(&cookie), "").await;
    let csrf = input_value(&page.html(), "input[name='csrf']");
    let out = send_with(&app, Method::POST, "/admin/logout", Some(&cookie), &format!("csrf={csrf}")).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert!(out.header("location").starts_with("/admin/login"), "{}", out.header("location"));
}

#[tokio::test]
async fn without_the_setting_two_step_sign_in_is_left_to_each_person() {
    let app = real_app();
    add_owner(&app);
    let cookie = sign_in(&app).await;
    assert_eq!(send_with(&app, Method::GET, "/admin", Some(&cookie), "").await.status, StatusCode::OK);
}

#[tokio::test]
async fn whoever_runs_the_server_can_turn_off_two_step_for_someone_who_lost_their_phone() {
    let app = real_app();
    add_owner(&app);
    let cookie = sign_in(&app).await;
    set_up(&app, &cookie).await;
    let (code, out, err) = cli(&["staff", "turn-off-two-step", USERNAME], app.data.path());
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("Two-step sign-in is off for Jane Smith (jane)"), "{out}");
    assert_eq!(password_step(&app).await.status, StatusCode::SEE_OTHER, "the password alone signs in again");
    let (code, _, err) = cli(&["staff", "turn-off-two-step", USERNAME], app.data.path());
    assert_eq!(code, 1);
    assert!(err.contains("does not use two-step sign-in"), "{err}");
    let entries = app.state.staff.activity(&clinic_site::auth::activity::Filter::default(), 50).unwrap();
    assert!(entries.iter().any(|e| e.kind == "two-step-off" && e.actor == "the command line on the server"));
}
