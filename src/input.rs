//! Opening the user's files without ever blocking: a FIFO, socket or device where a file is
//! expected is refused, not waited on. An `open` of a FIFO waits for a writer, and std retries
//! `EINTR` itself, so not even Ctrl-C would end that wait: the open does not block
//! (`O_NONBLOCK`), and what it opened is checked (`fstat`) before anything is read.

use std::fs::File;
use std::io::Read as _;
use std::path::Path;

/// `path` opened to read, if it is a regular file.
pub fn open(path: &Path) -> std::io::Result<File> {
    open_with(path, std::fs::OpenOptions::new().read(true))
}

/// `path` opened to append (made when missing), if it is a regular file.
pub fn open_append(path: &Path) -> std::io::Result<File> {
    open_with(path, std::fs::OpenOptions::new().create(true).append(true))
}

fn open_with(path: &Path, options: &mut std::fs::OpenOptions) -> std::io::Result<File> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options.open(path)?;
    let metadata = file.metadata()?;
    if !metadata.is_file() {
        let what = if metadata.is_dir() {
            "a directory"
        } else {
            "not a regular file (a FIFO, socket or device)"
        };
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("{} is {what}", path.display()),
        ));
    }
    Ok(file)
}

/// The bytes of the regular file `path`.
pub fn read(path: &Path) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    open(path)?.read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// The text of the regular file `path`.
pub fn read_to_string(path: &Path) -> std::io::Result<String> {
    String::from_utf8(read(path)?).map_err(|err| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("{} is not UTF-8: {err}", path.display()),
        )
    })
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn a_fifo_or_a_directory_is_refused_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("ledger.csv");
        let name = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: mkfifo with a valid path.
        assert_eq!(unsafe { libc::mkfifo(name.as_ptr(), 0o600) }, 0);
        let started = std::time::Instant::now();
        let err = read_to_string(&fifo).unwrap_err();
        assert!(err.to_string().contains("not a regular file"), "{err}");
        // Appending to a FIFO nobody reads fails at once (ENXIO) or is refused.
        assert!(open_append(&fifo).is_err());
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
        let err = read(dir.path()).unwrap_err();
        assert!(err.to_string().contains("a directory"), "{err}");
        std::fs::write(dir.path().join("ok"), "text").unwrap();
        assert_eq!(read_to_string(&dir.path().join("ok")).unwrap(), "text");
    }
}
