//! The page editor (editors): a page's settings as form fields and its
//! text in a plain text box, the page itself previewed beside them with
//! every problem `check` finds, and saving that never loses what was typed.
//!
//! - A save names the version it started from. If the file has changed
//!   since, the save is refused and both texts are shown side by side;
//!   what was typed is kept as a draft revision meanwhile.
//! - Text with content errors is never written to the page (the site
//!   would not publish it); it is kept as a draft revision instead.
//! - A good save is written atomically and recorded, and the watcher puts
//!   it live; the answer waits (briefly) until it is, so "it is live" is
//!   true when it is said.
//!
//! Everything works without JavaScript: the Preview button sends the form
//! here and the page comes back with the preview. `editor.js` adds the
//! live preview, line numbers, the toolbar and the character count.

use std::time::Duration;

use askama::Template;
use axum::Extension;
use axum::extract::{Path as UrlPath, Query, RawForm, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::{Nav, Staff, admin_chrome, done_at, now, page};
use crate::auth::Actor;
use crate::content::bibliography::Bibliography;
use crate::content::{ContentError, Date, Severity, summary};
use crate::http::AppState;
use crate::http::error::{AppError, blocking, capitalised};
use crate::plain_english::{LONG_SENTENCE_WORDS, PlainWords};
use crate::render::Callout;
use crate::site::{Chrome, PagePreview};
use crate::urls;
use crate::workspace::{Document, Fields, MAX_TEXT_BYTES, SaveError, Segment, diff, structure};

/// The largest form the editor takes: a page at the limit, every byte
/// percent-encoded (three bytes each), with room for the other fields.
/// Anything larger is not a page anyone typed.
pub(super) const EDITOR_FORM_LIMIT: usize = MAX_TEXT_BYTES * 3 + 64 * 1024;

/// How long a save waits for the live site to show it.
const LIVE_WAIT: Duration = Duration::from_secs(3);

/// The page file an address names: `{article}/{page}.md`, each part a
/// plain name (the workspace refuses anything else too).
pub(super) fn file_of(article: &str, name: &str) -> Result<String, AppError> {
    let plain =
        |part: &str| !part.is_empty() && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if plain(article) && plain(name) { Ok(format!("{article}/{name}.md")) } else { Err(AppError::NotFound) }
}

/// One of the page's addresses in the staff area, `pattern` being one of
/// the `urls::ADMIN_PAGE_*` addresses.
pub(super) fn page_address(pattern: &str, file: &str) -> String {
    let (article, name) = file.strip_suffix(".md").and_then(|f| f.split_once('/')).unwrap_or_default();
    pattern.replace("{article}", article).replace("{page}", name)
}

/// What the form sent.
#[derive(Clone)]
struct Sent {
    /// The hash of the version the person started from.
    base: String,
    action: Action,
    message: String,
    /// Mark the plain-English help in the preview.
    marks: bool,
    content: SentPage,
}

/// The page as the form sent it: its fields, or (in the conflict view and
/// the whole-file view) the whole file.
#[derive(Clone)]
enum SentPage {
    Fields { fields: Fields, weight: String },
    Whole(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Save,
    Draft,
    Preview,
}

impl Sent {
    fn parse(body: &[u8]) -> Result<Sent, AppError> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body)
            .map_err(|_| AppError::BadRequest("The form could not be read. Reload the page and try again.".into()))?;
        let one = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
        let all = |name: &str| -> Vec<String> {
            pairs
                .iter()
                .filter(|(k, _)| k == name)
                .map(|(_, v)| v.trim().to_string())
                .filter(|v| !v.is_empty())
                .collect()
        };
        let action = match one("action").as_deref() {
            Some("draft") => Action::Draft,
            Some("preview") => Action::Preview,
            _ => Action::Save,
        };
        let content = match one("whole") {
            Some(text) => SentPage::Whole(text),
            None => {
                let weight = one("weight").unwrap_or_default();
                let fields = Fields {
                    title: one("title").unwrap_or_default().trim().to_string(),
                    description: one("description").unwrap_or_default().trim().to_string(),
                    weight: weight.trim().parse().unwrap_or(0),
                    slug: one("slug").unwrap_or_default().trim().to_string(),
                    aliases: one("aliases")
                        .unwrap_or_default()
                        .lines()
                        .map(str::trim)
                        .filter(|l| !l.is_empty())
                        .map(String::from)
                        .collect(),
                    sources: all("source"),
                    draft: one("draft").is_some(),
                    body: one("body").unwrap_or_default(),
                };
                SentPage::Fields { fields, weight }
            }
        };
        Ok(Sent {
            base: one("base").unwrap_or_default(),
            action,
            message: one("message").unwrap_or_default(),
            marks: one("marks").is_some(),
            content,
        })
    }

    /// What the form asks for that cannot be a page at all, before
    /// anything is saved, each with the field to go to.
    fn mistakes(&self) -> Vec<Mistake> {
        match &self.content {
            SentPage::Fields { weight, .. } if !weight.trim().is_empty() && weight.trim().parse::<i64>().is_err() => {
                vec![Mistake {
                    message: format!("\"{weight}\" is not a number. The order is a whole number, like 3."),
                    target: "field-weight",
                }]
            }
            _ => Vec::new(),
        }
    }

    /// The order as typed, to show again when it is not a number.
    fn weight_typed(&self) -> Option<&str> {
        match &self.content {
            SentPage::Fields { weight, .. } => Some(weight),
            SentPage::Whole(_) => None,
        }
    }
}

/// A setting the form refuses, and the id of its field.
struct Mistake {
    message: String,
    target: &'static str,
}

/// The file's text as the form would have it: the form's fields applied
/// to the version it started from (so settings the form does not show stay
/// as they were), or the whole file it sent. A new web address part keeps
/// the old address in `aliases`, as renaming a page does; one that cannot
/// be taken is a mistake to show, and the text keeps the old address.
fn text_of(state: &AppState, file: &str, sent: &Sent) -> Result<(String, Vec<Mistake>), AppError> {
    match &sent.content {
        SentPage::Whole(text) => {
            // Browsers send a text box's lines ending in \r\n.
            let base = state.workspace.text_with_hash(file, &sent.base)?;
            let crlf = base.as_deref().is_some_and(|b| b.contains("\r\n"));
            Ok((if crlf { text.clone() } else { text.replace("\r\n", "\n") }, Vec::new()))
        }
        SentPage::Fields { fields, .. } => {
            let base = match state.workspace.text_with_hash(file, &sent.base)? {
                Some(text) => text,
                None => state.workspace.current(file)?.0,
            };
            let mut document = Document::parse(&base).map_err(|e| {
                AppError::BadRequest(format!(
                    "The settings at the top of the page cannot be read ({e}). Open \"Edit the whole file\" to fix them."
                ))
            })?;
            let old_slug = document.fields().slug;
            let mut mistakes = Vec::new();
            let mut fields = fields.clone();
            if fields.slug.trim() != old_slug {
                let stem = file.rsplit('/').next().unwrap_or_default().trim_end_matches(".md");
                let slug = Some(fields.slug.trim()).filter(|s| !s.is_empty()).unwrap_or(stem);
                match structure::check_address(&state.workspace, file, slug)
                    .and_then(|new| Ok((structure::page_address(&state.workspace, file)?, new)))
                {
                    Ok((old_url, new_url)) => {
                        document.apply(&fields);
                        structure::keep_old_address(&mut document, &old_url, &new_url);
                        return Ok((document.to_text(), mistakes));
                    }
                    Err(why) => {
                        mistakes.push(Mistake { message: capitalised(&why.to_string()), target: "field-slug" });
                        fields.slug = old_slug;
                    }
                }
            }
            document.apply(&fields);
            Ok((document.to_text(), mistakes))
        }
    }
}

/// A problem as the editor lists it.
pub(super) struct ProblemView {
    /// "Line 12, column 4", or "The page" for one about the whole file.
    place: String,
    line: usize,
    error: bool,
    message: String,
    hint: String,
    /// The id of the form field to go to.
    target: &'static str,
}

/// The problems and the plain-English help, as the editor shows them
/// beside the text (and the live preview sends again as it changes).
#[derive(Template)]
#[template(path = "admin_page_checks.html")]
pub(super) struct ChecksTemplate {
    problems: Vec<ProblemView>,
    summary: String,
    errors_elsewhere: usize,
    grade: String,
    /// "2 sentences over 25 words", ...
    plain: Vec<String>,
}

impl ChecksTemplate {
    fn new(preview: &PagePreview, text: &str, whole: bool) -> ChecksTemplate {
        let lines = front_matter_lines(text);
        let problems = preview
            .problems
            .iter()
            .map(|p| ProblemView {
                place: match (p.line, p.column) {
                    (0, _) => "The page".to_string(),
                    (line, Some(column)) => format!("Line {line}, column {column}"),
                    (line, None) => format!("Line {line}"),
                },
                line: p.line,
                error: p.severity == Severity::Error,
                message: capitalised(&p.message),
                hint: p.hint.as_deref().map(capitalised).unwrap_or_default(),
                target: if whole { "whole-text" } else { target_of(p, &lines) },
            })
            .collect();
        let mut plain = Vec::new();
        if let Some(marked) = &preview.plain {
            if marked.long_sentences > 0 {
                let s = if marked.long_sentences == 1 { "sentence" } else { "sentences" };
                plain.push(format!(
                    "{} {s} over {LONG_SENTENCE_WORDS} words, marked in the preview: try splitting them.",
                    marked.long_sentences
                ));
            }
            for (word, instead) in &marked.words {
                plain.push(format!("\"{word}\": try \"{instead}\"."));
            }
        }
        ChecksTemplate {
            summary: match preview.problems.len() {
                0 => "No problems found.".to_string(),
                _ => format!("{} found.", summary(&preview.problems)),
            },
            problems,
            errors_elsewhere: preview.errors_elsewhere,
            grade: preview.grade.map(|g| format!("{g:.1}")).unwrap_or_default(),
            plain,
        }
    }
}

/// For each line of the file's front matter, the key set on it.
fn front_matter_lines(text: &str) -> Vec<(usize, String)> {
    let Ok(split) = crate::content::front_matter::split(text) else { return Vec::new() };
    let before = text[..split.toml_start].matches('\n').count();
    text[split.toml_start..split.toml_end]
        .lines()
        .enumerate()
        .filter_map(|(n, line)| {
            let key = line.split_once('=')?.0.trim();
            key.chars().all(|c| c.is_ascii_lowercase() || c == '_').then(|| (before + n + 1, key.to_string()))
        })
        .collect()
}

/// The form field a problem is about: the body for problems in the text,
/// the setting's own field for one at the top, the whole file for a
/// setting the form does not show.
fn target_of(problem: &ContentError, lines: &[(usize, String)]) -> &'static str {
    let Some(last_setting) = lines.last().map(|(line, _)| *line) else { return "page-text" };
    if problem.line > last_setting + 1 {
        return "page-text";
    }
    let key = lines.iter().rev().find(|(line, _)| *line <= problem.line).map(|(_, key)| key.as_str());
    let key = key.or_else(|| {
        // A missing setting is reported on the first line: name it.
        ["title", "description"].into_iter().find(|k| problem.message.contains(&format!("\"{k}\"")))
    });
    match key {
        Some("title") => "field-title",
        Some("description") => "field-description",
        Some("weight") => "field-weight",
        Some("slug") => "field-slug",
        Some("aliases") => "field-aliases",
        Some("sources") => "field-sources",
        Some("draft") => "field-draft",
        _ => "whole-file-link",
    }
}

/// A source row: the key chosen, and every source to choose from.
struct SourceRow {
    chosen: String,
}

/// Markdown a toolbar button puts in, and its label.
struct Tool {
    label: &'static str,
    /// What goes before and after the selected text (or the example).
    before: String,
    after: &'static str,
    /// Put in when nothing is selected.
    example: &'static str,
    /// Put on a line of its own.
    block: bool,
}

fn tools() -> Vec<Tool> {
    let mut tools = vec![
        Tool { label: "Heading", before: "## ".into(), after: "", example: "A short heading", block: true },
        Tool { label: "Subheading", before: "### ".into(), after: "", example: "A smaller heading", block: true },
        Tool { label: "Bulleted list", before: "- ".into(), after: "", example: "First point", block: true },
        Tool { label: "Numbered list", before: "1. ".into(), after: "", example: "First step", block: true },
        Tool { label: "Bold", before: "**".into(), after: "**", example: "important words", block: false },
        Tool {
            label: "Link",
            before: "[".into(),
            after: "](https://)",
            example: "words that say where it goes",
            block: false,
        },
    ];
    for callout in Callout::ALL {
        tools.push(Tool {
            label: callout.label(),
            before: format!("> [!{}] {}\n>\n> ", callout.marker(), callout.default_title()),
            after: "",
            example: "What to do",
            block: true,
        });
    }
    tools
}

#[derive(Template)]
#[template(path = "admin_page_edit.html")]
struct EditTemplate<'a> {
    chrome: Chrome<'a>,
    nav: Nav,
    editor_js: String,
    file: String,
    heading: String,
    edit_url: String,
    preview_url: String,
    history_url: String,
    /// The pictures page, coming back here after an upload.
    pictures_url: String,
    /// Where readers find the page, when it has an address.
    live_url: Option<String>,
    base: String,
    /// The form's fields; `None` in the whole-file view.
    fields: Option<FieldsView>,
    /// The whole file, in the whole-file and conflict views.
    whole: String,
    message: String,
    marks: bool,
    /// The rendered [`ChecksTemplate`].
    checks: String,
    preview_html: Option<String>,
    sources: Vec<(String, String)>,
    tools: Vec<Tool>,
    done: Option<String>,
    error: Option<String>,
    mistakes: Vec<Mistake>,
    conflict: Option<ConflictView>,
    max_kib: usize,
}

struct FieldsView {
    title: String,
    description: String,
    weight: String,
    slug: String,
    aliases: String,
    rows: Vec<SourceRow>,
    draft: bool,
    body: String,
    /// The file's line number of the body's first line.
    first_line: usize,
}

/// Both versions after a refused save.
struct ConflictView {
    /// The page now, with the words not in the person's text marked.
    theirs: Vec<Segment>,
    /// The person's text, with the words not in the page marked.
    yours: Vec<Segment>,
    /// The page's text now, for copying.
    current: String,
}

#[derive(Deserialize, Default)]
pub(super) struct EditQuery {
    done: Option<String>,
    /// Show the whole file in one text box.
    whole: Option<String>,
}

pub(super) async fn edit(
    State(state): State<AppState>,
    Extension(staff): Extension<Staff>,
    UrlPath((article, name)): UrlPath<(String, String)>,
    Query(query): Query<EditQuery>,
) -> Result<Response, AppError> {
    let file = file_of(&article, &name)?;
    let (workspace, reading) = (state.workspace.clone(), file.clone());
    let (text, hash, waiting) = blocking(move || {
        let (text, hash) = workspace.current(&reading)?;
        // A change waiting for review, made from the page as it is, is what
        // the next edit should start from: starting from the live text
        // would quietly replace it.
        let waiting = match workspace.pending(&reading)? {
            Some(waiting) if waiting.base_hash.as_deref() == Some(hash.as_str()) => {
                workspace.revision(waiting.id)?.map(|revision| (waiting, revision.text))
            }
            _ => None,
        };
        Ok::<_, AppError>((text, hash, waiting))
    })
    .await?;
    let (text, waiting) = match waiting {
        Some((summary, waiting_text)) => {
            let note = format!(
                "A change to this page is waiting for clinical review (version {}, by {} on {}). The box shows that change; readers still see the reviewed text. Saving again sends your text for review in its place.",
                summary.id,
                summary.author,
                crate::util::date::Date::from_unix(summary.at).long()
            );
            (waiting_text, Some(note))
        }
        None => (text, None),
    };
    let done = match query.done.as_deref() {
        Some("saved") => Some("Saved. The change is on the live site now.".to_string()),
        Some("created") => Some(
            "The page is made, as a draft: readers cannot see it yet. Write its description and text, untick Draft, and save."
                .to_string(),
        ),
        Some("saved-not-live") => Some(
            "Saved. The live site has not shown it yet: another page has a problem that stops the site updating (see the pages list)."
                .to_string(),
        ),
        _ => None,
    };
    let done = match (done, waiting) {
        (Some(done), Some(waiting)) => Some(format!("{done} {waiting}")),
        (done, waiting) => done.or(waiting),
    };
    let whole = query.whole.is_some() || Document::parse(&text).is_err();
    let view = View { text: &text, base: &hash, whole, message: "", marks: true, done, ..View::default() };
    render(&state, &staff, &file, view, StatusCode::OK).await
}

/// What an editor page shows besides the page itself.
#[derive(Default)]
struct View<'t> {
    /// The file's text as typed.
    text: &'t str,
    base: &'t str,
    /// Show the whole file in one box rather than fields.
    whole: bool,
    message: &'t str,
    /// The order as typed, when it may not be a number.
    weight: Option<&'t str>,
    marks: bool,
    done: Option<String>,
    error: Option<String>,
    mistakes: Vec<Mistake>,
    conflict: Option<ConflictView>,
}

async fn render(
    state: &AppState,
    staff: &Staff,
    file: &str,
    view: View<'_>,
    status: StatusCode,
) -> Result<Response, AppError> {
    let (looking, text, marks) = (state.clone(), view.text.to_string(), view.marks);
    let (preview, sources) = {
        let file = file.to_string();
        blocking(move || Ok::<_, AppError>(preview_of(&looking, &file, &text, marks))).await?
    };
    let site = state.site.load();
    let fields = if view.whole {
        None
    } else {
        Document::parse(view.text).ok().map(|document| {
            let fields = document.fields();
            let first_line = view.text[..view.text.len() - fields.body.len()].matches('\n').count() + 1;
            let mut rows: Vec<SourceRow> = fields.sources.iter().map(|key| SourceRow { chosen: key.clone() }).collect();
            // Room to add sources without JavaScript.
            rows.extend((0..2).map(|_| SourceRow { chosen: String::new() }));
            FieldsView {
                title: fields.title,
                description: fields.description,
                weight: view.weight.map_or_else(|| fields.weight.to_string(), str::to_string),
                slug: fields.slug,
                aliases: fields.aliases.join("\n"),
                rows,
                draft: fields.draft,
                body: fields.body,
                first_line,
            }
        })
    };
    let heading = Document::parse(view.text)
        .ok()
        .and_then(|document| document.title().map(str::to_string))
        .filter(|title| !title.trim().is_empty())
        .unwrap_or_else(|| file.to_string());
    let template = EditTemplate {
        chrome: admin_chrome(&site, &format!("Edit {heading}")),
        nav: Nav::new(staff, urls::ADMIN_PAGES),
        editor_js: site.asset_urls.editor_js.clone(),
        file: file.to_string(),
        heading,
        edit_url: page_address(urls::ADMIN_PAGE_EDIT, file),
        preview_url: page_address(urls::ADMIN_PAGE_PREVIEW, file),
        history_url: page_address(urls::ADMIN_PAGE_HISTORY, file),
        pictures_url: format!(
            "{}?page={}",
            urls::ADMIN_IMAGES,
            crate::util::html::percent_encode(&page_address(urls::ADMIN_PAGE_EDIT, file))
        ),
        live_url: preview.url.clone(),
        base: view.base.to_string(),
        whole: if fields.is_none() { view.text.to_string() } else { String::new() },
        fields,
        message: view.message.to_string(),
        marks: view.marks,
        checks: ChecksTemplate::new(&preview, view.text, view.whole)
            .render()
            .map_err(|e| AppError::Internal(format!("the editor's checks could not be rendered: {e}")))?,
        preview_html: preview.html,
        sources,
        tools: tools(),
        done: view.done,
        error: view.error,
        mistakes: view.mistakes,
        conflict: view.conflict,
        max_kib: MAX_TEXT_BYTES / 1024,
    };
    page(status, &template)
}

/// The preview of `text` as `file`, and the sources pages may cite (key,
/// label) for the form's source rows. Reads the content folder.
fn preview_of(state: &AppState, file: &str, text: &str, marks: bool) -> (PagePreview, Vec<(String, String)>) {
    let site = state.site.load();
    let content_dir = &state.config.folders.content;
    let words = marks.then(|| PlainWords::with(&site.settings.plain_english.words));
    let preview =
        site.preview(content_dir, &state.config.folders.static_dir, file, text, words.as_ref(), Date::today());
    let root = std::fs::canonicalize(content_dir).unwrap_or_else(|_| content_dir.to_path_buf());
    let (bibliography, _) = Bibliography::load(content_dir, &root);
    let sources = bibliography
        .entries
        .iter()
        .map(|(key, r)| {
            let who = r.authors.split(',').next().unwrap_or_default().trim();
            let year = r.year.map(|y| format!(" {y}")).unwrap_or_default();
            (key.clone(), format!("{who}{year}: {}", r.title))
        })
        .collect();
    (preview, sources)
}

pub(super) async fn save(
    State(state): State<AppState>,
    Extension(staff): Extension<Staff>,
    UrlPath((article, name)): UrlPath<(String, String)>,
    RawForm(body): RawForm,
) -> Result<Response, AppError> {
    let file = file_of(&article, &name)?;
    let sent = Sent::parse(&body)?;
    let (text, mut mistakes) = {
        let (state, file, sent) = (state.clone(), file.clone(), sent.clone());
        blocking(move || text_of(&state, &file, &sent)).await?
    };
    mistakes.extend(sent.mistakes());
    let whole = matches!(sent.content, SentPage::Whole(_));
    let view = |done, error, mistakes| View {
        text: &text,
        base: &sent.base,
        whole,
        message: &sent.message,
        weight: sent.weight_typed(),
        marks: sent.marks,
        done,
        error,
        mistakes,
        conflict: None,
    };
    if !mistakes.is_empty() {
        let error = Some("The page was not saved: correct the settings marked below.".to_string());
        return render(&state, &staff, &file, view(None, error, mistakes), StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    if text.len() > MAX_TEXT_BYTES {
        let error = Some(format!(
            "The page was not saved: it is {} KiB, more than the {} KiB a page may be. Your text is still here: split it into sections.",
            text.len().div_ceil(1024),
            MAX_TEXT_BYTES / 1024
        ));
        return render(&state, &staff, &file, view(None, error, Vec::new()), StatusCode::PAYLOAD_TOO_LARGE).await;
    }
    if sent.action == Action::Preview {
        return render(&state, &staff, &file, view(None, None, Vec::new()), StatusCode::OK).await;
    }

    let by = Actor::person(&staff.account);
    let (looking, checking, typed) = (state.clone(), file.clone(), text.clone());
    let errors = blocking(move || Ok::<_, AppError>(preview_of(&looking, &checking, &typed, false).0.errors())).await?;
    if sent.action == Action::Draft || errors > 0 {
        let (workspace, saving, typed, base, message) =
            (state.workspace.clone(), file.clone(), text.clone(), sent.base.clone(), sent.message.clone());
        let id = blocking(move || workspace.save_draft(&saving, &typed, &base, &by, &message, now())).await?;
        let (status, done, error) = if errors > 0 {
            let error = format!(
                "Not published: the page has {errors} {} (listed beside the text). Your text is kept as draft version {id}, so nothing is lost: fix the problems and save again.",
                if errors == 1 { "problem that stops it going live" } else { "problems that stop it going live" }
            );
            (StatusCode::UNPROCESSABLE_ENTITY, None, Some(error))
        } else {
            (StatusCode::OK, Some(format!("Kept as draft version {id}. The live page has not changed.")), None)
        };
        return render(&state, &staff, &file, view(done, error, Vec::new()), status).await;
    }

    // The words readers see changed: the page says it was updated today
    // (unless the writer set the date in the whole-file box).
    let text = {
        let (workspace, reading) = (state.workspace.clone(), file.clone());
        let (current, _) = blocking(move || workspace.current(&reading).map_err(AppError::from)).await?;
        match (Document::parse(&current), Document::parse(&text)) {
            (Ok(before), Ok(mut typed)) => {
                if typed.mark_updated(&before, Date::today()) {
                    typed.to_text()
                } else {
                    text.clone()
                }
            }
            _ => text.clone(),
        }
    };

    // With review required, a change to a signed-off page waits for a
    // reviewer and the live page keeps the text that was signed.
    if state.site.load().settings.review.require_review {
        let (workspace, saving, typed, base, message, by) =
            (state.workspace.clone(), file.clone(), text.clone(), sent.base.clone(), sent.message.clone(), by.clone());
        let waited = blocking(move || {
            if !workspace.is_signed_off(&saving)? {
                return Ok::<_, AppError>(None);
            }
            Ok(Some(workspace.save_pending(&saving, &typed, &base, &by, &message, now())))
        })
        .await?;
        match waited {
            None => {}
            Some(Ok(id)) => {
                let done = format!(
                    "Saved for review: the live page keeps the reviewed text until a reviewer signs this off (version {id})."
                );
                return render(&state, &staff, &file, view(Some(done), None, Vec::new()), StatusCode::OK).await;
            }
            Some(Err(SaveError::Conflict { .. })) => {
                let error = "Someone else changed this page while you were editing it, so your text was not saved for review. It is kept as a draft: open the page again and make your change there.".to_string();
                return render(&state, &staff, &file, view(None, Some(error), Vec::new()), StatusCode::CONFLICT).await;
            }
            Some(Err(other)) => return Err(other.into()),
        }
    }

    let live = state.site.subscribe();
    let (workspace, saving, typed, base, message) =
        (state.workspace.clone(), file.clone(), text.clone(), sent.base.clone(), sent.message.clone());
    let saved =
        blocking(move || Ok::<_, AppError>(workspace.save(&saving, &typed, &base, &by, &message, now()))).await?;
    match saved {
        Ok(saved) => {
            let shown = saved.revision.is_none() || published(&state, live).await;
            let edit = page_address(urls::ADMIN_PAGE_EDIT, &file);
            Ok(done_at(&edit, if shown { "saved" } else { "saved-not-live" }))
        }
        Err(SaveError::Conflict { current_text, current_hash }) => {
            let conflict = ConflictView {
                theirs: diff::words(&text, &current_text),
                yours: diff::words(&current_text, &text),
                current: current_text,
            };
            let error = "Someone else changed this page while you were editing it (or it was changed on the server), so your text was not saved over theirs. It is kept as a draft. Compare the two below, make the text in the box the one you want, and save again.".to_string();
            let view = View {
                text: &text,
                base: &current_hash,
                whole: true,
                message: &sent.message,
                marks: sent.marks,
                error: Some(error),
                conflict: Some(conflict),
                ..View::default()
            };
            render(&state, &staff, &file, view, StatusCode::CONFLICT).await
        }
        Err(SaveError::TooLarge { .. }) => {
            let error = Some(format!(
                "The page was not saved: it is more than the {} KiB a page may be.",
                MAX_TEXT_BYTES / 1024
            ));
            render(&state, &staff, &file, view(None, error, Vec::new()), StatusCode::PAYLOAD_TOO_LARGE).await
        }
        Err(other) => Err(other.into()),
    }
}

/// Waits (briefly) for the live site to be rebuilt after a page was
/// written, `live` having been taken before the write: the watcher does it
/// within a few tens of milliseconds, and staff are told a change is live
/// only once it is. `false` if it was not (another page's errors stop the
/// site updating, or the watcher is slow).
pub(super) async fn published(state: &AppState, mut live: tokio::sync::watch::Receiver<u64>) -> bool {
    live.mark_unchanged();
    tokio::time::timeout(LIVE_WAIT, live.changed()).await.is_ok_and(|changed| changed.is_ok())
        && state.site.error().is_none()
}

/// The live preview: the page and its checks for what is typed, as JSON
/// for `editor.js`. Saves nothing.
pub(super) async fn preview(
    State(state): State<AppState>,
    UrlPath((article, name)): UrlPath<(String, String)>,
    RawForm(body): RawForm,
) -> Result<Response, AppError> {
    let file = file_of(&article, &name)?;
    let sent = Sent::parse(&body)?;
    let whole = matches!(sent.content, SentPage::Whole(_));
    let marks = sent.marks;
    let (looking, reading) = (state.clone(), file.clone());
    let (text, preview) = blocking(move || {
        let (text, _) = text_of(&looking, &reading, &sent)?;
        let preview = preview_of(&looking, &reading, &text, marks).0;
        Ok::<_, AppError>((text, preview))
    })
    .await?;
    let checks = ChecksTemplate::new(&preview, &text, whole)
        .render()
        .map_err(|e| AppError::Internal(format!("the editor's checks could not be rendered: {e}")))?;
    let body = serde_json::json!({
        "html": preview.html,
        "checks": checks,
        "errors": preview.errors(),
        "bytes": text.len(),
    });
    let mut response = (StatusCode::OK, body.to_string()).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    Ok(response)
}
