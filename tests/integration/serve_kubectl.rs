//! `kubectl` itself against `ktriage serve`: the served API must be faithful enough that
//! kubectl prints what the snapshot holds. Each test runs the real binary (`ktriage
//! serve` as a user starts it) and a real kubectl with a fresh HOME, so its discovery
//! cache is cold and every request is seen by the server.

use crate::common::{cases, copy_dir, names_what_a_dump_lacks, root};
use ktriage::facts::GroupKind;
use ktriage::source::snapshot::Snapshot;
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

struct Serve {
    child: Child,
    url: String,
    kubeconfig: PathBuf,
    access_log: PathBuf,
    home: tempfile::TempDir,
    fixture: PathBuf,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(fixture: &str, extra: &[&str]) -> Serve {
    serve_path(&root().join("tests/fixtures").join(fixture), extra)
}

fn serve_path(fixture: &Path, extra: &[&str]) -> Serve {
    let fixture = fixture.to_path_buf();
    let home = tempfile::tempdir().unwrap();
    let kubeconfig = home.path().join("kubeconfig");
    let access_log = home.path().join("access.log");
    let mut child = Command::new(env!("CARGO_BIN_EXE_ktriage"))
        .arg("serve")
        .arg(&fixture)
        .arg("--kubeconfig-out")
        .arg(&kubeconfig)
        .arg("--access-log")
        .arg(&access_log)
        .args(extra)
        .env("XDG_STATE_HOME", home.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    // The first line (the URL) is printed once the port is bound; the second once the
    // kubeconfig is written.
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    assert!(first.contains("http://127.0.0.1:"), "{first}");
    let second = lines.next().unwrap().unwrap();
    assert!(second.starts_with("kubeconfig:"), "{second}");
    std::thread::spawn(move || for _ in lines {});
    Serve {
        child,
        url: first
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .unwrap()
            .to_string(),
        kubeconfig,
        access_log,
        home,
        fixture,
    }
}

impl Serve {
    fn kubectl(&self, args: &[&str]) -> (bool, String, String) {
        let out = Command::new("kubectl")
            .args(args)
            .env("HOME", self.home.path())
            .env("KUBECONFIG", &self.kubeconfig)
            .env_remove("KUBERNETES_SERVICE_HOST")
            .output()
            .expect("kubectl is installed on this machine");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    fn ok(&self, args: &[&str]) -> String {
        let (ok, out, err) = self.kubectl(args);
        assert!(ok, "kubectl {args:?} failed: {err}");
        out
    }

    fn snapshot(&self) -> Snapshot {
        Snapshot::open(&self.fixture).unwrap()
    }

    fn access_log(&self) -> String {
        std::fs::read_to_string(&self.access_log).unwrap_or_default()
    }
}

fn objects(snapshot: &Snapshot, kind: &str, ns: Option<&str>, labels: Option<&str>) -> Vec<Value> {
    snapshot
        .list_json(&GroupKind::new("", kind), ns, labels, None)
        .unwrap()
        .iter()
        .map(|t| serde_json::from_str(t).unwrap())
        .collect()
}

fn name(o: &Value) -> &str {
    o["metadata"]["name"].as_str().unwrap()
}

/// kubectl's table rows, split on runs of two or more spaces, header first.
fn rows(table: &str) -> Vec<Vec<String>> {
    table
        .lines()
        .map(|l| {
            l.split("  ")
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(str::to_string)
                .collect()
        })
        .collect()
}

#[test]
fn get_pods_all_namespaces_lists_every_pod_of_the_fixture() {
    let s = serve("evict-memory-pressure", &[]);
    let out = s.ok(&["get", "pods", "-A"]);
    let rows = rows(&out);
    assert_eq!(
        rows[0],
        ["NAMESPACE", "NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    );
    let mut printed: Vec<(String, String)> = rows[1..]
        .iter()
        .map(|r| (r[0].clone(), r[1].clone()))
        .collect();
    let pods = objects(&s.snapshot(), "Pod", None, None);
    let mut expected: Vec<(String, String)> = pods
        .iter()
        .map(|p| {
            (
                p["metadata"]["namespace"].as_str().unwrap().to_string(),
                name(p).to_string(),
            )
        })
        .collect();
    printed.sort();
    expected.sort();
    assert_eq!(printed, expected);
    // Status as kubectl shows it: an evicted pod by its reason, unless (as the server's
    // printer does) a terminated container's reason replaces it.
    let mut evicted = 0;
    for pod in &pods {
        if pod["status"]["reason"] == "Evicted" {
            let row = rows[1..].iter().find(|r| r[1] == name(pod)).unwrap();
            let container_reason =
                pod["status"]["containerStatuses"][0]["state"]["terminated"]["reason"].as_str();
            assert!(
                row[3] == "Evicted" || Some(row[3].as_str()) == container_reason,
                "{row:?}"
            );
            evicted += 1;
        }
    }
    assert!(evicted > 0);
}

#[test]
fn get_po_with_a_label_selector_in_a_namespace() {
    let s = serve("evict-memory-pressure", &[]);
    let selector = "app.kubernetes.io/name=report-renderer";
    let out = s.ok(&["get", "po", "-n", "insights", "-l", selector, "-o", "name"]);
    let mut printed: Vec<&str> = out.lines().collect();
    printed.sort();
    let expected_pods = objects(&s.snapshot(), "Pod", Some("insights"), Some(selector));
    let mut expected: Vec<String> = expected_pods
        .iter()
        .map(|p| format!("pod/{}", name(p)))
        .collect();
    expected.sort();
    assert!(!expected.is_empty());
    assert_eq!(printed, expected);
    assert!(
        s.access_log()
            .contains("labelSelector=app.kubernetes.io%2Fname%3Dreport-renderer"),
        "the selector is sent to the server, not applied by kubectl:\n{}",
        s.access_log()
    );
    // Set-based selectors too.
    let out = s.ok(&[
        "get",
        "po",
        "-A",
        "-l",
        "app.kubernetes.io/name notin (report-renderer),!nonexistent-label",
        "-o",
        "name",
    ]);
    assert!(!out.contains("report-renderer"), "{out}");
    assert!(!out.trim().is_empty());
}

#[test]
fn get_nodes_json_is_the_fixtures_nodes() {
    let s = serve("evict-memory-pressure", &[]);
    let out = s.ok(&["get", "nodes", "-o", "json"]);
    let list: Value = serde_json::from_str(&out).unwrap();
    let printed = list["items"].as_array().unwrap();
    let expected = objects(&s.snapshot(), "Node", None, None);
    assert_eq!(printed.len(), expected.len());
    for node in &expected {
        let served = printed.iter().find(|n| name(n) == name(node)).unwrap();
        assert_eq!(served, node, "node {} differs", name(node));
    }
}

#[test]
fn describe_pod_shows_its_events() {
    let s = serve("evict-memory-pressure", &[]);
    let pod = "report-renderer-6f9b7c5d48-x2v7q";
    let out = s.ok(&["describe", "pod", "-n", "insights", pod]);
    assert!(
        out.lines()
            .any(|l| l.starts_with("Name:") && l.trim_end().ends_with(pod)),
        "{out}"
    );
    assert!(out.contains("Status:"), "{out}");
    let events_at = out.find("Events:").expect("an Events section");
    let events = &out[events_at..];
    let snapshot = s.snapshot();
    let expected: Vec<Value> = objects(&snapshot, "Event", Some("insights"), None)
        .into_iter()
        .filter(|e| e["involvedObject"]["name"] == pod)
        .collect();
    assert!(!expected.is_empty(), "the fixture has events about {pod}");
    for e in &expected {
        let reason = e["reason"].as_str().unwrap();
        assert!(events.contains(reason), "event {reason} missing:\n{events}");
    }
}

#[test]
fn describe_pvc_shows_status_class_and_events() {
    let s = serve("pvc-wffc-no-consumer", &[]);
    let snapshot = s.snapshot();
    let pvc = objects(&snapshot, "PersistentVolumeClaim", None, None)
        .into_iter()
        .find(|p| p["status"]["phase"] == "Pending")
        .unwrap();
    let ns = pvc["metadata"]["namespace"].as_str().unwrap();
    let out = s.ok(&["describe", "pvc", "-n", ns, name(&pvc)]);
    assert!(out.contains("Pending"), "{out}");
    if let Some(class) = pvc["spec"]["storageClassName"].as_str() {
        assert!(out.contains(class), "{out}");
    }
    let events: Vec<Value> = objects(&snapshot, "Event", Some(ns), None)
        .into_iter()
        .filter(|e| e["involvedObject"]["name"] == name(&pvc))
        .collect();
    for e in &events {
        assert!(out.contains(e["reason"].as_str().unwrap()), "{out}");
    }
}

fn log_lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| {
            l.split_once(' ')
                .filter(|(ts, _)| ts.len() >= 20 && ts.as_bytes()[4] == b'-')
                .map_or(l, |(_, rest)| rest)
                .to_string()
        })
        .collect()
}

#[test]
fn logs_tail_and_previous_match_the_captured_files() {
    let s = serve("evict-oomkilled", &[]);
    let dir = s
        .fixture
        .join("logs/catalog/search-indexer-b7f94c6d58-n4wzr");
    let current = log_lines(&dir.join("indexer.log"));
    let out = s.ok(&[
        "logs",
        "-n",
        "catalog",
        "search-indexer-b7f94c6d58-n4wzr",
        "-c",
        "indexer",
        "--tail=3",
    ]);
    let printed: Vec<&str> = out.lines().collect();
    let expected: Vec<&str> = current[current.len().saturating_sub(3)..]
        .iter()
        .map(String::as_str)
        .collect();
    assert_eq!(printed, expected);
    let previous = log_lines(&dir.join("indexer.previous.log"));
    let out = s.ok(&[
        "logs",
        "-p",
        "-n",
        "catalog",
        "search-indexer-b7f94c6d58-n4wzr",
        "-c",
        "indexer",
    ]);
    assert_eq!(out.lines().collect::<Vec<_>>(), previous);
    let out = s.ok(&[
        "logs",
        "-n",
        "catalog",
        "search-indexer-b7f94c6d58-n4wzr",
        "-c",
        "indexer",
        "--timestamps",
        "--tail=1",
    ]);
    let raw = std::fs::read_to_string(dir.join("indexer.log")).unwrap();
    assert_eq!(out.trim_end(), raw.trim_end().lines().last().unwrap());
}

#[test]
fn events_field_selector_names_one_object() {
    let s = serve("evict-memory-pressure", &[]);
    let snapshot = s.snapshot();
    let all = objects(&snapshot, "Event", None, None);
    let target = all
        .iter()
        .find(|e| e["involvedObject"]["kind"] == "Pod")
        .unwrap();
    let about = target["involvedObject"]["name"].as_str().unwrap();
    let selector = format!("involvedObject.name={about}");
    let out = s.ok(&[
        "get",
        "events",
        "-A",
        "--field-selector",
        &selector,
        "-o",
        "json",
    ]);
    let list: Value = serde_json::from_str(&out).unwrap();
    let printed = list["items"].as_array().unwrap();
    let expected = all
        .iter()
        .filter(|e| e["involvedObject"]["name"] == about)
        .count();
    assert_eq!(printed.len(), expected);
    assert!(printed.iter().all(|e| e["involvedObject"]["name"] == about));
    assert!(expected < all.len(), "the selector must exclude something");
}

#[test]
fn delete_is_refused_and_nothing_changes() {
    let s = serve("evict-memory-pressure", &[]);
    let pod = "report-renderer-6f9b7c5d48-x2v7q";
    let (ok, _out, err) = s.kubectl(&["delete", "pod", "-n", "insights", pod]);
    assert!(!ok);
    assert!(err.contains("MethodNotAllowed"), "{err}");
    assert!(s.access_log().contains(&format!(
        "DELETE /api/v1/namespaces/insights/pods/{pod} 405"
    )));
    s.ok(&["get", "pod", "-n", "insights", pod]);
    let (ok, _, err) = s.kubectl(&["label", "pod", "-n", "insights", pod, "x=y"]);
    assert!(!ok && err.contains("MethodNotAllowed"), "{err}");
}

#[test]
fn unknown_kinds_are_404_and_uncaptured_kinds_are_flagged_never_500() {
    let s = serve("evict-memory-pressure", &[]);
    let (ok, _, err) = s.kubectl(&["get", "--raw", "/apis/example.com/v1/widgets"]);
    assert!(!ok && err.contains("NotFound"), "{err}");
    // A kind the snapshot did not capture lists empty (kubectl's cluster-info dump lists
    // every standard kind), with a warning kubectl prints: the emptiness was not observed.
    let (ok, _, err) = s.kubectl(&["get", "networkpolicies", "-A"]);
    assert!(ok, "{err}");
    assert!(
        err.contains(
            "Warning: ktriage serve: not captured: no NetworkPolicy objects in this snapshot"
        ),
        "{err}"
    );
    let (ok, _, err) = s.kubectl(&["get", "pods", "-A"]);
    assert!(ok && !err.contains("Warning"), "{err}");
    assert!(!s.access_log().contains(" 500"), "{}", s.access_log());
}

#[test]
fn a_non_loopback_address_is_refused() {
    let out = Command::new(env!("CARGO_BIN_EXE_ktriage"))
        .args(["serve"])
        .arg(root().join("tests/fixtures/evict-memory-pressure"))
        .args(["--listen", "0.0.0.0:0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("not a loopback address") && err.contains("--listen-any"),
        "{err}"
    );
}

/// `ktriage run ... --output json` over a snapshot, in-process (the binary's code path,
/// without loading the runbooks once per walk): the walk record.
fn walk(
    runtime: &tokio::runtime::Runtime,
    catalog: &ktriage::runbook::Catalog,
    runbook: &str,
    snapshot: &Path,
    flags: &[String],
) -> Value {
    use clap::Parser;
    let mut args: Vec<String> = ["ktriage", "run", runbook, "--output", "json", "--snapshot"]
        .map(String::from)
        .to_vec();
    args.push(snapshot.display().to_string());
    args.extend(flags.iter().cloned());
    let cli = ktriage::cli::Cli::try_parse_from(&args).unwrap();
    let (mut out, mut err) = (Vec::new(), Vec::new());
    runtime.block_on(ktriage::cmd::execute_with(
        catalog,
        &ktriage::config::Settings::builtin(),
        cli,
        &mut ktriage::cmd::Io {
            out: &mut out,
            err: &mut err,
        },
    ));
    serde_json::from_slice(&out).unwrap_or_else(|e| {
        panic!(
            "{runbook} over {}: {e}: {}",
            snapshot.display(),
            String::from_utf8_lossy(&err)
        )
    })
}

#[test]
fn a_cluster_info_dump_taken_by_kubectl_from_serve_concludes_the_same() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let catalog = ktriage::runbook::Catalog::load(&[]);
    let scratch = tempfile::tempdir().unwrap();
    let mut dumps: std::collections::BTreeMap<PathBuf, (PathBuf, PathBuf)> = Default::default();
    let mut same = 0;
    for case in cases() {
        if case.runbook != "pod-evictions" && case.runbook != "dns-timeouts" {
            continue;
        }
        let n = dumps.len();
        let (native, dump) = dumps
            .entry(case.snapshot.clone())
            .or_insert_with(|| {
                let native = scratch.path().join(format!("native-{n}"));
                copy_dir(&case.snapshot, &native, "aws");
                let dump = scratch.path().join(format!("dump-{n}"));
                let s = serve_path(&native, &[]);
                s.ok(&[
                    "cluster-info",
                    "dump",
                    "--all-namespaces",
                    "--output-directory",
                    dump.to_str().unwrap(),
                ]);
                assert!(dump.join("nodes.json").exists());
                assert!(!s.access_log().contains(" 500"), "{}", s.access_log());
                (native, dump)
            })
            .clone();
        let flags = case.flags();
        let expected = walk(&runtime, &catalog, &case.runbook, &native, &flags);
        let dumped = walk(&runtime, &catalog, &case.runbook, &dump, &flags);
        let verdict = |r: &Value| (r["status"].clone(), r["conclusion"]["code"].clone());
        if verdict(&dumped) == verdict(&expected) {
            same += 1;
            continue;
        }
        assert!(
            names_what_a_dump_lacks(&dumped),
            "{} / {}: from kubectl's dump the walk gives {:?} instead of {:?} without naming data a dump lacks:\n{dumped:#}",
            case.runbook,
            case.name,
            verdict(&dumped),
            verdict(&expected)
        );
    }
    assert!(
        same >= 15,
        "only {same} cases concluded the same from kubectl's dump"
    );
}

/// A clean support bundle as current troubleshoot writes it: kubectl gets every kind it
/// holds, custom resources and their definitions included, each with the bundle's
/// objects and nothing else; triage over it finds nothing critical.
#[test]
fn a_current_troubleshoot_bundle_serves_every_kind_and_triage_finds_nothing_critical() {
    let s = serve("troubleshoot-current-healthy", &[]);
    let snapshot = s.snapshot();
    let kinds = snapshot.kinds();
    for custom in ["CNINode", "ENIConfig", "CustomResourceDefinition"] {
        assert!(kinds.iter().any(|k| k.kind == custom), "{kinds:?}");
    }
    for gk in &kinds {
        let resource = if gk.group.is_empty() {
            gk.kind.to_lowercase()
        } else {
            format!("{}.{}", gk.kind.to_lowercase(), gk.group)
        };
        let (ok, out, err) = s.kubectl(&["get", &resource, "-A", "-o", "json"]);
        assert!(ok, "kubectl get {resource}: {err}");
        assert!(!err.contains("Warning"), "{resource}: {err}");
        let served: Value = serde_json::from_str(&out).unwrap();
        let mut served: Vec<String> = served["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| name(o).to_string())
            .collect();
        let mut held: Vec<String> = snapshot
            .list_json(gk, None, None, None)
            .unwrap()
            .iter()
            .map(|t| name(&serde_json::from_str::<Value>(t).unwrap()).to_string())
            .collect();
        served.sort();
        held.sort();
        assert_eq!(served, held, "{resource}");
    }
    let out = Command::new(env!("CARGO_BIN_EXE_ktriage"))
        .args(["triage", "--output", "json", "--snapshot"])
        .arg(&s.fixture)
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let critical: Vec<&Value> = report["suggestions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["severity"] == "critical")
        .collect();
    assert!(critical.is_empty(), "{report:#}");
    assert_ne!(out.status.code(), Some(3), "{report:#}");
    assert!(!s.access_log().contains(" 500"), "{}", s.access_log());
}

/// `serve` under load and hostile clients, as a user starts it: a snapshot big enough that
/// a response nobody reads is worth holding, and clients that hold connections, never
/// read, or abandon watches. Every wait is a hang guard, never a timing assertion.
mod load {
    use super::*;
    use std::time::Duration;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpSocket, TcpStream};

    /// A snapshot whose pod list is about `megabytes` MB, each pod shaped as the API
    /// returns it (the bulk is in an annotation, as last-applied-configuration makes it).
    fn big_snapshot(dir: &Path, megabytes: usize) -> usize {
        let k8s = dir.join("k8s");
        std::fs::create_dir_all(&k8s).unwrap();
        let pods = megabytes * 1000 / 4;
        let items: Vec<Value> = (0..pods)
            .map(|i| {
                serde_json::json!({
                    "metadata": {
                        "name": format!("web-{i:05}"),
                        "namespace": "shop",
                        "uid": format!("9d1c5b4e-0000-4000-8000-{i:012}"),
                        "creationTimestamp": "2026-03-02T09:00:00Z",
                        "labels": {"app": "web"},
                        "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "x".repeat(3800)},
                    },
                    "spec": {"nodeName": "ip-10-0-1-10.ec2.internal", "containers": [{"name": "web", "image": "nginx:1.27"}]},
                    "status": {"phase": "Running"},
                })
            })
            .collect();
        let list = serde_json::json!({"apiVersion": "v1", "kind": "PodList", "items": items});
        std::fs::write(k8s.join("pods.json"), list.to_string()).unwrap();
        pods
    }

    fn serve_big(megabytes: usize, flags: &[&str]) -> (Serve, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        big_snapshot(dir.path(), megabytes);
        (serve_path(dir.path(), flags), dir)
    }

    fn addr(s: &Serve) -> String {
        s.url.trim_start_matches("http://").to_string()
    }

    /// A kilobyte-granular reading of the server's memory: (resident now, peak resident).
    fn memory_kib(s: &Serve) -> (u64, u64) {
        let status = std::fs::read_to_string(format!("/proc/{}/status", s.child.id())).unwrap();
        let field = |name: &str| -> u64 {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.split_whitespace().next())
                .and_then(|v| v.parse().ok())
                .unwrap()
        };
        (field("VmRSS:"), field("VmHWM:"))
    }

    /// Starts the peak over from now (Linux: `5` to clear_refs resets VmHWM), so that a
    /// peak measures a phase of the test rather than the snapshot's loading.
    fn reset_peak(s: &Serve) {
        std::fs::write(format!("/proc/{}/clear_refs", s.child.id()), "5").unwrap();
    }

    fn request(path: &str) -> String {
        format!(
            "GET {path} HTTP/1.1\r\nHost: ktriage\r\nAccept: application/json\r\nConnection: close\r\n\r\n"
        )
    }

    /// One GET on a fresh connection: its status code and body length.
    async fn get(addr: &str, path: &str) -> std::io::Result<(u16, usize)> {
        let mut stream = TcpStream::connect(addr).await?;
        stream.write_all(request(path).as_bytes()).await?;
        let mut out = Vec::new();
        stream.read_to_end(&mut out).await?;
        let head = String::from_utf8_lossy(&out[..out.len().min(64)]).into_owned();
        let code = head
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        Ok((code, out.len()))
    }

    /// Reads until the server closes the connection (a reset counts), within a guard.
    async fn until_closed(stream: &mut TcpStream, guard: Duration) -> Option<usize> {
        let mut total = 0;
        let mut buf = vec![0u8; 64 * 1024];
        tokio::time::timeout(guard, async {
            loop {
                match stream.read(&mut buf).await {
                    Ok(0) | Err(_) => return total,
                    Ok(n) => total += n,
                }
            }
        })
        .await
        .ok()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn held_connections_never_lock_a_crowd_of_clients_out() {
        // More held connections than the server keeps open, each a request head that
        // never ends (a slowloris), then 2,000 clients at once.
        let (s, _dir) = serve_big(2, &["--header-timeout", "3s"]);
        let addr = addr(&s);
        let mut held = Vec::new();
        for _ in 0..600 {
            let mut stream = TcpStream::connect(&addr).await.unwrap();
            stream
                .write_all(b"GET /api/v1/pods HTTP/1.1\r\nHost: ktriage\r\nX-Slow: ")
                .await
                .unwrap();
            held.push(stream);
        }
        let crowd: Vec<_> = (0..2000)
            .map(|i| {
                let addr = addr.clone();
                tokio::spawn(async move {
                    let path = if i % 2 == 0 {
                        format!("/api/v1/namespaces/shop/pods/web-{:05}", i % 500)
                    } else {
                        "/version".to_string()
                    };
                    get(&addr, &path).await
                })
            })
            .collect();
        let mut answered = 0;
        for client in crowd {
            let got = tokio::time::timeout(Duration::from_secs(180), client)
                .await
                .expect("no client of the crowd hangs")
                .unwrap();
            match got {
                Ok((200, _)) => answered += 1,
                other => panic!("a client of the crowd was not answered: {other:?}"),
            }
        }
        assert_eq!(answered, 2000);
        // Every held connection is closed by the server: the ones closed to make room for
        // the crowd, and the rest when their headers were late.
        for (i, stream) in held.iter_mut().enumerate() {
            let closed = until_closed(stream, Duration::from_secs(60)).await;
            assert!(closed.is_some(), "held connection {i} is still open");
        }
        let (rss, peak) = memory_kib(&s);
        eprintln!(
            "serve after 600 held connections and 2,000 clients: {rss} KiB resident, {peak} KiB at peak"
        );
        assert!(s.access_log().lines().count() >= 2000);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn clients_that_never_read_are_cut_off_and_memory_stays_bounded() {
        // A 20 MB pod list, asked for by clients with a tiny receive window that never
        // read: each response would be held in memory for as long as its client lives.
        let (s, _dir) = serve_big(20, &["--max-in-flight", "2", "--stall-timeout", "1s"]);
        let addr = addr(&s);
        let full = get(&addr, "/api/v1/pods").await.unwrap();
        assert_eq!(full.0, 200);
        reset_peak(&s);
        let (before, _) = memory_kib(&s);
        let mut stalled = Vec::new();
        for _ in 0..24 {
            let socket = TcpSocket::new_v4().unwrap();
            socket.set_recv_buffer_size(4096).unwrap();
            let mut stream = socket.connect(addr.parse().unwrap()).await.unwrap();
            stream
                .write_all(request("/api/v1/pods").as_bytes())
                .await
                .unwrap();
            stalled.push(stream);
        }
        // A reader that comes after them is answered once their turns are taken back.
        let late = tokio::time::timeout(Duration::from_secs(120), get(&addr, "/api/v1/pods"))
            .await
            .expect("a reading client is answered while non-readers stall")
            .unwrap();
        assert_eq!(late, full, "the reading client gets the whole list");
        // Reading would let a response through: first wait until the server says it cut
        // every non-reader off.
        let log = s.home.path().join("ktriage/ktriage.log");
        let cut = tokio::time::timeout(Duration::from_secs(120), async {
            loop {
                let text = std::fs::read_to_string(&log).unwrap_or_default();
                if text
                    .matches("cut off a client that stopped reading")
                    .count()
                    >= 24
                {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
        .await;
        assert!(
            cut.is_ok(),
            "the server did not cut off every non-reader:\n{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        for (i, stream) in stalled.iter_mut().enumerate() {
            let got = until_closed(stream, Duration::from_secs(60))
                .await
                .unwrap_or_else(|| panic!("non-reader {i} was never cut off"));
            assert!(
                got < full.1,
                "non-reader {i} was cut off, not served whole ({got} bytes)"
            );
        }
        let (after, peak) = memory_kib(&s);
        eprintln!(
            "serve with 24 non-readers of a {} byte list: {before} KiB resident before, {after} KiB after, {peak} KiB at peak",
            full.1
        );
        // Two responses in memory at a time (each ~20 MB as objects, then as a body),
        // not twenty-four: the peak grows by well under 24 lists.
        let list_kib = (full.1 / 1024) as u64;
        assert!(
            peak < before + 8 * list_kib,
            "memory grew with the clients that never read: {before} KiB before, {peak} KiB at peak, {list_kib} KiB a list"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn watches_past_the_cap_are_refused_and_abandoned_ones_give_their_place_back() {
        let (s, _dir) = serve_big(1, &["--max-watches", "16"]);
        let addr = addr(&s);
        let watch = "/api/v1/namespaces/shop/pods?watch=true&timeoutSeconds=3600";
        let open_watch = || async {
            let mut stream = TcpStream::connect(&addr).await.unwrap();
            stream.write_all(request(watch).as_bytes()).await.unwrap();
            let mut head = vec![0u8; 4096];
            let n = tokio::time::timeout(Duration::from_secs(60), stream.read(&mut head))
                .await
                .expect("a watch is answered")
                .unwrap();
            (stream, String::from_utf8_lossy(&head[..n]).into_owned())
        };
        let mut watches = Vec::new();
        for _ in 0..16 {
            let (stream, head) = open_watch().await;
            assert!(head.starts_with("HTTP/1.1 200"), "{head}");
            watches.push(stream);
        }
        let (_, refused) = open_watch().await;
        assert!(refused.starts_with("HTTP/1.1 429"), "{refused}");
        assert!(
            refused.contains("Retry-After: 1") || refused.contains("retry-after: 1"),
            "{refused}"
        );
        assert!(
            refused.contains("Too many requests, please try again later."),
            "{refused}"
        );
        // Clients that go away give their watches' places back long before the watches'
        // own timeout.
        drop(watches);
        let reopened = tokio::time::timeout(Duration::from_secs(60), async {
            loop {
                let (stream, head) = open_watch().await;
                if head.starts_with("HTTP/1.1 200") {
                    return stream;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
        .await;
        assert!(reopened.is_ok(), "abandoned watches kept their places");
    }
}
