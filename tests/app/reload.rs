//! Live reload against a real server process: edits show up without a
//! restart, and a broken edit never takes the site down.

use axum::http::StatusCode;
use clinic_site::config::Config;

use crate::helpers::*;

#[test]
fn edits_go_live_and_broken_edits_keep_the_last_good_site() {
    let content = copy_fixture("valid");
    let dir = content.path().to_str().expect("UTF-8 path");
    let server = Server::start(&["serve", "--content", dir]);
    let page = content.path().join("guide/first.md");
    let original = std::fs::read_to_string(&page).expect("fixture page");

    // A good edit is served without a restart.
    std::fs::write(&page, original.replace("Back to", "Return to")).expect("edit saved");
    assert!(
        wait_until(20, || body(server.get("/guide/first/")).contains("Return to")),
        "the edit was never served; log:\n{}",
        server.log.lock().unwrap()
    );
    assert_eq!(body(server.get("/healthz")), "ok\n");

    // A broken edit: the last good page keeps serving, /healthz says what
    // kind of problem (and no more: it is public) and the log says where.
    std::fs::write(&page, original.replace("title = \"First Part\"\n", "").replace("Back to", "Broken to"))
        .expect("edit saved");
    assert!(
        wait_until(20, || body(server.get("/healthz")).contains("content error")),
        "healthz never reported the error"
    );
    let health = server.get("/healthz");
    assert_eq!(health.0, 200, "liveness stays 200");
    assert_eq!(
        body(health),
        "content error: the newest edit is not published; the last good version is being served\n"
    );
    // The log line follows the swap by a moment.
    assert!(
        wait_until(5, || server
            .log
            .lock()
            .unwrap()
            .contains("guide/first.md:5:1: error: front matter: missing required key \"title\"")),
        "the log has the details"
    );
    let (status, page_body) = server.get("/guide/first/");
    assert_eq!(status, 200);
    let page_body = String::from_utf8(page_body).unwrap();
    assert!(
        page_body.contains("Return to") && !page_body.contains("Broken to"),
        "the last good version should still be served"
    );
    assert!(server.log.lock().unwrap().contains("the last good version is still being served"));

    // Fixing it recovers.
    std::fs::write(&page, original.replace("Back to", "Fixed, back to")).expect("edit saved");
    assert!(wait_until(20, || body(server.get("/guide/first/")).contains("Fixed, back to")), "never recovered");
    assert_eq!(body(server.get("/healthz")), "ok\n");
}

#[test]
fn a_new_page_appears_in_the_navigation_without_a_restart() {
    let content = copy_fixture("valid");
    let server = Server::start(&["--content", content.path().to_str().unwrap()]);
    assert_eq!(server.get("/guide/third/").0, 404);
    std::fs::write(
        content.path().join("guide/third.md"),
        "+++\ntitle = \"Third Part\"\ndescription = \"A part added while the server was running.\"\nweight = 5\nupdated = 2026-01-15\n+++\n\nNew text.\n",
    )
    .unwrap();
    assert!(wait_until(20, || server.get("/guide/third/").0 == 200), "the new page never appeared");
    assert!(body(server.get("/guide/")).contains("href=\"/guide/third/\""));
}

#[tokio::test]
async fn drafts_are_shown_only_in_preview_mode() {
    let public = fixture_app("valid");
    assert_eq!(get(&public, "/guide/hidden/").await.status, StatusCode::NOT_FOUND);
    let index = get(&public, "/guide/").await.body;
    assert!(!index.contains("/guide/hidden/"), "a draft is in the public navigation");
    assert!(!index.contains("dev-reload"));
    assert!(!get(&public, "/sitemap.xml").await.body.contains("hidden"));
    assert_eq!(get(&public, "/_dev/events").await.status, StatusCode::NOT_FOUND, "no dev endpoint without --dev");

    let preview = TestApp::with_config(|data| Config { dev: true, ..fixture_config_in("valid", data) });
    let draft = get(&preview, "/guide/hidden/").await;
    assert_eq!(draft.status, StatusCode::OK);
    assert!(text_of(&draft.html(), ".draft-banner").starts_with("Draft:"));
    let scripts: Vec<String> =
        select(&draft.html(), "script[src]").iter().map(|s| s.value().attr("src").unwrap().to_string()).collect();
    assert!(scripts.iter().any(|s| s.starts_with("/static/dev-reload.") && s.ends_with(".js")), "{scripts:?}");
    assert!(get(&preview, "/guide/").await.body.contains("href=\"/guide/hidden/\""));
    assert!(
        !text_of(&get(&preview, "/guide/first/").await.html(), "main").contains("Draft:"),
        "only drafts are marked"
    );
}

#[test]
fn preview_mode_shows_content_errors_in_the_browser_and_reloads() {
    let content = copy_fixture("valid");
    let server = Server::start(&["serve", "--dev", "--content", content.path().to_str().unwrap()]);
    let page = content.path().join("guide/first.md");
    let original = std::fs::read_to_string(&page).unwrap();
    std::fs::write(&page, original.replace("weight = 1", "weight = \"one\"")).unwrap();
    assert!(wait_until(20, || server.get("/guide/").0 == 500), "the error page never showed");
    let (_, html) = server.get("/guide/second/");
    let html = String::from_utf8(html).unwrap();
    assert!(html.contains("guide/first.md:4:10"), "{html}");
    assert!(html.contains("&#34;weight&#34; has the wrong kind of value"), "{html}");
    assert!(html.contains("<code>weight = &#34;one&#34;</code>"), "the offending line is shown: {html}");
    assert!(html.contains("How to fix it:</strong> write it like weight = 2"), "the hint is shown: {html}");
    assert!(html.contains("<script src=\"/static/dev-reload."), "the error page reloads itself once fixed");
    std::fs::write(&page, original).unwrap();
    assert!(wait_until(20, || server.get("/guide/").0 == 200), "never recovered");
}

#[test]
fn nothing_is_rebuilt_while_nothing_changes() {
    let content = copy_fixture("valid");
    let server = Server::start(&["serve", "--dev", "--content", content.path().to_str().unwrap()]);
    // Reading pages reads no content files, but the watcher also hears the
    // rebuild's own reads; neither may cause a rebuild.
    for _ in 0..5 {
        assert_eq!(server.get("/guide/first/").0, 200);
    }
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let log = server.log.lock().unwrap().clone();
    assert!(!log.contains("content changed"), "rebuilt with no change:\n{log}");
    // Saving new text is one change and one rebuild.
    std::fs::write(
        content.path().join("guide/first.md"),
        std::fs::read_to_string(content.path().join("guide/first.md")).unwrap().replace("Back to", "On to"),
    )
    .unwrap();
    assert!(
        wait_until(20, || server.log.lock().unwrap().matches("content changed").count() == 1),
        "one save, one rebuild"
    );
    std::thread::sleep(std::time::Duration::from_millis(1000));
    assert_eq!(server.log.lock().unwrap().matches("content changed").count(), 1, "and no more after it");
}

#[test]
fn a_content_folder_removed_and_restored_is_watched_again() {
    let content = copy_fixture("valid");
    let server = Server::start(&["serve", "--content", content.path().to_str().unwrap()]);
    std::fs::remove_dir_all(content.path()).unwrap();
    let log = || server.log.lock().unwrap().clone();
    assert!(
        wait_until(20, || log().contains("is missing, so edits are not being picked up")),
        "the lost watch was never reported:\n{}",
        log()
    );
    assert_eq!(server.get("/guide/first/").0, 200, "the last good site keeps serving");

    restore_fixture("valid", content.path());
    assert!(
        wait_until(20, || body(server.get("/healthz")) == "ok\n"),
        "the restored folder was never published:\n{}",
        log()
    );
    assert!(log().contains("for changes again"), "{}", log());
    let page = content.path().join("guide/first.md");
    std::fs::write(&page, std::fs::read_to_string(&page).unwrap().replace("Back to", "Restored, back to")).unwrap();
    assert!(
        wait_until(20, || body(server.get("/guide/first/")).contains("Restored, back to")),
        "an edit after the restore was never served:\n{}",
        log()
    );
}

#[test]
fn a_changed_stylesheet_is_served_under_its_new_name_and_pages_link_it() {
    let (content, static_dir) = (copy_fixture("valid"), copy_static());
    let server = Server::serving(content.path(), static_dir.path());
    let before = stylesheet(&body(server.get("/guide/")));
    assert!(before.starts_with("/static/site."), "{before}");
    let css = static_dir.path().join("site.css");
    std::fs::write(&css, std::fs::read_to_string(&css).unwrap() + "\n.watched-marker { color: navy }\n").unwrap();
    assert!(
        wait_until(20, || stylesheet(&body(server.get("/guide/"))) != before),
        "the new stylesheet was never linked:\n{}",
        server.log.lock().unwrap()
    );
    let after = stylesheet(&body(server.get("/guide/first/")));
    assert_ne!(after, before);
    assert!(body(server.get(&after)).contains(".watched-marker"));
    assert!(body(server.get("/static/site.css")).contains(".watched-marker"));
}

#[test]
fn an_image_deleted_from_the_static_folder_is_a_content_error_that_keeps_the_last_good_site() {
    let (content, static_dir) = (copy_fixture("valid"), copy_static());
    let page = content.path().join("guide/first.md");
    std::fs::write(
        &page,
        std::fs::read_to_string(&page).unwrap() + "\n![A chart of pain scores over six weeks](/static/chart.png)\n",
    )
    .unwrap();
    std::fs::write(static_dir.path().join("chart.png"), "PNG bytes").unwrap();
    let server = Server::serving(content.path(), static_dir.path());
    assert_eq!(server.get("/static/chart.png").0, 200);

    std::fs::remove_file(static_dir.path().join("chart.png")).unwrap();
    assert!(
        wait_until(20, || body(server.get("/healthz")).contains("content error")),
        "the deleted image was never reported"
    );
    // Logged in the check format: location, the line, the hint. The log
    // reaches the test through the server's log thread and a pipe, so it
    // may arrive a moment after `/healthz` changed.
    let expected = "guide/first.md:10:1: error: /static/chart.png is not in the static folder\n   10 | ![A chart of pain scores over six weeks](/static/chart.png)\n      = hint: put the file in";
    assert!(wait_until(20, || server.log.lock().unwrap().contains(expected)), "{}", server.log.lock().unwrap());
    assert_eq!(server.get("/guide/first/").0, 200);
    assert_eq!(server.get("/static/chart.png").0, 200, "the last good site keeps its image");

    std::fs::write(static_dir.path().join("chart.png"), "PNG bytes, again").unwrap();
    assert!(wait_until(20, || body(server.get("/healthz")) == "ok\n"), "putting the image back never recovered");
}

/// In-process, to see what the handle records for `/healthz`.
#[test]
fn the_watcher_says_while_it_cannot_watch_and_follows_a_folder_replaced_by_a_new_copy() {
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("content");
    restore_fixture("valid", &dir);
    let app = TestApp::with_config(|data| Config::for_test(data).with_content(&dir));
    let site = app.state.site.clone();
    let _watcher = clinic_site::watch::spawn(
        &app.state.config,
        site.clone(),
        app.state.comments.clone(),
        app.state.workspace.clone(),
    )
    .unwrap();
    assert!(site.watcher_problem().is_none());
    let first_part = |site: &clinic_site::site::SiteHandle| {
        String::from_utf8_lossy(&site.load().page("/guide/first/").unwrap().identity).into_owned()
    };

    std::fs::remove_dir_all(&dir).unwrap();
    assert!(
        wait_until(20, || site
            .watcher_problem()
            .is_some_and(|p| p.contains("content folder") && p.contains("is missing"))),
        "{:?}",
        site.watcher_problem()
    );
    restore_fixture("valid", &dir);
    assert!(
        wait_until(20, || site.watcher_problem().is_none() && site.error().is_none()),
        "{:?} {:?}",
        site.watcher_problem(),
        site.error()
    );

    // A new copy renamed over the old one, as a deploy might do it.
    let fresh = parent.path().join("content.new");
    restore_fixture("valid", &fresh);
    let page = fresh.join("guide/first.md");
    std::fs::write(&page, std::fs::read_to_string(&page).unwrap().replace("Back to", "New copy, back to")).unwrap();
    std::fs::rename(&dir, parent.path().join("content.old")).unwrap();
    std::fs::rename(&fresh, &dir).unwrap();
    assert!(wait_until(20, || first_part(&site).contains("New copy, back to")), "the new copy was never published");
    let page = dir.join("guide/first.md");
    std::fs::write(&page, std::fs::read_to_string(&page).unwrap().replace("New copy, back to", "Edited copy, back to"))
        .unwrap();
    assert!(
        wait_until(20, || first_part(&site).contains("Edited copy, back to")),
        "an edit to the new copy was never published"
    );
    assert!(site.watcher_problem().is_none());
}
