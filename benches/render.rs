//! Criterion benchmarks for the hot paths of building the site:
//!
//! - `render/*`: one page's markdown to HTML (`clinic_site::render::render`),
//!   for the real heaviest section (content/dry-needling/safety.md) and for a
//!   synthetic page of about 800 words like the scale benchmark's.
//! - `site_load/content`: the whole real site (`Site::load`: read, render,
//!   check, template, compress every page and asset), as `serve` does at
//!   start-up, and `site_load/content_rebuild_while_live`: the same while an
//!   earlier version is still alive, as on a content edit (unchanged bodies
//!   are reused rather than compressed again).
//! - `prepare/*` and `card/*`: the steps that dominate `Site::load` and
//!   `build`: `asset::brotli` and `asset::gzip` (at the levels the site
//!   uses) of one finished page and of the print page, and drawing one
//!   social card PNG, so the scale figures can be explained.
//!
//! Run with `cargo bench --bench render` (results in target/criterion/).
//! No assertions: the machine is shared and timings are noisy.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clinic_site::card::{self, CardText};
use clinic_site::site::{Site, SiteOptions};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The markdown after the `+++` front matter block.
fn body_of(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let mut fences = 0;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        offset += line.len();
        if line.trim_end() == "+++" {
            fences += 1;
            if fences == 2 {
                return text[offset..].to_string();
            }
        }
    }
    panic!("{} has no closed +++ front matter", path.display());
}

/// About 800 words with `##`/`###` headings, lists, links and a callout,
/// in the shape `benches/generate.py` writes.
fn synthetic_page() -> String {
    const SENTENCES: &[&str] = &[
        "Your therapist can ease the tension in your neck over a few weeks.",
        "A tight knot may help with stiff joints for most people.",
        "The needle often calms old pain after one or two visits.",
        "Gentle stretching can reduce tight muscles when you rest well.",
        "Your posture may improve the way you move if you keep active.",
        "A daily walk helps with blood flow with some home exercises.",
    ];
    let sentence = |i: usize| SENTENCES[i % SENTENCES.len()];
    let paragraph = |seed: usize, n: usize| (0..n).map(|i| sentence(seed + i)).collect::<Vec<_>>().join(" ");
    let mut out = paragraph(0, 4);
    let mut part = 0;
    while out.split_whitespace().count() < 710 {
        part += 1;
        out.push_str(&format!("\n\n## Part {part}: What Helps\n\n{}\n\n", paragraph(part, 4)));
        for i in 0..4 {
            out.push_str(&format!("- {}\n", sentence(part + i)));
        }
        out.push_str(&format!(
            "\n{} Read more in [what to expect, part {part}](/guide/section-{part:03}/) and in [aftercare](/guide/aftercare/).\n\n",
            paragraph(part + 1, 2)
        ));
        out.push_str(&format!("### Part {part}: Step by Step\n\n"));
        for i in 1..=3 {
            out.push_str(&format!("{i}. {}\n", sentence(part + i)));
        }
        out.push_str(&format!("\n{}\n", paragraph(part + 2, 3)));
        if part % 3 == 0 {
            out.push_str(&format!("\n> [!NON-URGENT] Talk to your therapist if\n>\n> {}\n", sentence(part)));
        }
    }
    out
}

fn render(c: &mut Criterion) {
    let safety = body_of(&root().join("content/dry-needling/safety.md"));
    let synthetic = synthetic_page();
    let mut group = c.benchmark_group("render");
    group.throughput(Throughput::Bytes(safety.len() as u64));
    group.bench_function("safety_md", |b| b.iter(|| clinic_site::render::render(black_box(&safety))));
    group.throughput(Throughput::Bytes(synthetic.len() as u64));
    group.bench_function("synthetic_800_words", |b| b.iter(|| clinic_site::render::render(black_box(&synthetic))));
    group.finish();
}

fn load() -> Site {
    let root = root();
    Site::load(&root.join("content"), &SiteOptions::public(&root.join("static")), &[]).expect("the real content builds")
}

fn site_load(c: &mut Criterion) {
    let mut group = c.benchmark_group("site_load");
    group.sample_size(10).measurement_time(Duration::from_secs(20));
    group.bench_function("content", |b| b.iter(load));
    // A reload while the previous version is still being served: bodies
    // that did not change are reused instead of compressed again.
    let live = load();
    group.bench_function("content_rebuild_while_live", |b| b.iter(load));
    drop(live);
    group.finish();
}

/// What one page costs after rendering: both compressed forms, made once
/// per content version (`asset::Prepared::new`), and its social card.
fn prepare(c: &mut Criterion) {
    let site = load();
    let mut group = c.benchmark_group("prepare");
    group.sample_size(10).measurement_time(Duration::from_secs(10));
    for (name, path) in [("safety_page", "/dry-needling/safety/"), ("print_page", "/dry-needling/print/")] {
        let html = site.page(path).unwrap_or_else(|| panic!("{path} is a page")).identity.clone();
        group.throughput(Throughput::Bytes(html.len() as u64));
        group.bench_function(format!("brotli/{name}"), |b| b.iter(|| clinic_site::asset::brotli(black_box(&html))));
        group.bench_function(format!("gzip/{name}"), |b| b.iter(|| clinic_site::asset::gzip(black_box(&html))));
    }
    group.finish();

    let text = CardText {
        title: "Is Dry Needling Safe?".to_string(),
        article: Some("How Dry Needling Therapy Effectively Relieves Migraines and Chronic Pain".to_string()),
        clinic: "Riverside Physical Therapy".to_string(),
        site: "riverside-pt.example".to_string(),
    };
    let mut group = c.benchmark_group("card");
    group.sample_size(10).measurement_time(Duration::from_secs(10));
    group.bench_function("render_png", |b| b.iter(|| card::render_png(black_box(&text))));
    group.finish();
}

criterion_group!(benches, render, site_load, prepare);
criterion_main!(benches);
