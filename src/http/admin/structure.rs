//! Changing an article's structure (editors): adding a page, changing a
//! page's address, putting the pages in order, and the trash. The work is
//! `workspace::structure`'s; this module turns forms into its calls and
//! its refusals into the form again, with the reason and what was typed.

use askama::Template;
use axum::Extension;
use axum::extract::{Form, Path as UrlPath, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::{Nav, Staff, admin_chrome, done_at, now, page};
use crate::auth::Actor;
use crate::http::AppState;
use crate::http::error::{AppError, blocking, capitalised};
use crate::site::Chrome;
use crate::urls;
use crate::util::date::moment;
use crate::workspace::structure::MAX_SLUG_CHARS;
use crate::workspace::{PageAddress, RevisionSummary, SaveError, StructureError};

/// A part of a staff address that names an article folder or a page file:
/// a plain name (the workspace refuses anything else too).
fn plain(part: &str) -> Result<&str, AppError> {
    let ok = !part.is_empty() && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok { Ok(part) } else { Err(AppError::NotFound) }
}

/// `{article}/{page}.md` from an address's parts.
fn file_of(article: &str, name: &str) -> Result<String, AppError> {
    Ok(format!("{}/{}.md", plain(article)?, plain(name)?))
}

fn fill(pattern: &str, article: &str, name: &str) -> String {
    pattern.replace("{article}", article).replace("{page}", name)
}

/// `dry-needling/safety.md` -> (`dry-needling`, `safety`).
fn parts(file: &str) -> (&str, &str) {
    file.strip_suffix(".md").and_then(|f| f.split_once('/')).unwrap_or_default()
}

/// The page editor's address for a page file.
pub(crate) fn edit_address(file: &str) -> String {
    let (article, name) = parts(file);
    fill(urls::ADMIN_PAGE_EDIT, article, name)
}

/// Where a page's address is changed; for the pages list.
pub(crate) fn rename_address(file: &str) -> String {
    let (article, name) = parts(file);
    fill(urls::ADMIN_PAGE_RENAME, article, name)
}

/// Where a page is moved to the trash; for the pages list.
pub(crate) fn trash_address(file: &str) -> String {
    let (article, name) = parts(file);
    fill(urls::ADMIN_PAGE_TRASH, article, name)
}

/// Where a page is added to the article whose front page is `file`.
pub(crate) fn new_page_address(file: &str) -> String {
    urls::ADMIN_ARTICLE_NEW.replace("{article}", parts(file).0)
}

/// Where the pages of the article whose front page is `file` are ordered.
pub(crate) fn order_address(file: &str) -> String {
    urls::ADMIN_ARTICLE_ORDER.replace("{article}", parts(file).0)
}

/// A refusal to show with the form again, and its status; anything else
/// (a missing article, a failed disk) is an error page.
fn refusal(error: StructureError) -> Result<(StatusCode, String), AppError> {
    use StructureError as E;
    let status = match &error {
        E::Taken { .. }
        | E::OldAddress { .. }
        | E::FileExists { .. }
        | E::Changed
        | E::NotInTrash { .. }
        | E::BadOrder { .. }
        | E::Save(SaveError::Conflict { .. }) => StatusCode::CONFLICT,
        E::NoTitle | E::InvalidSlug { .. } | E::Reserved { .. } | E::FrontPage { .. } | E::Unreadable { .. } => {
            StatusCode::UNPROCESSABLE_ENTITY
        }
        E::NoSuchArticle { .. } | E::Save(_) => return Err(error.into()),
    };
    Ok((status, capitalised(&error.to_string())))
}

#[derive(Deserialize, Default)]
pub(super) struct Done {
    done: Option<String>,
}

// ---- A new page ----

#[derive(Template)]
#[template(path = "admin_page_new.html")]
struct NewPageTemplate<'a> {
    chrome: Chrome<'a>,
    nav: Nav,
    article: PageAddress,
    action: String,
    title: String,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
pub(super) struct NewPageForm {
    #[serde(default)]
    title: String,
}

async fn new_page_form(
    state: &AppState,
    staff: &Staff,
    article: &str,
    status: StatusCode,
    title: String,
    error: Option<String>,
) -> Result<Response, AppError> {
    let (workspace, looking) = (state.workspace.clone(), article.to_string());
    let (front, _) = blocking(move || workspace.article_pages(&looking)).await?;
    let site = state.site.load();
    page(
        status,
        &NewPageTemplate {
            chrome: admin_chrome(&site, &format!("Add a page to {}", front.title)),
            nav: Nav::new(staff, urls::ADMIN_PAGES),
            action: urls::ADMIN_ARTICLE_NEW.replace("{article}", article),
            article: front,
            title,
            error,
        },
    )
}

pub(super) async fn new_page(
    State(state): State<AppState>,
    Extension(staff): Extension<Staff>,
    UrlPath(article): UrlPath<String>,
) -> Result<Response, AppError> {
    new_page_form(&state, &staff, plain(&article)?, StatusCode::OK, String::new(), None).await
}

pub(super) async fn add_page(
    State(state): State<AppState>,
    Extension(staff): Extension<Staff>,
    UrlPath(article): UrlPath<String>,
    Form(form): Form<NewPageForm>,
) -> Result<Response, AppError> {
    let article = plain(&article)?.to_string();
    let (workspace, by, into, title) =
        (state.workspace.clone(), Actor::person(&staff.account), article.clone(), form.title.clone());
    let added = blocking(move || Ok::<_, AppError>(workspace.new_page(&into, &title, &by, now()))).await?;
    match added {
        Ok(new) => Ok(done_at(&edit_address(&new.path), "created")),
        Err(error) => {
            let (status, why) = refusal(error)?;
            new_page_form(&state, &staff, &article, status, form.title, Some(why)).await
        }
    }
}

// ---- A new address ----

#[derive(Template)]
#[template(path = "admin_page_rename.html")]
struct RenameTemplate<'a> {
    chrome: Chrome<'a>,
    nav: Nav,
    file: String,
    title: String,
    action: String,
    history: String,
    /// `/dry-needling/`: what the new address starts with.
    article_url: String,
    url: String,
    aliases: Vec<String>,
    base: String,
    /// What the field holds: the slug typed, or the page's now.
    slug: String,
    max: usize,
    done: bool,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
pub(super) struct RenameForm {
    #[serde(default)]
    slug: String,
    #[serde(default)]
    base: String,
}

async fn rename_form(
    state: &AppState,
    staff: &Staff,
    file: &str,
    status: StatusCode,
    typed: Option<String>,
    done: bool,
    error: Option<String>,
) -> Result<Response, AppError> {
    let (workspace, looking) = (state.workspace.clone(), file.to_string());
    let (here, (_, base)) = blocking(move || {
        let all = workspace.addresses();
        let here = all.into_iter().find(|page| page.file == looking);
        let here = here.ok_or_else(|| SaveError::NotFound { path: looking.clone() })?;
        Ok::<_, StructureError>((here, workspace.current(&looking)?))
    })
    .await?;
    if here.is_index {
        return Err(AppError::NotFound);
    }
    let slug_now = here.url.trim_end_matches('/').rsplit('/').next().unwrap_or("").to_string();
    let article_url = here.url.strip_suffix(&format!("{slug_now}/")).unwrap_or("/").to_string();
    let (article, name) = parts(file);
    let site = state.site.load();
    page(
        status,
        &RenameTemplate {
            chrome: admin_chrome(&site, &format!("Change the address of {}", here.title)),
            nav: Nav::new(staff, urls::ADMIN_PAGES),
            file: file.to_string(),
            title: here.title,
            action: fill(urls::ADMIN_PAGE_RENAME, article, name),
            history: fill(urls::ADMIN_PAGE_HISTORY, article, name),
            article_url,
            url: here.url,
            aliases: here.aliases,
            base,
            slug: typed.unwrap_or(slug_now),
            max: MAX_SLUG_CHARS,
            done,
            error,
        },
    )
}

pub(super) async fn rename_page(
    State(state): State<AppState>,
    Extension(staff): Extension<Staff>,
    UrlPath((article, name)): UrlPath<(String, String)>,
    Query(query): Query<Done>,
) -> Result<Response, AppError> {
    let file = file_of(&article, &name)?;
    let done = query.done.as_deref() == Some("renamed");
    rename_form(&state, &staff, &file, StatusCode::OK, None, done, None).await
}

pub(super) async fn rename(
    State(state): State<AppState>,
    Extension(staff): Extension<Staff>,
    UrlPath((article, name)): UrlPath<(String, String)>,
    Form(form): Form<RenameForm>,
) -> Result<Response, AppError> {
    let file = file_of(&article, &name)?;
    let (workspace, by, renaming, slug) =
        (state.workspace.clone(), Actor::person(&staff.account), file.clone(), form.slug.clone());
    let renamed =
        blocking(move || Ok::<_, AppError>(workspace.rename(&renaming, &slug, &form.base, &by, now()))).await?;
    match renamed {
        Ok(_) => Ok(done_at(&fill(urls::ADMIN_PAGE_RENAME, &article, &name), "renamed")),
        Err(error) => {
            let (status, why) = refusal(error)?;
            rename_form(&state, &staff, &file, status, Some(form.slug), false, Some(why)).await
        }
    }
}

// ---- The order of an article's pages ----

/// A page in the order form.
struct OrderRow {
    page: PageAddress,
    /// What its place field holds.
    place: String,
}

#[derive(Template)]
#[template(path = "admin_order.html")]
struct OrderTemplate<'a> {
    chrome: Chrome<'a>,
    nav: Nav,
    front: PageAddress,
    action: String,
    rows: Vec<OrderRow>,
    done: bool,
    error: Option<String>,
}

/// The field that holds a page's place: `place-safety`.
fn place_field(page: &PageAddress) -> String {
    format!("place-{}", page.name())
}

async fn order_form(
    state: &AppState,
    staff: &Staff,
    article: &str,
    status: StatusCode,
    typed: &[(String, String)],
    done: bool,
    error: Option<String>,
) -> Result<Response, AppError> {
    let (workspace, looking) = (state.workspace.clone(), article.to_string());
    let (front, pages) = blocking(move || workspace.article_pages(&looking)).await?;
    let rows = (1..)
        .zip(pages)
        .map(|(place, page)| {
            let field = place_field(&page);
            let place =
                typed.iter().find(|(key, _)| *key == field).map_or_else(|| place.to_string(), |(_, v)| v.clone());
            OrderRow { page, place }
        })
        .collect();
    let site = state.site.load();
    page(
        status,
        &OrderTemplate {
            chrome: admin_chrome(&site, &format!("The order of the pages in {}", front.title)),
            nav: Nav::new(staff, urls::ADMIN_PAGES),
            action: urls::ADMIN_ARTICLE_ORDER.replace("{article}", article),
            front,
            rows,
            done,
            error,
        },
    )
}

pub(super) async fn order_page(
    State(state): State<AppState>,
    Extension(staff): Extension<Staff>,
    UrlPath(article): UrlPath<String>,
    Query(query): Query<Done>,
) -> Result<Response, AppError> {
    let done = query.done.as_deref() == Some("ordered");
    order_form(&state, &staff, plain(&article)?, StatusCode::OK, &[], done, None).await
}

/// Why the order form was not saved: what was typed, or the workspace's
/// refusal.
enum NotOrdered {
    Typed(String),
    Refused(StructureError),
}

/// The pages in the order their places say; pages given the same place
/// keep the order they had. Each page needs a whole number.
fn ordered(pages: &[PageAddress], fields: &[(String, String)]) -> Result<Vec<String>, String> {
    let mut placed = Vec::new();
    for (before, page) in pages.iter().enumerate() {
        let typed = fields.iter().find(|(key, _)| *key == place_field(page)).map(|(_, value)| value.trim());
        let Some(typed) = typed else {
            return Err(format!("{} was not in the form: reload the page and try again", page.title));
        };
        let place: i64 = typed
            .parse()
            .map_err(|_| format!("the place of \"{}\" must be a whole number, like 1, 2 or 3", page.title))?;
        placed.push((place, before, page.file.clone()));
    }
    placed.sort();
    Ok(placed.into_iter().map(|(_, _, file)| file).collect())
}

pub(super) async fn reorder(
    State(state): State<AppState>,
    Extension(staff): Extension<Staff>,
    UrlPath(article): UrlPath<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let article = plain(&article)?.to_string();
    let (workspace, by, ordering) = (state.workspace.clone(), Actor::person(&staff.account), article.clone());
    let typed = fields.clone();
    let result = blocking(move || {
        let (_, pages) = workspace.article_pages(&ordering)?;
        Ok::<_, StructureError>(match ordered(&pages, &typed) {
            Ok(order) => workspace.reorder(&ordering, &order, &by, now()).map_err(NotOrdered::Refused),
            Err(why) => Err(NotOrdered::Typed(why)),
        })
    })
    .await?;
    match result {
        Ok(_) => Ok(done_at(&urls::ADMIN_ARTICLE_ORDER.replace("{article}", &article), "ordered")),
        Err(NotOrdered::Typed(why)) => {
            let why = capitalised(&why);
            order_form(&state, &staff, &article, StatusCode::UNPROCESSABLE_ENTITY, &fields, false, Some(why)).await
        }
        Err(NotOrdered::Refused(error)) => {
            let (status, why) = refusal(error)?;
            // The list may have changed: show it as it is now.
            order_form(&state, &staff, &article, status, &[], false, Some(why)).await
        }
    }
}

// ---- The trash ----

#[derive(Template)]
#[template(path = "admin_page_trash.html")]
struct TrashConfirmTemplate<'a> {
    chrome: Chrome<'a>,
    nav: Nav,
    page: PageAddress,
    front: PageAddress,
    action: String,
    base: String,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
pub(super) struct TrashForm {
    #[serde(default)]
    base: String,
}

async fn trash_form(
    state: &AppState,
    staff: &Staff,
    file: &str,
    status: StatusCode,
    error: Option<String>,
) -> Result<Response, AppError> {
    let (workspace, looking) = (state.workspace.clone(), file.to_string());
    let (front, pages, base) = blocking(move || {
        let (_, base) = workspace.current(&looking)?;
        let article = parts(&looking).0.to_string();
        let (front, pages) = workspace.article_pages(&article)?;
        Ok::<_, StructureError>((front, pages, base))
    })
    .await?;
    // The front page is not among the pages, so it has no such form.
    let here = pages.into_iter().find(|page| page.file == file).ok_or(AppError::NotFound)?;
    let (article, name) = parts(file);
    let site = state.site.load();
    page(
        status,
        &TrashConfirmTemplate {
            chrome: admin_chrome(&site, &format!("Move {} to the trash?", here.title)),
            nav: Nav::new(staff, urls::ADMIN_PAGES),
            action: fill(urls::ADMIN_PAGE_TRASH, article, name),
            page: here,
            front,
            base,
            error,
        },
    )
}

pub(super) async fn trash_page(
    State(state): State<AppState>,
    Extension(staff): Extension<Staff>,
    UrlPath((article, name)): UrlPath<(String, String)>,
) -> Result<Response, AppError> {
    let file = file_of(&article, &name)?;
    trash_form(&state, &staff, &file, StatusCode::OK, None).await
}

pub(super) async fn trash(
    State(state): State<AppState>,
    Extension(staff): Extension<Staff>,
    UrlPath((article, name)): UrlPath<(String, String)>,
    Form(form): Form<TrashForm>,
) -> Result<Response, AppError> {
    let file = file_of(&article, &name)?;
    let (workspace, by, trashing) = (state.workspace.clone(), Actor::person(&staff.account), file.clone());
    let trashed = blocking(move || Ok::<_, AppError>(workspace.trash(&trashing, &form.base, &by, now()))).await?;
    match trashed {
        Ok(_) => Ok(done_at(urls::ADMIN_TRASH, "trashed")),
        Err(StructureError::FrontPage { .. }) => Err(AppError::NotFound),
        Err(error) => {
            let (status, why) = refusal(error)?;
            trash_form(&state, &staff, &file, status, Some(why)).await
        }
    }
}

/// A page in the trash as the list shows it.
struct TrashRow {
    revision: RevisionSummary,
    title: String,
    when: String,
    restore: String,
}

#[derive(Template)]
#[template(path = "admin_trash.html")]
struct TrashTemplate<'a> {
    chrome: Chrome<'a>,
    nav: Nav,
    rows: Vec<TrashRow>,
    done: Option<&'static str>,
    error: Option<String>,
}

async fn trash_list(
    state: &AppState,
    staff: &Staff,
    status: StatusCode,
    done: Option<&'static str>,
    error: Option<String>,
) -> Result<Response, AppError> {
    let workspace = state.workspace.clone();
    let trashed = blocking(move || {
        let trashed = workspace.trashed(None)?;
        trashed
            .into_iter()
            .map(|revision| {
                let text = workspace.revision(revision.id)?.map(|r| r.text).unwrap_or_default();
                let title = crate::workspace::Document::parse(&text).ok().and_then(|d| d.title().map(str::to_string));
                Ok((revision, title))
            })
            .collect::<Result<Vec<_>, StructureError>>()
    })
    .await?;
    let rows = trashed
        .into_iter()
        .map(|(revision, title)| {
            let (article, name) = parts(&revision.path);
            TrashRow {
                title: title.unwrap_or_else(|| revision.path.clone()),
                when: moment(revision.at),
                restore: fill(urls::ADMIN_TRASH_RESTORE, article, name),
                revision,
            }
        })
        .collect();
    let site = state.site.load();
    page(
        status,
        &TrashTemplate {
            chrome: admin_chrome(&site, "Pages in the trash"),
            nav: Nav::new(staff, urls::ADMIN_PAGES),
            rows,
            done,
            error,
        },
    )
}

pub(super) async fn trash_page_list(
    State(state): State<AppState>,
    Extension(staff): Extension<Staff>,
    Query(query): Query<Done>,
) -> Result<Response, AppError> {
    let done = match query.done.as_deref() {
        Some("trashed") => Some(
            "The page is in the trash. Its address now sends readers to the article's front page. You can bring it back below.",
        ),
        Some("restored") => Some("The page is back, with the text and the address it had."),
        _ => None,
    };
    trash_list(&state, &staff, StatusCode::OK, done, None).await
}

pub(super) async fn restore(
    State(state): State<AppState>,
    Extension(staff): Extension<Staff>,
    UrlPath((article, name)): UrlPath<(String, String)>,
) -> Result<Response, AppError> {
    let file = file_of(&article, &name)?;
    let (workspace, by) = (state.workspace.clone(), Actor::person(&staff.account));
    let restored = blocking(move || Ok::<_, AppError>(workspace.restore_from_trash(&file, &by, now()))).await?;
    match restored {
        Ok(_) => Ok(done_at(urls::ADMIN_TRASH, "restored")),
        Err(error) => {
            let (status, why) = refusal(error)?;
            trash_list(&state, &staff, status, None, Some(why)).await
        }
    }
}
