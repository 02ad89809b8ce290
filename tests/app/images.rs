//! Pictures uploaded from the staff pages: what is stored (pixels, no
//! EXIF or GPS), who may upload, what is refused and how, and how a page
//! that uses one serves it.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use clinic_site::auth::Role;
use clinic_site::auth::activity::{Filter, Kind};
use clinic_site::config::Config;
use clinic_site::site::{Site, SiteOptions};
use tower::ServiceExt;

use crate::admin::{add_staff, send_with, sign_in_as};
use crate::helpers::*;

/// The app on copies of the valid fixture and of `static/`, which uploads
/// change.
struct PictureApp {
    app: TestApp,
    content: tempfile::TempDir,
    static_dir: tempfile::TempDir,
}

fn picture_app() -> PictureApp {
    let (content, static_dir) = (copy_fixture("valid"), copy_static());
    let app = TestApp::with_config(|data| {
        let mut config = Config::for_test(data).with_content(content.path());
        config.folders.static_dir = static_dir.path().to_path_buf();
        config
    });
    PictureApp { app, content, static_dir }
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(std::path::Path::new("tests/fixtures/images").join(name)).unwrap()
}

const BOUNDARY: &str = "----picture-test-boundary";

/// One field of a multipart body; `file_name` makes it a file.
fn part(body: &mut Vec<u8>, name: &str, file_name: Option<&str>, value: &[u8]) {
    let file =
        file_name.map(|f| format!("; filename=\"{f}\"\r\nContent-Type: application/octet-stream")).unwrap_or_default();
    body.extend_from_slice(
        format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"{file}\r\n\r\n").as_bytes(),
    );
    body.extend_from_slice(value);
    body.extend_from_slice(b"\r\n");
}

/// The upload form as a browser sends it: the token first, then the file,
/// the alt text and the page to go back to.
async fn upload(
    app: &TestApp,
    cookie: &str,
    csrf: &str,
    file: Option<(&str, &[u8])>,
    alt: &str,
    page: Option<&str>,
) -> TestResponse {
    let mut body = Vec::new();
    part(&mut body, "csrf", None, csrf.as_bytes());
    let (name, bytes) = file.unwrap_or(("", b""));
    part(&mut body, "image", Some(name), bytes);
    part(&mut body, "alt", None, alt.as_bytes());
    if let Some(page) = page {
        part(&mut body, "page", None, page.as_bytes());
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    let request = Request::builder()
        .method(Method::POST)
        .uri("/admin/images")
        .header("content-type", format!("multipart/form-data; boundary={BOUNDARY}"))
        .header("content-length", body.len())
        .header("sec-fetch-site", "same-origin")
        .header("cookie", cookie)
        .body(Body::from(body))
        .unwrap();
    let response = app.router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = http_body_util::BodyExt::collect(response.into_body()).await.unwrap().to_bytes();
    TestResponse { status, headers, body: String::from_utf8(bytes.to_vec()).unwrap() }
}

fn stored_files(static_dir: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    let Ok(entries) = std::fs::read_dir(static_dir.join("images")) else { return Vec::new() };
    let mut files: Vec<(String, Vec<u8>)> = entries
        .map(|e| e.unwrap().path())
        .map(|path| (path.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read(&path).unwrap()))
        .collect();
    files.sort();
    files
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|window| window == needle)
}

fn rebuild(pictures: &PictureApp) {
    let options = SiteOptions::for_server(&pictures.app.state.config);
    pictures.app.state.site.reload(|| Site::load(pictures.content.path(), &options, &[])).unwrap();
}

#[tokio::test]
async fn an_uploaded_photo_keeps_no_exif_or_gps_and_a_page_serves_it_with_srcset() {
    let pictures = picture_app();
    let app = &pictures.app;
    let editor = add_staff(app, "ed", &[Role::Editor]);
    let (cookie, csrf) = sign_in_as(app, "ed").await;
    let original = fixture("gps-photo.jpg");
    // The latitude's seconds, 26.28" as the rational 2628/100: the GPS
    // position the fixture carries.
    let latitude_seconds = [0x00, 0x00, 0x0A, 0x44, 0x00, 0x00, 0x00, 0x64];
    assert!(contains(&original, b"Exif\0\0") && contains(&original, &latitude_seconds), "the fixture has GPS tags");

    let alt = "A therapist's hands on a patient's shoulder";
    let sent =
        upload(app, &cookie, &csrf, Some(("IMG_2041.JPG", &original)), alt, Some("/admin/pages/guide/first/edit"))
            .await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);
    let location = sent.header("location").to_string();
    assert!(location.starts_with("/admin/images?uploaded=img-2041-"), "{location}");
    assert!(location.ends_with("&page=%2Fadmin%2Fpages%2Fguide%2Ffirst%2Fedit"), "{location}");

    let files = stored_files(pictures.static_dir.path());
    let names: Vec<&str> = files.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(names[0].ends_with("-1200x900.jpg") && names[1].ends_with("-800x600.jpg"), "{names:?}");
    for (name, bytes) in &files {
        assert_eq!(&bytes[..2], [0xFF, 0xD8], "{name} is a JPEG");
        assert!(!contains(bytes, &[0xFF, 0xE1]), "{name} has an APP1 (EXIF) segment");
        assert!(!contains(bytes, b"Exif"), "{name}");
        assert!(!contains(bytes, &latitude_seconds), "{name} still holds the GPS position");
        assert!(!contains(bytes, b"PhoneMaker") && !contains(bytes, b"Phone 12"), "{name} names the camera");
    }
    let record =
        app.state.staff.activity(&Filter { kind: Some(Kind::ImageUploaded), ..Filter::default() }, 10).unwrap();
    assert_eq!(record.len(), 1);
    assert_eq!((record[0].account_id, record[0].detail.as_str()), (Some(editor.id), alt));

    // The page after the upload offers the line to put in a page.
    let done = send_with(app, Method::GET, &location, Some(&cookie), "").await;
    assert_eq!(done.status, StatusCode::OK);
    let html = done.html();
    let large = format!("/static/images/{}", names[0]);
    let markdown = format!("![{alt}]({large})");
    assert_eq!(text_of(&html, ".uploaded-picture code"), markdown);
    assert_eq!(select(&html, ".uploaded-picture a[href='/admin/pages/guide/first/edit']").len(), 1);

    // A page that uses it serves both sizes, with the space it takes.
    let page = pictures.content.path().join("guide/first.md");
    let text = std::fs::read_to_string(&page).unwrap();
    std::fs::write(&page, format!("{}\n{markdown}\n", text.trim_end())).unwrap();
    rebuild(&pictures);
    let public = get(app, "/guide/first/").await;
    assert_eq!(public.status, StatusCode::OK);
    let html = public.html();
    let img = select(&html, "main img[srcset]");
    assert_eq!(img.len(), 1, "{}", public.body);
    let img = img[0].value();
    let srcset = img.attr("srcset").unwrap();
    let candidates: Vec<&str> = srcset.split(", ").collect();
    assert_eq!(candidates.len(), 2, "{srcset}");
    assert!(candidates[0].ends_with(" 800w") && candidates[1].ends_with(" 1200w"), "{srcset}");
    assert_eq!((img.attr("width"), img.attr("height")), (Some("1200"), Some("900")));
    // Smart punctuation curls the apostrophes, as in the text.
    let curled = alt.replace('\'', "\u{2019}");
    assert_eq!((img.attr("alt"), img.attr("loading")), (Some(curled.as_str()), Some("lazy")));
    assert!(img.attr("sizes").is_some());
    // Every address in it is served, and cached for good.
    for url in candidates.iter().map(|c| c.split(' ').next().unwrap()).chain(img.attr("src")) {
        let file = app.router.clone().oneshot(Request::get(url).body(Body::empty()).unwrap()).await.unwrap();
        let header = |name: &str| file.headers().get(name).map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
        assert_eq!(file.status(), StatusCode::OK, "{url}");
        assert_eq!(header("content-type"), "image/jpeg", "{url}");
        assert!(header("cache-control").contains("immutable"), "{url}: {}", header("cache-control"));
    }

    // The pictures page lists it as used; `check` has nothing to say.
    let listed = send_with(app, Method::GET, "/admin/images", Some(&cookie), "").await;
    assert!(text_of(&listed.html(), ".admin-table tbody").contains("guide/first.md"), "{}", listed.body);
    let inspection = clinic_site::report::inspect(pictures.content.path(), pictures.static_dir.path());
    assert!(
        !inspection.problems.iter().any(|p| p.message.contains("no page shows this image")),
        "a picture in use is not unused"
    );
    std::fs::write(&page, text).unwrap();
    let inspection = clinic_site::report::inspect(pictures.content.path(), pictures.static_dir.path());
    let unused: Vec<_> =
        inspection.problems.iter().filter(|p| p.message.contains("no page shows this image")).collect();
    assert_eq!(unused.len(), 1, "both sizes are one picture");
    assert!(unused[0].path.ends_with(format!("images/{}", names[0])), "{}", unused[0].path.display());
}

#[tokio::test]
async fn moderators_may_not_upload_or_see_the_pictures_page() {
    let pictures = picture_app();
    let app = &pictures.app;
    add_staff(app, "mo", &[Role::Moderator]);
    let (cookie, csrf) = sign_in_as(app, "mo").await;
    let sent = upload(app, &cookie, &csrf, Some(("a.jpg", &fixture("gps-photo.jpg"))), "A shoulder", None).await;
    assert_eq!(sent.status, StatusCode::FORBIDDEN);
    assert_eq!(text_of(&sent.html(), "main h1"), "Your role cannot do this");
    assert!(stored_files(pictures.static_dir.path()).is_empty(), "nothing written");
    let page = send_with(app, Method::GET, "/admin/images", Some(&cookie), "").await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn an_upload_without_the_forms_token_is_refused_before_it_is_read() {
    let pictures = picture_app();
    let app = &pictures.app;
    add_staff(app, "ed", &[Role::Editor]);
    let (cookie, _) = sign_in_as(app, "ed").await;
    let sent = upload(app, &cookie, "forged", Some(("a.jpg", &fixture("gps-photo.jpg"))), "A shoulder", None).await;
    assert_eq!(sent.status, StatusCode::BAD_REQUEST);
    assert!(sent.body.contains("This form has expired"), "{}", sent.body);
    assert!(stored_files(pictures.static_dir.path()).is_empty(), "nothing written");
}

#[tokio::test]
async fn missing_alt_text_is_refused_and_the_form_keeps_what_was_typed() {
    let pictures = picture_app();
    let app = &pictures.app;
    add_staff(app, "ed", &[Role::Editor]);
    let (cookie, csrf) = sign_in_as(app, "ed").await;
    let page = Some("/admin/pages/guide/first/edit");
    let sent = upload(app, &cookie, &csrf, Some(("a.jpg", &fixture("gps-photo.jpg"))), "   ", page).await;
    assert_eq!(sent.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = sent.html();
    assert!(text_of(&html, "[role='alert']").contains("Describe the picture in the alt text box"), "{}", sent.body);
    assert_eq!(select(&html, "form[enctype='multipart/form-data'] input[type='file'][accept]").len(), 1);
    assert_eq!(
        select(&html, "input[name='page'][value='/admin/pages/guide/first/edit']").len(),
        1,
        "the way back is kept"
    );
    assert_eq!(select(&html, "label[for='alt']").len(), 1);
    assert!(stored_files(pictures.static_dir.path()).is_empty(), "nothing written");

    let long = "a".repeat(300);
    let sent = upload(app, &cookie, &csrf, Some(("a.jpg", &fixture("gps-photo.jpg"))), &long, None).await;
    assert_eq!(sent.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(select(&sent.html(), "input#alt")[0].value().attr("value"), Some(long.as_str()), "kept to shorten");
}

#[tokio::test]
async fn an_image_bomb_and_a_file_that_is_not_an_image_are_refused_with_a_reason() {
    let pictures = picture_app();
    let app = &pictures.app;
    add_staff(app, "ed", &[Role::Editor]);
    let (cookie, csrf) = sign_in_as(app, "ed").await;

    // A real JPEG whose header claims 60,000 x 60,000 pixels: a few
    // hundred bytes that would decode to 10 GB.
    let mut bomb = fixture("sideways.jpg");
    let frame = bomb.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
    bomb[frame + 5..frame + 9].copy_from_slice(&[0xEA, 0x60, 0xEA, 0x60]);
    let started = std::time::Instant::now();
    let sent = upload(app, &cookie, &csrf, Some(("bomb.jpg", &bomb)), "A bomb", None).await;
    assert!(started.elapsed().as_secs() < 5, "refused without decoding: {:?}", started.elapsed());
    assert_eq!(sent.status, StatusCode::UNPROCESSABLE_ENTITY);
    let why = text_of(&sent.html(), "[role='alert']");
    assert!(why.contains("This image is 60,000 x 60,000 pixels; images may be at most"), "{why}");

    let sent = upload(app, &cookie, &csrf, Some(("notes.jpg", b"%PDF-1.7 not a picture")), "Notes", None).await;
    assert_eq!(sent.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(text_of(&sent.html(), "[role='alert']").contains("This file is not a JPEG, PNG or WebP image"));
    assert_eq!(select(&sent.html(), "input#alt")[0].value().attr("value"), Some("Notes"));
    assert!(stored_files(pictures.static_dir.path()).is_empty(), "nothing written");
}

#[tokio::test]
async fn a_file_over_10_mb_gets_413_with_a_page_that_says_the_limit() {
    let pictures = picture_app();
    let app = &pictures.app;
    add_staff(app, "ed", &[Role::Editor]);
    let (cookie, csrf) = sign_in_as(app, "ed").await;
    let big = vec![0xFF; 11 * 1024 * 1024];
    let sent = upload(app, &cookie, &csrf, Some(("huge.jpg", &big)), "Huge", None).await;
    assert_eq!(sent.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(sent.body.contains("can be up to 10 MB"), "{}", sent.body);
    assert!(stored_files(pictures.static_dir.path()).is_empty());
}
