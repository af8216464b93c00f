//! What a runbook can ask of a source, and how an answer can fail.
//!
//! A `FactQuery` is the unit of work and of caching: two runbooks that need the same
//! StorageClass produce equal queries, and the per-round cache answers the second from
//! the first.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt;

/// A Kubernetes resource type as queries name it: API group (empty for core) and kind.
/// The version is deliberately absent: the same object is the same fact whichever
/// version served it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct GroupKind {
    pub group: String,
    pub kind: String,
}

impl GroupKind {
    pub fn new(group: impl Into<String>, kind: impl Into<String>) -> Self {
        GroupKind {
            group: group.into(),
            kind: kind.into(),
        }
    }

    /// The group of an `apiVersion` string: `apps/v1` → `apps`, `v1` → `` (core).
    pub fn from_api_version(api_version: &str, kind: &str) -> Self {
        let group = match api_version.rsplit_once('/') {
            Some((group, _version)) => group,
            None => "",
        };
        GroupKind::new(group, kind)
    }
}

impl fmt::Display for GroupKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.group.is_empty() {
            write!(f, "{}", self.kind)
        } else {
            write!(f, "{}.{}", self.kind, self.group)
        }
    }
}

/// The object an event is about, as `involvedObject` (core/v1) or `regarding`
/// (events.k8s.io/v1) names it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ObjectRef {
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
    /// When set, events about an earlier object of the same name are excluded, as
    /// `kubectl describe` does with its `involvedObject.uid` field selector.
    pub uid: Option<String>,
}

impl ObjectRef {
    /// The namespace its events are looked up in: its own, or every namespace for a
    /// cluster-scoped kind (a Node's events may be recorded in `default` or elsewhere).
    pub fn events_namespace(&self) -> Option<&str> {
        let cluster_scoped =
            crate::facts::kinds::by_kind(&self.kind).is_some_and(|r| !r.namespaced);
        self.namespace
            .as_deref()
            .filter(|ns| !ns.is_empty() && !cluster_scoped)
    }

    /// Whether an event whose reference carries `uid` is about this object: only an
    /// earlier object of the same name is excluded. The kubelet records node events with
    /// the node's name as the uid (`kubectl describe node` looks both up for that reason).
    pub fn same_uid(&self, uid: Option<&str>) -> bool {
        fn known(u: Option<&str>) -> Option<&str> {
            u.filter(|u| !u.is_empty())
        }
        match (known(self.uid.as_deref()), known(uid)) {
            (Some(want), Some(got)) => got == want || (self.kind == "Node" && got == self.name),
            _ => true,
        }
    }
}

/// EKS API calls ktriage makes (all read-only).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "kebab-case")]
pub enum EksQuery {
    DescribeCluster,
    ListNodegroups,
    DescribeNodegroup { name: String },
    ListAddons,
    DescribeAddon { name: String },
    ListAccessEntries,
    DescribeAccessEntry { principal_arn: String },
    ListPodIdentityAssociations,
}

impl EksQuery {
    /// The AWS CLI command that prints this response, for hints and evidence.
    pub fn cli_command(&self, cluster: &str) -> String {
        match self {
            EksQuery::DescribeCluster => format!("aws eks describe-cluster --name {cluster}"),
            EksQuery::ListNodegroups => format!("aws eks list-nodegroups --cluster-name {cluster}"),
            EksQuery::DescribeNodegroup { name } => {
                format!(
                    "aws eks describe-nodegroup --cluster-name {cluster} --nodegroup-name {name}"
                )
            }
            EksQuery::ListAddons => format!("aws eks list-addons --cluster-name {cluster}"),
            EksQuery::DescribeAddon { name } => {
                format!("aws eks describe-addon --cluster-name {cluster} --addon-name {name}")
            }
            EksQuery::ListAccessEntries => {
                format!("aws eks list-access-entries --cluster-name {cluster}")
            }
            EksQuery::DescribeAccessEntry { principal_arn } => format!(
                "aws eks describe-access-entry --cluster-name {cluster} --principal-arn {principal_arn}"
            ),
            EksQuery::ListPodIdentityAssociations => {
                format!("aws eks list-pod-identity-associations --cluster-name {cluster}")
            }
        }
    }

    /// The IAM action this call needs, named when AWS denies it.
    pub fn iam_action(&self) -> &'static str {
        match self {
            EksQuery::DescribeCluster => "eks:DescribeCluster",
            EksQuery::ListNodegroups => "eks:ListNodegroups",
            EksQuery::DescribeNodegroup { .. } => "eks:DescribeNodegroup",
            EksQuery::ListAddons => "eks:ListAddons",
            EksQuery::DescribeAddon { .. } => "eks:DescribeAddon",
            EksQuery::ListAccessEntries => "eks:ListAccessEntries",
            EksQuery::DescribeAccessEntry { .. } => "eks:DescribeAccessEntry",
            EksQuery::ListPodIdentityAssociations => "eks:ListPodIdentityAssociations",
        }
    }
}

/// CloudWatch Logs `FilterLogEvents` over one log group. Matching beyond a plain term is
/// done by the runbook, so the same query works offline over a snapshot's `aws/logs/`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct LogEventsQuery {
    pub log_group: String,
    pub stream_prefix: Option<String>,
    /// Plain term the message must contain (case-sensitive, as CloudWatch does).
    pub contains: Option<String>,
    /// Only events at or after this many milliseconds since the epoch.
    pub start_ms: Option<i64>,
    pub limit: Option<u32>,
}

/// The parts of an object a reader needs, as paths of keys (`[]` for every element of
/// a list or value of a map), each kept whole from its end down. Triage scans every
/// object of a kind but reads a few fields of each: thirty thousand pods kept whole are
/// gigabytes, their phase and conditions a few megabytes.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct FieldSet(pub Vec<Vec<String>>);

impl FieldSet {
    /// `value` with only the parts the paths name.
    pub fn prune(&self, value: Value) -> Value {
        let mut tree = PathTree::default();
        for path in &self.0 {
            tree.insert(path);
        }
        tree.prune(value)
    }
}

#[derive(Default)]
struct PathTree {
    whole: bool,
    children: std::collections::BTreeMap<String, PathTree>,
}

impl PathTree {
    fn insert(&mut self, path: &[String]) {
        match path.split_first() {
            None => {
                self.whole = true;
                self.children.clear();
            }
            Some(_) if self.whole => {}
            Some((first, rest)) => self.children.entry(first.clone()).or_default().insert(rest),
        }
    }

    fn prune(&self, value: Value) -> Value {
        if self.whole {
            return value;
        }
        let each = self.children.get("[]");
        match value {
            Value::Object(map) => Value::Object(
                map.into_iter()
                    .filter_map(|(k, v)| match (self.children.get(&k), each) {
                        // Read both by name and as one of all: keep it whole.
                        (Some(_), Some(_)) => Some((k, v)),
                        (Some(own), None) => Some((k, own.prune(v))),
                        (None, Some(each)) => Some((k, each.prune(v))),
                        (None, None) => None,
                    })
                    .collect(),
            ),
            Value::Array(items) => match each {
                Some(each) => Value::Array(items.into_iter().map(|i| each.prune(i)).collect()),
                None => Value::Array(Vec::new()),
            },
            scalar => scalar,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "query", rename_all = "kebab-case")]
pub enum FactQuery {
    /// One object; answers JSON `null` when it does not exist.
    Get {
        resource: GroupKind,
        namespace: Option<String>,
        name: String,
    },
    /// Objects of a kind, cluster-wide (`namespace: None`) or in one namespace, with
    /// optional label and field selectors in the API's own syntax.
    List {
        resource: GroupKind,
        namespace: Option<String>,
        label_selector: Option<String>,
        field_selector: Option<String>,
        /// Only these parts of each object (see [`FieldSet`]); all of it when `None`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        fields: Option<FieldSet>,
    },
    /// Events about one object, from both event APIs, as raw objects.
    Events {
        object: ObjectRef,
    },
    /// A container's log as the API prints it (`timestamps=true`).
    Logs {
        namespace: String,
        pod: String,
        container: String,
        previous: bool,
        tail_lines: Option<u32>,
    },
    Eks(EksQuery),
    LogEvents(LogEventsQuery),
}

impl FactQuery {
    /// The command that shows the same data, with the EKS cluster's name when known.
    pub fn command(&self, cluster: Option<&str>) -> String {
        match (self, cluster) {
            (FactQuery::Eks(q), Some(c)) => q.cli_command(c),
            _ => self.to_string(),
        }
    }

    /// True when the answer comes from AWS rather than the Kubernetes API.
    pub fn is_aws(&self) -> bool {
        matches!(self, FactQuery::Eks(_) | FactQuery::LogEvents(_))
    }
}

impl fmt::Display for FactQuery {
    /// The kubectl / aws command that shows the same thing, so a user can check by hand.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ns = |n: &Option<String>| match n {
            Some(n) => format!(" -n {n}"),
            None => String::new(),
        };
        match self {
            FactQuery::Get {
                resource,
                namespace,
                name,
            } => write!(
                f,
                "kubectl get {} {name}{} -o yaml",
                kubectl_resource(resource),
                ns(namespace)
            ),
            FactQuery::List {
                resource,
                namespace,
                label_selector,
                field_selector,
                ..
            } => {
                write!(f, "kubectl get {}", kubectl_resource(resource))?;
                match namespace {
                    Some(n) => write!(f, " -n {n}")?,
                    None => write!(f, " -A")?,
                }
                if let Some(l) = label_selector {
                    write!(f, " -l '{l}'")?;
                }
                if let Some(fs) = field_selector {
                    write!(f, " --field-selector '{fs}'")?;
                }
                Ok(())
            }
            FactQuery::Events { object } => {
                write!(
                    f,
                    "kubectl get events{} --field-selector involvedObject.kind={},involvedObject.name={}",
                    ns(&object.namespace),
                    object.kind,
                    object.name
                )
            }
            FactQuery::Logs {
                namespace,
                pod,
                container,
                previous,
                tail_lines,
            } => {
                write!(
                    f,
                    "kubectl logs -n {namespace} {pod} -c {container} --timestamps"
                )?;
                if *previous {
                    write!(f, " --previous")?;
                }
                if let Some(t) = tail_lines {
                    write!(f, " --tail={t}")?;
                }
                Ok(())
            }
            FactQuery::Eks(q) => write!(f, "{}", q.cli_command("$CLUSTER")),
            FactQuery::LogEvents(q) => {
                write!(
                    f,
                    "aws logs filter-log-events --log-group-name {}",
                    q.log_group
                )?;
                if let Some(p) = &q.stream_prefix {
                    write!(f, " --log-stream-name-prefix {p}")?;
                }
                if let Some(c) = &q.contains {
                    write!(f, " --filter-pattern '\"{c}\"'")?;
                }
                Ok(())
            }
        }
    }
}

fn kubectl_resource(gk: &GroupKind) -> String {
    let lower = gk.kind.to_ascii_lowercase();
    if gk.group.is_empty() {
        lower
    } else {
        format!("{lower}.{}", gk.group)
    }
}

/// Why a fact could not be had. A failed fact makes the checks that read it *unknown*,
/// never false.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum FactError {
    /// RBAC or IAM said no.
    #[error("forbidden: cannot {verb} {resource}{}", in_namespace(.namespace))]
    Forbidden {
        verb: String,
        resource: String,
        namespace: Option<String>,
        /// What would fix it: the RBAC rule or IAM action to grant.
        hint: String,
    },
    /// Not there to be had: not in this snapshot, no AWS credentials, log type disabled.
    #[error("unavailable: {reason}")]
    Unavailable { reason: String, hint: String },
    /// Timeouts and server errors that persisted through retries.
    #[error("transient: {reason}")]
    Transient { reason: String, hint: String },
}

fn in_namespace(ns: &Option<String>) -> String {
    match ns {
        Some(n) => format!(" in {n}"),
        None => String::new(),
    }
}

impl FactError {
    pub fn unavailable(reason: impl Into<String>, hint: impl Into<String>) -> Self {
        FactError::Unavailable {
            reason: reason.into(),
            hint: hint.into(),
        }
    }

    /// What permission or data would resolve it.
    pub fn hint(&self) -> &str {
        match self {
            FactError::Forbidden { hint, .. }
            | FactError::Unavailable { hint, .. }
            | FactError::Transient { hint, .. } => hint,
        }
    }
}

#[cfg(test)]
mod field_set_tests {
    use super::FieldSet;
    use serde_json::json;

    #[test]
    fn prune_keeps_only_the_named_paths() {
        let pod = json!({
            "metadata": {"name": "p", "namespace": "n", "labels": {"a": "1"}, "annotations": {"big": "x"}},
            "spec": {"nodeName": "n1", "volumes": [{"name": "v"}]},
            "status": {"conditions": [{"type": "Ready", "status": "True", "message": "m"}], "phase": "Running"}
        });
        let path = |p: &[&str]| p.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let fields = FieldSet(vec![
            path(&["metadata", "name"]),
            path(&["metadata", "labels"]),
            path(&["spec", "nodeName"]),
            path(&["status", "conditions", "[]", "type"]),
        ]);
        assert_eq!(
            fields.prune(pod),
            json!({
                "metadata": {"name": "p", "labels": {"a": "1"}},
                "spec": {"nodeName": "n1"},
                "status": {"conditions": [{"type": "Ready"}]}
            })
        );
    }
}
