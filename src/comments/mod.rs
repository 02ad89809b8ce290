//! Reader comments: what a comment is, what input is acceptable, and how to
//! spot personal details a reader may not mean to publish. Nothing here
//! knows about HTTP; `store` keeps comments in SQLite and `token` signs
//! the comment form.

pub mod store;
pub mod token;

use std::fmt;

use serde::Serialize;

use crate::util::number::thousands;

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
    /// What the writer was warned about, so staff know what to look for.
    /// Empty for comments flagged before the reasons were kept.
    pub flags: Vec<PersonalDetail>,
}

impl Comment {
    /// The name to show: readers may stay anonymous.
    pub(crate) fn display_name(&self) -> &str {
        if self.name.is_empty() { ANONYMOUS } else { &self.name }
    }
}

pub(crate) const ANONYMOUS: &str = "Anonymous";
pub(crate) const NAME_MAX: usize = 60;
pub(crate) const TEXT_MAX: usize = 2_000;

/// A display name that fits the rules: at most 60 characters, no control
/// characters or bidi controls, surrounding space removed, and something
/// visible in it. Empty is allowed (anonymous).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    pub fn parse(raw: &str) -> Result<DisplayName, InputError> {
        // A name sits inside a sentence ("Sam · 1 December 2026"), so even
        // the bidi marks that are fine inside a comment could move its
        // neighbours; names have no use for them.
        let name: String = raw
            .chars()
            .filter(|c| !c.is_control() && !is_bidi_control(*c) && !is_bidi_mark(*c))
            .collect::<String>()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        // Only spaces means no name; anything else that shows nothing was
        // typed on purpose, and posting it as "Anonymous" would surprise.
        if !has_visible(&name) && raw.chars().any(|c| !c.is_whitespace()) {
            return Err(InputError::NameInvisible);
        }
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
/// line breaks kept, other control characters and bidi controls removed,
/// and something visible in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommentText(String);

impl CommentText {
    pub fn parse(raw: &str) -> Result<CommentText, InputError> {
        let text: String = raw
            .replace("\r\n", "\n")
            .replace('\r', "\n")
            .chars()
            .filter(|c| (*c == '\n' || *c == '\t' || !c.is_control()) && !is_bidi_control(*c))
            .collect();
        let text = text.trim();
        if !has_visible(text) {
            return Err(InputError::TextEmpty);
        }
        let length = text.chars().count();
        if length > TEXT_MAX {
            return Err(InputError::TextTooLong(length));
        }
        Ok(CommentText(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Explicit bidi embeddings, overrides and isolates (U+202A-U+202E,
/// U+2066-U+2069). An unpaired one typed into a name reverses the text
/// after it on the page ("6202 rebmeceD 1"); the page isolates names and
/// comments itself, so readers never need to type these.
pub(crate) fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Left-to-right, right-to-left and Arabic letter marks: kept in comments,
/// where right-to-left writers use them, but not in names.
pub(crate) fn is_bidi_mark(c: char) -> bool {
    matches!(c, '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// Characters that show nothing by themselves: spaces, controls, Unicode
/// format characters (zero-width space and joiners, word joiner, bidi
/// controls, byte order mark, tags), variation selectors, and the blank
/// "letters" (Hangul fillers, braille blank) used to fake an empty name.
fn is_invisible(c: char) -> bool {
    c.is_whitespace()
        || c.is_control()
        || matches!(
            c,
            '\u{00AD}'
                | '\u{034F}'
                | '\u{061C}'
                | '\u{115F}'
                | '\u{1160}'
                | '\u{17B4}'
                | '\u{17B5}'
                | '\u{180B}'..='\u{180F}'
                | '\u{200B}'..='\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2060}'..='\u{206F}'
                | '\u{2800}'
                | '\u{3164}'
                | '\u{FE00}'..='\u{FE0F}'
                | '\u{FEFF}'
                | '\u{FFA0}'
                | '\u{FFF9}'..='\u{FFFB}'
                | '\u{1D173}'..='\u{1D17A}'
                | '\u{E0000}'..='\u{E0FFF}'
        )
}

/// Whether any character of `text` would show on the page.
fn has_visible(text: &str) -> bool {
    text.chars().any(|c| !is_invisible(c))
}

/// A comment ready to store.
#[derive(Debug, Clone)]
pub struct NewComment {
    pub page: String,
    pub name: DisplayName,
    pub text: CommentText,
    /// What the writer was warned about and chose to post anyway; any
    /// makes the comment flagged for staff.
    pub flags: Vec<PersonalDetail>,
}

/// What is wrong with a reader's input, in words for the reader.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    #[error("Enter your comment")]
    TextEmpty,
    #[error("Your comment must be 2,000 characters or fewer. It is {} characters now.", thousands(*.0 as u64))]
    TextTooLong(usize),
    #[error("Your name must be 60 characters or fewer. It is {} characters now.", thousands(*.0 as u64))]
    NameTooLong(usize),
    /// Only invisible characters: on the page it would be a blank name.
    #[error("Your name has no letters or numbers we can show. Leave it empty to post as Anonymous")]
    NameInvisible,
    #[error("Tick the box to confirm you understand your comment will be public")]
    ConsentMissing,
}

impl InputError {
    /// The form field the message belongs to, for the error summary's links.
    pub fn field(&self) -> &'static str {
        match self {
            InputError::TextEmpty | InputError::TextTooLong(_) => "comment-text",
            InputError::NameTooLong(_) | InputError::NameInvisible => "comment-name",
            InputError::ConsentMissing => "comment-consent",
        }
    }
}

/// Kinds of personal detail a comment may give away. Health details are
/// personal details too: on a clinic's page, "on warfarin" or "20 weeks
/// pregnant" next to a first name can identify a patient.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PersonalDetail {
    Email,
    Phone,
    DateOfBirth,
    Address,
    Medicine,
    Condition,
    Pregnancy,
    /// Symptoms the writer seems to have now; they should call, not wait
    /// days for a comment to be read.
    SymptomsNow,
}

impl PersonalDetail {
    const ALL: [PersonalDetail; 8] = [
        PersonalDetail::Email,
        PersonalDetail::Phone,
        PersonalDetail::DateOfBirth,
        PersonalDetail::Address,
        PersonalDetail::Medicine,
        PersonalDetail::Condition,
        PersonalDetail::Pregnancy,
        PersonalDetail::SymptomsNow,
    ];

    /// The name kept in the database; never change one that has shipped.
    pub fn code(self) -> &'static str {
        match self {
            PersonalDetail::Email => "email",
            PersonalDetail::Phone => "phone",
            PersonalDetail::DateOfBirth => "date-of-birth",
            PersonalDetail::Address => "address",
            PersonalDetail::Medicine => "medicine",
            PersonalDetail::Condition => "condition",
            PersonalDetail::Pregnancy => "pregnancy",
            PersonalDetail::SymptomsNow => "symptoms-now",
        }
    }

    pub fn parse(code: &str) -> Option<PersonalDetail> {
        PersonalDetail::ALL.into_iter().find(|kind| kind.code() == code)
    }

    /// What staff read on the moderation page (the Display text speaks to
    /// the writer).
    pub(crate) fn for_staff(self) -> &'static str {
        match self {
            PersonalDetail::SymptomsNow => "symptoms happening now",
            other => other.for_writer(),
        }
    }

    fn for_writer(self) -> &'static str {
        match self {
            PersonalDetail::Email => "an email address",
            PersonalDetail::Phone => "a phone number",
            PersonalDetail::DateOfBirth => "a date of birth",
            PersonalDetail::Address => "a home address",
            PersonalDetail::Medicine => "the name of a medicine",
            PersonalDetail::Condition => "a health condition",
            PersonalDetail::Pregnancy => "a pregnancy",
            PersonalDetail::SymptomsNow => "symptoms you have now",
        }
    }
}

impl fmt::Display for PersonalDetail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.for_writer())
    }
}

/// "a, b or c" (or "a, b and c") for a sentence.
pub(crate) fn in_words(items: &[&str], last_joiner: &str) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_string(),
        [rest @ .., last] => format!("{} {last_joiner} {last}", rest.join(", ")),
    }
}

/// Flag kinds as stored: codes joined by commas, in order.
pub(crate) fn flags_to_codes(kinds: &[PersonalDetail]) -> String {
    kinds.iter().map(|k| k.code()).collect::<Vec<_>>().join(",")
}

/// The stored codes back; unknown ones (from a newer version) are skipped.
pub(crate) fn flags_from_codes(codes: &str) -> Vec<PersonalDetail> {
    codes.split(',').filter_map(PersonalDetail::parse).collect()
}

/// Looks for details that identify the writer or their health. It errs
/// towards asking: a false alarm costs the reader one click, a miss can
/// publish their phone number or their diagnosis on a health site.
pub(crate) fn personal_details(text: &str) -> Vec<PersonalDetail> {
    let mut found = Vec::new();
    let lower = text.to_lowercase();
    let words: Vec<&str> = lower.split_whitespace().collect();
    if words.iter().any(|w| looks_like_email(w)) {
        found.push(PersonalDetail::Email);
    }
    if longest_phone_digits(text) >= 9 {
        found.push(PersonalDetail::Phone);
    }
    if ["date of birth", "born on", "my birthday", "d.o.b", "dob:", "dob "].iter().any(|k| lower.contains(k))
        || words.iter().any(|w| looks_like_full_date(w))
    {
        found.push(PersonalDetail::DateOfBirth);
    }
    if looks_like_address(&words) {
        found.push(PersonalDetail::Address);
    }
    let words = plain_words(text);
    if has_any(&words, MEDICINES) {
        found.push(PersonalDetail::Medicine);
    }
    if has_any(&words, CONDITIONS) {
        found.push(PersonalDetail::Condition);
    }
    if has_any(&words, PREGNANCY) {
        found.push(PersonalDetail::Pregnancy);
    }
    if has_any(&words, URGENT_SYMPTOMS) || (has_any(&words, ONGOING) && has_any(&words, SYMPTOMS)) {
        found.push(PersonalDetail::SymptomsNow);
    }
    found
}

// The word lists below are matched as whole words (or runs of whole
// words), in lower case, so "aspiring" is not "aspirin". Each entry is
// written as it would be typed; plurals are listed where readers use them.

/// Medicines readers of a dry needling page are likely to name: blood
/// thinners (they change whether needling is safe, so readers ask about
/// them), painkillers and migraine medicines (what the article is about),
/// and antidepressants and other medicines that give away a condition.
/// Generic and brand names, US and UK.
const MEDICINES: &[&str] = &[
    // Blood thinners
    "warfarin",
    "coumadin",
    "jantoven",
    "apixaban",
    "eliquis",
    "rivaroxaban",
    "xarelto",
    "dabigatran",
    "pradaxa",
    "edoxaban",
    "heparin",
    "enoxaparin",
    "lovenox",
    "clexane",
    "clopidogrel",
    "plavix",
    "ticagrelor",
    "brilinta",
    "aspirin",
    "blood thinner",
    "blood thinners",
    "anticoagulant",
    "anticoagulants",
    // Painkillers and anti-inflammatories
    "ibuprofen",
    "advil",
    "motrin",
    "nurofen",
    "naproxen",
    "aleve",
    "acetaminophen",
    "paracetamol",
    "tylenol",
    "panadol",
    "diclofenac",
    "voltaren",
    "celecoxib",
    "celebrex",
    "meloxicam",
    "codeine",
    "tramadol",
    "oxycodone",
    "oxycontin",
    "percocet",
    "hydrocodone",
    "vicodin",
    "morphine",
    "fentanyl",
    "opioid",
    "opioids",
    "painkiller",
    "painkillers",
    "pain killers",
    "gabapentin",
    "neurontin",
    "pregabalin",
    "lyrica",
    // Migraine medicines
    "sumatriptan",
    "imitrex",
    "rizatriptan",
    "maxalt",
    "triptan",
    "triptans",
    "topiramate",
    "topamax",
    "propranolol",
    "aimovig",
    "ajovy",
    "emgality",
    "botox",
    // Antidepressants, anxiety and sleep medicines
    "antidepressant",
    "antidepressants",
    "sertraline",
    "zoloft",
    "fluoxetine",
    "prozac",
    "citalopram",
    "celexa",
    "escitalopram",
    "lexapro",
    "paroxetine",
    "paxil",
    "seroxat",
    "venlafaxine",
    "effexor",
    "duloxetine",
    "cymbalta",
    "bupropion",
    "wellbutrin",
    "mirtazapine",
    "amitriptyline",
    "nortriptyline",
    "trazodone",
    "diazepam",
    "valium",
    "alprazolam",
    "xanax",
    "lorazepam",
    "ativan",
    "clonazepam",
    // Muscle relaxants and steroids
    "cyclobenzaprine",
    "flexeril",
    "baclofen",
    "tizanidine",
    "methocarbamol",
    "prednisone",
    "prednisolone",
    "cortisone",
    // Medicines that name the condition they treat
    "insulin",
    "metformin",
    "ozempic",
    "methotrexate",
    "levothyroxine",
    "chemotherapy",
    "chemo",
];

/// Diagnoses a reader may not mean to publish: ones that carry stigma,
/// and ones that change whether needling is safe (bleeding disorders,
/// epilepsy, cancer). The conditions dry needling treats (migraine,
/// headaches, neck and back pain, arthritis, fibromyalgia) are left out:
/// the page asks readers to write about them, and a warning on every
/// comment would teach readers to click past it.
const CONDITIONS: &[&str] = &[
    "diagnosed",
    "diagnosis",
    "my condition",
    "cancer",
    "tumor",
    "tumour",
    "leukemia",
    "leukaemia",
    "lymphoma",
    "diabetes",
    "diabetic",
    "epilepsy",
    "epileptic",
    "seizure",
    "seizures",
    "hiv",
    "hepatitis",
    "herpes",
    "depression",
    "depressed",
    "bipolar",
    "schizophrenia",
    "ptsd",
    "ocd",
    "adhd",
    "autism",
    "autistic",
    "anxiety disorder",
    "panic attacks",
    "panic disorder",
    "eating disorder",
    "anorexia",
    "bulimia",
    "suicidal",
    "self harm",
    "addiction",
    "alcoholism",
    "alcoholic",
    "multiple sclerosis",
    "parkinson's",
    "parkinsons",
    "parkinson",
    "dementia",
    "alzheimer's",
    "alzheimers",
    "stroke",
    "heart attack",
    "heart failure",
    "heart condition",
    "atrial fibrillation",
    "afib",
    "pacemaker",
    "hemophilia",
    "haemophilia",
    "bleeding disorder",
    "lupus",
    "crohn's",
    "crohns",
    "colitis",
    "copd",
    "cystic fibrosis",
    "lymphedema",
    "lymphoedema",
    "immunocompromised",
];

/// Pregnancy changes where a therapist may needle, so readers mention it;
/// it is also news many people keep to themselves for a while.
const PREGNANCY: &[&str] = &[
    "pregnant",
    "pregnancy",
    "trimester",
    "expecting a baby",
    "miscarriage",
    "miscarried",
    "ivf",
    "due date",
    "breastfeeding",
    "postpartum",
];

/// Signs of an emergency after needling (a collapsed lung shows as
/// breathlessness or chest pain). They count as happening now even without
/// a time word: a false alarm costs a click, a miss leaves someone waiting
/// days for moderation instead of calling.
const URGENT_SYMPTOMS: &[&str] = &[
    "can't breathe",
    "cant breathe",
    "cannot breathe",
    "can not breathe",
    "short of breath",
    "shortness of breath",
    "trouble breathing",
    "difficulty breathing",
    "hard to breathe",
    "struggling to breathe",
    "chest pain",
    "chest pains",
    "chest hurts",
    "tight chest",
    "chest feels tight",
    "coughing blood",
    "coughing up blood",
    "collapsed lung",
    "pneumothorax",
    "passing out",
    "fainting",
];

/// Words that put a symptom in the present ("numb since yesterday"). On
/// their own they are ordinary ("I read for hours"), so they count only
/// next to a word from `SYMPTOMS`.
const ONGOING: &[&str] = &[
    "for hours",
    "since yesterday",
    "since this morning",
    "since last night",
    "since the session",
    "since my session",
    "since the treatment",
    "since my treatment",
    "right now",
    "getting worse",
    "won't stop",
    "wont stop",
    "will not stop",
    "won't go away",
    "still hurts",
    "still hurting",
    "still bleeding",
    "still swollen",
    "still numb",
    "still sore",
    "still dizzy",
];

/// Symptoms, for `ONGOING`.
const SYMPTOMS: &[&str] = &[
    "pain",
    "painful",
    "hurts",
    "hurting",
    "sore",
    "ache",
    "aches",
    "aching",
    "bleeding",
    "bruise",
    "bruised",
    "bruising",
    "swollen",
    "swelling",
    "numb",
    "numbness",
    "tingling",
    "dizzy",
    "faint",
    "breathe",
    "breathing",
    "breath",
    "fever",
    "nausea",
    "nauseous",
    "vomiting",
    "sick",
    "headache",
    "migraine",
    "throbbing",
    "burning",
    "weak",
    "weakness",
    "cough",
    "coughing",
    "infected",
    "infection",
    "rash",
];

/// The words of `text` in lower case: runs of letters and digits, with
/// apostrophes inside a word kept ("can't"), whatever quote mark was typed.
fn plain_words(text: &str) -> Vec<String> {
    text.to_lowercase()
        .replace(['\u{2019}', '\u{2018}', '\u{02BC}'], "'")
        .split(|c: char| !(c.is_alphanumeric() || c == '\''))
        .map(|word| word.trim_matches('\''))
        .filter(|word| !word.is_empty())
        .map(String::from)
        .collect()
}

/// Whether `words` holds any entry of `list` as consecutive whole words.
fn has_any(words: &[String], list: &[&str]) -> bool {
    list.iter().any(|entry| {
        let parts: Vec<&str> = entry.split(' ').collect();
        words.windows(parts.len()).any(|window| window.iter().zip(&parts).all(|(word, part)| word == part))
    })
}

fn looks_like_email(word: &str) -> bool {
    let word = word.trim_matches(|c: char| !c.is_alphanumeric());
    match word.split_once('@') {
        Some((user, domain)) => {
            !user.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.')
        }
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
        "street",
        "st",
        "road",
        "rd",
        "avenue",
        "ave",
        "lane",
        "ln",
        "drive",
        "dr",
        "boulevard",
        "blvd",
        "court",
        "ct",
        "way",
        "place",
        "pl",
        "close",
        "crescent",
        "terrace",
        "apt",
        "apartment",
        "suite",
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
    fn health_details_are_spotted() {
        use PersonalDetail::*;
        assert_eq!(
            personal_details("I'm 20 weeks pregnant, on warfarin, and short of breath for hours"),
            vec![Medicine, Pregnancy, SymptomsNow]
        );
        assert_eq!(personal_details("I take Eliquis so I bruise easily"), vec![Medicine]);
        assert_eq!(personal_details("Tylenol did nothing for me."), vec![Medicine]);
        assert_eq!(personal_details("My blood thinners were no problem"), vec![Medicine]);
        assert_eq!(personal_details("I'm on SERTRALINE."), vec![Medicine]);
        assert_eq!(personal_details("I was diagnosed with epilepsy in 2019"), vec![Condition]);
        assert_eq!(personal_details("Helped even with my Parkinson's"), vec![Condition]);
        assert_eq!(personal_details("Fine during my second trimester"), vec![Pregnancy]);
        assert_eq!(personal_details("My arm has been numb since yesterday"), vec![SymptomsNow]);
        assert_eq!(personal_details("I can\u{2019}t breathe properly after the session"), vec![SymptomsNow]);
        assert_eq!(personal_details("Chest pain on the left side"), vec![SymptomsNow]);
        assert_eq!(personal_details("the bleeding won't stop"), vec![SymptomsNow]);
    }

    #[test]
    fn health_words_match_whole_words_only() {
        for text in [
            "As an aspiring runner I was nervous.",
            "My stepmother recommended it.",
            "The session was on a Tuesday; I read for hours afterwards.",
            "Stroking my neck afterwards helped.",
            "Expecting great things.",
        ] {
            assert!(personal_details(text).is_empty(), "{text}: {:?}", personal_details(text));
        }
    }

    #[test]
    fn flag_codes_round_trip_and_unknown_ones_are_skipped() {
        let all = PersonalDetail::ALL.to_vec();
        assert_eq!(flags_from_codes(&flags_to_codes(&all)), all);
        assert_eq!(flags_from_codes(""), vec![]);
        assert_eq!(
            flags_from_codes("phone,from-the-future,medicine"),
            vec![PersonalDetail::Phone, PersonalDetail::Medicine]
        );
    }

    #[test]
    fn lists_read_as_sentences() {
        assert_eq!(in_words(&[], "or"), "");
        assert_eq!(in_words(&["a phone number"], "or"), "a phone number");
        assert_eq!(in_words(&["a", "b", "c"], "and"), "a, b and c");
    }

    #[test]
    fn bidi_controls_are_removed_and_invisible_text_is_refused() {
        assert_eq!(DisplayName::parse("\u{202E}1 December 2026").unwrap().as_str(), "1 December 2026");
        assert_eq!(DisplayName::parse("\u{2067}Sam\u{2069}\u{200F}").unwrap().as_str(), "Sam");
        assert_eq!(DisplayName::parse("سارا").unwrap().as_str(), "سارا");
        assert_eq!(DisplayName::parse("דנה כהן").unwrap().as_str(), "דנה כהן");
        // Persian names need the zero-width non-joiner; it stays.
        assert_eq!(DisplayName::parse("مهر\u{200C}ناز").unwrap().as_str(), "مهر\u{200C}ناز");
        for invisible in [
            "\u{200B}",
            "\u{202E}",
            "\u{200B}\u{200D} \u{2060}\u{FEFF}",
            "\u{3164}",
            "\u{2800}\u{FE0F}",
            "\u{E0041}\u{180E}",
            "\u{00AD}",
        ] {
            assert_eq!(DisplayName::parse(invisible).unwrap_err(), InputError::NameInvisible, "{invisible:?}");
            assert_eq!(CommentText::parse(invisible).unwrap_err(), InputError::TextEmpty, "{invisible:?}");
        }
        assert_eq!(
            CommentText::parse("\u{202E}gnp.exe\u{202C} and \u{2066}x\u{2069}").unwrap().as_str(),
            "gnp.exe and x"
        );
        // Marks and joiners are part of real writing: an RLM in Hebrew,
        // a ZWJ inside an emoji.
        assert_eq!(CommentText::parse("שלום\u{200F}!").unwrap().as_str(), "שלום\u{200F}!");
        assert_eq!(CommentText::parse("👩\u{200D}⚕️ thanks").unwrap().as_str(), "👩\u{200D}⚕️ thanks");
        assert_eq!(
            CommentText::parse(&format!("{}a", "\u{202E}".repeat(3000))).unwrap().as_str(),
            "a",
            "counted after removing them"
        );
    }

    #[test]
    fn ordinary_comments_are_not_flagged() {
        for text in [
            "It helped my migraines after 3 sessions.",
            "Sore for 2 days, then much better. 10/10 would recommend!",
            "I had 4 needles in my upper back and the tension eased @ work.",
            "In 2023 I tried it for the first time.",
            "It helped my neck pain.",
            "I felt better after two sessions.",
            "A bit sore the next day, but my headaches are much less often now.",
            "My therapist explained everything and I felt safe the whole time.",
            "I was worried it would hurt. It felt like a small pinch.",
            "Worth it for my back pain, which had bothered me for years.",
        ] {
            assert!(personal_details(text).is_empty(), "{text}: {:?}", personal_details(text));
        }
    }
}
