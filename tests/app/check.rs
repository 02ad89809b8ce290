//! `clinic-site check`: every problem at once, with file, line, column and
//! a hint, and a readability table.

use std::path::Path;
use std::process::Command;

use clinic_site::content::format_text;
use clinic_site::report::inspect;

fn check(args: &[&str]) -> (i32, String) {
    let output =
        Command::new(env!("CARGO_BIN_EXE_clinic-site")).arg("check").args(args).output().expect("the binary runs");
    (output.status.code().expect("exit code"), String::from_utf8(output.stdout).expect("UTF-8"))
}

/// One file per problem in tests/fixtures/broken/guide/; the reviewed
/// output is tests/fixtures/broken/expected.txt. To update it after an
/// intended change: `cargo run -- check --content tests/fixtures/broken`,
/// read every line, then copy the diagnostics into the file.
#[test]
fn every_broken_file_gives_its_exact_diagnostic() {
    // The static folder cannot be inside the content folder (it would be
    // read as an article), so the broken one is beside it: one picture no
    // page shows.
    let inspection = inspect(Path::new("tests/fixtures/broken"), Path::new("tests/fixtures/broken-static"));
    let actual = format_text(&inspection.problems);
    let expected = std::fs::read_to_string("tests/fixtures/broken/expected.txt").expect("snapshot exists");
    assert_eq!(actual, expected, "diagnostics changed; compare with tests/fixtures/broken/expected.txt");
    // Each file that is broken on purpose is named by some diagnostic.
    for entry in std::fs::read_dir("tests/fixtures/broken/guide").expect("fixture") {
        let name = entry.expect("entry").file_name().to_string_lossy().into_owned();
        // cites-sources.md cites the sources whose own problems are reported
        // in sources.toml.
        if !["index.md", "empty-link-target.md", "alias-one.md", "duplicate-slug.md", "cites-sources.md"]
            .contains(&name.as_str())
        {
            assert!(actual.contains(&format!("guide/{name}:")), "{name} produced no diagnostic");
        }
    }
}

#[test]
fn broken_content_fails_the_check_and_reports_every_problem() {
    let (code, out) = check(&["--content", "tests/fixtures/broken"]);
    assert_eq!(code, 1);
    assert!(out.contains("tests/fixtures/broken/guide/unknown-key.md:2:1: error: front matter: unknown key \"titel\"\n    2 | titel = \"Unknown key\"\n      = hint: did you mean \"title\"?"), "{out}");
    assert!(out.contains("tests/fixtures/broken/guide/wrong-type.md:7:10: error:"), "{out}");
    assert!(out.trim_end().ends_with("found."), "{out}");
    assert!(out.contains("22 errors and 20 warnings found."), "{out}");
}

#[test]
fn site_settings_problems_are_reported() {
    let (code, out) = check(&["--content", "tests/fixtures/broken-settings"]);
    assert_eq!(code, 1);
    assert!(
        out.starts_with(
            "tests/fixtures/broken-settings/site.toml:2:1: error: base_url \"clinic.test\" is not a web address"
        ),
        "{out}"
    );
}

#[test]
fn warnings_pass_unless_denied() {
    let (code, out) = check(&["--content", "tests/fixtures/valid"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("warning: raw HTML is shown as plain text"), "{out}");
    let (code, _) = check(&["--content", "tests/fixtures/valid", "--deny-warnings"]);
    assert_eq!(code, 1);
}

#[test]
fn the_real_content_has_no_errors() {
    let (code, out) = check(&[]);
    assert_eq!(code, 0, "{out}");
    assert!(!out.contains(": error:"), "{out}");
}

#[test]
fn readability_table_lists_every_page_and_the_whole_article() {
    let (_, out) = check(&[]);
    let table: Vec<&str> = out.lines().skip_while(|l| !l.starts_with("Page ")).take_while(|l| !l.is_empty()).collect();
    assert_eq!(table.len(), 1 + 7 + 1, "{out}");
    assert!(table[1].starts_with("content/dry-needling/index.md "), "{out}");
    assert!(table[8].starts_with("content/dry-needling/ (whole article)"), "{out}");
    for row in &table[1..] {
        let cells: Vec<&str> = row.rsplitn(6, ' ').filter(|c| !c.is_empty()).collect();
        let grade: f64 = cells[0].parse().unwrap_or_else(|_| panic!("grade in {row}"));
        assert!((0.0..25.0).contains(&grade), "{row}");
    }
}

#[test]
fn json_format_has_the_same_diagnostics_for_scripts() {
    let (code, out) = check(&["--content", "tests/fixtures/broken", "--format", "json"]);
    assert_eq!(code, 1);
    let report: serde_json::Value = serde_json::from_str(&out).expect("valid JSON");
    assert_eq!(report["errors"], 22);
    let diagnostics = report["diagnostics"].as_array().expect("array");
    assert_eq!(diagnostics.len() as u64, report["errors"].as_u64().unwrap() + report["warnings"].as_u64().unwrap());
    let unknown =
        diagnostics.iter().find(|d| d["path"] == "tests/fixtures/broken/guide/unknown-key.md").expect("reported");
    assert_eq!((unknown["line"].as_u64(), unknown["column"].as_u64()), (Some(2), Some(1)));
    assert_eq!(unknown["severity"], "error");
    assert_eq!(unknown["source_line"], "titel = \"Unknown key\"");
    assert!(unknown["hint"].as_str().unwrap().contains("did you mean \"title\"?"));
    let pages = report["readability"].as_array().expect("array");
    assert!(pages.iter().all(|p| p["grade"].is_number() && p["reading_ease"].is_number() && p["words"].is_number()));
}
