//! One round's answers. Triage over every runbook, or one walk, shares a cache, so each
//! distinct query reaches the source once — never once per runbook or per step.

use super::{FactError, FactQuery};
use crate::facts::Source;
use futures_util::future::join_all;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

pub type FactResult = Result<Arc<Value>, FactError>;

/// What the engine may read: answers already fetched. Pure lookups, no I/O.
pub trait FactLookup {
    fn lookup(&self, query: &FactQuery) -> Option<FactResult>;
}

#[derive(Default)]
pub struct FactCache {
    entries: Mutex<HashMap<FactQuery, FactResult>>,
    /// Queries in the order they were sent, for evidence and request budgets.
    sent: Mutex<Vec<FactQuery>>,
}

impl FactCache {
    pub fn new() -> Self {
        FactCache::default()
    }

    /// Fetches every query not answered yet, concurrently; each at most once.
    pub async fn fetch_all(&self, source: &dyn Source, queries: Vec<FactQuery>) {
        let mut todo: Vec<FactQuery> = {
            let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
            queries
                .into_iter()
                .filter(|q| !entries.contains_key(q))
                .collect()
        };
        todo.sort();
        todo.dedup();
        if todo.is_empty() {
            return;
        }
        self.sent
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend(todo.iter().cloned());
        for q in &todo {
            tracing::debug!(query = %q, "fetch");
        }
        let answers = join_all(todo.iter().map(|q| source.fetch(q))).await;
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        for (q, a) in todo.into_iter().zip(answers) {
            entries.insert(q, a.map(Arc::new));
        }
    }

    /// Sends one query whose answer only the caller needs (triage's pruned scan of every
    /// object of a kind): logged like the others, handed over instead of kept, so the
    /// round does not hold a second copy of every object.
    pub async fn fetch_once(
        &self,
        source: &dyn Source,
        query: &FactQuery,
    ) -> Result<serde_json::Value, super::FactError> {
        self.sent
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(query.clone());
        tracing::debug!(query = %query, "fetch (not kept)");
        source.fetch(query).await
    }

    /// Every query sent to the source this round, in order.
    pub fn sent(&self) -> Vec<FactQuery> {
        self.sent
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Every answer, for writing evidence.
    pub fn answers(&self) -> Vec<(FactQuery, FactResult)> {
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        let mut out: Vec<(FactQuery, FactResult)> = entries
            .iter()
            .map(|(q, a)| (q.clone(), a.clone()))
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }
}

impl FactLookup for FactCache {
    fn lookup(&self, query: &FactQuery) -> Option<FactResult> {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(query)
            .cloned()
    }
}
