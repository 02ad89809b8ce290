//! The page editor's two waits, as staff feel them:
//!
//! - **Preview latency**: the live preview's request for the longest page
//!   (`POST /admin/pages/.../preview`, through the whole router: the guard
//!   with its session and CSRF check, the form, the page rendered by the
//!   site's own pipeline with every check, the plain-English marks, the
//!   JSON). Also for a page eight times as long, to see how it grows.
//! - **Save to live**: from the save starting (`Workspace::save`: checked
//!   against its base, written atomically with fsyncs, recorded) until the
//!   public page served from memory shows the new text, through the
//!   watcher and the rebuild, as a save from the editor waits for.
//!
//! Run with `cargo bench --bench editor` (ROUNDS=60 by default). No
//! assertions: the machine is shared and timings are noisy; compare
//! medians and the 95th percentile.

use std::path::Path;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Method, Request};
use clinic_site::auth::{Actor, NewAccount, Role, Roles};
use clinic_site::config::Config;
use clinic_site::http::{AppState, router};
use clinic_site::workspace::Document;
use tower::ServiceExt;

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create dir");
    for entry in std::fs::read_dir(from).expect("read content") {
        let path = entry.expect("entry").path();
        let target = to.join(path.file_name().expect("name"));
        if path.is_dir() {
            copy_dir(&path, &target);
        } else {
            std::fs::copy(&path, &target).expect("copy file");
        }
    }
}

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("after 1970").as_secs() as i64
}

/// Median and 95th percentile of milliseconds.
fn report(title: &str, millis: &mut [f64]) {
    millis.sort_by(f64::total_cmp);
    let at = |share: f64| millis[((millis.len() as f64 * share).ceil() as usize).clamp(1, millis.len()) - 1];
    println!("{title}");
    println!(
        "  ms: median {:.1}, p95 {:.1}, min {:.1}, max {:.1} ({} rounds)",
        at(0.5),
        at(0.95),
        millis[0],
        millis[millis.len() - 1],
        millis.len()
    );
}

fn main() {
    let rounds: usize = std::env::var("ROUNDS").ok().and_then(|r| r.parse().ok()).unwrap_or(60);
    let content = tempfile::tempdir().expect("temp dir");
    let data = tempfile::tempdir().expect("temp dir");
    copy_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("content"), content.path());
    let config = Config::for_test(data.path()).with_content(content.path());
    let state = AppState::load(config).expect("the real content loads");
    let app = router(state.clone());
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");

    let new = NewAccount::parse("bench", "Bench Editor", "", Roles::of([Role::Editor])).expect("an account");
    let account = state.staff.add(&new, None, &Actor::command_line(), now()).expect("added");
    let session = state.staff.start_session(&account, "bench", now()).expect("a session");
    let cookie = format!("clinic_admin={}", session.token);

    let longest = state
        .workspace
        .pages()
        .into_iter()
        .max_by_key(|file| std::fs::metadata(content.path().join(file)).map(|m| m.len()).unwrap_or(0))
        .expect("pages");
    let (text, base) = state.workspace.current(&longest).expect("the page reads");
    let address = format!("/admin/pages/{}/preview", longest.trim_end_matches(".md"));
    let fields = Document::parse(&text).expect("the page opens").fields();

    let preview = |body: &str, round: usize| {
        let form = serde_urlencoded::to_string([
            ("csrf", session.csrf.as_str()),
            ("base", base.as_str()),
            ("title", fields.title.as_str()),
            ("description", fields.description.as_str()),
            ("weight", &fields.weight.to_string()),
            ("slug", fields.slug.as_str()),
            ("body", &format!("{body}\nRound {round} of the preview.\n")),
            ("marks", "on"),
        ])
        .expect("a form");
        let request = Request::builder()
            .method(Method::POST)
            .uri(&address)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("sec-fetch-site", "same-origin")
            .header("cookie", &cookie)
            .body(Body::from(form))
            .expect("a request");
        let started = Instant::now();
        let response = runtime.block_on(app.clone().oneshot(request)).expect("an answer");
        let bytes =
            runtime.block_on(http_body_util::BodyExt::collect(response.into_body())).expect("a body").to_bytes();
        let elapsed = started.elapsed().as_secs_f64() * 1000.0;
        assert!(String::from_utf8_lossy(&bytes).contains(&format!("Round {round} of the preview.")), "a preview");
        elapsed
    };
    for (name, body) in [("the longest page", fields.body.clone()), ("a page 8x as long", fields.body.repeat(8))] {
        let kib = body.len().div_ceil(1024);
        let _ = preview(&body, 0);
        let mut millis: Vec<f64> = (1..=rounds).map(|round| preview(&body, round)).collect();
        report(&format!("preview of {name} ({longest}, body {kib} KiB), through the router"), &mut millis);
    }

    let _watcher =
        clinic_site::watch::spawn(&state.config, state.site.clone(), state.comments.clone(), state.workspace.clone())
            .expect("watching");
    let today = clinic_site::content::Date::from_unix(now());
    let url = state
        .site
        .load()
        .preview(content.path(), &state.config.folders.static_dir, &longest, &text, None, today)
        .url
        .expect("the page's address");
    let actor = Actor::person(&account);
    let mut millis = Vec::with_capacity(rounds);
    let mut base = base;
    for round in 0..=rounds.min(40) {
        let marker = format!("Saved in round {round}.");
        let changed = format!("{}\n{marker}\n", text.trim_end());
        let started = Instant::now();
        let saved = state.workspace.save(&longest, &changed, &base, &actor, "", now()).expect("saved");
        base = saved.hash;
        let shown = loop {
            if state.site.load().page(&url).is_some_and(|p| String::from_utf8_lossy(&p.identity).contains(&marker)) {
                break true;
            }
            if started.elapsed() > Duration::from_secs(10) {
                break false;
            }
            std::thread::sleep(Duration::from_millis(1));
        };
        assert!(shown, "round {round}: the save never went live");
        if round > 0 {
            millis.push(started.elapsed().as_secs_f64() * 1000.0);
        }
    }
    report(
        &format!("save to live ({longest}: save, watcher, rebuild, swap; until the public page shows it)"),
        &mut millis,
    );
}
