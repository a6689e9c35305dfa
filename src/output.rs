//! Where a command's output goes: stdout, or a file the user named (written atomically).

use std::io::Write;
use std::path::Path;

use anyhow::Context;

use crate::error::InputError;

/// [`write_atomically`] for what the tool writes about a run (reports, logs, transcripts,
/// decisions): the environment's secret values never land there.
pub fn write_record(path: &Path, text: &str) -> anyhow::Result<()> {
    write_atomically(path, &crate::secrets::redact(text))
}

/// Write `text` to `path`: a regular file atomically (a temporary file in the same directory,
/// then a rename, so a reader never sees half a report), keeping an existing file's
/// permissions; a device or FIFO (`/dev/stdout`, a pipe) is written in place. Refuses to write
/// through a symlink or onto a directory.
pub fn write_atomically(path: &Path, text: &str) -> anyhow::Result<()> {
    check_writable(path)?;
    let existing = path.symlink_metadata().ok();
    if existing.as_ref().is_some_and(|m| !m.is_file()) {
        return std::fs::write(path, text)
            .with_context(|| format!("failed to write {}", path.display()));
    }
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let mut temp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("failed to create a temporary file in {}", dir.display()))?;
    temp.write_all(text.as_bytes())
        .with_context(|| format!("failed to write {}", path.display()))?;
    // A temporary file is private (0600); the report should have the file's old permissions,
    // or the usual ones for a new file.
    let permissions = match &existing {
        Some(metadata) => metadata.permissions(),
        None => default_permissions(),
    };
    temp.as_file()
        .set_permissions(permissions)
        .with_context(|| format!("failed to set the permissions of {}", path.display()))?;
    temp.persist(path)
        .with_context(|| format!("failed to write {}", path.display()))?;
    Ok(())
}

/// Refuse a directory of ours in the user's tree (`.dualtrack/`) that is a symbolic link:
/// what is written there would land wherever it points, perhaps outside the workspace.
pub fn refuse_linked_dir(dir: &Path) -> Result<(), crate::error::InputError> {
    refuse_link(dir, "nothing is written through links; make it a directory")
}

/// Refuse `path` when it is a symbolic link, saying `what` of it.
pub fn refuse_link(path: &Path, what: &str) -> Result<(), crate::error::InputError> {
    if path
        .symlink_metadata()
        .is_ok_and(|m| m.file_type().is_symlink())
    {
        return Err(crate::error::InputError::new(format!(
            "{} is a symbolic link: {what}",
            path.display()
        )));
    }
    Ok(())
}

/// Whether `write_atomically` could write `path` (its directory exists, it is no directory
/// or symlink): checked before long work, so a typo fails fast. `-` (stdout) always can.
pub fn check_writable(path: &Path) -> Result<(), InputError> {
    if path.as_os_str() == "-" {
        return Ok(());
    }
    if let Ok(metadata) = path.symlink_metadata() {
        if metadata.file_type().is_symlink() {
            return Err(InputError::new(format!(
                "{} is a symlink; refusing to write through it",
                path.display()
            )));
        }
        if metadata.is_dir() {
            return Err(InputError::new(format!(
                "{} is a directory; name a file",
                path.display()
            )));
        }
    }
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    if !dir.is_dir() {
        return Err(InputError::new(format!(
            "cannot write {}: directory {} does not exist",
            path.display(),
            dir.display()
        )));
    }
    Ok(())
}

#[cfg(unix)]
fn default_permissions() -> std::fs::Permissions {
    use std::os::unix::fs::PermissionsExt;
    std::fs::Permissions::from_mode(0o644)
}

#[cfg(not(unix))]
fn default_permissions() -> std::fs::Permissions {
    tempfile::tempfile()
        .and_then(|f| f.metadata())
        .map(|m| m.permissions())
        .expect("a temporary file has permissions")
}

/// Whether text carries color escapes that may need stripping (human output) or is a machine
/// format written byte for byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Styling {
    Styled,
    Plain,
}

/// `text` on one line, whitespace runs as one space, cut after `max_chars` with `…`.
pub fn one_line(text: &str, max_chars: usize) -> String {
    let joined = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match joined.char_indices().nth(max_chars) {
        Some((at, _)) => format!("{}…", &joined[..at]),
        None => joined,
    }
}

/// `1 finding`, `2 findings`: a count and its noun, as English says it.
pub fn plural(count: usize, noun: &str) -> String {
    if count == 1 {
        format!("1 {noun}")
    } else if noun.ends_with("sh") || noun.ends_with("ch") || noun.ends_with('s') {
        format!("{count} {noun}es")
    } else {
        format!("{count} {noun}s")
    }
}

/// Print to stdout; a closed pipe (`| head`) ends the output quietly rather than as an error.
pub fn print_stdout(text: &str, styling: Styling) -> anyhow::Result<()> {
    let result = match styling {
        Styling::Styled => {
            let mut stdout = anstream::stdout().lock();
            stdout
                .write_all(text.as_bytes())
                .and_then(|()| stdout.flush())
        }
        Styling::Plain => {
            let mut stdout = std::io::stdout().lock();
            stdout
                .write_all(text.as_bytes())
                .and_then(|()| stdout.flush())
        }
    };
    match result {
        Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.context("failed to write to stdout"),
    }
}

/// `value` as pretty JSON and a newline on stdout, written as it is serialized; a reader that
/// went away (`| head`) is no error.
pub fn print_json_stdout(value: &impl serde::Serialize) -> anyhow::Result<()> {
    let mut stdout = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    let result = serde_json::to_writer_pretty(&mut stdout, value)
        .map_err(std::io::Error::from)
        .and_then(|()| stdout.write_all(b"\n"))
        .and_then(|()| stdout.flush());
    match result {
        Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.context("failed to write to stdout"),
    }
}

/// Remove ANSI escape sequences, for styled text written to a file.
/// Whether what is written to stderr may carry colours: `--color`, then `CARGO_TERM_COLOR`,
/// `NO_COLOR` and `CLICOLOR_FORCE`, then whether stderr is a terminal.
pub fn stderr_colored() -> bool {
    anstream::AutoStream::choice(&std::io::stderr()) != anstream::ColorChoice::Never
}

pub fn strip_styles(text: &str) -> String {
    anstream::adapter::strip_str(text).to_string()
}

/// `text` cut to `limit` characters, with `…` when cut.
pub fn shorten(text: &str, limit: usize) -> String {
    match text.char_indices().nth(limit) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn write_atomically_replaces_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.json");
        write_atomically(&path, "one").unwrap();
        write_atomically(&path, "two").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "two");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[cfg(unix)]
    #[test]
    fn write_atomically_refuses_symlinks() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("target.txt");
        std::fs::write(&target, "keep").unwrap();
        let link = dir.path().join("link.txt");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let err = write_atomically(&link, "overwrite").unwrap_err();
        assert!(err.to_string().contains("symlink"));
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep");
    }

    #[cfg(unix)]
    #[test]
    fn write_atomically_keeps_permissions_and_writes_devices_in_place() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("report.json");
        write_atomically(&path, "new").unwrap();
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o644
        );
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        write_atomically(&path, "again").unwrap();
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o640
        );
        write_atomically(Path::new("/dev/null"), "discarded").unwrap();
        {
            use std::os::unix::fs::FileTypeExt;
            assert!(
                std::fs::metadata("/dev/null")
                    .unwrap()
                    .file_type()
                    .is_char_device()
            );
        }
        let err = write_atomically(dir.path(), "x").unwrap_err();
        assert!(err.to_string().contains("is a directory"));
    }

    #[test]
    fn write_atomically_names_a_missing_directory() {
        let dir = tempfile::tempdir().unwrap();
        let err = write_atomically(&dir.path().join("no/such/out.json"), "x").unwrap_err();
        assert!(err.to_string().contains("does not exist"));
        let early = check_writable(&dir.path().join("no/such/out.json")).unwrap_err();
        assert!(early.to_string().contains("does not exist"));
        assert!(check_writable(dir.path()).is_err());
        assert!(check_writable(&dir.path().join("out.json")).is_ok());
        assert!(check_writable(Path::new("-")).is_ok());
    }
}
