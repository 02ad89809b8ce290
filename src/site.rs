//! The rendered site: every page's HTML, the sitemap, redirects and social
//! cards, built once per content version and then only read. Serving and
//! exporting both start from a [`Site`].

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use arc_swap::{ArcSwap, ArcSwapOption};
use askama::Template;
use axum::body::Bytes;
use serde_json::json;
use tokio::sync::watch;

use crate::asset::{AssetUrls, Assets, Prepared};
use crate::card::{self, CardText};
use crate::comments::Comment;
use crate::content::{self, Article, Bibliography, Content, ContentError, ContentErrors, Date, LoadOptions, Page, Review, Settings, Severity, validate};
use crate::readability::Readability;
use crate::render::{self, RenderOptions, Rendered, TocEntry};
use crate::urls;
use crate::util::html::{escape, percent_encode};

/// How a site is built.
#[derive(Debug, Clone)]
pub struct SiteOptions {
    /// For staff previewing with `serve --dev`: drafts are shown (marked as
    /// drafts) and pages reload themselves when content changes.
    pub dev: bool,
    /// Where `/static/` files live, to check that images exist.
    pub static_dir: PathBuf,
    /// Building a site to publish as files (`build`): sample settings that
    /// a preview may run with are errors here.
    pub publish: bool,
}

impl SiteOptions {
    pub fn public(static_dir: &Path) -> Self {
        SiteOptions { dev: false, static_dir: static_dir.to_path_buf(), publish: false }
    }

    /// For `build`: the export goes to patients as it is.
    pub fn export(static_dir: &Path) -> Self {
        SiteOptions { publish: true, ..SiteOptions::public(static_dir) }
    }
}

/// What `check` reports about content that parsed: every problem, and how
/// readable each page is.
pub struct Inspection {
    pub problems: Vec<ContentError>,
    pub pages: Vec<PageStats>,
}

/// One page's readability figures, for the table `check` prints.
pub struct PageStats {
    pub path: PathBuf,
    pub url: String,
    pub readability: Readability,
    pub minutes: usize,
}

impl Inspection {
    pub fn errors(&self) -> usize {
        self.problems.iter().filter(|p| p.severity == Severity::Error).count()
    }
}

/// Renders every page of `content` and runs every check, without building
/// the site.
pub fn inspect(content: &Content, options: &SiteOptions) -> Inspection {
    let articles: Vec<RenderedArticle<'_>> = content.articles.iter().map(|a| RenderedArticle::new(a, &content.bibliography)).collect();
    inspect_rendered(content, &articles, options)
}

fn inspect_rendered(content: &Content, articles: &[RenderedArticle<'_>], options: &SiteOptions) -> Inspection {
    let checked: Vec<validate::Checked<'_>> = articles
        .iter()
        .flat_map(|a| a.pages())
        .map(|(page, url, rendered)| validate::Checked { page, url, rendered, readability: Readability::of_blocks(&rendered.text) })
        .collect();
    let context = validate::Context {
        static_dir: &options.static_dir,
        today: Date::today(),
        max_grade: content.settings.max_reading_grade,
        bibliography: &content.bibliography,
        claim_words: &content.settings.claim_words,
    };
    let mut problems = validate::check(&checked, &context);
    problems.extend(content.placeholders.iter().map(|p| {
        let mut problem = p.clone();
        if options.publish {
            problem.severity = Severity::Error;
            problem.hint = Some(format!("{} (a published export may not carry sample settings; run `check` to see them all)", p.hint.as_deref().unwrap_or("replace the sample value")));
        }
        problem
    }));
    let pages = checked
        .iter()
        .map(|c| PageStats { path: c.page.path.clone(), url: c.url.to_string(), readability: c.readability, minutes: reading_minutes(c.rendered.words) })
        .collect();
    Inspection { problems, pages }
}

/// One immutable version of the whole site.
#[derive(Debug)]
pub struct Site {
    pub settings: Settings,
    /// Canonical path (always ending in `/`) to the finished HTML.
    pages: HashMap<String, Arc<Prepared>>,
    /// Lowercased path without its trailing slash to the canonical path, so
    /// `/Dry-Needling/Migraines` can be redirected rather than lost.
    loose: HashMap<String, String>,
    /// Old addresses from `aliases` (as loose keys) to canonical paths.
    aliases: HashMap<String, String>,
    /// The same old addresses as staff wrote them, for the static export.
    redirects: Vec<(String, String)>,
    /// `/og/...png` path to what the card shows and, once drawn, the PNG.
    cards: HashMap<String, (CardText, OnceLock<Arc<Prepared>>)>,
    sitemap: Arc<Prepared>,
    robots: Arc<Prepared>,
    not_found: Arc<Prepared>,
    /// The files of `static/`.
    pub assets: Assets,
    pub asset_urls: AssetUrls,
    /// When this version was built, for `Last-Modified`.
    pub built_at: std::time::SystemTime,
    /// Pages readers can comment on, by canonical path.
    comment_pages: HashMap<String, CommentPage>,
    /// Problems that did not stop this version going live.
    pub warnings: Vec<ContentError>,
    /// What this version was built from, so it can be rebuilt with new
    /// comments without reading the disk (where an edit may be half done).
    pub content: Arc<Content>,
    pub options: SiteOptions,
}

/// A page that takes comments, as the comment form needs it.
#[derive(Debug, Clone)]
pub struct CommentPage {
    pub title: String,
    pub url: String,
    pub article_title: String,
    pub article_url: String,
}

impl Site {
    /// Reads the content folder and builds the site from it, with the
    /// approved comments.
    pub fn load(content_dir: &Path, options: &SiteOptions, comments: &[Comment]) -> Result<Site, ContentErrors> {
        let content = content::load(content_dir, LoadOptions { include_drafts: options.dev })?;
        Site::build(Arc::new(content), options, comments)
    }

    /// The same content with another set of approved comments: what
    /// moderating a comment publishes.
    pub fn with_comments(&self, comments: &[Comment]) -> Site {
        Site::build(self.content.clone(), &self.options, comments).expect("content that built once builds again")
    }

    /// Renders every page. Fails with every problem found (warnings too)
    /// when the content has errors; warnings alone are kept for logging.
    ///
    /// Every page is rendered again even when one comment changes: it
    /// takes a few milliseconds for a whole article, and one way of
    /// building keeps reloads, moderation and exports from drifting apart.
    pub fn build(content: Arc<Content>, options: &SiteOptions, comments: &[Comment]) -> Result<Site, ContentErrors> {
        let settings = &content.settings;
        let articles: Vec<RenderedArticle<'_>> = content.articles.iter().map(|a| RenderedArticle::new(a, &content.bibliography)).collect();
        let inspection = inspect_rendered(&content, &articles, options);
        if inspection.errors() > 0 {
            return Err(ContentErrors(inspection.problems));
        }
        let assets = Assets::load(&options.static_dir).map_err(|e| {
            ContentErrors(vec![ContentError::new(&options.static_dir, 0, format!("{e:#}")).hint("check that the static folder exists and can be read (set it with --static)")])
        })?;
        let urls = assets.urls();
        let warnings = inspection.problems;
        let dev = options.dev;

        let mut cards = HashMap::new();
        let mut aliases = HashMap::new();
        let mut redirects = Vec::new();
        let mut comment_pages = HashMap::new();
        let site_host = settings.base_url.split_once("://").map_or(settings.base_url.as_str(), |(_, host)| host).to_string();
        let mut card = |path: String, title: &str, article: Option<&str>| {
            let text = CardText { title: title.to_string(), article: article.map(String::from), clinic: settings.clinic_name.clone(), site: site_host.clone() };
            cards.insert(path.clone(), (text, OnceLock::new()));
            path
        };

        let home_card = card(urls::card("/"), &format!("Patient information from {}", settings.clinic_name), None);
        // Templates are quick; compressing is the slow part, so pages are
        // rendered to text first and compressed on every core together.
        let mut html: Vec<(String, String)> = Vec::new();
        html.push(("/".to_string(), render_html(&HomeTemplate { chrome: Chrome { dev, ..home_chrome(settings, &urls, &home_card) }, articles: cards_for(&articles) })));
        for article in &articles {
            for (index, (page, url, rendered)) in article.pages().enumerate() {
                let card_path = card(urls::card(url), &page.front.title, (index > 0).then_some(article.title()));
                let mut template = article_page(settings, &urls, article, index, &card_path, rendered, dev);
                if page.front.comments.unwrap_or(index > 0) {
                    template.comments = Some(comments_view(url, comments));
                    let target = CommentPage { title: page.front.title.clone(), url: url.to_string(), article_title: article.title().to_string(), article_url: article.url.clone() };
                    comment_pages.insert(url.to_string(), target);
                }
                html.push((url.to_string(), render_html(&template)));
                for alias in &page.front.aliases {
                    aliases.insert(urls::loose(alias), url.to_string());
                    redirects.push((alias.clone(), url.to_string()));
                }
            }
            let mut print = print_page(settings, &urls, article);
            print.chrome.dev = dev;
            html.push((article.print_url(), render_html(&print)));
        }
        let privacy = PrivacyTemplate { chrome: Chrome { dev, noindex: false, ..Chrome::plain(settings, &urls, PRIVACY_TITLE, urls::PRIVACY) }, comments: &settings.comments };
        html.push((urls::PRIVACY.to_string(), render_html(&privacy)));
        let not_found = render_template(&NotFoundTemplate { chrome: Chrome { dev, ..Chrome::plain(settings, &urls, "Page not found", "/404/") }, articles: cards_for(&articles) });
        let pages: HashMap<String, Arc<Prepared>> = crate::asset::par_map(html, |(path, html)| (path, Prepared::html(html))).into_iter().collect();
        let loose = pages.keys().map(|path| (urls::loose(path), path.clone())).collect();
        Ok(Site {
            settings: settings.clone(),
            pages,
            loose,
            aliases,
            redirects,
            cards,
            sitemap: Prepared::shared("application/xml; charset=utf-8", Bytes::from(sitemap(settings, &articles))),
            robots: Prepared::shared("text/plain; charset=utf-8", Bytes::from(robots(settings))),
            assets,
            asset_urls: urls,
            built_at: std::time::SystemTime::now(),
            not_found,
            comment_pages,
            warnings,
            content: content.clone(),
            options: options.clone(),
        })
    }

    /// For the static export, which cannot take posts: at each comment
    /// form's address, a page saying how to reach the clinic instead.
    pub fn closed_comment_pages(&self) -> Vec<(String, Arc<Prepared>)> {
        let mut pages: Vec<(String, Arc<Prepared>)> = self
            .comment_pages
            .values()
            .map(|page| {
                let chrome = Chrome::plain(&self.settings, &self.asset_urls, &format!("Share your experience: {}", page.title), &urls::comment_form(&page.url));
                (urls::comment_form(&page.url), render_template(&CommentsClosedTemplate { chrome, page }))
            })
            .collect();
        pages.sort_by(|a, b| a.0.cmp(&b.0));
        pages
    }

    /// The page at `path` if readers can comment on it.
    pub fn comment_page(&self, path: &str) -> Option<&CommentPage> {
        self.comment_pages.get(path)
    }

    /// The HTML for a canonical path.
    pub fn page(&self, path: &str) -> Option<&Arc<Prepared>> {
        self.pages.get(path)
    }

    /// Where an old address listed in a page's `aliases` now lives.
    pub fn alias(&self, path: &str) -> Option<&str> {
        self.aliases.get(&urls::loose(path)).map(String::as_str)
    }

    /// The canonical path for a variant with other case or slashes.
    pub fn canonical(&self, path: &str) -> Option<&str> {
        self.loose.get(&urls::loose(path)).map(String::as_str)
    }

    /// The social card PNG at `/og/...`, drawn on first request and kept for
    /// the life of this content version.
    pub fn card(&self, path: &str) -> Option<Arc<Prepared>> {
        let (text, png) = self.cards.get(path)?;
        Some(png.get_or_init(|| Prepared::shared("image/png", Bytes::from(card::render_png(text)))).clone())
    }

    pub fn sitemap(&self) -> &Arc<Prepared> {
        &self.sitemap
    }

    pub fn robots(&self) -> &Arc<Prepared> {
        &self.robots
    }

    pub fn not_found(&self) -> &Arc<Prepared> {
        &self.not_found
    }

    /// Every canonical page path, sorted.
    pub fn paths(&self) -> Vec<&str> {
        let mut paths: Vec<&str> = self.pages.keys().map(String::as_str).collect();
        paths.sort_unstable();
        paths
    }

    /// Old addresses and where they lead, in content order.
    pub fn redirects(&self) -> &[(String, String)] {
        &self.redirects
    }

    /// Every social card path, sorted.
    pub fn card_paths(&self) -> Vec<&str> {
        let mut paths: Vec<&str> = self.cards.keys().map(String::as_str).collect();
        paths.sort_unstable();
        paths
    }
}

/// The site being served now. A reload builds a whole new [`Site`] off to
/// the side and swaps it in, so a request sees either the old version or the
/// new one, never a mix; a failed reload leaves the last good one serving.
pub struct SiteHandle {
    current: ArcSwap<Site>,
    /// Why the newest content could not be published, until it can.
    error: ArcSwapOption<ContentErrors>,
    /// Bumped on every rebuild attempt; previews wait on it to refresh.
    version: watch::Sender<u64>,
    /// One rebuild at a time: a content reload and a comment approval
    /// racing could otherwise swap in a site that lacks the other's change.
    rebuilding: std::sync::Mutex<()>,
}

impl SiteHandle {
    pub fn new(site: Site) -> Self {
        SiteHandle { current: ArcSwap::from_pointee(site), error: ArcSwapOption::empty(), version: watch::channel(0).0, rebuilding: std::sync::Mutex::new(()) }
    }

    /// The current version; hold the `Arc` for the whole request.
    pub fn load(&self) -> Arc<Site> {
        self.current.load_full()
    }

    /// Rebuilds from the content folder: publishes the result, or records
    /// why it could not be built and keeps the last good site.
    pub fn reload(&self, build: impl FnOnce() -> Result<Site, ContentErrors>) -> Result<Arc<Site>, Arc<ContentErrors>> {
        let _one_at_a_time = self.rebuilding.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let result = match build() {
            Ok(site) => {
                let site = Arc::new(site);
                self.current.store(site.clone());
                self.error.store(None);
                Ok(site)
            }
            Err(errors) => {
                let errors = Arc::new(errors);
                self.error.store(Some(errors.clone()));
                Err(errors)
            }
        };
        self.version.send_modify(|v| *v += 1);
        result
    }

    /// Rebuilds the current site with the approved comments `comments`
    /// returns (read under the rebuild lock, so the newest are used).
    pub fn republish(&self, comments: impl FnOnce() -> Vec<Comment>) {
        let _one_at_a_time = self.rebuilding.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let site = self.current.load().with_comments(&comments());
        self.current.store(Arc::new(site));
        self.version.send_modify(|v| *v += 1);
    }

    /// The content errors keeping the newest edit off the site, if any.
    pub fn error(&self) -> Option<Arc<ContentErrors>> {
        self.error.load_full()
    }

    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.version.subscribe()
    }
}

fn render_template(template: &impl Template) -> Arc<Prepared> {
    Prepared::html(render_html(template))
}

fn render_html(template: &impl Template) -> String {
    // Templates only read plain fields, so rendering cannot fail short of a
    // bug in a template; a half page would be worse than stopping.
    template.render().expect("templates render from plain data and cannot fail")
}

fn robots(settings: &Settings) -> String {
    // Staff pages and per-visitor forms are not for search engines.
    format!("User-agent: *\nDisallow: {}\nDisallow: /*/{}\nAllow: /\n\nSitemap: {}{}\n", urls::ADMIN, urls::COMMENT_FORM, settings.base_url, urls::SITEMAP)
}

/// An article with each page rendered and given its address.
struct RenderedArticle<'c> {
    article: &'c Article,
    bibliography: &'c Bibliography,
    url: String,
    index: (String, Rendered),
    sections: Vec<(String, Rendered)>,
}

impl<'c> RenderedArticle<'c> {
    fn new(article: &'c Article, bibliography: &'c Bibliography) -> Self {
        let url = urls::article(&article.slug);
        let index = (url.clone(), render::render(article.index.body()));
        let sections = article.sections.iter().map(|s| (urls::section(&url, &s.slug), render::render(s.body()))).collect();
        RenderedArticle { article, bibliography, url, index, sections }
    }

    fn title(&self) -> &'c str {
        &self.article.index.front.title
    }

    fn print_url(&self) -> String {
        urls::print(&self.url)
    }

    /// The front page then the sections, in reading order.
    fn pages(&self) -> impl Iterator<Item = (&'c Page, &str, &Rendered)> + '_ {
        std::iter::once((&self.article.index, self.index.0.as_str(), &self.index.1))
            .chain(self.article.sections.iter().zip(&self.sections).map(|(page, (url, r))| (page, url.as_str(), r)))
    }

    fn words(&self) -> usize {
        self.pages().map(|(_, _, r)| r.words).sum()
    }

    /// The newest date any of its pages changed or was reviewed.
    fn last_modified(&self) -> Option<Date> {
        self.pages().filter_map(|(p, _, _)| p.last_modified()).max()
    }
}

/// Reading speed for the "minute read" line: a steady adult pace for plain
/// health text, rounded up so nobody is told less than it takes.
const WORDS_PER_MINUTE: usize = 200;

pub fn reading_minutes(words: usize) -> usize {
    words.div_ceil(WORDS_PER_MINUTE).max(1)
}

/// What the shared layout needs: `<head>`, header and footer.
pub struct Chrome<'a> {
    pub settings: &'a Settings,
    /// Where the stylesheet and scripts are, under their hashed names.
    pub assets: &'a AssetUrls,
    /// The `<title>`: page first, clinic last, so tabs stay telling apart.
    pub title: String,
    pub description: &'a str,
    /// Absolute URL of this page.
    pub canonical: String,
    /// Error pages and the printable copy are not for search engines.
    pub noindex: bool,
    /// Link preview tags; none on error pages.
    pub preview: Option<Preview>,
    /// Schema.org JSON-LD, already safe to put inside `<script>`.
    pub json_ld: String,
    /// Whether the page uses `share.js`.
    pub script: bool,
    /// Preview build: adds the live-reload script.
    pub dev: bool,
}

/// Open Graph and Twitter card values beyond those in [`Chrome`].
pub struct Preview {
    pub title: String,
    /// `article` or `website`.
    pub kind: &'static str,
    pub image: String,
    pub image_alt: String,
    /// `en_US` from `en-US`: Open Graph wants an underscore.
    pub locale: String,
}

impl<'a> Chrome<'a> {
    /// The layout for a page that is not shared: no previews, not indexed.
    pub fn plain(settings: &'a Settings, assets: &'a AssetUrls, title: &str, path: &str) -> Self {
        Chrome {
            settings,
            assets,
            title: format!("{title} – {}", settings.clinic_name),
            description: "",
            canonical: format!("{}{path}", settings.base_url),
            noindex: true,
            preview: None,
            json_ld: String::new(),
            script: false,
            dev: false,
        }
    }

    fn shared(settings: &'a Settings, assets: &'a AssetUrls, title: &str, description: &'a str, path: &str, card: &str, kind: &'static str) -> Self {
        Chrome {
            noindex: false,
            description,
            preview: Some(Preview {
                title: title.to_string(),
                kind,
                image: format!("{}{card}", settings.base_url),
                image_alt: format!("{title} – {}", settings.clinic_name),
                locale: settings.language.replace('-', "_"),
            }),
            script: true,
            ..Chrome::plain(settings, assets, title, path)
        }
    }
}

/// JSON for inside `<script>`: `<`, `>` and `&` as `\u` escapes, so no text
/// (a title with `</script>` in it) can end the element early.
fn script_safe_json(value: &serde_json::Value) -> String {
    value.to_string().replace('<', "\\u003c").replace('>', "\\u003e").replace('&', "\\u0026")
}

fn publisher(settings: &Settings) -> serde_json::Value {
    json!({ "@type": "MedicalClinic", "name": settings.clinic_name, "url": format!("{}/", settings.base_url), "telephone": settings.contact.phone })
}

pub struct NavItem {
    pub title: String,
    pub url: String,
    pub current: bool,
}

pub struct Card {
    pub title: String,
    pub url: String,
    pub description: String,
    pub parts: usize,
    pub minutes: usize,
}

pub struct SectionSummary {
    pub title: String,
    pub url: String,
    pub description: String,
}

/// What a page may honestly say about its review: "Reviewed by ... on ..."
/// only when front matter names the reviewer; otherwise when it was last
/// updated, and nothing about a review.
pub struct PageStatus {
    pub review: Option<Review>,
    pub updated: Option<Date>,
}

impl PageStatus {
    fn of(page: &Page) -> Self {
        PageStatus { review: page.front.review(), updated: page.updated() }
    }
}

/// One entry of a page's reference list.
pub struct ReferenceView<'a> {
    pub number: usize,
    pub id: String,
    pub reference: &'a content::Reference,
    /// Ids of the markers citing it, for links back to the text; empty for
    /// a source that is listed but not cited in the text.
    pub backlinks: Vec<String>,
}

/// The reference list for one page: its `[^key]` markers' sources in the
/// numbers the markers show, then the sources only listed in front matter.
fn references<'a>(page: &Page, rendered: &Rendered, bibliography: &'a Bibliography, prefix: &str) -> Vec<ReferenceView<'a>> {
    let cited = rendered.cited_keys();
    let listed = page.front.sources.iter().map(String::as_str).filter(|k| !cited.contains(k));
    cited
        .iter()
        .copied()
        .chain(listed)
        .filter_map(|key| bibliography.get(key).map(|reference| (key, reference)))
        .enumerate()
        .map(|(i, (key, reference))| ReferenceView {
            number: i + 1,
            id: format!("{prefix}ref-{key}"),
            reference,
            backlinks: rendered.marker_ids(key).into_iter().map(String::from).collect(),
        })
        .collect()
}

/// Plain share links: they work without JavaScript and load nothing from
/// other sites until the reader chooses one.
pub struct ShareLinks {
    pub url: String,
    pub email: String,
    pub sms: String,
    pub whatsapp: String,
    pub facebook: String,
    pub x: String,
}

impl ShareLinks {
    fn new(title: &str, url: &str, clinic: &str) -> Self {
        let (t, u) = (percent_encode(title), percent_encode(url));
        let message = percent_encode(&format!("{title}: {url}"));
        ShareLinks {
            url: url.to_string(),
            email: format!("mailto:?subject={}&body={}", percent_encode(&format!("{title} – {clinic}")), percent_encode(&format!("{title}\n\n{url}"))),
            sms: format!("sms:?&body={message}"),
            whatsapp: format!("https://wa.me/?text={message}"),
            facebook: format!("https://www.facebook.com/sharer/sharer.php?u={u}"),
            x: format!("https://x.com/intent/post?text={t}&url={u}"),
        }
    }
}

#[derive(Template)]
#[template(path = "home.html")]
pub struct HomeTemplate<'a> {
    pub chrome: Chrome<'a>,
    pub articles: Vec<Card>,
}

#[derive(Template)]
#[template(path = "article.html")]
pub struct ArticleTemplate<'a> {
    pub chrome: Chrome<'a>,
    /// Shown only in previews: drafts are never published.
    pub draft: bool,
    pub article_title: String,
    pub article_url: String,
    pub print_url: String,
    pub title: String,
    pub is_index: bool,
    pub part: usize,
    pub parts: usize,
    pub minutes: usize,
    pub contents: Vec<NavItem>,
    pub toc: Vec<TocEntry>,
    pub body: &'a str,
    /// On the article's front page: what each section covers.
    pub sections: Vec<SectionSummary>,
    /// The page's numbered reference list: cited sources in the order they
    /// are first cited, then those only listed in `sources`.
    pub references: Vec<ReferenceView<'a>>,
    pub status: PageStatus,
    pub share: ShareLinks,
    /// Approved comments and the way to add one; `None` where comments are
    /// off.
    pub comments: Option<CommentsView>,
    pub prev: Option<NavItem>,
    pub next: Option<NavItem>,
}

/// One section of the printable article.
pub struct PrintSection<'a> {
    pub title: &'a str,
    pub id: String,
    pub body: String,
    pub references: Vec<ReferenceView<'a>>,
}

#[derive(Template)]
#[template(path = "print.html")]
pub struct PrintTemplate<'a> {
    pub chrome: Chrome<'a>,
    pub title: &'a str,
    pub article_url: String,
    pub online_url: String,
    pub sections: Vec<PrintSection<'a>>,
    pub status: PageStatus,
    /// Inline SVG that opens the online article when scanned.
    pub qr_svg: String,
}

#[derive(Template)]
#[template(path = "comments_closed.html")]
struct CommentsClosedTemplate<'a> {
    chrome: Chrome<'a>,
    page: &'a CommentPage,
}

/// Where the privacy notice lives; the footer of every page links to it.
const PRIVACY_TITLE: &str = "How we handle your comments";

/// What is kept when a reader comments, for how long, and how to have it
/// removed. Built from the settings the server enforces, so the notice
/// cannot drift from what happens.
#[derive(Template)]
#[template(path = "privacy.html")]
struct PrivacyTemplate<'a> {
    chrome: Chrome<'a>,
    comments: &'a content::CommentSettings,
}

#[derive(Template)]
#[template(path = "not_found.html")]
pub struct NotFoundTemplate<'a> {
    pub chrome: Chrome<'a>,
    pub articles: Vec<Card>,
}

fn cards_for(articles: &[RenderedArticle<'_>]) -> Vec<Card> {
    articles
        .iter()
        .map(|a| Card {
            title: a.title().to_string(),
            url: a.url.clone(),
            description: a.article.index.front.description.clone(),
            parts: a.article.sections.len() + 1,
            minutes: reading_minutes(a.words()),
        })
        .collect()
}

fn home_chrome<'a>(settings: &'a Settings, assets: &'a AssetUrls, card: &str) -> Chrome<'a> {
    const DESCRIPTION: &str = "Clear information from our physical therapists, with its sources, to help you understand your condition and your treatment.";
    let title = format!("Patient information from {}", settings.clinic_name);
    let mut chrome = Chrome::shared(settings, assets, &title, DESCRIPTION, "/", card, "website");
    chrome.title = title;
    chrome.json_ld = script_safe_json(&json!({
        "@context": "https://schema.org",
        "@type": "WebSite",
        "name": settings.clinic_name,
        "url": format!("{}/", settings.base_url),
        "inLanguage": settings.language,
        "publisher": publisher(settings),
    }));
    chrome.script = false;
    chrome
}

/// The label of the article's front page in its contents list.
const OVERVIEW: &str = "Overview";

fn article_page<'a>(
    settings: &'a Settings,
    assets: &'a AssetUrls,
    article: &'a RenderedArticle<'_>,
    index: usize,
    card: &str,
    rendered: &'a Rendered,
    dev: bool,
) -> ArticleTemplate<'a> {
    let all: Vec<(&Page, &str, &Rendered)> = article.pages().collect();
    let (page, url, _) = all[index];
    let nav = |i: usize| {
        let (page, url, _) = all[i];
        NavItem { title: if i == 0 { OVERVIEW.to_string() } else { page.front.title.clone() }, url: url.to_string(), current: i == index }
    };
    let is_index = index == 0;
    let sections = if is_index {
        article
            .article
            .sections
            .iter()
            .zip(&article.sections)
            .map(|(s, (url, _))| SectionSummary { title: s.front.title.clone(), url: url.clone(), description: s.front.description.clone() })
            .collect()
    } else {
        Vec::new()
    };
    let mut chrome = Chrome::shared(settings, assets, &page.front.title, &page.front.description, url, card, "article");
    chrome.dev = dev;
    let references = references(page, rendered, article.bibliography, "");
    chrome.json_ld = script_safe_json(&medical_web_page(settings, article, page, &references, &chrome.canonical));
    let share = ShareLinks::new(&page.front.title, &chrome.canonical, &settings.clinic_name);
    ArticleTemplate {
        chrome,
        draft: dev && page.is_draft(),
        article_title: article.title().to_string(),
        article_url: article.url.clone(),
        print_url: article.print_url(),
        title: page.front.title.clone(),
        is_index,
        part: index + 1,
        parts: all.len(),
        minutes: reading_minutes(rendered.words),
        contents: (0..all.len()).map(nav).collect(),
        toc: render::table_of_contents(&rendered.headings),
        body: &rendered.html,
        sections,
        references,
        status: PageStatus::of(page),
        share,
        comments: None,
        prev: index.checked_sub(1).map(nav),
        next: (index + 1 < all.len()).then(|| nav(index + 1)),
    }
}

/// A page's comments as readers see them.
pub struct CommentsView {
    pub list: Vec<CommentView>,
    /// The per-visitor form page, kept apart so this page stays the same
    /// for everyone and can be cached (see `http::comments`).
    pub form_url: String,
}

pub struct CommentView {
    pub name: String,
    pub date: Date,
    /// Plain text: the template escapes it and CSS keeps its line breaks.
    pub body: String,
    pub reply: Option<String>,
}

fn comments_view(url: &str, comments: &[Comment]) -> CommentsView {
    let list = comments
        .iter()
        .filter(|c| c.page == url && c.status == crate::comments::Status::Approved)
        .map(|c| CommentView { name: c.display_name().to_string(), date: Date::from_unix(c.created_at), body: c.body.clone(), reply: c.reply.clone() })
        .collect();
    CommentsView { list, form_url: urls::comment_form(url) }
}

/// Schema.org description of one article page, for search engines.
fn medical_web_page(settings: &Settings, article: &RenderedArticle<'_>, page: &Page, references: &[ReferenceView<'_>], canonical: &str) -> serde_json::Value {
    let mut value = json!({
        "@context": "https://schema.org",
        "@type": "MedicalWebPage",
        "name": page.front.title,
        "description": page.front.description,
        "url": canonical,
        "inLanguage": settings.language,
        "audience": { "@type": "MedicalAudience", "audienceType": "Patient" },
        "publisher": publisher(settings),
        "isPartOf": { "@type": "MedicalWebPage", "name": article.title(), "url": format!("{}{}", settings.base_url, article.url) },
    });
    if let Some(about) = &article.article.index.front.about {
        value["about"] = json!({ "@type": "MedicalTherapy", "name": about });
    }
    // Search engines show review dates as a mark of quality: only a review
    // someone made is claimed.
    if let Some(review) = page.front.review() {
        value["lastReviewed"] = review.on.iso().into();
        value["reviewedBy"] = json!({ "@type": "Person", "name": review.by });
    }
    if let Some(updated) = page.updated() {
        value["dateModified"] = updated.iso().into();
    }
    let citations: Vec<serde_json::Value> = references.iter().map(|r| r.reference.json_ld()).collect();
    if !citations.is_empty() {
        value["citation"] = citations.into();
    }
    value
}

/// The whole article on one page, for printing and handing to patients.
fn print_page<'a>(settings: &'a Settings, assets: &'a AssetUrls, article: &'a RenderedArticle<'_>) -> PrintTemplate<'a> {
    let path = article.print_url();
    let online_url = format!("{}{}", settings.base_url, article.url);
    let sections = article
        .pages()
        .enumerate()
        .map(|(i, (page, _, _))| {
            // Each section's own headings go one level down, under the
            // section's title; ids get the section's slug so they stay unique.
            let prefix = format!("{}-", page.slug);
            let shift = if i == 0 { 0 } else { 1 };
            let rendered = render::render_with(page.body(), &RenderOptions { heading_shift: shift, id_prefix: &prefix });
            let references = references(page, &rendered, article.bibliography, &prefix);
            PrintSection { title: &page.front.title, id: page.slug.clone(), body: rendered.html, references }
        })
        .collect();
    PrintTemplate {
        chrome: Chrome { script: true, ..Chrome::plain(settings, assets, &format!("Print: {}", article.title()), &path) },
        title: article.title(),
        article_url: article.url.clone(),
        qr_svg: qr_svg(&online_url),
        online_url,
        sections,
        status: PageStatus::of(&article.article.index),
    }
}

/// A QR code as inline SVG. It has no `style` attributes, so the strict
/// Content-Security-Policy allows it.
fn qr_svg(url: &str) -> String {
    let code = qrcode::QrCode::with_error_correction_level(url, qrcode::EcLevel::M).expect("a web address fits in a QR code");
    code.render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(160, 160)
        .dark_color(qrcode::render::svg::Color("#000000"))
        .light_color(qrcode::render::svg::Color("#ffffff"))
        .build()
        .replacen("<svg ", "<svg role=\"img\" aria-labelledby=\"qr-label\" ", 1)
        .replacen("<?xml version=\"1.0\" standalone=\"yes\"?>", "", 1)
}

/// `/sitemap.xml`: every published page with its last review date.
fn sitemap(settings: &Settings, articles: &[RenderedArticle<'_>]) -> String {
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n");
    let mut entry = |path: &str, date: Option<Date>| {
        let lastmod = date.map(|d| format!("<lastmod>{}</lastmod>", d.iso())).unwrap_or_default();
        xml.push_str(&format!("  <url><loc>{}{}</loc>{lastmod}</url>\n", settings.base_url, escape(path)));
    };
    entry("/", articles.iter().filter_map(RenderedArticle::last_modified).max());
    for article in articles {
        for (page, url, _) in article.pages() {
            entry(url, page.last_modified());
        }
    }
    xml.push_str("</urlset>\n");
    xml
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_for_script_elements_cannot_close_the_element() {
        let json = script_safe_json(&json!({ "name": "</script><script>alert(1)</script> & \"quotes\"" }));
        assert!(!json.contains('<') && !json.contains('>'), "{json}");
        let back: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(back["name"], "</script><script>alert(1)</script> & \"quotes\"");
    }
}
