use super::*;
use crate::auth::activity::Filter;
use crate::auth::{Account, StaffStore};

const NOW: i64 = 1_764_000_000;
const PAGE: &str = "+++\ntitle = \"Safety\"\ndescription = \"How safe it is.\"\n+++\n\nIt is safe.\n";

/// A data folder with Jane Smith, and a content folder with one page.
fn setup() -> (tempfile::TempDir, Workspace, StaffStore, Account) {
    let (dir, staff, jane) = crate::auth::test_store(NOW);
    let content = dir.path().join("content");
    std::fs::create_dir_all(content.join("dry-needling")).unwrap();
    std::fs::write(content.join("dry-needling/safety.md"), PAGE).unwrap();
    let workspace = Workspace::open(&dir.path().join("comments.db"), &content).unwrap();
    (dir, workspace, staff, jane)
}

#[test]
fn paths_are_relative_md_files_inside_the_content_folder() {
    for (path, why) in [
        ("../etc/passwd", "\"..\""),
        ("dry-needling/../../etc/passwd.md", "\"..\""),
        ("/etc/passwd", "inside the content folder"),
        ("dry-needling/safety.txt", ".md files"),
        ("dry-needling/.safety.md", "starting with a dot"),
        ("dry-needling\\safety.md", "use /"),
        ("", ".md files"),
        (".md", "starting with a dot"),
    ] {
        let error = normalize(path).unwrap_err().to_string();
        assert!(error.contains(why), "{path}: {error}");
    }
    assert_eq!(normalize("./dry-needling//safety.md").unwrap(), "dry-needling/safety.md");
}

#[cfg(unix)]
#[test]
fn links_out_of_the_content_folder_and_links_to_files_are_refused() {
    let (dir, workspace, _, _) = setup();
    let content = dir.path().join("content");
    let elsewhere = tempfile::tempdir().unwrap();
    std::fs::write(elsewhere.path().join("secret.md"), "secret").unwrap();
    std::os::unix::fs::symlink(elsewhere.path(), content.join("out")).unwrap();
    std::os::unix::fs::symlink(elsewhere.path().join("secret.md"), content.join("secret.md")).unwrap();
    std::os::unix::fs::symlink("dry-needling/safety.md", content.join("inside.md")).unwrap();
    for path in ["out/secret.md", "secret.md"] {
        let error = workspace.current(path).unwrap_err().to_string();
        assert!(error.contains("outside the content folder"), "{path}: {error}");
    }
    assert!(workspace.current("inside.md").unwrap_err().to_string().contains("edit that file instead"));
    std::os::unix::fs::symlink(&content, content.join("dry-needling/circle")).unwrap();
    assert_eq!(workspace.pages(), ["dry-needling/safety.md"]);
}

#[test]
fn a_save_writes_the_file_and_records_the_revision_and_the_activity_together() {
    let (dir, workspace, staff, jane) = setup();
    let (text, base) = workspace.current("dry-needling/safety.md").unwrap();
    assert_eq!((text.as_str(), base.as_str()), (PAGE, content_hash(PAGE).as_str()));
    let new = PAGE.replace("It is safe.", "It is very safe.");
    let saved = workspace.save("dry-needling/safety.md", &new, &base, &Actor::person(&jane), " Clearer ", NOW).unwrap();
    assert_eq!(std::fs::read_to_string(dir.path().join("content/dry-needling/safety.md")).unwrap(), new);
    assert_eq!(saved.hash, content_hash(&new));
    let id = saved.revision.unwrap();
    let revision = workspace.revision(id).unwrap().unwrap();
    assert_eq!(revision.text, new);
    assert_eq!(
        (revision.summary.kind, revision.summary.account_id, revision.summary.author.as_str()),
        (RevisionKind::Save, Some(jane.id), "Jane Smith (jane)")
    );
    assert_eq!((revision.summary.message.as_str(), revision.summary.base_hash.as_deref()), ("Clearer", Some(&*base)));
    let filter = Filter { kind: Some(Kind::PageSaved), ..Filter::default() };
    let entries = staff.activity(&filter, 10).unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(
        (entries[0].account_id, entries[0].subject.as_str(), entries[0].detail.clone()),
        (Some(jane.id), "page dry-needling/safety.md", format!("revision {id}: Clearer"))
    );
}

#[test]
fn saving_the_text_the_file_already_has_records_nothing() {
    let (_dir, workspace, _, jane) = setup();
    let base = content_hash(PAGE);
    let saved = workspace.save("dry-needling/safety.md", PAGE, &base, &Actor::person(&jane), "", NOW).unwrap();
    assert_eq!(saved, Saved { revision: None, hash: base });
    assert!(workspace.history("dry-needling/safety.md").unwrap().is_empty());
}

#[test]
fn a_stale_base_is_a_conflict_and_what_was_typed_is_kept_as_a_draft() {
    let (dir, workspace, _, jane) = setup();
    let path = dir.path().join("content/dry-needling/safety.md");
    std::fs::write(&path, PAGE.replace("safe.", "safe for most people.")).unwrap();
    let mine = PAGE.replace("safe.", "safe, with care.");
    let error = workspace
        .save("dry-needling/safety.md", &mine, &content_hash(PAGE), &Actor::person(&jane), "", NOW)
        .unwrap_err();
    let SaveError::Conflict { current_text, current_hash } = &error else { panic!("{error:?}") };
    assert!(current_text.contains("for most people") && *current_hash == content_hash(current_text));
    assert!(error.to_string().contains("kept as a draft"), "{error}");
    assert!(std::fs::read_to_string(&path).unwrap().contains("for most people"), "the file is left alone");
    let history = workspace.history("dry-needling/safety.md").unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!((history[0].kind, history[0].account_id), (RevisionKind::Draft, Some(jane.id)));
    assert_eq!(workspace.revision(history[0].id).unwrap().unwrap().text, mine);
}

#[test]
fn a_draft_is_kept_without_touching_the_file() {
    let (dir, workspace, staff, jane) = setup();
    let draft = "+++\ntitle = \"Safety\"\n+++\nNo description yet.\n";
    let id = workspace
        .save_draft("dry-needling/safety.md", draft, &content_hash(PAGE), &Actor::person(&jane), "half done", NOW)
        .unwrap();
    assert_eq!(std::fs::read_to_string(dir.path().join("content/dry-needling/safety.md")).unwrap(), PAGE);
    assert_eq!(workspace.revision(id).unwrap().unwrap().summary.kind, RevisionKind::Draft);
    let filter = Filter { kind: Some(Kind::PageDraftSaved), ..Filter::default() };
    assert_eq!(staff.activity(&filter, 10).unwrap().len(), 1);
    // A draft was never on disk, so the file is still unaccounted for.
    assert!(workspace.record_outside_edit("dry-needling/safety.md", NOW).unwrap().is_some());
}

#[test]
fn texts_and_messages_past_the_limits_are_refused() {
    let (_dir, workspace, _, jane) = setup();
    let big = format!("{PAGE}{}", "word ".repeat(60_000));
    let base = content_hash(PAGE);
    let error = workspace.save("dry-needling/safety.md", &big, &base, &Actor::person(&jane), "", NOW).unwrap_err();
    assert!(matches!(error, SaveError::TooLarge { .. }), "{error:?}");
    assert!(error.to_string().contains("more than the 256 KiB"), "{error}");
    let long = "x".repeat(MAX_MESSAGE_CHARS + 1);
    let error = workspace.save("dry-needling/safety.md", PAGE, &base, &Actor::person(&jane), &long, NOW).unwrap_err();
    assert!(matches!(error, SaveError::MessageTooLong { .. }), "{error:?}");
}

#[test]
fn restoring_writes_the_old_text_as_a_new_revision() {
    let (_dir, workspace, staff, jane) = setup();
    let by = Actor::person(&jane);
    let first = workspace.record_outside_edit("dry-needling/safety.md", NOW).unwrap().unwrap();
    let changed = PAGE.replace("safe.", "mostly safe.");
    let saved = workspace.save("dry-needling/safety.md", &changed, &content_hash(PAGE), &by, "", NOW + 1).unwrap();
    let restored = workspace.restore("dry-needling/safety.md", first, &saved.hash, &by, NOW + 2).unwrap();
    assert_eq!(workspace.current("dry-needling/safety.md").unwrap().0, PAGE);
    let history = workspace.history("dry-needling/safety.md").unwrap();
    let kinds: Vec<_> = history.iter().map(|r| r.kind).collect();
    assert_eq!(kinds, [RevisionKind::Restore, RevisionKind::Save, RevisionKind::Outside]);
    assert_eq!(
        (history[0].id, history[0].message.as_str()),
        (restored.revision.unwrap(), &*format!("restored revision {first}"))
    );
    let filter = Filter { kind: Some(Kind::PageRestored), ..Filter::default() };
    assert_eq!(staff.activity(&filter, 10).unwrap().len(), 1);
    let error = workspace.restore("dry-needling/safety.md", 999, &content_hash(PAGE), &by, NOW).unwrap_err();
    assert!(matches!(error, SaveError::NoSuchRevision { id: 999, .. }), "{error:?}");
}

#[test]
fn a_file_written_but_not_recorded_is_found_as_an_outside_edit() {
    // What a crash between writing the file and recording it leaves.
    let (dir, workspace, staff, _) = setup();
    let path = dir.path().join("content/dry-needling/safety.md");
    assert_eq!(workspace.record_outside_edits(NOW).unwrap(), 1, "the first look records the page as it is");
    write_atomic(&path, PAGE.replace("safe", "SAFE").as_bytes()).unwrap();
    assert_eq!(workspace.record_outside_edits(NOW + 1).unwrap(), 1);
    assert_eq!(workspace.record_outside_edits(NOW + 2).unwrap(), 0, "recorded once, not twice");
    let history = workspace.history("dry-needling/safety.md").unwrap();
    assert_eq!(history[0].author, "outside the workspace");
    assert_eq!((history[0].kind, history[0].account_id), (RevisionKind::Outside, None));
    let filter = Filter { kind: Some(Kind::PageEditedOutside), ..Filter::default() };
    let entries = staff.activity(&filter, 10).unwrap();
    // The first version seen is where the history starts: no one edited it.
    assert_eq!((entries.len(), entries[0].actor.as_str()), (1, "outside the workspace"));
    assert_eq!(entries[0].account_id, None);
}

#[test]
fn revisions_cannot_be_changed_or_deleted_even_by_sql() {
    let (_dir, workspace, _, _) = setup();
    workspace.record_outside_edit("dry-needling/safety.md", NOW).unwrap();
    let conn = workspace.conn();
    assert!(
        conn.execute("UPDATE page_revisions SET text = ''", []).unwrap_err().to_string().contains("cannot be changed")
    );
    assert!(conn.execute("DELETE FROM page_revisions", []).unwrap_err().to_string().contains("cannot be deleted"));
}

#[test]
fn revision_kinds_round_trip() {
    for kind in RevisionKind::ALL {
        assert_eq!(RevisionKind::parse(kind.as_str()), Some(kind));
    }
}
