//! Pictures uploaded from the staff pages, without HTTP.
//!
//! An upload is trusted only as far as its decoded pixels: the format is
//! told from the bytes (never the file name or the browser's content
//! type), the size is read from the header and refused before anything is
//! decoded if it is huge (an "image bomb": a small file claiming millions
//! of pixels), and decoding runs under `image::Limits`. The pixels are then
//! turned upright (the EXIF orientation a phone writes) and encoded again,
//! which writes pixels only: no EXIF, no GPS position, no camera details
//! reach the public site.
//!
//! Each upload becomes up to two files in `static/images/`: one at most
//! 1600 px wide and, for wider pictures, one 800 px wide, named
//! `<slug>-<hash>-<width>x<height>.<ext>` ([`urls::ImageName`]). The hash
//! is the start of the SHA-256 of the large file's bytes and is shared by
//! both, so a page names the large one and rendering finds the other for
//! `srcset`; the same upload twice gives the same names, and two different
//! pictures with the same file name never overwrite each other. The static
//! folder's usual reading serves them (and under content-hashed names too,
//! cacheable for good), so there is no second way of serving files.

use crate::util::number::thousands;
use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::{CompressionType, FilterType as PngFilter, PngEncoder};
use image::imageops::FilterType;
use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};
use sha2::{Digest, Sha256};

use crate::auth::activity::{Actor, Kind};
use crate::auth::{AuthError, StaffStore};
use crate::urls::{self, IMAGE_HASH_LEN, ImageName};
use crate::util::bytes::hex;
use crate::util::fs::write_atomic;

/// The largest file staff may upload. A phone photo is 2 to 6 MB.
pub const MAX_UPLOAD_BYTES: usize = 10 * 1024 * 1024;
/// The longest side a picture may have, read from its header before
/// decoding. The best phone cameras take about 8,000 px.
pub const MAX_SIDE: u32 = 12_000;
/// Pixels in all: a 40 megapixel photo decodes to 120 MB of RGB.
pub const MAX_PIXELS: u64 = 40_000_000;
/// What the decoder may allocate, a little over [`MAX_PIXELS`] as 16-bit
/// RGB: the last guard if a header lied about its size.
const MAX_ALLOC: u64 = 256 * 1024 * 1024;
/// Alt text is read out by screen readers: one or two sentences.
pub const MAX_ALT_CHARS: usize = 250;
/// The large version's width: sharp on a phone's screen at 3x, and across
/// the text column on a desktop at 2x.
pub const LARGE_WIDTH: u32 = 1600;
/// The small version's width, for phones at 2x and slow connections.
pub const SMALL_WIDTH: u32 = 800;
/// Photos: no visible loss at this quality, a third of the bytes of 95.
const JPEG_QUALITY: u8 = 82;
/// Where uploads go, inside the static folder.
pub const FOLDER: &str = "images";

/// One picture is decoded at a time: a 40 megapixel photo takes a few
/// hundred MB while it is resized, and two cores gain nothing from two.
static DECODING: Mutex<()> = Mutex::new(());

/// Why a picture was not taken, for the member of staff who sent it.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error("Choose a picture to upload: a JPEG, PNG or WebP file.")]
    NoFile,
    #[error("This file is not a JPEG, PNG or WebP image. Choose a photo or picture saved in one of those formats.")]
    NotAnImage,
    #[error(
        "This file is {} MB; pictures may be at most {} MB. Share the photo from your phone at a smaller size, or save it again as JPEG, and try again.",
        mb(*bytes),
        MAX_UPLOAD_BYTES / (1024 * 1024)
    )]
    FileTooLarge { bytes: usize },
    #[error(
        "This image is {} x {} pixels; images may be at most {} pixels on a side and {} million pixels in all. Make it smaller and try again.",
        thousands(u64::from(*width)),
        thousands(u64::from(*height)),
        thousands(u64::from(MAX_SIDE)),
        MAX_PIXELS / 1_000_000
    )]
    TooManyPixels { width: u32, height: u32 },
    #[error(
        "This image could not be read: it may be damaged or only partly copied. Open it on your computer, save it again as JPEG or PNG, and try again."
    )]
    Unreadable { why: String },
    #[error(
        "Describe the picture in the alt text box. It is read out to people who cannot see the picture, and shown if it does not load."
    )]
    NoAltText,
    #[error(
        "The alt text is {chars} characters long; keep it under {MAX_ALT_CHARS}: one or two sentences about what the picture shows."
    )]
    AltTextTooLong { chars: usize },
    #[error("cannot encode the picture again: {0}")]
    Encode(String),
    #[error("cannot save the picture as {path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("cannot note the upload in the activity record: {0}")]
    Record(#[from] AuthError),
}

impl ImageError {
    /// A mistake in what was sent (the person can fix it), rather than a
    /// failure on the server.
    pub fn is_the_senders(&self) -> bool {
        !matches!(self, ImageError::Encode(_) | ImageError::Io { .. } | ImageError::Record(_))
    }
}

fn mb(bytes: usize) -> String {
    format!("{:.1}", bytes as f64 / (1024.0 * 1024.0))
}

/// Alt text that can be put in a page: one line, not empty, not too long.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AltText(String);

impl AltText {
    pub fn parse(text: &str) -> Result<AltText, ImageError> {
        let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
        let chars = text.chars().count();
        if chars == 0 {
            return Err(ImageError::NoAltText);
        }
        if chars > MAX_ALT_CHARS {
            return Err(ImageError::AltTextTooLong { chars });
        }
        Ok(AltText(text))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What to type in a page to show a picture: `![alt](url)`, with the
/// characters that would end the alt text early escaped. The editor's
/// toolbar and the pictures page both use it.
pub fn markdown_for(alt: &str, url: &str) -> String {
    let mut escaped = String::with_capacity(alt.len());
    for c in alt.chars() {
        match c {
            '\\' | '[' | ']' | '*' | '_' | '`' | '<' | '!' => {
                escaped.push('\\');
                escaped.push(c);
            }
            '\n' | '\r' | '\t' => escaped.push(' '),
            other => escaped.push(other),
        }
    }
    let url = if url.contains([' ', '(', ')', '<', '>']) { format!("<{url}>") } else { url.to_string() };
    format!("![{escaped}]({url})")
}

/// One size of an uploaded picture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Size {
    /// `/static/images/knee-brace-3f9a1c2b7d-1600x1067.jpg`.
    pub url: String,
    pub width: u32,
    pub height: u32,
    pub bytes: usize,
}

/// A picture encoded in its sizes, largest first, not yet written.
#[derive(Debug)]
pub struct Encoded {
    /// The file name the sizes share: `knee-brace-3f9a1c2b7d`.
    pub stem: String,
    pub files: Vec<(Size, Vec<u8>)>,
}

/// A picture saved in the static folder.
#[derive(Debug, Clone)]
pub struct Uploaded {
    pub stem: String,
    pub alt: AltText,
    /// Largest first.
    pub sizes: Vec<Size>,
    /// What to put in a page: the large size with its alt text.
    pub markdown: String,
}

/// The upload's format, from its first bytes only.
pub fn sniff(bytes: &[u8]) -> Result<ImageFormat, ImageError> {
    match image::guess_format(bytes) {
        Ok(format @ (ImageFormat::Jpeg | ImageFormat::Png | ImageFormat::WebP)) => Ok(format),
        _ => Err(ImageError::NotAnImage),
    }
}

/// Width and height as the file's header states them; nothing is decoded.
fn header_size(bytes: &[u8], format: ImageFormat) -> Result<(u32, u32), ImageError> {
    ImageReader::with_format(Cursor::new(bytes), format).into_dimensions().map_err(|e| unreadable(&e))
}

fn check_size(width: u32, height: u32) -> Result<(), ImageError> {
    if width > MAX_SIDE || height > MAX_SIDE || u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(ImageError::TooManyPixels { width, height });
    }
    Ok(())
}

fn unreadable(error: &image::ImageError) -> ImageError {
    ImageError::Unreadable { why: error.to_string() }
}

/// Orientations that turn the picture on its side: its upright width is
/// its stored height.
fn turns_sideways(orientation: Orientation) -> bool {
    matches!(
        orientation,
        Orientation::Rotate90 | Orientation::Rotate270 | Orientation::Rotate90FlipH | Orientation::Rotate270FlipH
    )
}

/// `image` upright and at most `width` wide, never wider than it is.
/// Resizing comes before turning, so a large photo is turned at its small
/// size.
fn upright_at_most(image: &DynamicImage, orientation: Orientation, width: u32) -> DynamicImage {
    let sideways = turns_sideways(orientation);
    let (w, h) = if sideways { (image.height(), image.width()) } else { (image.width(), image.height()) };
    let mut out = if w <= width {
        image.clone()
    } else {
        let new_h = ((u64::from(h) * u64::from(width) + u64::from(w) / 2) / u64::from(w)).max(1) as u32;
        let (stored_w, stored_h) = if sideways { (new_h, width) } else { (width, new_h) };
        // A phone photo is 3 to 5 times the large width. Lanczos over the
        // whole photo made a 40 megapixel upload take 6.2 s; averaging it
        // down to twice the size first (fast) and Lanczos from there looks
        // the same and takes 2.9 s in all (24 megapixels: 3.9 s to 2.2 s;
        // a debug build, whose dependencies are optimised).
        let source =
            if image.width() > 2 * stored_w { &image.thumbnail_exact(2 * stored_w, 2 * stored_h) } else { image };
        source.resize_exact(stored_w, stored_h, FilterType::Lanczos3)
    };
    out.apply_orientation(orientation);
    out
}

/// How a picture is written again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Output {
    Jpeg,
    Png,
}

impl Output {
    /// JPEG stays JPEG (photos) and PNG stays PNG (screenshots and diagrams
    /// keep their sharp edges and transparency). WebP becomes PNG if any
    /// pixel is see-through and JPEG otherwise: the `image` crate writes
    /// only lossless WebP, several times the size of a JPEG for a photo,
    /// and JPEG and PNG open everywhere, old browsers and email included.
    fn for_picture(format: ImageFormat, large: &DynamicImage) -> Output {
        match format {
            ImageFormat::Png => Output::Png,
            ImageFormat::WebP if large.color().has_alpha() && large.to_rgba8().pixels().any(|p| p[3] < 255) => {
                Output::Png
            }
            _ => Output::Jpeg,
        }
    }

    fn ext(self) -> &'static str {
        match self {
            Output::Jpeg => "jpg",
            Output::Png => "png",
        }
    }

    /// Pixels only: no EXIF, colour profile or text chunks are written.
    fn encode(self, image: &DynamicImage) -> Result<Vec<u8>, ImageError> {
        let mut out = Vec::new();
        let written = match self {
            Output::Jpeg => JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY).encode_image(&image.to_rgb8()),
            Output::Png => {
                let encoder = PngEncoder::new_with_quality(&mut out, CompressionType::Best, PngFilter::Adaptive);
                if image.color().has_alpha() {
                    DynamicImage::ImageRgba8(image.to_rgba8()).write_with_encoder(encoder)
                } else {
                    DynamicImage::ImageRgb8(image.to_rgb8()).write_with_encoder(encoder)
                }
            }
        };
        written.map_err(|e| ImageError::Encode(e.to_string()))?;
        Ok(out)
    }
}

/// `IMG_2041 (1).HEIC.jpg` as `img-2041-1-heic`: lowercase ASCII letters,
/// digits and hyphens, at most 50 characters.
fn slug_of(name: &str) -> String {
    let stem = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let stem = stem.rsplit_once('.').map_or(stem, |(stem, _)| stem);
    let mut slug = String::new();
    for c in stem.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
        if slug.len() >= 50 {
            break;
        }
    }
    let slug = slug.trim_end_matches('-');
    if slug.is_empty() { "picture".to_string() } else { slug.to_string() }
}

/// The upload decoded, checked, upright and encoded again in its sizes.
/// Reads and writes nothing.
pub fn encode(bytes: &[u8], name: &str) -> Result<Encoded, ImageError> {
    if bytes.len() > MAX_UPLOAD_BYTES {
        return Err(ImageError::FileTooLarge { bytes: bytes.len() });
    }
    let format = sniff(bytes)?;
    let (width, height) = header_size(bytes, format)?;
    check_size(width, height)?;

    let _one_at_a_time = DECODING.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_ALLOC);
    reader.limits(limits);
    let too_big = |e: image::ImageError| match e {
        image::ImageError::Limits(_) => ImageError::TooManyPixels { width, height },
        other => unreadable(&other),
    };
    let mut decoder = reader.into_decoder().map_err(too_big)?;
    // A missing or broken orientation tag leaves the picture as stored.
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let decoded = DynamicImage::from_decoder(decoder).map_err(too_big)?;

    let large = upright_at_most(&decoded, orientation, LARGE_WIDTH);
    drop(decoded);
    let output = Output::for_picture(format, &large);
    let mut pictures = vec![large];
    if pictures[0].width() > SMALL_WIDTH {
        pictures.push(upright_at_most(&pictures[0], Orientation::NoTransforms, SMALL_WIDTH));
    }
    let encoded: Vec<(DynamicImage, Vec<u8>)> = pictures
        .into_iter()
        .map(|picture| output.encode(&picture).map(|bytes| (picture, bytes)))
        .collect::<Result<_, _>>()?;
    let hash = hex(&Sha256::digest(&encoded[0].1));
    let stem = format!("{}-{}", slug_of(name), &hash[..IMAGE_HASH_LEN]);
    let files = encoded
        .into_iter()
        .map(|(picture, bytes)| {
            let name = ImageName { stem: &stem, width: picture.width(), height: picture.height(), ext: output.ext() };
            (Size { url: name.url(), width: name.width, height: name.height, bytes: bytes.len() }, bytes)
        })
        .collect();
    Ok(Encoded { stem, files })
}

/// Where a size is kept: `static/images/<file name>`.
fn file_path(static_dir: &Path, url: &str) -> PathBuf {
    static_dir.join(FOLDER).join(url.strip_prefix(urls::IMAGES).unwrap_or(url))
}

/// What the activity record calls an uploaded picture.
pub fn image_subject(stem: &str) -> String {
    format!("image {stem}")
}

/// Checks, encodes and saves an upload in `static_dir`, and notes it in
/// the activity record (the alt text as its detail, so the pictures page
/// can offer it again). The files are written first: a crash before the
/// note leaves a picture nobody is named for, never a note of a picture
/// that is not there.
pub fn upload(
    static_dir: &Path,
    staff: &StaffStore,
    by: &Actor,
    bytes: &[u8],
    name: &str,
    alt: &str,
    now: i64,
) -> Result<Uploaded, ImageError> {
    let alt = AltText::parse(alt)?;
    if bytes.is_empty() {
        return Err(ImageError::NoFile);
    }
    let encoded = encode(bytes, name)?;
    let folder = static_dir.join(FOLDER);
    std::fs::create_dir_all(&folder).map_err(|source| ImageError::Io { path: folder.display().to_string(), source })?;
    for (size, bytes) in &encoded.files {
        let path = file_path(static_dir, &size.url);
        write_atomic(&path, bytes).map_err(|source| ImageError::Io { path: path.display().to_string(), source })?;
    }
    staff.record(by, Kind::ImageUploaded, &image_subject(&encoded.stem), alt.as_str(), now)?;
    let sizes: Vec<Size> = encoded.files.into_iter().map(|(size, _)| size).collect();
    let markdown = markdown_for(alt.as_str(), &sizes[0].url);
    Ok(Uploaded { stem: encoded.stem, alt, sizes, markdown })
}

/// An uploaded picture as the pictures page lists it.
#[derive(Debug, Clone)]
pub struct Stored {
    pub stem: String,
    /// Largest first.
    pub sizes: Vec<Size>,
    /// Seconds since 1970 the large file was written, for newest first.
    pub modified: i64,
}

/// Every uploaded picture in `static_dir`, newest first. Files in the
/// folder that were not uploaded here (other names) are left out.
pub fn stored(static_dir: &Path) -> Result<Vec<Stored>, ImageError> {
    let folder = static_dir.join(FOLDER);
    let entries = match std::fs::read_dir(&folder) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => return Err(ImageError::Io { path: folder.display().to_string(), source }),
    };
    let mut found: Vec<Stored> = Vec::new();
    for entry in entries.filter_map(Result::ok) {
        let file_name = entry.file_name().to_string_lossy().into_owned();
        let Some(name) = ImageName::parse(&file_name) else { continue };
        let meta = entry.metadata().ok();
        let modified = meta
            .as_ref()
            .and_then(|m| m.modified().ok())
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_secs() as i64);
        let size = Size {
            url: name.url(),
            width: name.width,
            height: name.height,
            bytes: meta.map_or(0, |m| m.len() as usize),
        };
        match found.iter_mut().find(|s| s.stem == name.stem) {
            Some(existing) => {
                existing.modified = existing.modified.max(modified);
                existing.sizes.push(size);
            }
            None => found.push(Stored { stem: name.stem.to_string(), sizes: vec![size], modified }),
        }
    }
    for picture in &mut found {
        picture.sizes.sort_by_key(|size| std::cmp::Reverse(size.width));
    }
    found.sort_by(|a, b| b.modified.cmp(&a.modified).then_with(|| a.stem.cmp(&b.stem)));
    Ok(found)
}

/// Whether a page's markdown shows a picture (any of its sizes).
pub fn shows(markdown: &str, stem: &str) -> bool {
    markdown.contains(&format!("{}{stem}-", urls::IMAGES))
}

#[cfg(test)]
mod tests;
