//! Any bytes as markdown: rendering must not panic, and no raw HTML typed
//! into a page may come out as a live element.
#![no_main]

use libfuzzer_sys::fuzz_target;

/// A tag's name and attributes, from the text between `<` and `>`. Our
/// output always quotes attribute values with `"`.
fn parse_tag(tag: &str) -> (String, Vec<(String, String)>) {
    let tag = tag.trim_start_matches('/');
    let name_end = tag.find(char::is_whitespace).unwrap_or(tag.len());
    let name = tag[..name_end].trim_end_matches('/').to_ascii_lowercase();
    let mut attrs = Vec::new();
    let mut rest = tag[name_end..].trim_start();
    while !rest.is_empty() && !rest.starts_with('/') {
        let end = rest.find(|c: char| c == '=' || c.is_whitespace()).unwrap_or(rest.len());
        let attr = rest[..end].to_ascii_lowercase();
        rest = &rest[end..];
        let mut value = String::new();
        if let Some(after) = rest.strip_prefix("=\"") {
            let close = after.find('"').unwrap_or(after.len());
            value = after[..close].to_ascii_lowercase();
            rest = after.get(close + 1..).unwrap_or("");
        }
        attrs.push((attr, value));
        rest = rest.trim_start();
    }
    (name, attrs)
}

fuzz_target!(|data: &[u8]| {
    let Ok(markdown) = std::str::from_utf8(data) else { return };
    let rendered = clinic_site::render::render(markdown);
    // Text is escaped, so every `<` in the output opens one of our own
    // tags; look inside each for what must never be there.
    for tag in rendered.html.split('<').skip(1).filter_map(|rest| rest.split('>').next()) {
        let (name, attrs) = parse_tag(tag);
        assert!(!["script", "iframe", "object", "embed", "svg", "style", "math"].contains(&name.as_str()), "<{tag}> from {markdown:?}");
        for (attr, value) in attrs {
            assert!(!attr.starts_with("on"), "event handler in <{tag}> from {markdown:?}");
            let value: String = value.chars().filter(|c| !c.is_whitespace() && !c.is_control()).collect();
            assert!(!value.starts_with("javascript:") && !value.starts_with("data:") && !value.starts_with("vbscript:"), "<{tag}> from {markdown:?}");
        }
    }
    for note in &rendered.notes {
        assert!(note.offset <= markdown.len());
    }
});
