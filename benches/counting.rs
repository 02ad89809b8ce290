//! Serving a page with reading figures counted, against the same with
//! `--no-counting`, side by side: the goal is a ratio of at least
//! 0.98 (counting on, in requests per second, over counting off).
//!
//! Both routers serve the real content from their own fresh data folder.
//! Each round sends `REQUESTS` GETs of one article page through each router
//! (`tower::ServiceExt::oneshot`, no socket: the socket and the kernel
//! would cost the same on both sides and hide the difference), as a
//! browser sends them (a user agent, `Accept-Encoding: br`, a referring
//! site), alternating which goes first. The figures are the medians of
//! the rounds' requests per second, and the ratio of the medians.
//!
//! Run with `cargo bench --bench counting` (ROUNDS=201, REQUESTS=4000 by
//! default; SAME=1 for counting off on both sides). No assertions: the machine is shared and timings are noisy.

use std::time::Instant;

use axum::body::Body;
use axum::http::Request;
use clinic_site::config::Config;
use clinic_site::http::{AppState, flush_figures, router};
use http_body_util::BodyExt;
use tower::ServiceExt;

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn app(counting: bool, data: &std::path::Path) -> (AppState, axum::Router) {
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let config = Config { no_counting: !counting, ..Config::for_test(data).with_content(&root.join("content")) };
    let state = AppState::load(config).expect("the real content loads");
    (state.clone(), router(state))
}

async fn round(app: &axum::Router, requests: usize) -> f64 {
    let agent = std::env::var("AGENT")
        .unwrap_or_else(|_| "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0".into());
    let referer = std::env::var("REFERER").unwrap_or_else(|_| "https://www.google.com/".into());
    let start = Instant::now();
    for _ in 0..requests {
        let mut request =
            Request::get("/dry-needling/safety/").header("user-agent", &agent).header("accept-encoding", "br, gzip");
        if !referer.is_empty() {
            request = request.header("referer", &referer);
        }
        let request = request.body(Body::empty()).expect("a request");
        let response = app.clone().oneshot(request).await.expect("the router never fails");
        assert_eq!(response.status(), 200);
        response.into_body().collect().await.expect("the body reads");
    }
    requests as f64 / start.elapsed().as_secs_f64()
}

fn old_is_browser(user_agent: &str) -> bool {
    if !user_agent.starts_with("Mozilla/") {
        return false;
    }
    let mut buffer = [0u8; 512];
    let Some(lower) = buffer.get_mut(..user_agent.len()) else {
        return false;
    };
    lower.copy_from_slice(user_agent.as_bytes());
    lower.make_ascii_lowercase();
    let lower = std::str::from_utf8(lower).expect("lower-casing ASCII letters keeps UTF-8 valid");
    !clinic_site::figures::BOT_WORDS.iter().any(|word| lower.contains(word))
}

/// `PIECES=1`: each step of counting one page served, timed alone over
/// many calls, to find where its cost is.
fn pieces(state: &AppState) {
    use clinic_site::figures::{Counter, Kind, day_of, host_of, is_browser, referrer_host, today};
    use std::hint::black_box;
    // The fastest of many short batches: on a shared machine the others
    // are slowed by whatever else ran at the time.
    const BATCHES: u32 = 200;
    const N: u32 = 10_000;
    let time = |name: &str, f: &mut dyn FnMut()| {
        let fastest = (0..BATCHES)
            .map(|_| {
                let start = Instant::now();
                for _ in 0..N {
                    f();
                }
                start.elapsed().as_nanos() as f64 / f64::from(N)
            })
            .fold(f64::INFINITY, f64::min);
        println!("  {name:<28} {fastest:>7.1} ns");
    };
    let ua = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
    time("is_browser", &mut || {
        black_box(is_browser(black_box(ua)));
    });
    time("is_browser (before)", &mut || {
        black_box(old_is_browser(black_box(ua)));
    });
    time("site.load()", &mut || {
        black_box(state.site.load());
    });
    let site = state.site.load();
    time("host_of + referrer_host", &mut || {
        let own = host_of(black_box(&site.settings.base_url));
        black_box(referrer_host(black_box("https://www.google.com/"), &[own, "localhost"]));
    });
    time("today()", &mut || {
        black_box(today());
    });
    time("day_of(const)", &mut || {
        black_box(day_of(black_box(1_700_000_000)));
    });
    let counter = Counter::default();
    time("Counter::day()", &mut || {
        black_box(counter.day());
    });
    time("Counter::count", &mut || {
        counter.count(black_box(20_000), black_box("/dry-needling/safety/"), Kind::View, Some("www.google.com"));
    });
}

fn main() {
    let env = |name: &str, default: usize| std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default);
    let (rounds, requests) = (env("ROUNDS", 201), env("REQUESTS", 4_000));
    let (on_data, off_data) = (tempfile::tempdir().expect("temp dir"), tempfile::tempdir().expect("temp dir"));
    // `SAME=1` turns counting off on both sides: how far apart two equal
    // routers measure on this machine (the noise floor for the ratio).
    let same = std::env::var("SAME").is_ok_and(|v| v == "1");
    let (on_state, on) = app(!same, on_data.path());
    let (_, off) = app(false, off_data.path());
    if std::env::var("PIECES").is_ok_and(|v| v == "1") {
        return pieces(&on_state);
    }
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
    runtime.block_on(async {
        // Warm both: the first requests fill caches and allocators.
        round(&on, requests / 10).await;
        round(&off, requests / 10).await;
        let (mut with, mut without, mut paired) = (Vec::new(), Vec::new(), Vec::new());
        for index in 0..rounds {
            let (on_rate, off_rate) = if index % 2 == 0 {
                let on_rate = round(&on, requests).await;
                (on_rate, round(&off, requests).await)
            } else {
                let off_rate = round(&off, requests).await;
                (round(&on, requests).await, off_rate)
            };
            with.push(on_rate);
            without.push(off_rate);
            paired.push(on_rate / off_rate);
            // As the server does every minute, so the tally stays small.
            flush_figures(&on_state).await;
        }
        let best = |rates: &[f64]| rates.iter().copied().fold(0.0, f64::max);
        let (best_with, best_without) = (best(&with), best(&without));
        let (with, without) = (median(&mut with), median(&mut without));
        println!("counting: {rounds} rounds of {requests} GETs of /dry-needling/safety/ through the router");
        println!("  counting on : median {with:>10.0} req/s, best {best_with:>10.0}");
        println!("  counting off: median {without:>10.0} req/s, best {best_without:>10.0}");
        println!("  ratio (on / off) of the medians: {:.3}", with / without);
        // Each round's two sides ran back to back, so their ratio is less
        // disturbed by the load changing than the medians over the run.
        println!("  median of each round's ratio:    {:.3}", median(&mut paired));
        println!("  ratio of the best rounds:        {:.3}", best_with / best_without);
    });
}
