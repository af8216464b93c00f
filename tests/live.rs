//! The live source against `ktriage serve`: the kube-rs client of live mode, over real
//! HTTP, must give runbooks the same facts a snapshot gives them — the same walk record
//! for every Kubernetes-only case — and a forbidden or failing API must never crash a
//! walk nor produce a conclusion it did not observe.

mod common;

use clap::Parser;
use common::{Case, cases, copy_dir};
use ktriage::cli::Cli;
use ktriage::commands::{Io, execute_with};
use ktriage::runbook::Catalog;
use ktriage::serve::{ServeOptions, Server};
use ktriage::source::Source;
use ktriage::source::snapshot::Snapshot;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::Arc;

struct Served {
    kubeconfig: PathBuf,
    access_log: PathBuf,
    now: String,
    task: tokio::task::JoinHandle<()>,
    _dir: tempfile::TempDir,
}

impl Drop for Served {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(snapshot: &Path, mut options: ServeOptions) -> Served {
    let dir = tempfile::tempdir().unwrap();
    let snapshot = Arc::new(Snapshot::open(snapshot).unwrap());
    let now = snapshot
        .info()
        .now
        .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true);
    let access_log = dir.path().join("access.log");
    options.access_log = Some(access_log.clone());
    let server = Server::bind(snapshot, options).await.unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    server.write_kubeconfig(&kubeconfig).unwrap();
    Served {
        kubeconfig,
        access_log,
        now,
        task: tokio::spawn(server.run()),
        _dir: dir,
    }
}

/// One `ktriage` command in-process (the same code path as the binary), its exit code,
/// stdout and stderr.
async fn ktriage(catalog: &Catalog, args: &[String]) -> (i32, String, String) {
    let cli =
        Cli::try_parse_from(std::iter::once("ktriage".to_string()).chain(args.iter().cloned()))
            .unwrap_or_else(|e| panic!("{args:?}: {e}"));
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = execute_with(
        catalog,
        cli,
        &mut Io {
            out: &mut out,
            err: &mut err,
        },
    )
    .await;
    (
        code,
        String::from_utf8(out).unwrap(),
        String::from_utf8(err).unwrap(),
    )
}

fn run_args(case: &Case, source: &[String]) -> Vec<String> {
    let mut args = vec![
        "run".to_string(),
        case.runbook.clone(),
        "--output".into(),
        "json".into(),
    ];
    args.extend(source.iter().cloned());
    args.extend(case.flags());
    args
}

fn live_flags(served: &Served) -> Vec<String> {
    vec![
        "--kubeconfig".into(),
        served.kubeconfig.display().to_string(),
        "--as-of".into(),
        served.now.clone(),
    ]
}

/// The record less what differs between any two runs — wall-clock timing — and the
/// hints, which say what would resolve an unknown *for this kind of source* (RBAC or a
/// CRD live, a capture command offline). Reasons, outcomes and evidence must be equal.
fn comparable(mut record: Value) -> Value {
    if let Some(t) = record.get_mut("timing").and_then(Value::as_object_mut) {
        t.remove("started_at");
        t.remove("finished_at");
    }
    strip_hints(&mut record);
    record
}

fn strip_hints(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.remove("hint");
            map.values_mut().for_each(strip_hints);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_hints),
        _ => {}
    }
}

/// Where two values first differ, as a JSON pointer and both sides.
fn first_difference(a: &Value, b: &Value, at: &str) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            keys.into_iter().find_map(|k| {
                let (l, r) = (
                    x.get(k).unwrap_or(&Value::Null),
                    y.get(k).unwrap_or(&Value::Null),
                );
                first_difference(l, r, &format!("{at}/{k}"))
            })
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (l, r))| first_difference(l, r, &format!("{at}/{i}"))),
        _ if a == b => None,
        _ => Some(format!("at {at}:\n  live:    {a}\n  offline: {b}")),
    }
}

/// Did the walk ask AWS (and find it unavailable)?
fn reads_aws(record: &Value) -> bool {
    record["facts"].as_array().into_iter().flatten().any(|f| {
        f["queries"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|q| matches!(q["query"].as_str(), Some("eks" | "log-events")))
    })
}

/// Status, conclusion and the path as (step, outcome): what the walk decided.
fn outline(record: &Value) -> Value {
    let path: Vec<Value> = record["path"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| serde_json::json!([s["step"], s["outcome"], s["next"]]))
        .collect();
    serde_json::json!({
        "status": record["status"],
        "code": record["conclusion"]["code"],
        "path": path,
    })
}

fn record(case: &Case, stdout: &str, stderr: &str) -> Value {
    serde_json::from_str(stdout).unwrap_or_else(|e| {
        panic!(
            "{} / {}: no walk record ({e}): {stderr}",
            case.runbook, case.name
        )
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_walks_over_serve_equal_offline_walks() {
    let catalog = Catalog::load(&[]);
    let mut compared = 0;
    let scratch = tempfile::tempdir().unwrap();
    for (i, case) in cases().iter().enumerate() {
        // The Kubernetes part of every fixture: what a cluster's API can serve.
        let fixture = scratch.path().join(i.to_string());
        copy_dir(&case.snapshot, &fixture, "aws");
        let served = serve(&fixture, ServeOptions::default()).await;
        let offline = vec!["--snapshot".to_string(), fixture.display().to_string()];
        let (offline_code, out, err) = ktriage(&catalog, &run_args(case, &offline)).await;
        let offline_record = comparable(record(case, &out, &err));
        let (live_code, out, err) = ktriage(&catalog, &run_args(case, &live_flags(&served))).await;
        let live_record = comparable(record(case, &out, &err));
        // AWS is not part of the Kubernetes API: both say so, each in its own words.
        let (live_record, offline_record) = if reads_aws(&offline_record) {
            (outline(&live_record), outline(&offline_record))
        } else {
            (live_record, offline_record)
        };
        if let Some(diff) = first_difference(&live_record, &offline_record, "") {
            panic!(
                "{} / {}: the live walk differs from the offline walk {diff}",
                case.runbook, case.name
            );
        }
        assert_eq!(live_code, offline_code, "{} / {}", case.runbook, case.name);
        compared += 1;
    }
    assert_eq!(compared, cases().len());
    assert!(compared >= 90, "only {compared} cases");
}
