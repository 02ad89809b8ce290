//! A page file as the workspace edits it: front matter fields read and
//! changed in place, the markdown body as it is.
//!
//! Staff arrange their front matter by hand (comments, blank lines, the
//! order of keys), and a browser form must not reformat what it did not
//! change: a one-field edit shows as a one-line change in the history. So
//! the TOML is held by `toml_edit`, which keeps every byte it was not asked
//! to change, and everything outside the TOML (the `+++` lines, a
//! byte-order mark, the body) is kept as the file had it.

use toml_edit::{Array, DocumentMut, Item, Value};

use crate::content::Date;
use crate::content::front_matter::{self, PAGE_KEYS, SplitError};

/// Why a page's text cannot be opened as a document. The texts are for the
/// member of staff who typed the file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DocumentError {
    #[error("the page has no settings at the top: it must start with a line of three plus signs (+++)")]
    NoFrontMatter,
    #[error("the page's settings are not closed: add a line with just +++ after the last setting")]
    Unclosed,
    #[error("line {line} of the page's settings is not valid TOML ({message}); text goes in \"double quotes\"")]
    Toml { line: usize, message: String },
}

/// What the editor's form shows of a page: the settings staff change most,
/// and the markdown body. Every other setting stays as the file has it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fields {
    pub title: String,
    pub description: String,
    pub weight: i64,
    /// Empty when the page takes its address from its file name.
    pub slug: String,
    pub aliases: Vec<String>,
    pub sources: Vec<String>,
    pub draft: bool,
    pub body: String,
}

fn toml_date(date: Date) -> Value {
    date.iso().parse::<toml_edit::Datetime>().map(Value::from).expect("an ISO date is a TOML date")
}

/// One page file, opened for editing.
#[derive(Debug, Clone)]
pub struct Document {
    /// Everything before the TOML: a byte-order mark and the opening `+++`
    /// line with its line ending.
    head: String,
    /// The TOML with `\n` line endings; see `crlf`.
    front: DocumentMut,
    /// The closing `+++` line with its line ending.
    fence: String,
    body: String,
    /// Whether the front matter's lines end in `\r\n`. `toml_edit` ends the
    /// lines it writes with `\n`, so such front matter is edited with `\n`
    /// and written back with `\r\n`, and a CRLF file stays CRLF.
    crlf: bool,
}

impl Document {
    /// Opens a page's text. Only the TOML's syntax is checked: a page with
    /// content errors (a missing title, an unknown key) can still be opened
    /// to fix them.
    pub fn parse(text: &str) -> Result<Document, DocumentError> {
        let split = front_matter::split(text).map_err(|e| match e {
            SplitError::Missing => DocumentError::NoFrontMatter,
            SplitError::Unclosed => DocumentError::Unclosed,
        })?;
        let toml = &text[split.toml_start..split.toml_end];
        let head = &text[..split.toml_start];
        let crlf = head.ends_with("\r\n");
        // Only a front matter written with `\r\n` throughout is converted:
        // a mixed one is edited as it is, so no line changes but the ones
        // asked for.
        let crlf = crlf && toml.matches('\n').count() == toml.matches("\r\n").count();
        let toml = if crlf { toml.replace("\r\n", "\n") } else { toml.to_string() };
        let front = toml.parse::<DocumentMut>().map_err(|e| DocumentError::Toml {
            line: head.matches('\n').count() + 1 + e.span().map_or(0, |span| toml[..span.start].matches('\n').count()),
            message: e.message().to_string(),
        })?;
        Ok(Document {
            head: head.to_string(),
            front,
            fence: text[split.toml_end..split.body_start].to_string(),
            body: text[split.body_start..].to_string(),
            crlf,
        })
    }

    /// The page's text: unchanged parts byte for byte as they were read.
    pub fn to_text(&self) -> String {
        let toml = self.front.to_string();
        let toml = if self.crlf { toml.replace('\n', "\r\n") } else { toml };
        [self.head.as_str(), &toml, &self.fence, &self.body].concat()
    }

    pub fn title(&self) -> Option<&str> {
        self.front.get("title")?.as_str()
    }

    pub fn description(&self) -> Option<&str> {
        self.front.get("description")?.as_str()
    }

    /// 0 when not set, as the site reads it.
    pub fn weight(&self) -> i64 {
        self.front.get("weight").and_then(Item::as_integer).unwrap_or(0)
    }

    pub fn slug(&self) -> Option<&str> {
        self.front.get("slug")?.as_str()
    }

    pub fn aliases(&self) -> Vec<String> {
        self.strings("aliases")
    }

    /// Keys into `content/sources.toml`.
    pub fn sources(&self) -> Vec<String> {
        self.strings("sources")
    }

    pub fn draft(&self) -> bool {
        self.front.get("draft").and_then(Item::as_bool).unwrap_or(false)
    }

    /// The markdown after the closing `+++` line.
    pub fn body(&self) -> &str {
        &self.body
    }

    pub fn set_title(&mut self, title: &str) {
        self.set("title", Value::from(title), None);
    }

    pub fn set_description(&mut self, description: &str) {
        self.set("description", Value::from(description), None);
    }

    /// 0, the default, removes the key.
    pub fn set_weight(&mut self, weight: i64) {
        self.set("weight", Value::from(weight), Some(Value::from(0)));
    }

    /// `None` removes the key: the address is the file name again.
    pub fn set_slug(&mut self, slug: Option<&str>) {
        match slug {
            Some(slug) => self.set("slug", Value::from(slug), None),
            None => remove_keeping_comments(self.front.as_table_mut(), "slug"),
        }
    }

    /// An empty list removes the key.
    pub fn set_aliases(&mut self, aliases: &[String]) {
        self.set("aliases", string_array(aliases), Some(string_array(&[])));
    }

    /// An empty list removes the key.
    pub fn set_sources(&mut self, sources: &[String]) {
        self.set("sources", string_array(sources), Some(string_array(&[])));
    }

    /// `false`, the default, removes the key, as the staff guide says to.
    pub fn set_draft(&mut self, draft: bool) {
        self.set("draft", Value::from(draft), Some(Value::from(false)));
    }

    /// When the words readers see (title, description, sources, text)
    /// differ from `before`'s and the writer left `updated` as it was, sets
    /// it to `today`: the page then says when it last changed for readers,
    /// next to its last clinical review. Whether it did.
    pub fn mark_updated(&mut self, before: &Document, today: Date) -> bool {
        let written = |doc: &Document| doc.front.get("updated").and_then(Item::as_datetime).map(|d| d.to_string());
        if self.reviewed_hash() == before.reviewed_hash() || written(self) != written(before) {
            return false;
        }
        self.set("updated", toml_date(today), None);
        true
    }

    /// Writes a clinical sign-off: who (with credentials), when, when the
    /// next review is due, and the reviewed hash of the text signed.
    pub fn set_review(&mut self, by: &str, on: Date, next: Date, reviewed_hash: &str) {
        let date = toml_date;
        self.set("reviewed_by", Value::from(by), None);
        self.set("last_reviewed", date(on), None);
        self.set("next_review", date(next), None);
        self.set("reviewed_revision", Value::from(reviewed_hash), None);
    }

    /// The parts of a page a sign-off covers, as plain text to compare:
    /// title, description, sources and body. A reviewer comparing two
    /// versions sees the words that changed, not the settings (order,
    /// dates, the review itself) around them. Text that is not a page file
    /// is compared as it is.
    pub fn reviewed_text(text: &str) -> String {
        match Document::parse(text) {
            Ok(doc) => format!(
                "{}\n{}\nSources: {}\n\n{}",
                doc.title().unwrap_or_default(),
                doc.description().unwrap_or_default(),
                doc.sources().join(", "),
                doc.body.trim_start()
            ),
            Err(_) => text.to_string(),
        }
    }

    /// The hash a sign-off of this text covers (`content::reviewed_hash`).
    pub fn reviewed_hash(&self) -> String {
        crate::content::reviewed_hash(
            self.title().unwrap_or_default(),
            self.description().unwrap_or_default(),
            &self.sources(),
            &self.body,
        )
    }

    /// Replaces the markdown after the closing `+++` line.
    pub fn set_body(&mut self, body: &str) {
        body.clone_into(&mut self.body);
    }

    /// The fields the editor's form shows.
    pub fn fields(&self) -> Fields {
        Fields {
            title: self.title().unwrap_or_default().to_string(),
            description: self.description().unwrap_or_default().to_string(),
            weight: self.weight(),
            slug: self.slug().unwrap_or_default().to_string(),
            aliases: self.aliases(),
            sources: self.sources(),
            draft: self.draft(),
            body: self.body.clone(),
        }
    }

    /// Sets the fields a form sent, touching only the ones that differ
    /// from the file's, so saving an untouched form writes the file's own
    /// bytes. Browsers send a text box's lines ending in `\r\n` whatever
    /// the file had, so the body's line endings are made the file's again.
    pub fn apply(&mut self, fields: &Fields) {
        let old = self.fields();
        if fields.title != old.title {
            self.set_title(&fields.title);
        }
        if fields.description != old.description {
            self.set_description(&fields.description);
        }
        if fields.weight != old.weight {
            self.set_weight(fields.weight);
        }
        if fields.slug != old.slug {
            self.set_slug(Some(fields.slug.trim()).filter(|slug| !slug.is_empty()));
        }
        if fields.aliases != old.aliases {
            self.set_aliases(&fields.aliases);
        }
        if fields.sources != old.sources {
            self.set_sources(&fields.sources);
        }
        if fields.draft != old.draft {
            self.set_draft(fields.draft);
        }
        let lf = fields.body.replace("\r\n", "\n");
        let crlf_body = self.body.contains("\r\n") && !self.body.replace("\r\n", "").contains('\n');
        let body = if crlf_body { lf.replace('\n', "\r\n") } else { lf };
        if body != self.body {
            self.set_body(&body);
        }
    }

    fn strings(&self, key: &str) -> Vec<String> {
        let Some(array) = self.front.get(key).and_then(Item::as_array) else { return Vec::new() };
        array.iter().filter_map(|v| v.as_str().map(str::to_string)).collect()
    }

    /// Sets `key` to `value`. A value equal to the one there, however it
    /// is written, changes nothing. Setting the value the site assumes when
    /// the key is not there (`default`) removes the key, to keep the front
    /// matter to what a page changes; unless the file spells that value
    /// out already, which is left as it is.
    fn set(&mut self, key: &str, value: Value, default: Option<Value>) {
        let table = self.front.as_table_mut();
        let is_default = default.as_ref().is_some_and(|d| same_value(d, &value));
        match (table.get_mut(key), is_default) {
            (None, true) => {}
            (Some(item), _) if item.as_value().is_some_and(|old| same_value(old, &value)) => {}
            (Some(_), true) => remove_keeping_comments(table, key),
            (Some(item), false) => {
                let mut value = value;
                let Some(old) = item.as_value_mut() else {
                    *item = Item::Value(value);
                    return;
                };
                // Keep the spacing around the value and a comment after it.
                *value.decor_mut() = old.decor().clone();
                *old = value;
            }
            (None, false) => insert_in_order(table, key, value),
        }
    }
}

/// Whether two values are the same setting, however each is written
/// (`'a'` and `"a"` are the same text).
fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::String(a), Value::String(b)) => a.value() == b.value(),
        (Value::Integer(a), Value::Integer(b)) => a.value() == b.value(),
        (Value::Boolean(a), Value::Boolean(b)) => a.value() == b.value(),
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b.iter()).all(|(a, b)| same_value(a, b))
        }
        _ => false,
    }
}

fn string_array(items: &[String]) -> Value {
    Value::Array(items.iter().map(String::as_str).collect::<Array>())
}

/// Removes `key`; comment lines above it stay, above the key that follows
/// (or at the end), since they may be about more than the removed line.
fn remove_keeping_comments(table: &mut toml_edit::Table, key: &str) {
    let index = table.iter().position(|(k, _)| k == key);
    let Some((removed, _)) = table.remove_entry(key) else { return };
    let above = removed.leaf_decor().prefix().and_then(|p| p.as_str()).unwrap_or("").to_string();
    if !above.contains('#') {
        return;
    }
    let next = index.and_then(|i| table.iter().nth(i)).map(|(k, _)| k.to_string());
    if let Some(mut next_key) = next.as_deref().and_then(|k| table.key_mut(k)) {
        let own = next_key.leaf_decor().prefix().and_then(|p| p.as_str()).unwrap_or("").to_string();
        next_key.leaf_decor_mut().set_prefix(format!("{above}{own}"));
    }
}

/// Adds `key` where the staff guide's order puts it: after the last key
/// that comes before it in [`PAGE_KEYS`], so `weight` goes under
/// `description`, not at the bottom after `aliases`.
fn insert_in_order(table: &mut toml_edit::Table, key: &str, value: Value) {
    let rank = |k: &str| PAGE_KEYS.iter().position(|(name, _)| *name == k);
    let Some(new_rank) = rank(key) else {
        table.insert(key, Item::Value(value));
        return;
    };
    // The first key that belongs after the new one, and every key after it,
    // come out and go back in behind it, each with its own formatting.
    let keys: Vec<String> = table.iter().map(|(k, _)| k.to_string()).collect();
    let after = keys.iter().position(|k| rank(k).is_some_and(|r| r > new_rank)).unwrap_or(keys.len());
    let moved: Vec<_> = keys[after..].iter().filter_map(|k| table.remove_entry(k)).collect();
    table.insert(key, Item::Value(value));
    for (k, item) in moved {
        table.insert_formatted(&k, item);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reviewed_text_leaves_out_settings_a_review_does_not_cover() {
        let before = "+++\ntitle = \"T\"\ndescription = \"D\"\nweight = 2\nupdated = 2026-01-15\nsources = [\"a\"]\n+++\n\nWords.\n";
        let after = before.replace("weight = 2", "weight = 3").replace("2026-01-15", "2026-12-02");
        assert_eq!(Document::reviewed_text(before), "T\nD\nSources: a\n\nWords.\n");
        assert_eq!(Document::reviewed_text(before), Document::reviewed_text(&after));
        assert_ne!(Document::reviewed_text(before), Document::reviewed_text(&before.replace("Words", "Other words")));
        assert_eq!(Document::reviewed_text("no front matter"), "no front matter");
    }

    #[test]
    fn changed_words_make_the_page_updated_today_unless_the_writer_set_the_date() {
        let today = Date::new(2026, 12, 2).unwrap();
        let before =
            Document::parse("+++\ntitle = \"T\"\nupdated = 2026-01-15 # as typed\n+++\n\nOld words.\n").unwrap();
        let mut same = before.clone();
        same.set_weight(3);
        assert!(!same.mark_updated(&before, today), "an order change is not an update for readers");
        let mut edited = before.clone();
        edited.set_body("\nNew words.\n");
        assert!(edited.mark_updated(&before, today));
        assert_eq!(edited.to_text(), "+++\ntitle = \"T\"\nupdated = 2026-12-02 # as typed\n+++\n\nNew words.\n");
        let mut dated = Document::parse("+++\ntitle = \"T\"\nupdated = 2026-11-30\n+++\n\nNew words.\n").unwrap();
        assert!(!dated.mark_updated(&before, today), "the writer's own date is kept");
        let mut first = Document::parse("+++\ntitle = \"T\"\n+++\n\nWords.\n").unwrap();
        let empty = Document::parse("+++\ntitle = \"T\"\n+++\n").unwrap();
        assert!(first.mark_updated(&empty, today));
        assert!(first.to_text().contains("updated = 2026-12-02\n"), "{}", first.to_text());
    }

    const PAGE: &str = "+++\n# Shown in the tab\ntitle = \"Is Dry Needling Safe?\"  # keep short\ndescription = 'How safe it is.'\n\nsources = [\"apta-2013\"]\n+++\n\nThe text.\n";

    fn changed_lines(before: &str, after: &str) -> Vec<(usize, String, String)> {
        let (a, b): (Vec<_>, Vec<_>) = (before.split('\n').collect(), after.split('\n').collect());
        assert_eq!(a.len(), b.len(), "lines were added or removed:\n{after}");
        a.iter()
            .zip(&b)
            .enumerate()
            .filter(|(_, (x, y))| x != y)
            .map(|(i, (x, y))| (i + 1, x.to_string(), y.to_string()))
            .collect()
    }

    #[test]
    fn fields_are_read_with_the_sites_defaults() {
        let doc = Document::parse(PAGE).unwrap();
        assert_eq!(doc.title(), Some("Is Dry Needling Safe?"));
        assert_eq!(doc.description(), Some("How safe it is."));
        assert_eq!((doc.weight(), doc.slug(), doc.draft()), (0, None, false));
        assert_eq!(doc.sources(), ["apta-2013"]);
        assert!(doc.aliases().is_empty());
        assert_eq!(doc.body(), "\nThe text.\n");
    }

    #[test]
    fn changing_one_field_changes_only_its_line_and_keeps_its_comment() {
        let mut doc = Document::parse(PAGE).unwrap();
        doc.set_title("Is Dry Needling Safe for Me?");
        let text = doc.to_text();
        assert_eq!(
            changed_lines(PAGE, &text),
            [(
                3,
                "title = \"Is Dry Needling Safe?\"  # keep short".into(),
                "title = \"Is Dry Needling Safe for Me?\"  # keep short".into()
            )]
        );
        assert_eq!(Document::parse(&text).unwrap().title(), Some("Is Dry Needling Safe for Me?"));
    }

    #[test]
    fn setting_the_value_already_there_changes_nothing() {
        let mut doc = Document::parse(PAGE).unwrap();
        // Written with single quotes in the file: the same text all the same.
        doc.set_description("How safe it is.");
        doc.set_sources(&["apta-2013".to_string()]);
        doc.set_weight(0);
        doc.set_draft(false);
        doc.set_slug(None);
        doc.set_aliases(&[]);
        assert_eq!(doc.to_text(), PAGE);
    }

    #[test]
    fn a_new_key_goes_where_the_staff_guide_puts_it() {
        let mut doc = Document::parse(PAGE).unwrap();
        doc.set_weight(3);
        doc.set_draft(true);
        let text = doc.to_text();
        assert_eq!(
            text,
            "+++\n# Shown in the tab\ntitle = \"Is Dry Needling Safe?\"  # keep short\ndescription = 'How safe it is.'\nweight = 3\n\nsources = [\"apta-2013\"]\ndraft = true\n+++\n\nThe text.\n"
        );
        let back = Document::parse(&text).unwrap();
        assert_eq!((back.weight(), back.draft()), (3, true));
    }

    #[test]
    fn removing_a_key_keeps_the_comment_above_it() {
        let text = "+++\ntitle = \"T\"\n# reviewed 2026\nslug = \"x\"\ndescription = \"D\"\n+++\nBody\n";
        let mut doc = Document::parse(text).unwrap();
        doc.set_slug(None);
        assert_eq!(doc.to_text(), "+++\ntitle = \"T\"\n# reviewed 2026\ndescription = \"D\"\n+++\nBody\n");
    }

    #[test]
    fn crlf_files_stay_crlf() {
        let text = "\u{feff}+++\r\ntitle = \"T\"\r\ndescription = \"D\"\r\n+++\r\nBody\r\n";
        let mut doc = Document::parse(text).unwrap();
        assert_eq!(doc.to_text(), text);
        doc.set_weight(2);
        doc.set_title("New");
        assert_eq!(
            doc.to_text(),
            "\u{feff}+++\r\ntitle = \"New\"\r\ndescription = \"D\"\r\nweight = 2\r\n+++\r\nBody\r\n"
        );
    }

    #[test]
    fn the_body_is_replaced_whole() {
        let mut doc = Document::parse(PAGE).unwrap();
        doc.set_body("\nNew text.\n");
        assert!(doc.to_text().ends_with("+++\n\nNew text.\n"));
        assert!(doc.to_text().starts_with("+++\n# Shown in the tab\n"));
    }

    #[test]
    fn broken_front_matter_is_explained() {
        assert_eq!(Document::parse("# Title\n").unwrap_err(), DocumentError::NoFrontMatter);
        assert_eq!(Document::parse("+++\ntitle = \"T\"\n").unwrap_err(), DocumentError::Unclosed);
        let error = Document::parse("+++\ntitle = \"T\"\ndescription = \"D\n+++\nBody\n").unwrap_err();
        assert!(matches!(error, DocumentError::Toml { line: 3, .. }), "{error:?}");
    }

    #[test]
    fn a_form_applies_only_what_changed_and_keeps_the_files_line_endings() {
        let crlf = "+++\r\ntitle = \"T\"\r\ndescription = \"D\"\r\n+++\r\nOne\r\nTwo\r\n";
        let mut doc = Document::parse(crlf).unwrap();
        let mut fields = doc.fields();
        assert_eq!((fields.title.as_str(), fields.weight, fields.draft), ("T", 0, false));
        fields.body = "One\nTwo\nThree\n".into();
        fields.weight = 3;
        doc.apply(&fields);
        assert_eq!(
            doc.to_text(),
            "+++\r\ntitle = \"T\"\r\ndescription = \"D\"\r\nweight = 3\r\n+++\r\nOne\r\nTwo\r\nThree\r\n"
        );
        let mut doc = Document::parse(PAGE).unwrap();
        let mut fields = doc.fields();
        fields.slug = "  ".into();
        doc.apply(&fields);
        assert_eq!(doc.to_text(), PAGE, "an empty slug on a page without one changes nothing");
    }

    /// Every page the repository has, opened and written back untouched,
    /// byte for byte.
    #[test]
    fn every_content_file_round_trips_byte_for_byte() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut seen = 0;
        for folder in ["content", "tests/fixtures/valid"] {
            let mut stack = vec![root.join(folder)];
            while let Some(dir) = stack.pop() {
                for entry in std::fs::read_dir(&dir).unwrap() {
                    let path = entry.unwrap().path();
                    if path.is_dir() {
                        stack.push(path);
                    } else if path.extension().is_some_and(|e| e == "md") {
                        let text = std::fs::read_to_string(&path).unwrap();
                        let doc = Document::parse(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                        assert!(doc.to_text() == text, "{} changed on a round trip", path.display());
                        let mut same = doc.clone();
                        same.set_title(doc.title().unwrap_or_default());
                        same.set_sources(&doc.sources());
                        same.set_aliases(&doc.aliases());
                        same.set_weight(doc.weight());
                        assert!(same.to_text() == text, "{} changed when set to its own values", path.display());
                        // As the editor's form sends it back untouched: a
                        // browser's text box ends lines in \r\n.
                        let mut sent = doc.fields();
                        sent.body = sent.body.replace('\n', "\r\n");
                        let mut saved = doc.clone();
                        saved.apply(&sent);
                        assert!(
                            saved.to_text() == text,
                            "{} changed when its form was saved untouched",
                            path.display()
                        );
                        let mut retitled = doc.clone();
                        retitled.set_title("A New Title");
                        let changed = changed_lines(&text, &retitled.to_text());
                        assert_eq!(changed.len(), 1, "{}: {changed:?}", path.display());
                        assert!(changed[0].2.starts_with("title = \"A New Title\""), "{}: {changed:?}", path.display());
                        seen += 1;
                    }
                }
            }
        }
        assert!(seen >= 10, "only {seen} pages found");
    }
}
