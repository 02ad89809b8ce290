//! Watches the content folder and republishes the site when it changes.
//!
//! Every change rebuilds the whole site off to the side (it takes
//! milliseconds) and swaps it in only when it built without errors, so a
//! half-saved file or a typo never takes the public site down.
//!
//! Only changes count: inotify also reports files being opened and read,
//! and a rebuild reads every file, so reacting to those would rebuild
//! forever. Events are filtered by kind, and a rebuild is skipped when no
//! file's size or modification time has changed.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime};

use anyhow::Context;
use notify::{Event, EventKind, RecommendedWatcher, RecursiveMode, Watcher as _};

use crate::comments::store::Store;
use crate::config::Config;
use crate::util::fs::is_temporary;
use crate::site::{Site, SiteHandle};

/// Editors save in bursts (write, rename, touch); wait this long after the
/// last change before rebuilding. Short, so a saved change is live quickly.
const DEBOUNCE: Duration = Duration::from_millis(75);

/// Keeps the watch running; dropping it stops the watch.
pub struct Watcher {
    _inner: RecommendedWatcher,
}

/// Starts watching; the returned watcher must be kept alive.
pub fn spawn(config: &Config, handle: Arc<SiteHandle>, comments: Arc<Store>) -> anyhow::Result<Watcher> {
    let (changes, received) = mpsc::channel::<PathBuf>();
    let mut watcher = notify::recommended_watcher(move |result: notify::Result<Event>| match result {
        Ok(event) if is_change(&event.kind) => {
            for path in event.paths.into_iter().filter(|p| !is_temporary(p)) {
                let _ = changes.send(path);
            }
        }
        Ok(_) => {}
        Err(e) => tracing::warn!("watching the content folder failed: {e}"),
    })
    .context("cannot start watching the content folder for changes")?;
    watcher
        .watch(&config.folders.content, RecursiveMode::Recursive)
        .with_context(|| format!("cannot watch {} for changes", config.folders.content.display()))?;

    let content_dir = config.folders.content.clone();
    let options = config.site_options();
    std::thread::Builder::new()
        .name("content-watch".into())
        .spawn(move || {
            // Unknown until the first change: an edit saved while the server
            // was starting must not be mistaken for the state it started with.
            let mut last = None;
            // Blocks until a change arrives; ends when the watcher is dropped.
            while received.recv().is_ok() {
                // Wait for the burst to end.
                while received.recv_timeout(DEBOUNCE).is_ok() {}
                let now = fingerprint(&content_dir);
                if last.as_ref() == Some(&now) {
                    continue;
                }
                last = Some(now);
                rebuild(&handle, &content_dir, &options, &comments);
            }
        })
        .context("cannot start the content watching thread")?;
    tracing::info!("watching {} for changes", config.folders.content.display());
    Ok(Watcher { _inner: watcher })
}

/// Creating, writing, renaming and deleting files; not opening or reading.
fn is_change(kind: &EventKind) -> bool {
    matches!(kind, EventKind::Create(_) | EventKind::Modify(_) | EventKind::Remove(_))
}

/// Every content file's path, size and modification time, sorted.
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

fn rebuild(handle: &SiteHandle, content_dir: &Path, options: &crate::site::SiteOptions, comments: &Store) {
    let started = Instant::now();
    match handle.reload(|| Site::load(content_dir, options, &comments.approved_or_none())) {
        Ok(site) => {
            tracing::info!("content changed: published the new version in {} ms", started.elapsed().as_millis());
            if !site.warnings.is_empty() {
                tracing::warn!("the content has warnings:\n{}", crate::content::format_text(&site.warnings));
            }
        }
        Err(errors) => tracing::error!(
            "content changed but has errors; the last good version is still being served:\n{}",
            crate::content::format_text(&errors.0)
        ),
    }
}
