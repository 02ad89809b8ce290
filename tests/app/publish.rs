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
    std::fs::write(&page, format!("{text}\n![A chart of pain scores over six weeks](/static/chart.png)\n"))
        .expect("page saved");
    let static_dir = copy_static();
    std::fs::write(static_dir.path().join("chart.png"), "PNG bytes would go here; only the name matters")
        .expect("image saved");
    (content, static_dir)
}

fn app_on(content: &tempfile::TempDir, static_dir: &tempfile::TempDir) -> TestApp {
    let folders = Folders { content: content.path().to_path_buf(), static_dir: static_dir.path().to_path_buf() };
    TestApp::with_config(|data| Config { folders, ..Config::for_test(data) })
}

async fn approve(app: &TestApp, text: &str) {
    let comment = NewComment {
        page: PAGE.into(),
        name: DisplayName::parse("Sam").unwrap(),
        text: CommentText::parse(text).unwrap(),
        flags: Vec::new(),
    };
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
    let state = &app.state;
    let _watcher =
        clinic_site::watch::spawn(&state.config, state.site.clone(), state.comments.clone(), state.workspace.clone())
            .unwrap();
    assert_eq!(get(&app, "/static/chart.png").await.status, 200);

    std::fs::remove_file(static_dir.path().join("chart.png")).unwrap();
    approve(&app, "The chart made it clear.").await;
    assert!(get(&app, PAGE).await.body.contains("The chart made it clear."), "the approved comment is not on the page");

    let reported = wait_until(20, || {
        app.state
            .site
            .error()
            .is_some_and(|e| e.0.iter().any(|p| p.message == "/static/chart.png is not in the static folder"))
    });
    assert!(reported, "the deleted image was never reported: {:?}", app.state.site.error());
    // The last good site keeps serving, image and comment included, and a
    // later approval still publishes.
    assert_eq!(get(&app, "/static/chart.png").await.status, 200);
    approve(&app, "Second comment, after the error.").await;
    let page = get(&app, PAGE).await.body;
    assert!(page.contains("The chart made it clear.") && page.contains("Second comment, after the error."), "{page}");
}

fn approved(id: i64, page: &str, body: &str) -> clinic_site::comments::Comment {
    clinic_site::comments::Comment {
        id,
        page: page.into(),
        name: "Sam".into(),
        body: body.into(),
        created_at: 1_764_000_000 + id,
        status: Status::Approved,
        reply: None,
        flagged: false,
        flags: Vec::new(),
    }
}

/// Approving publishes, from memory alone (the folders are gone before it
/// runs), exactly what a whole build with the same comments would, and
/// keeps every other page's prepared body.
#[test]
fn an_approval_publishes_from_memory_what_a_whole_build_would() {
    use std::sync::Arc;
    use std::time::{Duration, UNIX_EPOCH};

    use clinic_site::site::{Site, SiteOptions};

    let (content, static_dir) = site_with_an_image();
    let options = SiteOptions::public(static_dir.path());
    let site = Site::load(content.path(), &options, &[]).unwrap();
    let comments = [approved(1, PAGE, "First."), approved(2, "/guide/second/", "Second.")];
    let whole = Site::load(content.path(), &options, &comments[..1]).unwrap();
    drop((content, static_dir));

    let at = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    let next = site.with_comments(&comments[..1], at).expect("a page changed");
    assert_eq!(next.built_at, at, "the time is the caller's");
    assert_eq!(next.paths(), whole.paths());
    for path in site.paths() {
        assert_eq!(
            next.prepare_page(path).unwrap().identity,
            whole.prepare_page(path).unwrap().identity,
            "{path} differs from a whole build"
        );
        // Bodies that did not change are the same body, not a copy.
        let kept = Arc::ptr_eq(next.prepare_page(path).unwrap(), site.prepare_page(path).unwrap());
        assert_eq!(kept, path != PAGE, "{path}");
    }
    assert!(
        next.with_comments(&comments[..1], at + Duration::from_secs(60)).is_none(),
        "nothing changed, nothing to publish"
    );
    let pending = clinic_site::comments::Comment { status: Status::Pending, ..approved(3, PAGE, "Waiting.") };
    assert!(next.with_comments(&[comments[0].clone(), pending], at).is_none(), "a pending comment changes no page");

    let both = next.with_comments(&comments, at).expect("the second page changed");
    assert!(String::from_utf8_lossy(&both.page("/guide/second/").unwrap().identity).contains("Second."));
    assert!(both.card("/og/guide/first.png").is_some(), "cards are drawn from memory too");
    assert!(both.assets.get("/static/chart.png").is_some(), "static files are kept from the read");
}
