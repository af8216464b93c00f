//! Triage over every fixture: the runbooks' symptoms find the targets their walks
//! diagnose, alike targets are grouped, the ranking is critical first then most recent,
//! and nothing critical is suggested where nothing is broken.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn ktriage(args: &[&str]) -> Value {
    let isolated = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_ktriage"))
        .args(args)
        .env("XDG_CONFIG_HOME", isolated.path())
        .env("XDG_STATE_HOME", isolated.path())
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{args:?}: not JSON ({e}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn triage(snapshot: &Path) -> Vec<Value> {
    let report = ktriage(&[
        "triage",
        "--output",
        "json",
        "--snapshot",
        snapshot.to_str().unwrap(),
    ]);
    report["suggestions"].as_array().unwrap().clone()
}

fn rank(severity: &str) -> u8 {
    match severity {
        "critical" => 2,
        "warning" => 1,
        _ => 0,
    }
}

/// Whether a suggestion is about `target`: as its first target, one of a group, or
/// cluster-wide (a DNS outage is suggested once, not once per client pod).
fn about(s: &Value, runbook: &str, target: Option<&str>) -> bool {
    s["runbook"] == runbook
        && (s["target"].is_null()
            || s["target"].as_str() == target
            || s["also"]
                .as_array()
                .is_some_and(|a| a.iter().any(|t| t.as_str() == target)))
}

#[test]
fn twenty_pods_evicted_from_one_node_are_one_suggestion_with_a_count() {
    let suggestions = triage(&fixtures().join("evict-memory-pressure"));
    let evictions: Vec<&Value> = suggestions
        .iter()
        .filter(|s| s["runbook"] == "pod-evictions" && s["severity"] == "critical")
        .collect();
    assert_eq!(evictions.len(), 1, "{suggestions:#?}");
    let s = evictions[0];
    assert_eq!(s["count"], 2);
    let also: Vec<&str> = s["also"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    assert!(
        also.contains(&"insights/report-renderer-6f9b7c5d48-x2v7q"),
        "{also:?}"
    );
    assert!(
        also.contains(&"insights/pdf-merge-worker-84c7d9f6b7-jr4sp"),
        "{also:?}"
    );
    // The most recent eviction leads the group.
    assert_eq!(s["target"], "insights/pdf-merge-worker-84c7d9f6b7-jr4sp");
}

#[test]
fn every_fixture_is_ranked_critical_first_then_most_recent() {
    let mut checked = 0;
    for entry in std::fs::read_dir(fixtures()).unwrap() {
        let dir = entry.unwrap().path();
        if !dir.join("snapshot.yaml").is_file() {
            continue;
        }
        let suggestions = triage(&dir);
        for pair in suggestions.windows(2) {
            let (a, b) = (&pair[0], &pair[1]);
            let (ra, rb) = (
                rank(a["severity"].as_str().unwrap()),
                rank(b["severity"].as_str().unwrap()),
            );
            assert!(
                ra > rb || (ra == rb && a["since"].as_str() >= b["since"].as_str()),
                "{}: {a} ranked before {b}",
                dir.display()
            );
        }
        checked += 1;
    }
    assert!(checked > 40, "only {checked} fixtures");
}

/// Findings triage does not look for, by design:
/// - about one client pod's own configuration: triage cannot know which pod is the client,
///   so only a walk with `--target` finds them;
/// - a zone conflict of a claim that is already Bound: the claim shows nothing, its pod
///   does (Pending), and scanning every bound claim's consumers would cost a pod list per
///   namespace on every triage; the `pod-pending` runbook will start from the pod.
const CLIENT_SIDE: &[&str] = &["DNS_EGRESS_BLOCKED_BY_NETWORKPOLICY", "PVC_ZONE_CONFLICT"];

/// Cases a walk still explains but triage leaves out by design: an eviction two days
/// old is history, not something to put in front of the engineer on call.
const HISTORIC: &[&str] = &["ledger/ledger-writer-6c4d8b7f95-4tgzl"];

/// Every case a walk diagnoses as critical was found by triage: the symptom sees what
/// the runbook explains, on fixtures nobody tuned the symptom to.
#[test]
fn what_a_walk_finds_critical_triage_suggests() {
    let runbooks = Path::new(env!("CARGO_MANIFEST_DIR")).join("runbooks");
    let mut checked = 0;
    let mut files: Vec<PathBuf> = std::fs::read_dir(&runbooks)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".tests.yaml"))
        .collect();
    files.sort();
    for file in files {
        let doc: Value = serde_saphyr::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        let runbook = doc["runbook"].as_str().unwrap();
        for case in doc["cases"].as_array().unwrap() {
            if case["answers"].as_object().is_some_and(|a| !a.is_empty()) {
                continue;
            }
            let snapshot = runbooks.join(case["snapshot"].as_str().unwrap());
            let target = case["target"].as_str();
            let mut args = vec![
                "run",
                runbook,
                "--output",
                "json",
                "--snapshot",
                snapshot.to_str().unwrap(),
            ];
            if let Some(t) = target {
                args.extend(["--target", t]);
            }
            let record = ktriage(&args);
            if record["conclusion"]["severity"] != "critical"
                || target.is_some_and(|t| HISTORIC.contains(&t))
                || CLIENT_SIDE.contains(&record["conclusion"]["code"].as_str().unwrap())
            {
                continue;
            }
            let suggestions = triage(&snapshot);
            assert!(
                suggestions.iter().any(|s| about(s, runbook, target)),
                "{runbook} / {}: the walk concludes {} but triage does not suggest it: {suggestions:#?}",
                case["name"],
                record["conclusion"]["code"]
            );
            checked += 1;
        }
    }
    assert!(checked >= 30, "only {checked} critical cases");
}

#[test]
fn where_nothing_is_broken_nothing_critical_is_suggested() {
    for dir in [
        "examples/healthy-cluster/snapshot",
        "nnj-all-joined",
        "dns-undetermined",
        "evict-near-miss-healthy-pod",
        "pvc-bound-healthy",
    ] {
        let suggestions = triage(&fixtures().join(dir));
        assert!(
            !suggestions.iter().any(|s| s["severity"] == "critical"),
            "{dir}: {suggestions:#?}"
        );
    }
}

#[test]
fn the_pod_scan_reads_only_what_the_symptom_reads() {
    let catalog = ktriage::runbook::Catalog::builtin();
    let fields = catalog
        .get("pod-evictions")
        .unwrap()
        .symptom_target_fields()
        .expect("the eviction symptom reads parts of the pod, not all of it");
    let paths: Vec<String> = fields.0.iter().map(|p| p.join(".")).collect();
    assert!(paths.contains(&"status.reason".to_string()), "{paths:?}");
    assert!(
        !paths.iter().any(|p| p.starts_with("spec.volumes")),
        "{paths:?}"
    );
    assert!(
        !paths.iter().any(|p| p == "spec" || p.is_empty()),
        "{paths:?}"
    );
}

/// One command through the binary: exit code, stdout, stderr.
fn ktriage_raw(args: &[&str]) -> (i32, String, String) {
    let isolated = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_ktriage"))
        .args(args)
        .env("XDG_CONFIG_HOME", isolated.path())
        .env("XDG_STATE_HOME", isolated.path())
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A snapshot holding nodes and nothing else: no runbook's symptom can be decided, and
/// triage must say so first and exit 5 (inconclusive), never "✓ No symptom shows".
#[test]
fn triage_that_could_not_decide_a_symptom_is_inconclusive_and_says_what_it_could_not_see() {
    let dir = tempfile::tempdir().unwrap();
    let snap = dir.path().join("nodes-only");
    std::fs::create_dir_all(snap.join("k8s")).unwrap();
    std::fs::copy(
        fixtures().join("pvc-csi-unauthorized/k8s/nodes.yaml"),
        snap.join("k8s/nodes.yaml"),
    )
    .unwrap();
    std::fs::copy(
        fixtures().join("pvc-csi-unauthorized/snapshot.yaml"),
        snap.join("snapshot.yaml"),
    )
    .unwrap();
    let path = snap.to_str().unwrap();

    let (code, out, err) = ktriage_raw(&["triage", "--snapshot", path]);
    assert_eq!(code, 5, "{out}\n{err}");
    let first = out.lines().next().unwrap_or_default();
    assert!(
        first.starts_with("? INCONCLUSIVE — checked 0 of 4 runbooks;"),
        "{out}"
    );
    assert!(out.contains("no Pod objects in this snapshot"), "{out}");
    assert!(!out.contains('✓'), "nothing may look healthy: {out}");
    for line in out.lines() {
        assert!(line.chars().count() <= 80, "over 80 columns: {line:?}");
    }

    let (code, out, _) = ktriage_raw(&["triage", "--snapshot", path, "-o", "json"]);
    assert_eq!(code, 5);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["coverage"]["complete"], false, "{v:#}");
    assert_eq!(v["coverage"]["runbooks"], 4, "{v:#}");
    assert_eq!(v["coverage"]["checked"], 0, "{v:#}");
    assert!(
        v["coverage"]["summary"]
            .as_str()
            .unwrap()
            .starts_with("checked 0 of 4 runbooks; "),
        "{v:#}"
    );
    let pods = v["not_checked"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["runbook"] == "pod-evictions")
        .expect("pod-evictions is not checked");
    assert_eq!(
        pods["cannot_see"][0], "no Pod objects in this snapshot",
        "{v:#}"
    );

    let (code, out, _) = ktriage_raw(&["triage", "--snapshot", path, "-o", "markdown"]);
    assert_eq!(code, 5);
    assert!(
        out.contains("**? Inconclusive:** checked 0 of 4 runbooks;"),
        "{out}"
    );
}

/// A critical finding still decides the exit code (3 over 5), and what could not be seen
/// heads the "Not checked" list instead of hiding in it.
#[test]
fn a_critical_finding_outranks_what_could_not_be_seen() {
    let snapshot = fixtures().join("examples/pvc-storageclass-not-found/snapshot");
    let (code, out, _) = ktriage_raw(&["triage", "--snapshot", snapshot.to_str().unwrap()]);
    assert_eq!(code, 3, "{out}");
    assert!(out.lines().next().unwrap().contains("CRITICAL"), "{out}");
    assert!(
        out.contains("Not checked — checked 3 of 4 runbooks;"),
        "{out}"
    );
}

/// Live, with pods and events forbidden by RBAC: triage leads with the refusal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_triage_with_pods_forbidden_leads_with_the_refusal_and_exits_5() {
    use ktriage::serve::{ServeOptions, Server};
    let dir = tempfile::tempdir().unwrap();
    let snapshot = ktriage::source::snapshot::Snapshot::open(
        &fixtures().join("examples/healthy-cluster/snapshot"),
    )
    .unwrap();
    let server = Server::bind(
        std::sync::Arc::new(snapshot),
        ServeOptions {
            forbid: vec!["pods".into(), "events".into()],
            ..ServeOptions::default()
        },
    )
    .await
    .unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    server.write_kubeconfig(&kubeconfig).unwrap();
    let task = tokio::spawn(server.run());
    let catalog = ktriage::runbook::Catalog::builtin();
    let run = |format: &'static str| {
        let args: Vec<String> = [
            "triage",
            "--no-aws",
            "--kubeconfig",
            kubeconfig.to_str().unwrap(),
            "--output",
            format,
        ]
        .map(String::from)
        .to_vec();
        let catalog = &catalog;
        async move { crate::common::ktriage(catalog, &args).await }
    };
    let (code, out, err) = run("text").await;
    assert_eq!(code, 5, "{out}\n{err}");
    let lead: String = out
        .lines()
        .take_while(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        lead.starts_with("? INCONCLUSIVE — checked 1 of 4 runbooks; cannot list pods (RBAC)"),
        "{out}"
    );
    // The cluster-wide refusal stands for the same one in kube-system.
    assert!(!lead.contains("cannot list pods in kube-system"), "{out}");
    assert!(!out.contains('✓'), "{out}");

    let (code, out, _) = run("json").await;
    assert_eq!(code, 5);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        v["coverage"]["cannot_see"][0], "cannot list pods (RBAC)",
        "{v:#}"
    );
    task.abort();
}

/// A pasted Pod is not a cluster with nothing else: pods of namespaces it does not show
/// are unknown, so triage never says CoreDNS is missing, and says what it could not see.
#[test]
fn a_pasted_pod_never_makes_the_rest_of_the_cluster_absent() {
    let fixture = fixtures().join("pasted-pod-crashloop");
    let (code, out, err) = ktriage_raw(&[
        "triage",
        "--output",
        "json",
        "--snapshot",
        fixture.to_str().unwrap(),
    ]);
    assert_eq!(code, 5, "{out}{err}");
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["suggestions"], serde_json::json!([]), "{report:#}");
    let text = report.to_string();
    assert!(!text.contains("no CoreDNS pod"), "{report:#}");
    let cannot: Vec<&str> = report["coverage"]["cannot_see"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        cannot.iter().any(|c| c.contains(
            "no Pod objects of namespace kube-system in this snapshot (captured only in shop)"
        )),
        "{cannot:?}"
    );
}

/// Without StorageClasses the claim's ExternalProvisioning event still shows it stuck: the
/// PV controller hands a claim over only once it is to be provisioned now, so triage
/// suggests pvc-pending rather than treating the claim as waiting for its consumer.
#[test]
fn a_claim_handed_to_its_provisioner_is_suggested_without_its_storage_class() {
    let suggestions = triage(&fixtures().join("pvc-external-provisioning-no-class"));
    let claim = suggestions
        .iter()
        .find(|s| about(s, "pvc-pending", Some("streaming/data-kafka-broker-2")))
        .unwrap_or_else(|| panic!("{suggestions:#?}"));
    assert_eq!(claim["severity"], "critical", "{claim:#}");
    assert!(
        claim["reason"]
            .as_str()
            .unwrap()
            .contains("external provisioner 'ebs.csi.aws.com'"),
        "{claim:#}"
    );
}

/// A node that is booting or NotReady is not a node that never joined: node-not-joining
/// is critical only when fewer nodes *registered* than desired for longer than instances
/// take to join; registered nodes that stay NotReady are a warning, and nodes that
/// registered seconds ago are nothing yet.
#[test]
fn node_not_joining_is_suggested_for_missing_nodes_not_starting_ones() {
    let of = |dir: &str, group: &str| -> Vec<String> {
        triage(&fixtures().join(dir))
            .iter()
            .filter(|s| about(s, "node-not-joining", Some(group)))
            .map(|s| s["severity"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        of("nnj-node-booting", "ng-ml-inference"),
        Vec::<String>::new(),
        "two nodes registered 45 s ago and initialising their CNI"
    );
    assert_eq!(
        of("nnj-joined-not-ready", "ng-ml-inference"),
        ["warning"],
        "registered 14 minutes ago and still NotReady: joining worked"
    );
    assert_eq!(
        of("nnj-role-not-mapped-api", "ng-arm64"),
        ["critical"],
        "instances that never registered"
    );
}
