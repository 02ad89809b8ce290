//! Checks that need more than one file, or a page's rendered headings:
//! duplicate addresses, links to pages or headings that do not exist, and
//! what rendering had to change in a page.

use std::collections::{HashMap, HashSet};

use super::{ContentError, Page};
use crate::render::{NoteKind, Rendered};

/// A page with its address and rendered body, as the checks see it.
pub struct Checked<'a> {
    pub page: &'a Page,
    pub url: &'a str,
    pub rendered: &'a Rendered,
}

/// Every problem across the pages, errors and warnings alike.
pub fn check(pages: &[Checked<'_>]) -> Vec<ContentError> {
    let mut problems = Vec::new();
    let mut seen: HashMap<&str, &Page> = HashMap::new();
    for checked in pages {
        if let Some(first) = seen.insert(checked.url, checked.page) {
            problems.push(
                ContentError::new(&checked.page.path, checked.page.line_of_key("slug"), format!("this page has the same web address ({}) as {}", checked.url, first.path.display()))
                    .hint("give one of the two pages a different slug or file name"),
            );
        }
    }
    let anchors: HashMap<&str, HashSet<&str>> =
        pages.iter().map(|c| (c.url, c.rendered.headings.iter().map(|h| h.id.as_str()).collect())).collect();
    for checked in pages {
        notes(checked, &mut problems);
        links(checked, &anchors, &mut problems);
    }
    problems
}

fn notes(checked: &Checked<'_>, problems: &mut Vec<ContentError>) {
    let page = checked.page;
    for note in &checked.rendered.notes {
        let line = page.line_at(page.body_start + note.offset);
        problems.push(match &note.kind {
            NoteKind::RawHtml => ContentError::new(&page.path, line, "raw HTML is shown as plain text on the page, not used as HTML")
                .hint("use markdown instead: **bold**, *italic*, [link text](/address), - for lists")
                .warning(),
            NoteKind::UnsafeAddress(scheme) => ContentError::new(&page.path, line, format!("links starting with \"{scheme}:\" are not allowed, so this link was left out"))
                .hint("link to a web page (https://...), another page of the site (/dry-needling/safety/), an email (mailto:) or a phone number (tel:)")
                .warning(),
            NoteKind::TitleLevelHeading => ContentError::new(&page.path, line, "a heading with one # is shown as a ## heading: the page title is the only top-level heading")
                .hint("start section headings with ## (and ### for parts inside them)")
                .warning(),
            NoteKind::UnknownCallout(word) => ContentError::new(&page.path, line, format!("\"[!{word}]\" is not a kind of callout"))
                .hint("use one of > [!INFO], > [!NON-URGENT], > [!URGENT] or > [!EMERGENCY]"),
        });
    }
}

fn links(checked: &Checked<'_>, anchors: &HashMap<&str, HashSet<&str>>, problems: &mut Vec<ContentError>) {
    let page = checked.page;
    for link in checked.rendered.links.iter().filter(|l| !l.is_image) {
        let Some((path, fragment)) = internal_target(checked.url, &link.dest) else { continue };
        let line = page.line_at(page.body_start + link.offset);
        let Some(ids) = anchors.get(path.as_str()) else {
            if !path.starts_with("/static/") {
                problems.push(
                    ContentError::new(&page.path, line, format!("link to {} matches no page", link.dest))
                        .hint(format!("check the address; pages are at addresses like {}", example_address(anchors))),
                );
            }
            continue;
        };
        if let Some(fragment) = fragment.filter(|f| !f.is_empty() && !ids.contains(f.as_str())) {
            let mut known: Vec<&str> = ids.iter().copied().collect();
            known.sort_unstable();
            problems.push(
                ContentError::new(&page.path, line, format!("link to #{fragment} matches no heading on {path}"))
                    .hint(format!("the headings there have these ids: {}", known.join(", "))),
            );
        }
    }
}

fn example_address(anchors: &HashMap<&str, HashSet<&str>>) -> String {
    let mut urls: Vec<&str> = anchors.keys().copied().filter(|u| u.matches('/').count() == 3).collect();
    urls.sort_unstable();
    urls.first().copied().unwrap_or("/").to_string()
}

/// Where a link inside the site points, resolved against the page it is on,
/// as canonical path and fragment; `None` for links that leave the site.
fn internal_target(from: &str, dest: &str) -> Option<(String, Option<String>)> {
    if dest.contains(':') || dest.starts_with("//") {
        return None;
    }
    let (path, fragment) = match dest.split_once('#') {
        Some((p, f)) => (p, Some(f.to_string())),
        None => (dest, None),
    };
    let path = path.split('?').next().unwrap_or("");
    let resolved = if path.is_empty() {
        from.to_string()
    } else if path.starts_with('/') {
        path.to_string()
    } else {
        let mut segments: Vec<&str> = from.trim_end_matches('/').split('/').filter(|s| !s.is_empty()).collect();
        for part in path.split('/') {
            match part {
                "" | "." => {}
                ".." => {
                    segments.pop();
                }
                other => segments.push(other),
            }
        }
        format!("/{}", segments.join("/"))
    };
    let canonical = if resolved.ends_with('/') || resolved.starts_with("/static/") { resolved } else { format!("{resolved}/") };
    Some((canonical, fragment))
}

#[cfg(test)]
mod tests {
    use super::internal_target;

    #[test]
    fn internal_links_resolve_like_a_browser_would() {
        let from = "/dry-needling/safety/";
        assert_eq!(internal_target(from, "#side-effects"), Some((from.to_string(), Some("side-effects".into()))));
        assert_eq!(internal_target(from, "/dry-needling/migraines"), Some(("/dry-needling/migraines/".into(), None)));
        assert_eq!(internal_target(from, "../migraines/#a"), Some(("/dry-needling/migraines/".into(), Some("a".into()))));
        assert_eq!(internal_target(from, "https://example.org/x"), None);
        assert_eq!(internal_target(from, "mailto:a@b.c"), None);
    }
}
