//! Social card images: the 1200x630 PNG that messaging apps and social
//! networks show when someone shares a page. Drawn from an SVG template with
//! resvg and the DejaVu Sans font shipped in `static/fonts/` (compiled in, so
//! cards look the same on every machine and need no system fonts).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{Arc, OnceLock};

use resvg::{tiny_skia, usvg};
use sha2::{Digest, Sha256};
use skrifa::instance::{LocationRef, Size};
use skrifa::{FontRef, MetadataProvider};

use crate::cache::{Cache, Key, Kind};
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
    encode_png(&draw(card), CARD_ENCODING)
}

/// The same bytes, from `cache` when it has them (and saved to it when it
/// does not).
pub fn render_png_cached(card: &CardText, cache: Option<&Cache>) -> Vec<u8> {
    match cache {
        Some(cache) => cache.get_or_make(Kind::Card, &cache_key(card), || render_png(card)),
        None => render_png(card),
    }
}

/// A card's cache key: every field it shows, and everything that decides
/// how it looks as compiled in: this file (the template, colours, sizes
/// and wrapping), the fonts and the PNG settings.
pub fn cache_key(card: &CardText) -> Key {
    static LOOK: OnceLock<[u8; 32]> = OnceLock::new();
    let look = LOOK.get_or_init(|| {
        let mut hasher = Sha256::new();
        hasher.update(include_bytes!("card.rs"));
        hasher.update(FONT_REGULAR);
        hasher.update(FONT_BOLD);
        hasher.update(format!("{CARD_ENCODING:?}").as_bytes());
        hasher.finalize().into()
    });
    let article = card.article.as_deref().map(|a| format!("+{a}")).unwrap_or_default();
    Cache::key(
        Kind::Card,
        &[look, card.title.as_bytes(), article.as_bytes(), card.clinic.as_bytes(), card.site.as_bytes()],
    )
}

/// Draws a card's pixels (premultiplied RGBA; a card is fully opaque).
pub fn draw(card: &CardText) -> tiny_skia::Pixmap {
    let svg = render_svg(card);
    let options = usvg::Options { fontdb: fonts(), font_family: FAMILY.to_string(), ..usvg::Options::default() };
    let tree = usvg::Tree::from_str(&svg, &options).expect("the card template is valid SVG");
    let mut pixmap = tiny_skia::Pixmap::new(WIDTH, HEIGHT).expect("card size is not zero");
    resvg::render(&tree, tiny_skia::Transform::default(), &mut pixmap.as_mut());
    pixmap
}

/// How a card's pixels are laid out in the PNG. Every layout decodes to the
/// same pixels: `Rgb` only when every pixel is opaque, `Indexed` only when
/// there are at most 256 colours; otherwise the next wider one is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    Rgba,
    Rgb,
    Indexed,
}

/// PNG settings for a card.
#[derive(Debug, Clone, Copy)]
pub struct Encoding {
    pub layout: Layout,
    pub compression: png::Compression,
    pub filter: png::Filter,
}

/// What `tiny_skia::Pixmap::encode_png` does: RGBA, balanced deflate,
/// adaptive filter. Kept to compare against (benches/cards.rs).
pub const TINY_SKIA_ENCODING: Encoding =
    Encoding { layout: Layout::Rgba, compression: png::Compression::Balanced, filter: png::Filter::Adaptive };

/// The settings cards are written with, chosen by measurement
/// (`cargo bench --bench cards`; BENCHMARKS.md, "Cheaper cards and brotli
/// levels"). A card has about 100 colours (flat fills plus antialiased text
/// edges), so a palette holds it exactly; with the fast deflate and the
/// adaptive filter a card took about 4 ms and 24 KB, against 12-15 ms and
/// 34 KB for `TINY_SKIA_ENCODING`. Slower deflate levels save 3-6 KB more
/// for 2.5-4 times the time; no filter is 10 times the bytes.
pub const CARD_ENCODING: Encoding =
    Encoding { layout: Layout::Indexed, compression: png::Compression::Fast, filter: png::Filter::Adaptive };

/// Encodes a pixmap as PNG; the result decodes to exactly the pixmap's
/// (demultiplied) pixels whatever the settings.
pub fn encode_png(pixmap: &tiny_skia::Pixmap, encoding: Encoding) -> Vec<u8> {
    // A plain loop into a buffer of the right size: collecting a flat map
    // of arrays was a third of a card's encoding time.
    let mut rgba: Vec<u8> = Vec::with_capacity(pixmap.pixels().len() * 4);
    let mut opaque = true;
    for p in pixmap.pixels() {
        let c = p.demultiply();
        opaque &= c.alpha() == 255;
        rgba.extend_from_slice(&[c.red(), c.green(), c.blue(), c.alpha()]);
    }
    let mut layout = encoding.layout;
    let mut palette: Vec<[u8; 4]> = Vec::new();
    let mut indices: Vec<u8> = Vec::new();
    if layout == Layout::Indexed {
        match index(&rgba) {
            Some((p, i)) => (palette, indices) = (p, i),
            None => layout = Layout::Rgb,
        }
    }
    if layout != Layout::Rgba && !opaque {
        // Transparent pixels need the alpha channel (or a tRNS chunk, which
        // no card needs).
        layout = Layout::Rgba;
    }
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, pixmap.width(), pixmap.height());
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(encoding.compression);
    encoder.set_filter(encoding.filter);
    let data: Vec<u8> = match layout {
        Layout::Rgba => {
            encoder.set_color(png::ColorType::Rgba);
            rgba
        }
        Layout::Rgb => {
            encoder.set_color(png::ColorType::Rgb);
            rgba.chunks_exact(4).flat_map(|p| [p[0], p[1], p[2]]).collect()
        }
        Layout::Indexed => {
            encoder.set_color(png::ColorType::Indexed);
            encoder.set_palette(palette.iter().flat_map(|c| [c[0], c[1], c[2]]).collect::<Vec<u8>>());
            indices
        }
    };
    let mut writer = encoder.write_header().expect("writing a PNG header to memory cannot fail");
    writer.write_image_data(&data).expect("the data matches the header's size and layout");
    writer.finish().expect("writing to memory cannot fail");
    out
}

/// The palette and per-pixel indices, or `None` past 256 colours.
fn index(rgba: &[u8]) -> Option<(Vec<[u8; 4]>, Vec<u8>)> {
    let mut palette: Vec<[u8; 4]> = Vec::new();
    let mut lookup: HashMap<u32, u8, BuildHasherDefault<ColourHasher>> = HashMap::default();
    let mut indices = Vec::with_capacity(rgba.len() / 4);
    // Most pixels repeat their left neighbour (flat background, bands), so
    // check it before hashing.
    let mut last: Option<(u32, u8)> = None;
    for p in rgba.chunks_exact(4) {
        let colour = u32::from_le_bytes([p[0], p[1], p[2], p[3]]);
        if let Some((c, i)) = last
            && c == colour
        {
            indices.push(i);
            continue;
        }
        let i = match lookup.get(&colour) {
            Some(&i) => i,
            None => {
                let i = u8::try_from(palette.len()).ok()?;
                palette.push([p[0], p[1], p[2], p[3]]);
                lookup.insert(colour, i);
                i
            }
        };
        indices.push(i);
        last = Some((colour, i));
    }
    Some((palette, indices))
}

/// Hashes a colour (one `u32`) with one multiplication: the default
/// SipHash was a tenth of a card's encoding time, and colours are not
/// chosen by an attacker.
#[derive(Default)]
struct ColourHasher(u64);

impl Hasher for ColourHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8 | u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_u32(&mut self, n: u32) {
        self.0 = u64::from(n).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// How many distinct colours a pixmap has (to judge whether a palette fits).
pub fn distinct_colours(pixmap: &tiny_skia::Pixmap) -> usize {
    pixmap
        .pixels()
        .iter()
        .map(|p| (p.red(), p.green(), p.blue(), p.alpha()))
        .collect::<std::collections::HashSet<_>>()
        .len()
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

    /// The pixels a PNG decodes to, as RGBA, and its colour type.
    fn decode(bytes: &[u8]) -> (Vec<u8>, png::ColorType) {
        let mut decoder = png::Decoder::new(std::io::Cursor::new(bytes));
        decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::ALPHA);
        let mut reader = decoder.read_info().unwrap();
        let colour = reader.info().color_type;
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        buf.truncate(info.buffer_size());
        (buf, colour)
    }

    fn rgba(pixmap: &tiny_skia::Pixmap) -> Vec<u8> {
        pixmap
            .pixels()
            .iter()
            .flat_map(|p| {
                let c = p.demultiply();
                [c.red(), c.green(), c.blue(), c.alpha()]
            })
            .collect()
    }

    #[test]
    fn cards_decode_to_exactly_the_drawn_pixels_and_stay_small() {
        let mut long =
            card("How Dry Needling Therapy Effectively Relieves Migraines and Chronic Pain, and What to Expect");
        long.article = None;
        for text in [card("Is Dry Needling Safe?"), long] {
            let pixmap = draw(&text);
            let png = encode_png(&pixmap, CARD_ENCODING);
            let (pixels, colour) = decode(&png);
            assert_eq!(colour, png::ColorType::Indexed, "a card fits a palette");
            assert!(pixels == rgba(&pixmap), "the PNG of {:?} differs from the drawn pixels", text.title);
            assert!(png.len() < 300 * 1024, "{} bytes", png.len());
            // The same pixels tiny-skia's own encoder writes.
            assert!(decode(&pixmap.encode_png().unwrap()).0 == pixels);
            assert_eq!(render_png(&text), png);
        }
    }

    #[test]
    fn too_many_colours_or_transparency_fall_back_to_a_wider_layout() {
        // 300 greys: more than a palette holds.
        let mut many = tiny_skia::Pixmap::new(300, 2).unwrap();
        for (i, p) in many.pixels_mut().iter_mut().enumerate() {
            let v = (i % 300 * 255 / 299) as u8;
            *p = tiny_skia::ColorU8::from_rgba(v, 255 - v, (i % 7) as u8, 255).premultiply();
        }
        let (pixels, colour) = decode(&encode_png(&many, CARD_ENCODING));
        assert_eq!(colour, png::ColorType::Rgb);
        assert!(pixels == rgba(&many));
        // Half transparent: alpha must survive.
        let mut clear = tiny_skia::Pixmap::new(4, 4).unwrap();
        clear.fill(tiny_skia::Color::from_rgba8(10, 20, 30, 128));
        let (pixels, colour) = decode(&encode_png(&clear, CARD_ENCODING));
        assert_eq!(colour, png::ColorType::Rgba);
        assert!(pixels == rgba(&clear));
    }

    #[test]
    fn text_is_escaped_in_the_svg() {
        let svg = render_svg(&card("A<b> & \"q\""));
        assert!(svg.contains("A&lt;b&gt; &amp; &quot;q&quot;"), "{svg}");
        assert!(svg.contains("Clinic &amp; Co"));
    }
}
