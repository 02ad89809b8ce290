//! What patients read is safe and honest: sources are the checked ones,
//! sample settings never reach a published export, new text stays plain,
//! and a broken source keeps the last good site serving.

use std::process::Command;

use clinic_site::content::{self, LoadOptions};
use clinic_site::readability::Readability;

use crate::helpers::*;

/// Every DOI and web address in the real bibliography must appear in the
/// list of sources whose details were checked (a copy of the team's
/// evidence file, kept with the tests so they need nothing outside the
/// repository). An invented or mistyped citation fails here.
#[test]
fn every_cited_doi_and_address_is_one_that_was_checked() {
    let checked = std::fs::read_to_string("tests/fixtures/evidence/dry-needling-sources.md")
        .expect("the checked list is a fixture");
    let content =
        content::load(std::path::Path::new("content"), LoadOptions::default()).expect("the real content loads");
    assert!(content.bibliography.entries.len() >= 5, "the article cites its sources");
    for (key, reference) in &content.bibliography.entries {
        assert!(checked.contains(&format!("| {key} |")), "[{key}] is not a key of the checked list");
        if let Some(doi) = &reference.doi {
            assert!(
                checked.contains(&format!("https://doi.org/{doi} ")),
                "[{key}] DOI {doi} is not in the checked list"
            );
        }
        if let Some(url) = &reference.url {
            assert!(checked.contains(&format!("{url} ")), "[{key}] address {url} is not in the checked list");
        }
        let row = checked.lines().find(|l| l.starts_with(&format!("| {key} |"))).expect("row");
        for word in reference.authors.split([',', ' ']).filter(|w| w.len() > 3) {
            assert!(row.contains(word), "[{key}] author {word:?} is not in the checked list's entry");
        }
        if let Some(year) = reference.year {
            assert!(row.contains(&year.to_string()), "[{key}] year {year} does not match the checked list");
        }
    }
}

#[test]
fn check_lists_the_sample_settings_a_clinic_must_replace() {
    let output = Command::new(env!("CARGO_BIN_EXE_clinic-site")).args(["check"]).output().expect("the binary runs");
    let out = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "placeholders are warnings for check: {out}");
    for expected in [
        "content/site.toml:5:1: warning: clinic_name is still the sample name \"Riverside Physical Therapy\"",
        "content/site.toml:8:1: warning: base_url \"https://riverside-pt.example\" is a sample address",
        "content/site.toml:18:1: warning: phone \"(555) 010-0142\" is a made-up number",
        "content/site.toml:19:1: warning: booking_url \"https://riverside-pt.example/book\" is a sample address",
    ] {
        assert!(out.contains(expected), "missing {expected:?} in:\n{out}");
    }
    assert!(!out.contains("makes a health claim"), "every page with claims has sources: {out}");
}

#[test]
fn build_refuses_sample_settings_with_the_check_message_and_writes_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("public");
    let output = Command::new(env!("CARGO_BIN_EXE_clinic-site"))
        .args(["build", "--out", out.to_str().unwrap(), "--data", dir.path().join("no-data").to_str().unwrap()])
        .output()
        .expect("the binary runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("content/site.toml:18:1: error: phone \"(555) 010-0142\" is a made-up number (555 numbers are kept for films and examples)\n   18 | phone = \"(555) 010-0142\"\n      = hint: "),
        "{stderr}"
    );
    assert!(stderr.contains("a published export may not carry sample settings"), "{stderr}");
    assert!(!out.exists(), "nothing was written");
}

/// The text added around the clinic's own words must read at grade 8 or
/// below. The clinic's sentences are left out of the measure: their
/// wording is theirs to keep.
#[tokio::test]
async fn text_added_to_the_article_reads_at_grade_eight_or_below() {
    let seed =
        normalise(&std::fs::read_to_string("tests/fixtures/seed/dry-needling-article.txt").expect("seed fixture"));
    let app = real_app();
    let mut added = String::new();
    for (path, _) in ARTICLE {
        let html = get(&app, path).await.html();
        for block in select(&html, ".prose p, .prose li, .prose h2, .prose h3") {
            if block.value().name() == "li" && !select_in(&block, "p").is_empty() {
                continue;
            }
            let text = without_markers(&collapse(&block.text().collect::<String>()));
            let label_free = text
                .split_once(": ")
                .filter(|(label, _)| {
                    [
                        "Information",
                        "Urgent advice",
                        "Immediate action required",
                        "Non-urgent advice",
                        "About the evidence",
                    ]
                    .contains(label)
                })
                .map_or(text.as_str(), |(_, rest)| rest);
            if !seed.contains(&normalise(label_free)) {
                added.push_str(label_free);
                added.push('\n');
            }
        }
    }
    assert!(added.split_whitespace().count() > 250, "the added text was found:\n{added}");
    let readability = Readability::of_blocks(&added);
    assert!(readability.grade() <= 8.0, "the added text reads at grade {:.1}:\n{added}", readability.grade());
}

/// Text without its "[source 1]" citation markers.
fn without_markers(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("[source ") {
        out.push_str(&rest[..start]);
        rest = rest[start..].split_once(']').map_or("", |(_, after)| after);
    }
    out.push_str(rest);
    out
}

fn normalise(text: &str) -> String {
    collapse(&text.replace("**", "").replace(['’', '‘'], "'").replace(['“', '”'], "\""))
}

fn select_in<'a>(element: &scraper::ElementRef<'a>, selector: &str) -> Vec<scraper::ElementRef<'a>> {
    element.select(&scraper::Selector::parse(selector).expect("selector")).collect()
}

#[tokio::test]
async fn the_privacy_notice_says_what_is_kept_for_how_long_and_how_to_remove_it() {
    let app = real_app();
    let response = get(&app, "/privacy/").await;
    assert_eq!(response.status, 200);
    let html = response.html();
    assert_eq!(text_of(&html, "h1"), "How we handle your comments");
    let text = text_of(&html, "main");
    for point in [
        "What we keep",
        "What we do not keep",
        "Who reads your comment",
        "delete them for good 30 days after they are rejected",
        "How to have your comment removed",
        "(555) 010-0142",
        "911 in an emergency",
    ] {
        assert!(text.contains(point), "{point:?} missing: {text}");
    }
    let unwell = text_of(&get(&app, "/dry-needling/safety/").await.html(), "#comments .comments-unwell");
    assert!(unwell.starts_with("Feeling unwell after a treatment? Do not post here: call the clinic on (555) 010-0142, or 911 in an emergency."), "{unwell}");
}

#[test]
fn a_source_with_a_broken_doi_keeps_the_last_good_site_serving() {
    let content = copy_fixture("valid");
    let dir = content.path().to_str().expect("UTF-8 path");
    let server = Server::start(&["serve", "--content", dir]);
    let sources = content.path().join("sources.toml");
    let original = std::fs::read_to_string(&sources).expect("fixture");
    std::fs::write(&sources, format!("{original}doi = \"doi:10.1/x\"\n")).expect("edit saved");
    assert!(
        wait_until(20, || body(server.get("/healthz")).starts_with("content error")),
        "healthz never reported the error; log:\n{}",
        server.log.lock().unwrap()
    );
    // The log line follows the swap by a moment.
    assert!(
        wait_until(5, || server.log.lock().unwrap().contains("is not a DOI")),
        "the log says which source; log:\n{}",
        server.log.lock().unwrap()
    );
    let (status, page) = server.get("/guide/");
    assert_eq!(status, 200);
    assert!(String::from_utf8_lossy(&page).contains("ref-test-source"), "the last good version still lists its source");
}
