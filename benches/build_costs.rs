//! Where a cold build's time goes, per output, and what cheaper settings
//! would give (issue 14, goal 2), printed as a table: brotli at each
//! quality with the window `asset::brotli` picks and with the largest
//! window, gzip at levels 6 and 9, and a card drawn and encoded.
//!
//! Reads the HTML of an export already on disk, so the pages are the ones
//! a build writes:
//!
//! ```sh
//! python3 benches/generate.py --pages 1000 --out /tmp/lib/content
//! clinic-site build --allow-placeholders --content /tmp/lib/content --out /tmp/lib/out
//! EXPORT=/tmp/lib/out cargo bench --bench build_costs
//! ```
//!
//! Every 10th file of each kind is used (SAMPLE to change it). Timings
//! are medians of 3 runs on a shared machine: compare rows, not absolute
//! figures.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn median_ms(runs: usize, mut f: impl FnMut() -> usize) -> (f64, usize) {
    let mut out = 0;
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            out = std::hint::black_box(f());
            start.elapsed()
        })
        .collect();
    times.sort_unstable();
    (times[times.len() / 2].as_secs_f64() * 1000.0, out)
}

fn html_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("the export folder reads").flatten() {
        let path = entry.path();
        if path.is_dir() {
            html_files(&path, found);
        } else if path.file_name().is_some_and(|n| n == "index.html") {
            found.push(path);
        }
    }
}

fn brotli(data: &[u8], quality: i32, lgwin: Option<i32>) -> usize {
    let mut out = Vec::with_capacity(data.len() / 3);
    let lgwin = lgwin.unwrap_or((usize::BITS - data.len().max(1).leading_zeros()).clamp(16, 22) as i32);
    let params = brotli::enc::BrotliEncoderParams { quality, lgwin, size_hint: data.len(), ..Default::default() };
    brotli::BrotliCompress(&mut std::io::Cursor::new(data), &mut out, &params).expect("memory");
    out.len()
}

fn gzip(data: &[u8], level: u32) -> usize {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(level));
    encoder.write_all(data).expect("memory");
    encoder.finish().expect("memory").len()
}

fn main() {
    let Ok(export) = std::env::var("EXPORT") else {
        eprintln!("set EXPORT to a folder `clinic-site build` wrote (see the header of benches/build_costs.rs)");
        return;
    };
    let sample: usize = std::env::var("SAMPLE").ok().and_then(|s| s.parse().ok()).unwrap_or(10);
    let mut files = Vec::new();
    html_files(Path::new(&export), &mut files);
    files.sort();
    let kind = |p: &Path| {
        let s = p.to_string_lossy();
        if s.contains("/print/") {
            "print page"
        } else if s.contains("/comment/") || s.contains("/feedback/") || s.contains("/report/") {
            "closed form page"
        } else {
            "article page"
        }
    };
    for name in ["article page", "closed form page", "print page"] {
        let all: Vec<&PathBuf> = files.iter().filter(|p| kind(p) == name).collect();
        let bodies: Vec<Vec<u8>> = all.iter().step_by(sample).map(|p| std::fs::read(p).expect("reads")).collect();
        let total: usize = bodies.iter().map(Vec::len).sum();
        println!("\n{name}: {} of {} files, {total} bytes; per file:", bodies.len(), all.len());
        let per = |ms: f64, bytes: usize| (ms / bodies.len() as f64, bytes as f64 / bodies.len() as f64);
        for level in [6, 9] {
            let (ms, bytes) = median_ms(3, || bodies.iter().map(|b| gzip(b, level)).sum());
            let (ms, bytes) = per(ms, bytes);
            println!("  gzip {level:<2}             {ms:8.3} ms {bytes:10.0} bytes");
        }
        for lgwin in [None, Some(22)] {
            for quality in [4, 5, 6, 7, 8, 9, 10] {
                let (ms, bytes) = median_ms(3, || bodies.iter().map(|b| brotli(b, quality, lgwin)).sum());
                let (ms, bytes) = per(ms, bytes);
                let window = lgwin.map_or("by size".to_string(), |w| w.to_string());
                println!("  brotli q{quality:<2} window {window:<8} {ms:8.3} ms {bytes:10.0} bytes");
            }
        }
    }
    let card = clinic_site::card::CardText {
        title: "Exercises at Home for Shoulder Pain".into(),
        article: Some("Shoulder Pain".into()),
        clinic: "Riverside Physiotherapy".into(),
        site: "clinic.example".into(),
    };
    let (draw, _) = median_ms(9, || clinic_site::card::draw(&card).width() as usize);
    let pixmap = clinic_site::card::draw(&card);
    let (encode, bytes) =
        median_ms(9, || clinic_site::card::encode_png(&pixmap, clinic_site::card::CARD_ENCODING).len());
    println!("\ncard: draw {draw:.3} ms, encode {encode:.3} ms, {bytes} bytes");
}
