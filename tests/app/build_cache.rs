//! The build cache (compressed pages and cards kept in the data folder's
//! `cache/`) and builds that update an earlier export in place.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use clinic_site::asset::compressed_keys;
use clinic_site::cache::{Cache, Kind};
use clinic_site::site::{Site, SiteOptions};

/// A small library: two articles of a front page and three sections.
fn library(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    let fixture = Path::new("tests/fixtures/valid");
    for file in ["site.toml", "sources.toml"] {
        std::fs::copy(fixture.join(file), dir.join(file)).unwrap();
    }
    for article in ["knees", "backs"] {
        let folder = dir.join(article);
        std::fs::create_dir_all(&folder).unwrap();
        for (weight, name) in ["index", "rest", "exercise", "recovery"].iter().enumerate() {
            let title =
                if *name == "index" { format!("Caring for {article}") } else { format!("{name} for {article}") };
            let extra = if *name == "index" { String::new() } else { format!("weight = {weight}\n") };
            let body = format!("## About {name}\n\nA short paragraph about {name} and {article} for readers.\n");
            std::fs::write(
                folder.join(format!("{name}.md")),
                format!(
                    "+++\ntitle = \"{title}\"\ndescription = \"What to know about {name} when caring for your {article}, in plain words.\"\n{extra}updated = 2026-01-15\n+++\n\n{body}"
                ),
            )
            .unwrap();
        }
    }
}

fn build(content: &Path, data: &Path, out: &Path) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_clinic-site"))
        .args(["build", "--allow-placeholders", "--content"])
        .arg(content)
        .arg("--data")
        .arg(data)
        .arg("--out")
        .arg(out)
        .output()
        .expect("the binary runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Every file under `dir` with what tells a rewritten file from an
/// untouched one: its inode (a rewrite is a new file renamed into place)
/// and its bytes.
fn files(dir: &Path) -> BTreeMap<String, (u64, Vec<u8>)> {
    use std::os::unix::fs::MetadataExt;
    let mut found = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(folder) = stack.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let name = path.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
                found.insert(name, (std::fs::metadata(&path).unwrap().ino(), std::fs::read(&path).unwrap()));
            }
        }
    }
    found
}

/// The files that are new, gone or rewritten between two listings.
fn rewritten(before: &BTreeMap<String, (u64, Vec<u8>)>, after: &BTreeMap<String, (u64, Vec<u8>)>) -> Vec<String> {
    let mut names: Vec<String> = after
        .iter()
        .filter(|(name, (inode, _))| before.get(*name).map(|(i, _)| i) != Some(inode))
        .map(|(name, _)| name.clone())
        .chain(before.keys().filter(|name| !after.contains_key(*name)).cloned())
        .collect();
    names.sort();
    names
}

fn with_siblings(files: &[&str]) -> Vec<String> {
    let mut names: Vec<String> =
        files.iter().flat_map(|f| [f.to_string(), format!("{f}.br"), format!("{f}.gz")]).collect();
    names.sort();
    names
}

fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "{} has no {from:?}", path.display());
    std::fs::write(path, text.replace(from, to)).unwrap();
}

#[test]
fn a_warm_build_after_an_edit_rewrites_only_what_the_edit_changed() {
    let dir = tempfile::tempdir().unwrap();
    let (content, data, out) = (dir.path().join("content"), dir.path().join("data"), dir.path().join("public"));
    library(&content);
    std::fs::create_dir_all(&data).unwrap();
    build(&content, &data, &out);
    let first = files(&out);
    assert!(first.keys().any(|f| f.ends_with(".png")) && first.contains_key("knees/rest/index.html.br"));
    let cards = std::fs::read_dir(data.join("cache"))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().extension().is_some_and(|e| e == "png"))
        .count();
    assert_eq!(cards, 9, "the build kept its cards in the cache");

    // Nothing changed: nothing is written.
    let said = build(&content, &data, &out);
    assert!(said.contains("; 0 new or changed, 0 removed since the last build"), "{said}");
    assert_eq!(rewritten(&first, &files(&out)), Vec::<String>::new());

    // A body edit changes the page and the article's print page, which
    // holds every page's text; not the other pages, which only show
    // titles, nor the card, which shows no body.
    edit(&content.join("knees/rest.md"), "A short paragraph", "A changed paragraph");
    build(&content, &data, &out);
    let second = files(&out);
    assert_eq!(rewritten(&first, &second), with_siblings(&["knees/print/index.html", "knees/rest/index.html"]));

    // A title edit also changes the navigation of the article's other
    // pages, the page's card and the forms' pages that name it; the other
    // article is untouched.
    edit(&content.join("knees/rest.md"), "title = \"rest for knees\"", "title = \"Resting your knees\"");
    build(&content, &data, &out);
    let third = files(&out);
    let changed = rewritten(&second, &third);
    for file in ["knees/rest/index.html", "knees/exercise/index.html", "knees/index.html", "og/knees/rest.png"] {
        assert!(changed.contains(&file.to_string()), "{file} is rewritten: {changed:?}");
    }
    assert!(!changed.iter().any(|f| f.starts_with("backs/") || f.starts_with("og/backs")), "{changed:?}");
    assert!(!changed.contains(&"og/knees/exercise.png".to_string()), "{changed:?}");

    // A page removed: its files go, and only its files.
    std::fs::remove_file(content.join("backs/recovery.md")).unwrap();
    let said = build(&content, &data, &out);
    let fourth = files(&out);
    assert!(!out.join("backs/recovery").exists() && !out.join("og/backs/recovery.png").exists());
    assert!(said.contains(" removed since the last build") && !said.contains(" 0 removed "), "{said}");
    assert!(rewritten(&third, &fourth).iter().all(|f| f.starts_with("backs/")
        || f.starts_with("og/backs/")
        || ["index.html", "404.html", "sitemap.xml", "_redirects"].iter().any(|top| f.starts_with(top))
        || f == clinic_site::export::MANIFEST));

    // The same export as a first build into an empty folder gives.
    let fresh = dir.path().join("fresh");
    build(&content, &dir.path().join("no-data"), &fresh);
    let strip = |files: BTreeMap<String, (u64, Vec<u8>)>| -> BTreeMap<String, Vec<u8>> {
        files.into_iter().map(|(name, (_, bytes))| (name, bytes)).collect()
    };
    assert!(strip(files(&fresh)) == strip(fourth), "an updated export equals a fresh one");
}

fn options(cache: &Path) -> SiteOptions {
    SiteOptions {
        cache: Some(Cache::with_grace(cache, "build", Duration::ZERO)),
        ..SiteOptions::public(Path::new("static"))
    }
}

/// Content with a page no other test has, so its compressed forms are not
/// shared in memory with another test's site and must come from the cache,
/// and long enough to be cached at all.
fn unique_library(dir: &Path, word: &str) -> PathBuf {
    let content = dir.join("content");
    std::fs::create_dir_all(&content).unwrap();
    library(&content);
    edit(&content.join("knees/rest.md"), "A short paragraph", &format!("A {word} paragraph, ").repeat(300));
    content
}

#[test]
fn a_damaged_cache_entry_is_made_again_and_never_served() {
    let dir = tempfile::tempdir().unwrap();
    let content = unique_library(dir.path(), "damaged-entry-test");
    let cache_dir = dir.path().join("cache");
    let fresh = {
        let site = Site::load(&content, &options(&cache_dir), &[]).unwrap();
        for path in site.card_paths() {
            site.card(path).unwrap();
        }
        let page = site.page("/knees/rest/").unwrap();
        (page.identity.clone(), page.gzip.clone().unwrap(), page.brotli.clone().unwrap())
    };
    let cache = Cache::with_grace(&cache_dir, "build", Duration::ZERO);
    let [gz_key, br_key] = compressed_keys(&fresh.0);
    let (gz, br) = (cache.path(Kind::Gzip, &gz_key), cache.path(Kind::Brotli, &br_key));
    let whole = (std::fs::read(&gz).unwrap(), std::fs::read(&br).unwrap());
    // One cut short, one with a byte changed in the middle of its payload.
    std::fs::write(&gz, &whole.0[..whole.0.len() / 2]).unwrap();
    let mut flipped = whole.1.clone();
    flipped[10] ^= 0x40;
    std::fs::write(&br, &flipped).unwrap();

    let damaged_before = cache.stats().damaged;
    let site = Site::load(&content, &options(&cache_dir), &[]).unwrap();
    let page = site.page("/knees/rest/").unwrap();
    assert!(page.gzip.as_ref().unwrap() == &fresh.1 && page.brotli.as_ref().unwrap() == &fresh.2, "never served");
    assert_eq!(cache.stats().damaged, damaged_before + 2, "both damaged entries are noticed");
    assert_eq!((std::fs::read(&gz).unwrap(), std::fs::read(&br).unwrap()), whole, "and made again");
    // What is served decodes to the page.
    let mut back = Vec::new();
    brotli::BrotliDecompress(&mut &page.brotli.as_ref().unwrap()[..], &mut back).unwrap();
    assert!(back == page.identity);

    // A damaged card is drawn again too.
    let card_entry = std::fs::read_dir(&cache_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "png"))
        .expect("the cards drawn by the first site are cached");
    let whole_card = std::fs::read(&card_entry).unwrap();
    std::fs::write(&card_entry, &whole_card[..100]).unwrap();
    drop(site);
    let site = Site::load(&content, &options(&cache_dir), &[]).unwrap();
    let uncached = Site::load(&content, &SiteOptions::public(Path::new("static")), &[]).unwrap();
    for path in site.card_paths() {
        assert!(site.card(path).unwrap().identity == uncached.card(path).unwrap().identity, "{path}");
    }
    assert_eq!(std::fs::read(&card_entry).unwrap(), whole_card);
}

#[test]
fn cards_from_the_cache_are_byte_identical_to_freshly_drawn_ones() {
    let dir = tempfile::tempdir().unwrap();
    let content = unique_library(dir.path(), "card-test");
    let cache_dir = dir.path().join("cache");
    let cold = Site::load(&content, &options(&cache_dir), &[]).unwrap();
    for path in cold.card_paths() {
        cold.card(path).unwrap();
    }
    drop(cold);
    let cache = Cache::with_grace(&cache_dir, "build", Duration::ZERO);
    let hits = cache.stats().hits;
    let warm = Site::load(&content, &options(&cache_dir), &[]).unwrap();
    let fresh = Site::load(&content, &SiteOptions::public(Path::new("static")), &[]).unwrap();
    let paths = warm.card_paths();
    assert_eq!(paths.len(), 9, "the home page and 8 pages");
    for path in &paths {
        let (cached, drawn) = (warm.card(path).unwrap(), fresh.card(path).unwrap());
        assert!(cached.identity == drawn.identity, "{path}: the cached card differs from a fresh one");
        assert_eq!(cached.etag, drawn.etag);
    }
    assert!(cache.stats().hits >= hits + paths.len(), "every card came from the cache");
}

#[test]
fn entries_no_page_uses_any_more_are_cleaned() {
    let dir = tempfile::tempdir().unwrap();
    let content = unique_library(dir.path(), "cleaning-test");
    let cache_dir = dir.path().join("cache");
    let options = options(&cache_dir);
    let old = {
        let site = Site::load(&content, &options, &[]).unwrap();
        // One card drawn (and saved), the others not yet.
        site.card("/og/knees/exercise.png").unwrap();
        // The printable page, prepared on first request, is cached then.
        let files = || std::fs::read_dir(&cache_dir).unwrap().count();
        let unprinted = files();
        assert!(site.page("/knees/print/").is_none(), "not made before it is asked for");
        site.prepare_page("/knees/print/").unwrap();
        assert_eq!(files(), unprinted + 2, "the print page's gzip and brotli forms");
        site.page("/knees/rest/").unwrap().identity.clone()
    };
    let cache = options.cache.as_ref().unwrap();
    assert_eq!(cache.finish(), 0);
    let count = || {
        std::fs::read_dir(&cache_dir)
            .unwrap()
            .filter(|e| !e.as_ref().unwrap().file_name().to_string_lossy().starts_with("used-"))
            .count()
    };
    let before = count();

    edit(&content.join("knees/rest.md"), "cleaning-test", "cleaned-test");
    let site = Site::load(&content, &options, &[]).unwrap();
    let new = site.page("/knees/rest/").unwrap().identity.clone();
    site.prepare_page("/knees/print/").unwrap();
    // The edited page's old compressed forms (and the print page's) go;
    // the new ones stay.
    assert_eq!(cache.finish(), 4);
    assert_eq!(count(), before);
    for (key, kind) in compressed_keys(&old).iter().zip([Kind::Gzip, Kind::Brotli]) {
        assert!(!cache.path(kind, key).exists());
    }
    for (key, kind) in compressed_keys(&new).iter().zip([Kind::Gzip, Kind::Brotli]) {
        assert!(cache.path(kind, key).exists());
    }
    // The card drawn by the old version is kept, though the new one has
    // not drawn it yet: the server draws cards when first asked for.
    let cards: Vec<_> = std::fs::read_dir(&cache_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "png"))
        .collect();
    assert_eq!(cards.len(), 1, "{cards:?}");
}
