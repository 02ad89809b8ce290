//! The rendered site: every page's HTML, the sitemap, redirects and social
//! cards, built once per content version and then only read. Serving and
//! exporting both start from a [`Site`], built by [`Site::load`].
//!
//! A site is built in three stages, so each piece of work is done once for
//! the thing it depends on:
//! 1. [`Sources::read`]: `content/` and `static/` read into memory. The only
//!    stage that reads the disk, once per version of those folders.
//! 2. `Version::new`: markdown rendered, every check run (images against
//!    the static files just read), and every page that shows no comments
//!    rendered and compressed. Reads neither the disk nor the clock.
//! 3. [`Site::with_comments`]: the pages that show comments. Approving a
//!    comment re-runs only this stage, only for the pages whose comments
//!    changed, and reuses everything else.
//!
//! `views` holds what the templates are given, `seo` what search engines
//! read (sitemap, robots.txt, structured data, the print page's QR code),
//! and `handle` the live swap of one version for the next.

mod handle;
mod preview;
mod seo;
mod views;

pub use handle::SiteHandle;
pub use preview::PagePreview;
pub use views::Chrome;
pub(crate) use views::{FEEDBACK_HEADING, REPORT_HEADING};

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::SystemTime;

use askama::Template;
use axum::body::Bytes;

use crate::asset::{AssetUrls, Assets, Prepared};
use crate::cache::Cache;
use crate::card::{self, CardText};
use crate::checks::CheckOptions;
use crate::comments::Comment;
use crate::config::Config;
use crate::content::{self, Content, ContentError, ContentErrors, Date, LoadOptions, Settings};
use crate::render::{RenderedArticle, RenderedPages};
use crate::urls;

use seo::*;
use views::*;

/// How a site is built.
#[derive(Debug, Clone)]
pub struct SiteOptions {
    /// For staff previewing with `serve --dev`: drafts are shown (marked as
    /// drafts) and pages reload themselves when content changes.
    pub dev: bool,
    /// Where the `/static/` files are read from, with the content.
    pub static_dir: PathBuf,
    /// Building a site to publish as files (`build`): sample settings that
    /// a preview may run with are errors here.
    pub publish: bool,
    /// The server counts page views (`serve` without `--no-counting`): the
    /// privacy notice says what is counted. Never in the static export.
    pub counting: bool,
    /// Where compressed bodies and cards are kept between runs; `None` to
    /// make everything afresh.
    pub cache: Option<Cache>,
}

impl SiteOptions {
    pub fn public(static_dir: &Path) -> Self {
        SiteOptions { dev: false, static_dir: static_dir.to_path_buf(), publish: false, counting: false, cache: None }
    }

    /// For `serve`: previews (`--dev`) show drafts and reload themselves.
    pub fn for_server(config: &Config) -> Self {
        SiteOptions {
            dev: config.dev,
            counting: !config.no_counting,
            cache: Some(Cache::open(&config.data.cache_dir(), if config.dev { "preview" } else { "serve" })),
            ..SiteOptions::public(&config.folders.static_dir)
        }
    }

    /// For `build`: the export goes to patients as it is.
    pub fn export(static_dir: &Path) -> Self {
        SiteOptions { publish: true, ..SiteOptions::public(static_dir) }
    }
}

/// Stage one: what a version of the site is made from, read into memory.
/// The only stage that reads the disk.
#[derive(Debug)]
pub struct Sources {
    pub content: Content,
    /// The files of `static/`.
    pub assets: Assets,
}

impl Sources {
    /// Reads the content folder and the static folder, reporting every
    /// problem with either.
    pub fn read(content_dir: &Path, options: &SiteOptions) -> Result<Sources, ContentErrors> {
        let content = content::load(content_dir, LoadOptions { include_drafts: options.dev });
        let assets = Assets::load_cached(&options.static_dir, options.cache.as_ref());
        match (content, assets) {
            (Ok(content), Ok(assets)) => Ok(Sources { content, assets }),
            (content, assets) => {
                let mut errors = content.err().map(|e| e.0).unwrap_or_default();
                errors.extend(assets.err().unwrap_or_default());
                Err(ContentErrors(errors))
            }
        }
    }
}

/// Stage two: one version of `content/` and `static/`, rendered and
/// checked, with every page that shows no comments ready to send. Every
/// [`Site`] built from it shares it, so a new comment leaves it alone.
#[derive(Debug)]
struct Version {
    /// The content as read. Its markdown rendered is not kept: at 5,000
    /// pages that was a quarter of the server's memory, and rendering an
    /// article again when a comment on it is approved takes about a
    /// millisecond (see `Version::render`).
    content: Content,
    assets: Arc<Assets>,
    asset_urls: AssetUrls,
    warnings: Vec<ContentError>,
    dev: bool,
    /// Canonical path (always ending in `/`) to the finished HTML, for the
    /// pages that show no comments.
    pages: HashMap<String, Arc<Prepared>>,
    /// Each article's printable page, by canonical path: its article's
    /// number and, once asked for, the page. A reader rarely prints, and at
    /// 5,000 pages in articles of 50 they were a fifth of the server's
    /// memory (48 MB), so they are prepared on first request, like cards.
    prints: HashMap<String, (usize, OnceLock<Arc<Prepared>>)>,
    /// Pages readers can comment on, by canonical path.
    comment_pages: HashMap<String, CommentPage>,
    /// Every article page, which all take feedback, by canonical path.
    feedback_pages: HashMap<String, CommentPage>,
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
    cache: Option<Cache>,
}

/// One immutable version of the whole site: a [`Version`] of the content
/// with the approved comments on its pages. The public fields are its
/// version's, copied so handlers can read them as fields.
#[derive(Debug)]
pub struct Site {
    pub settings: Settings,
    /// The files of `static/`.
    pub assets: Arc<Assets>,
    pub asset_urls: AssetUrls,
    /// When this version was published, for `Last-Modified`.
    pub built_at: SystemTime,
    /// `built_at` as an HTTP date, written once rather than per response.
    pub last_modified: String,
    /// Problems that did not stop this version going live.
    pub warnings: Vec<ContentError>,
    version: Arc<Version>,
    /// The pages readers can comment on, by canonical path.
    commented: HashMap<String, Commented>,
}

/// A page readers can comment on: the comments it shows (to tell which
/// pages a new set of comments changes) and its HTML.
type Commented = (Vec<CommentView>, Arc<Prepared>);

/// A page that takes comments, as the comment form needs it.
#[derive(Debug, Clone)]
pub(crate) struct CommentPage {
    pub title: String,
    pub url: String,
    pub article_title: String,
    pub article_url: String,
    /// Where its text is: the article's place in the content and the
    /// page's place in the article (0 for the front page).
    article: usize,
    part: usize,
}

impl Site {
    /// Reads the content and static folders and builds the site from them,
    /// with the approved comments: what start-up, a change to either folder
    /// and `build` do. Only this stage reads the disk and the clock.
    pub fn load(content_dir: &Path, options: &SiteOptions, comments: &[Comment]) -> Result<Site, ContentErrors> {
        if let Some(cache) = &options.cache {
            // A new version starts here: what it uses, static files
            // included, is what counts as used from now on.
            cache.begin_version();
        }
        let sources = Sources::read(content_dir, options)?;
        Site::build(sources, options, comments, SystemTime::now())
    }

    /// Renders every page from what was read, as of `now` (for review
    /// dates and `Last-Modified`). Fails with every problem found (warnings
    /// too) when the content has errors; warnings alone are kept for
    /// logging.
    pub fn build(
        sources: Sources,
        options: &SiteOptions,
        comments: &[Comment],
        now: SystemTime,
    ) -> Result<Site, ContentErrors> {
        let today = Date::from_unix(now.duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64));
        let (version, rendered) = Version::new(sources, options, today)?;
        Ok(Site::with_version(Arc::new(version), &rendered, comments, now))
    }

    /// The same content with another set of approved comments: what
    /// moderating a comment publishes. Only the pages whose comments
    /// changed are rendered and compressed again; nothing is read from
    /// disk, and the time comes from the caller. `None` when no page shows
    /// anything different.
    pub fn with_comments(&self, comments: &[Comment], now: SystemTime) -> Option<Site> {
        let changed = self.changed_by(comments);
        if changed.is_empty() {
            return None;
        }
        let mut commented = self.commented.clone();
        // Only the articles of the changed pages are rendered again.
        let mut articles: Vec<usize> = changed.iter().map(|(page, _)| page.article).collect();
        articles.sort_unstable();
        articles.dedup();
        let rendered: HashMap<usize, RenderedPages> =
            articles.into_iter().map(|number| (number, self.version.render(number))).collect();
        commented.extend(self.version.render_commented(changed, |number| &rendered[&number]));
        Some(Site::assemble(self.version.clone(), commented, now))
    }

    /// The pages that would show other comments with `comments` approved,
    /// each with the comments it would show.
    fn changed_by(&self, comments: &[Comment]) -> Vec<(&CommentPage, Vec<CommentView>)> {
        let mut lists = comment_lists(comments);
        self.version
            .comment_pages
            .values()
            .filter_map(|page| {
                let list = lists.remove(page.url.as_str()).unwrap_or_default();
                let shown = self.commented.get(&page.url).map(|(shown, _)| shown);
                (shown != Some(&list)).then_some((page, list))
            })
            .collect()
    }

    /// The first site of a version, with `rendered`, the version's
    /// articles rendered from markdown in content order.
    fn with_version(version: Arc<Version>, rendered: &[RenderedPages], comments: &[Comment], now: SystemTime) -> Site {
        let mut lists = comment_lists(comments);
        let pages = version
            .comment_pages
            .values()
            .map(|page| (page, lists.remove(page.url.as_str()).unwrap_or_default()))
            .collect();
        let commented = version.render_commented(pages, |number| &rendered[number]).into_iter().collect();
        Site::assemble(version, commented, now)
    }

    fn assemble(version: Arc<Version>, commented: HashMap<String, Commented>, built_at: SystemTime) -> Site {
        Site {
            settings: version.content.settings.clone(),
            assets: version.assets.clone(),
            asset_urls: version.asset_urls.clone(),
            built_at,
            last_modified: crate::util::date::httpdate(built_at),
            warnings: version.warnings.clone(),
            version,
            commented,
        }
    }

    /// For the static export, which cannot take posts: at each comment
    /// form's address, a page saying how to reach the clinic instead.
    pub(crate) fn closed_comment_pages(&self) -> Vec<(String, Arc<Prepared>)> {
        let mut pages: Vec<(String, Arc<Prepared>)> = self
            .version
            .comment_pages
            .values()
            .map(|page| {
                let chrome = Chrome::plain(
                    &self.settings,
                    &self.asset_urls,
                    &format!("Share your experience: {}", page.title),
                    &urls::comment_form(&page.url),
                );
                let html = render_html(&CommentsClosedTemplate { chrome, page });
                (urls::comment_form(&page.url), Prepared::html_cached(html, self.cache()))
            })
            .collect();
        pages.sort_by(|a, b| a.0.cmp(&b.0));
        pages
    }

    /// For the static export: at each feedback and report form's address,
    /// a page saying how to reach the clinic instead. The article pages'
    /// "Was this page helpful?" form asks for the first with GET, so in
    /// the export its buttons lead there.
    pub(crate) fn closed_feedback_pages(&self) -> Vec<(String, Arc<Prepared>)> {
        let mut pages: Vec<(String, Arc<Prepared>)> = self
            .version
            .feedback_pages
            .values()
            .flat_map(|page| {
                [(urls::feedback_form(&page.url), FEEDBACK_HEADING), (urls::report_form(&page.url), REPORT_HEADING)]
                    .map(|(url, heading)| {
                        let chrome = Chrome::plain(
                            &self.settings,
                            &self.asset_urls,
                            &format!("{heading}: {}", page.title),
                            &url,
                        );
                        let html = render_html(&FeedbackClosedTemplate { chrome, page, heading });
                        (url, Prepared::html_cached(html, self.cache()))
                    })
            })
            .collect();
        pages.sort_by(|a, b| a.0.cmp(&b.0));
        pages
    }

    /// The article page at `path`: every one takes feedback.
    pub(crate) fn feedback_page(&self, path: &str) -> Option<&CommentPage> {
        self.version.feedback_pages.get(path)
    }

    /// The page at `path` if readers can comment on it.
    pub(crate) fn comment_page(&self, path: &str) -> Option<&CommentPage> {
        self.version.comment_pages.get(path)
    }

    /// The HTML for a canonical path, if it is ready to send: every page
    /// but a printable one nobody has asked for yet (see
    /// [`Site::prepare_page`]).
    pub fn page(&self, path: &str) -> Option<&Arc<Prepared>> {
        self.commented
            .get(path)
            .map(|(_, page)| page)
            .or_else(|| self.version.pages.get(path))
            .or_else(|| self.version.prints.get(path).and_then(|(_, page)| page.get()))
    }

    /// The HTML for a canonical path, making a printable page on its first
    /// request. That takes milliseconds, so the server calls it off the
    /// threads that answer requests, as it draws cards.
    pub fn prepare_page(&self, path: &str) -> Option<&Arc<Prepared>> {
        self.page(path).or_else(|| self.version.print(path))
    }

    /// Whether this version has a page at the canonical path, made yet or
    /// not.
    pub fn has_page(&self, path: &str) -> bool {
        self.page(path).is_some() || self.version.prints.contains_key(path)
    }

    /// Where an old address listed in a page's `aliases` now lives.
    pub fn alias(&self, path: &str) -> Option<&str> {
        self.version.aliases.get(&urls::loose(path)).map(String::as_str)
    }

    /// The canonical path for a variant with other case or slashes.
    pub fn canonical(&self, path: &str) -> Option<&str> {
        self.version.loose.get(&urls::loose(path)).map(String::as_str)
    }

    /// The social card PNG at `/og/...`, drawn on first request (or read
    /// from the cache) and kept for the life of this content version.
    pub fn card(&self, path: &str) -> Option<Arc<Prepared>> {
        let (text, png) = self.version.cards.get(path)?;
        Some(
            png.get_or_init(|| Prepared::shared("image/png", Bytes::from(card::render_png_cached(text, self.cache()))))
                .clone(),
        )
    }

    /// Where this version keeps compressed bodies and cards, if anywhere.
    pub fn cache(&self) -> Option<&Cache> {
        self.version.cache.as_ref()
    }

    pub fn sitemap(&self) -> &Arc<Prepared> {
        &self.version.sitemap
    }

    pub fn robots(&self) -> &Arc<Prepared> {
        &self.version.robots
    }

    pub(crate) fn not_found(&self) -> &Arc<Prepared> {
        &self.version.not_found
    }

    /// Every canonical page path, sorted.
    pub fn paths(&self) -> Vec<&str> {
        let mut paths: Vec<&str> = self
            .version
            .pages
            .keys()
            .chain(self.commented.keys())
            .chain(self.version.prints.keys())
            .map(String::as_str)
            .collect();
        paths.sort_unstable();
        paths
    }

    /// Old addresses and where they lead, in content order.
    pub(crate) fn redirects(&self) -> &[(String, String)] {
        &self.version.redirects
    }

    /// Every article's pages rendered from their markdown, in content
    /// order: for reports on each page (`quality`). Rendered again rather
    /// than kept, like [`Version::render`]; pass them to [`Site::articles`].
    pub(crate) fn render_articles(&self) -> Vec<RenderedPages> {
        RenderedPages::all(&self.version.content, &crate::checks::pictures(&self.version.assets))
    }

    /// Every article beside its pages as `render_articles` rendered them.
    pub(crate) fn articles<'a>(&'a self, rendered: &'a [RenderedPages]) -> Vec<RenderedArticle<'a>> {
        RenderedArticle::all(&self.version.content, rendered)
    }

    /// Every social card path, sorted.
    pub fn card_paths(&self) -> Vec<&str> {
        let mut paths: Vec<&str> = self.version.cards.keys().map(String::as_str).collect();
        paths.sort_unstable();
        paths
    }
}

impl Version {
    /// Renders the markdown, runs every check and renders every page that
    /// shows no comments. Reads neither the disk nor the clock: `today` is
    /// for review dates. Also gives the articles' rendered markdown, in
    /// content order, for the pages that show comments.
    fn new(
        sources: Sources,
        options: &SiteOptions,
        today: Date,
    ) -> Result<(Version, Vec<RenderedPages>), ContentErrors> {
        let Sources { content, assets } = sources;
        let rendered_pages = RenderedPages::all(&content, &crate::checks::pictures(&assets));
        let articles = RenderedArticle::all(&content, &rendered_pages);
        let check = CheckOptions { assets: &assets, static_dir: &options.static_dir, today, publish: options.publish };
        let inspection = crate::checks::inspect_rendered(&content, &articles, &check);
        if inspection.errors() > 0 {
            return Err(ContentErrors(inspection.problems));
        }
        let cache = options.cache.as_ref();
        let settings = &content.settings;
        let urls = assets.urls();
        let dev = options.dev;

        let mut cards = HashMap::new();
        let mut aliases = HashMap::new();
        let mut redirects = Vec::new();
        let mut comment_pages = HashMap::new();
        let mut feedback_pages = HashMap::new();
        let mut prints = HashMap::new();
        let site_host =
            settings.base_url.split_once("://").map_or(settings.base_url.as_str(), |(_, host)| host).to_string();
        let mut card = |path: String, title: &str, article: Option<&str>| {
            let text = CardText {
                title: title.to_string(),
                article: article.map(String::from),
                clinic: settings.clinic_name.clone(),
                site: site_host.clone(),
            };
            if let Some(cache) = cache {
                // Drawn only when asked for, but used from now on.
                cache.mark_used(&card::cache_key(&text));
            }
            cards.insert(path.clone(), (text, OnceLock::new()));
            path
        };

        let home_card = card(urls::card("/"), &format!("Patient information from {}", settings.clinic_name), None);
        // Templates are quick; compressing is the slow part, so pages are
        // rendered to text first and compressed on every core together.
        let mut html: Vec<(String, String)> = Vec::new();
        html.push((
            "/".to_string(),
            render_html(&HomeTemplate {
                chrome: Chrome { dev, ..home_chrome(settings, &urls, &home_card) },
                articles: cards_for(&articles),
            }),
        ));
        for (number, article) in articles.iter().enumerate() {
            for (index, (page, url, rendered)) in article.pages().enumerate() {
                let card_path = card(urls::card(url), &page.front.title, (index > 0).then_some(article.title()));
                let target = CommentPage {
                    title: page.front.title.clone(),
                    url: url.to_string(),
                    article_title: article.title().to_string(),
                    article_url: article.url().to_string(),
                    article: number,
                    part: index,
                };
                feedback_pages.insert(url.to_string(), target.clone());
                if page.front.comments.unwrap_or(index > 0) {
                    // Rendered with its comments, by `Site`.
                    comment_pages.insert(url.to_string(), target);
                } else {
                    html.push((
                        url.to_string(),
                        render_html(&article_page(settings, &urls, article, index, &card_path, rendered, dev)),
                    ));
                }
                for alias in &page.front.aliases {
                    aliases.insert(urls::loose(alias), url.to_string());
                    redirects.push((alias.clone(), url.to_string()));
                }
            }
            prints.insert(article.print_url(), (number, OnceLock::new()));
        }
        let privacy = PrivacyTemplate {
            chrome: Chrome { dev, noindex: false, ..Chrome::plain(settings, &urls, PRIVACY_TITLE, urls::PRIVACY) },
            comments: &settings.comments,
            counting: options.counting,
        };
        html.push((urls::PRIVACY.to_string(), render_html(&privacy)));
        let not_found = Prepared::html_cached(
            render_html(&NotFoundTemplate {
                chrome: Chrome { dev, ..Chrome::plain(settings, &urls, "Page not found", "/404/") },
                articles: cards_for(&articles),
            }),
            cache,
        );
        let sitemap =
            Prepared::cached("application/xml; charset=utf-8", Bytes::from(sitemap(settings, &articles)), cache);
        let robots = Prepared::cached("text/plain; charset=utf-8", Bytes::from(robots(settings)), cache);
        let pages: HashMap<String, Arc<Prepared>> =
            crate::asset::par_map(html, |(path, html)| (path, Prepared::html_cached(html, cache)))
                .into_iter()
                .collect();
        let loose = pages
            .keys()
            .chain(comment_pages.keys())
            .chain(prints.keys())
            .map(|path| (urls::loose(path), path.clone()))
            .collect();
        // Ends the borrow of `content`, which moves into the version.
        drop(articles);
        let version = Version {
            assets: Arc::new(assets),
            asset_urls: urls,
            warnings: inspection.problems,
            dev,
            pages,
            prints,
            comment_pages,
            feedback_pages,
            loose,
            aliases,
            redirects,
            cards,
            sitemap,
            robots,
            not_found,
            content,
            cache: options.cache.clone(),
        };
        Ok((version, rendered_pages))
    }

    /// Article `number`'s pages rendered from markdown, as `new` rendered
    /// them: the same text and the same static files give the same HTML.
    fn render(&self, number: usize) -> RenderedPages {
        RenderedPages::new(&self.content.articles[number], &crate::checks::pictures(&self.assets))
    }

    /// The printable page at `path`, prepared on the first call and kept
    /// for the life of this version. For an article of 50 pages the first
    /// request took 10-19 ms with the cache's compressed forms and 40-47 ms
    /// without.
    fn print(&self, path: &str) -> Option<&Arc<Prepared>> {
        let (number, page) = self.prints.get(path)?;
        Some(page.get_or_init(|| {
            let rendered = self.render(*number);
            let article = RenderedArticle {
                article: &self.content.articles[*number],
                bibliography: &self.content.bibliography,
                rendered: &rendered,
            };
            let mut print = print_page(&self.content.settings, &self.asset_urls, &article);
            print.chrome.dev = self.dev;
            Prepared::html_cached(render_html(&print), self.cache.as_ref())
        }))
    }

    /// Renders and compresses each page with the comments it is to show;
    /// `rendered` gives the rendered markdown of the article numbered.
    fn render_commented<'r>(
        &self,
        pages: Vec<(&CommentPage, Vec<CommentView>)>,
        rendered: impl Fn(usize) -> &'r RenderedPages + Sync,
    ) -> Vec<(String, Commented)> {
        let settings = &self.content.settings;
        crate::asset::par_map(pages, |(page, list)| {
            let article = RenderedArticle {
                article: &self.content.articles[page.article],
                bibliography: &self.content.bibliography,
                rendered: rendered(page.article),
            };
            let (_, url, rendered) =
                article.pages().nth(page.part).expect("comment pages are recorded from the article's own pages");
            let mut template =
                article_page(settings, &self.asset_urls, &article, page.part, &urls::card(url), rendered, self.dev);
            template.comments = Some(CommentsView { list: list.clone(), form_url: urls::comment_form(url) });
            (page.url.clone(), (list, Prepared::html_cached(render_html(&template), self.cache.as_ref())))
        })
    }
}

fn render_html(template: &impl Template) -> String {
    // Templates only read plain fields, so rendering cannot fail short of a
    // bug in a template; a half page would be worse than stopping.
    template.render().expect("templates render from plain data and cannot fail")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::comments::Status;

    fn comment(id: i64, page: &str, status: Status) -> Comment {
        Comment {
            id,
            page: page.into(),
            name: String::new(),
            body: "Thank you.".into(),
            created_at: 1_764_000_000,
            status,
            reply: None,
            flagged: false,
            flags: Vec::new(),
        }
    }

    fn changed(site: &Site, comments: &[Comment]) -> Vec<String> {
        let mut urls: Vec<String> = site.changed_by(comments).into_iter().map(|(page, _)| page.url.clone()).collect();
        urls.sort();
        urls
    }

    /// The markdown is not kept rendered: approving a comment renders its
    /// article again, which must give the page a fresh build gives.
    #[test]
    fn a_page_rendered_again_for_a_new_comment_is_the_page_a_fresh_build_gives() {
        let options = SiteOptions::public(Path::new("static"));
        let approved = [comment(1, "/guide/second/", Status::Approved)];
        let fresh = Site::load(Path::new("tests/fixtures/valid"), &options, &approved).expect("the fixture builds");
        let before = Site::load(Path::new("tests/fixtures/valid"), &options, &[]).expect("the fixture builds");
        let after = before.with_comments(&approved, SystemTime::now()).expect("one page changes");
        let page = |site: &Site| site.page("/guide/second/").expect("a page").identity.clone();
        assert!(String::from_utf8_lossy(&page(&fresh)).contains("Thank you."));
        assert_eq!(page(&after), page(&fresh));
        assert_ne!(page(&before), page(&fresh));
    }

    #[test]
    fn a_print_page_is_made_when_first_asked_for_and_then_kept() {
        let options = SiteOptions::public(Path::new("static"));
        let site = Site::load(Path::new("tests/fixtures/valid"), &options, &[]).expect("the fixture builds");
        let print = "/guide/print/";
        assert!(site.paths().contains(&print));
        assert!(site.has_page(print) && site.page(print).is_none(), "listed, not made yet");
        let made = site.prepare_page(print).expect("made on request").clone();
        assert!(String::from_utf8_lossy(&made.identity).contains("ready to print"));
        assert!(Arc::ptr_eq(site.page(print).expect("kept"), &made));
        assert!(!site.has_page("/guide/nowhere/") && site.prepare_page("/guide/nowhere/").is_none());
    }

    #[test]
    fn only_pages_whose_comments_change_are_rendered_again() {
        let options = SiteOptions::public(Path::new("static"));
        let site =
            Site::load(Path::new("tests/fixtures/valid"), &options, &[comment(1, "/guide/second/", Status::Approved)])
                .expect("the fixture builds");
        assert!(changed(&site, &[comment(1, "/guide/second/", Status::Approved)]).is_empty());
        assert_eq!(
            changed(
                &site,
                &[comment(1, "/guide/second/", Status::Approved), comment(2, "/guide/first/", Status::Approved)]
            ),
            ["/guide/first/"]
        );
        assert_eq!(
            changed(
                &site,
                &[comment(1, "/guide/second/", Status::Approved), comment(2, "/guide/first/", Status::Pending)]
            ),
            Vec::<String>::new()
        );
        assert_eq!(changed(&site, &[]), ["/guide/second/"], "a comment taken down changes its page");
        let mut replied = comment(1, "/guide/second/", Status::Approved);
        replied.reply = Some("Glad it helped.".into());
        assert_eq!(changed(&site, &[replied]), ["/guide/second/"], "a reply changes its page");
    }
}
