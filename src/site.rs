//! The rendered site: every page's HTML, built once per content version and
//! then only read. Serving and (later) exporting both start from a [`Site`].

use std::collections::HashMap;

use askama::Template;
use axum::body::Bytes;

use crate::content::{Article, Content, ContentError, ContentErrors, Date, Page, Settings, Severity, Source, validate};
use crate::render::{self, Rendered, TocEntry};

/// One immutable version of the whole site.
#[derive(Debug)]
pub struct Site {
    pub settings: Settings,
    /// Canonical path (always ending in `/`) to the finished HTML.
    pages: HashMap<String, Bytes>,
    /// Lowercased path without its trailing slash to the canonical path, so
    /// `/Dry-Needling/Migraines` can be redirected rather than lost.
    loose: HashMap<String, String>,
    not_found: Bytes,
    /// Problems that did not stop this version going live.
    pub warnings: Vec<ContentError>,
}

impl Site {
    /// Renders every page. Fails with every error found when the content
    /// has any; warnings are kept on the site for logging.
    pub fn build(content: &Content) -> Result<Site, ContentErrors> {
        let settings = &content.settings;
        let articles: Vec<RenderedArticle<'_>> = content.articles.iter().map(RenderedArticle::new).collect();

        let checked: Vec<validate::Checked<'_>> = articles
            .iter()
            .flat_map(|a| a.pages())
            .map(|(page, url, rendered)| validate::Checked { page, url, rendered })
            .collect();
        let (errors, warnings): (Vec<_>, Vec<_>) = validate::check(&checked).into_iter().partition(|p| p.severity == Severity::Error);
        if !errors.is_empty() {
            return Err(ContentErrors(errors));
        }

        let mut pages = HashMap::new();
        pages.insert("/".to_string(), render_template(&home_page(settings, &articles)));
        for article in &articles {
            for (index, (page, url, rendered)) in article.pages().enumerate() {
                let html = render_template(&article_page(settings, article, index, page, url, rendered));
                pages.insert(url.to_string(), html);
            }
        }
        let not_found = render_template(&NotFoundTemplate { chrome: Chrome::new(settings, "Page not found", "", "/404", true), articles: cards(&articles) });
        let loose = pages.keys().map(|path| (loose_key(path), path.clone())).collect();
        Ok(Site { settings: settings.clone(), pages, loose, not_found, warnings })
    }

    /// The HTML for a canonical path.
    pub fn page(&self, path: &str) -> Option<&Bytes> {
        self.pages.get(path)
    }

    /// The canonical path for a variant with other case or slashes.
    pub fn canonical(&self, path: &str) -> Option<&str> {
        self.loose.get(&loose_key(path)).map(String::as_str)
    }

    pub fn not_found(&self) -> &Bytes {
        &self.not_found
    }

    /// Every canonical page path, sorted.
    pub fn paths(&self) -> Vec<&str> {
        let mut paths: Vec<&str> = self.pages.keys().map(String::as_str).collect();
        paths.sort_unstable();
        paths
    }
}

fn loose_key(path: &str) -> String {
    path.trim_end_matches('/').to_lowercase()
}

fn render_template(template: &impl Template) -> Bytes {
    // Templates only read plain fields, so rendering cannot fail short of a
    // bug in a template; a half page would be worse than stopping.
    Bytes::from(template.render().expect("templates render from plain data and cannot fail"))
}

/// An article with each page rendered and given its address.
struct RenderedArticle<'c> {
    article: &'c Article,
    url: String,
    index: (String, Rendered),
    sections: Vec<(String, Rendered)>,
}

impl<'c> RenderedArticle<'c> {
    fn new(article: &'c Article) -> Self {
        let url = format!("/{}/", article.slug);
        let index = (url.clone(), render::render(article.index.body()));
        let sections = article.sections.iter().map(|s| (format!("{url}{}/", s.slug), render::render(s.body()))).collect();
        RenderedArticle { article, url, index, sections }
    }

    /// The front page then the sections, in reading order.
    fn pages(&self) -> impl Iterator<Item = (&'c Page, &str, &Rendered)> + '_ {
        std::iter::once((&self.article.index, self.index.0.as_str(), &self.index.1))
            .chain(self.article.sections.iter().zip(&self.sections).map(|(page, (url, r))| (page, url.as_str(), r)))
    }

    fn words(&self) -> usize {
        self.pages().map(|(_, _, r)| r.words).sum()
    }
}

/// Reading speed for the "minute read" line: a steady adult pace for plain
/// health text, rounded up so nobody is told less than it takes.
const WORDS_PER_MINUTE: usize = 200;

fn reading_minutes(words: usize) -> usize {
    words.div_ceil(WORDS_PER_MINUTE).max(1)
}

/// What the shared layout needs: `<head>`, header and footer.
pub struct Chrome<'a> {
    pub settings: &'a Settings,
    /// The `<title>`: page first, clinic last, so tabs stay telling apart.
    pub title: String,
    pub description: &'a str,
    /// Absolute URL of this page.
    pub canonical: String,
    /// Error pages are not for search engines.
    pub noindex: bool,
}

impl<'a> Chrome<'a> {
    fn new(settings: &'a Settings, title: &str, description: &'a str, path: &str, noindex: bool) -> Self {
        Chrome {
            settings,
            title: format!("{title} – {}", settings.clinic_name),
            description,
            canonical: format!("{}{path}", settings.base_url),
            noindex,
        }
    }
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

pub struct Review {
    pub last: Date,
    pub next: Date,
    pub by: Option<String>,
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
    pub article_title: String,
    pub article_url: String,
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
    pub sources: &'a [Source],
    pub review: Review,
    pub prev: Option<NavItem>,
    pub next: Option<NavItem>,
}

#[derive(Template)]
#[template(path = "not_found.html")]
pub struct NotFoundTemplate<'a> {
    pub chrome: Chrome<'a>,
    pub articles: Vec<Card>,
}

fn cards(articles: &[RenderedArticle<'_>]) -> Vec<Card> {
    articles
        .iter()
        .map(|a| Card {
            title: a.article.index.front.title.clone(),
            url: a.url.clone(),
            description: a.article.index.front.description.clone(),
            parts: a.article.sections.len() + 1,
            minutes: reading_minutes(a.words()),
        })
        .collect()
}

fn home_page<'a>(settings: &'a Settings, articles: &[RenderedArticle<'_>]) -> HomeTemplate<'a> {
    let mut chrome = Chrome::new(settings, "Patient information", "", "/", false);
    chrome.title = format!("Patient information from {}", settings.clinic_name);
    HomeTemplate { chrome, articles: cards(articles) }
}

/// The label of the article's front page in its contents list.
const OVERVIEW: &str = "Overview";

fn article_page<'a>(
    settings: &'a Settings,
    article: &'a RenderedArticle<'_>,
    index: usize,
    page: &'a Page,
    url: &str,
    rendered: &'a Rendered,
) -> ArticleTemplate<'a> {
    let all: Vec<(&Page, &str, &Rendered)> = article.pages().collect();
    let nav = |i: usize| {
        let (page, url, _) = all[i];
        NavItem { title: if i == 0 { OVERVIEW.to_string() } else { page.front.title.clone() }, url: url.to_string(), current: i == index }
    };
    let is_index = index == 0;
    let sections = if is_index {
        article.article.sections.iter().zip(&article.sections).map(|(s, (url, _))| SectionSummary {
            title: s.front.title.clone(),
            url: url.clone(),
            description: s.front.description.clone(),
        }).collect()
    } else {
        Vec::new()
    };
    ArticleTemplate {
        chrome: Chrome::new(settings, &page.front.title, &page.front.description, url, false),
        article_title: article.article.index.front.title.clone(),
        article_url: article.url.clone(),
        title: page.front.title.clone(),
        is_index,
        part: index + 1,
        parts: all.len(),
        minutes: reading_minutes(rendered.words),
        contents: (0..all.len()).map(nav).collect(),
        toc: render::table_of_contents(&rendered.headings),
        body: &rendered.html,
        sections,
        sources: &page.front.sources,
        review: Review { last: page.front.last_reviewed, next: page.front.next_review(), by: page.front.reviewed_by.clone() },
        prev: index.checked_sub(1).map(nav),
        next: (index + 1 < all.len()).then(|| nav(index + 1)),
    }
}
