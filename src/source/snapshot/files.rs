//! The files of a snapshot, whatever holds them: a directory, an archive, or memory.
//! Every path is made relative and checked here, once, so nothing later has to trust it.

use super::SnapshotError;
use super::archive;
use super::document::Format;
use super::split::{self, Piece};
use crate::facts::Problem;
use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

/// How much an archive (or directory) may hold before ktriage refuses it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Total bytes of the files, after decompression.
    pub max_total_bytes: u64,
    /// Files, directories and links together.
    pub max_entries: usize,
}

/// 4 GiB: far above any real snapshot, far below what would exhaust a laptop.
pub const DEFAULT_MAX_TOTAL_BYTES: u64 = 4 << 30;
/// A support bundle of a large cluster holds tens of thousands of log files.
pub const DEFAULT_MAX_ENTRIES: usize = 250_000;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_total_bytes: DEFAULT_MAX_TOTAL_BYTES,
            max_entries: DEFAULT_MAX_ENTRIES,
        }
    }
}

/// What a reader hands on: a file's bytes, a file it did not need to read (its path
/// still counts for layout detection), or a problem that did not stop the reading.
#[derive(Debug)]
pub(crate) enum Entry {
    File {
        path: String,
        data: Vec<u8>,
    },
    /// Part of a large JSON file, split into its items while read.
    Piece {
        path: String,
        piece: Piece,
    },
    Skipped {
        path: String,
    },
    Problem(Problem),
}

/// JSON files above this size are split into their items as they are read (split.rs),
/// rather than read whole and parsed by one thread.
pub(crate) const SPLIT_BYTES: u64 = 4 << 20;

fn is_large_json(path: &str, size: u64) -> bool {
    size > SPLIT_BYTES && Format::of(path) == Some(Format::Json)
}

/// Reads one wanted file from `reader` and hands it on, split when it is a large JSON
/// file. Returns whether to go on.
pub(crate) fn emit(
    path: String,
    size: u64,
    reader: &mut dyn Read,
    send: &mut dyn FnMut(Entry) -> bool,
) -> io::Result<bool> {
    if is_large_json(&path, size) {
        return split::split_json(reader, &mut |piece| {
            send(Entry::Piece {
                path: path.clone(),
                piece,
            })
        });
    }
    // The declared size is a hint only; the cap keeps a lying header from costing memory.
    let mut data = Vec::with_capacity(size.min(64 << 20) as usize);
    reader.read_to_end(&mut data)?;
    Ok(send(Entry::File { path, data }))
}

/// Only these files can mean anything to a snapshot; the rest are listed, not read.
pub(crate) fn is_wanted(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    [".json", ".yaml", ".yml", ".log", ".txt"]
        .iter()
        .any(|ext| lower.ends_with(ext))
}

/// A relative path with `/` separators, or why it is unsafe.
pub(crate) fn normalise(raw: &str) -> Result<String, &'static str> {
    if raw.starts_with('/') {
        return Err("is an absolute path");
    }
    let mut parts = Vec::new();
    for part in raw.split('/') {
        match part {
            "" | "." => {}
            ".." => return Err("climbs out of the archive with `..`"),
            p => parts.push(p),
        }
    }
    Ok(parts.join("/"))
}

pub(crate) enum Input {
    Dir(PathBuf),
    Archive(PathBuf),
    Memory(Vec<(String, Vec<u8>)>),
}

/// Hands every entry to `send` (which says whether to go on); a fatal problem stops it.
pub(crate) fn produce(
    input: Input,
    limits: Limits,
    send: &mut dyn FnMut(Entry) -> bool,
) -> Result<(), SnapshotError> {
    match input {
        Input::Dir(root) => produce_dir(&root, limits, send),
        Input::Archive(path) => archive::produce(&path, limits, send),
        Input::Memory(files) => {
            let mut total = 0u64;
            for (raw, data) in files {
                let path = normalise(&raw).map_err(|why| SnapshotError::Unsafe {
                    path: PathBuf::from("(in memory)"),
                    entry: raw.clone(),
                    why: why.to_string(),
                })?;
                total += data.len() as u64;
                if total > limits.max_total_bytes {
                    return Err(SnapshotError::TooLarge {
                        path: PathBuf::from("(in memory)"),
                        what: format!("its files hold more than {} bytes", limits.max_total_bytes),
                    });
                }
                let go_on = if path.is_empty() {
                    continue;
                } else if !is_wanted(&path) {
                    send(Entry::Skipped { path })
                } else if is_large_json(&path, data.len() as u64) {
                    emit(path, data.len() as u64, &mut data.as_slice(), send).unwrap_or(false)
                } else {
                    send(Entry::File { path, data })
                };
                if !go_on {
                    break;
                }
            }
            Ok(())
        }
    }
}

struct Found {
    rel: String,
    abs: PathBuf,
    size: u64,
}

fn produce_dir(
    root: &Path,
    limits: Limits,
    send: &mut dyn FnMut(Entry) -> bool,
) -> Result<(), SnapshotError> {
    let io_error = |path: &Path, source| SnapshotError::Io {
        path: path.to_path_buf(),
        source,
    };
    let canonical_root = fs::canonicalize(root).map_err(|e| io_error(root, e))?;
    let mut found = Vec::new();
    let mut problems = Vec::new();
    let mut stack = vec![(canonical_root.clone(), String::new())];
    let mut entries = 0usize;
    while let Some((dir, rel_dir)) = stack.pop() {
        let listing = match fs::read_dir(&dir) {
            Ok(listing) => listing,
            Err(e) if rel_dir.is_empty() => return Err(io_error(&dir, e)),
            // An unreadable folder inside costs only its own files.
            Err(e) => {
                problems.push(problem(
                    rel_dir.trim_end_matches('/'),
                    &format!("cannot list folder: {e}"),
                ));
                continue;
            }
        };
        for dirent in listing {
            let dirent = dirent.map_err(|e| io_error(&dir, e))?;
            entries += 1;
            if entries > limits.max_entries {
                return Err(SnapshotError::TooLarge {
                    path: root.to_path_buf(),
                    what: format!(
                        "it holds more than {} files and folders",
                        limits.max_entries
                    ),
                });
            }
            let Some(name) = dirent.file_name().to_str().map(str::to_string) else {
                problems.push(problem(
                    &format!("{rel_dir}{}", dirent.file_name().to_string_lossy()),
                    "file name is not UTF-8; skipped",
                ));
                continue;
            };
            let rel = format!("{rel_dir}{name}");
            let abs = dirent.path();
            let meta = fs::symlink_metadata(&abs).map_err(|e| io_error(&abs, e))?;
            if meta.is_dir() {
                stack.push((abs, format!("{rel}/")));
            } else if meta.is_file() {
                found.push(Found {
                    rel,
                    abs,
                    size: meta.len(),
                });
            } else if meta.file_type().is_symlink() {
                match fs::canonicalize(&abs) {
                    Ok(target) if !target.starts_with(&canonical_root) => problems.push(problem(
                        &rel,
                        &format!(
                            "symlink points outside the snapshot (to {}); not followed",
                            target.display()
                        ),
                    )),
                    Ok(target) if target.is_file() => {
                        let size = fs::metadata(&target).map(|m| m.len()).unwrap_or(0);
                        found.push(Found {
                            rel,
                            abs: target,
                            size,
                        });
                    }
                    // Following linked folders could loop; snapshots do not need them.
                    Ok(_) => problems.push(problem(&rel, "symlink to a folder; not followed")),
                    Err(e) => problems.push(problem(&rel, &format!("broken symlink: {e}"))),
                }
            }
        }
    }
    let total: u64 = found
        .iter()
        .filter(|f| is_wanted(&f.rel))
        .map(|f| f.size)
        .sum();
    if total > limits.max_total_bytes {
        return Err(SnapshotError::TooLarge {
            path: root.to_path_buf(),
            what: format!("its files hold more than {} bytes", limits.max_total_bytes),
        });
    }
    for p in problems {
        if !send(Entry::Problem(p)) {
            return Ok(());
        }
    }
    // Largest first, so that the parsing threads finish together.
    found.sort_by(|a, b| b.size.cmp(&a.size).then_with(|| a.rel.cmp(&b.rel)));
    for f in found {
        let go_on = if !is_wanted(&f.rel) {
            send(Entry::Skipped { path: f.rel })
        } else {
            let read = fs::File::open(&f.abs)
                .and_then(|mut file| emit(f.rel.clone(), f.size, &mut file, send));
            match read {
                Ok(go_on) => go_on,
                Err(e) => send(Entry::Problem(problem(
                    &f.rel,
                    &format!("cannot read: {e}"),
                ))),
            }
        };
        if !go_on {
            break;
        }
    }
    Ok(())
}

pub(crate) fn problem(file: &str, message: &str) -> Problem {
    Problem {
        file: file.to_string(),
        line: None,
        column: None,
        message: message.to_string(),
    }
}

/// The folder to strip when everything sits in one (`support-bundle-2026-…/`,
/// `snapshot/`), unless that folder is itself part of a layout (`k8s/`).
pub(crate) fn common_root(paths: &[&str]) -> String {
    const LAYOUT_FOLDERS: [&str; 4] = ["k8s", "logs", "aws", "cluster-resources"];
    let mut prefix = String::new();
    loop {
        let mut first: Option<&str> = None;
        for path in paths {
            let rest = &path[prefix.len()..];
            match rest.split_once('/') {
                Some((top, _)) if first.is_none_or(|f| f == top) => first = Some(top),
                _ => return prefix,
            }
        }
        match first {
            Some(top) if !LAYOUT_FOLDERS.contains(&top) => {
                prefix.push_str(top);
                prefix.push('/');
            }
            _ => return prefix,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_normalised_or_refused() {
        assert_eq!(normalise("./a//b/./c.yaml"), Ok("a/b/c.yaml".to_string()));
        assert!(normalise("/etc/passwd").is_err());
        assert!(normalise("a/../../b").is_err());
    }

    #[test]
    fn a_single_top_folder_is_stripped_unless_it_is_a_layout_folder() {
        assert_eq!(
            common_root(&["snap/k8s/a.yaml", "snap/snapshot.yaml"]),
            "snap/"
        );
        assert_eq!(
            common_root(&["x/y/k8s/a.yaml", "x/y/logs/a/b/c.log"]),
            "x/y/"
        );
        assert_eq!(common_root(&["k8s/a.yaml", "k8s/b.yaml"]), "");
        assert_eq!(common_root(&["snap/k8s/a.yaml", "README.md"]), "");
        assert_eq!(
            common_root(&["support-bundle-1/cluster-resources/pods/a.json"]),
            "support-bundle-1/"
        );
        assert_eq!(common_root(&[]), "");
    }
}
