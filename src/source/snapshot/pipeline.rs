//! Phase one of opening a snapshot: files are parsed as they arrive, on every core, and
//! their bytes dropped at once. Large JSON files arrive already split into batches of
//! items (split.rs), so a 150 MB list is never in memory whole and its items are parsed
//! in parallel. What the files mean is decided afterwards (an archive reveals its layout
//! only once it has been read to the end).

use super::SnapshotError;
use super::document::{self, Doc, Format, SyntaxError};
use super::files::{self, Entry, Input, Limits};
use super::split::Piece;
use super::transcode::Item;
use crate::facts::Problem;
use std::collections::BTreeMap;
use std::sync::{Mutex, mpsc};
use std::thread;

#[derive(Debug)]
pub(crate) struct FileData {
    pub path: String,
    pub content: Content,
}

#[derive(Debug)]
pub(crate) enum Content {
    /// A JSON or YAML file: its documents, and the syntax errors met reading it.
    Docs {
        docs: Vec<Doc>,
        errors: Vec<SyntaxError>,
    },
    /// Any other file that was read: a log.
    Text(Box<str>),
    /// Present, not read.
    Skipped,
}

/// Every file, sorted by path, and the problems met while listing them.
pub(crate) fn read(
    input: Input,
    limits: Limits,
) -> Result<(Vec<FileData>, Vec<Problem>), SnapshotError> {
    let workers = thread::available_parallelism().map_or(1, |n| n.get().clamp(1, 4));
    // A short queue bounds how much read-but-unparsed data is in memory at once.
    let (tx, rx) = mpsc::sync_channel::<Entry>(workers);
    let rx = Mutex::new(rx);
    let (outputs, produced) = thread::scope(|scope| {
        let handles: Vec<_> = (0..workers).map(|_| scope.spawn(|| work(&rx))).collect();
        let produced = files::produce(input, limits, &mut |entry| tx.send(entry).is_ok());
        drop(tx);
        let mut outputs = Vec::new();
        for handle in handles {
            match handle.join() {
                Ok(out) => outputs.extend(out),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        (outputs, produced)
    });
    produced?;
    let (mut files, mut problems) = collect(outputs);
    files.sort_by(|a, b| a.path.cmp(&b.path));
    problems.sort_by(|a, b| a.file.cmp(&b.file));
    Ok((files, problems))
}

/// What a worker made of one entry.
enum Output {
    File(FileData),
    Batch {
        path: String,
        seq: u32,
        items: Vec<Item>,
        errors: Vec<SyntaxError>,
    },
    Shell {
        path: String,
        bytes: Vec<u8>,
        errors: Vec<SyntaxError>,
    },
    Problem(Problem),
}

fn work(rx: &Mutex<mpsc::Receiver<Entry>>) -> Vec<Output> {
    let mut out = Vec::new();
    loop {
        // The lock is held only while waiting for the next entry, never while parsing.
        let next = rx
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .recv();
        let Ok(entry) = next else { break };
        out.push(match entry {
            Entry::File { path, data } => {
                let content = parse(&path, data);
                Output::File(FileData { path, content })
            }
            Entry::Piece {
                path,
                piece: Piece::Items { seq, batch },
            } => {
                let (items, errors) = document::parse_batch(&batch);
                Output::Batch {
                    path,
                    seq,
                    items,
                    errors,
                }
            }
            Entry::Piece {
                path,
                piece: Piece::Shell { bytes, errors },
            } => Output::Shell {
                path,
                bytes,
                errors,
            },
            Entry::Skipped { path } => Output::File(FileData {
                path,
                content: Content::Skipped,
            }),
            Entry::Problem(p) => Output::Problem(p),
        });
    }
    out
}

type Batches = BTreeMap<u32, (Vec<Item>, Vec<SyntaxError>)>;

/// Puts split files back together: their batches in order, then their shell.
fn collect(outputs: Vec<Output>) -> (Vec<FileData>, Vec<Problem>) {
    let mut files = Vec::new();
    let mut problems = Vec::new();
    let mut split: BTreeMap<String, (Batches, Vec<u8>, Vec<SyntaxError>)> = BTreeMap::new();
    for output in outputs {
        match output {
            Output::File(f) => files.push(f),
            Output::Problem(p) => problems.push(p),
            Output::Batch {
                path,
                seq,
                items,
                errors,
            } => {
                split
                    .entry(path)
                    .or_default()
                    .0
                    .insert(seq, (items, errors));
            }
            Output::Shell {
                path,
                bytes,
                errors,
            } => {
                let parts = split.entry(path).or_default();
                parts.1 = bytes;
                parts.2 = errors;
            }
        }
    }
    for (path, (batches, shell, mut errors)) in split {
        let mut items = Vec::new();
        for (_, (batch_items, batch_errors)) in batches {
            items.extend(batch_items);
            errors.extend(batch_errors);
        }
        let (docs, error) = document::assemble(&shell, items);
        errors.extend(error);
        errors.sort_by_key(|e| (e.line, e.column));
        files.push(FileData {
            path,
            content: Content::Docs { docs, errors },
        });
    }
    (files, problems)
}

fn parse(path: &str, data: Vec<u8>) -> Content {
    match Format::of(path) {
        Some(format) => {
            let (docs, error) = document::parse(&data, format);
            Content::Docs {
                docs,
                errors: error.into_iter().collect(),
            }
        }
        None => Content::Text(
            String::from_utf8(data)
                .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
                .into_boxed_str(),
        ),
    }
}
