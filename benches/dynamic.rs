//! What compressing dynamic responses costs (issue 14): the comment form
//! page, rendered per request, through the router as a client asks for it
//! with no `Accept-Encoding` (sent as it is), `gzip` and `br`; then the
//! same page's bytes compressed directly at several levels, which is how
//! the levels in `src/http/respond.rs` were chosen.
//!
//! Through the router: `ROUNDS` rounds of `REQUESTS` GETs each
//! (`tower::ServiceExt::oneshot`, no socket), the three encodings
//! alternating order from round to round; the figure is the median of
//! the rounds' mean time per request. Directly: the median of `ROUNDS`
//! rounds of `REQUESTS` compressions.
//!
//! Run with `cargo bench --bench dynamic` (ROUNDS=11, REQUESTS=500 by
//! default). No assertions: the machine is shared and timings are noisy.

use std::io::Write;
use std::time::Instant;

use axum::body::Body;
use axum::http::Request;
use clinic_site::config::Config;
use clinic_site::http::{AppState, router};
use http_body_util::BodyExt;
use tower::ServiceExt;

const PAGE: &str = "/dry-needling/migraines/comment/";

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Mean µs per request over `requests` GETs, and the bytes of the last body.
async fn round(app: &axum::Router, accept: Option<&str>, requests: usize) -> (f64, usize) {
    let mut bytes = 0;
    let start = Instant::now();
    for _ in 0..requests {
        let mut request = Request::get(PAGE);
        if let Some(accept) = accept {
            request = request.header("accept-encoding", accept);
        }
        let response = app.clone().oneshot(request.body(Body::empty()).expect("a request")).await.expect("a response");
        assert_eq!(response.status(), 200);
        bytes = response.into_body().collect().await.expect("the body reads").to_bytes().len();
    }
    (start.elapsed().as_secs_f64() * 1e6 / requests as f64, bytes)
}

/// Median µs per call of `compress` over `rounds` rounds, and its output's
/// length.
fn time(rounds: usize, requests: usize, compress: impl Fn() -> Vec<u8>) -> (f64, usize) {
    let bytes = compress().len();
    let mut times: Vec<f64> = (0..rounds)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..requests {
                std::hint::black_box(compress());
            }
            start.elapsed().as_secs_f64() * 1e6 / requests as f64
        })
        .collect();
    (median(&mut times), bytes)
}

/// As `src/http/respond.rs` does it with `min_window` 16: a window as large
/// as the body.
fn brotli(data: &[u8], quality: i32, min_window: u32) -> Vec<u8> {
    let lgwin = (usize::BITS - data.len().max(1).leading_zeros()).clamp(min_window, 22) as i32;
    let params = brotli::enc::BrotliEncoderParams { quality, lgwin, size_hint: data.len(), ..Default::default() };
    let mut out = Vec::new();
    brotli::BrotliCompress(&mut std::io::Cursor::new(data), &mut out, &params).expect("in memory");
    out
}

fn gzip(data: &[u8], level: u32) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(level));
    encoder.write_all(data).expect("in memory");
    encoder.finish().expect("in memory")
}

fn main() {
    let env = |name: &str, default: usize| std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default);
    let (rounds, requests) = (env("ROUNDS", 11), env("REQUESTS", 500));
    let data = tempfile::tempdir().expect("temp dir");
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let state = AppState::load(Config::for_test(data.path()).with_content(&root.join("content"))).expect("loads");
    let app = router(state);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
    let encodings: [(&str, Option<&str>); 3] = [("identity", None), ("gzip", Some("gzip")), ("br", Some("br"))];
    let page = runtime.block_on(async {
        let mut times = vec![Vec::new(); encodings.len()];
        let mut sizes = [0; 3];
        for (_, accept) in encodings {
            round(&app, accept, requests / 10).await;
        }
        for index in 0..rounds {
            for step in 0..encodings.len() {
                let which = (index + step) % encodings.len();
                let (micros, bytes) = round(&app, encodings[which].1, requests).await;
                times[which].push(micros);
                sizes[which] = bytes;
            }
        }
        println!("dynamic: {rounds} rounds of {requests} GETs of {PAGE} through the router");
        let base = median(&mut times[0].clone());
        for (which, (name, _)) in encodings.iter().enumerate() {
            let micros = median(&mut times[which]);
            println!(
                "  {name:<8}: median {micros:>7.1} µs/request ({:+6.1} µs), {:>6} bytes",
                micros - base,
                sizes[which]
            );
        }
        let request = Request::get(PAGE).body(Body::empty()).expect("a request");
        let response = app.clone().oneshot(request).await.expect("a response");
        response.into_body().collect().await.expect("the body reads").to_bytes()
    });
    println!("compressing the page's {} bytes directly ({rounds} rounds of {requests}):", page.len());
    // With a window of 64 KB or less, qualities 5 to 9 use another hasher
    // than with a larger one: both are timed.
    for (quality, min_window) in [(1, 16), (2, 16), (3, 16), (4, 16), (5, 16), (5, 18), (6, 18), (9, 18), (10, 16)] {
        let repeat = if quality >= 5 && min_window == 16 || quality >= 9 { requests / 20 } else { requests };
        let (micros, bytes) = time(rounds, repeat.max(1), || brotli(&page, quality, min_window));
        println!("  brotli {quality:>2} (window >= 2^{min_window}): median {micros:>8.1} µs, {bytes:>6} bytes");
    }
    for level in [1, 6, 9] {
        let (micros, bytes) = time(rounds, requests, || gzip(&page, level));
        println!("  gzip   {level:>2}: median {micros:>8.1} µs, {bytes:>6} bytes");
    }
}
