//! Measurements behind two build settings (issue 14), printed as a table
//! rather than run through criterion, since the point is comparing
//! settings side by side:
//!
//! - cards: time to draw one social card, and to encode it with each PNG
//!   layout, deflate level and filter, the bytes each gives, and whether it
//!   decodes to exactly the drawn pixels;
//! - brotli: bytes and time at qualities 5 to 11 for every page of the real
//!   site (HTML) and for the static CSS and JavaScript.
//!
//! Run with `cargo bench --bench cards`. Timings are medians of a few runs
//! on a shared machine: compare rows, not absolute figures.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use clinic_site::card::{self, CardText, Encoding, Layout};
use clinic_site::site::{Site, SiteOptions};
use png::{Compression, Filter};

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort_unstable();
    times[times.len() / 2]
}

fn time<R>(runs: usize, mut f: impl FnMut() -> R) -> (Duration, R) {
    let mut last = None;
    let times = (0..runs)
        .map(|_| {
            let start = Instant::now();
            last = Some(f());
            start.elapsed()
        })
        .collect();
    (median(times), last.expect("at least one run"))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The pixels a PNG decodes to, as RGBA.
fn decode(bytes: &[u8]) -> Vec<u8> {
    let mut decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::ALPHA);
    let mut reader = decoder.read_info().expect("a PNG we wrote");
    let mut buf = vec![0; reader.output_buffer_size().expect("fits in memory")];
    let info = reader.next_frame(&mut buf).expect("a PNG we wrote");
    buf.truncate(info.buffer_size());
    buf
}

fn cards() {
    let texts = [
        CardText {
            title: "Is Dry Needling Safe?".to_string(),
            article: Some("How Dry Needling Therapy Effectively Relieves Migraines and Chronic Pain".to_string()),
            clinic: "Riverside Physical Therapy".to_string(),
            site: "riverside-pt.example".to_string(),
        },
        CardText {
            title: "Patient information from Riverside Physical Therapy".to_string(),
            article: None,
            clinic: "Riverside Physical Therapy".to_string(),
            site: "riverside-pt.example".to_string(),
        },
    ];
    for text in &texts {
        let (draw, pixmap) = time(15, || card::draw(text));
        let reference = decode(&pixmap.encode_png().expect("in memory"));
        println!(
            "card {:?}: draw {:.2} ms, {} distinct colours",
            text.title,
            ms(draw),
            card::distinct_colours(&pixmap)
        );
        let (skia, skia_png) = time(15, || pixmap.encode_png().expect("in memory"));
        println!("  {:<34} {:>7.2} ms {:>8} bytes", "tiny-skia encode_png", ms(skia), skia_png.len());
        for layout in [Layout::Rgba, Layout::Rgb, Layout::Indexed] {
            for compression in [Compression::Fastest, Compression::Fast, Compression::Balanced, Compression::High] {
                for filter in [Filter::NoFilter, Filter::Up, Filter::Adaptive] {
                    let encoding = Encoding { layout, compression, filter };
                    let (t, bytes) = time(15, || card::encode_png(&pixmap, encoding));
                    let same = decode(&bytes) == reference;
                    println!(
                        "  {:<34} {:>7.2} ms {:>8} bytes{}{}",
                        format!("{layout:?} {compression:?} {filter:?}"),
                        ms(t),
                        bytes.len(),
                        if same { "" } else { "  PIXELS DIFFER" },
                        if format!("{encoding:?}") == format!("{:?}", card::CARD_ENCODING) {
                            "  <- chosen"
                        } else {
                            ""
                        }
                    );
                }
            }
        }
    }
}

fn brotli() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let site = Site::load(&root.join("content"), &SiteOptions::public(&root.join("static")), &[])
        .expect("the real content builds");
    let html: Vec<Vec<u8>> = site.paths().iter().filter_map(|p| site.page(p)).map(|p| p.identity.to_vec()).collect();
    let read = |name: &str| std::fs::read(root.join("static").join(name)).expect("static file");
    let kinds: [(&str, Vec<Vec<u8>>); 3] =
        [("html", html), ("css", vec![read("site.css")]), ("js", vec![read("share.js"), read("editor.js")])];
    for (kind, bodies) in &kinds {
        let total: usize = bodies.iter().map(Vec::len).sum();
        println!("brotli {kind}: {} bodies, {total} bytes", bodies.len());
        let mut previous: Option<(f64, usize)> = None;
        for quality in 5..=11 {
            let runs = if quality >= 10 { 3 } else { 7 };
            let (t, out) =
                time(runs, || bodies.iter().map(|b| clinic_site::asset::brotli_at(b, quality).len()).sum::<usize>());
            let t = ms(t);
            let step = previous
                .map(|(pt, pb)| format!("{:>9.0} bytes saved per ms more", (pb as f64 - out as f64) / (t - pt)))
                .unwrap_or_default();
            println!("  q{quality:<2} {t:>8.2} ms {out:>8} bytes  {step}");
            previous = Some((t, out));
        }
    }
}

fn main() {
    // `cargo bench` passes `--bench`; a filter word picks one half.
    let only = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    if only.as_deref().is_none_or(|w| w == "cards") {
        cards();
    }
    if only.as_deref().is_none_or(|w| w == "brotli") {
        brotli();
    }
}
