//! The live AWS source through the real AWS SDK, against `moto_server` (the AWS API
//! emulator, PyPI `moto[server]`): each test starts its own moto on a free loopback port,
//! seeds an EKS cluster, its node groups and control-plane log events with boto3
//! (`tests/moto/seed.py`), serves a Kubernetes snapshot with `ktriage serve`, and runs the
//! real binary as a user would — `ktriage run node-not-joining --target GROUP` on that
//! kube context, with nothing in its environment but the AWS variables the test gives.
//!
//! moto lives in a virtualenv: `$KTRIAGE_MOTO_VENV`, else `$XDG_CACHE_HOME/ktriage-venv`
//! (`~/.cache/ktriage-venv`). The first test that needs it creates it from PyPI, once per
//! machine; without python3's venv module or PyPI these tests fail saying which, and
//! they never skip silently.
//!
//! What moto 5 does not do, and so is not tested here (aws-smithy-mocks covers it in
//! `tests/integration/aws_sdk.rs`): it ignores `accessConfig` (so the cluster reports no
//! authentication mode and ktriage reads aws-auth only), health issues are always empty,
//! ListAddons / ListAccessEntries / ListPodIdentityAssociations are not implemented.
//! FilterLogEvents ignores `logStreamNamePrefix` (moto 5.2 filters by `logStreamNames`
//! only): every scenario has a decoy denial in a `kube-apiserver-` stream, which ktriage
//! must keep out by checking the prefix itself.

use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const CLUSTER: &str = "prod-eu";
const REGION: &str = "eu-west-1";
/// The account moto puts in every ARN it makes.
const ACCOUNT: &str = "123456789012";
const GROUP: &str = "ng-general";
const NODE_ROLE: &str = "arn:aws:iam::123456789012:role/prod-eu-general-node-role";
/// The role of another group, mapped: its node is Ready in every scenario.
const SYSTEM_ROLE: &str = "arn:aws:iam::123456789012:role/prod-eu-system-node-role";
/// The role of a third group, not mapped either: its denials must never be quoted for GROUP.
const BATCH_ROLE: &str = "arn:aws:iam::123456789012:role/prod-eu-batch-node-role";
const AUTH_STREAM: &str = "authenticator-8f3a1c2b4d5e6f70";
const CNI_NOT_READY: &str = "container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized";

const MOTO_READY_TIMEOUT: Duration = Duration::from_secs(20);
/// A walk over loopback takes well under a second; this only keeps a hang from hanging CI.
const RUN_TIMEOUT: Duration = Duration::from_secs(90);

// ---------------------------------------------------------------------------------------
// moto_server

/// The last `n` lines of a log, for a failure message.
fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

fn moto_venv() -> PathBuf {
    match std::env::var_os("KTRIAGE_MOTO_VENV") {
        Some(v) if !v.is_empty() => PathBuf::from(v),
        _ => cache_home().join("ktriage-venv"),
    }
}

/// `$XDG_CACHE_HOME`, else `~/.cache`: where the venv lives once per machine.
fn cache_home() -> PathBuf {
    match std::env::var_os("XDG_CACHE_HOME") {
        Some(v) if !v.is_empty() => PathBuf::from(v),
        _ => PathBuf::from(std::env::var_os("HOME").expect("HOME is set")).join(".cache"),
    }
}

/// The pip requirement the tests are written against (moto 5's EKS and Logs).
const MOTO_REQUIREMENT: &str = "moto[server]>=5,<6";

/// The venv with `moto_server`, created on first use from PyPI so that `cargo test`
/// alone passes on a fresh machine. Tests run in parallel: an exclusive lock on a file
/// beside the venv makes one of them install while the others wait. pip writes the
/// `moto_server` script after the packages, so a venv without it (an interrupted
/// install) is made again; one with it, made here or by hand, is used as it is.
fn provisioned_venv() -> PathBuf {
    let venv = moto_venv();
    let server = venv.join("bin/moto_server");
    if server.is_file() {
        return venv;
    }
    let parent = venv.parent().expect("the venv path has a parent");
    std::fs::create_dir_all(parent)
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", parent.display()));
    let lock_path = parent.join("ktriage-venv.lock");
    let lock = std::fs::File::create(&lock_path)
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", lock_path.display()));
    // SAFETY: flock on a file descriptor this function owns; released when `lock` drops.
    let locked = unsafe { libc::flock(std::os::fd::AsRawFd::as_raw_fd(&lock), libc::LOCK_EX) };
    assert_eq!(locked, 0, "cannot lock {}", lock_path.display());
    if server.is_file() {
        return venv;
    }
    let _ = std::fs::remove_dir_all(&venv);
    let step = |what: &str, cmd: &mut Command, advice: &str| {
        let out = cmd
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("{what}: cannot run it ({e}); {advice}"));
        assert!(
            out.status.success(),
            "{what} failed ({}): {}\n{}\n{advice}",
            out.status,
            tail(&String::from_utf8_lossy(&out.stdout), 10),
            tail(&String::from_utf8_lossy(&out.stderr), 20),
        );
    };
    step(
        &format!("python3 -m venv {}", venv.display()),
        Command::new("python3").arg("-m").arg("venv").arg(&venv),
        "the moto tests need python3 with its venv module (Debian: apt-get install python3-venv)",
    );
    step(
        &format!("pip install '{MOTO_REQUIREMENT}' into {}", venv.display()),
        Command::new(venv.join("bin/pip")).args([
            "install",
            "--quiet",
            "--disable-pip-version-check",
            MOTO_REQUIREMENT,
        ]),
        "the moto tests install moto from PyPI once per machine: network access to PyPI is \
         needed (or create the venv by hand and point KTRIAGE_MOTO_VENV at it)",
    );
    assert!(
        server.is_file(),
        "pip installed '{MOTO_REQUIREMENT}' but {} is missing",
        server.display()
    );
    venv
}

/// One moto_server on loopback, killed when dropped.
struct Moto {
    child: Child,
    port: u16,
    venv: PathBuf,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The port in werkzeug's banner: ` * Running on http://127.0.0.1:46297`.
fn bound_port(log: &str) -> Option<u16> {
    log.lines()
        .find_map(|l| l.split_once("Running on http://127.0.0.1:"))
        .and_then(|(_, rest)| {
            rest.split(|c: char| !c.is_ascii_digit())
                .next()?
                .parse()
                .ok()
        })
}

/// The status code of `GET /`, or None while nothing answers.
fn http_status(port: u16) -> Option<u16> {
    let mut stream =
        TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_secs(1)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .ok()?;
    let mut head = [0u8; 32];
    let n = stream.read(&mut head).ok()?;
    let line = String::from_utf8_lossy(&head[..n]);
    line.split_whitespace().nth(1)?.parse().ok()
}

impl Moto {
    fn start() -> Moto {
        let venv = provisioned_venv();
        let server = venv.join("bin/moto_server");
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("moto.log");
        let out = std::fs::File::create(&log).unwrap();
        // Port 0: the kernel picks a free port as moto binds it (no window in which
        // another test could take it), and werkzeug says which in its banner.
        let child = Command::new(&server)
            .args(["-H", "127.0.0.1", "-p", "0"])
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", server.display()));
        let mut moto = Moto {
            child,
            port: 0,
            venv,
            log,
            _dir: dir,
        };
        let started = Instant::now();
        loop {
            if let Some(status) = moto.child.try_wait().unwrap() {
                panic!(
                    "moto_server exited ({status}) before it answered: {}",
                    moto.log_text()
                );
            }
            if moto.port == 0 {
                moto.port = bound_port(&std::fs::read_to_string(&moto.log).unwrap_or_default())
                    .unwrap_or(0);
            }
            if moto.port != 0 && http_status(moto.port) == Some(200) {
                return moto;
            }
            // The guard kills moto as the panic unwinds.
            assert!(
                started.elapsed() < MOTO_READY_TIMEOUT,
                "moto_server did not answer GET / with 200 within {MOTO_READY_TIMEOUT:?} (port {}): {}",
                moto.port,
                moto.log_text()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn log_text(&self) -> String {
        tail(&std::fs::read_to_string(&self.log).unwrap_or_default(), 30)
    }

    /// `tests/moto/seed.py ENDPOINT SPEC.json` with the venv's python (boto3).
    fn seed(&self, spec: &Value, dir: &Path) {
        let spec_file = dir.join("seed-spec.json");
        std::fs::write(&spec_file, serde_json::to_vec_pretty(spec).unwrap()).unwrap();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/moto/seed.py");
        let out = Command::new(self.venv.join("bin/python"))
            .arg(&script)
            .arg(self.endpoint())
            .arg(&spec_file)
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .output()
            .expect("the venv's python runs");
        assert!(
            out.status.success(),
            "seed.py failed ({}): {}\n{}\nmoto: {}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            self.log_text()
        );
    }
}

// ---------------------------------------------------------------------------------------
// The Kubernetes side: a snapshot in the shape `kubectl get -o yaml` prints, served by
// `ktriage serve` as a user starts it.

/// `ktriage serve SNAPSHOT --kubeconfig-out FILE`, killed when dropped.
struct Served {
    child: Child,
    kubeconfig: PathBuf,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(snapshot: &Path, dir: &Path) -> Served {
    let kubeconfig = dir.join("kubeconfig");
    let child = Command::new(env!("CARGO_BIN_EXE_ktriage"))
        .arg("serve")
        .arg(snapshot)
        .arg("--kubeconfig-out")
        .arg(&kubeconfig)
        .env("XDG_STATE_HOME", dir.join("state"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut served = Served { child, kubeconfig };
    // The first line (the URL) comes once the port is bound, the second once the
    // kubeconfig is written.
    let mut lines = BufReader::new(served.child.stdout.take().unwrap()).lines();
    let mut line = || lines.next().and_then(Result::ok).unwrap_or_default();
    let first = line();
    assert!(
        first.contains("http://127.0.0.1:"),
        "ktriage serve said: {first:?}"
    );
    let second = line();
    assert!(
        second.starts_with("kubeconfig:"),
        "ktriage serve said: {second:?}"
    );
    std::thread::spawn(move || for _ in lines {});
    served
}

fn rfc3339(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn ago(minutes: i64) -> String {
    rfc3339(chrono::Utc::now() - chrono::Duration::minutes(minutes))
}

#[derive(Clone, Copy, PartialEq)]
enum Health {
    Ready,
    /// Registered, the VPC CNI not yet running on it.
    CniNotReady,
}

#[derive(Clone)]
struct NodeSpec {
    /// `ip-10-0-32-17.eu-west-1.compute.internal`
    name: String,
    group: &'static str,
    zone: &'static str,
    instance: &'static str,
    health: Health,
}

fn node(
    group: &'static str,
    ip: [u8; 2],
    zone: &'static str,
    instance: &'static str,
    health: Health,
) -> NodeSpec {
    NodeSpec {
        name: format!("ip-10-0-{}-{}.{REGION}.compute.internal", ip[0], ip[1]),
        group,
        zone,
        instance,
        health,
    }
}

/// A Node as the API returns it (kubelet-registered, EKS managed node group labels).
fn node_object(n: &NodeSpec, uid: usize) -> Value {
    let ip = n
        .name
        .trim_start_matches("ip-")
        .split('.')
        .next()
        .unwrap()
        .replace('-', ".");
    let created = ago(95);
    let heartbeat = ago(1);
    let pressure = |kind: &str, reason: &str, message: &str| {
        json!({"type": kind, "status": "False", "reason": reason, "message": message,
               "lastHeartbeatTime": heartbeat, "lastTransitionTime": created})
    };
    let ready = match n.health {
        Health::Ready => json!({"type": "Ready", "status": "True", "reason": "KubeletReady",
            "message": "kubelet is posting ready status",
            "lastHeartbeatTime": heartbeat, "lastTransitionTime": ago(93)}),
        Health::CniNotReady => {
            json!({"type": "Ready", "status": "False", "reason": "KubeletNotReady",
            "message": CNI_NOT_READY,
            "lastHeartbeatTime": heartbeat, "lastTransitionTime": created})
        }
    };
    let mut node = json!({
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": n.name,
            "uid": format!("2d7d8150-c80c-4c96-9181-4d03e06466{uid:02}"),
            "resourceVersion": (41256 + uid).to_string(),
            "creationTimestamp": created,
            "labels": {
                "beta.kubernetes.io/arch": "amd64",
                "beta.kubernetes.io/instance-type": "m6i.large",
                "beta.kubernetes.io/os": "linux",
                "eks.amazonaws.com/capacityType": "ON_DEMAND",
                "eks.amazonaws.com/nodegroup": n.group,
                "eks.amazonaws.com/nodegroup-image": "ami-0f1e2d3c4b5a69788",
                "failure-domain.beta.kubernetes.io/region": REGION,
                "failure-domain.beta.kubernetes.io/zone": n.zone,
                "kubernetes.io/arch": "amd64",
                "kubernetes.io/hostname": n.name,
                "kubernetes.io/os": "linux",
                "node.kubernetes.io/instance-type": "m6i.large",
                "topology.kubernetes.io/region": REGION,
                "topology.kubernetes.io/zone": n.zone
            },
            "annotations": {
                "alpha.kubernetes.io/provided-node-ip": ip,
                "node.alpha.kubernetes.io/ttl": "0",
                "volumes.kubernetes.io/controller-managed-attach-detach": "true"
            }
        },
        "spec": {"providerID": format!("aws:///{}/{}", n.zone, n.instance)},
        "status": {
            "addresses": [
                {"type": "InternalIP", "address": ip},
                {"type": "InternalDNS", "address": n.name},
                {"type": "Hostname", "address": n.name}
            ],
            "allocatable": {"cpu": "1930m", "memory": "7220172Ki", "pods": "29", "ephemeral-storage": "76224326324"},
            "capacity": {"cpu": "2", "memory": "7910348Ki", "pods": "29", "ephemeral-storage": "83873772Ki"},
            "conditions": [
                pressure("MemoryPressure", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
                pressure("DiskPressure", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
                pressure("PIDPressure", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
                ready
            ],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "nodeInfo": {
                "architecture": "amd64",
                "containerRuntimeVersion": "containerd://1.7.27",
                "kernelVersion": "6.1.141-155.222.amzn2023.x86_64",
                "kubeProxyVersion": "v1.31.9-eks-5d4a308",
                "kubeletVersion": "v1.31.9-eks-5d4a308",
                "operatingSystem": "linux",
                "osImage": "Amazon Linux 2023.7.20250623"
            }
        }
    });
    if n.health == Health::CniNotReady {
        // The node lifecycle controller taints a NotReady node.
        node["spec"]["taints"] =
            json!([{"key": "node.kubernetes.io/not-ready", "effect": "NoSchedule"}]);
    }
    node
}

/// One `mapRoles` entry as `eksctl` and the EKS console write it.
fn node_mapping(rolearn: &str) -> String {
    "- groups:\n  - system:bootstrappers\n  - system:nodes\n  rolearn: ROLE\n  username: system:node:{{EC2PrivateDNSName}}\n"
        .replace("ROLE", rolearn)
}

fn admin_mapping() -> String {
    format!(
        "- groups:\n  - system:masters\n  rolearn: arn:aws:iam::{ACCOUNT}:role/platform-admins\n  username: platform-admin:{{{{SessionName}}}}\n"
    )
}

fn aws_auth(map_roles: &str) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": "aws-auth",
            "namespace": "kube-system",
            "uid": "1ca3c806-98ab-41e0-8eb5-efb7fba4419e",
            "resourceVersion": "90733",
            "creationTimestamp": ago(24 * 60)
        },
        "data": {"mapRoles": map_roles}
    })
}

/// A line exactly as aws-iam-authenticator logs a refused token.
fn denial(minutes_ago: i64, arn: &str, client_port: u16, error: &str) -> (i64, String) {
    let time = ago(minutes_ago);
    (
        minutes_ago,
        format!(
            "time=\"{time}\" level=warning msg=\"access denied\" arn=\"{arn}\" client=\"127.0.0.1:{client_port}\" error=\"{error}\" method=POST path=/authenticate sts=sts.{REGION}.amazonaws.com"
        ),
    )
}

// ---------------------------------------------------------------------------------------
// Scenarios

/// Everything one scenario puts in AWS (moto) and in the cluster (the snapshot).
struct Scenario {
    /// The kube context's name, in snapshot.yaml (an EKS ARN, or not).
    context: String,
    map_roles: String,
    nodes: Vec<NodeSpec>,
    desired: i64,
    /// Control-plane log types the cluster sends.
    logging: Vec<&'static str>,
    /// (minutes ago, message) in the authenticator stream.
    authenticator: Vec<(i64, String)>,
}

impl Scenario {
    /// The node role of GROUP is in no mapRoles entry; none of its instances registered,
    /// and the authenticator says why, in each of its spellings. Another unmapped role's
    /// denial sits in between.
    fn role_not_mapped() -> Scenario {
        Scenario {
            context: format!("arn:aws:eks:{REGION}:{ACCOUNT}:cluster/{CLUSTER}"),
            map_roles: node_mapping(SYSTEM_ROLE) + &admin_mapping(),
            nodes: vec![node(
                "ng-system",
                [32, 17],
                "eu-west-1a",
                "i-0abc1d2e3f4a50017",
                Health::Ready,
            )],
            desired: 2,
            logging: vec!["api", "audit", "authenticator"],
            authenticator: vec![
                denial(52, NODE_ROLE, 51234, "ARN is not mapped"),
                denial(41, BATCH_ROLE, 40112, "ARN is not mapped"),
                denial(33, NODE_ROLE, 51880, "Identity is not mapped"),
                denial(12, NODE_ROLE, 52210, "identity is not mapped"),
            ],
        }
    }

    /// GROUP's role mapped the way nodes need it; two Ready nodes for a desired size of 2.
    fn all_joined() -> Scenario {
        Scenario {
            map_roles: node_mapping(SYSTEM_ROLE) + &node_mapping(NODE_ROLE) + &admin_mapping(),
            nodes: vec![
                node(
                    "ng-system",
                    [32, 17],
                    "eu-west-1a",
                    "i-0abc1d2e3f4a50017",
                    Health::Ready,
                ),
                node(
                    GROUP,
                    [64, 133],
                    "eu-west-1b",
                    "i-0abc1d2e3f4a50133",
                    Health::Ready,
                ),
                node(
                    GROUP,
                    [96, 201],
                    "eu-west-1c",
                    "i-0abc1d2e3f4a50201",
                    Health::Ready,
                ),
            ],
            authenticator: vec![denial(41, BATCH_ROLE, 40112, "ARN is not mapped")],
            ..Scenario::role_not_mapped()
        }
    }

    fn seed_spec(&self) -> Value {
        let subnets = [
            "subnet-0aa11bb22cc33dd41",
            "subnet-0aa11bb22cc33dd42",
            "subnet-0aa11bb22cc33dd43",
        ];
        let group = |name: &str, role: &str, desired: i64| {
            json!({"name": name, "nodeRole": role, "subnets": subnets,
                   "scalingConfig": {"minSize": 1, "maxSize": 4, "desiredSize": desired},
                   "amiType": "AL2023_x86_64_STANDARD"})
        };
        let log_group = format!("/aws/eks/{CLUSTER}/cluster");
        let events = |lines: &[(i64, String)]| -> Vec<Value> {
            lines
                .iter()
                .map(|(m, message)| json!({"minutes_ago": m, "message": message}))
                .collect()
        };
        // A line of another component that would pass the runbook's match: moto ignores
        // the stream prefix, so only ktriage's own prefix check keeps it out.
        let decoy = vec![(
            20,
            format!(
                "E1122 01:40:03.117204      10 authentication.go:73] \"Unable to authenticate the request\" err=\"access denied\" arn=\"{NODE_ROLE}\" error=\"ARN is not mapped\""
            ),
        )];
        let logs = vec![
            json!({"group": log_group, "stream": AUTH_STREAM, "events": events(&self.authenticator)}),
            json!({"group": log_group, "stream": "kube-apiserver-6d1f0b2a9c8e7d54", "events": events(&decoy)}),
        ];
        json!({
            "region": REGION,
            "cluster": {
                "name": CLUSTER,
                "version": "1.31",
                "roleArn": format!("arn:aws:iam::{ACCOUNT}:role/{CLUSTER}-cluster-role"),
                "resourcesVpcConfig": {
                    "subnetIds": subnets,
                    "securityGroupIds": ["sg-0c0ffee0c0ffee001"],
                    "endpointPublicAccess": true,
                    "endpointPrivateAccess": true,
                    "publicAccessCidrs": ["0.0.0.0/0"]
                },
                "logging": self.logging
            },
            "nodegroups": [
                group("ng-system", SYSTEM_ROLE, 1),
                group(GROUP, NODE_ROLE, self.desired),
                group("ng-batch", BATCH_ROLE, 1)
            ],
            "logs": logs
        })
    }

    fn write_snapshot(&self, dir: &Path) {
        std::fs::create_dir_all(dir.join("k8s/kube-system")).unwrap();
        // No capturedAt: served live, ages are judged by the clock.
        std::fs::write(
            dir.join("snapshot.yaml"),
            format!(
                "kind: ktriage-snapshot\nversion: 1\ncontext: {}\nsource: hand-written\n",
                self.context
            ),
        )
        .unwrap();
        let nodes = json!({
            "apiVersion": "v1",
            "kind": "List",
            "metadata": {"resourceVersion": ""},
            "items": self.nodes.iter().enumerate().map(|(i, n)| node_object(n, i)).collect::<Vec<_>>()
        });
        std::fs::write(
            dir.join("k8s/nodes.json"),
            serde_json::to_vec_pretty(&nodes).unwrap(),
        )
        .unwrap();
        std::fs::write(
            dir.join("k8s/kube-system/aws-auth.json"),
            serde_json::to_vec_pretty(&aws_auth(&self.map_roles)).unwrap(),
        )
        .unwrap();
    }

    /// moto seeded, the snapshot served: ready for `ktriage run`.
    fn start(&self) -> World {
        let dir = tempfile::tempdir().unwrap();
        let moto = Moto::start();
        moto.seed(&self.seed_spec(), dir.path());
        let snapshot = dir.path().join("snapshot");
        self.write_snapshot(&snapshot);
        let served = serve(&snapshot, dir.path());
        let home = dir.path().join("home");
        std::fs::create_dir_all(&home).unwrap();
        World {
            moto,
            served,
            home,
            dir,
        }
    }
}

struct World {
    moto: Moto,
    served: Served,
    home: PathBuf,
    dir: tempfile::TempDir,
}

#[derive(Clone, Copy, PartialEq)]
enum Creds {
    /// moto's static test credentials in the environment.
    Static,
    /// Nothing: no variables, an empty HOME, instance metadata off.
    None,
}

struct Run {
    exit: i32,
    stderr: String,
    record: Value,
}

impl World {
    /// `ktriage run node-not-joining --target GROUP` with a cleared environment.
    fn run(&self, creds: Creds, extra: &[&str]) -> Run {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_ktriage"));
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &self.home)
            .env("AWS_ENDPOINT_URL", self.moto.endpoint())
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("NO_COLOR", "1")
            .current_dir(self.dir.path())
            .args(["run", "node-not-joining", "--target", GROUP, "--kubeconfig"])
            .arg(&self.served.kubeconfig)
            .args(["--output", "json"])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if creds == Creds::Static {
            cmd.env("AWS_ACCESS_KEY_ID", "testing")
                .env("AWS_SECRET_ACCESS_KEY", "testing");
        }
        let mut child = cmd.spawn().unwrap();
        let drain = |mut r: Box<dyn Read + Send>| {
            std::thread::spawn(move || {
                let mut s = String::new();
                let _ = r.read_to_string(&mut s);
                s
            })
        };
        let stdout = drain(Box::new(child.stdout.take().unwrap()));
        let stderr = drain(Box::new(child.stderr.take().unwrap()));
        let started = Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if started.elapsed() > RUN_TIMEOUT {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "ktriage run did not finish in {RUN_TIMEOUT:?}; stderr: {}",
                    stderr.join().unwrap()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let (stdout, stderr) = (stdout.join().unwrap(), stderr.join().unwrap());
        let record: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
            panic!(
                "ktriage run printed no JSON record ({e}; exit {status}):\nstdout: {stdout}\nstderr: {stderr}\nmoto: {}",
                self.moto.log_text()
            )
        });
        Run {
            exit: status.code().unwrap_or(-1),
            stderr,
            record,
        }
    }
}

// ---------------------------------------------------------------------------------------
// Reading the walk record

impl Run {
    fn code(&self) -> Option<&str> {
        self.record["conclusion"]["code"].as_str()
    }

    /// The quotes of one evidence item of the conclusion, by label.
    fn evidence(&self, label: &str) -> Vec<String> {
        let items = self.record["conclusion"]["evidence"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let item = items
            .iter()
            .find(|e| e["label"] == label)
            .unwrap_or_else(|| panic!("no evidence labelled {label:?}: {}", self.dump()));
        item["quotes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|q| q.as_str().unwrap().to_string())
            .collect()
    }

    /// Every quote of every evidence item.
    fn all_quotes(&self) -> Vec<String> {
        self.record["conclusion"]["evidence"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|e| e["quotes"].as_array().cloned().unwrap_or_default())
            .filter_map(|q| q.as_str().map(str::to_string))
            .collect()
    }

    /// The steps walked, as `step:outcome`.
    fn path(&self) -> Vec<String> {
        self.record["path"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                format!(
                    "{}:{}",
                    s["step"].as_str().unwrap(),
                    s["outcome"].as_str().unwrap()
                )
            })
            .collect()
    }

    fn step_reason(&self, step: &str) -> String {
        self.record["path"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["step"] == step)
            .unwrap_or_else(|| panic!("step {step} was not walked: {}", self.dump()))["reason"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// The `missing[]` entry of a fact.
    fn missing(&self, fact: &str) -> Option<&Value> {
        self.record["missing"]
            .as_array()?
            .iter()
            .find(|m| m["fact"] == fact)
    }

    /// The errors a fact's queries met, from `facts[]`.
    fn fact_errors(&self, fact: &str) -> Vec<Value> {
        self.record["facts"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|f| f["name"] == fact)
            .flat_map(|f| f["errors"].as_array().cloned().unwrap_or_default())
            .collect()
    }

    fn dump(&self) -> String {
        format!(
            "exit {}\nstderr: {}\nrecord: {}",
            self.exit,
            self.stderr,
            serde_json::to_string_pretty(&self.record).unwrap()
        )
    }
}

/// The node role's denials of a scenario, oldest first: what the evidence must quote.
fn node_role_denials(s: &Scenario) -> Vec<String> {
    let mut lines: Vec<&(i64, String)> = s
        .authenticator
        .iter()
        .filter(|(_, m)| m.contains(&format!("arn=\"{NODE_ROLE}\"")))
        .collect();
    lines.sort_by_key(|(minutes, _)| -minutes);
    lines.into_iter().map(|(_, m)| m.clone()).collect()
}

/// NODE_ROLE_NOT_MAPPED with the proof the authenticator gives: what scenario (a) and
/// (f) both expect.
fn assert_role_not_mapped(run: &Run, scenario: &Scenario) {
    assert_eq!(run.code(), Some("NODE_ROLE_NOT_MAPPED"), "{}", run.dump());
    assert_eq!(run.record["status"], "concluded", "{}", run.dump());
    assert_eq!(run.exit, 3, "a critical finding exits 3: {}", run.dump());
    assert_eq!(
        run.path(),
        [
            "cluster-active:true",
            "cluster-healthy:true",
            "nodegroup-healthy:true",
            "role-mapping:default"
        ],
        "{}",
        run.dump()
    );
    assert_eq!(run.evidence("Node role"), [NODE_ROLE]);
    assert_eq!(
        run.evidence("Roles in aws-auth"),
        [
            SYSTEM_ROLE.to_string(),
            format!("arn:aws:iam::{ACCOUNT}:role/platform-admins")
        ],
        "{}",
        run.dump()
    );
    // Every spelling of the authenticator's refusal, the node role's lines only, oldest
    // first; never the other role's denial.
    let expected = node_role_denials(scenario);
    assert_eq!(expected.len(), 3);
    assert_eq!(
        run.evidence("Authenticator denials (newest 3)"),
        expected,
        "{}",
        run.dump()
    );
    let quotes = run.all_quotes().join("\n");
    assert!(
        !quotes.contains(BATCH_ROLE),
        "the other role's denial is not proof: {quotes}"
    );
    let summary = run.record["conclusion"]["summary"].as_str().unwrap();
    assert!(
        summary.contains("3 authenticator line(s) deny it, the last: ")
            && summary.contains(&expected[2]),
        "{summary}"
    );
    assert!(
        run.record["missing"].as_array().unwrap().is_empty(),
        "{}",
        run.dump()
    );
}

// ---------------------------------------------------------------------------------------
// The tests

#[test]
fn role_missing_from_aws_auth_is_proved_by_the_authenticator_lines() {
    let scenario = Scenario::role_not_mapped();
    let world = scenario.start();
    let run = world.run(Creds::Static, &[]);
    assert_role_not_mapped(&run, &scenario);
    assert!(!run.stderr.contains("AWS facts unknown"), "{}", run.stderr);
    let commands: Vec<&str> = run.record["conclusion"]["commands"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["run"].as_str().unwrap())
        .collect();
    // moto reports no authentication mode, so the cluster reads aws-auth only: the fix is
    // there, and an access entry (which that cluster cannot have) is not offered.
    assert_eq!(
        commands,
        ["kubectl edit configmap aws-auth -n kube-system"],
        "{}",
        run.dump()
    );
}

#[test]
fn role_mapped_and_every_node_ready_is_nodes_joined() {
    let scenario = Scenario::all_joined();
    let world = scenario.start();
    let run = world.run(Creds::Static, &[]);
    assert_eq!(run.code(), Some("NODES_JOINED"), "{}", run.dump());
    assert_eq!(run.exit, 0, "{}", run.dump());
    assert_eq!(
        run.path(),
        [
            "cluster-active:true",
            "cluster-healthy:true",
            "nodegroup-healthy:true",
            "role-mapping:matched",
            "endpoint-reachable:true",
            "nodes-not-ready:false",
            "all-joined:matched"
        ],
        "{}",
        run.dump()
    );
    assert!(
        run.step_reason("role-mapping").contains(NODE_ROLE),
        "{}",
        run.dump()
    );
    assert_eq!(
        run.evidence("Ready nodes"),
        [
            "ip-10-0-64-133.eu-west-1.compute.internal",
            "ip-10-0-96-201.eu-west-1.compute.internal"
        ]
    );
    assert!(
        run.record["conclusion"]["title"]
            .as_str()
            .unwrap()
            .contains("All 2 node(s) of ng-general")
    );
}

#[test]
fn a_registered_node_not_ready_hands_over_to_node_not_ready() {
    let mut scenario = Scenario::all_joined();
    scenario.nodes[2].health = Health::CniNotReady;
    let not_ready = scenario.nodes[2].name.clone();
    let world = scenario.start();
    let run = world.run(Creds::Static, &[]);
    assert_eq!(run.code(), Some("NODES_JOINED_NOT_READY"), "{}", run.dump());
    assert_eq!(run.exit, 4, "a warning exits 4: {}", run.dump());
    assert_eq!(
        run.evidence("Not Ready"),
        [format!(
            "{not_ready}: Ready=False KubeletNotReady \"{CNI_NOT_READY}\""
        )],
        "{}",
        run.dump()
    );
    assert!(
        run.record["conclusion"]["commands"][0]["run"]
            .as_str()
            .is_some_and(|c| c == format!("kubectl describe node {not_ready}")),
        "{}",
        run.dump()
    );
    // The hand-over is offered only when a node-not-ready runbook exists (FINDINGS:
    // "once that runbook exists"): built in, or from --runbooks.
    let follow_up = json!({"runbook": "node-not-ready", "target": not_ready});
    let built_in = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("runbooks/node-not-ready.yaml")
        .exists();
    assert_eq!(
        run.record["conclusion"]["follow_up"],
        if built_in {
            follow_up.clone()
        } else {
            Value::Null
        },
        "{}",
        run.dump()
    );
    let extra = world.dir.path().join("runbooks");
    std::fs::create_dir_all(&extra).unwrap();
    std::fs::write(extra.join("node-not-ready.yaml"), NODE_NOT_READY_STAND_IN).unwrap();
    let run = world.run(Creds::Static, &["--runbooks", extra.to_str().unwrap()]);
    assert_eq!(run.code(), Some("NODES_JOINED_NOT_READY"), "{}", run.dump());
    assert_eq!(
        run.record["conclusion"]["follow_up"],
        follow_up,
        "{}",
        run.dump()
    );
}

/// A stand-in `node-not-ready` runbook, so the hand-over has somewhere to go.
const NODE_NOT_READY_STAND_IN: &str = "\
id: node-not-ready
title: A node is NotReady (stand-in for the test)
target: {kind: Node}
steps:
  - id: look
    title: Is the node Ready?
    check: 'true'
    then: undetermined
    else: undetermined
conclusions:
  - id: undetermined
    code: NODE_NOT_READY_UNDETERMINED
    severity: info
    title: Stand-in
    summary: Stand-in
";

#[test]
fn without_credentials_every_aws_fact_is_unknown_and_nothing_is_concluded() {
    let scenario = Scenario::role_not_mapped();
    let world = scenario.start();
    let run = world.run(Creds::None, &[]);
    assert!(
        run.record["conclusion"].is_null(),
        "no conclusion without AWS: {}",
        run.dump()
    );
    assert!(
        matches!(
            run.record["status"].as_str(),
            Some("inconclusive" | "needs-input")
        ),
        "{}",
        run.dump()
    );
    assert_eq!(run.exit, 5, "inconclusive exits 5: {}", run.dump());
    assert!(
        run.stderr
            .contains("note: AWS facts unknown: no AWS credentials"),
        "{}",
        run.stderr
    );
    // The cluster is the AWS fact the first steps need, named with the reason and the
    // command that would show it; the walk stops there, since a cluster health issue
    // outranks every cause after it.
    let m = run
        .missing("cluster")
        .unwrap_or_else(|| panic!("cluster is not in missing[]: {}", run.dump()));
    assert_eq!(
        m["query"],
        format!("aws eks describe-cluster --name {CLUSTER}").as_str(),
        "{}",
        run.dump()
    );
    assert!(
        m["reason"].as_str().unwrap().contains("no AWS credentials"),
        "{}",
        run.dump()
    );
    assert!(!m["hint"].as_str().unwrap().is_empty(), "{}", run.dump());
    assert!(
        run.path().iter().all(|s| s.ends_with(":unknown")),
        "every step walked is unknown: {:?}",
        run.path()
    );
}

#[test]
fn authenticator_logging_off_still_concludes_from_aws_auth_and_says_why_no_lines() {
    let mut scenario = Scenario::role_not_mapped();
    scenario.logging = vec!["api", "audit"];
    let world = scenario.start();
    let run = world.run(Creds::Static, &[]);
    assert_eq!(run.code(), Some("NODE_ROLE_NOT_MAPPED"), "{}", run.dump());
    assert_eq!(run.record["status"], "concluded", "{}", run.dump());
    // The lines are in CloudWatch (seeded), but the cluster does not send that type: they
    // are not searched as if they were current, and the reason is said where the fact
    // is used (facts[].errors), in missing[], and in the evidence that would quote them.
    let reason = format!(
        "authenticator logs are not enabled for cluster {CLUSTER} (its logging sends: api, audit)"
    );
    let enable = format!(
        "aws eks update-cluster-config --name {CLUSTER} --region {REGION} --logging '{{\"clusterLogging\":[{{\"types\":[\"authenticator\"],\"enabled\":true}}]}}'"
    );
    let errors = run.fact_errors("authenticatorDenied");
    assert_eq!(errors.len(), 1, "{}", run.dump());
    assert_eq!(errors[0]["kind"], "unavailable", "{}", run.dump());
    assert_eq!(errors[0]["reason"], reason.as_str(), "{}", run.dump());
    assert!(
        errors[0]["hint"].as_str().unwrap().contains(&enable),
        "{}",
        run.dump()
    );
    let missing = run
        .missing("authenticatorDenied")
        .unwrap_or_else(|| panic!("authenticatorDenied is not in missing[]: {}", run.dump()));
    assert_eq!(missing["reason"], format!("unavailable: {reason}").as_str());
    assert_eq!(
        missing["query"],
        format!(
            "aws logs filter-log-events --log-group-name /aws/eks/{CLUSTER}/cluster --log-stream-name-prefix authenticator- --filter-pattern '\"access denied\"'"
        )
        .as_str()
    );
    assert_eq!(
        run.evidence("Authenticator denials (newest 3)"),
        [format!(
            "unknown: authenticatorDenied: unavailable: {reason}"
        )],
        "{}",
        run.dump()
    );
    assert!(
        !run.all_quotes().iter().any(|q| q.contains("level=warning")),
        "no denial is quoted when the log type is off: {}",
        run.dump()
    );
}

#[test]
fn a_context_that_is_not_eks_needs_cluster_name_and_region() {
    let mut scenario = Scenario::role_not_mapped();
    scenario.context = "dev".into();
    let world = scenario.start();

    let run = world.run(Creds::Static, &[]);
    assert!(run.stderr.contains("not an EKS cluster"), "{}", run.stderr);
    assert!(run.record["conclusion"].is_null(), "{}", run.dump());
    assert_eq!(run.exit, 5, "{}", run.dump());

    let run = world.run(
        Creds::Static,
        &["--cluster-name", CLUSTER, "--region", REGION],
    );
    assert!(!run.stderr.contains("AWS facts unknown"), "{}", run.stderr);
    assert_role_not_mapped(&run, &scenario);
}

/// What the AWS CLI prints for the same calls: boto3 (the CLI's own library) through
/// moto, timestamps as the CLI writes them (`datetime.isoformat()` in UTC).
const CLI_VIEW: &str = r#"
import datetime, json, sys
import boto3
endpoint, region, cluster, group, log_group, prefix = sys.argv[1:7]
kw = dict(endpoint_url=endpoint, region_name=region,
          aws_access_key_id="testing", aws_secret_access_key="testing")
eks = boto3.client("eks", **kw)
logs = boto3.client("logs", **kw)
def clean(r):
    r.pop("ResponseMetadata", None)
    return r
def cli_time(o):
    if isinstance(o, datetime.datetime):
        return o.astimezone(datetime.timezone.utc).isoformat()
    raise TypeError(repr(o))
out = {
    "describe-cluster": clean(eks.describe_cluster(name=cluster)),
    "list-nodegroups": clean(eks.list_nodegroups(clusterName=cluster)),
    "describe-nodegroup": clean(eks.describe_nodegroup(clusterName=cluster, nodegroupName=group)),
    # What CloudWatch answers: moto ignores the prefix, so apply it here as AWS does.
    "filter-log-events": [e for e in logs.filter_log_events(
        logGroupName=log_group, logStreamNamePrefix=prefix,
        filterPattern='"access denied"')["events"] if e["logStreamName"].startswith(prefix)],
}
print(json.dumps(out, default=cli_time))
"#;

#[tokio::test(flavor = "multi_thread")]
async fn live_aws_answers_are_what_the_aws_cli_prints() {
    use ktriage::facts::{EksQuery, LogEventsQuery};
    use ktriage::source::aws::AwsSource;

    let scenario = Scenario::role_not_mapped();
    let dir = tempfile::tempdir().unwrap();
    let moto = Moto::start();
    moto.seed(&scenario.seed_spec(), dir.path());
    let log_group = format!("/aws/eks/{CLUSTER}/cluster");

    let out = Command::new(moto.venv.join("bin/python"))
        .args([
            "-c",
            CLI_VIEW,
            &moto.endpoint(),
            REGION,
            CLUSTER,
            GROUP,
            &log_group,
        ])
        .arg("authenticator-")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cli: Value = serde_json::from_slice(&out.stdout).unwrap();

    // The SDK as ktriage configures it (rustls + ring), with moto's static credentials.
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(
            aws_smithy_http_client::Builder::new()
                .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
                    aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
                ))
                .build_https(),
        )
        .region(aws_config::Region::new(REGION))
        .endpoint_url(moto.endpoint())
        .credentials_provider(aws_sdk_eks::config::Credentials::new(
            "testing", "testing", None, None, "moto",
        ))
        .load()
        .await;
    let source = AwsSource::new(
        CLUSTER.into(),
        REGION.into(),
        aws_sdk_eks::Client::new(&config),
        aws_sdk_cloudwatchlogs::Client::new(&config),
    );
    for (name, query) in [
        ("describe-cluster", EksQuery::DescribeCluster),
        ("list-nodegroups", EksQuery::ListNodegroups),
        (
            "describe-nodegroup",
            EksQuery::DescribeNodegroup { name: GROUP.into() },
        ),
    ] {
        let live = source.eks(&query).await.unwrap();
        assert_eq!(
            live, cli[name],
            "{name}: ktriage (left) and the AWS CLI (right) differ"
        );
    }
    let events = source
        .log_events(&LogEventsQuery {
            log_group,
            stream_prefix: Some("authenticator-".into()),
            contains: Some("access denied".into()),
            start_ms: None,
            limit: None,
        })
        .await
        .unwrap();
    assert_eq!(events, cli["filter-log-events"]);
    let messages: Vec<&str> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["message"].as_str().unwrap())
        .collect();
    let seeded: Vec<&str> = scenario
        .authenticator
        .iter()
        .map(|(_, m)| m.as_str())
        .collect();
    assert_eq!(messages, seeded, "every seeded line, oldest first");
}
