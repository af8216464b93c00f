//! The same cluster state must lead to the same conclusion whatever shape it arrives in,
//! and a shape that lacks data must make the walk say so rather than conclude a cause it
//! could not see. Every runbook test case is replayed here from two derived snapshots:
//! the fixture without its `aws/` folder, and (for the eviction and DNS runbooks) the
//! fixture rewritten as `kubectl cluster-info dump --all-namespaces --output-directory`.

use ktriage::facts::GroupKind;
use ktriage::facts::shape::normalize_events;
use ktriage::source::snapshot::Snapshot;
use serde_json::{Value, json};

use crate::common::{Case, cases, copy_dir, names_what_a_dump_lacks};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Walks a case over `snapshot` with the built-in runbooks; the JSON walk record.
fn walk(case: &Case, snapshot: &Path) -> Value {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ktriage"));
    cmd.args(["run", &case.runbook, "--output", "json", "--snapshot"])
        .arg(snapshot);
    if let Some(t) = &case.target {
        cmd.args(["--target", t]);
    }
    for a in &case.answers {
        cmd.args(["--answer", a]);
    }
    let isolated = tempfile::tempdir().unwrap();
    cmd.env("XDG_CONFIG_HOME", isolated.path())
        .env("XDG_STATE_HOME", isolated.path());
    let out = cmd.output().unwrap();
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{} / {}: no walk record ({e}): {}",
            case.runbook,
            case.name,
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn code(record: &Value) -> Option<&str> {
    record["conclusion"]["code"].as_str()
}

#[test]
fn without_aws_data_no_walk_concludes_a_different_cause() {
    let scratch = tempfile::tempdir().unwrap();
    let mut checked = 0;
    for (i, case) in cases().iter().enumerate() {
        if !case.snapshot.join("aws").is_dir() {
            continue;
        }
        let bare = scratch.path().join(i.to_string());
        copy_dir(&case.snapshot, &bare, "aws");
        let record = walk(case, &bare);
        let status = record["status"].as_str().unwrap();
        // Either the conclusion never needed AWS, or the walk stops and says what it lacks.
        let honest = match status {
            "concluded" => code(&record) == case.code.as_deref(),
            _ => {
                record["missing"].as_array().is_some_and(|m| !m.is_empty())
                    || status == "needs-input"
            }
        };
        assert!(
            honest,
            "{} / {}: without aws/ the walk must conclude {:?} or stop and name what is missing, got {status} {:?}\n{record:#}",
            case.runbook,
            case.name,
            case.code,
            code(&record)
        );
        checked += 1;
    }
    assert!(checked >= 20, "only {checked} cases had aws/ data");
}

/// What `kubectl cluster-info dump` holds: nodes, and per namespace these kinds.
const DUMP_KINDS: &[(&str, &str, &str)] = &[
    ("", "Pod", "pods.json"),
    ("", "Service", "services.json"),
    ("apps", "Deployment", "deployments.json"),
    ("apps", "ReplicaSet", "replicasets.json"),
    ("apps", "DaemonSet", "daemonsets.json"),
    ("", "ReplicationController", "replication-controllers.json"),
];

fn list(snapshot: &Snapshot, group: &str, kind: &str) -> Vec<Value> {
    snapshot
        .list_json(&GroupKind::new(group, kind), None, None, None)
        .map(|items| {
            items
                .iter()
                .map(|t| serde_json::from_str(t).unwrap())
                .collect()
        })
        .unwrap_or_default()
}

fn write_list(path: &Path, kind: &str, items: Vec<Value>) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let doc = json!({"kind": format!("{kind}List"), "apiVersion": "v1", "metadata": {"resourceVersion": "1"}, "items": items});
    std::fs::write(path, serde_json::to_string_pretty(&doc).unwrap()).unwrap();
}

fn namespace_of(o: &Value) -> String {
    o["metadata"]["namespace"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// Rewrites a native snapshot the way `kubectl cluster-info dump --all-namespaces
/// --output-directory` would have written the same cluster: only the kinds the dump
/// collects, events through the core/v1 API, current logs in one `logs.txt` per pod.
fn to_cluster_info_dump(native: &Path, out: &Path) {
    let snapshot = Snapshot::open(native).unwrap();
    write_list(&out.join("nodes.json"), "Node", list(&snapshot, "", "Node"));
    let mut namespaces: BTreeMap<String, BTreeMap<&str, Vec<Value>>> = BTreeMap::new();
    for ns in list(&snapshot, "", "Namespace") {
        namespaces
            .entry(ns["metadata"]["name"].as_str().unwrap().to_string())
            .or_default();
    }
    for (group, kind, file) in DUMP_KINDS {
        for o in list(&snapshot, group, kind) {
            namespaces
                .entry(namespace_of(&o))
                .or_default()
                .entry(file)
                .or_default()
                .push(o);
        }
    }
    let mut raw_events = list(&snapshot, "", "Event");
    raw_events.extend(list(&snapshot, "events.k8s.io", "Event"));
    for mut e in normalize_events(&raw_events) {
        if let Some(o) = e.as_object_mut() {
            o.insert("apiVersion".into(), json!("v1"));
            o.insert("kind".into(), json!("Event"));
        }
        namespaces
            .entry(namespace_of(&e))
            .or_default()
            .entry("events.json")
            .or_default()
            .push(e);
    }
    for (ns, mut files) in namespaces {
        if ns.is_empty() {
            continue;
        }
        for (_, _, file) in DUMP_KINDS.iter().chain([&("", "Event", "events.json")]) {
            let items = files.remove(file).unwrap_or_default();
            let kind = if *file == "events.json" {
                "Event"
            } else {
                DUMP_KINDS.iter().find(|k| k.2 == *file).unwrap().1
            };
            write_list(&out.join(&ns).join(file), kind, items);
        }
    }
    // Current logs only: the dump does not ask for previous instances.
    let logs = native.join("logs");
    let Ok(namespaces) = std::fs::read_dir(&logs) else {
        return;
    };
    for ns in namespaces {
        let ns = ns.unwrap();
        for pod in std::fs::read_dir(ns.path()).unwrap() {
            let pod = pod.unwrap();
            let mut text = String::new();
            let mut files: Vec<PathBuf> = std::fs::read_dir(pod.path())
                .unwrap()
                .map(|f| f.unwrap().path())
                .filter(|p| {
                    let n = p.file_name().unwrap().to_string_lossy();
                    n.ends_with(".log") && !n.ends_with(".previous.log")
                })
                .collect();
            files.sort();
            for f in files {
                let container = f.file_stem().unwrap().to_string_lossy().into_owned();
                let who = format!(
                    "container {container} of pod {}/{}",
                    ns.file_name().to_string_lossy(),
                    pod.file_name().to_string_lossy()
                );
                let body = std::fs::read_to_string(&f).unwrap();
                text.push_str(&format!("==== START logs for {who} ====\n{body}"));
                if !body.ends_with('\n') && !body.is_empty() {
                    text.push('\n');
                }
                text.push_str(&format!("==== END logs for {who} ====\n"));
            }
            let dir = out.join(ns.file_name()).join(pod.file_name());
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join("logs.txt"), text).unwrap();
        }
    }
}

#[test]
fn eviction_and_dns_cases_conclude_the_same_from_a_cluster_info_dump() {
    let scratch = tempfile::tempdir().unwrap();
    let mut same = 0;
    let mut dumps: BTreeMap<PathBuf, PathBuf> = BTreeMap::new();
    for case in cases() {
        if case.runbook != "pod-evictions" && case.runbook != "dns-timeouts" {
            continue;
        }
        let n = dumps.len();
        let dump = dumps
            .entry(case.snapshot.clone())
            .or_insert_with(|| {
                let d = scratch.path().join(format!("dump-{n}"));
                to_cluster_info_dump(&case.snapshot, &d);
                d
            })
            .clone();
        let native = walk(&case, &case.snapshot);
        let dumped = walk(&case, &dump);
        if code(&dumped) == code(&native) && dumped["status"] == native["status"] {
            same += 1;
            continue;
        }
        // A different outcome is only allowed where the walk lacked what a dump cannot
        // hold, and says so.
        assert!(
            names_what_a_dump_lacks(&dumped),
            "{} / {}: from a cluster-info dump the walk gives {:?} ({}) instead of {:?} without naming data a dump lacks:\n{dumped:#}",
            case.runbook,
            case.name,
            code(&dumped),
            dumped["status"],
            code(&native)
        );
    }
    assert!(
        same >= 15,
        "only {same} cases concluded the same from a dump"
    );
}
