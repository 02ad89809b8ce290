//! Plain-English help for the editor's preview: sentences over
//! [`LONG_SENTENCE_WORDS`] words, and words with a plainer alternative
//! ("utilise" -> "use"), marked in a page's rendered HTML.
//!
//! Only the staff preview is marked; the live page never is. The marks are
//! added to HTML the renderer made (escaped text between tags), so only
//! text is touched: tags and attributes pass through byte for byte.

use std::collections::BTreeMap;

use crate::util::html::escape;

/// A sentence with more words than this is marked: plain-language guides
/// for patient information aim for 15 to 20 on average, 25 at most.
pub const LONG_SENTENCE_WORDS: usize = 25;

/// The list that comes with the software; `site.toml` may add to it.
const BUILT_IN: &str = include_str!("plain_english_words.txt");

/// Words and phrases with plainer alternatives.
#[derive(Debug, Clone)]
pub struct PlainWords {
    /// Each phrase as lowercased words, with its alternative. Longest
    /// phrases first, so "in order to" wins over a shorter match.
    phrases: Vec<(Vec<String>, String)>,
}

impl PlainWords {
    /// The built-in list with the clinic's own additions (from
    /// `[plain_english] words` in `site.toml`), which win over it.
    pub fn with(extra: &BTreeMap<String, String>) -> PlainWords {
        let mut all: BTreeMap<String, String> = BTreeMap::new();
        for line in BUILT_IN.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
            if let Some((word, instead)) = line.split_once('=') {
                all.insert(word.trim().to_lowercase(), instead.trim().to_string());
            }
        }
        for (word, instead) in extra {
            all.insert(word.trim().to_lowercase(), instead.trim().to_string());
        }
        let mut phrases: Vec<(Vec<String>, String)> = all
            .into_iter()
            .map(|(phrase, instead)| (phrase.split_whitespace().map(String::from).collect::<Vec<_>>(), instead))
            .filter(|(words, _)| !words.is_empty())
            .collect();
        phrases.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
        PlainWords { phrases }
    }

    /// The phrase starting at `words[0]`, as (how many words, alternative).
    fn at(&self, words: &[String]) -> Option<(usize, &str)> {
        self.phrases
            .iter()
            .find(|(phrase, _)| words.len() >= phrase.len() && words[..phrase.len()] == phrase[..])
            .map(|(phrase, instead)| (phrase.len(), instead.as_str()))
    }
}

/// A page's HTML with the help marked, and what was found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Marked {
    pub html: String,
    /// How many sentences are over [`LONG_SENTENCE_WORDS`] words.
    pub long_sentences: usize,
    /// Each word or phrase found (as written) with its alternative, in
    /// page order.
    pub words: Vec<(String, String)>,
}

/// One character of text as a reader sees it, and where its source is in
/// the HTML (an entity such as `&#39;` is one character).
#[derive(Clone, Copy)]
struct Char {
    c: char,
    start: usize,
    end: usize,
    /// Which text run of the HTML it is in: a mark never crosses a tag, so
    /// one that spans two runs is written as two.
    run: usize,
}

/// Tags that end one block of text and start another.
const BLOCKS: &[&str] = &[
    "p",
    "li",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "blockquote",
    "td",
    "th",
    "dt",
    "dd",
    "div",
    "ul",
    "ol",
    "table",
    "tr",
    "section",
    "aside",
    "figcaption",
    "br",
    "hr",
];

/// Tags whose text is not running prose: footnote numbers, code.
const SKIPPED: &[&str] = &["sup", "code", "pre", "script", "style"];

/// Marks long sentences and words with plainer alternatives in `html`, a
/// rendered page body.
pub fn mark(html: &str, words: &PlainWords) -> Marked {
    let mut block: Vec<Char> = Vec::new();
    let mut inserts: Vec<(usize, u8, String)> = Vec::new();
    let mut found = Marked::default();
    let mut skipping = 0usize;
    let mut run = 0;
    let mut i = 0;
    while i < html.len() {
        if html.as_bytes()[i] == b'<' {
            let end = html[i..].find('>').map_or(html.len(), |e| i + e + 1);
            let tag = &html[i..end];
            let closing = tag.starts_with("</");
            let name: String = tag
                .trim_start_matches(['<', '/'])
                .chars()
                .take_while(char::is_ascii_alphanumeric)
                .collect::<String>()
                .to_ascii_lowercase();
            if SKIPPED.contains(&name.as_str()) {
                skipping = if closing { skipping.saturating_sub(1) } else { skipping + 1 };
            }
            if BLOCKS.contains(&name.as_str()) {
                mark_block(&std::mem::take(&mut block), words, &mut inserts, &mut found);
            }
            run += 1;
            i = end;
            continue;
        }
        let end = html[i..].find('<').map_or(html.len(), |e| i + e);
        if skipping == 0 {
            block.extend(decode(&html[i..end], i, run));
        }
        i = end;
    }
    mark_block(&block, words, &mut inserts, &mut found);
    // At one place: closing marks before opening ones, and a sentence's
    // mark outside a word's, so they nest.
    inserts.sort_by_key(|(at, order, _)| (*at, *order));
    let mut out = String::with_capacity(html.len() + inserts.len() * 40);
    let mut from = 0;
    for (at, _, text) in inserts {
        out.push_str(&html[from..at]);
        out.push_str(&text);
        from = at;
    }
    out.push_str(&html[from..]);
    found.html = out;
    found
}

/// The characters of one run of escaped text, each with its place.
fn decode(text: &str, offset: usize, run: usize) -> Vec<Char> {
    const ENTITIES: &[(&str, char)] = &[
        ("&amp;", '&'),
        ("&lt;", '<'),
        ("&gt;", '>'),
        ("&quot;", '"'),
        ("&#39;", '\''),
        ("&#x27;", '\''),
        ("&nbsp;", ' '),
    ];
    let mut chars = Vec::new();
    let mut i = 0;
    while i < text.len() {
        let rest = &text[i..];
        let (c, len) = ENTITIES
            .iter()
            .find(|(entity, _)| rest.starts_with(entity))
            .map(|(entity, c)| (*c, entity.len()))
            .unwrap_or_else(|| {
                let c = rest.chars().next().expect("i is inside the text");
                (c, c.len_utf8())
            });
        chars.push(Char { c, start: offset + i, end: offset + i + len, run });
        i += len;
    }
    chars
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '\'' | '’' | '-')
}

/// Finds the long sentences and plainer words of one block and adds their
/// marks to `inserts`.
fn mark_block(block: &[Char], words: &PlainWords, inserts: &mut Vec<(usize, u8, String)>, found: &mut Marked) {
    // Words as (first, last) character indexes.
    let mut spans: Vec<(usize, usize)> = Vec::new();
    let mut i = 0;
    while i < block.len() {
        if block[i].c.is_alphanumeric() {
            let start = i;
            while i < block.len() && is_word_char(block[i].c) {
                i += 1;
            }
            let mut end = i - 1;
            while !block[end].c.is_alphanumeric() {
                end -= 1;
            }
            spans.push((start, end));
        } else {
            i += 1;
        }
    }
    let lower: Vec<String> =
        spans.iter().map(|&(s, e)| block[s..=e].iter().map(|c| c.c).collect::<String>().to_lowercase()).collect();

    // Sentences end at . ! or ? followed by a space or the end of the block.
    let mut sentence_start = 0;
    for (n, &(_, end)) in spans.iter().enumerate() {
        let after: Vec<char> = block[end + 1..].iter().map(|c| c.c).take_while(|c| !c.is_alphanumeric()).collect();
        let ends = after.iter().position(|c| matches!(c, '.' | '!' | '?')).is_some_and(|p| {
            after.get(p + 1).is_none_or(|c| c.is_whitespace()) || end + 1 + after.len() == block.len()
        }) || n + 1 == spans.len();
        if ends {
            let count = n + 1 - sentence_start;
            if count > LONG_SENTENCE_WORDS {
                let last = block[end + 1..]
                    .iter()
                    .take_while(|c| !c.c.is_alphanumeric())
                    .position(|c| matches!(c.c, '.' | '!' | '?'))
                    .map_or(end, |p| end + 1 + p);
                found.long_sentences += 1;
                wrap(block, spans[sentence_start].0, last, (1, 2), "<mark class=\"long-sentence\">", inserts);
            }
            sentence_start = n + 1;
        }
    }

    let mut n = 0;
    while n < spans.len() {
        match words.at(&lower[n..]) {
            Some((len, instead)) => {
                let (first, last) = (spans[n].0, spans[n + len - 1].1);
                let written: String = block[first..=last].iter().map(|c| c.c).collect();
                let open = format!("<mark class=\"plain-word\" data-plain=\"{}\">", escape(instead));
                wrap(block, first, last, (0, 3), &open, inserts);
                found.words.push((written, instead.to_string()));
                n += len;
            }
            None => n += 1,
        }
    }
}

/// Adds a mark around `block[first..=last]`, one per run of text it
/// crosses. `order` is (closing, opening) for sorting marks at one place.
fn wrap(
    block: &[Char],
    first: usize,
    last: usize,
    order: (u8, u8),
    open: &str,
    inserts: &mut Vec<(usize, u8, String)>,
) {
    let mut piece_start = first;
    for i in first..=last {
        let run_ends = i == last || block[i + 1].run != block[i].run;
        if run_ends {
            inserts.push((block[piece_start].start, order.1, open.to_string()));
            inserts.push((block[i].end, order.0, "</mark>".to_string()));
            piece_start = i + 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain() -> PlainWords {
        PlainWords::with(&BTreeMap::new())
    }

    #[test]
    fn words_with_plainer_alternatives_are_marked_with_them() {
        let marked = mark("<p>Please utilise the form prior to your visit.</p>", &plain());
        assert_eq!(
            marked.html,
            "<p>Please <mark class=\"plain-word\" data-plain=\"use\">utilise</mark> the form <mark class=\"plain-word\" data-plain=\"before\">prior to</mark> your visit.</p>"
        );
        assert_eq!(marked.words, [("utilise".into(), "use".into()), ("prior to".into(), "before".into())]);
        assert_eq!(marked.long_sentences, 0);
    }

    #[test]
    fn matching_ignores_case_and_respects_word_edges() {
        let marked = mark("<p>Approximately. Utilised is not on the list.</p>", &plain());
        assert_eq!(marked.words, [("Approximately".into(), "about".into())]);
    }

    #[test]
    fn the_clinic_can_add_words() {
        let extra = BTreeMap::from([("signage".to_string(), "signs".to_string())]);
        let marked = mark("<p>Follow the signage.</p>", &PlainWords::with(&extra));
        assert_eq!(marked.words, [("signage".into(), "signs".into())]);
    }

    #[test]
    fn long_sentences_are_marked_whole_across_tags_without_breaking_them() {
        let long = "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen twenty twenty-one twenty-two twenty-three twenty-four";
        let html = format!("<p>Short one. {long} <a href=\"/x/\">link words</a> end.</p>");
        let marked = mark(&html, &plain());
        assert_eq!(marked.long_sentences, 1);
        assert_eq!(
            marked.html,
            format!(
                "<p>Short one. <mark class=\"long-sentence\">{long} </mark><a href=\"/x/\"><mark class=\"long-sentence\">link words</mark></a><mark class=\"long-sentence\"> end.</mark></p>"
            )
        );
        // 25 words is not too long.
        let marked = mark(&format!("<p>{long} end.</p>"), &plain());
        assert_eq!(marked.long_sentences, 0);
    }

    #[test]
    fn entities_footnote_numbers_and_attributes_are_left_alone() {
        let html = "<p title=\"utilise\">Don&#39;t utilise it.<sup><a href=\"#n1\">1</a></sup></p>";
        let marked = mark(html, &plain());
        assert_eq!(
            marked.html,
            "<p title=\"utilise\">Don&#39;t <mark class=\"plain-word\" data-plain=\"use\">utilise</mark> it.<sup><a href=\"#n1\">1</a></sup></p>"
        );
    }

    #[test]
    fn marks_nest_inside_a_long_sentence() {
        let words = vec!["word"; 26].join(" ");
        let marked = mark(&format!("<li>We utilise {words}.</li>"), &plain());
        assert_eq!(marked.long_sentences, 1);
        assert!(marked.html.starts_with(
            "<li><mark class=\"long-sentence\">We <mark class=\"plain-word\" data-plain=\"use\">utilise</mark> word"
        ));
        assert!(marked.html.ends_with("word.</mark></li>"), "{}", marked.html);
    }
}
