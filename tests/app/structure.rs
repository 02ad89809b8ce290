//! Structure changes from the staff pages, on a copy of the valid fixture
//! with the watcher running: what readers find at the old addresses once
//! the live site has rebuilt, and what is refused, with the reason.

use axum::http::{Method, StatusCode};
use clinic_site::auth::activity::Filter;
use clinic_site::auth::{Kind, Role};
use clinic_site::config::Config;
use clinic_site::watch::Watcher;
use clinic_site::workspace::{Document, RevisionKind};

use crate::admin::{add_staff, send_with};
use crate::helpers::*;
use crate::staff::session_for;

/// The app on a copy of the valid fixture (the article `guide`: first,
/// second and a draft), with the watcher rebuilding the live site, and an
/// editor's cookie and CSRF token.
struct Setup {
    app: TestApp,
    content: tempfile::TempDir,
    _watcher: Watcher,
    cookie: String,
    csrf: String,
}

fn setup() -> Setup {
    let content = copy_fixture("valid");
    let app = TestApp::with_config(|data| Config::for_test(data).with_content(content.path()));
    let state = &app.state;
    let watcher =
        clinic_site::watch::spawn(&state.config, state.site.clone(), state.comments.clone(), state.workspace.clone())
            .unwrap();
    let editor = add_staff(&app, "ed", &[Role::Editor]);
    let (cookie, csrf) = session_for(&app, &editor);
    Setup { app, content, _watcher: watcher, cookie, csrf }
}

impl Setup {
    async fn get(&self, path: &str) -> TestResponse {
        send_with(&self.app, Method::GET, path, Some(&self.cookie), "").await
    }

    async fn post(&self, path: &str, form: &str) -> TestResponse {
        let form = format!("csrf={}&{form}", self.csrf);
        send_with(&self.app, Method::POST, path, Some(&self.cookie), &form).await
    }

    /// The `base` a form carries: the page as it was when the form was made.
    fn base_in(&self, response: &TestResponse) -> String {
        let html = response.html();
        let input = select(&html, "input[name='base']");
        assert_eq!(input.len(), 1, "{}", response.body);
        input[0].value().attr("value").unwrap().to_string()
    }

    /// Waits for the live site to rebuild until `path` answers `status`.
    async fn wait_for(&self, path: &str, status: StatusCode) -> TestResponse {
        for _ in 0..400 {
            let response = get(&self.app.router, path).await;
            if response.status == status {
                return response;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("{path} never answered {status}; the site's problem: {:?}", self.app.state.site.error());
    }

    fn error_text(&self, response: &TestResponse) -> String {
        text_of(&response.html(), "[role='alert']")
    }
}

fn activity(app: &TestApp, kind: Kind) -> usize {
    app.state.staff.activity(&Filter { kind: Some(kind), ..Filter::default() }, 100).unwrap().len()
}

#[tokio::test]
async fn a_renamed_page_keeps_its_old_address_which_redirects_to_the_new_one() {
    let s = setup();
    assert_eq!(get(&s.app.router, "/guide/first/").await.status, StatusCode::OK);
    let form = s.get("/admin/pages/guide/first/rename").await;
    assert_eq!(form.status, StatusCode::OK);
    assert_eq!(select(&form.html(), "input#slug")[0].value().attr("value"), Some("first"));
    assert!(select(&form.html(), "label[for='slug']").len() == 1, "the field has a label");
    let base = s.base_in(&form);

    let renamed = s.post("/admin/pages/guide/first/rename", &format!("slug=opening&base={base}")).await;
    assert_eq!(
        (renamed.status, renamed.header("location")),
        (StatusCode::SEE_OTHER, "/admin/pages/guide/first/rename?done=renamed")
    );
    let page = Document::parse(&std::fs::read_to_string(s.content.path().join("guide/first.md")).unwrap()).unwrap();
    assert_eq!((page.slug(), page.aliases()), (Some("opening"), vec!["/guide/first/".to_string()]));
    assert_eq!(activity(&s.app, Kind::PageRenamed), 1);

    let moved = s.wait_for("/guide/first/", StatusCode::MOVED_PERMANENTLY).await;
    assert_eq!(moved.header("location"), "/guide/opening/");
    assert_eq!(get(&s.app.router, "/guide/opening/").await.status, StatusCode::OK);
    let done = s.get("/admin/pages/guide/first/rename?done=renamed").await;
    assert!(text_of(&done.html(), "[role='status']").contains("old address still works"), "{}", done.body);
}

#[tokio::test]
async fn a_page_in_the_trash_sends_readers_to_the_front_page_until_it_is_brought_back() {
    let s = setup();
    let confirm = s.get("/admin/pages/guide/first/trash").await;
    assert_eq!(confirm.status, StatusCode::OK);
    let said = collapse(&text_of(&confirm.html(), "main"));
    assert!(said.contains("will send readers to the article's front page"), "{said}");
    assert!(said.contains("bring it back from the trash"), "{said}");
    let base = s.base_in(&confirm);

    let trashed = s.post("/admin/pages/guide/first/trash", &format!("base={base}")).await;
    assert_eq!((trashed.status, trashed.header("location")), (StatusCode::SEE_OTHER, "/admin/trash?done=trashed"));
    assert!(!s.content.path().join("guide/first.md").exists());
    let moved = s.wait_for("/guide/first/", StatusCode::MOVED_PERMANENTLY).await;
    assert_eq!(moved.header("location"), "/guide/");

    let trash = s.get("/admin/trash?done=trashed").await;
    assert_eq!(trash.status, StatusCode::OK);
    let rows = text_of(&trash.html(), ".admin-table tbody");
    assert!(rows.contains("First Part") && rows.contains("guide/first.md") && rows.contains("Ed Smith (ed)"), "{rows}");
    assert!(text_of(&trash.html(), "[role='status']").contains("in the trash"));

    let back = s.post("/admin/trash/guide/first/restore", "").await;
    assert_eq!((back.status, back.header("location")), (StatusCode::SEE_OTHER, "/admin/trash?done=restored"));
    s.wait_for("/guide/first/", StatusCode::OK).await;
    let index = std::fs::read_to_string(s.content.path().join("guide/index.md")).unwrap();
    assert!(!index.contains("aliases"), "the front page gave the address back:\n{index}");
    let kinds: Vec<RevisionKind> =
        s.app.state.workspace.history("guide/first.md").unwrap().iter().map(|r| r.kind).collect();
    assert_eq!(&kinds[..2], [RevisionKind::Restore, RevisionKind::Trash]);
    assert_eq!((activity(&s.app, Kind::PageTrashed), activity(&s.app, Kind::PageRestoredFromTrash)), (1, 1));
    assert!(text_of(&s.get("/admin/trash").await.html(), "main").contains("The trash is empty"));

    // Bringing it back twice: refused with the reason, on the trash page.
    let again = s.post("/admin/trash/guide/first/restore", "").await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert!(s.error_text(&again).contains("There is already a file guide/first.md"), "{}", again.body);
    // The front page has no trash form.
    assert_eq!(s.get("/admin/pages/guide/index/trash").await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_clash_a_reserved_address_or_a_bad_slug_is_refused_with_the_reason_and_what_was_typed() {
    let s = setup();
    let base = s.base_in(&s.get("/admin/pages/guide/first/rename").await);
    for (slug, status, reason) in [
        ("second", StatusCode::CONFLICT, "/guide/second/ is already the address of guide/second.md"),
        ("print", StatusCode::UNPROCESSABLE_ENTITY, "keeps for its own pages"),
        ("Side Effects", StatusCode::UNPROCESSABLE_ENTITY, "use only lowercase letters"),
    ] {
        let refused = s.post("/admin/pages/guide/first/rename", &format!("slug={slug}&base={base}")).await;
        assert_eq!(refused.status, status, "{slug}");
        assert!(s.error_text(&refused).contains(reason), "{slug}: {}", s.error_text(&refused));
        assert_eq!(select(&refused.html(), "input#slug")[0].value().attr("value"), Some(slug), "what was typed");
    }
    let stale = s.post("/admin/pages/guide/first/rename", "slug=opening&base=old").await;
    assert_eq!(stale.status, StatusCode::CONFLICT);
    assert!(s.error_text(&stale).contains("changed by someone else"), "{}", s.error_text(&stale));

    for (title, status, reason) in [
        ("Second", StatusCode::CONFLICT, "There is already a file guide/second.md"),
        ("Print", StatusCode::UNPROCESSABLE_ENTITY, "keeps for its own pages"),
        ("???", StatusCode::UNPROCESSABLE_ENTITY, "no letters or numbers"),
    ] {
        let refused = s.post("/admin/articles/guide/new", &format!("title={title}")).await;
        assert_eq!(refused.status, status, "{title}");
        assert!(s.error_text(&refused).contains(reason), "{title}: {}", s.error_text(&refused));
        assert_eq!(select(&refused.html(), "input#title")[0].value().attr("value"), Some(title));
    }
    assert_eq!(s.app.state.workspace.pages().len(), 4, "nothing was added");
    for missing in [
        "/admin/pages/guide/nope/rename",
        "/admin/pages/guide/index/rename",
        "/admin/pages/guide/nope/trash",
        "/admin/articles/nope/new",
        "/admin/articles/nope/order",
        "/admin/pages/guide/..%2Fsecret/rename",
    ] {
        let status = s.get(missing).await.status;
        assert!(matches!(status, StatusCode::NOT_FOUND | StatusCode::BAD_REQUEST), "{missing}: {status}");
    }
    assert_eq!(activity(&s.app, Kind::PageRenamed) + activity(&s.app, Kind::PageCreated), 0);
}

#[tokio::test]
async fn a_new_page_starts_as_a_draft_and_opens_in_the_editor() {
    let s = setup();
    let form = s.get("/admin/articles/guide/new").await;
    assert_eq!(form.status, StatusCode::OK);
    assert_eq!(select(&form.html(), "label[for='title']").len(), 1);
    let added = s.post("/admin/articles/guide/new", "title=After+Your+Session").await;
    assert_eq!(
        (added.status, added.header("location")),
        (StatusCode::SEE_OTHER, "/admin/pages/guide/after-your-session?done=created")
    );
    let page = Document::parse(&std::fs::read_to_string(s.content.path().join("guide/after-your-session.md")).unwrap())
        .unwrap();
    assert_eq!((page.title(), page.draft(), page.weight()), (Some("After Your Session"), true, 4));
    assert_eq!(activity(&s.app, Kind::PageCreated), 1);
    // A draft: the live site leaves it out.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(get(&s.app.router, "/guide/after-your-session/").await.status, StatusCode::NOT_FOUND);
    // The pages list links each article's structure pages.
    let list = s.get("/admin/pages").await;
    let html = list.html();
    assert_eq!(select(&html, ".article-actions a[href='/admin/articles/guide/new']").len(), 1, "{}", list.body);
    assert_eq!(select(&html, ".article-actions a[href='/admin/articles/guide/order']").len(), 1);
    assert_eq!(select(&html, "a[href='/admin/pages/guide/first/rename']").len(), 1);
    assert_eq!(select(&html, "a[href='/admin/pages/guide/index/trash']").len(), 0, "not the front page");
}

#[tokio::test]
async fn the_order_form_puts_the_pages_in_order_without_javascript() {
    let s = setup();
    let form = s.get("/admin/articles/guide/order").await;
    assert_eq!(form.status, StatusCode::OK);
    let html = form.html();
    let places: Vec<(String, String)> = select(&html, "input[type='number']")
        .iter()
        .map(|input| {
            (input.value().attr("name").unwrap().to_string(), input.value().attr("value").unwrap().to_string())
        })
        .collect();
    assert_eq!(
        places,
        [("place-first", "1"), ("place-second", "2"), ("place-hidden", "3")].map(|(n, v)| (n.into(), v.into()))
    );
    for (name, _) in &places {
        assert_eq!(select(&html, &format!("label[for='{name}']")).len(), 1, "{name} has a label");
    }
    let bad = s.post("/admin/articles/guide/order", "place-first=2&place-second=one&place-hidden=3").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(s.error_text(&bad).contains("must be a whole number"), "{}", s.error_text(&bad));
    assert_eq!(select(&bad.html(), "input[name='place-second']")[0].value().attr("value"), Some("one"));

    let saved = s.post("/admin/articles/guide/order", "place-first=2&place-second=1&place-hidden=3").await;
    assert_eq!(
        (saved.status, saved.header("location")),
        (StatusCode::SEE_OTHER, "/admin/articles/guide/order?done=ordered")
    );
    let weight =
        |file: &str| Document::parse(&std::fs::read_to_string(s.content.path().join(file)).unwrap()).unwrap().weight();
    assert_eq!((weight("guide/second.md"), weight("guide/first.md"), weight("guide/hidden.md")), (1, 2, 3));
    assert_eq!(activity(&s.app, Kind::PagesReordered), 1);
    // The live site follows: the front page lists "Second Part" first.
    let second_first = |body: &str| matches!((body.find("Second Part"), body.find("First Part")), (Some(second), Some(first)) if second < first);
    assert!(!second_first(&get(&s.app.router, "/guide/").await.body), "the fixture lists first before second");
    for _ in 0..400 {
        if second_first(&get(&s.app.router, "/guide/").await.body) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the live site never showed the new order: {:?}", s.app.state.site.error());
}

#[tokio::test]
async fn moderators_cannot_change_the_structure() {
    let s = setup();
    let moderator = add_staff(&s.app, "mo", &[Role::Moderator]);
    let (cookie, csrf) = session_for(&s.app, &moderator);
    for (method, path) in [
        (Method::GET, "/admin/articles/guide/new"),
        (Method::POST, "/admin/articles/guide/new"),
        (Method::POST, "/admin/articles/guide/order"),
        (Method::POST, "/admin/pages/guide/first/rename"),
        (Method::POST, "/admin/pages/guide/first/trash"),
        (Method::GET, "/admin/trash"),
        (Method::POST, "/admin/trash/guide/first/restore"),
    ] {
        let response =
            send_with(&s.app, method.clone(), path, Some(&cookie), &format!("csrf={csrf}&title=X&slug=x")).await;
        assert_eq!(response.status, StatusCode::FORBIDDEN, "{method} {path}");
    }
    assert_eq!(s.app.state.workspace.pages().len(), 4);
    assert!(s.content.path().join("guide/first.md").exists());
}
