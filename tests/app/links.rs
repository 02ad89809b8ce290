//! Links (symlinks) in the content and static folders that lead outside
//! them are refused with a content error, and what they point at is never
//! read, shown or served.

#![cfg(unix)]

use std::os::unix::fs::symlink;
use std::process::Command;

use clinic_site::config::{Config, Folders};
use clinic_site::http::AppState;

use crate::helpers::*;

/// A line of /etc/passwd, which every Unix has.
const SECRET: &str = "root:";

fn load_error(config: impl FnOnce(&std::path::Path) -> Config) -> String {
    let data = tempfile::tempdir().unwrap();
    match AppState::load(config(data.path())) {
        Ok(_) => panic!("the link should be refused"),
        Err(err) => format!("{err:#}"),
    }
}

fn check(content: &std::path::Path, static_dir: &std::path::Path) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_clinic-site"))
        .args(["check", "--content", content.to_str().unwrap(), "--static", static_dir.to_str().unwrap()])
        .output()
        .expect("the binary runs");
    assert_eq!(output.status.code(), Some(1));
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn a_page_that_links_outside_the_content_folder_is_refused_unread() {
    let content = copy_fixture("valid");
    let link = content.path().join("guide/passwd.md");
    symlink("/etc/passwd", &link).unwrap();
    let expected = format!(
        "{}: error: this file is a link to a file outside the content folder, so it is not read",
        link.display()
    );

    let error = load_error(|data| Config::for_test(data).with_content(content.path()));
    assert!(error.contains(&expected), "{error}");
    assert!(error.contains("hint: copy the file itself into the content folder instead of linking to it"), "{error}");
    assert!(!error.contains(SECRET), "{error}");

    let report = check(content.path(), std::path::Path::new("static"));
    assert!(report.contains(&expected), "{report}");
    assert!(!report.contains(SECRET), "{report}");
}

#[test]
fn an_article_folder_that_links_outside_the_content_folder_is_refused() {
    let content = copy_fixture("valid");
    let outside = copy_fixture("valid");
    symlink(outside.path().join("guide"), content.path().join("elsewhere")).unwrap();
    let error = load_error(|data| Config::for_test(data).with_content(content.path()));
    assert!(
        error.contains(&format!(
            "{}: error: this folder is a link to a folder outside the content folder",
            content.path().join("elsewhere").display()
        )),
        "{error}"
    );
}

#[test]
fn links_that_stay_inside_the_content_folder_are_read() {
    let content = copy_fixture("valid");
    symlink("first.md", content.path().join("guide/also-first.md")).unwrap();
    let app = TestApp::with_config(|data| Config::for_test(data).with_content(content.path()));
    assert!(app.state.site.load().page("/guide/also-first/").is_some());
}

#[test]
fn a_link_added_while_the_site_runs_is_reported_and_never_shown() {
    let content = copy_fixture("valid");
    let server = Server::start(&["serve", "--content", content.path().to_str().unwrap()]);
    symlink("/etc/passwd", content.path().join("guide/passwd.md")).unwrap();
    let log = || server.log.lock().unwrap().clone();
    assert!(
        wait_until(20, || log().contains("passwd.md: error: this file is a link to a file outside the content folder")),
        "never reported:\n{}",
        log()
    );
    assert!(body(server.get("/healthz")).contains("content error"));
    assert!(!body(server.get("/healthz")).contains(SECRET));
    assert_eq!(server.get("/guide/passwd/").0, 404);
    assert!(!log().contains(SECRET));
}

#[test]
fn a_static_file_that_links_outside_the_static_folder_is_refused_and_not_served() {
    let (content, static_dir) = (copy_fixture("valid"), copy_static());
    let link = static_dir.path().join("passwd.txt");
    symlink("/etc/passwd", &link).unwrap();
    let expected = format!(
        "{}: error: this file is a link to a file outside the static folder, so it is not served",
        link.display()
    );

    let folders = Folders { content: content.path().to_path_buf(), static_dir: static_dir.path().to_path_buf() };
    let error = load_error(|data| Config { folders, ..Config::for_test(data) });
    assert!(error.contains(&expected), "{error}");
    assert!(!error.contains(SECRET), "{error}");
    let report = check(content.path(), static_dir.path());
    assert!(report.contains(&expected), "{report}");

    // Added while the site runs: reported, and the last good site, which
    // never had it, keeps serving.
    std::fs::remove_file(&link).unwrap();
    let server = Server::serving(content.path(), static_dir.path());
    symlink("/etc/passwd", &link).unwrap();
    let log = || server.log.lock().unwrap().clone();
    assert!(
        wait_until(20, || log().contains("passwd.txt: error: this file is a link to a file outside the static folder")),
        "never reported:\n{}",
        log()
    );
    assert!(body(server.get("/healthz")).contains("content error"));
    let (status, served) = server.get("/static/passwd.txt");
    assert_eq!(status, 404);
    assert!(!String::from_utf8_lossy(&served).contains(SECRET));
    assert!(!body(server.get("/healthz")).contains(SECRET));
    assert!(!log().contains(SECRET));
}
