//! The pictures page (editors): upload a picture with its alt text, and
//! see every uploaded picture with the markdown that shows it and the
//! pages that do. The work (checking, re-encoding, saving, the activity
//! record) is `workspace::images`; this is the transport. The guard has
//! read the upload and checked its CSRF token before [`upload`] runs.

use askama::Template;
use axum::Extension;
use axum::extract::multipart::{Multipart, MultipartError, MultipartRejection};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::{Nav, Staff, admin_chrome, now, page as staff_page};
use crate::auth::Actor;
use crate::auth::activity::Kind;
use crate::http::AppState;
use crate::http::error::{AppError, blocking};
use crate::site::Chrome;
use crate::urls;
use crate::util::html::percent_encode;
use crate::workspace::images::{self, ImageError, MAX_ALT_CHARS, MAX_UPLOAD_BYTES, image_subject, markdown_for};

/// The largest body the upload form sends: the file, its alt text and the
/// form's other fields with room to spare.
pub(super) const BODY_LIMIT: usize = MAX_UPLOAD_BYTES + 64 * 1024;

/// An uploaded picture as the page lists it.
struct PictureRow {
    stem: String,
    /// The smallest size, shown as the thumbnail.
    thumbnail: String,
    width: u32,
    height: u32,
    /// "1600 x 1067 and 800 x 533 pixels".
    sizes: String,
    alt: String,
    markdown: String,
    /// Page files that show it.
    used_on: Vec<String>,
}

#[derive(Template)]
#[template(path = "admin_images.html")]
struct ImagesTemplate<'a> {
    chrome: Chrome<'a>,
    nav: Nav,
    csrf: String,
    rows: Vec<PictureRow>,
    /// The picture uploaded just now.
    uploaded: Option<PictureRow>,
    error: Option<String>,
    /// The alt text typed, kept when the upload was refused.
    alt: String,
    /// The staff page to go back to (the page editor), if it sent here.
    back: Option<String>,
    max_mb: usize,
    max_alt: usize,
}

#[derive(Deserialize, Default)]
pub(super) struct ImagesQuery {
    uploaded: Option<String>,
    page: Option<String>,
}

/// A staff address to go back to, if `page` is one: the page editor sends
/// its own address, and nothing else may become a link here.
fn back_to(page: Option<&str>) -> Option<String> {
    let page = page?.trim();
    let plain = page.starts_with(&format!("{}/", urls::ADMIN))
        && !page.contains("//")
        && !page.contains("..")
        && page.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'-' | b'_' | b'.'));
    plain.then(|| page.to_string())
}

pub(super) async fn page(
    State(state): State<AppState>,
    Extension(staff): Extension<Staff>,
    Query(query): Query<ImagesQuery>,
) -> Result<Response, AppError> {
    let view = View { uploaded: query.uploaded, back: back_to(query.page.as_deref()), ..View::default() };
    render(&state, &staff, StatusCode::OK, view).await
}

#[derive(Default)]
struct View {
    uploaded: Option<String>,
    back: Option<String>,
    error: Option<String>,
    alt: String,
}

/// The page, listing what is in the static folder now.
async fn render(state: &AppState, staff: &Staff, status: StatusCode, view: View) -> Result<Response, AppError> {
    let looking = state.clone();
    let mut rows = blocking(move || rows(&looking)).await?;
    let uploaded = view.uploaded.as_deref().and_then(|stem| rows.iter().position(|row| row.stem == stem));
    let uploaded = uploaded.map(|at| rows.remove(at));
    let site = state.site.load();
    staff_page(
        status,
        &ImagesTemplate {
            chrome: admin_chrome(&site, "Pictures"),
            nav: Nav::new(staff, urls::ADMIN_IMAGES),
            csrf: staff.session.csrf.clone(),
            rows,
            uploaded,
            error: view.error,
            alt: view.alt,
            back: view.back,
            max_mb: MAX_UPLOAD_BYTES / (1024 * 1024),
            max_alt: MAX_ALT_CHARS,
        },
    )
}

/// Every uploaded picture, newest first, with its alt text from the
/// activity record and the pages whose text shows it. Reads the static
/// and content folders.
fn rows(state: &AppState) -> Result<Vec<PictureRow>, AppError> {
    let stored = images::stored(&state.config.folders.static_dir).map_err(|e| AppError::Internal(e.to_string()))?;
    let subjects: Vec<String> = stored.iter().map(|picture| image_subject(&picture.stem)).collect();
    let alts = state.staff.latest_about(Kind::ImageUploaded, &subjects)?;
    let pages: Vec<(String, String)> = state
        .workspace
        .pages()
        .into_iter()
        .filter_map(|file| state.workspace.current(&file).ok().map(|(text, _)| (file, text)))
        .collect();
    Ok(stored
        .into_iter()
        .map(|picture| {
            let subject = image_subject(&picture.stem);
            let alt =
                alts.iter().find(|(s, _)| *s == subject).map(|(_, entry)| entry.detail.clone()).unwrap_or_default();
            let large = &picture.sizes[0];
            let small = picture.sizes.last().unwrap_or(large);
            let sizes: Vec<String> = picture.sizes.iter().map(|s| format!("{} x {}", s.width, s.height)).collect();
            PictureRow {
                markdown: markdown_for(if alt.is_empty() { "Describe the picture here" } else { &alt }, &large.url),
                thumbnail: small.url.clone(),
                width: small.width,
                height: small.height,
                sizes: format!("{} pixels", sizes.join(" and ")),
                used_on: pages
                    .iter()
                    .filter(|(_, text)| images::shows(text, &picture.stem))
                    .map(|(file, _)| file.clone())
                    .collect(),
                alt,
                stem: picture.stem,
            }
        })
        .collect())
}

/// What the upload form sent.
#[derive(Default)]
struct UploadForm {
    file_name: String,
    bytes: axum::body::Bytes,
    alt: String,
    page: Option<String>,
}

fn unreadable_form(error: MultipartError) -> AppError {
    AppError::BadRequest(format!("The upload could not be read ({}). Go back and try again.", error.body_text()))
}

pub(super) async fn upload(
    State(state): State<AppState>,
    Extension(staff): Extension<Staff>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, AppError> {
    let mut multipart = multipart.map_err(|_| {
        AppError::BadRequest("This form sends a file. Use the upload form on the pictures page.".into())
    })?;
    let mut form = UploadForm::default();
    while let Some(field) = multipart.next_field().await.map_err(unreadable_form)? {
        match field.name().unwrap_or("") {
            "image" => {
                form.file_name = field.file_name().unwrap_or("").to_string();
                form.bytes = field.bytes().await.map_err(unreadable_form)?;
            }
            "alt" => form.alt = field.text().await.map_err(unreadable_form)?,
            "page" => form.page = Some(field.text().await.map_err(unreadable_form)?),
            // The CSRF token, which the guard has checked.
            _ => {}
        }
    }
    let back = back_to(form.page.as_deref());
    let (static_dir, store, by) =
        (state.config.folders.static_dir.clone(), state.staff.clone(), Actor::person(&staff.account));
    let (bytes, name, alt) = (form.bytes, form.file_name, form.alt.clone());
    let live = state.site.subscribe();
    let saved =
        blocking(move || Ok::<_, AppError>(images::upload(&static_dir, &store, &by, &bytes, &name, &alt, now())))
            .await?;
    match saved {
        Ok(uploaded) => {
            // The site serves the static folder as it read it; the next page
            // shows the picture, so wait for the watcher to read it again.
            super::editor::published(&state, live).await;
            let back = back.map(|page| format!("&page={}", percent_encode(&page))).unwrap_or_default();
            Ok(Redirect::to(&format!("{}?uploaded={}{back}", urls::ADMIN_IMAGES, uploaded.stem)).into_response())
        }
        Err(error) if error.is_the_senders() => {
            let status = match error {
                ImageError::FileTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
                _ => StatusCode::UNPROCESSABLE_ENTITY,
            };
            let view = View { error: Some(error.to_string()), alt: form.alt, back, uploaded: None };
            render(&state, &staff, status, view).await
        }
        Err(error) => Err(AppError::Internal(error.to_string())),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_staff_addresses_are_offered_as_the_way_back() {
        assert_eq!(
            super::back_to(Some("/admin/pages/guide/first/edit")).as_deref(),
            Some("/admin/pages/guide/first/edit")
        );
        for bad in [
            "https://evil.example/admin/",
            "//evil.example",
            "/admin//x",
            "/admin/../x",
            "/dry-needling/",
            "/admin/\"x",
            "",
        ] {
            assert_eq!(super::back_to(Some(bad)), None, "{bad}");
        }
        assert_eq!(super::back_to(None), None);
    }
}
