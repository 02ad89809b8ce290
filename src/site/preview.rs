//! A page as it would be if saved: for the staff editor's preview.
//!
//! The preview is the page itself: the text typed is put in place of the
//! file in the content as read from disk, the whole content is rendered and
//! checked as a build would, and the page goes through the same template
//! with the live site's styles and comments. Only two things differ, both
//! for the member of staff: a draft says it is one, and the plain-English
//! help may be marked in the text. Nothing is compressed and nothing is
//! kept, so previewing costs one render of the content, not a build.

use std::path::Path;

use crate::checks::CheckOptions;
use crate::content::{self, ContentError, Date, LoadOptions, Page, Severity};
use crate::plain_english::{self, Marked, PlainWords};
use crate::render::{RenderedArticle, RenderedPages};
use crate::urls;

use super::views::{CommentsView, article_page};
use super::{Site, render_html};

/// What the editor shows beside the text.
#[derive(Debug, Clone, Default)]
pub struct PagePreview {
    /// The page's HTML, as the live site would send it; `None` when the
    /// text cannot be read as a page at all (a mistake in the settings at
    /// the top), and the problems say why.
    pub html: Option<String>,
    /// Where readers would find the page.
    pub url: Option<String>,
    /// Every problem `check` finds on this page, in file order.
    pub problems: Vec<ContentError>,
    /// Errors on other pages, which keep the site from publishing any
    /// change until they are fixed.
    pub errors_elsewhere: usize,
    /// The Flesch-Kincaid grade of the page's text.
    pub grade: Option<f64>,
    /// The plain-English help found, when it was asked for.
    pub plain: Option<Marked>,
}

impl PagePreview {
    pub fn errors(&self) -> usize {
        self.problems.iter().filter(|p| p.severity == Severity::Error).count()
    }
}

impl Site {
    /// The page at `file` (`dry-needling/safety.md`, inside `content_dir`)
    /// with `text` as its whole file. Reads the content folder; the static
    /// files are this version's. With `plain`, long sentences and words
    /// with plainer alternatives are marked in the page's text.
    pub fn preview(
        &self,
        content_dir: &Path,
        static_dir: &Path,
        file: &str,
        text: &str,
        plain: Option<&PlainWords>,
        today: Date,
    ) -> PagePreview {
        let path = content_dir.join(file);
        let (content, mut elsewhere) = content::load_all(content_dir, LoadOptions { include_drafts: true });
        // The file's old problems are the old text's; this text gets its own.
        elsewhere.retain(|p| p.path != path);
        let errors_elsewhere = |problems: &[ContentError]| {
            problems.iter().filter(|p| p.severity == Severity::Error && p.path != path).count()
        };
        let mut page = match Page::parse(&path, text.to_string()) {
            Ok(page) => page,
            Err(problems) => {
                return PagePreview {
                    problems,
                    errors_elsewhere: errors_elsewhere(&elsewhere),
                    ..PagePreview::default()
                };
            }
        };
        let Some(mut content) = content else {
            return PagePreview { errors_elsewhere: errors_elsewhere(&elsewhere).max(1), ..PagePreview::default() };
        };
        // "Last updated" falls back to the file's date: the file's own if
        // the text is unchanged, today's if saving would change it.
        let on_disk = content.articles.iter().flat_map(|a| std::iter::once(&a.index).chain(&a.sections));
        page.modified = match on_disk.into_iter().find(|p| p.path == path) {
            Some(old) if old.source == text => old.modified,
            _ => Some(today),
        };
        if !content.put_page(page) {
            let problem = ContentError::new(&path, 0, "this page is not in an article folder the site can read")
                .hint("pages live in an article folder next to its index.md");
            return PagePreview { problems: vec![problem], ..PagePreview::default() };
        }
        let rendered = RenderedPages::all(&content, &crate::checks::pictures(&self.assets));
        let articles = RenderedArticle::all(&content, &rendered);
        let options = CheckOptions { assets: &self.assets, static_dir, today, publish: false };
        let inspection = crate::checks::inspect_rendered(&content, &articles, &options);
        let (mut problems, others): (Vec<ContentError>, Vec<ContentError>) =
            inspection.problems.into_iter().partition(|p| p.path == path);
        problems.sort_by_key(|p| (p.line, p.column));
        elsewhere.extend(others);
        let grade = inspection.pages.iter().find(|stats| stats.path == path).map(|stats| stats.readability.grade());

        let settings = &content.settings;
        let found = articles.iter().find_map(|article| {
            let index = article.pages().position(|(page, _, _)| page.path == path)?;
            Some((article, index))
        });
        let Some((article, index)) = found else {
            return PagePreview {
                problems,
                grade,
                errors_elsewhere: errors_elsewhere(&elsewhere),
                ..Default::default()
            };
        };
        let (page, url, rendered) = article.pages().nth(index).expect("the index was just found");
        let mut rendered = rendered.clone();
        let marked = plain.map(|words| {
            let marked = plain_english::mark(&rendered.html, words);
            rendered.html.clone_from(&marked.html);
            marked
        });
        let mut template = article_page(settings, &self.asset_urls, article, index, &urls::card(url), &rendered, false);
        template.draft = page.is_draft();
        if page.front.comments.unwrap_or(index > 0) {
            let list = self.commented.get(url).map(|(list, _)| list.clone()).unwrap_or_default();
            template.comments = Some(CommentsView { list, form_url: urls::comment_form(url) });
        }
        PagePreview {
            html: Some(render_html(&template)),
            url: Some(url.to_string()),
            problems,
            errors_elsewhere: errors_elsewhere(&elsewhere),
            grade,
            plain: marked,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::plain_english::PlainWords;
    use crate::site::SiteOptions;

    fn site() -> Site {
        Site::load(Path::new("content"), &SiteOptions::public(Path::new("static")), &[]).expect("the content builds")
    }

    fn today() -> Date {
        Date::today()
    }

    /// With the file's own text, the preview is the live page byte for
    /// byte: the same pipeline and templates, nothing imitated.
    #[test]
    fn the_preview_of_an_unchanged_page_is_the_live_page() {
        let site = site();
        for file in ["dry-needling/index.md", "dry-needling/safety.md", "dry-needling/migraines.md"] {
            let text = std::fs::read_to_string(Path::new("content").join(file)).unwrap();
            let preview = site.preview(Path::new("content"), Path::new("static"), file, &text, None, today());
            let url = preview.url.clone().expect("the page has an address");
            let live = site.page(&url).expect("the page is live");
            assert_eq!(preview.html.as_deref(), Some(std::str::from_utf8(&live.identity).unwrap()), "{file}");
            assert_eq!(preview.errors(), 0, "{file}: {:?}", preview.problems);
        }
    }

    #[test]
    fn the_preview_shows_the_typed_text_and_its_problems_with_their_lines() {
        let site = site();
        let file = "dry-needling/safety.md";
        let text = std::fs::read_to_string(Path::new("content").join(file)).unwrap();
        let changed = text.replacen("Possible Side Effects", "Possible Side Effects [a link](/nowhere/)", 1);
        let preview = site.preview(Path::new("content"), Path::new("static"), file, &changed, None, today());
        assert!(preview.html.as_deref().is_some_and(|html| html.contains("a link")));
        let line = changed.lines().position(|l| l.contains("[a link]")).unwrap() + 1;
        let problem = preview.problems.iter().find(|p| p.message.contains("/nowhere/")).expect("the broken link");
        assert_eq!((problem.severity, problem.line), (Severity::Error, line));
    }

    #[test]
    fn broken_settings_at_the_top_give_problems_and_no_page() {
        let preview = site().preview(
            Path::new("content"),
            Path::new("static"),
            "dry-needling/safety.md",
            "+++\ntitle = \n+++\nHi",
            None,
            today(),
        );
        assert!(preview.html.is_none());
        assert!(preview.errors() > 0);
        assert!(preview.problems.iter().all(|p| p.line >= 1), "{:?}", preview.problems);
    }

    #[test]
    fn plain_english_help_is_marked_only_when_asked_for() {
        let site = site();
        let file = "dry-needling/safety.md";
        let text = std::fs::read_to_string(Path::new("content").join(file)).unwrap();
        let changed = text.replacen("Like any treatment,", "Like any treatment, and prior to it,", 1);
        let words = PlainWords::with(&Default::default());
        let helped = site.preview(Path::new("content"), Path::new("static"), file, &changed, Some(&words), today());
        assert!(helped.html.unwrap().contains("data-plain=\"before\">prior to</mark>"));
        assert_eq!(helped.plain.unwrap().words, [("prior to".to_string(), "before".to_string())]);
        let plain = site.preview(Path::new("content"), Path::new("static"), file, &changed, None, today());
        assert!(!plain.html.unwrap().contains("<mark"));
    }
}
