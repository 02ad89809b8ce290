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
//! The export is written to a temporary folder beside the target and renamed
//! into place at the end, so a failed build never leaves half a site.

use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::asset::Prepared;
use crate::site::Site;
use crate::util::html::escape;

/// What was written.
#[derive(Debug, Default)]
pub struct Exported {
    pub files: usize,
    pub bytes: u64,
}

/// Writes `site` and `static_dir` into `out`, replacing what was there.
pub fn export(site: &Site, out: &Path) -> anyhow::Result<Exported> {
    let name =
        out.file_name().context("the output folder needs a name, like --out public")?.to_string_lossy().into_owned();
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent).with_context(|| format!("cannot create {}", parent.display()))?;
    let staging = parent.join(format!(".{name}.building-{}", std::process::id()));
    if staging.exists() {
        std::fs::remove_dir_all(&staging).with_context(|| format!("cannot clear {}", staging.display()))?;
    }
    let result = write_all(site, &staging);
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&staging);
    }
    let exported = result?;
    replace_dir(&staging, out, &parent.join(format!(".{name}.old-{}", std::process::id())))?;
    Ok(exported)
}

fn write_all(site: &Site, root: &Path) -> anyhow::Result<Exported> {
    let mut writer = Writer { root, exported: Exported::default() };
    for path in site.paths() {
        let page = site.page(path).expect("paths() lists pages");
        writer.write(&format!("{path}index.html"), page)?;
    }
    writer.write("404.html", site.not_found())?;
    writer.write("sitemap.xml", site.sitemap())?;
    writer.write("robots.txt", site.robots())?;
    // Drawing cards is the slow part of an export: draw them on every core.
    let cards =
        crate::asset::par_map(site.card_paths(), |path| (path, site.card(path).expect("card_paths() lists cards")));
    for (path, png) in cards {
        writer.write(path, &png)?;
    }
    for path in site.assets.paths() {
        writer.write(path, site.assets.get(path).expect("paths() lists assets"))?;
    }
    let mut rules = String::from("# Old addresses and where they moved (Netlify and Cloudflare Pages format)\n");
    for (old, new) in site.redirects() {
        let page = Prepared::html(redirect_page(&site.settings.base_url, new));
        writer.write(&format!("{}/index.html", old.trim_end_matches('/')), &page)?;
        rules.push_str(&format!("{old} {new} 301\n"));
    }
    writer.write("_redirects", &Prepared::shared("text/plain; charset=utf-8", rules.into()))?;
    for (path, page) in site.closed_comment_pages().into_iter().chain(site.closed_feedback_pages()) {
        writer.write(&format!("{path}index.html"), &page)?;
    }
    Ok(writer.exported)
}

struct Writer<'a> {
    root: &'a Path,
    exported: Exported,
}

impl Writer<'_> {
    /// Writes one file at a URL path: the same bytes `serve` sends, and the
    /// same compressed forms beside it.
    fn write(&mut self, url_path: &str, prepared: &Prepared) -> anyhow::Result<()> {
        let path = self.root.join(url_path.trim_start_matches('/'));
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        }
        let variants = [
            (None, Some(&prepared.identity)),
            (Some("gz"), prepared.gzip.as_ref()),
            (Some("br"), prepared.brotli.as_ref()),
        ];
        for (suffix, bytes) in variants {
            let Some(bytes) = bytes else { continue };
            let file = match suffix {
                Some(suffix) => PathBuf::from(format!("{}.{suffix}", path.display())),
                None => path.clone(),
            };
            std::fs::write(&file, bytes).with_context(|| format!("cannot write {}", file.display()))?;
            self.exported.files += 1;
            self.exported.bytes += bytes.len() as u64;
        }
        Ok(())
    }
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
