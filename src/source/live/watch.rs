//! Watches of whole kinds (the interface's state panel says which and what to keep), kept
//! current by kube-runtime's watcher (list, then watch, re-listing after an expired
//! resourceVersion, backing off on errors). Each object is cut down to the fields the
//! views read as it arrives, so thirty thousand pods cost megabytes, not gigabytes.
//! Every kind says how fresh it is; a failed watch keeps its last data and says so.

use super::LiveSource;
use super::resources::Resource;
use crate::facts::{FieldSet, GroupKind};
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use kube::api::{Api, ApiResource, DynamicObject};
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::{self, Event};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

/// One kind to watch, cluster-wide.
#[derive(Clone, Debug)]
pub struct WatchSpec {
    pub kind: GroupKind,
    /// Server-side field selector (`type=Warning` for events).
    pub field_selector: Option<String>,
    /// What to keep of each object.
    pub fields: FieldSet,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Freshness {
    /// The first list has not completed.
    Syncing,
    /// Complete and followed since `since`.
    Live { since: DateTime<Utc> },
    /// The watch failed at `at`; the objects are as of `last_live` (if ever).
    Stale {
        error: String,
        at: DateTime<Utc>,
        last_live: Option<DateTime<Utc>>,
    },
}

#[derive(Clone, Debug)]
pub struct Watched {
    /// `namespace/name` (or `name`) → the object, pruned.
    pub objects: BTreeMap<String, Value>,
    pub freshness: Freshness,
}

pub struct Watches {
    kinds: Arc<Mutex<BTreeMap<GroupKind, Watched>>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for Watches {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl Watches {
    /// A copy of what is known of one kind now (`None` if it is not watched).
    pub fn get(&self, kind: &GroupKind) -> Option<Watched> {
        self.kinds
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(kind)
            .cloned()
    }
}

impl LiveSource {
    /// Starts one watch per spec; they run until the returned value is dropped.
    pub async fn watch(&self, specs: Vec<WatchSpec>) -> Watches {
        let kinds = Arc::new(Mutex::new(BTreeMap::new()));
        let mut tasks = Vec::new();
        for spec in specs {
            // The entry exists before its task starts: the task stops when it is gone.
            let resolved = self.resolver.resolve(&self.api, &spec.kind).await;
            let freshness = match &resolved {
                Ok(_) => Freshness::Syncing,
                Err(e) => Freshness::Stale {
                    error: e.to_string(),
                    at: crate::clock::now(),
                    last_live: None,
                },
            };
            kinds.lock().unwrap_or_else(PoisonError::into_inner).insert(
                spec.kind.clone(),
                Watched {
                    objects: BTreeMap::new(),
                    freshness,
                },
            );
            if let Ok(resource) = resolved {
                let api_resource = ApiResource {
                    group: resource.group.clone(),
                    version: resource.version.clone(),
                    api_version: resource.api_version(),
                    kind: resource.kind.clone(),
                    plural: resource.plural.clone(),
                };
                let api: Api<DynamicObject> = Api::all_with(self.api.client.clone(), &api_resource);
                tasks.push(tokio::spawn(follow(
                    api,
                    spec.clone(),
                    resource,
                    kinds.clone(),
                )));
            }
        }
        Watches { kinds, tasks }
    }
}

async fn follow(
    api: Api<DynamicObject>,
    spec: WatchSpec,
    resource: Resource,
    kinds: Arc<Mutex<BTreeMap<GroupKind, Watched>>>,
) {
    let mut config = watcher::Config::default().page_size(super::PAGE_SIZE);
    if let Some(f) = &spec.field_selector {
        config = config.fields(f);
    }
    let mut stream = watcher::watcher(api, config).default_backoff().boxed();
    // A re-list replaces the objects at once when complete, so the panel never shows a
    // half-listed cluster.
    let mut relisting: Option<BTreeMap<String, Value>> = None;
    while let Some(item) = stream.next().await {
        let mut kinds = kinds.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(watched) = kinds.get_mut(&spec.kind) else {
            return;
        };
        let prune = |o: DynamicObject| -> Option<(String, Value)> {
            let mut value = serde_json::to_value(o).ok()?;
            super::as_stored(&mut value, &resource);
            let key = key_of(&value);
            Some((key, spec.fields.prune(value)))
        };
        match item {
            Ok(Event::Init) => relisting = Some(BTreeMap::new()),
            Ok(Event::InitApply(o)) => {
                if let (Some(buffer), Some((k, v))) = (relisting.as_mut(), prune(o)) {
                    buffer.insert(k, v);
                }
            }
            Ok(Event::InitDone) => {
                watched.objects = relisting.take().unwrap_or_default();
                watched.freshness = Freshness::Live {
                    since: crate::clock::now(),
                };
            }
            Ok(Event::Apply(o)) => {
                if let Some((k, v)) = prune(o) {
                    watched.objects.insert(k, v);
                }
            }
            Ok(Event::Delete(o)) => {
                if let Some((k, _)) = prune(o) {
                    watched.objects.remove(&k);
                }
            }
            Err(e) => {
                let last_live = match &watched.freshness {
                    Freshness::Live { since } => Some(*since),
                    Freshness::Stale { last_live, .. } => *last_live,
                    Freshness::Syncing => None,
                };
                tracing::warn!(kind = %spec.kind, error = %e, "watch failed; retrying with backoff");
                watched.freshness = Freshness::Stale {
                    error: super::connect::chain(&e),
                    at: crate::clock::now(),
                    last_live,
                };
            }
        }
    }
}

fn key_of(object: &Value) -> String {
    let meta = &object["metadata"];
    match (meta["namespace"].as_str(), meta["name"].as_str()) {
        (Some(ns), Some(name)) if !ns.is_empty() => format!("{ns}/{name}"),
        (_, Some(name)) => name.to_string(),
        _ => String::new(),
    }
}
