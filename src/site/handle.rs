//! The site being served now, and how a new version replaces it.

use std::sync::Arc;
use std::time::SystemTime;

use arc_swap::{ArcSwap, ArcSwapOption};
use tokio::sync::watch;

use crate::comments::Comment;
use crate::content::ContentErrors;

use super::Site;

/// The site being served now. A reload builds a whole new [`Site`] off to
/// the side and swaps it in, so a request sees either the old version or the
/// new one, never a mix; a failed reload leaves the last good one serving.
pub struct SiteHandle {
    current: ArcSwap<Site>,
    /// Why the newest content could not be published, until it can.
    error: ArcSwapOption<ContentErrors>,
    /// Bumped on every rebuild attempt; previews wait on it to refresh.
    version: watch::Sender<u64>,
    /// One rebuild at a time: a content reload and a comment approval
    /// racing could otherwise swap in a site that lacks the other's change.
    rebuilding: std::sync::Mutex<()>,
    /// Why saved edits are not being picked up, while they are not (the
    /// watcher lost a folder); for `/healthz` and the log.
    watcher: ArcSwapOption<String>,
}

impl SiteHandle {
    pub fn new(site: Site) -> Self {
        SiteHandle {
            current: ArcSwap::from_pointee(site),
            error: ArcSwapOption::empty(),
            version: watch::channel(0).0,
            rebuilding: std::sync::Mutex::new(()),
            watcher: ArcSwapOption::empty(),
        }
    }

    /// The current version; hold the `Arc` for the whole request.
    pub fn load(&self) -> Arc<Site> {
        self.current.load_full()
    }

    /// Rebuilds from the content folder: publishes the result, or records
    /// why it could not be built and keeps the last good site.
    pub fn reload(&self, build: impl FnOnce() -> Result<Site, ContentErrors>) -> Result<Arc<Site>, Arc<ContentErrors>> {
        let _one_at_a_time = self.rebuilding.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let result = match build() {
            Ok(site) => {
                let site = Arc::new(site);
                self.current.store(site.clone());
                self.error.store(None);
                Ok(site)
            }
            Err(errors) => {
                let errors = Arc::new(errors);
                self.error.store(Some(errors.clone()));
                Err(errors)
            }
        };
        self.version.send_modify(|v| *v += 1);
        result
    }

    /// Puts the approved comments `comments` returns (read under the
    /// rebuild lock, so the newest are used) on the current site, as of
    /// `now`. Only pages whose comments changed are rendered again, from
    /// memory: this reads no files, so a half-saved edit or a deleted
    /// image cannot stop a comment being published. Nothing is swapped
    /// when no page changes.
    pub(crate) fn republish(&self, comments: impl FnOnce() -> Vec<Comment>, now: SystemTime) {
        let _one_at_a_time = self.rebuilding.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(site) = self.current.load().with_comments(&comments(), now) {
            self.current.store(Arc::new(site));
            self.version.send_modify(|v| *v += 1);
        }
    }

    /// Records why edits are not being watched (`None` once they are again).
    pub fn set_watcher_problem(&self, problem: Option<String>) {
        self.watcher.store(problem.map(Arc::new));
    }

    /// Why saved edits are not being picked up, if they are not.
    pub fn watcher_problem(&self) -> Option<Arc<String>> {
        self.watcher.load_full()
    }

    /// The content errors keeping the newest edit off the site, if any.
    pub fn error(&self) -> Option<Arc<ContentErrors>> {
        self.error.load_full()
    }

    pub(crate) fn subscribe(&self) -> watch::Receiver<u64> {
        self.version.subscribe()
    }
}
