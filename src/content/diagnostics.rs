//! Problems found in content, in words for the member of staff who must fix
//! them, and the compiler-style format `check`, the server log and the
//! preview's error page show them in.

use std::fmt;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Errors stop a new version of the site from going live; warnings do not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Warning,
    Error,
}

/// A problem in a content file, written for the member of staff who must fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentError {
    pub severity: Severity,
    pub path: PathBuf,
    /// 1-based; 0 when the problem is with the file or folder as a whole.
    pub line: usize,
    pub column: Option<usize>,
    pub message: String,
    /// What to do about it, in plain words.
    pub hint: Option<String>,
}

impl ContentError {
    pub fn new(path: &Path, line: usize, message: impl Into<String>) -> Self {
        ContentError {
            severity: Severity::Error,
            path: path.to_path_buf(),
            line,
            column: None,
            message: message.into(),
            hint: None,
        }
    }

    /// The same problem, but one that does not stop publishing.
    pub fn warning(mut self) -> Self {
        self.severity = Severity::Warning;
        self
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub fn column(mut self, column: usize) -> Self {
        self.column = Some(column);
        self
    }
}

impl fmt::Display for ContentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        if self.line > 0 {
            write!(f, ":{}:{}", self.line, self.column.unwrap_or(1))?;
        }
        let severity = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, ": {severity}: {}", self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, "\n  hint: {hint}")?;
        }
        Ok(())
    }
}

/// All the problems found in one pass over the content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentErrors(pub Vec<ContentError>);

impl ContentErrors {
    pub fn count(&self, severity: Severity) -> usize {
        self.0.iter().filter(|p| p.severity == severity).count()
    }
}

/// "2 errors and 1 warning".
pub fn summary(problems: &[ContentError]) -> String {
    let count = |severity| problems.iter().filter(|p| p.severity == severity).count();
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    match (count(Severity::Error), count(Severity::Warning)) {
        (errors, 0) => plural(errors, "error"),
        (0, warnings) => plural(warnings, "warning"),
        (errors, warnings) => format!("{} and {}", plural(errors, "error"), plural(warnings, "warning")),
    }
}

impl fmt::Display for ContentErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for error in &self.0 {
            writeln!(f, "{error}")?;
        }
        write!(f, "{} found in the content", summary(&self.0))
    }
}

impl std::error::Error for ContentErrors {}

/// Problems in the check format, also used for server logs.
pub fn format_text(problems: &[ContentError]) -> String {
    let mut out = String::new();
    for problem in problems {
        let _ = writeln!(out, "{}", problem.to_string().lines().next().unwrap_or_default());
        if let Some(line) = source_line(&problem.path, problem.line) {
            let _ = writeln!(out, "{:>5} | {line}", problem.line);
        }
        if let Some(hint) = &problem.hint {
            let _ = writeln!(out, "      = hint: {hint}");
        }
    }
    out
}

/// The text of a 1-based line of a file, for showing under a message.
///
/// Read when the message is shown (in `/healthz`, for one), which may be
/// after the file was replaced: a link is never read here, wherever it
/// leads, so no message can show a line of a file outside the content
/// folder.
pub fn source_line(path: &Path, line: usize) -> Option<String> {
    let is_link = std::fs::symlink_metadata(path).is_ok_and(|meta| meta.file_type().is_symlink());
    if line == 0 || is_link {
        return None;
    }
    let text = std::fs::read_to_string(path).ok()?;
    text.lines().nth(line - 1).map(|l| l.trim_end().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn a_source_line_is_never_read_through_a_link() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("page.md"), "first\nsecond\n").unwrap();
        std::os::unix::fs::symlink(dir.path().join("page.md"), dir.path().join("link.md")).unwrap();
        assert_eq!(source_line(&dir.path().join("page.md"), 2).as_deref(), Some("second"));
        assert_eq!(source_line(&dir.path().join("link.md"), 2), None);
    }
}
