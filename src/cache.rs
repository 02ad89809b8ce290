//! The build cache: the slow products of a build (brotli and gzip forms of
//! text bodies, social card PNGs) kept on disk in the data folder's
//! `cache/`, so `build`, `serve` and live reload only make what changed.
//!
//! **Content-addressed.** An entry's name is the SHA-256 of everything its
//! bytes depend on: what kind of product it is, the exact inputs (the body's
//! own hash, or every field a card shows), the settings it is made with
//! (compression levels, the card template's source and fonts) and the
//! program that makes it ([`CACHE_VERSION`], this crate's version and the
//! whole `Cargo.lock`, so any other version of brotli, flate2, png or resvg
//! makes other names). A changed input gets a new name; an entry is never
//! updated in place, so it cannot go stale.
//!
//! **Checked on every read.** Each file ends with a trailer: its own name,
//! the payload's length and the payload's SHA-256. A truncated, corrupted
//! or misnamed file fails the check, is deleted and made again (with a
//! warning in the log), and is never used. Files are written to a temporary
//! name and renamed, so a reader sees a whole file or none.
//!
//! **Never in the way.** A cache that cannot be written (full disk, no
//! permission) logs one warning and the work goes on without it: the result
//! is the same, only slower next time.
//!
//! **Cleaned.** Every run that uses the cache (`build`, `serve`, a
//! preview with `serve --dev`) records the entries its current site uses in
//! `used-<role>` when it finishes (a build) or publishes (serve); then
//! entries that no role's list names are deleted. Two rules keep one role
//! from deleting another's work: the lists of every role count, and an
//! entry younger than [`GRACE`] is kept whatever the lists say, since a
//! build running at the same time may have just written it and not yet
//! its list. A list untouched for [`FORGOTTEN`] no longer counts (a preview
//! run once, long ago, should not pin its entries for ever).

use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::{Duration, SystemTime};

use sha2::{Digest, Sha256};

use crate::util::bytes::{hex, unhex};
use crate::util::fs::write_replacing;

/// Bumped when what an entry means or how it is laid out changes.
pub const CACHE_VERSION: u32 = 1;

/// Entries younger than this are never deleted (see the module doc).
pub const GRACE: Duration = Duration::from_secs(10 * 60);

/// A role's list of used entries stops counting after this long.
pub const FORGOTTEN: Duration = Duration::from_secs(30 * 24 * 3600);

/// Ends every entry, after its name, length and hash.
const MAGIC: &[u8; 8] = b"clincch1";
/// Name (32) + length (8) + SHA-256 of the payload (32) + magic (8).
const TRAILER: usize = 32 + 8 + 32 + 8;

/// The name of an entry: the SHA-256 of everything it depends on.
pub type Key = [u8; 32];

/// What an entry holds; its file extension, so a look in the folder says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Brotli,
    Gzip,
    Card,
}

impl Kind {
    fn extension(self) -> &'static str {
        match self {
            Kind::Brotli => "br",
            Kind::Gzip => "gz",
            Kind::Card => "png",
        }
    }
}

/// A handle on one cache folder. Every handle on the same folder in this
/// process shares what it has seen used, so the server's start-up, its
/// live reloads and its comment approvals add to one list.
#[derive(Clone)]
pub struct Cache {
    inner: Arc<Inner>,
    /// `build`, `serve` or `preview`: whose list of used entries this
    /// handle writes.
    role: &'static str,
}

struct Inner {
    dir: PathBuf,
    grace: Duration,
    /// The entries the current version of the site uses.
    used: Mutex<HashSet<Key>>,
    /// Set after a write failed: later writes are not tried (one warning).
    unwritable: AtomicBool,
    hits: AtomicUsize,
    misses: AtomicUsize,
    damaged: AtomicUsize,
}

/// How the cache was used since the handle's folder was opened.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    pub hits: usize,
    pub misses: usize,
    /// Entries found truncated or corrupted, deleted and made again.
    pub damaged: usize,
}

impl fmt::Debug for Cache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cache").field("dir", &self.inner.dir).field("role", &self.role).finish()
    }
}

/// Open folders by path, so two handles on one folder share their state.
static OPEN: Mutex<Vec<(PathBuf, Weak<Inner>)>> = Mutex::new(Vec::new());

impl Cache {
    /// The cache in `dir` (created when first written to), for `role`.
    pub fn open(dir: &Path, role: &'static str) -> Cache {
        Cache::with_grace(dir, role, GRACE)
    }

    /// The same with another grace period (tests use none, so cleaning
    /// can be seen at once).
    pub fn with_grace(dir: &Path, role: &'static str, grace: Duration) -> Cache {
        let mut open = OPEN.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        open.retain(|(_, weak)| weak.strong_count() > 0);
        if let Some(inner) = open.iter().find(|(path, _)| path == dir).and_then(|(_, weak)| weak.upgrade()) {
            return Cache { inner, role };
        }
        let inner = Arc::new(Inner {
            dir: dir.to_path_buf(),
            grace,
            used: Mutex::new(HashSet::new()),
            unwritable: AtomicBool::new(false),
            hits: AtomicUsize::new(0),
            misses: AtomicUsize::new(0),
            damaged: AtomicUsize::new(0),
        });
        open.push((dir.to_path_buf(), Arc::downgrade(&inner)));
        Cache { inner, role }
    }

    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    pub fn stats(&self) -> Stats {
        Stats {
            hits: self.inner.hits.load(Ordering::Relaxed),
            misses: self.inner.misses.load(Ordering::Relaxed),
            damaged: self.inner.damaged.load(Ordering::Relaxed),
        }
    }

    /// The key for `kind` made from `parts` (each one length-prefixed, so
    /// no two lists of parts give the same bytes).
    pub fn key(kind: Kind, parts: &[&[u8]]) -> Key {
        let mut hasher = Sha256::new();
        hasher.update(program());
        hasher.update(kind.extension().as_bytes());
        for part in parts {
            hasher.update((part.len() as u64).to_le_bytes());
            hasher.update(part);
        }
        hasher.finalize().into()
    }

    /// The entry for `key`, checked, or `make()`'s bytes, saved for next
    /// time. Either way the entry counts as used by the current version.
    pub fn get_or_make(&self, kind: Kind, key: &Key, make: impl FnOnce() -> Vec<u8>) -> Vec<u8> {
        self.mark_used(key);
        let path = self.path(kind, key);
        if let Some(payload) = self.read(&path, key) {
            self.inner.hits.fetch_add(1, Ordering::Relaxed);
            return payload;
        }
        self.inner.misses.fetch_add(1, Ordering::Relaxed);
        let payload = make();
        self.write(&path, key, &payload);
        payload
    }

    /// Records that the current version uses this entry (made or not), so
    /// cleaning keeps it: a card the server draws only when first asked
    /// for is used from the start.
    pub fn mark_used(&self, key: &Key) {
        self.used().insert(*key);
    }

    /// A new version of the site is being built: only what it uses counts
    /// as used from now on.
    pub fn begin_version(&self) {
        self.used().clear();
    }

    /// Records what the current version uses as this role's list, then
    /// deletes the entries no role uses (see the module doc). Returns how
    /// many were deleted. Problems are logged, never returned: cleaning is
    /// worth doing, not worth failing for.
    pub fn finish(&self) -> usize {
        if !self.inner.dir.is_dir() {
            return 0;
        }
        let mut list: Vec<String> = self.used().iter().map(|key| hex(key)).collect();
        list.sort_unstable();
        let mut text = list.join("\n");
        text.push('\n');
        let list_path = self.inner.dir.join(format!("used-{}", self.role));
        if let Err(e) = write_replacing(&list_path, text.as_bytes()) {
            tracing::warn!("cannot record which cache entries are in use in {}: {e}", list_path.display());
            return 0;
        }
        match self.sweep() {
            Ok(removed) => removed,
            Err(e) => {
                tracing::warn!("cannot clean the cache folder {}: {e}", self.inner.dir.display());
                0
            }
        }
    }

    fn used(&self) -> std::sync::MutexGuard<'_, HashSet<Key>> {
        self.inner.used.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Where the entry for `key` is (or would be) kept.
    pub fn path(&self, kind: Kind, key: &Key) -> PathBuf {
        self.inner.dir.join(format!("{}.{}", hex(key), kind.extension()))
    }

    /// The checked payload of the entry at `path`; `None` when there is
    /// none or it fails the check (then it is deleted).
    fn read(&self, path: &Path, key: &Key) -> Option<Vec<u8>> {
        let mut bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
            Err(e) => {
                tracing::warn!("cannot read the cache entry {} ({e}); making it again", path.display());
                return None;
            }
        };
        match check(&bytes, key) {
            Ok(len) => {
                bytes.truncate(len);
                Some(bytes)
            }
            Err(why) => {
                self.inner.damaged.fetch_add(1, Ordering::Relaxed);
                tracing::warn!("the cache entry {} is damaged ({why}); deleted and made again", path.display());
                let _ = std::fs::remove_file(path);
                None
            }
        }
    }

    fn write(&self, path: &Path, key: &Key, payload: &[u8]) {
        if self.inner.unwritable.load(Ordering::Relaxed) {
            return;
        }
        let mut bytes = Vec::with_capacity(payload.len() + TRAILER);
        bytes.extend_from_slice(payload);
        bytes.extend_from_slice(key);
        bytes.extend_from_slice(&(payload.len() as u64).to_le_bytes());
        bytes.extend_from_slice(&Sha256::digest(payload));
        bytes.extend_from_slice(MAGIC);
        // Not flushed to disk: after a power cut a damaged entry fails its
        // check and is made again.
        let result = std::fs::create_dir_all(&self.inner.dir).and_then(|()| write_replacing(path, &bytes));
        if let Err(e) = result
            && !self.inner.unwritable.swap(true, Ordering::Relaxed)
        {
            tracing::warn!(
                "cannot save to the cache folder {} ({e}); going on without saving, so the next build or start will not be faster until it can",
                self.inner.dir.display()
            );
        }
    }

    /// Deletes entries (and leftover temporary files) that are older than
    /// the grace period and in no role's list.
    fn sweep(&self) -> std::io::Result<usize> {
        let now = SystemTime::now();
        let old = |meta: &std::fs::Metadata| {
            meta.modified().ok().and_then(|m| now.duration_since(m).ok()).is_some_and(|age| age >= self.inner.grace)
        };
        let mut keep: HashSet<Key> = self.used().clone();
        let mut entries = Vec::new();
        for entry in std::fs::read_dir(&self.inner.dir)?.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Some(role) = name.strip_prefix("used-") {
                if role == self.role {
                    continue;
                }
                let recent = entry
                    .metadata()
                    .ok()
                    .and_then(|m| m.modified().ok())
                    .and_then(|m| now.duration_since(m).ok())
                    .is_some_and(|age| age < FORGOTTEN);
                if recent && let Ok(text) = std::fs::read_to_string(entry.path()) {
                    keep.extend(text.lines().filter_map(parse_key));
                }
            } else {
                entries.push((name, entry));
            }
        }
        let mut removed = 0;
        for (name, entry) in entries {
            let temporary = name.starts_with('.') && name.ends_with(".tmp");
            let unused = match name.split_once('.') {
                Some((key, _)) if !temporary => parse_key(key).is_some_and(|key| !keep.contains(&key)),
                _ => temporary,
            };
            if unused && entry.metadata().is_ok_and(|meta| meta.is_file() && old(&meta)) {
                match std::fs::remove_file(entry.path()) {
                    Ok(()) => removed += 1,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(removed)
    }
}

fn parse_key(text: &str) -> Option<Key> {
    unhex(text)?.try_into().ok()
}

/// The payload's length if `bytes` is a whole, intact entry named `key`.
fn check(bytes: &[u8], key: &Key) -> Result<usize, &'static str> {
    let Some(len) = bytes.len().checked_sub(TRAILER) else { return Err("shorter than its trailer") };
    let (payload, trailer) = bytes.split_at(len);
    if &trailer[72..] != MAGIC {
        return Err("no trailer: cut short or overwritten");
    }
    if &trailer[..32] != key {
        return Err("it holds another entry");
    }
    if trailer[32..40] != (len as u64).to_le_bytes() {
        return Err("the wrong length: cut short or grown");
    }
    if trailer[40..72] != Sha256::digest(payload)[..] {
        return Err("its bytes do not match their checksum");
    }
    Ok(len)
}

/// What every key starts with: the program that makes the entries. The
/// whole `Cargo.lock` stands for the versions of every crate that shapes
/// an entry's bytes (brotli, flate2, png, resvg and what they use): any
/// dependency change starts a new cache, which is safe and rare.
fn program() -> &'static [u8] {
    static PROGRAM: OnceLock<Vec<u8>> = OnceLock::new();
    PROGRAM.get_or_init(|| {
        let mut hasher = Sha256::new();
        hasher.update(CACHE_VERSION.to_le_bytes());
        hasher.update(env!("CARGO_PKG_VERSION").as_bytes());
        hasher.update(std::env::consts::ARCH.as_bytes());
        hasher.update(include_bytes!("../Cargo.lock"));
        hasher.finalize().to_vec()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cache(dir: &Path) -> Cache {
        Cache::with_grace(dir, "build", Duration::ZERO)
    }

    #[test]
    fn an_entry_is_made_once_then_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let cache = cache(&dir.path().join("cache"));
        let key = Cache::key(Kind::Gzip, &[b"hello"]);
        assert_eq!(cache.get_or_make(Kind::Gzip, &key, || b"made".to_vec()), b"made");
        assert_eq!(cache.get_or_make(Kind::Gzip, &key, || panic!("made twice")), b"made");
        assert_eq!(cache.stats(), Stats { hits: 1, misses: 1, damaged: 0 });
    }

    #[test]
    fn keys_differ_by_kind_and_by_how_parts_are_split() {
        assert_ne!(Cache::key(Kind::Gzip, &[b"ab"]), Cache::key(Kind::Brotli, &[b"ab"]));
        assert_ne!(Cache::key(Kind::Gzip, &[b"ab", b"c"]), Cache::key(Kind::Gzip, &[b"a", b"bc"]));
        assert_eq!(Cache::key(Kind::Card, &[b"x"]), Cache::key(Kind::Card, &[b"x"]));
    }

    #[test]
    fn damaged_entries_are_deleted_and_made_again() {
        let dir = tempfile::tempdir().unwrap();
        let cache = cache(&dir.path().join("cache"));
        let key = Cache::key(Kind::Brotli, &[b"page"]);
        let path = cache.path(Kind::Brotli, &key);
        let good = || b"the right bytes".to_vec();
        cache.get_or_make(Kind::Brotli, &key, good);
        let whole = std::fs::read(&path).unwrap();
        let damage: [(&str, Vec<u8>); 4] = [
            ("truncated", whole[..whole.len() - 5].to_vec()),
            ("one byte flipped", {
                let mut b = whole.clone();
                b[3] ^= 1;
                b
            }),
            ("empty", Vec::new()),
            ("another entry's file", {
                let other = Cache::key(Kind::Brotli, &[b"other"]);
                cache.get_or_make(Kind::Brotli, &other, || b"the right bytes".to_vec());
                std::fs::read(cache.path(Kind::Brotli, &other)).unwrap()
            }),
        ];
        for (what, bytes) in damage {
            std::fs::write(&path, bytes).unwrap();
            let before = cache.stats().damaged;
            assert_eq!(cache.get_or_make(Kind::Brotli, &key, good), good(), "{what}");
            assert_eq!(cache.stats().damaged, before + 1, "{what} is noticed");
            assert_eq!(std::fs::read(&path).unwrap(), whole, "{what}: the entry is whole again");
        }
    }

    #[test]
    fn cleaning_keeps_what_any_role_uses_and_deletes_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cache");
        let build = cache(&path);
        let serve = Cache { role: "serve", ..build.clone() };
        let key = |name: &str| Cache::key(Kind::Gzip, &[name.as_bytes()]);
        // The server uses one entry, a build two others.
        serve.get_or_make(Kind::Gzip, &key("served"), Vec::new);
        serve.finish();
        build.begin_version();
        build.get_or_make(Kind::Gzip, &key("old"), Vec::new);
        build.get_or_make(Kind::Gzip, &key("kept"), Vec::new);
        assert_eq!(build.finish(), 0);
        // The next build no longer uses "old".
        build.begin_version();
        build.get_or_make(Kind::Gzip, &key("kept"), Vec::new);
        std::fs::write(path.join(".leftover.1-1.tmp"), b"x").unwrap();
        assert_eq!(build.finish(), 2, "the unused entry and the leftover temporary file");
        let exists = |name: &str| build.path(Kind::Gzip, &key(name)).exists();
        assert!(exists("kept") && exists("served") && !exists("old"));
    }

    #[test]
    fn young_entries_are_kept_for_a_build_running_beside() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(&dir.path().join("cache"), "build");
        cache.get_or_make(Kind::Card, &Cache::key(Kind::Card, &[b"x"]), Vec::new);
        cache.begin_version();
        assert_eq!(cache.finish(), 0);
    }

    #[test]
    fn a_cache_that_cannot_be_written_only_means_no_saving() {
        let dir = tempfile::tempdir().unwrap();
        // A file where the folder should be: nothing can be saved, even as root.
        let path = dir.path().join("cache");
        std::fs::write(&path, b"not a folder").unwrap();
        let cache = cache(&path);
        let key = Cache::key(Kind::Gzip, &[b"a"]);
        assert_eq!(cache.get_or_make(Kind::Gzip, &key, || b"a".to_vec()), b"a");
        assert_eq!(cache.get_or_make(Kind::Gzip, &key, || b"a".to_vec()), b"a");
        assert_eq!(cache.stats().misses, 2);
        assert_eq!(cache.finish(), 0);
        assert_eq!(std::fs::read(&path).unwrap(), b"not a folder");
    }
}
