//! Social card images: the 1200x630 PNG that messaging apps and social
//! networks show when someone shares a page. Drawn from an SVG template with
//! resvg and the DejaVu Sans font shipped in `static/fonts/` (compiled in, so
//! cards look the same on every machine and need no system fonts).

use std::sync::{Arc, OnceLock};

use resvg::{tiny_skia, usvg};
use skrifa::instance::{LocationRef, Size};
use skrifa::{FontRef, MetadataProvider};

use crate::util::html::escape;

pub(crate) const WIDTH: u32 = 1200;
pub(crate) const HEIGHT: u32 = 630;

const FONT_REGULAR: &[u8] = include_bytes!("../static/fonts/DejaVuSans.ttf");
const FONT_BOLD: &[u8] = include_bytes!("../static/fonts/DejaVuSans-Bold.ttf");
const FAMILY: &str = "DejaVu Sans";

/// Left and right margin, and the width text may fill.
const MARGIN: f32 = 80.0;
const TEXT_WIDTH: f32 = WIDTH as f32 - 2.0 * MARGIN;

/// What a card shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardText {
    /// The page's title, largest.
    pub title: String,
    /// The article the page belongs to; `None` on the article's own card.
    pub article: Option<String>,
    pub clinic: String,
    /// The site's address without `https://`, in the footer band.
    pub site: String,
}

/// Renders a card to PNG bytes.
pub fn render_png(card: &CardText) -> Vec<u8> {
    let svg = render_svg(card);
    let options = usvg::Options { fontdb: fonts(), font_family: FAMILY.to_string(), ..usvg::Options::default() };
    let tree = usvg::Tree::from_str(&svg, &options).expect("the card template is valid SVG");
    let mut pixmap = tiny_skia::Pixmap::new(WIDTH, HEIGHT).expect("card size is not zero");
    resvg::render(&tree, tiny_skia::Transform::default(), &mut pixmap.as_mut());
    pixmap.encode_png().expect("encoding a pixmap in memory cannot fail")
}

fn fonts() -> Arc<usvg::fontdb::Database> {
    static FONTS: OnceLock<Arc<usvg::fontdb::Database>> = OnceLock::new();
    FONTS
        .get_or_init(|| {
            let mut db = usvg::fontdb::Database::new();
            db.load_font_data(FONT_REGULAR.to_vec());
            db.load_font_data(FONT_BOLD.to_vec());
            Arc::new(db)
        })
        .clone()
}

/// The card as SVG: a calm branded background, the clinic's name, the title
/// as large as fits in three lines, and the article's name below it.
pub(crate) fn render_svg(card: &CardText) -> String {
    let (size, title_lines) = fit(&card.title, FONT_BOLD, &[76.0, 68.0, 60.0, 52.0, 46.0], 3);
    let mut svg = format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}">
<rect width="{WIDTH}" height="{HEIGHT}" fill="#f2f5f7"/>
<rect width="{WIDTH}" height="16" fill="#005a70"/>
<rect x="{MARGIN}" y="96" width="96" height="8" fill="#005a70"/>
<text x="{MARGIN}" y="76" font-family="{FAMILY}" font-weight="bold" font-size="30" fill="#005a70">{clinic}</text>
"##,
        clinic = escape(&card.clinic)
    );
    let line_height = size * 1.18;
    let mut y = 150.0 + size;
    for line in &title_lines {
        svg.push_str(&format!(
            r##"<text x="{MARGIN}" y="{y:.0}" font-family="{FAMILY}" font-weight="bold" font-size="{size}" fill="#1d2428">{}</text>
"##,
            escape(line)
        ));
        y += line_height;
    }
    if let Some(article) = &card.article {
        let (_, lines) = fit(article, FONT_REGULAR, &[32.0], 2);
        y += 12.0;
        for line in lines {
            svg.push_str(&format!(
                r##"<text x="{MARGIN}" y="{y:.0}" font-family="{FAMILY}" font-size="32" fill="#4a5560">{}</text>
"##,
                escape(&line)
            ));
            y += 42.0;
        }
    }
    svg.push_str(&format!(
        r##"<rect y="534" width="{WIDTH}" height="96" fill="#005a70"/>
<text x="{MARGIN}" y="594" font-family="{FAMILY}" font-size="30" fill="#ffffff">{}</text>
</svg>
"##,
        escape(&card.site)
    ));
    svg
}

/// Wraps `text` at the largest size that fits in `max_lines`; at the
/// smallest size, lines past the limit are cut with an ellipsis.
fn fit(text: &str, font: &[u8], sizes: &[f32], max_lines: usize) -> (f32, Vec<String>) {
    let font = FontRef::new(font).expect("the shipped font parses");
    for &size in sizes {
        let lines = wrap(text, &font, size);
        if lines.len() <= max_lines {
            return (size, lines);
        }
    }
    let size = *sizes.last().expect("at least one size");
    let mut lines = wrap(text, &font, size);
    lines.truncate(max_lines);
    if let Some(last) = lines.last_mut() {
        while width(&format!("{last}…"), &font, size) > TEXT_WIDTH && last.contains(' ') {
            last.truncate(last.rfind(' ').expect("checked above"));
        }
        last.push('…');
    }
    (size, lines)
}

/// Greedy word wrap by measured glyph advances.
fn wrap(text: &str, font: &FontRef<'_>, size: f32) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let candidate = if line.is_empty() { word.to_string() } else { format!("{line} {word}") };
        if !line.is_empty() && width(&candidate, font, size) > TEXT_WIDTH {
            lines.push(std::mem::replace(&mut line, word.to_string()));
        } else {
            line = candidate;
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

fn width(text: &str, font: &FontRef<'_>, size: f32) -> f32 {
    let charmap = font.charmap();
    let metrics = font.glyph_metrics(Size::new(size), LocationRef::default());
    text.chars().filter_map(|c| charmap.map(c)).filter_map(|g| metrics.advance_width(g)).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn card(title: &str) -> CardText {
        CardText {
            title: title.into(),
            article: Some("An article".into()),
            clinic: "Clinic & Co".into(),
            site: "clinic.test".into(),
        }
    }

    #[test]
    fn long_titles_shrink_then_wrap_within_three_lines() {
        let font = FontRef::new(FONT_BOLD).unwrap();
        let (size, lines) = fit(
            "How Dry Needling Therapy Effectively Relieves Migraines and Chronic Pain",
            FONT_BOLD,
            &[76.0, 68.0, 60.0],
            3,
        );
        assert!(lines.len() <= 3);
        assert!(lines.iter().all(|l| width(l, &font, size) <= TEXT_WIDTH), "{lines:?}");
        assert_eq!(lines.join(" "), "How Dry Needling Therapy Effectively Relieves Migraines and Chronic Pain");
        let (_, cut) = fit(&"word ".repeat(200), FONT_BOLD, &[46.0], 3);
        assert_eq!(cut.len(), 3);
        assert!(cut[2].ends_with('…'));
    }

    #[test]
    fn text_is_escaped_in_the_svg() {
        let svg = render_svg(&card("A<b> & \"q\""));
        assert!(svg.contains("A&lt;b&gt; &amp; &quot;q&quot;"), "{svg}");
        assert!(svg.contains("Clinic &amp; Co"));
    }
}
