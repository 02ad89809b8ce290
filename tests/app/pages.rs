//! The pages a reader sees: titles, navigation, headings, review dates.

use std::collections::HashSet;

use axum::http::{Method, StatusCode};

use crate::helpers::*;

#[tokio::test]
async fn every_article_page_is_served_with_its_title() {
    let app = real_app();
    for (path, title) in ARTICLE {
        let response = get(&app, path).await;
        assert_eq!(response.status, StatusCode::OK, "{path}");
        assert_eq!(response.header("content-type"), "text/html; charset=utf-8", "{path}");
        let html = response.html();
        assert_eq!(text_of(&html, "h1"), *title, "{path}");
        assert_eq!(text_of(&html, "title"), format!("{title} – Riverside Physical Therapy"), "{path}");
        assert_eq!(select(&html, "h1").len(), 1, "{path}: exactly one h1");
        assert_eq!(select(&html, "html[lang='en-US']").len(), 1, "{path}: language set");
    }
}

#[tokio::test]
async fn home_lists_the_article() {
    let home = get(&real_app(), "/").await;
    assert_eq!(home.status, StatusCode::OK);
    let html = home.html();
    let links = select(&html, "main .card a");
    assert_eq!(links.len(), 1);
    assert_eq!(links[0].value().attr("href"), Some("/dry-needling/"));
    assert_eq!(collapse(&links[0].text().collect::<String>()), ARTICLE[0].1);
}

#[tokio::test]
async fn contents_marks_the_current_page_and_lists_every_part_in_order() {
    let app = real_app();
    let expected: Vec<&str> = ARTICLE.iter().map(|(path, _)| *path).collect();
    for (path, _) in ARTICLE {
        let html = get(&app, path).await.html();
        let links: Vec<&str> = select(&html, "nav.contents a").iter().filter_map(|a| a.value().attr("href")).collect();
        assert_eq!(links, expected, "{path}");
        let current = select(&html, "nav.contents a[aria-current='page']");
        assert_eq!(current.len(), 1, "{path}");
        assert_eq!(current[0].value().attr("href"), Some(*path));
    }
}

#[tokio::test]
async fn previous_and_next_links_follow_the_article_order() {
    let app = real_app();
    let mut visited = vec![ARTICLE[0].0.to_string()];
    let mut path = ARTICLE[0].0.to_string();
    loop {
        let html = get(&app, &path).await.html();
        let prev: Vec<String> =
            select(&html, "a[rel='prev']").iter().filter_map(|a| a.value().attr("href").map(String::from)).collect();
        if visited.len() > 1 {
            assert_eq!(prev, vec![visited[visited.len() - 2].clone()], "previous of {path}");
        } else {
            assert!(prev.is_empty(), "the front page has no previous part");
        }
        let next = select(&html, "a[rel='next']");
        let Some(next) = next.first() else { break };
        path = next.value().attr("href").expect("next has href").to_string();
        visited.push(path.clone());
        assert!(visited.len() <= ARTICLE.len(), "next links loop: {visited:?}");
    }
    let expected: Vec<String> = ARTICLE.iter().map(|(p, _)| p.to_string()).collect();
    assert_eq!(visited, expected);
}

#[tokio::test]
async fn every_internal_link_on_every_page_resolves() {
    let app = real_app();
    let mut pages: Vec<String> = vec!["/".into()];
    pages.extend(ARTICLE.iter().map(|(p, _)| p.to_string()));
    for page in &pages {
        let html = get(&app, page).await.html();
        for a in select(&html, "a[href], link[href]") {
            let href = a.value().attr("href").expect("selected by href");
            if href.split(['/', '?', '#']).next().is_some_and(|first| first.contains(':')) {
                continue; // another site, or an email, phone or text message link
            }
            let (target, fragment) = href.split_once('#').unwrap_or((href, ""));
            let target = if target.is_empty() { page.as_str() } else { target };
            let response = get(&app, target).await;
            assert_eq!(response.status, StatusCode::OK, "{page} links to {href}");
            if !fragment.is_empty() {
                let ids = response.html();
                assert_eq!(select(&ids, &format!("[id='{fragment}']")).len(), 1, "{page} links to {href}: no such id");
            }
        }
    }
}

#[tokio::test]
async fn headings_have_unique_ids_and_anchor_links() {
    let app = real_app();
    for (path, _) in ARTICLE {
        let html = get(&app, path).await.html();
        let ids: Vec<&str> = select(&html, "[id]").iter().filter_map(|e| e.value().attr("id")).collect();
        let unique: HashSet<&str> = ids.iter().copied().collect();
        assert_eq!(ids.len(), unique.len(), "{path}: duplicate ids in {ids:?}");
        for heading in select(&html, ".prose h2, .prose h3") {
            let id = heading.value().attr("id").unwrap_or_else(|| panic!("{path}: heading without id"));
            assert!(!id.is_empty());
            assert_eq!(
                select(&html, &format!(".heading a.heading-anchor[href='#{id}']")).len(),
                1,
                "{path}: #{id} has no anchor link"
            );
        }
    }
}

#[tokio::test]
async fn section_pages_have_an_on_this_page_list_of_their_headings() {
    let html = get(&real_app(), "/dry-needling/migraines/").await.html();
    let entries: Vec<String> =
        select(&html, "nav.on-this-page a").iter().map(|a| collapse(&a.text().collect::<String>())).collect();
    assert_eq!(
        entries,
        [
            "1. Reduces Muscle Tension",
            "2. Improves Blood Flow",
            "3. Breaks the Pain Cycle",
            "How strong is the evidence?",
            "Get help straight away if your headache"
        ]
    );
}

#[tokio::test]
async fn session_steps_are_an_ordered_list() {
    let html = get(&real_app(), "/dry-needling/what-to-expect/").await.html();
    let steps: Vec<String> =
        select(&html, ".prose ol > li h2").iter().map(|h| collapse(&h.text().collect::<String>())).collect();
    assert_eq!(
        steps,
        [
            "Step 1: Assessment",
            "Step 2: Needle Insertion",
            "Step 3: Muscle Response",
            "Step 4: Post-Treatment Sensations"
        ]
    );
}

#[tokio::test]
async fn safety_page_sends_chest_symptoms_to_911_and_infection_to_same_day_help() {
    let html = get(&real_app(), "/dry-needling/safety/").await.html();
    let emergency = text_of(&html, ".callout-emergency");
    assert_eq!(
        text_of(&html, ".callout-emergency h3"),
        "Immediate action required: Call 911 if you have chest pain or shortness of breath"
    );
    for words in ["collapsed lung", "some hours after your session"] {
        assert!(emergency.contains(words), "{words:?} missing from: {emergency}");
    }
    let urgent = text_of(&html, ".callout-urgent");
    assert_eq!(text_of(&html, ".callout-urgent h3"), "Urgent advice: Get medical help the same day if");
    assert!(urgent.contains("signs of infection") && urgent.contains("fainted"), "{urgent}");
    assert!(!urgent.contains("chest pain"), "chest symptoms are an emergency, not same-day advice: {urgent}");
    // Links shared before the advice was split into levels keep working.
    assert_eq!(text_of(&html, "h2#when-to-get-medical-help"), "When to Get Medical Help");
}

#[tokio::test]
async fn patients_are_told_what_to_mention_before_a_first_session() {
    let html = get(&real_app(), "/dry-needling/what-to-expect/").await.html();
    let before = text_of(&html, ".callout-info");
    assert!(before.starts_with("Information: Before your appointment: tell your therapist if you"), "{before}");
    for point in [
        "pregnant",
        "thins your blood",
        "infection where the needles would go",
        "allergic to metal",
        "stop the treatment whenever you want",
    ] {
        assert!(before.contains(point), "{point:?} missing: {before}");
    }
    let reassurance = select(&html, ".prose p a")
        .into_iter()
        .find(|a| a.text().collect::<String>() == "don’t worry!")
        .expect("\"don't worry!\" is a link");
    assert_eq!(reassurance.value().attr("href"), Some("/dry-needling/safety/"));
}

#[tokio::test]
async fn the_migraine_page_lists_headache_warning_signs() {
    let html = get(&real_app(), "/dry-needling/migraines/").await.html();
    let urgent = text_of(&html, ".callout-urgent");
    assert!(urgent.starts_with("Urgent advice: Get help straight away if your headache"), "{urgent}");
    for sign in ["suddenly and is very severe", "blow to your head", "slurred speech", "stiff neck", "call 911"] {
        assert!(urgent.contains(sign), "{sign:?} missing: {urgent}");
    }
}

#[tokio::test]
async fn pages_that_make_claims_say_how_strong_the_evidence_is_with_sources() {
    let app = real_app();
    for path in ["/dry-needling/", "/dry-needling/migraines/", "/dry-needling/chronic-pain/"] {
        let html = get(&app, path).await.html();
        let note = text_of(&html, ".callout-evidence");
        assert!(note.starts_with("About the evidence:"), "{path}: {note}");
        assert!(note.contains("quality"), "{path} says how strong the evidence is: {note}");
        let markers = select(&html, ".callout-evidence sup.citation a");
        assert!(!markers.is_empty(), "{path}: the evidence note cites its sources");
        for marker in markers {
            let target = marker.value().attr("href").expect("href").trim_start_matches('#').to_string();
            assert_eq!(
                select(&html, &format!("section.sources li[id='{target}']")).len(),
                1,
                "{path}: {target} is in the list"
            );
        }
    }
}

#[tokio::test]
async fn unreviewed_pages_say_when_they_were_updated_and_claim_no_review() {
    let app = real_app();
    for (path, _) in ARTICLE {
        let response = get(&app, path).await;
        let html = response.html();
        let review = text_of(&html, ".review");
        assert_eq!(review, "Last updated 1 December 2026.", "{path}");
        assert!(
            !response.body.to_lowercase().contains("reviewed by") && !response.body.contains("Page last reviewed"),
            "{path} claims a review"
        );
        assert!(text_of(&html, ".page-meta").contains(" minute read"), "{path}");
        let footer = text_of(&html, "footer");
        assert!(footer.contains("not medical advice"), "{path}: {footer}");
        assert_eq!(select(&html, "footer a[href='tel:5550100142']").len(), 1, "{path}");
        assert_eq!(select(&html, "footer a[href='/privacy/']").len(), 1, "{path}");
        assert_eq!(select(&html, "a.skip-link[href='#main-content']").len(), 1, "{path}");
        assert_eq!(select(&html, "main#main-content").len(), 1, "{path}");
        assert_eq!(text_of(&html, "nav[aria-label='Breadcrumb'] li"), "Home", "{path}");
    }
}

#[tokio::test]
async fn a_named_review_with_its_dates_and_numbered_sources_is_shown_when_given() {
    let html = get(&fixture_app("valid"), "/guide/").await.html();
    let review = text_of(&html, ".review");
    assert_eq!(review, "Reviewed by Jane Smith, DPT on 15 January 2026. Next review due 15 July 2026.");
    let sources = select(&html, "section.sources li");
    assert_eq!(sources.len(), 1);
    assert_eq!(sources[0].value().attr("id"), Some("ref-test-source"));
    let link = select(&html, "section.sources li a");
    assert_eq!(link[0].value().attr("href"), Some("https://example.org/source"));
    assert_eq!(collapse(&link[0].text().collect::<String>()), "A source about \"quotes\" & ampersands");
    let entry = text_of(&html, "section.sources li");
    assert!(entry.contains("Test A, Example B.") && entry.contains("Test Press; 2020."), "{entry}");
    assert!(
        entry.contains("What it says: What the test source says, with <b>markup</b> that must stay text."),
        "{entry}"
    );
    assert!(select(&html, "section.sources b").is_empty(), "source text is escaped");
}

#[tokio::test]
async fn citation_markers_and_reference_entries_link_to_each_other() {
    let html = get(&real_app(), "/dry-needling/right-for-you/").await.html();
    let markers = select(&html, ".prose sup.citation a");
    let numbers: Vec<String> = markers.iter().map(|a| collapse(&a.text().collect::<String>())).collect();
    assert_eq!(numbers, ["[source 1]", "[source 2]"]);
    let entries: Vec<&str> =
        select(&html, "section.sources ol > li").iter().filter_map(|li| li.value().attr("id")).collect();
    assert_eq!(entries, ["ref-gattie-2017", "ref-pourahmadi-2021"], "numbered in the order they are cited");
    for marker in &markers {
        let id = marker.value().attr("id").expect("a marker has an id to come back to");
        let target = marker.value().attr("href").expect("href");
        assert_eq!(
            select(&html, &format!("section.sources li{target} a[href='#{id}']")).len(),
            1,
            "{target} links back to {id}"
        );
    }
}

#[tokio::test]
async fn sections_are_ordered_by_weight_and_drafts_are_not_published() {
    let app = fixture_app("valid");
    let html = get(&app, "/guide/").await.html();
    let links: Vec<&str> = select(&html, "nav.contents a").iter().filter_map(|a| a.value().attr("href")).collect();
    assert_eq!(links, ["/guide/", "/guide/first/", "/guide/second/"]);
    assert_eq!(get(&app, "/guide/hidden/").await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn unknown_paths_get_a_helpful_404_page() {
    let app = real_app();
    for path in ["/nope", "/dry-needling/nope/", "/static/nope.css", "/dry-needling/migraines/extra/"] {
        let response = get(&app, path).await;
        assert_eq!(response.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(response.header("cache-control"), "no-store", "{path}");
        let html = response.html();
        assert_eq!(text_of(&html, "h1"), "Page not found", "{path}");
        assert_eq!(select(&html, "main a[href='/']").len(), 1, "{path}: link home");
        assert_eq!(select(&html, "main a[href='/dry-needling/']").len(), 1, "{path}: link to the article");
        assert_eq!(select(&html, "meta[name='robots'][content='noindex']").len(), 1, "{path}");
    }
}

#[tokio::test]
async fn address_variants_redirect_permanently_to_the_canonical_form() {
    let app = real_app();
    for (from, to) in [
        ("/dry-needling", "/dry-needling/"),
        ("/dry-needling/migraines", "/dry-needling/migraines/"),
        ("/Dry-Needling/Migraines/", "/dry-needling/migraines/"),
        ("/DRY-NEEDLING/SAFETY", "/dry-needling/safety/"),
        ("/dry-needling/safety?utm_source=whatsapp", "/dry-needling/safety/?utm_source=whatsapp"),
    ] {
        let response = get(&app, from).await;
        assert_eq!(response.status, StatusCode::PERMANENT_REDIRECT, "{from}");
        assert_eq!(response.header("location"), to, "{from}");
    }
}

#[tokio::test]
async fn query_strings_do_not_change_the_page() {
    let app = real_app();
    let plain = get(&app, "/dry-needling/safety/").await;
    let tracked = get(&app, "/dry-needling/safety/?utm_source=whatsapp&fbclid=abc").await;
    assert_eq!(tracked.status, StatusCode::OK);
    assert_eq!(plain.body, tracked.body);
}

#[tokio::test]
async fn pages_only_accept_reading() {
    let response = send(&real_app(), Method::POST, "/dry-needling/").await;
    assert_eq!(response.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(response.header("allow"), "GET, HEAD");
}

#[tokio::test]
async fn health_check_answers_ok() {
    let response = get(&real_app(), "/healthz").await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(response.body, "ok\n");
}

#[tokio::test]
async fn the_stylesheet_is_served() {
    let response = get(&real_app(), "/static/site.css").await;
    assert_eq!(response.status, StatusCode::OK);
    assert!(response.header("content-type").starts_with("text/css"));
    assert!(response.body.contains("prefers-color-scheme: dark"));
}

/// Heading ids in page text must never take an id the templates use, so
/// `render::RESERVED_IDS` must list exactly the ids the page templates give
/// their own elements.
#[tokio::test]
async fn reserved_heading_ids_are_exactly_the_ids_the_templates_use() {
    let app = real_app();
    let mut template_ids = std::collections::BTreeSet::new();
    for (path, _) in ARTICLE {
        let html = get(&app, path).await.html();
        let in_text: HashSet<String> = select(&html, ".prose [id], .sources li[id]")
            .iter()
            .filter_map(|e| e.value().attr("id").map(String::from))
            .collect();
        for element in select(&html, "[id]") {
            let id = element.value().attr("id").expect("has an id");
            if !in_text.contains(id) {
                template_ids.insert(id.to_string());
            }
        }
    }
    let reserved: std::collections::BTreeSet<String> =
        clinic_site::render::RESERVED_IDS.iter().map(|s| s.to_string()).collect();
    assert_eq!(template_ids, reserved, "ids the templates use vs RESERVED_IDS in src/render.rs");
}
