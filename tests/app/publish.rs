//! Publishing a new version: approving a comment re-renders only the pages
//! it changes, from what was read when the content last changed, and never
//! reads the content or static folders again.

use clinic_site::comments::{CommentText, DisplayName, NewComment, Status};
use clinic_site::config::{Config, Folders};

use crate::helpers::*;

const PAGE: &str = "/guide/first/";

/// A copy of the `valid` fixture whose first part shows `/static/chart.png`,
/// and a copy of `static/` holding that image.
fn site_with_an_image() -> (tempfile::TempDir, tempfile::TempDir) {
    let content = copy_fixture("valid");
    let page = content.path().join("guide/first.md");
    let text = std::fs::read_to_string(&page).expect("fixture page");
    std::fs::write(&page, format!("{text}\n![A chart of pain scores over six weeks](/static/chart.png)\n")).expect("page saved");
    let static_dir = copy_static();
    std::fs::write(static_dir.path().join("chart.png"), "PNG bytes would go here; only the name matters").expect("image saved");
    (content, static_dir)
}

fn app_on(content: &tempfile::TempDir, static_dir: &tempfile::TempDir) -> TestApp {
    let folders = Folders { content: content.path().to_path_buf(), static_dir: static_dir.path().to_path_buf() };
    TestApp::with_config(|data| Config { folders, ..Config::for_test(data) })
}

async fn approve(app: &TestApp, text: &str) {
    let comment = NewComment { page: PAGE.into(), name: DisplayName::parse("Sam").unwrap(), text: CommentText::parse(text).unwrap(), flags: Vec::new() };
    let id = app.state.comments.insert(&comment, 1_764_000_000).unwrap();
    app.state.comments.set_status(id, Status::Approved).unwrap();
    clinic_site::http::publish_comments(&app.state).await;
}

/// The bug from issue 10: approving a comment rebuilt the whole site from
/// disk, so once an image a page uses was deleted every approval failed
/// (a panic inside `spawn_blocking`) and approved comments stopped
/// appearing. Now the approval publishes from memory, and the missing image
/// is the static watcher's business: a content error that keeps the last
/// good site.
#[tokio::test]
async fn a_comment_approved_after_an_image_is_deleted_is_published_and_the_image_is_reported() {
    let (content, static_dir) = site_with_an_image();
    let app = app_on(&content, &static_dir);
    let _watcher = clinic_site::watch::spawn(&app.state.config, app.state.site.clone(), app.state.comments.clone()).unwrap();
    assert_eq!(get(&app, "/static/chart.png").await.status, 200);

    std::fs::remove_file(static_dir.path().join("chart.png")).unwrap();
    approve(&app, "The chart made it clear.").await;
    assert!(get(&app, PAGE).await.body.contains("The chart made it clear."), "the approved comment is not on the page");

    let reported = wait_until(20, || app.state.site.error().is_some_and(|e| e.0.iter().any(|p| p.message == "/static/chart.png is not in the static folder")));
    assert!(reported, "the deleted image was never reported: {:?}", app.state.site.error());
    // The last good site keeps serving, image and comment included, and a
    // later approval still publishes.
    assert_eq!(get(&app, "/static/chart.png").await.status, 200);
    approve(&app, "Second comment, after the error.").await;
    let page = get(&app, PAGE).await.body;
    assert!(page.contains("The chart made it clear.") && page.contains("Second comment, after the error."), "{page}");
}
