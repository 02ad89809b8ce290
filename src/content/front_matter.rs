//! The TOML block between `+++` lines at the top of every page.
//!
//! Parsing is strict (`deny_unknown_fields`) so a misspelt key is reported
//! instead of silently doing nothing, and every error is translated from
//! serde's wording into a sentence with the file's own line number.

use std::path::Path;

use serde::Deserialize;

use super::{ContentError, line_col};
use crate::util::date::Date;

/// The settings at the top of a page. Each field is documented for staff in
/// README.md; keep the two in step.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FrontMatter {
    /// The page's heading, browser tab title and link preview title.
    pub title: String,
    /// One plain sentence for search results and link previews.
    pub description: String,
    /// Position among the article's sections: lower comes first.
    #[serde(default)]
    pub weight: i64,
    /// The last part of the page's web address; defaults to the file name.
    pub slug: Option<String>,
    /// When the page's text last changed for readers; shown as "Last updated"
    /// when the page has no clinical review. The file's modification date
    /// stands in when it is not given.
    pub updated: Option<Date>,
    /// When a clinician last checked the page. Only with `reviewed_by`: a
    /// page never claims a review without naming who made it.
    pub last_reviewed: Option<Date>,
    /// When the page is next due for a check; a year after `last_reviewed`
    /// unless given.
    pub next_review: Option<Date>,
    /// Who checked the page clinically, with credentials ("Jane Smith, DPT").
    pub reviewed_by: Option<String>,
    /// The reviewed hash of the text the reviewer signed off
    /// (`content::reviewed_hash`), written by the workspace's sign-off. The
    /// review is shown to readers only while the page still matches it.
    pub reviewed_revision: Option<String>,
    /// Keys of entries in `content/sources.toml` listed under "Sources" even
    /// where the text does not cite them with a `[^key]` marker.
    #[serde(default)]
    pub sources: Vec<String>,
    /// A draft is not published.
    #[serde(default)]
    pub draft: bool,
    /// Old addresses of this page (`/old/path`) that redirect to it, so
    /// links shared before a rename keep working.
    #[serde(default)]
    pub aliases: Vec<String>,
    /// On an article's index.md: the treatment the article is about, named
    /// for search engines' structured data (e.g. "Dry needling").
    pub about: Option<String>,
    /// Whether readers can comment: sections default to yes, an article's
    /// front page to no.
    pub comments: Option<bool>,
}

impl FrontMatter {
    /// The page's clinical review, when front matter names both who made it
    /// and when. Anything less is not shown to readers as a review.
    pub fn review(&self) -> Option<Review> {
        let (by, on) = (self.reviewed_by.as_ref()?, self.last_reviewed?);
        Some(Review { by: by.clone(), on, next: self.next_review.unwrap_or_else(|| on.add_years(1)) })
    }
}

/// A clinical review as readers are told of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Review {
    /// Name and credentials, as written: "Jane Smith, DPT".
    pub by: String,
    pub on: Date,
    pub next: Date,
}

/// Whether `reviewed_by` gives credentials after the name ("Jane Smith, DPT"):
/// readers judge a review by who made it.
pub(crate) fn names_credentials(reviewed_by: &str) -> bool {
    matches!(reviewed_by.split_once(','), Some((name, credentials)) if !name.trim().is_empty() && credentials.chars().any(char::is_alphabetic))
}

/// The keys a page may set, each with an example line used in hints.
pub(crate) const PAGE_KEYS: &[(&str, &str)] = &[
    ("title", "title = \"Is Dry Needling Safe?\""),
    ("description", "description = \"One plain sentence about what this page covers.\""),
    ("weight", "weight = 2"),
    ("slug", "slug = \"side-effects\""),
    ("updated", "updated = 2026-01-15"),
    ("last_reviewed", "last_reviewed = 2026-01-15"),
    ("next_review", "next_review = 2027-01-15"),
    ("reviewed_by", "reviewed_by = \"Jane Smith, DPT\""),
    ("reviewed_revision", "reviewed_revision = \"(written by the sign-off in the workspace)\""),
    ("sources", "sources = [\"gattie-2017\", \"nice-ng193\"]"),
    ("draft", "draft = true"),
    ("aliases", "aliases = [\"/dry-needling/side-effects/\"]"),
    ("about", "about = \"Dry needling\""),
    ("comments", "comments = false"),
];

/// A page's front matter and where its markdown starts.
pub struct Parsed {
    pub front: FrontMatter,
    pub body_start: usize,
}

const FENCE: &str = "+++";

/// Where the parts of a page file are, as byte offsets into it: the
/// opening `+++` line (after any byte-order mark), the TOML, the closing
/// `+++` line, then the markdown. The editing workspace splits files the
/// same way, so it edits exactly what the site reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Split {
    pub toml_start: usize,
    pub toml_end: usize,
    pub body_start: usize,
}

/// Why a file has no front matter to split off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SplitError {
    /// The first line is not `+++`.
    Missing,
    /// There is no closing `+++` line.
    Unclosed,
}

/// Finds the `+++` block at the top of `source`.
pub(crate) fn split(source: &str) -> Result<Split, SplitError> {
    let text = source.strip_prefix('\u{feff}').unwrap_or(source);
    let bom = source.len() - text.len();
    let first_line = text.lines().next().unwrap_or("");
    if first_line.trim_end() != FENCE {
        return Err(SplitError::Missing);
    }
    // `lines()` drops a `\r\n` whole, so step over the `\n` that ends the
    // line and count a `\r` before it as part of the fence line.
    let toml_start = match text[first_line.len()..].strip_prefix("\r\n") {
        Some(_) => bom + first_line.len() + 2,
        None => bom + first_line.len() + 1,
    };
    let mut offset = toml_start;
    for line in source[toml_start.min(source.len())..].split_inclusive('\n') {
        if line.trim_end() == FENCE {
            return Ok(Split { toml_start, toml_end: offset, body_start: offset + line.len() });
        }
        offset += line.len();
    }
    Err(SplitError::Unclosed)
}

/// Splits the `+++` block off the top of `source` and parses it.
pub fn parse(path: &Path, source: &str) -> Result<Parsed, Vec<ContentError>> {
    let Split { toml_start, toml_end, body_start } = match split(source) {
        Ok(split) => split,
        Err(SplitError::Missing) => return Err(vec![ContentError::new(path, 1, "front matter missing: the file must start with a line of three plus signs (+++)")
            .hint("put the page's settings at the very top between two +++ lines, like:\n  +++\n  title = \"Page title\"\n  description = \"One plain sentence about the page.\"\n  updated = 2026-01-15\n  +++")]),
        Err(SplitError::Unclosed) => return Err(vec![
            ContentError::new(path, 1, "front matter is not closed: there is no second +++ line")
                .hint("add a line with just +++ after the last setting, before the page's text"),
        ]),
    };
    let toml_src = &source[toml_start..toml_end];
    let first_toml_line = line_col(source, toml_start).0;
    let front: FrontMatter = toml::from_str(toml_src).map_err(|err| {
        let (message, hint) = explain_toml_error(&err, toml_src, PAGE_KEYS);
        let (line, column) = match err.span() {
            Some(span) if !message.contains("missing required key") => {
                let (l, c) = line_col(toml_src, span.start);
                (first_toml_line + l - 1, Some(c))
            }
            // A missing key has no place of its own: point at the closing
            // +++, which is where it should be added.
            _ => (line_col(source, toml_end).0, None),
        };
        let error = ContentError::new(path, line, format!("front matter: {message}")).hint(hint);
        vec![match column {
            Some(c) => error.column(c),
            None => error,
        }]
    })?;
    Ok(Parsed { front, body_start })
}

/// Turns a TOML or serde error into a message and a hint for staff.
/// serde's wording ("unknown field `x`, expected one of ...") is stable, so
/// matching on it is safe, and anything unrecognised is shown as it is.
pub(crate) fn explain_toml_error(err: &toml::de::Error, src: &str, keys: &[(&str, &str)]) -> (String, String) {
    let raw = err.message().trim();
    let quoted = |s: &str| s.split('`').nth(1).unwrap_or("").to_string();
    if let Some(rest) = raw.strip_prefix("unknown field") {
        let key = quoted(rest);
        let names: Vec<&str> = keys.iter().map(|(k, _)| *k).collect();
        let hint = match closest(&key, &names) {
            Some(best) => format!("did you mean \"{best}\"? The keys allowed here are: {}", names.join(", ")),
            None => format!("remove it, or use one of: {}", names.join(", ")),
        };
        return (format!("unknown key \"{key}\""), hint);
    }
    if let Some(rest) = raw.strip_prefix("missing field") {
        let key = quoted(rest);
        let example = example_for(&key, keys);
        return (format!("missing required key \"{key}\""), format!("add a line such as {example}"));
    }
    // The key whose value is wrong is the one written on the error's line.
    let key = err
        .span()
        .and_then(|span| {
            let line_start = src[..span.start.min(src.len())].rfind('\n').map_or(0, |i| i + 1);
            src[line_start..].lines().next()?.split_once('=').map(|(k, _)| k.trim().trim_matches('"').to_string())
        })
        .filter(|k| keys.iter().any(|(name, _)| name == k));
    match key {
        Some(key) if raw.starts_with("invalid type") || raw.contains("expected a date") || raw.starts_with("invalid value") => {
            let detail = raw.split(", expected").next().unwrap_or(raw).trim_start_matches("invalid type: ");
            let what = if raw.contains("expected a date") { raw.to_string() } else { format!("\"{key}\" has the wrong kind of value ({detail})") };
            (what, format!("write it like {}", example_for(&key, keys)))
        }
        _ => (
            format!("this is not valid TOML: {raw}"),
            "each setting goes on its own line as key = value; text goes in \"double quotes\", dates look like 2026-01-15".to_string(),
        ),
    }
}

fn example_for(key: &str, keys: &[(&str, &str)]) -> String {
    keys.iter().find(|(k, _)| *k == key).map_or_else(|| format!("{key} = ..."), |(_, e)| (*e).to_string())
}

/// The allowed name nearest to a misspelt one, if it is near enough to be a
/// typo rather than a different idea.
pub(crate) fn closest<'a>(typed: &str, names: &[&'a str]) -> Option<&'a str> {
    names
        .iter()
        .map(|name| (edit_distance(typed, name), *name))
        .filter(|(d, name)| *d <= 2.max(name.len() / 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, name)| name)
}

/// Levenshtein distance; inputs are short key names.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let next = (row[j + 1] + 1).min(row[j] + 1).min(diagonal + usize::from(ca != *cb));
            diagonal = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error_for(front: &str) -> String {
        let src = format!("+++\n{front}+++\nSome text.\n");
        parse(Path::new("content/a/page.md"), &src).err().expect("front matter should be refused")[0].to_string()
    }

    const GOOD: &str = "title = \"T\"\ndescription = \"D\"\nupdated = 2026-01-15\n";

    #[test]
    fn valid_front_matter_parses_with_defaults() {
        let src = format!("+++\n{GOOD}+++\nBody\n");
        let parsed = parse(Path::new("p.md"), &src).unwrap();
        assert_eq!(parsed.front.title, "T");
        assert_eq!(parsed.front.weight, 0);
        assert!(!parsed.front.draft);
        assert_eq!(parsed.front.review(), None, "no reviewer named, so no review");
        assert_eq!(&src[parsed.body_start..], "Body\n");
    }

    #[test]
    fn a_review_needs_a_reviewer_and_a_date_and_defaults_its_next_date() {
        let front =
            |extra: &str| parse(Path::new("p.md"), &format!("+++\n{GOOD}{extra}+++\nBody\n")).ok().unwrap().front;
        assert_eq!(front("last_reviewed = 2026-01-15\n").review(), None);
        assert_eq!(front("reviewed_by = \"Jane Smith, DPT\"\n").review(), None);
        let review = front("reviewed_by = \"Jane Smith, DPT\"\nlast_reviewed = 2024-02-29\n").review().unwrap();
        assert_eq!(
            (review.by.as_str(), review.on, review.next),
            ("Jane Smith, DPT", Date::new(2024, 2, 29).unwrap(), Date::new(2025, 2, 28).unwrap())
        );
        assert!(
            names_credentials("Jane Smith, DPT")
                && !names_credentials("Jane Smith")
                && !names_credentials("Jane Smith, ")
                && !names_credentials(", DPT")
        );
    }

    #[test]
    fn missing_required_key_points_at_the_closing_fence() {
        let message = error_for("title = \"T\"\nupdated = 2026-01-15\n");
        assert!(
            message.starts_with("content/a/page.md:4:1: error: front matter: missing required key \"description\""),
            "{message}"
        );
        assert!(message.contains("hint: add a line such as description = "), "{message}");
    }

    #[test]
    fn unknown_key_is_rejected_with_the_nearest_valid_key() {
        let message = error_for("titel = \"T\"\ndescription = \"D\"\nupdated = 2026-01-15\n");
        assert!(message.starts_with("content/a/page.md:2:1: error: front matter: unknown key \"titel\""), "{message}");
        assert!(message.contains("did you mean \"title\"?"), "{message}");
    }

    #[test]
    fn wrong_type_names_the_key_and_shows_an_example() {
        let message = error_for(&format!("{GOOD}weight = \"two\"\n"));
        assert!(
            message.starts_with("content/a/page.md:5:10: error: front matter: \"weight\" has the wrong kind of value"),
            "{message}"
        );
        assert!(message.contains("write it like weight = 2"), "{message}");
    }

    #[test]
    fn impossible_date_is_explained() {
        let message = error_for("title = \"T\"\ndescription = \"D\"\nupdated = \"2026-02-30\"\n");
        assert!(message.starts_with("content/a/page.md:4:"), "{message}");
        assert!(message.contains("not a real calendar date"), "{message}");
    }

    #[test]
    fn toml_syntax_error_gives_its_line() {
        let message = error_for("title = \"T\ndescription = \"D\"\nupdated = 2026-01-15\n");
        assert!(message.starts_with("content/a/page.md:2:"), "{message}");
        assert!(message.contains("not valid TOML"), "{message}");
    }

    #[test]
    fn missing_and_unclosed_front_matter_are_told_apart() {
        let missing = parse(Path::new("p.md"), "# Just text\n").err().unwrap();
        assert!(missing[0].message.contains("front matter missing"));
        let unclosed = parse(Path::new("p.md"), "+++\ntitle = \"T\"\n\nText\n").err().unwrap();
        assert!(unclosed[0].message.contains("not closed"));
    }

    #[test]
    fn closest_key_only_for_near_misses() {
        let names = ["title", "description", "weight"];
        assert_eq!(closest("titel", &names), Some("title"));
        assert_eq!(closest("descripton", &names), Some("description"));
        assert_eq!(closest("colour", &names), None);
    }
}
