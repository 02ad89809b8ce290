//! The rendered site: every page's HTML, the sitemap, redirects and social
//! cards, built once per content version and then only read. Serving and
//! exporting both start from a [`Site`].
//!
//! `views` holds what the templates are given, `seo` what search engines
//! read (sitemap, robots.txt, structured data, the print page's QR code),
//! and `handle` the live swap of one version for the next.

mod handle;
mod seo;
mod views;

pub use handle::SiteHandle;
pub use views::Chrome;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use askama::Template;
use axum::body::Bytes;

use crate::asset::{AssetUrls, Assets, Prepared};
use crate::card::{self, CardText};
use crate::comments::Comment;
use crate::content::{self, Content, ContentError, ContentErrors, LoadOptions, Settings};
use crate::render::RenderedArticle;
use crate::urls;

use seo::*;
use views::*;

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
        let inspection = crate::checks::inspect_rendered(&content, &articles, &options.static_dir, options.publish);
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


fn render_template(template: &impl Template) -> Arc<Prepared> {
    Prepared::html(render_html(template))
}

fn render_html(template: &impl Template) -> String {
    // Templates only read plain fields, so rendering cannot fail short of a
    // bug in a template; a half page would be worse than stopping.
    template.render().expect("templates render from plain data and cannot fail")
}

