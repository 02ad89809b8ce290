//! URL segments made from titles and file names.

/// Slugs become URLs people share, so they are kept plain: lowercase ASCII
/// letters, digits and single hyphens.
pub(crate) fn is_valid_slug(slug: &str) -> bool {
    !slug.is_empty()
        && slug.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !slug.starts_with('-')
        && !slug.ends_with('-')
        && !slug.contains("--")
}

/// Turns any text into a URL-safe slug: "Step 1: Assessment" -> "step-1-assessment".
pub(crate) fn slugify(text: &str) -> String {
    let mut slug = String::with_capacity(text.len());
    for c in text.chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            slug.push(c);
        } else if !slug.is_empty()
            && !slug.ends_with('-')
            && (c.is_whitespace() || c == '-' || c == '_' || c == '/' || c == ':')
        {
            slug.push('-');
        }
    }
    while slug.ends_with('-') {
        slug.pop();
    }
    slug
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugify_keeps_words_and_drops_punctuation() {
        assert_eq!(slugify("Step 1: Assessment"), "step-1-assessment");
        assert_eq!(slugify("Is Dry Needling Safe?"), "is-dry-needling-safe");
        assert_eq!(slugify("  Fatigue -- or dizziness (rare) "), "fatigue-or-dizziness-rare");
        assert_eq!(slugify("???"), "");
    }

    #[test]
    fn slugs_must_be_plain() {
        assert!(is_valid_slug("side-effects-2"));
        for bad in ["", "Side", "a b", "-a", "a-", "a--b", "é", "a/b"] {
            assert!(!is_valid_slug(bad), "{bad:?} should be refused");
        }
    }
}
