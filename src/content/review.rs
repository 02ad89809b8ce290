//! What a clinical sign-off covers, and whether a page still matches it.
//!
//! A sign-off writes `reviewed_by`, `last_reviewed`, `next_review` and
//! `reviewed_revision` into the page file, so the file's own hash changes
//! the moment it is signed. The review is therefore tied to a hash of only
//! what a clinician checks: the title, the description, the `sources`
//! list (in order) and the markdown body. Nothing the sign-off writes is
//! in it, and neither are the order (`weight`), the address (`slug`,
//! `aliases`), `draft`, `updated`, `about` or `comments`: moving or
//! renaming a page leaves its review standing, and any change of a word
//! readers read voids it.
//!
//! Both `checks` and the workspace compute it, from a parsed page or a
//! document being edited, through [`reviewed_hash`].

use sha2::{Digest, Sha256};

use super::{Date, Page, Review};
use crate::util::bytes::hex;

/// The reviewed hash: SHA-256, in hex, of the title, the description, the
/// sources and the body, each written as its length in bytes, a colon, the
/// text and a newline (so no two pages' parts run together into the same
/// bytes). The body's `\r\n` line endings count as `\n` and trailing
/// whitespace is left out, so saving the same words from another editor
/// does not void a review.
pub fn reviewed_hash(title: &str, description: &str, sources: &[String], body: &str) -> String {
    let mut hasher = Sha256::new();
    let mut part = |text: &str| {
        hasher.update(format!("{}:", text.len()).as_bytes());
        hasher.update(text.as_bytes());
        hasher.update(b"\n");
    };
    part("clinic-site reviewed text 1");
    part(title);
    part(description);
    part(&sources.len().to_string());
    for source in sources {
        part(source);
    }
    part(body.replace("\r\n", "\n").trim_end());
    hex(&hasher.finalize())
}

/// A page's clinical review as far as readers may be told of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReviewState {
    /// No review named in the front matter.
    Never,
    /// Signed off, and the text is still the text that was signed.
    Current(Review),
    /// Signed off, but the text has changed since.
    Changed(Review),
    /// `reviewed_by` and `last_reviewed` typed by hand, with no
    /// `reviewed_revision`: nobody can tell what text was reviewed.
    Unsigned(Review),
}

impl ReviewState {
    /// The review readers may be told of as "Reviewed by": only one whose
    /// text is still on the page.
    pub fn current(&self) -> Option<&Review> {
        match self {
            ReviewState::Current(review) => Some(review),
            _ => None,
        }
    }

    /// The last review named, current or not.
    pub fn last(&self) -> Option<&Review> {
        match self {
            ReviewState::Never => None,
            ReviewState::Current(review) | ReviewState::Changed(review) | ReviewState::Unsigned(review) => Some(review),
        }
    }
}

impl Page {
    /// This page's reviewed hash (see [`reviewed_hash`]).
    pub fn reviewed_hash(&self) -> String {
        let front = &self.front;
        reviewed_hash(&front.title, &front.description, &front.sources, self.body())
    }

    /// Whether the page's review, if it has one, still covers its text.
    pub fn review_state(&self) -> ReviewState {
        let Some(review) = self.front.review() else { return ReviewState::Never };
        match &self.front.reviewed_revision {
            None => ReviewState::Unsigned(review),
            Some(signed) if *signed == self.reviewed_hash() => ReviewState::Current(review),
            Some(_) => ReviewState::Changed(review),
        }
    }

    /// The date of the last review named, current or not.
    pub fn last_reviewed(&self) -> Option<Date> {
        self.review_state().last().map(|review| review.on)
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn page(front: &str, body: &str) -> Page {
        let source = format!("+++\ntitle = \"T\"\ndescription = \"D\"\n{front}+++\n{body}");
        Page::parse(Path::new("content/a/p.md"), source).expect("a valid page")
    }

    const SIGNED: &str = "reviewed_by = \"Jane Smith, DPT\"\nlast_reviewed = 2026-01-15\n";

    #[test]
    fn the_reviewed_hash_covers_the_words_but_not_the_address_or_the_review() {
        let base = page("", "Some text.\n").reviewed_hash();
        assert_eq!(
            page("weight = 3\nslug = \"other\"\naliases = [\"/a/old/\"]\n", "Some text.\n").reviewed_hash(),
            base
        );
        assert_eq!(page(SIGNED, "Some text.\r\n\n").reviewed_hash(), base, "line endings and trailing space");
        assert_ne!(page("", "Some text!\n").reviewed_hash(), base);
        assert_ne!(page("sources = [\"a\"]\n", "Some text.\n").reviewed_hash(), base);
        let other_title = Page::parse(
            Path::new("content/a/p.md"),
            "+++\ntitle = \"U\"\ndescription = \"D\"\n+++\nSome text.\n".to_string(),
        )
        .unwrap();
        assert_ne!(other_title.reviewed_hash(), base);
        // Parts cannot run into each other: "ab" + "c" is not "a" + "bc".
        assert_ne!(reviewed_hash("ab", "c", &[], "x"), reviewed_hash("a", "bc", &[], "x"));
    }

    #[test]
    fn a_review_is_current_only_while_the_text_matches_its_hash() {
        let hash = page("", "Some text.\n").reviewed_hash();
        let signed = format!("{SIGNED}reviewed_revision = \"{hash}\"\n");
        assert!(matches!(page(&signed, "Some text.\n").review_state(), ReviewState::Current(_)));
        assert!(matches!(page(&signed, "Other text.\n").review_state(), ReviewState::Changed(_)));
        assert!(matches!(page(SIGNED, "Some text.\n").review_state(), ReviewState::Unsigned(_)));
        assert_eq!(page("", "Some text.\n").review_state(), ReviewState::Never);
        assert_eq!(page(&signed, "Other text.\n").last_reviewed(), Date::new(2026, 1, 15));
    }
}
