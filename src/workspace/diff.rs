//! What changed between two revisions of a page, word by word.
//!
//! Pages are prose, where a line is a whole paragraph: a line diff would
//! mark the paragraph changed for one word. Words and the whitespace
//! between them are the tokens, so line breaks come through as they are
//! and the changed words stand out.

use std::time::Duration;

use similar::{ChangeTag, TextDiff};

/// A run of text that is in both versions, only the new one, or only the
/// old one.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub enum Segment {
    Same(String),
    Added(String),
    Removed(String),
}

/// Past this, the diff stops looking for the smallest difference and
/// gives a correct but coarser one: a page is shown in time, whatever
/// two texts are compared.
const TIME_LIMIT: Duration = Duration::from_millis(500);

/// The segments that turn `old` into `new`, in order; neighbouring tokens
/// of one kind are joined into one segment. The `Same` and `Removed`
/// segments joined give `old`; `Same` and `Added` give `new`.
pub fn words(old: &str, new: &str) -> Vec<Segment> {
    let diff = TextDiff::configure().timeout(TIME_LIMIT).diff_words(old, new);
    let mut segments: Vec<Segment> = Vec::new();
    for change in diff.iter_all_changes() {
        let token = change.value();
        match (segments.last_mut(), change.tag()) {
            (Some(Segment::Same(text)), ChangeTag::Equal)
            | (Some(Segment::Added(text)), ChangeTag::Insert)
            | (Some(Segment::Removed(text)), ChangeTag::Delete) => text.push_str(token),
            (_, ChangeTag::Equal) => segments.push(Segment::Same(token.to_string())),
            (_, ChangeTag::Insert) => segments.push(Segment::Added(token.to_string())),
            (_, ChangeTag::Delete) => segments.push(Segment::Removed(token.to_string())),
        }
    }
    segments
}

#[cfg(test)]
mod tests {
    use super::*;
    use Segment::{Added, Removed, Same};

    fn s(text: &str) -> String {
        text.to_string()
    }

    /// Both texts put back together from the segments.
    fn rebuild(segments: &[Segment]) -> (String, String) {
        let (mut old, mut new) = (String::new(), String::new());
        for segment in segments {
            match segment {
                Same(t) => {
                    old.push_str(t);
                    new.push_str(t);
                }
                Added(t) => new.push_str(t),
                Removed(t) => old.push_str(t),
            }
        }
        (old, new)
    }

    #[test]
    fn a_changed_word_in_a_sentence_is_the_only_change() {
        let old = "Most people feel a mild ache for a day or two.";
        let new = "Most people feel a mild soreness for a day or two.";
        assert_eq!(
            words(old, new),
            [
                Same(s("Most people feel a mild ")),
                Removed(s("ache")),
                Added(s("soreness")),
                Same(s(" for a day or two."))
            ]
        );
    }

    #[test]
    fn line_breaks_are_kept_and_added_words_are_marked() {
        let old = "## Safety\n\nIt is safe.\n";
        let new = "## Safety\n\nIt is very safe.\n\nAsk us.\n";
        let segments = words(old, new);
        assert_eq!(rebuild(&segments), (old.to_string(), new.to_string()));
        assert!(segments.iter().any(|seg| matches!(seg, Added(t) if t.trim() == "very")), "{segments:?}");
        assert!(segments.iter().any(|seg| matches!(seg, Added(t) if t.contains("Ask us."))), "{segments:?}");
        assert!(segments.iter().all(|seg| !matches!(seg, Removed(_))), "{segments:?}");
    }

    #[test]
    fn identical_texts_are_one_same_segment() {
        assert_eq!(words("a b\nc", "a b\nc"), [Same(s("a b\nc"))]);
        assert_eq!(words("", ""), []);
    }
}
