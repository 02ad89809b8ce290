//! Markdown to HTML for one page.
//!
//! Steps, in the order [`render`] runs them over pulldown-cmark's events:
//! 1. Parse with the extensions staff may use ([`parser`]).
//! 2. Turn raw HTML typed into the markdown into plain text: page text is not
//!    trusted to be safe, so nothing typed in a page can run in a browser.
//! 3. Drop links and images whose address could run script (`javascript:`,
//!    `data:`, ...), keeping their text.
//! 4. Give every heading a unique id and a visible anchor link, and collect
//!    the headings for the "On this page" list.
//! 5. Turn `> [!URGENT] Title` blockquotes into care-card style callouts.
//! 6. Turn `[^key]` markers into numbered links to the page's reference
//!    list (the sources themselves are in `content/sources.toml`).
//! 7. Give pictures uploaded from the staff pages their other sizes
//!    (`srcset`), width and height, from the static files read for this
//!    version ([`Pictures`]), so a page loads the size a screen needs and
//!    does not jump as pictures arrive.
//! 8. Write HTML, and return the links and citations so they can be checked
//!    once every page has rendered (a link may point at a heading on
//!    another page, a citation at a source).

use std::collections::{HashMap, HashSet};
use std::ops::Range;

use pulldown_cmark::{CowStr, Event, HeadingLevel, Options, Parser, Tag, TagEnd};

use crate::content::{Article, Bibliography, Content, Date, Page};
use crate::urls;
use crate::util::html::escape;
use crate::util::slug::slugify;

/// One page's markdown, rendered.
#[derive(Debug, Clone, Default)]
pub struct Rendered {
    pub html: String,
    /// Every heading in order, with its final id.
    pub headings: Vec<Heading>,
    /// Every link and image address, for checking after all pages render.
    pub links: Vec<Link>,
    /// Words of running text, for reading time.
    pub words: usize,
    /// The text a reader reads, one block (paragraph, heading, list item)
    /// per line, for readability figures.
    pub text: String,
    /// Things staff should hear about; the page still renders.
    pub notes: Vec<Note>,
    /// Every `[^key]` marker, in order.
    pub citations: Vec<Citation>,
}

impl Rendered {
    /// Cited source keys in the order of their first marker: the numbers
    /// the markers show are positions in this list, plus one.
    pub(crate) fn cited_keys(&self) -> Vec<&str> {
        let mut keys: Vec<&str> = Vec::new();
        for citation in &self.citations {
            if !keys.contains(&citation.key.as_str()) {
                keys.push(&citation.key);
            }
        }
        keys
    }

    /// The ids of the markers citing `key`, for the reference list's links
    /// back to the text.
    pub(crate) fn marker_ids(&self, key: &str) -> Vec<&str> {
        self.citations.iter().filter(|c| c.key == key).map(|c| c.id.as_str()).collect()
    }
}

/// A `[^key]` marker in the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Citation {
    /// The source's key in `content/sources.toml`, lowercased.
    pub key: String,
    /// The marker's own id, for the link back from the reference list.
    pub id: String,
    /// Byte offset in the markdown, for the line number in messages.
    pub offset: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heading {
    /// 2 to 6: the page title is the only h1.
    pub level: u8,
    pub id: String,
    pub text: String,
    /// Byte offset in the markdown, for the line number in messages.
    pub offset: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub dest: String,
    pub is_image: bool,
    /// The link's text, or an image's alt text.
    pub text: String,
    /// Byte offset in the markdown, for the line number in messages.
    pub offset: usize,
}

/// Something in the markdown that was changed or left out while rendering.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    pub offset: usize,
    pub kind: NoteKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoteKind {
    /// Raw HTML was shown as text.
    RawHtml,
    /// A link or image address with a scheme that could run script was dropped.
    UnsafeAddress(String),
    /// `# Heading` in the body was shown as an h2: the title is the page's h1.
    TitleLevelHeading,
    /// `> [!WORD]` with a word that is not a callout type.
    UnknownCallout(String),
    /// A callout that must say what to do in its heading has none.
    CalloutWithoutHeading(Callout),
    /// `[^note]: text`: sources live in `content/sources.toml`, not in pages.
    FootnoteDefinition(String),
}

/// The kinds of callout staff can type, modelled on the NHS care cards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Callout {
    Info,
    NonUrgent,
    Urgent,
    Emergency,
    /// How strong the evidence is for what the page says.
    Evidence,
}

impl Callout {
    pub(crate) const ALL: [Callout; 5] =
        [Callout::Info, Callout::NonUrgent, Callout::Urgent, Callout::Emergency, Callout::Evidence];

    /// What staff type after `> [!`.
    pub fn marker(self) -> &'static str {
        match self {
            Callout::Info => "INFO",
            Callout::NonUrgent => "NON-URGENT",
            Callout::Urgent => "URGENT",
            Callout::Emergency => "EMERGENCY",
            Callout::Evidence => "EVIDENCE",
        }
    }

    /// Read out before the heading, so the level is not told by colour alone.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Callout::Info => "Information",
            Callout::NonUrgent => "Non-urgent advice",
            Callout::Urgent => "Urgent advice",
            Callout::Emergency => "Immediate action required",
            Callout::Evidence => "About the evidence",
        }
    }

    /// Heading used when staff write no title after the marker.
    pub(crate) fn default_title(self) -> &'static str {
        match self {
            Callout::Info => "Good to know",
            Callout::NonUrgent => "Contact your physical therapist if",
            Callout::Urgent => "Get medical help straight away if",
            Callout::Emergency => "Call your local emergency number if",
            Callout::Evidence => "How strong is the evidence?",
        }
    }

    fn class(self) -> &'static str {
        match self {
            Callout::Info => "callout-info",
            Callout::NonUrgent => "callout-non-urgent",
            Callout::Urgent => "callout-urgent",
            Callout::Emergency => "callout-emergency",
            Callout::Evidence => "callout-evidence",
        }
    }

    /// Emergency advice is read in a hurry: its heading must say what to
    /// do ("Call 911 if"), never a generic one.
    fn needs_heading(self) -> bool {
        self == Callout::Emergency
    }

    fn from_marker(marker: &str) -> Option<Callout> {
        Callout::ALL.into_iter().find(|c| c.marker().eq_ignore_ascii_case(marker))
    }
}

/// Ids the page templates use themselves; a heading never takes one.
pub const RESERVED_IDS: &[&str] = &[
    "main-content",
    "on-this-page",
    "in-this-article",
    "page-title",
    "sources",
    "share-heading",
    "share-status",
    "comments",
    "comments-heading",
    "comment-received",
    "feedback",
    "feedback-heading",
    "what-this-article-covers",
    "feeling-unwell",
];

/// Uploaded pictures' sizes, from the names of the files in
/// `static/images/` ([`urls::ImageName`]): rendering reads no files.
#[derive(Debug, Clone, Default)]
pub struct Pictures {
    /// By stem, largest first.
    sizes: HashMap<String, Vec<PictureSize>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct PictureSize {
    /// As typed in a page: `/static/images/knee-3f9a1c2b7d-1600x1067.jpg`.
    plain: String,
    /// Where it is served from (the content-hashed name, cached for good).
    url: String,
    width: u32,
    height: u32,
}

/// How wide a picture shows: the text column (40rem inside its padding),
/// or the screen less the padding on a phone.
const PICTURE_SIZES: &str = "(min-width: 42rem) 40rem, calc(100vw - 2rem)";

impl Pictures {
    /// From the static files' addresses, each with the address to serve it
    /// at; files that are not uploaded pictures are passed over.
    pub fn new<'f>(files: impl IntoIterator<Item = (&'f str, String)>) -> Pictures {
        let mut sizes: HashMap<String, Vec<PictureSize>> = HashMap::new();
        for (plain, url) in files {
            let Some(name) = plain.strip_prefix(urls::IMAGES).and_then(urls::ImageName::parse) else { continue };
            let size = PictureSize { plain: plain.to_string(), url, width: name.width, height: name.height };
            sizes.entry(name.stem.to_string()).or_default().push(size);
        }
        for list in sizes.values_mut() {
            list.sort_by(|a, b| b.width.cmp(&a.width).then_with(|| a.plain.cmp(&b.plain)));
        }
        Pictures { sizes }
    }

    /// The sizes of the picture at `dest`, if it is an uploaded one that
    /// exists (a missing file is left as typed, for `check` to report).
    fn of(&self, dest: &str) -> Option<&[PictureSize]> {
        let name = urls::ImageName::parse(dest.strip_prefix(urls::IMAGES)?)?;
        let sizes = self.sizes.get(name.stem)?;
        sizes.iter().any(|size| size.plain == dest).then_some(sizes.as_slice())
    }
}

/// An uploaded picture's `<img>`: the largest size as `src` (and its width
/// and height, for the space it takes), every size in `srcset`, loaded
/// when it nears the screen.
fn picture_html(sizes: &[PictureSize], alt: &str, title: &str) -> String {
    let largest = &sizes[0];
    let mut html = format!("<img src=\"{}\"", escape(&largest.url));
    if sizes.len() > 1 {
        let srcset: Vec<String> =
            sizes.iter().rev().map(|size| format!("{} {}w", escape(&size.url), size.width)).collect();
        html.push_str(&format!(" srcset=\"{}\" sizes=\"{PICTURE_SIZES}\"", srcset.join(", ")));
    }
    html.push_str(&format!(" width=\"{}\" height=\"{}\" alt=\"{}\"", largest.width, largest.height, escape(alt)));
    if !title.is_empty() {
        html.push_str(&format!(" title=\"{}\"", escape(title)));
    }
    html.push_str(" loading=\"lazy\" decoding=\"async\">");
    html
}

/// The one place that decides which markdown extensions pages get.
pub fn parser(markdown: &str) -> Parser<'_> {
    let options = Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_SMART_PUNCTUATION
        | Options::ENABLE_HEADING_ATTRIBUTES;
    Parser::new_ext(markdown, options)
}

/// How a body is placed in its page.
#[derive(Debug, Clone, Default)]
pub(crate) struct RenderOptions<'a> {
    /// Levels to push headings down, for pages that put several bodies
    /// under their own headings (the printable article).
    pub heading_shift: u8,
    /// Put before every heading id, keeping ids unique across bodies.
    pub id_prefix: &'a str,
    /// Uploaded pictures' sizes; without them images render as typed.
    pub pictures: Option<&'a Pictures>,
}

/// Renders one page's markdown body.
pub fn render(markdown: &str) -> Rendered {
    render_with(markdown, &RenderOptions::default())
}

pub(crate) fn render_with(markdown: &str, options: &RenderOptions<'_>) -> Rendered {
    let source = with_marker_definitions(markdown);
    let events: Vec<(Event<'_>, Range<usize>)> = parser(&source).into_offset_iter().collect();
    let mut writer = Writer {
        shift: options.heading_shift,
        prefix: options.id_prefix.to_string(),
        body_len: markdown.len(),
        pictures: options.pictures,
        ..Writer::default()
    };
    writer.run(events);
    let mut html = String::with_capacity(markdown.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, writer.out.into_iter());
    Rendered {
        html,
        headings: writer.headings,
        links: writer.links,
        words: writer.words,
        text: writer.text,
        notes: writer.notes,
        citations: writer.citations,
    }
}

/// pulldown-cmark reads `[^key]` as a footnote marker only when a
/// `[^key]: ...` definition exists. Our markers point at the site's
/// bibliography instead, so a definition is added after the text for every
/// marker; the definitions are dropped while rendering, and offsets in the
/// text are unchanged because they come after it.
fn with_marker_definitions(markdown: &str) -> std::borrow::Cow<'_, str> {
    let mut labels: Vec<&str> = Vec::new();
    let mut rest = markdown;
    while let Some(start) = rest.find("[^") {
        let after = &rest[start + 2..];
        let end = after.find(']').unwrap_or(after.len());
        let label = &after[..end];
        if end < after.len()
            && !label.is_empty()
            && !label.contains(|c: char| c.is_whitespace() || c == '[')
            && !labels.contains(&label)
        {
            labels.push(label);
        }
        rest = &after[end.min(after.len())..];
    }
    if labels.is_empty() {
        return markdown.into();
    }
    let mut source = String::with_capacity(markdown.len() + labels.len() * 16);
    source.push_str(markdown);
    source.push_str("\n\n");
    for label in labels {
        source.push_str(&format!("[^{label}]: .\n\n"));
    }
    source.into()
}

#[derive(Default)]
struct Writer<'a> {
    out: Vec<Event<'a>>,
    headings: Vec<Heading>,
    ids: HashSet<String>,
    links: Vec<Link>,
    notes: Vec<Note>,
    words: usize,
    text: String,
    /// The link or image whose text is being read, as an index in `links`.
    open_link: Option<usize>,
    /// Whether each open blockquote became a callout, to close it right.
    quotes: Vec<bool>,
    /// Inside a link whose address was dropped: skip its end tag.
    dropped_link: bool,
    /// The deepest heading level so far; callout headings nest under it.
    last_level: u8,
    shift: u8,
    prefix: String,
    /// Length of the text staff wrote; events after it are the added
    /// marker definitions.
    body_len: usize,
    citations: Vec<Citation>,
    /// Cited keys in first-cited order: a marker's number is its place here.
    cited: Vec<String>,
    /// Inside a footnote definition, which is not shown.
    in_definition: bool,
    pictures: Option<&'a Pictures>,
    /// Inside an uploaded picture: where its events start in `out` (they
    /// are replaced by one `<img>` at its end), its sizes and title.
    open_picture: Option<(usize, &'a [PictureSize], String)>,
}

impl<'a> Writer<'a> {
    fn run(&mut self, events: Vec<(Event<'a>, Range<usize>)>) {
        self.last_level = 1 + self.shift;
        let mut events = events.into_iter().peekable();
        while let Some((event, range)) = events.next() {
            if self.in_definition {
                self.in_definition = !matches!(event, Event::End(TagEnd::FootnoteDefinition));
                continue;
            }
            match event {
                Event::Start(Tag::FootnoteDefinition(label)) => {
                    if range.start < self.body_len {
                        self.notes
                            .push(Note { offset: range.start, kind: NoteKind::FootnoteDefinition(label.to_string()) });
                    }
                    self.in_definition = true;
                }
                Event::FootnoteReference(label) => self.citation(&label, range.start),
                Event::Start(Tag::Heading { level, id, .. }) => {
                    let mut inner = Vec::new();
                    for (event, range) in events.by_ref() {
                        if matches!(event, Event::End(TagEnd::Heading(_))) {
                            break;
                        }
                        inner.push((event, range));
                    }
                    self.heading(level, id, inner, range.start);
                }
                Event::Start(Tag::BlockQuote(_)) => {
                    let callout = self.open_quote(&mut events, range.start);
                    self.quotes.push(callout);
                }
                Event::End(TagEnd::BlockQuote(_)) => {
                    if self.quotes.pop().unwrap_or(false) {
                        self.out.push(Event::Html("</div>\n".into()));
                    } else {
                        self.out.push(Event::End(TagEnd::BlockQuote(None)));
                    }
                }
                other => self.inline(other, range),
            }
        }
    }

    /// Everything that is not a heading or blockquote boundary.
    fn inline(&mut self, event: Event<'a>, range: Range<usize>) {
        match event {
            Event::Html(html) | Event::InlineHtml(html) => {
                self.notes.push(Note { offset: range.start, kind: NoteKind::RawHtml });
                self.count_words(&html);
                self.out.push(Event::Text(html));
            }
            // Raw HTML blocks become paragraphs of visible text.
            Event::Start(Tag::HtmlBlock) => self.out.push(Event::Start(Tag::Paragraph)),
            Event::End(TagEnd::HtmlBlock) => self.out.push(Event::End(TagEnd::Paragraph)),
            Event::Start(Tag::Link { link_type, dest_url, title, id }) => {
                if let Some(scheme) = unsafe_scheme(&dest_url) {
                    self.notes.push(Note { offset: range.start, kind: NoteKind::UnsafeAddress(scheme) });
                    self.dropped_link = true;
                } else {
                    self.open_link = Some(self.links.len());
                    self.links.push(Link {
                        dest: dest_url.to_string(),
                        is_image: false,
                        text: String::new(),
                        offset: range.start,
                    });
                    self.out.push(Event::Start(Tag::Link { link_type, dest_url, title, id }));
                }
            }
            Event::End(TagEnd::Link) if self.dropped_link => self.dropped_link = false,
            Event::End(TagEnd::Image) if self.open_picture.is_some() => {
                let (start, sizes, title) = self.open_picture.take().expect("matched above");
                let alt =
                    self.open_link.and_then(|i| self.links.get(i)).map(|link| link.text.clone()).unwrap_or_default();
                self.out.truncate(start);
                self.out.push(Event::Html(picture_html(sizes, &alt, &title).into()));
                self.open_link = None;
            }
            Event::End(TagEnd::Link | TagEnd::Image) => {
                self.open_link = None;
                self.out.push(event);
            }
            Event::End(TagEnd::Paragraph | TagEnd::Item | TagEnd::TableCell | TagEnd::CodeBlock) => {
                self.end_block();
                self.out.push(event);
            }
            Event::SoftBreak | Event::HardBreak => {
                self.text.push(' ');
                self.out.push(event);
            }
            Event::Start(Tag::Image { link_type, dest_url, title, id }) => {
                if let Some(scheme) = unsafe_scheme(&dest_url) {
                    self.notes.push(Note { offset: range.start, kind: NoteKind::UnsafeAddress(scheme) });
                    // Keep the image's place with a harmless empty source so
                    // its alt text still shows.
                    self.out.push(Event::Start(Tag::Image { link_type, dest_url: "".into(), title, id }));
                } else {
                    self.open_link = Some(self.links.len());
                    self.links.push(Link {
                        dest: dest_url.to_string(),
                        is_image: true,
                        text: String::new(),
                        offset: range.start,
                    });
                    match self.pictures.and_then(|pictures| pictures.of(&dest_url)) {
                        // The alt text's events still go to `out` (and to the
                        // link's text); the end tag replaces them.
                        Some(sizes) => self.open_picture = Some((self.out.len(), sizes, title.to_string())),
                        None => self.out.push(Event::Start(Tag::Image { link_type, dest_url, title, id })),
                    }
                }
            }
            Event::Text(ref text) | Event::Code(ref text) => {
                self.count_words(text);
                self.text.push_str(text);
                if let Some(link) = self.open_link.and_then(|i| self.links.get_mut(i)) {
                    link.text.push_str(text);
                }
                self.out.push(event);
            }
            other => self.out.push(other),
        }
    }

    /// A numbered marker linking to the source in the page's reference list.
    /// The number is the source's place in the order sources are first
    /// cited, the order the list is in.
    fn citation(&mut self, label: &str, offset: usize) {
        let key = label.to_lowercase();
        let number = match self.cited.iter().position(|k| *k == key) {
            Some(i) => i + 1,
            None => {
                self.cited.push(key.clone());
                self.cited.len()
            }
        };
        let occurrence = self.citations.iter().filter(|c| c.key == key).count() + 1;
        let safe = escape(&key);
        let id = format!("{}cite-{safe}-{occurrence}", self.prefix);
        self.out.push(Event::Html(
            format!("<sup class=\"citation\"><a href=\"#{}ref-{safe}\" id=\"{id}\">[<span class=\"visually-hidden\">source </span>{number}]</a></sup>", self.prefix).into(),
        ));
        self.citations.push(Citation { key, id, offset });
    }

    fn end_block(&mut self) {
        if !self.text.is_empty() && !self.text.ends_with('\n') {
            self.text.push('\n');
        }
    }

    fn count_words(&mut self, text: &str) {
        self.words += text.split_whitespace().filter(|w| w.chars().any(char::is_alphanumeric)).count();
    }

    fn heading(
        &mut self,
        level: HeadingLevel,
        id: Option<CowStr<'a>>,
        inner: Vec<(Event<'a>, Range<usize>)>,
        offset: usize,
    ) {
        let mut level = level as u8;
        if level == 1 {
            self.notes.push(Note { offset, kind: NoteKind::TitleLevelHeading });
            level = 2;
        }
        let level = (level + self.shift).min(6);
        let text = plain_text(inner.iter().map(|(e, _)| e));
        let id = self.unique_id(id.as_deref().map(slugify).filter(|s| !s.is_empty()).unwrap_or_else(|| slugify(&text)));
        self.out.push(Event::Html(format!("<div class=\"heading\"><h{level} id=\"{id}\">").into()));
        for (event, range) in inner {
            self.inline(event, range);
        }
        self.out.push(Event::Html(heading_close(level, &id, &text).into()));
        self.end_block();
        self.last_level = level;
        self.headings.push(Heading { level, id, text, offset });
    }

    /// Opens a blockquote. If it starts with `[!MARKER] Optional title`, it
    /// becomes a callout: the marker line is consumed and turned into the
    /// callout's heading, and `true` is returned.
    fn open_quote<I>(&mut self, events: &mut std::iter::Peekable<I>, offset: usize) -> bool
    where
        I: Iterator<Item = (Event<'a>, Range<usize>)>,
    {
        if !matches!(events.peek(), Some((Event::Start(Tag::Paragraph), _))) {
            self.out.push(Event::Start(Tag::BlockQuote(None)));
            return false;
        }
        // pulldown-cmark splits text at brackets, so gather the first line's
        // text events before looking for the marker.
        let mut lookahead = vec![events.next().expect("peeked above")];
        let mut line = String::new();
        while let Some((Event::Text(text), _)) = events.peek() {
            line.push_str(text);
            lookahead.push(events.next().expect("peeked above"));
        }
        let marker = line.strip_prefix("[!").and_then(|rest| rest.split_once(']'));
        let callout = marker.and_then(|(word, _)| Callout::from_marker(word.trim()));
        let Some(callout) = callout else {
            if let Some((word, _)) =
                marker.filter(|(w, _)| !w.is_empty() && w.chars().all(|c| c.is_ascii_alphabetic() || c == '-'))
            {
                self.notes.push(Note { offset, kind: NoteKind::UnknownCallout(word.to_string()) });
            }
            self.out.push(Event::Start(Tag::BlockQuote(None)));
            for (event, range) in lookahead {
                self.inline(event, range);
            }
            return false;
        };
        let written = marker.map(|(_, rest)| rest.trim()).filter(|t| !t.is_empty());
        if written.is_none() && callout.needs_heading() {
            self.notes.push(Note { offset, kind: NoteKind::CalloutWithoutHeading(callout) });
        }
        let title = written.unwrap_or(callout.default_title()).to_string();
        let level = (self.last_level + 1).clamp(2 + self.shift, 4 + self.shift).min(6);
        let id = self.unique_id(slugify(&title));
        self.out.push(Event::Html(
            format!(
                "<div class=\"callout {}\">\n<div class=\"heading\"><h{level} id=\"{id}\" class=\"callout-heading\"><span class=\"callout-label\">{}<span class=\"visually-hidden\">:</span></span> {}</h{level}>",
                callout.class(),
                callout.label(),
                escape(&title)
            )
            .into(),
        ));
        self.out.push(Event::Html(heading_anchor(&id, &title).into()));
        self.count_words(&title);
        self.text.push_str(&title);
        self.end_block();
        self.headings.push(Heading { level, id, text: title, offset });
        // The marker line is the heading; what follows it on the next lines
        // of the same paragraph is the callout's first paragraph.
        match events.peek() {
            Some((Event::End(TagEnd::Paragraph), _)) => {
                events.next();
            }
            Some((Event::SoftBreak | Event::HardBreak, _)) => {
                events.next();
                self.out.push(Event::Start(Tag::Paragraph));
            }
            _ => self.out.push(Event::Start(Tag::Paragraph)),
        }
        true
    }

    /// Makes an id unique on the page with -1, -2, ... and keeps clear of
    /// the ids the templates use.
    fn unique_id(&mut self, base: String) -> String {
        let base = if base.is_empty() { "section".to_string() } else { base };
        // Citation markers and reference list entries use these prefixes.
        let base = if base.starts_with("cite-") || base.starts_with("ref-") { format!("section-{base}") } else { base };
        let base = format!("{}{base}", self.prefix);
        let mut id = base.clone();
        let mut n = 1;
        while self.ids.contains(&id) || RESERVED_IDS.contains(&id.as_str()) {
            id = format!("{base}-{n}");
            n += 1;
        }
        self.ids.insert(id.clone());
        id
    }
}

fn heading_close(level: u8, id: &str, text: &str) -> String {
    format!("</h{level}>{}", heading_anchor(id, text))
}

/// The visible `#` link beside a heading, closing the heading's wrapper. It
/// sits outside the `<h*>` so the heading's accessible name stays its text.
fn heading_anchor(id: &str, text: &str) -> String {
    format!(
        "<a class=\"heading-anchor\" href=\"#{id}\"><span aria-hidden=\"true\">#</span><span class=\"visually-hidden\">Link to this part: {}</span></a></div>\n",
        escape(text)
    )
}

fn plain_text<'e>(events: impl Iterator<Item = &'e Event<'e>>) -> String {
    let mut text = String::new();
    for event in events {
        match event {
            Event::Text(t) | Event::Code(t) | Event::Html(t) | Event::InlineHtml(t) => text.push_str(t),
            Event::SoftBreak | Event::HardBreak => text.push(' '),
            _ => {}
        }
    }
    text.trim().to_string()
}

/// The scheme of an address that must not be a link, if it has one.
/// Browsers ignore tabs, newlines and control characters inside a scheme
/// (`java\tscript:`), so those are removed before looking.
fn unsafe_scheme(dest: &str) -> Option<String> {
    let cleaned: String = dest.chars().filter(|c| !c.is_ascii_whitespace() && !c.is_control()).collect();
    let end = cleaned.find([':', '/', '?', '#'])?;
    if !cleaned[end..].starts_with(':') || end == 0 {
        return None;
    }
    let scheme = cleaned[..end].to_ascii_lowercase();
    let is_scheme = scheme.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    (is_scheme && !matches!(scheme.as_str(), "http" | "https" | "mailto" | "tel")).then_some(scheme)
}

/// One article's pages rendered from markdown, each with its address.
/// Owned, so a site version can keep it: a new comment then re-runs only
/// the page's template, not the markdown.
#[derive(Debug, Clone)]
pub(crate) struct RenderedPages {
    pub url: String,
    pub index: (String, Rendered),
    pub sections: Vec<(String, Rendered)>,
}

impl RenderedPages {
    pub fn new(article: &Article, pictures: &Pictures) -> Self {
        let options = RenderOptions { pictures: Some(pictures), ..RenderOptions::default() };
        let url = urls::article(&article.slug);
        let index = (url.clone(), render_with(article.index.body(), &options));
        let sections =
            article.sections.iter().map(|s| (urls::section(&url, &s.slug), render_with(s.body(), &options))).collect();
        RenderedPages { url, index, sections }
    }

    /// Every article of `content`, in content order, on every core (a
    /// library of 5,000 pages spends about a second here).
    pub fn all(content: &Content, pictures: &Pictures) -> Vec<RenderedPages> {
        crate::asset::par_map(content.articles.iter().collect(), |article| RenderedPages::new(article, pictures))
    }
}

/// An article beside its rendered pages: what templates and checks read.
#[derive(Clone, Copy)]
pub(crate) struct RenderedArticle<'c> {
    pub article: &'c Article,
    pub bibliography: &'c Bibliography,
    pub rendered: &'c RenderedPages,
}

impl<'c> RenderedArticle<'c> {
    /// `content`'s articles paired with `rendered`, which
    /// [`RenderedPages::all`] made from the same content.
    pub fn all(content: &'c Content, rendered: &'c [RenderedPages]) -> Vec<RenderedArticle<'c>> {
        debug_assert_eq!(content.articles.len(), rendered.len(), "rendered from this content");
        content
            .articles
            .iter()
            .zip(rendered)
            .map(|(article, rendered)| RenderedArticle { article, bibliography: &content.bibliography, rendered })
            .collect()
    }

    /// The article's address: `/dry-needling/`.
    pub fn url(&self) -> &'c str {
        &self.rendered.url
    }

    pub fn title(&self) -> &'c str {
        &self.article.index.front.title
    }

    pub(crate) fn print_url(&self) -> String {
        urls::print(self.url())
    }

    /// The front page then the sections, in reading order.
    pub fn pages(&self) -> impl Iterator<Item = (&'c Page, &'c str, &'c Rendered)> + 'c {
        let rendered = self.rendered;
        std::iter::once((&self.article.index, rendered.index.0.as_str(), &rendered.index.1))
            .chain(self.article.sections.iter().zip(&rendered.sections).map(|(page, (url, r))| (page, url.as_str(), r)))
    }

    pub fn words(&self) -> usize {
        self.pages().map(|(_, _, r)| r.words).sum()
    }

    /// The newest date any of its pages changed or was reviewed.
    pub(crate) fn last_modified(&self) -> Option<Date> {
        self.pages().filter_map(|(p, _, _)| p.last_modified()).max()
    }
}

/// Reading speed for the "minute read" line: a steady adult pace for plain
/// health text, rounded up so nobody is told less than it takes.
pub(crate) const WORDS_PER_MINUTE: usize = 200;

pub(crate) fn reading_minutes(words: usize) -> usize {
    words.div_ceil(WORDS_PER_MINUTE).max(1)
}

/// An "On this page" entry: an h2 with the h3s under it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TocEntry {
    pub id: String,
    pub text: String,
    pub children: Vec<TocEntry>,
}

/// Nests h2 and h3 headings into a two-level list; deeper headings are left
/// out to keep the list short. An h3 before any h2 stands at the top level.
pub(crate) fn table_of_contents(headings: &[Heading]) -> Vec<TocEntry> {
    let mut toc: Vec<TocEntry> = Vec::new();
    for heading in headings.iter().filter(|h| h.level <= 3) {
        let entry = TocEntry { id: heading.id.clone(), text: heading.text.clone(), children: Vec::new() };
        match toc.last_mut() {
            Some(parent) if heading.level == 3 && parent_is_h2(headings, &parent.id) => parent.children.push(entry),
            _ => toc.push(entry),
        }
    }
    toc
}

fn parent_is_h2(headings: &[Heading], id: &str) -> bool {
    headings.iter().any(|h| h.id == id && h.level == 2)
}

#[cfg(test)]
mod tests;
