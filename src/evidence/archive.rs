//! Evidence bundles on disk: a deterministic `.tar.gz` written atomically, and the check
//! that one is still what was written (`ktriage bundle verify`).
//!
//! Writing: the same files, top folder and `mtime` always give the same bytes. Entries
//! come in byte order of their path (a folder's `dir/` sorts before its contents), each
//! folder once; headers are GNU (long paths use GNU long-name entries), mode 0644 for
//! files and 0755 for folders, uid/gid 0, empty user and group names, one `mtime` for
//! all, no extended attributes; the gzip header carries no file name and mtime 0. The
//! archive is built in a temporary file next to the destination (mode 0600), fsynced and
//! renamed over it, so the destination is either absent, or left as it was, or the whole
//! new bundle: never part of one.
//!
//! Verifying: the archive is read in memory, never unpacked, under the snapshot reader's
//! [`Limits`] and its path rules (no absolute paths, no `..`), with the gzip stream read
//! to its end so its CRC covers every uncompressed byte. `<top>/manifest.json` must list the SHA-256
//! of every other file (`{"files": {"walks/1-x.json": "<64 hex digits>", ...}}`, paths
//! relative to the top folder), and every file must be listed.

use crate::source::snapshot::Limits;
use crate::source::snapshot::archive::{SafeEntry, TarLimit, bounded_entries};
use crate::text::sanitize_line;
use flate2::{Compression, GzBuilder};
use sha2::{Digest, Sha256};
use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// The manifest's name inside the top folder.
pub const MANIFEST: &str = "manifest.json";

/// Every gzip header [`write`] produces: no flags (so no file name), mtime 0, default
/// compression (XFL 0), operating system "unknown" (255).
const GZIP_HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255];

/// The manifest is read whole; a real one is a few KiB per hundred files.
const MAX_MANIFEST_BYTES: u64 = 64 << 20;

/// Why a bundle could not be written or did not verify.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error(
        "cannot put `{path}` in a bundle: it {why}; bundle paths are relative, with forward \
         slashes and no `.` or `..` parts (this is a bug in ktriage: please report it)"
    )]
    InvalidPath { path: String, why: &'static str },
    #[error(
        "cannot use `{top}` as a bundle's top folder: it {why}; it must be one plain folder \
         name (this is a bug in ktriage: please report it)"
    )]
    InvalidTop { top: String, why: &'static str },
    #[error("cannot write a bundle to {dest}: it {why}; give the path of a .tar.gz file")]
    Destination { dest: PathBuf, why: &'static str },
    #[error(
        "cannot write bundle {dest}: {action} failed: {source}; check that the folder exists, \
         is writable and has free space (nothing was left at {dest})"
    )]
    Write {
        dest: PathBuf,
        action: &'static str,
        #[source]
        source: io::Error,
    },
    #[error(
        "writing bundle {dest} was cancelled; nothing was written there (a file already there \
         is left as it was)"
    )]
    Cancelled { dest: PathBuf },
    #[error("cannot read bundle {path}: {source}; check the path and its permissions")]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error(
        "{path} is not a bundle: it does not start like a gzip stream; a ktriage bundle is a \
         .tar.gz written by `ktriage bundle export`"
    )]
    NotGzip { path: PathBuf },
    #[error(
        "bundle {path} is damaged ({message}): it was truncated or corrupted after it was \
         written and cannot be trusted as evidence; copy it again from where it was exported"
    )]
    Damaged { path: PathBuf, message: String },
    #[error(
        "refusing bundle {path}: entry `{}` {why}; an archive from someone else may be \
         hostile, so nothing in it was trusted",
        sanitize_line(.entry)
    )]
    Unsafe {
        path: PathBuf,
        entry: String,
        why: &'static str,
    },
    #[error(
        "refusing bundle {path}: {what}; a bundle is far smaller, so this is not one (or it is \
         a decompression bomb)"
    )]
    TooLarge { path: PathBuf, what: String },
    #[error(
        "bundle {path} has no {}/{MANIFEST}: it was not written by `ktriage bundle export`, \
         or its manifest was removed, so its files cannot be checked",
        sanitize_line(.top)
    )]
    NoManifest { path: PathBuf, top: String },
    #[error(
        "bundle {path}: {}/{MANIFEST} is not a valid manifest ({why}); the files cannot be \
         checked against it, so the bundle cannot be trusted as evidence",
        sanitize_line(.top)
    )]
    BadManifest {
        path: PathBuf,
        top: String,
        why: String,
    },
    #[error(
        "bundle {path} failed verification, {} problem(s):{}\nIt changed after it was written: \
         do not rely on it as evidence; get the original copy",
        problems.len(),
        list(problems)
    )]
    Failed {
        path: PathBuf,
        top: String,
        problems: Vec<Discrepancy>,
    },
}

fn list(problems: &[Discrepancy]) -> String {
    problems.iter().map(|p| format!("\n  {p}")).collect()
}

/// One way a bundle differs from its manifest. Paths are relative to the top folder,
/// except [`Discrepancy::Outside`], which gives the entry's whole path.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Discrepancy {
    /// The file's bytes do not have the SHA-256 the manifest lists.
    Differs { file: String },
    /// Listed in the manifest, absent from the archive.
    Missing { file: String },
    /// In the archive, not listed in the manifest.
    Unlisted { file: String },
    /// The archive holds this path more than once (an unpacker would keep only one).
    Duplicate { file: String },
    /// A folder that holds no listed file.
    UnexpectedFolder { folder: String },
    /// Neither a file nor a folder: a link, a device, a FIFO.
    UnexpectedEntry { entry: String, what: String },
    /// Not inside the top folder.
    Outside { entry: String },
}

impl fmt::Display for Discrepancy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Discrepancy::Differs { file } => write!(
                f,
                "{}: SHA-256 differs from the manifest (tampered or corrupted)",
                sanitize_line(file)
            ),
            Discrepancy::Missing { file } => {
                write!(
                    f,
                    "{}: listed in the manifest but missing from the archive",
                    sanitize_line(file)
                )
            }
            Discrepancy::Unlisted { file } => {
                write!(
                    f,
                    "{}: in the archive but not listed in the manifest (added)",
                    sanitize_line(file)
                )
            }
            Discrepancy::Duplicate { file } => {
                write!(
                    f,
                    "{}: appears more than once in the archive",
                    sanitize_line(file)
                )
            }
            Discrepancy::UnexpectedFolder { folder } => write!(
                f,
                "{}/: a folder holding no listed file (bundles hold only the folders of their files)",
                sanitize_line(folder)
            ),
            Discrepancy::UnexpectedEntry { entry, what } => {
                write!(
                    f,
                    "{}: {}; bundles hold only files and folders",
                    sanitize_line(entry),
                    sanitize_line(what)
                )
            }
            Discrepancy::Outside { entry } => {
                write!(
                    f,
                    "{}: outside the bundle's top folder",
                    sanitize_line(entry)
                )
            }
        }
    }
}

/// A bundle that matched its manifest.
#[derive(Clone, Debug)]
pub struct Verified {
    /// The top folder's name (`ktriage-<cluster>-<timestamp>`).
    pub top: String,
    /// Files checked against the manifest (the manifest itself not counted).
    pub files: usize,
    /// Their bytes, uncompressed.
    pub bytes: u64,
    /// The manifest, as read (tool version, source, cluster, capture times...).
    pub manifest: serde_json::Value,
}

/// Lower-case hex SHA-256, as the manifest lists it.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(digest: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(digest.len() * 2);
    for b in digest {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// The manifest's `files` map for a bundle's files: every path except [`MANIFEST`]
/// itself, with its [`sha256_hex`].
pub fn file_hashes(files: &BTreeMap<String, Vec<u8>>) -> BTreeMap<String, String> {
    files
        .iter()
        .filter(|(path, _)| path.as_str() != MANIFEST)
        .map(|(path, data)| (path.clone(), sha256_hex(data)))
        .collect()
}

/// Why a relative bundle path is refused, if it is.
fn check_relative(path: &str) -> Result<(), &'static str> {
    if path.is_empty() {
        return Err("is empty");
    }
    if path.starts_with('/') {
        return Err("is an absolute path");
    }
    if path.contains('\\') {
        return Err("contains a backslash (use `/` between folders)");
    }
    if path.contains('\0') {
        return Err("contains a NUL byte");
    }
    for part in path.split('/') {
        match part {
            "" => return Err("has an empty part (`//` or a trailing `/`)"),
            "." => return Err("has a `.` part"),
            ".." => return Err("climbs out of the bundle with `..`"),
            _ => {}
        }
    }
    Ok(())
}

static NEXT_TEMP: AtomicU64 = AtomicU64::new(0);

/// The temporary file until it is renamed into place; removed if dropped before then,
/// whether by an error, a cancel or a panic unwinding.
struct TempGuard {
    path: PathBuf,
    committed: bool,
}

impl Drop for TempGuard {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// Hands out `data` while `cancel` is clear, so a large file is cancelled inside it.
struct Cancellable<'a> {
    data: &'a [u8],
    cancel: &'a AtomicBool,
}

impl Read for Cancellable<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.cancel.load(Ordering::Relaxed) {
            return Err(io::Error::other("cancelled"));
        }
        self.data.read(buf)
    }
}

/// Called with each entry's index before it is written: lets tests cancel or panic at a
/// chosen point.
#[cfg(test)]
type Hook = Box<dyn FnMut(usize)>;

#[cfg(test)]
thread_local! {
    static BEFORE_ENTRY: std::cell::RefCell<Option<Hook>> = const { std::cell::RefCell::new(None) };
}

/// Writes `files` (relative paths, forward slashes → bytes) under the folder `top` as a
/// deterministic `.tar.gz` at `dest`, every entry dated `mtime` (seconds since the
/// epoch: the capture's end). Returns the bytes written.
///
/// Atomic: the archive is built in `.<name>.<pid>.<n>.partial` (mode 0600) in `dest`'s
/// folder, fsynced, and renamed to `dest`, replacing a file already there, as users of
/// `-o FILE` expect (a symlink at `dest` is itself replaced, not written through). On
/// any error, on `cancel` (checked between entries and while copying a file's bytes), or
/// on a panic, the temporary file is removed and `dest` is untouched. After the rename
/// the folder is fsynced too, best effort: some file systems refuse it, and the bundle
/// is whole by then.
pub fn write(
    dest: &Path,
    top: &str,
    files: &BTreeMap<String, Vec<u8>>,
    mtime: u64,
    cancel: &AtomicBool,
) -> Result<u64, ArchiveError> {
    let entries = plan(top, files)?;
    let destination = |why| ArchiveError::Destination {
        dest: dest.to_path_buf(),
        why,
    };
    let name = dest
        .file_name()
        .ok_or_else(|| destination("does not name a file"))?;
    if dest.is_dir() {
        return Err(destination("is a folder"));
    }
    let dir = match dest.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let cancelled = || ArchiveError::Cancelled {
        dest: dest.to_path_buf(),
    };
    let failed = |action| {
        move |source| ArchiveError::Write {
            dest: dest.to_path_buf(),
            action,
            source,
        }
    };
    if cancel.load(Ordering::Relaxed) {
        return Err(cancelled());
    }

    let (file, guard) = create_temp(&dir, name).map_err(failed("creating a temporary file"))?;
    // Declared after the guard, so dropped before it: the builder's own drop writes to
    // the file before the guard removes it.
    let encoder = GzBuilder::new()
        .mtime(0)
        .operating_system(255)
        .write(file, Compression::default());
    let mut builder = tar::Builder::new(encoder);
    for (index, (path, data)) in entries.iter().enumerate() {
        #[cfg(test)]
        BEFORE_ENTRY.with(|hook| {
            if let Some(hook) = hook.borrow_mut().as_mut() {
                hook(index);
            }
        });
        #[cfg(not(test))]
        let _ = index;
        if cancel.load(Ordering::Relaxed) {
            return Err(cancelled());
        }
        let mut header = tar::Header::new_gnu();
        header.set_uid(0);
        header.set_gid(0);
        header.set_mtime(mtime);
        let appended = match data {
            None => {
                header.set_entry_type(tar::EntryType::Directory);
                header.set_mode(0o755);
                header.set_size(0);
                builder.append_data(&mut header, path.trim_end_matches('/'), io::empty())
            }
            Some(data) => {
                header.set_entry_type(tar::EntryType::Regular);
                header.set_mode(0o644);
                header.set_size(data.len() as u64);
                builder.append_data(&mut header, path, Cancellable { data, cancel })
            }
        };
        if let Err(e) = appended {
            return Err(if cancel.load(Ordering::Relaxed) {
                cancelled()
            } else {
                failed("writing")(e)
            });
        }
    }
    let encoder = builder.into_inner().map_err(failed("writing"))?;
    let file = encoder.finish().map_err(failed("writing"))?;
    if cancel.load(Ordering::Relaxed) {
        return Err(cancelled());
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(fs::Permissions::from_mode(0o600))
            .map_err(failed("setting permissions"))?;
    }
    file.sync_all().map_err(failed("syncing to disk"))?;
    let written = file.metadata().map_err(failed("writing"))?.len();
    drop(file);
    let mut guard = guard;
    fs::rename(&guard.path, dest).map_err(failed("renaming into place"))?;
    guard.committed = true;
    // Best effort (see above): the rename is what makes the bundle appear.
    if let Ok(folder) = File::open(&dir) {
        let _ = folder.sync_all();
    }
    Ok(written)
}

/// Every entry, in archive order: full path (folders end in `/`) and a file's bytes.
type Plan<'a> = Vec<(String, Option<&'a [u8]>)>;

fn plan<'a>(top: &str, files: &'a BTreeMap<String, Vec<u8>>) -> Result<Plan<'a>, ArchiveError> {
    if let Err(why) = check_relative(top) {
        return Err(ArchiveError::InvalidTop {
            top: top.to_string(),
            why,
        });
    }
    if top.contains('/') {
        return Err(ArchiveError::InvalidTop {
            top: top.to_string(),
            why: "has more than one part",
        });
    }
    let mut entries: BTreeMap<String, Option<&[u8]>> = BTreeMap::new();
    entries.insert(format!("{top}/"), None);
    for (path, data) in files {
        check_relative(path).map_err(|why| ArchiveError::InvalidPath {
            path: path.clone(),
            why,
        })?;
        for (at, _) in path.match_indices('/') {
            let folder = &path[..at];
            if files.contains_key(folder) {
                return Err(ArchiveError::InvalidPath {
                    path: folder.to_string(),
                    why: "is both a file and a folder",
                });
            }
            entries.insert(format!("{top}/{folder}/"), None);
        }
        entries.insert(format!("{top}/{path}"), Some(data.as_slice()));
    }
    Ok(entries.into_iter().collect())
}

/// A new file `.<name>.<pid>.<n>.partial` in `dir`, mode 0600, never an existing one.
fn create_temp(dir: &Path, name: &std::ffi::OsStr) -> io::Result<(File, TempGuard)> {
    let mut last = None;
    for _ in 0..100 {
        let n = NEXT_TEMP.fetch_add(1, Ordering::Relaxed);
        let mut temp = OsString::from(".");
        temp.push(name);
        temp.push(format!(".{}.{n}.partial", std::process::id()));
        let path = dir.join(temp);
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        match options.open(&path) {
            Ok(file) => {
                let guard = TempGuard {
                    path,
                    committed: false,
                };
                return Ok((file, guard));
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::other("no free temporary file name")))
}

/// Checks the bundle at `path` against its manifest, under the default [`Limits`].
pub fn verify(path: &Path) -> Result<Verified, ArchiveError> {
    verify_with_limits(path, Limits::default())
}

/// [`verify`] with explicit limits on entries and uncompressed bytes.
pub fn verify_with_limits(path: &Path, limits: Limits) -> Result<Verified, ArchiveError> {
    let contents = read_bundle(path, limits)?;
    check(path, contents)
}

/// What the archive holds, by path relative to the first entry's top folder.
#[derive(Default)]
struct Contents {
    top: String,
    /// File → (SHA-256, size).
    files: BTreeMap<String, (String, u64)>,
    folders: BTreeSet<String>,
    manifest: Option<Vec<u8>>,
    problems: Vec<Discrepancy>,
}

/// Counts the uncompressed stream and stops it past `cap` bytes.
struct Capped<R> {
    inner: R,
    read: u64,
    cap: u64,
    exceeded: Rc<Cell<bool>>,
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        if self.read > self.cap {
            self.exceeded.set(true);
            return Err(io::Error::other("too large"));
        }
        Ok(n)
    }
}

/// Reads the whole archive, hashing each file as it streams by. Same rules as the
/// snapshot reader (no absolute paths, no `..`, [`Limits`] on entries and bytes), plus
/// what a bundle allows: one gzip member, read to its end (so its CRC and length are
/// checked), nothing but zeros after the tar end marker, and nothing after the gzip
/// member (a second member would be content `tar xzf` unpacks but this check skipped).
///
/// The gzip header is not pinned: its mtime and OS bytes, like the deflate encoding
/// itself (an unused Huffman code length), can change without changing one byte of the
/// content, and a bundle re-compressed by hand still verifies. What is pinned is the
/// content: every uncompressed byte (the CRC), every file (the manifest).
fn read_bundle(path: &Path, limits: Limits) -> Result<Contents, ArchiveError> {
    let read_error = |source| ArchiveError::Read {
        path: path.to_path_buf(),
        source,
    };
    let damaged = |message: String| ArchiveError::Damaged {
        path: path.to_path_buf(),
        message,
    };
    let too_large = |what: String| ArchiveError::TooLarge {
        path: path.to_path_buf(),
        what,
    };
    let mut file = File::open(path).map_err(read_error)?;
    let mut magic = Vec::with_capacity(2);
    (&mut file)
        .take(2)
        .read_to_end(&mut magic)
        .map_err(read_error)?;
    if magic != GZIP_HEADER[..2] {
        return Err(ArchiveError::NotGzip {
            path: path.to_path_buf(),
        });
    }
    // The decoder parses the gzip header from the start.
    file.seek(SeekFrom::Start(0)).map_err(read_error)?;
    let decoder = flate2::bufread::GzDecoder::new(BufReader::new(file));

    let exceeded = Rc::new(Cell::new(false));
    let cap = limits.max_total_bytes.saturating_add(
        (limits.max_entries as u64)
            .saturating_add(2)
            .saturating_mul(2048),
    );
    let capped = Capped {
        inner: decoder,
        read: 0,
        cap,
        exceeded: exceeded.clone(),
    };
    let stream_error = |e: io::Error| {
        if exceeded.get() {
            too_large(format!("it expands to more than {cap} bytes"))
        } else {
            damaged(e.to_string())
        }
    };

    let mut archive = tar::Archive::new(capped);
    let mut contents = Contents::default();
    let mut seen = BTreeSet::new();
    let mut buf = vec![0u8; 64 << 10];
    let fail = |limit: TarLimit| match limit {
        TarLimit::Stream(e) => stream_error(e),
        TarLimit::Entries(max) => too_large(format!("it holds more than {max} entries")),
        TarLimit::Bytes(max) => too_large(format!("it expands to more than {max} bytes")),
        TarLimit::Unsafe { entry, why } => ArchiveError::Unsafe {
            path: path.to_path_buf(),
            entry,
            why,
        },
    };
    let count = bounded_entries(&mut archive, limits, fail, |e| {
        let SafeEntry {
            entry,
            index,
            path: full,
            size,
            ..
        } = e;
        // The first entry names the top folder every other entry must be under.
        if index == 1 {
            contents.top = full.split('/').next().unwrap_or_default().to_string();
        }
        let kind = entry.header().entry_type();
        let is_file = kind.is_file() || kind.is_contiguous();
        let rel = if full == contents.top && !is_file {
            String::new()
        } else if let Some(rel) = full
            .strip_prefix(contents.top.as_str())
            .and_then(|r| r.strip_prefix('/'))
        {
            rel.to_string()
        } else {
            contents.problems.push(Discrepancy::Outside { entry: full });
            return Ok(true);
        };
        if !seen.insert(rel.clone()) {
            contents.problems.push(Discrepancy::Duplicate { file: rel });
            return Ok(true);
        }
        if kind.is_dir() {
            if !rel.is_empty() {
                contents.folders.insert(rel);
            }
        } else if is_file {
            if rel == MANIFEST {
                if size > MAX_MANIFEST_BYTES {
                    return Err(ArchiveError::BadManifest {
                        path: path.to_path_buf(),
                        top: contents.top.clone(),
                        why: format!("it is larger than {MAX_MANIFEST_BYTES} bytes"),
                    });
                }
                let mut data = Vec::with_capacity(size as usize);
                entry.read_to_end(&mut data).map_err(stream_error)?;
                if data.len() as u64 != size {
                    return Err(damaged(format!("{} is cut short", sanitize_line(&rel))));
                }
                contents.manifest = Some(data);
            } else {
                let mut hasher = Sha256::new();
                let mut got = 0u64;
                loop {
                    let n = entry.read(&mut buf).map_err(stream_error)?;
                    if n == 0 {
                        break;
                    }
                    hasher.update(&buf[..n]);
                    got += n as u64;
                }
                if got != size {
                    return Err(damaged(format!("{} is cut short", sanitize_line(&rel))));
                }
                contents.files.insert(rel, (hex(&hasher.finalize()), size));
            }
        } else {
            let what = if kind.is_symlink() || kind.is_hard_link() {
                let target = entry
                    .link_name_bytes()
                    .map(|t| String::from_utf8_lossy(&t).into_owned())
                    .unwrap_or_default();
                let link = if kind.is_symlink() {
                    "symbolic"
                } else {
                    "hard"
                };
                format!("a {link} link (to {target})")
            } else {
                format!("an entry of tar type {:?}", kind.as_byte() as char)
            };
            contents.problems.push(Discrepancy::UnexpectedEntry {
                entry: if rel.is_empty() { full } else { rel },
                what,
            });
        }
        Ok(true)
    })?;
    if count == 0 {
        return Err(damaged("it holds no entries".into()));
    }

    // The rest of the tar stream (its second end block) must be zeros, and the gzip
    // stream must end, CRC and length checked, exactly at the end of the file.
    let mut capped = archive.into_inner();
    loop {
        let n = capped.read(&mut buf).map_err(stream_error)?;
        if n == 0 {
            break;
        }
        if buf[..n].iter().any(|&b| b != 0) {
            return Err(damaged(
                "it holds data after the end of the tar archive".into(),
            ));
        }
    }
    let mut rest = capped.inner.into_inner();
    if !rest.fill_buf().map_err(read_error)?.is_empty() {
        return Err(damaged(
            "it holds data after the end of the gzip stream".into(),
        ));
    }
    Ok(contents)
}

/// Compares what the archive holds with its manifest.
fn check(path: &Path, contents: Contents) -> Result<Verified, ArchiveError> {
    let Contents {
        top,
        files,
        folders,
        manifest,
        mut problems,
    } = contents;
    let bad = |why: String| ArchiveError::BadManifest {
        path: path.to_path_buf(),
        top: top.clone(),
        why,
    };
    let Some(manifest) = manifest else {
        return Err(ArchiveError::NoManifest {
            path: path.to_path_buf(),
            top,
        });
    };
    let manifest: serde_json::Value =
        serde_json::from_slice(&manifest).map_err(|e| bad(format!("not JSON: {e}")))?;
    let listed = manifest
        .get("files")
        .and_then(serde_json::Value::as_object)
        .ok_or_else(|| bad("it has no `files` object".into()))?;
    let mut expected = BTreeMap::new();
    for (file, hash) in listed {
        if let Err(why) = check_relative(file) {
            return Err(bad(format!(
                "it lists `{}`, which {why}",
                sanitize_line(file)
            )));
        }
        if file == MANIFEST {
            return Err(bad(format!("it lists itself ({MANIFEST})")));
        }
        let hash = hash
            .as_str()
            .filter(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
            .ok_or_else(|| {
                bad(format!(
                    "the SHA-256 of `{}` is not 64 hex digits",
                    sanitize_line(file)
                ))
            })?;
        expected.insert(file.as_str(), hash.to_ascii_lowercase());
    }
    for (file, hash) in &expected {
        match files.get(*file) {
            None => problems.push(Discrepancy::Missing {
                file: file.to_string(),
            }),
            Some((actual, _)) if actual != hash => problems.push(Discrepancy::Differs {
                file: file.to_string(),
            }),
            Some(_) => {}
        }
    }
    for file in files.keys() {
        if !expected.contains_key(file.as_str()) {
            problems.push(Discrepancy::Unlisted { file: file.clone() });
        }
    }
    let implied: BTreeSet<&str> = files
        .keys()
        .map(String::as_str)
        .chain(std::iter::once(MANIFEST))
        .flat_map(|f| f.match_indices('/').map(move |(at, _)| &f[..at]))
        .collect();
    for folder in &folders {
        if !implied.contains(folder.as_str()) {
            problems.push(Discrepancy::UnexpectedFolder {
                folder: folder.clone(),
            });
        }
    }
    if !problems.is_empty() {
        problems.sort();
        return Err(ArchiveError::Failed {
            path: path.to_path_buf(),
            top,
            problems,
        });
    }
    Ok(Verified {
        top,
        files: files.len(),
        bytes: files.values().map(|(_, size)| size).sum(),
        manifest,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::panic::{AssertUnwindSafe, catch_unwind};
    use tempfile::TempDir;

    const TOP: &str = "ktriage-prod-20260102T030405Z";
    const MTIME: u64 = 1_767_323_045;

    fn files() -> BTreeMap<String, Vec<u8>> {
        [
            ("report.md", b"# Triage\n".to_vec()),
            ("walks/1-pvc-pending.json", b"{\"steps\":[]}\n".to_vec()),
            ("walks/2-dns.json", b"{\"steps\":[1]}\n".to_vec()),
            ("snapshot/k8s/core/pods.json", b"[]".to_vec()),
            ("a-b.txt", b"dash sorts before slash".to_vec()),
        ]
        .into_iter()
        .map(|(p, d)| (p.to_string(), d))
        .collect()
    }

    /// `files` plus a manifest listing their hashes.
    fn with_manifest(mut files: BTreeMap<String, Vec<u8>>) -> BTreeMap<String, Vec<u8>> {
        let manifest = serde_json::json!({
            "schemaVersion": 1,
            "cluster": "prod",
            "files": file_hashes(&files),
        });
        files.insert(
            MANIFEST.to_string(),
            serde_json::to_vec_pretty(&manifest).unwrap(),
        );
        files
    }

    fn write_ok(dest: &Path, files: &BTreeMap<String, Vec<u8>>) -> u64 {
        write(dest, TOP, files, MTIME, &AtomicBool::new(false)).unwrap()
    }

    /// Everything in the folder, sorted: no `.partial` may be left behind.
    fn listing(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    fn set_hook(hook: Option<Hook>) {
        BEFORE_ENTRY.with(|h| *h.borrow_mut() = hook);
    }

    /// Writes a raw tar.gz the way `write` does, with entries `write` would refuse.
    fn raw_bundle(dest: &Path, entries: &[(&str, tar::EntryType, &[u8])]) {
        let encoder = GzBuilder::new()
            .mtime(0)
            .operating_system(255)
            .write(File::create(dest).unwrap(), Compression::default());
        let mut builder = tar::Builder::new(encoder);
        for (name, kind, data) in entries {
            let mut header = tar::Header::new_gnu();
            header.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
            header.set_entry_type(*kind);
            header.set_mode(0o644);
            if kind.is_symlink() {
                header.set_link_name("/etc/passwd").unwrap();
            }
            header.set_size(data.len() as u64);
            header.set_cksum();
            builder.append(&header, *data).unwrap();
        }
        builder.into_inner().unwrap().finish().unwrap();
    }

    #[test]
    fn sha256_is_lower_case_hex() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn same_inputs_give_byte_identical_archives() {
        let dir = TempDir::new().unwrap();
        let (a, b) = (dir.path().join("a.tar.gz"), dir.path().join("b.tar.gz"));
        let files = with_manifest(files());
        let written = write_ok(&a, &files);
        write_ok(&b, &files);
        let bytes = fs::read(&a).unwrap();
        assert_eq!(written, bytes.len() as u64);
        assert_eq!(bytes, fs::read(&b).unwrap());
        assert_eq!(bytes[..10], GZIP_HEADER, "no file name, mtime 0");
    }

    #[test]
    fn entries_are_sorted_with_folders_first_and_headers_normalised() {
        let dir = TempDir::new().unwrap();
        let dest = dir.path().join("b.tar.gz");
        write_ok(&dest, &files());
        let file = File::open(&dest).unwrap();
        let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
        let mut names = Vec::new();
        for entry in archive.entries().unwrap() {
            let mut entry = entry.unwrap();
            let header = entry.header().clone();
            let dir = header.entry_type().is_dir();
            assert!(dir || header.entry_type().is_file());
            assert_eq!(header.mode().unwrap(), if dir { 0o755 } else { 0o644 });
            assert_eq!(header.uid().unwrap(), 0);
            assert_eq!(header.gid().unwrap(), 0);
            assert_eq!(header.mtime().unwrap(), MTIME);
            assert_eq!(header.username_bytes(), Some(&b""[..]));
            assert_eq!(header.groupname_bytes(), Some(&b""[..]));
            assert!(header.as_gnu().is_some(), "GNU headers");
            assert!(entry.pax_extensions().unwrap().is_none());
            let path = entry.path().unwrap().to_string_lossy().into_owned();
            names.push(if dir { format!("{path}/") } else { path });
        }
        let expected: Vec<String> = [
            "",
            "a-b.txt",
            "report.md",
            "snapshot/",
            "snapshot/k8s/",
            "snapshot/k8s/core/",
            "snapshot/k8s/core/pods.json",
            "walks/",
            "walks/1-pvc-pending.json",
            "walks/2-dns.json",
        ]
        .iter()
        .map(|p| format!("{TOP}/{p}"))
        .collect();
        assert_eq!(names, expected);
    }

    #[cfg(unix)]
    #[test]
    fn the_bundle_is_readable_by_its_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = TempDir::new().unwrap();
        let dest = dir.path().join("b.tar.gz");
        // An existing, world-readable file is replaced, and the result is still 0600.
        fs::write(&dest, b"old").unwrap();
        fs::set_permissions(&dest, fs::Permissions::from_mode(0o644)).unwrap();
        write_ok(&dest, &files());
        let mode = fs::metadata(&dest).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(listing(dir.path()), ["b.tar.gz"]);
    }

    #[test]
    fn a_written_bundle_verifies() {
        let dir = TempDir::new().unwrap();
        let dest = dir.path().join("b.tar.gz");
        let files = with_manifest(files());
        write_ok(&dest, &files);
        let verified = verify(&dest).unwrap();
        assert_eq!(verified.top, TOP);
        assert_eq!(verified.files, files.len() - 1);
        let bytes: usize = files
            .iter()
            .filter(|(p, _)| p.as_str() != MANIFEST)
            .map(|(_, d)| d.len())
            .sum();
        assert_eq!(verified.bytes, bytes as u64);
        assert_eq!(verified.manifest["cluster"], "prod");
    }

    #[test]
    fn long_paths_round_trip() {
        let dir = TempDir::new().unwrap();
        let dest = dir.path().join("b.tar.gz");
        let long = format!("logs/{}/{}.log", "n".repeat(120), "c".repeat(150));
        let mut files = files();
        files.insert(long.clone(), b"line\n".to_vec());
        write_ok(&dest, &with_manifest(files.clone()));
        assert_eq!(verify(&dest).unwrap().files, files.len());
    }

    #[test]
    fn a_byte_flipped_in_the_middle_is_damage() {
        let dir = TempDir::new().unwrap();
        let dest = dir.path().join("b.tar.gz");
        write_ok(&dest, &with_manifest(files()));
        let mut bytes = fs::read(&dest).unwrap();
        let middle = bytes.len() / 2;
        bytes[middle] ^= 0xff;
        fs::write(&dest, &bytes).unwrap();
        let err = verify(&dest).unwrap_err();
        assert!(
            matches!(err, ArchiveError::Damaged { .. }),
            "{err:?}: {err}"
        );
        assert!(err.to_string().contains("is damaged"), "{err}");
    }

    /// No single-byte change to the file alters its content unnoticed. A few flips leave
    /// the content as it was (the gzip header's mtime and OS bytes; in the deflate
    /// stream, the code length of a symbol never used) and pass, rightly.
    #[test]
    fn no_single_byte_flip_changes_the_content_unnoticed() {
        let dir = TempDir::new().unwrap();
        let dest = dir.path().join("b.tar.gz");
        let mut small = BTreeMap::new();
        small.insert("walks/1.json".to_string(), b"{\"steps\": []}".to_vec());
        write_ok(&dest, &with_manifest(small));
        let bytes = fs::read(&dest).unwrap();
        let mut content = Vec::new();
        flate2::read::GzDecoder::new(&bytes[..])
            .read_to_end(&mut content)
            .unwrap();
        let flipped = dir.path().join("flipped.tar.gz");
        let (mut caught, mut harmless) = (0, 0);
        for at in 0..bytes.len() {
            for mask in [0x01, 0x10, 0x80, 0xff] {
                let mut copy = bytes.clone();
                copy[at] ^= mask;
                fs::write(&flipped, &copy).unwrap();
                if verify(&flipped).is_err() {
                    caught += 1;
                    continue;
                }
                harmless += 1;
                let mut out = Vec::new();
                flate2::read::MultiGzDecoder::new(&copy[..])
                    .read_to_end(&mut out)
                    .unwrap_or_else(|e| panic!("byte {at} ^ {mask:#x} verified but: {e}"));
                assert!(
                    out == content,
                    "flipping byte {at} of {} with {mask:#x} changed the content unnoticed",
                    bytes.len()
                );
            }
        }
        assert!(
            caught > harmless * 10,
            "{caught} caught, {harmless} harmless"
        );
    }

    #[test]
    fn truncated_or_extended_archives_are_damage() {
        let dir = TempDir::new().unwrap();
        let dest = dir.path().join("b.tar.gz");
        write_ok(&dest, &with_manifest(files()));
        let bytes = fs::read(&dest).unwrap();
        for cut in [5, bytes.len() / 2, bytes.len() - 1] {
            fs::write(&dest, &bytes[..cut]).unwrap();
            let err = verify(&dest).unwrap_err();
            assert!(matches!(err, ArchiveError::Damaged { .. }), "{cut}: {err}");
        }
        let mut longer = bytes.clone();
        longer.extend_from_slice(b"appended");
        fs::write(&dest, &longer).unwrap();
        let err = verify(&dest).unwrap_err();
        assert!(matches!(err, ArchiveError::Damaged { .. }), "{err}");
    }

    #[test]
    fn changed_content_under_the_old_manifest_names_the_file() {
        let dir = TempDir::new().unwrap();
        let dest = dir.path().join("b.tar.gz");
        let mut files = with_manifest(files());
        files.insert(
            "walks/1-pvc-pending.json".to_string(),
            b"{\"steps\":[\"forged\"]}\n".to_vec(),
        );
        write_ok(&dest, &files);
        let err = verify(&dest).unwrap_err();
        let ArchiveError::Failed { problems, .. } = &err else {
            panic!("{err}")
        };
        assert_eq!(
            problems,
            &[Discrepancy::Differs {
                file: "walks/1-pvc-pending.json".into()
            }]
        );
        assert!(
            err.to_string().contains(
                "walks/1-pvc-pending.json: SHA-256 differs from the manifest (tampered or corrupted)"
            ),
            "{err}"
        );
    }

    #[test]
    fn unlisted_and_missing_files_fail() {
        let dir = TempDir::new().unwrap();
        let dest = dir.path().join("b.tar.gz");
        let mut files = with_manifest(files());
        files.insert("extra/added.json".into(), b"{}".to_vec());
        files.remove("report.md");
        write_ok(&dest, &files);
        let err = verify(&dest).unwrap_err();
        let ArchiveError::Failed { problems, .. } = &err else {
            panic!("{err}")
        };
        assert_eq!(
            problems,
            &[
                Discrepancy::Missing {
                    file: "report.md".into()
                },
                Discrepancy::Unlisted {
                    file: "extra/added.json".into()
                },
            ]
        );
        let text = err.to_string();
        assert!(text.contains("report.md: listed in the manifest but missing"));
        assert!(text.contains("extra/added.json: in the archive but not listed"));
    }

    #[test]
    fn a_bundle_without_a_manifest_or_with_a_bad_one_fails() {
        let dir = TempDir::new().unwrap();
        let dest = dir.path().join("b.tar.gz");
        write_ok(&dest, &files());
        assert!(matches!(
            verify(&dest).unwrap_err(),
            ArchiveError::NoManifest { .. }
        ));
        for manifest in [
            &b"not json"[..],
            br#"{"cluster": "prod"}"#,
            br#"{"files": {"../x": "00"}}"#,
            br#"{"files": {"report.md": "abc"}}"#,
        ] {
            let mut files = files();
            files.insert(MANIFEST.into(), manifest.to_vec());
            write_ok(&dest, &files);
            let err = verify(&dest).unwrap_err();
            assert!(matches!(err, ArchiveError::BadManifest { .. }), "{err}");
        }
    }

    #[test]
    fn hostile_entries_are_refused_or_fail() {
        let dir = TempDir::new().unwrap();
        let dest = dir.path().join("h.tar.gz");
        let manifest = br#"{"files": {}}"#;
        for name in ["top/../../etc/passwd", "/etc/passwd"] {
            raw_bundle(
                &dest,
                &[
                    ("top", tar::EntryType::Directory, b""),
                    ("top/manifest.json", tar::EntryType::Regular, manifest),
                    (name, tar::EntryType::Regular, b"x"),
                ],
            );
            let err = verify(&dest).unwrap_err();
            assert!(matches!(err, ArchiveError::Unsafe { .. }), "{name}: {err}");
        }
        raw_bundle(
            &dest,
            &[
                ("top", tar::EntryType::Directory, b""),
                ("top/link", tar::EntryType::Symlink, b""),
                ("top/manifest.json", tar::EntryType::Regular, manifest),
                ("top/manifest.json", tar::EntryType::Regular, manifest),
                ("other/x", tar::EntryType::Regular, b"x"),
                ("top/empty", tar::EntryType::Directory, b""),
            ],
        );
        let err = verify(&dest).unwrap_err();
        let ArchiveError::Failed { problems, .. } = &err else {
            panic!("{err}")
        };
        assert_eq!(
            problems,
            &[
                Discrepancy::Duplicate {
                    file: "manifest.json".into()
                },
                Discrepancy::UnexpectedFolder {
                    folder: "empty".into()
                },
                Discrepancy::UnexpectedEntry {
                    entry: "link".into(),
                    what: "a symbolic link (to /etc/passwd)".into()
                },
                Discrepancy::Outside {
                    entry: "other/x".into()
                },
            ]
        );
    }

    #[test]
    fn limits_stop_decompression_bombs() {
        let dir = TempDir::new().unwrap();
        let dest = dir.path().join("b.tar.gz");
        let mut files = files();
        files.insert("big.log".into(), vec![b'a'; 1 << 20]);
        write_ok(&dest, &with_manifest(files));
        let small = Limits {
            max_total_bytes: 64 << 10,
            max_entries: 1000,
        };
        let err = verify_with_limits(&dest, small).unwrap_err();
        assert!(matches!(err, ArchiveError::TooLarge { .. }), "{err}");
        let few = Limits {
            max_total_bytes: 1 << 30,
            max_entries: 3,
        };
        let err = verify_with_limits(&dest, few).unwrap_err();
        assert!(matches!(err, ArchiveError::TooLarge { .. }), "{err}");
    }

    #[test]
    fn not_a_gzip_file_is_refused() {
        let dir = TempDir::new().unwrap();
        let dest = dir.path().join("b.tar.gz");
        fs::write(&dest, b"plain text").unwrap();
        assert!(matches!(
            verify(&dest).unwrap_err(),
            ArchiveError::NotGzip { .. }
        ));
        let err = verify(&dir.path().join("absent.tar.gz")).unwrap_err();
        assert!(matches!(err, ArchiveError::Read { .. }), "{err}");
    }

    #[test]
    fn unsafe_paths_are_refused_before_anything_is_written() {
        let dir = TempDir::new().unwrap();
        let dest = dir.path().join("b.tar.gz");
        let never = AtomicBool::new(false);
        for bad in [
            "../x",
            "/etc/passwd",
            "a/../b",
            "a//b",
            "a/",
            "./a",
            "",
            "a\\b",
            "a\0b",
        ] {
            let mut files = files();
            files.insert(bad.to_string(), b"x".to_vec());
            let err = write(&dest, TOP, &files, MTIME, &never).unwrap_err();
            assert!(
                matches!(err, ArchiveError::InvalidPath { .. }),
                "{bad:?}: {err}"
            );
        }
        let mut clash = files();
        clash.insert("walks".into(), b"x".to_vec());
        let err = write(&dest, TOP, &clash, MTIME, &never).unwrap_err();
        assert!(matches!(err, ArchiveError::InvalidPath { .. }), "{err}");
        for top in ["", "..", "a/b", "/abs"] {
            let err = write(&dest, top, &files(), MTIME, &never).unwrap_err();
            assert!(
                matches!(err, ArchiveError::InvalidTop { .. }),
                "{top:?}: {err}"
            );
        }
        let err = write(dir.path(), TOP, &files(), MTIME, &never).unwrap_err();
        assert!(matches!(err, ArchiveError::Destination { .. }), "{err}");
        assert!(listing(dir.path()).is_empty());
    }

    #[test]
    fn cancel_before_the_start_leaves_nothing() {
        let dir = TempDir::new().unwrap();
        let dest = dir.path().join("b.tar.gz");
        let err = write(&dest, TOP, &files(), MTIME, &AtomicBool::new(true)).unwrap_err();
        assert!(matches!(err, ArchiveError::Cancelled { .. }), "{err}");
        assert!(listing(dir.path()).is_empty());
    }

    #[test]
    fn cancel_midway_leaves_nothing_and_keeps_an_existing_file() {
        let dir = TempDir::new().unwrap();
        let dest = dir.path().join("b.tar.gz");
        let cancel = Rc::new(AtomicBool::new(false));
        for existing in [None, Some(&b"the previous bundle"[..])] {
            if let Some(old) = existing {
                fs::write(&dest, old).unwrap();
            }
            cancel.store(false, Ordering::Relaxed);
            let flag = cancel.clone();
            set_hook(Some(Box::new(move |index| {
                if index == 4 {
                    flag.store(true, Ordering::Relaxed);
                }
            })));
            let result = write(&dest, TOP, &files(), MTIME, &cancel);
            set_hook(None);
            assert!(matches!(result, Err(ArchiveError::Cancelled { .. })));
            match existing {
                None => assert!(listing(dir.path()).is_empty()),
                Some(old) => {
                    assert_eq!(listing(dir.path()), ["b.tar.gz"]);
                    assert_eq!(fs::read(&dest).unwrap(), old);
                }
            }
        }
    }

    #[test]
    fn cancel_from_another_thread_leaves_nothing() {
        let dir = TempDir::new().unwrap();
        let dest = dir.path().join("b.tar.gz");
        let cancel = std::sync::Arc::new(AtomicBool::new(false));
        let (go, flip) = std::sync::mpsc::channel::<()>();
        let (flipped, done) = std::sync::mpsc::channel::<()>();
        let flag = cancel.clone();
        let canceller = std::thread::spawn(move || {
            flip.recv().unwrap();
            flag.store(true, Ordering::Relaxed);
            flipped.send(()).unwrap();
        });
        set_hook(Some(Box::new(move |index| {
            // Midway: the other thread flips the flag, and the writer waits until it has.
            if index == 3 {
                go.send(()).unwrap();
                done.recv().unwrap();
            }
        })));
        let result = write(&dest, TOP, &files(), MTIME, &cancel);
        set_hook(None);
        canceller.join().unwrap();
        assert!(matches!(result, Err(ArchiveError::Cancelled { .. })));
        assert!(listing(dir.path()).is_empty());
    }

    #[test]
    fn cancel_stops_a_file_midway_through_its_bytes() {
        let cancel = AtomicBool::new(false);
        let data = vec![1u8; 100];
        let mut reader = Cancellable {
            data: &data,
            cancel: &cancel,
        };
        let mut buf = [0u8; 40];
        assert_eq!(reader.read(&mut buf).unwrap(), 40);
        cancel.store(true, Ordering::Relaxed);
        assert!(reader.read(&mut buf).is_err());
    }

    #[test]
    fn a_writer_that_panics_midway_leaves_nothing() {
        let dir = TempDir::new().unwrap();
        let dest = dir.path().join("b.tar.gz");
        fs::write(&dest, b"old").unwrap();
        set_hook(Some(Box::new(|index| {
            if index == 3 {
                panic!("simulated crash while writing");
            }
        })));
        let result = catch_unwind(AssertUnwindSafe(|| {
            write(&dest, TOP, &files(), MTIME, &AtomicBool::new(false))
        }));
        set_hook(None);
        assert!(result.is_err());
        assert_eq!(listing(dir.path()), ["b.tar.gz"]);
        assert_eq!(fs::read(&dest).unwrap(), b"old");
    }
}
