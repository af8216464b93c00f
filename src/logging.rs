//! Logs go to a file, never onto the screen: `$XDG_STATE_HOME/ktriage/ktriage.log`
//! (or `~/.local/state/ktriage/ktriage.log`), level from `KTRIAGE_LOG` (default `info`).

use crate::text::{Breaks, Sanitizing};
use std::fs::File;
use std::path::PathBuf;

/// Logs to `path` ([`crate::config::Dirs::log_file`]). Best effort: a read-only home
/// must not stop a 3 a.m. triage.
pub fn init(path: Option<PathBuf>) {
    let Some(path) = path else { return };
    let Some(dir) = path.parent() else { return };
    if std::fs::create_dir_all(dir).is_err() {
        return;
    }
    let Ok(file) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
    else {
        return;
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("KTRIAGE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(LogFile(file))
        .try_init();
}

/// The log file, read by people with `less` or `tail -f`: each event is one write of one
/// line (tracing's formatter writes an event whole), sanitised as one record, so a value
/// from the cluster can neither act on a terminal nor forge a line of its own. Opened to
/// append, so events written from several threads land whole, one after the other.
struct LogFile(File);

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogFile {
    type Writer = Sanitizing<&'a File>;

    fn make_writer(&'a self) -> Self::Writer {
        Sanitizing::new(&self.0, Breaks::EndOfRecord)
    }
}
