//! Writing a bundle, from a source and the walks made on it: collect, redact, assemble,
//! write atomically. One path for `ktriage bundle` and the interface's export.

use super::archive;
use super::bundle;
use super::casefile::Casefile;
use super::redact::Redactor;
use crate::drive::collect::{self, Limits, Scope};
use crate::facts::FactCache;
use crate::facts::Source;
use crate::runbook::Catalog;
use chrono::{DateTime, Utc};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

pub struct Options<'a> {
    pub limits: Limits,
    pub scope: Scope,
    pub redactor: &'a Redactor,
    /// The bundle file; `None`: `<dir>/<top>.tar.gz`.
    pub output: Option<PathBuf>,
    /// Where a bundle without `output` goes (the current directory by default).
    pub dir: PathBuf,
}

pub struct Written {
    pub path: PathBuf,
    pub bytes: u64,
    pub files: usize,
    pub errors: usize,
    pub redactions: usize,
}

/// Collects what the case file's walks read (through `cache`, the round they were walked
/// in, so nothing is asked twice) and the baseline, and writes the bundle. `progress` hears each phase;
/// `cancel` stops it, leaving nothing at the final path.
#[allow(clippy::too_many_arguments)]
pub async fn export(
    source: &dyn Source,
    cache: &FactCache,
    catalog: &Catalog,
    case: &Casefile,
    now: DateTime<Utc>,
    options: Options<'_>,
    progress: &(dyn Fn(String) + Send + Sync),
    cancel: &AtomicBool,
) -> Result<Written, String> {
    let started = crate::clock::now();
    let plan = collect::plan(
        case.walks.iter().map(|w| &w.record),
        catalog,
        &options.scope,
    );
    let collected = collect::collect(source, cache, plan, &options.limits, now, progress).await;
    if cancel.load(std::sync::atomic::Ordering::Relaxed) {
        return Err("export cancelled; nothing was written".into());
    }
    progress("redacting and assembling".into());
    let finished = crate::clock::now();
    let files = bundle::files(bundle::Input {
        info: source.info(),
        catalog,
        walks: &case.walks,
        notes: &case.notes,
        collected,
        now,
        started,
        finished,
        redactor: options.redactor,
    });
    let path = options
        .output
        .unwrap_or_else(|| options.dir.join(format!("{}.tar.gz", files.top)));
    progress(format!("writing {}", path.display()));
    let bytes = archive::write(
        &path,
        &files.top,
        &files.files,
        u64::try_from(finished.timestamp()).unwrap_or(0),
        cancel,
    )
    .map_err(|e| e.to_string())?;
    Ok(Written {
        path: absolute(&path),
        bytes,
        files: files.files.len(),
        errors: files.errors,
        redactions: files.redactions,
    })
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}
