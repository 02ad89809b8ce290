//! Any bytes as a page file: parsing must not panic, and every problem
//! must point at a line that exists.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(source) = std::str::from_utf8(data) else { return };
    let lines = source.lines().count().max(1);
    if let Err(errors) = clinic_site::content::Page::parse(std::path::Path::new("content/a/page.md"), source.to_string()) {
        for error in errors {
            assert!(error.line >= 1 && error.line <= lines + 1, "line {} of {lines}", error.line);
        }
    }
});
