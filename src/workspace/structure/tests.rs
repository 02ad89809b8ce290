use std::path::{Path, PathBuf};

use super::*;
use crate::auth::activity::Filter;
use crate::auth::{Account, StaffStore};
use crate::content::Severity;

const NOW: i64 = 1_764_000_000;

/// A data folder with Jane Smith, and a copy of the valid fixture (the
/// article `guide`: index, first, second and a draft, hidden) as the
/// content folder.
fn setup() -> (tempfile::TempDir, Workspace, StaffStore, Actor) {
    let (dir, staff, jane): (_, _, Account) = crate::auth::test_store(NOW);
    let content = dir.path().join("content");
    copy(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/valid"), &content);
    let workspace = Workspace::open(&dir.path().join("comments.db"), &content).unwrap();
    workspace.record_outside_edits(NOW).unwrap();
    (dir, workspace, staff, Actor::person(&jane))
}

fn copy(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() { copy(&path, &target) } else { std::fs::copy(&path, &target).map(drop).unwrap() }
    }
}

fn content(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("content")
}

fn hash_of(workspace: &Workspace, path: &str) -> String {
    workspace.current(path).unwrap().1
}

fn doc(workspace: &Workspace, path: &str) -> Document {
    Document::parse(&workspace.current(path).unwrap().0).unwrap()
}

/// Every problem `check` finds in the content folder, as
/// (file name, severity, message).
fn problems(dir: &tempfile::TempDir) -> Vec<(String, Severity, String)> {
    let static_dir = dir.path().join("static");
    std::fs::create_dir_all(&static_dir).unwrap();
    crate::report::inspect(&content(dir), &static_dir)
        .problems
        .into_iter()
        .map(|p| (p.path.file_name().unwrap().to_string_lossy().into_owned(), p.severity, p.message.clone()))
        .collect()
}

fn errors(dir: &tempfile::TempDir) -> Vec<(String, Severity, String)> {
    problems(dir).into_iter().filter(|(_, severity, _)| *severity == Severity::Error).collect()
}

#[test]
fn titles_make_plain_addresses() {
    assert_eq!(slug_from_title("After Your Session").unwrap(), "after-your-session");
    assert_eq!(slug_from_title("  Café & Tea: 2 Tips!  ").unwrap(), "caf-tea-2-tips");
    assert!(matches!(slug_from_title("???"), Err(StructureError::NoTitle)));
    let long = slug_from_title(&"word ".repeat(30)).unwrap();
    assert!(long.len() <= MAX_SLUG_CHARS && is_valid_slug(&long), "{long}");
}

#[test]
fn a_new_page_has_the_required_settings_is_a_draft_and_comes_last() {
    let (dir, workspace, staff, jane) = setup();
    let new = workspace.new_page("guide", "After Your Session", &jane, NOW).unwrap();
    assert_eq!((new.path.as_str(), new.url.as_str()), ("guide/after-your-session.md", "/guide/after-your-session/"));
    let page = doc(&workspace, &new.path);
    assert_eq!(page.title(), Some("After Your Session"));
    assert_eq!(page.description(), Some(""));
    assert!(page.draft());
    assert_eq!(page.weight(), 4, "after the draft, whose weight is 3");
    // The page parses as the site reads pages, and `check` has nothing
    // against it but what its author must still do: write the description
    // and have the new text reviewed.
    let path = content(&dir).join(&new.path);
    crate::content::Page::parse(&path, std::fs::read_to_string(&path).unwrap()).unwrap();
    let mine: Vec<_> = problems(&dir).into_iter().filter(|(file, _, _)| file == "after-your-session.md").collect();
    assert!(mine.iter().all(|(_, severity, _)| *severity == Severity::Warning), "{mine:?}");
    let messages: Vec<&str> = mine.iter().map(|(_, _, message)| message.as_str()).collect();
    assert_eq!(messages.len(), 2, "{messages:?}");
    assert!(messages.iter().any(|m| m.starts_with("the description is short (0 characters")), "{messages:?}");
    assert!(messages.iter().any(|m| m.contains("has not been clinically reviewed")), "{messages:?}");
    assert!(errors(&dir).is_empty(), "{:?}", errors(&dir));

    let history = workspace.history(&new.path).unwrap();
    assert_eq!((history.len(), history[0].kind, history[0].account_id), (1, RevisionKind::Create, jane.account_id));
    let lines = staff.activity(&Filter { kind: Some(Kind::PageCreated), ..Filter::default() }, 10).unwrap();
    assert_eq!((lines.len(), lines[0].subject.as_str()), (1, "page guide/after-your-session.md"));
    assert_eq!(workspace.record_outside_edit(&new.path, NOW).unwrap(), None, "recorded as the workspace's own");
}

#[test]
fn a_new_page_is_refused_a_taken_or_reserved_address_with_the_reason() {
    let (dir, workspace, _, jane) = setup();
    let refused = |title: &str| workspace.new_page("guide", title, &jane, NOW).unwrap_err();
    assert!(matches!(refused("First"), StructureError::FileExists { .. }), "{:?}", refused("First"));
    assert!(matches!(refused("Print"), StructureError::Reserved { word: "print", .. }));
    assert!(refused("Comment").to_string().contains("keeps for its own pages"));
    assert!(matches!(refused("!!!"), StructureError::NoTitle));
    assert!(matches!(refused("Index"), StructureError::FileExists { .. }));
    // An address another page has, through its slug or as an old address.
    let mut second = doc(&workspace, "guide/second.md");
    second.set_slug(Some("extra"));
    second.set_aliases(&["/guide/older/".to_string()]);
    let base = hash_of(&workspace, "guide/second.md");
    workspace.save("guide/second.md", &second.to_text(), &base, &jane, "", NOW).unwrap();
    let taken = refused("Extra");
    assert!(matches!(&taken, StructureError::Taken { owner, .. } if owner == "guide/second.md"), "{taken:?}");
    assert!(taken.to_string().contains("/guide/extra/ is already the address of guide/second.md"), "{taken}");
    assert!(matches!(refused("Older"), StructureError::OldAddress { .. }));
    assert!(matches!(
        workspace.new_page("nowhere", "A Page", &jane, NOW).unwrap_err(),
        StructureError::Save(SaveError::NotFound { .. }) | StructureError::NoSuchArticle { .. }
    ));
    assert!(!content(&dir).join("guide/print.md").exists());
}

#[test]
fn a_rename_keeps_the_old_address_as_an_alias() {
    let (dir, workspace, staff, jane) = setup();
    let base = hash_of(&workspace, "guide/first.md");
    let renamed = workspace.rename("guide/first.md", "opening", &base, &jane, NOW).unwrap();
    assert_eq!((renamed.old_url.as_str(), renamed.new_url.as_str()), ("/guide/first/", "/guide/opening/"));
    let page = doc(&workspace, "guide/first.md");
    assert_eq!((page.slug(), page.aliases()), (Some("opening"), vec!["/guide/first/".to_string()]));
    assert!(errors(&dir).is_empty(), "{:?}", errors(&dir));
    let lines = staff.activity(&Filter { kind: Some(Kind::PageRenamed), ..Filter::default() }, 10).unwrap();
    assert!(lines[0].detail.contains("address changed from /guide/first/ to /guide/opening/"), "{lines:?}");

    // Renamed again: both old addresses lead to it, none twice.
    let base = renamed.saved.hash;
    let again = workspace.rename("guide/first.md", "start", &base, &jane, NOW).unwrap();
    assert_eq!(doc(&workspace, "guide/first.md").aliases(), ["/guide/first/", "/guide/opening/"]);
    // Back to its file name: the slug goes, and so does the alias that is
    // its address again, or it would send readers to itself.
    let back = workspace.rename("guide/first.md", "first", &again.saved.hash, &jane, NOW).unwrap();
    let page = doc(&workspace, "guide/first.md");
    assert_eq!((page.slug(), page.aliases()), (None, vec!["/guide/opening/".to_string(), "/guide/start/".into()]));
    assert!(errors(&dir).is_empty(), "{:?}", errors(&dir));
    // The same address again changes nothing.
    let same = workspace.rename("guide/first.md", "first", &back.saved.hash, &jane, NOW).unwrap();
    assert_eq!(same.saved.revision, None);
}

#[test]
fn a_rename_is_refused_with_the_reason() {
    let (_dir, workspace, _, jane) = setup();
    let base = hash_of(&workspace, "guide/first.md");
    let rename = |slug: &str| workspace.rename("guide/first.md", slug, &base, &jane, NOW).unwrap_err();
    for bad in ["Side Effects", "side--effects", "-x", "", "é"] {
        let error = rename(bad);
        assert!(matches!(error, StructureError::InvalidSlug { .. }), "{bad}: {error:?}");
        assert!(error.to_string().contains("only lowercase letters"), "{error}");
    }
    assert!(matches!(rename("second"), StructureError::Taken { .. }));
    assert!(matches!(rename("hidden"), StructureError::Taken { .. }), "a draft's address is taken too");
    assert!(matches!(rename("print"), StructureError::Reserved { .. }));
    let stale = workspace.rename("guide/first.md", "opening", "not-the-hash", &jane, NOW).unwrap_err();
    assert!(matches!(stale, StructureError::Changed), "{stale:?}");
    let front = workspace.rename("guide/index.md", "start", &hash_of(&workspace, "guide/index.md"), &jane, NOW);
    assert!(matches!(front, Err(StructureError::FrontPage { .. })), "{front:?}");
    assert_eq!(workspace.current("guide/first.md").unwrap().1, base, "nothing was written");
}

#[test]
fn reordering_sets_weights_one_to_n_in_the_order_given() {
    let (_dir, workspace, staff, jane) = setup();
    let (front, pages) = workspace.article_pages("guide").unwrap();
    assert_eq!(front.file, "guide/index.md");
    let files: Vec<&str> = pages.iter().map(|page| page.file.as_str()).collect();
    assert_eq!(files, ["guide/first.md", "guide/second.md", "guide/hidden.md"]);

    let order: Vec<String> = ["guide/second.md", "guide/hidden.md", "guide/first.md"].map(String::from).to_vec();
    assert_eq!(workspace.reorder("guide", &order, &jane, NOW).unwrap(), 3);
    let (_, pages) = workspace.article_pages("guide").unwrap();
    let now: Vec<(&str, i64)> = pages.iter().map(|page| (page.file.as_str(), page.weight)).collect();
    assert_eq!(now, [("guide/second.md", 1), ("guide/hidden.md", 2), ("guide/first.md", 3)]);
    // The same order again writes nothing and records nothing.
    assert_eq!(workspace.reorder("guide", &order, &jane, NOW).unwrap(), 0);
    let lines = staff.activity(&Filter { kind: Some(Kind::PagesReordered), ..Filter::default() }, 10).unwrap();
    assert_eq!(lines.len(), 1);
    assert_eq!(
        (lines[0].subject.as_str(), lines[0].detail.as_str()),
        ("article guide", "new order: second, hidden, first")
    );
    assert_eq!(workspace.history("guide/second.md").unwrap()[0].kind, RevisionKind::Save);

    for (bad, why) in [
        (vec!["guide/second.md", "guide/first.md"], "guide/hidden.md is missing"),
        (vec!["guide/second.md", "guide/second.md", "guide/first.md", "guide/hidden.md"], "listed twice"),
        (vec!["guide/index.md", "guide/second.md", "guide/first.md", "guide/hidden.md"], "not one of its pages"),
    ] {
        let order: Vec<String> = bad.into_iter().map(String::from).collect();
        let error = workspace.reorder("guide", &order, &jane, NOW).unwrap_err();
        assert!(error.to_string().contains(why), "{error}");
    }
}

#[test]
fn a_page_moved_to_the_trash_comes_back_as_it_was() {
    let (dir, workspace, staff, jane) = setup();
    let (text, base) = workspace.current("guide/first.md").unwrap();
    let trashed = workspace.trash("guide/first.md", &base, &jane, NOW).unwrap();
    assert_eq!((trashed.url.as_str(), trashed.front_page.as_str()), ("/guide/first/", "/guide/"));
    assert!(!content(&dir).join("guide/first.md").exists());
    assert_eq!(doc(&workspace, "guide/index.md").aliases(), ["/guide/first/"]);
    assert!(errors(&dir).is_empty(), "the old address leads to the front page: {:?}", errors(&dir));
    let in_trash = workspace.trashed(Some("guide")).unwrap();
    assert_eq!(in_trash.len(), 1);
    assert_eq!((in_trash[0].path.as_str(), in_trash[0].kind), ("guide/first.md", RevisionKind::Trash));
    assert_eq!(workspace.revision(in_trash[0].id).unwrap().unwrap().text, text);
    assert!(workspace.trashed(Some("other")).unwrap().is_empty());
    // The watcher's look finds nothing to record for a page that is gone.
    assert_eq!(workspace.record_outside_edit("guide/first.md", NOW).unwrap(), None);
    assert_eq!(workspace.record_outside_edits(NOW).unwrap(), 0);
    // A new page cannot take its address while it is in the trash.
    let taken = workspace.new_page("guide", "First", &jane, NOW).unwrap_err();
    assert!(matches!(taken, StructureError::OldAddress { .. }), "{taken:?}");

    let back = workspace.restore_from_trash("guide/first.md", &jane, NOW).unwrap();
    assert_eq!(back.url, "/guide/first/");
    assert_eq!(std::fs::read_to_string(content(&dir).join("guide/first.md")).unwrap(), text);
    assert!(doc(&workspace, "guide/index.md").aliases().is_empty());
    assert!(workspace.trashed(None).unwrap().is_empty());
    assert!(errors(&dir).is_empty(), "{:?}", errors(&dir));
    let kinds: Vec<_> = workspace.history("guide/first.md").unwrap().iter().map(|r| r.kind).collect();
    assert_eq!(kinds, [RevisionKind::Restore, RevisionKind::Trash, RevisionKind::Outside]);
    assert_eq!(workspace.record_outside_edit("guide/first.md", NOW).unwrap(), None);
    for kind in [Kind::PageTrashed, Kind::PageRestoredFromTrash] {
        let lines = staff.activity(&Filter { kind: Some(kind), ..Filter::default() }, 10).unwrap();
        assert_eq!((lines.len(), lines[0].subject.as_str()), (1, "page guide/first.md"), "{kind:?}");
    }
    let again = workspace.restore_from_trash("guide/first.md", &jane, NOW).unwrap_err();
    assert!(matches!(again, StructureError::FileExists { .. }), "{again:?}");
}

#[test]
fn a_renamed_page_in_the_trash_leaves_all_its_addresses_to_the_front_page() {
    let (_dir, workspace, _, jane) = setup();
    let renamed = workspace.rename("guide/first.md", "opening", &hash_of(&workspace, "guide/first.md"), &jane, NOW);
    workspace.trash("guide/first.md", &renamed.unwrap().saved.hash, &jane, NOW).unwrap();
    assert_eq!(doc(&workspace, "guide/index.md").aliases(), ["/guide/opening/", "/guide/first/"]);
    workspace.restore_from_trash("guide/first.md", &jane, NOW).unwrap();
    assert!(doc(&workspace, "guide/index.md").aliases().is_empty());
    assert_eq!(doc(&workspace, "guide/first.md").aliases(), ["/guide/first/"]);
}

#[test]
fn the_front_page_cannot_go_to_the_trash_and_a_taken_address_stops_a_restore() {
    let (dir, workspace, _, jane) = setup();
    let front = workspace.trash("guide/index.md", &hash_of(&workspace, "guide/index.md"), &jane, NOW).unwrap_err();
    assert!(matches!(front, StructureError::FrontPage { .. }), "{front:?}");
    assert!(front.to_string().contains("front page"), "{front}");
    assert!(content(&dir).join("guide/index.md").exists());
    let stale = workspace.trash("guide/first.md", "not-the-hash", &jane, NOW).unwrap_err();
    assert!(matches!(stale, StructureError::Changed), "{stale:?}");
    assert!(content(&dir).join("guide/first.md").exists());
    let never = workspace.restore_from_trash("guide/nothing.md", &jane, NOW).unwrap_err();
    assert!(matches!(never, StructureError::NotInTrash { .. }), "{never:?}");

    workspace.trash("guide/first.md", &hash_of(&workspace, "guide/first.md"), &jane, NOW).unwrap();
    // Another page takes its address meanwhile, after the front page gave
    // it up by hand.
    let mut index = doc(&workspace, "guide/index.md");
    index.set_aliases(&[]);
    let base = hash_of(&workspace, "guide/index.md");
    workspace.save("guide/index.md", &index.to_text(), &base, &jane, "", NOW).unwrap();
    let second = hash_of(&workspace, "guide/second.md");
    workspace.rename("guide/second.md", "first", &second, &jane, NOW).unwrap();
    let taken = workspace.restore_from_trash("guide/first.md", &jane, NOW).unwrap_err();
    assert!(matches!(&taken, StructureError::Taken { owner, .. } if owner == "guide/second.md"), "{taken:?}");
    assert!(!content(&dir).join("guide/first.md").exists());
}

#[test]
fn the_editor_can_check_an_address_and_keep_the_old_one() {
    let (_dir, workspace, _, _) = setup();
    assert_eq!(check_address(&workspace, "guide/first.md", "opening").unwrap(), "/guide/opening/");
    assert_eq!(check_address(&workspace, "guide/first.md", "first").unwrap(), "/guide/first/");
    assert!(matches!(check_address(&workspace, "guide/first.md", "second"), Err(StructureError::Taken { .. })));
    assert_eq!(page_address(&workspace, "guide/second.md").unwrap(), "/guide/second/");
    let mut page = Document::parse("+++\ntitle = \"T\"\naliases = [\"/a/b/\"]\n+++\nText\n").unwrap();
    keep_old_address(&mut page, "/a/c/", "/a/b/");
    assert_eq!(page.aliases(), ["/a/c/"]);
    keep_old_address(&mut page, "/a/c/", "/a/d/");
    assert_eq!(page.aliases(), ["/a/c/"], "not added twice");
}

/// Pages link to each other: a renamed page, or one in the trash, leaves
/// links to its old address, which `check` warns about but which do not
/// stop the site from updating.
#[test]
fn renaming_or_trashing_a_page_that_others_link_to_keeps_the_site_building() {
    let (dir, workspace, _, jane) = setup();
    let linked = |problems: &[(String, Severity, String)]| {
        problems.iter().filter(|(_, _, message)| message.contains("uses an old address")).count()
    };
    let renamed = workspace.rename("guide/second.md", "details", &hash_of(&workspace, "guide/second.md"), &jane, NOW);
    assert!(errors(&dir).is_empty(), "{:?}", errors(&dir));
    assert_eq!(linked(&problems(&dir)), 2, "the front page and the first page link to it");
    workspace.trash("guide/second.md", &renamed.unwrap().saved.hash, &jane, NOW).unwrap();
    assert!(errors(&dir).is_empty(), "{:?}", errors(&dir));
    assert_eq!(linked(&problems(&dir)), 2);
}

/// Two pages moved to the trash at the same moment both leave their
/// address with the front page: neither change to it is lost.
#[test]
fn two_pages_moved_to_the_trash_at_once_both_keep_their_addresses() {
    let (_dir, workspace, _, jane) = setup();
    let barrier = std::sync::Barrier::new(2);
    std::thread::scope(|scope| {
        for path in ["guide/first.md", "guide/second.md"] {
            let (workspace, barrier, jane) = (&workspace, &barrier, &jane);
            scope.spawn(move || {
                let base = hash_of(workspace, path);
                barrier.wait();
                workspace.trash(path, &base, jane, NOW).unwrap();
            });
        }
    });
    let mut aliases = doc(&workspace, "guide/index.md").aliases();
    aliases.sort();
    assert_eq!(aliases, ["/guide/first/", "/guide/second/"]);
    assert_eq!(workspace.trashed(Some("guide")).unwrap().len(), 2);
}

/// A change waiting for review survives a rename and a reorder: it is
/// carried over with the same front-matter change, based on the file as it
/// now is, so it can still be signed off and publishing it keeps both.
#[test]
fn a_change_waiting_for_review_is_carried_over_a_rename_and_a_reorder() {
    let (_dir, workspace, _staff, jane) = setup();
    let (text, base) = workspace.current("guide/first.md").unwrap();
    let changed = text.replace("Back to", "Go back to");
    let waiting = workspace.save_pending("guide/first.md", &changed, &base, &jane, "wording", NOW).unwrap();

    let renamed = workspace.rename("guide/first.md", "opening", &base, &jane, NOW).unwrap();
    let after_rename = workspace.pending("guide/first.md").unwrap().expect("still waiting after the rename");
    assert_ne!(after_rename.id, waiting, "a new waiting version");
    assert_eq!(after_rename.base_hash.as_deref(), Some(renamed.saved.hash.as_str()), "based on the renamed file");
    let carried = workspace.revision(after_rename.id).unwrap().unwrap().text;
    let carried_doc = Document::parse(&carried).unwrap();
    assert_eq!(carried_doc.fields().slug, "opening");
    assert!(carried.contains("Go back to"), "the writer's words are kept: {carried}");
    assert_eq!(carried_doc.fields().aliases, doc(&workspace, "guide/first.md").fields().aliases);

    workspace
        .reorder("guide", &["guide/second.md", "guide/first.md", "guide/hidden.md"].map(String::from), &jane, NOW)
        .unwrap();
    let after_order = workspace.pending("guide/first.md").unwrap().expect("still waiting after the reorder");
    assert_eq!(after_order.base_hash.as_deref(), Some(hash_of(&workspace, "guide/first.md").as_str()));
    let carried = Document::parse(&workspace.revision(after_order.id).unwrap().unwrap().text).unwrap();
    assert_eq!((carried.fields().weight, carried.fields().slug.as_str()), (2, "opening"));
    // The page file itself still has the live words.
    assert!(!workspace.current("guide/first.md").unwrap().0.contains("Go back to"));
}
