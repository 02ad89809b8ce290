//! No text of the clinic's article is lost: every sentence of the original
//! appears on exactly one served page.

use crate::helpers::*;

/// Makes the original and the served text comparable: markdown emphasis
/// gone, curly quotes straight, whitespace collapsed.
fn normalise(text: &str) -> String {
    let straight: String = text
        .replace("**", "")
        .chars()
        .map(|c| match c {
            '’' | '‘' => '\'',
            '“' | '”' => '"',
            c => c,
        })
        .collect();
    collapse(&straight)
}

/// Sentences of the original: each line, split after . ! or ? followed by a
/// space. Fragments with no letters (the closing emoji) are not sentences.
fn sentences(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = normalise(line.trim_start_matches("- "));
        let mut start = 0;
        let bytes = line.as_bytes();
        for i in 0..bytes.len() {
            if matches!(bytes[i], b'.' | b'!' | b'?')
                && bytes.get(i + 1) == Some(&b' ')
                && !line[..i].ends_with(char::is_numeric)
            {
                out.push(line[start..=i].trim().to_string());
                start = i + 1;
            }
        }
        out.push(line[start..].trim().to_string());
    }
    out.retain(|s| s.chars().any(char::is_alphabetic));
    out
}

#[tokio::test]
async fn every_sentence_of_the_seed_article_is_served_exactly_once() {
    let seed = std::fs::read_to_string("tests/fixtures/seed/dry-needling-article.txt").expect("seed fixture exists");
    let sentences = sentences(&seed);
    assert!(sentences.len() >= 75, "the splitter found only {} sentences", sentences.len());

    let app = real_app();
    let mut pages = Vec::new();
    for (path, _) in ARTICLE {
        let html = get(&app, path).await.html();
        // A page's own text: its title and body, not navigation that repeats
        // other pages' titles.
        pages.push((path, normalise(&format!("{} {}", text_of(&html, "h1"), text_of(&html, ".prose")))));
    }
    let mut missing = Vec::new();
    for sentence in &sentences {
        let found: Vec<&&str> =
            pages.iter().filter(|(_, text)| text.contains(sentence.as_str())).map(|(p, _)| *p).collect();
        match found.len() {
            0 => missing.push(sentence.clone()),
            1 => {}
            _ => panic!("{sentence:?} appears on more than one page: {found:?}"),
        }
    }
    assert!(missing.is_empty(), "not served anywhere:\n{}", missing.join("\n"));
}

#[test]
fn the_sentence_splitter_splits_where_a_reader_would() {
    assert_eq!(sentences("One. Two! Three? 1. Four\n- Five\n😊"), ["One.", "Two!", "Three?", "1. Four", "Five"]);
}
