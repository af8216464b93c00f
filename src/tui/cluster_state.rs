//! The home screen's cluster-state panel, computed from listed objects: the same
//! summary whether they came from a snapshot round or from live watches. Pure.

use crate::facts::field::{at, str_at};
use crate::facts::{FactQuery, FieldSet, GroupKind};
use crate::source::live::watch::WatchSpec;
use chrono::{DateTime, TimeDelta, Utc};
use serde_json::Value;

/// One kind's objects, or why they are not known.
pub type Listed = Result<Vec<Value>, String>;

#[derive(Clone, Debug, Default)]
pub struct Inputs {
    pub nodes: Option<Listed>,
    pub pods: Option<Listed>,
    pub pvcs: Option<Listed>,
    pub events: Option<Listed>,
    pub deployments: Option<Listed>,
}

impl Inputs {
    pub fn slot(&mut self, kind: &GroupKind) -> Option<&mut Option<Listed>> {
        match (kind.group.as_str(), kind.kind.as_str()) {
            ("", "Node") => Some(&mut self.nodes),
            ("", "Pod") => Some(&mut self.pods),
            ("", "PersistentVolumeClaim") => Some(&mut self.pvcs),
            ("", "Event") => Some(&mut self.events),
            ("apps", "Deployment") => Some(&mut self.deployments),
            _ => None,
        }
    }
}

/// What the state panel watches on a live cluster, and what it keeps of each object.
pub fn panel_specs() -> Vec<WatchSpec> {
    let paths = |ps: &[&str]| {
        FieldSet(
            ps.iter()
                .map(|p| p.split('.').map(str::to_string).collect())
                .collect(),
        )
    };
    let meta = [
        "metadata.name",
        "metadata.namespace",
        "metadata.uid",
        "metadata.labels",
        "metadata.creationTimestamp",
        "metadata.deletionTimestamp",
        "metadata.ownerReferences",
    ];
    let with = |extra: &[&str]| {
        let mut all: Vec<&str> = meta.to_vec();
        all.extend_from_slice(extra);
        paths(&all)
    };
    vec![
        WatchSpec {
            kind: GroupKind::new("", "Node"),
            field_selector: None,
            fields: with(&[
                "spec.unschedulable",
                "spec.taints",
                "status.conditions",
                "status.nodeInfo.kubeletVersion",
            ]),
        },
        WatchSpec {
            kind: GroupKind::new("", "Pod"),
            field_selector: None,
            fields: with(&[
                "spec.nodeName",
                "status.phase",
                "status.reason",
                "status.conditions.[].type",
                "status.conditions.[].status",
                "status.containerStatuses.[].name",
                "status.containerStatuses.[].ready",
                "status.containerStatuses.[].restartCount",
                "status.containerStatuses.[].state",
                "status.initContainerStatuses.[].state",
            ]),
        },
        WatchSpec {
            kind: GroupKind::new("", "PersistentVolumeClaim"),
            field_selector: None,
            fields: with(&["spec.storageClassName", "status.phase"]),
        },
        // For CoreDNS's ready/desired: every Deployment, few fields, so the panel needs
        // no namespace-specific watch and works with cluster-wide read RBAC alone.
        WatchSpec {
            kind: GroupKind::new("apps", "Deployment"),
            field_selector: None,
            fields: with(&[
                "spec.replicas",
                "status.readyReplicas",
                "status.availableReplicas",
            ]),
        },
        WatchSpec {
            kind: GroupKind::new("", "Event"),
            field_selector: Some("type=Warning".into()),
            fields: with(&[
                "involvedObject",
                "reason",
                "message",
                "type",
                "count",
                "lastTimestamp",
                "eventTime",
                "series",
            ]),
        },
    ]
}

/// The list queries a snapshot round answers for the panel: the watches' own specs, so
/// live and offline panels read the same fields.
pub fn queries() -> Vec<(GroupKind, FactQuery)> {
    panel_specs()
        .into_iter()
        .map(
            |WatchSpec {
                 kind,
                 field_selector,
                 fields,
             }| {
                let q = FactQuery::List {
                    resource: kind.clone(),
                    namespace: None,
                    label_selector: None,
                    field_selector,
                    fields: Some(fields),
                };
                (kind, q)
            },
        )
        .collect()
}

#[derive(Clone, Debug, PartialEq)]
pub struct NodeGroup {
    pub name: String,
    pub ready: usize,
    pub not_ready: usize,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct PodCounts {
    pub total: usize,
    pub pending: usize,
    pub crash_loop: usize,
    pub evicted: usize,
    pub failed: usize,
}

#[derive(Clone, Debug, PartialEq)]
pub struct WarningLine {
    pub age: Option<TimeDelta>,
    pub reason: String,
    /// `Kind/name` (with the namespace when there is one).
    pub object: String,
    pub message: String,
    pub count: u64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ClusterState {
    pub node_groups: Result<Vec<NodeGroup>, String>,
    pub pods: Result<PodCounts, String>,
    pub pvcs: Result<(usize, usize), String>,
    /// CoreDNS (ready, desired); `Ok(None)` when there is no CoreDNS Deployment.
    pub coredns: Result<Option<(u64, u64)>, String>,
    /// Newest first.
    pub warnings: Result<Vec<WarningLine>, String>,
    /// The newest kubelet version among the nodes (what the header shows).
    pub version: Option<String>,
}

const NOT_READ: &str = "not read yet";

fn take(listed: &Option<Listed>) -> Result<&[Value], String> {
    match listed {
        None => Err(NOT_READ.to_string()),
        Some(Ok(v)) => Ok(v),
        Some(Err(e)) => Err(e.clone()),
    }
}

pub fn summarize(inputs: &Inputs, now: DateTime<Utc>) -> ClusterState {
    ClusterState {
        node_groups: take(&inputs.nodes).map(node_groups),
        pods: take(&inputs.pods).map(pod_counts),
        pvcs: take(&inputs.pvcs).map(|pvcs| {
            let pending = pvcs
                .iter()
                .filter(|p| at(p, &["status", "phase"]).and_then(Value::as_str) == Some("Pending"))
                .count();
            (pending, pvcs.len())
        }),
        coredns: take(&inputs.deployments).map(coredns),
        warnings: take(&inputs.events).map(|events| warnings(events, now)),
        version: take(&inputs.nodes).ok().and_then(newest_kubelet),
    }
}

fn newest_kubelet(nodes: &[Value]) -> Option<String> {
    let numbers = |v: &str| -> Vec<u64> {
        v.trim_start_matches('v')
            .split(['.', '-', '+'])
            .map_while(|p| p.parse().ok())
            .collect()
    };
    nodes
        .iter()
        .filter_map(|n| str_at(n, &["status", "nodeInfo", "kubeletVersion"]))
        .max_by_key(|v| numbers(v))
        .map(str::to_string)
}

/// The label each managed-node flavour sets, in order of preference.
const GROUP_LABELS: [&str; 4] = [
    "eks.amazonaws.com/nodegroup",
    "karpenter.sh/nodepool",
    "alpha.eksctl.io/nodegroup-name",
    "node.kubernetes.io/instance-group",
];

fn node_groups(nodes: &[Value]) -> Vec<NodeGroup> {
    let mut groups: Vec<NodeGroup> = Vec::new();
    for node in nodes {
        let labels = at(node, &["metadata", "labels"]);
        let name = GROUP_LABELS
            .iter()
            .find_map(|l| labels.and_then(|m| m.get(*l)).and_then(Value::as_str))
            .unwrap_or("(no group)")
            .to_string();
        let ready = at(node, &["status", "conditions"])
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .any(|c| {
                str_at(c, &["type"]) == Some("Ready") && str_at(c, &["status"]) == Some("True")
            });
        let idx = match groups.iter().position(|g| g.name == name) {
            Some(i) => i,
            None => {
                groups.push(NodeGroup {
                    name,
                    ready: 0,
                    not_ready: 0,
                });
                groups.len() - 1
            }
        };
        if ready {
            groups[idx].ready += 1;
        } else {
            groups[idx].not_ready += 1;
        }
    }
    // Trouble first, then by name.
    groups.sort_by(|a, b| {
        (b.not_ready > 0)
            .cmp(&(a.not_ready > 0))
            .then_with(|| a.name.cmp(&b.name))
    });
    groups
}

fn pod_counts(pods: &[Value]) -> PodCounts {
    let mut c = PodCounts {
        total: pods.len(),
        ..PodCounts::default()
    };
    for pod in pods {
        let phase = str_at(pod, &["status", "phase"]).unwrap_or_default();
        let crash_loop = [
            ["status", "containerStatuses"],
            ["status", "initContainerStatuses"],
        ]
        .iter()
        .filter_map(|p| at(pod, p).and_then(Value::as_array))
        .flatten()
        .any(|s| str_at(s, &["state", "waiting", "reason"]) == Some("CrashLoopBackOff"));
        match phase {
            "Pending" => c.pending += 1,
            "Failed" if str_at(pod, &["status", "reason"]) == Some("Evicted") => c.evicted += 1,
            "Failed" => c.failed += 1,
            _ => {}
        }
        if crash_loop {
            c.crash_loop += 1;
        }
    }
    c
}

fn coredns(deployments: &[Value]) -> Option<(u64, u64)> {
    let d = deployments.iter().find(|d| {
        str_at(d, &["metadata", "namespace"]) == Some("kube-system")
            && (str_at(d, &["metadata", "name"]) == Some("coredns")
                || str_at(d, &["metadata", "labels", "k8s-app"]) == Some("kube-dns"))
    })?;
    let desired = at(d, &["spec", "replicas"])
        .and_then(Value::as_u64)
        .unwrap_or(1);
    let ready = at(d, &["status", "readyReplicas"])
        .and_then(Value::as_u64)
        .unwrap_or(0);
    Some((ready, desired))
}

fn event_time(e: &Value) -> Option<DateTime<Utc>> {
    [
        &["series", "lastObservedTime"][..],
        &["lastTimestamp"],
        &["eventTime"],
    ]
    .iter()
    .filter_map(|p| str_at(e, p))
    .find_map(|s| DateTime::parse_from_rfc3339(s).ok())
    .map(|t| t.with_timezone(&Utc))
}

fn warnings(events: &[Value], now: DateTime<Utc>) -> Vec<WarningLine> {
    let mut lines: Vec<(Option<DateTime<Utc>>, WarningLine)> = events
        .iter()
        .filter(|e| str_at(e, &["type"]).is_none_or(|t| t == "Warning"))
        .map(|e| {
            let when = event_time(e);
            let kind = str_at(e, &["involvedObject", "kind"]).unwrap_or("?");
            let name = str_at(e, &["involvedObject", "name"]).unwrap_or("?");
            let object = match str_at(e, &["involvedObject", "namespace"]) {
                Some(ns) if !ns.is_empty() => format!("{kind}/{ns}/{name}"),
                _ => format!("{kind}/{name}"),
            };
            (
                when,
                WarningLine {
                    age: when.map(|t| now - t),
                    reason: str_at(e, &["reason"]).unwrap_or_default().to_string(),
                    object,
                    message: str_at(e, &["message"])
                        .unwrap_or_default()
                        .trim()
                        .to_string(),
                    count: at(e, &["series", "count"])
                        .or_else(|| at(e, &["count"]))
                        .and_then(Value::as_u64)
                        .unwrap_or(1),
                },
            )
        })
        .collect();
    lines.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.object.cmp(&b.1.object)));
    lines.into_iter().map(|(_, l)| l).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn node(name: &str, group: Option<&str>, ready: &str) -> Value {
        let mut labels = json!({"kubernetes.io/hostname": name});
        if let Some(g) = group {
            labels["eks.amazonaws.com/nodegroup"] = json!(g);
        }
        json!({"metadata": {"name": name, "labels": labels},
               "status": {"nodeInfo": {"kubeletVersion": if name == "b" { "v1.31.10-eks-1" } else { "v1.31.9-eks-2" }},
                          "conditions": [{"type": "MemoryPressure", "status": "False"},
                                         {"type": "Ready", "status": ready}]}})
    }

    #[test]
    fn counts_what_the_panel_shows() {
        let now: DateTime<Utc> = "2026-11-20T03:00:00Z".parse().unwrap();
        let inputs = Inputs {
            nodes: Some(Ok(vec![
                node("a", Some("general"), "True"),
                node("b", Some("general"), "Unknown"),
                node("c", Some("batch"), "True"),
                node("d", None, "False"),
            ])),
            pods: Some(Ok(vec![
                json!({"status": {"phase": "Running", "containerStatuses": [
                    {"name": "app", "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]}}),
                json!({"status": {"phase": "Pending"}}),
                json!({"status": {"phase": "Failed", "reason": "Evicted"}}),
                json!({"status": {"phase": "Failed", "reason": "Error"}}),
                json!({"status": {"phase": "Succeeded"}}),
            ])),
            pvcs: Some(Ok(vec![
                json!({"status": {"phase": "Pending"}}),
                json!({"status": {"phase": "Bound"}}),
            ])),
            events: Some(Ok(vec![
                json!({"type": "Warning", "reason": "Old", "lastTimestamp": "2026-11-20T01:00:00Z",
                       "involvedObject": {"kind": "Pod", "namespace": "shop", "name": "web"}, "message": "old", "count": 3}),
                json!({"type": "Warning", "reason": "New", "eventTime": "2026-11-20T02:59:00.000000Z",
                       "involvedObject": {"kind": "Node", "name": "a"}, "message": "new\n"}),
            ])),
            deployments: Some(Err("forbidden: cannot list deployments.apps".into())),
        };
        let s = summarize(&inputs, now);
        assert_eq!(
            s.node_groups.unwrap(),
            vec![
                NodeGroup {
                    name: "(no group)".into(),
                    ready: 0,
                    not_ready: 1
                },
                NodeGroup {
                    name: "general".into(),
                    ready: 1,
                    not_ready: 1
                },
                NodeGroup {
                    name: "batch".into(),
                    ready: 1,
                    not_ready: 0
                },
            ]
        );
        assert_eq!(
            s.pods.unwrap(),
            PodCounts {
                total: 5,
                pending: 1,
                crash_loop: 1,
                evicted: 1,
                failed: 1
            }
        );
        assert_eq!(s.pvcs.unwrap(), (1, 2));
        // By number, not by string: 1.31.10 is newer than 1.31.9.
        assert_eq!(s.version.as_deref(), Some("v1.31.10-eks-1"));
        assert_eq!(
            s.coredns.unwrap_err(),
            "forbidden: cannot list deployments.apps"
        );
        let w = s.warnings.unwrap();
        assert_eq!(w[0].reason, "New");
        assert_eq!(w[0].message, "new");
        assert_eq!(w[0].age, Some(TimeDelta::minutes(1)));
        assert_eq!(w[1].object, "Pod/shop/web");
        assert_eq!(w[1].count, 3);
    }

    #[test]
    fn kinds_not_yet_read_are_said_so() {
        let s = summarize(&Inputs::default(), Utc::now());
        assert_eq!(s.pods.unwrap_err(), NOT_READ);
    }
}
