//! Response bodies prepared once per content version: the bytes, their
//! gzip and brotli forms (compressed once, at high levels, since each is
//! sent many times), and a strong validator. Also the files in `static/`,
//! each served under a name with its content hash so browsers may keep it
//! for a year.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex, Weak};

use axum::body::Bytes;
use sha2::{Digest, Sha256};

use crate::cache::{Cache, Kind};
use crate::content::ContentError;
use crate::urls;
use crate::util::bytes::hex;
use crate::util::fs::{is_link_outside, is_temporary};

/// One response body in every encoding we send.
#[derive(Debug)]
pub struct Prepared {
    pub content_type: &'static str,
    pub identity: Bytes,
    /// `None` when compressing would not help (images, tiny bodies).
    pub gzip: Option<Bytes>,
    pub brotli: Option<Bytes>,
    /// Strong ETag of the identity bytes, quotes included.
    pub etag: String,
}

/// Below this, compressed output plus headers is no smaller.
const MIN_COMPRESS: usize = 256;

/// Bodies smaller than this are compressed afresh rather than kept in the
/// build cache: a 2 KB page (the export's closed-form pages, 3 for every
/// page) takes 0.1 ms to compress, no more than opening and checking a
/// cache file, and caching them tripled the files a cold build creates.
const CACHE_FROM: usize = 8 * 1024;

/// Bodies already prepared by a site still in use, by content type and
/// hash. A rebuild after one page changed then compresses only that page
/// (brotli at its highest level is the slow part of a rebuild), which keeps
/// a saved edit's way to the reader short.
static PREPARED: Mutex<Option<Memo>> = Mutex::new(None);

/// The memo, and the size at which its dead entries are next dropped:
/// twice what was alive at the last drop, so dropping costs O(1) per
/// insert however many bodies a site keeps alive (a fixed limit made a
/// 5,000-page build scan the whole memo on every insert).
#[derive(Default)]
struct Memo {
    bodies: HashMap<PreparedKey, Weak<Prepared>>,
    sweep_at: usize,
}

/// Content type and SHA-256 of the bytes.
type PreparedKey = (&'static str, [u8; 32]);

impl Prepared {
    pub fn new(content_type: &'static str, identity: Bytes) -> Prepared {
        let hash: [u8; 32] = Sha256::digest(&identity).into();
        Prepared::from_hash(content_type, identity, &hash, None)
    }

    fn from_hash(content_type: &'static str, identity: Bytes, hash: &[u8; 32], cache: Option<&Cache>) -> Prepared {
        let compress = is_text(content_type) && identity.len() >= MIN_COMPRESS;
        let etag = format!("\"{}\"", &hex(hash)[..20]);
        let cache = cache.filter(|_| identity.len() >= CACHE_FROM);
        let variant = |kind: Kind, make: fn(&[u8]) -> Vec<u8>| match cache {
            Some(cache) => cache.get_or_make(kind, &variant_key(kind, hash), || make(&identity)),
            None => make(&identity),
        };
        Prepared {
            content_type,
            gzip: compress.then(|| Bytes::from(variant(Kind::Gzip, gzip))),
            brotli: compress.then(|| Bytes::from(variant(Kind::Brotli, brotli))),
            identity,
            etag,
        }
    }

    /// The prepared form of these bytes, reusing one a live site already
    /// has.
    pub fn shared(content_type: &'static str, identity: Bytes) -> Arc<Prepared> {
        Prepared::cached(content_type, identity, None)
    }

    /// The same, with the compressed forms taken from `cache` when it has
    /// them (and saved to it when it does not).
    pub fn cached(content_type: &'static str, identity: Bytes, cache: Option<&Cache>) -> Arc<Prepared> {
        let hash: [u8; 32] = Sha256::digest(&identity).into();
        let key = (content_type, hash);
        let memo = || PREPARED.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(prepared) = memo().get_or_insert_with(Memo::default).bodies.get(&key).and_then(Weak::upgrade) {
            // Still the current version's, for cleaning the cache.
            if let Some(cache) = cache
                && prepared.gzip.is_some()
                && prepared.identity.len() >= CACHE_FROM
            {
                cache.mark_used(&variant_key(Kind::Gzip, &hash));
                cache.mark_used(&variant_key(Kind::Brotli, &hash));
            }
            return prepared;
        }
        // Compress without holding the lock, so other threads can too.
        let prepared = Arc::new(Prepared::from_hash(content_type, identity, &hash, cache));
        let mut memo = memo();
        let memo = memo.get_or_insert_with(Memo::default);
        if memo.bodies.len() >= memo.sweep_at {
            memo.bodies.retain(|_, weak| weak.strong_count() > 0);
            memo.sweep_at = (2 * memo.bodies.len()).max(4 * 1024);
        }
        memo.bodies.insert(key, Arc::downgrade(&prepared));
        prepared
    }

    pub fn html(html: String) -> Arc<Prepared> {
        Prepared::shared("text/html; charset=utf-8", Bytes::from(html))
    }

    pub(crate) fn html_cached(mut html: String, cache: Option<&Cache>) -> Arc<Prepared> {
        // A template's output has room to grow (a quarter more than a
        // section page's 19 KB, 40% more than a print page), and `Bytes`
        // keeps all of it: 38 MB of a 5,000-page site held for nothing.
        html.shrink_to_fit();
        Prepared::cached("text/html; charset=utf-8", Bytes::from(html), cache)
    }
}

/// The cache keys of a body's gzip and brotli forms.
pub fn compressed_keys(identity: &[u8]) -> [crate::cache::Key; 2] {
    let hash: [u8; 32] = Sha256::digest(identity).into();
    [variant_key(Kind::Gzip, &hash), variant_key(Kind::Brotli, &hash)]
}

/// The cache key of a body's compressed form: the body's hash and every
/// setting the compressor is given.
fn variant_key(kind: Kind, hash: &[u8; 32]) -> crate::cache::Key {
    let settings = match kind {
        Kind::Gzip => "flate2 gzip best".to_string(),
        Kind::Brotli | Kind::Card => format!(
            "brotli q{BROTLI_QUALITY} window {BROTLI_WINDOW}, q{BROTLI_LARGE_QUALITY} above {BROTLI_LARGE_BODY} bytes with window by size 16-22"
        ),
    };
    Cache::key(kind, &[settings.as_bytes(), hash])
}

pub(crate) fn is_text(content_type: &str) -> bool {
    content_type.starts_with("text/")
        || content_type.contains("javascript")
        || content_type.contains("xml")
        || content_type.contains("json")
        || content_type.contains("svg")
}

pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::with_capacity(data.len() / 3), flate2::Compression::best());
    encoder.write_all(data).expect("writing to memory cannot fail");
    encoder.finish().expect("writing to memory cannot fail")
}

/// The brotli quality and window for prepared text bodies up to
/// [`BROTLI_LARGE_BODY`] (pages, CSS, JavaScript), chosen by bytes saved
/// per ms spent on the pages a build writes (`cargo bench --bench
/// build_costs` on a generated 1,000-page export, every 10th file; load
/// about 4 on 2 shared cores; BENCHMARKS.md section 12):
///
/// | per file                      | q5, window 22 | q6, window 22 | q8, window 22 | q10          |
/// |-------------------------------|---------------|---------------|---------------|--------------|
/// | article page (22,479 B)       | 0.45 ms, 4,040 | 0.48 ms, 4,030 | 1.22 ms, 4,016 | 11.3 ms, 3,667 |
/// | closed form page (1,890 B)    | 0.07 ms, 729  | 0.08 ms, 729  | 0.40 ms, 728  | 1.56 ms, 601 |
///
/// Level 10 saves 9% (article pages) for 24 times the time: 34 bytes per
/// extra ms, against hundreds below level 6, and at 5,000 pages it was
/// 70% of a cold build. The window matters as much as the level: with
/// the smallest window that holds the input (16 bits for these pages)
/// levels 5 to 9 take 8-9 ms with this crate (another hasher), which is
/// why an earlier measurement found them no faster than 9. Readers get
/// about 370 more bytes a page; a build or a server start without a cache
/// does 20 times less brotli work.
///
/// The window is 18 bits (256 KB, four times the largest body it is used
/// for): the same bytes as 22 bits (a 500-page export byte for byte) for
/// the same CPU, and a sixteenth of the encoder's tables, which the
/// allocator keeps after start-up: `serve` on the real content holds
/// 29 MB instead of 52 MB (VmRSS, three starts each).
const BROTLI_QUALITY: i32 = 6;
const BROTLI_WINDOW: i32 = 18;

/// Above this size (the one-page handout of a whole article) level 9 with
/// the window the size needs: 17 ms and 27.7 KB for a 376 KB handout,
/// against 4.4 ms and 31.3 KB at level 6 and 200 ms and 25.7 KB at 10.
const BROTLI_LARGE_BODY: usize = 64 * 1024;
const BROTLI_LARGE_QUALITY: i32 = 9;

pub fn brotli(data: &[u8]) -> Vec<u8> {
    if data.len() <= BROTLI_LARGE_BODY {
        brotli_with(data, BROTLI_QUALITY, BROTLI_WINDOW)
    } else {
        brotli_at(data, BROTLI_LARGE_QUALITY)
    }
}

/// Brotli at a given quality (0 to 11) with the smallest window that holds
/// the input; for large bodies and for measuring levels (benches/cards.rs).
pub fn brotli_at(data: &[u8], quality: i32) -> Vec<u8> {
    // A window no larger than the input gives the same output for less
    // setup work.
    let lgwin = (usize::BITS - data.len().max(1).leading_zeros()).clamp(16, 22) as i32;
    brotli_with(data, quality, lgwin)
}

/// Brotli at a given quality and window (log2 of its size, 10 to 24).
pub fn brotli_with(data: &[u8], quality: i32, lgwin: i32) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() / 3);
    let params = brotli::enc::BrotliEncoderParams { quality, lgwin, size_hint: data.len(), ..Default::default() };
    brotli::BrotliCompress(&mut std::io::Cursor::new(data), &mut out, &params).expect("writing to memory cannot fail");
    out
}

/// `f` over `items` on every core, results in the order of `items`. Site
/// builds compress hundreds of bodies and draw as many cards: work that
/// shares nothing and scales with cores.
pub(crate) fn par_map<T: Send, R: Send>(items: Vec<T>, f: impl Fn(T) -> R + Sync) -> Vec<R> {
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).min(items.len().max(1));
    if workers <= 1 {
        return items.into_iter().map(f).collect();
    }
    let chunk = items.len().div_ceil(workers);
    let mut chunks: Vec<Vec<T>> = Vec::with_capacity(workers);
    let mut items = items.into_iter();
    loop {
        let next: Vec<T> = items.by_ref().take(chunk).collect();
        if next.is_empty() {
            break;
        }
        chunks.push(next);
    }
    let f = &f;
    std::thread::scope(|scope| {
        let handles: Vec<_> =
            chunks.into_iter().map(|chunk| scope.spawn(move || chunk.into_iter().map(f).collect::<Vec<R>>())).collect();
        handles.into_iter().flat_map(|h| h.join().expect("a worker panicked, which the work cannot do")).collect()
    })
}

/// The content type for a file name.
pub(crate) fn content_type(name: &str) -> &'static str {
    match name.rsplit_once('.').map(|(_, ext)| ext.to_ascii_lowercase()).as_deref() {
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("html") => "text/html; charset=utf-8",
        Some("txt") => "text/plain; charset=utf-8",
        Some("xml") => "application/xml; charset=utf-8",
        Some("json") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("webp") => "image/webp",
        Some("ico") => "image/x-icon",
        Some("ttf") => "font/ttf",
        Some("woff2") => "font/woff2",
        Some("pdf") => "application/pdf",
        _ => "application/octet-stream",
    }
}

/// Whether `path` is a link to `dir` or a folder above it: following it
/// would read the same files forever.
fn leads_back(dir: &Path, path: &Path) -> bool {
    let is_link = std::fs::symlink_metadata(path).is_ok_and(|meta| meta.file_type().is_symlink());
    is_link
        && matches!((std::fs::canonicalize(dir), std::fs::canonicalize(path)), (Ok(dir), Ok(target)) if dir.starts_with(&target))
}

/// The files of `static/`, by URL path. Each is reachable at its plain name
/// (`/static/site.css`, for links typed into pages) and at a name carrying
/// its content hash (`/static/site.3f9a1c2b.css`), which the templates use:
/// a changed file gets a new name, so the old one can be cached for good.
#[derive(Debug, Default)]
pub struct Assets {
    files: HashMap<String, Arc<Prepared>>,
    fingerprinted: HashMap<String, String>,
}

/// The fingerprinted URLs the templates link to.
#[derive(Debug, Clone, Default)]
pub struct AssetUrls {
    pub css: String,
    pub share_js: String,
    pub dev_js: String,
    /// The staff page editor's script.
    pub editor_js: String,
}

impl Assets {
    /// Reads every file under `dir` (a few small files: kept in memory),
    /// reporting every file that cannot be read, not just the first.
    ///
    /// A link to a file or folder outside `dir` is refused and never read,
    /// so a link cannot publish a file from elsewhere on the server (like
    /// `static/passwd.txt -> /etc/passwd`). A link to another file inside
    /// `dir` is served like the file itself: it publishes nothing that is
    /// not published already.
    pub fn load(dir: &Path) -> Result<Assets, Vec<ContentError>> {
        Assets::load_cached(dir, None)
    }

    /// The same, with the compressed forms kept in `cache`.
    pub fn load_cached(dir: &Path, cache: Option<&Cache>) -> Result<Assets, Vec<ContentError>> {
        let root = std::fs::canonicalize(dir).map_err(|e| {
            vec![
                ContentError::new(dir, 0, format!("cannot read the static folder: {e}"))
                    .hint("check that the static folder exists and can be read (set it with --static)"),
            ]
        })?;
        let mut assets = Assets::default();
        let mut problems = Vec::new();
        assets.add_dir(&root, dir, urls::STATIC.trim_end_matches('/'), cache, &mut problems);
        if problems.is_empty() { Ok(assets) } else { Err(problems) }
    }

    fn add_dir(
        &mut self,
        root: &Path,
        dir: &Path,
        prefix: &str,
        cache: Option<&Cache>,
        problems: &mut Vec<ContentError>,
    ) {
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) => {
                problems.push(
                    ContentError::new(dir, 0, format!("cannot read this folder: {e}"))
                        .hint("check that the folder can be read"),
                );
                return;
            }
        };
        let mut entries: Vec<_> =
            entries.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| !is_temporary(p)).collect();
        entries.sort();
        for path in entries {
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            let url = format!("{prefix}/{name}");
            let is_dir = path.is_dir();
            if is_link_outside(root, &path) {
                let what = if is_dir { "folder" } else { "file" };
                problems.push(
                    ContentError::new(
                        &path,
                        0,
                        format!("this {what} is a link to a {what} outside the static folder, so it is not served"),
                    )
                    .hint(format!("copy the {what} itself into the static folder instead of linking to it")),
                );
                continue;
            }
            if is_dir && leads_back(dir, &path) {
                problems.push(
                    ContentError::new(
                        &path,
                        0,
                        "this folder is a link to a folder that holds it, so its files would never end",
                    )
                    .hint("remove the link"),
                );
                continue;
            }
            if is_dir {
                self.add_dir(root, &path, &url, cache, problems);
                continue;
            }
            let bytes = match std::fs::read(&path) {
                Ok(bytes) => bytes,
                Err(e) => {
                    problems.push(
                        ContentError::new(&path, 0, format!("cannot read this file: {e}"))
                            .hint("check that the file can be read, or remove it"),
                    );
                    continue;
                }
            };
            let prepared = Prepared::cached(content_type(&name), Bytes::from(bytes), cache);
            let hashed = match name.rsplit_once('.') {
                Some((stem, ext)) => format!("{prefix}/{stem}.{}.{ext}", &prepared.etag[1..9]),
                None => format!("{prefix}/{name}.{}", &prepared.etag[1..9]),
            };
            self.files.insert(hashed.clone(), prepared.clone());
            self.files.insert(url.clone(), prepared);
            self.fingerprinted.insert(url, hashed);
        }
    }

    /// Whether the folder held a file at this `/static/...` address when
    /// it was read (images that pages use are checked against this, not
    /// the disk, so what is checked is what is served).
    pub fn contains(&self, path: &str) -> bool {
        self.fingerprinted.contains_key(path)
    }

    pub fn get(&self, path: &str) -> Option<&Arc<Prepared>> {
        self.files.get(path)
    }

    /// Whether `path` names a file by its content hash (cacheable for good).
    pub(crate) fn is_fingerprinted(&self, path: &str) -> bool {
        self.fingerprinted.values().any(|hashed| hashed == path)
    }

    /// The hashed URL of a file, or the plain one if it is missing.
    pub fn url(&self, plain: &str) -> String {
        self.fingerprinted.get(plain).cloned().unwrap_or_else(|| plain.to_string())
    }

    pub fn urls(&self) -> AssetUrls {
        let url = |name: &str| self.url(&format!("{}{name}", urls::STATIC));
        AssetUrls {
            css: url("site.css"),
            share_js: url("share.js"),
            dev_js: url("dev-reload.js"),
            editor_js: url("editor.js"),
        }
    }

    /// Every URL path, sorted, both plain and hashed names.
    pub fn paths(&self) -> Vec<&str> {
        let mut paths: Vec<&str> = self.files.keys().map(String::as_str).collect();
        paths.sort_unstable();
        paths
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    #[test]
    fn text_is_prepared_in_every_encoding_that_round_trips() {
        let text = "Dry needling ".repeat(100);
        let prepared = Prepared::new("text/html; charset=utf-8", Bytes::from(text.clone()));
        let mut back = String::new();
        flate2::read::GzDecoder::new(&prepared.gzip.as_ref().unwrap()[..]).read_to_string(&mut back).unwrap();
        assert_eq!(back, text);
        let mut back = Vec::new();
        brotli::BrotliDecompress(&mut &prepared.brotli.as_ref().unwrap()[..], &mut back).unwrap();
        assert_eq!(back, text.as_bytes());
        assert!(prepared.brotli.as_ref().unwrap().len() < text.len() / 10);
        assert!(prepared.etag.starts_with('"') && prepared.etag.ends_with('"') && prepared.etag.len() == 22);
    }

    #[test]
    fn the_same_bytes_are_prepared_once_while_in_use() {
        let a = Prepared::shared("text/css; charset=utf-8", Bytes::from("a { color: red } ".repeat(40)));
        let b = Prepared::shared("text/css; charset=utf-8", Bytes::from("a { color: red } ".repeat(40)));
        assert!(Arc::ptr_eq(&a, &b));
        let other_type = Prepared::shared("text/plain; charset=utf-8", Bytes::from("a { color: red } ".repeat(40)));
        assert!(!Arc::ptr_eq(&a, &other_type));
    }

    #[test]
    fn par_map_keeps_the_order() {
        let out = par_map((0..1000).collect(), |n: i32| n * 2);
        assert_eq!(out, (0..1000).map(|n| n * 2).collect::<Vec<_>>());
        assert!(par_map(Vec::<i32>::new(), |n| n).is_empty());
    }

    #[test]
    fn images_and_tiny_bodies_are_not_compressed() {
        assert!(Prepared::new("image/png", Bytes::from(vec![0; 5000])).gzip.is_none());
        assert!(Prepared::new("text/plain; charset=utf-8", Bytes::from_static(b"ok")).brotli.is_none());
    }

    #[test]
    fn static_files_get_hashed_names_that_change_with_their_content() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("site.css"), "body { color: black }").unwrap();
        let first = Assets::load(dir.path()).unwrap().url("/static/site.css");
        assert!(
            first.starts_with("/static/site.")
                && first.ends_with(".css")
                && first.len() == "/static/site.12345678.css".len(),
            "{first}"
        );
        std::fs::write(dir.path().join("site.css"), "body { color: navy }").unwrap();
        let assets = Assets::load(dir.path()).unwrap();
        assert_ne!(assets.url("/static/site.css"), first);
        assert!(assets.get("/static/site.css").is_some() && assets.get(&assets.url("/static/site.css")).is_some());
        assert!(assets.is_fingerprinted(&assets.url("/static/site.css")));
        assert!(!assets.is_fingerprinted("/static/site.css"));
    }
}
