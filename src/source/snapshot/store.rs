//! The objects of a snapshot, compact, indexed by group-kind then (namespace, name),
//! and what the snapshot says was captured, so that an absent object is told apart
//! from an object nobody looked for.

use super::files::problem;
use super::transcode::{RefHead, write_json_string};
use crate::facts::Problem;
use crate::facts::kinds;
use crate::facts::{FactError, GroupKind, ObjectRef};
use crate::source::selector::{FieldSelector, LabelSelector, field_value};
use serde_json::Value;
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, OnceLock};

/// One object: its minified JSON and the fields queries filter on.
#[derive(Debug)]
pub(crate) struct Stored {
    pub namespace: Option<Box<str>>,
    pub name: Box<str>,
    /// The object as read, less `managedFields`; see `identity` for what it may lack.
    pub json: Box<str>,
    /// `apiVersion` and `kind` the text lacks (items of typed lists and of support
    /// bundles), shared by all objects of a list rather than written into each text:
    /// rewriting 30,000 texts would cost a copy of each, and the memory of both.
    pub identity: Option<Arc<Identity>>,
    pub labels: Box<[(Box<str>, Box<str>)]>,
    pub node_name: Option<Box<str>>,
    pub phase: Option<Box<str>>,
    /// Only objects with event fields pay for them.
    pub event: Option<Box<EventFields>>,
    pub file: u32,
}

#[derive(Debug, Default)]
pub(crate) struct EventFields {
    pub event_type: Option<Box<str>>,
    pub reason: Option<Box<str>>,
    pub involved: Option<RefHead>,
    pub regarding: Option<RefHead>,
    /// The newest of the event's times, in seconds since the epoch.
    pub last_seen: Option<i64>,
}

#[derive(Debug, Default, PartialEq, Eq, Hash)]
pub(crate) struct Identity {
    pub api_version: Option<Box<str>>,
    pub kind: Option<Box<str>>,
}

impl Identity {
    fn fields(&self) -> impl Iterator<Item = (&'static str, &str)> {
        [("apiVersion", &self.api_version), ("kind", &self.kind)]
            .into_iter()
            .filter_map(|(key, value)| value.as_deref().map(|v| (key, v)))
    }

    /// The object's text with these fields first, where the API puts them.
    fn complete(&self, json: &str) -> String {
        let mut out = String::with_capacity(json.len() + 64);
        out.push('{');
        for (i, (key, value)) in self.fields().enumerate() {
            if i > 0 {
                out.push(',');
            }
            write_json_string(&mut out, key);
            out.push(':');
            write_json_string(&mut out, value);
        }
        let rest = json.get(1..).unwrap_or("}");
        if rest != "}" {
            out.push(',');
        }
        out.push_str(rest);
        out
    }
}

impl Stored {
    fn key(&self) -> (Option<&str>, &str) {
        (self.namespace.as_deref(), &self.name)
    }

    fn label(&self, key: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|(k, _)| &**k == key)
            .map(|(_, v)| &**v)
    }

    /// A field the store keeps, as a field selector reads it (`None`: not kept).
    fn indexed_field(&self, path: &str) -> Option<Option<&str>> {
        let event = self.event.as_deref();
        Some(match path {
            "metadata.name" => Some(&*self.name),
            "metadata.namespace" => self.namespace.as_deref(),
            "spec.nodeName" => self.node_name.as_deref(),
            "status.phase" => self.phase.as_deref(),
            "type" => event.and_then(|e| e.event_type.as_deref()),
            "reason" => event.and_then(|e| e.reason.as_deref()),
            _ => {
                let (root, field) = path.split_once('.')?;
                if !matches!(field, "kind" | "namespace" | "name" | "uid") {
                    return None;
                }
                let reference = match root {
                    "involvedObject" => event.and_then(|e| e.involved.as_ref()),
                    "regarding" => event.and_then(|e| e.regarding.as_ref()),
                    _ => return None,
                };
                reference.and_then(|r| match field {
                    "kind" => r.kind.as_deref(),
                    "namespace" => r.namespace.as_deref(),
                    "name" => r.name.as_deref(),
                    _ => r.uid.as_deref(),
                })
            }
        })
    }

    /// The object's JSON text, complete.
    pub(crate) fn text(&self) -> Cow<'_, str> {
        match &self.identity {
            None => Cow::Borrowed(&self.json),
            Some(identity) => Cow::Owned(identity.complete(&self.json)),
        }
    }

    pub(crate) fn to_value(&self) -> Result<Value, FactError> {
        let mut value: Value = serde_json::from_str(&self.json).map_err(|e| {
            FactError::unavailable(
                format!("object {} could not be re-read: {e}", self.name),
                "report this as a ktriage bug, with the snapshot file that holds the object",
            )
        })?;
        if let (Some(identity), Value::Object(map)) = (&self.identity, &mut value) {
            for (key, v) in identity.fields() {
                map.insert(key.to_string(), Value::String(v.to_string()));
            }
        }
        Ok(value)
    }
}

/// Where a kind was captured.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Scope {
    Everywhere,
    Namespaces(BTreeSet<String>),
}

impl Scope {
    fn covers(&self, namespace: Option<&str>) -> bool {
        match (self, namespace) {
            (Scope::Everywhere, _) => true,
            // A cluster-wide question over a partial capture gets the part there is.
            (Scope::Namespaces(_), None) => true,
            (Scope::Namespaces(set), Some(ns)) => set.contains(ns),
        }
    }
}

#[derive(Debug, Default)]
pub(crate) struct StoreBuilder {
    tables: BTreeMap<GroupKind, Vec<Stored>>,
    captured: BTreeMap<GroupKind, Scope>,
    not_collected: BTreeMap<GroupKind, Vec<(Option<String>, String)>>,
    files: Vec<String>,
}

impl StoreBuilder {
    pub(crate) fn file_id(&mut self, file: &str) -> u32 {
        if self.files.last().map(String::as_str) != Some(file) {
            self.files.push(file.to_string());
        }
        u32::try_from(self.files.len() - 1).unwrap_or(u32::MAX)
    }

    /// Records that `gk` was captured in `namespace` (`None`: everywhere).
    pub(crate) fn capture(&mut self, gk: &GroupKind, namespace: Option<&str>) {
        let scope = self
            .captured
            .entry(gk.clone())
            .or_insert_with(|| Scope::Namespaces(BTreeSet::new()));
        match (scope, namespace) {
            (Scope::Everywhere, _) => {}
            (scope, None) => *scope = Scope::Everywhere,
            (Scope::Namespaces(set), Some(ns)) => {
                set.insert(ns.to_string());
            }
        }
    }

    /// Replaces where `gk` was captured: these namespaces, or everywhere for `*`.
    pub(crate) fn set_captured(&mut self, gk: &GroupKind, namespaces: &[String]) {
        let scope = if namespaces.iter().any(|n| n == "*") {
            Scope::Everywhere
        } else {
            Scope::Namespaces(namespaces.iter().cloned().collect())
        };
        self.captured.insert(gk.clone(), scope);
    }

    /// A collector's own report that it could not collect `gk` (in `namespace`).
    pub(crate) fn not_collected(&mut self, gk: &GroupKind, namespace: Option<&str>, message: &str) {
        self.not_collected
            .entry(gk.clone())
            .or_default()
            .push((namespace.map(str::to_string), message.to_string()));
    }

    pub(crate) fn add(&mut self, gk: GroupKind, object: Stored) {
        self.tables.entry(gk).or_default().push(object);
    }

    /// Sorts each kind by (namespace, name) and drops duplicates, keeping the first read.
    pub(crate) fn finish(mut self, problems: &mut Vec<Problem>) -> Store {
        for (gk, table) in &mut self.tables {
            // Stable: among equal identities the first read stays first.
            table.sort_by(|a, b| a.key().cmp(&b.key()).then(a.file.cmp(&b.file)));
            let mut kept: Vec<Stored> = Vec::with_capacity(table.len());
            for object in table.drain(..) {
                match kept.last() {
                    Some(first) if first.key() == object.key() => {
                        let file =
                            |id: u32| self.files.get(id as usize).map_or("?", String::as_str);
                        problems.push(problem(
                            file(object.file),
                            &format!(
                                "duplicate {} {}: already read from {}; this copy is ignored",
                                kind_name(gk),
                                display_name(object.namespace.as_deref(), &object.name),
                                file(first.file)
                            ),
                        ));
                    }
                    _ => kept.push(object),
                }
            }
            kept.shrink_to_fit();
            *table = kept;
        }
        Store {
            tables: self.tables,
            captured: self.captured,
            not_collected: self.not_collected,
            event_index: OnceLock::new(),
        }
    }
}

/// (kind, name) → the events about it, as (is `events.k8s.io`, index in its table).
type EventIndex = HashMap<(Box<str>, Box<str>), Vec<(bool, usize)>>;

#[derive(Debug)]
pub(crate) struct Store {
    tables: BTreeMap<GroupKind, Vec<Stored>>,
    captured: BTreeMap<GroupKind, Scope>,
    not_collected: BTreeMap<GroupKind, Vec<(Option<String>, String)>>,
    /// Built on the first events query.
    event_index: OnceLock<EventIndex>,
}

fn core_event() -> GroupKind {
    GroupKind::new("", "Event")
}

fn new_event() -> GroupKind {
    GroupKind::new("events.k8s.io", "Event")
}

impl Store {
    pub(crate) fn captured_kinds(&self) -> impl Iterator<Item = &GroupKind> {
        self.captured.keys()
    }

    fn scope_namespace<'a>(gk: &GroupKind, namespace: Option<&'a str>) -> Option<&'a str> {
        if kinds::is_cluster_scoped(gk) {
            None
        } else {
            namespace
        }
    }

    fn check_captured(&self, gk: &GroupKind, namespace: Option<&str>) -> Result<(), FactError> {
        let scope = self.captured.get(gk);
        if scope.is_some_and(|s| s.covers(namespace)) {
            return Ok(());
        }
        let why = self
            .not_collected
            .get(gk)
            .and_then(|errors| {
                errors
                    .iter()
                    .find(|(ns, _)| ns.is_none() || ns.as_deref() == namespace)
            })
            .map(|(_, message)| format!(" (the collector could not collect them: {message})"))
            .unwrap_or_default();
        let reason = match (scope, namespace) {
            (Some(Scope::Namespaces(set)), Some(ns)) => format!(
                "no {} objects of namespace {ns} in this snapshot (captured only in {}){why}",
                kind_name(gk),
                set.iter().cloned().collect::<Vec<_>>().join(", ")
            ),
            _ => format!("no {} objects in this snapshot{why}", kind_name(gk)),
        };
        Err(FactError::unavailable(reason, capture_hint(gk, namespace)))
    }

    pub(crate) fn get(
        &self,
        gk: &GroupKind,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<Option<&Stored>, FactError> {
        let namespace = Self::scope_namespace(gk, namespace);
        self.check_captured(gk, namespace)?;
        let Some(table) = self.tables.get(gk) else {
            return Ok(None);
        };
        Ok(table
            .binary_search_by(|o| o.key().cmp(&(namespace, name)))
            .ok()
            .and_then(|i| table.get(i)))
    }

    pub(crate) fn list(
        &self,
        gk: &GroupKind,
        namespace: Option<&str>,
        labels: Option<&str>,
        fields: Option<&str>,
    ) -> Result<Vec<&Stored>, FactError> {
        let bad = |what: &str, text: &str, e: String| {
            FactError::unavailable(
                format!("invalid {what} selector `{text}`: {e}"),
                "fix the selector: it follows the Kubernetes API syntax",
            )
        };
        let labels = match labels {
            Some(text) => LabelSelector::parse(text).map_err(|e| bad("label", text, e))?,
            None => LabelSelector::default(),
        };
        let fields = match fields {
            Some(text) => FieldSelector::parse(text).map_err(|e| bad("field", text, e))?,
            None => FieldSelector::default(),
        };
        let namespace = Self::scope_namespace(gk, namespace);
        self.check_captured(gk, namespace)?;
        let Some(table) = self.tables.get(gk) else {
            return Ok(Vec::new());
        };
        let range = match namespace {
            None => table.as_slice(),
            Some(ns) => {
                let start = table.partition_point(|o| o.namespace.as_deref() < Some(ns));
                let end =
                    start + table[start..].partition_point(|o| o.namespace.as_deref() == Some(ns));
                &table[start..end]
            }
        };
        let known = kinds::by_group_kind(gk).is_some();
        Ok(range
            .iter()
            .filter(|o| labels.matches_with(|k| o.label(k)))
            .filter(|o| fields.is_empty() || fields_match(o, &fields, known))
            .collect())
    }

    pub(crate) fn events(&self, about: &ObjectRef) -> Result<Vec<&Stored>, FactError> {
        let cluster_scoped = kinds::by_kind(&about.kind).is_some_and(|r| !r.namespaced);
        let namespace = about.events_namespace();
        let covered = [core_event(), new_event()]
            .iter()
            .any(|gk| self.captured.get(gk).is_some_and(|s| s.covers(namespace)));
        if !covered {
            self.check_captured(&core_event(), namespace)?;
        }
        let index = self.event_index.get_or_init(|| self.build_event_index());
        let key = (
            Box::<str>::from(about.kind.as_str()),
            Box::<str>::from(about.name.as_str()),
        );
        let mut found: Vec<&Stored> = index
            .get(&key)
            .into_iter()
            .flatten()
            .filter_map(|&(is_new, i)| {
                let gk = if is_new { new_event() } else { core_event() };
                let event = self.tables.get(&gk)?.get(i)?;
                let fields = event.event.as_deref()?;
                let reference = if is_new {
                    fields.regarding.as_ref()
                } else {
                    fields.involved.as_ref()
                }?;
                let ref_ns = reference.namespace.as_deref().filter(|ns| !ns.is_empty());
                let same_namespace = cluster_scoped || ref_ns == namespace;
                let same_uid = about.same_uid(reference.uid.as_deref());
                (same_namespace && same_uid).then_some(event)
            })
            .collect();
        found.sort_by(|a, b| {
            let seen = |o: &Stored| o.event.as_ref().and_then(|e| e.last_seen);
            (seen(a), a.key()).cmp(&(seen(b), b.key()))
        });
        Ok(found)
    }

    fn build_event_index(&self) -> EventIndex {
        let mut index = EventIndex::new();
        for is_new in [false, true] {
            let gk = if is_new { new_event() } else { core_event() };
            for (i, event) in self.tables.get(&gk).into_iter().flatten().enumerate() {
                let fields = event.event.as_deref();
                let reference = fields.and_then(|f| {
                    if is_new {
                        f.regarding.as_ref()
                    } else {
                        f.involved.as_ref()
                    }
                });
                if let Some(RefHead {
                    kind: Some(kind),
                    name: Some(name),
                    ..
                }) = reference
                {
                    index
                        .entry((kind.clone(), name.clone()))
                        .or_default()
                        .push((is_new, i));
                }
            }
        }
        index
    }
}

/// Field selectors read kept fields of standard kinds directly; anything else (and
/// every field of custom kinds, whose schemas are unknown) from the parsed object.
fn fields_match(object: &Stored, selector: &FieldSelector, known_kind: bool) -> bool {
    let mut parsed: Option<Value> = None;
    selector.matches_with(|path| {
        if known_kind && let Some(value) = object.indexed_field(path) {
            return Some(Cow::Borrowed(value.unwrap_or("")));
        }
        let value = parsed.get_or_insert_with(|| object.to_value().unwrap_or(Value::Null));
        field_value(value, path).map(|v| Cow::Owned(v.into_owned()))
    })
}

/// `StorageClass` for standard kinds, `Widget.example.com` for others.
pub(crate) fn kind_name(gk: &GroupKind) -> String {
    if gk.group.is_empty() || kinds::by_group_kind(gk).is_some() {
        gk.kind.clone()
    } else {
        gk.to_string()
    }
}

fn display_name(namespace: Option<&str>, name: &str) -> String {
    match namespace {
        Some(ns) => format!("{ns}/{name}"),
        None => name.to_string(),
    }
}

/// The resource as `kubectl get` takes it, qualified when the plural is ambiguous.
fn kubectl_resource(gk: &GroupKind) -> String {
    match kinds::by_group_kind(gk) {
        Some(r) => {
            let ambiguous = kinds::KNOWN
                .iter()
                .any(|o| o.plural == r.plural && o.group != r.group);
            if ambiguous && !r.group.is_empty() {
                format!("{}.{}", r.plural, r.group)
            } else {
                r.plural.to_string()
            }
        }
        None if gk.group.is_empty() => gk.kind.to_ascii_lowercase(),
        None => format!("{}.{}", gk.kind.to_ascii_lowercase(), gk.group),
    }
}

fn capture_hint(gk: &GroupKind, namespace: Option<&str>) -> String {
    let scope = match namespace {
        Some(ns) => format!(" -n {ns}"),
        None if kinds::is_cluster_scoped(gk) => String::new(),
        None => " -A".to_string(),
    };
    let api_version = kinds::by_group_kind(gk).map_or_else(
        || {
            if gk.group.is_empty() {
                "v1".to_string()
            } else {
                format!("{}/v1", gk.group)
            }
        },
        |r| r.api_version(),
    );
    format!(
        "add the output of `kubectl get {}{scope} -o yaml` under k8s/ in the snapshot (when there are none, \
         save `{{\"apiVersion\": \"{api_version}\", \"kind\": \"{}List\", \"items\": []}}` instead)",
        kubectl_resource(gk),
        gk.kind
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hints_name_the_kubectl_command() {
        let sc = capture_hint(&GroupKind::new("storage.k8s.io", "StorageClass"), None);
        assert!(
            sc.starts_with("add the output of `kubectl get storageclasses -o yaml` under k8s/"),
            "{sc}"
        );
        assert!(sc.contains(r#""kind": "StorageClassList""#), "{sc}");
        let ev = capture_hint(&GroupKind::new("events.k8s.io", "Event"), Some("shop"));
        assert!(
            ev.contains("kubectl get events.events.k8s.io -n shop"),
            "{ev}"
        );
        let cr = capture_hint(&GroupKind::new("example.com", "Widget"), None);
        assert!(cr.contains("kubectl get widget.example.com -A"), "{cr}");
    }
}
