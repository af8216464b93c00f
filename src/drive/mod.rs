//! The one layer that talks to a source. It drives the pure engine: walk, fetch what it
//! asks for into the round's cache, walk again, until it is done; and on the same calls
//! it triages ([`triage`]), collects a bundle's evidence ([`collect`]) and runs runbook
//! tests ([`testing`]). The headless commands and the interface's jobs make the same
//! calls.

pub mod collect;
pub mod testing;
pub mod triage;

use crate::facts::Source;
use crate::facts::{FactCache, FactLookup, FactQuery};
use crate::runbook::Catalog;
use crate::runbook::Runbook;
use crate::runbook::cel::Environment;
use crate::runbook::engine::{self, Progress, Resolved, SymptomResult, WalkInput};
use crate::runbook::record::{Timing, WalkRecord};
use chrono::{DateTime, Utc};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Symptoms settle in a few waves; the bound keeps triage finite whatever a user
/// runbook does.
const MAX_ROUNDS: usize = 64;

/// What one round holds: the answers every walk in it shares, and its "now" (ages in
/// the round are judged as of it). A new round (`r` in the interface) starts empty.
pub struct RoundState {
    pub cache: FactCache,
    pub env: Environment,
    pub now: DateTime<Utc>,
}

impl RoundState {
    pub fn new(source: &dyn Source, now: DateTime<Utc>) -> RoundState {
        let cluster = source.info().cluster.as_ref().map(|c| c.name.clone());
        RoundState {
            cache: FactCache::new(),
            env: Environment::new(now).with_cluster(cluster),
            now,
        }
    }
}

/// A source and one round over it, as of the source's "now": what a headless command
/// holds.
pub struct Session<S: Source> {
    pub source: S,
    pub state: RoundState,
}

impl<S: Source> Session<S> {
    pub fn new(source: S) -> Self {
        let state = RoundState::new(&source, source.info().now);
        Session { source, state }
    }

    pub fn round<'a>(&'a self, catalog: &'a Catalog) -> Round<'a> {
        Round::new(catalog, &self.source, &self.state)
    }
}

/// A round at work: its state, the source that answers it, the runbooks it walks.
pub struct Round<'a> {
    pub catalog: &'a Catalog,
    pub source: &'a dyn Source,
    pub cache: &'a FactCache,
    pub env: &'a Environment,
}

impl<'a> Round<'a> {
    pub fn new(catalog: &'a Catalog, source: &'a dyn Source, state: &'a RoundState) -> Self {
        Round {
            catalog,
            source,
            cache: &state.cache,
            env: &state.env,
        }
    }

    /// Whole lists, fetched in one wave through the round's cache: each list's items,
    /// or why it is not known (the interface's state panel over a snapshot reads so).
    pub async fn lists(&self, queries: &[FactQuery]) -> Vec<Result<Vec<Value>, String>> {
        self.cache.fetch_all(self.source, queries.to_vec()).await;
        queries
            .iter()
            .map(|q| match self.cache.lookup(q) {
                Some(Ok(v)) => Ok(v.as_array().cloned().unwrap_or_default()),
                Some(Err(e)) => Err(e.to_string()),
                None => Err("not answered".into()),
            })
            .collect()
    }

    pub async fn walk(
        &self,
        runbook: &Runbook,
        target: Option<&str>,
        answers: &BTreeMap<String, String>,
    ) -> WalkRecord {
        let started = crate::clock::now();
        let sent_before = self.cache.sent().len();
        let mut rounds = 0;
        loop {
            // Built afresh each pass and dropped before any await, so the walk's future
            // can move between threads (the TUI runs walks off its render loop).
            let progress = engine::walk(&WalkInput {
                catalog: self.catalog,
                runbook,
                target,
                answers,
                env: self.env,
                facts: self.cache,
            });
            match progress {
                Progress::Done(mut record) => {
                    record.timing = Some(Timing {
                        started_at: started.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                        finished_at: crate::clock::now()
                            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                        rounds,
                        queries: self.cache.sent().len() - sent_before,
                    });
                    return record;
                }
                // Each round answers at least one new query and queries are finite, so
                // this ends.
                Progress::NeedFacts(queries) => {
                    rounds += 1;
                    self.cache.fetch_all(self.source, queries).await;
                }
            }
        }
    }

    /// Symptoms of one runbook over many targets, fetching in shared waves so that N
    /// targets needing the same fact cost one query.
    pub async fn symptoms(
        &self,
        runbook: &Runbook,
        targets: &[Arc<Value>],
    ) -> Vec<Option<SymptomResult>> {
        let mut results: Vec<Option<SymptomResult>> = vec![None; targets.len()];
        let mut open: Vec<usize> = (0..targets.len()).collect();
        let mut resolved: Vec<Resolved> = targets.iter().map(|_| Resolved::default()).collect();
        for _ in 0..MAX_ROUNDS {
            let mut wanted = Vec::new();
            open.retain(|&i| {
                match engine::symptom(
                    self.catalog,
                    runbook,
                    targets[i].clone(),
                    self.env,
                    self.cache,
                    &mut resolved[i],
                ) {
                    Progress::Done(r) => {
                        results[i] = Some(r);
                        false
                    }
                    Progress::NeedFacts(q) => {
                        wanted.extend(q);
                        true
                    }
                }
            });
            if open.is_empty() || wanted.is_empty() {
                break;
            }
            self.cache.fetch_all(self.source, wanted).await;
        }
        results
    }

    /// A target that does not exist is a usage error that lists the closest names. So is
    /// one that cannot be seen (a namespace the snapshot did not capture) when objects of
    /// close names can: `reports-archive` taken as `default/reports-archive` over a
    /// snapshot of `shop` is a slip, not a case to walk blind.
    pub async fn check_target(&self, runbook: &Runbook, target: &str) -> Result<(), String> {
        let (Some(get), Some(list)) = (
            runbook.target.get_query(target),
            runbook.target.list_query(None),
        ) else {
            return Ok(());
        };
        self.cache.fetch_all(self.source, vec![get.clone()]).await;
        let unseen = match self.cache.lookup(&get) {
            Some(Ok(v)) if !v.is_null() => return Ok(()),
            None => return Ok(()),
            Some(Err(e)) => Some(e.to_string()),
            Some(Ok(_)) => None,
        };
        self.cache.fetch_all(self.source, vec![list.clone()]).await;
        let names: Vec<String> = match self.cache.lookup(&list) {
            Some(Ok(v)) => runbook.target.references(&v),
            _ => Vec::new(),
        };
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let close = crate::suggest::close_names(target, &refs, 5);
        if let Some(reason) = unseen {
            // Unknown is not "missing": without a close name the walk reports why it could
            // not see the target.
            if close.is_empty() {
                return Ok(());
            }
            return Err(format!(
                "{} `{}` cannot be seen ({}); did you mean {}?",
                runbook.target.kind_name(),
                crate::text::sanitize_line(target),
                reason,
                close.join(", ")
            ));
        }
        let hint = if close.is_empty() {
            if names.is_empty() {
                format!("there are no {} objects", runbook.target.kind_name())
            } else {
                format!("{} exist, none close to that name", names.len())
            }
        } else {
            format!("did you mean {}?", close.join(", "))
        };
        Err(format!(
            "{} `{}` does not exist; {hint}",
            runbook.target.kind_name(),
            crate::text::sanitize_line(target)
        ))
    }
}
