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
//! Run with `cargo bench --bench counting` (ROUNDS=21, REQUESTS=20000 by
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
    let start = Instant::now();
    for _ in 0..requests {
        let request = Request::get("/dry-needling/safety/")
            .header("user-agent", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0")
            .header("accept-encoding", "br, gzip")
            .header("referer", "https://www.google.com/")
            .body(Body::empty())
            .expect("a request");
        let response = app.clone().oneshot(request).await.expect("the router never fails");
        assert_eq!(response.status(), 200);
        response.into_body().collect().await.expect("the body reads");
    }
    requests as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    let env = |name: &str, default: usize| std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default);
    let (rounds, requests) = (env("ROUNDS", 21), env("REQUESTS", 20_000));
    let (on_data, off_data) = (tempfile::tempdir().expect("temp dir"), tempfile::tempdir().expect("temp dir"));
    // `SAME=1` turns counting off on both sides: how far apart two equal
    // routers measure on this machine (the noise floor for the ratio).
    let same = std::env::var("SAME").is_ok_and(|v| v == "1");
    let (on_state, on) = app(!same, on_data.path());
    let (_, off) = app(false, off_data.path());
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
    runtime.block_on(async {
        // Warm both: the first requests fill caches and allocators.
        round(&on, requests / 10).await;
        round(&off, requests / 10).await;
        let (mut with, mut without) = (Vec::new(), Vec::new());
        for index in 0..rounds {
            if index % 2 == 0 {
                with.push(round(&on, requests).await);
                without.push(round(&off, requests).await);
            } else {
                without.push(round(&off, requests).await);
                with.push(round(&on, requests).await);
            }
            // As the server does every minute, so the tally stays small.
            flush_figures(&on_state).await;
        }
        let (with, without) = (median(&mut with), median(&mut without));
        println!("counting: {rounds} rounds of {requests} GETs of /dry-needling/safety/ through the router");
        println!("  counting on : median {with:>10.0} req/s");
        println!("  counting off: median {without:>10.0} req/s");
        println!("  ratio (on / off): {:.3}", with / without);
    });
}
