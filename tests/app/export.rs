//! `clinic-site build`: a static export that a plain file server serves
//! byte for byte as `serve` does.

use std::process::{Command, Stdio};

use crate::helpers::*;

fn build(content: &str, out: &std::path::Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_clinic-site"))
        // The fixtures and the sample content use sample settings on purpose
        // (see `builds_with_sample_settings_are_refused`).
        .args([
            "build",
            "--allow-placeholders",
            "--content",
            content,
            "--out",
            out.to_str().unwrap(),
            "--data",
            out.parent().unwrap().join("no-data").to_str().unwrap(),
        ])
        .output()
        .expect("the binary runs")
}

/// Python's static file server on a free port, killed when dropped.
struct StaticServer(std::process::Child, std::net::SocketAddr);

impl StaticServer {
    fn start(dir: &std::path::Path) -> StaticServer {
        use std::io::{BufRead, BufReader};
        let mut child = Command::new("python3")
            .args(["-u", "-m", "http.server", "0", "--bind", "127.0.0.1", "--directory", dir.to_str().unwrap()])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 runs");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).expect("python says where it listens");
        let port: u16 = line
            .split(" port ")
            .nth(1)
            .and_then(|s| s.split_whitespace().next())
            .and_then(|p| p.parse().ok())
            .expect(&line);
        StaticServer(child, ([127, 0, 0, 1], port).into())
    }
}

impl Drop for StaticServer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn the_export_is_byte_identical_to_what_serve_returns() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("public");
    let output = build("content", &out);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));

    // The export counts nothing, and its privacy notice says so: the same
    // as a server that counts nothing.
    let app = TestApp::with_config(|data| clinic_site::config::Config {
        no_counting: true,
        ..clinic_site::config::Config::for_test(data)
    });
    let site = clinic_site::site::Site::load(
        std::path::Path::new("content"),
        &clinic_site::site::SiteOptions::public(std::path::Path::new("static")),
        &[],
    )
    .unwrap();
    let mut urls: Vec<String> = site.paths().iter().map(|p| p.to_string()).collect();
    urls.extend(site.card_paths().iter().map(|p| p.to_string()));
    urls.extend(
        ["/sitemap.xml", "/robots.txt", "/static/site.css", "/static/share.js", "/static/fonts/LICENSE-DejaVu.txt"]
            .map(String::from),
    );
    assert!(urls.len() > 15);

    let server = StaticServer::start(&out);
    for url in &urls {
        let (status, exported) = http_get(server.1, url);
        assert_eq!(status, 200, "{url} is missing from the export");
        let request = axum::http::Request::get(url.as_str()).body(axum::body::Body::empty()).unwrap();
        let served = tower::ServiceExt::oneshot(app.clone(), request).await.unwrap();
        assert_eq!(served.status(), 200, "{url}");
        let served = http_body_util::BodyExt::collect(served.into_body()).await.unwrap().to_bytes();
        assert!(exported == served.as_ref(), "{url}: the export differs from what serve returns");
    }
    // Precompressed siblings for static hosts that send them.
    for file in ["index.html", "dry-needling/safety/index.html", "static/site.css", "sitemap.xml"] {
        assert!(out.join(format!("{file}.gz")).is_file() && out.join(format!("{file}.br")).is_file(), "{file}");
    }
    assert_eq!(std::fs::read(out.join("404.html")).unwrap(), get(&app, "/nope").await.body.into_bytes());
}

#[test]
fn aliases_are_exported_as_redirect_pages_and_rules() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("site");
    assert!(build("tests/fixtures/sharing", &out).status.success());
    let rules = std::fs::read_to_string(out.join("_redirects")).unwrap();
    assert!(rules.contains("/guide/old-name/ /guide/renamed/ 301\n"), "{rules}");
    assert!(rules.contains("/Old/Path /guide/renamed/ 301\n"), "{rules}");
    let page = std::fs::read_to_string(out.join("guide/old-name/index.html")).unwrap();
    assert!(page.contains("<meta http-equiv=\"refresh\" content=\"0; url=/guide/renamed/\">"), "{page}");
    assert!(page.contains("<link rel=\"canonical\" href=\"https://clinic.test/guide/renamed/\">"), "{page}");
}

#[test]
fn drafts_are_not_exported() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("site");
    assert!(build("tests/fixtures/valid", &out).status.success());
    assert!(out.join("guide/first/index.html").is_file());
    assert!(!out.join("guide/hidden").exists());
}

#[test]
fn a_failed_build_changes_nothing_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("site");
    assert!(build("tests/fixtures/valid", &out).status.success());
    let before = std::fs::read(out.join("guide/index.html")).unwrap();

    let output = build("tests/fixtures/broken", &out);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("tests/fixtures/broken/guide/unknown-key.md:2:1: error: front matter: unknown key \"titel\""),
        "{stderr}"
    );
    assert_eq!(std::fs::read(out.join("guide/index.html")).unwrap(), before, "the old export is untouched");
    let leftovers: Vec<_> =
        std::fs::read_dir(dir.path()).unwrap().filter_map(|e| e.ok()).map(|e| e.file_name()).collect();
    assert_eq!(leftovers, vec![std::ffi::OsString::from("site")], "no half-written folders left behind");
}
