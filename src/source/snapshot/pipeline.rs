//! Phase one of opening a snapshot: files are parsed as they arrive, on every core, and
//! their bytes dropped at once, so a 150 MB list never sits in memory beside its parsed
//! form for longer than its own parse. What the files mean is decided afterwards (an
//! archive reveals its layout only once it has been read to the end).

use super::SnapshotError;
use super::document::{self, Doc, Format, SyntaxError};
use super::files::{self, Entry, Input, Limits};
use crate::source::Problem;
use std::sync::{Mutex, mpsc};
use std::thread;

#[derive(Debug)]
pub(crate) struct FileData {
    pub path: String,
    pub content: Content,
}

#[derive(Debug)]
pub(crate) enum Content {
    /// A JSON or YAML file: its documents, and the syntax error that ended it, if any.
    Docs {
        docs: Vec<Doc>,
        error: Option<SyntaxError>,
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
    // A short queue bounds how many files' bytes are in memory at once.
    let (tx, rx) = mpsc::sync_channel::<Entry>(1);
    let rx = Mutex::new(rx);
    let (mut files, mut problems, produced) = thread::scope(|scope| {
        let handles: Vec<_> = (0..workers).map(|_| scope.spawn(|| work(&rx))).collect();
        let produced = files::produce(input, limits, &mut |entry| tx.send(entry).is_ok());
        drop(tx);
        let mut files = Vec::new();
        let mut problems = Vec::new();
        for handle in handles {
            match handle.join() {
                Ok((f, p)) => {
                    files.extend(f);
                    problems.extend(p);
                }
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        (files, problems, produced)
    });
    produced?;
    files.sort_by(|a, b| a.path.cmp(&b.path));
    problems.sort_by(|a, b| a.file.cmp(&b.file));
    Ok((files, problems))
}

fn work(rx: &Mutex<mpsc::Receiver<Entry>>) -> (Vec<FileData>, Vec<Problem>) {
    let mut files = Vec::new();
    let mut problems = Vec::new();
    loop {
        // The lock is held only while waiting for the next entry, never while parsing.
        let next = rx
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .recv();
        match next {
            Ok(Entry::File { path, data }) => {
                let content = parse(&path, data);
                files.push(FileData { path, content });
            }
            Ok(Entry::Skipped { path }) => files.push(FileData {
                path,
                content: Content::Skipped,
            }),
            Ok(Entry::Problem(p)) => problems.push(p),
            Err(_) => break,
        }
    }
    (files, problems)
}

fn parse(path: &str, data: Vec<u8>) -> Content {
    match Format::of(path) {
        Some(format) => {
            let (docs, error) = document::parse(&data, format);
            Content::Docs { docs, error }
        }
        None => Content::Text(
            String::from_utf8(data)
                .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
                .into_boxed_str(),
        ),
    }
}
