//! What a bundle holds, and getting it: every fact the walks read, widened to whole
//! captures (a walk's `get` of one ConfigMap becomes every ConfigMap of its namespace,
//! so a reopened bundle answers "absent" only where someone looked), plus a baseline a
//! postmortem wants beside it. Bounded by log lines and bytes, total size and a deadline;
//! whatever was cut or failed is said, never dropped silently.

use crate::facts::Source;
use crate::facts::{EksQuery, FactCache, FactError, FactLookup, FactQuery, GroupKind};
use crate::runbook::Catalog;
use crate::runbook::record::WalkRecord;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

/// Limits of one collection.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Last lines kept of each container log.
    pub max_log_lines: u32,
    /// Bytes kept of each container log (its newest part).
    pub max_log_bytes: usize,
    /// Log lines older than this before "now" are left out (`--since`).
    pub since: Option<chrono::Duration>,
    /// Everything collected, before compression.
    pub max_total_bytes: usize,
    /// The whole collection; what is not answered by then is written as cut.
    pub deadline: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_log_lines: 2000,
            max_log_bytes: 2 << 20,
            since: None,
            max_total_bytes: 512 << 20,
            deadline: Duration::from_secs(300),
        }
    }
}

/// A list captured whole: every object of a kind in a namespace, or everywhere.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Capture {
    pub kind: GroupKind,
    /// `None`: every namespace (and cluster-scoped kinds).
    pub namespace: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct LogRef {
    pub namespace: String,
    pub pod: String,
    pub container: String,
    pub previous: bool,
}

impl LogRef {
    /// The container log a `Logs` query reads.
    fn of(q: &FactQuery) -> Option<LogRef> {
        match q {
            FactQuery::Logs {
                namespace,
                pod,
                container,
                previous,
                ..
            } => Some(LogRef {
                namespace: namespace.clone(),
                pod: pod.clone(),
                container: container.clone(),
                previous: *previous,
            }),
            _ => None,
        }
    }
}

/// One thing that could not be collected whole, for `errors.json`.
#[derive(Clone, Debug, Serialize)]
pub struct CollectError {
    /// The command that shows the same thing by hand.
    pub what: String,
    /// `forbidden`, `unavailable`, `transient`, `cut` (a bound), `deadline`.
    pub kind: String,
    pub reason: String,
    pub hint: String,
    /// For an event list: its API group and namespace (the other API may have answered).
    #[serde(skip)]
    pub event_capture: Option<(String, Option<String>)>,
}

#[derive(Default)]
pub struct Collected {
    pub lists: BTreeMap<Capture, Vec<Value>>,
    pub logs: BTreeMap<LogRef, String>,
    pub eks: BTreeMap<EksQuery, Value>,
    /// CloudWatch events per log group, each once.
    pub log_events: BTreeMap<String, Vec<Value>>,
    pub errors: Vec<CollectError>,
}

/// What to look at beyond the walks.
#[derive(Clone, Debug, Default)]
pub struct Scope {
    /// Namespaces whose workloads and events are captured (the targets' and `--namespace`).
    pub namespaces: BTreeSet<String>,
}

/// Events come through two APIs; a source may hold either (the reader counts an event
/// seen through both once), so both are captured and either answering is enough.
const EVENT_GROUPS: &[&str] = &["", "events.k8s.io"];

/// Kinds a postmortem wants of every namespace in scope, and of kube-system. Never
/// Secrets: their values would have to be fetched to be dropped.
const NAMESPACE_BASELINE: &[(&str, &str)] = &[
    ("", "Pod"),
    ("", "Event"),
    ("events.k8s.io", "Event"),
    ("", "Service"),
    ("", "ConfigMap"),
    ("", "PersistentVolumeClaim"),
    ("apps", "Deployment"),
    ("apps", "ReplicaSet"),
    ("apps", "StatefulSet"),
    ("apps", "DaemonSet"),
];
const CLUSTER_BASELINE: &[(&str, &str)] = &[
    ("", "Node"),
    ("", "Namespace"),
    ("", "PersistentVolume"),
    ("storage.k8s.io", "StorageClass"),
    ("storage.k8s.io", "CSIDriver"),
];

/// The captures, logs and AWS calls that cover every walk and the baseline.
pub fn plan<'a>(
    walks: impl IntoIterator<Item = &'a WalkRecord>,
    catalog: &Catalog,
    scope: &Scope,
) -> (BTreeSet<Capture>, BTreeSet<LogRef>, Vec<FactQuery>) {
    let mut captures = BTreeSet::new();
    let mut logs = BTreeSet::new();
    let mut aws: Vec<FactQuery> = Vec::new();
    let mut namespaces = scope.namespaces.clone();
    namespaces.insert("kube-system".into());
    let mut widen = |q: &FactQuery,
                     captures: &mut BTreeSet<Capture>,
                     namespaces: &mut BTreeSet<String>| match q {
        FactQuery::Get {
            resource,
            namespace,
            ..
        }
        | FactQuery::List {
            resource,
            namespace,
            ..
        } => {
            let namespace = namespace
                .clone()
                .filter(|_| !crate::facts::kinds::is_cluster_scoped(resource));
            captures.insert(Capture {
                kind: resource.clone(),
                namespace,
            });
        }
        FactQuery::Events { object } => {
            let namespace = object.events_namespace().map(str::to_string);
            if let Some(ns) = &namespace {
                namespaces.insert(ns.clone());
            }
            for group in EVENT_GROUPS {
                captures.insert(Capture {
                    kind: GroupKind::new(*group, "Event"),
                    namespace: namespace.clone(),
                });
            }
        }
        FactQuery::Logs { .. } => logs.extend(LogRef::of(q)),
        FactQuery::Eks(_) | FactQuery::LogEvents(_) => aws.push(q.clone()),
    };
    for walk in walks {
        for fact in &walk.facts {
            for q in &fact.queries {
                widen(q, &mut captures, &mut namespaces);
            }
        }
        // The target is read before any fact, so it is not among them.
        if let (Some(reference), Some(rb)) = (&walk.target, catalog.get(&walk.runbook))
            && let Some(q) = rb.target.get_query(reference)
        {
            if let FactQuery::Get {
                namespace: Some(ns),
                ..
            } = &q
            {
                namespaces.insert(ns.clone());
            }
            widen(&q, &mut captures, &mut namespaces);
        }
    }
    for ns in &namespaces {
        for (group, kind) in NAMESPACE_BASELINE {
            captures.insert(Capture {
                kind: GroupKind::new(*group, *kind),
                namespace: Some(ns.clone()),
            });
        }
    }
    for (group, kind) in CLUSTER_BASELINE {
        captures.insert(Capture {
            kind: GroupKind::new(*group, *kind),
            namespace: None,
        });
    }
    // A capture everywhere covers the per-namespace ones of the same kind.
    let everywhere: BTreeSet<GroupKind> = captures
        .iter()
        .filter(|c| c.namespace.is_none())
        .map(|c| c.kind.clone())
        .collect();
    captures.retain(|c| c.namespace.is_none() || !everywhere.contains(&c.kind));
    for q in [
        EksQuery::DescribeCluster,
        EksQuery::ListNodegroups,
        EksQuery::ListAddons,
    ] {
        aws.push(FactQuery::Eks(q));
    }
    aws.sort();
    aws.dedup();
    (captures, logs, aws)
}

fn list_query(c: &Capture) -> FactQuery {
    FactQuery::List {
        resource: c.kind.clone(),
        namespace: c.namespace.clone(),
        label_selector: None,
        field_selector: None,
        fields: None,
    }
}

fn log_query(l: &LogRef) -> FactQuery {
    FactQuery::Logs {
        namespace: l.namespace.clone(),
        pod: l.pod.clone(),
        container: l.container.clone(),
        previous: l.previous,
        // Whole: the bounds are applied after, so what was cut can be said.
        tail_lines: None,
    }
}

/// Fetches the plan through `cache` (a walk's round already holds most of it), with the
/// limits. `progress` hears what is being collected.
pub async fn collect(
    source: &dyn Source,
    cache: &FactCache,
    plan: (BTreeSet<Capture>, BTreeSet<LogRef>, Vec<FactQuery>),
    limits: &Limits,
    now: DateTime<Utc>,
    progress: &(dyn Fn(String) + Send + Sync),
) -> Collected {
    let started = Instant::now();
    let (captures, logs, aws) = plan;
    let mut out = Collected::default();
    let cluster = source.info().cluster.as_ref().map(|c| c.name.clone());
    let command = |q: &FactQuery| q.command(cluster.as_deref());

    // Waves: the queries of one wave may depend on the answers of the one before
    // (describe every node group the list names).
    let mut waves: Vec<(String, Vec<FactQuery>)> = vec![
        (
            format!("{} object lists", captures.len()),
            captures.iter().map(list_query).collect(),
        ),
        (
            format!("{} container logs", logs.len()),
            logs.iter().map(log_query).collect(),
        ),
        (format!("{} AWS responses", aws.len()), aws.clone()),
    ];
    let mut total = 0usize;
    let mut wave = 0;
    while wave < waves.len() {
        let (label, queries) = waves[wave].clone();
        wave += 1;
        progress(format!("collecting {label}"));
        let left = limits.deadline.saturating_sub(started.elapsed());
        let fetched = tokio::time::timeout(left, cache.fetch_all(source, queries.clone())).await;
        for q in &queries {
            let answer = match cache.lookup(q) {
                Some(a) => a,
                None if fetched.is_err() => {
                    out.errors.push(CollectError {
                        what: command(q),
                        kind: "deadline".into(),
                        reason: format!(
                            "not answered within the collection deadline of {} s",
                            limits.deadline.as_secs()
                        ),
                        hint: "raise --deadline, or collect fewer namespaces".into(),
                        event_capture: None,
                    });
                    continue;
                }
                None => continue,
            };
            let value = match answer {
                Ok(v) => v,
                Err(e) => {
                    let mut error = failed(command(q), &e);
                    if let FactQuery::List {
                        resource,
                        namespace,
                        ..
                    } = q
                        && resource.kind == "Event"
                    {
                        error.event_capture = Some((resource.group.clone(), namespace.clone()));
                    }
                    out.errors.push(error);
                    continue;
                }
            };
            let size = approximate_size(&value);
            if total + size > limits.max_total_bytes {
                out.errors.push(CollectError {
                    what: command(q),
                    kind: "cut".into(),
                    reason: format!(
                        "left out: the bundle reached its size bound of {} MiB",
                        limits.max_total_bytes >> 20
                    ),
                    hint: "collect fewer namespaces or lower --max-log-lines".into(),
                    event_capture: None,
                });
                continue;
            }
            total += size;
            match q {
                FactQuery::List {
                    resource,
                    namespace,
                    ..
                } => {
                    let items = value.as_array().cloned().unwrap_or_default();
                    out.lists.insert(
                        Capture {
                            kind: resource.clone(),
                            namespace: namespace.clone(),
                        },
                        items,
                    );
                }
                FactQuery::Logs { .. } => {
                    let text = value.as_str().unwrap_or_default();
                    let (kept, cut) = bound_log(text, limits, now);
                    if let Some(cut) = cut {
                        out.errors.push(CollectError {
                            what: command(q),
                            kind: "cut".into(),
                            reason: cut,
                            hint: "raise --max-log-lines or --since to keep more".into(),
                            event_capture: None,
                        });
                    }
                    out.logs.extend(LogRef::of(q).map(|l| (l, kept)));
                }
                FactQuery::Eks(eq) => {
                    // Describe every node group and add-on a list names.
                    let names = |key: &str| -> Vec<String> {
                        value
                            .get(key)
                            .and_then(Value::as_array)
                            .into_iter()
                            .flatten()
                            .filter_map(|n| n.as_str().map(str::to_string))
                            .collect()
                    };
                    let more: Vec<FactQuery> = match eq {
                        EksQuery::ListNodegroups => names("nodegroups")
                            .into_iter()
                            .map(|name| FactQuery::Eks(EksQuery::DescribeNodegroup { name }))
                            .collect(),
                        EksQuery::ListAddons => names("addons")
                            .into_iter()
                            .map(|name| FactQuery::Eks(EksQuery::DescribeAddon { name }))
                            .collect(),
                        _ => Vec::new(),
                    };
                    if !more.is_empty() {
                        waves.push((format!("{} AWS descriptions", more.len()), more));
                    }
                    if !value.is_null() {
                        out.eks.insert(eq.clone(), (*value).clone());
                    }
                }
                FactQuery::LogEvents(lq) => {
                    let events = out.log_events.entry(lq.log_group.clone()).or_default();
                    for e in value.as_array().into_iter().flatten() {
                        if !events.contains(e) {
                            events.push(e.clone());
                        }
                    }
                }
                FactQuery::Get { .. } | FactQuery::Events { .. } => {}
            }
        }
    }
    let answered: BTreeSet<(String, Option<String>)> = out
        .lists
        .keys()
        .filter(|c| c.kind.kind == "Event")
        .map(|c| (c.kind.group.clone(), c.namespace.clone()))
        .collect();
    out.errors.retain(|e| {
        let Some((group, namespace)) = &e.event_capture else {
            return true;
        };
        let other = if group.is_empty() {
            "events.k8s.io"
        } else {
            ""
        };
        !answered.contains(&(other.to_string(), namespace.clone()))
    });
    for events in out.log_events.values_mut() {
        events.sort_by_key(|e| e.get("timestamp").and_then(Value::as_i64));
    }
    out
}

fn failed(what: String, e: &FactError) -> CollectError {
    let kind = match e {
        FactError::Forbidden { .. } => "forbidden",
        FactError::Unavailable { .. } => "unavailable",
        FactError::Transient { .. } => "transient",
    };
    CollectError {
        what,
        kind: kind.into(),
        reason: e.to_string(),
        hint: e.hint().to_string(),
        event_capture: None,
    }
}

fn approximate_size(v: &Value) -> usize {
    match v {
        Value::String(s) => s.len(),
        other => serde_json::to_vec(other).map_or(0, |b| b.len()),
    }
}

/// The newest part of a log within the bounds, and what was cut, if anything.
fn bound_log(text: &str, limits: &Limits, now: DateTime<Utc>) -> (String, Option<String>) {
    let lines: Vec<&str> = text.lines().collect();
    let oldest = limits.since.map(|s| now - s);
    let recent: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| match (oldest, line_time(l)) {
            (Some(oldest), Some(t)) => t >= oldest,
            _ => true,
        })
        .collect();
    let by_time = lines.len() - recent.len();
    let keep_from = recent.len().saturating_sub(limits.max_log_lines as usize);
    let mut kept: Vec<&str> = recent[keep_from..].to_vec();
    let mut bytes: usize = kept.iter().map(|l| l.len() + 1).sum();
    let mut by_bytes = 0;
    while bytes > limits.max_log_bytes && !kept.is_empty() {
        bytes -= kept[0].len() + 1;
        kept.remove(0);
        by_bytes += 1;
    }
    let mut why = Vec::new();
    if by_time > 0 {
        why.push(format!("{by_time} line(s) older than --since"));
    }
    if keep_from > 0 {
        why.push(format!(
            "{keep_from} older line(s) beyond --max-log-lines {}",
            limits.max_log_lines
        ));
    }
    if by_bytes > 0 {
        why.push(format!(
            "{by_bytes} older line(s) beyond {} KiB",
            limits.max_log_bytes >> 10
        ));
    }
    let mut out = kept.join("\n");
    if !out.is_empty() {
        out.push('\n');
    }
    let cut = (!why.is_empty()).then(|| {
        format!(
            "kept the newest {} of {} line(s); left out {}",
            kept.len(),
            lines.len(),
            why.join(", ")
        )
    });
    (out, cut)
}

fn line_time(line: &str) -> Option<DateTime<Utc>> {
    let stamp = line.split_once(' ')?.0;
    DateTime::parse_from_rfc3339(stamp)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logs_keep_their_newest_lines_and_say_what_was_cut() {
        let now: DateTime<Utc> = "2026-11-20T03:00:00Z".parse().unwrap();
        let text = "2026-11-20T00:00:00Z old\n2026-11-20T02:30:00Z a\n2026-11-20T02:40:00Z b\n2026-11-20T02:50:00Z c\n";
        let limits = Limits {
            max_log_lines: 2,
            since: Some(chrono::Duration::hours(1)),
            ..Limits::default()
        };
        let (kept, cut) = bound_log(text, &limits, now);
        assert_eq!(kept, "2026-11-20T02:40:00Z b\n2026-11-20T02:50:00Z c\n");
        let cut = cut.unwrap();
        assert!(cut.contains("kept the newest 2 of 4"), "{cut}");
        assert!(cut.contains("1 line(s) older than --since"), "{cut}");
        assert!(
            cut.contains("1 older line(s) beyond --max-log-lines 2"),
            "{cut}"
        );
        let (all, none) = bound_log(text, &Limits::default(), now);
        assert_eq!(all, text);
        assert!(none.is_none());
    }
}
