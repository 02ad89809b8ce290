//! Checks that need more than one file, or a page's rendered headings:
//! duplicate addresses, links to pages or headings that do not exist,
//! citations of sources that do not exist, claims without sources, review
//! status, and what rendering had to change in a page.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use crate::asset::Assets;
use crate::content::{Bibliography, Content, ContentError, Page, ReviewState, Severity};
use crate::readability::Readability;
use crate::render::NoteKind;
use crate::render::{Pictures, Rendered, RenderedArticle, RenderedPages, reading_minutes};
use crate::urls;
use crate::util::date::Date;

/// A page with its address and rendered body, as the checks see it.
pub struct Checked<'a> {
    pub page: &'a Page,
    pub url: &'a str,
    pub rendered: &'a Rendered,
    pub readability: Readability,
}

/// What the checks compare pages against.
pub struct Context<'a> {
    /// The static files, today's date and whether this is for publishing.
    pub options: &'a CheckOptions<'a>,
    /// From `site.toml`: pages reading above this grade get a warning.
    pub max_grade: f64,
    /// The sources pages may cite.
    pub bibliography: &'a Bibliography,
    /// From `site.toml`: words that make a health claim.
    pub claim_words: &'a [String],
}

/// Link phrases that say nothing out of context: screen reader users often
/// hear a page's links as a list, and "click here" tells them nothing.
const VAGUE_LINK_TEXT: &[&str] =
    &["click here", "here", "click", "read more", "more", "this link", "link", "this page"];

const DESCRIPTION_LENGTH: std::ops::RangeInclusive<usize> = 50..=160;
const TITLE_LENGTH: usize = 70;

/// Every problem across the pages, errors and warnings alike, in page order.
pub fn check(pages: &[Checked<'_>], context: &Context<'_>) -> Vec<ContentError> {
    let mut problems = Vec::new();
    let mut seen: HashMap<&str, &Page> = HashMap::new();
    for checked in pages {
        if let Some(first) = seen.insert(checked.url, checked.page) {
            // Report it where a slug was typed, since that is what to change.
            let (here, other) = if first.front.slug.is_some() && checked.page.front.slug.is_none() {
                (first, checked.page)
            } else {
                (checked.page, first)
            };
            problems.push(
                ContentError::new(
                    &here.path,
                    here.line_of_key("slug"),
                    format!("this page has the same web address ({}) as {}", checked.url, other.path.display()),
                )
                .hint("give one of the two pages a different slug or file name"),
            );
        }
    }
    aliases(pages, &mut problems);
    let anchors: HashMap<&str, HashSet<&str>> =
        pages.iter().map(|c| (c.url, c.rendered.headings.iter().map(|h| h.id.as_str()).collect())).collect();
    let moved = old_addresses(pages);
    let targets = Targets { anchors: &anchors, moved: &moved };
    // Each page's own checks, on every core; the order of the problems
    // stays the pages' order.
    let per_page = crate::asset::par_map(pages.iter().collect(), |checked| {
        let mut found = Vec::new();
        front_matter(checked.page, context, &mut found);
        headings(checked, &mut found);
        notes(checked, &mut found);
        links(checked, &targets, context, &mut found);
        readability(checked, context, &mut found);
        citations(checked, context, &mut found);
        claims(checked, context, &mut found);
        found
    });
    problems.extend(per_page.into_iter().flatten());
    unused_sources(pages, context, &mut problems);
    unused_images(pages, context, &mut problems);
    problems
}

/// A picture in `static/images/` that no page shows or links to is either
/// forgotten or linked under another name; either way it is published for
/// nobody. An uploaded picture's sizes count as one picture, shown when
/// any of them is.
fn unused_images(pages: &[Checked<'_>], context: &Context<'_>, problems: &mut Vec<ContentError>) {
    let targets: HashSet<String> = pages
        .iter()
        .flat_map(|c| c.rendered.links.iter().filter_map(|link| internal_target(c.url, &link.dest)))
        .map(|(path, _)| path)
        .collect();
    let shown_stems: HashSet<&str> = targets
        .iter()
        .filter_map(|path| urls::ImageName::parse(path.strip_prefix(urls::IMAGES)?))
        .map(|n| n.stem)
        .collect();
    let assets = context.options.assets;
    let mut unused: Vec<(&str, usize)> = Vec::new();
    for path in assets.paths().into_iter().filter(|path| path.starts_with(urls::IMAGES) && assets.contains(path)) {
        match urls::ImageName::parse(&path[urls::IMAGES.len()..]) {
            Some(name) if shown_stems.contains(name.stem) => {}
            Some(name) => {
                // Reported once, at its largest size.
                let same = |(other, _): &&mut (&str, usize)| {
                    urls::ImageName::parse(&other[urls::IMAGES.len()..]).is_some_and(|o| o.stem == name.stem)
                };
                match unused.iter_mut().find(same) {
                    Some(entry) => {
                        let width = |p: &str| urls::ImageName::parse(&p[urls::IMAGES.len()..]).map_or(0, |n| n.width);
                        if name.width > width(entry.0) {
                            entry.0 = path;
                        }
                        entry.1 += 1;
                    }
                    None => unused.push((path, 1)),
                }
            }
            None if !targets.contains(path) => unused.push((path, 1)),
            None => {}
        }
    }
    for (path, sizes) in unused {
        let file = context.options.static_dir.join(&path[urls::STATIC.len()..]);
        let others = if sizes > 1 { " (and its smaller size, whose name starts the same)" } else { "" };
        problems.push(
            ContentError::new(&file, 0, "no page shows this image")
                .hint(format!("delete it{others} or use it in a page, like ![What the picture shows]({path})"))
                .warning(),
        );
    }
}

/// Every marker and every listed key must name a source in the
/// bibliography: a citation that leads nowhere is worse than none.
fn citations(checked: &Checked<'_>, context: &Context<'_>, problems: &mut Vec<ContentError>) {
    let page = checked.page;
    let known = || {
        let keys: Vec<&str> = context.bibliography.entries.keys().map(String::as_str).collect();
        if keys.is_empty() {
            format!("{} has no sources yet", context.bibliography.path.display())
        } else {
            format!("the sources are: {}", keys.join(", "))
        }
    };
    let suggestion = |key: &str| {
        let keys: Vec<&str> = context.bibliography.entries.keys().map(String::as_str).collect();
        crate::content::front_matter::closest(key, &keys)
            .map(|k| format!("did you mean [^{k}]? Otherwise, "))
            .unwrap_or_default()
    };
    for citation in &checked.rendered.citations {
        if context.bibliography.get(&citation.key).is_none() {
            problems.push(
                page.error_in_body(
                    citation.offset,
                    format!(
                        "[^{}] cites a source that is not in {}",
                        citation.key,
                        context.bibliography.path.display()
                    ),
                )
                .hint(format!(
                    "{}add it to {} under [{}], or use the key of a source that is there; {}",
                    suggestion(&citation.key),
                    context.bibliography.path.display(),
                    citation.key,
                    known()
                )),
            );
        }
    }
    for key in &page.front.sources {
        if context.bibliography.get(key).is_none() {
            problems.push(
                ContentError::new(
                    &page.path,
                    line_of_text(page, key, "sources"),
                    format!("sources lists \"{key}\", which is not in {}", context.bibliography.path.display()),
                )
                .hint(format!(
                    "add it to {} under [{key}], or use the key of a source that is there; {}",
                    context.bibliography.path.display(),
                    known()
                )),
            );
        }
    }
}

/// A source nobody cites is either forgotten or cited under another key.
fn unused_sources(pages: &[Checked<'_>], context: &Context<'_>, problems: &mut Vec<ContentError>) {
    let used: HashSet<&str> = pages
        .iter()
        .flat_map(|c| {
            c.rendered
                .citations
                .iter()
                .map(|citation| citation.key.as_str())
                .chain(c.page.front.sources.iter().map(String::as_str))
        })
        .collect();
    for key in context.bibliography.entries.keys().filter(|k| !used.contains(k.as_str())) {
        problems.push(
            ContentError::new(
                &context.bibliography.path,
                context.bibliography.line_of(key),
                format!("the source [{key}] is not cited or listed on any page"),
            )
            .hint(format!(
                "cite it with [^{key}] after the sentence it supports, list it in a page's sources, or remove it"
            ))
            .warning(),
        );
    }
}

/// How a claim warning's message ends, after the claim words: the one
/// place it is written, so [`is_claim_warning`] finds exactly these.
const CLAIM_WITHOUT_SOURCE: &str = "makes a health claim, but this page has no sources";

/// Whether a problem is a health claim on a page without sources, which the
/// quality report counts per page.
pub fn is_claim_warning(problem: &ContentError) -> bool {
    problem.severity == Severity::Warning && problem.message.ends_with(CLAIM_WITHOUT_SOURCE)
}

/// Words that promise an outcome, on a page that shows no source for it.
/// One warning per sentence, at the first such word.
fn claims(checked: &Checked<'_>, context: &Context<'_>, problems: &mut Vec<ContentError>) {
    let page = checked.page;
    if !page.front.sources.is_empty() || !checked.rendered.citations.is_empty() || context.claim_words.is_empty() {
        return;
    }
    // The title and description make claims in search results and previews too.
    let front_lines = ["title", "description"].map(|key| page.line_of_key(key));
    let mut offset = 0;
    for (index, line) in page.source.split_inclusive('\n').enumerate() {
        let in_body = offset >= page.body_start;
        let start = offset;
        offset += line.len();
        if !in_body && !front_lines.contains(&(index + 1)) {
            continue;
        }
        for (sentence_start, sentence) in sentences(line) {
            let lower = sentence.to_lowercase();
            let mut found: Vec<(usize, &str)> = context
                .claim_words
                .iter()
                .filter_map(|word| find_claim_in(sentence, &lower, word).map(|at| (at, word.as_str())))
                .collect();
            found.sort_unstable();
            let Some(&(first, _)) = found.first() else { continue };
            let mut words: Vec<&str> = found.iter().map(|(_, w)| *w).collect();
            words.dedup();
            let (line_number, column) = crate::content::line_col(&page.source, start + sentence_start + first);
            problems.push(
                ContentError::new(&page.path, line_number, format!("\"{}\" {CLAIM_WITHOUT_SOURCE}", words.join("\", \"")))
                    .column(column)
                    .hint("add a source that supports it (cite it with [^key] or list it in sources), or soften the claim, like \"can help\" or \"some people find\"")
                    .warning(),
            );
        }
    }
}

/// A line's sentences with their byte offsets: split after . ! or ?
/// followed by a space, which is all a warning's position needs.
fn sentences(line: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start = 0;
    let bytes = line.as_bytes();
    for i in 0..bytes.len() {
        if matches!(bytes[i], b'.' | b'!' | b'?') && bytes.get(i + 1).is_some_and(u8::is_ascii_whitespace) {
            out.push((start, &line[start..=i]));
            start = i + 1;
        }
    }
    out.push((start, &line[start..]));
    out
}

/// Where a claim word or phrase starts in `text`, case-insensitively, as a
/// whole word or with a common ending ("effectively", "cured", "relieves").
#[cfg(test)]
fn find_claim(text: &str, word: &str) -> Option<usize> {
    find_claim_in(text, &text.to_lowercase(), word)
}

/// [`find_claim`] with `text` already lowercased as `lower`: a sentence is
/// searched for every claim word, and is lowercased once for all of them.
fn find_claim_in(text: &str, lower: &str, word: &str) -> Option<usize> {
    let word = word.trim().to_lowercase();
    if word.is_empty() || lower.len() != text.len() {
        // Case folding changed byte lengths (rare scripts): offsets would
        // be wrong, so match exactly instead.
        return text.find(word.as_str()).filter(|_| !word.is_empty());
    }
    let is_letter = |c: Option<char>| c.is_some_and(char::is_alphanumeric);
    lower.match_indices(word.as_str()).map(|(at, _)| at).find(|&at| {
        let before = lower[..at].chars().next_back();
        let after = &lower[at + word.len()..];
        let ending: String = after.chars().take_while(|c| c.is_alphanumeric()).collect();
        !is_letter(before) && ["", "s", "d", "ly", "ed", "es", "ness"].contains(&ending.as_str())
    })
}

/// Lengths that link previews and search results cut, and review dates.
fn front_matter(page: &Page, context: &Context<'_>, problems: &mut Vec<ContentError>) {
    let front = &page.front;
    let length = front.description.chars().count();
    if !DESCRIPTION_LENGTH.contains(&length) {
        let (what, hint) = if length < *DESCRIPTION_LENGTH.start() {
            ("short", "say in one sentence what a reader will learn on this page")
        } else {
            (
                "long",
                "search results and link previews cut descriptions after about 160 characters: shorten it to one plain sentence",
            )
        };
        problems.push(
            ContentError::new(
                &page.path,
                page.line_of_key("description"),
                format!("the description is {what} ({length} characters; aim for 50 to 160)"),
            )
            .hint(hint)
            .warning(),
        );
    }
    let length = front.title.chars().count();
    if length > TITLE_LENGTH {
        problems.push(
            ContentError::new(
                &page.path,
                page.line_of_key("title"),
                format!("the title is long ({length} characters; aim for {TITLE_LENGTH} or fewer)"),
            )
            .hint(
                "browser tabs, search results and link previews cut long titles; a shorter title is easier to take in",
            )
            .warning(),
        );
    }
    let Some(review) = front.review() else {
        problems.push(
            ContentError::new(&page.path, 1, "this page has not been clinically reviewed, so it shows \"Last updated\" and no review claim")
                .hint("ask a clinician to check it, then add reviewed_by = \"Name, credentials\" and last_reviewed = <the date they did> (see \"Clinical review\" in README.md)")
                .warning(),
        );
        return;
    };
    signed_off(page, problems);
    if review.next < context.options.today {
        problems.push(
            ContentError::new(
                &page.path,
                page.line_of_key(if front.next_review.is_some() { "next_review" } else { "last_reviewed" }),
                format!("this page was due for clinical review on {}", review.next.long()),
            )
            .hint("ask a clinician to check the page, then set last_reviewed to the date they did")
            .warning(),
        );
    }
    if review.on > context.options.today {
        problems.push(
            ContentError::new(
                &page.path,
                page.line_of_key("last_reviewed"),
                format!("last_reviewed is in the future ({})", review.on.long()),
            )
            .hint("set it to the date the page was actually checked")
            .warning(),
        );
    }
}

/// A review is shown to readers only while the page's text is the text a
/// reviewer signed off (`reviewed_revision`, see `content::review`). One
/// that no longer matches, or that was typed by hand, is not a failure
/// of the page, but the clinic should know its readers are no longer told
/// of it.
fn signed_off(page: &Page, problems: &mut Vec<ContentError>) {
    let state = page.review_state();
    let Some(review) = state.last() else { return };
    let sign_off = "a reviewer checks the page and signs it off in the workspace (Reviews, at /admin/reviews); until then readers see \"Last clinical review\" and no reviewer's name";
    let (line, message) = match state {
        ReviewState::Changed(_) => (
            page.line_of_key("reviewed_revision"),
            format!(
                "changed since review: the text is not the text {} signed off on {} (reviewed_revision does not match)",
                review.by,
                review.on.long()
            ),
        ),
        ReviewState::Unsigned(_) => (
            page.line_of_key("reviewed_by"),
            format!(
                "changed since review, or never signed off: the review by {} has no reviewed_revision, so nobody can tell which text was reviewed",
                review.by
            ),
        ),
        ReviewState::Current(_) | ReviewState::Never => return,
    };
    problems.push(ContentError::new(&page.path, line, message).hint(sign_off).warning());
}

/// Screen reader users move between headings; a jump from ## to #### makes
/// them think they missed a part.
fn headings(checked: &Checked<'_>, problems: &mut Vec<ContentError>) {
    let page = checked.page;
    let mut previous = 1;
    for heading in &checked.rendered.headings {
        if heading.level > previous + 1 {
            problems.push(
                page.error_in_body(
                    heading.offset,
                    format!("heading \"{}\" skips a level (h{previous} to h{})", heading.text, heading.level),
                )
                .hint(format!(
                    "use {} for this heading, or add the missing level above it",
                    "#".repeat(usize::from(previous) + 1)
                ))
                .warning(),
            );
        }
        previous = heading.level;
    }
}

fn readability(checked: &Checked<'_>, context: &Context<'_>, problems: &mut Vec<ContentError>) {
    let grade = checked.readability.grade();
    if checked.readability.words >= 30 && grade > context.max_grade {
        problems.push(
            ContentError::new(&checked.page.path, 1, format!("this page reads at grade {grade:.1}, above the site's limit of {}", context.max_grade))
                .hint("shorter sentences and everyday words make it easier to read; patient pages should read at about grade 6 to 8")
                .warning(),
        );
    }
}

/// Old addresses must look like paths, and each may lead to one page only.
fn aliases(pages: &[Checked<'_>], problems: &mut Vec<ContentError>) {
    let mut taken: HashMap<String, String> =
        pages.iter().map(|c| (urls::loose(c.url), format!("the page {}", c.page.path.display()))).collect();
    for checked in pages {
        let page = checked.page;
        if let Some(word) = urls::reserved_word_in(checked.url) {
            problems.push(
                ContentError::new(
                    &page.path,
                    page.line_of_key("slug"),
                    format!("the web address {} uses \"{word}\", which the site keeps for itself", checked.url),
                )
                .hint("choose another slug or file name"),
            );
        }
        for alias in &page.front.aliases {
            let line = line_of_text(page, alias, "aliases");
            if !alias.starts_with('/') || alias.contains(['?', '#', ' ', '\\']) || alias.len() > 200 {
                problems.push(
                    ContentError::new(&page.path, line, format!("the old address \"{alias}\" is not a path on this site"))
                        .hint("write it as it appeared after the site's name, starting with /, like \"/dry-needling/side-effects/\""),
                );
                continue;
            }
            if let Some(word) = urls::reserved_word_in(alias) {
                problems.push(
                    ContentError::new(
                        &page.path,
                        line,
                        format!("the old address {alias} uses \"{word}\", which the site keeps for itself"),
                    )
                    .hint("the site's own page would answer instead: remove this old address"),
                );
                continue;
            }
            let key = urls::loose(alias);
            let here = format!("the alias in {}", page.path.display());
            if let Some(owner) = taken.insert(key, here) {
                problems.push(
                    ContentError::new(&page.path, line, format!("the old address {alias} is already used by {owner}"))
                        .hint("an old address can lead to one page only: remove it from one of the two"),
                );
            }
        }
    }
}

/// The line of the front matter where `text` is written, in quotes; the
/// line of `key` when it cannot be found.
fn line_of_text(page: &Page, text: &str, key: &str) -> usize {
    let quoted = format!("\"{text}\"");
    page.source[..page.body_start].find(&quoted).map_or_else(|| page.line_of_key(key), |offset| page.line_at(offset))
}

fn notes(checked: &Checked<'_>, problems: &mut Vec<ContentError>) {
    let page = checked.page;
    let mut seen = HashSet::new();
    for note in &checked.rendered.notes {
        // `<b>bold</b>` is two pieces of raw HTML but one thing to fix.
        if !seen.insert((page.line_at(page.body_start + note.offset), std::mem::discriminant(&note.kind))) {
            continue;
        }
        let at = |message: String| page.error_in_body(note.offset, message);
        problems.push(match &note.kind {
            NoteKind::RawHtml => at("raw HTML is shown as plain text on the page, not used as HTML".to_string())
                .hint("use markdown instead: **bold**, *italic*, [link text](/address), - for lists")
                .warning(),
            NoteKind::UnsafeAddress(scheme) => at(format!("links starting with \"{scheme}:\" are not allowed, so this link was left out"))
                .hint("link to a web page (https://...), another page of the site (/dry-needling/safety/), an email (mailto:) or a phone number (tel:)")
                .warning(),
            NoteKind::TitleLevelHeading => at("a heading with one # is shown as a ## heading: the page title is the only top-level heading".to_string())
                .hint("start section headings with ## (and ### for parts inside them)")
                .warning(),
            NoteKind::UnknownCallout(word) => at(format!("\"[!{word}]\" is not a kind of callout"))
                .hint("use one of > [!INFO], > [!NON-URGENT], > [!URGENT], > [!EMERGENCY] or > [!EVIDENCE]"),
            NoteKind::CalloutWithoutHeading(callout) => at(format!("this [!{}] callout has no heading", callout.marker()))
                .hint(format!("say what to do on the marker's line, like > [!{}] Call 911 if", callout.marker())),
            NoteKind::FootnoteDefinition(label) => at(format!("the source note [^{label}]: ... is not shown: sources are written once, in sources.toml"))
                .hint(format!("move the source into content/sources.toml under [{label}] with its authors, title and note, and keep [^{label}] in the text")),
        });
    }
}

/// Where links may lead: each page's address with its heading ids, and
/// each old address (`aliases`, as loose keys) with the page it leads to.
struct Targets<'a> {
    anchors: &'a HashMap<&'a str, HashSet<&'a str>>,
    moved: &'a HashMap<String, &'a str>,
}

/// Old addresses and where they lead, the first page listing one winning
/// (`aliases` reports a second as an error).
fn old_addresses<'a>(pages: &[Checked<'a>]) -> HashMap<String, &'a str> {
    let mut moved = HashMap::new();
    for checked in pages {
        for alias in &checked.page.front.aliases {
            moved.entry(urls::loose(alias)).or_insert(checked.url);
        }
    }
    moved
}

fn links(checked: &Checked<'_>, targets: &Targets<'_>, context: &Context<'_>, problems: &mut Vec<ContentError>) {
    let anchors = targets.anchors;
    let page = checked.page;
    for link in &checked.rendered.links {
        let at = |message: String| page.error_in_body(link.offset, message);
        let text = link.text.trim();
        if link.is_image && text.is_empty() {
            problems.push(
                at("this image has no alt text".to_string())
                    .hint("describe the image between the square brackets, like ![Therapist placing a needle in the upper back](/static/needling.jpg)")
                    .warning(),
            );
        } else if !link.is_image && VAGUE_LINK_TEXT.contains(&text.to_lowercase().trim_end_matches('.')) {
            problems.push(
                at(format!("the link text \"{text}\" does not say where the link goes"))
                    .hint("use words that make sense on their own, like [book an appointment](/book/) instead of [click here](/book/)")
                    .warning(),
            );
        }
        let Some((path, fragment)) = internal_target(checked.url, &link.dest) else { continue };
        if path.starts_with(urls::STATIC) {
            if !context.options.assets.contains(&path) {
                problems.push(
                    at(format!("{} is not in the static folder", link.dest)).hint(format!(
                        "put the file in {} or correct the address",
                        context.options.static_dir.display()
                    )),
                );
            }
            continue;
        }
        if link.is_image {
            problems.push(
                at(format!("the image {} is not in the static folder", link.dest))
                    .hint("put images in the static folder and link them as /static/name.jpg"),
            );
            continue;
        }
        if !anchors.contains_key(path.as_str())
            && let Some(now) = targets.moved.get(&urls::loose(&path))
        {
            // A page renamed or moved to the trash leaves its address
            // behind as an old one, which still leads somewhere: the link
            // works, so it is a warning, and the site keeps updating.
            problems.push(
                at(format!("link to {} uses an old address, which now leads to {now}", link.dest))
                    .hint(format!(
                        "change the link to {now} (and check that the part of the page it points to is there)"
                    ))
                    .warning(),
            );
            continue;
        }
        let Some(ids) = anchors.get(path.as_str()) else {
            problems.push(
                at(format!("link to {} matches no page", link.dest))
                    .hint(format!("check the address; pages are at addresses like {}", example_address(anchors))),
            );
            continue;
        };
        if let Some(fragment) = fragment.filter(|f| !f.is_empty() && !ids.contains(f.as_str())) {
            let mut known: Vec<&str> = ids.iter().copied().collect();
            known.sort_unstable();
            let hint = if known.is_empty() {
                format!("{path} has no headings to link to: link to the page itself, without #{fragment}")
            } else {
                format!("the headings there have these ids: {}", known.join(", "))
            };
            problems.push(at(format!("link to #{fragment} matches no heading on {path}")).hint(hint));
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
    let canonical = if resolved.ends_with('/') || urls::is_file(&resolved) { resolved } else { format!("{resolved}/") };
    Some((canonical, fragment))
}

/// What `check` reports about content that parsed: every problem, and how
/// readable each page is.
pub struct Inspection {
    pub problems: Vec<ContentError>,
    pub pages: Vec<PageStats>,
}

/// One page's readability figures, for the table `check` prints.
pub struct PageStats {
    pub path: PathBuf,
    pub url: String,
    pub readability: Readability,
    pub minutes: usize,
}

impl Inspection {
    pub fn errors(&self) -> usize {
        self.problems.iter().filter(|p| p.severity == Severity::Error).count()
    }
}

/// What content is checked against besides itself. Passed in, so checking
/// reads neither the disk nor the clock: a site version is checked against
/// the static files it will serve, as they were read with its content.
#[derive(Clone, Copy)]
pub struct CheckOptions<'a> {
    /// The static folder's files, as read for this version.
    pub assets: &'a Assets,
    /// Where they were read from, for hints.
    pub static_dir: &'a Path,
    /// For review dates that have passed.
    pub today: Date,
    /// Building a site to publish as files (`build`): sample settings are
    /// errors.
    pub publish: bool,
}

/// The uploaded pictures among the static files, each served at its
/// content-hashed address, for rendering with `srcset`.
pub(crate) fn pictures(assets: &Assets) -> Pictures {
    Pictures::new(assets.paths().into_iter().map(|path| (path, assets.url(path))))
}

/// Renders every page of `content` and runs every check, without building
/// the site.
pub fn inspect(content: &Content, options: &CheckOptions<'_>) -> Inspection {
    let rendered = RenderedPages::all(content, &pictures(options.assets));
    inspect_rendered(content, &RenderedArticle::all(content, &rendered), options)
}

pub(crate) fn inspect_rendered(
    content: &Content,
    articles: &[RenderedArticle<'_>],
    options: &CheckOptions<'_>,
) -> Inspection {
    // Readability figures are most of the per-page work: on every core.
    let checked: Vec<Checked<'_>> =
        crate::asset::par_map(articles.iter().flat_map(|a| a.pages()).collect(), |(page, url, rendered)| Checked {
            page,
            url,
            rendered,
            readability: Readability::of_blocks(&rendered.text),
        });
    let context = Context {
        options,
        max_grade: content.settings.max_reading_grade,
        bibliography: &content.bibliography,
        claim_words: &content.settings.claim_words,
    };
    let mut problems = check(&checked, &context);
    problems.extend(content.placeholders.iter().map(|p| {
        let mut problem = p.clone();
        if options.publish {
            problem.severity = Severity::Error;
            problem.hint = Some(format!(
                "{} (a published export may not carry sample settings; run `check` to see them all)",
                p.hint.as_deref().unwrap_or("replace the sample value")
            ));
        }
        problem
    }));
    let pages = checked
        .iter()
        .map(|c| PageStats {
            path: c.page.path.clone(),
            url: c.url.to_string(),
            readability: c.readability,
            minutes: reading_minutes(c.rendered.words),
        })
        .collect();
    Inspection { problems, pages }
}

#[cfg(test)]
mod tests {
    use super::{find_claim, internal_target, sentences};

    #[test]
    fn claim_words_match_whole_words_and_common_endings() {
        assert_eq!(find_claim("A safe and effective treatment", "effective"), Some(11));
        assert_eq!(find_claim("How It Effectively Relieves Pain", "effective"), Some(7));
        assert_eq!(find_claim("Yes, it is safe and quick", "safe and"), Some(11));
        assert_eq!(find_claim("living pain-free!", "pain-free"), Some(7));
        assert_eq!(find_claim("it was cured", "cure"), Some(7));
        assert_eq!(find_claim("a secure place", "cure"), None);
        assert_eq!(find_claim("ineffective", "effective"), None);
        assert_eq!(find_claim("curettage", "cure"), None);
    }

    #[test]
    fn claim_warnings_are_told_from_other_problems() {
        use super::{CheckOptions, Checked, Context, claims, is_claim_warning};
        let source = "+++\ntitle = \"T\"\ndescription = \"D\"\n+++\nIt is effective. It is a cure.\n".to_string();
        let page = crate::content::Page::parse(std::path::Path::new("content/a/p.md"), source).unwrap();
        let rendered = crate::render::render(page.body());
        let checked = Checked { page: &page, url: "/a/p/", rendered: &rendered, readability: Default::default() };
        let assets = crate::asset::Assets::default();
        let options = CheckOptions {
            assets: &assets,
            static_dir: std::path::Path::new("static"),
            today: crate::util::date::Date::new(2026, 12, 2).unwrap(),
            publish: false,
        };
        let bibliography = crate::content::Bibliography::default();
        let words = vec!["effective".to_string(), "cure".to_string()];
        let context = Context { options: &options, max_grade: 8.0, bibliography: &bibliography, claim_words: &words };
        let mut problems = Vec::new();
        claims(&checked, &context, &mut problems);
        assert_eq!(problems.len(), 2, "one warning per sentence");
        assert!(problems.iter().all(is_claim_warning));
        let other =
            crate::content::ContentError::new(std::path::Path::new("content/a/p.md"), 1, "the title is long").warning();
        assert!(!is_claim_warning(&other));
    }

    #[test]
    fn sentences_keep_their_offsets() {
        assert_eq!(sentences("One. Two! Three"), vec![(0, "One."), (4, " Two!"), (9, " Three")]);
    }

    #[test]
    fn internal_links_resolve_like_a_browser_would() {
        let from = "/dry-needling/safety/";
        assert_eq!(internal_target(from, "#side-effects"), Some((from.to_string(), Some("side-effects".into()))));
        assert_eq!(internal_target(from, "/dry-needling/migraines"), Some(("/dry-needling/migraines/".into(), None)));
        assert_eq!(
            internal_target(from, "../migraines/#a"),
            Some(("/dry-needling/migraines/".into(), Some("a".into())))
        );
        assert_eq!(internal_target(from, "https://example.org/x"), None);
        assert_eq!(internal_target(from, "mailto:a@b.c"), None);
    }
}
