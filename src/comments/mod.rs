//! Reader comments: what a comment is, what input is acceptable, and how to
//! spot personal details a reader may not mean to publish. Nothing here
//! knows about HTTP; `store` keeps comments in SQLite and `token` signs
//! the comment form.

pub mod store;
pub mod token;

use std::fmt;

use serde::Serialize;

/// Where a comment is in moderation. Readers only ever see `Approved`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pending,
    Approved,
    Rejected,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Approved => "approved",
            Status::Rejected => "rejected",
        }
    }

    pub fn parse(text: &str) -> Option<Status> {
        [Status::Pending, Status::Approved, Status::Rejected].into_iter().find(|s| s.as_str() == text)
    }
}

/// A stored comment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Comment {
    pub id: i64,
    /// The canonical path of the page it was left on.
    pub page: String,
    /// As typed; empty means the reader gave no name.
    pub name: String,
    pub body: String,
    /// Seconds since 1970 (UTC).
    pub created_at: i64,
    pub status: Status,
    /// The clinic's reply, shown under the comment once it is approved.
    pub reply: Option<String>,
    /// The writer confirmed posting text that looked like personal details;
    /// staff should read it with care.
    pub flagged: bool,
}

impl Comment {
    /// The name to show: readers may stay anonymous.
    pub fn display_name(&self) -> &str {
        if self.name.is_empty() { ANONYMOUS } else { &self.name }
    }
}

pub const ANONYMOUS: &str = "Anonymous";
pub const NAME_MAX: usize = 60;
pub const TEXT_MAX: usize = 2_000;

/// A display name that fits the rules: at most 60 characters, no control
/// characters, surrounding space removed. Empty is allowed (anonymous).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    pub fn parse(raw: &str) -> Result<DisplayName, InputError> {
        let name: String = raw.chars().filter(|c| !c.is_control()).collect::<String>().split_whitespace().collect::<Vec<_>>().join(" ");
        let length = name.chars().count();
        if length > NAME_MAX {
            return Err(InputError::NameTooLong(length));
        }
        Ok(DisplayName(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Comment text that fits the rules: 1 to 2,000 characters after trimming,
/// line breaks kept, other control characters removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommentText(String);

impl CommentText {
    pub fn parse(raw: &str) -> Result<CommentText, InputError> {
        let text: String = raw.replace("\r\n", "\n").replace('\r', "\n").chars().filter(|c| *c == '\n' || *c == '\t' || !c.is_control()).collect();
        let text = text.trim();
        let length = text.chars().count();
        if length == 0 {
            return Err(InputError::TextEmpty);
        }
        if length > TEXT_MAX {
            return Err(InputError::TextTooLong(length));
        }
        Ok(CommentText(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A comment ready to store.
#[derive(Debug, Clone)]
pub struct NewComment {
    pub page: String,
    pub name: DisplayName,
    pub text: CommentText,
    pub flagged: bool,
}

/// What is wrong with a reader's input, in words for the reader.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    #[error("Enter your comment")]
    TextEmpty,
    #[error("Your comment must be 2,000 characters or fewer. It is {0} characters now")]
    TextTooLong(usize),
    #[error("Your name must be 60 characters or fewer. It is {0} characters now")]
    NameTooLong(usize),
    #[error("Tick the box to confirm you understand your comment will be public")]
    ConsentMissing,
}

impl InputError {
    /// The form field the message belongs to, for the error summary's links.
    pub fn field(&self) -> &'static str {
        match self {
            InputError::TextEmpty | InputError::TextTooLong(_) => "comment-text",
            InputError::NameTooLong(_) => "comment-name",
            InputError::ConsentMissing => "comment-consent",
        }
    }
}

/// Kinds of personal detail a comment may give away.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum PersonalDetail {
    Email,
    Phone,
    DateOfBirth,
    Address,
}

impl fmt::Display for PersonalDetail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PersonalDetail::Email => "an email address",
            PersonalDetail::Phone => "a phone number",
            PersonalDetail::DateOfBirth => "a date of birth",
            PersonalDetail::Address => "a home address",
        })
    }
}

/// Looks for details that identify the writer. It errs towards asking: a
/// false alarm costs the reader one click, a miss can publish their phone
/// number on a health site.
pub fn personal_details(text: &str) -> Vec<PersonalDetail> {
    let mut found = Vec::new();
    let lower = text.to_lowercase();
    let words: Vec<&str> = lower.split_whitespace().collect();
    if words.iter().any(|w| looks_like_email(w)) {
        found.push(PersonalDetail::Email);
    }
    if longest_phone_digits(text) >= 9 {
        found.push(PersonalDetail::Phone);
    }
    if ["date of birth", "born on", "my birthday", "d.o.b", "dob:", "dob "].iter().any(|k| lower.contains(k)) || words.iter().any(|w| looks_like_full_date(w)) {
        found.push(PersonalDetail::DateOfBirth);
    }
    if looks_like_address(&words) {
        found.push(PersonalDetail::Address);
    }
    found
}

fn looks_like_email(word: &str) -> bool {
    let word = word.trim_matches(|c: char| !c.is_alphanumeric());
    match word.split_once('@') {
        Some((user, domain)) => !user.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.'),
        None => false,
    }
}

/// The most digits in one run of digits and phone punctuation.
fn longest_phone_digits(text: &str) -> usize {
    let mut best = 0;
    let mut digits = 0;
    for c in text.chars() {
        if c.is_ascii_digit() {
            digits += 1;
            best = best.max(digits);
        } else if !matches!(c, ' ' | '-' | '.' | '(' | ')' | '+') {
            digits = 0;
        }
    }
    best
}

/// `12/03/1985`, `3-12-85`, `1985-03-12`: three number groups with a year.
fn looks_like_full_date(word: &str) -> bool {
    let word = word.trim_matches(|c: char| !c.is_ascii_digit());
    let parts: Vec<&str> = word.split(['/', '-', '.']).collect();
    parts.len() == 3
        && parts.iter().all(|p| !p.is_empty() && p.len() <= 4 && p.chars().all(|c| c.is_ascii_digit()))
        && (parts[0].len() == 4 || parts[2].len() == 4 || parts[2].len() == 2)
}

/// A house number followed within a few words by a street word, or a
/// postcode-like token after a number.
fn looks_like_address(words: &[&str]) -> bool {
    const STREET: &[&str] = &[
        "street", "st", "road", "rd", "avenue", "ave", "lane", "ln", "drive", "dr", "boulevard", "blvd", "court", "ct", "way", "place", "pl",
        "close", "crescent", "terrace", "apt", "apartment", "suite",
    ];
    words.iter().enumerate().any(|(i, word)| {
        let number = word.trim_end_matches(',');
        !number.is_empty()
            && number.len() <= 5
            && number.chars().next().is_some_and(|c| c.is_ascii_digit())
            && number.chars().all(|c| c.is_ascii_alphanumeric())
            && words[i + 1..].iter().take(4).any(|w| STREET.contains(&w.trim_matches(|c: char| !c.is_alphanumeric())))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_trimmed_and_limited() {
        assert_eq!(CommentText::parse("  hi\r\nthere  ").unwrap().as_str(), "hi\nthere");
        assert_eq!(CommentText::parse(" \n\t ").unwrap_err(), InputError::TextEmpty);
        assert!(CommentText::parse(&"a".repeat(2000)).is_ok());
        assert_eq!(CommentText::parse(&"é".repeat(2001)).unwrap_err(), InputError::TextTooLong(2001));
        assert_eq!(CommentText::parse("a\u{0}b\u{7}c").unwrap().as_str(), "abc");
    }

    #[test]
    fn names_are_optional_and_limited() {
        assert_eq!(DisplayName::parse("  Jo   Bloggs ").unwrap().as_str(), "Jo Bloggs");
        assert_eq!(DisplayName::parse("").unwrap().as_str(), "");
        assert_eq!(DisplayName::parse(&"x".repeat(61)).unwrap_err(), InputError::NameTooLong(61));
    }

    #[test]
    fn personal_details_are_spotted() {
        use PersonalDetail::*;
        assert_eq!(personal_details("Email me at jo.bloggs@example.com please"), vec![Email]);
        assert_eq!(personal_details("Call (555) 010-0142 anytime"), vec![Phone]);
        assert_eq!(personal_details("ring +44 7700 900123"), vec![Phone]);
        assert_eq!(personal_details("I was born on 12/03/1985"), vec![DateOfBirth]);
        assert_eq!(personal_details("My date of birth is in March"), vec![DateOfBirth]);
        assert_eq!(personal_details("I live at 42 Oak Street, Springfield"), vec![Address]);
        assert_eq!(personal_details("Write to 10 Downing St"), vec![Address]);
    }

    #[test]
    fn ordinary_comments_are_not_flagged() {
        for text in [
            "It helped my migraines after 3 sessions.",
            "Sore for 2 days, then much better. 10/10 would recommend!",
            "I had 4 needles in my upper back and the tension eased @ work.",
            "In 2023 I tried it for the first time.",
        ] {
            assert!(personal_details(text).is_empty(), "{text}: {:?}", personal_details(text));
        }
    }
}
