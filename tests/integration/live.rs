//! The live source against `ktriage serve`: the kube-rs client of live mode, over real
//! HTTP, must give runbooks the same facts a snapshot gives them — the same walk record
//! for every Kubernetes-only case — and a forbidden or failing API must never crash a
//! walk nor produce a conclusion it did not observe.

use crate::common::{Case, cases, copy_dir, ktriage, root};
use ktriage::facts::FactQuery;
use ktriage::facts::Source;
use ktriage::runbook::Catalog;
use ktriage::serve::{ServeOptions, Server};
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
        // Hermetic: these compare the Kubernetes side; AWS is tests/aws_*.rs's.
        "--no-aws".into(),
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

/// `code` of a record, and whether it concluded.
fn verdict(record: &Value) -> (String, Option<String>) {
    (
        record["status"].as_str().unwrap_or_default().to_string(),
        record["conclusion"]["code"].as_str().map(str::to_string),
    )
}

/// The RBAC resource a request of the access log reads (`pods`, `pods/log`,
/// `storageclasses.storage.k8s.io`); `None` for discovery and `/version`.
fn rbac_resource(line: &str) -> Option<String> {
    let path = line.split_whitespace().find(|w| w.starts_with('/'))?;
    let path = path.split('?').next()?;
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let (group, rest) = match parts.as_slice() {
        ["api", _version, rest @ ..] => ("", rest),
        ["apis", group, _version, rest @ ..] => (*group, rest),
        _ => return None,
    };
    let rest = match rest {
        ["namespaces", _ns, rest @ ..] if !rest.is_empty() => rest,
        rest => rest,
    };
    let resource = match rest {
        [resource] | [resource, _] => resource.to_string(),
        [resource, _, sub] => format!("{resource}/{sub}"),
        _ => return None,
    };
    Some(if group.is_empty() {
        resource
    } else {
        let (plural, sub) = resource
            .split_once('/')
            .map_or((resource.as_str(), None), |(p, s)| (p, Some(s)));
        match sub {
            Some(sub) => format!("{plural}.{group}/{sub}"),
            None => format!("{plural}.{group}"),
        }
    })
}

/// The fault soak: every runbook case, live over serve, once with each resource its
/// fault-free walk read forbidden — and every fourth request failing as well, so that
/// refusals and retried server errors meet in one walk. The walk must conclude what it
/// concludes without faults, or stop unknown (inconclusive, or a question for the
/// human): never another code, and never a healthy conclusion it could not observe.
/// What soaking one case found.
#[derive(Default)]
struct Soaked {
    walks: usize,
    changed: usize,
    failures: Vec<String>,
    /// Resources whose refusal a walk named, and how often.
    named: std::collections::BTreeMap<String, usize>,
}

async fn soak(catalog: &Catalog, case: &Case, fixture: PathBuf) -> Soaked {
    let mut soaked = Soaked::default();
    copy_dir(&case.snapshot, &fixture, "aws");
    let open = serve(&fixture, ServeOptions::default()).await;
    let (_, out, err) = ktriage(catalog, &run_args(case, &live_flags(&open))).await;
    let allowed = verdict(&record(case, &out, &err));
    let read: std::collections::BTreeSet<String> = std::fs::read_to_string(&open.access_log)
        .unwrap()
        .lines()
        .filter_map(rbac_resource)
        .collect();
    drop(open);
    soaked.walks += 1;
    for resource in &read {
        let denied = serve(
            &fixture,
            ServeOptions {
                forbid: vec![resource.clone()],
                fail_every: Some(4),
                ..ServeOptions::default()
            },
        )
        .await;
        let (code, out, err) = ktriage(catalog, &run_args(case, &live_flags(&denied))).await;
        soaked.walks += 1;
        assert!(
            code != 1,
            "{} / {}: the tool failed: {err}",
            case.runbook,
            case.name
        );
        let walk = record(case, &out, &err);
        let (status, conclusion) = verdict(&walk);
        if (status.clone(), conclusion.clone()) != allowed {
            soaked.changed += 1;
            if status == "concluded" {
                soaked.failures.push(format!(
                    "{} / {}: with {resource} forbidden (and every 4th request failing) the walk \
                     concluded {conclusion:?}, without faults {allowed:?}",
                    case.runbook, case.name
                ));
            }
        }
        let plural = resource.split(['.', '/']).next().unwrap();
        let text = walk.to_string();
        if text.contains("forbidden: cannot ") && text.contains(plural) {
            *soaked.named.entry(resource.clone()).or_default() += 1;
        }
    }
    soaked
}

/// The fault soak: every runbook case, live over serve, once with each resource its
/// fault-free walk read forbidden — and every fourth request failing as well, so that
/// refusals and retried server errors meet in one walk. The walk must conclude what it
/// concludes without faults, or stop unknown (inconclusive, or a question for the
/// human): never another code, and never a healthy conclusion it could not observe.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_never_produce_another_conclusion() {
    use futures_util::StreamExt;
    let catalog = Catalog::load(&[]);
    let scratch = tempfile::tempdir().unwrap();
    let all = cases();
    // Most of a faulty walk's time is its retries' backoff: walk many cases at once.
    let results: Vec<Soaked> = futures_util::stream::iter(all.iter().enumerate())
        .map(|(i, case)| soak(&catalog, case, scratch.path().join(i.to_string())))
        .buffer_unordered(16)
        .collect()
        .await;
    let mut total = Soaked::default();
    for r in results {
        total.walks += r.walks;
        total.changed += r.changed;
        total.failures.extend(r.failures);
        for (k, v) in r.named {
            *total.named.entry(k).or_default() += v;
        }
    }
    eprintln!(
        "fault soak: {} live walks over {} cases, {} ended unknown instead",
        total.walks,
        all.len(),
        total.changed
    );
    assert!(total.failures.is_empty(), "{}", total.failures.join("\n"));
    // The faults must bite, or the soak proves nothing.
    assert!(
        total.changed > 50,
        "only {} walks changed under faults",
        total.changed
    );
    // A walk that needed a denied resource says which permission it lacked.
    for resource in [
        "events",
        "nodes",
        "pods",
        "pods/log",
        "services",
        "storageclasses.storage.k8s.io",
    ] {
        assert!(
            total.named.get(resource).copied().unwrap_or(0) > 0,
            "no walk named the missing permission on {resource}: {:?}",
            total.named
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn injected_server_errors_are_retried_and_the_walk_still_concludes() {
    let catalog = Catalog::load(&[]);
    let scratch = tempfile::tempdir().unwrap();
    // The first concluded case of each runbook: enough requests to hit every third.
    let mut seen = std::collections::BTreeSet::new();
    let mut retried = 0;
    for (i, case) in cases().iter().enumerate() {
        if case.code.is_none() || !seen.insert(case.runbook.clone()) {
            continue;
        }
        let fixture = scratch.path().join(i.to_string());
        copy_dir(&case.snapshot, &fixture, "aws");
        let steady = serve(&fixture, ServeOptions::default()).await;
        let (_, out, err) = ktriage(&catalog, &run_args(case, &live_flags(&steady))).await;
        let expected = comparable(record(case, &out, &err));
        let flaky = serve(
            &fixture,
            ServeOptions {
                fail_every: Some(3),
                ..ServeOptions::default()
            },
        )
        .await;
        let (_, out, err) = ktriage(&catalog, &run_args(case, &live_flags(&flaky))).await;
        let got = comparable(record(case, &out, &err));
        if let Some(diff) = first_difference(&got, &expected, "") {
            panic!(
                "{} / {}: retries changed the walk {diff}",
                case.runbook, case.name
            );
        }
        let log = std::fs::read_to_string(&flaky.access_log).unwrap();
        retried += log.lines().filter(|l| l.ends_with(" 500")).count();
    }
    assert!(seen.len() >= 4, "{seen:?}");
    assert!(retried > 0, "no request was failed, so nothing was retried");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn triage_sends_one_get_per_distinct_query() {
    use ktriage::drive::Session;
    let catalog = Catalog::load(&[]);
    for fixture in [
        "evict-memory-pressure",
        "dns-coredns-crashing",
        "pvc-zone-conflict",
    ] {
        let scratch = tempfile::tempdir().unwrap();
        let path = scratch.path().join(fixture);
        copy_dir(&root().join("tests/fixtures").join(fixture), &path, "aws");
        // What an offline triage asks: its distinct queries.
        let session = Session::new(Snapshot::open(&path).unwrap());
        ktriage::drive::triage::triage(&session.round(&catalog)).await;
        let mut distinct: Vec<_> = session
            .state
            .cache
            .sent()
            .into_iter()
            .filter(|q| !matches!(q, FactQuery::Eks(_) | FactQuery::LogEvents(_)))
            .collect();
        distinct.sort();
        distinct.dedup();
        let mut all = session.state.cache.sent();
        let sent = all.len();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), sent, "a query was sent twice");
        let served = serve(&path, ServeOptions::default()).await;
        let mut args = vec!["triage".to_string(), "--output".into(), "json".into()];
        args.extend(live_flags(&served));
        let (code, _, err) = ktriage(&catalog, &args).await;
        assert_ne!(code, 1, "{err}");
        let log = std::fs::read_to_string(&served.access_log).unwrap();
        let requests: Vec<&str> = log.lines().collect();
        assert!(
            requests.iter().all(|l| l.split(' ').nth(1) == Some("GET")),
            "{log}"
        );
        // One probe of /version, then one request per distinct Kubernetes query (no list
        // here is longer than a page; AWS queries do not go to the API server).
        assert_eq!(
            requests.len(),
            distinct.len() + 1,
            "{fixture}: {} requests for {} distinct queries {distinct:#?}:\n{log}",
            requests.len(),
            distinct.len()
        );
        assert!(requests[0].contains(" GET /version "), "{log}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watches_follow_the_panel_kinds_with_pruned_objects() {
    use ktriage::source::live::watch::Freshness;
    use ktriage::source::live::{LiveOptions, LiveSource, connect};
    use ktriage::tui::cluster_state::panel_specs;
    let fixture = root().join("tests/fixtures/evict-memory-pressure");
    let served = serve(&fixture, ServeOptions::default()).await;
    let connection = connect(&LiveOptions {
        kubeconfig: Some(served.kubeconfig.clone()),
        ..LiveOptions::default()
    })
    .await
    .unwrap();
    let live = LiveSource::new(connection, None);
    let watches = live.watch(panel_specs()).await;
    let pods = ktriage::facts::GroupKind::new("", "Pod");
    let events = ktriage::facts::GroupKind::new("", "Event");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let all_live = panel_specs().iter().all(|s| {
            matches!(
                watches.get(&s.kind).unwrap().freshness,
                Freshness::Live { .. }
            )
        });
        if all_live {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "watches never synced: {:?}",
            panel_specs()
                .iter()
                .map(|s| watches.get(&s.kind).unwrap().freshness)
                .collect::<Vec<_>>()
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let snapshot = Snapshot::open(&fixture).unwrap();
    let expected = snapshot.list_json(&pods, None, None, None).unwrap().len();
    let watched = watches.get(&pods).unwrap();
    assert_eq!(watched.objects.len(), expected);
    for pod in watched.objects.values() {
        assert!(pod["spec"].get("containers").is_none(), "not pruned: {pod}");
        assert!(pod["status"].get("phase").is_some(), "{pod}");
    }
    let warnings = watches.get(&events).unwrap();
    assert!(!warnings.objects.is_empty());
    assert!(warnings.objects.values().all(|e| e["type"] == "Warning"));
    let log = std::fs::read_to_string(&served.access_log).unwrap();
    assert!(log.contains("watch=true"), "{log}");
    assert!(log.contains("fieldSelector=type%3DWarning"), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_live_client_cannot_send_a_write() {
    use ktriage::source::live::{LiveOptions, connect};
    let served = serve(
        &root().join("tests/fixtures/evict-memory-pressure"),
        ServeOptions::default(),
    )
    .await;
    let connection = connect(&LiveOptions {
        kubeconfig: Some(served.kubeconfig.clone()),
        ..LiveOptions::default()
    })
    .await
    .unwrap();
    for method in ["POST", "PUT", "PATCH", "DELETE"] {
        let request = http::Request::builder()
            .method(method)
            .uri("/api/v1/namespaces/insights/pods/report-renderer-6f9b7c5d48-x2v7q")
            .body(kube::client::Body::empty())
            .unwrap();
        let err = connection.client.send(request).await.unwrap_err();
        assert!(err.to_string().contains("ktriage is read-only"), "{err}");
    }
    let get = http::Request::get("/version")
        .body(kube::client::Body::empty())
        .unwrap();
    assert!(
        connection
            .client
            .send(get)
            .await
            .unwrap()
            .status()
            .is_success()
    );
    let log = std::fs::read_to_string(&served.access_log).unwrap();
    assert_eq!(
        log.lines().count(),
        1,
        "only the GET reached the server:\n{log}"
    );
}

/// A kubeconfig whose user gets its token from `plugin` (a shell script).
fn exec_kubeconfig(dir: &Path, server: &Path, plugin: &str) -> PathBuf {
    let served: Value = serde_json::from_str(&std::fs::read_to_string(server).unwrap()).unwrap();
    let url = served["clusters"][0]["cluster"]["server"].as_str().unwrap();
    let path = dir.join("exec-kubeconfig");
    std::fs::write(
        &path,
        format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: eks\nclusters:\n- name: c\n  cluster: {{server: \"{url}\"}}\n\
             contexts:\n- name: eks\n  context: {{cluster: c, user: u}}\nusers:\n- name: u\n  user:\n    exec:\n      \
             apiVersion: client.authentication.k8s.io/v1beta1\n      command: {plugin}\n      args: [eks, get-token, --cluster-name, shop]\n      interactiveMode: IfAvailable\n"
        ),
    )
    .unwrap();
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_plugins_run_non_interactively_and_their_errors_are_shown() {
    use std::os::unix::fs::PermissionsExt;
    let catalog = Catalog::load(&[]);
    let served = serve(
        &root().join("tests/fixtures/evict-memory-pressure"),
        ServeOptions::default(),
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let script = |name: &str, body: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path.display().to_string()
    };
    let catalog = &catalog;
    let triage_with = |plugin: String| {
        let kubeconfig = exec_kubeconfig(dir.path(), &served.kubeconfig, &plugin);
        let args = [
            "triage",
            "--kubeconfig",
            &kubeconfig.display().to_string(),
            "--as-of",
            &served.now,
        ]
        .map(String::from);
        async move { ktriage(catalog, &args).await }
    };
    // A plugin that fails the way an expired AWS SSO session does, and records whether
    // it was told it may not prompt.
    let seen = dir.path().join("exec-info");
    let failing = script(
        "aws-expired",
        &format!(
            "echo \"$KUBERNETES_EXEC_INFO\" > {}\necho 'Error loading SSO Token: Token for sso-session prod has expired' >&2\nexit 255",
            seen.display()
        ),
    );
    let (code, _, err) = triage_with(failing).await;
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("Token for sso-session prod has expired"),
        "{err}"
    );
    assert!(err.contains("credential plugin failed"), "{err}");
    let info = std::fs::read_to_string(&seen).unwrap();
    assert!(info.contains("\"interactive\":false"), "{info}");
    // A plugin that is not installed.
    let (code, _, err) = triage_with("/nonexistent/aws".into()).await;
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("not installed"), "{err}");
    assert!(err.contains("/nonexistent/aws"), "{err}");
    // A working plugin: the token reaches the server and the triage runs.
    let working = script(
        "aws-ok",
        "echo '{\"kind\":\"ExecCredential\",\"apiVersion\":\"client.authentication.k8s.io/v1beta1\",\"status\":{\"token\":\"k8s-aws-v1.test\"}}'",
    );
    let (code, out, err) = triage_with(working).await;
    assert_ne!(code, 1, "{err}");
    assert!(out.contains("pod-evictions"), "{out}");
}

/// The interface's live path: the state panel from watches equals the panel a snapshot
/// round computes, and triage over the live source suggests what it suggests offline.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_interface_reads_the_same_cluster_live_as_offline() {
    use ktriage::drive::RoundState;
    use ktriage::source::live::watch::Freshness;
    use ktriage::source::live::{LiveOptions, LiveSource, connect};
    use ktriage::tui::cluster_state::panel_specs;
    use ktriage::tui::jobs::{Context, execute};
    use ktriage::tui::msg::{Job, Msg};
    let fixture = root().join("tests/fixtures/evict-memory-pressure");
    let served = serve(&fixture, ServeOptions::default()).await;
    let snapshot: Arc<dyn Source> = Arc::new(Snapshot::open(&fixture).unwrap());
    let now = snapshot.info().now;
    let catalog = Arc::new(Catalog::builtin());

    let offline_ctx = Context {
        source: snapshot.clone(),
        catalog: catalog.clone(),
        state_from_round: true,
        rules: std::sync::Arc::new(ktriage::evidence::redact::RuleSet::builtin()),
    };
    let Msg::Triaged {
        report: offline_report,
        state: Some(offline_state),
        ..
    } = execute(
        Job::Triage { fresh: false },
        &offline_ctx,
        &RoundState::new(&*snapshot, now),
    )
    .await
    else {
        panic!("offline triage gave no state");
    };

    let connection = connect(&LiveOptions {
        kubeconfig: Some(served.kubeconfig.clone()),
        ..LiveOptions::default()
    })
    .await
    .unwrap();
    let live: Arc<dyn Source> = Arc::new(LiveSource::new(connection, Some(now)));
    let live_ctx = Context {
        source: live.clone(),
        catalog,
        state_from_round: false,
        rules: std::sync::Arc::new(ktriage::evidence::redact::RuleSet::builtin()),
    };
    let Msg::Triaged {
        report: live_report,
        state: None,
        ..
    } = execute(
        Job::Triage { fresh: false },
        &live_ctx,
        &RoundState::new(&*live, now),
    )
    .await
    else {
        panic!("live triage must leave the panel to the watches");
    };
    let key = |r: &ktriage::drive::triage::TriageReport| {
        r.suggestions
            .iter()
            .map(|s| (s.runbook.clone(), s.target.clone(), s.severity))
            .collect::<Vec<_>>()
    };
    assert_eq!(key(&live_report), key(&offline_report));

    let connection = connect(&LiveOptions {
        kubeconfig: Some(served.kubeconfig.clone()),
        ..LiveOptions::default()
    })
    .await
    .unwrap();
    let watching = LiveSource::new(connection, Some(now));
    let specs = panel_specs();
    let watches = watching.watch(specs.clone()).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let Msg::LiveState { state, freshness } = ktriage::tui::live_state(&watches, &specs, now)
        else {
            unreachable!()
        };
        if freshness
            .iter()
            .all(|(_, f)| matches!(f, Freshness::Live { .. }))
        {
            assert_eq!(freshness.len(), specs.len());
            assert_eq!(state, offline_state);
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "watches never synced: {freshness:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// A bundle collected live (over `serve`) reopens to the walk the live session made:
/// the collection widens each query to a whole capture and writes where it looked, so
/// the offline re-run sees the same facts, and no more.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bundle_collected_live_reopens_to_the_same_walk() {
    let catalog = Catalog::load(&[]);
    let scratch = tempfile::tempdir().unwrap();
    let mut compared = 0;
    for (i, case) in cases().iter().enumerate().filter(|(i, _)| i % 4 == 0) {
        let fixture = scratch.path().join(i.to_string());
        copy_dir(&case.snapshot, &fixture, "aws");
        let served = serve(&fixture, ServeOptions::default()).await;
        let bundle = scratch.path().join(format!("{i}.tar.gz"));
        let mut args: Vec<String> = vec!["bundle".into(), "--run".into(), case.runbook.clone()];
        args.extend(case.flags());
        args.extend(live_flags(&served));
        args.extend(["-o".to_string(), bundle.display().to_string()]);
        let (_, _, err) = ktriage(&catalog, &args).await;
        assert!(bundle.exists(), "{} / {}: {err}", case.runbook, case.name);
        let live = ["--snapshot".to_string(), bundle.display().to_string()];
        let (_, out, err) = ktriage(&catalog, &run_args(case, &live_flags(&served))).await;
        let walked_live = outline(&record(case, &out, &err));
        let (_, out, err) = ktriage(&catalog, &run_args(case, &live)).await;
        let reopened = outline(&record(case, &out, &err));
        assert_eq!(
            reopened, walked_live,
            "{} / {}: the bundle's walk differs from the live one",
            case.runbook, case.name
        );
        compared += 1;
    }
    assert!(compared >= 20, "only {compared}");
}

/// Every comparison here judges ages as captured (`--as-of`), never by today's date: the
/// whole file runs again with the clock a year ahead and must still pass. A test that
/// forgot to pin its clock passes today and fails here.
#[test]
fn the_live_comparisons_hold_with_the_clock_a_year_ahead() {
    const ME: &str = "the_live_comparisons_hold_with_the_clock_a_year_ahead";
    if std::env::var_os("KTRIAGE_CLOCK_OFFSET").is_some() {
        return;
    }
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        // This module's tests only: the binary holds every area's.
        .args(["live::", "--skip", ME, "--test-threads", "2"])
        .env("KTRIAGE_CLOCK_OFFSET", (365 * 24 * 3600).to_string())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "a year ahead:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let passed = stdout
        .lines()
        .find_map(|l| l.strip_prefix("test result: ok. "))
        .and_then(|rest| rest.split(' ').next()?.parse::<usize>().ok())
        .unwrap_or(0);
    assert!(passed >= 8, "the re-run ran {passed} tests:\n{stdout}");
}

/// An API server that cannot be reached is said to be tried from the first second, each
/// attempt counted, then the error: never silence for a minute, and never the
/// interface's "press r" on a command line.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_server_is_tried_visibly_then_named() {
    let catalog = Catalog::load(&[]);
    // A port that was just free: nothing listens there, so every connect is refused.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: prod-eu\nclusters:\n- name: c\n  cluster: {{server: \"http://127.0.0.1:{port}\"}}\n\
             contexts:\n- name: prod-eu\n  context: {{cluster: c, user: u}}\nusers:\n- name: u\n  user: {{token: t}}\n"
        ),
    )
    .unwrap();
    let args = [
        "triage",
        "--no-aws",
        "--kubeconfig",
        &kubeconfig.display().to_string(),
    ]
    .map(String::from);
    let (code, out, err) = ktriage(&catalog, &args).await;
    assert_eq!(code, 1, "{out}{err}");
    let lines: Vec<&str> = err.lines().collect();
    let server = format!("(http://127.0.0.1:{port}/)");
    let first = lines
        .iter()
        .position(|l| l.starts_with("connecting to ") && l.contains("prod-eu"))
        .unwrap_or_else(|| panic!("{err}"));
    assert_eq!(lines[first].matches(&server).count(), 1, "{err}");
    for attempt in 2..=4 {
        let at = lines
            .iter()
            .position(|l| l.contains(&format!("attempt {attempt} of 4")))
            .unwrap_or_else(|| panic!("attempt {attempt}: {err}"));
        assert!(at > first, "{err}");
    }
    assert!(err.contains("cannot reach the cluster"), "{err}");
    assert!(!err.contains("press r"), "{err}");
}
