//! What `clinic-site check` prints: every problem in the content in one
//! run, written so staff know what to change, and how readable each page
//! is. The checks themselves are in `checks`.
//!
//! The text format follows compilers' diagnostics: location and message on
//! one line, the offending line under it, then a hint.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use clap::ValueEnum;
use serde_json::json;

use crate::asset::Assets;
use crate::checks::{self, Inspection};
use crate::config::Folders;
use crate::content::{self, LoadOptions, Severity, format_text, source_line, summary};
use crate::readability::Readability;
use crate::render::reading_minutes;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

/// Runs the check and prints the report; `true` when it passed.
pub fn run(folders: &Folders, format: Format, deny_warnings: bool) -> bool {
    // Drafts are checked too: staff want to hear about a draft's problems
    // before they publish it, not after.
    let inspection = inspect(&folders.content, &folders.static_dir);
    let report = match format {
        Format::Text => text_report(&inspection),
        Format::Json => json_report(&inspection).to_string(),
    };
    // A closed pipe (`check | head`) is not worth a crash.
    let _ = writeln!(std::io::stdout(), "{report}");
    let warnings = inspection.problems.len() - inspection.errors();
    inspection.errors() == 0 && !(deny_warnings && warnings > 0)
}

/// Everything `check` reports about a content folder. Pages that could not
/// be read are reported and left out; every other page is still checked.
pub fn inspect(content_dir: &Path, static_dir: &Path) -> Inspection {
    let (content, mut problems) = content::load_all(content_dir, LoadOptions { include_drafts: true });
    // Images are checked against the files the site would serve; a folder
    // that cannot be read is reported, and every image with it.
    let assets = Assets::load(static_dir).unwrap_or_else(|mut errors| {
        problems.append(&mut errors);
        Assets::default()
    });
    let mut pages = Vec::new();
    if let Some(content) = content {
        let options =
            checks::CheckOptions { assets: &assets, static_dir, today: content::Date::today(), publish: false };
        let inspection = checks::inspect(&content, &options);
        problems.extend(inspection.problems);
        pages = inspection.pages;
    }
    // File by file, top to bottom: the order staff will fix them in.
    problems.sort_by(|a, b| (&a.path, a.line, a.column).cmp(&(&b.path, b.line, b.column)));
    Inspection { problems, pages }
}

pub(crate) fn text_report(inspection: &Inspection) -> String {
    let mut out = format_text(&inspection.problems);
    if !inspection.pages.is_empty() {
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(&readability_table(inspection));
    }
    out.push('\n');
    if inspection.problems.is_empty() {
        out.push_str("No problems found.");
    } else {
        let _ = write!(out, "{} found.", summary(&inspection.problems));
    }
    out
}

fn readability_table(inspection: &Inspection) -> String {
    let mut rows: Vec<[String; 6]> =
        inspection.pages.iter().map(|p| row(&p.path.display().to_string(), p.readability, p.minutes)).collect();
    // Whole articles too: a reader takes them in as one piece.
    let mut articles: BTreeMap<PathBuf, Readability> = BTreeMap::new();
    for page in &inspection.pages {
        articles
            .entry(page.path.parent().map(Path::to_path_buf).unwrap_or_default())
            .or_default()
            .add(page.readability);
    }
    for (dir, readability) in &articles {
        rows.push(row(
            &format!("{}/ (whole article)", dir.display()),
            *readability,
            reading_minutes(readability.words),
        ));
    }
    let header = ["Page", "Words", "Minutes", "Sentences", "Reading ease", "Grade"].map(String::from);
    let widths: Vec<usize> =
        (0..6).map(|i| rows.iter().chain([&header]).map(|r| r[i].chars().count()).max().unwrap_or(0)).collect();
    let mut out = String::from(
        "Readability (Flesch reading ease: higher is easier, 60 and up is plain English; grade: US school grade, aim for 6 to 8)\n",
    );
    for r in std::iter::once(&header).chain(&rows) {
        let _ = write!(out, "{:<w$}", r[0], w = widths[0]);
        for i in 1..6 {
            let _ = write!(out, "  {:>w$}", r[i], w = widths[i]);
        }
        out.push('\n');
    }
    out
}

fn row(name: &str, r: Readability, minutes: usize) -> [String; 6] {
    [
        name.to_string(),
        r.words.to_string(),
        minutes.to_string(),
        r.sentences.to_string(),
        format!("{:.1}", r.reading_ease()),
        format!("{:.1}", r.grade()),
    ]
}

pub(crate) fn json_report(inspection: &Inspection) -> serde_json::Value {
    let diagnostics: Vec<serde_json::Value> = inspection
        .problems
        .iter()
        .map(|p| {
            json!({
                "path": p.path.display().to_string(),
                "line": p.line,
                "column": if p.line > 0 { Some(p.column.unwrap_or(1)) } else { None },
                "severity": match p.severity { Severity::Error => "error", Severity::Warning => "warning" },
                "message": p.message,
                "hint": p.hint,
                "source_line": source_line(&p.path, p.line),
            })
        })
        .collect();
    let pages: Vec<serde_json::Value> = inspection
        .pages
        .iter()
        .map(|p| {
            json!({
                "path": p.path.display().to_string(),
                "url": p.url,
                "words": p.readability.words,
                "sentences": p.readability.sentences,
                "syllables": p.readability.syllables,
                "reading_minutes": p.minutes,
                "reading_ease": (p.readability.reading_ease() * 10.0).round() / 10.0,
                "grade": (p.readability.grade() * 10.0).round() / 10.0,
            })
        })
        .collect();
    json!({
        "errors": inspection.errors(),
        "warnings": inspection.problems.len() - inspection.errors(),
        "diagnostics": diagnostics,
        "readability": pages,
    })
}
