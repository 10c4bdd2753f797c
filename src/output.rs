//! Writing data to stdout: a closed pipe (`nodecheck facts | head`) ends the program quietly.

use std::io::Write;

/// Writes `text` to stdout and flushes. A broken pipe is not an error: the reader has gone.
pub fn print_stdout(text: &str) -> std::io::Result<()> {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|_| stdout.flush())
    {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// The mode every file nodecheck writes ends up with, whatever the umask: readable by node_exporter and
/// the operator, writable only by the owner.
pub const WRITTEN_FILE_MODE: u32 = 0o644;

/// Writes `contents` to `path` atomically: a temporary file in the same directory, fsync, rename.
/// Readers see the old file or the new one, never a torn write. Creates the directory if needed.
///
/// The temporary file has an unguessable name and is created with `O_CREAT|O_EXCL|O_NOFOLLOW`, so in a
/// world-writable directory nobody can plant a symbolic link or a pre-created file there for root to
/// write through or into; its mode is set to [`WRITTEN_FILE_MODE`] on the open descriptor before the
/// rename. A symbolic link at `path` itself is replaced, never followed.
pub fn write_atomically(path: &std::path::Path, contents: &[u8]) -> std::io::Result<()> {
    write_atomically_with_mode(path, contents, WRITTEN_FILE_MODE)
}

/// [`write_atomically`] with the file's final mode given: `0o600` for what only root should read
/// (the baseline, a full snapshot of the host).
pub fn write_atomically_with_mode(
    path: &std::path::Path,
    contents: &[u8],
    mode: u32,
) -> std::io::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => std::path::Path::new("."),
    };
    std::fs::create_dir_all(dir)?;
    let mut prefix = std::ffi::OsString::from(".");
    prefix.push(path.file_name().unwrap_or_default());
    prefix.push(".");
    let mut tmp = tempfile::Builder::new()
        .prefix(&prefix)
        .suffix(".tmp")
        .make_in(dir, |candidate| {
            std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
                .open(candidate)
        })?;
    let file = tmp.as_file_mut();
    file.write_all(contents)?;
    file.set_permissions(std::fs::Permissions::from_mode(mode))?;
    file.sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    // The rename is durable once the directory is synced; a directory that cannot be opened for
    // that (unusual permissions) does not undo a write that already happened.
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn scratch() -> tempfile::TempDir {
        tempfile::tempdir().expect("a scratch directory")
    }

    /// The name the old implementation used, which anybody could predict and plant.
    fn predictable_temp_name(dir: &std::path::Path, name: &str) -> std::path::PathBuf {
        dir.join(format!(".{name}.tmp.{}", std::process::id()))
    }

    #[test]
    fn planted_symlink_at_a_predictable_temp_name_is_never_written_through() {
        let dir = scratch();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "precious\n").unwrap();
        std::os::unix::fs::symlink(&victim, predictable_temp_name(dir.path(), "out.prom")).unwrap();
        let out = dir.path().join("out.prom");
        write_atomically(&out, b"metric 1\n").unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
        assert!(!std::fs::symlink_metadata(&out)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(std::fs::read_to_string(&out).unwrap(), "metric 1\n");
    }

    #[test]
    fn pre_created_world_writable_temp_file_is_not_reused() {
        let dir = scratch();
        let planted = predictable_temp_name(dir.path(), "report.json");
        std::fs::write(&planted, "").unwrap();
        std::fs::set_permissions(&planted, std::fs::Permissions::from_mode(0o666)).unwrap();
        let out = dir.path().join("report.json");
        write_atomically(&out, b"{}").unwrap();
        let mode = std::fs::metadata(&out).unwrap().permissions().mode() & 0o7777;
        assert_eq!(mode, WRITTEN_FILE_MODE, "final mode is set explicitly");
        assert_eq!(
            std::fs::read_to_string(&planted).unwrap(),
            "",
            "the planted file is left alone"
        );
    }

    #[test]
    fn symlink_at_the_target_is_replaced_not_followed() {
        let dir = scratch();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "precious\n").unwrap();
        let out = dir.path().join("profile.yaml");
        std::os::unix::fs::symlink(&victim, &out).unwrap();
        write_atomically(&out, b"cluster: x\n").unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
        assert_eq!(std::fs::read_to_string(&out).unwrap(), "cluster: x\n");
    }

    #[test]
    fn no_temporary_file_is_left_behind() {
        let dir = scratch();
        write_atomically(&dir.path().join("a/b/out.json"), b"1").unwrap();
        let names: Vec<_> = std::fs::read_dir(dir.path().join("a/b"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("out.json")]);
    }
}
