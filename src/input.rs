//! Reading operator-supplied files and stdin with a size bound and errors that say what went wrong.
//!
//! Every named input file is opened with [`open_regular_file`]: a FIFO, a device or a socket given as
//! `--facts`, `--profile`, `--peers` … is refused at once instead of blocking forever on `open` or
//! `read`; a pipe is read through `-` (stdin).

use std::io::Read;
use std::path::Path;

use crate::error::BadInput;

/// Reads `path` as UTF-8 text, or stdin when `path` is `-`. Refuses files larger than `max_bytes`.
pub fn read_input(path: &Path, max_bytes: u64) -> Result<String, BadInput> {
    let mut bytes = Vec::new();
    let shown = path.display();
    if path.as_os_str() == "-" {
        std::io::stdin()
            .take(max_bytes + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| BadInput(format!("reading stdin: {e}")))?;
    } else {
        let file = open_regular_file(path)
            .map_err(|e| BadInput(format!("{shown}: {}", describe_open_error(&e))))?;
        file.take(max_bytes + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| BadInput(format!("{shown}: cannot read: {e}")))?;
    }
    text_within(bytes, &shown.to_string(), max_bytes)
}

/// An [`open_regular_file`] error about a file named on the command line: a FIFO, device or socket
/// comes with the way to read a pipe.
pub fn describe_open_error(e: &std::io::Error) -> String {
    if e.kind() == std::io::ErrorKind::InvalidInput {
        format!("{e} (to read a pipe, give `-` and redirect it to stdin)")
    } else {
        e.to_string()
    }
}

/// Reads a regular file (opened with [`open_regular_file`]) of at most `max_bytes`: the one reader for
/// every host file (`crate::host_root::HostRoot::read_bounded`). A larger file is an error.
pub fn read_regular_file(path: &Path, max_bytes: u64) -> std::io::Result<Vec<u8>> {
    let file = open_regular_file(path)?;
    let mut bytes = Vec::new();
    file.take(max_bytes + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max_bytes {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("larger than {max_bytes} bytes, refusing to read it"),
        ));
    }
    Ok(bytes)
}

/// `bytes` read from `shown` as UTF-8 text, refused when over `max_bytes` or empty.
fn text_within(bytes: Vec<u8>, shown: &str, max_bytes: u64) -> Result<String, BadInput> {
    if bytes.len() as u64 > max_bytes {
        return Err(BadInput(format!(
            "{shown}: larger than {} MiB, refusing to read it",
            max_bytes / (1024 * 1024)
        )));
    }
    if bytes.is_empty() {
        return Err(BadInput(format!("{shown}: is empty")));
    }
    String::from_utf8(bytes).map_err(|e| {
        BadInput(format!(
            "{shown}: not UTF-8 text (invalid byte at offset {}); is this a binary file?",
            e.utf8_error().valid_up_to()
        ))
    })
}

/// Opens `path` for reading if it is a regular file (symbolic links followed), without ever blocking:
/// the file is opened with `O_NONBLOCK` (so opening a FIFO with no writer returns at once), its type is
/// taken from the open descriptor (no window between a check and the open), and anything else is
/// refused (`InvalidInput`) with a message naming its type. An open error keeps its kind (`NotFound`
/// stays `NotFound`). The returned file is in blocking mode again.
pub fn open_regular_file(path: &Path) -> std::io::Result<std::fs::File> {
    use std::io::{Error, ErrorKind};
    use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY | libc::O_CLOEXEC)
        .open(path)
        .map_err(|e| Error::new(e.kind(), format!("cannot open: {e}")))?;
    let kind = file
        .metadata()
        .map_err(|e| Error::new(e.kind(), format!("cannot stat: {e}")))?
        .file_type();
    let what = if kind.is_file() {
        None
    } else if kind.is_dir() {
        Some("a directory")
    } else if kind.is_fifo() {
        Some("a FIFO (named pipe)")
    } else if kind.is_socket() {
        Some("a socket")
    } else if kind.is_char_device() {
        Some("a character device")
    } else if kind.is_block_device() {
        Some("a block device")
    } else {
        Some("not a regular file")
    };
    if let Some(what) = what {
        return Err(Error::new(
            ErrorKind::InvalidInput,
            format!("is {what}, expected a regular file"),
        ));
    }
    nix::fcntl::fcntl(
        &file,
        nix::fcntl::FcntlArg::F_SETFL(nix::fcntl::OFlag::empty()),
    )
    .map_err(|e| Error::other(format!("cannot clear O_NONBLOCK: {e}")))?;
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fifo_in(dir: &Path) -> std::path::PathBuf {
        let fifo = dir.join("fifo");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
        fifo
    }

    #[test]
    fn a_fifo_is_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = fifo_in(dir.path());
        // Run in a thread so that a regression shows as a failed assertion, not a hung test run.
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || tx.send(read_input(&fifo, 1024).map_err(|e| e.0)));
        let outcome = rx
            .recv_timeout(std::time::Duration::from_secs(5))
            .expect("reading a FIFO returned within 5 s");
        let message = outcome.expect_err("a FIFO is not an input file");
        assert!(
            message.contains("is a FIFO (named pipe), expected a regular file"),
            "{message}"
        );
    }

    #[test]
    fn a_character_device_and_a_directory_are_refused() {
        let e = read_input(Path::new("/dev/null"), 1024).unwrap_err().0;
        assert!(e.contains("is a character device"), "{e}");
        let e = read_input(Path::new("/"), 1024).unwrap_err().0;
        assert!(e.contains("is a directory"), "{e}");
    }

    #[test]
    fn a_regular_file_and_a_symlink_to_one_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        std::fs::write(&file, "x: 1\n").unwrap();
        let link = dir.path().join("l");
        std::os::unix::fs::symlink(&file, &link).unwrap();
        assert_eq!(read_input(&file, 1024).unwrap(), "x: 1\n");
        assert_eq!(read_input(&link, 1024).unwrap(), "x: 1\n");
    }
}
