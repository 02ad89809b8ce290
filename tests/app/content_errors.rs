//! Broken content gives staff a message naming the file and line, and the
//! server refuses to start rather than serve half a site.

use std::process::Command;

use crate::helpers::load_error;

/// Every message produced for a fixture folder, as staff would read them.
fn messages(case: &str) -> String {
    load_error(&format!("invalid/{case}"))
}

#[test]
fn missing_required_key_names_file_line_and_fix() {
    let text = messages("missing-description");
    assert!(
        text.contains("tests/fixtures/invalid/missing-description/guide/index.md:4:1: error: front matter: missing required key \"description\""),
        "{text}"
    );
    assert!(text.contains("hint: add a line such as description = "), "{text}");
}

#[test]
fn unknown_key_is_an_error_with_a_suggestion() {
    let text = messages("unknown-key");
    assert!(
        text.contains(
            "tests/fixtures/invalid/unknown-key/guide/index.md:2:1: error: front matter: unknown key \"titel\""
        ),
        "{text}"
    );
    assert!(text.contains("did you mean \"title\"?"), "{text}");
}

#[test]
fn links_to_missing_pages_and_headings_are_errors() {
    let text = messages("broken-link");
    assert!(
        text.contains(
            "tests/fixtures/invalid/broken-link/guide/index.md:9:5: error: link to /guide/safety/ matches no page"
        ),
        "{text}"
    );
    assert!(text.contains("tests/fixtures/invalid/broken-link/guide/index.md:9:40: error: link to #nowhere matches no heading on /guide/"), "{text}");
    assert!(text.ends_with("2 errors and 2 warnings found in the content"), "{text}");
}

#[test]
fn server_refuses_to_start_on_bad_content_with_a_plain_message() {
    // A data folder of its own: the checkout's `data/` is the developer's,
    // and other tests' binaries may be opening it at the same moment.
    let data = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_clinic-site"))
        .args(["serve", "--addr", "127.0.0.1:0", "--content", "tests/fixtures/invalid/missing-description"])
        .arg("--data")
        .arg(data.path())
        .output()
        .expect("the binary runs");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.starts_with("tests/fixtures/invalid/missing-description/guide/index.md:4:1: error: front matter: missing required key \"description\"\n    4 | +++\n      = hint: add a line such as description = "),
        "{stderr}"
    );
    assert!(stderr.trim_end().ends_with("1 error found in the content"), "{stderr}");
    assert!(!stderr.contains("panicked") && !stderr.contains("backtrace") && !stderr.contains("Error {"), "{stderr}");
}

#[test]
fn missing_content_folder_is_explained() {
    let data = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_clinic-site"))
        .args(["--addr", "127.0.0.1:0", "--content", "tests/fixtures/no-such-folder"])
        .arg("--data")
        .arg(data.path())
        .output()
        .expect("the binary runs");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("tests/fixtures/no-such-folder/site.toml: error: cannot read this file"), "{stderr}");
}

#[test]
fn an_old_address_the_site_keeps_for_itself_is_an_error() {
    let text = messages("reserved-alias");
    assert!(
        text.contains("tests/fixtures/invalid/reserved-alias/guide/index.md:5:1: error: the old address /admin/ uses \"admin\", which the site keeps for itself"),
        "{text}"
    );
    assert!(text.contains("the old address /guide/print/ uses \"print\""), "{text}");
}
