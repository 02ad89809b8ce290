//! The site's sources, written once in `content/sources.toml` under short
//! keys (`[gattie-2017]`) and cited from pages by key, so a source used on
//! five pages is typed, checked and corrected in one place.
//!
//! On a medical page a wrong citation is worse than none, so every entry is
//! checked as it is read: a DOI must look like one, a web address must be
//! https, and the "what it says" note readers see is required.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::{ContentError, front_matter, line_col};
use crate::util::slug::is_valid_slug;

/// One publication, as the reference list shows it.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Reference {
    /// As the publication lists them: "Gattie E, Cleland JA, Snodgrass S",
    /// or the organisation that wrote it.
    pub authors: String,
    pub title: String,
    /// For journal articles, the journal's name as usually abbreviated.
    pub journal: Option<String>,
    /// For reports, guidelines and web pages: who published it, and any
    /// series name ("NICE guideline NG193").
    pub publisher: Option<String>,
    pub year: Option<u16>,
    pub volume: Option<String>,
    pub issue: Option<String>,
    pub pages: Option<String>,
    /// Without the resolver: `10.2519/jospt.2017.7096`.
    pub doi: Option<String>,
    /// Where to read it, when it has no DOI; https only.
    pub url: Option<String>,
    /// What the source says, in plain words, shown under the reference.
    pub note: String,
}

/// Keys an entry may have, each with an example line used in hints.
pub(crate) const REFERENCE_KEYS: &[(&str, &str)] = &[
    ("authors", "authors = \"Gattie E, Cleland JA, Snodgrass S\""),
    ("title", "title = \"The effectiveness of trigger point dry needling ...\""),
    ("journal", "journal = \"J Orthop Sports Phys Ther\""),
    ("publisher", "publisher = \"NICE guideline NG193\""),
    ("year", "year = 2017"),
    ("volume", "volume = \"47\""),
    ("issue", "issue = \"3\""),
    ("pages", "pages = \"133-149\""),
    ("doi", "doi = \"10.2519/jospt.2017.7096\""),
    ("url", "url = \"https://www.nice.org.uk/guidance/ng193\""),
    ("note", "note = \"What the source says, in plain words.\""),
];

impl Reference {
    /// Where the reference links to: the DOI resolver when there is a DOI,
    /// which outlives publishers' own addresses, otherwise `url`.
    pub fn link(&self) -> Option<String> {
        match (&self.doi, &self.url) {
            (Some(doi), _) => Some(format!("https://doi.org/{doi}")),
            (None, Some(url)) => Some(url.clone()),
            (None, None) => None,
        }
    }

    /// What follows the title, in the usual medical style:
    /// "J Orthop Sports Phys Ther. 2017;47(3):133-149" or "NICE guideline NG193; 2021".
    pub fn details(&self) -> String {
        let mut out = String::new();
        if let Some(journal) = &self.journal {
            out.push_str(journal);
            out.push_str(". ");
            if let Some(year) = self.year {
                out.push_str(&year.to_string());
            }
            if let Some(volume) = &self.volume {
                out.push(';');
                out.push_str(volume);
                if let Some(issue) = &self.issue {
                    out.push_str(&format!("({issue})"));
                }
            }
            if let Some(pages) = &self.pages {
                out.push(':');
                out.push_str(pages);
            }
        } else {
            let parts: Vec<String> = self.publisher.iter().cloned().chain(self.year.map(|y| y.to_string())).collect();
            out.push_str(&parts.join("; "));
        }
        out.trim_end_matches([' ', '.']).to_string()
    }

    /// Schema.org `citation` item for the page's structured data.
    pub fn json_ld(&self) -> serde_json::Value {
        let mut value = serde_json::json!({
            "@type": if self.journal.is_some() { "ScholarlyArticle" } else { "CreativeWork" },
            "name": self.title,
            "author": self.authors,
        });
        if let Some(year) = self.year {
            value["datePublished"] = year.to_string().into();
        }
        if let Some(journal) = &self.journal {
            value["isPartOf"] = serde_json::json!({ "@type": "Periodical", "name": journal });
        } else if let Some(publisher) = &self.publisher {
            value["publisher"] = publisher.as_str().into();
        }
        if let Some(link) = self.link() {
            value["url"] = link.into();
        }
        if let Some(doi) = &self.doi {
            value["sameAs"] = format!("https://doi.org/{doi}").into();
        }
        value
    }
}

/// Every source the site cites, by key.
#[derive(Debug, Clone, Default)]
pub struct Bibliography {
    /// `content/sources.toml`, for messages.
    pub path: PathBuf,
    pub entries: BTreeMap<String, Reference>,
    /// The line of each entry's `[key]` header.
    lines: BTreeMap<String, usize>,
}

/// The file name, inside the content folder.
pub(crate) const FILE: &str = "sources.toml";

impl Bibliography {
    /// Parses `sources.toml`, with every problem found. Entries with a
    /// problem are kept, so pages citing them are not reported as well: the
    /// problems stop the content from publishing anyway.
    pub fn parse(path: &Path, source: &str) -> (Bibliography, Vec<ContentError>) {
        match Bibliography::parse_entries(path, source) {
            Ok(bibliography) => {
                let errors = bibliography.problems(source);
                (bibliography, errors)
            }
            Err(errors) => (Bibliography { path: path.to_path_buf(), ..Bibliography::default() }, errors),
        }
    }

    fn parse_entries(path: &Path, source: &str) -> Result<Bibliography, Vec<ContentError>> {
        let entries: BTreeMap<String, Reference> = toml::from_str(source).map_err(|err| {
            let (line, column) = err.span().map_or((1, 1), |span| line_col(source, span.start));
            let (message, hint) = front_matter::explain_toml_error(&err, source, REFERENCE_KEYS);
            let hint = if message.starts_with("missing required key") {
                format!("{hint}; every source needs authors, title and note (what it says, in plain words)")
            } else {
                hint
            };
            vec![ContentError::new(path, line, message).column(column).hint(hint)]
        })?;
        let lines = entries.keys().map(|key| (key.clone(), header_line(source, key))).collect();
        Ok(Bibliography { path: path.to_path_buf(), entries, lines })
    }

    /// Reads `sources.toml` from the content folder (`root` is where that
    /// really is, to refuse a link out of it); a site without one simply
    /// cites nothing.
    pub fn load(dir: &Path, root: &Path) -> (Bibliography, Vec<ContentError>) {
        let path = dir.join(FILE);
        if let Some(refused) = super::link_outside(root, &path) {
            return (Bibliography { path, ..Bibliography::default() }, vec![refused]);
        }
        if !path.exists() {
            return (Bibliography { path, ..Bibliography::default() }, Vec::new());
        }
        match super::read_text(&path) {
            Ok(source) => Bibliography::parse(&path, &source),
            Err(errors) => (Bibliography { path, ..Bibliography::default() }, errors),
        }
    }

    pub fn get(&self, key: &str) -> Option<&Reference> {
        self.entries.get(key)
    }

    /// The line of an entry's `[key]` header, for messages about it.
    pub(crate) fn line_of(&self, key: &str) -> usize {
        self.lines.get(key).copied().unwrap_or(1)
    }

    fn problems(&self, source: &str) -> Vec<ContentError> {
        let mut errors = Vec::new();
        for (key, reference) in &self.entries {
            let header = self.line_of(key);
            let at = |field: &str| field_line(source, header, field);
            if !is_valid_slug(key) {
                errors.push(
                    ContentError::new(&self.path, header, format!("the source key \"{key}\" is not allowed"))
                        .hint("use lowercase letters, numbers and hyphens, like [gattie-2017]: first author and year"),
                );
            }
            if let Some(doi) = &reference.doi
                && !is_doi(doi)
            {
                errors.push(
                    ContentError::new(&self.path, at("doi"), format!("\"{doi}\" is not a DOI"))
                        .hint("a DOI starts with 10. and a number of 4 to 9 digits, then a slash: doi = \"10.2519/jospt.2017.7096\" (without https://doi.org/)"),
                );
            }
            if let Some(url) = &reference.url
                && !is_https_url(url)
            {
                errors.push(
                    ContentError::new(&self.path, at("url"), format!("\"{url}\" is not an https web address"))
                        .hint("write the full address starting with https://, copied from the browser's address bar"),
                );
            }
            for (field, value) in
                [("authors", &reference.authors), ("title", &reference.title), ("note", &reference.note)]
            {
                if value.trim().is_empty() {
                    errors.push(
                        ContentError::new(&self.path, at(field), format!("the source's {field} is empty"))
                            .hint(format!("write it like {}", example(field))),
                    );
                }
            }
        }
        errors
    }
}

fn example(field: &str) -> &'static str {
    REFERENCE_KEYS.iter().find(|(k, _)| *k == field).map_or("", |(_, e)| e)
}

/// `10.` then a registrant code of 4 to 9 digits (with optional `.sub`
/// parts), a slash and a suffix without spaces: the DOI handbook's form.
pub(crate) fn is_doi(doi: &str) -> bool {
    let Some(rest) = doi.strip_prefix("10.") else { return false };
    let Some((registrant, suffix)) = rest.split_once('/') else { return false };
    let first = registrant.split('.').next().unwrap_or("");
    (4..=9).contains(&first.len())
        && registrant.split('.').all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()))
        && !suffix.is_empty()
        && !suffix.contains(char::is_whitespace)
}

/// An absolute https address with a host: readers' browsers warn about
/// plain http, and a relative address would point into this site.
pub(crate) fn is_https_url(url: &str) -> bool {
    url.strip_prefix("https://").is_some_and(|rest| {
        let host = rest.split(['/', '?', '#']).next().unwrap_or("");
        host.contains('.') && !url.contains(char::is_whitespace) && !url.contains(['"', '<', '>'])
    })
}

/// The line of `[key]` (or `["key"]`).
fn header_line(source: &str, key: &str) -> usize {
    source
        .lines()
        .position(|line| {
            let line = line.trim();
            line == format!("[{key}]") || line == format!("[\"{key}\"]")
        })
        .map_or(1, |i| i + 1)
}

/// The line where `field` is set inside the table that starts at `header`.
fn field_line(source: &str, header: usize, field: &str) -> usize {
    source
        .lines()
        .enumerate()
        .skip(header)
        .take_while(|(_, line)| !line.trim_start().starts_with('['))
        .find(|(_, line)| line.split('=').next().is_some_and(|k| k.trim() == field))
        .map_or(header, |(i, _)| i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GATTIE: &str = "[gattie-2017]\nauthors = \"Gattie E, Cleland JA, Snodgrass S\"\ntitle = \"The effectiveness of trigger point dry needling\"\njournal = \"J Orthop Sports Phys Ther\"\nyear = 2017\nvolume = \"47\"\nissue = \"3\"\npages = \"133-149\"\ndoi = \"10.2519/jospt.2017.7096\"\nnote = \"13 trials.\"\n";

    fn errors(source: &str) -> Vec<String> {
        let (_, errors) = Bibliography::parse(Path::new("content/sources.toml"), source);
        assert!(!errors.is_empty(), "should be refused");
        errors.iter().map(ToString::to_string).collect()
    }

    fn parsed(source: &str) -> Bibliography {
        let (bibliography, errors) = Bibliography::parse(Path::new("s.toml"), source);
        assert_eq!(errors, Vec::new());
        bibliography
    }

    #[test]
    fn a_journal_article_is_shown_in_medical_style_and_linked_through_its_doi() {
        let bibliography = parsed(GATTIE);
        let reference = bibliography.get("gattie-2017").unwrap();
        assert_eq!(reference.details(), "J Orthop Sports Phys Ther. 2017;47(3):133-149");
        assert_eq!(reference.link().as_deref(), Some("https://doi.org/10.2519/jospt.2017.7096"));
        assert_eq!(reference.json_ld()["@type"], "ScholarlyArticle");
        assert_eq!(bibliography.line_of("gattie-2017"), 1);
    }

    #[test]
    fn a_guideline_shows_its_publisher_and_year() {
        let source = "[nice-ng193]\nauthors = \"NICE\"\ntitle = \"Chronic pain\"\npublisher = \"NICE guideline NG193\"\nyear = 2021\nurl = \"https://www.nice.org.uk/guidance/ng193\"\nnote = \"n\"\n";
        let reference = parsed(source).entries.remove("nice-ng193").unwrap();
        assert_eq!(reference.details(), "NICE guideline NG193; 2021");
        assert_eq!(reference.link().as_deref(), Some("https://www.nice.org.uk/guidance/ng193"));
        assert_eq!(reference.json_ld()["@type"], "CreativeWork");
    }

    #[test]
    fn a_broken_doi_is_an_error_on_its_line() {
        let source = GATTIE.replace("10.2519/jospt.2017.7096", "doi.org/10.2519/jospt");
        let (bibliography, errors) = Bibliography::parse(Path::new("content/sources.toml"), &source);
        assert!(bibliography.get("gattie-2017").is_some(), "the entry is kept, so citing pages are not reported too");
        let errors: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(
            errors[0].starts_with("content/sources.toml:9:1: error: \"doi.org/10.2519/jospt\" is not a DOI"),
            "{}",
            errors[0]
        );
    }

    #[test]
    fn a_plain_http_address_is_an_error() {
        let source = GATTIE.replace("doi = \"10.2519/jospt.2017.7096\"", "url = \"http://example.org/paper\"");
        assert!(
            errors(&source)[0].starts_with(
                "content/sources.toml:9:1: error: \"http://example.org/paper\" is not an https web address"
            )
        );
    }

    #[test]
    fn a_missing_note_or_unknown_key_is_explained() {
        let missing = errors(&GATTIE.replace("note = \"13 trials.\"\n", ""));
        assert!(missing[0].contains("missing required key \"note\""), "{missing:?}");
        let unknown = errors(&GATTIE.replace("journal =", "jounral ="));
        assert!(unknown[0].starts_with("content/sources.toml:4:1: error: unknown key \"jounral\""), "{unknown:?}");
        assert!(unknown[0].contains("did you mean \"journal\"?"), "{unknown:?}");
    }

    #[test]
    fn dois_and_addresses_are_recognised() {
        for good in [
            "10.2519/jospt.2017.7096",
            "10.1093/ptj/pzab068",
            "10.1179/2042618613Y.0000000044",
            "10.26603/ijspt20200103",
            "10.1000.10/x",
        ] {
            assert!(is_doi(good), "{good}");
        }
        for bad in [
            "",
            "10.251/x",
            "10.2519",
            "10.2519/",
            "11.2519/x",
            "https://doi.org/10.2519/x",
            "10.2519/a b",
            "10.abcd/x",
        ] {
            assert!(!is_doi(bad), "{bad}");
        }
        assert!(is_https_url("https://www.nhs.uk/conditions/acupuncture/"));
        for bad in ["http://www.nhs.uk/", "https://", "https://localhost/x", "www.nhs.uk", "https://a.b/x y"] {
            assert!(!is_https_url(bad), "{bad}");
        }
    }
}
