//! Changes to an article's structure, without HTTP: a new page from a
//! template, a page's address changed, the pages put in order, and a page
//! moved to the trash and brought back.
//!
//! Each change goes through the workspace as a save does: every file is
//! written atomically under its page's lock and gets a revision, and the
//! change gets one line in the activity record. Addresses people may have
//! shared are never lost: a renamed page lists its old address in its own
//! `aliases`, and a page in the trash leaves its addresses in the `aliases`
//! of the article's front page, so they lead there. Both live in the files,
//! so they travel with a copy of the content folder and `check` sees them.
//!
//! Changes that touch two files write them in the order that never leaves
//! an old address and a page at the same address (which `check` refuses,
//! stopping the site from updating): moving to the trash removes the page
//! before its address goes to the front page; bringing it back takes the
//! address from the front page before the page is written.

use std::collections::HashSet;
use std::path::Path;

use super::document::{Document, DocumentError};
use super::revisions::{
    Edit, NewRevision, PagePath, RevisionKind, RevisionSummary, SaveError, Saved, Workspace, check_size, content_hash,
    read,
};
use crate::auth::activity::{Actor, Kind, record};
use crate::urls;
use crate::util::fs::{sync_folder, write_atomic};
use crate::util::slug::is_valid_slug;

/// The longest address part a new page's title makes; longer addresses
/// are hard to read out or type from a printed handout.
pub const MAX_SLUG_CHARS: usize = 60;

/// Why a structure change was refused or failed. The texts are for the
/// member of staff who asked, and say what to do.
#[derive(Debug, thiserror::Error)]
pub enum StructureError {
    #[error(
        "the title has no letters or numbers (a to z, 0 to 9) to make the page's web address from: type a title in plain words"
    )]
    NoTitle,
    #[error(
        "\"{slug}\" cannot be a web address: use only lowercase letters (a to z), numbers and single hyphens between words, like side-effects, at most {MAX_SLUG_CHARS} characters"
    )]
    InvalidSlug { slug: String },
    #[error("the web address {url} uses \"{word}\", which the site keeps for its own pages: choose another")]
    Reserved { url: String, word: &'static str },
    #[error("{url} is already the address of {owner}: choose another, or change that page's address first")]
    Taken { url: String, owner: String },
    #[error(
        "{url} is an old address that sends readers to {owner} (a renamed page, or one in the trash, had it): choose another, or bring that page back from the trash"
    )]
    OldAddress { url: String, owner: String },
    #[error("there is already a file {path}: choose another title, or change the page that is there")]
    FileExists { path: String },
    #[error("{path} is the article's front page: {why}")]
    FrontPage { path: String, why: &'static str },
    #[error("there is no article \"{article}\" in the content folder (a folder with an index.md in it)")]
    NoSuchArticle { article: String },
    #[error("{path} is not in the trash: {why}")]
    NotInTrash { path: String, why: &'static str },
    #[error("the new order must list every page of the article once ({why}); reload the page and try again")]
    BadOrder { why: String },
    #[error(
        "the page was changed by someone else (or outside the workspace) since you opened this form, so nothing was changed: look at it again, then try again"
    )]
    Changed,
    #[error("the settings at the top of {path} cannot be read, so it cannot be changed here: {source}")]
    Unreadable { path: String, source: DocumentError },
    #[error(transparent)]
    Save(#[from] SaveError),
}

impl From<rusqlite::Error> for StructureError {
    fn from(error: rusqlite::Error) -> Self {
        StructureError::Save(SaveError::Database(error))
    }
}

/// A page file of an article and where readers find it, as the files say
/// now (drafts included: their addresses are taken too).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageAddress {
    /// `dry-needling/safety.md`.
    pub file: String,
    /// `/dry-needling/safety/`. A page whose settings cannot be read is
    /// taken to be at its file name, where the site would put it.
    pub url: String,
    /// Old addresses that lead to it.
    pub aliases: Vec<String>,
    /// The file name when the settings cannot be read.
    pub title: String,
    pub weight: i64,
    pub draft: bool,
    /// The article's front page, `index.md`.
    pub is_index: bool,
}

impl PageAddress {
    /// The article folder: `dry-needling`.
    pub fn article(&self) -> &str {
        self.file.split_once('/').map_or("", |(article, _)| article)
    }

    /// The file name without `.md`: `safety`, as staff addresses name it.
    pub fn name(&self) -> &str {
        file_stem(&self.file)
    }

    /// The last part of the address: `slug`, or the file name.
    fn slug(&self) -> &str {
        self.url.trim_end_matches('/').rsplit('/').next().unwrap_or("")
    }
}

/// A page just added.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPage {
    /// `dry-needling/after-your-session.md`.
    pub path: String,
    pub url: String,
    pub revision: i64,
}

/// A page whose address changed. `saved.revision` is `None` when the
/// address asked for was already the page's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Renamed {
    pub old_url: String,
    pub new_url: String,
    pub saved: Saved,
}

/// A page moved to the trash: its address now leads to `front_page`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trashed {
    pub url: String,
    pub front_page: String,
    pub revision: i64,
}

/// The slug a title makes: "After Your Session" -> `after-your-session`.
/// Letters outside a to z are dropped (an address people can type), and a
/// long title is cut at a word.
pub fn slug_from_title(title: &str) -> Result<String, StructureError> {
    let mut slug = String::new();
    for c in title.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if (c.is_whitespace() || matches!(c, '-' | '_' | '/' | ':' | '.' | ',' | '&'))
            && !slug.is_empty()
            && !slug.ends_with('-')
        {
            slug.push('-');
        }
    }
    if slug.len() > MAX_SLUG_CHARS {
        let cut = slug[..=MAX_SLUG_CHARS].rfind('-').unwrap_or(MAX_SLUG_CHARS);
        slug.truncate(cut);
    }
    let slug = slug.trim_matches('-').to_string();
    if slug.is_empty() { Err(StructureError::NoTitle) } else { Ok(slug) }
}

/// The rule for a slug typed by a person: the site's (lowercase letters,
/// numbers, single hyphens) and not too long.
fn checked_slug(slug: &str) -> Result<&str, StructureError> {
    let slug = slug.trim();
    if is_valid_slug(slug) && slug.len() <= MAX_SLUG_CHARS {
        Ok(slug)
    } else {
        Err(StructureError::InvalidSlug { slug: slug.to_string() })
    }
}

/// Adds `old_url` to the page's `aliases` after its address changed to
/// `new_url`, so links shared before keep working. Existing aliases stay
/// and none is added twice; an alias equal to the new address is dropped,
/// or the page would send readers to itself. For the page editor too, when
/// a save changes the slug.
pub fn keep_old_address(doc: &mut Document, old_url: &str, new_url: &str) {
    let (old, new) = (urls::loose(old_url), urls::loose(new_url));
    let mut aliases: Vec<String> = doc.aliases().into_iter().filter(|alias| urls::loose(alias) != new).collect();
    if old != new && !aliases.iter().any(|alias| urls::loose(alias) == old) {
        aliases.push(old_url.to_string());
    }
    doc.set_aliases(&aliases);
}

/// Whether `path` (`dry-needling/safety.md`) may move to the address part
/// `slug`; the new address if so. Refused, with the reason: a slug that
/// breaks the rule, a reserved address, an address another page has or
/// leads from (its old addresses). The page's own old addresses are fine:
/// [`keep_old_address`] drops the one it takes back. For the page editor
/// too, when a save changes the slug.
pub fn check_address(workspace: &Workspace, path: &str, slug: &str) -> Result<String, StructureError> {
    let slug = checked_slug(slug)?;
    let path = workspace.page(path)?.relative;
    if file_stem(&path) == "index" {
        return Err(StructureError::FrontPage { path, why: FRONT_PAGE_ADDRESS });
    }
    let all = workspace.addresses();
    let article = path.split_once('/').map_or("", |(article, _)| article);
    let url = urls::section(&article_url(&all, article), slug);
    check_url(&all, Some(&path), &url)?;
    Ok(url)
}

/// Where readers find `path` now.
pub fn page_address(workspace: &Workspace, path: &str) -> Result<String, StructureError> {
    let path = workspace.page(path)?.relative;
    workspace
        .addresses()
        .into_iter()
        .find(|page| page.file == path)
        .map(|page| page.url)
        .ok_or(StructureError::Save(SaveError::NotFound { path }))
}

const FRONT_PAGE_ADDRESS: &str =
    "its address is the article's, which comes from the folder's name and cannot be changed here";

/// Refuses `url` for the page `own` (or for a new page) if it is reserved,
/// or another page is there or has it as an old address.
fn check_url(all: &[PageAddress], own: Option<&str>, url: &str) -> Result<(), StructureError> {
    if let Some(word) = urls::reserved_word_in(url) {
        return Err(StructureError::Reserved { url: url.to_string(), word });
    }
    let loose = urls::loose(url);
    for page in all.iter().filter(|page| Some(page.file.as_str()) != own) {
        if urls::loose(&page.url) == loose {
            return Err(StructureError::Taken { url: url.to_string(), owner: page.file.clone() });
        }
        if page.aliases.iter().any(|alias| urls::loose(alias) == loose) {
            return Err(StructureError::OldAddress { url: url.to_string(), owner: page.file.clone() });
        }
    }
    Ok(())
}

/// The article's address: its front page's `slug`, or the folder name.
fn article_url(all: &[PageAddress], article: &str) -> String {
    all.iter()
        .find(|page| page.is_index && page.article() == article)
        .map_or_else(|| urls::article(article), |index| index.url.clone())
}

fn file_stem(path: &str) -> &str {
    let name = path.rsplit('/').next().unwrap_or(path);
    name.strip_suffix(".md").unwrap_or(name)
}

fn parse(path: &str, text: &str) -> Result<Document, StructureError> {
    Document::parse(text).map_err(|source| StructureError::Unreadable { path: path.to_string(), source })
}

/// What a new page starts as: the settings every page needs, a draft (so
/// nothing half-written is published), and a body saying what to write.
/// The description is left empty for the author: `check` warns about it
/// until it is written.
fn template(title: &str, weight: i64) -> String {
    const START: &str = "+++\ntitle = \"\"\n+++\n\nWrite the page here, in place of these lines. Use short sentences and everyday words, as if you were talking to a patient.\n\n## A heading for the first part\n\nStart each part of the page with a heading like the one above: two hash signs (##), a space and a few words.\n\nWhen the page is ready, write its description (one plain sentence about the page, for search results and link previews) and take it out of draft to publish it.\n";
    let mut doc = Document::parse(START).expect("the template's settings are valid TOML");
    doc.set_title(title);
    doc.set_description("");
    doc.set_weight(weight);
    doc.set_draft(true);
    doc.to_text()
}

/// Who changes a file as part of a structure change, and the revision's
/// message.
struct Change<'a> {
    by: &'a Actor,
    message: &'a str,
    now: i64,
}

impl Workspace {
    /// Changes a page's front matter as it is on disk, under the page's
    /// lock from reading to recording, so a change to the same file made
    /// at the same moment (two pages moved to the trash, each adding its
    /// address to the front page) waits rather than being lost or refused.
    /// The revision (a save) has no line of its own in the activity record:
    /// the change it is part of has one. Its id, if the text changed.
    fn change(
        &self,
        page: &PagePath,
        change: &Change<'_>,
        edit: impl Fn(&mut Document),
    ) -> Result<Option<i64>, StructureError> {
        let lock = self.lock(page);
        let _held = lock.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let (text, hash) = read(page)?;
        // Looked up before the save below, which is newer than it.
        let waiting = self.pending(&page.relative)?;
        let mut doc = parse(&page.relative, &text)?;
        edit(&mut doc);
        let new = doc.to_text();
        if new == text {
            return Ok(None);
        }
        check_size(&new, change.message)?;
        write_atomic(&page.full, new.as_bytes())
            .map_err(|source| SaveError::Io { path: page.relative.clone(), source })?;
        let new_hash = content_hash(&new);
        let revision = NewRevision {
            page,
            kind: RevisionKind::Save,
            text: &new,
            hash: &new_hash,
            base_hash: Some(&hash),
            by: change.by,
            message: change.message,
            activity: None,
            now: change.now,
        };
        let id = self.insert(&revision)?;
        if let Some(waiting) = waiting {
            self.carry_forward(page, &waiting, &new_hash, change, &edit)?;
        }
        Ok(Some(id))
    }

    /// A change waiting for review was made from the file as it was before
    /// a rename, reorder or trash changed its front matter. The same change
    /// is made to the waiting text and kept as a new waiting revision based
    /// on the file as it is now: the reviewer still signs off the writer's
    /// words, and publishing them keeps the new address, order or aliases
    /// instead of quietly undoing them.
    fn carry_forward(
        &self,
        page: &PagePath,
        waiting: &RevisionSummary,
        new_hash: &str,
        change: &Change<'_>,
        edit: &dyn Fn(&mut Document),
    ) -> Result<(), StructureError> {
        let Some(revision) = self.revision(waiting.id)? else { return Ok(()) };
        let mut doc = parse(&page.relative, &revision.text)?;
        edit(&mut doc);
        let text = doc.to_text();
        let message = format!("version {} waiting for review, carried over: {}", waiting.id, change.message);
        self.insert(&NewRevision {
            page,
            kind: RevisionKind::Pending,
            text: &text,
            hash: &content_hash(&text),
            base_hash: Some(new_hash),
            by: change.by,
            message: &message,
            activity: None,
            now: change.now,
        })?;
        Ok(())
    }

    /// Every page of every article, as the files say now. Pages outside an
    /// article folder and README files are not pages of the site.
    pub fn addresses(&self) -> Vec<PageAddress> {
        let files: Vec<(String, Option<Document>)> = self
            .pages()
            .into_iter()
            .filter(|file| file.matches('/').count() == 1 && !file.to_ascii_lowercase().ends_with("/readme.md"))
            .map(|file| {
                let doc = self.current(&file).ok().and_then(|(text, _)| Document::parse(&text).ok());
                (file, doc)
            })
            .collect();
        let article_urls: Vec<(&str, String)> = files
            .iter()
            .filter(|(file, _)| file_stem(file) == "index")
            .map(|(file, doc)| {
                let folder = file.split_once('/').map_or("", |(article, _)| article);
                (folder, urls::article(doc.as_ref().and_then(Document::slug).unwrap_or(folder)))
            })
            .collect();
        files
            .iter()
            .map(|(file, doc)| {
                let folder = file.split_once('/').map_or("", |(article, _)| article);
                let article = article_urls
                    .iter()
                    .find(|(f, _)| *f == folder)
                    .map_or_else(|| urls::article(folder), |(_, url)| url.clone());
                let is_index = file_stem(file) == "index";
                let url = if is_index {
                    article
                } else {
                    urls::section(&article, doc.as_ref().and_then(Document::slug).unwrap_or(file_stem(file)))
                };
                PageAddress {
                    file: file.clone(),
                    url,
                    aliases: doc.as_ref().map(Document::aliases).unwrap_or_default(),
                    title: doc.as_ref().and_then(Document::title).unwrap_or(file).to_string(),
                    weight: doc.as_ref().map_or(0, Document::weight),
                    draft: doc.as_ref().is_some_and(Document::draft),
                    is_index,
                }
            })
            .collect()
    }

    /// An article's front page and its other pages in the order the site
    /// shows them (by `weight`, then address, as `content` sorts them).
    pub fn article_pages(&self, article: &str) -> Result<(PageAddress, Vec<PageAddress>), StructureError> {
        let index = self.page(&format!("{article}/index.md"))?;
        let mut pages: Vec<PageAddress> =
            self.addresses().into_iter().filter(|page| page.article() == article).collect();
        let front = pages
            .iter()
            .position(|page| page.file == index.relative)
            .map(|at| pages.remove(at))
            .ok_or_else(|| StructureError::NoSuchArticle { article: article.to_string() })?;
        pages.sort_by(|a, b| (a.weight, a.slug()).cmp(&(b.weight, b.slug())));
        Ok((front, pages))
    }

    /// Adds a page to `article` from the template: `title`, an empty
    /// description for the author to write, `draft = true`, and a weight
    /// that puts it last. Its file name (and so its address) is made from
    /// the title.
    pub fn new_page(&self, article: &str, title: &str, by: &Actor, now: i64) -> Result<NewPage, StructureError> {
        let title = title.trim();
        let slug = slug_from_title(title)?;
        let (_, pages) = self.article_pages(article)?;
        let page = self.page(&format!("{article}/{slug}.md"))?;
        let all = self.addresses();
        if page.full.exists() {
            return Err(StructureError::FileExists { path: page.relative });
        }
        let url = urls::section(&article_url(&all, article), &slug);
        check_url(&all, None, &url)?;
        let weight = pages.iter().map(|page| page.weight).max().unwrap_or(0).max(0) + 1;
        let text = template(title, weight);
        let hash = content_hash(&text);
        let revision = self.create(&Self::created(&page, &text, &hash, by, "added from the template", now))?;
        Ok(NewPage { path: page.relative, url, revision })
    }

    /// Writes a page file that is not there, and its revision, holding the
    /// page's lock so the watcher does not record it first as made outside
    /// the workspace.
    fn create(&self, new: &NewRevision<'_>) -> Result<i64, StructureError> {
        let page = new.page;
        check_size(new.text, new.message)?;
        let lock = self.lock(page);
        let _held = lock.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if page.full.exists() {
            return Err(StructureError::FileExists { path: page.relative.clone() });
        }
        write_atomic(&page.full, new.text.as_bytes())
            .map_err(|source| SaveError::Io { path: page.relative.clone(), source })?;
        Ok(self.insert(new)?)
    }

    /// A page's first revision in its new place: created, or brought back.
    fn created<'a>(
        page: &'a PagePath,
        text: &'a str,
        hash: &'a str,
        by: &'a Actor,
        message: &'a str,
        now: i64,
    ) -> NewRevision<'a> {
        NewRevision {
            page,
            kind: RevisionKind::Create,
            text,
            hash,
            base_hash: None,
            by,
            message,
            activity: Some(Kind::PageCreated),
            now,
        }
    }

    /// Changes the address of `path` (not a front page) to the address part
    /// `new_slug`, if the page is still the version `base_hash` names. The
    /// old address goes into the page's `aliases`, so it keeps leading to
    /// the page.
    pub fn rename(
        &self,
        path: &str,
        new_slug: &str,
        base_hash: &str,
        by: &Actor,
        now: i64,
    ) -> Result<Renamed, StructureError> {
        let page = self.page(path)?;
        let new_url = check_address(self, &page.relative, new_slug)?;
        let new_slug = checked_slug(new_slug)?;
        let (text, hash) = read(&page)?;
        if hash != base_hash {
            return Err(StructureError::Changed);
        }
        let old_url = page_address(self, &page.relative)?;
        if urls::loose(&old_url) == urls::loose(&new_url) {
            return Ok(Renamed { old_url, new_url, saved: Saved { revision: None, hash } });
        }
        let renaming = |doc: &mut Document| {
            // A slug equal to the file name is the default: leave it out.
            doc.set_slug((new_slug != file_stem(&page.relative)).then_some(new_slug));
            keep_old_address(doc, &old_url, &new_url);
        };
        let mut doc = parse(&page.relative, &text)?;
        renaming(&mut doc);
        let message = format!("address changed from {old_url} to {new_url}");
        let waiting = self.pending(&page.relative)?;
        let edit = Edit { text: &doc.to_text(), base_hash: &hash, by, message: &message, now };
        let saved = self.write(&page, &edit, RevisionKind::Save, Kind::PageRenamed)?;
        if let Some(waiting) = waiting.filter(|_| saved.revision.is_some()) {
            self.carry_forward(&page, &waiting, &saved.hash, &Change { by, message: &message, now }, &renaming)?;
        }
        Ok(Renamed { old_url, new_url, saved })
    }

    /// Puts the pages of `article` (its front page aside, which always
    /// comes first) in the order given, by setting their weights to 1, 2,
    /// 3...; `order` lists every other page's file once. Only pages whose
    /// weight changes are written. How many were.
    pub fn reorder(&self, article: &str, order: &[String], by: &Actor, now: i64) -> Result<usize, StructureError> {
        let (_, pages) = self.article_pages(article)?;
        let known: HashSet<&str> = pages.iter().map(|page| page.file.as_str()).collect();
        let mut seen = HashSet::new();
        for file in order {
            if !known.contains(file.as_str()) {
                return Err(StructureError::BadOrder { why: format!("{file} is not one of its pages") });
            }
            if !seen.insert(file.as_str()) {
                return Err(StructureError::BadOrder { why: format!("{file} is listed twice") });
            }
        }
        if let Some(missing) = pages.iter().find(|page| !seen.contains(page.file.as_str())) {
            return Err(StructureError::BadOrder { why: format!("{} is missing", missing.file) });
        }
        let mut changed = 0;
        for (weight, file) in (1..).zip(order) {
            let message = format!("put in place {weight} of the article's pages");
            let written = self.change(&self.page(file)?, &Change { by, message: &message, now }, |doc| {
                doc.set_weight(weight);
            })?;
            changed += usize::from(written.is_some());
        }
        if changed > 0 {
            let detail =
                format!("new order: {}", order.iter().map(|file| file_stem(file)).collect::<Vec<_>>().join(", "));
            record(&self.conn(), by, Kind::PagesReordered, &format!("article {article}"), &detail, now)?;
        }
        Ok(changed)
    }

    /// Moves `path` to the trash, if it is still the version `base_hash`
    /// names: the file is removed, its last text kept as a revision of kind
    /// `trash`, and its address (and its old addresses) added to the
    /// `aliases` of the article's front page, so they lead there. The
    /// front page itself cannot be moved.
    pub fn trash(&self, path: &str, base_hash: &str, by: &Actor, now: i64) -> Result<Trashed, StructureError> {
        let page = self.page(path)?;
        if file_stem(&page.relative) == "index" {
            return Err(StructureError::FrontPage {
                path: page.relative,
                why: "an article cannot be without it; move the article's other pages instead",
            });
        }
        let article = page.relative.split_once('/').map_or("", |(article, _)| article).to_string();
        let (front, pages) = self.article_pages(&article)?;
        let moving = pages
            .into_iter()
            .find(|p| p.file == page.relative)
            .ok_or_else(|| SaveError::NotFound { path: page.relative.clone() })?;
        // A front page that cannot be read stops the move before it starts.
        let index = self.page(&front.file)?;
        parse(&index.relative, &read(&index)?.0)?;

        let message = format!("moved to the trash; {} now leads to {}", moving.url, front.url);
        let revision = {
            let lock = self.lock(&page);
            let _held = lock.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            let (text, hash) = read(&page)?;
            if hash != base_hash {
                return Err(StructureError::Changed);
            }
            std::fs::remove_file(&page.full)
                .and_then(|()| sync_folder(page.full.parent().unwrap_or(Path::new("."))))
                .map_err(|source| SaveError::Io { path: page.relative.clone(), source })?;
            self.insert(&NewRevision {
                page: &page,
                kind: RevisionKind::Trash,
                text: &text,
                hash: &hash,
                base_hash: Some(&hash),
                by,
                message: &message,
                activity: Some(Kind::PageTrashed),
                now,
            })?
        };
        let message = format!("keeps the addresses of {}, moved to the trash", page.relative);
        self.change(&index, &Change { by, message: &message, now }, |doc| {
            let mut aliases = doc.aliases();
            for url in std::iter::once(&moving.url).chain(&moving.aliases) {
                if !aliases.iter().any(|alias| urls::loose(alias) == urls::loose(url)) {
                    aliases.push(url.clone());
                }
            }
            doc.set_aliases(&aliases);
        })?;
        Ok(Trashed { url: moving.url, front_page: front.url, revision })
    }

    /// Pages in the trash (of one article, or all), newest first: those
    /// whose last revision (drafts aside) moved them there and whose file
    /// is still gone. Each as its trash revision.
    pub fn trashed(&self, article: Option<&str>) -> Result<Vec<RevisionSummary>, StructureError> {
        let paths: Vec<String> = {
            let conn = self.conn();
            let mut statement = conn.prepare("SELECT DISTINCT path FROM page_revisions WHERE kind = ?1")?;
            let rows = statement.query_map([RevisionKind::Trash.as_str()], |row| row.get(0))?;
            rows.collect::<Result<_, _>>()?
        };
        let mut trashed = Vec::new();
        for path in paths {
            if article.is_some_and(|article| path.split_once('/').map(|(a, _)| a) != Some(article)) {
                continue;
            }
            if let Some(revision) = self.in_trash(&path)? {
                trashed.push(revision);
            }
        }
        trashed.sort_by_key(|revision| std::cmp::Reverse(revision.id));
        Ok(trashed)
    }

    /// The revision that moved `path` to the trash, if it is there now.
    fn in_trash(&self, path: &str) -> Result<Option<RevisionSummary>, StructureError> {
        let page = self.page(path)?;
        let newest = self.history(&page.relative)?.into_iter().find(|r| r.kind != RevisionKind::Draft);
        let gone = !page.full.exists();
        Ok(newest.filter(|r| r.kind == RevisionKind::Trash && gone))
    }

    /// Brings `path` back from the trash with the text it had, at the
    /// address it had, taking its addresses back from the article's front
    /// page. Refused if a file is there now or another page has its address.
    pub fn restore_from_trash(&self, path: &str, by: &Actor, now: i64) -> Result<NewPage, StructureError> {
        let page = self.page(path)?;
        let Some(trashed) = self.in_trash(&page.relative)? else {
            return Err(if page.full.exists() {
                StructureError::FileExists { path: page.relative }
            } else {
                StructureError::NotInTrash { path: page.relative, why: "it was never moved there" }
            });
        };
        let text = self
            .revision(trashed.id)?
            .ok_or(SaveError::NoSuchRevision { path: page.relative.clone(), id: trashed.id })?
            .text;
        let article = page.relative.split_once('/').map_or("", |(article, _)| article).to_string();
        let (front, _) = self.article_pages(&article)?;
        let doc = Document::parse(&text).ok();
        let slug = doc.as_ref().and_then(Document::slug).unwrap_or(file_stem(&page.relative));
        let url = urls::section(&front.url, slug);
        let own_aliases = doc.as_ref().map(Document::aliases).unwrap_or_default();
        let giving_back: HashSet<String> =
            std::iter::once(&url).chain(&own_aliases).map(|address| urls::loose(address)).collect();

        let index = self.page(&front.file)?;
        let given_back = |aliases: Vec<String>| -> Vec<String> {
            aliases.into_iter().filter(|alias| !giving_back.contains(&urls::loose(alias))).collect()
        };
        let kept = given_back(parse(&index.relative, &read(&index)?.0)?.aliases());
        // Its addresses must be free once the front page gives them back.
        let mut all = self.addresses();
        if let Some(front) = all.iter_mut().find(|p| p.file == index.relative) {
            front.aliases.clone_from(&kept);
        }
        check_url(&all, Some(&page.relative), &url)?;
        for alias in &own_aliases {
            check_url(&all, Some(&page.relative), alias)?;
        }
        let index_message = format!("gives back the addresses of {}, brought back from the trash", page.relative);
        self.change(&index, &Change { by, message: &index_message, now }, |doc| {
            doc.set_aliases(&given_back(doc.aliases()));
        })?;
        let message = format!("brought back from the trash (revision {})", trashed.id);
        let hash = content_hash(&text);
        let revision = self.create(&NewRevision {
            kind: RevisionKind::Restore,
            activity: Some(Kind::PageRestoredFromTrash),
            ..Self::created(&page, &text, &hash, by, &message, now)
        })?;
        Ok(NewPage { path: page.relative, url, revision })
    }
}

#[cfg(test)]
mod tests;
