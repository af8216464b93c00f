//! The snapshot reader through its public API: every layout, the answer contract
//! runbooks rely on, and the safety of reading archives from someone else.

use flate2::Compression;
use flate2::write::GzEncoder;
use ktriage::facts::Source;
use ktriage::facts::{EksQuery, FactError, FactQuery, GroupKind, LogEventsQuery, ObjectRef};
use ktriage::source::snapshot::{Limits, Snapshot, SnapshotError};
use proptest::prelude::*;
use serde_json::{Value, json};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::task::{Context, Poll, Waker};

// ---------------------------------------------------------------- helpers

fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/examples/pvc-storageclass-not-found/snapshot")
}

/// The one way tests lay out files, on disk or in memory.
fn write_tree(root: &Path, files: &[(&str, &str)]) {
    for (path, content) in files {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().expect("has a parent")).expect("mkdir");
        std::fs::write(path, content).expect("write");
    }
}

fn snap(files: &[(&str, &str)]) -> Snapshot {
    let files = files
        .iter()
        .map(|(p, c)| (p.to_string(), c.as_bytes().to_vec()))
        .collect();
    Snapshot::from_files("test", files).expect("snapshot opens")
}

fn ask(s: &Snapshot, query: FactQuery) -> Result<Value, FactError> {
    let mut future = std::pin::pin!(s.fetch(&query));
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(answer) => answer,
        Poll::Pending => panic!("snapshot answers must be immediately ready"),
    }
}

fn gk(spec: &str) -> GroupKind {
    match spec.split_once('.') {
        Some((kind, group)) => GroupKind::new(group, kind),
        None => GroupKind::new("", spec),
    }
}

fn get(s: &Snapshot, kind: &str, ns: Option<&str>, name: &str) -> Result<Value, FactError> {
    ask(
        s,
        FactQuery::Get {
            resource: gk(kind),
            namespace: ns.map(str::to_string),
            name: name.to_string(),
        },
    )
}

fn list(
    s: &Snapshot,
    kind: &str,
    ns: Option<&str>,
    labels: Option<&str>,
    fields: Option<&str>,
) -> Result<Value, FactError> {
    ask(
        s,
        FactQuery::List {
            resource: gk(kind),
            namespace: ns.map(str::to_string),
            label_selector: labels.map(str::to_string),
            field_selector: fields.map(str::to_string),
            fields: None,
        },
    )
}

fn logs(
    s: &Snapshot,
    ns: &str,
    pod: &str,
    container: &str,
    previous: bool,
    tail: Option<u32>,
) -> Result<Value, FactError> {
    ask(
        s,
        FactQuery::Logs {
            namespace: ns.to_string(),
            pod: pod.to_string(),
            container: container.to_string(),
            previous,
            tail_lines: tail,
        },
    )
}

fn events(
    s: &Snapshot,
    kind: &str,
    ns: Option<&str>,
    name: &str,
    uid: Option<&str>,
) -> Result<Value, FactError> {
    let object = ObjectRef {
        kind: kind.to_string(),
        namespace: ns.map(str::to_string),
        name: name.to_string(),
        uid: uid.map(str::to_string),
    };
    ask(s, FactQuery::Events { object })
}

fn names(answer: &Result<Value, FactError>) -> Vec<String> {
    let items = answer
        .as_ref()
        .unwrap_or_else(|e| panic!("{e}"))
        .as_array()
        .expect("an array");
    items
        .iter()
        .map(|o| {
            let ns = o["metadata"]["namespace"]
                .as_str()
                .map(|n| format!("{n}/"))
                .unwrap_or_default();
            format!("{ns}{}", o["metadata"]["name"].as_str().unwrap_or("?"))
        })
        .collect()
}

fn unavailable(answer: Result<Value, FactError>) -> (String, String) {
    match answer {
        Err(FactError::Unavailable { reason, hint }) => (reason, hint),
        other => panic!("expected unavailable, got {other:?}"),
    }
}

fn problems(s: &Snapshot) -> Vec<String> {
    s.info().problems.iter().map(ToString::to_string).collect()
}

fn has_problem(s: &Snapshot, needles: &[&str]) -> bool {
    problems(s)
        .iter()
        .any(|p| needles.iter().all(|n| p.contains(n)))
}

fn tar_gz(dir: &Path, prefix: &str, out: &Path) {
    let file = std::fs::File::create(out).expect("create archive");
    let mut builder = tar::Builder::new(GzEncoder::new(file, Compression::fast()));
    builder.append_dir_all(prefix, dir).expect("append");
    builder
        .into_inner()
        .and_then(|gz| gz.finish())
        .expect("finish");
}

fn plain_tar(dir: &Path, prefix: &str, out: &Path) {
    let mut builder = tar::Builder::new(std::fs::File::create(out).expect("create archive"));
    builder.append_dir_all(prefix, dir).expect("append");
    builder.finish().expect("finish");
}

const POD_YAML: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n  namespace: x\n";

// ---------------------------------------------------------------- layouts

#[test]
fn native_example_is_read_whole_and_answers_like_the_api() {
    let s = Snapshot::open(&example()).expect("example opens");
    assert_eq!(problems(&s), Vec::<String>::new());
    let info = s.info();
    assert!(!info.live);
    assert!(
        info.description.ends_with("(hand-written)"),
        "{}",
        info.description
    );
    assert_eq!(info.now.to_rfc3339(), "2026-11-20T03:12:44+00:00");
    assert_eq!(
        info.context.as_deref(),
        Some("arn:aws:eks:eu-west-1:111122223333:cluster/prod-eu")
    );
    let cluster = info.cluster.as_ref().expect("cluster");
    assert_eq!(
        (cluster.name.as_str(), cluster.region.as_deref()),
        ("prod-eu", Some("eu-west-1"))
    );

    let pvc = get(&s, "PersistentVolumeClaim", Some("shop"), "reports-archive").unwrap();
    assert_eq!(pvc["spec"]["storageClassName"], "gp3-encrypted");
    assert_eq!(pvc["status"]["phase"], "Pending");
    assert_eq!(
        get(&s, "StorageClass.storage.k8s.io", None, "gp3-encrypted").unwrap(),
        Value::Null
    );
    assert_eq!(
        names(&list(&s, "StorageClass.storage.k8s.io", None, None, None)),
        ["gp2", "gp3"]
    );
    let ev = events(
        &s,
        "PersistentVolumeClaim",
        Some("shop"),
        "reports-archive",
        None,
    )
    .unwrap();
    assert_eq!(ev[0]["reason"], "ProvisioningFailed");
    let cluster = ask(&s, FactQuery::Eks(EksQuery::DescribeCluster)).unwrap();
    assert_eq!(cluster["cluster"]["name"], "prod-eu");
}

#[test]
fn archives_read_the_same_with_or_without_a_top_folder() {
    let dir = tempfile::tempdir().unwrap();
    let from_dir = Snapshot::open(&example()).unwrap();
    let all_pods = |s: &Snapshot| list(s, "Pod", None, None, None).unwrap();
    type Writer = fn(&Path, &str, &Path);
    let writers: [(&str, Writer); 3] =
        [("snapshot", tar_gz), (".", tar_gz), ("snapshot", plain_tar)];
    for (n, (prefix, write)) in writers.into_iter().enumerate() {
        // Named for neither format: archives are recognised by content.
        let out = dir.path().join(format!("archive-{n}"));
        write(&example(), prefix, &out);
        let s = Snapshot::open(&out).unwrap_or_else(|e| panic!("{prefix}: {e}"));
        assert_eq!(problems(&s), Vec::<String>::new(), "{prefix}");
        assert_eq!(all_pods(&s), all_pods(&from_dir), "{prefix}");
        assert_eq!(s.info().now, from_dir.info().now);
        assert!(!names(&Ok(all_pods(&s))).is_empty());
    }
}

fn dump_files() -> Vec<(&'static str, &'static str)> {
    vec![
        (
            "cluster-state/nodes.json",
            r#"{"kind":"NodeList","apiVersion":"v1","metadata":{},"items":[
                {"metadata":{"name":"n1","creationTimestamp":"2026-01-01T00:00:00Z","managedFields":[{"manager":"kubelet"}]}}]}"#,
        ),
        (
            "cluster-state/shop/pods.json",
            r#"{"kind":"PodList","apiVersion":"v1","metadata":{},"items":[
                {"metadata":{"name":"web-1","namespace":"shop","labels":{"app":"web"}},
                 "spec":{"nodeName":"n1","initContainers":[{"name":"init"}],"containers":[{"name":"app"},{"name":"side"}]},
                 "status":{"phase":"Running"}}]}"#,
        ),
        (
            "cluster-state/shop/services.json",
            r#"{"kind":"ServiceList","apiVersion":"v1","metadata":{},"items":[]}"#,
        ),
        (
            "cluster-state/shop/events.json",
            r#"{"kind":"EventList","apiVersion":"v1","metadata":{},"items":[
                {"metadata":{"name":"web-1.1","namespace":"shop"},"involvedObject":{"kind":"Pod","namespace":"shop","name":"web-1"},
                 "reason":"Started","type":"Normal","lastTimestamp":"2026-01-02T00:00:00Z"}]}"#,
        ),
        (
            "cluster-state/shop/web-1/logs.txt",
            "==== START logs for container init of pod shop/web-1 ====\ninit ok\n\
             ==== END logs for container init of pod shop/web-1 ====\n\
             ==== START logs for container app of pod shop/web-1 ====\nserving\nstill serving\
             ==== END logs for container app of pod shop/web-1 ====\n\
             ==== START logs for container side of pod shop/web-1 ====\n\
             Request log error: container \"side\" in pod \"web-1\" is waiting to start\n\
             ==== END logs for container side of pod shop/web-1 ====\n",
        ),
    ]
}

#[test]
fn cluster_info_dump_is_read_with_its_multi_container_logs() {
    let s = snap(&dump_files());
    assert_eq!(problems(&s), Vec::<String>::new());
    assert!(s.info().description.contains("kubectl cluster-info dump"));
    let pod = get(&s, "Pod", Some("shop"), "web-1").unwrap();
    assert_eq!(
        (pod["apiVersion"].as_str(), pod["kind"].as_str()),
        (Some("v1"), Some("Pod"))
    );
    // The text form serve passes on is complete too.
    let text = s
        .get_json(&gk("Pod"), Some("shop"), "web-1")
        .unwrap()
        .expect("present");
    assert!(
        text.starts_with(r#"{"apiVersion":"v1","kind":"Pod","metadata""#),
        "{text}"
    );
    assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), pod);
    let listed = s.list_json(&gk("Pod"), None, None, None).unwrap();
    assert_eq!(listed, [text]);
    let node = get(&s, "Node", None, "n1").unwrap();
    assert_eq!(node["kind"], "Node");
    assert!(node["metadata"].get("managedFields").is_none());
    assert_eq!(
        logs(&s, "shop", "web-1", "init", false, None).unwrap(),
        "init ok\n"
    );
    assert_eq!(
        logs(&s, "shop", "web-1", "app", false, None).unwrap(),
        "serving\nstill serving"
    );
    let (reason, _) = unavailable(logs(&s, "shop", "web-1", "side", false, None));
    assert!(reason.contains("waiting to start"), "{reason}");
    assert_eq!(
        list(&s, "Service", Some("shop"), None, None).unwrap(),
        json!([])
    );
    let (reason, _) = unavailable(get(&s, "Service", Some("other"), "x"));
    assert!(
        reason.contains("namespace other") && reason.contains("captured only in shop"),
        "{reason}"
    );
    let (reason, _) = unavailable(get(&s, "Deployment.apps", Some("shop"), "web"));
    assert_eq!(reason, "no Deployment objects in this snapshot");
    assert_eq!(
        events(&s, "Pod", Some("shop"), "web-1", None).unwrap()[0]["reason"],
        "Started"
    );
}

fn bundle_files() -> Vec<(&'static str, &'static str)> {
    let b = "support-bundle-2026-11-20T03_12_44";
    let files: Vec<(&str, &str)> = vec![
        (
            "version.yaml",
            "apiVersion: troubleshoot.sh/v1beta2\nkind: SupportBundleVersion\n",
        ),
        (
            "cluster-resources/pods/shop.json",
            r#"[{"metadata":{"name":"web-1","namespace":"shop"},"spec":{"containers":[{"name":"app"}]},"status":{"phase":"Running"}}]"#,
        ),
        (
            "cluster-resources/pvcs/shop.json",
            r#"{"kind":"PersistentVolumeClaimList","apiVersion":"v1","metadata":{},"items":[
                {"kind":"PersistentVolumeClaim","apiVersion":"v1","metadata":{"name":"data","namespace":"shop"}}]}"#,
        ),
        (
            "cluster-resources/storage-classes.json",
            r#"[{"metadata":{"name":"gp3"},"provisioner":"ebs.csi.aws.com"}]"#,
        ),
        (
            "cluster-resources/pods-errors.json",
            r#"{"restricted":"pods is forbidden: User \"bundle\" cannot list resource \"pods\" in the namespace \"restricted\""}"#,
        ),
        ("cluster-resources/groups.json", r#"[{"name":"apps"}]"#),
        (
            "cluster-resources/custom-resources/widgets.example.com/shop.json",
            r#"[{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w1","namespace":"shop"}}]"#,
        ),
        (
            "cluster-resources/custom-resources/widgets.example.com/shop.yaml",
            "- apiVersion: example.com/v1\n  kind: Widget\n  metadata: {name: w1, namespace: shop}\n",
        ),
        ("cluster-resources/pods/logs/shop/web-1/app.log", "now\n"),
        (
            "cluster-resources/pods/logs/shop/web-1/app-previous.log",
            "before the crash\n",
        ),
        (
            "cluster-resources/pods/logs/shop/web-1/side-logs-errors.log",
            "container side is not running",
        ),
    ];
    files
        .into_iter()
        .map(|(p, c)| (&*Box::leak(format!("{b}/{p}").into_boxed_str()), c))
        .collect()
}

#[test]
fn support_bundle_with_kindless_items_errors_and_logs() {
    let s = snap(&bundle_files());
    assert!(s.info().description.contains("support bundle"));
    let pod = get(&s, "Pod", Some("shop"), "web-1").unwrap();
    assert_eq!(
        (pod["apiVersion"].as_str(), pod["kind"].as_str()),
        (Some("v1"), Some("Pod"))
    );
    let sc = get(&s, "StorageClass.storage.k8s.io", None, "gp3").unwrap();
    assert_eq!(sc["apiVersion"], "storage.k8s.io/v1");
    assert_eq!(
        names(&list(&s, "PersistentVolumeClaim", Some("shop"), None, None)),
        ["shop/data"]
    );
    assert_eq!(
        names(&list(&s, "Widget.example.com", None, None, None)),
        ["shop/w1"]
    );
    let (reason, _) = unavailable(get(&s, "Pod", Some("restricted"), "x"));
    assert!(reason.contains("forbidden"), "{reason}");
    assert!(has_problem(
        &s,
        &[
            "pods-errors.json",
            "could not collect pods in namespace restricted"
        ]
    ));
    assert_eq!(problems(&s).len(), 1, "{:?}", problems(&s));
    unavailable(get(&s, "Pod", Some("other"), "x"));
    assert_eq!(
        logs(&s, "shop", "web-1", "app", false, None).unwrap(),
        "now\n"
    );
    assert_eq!(
        logs(&s, "shop", "web-1", "app", true, None).unwrap(),
        "before the crash\n"
    );
    let (reason, _) = unavailable(logs(&s, "shop", "web-1", "side", false, None));
    assert!(reason.contains("container side is not running"), "{reason}");
}

/// A list big enough to be split while read (over 4 MiB): items are parsed apart, a bad
/// one costs only itself and is located in the file, and the rest reads as if whole.
#[test]
fn large_json_lists_are_split_into_items_with_exact_problem_positions() {
    let pod = |i: usize| {
        json!({"metadata": {"name": format!("p{i:05}"), "namespace": "big", "managedFields": [{"manager": "x"}],
               "labels": {"app": format!("a{}", i % 7)}},
               "spec": {"nodeName": format!("n{}", i % 13), "containers": [{"name": "app", "image": "x".repeat(900)}]},
               "status": {"phase": "Running"}})
    };
    let count = 5_000;
    let mut text = String::from("{\n    \"apiVersion\": \"v1\",\n    \"items\": [\n");
    let mut bad_at = (0, 0);
    for i in 0..count {
        let mut item = serde_json::to_string_pretty(&pod(i)).unwrap();
        if i == 1234 {
            item = item.replacen("\"Running\"", "Running", 1);
            let before = &item[..item.find("Running").unwrap()];
            let line = text.lines().count() + before.lines().count();
            let column = before.len() - before.rfind('\n').unwrap();
            bad_at = (line, column);
        }
        text.push_str(&item);
        text.push_str(if i + 1 < count { ",\n" } else { "\n" });
    }
    text.push_str("    ],\n    \"kind\": \"PodList\",\n    \"metadata\": {}\n}\n");
    assert!(text.len() > 4 << 20, "big enough to be split");
    let dir = tempfile::tempdir().unwrap();
    write_tree(dir.path(), &[("snap/k8s/pods.json", &text)]);
    tar_gz(
        &dir.path().join("snap"),
        "snap",
        &dir.path().join("snap.tgz"),
    );
    for s in [
        Snapshot::open(&dir.path().join("snap")).unwrap(),
        Snapshot::open(&dir.path().join("snap.tgz")).unwrap(),
        snap(&[("k8s/pods.json", &text)]),
    ] {
        let problem = &s.info().problems;
        assert_eq!(problem.len(), 1, "{problem:?}");
        assert_eq!(
            (problem[0].line, problem[0].column),
            (Some(bad_at.0), Some(bad_at.1)),
            "{}",
            problem[0]
        );
        let all = names(&list(&s, "Pod", Some("big"), None, None));
        assert_eq!(all.len(), count - 1);
        assert_eq!(all[0], "big/p00000");
        let mut want = pod(4321);
        want["metadata"]
            .as_object_mut()
            .unwrap()
            .remove("managedFields");
        want["apiVersion"] = json!("v1");
        want["kind"] = json!("Pod");
        assert_eq!(get(&s, "Pod", Some("big"), "p04321").unwrap(), want);
        let on_node = list(&s, "Pod", None, Some("app=a3"), Some("spec.nodeName=n5"));
        assert_eq!(
            names(&on_node).len(),
            (0..count).filter(|i| i % 7 == 3 && i % 13 == 5).count()
        );
    }
}

// ---------------------------------------------------------------- objects

#[test]
fn native_objects_in_every_shape_with_problems_reported_and_the_rest_served() {
    let s = snap(&[
        (
            "k8s/multi.yaml",
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n  namespace: x\n  managedFields: [{manager: k}]\n\
             ---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d, namespace: x}\n---\n",
        ),
        (
            "k8s/pods.json",
            r#"{"apiVersion":"v1","kind":"PodList","items":[{"metadata":{"name":"b","namespace":"x"}}]}"#,
        ),
        (
            "k8s/no-namespace.yaml",
            "apiVersion: v1\nkind: Pod\nmetadata: {name: c}\n",
        ),
        (
            "k8s/crd.yaml",
            "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec: {size: 3}\n",
        ),
        (
            "k8s/bad.yaml",
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: [oops\n",
        ),
        ("k8s/dup.yaml", POD_YAML),
        (
            "k8s/plain-list.yaml",
            "apiVersion: v1\nkind: List\nitems:\n- metadata: {name: nokind}\n",
        ),
        (
            "k8s/nameless.json",
            r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{}}"#,
        ),
        ("k8s/notes.md", "# notes"),
    ]);
    assert_eq!(
        names(&list(&s, "Pod", None, None, None)),
        ["default/c", "x/a", "x/b"]
    );
    let a = get(&s, "Pod", Some("x"), "a").unwrap();
    assert!(a["metadata"].get("managedFields").is_none());
    assert_eq!(
        get(&s, "Deployment.apps", Some("x"), "d").unwrap()["kind"],
        "Deployment"
    );
    let b = get(&s, "Pod", Some("x"), "b").unwrap();
    assert_eq!(
        (b["apiVersion"].as_str(), b["kind"].as_str()),
        (Some("v1"), Some("Pod"))
    );
    assert_eq!(
        get(&s, "Pod", Some("default"), "c").unwrap()["metadata"]["namespace"],
        "default"
    );
    assert_eq!(
        get(&s, "Widget.example.com", None, "w").unwrap()["spec"]["size"],
        3
    );
    let bad = s
        .info()
        .problems
        .iter()
        .find(|p| p.file == "k8s/bad.yaml")
        .expect("bad.yaml reported");
    assert_eq!((bad.line, bad.column.is_some()), (Some(4), true));
    assert!(bad.to_string().starts_with("k8s/bad.yaml:4:"), "{bad}");
    assert!(has_problem(
        &s,
        &[
            "k8s/multi.yaml",
            "duplicate Pod x/a",
            "already read from k8s/dup.yaml"
        ]
    ));
    assert!(has_problem(&s, &["k8s/plain-list.yaml", "item 1: no kind"]));
    assert!(has_problem(
        &s,
        &["k8s/nameless.json", "ConfigMap has no metadata.name"]
    ));
    assert!(has_problem(&s, &["k8s/notes.md", "ignored"]));
    assert_eq!(problems(&s).len(), 5, "{:?}", problems(&s));
}

#[test]
fn capture_semantics_separate_absent_from_unknown() {
    let s = snap(&[
        ("k8s/pods.yaml", POD_YAML),
        (
            "k8s/csi.yaml",
            "apiVersion: storage.k8s.io/v1\nkind: CSIDriverList\nitems: []\n",
        ),
    ]);
    let (reason, hint) = unavailable(get(&s, "StorageClass.storage.k8s.io", None, "gp3"));
    assert_eq!(reason, "no StorageClass objects in this snapshot");
    assert!(
        hint.contains("`kubectl get storageclasses -o yaml` under k8s/"),
        "{hint}"
    );
    unavailable(list(&s, "StorageClass.storage.k8s.io", None, None, None));
    assert_eq!(
        get(&s, "CSIDriver.storage.k8s.io", None, "ebs").unwrap(),
        Value::Null
    );
    assert_eq!(
        list(&s, "CSIDriver.storage.k8s.io", None, None, None).unwrap(),
        json!([])
    );
    assert_eq!(get(&s, "Pod", Some("x"), "zzz").unwrap(), Value::Null);
    // One pasted Pod proves its own namespace, not the others: kube-system's pods (CoreDNS)
    // are unknown, never "none exist".
    let (reason, _) = unavailable(list(&s, "Pod", Some("kube-system"), None, None));
    assert_eq!(
        reason,
        "no Pod objects of namespace kube-system in this snapshot (captured only in x)"
    );
    // Group matters, version does not.
    unavailable(get(&s, "Pod.example.com", Some("x"), "a"));
    let mut kinds = s.kinds();
    kinds.sort();
    assert_eq!(kinds, [gk("Pod"), gk("CSIDriver.storage.k8s.io")]);
    unavailable(events(&s, "Pod", Some("x"), "a", None));
}

/// `kubectl get pods -A -o yaml` is a List whose items span namespaces: that proves the
/// kind everywhere, so a namespace it has no item of holds none. A List of one namespace
/// (what `-n` prints) proves that namespace only.
#[test]
fn a_list_across_namespaces_is_a_capture_of_every_namespace() {
    let item = |ns: &str, name: &str| {
        format!("- apiVersion: v1\n  kind: Pod\n  metadata: {{name: {name}, namespace: {ns}}}\n")
    };
    let across = format!(
        "apiVersion: v1\nkind: List\nmetadata: {{resourceVersion: ''}}\nitems:\n{}{}",
        item("shop", "web-1"),
        item("kube-system", "coredns-1")
    );
    let one = format!(
        "apiVersion: v1\nkind: List\nmetadata: {{resourceVersion: ''}}\nitems:\n{}{}",
        item("shop", "web-1"),
        item("shop", "web-2")
    );
    let s = snap(&[("k8s/pods.yaml", &across)]);
    assert_eq!(
        list(&s, "Pod", Some("data"), None, None).unwrap(),
        json!([])
    );
    assert_eq!(get(&s, "Pod", Some("data"), "x").unwrap(), Value::Null);
    let s = snap(&[("k8s/pods.yaml", &one)]);
    assert_eq!(
        names(&list(&s, "Pod", Some("shop"), None, None)),
        ["shop/web-1", "shop/web-2"]
    );
    unavailable(list(&s, "Pod", Some("kube-system"), None, None));
    // A cluster-scoped kind read anywhere is read everywhere.
    let s = snap(&[(
        "k8s/sc.yaml",
        "apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata: {name: gp3}\nprovisioner: ebs.csi.aws.com\n",
    )]);
    assert_eq!(
        get(&s, "StorageClass.storage.k8s.io", None, "gp2").unwrap(),
        Value::Null
    );
}

#[test]
fn selectors_filter_lists_by_label_and_field() {
    let pod = |name: &str, labels: &str, node: &str, phase: &str| {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, namespace: shop, labels: {{{labels}}}}}\nspec: {{nodeName: '{node}'}}\nstatus: {{phase: {phase}}}\n---\n"
        )
    };
    let yaml = [
        pod("web-1", "app: web, tier: front", "n1", "Running"),
        pod("web-2", "app: web", "n2", "Pending"),
        pod("db-1", "app: db", "", "Running"),
    ]
    .concat();
    let s = snap(&[
        ("k8s/pods.yaml", &yaml),
        (
            "k8s/w.yaml",
            "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w, namespace: shop}\nspec: {color: red}\n",
        ),
    ]);
    let sel = |labels: Option<&str>, fields: Option<&str>| {
        names(&list(&s, "Pod", Some("shop"), labels, fields))
    };
    assert_eq!(sel(Some("app=web"), None), ["shop/web-1", "shop/web-2"]);
    assert_eq!(sel(Some("app==db"), None), ["shop/db-1"]);
    assert_eq!(sel(Some("app!=web"), None), ["shop/db-1"]);
    assert_eq!(sel(Some("app in (db, cache)"), None), ["shop/db-1"]);
    assert_eq!(
        sel(Some("app notin (db)"), None),
        ["shop/web-1", "shop/web-2"]
    );
    assert_eq!(sel(Some("tier"), None), ["shop/web-1"]);
    assert_eq!(sel(Some("!tier,app=web"), None), ["shop/web-2"]);
    assert_eq!(
        sel(None, Some("status.phase=Running")),
        ["shop/db-1", "shop/web-1"]
    );
    assert_eq!(sel(None, Some("status.phase!=Running")), ["shop/web-2"]);
    assert_eq!(sel(None, Some("spec.nodeName==n1")), ["shop/web-1"]);
    assert_eq!(sel(None, Some("spec.nodeName=")), ["shop/db-1"]);
    assert_eq!(
        sel(None, Some("metadata.name=web-2,metadata.namespace=shop")),
        ["shop/web-2"]
    );
    assert_eq!(
        sel(Some("app=web"), Some("spec.nodeName=n2")),
        ["shop/web-2"]
    );
    assert_eq!(
        names(&list(
            &s,
            "Widget.example.com",
            None,
            None,
            Some("spec.color=red")
        )),
        ["shop/w"]
    );
    let (reason, _) = unavailable(list(&s, "Pod", None, Some("app in (web"), None));
    assert!(
        reason.contains("invalid label selector") && reason.contains("unclosed"),
        "{reason}"
    );
    let (reason, _) = unavailable(list(&s, "Pod", None, None, Some("status.phase")));
    assert!(reason.contains("invalid field selector"), "{reason}");
}

#[test]
fn events_of_both_apis_match_kind_name_namespace_and_uid() {
    let core = |name: &str, kind: &str, ns: &str, obj: &str, uid: &str, at: &str| {
        let ns_field = if ns.is_empty() {
            String::new()
        } else {
            format!(", namespace: {ns}")
        };
        format!(
            "apiVersion: v1\nkind: Event\nmetadata: {{name: {name}, namespace: {}}}\ninvolvedObject: {{kind: {kind}, name: {obj}{ns_field}, uid: '{uid}'}}\nreason: R-{name}\nlastTimestamp: '{at}'\n---\n",
            if ns.is_empty() { "default" } else { ns }
        )
    };
    let yaml = [
        core("new-pod", "Pod", "shop", "web", "u1", "2026-01-02T00:00:00Z"),
        core("old-pod", "Pod", "shop", "web", "u0", "2026-01-01T00:00:00Z"),
        core("other", "Pod", "shop", "db", "u2", "2026-01-01T00:00:00Z"),
        core("elsewhere", "Pod", "prod", "web", "u3", "2026-01-01T00:00:00Z"),
        core("node", "Node", "", "n1", "", "2026-01-01T00:00:00Z"),
        core("kubelet", "Node", "", "n1", "n1", "2026-01-01T00:00:00Z"),
        core("old-node", "Node", "", "n1", "gone-uid", "2026-01-01T00:00:00Z"),
        "apiVersion: events.k8s.io/v1\nkind: Event\nmetadata: {name: modern, namespace: shop}\nregarding: {kind: Pod, name: web, namespace: shop, uid: u1}\nreason: R-modern\neventTime: '2026-01-03T00:00:00.000000Z'\n".to_string(),
    ]
    .concat();
    let s = snap(&[("k8s/events.yaml", &yaml)]);
    let reasons = |answer: Result<Value, FactError>| -> Vec<String> {
        answer
            .unwrap()
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["reason"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        reasons(events(&s, "Pod", Some("shop"), "web", None)),
        ["R-old-pod", "R-new-pod", "R-modern"]
    );
    assert_eq!(
        reasons(events(&s, "Pod", Some("shop"), "web", Some("u1"))),
        ["R-new-pod", "R-modern"]
    );
    // The node event's uid is empty: it names no instance, so it matches any. The
    // kubelet uses the node's name as its uid; another uid is an earlier node.
    assert_eq!(
        reasons(events(&s, "Node", None, "n1", Some("node-uid"))),
        ["R-kubelet", "R-node"]
    );
    assert_eq!(
        reasons(events(&s, "Pod", Some("shop"), "nobody", None)),
        Vec::<String>::new()
    );
    let warnings = list(
        &s,
        "Event",
        None,
        None,
        Some("involvedObject.kind=Pod,involvedObject.name=web"),
    );
    assert_eq!(
        names(&warnings),
        ["prod/elsewhere", "shop/new-pod", "shop/old-pod"]
    );
    assert_eq!(
        names(&list(
            &s,
            "Event.events.k8s.io",
            None,
            None,
            Some("regarding.uid=u1")
        )),
        ["shop/modern"]
    );
}

// ---------------------------------------------------------------- logs, AWS, now

#[test]
fn logs_are_served_exactly_with_tail_and_previous() {
    let s = snap(&[
        (
            "logs/shop/web/app.log",
            "2026-01-05T10:00:00.123456789Z first\n2026-01-05T10:00:01Z second\n",
        ),
        (
            "logs/shop/web/app.previous.log",
            "plain line without timestamp\nboom\n",
        ),
        ("logs/shop/web.log", "misplaced"),
    ]);
    assert_eq!(
        logs(&s, "shop", "web", "app", false, None).unwrap(),
        "2026-01-05T10:00:00.123456789Z first\n2026-01-05T10:00:01Z second\n"
    );
    assert_eq!(
        logs(&s, "shop", "web", "app", false, Some(1)).unwrap(),
        "2026-01-05T10:00:01Z second\n"
    );
    assert_eq!(
        logs(&s, "shop", "web", "app", true, Some(1)).unwrap(),
        "boom\n"
    );
    let (reason, hint) = unavailable(logs(&s, "shop", "web", "side", false, None));
    assert_eq!(
        reason,
        "no log of container side of pod shop/web in this snapshot"
    );
    assert!(hint.contains("logs/shop/web/side.log"), "{hint}");
    let (reason, _) = unavailable(logs(&s, "shop", "db", "app", true, None));
    assert_eq!(
        reason,
        "no previous log of container app of pod shop/db in this snapshot"
    );
    assert!(has_problem(&s, &["logs/shop/web.log"]));
    assert_eq!(s.info().now.to_rfc3339(), "2026-01-05T10:00:01+00:00");
}

#[test]
fn aws_responses_are_recognised_by_key_and_answer_every_eks_query() {
    let role = "arn:aws:iam::1:role/admins";
    let files = [
        (
            "aws/eks/a.json",
            json!({"cluster": {"name": "prod", "arn": "arn:aws:eks:eu-west-1:1:cluster/prod"}}),
        ),
        (
            "aws/eks/list-addons.json",
            json!({"nodegroup": {"nodegroupName": "ng-1", "status": "ACTIVE"}}),
        ),
        ("aws/eks/b.json", json!({"nodegroups": ["ng-1"]})),
        ("aws/eks/c.json", json!({"addons": ["coredns"]})),
        (
            "aws/eks/d.json",
            json!({"addon": {"addonName": "coredns", "addonVersion": "v1"}}),
        ),
        ("aws/eks/e.json", json!({"accessEntries": [role]})),
        (
            "aws/eks/f.json",
            json!({"accessEntry": {"principalArn": role, "type": "STANDARD"}}),
        ),
        ("aws/eks/g.json", json!({"associations": []})),
        ("aws/eks/h.json", json!({"somethingElse": 1})),
    ];
    let texts: Vec<(String, String)> = files
        .iter()
        .map(|(p, v)| (p.to_string(), v.to_string()))
        .collect();
    let refs: Vec<(&str, &str)> = texts
        .iter()
        .map(|(p, c)| (p.as_str(), c.as_str()))
        .collect();
    let s = snap(&refs);
    let cluster = s
        .info()
        .cluster
        .as_ref()
        .expect("cluster inferred from describe-cluster");
    assert_eq!(
        (cluster.name.as_str(), cluster.region.as_deref()),
        ("prod", Some("eu-west-1"))
    );
    let eks = |q: EksQuery| ask(&s, FactQuery::Eks(q));
    assert_eq!(eks(EksQuery::DescribeCluster).unwrap(), files[0].1);
    assert_eq!(
        eks(EksQuery::DescribeNodegroup {
            name: "ng-1".into()
        })
        .unwrap(),
        files[1].1
    );
    assert_eq!(eks(EksQuery::ListNodegroups).unwrap(), files[2].1);
    assert_eq!(eks(EksQuery::ListAddons).unwrap(), files[3].1);
    assert_eq!(
        eks(EksQuery::DescribeAddon {
            name: "coredns".into()
        })
        .unwrap(),
        files[4].1
    );
    assert_eq!(eks(EksQuery::ListAccessEntries).unwrap(), files[5].1);
    let entry = EksQuery::DescribeAccessEntry {
        principal_arn: role.into(),
    };
    assert_eq!(eks(entry).unwrap(), files[6].1);
    assert_eq!(
        eks(EksQuery::ListPodIdentityAssociations).unwrap(),
        files[7].1
    );
    // A name the saved list does not hold does not exist, as live EKS says
    // (ResourceNotFound); without a list nothing says either way.
    assert_eq!(
        eks(EksQuery::DescribeNodegroup {
            name: "ng-2".into()
        })
        .unwrap(),
        Value::Null
    );
    let only_cluster = snap(&[(refs[0].0, refs[0].1)]);
    let (reason, hint) = unavailable(ask(
        &only_cluster,
        FactQuery::Eks(EksQuery::DescribeNodegroup {
            name: "ng-2".into(),
        }),
    ));
    assert!(
        reason.contains("aws eks describe-nodegroup --cluster-name prod --nodegroup-name ng-2"),
        "{reason}"
    );
    assert!(hint.contains("under aws/eks/"), "{hint}");
    assert!(has_problem(&s, &["aws/eks/h.json", "somethingElse"]));

    let plain = snap(&[("k8s/p.yaml", POD_YAML)]);
    let (reason, hint) = unavailable(ask(&plain, FactQuery::Eks(EksQuery::ListAddons)));
    assert_eq!(reason, "no AWS data in this snapshot");
    assert!(
        hint.contains("aws eks list-addons --cluster-name"),
        "{hint}"
    );
}

#[test]
fn cloudwatch_events_merge_dedupe_sort_and_filter() {
    let event = |id: &str, stream: &str, ts: i64, msg: &str| json!({"eventId": id, "logStreamName": stream, "timestamp": ts, "message": msg});
    let g = "/aws/eks/prod/cluster";
    let one = json!({"logGroupName": g, "events": [event("3", "kube-apiserver-1", 3000, "c denied"), event("1", "authenticator-1", 1000, "a denied")]});
    let two = json!({"logGroupName": g, "events": [event("1", "authenticator-1", 1000, "a denied"), event("2", "authenticator-2", 2000, "b granted")]});
    let other = json!({"logGroupName": "/other", "events": [event("9", "x", 9000, "z")]});
    let s = snap(&[
        ("aws/logs/one.json", &one.to_string()),
        ("aws/logs/two.json", &two.to_string()),
        ("aws/logs/other.json", &other.to_string()),
        ("k8s/p.yaml", POD_YAML),
    ]);
    let ids = |q: LogEventsQuery| -> Vec<String> {
        let answer = ask(&s, FactQuery::LogEvents(q)).unwrap();
        answer
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["eventId"].as_str().unwrap().to_string())
            .collect()
    };
    let q = LogEventsQuery {
        log_group: g.into(),
        stream_prefix: None,
        contains: None,
        start_ms: None,
        limit: None,
    };
    assert_eq!(ids(q.clone()), ["1", "2", "3"]);
    assert_eq!(
        ids(LogEventsQuery {
            stream_prefix: Some("authenticator".into()),
            ..q.clone()
        }),
        ["1", "2"]
    );
    assert_eq!(
        ids(LogEventsQuery {
            contains: Some("denied".into()),
            ..q.clone()
        }),
        ["1", "3"]
    );
    assert_eq!(
        ids(LogEventsQuery {
            start_ms: Some(2000),
            ..q.clone()
        }),
        ["2", "3"]
    );
    assert_eq!(
        ids(LogEventsQuery {
            limit: Some(2),
            ..q.clone()
        }),
        ["1", "2"]
    );
    let (reason, hint) = unavailable(ask(
        &s,
        FactQuery::LogEvents(LogEventsQuery {
            log_group: "/nope".into(),
            ..q
        }),
    ));
    assert!(reason.contains("/nope"), "{reason}");
    assert!(hint.contains("logGroupName"), "{hint}");
    // The newest CloudWatch event is newer than any object.
    assert_eq!(s.info().now.timestamp_millis(), 9000);
}

#[test]
fn now_is_captured_at_else_the_newest_timestamp_else_the_clock() {
    let object = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: x, creationTimestamp: '2026-01-01T00:00:00Z'}\n";
    let event = "apiVersion: v1\nkind: Event\nmetadata: {name: e, namespace: x, creationTimestamp: '2026-01-01T00:00:00Z'}\ninvolvedObject: {kind: Pod, name: p}\nseries: {lastObservedTime: '2026-01-03T00:00:00.5Z'}\n";
    let manifest = "kind: ktriage-snapshot\nversion: 1\ncapturedAt: 2026-02-01T00:00:00Z\n";
    let at = |files: &[(&str, &str)]| snap(files).info().now.to_rfc3339();
    assert_eq!(at(&[("k8s/p.yaml", object)]), "2026-01-01T00:00:00+00:00");
    assert_eq!(
        at(&[("k8s/p.yaml", object), ("k8s/e.yaml", event)]),
        "2026-01-03T00:00:00.500+00:00"
    );
    assert_eq!(
        at(&[("k8s/p.yaml", object), ("snapshot.yaml", manifest)]),
        "2026-02-01T00:00:00+00:00"
    );
    let before = chrono::Utc::now();
    let now = snap(&[(
        "k8s/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: x}\n",
    )])
    .info()
    .now;
    assert!(before <= now && now <= chrono::Utc::now());
    let bad = snap(&[
        ("k8s/p.yaml", object),
        (
            "snapshot.yaml",
            "kind: ktriage-snapshot\ncapturedAt: yesterday\n",
        ),
    ]);
    assert_eq!(bad.info().now.to_rfc3339(), "2026-01-01T00:00:00+00:00");
    assert!(has_problem(
        &bad,
        &["snapshot.yaml", "capturedAt `yesterday`"]
    ));
}

/// A clean bundle as troubleshoot v0.132.2 writes it (see the fixture's README):
/// `"items": null` for empty typed lists, the CRD list without a kind, custom resources
/// as bare JSON arrays with YAML-sequence twins. Nothing is a problem, nothing is read
/// twice, and every kind it holds is there, custom resources included.
#[test]
fn a_current_troubleshoot_bundle_reads_with_zero_warnings() {
    let s = Snapshot::open(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/troubleshoot-current-healthy"),
    )
    .unwrap();
    assert_eq!(problems(&s), Vec::<String>::new());
    let crds = names(&list(
        &s,
        "CustomResourceDefinition.apiextensions.k8s.io",
        None,
        None,
        None,
    ));
    assert!(
        crds.contains(&"eniconfigs.crd.k8s.amazonaws.com".to_string()),
        "{crds:?}"
    );
    assert_eq!(
        names(&list(
            &s,
            "ENIConfig.crd.k8s.amazonaws.com",
            None,
            None,
            None
        )),
        ["eu-west-1a", "eu-west-1b"]
    );
    assert_eq!(
        names(&list(&s, "CNINode.vpcresources.k8s.aws", None, None, None)).len(),
        3
    );
    // `"items": null` in kube-public is an empty list that was read, not unknown.
    assert_eq!(
        list(&s, "Event", Some("kube-public"), None, None).unwrap(),
        json!([])
    );
    assert_eq!(
        list(&s, "PersistentVolumeClaim", None, None, None).unwrap(),
        json!([])
    );
}

/// troubleshoot ≤ 0.75 writes custom resources only as `<plural.group>.yaml` (cluster
/// scope) or `<plural.group>/<namespace>.yaml`: top-level YAML sequences of objects
/// (`yaml.v2` Marshal of the unstructured list), which carry their own kind.
#[test]
fn an_old_bundles_yaml_only_custom_resources_are_read_with_their_namespace() {
    let eni = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(
        "tests/fixtures/troubleshoot-current-healthy/cluster-resources/custom-resources/eniconfigs.crd.k8s.amazonaws.com.yaml",
    ))
    .unwrap();
    let monitors = "- apiVersion: monitoring.coreos.com/v1\n  kind: ServiceMonitor\n  metadata:\n    creationTimestamp: \"2026-10-01T00:00:00Z\"\n    generation: 1\n    name: checkout\n    resourceVersion: \"4242\"\n    uid: 5b1c9f3e-2d4a-4c8e-9f61-0a7b3c5d2e14\n  spec:\n    endpoints:\n    - port: metrics\n    selector:\n      matchLabels:\n        app: checkout\n";
    let s = snap(&[
        (
            "cluster-resources/namespaces.json",
            r#"{"kind":"NamespaceList","apiVersion":"v1","metadata":{},"items":[]}"#,
        ),
        (
            "cluster-resources/custom-resources/eniconfigs.crd.k8s.amazonaws.com.yaml",
            &eni,
        ),
        (
            "cluster-resources/custom-resources/servicemonitors.monitoring.coreos.com/shop.yaml",
            monitors,
        ),
    ]);
    assert_eq!(problems(&s), Vec::<String>::new());
    assert_eq!(
        names(&list(
            &s,
            "ENIConfig.crd.k8s.amazonaws.com",
            None,
            None,
            None
        )),
        ["eu-west-1a", "eu-west-1b"]
    );
    assert_eq!(
        names(&list(
            &s,
            "ServiceMonitor.monitoring.coreos.com",
            None,
            None,
            None
        )),
        ["shop/checkout"]
    );
}

/// Container states, conditions and heartbeats are written when the kubelet observed
/// them, so "now" is never before them (no "-6s ago"); times a spec schedules or a
/// graceful deletion sets ahead are not observations and never move it.
#[test]
fn now_counts_the_times_a_status_observed_and_no_time_set_ahead() {
    let pod = |format: &str| {
        let pod = serde_json::json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "p", "namespace": "x", "creationTimestamp": "2026-01-01T00:00:00Z",
                         "deletionTimestamp": "2026-03-01T00:00:00Z"},
            "spec": {"nodeName": "n1", "containers": [{"name": "c", "image": "i"}]},
            "status": {"phase": "Running", "startTime": "2026-01-01T00:00:02Z",
                       "conditions": [{"type": "Ready", "status": "True", "lastProbeTime": null,
                                       "lastTransitionTime": "2026-01-01T00:00:09Z"}],
                       "containerStatuses": [{"name": "c", "ready": true, "restartCount": 1,
                           "state": {"running": {"startedAt": "2026-01-01T00:05:00Z"}},
                           "lastState": {"terminated": {"exitCode": 1, "reason": "Error",
                               "startedAt": "2026-01-01T00:00:03Z", "finishedAt": "2026-01-01T00:04:59Z"}}}]}
        });
        match format {
            "json" => {
                serde_json::json!({"apiVersion": "v1", "kind": "List", "items": [pod]}).to_string()
            }
            // JSON is YAML: the .yaml file goes through the YAML reader.
            _ => serde_json::to_string_pretty(&pod).unwrap(),
        }
    };
    let schedule = "apiVersion: example.com/v1\nkind: Window\nmetadata: {name: w, namespace: x, creationTimestamp: '2026-01-01T00:00:00Z'}\nspec: {startTime: '2027-01-01T00:00:00Z'}\n";
    for (file, text) in [("k8s/p.json", pod("json")), ("k8s/p.yaml", pod("yaml"))] {
        let s = snap(&[(file, text.as_str()), ("k8s/w.yaml", schedule)]);
        assert_eq!(
            s.info().now.to_rfc3339(),
            "2026-01-01T00:05:00+00:00",
            "{file}"
        );
    }
    let lease = "apiVersion: coordination.k8s.io/v1\nkind: Lease\nmetadata: {name: n1, namespace: kube-node-lease, creationTimestamp: '2026-01-01T00:00:00Z'}\nspec: {holderIdentity: n1, renewTime: '2026-01-01T00:07:30.123456Z'}\n";
    let s = snap(&[("k8s/l.yaml", lease)]);
    assert_eq!(
        s.info().now.to_rfc3339(),
        "2026-01-01T00:07:30.123456+00:00"
    );
}

// ---------------------------------------------------------------- opening and safety

enum Raw<'a> {
    File(&'a str, &'a [u8]),
    Link(&'a str, &'a str),
}

/// An archive written header by header, so that it can hold what tar builders refuse.
fn raw_archive(out: &Path, entries: &[Raw]) {
    let file = std::fs::File::create(out).unwrap();
    let mut builder = tar::Builder::new(GzEncoder::new(file, Compression::fast()));
    for entry in entries {
        let mut header = tar::Header::new_old();
        let (name, data, link) = match entry {
            Raw::File(name, data) => (*name, *data, None),
            Raw::Link(name, target) => (*name, &b""[..], Some(*target)),
        };
        header.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        if let Some(target) = link {
            header.set_entry_type(tar::EntryType::Symlink);
            header.as_old_mut().linkname[..target.len()].copy_from_slice(target.as_bytes());
        }
        header.set_cksum();
        builder.append(&header, data).unwrap();
    }
    builder.into_inner().and_then(|gz| gz.finish()).unwrap();
}

#[test]
fn hostile_archives_are_refused_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let ok = Raw::File("snap/k8s/p.yaml", POD_YAML.as_bytes());
    let cases: [(&str, Vec<Raw>, &str); 4] = [
        (
            "dotdot",
            vec![Raw::File("snap/../../evil.yaml", b"x")],
            "`..`",
        ),
        (
            "absolute",
            vec![Raw::File("/tmp/evil.yaml", b"x")],
            "absolute",
        ),
        (
            "symlink",
            vec![Raw::Link("snap/k8s/link.yaml", "../../../etc/passwd")],
            "links outside",
        ),
        (
            "abs-link",
            vec![Raw::Link("snap/k8s/l.yaml", "/etc/passwd")],
            "links outside",
        ),
    ];
    for (name, mut entries, needle) in cases {
        entries.insert(0, Raw::File("snap/k8s/p.yaml", POD_YAML.as_bytes()));
        let out = dir.path().join(format!("{name}.tar.gz"));
        raw_archive(&out, &entries);
        match Snapshot::open(&out) {
            Err(e @ SnapshotError::Unsafe { .. }) => {
                assert!(e.to_string().contains(needle), "{name}: {e}")
            }
            other => panic!("{name}: {other:?}"),
        }
    }
    assert!(!dir.path().join("evil.yaml").exists() && !Path::new("/tmp/evil.yaml").exists());

    let inside = dir.path().join("inside.tar.gz");
    raw_archive(&inside, &[ok, Raw::Link("snap/k8s/again.yaml", "p.yaml")]);
    let s = Snapshot::open(&inside).expect("links that stay inside are skipped, not fatal");
    assert_eq!(names(&list(&s, "Pod", None, None, None)), ["x/a"]);
}

#[test]
fn archives_over_the_limits_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let zeros = vec![b' '; 2 << 20];
    let bomb = dir.path().join("bomb.tgz");
    raw_archive(
        &bomb,
        &[
            Raw::File("k8s/p.yaml", POD_YAML.as_bytes()),
            Raw::File("k8s/big.yaml", &zeros),
        ],
    );
    assert!(
        std::fs::metadata(&bomb).unwrap().len() < 64 << 10,
        "compresses like a bomb"
    );
    let small = Limits {
        max_total_bytes: 1 << 20,
        max_entries: 10,
    };
    let e = Snapshot::open_with_limits(&bomb, small).expect_err("over the size limit");
    assert!(
        matches!(e, SnapshotError::TooLarge { .. }) && e.to_string().contains("decompression bomb"),
        "{e}"
    );
    let many: Vec<String> = (0..11).map(|i| format!("k8s/{i}.yaml")).collect();
    let crowd = dir.path().join("crowd.tgz");
    raw_archive(
        &crowd,
        &many
            .iter()
            .map(|n| Raw::File(n, POD_YAML.as_bytes()))
            .collect::<Vec<_>>(),
    );
    let e = Snapshot::open_with_limits(&crowd, small).expect_err("over the entry limit");
    assert!(e.to_string().contains("more than 10 entries"), "{e}");
    assert!(Snapshot::open(&bomb).is_ok());
}

#[test]
fn what_is_not_a_snapshot_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let e = Snapshot::open(&dir.path().join("missing")).expect_err("missing");
    assert!(matches!(e, SnapshotError::NotFound { .. }), "{e}");
    write_tree(
        dir.path(),
        &[("notes.txt", "hello"), ("empty/README.md", "nothing here")],
    );
    let e = Snapshot::open(&dir.path().join("notes.txt")).expect_err("a text file");
    assert!(matches!(e, SnapshotError::NotASnapshot { .. }), "{e}");
    let e = Snapshot::open(&dir.path().join("empty")).expect_err("an unrelated folder");
    assert!(
        e.to_string().contains("nothing in") && e.to_string().contains("cluster-resources/"),
        "{e}"
    );
    let e =
        Snapshot::from_files("mem", vec![("../x.yaml".into(), vec![])]).expect_err("unsafe name");
    assert!(matches!(e, SnapshotError::Unsafe { .. }), "{e}");
}

#[test]
fn directory_symlinks_that_leave_the_snapshot_are_not_followed() {
    let dir = tempfile::tempdir().unwrap();
    write_tree(
        dir.path(),
        &[
            ("snap/k8s/p.yaml", POD_YAML),
            (
                "secret.yaml",
                "apiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: x}\n",
            ),
        ],
    );
    std::os::unix::fs::symlink(
        dir.path().join("secret.yaml"),
        dir.path().join("snap/k8s/secret.yaml"),
    )
    .unwrap();
    std::os::unix::fs::symlink(
        dir.path().join("snap/k8s/p.yaml"),
        dir.path().join("snap/k8s/again.yml"),
    )
    .unwrap();
    let s = Snapshot::open(&dir.path().join("snap")).unwrap();
    unavailable(get(&s, "Secret", Some("x"), "s"));
    assert!(has_problem(
        &s,
        &["k8s/secret.yaml", "outside the snapshot"]
    ));
    // A link inside the snapshot is followed: the same pod twice is a duplicate.
    assert!(has_problem(&s, &["duplicate Pod x/a"]));
}

// ---------------------------------------------------------------- robustness

fn example_files() -> &'static Vec<(String, Vec<u8>)> {
    static FILES: OnceLock<Vec<(String, Vec<u8>)>> = OnceLock::new();
    FILES.get_or_init(|| {
        let root = example();
        let mut files = Vec::new();
        let mut stack = vec![root.clone()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else {
                    let rel = path
                        .strip_prefix(&root)
                        .unwrap()
                        .to_string_lossy()
                        .into_owned();
                    files.push((rel, std::fs::read(&path).unwrap()));
                }
            }
        }
        files.sort();
        files
    })
}

/// Every kind of question, so that odd input reaches the query code too.
fn ask_everything(s: &Snapshot) {
    for kind in s.kinds() {
        let _ = ask(
            s,
            FactQuery::List {
                resource: kind,
                namespace: None,
                label_selector: Some("app".into()),
                field_selector: Some("status.phase!=Running".into()),
                fields: Some(ktriage::facts::FieldSet(vec![vec![
                    "spec".into(),
                    "[]".into(),
                ]])),
            },
        );
    }
    let _ = events(s, "Pod", Some("shop"), "web", None);
    let _ = logs(s, "shop", "web", "app", false, Some(3));
    let _ = ask(s, FactQuery::Eks(EksQuery::DescribeCluster));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn arbitrary_bytes_never_panic(
        path in "(k8s/[a-z]{1,6}|aws/eks/[a-z]{1,4}|logs/a/b|cluster-resources/pods|[a-z]{1,5})/[a-z]{1,6}\\.(yaml|json|log|txt)",
        bytes in proptest::collection::vec(any::<u8>(), 0..1024),
    ) {
        if let Ok(s) = Snapshot::from_files("fuzz", vec![(path, bytes), ("snapshot.yaml".into(), b"kind: ktriage-snapshot\n".to_vec())]) {
            ask_everything(&s);
        }
    }

    #[test]
    fn mutated_example_files_never_panic(
        pick in any::<prop::sample::Index>(),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..12),
        cut in any::<prop::sample::Index>(),
        truncate in any::<bool>(),
    ) {
        // The mutant alone (beside the manifest): the other files would only slow the search.
        let (path, original) = &example_files()[pick.index(example_files().len())];
        let mut file = original.clone();
        for (at, byte) in edits {
            if !file.is_empty() {
                let i = at.index(file.len());
                file[i] = byte;
            }
        }
        if truncate && !file.is_empty() {
            let len = cut.index(file.len());
            file.truncate(len);
        }
        let manifest = ("snapshot.yaml".to_string(), b"kind: ktriage-snapshot\n".to_vec());
        let files = if path == "snapshot.yaml" { vec![(path.clone(), file)] } else { vec![(path.clone(), file), manifest] };
        let s = Snapshot::from_files("mutant", files).expect("a damaged file is a problem, not a failure");
        ask_everything(&s);
    }
}

// ---------------------------------------------------------------- measurement

/// A measurement, not a test: run by hand in release, once per layout,
/// `KTRIAGE_BENCH_SPLIT=0|1 cargo test --release --test snapshot_reader -- --ignored --nocapture`.
/// Writes (once) 1,000 nodes and 30,000 pods as `kubectl get -o json` prints them, in one
/// `pods.json` list or one list per namespace, then times opening it and reads peak RSS.
#[test]
#[ignore]
fn large_snapshot_load_time_and_memory() {
    let split = std::env::var("KTRIAGE_BENCH_SPLIT").is_ok_and(|v| v == "1");
    // KTRIAGE_BENCH_DIR times opening any snapshot instead (no queries).
    let given = std::env::var_os("KTRIAGE_BENCH_DIR").map(PathBuf::from);
    let root = given.clone().unwrap_or_else(|| {
        let kind = if split { "split" } else { "single" };
        std::env::temp_dir().join(format!("ktriage-bench-{kind}"))
    });
    if given.is_none() && !root.join("snapshot.yaml").exists() {
        generate_large(&root, split);
    }
    // Peak RSS from here on: the generator's memory does not count.
    std::fs::write("/proc/self/clear_refs", "5").expect("reset peak RSS");
    let started = std::time::Instant::now();
    let s = Snapshot::open(&root).expect("opens");
    let opened = started.elapsed();
    let rss = |field: &str| {
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        status
            .lines()
            .find(|l| l.starts_with(field))
            .map(str::to_string)
            .unwrap_or_default()
    };
    eprintln!("open: {opened:?}, {}, {}", rss("VmHWM"), rss("VmRSS"));
    if given.is_some() {
        let stored: usize = s
            .kinds()
            .iter()
            .filter_map(|k| s.list_json(k, None, None, None).ok())
            .flatten()
            .map(|text| text.len())
            .sum();
        eprintln!(
            "{} problems, {stored} bytes of objects",
            s.info().problems.len()
        );
        return;
    }
    let started = std::time::Instant::now();
    let on_node = list(&s, "Pod", None, None, Some("spec.nodeName=node-0017")).unwrap();
    let pending = list(
        &s,
        "Pod",
        None,
        Some("app=app-3"),
        Some("status.phase=Pending"),
    )
    .unwrap();
    let ev = events(&s, "Pod", Some("ns-000"), "pod-000700", None).unwrap();
    eprintln!(
        "queries: {:?} ({} pods on node-0017, {} pending app-3, {} events), {}",
        started.elapsed(),
        on_node.as_array().map_or(0, Vec::len),
        pending.as_array().map_or(0, Vec::len),
        ev.as_array().map_or(0, Vec::len),
        rss("VmHWM")
    );
    assert_eq!(s.info().problems, vec![]);
    assert_eq!(names(&Ok(on_node)).len(), 30);
    // What a cluster-wide scan costs: every pod as a JSON tree.
    let started = std::time::Instant::now();
    let all = list(&s, "Pod", None, None, None).unwrap();
    eprintln!(
        "all {} pods as JSON trees: {:?}, {}",
        all.as_array().map_or(0, Vec::len),
        started.elapsed(),
        rss("VmHWM")
    );
}

fn generate_large(root: &Path, split: bool) {
    use std::io::Write;
    let (nodes, pods, namespaces) = (1_000usize, 30_000usize, 50usize);
    let pretty = |out: &mut dyn Write, value: &Value| {
        let mut ser = serde_json::Serializer::with_formatter(
            &mut *out,
            serde_json::ser::PrettyFormatter::with_indent(b"    "),
        );
        serde::Serialize::serialize(value, &mut ser).unwrap();
    };
    let managed = json!([{"manager": "kubelet", "operation": "Update", "apiVersion": "v1", "time": "2026-01-01T00:00:00Z",
        "fieldsType": "FieldsV1", "fieldsV1": {"f:status": {"f:conditions": {"k:{\"type\":\"Ready\"}": {".": {}, "f:lastProbeTime": {}, "f:lastTransitionTime": {}, "f:status": {}, "f:type": {}}}, "f:containerStatuses": {}, "f:hostIP": {}, "f:phase": {}, "f:podIP": {}, "f:podIPs": {".": {}, "k:{\"ip\":\"10.0.0.1\"}": {".": {}, "f:ip": {}}}, "f:startTime": {}}}}]);
    let node_conditions: Vec<Value> = ["MemoryPressure", "DiskPressure", "PIDPressure", "Ready"]
        .iter()
        .map(|t| {
            let status = if *t == "Ready" { "True" } else { "False" };
            json!({"type": t, "status": status, "lastHeartbeatTime": "2026-01-02T00:00:00Z",
                "lastTransitionTime": "2026-01-01T00:00:00Z", "reason": format!("Kubelet{t}"), "message": "kubelet is posting ready status"})
        })
        .collect();
    let pod_conditions: Vec<Value> = ["Initialized", "Ready", "ContainersReady", "PodScheduled"]
        .iter()
        .map(|t| json!({"type": t, "status": "True", "lastProbeTime": null, "lastTransitionTime": "2026-01-01T00:00:05Z"}))
        .collect();
    let node = |i: usize| {
        json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": format!("node-{i:04}"), "uid": format!("n-{i}"), "creationTimestamp": "2026-01-01T00:00:00Z",
            "labels": {"kubernetes.io/hostname": format!("node-{i:04}"), "topology.kubernetes.io/zone": format!("eu-west-1{}", ["a", "b", "c"][i % 3]), "node.kubernetes.io/instance-type": "m6i.large"},
            "managedFields": managed},
            "spec": {"providerID": format!("aws:///eu-west-1a/i-{i:017}")},
            "status": {"conditions": node_conditions,
                "allocatable": {"cpu": "1930m", "memory": "7220172Ki", "pods": "29"}, "capacity": {"cpu": "2", "memory": "7910348Ki", "pods": "29"},
                "nodeInfo": {"kubeletVersion": "v1.31.2-eks-7f9249a", "osImage": "Amazon Linux 2023", "containerRuntimeVersion": "containerd://1.7.22"}}})
    };
    let pod = |i: usize| {
        let ns = format!("ns-{:03}", i % namespaces);
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": format!("pod-{i:06}"), "generateName": "pod-", "namespace": ns, "uid": format!("00000000-0000-0000-0000-{i:012}"),
            "resourceVersion": format!("{}", 100000 + i), "creationTimestamp": "2026-01-01T00:00:00Z",
            "labels": {"app": format!("app-{}", i % 10), "pod-template-hash": "7c9d8f6b5d", "tier": "backend"},
            "annotations": {"kubectl.kubernetes.io/restartedAt": "2026-01-01T00:00:00Z"},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": format!("rs-{}", i / 3), "uid": "r", "controller": true, "blockOwnerDeletion": true}],
            "managedFields": managed},
            "spec": {"nodeName": format!("node-{:04}", i % nodes), "serviceAccountName": "default", "restartPolicy": "Always", "dnsPolicy": "ClusterFirst", "schedulerName": "default-scheduler",
                "containers": [{"name": "app", "image": "registry.example.com/app:1.2.3", "ports": [{"containerPort": 8080, "protocol": "TCP"}],
                    "env": [{"name": "LOG_LEVEL", "value": "info"}, {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}],
                    "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}},
                    "readinessProbe": {"httpGet": {"path": "/healthz", "port": 8080, "scheme": "HTTP"}, "periodSeconds": 10, "timeoutSeconds": 1, "successThreshold": 1, "failureThreshold": 3},
                    "volumeMounts": [{"name": "kube-api-access", "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount", "readOnly": true}],
                    "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File", "imagePullPolicy": "IfNotPresent"}],
                "volumes": [{"name": "kube-api-access", "projected": {"defaultMode": 420, "sources": [{"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}}, {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}}]}}],
                "tolerations": [{"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}, {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}]},
            "status": {"phase": (if i % 100 == 3 { "Pending" } else { "Running" }), "hostIP": "10.0.32.39", "podIP": "10.0.34.40", "startTime": "2026-01-01T00:00:01Z", "qosClass": "Burstable",
                "conditions": pod_conditions,
                "containerStatuses": [{"name": "app", "ready": true, "restartCount": 0, "started": true, "image": "registry.example.com/app:1.2.3", "imageID": "registry.example.com/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                    "containerID": "containerd://0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "state": {"running": {"startedAt": "2026-01-01T00:00:04Z"}}, "lastState": {}}]}})
    };
    let list_file = |path: PathBuf, kind: &str, items: &mut dyn Iterator<Item = Value>| {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
        write!(out, "{{\n    \"apiVersion\": \"v1\",\n    \"items\": [\n").unwrap();
        for (n, item) in items.enumerate() {
            if n > 0 {
                out.write_all(b",\n").unwrap();
            }
            pretty(&mut out, &item);
        }
        write!(out, "\n    ],\n    \"kind\": \"{kind}\",\n    \"metadata\": {{\"resourceVersion\": \"\"}}\n}}\n").unwrap();
    };
    list_file(
        root.join("k8s/nodes.json"),
        "List",
        &mut (0..nodes).map(node),
    );
    if split {
        for ns in 0..namespaces {
            list_file(
                root.join(format!("k8s/ns-{ns:03}/pods.json")),
                "PodList",
                &mut (ns..pods).step_by(namespaces).map(pod),
            );
        }
    } else {
        list_file(root.join("k8s/pods.json"), "List", &mut (0..pods).map(pod));
    }
    let events = (0..3_000).map(|i| {
        json!({"apiVersion": "v1", "kind": "Event", "metadata": {"name": format!("pod-{:06}.{i}", i * 10), "namespace": format!("ns-{:03}", (i * 10) % namespaces)},
            "involvedObject": {"kind": "Pod", "name": format!("pod-{:06}", i * 10), "namespace": format!("ns-{:03}", (i * 10) % namespaces)},
            "reason": "BackOff", "type": "Warning", "message": "Back-off restarting failed container", "lastTimestamp": "2026-01-02T00:00:00Z"})
    });
    list_file(
        root.join("k8s/events.json"),
        "List",
        &mut events.into_iter(),
    );
    write_tree(
        root,
        &[(
            "snapshot.yaml",
            "kind: ktriage-snapshot\nversion: 1\nsource: generated\n",
        )],
    );
}

/// A bundle holds part of a cluster: snapshot.yaml's `captured` says where each kind was
/// looked at, so a pod missing there is absent and one elsewhere is unknown.
#[test]
fn captured_in_snapshot_yaml_limits_absence_to_where_someone_looked() {
    let manifest = "kind: ktriage-snapshot\nversion: 1\ncaptured:\n  Pod: [x]\n  StorageClass.storage.k8s.io: ['*']\n  ConfigMap: []\n";
    let s = snap(&[
        ("snapshot.yaml", manifest),
        ("k8s/p.yaml", POD_YAML),
        (
            "k8s/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  namespace: x\n",
        ),
    ]);
    let get = |kind: &str, group: &str, ns: Option<&str>, name: &str| {
        ask(
            &s,
            FactQuery::Get {
                resource: GroupKind::new(group, kind),
                namespace: ns.map(str::to_string),
                name: name.into(),
            },
        )
    };
    assert_eq!(get("Pod", "", Some("x"), "gone").unwrap(), Value::Null);
    let (reason, _) = unavailable(get("Pod", "", Some("y"), "a"));
    assert!(reason.contains("captured only in x"), "{reason}");
    assert_eq!(
        get("StorageClass", "storage.k8s.io", None, "gp3").unwrap(),
        Value::Null,
        "captured everywhere, with none: an answer"
    );
    // Listed with no namespace: the object that is there is not a capture of its kind.
    assert!(get("ConfigMap", "", Some("x"), "other").is_err());
}
