//! Reading a `.tar.gz` (or plain `.tar`) snapshot in memory, never onto disk, with the
//! checks an archive from someone else deserves: no absolute paths, no `..`, no links
//! out of the archive, and bounded expansion so a decompression bomb is an error.

use super::SnapshotError;
use super::files::{Entry, Limits, emit, is_wanted, normalise};
use flate2::read::MultiGzDecoder;
use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::path::Path;

/// True when the file starts like a gzip stream or a tar archive.
pub(crate) fn looks_like_archive(path: &Path) -> io::Result<bool> {
    let mut head = [0u8; 262];
    let mut file = File::open(path)?;
    let mut filled = 0;
    while filled < head.len() {
        match file.read(&mut head[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(head[..filled].starts_with(&[0x1f, 0x8b]) || (filled >= 262 && &head[257..262] == b"ustar"))
}

pub(crate) fn produce(
    path: &Path,
    limits: Limits,
    send: &mut dyn FnMut(Entry) -> bool,
) -> Result<(), SnapshotError> {
    let io_error = |source| SnapshotError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut file = File::open(path).map_err(io_error)?;
    let mut magic = [0u8; 2];
    let gzipped = file.read_exact(&mut magic).is_ok() && magic == [0x1f, 0x8b];
    file.seek(SeekFrom::Start(0)).map_err(io_error)?;
    let reader = BufReader::new(file);
    if gzipped {
        read_tar(path, MultiGzDecoder::new(reader), limits, send)
    } else {
        read_tar(path, reader, limits, send)
    }
}

/// A bound an archive broke, or a path it may not hold: the checks every reader of a tar
/// stream from someone else makes, the same for a snapshot and a bundle to verify.
#[derive(Debug)]
pub enum TarLimit {
    /// The stream itself failed (not a tar, truncated, a bad gzip member).
    Stream(io::Error),
    /// More entries than the limit.
    Entries(usize),
    /// More uncompressed bytes than the limit; every entry counts, skipped or not,
    /// because a skipped one is still inflated.
    Bytes(u64),
    /// An absolute path or a `..`.
    Unsafe { entry: String, why: &'static str },
}

/// One entry as the bounded walk hands it on: its place in the archive (1 for the
/// first), the path as written (`raw`, for messages) and made relative and safe
/// (`path`), and its size.
pub struct SafeEntry<'e, 'a, R: Read> {
    pub entry: &'e mut tar::Entry<'a, R>,
    pub index: usize,
    pub raw: String,
    pub path: String,
    pub size: u64,
}

/// Every entry of `archive` under `limits`, each given to `visit` (which says whether to
/// go on); a broken bound becomes the caller's error through `fail`. The number of
/// entries read is returned.
pub fn bounded_entries<R: Read, E>(
    archive: &mut tar::Archive<R>,
    limits: Limits,
    fail: impl Fn(TarLimit) -> E,
    mut visit: impl FnMut(SafeEntry<'_, '_, R>) -> Result<bool, E>,
) -> Result<usize, E> {
    let mut total = 0u64;
    let mut count = 0usize;
    for entry in archive.entries().map_err(|e| fail(TarLimit::Stream(e)))? {
        let mut entry = entry.map_err(|e| fail(TarLimit::Stream(e)))?;
        count += 1;
        if count > limits.max_entries {
            return Err(fail(TarLimit::Entries(limits.max_entries)));
        }
        let raw = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let path = match normalise(&raw) {
            Ok(path) => path,
            Err(why) => return Err(fail(TarLimit::Unsafe { entry: raw, why })),
        };
        let size = entry.size();
        total = total.saturating_add(size);
        if total > limits.max_total_bytes {
            return Err(fail(TarLimit::Bytes(limits.max_total_bytes)));
        }
        let go_on = visit(SafeEntry {
            entry: &mut entry,
            index: count,
            raw,
            path,
            size,
        })?;
        if !go_on {
            break;
        }
    }
    Ok(count)
}

fn read_tar<R: Read>(
    archive_path: &Path,
    reader: R,
    limits: Limits,
    send: &mut dyn FnMut(Entry) -> bool,
) -> Result<(), SnapshotError> {
    let corrupt = |e: io::Error| SnapshotError::Corrupt {
        path: archive_path.to_path_buf(),
        message: e.to_string(),
    };
    let unsafe_entry = |entry: &str, why: String| SnapshotError::Unsafe {
        path: archive_path.to_path_buf(),
        entry: entry.to_string(),
        why,
    };
    let fail = |limit: TarLimit| match limit {
        TarLimit::Stream(e) => corrupt(e),
        TarLimit::Entries(max) => SnapshotError::TooLarge {
            path: archive_path.to_path_buf(),
            what: format!("it holds more than {max} entries"),
        },
        TarLimit::Bytes(max) => SnapshotError::TooLarge {
            path: archive_path.to_path_buf(),
            what: format!(
                "it expands to more than {max} bytes (a decompression bomb, or not a snapshot)"
            ),
        },
        TarLimit::Unsafe { entry, why } => unsafe_entry(&entry, why.to_string()),
    };
    let mut archive = tar::Archive::new(reader);
    bounded_entries(&mut archive, limits, fail, |e| {
        let SafeEntry {
            entry,
            index: _,
            raw,
            path,
            size,
        } = e;
        let kind = entry.header().entry_type();
        if kind.is_symlink() || kind.is_hard_link() {
            let target = entry
                .link_name_bytes()
                .map(|t| String::from_utf8_lossy(&t).into_owned())
                .unwrap_or_default();
            if link_leaves_root(&path, &target, kind.is_symlink()) {
                return Err(unsafe_entry(
                    &raw,
                    format!("links outside the archive (to {target})"),
                ));
            }
            // Links inside the archive point at files it already holds.
            Ok(send(Entry::Skipped { path }))
        } else if !(kind.is_file() || kind.is_contiguous()) || path.is_empty() {
            Ok(true)
        } else if !is_wanted(&path) {
            Ok(send(Entry::Skipped { path }))
        } else {
            emit(path, size, entry, send).map_err(corrupt)
        }
    })?;
    Ok(())
}

/// A symlink resolves from its own folder; a hard link names a path from the root.
fn link_leaves_root(entry: &str, target: &str, symlink: bool) -> bool {
    if target.starts_with('/') {
        return true;
    }
    let mut depth: usize = if symlink {
        entry.matches('/').count()
    } else {
        0
    };
    for part in target.split('/') {
        match part {
            "" | "." => {}
            ".." => match depth.checked_sub(1) {
                Some(d) => depth = d,
                None => return true,
            },
            _ => depth += 1,
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_judged_from_where_they_resolve() {
        assert!(!link_leaves_root("a/b/link", "../c.yaml", true));
        assert!(link_leaves_root("a/link", "../../c", true));
        assert!(link_leaves_root("link", "/etc/passwd", true));
        assert!(!link_leaves_root("a/b/link", "a/c", false));
        assert!(link_leaves_root("a/b/link", "../c", false));
    }
}
