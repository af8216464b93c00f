//! Triage at scale: generates a snapshot of 1,000 nodes and 30,000 pods (one
//! `kubectl get pods -A -o json` file, as people capture it) with PVCs, events and the
//! EKS responses of a real cluster, then times `ktriage triage --snapshot` as a whole
//! process and reports wall time and peak RSS.
//!
//! `cargo bench --bench triage` (`-- --nodes N --pods N --runs N` to change the size,
//! `-- --out DIR` to keep the snapshot for profiling).
//! Figures go in the README with the machine they ran on; nothing here asserts a time.

use serde_json::{Value, json};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

struct Size {
    nodes: usize,
    pods: usize,
    runs: usize,
}

/// `--out DIR` keeps the generated snapshot there (for profiling) instead of a temp dir.
fn out_dir(args: &[String]) -> Option<std::path::PathBuf> {
    args.windows(2)
        .find(|p| p[0] == "--out")
        .map(|p| std::path::PathBuf::from(&p[1]))
}

fn main() {
    let mut size = Size {
        nodes: 1000,
        pods: 30_000,
        runs: 5,
    };
    let args: Vec<String> = std::env::args().collect();
    for pair in args.windows(2) {
        let n = pair[1].parse().unwrap_or(0);
        match pair[0].as_str() {
            "--nodes" => size.nodes = n,
            "--pods" => size.pods = n,
            "--runs" => size.runs = n.max(1),
            _ => {}
        }
    }
    let temp = tempfile::tempdir().expect("temp dir");
    let dir_path = out_dir(&args).unwrap_or_else(|| temp.path().to_path_buf());
    let started = Instant::now();
    let bytes = generate(&dir_path, &size);
    println!(
        "generated {} nodes, {} pods, {} MB of JSON in {:.1}s",
        size.nodes,
        size.pods,
        bytes / 1_000_000,
        started.elapsed().as_secs_f64()
    );
    let exe = env!("CARGO_BIN_EXE_ktriage");
    let mut walls = Vec::new();
    let mut code = None;
    // One warm-up so the page cache holds the files, as on a second look at a bundle.
    for run in 0..=size.runs {
        let t = Instant::now();
        let out = Command::new(exe)
            .args(["triage", "--snapshot"])
            .arg(&dir_path)
            .env("XDG_STATE_HOME", temp.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .output()
            .expect("ktriage runs");
        let wall = t.elapsed().as_secs_f64();
        code = out.status.code();
        if run == 0 {
            let text = String::from_utf8_lossy(&out.stdout);
            println!("triage found: {}", text.lines().next().unwrap_or_default());
        } else {
            walls.push(wall);
        }
    }
    walls.sort_by(|a, b| a.total_cmp(b));
    println!(
        "ktriage triage: wall min {:.3}s median {:.3}s max {:.3}s over {} runs; peak RSS {} MB; exit {:?}",
        walls[0],
        walls[walls.len() / 2],
        walls[walls.len() - 1],
        walls.len(),
        peak_child_rss_kb() / 1024,
        code
    );
}

/// The largest resident set of any child so far (Linux reports kilobytes).
fn peak_child_rss_kb() -> i64 {
    // SAFETY: getrusage writes into the zeroed struct we own and reads nothing else.
    unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        if libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) == 0 {
            usage.ru_maxrss
        } else {
            -1
        }
    }
}

const ZONES: [&str; 3] = ["eu-west-1a", "eu-west-1b", "eu-west-1c"];

fn ts(minutes_ago: usize) -> String {
    let t = chrono::DateTime::parse_from_rfc3339("2026-11-20T03:12:44Z").unwrap()
        - chrono::Duration::minutes(minutes_ago as i64);
    t.with_timezone(&chrono::Utc)
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn write(path: &Path, v: &Value) -> usize {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let text = serde_json::to_string_pretty(v).unwrap();
    std::fs::File::create(path)
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    text.len()
}

fn write_pod_list(path: &Path, size: &Size, namespaces: usize) -> usize {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut bytes = 0;
    let head = "{\n    \"apiVersion\": \"v1\",\n    \"kind\": \"PodList\",\n    \"metadata\": {\"resourceVersion\": \"999999\"},\n    \"items\": [\n";
    out.write_all(head.as_bytes()).unwrap();
    for i in 0..size.pods {
        let mut p = pod(i, size.nodes, namespaces);
        if let Some(o) = p.as_object_mut() {
            o.remove("apiVersion");
            o.remove("kind");
        }
        let text = serde_json::to_string_pretty(&p).unwrap();
        if i > 0 {
            out.write_all(b",\n").unwrap();
        }
        out.write_all(text.as_bytes()).unwrap();
        bytes += text.len() + 2;
    }
    out.write_all(b"\n    ]\n}\n").unwrap();
    out.flush().unwrap();
    bytes + head.len()
}

fn node(i: usize) -> Value {
    let zone = ZONES[i % 3];
    let ng = format!("ng-{}", i % 10);
    let name = format!(
        "ip-10-{}-{}-{}.eu-west-1.compute.internal",
        i / 65536 % 256,
        i / 256 % 256,
        i % 256
    );
    json!({
        "apiVersion": "v1", "kind": "Node",
        "metadata": {
            "name": name, "uid": format!("node-uid-{i}"), "resourceVersion": "1000", "creationTimestamp": ts(40_000),
            "labels": {
                "beta.kubernetes.io/arch": "amd64", "beta.kubernetes.io/instance-type": "m6i.2xlarge", "beta.kubernetes.io/os": "linux",
                "eks.amazonaws.com/capacityType": "ON_DEMAND", "eks.amazonaws.com/nodegroup": ng, "eks.amazonaws.com/nodegroup-image": "ami-0abcdef1234567890",
                "failure-domain.beta.kubernetes.io/region": "eu-west-1", "failure-domain.beta.kubernetes.io/zone": zone, "kubernetes.io/arch": "amd64",
                "kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "node.kubernetes.io/instance-type": "m6i.2xlarge",
                "topology.ebs.csi.aws.com/zone": zone, "topology.kubernetes.io/region": "eu-west-1", "topology.kubernetes.io/zone": zone
            },
            "annotations": {"alpha.kubernetes.io/provided-node-ip": "10.0.1.1", "node.alpha.kubernetes.io/ttl": "0", "volumes.kubernetes.io/controller-managed-attach-detach": "true"}
        },
        "spec": {"providerID": format!("aws:///{zone}/i-{:017x}", i)},
        "status": {
            "addresses": [{"type": "InternalIP", "address": "10.0.1.1"}, {"type": "Hostname", "address": name}, {"type": "InternalDNS", "address": name}],
            "allocatable": {"cpu": "7910m", "ephemeral-storage": "76224326324", "hugepages-1Gi": "0", "hugepages-2Mi": "0", "memory": "31482572Ki", "pods": "58"},
            "capacity": {"cpu": "8", "ephemeral-storage": "83873772Ki", "hugepages-1Gi": "0", "hugepages-2Mi": "0", "memory": "32499404Ki", "pods": "58"},
            "conditions": (["MemoryPressure", "DiskPressure", "PIDPressure"].iter().map(|t| json!({"type": t, "status": "False", "lastHeartbeatTime": ts(1), "lastTransitionTime": ts(40_000), "reason": format!("KubeletHasNo{}", t), "message": "kubelet has no pressure"}))
                .chain([json!({"type": "Ready", "status": "True", "lastHeartbeatTime": ts(1), "lastTransitionTime": ts(40_000), "reason": "KubeletReady", "message": "kubelet is posting ready status"})]).collect::<Vec<_>>()),
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "nodeInfo": {"architecture": "amd64", "bootID": "b0c3e7f2", "containerRuntimeVersion": "containerd://1.7.27", "kernelVersion": "6.1.141-155.222.amzn2023.x86_64", "kubeProxyVersion": "v1.31.7-eks-4ed5a5a", "kubeletVersion": "v1.31.7-eks-4ed5a5a", "machineID": "ec2", "operatingSystem": "linux", "osImage": "Amazon Linux 2023.7.20250609", "systemUUID": "ec2"}
        }
    })
}

fn pod(i: usize, nodes: usize, namespaces: usize) -> Value {
    let ns = format!("team-{}", i % namespaces);
    let app = format!("svc-{}", i % 400);
    let name = format!("{app}-7d9f8c6b5-{:05}", i);
    let node = i % nodes.max(1);
    let node_name = format!(
        "ip-10-{}-{}-{}.eu-west-1.compute.internal",
        node / 65536 % 256,
        node / 256 % 256,
        node % 256
    );
    let image = format!(
        "111122223333.dkr.ecr.eu-west-1.amazonaws.com/{app}:v1.{}.{}",
        i % 7,
        i % 13
    );
    let mut volumes = vec![
        json!({"name": "kube-api-access-x7k2p", "projected": {"defaultMode": 420, "sources": [{"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}}, {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}}, {"downwardAPI": {"items": [{"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}, "path": "namespace"}]}}]}}),
    ];
    if i.is_multiple_of(15) {
        volumes.push(
            json!({"name": "data", "persistentVolumeClaim": {"claimName": format!("data-{name}")}}),
        );
    }
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {
            "name": name, "namespace": ns, "uid": format!("pod-uid-{i}"), "resourceVersion": format!("{}", 100_000 + i), "creationTimestamp": ts(i % 5000 + 10),
            "generateName": format!("{app}-7d9f8c6b5-"),
            "labels": {"app.kubernetes.io/name": app, "app.kubernetes.io/part-of": "shop", "pod-template-hash": "7d9f8c6b5"},
            "annotations": {"kubectl.kubernetes.io/restartedAt": ts(6000)},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": format!("{app}-7d9f8c6b5"), "uid": "rs-uid", "controller": true, "blockOwnerDeletion": true}]
        },
        "spec": {
            "containers": [{
                "name": "app", "image": image, "imagePullPolicy": "IfNotPresent",
                "ports": [{"containerPort": 8080, "name": "http", "protocol": "TCP"}],
                "env": [{"name": "LOG_LEVEL", "value": "info"}, {"name": "POD_NAME", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.name"}}}],
                "resources": {"limits": {"memory": "512Mi"}, "requests": {"cpu": "100m", "memory": "256Mi"}},
                "livenessProbe": {"httpGet": {"path": "/healthz", "port": "http", "scheme": "HTTP"}, "periodSeconds": 10, "failureThreshold": 3, "successThreshold": 1, "timeoutSeconds": 1},
                "readinessProbe": {"httpGet": {"path": "/ready", "port": "http", "scheme": "HTTP"}, "periodSeconds": 5, "failureThreshold": 3, "successThreshold": 1, "timeoutSeconds": 1},
                "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File",
                "volumeMounts": [{"mountPath": "/var/run/secrets/kubernetes.io/serviceaccount", "name": "kube-api-access-x7k2p", "readOnly": true}]
            }],
            "dnsPolicy": "ClusterFirst", "enableServiceLinks": true, "nodeName": node_name, "preemptionPolicy": "PreemptLowerPriority", "priority": 0,
            "restartPolicy": "Always", "schedulerName": "default-scheduler", "securityContext": {}, "serviceAccount": "default", "serviceAccountName": "default",
            "terminationGracePeriodSeconds": 30,
            "tolerations": [{"effect": "NoExecute", "key": "node.kubernetes.io/not-ready", "operator": "Exists", "tolerationSeconds": 300}, {"effect": "NoExecute", "key": "node.kubernetes.io/unreachable", "operator": "Exists", "tolerationSeconds": 300}],
            "volumes": volumes
        },
        "status": {
            "phase": "Running", "hostIP": "10.0.1.1", "podIP": format!("10.0.{}.{}", i / 256 % 256, i % 256), "qosClass": "Burstable", "startTime": ts(i % 5000 + 10),
            "conditions": (["PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled"].iter().map(|t| json!({"type": t, "status": "True", "lastProbeTime": null, "lastTransitionTime": ts(i % 5000 + 9)})).collect::<Vec<_>>()),
            "containerStatuses": [{"name": "app", "image": image, "imageID": format!("{image}@sha256:4f1c6e0a9d2b8e7f1a3c5d7e9b0a2c4e"), "containerID": format!("containerd://{:064x}", i), "ready": true, "started": true, "restartCount": 0, "state": {"running": {"startedAt": ts(i % 5000 + 9)}}, "lastState": {}}]
        }
    })
}

fn generate(dir: &Path, size: &Size) -> usize {
    let namespaces = 50;
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("snapshot.yaml"), "kind: ktriage-snapshot\nversion: 1\ncapturedAt: '2026-11-20T03:12:44Z'\ncluster: {name: bench, region: eu-west-1}\nsource: hand-written\n").unwrap();
    let nodes: Vec<Value> = (0..size.nodes).map(node).collect();
    let mut bytes = write(
        &dir.join("k8s/nodes.json"),
        &json!({"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""}, "items": nodes}),
    );
    // Kind-less items, as the API returns a typed list; streamed so the generator's own
    // memory stays small (a forked child starts with its parent's resident pages).
    bytes += write_pod_list(&dir.join("k8s/pods.json"), size, namespaces);
    // A claim for every 15th pod.
    let claims: Vec<Value> = (0..size.pods)
        .step_by(15)
        .map(|i| {
            let p = pod(i, size.nodes, namespaces);
            let name = format!("data-{}", p["metadata"]["name"].as_str().unwrap());
            // Claims on a missing class spread over every namespace, and claims waiting
            // for their (existing) consumer in one namespace, whose pods triage reads.
            let missing_class = (i / 15).is_multiple_of(33);
            let waiting = i % 50 == 5 && (i / 15).is_multiple_of(7);
            let pending = missing_class || waiting;
            json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                "metadata": {"name": name, "namespace": p["metadata"]["namespace"], "uid": format!("pvc-uid-{i}"), "creationTimestamp": ts(i % 900 + 30), "finalizers": ["kubernetes.io/pvc-protection"]},
                "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "20Gi"}}, "storageClassName": if missing_class { "gp3-fast" } else { "gp3" }, "volumeMode": "Filesystem"},
                "status": if pending { json!({"phase": "Pending"}) } else { json!({"phase": "Bound", "accessModes": ["ReadWriteOnce"], "capacity": {"storage": "20Gi"}}) }})
        })
        .collect();
    let events: Vec<Value> = claims
        .iter()
        .filter(|c| c["spec"]["storageClassName"] == "gp3-fast")
        .map(|c| json!({"apiVersion": "v1", "kind": "Event",
            "metadata": {"name": format!("{}.1", c["metadata"]["name"].as_str().unwrap()), "namespace": c["metadata"]["namespace"], "creationTimestamp": ts(30)},
            "involvedObject": {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "name": c["metadata"]["name"], "namespace": c["metadata"]["namespace"], "uid": c["metadata"]["uid"]},
            "reason": "ProvisioningFailed", "message": "storageclass.storage.k8s.io \"gp3-fast\" not found", "type": "Warning", "count": 12,
            "firstTimestamp": ts(30), "lastTimestamp": ts(1), "source": {"component": "persistentvolume-controller"}}))
        .collect();
    bytes += write(
        &dir.join("k8s/pvcs.json"),
        &json!({"apiVersion": "v1", "kind": "List", "items": claims}),
    );
    bytes += write(
        &dir.join("k8s/events.json"),
        &json!({"apiVersion": "v1", "kind": "List", "items": events}),
    );
    bytes += write(
        &dir.join("k8s/storage.json"),
        &json!({"apiVersion": "v1", "kind": "List", "items": [
            {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "gp3", "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}}, "provisioner": "ebs.csi.aws.com", "volumeBindingMode": "WaitForFirstConsumer", "parameters": {"type": "gp3"}},
            {"apiVersion": "storage.k8s.io/v1", "kind": "CSIDriver", "metadata": {"name": "ebs.csi.aws.com"}, "spec": {"attachRequired": true}}
        ]}),
    );
    bytes
}
