//! The loop's vocabulary: the [`Job`]s the app hands the runner and the [`Msg`]s that
//! come back (keys, the clock, jobs' answers). Below the app and its parts, so both can
//! speak it without importing each other.

use super::cluster_state::ClusterState;
use crate::drive::triage::{TargetChoice, TriageReport};
use crate::evidence::casefile::Casefile;
use crate::facts::{FactQuery, FactResult};
use crate::runbook::record::WalkRecord;
use crate::source::live::watch::Freshness;
use chrono::{DateTime, Utc};
use crossterm::event::KeyEvent;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Work for the runner; every answer comes back as a [`Msg`].
#[derive(Clone, Debug)]
pub enum Job {
    /// Triage (and, offline, the state panel) over a round; `fresh` starts a new round.
    Triage { fresh: bool },
    /// The targets a runbook can be walked on, symptom matches first.
    Targets { runbook: String, fresh: bool },
    Walk {
        seq: u64,
        runbook: String,
        target: Option<String>,
        answers: BTreeMap<String, String>,
        fresh: bool,
    },
    /// Writes an evidence bundle of the case file into `dir`, over the current round
    /// (what the walks read is not asked again). Progress comes back as
    /// [`Msg::ExportProgress`], the end as [`Msg::Exported`].
    Export { case: Casefile, dir: PathBuf },
    /// Stops the running export (the runner's flag): it ends with a cancelled
    /// [`Msg::Exported`], leaving nothing at the destination.
    CancelExport,
}

// A message is moved once, a few times a second at most: boxing would buy nothing.
#[allow(clippy::large_enum_variant)]
pub enum Msg {
    Key(KeyEvent),
    /// The terminal's size: scrolling moves by what fits.
    Resize(u16, u16),
    /// The clock, a few times a second: ages and spinners move, nothing else happens.
    Tick(DateTime<Utc>),
    Triaged {
        report: TriageReport,
        /// Offline sources answer the panel from the same round; live ones from watches.
        state: Option<ClusterState>,
        at: DateTime<Utc>,
    },
    /// Triage ended without a report (a bug): said, and `r` tries again.
    TriageFailed(String),
    LiveState {
        state: ClusterState,
        freshness: Vec<(String, Freshness)>,
    },
    Targets {
        runbook: String,
        result: Result<Vec<TargetChoice>, String>,
    },
    Walked {
        seq: u64,
        record: WalkRecord,
        facts: Vec<(FactQuery, FactResult)>,
        at: DateTime<Utc>,
    },
    WalkFailed {
        seq: u64,
        error: String,
    },
    /// One line of the running export's progress (`collecting 12 object lists`).
    ExportProgress(String),
    /// The export ended: what was written, or why nothing was.
    Exported(Result<ExportSummary, String>),
}

/// A bundle written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportSummary {
    pub path: PathBuf,
    pub bytes: u64,
    pub files: usize,
    /// Things that could not be collected whole (`errors.json`).
    pub errors: usize,
    /// Values replaced by the redaction rules (`redactions.json`).
    pub redactions: usize,
}
