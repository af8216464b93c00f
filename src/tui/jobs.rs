//! The TUI's background work: each [`Job`] runs against one round (a fact cache and a
//! CEL environment) and answers with one [`Msg`]. The runner spawns these off the
//! render loop; tests await them directly.

use super::cluster_state::{self, Inputs};
use super::msg::{ExportSummary, Job, Msg};
use crate::drive::collect::{Limits, Scope};
use crate::drive::triage;
use crate::drive::{Round, RoundState};
use crate::evidence::casefile::Casefile;
use crate::evidence::{export, redact};
use crate::facts::Source;
use crate::facts::{FactCache, FactLookup, FactQuery, FactResult};
use crate::runbook::Catalog;
use crate::runbook::record::WalkRecord;
use chrono::{DateTime, Utc};
use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

pub struct Context {
    pub source: Arc<dyn Source>,
    pub catalog: Arc<Catalog>,
    /// Offline, triage's round also answers the state panel; live, watches do.
    pub state_from_round: bool,
    /// The redaction rules an export applies: the user's, read and checked at start.
    pub rules: Arc<redact::RuleSet>,
}

/// What the runner keeps for the running export: where its progress lines go, and the
/// flag that stops it (a fresh one for each export, so a late Esc cannot stop the next).
#[derive(Clone)]
pub struct ExportControl {
    pub progress: Arc<dyn Fn(String) + Send + Sync>,
    pub cancel: Arc<AtomicBool>,
}

impl ExportControl {
    /// Progress dropped, never cancelled: for callers without a runner.
    pub fn detached() -> ExportControl {
        ExportControl {
            progress: Arc::new(|_| {}),
            cancel: Arc::new(AtomicBool::new(false)),
        }
    }
}

/// How often a running export looks at its cancel flag while it collects.
const CANCEL_POLL: Duration = Duration::from_millis(100);

pub async fn execute(job: Job, ctx: &Context, round: &RoundState) -> Msg {
    execute_with(job, ctx, round, &ExportControl::detached()).await
}

/// [`execute`], with the runner's hold on the export (its progress and cancel flag). A
/// job that panics (a bug) ends with its failure shown, never a screen that waits for an
/// answer that cannot come.
pub async fn execute_with(
    job: Job,
    ctx: &Context,
    round: &RoundState,
    control: &ExportControl,
) -> Msg {
    let failed = failure(&job);
    crate::panics::guard_future(work(job, ctx, round, control))
        .await
        .unwrap_or_else(|panic| failed(format!("ktriage failed (a bug; see the log): {panic}")))
}

/// The message a job ends with when it fails without an answer of its own (a panic).
pub fn failure(job: &Job) -> impl FnOnce(String) -> Msg + Send + 'static {
    let job = match job {
        Job::Triage { .. } => Failed::Triage,
        Job::Targets { runbook, .. } => Failed::Targets(runbook.clone()),
        Job::Walk { seq, .. } => Failed::Walk(*seq),
        Job::Export { .. } => Failed::Export,
        Job::CancelExport => Failed::Cancel,
    };
    move |error| match job {
        Failed::Triage => Msg::TriageFailed(error),
        Failed::Targets(runbook) => Msg::Targets {
            runbook,
            result: Err(error),
        },
        Failed::Walk(seq) => Msg::WalkFailed { seq, error },
        Failed::Export => Msg::Exported(Err(error)),
        Failed::Cancel => Msg::ExportProgress(error),
    }
}

enum Failed {
    Triage,
    Targets(String),
    Walk(u64),
    Export,
    Cancel,
}

async fn work(job: Job, ctx: &Context, round: &RoundState, control: &ExportControl) -> Msg {
    let r = Round::new(&ctx.catalog, &*ctx.source, round);
    match job {
        Job::Triage { .. } => {
            let report = triage::triage(&r).await;
            let state = if ctx.state_from_round {
                Some(state_of(&r, round.now).await)
            } else {
                None
            };
            Msg::Triaged {
                report,
                state,
                at: round.now,
            }
        }
        Job::Targets { runbook, .. } => {
            let result = match ctx.catalog.get(&runbook) {
                Some(rb) => triage::target_choices(&r, rb).await,
                None => Err(format!("no runbook `{runbook}`")),
            };
            Msg::Targets { runbook, result }
        }
        Job::Walk {
            seq,
            runbook,
            target,
            answers,
            ..
        } => {
            let Some(rb) = ctx.catalog.get(&runbook) else {
                return Msg::WalkFailed {
                    seq,
                    error: format!("no runbook `{runbook}` is loaded"),
                };
            };
            let record = r.walk(rb, target.as_deref(), &answers).await;
            let facts = facts_of(&record, &round.cache);
            Msg::Walked {
                seq,
                record,
                facts,
                at: round.now,
            }
        }
        Job::Export { case, dir } => {
            Msg::Exported(export_bundle(&case, &dir, ctx, round, control).await)
        }
        Job::CancelExport => {
            control.cancel.store(true, Ordering::SeqCst);
            Msg::ExportProgress("cancel requested: stopping at the next step".into())
        }
    }
}

/// Writes the bundle: the walks' round cache (nothing read twice), the round's "now",
/// default limits and scope (the walks' namespaces come from the plan), the user's
/// redaction rules. Cancelled while collecting, it stops at once; while writing, at the
/// next file; either way nothing is left at the destination.
async fn export_bundle(
    case: &Casefile,
    dir: &Path,
    ctx: &Context,
    round: &RoundState,
    control: &ExportControl,
) -> Result<ExportSummary, String> {
    let cancelled = || "cancelled".to_string();
    if control.cancel.load(Ordering::SeqCst) {
        return Err(cancelled());
    }
    let redactor = redact::Redactor::new(&ctx.rules, redact::Profile { redact_ips: false });
    let options = export::Options {
        limits: Limits::default(),
        scope: Scope::default(),
        redactor: &redactor,
        output: None,
        dir: dir.to_path_buf(),
    };
    let progress = |line: String| (control.progress)(line);
    let work = export::export(
        &*ctx.source,
        &round.cache,
        &ctx.catalog,
        case,
        round.now,
        options,
        &progress,
        &control.cancel,
    );
    // Collecting waits on the cluster: dropping it there leaves nothing behind (the
    // archive is written in one synchronous step that checks the flag itself).
    let stop = async {
        while !control.cancel.load(Ordering::SeqCst) {
            tokio::time::sleep(CANCEL_POLL).await;
        }
    };
    let result = tokio::select! {
        r = work => r,
        () = stop => return Err(cancelled()),
    };
    match result {
        Ok(w) => Ok(ExportSummary {
            path: w.path,
            bytes: w.bytes,
            files: w.files,
            errors: w.errors,
            redactions: w.redactions,
        }),
        Err(_) if control.cancel.load(Ordering::SeqCst) => Err(cancelled()),
        Err(e) => Err(e),
    }
}

/// The answers behind every fact the walk used: what the evidence viewer shows.
fn facts_of(record: &WalkRecord, cache: &FactCache) -> Vec<(FactQuery, FactResult)> {
    let mut seen = BTreeSet::new();
    record
        .facts
        .iter()
        .flat_map(|f| f.queries.iter())
        .filter(|q| seen.insert((*q).clone()))
        .filter_map(|q| cache.lookup(q).map(|a| (q.clone(), a)))
        .collect()
}

async fn state_of(r: &Round<'_>, now: DateTime<Utc>) -> cluster_state::ClusterState {
    let (kinds, queries): (Vec<_>, Vec<_>) = cluster_state::queries().into_iter().unzip();
    let mut inputs = Inputs::default();
    for (kind, listed) in kinds.iter().zip(r.lists(&queries).await) {
        if let Some(slot) = inputs.slot(kind) {
            *slot = Some(listed);
        }
    }
    cluster_state::summarize(&inputs, now)
}

#[cfg(test)]
mod failure_tests {
    use super::*;

    /// Every job ends with a message its screen is waiting for, even when it panics.
    #[test]
    fn a_failed_job_ends_the_way_its_screen_waits_for() {
        let walk = Job::Walk {
            seq: 7,
            runbook: "r".into(),
            target: None,
            answers: Default::default(),
            fresh: false,
        };
        assert!(matches!(
            failure(&walk)("boom".into()),
            Msg::WalkFailed { seq: 7, error } if error == "boom"
        ));
        let targets = Job::Targets {
            runbook: "r".into(),
            fresh: false,
        };
        assert!(matches!(
            failure(&targets)("boom".into()),
            Msg::Targets { runbook, result: Err(_) } if runbook == "r"
        ));
        assert!(matches!(
            failure(&Job::Triage { fresh: true })("boom".into()),
            Msg::TriageFailed(_)
        ));
    }
}
