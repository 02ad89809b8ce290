//! `clinic-site build`: the whole site as static files for any static host
//! or CDN, byte for byte what `serve` sends for the same addresses.
//!
//! Each page is `index.html` at its canonical path, so `/dry-needling/` is
//! served from `dry-needling/index.html` by every static server. Text files
//! get `.gz` and `.br` siblings for servers that send precompressed files
//! (nginx `gzip_static`, ...). Old addresses become small redirect pages plus
//! a `_redirects` file for hosts that read one (Netlify, Cloudflare Pages)
//! and so answer a real 301.
//!
//! A static host cannot take comments or feedback: the export shows the
//! comments approved when it was built, and at each comment, feedback and
//! problem report form's address a page that says how to reach the clinic
//! instead. The article pages' "Was this page helpful?" buttons ask for the
//! feedback form with GET, so in the export they lead to that page.
//!
//! **The first build** into a folder writes everything into a temporary
//! folder beside it and renames that into place at the end, so a failed
//! build never leaves half a site.
//!
//! **Later builds** update the folder in place: a file is written only when
//! its bytes differ from what is there (to a temporary name, then renamed,
//! so a server reading the folder sees the old file or the new one, never
//! half of one), and the files the last build wrote that this one does not
//! are deleted. The list of files written is kept in [`MANIFEST`]; without
//! it the folder is treated as not ours and replaced as a whole, as on a
//! first build. Editing one page then rewrites only the files that page
//! changes, which makes a rebuild take a fraction of the time and lets
//! `rsync` or a CDN upload see what changed. The trade-off: content errors
//! still stop a build before anything is written, but a build that fails
//! while writing (a full disk) leaves a folder that is partly the new
//! version; the error says so, and the next build finishes the job.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;

use crate::asset::Prepared;
use crate::site::Site;
use crate::util::fs::write_replacing;
use crate::util::html::escape;

/// In the export's folder: every file the build wrote, one path a line, so
/// the next build can update the folder in place.
pub const MANIFEST: &str = ".clinic-site-files";

/// What was written.
#[derive(Debug, Default)]
pub struct Exported {
    /// Files in the export.
    pub files: usize,
    pub bytes: u64,
    /// Files written because they are new or their bytes changed (every
    /// file, on a first build).
    pub changed: usize,
    /// Files the previous build wrote that this one no longer has.
    pub removed: usize,
}

/// Writes `site` and `static_dir` into `out`: in place if a previous build
/// wrote it, otherwise replacing what was there.
pub fn export(site: &Site, out: &Path) -> anyhow::Result<Exported> {
    let name =
        out.file_name().context("the output folder needs a name, like --out public")?.to_string_lossy().into_owned();
    let manifest = out.join(MANIFEST);
    if manifest.is_file() {
        return update(site, out, &manifest).with_context(|| {
            format!("the export in {} may be partly updated; build again to finish it", out.display())
        });
    }
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent).with_context(|| format!("cannot create {}", parent.display()))?;
    let staging = parent.join(format!(".{name}.building-{}", std::process::id()));
    if staging.exists() {
        std::fs::remove_dir_all(&staging).with_context(|| format!("cannot clear {}", staging.display()))?;
    }
    let result = write_all(site, &staging, false).and_then(|(exported, written)| {
        write_manifest(&staging, &written)?;
        Ok(exported)
    });
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&staging);
    }
    let exported = result?;
    replace_dir(&staging, out, &parent.join(format!(".{name}.old-{}", std::process::id())))?;
    Ok(exported)
}

/// Updates a folder a previous build wrote: changed files only, then the
/// files no longer produced are deleted.
fn update(site: &Site, out: &Path, manifest: &Path) -> anyhow::Result<Exported> {
    let before = std::fs::read_to_string(manifest).with_context(|| format!("cannot read {}", manifest.display()))?;
    let (mut exported, written) = write_all(site, out, true)?;
    let now: HashSet<&str> = written.iter().map(String::as_str).collect();
    for gone in before.lines().filter(|line| !line.is_empty() && !now.contains(line)) {
        // Only plain relative paths, as this module writes them: a line
        // edited to `../x` must not delete anything outside.
        if gone.split('/').any(|part| part.is_empty() || part == "." || part == "..") {
            continue;
        }
        let path = out.join(gone);
        match std::fs::remove_file(&path) {
            Ok(()) => exported.removed += 1,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).with_context(|| format!("cannot remove {}", path.display())),
        }
        // Folders left empty go too; one still holding a file stays.
        let mut dir = path.parent();
        while let Some(d) = dir.filter(|d| *d != out) {
            if std::fs::remove_dir(d).is_err() {
                break;
            }
            dir = d.parent();
        }
    }
    write_manifest(out, &written)?;
    Ok(exported)
}

fn write_manifest(root: &Path, written: &[String]) -> anyhow::Result<()> {
    let mut text = written.join("\n");
    text.push('\n');
    let path = root.join(MANIFEST);
    if same_bytes(&path, text.as_bytes()) {
        return Ok(());
    }
    write_replacing(&path, text.as_bytes()).with_context(|| format!("cannot write {}", path.display()))
}

/// Every file of the export, by URL path, then written (on every core: on a
/// rebuild most of the work is comparing files with what is there).
/// Returns what was written and every file's path under `root`.
fn write_all(site: &Site, root: &Path, in_place: bool) -> anyhow::Result<(Exported, Vec<String>)> {
    // On every core: printable pages are prepared on first request.
    let mut files: Vec<(String, Arc<Prepared>)> = crate::asset::par_map(site.paths(), |path| {
        (format!("{path}index.html"), site.prepare_page(path).expect("paths() lists pages").clone())
    });
    files.push(("404.html".into(), site.not_found().clone()));
    files.push(("sitemap.xml".into(), site.sitemap().clone()));
    files.push(("robots.txt".into(), site.robots().clone()));
    // Drawing cards is the slow part of an export: draw them on every core.
    let cards =
        crate::asset::par_map(site.card_paths(), |path| (path, site.card(path).expect("card_paths() lists cards")));
    files.extend(cards.into_iter().map(|(path, png)| (path.to_string(), png)));
    for path in site.assets.paths() {
        files.push((path.to_string(), site.assets.get(path).expect("paths() lists assets").clone()));
    }
    let mut rules = String::from("# Old addresses and where they moved (Netlify and Cloudflare Pages format)\n");
    for (old, new) in site.redirects() {
        let page = Prepared::html_cached(redirect_page(&site.settings.base_url, new), site.cache());
        files.push((format!("{}/index.html", old.trim_end_matches('/')), page));
        rules.push_str(&format!("{old} {new} 301\n"));
    }
    files.push(("_redirects".into(), Prepared::shared("text/plain; charset=utf-8", rules.into())));
    for (path, page) in site.closed_comment_pages().into_iter().chain(site.closed_feedback_pages()) {
        files.push((format!("{path}index.html"), page));
    }

    let results = crate::asset::par_map(files, |(url_path, prepared)| write(root, &url_path, &prepared, in_place));
    let mut exported = Exported::default();
    let mut written = Vec::new();
    for result in results {
        let (one, names) = result?;
        exported.files += one.files;
        exported.bytes += one.bytes;
        exported.changed += one.changed;
        written.extend(names);
    }
    written.sort_unstable();
    written.dedup();
    Ok((exported, written))
}

/// Writes one file at a URL path: the same bytes `serve` sends, and the
/// same compressed forms beside it. In place, a file whose bytes are
/// already there is left alone.
fn write(root: &Path, url_path: &str, prepared: &Prepared, in_place: bool) -> anyhow::Result<(Exported, Vec<String>)> {
    let relative = url_path.trim_start_matches('/');
    let path = root.join(relative);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let variants = [
        (None, Some(&prepared.identity)),
        (Some("gz"), prepared.gzip.as_ref()),
        (Some("br"), prepared.brotli.as_ref()),
    ];
    let mut exported = Exported::default();
    let mut names = Vec::new();
    for (suffix, bytes) in variants {
        let Some(bytes) = bytes else { continue };
        let (file, name) = match suffix {
            Some(suffix) => (PathBuf::from(format!("{}.{suffix}", path.display())), format!("{relative}.{suffix}")),
            None => (path.clone(), relative.to_string()),
        };
        if !in_place {
            std::fs::write(&file, bytes).with_context(|| format!("cannot write {}", file.display()))?;
            exported.changed += 1;
        } else if !same_bytes(&file, bytes) {
            write_replacing(&file, bytes).with_context(|| format!("cannot write {}", file.display()))?;
            exported.changed += 1;
        }
        exported.files += 1;
        exported.bytes += bytes.len() as u64;
        names.push(name);
    }
    Ok((exported, names))
}

/// Whether the file at `path` holds exactly `bytes` (the size is compared
/// first, so most changed files are not read).
fn same_bytes(path: &Path, bytes: &[u8]) -> bool {
    std::fs::metadata(path).is_ok_and(|meta| meta.is_file() && meta.len() == bytes.len() as u64)
        && std::fs::read(path).is_ok_and(|there| there == bytes)
}

/// For hosts without redirect rules: a page that sends the browser on.
/// (A meta refresh drops the `#part` of a link; `_redirects` keeps it.)
fn redirect_page(base_url: &str, to: &str) -> String {
    let absolute = escape(&format!("{base_url}{to}"));
    let to = escape(to);
    format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>This page has moved</title>\n<meta name=\"robots\" content=\"noindex\">\n<link rel=\"canonical\" href=\"{absolute}\">\n<meta http-equiv=\"refresh\" content=\"0; url={to}\">\n</head>\n<body>\n<p>This page has moved to <a href=\"{to}\">{absolute}</a>.</p>\n</body>\n</html>\n"
    )
}

/// Puts `staging` where `out` is, moving any old export aside first and
/// deleting it only once the new one is in place.
fn replace_dir(staging: &Path, out: &Path, old: &Path) -> anyhow::Result<()> {
    let had_old = out.exists();
    if had_old {
        std::fs::rename(out, old).with_context(|| format!("cannot move the previous {} aside", out.display()))?;
    }
    if let Err(e) = std::fs::rename(staging, out) {
        if had_old {
            let _ = std::fs::rename(old, out);
        }
        return Err(e).with_context(|| format!("cannot move the new site into {}", out.display()));
    }
    if had_old {
        std::fs::remove_dir_all(old)
            .with_context(|| format!("cannot remove the previous export at {}", old.display()))?;
    }
    Ok(())
}
