//! The page editor over HTTP: the form round trip, saving, drafts,
//! conflicts, the size limit and the live preview.

use axum::http::{Method, StatusCode};
use clinic_site::auth::activity::Filter;
use clinic_site::auth::{Kind, Role};
use clinic_site::config::Config;
use clinic_site::workspace::RevisionKind;
use scraper::Html;

use crate::admin::{add_staff, send_with};
use crate::helpers::*;

const SAFETY: &str = "dry-needling/safety.md";
const SAFETY_EDITOR: &str = "/admin/pages/dry-needling/safety";

/// The app on a copy of the real content, signed in as an editor: the
/// app, the content folder, and the session cookie and CSRF token.
fn editor_app() -> (TestApp, tempfile::TempDir, String, String) {
    let content = copy_real_content();
    let app = TestApp::with_config(|data| Config::for_test(data).with_content(content.path()));
    let editor = add_staff(&app, "ed", &[Role::Editor]);
    let (cookie, csrf) = crate::staff::session_for(&app, &editor);
    (app, content, cookie, csrf)
}

/// The editor form's fields as a browser would send them: text boxes with
/// their lines ending in \r\n, a select's chosen option, a checkbox only
/// when it is ticked.
fn form_fields(html: &Html) -> Vec<(String, String)> {
    let mut fields = Vec::new();
    for element in select(html, "#editor-form input, #editor-form textarea, #editor-form select") {
        let e = element.value();
        let Some(name) = e.attr("name") else { continue };
        let value = match e.name() {
            "textarea" => element.text().collect::<String>().replace('\n', "\r\n"),
            "select" => {
                let chosen = element.select(&scraper::Selector::parse("option[selected]").unwrap()).next();
                let first = element.select(&scraper::Selector::parse("option").unwrap()).next();
                chosen.or(first).and_then(|o| o.value().attr("value")).unwrap_or_default().to_string()
            }
            _ if e.attr("type") == Some("checkbox") && e.attr("checked").is_none() => continue,
            _ => e.attr("value").unwrap_or_default().to_string(),
        };
        fields.push((name.to_string(), value));
    }
    fields
}

fn set(fields: &mut [(String, String)], name: &str, value: &str) {
    let field = fields.iter_mut().find(|(n, _)| n == name).unwrap_or_else(|| panic!("no field {name}"));
    field.1 = value.to_string();
}

fn value_of<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
    fields.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str()).unwrap_or_else(|| panic!("no field {name}"))
}

fn encoded(fields: &[(String, String)], action: &str) -> String {
    let mut all = fields.to_vec();
    all.push(("action".into(), action.into()));
    serde_urlencoded::to_string(&all).unwrap()
}

async fn open_editor(app: &TestApp, cookie: &str, address: &str) -> Vec<(String, String)> {
    let page = send_with(app, Method::GET, address, Some(cookie), "").await;
    assert_eq!(page.status, StatusCode::OK, "{address}: {}", page.body);
    form_fields(&page.html())
}

/// Opening every page in the editor and saving it untouched writes
/// nothing: the form gives back exactly the file staff wrote by hand.
#[tokio::test]
async fn every_page_saved_untouched_from_the_form_keeps_its_bytes() {
    let (app, content, cookie, _) = editor_app();
    let pages = app.state.workspace.pages();
    assert!(pages.len() >= 7, "{pages:?}");
    for file in pages {
        let before = std::fs::read(content.path().join(&file)).unwrap();
        let revisions = app.state.workspace.history(&file).unwrap().len();
        let address = format!("/admin/pages/{}", file.trim_end_matches(".md"));
        let fields = open_editor(&app, &cookie, &address).await;
        let saved = send_with(&app, Method::POST, &address, Some(&cookie), &encoded(&fields, "save")).await;
        assert_eq!(saved.status, StatusCode::SEE_OTHER, "{file}: {}", saved.body);
        assert!(std::fs::read(content.path().join(&file)).unwrap() == before, "{file} changed on an untouched save");
        assert_eq!(app.state.workspace.history(&file).unwrap().len(), revisions, "{file}: nothing to record");
    }
}

#[tokio::test]
async fn a_changed_sentence_is_saved_recorded_and_live_within_the_answer() {
    let (app, content, cookie, _) = editor_app();
    let state = &app.state;
    let _watcher =
        clinic_site::watch::spawn(&state.config, state.site.clone(), state.comments.clone(), state.workspace.clone())
            .unwrap();
    let mut fields = open_editor(&app, &cookie, SAFETY_EDITOR).await;
    let body = value_of(&fields, "body").replace("Mild bruising", "Mild bruising that fades in a week");
    set(&mut fields, "body", &body);
    set(&mut fields, "message", "said how long bruises last");
    let saved = send_with(&app, Method::POST, SAFETY_EDITOR, Some(&cookie), &encoded(&fields, "save")).await;
    assert_eq!(
        (saved.status, saved.header("location")),
        (StatusCode::SEE_OTHER, "/admin/pages/dry-needling/safety?done=saved"),
        "{}",
        saved.body
    );
    let file = std::fs::read_to_string(content.path().join(SAFETY)).unwrap();
    assert!(file.contains("- Mild bruising that fades in a week\n"), "saved with the file's own line endings");
    assert!(!file.contains('\r'));
    // "Live" was said only once it was: the public page shows it already.
    let public = get(&app, "/dry-needling/safety/").await;
    assert!(public.body.contains("Mild bruising that fades in a week"));
    let newest = &state.workspace.history(SAFETY).unwrap()[0];
    assert_eq!(
        (newest.kind, newest.author.as_str(), newest.message.as_str()),
        (RevisionKind::Save, "Ed Smith (ed)", "said how long bruises last")
    );
    let lines = state.staff.activity(&Filter { kind: Some(Kind::PageSaved), ..Filter::default() }, 10).unwrap();
    assert_eq!((lines[0].actor.as_str(), lines[0].subject.as_str()), ("Ed Smith (ed)", "page dry-needling/safety.md"));
    let done = send_with(&app, Method::GET, saved.header("location"), Some(&cookie), "").await;
    assert!(text_of(&done.html(), "[role='status']").contains("on the live site now"));
}

#[tokio::test]
async fn text_with_errors_is_kept_as_a_draft_and_never_published() {
    let (app, content, cookie, _) = editor_app();
    let before = std::fs::read_to_string(content.path().join(SAFETY)).unwrap();
    let mut fields = open_editor(&app, &cookie, SAFETY_EDITOR).await;
    let body = value_of(&fields, "body")
        .replace("## Possible Side Effects", "## Possible Side Effects\r\n\r\nSee [this](/no-such-page/).");
    set(&mut fields, "body", &body);
    let refused = send_with(&app, Method::POST, SAFETY_EDITOR, Some(&cookie), &encoded(&fields, "save")).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = refused.html();
    assert!(text_of(&html, "[role='alert']").contains("kept as draft version"), "{}", text_of(&html, "[role='alert']"));
    // The problem is listed with the line it is on in the file.
    let line = before.lines().position(|l| l == "## Possible Side Effects").unwrap() + 3;
    let problem = select(&html, ".problems li")
        .into_iter()
        .find(|li| li.text().collect::<String>().contains("/no-such-page/"))
        .expect("the broken link is listed");
    let text = collapse(&problem.text().collect::<String>());
    assert!(text.starts_with(&format!("Error Line {line}")), "{text}");
    let link = problem.select(&scraper::Selector::parse("a[data-line]").unwrap()).next().unwrap();
    assert_eq!(link.value().attr("href"), Some("#page-text"), "a link to the text box");
    assert_eq!(link.value().attr("data-line"), Some(line.to_string().as_str()));
    // What was typed is still in the box, and kept in the history.
    assert!(form_fields(&html).iter().any(|(n, v)| n == "body" && v.contains("See [this](/no-such-page/).")));
    assert_eq!(std::fs::read_to_string(content.path().join(SAFETY)).unwrap(), before, "not written");
    let newest = &app.state.workspace.history(SAFETY).unwrap()[0];
    let draft = app.state.workspace.revision(newest.id).unwrap().unwrap();
    assert_eq!(newest.kind, RevisionKind::Draft);
    assert!(draft.text.contains("See [this](/no-such-page/)."));
}

#[tokio::test]
async fn a_save_from_an_old_version_shows_both_texts_and_saves_the_merged_one() {
    let (app, content, cookie, _) = editor_app();
    let first = open_editor(&app, &cookie, SAFETY_EDITOR).await;
    let second = first.clone();
    // Another editor saves first.
    let mut theirs = first.clone();
    set(&mut theirs, "title", "Is Dry Needling Safe for Me?");
    let saved = send_with(&app, Method::POST, SAFETY_EDITOR, Some(&cookie), &encoded(&theirs, "save")).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER);
    // This one started from the same version.
    let mut mine = second;
    let body = value_of(&mine, "body").replace("Mild bruising", "Mild bruising (it fades)");
    set(&mut mine, "body", &body);
    let refused = send_with(&app, Method::POST, SAFETY_EDITOR, Some(&cookie), &encoded(&mine, "save")).await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    let html = refused.html();
    assert!(text_of(&html, ".conflict").contains("Your text"));
    let all = |css: &str| {
        select(&html, css).iter().map(|e| collapse(&e.text().collect::<String>())).collect::<Vec<_>>().join(" ")
    };
    let yours = all(".conflict-columns > div:first-child ins");
    let theirs = all(".conflict-columns > div:last-child del");
    assert!(yours.contains("[only in yours:") && yours.contains("(it fades)"), "{yours}");
    assert!(theirs.contains("[only in the page now:") && theirs.contains("for Me"), "{theirs}");
    let file = std::fs::read_to_string(content.path().join(SAFETY)).unwrap();
    assert!(file.contains("Safe for Me?") && !file.contains("(it fades)"), "theirs stays until a new save");
    assert_eq!(app.state.workspace.history(SAFETY).unwrap()[0].kind, RevisionKind::Draft, "mine is kept");
    // The box holds my whole file and the form now starts from theirs.
    let mut merged = form_fields(&html);
    let whole = value_of(&merged, "whole").replace("\r\n", "\n");
    assert!(whole.contains("(it fades)") && !whole.contains("Safe for Me?"));
    set(&mut merged, "whole", &whole.replace("Is Dry Needling Safe?", "Is Dry Needling Safe for Me?"));
    let saved = send_with(&app, Method::POST, SAFETY_EDITOR, Some(&cookie), &encoded(&merged, "save")).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let file = std::fs::read_to_string(content.path().join(SAFETY)).unwrap();
    assert!(file.contains("Safe for Me?") && file.contains("(it fades)"), "both changes: {file}");
}

#[tokio::test]
async fn a_page_over_256_kib_gets_413_with_the_text_kept() {
    let (app, content, cookie, _) = editor_app();
    let before = std::fs::read_to_string(content.path().join(SAFETY)).unwrap();
    let mut fields = open_editor(&app, &cookie, SAFETY_EDITOR).await;
    let huge = format!("{}\r\n{}", value_of(&fields, "body"), "Many words here. ".repeat(16_000));
    set(&mut fields, "body", &huge);
    let refused = send_with(&app, Method::POST, SAFETY_EDITOR, Some(&cookie), &encoded(&fields, "save")).await;
    assert_eq!(refused.status, StatusCode::PAYLOAD_TOO_LARGE);
    let html = refused.html();
    assert!(text_of(&html, "[role='alert']").contains("Your text is still here"));
    let kept = form_fields(&html).into_iter().find(|(n, _)| n == "body").unwrap().1;
    assert_eq!(kept.replace("\r\n", "\n"), huge.replace("\r\n", "\n"));
    assert_eq!(std::fs::read_to_string(content.path().join(SAFETY)).unwrap(), before);
}

#[tokio::test]
async fn a_weight_that_is_not_a_number_is_refused_with_the_form_kept() {
    let (app, content, cookie, _) = editor_app();
    let before = std::fs::read_to_string(content.path().join(SAFETY)).unwrap();
    let mut fields = open_editor(&app, &cookie, SAFETY_EDITOR).await;
    set(&mut fields, "weight", "fifth");
    set(&mut fields, "title", "A New Title");
    let refused = send_with(&app, Method::POST, SAFETY_EDITOR, Some(&cookie), &encoded(&fields, "save")).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = refused.html();
    assert!(text_of(&html, "[role='alert']").contains("\"fifth\" is not a number"));
    assert_eq!(value_of(&form_fields(&html), "title"), "A New Title");
    assert_eq!(value_of(&form_fields(&html), "weight"), "fifth", "shown as typed");
    assert_eq!(std::fs::read_to_string(content.path().join(SAFETY)).unwrap(), before);
}

#[tokio::test]
async fn the_preview_is_the_page_with_its_problems_and_saves_nothing() {
    let (app, content, cookie, _) = editor_app();
    let before = std::fs::read_to_string(content.path().join(SAFETY)).unwrap();
    let mut fields = open_editor(&app, &cookie, SAFETY_EDITOR).await;
    let body = value_of(&fields, "body").replace("Mild bruising", "Mild bruising, utilise ice");
    set(&mut fields, "body", &body);
    let address = "/admin/pages/dry-needling/safety/preview";
    let answer = send_with(&app, Method::POST, address, Some(&cookie), &encoded(&fields, "preview")).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(answer.header("content-type"), "application/json");
    let json: serde_json::Value = serde_json::from_str(&answer.body).unwrap();
    let html = json["html"].as_str().unwrap();
    assert!(html.contains("<mark class=\"plain-word\" data-plain=\"use\">utilise</mark> ice"), "marked in the preview");
    let checks = Html::parse_fragment(json["checks"].as_str().unwrap());
    assert_eq!(text_of(&checks, ".plain-help li"), "\"utilise\": try \"use\".");
    assert_eq!(json["errors"], 0);
    // Without the marks asked for, the preview is the page as readers get it.
    fields.retain(|(n, _)| n != "marks");
    let plain = send_with(&app, Method::POST, address, Some(&cookie), &encoded(&fields, "preview")).await;
    let json: serde_json::Value = serde_json::from_str(&plain.body).unwrap();
    assert!(json["html"].as_str().unwrap().contains("Mild bruising, utilise ice"));
    assert!(!json["html"].as_str().unwrap().contains("<mark"));
    // The no-JavaScript preview: the editor page again, the preview in it.
    let page = send_with(&app, Method::POST, SAFETY_EDITOR, Some(&cookie), &encoded(&fields, "preview")).await;
    assert_eq!(page.status, StatusCode::OK);
    let frame = select(&page.html(), "#preview-frame")[0].value().attr("srcdoc").unwrap().to_string();
    assert!(frame.contains("Mild bruising, utilise ice") && frame.starts_with("<!doctype html>"));
    assert_eq!(std::fs::read_to_string(content.path().join(SAFETY)).unwrap(), before, "a preview saves nothing");
    // A moderator may not edit or preview.
    let moderator = add_staff(&app, "mo", &[Role::Moderator]);
    let (theirs, csrf) = crate::staff::session_for(&app, &moderator);
    let mut sent = fields.clone();
    set(&mut sent, "csrf", &csrf);
    for (method, path) in [(Method::GET, SAFETY_EDITOR), (Method::POST, SAFETY_EDITOR), (Method::POST, address)] {
        let answer = send_with(&app, method.clone(), path, Some(&theirs), &encoded(&sent, "save")).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{method} {path}");
    }
}

#[tokio::test]
async fn a_new_web_address_keeps_the_old_one_leading_to_the_page() {
    let (app, content, cookie, _) = editor_app();
    let state = &app.state;
    let _watcher =
        clinic_site::watch::spawn(&state.config, state.site.clone(), state.comments.clone(), state.workspace.clone())
            .unwrap();
    // Onto another page's address: refused, with the reason, nothing saved.
    let before = std::fs::read_to_string(content.path().join(SAFETY)).unwrap();
    let mut fields = open_editor(&app, &cookie, SAFETY_EDITOR).await;
    set(&mut fields, "slug", "migraines");
    let refused = send_with(&app, Method::POST, SAFETY_EDITOR, Some(&cookie), &encoded(&fields, "save")).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = refused.html();
    let mistake = select(&html, "[role='alert'] li a")[0];
    assert_eq!(mistake.value().attr("href"), Some("#field-slug"));
    assert!(collapse(&mistake.text().collect::<String>()).contains("/dry-needling/migraines/"), "names the clash");
    assert_eq!(std::fs::read_to_string(content.path().join(SAFETY)).unwrap(), before);

    set(&mut fields, "slug", "is-it-safe");
    let saved = send_with(&app, Method::POST, SAFETY_EDITOR, Some(&cookie), &encoded(&fields, "save")).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let file = std::fs::read_to_string(content.path().join(SAFETY)).unwrap();
    assert!(file.contains("slug = \"is-it-safe\"") && file.contains("aliases = [\"/dry-needling/safety/\"]"), "{file}");
    assert_eq!(get(&app, "/dry-needling/is-it-safe/").await.status, StatusCode::OK);
    let old = get(&app, "/dry-needling/safety/").await;
    assert!(old.status.is_redirection(), "{}", old.status);
    assert_eq!(old.header("location"), "/dry-needling/is-it-safe/");
}
