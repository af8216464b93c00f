//! Server-side printing: the `meta.k8s.io/v1` `Table` that `kubectl get` asks for.
//!
//! kubectl does not format built-in kinds itself. It sends
//! `Accept: application/json;as=Table;v=v1;g=meta.k8s.io` and prints, column for column, the
//! cells the API server computed (upper-casing the column names, hiding priority-1 columns
//! unless `-o wide`). So for `kubectl get` against `ktriage serve` to read like kubectl
//! against the captured cluster, this module must compute the same cells the kube-apiserver's
//! printers do (`pkg/printers/internalversion/printers.go`): the same columns, the same
//! status logic ("CrashLoopBackOff", "Init:0/1", "Terminating", "NotReady,SchedulingDisabled"),
//! the same `<none>`/`<unset>`/`<pending>` cell texts for absent values, and the same ages
//! (`k8s.io/apimachinery/pkg/util/duration.HumanDuration`).
//!
//! Like the real server, every row carries every column (the server prints "wide" and lets
//! kubectl drop priority-1 columns), and cells the server emits as integers are JSON numbers.
//! Ages are computed at the snapshot's capture time, not the wall clock, so a snapshot reads
//! as it did when it was taken.
//!
//! Objects come from untrusted files: every field is optional here, a field of the wrong
//! type counts as absent, and nothing panics.

use crate::facts::field::{at, flag, int, int_opt, list, map_at, text};
use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Map, Value, json};
use std::collections::{BTreeSet, HashMap};

/// What each row's `object` holds: the `includeObject` query parameter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IncludeObject {
    None,
    Metadata,
    Object,
}

impl IncludeObject {
    /// From the `includeObject` query parameter; the API's default is Metadata.
    pub fn parse(value: Option<&str>) -> IncludeObject {
        match value {
            Some("None") => IncludeObject::None,
            Some("Object") => IncludeObject::Object,
            _ => IncludeObject::Metadata,
        }
    }
}

/// A `meta.k8s.io/v1` Table of `objects` (full API objects as JSON, all of one kind),
/// `kind` is the object kind ("Pod", "Node", ...), `now` the moment ages are computed at
/// (the snapshot's capture time). Rows keep the order given.
pub fn table(kind: &str, objects: &[Value], now: DateTime<Utc>, include: IncludeObject) -> Value {
    let (columns, print) = printer(kind);
    let column_definitions: Vec<Value> = columns
        .iter()
        .map(|c| {
            json!({
                "name": c.name,
                "type": c.kind,
                "format": c.format,
                "description": c.description,
                "priority": c.priority,
            })
        })
        .collect();
    let rows: Vec<Value> = objects
        .iter()
        .map(|object| {
            let mut row = Map::new();
            row.insert("cells".into(), Value::Array(print(object, now)));
            if kind == "Pod"
                && let Some(conditions) = pod_row_conditions(object)
            {
                row.insert("conditions".into(), conditions);
            }
            match include {
                IncludeObject::None => {}
                IncludeObject::Metadata => {
                    let metadata = at(object, &["metadata"])
                        .filter(|m| m.is_object())
                        .cloned()
                        .unwrap_or_else(|| json!({}));
                    row.insert(
                        "object".into(),
                        json!({
                            "kind": "PartialObjectMetadata",
                            "apiVersion": "meta.k8s.io/v1",
                            "metadata": metadata,
                        }),
                    );
                }
                IncludeObject::Object => {
                    row.insert("object".into(), object.clone());
                }
            }
            Value::Object(row)
        })
        .collect();
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": { "resourceVersion": "1" },
        "columnDefinitions": column_definitions,
        "rows": rows,
    })
}

/// kubectl's short duration, as `k8s.io/apimachinery/pkg/util/duration.HumanDuration` of
/// `now - created`: "45s", "5m30s", "12m", "3h15m", "5h", "2d5h", "30d", "2y", ...;
/// "<unknown>" when `created` is absent or unreadable.
pub fn human_age(created: Option<&str>, now: DateTime<Utc>) -> String {
    age_of(created.and_then(parse_time), now)
}

// ---------------------------------------------------------------------------------------
// Durations and timestamps

/// Go's zero `time.Time` (0001-01-01T00:00:00Z) in Unix seconds: a `metav1.Time` that
/// `IsZero()`, which the printers show as "<unknown>" or treat as unset.
const GO_ZERO_TIME_UNIX: i64 = -62_135_596_800;

fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    let time = DateTime::parse_from_rfc3339(s.trim())
        .ok()?
        .with_timezone(&Utc);
    (time.timestamp() != GO_ZERO_TIME_UNIX).then_some(time)
}

/// `translateTimestampSince`: the age of `time` at `now`, "<unknown>" when unset.
fn age_of(time: Option<DateTime<Utc>>, now: DateTime<Utc>) -> String {
    match time {
        Some(time) => human_duration(now.signed_duration_since(time)),
        None => "<unknown>".to_string(),
    }
}

/// An age as the API server prints it: up to a second in the future is "0s" (clock
/// skew), further is "<invalid>".
fn human_duration(d: TimeDelta) -> String {
    match d.num_seconds() {
        ..-1 => "<invalid>".to_string(),
        -1 => "0s".to_string(),
        _ => crate::text::kubectl_duration(d),
    }
}

// ---------------------------------------------------------------------------------------
// Reading untrusted JSON (the fields themselves through `facts::field`)

fn timestamp(value: &Value, path: &[&str]) -> Option<DateTime<Utc>> {
    at(value, path).and_then(Value::as_str).and_then(parse_time)
}

fn name_cell(object: &Value) -> Value {
    Value::from(text(object, &["metadata", "name"]))
}

fn age_cell(object: &Value, now: DateTime<Utc>) -> Value {
    Value::from(age_of(
        timestamp(object, &["metadata", "creationTimestamp"]),
        now,
    ))
}

fn deleting(object: &Value) -> bool {
    at(object, &["metadata", "deletionTimestamp"]).is_some()
}

/// `s`, or the printer's word for an absent value (`<none>`, `<unset>`) when empty.
fn or(s: &str, absent: &str) -> String {
    let chosen = if s.is_empty() { absent } else { s };
    chosen.to_string()
}

/// A resource quantity as written (API servers write them canonical); Go's zero Quantity
/// prints "0".
fn quantity(value: Option<&Value>) -> String {
    match value {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => "0".to_string(),
    }
}

/// `labels.FormatLabels`: "k=v,k2=v2" sorted by key, "<none>" when empty.
fn format_labels(map: Option<&Map<String, Value>>) -> String {
    let mut pairs: Vec<String> = map
        .into_iter()
        .flatten()
        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
        .collect();
    pairs.sort();
    if pairs.is_empty() {
        "<none>".to_string()
    } else {
        pairs.join(",")
    }
}

/// `metav1.LabelSelectorAsSelector(selector).String()`: requirements sorted by key,
/// "k=v", "k in (a,b)", "k notin (a,b)", "k", "!k"; "" for an absent or empty selector;
/// `None` when the selector is invalid.
fn label_selector(selector: Option<&Value>) -> Option<String> {
    let Some(selector) = selector else {
        return Some(String::new());
    };
    let mut requirements: Vec<(String, String)> = Vec::new();
    for (key, value) in map_at(selector, &["matchLabels"]).into_iter().flatten() {
        requirements.push((
            key.clone(),
            format!("{key}={}", value.as_str().unwrap_or("")),
        ));
    }
    for expression in list(selector, &["matchExpressions"]) {
        let key = text(expression, &["key"]);
        let mut values: Vec<&str> = list(expression, &["values"])
            .iter()
            .filter_map(Value::as_str)
            .collect();
        values.sort_unstable();
        let rendered = match text(expression, &["operator"]) {
            "In" | "NotIn" if values.is_empty() => return None,
            "In" => format!("{key} in ({})", values.join(",")),
            "NotIn" => format!("{key} notin ({})", values.join(",")),
            "Exists" if values.is_empty() => key.to_string(),
            "DoesNotExist" if values.is_empty() => format!("!{key}"),
            _ => return None,
        };
        requirements.push((key.to_string(), rendered));
    }
    requirements.sort_by(|a, b| a.0.cmp(&b.0));
    let rendered: Vec<String> = requirements.into_iter().map(|(_, r)| r).collect();
    Some(rendered.join(","))
}

/// `metav1.FormatLabelSelector`: as [`label_selector`], "<none>" when empty, "<error>"
/// when invalid.
fn format_label_selector(selector: Option<&Value>) -> String {
    match label_selector(selector) {
        Some(s) if s.is_empty() => "<none>".to_string(),
        Some(s) => s,
        None => "<error>".to_string(),
    }
}

/// `layoutContainerCells`: container names and images, each comma-joined.
fn container_cells(object: &Value, pod_spec: &[&str]) -> (Value, Value) {
    let mut path: Vec<&str> = pod_spec.to_vec();
    path.push("containers");
    let containers = list(object, &path);
    let names: Vec<&str> = containers.iter().map(|c| text(c, &["name"])).collect();
    let images: Vec<&str> = containers.iter().map(|c| text(c, &["image"])).collect();
    (Value::from(names.join(",")), Value::from(images.join(",")))
}

// ---------------------------------------------------------------------------------------
// Columns

struct Column {
    name: &'static str,
    /// The column's `type`: "string", "integer", "boolean", ...
    kind: &'static str,
    format: &'static str,
    description: &'static str,
    /// 0: always shown; 1: only with `-o wide`.
    priority: u8,
}

const fn col(name: &'static str, kind: &'static str, description: &'static str) -> Column {
    Column {
        name,
        kind,
        format: "",
        description,
        priority: 0,
    }
}

const fn wide(name: &'static str, kind: &'static str, description: &'static str) -> Column {
    Column {
        name,
        kind,
        format: "",
        description,
        priority: 1,
    }
}

const NAME_DOC: &str = "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names";
const AGE_DOC: &str = "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata";
const CONTAINERS_DOC: &str = "Names of each container in the template.";
const IMAGES_DOC: &str = "Images referenced by each container in the template.";
const SELECTOR_DOC: &str = "A label query over pods that should match the replica count.";

const NAME: Column = Column {
    name: "Name",
    kind: "string",
    format: "name",
    description: NAME_DOC,
    priority: 0,
};
const AGE: Column = col("Age", "string", AGE_DOC);

const POD_COLUMNS: &[Column] = &[
    NAME,
    col(
        "Ready",
        "string",
        "The aggregate readiness state of this pod for accepting traffic.",
    ),
    col(
        "Status",
        "string",
        "The aggregate status of the containers in this pod.",
    ),
    col(
        "Restarts",
        "string",
        "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.",
    ),
    AGE,
    wide(
        "IP",
        "string",
        "podIP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.",
    ),
    wide(
        "Node",
        "string",
        "NodeName indicates in which node this pod is scheduled.",
    ),
    wide(
        "Nominated Node",
        "string",
        "nominatedNodeName is set only when this pod preempts other pods on the node, but it cannot be scheduled right away as preemption victims receive their graceful termination periods.",
    ),
    wide(
        "Readiness Gates",
        "string",
        "If specified, all readiness gates will be evaluated for pod readiness.",
    ),
];

const NODE_COLUMNS: &[Column] = &[
    NAME,
    col("Status", "string", "The status of the node"),
    col("Roles", "string", "The roles of the node"),
    AGE,
    col("Version", "string", "Kubelet Version reported by the node."),
    wide(
        "Internal-IP",
        "string",
        "List of addresses reachable to the node.",
    ),
    wide(
        "External-IP",
        "string",
        "List of addresses reachable to the node.",
    ),
    wide(
        "OS-Image",
        "string",
        "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).",
    ),
    wide(
        "Kernel-Version",
        "string",
        "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).",
    ),
    wide(
        "Container-Runtime",
        "string",
        "ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).",
    ),
];

const SERVICE_COLUMNS: &[Column] = &[
    NAME,
    col(
        "Type",
        "string",
        "type determines how the Service is exposed.",
    ),
    col(
        "Cluster-IP",
        "string",
        "clusterIP is the IP address of the service and is usually assigned randomly.",
    ),
    col(
        "External-IP",
        "string",
        "externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service.",
    ),
    col(
        "Port(s)",
        "string",
        "The list of ports that are exposed by this service.",
    ),
    AGE,
    wide(
        "Selector",
        "string",
        "Route service traffic to pods with label keys and values matching this selector.",
    ),
];

const DEPLOYMENT_COLUMNS: &[Column] = &[
    NAME,
    col("Ready", "string", "Number of the pod with ready state"),
    col(
        "Up-to-date",
        "string",
        "Total number of non-terminated pods targeted by this deployment that have the desired template spec.",
    ),
    col(
        "Available",
        "string",
        "Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.",
    ),
    AGE,
    wide("Containers", "string", CONTAINERS_DOC),
    wide("Images", "string", IMAGES_DOC),
    wide(
        "Selector",
        "string",
        "Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by this deployment.",
    ),
];

const REPLICA_SET_COLUMNS: &[Column] = &[
    NAME,
    col(
        "Desired",
        "integer",
        "Replicas is the number of desired replicas.",
    ),
    col(
        "Current",
        "integer",
        "Replicas is the most recently observed number of replicas.",
    ),
    col(
        "Ready",
        "integer",
        "The number of ready replicas for this replica set.",
    ),
    AGE,
    wide("Containers", "string", CONTAINERS_DOC),
    wide("Images", "string", IMAGES_DOC),
    wide("Selector", "string", SELECTOR_DOC),
];

const STATEFUL_SET_COLUMNS: &[Column] = &[
    NAME,
    col("Ready", "string", "Number of the pod with ready state"),
    AGE,
    wide("Containers", "string", CONTAINERS_DOC),
    wide("Images", "string", IMAGES_DOC),
];

const DAEMON_SET_COLUMNS: &[Column] = &[
    NAME,
    col(
        "Desired",
        "integer",
        "The total number of nodes that should be running the daemon pod.",
    ),
    col(
        "Current",
        "integer",
        "The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod.",
    ),
    col(
        "Ready",
        "integer",
        "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and ready.",
    ),
    col(
        "Up-to-date",
        "integer",
        "The total number of nodes that are running updated daemon pod",
    ),
    col(
        "Available",
        "integer",
        "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available.",
    ),
    col(
        "Node Selector",
        "string",
        "NodeSelector is a selector which must be true for the pod to fit on a node.",
    ),
    AGE,
    wide("Containers", "string", CONTAINERS_DOC),
    wide("Images", "string", IMAGES_DOC),
    wide(
        "Selector",
        "string",
        "A label query over pods that are managed by the daemon set.",
    ),
];

const JOB_COLUMNS: &[Column] = &[
    NAME,
    col("Status", "string", "Status of the job."),
    col(
        "Completions",
        "string",
        "The number of pods which reached phase Succeeded.",
    ),
    col("Duration", "string", "Time required to complete the job."),
    AGE,
    wide("Containers", "string", CONTAINERS_DOC),
    wide("Images", "string", IMAGES_DOC),
    wide(
        "Selector",
        "string",
        "A label query over pods that should match the pod count.",
    ),
];

const PVC_COLUMNS: &[Column] = &[
    NAME,
    col(
        "Status",
        "string",
        "phase represents the current phase of PersistentVolumeClaim.",
    ),
    col(
        "Volume",
        "string",
        "volumeName is the binding reference to the PersistentVolume backing this claim.",
    ),
    col(
        "Capacity",
        "string",
        "capacity represents the actual resources of the underlying volume.",
    ),
    col(
        "Access Modes",
        "string",
        "accessModes contains the actual access modes the volume backing the PVC has.",
    ),
    col("StorageClass", "string", "StorageClass of the pvc"),
    col(
        "VolumeAttributesClass",
        "string",
        "VolumeAttributesClass of the pvc",
    ),
    AGE,
    wide(
        "VolumeMode",
        "string",
        "volumeMode defines what type of volume is required by the claim.",
    ),
];

const PV_COLUMNS: &[Column] = &[
    NAME,
    col(
        "Capacity",
        "string",
        "capacity is the description of the persistent volume's resources and capacity.",
    ),
    col(
        "Access Modes",
        "string",
        "accessModes contains all ways the volume can be mounted.",
    ),
    col(
        "Reclaim Policy",
        "string",
        "persistentVolumeReclaimPolicy defines what happens to a persistent volume when released from its claim.",
    ),
    col(
        "Status",
        "string",
        "phase indicates if a volume is available, bound to a claim, or released by a claim.",
    ),
    col(
        "Claim",
        "string",
        "claimRef is part of a bi-directional binding between PersistentVolume and PersistentVolumeClaim.",
    ),
    col("StorageClass", "string", "StorageClass of the pv"),
    col(
        "VolumeAttributesClass",
        "string",
        "VolumeAttributesClass of the pv",
    ),
    col(
        "Reason",
        "string",
        "reason is a brief CamelCase string that describes any failure and is meant for machine parsing and tidy display in the CLI.",
    ),
    AGE,
    wide(
        "VolumeMode",
        "string",
        "volumeMode defines if a volume is intended to be used with a formatted filesystem or to remain in raw block state.",
    ),
];

const EVENT_COLUMNS: &[Column] = &[
    col(
        "Last Seen",
        "string",
        "The time at which the most recent occurrence of this event was recorded.",
    ),
    col(
        "Type",
        "string",
        "Type of this event (Normal, Warning), new types could be added in the future",
    ),
    col(
        "Reason",
        "string",
        "This should be a short, machine understandable string that gives the reason for the transition into the object's current status.",
    ),
    col("Object", "string", "The object that this event is about."),
    wide(
        "Subobject",
        "string",
        "If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement, such as desiredState.manifest.containers[2].",
    ),
    wide(
        "Source",
        "string",
        "The component reporting this event. Should be a short machine understandable string.",
    ),
    col(
        "Message",
        "string",
        "A human-readable description of the status of this operation.",
    ),
    wide(
        "First Seen",
        "string",
        "The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)",
    ),
    wide(
        "Count",
        "string",
        "The number of times this event has occurred.",
    ),
    Column {
        priority: 1,
        ..NAME
    },
];

const NAMESPACE_COLUMNS: &[Column] = &[
    NAME,
    col("Status", "string", "The status of the namespace"),
    AGE,
];

const CONFIG_MAP_COLUMNS: &[Column] = &[
    NAME,
    col("Data", "string", "Data contains the configuration data."),
    AGE,
];

const SECRET_COLUMNS: &[Column] = &[
    NAME,
    col(
        "Type",
        "string",
        "Used to facilitate programmatic handling of secret data.",
    ),
    col("Data", "string", "Data contains the secret data."),
    AGE,
];

const SERVICE_ACCOUNT_COLUMNS: &[Column] = &[
    NAME,
    col(
        "Secrets",
        "string",
        "Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use.",
    ),
    AGE,
];

const DEFAULT_COLUMNS: &[Column] = &[NAME, AGE];

type RowFn = fn(&Value, DateTime<Utc>) -> Vec<Value>;

/// The columns and row printer of `kind`; kinds without a printer of their own get
/// Name and Age, as custom resources without printer columns do.
fn printer(kind: &str) -> (&'static [Column], RowFn) {
    match kind {
        "Pod" => (POD_COLUMNS, pod_row as RowFn),
        "Node" => (NODE_COLUMNS, node_row as RowFn),
        "Service" => (SERVICE_COLUMNS, service_row as RowFn),
        "Deployment" => (DEPLOYMENT_COLUMNS, deployment_row as RowFn),
        "ReplicaSet" => (REPLICA_SET_COLUMNS, replica_set_row as RowFn),
        "StatefulSet" => (STATEFUL_SET_COLUMNS, stateful_set_row as RowFn),
        "DaemonSet" => (DAEMON_SET_COLUMNS, daemon_set_row as RowFn),
        "Job" => (JOB_COLUMNS, job_row as RowFn),
        "PersistentVolumeClaim" => (PVC_COLUMNS, pvc_row as RowFn),
        "PersistentVolume" => (PV_COLUMNS, pv_row as RowFn),
        "Event" => (EVENT_COLUMNS, event_row as RowFn),
        "Namespace" => (NAMESPACE_COLUMNS, namespace_row as RowFn),
        "ConfigMap" => (CONFIG_MAP_COLUMNS, config_map_row as RowFn),
        "Secret" => (SECRET_COLUMNS, secret_row as RowFn),
        "ServiceAccount" => (SERVICE_ACCOUNT_COLUMNS, service_account_row as RowFn),
        _ => (DEFAULT_COLUMNS, default_row as RowFn),
    }
}

fn default_row(object: &Value, now: DateTime<Utc>) -> Vec<Value> {
    vec![name_cell(object), age_cell(object, now)]
}

// ---------------------------------------------------------------------------------------
// Pod

/// The row conditions the server attaches to finished pods.
fn pod_row_conditions(pod: &Value) -> Option<Value> {
    match text(pod, &["status", "phase"]) {
        "Succeeded" => Some(json!([{
            "type": "Completed",
            "status": "True",
            "reason": "Succeeded",
            "message": "The pod has completed successfully.",
        }])),
        "Failed" => Some(json!([{
            "type": "Completed",
            "status": "True",
            "reason": "Failed",
            "message": "The pod failed.",
        }])),
        _ => None,
    }
}

/// Keeps the later of `current` and `candidate` (Go's `lastRestartDate.Before(&t)`).
fn keep_latest(current: &mut Option<DateTime<Utc>>, candidate: Option<DateTime<Utc>>) {
    if let Some(t) = candidate
        && current.is_none_or(|c| c < t)
    {
        *current = Some(t);
    }
}

/// "Signal:9" / "ExitCode:137" for a terminated state without a reason.
fn exit_description(terminated: &Value) -> String {
    let signal = int(terminated, &["signal"]);
    if signal != 0 {
        format!("Signal:{signal}")
    } else {
        format!("ExitCode:{}", int(terminated, &["exitCode"]))
    }
}

/// Whether the first condition of type `kind` has status "True".
fn first_condition_true(conditions: &[Value], kind: &str) -> bool {
    conditions
        .iter()
        .find(|c| text(c, &["type"]) == kind)
        .is_some_and(|c| text(c, &["status"]) == "True")
}

fn pod_row(pod: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let phase = text(pod, &["status", "phase"]);
    let status_reason = text(pod, &["status", "reason"]);
    let conditions = list(pod, &["status", "conditions"]);
    let init_specs = list(pod, &["spec", "initContainers"]);

    let mut reason = if status_reason.is_empty() {
        phase
    } else {
        status_reason
    }
    .to_string();
    if conditions
        .iter()
        .any(|c| text(c, &["type"]) == "PodScheduled" && text(c, &["reason"]) == "SchedulingGated")
    {
        reason = "SchedulingGated".to_string();
    }

    // Sidecars (init containers with restartPolicy Always) count as containers.
    let mut restartable: HashMap<&str, bool> = HashMap::new();
    let mut total = list(pod, &["spec", "containers"]).len();
    for spec in init_specs {
        let always = text(spec, &["restartPolicy"]) == "Always";
        restartable.insert(text(spec, &["name"]), always);
        if always {
            total += 1;
        }
    }

    let mut ready = 0usize;
    let mut restarts: i64 = 0;
    let mut sidecar_restarts: i64 = 0;
    let mut last_restart: Option<DateTime<Utc>> = None;
    let mut last_sidecar_restart: Option<DateTime<Utc>> = None;

    let mut initializing = false;
    for (i, status) in list(pod, &["status", "initContainerStatuses"])
        .iter()
        .enumerate()
    {
        let count = int(status, &["restartCount"]);
        let finished = timestamp(status, &["lastState", "terminated", "finishedAt"]);
        restarts += count;
        keep_latest(&mut last_restart, finished);
        let sidecar = restartable
            .get(text(status, &["name"]))
            .copied()
            .unwrap_or(false);
        if sidecar {
            sidecar_restarts += count;
            keep_latest(&mut last_sidecar_restart, finished);
        }
        let terminated = at(status, &["state", "terminated"]).filter(|t| t.is_object());
        let waiting_reason = map_at(status, &["state", "waiting"])
            .map(|_| text(status, &["state", "waiting", "reason"]));
        if let Some(t) = terminated
            && int(t, &["exitCode"]) == 0
        {
            continue;
        }
        if sidecar && flag(status, &["started"]) {
            if flag(status, &["ready"]) {
                ready += 1;
            }
            continue;
        }
        reason = if let Some(t) = terminated {
            match text(t, &["reason"]) {
                "" => format!("Init:{}", exit_description(t)),
                r => format!("Init:{r}"),
            }
        } else if let Some(w) = waiting_reason
            && !w.is_empty()
            && w != "PodInitializing"
        {
            format!("Init:{w}")
        } else {
            format!("Init:{i}/{}", init_specs.len())
        };
        initializing = true;
        break;
    }

    if !initializing || first_condition_true(conditions, "Initialized") {
        restarts = sidecar_restarts;
        last_restart = last_sidecar_restart;
        let mut has_running = false;
        // Backwards, so the first container's state is the one that shows.
        for status in list(pod, &["status", "containerStatuses"]).iter().rev() {
            restarts += int(status, &["restartCount"]);
            keep_latest(
                &mut last_restart,
                timestamp(status, &["lastState", "terminated", "finishedAt"]),
            );
            let waiting_reason = map_at(status, &["state", "waiting"])
                .map(|_| text(status, &["state", "waiting", "reason"]))
                .unwrap_or("");
            let terminated = at(status, &["state", "terminated"]).filter(|t| t.is_object());
            if !waiting_reason.is_empty() {
                reason = waiting_reason.to_string();
            } else if let Some(t) = terminated {
                reason = match text(t, &["reason"]) {
                    "" => exit_description(t),
                    r => r.to_string(),
                };
            } else if flag(status, &["ready"]) && map_at(status, &["state", "running"]).is_some() {
                has_running = true;
                ready += 1;
            }
        }
        // A pod whose last container finished but another still runs is not "Completed".
        if reason == "Completed" && has_running {
            let pod_ready = conditions
                .iter()
                .any(|c| text(c, &["type"]) == "Ready" && text(c, &["status"]) == "True");
            reason = if pod_ready { "Running" } else { "NotReady" }.to_string();
        }
    }

    if deleting(pod) && status_reason == "NodeLost" {
        reason = "Unknown".to_string();
    } else if deleting(pod) && phase != "Failed" && phase != "Succeeded" {
        reason = "Terminating".to_string();
    }

    let restarts_cell = match last_restart {
        Some(t) if restarts != 0 => format!(
            "{restarts} ({} ago)",
            human_duration(now.signed_duration_since(t))
        ),
        _ => restarts.to_string(),
    };

    // Older objects carry only status.podIP; the server's conversion fills podIPs from it.
    let ip = match list(pod, &["status", "podIPs"]).first() {
        Some(first) => text(first, &["ip"]),
        None => text(pod, &["status", "podIP"]),
    };
    let gates = list(pod, &["spec", "readinessGates"]);
    let readiness_gates = if gates.is_empty() {
        "<none>".to_string()
    } else {
        let met = gates
            .iter()
            .filter(|gate| {
                let wanted = text(gate, &["conditionType"]);
                conditions
                    .iter()
                    .find(|c| text(c, &["type"]) == wanted)
                    .is_some_and(|c| text(c, &["status"]) == "True")
            })
            .count();
        format!("{met}/{}", gates.len())
    };

    vec![
        name_cell(pod),
        Value::from(format!("{ready}/{total}")),
        Value::from(reason),
        Value::from(restarts_cell),
        age_cell(pod, now),
        Value::from(or(ip, "<none>")),
        Value::from(or(text(pod, &["spec", "nodeName"]), "<none>")),
        Value::from(or(text(pod, &["status", "nominatedNodeName"]), "<none>")),
        Value::from(readiness_gates),
    ]
}

// ---------------------------------------------------------------------------------------
// Node

fn node_row(node: &Value, now: DateTime<Utc>) -> Vec<Value> {
    // The last Ready condition wins, as in the server's condition map.
    let ready = list(node, &["status", "conditions"])
        .iter()
        .rfind(|c| text(c, &["type"]) == "Ready");
    let mut status = vec![match ready {
        Some(c) if text(c, &["status"]) == "True" => "Ready",
        Some(_) => "NotReady",
        None => "Unknown",
    }];
    if flag(node, &["spec", "unschedulable"]) {
        status.push("SchedulingDisabled");
    }

    let mut roles: BTreeSet<&str> = BTreeSet::new();
    for (key, value) in map_at(node, &["metadata", "labels"]).into_iter().flatten() {
        if let Some(role) = key.strip_prefix("node-role.kubernetes.io/") {
            if !role.is_empty() {
                roles.insert(role);
            }
        } else if key == "kubernetes.io/role"
            && let Some(role) = value.as_str()
            && !role.is_empty()
        {
            roles.insert(role);
        }
    }
    let roles = if roles.is_empty() {
        "<none>".to_string()
    } else {
        roles.into_iter().collect::<Vec<_>>().join(",")
    };

    let address = |kind: &str| -> String {
        list(node, &["status", "addresses"])
            .iter()
            .find(|a| text(a, &["type"]) == kind)
            .map(|a| text(a, &["address"]).to_string())
            .unwrap_or_else(|| "<none>".to_string())
    };
    let info = |field: &str| -> Value {
        Value::from(or(text(node, &["status", "nodeInfo", field]), "<unknown>"))
    };

    vec![
        name_cell(node),
        Value::from(status.join(",")),
        Value::from(roles),
        age_cell(node, now),
        Value::from(text(node, &["status", "nodeInfo", "kubeletVersion"])),
        Value::from(address("InternalIP")),
        Value::from(address("ExternalIP")),
        info("osImage"),
        info("kernelVersion"),
        info("containerRuntimeVersion"),
    ]
}

// ---------------------------------------------------------------------------------------
// Service

/// `getServiceExternalIP`, as the server computes it (wide: the load balancer list is not
/// clipped).
fn service_external_ip(service: &Value, service_type: &str) -> String {
    let external_ips: Vec<&str> = list(service, &["spec", "externalIPs"])
        .iter()
        .filter_map(Value::as_str)
        .collect();
    match service_type {
        "ClusterIP" | "NodePort" => {
            if external_ips.is_empty() {
                "<none>".to_string()
            } else {
                external_ips.join(",")
            }
        }
        "LoadBalancer" => {
            let ingress: BTreeSet<&str> = list(service, &["status", "loadBalancer", "ingress"])
                .iter()
                .filter_map(|i| {
                    let ip = text(i, &["ip"]);
                    let hostname = text(i, &["hostname"]);
                    if !ip.is_empty() {
                        Some(ip)
                    } else if !hostname.is_empty() {
                        Some(hostname)
                    } else {
                        None
                    }
                })
                .collect();
            let mut all: Vec<&str> = ingress.into_iter().collect();
            if all.is_empty() && external_ips.is_empty() {
                return "<pending>".to_string();
            }
            all.extend(external_ips);
            all.join(",")
        }
        "ExternalName" => text(service, &["spec", "externalName"]).to_string(),
        _ => "<unknown>".to_string(),
    }
}

fn service_row(service: &Value, now: DateTime<Utc>) -> Vec<Value> {
    // The server defaults an unset type to ClusterIP and fills clusterIPs from clusterIP.
    let service_type = or(text(service, &["spec", "type"]), "ClusterIP");
    let cluster_ip = match list(service, &["spec", "clusterIPs"]).first() {
        Some(first) => first.as_str().unwrap_or("").to_string(),
        None => or(text(service, &["spec", "clusterIP"]), "<none>"),
    };
    let ports: Vec<String> = list(service, &["spec", "ports"])
        .iter()
        .map(|p| {
            let port = int(p, &["port"]);
            let protocol = or(text(p, &["protocol"]), "TCP");
            let node_port = int(p, &["nodePort"]);
            if node_port > 0 {
                format!("{port}:{node_port}/{protocol}")
            } else {
                format!("{port}/{protocol}")
            }
        })
        .collect();
    let ports = if ports.is_empty() {
        "<none>".to_string()
    } else {
        ports.join(",")
    };
    vec![
        name_cell(service),
        Value::from(service_type.clone()),
        Value::from(cluster_ip),
        Value::from(service_external_ip(service, &service_type)),
        Value::from(ports),
        age_cell(service, now),
        Value::from(format_labels(map_at(service, &["spec", "selector"]))),
    ]
}

// ---------------------------------------------------------------------------------------
// Workloads

/// `spec.replicas`, which the server defaults to 1 when unset.
fn desired_replicas(object: &Value) -> i64 {
    int_opt(object, &["spec", "replicas"]).unwrap_or(1)
}

fn deployment_row(deployment: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let (containers, images) = container_cells(deployment, &["spec", "template", "spec"]);
    let selector = label_selector(at(deployment, &["spec", "selector"]))
        .unwrap_or_else(|| "<invalid>".to_string());
    vec![
        name_cell(deployment),
        Value::from(format!(
            "{}/{}",
            int(deployment, &["status", "readyReplicas"]),
            desired_replicas(deployment)
        )),
        Value::from(int(deployment, &["status", "updatedReplicas"])),
        Value::from(int(deployment, &["status", "availableReplicas"])),
        age_cell(deployment, now),
        containers,
        images,
        Value::from(selector),
    ]
}

fn replica_set_row(replica_set: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let (containers, images) = container_cells(replica_set, &["spec", "template", "spec"]);
    vec![
        name_cell(replica_set),
        Value::from(desired_replicas(replica_set)),
        Value::from(int(replica_set, &["status", "replicas"])),
        Value::from(int(replica_set, &["status", "readyReplicas"])),
        age_cell(replica_set, now),
        containers,
        images,
        Value::from(format_label_selector(at(
            replica_set,
            &["spec", "selector"],
        ))),
    ]
}

fn stateful_set_row(stateful_set: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let (containers, images) = container_cells(stateful_set, &["spec", "template", "spec"]);
    vec![
        name_cell(stateful_set),
        Value::from(format!(
            "{}/{}",
            int(stateful_set, &["status", "readyReplicas"]),
            desired_replicas(stateful_set)
        )),
        age_cell(stateful_set, now),
        containers,
        images,
    ]
}

fn daemon_set_row(daemon_set: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let (containers, images) = container_cells(daemon_set, &["spec", "template", "spec"]);
    let status = |field: &str| Value::from(int(daemon_set, &["status", field]));
    vec![
        name_cell(daemon_set),
        status("desiredNumberScheduled"),
        status("currentNumberScheduled"),
        status("numberReady"),
        status("updatedNumberScheduled"),
        status("numberAvailable"),
        Value::from(format_labels(map_at(
            daemon_set,
            &["spec", "template", "spec", "nodeSelector"],
        ))),
        age_cell(daemon_set, now),
        containers,
        images,
        Value::from(format_label_selector(at(daemon_set, &["spec", "selector"]))),
    ]
}

fn job_row(job: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let succeeded = int(job, &["status", "succeeded"]);
    let completions = match int_opt(job, &["spec", "completions"]) {
        Some(completions) => format!("{succeeded}/{completions}"),
        None => {
            let parallelism = int(job, &["spec", "parallelism"]);
            if parallelism > 1 {
                format!("{succeeded}/1 of {parallelism}")
            } else {
                format!("{succeeded}/1")
            }
        }
    };
    let duration = match (
        timestamp(job, &["status", "startTime"]),
        timestamp(job, &["status", "completionTime"]),
    ) {
        (None, _) => String::new(),
        (Some(start), None) => human_duration(now.signed_duration_since(start)),
        (Some(start), Some(end)) => human_duration(end.signed_duration_since(start)),
    };
    let conditions = list(job, &["status", "conditions"]);
    let status = if first_condition_true(conditions, "Complete") {
        "Complete"
    } else if first_condition_true(conditions, "Failed") {
        "Failed"
    } else if deleting(job) {
        "Terminating"
    } else if first_condition_true(conditions, "Suspended") {
        "Suspended"
    } else if first_condition_true(conditions, "FailureTarget") {
        "FailureTarget"
    } else {
        "Running"
    };
    let (containers, images) = container_cells(job, &["spec", "template", "spec"]);
    vec![
        name_cell(job),
        Value::from(status),
        Value::from(completions),
        Value::from(duration),
        age_cell(job, now),
        containers,
        images,
        Value::from(format_label_selector(at(job, &["spec", "selector"]))),
    ]
}

// ---------------------------------------------------------------------------------------
// Storage

/// `helper.GetAccessModesAsString`: abbreviations in a fixed order, each once.
fn access_modes(modes: &[Value]) -> String {
    let has = |mode: &str| modes.iter().any(|m| m.as_str() == Some(mode));
    [
        ("ReadWriteOnce", "RWO"),
        ("ReadOnlyMany", "ROX"),
        ("ReadWriteMany", "RWX"),
        ("ReadWriteOncePod", "RWOP"),
    ]
    .into_iter()
    .filter(|&(mode, _)| has(mode))
    .map(|(_, short)| short)
    .collect::<Vec<_>>()
    .join(",")
}

/// The storage class of a PV or PVC: the beta annotation wins over `spec.storageClassName`.
fn storage_class(value: &Value) -> String {
    if let Some(class) = map_at(value, &["metadata", "annotations"])
        .and_then(|a| a.get("volume.beta.kubernetes.io/storage-class"))
        .and_then(Value::as_str)
    {
        return class.to_string();
    }
    text(value, &["spec", "storageClassName"]).to_string()
}

fn pvc_row(claim: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let phase = if deleting(claim) {
        "Terminating"
    } else {
        text(claim, &["status", "phase"])
    };
    let volume = text(claim, &["spec", "volumeName"]);
    // Capacity and access modes are the bound volume's: blank until bound.
    let (capacity, modes) = if volume.is_empty() {
        (String::new(), String::new())
    } else {
        (
            quantity(at(claim, &["status", "capacity", "storage"])),
            access_modes(list(claim, &["status", "accessModes"])),
        )
    };
    vec![
        name_cell(claim),
        Value::from(phase),
        Value::from(volume),
        Value::from(capacity),
        Value::from(modes),
        Value::from(storage_class(claim)),
        Value::from(or(
            text(claim, &["spec", "volumeAttributesClassName"]),
            "<unset>",
        )),
        age_cell(claim, now),
        Value::from(or(text(claim, &["spec", "volumeMode"]), "<unset>")),
    ]
}

fn pv_row(volume: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let phase = if deleting(volume) {
        "Terminating"
    } else {
        text(volume, &["status", "phase"])
    };
    let claim = match at(volume, &["spec", "claimRef"]) {
        Some(r) => format!("{}/{}", text(r, &["namespace"]), text(r, &["name"])),
        None => String::new(),
    };
    vec![
        name_cell(volume),
        Value::from(quantity(at(volume, &["spec", "capacity", "storage"]))),
        Value::from(access_modes(list(volume, &["spec", "accessModes"]))),
        Value::from(text(volume, &["spec", "persistentVolumeReclaimPolicy"])),
        Value::from(phase),
        Value::from(claim),
        Value::from(storage_class(volume)),
        Value::from(or(
            text(volume, &["spec", "volumeAttributesClassName"]),
            "<unset>",
        )),
        Value::from(text(volume, &["status", "reason"])),
        age_cell(volume, now),
        Value::from(or(text(volume, &["spec", "volumeMode"]), "<unset>")),
    ]
}

// ---------------------------------------------------------------------------------------
// Event

/// Field names of a core/v1 Event, or of an events.k8s.io/v1 Event (which the server
/// converts to the core type and prints the same way).
struct EventFields {
    involved: &'static str,
    message: &'static str,
    source: &'static str,
    first: &'static str,
    last: &'static str,
    count: &'static str,
    controller: &'static str,
}

const CORE_EVENT: EventFields = EventFields {
    involved: "involvedObject",
    message: "message",
    source: "source",
    first: "firstTimestamp",
    last: "lastTimestamp",
    count: "count",
    controller: "reportingComponent",
};

const EVENTS_API_EVENT: EventFields = EventFields {
    involved: "regarding",
    message: "note",
    source: "deprecatedSource",
    first: "deprecatedFirstTimestamp",
    last: "deprecatedLastTimestamp",
    count: "deprecatedCount",
    controller: "reportingController",
};

fn event_row(event: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let f = if text(event, &["apiVersion"]).starts_with("events.k8s.io/")
        || (at(event, &["involvedObject"]).is_none() && at(event, &["regarding"]).is_some())
    {
        &EVENTS_API_EVENT
    } else {
        &CORE_EVENT
    };

    let first = match timestamp(event, &[f.first]) {
        Some(t) => age_of(Some(t), now),
        None => age_of(timestamp(event, &["eventTime"]), now),
    };
    let mut last = match timestamp(event, &[f.last]) {
        Some(t) => age_of(Some(t), now),
        None => first.clone(),
    };
    let count = match at(event, &["series"]).filter(|s| s.is_object()) {
        Some(series) => {
            last = age_of(timestamp(series, &["lastObservedTime"]), now);
            int(series, &["count"])
        }
        // Singleton events of the new API have no count.
        None => match int(event, &[f.count]) {
            0 => 1,
            n => n,
        },
    };

    let kind = text(event, &[f.involved, "kind"]).to_lowercase();
    let involved_name = text(event, &[f.involved, "name"]);
    let target = if involved_name.is_empty() {
        kind
    } else {
        format!("{kind}/{involved_name}")
    };

    let component = or(
        text(event, &[f.source, "component"]),
        text(event, &[f.controller]),
    );
    let host = or(
        text(event, &[f.source, "host"]),
        text(event, &["reportingInstance"]),
    );
    let source = if host.is_empty() {
        component
    } else {
        format!("{component}, {host}")
    };

    vec![
        Value::from(last),
        Value::from(text(event, &["type"])),
        Value::from(text(event, &["reason"])),
        Value::from(target),
        Value::from(text(event, &[f.involved, "fieldPath"])),
        Value::from(source),
        Value::from(text(event, &[f.message]).trim()),
        Value::from(first),
        Value::from(count),
        name_cell(event),
    ]
}

// ---------------------------------------------------------------------------------------
// Namespace and configuration

fn namespace_row(namespace: &Value, now: DateTime<Utc>) -> Vec<Value> {
    vec![
        name_cell(namespace),
        Value::from(text(namespace, &["status", "phase"])),
        age_cell(namespace, now),
    ]
}

fn entries(value: &Value, field: &str) -> usize {
    map_at(value, &[field]).map_or(0, |m| m.len())
}

fn config_map_row(config_map: &Value, now: DateTime<Utc>) -> Vec<Value> {
    vec![
        name_cell(config_map),
        Value::from(entries(config_map, "data") + entries(config_map, "binaryData")),
        age_cell(config_map, now),
    ]
}

fn secret_row(secret: &Value, now: DateTime<Utc>) -> Vec<Value> {
    vec![
        name_cell(secret),
        Value::from(text(secret, &["type"])),
        Value::from(entries(secret, "data")),
        age_cell(secret, now),
    ]
}

fn service_account_row(account: &Value, now: DateTime<Utc>) -> Vec<Value> {
    vec![
        name_cell(account),
        Value::from(list(account, &["secrets"]).len()),
        age_cell(account, now),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        parse_time("2024-05-01T12:00:00Z").unwrap()
    }

    /// An RFC 3339 timestamp `seconds` before [`now`].
    fn ago(seconds: i64) -> String {
        (now() - TimeDelta::seconds(seconds)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    }

    fn cells(kind: &str, object: Value) -> Vec<Value> {
        let t = table(kind, &[object], now(), IncludeObject::None);
        t["rows"][0]["cells"].as_array().unwrap().clone()
    }

    /// The cell under column `name`.
    fn cell(kind: &str, object: &Value, name: &str) -> Value {
        let t = table(
            kind,
            std::slice::from_ref(object),
            now(),
            IncludeObject::None,
        );
        let index = t["columnDefinitions"]
            .as_array()
            .unwrap()
            .iter()
            .position(|c| c["name"] == name)
            .unwrap_or_else(|| panic!("{kind} has no column {name}"));
        t["rows"][0]["cells"][index].clone()
    }

    fn age(seconds: i64) -> String {
        human_age(Some(&ago(seconds)), now())
    }

    #[test]
    fn human_age_follows_human_duration_boundaries() {
        assert_eq!(human_age(None, now()), "<unknown>");
        assert_eq!(human_age(Some("not a time"), now()), "<unknown>");
        assert_eq!(human_age(Some("0001-01-01T00:00:00Z"), now()), "<unknown>");
        assert_eq!(age(0), "0s");
        assert_eq!(age(-1), "0s", "a second of clock skew reads as now");
        assert_eq!(age(-2), "<invalid>");
        assert_eq!(age(45), "45s");
        assert_eq!(age(119), "119s");
        assert_eq!(age(120), "2m");
        assert_eq!(age(5 * 60 + 30), "5m30s");
        assert_eq!(age(9 * 60 + 59), "9m59s");
        assert_eq!(age(10 * 60 + 59), "10m", "seconds dropped from ten minutes");
        assert_eq!(age(179 * 60), "179m");
        assert_eq!(age(3 * 3600), "3h");
        assert_eq!(age(3 * 3600 + 15 * 60), "3h15m");
        assert_eq!(age(7 * 3600 + 59 * 60), "7h59m");
        assert_eq!(
            age(8 * 3600 + 59 * 60),
            "8h",
            "minutes dropped from eight hours"
        );
        assert_eq!(age(47 * 3600), "47h");
        assert_eq!(age(48 * 3600), "2d");
        assert_eq!(age(2 * 86400 + 5 * 3600), "2d5h");
        assert_eq!(age(7 * 86400 + 23 * 3600), "7d23h");
        assert_eq!(age(8 * 86400 + 23 * 3600), "8d");
        assert_eq!(age(729 * 86400), "729d");
        assert_eq!(age(730 * 86400), "2y");
        assert_eq!(age(731 * 86400), "2y1d");
        assert_eq!(age(8 * 365 * 86400 + 100 * 86400), "8y");
        // Fractional seconds (MicroTime) parse too.
        assert_eq!(human_age(Some("2024-05-01T11:59:30.123456Z"), now()), "29s");
    }

    #[test]
    fn include_object_defaults_to_metadata() {
        assert_eq!(IncludeObject::parse(None), IncludeObject::Metadata);
        assert_eq!(IncludeObject::parse(Some("None")), IncludeObject::None);
        assert_eq!(IncludeObject::parse(Some("Object")), IncludeObject::Object);
        assert_eq!(
            IncludeObject::parse(Some("Metadata")),
            IncludeObject::Metadata
        );
        assert_eq!(IncludeObject::parse(Some("bogus")), IncludeObject::Metadata);
    }

    fn running_pod() -> Value {
        json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "web-0", "namespace": "shop", "creationTimestamp": ago(3 * 86400),
                         "labels": {"app": "web"}},
            "spec": {"nodeName": "ip-10-0-1-23.ec2.internal", "containers": [{"name": "app", "image": "web:1"}]},
            "status": {
                "phase": "Running", "podIP": "10.0.1.50", "podIPs": [{"ip": "10.0.1.50"}],
                "conditions": [{"type": "Initialized", "status": "True"}, {"type": "Ready", "status": "True"}],
                "containerStatuses": [{"name": "app", "ready": true, "restartCount": 0,
                                       "state": {"running": {"startedAt": ago(3 * 86400)}}}]
            }
        })
    }

    #[test]
    fn table_shape_and_row_objects() {
        let pod = running_pod();
        let t = table(
            "Pod",
            std::slice::from_ref(&pod),
            now(),
            IncludeObject::Metadata,
        );
        assert_eq!(t["kind"], "Table");
        assert_eq!(t["apiVersion"], "meta.k8s.io/v1");
        assert_eq!(t["metadata"]["resourceVersion"], "1");
        let names: Vec<&str> = t["columnDefinitions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "Name",
                "Ready",
                "Status",
                "Restarts",
                "Age",
                "IP",
                "Node",
                "Nominated Node",
                "Readiness Gates"
            ]
        );
        let priorities: Vec<i64> = t["columnDefinitions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["priority"].as_i64().unwrap())
            .collect();
        assert_eq!(priorities, [0, 0, 0, 0, 0, 1, 1, 1, 1]);
        assert_eq!(t["columnDefinitions"][0]["format"], "name");
        assert_eq!(
            t["columnDefinitions"][3]["type"], "string",
            "Restarts is a string column"
        );

        let row = &t["rows"][0];
        assert_eq!(
            row["cells"],
            json!([
                "web-0",
                "1/1",
                "Running",
                "0",
                "3d",
                "10.0.1.50",
                "ip-10-0-1-23.ec2.internal",
                "<none>",
                "<none>"
            ])
        );
        assert_eq!(row["object"]["kind"], "PartialObjectMetadata");
        assert_eq!(row["object"]["apiVersion"], "meta.k8s.io/v1");
        assert_eq!(row["object"]["metadata"]["namespace"], "shop");
        assert_eq!(row["object"]["metadata"]["labels"]["app"], "web");
        assert!(
            row.get("conditions").is_none(),
            "a running pod has no row conditions"
        );

        let none = table(
            "Pod",
            std::slice::from_ref(&pod),
            now(),
            IncludeObject::None,
        );
        assert!(none["rows"][0].get("object").is_none());
        let full = table(
            "Pod",
            std::slice::from_ref(&pod),
            now(),
            IncludeObject::Object,
        );
        assert_eq!(full["rows"][0]["object"], pod);
    }

    #[test]
    fn rows_keep_order() {
        let mut second = running_pod();
        second["metadata"]["name"] = json!("web-1");
        let t = table("Pod", &[second, running_pod()], now(), IncludeObject::None);
        assert_eq!(t["rows"][0]["cells"][0], "web-1");
        assert_eq!(t["rows"][1]["cells"][0], "web-0");
    }

    #[test]
    fn crash_looping_pod_shows_waiting_reason_and_last_restart() {
        let pod = json!({
            "metadata": {"name": "api-7d9f", "creationTimestamp": ago(2 * 3600)},
            "spec": {"containers": [{"name": "api"}]},
            "status": {
                "phase": "Running",
                "conditions": [{"type": "Initialized", "status": "True"}, {"type": "Ready", "status": "False"}],
                "containerStatuses": [{
                    "name": "api", "ready": false, "restartCount": 7,
                    "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 5m0s"}},
                    "lastState": {"terminated": {"exitCode": 1, "reason": "Error", "finishedAt": ago(5 * 60)}}
                }]
            }
        });
        let c = cells("Pod", pod);
        assert_eq!(c[1], "0/1");
        assert_eq!(c[2], "CrashLoopBackOff");
        assert_eq!(c[3], "7 (5m ago)");
        assert_eq!(c[4], "120m");
    }

    #[test]
    fn image_pull_and_oom_and_signal_reasons() {
        let waiting = |reason: &str| {
            json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c"}]},
                   "status": {"phase": "Pending", "containerStatuses": [
                       {"name": "c", "ready": false, "restartCount": 0, "state": {"waiting": {"reason": reason}}}]}})
        };
        assert_eq!(
            cell("Pod", &waiting("ImagePullBackOff"), "Status"),
            "ImagePullBackOff"
        );
        assert_eq!(
            cell("Pod", &waiting("ContainerCreating"), "Status"),
            "ContainerCreating"
        );

        let terminated = |state: Value| {
            json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c"}]},
                   "status": {"phase": "Running", "containerStatuses": [
                       {"name": "c", "ready": false, "restartCount": 2, "state": {"terminated": state}}]}})
        };
        assert_eq!(
            cell(
                "Pod",
                &terminated(json!({"exitCode": 137, "reason": "OOMKilled"})),
                "Status"
            ),
            "OOMKilled"
        );
        assert_eq!(
            cell(
                "Pod",
                &terminated(json!({"exitCode": 137, "signal": 9})),
                "Status"
            ),
            "Signal:9"
        );
        assert_eq!(
            cell("Pod", &terminated(json!({"exitCode": 3})), "Status"),
            "ExitCode:3"
        );
        // Restarts without a last termination time: just the count.
        assert_eq!(
            cell("Pod", &terminated(json!({"exitCode": 3})), "Restarts"),
            "2"
        );
    }

    #[test]
    fn evicted_pod_shows_status_reason_and_failed_row_condition() {
        let pod = json!({
            "metadata": {"name": "batch-x2k", "creationTimestamp": ago(86400)},
            "spec": {"nodeName": "ip-10-0-2-7", "containers": [{"name": "worker"}]},
            "status": {"phase": "Failed", "reason": "Evicted",
                       "message": "The node was low on resource: memory."}
        });
        let t = table(
            "Pod",
            std::slice::from_ref(&pod),
            now(),
            IncludeObject::None,
        );
        assert_eq!(t["rows"][0]["cells"][1], "0/1");
        assert_eq!(t["rows"][0]["cells"][2], "Evicted");
        assert_eq!(t["rows"][0]["cells"][5], "<none>", "no IP");
        assert_eq!(t["rows"][0]["conditions"][0]["type"], "Completed");
        assert_eq!(t["rows"][0]["conditions"][0]["reason"], "Failed");
    }

    #[test]
    fn init_containers_show_progress_and_failures() {
        let pod = |init_state: Value, restarts: i64| {
            json!({
                "metadata": {"name": "db-migrate", "creationTimestamp": ago(60)},
                "spec": {"initContainers": [{"name": "wait-db"}], "containers": [{"name": "app"}]},
                "status": {
                    "phase": "Pending",
                    "conditions": [{"type": "Initialized", "status": "False"}],
                    "initContainerStatuses": [{"name": "wait-db", "ready": false, "restartCount": restarts,
                                               "state": init_state,
                                               "lastState": {"terminated": {"exitCode": 1, "finishedAt": ago(30)}}}],
                    "containerStatuses": [{"name": "app", "ready": false, "restartCount": 0,
                                           "state": {"waiting": {"reason": "PodInitializing"}}}]
                }
            })
        };
        let running = pod(json!({"running": {"startedAt": ago(50)}}), 0);
        assert_eq!(cell("Pod", &running, "Status"), "Init:0/1");
        assert_eq!(cell("Pod", &running, "Ready"), "0/1");
        assert_eq!(cell("Pod", &running, "Restarts"), "0");

        let crashing = pod(json!({"waiting": {"reason": "CrashLoopBackOff"}}), 4);
        assert_eq!(cell("Pod", &crashing, "Status"), "Init:CrashLoopBackOff");
        assert_eq!(
            cell("Pod", &crashing, "Restarts"),
            "4 (30s ago)",
            "init restarts count while initializing"
        );

        let failed = pod(json!({"terminated": {"exitCode": 2}}), 1);
        assert_eq!(cell("Pod", &failed, "Status"), "Init:ExitCode:2");
        let oom = pod(
            json!({"terminated": {"exitCode": 137, "reason": "OOMKilled"}}),
            1,
        );
        assert_eq!(cell("Pod", &oom, "Status"), "Init:OOMKilled");
    }

    #[test]
    fn sidecar_counts_as_a_container() {
        let pod = json!({
            "metadata": {"name": "mesh", "creationTimestamp": ago(600)},
            "spec": {"initContainers": [{"name": "proxy", "restartPolicy": "Always"}],
                     "containers": [{"name": "app"}]},
            "status": {
                "phase": "Running",
                "conditions": [{"type": "Initialized", "status": "True"}, {"type": "Ready", "status": "True"}],
                "initContainerStatuses": [{"name": "proxy", "ready": true, "started": true, "restartCount": 1,
                                           "state": {"running": {}},
                                           "lastState": {"terminated": {"exitCode": 1, "finishedAt": ago(120)}}}],
                "containerStatuses": [{"name": "app", "ready": true, "restartCount": 0, "state": {"running": {}}}]
            }
        });
        assert_eq!(cell("Pod", &pod, "Ready"), "2/2");
        assert_eq!(cell("Pod", &pod, "Status"), "Running");
        assert_eq!(cell("Pod", &pod, "Restarts"), "1 (2m ago)");
    }

    #[test]
    fn completed_pod_and_completed_container_beside_a_running_one() {
        let completed = json!({
            "metadata": {"name": "job-abc", "creationTimestamp": ago(3600)},
            "spec": {"containers": [{"name": "main"}]},
            "status": {"phase": "Succeeded", "containerStatuses": [{"name": "main", "ready": false, "restartCount": 0,
                "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}]}
        });
        let t = table(
            "Pod",
            std::slice::from_ref(&completed),
            now(),
            IncludeObject::None,
        );
        assert_eq!(t["rows"][0]["cells"][1], "0/1");
        assert_eq!(t["rows"][0]["cells"][2], "Completed");
        assert_eq!(t["rows"][0]["conditions"][0]["reason"], "Succeeded");

        // The first container runs, the second completed: not "Completed".
        let mixed = |ready_condition: &str| {
            json!({
                "metadata": {"name": "mixed"},
                "spec": {"containers": [{"name": "server"}, {"name": "setup"}]},
                "status": {"phase": "Running",
                    "conditions": [{"type": "Ready", "status": ready_condition}],
                    "containerStatuses": [
                        {"name": "server", "ready": true, "restartCount": 0, "state": {"running": {}}},
                        {"name": "setup", "ready": false, "restartCount": 0,
                         "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}]}
            })
        };
        assert_eq!(cell("Pod", &mixed("True"), "Status"), "Running");
        assert_eq!(cell("Pod", &mixed("False"), "Status"), "NotReady");
        assert_eq!(cell("Pod", &mixed("False"), "Ready"), "1/2");
    }

    #[test]
    fn terminating_node_lost_and_gated_pods() {
        let mut terminating = running_pod();
        terminating["metadata"]["deletionTimestamp"] = json!(ago(10));
        assert_eq!(cell("Pod", &terminating, "Status"), "Terminating");
        assert_eq!(cell("Pod", &terminating, "Ready"), "1/1");

        let mut lost = running_pod();
        lost["metadata"]["deletionTimestamp"] = json!(ago(10));
        lost["status"]["reason"] = json!("NodeLost");
        assert_eq!(cell("Pod", &lost, "Status"), "Unknown");

        // A finished pod being deleted keeps its status.
        let mut finished = running_pod();
        finished["metadata"]["deletionTimestamp"] = json!(ago(10));
        finished["status"]["phase"] = json!("Failed");
        finished["status"]["reason"] = json!("Evicted");
        finished["status"]["containerStatuses"] = json!([]);
        assert_eq!(cell("Pod", &finished, "Status"), "Evicted");

        let gated = json!({
            "metadata": {"name": "gated"},
            "spec": {"containers": [{"name": "c"}], "schedulingGates": [{"name": "example.com/quota"}]},
            "status": {"phase": "Pending",
                       "conditions": [{"type": "PodScheduled", "status": "False", "reason": "SchedulingGated"}]}
        });
        assert_eq!(cell("Pod", &gated, "Status"), "SchedulingGated");
        assert_eq!(cell("Pod", &gated, "Node"), "<none>");
    }

    #[test]
    fn readiness_gates_and_nominated_node() {
        let mut pod = running_pod();
        pod["spec"]["readinessGates"] = json!([
            {"conditionType": "target-health.elbv2.k8s.aws/web"},
            {"conditionType": "example.com/other"}
        ]);
        pod["status"]["conditions"]
            .as_array_mut()
            .unwrap()
            .push(json!({"type": "target-health.elbv2.k8s.aws/web", "status": "True"}));
        pod["status"]["nominatedNodeName"] = json!("ip-10-0-3-3");
        assert_eq!(cell("Pod", &pod, "Readiness Gates"), "1/2");
        assert_eq!(cell("Pod", &pod, "Nominated Node"), "ip-10-0-3-3");
    }

    #[test]
    fn not_ready_unschedulable_node_with_roles() {
        let node = json!({
            "metadata": {"name": "ip-10-0-1-23.ec2.internal", "creationTimestamp": ago(40 * 86400),
                "labels": {"node-role.kubernetes.io/worker": "", "node-role.kubernetes.io/ingress": "",
                           "kubernetes.io/role": "edge", "node-role.kubernetes.io/": "",
                           "kubernetes.io/hostname": "ip-10-0-1-23"}},
            "spec": {"unschedulable": true},
            "status": {
                "conditions": [{"type": "MemoryPressure", "status": "False"},
                               {"type": "Ready", "status": "False", "reason": "KubeletNotReady"}],
                "addresses": [{"type": "Hostname", "address": "ip-10-0-1-23"},
                              {"type": "InternalIP", "address": "10.0.1.23"}],
                "nodeInfo": {"kubeletVersion": "v1.29.3-eks-ae9a62a", "osImage": "Amazon Linux 2",
                             "kernelVersion": "5.10.213-201.855.amzn2.x86_64",
                             "containerRuntimeVersion": "containerd://1.7.11"}
            }
        });
        assert_eq!(
            cells("Node", node),
            vec![
                json!("ip-10-0-1-23.ec2.internal"),
                json!("NotReady,SchedulingDisabled"),
                json!("edge,ingress,worker"),
                json!("40d"),
                json!("v1.29.3-eks-ae9a62a"),
                json!("10.0.1.23"),
                json!("<none>"),
                json!("Amazon Linux 2"),
                json!("5.10.213-201.855.amzn2.x86_64"),
                json!("containerd://1.7.11"),
            ]
        );
        let bare = json!({"metadata": {"name": "n"}});
        assert_eq!(cell("Node", &bare, "Status"), "Unknown");
        assert_eq!(cell("Node", &bare, "Roles"), "<none>");
        assert_eq!(cell("Node", &bare, "OS-Image"), "<unknown>");
        assert_eq!(cell("Node", &bare, "Age"), "<unknown>");
    }

    #[test]
    fn load_balancer_service() {
        let service = json!({
            "metadata": {"name": "web", "creationTimestamp": ago(5 * 3600)},
            "spec": {"type": "LoadBalancer", "clusterIP": "10.100.12.7", "clusterIPs": ["10.100.12.7"],
                     "selector": {"tier": "frontend", "app": "web"},
                     "ports": [{"name": "http", "port": 80, "nodePort": 30080, "protocol": "TCP"},
                               {"name": "https", "port": 443, "nodePort": 30443, "protocol": "TCP"}]},
            "status": {"loadBalancer": {"ingress": [
                {"hostname": "a1b2c3-123456.us-east-1.elb.amazonaws.com"}]}}
        });
        assert_eq!(
            cells("Service", service.clone()),
            vec![
                json!("web"),
                json!("LoadBalancer"),
                json!("10.100.12.7"),
                json!("a1b2c3-123456.us-east-1.elb.amazonaws.com"),
                json!("80:30080/TCP,443:30443/TCP"),
                json!("5h"),
                json!("app=web,tier=frontend"),
            ]
        );
        let mut pending = service;
        pending["status"] = json!({"loadBalancer": {}});
        assert_eq!(cell("Service", &pending, "External-IP"), "<pending>");

        let headless = json!({"metadata": {"name": "db"},
            "spec": {"clusterIP": "None", "ports": [{"port": 5432, "protocol": "TCP"}]}});
        assert_eq!(cell("Service", &headless, "Type"), "ClusterIP");
        assert_eq!(cell("Service", &headless, "Cluster-IP"), "None");
        assert_eq!(cell("Service", &headless, "External-IP"), "<none>");
        assert_eq!(cell("Service", &headless, "Port(s)"), "5432/TCP");
        assert_eq!(cell("Service", &headless, "Selector"), "<none>");

        let external = json!({"metadata": {"name": "ext"},
            "spec": {"type": "ExternalName", "externalName": "db.example.com"}});
        assert_eq!(cell("Service", &external, "External-IP"), "db.example.com");
        assert_eq!(cell("Service", &external, "Port(s)"), "<none>");
    }

    #[test]
    fn deployment_counts_are_numbers() {
        let deployment = json!({
            "metadata": {"name": "web", "creationTimestamp": ago(20 * 86400)},
            "spec": {"replicas": 3,
                     "selector": {"matchLabels": {"app": "web"},
                                  "matchExpressions": [{"key": "tier", "operator": "In", "values": ["b", "a"]}]},
                     "template": {"spec": {"containers": [{"name": "app", "image": "web:2"},
                                                          {"name": "log", "image": "fluent-bit:3"}]}}},
            "status": {"replicas": 3, "readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2}
        });
        assert_eq!(
            cells("Deployment", deployment),
            vec![
                json!("web"),
                json!("2/3"),
                json!(3),
                json!(2),
                json!("20d"),
                json!("app,log"),
                json!("web:2,fluent-bit:3"),
                json!("app=web,tier in (a,b)"),
            ]
        );
        // Unset replicas default to 1; no ready replicas is 0.
        let fresh = json!({"metadata": {"name": "new"}, "spec": {}});
        assert_eq!(cell("Deployment", &fresh, "Ready"), "0/1");
        assert_eq!(cell("Deployment", &fresh, "Selector"), "");
    }

    #[test]
    fn persistent_volume_claims() {
        let bound = json!({
            "metadata": {"name": "data-db-0", "creationTimestamp": ago(90 * 60)},
            "spec": {"storageClassName": "gp3", "volumeName": "pvc-5f1c", "volumeMode": "Filesystem",
                     "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "10Gi"}}},
            "status": {"phase": "Bound", "accessModes": ["ReadOnlyMany", "ReadWriteOnce"],
                       "capacity": {"storage": "10Gi"}}
        });
        assert_eq!(
            cells("PersistentVolumeClaim", bound.clone()),
            vec![
                json!("data-db-0"),
                json!("Bound"),
                json!("pvc-5f1c"),
                json!("10Gi"),
                json!("RWO,ROX"),
                json!("gp3"),
                json!("<unset>"),
                json!("90m"),
                json!("Filesystem"),
            ]
        );
        let pending = json!({
            "metadata": {"name": "scratch",
                         "annotations": {"volume.beta.kubernetes.io/storage-class": "legacy"}},
            "spec": {"storageClassName": "gp3", "resources": {"requests": {"storage": "1Gi"}}},
            "status": {"phase": "Pending"}
        });
        assert_eq!(
            cell("PersistentVolumeClaim", &pending, "Capacity"),
            "",
            "no capacity until bound"
        );
        assert_eq!(cell("PersistentVolumeClaim", &pending, "Access Modes"), "");
        assert_eq!(
            cell("PersistentVolumeClaim", &pending, "StorageClass"),
            "legacy"
        );
        assert_eq!(
            cell("PersistentVolumeClaim", &pending, "VolumeMode"),
            "<unset>"
        );
        let mut deleting = bound;
        deleting["metadata"]["deletionTimestamp"] = json!(ago(5));
        assert_eq!(
            cell("PersistentVolumeClaim", &deleting, "Status"),
            "Terminating"
        );
    }

    #[test]
    fn repeated_event() {
        let event = json!({
            "apiVersion": "v1", "kind": "Event",
            "metadata": {"name": "web-0.17c8a2b3", "namespace": "shop"},
            "involvedObject": {"kind": "Pod", "name": "web-0", "namespace": "shop",
                               "fieldPath": "spec.containers{app}"},
            "reason": "BackOff", "type": "Warning",
            "message": "Back-off restarting failed container app in pod web-0\n",
            "source": {"component": "kubelet", "host": "ip-10-0-1-23"},
            "firstTimestamp": ago(3600), "lastTimestamp": ago(5 * 60), "count": 3
        });
        assert_eq!(
            cells("Event", event),
            vec![
                json!("5m"),
                json!("Warning"),
                json!("BackOff"),
                json!("pod/web-0"),
                json!("spec.containers{app}"),
                json!("kubelet, ip-10-0-1-23"),
                json!("Back-off restarting failed container app in pod web-0"),
                json!("60m"),
                json!(3),
                json!("web-0.17c8a2b3"),
            ]
        );
        let t = table("Event", &[], now(), IncludeObject::Metadata);
        let names: Vec<&str> = t["columnDefinitions"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["priority"] == 0)
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["Last Seen", "Type", "Reason", "Object", "Message"]);
    }

    #[test]
    fn new_style_events() {
        // core/v1 shape written by an events.k8s.io client: eventTime and series, no count.
        let series = json!({
            "metadata": {"name": "e1"},
            "involvedObject": {"kind": "Node", "name": "ip-10-0-1-23"},
            "reason": "NodeNotReady", "type": "Normal", "message": "Node is not ready",
            "eventTime": ago(7200), "reportingComponent": "node-controller",
            "series": {"count": 4, "lastObservedTime": ago(30)}
        });
        let c = cells("Event", series);
        assert_eq!(c[0], "30s");
        assert_eq!(c[3], "node/ip-10-0-1-23");
        assert_eq!(c[5], "node-controller");
        assert_eq!(c[7], "120m");
        assert_eq!(c[8], 4);

        // events.k8s.io/v1, a singleton: count 1, last seen is first seen.
        let single = json!({
            "apiVersion": "events.k8s.io/v1", "kind": "Event",
            "metadata": {"name": "e2"},
            "regarding": {"kind": "Deployment", "name": "web"},
            "reason": "ScalingReplicaSet", "type": "Normal", "note": "Scaled up replica set web-5d to 3",
            "eventTime": ago(45), "reportingController": "deployment-controller",
            "reportingInstance": "kcm-1"
        });
        let c = cells("Event", single);
        assert_eq!(c[0], "45s");
        assert_eq!(c[3], "deployment/web");
        assert_eq!(c[5], "deployment-controller, kcm-1");
        assert_eq!(c[6], "Scaled up replica set web-5d to 3");
        assert_eq!(c[8], 1);
    }

    #[test]
    fn namespace_and_other_kinds() {
        let namespace = json!({"metadata": {"name": "shop", "creationTimestamp": ago(100 * 86400)},
                               "status": {"phase": "Terminating"}});
        assert_eq!(
            cells("Namespace", namespace),
            vec![json!("shop"), json!("Terminating"), json!("100d")]
        );

        let widget = json!({"apiVersion": "example.com/v1", "kind": "Widget",
                            "metadata": {"name": "w", "creationTimestamp": ago(30)}});
        let t = table("Widget", &[widget], now(), IncludeObject::Metadata);
        assert_eq!(t["columnDefinitions"].as_array().unwrap().len(), 2);
        assert_eq!(t["columnDefinitions"][1]["name"], "Age");
        assert_eq!(t["rows"][0]["cells"], json!(["w", "30s"]));

        let config_map = json!({"metadata": {"name": "cfg"}, "data": {"a": "1", "b": "2"},
                                "binaryData": {"c": "AA=="}});
        assert_eq!(cell("ConfigMap", &config_map, "Data"), 3);
    }

    #[test]
    fn odd_objects_never_panic_and_fill_every_column() {
        let odd = [
            json!(null),
            json!({}),
            json!("a string"),
            json!({"metadata": "x", "spec": [1, 2], "status": {"containerStatuses": "none",
                   "initContainerStatuses": [null, 3, {"state": {"terminated": null, "waiting": 7}}],
                   "conditions": [{"type": 5}], "podIPs": [null]}}),
            json!({"metadata": {"name": 5, "creationTimestamp": "yesterday", "labels": [],
                                "deletionTimestamp": 0},
                   "spec": {"replicas": "three", "selector": {"matchExpressions": [{"operator": "Bogus"}]},
                            "ports": [{"port": "http"}], "type": 1, "clusterIPs": [null]},
                   "involvedObject": "pod", "series": 3, "count": -2.5}),
        ];
        for kind in [
            "Pod",
            "Node",
            "Service",
            "Deployment",
            "ReplicaSet",
            "StatefulSet",
            "DaemonSet",
            "Job",
            "PersistentVolumeClaim",
            "PersistentVolume",
            "Event",
            "Namespace",
            "ConfigMap",
            "Secret",
            "ServiceAccount",
            "Widget",
        ] {
            let t = table(kind, &odd, now(), IncludeObject::Metadata);
            let columns = t["columnDefinitions"].as_array().unwrap().len();
            for row in t["rows"].as_array().unwrap() {
                assert_eq!(
                    row["cells"].as_array().unwrap().len(),
                    columns,
                    "{kind}: {row}"
                );
                assert!(row["object"]["metadata"].is_object(), "{kind}: {row}");
            }
        }
        assert_eq!(cell("Deployment", &odd[4], "Selector"), "<invalid>");
        assert_eq!(cell("Pod", &odd[1], "Status"), "");
    }
}
