use super::*;

fn html(markdown: &str) -> String {
    render(markdown).html
}

#[test]
fn raw_script_block_is_shown_as_text_not_run() {
    let out = render("Before\n\n<script>alert(1)</script>\n\nAfter\n");
    assert!(!out.html.contains("<script"), "{}", out.html);
    assert!(out.html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "{}", out.html);
    assert_eq!(out.notes, vec![Note { offset: 8, kind: NoteKind::RawHtml }]);
}

#[test]
fn inline_html_and_event_handlers_are_escaped() {
    let out = html("Hello <img src=x onerror=alert(1)> and <b onclick=\"x()\">bold</b>\n");
    assert!(!out.contains("<img"), "{out}");
    assert!(!out.contains("<b "), "{out}");
    assert!(out.contains("&lt;img src=x onerror=alert(1)&gt;"), "{out}");
}

#[test]
fn script_links_are_dropped_but_their_text_kept() {
    for dest in ["javascript:alert(1)", "JaVaScRiPt:alert(1)", "data:text/html;base64,PHNjcmlwdD4=", "vbscript:x"] {
        let out = render(&format!("[click me](<{dest}>) now\n"));
        assert!(!out.html.contains("<a"), "{dest}: {}", out.html);
        assert!(out.html.contains("click me now"), "{dest}: {}", out.html);
    }
    let tabbed = render("[x](java\tscript:alert(1))\n");
    assert!(!tabbed.html.contains("href=\"java"), "{}", tabbed.html);
}

#[test]
fn ordinary_links_are_kept_and_collected() {
    let out = render(
        "[a](https://example.org) [b](/dry-needling/safety/#possible-side-effects) [c](mailto:x@y.z) [d](tel:+15550100)\n",
    );
    assert_eq!(out.html.matches("<a href").count(), 4, "{}", out.html);
    let dests: Vec<&str> = out.links.iter().map(|l| l.dest.as_str()).collect();
    assert_eq!(
        dests,
        ["https://example.org", "/dry-needling/safety/#possible-side-effects", "mailto:x@y.z", "tel:+15550100"]
    );
}

#[test]
fn heading_ids_are_slugs_unique_on_the_page_and_explicit_ids_win() {
    let out = render(
        "## Side effects\n\n## Side effects\n\n### Side effects\n\n## Anything {#custom}\n\n## ???\n\n## Sources\n",
    );
    let ids: Vec<&str> = out.headings.iter().map(|h| h.id.as_str()).collect();
    assert_eq!(ids, ["side-effects", "side-effects-1", "side-effects-2", "custom", "section", "sources-1"]);
    assert!(
        out.html
            .contains("<h2 id=\"side-effects\">Side effects</h2><a class=\"heading-anchor\" href=\"#side-effects\">"),
        "{}",
        out.html
    );
}

#[test]
fn a_title_level_heading_in_the_body_becomes_h2() {
    let out = render("# Big\n");
    assert!(out.html.contains("<h2 id=\"big\">"), "{}", out.html);
    assert_eq!(out.notes[0].kind, NoteKind::TitleLevelHeading);
}

#[test]
fn callouts_get_a_labelled_heading_and_their_level_class() {
    let out =
        render("## Safety\n\n> [!URGENT] When to get medical help\n> Call us if you feel faint.\n>\n> - chest pain\n");
    let h = &out.html;
    assert!(h.contains("<div class=\"callout callout-urgent\">"), "{h}");
    assert!(
        h.contains(
            "<h3 id=\"when-to-get-medical-help\" class=\"callout-heading\"><span class=\"callout-label\">Urgent advice"
        ),
        "{h}"
    );
    assert!(h.contains("<p>Call us if you feel faint.</p>"), "{h}");
    assert!(h.contains("<li>chest pain</li>"), "{h}");
    assert!(!h.contains("[!URGENT]") && !h.contains("<blockquote"), "{h}");
    assert_eq!(
        out.headings[1],
        Heading {
            level: 3,
            id: "when-to-get-medical-help".into(),
            text: "When to get medical help".into(),
            offset: 11
        }
    );
}

#[test]
fn callout_without_title_uses_its_default_and_every_marker_works() {
    for callout in Callout::ALL {
        let out = html(&format!("> [!{}]\n> Text.\n", callout.marker().to_lowercase()));
        assert!(out.contains(callout.class()), "{out}");
        assert!(out.contains(callout.default_title()), "{out}");
    }
}

#[test]
fn unknown_callout_stays_a_quote_and_is_reported() {
    let out = render("> [!URGNET] Typo\n> text\n");
    assert!(out.html.contains("<blockquote>"), "{}", out.html);
    assert!(out.html.contains("[!URGNET] Typo"), "{}", out.html);
    assert_eq!(out.notes[0].kind, NoteKind::UnknownCallout("URGNET".into()));
    let plain = render("> Just a quote [with brackets]\n");
    assert!(plain.notes.is_empty());
    assert!(plain.html.contains("<blockquote>\n<p>Just a quote [with brackets]</p>"), "{}", plain.html);
}

#[test]
fn extensions_tables_citations_strikethrough_and_smart_quotes_are_on() {
    let out = html("| a | b |\n|---|---|\n| 1 | 2 |\n\nSee note.[^src-1] ~~old~~ \"quoted\" it's\n");
    assert!(out.contains("<table>"), "{out}");
    assert!(out.contains("class=\"citation\""), "{out}");
    assert!(out.contains("<del>old</del>"), "{out}");
    assert!(out.contains("“quoted” it’s"), "{out}");
}

#[test]
fn words_are_counted_from_text() {
    assert_eq!(render("## Two words\n\nThree more words — here.\n").words, 6);
}

#[test]
fn plain_text_has_one_block_per_line_and_link_texts_are_kept() {
    let out = render("## Title\n\nA [link here](/x/) and\nmore.\n\n- one\n- two\n\n![a chart](/static/c.png)\n");
    assert_eq!(out.text, "Title\nA link here and more.\none\ntwo\na chart\n");
    assert_eq!(out.links[0].text, "link here");
    assert_eq!(out.links[1].text, "a chart");
    assert!(out.links[1].is_image);
}

#[test]
fn table_of_contents_nests_h3_under_h2() {
    let h = |level, id: &str| Heading { level, id: id.into(), text: id.to_uppercase(), offset: 0 };
    let toc = table_of_contents(&[h(3, "early"), h(2, "a"), h(3, "a1"), h(4, "deep"), h(3, "a2"), h(2, "b")]);
    let shape: Vec<(String, Vec<String>)> =
        toc.iter().map(|e| (e.id.clone(), e.children.iter().map(|c| c.id.clone()).collect())).collect();
    assert_eq!(
        shape,
        vec![("early".into(), vec![]), ("a".into(), vec!["a1".into(), "a2".into()]), ("b".into(), vec![])]
    );
}

#[test]
fn citation_markers_are_numbered_in_first_cited_order_and_link_both_ways() {
    let out = render("One.[^b-2020] Two.[^A-2019][^b-2020]\n\nThree `[^not-a-marker]`.[^a-2019]\n");
    assert_eq!(out.cited_keys(), vec!["b-2020", "a-2019"], "keys are lowercased, first-cited first");
    assert_eq!(out.marker_ids("a-2019"), vec!["cite-a-2019-1", "cite-a-2019-2"]);
    assert!(out.html.contains("<sup class=\"citation\"><a href=\"#ref-b-2020\" id=\"cite-b-2020-1\">[<span class=\"visually-hidden\">source </span>1]</a></sup>"), "{}", out.html);
    assert!(
        out.html.contains("id=\"cite-a-2019-1\">[<span class=\"visually-hidden\">source </span>2]"),
        "{}",
        out.html
    );
    assert!(
        out.html.contains("id=\"cite-b-2020-2\">[<span class=\"visually-hidden\">source </span>1]"),
        "{}",
        out.html
    );
    assert!(out.html.contains("<code>[^not-a-marker]</code>"), "code is left alone: {}", out.html);
    assert!(!out.html.contains("footnote"), "the added definitions are not shown: {}", out.html);
    assert_eq!(out.citations[0].offset, 4, "offsets point into the text staff wrote");
    assert!(out.notes.is_empty(), "{:?}", out.notes);
}

#[test]
fn citation_ids_and_prefixes_keep_print_pages_unique() {
    let out = render_with(
        "Text.[^x-1]\n\n## Ref x 1\n",
        &RenderOptions { heading_shift: 1, id_prefix: "safety-", ..RenderOptions::default() },
    );
    assert!(out.html.contains("href=\"#safety-ref-x-1\" id=\"safety-cite-x-1-1\""), "{}", out.html);
    assert_eq!(
        out.headings[0].id, "safety-section-ref-x-1",
        "a heading never takes a reference list id, prefixed or not"
    );
    let plain = render("## Ref x 1\n");
    assert_eq!(plain.headings[0].id, "section-ref-x-1", "headings never take a reference list id");
}

#[test]
fn footnote_definitions_in_a_page_are_reported_and_not_shown() {
    let out = render("Claim.[^x]\n\n[^x]: A note typed in the page.\n");
    assert!(!out.html.contains("A note typed"), "{}", out.html);
    assert_eq!(out.notes, vec![Note { offset: 12, kind: NoteKind::FootnoteDefinition("x".into()) }]);
    assert_eq!(out.citations.len(), 1);
}

#[test]
fn evidence_callouts_have_their_own_label_and_emergency_callouts_need_a_heading() {
    let evidence = render("> [!EVIDENCE]\n>\n> Most studies are small.\n");
    assert!(evidence.html.contains("callout callout-evidence"), "{}", evidence.html);
    assert!(
        evidence
            .html
            .contains("About the evidence<span class=\"visually-hidden\">:</span></span> How strong is the evidence?"),
        "{}",
        evidence.html
    );
    assert!(evidence.notes.is_empty());
    let bare = render("> [!EMERGENCY]\n>\n> Call now.\n");
    assert_eq!(bare.notes, vec![Note { offset: 0, kind: NoteKind::CalloutWithoutHeading(Callout::Emergency) }]);
    let titled = render("> [!EMERGENCY] Call 911 if\n>\n> - chest pain\n");
    assert!(titled.notes.is_empty());
}

/// Two sizes of one uploaded picture and one of another, served at
/// content-hashed names as the asset pipeline does.
fn pictures() -> Pictures {
    Pictures::new([
        (
            "/static/images/knee-3f9a1c2b7d-1600x1067.jpg",
            "/static/images/knee-3f9a1c2b7d-1600x1067.aaaa1111.jpg".into(),
        ),
        ("/static/images/knee-3f9a1c2b7d-800x533.jpg", "/static/images/knee-3f9a1c2b7d-800x533.bbbb2222.jpg".into()),
        ("/static/images/logo-0123456789-300x100.png", "/static/images/logo-0123456789-300x100.cccc3333.png".into()),
        ("/static/site.css", "/static/site.dddd4444.css".into()),
    ])
}

fn with_pictures(markdown: &str) -> Rendered {
    let pictures = pictures();
    render_with(markdown, &RenderOptions { pictures: Some(&pictures), ..RenderOptions::default() })
}

#[test]
fn uploaded_pictures_get_srcset_width_height_and_lazy_loading() {
    let out = with_pictures("![A knee brace, *fitted* & snug](/static/images/knee-3f9a1c2b7d-1600x1067.jpg)\n");
    assert_eq!(
        out.html,
        "<p><img src=\"/static/images/knee-3f9a1c2b7d-1600x1067.aaaa1111.jpg\" srcset=\"/static/images/knee-3f9a1c2b7d-800x533.bbbb2222.jpg 800w, /static/images/knee-3f9a1c2b7d-1600x1067.aaaa1111.jpg 1600w\" sizes=\"(min-width: 42rem) 40rem, calc(100vw - 2rem)\" width=\"1600\" height=\"1067\" alt=\"A knee brace, fitted &amp; snug\" loading=\"lazy\" decoding=\"async\"></p>\n"
    );
    // Checked like any image: the address as typed, the alt text.
    assert_eq!(out.links.len(), 1);
    assert_eq!(out.links[0].dest, "/static/images/knee-3f9a1c2b7d-1600x1067.jpg");
    assert_eq!(out.links[0].text, "A knee brace, fitted & snug");
}

#[test]
fn a_picture_with_one_size_gets_width_and_height_but_no_srcset() {
    let out = with_pictures("Before ![Clinic logo](/static/images/logo-0123456789-300x100.png \"Our logo\") after.\n");
    assert_eq!(
        out.html,
        "<p>Before <img src=\"/static/images/logo-0123456789-300x100.cccc3333.png\" width=\"300\" height=\"100\" alt=\"Clinic logo\" title=\"Our logo\" loading=\"lazy\" decoding=\"async\"> after.</p>\n"
    );
    assert_eq!(out.links[0].text, "Clinic logo");
}

#[test]
fn other_images_and_missing_pictures_render_as_typed() {
    for markdown in [
        "![Neck](/static/neck.jpg)\n",
        "![Gone](/static/images/knee-3f9a1c2b7d-1200x800.jpg)\n",
        "![Elsewhere](https://example.org/images/knee-3f9a1c2b7d-1600x1067.jpg)\n",
    ] {
        assert_eq!(with_pictures(markdown).html, render(markdown).html, "{markdown}");
        assert!(!with_pictures(markdown).html.contains("srcset"), "{markdown}");
    }
}
