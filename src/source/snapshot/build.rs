//! Phase two of opening a snapshot: give every parsed file its meaning from where it sits
//! (layout.rs), and fill the object store, the logs and the AWS responses, recording as
//! problems whatever could not be used.

use super::aws::AwsStore;
use super::document::Doc;
use super::files::{common_root, problem};
use super::layout::{self, Flavours, Origin, Role};
use super::logs::{LogEntry, LogKey, LogStore, split_dump_logs};
use super::pipeline::{Content, FileData};
use super::store::{EventFields, Identity, Store, StoreBuilder, Stored};
use super::transcode::{Head, Item, Shape, write_json_string};
use crate::facts::GroupKind;
use crate::facts::Problem;
use crate::facts::kinds;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;

/// `snapshot.yaml`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Manifest {
    pub kind: Option<String>,
    pub captured_at: Option<String>,
    pub context: Option<String>,
    pub cluster: Option<ManifestCluster>,
    pub source: Option<String>,
    /// Where kinds were captured, for snapshots that hold part of a cluster (evidence
    /// bundles): `Kind` or `Kind.group` → namespaces, `"*"` for every namespace. A kind
    /// listed here is captured exactly there, so "none in namespace x" is only an
    /// answer where someone looked; kinds not listed follow the usual rule.
    #[serde(default)]
    pub captured: std::collections::BTreeMap<String, Vec<String>>,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct ManifestCluster {
    pub name: String,
    pub region: Option<String>,
}

pub(crate) struct Built {
    pub store: Store,
    pub logs: LogStore,
    pub aws: AwsStore,
    pub manifest: Manifest,
    pub captured_at: Option<DateTime<Utc>>,
    pub flavours: Flavours,
    /// The newest timestamp seen in objects, events, logs and CloudWatch events.
    pub newest: Option<DateTime<Utc>>,
    pub problems: Vec<Problem>,
}

/// `None` when nothing in the files belongs to any known layout.
pub(crate) fn build(files: Vec<FileData>, problems: Vec<Problem>) -> Option<Built> {
    let paths: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
    let root = common_root(&paths);
    let relative: Vec<&str> = paths.iter().map(|p| &p[root.len()..]).collect();
    let flavours = layout::detect(&relative);
    if !flavours.any() {
        return None;
    }
    let present: std::collections::HashSet<&str> = relative.iter().copied().collect();
    let roles: Vec<Role> = relative
        .iter()
        .map(|p| match layout::json_twin(p) {
            Some(twin) if present.contains(twin.as_str()) => Role::Ignored,
            _ => layout::role(p, flavours),
        })
        .collect();
    let mut b = Builder {
        store: StoreBuilder::default(),
        identities: HashMap::new(),
        logs: LogStore::default(),
        aws: AwsStore::default(),
        manifest: None,
        newest: None,
        problems,
    };
    for (file, role) in files.into_iter().zip(roles) {
        b.file(file, role);
    }
    b.aws.finish();
    let manifest = b.manifest.take().unwrap_or_default();
    for (kind, namespaces) in &manifest.captured {
        let gk = match kind.split_once('.') {
            Some((k, group)) => GroupKind::new(group, k),
            None => GroupKind::new("", kind.as_str()),
        };
        b.store.set_captured(&gk, namespaces);
    }
    let mut problems = b.problems;
    let store = b.store.finish(&mut problems);
    let captured_at = manifest.captured_at.as_deref().and_then(|t| match parse_time(t) {
        Some(t) => Some(t),
        None => {
            problems.push(problem(
                &format!("{root}snapshot.yaml"),
                &format!("capturedAt `{t}` is not an RFC 3339 time; using the newest time in the snapshot instead"),
            ));
            None
        }
    });
    let problems = limit_per_file(problems, MAX_PROBLEMS_PER_FILE);
    let newest = [
        b.newest,
        b.logs.newest_timestamp(),
        b.aws
            .newest_event_ms()
            .and_then(DateTime::from_timestamp_millis),
    ]
    .into_iter()
    .flatten()
    .max();
    Some(Built {
        store,
        logs: b.logs,
        aws: b.aws,
        manifest,
        captured_at,
        flavours,
        newest,
        problems,
    })
}

/// A file of 30,000 kind-less items should not drown every other problem.
const MAX_PROBLEMS_PER_FILE: usize = 20;

/// Groups problems by file (in reading order within a file) and summarises the excess.
fn limit_per_file(mut problems: Vec<Problem>, max: usize) -> Vec<Problem> {
    problems.sort_by(|a, b| a.file.cmp(&b.file));
    let mut kept: Vec<Problem> = Vec::with_capacity(problems.len().min(1024));
    let mut run = 0;
    let mut dropped = 0;
    for p in problems {
        let same_file = kept.last().is_some_and(|last| last.file == p.file);
        if !same_file {
            summarise(&mut kept, dropped);
            run = 0;
            dropped = 0;
        }
        run += 1;
        if run <= max {
            kept.push(p);
        } else {
            dropped += 1;
        }
    }
    summarise(&mut kept, dropped);
    kept
}

fn summarise(kept: &mut Vec<Problem>, dropped: usize) {
    if dropped > 0
        && let Some(file) = kept.last().map(|p| p.file.clone())
    {
        kept.push(problem(
            &file,
            &format!("… and {dropped} more problems in this file"),
        ));
    }
}

fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

struct Builder {
    store: StoreBuilder,
    /// One shared copy of each identity that objects' texts lack.
    identities: HashMap<Identity, Arc<Identity>>,
    logs: LogStore,
    aws: AwsStore,
    manifest: Option<Manifest>,
    newest: Option<DateTime<Utc>>,
    problems: Vec<Problem>,
}

impl Builder {
    fn problem(&mut self, file: &str, message: impl AsRef<str>) {
        self.problems.push(problem(file, message.as_ref()));
    }

    fn file(&mut self, file: FileData, role: Role) {
        let FileData { path, content } = file;
        if let Role::Stray(why) = role {
            self.problem(&path, why);
            return;
        }
        if role == Role::Ignored {
            return;
        }
        match content {
            Content::Docs { docs, errors } => {
                for e in errors {
                    self.problems.push(Problem {
                        file: path.clone(),
                        line: e.line,
                        column: e.column,
                        message: format!("cannot parse: {}", e.message),
                    });
                }
                self.docs(&path, docs, role);
            }
            Content::Text(text) => self.text(&path, text, role),
            Content::Skipped => {}
        }
    }

    fn docs(&mut self, path: &str, docs: Vec<Doc>, role: Role) {
        match role {
            Role::Manifest => match docs.into_iter().next() {
                Some(Doc::Object(item)) => match serde_json::from_str::<Manifest>(&item.json) {
                    Ok(m) => {
                        if m.kind.as_deref().is_some_and(|k| k != "ktriage-snapshot") {
                            self.problem(path, "kind should be `ktriage-snapshot`; read anyway");
                        }
                        self.manifest = Some(m);
                    }
                    Err(e) => self.problem(path, format!("not a snapshot description: {e}")),
                },
                _ => self.problem(path, "not a snapshot description (expected a YAML mapping)"),
            },
            Role::Objects(origin) => self.objects(path, docs, &origin),
            Role::Aws => {
                for doc in docs {
                    let result = match doc {
                        Doc::Object(item) => self.aws.add(&item.json, path),
                        _ => {
                            self.aws.present = true;
                            Err("not an AWS CLI response (expected a JSON object)".to_string())
                        }
                    };
                    if let Err(e) = result {
                        self.problem(path, e);
                    }
                }
            }
            Role::BundleErrors { resource, name } => {
                for doc in docs {
                    match doc {
                        Doc::Object(item) => self.bundle_errors(path, &item.json, resource, &name),
                        Doc::Array(items) => {
                            for item in items {
                                let message = serde_json::from_str::<Value>(&item.json)
                                    .ok()
                                    .and_then(|v| v.as_str().map(str::to_string))
                                    .unwrap_or_else(|| item.json.to_string());
                                self.not_collected(path, resource, &name, None, &message);
                            }
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }

    fn bundle_errors(
        &mut self,
        path: &str,
        json: &str,
        resource: Option<&'static kinds::KnownResource>,
        name: &str,
    ) {
        if let Ok(Value::Object(map)) = serde_json::from_str::<Value>(json) {
            for (namespace, message) in map {
                let message = message
                    .as_str()
                    .map_or_else(|| message.to_string(), str::to_string);
                let namespace = (!namespace.is_empty()).then_some(namespace);
                self.not_collected(path, resource, name, namespace.as_deref(), &message);
            }
        }
    }

    fn not_collected(
        &mut self,
        path: &str,
        resource: Option<&'static kinds::KnownResource>,
        name: &str,
        namespace: Option<&str>,
        message: &str,
    ) {
        if let Some(r) = resource {
            self.store
                .not_collected(&r.group_kind(), namespace, message);
        }
        let place = namespace
            .map(|ns| format!(" in namespace {ns}"))
            .unwrap_or_default();
        self.problem(
            path,
            format!("the support bundle could not collect {name}{place}: {message}"),
        );
    }

    fn text(&mut self, path: &str, text: Box<str>, role: Role) {
        match role {
            Role::Log {
                namespace,
                pod,
                container,
                previous,
            } => {
                let key = LogKey {
                    namespace,
                    pod,
                    container,
                    previous,
                };
                self.log(path, key, LogEntry::Text(text));
            }
            Role::LogError {
                namespace,
                pod,
                container,
            } => {
                let key = LogKey {
                    namespace,
                    pod,
                    container,
                    previous: false,
                };
                self.log(path, key, LogEntry::Failed(text.trim().into()));
            }
            Role::DumpLogs { namespace, pod } => {
                let sections = split_dump_logs(&text);
                if sections.is_empty() && !text.trim().is_empty() {
                    self.problem(
                        path,
                        "no `==== START logs for container … ====` sections; ignored",
                    );
                }
                for s in sections {
                    if (s.namespace, s.pod) != (namespace.as_str(), pod.as_str()) {
                        self.problem(
                            path,
                            format!(
                                "holds logs of pod {}/{}, expected {namespace}/{pod}",
                                s.namespace, s.pod
                            ),
                        );
                    }
                    let key = LogKey {
                        namespace: s.namespace.to_string(),
                        pod: s.pod.to_string(),
                        container: s.container.to_string(),
                        previous: false,
                    };
                    let entry = match s.entry {
                        Ok(log) => LogEntry::Text(log.into()),
                        Err(message) => LogEntry::Failed(message.into()),
                    };
                    self.log(path, key, entry);
                }
            }
            _ => {}
        }
    }

    fn log(&mut self, path: &str, key: LogKey, entry: LogEntry) {
        if let Err(first) = self.logs.insert(key.clone(), entry, path) {
            let which = if key.previous { "previous log" } else { "log" };
            self.problem(
                path,
                format!(
                    "duplicate {which} of container {} of pod {}/{}: already read from {first}; this copy is ignored",
                    key.container, key.namespace, key.pod
                ),
            );
        }
    }

    fn objects(&mut self, path: &str, docs: Vec<Doc>, origin: &Origin) {
        let file = self.store.file_id(path);
        // Files of a dump or bundle are whole collections in one namespace (or the
        // cluster). A native file proves a kind only where it holds some: a pasted Pod
        // of `shop` says nothing of kube-system's pods, so those stay unknown rather
        // than absent; one StorageClass proves the cluster's StorageClasses were read.
        // A list whose items of a kind span namespaces is `kubectl get -A` (with `-n`
        // kubectl returns one namespace only): it proves that kind everywhere.
        let scope = if origin.collection {
            origin.namespace.as_deref()
        } else {
            None
        };
        if origin.collection
            && let Some(r) = origin.resource
        {
            self.store
                .capture(&r.group_kind(), scope.filter(|_| r.namespaced));
        }
        let many = docs.len() > 1;
        for (d, doc) in docs.into_iter().enumerate() {
            let at = |item: Option<usize>| {
                let mut s = String::new();
                if many {
                    s.push_str(&format!("document {}", d + 1));
                }
                if let Some(i) = item {
                    s.push_str(&format!("{}item {}", if many { ", " } else { "" }, i + 1));
                }
                if !s.is_empty() {
                    s.push_str(": ");
                }
                s
            };
            let ctx = ObjectContext {
                path,
                file,
                origin,
                scope,
            };
            match doc {
                Doc::Object(item) => {
                    self.object(&ctx, *item, None, at(None));
                }
                Doc::List {
                    api_version,
                    kind,
                    items,
                } => {
                    // `PodList` items may lack kind and apiVersion: they are the list's.
                    let typed = (&*kind != "List")
                        .then(|| (api_version.as_deref(), &kind[..kind.len() - 4]));
                    // An empty typed list names its kind but no namespace: it proves a
                    // collection's namespace, or a cluster-scoped kind anywhere.
                    if let (Some((Some(av), item_kind)), true) = (typed, items.is_empty()) {
                        let gk = GroupKind::from_api_version(av, item_kind);
                        if kinds::is_cluster_scoped(&gk) {
                            self.store.capture(&gk, None);
                        } else if origin.collection {
                            self.store.capture(&gk, scope);
                        }
                    }
                    let mut seen: HashMap<GroupKind, Option<Box<str>>> = HashMap::new();
                    let mut across: Vec<GroupKind> = Vec::new();
                    for (i, item) in items.into_iter().enumerate() {
                        let Some((gk, ns)) = self.object(&ctx, item, typed, at(Some(i))) else {
                            continue;
                        };
                        match seen.get(&gk) {
                            None => {
                                seen.insert(gk, ns);
                            }
                            Some(first) if *first != ns && !across.contains(&gk) => {
                                across.push(gk);
                            }
                            Some(_) => {}
                        }
                    }
                    if !origin.collection {
                        for gk in &across {
                            self.store.capture(gk, None);
                        }
                    }
                }
                Doc::Array(items) => {
                    for (i, item) in items.into_iter().enumerate() {
                        self.object(&ctx, item, None, at(Some(i)));
                    }
                }
                Doc::Scalar => self.problem(path, format!("{}not a Kubernetes object", at(None))),
            }
        }
    }

    fn object(
        &mut self,
        ctx: &ObjectContext,
        item: Item,
        list: Option<(Option<&str>, &str)>,
        at: String,
    ) -> Option<(GroupKind, Option<Box<str>>)> {
        match identify(item, list, ctx.origin) {
            Ok(Identified {
                gk,
                mut object,
                newest,
                observed,
                missing,
            }) => {
                if missing != Identity::default() {
                    let shared = self.identities.entry(missing).or_insert_with_key(|m| {
                        Arc::new(Identity {
                            api_version: m.api_version.clone(),
                            kind: m.kind.clone(),
                        })
                    });
                    object.identity = Some(Arc::clone(shared));
                }
                self.newest = self.newest.max(newest).max(observed);
                object.file = ctx.file;
                let in_ns = if kinds::is_cluster_scoped(&gk) {
                    None
                } else if ctx.origin.collection {
                    ctx.scope
                } else {
                    object.namespace.as_deref()
                };
                self.store.capture(&gk, in_ns);
                let read = (gk.clone(), object.namespace.clone());
                self.store.add(gk, object);
                Some(read)
            }
            Err(why) => {
                self.problem(ctx.path, format!("{at}{why}"));
                None
            }
        }
    }
}

struct ObjectContext<'a> {
    path: &'a str,
    file: u32,
    origin: &'a Origin,
    scope: Option<&'a str>,
}

struct Identified {
    gk: GroupKind,
    object: Stored,
    /// The newest of its creation and event times.
    newest: Option<DateTime<Utc>>,
    /// The newest time its status observed (container states, conditions, heartbeats).
    observed: Option<DateTime<Utc>>,
    /// What its text lacks of its identity.
    missing: Identity,
}

/// An item's identity, completed from its list or file where it names none, and the
/// object as stored.
fn identify(
    item: Item,
    list: Option<(Option<&str>, &str)>,
    origin: &Origin,
) -> Result<Identified, String> {
    if !item.shape.is_object {
        return Err("not a Kubernetes object".to_string());
    }
    let Item { json, head, shape } = item;
    let inject_kind = head.kind.is_none();
    let kind: Box<str> = match (&head.kind, list, origin.resource) {
        (Some(k), _, _) => k.clone(),
        (None, Some((_, k)), _) => k.into(),
        (None, None, Some(r)) => r.kind.into(),
        (None, None, None) => return Err("no kind".to_string()),
    };
    let inject_api_version = head.api_version.is_none();
    let api_version: String = match &head.api_version {
        Some(v) => v.to_string(),
        None => {
            let from_list = list
                .filter(|(_, k)| *k == &*kind)
                .and_then(|(av, _)| av)
                .map(str::to_string);
            let from_origin = origin
                .resource
                .filter(|r| r.kind == &*kind)
                .map(|r| r.api_version());
            let from_known = kinds::by_kind(&kind).map(|r| r.api_version());
            from_list
                .or(from_origin)
                .or(from_known)
                .ok_or_else(|| format!("{kind} has no apiVersion"))?
        }
    };
    let gk = GroupKind::from_api_version(&api_version, &kind);
    let name = head
        .name
        .clone()
        .filter(|n| !n.is_empty())
        .ok_or_else(|| format!("{kind} has no metadata.name"))?;
    let known_namespaced = kinds::by_group_kind(&gk).is_some_and(|r| r.namespaced);
    let given_namespace = head.namespace.clone().filter(|n| !n.is_empty());
    let (namespace, inject_namespace) = if kinds::is_cluster_scoped(&gk) {
        (None, false)
    } else if given_namespace.is_some() {
        (given_namespace, false)
    } else if known_namespaced || origin.collection {
        let ns = origin.namespace.as_deref().map(Box::<str>::from);
        let inject = ns.is_some();
        (ns, inject)
    } else {
        (None, false)
    };
    let json = match namespace.as_deref().filter(|_| inject_namespace) {
        Some(ns) => splice_namespace(json, shape, ns),
        None => json,
    };
    let missing = Identity {
        api_version: inject_api_version.then(|| api_version.as_str().into()),
        kind: inject_kind.then(|| kind.clone()),
    };
    let newest = newest_time(&head);
    let observed = head.observed.as_deref().and_then(parse_time);
    let object = stored(head, name, namespace, json, newest);
    Ok(Identified {
        gk,
        object,
        newest,
        observed,
        missing,
    })
}

/// Of `creationTimestamp` and the event times.
fn newest_time(head: &Head) -> Option<DateTime<Utc>> {
    head.event_times
        .iter()
        .chain(std::iter::once(&head.created))
        .flatten()
        .filter_map(|t| parse_time(t))
        .max()
}

fn stored(
    head: Head,
    name: Box<str>,
    namespace: Option<Box<str>>,
    json: Box<str>,
    newest: Option<DateTime<Utc>>,
) -> Stored {
    let has_event_fields = head.event_type.is_some()
        || head.reason.is_some()
        || head.involved.is_some()
        || head.regarding.is_some()
        || head.event_times.iter().any(Option::is_some);
    let event = has_event_fields.then(|| {
        Box::new(EventFields {
            event_type: head.event_type,
            reason: head.reason,
            involved: head.involved,
            regarding: head.regarding,
            last_seen: newest.map(|t| t.timestamp()),
        })
    });
    Stored {
        namespace,
        name,
        json,
        labels: head.labels.into_boxed_slice(),
        node_name: head.node_name,
        phase: head.phase,
        event,
        identity: None,
        file: 0,
    }
}

/// Writes a namespace the object lacks first into its `metadata`, where the API would
/// have it. Rare (hand-written objects), so a copy of the text is fine.
fn splice_namespace(json: Box<str>, shape: Shape, namespace: &str) -> Box<str> {
    let Some(at) = shape
        .metadata_at
        .filter(|at| (1..=json.len()).contains(at) && json.is_char_boundary(*at))
    else {
        return json;
    };
    let mut out = String::with_capacity(json.len() + namespace.len() + 16);
    out.push_str(&json[..at]);
    out.push_str("\"namespace\":");
    write_json_string(&mut out, namespace);
    if !shape.metadata_empty {
        out.push(',');
    }
    out.push_str(&json[at..]);
    out.into_boxed_str()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problems_are_grouped_by_file_and_capped() {
        let mut all: Vec<Problem> = (0..25)
            .map(|i| problem("b.yaml", &format!("p{i}")))
            .collect();
        all.push(problem("a.yaml", "only"));
        let kept = limit_per_file(all, 20);
        assert_eq!(kept.len(), 22);
        assert_eq!(kept[0].message, "only");
        assert_eq!(kept[21].message, "… and 5 more problems in this file");
        assert_eq!(kept[20].message, "p19");
    }

    #[test]
    fn splice_puts_the_namespace_first_in_metadata() {
        let shape = Shape {
            is_object: true,
            metadata_at: Some(13),
            metadata_empty: false,
        };
        let json: Box<str> = r#"{"metadata":{"name":"a"},"spec":{}}"#.into();
        assert_eq!(&json[13..], r#""name":"a"},"spec":{}}"#);
        let out = splice_namespace(json, shape, "shop");
        assert_eq!(
            &*out,
            r#"{"metadata":{"namespace":"shop","name":"a"},"spec":{}}"#
        );
    }
}
