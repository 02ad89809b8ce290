//! Watches the content folder and republishes the site when it changes.
//!
//! Every change rebuilds the whole site off to the side (it takes
//! milliseconds) and swaps it in only when it built without errors, so a
//! half-saved file or a typo never takes the public site down.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use notify_debouncer_mini::notify::RecursiveMode;
use notify_debouncer_mini::{DebounceEventResult, Debouncer, new_debouncer};

use crate::comments::store::Store;
use crate::config::Config;
use crate::content::is_temporary;
use crate::site::{Site, SiteHandle};

/// Editors save in bursts (write, rename, touch); wait this long after the
/// last event before rebuilding. Short, so a saved change is live quickly.
const DEBOUNCE: Duration = Duration::from_millis(75);

pub type Watcher = Debouncer<notify_debouncer_mini::notify::RecommendedWatcher>;

/// Starts watching; the returned watcher must be kept alive.
pub fn spawn(config: &Config, handle: Arc<SiteHandle>, comments: Arc<Store>) -> anyhow::Result<Watcher> {
    let content_dir = config.content.clone();
    let options = config.site_options();
    let mut debouncer = new_debouncer(DEBOUNCE, move |result: DebounceEventResult| {
        let changed: Vec<PathBuf> = match result {
            Ok(events) => events.into_iter().map(|e| e.path).filter(|p| !is_temporary(p)).collect(),
            Err(e) => {
                tracing::warn!("watching the content folder failed: {e}");
                return;
            }
        };
        if changed.is_empty() {
            return;
        }
        let started = Instant::now();
        match handle.reload(|| Site::load(&content_dir, &options, &crate::http::approved_comments(&comments))) {
            Ok(site) => {
                tracing::info!("content changed: published the new version in {} ms", started.elapsed().as_millis());
                if !site.warnings.is_empty() {
                    tracing::warn!("the content has warnings:\n{}", crate::check::format_text(&site.warnings));
                }
            }
            Err(errors) => tracing::error!(
                "content changed but has errors; the last good version is still being served:\n{}",
                crate::check::format_text(&errors.0)
            ),
        }
    })
    .context("cannot start watching the content folder for changes")?;
    debouncer
        .watcher()
        .watch(&config.content, RecursiveMode::Recursive)
        .with_context(|| format!("cannot watch {} for changes", config.content.display()))?;
    tracing::info!("watching {} for changes", config.content.display());
    Ok(debouncer)
}
