//! Reading and writing the files readyscan is pointed at. Inputs are read only from regular
//! files and only up to a size cap (a FIFO or /dev/zero must not hang a run or take its
//! memory), strictly as UTF-8; outputs are written to a new file beside the target and renamed
//! into place, so a symlink planted in the output folder is replaced, never followed.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// The largest input file read (a config, check file, exceptions file, report.json).
pub const MAX_INPUT_BYTES: u64 = 64 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("{file}: cannot read: {source}")]
    Read {
        file: String,
        source: std::io::Error,
    },
    #[error("{file}: not a regular file (a directory, FIFO or device is not read)")]
    NotRegular { file: String },
    #[error("{file}: larger than {} MiB, which is not an input readyscan reads", MAX_INPUT_BYTES / (1024 * 1024))]
    TooLarge { file: String },
    #[error("{file}: byte {offset}: not UTF-8 text")]
    NotUtf8 { file: String, offset: usize },
}

/// The whole of a regular file, at most [`MAX_INPUT_BYTES`].
pub fn read_bytes(path: &Path) -> Result<Vec<u8>, FileError> {
    let file = path.display().to_string();
    let read = |source| FileError::Read {
        file: file.clone(),
        source,
    };
    // Checked before opening (opening a FIFO for reading would already block), and again on
    // the open handle, which on Unix is opened non-blocking so a FIFO swapped in between
    // cannot block either.
    let meta = std::fs::metadata(path).map_err(read)?;
    if !meta.is_file() {
        return Err(FileError::NotRegular { file });
    }
    let f = open_for_reading(path).map_err(read)?;
    let meta = f.metadata().map_err(read)?;
    if !meta.is_file() {
        return Err(FileError::NotRegular { file });
    }
    if meta.len() > MAX_INPUT_BYTES {
        return Err(FileError::TooLarge { file });
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    f.take(MAX_INPUT_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(read)?;
    if bytes.len() as u64 > MAX_INPUT_BYTES {
        return Err(FileError::TooLarge { file });
    }
    Ok(bytes)
}

#[cfg(unix)]
fn open_for_reading(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    // O_NONBLOCK only matters for special files, which are refused after the open anyway.
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
}

#[cfg(not(unix))]
fn open_for_reading(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::File::open(path)
}

/// A regular file as UTF-8 text; bad bytes are named by their offset.
pub fn read_text(path: &Path) -> Result<String, FileError> {
    let bytes = read_bytes(path)?;
    text_of(bytes, &path.display().to_string())
}

/// Bytes as UTF-8 text, or the offset of the first bad byte.
pub fn text_of(bytes: Vec<u8>, file: &str) -> Result<String, FileError> {
    String::from_utf8(bytes).map_err(|e| FileError::NotUtf8 {
        file: file.to_string(),
        offset: e.utf8_error().valid_up_to(),
    })
}

/// Writes `path` through a new file in the same folder renamed over it: a symlink at `path`
/// is replaced, not followed, and the new file gets the user's umask.
pub fn write_new(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let tmp = temp_beside(path);
    // create_new: O_CREAT|O_EXCL, which never follows a symlink someone planted at `tmp`.
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&tmp)?;
    let mut out = std::io::BufWriter::new(file);
    let done = write(&mut out).and_then(|_| out.flush());
    drop(out);
    let done = done.and_then(|_| std::fs::rename(&tmp, path));
    if done.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    done
}

fn temp_beside(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let nonce = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    path.with_file_name(format!(".{name}.{}.{nonce}.tmp", std::process::id()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inputs_are_regular_bounded_utf8() {
        let dir = std::env::temp_dir().join(format!("readyscan-files-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let ok = dir.join("ok.toml");
        std::fs::write(&ok, "a = 1\n").unwrap();
        assert_eq!(read_text(&ok).unwrap(), "a = 1\n");
        let bad = dir.join("bad.toml");
        std::fs::write(&bad, b"ab\xffcd").unwrap();
        assert_eq!(
            read_text(&bad).unwrap_err().to_string(),
            format!("{}: byte 2: not UTF-8 text", bad.display())
        );
        assert!(matches!(read_text(&dir), Err(FileError::NotRegular { .. })));
        #[cfg(unix)]
        assert!(matches!(
            read_text(Path::new("/dev/zero")),
            Err(FileError::NotRegular { .. })
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn a_planted_symlink_is_replaced_not_followed() {
        let dir = std::env::temp_dir().join(format!("readyscan-out-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let victim = dir.join("victim");
        std::fs::write(&victim, "keep").unwrap();
        let out = dir.join("report.json");
        std::os::unix::fs::symlink(&victim, &out).unwrap();
        write_new(&out, |w| w.write_all(b"{}")).unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep");
        assert_eq!(std::fs::read_to_string(&out).unwrap(), "{}");
        assert!(!std::fs::symlink_metadata(&out)
            .unwrap()
            .file_type()
            .is_symlink());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
