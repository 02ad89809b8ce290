//! Property tests of the content pipeline: whatever staff type, rendering
//! never panics, never lets script through, and every problem points at a
//! real line.

use std::path::Path;

use clinic_site::content::Page;
use clinic_site::render::render;
use proptest::prelude::*;
use scraper::{Html, Selector};

/// Markdown built from pieces that stress the parser and our rewriting:
/// HTML, links with odd schemes, callout markers, headings with ids,
/// tables, footnotes, and plain noise.
fn markdown() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("<script>alert(1)</script>".to_string()),
        Just("<img src=x onerror=alert(1)>".to_string()),
        Just("<a href=\"javascript:alert(1)\">x</a>".to_string()),
        Just("<div onclick=\"x()\">".to_string()),
        Just("<svg onload=alert(1)>".to_string()),
        Just("<!-- comment -->".to_string()),
        Just("<iframe src=//evil>".to_string()),
        Just("[link](javascript:alert(1))".to_string()),
        Just("[link](JAVA\tSCRIPT:alert(1))".to_string()),
        Just("![img](data:text/html;base64,PHNjcmlwdD4=)".to_string()),
        Just("[ok](/dry-needling/safety/#side-effects)".to_string()),
        Just("> [!URGENT] Get help\n> now".to_string()),
        Just("> [!INFO]".to_string()),
        Just("> [!NOPE] x".to_string()),
        Just("## Heading {#custom-id}".to_string()),
        Just("# Title".to_string()),
        Just("#### Deep".to_string()),
        Just("1. ## Step\n   text".to_string()),
        Just("| a | b |\n|---|---|\n| 1 | 2 |".to_string()),
        Just("Note[^1]\n\n[^1]: The note.".to_string()),
        Just("~~gone~~ **bold** *it* `code`".to_string()),
        Just("```\n<script>in code</script>\n```".to_string()),
        Just("&lt;script&gt; &#x3C;script&#x3E;".to_string()),
        "[ -~]{0,40}",
        "\\PC{0,20}",
    ];
    prop::collection::vec(piece, 0..12).prop_map(|pieces| pieces.join("\n\n"))
}

fn no_live_script(html: &str) -> Result<(), String> {
    let document = Html::parse_fragment(html);
    let all = Selector::parse("*").expect("valid selector");
    for element in document.select(&all) {
        let name = element.value().name();
        if matches!(name, "script" | "iframe" | "object" | "embed" | "svg" | "img" | "style")
            && !(name == "img" && element.value().attr("src") == Some(""))
        {
            return Err(format!("live <{name}> element"));
        }
        for (attr, value) in element.value().attrs() {
            if attr.starts_with("on") {
                return Err(format!("event handler {attr}"));
            }
            let value = value.trim().to_ascii_lowercase().replace(['\t', '\n', '\r'], "");
            if (attr == "href" || attr == "src")
                && (value.starts_with("javascript:") || value.starts_with("data:") || value.starts_with("vbscript:"))
            {
                return Err(format!("{attr}={value}"));
            }
        }
    }
    Ok(())
}

#[test]
fn the_script_detector_catches_what_it_looks_for() {
    for live in [
        "<script>x</script>",
        "<p onclick=\"x()\">a</p>",
        "<a href=\" javascript:x\">a</a>",
        "<img src=x>",
        "<svg></svg>",
    ] {
        assert!(no_live_script(live).is_err(), "{live}");
    }
    assert!(no_live_script("<p>&lt;script&gt;</p><a href=\"/x/\">ok</a>").is_ok());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 384, ..ProptestConfig::default() })]

    #[test]
    fn rendering_any_markdown_never_lets_script_through(md in markdown()) {
        let rendered = render(&md);
        if let Err(problem) = no_live_script(&rendered.html) {
            prop_assert!(false, "{problem} in output of {md:?}:\n{}", rendered.html);
        }
        for note in &rendered.notes {
            prop_assert!(note.offset <= md.len());
        }
    }

    #[test]
    fn rendering_arbitrary_text_never_panics(text in "\\PC{0,300}") {
        let rendered = render(&text);
        prop_assert!(no_live_script(&rendered.html).is_ok(), "{}", rendered.html);
    }

    #[test]
    fn any_front_matter_either_parses_or_points_at_a_real_line(
        keys in prop::collection::vec(prop_oneof![
            Just("title = \"T\"".to_string()),
            Just("description = \"A description.\"".to_string()),
            Just("last_reviewed = 2026-01-15".to_string()),
            Just("last_reviewed = 2026-02-30".to_string()),
            Just("weight = \"two\"".to_string()),
            Just("titel = \"typo\"".to_string()),
            Just("slug = \"Bad Slug\"".to_string()),
            Just("aliases = [\"/old/\"]".to_string()),
            Just("sources = [{ title = \"x\" }]".to_string()),
            Just("draft = yes".to_string()),
            Just("+++".to_string()),
            "[ -~]{0,30}",
        ], 0..8),
        fence in any::<bool>(),
        body in "[ -~\\n]{0,60}",
    ) {
        let source = format!("{}{}\n{}{}", if fence { "+++\n" } else { "" }, keys.join("\n"), if fence { "+++\n" } else { "" }, body);
        let lines = source.lines().count().max(1);
        match Page::parse(Path::new("content/a/page.md"), source.clone()) {
            Ok(page) => prop_assert!(page.body_start <= source.len() && source.starts_with("+++")),
            Err(errors) => {
                prop_assert!(!errors.is_empty());
                for error in errors {
                    prop_assert!(error.line >= 1 && error.line <= lines + 1, "line {} of {lines} for {source:?}: {error}", error.line);
                    prop_assert!(!error.message.is_empty());
                }
            }
        }
    }
}
