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
    let too_large = |what: String| SnapshotError::TooLarge {
        path: archive_path.to_path_buf(),
        what,
    };
    let mut archive = tar::Archive::new(reader);
    let mut total = 0u64;
    let mut count = 0usize;
    for entry in archive.entries().map_err(corrupt)? {
        let mut entry = entry.map_err(corrupt)?;
        count += 1;
        if count > limits.max_entries {
            return Err(too_large(format!(
                "it holds more than {} entries",
                limits.max_entries
            )));
        }
        let raw = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let path = normalise(&raw).map_err(|why| unsafe_entry(&raw, why.to_string()))?;
        // Skipped data is still inflated, so every entry's size counts.
        total = total.saturating_add(entry.size());
        if total > limits.max_total_bytes {
            return Err(too_large(format!(
                "it expands to more than {} bytes (a decompression bomb, or not a snapshot)",
                limits.max_total_bytes
            )));
        }
        let kind = entry.header().entry_type();
        let size = entry.size();
        let go_on = if kind.is_symlink() || kind.is_hard_link() {
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
            send(Entry::Skipped { path })
        } else if !(kind.is_file() || kind.is_contiguous()) || path.is_empty() {
            continue;
        } else if !is_wanted(&path) {
            send(Entry::Skipped { path })
        } else {
            emit(path, size, &mut entry, send).map_err(corrupt)?
        };
        if !go_on {
            break;
        }
    }
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
