//! What clinic staff write in `content/`, read into typed values.
//!
//! The folder holds `site.toml` (site-wide settings) and one folder per
//! article: `index.md` is the article's front page and every other `.md` file
//! is one of its sections. This module reads files and parses them; turning
//! markdown into HTML is `render`'s job and checks that span pages are in
//! `validate`.

pub mod bibliography;
pub mod diagnostics;
pub mod front_matter;
#[cfg(test)]
mod keys;
pub mod review;

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::util::fs::{is_link_outside, is_temporary};
use crate::util::slug::{is_valid_slug, slugify};

pub use crate::util::date::Date;
pub use bibliography::{Bibliography, Reference};
pub use diagnostics::{ContentError, ContentErrors, Severity, format_text, source_line, summary};
pub use front_matter::{FrontMatter, Review};
pub use review::{ReviewState, reviewed_hash};

/// Everything under the content folder, parsed but not yet rendered.
#[derive(Debug, Clone)]
pub struct Content {
    pub settings: Settings,
    /// Articles in folder-name order (the home page lists them so).
    pub articles: Vec<Article>,
    /// `sources.toml`: every source pages may cite.
    pub bibliography: Bibliography,
    /// Sample values still in `site.toml`, as warnings: a preview may run
    /// with them, a published export may not.
    pub placeholders: Vec<ContentError>,
}

/// One article: a front page and its sections in reading order.
#[derive(Debug, Clone)]
pub struct Article {
    /// The article's URL segment: `/dry-needling/`.
    pub slug: String,
    pub index: Page,
    /// Sorted by `weight`, then slug, so the order never depends on the disk.
    pub sections: Vec<Page>,
}

/// One markdown file: its front matter and the markdown after it.
#[derive(Debug, Clone)]
pub struct Page {
    /// The path as staff would type it, e.g. `content/dry-needling/safety.md`;
    /// every message about this page starts with it.
    pub path: PathBuf,
    pub front: FrontMatter,
    /// URL segment: `slug` from the front matter, or the file name.
    pub slug: String,
    /// The whole file, so byte offsets in the body can be turned into lines.
    pub source: String,
    /// Byte offset in `source` where the markdown body starts.
    pub body_start: usize,
    /// The file's modification date, standing in for `updated`.
    pub modified: Option<Date>,
}

impl Page {
    /// Parses one file's text; kept apart from disk so tests can use literals.
    pub fn parse(path: &Path, source: String) -> Result<Page, Vec<ContentError>> {
        let parsed = front_matter::parse(path, &source)?;
        let slug = match &parsed.front.slug {
            Some(slug) => slug.clone(),
            None => file_slug(path),
        };
        let page = Page {
            path: path.to_path_buf(),
            front: parsed.front,
            slug,
            source,
            body_start: parsed.body_start,
            modified: None,
        };
        let mut errors = Vec::new();
        if !is_valid_slug(&page.slug) {
            let (line, hint) = match page.front.slug {
                Some(_) => (
                    page.line_of_key("slug"),
                    "use only lowercase letters, numbers and hyphens, like slug = \"side-effects\"".to_string(),
                ),
                None => (
                    1,
                    format!(
                        "rename the file using only lowercase letters, numbers and hyphens, like {}.md, or set slug = \"...\" in the front matter",
                        slugify(&page.slug)
                    ),
                ),
            };
            errors.push(
                ContentError::new(path, line, format!("the web address part \"{}\" is not allowed", page.slug))
                    .hint(hint),
            );
        }
        errors.extend(page.review_problems());
        if page.body().trim().is_empty() {
            errors.push(
                ContentError::new(path, page.line_at(page.body_start), "this page has no text after its front matter")
                    .hint("write the page's text below the closing +++ line, or delete the file"),
            );
        }
        if errors.is_empty() { Ok(page) } else { Err(errors) }
    }

    /// Reads and parses a file from disk.
    pub(crate) fn from_file(path: &Path) -> Result<Page, Vec<ContentError>> {
        let source = read_text(path)?;
        let mut page = Page::parse(path, source)?;
        page.modified = std::fs::metadata(path)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| Date::from_unix(d.as_secs() as i64));
        Ok(page)
    }

    /// When the text last changed, for "Last updated": `updated` from the
    /// front matter, or the file's modification date.
    pub fn updated(&self) -> Option<Date> {
        self.front.updated.or(self.modified)
    }

    /// The newest date the page was changed or reviewed, for the sitemap.
    pub(crate) fn last_modified(&self) -> Option<Date> {
        self.updated().max(self.front.review().map(|r| r.on))
    }

    /// A page may tell readers it was clinically reviewed only when it names
    /// who reviewed it, with credentials, and when: a date typed on its own
    /// would be a claim nobody made.
    fn review_problems(&self) -> Vec<ContentError> {
        let front = &self.front;
        let mut errors = Vec::new();
        let reviewer_hint = "add who reviewed it, with credentials, like reviewed_by = \"Jane Smith, DPT\"; only a clinician who checked the page may be named";
        match (&front.reviewed_by, front.last_reviewed) {
            (None, Some(_)) => errors.push(
                ContentError::new(&self.path, self.line_of_key("last_reviewed"), "last_reviewed is set but reviewed_by is not: a page may only say it was reviewed if it names who reviewed it")
                    .hint(format!("{reviewer_hint}; or remove last_reviewed and use updated = ... for the date the text changed")),
            ),
            (Some(_), None) => errors.push(
                ContentError::new(&self.path, self.line_of_key("reviewed_by"), "reviewed_by is set but last_reviewed is not: readers need to know when the review was made")
                    .hint("add the date of the review, like last_reviewed = 2026-01-15"),
            ),
            _ => {}
        }
        if let Some(by) = &front.reviewed_by
            && !front_matter::names_credentials(by)
        {
            errors.push(
                ContentError::new(
                    &self.path,
                    self.line_of_key("reviewed_by"),
                    format!("reviewed_by \"{by}\" does not give the reviewer's credentials"),
                )
                .hint("write the name, a comma, then the credentials, like reviewed_by = \"Jane Smith, DPT\""),
            );
        }
        if front.next_review.is_some() && front.review().is_none() && errors.is_empty() {
            errors.push(
                ContentError::new(
                    &self.path,
                    self.line_of_key("next_review"),
                    "next_review is set but the page has no clinical review",
                )
                .hint("a next review date follows a review: add reviewed_by and last_reviewed, or remove next_review"),
            );
        }
        if let (Some(review), Some(next)) = (front.review(), front.next_review)
            && next <= review.on
        {
            errors.push(
                ContentError::new(
                    &self.path,
                    self.line_of_key("next_review"),
                    format!("next_review ({}) is not after last_reviewed ({})", next.long(), review.on.long()),
                )
                .hint("set the date the page should next be checked, usually a year after the review"),
            );
        }
        errors
    }

    pub fn body(&self) -> &str {
        &self.source[self.body_start..]
    }

    /// The 1-based line of a byte offset into the whole file.
    pub(crate) fn line_at(&self, offset: usize) -> usize {
        line_of(&self.source, offset)
    }

    /// A problem at a byte offset into the page's markdown body, with its
    /// line and column in the file.
    pub(crate) fn error_in_body(&self, offset: usize, message: impl Into<String>) -> ContentError {
        let (line, column) = line_col(&self.source, self.body_start + offset);
        ContentError::new(&self.path, line, message).column(column)
    }

    /// The line a front matter key is set on, for messages about its value;
    /// the first line when the key is not written out.
    pub(crate) fn line_of_key(&self, key: &str) -> usize {
        self.source[..self.body_start]
            .lines()
            .position(|line| line.split('=').next().is_some_and(|k| k.trim() == key))
            .map_or(1, |i| i + 1)
    }

    pub(crate) fn is_draft(&self) -> bool {
        self.front.draft
    }
}

/// Site-wide settings from `content/site.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Shown in the header, footer, page titles and link previews.
    pub clinic_name: String,
    /// Public address of the site without a trailing slash; canonical links
    /// are built from it, so they stay right behind any proxy.
    pub base_url: String,
    /// Language tag for `<html lang>`, e.g. `en-US`.
    pub language: String,
    /// Short "not medical advice" text in every page's footer.
    pub disclaimer: String,
    /// Pages reading above this Flesch-Kincaid grade get a warning; patient
    /// material should read at about grade 6 to 8.
    #[serde(default = "default_reading_grade")]
    pub max_reading_grade: f64,
    pub contact: Contact,
    /// Words that make a health claim; `check` asks for a source on pages
    /// that use them.
    #[serde(default = "default_claim_words")]
    pub claim_words: Vec<String>,
    /// How long reader comments are kept (`[comments]`).
    #[serde(default)]
    pub comments: CommentSettings,
    /// Rules for staff sign-in (`[staff]`).
    #[serde(default)]
    pub staff: StaffSettings,
    /// The editor's plain-English help (`[plain_english]`).
    #[serde(default)]
    pub plain_english: PlainEnglishSettings,
    /// Clinical review before changes go live (`[review]`).
    #[serde(default)]
    pub review: ReviewSettings,
}

/// Clinical review rules, enforced by the workspace.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewSettings {
    /// An edit of a page a reviewer has signed off waits, as a pending
    /// revision, until a reviewer signs it off; the live page keeps the
    /// signed text. Pages never signed off publish as before.
    #[serde(default)]
    pub require_review: bool,
}

/// The clinic's additions to the editor's plain-English help.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlainEnglishSettings {
    /// Words or phrases and the plainer word to use instead, added to the
    /// list that comes with the software (`src/plain_english_words.txt`);
    /// the editor's preview marks them.
    #[serde(default)]
    pub words: std::collections::BTreeMap<String, String>,
}

/// Rules for how staff sign in, enforced by the staff area.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaffSettings {
    /// People holding any of these roles must turn on two-step sign-in
    /// before they can use the staff pages; empty (the default) leaves it
    /// to each person. Kept with their place in the file, so an unknown
    /// role is reported where it is written.
    #[serde(default)]
    pub require_two_step: Vec<toml::Spanned<String>>,
}

impl StaffSettings {
    /// Whether people holding the role named `role` must use two-step
    /// sign-in.
    pub fn requires_two_step(&self, role: &str) -> bool {
        self.require_two_step.iter().any(|required| required.get_ref().trim().eq_ignore_ascii_case(role))
    }
}

/// The staff roles, as `site.toml` names them. `content` sits below `auth`
/// and cannot use its `Role`; a test in the staff area keeps the two lists
/// the same.
pub const STAFF_ROLE_NAMES: [&str; 4] = ["moderator", "editor", "reviewer", "owner"];

/// Rules for keeping readers' comments, stated on the privacy notice and
/// enforced by the server.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommentSettings {
    /// Rejected comments are deleted for good this many days after they
    /// were rejected: they will never be published, so there is no reason
    /// to keep what a reader wrote.
    #[serde(default = "default_rejected_days")]
    pub delete_rejected_after_days: u32,
}

impl Default for CommentSettings {
    fn default() -> Self {
        CommentSettings { delete_rejected_after_days: default_rejected_days() }
    }
}

fn default_rejected_days() -> u32 {
    30
}

fn default_reading_grade() -> f64 {
    8.0
}

/// Words that promise an outcome. A patient reading them deserves to see
/// where the promise comes from.
fn default_claim_words() -> Vec<String> {
    ["effective", "cure", "proven", "heals", "safe and", "pain-free", "relieves", "guaranteed", "miracle"]
        .map(String::from)
        .to_vec()
}

/// How patients reach the clinic; shown in every footer.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    /// Shown as written; the `tel:` link keeps only digits and a leading +.
    pub phone: String,
    /// Where patients book an appointment online, if the clinic has one.
    pub booking_url: Option<String>,
    /// The number to call in an emergency where the clinic's readers live
    /// (911 in the US, 999 in the UK, 112 in the EU).
    #[serde(default = "default_emergency_number")]
    pub emergency_number: String,
}

fn default_emergency_number() -> String {
    "911".to_string()
}

impl Contact {
    /// The phone number as a `tel:` link target.
    pub(crate) fn phone_href(&self) -> String {
        let digits: String = self.phone.chars().filter(|c| c.is_ascii_digit() || *c == '+').collect();
        format!("tel:{digits}")
    }
}

impl Settings {
    pub fn parse(path: &Path, source: &str) -> Result<Settings, ContentError> {
        let mut settings: Settings = toml::from_str(source).map_err(|err| {
            let (line, column) = err.span().map_or((1, 1), |span| line_col(source, span.start));
            let (message, hint) = front_matter::explain_toml_error(&err, source, SETTINGS_KEYS);
            ContentError::new(path, line, message).column(column).hint(hint)
        })?;
        let trimmed = settings.base_url.trim_end_matches('/');
        if !(trimmed.starts_with("https://") || trimmed.starts_with("http://")) || trimmed.contains(char::is_whitespace)
        {
            let line = settings_line(source, "base_url");
            return Err(ContentError::new(
                path,
                line,
                format!("base_url \"{}\" is not a web address", settings.base_url),
            )
            .hint(
                "write the site's public address with https://, like base_url = \"https://www.example-clinic.com\"",
            ));
        }
        settings.base_url = trimmed.to_string();
        for role in &settings.staff.require_two_step {
            let name = role.get_ref().trim().to_ascii_lowercase();
            if !STAFF_ROLE_NAMES.contains(&name.as_str()) {
                let (line, column) = line_col(source, role.span().start);
                let guess = front_matter::closest(&name, &STAFF_ROLE_NAMES)
                    .map(|best| format!("did you mean \"{best}\"? "))
                    .unwrap_or_default();
                return Err(ContentError::new(
                    path,
                    line,
                    format!("require_two_step names \"{}\", which is not a staff role", role.get_ref()),
                )
                .column(column)
                .hint(format!(
                    "{guess}the roles are {}; write them like require_two_step = [\"owner\", \"reviewer\"]",
                    STAFF_ROLE_NAMES.join(", ")
                )));
            }
        }
        Ok(settings)
    }
}

/// The line a setting is written on; 1 when it is not written out.
fn settings_line(source: &str, key: &str) -> usize {
    source.lines().position(|l| l.split('=').next().is_some_and(|k| k.trim() == key)).map_or(1, |i| i + 1)
}

/// The sample clinic's name, shipped in `content/site.toml`.
const SAMPLE_CLINIC_NAME: &str = "Riverside Physical Therapy";

/// Sample values a clinic must replace before publishing: they look real
/// to patients, and previews, the sitemap and printed QR codes carry them.
pub fn placeholders(path: &Path, source: &str, settings: &Settings) -> Vec<ContentError> {
    let mut found = Vec::new();
    let mut report = |key: &str, message: String, hint: &str| {
        found.push(ContentError::new(path, settings_line(source, key), message).hint(hint).warning())
    };
    let name_hint = "put the clinic's name as patients know it, like clinic_name = \"Lakeside Physical Therapy\"";
    match settings.clinic_name.trim() {
        "" => report("clinic_name", "clinic_name is empty".to_string(), name_hint),
        SAMPLE_CLINIC_NAME => {
            report("clinic_name", format!("clinic_name is still the sample name \"{SAMPLE_CLINIC_NAME}\""), name_hint)
        }
        _ => {}
    }
    if let Some(host) = placeholder_host(&settings.base_url) {
        report(
            "base_url",
            format!("base_url \"{}\" is a sample address: {host} is not a real website", settings.base_url),
            "put the address where patients will find the site, like base_url = \"https://www.your-clinic.com\"; link previews, the sitemap and printed QR codes use it",
        );
    }
    match settings.contact.phone.trim() {
        "" => report(
            "phone",
            "the clinic's phone number is empty".to_string(),
            "patients need a number to call: put it under [contact] written as patients should see it, like phone = \"(312) 123-4567\"",
        ),
        phone if is_fictional_phone(phone) => report(
            "phone",
            format!("phone \"{phone}\" is a made-up number (555 numbers are kept for films and examples)"),
            "put the clinic's real phone number, as patients should dial it",
        ),
        _ => {}
    }
    if let Some(url) = &settings.contact.booking_url
        && let Some(host) = placeholder_host(url)
    {
        report(
            "booking_url",
            format!("booking_url \"{url}\" is a sample address: {host} is not a real website"),
            "put the page where patients book, or remove booking_url if the clinic has none",
        );
    }
    if settings.contact.emergency_number.trim().is_empty() {
        report(
            "emergency_number",
            "the emergency number is empty".to_string(),
            "put the number to call in an emergency where the clinic's patients live, like emergency_number = \"911\"",
        );
    }
    found
}

/// The host of an address that cannot be a public website: the names kept
/// for examples and tests (RFC 2606, RFC 6761) and this machine.
fn placeholder_host(url: &str) -> Option<String> {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let host = rest.split(['/', '?', '#', ':']).next().unwrap_or("").to_ascii_lowercase();
    let reserved_tld = [".example", ".test", ".invalid", ".localhost", ".local"].iter().any(|tld| host.ends_with(tld));
    let example_domain =
        ["example.com", "example.org", "example.net"].iter().any(|d| host == *d || host.ends_with(&format!(".{d}")));
    let this_machine = host == "localhost" || host.starts_with("127.") || host == "[::1]" || host == "0.0.0.0";
    (reserved_tld || example_domain || this_machine || host.is_empty()).then_some(host)
}

/// North American numbers that cannot be a clinic's: area code 555 does
/// not exist, and 555-0100 to 555-0199 are kept for fiction in every area.
fn is_fictional_phone(phone: &str) -> bool {
    let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
    let digits = match digits.len() {
        11 if digits.starts_with('1') => &digits[1..],
        10 => &digits[..],
        _ => return false,
    };
    let (area, exchange, line) = (&digits[..3], &digits[3..6], &digits[6..]);
    area == "555" || (exchange == "555" && ("0100".."0200").contains(&line))
}

/// Keys `site.toml` may hold, with an example line for each.
const SETTINGS_KEYS: &[(&str, &str)] = &[
    ("clinic_name", "clinic_name = \"Riverside Physical Therapy\""),
    ("base_url", "base_url = \"https://www.example-clinic.com\""),
    ("language", "language = \"en-US\""),
    ("disclaimer", "disclaimer = \"This article is general information, not medical advice.\""),
    ("max_reading_grade", "max_reading_grade = 8"),
    ("claim_words", "claim_words = [\"effective\", \"cure\", \"proven\"]"),
    ("contact", "[contact] with phone = \"(555) 010-0142\" below it"),
    ("phone", "phone = \"(555) 010-0142\""),
    ("booking_url", "booking_url = \"https://www.example-clinic.com/book\""),
    ("emergency_number", "emergency_number = \"911\""),
    ("comments", "[comments] with delete_rejected_after_days = 30 below it"),
    ("delete_rejected_after_days", "delete_rejected_after_days = 30"),
    ("staff", "[staff] with require_two_step = [\"owner\", \"reviewer\"] below it"),
    ("require_two_step", "require_two_step = [\"owner\", \"reviewer\"]"),
    ("plain_english", "[plain_english] with words = { \"signage\" = \"signs\" } below it"),
    ("words", "words = { \"signage\" = \"signs\", \"in excess of\" = \"more than\" }"),
    ("review", "[review] with require_review = true below it"),
    ("require_review", "require_review = true"),
];

/// Which pages to load.
#[derive(Debug, Clone, Copy, Default)]
pub struct LoadOptions {
    /// Keep pages marked `draft = true` (only for previewing).
    pub include_drafts: bool,
}

/// Reads the whole content folder. Every problem found is returned, not just
/// the first, so staff can fix them all in one go.
pub fn load(dir: &Path, options: LoadOptions) -> Result<Content, ContentErrors> {
    match load_all(dir, options) {
        (Some(content), errors) if errors.is_empty() => Ok(content),
        (_, errors) => Err(ContentErrors(errors)),
    }
}

/// Reads as much of the content folder as can be read: pages with problems
/// are left out and their problems returned, so `check` can still look at
/// every other page. `None` when there is nothing to show at all.
pub(crate) fn load_all(dir: &Path, options: LoadOptions) -> (Option<Content>, Vec<ContentError>) {
    let mut errors = Vec::new();
    // Where the folder really is, to tell links that lead out of it. A
    // folder that is not there fails below, reading site.toml.
    let root = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    let settings_path = dir.join("site.toml");
    let mut placeholders = Vec::new();
    let settings_text = match link_outside(&root, &settings_path) {
        Some(refused) => Err(vec![refused]),
        None => read_text(&settings_path),
    };
    let settings = match settings_text {
        Ok(source) => Settings::parse(&settings_path, &source)
            .map_err(|e| errors.push(e))
            .ok()
            .inspect(|settings| placeholders = self::placeholders(&settings_path, &source, settings)),
        Err(mut e) => {
            errors.append(&mut e);
            None
        }
    };
    let (bibliography, mut problems) = Bibliography::load(dir, &root);
    errors.append(&mut problems);

    let mut articles = Vec::new();
    match sorted_entries(dir) {
        Ok(entries) => {
            for entry in entries {
                if entry.file_name().is_some_and(|n| n == bibliography::FILE) {
                    continue;
                }
                let is_page = is_markdown(&entry) && !is_readme(&entry);
                if (entry.is_dir() || is_page)
                    && let Some(refused) = link_outside(&root, &entry)
                {
                    errors.push(refused);
                    continue;
                }
                if entry.is_dir() {
                    let (article, mut problems) = load_article(&root, &entry, options);
                    errors.append(&mut problems);
                    articles.extend(article);
                } else if is_page {
                    errors.push(
                        ContentError::new(&entry, 1, "pages must be inside an article folder").hint(format!(
                            "move this file into a folder such as {}",
                            dir.join("dry-needling").display()
                        )),
                    );
                }
            }
        }
        Err(e) => errors.push(e),
    }
    if errors.is_empty() && articles.is_empty() {
        errors.push(
            ContentError::new(dir, 0, "there are no articles to show")
                .hint("an article is a folder with an index.md file in it, like content/dry-needling/index.md"),
        );
    }
    let content = settings.filter(|_| !articles.is_empty()).map(|settings| Content {
        settings,
        articles,
        bibliography,
        placeholders,
    });
    (content, errors)
}

/// Loads one article folder, leaving out pages with problems. `None` when
/// its front page has problems or is a draft that is not being shown.
fn load_article(root: &Path, dir: &Path, options: LoadOptions) -> (Option<Article>, Vec<ContentError>) {
    let index_path = dir.join("index.md");
    if let Some(refused) = link_outside(root, &index_path) {
        return (None, vec![refused]);
    }
    if !index_path.is_file() {
        let error = ContentError::new(dir, 0, "this article folder has no index.md")
            .hint("add an index.md with the article's title and introduction, or move the files out of this folder");
        return (None, vec![error]);
    }
    let mut errors = Vec::new();
    let index = Page::from_file(&index_path).map_err(|mut e| errors.append(&mut e)).ok();
    let mut sections = Vec::new();
    match sorted_entries(dir) {
        Ok(entries) => {
            for path in entries {
                if is_markdown(&path) && path != index_path && !is_readme(&path) {
                    if let Some(refused) = link_outside(root, &path) {
                        errors.push(refused);
                        continue;
                    }
                    match Page::from_file(&path) {
                        Ok(page) if page.is_draft() && !options.include_drafts => {}
                        Ok(page) => sections.push(page),
                        Err(mut e) => errors.append(&mut e),
                    }
                }
            }
        }
        Err(e) => errors.push(e),
    }
    let Some(index) = index else { return (None, errors) };
    if index.is_draft() && !options.include_drafts {
        return (None, errors);
    }
    sort_sections(&mut sections);
    let slug = article_slug(&index);
    if !is_valid_slug(&slug) {
        errors.push(
            ContentError::new(&index_path, 1, format!("the article's web address part \"{slug}\" is not allowed"))
                .hint(format!(
                    "rename the folder using only lowercase letters, numbers and hyphens, like {}",
                    slugify(&slug)
                )),
        );
        return (None, errors);
    }
    (Some(Article { slug, index, sections }), errors)
}

/// Sections in reading order: by `weight`, then slug, so the order never
/// depends on the disk.
fn sort_sections(sections: &mut [Page]) {
    sections.sort_by(|a, b| (a.front.weight, &a.slug).cmp(&(b.front.weight, &b.slug)));
}

/// An article's URL segment: its front page's `slug`, or its folder's name.
fn article_slug(index: &Page) -> String {
    match &index.front.slug {
        Some(slug) => slug.clone(),
        None => {
            index.path.parent().and_then(Path::file_name).map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
        }
    }
}

impl Content {
    /// The content with `page` in place of the file at its path, or added
    /// to its article if it was not there (a new page, or one left out for
    /// its problems): what a page would be if saved, for the editor's
    /// preview. `false` when no article's folder holds the page.
    pub fn put_page(&mut self, page: Page) -> bool {
        let Some(article) = self.articles.iter_mut().find(|article| article.index.path.parent() == page.path.parent())
        else {
            return false;
        };
        if article.index.path == page.path {
            article.index = page;
            article.slug = article_slug(&article.index);
        } else {
            article.sections.retain(|section| section.path != page.path);
            article.sections.push(page);
            sort_sections(&mut article.sections);
        }
        true
    }
}

/// Why `path` must not be read, if it is a link to a file or folder
/// outside the content folder (`root`, canonical): it would publish any
/// file on the server that the link names (a page linked to /etc/passwd),
/// and the watcher would never see it change. Links that stay inside the
/// folder are read like the file they name: they publish nothing that is
/// not published already. The target is never read, and never named in
/// the message, which `/healthz` shows.
pub(crate) fn link_outside(root: &Path, path: &Path) -> Option<ContentError> {
    is_link_outside(root, path).then(|| {
        let what = if path.is_dir() { "folder" } else { "file" };
        ContentError::new(
            path,
            0,
            format!("this {what} is a link to a {what} outside the content folder, so it is not read"),
        )
        .hint(format!("copy the {what} itself into the content folder instead of linking to it"))
    })
}

/// Directory entries sorted by name, skipping hidden files and editor
/// leftovers (`.swp`, `~`), which appear and vanish while staff type.
fn sorted_entries(dir: &Path) -> Result<Vec<PathBuf>, ContentError> {
    let read = std::fs::read_dir(dir).map_err(|e| {
        ContentError::new(dir, 0, format!("cannot open this folder: {e}"))
            .hint("check that the folder exists and can be read")
    })?;
    let mut paths: Vec<PathBuf> =
        read.filter_map(|entry| entry.ok().map(|e| e.path())).filter(|p| !is_temporary(p)).collect();
    paths.sort();
    Ok(paths)
}

fn is_markdown(path: &Path) -> bool {
    path.is_file() && path.extension().is_some_and(|e| e == "md")
}

/// A README.md in the content folder is the staff guide, not a page.
fn is_readme(path: &Path) -> bool {
    path.file_name().is_some_and(|n| n.eq_ignore_ascii_case("README.md"))
}

pub(crate) fn read_text(path: &Path) -> Result<String, Vec<ContentError>> {
    std::fs::read_to_string(path).map_err(|e| {
        let hint = match e.kind() {
            std::io::ErrorKind::NotFound => "create the file, or check the folder name given with --content",
            std::io::ErrorKind::InvalidData => {
                "save the file as UTF-8 text (most editors offer this under \"Save as\" or \"Encoding\")"
            }
            _ => "check that the file exists and can be read",
        };
        vec![ContentError::new(path, 0, format!("cannot read this file: {e}")).hint(hint)]
    })
}

fn file_slug(path: &Path) -> String {
    path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default()
}

/// 1-based line of a byte offset.
pub(crate) fn line_of(source: &str, offset: usize) -> usize {
    line_col(source, offset).0
}

/// 1-based line and column (in characters) of a byte offset.
pub(crate) fn line_col(source: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(source.len());
    let before = &source[..source.floor_char_boundary(offset)];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_from_one() {
        let text = "ab\ncdé\nf";
        assert_eq!(line_col(text, 0), (1, 1));
        assert_eq!(line_col(text, 3), (2, 1));
        assert_eq!(line_col(text, 7), (2, 4));
        assert_eq!(line_col(text, 8), (3, 1));
    }

    #[test]
    fn empty_body_is_an_error_on_the_line_after_the_front_matter() {
        let src = "+++\ntitle = \"T\"\ndescription = \"D\"\nupdated = 2026-01-01\n+++\n\n";
        let errors = Page::parse(Path::new("content/a/x.md"), src.into()).unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(
            errors[0].to_string().lines().next().unwrap(),
            "content/a/x.md:6:1: error: this page has no text after its front matter"
        );
    }

    #[test]
    fn bad_file_name_is_reported_with_a_suggestion() {
        let src = "+++\ntitle = \"T\"\ndescription = \"D\"\nupdated = 2026-01-01\n+++\nText.\n";
        let errors = Page::parse(Path::new("content/a/Side Effects.md"), src.into()).unwrap_err();
        assert!(errors[0].message.contains("\"Side Effects\" is not allowed"), "{}", errors[0]);
        assert!(errors[0].hint.as_deref().unwrap().contains("side-effects.md"));
    }

    fn review_errors(front: &str) -> Vec<String> {
        let src = format!("+++\ntitle = \"T\"\ndescription = \"D\"\n{front}+++\nText.\n");
        Page::parse(Path::new("content/a/x.md"), src).err().unwrap_or_default().iter().map(|e| e.to_string()).collect()
    }

    #[test]
    fn a_review_claim_needs_a_named_reviewer_with_credentials() {
        assert!(review_errors("reviewed_by = \"Jane Smith, DPT\"\nlast_reviewed = 2026-01-15\n").is_empty());
        let undated = review_errors("last_reviewed = 2026-11-20\n");
        assert!(
            undated[0].starts_with("content/a/x.md:4:1: error: last_reviewed is set but reviewed_by is not"),
            "{undated:?}"
        );
        let nameless = review_errors("reviewed_by = \"Jane Smith, DPT\"\n");
        assert!(
            nameless[0].starts_with("content/a/x.md:4:1: error: reviewed_by is set but last_reviewed is not"),
            "{nameless:?}"
        );
        let no_credentials = review_errors("reviewed_by = \"Jane Smith\"\nlast_reviewed = 2026-01-15\n");
        assert!(no_credentials[0].contains("does not give the reviewer's credentials"), "{no_credentials:?}");
        let orphan_next = review_errors("next_review = 2027-01-15\n");
        assert!(orphan_next[0].contains("next_review is set but the page has no clinical review"), "{orphan_next:?}");
        let backwards =
            review_errors("reviewed_by = \"Jane Smith, DPT\"\nlast_reviewed = 2026-01-15\nnext_review = 2025-01-15\n");
        assert!(backwards[0].contains("is not after last_reviewed"), "{backwards:?}");
    }

    fn placeholder_messages(source: &str) -> Vec<String> {
        let path = Path::new("content/site.toml");
        let settings = Settings::parse(path, source).unwrap();
        placeholders(path, source, &settings).iter().map(ToString::to_string).collect()
    }

    const REAL: &str = "clinic_name = \"Lakeside PT\"\nbase_url = \"https://www.lakeside-pt.com\"\nlanguage = \"en-US\"\ndisclaimer = \"General information.\"\n[contact]\nphone = \"(312) 555-2368\"\n";

    #[test]
    fn staff_roles_needing_two_step_sign_in_are_read_and_unknown_ones_refused_where_written() {
        let path = Path::new("content/site.toml");
        assert!(Settings::parse(path, REAL).unwrap().staff.require_two_step.is_empty(), "off unless asked for");
        let settings =
            Settings::parse(path, &format!("{REAL}[staff]\nrequire_two_step = [\"owner\", \"Reviewer\"]\n")).unwrap();
        assert!(settings.staff.requires_two_step("owner") && settings.staff.requires_two_step("reviewer"));
        assert!(!settings.staff.requires_two_step("moderator"));
        let error = Settings::parse(path, &format!("{REAL}[staff]\nrequire_two_step = [\"owner\", \"reviwer\"]\n"))
            .unwrap_err()
            .to_string();
        assert!(
            error.starts_with(
                "content/site.toml:8:30: error: require_two_step names \"reviwer\", which is not a staff role"
            ),
            "{error}"
        );
        assert!(error.contains("did you mean \"reviewer\"?"), "{error}");
    }

    #[test]
    fn real_looking_settings_have_no_placeholders() {
        assert_eq!(placeholder_messages(REAL), Vec::<String>::new());
    }

    #[test]
    fn sample_settings_are_reported_where_they_are_written() {
        let sample = REAL
            .replace("Lakeside PT", "Riverside Physical Therapy")
            .replace("https://www.lakeside-pt.com", "https://riverside-pt.example")
            .replace("(312) 555-2368", "(555) 010-0142");
        let messages = placeholder_messages(&format!("{sample}booking_url = \"https://example.com/book\"\n"));
        assert_eq!(messages.len(), 4, "{messages:?}");
        assert!(
            messages[0].starts_with("content/site.toml:1:1: warning: clinic_name is still the sample name"),
            "{}",
            messages[0]
        );
        assert!(
            messages[1].starts_with(
                "content/site.toml:2:1: warning: base_url \"https://riverside-pt.example\" is a sample address"
            ),
            "{}",
            messages[1]
        );
        assert!(
            messages[2].starts_with("content/site.toml:6:1: warning: phone \"(555) 010-0142\" is a made-up number"),
            "{}",
            messages[2]
        );
        assert!(messages[3].starts_with("content/site.toml:7:1: warning: booking_url"), "{}", messages[3]);
    }

    #[test]
    fn fictional_phone_numbers_and_reserved_hosts_are_recognised() {
        for fake in ["(555) 010-0142", "555-123-4567", "+1 312 555 0100", "1-800-555-0199"] {
            assert!(is_fictional_phone(fake), "{fake}");
        }
        for real in ["(312) 555-2368", "+1 312 555 0200", "020 7946 0000", "911"] {
            assert!(!is_fictional_phone(real), "{real}");
        }
        for host in [
            "https://clinic.test",
            "https://a.invalid/x",
            "http://localhost:3000",
            "https://www.example.org",
            "http://127.0.0.1",
        ] {
            assert!(placeholder_host(host).is_some(), "{host}");
        }
        for host in ["https://www.nhs.uk", "https://example-clinic.com", "https://testing.org"] {
            assert!(placeholder_host(host).is_none(), "{host}");
        }
    }

    #[test]
    fn every_setting_has_an_example_and_a_row_in_the_staff_guide() {
        use keys::{field_names, names, readme_table_keys, sorted};
        let fields = sorted(
            field_names::<Settings>()
                .into_iter()
                .chain(field_names::<Contact>())
                .chain(field_names::<CommentSettings>())
                .chain(field_names::<StaffSettings>())
                .chain(field_names::<PlainEnglishSettings>())
                .chain(field_names::<ReviewSettings>()),
        );
        assert_eq!(fields, names(SETTINGS_KEYS), "SETTINGS_KEYS and the settings structs differ");
        let documented = readme_table_keys("### Site settings (`content/site.toml`)");
        assert_eq!(documented, fields, "README's site settings table and the settings differ");
    }

    #[test]
    fn every_front_matter_key_has_an_example_and_a_row_in_the_staff_guide() {
        use keys::{field_names, names, readme_table_keys, sorted};
        let fields = sorted(field_names::<FrontMatter>());
        assert_eq!(fields, names(front_matter::PAGE_KEYS), "PAGE_KEYS and FrontMatter differ");
        assert_eq!(
            readme_table_keys("### The settings at the top of each page (front matter)"),
            fields,
            "README's front matter table and FrontMatter differ"
        );
    }

    #[test]
    fn every_source_key_has_an_example() {
        use keys::{field_names, names, sorted};
        assert_eq!(sorted(field_names::<Reference>()), names(bibliography::REFERENCE_KEYS));
    }
}
