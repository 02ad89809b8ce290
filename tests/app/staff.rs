//! Staff accounts: who may open which staff page, set-password links,
//! sign-in limits per account and per client, disabling people, the
//! upgrade from the shared password, and the activity record.

use axum::http::{Method, StatusCode};
use clinic_site::auth::activity::Filter;
use clinic_site::auth::{Account, Actor, Need, Role};

use crate::admin::{PASSWORD, add_staff, cli, login_form, now, send_with, sign_in_as};
use crate::helpers::*;

/// A fresh session for `account`, started directly (no password check):
/// the cookie and the CSRF token.
pub(crate) fn session_for(app: &TestApp, account: &Account) -> (String, String) {
    let session = app.state.staff.start_session(account, "test", now()).unwrap();
    (format!("clinic_admin={}", session.token), session.csrf)
}

/// The address of a route with its `{...}` parts filled in.
fn concrete(path: &str, comment: i64) -> String {
    path.replace("{id}", &comment.to_string())
        .replace(
            "{action}",
            if path.contains("/comments/") {
                "reply"
            } else if path.contains("two-step") {
                "start"
            } else {
                "reset-password"
            },
        )
        .replace("{username}", "target")
        .replace("{token}", "not-a-real-token")
        .replace("{article}", "dry-needling")
        .replace("{page}", "safety")
        .replace("{revision}", "1")
}

#[tokio::test]
async fn every_staff_address_answers_each_role_as_its_route_says() {
    let app = real_app();
    let comment = {
        use clinic_site::comments::{CommentText, DisplayName, NewComment};
        let new = NewComment {
            page: "/dry-needling/safety/".into(),
            name: DisplayName::parse("Ali").unwrap(),
            text: CommentText::parse("a question").unwrap(),
            flags: Vec::new(),
        };
        app.state.comments.insert(&new, 1_764_000_000).unwrap()
    };
    add_staff(&app, "target", &[Role::Editor]);
    let people: Vec<(&str, Option<Account>)> = vec![
        ("anonymous", None),
        ("moderator", Some(add_staff(&app, "mod", &[Role::Moderator]))),
        ("editor", Some(add_staff(&app, "ed", &[Role::Editor]))),
        ("reviewer", Some(add_staff(&app, "rev", &[Role::Reviewer]))),
        ("owner", Some(add_staff(&app, "own", &[Role::Owner]))),
        ("disabled", Some(add_staff(&app, "gone", &[Role::Owner, Role::Moderator]))),
    ];
    let routes = clinic_site::http::staff_routes();
    assert!(routes.len() >= 12, "every staff page is in the table: {}", routes.len());
    let mut checked = 0;
    for (route, need, methods) in &routes {
        for method in methods.iter() {
            for (who, account) in &people {
                // A new session for each request: signing out or changing a
                // password must not leak into the next check.
                let (cookie, csrf) = match account {
                    Some(account) => {
                        let (cookie, csrf) = session_for(&app, account);
                        if *who == "disabled" {
                            let by = Actor::command_line();
                            app.state.staff.set_disabled(account.id, true, &by, now()).unwrap();
                        }
                        (Some(cookie), csrf)
                    }
                    None => (None, String::new()),
                };
                let path = concrete(route, comment);
                let form = format!("csrf={csrf}");
                let response = send_with(&app, method.clone(), &path, cookie.as_deref(), &form).await;
                let to_sign_in =
                    response.status == StatusCode::SEE_OTHER && response.header("location") == "/admin/login";
                let label = format!("{method} {path} as {who}");
                match (need, account) {
                    (Need::Nobody, _) => {
                        assert!(!to_sign_in && response.status != StatusCode::FORBIDDEN, "{label}: {}", response.status)
                    }
                    (_, None) => assert!(to_sign_in, "{label}: {} {}", response.status, response.header("location")),
                    (_, Some(_)) if *who == "disabled" => assert!(to_sign_in, "{label}: {}", response.status),
                    (need, Some(account)) if need.allows(account.roles) => {
                        assert!(
                            !to_sign_in && response.status != StatusCode::FORBIDDEN,
                            "{label}: {}",
                            response.status
                        );
                        assert!(!response.status.is_server_error(), "{label}: {}", response.status);
                        if *method == Method::GET {
                            assert_eq!(response.status, StatusCode::OK, "{label}");
                        }
                    }
                    (Need::Role(_) | Need::Either(..), Some(_)) => {
                        assert_eq!(response.status, StatusCode::FORBIDDEN, "{label}");
                        let html = response.html();
                        assert_eq!(text_of(&html, "main h1"), "Your role cannot do this", "{label}");
                        let roles = need.roles_named().unwrap();
                        assert!(text_of(&html, "main").contains(&format!("the {roles} role")), "{label}");
                        assert_eq!(
                            select(&html, "main a[href='/admin']").len(),
                            2,
                            "{label}: home, in the nav and the text"
                        );
                    }
                    (need, Some(_)) => panic!("{label}: {need:?} allows everyone signed in"),
                }
                if *who == "disabled"
                    && let Some(account) = account
                {
                    app.state.staff.set_disabled(account.id, false, &Actor::command_line(), now()).unwrap();
                }
                checked += 1;
            }
        }
    }
    assert!(checked >= routes.len() * people.len(), "{checked} checks");
    // The owner may do everything a moderator may, but holds no other role.
    let owner = &people[4].1.as_ref().unwrap().roles;
    assert!(Role::ALL.iter().all(|role| owner.may(*role)));
}

#[tokio::test]
async fn staff_pages_show_only_the_links_a_person_may_use() {
    let app = real_app();
    for (username, roles, links) in [
        ("mod", vec![Role::Moderator], vec!["Dashboard", "Comments", "Feedback", "Your account"]),
        ("ed", vec![Role::Editor], vec!["Dashboard", "Feedback", "Pages", "Pictures", "Quality", "Your account"]),
        ("rev", vec![Role::Reviewer], vec!["Dashboard", "Reviews", "Quality", "Your account"]),
        (
            "own",
            vec![Role::Owner],
            vec![
                "Dashboard",
                "Comments",
                "Feedback",
                "Pages",
                "Pictures",
                "Reviews",
                "Quality",
                "Staff",
                "Activity",
                "Your account",
            ],
        ),
    ] {
        let account = add_staff(&app, username, &roles);
        let (cookie, _) = session_for(&app, &account);
        let home = send_with(&app, Method::GET, "/admin", Some(&cookie), "").await.html();
        let shown: Vec<String> = select(&home, ".admin-nav li a").iter().map(|a| a.text().collect()).collect();
        assert_eq!(shown, links, "{username}");
        assert_eq!(select(&home, ".admin-nav a[aria-current='page']").len(), 1);
        assert!(text_of(&home, ".admin-who").contains(&account.name), "{username}");
        // The dashboard's panels follow the roles too.
        let panels: Vec<String> =
            select(&home, "main section.figures h2").iter().map(|h| h.text().collect::<String>()).collect();
        let has = |heading: &str| panels.iter().any(|p| p == heading);
        assert_eq!(has("Views per day, last 30 days"), account.roles.may(Role::Editor), "{username}: {panels:?}");
        let reads_feedback = account.roles.may(Role::Editor) || account.roles.may(Role::Moderator);
        assert_eq!(has("Was this page helpful?"), reads_feedback, "{username}: {panels:?}");
        assert_eq!(has("Problem reports"), reads_feedback, "{username}: {panels:?}");
        let sees_queue = account.roles.may(Role::Editor) || account.roles.may(Role::Reviewer);
        assert_eq!(has("Clinical review"), sees_queue, "{username}: {panels:?}");
        let moderates = select(&home, "section.figures a[href='/admin/comments']").len() == 1;
        assert_eq!(moderates, account.roles.may(Role::Moderator), "{username}: the comments panel links to moderation");
    }
}

/// The set-password link shown on the staff page after adding someone.
fn link_on(page: &TestResponse) -> String {
    let link = text_of(&page.html(), "#set-password-link");
    assert!(link.contains("/admin/set-password/"), "{}", page.body);
    link.split_once("/admin/").map(|(_, path)| format!("/admin/{path}")).unwrap()
}

#[tokio::test]
async fn an_owner_adds_a_person_who_sets_their_password_once_with_the_link() {
    let app = real_app();
    let owner = add_staff(&app, "own", &[Role::Owner]);
    let (cookie, csrf) = session_for(&app, &owner);
    let added = send_with(
        &app,
        Method::POST,
        "/admin/staff",
        Some(&cookie),
        &format!("csrf={csrf}&username=Ali.Khan&name=Ali+Khan&credentials=&role=moderator&role=editor"),
    )
    .await;
    assert_eq!(added.status, StatusCode::OK, "{}", added.body);
    assert!(text_of(&added.html(), "[role='status']").contains("Ali Khan is added as moderator, editor"));
    let link = link_on(&added);
    let again = send_with(&app, Method::GET, "/admin/staff", Some(&cookie), "").await;
    assert!(select(&again.html(), "#set-password-link").is_empty(), "shown once only");
    assert!(text_of(&again.html(), "#person-ali\\.khan").contains("Waiting to set a password"));
    // Until then, no password signs in as Ali.
    let early = send_with(&app, Method::POST, "/admin/login", None, &login_form("ali.khan", "")).await;
    assert_eq!(early.status, StatusCode::UNAUTHORIZED);

    let form = get(&app, &link).await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(text_of(&form.html(), "main").contains("ali.khan"));
    let set = |password: &str, again: &str| {
        format!(
            "password={}&again={}",
            clinic_site::util::html::percent_encode(password),
            clinic_site::util::html::percent_encode(again)
        )
    };
    for (form, problem) in [
        (set("short", "short"), "at least 12 characters"),
        (set("lantern otter quietly", "lantern otter quiet"), "The two passwords are different"),
        (set("qwerty123456", "qwerty123456"), "most common"),
        (set("alikhan12345", "alikhan12345"), "built on your name"),
    ] {
        let refused = send_with(&app, Method::POST, &link, None, &form).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert!(text_of(&refused.html(), "[role='alert']").contains(problem), "{problem}: {}", refused.body);
    }
    let used = send_with(&app, Method::POST, &link, None, &set("lantern otter quietly", "lantern otter quietly")).await;
    assert_eq!((used.status, used.header("location")), (StatusCode::SEE_OTHER, "/admin/login?done=password-set"));
    let signed_in =
        send_with(&app, Method::POST, "/admin/login", None, &login_form("ALI.KHAN", "lantern otter quietly")).await;
    assert_eq!(signed_in.status, StatusCode::SEE_OTHER, "usernames are not case-sensitive");

    for attempt in [
        get(&app, &link).await,
        send_with(&app, Method::POST, &link, None, &set("another good one here", "another good one here")).await,
    ] {
        assert_eq!(attempt.status, StatusCode::GONE);
        assert!(text_of(&attempt.html(), "main").contains("already been used"), "{}", attempt.body);
    }
    let unknown = get(&app, "/admin/set-password/0123456789abcdef").await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert!(text_of(&unknown.html(), "main").contains("not one we made"));
}

#[tokio::test]
async fn set_password_links_expire_after_a_day_and_only_the_newest_works() {
    let app = real_app();
    let ali = add_staff(&app, "ali", &[Role::Editor]);
    let by = Actor::command_line();
    let start = now();
    let first = app.state.staff.make_link(ali.id, &by, start).unwrap();
    let second = app.state.staff.make_link(ali.id, &by, start).unwrap();
    assert!(matches!(app.state.staff.link_account(&first, start), Err(clinic_site::auth::AuthError::LinkUsed)));
    assert_eq!(app.state.staff.link_account(&second, start + 24 * 60 * 60 - 1).unwrap().id, ali.id);
    assert!(matches!(
        app.state.staff.link_account(&second, start + 24 * 60 * 60),
        Err(clinic_site::auth::AuthError::LinkExpired)
    ));
    // An expired link, through the browser (the clock moved back a day).
    let old = app.state.staff.make_link(ali.id, &by, start - 24 * 60 * 60).unwrap();
    let page = get(&app, &format!("/admin/set-password/{old}")).await;
    assert_eq!(page.status, StatusCode::GONE);
    assert!(text_of(&page.html(), "main").contains("has expired (links last 24 hours)"));
}

#[tokio::test]
async fn roles_change_disabling_ends_sessions_and_the_last_owner_stays() {
    let app = real_app();
    let owner = add_staff(&app, "own", &[Role::Owner]);
    let ali = add_staff(&app, "ali", &[Role::Moderator]);
    let (cookie, csrf) = session_for(&app, &owner);
    let (alis, _) = session_for(&app, &ali);
    let post = async |path: &str, form: &str| {
        send_with(&app, Method::POST, path, Some(&cookie), &format!("csrf={csrf}{form}")).await
    };

    let changed = post("/admin/staff/ali/roles", "&role=editor&role=reviewer").await;
    assert_eq!((changed.status, changed.header("location")), (StatusCode::SEE_OTHER, "/admin/staff?done=roles"));
    let roles = app.state.staff.require("ali").unwrap().roles;
    assert!(roles.holds(Role::Editor) && roles.holds(Role::Reviewer) && !roles.holds(Role::Moderator));
    let refused = post("/admin/staff/ali/roles", "&role=superuser").await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(text_of(&refused.html(), "[role='alert']").contains("There is no role called \"superuser\""));
    assert_eq!(app.state.staff.require("ali").unwrap().roles, roles, "nothing half-changed");

    let disabled = post("/admin/staff/ali/disable", "").await;
    assert_eq!(disabled.header("location"), "/admin/staff?done=disabled");
    let theirs = send_with(&app, Method::GET, "/admin", Some(&alis), "").await;
    assert_eq!(
        (theirs.status, theirs.header("location")),
        (StatusCode::SEE_OTHER, "/admin/login"),
        "signed out at once"
    );
    let back = send_with(&app, Method::POST, "/admin/login", None, &login_form("ali", PASSWORD)).await;
    assert_eq!(back.status, StatusCode::FORBIDDEN);
    assert!(text_of(&back.html(), "[role='alert']").contains("Your account has been disabled"));
    assert!(back.header("set-cookie").is_empty());

    // The one owner can neither drop the role nor be disabled.
    let last = post("/admin/staff/own/roles", "&role=editor").await;
    assert_eq!(last.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(text_of(&last.html(), "[role='alert']").contains("keep at least one owner"));
    assert!(app.state.staff.require("own").unwrap().roles.holds(Role::Owner));
    let (code, _, err) = cli(&["staff", "disable", "own"], app.data.path());
    assert_eq!(code, 1);
    assert!(err.contains("keep at least one owner"), "{err}");
    assert_eq!(post("/admin/staff/nobody/disable", "").await.status, StatusCode::NOT_FOUND);
}

/// The app with the server told it sits behind a proxy, so each request's
/// `X-Forwarded-For` is its client.
fn behind_proxy() -> TestApp {
    TestApp::with_config(|data| {
        let mut config = clinic_site::config::Config::for_test(data);
        config.trust_proxy = true;
        config
    })
}

async fn sign_in_from(app: &TestApp, client: &str, username: &str, password: &str) -> TestResponse {
    send_form(
        app,
        Method::POST,
        "/admin/login",
        &[("sec-fetch-site", "same-origin"), ("x-forwarded-for", client)],
        &login_form(username, password),
    )
    .await
}

#[tokio::test]
async fn failed_sign_ins_are_limited_per_account_from_any_address() {
    let app = behind_proxy();
    add_staff(&app, "jane", &[Role::Owner]);
    for i in 0..clinic_site::http::LOGINS_PER_ACCOUNT {
        let response = sign_in_from(&app, &format!("10.0.0.{}", i + 1), "jane", "guess").await;
        assert_eq!(response.status, StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    let blocked = sign_in_from(&app, "10.0.1.1", "Jane", PASSWORD).await;
    assert_eq!(blocked.status, StatusCode::TOO_MANY_REQUESTS, "a new address, the same account (any case)");
    assert!(blocked.header("retry-after").parse::<u64>().unwrap() > 0);
    add_staff(&app, "ali", &[Role::Moderator]);
    assert_eq!(
        sign_in_from(&app, "10.0.1.1", "ali", PASSWORD).await.status,
        StatusCode::SEE_OTHER,
        "others unaffected"
    );
    // Usernames no one has are limited the same way, so the limit does
    // not tell which exist.
    for i in 0..clinic_site::http::LOGINS_PER_ACCOUNT {
        sign_in_from(&app, &format!("10.0.2.{}", i + 1), "nobody", "guess").await;
    }
    assert_eq!(sign_in_from(&app, "10.0.3.1", "nobody", "guess").await.status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn failed_sign_ins_are_limited_per_client_whatever_x_forwarded_for_says() {
    let app = real_app();
    add_staff(&app, "jane", &[Role::Owner]);
    for i in 0..clinic_site::http::LOGINS_PER_CLIENT {
        // Not behind a proxy: the header is the client's own words.
        let response = sign_in_from(&app, &format!("10.9.9.{i}"), &format!("user{i}"), "guess").await;
        assert_eq!(response.status, StatusCode::UNAUTHORIZED);
    }
    let blocked = sign_in_from(&app, "10.9.9.200", "jane", PASSWORD).await;
    assert_eq!(blocked.status, StatusCode::TOO_MANY_REQUESTS, "a new header and username change nothing");
}

#[tokio::test]
async fn an_unknown_username_gets_the_same_answer_after_the_same_check() {
    let app = real_app();
    add_staff(&app, "jane", &[Role::Owner]);
    let before = app.state.limits.password_checks.started();
    let wrong = send_with(&app, Method::POST, "/admin/login", None, &login_form("jane", "guess")).await;
    let checked_wrong = app.state.limits.password_checks.started() - before;
    let unknown = send_with(&app, Method::POST, "/admin/login", None, &login_form("jnae", "guess")).await;
    let checked_unknown = app.state.limits.password_checks.started() - before - checked_wrong;
    assert_eq!((checked_wrong, checked_unknown), (1, 1), "a full password check either way");
    assert_eq!(wrong.status, unknown.status);
    assert_eq!(wrong.body.replace("value=\"jane\"", "value=\"jnae\""), unknown.body, "the same page");
    // Someone who has not set a password yet is checked the same way.
    let new =
        clinic_site::auth::NewAccount::parse("newbie", "New Person", "", clinic_site::auth::Roles::of([Role::Editor]))
            .unwrap();
    app.state.staff.add(&new, None, &Actor::command_line(), now()).unwrap();
    let waiting = send_with(&app, Method::POST, "/admin/login", None, &login_form("newbie", "")).await;
    assert_eq!(waiting.status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.state.limits.password_checks.started() - before, 3);
}

#[tokio::test]
async fn everyone_sees_their_sessions_and_can_sign_out_everywhere_else() {
    let app = real_app();
    let jane = add_staff(&app, "jane", &[Role::Editor]);
    let (phone, _) = session_for(&app, &jane);
    let (here, csrf) = sign_in_as(&app, "jane").await;
    let page = send_with(&app, Method::GET, "/admin/account", Some(&here), "").await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(select(&page.html(), ".admin-table tbody tr").len(), 2, "{}", page.body);
    assert!(text_of(&page.html(), ".admin-table").contains("(this browser)"));
    let out =
        send_with(&app, Method::POST, "/admin/account/sign-out-everywhere", Some(&here), &format!("csrf={csrf}")).await;
    assert_eq!(out.header("location"), "/admin/account?done=signed-out");
    assert_eq!(send_with(&app, Method::GET, "/admin", Some(&phone), "").await.status, StatusCode::SEE_OTHER);
    let page = send_with(&app, Method::GET, "/admin/account?done=signed-out", Some(&here), "").await;
    assert_eq!(select(&page.html(), ".admin-table tbody tr").len(), 1);
}

/// A data folder as the previous version left it: the shared password in
/// `admin-password`, the schema at step 6 with a session and a comment.
fn previous_version_data() -> tempfile::TempDir {
    use argon2::PasswordHasher;
    let data = tempfile::tempdir().unwrap();
    let schema = include_str!("../../src/comments/schema.sql");
    let step_7 = schema.find("\n-- step 7:").unwrap();
    let conn = rusqlite::Connection::open(data.path().join("comments.db")).unwrap();
    conn.execute_batch(&schema[..step_7]).unwrap();
    conn.pragma_update(None, "user_version", 6).unwrap();
    conn.execute(
        "INSERT INTO comments (page, name, body, created_at, status) VALUES ('/dry-needling/safety/', 'Ali', 'kept', 1764000000, 'approved')",
        [],
    )
    .unwrap();
    conn.execute("INSERT INTO staff_sessions VALUES (x'00', x'01', 1764000000, 1764000000)", []).unwrap();
    let salt = argon2::password_hash::SaltString::encode_b64(b"previous-version").unwrap();
    let hash = argon2::Argon2::default().hash_password(PASSWORD.as_bytes(), &salt).unwrap().to_string();
    std::fs::write(data.path().join("admin-password"), hash).unwrap();
    data
}

#[tokio::test]
async fn the_shared_password_becomes_the_owner_account_on_first_start() {
    let data = previous_version_data();
    let state = clinic_site::http::AppState::load(clinic_site::config::Config::for_test(data.path())).unwrap();
    let app = TestApp { router: clinic_site::http::router(state.clone()), state, data };
    assert!(!app.data.path().join("admin-password").exists(), "the shared password is gone");
    let owner = app.state.staff.require("owner").unwrap();
    assert!(owner.roles.holds(Role::Owner) && owner.has_password && !owner.disabled);
    let conn = rusqlite::Connection::open(app.data.path().join("comments.db")).unwrap();
    let sessions: i64 = conn.query_row("SELECT count(*) FROM staff_sessions", [], |row| row.get(0)).unwrap();
    assert_eq!(sessions, 0, "sessions of the shared password end");
    assert_eq!(app.state.comments.approved().unwrap().len(), 1, "comments are kept");
    let signed_in = send_with(&app, Method::POST, "/admin/login", None, &login_form("owner", PASSWORD)).await;
    assert_eq!(signed_in.status, StatusCode::SEE_OTHER, "the same password, now as \"owner\"");
    let kinds: Vec<String> =
        app.state.staff.activity(&Filter::default(), 10).unwrap().into_iter().map(|e| e.kind).collect();
    assert_eq!(kinds, ["sign-in", "account-upgraded"]);
    // A second start changes nothing.
    let again = clinic_site::http::AppState::load(clinic_site::config::Config::for_test(app.data.path())).unwrap();
    assert_eq!(again.staff.accounts().unwrap().len(), 1);
}

#[test]
fn the_command_line_upgrades_a_previous_data_folder_too_and_says_so() {
    let data = previous_version_data();
    let (code, out, err) = cli(&["staff", "list"], data.path());
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("the shared staff password is now the account \"owner\""), "{err}");
    assert!(out.starts_with("owner"), "{out}");
    assert!(!data.path().join("admin-password").exists());
}

#[tokio::test]
async fn every_action_is_on_the_record_with_the_person_who_did_it() {
    let app = real_app();
    let id = |text: &str| {
        use clinic_site::comments::{CommentText, DisplayName, NewComment};
        let new = NewComment {
            page: "/dry-needling/safety/".into(),
            name: DisplayName::parse("Reader").unwrap(),
            text: CommentText::parse(text).unwrap(),
            flags: Vec::new(),
        };
        app.state.comments.insert(&new, 1_764_000_000).unwrap()
    };
    let (a, b, c) = (id("one"), id("two"), id("three"));
    add_staff(&app, "mo", &[Role::Moderator]);
    add_staff(&app, "own", &[Role::Owner]);
    send_with(&app, Method::POST, "/admin/login", None, &login_form("mo", "guess")).await;
    let (mo, mo_csrf) = sign_in_as(&app, "mo").await;
    let act = |path: String, extra: &'static str| {
        let (cookie, form) = (mo.clone(), format!("csrf={mo_csrf}{extra}"));
        let app = &app;
        async move { send_with(app, Method::POST, &path, Some(&cookie), &form).await }
    };
    act(format!("/admin/comments/{a}/approve"), "").await;
    act(format!("/admin/comments/{a}/reply"), "&reply=Thanks").await;
    act(format!("/admin/comments/{a}/reject"), "").await;
    act(format!("/admin/comments/{b}/reject"), "").await;
    act(format!("/admin/comments/{c}/delete"), "").await;
    let (own, own_csrf) = sign_in_as(&app, "own").await;
    let post = |path: &'static str, form: String| {
        let (app, cookie, csrf) = (&app, own.clone(), own_csrf.clone());
        async move { send_with(app, Method::POST, path, Some(&cookie), &format!("csrf={csrf}{form}")).await }
    };
    post("/admin/staff", "&username=ed&name=Ed+Jones&role=editor".into()).await;
    post("/admin/staff/mo/roles", "&role=moderator&role=reviewer".into()).await;
    post("/admin/staff/ed/disable", String::new()).await;
    act("/admin/logout".into(), "").await;

    let entries = app.state.staff.activity_oldest_first(&Filter::default()).unwrap();
    let lines: Vec<(String, String, String)> =
        entries.iter().map(|e| (e.actor.clone(), e.kind.clone(), e.subject.clone())).collect();
    let mo_label = "Mo Smith (mo)".to_string();
    let own_label = "Own Smith (own)".to_string();
    let expected = [
        (mo_label.clone(), "failed-sign-in", "mo".to_string()),
        (mo_label.clone(), "sign-in", "mo".into()),
        (mo_label.clone(), "comment-approved", format!("comment {a}")),
        (mo_label.clone(), "comment-replied", format!("comment {a}")),
        (mo_label.clone(), "comment-hidden", format!("comment {a}")),
        (mo_label.clone(), "comment-rejected", format!("comment {b}")),
        (mo_label.clone(), "comment-deleted", format!("comment {c}")),
        (own_label.clone(), "sign-in", "own".into()),
        (own_label.clone(), "account-added", "ed".into()),
        (own_label.clone(), "password-reset", "ed".into()),
        (own_label.clone(), "roles-changed", "mo".into()),
        (own_label.clone(), "account-disabled", "ed".into()),
        (mo_label.clone(), "sign-out", "mo".into()),
    ];
    // The accounts added by the tests themselves come first.
    let actions: Vec<_> =
        lines.iter().filter(|(actor, _, _)| actor != "the command line on the server").cloned().collect();
    assert_eq!(actions, expected.iter().map(|(a, k, s)| (a.clone(), k.to_string(), s.clone())).collect::<Vec<_>>());
    assert!(entries.iter().any(|e| e.kind == "roles-changed" && e.detail == "from moderator to moderator, reviewer"));
    let failed = entries.iter().find(|e| e.kind == "failed-sign-in").unwrap();
    assert_eq!(failed.detail, "wrong password", "the record says why, though the page does not");

    // The moderation page says who approved what.
    let d = id("four");
    let (mo, mo_csrf) = sign_in_as(&app, "mo").await;
    send_with(&app, Method::POST, &format!("/admin/comments/{d}/approve"), Some(&mo), &format!("csrf={mo_csrf}")).await;
    let home = send_with(&app, Method::GET, "/admin/comments", Some(&mo), "").await.html();
    assert!(
        text_of(&home, &format!("#comment-{d}")).contains("Approved by Mo Smith (mo) on "),
        "{}",
        text_of(&home, &format!("#comment-{d}"))
    );

    // The owner's activity page lists and filters it; nothing edits it.
    let page = send_with(&app, Method::GET, "/admin/activity?person=own&kind=roles-changed", Some(&own), "").await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.html();
    let rows = select(&html, ".admin-table tbody tr");
    assert_eq!(rows.len(), 1);
    assert!(rows[0].text().collect::<String>().contains("Changed roles"));
    let today = clinic_site::util::date::moment_iso(now())[..10].to_string();
    let dated = send_with(&app, Method::GET, &format!("/admin/activity?from={today}&to={today}"), Some(&own), "").await;
    assert!(select(&dated.html(), ".admin-table tbody tr").len() >= expected.len());
    let bad = send_with(&app, Method::GET, "/admin/activity?from=yesterday", Some(&own), "").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(text_of(&bad.html(), "[role='alert']").contains("is not a date like 2026-12-01"));
    assert!(
        select(&page.html(), "main form[method='post']:not([action='/admin/logout'])").is_empty(),
        "no form changes the record"
    );
}

#[tokio::test]
async fn the_activity_record_exports_as_csv() {
    let app = real_app();
    let tricky = clinic_site::auth::NewAccount::parse(
        "tricky",
        "=cmd, \"quoted\" name",
        "",
        clinic_site::auth::Roles::of([Role::Editor]),
    )
    .unwrap();
    let hash = clinic_site::auth::password::hash(PASSWORD).unwrap();
    app.state.staff.add(&tricky, Some(&hash), &Actor::command_line(), now()).unwrap();
    sign_in_as(&app, "tricky").await;
    let (code, csv, err) = cli(&["audit", "export"], app.data.path());
    assert_eq!(code, 0, "{err}");
    let records = parse_csv(&csv);
    assert_eq!(records[0], ["id", "time", "person_id", "person", "action", "about", "details"]);
    assert_eq!(records.len(), 3, "{csv}");
    assert_eq!(records[1][4], "account-added");
    assert_eq!(records[1][6], "'=cmd, \"quoted\" name, roles: editor", "formulas neutralised, quotes kept");
    assert_eq!(records[2][3], "'=cmd, \"quoted\" name (tricky)");
    assert!(records[2][1].ends_with('Z') && records[2][1].len() == 20, "{}", records[2][1]);
    let (_, later, _) = cli(&["audit", "export", "--since", "2999-01-01"], app.data.path());
    assert_eq!(parse_csv(&later).len(), 1, "only the header");
    let (code, _, err) = cli(&["audit", "export", "--since", "yesterday"], app.data.path());
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("yesterday"), "{err}");
}
