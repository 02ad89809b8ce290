//! The editing workspace's core on a copy of a content folder: saves,
//! conflicts, history, outside edits and what a crash leaves.

use std::path::Path;
use std::sync::{Arc, Barrier};

use clinic_site::auth::activity::Filter;
use clinic_site::auth::{Actor, Kind, Role};
use clinic_site::config::Config;
use clinic_site::http::AppState;
use clinic_site::workspace::{Document, RevisionKind, SaveError, content_hash};

use crate::admin::{add_staff, now};
use crate::helpers::*;

const PAGE: &str = "guide/first.md";

/// The app on a copy of the valid fixture, which the tests may change.
fn workspace_app() -> (TestApp, tempfile::TempDir) {
    let content = copy_fixture("valid");
    let app = TestApp::with_config(|data| Config::for_test(data).with_content(content.path()));
    (app, content)
}

fn activity(app: &TestApp, kind: Kind) -> Vec<clinic_site::auth::activity::Entry> {
    app.state.staff.activity(&Filter { kind: Some(kind), ..Filter::default() }, 100).unwrap()
}

#[test]
fn every_page_opens_as_a_document_and_writes_back_byte_for_byte() {
    let app = real_app();
    let pages = app.state.workspace.pages();
    assert!(pages.len() >= 7, "{pages:?}");
    for page in pages {
        let (text, hash) = app.state.workspace.current(&page).unwrap();
        assert_eq!(hash, content_hash(&text));
        let doc = Document::parse(&text).unwrap_or_else(|e| panic!("{page}: {e}"));
        assert!(doc.to_text() == text, "{page} changed on a round trip");
    }
}

#[test]
fn start_up_records_every_page_once() {
    let (app, _content) = workspace_app();
    let pages = app.state.workspace.pages();
    assert_eq!(pages, ["guide/first.md", "guide/hidden.md", "guide/index.md", "guide/second.md"]);
    for page in &pages {
        let history = app.state.workspace.history(page).unwrap();
        assert_eq!(history.len(), 1, "{page}");
        assert_eq!((history[0].kind, history[0].author.as_str()), (RevisionKind::Outside, "outside the workspace"));
    }
    assert_eq!(app.state.workspace.record_outside_edits(now()).unwrap(), 0);
    assert!(activity(&app, Kind::PageEditedOutside).is_empty(), "a history starting is not an edit");
}

#[test]
fn a_save_writes_the_page_with_a_revision_and_an_activity_line_naming_the_person() {
    let (app, content) = workspace_app();
    let jane = add_staff(&app, "jane", &[Role::Editor]);
    let (text, base) = app.state.workspace.current(PAGE).unwrap();
    let mut doc = Document::parse(&text).unwrap();
    doc.set_title("The First Part");
    let saved =
        app.state.workspace.save(PAGE, &doc.to_text(), &base, &Actor::person(&jane), "New title", now()).unwrap();

    assert_eq!(std::fs::read_to_string(content.path().join(PAGE)).unwrap(), doc.to_text());
    let history = app.state.workspace.history(PAGE).unwrap();
    assert_eq!(history[0].id, saved.revision.unwrap());
    assert_eq!(
        (history[0].kind, history[0].account_id, history[0].author.as_str(), history[0].message.as_str()),
        (RevisionKind::Save, Some(jane.id), "Jane Smith (jane)", "New title")
    );
    assert_eq!(history[0].hash, saved.hash);
    let lines = activity(&app, Kind::PageSaved);
    assert_eq!(lines.len(), 1);
    assert_eq!((lines[0].account_id, lines[0].subject.as_str()), (Some(jane.id), "page guide/first.md"));
    // The save is what the history ends with, so the next look finds no
    // outside edit.
    assert_eq!(app.state.workspace.record_outside_edit(PAGE, now()).unwrap(), None);
}

#[test]
fn a_save_from_a_stale_version_is_a_conflict_and_keeps_the_text_as_a_draft() {
    let (app, content) = workspace_app();
    let jane = add_staff(&app, "jane", &[Role::Editor]);
    let (text, base) = app.state.workspace.current(PAGE).unwrap();
    let theirs = text.replace("+++\n\n", "+++\n\nSomeone else's line.\n\n");
    assert_ne!(theirs, text);
    std::fs::write(content.path().join(PAGE), &theirs).unwrap();

    let mine = format!("{text}\nMy new paragraph.\n");
    let error = app.state.workspace.save(PAGE, &mine, &base, &Actor::person(&jane), "", now()).unwrap_err();
    let SaveError::Conflict { current_text, current_hash } = error else { panic!("{error:?}") };
    assert_eq!((current_text.as_str(), current_hash), (theirs.as_str(), content_hash(&theirs)));
    assert_eq!(std::fs::read_to_string(content.path().join(PAGE)).unwrap(), theirs);
    let draft = &app.state.workspace.history(PAGE).unwrap()[0];
    assert_eq!((draft.kind, draft.account_id), (RevisionKind::Draft, Some(jane.id)));
    assert_eq!(app.state.workspace.revision(draft.id).unwrap().unwrap().text, mine);
    assert_eq!(activity(&app, Kind::PageDraftSaved).len(), 1);
}

#[test]
fn of_two_saves_from_the_same_version_at_once_exactly_one_wins() {
    let (app, content) = workspace_app();
    let people = [add_staff(&app, "jane", &[Role::Editor]), add_staff(&app, "omar", &[Role::Editor])];
    let (text, base) = app.state.workspace.current(PAGE).unwrap();
    let barrier = Arc::new(Barrier::new(2));
    let results: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = people
            .iter()
            .map(|person| {
                let (workspace, barrier, text, base) = (app.state.workspace.clone(), barrier.clone(), &text, &base);
                scope.spawn(move || {
                    let mine = format!("{text}\nWritten by {}.\n", person.username);
                    barrier.wait();
                    (mine.clone(), workspace.save(PAGE, &mine, base, &Actor::person(person), "", now()))
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let winners: Vec<_> = results.iter().filter(|(_, result)| result.is_ok()).collect();
    assert_eq!(winners.len(), 1, "{results:?}");
    assert!(results.iter().any(|(_, result)| matches!(result, Err(SaveError::Conflict { .. }))), "{results:?}");
    assert_eq!(std::fs::read_to_string(content.path().join(PAGE)).unwrap(), winners[0].0);
    let kinds: Vec<_> = app.state.workspace.history(PAGE).unwrap().iter().map(|r| r.kind).collect();
    assert_eq!(kinds.iter().filter(|k| **k == RevisionKind::Save).count(), 1, "{kinds:?}");
    assert_eq!(kinds.iter().filter(|k| **k == RevisionKind::Draft).count(), 1, "{kinds:?}");
}

#[test]
fn an_edit_outside_the_workspace_is_recorded_once_by_the_watcher() {
    let (app, content) = workspace_app();
    let state = &app.state;
    let _watcher =
        clinic_site::watch::spawn(&state.config, state.site.clone(), state.comments.clone(), state.workspace.clone())
            .unwrap();
    let path = content.path().join(PAGE);
    let edited = std::fs::read_to_string(&path).unwrap().replace("+++\n\n", "+++\n\nEdited on the server.\n\n");
    std::fs::write(&path, &edited).unwrap();
    let hash = content_hash(&edited);
    let recorded = || state.workspace.history(PAGE).unwrap().iter().filter(|r| r.hash == hash).count();
    assert!(wait_until(20, || recorded() > 0), "the outside edit was never recorded");
    // Touch it again with the same text: still one revision for it.
    std::fs::write(&path, &edited).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert_eq!(recorded(), 1);
    assert_eq!(state.workspace.record_outside_edit(PAGE, now()).unwrap(), None);
    let newest = &state.workspace.history(PAGE).unwrap()[0];
    assert_eq!((newest.kind, newest.account_id), (RevisionKind::Outside, None));
    // One line: the start-up's look at the pages was where their history
    // began, which nobody did.
    let lines = activity(&app, Kind::PageEditedOutside);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!((lines[0].actor.as_str(), lines[0].subject.as_str()), ("outside the workspace", "page guide/first.md"));
}

#[test]
fn restoring_writes_an_old_text_as_a_new_revision() {
    let (app, content) = workspace_app();
    let jane = add_staff(&app, "jane", &[Role::Editor]);
    let by = Actor::person(&jane);
    let original = app.state.workspace.history(PAGE).unwrap()[0].clone();
    let (text, base) = app.state.workspace.current(PAGE).unwrap();
    let saved = app.state.workspace.save(PAGE, &format!("{text}\nMore.\n"), &base, &by, "", now()).unwrap();

    let restored = app.state.workspace.restore(PAGE, original.id, &saved.hash, &by, now()).unwrap();
    assert_eq!(std::fs::read_to_string(content.path().join(PAGE)).unwrap(), text);
    let history = app.state.workspace.history(PAGE).unwrap();
    let kinds: Vec<_> = history.iter().map(|r| r.kind).collect();
    assert_eq!(kinds, [RevisionKind::Restore, RevisionKind::Save, RevisionKind::Outside]);
    assert_eq!((history[0].id, history[0].hash.as_str()), (restored.revision.unwrap(), original.hash.as_str()));
    assert_eq!(activity(&app, Kind::PageRestored).len(), 1);
    // A revision of another page is not this page's to restore.
    let other = app.state.workspace.history("guide/second.md").unwrap()[0].id;
    let error = app.state.workspace.restore(PAGE, other, &restored.hash, &by, now()).unwrap_err();
    assert!(matches!(error, SaveError::NoSuchRevision { .. }), "{error:?}");
}

#[test]
fn a_page_over_256_kib_is_refused() {
    let (app, content) = workspace_app();
    let jane = add_staff(&app, "jane", &[Role::Editor]);
    let (text, base) = app.state.workspace.current(PAGE).unwrap();
    let huge = format!("{text}{}", "x".repeat(300 * 1024));
    let error = app.state.workspace.save(PAGE, &huge, &base, &Actor::person(&jane), "", now()).unwrap_err();
    assert!(matches!(error, SaveError::TooLarge { .. }), "{error:?}");
    assert!(error.to_string().contains("split it into sections"), "{error}");
    assert_eq!(std::fs::read_to_string(content.path().join(PAGE)).unwrap(), text);
}

#[test]
fn paths_out_of_the_content_folder_are_refused() {
    let (app, _content) = workspace_app();
    let jane = add_staff(&app, "jane", &[Role::Editor]);
    for path in ["../etc/passwd", "/etc/passwd", "guide/../../secret.md", "site.toml"] {
        let error = app.state.workspace.save(path, "x", "", &Actor::person(&jane), "", now()).unwrap_err();
        assert!(matches!(error, SaveError::BadPath { .. }), "{path}: {error:?}");
        assert!(app.state.workspace.current(path).is_err(), "{path}");
    }
    assert!(!Path::new("/etc/passwd.md").exists());
}

/// Where the crash test's child process works; set only for the child.
const CRASH_DIR: &str = "CLINIC_SITE_CRASH_TEST_DIR";

/// The process the crash test kills part way through its saves: the test
/// binary run again on that one test, with [`CRASH_DIR`] set. It saves
/// two long texts in turn until killed.
fn save_until_killed(dir: &Path) -> ! {
    let state = AppState::load(Config::for_test(&dir.join("data")).with_content(&dir.join("content"))).unwrap();
    let by = Actor::command_line();
    let texts = crash_texts();
    for round in 0.. {
        let (_, base) = state.workspace.current(PAGE).unwrap();
        state.workspace.save(PAGE, &texts[round % 2], &base, &by, "", now()).unwrap();
        if round == 3 {
            std::fs::write(dir.join("ready"), "").unwrap();
        }
    }
    unreachable!("saves until killed")
}

/// Two versions of the page, long enough that a write takes a while.
fn crash_texts() -> [String; 2] {
    let text = std::fs::read_to_string(Path::new("tests/fixtures/valid").join(PAGE)).unwrap();
    ["a", "b"].map(|word| format!("{text}\n{}\n", format!("{word} ").repeat(100_000)))
}

/// A process killed (SIGKILL) while saving leaves the page as one version
/// whole, never a mix or a truncated file, and its history still ends with
/// that version once the server starts again.
#[cfg(unix)]
#[test]
fn a_save_killed_part_way_leaves_one_whole_version_and_a_history_that_accounts_for_it() {
    if let Some(dir) = std::env::var_os(CRASH_DIR) {
        save_until_killed(Path::new(&dir));
    }
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path();
    let copied =
        std::process::Command::new("cp").arg("-r").arg("tests/fixtures/valid").arg(work.join("content")).status();
    assert!(copied.unwrap().success());
    let texts = crash_texts();
    for _ in 0..3 {
        let _ = std::fs::remove_file(work.join("ready"));
        let mut child = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "workspace::a_save_killed_part_way_leaves_one_whole_version_and_a_history_that_accounts_for_it",
                "--exact",
                "--quiet",
            ])
            .env(CRASH_DIR, work)
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let ready = wait_until(60, || work.join("ready").exists());
        if ready {
            std::thread::sleep(std::time::Duration::from_millis(37));
        }
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(ready, "the child never got saving");

        let page = std::fs::read_to_string(work.join("content").join(PAGE)).unwrap();
        assert!(page == texts[0] || page == texts[1], "the page is neither version whole ({} bytes)", page.len());
        // Starting again loads the site (a temporary file left behind is
        // not content) and records the page if its save was not.
        let state = AppState::load(Config::for_test(&work.join("data")).with_content(&work.join("content"))).unwrap();
        let newest =
            state.workspace.history(PAGE).unwrap().into_iter().find(|r| r.kind != RevisionKind::Draft).unwrap();
        assert_eq!(newest.hash, content_hash(&page));
    }
}

/// A page's text with one sentence changed.
fn with_sentence(text: &str, sentence: &str) -> String {
    format!("{}\n{sentence}\n", text.trim_end())
}

#[tokio::test]
async fn an_editor_sees_every_page_and_puts_an_earlier_version_back_from_its_history() {
    use axum::http::{Method, StatusCode};
    let (app, content) = workspace_app();
    let editor = add_staff(&app, "ed", &[Role::Editor]);
    let (cookie, csrf) = crate::staff::session_for(&app, &editor);
    let (original, base) = app.state.workspace.current(PAGE).unwrap();
    let changed = with_sentence(&original, "A sentence added by mistake.");
    let by = Actor::person(&editor);
    app.state.workspace.save(PAGE, &changed, &base, &by, "a mistake", now()).unwrap();

    let list = crate::admin::send_with(&app, Method::GET, "/admin/pages", Some(&cookie), "").await;
    assert_eq!(list.status, StatusCode::OK);
    let html = list.html();
    let rows: Vec<String> = select(&html, ".admin-table tbody tr").iter().map(|r| r.text().collect()).collect();
    assert_eq!(rows.len(), app.state.workspace.pages().len(), "every page: {rows:?}");
    let first = rows.iter().find(|r| r.contains(PAGE)).unwrap();
    assert!(first.contains("Ed Smith (ed)"), "last edited by: {first}");
    assert!(first.contains("Live"), "{first}");

    let history = "/admin/pages/guide/first/history";
    let page = crate::admin::send_with(&app, Method::GET, history, Some(&cookie), "").await;
    assert_eq!(page.status, StatusCode::OK);
    let versions = app.state.workspace.history(PAGE).unwrap();
    assert_eq!(select(&page.html(), ".admin-table tbody tr").len(), versions.len());
    let (newest, older) = (versions[0].id, versions[1].id);
    let compared =
        crate::admin::send_with(&app, Method::GET, &format!("{history}?from={older}&to={newest}"), Some(&cookie), "")
            .await;
    let html = compared.html();
    assert_eq!(text_of(&html, ".word-diff ins"), "[added: A sentence added by mistake. ]", "{}", compared.body);
    assert!(select(&html, ".word-diff del").is_empty());

    // Putting the older version back, from the page as it was when listed.
    let (_, current) = app.state.workspace.current(PAGE).unwrap();
    let form = format!("csrf={csrf}&base={current}");
    let restore = format!("/admin/pages/guide/first/restore/{older}");
    let stale =
        crate::admin::send_with(&app, Method::POST, &restore, Some(&cookie), &format!("csrf={csrf}&base={base}")).await;
    assert_eq!(stale.status, StatusCode::CONFLICT, "from a history that is out of date");
    assert!(text_of(&stale.html(), "[role='alert']").contains("nothing was restored"));
    let restored = crate::admin::send_with(&app, Method::POST, &restore, Some(&cookie), &form).await;
    assert_eq!(
        (restored.status, restored.header("location")),
        (StatusCode::SEE_OTHER, "/admin/pages/guide/first/history?done=restored")
    );
    assert_eq!(std::fs::read_to_string(content.path().join(PAGE)).unwrap(), original);
    let kinds: Vec<RevisionKind> = app.state.workspace.history(PAGE).unwrap().iter().map(|r| r.kind).collect();
    assert_eq!(kinds[0], RevisionKind::Restore, "a new version; nothing rewritten: {kinds:?}");
    assert_eq!(activity(&app, Kind::PageRestored)[0].actor, "Ed Smith (ed)");

    for bad in ["/admin/pages/guide/..%2Fsecret/history", "/admin/pages/guide/nope/history"] {
        let response = crate::admin::send_with(&app, Method::GET, bad, Some(&cookie), "").await;
        assert!(
            matches!(response.status, StatusCode::NOT_FOUND | StatusCode::BAD_REQUEST),
            "{bad}: {}",
            response.status
        );
    }
    let moderator = add_staff(&app, "mo", &[Role::Moderator]);
    let (theirs, _) = crate::staff::session_for(&app, &moderator);
    assert_eq!(
        crate::admin::send_with(&app, Method::GET, history, Some(&theirs), "").await.status,
        StatusCode::FORBIDDEN
    );
}
