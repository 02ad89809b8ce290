//! Every address the site has, in one place: the pages staff write, the
//! pages and files the site makes itself, and the forms and staff pages the
//! server answers. The words a page or an old address may not take are
//! derived from these, so the router, `check` and the server cannot drift.
//!
//! Page addresses always end in `/` (`/dry-needling/safety/`); other
//! spellings are matched through [`loose`] and redirected.

/// Staff pages: `/admin`, `/admin/login`, ...
pub(crate) const ADMIN: &str = "/admin";
pub(crate) const ADMIN_LOGIN: &str = "/admin/login";
pub(crate) const ADMIN_LOGOUT: &str = "/admin/logout";
/// The second step of signing in, for people with two-step sign-in.
pub(crate) const ADMIN_LOGIN_CODE: &str = "/admin/login/code";
/// A one-time set-password link: `{token}` is the secret part.
pub(crate) const ADMIN_SET_PASSWORD: &str = "/admin/set-password/{token}";
/// Moderators: comments waiting, and those on the pages.
pub(crate) const ADMIN_COMMENTS: &str = "/admin/comments";
/// `{id}` and `{action}` are filled in by the router.
pub(crate) const ADMIN_MODERATE: &str = "/admin/comments/{id}/{action}";
/// Everyone's own account: password, sessions, two-step sign-in.
pub(crate) const ADMIN_ACCOUNT: &str = "/admin/account";
pub(crate) const ADMIN_ACCOUNT_PASSWORD: &str = "/admin/account/password";
pub(crate) const ADMIN_ACCOUNT_SIGN_OUT_OTHERS: &str = "/admin/account/sign-out-everywhere";
pub(crate) const ADMIN_TWO_STEP: &str = "/admin/account/two-step";
/// `{action}`: `start`, `confirm` or `turn-off`.
pub(crate) const ADMIN_TWO_STEP_ACTION: &str = "/admin/account/two-step/{action}";
/// Owners: the staff list, and adding a person (POST).
pub(crate) const ADMIN_STAFF: &str = "/admin/staff";
/// Owners: `{action}` is `roles`, `disable`, `enable` or `reset-password`.
pub(crate) const ADMIN_STAFF_ACTION: &str = "/admin/staff/{username}/{action}";
/// Editors: every page, what needs attention first.
pub(crate) const ADMIN_PAGES: &str = "/admin/pages";
/// Editors: the page editor (GET), and its form (POST: save, save as a
/// draft, or preview without JavaScript).
pub(crate) const ADMIN_PAGE_EDIT: &str = "/admin/pages/{article}/{page}";
/// Editors: the editor's live preview (POST, answered with JSON).
pub(crate) const ADMIN_PAGE_PREVIEW: &str = "/admin/pages/{article}/{page}/preview";
/// Editors: one page's revisions, with a word diff between any two.
pub(crate) const ADMIN_PAGE_HISTORY: &str = "/admin/pages/{article}/{page}/history";
/// Editors: save an earlier revision's text again (POST).
pub(crate) const ADMIN_PAGE_RESTORE: &str = "/admin/pages/{article}/{page}/restore/{revision}";
/// Editors: give a page a new address; the old one keeps leading to it.
pub(crate) const ADMIN_PAGE_RENAME: &str = "/admin/pages/{article}/{page}/rename";
/// Editors: move a page to the trash (GET asks first).
pub(crate) const ADMIN_PAGE_TRASH: &str = "/admin/pages/{article}/{page}/trash";
/// Editors: add a page to an article. Under `articles`, not `pages`, so no
/// page file (`new.md`) can have the same address as the form.
pub(crate) const ADMIN_ARTICLE_NEW: &str = "/admin/articles/{article}/new";
/// Editors: the order of an article's pages.
pub(crate) const ADMIN_ARTICLE_ORDER: &str = "/admin/articles/{article}/order";
/// Editors: pages in the trash.
pub(crate) const ADMIN_TRASH: &str = "/admin/trash";
/// Editors: bring a page back from the trash (POST).
pub(crate) const ADMIN_TRASH_RESTORE: &str = "/admin/trash/{article}/{page}/restore";
/// Owners: the activity record.
pub(crate) const ADMIN_ACTIVITY: &str = "/admin/activity";
/// Editors: uploaded pictures, and uploading one (POST).
pub(crate) const ADMIN_IMAGES: &str = "/admin/images";
/// Moderators and editors: readers' feedback and problem reports.
pub(crate) const ADMIN_FEEDBACK: &str = "/admin/feedback";
/// Moderators and editors: `{action}` is `done` or `reopen` (POST).
pub(crate) const ADMIN_FEEDBACK_REPORT: &str = "/admin/feedback/reports/{id}/{action}";
/// Reviewers: pages never reviewed, changed since review, due, waiting.
pub(crate) const ADMIN_REVIEWS: &str = "/admin/reviews";
/// Editors and reviewers: the quality report, each page's review, sources,
/// grades and readers (`?format=csv` for a spreadsheet).
pub(crate) const ADMIN_QUALITY: &str = "/admin/quality";
/// Reviewers: a page as readers will see it, and signing it off.
pub(crate) const ADMIN_PAGE_SIGN_OFF: &str = "/admin/pages/{article}/{page}/sign-off";
/// Where the reading figures were before the dashboard took them in: sent
/// on to [`ADMIN`], which sends one table as CSV with `?format=csv&table=...`.
pub(crate) const ADMIN_FIGURES: &str = "/admin/figures";
/// Files from `static/`, under plain and content-hashed names.
pub(crate) const STATIC: &str = "/static/";
/// Pictures uploaded from the staff pages: `static/images/` in the static
/// folder, served like every static file.
pub const IMAGES: &str = "/static/images/";
/// Link preview images, one per page.
pub(crate) const CARDS: &str = "/og/";
pub(crate) const HEALTHZ: &str = "/healthz";
pub(crate) const SITEMAP: &str = "/sitemap.xml";
pub(crate) const ROBOTS: &str = "/robots.txt";
/// How comments are handled; linked from every footer.
pub(crate) const PRIVACY: &str = "/privacy/";
/// The share controls' beacon (POST from `share.js`): one use counted.
pub(crate) const SHARE_BEACON: &str = "/share-beacon";
/// Live reload for staff previews (`serve --dev` only).
pub(crate) const DEV_EVENTS: &str = "/_dev/events";
/// The comment form under a page that takes comments: `<page>comment/`.
pub(crate) const COMMENT_FORM: &str = "comment/";
/// "Was this page helpful?" under every article page: `<page>feedback/`.
pub(crate) const FEEDBACK_FORM: &str = "feedback/";
/// "Report a problem with this page" under every article page: `<page>report/`.
pub(crate) const REPORT_FORM: &str = "report/";
/// The printable article under an article: `<article>print/`.
pub(crate) const PRINT: &str = "print/";

/// Router patterns for the comment forms of article front pages and sections.
pub(crate) const COMMENT_FORM_ROUTES: [&str; 2] = ["/{article}/comment/", "/{article}/{section}/comment/"];

/// Router patterns for the feedback forms of article front pages and sections.
pub(crate) const FEEDBACK_FORM_ROUTES: [&str; 2] = ["/{article}/feedback/", "/{article}/{section}/feedback/"];
/// Router patterns for the problem report forms of article front pages and sections.
pub(crate) const REPORT_FORM_ROUTES: [&str; 2] = ["/{article}/report/", "/{article}/{section}/report/"];

/// Every address the server answers itself, as the router registers them.
/// The first segment of each is kept from pages and old addresses.
pub(crate) const SERVER_ROUTES: &[&str] =
    &[ADMIN, STATIC, CARDS, HEALTHZ, SITEMAP, ROBOTS, PRIVACY, DEV_EVENTS, SHARE_BEACON];

/// Words that may not start a page's or an old address's path: each is the
/// first segment of an address in [`SERVER_ROUTES`].
pub(crate) fn reserved_first_segments() -> Vec<&'static str> {
    let mut words: Vec<&str> = SERVER_ROUTES.iter().map(|route| first_segment(route)).collect();
    words.sort_unstable();
    words.dedup();
    words
}

/// Words that may not be a page's own segment under an article, since the
/// article's print page and its pages' forms live there.
pub(crate) fn reserved_page_segments() -> [&'static str; 4] {
    [PRINT, COMMENT_FORM, FEEDBACK_FORM, REPORT_FORM].map(|word| word.trim_end_matches('/'))
}

/// The reserved word a path would collide with, if any: its first segment
/// is the server's, or a later segment is an article's print page or a
/// comment form.
pub(crate) fn reserved_word_in(path: &str) -> Option<&'static str> {
    let mut segments = path.trim_matches('/').split('/');
    let first = segments.next().unwrap_or("").to_ascii_lowercase();
    if let Some(word) = reserved_first_segments().into_iter().find(|w| *w == first) {
        return Some(word);
    }
    let rest: Vec<String> = segments.map(str::to_ascii_lowercase).collect();
    reserved_page_segments().into_iter().find(|word| rest.iter().any(|s| s == word))
}

fn first_segment(path: &str) -> &str {
    path.trim_start_matches('/').split('/').next().unwrap_or("")
}

/// `/dry-needling/`: an article's front page.
pub fn article(slug: &str) -> String {
    format!("/{slug}/")
}

/// `/dry-needling/safety/`: one of an article's sections.
pub fn section(article_url: &str, slug: &str) -> String {
    format!("{article_url}{slug}/")
}

/// `/dry-needling/print/`: the whole article on one page.
pub fn print(article_url: &str) -> String {
    format!("{article_url}{PRINT}")
}

/// `/dry-needling/safety/comment/`: a page's comment form.
pub(crate) fn comment_form(page_url: &str) -> String {
    format!("{page_url}{COMMENT_FORM}")
}

/// The page a comment form belongs to: `/a/b/comment/` -> `/a/b/`.
pub(crate) fn page_of_comment_form(path: &str) -> Option<&str> {
    path.strip_suffix(COMMENT_FORM)
}

/// `/dry-needling/safety/feedback/`: a page's "Was this page helpful?" form.
pub(crate) fn feedback_form(page_url: &str) -> String {
    format!("{page_url}{FEEDBACK_FORM}")
}

/// `/dry-needling/safety/report/`: a page's "Report a problem" form.
pub(crate) fn report_form(page_url: &str) -> String {
    format!("{page_url}{REPORT_FORM}")
}

/// The page a feedback or report form belongs to: `/a/b/report/` -> `/a/b/`.
pub(crate) fn page_of_feedback_form(path: &str) -> Option<&str> {
    path.strip_suffix(FEEDBACK_FORM).or_else(|| path.strip_suffix(REPORT_FORM))
}

/// `/dry-needling/migraines/` -> `/og/dry-needling/migraines.png`; an
/// article's front page gets `/og/dry-needling/index.png`, the home page
/// `/og/index.png`.
pub fn card(page_url: &str) -> String {
    let trimmed = page_url.trim_matches('/');
    match trimmed.split_once('/') {
        Some((article, section)) => format!("{CARDS}{article}/{section}.png"),
        None if trimmed.is_empty() => format!("{CARDS}index.png"),
        None => format!("{CARDS}{trimmed}/index.png"),
    }
}

/// The form two spellings of one address share (case and trailing slash
/// do not matter), so `/Dry-Needling/Safety` finds `/dry-needling/safety/`.
pub(crate) fn loose(path: &str) -> String {
    path.trim_end_matches('/').to_lowercase()
}

/// Whether a canonical path names a file rather than a page (files keep
/// their exact name; pages end in `/`).
pub fn is_file(path: &str) -> bool {
    path.starts_with(STATIC) || path.starts_with(CARDS)
}

/// An uploaded picture's file name, `knee-brace-3f9a1c2b7d-1600x1067.jpg`:
/// its slug and a hash (together the stem, which one upload's sizes
/// share), then the file's own width and height, so a page can tell the
/// browser each size without reading the files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageName<'a> {
    /// `knee-brace-3f9a1c2b7d`.
    pub stem: &'a str,
    pub width: u32,
    pub height: u32,
    /// `jpg` or `png`.
    pub ext: &'a str,
}

/// Hex digits of the hash in an uploaded picture's name.
pub const IMAGE_HASH_LEN: usize = 10;

impl<'a> ImageName<'a> {
    /// The file name, without its folder.
    pub fn file_name(&self) -> String {
        format!("{}-{}x{}.{}", self.stem, self.width, self.height, self.ext)
    }

    /// Its address under [`IMAGES`].
    pub fn url(&self) -> String {
        format!("{IMAGES}{}", self.file_name())
    }

    /// A file name, or an address under [`IMAGES`], in this form; `None`
    /// for any other file (a picture copied in by hand keeps working, it
    /// just gets no other sizes).
    pub fn parse(name: &'a str) -> Option<ImageName<'a>> {
        let name = name.strip_prefix(IMAGES).unwrap_or(name);
        let (base, ext) = name.rsplit_once('.')?;
        let (stem, size) = base.rsplit_once('-')?;
        let (width, height) = size.split_once('x')?;
        let number = |digits: &str| {
            (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) && !digits.starts_with('0'))
                .then(|| digits.parse::<u32>().ok())
                .flatten()
        };
        let (slug, hash) = stem.rsplit_once('-')?;
        let plain = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-';
        let ok = !slug.is_empty()
            && slug.bytes().all(plain)
            && hash.len() == IMAGE_HASH_LEN
            && hash.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
            && matches!(ext, "jpg" | "png");
        if !ok {
            return None;
        }
        Some(ImageName { stem, width: number(width)?, height: number(height)?, ext })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uploaded_image_names_round_trip_and_nothing_else_parses() {
        let name = ImageName::parse("/static/images/knee-brace-3f9a1c2b7d-1600x1067.jpg").unwrap();
        assert_eq!(name, ImageName { stem: "knee-brace-3f9a1c2b7d", width: 1600, height: 1067, ext: "jpg" });
        assert_eq!(name.url(), "/static/images/knee-brace-3f9a1c2b7d-1600x1067.jpg");
        assert_eq!(
            ImageName::parse("a-0123456789-8x9.png").map(|n| n.file_name()).as_deref(),
            Some("a-0123456789-8x9.png")
        );
        for other in [
            "neck.jpg",
            "knee-3f9a1c2b7d-1600x1067.gif",
            "knee-3F9A1C2B7D-1600x1067.jpg",
            "knee-3f9a1c2b-1600x1067.jpg",
            "knee-3f9a1c2b7d-1600x.jpg",
            "knee-3f9a1c2b7d-0800x533.jpg",
            "-3f9a1c2b7d-1600x1067.jpg",
            // The asset pipeline's hashed name for the same file.
            "knee-3f9a1c2b7d-1600x1067.a1b2c3d4.jpg",
        ] {
            assert_eq!(ImageName::parse(other), None, "{other}");
        }
    }

    #[test]
    fn addresses_are_built_one_way() {
        let article = article("dry-needling");
        assert_eq!(article, "/dry-needling/");
        let safety = section(&article, "safety");
        assert_eq!(safety, "/dry-needling/safety/");
        assert_eq!(print(&article), "/dry-needling/print/");
        assert_eq!(comment_form(&safety), "/dry-needling/safety/comment/");
        assert_eq!(page_of_comment_form("/dry-needling/safety/comment/"), Some("/dry-needling/safety/"));
        assert_eq!(feedback_form(&safety), "/dry-needling/safety/feedback/");
        assert_eq!(report_form(&safety), "/dry-needling/safety/report/");
        assert_eq!(page_of_feedback_form("/dry-needling/safety/report/"), Some("/dry-needling/safety/"));
        assert_eq!(page_of_feedback_form("/dry-needling/feedback/"), Some("/dry-needling/"));
        assert_eq!(card(&safety), "/og/dry-needling/safety.png");
        assert_eq!(card(&article), "/og/dry-needling/index.png");
        assert_eq!(card("/"), "/og/index.png");
        assert_eq!(loose("/Dry-Needling/Safety/"), loose("/dry-needling/safety"));
    }

    #[test]
    fn every_server_address_is_reserved() {
        let reserved = reserved_first_segments();
        assert_eq!(
            reserved,
            ["_dev", "admin", "healthz", "og", "privacy", "robots.txt", "share-beacon", "sitemap.xml", "static"]
        );
        for route in SERVER_ROUTES {
            assert_eq!(
                reserved_word_in(route).map(|w| route.trim_start_matches('/').starts_with(w)),
                Some(true),
                "{route}"
            );
        }
        assert_eq!(reserved_word_in("/Admin/"), Some("admin"));
        assert_eq!(reserved_word_in("/dry-needling/print/"), Some("print"));
        assert_eq!(reserved_word_in("/dry-needling/comment/"), Some("comment"));
        assert_eq!(reserved_word_in("/dry-needling/feedback/"), Some("feedback"));
        assert_eq!(reserved_word_in("/dry-needling/safety/report/"), Some("report"));
        assert_eq!(reserved_word_in("/dry-needling/safety/"), None);
        assert_eq!(reserved_word_in("/administration/"), None);
    }
}
