//! File system helpers shared by the content loader, the static files and
//! the data folder.

use std::path::Path;

/// Writes a file only the owner can read (0600 on Unix).
pub(crate) fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// Replaces the file at `path` with `bytes` so that, whatever happens
/// (a crash, a full disk, the power going), the file is afterwards either
/// the old one whole or the new one whole, never a mix or empty.
///
/// The bytes go to a temporary file beside it (same folder, so the same
/// file system, where a rename is atomic), are flushed to the disk, and the
/// temporary file is renamed over the target; then the folder is flushed
/// too, so the rename itself survives a power cut. The temporary file's
/// name starts with a dot and ends in `.tmp`, which [`is_temporary`] (and
/// so the content loader and the watcher) ignores if one is ever left
/// behind. The new file keeps the old one's permissions.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let folder = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let name = path.file_name().ok_or_else(|| std::io::Error::other("no file name to write to"))?;
    let tag = super::bytes::hex(&super::bytes::random_bytes()?[..6]);
    let temporary = folder.join(format!(".{}.{tag}.tmp", name.to_string_lossy()));
    let written = (|| {
        let mut file = std::fs::OpenOptions::new().write(true).create_new(true).open(&temporary)?;
        if let Ok(meta) = std::fs::metadata(path) {
            file.set_permissions(meta.permissions())?;
        }
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temporary, path)
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&temporary);
        return Err(e);
    }
    sync_folder(folder)
}

/// Replaces the file at `path` with `bytes` through a temporary file beside
/// it and a rename, so a reader sees the old file or the new one, never a
/// part. Unlike [`write_atomic`] nothing is flushed to the disk: for files
/// that can be made again (the export, the build cache), where flushing
/// tens of thousands of them would cost more than the build. The temporary
/// name is `.<name>.<process>-<n>.tmp`, which [`is_temporary`] knows.
pub(crate) fn write_replacing(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let temporary = path.with_file_name(format!(".{name}.{}-{n}.tmp", std::process::id()));
    let written = std::fs::write(&temporary, bytes).and_then(|()| std::fs::rename(&temporary, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    written
}

/// Flushes a folder's entries (a rename into it) to the disk. Only Unix
/// can open a folder to do so; elsewhere the rename is left to the system.
pub(crate) fn sync_folder(folder: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        std::fs::File::open(folder)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = folder;
        Ok(())
    }
}

/// Whether `path` is a symbolic link whose target, links all followed, is
/// not inside `root` (which must already be canonical, as
/// `std::fs::canonicalize` gives it). A link that leads nowhere is not
/// outside: reading it fails with its own plain error.
///
/// The content and static folders are checked entry by entry from the top,
/// so a file below a refused folder is never reached; this looks at the
/// last part of `path` only.
pub(crate) fn is_link_outside(root: &Path, path: &Path) -> bool {
    let is_link = std::fs::symlink_metadata(path).is_ok_and(|meta| meta.file_type().is_symlink());
    is_link && std::fs::canonicalize(path).is_ok_and(|target| !target.starts_with(root))
}

/// Files editors create while saving; never content.
pub(crate) fn is_temporary(path: &Path) -> bool {
    let name = path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default();
    name.starts_with('.')
        || name.starts_with('#')
        || name.ends_with('~')
        || name.ends_with(".swp")
        || name.ends_with(".tmp")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn editor_leftovers_are_temporary() {
        for name in [".safety.md.swp", "#safety.md#", "safety.md~", "x.tmp", ".hidden"] {
            assert!(is_temporary(Path::new(name)), "{name}");
        }
        assert!(!is_temporary(Path::new("safety.md")));
    }

    #[cfg(unix)]
    #[test]
    fn links_are_outside_when_their_target_is() {
        let (dir, elsewhere) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let root = std::fs::canonicalize(dir.path()).unwrap();
        std::fs::write(root.join("page.md"), "text").unwrap();
        std::fs::write(elsewhere.path().join("secret"), "text").unwrap();
        std::os::unix::fs::symlink(elsewhere.path().join("secret"), root.join("out.md")).unwrap();
        std::os::unix::fs::symlink("page.md", root.join("in.md")).unwrap();
        std::os::unix::fs::symlink(elsewhere.path(), root.join("folder")).unwrap();
        std::os::unix::fs::symlink("in.md", root.join("link-to-link.md")).unwrap();
        std::os::unix::fs::symlink("nowhere.md", root.join("dangling.md")).unwrap();
        assert!(is_link_outside(&root, &root.join("out.md")));
        assert!(is_link_outside(&root, &root.join("folder")));
        assert!(!is_link_outside(&root, &root.join("in.md")));
        assert!(!is_link_outside(&root, &root.join("link-to-link.md")));
        assert!(!is_link_outside(&root, &root.join("page.md")));
        assert!(!is_link_outside(&root, &root.join("dangling.md")));
    }

    #[test]
    fn atomic_writes_replace_the_file_whole_and_leave_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("page.md");
        write_atomic(&path, b"first").unwrap();
        write_atomic(&path, b"second, longer").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"second, longer");
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, ["page.md"]);
    }

    /// A write that fails part way (here: the folder cannot take a new
    /// file) leaves the old file whole, not truncated.
    #[cfg(unix)]
    #[test]
    fn a_failed_atomic_write_leaves_the_old_file_whole() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("page.md");
        std::fs::write(&path, "the old text").unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o500)).unwrap();
        let result = write_atomic(&path, b"new");
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
        // Root may write anyway; either way the file is one version whole.
        let text = std::fs::read_to_string(&path).unwrap();
        match result {
            Err(_) => assert_eq!(text, "the old text"),
            Ok(()) => assert_eq!(text, "new"),
        }
    }

    #[cfg(unix)]
    #[test]
    fn private_files_are_readable_by_the_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key");
        write_private(&path, b"secret").unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(std::fs::read(&path).unwrap(), b"secret");
    }
}
