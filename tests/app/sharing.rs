//! Shared links: previews, structured data, sitemap, old addresses and the
//! printable handout.

use std::collections::HashSet;

use axum::http::StatusCode;
use scraper::Html;

use crate::helpers::*;

fn meta(html: &Html, attr: &str, name: &str) -> String {
    let found = select(html, &format!("meta[{attr}='{name}']"));
    assert_eq!(found.len(), 1, "expected one meta {attr}={name}");
    found[0].value().attr("content").expect("meta has content").to_string()
}

fn json_ld(html: &Html) -> serde_json::Value {
    let scripts = select(html, "script[type='application/ld+json']");
    assert_eq!(scripts.len(), 1, "one JSON-LD block");
    let text: String = scripts[0].text().collect();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("JSON-LD does not parse: {e}\n{text}"))
}

#[tokio::test]
async fn every_page_has_complete_absolute_link_preview_tags() {
    let app = real_app();
    let mut images = HashSet::new();
    for (path, title) in ARTICLE {
        let html = get(&app, path).await.html();
        let canonical =
            select(&html, "link[rel='canonical']")[0].value().attr("href").expect("canonical href").to_string();
        assert_eq!(canonical, format!("https://riverside-pt.example{path}"));
        assert_eq!(meta(&html, "property", "og:url"), canonical, "{path}");
        assert_eq!(meta(&html, "property", "og:title"), *title, "{path}");
        assert_eq!(meta(&html, "property", "og:type"), "article", "{path}");
        assert_eq!(meta(&html, "property", "og:site_name"), "Riverside Physical Therapy", "{path}");
        assert_eq!(meta(&html, "property", "og:locale"), "en_US", "{path}");
        let description = meta(&html, "name", "description");
        assert!((50..=160).contains(&description.chars().count()), "{path}: {description}");
        assert_eq!(meta(&html, "property", "og:description"), description, "{path}");
        assert_eq!(meta(&html, "name", "twitter:card"), "summary_large_image", "{path}");
        assert_eq!(meta(&html, "property", "og:image:width"), "1200", "{path}");
        assert_eq!(meta(&html, "property", "og:image:height"), "630", "{path}");
        assert!(meta(&html, "property", "og:image:alt").starts_with(title), "{path}");
        let image = meta(&html, "property", "og:image");
        assert!(image.starts_with("https://riverside-pt.example/og/") && image.ends_with(".png"), "{path}: {image}");
        assert!(images.insert(image), "{path}: every page has its own card");
    }
}

#[tokio::test]
async fn social_cards_are_1200_by_630_pngs_under_300_kb() {
    let app = real_app();
    for (path, _) in ARTICLE {
        let html = get(&app, path).await.html();
        let image = meta(&html, "property", "og:image");
        let local = image.strip_prefix("https://riverside-pt.example").expect("image on the site");
        let request = axum::http::Request::get(local).body(axum::body::Body::empty()).unwrap();
        let response = tower::ServiceExt::oneshot(app.clone(), request).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{local}");
        assert_eq!(response.headers()["content-type"], "image/png", "{local}");
        let bytes = http_body_util::BodyExt::collect(response.into_body()).await.unwrap().to_bytes();
        assert!(bytes.len() < 300 * 1024, "{local} is {} bytes", bytes.len());
        let decoder = png::Decoder::new(std::io::Cursor::new(bytes.to_vec()));
        let reader = decoder.read_info().unwrap_or_else(|e| panic!("{local} is not a PNG: {e}"));
        assert_eq!((reader.info().width, reader.info().height), (1200, 630), "{local}");
    }
    assert_eq!(get(&app, "/og/dry-needling/nope.png").await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn json_ld_describes_a_medical_web_page() {
    let app = real_app();
    for (path, title) in ARTICLE {
        let html = get(&app, path).await.html();
        let data = json_ld(&html);
        assert_eq!(data["@context"], "https://schema.org", "{path}");
        assert_eq!(data["@type"], "MedicalWebPage", "{path}");
        assert_eq!(data["name"], *title, "{path}");
        assert_eq!(data["description"], meta(&html, "name", "description"), "{path}");
        assert_eq!(data["url"], format!("https://riverside-pt.example{path}"), "{path}");
        assert_eq!(data["inLanguage"], "en-US", "{path}");
        assert!(
            data.get("lastReviewed").is_none() && data.get("reviewedBy").is_none(),
            "{path}: no clinician reviewed it, so no review is claimed"
        );
        assert_eq!(data["dateModified"], "2026-12-01", "{path}");
        let citations = data["citation"].as_array().unwrap_or_else(|| panic!("{path} cites its sources"));
        let listed = select(&html, "section.sources li").len();
        assert_eq!(citations.len(), listed, "{path}: one citation per listed source");
        assert!(citations.iter().all(|c| c["name"].is_string() && c["author"].is_string()), "{path}");
        assert_eq!(data["about"]["@type"], "MedicalTherapy", "{path}");
        assert_eq!(data["about"]["name"], "Dry needling", "{path}");
        assert_eq!(data["audience"]["audienceType"], "Patient", "{path}");
        assert_eq!(data["publisher"]["name"], "Riverside Physical Therapy", "{path}");
        assert_eq!(data["isPartOf"]["url"], "https://riverside-pt.example/dry-needling/", "{path}");
    }
}

#[tokio::test]
async fn a_title_with_quotes_and_script_tags_keeps_the_page_valid() {
    let app = fixture_app("sharing");
    let response = get(&app, "/guide/renamed/").await;
    let html = response.html();
    let title = "Say \"hi\" </script><script>alert(1)</script> & bye";
    assert_eq!(json_ld(&html)["name"], title);
    assert_eq!(json_ld(&html)["reviewedBy"]["name"], "Sam O'Neil, PT");
    assert_eq!(json_ld(&html)["lastReviewed"], "2026-02-01", "a named review is claimed");
    assert_eq!(meta(&html, "property", "og:title"), title);
    assert_eq!(text_of(&html, "h1"), collapse(title));
    assert_eq!(select(&html, "script").len(), 2, "only the JSON-LD and share.js scripts exist");
    assert!(
        select(&html, "script:not([type]), script[type='text/javascript']")
            .iter()
            .all(|s| s.value().attr("src").is_some())
    );
}

#[tokio::test]
async fn aliases_answer_301_to_the_current_address() {
    let app = fixture_app("sharing");
    for (old, new) in [
        ("/guide/old-name/", "/guide/renamed/"),
        ("/guide/old-name", "/guide/renamed/"),
        ("/old/path", "/guide/renamed/"),
        ("/Old/Path/?utm_source=whatsapp", "/guide/renamed/?utm_source=whatsapp"),
    ] {
        let response = get(&app, old).await;
        assert_eq!(response.status, StatusCode::MOVED_PERMANENTLY, "{old}");
        assert_eq!(response.header("location"), new, "{old}");
        assert_eq!(get(&app, new).await.status, StatusCode::OK, "{new}");
    }
}

#[test]
fn clashing_aliases_are_a_content_error_with_file_and_line() {
    let text = load_error("invalid/duplicate-alias");
    assert!(
        text.contains("tests/fixtures/invalid/duplicate-alias/guide/other.md:7:1: error: the old address /Guide/Old is already used by the alias in tests/fixtures/invalid/duplicate-alias/guide/index.md"),
        "{text}"
    );
}

#[tokio::test]
async fn sitemap_lists_every_published_page_with_absolute_urls() {
    let app = real_app();
    let response = get(&app, "/sitemap.xml").await;
    assert_eq!(response.status, StatusCode::OK);
    assert!(response.header("content-type").starts_with("application/xml"));
    let locs: Vec<&str> = response.body.split("<loc>").skip(1).filter_map(|s| s.split("</loc>").next()).collect();
    let mut expected: Vec<String> = vec!["https://riverside-pt.example/".into()];
    expected.extend(ARTICLE.iter().map(|(p, _)| format!("https://riverside-pt.example{p}")));
    assert_eq!(locs, expected);
    assert_eq!(
        response.body.matches("<lastmod>2026-12-01</lastmod>").count(),
        expected.len(),
        "the date each page last changed"
    );
    let robots = get(&app, "/robots.txt").await;
    assert!(robots.body.contains("Sitemap: https://riverside-pt.example/sitemap.xml"), "{}", robots.body);
}

#[tokio::test]
async fn share_links_carry_the_canonical_url() {
    let html = get(&real_app(), "/dry-needling/safety/").await.html();
    let encoded = "https%3A%2F%2Friverside-pt.example%2Fdry-needling%2Fsafety%2F";
    let links: Vec<&str> = select(&html, ".share-links a").iter().filter_map(|a| a.value().attr("href")).collect();
    assert_eq!(links.len(), 5);
    assert!(links[0].starts_with("mailto:?subject=") && links[0].contains(encoded), "{}", links[0]);
    assert!(links[1].starts_with("sms:") && links[1].contains(encoded));
    assert!(links[2].starts_with("https://wa.me/?text=") && links[2].contains(encoded));
    assert!(links[3].starts_with("https://www.facebook.com/sharer/sharer.php?u=") && links[3].contains(encoded));
    assert!(links[4].starts_with("https://x.com/intent/post?") && links[4].contains(encoded));
    let copy = select(&html, "button[data-copy-link]");
    assert_eq!(copy[0].value().attr("data-copy-link"), Some("https://riverside-pt.example/dry-needling/safety/"));
    assert!(copy[0].value().attr("hidden").is_some(), "hidden until the script shows it");
    assert_eq!(select(&html, "[role='status']#share-status").len(), 1);
    assert!(select(&html, "iframe, img[src^='http']").is_empty(), "no third-party embeds");
}

#[tokio::test]
async fn printable_article_has_every_section_contact_and_a_qr_code() {
    let app = real_app();
    let html = get(&app, "/dry-needling/").await.html();
    assert_eq!(select(&html, "a[href='/dry-needling/print/']").len(), 1, "article pages link to the handout");
    let response = get(&app, "/dry-needling/print/").await;
    assert_eq!(response.status, StatusCode::OK);
    let html = response.html();
    assert_eq!(text_of(&html, "h1"), ARTICLE[0].1);
    let headings: Vec<String> =
        select(&html, ".print-section > h2").iter().map(|h| collapse(&h.text().collect::<String>())).collect();
    let expected: Vec<&str> = ARTICLE[1..].iter().map(|(_, t)| *t).collect();
    assert_eq!(headings, expected);
    assert!(select(&html, "nav.contents, .share, .pagination").is_empty());
    let qr = select(&html, ".print-contact svg[role='img']");
    assert_eq!(qr.len(), 1);
    assert_eq!(qr[0].value().attr("aria-labelledby"), Some("qr-label"));
    assert!(text_of(&html, ".print-contact").contains("(555) 010-0142"));
    assert!(text_of(&html, ".print-contact").contains("https://riverside-pt.example/dry-needling/"));
    let ids: Vec<&str> = select(&html, "[id]").iter().filter_map(|e| e.value().attr("id")).collect();
    assert_eq!(ids.len(), ids.iter().collect::<HashSet<_>>().len(), "ids unique across sections: {ids:?}");
    assert_eq!(
        select(&html, "h3").len(),
        select(&html, ".prose h3").len() + select(&html, ".print-section > .sources > h3").len(),
        "section headings moved down a level"
    );
    assert_eq!(text_of(&html, ".print-contact .review"), "Last updated 1 December 2026.");
    assert!(
        select(&html, ".print-section .sources li[id^='safety-ref-']").len() >= 3,
        "each section lists its sources"
    );
}
