//! The TUI's background work: each [`Job`] runs against one round (a fact cache and a
//! CEL environment) and answers with one [`Msg`]. The runner spawns these off the
//! render loop; tests await them directly.

use super::app::{Job, Msg};
use super::cluster_state::{self, Inputs};
use crate::drive::Round;
use crate::facts::{FactCache, FactLookup, FactQuery, FactResult};
use crate::runbook::Catalog;
use crate::runbook::cel::Environment;
use crate::runbook::record::WalkRecord;
use crate::source::Source;
use crate::triage;
use chrono::{DateTime, Utc};
use serde_json::Value;
use std::collections::BTreeSet;
use std::sync::Arc;

/// One round: every job in it shares answers; `r` starts a new one.
pub struct RoundState {
    pub cache: FactCache,
    pub env: Environment,
    /// "Now" of the round: ages in this round are judged as of it.
    pub now: DateTime<Utc>,
}

impl RoundState {
    pub fn new(source: &dyn Source, now: DateTime<Utc>) -> RoundState {
        RoundState {
            cache: FactCache::new(),
            env: Environment::new(now)
                .with_cluster(source.info().cluster.as_ref().map(|c| c.name.clone())),
            now,
        }
    }
}

pub struct Context {
    pub source: Arc<dyn Source>,
    pub catalog: Arc<Catalog>,
    /// Offline, triage's round also answers the state panel; live, watches do.
    pub state_from_round: bool,
}

pub async fn execute(job: Job, ctx: &Context, round: &RoundState) -> Msg {
    let r = Round::new(&ctx.catalog, &*ctx.source, &round.cache, &round.env);
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
    let queries = cluster_state::queries();
    r.cache
        .fetch_all(r.source, queries.iter().map(|(_, q)| q.clone()).collect())
        .await;
    let mut inputs = Inputs::default();
    for (kind, q) in queries {
        let listed = match r.cache.lookup(&q) {
            Some(Ok(v)) => match &*v {
                Value::Array(items) => Ok(items.clone()),
                _ => Ok(Vec::new()),
            },
            Some(Err(e)) => Err(e.to_string()),
            None => Err("not answered".into()),
        };
        if let Some(slot) = inputs.slot(&kind) {
            *slot = Some(listed);
        }
    }
    cluster_state::summarize(&inputs, now)
}
