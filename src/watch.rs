//! Watches the content and static folders and republishes the site when
//! either changes.
//!
//! Every change rebuilds the whole site off to the side (it takes
//! milliseconds) and swaps it in only when it built without errors, so a
//! half-saved file, a typo or a deleted image never takes the public site
//! down.
//!
//! Only changes count: inotify also reports files being opened and read,
//! and a rebuild reads every file, so reacting to those would rebuild
//! forever. Events are filtered by kind, and a rebuild is skipped when no
//! file's size or modification time has changed.
//!
//! A watch belongs to a folder, not to its name: a folder removed and made
//! again (`rm -rf content`, then a restore, or a new copy renamed over the
//! old one) would never be heard from again. So every second, and after
//! every change, each folder's identity (device and inode) is compared with
//! the one being watched; a new folder is watched again and the site
//! rebuilt from it. While a folder cannot be watched, the site handle says
//! so, for `/healthz`.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant, SystemTime};

use anyhow::Context;
use notify::{Event, EventKind, RecommendedWatcher, RecursiveMode, Watcher as _};

use crate::comments::store::Store;
use crate::config::Config;
use crate::site::{Site, SiteHandle, SiteOptions};
use crate::util::fs::is_temporary;
use crate::workspace::Workspace;

/// Editors save in bursts (write, rename, touch); wait this long after the
/// last change before rebuilding. Short, so a saved change is live quickly.
const DEBOUNCE: Duration = Duration::from_millis(75);

/// How often each folder's identity is compared with the one watched.
/// Checking costs one `stat` per folder.
const RECHECK: Duration = Duration::from_secs(1);

/// Keeps the watch running; dropping it stops the watch and its thread.
pub struct Watcher {
    _inner: Arc<Mutex<RecommendedWatcher>>,
}

/// What the watcher tells the rebuilding thread.
enum Signal {
    /// Something in a folder changed.
    Changed,
    /// The watcher itself failed (too many folders for inotify, ...):
    /// changes may be missed until the folders are watched again.
    Failed(String),
}

/// Starts watching; the returned watcher must be kept alive.
pub fn spawn(
    config: &Config,
    handle: Arc<SiteHandle>,
    comments: Arc<Store>,
    workspace: Arc<Workspace>,
) -> anyhow::Result<Watcher> {
    let (signals, received) = mpsc::channel::<Signal>();
    let on_event = move |result: notify::Result<Event>| {
        let signal = match result {
            Ok(event) if event.need_rescan() => Signal::Changed,
            Ok(event) if is_change(&event.kind) && event.paths.iter().any(|p| !is_temporary(p)) => Signal::Changed,
            Ok(_) => return,
            Err(e) => Signal::Failed(e.to_string()),
        };
        let _ = signals.send(signal);
    };
    // Links are not followed: a link out of a folder is refused when the
    // site is built, and following one could watch half the disk.
    let notify_config = notify::Config::default().with_follow_symlinks(false);
    let mut watcher = RecommendedWatcher::new(on_event, notify_config)
        .context("cannot start watching the content folder for changes")?;
    let mut folders = vec![
        Folder::new(&config.folders.content, "content folder"),
        Folder::new(&config.folders.static_dir, "static folder"),
    ];
    for folder in &mut folders {
        watcher
            .watch(&folder.path, RecursiveMode::Recursive)
            .with_context(|| format!("cannot watch {} for changes", folder.path.display()))?;
        folder.watching = identity(&folder.path);
    }
    let watcher = Arc::new(Mutex::new(watcher));
    let rebuilder = Rebuilder {
        watcher: Arc::downgrade(&watcher),
        folders,
        content_dir: config.folders.content.clone(),
        options: SiteOptions::for_server(config),
        handle,
        comments,
        workspace,
    };
    std::thread::Builder::new()
        .name("content-watch".into())
        .spawn(move || rebuilder.run(&received))
        .context("cannot start the content watching thread")?;
    tracing::info!(
        "watching {} and {} for changes",
        config.folders.content.display(),
        config.folders.static_dir.display()
    );
    Ok(Watcher { _inner: watcher })
}

/// Creating, writing, renaming and deleting files; not opening or reading.
fn is_change(kind: &EventKind) -> bool {
    matches!(kind, EventKind::Create(_) | EventKind::Modify(_) | EventKind::Remove(_))
}

/// One watched folder.
struct Folder {
    path: PathBuf,
    /// "content folder", for messages.
    what: &'static str,
    /// The identity of the folder being watched; `None` while it is not.
    watching: Option<Identity>,
}

/// What tells one folder from another that took its name.
#[cfg(unix)]
type Identity = (u64, u64);
#[cfg(not(unix))]
type Identity = ();

/// The folder at `path` now, if there is one.
fn identity(path: &Path) -> Option<Identity> {
    let meta = std::fs::metadata(path).ok().filter(std::fs::Metadata::is_dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        Some((meta.dev(), meta.ino()))
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        Some(())
    }
}

impl Folder {
    fn new(path: &Path, what: &'static str) -> Self {
        Folder { path: path.to_path_buf(), what, watching: None }
    }

    /// Watches the folder again if the one at its path is not the one
    /// being watched (or `again`, after the watcher failed). `Ok(true)`
    /// when it is watched anew; why it cannot be watched otherwise.
    fn reattach(&mut self, watcher: &mut RecommendedWatcher, again: bool) -> Result<bool, String> {
        let now = identity(&self.path);
        if now.is_some() && now == self.watching && !again {
            return Ok(false);
        }
        if self.watching.take().is_some() {
            // The old watch may have ended with its folder already.
            let _ = watcher.unwatch(&self.path);
        }
        if now.is_none() {
            return Err(format!(
                "the {} {} is missing, so edits are not being picked up; the site keeps serving the last good version",
                self.what,
                self.path.display()
            ));
        }
        watcher.watch(&self.path, RecursiveMode::Recursive).map_err(|e| {
            format!("cannot watch the {} {} ({e}), so edits are not being picked up", self.what, self.path.display())
        })?;
        self.watching = now;
        Ok(true)
    }
}

/// The thread that rebuilds the site when a folder changes.
struct Rebuilder {
    /// Weak, so dropping [`Watcher`] ends the watch and, with it, the
    /// thread.
    watcher: Weak<Mutex<RecommendedWatcher>>,
    folders: Vec<Folder>,
    content_dir: PathBuf,
    options: SiteOptions,
    handle: Arc<SiteHandle>,
    comments: Arc<Store>,
    /// Told of page files changed by anything but itself, for their history.
    workspace: Arc<Workspace>,
}

impl Rebuilder {
    fn run(mut self, received: &mpsc::Receiver<Signal>) {
        // Unknown until the first change: an edit saved while the server
        // was starting must not be mistaken for the state it started with.
        let mut last = None;
        let mut problem: Option<String> = None;
        // Off the start-up path: record what the first version uses and
        // clean the cache of the rest.
        clean_cache(&self.options);
        loop {
            let (mut changed, mut failed) = (false, None);
            let mut note = |signal| match signal {
                Signal::Changed => changed = true,
                Signal::Failed(e) => failed = Some(e),
            };
            match received.recv_timeout(RECHECK) {
                Ok(signal) => {
                    note(signal);
                    // Wait for the burst to end.
                    while let Ok(signal) = received.recv_timeout(DEBOUNCE) {
                        note(signal);
                    }
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return,
            }
            if let Some(e) = &failed {
                tracing::warn!("watching for changes failed ({e}): watching the folders again");
            }
            let Some(watcher) = self.watcher.upgrade() else { return };
            let (reattached, now_problem) = self.reattach(&watcher, failed.is_some());
            drop(watcher);
            if now_problem != problem {
                match &now_problem {
                    Some(p) => tracing::warn!("{p}"),
                    None => tracing::info!(
                        "watching {} and {} for changes again",
                        self.content_dir.display(),
                        self.options.static_dir.display()
                    ),
                }
                self.handle.set_watcher_problem(now_problem.clone());
                problem = now_problem;
            }
            if !(changed || reattached || failed.is_some()) {
                continue;
            }
            let now: Vec<_> = self.folders.iter().map(|f| fingerprint(&f.path)).collect();
            if last.as_ref() == Some(&now) {
                continue;
            }
            last = Some(now);
            record_outside_edits(&self.workspace);
            if rebuild(&self.handle, &self.content_dir, &self.options, &self.comments) {
                clean_cache(&self.options);
            }
            // Published or not, building freed as much as the site keeps.
            crate::util::memory::release_free_memory();
        }
    }

    /// Watches again every folder that needs it; whether any was, and why
    /// any cannot be watched.
    fn reattach(&mut self, watcher: &Mutex<RecommendedWatcher>, again: bool) -> (bool, Option<String>) {
        let mut watcher = watcher.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut reattached = false;
        let mut problems = Vec::new();
        for folder in &mut self.folders {
            match folder.reattach(&mut watcher, again) {
                Ok(again) => reattached |= again,
                Err(problem) => problems.push(problem),
            }
        }
        (reattached, (!problems.is_empty()).then(|| problems.join("; ")))
    }
}

/// Every file's path, size and modification time under `dir`, sorted.
fn fingerprint(dir: &Path) -> Vec<(PathBuf, u64, Option<SystemTime>)> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            if is_temporary(&path) {
                continue;
            }
            match entry.metadata() {
                Ok(meta) if meta.is_dir() => stack.push(path),
                Ok(meta) => files.push((path, meta.len(), meta.modified().ok())),
                Err(_) => {}
            }
        }
    }
    files.sort();
    files
}

/// Records every page file that is not the version its history ends with
/// as changed outside the workspace. All pages are looked at, not only the
/// ones events named, for the reason the site is rebuilt whole: editors
/// save by renames and bursts that name temporary files, a folder may be
/// replaced, and inotify may drop events. Looking costs a read and a hash
/// per page, as the rebuild that follows reads every page anyway. The
/// workspace's own saves are already recorded (it holds the page's lock
/// until they are), so they are not mistaken for outside edits.
fn record_outside_edits(workspace: &Workspace) {
    let now = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
    match workspace.record_outside_edits(now) {
        Ok(0) => {}
        Ok(found) => tracing::info!("recorded {found} page(s) changed outside the workspace"),
        Err(e) => tracing::warn!("cannot record the pages changed outside the workspace: {e}"),
    }
}

/// Records what the version being served uses from the cache, and deletes
/// what nothing uses (see `cache`). After the new version is live, so it
/// adds nothing to the time a saved edit takes to show.
fn clean_cache(options: &SiteOptions) {
    if let Some(cache) = &options.cache {
        let removed = cache.finish();
        if removed > 0 {
            tracing::debug!("removed {removed} unused entries from the cache {}", cache.dir().display());
        }
    }
}

/// Whether the new version was published.
fn rebuild(handle: &SiteHandle, content_dir: &Path, options: &SiteOptions, comments: &Store) -> bool {
    let started = Instant::now();
    match handle.reload(|| Site::load(content_dir, options, &comments.approved_or_none())) {
        Ok(site) => {
            tracing::info!("content changed: published the new version in {} ms", started.elapsed().as_millis());
            if !site.warnings.is_empty() {
                tracing::warn!("the content has warnings:\n{}", crate::content::format_text(&site.warnings));
            }
            true
        }
        Err(errors) => {
            tracing::error!(
                "content changed but has errors; the last good version is still being served:\n{}",
                crate::content::format_text(&errors.0)
            );
            false
        }
    }
}
