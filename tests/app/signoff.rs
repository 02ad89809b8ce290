//! Clinical sign-off: a reviewer signs off a page's exact text; readers
//! are told of the review only while the page still has that text; stale
//! and unqualified sign-offs are refused; `require_review` keeps the signed
//! text live until a change is signed off; `clinic-site reviews`.

use std::time::Duration;

use axum::http::{Method, StatusCode};
use clinic_site::auth::activity::Filter;
use clinic_site::auth::{Account, Actor, Kind, NewAccount, Role, Roles};
use clinic_site::config::Config;
use clinic_site::workspace::RevisionKind;
use scraper::Html;

use crate::admin::{PASSWORD, add_staff, cli, now, send_with};
use crate::helpers::*;

const SAFETY: &str = "dry-needling/safety.md";
const SAFETY_PUBLIC: &str = "/dry-needling/safety/";
const SIGN_OFF: &str = "/admin/pages/dry-needling/safety/sign-off";

/// Jane Smith, DPT: a reviewer with credentials.
fn add_reviewer(app: &TestApp) -> Account {
    let new = NewAccount::parse("jane", "Jane Smith", "DPT", Roles::of([Role::Reviewer])).unwrap();
    let hash = clinic_site::auth::password::hash(PASSWORD).unwrap();
    app.state.staff.add(&new, Some(&hash), &Actor::command_line(), now()).unwrap()
}

struct Setup {
    app: TestApp,
    content: tempfile::TempDir,
    _watcher: clinic_site::watch::Watcher,
    /// The reviewer's cookie and CSRF token.
    cookie: String,
    csrf: String,
}

/// The app on a copy of the real content (with `site_toml_extra` added to
/// its `site.toml`), the watcher running so saves go live, and a reviewer
/// signed in.
fn setup(site_toml_extra: &str) -> Setup {
    let content = copy_real_content();
    if !site_toml_extra.is_empty() {
        let path = content.path().join("site.toml");
        let toml = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, format!("{toml}\n{site_toml_extra}\n")).unwrap();
    }
    let app = TestApp::with_config(|data| Config::for_test(data).with_content(content.path()));
    let state = &app.state;
    let watcher =
        clinic_site::watch::spawn(&state.config, state.site.clone(), state.comments.clone(), state.workspace.clone())
            .unwrap();
    let reviewer = add_reviewer(&app);
    let (cookie, csrf) = crate::staff::session_for(&app, &reviewer);
    Setup { app, content, _watcher: watcher, cookie, csrf }
}

fn hidden(html: &Html, name: &str) -> String {
    let found = select(html, &format!("input[name='{name}']"));
    found.first().and_then(|e| e.value().attr("value")).unwrap_or_else(|| panic!("no field {name}")).to_string()
}

fn json_ld(html: &Html) -> serde_json::Value {
    let text: String = select(html, "script[type='application/ld+json']")[0].text().collect();
    serde_json::from_str(&text).unwrap()
}

/// The public page once `check` holds, within a few seconds (the watcher
/// rebuilds the site after a file changes).
async fn public_once(app: &TestApp, check: impl Fn(&str) -> bool) -> Html {
    for _ in 0..100 {
        let page = get(app, SAFETY_PUBLIC).await;
        if check(&page.body) {
            return page.html();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the public page never changed as expected: {}", get(app, SAFETY_PUBLIC).await.body);
}

/// Opens the sign-off page and signs off with `note`: the answer.
async fn sign_off(setup: &Setup, query: &str, note: &str) -> TestResponse {
    let page = send_with(&setup.app, Method::GET, &format!("{SIGN_OFF}{query}"), Some(&setup.cookie), "").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let html = page.html();
    let mut form = vec![("csrf", setup.csrf.clone()), ("base", hidden(&html, "base")), ("note", note.to_string())];
    if let Some(pending) = select(&html, "input[name='pending']").first() {
        form.push(("pending", pending.value().attr("value").unwrap().to_string()));
    }
    let form = serde_urlencoded::to_string(&form).unwrap();
    send_with(&setup.app, Method::POST, SIGN_OFF, Some(&setup.cookie), &form).await
}

fn file(setup: &Setup) -> String {
    std::fs::read_to_string(setup.content.path().join(SAFETY)).unwrap()
}

/// An edit of one word, saved by an editor through the workspace.
fn edit_a_word(setup: &Setup) {
    let workspace = &setup.app.state.workspace;
    let (text, hash) = workspace.current(SAFETY).unwrap();
    let editor = add_staff(&setup.app, "ed", &[Role::Editor]);
    let changed = text.replacen("Mild bruising", "Mild bruising that fades in a week", 1);
    assert_ne!(changed, text);
    workspace.save(SAFETY, &changed, &hash, &Actor::person(&editor), "bruises", now()).unwrap();
}

#[tokio::test]
async fn a_sign_off_is_written_to_the_page_the_record_and_the_activity_and_shown_until_an_edit() {
    let setup = setup("");
    let app = &setup.app;
    // Before: the real pages claim no review.
    let before = get(app, SAFETY_PUBLIC).await.html();
    assert!(text_of(&before, ".review").starts_with("Last updated"), "{}", text_of(&before, ".review"));

    let page = send_with(app, Method::GET, SIGN_OFF, Some(&setup.cookie), "").await;
    let html = page.html();
    assert_eq!(text_of(&html, &format!("form[action='{SIGN_OFF}'] button")), "Sign off as Jane Smith, DPT");
    assert!(select(&html, "iframe[srcdoc]").len() == 1, "the page as readers will see it");
    let signed = sign_off(&setup, "", "checked against the 2024 guidance").await;
    assert_eq!(
        (signed.status, signed.header("location")),
        (StatusCode::SEE_OTHER, "/admin/reviews?done=signed-off"),
        "{}",
        signed.body
    );

    // The front matter says who, when, and which text.
    let text = file(&setup);
    let today = clinic_site::content::Date::from_unix(now());
    let page = clinic_site::content::Page::parse(std::path::Path::new(SAFETY), text.clone()).unwrap();
    assert!(text.contains("reviewed_by = \"Jane Smith, DPT\"\n"), "{text}");
    assert!(text.contains(&format!("last_reviewed = {}\n", today.iso())), "{text}");
    assert_eq!(page.front.reviewed_revision.as_deref(), Some(page.reviewed_hash().as_str()));
    assert!(page.review_state().current().is_some());
    // The record of sign-offs, the history and the activity record.
    let records = app.state.workspace.signoffs(SAFETY).unwrap();
    assert_eq!(records.len(), 1);
    let record = &records[0];
    assert_eq!(
        (record.name.as_str(), record.credentials.as_str(), record.note.as_str(), record.signed_on.clone()),
        ("Jane Smith", "DPT", "checked against the 2024 guidance", today.iso())
    );
    assert_eq!(record.reviewed_hash, page.reviewed_hash());
    let newest = &app.state.workspace.history(SAFETY).unwrap()[0];
    assert_eq!((newest.kind, newest.id), (RevisionKind::SignOff, record.revision_id));
    let lines = app.state.staff.activity(&Filter { kind: Some(Kind::PageSignedOff), ..Filter::default() }, 10).unwrap();
    assert_eq!(lines.len(), 1);
    assert_eq!(
        (lines[0].actor.as_str(), lines[0].subject.as_str()),
        ("Jane Smith (jane)", "page dry-needling/safety.md")
    );
    assert!(lines[0].detail.contains("Jane Smith, DPT") && lines[0].detail.contains("2024 guidance"), "{:?}", lines[0]);

    // Readers and search engines are told.
    let html = public_once(app, |body| body.contains("Reviewed by")).await;
    let review = text_of(&html, ".review");
    assert!(review.starts_with(&format!("Reviewed by Jane Smith, DPT on {}.", today.long())), "{review}");
    assert!(review.contains("Next review due"), "{review}");
    assert_eq!(json_ld(&html)["reviewedBy"]["name"], "Jane Smith, DPT");
    assert_eq!(json_ld(&html)["lastReviewed"], today.iso());
    let queue = send_with(app, Method::GET, "/admin/reviews", Some(&setup.cookie), "").await;
    assert!(queue.body.contains("Changed since review (0)"), "{}", queue.body);

    // After an edit: no reviewer's name, no claim, and in the queue with the
    // words changed.
    edit_a_word(&setup);
    let html = public_once(app, |body| body.contains("fades in a week")).await;
    let review = text_of(&html, ".review");
    assert!(review.starts_with("Updated "), "{review}");
    assert!(review.contains(&format!("Last clinical review {}.", today.long())), "{review}");
    assert!(!review.contains("Reviewed by") && !review.contains("Jane"), "{review}");
    let data = json_ld(&html);
    assert!(data.get("lastReviewed").is_none() && data.get("reviewedBy").is_none(), "{data}");
    let queue = send_with(app, Method::GET, "/admin/reviews", Some(&setup.cookie), "").await;
    assert!(queue.body.contains("Changed since review (1)"), "{}", queue.body);
    let queue = queue.html();
    assert_eq!(text_of(&queue, ".word-diff ins"), "[added: that fades in a week]");
    assert!(select(&queue, &format!("a[href='{SIGN_OFF}']")).len() == 1);
    // The nav has Reviews for reviewers.
    assert!(select(&queue, ".admin-nav a[href='/admin/reviews'][aria-current='page']").len() == 1);
}

#[tokio::test]
async fn a_sign_off_of_a_page_changed_since_it_was_opened_is_refused() {
    let setup = setup("");
    let app = &setup.app;
    let page = send_with(app, Method::GET, SIGN_OFF, Some(&setup.cookie), "").await;
    let base = hidden(&page.html(), "base");
    edit_a_word(&setup);
    let form = serde_urlencoded::to_string([("csrf", setup.csrf.as_str()), ("base", base.as_str())]).unwrap();
    let refused = send_with(app, Method::POST, SIGN_OFF, Some(&setup.cookie), &form).await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);
    let html = refused.html();
    assert!(text_of(&html, "[role='alert']").contains("changed after you opened it"), "{}", refused.body);
    assert_ne!(hidden(&html, "base"), base, "the form now names the page as it is");
    assert!(!file(&setup).contains("reviewed_by"), "nothing was signed");
    assert!(app.state.workspace.signoffs(SAFETY).unwrap().is_empty());
}

#[tokio::test]
async fn only_reviewers_with_credentials_may_sign_off_and_never_a_page_with_errors() {
    let setup = setup("");
    let app = &setup.app;
    let (_, hash) = app.state.workspace.current(SAFETY).unwrap();
    // An editor without the reviewer role: 403.
    let editor = add_staff(app, "ed", &[Role::Editor]);
    let (cookie, csrf) = crate::staff::session_for(app, &editor);
    let form = serde_urlencoded::to_string([("csrf", csrf.as_str()), ("base", hash.as_str())]).unwrap();
    let refused = send_with(app, Method::POST, SIGN_OFF, Some(&cookie), &form).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    // A reviewer with no credentials: readers could not be told who.
    let plain = add_staff(app, "rev", &[Role::Reviewer]);
    let (cookie, csrf) = crate::staff::session_for(app, &plain);
    let form = serde_urlencoded::to_string([("csrf", csrf.as_str()), ("base", hash.as_str())]).unwrap();
    let refused = send_with(app, Method::POST, SIGN_OFF, Some(&cookie), &form).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
    assert!(text_of(&refused.html(), "[role='alert']").contains("credentials"));
    // A page with a content error (a link to no page): 422 with the reason.
    let broken = std::fs::read_to_string(setup.content.path().join(SAFETY)).unwrap().replacen(
        "Mild bruising",
        "Mild bruising (see [this](/no-such-page/))",
        1,
    );
    let by = Actor::person(&editor);
    let saved = app.state.workspace.save(SAFETY, &broken, &hash, &by, "", now()).unwrap();
    let form = serde_urlencoded::to_string([("csrf", setup.csrf.as_str()), ("base", saved.hash.as_str())]).unwrap();
    let refused = send_with(app, Method::POST, SIGN_OFF, Some(&setup.cookie), &form).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
    assert!(text_of(&refused.html(), "#errors-heading + ul").contains("/no-such-page/ matches no page"));
    assert!(!file(&setup).contains("reviewed_by"), "nothing was signed");
}

#[tokio::test]
async fn with_review_required_an_edit_waits_and_the_signed_text_stays_live_until_it_is_signed_off() {
    let setup = setup("[review]\nrequire_review = true");
    let app = &setup.app;
    // A page never signed off publishes as before: sign it off first.
    let signed = sign_off(&setup, "", "").await;
    assert_eq!(signed.status, StatusCode::SEE_OTHER, "{}", signed.body);
    let signed_text = file(&setup);
    public_once(app, |body| body.contains("Reviewed by")).await;

    // An editor saves a change from the editor (the whole-file box).
    let editor = add_staff(app, "ed", &[Role::Editor]);
    let (cookie, csrf) = crate::staff::session_for(app, &editor);
    let (text, hash) = app.state.workspace.current(SAFETY).unwrap();
    let changed = text.replacen("Mild bruising", "Mild bruising that fades in a week", 1);
    let form = serde_urlencoded::to_string([
        ("csrf", csrf.as_str()),
        ("base", hash.as_str()),
        ("whole", changed.as_str()),
        ("action", "save"),
    ])
    .unwrap();
    let saved = send_with(app, Method::POST, "/admin/pages/dry-needling/safety", Some(&cookie), &form).await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    assert!(
        text_of(&saved.html(), "[role='status']")
            .contains("Saved for review: the live page keeps the reviewed text until a reviewer signs this off"),
        "{}",
        saved.body
    );
    assert_eq!(file(&setup), signed_text, "the file keeps the signed text");
    assert_eq!(app.state.workspace.history(SAFETY).unwrap()[0].kind, RevisionKind::Pending);
    // Its words changed, so it says it was updated today.
    let waiting_text =
        app.state.workspace.revision(app.state.workspace.history(SAFETY).unwrap()[0].id).unwrap().unwrap();
    let today = clinic_site::util::date::Date::from_unix(now()).iso();
    assert!(waiting_text.text.contains(&format!("\nupdated = {today}\n")), "{}", waiting_text.text);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let public = get(app, SAFETY_PUBLIC).await;
    assert!(!public.body.contains("fades in a week") && public.body.contains("Reviewed by"));

    // Nor can an editor put it live from the page's history.
    let waiting = app.state.workspace.history(SAFETY).unwrap()[0].id;
    let (_, current) = app.state.workspace.current(SAFETY).unwrap();
    let restore = format!("/admin/pages/dry-needling/safety/restore/{waiting}");
    let refused = send_with(app, Method::POST, &restore, Some(&cookie), &format!("csrf={csrf}&base={current}")).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert!(refused.body.contains("waiting for a clinical review"), "{}", refused.body);
    assert_eq!(file(&setup), signed_text, "still the signed text");

    // Opening the page again in the editor continues the waiting change,
    // not the live text, and says so.
    let reopened = send_with(app, Method::GET, "/admin/pages/dry-needling/safety?whole=1", Some(&cookie), "").await;
    let reopened = reopened.html();
    assert!(text_of(&reopened, "textarea[name='whole']").contains("fades in a week"), "the waiting text is in the box");
    assert!(
        text_of(&reopened, "[role='status']")
            .contains(&format!("A change to this page is waiting for clinical review (version {waiting}, by ")),
        "{}",
        text_of(&reopened, "main")
    );
    let base = select(&reopened, "input[name='base']")[0].value().attr("value").unwrap().to_string();
    assert_eq!(base, current, "saving again is checked against the live file");

    // Reviewers see it waiting, and signing it off puts it live.
    let queue = send_with(app, Method::GET, "/admin/reviews", Some(&setup.cookie), "").await;
    assert!(queue.body.contains("Changes waiting for review (1)"), "{}", queue.body);
    let pending = app.state.workspace.history(SAFETY).unwrap()[0].id;
    assert!(queue.body.contains(&format!("{SIGN_OFF}?pending={pending}")), "{}", queue.body);
    let signed = sign_off(&setup, &format!("?pending={pending}"), "").await;
    assert_eq!(signed.status, StatusCode::SEE_OTHER, "{}", signed.body);
    let now_live = file(&setup);
    assert!(now_live.contains("fades in a week") && now_live.contains("reviewed_revision"), "{now_live}");
    let html = public_once(app, |body| body.contains("fades in a week")).await;
    assert!(text_of(&html, ".review").starts_with("Reviewed by Jane Smith, DPT"));
    let queue = send_with(app, Method::GET, "/admin/reviews", Some(&setup.cookie), "").await;
    assert!(!queue.body.contains("Changes waiting for review"), "{}", queue.body);
    // Putting back a version from before the sign-off (unreviewed words)
    // waits for review too; the signed version itself goes back at once.
    let (_, current) = app.state.workspace.current(SAFETY).unwrap();
    let signed_text = file(&setup);
    let history = app.state.workspace.history(SAFETY).unwrap();
    let unreviewed = history.iter().rev().find(|r| r.kind != RevisionKind::SignOff).map(|r| r.id);
    if let Some(first) =
        unreviewed.filter(|id| !app.state.workspace.revision(*id).unwrap().unwrap().text.contains("reviewed_revision"))
    {
        let restore = format!("/admin/pages/dry-needling/safety/restore/{first}");
        let held = send_with(app, Method::POST, &restore, Some(&cookie), &format!("csrf={csrf}&base={current}")).await;
        assert_eq!(
            (held.status, held.header("location")),
            (StatusCode::SEE_OTHER, "/admin/pages/dry-needling/safety/history?done=restored-for-review")
        );
        assert_eq!(file(&setup), signed_text, "the signed text stays live");
        assert_eq!(app.state.workspace.history(SAFETY).unwrap()[0].kind, RevisionKind::Pending);
    } else {
        panic!("the page's history has no version from before its sign-off: {history:?}");
    }
}

#[tokio::test]
async fn the_command_line_lists_the_review_queue_as_text_and_json() {
    let setup = setup("");
    let app = &setup.app;
    let content = setup.content.path().to_str().unwrap();
    let (code, out, err) = cli(&["reviews", "--content", content], app.data.path());
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("Changes waiting for review (0)\nChanged since review (0)\nNever reviewed (7)\n"), "{out}");
    assert!(out.contains("  dry-needling/safety.md: Is Dry Needling Safe?\n"), "{out}");

    let signed = sign_off(&setup, "", "").await;
    assert_eq!(signed.status, StatusCode::SEE_OTHER);
    edit_a_word(&setup);
    let (code, out, err) = cli(&["reviews", "--content", content, "--format", "json"], app.data.path());
    assert_eq!(code, 0, "{err}");
    let queue: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert_eq!(queue["never_reviewed"].as_array().unwrap().len(), 6, "{queue}");
    let changed = &queue["changed_since_review"][0];
    assert_eq!(changed["file"], SAFETY);
    assert_eq!(changed["reason"], "changed");
    assert_eq!(changed["last_reviewed_by"], "Jane Smith, DPT");
    assert!(queue["due"].as_array().unwrap().is_empty() && queue["pending"].as_array().unwrap().is_empty());
}
