//! Readers' feedback on a page: "Was this page helpful?" with an optional
//! "What was missing or wrong?", and reports of a problem with a page. Both
//! go to staff only and are never published. Nothing here knows about HTTP;
//! `store` keeps them in the data folder's SQLite database.
//!
//! Nothing that identifies a reader is kept: no address, no cookie, no
//! browser, and the day rather than the time. The text a reader types is
//! checked for personal details as comments are (`comments::personal_details`).

pub mod store;

use std::fmt;

pub use store::FeedbackStore;

/// The most a reader may type in either box.
pub const TEXT_MAX: usize = 1_000;

/// What a reader typed, cleaned: line breaks kept, other control characters
/// and bidi controls removed, trimmed, 1 to [`TEXT_MAX`] characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedbackText(String);

/// Why a reader's text cannot be taken, in words for the reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    #[error("Tell us what the problem is")]
    Empty,
    #[error("Please keep it to 1,000 characters or fewer. It is {} characters now.", crate::util::number::thousands(*.0 as u64))]
    TooLong(usize),
}

impl FeedbackText {
    /// `Ok(None)` for a box left empty.
    pub fn parse_optional(raw: &str) -> Result<Option<FeedbackText>, TextError> {
        match FeedbackText::parse(raw) {
            Err(TextError::Empty) => Ok(None),
            other => other.map(Some),
        }
    }

    pub fn parse(raw: &str) -> Result<FeedbackText, TextError> {
        let text: String = raw
            .replace("\r\n", "\n")
            .replace('\r', "\n")
            .chars()
            .filter(|c| (*c == '\n' || *c == '\t' || !c.is_control()) && !crate::comments::is_bidi_control(*c))
            .collect();
        let text = text.trim();
        if text.is_empty() {
            return Err(TextError::Empty);
        }
        let length = text.chars().count();
        if length > TEXT_MAX {
            return Err(TextError::TooLong(length));
        }
        Ok(FeedbackText(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What kind of problem a reader reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProblemKind {
    WrongInformation,
    BrokenLink,
    HardToUnderstand,
}

impl ProblemKind {
    pub const ALL: [ProblemKind; 3] =
        [ProblemKind::WrongInformation, ProblemKind::BrokenLink, ProblemKind::HardToUnderstand];

    /// The name stored and sent by the form; never change one that has shipped.
    pub fn code(self) -> &'static str {
        match self {
            ProblemKind::WrongInformation => "wrong-information",
            ProblemKind::BrokenLink => "broken-link",
            ProblemKind::HardToUnderstand => "hard-to-understand",
        }
    }

    pub fn parse(code: &str) -> Option<ProblemKind> {
        ProblemKind::ALL.into_iter().find(|kind| kind.code() == code)
    }
}

impl fmt::Display for ProblemKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ProblemKind::WrongInformation => "Wrong information",
            ProblemKind::BrokenLink => "A broken link",
            ProblemKind::HardToUnderstand => "Hard to understand",
        })
    }
}

/// A "Was this page helpful?" answer ready to store.
#[derive(Debug, Clone)]
pub struct NewAnswer {
    pub page: String,
    pub helpful: bool,
    pub text: Option<FeedbackText>,
    /// Personal details the reader was warned about and sent anyway.
    pub flags: Vec<crate::comments::PersonalDetail>,
}

/// A problem report ready to store.
#[derive(Debug, Clone)]
pub struct NewReport {
    pub page: String,
    pub kind: ProblemKind,
    pub details: FeedbackText,
    pub flags: Vec<crate::comments::PersonalDetail>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_cleaned_and_measured_in_characters() {
        assert_eq!(FeedbackText::parse("  a\r\nb\u{202E}c ").unwrap().as_str(), "a\nbc");
        assert_eq!(FeedbackText::parse(" \n "), Err(TextError::Empty));
        assert_eq!(FeedbackText::parse_optional("  ").unwrap(), None);
        assert!(FeedbackText::parse(&"é".repeat(TEXT_MAX)).is_ok());
        assert_eq!(FeedbackText::parse(&"é".repeat(TEXT_MAX + 1)), Err(TextError::TooLong(TEXT_MAX + 1)));
    }

    #[test]
    fn problem_kinds_round_trip() {
        for kind in ProblemKind::ALL {
            assert_eq!(ProblemKind::parse(kind.code()), Some(kind));
        }
        assert_eq!(ProblemKind::parse("other"), None);
    }
}
