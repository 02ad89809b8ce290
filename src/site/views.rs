//! What the templates are given: the shared layout, each kind of page's
//! model, and the template structs themselves.

use std::collections::HashMap;

use askama::Template;
use serde_json::json;

use crate::asset::AssetUrls;
use crate::comments::Comment;
use crate::content::{self, Bibliography, Date, Page, Review, Settings};
use crate::render::{self, RenderOptions, Rendered, RenderedArticle, TocEntry};
use crate::util::html::percent_encode;

use super::CommentPage;
use super::seo::*;
use crate::render::reading_minutes;

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
    /// A staff page: its footer is for staff, not the readers' contact
    /// details and medical disclaimer.
    pub staff: bool,
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
            staff: false,
        }
    }

    fn shared(
        settings: &'a Settings,
        assets: &'a AssetUrls,
        title: &str,
        description: &'a str,
        path: &str,
        card: &str,
        kind: &'static str,
    ) -> Self {
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

pub(crate) struct NavItem {
    pub title: String,
    pub url: String,
    pub current: bool,
}

pub(crate) struct Card {
    pub title: String,
    pub url: String,
    pub description: String,
    pub parts: usize,
    pub minutes: usize,
}

pub(crate) struct SectionSummary {
    pub title: String,
    pub url: String,
    pub description: String,
}

/// What a page may honestly say about its review: "Reviewed by ... on ..."
/// only while the text is the one a reviewer signed off; after an edit (or
/// for a review typed by hand) "Updated ... Last clinical review ...";
/// otherwise when it was last updated, and nothing about a review.
pub(crate) struct PageStatus {
    pub review: Option<Review>,
    /// The last review's date when it no longer covers the text.
    pub last_review: Option<Date>,
    pub updated: Option<Date>,
}

impl PageStatus {
    fn of(page: &Page) -> Self {
        let state = page.review_state();
        let review = state.current().cloned();
        let last_review = if review.is_none() { state.last().map(|r| r.on) } else { None };
        PageStatus { review, last_review, updated: page.updated() }
    }
}

/// One entry of a page's reference list.
pub(crate) struct ReferenceView<'a> {
    pub number: usize,
    pub id: String,
    pub reference: &'a content::Reference,
    /// Ids of the markers citing it, for links back to the text; empty for
    /// a source that is listed but not cited in the text.
    pub backlinks: Vec<String>,
}

/// The reference list for one page: its `[^key]` markers' sources in the
/// numbers the markers show, then the sources only listed in front matter.
pub(crate) fn references<'a>(
    page: &Page,
    rendered: &Rendered,
    bibliography: &'a Bibliography,
    prefix: &str,
) -> Vec<ReferenceView<'a>> {
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
pub(crate) struct ShareLinks {
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
            email: format!(
                "mailto:?subject={}&body={}",
                percent_encode(&format!("{title} – {clinic}")),
                percent_encode(&format!("{title}\n\n{url}"))
            ),
            sms: format!("sms:?&body={message}"),
            whatsapp: format!("https://wa.me/?text={message}"),
            facebook: format!("https://www.facebook.com/sharer/sharer.php?u={u}"),
            x: format!("https://x.com/intent/post?text={t}&url={u}"),
        }
    }
}

#[derive(Template)]
#[template(path = "home.html")]
pub(crate) struct HomeTemplate<'a> {
    pub chrome: Chrome<'a>,
    pub articles: Vec<Card>,
}

#[derive(Template)]
#[template(path = "article.html")]
pub(crate) struct ArticleTemplate<'a> {
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
    /// Where "Was this page helpful?" and "Report a problem" go.
    pub feedback: FeedbackView,
    pub prev: Option<NavItem>,
    pub next: Option<NavItem>,
}

/// One section of the printable article.
pub(crate) struct PrintSection<'a> {
    pub title: &'a str,
    pub id: String,
    pub body: String,
    pub references: Vec<ReferenceView<'a>>,
}

#[derive(Template)]
#[template(path = "print.html")]
pub(crate) struct PrintTemplate<'a> {
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
pub(crate) struct CommentsClosedTemplate<'a> {
    pub chrome: Chrome<'a>,
    pub page: &'a CommentPage,
}

#[derive(Template)]
#[template(path = "feedback_closed.html")]
pub(crate) struct FeedbackClosedTemplate<'a> {
    pub chrome: Chrome<'a>,
    pub page: &'a CommentPage,
    pub heading: &'static str,
}

/// The headings of the feedback and report forms, and of their stand-ins
/// in the static export.
pub(crate) const FEEDBACK_HEADING: &str = "Was this page helpful?";
pub(crate) const REPORT_HEADING: &str = "Report a problem with this page";

/// The addresses of an article page's feedback forms. Not per reader: the
/// article page is the same for everyone, so the forms that carry a token
/// are pages of their own.
pub(crate) struct FeedbackView {
    pub form_url: String,
    pub report_url: String,
}

/// Where the privacy notice lives; the footer of every page links to it.
pub(crate) const PRIVACY_TITLE: &str = "How we handle your comments";

/// What is kept when a reader comments, for how long, and how to have it
/// removed. Built from the settings the server enforces, so the notice
/// cannot drift from what happens.
#[derive(Template)]
#[template(path = "privacy.html")]
pub(crate) struct PrivacyTemplate<'a> {
    pub chrome: Chrome<'a>,
    pub comments: &'a content::CommentSettings,
    /// The server counts page views; the static export never does.
    pub counting: bool,
}

#[derive(Template)]
#[template(path = "not_found.html")]
pub(crate) struct NotFoundTemplate<'a> {
    pub chrome: Chrome<'a>,
    pub articles: Vec<Card>,
}

pub(crate) fn cards_for(articles: &[RenderedArticle<'_>]) -> Vec<Card> {
    articles
        .iter()
        .map(|a| Card {
            title: a.title().to_string(),
            url: a.url().to_string(),
            description: a.article.index.front.description.clone(),
            parts: a.article.sections.len() + 1,
            minutes: reading_minutes(a.words()),
        })
        .collect()
}

pub(crate) fn home_chrome<'a>(settings: &'a Settings, assets: &'a AssetUrls, card: &str) -> Chrome<'a> {
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
pub(crate) const OVERVIEW: &str = "Overview";

pub(crate) fn article_page<'a>(
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
        NavItem {
            title: if i == 0 { OVERVIEW.to_string() } else { page.front.title.clone() },
            url: url.to_string(),
            current: i == index,
        }
    };
    let is_index = index == 0;
    let sections = if is_index {
        article
            .article
            .sections
            .iter()
            .zip(&article.rendered.sections)
            .map(|(s, (url, _))| SectionSummary {
                title: s.front.title.clone(),
                url: url.clone(),
                description: s.front.description.clone(),
            })
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
        article_url: article.url().to_string(),
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
        feedback: FeedbackView { form_url: crate::urls::feedback_form(url), report_url: crate::urls::report_form(url) },
        prev: index.checked_sub(1).map(nav),
        next: (index + 1 < all.len()).then(|| nav(index + 1)),
    }
}

/// A page's comments as readers see them.
pub(crate) struct CommentsView {
    pub list: Vec<CommentView>,
    /// The per-visitor form page, kept apart so this page stays the same
    /// for everyone and can be cached (see `http::comments`).
    pub form_url: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CommentView {
    pub name: String,
    pub date: Date,
    /// Plain text: the template escapes it and CSS keeps its line breaks.
    pub body: String,
    pub reply: Option<String>,
}

/// The approved comments as readers see them, by the page they are on.
pub(crate) fn comment_lists(comments: &[Comment]) -> HashMap<&str, Vec<CommentView>> {
    let mut lists: HashMap<&str, Vec<CommentView>> = HashMap::new();
    for c in comments.iter().filter(|c| c.status == crate::comments::Status::Approved) {
        let view = CommentView {
            name: c.display_name().to_string(),
            date: Date::from_unix(c.created_at),
            body: c.body.clone(),
            reply: c.reply.clone(),
        };
        lists.entry(c.page.as_str()).or_default().push(view);
    }
    lists
}

/// The whole article on one page, for printing and handing to patients.
pub(crate) fn print_page<'a>(
    settings: &'a Settings,
    assets: &'a AssetUrls,
    article: &'a RenderedArticle<'_>,
) -> PrintTemplate<'a> {
    let path = article.print_url();
    let online_url = format!("{}{}", settings.base_url, article.url());
    let sections = article
        .pages()
        .enumerate()
        .map(|(i, (page, _, _))| {
            // Each section's own headings go one level down, under the
            // section's title; ids get the section's slug so they stay unique.
            let prefix = format!("{}-", page.slug);
            let shift = if i == 0 { 0 } else { 1 };
            let rendered = render::render_with(
                page.body(),
                &RenderOptions { heading_shift: shift, id_prefix: &prefix, ..RenderOptions::default() },
            );
            let references = references(page, &rendered, article.bibliography, &prefix);
            PrintSection { title: &page.front.title, id: page.slug.clone(), body: rendered.html, references }
        })
        .collect();
    PrintTemplate {
        chrome: Chrome {
            script: true,
            ..Chrome::plain(settings, assets, &format!("Print: {}", article.title()), &path)
        },
        title: article.title(),
        article_url: article.url().to_string(),
        qr_svg: qr_svg(&online_url),
        online_url,
        sections,
        status: PageStatus::of(&article.article.index),
    }
}
