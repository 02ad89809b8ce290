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
