#!/usr/bin/env python3
"""Generates the ktriage demo cluster snapshot (EKS `demo-prod`, eu-west-1).

Deterministic: the same seed gives byte-identical files. Run:
    python3 scripts/demo-cluster.py src/demo/cluster   (needs PyYAML)
"""
import datetime as dt
import json
import os
import random
import shutil
import sys
import uuid

import yaml

OUT = sys.argv[1] if len(sys.argv) > 1 else "src/demo/cluster"
R = random.Random(20261120)
UTC = dt.timezone.utc
NOW = dt.datetime(2026, 11, 20, 3, 12, 0, tzinfo=UTC)

ACCOUNT = "604329871155"
CLUSTER = "demo-prod"
REGION = "eu-west-1"
ECR = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"
EKS_ECR = f"602401143452.dkr.ecr.{REGION}.amazonaws.com"
DNS_IP = "172.20.0.10"
VPC_RESOLVER = "10.40.0.2"


# ---------------------------------------------------------------- helpers
def t(s):
    """'HH:MM:SS' on capture day, or a full 'YYYY-MM-DDTHH:MM:SS'."""
    if "T" not in s:
        s = "2026-11-20T" + s
    return dt.datetime.fromisoformat(s.rstrip("Z")).replace(tzinfo=UTC)


def z(d):
    return d.strftime("%Y-%m-%dT%H:%M:%SZ")


def zmicro(d):
    return d.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def uid():
    return str(uuid.UUID(int=R.getrandbits(128), version=4))


def hexs(n):
    return "".join(R.choice("0123456789abcdef") for _ in range(n))


ALNUM = "bcdfghjklmnpqrstvwxz2456789"


def suffix(n=5):
    return "".join(R.choice(ALNUM) for _ in range(n))


_rv = [187_402_118]


def rv():
    _rv[0] += R.randint(3, 900)
    return str(_rv[0])


_image_ids = {}


def image_id(image):
    if image not in _image_ids:
        repo = image.rsplit(":", 1)[0]
        _image_ids[image] = f"{repo}@sha256:{hexs(64)}"
    return _image_ids[image]


def add_seconds(d, s):
    return d + dt.timedelta(seconds=s)


# ---------------------------------------------------------------- yaml output
class Dumper(yaml.SafeDumper):
    pass


def _str_rep(dumper, data):
    if "\n" in data:
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", data)


Dumper.add_representer(str, _str_rep)


def write(path, data):
    full = os.path.join(OUT, path)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, "w") as f:
        # kubectl prints Kubernetes objects with sorted keys; the AWS CLI keeps the API's order
        k8s = path.startswith("k8s/")
        if path.endswith(".json"):
            json.dump(data, f, indent=4, sort_keys=k8s)
            f.write("\n")
        elif isinstance(data, list):
            f.write(yaml.dump_all(data, Dumper=Dumper, sort_keys=k8s, width=120))
        else:
            f.write(yaml.dump(data, Dumper=Dumper, sort_keys=k8s, width=120))


def klist(items):
    return {"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""}, "items": items}


def write_text(path, text):
    full = os.path.join(OUT, path)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, "w") as f:
        f.write(text)


# ---------------------------------------------------------------- nodes
CORE_TYPE = dict(itype="m6i.xlarge", cpu_cap="4", cpu_alloc="3920m", mem_cap="15896548Ki",
                 mem_alloc="14880740Ki", pods="58")
LARGE_TYPE = dict(itype="m6i.large", cpu_cap="2", cpu_alloc="1930m", mem_cap="7910348Ki",
                  mem_alloc="7220172Ki", pods="29")
ZONE_IDS = {"eu-west-1a": "euw1-az3", "eu-west-1b": "euw1-az1", "eu-west-1c": "euw1-az2"}
AMI = "ami-0c5e8d4f9a1b27e36"

LAUNCH_TEMPLATES = {"ng-core": "lt-0" + hexs(16), "ng-reporting": "lt-0" + hexs(16)}
NODES = {}  # short name -> dict(name, ip, zone, ng, instance, created)


def node_obj(short, ip, zone, ng, instance, created, typ, taints=(), extra_labels=None,
             pressure=None):
    name = f"{short}.{REGION}.compute.internal"
    NODES[short] = dict(name=name, ip=ip, zone=zone, ng=ng, instance=instance, created=created,
                        typ=typ)
    labels = {
        "beta.kubernetes.io/arch": "amd64",
        "beta.kubernetes.io/instance-type": typ["itype"],
        "beta.kubernetes.io/os": "linux",
        "eks.amazonaws.com/capacityType": "ON_DEMAND",
        "eks.amazonaws.com/nodegroup": ng,
        "eks.amazonaws.com/nodegroup-image": AMI,
        "eks.amazonaws.com/sourceLaunchTemplateId": LAUNCH_TEMPLATES[ng],
        "eks.amazonaws.com/sourceLaunchTemplateVersion": "1",
        "failure-domain.beta.kubernetes.io/region": REGION,
        "failure-domain.beta.kubernetes.io/zone": zone,
        "k8s.io/cloud-provider-aws": "5b2f8e1c9d4a7e3f6b0c2d8a1e9f4b7c",
        "kubernetes.io/arch": "amd64",
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": "linux",
        "node.kubernetes.io/instance-type": typ["itype"],
        "topology.ebs.csi.aws.com/zone": zone,
        "topology.k8s.aws/zone-id": ZONE_IDS[zone],
        "topology.kubernetes.io/region": REGION,
        "topology.kubernetes.io/zone": zone,
    }
    if extra_labels:
        labels.update(extra_labels)
    hb = z(add_seconds(NOW, -R.randint(3, 40)))
    since = z(add_seconds(created, 48))
    conds = []
    mp = pressure == "memory"
    conds.append({"type": "MemoryPressure", "status": "True" if mp else "False",
                  "lastHeartbeatTime": hb,
                  "lastTransitionTime": z(t("02:57:51")) if mp else z(add_seconds(created, 20)),
                  "reason": "KubeletHasInsufficientMemory" if mp else "KubeletHasSufficientMemory",
                  "message": "kubelet has insufficient memory available" if mp else "kubelet has sufficient memory available"})
    conds.append({"type": "DiskPressure", "status": "False", "lastHeartbeatTime": hb,
                  "lastTransitionTime": z(add_seconds(created, 20)), "reason": "KubeletHasNoDiskPressure",
                  "message": "kubelet has no disk pressure"})
    conds.append({"type": "PIDPressure", "status": "False", "lastHeartbeatTime": hb,
                  "lastTransitionTime": z(add_seconds(created, 20)), "reason": "KubeletHasSufficientPID",
                  "message": "kubelet has sufficient PID available"})
    conds.append({"type": "Ready", "status": "True", "lastHeartbeatTime": hb, "lastTransitionTime": since,
                  "reason": "KubeletReady", "message": "kubelet is posting ready status"})
    spec = {"providerID": f"aws:///{zone}/{instance}"}
    if taints:
        spec["taints"] = list(taints)
    return {
        "apiVersion": "v1", "kind": "Node",
        "metadata": {
            "annotations": {
                "alpha.kubernetes.io/provided-node-ip": ip,
                "node.alpha.kubernetes.io/ttl": "0",
                "volumes.kubernetes.io/controller-managed-attach-detach": "true",
            },
            "creationTimestamp": z(created), "labels": labels, "name": name,
            "resourceVersion": rv(), "uid": uid(),
        },
        "spec": spec,
        "status": {
            "addresses": [{"address": ip, "type": "InternalIP"},
                          {"address": name, "type": "InternalDNS"},
                          {"address": name, "type": "Hostname"}],
            "allocatable": {"cpu": typ["cpu_alloc"], "ephemeral-storage": "76224326324",
                            "hugepages-1Gi": "0", "hugepages-2Mi": "0", "memory": typ["mem_alloc"],
                            "pods": typ["pods"]},
            "capacity": {"cpu": typ["cpu_cap"], "ephemeral-storage": "83873772Ki", "hugepages-1Gi": "0",
                         "hugepages-2Mi": "0", "memory": typ["mem_cap"], "pods": typ["pods"]},
            "conditions": conds,
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "nodeInfo": {
                "architecture": "amd64", "bootID": uid(), "containerRuntimeVersion": "containerd://1.7.27",
                "kernelVersion": "6.1.141-155.222.amzn2023.x86_64",
                "kubeProxyVersion": "v1.31.9-eks-5d4a308", "kubeletVersion": "v1.31.9-eks-5d4a308",
                "machineID": hexs(32), "operatingSystem": "linux",
                "osImage": "Amazon Linux 2023.7.20250623", "systemUUID": "ec2" + hexs(29),
            },
        },
    }


nodes = [
    node_obj("ip-10-40-45-117", "10.40.45.117", "eu-west-1a", "ng-core", "i-0f3a9c1d7e2b54a68",
             t("2026-11-18T10:06:12"), CORE_TYPE),
    node_obj("ip-10-40-77-30", "10.40.77.30", "eu-west-1b", "ng-core", "i-02b6e8d4c1a9f7350",
             t("2026-11-18T10:11:47"), CORE_TYPE),
    node_obj("ip-10-40-109-8", "10.40.109.8", "eu-west-1c", "ng-core", "i-0c71d5a2e9b84f316",
             t("2026-11-18T10:17:03"), CORE_TYPE),
    node_obj("ip-10-40-88-164", "10.40.88.164", "eu-west-1b", "ng-reporting", "i-0a4e7b2c9d1f63805",
             t("2026-11-18T10:31:09"), LARGE_TYPE,
             taints=[{"effect": "NoSchedule", "key": "dedicated", "value": "reporting"},
                     {"effect": "NoSchedule", "key": "node.kubernetes.io/memory-pressure",
                      "timeAdded": z(t("02:57:51"))}],
             extra_labels={"workload": "reporting"}, pressure="memory"),
]
N1A, N1B, N1C, NREP = (NODES[s]["name"] for s in
                       ("ip-10-40-45-117", "ip-10-40-77-30", "ip-10-40-109-8", "ip-10-40-88-164"))
NODE_IP = {NODES[s]["name"]: NODES[s]["ip"] for s in NODES}
NODE_ZONE = {NODES[s]["name"]: NODES[s]["zone"] for s in NODES}

# pod IPs: secondary IPs in the node's subnet
_pod_ips = {N1A: 10_40_40, N1B: 10_40_72, N1C: 10_40_104, NREP: 10_40_84}
_used_ips = set()


def pod_ip(node):
    base = {N1A: (40, 47), N1B: (72, 79), N1C: (104, 111), NREP: (84, 91)}[node]
    while True:
        ip = f"10.40.{R.randint(*base)}.{R.randint(5, 250)}"
        if ip not in _used_ips and ip not in NODE_IP.values():
            _used_ips.add(ip)
            return ip


# ---------------------------------------------------------------- pods
DEFAULT_TOLERATIONS = [
    {"effect": "NoExecute", "key": "node.kubernetes.io/not-ready", "operator": "Exists", "tolerationSeconds": 300},
    {"effect": "NoExecute", "key": "node.kubernetes.io/unreachable", "operator": "Exists", "tolerationSeconds": 300},
]


def api_access_volume(name):
    return {"name": name, "projected": {"defaultMode": 420, "sources": [
        {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
        {"configMap": {"items": [{"key": "ca.crt", "path": "ca.crt"}], "name": "kube-root-ca.crt"}},
        {"downwardAPI": {"items": [{"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"},
                                    "path": "namespace"}]}}]}}


def container(name, image, *, cpu=None, mem=None, mem_limit=None, cpu_limit=None, ports=None, env=None,
              args=None, command=None, readiness=None, liveness=None, mounts=None, extra=None):
    c = {"name": name, "image": image, "imagePullPolicy": "IfNotPresent"}
    if command:
        c["command"] = command
    if args:
        c["args"] = args
    if env:
        c["env"] = [{"name": k, "value": v} for k, v in env]
    if ports:
        c["ports"] = ports
    res = {}
    if cpu_limit or mem_limit:
        res["limits"] = {}
        if cpu_limit:
            res["limits"]["cpu"] = cpu_limit
        if mem_limit:
            res["limits"]["memory"] = mem_limit
    if cpu or mem:
        res["requests"] = {}
        if cpu:
            res["requests"]["cpu"] = cpu
        if mem:
            res["requests"]["memory"] = mem
    c["resources"] = res
    if readiness:
        c["readinessProbe"] = readiness
    if liveness:
        c["livenessProbe"] = liveness
    c["terminationMessagePath"] = "/dev/termination-log"
    c["terminationMessagePolicy"] = "File"
    if mounts:
        c["volumeMounts"] = list(mounts)
    if extra:
        c.update(extra)
    return c


def http_probe(path, port, period=10, timeout=1, failure=3, initial=None):
    p = {"failureThreshold": failure, "httpGet": {"path": path, "port": port, "scheme": "HTTP"},
         "periodSeconds": period, "successThreshold": 1, "timeoutSeconds": timeout}
    if initial:
        p["initialDelaySeconds"] = initial
    return p


def pod_spec(containers, *, sa="default", priority=0, priority_class=None, node_selector=None,
             tolerations=None, volumes=None, grace=30, dns_policy="ClusterFirst", host_network=False,
             init_containers=None, security_context=None, preemption="PreemptLowerPriority", extra=None):
    s = {}
    if init_containers:
        s["initContainers"] = init_containers
    s["containers"] = containers
    s["dnsPolicy"] = dns_policy
    s["enableServiceLinks"] = True
    if host_network:
        s["hostNetwork"] = True
    if node_selector:
        s["nodeSelector"] = node_selector
    s["preemptionPolicy"] = preemption
    s["priority"] = priority
    if priority_class:
        s["priorityClassName"] = priority_class
    s["restartPolicy"] = "Always"
    s["schedulerName"] = "default-scheduler"
    s["securityContext"] = security_context or {}
    s["serviceAccount"] = sa
    s["serviceAccountName"] = sa
    s["terminationGracePeriodSeconds"] = grace
    s["tolerations"] = list(tolerations or [])
    if volumes:
        s["volumes"] = list(volumes)
    if extra:
        s.update(extra)
    return s


def qos(containers):
    reqs = [c.get("resources", {}) for c in containers]
    if all(not r for r in reqs):
        return "BestEffort"
    guaranteed = all(
        r.get("limits", {}).get("cpu") and r.get("limits", {}).get("memory")
        and r.get("requests", {}).get("cpu", r["limits"]["cpu"]) == r["limits"]["cpu"]
        and r.get("requests", {}).get("memory", r["limits"]["memory"]) == r["limits"]["memory"]
        for r in reqs)
    return "Guaranteed" if guaranteed else "Burstable"


PODS = []  # every Pod object
POD_BY_NAME = {}


def running_status(spec, node, created, started, ip=None, host_network=False, restarts=None, ready=True):
    sched = add_seconds(created, 0)
    init = add_seconds(started, -1)
    ready_at = add_seconds(started, R.randint(4, 25))
    ip = NODE_IP[node] if host_network else (ip or pod_ip(node))
    statuses = []
    for c in spec["containers"]:
        st = {"containerID": "containerd://" + hexs(64), "image": c["image"], "imageID": image_id(c["image"]),
              "lastState": {}, "name": c["name"], "ready": ready, "restartCount": 0, "started": True,
              "state": {"running": {"startedAt": z(add_seconds(started, R.randint(1, 4)))}}}
        if restarts and c["name"] in restarts:
            st.update(restarts[c["name"]])
        if c.get("volumeMounts"):
            st["volumeMounts"] = [dict(name=m["name"], mountPath=m["mountPath"],
                                       **({"readOnly": True, "recursiveReadOnly": "Disabled"} if m.get("readOnly") else {}))
                                  for m in c["volumeMounts"]]
        statuses.append(st)
    status = {"conditions": [
        {"lastProbeTime": None, "lastTransitionTime": z(add_seconds(started, 2)), "status": "True",
         "type": "PodReadyToStartContainers"},
        {"lastProbeTime": None, "lastTransitionTime": z(init), "status": "True", "type": "Initialized"},
        {"lastProbeTime": None, "lastTransitionTime": z(ready_at), "status": "True" if ready else "False",
         "type": "Ready"},
        {"lastProbeTime": None, "lastTransitionTime": z(ready_at), "status": "True" if ready else "False",
         "type": "ContainersReady"},
        {"lastProbeTime": None, "lastTransitionTime": z(sched), "status": "True", "type": "PodScheduled"},
    ], "containerStatuses": statuses}
    if spec.get("initContainers"):
        status["initContainerStatuses"] = [
            {"containerID": "containerd://" + hexs(64), "image": c["image"], "imageID": image_id(c["image"]),
             "lastState": {}, "name": c["name"], "ready": True, "restartCount": 0, "started": False,
             "state": {"terminated": {"containerID": "containerd://" + hexs(64), "exitCode": 0,
                                      "finishedAt": z(add_seconds(started, -2)), "reason": "Completed",
                                      "startedAt": z(add_seconds(started, -4))}}}
            for c in spec["initContainers"]]
    status.update({"hostIP": NODE_IP[node], "hostIPs": [{"ip": NODE_IP[node]}], "phase": "Running",
                   "podIP": ip, "podIPs": [{"ip": ip}], "qosClass": qos(spec["containers"]),
                   "startTime": z(add_seconds(started, -5))})
    return status


def make_pod(ns, name, labels, spec_tpl, *, owner=None, node=None, created, started=None, status=None,
             generate_name=None, annotations=None, meta_extra=None, ip=None, restarts=None):
    spec = json.loads(json.dumps(spec_tpl))
    vol_name = "kube-api-access-" + suffix(5)
    for c in spec["containers"] + spec.get("initContainers", []):
        c.setdefault("volumeMounts", []).append(
            {"mountPath": "/var/run/secrets/kubernetes.io/serviceaccount", "name": vol_name, "readOnly": True})
    spec.setdefault("volumes", []).append(api_access_volume(vol_name))
    if not any(tl.get("key") == "node.kubernetes.io/not-ready" for tl in spec["tolerations"]):
        spec["tolerations"] = spec["tolerations"] + DEFAULT_TOLERATIONS
    if node:
        spec["nodeName"] = node
    meta = {}
    if annotations:
        meta["annotations"] = annotations
    meta["creationTimestamp"] = z(created)
    if generate_name:
        meta["generateName"] = generate_name
    meta["labels"] = labels
    meta["name"] = name
    meta["namespace"] = ns
    if owner:
        meta["ownerReferences"] = [{"apiVersion": "apps/v1", "blockOwnerDeletion": True, "controller": True,
                                    "kind": owner["kind"], "name": owner["metadata"]["name"],
                                    "uid": owner["metadata"]["uid"]}]
    meta["resourceVersion"] = rv()
    meta["uid"] = uid()
    if meta_extra:
        meta.update(meta_extra)
    if status is None:
        status = running_status(spec, node, created, started or add_seconds(created, 3), ip=ip,
                                host_network=spec.get("hostNetwork", False), restarts=restarts)
    p = {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec, "status": status}
    PODS.append(p)
    POD_BY_NAME[(ns, name)] = p
    return p


def deployment(ns, name, labels, replicas, spec_tpl, *, created, revision=1, status_counts=None,
               annotations=None, strategy=None, sel=None, progressing_since=None):
    sel = sel or dict(labels)
    h = "".join(R.choice(ALNUM) for _ in range(R.choice([9, 10])))
    dep_uid = uid()
    tpl_labels = dict(labels)
    dep = {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"annotations": {"deployment.kubernetes.io/revision": str(revision), **(annotations or {})},
                     "creationTimestamp": z(created), "generation": revision, "labels": dict(labels),
                     "name": name, "namespace": ns, "resourceVersion": rv(), "uid": dep_uid},
        "spec": {"progressDeadlineSeconds": 600, "replicas": replicas, "revisionHistoryLimit": 10,
                 "selector": {"matchLabels": sel},
                 "strategy": strategy or {"rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"},
                                          "type": "RollingUpdate"},
                 "template": {"metadata": {"labels": tpl_labels}, "spec": spec_tpl}},
    }
    rs_name = f"{name}-{h}"
    rs = {
        "apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {"annotations": {"deployment.kubernetes.io/desired-replicas": str(replicas),
                                     "deployment.kubernetes.io/max-replicas": str(replicas + max(1, (replicas + 3) // 4)),
                                     "deployment.kubernetes.io/revision": str(revision)},
                     "creationTimestamp": z(progressing_since or created), "generation": 1,
                     "labels": {**tpl_labels, "pod-template-hash": h}, "name": rs_name, "namespace": ns,
                     "ownerReferences": [{"apiVersion": "apps/v1", "blockOwnerDeletion": True, "controller": True,
                                          "kind": "Deployment", "name": name, "uid": dep_uid}],
                     "resourceVersion": rv(), "uid": uid()},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {**sel, "pod-template-hash": h}},
                 "template": {"metadata": {"labels": {**tpl_labels, "pod-template-hash": h}}, "spec": spec_tpl}},
    }
    ready, available = (status_counts or (replicas, replicas))
    rs["status"] = {"availableReplicas": available, "fullyLabeledReplicas": replicas, "observedGeneration": 1,
                    "readyReplicas": ready, "replicas": replicas}
    dstat = {"availableReplicas": available, "conditions": [], "observedGeneration": revision,
             "readyReplicas": ready, "replicas": replicas, "updatedReplicas": replicas}
    if available < replicas:
        dstat["unavailableReplicas"] = replicas - available
    return dep, rs, h, dstat


def finish_deployment(dep, rs, dstat, available_since, progressed_at, min_available=True):
    if min_available:
        dstat["conditions"].append({"lastTransitionTime": z(available_since), "lastUpdateTime": z(available_since),
                                    "message": "Deployment has minimum availability.",
                                    "reason": "MinimumReplicasAvailable", "status": "True", "type": "Available"})
    else:
        dstat["conditions"].append({"lastTransitionTime": z(available_since), "lastUpdateTime": z(available_since),
                                    "message": "Deployment does not have minimum availability.",
                                    "reason": "MinimumReplicasUnavailable", "status": "False", "type": "Available"})
    dstat["conditions"].append({"lastTransitionTime": z(progressed_at), "lastUpdateTime": z(progressed_at),
                                "message": f'ReplicaSet "{rs["metadata"]["name"]}" has successfully progressed.',
                                "reason": "NewReplicaSetAvailable", "status": "True", "type": "Progressing"})
    dep["status"] = dstat


def rs_pods(ns, rs, h, spec_tpl, placements, labels):
    """placements: list of (node, created, started) -> running pods."""
    out = []
    for node, created, started in placements:
        name = f"{rs['metadata']['name']}-{suffix()}"
        out.append(make_pod(ns, name, {**labels, "pod-template-hash": h}, spec_tpl, owner=rs, node=node,
                            created=created, started=started, generate_name=rs["metadata"]["name"] + "-"))
    return out


# ---------------------------------------------------------------- events
EVENTS = {}  # namespace -> list


def ev_name(obj_name):
    return f"{obj_name}.{hexs(16)}"


def involved(obj, field_path=None):
    m = obj["metadata"]
    io = {"apiVersion": obj["apiVersion"], "kind": obj["kind"], "name": m["name"]}
    if m.get("namespace"):
        io["namespace"] = m["namespace"]
    io["uid"] = m["uid"]
    if obj["kind"] in ("Pod", "PersistentVolumeClaim"):
        io["resourceVersion"] = m["resourceVersion"]
    if field_path:
        io["fieldPath"] = field_path
    return io


def event(obj, reason, message, *, type_="Normal", first, last=None, count=1, component, host=None,
          annotations=None, field_path=None, ns=None, involved_override=None):
    ns = ns or obj["metadata"].get("namespace") or "default"
    meta = {}
    if annotations:
        meta["annotations"] = annotations
    meta.update({"creationTimestamp": z(first), "name": ev_name(obj["metadata"]["name"]), "namespace": ns,
                 "resourceVersion": rv(), "uid": uid()})
    e = {"apiVersion": "v1", "count": count, "eventTime": None, "firstTimestamp": z(first),
         "involvedObject": involved_override or involved(obj, field_path), "kind": "Event",
         "lastTimestamp": z(last or first), "message": message, "metadata": meta, "reason": reason,
         "reportingComponent": component, "reportingInstance": host or "",
         "source": {"component": component, **({"host": host} if host else {})}, "type": type_}
    EVENTS.setdefault(ns, []).append(e)
    return e


SCHED_INSTANCE = "default-scheduler-ip-172-16-47-212.eu-west-1.compute.internal"


def sched_event(pod, reason, message, *, first, last=None, count=1, type_="Warning", action="Scheduling",
                related=None):
    ns = pod["metadata"]["namespace"]
    io = involved(pod)
    e = {"action": action, "apiVersion": "v1", "eventTime": zmicro(add_seconds(first, R.random())),
         "firstTimestamp": None, "involvedObject": io, "kind": "Event", "lastTimestamp": None,
         "message": message,
         "metadata": {"creationTimestamp": z(first), "name": ev_name(pod["metadata"]["name"]), "namespace": ns,
                      "resourceVersion": rv(), "uid": uid()},
         "reason": reason, "reportingComponent": "default-scheduler", "reportingInstance": SCHED_INSTANCE,
         "source": {}, "type": type_}
    if related:
        e["related"] = related
    if count > 1:
        e["series"] = {"count": count, "lastObservedTime": zmicro(add_seconds(last, R.random()))}
    EVENTS.setdefault(ns, []).append(e)
    return e


# ================================================================= kube-system
KS = "kube-system"
objs = {}  # file path -> list of objects


def put(path, *items):
    objs.setdefault(path, []).extend(items)


CRITICAL_TOLERATIONS = [{"operator": "Exists"}]


def daemonset(name, labels, spec_tpl, created, gen=1, extra_meta_labels=None):
    ds_uid = uid()
    rev_hash = "".join(R.choice(ALNUM) for _ in range(9))
    ds = {"apiVersion": "apps/v1", "kind": "DaemonSet",
          "metadata": {"annotations": {"deprecated.daemonset.template.generation": str(gen)},
                       "creationTimestamp": z(created), "generation": gen,
                       "labels": {**labels, **(extra_meta_labels or {})}, "name": name, "namespace": KS,
                       "resourceVersion": rv(), "uid": ds_uid},
          "spec": {"revisionHistoryLimit": 10, "selector": {"matchLabels": labels},
                   "template": {"metadata": {"labels": dict(labels)}, "spec": spec_tpl},
                   "updateStrategy": {"rollingUpdate": {"maxSurge": 0, "maxUnavailable": "10%"},
                                      "type": "RollingUpdate"}},
          "status": {"currentNumberScheduled": 4, "desiredNumberScheduled": 4, "numberAvailable": 4,
                     "numberMisscheduled": 0, "numberReady": 4, "observedGeneration": gen,
                     "updatedNumberScheduled": 4}}
    pods = []
    for short in ("ip-10-40-45-117", "ip-10-40-77-30", "ip-10-40-109-8", "ip-10-40-88-164"):
        n = NODES[short]
        created_p = add_seconds(n["created"], R.randint(8, 20))
        spec = json.loads(json.dumps(spec_tpl))
        spec["affinity"] = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [{"matchFields": [{"key": "metadata.name", "operator": "In",
                                                    "values": [n["name"]]}]}]}}}
        spec["tolerations"] = spec["tolerations"] + [
            {"effect": "NoExecute", "key": "node.kubernetes.io/not-ready", "operator": "Exists"},
            {"effect": "NoExecute", "key": "node.kubernetes.io/unreachable", "operator": "Exists"},
            {"effect": "NoSchedule", "key": "node.kubernetes.io/disk-pressure", "operator": "Exists"},
            {"effect": "NoSchedule", "key": "node.kubernetes.io/memory-pressure", "operator": "Exists"},
            {"effect": "NoSchedule", "key": "node.kubernetes.io/pid-pressure", "operator": "Exists"},
            {"effect": "NoSchedule", "key": "node.kubernetes.io/unschedulable", "operator": "Exists"},
        ] + ([{"effect": "NoSchedule", "key": "node.kubernetes.io/network-unavailable", "operator": "Exists"}]
             if spec.get("hostNetwork") else [])
        p = make_pod(KS, f"{name}-{suffix()}", {**labels, "controller-revision-hash": rev_hash,
                                                  "pod-template-generation": str(gen)},
                     spec, owner=ds, node=n["name"], created=created_p, started=add_seconds(created_p, 6),
                     generate_name=name + "-")
        p["metadata"]["ownerReferences"][0]["kind"] = "DaemonSet"
        pods.append(p)
    return ds, pods


# aws-node
aws_node_spec = pod_spec(
    [container("aws-node", f"{EKS_ECR}/amazon-k8s-cni:v1.19.5-eksbuild.3", cpu="25m",
               env=[("ADDITIONAL_ENI_TAGS", "{}"), ("AWS_VPC_CNI_NODE_PORT_SUPPORT", "true"),
                    ("AWS_VPC_ENI_MTU", "9001"), ("AWS_VPC_K8S_CNI_EXTERNALSNAT", "false"),
                    ("AWS_VPC_K8S_CNI_LOGLEVEL", "DEBUG"), ("ENABLE_PREFIX_DELEGATION", "false"),
                    ("NETWORK_POLICY_ENFORCING_MODE", "standard"), ("VPC_CNI_VERSION", "v1.19.5"),
                    ("WARM_ENI_TARGET", "1")],
               ports=[{"containerPort": 61678, "hostPort": 61678, "name": "metrics", "protocol": "TCP"}],
               liveness={"exec": {"command": ["/app/grpc-health-probe", "-addr=:50051", "-connect-timeout=5s",
                                              "-rpc-timeout=5s"]}, "failureThreshold": 3,
                         "initialDelaySeconds": 60, "periodSeconds": 10, "successThreshold": 1, "timeoutSeconds": 10},
               extra={"securityContext": {"capabilities": {"add": ["NET_ADMIN", "NET_RAW"]}}}),
     container("aws-eks-nodeagent", f"{EKS_ECR}/amazon/aws-network-policy-agent:v1.2.2-eksbuild.1", cpu="25m",
               args=["--enable-ipv6=false", "--enable-network-policy=true", "--enable-cloudwatch-logs=false",
                     "--enable-policy-event-logs=false", "--log-file=/var/log/aws-routed-eni/network-policy-agent.log",
                     "--metrics-bind-addr=:8162", "--health-probe-bind-addr=:8163", "--conntrack-cache-cleanup-period=300"],
               extra={"securityContext": {"capabilities": {"add": ["NET_ADMIN"]}, "privileged": True}})],
    sa="aws-node", priority=2000001000, priority_class="system-node-critical", host_network=True,
    tolerations=CRITICAL_TOLERATIONS,
    init_containers=[container("aws-vpc-cni-init", f"{EKS_ECR}/amazon-k8s-cni-init:v1.19.5-eksbuild.3",
                               cpu="25m", env=[("DISABLE_TCP_EARLY_DEMUX", "false"), ("ENABLE_IPv6", "false")],
                               extra={"securityContext": {"privileged": True}})],
    grace=10)
ds_aws_node, aws_node_pods = daemonset("aws-node", {"k8s-app": "aws-node"}, aws_node_spec,
                                       t("2024-05-14T08:47:02"), gen=6,
                                       extra_meta_labels={"app.kubernetes.io/instance": "aws-vpc-cni",
                                                          "app.kubernetes.io/managed-by": "EKS",
                                                          "app.kubernetes.io/name": "aws-node",
                                                          "app.kubernetes.io/version": "v1.19.5"})
put("k8s/kube-system/aws-node.yaml", ds_aws_node, *aws_node_pods)

kp_spec = pod_spec(
    [container("kube-proxy", f"{EKS_ECR}/eks/kube-proxy:v1.31.9-minimal-eksbuild.2", cpu="100m",
               command=["kube-proxy", "--v=2", "--config=/var/lib/kube-proxy-config/config",
                        "--hostname-override=$(NODE_NAME)"],
               extra={"securityContext": {"privileged": True}})],
    sa="kube-proxy", priority=2000001000, priority_class="system-node-critical", host_network=True,
    tolerations=CRITICAL_TOLERATIONS)
ds_kp, kp_pods = daemonset("kube-proxy", {"k8s-app": "kube-proxy"}, kp_spec, t("2024-05-14T08:47:03"), gen=4,
                           extra_meta_labels={"eks.amazonaws.com/component": "kube-proxy"})
put("k8s/kube-system/kube-proxy.yaml", ds_kp, *kp_pods)

ebs_node_spec = pod_spec(
    [container("ebs-plugin", f"{EKS_ECR}/eks/aws-ebs-csi-driver:v1.45.0", cpu="10m", mem="40Mi",
               mem_limit="256Mi", args=["node", "--endpoint=$(CSI_ENDPOINT)", "--csi-mount-point-prefix=/var/lib/kubelet/plugins/kubernetes.io/csi/ebs.csi.aws.com/", "--logging-format=text", "--v=2"],
               ports=[{"containerPort": 9808, "name": "healthz", "protocol": "TCP"}],
               extra={"securityContext": {"privileged": True}}),
     container("node-driver-registrar", f"{EKS_ECR}/eks/csi-node-driver-registrar:v2.14.0-eks-1-33-8",
               cpu="10m", mem="40Mi", mem_limit="256Mi",
               args=["--csi-address=$(ADDRESS)", "--kubelet-registration-path=$(DRIVER_REG_SOCK_PATH)", "--v=2"]),
     container("liveness-probe", f"{EKS_ECR}/eks/livenessprobe:v2.16.0-eks-1-33-8", cpu="10m", mem="40Mi",
               mem_limit="256Mi", args=["--csi-address=/csi/csi.sock"])],
    sa="ebs-csi-node-sa", priority=2000001000, priority_class="system-node-critical",
    tolerations=CRITICAL_TOLERATIONS, security_context={"fsGroup": 0, "runAsGroup": 0, "runAsNonRoot": False, "runAsUser": 0})
ds_ebs_node, ebs_node_pods = daemonset("ebs-csi-node", {"app": "ebs-csi-node"}, ebs_node_spec,
                                       t("2024-05-14T09:02:40"), gen=5,
                                       extra_meta_labels={"app.kubernetes.io/component": "csi-driver",
                                                          "app.kubernetes.io/managed-by": "EKS",
                                                          "app.kubernetes.io/name": "aws-ebs-csi-driver",
                                                          "app.kubernetes.io/version": "1.45.0"})
ds_ebs_node["spec"]["selector"]["matchLabels"] = {"app": "ebs-csi-node", "app.kubernetes.io/name": "aws-ebs-csi-driver"}
for p in ebs_node_pods:
    p["metadata"]["labels"]["app.kubernetes.io/name"] = "aws-ebs-csi-driver"
ds_ebs_node["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/name"] = "aws-ebs-csi-driver"

# CoreDNS
COREFILE = (".:53 {\n    errors\n    health {\n        lameduck 5s\n      }\n    ready\n"
            "    kubernetes cluster.local in-addr.arpa ip6.arpa {\n      pods insecure\n"
            "      fallthrough in-addr.arpa ip6.arpa\n    }\n    prometheus :9153\n"
            "    forward . /etc/resolv.conf\n    cache 30\n    loop\n    reload\n    loadbalance\n}\n")
cm_coredns = {"apiVersion": "v1", "data": {"Corefile": COREFILE}, "kind": "ConfigMap",
              "metadata": {"creationTimestamp": "2024-05-14T08:47:05Z",
                           "labels": {"eks.amazonaws.com/component": "coredns", "k8s-app": "kube-dns"},
                           "name": "coredns", "namespace": KS, "resourceVersion": rv(), "uid": uid()}}
coredns_labels = {"eks.amazonaws.com/component": "coredns", "k8s-app": "kube-dns"}
coredns_spec = pod_spec(
    [container("coredns", f"{EKS_ECR}/eks/coredns:v1.11.4-eksbuild.14", cpu="100m", mem="70Mi",
               mem_limit="170Mi", args=["-conf", "/etc/coredns/Corefile"],
               ports=[{"containerPort": 53, "name": "dns", "protocol": "UDP"},
                      {"containerPort": 53, "name": "dns-tcp", "protocol": "TCP"},
                      {"containerPort": 9153, "name": "metrics", "protocol": "TCP"}],
               liveness=http_probe("/health", 8080, timeout=5, failure=5, initial=60),
               readiness=http_probe("/ready", 8181),
               mounts=[{"mountPath": "/etc/coredns", "name": "config-volume", "readOnly": True}],
               extra={"securityContext": {"allowPrivilegeEscalation": False,
                                          "capabilities": {"add": ["NET_BIND_SERVICE"], "drop": ["ALL"]},
                                          "readOnlyRootFilesystem": True}})],
    sa="coredns", priority=2000000000, priority_class="system-cluster-critical", dns_policy="Default",
    tolerations=[{"effect": "NoSchedule", "key": "node-role.kubernetes.io/control-plane"},
                 {"key": "CriticalAddonsOnly", "operator": "Exists"}],
    volumes=[{"configMap": {"defaultMode": 420, "items": [{"key": "Corefile", "path": "Corefile"}],
                            "name": "coredns"}, "name": "config-volume"}],
    extra={"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
        {"matchExpressions": [{"key": "kubernetes.io/os", "operator": "In", "values": ["linux"]},
                              {"key": "kubernetes.io/arch", "operator": "In", "values": ["amd64", "arm64"]}]}]}},
        "podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{"podAffinityTerm": {
            "labelSelector": {"matchExpressions": [{"key": "k8s-app", "operator": "In", "values": ["kube-dns"]}]},
            "topologyKey": "kubernetes.io/hostname"}, "weight": 100}]}},
        "topologySpreadConstraints": [{"labelSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
                                       "maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone",
                                       "whenUnsatisfiable": "ScheduleAnyway"}]})
dep_coredns, rs_coredns, h_coredns, st_coredns = deployment(
    KS, "coredns", coredns_labels, 2, coredns_spec, created=t("2024-05-14T08:47:05"), revision=3,
    progressing_since=t("2026-09-03T13:20:41"), strategy={"rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 1},
                                                          "type": "RollingUpdate"})
dep_coredns["metadata"]["labels"]["kubernetes.io/name"] = "CoreDNS"
coredns_pods = rs_pods(KS, rs_coredns, h_coredns, coredns_spec,
                       [(N1A, t("2026-11-18T10:22:38"), t("2026-11-18T10:22:41")),
                        (N1C, t("2026-11-18T10:23:31"), t("2026-11-18T10:23:34"))], coredns_labels)
finish_deployment(dep_coredns, rs_coredns, st_coredns, t("2026-11-18T10:22:59"), t("2026-11-18T10:23:52"))
svc_kube_dns = {"apiVersion": "v1", "kind": "Service",
                "metadata": {"annotations": {"prometheus.io/port": "9153", "prometheus.io/scrape": "true"},
                             "creationTimestamp": "2024-05-14T08:47:05Z",
                             "labels": {"eks.amazonaws.com/component": "kube-dns", "k8s-app": "kube-dns",
                                        "kubernetes.io/cluster-service": "true", "kubernetes.io/name": "CoreDNS"},
                             "name": "kube-dns", "namespace": KS, "resourceVersion": rv(), "uid": uid()},
                "spec": {"clusterIP": DNS_IP, "clusterIPs": [DNS_IP], "internalTrafficPolicy": "Cluster",
                         "ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack",
                         "ports": [{"name": "dns", "port": 53, "protocol": "UDP", "targetPort": 53},
                                   {"name": "dns-tcp", "port": 53, "protocol": "TCP", "targetPort": 53},
                                   {"name": "metrics", "port": 9153, "protocol": "TCP", "targetPort": 9153}],
                         "selector": {"k8s-app": "kube-dns"}, "sessionAffinity": "None", "type": "ClusterIP"},
                "status": {"loadBalancer": {}}}
ep_kube_dns = {"apiVersion": "v1", "kind": "Endpoints",
               "metadata": {"annotations": {"endpoints.kubernetes.io/last-change-trigger-time": "2026-11-18T10:23:52Z"},
                            "creationTimestamp": "2024-05-14T08:47:05Z",
                            "labels": dict(svc_kube_dns["metadata"]["labels"]),
                            "name": "kube-dns", "namespace": KS, "resourceVersion": rv(), "uid": uid()},
               "subsets": [{"addresses": [{"ip": p["status"]["podIP"], "nodeName": p["spec"]["nodeName"],
                                           "targetRef": {"kind": "Pod", "name": p["metadata"]["name"],
                                                         "namespace": KS, "uid": p["metadata"]["uid"]}}
                                          for p in coredns_pods],
                            "ports": [{"name": "dns-tcp", "port": 53, "protocol": "TCP"},
                                      {"name": "metrics", "port": 9153, "protocol": "TCP"},
                                      {"name": "dns", "port": 53, "protocol": "UDP"}]}]}
eps_kube_dns = {"addressType": "IPv4", "apiVersion": "discovery.k8s.io/v1",
                "endpoints": [{"addresses": [p["status"]["podIP"]],
                               "conditions": {"ready": True, "serving": True, "terminating": False},
                               "nodeName": p["spec"]["nodeName"],
                               "targetRef": {"kind": "Pod", "name": p["metadata"]["name"], "namespace": KS,
                                             "uid": p["metadata"]["uid"]},
                               "zone": NODE_ZONE[p["spec"]["nodeName"]]} for p in coredns_pods],
                "kind": "EndpointSlice",
                "metadata": {"annotations": {"endpoints.kubernetes.io/last-change-trigger-time": "2026-11-18T10:23:52Z"},
                             "creationTimestamp": "2024-05-14T08:47:05Z", "generateName": "kube-dns-",
                             "generation": 41,
                             "labels": {"endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io",
                                        "kubernetes.io/service-name": "kube-dns",
                                        **svc_kube_dns["metadata"]["labels"]},
                             "name": "kube-dns-" + suffix(5), "namespace": KS,
                             "ownerReferences": [{"apiVersion": "v1", "blockOwnerDeletion": True, "controller": True,
                                                  "kind": "Service", "name": "kube-dns",
                                                  "uid": svc_kube_dns["metadata"]["uid"]}],
                             "resourceVersion": rv(), "uid": uid()},
                "ports": [{"name": "dns-tcp", "port": 53, "protocol": "TCP"},
                          {"name": "metrics", "port": 9153, "protocol": "TCP"},
                          {"name": "dns", "port": 53, "protocol": "UDP"}]}
pdb_coredns = {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
               "metadata": {"creationTimestamp": "2024-05-14T08:47:05Z",
                            "labels": {"eks.amazonaws.com/component": "coredns", "k8s-app": "kube-dns"},
                            "name": "coredns", "namespace": KS, "resourceVersion": rv(), "uid": uid(), "generation": 1},
               "spec": {"maxUnavailable": 1, "selector": {"matchLabels": coredns_labels}},
               "status": {"conditions": [{"lastTransitionTime": "2026-11-18T10:23:52Z", "message": "",
                                          "observedGeneration": 1, "reason": "SufficientPods", "status": "True",
                                          "type": "DisruptionAllowed"}],
                          "currentHealthy": 2, "desiredHealthy": 1, "disruptionsAllowed": 1, "expectedPods": 2,
                          "observedGeneration": 1}}
put("k8s/kube-system/coredns.yaml", cm_coredns, dep_coredns, rs_coredns, *coredns_pods, svc_kube_dns,
    ep_kube_dns, eps_kube_dns, pdb_coredns)

# EBS CSI controller
ebs_ctrl_labels = {"app": "ebs-csi-controller", "app.kubernetes.io/component": "csi-driver",
                   "app.kubernetes.io/managed-by": "EKS", "app.kubernetes.io/name": "aws-ebs-csi-driver",
                   "app.kubernetes.io/version": "1.45.0"}


def sidecar(name, image, args):
    return container(name, f"{EKS_ECR}/eks/{image}", cpu="10m", mem="40Mi", mem_limit="256Mi", args=args,
                     env=[("ADDRESS", "/var/lib/csi/sockets/pluginproxy/csi.sock")],
                     mounts=[{"mountPath": "/var/lib/csi/sockets/pluginproxy/", "name": "socket-dir"}],
                     extra={"securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True}})


ebs_ctrl_spec = pod_spec(
    [container("ebs-plugin", f"{EKS_ECR}/eks/aws-ebs-csi-driver:v1.45.0", cpu="10m", mem="40Mi", mem_limit="256Mi",
               args=["controller", "--endpoint=$(CSI_ENDPOINT)", "--batching=true", "--logging-format=text",
                     "--user-agent-extra=eks", "--v=2"],
               env=[("CSI_ENDPOINT", "unix:///var/lib/csi/sockets/pluginproxy/csi.sock"),
                    ("AWS_REGION", REGION), ("AWS_EC2_ENDPOINT", ""),
                    ("AWS_ROLE_ARN", f"arn:aws:iam::{ACCOUNT}:role/demo-prod-ebs-csi-driver"),
                    ("AWS_WEB_IDENTITY_TOKEN_FILE", "/var/run/secrets/eks.amazonaws.com/serviceaccount/token")],
               ports=[{"containerPort": 9808, "name": "healthz", "protocol": "TCP"}],
               liveness=http_probe("/healthz", "healthz", timeout=3, failure=5, initial=10),
               mounts=[{"mountPath": "/var/lib/csi/sockets/pluginproxy/", "name": "socket-dir"}],
               extra={"securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True}}),
     sidecar("csi-provisioner", "csi-provisioner:v5.3.0-eks-1-33-8",
             ["--timeout=60s", "--csi-address=$(ADDRESS)", "--v=2", "--feature-gates=Topology=true",
              "--extra-create-metadata", "--leader-election=true", "--default-fstype=ext4",
              "--kube-api-qps=20", "--kube-api-burst=100", "--worker-threads=100", "--retry-interval-max=30m"]),
     sidecar("csi-attacher", "csi-attacher:v4.9.0-eks-1-33-8",
             ["--timeout=6m", "--csi-address=$(ADDRESS)", "--v=2", "--leader-election=true",
              "--kube-api-qps=20", "--kube-api-burst=100", "--worker-threads=100", "--retry-interval-max=5m"]),
     sidecar("csi-resizer", "csi-resizer:v1.14.0-eks-1-33-8",
             ["--timeout=60s", "--csi-address=$(ADDRESS)", "--v=2", "--handle-volume-inuse-error=false",
              "--leader-election=true", "--kube-api-qps=20", "--kube-api-burst=100", "--workers=100"]),
     sidecar("liveness-probe", "livenessprobe:v2.16.0-eks-1-33-8", ["--csi-address=/csi/csi.sock"])],
    sa="ebs-csi-controller-sa", priority=2000000000, priority_class="system-cluster-critical",
    tolerations=[{"key": "CriticalAddonsOnly", "operator": "Exists"},
                 {"effect": "NoExecute", "operator": "Exists", "tolerationSeconds": 300}],
    volumes=[{"emptyDir": {}, "name": "socket-dir"},
             {"name": "aws-iam-token", "projected": {"defaultMode": 420, "sources": [
                 {"serviceAccountToken": {"audience": "sts.amazonaws.com", "expirationSeconds": 86400,
                                          "path": "token"}}]}}],
    security_context={"fsGroup": 1000, "runAsGroup": 1000, "runAsNonRoot": True, "runAsUser": 1000},
    extra={"nodeSelector": {"kubernetes.io/os": "linux"}})
dep_ebs, rs_ebs, h_ebs, st_ebs = deployment(KS, "ebs-csi-controller", ebs_ctrl_labels, 2, ebs_ctrl_spec,
                                            created=t("2024-05-14T09:02:40"), revision=9,
                                            progressing_since=t("2026-10-07T15:41:12"),
                                            sel={"app": "ebs-csi-controller",
                                                 "app.kubernetes.io/name": "aws-ebs-csi-driver"})
ebs_ctrl_pods = rs_pods(KS, rs_ebs, h_ebs, ebs_ctrl_spec,
                        [(N1A, t("2026-11-18T10:22:40"), t("2026-11-18T10:22:49")),
                         (N1B, t("2026-11-18T10:24:02"), t("2026-11-18T10:24:09"))], ebs_ctrl_labels)
finish_deployment(dep_ebs, rs_ebs, st_ebs, t("2026-11-18T10:23:07"), t("2026-11-18T10:24:30"))
pdb_ebs = {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
           "metadata": {"creationTimestamp": "2024-05-14T09:02:40Z", "generation": 1,
                        "labels": {"app.kubernetes.io/component": "csi-driver", "app.kubernetes.io/managed-by": "EKS",
                                   "app.kubernetes.io/name": "aws-ebs-csi-driver"},
                        "name": "ebs-csi-controller", "namespace": KS, "resourceVersion": rv(), "uid": uid()},
           "spec": {"maxUnavailable": 1, "selector": {"matchLabels": {"app": "ebs-csi-controller",
                                                                      "app.kubernetes.io/name": "aws-ebs-csi-driver"}}},
           "status": {"conditions": [{"lastTransitionTime": "2026-11-18T10:24:30Z", "message": "",
                                      "observedGeneration": 1, "reason": "SufficientPods", "status": "True",
                                      "type": "DisruptionAllowed"}],
                      "currentHealthy": 2, "desiredHealthy": 1, "disruptionsAllowed": 1, "expectedPods": 2,
                      "observedGeneration": 1}}
csidriver = {"apiVersion": "storage.k8s.io/v1", "kind": "CSIDriver",
             "metadata": {"creationTimestamp": "2024-05-14T09:02:40Z",
                          "labels": {"app.kubernetes.io/component": "csi-driver", "app.kubernetes.io/managed-by": "EKS",
                                     "app.kubernetes.io/name": "aws-ebs-csi-driver", "app.kubernetes.io/version": "1.45.0"},
                          "name": "ebs.csi.aws.com", "resourceVersion": rv(), "uid": uid()},
             "spec": {"attachRequired": True, "fsGroupPolicy": "File", "podInfoOnMount": False,
                      "requiresRepublish": False, "seLinuxMount": False, "storageCapacity": False,
                      "volumeLifecycleModes": ["Persistent"]}}
put("k8s/kube-system/ebs-csi.yaml", dep_ebs, rs_ebs, *ebs_ctrl_pods, pdb_ebs, ds_ebs_node, *ebs_node_pods)


def sa(ns, name, created, annotations=None, labels=None):
    m = {"creationTimestamp": z(created), "name": name, "namespace": ns, "resourceVersion": rv(), "uid": uid()}
    if annotations:
        m = {"annotations": annotations, **m}
    if labels:
        m["labels"] = labels
    return {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": m}


put("k8s/kube-system/serviceaccounts.yaml",
    sa(KS, "aws-node", t("2024-05-14T08:47:02"),
       {"eks.amazonaws.com/role-arn": f"arn:aws:iam::{ACCOUNT}:role/demo-prod-vpc-cni"},
       {"app.kubernetes.io/instance": "aws-vpc-cni", "app.kubernetes.io/name": "aws-node"}),
    sa(KS, "coredns", t("2024-05-14T08:47:05"), labels={"eks.amazonaws.com/component": "coredns", "k8s-app": "kube-dns"}),
    sa(KS, "default", t("2024-05-14T08:46:51")),
    sa(KS, "ebs-csi-controller-sa", t("2024-05-14T09:02:40"),
       {"eks.amazonaws.com/role-arn": f"arn:aws:iam::{ACCOUNT}:role/demo-prod-ebs-csi-driver"},
       {"app.kubernetes.io/component": "csi-driver", "app.kubernetes.io/managed-by": "EKS",
        "app.kubernetes.io/name": "aws-ebs-csi-driver"}),
    sa(KS, "ebs-csi-node-sa", t("2024-05-14T09:02:40"),
       labels={"app.kubernetes.io/component": "csi-driver", "app.kubernetes.io/managed-by": "EKS",
               "app.kubernetes.io/name": "aws-ebs-csi-driver"}),
    sa(KS, "kube-proxy", t("2024-05-14T08:47:03"), labels={"eks.amazonaws.com/component": "kube-proxy"}))

# aws-auth: managed by Argo CD from git; the 02:33 sync dropped the mapping EKS had added for ng-ingest.
MAP_ROLES = (
    "- groups:\n  - system:bootstrappers\n  - system:nodes\n"
    f"  rolearn: arn:aws:iam::{ACCOUNT}:role/demo-prod-core-node-role\n"
    "  username: system:node:{{EC2PrivateDNSName}}\n"
    "- groups:\n  - system:bootstrappers\n  - system:nodes\n"
    f"  rolearn: arn:aws:iam::{ACCOUNT}:role/demo-prod-reporting-node-role\n"
    "  username: system:node:{{EC2PrivateDNSName}}\n"
    "- groups:\n  - system:masters\n"
    f"  rolearn: arn:aws:iam::{ACCOUNT}:role/demo-prod-platform-admin\n"
    "  username: platform-admin:{{SessionName}}\n"
    "- groups:\n  - deployers\n"
    f"  rolearn: arn:aws:iam::{ACCOUNT}:role/demo-prod-github-deployer\n"
    "  username: github-deployer:{{SessionName}}\n")
aws_auth = {"apiVersion": "v1", "data": {"mapRoles": MAP_ROLES, "mapUsers": "[]\n"}, "kind": "ConfigMap",
            "metadata": {"annotations": {"argocd.argoproj.io/tracking-id": "platform-base:/ConfigMap:kube-system/aws-auth"},
                         "creationTimestamp": "2024-05-14T08:58:16Z",
                         "labels": {"app.kubernetes.io/instance": "platform-base", "app.kubernetes.io/part-of": "platform"},
                         "name": "aws-auth", "namespace": KS, "resourceVersion": rv(), "uid": uid()}}
write("k8s/kube-system/aws-auth.json", aws_auth)

# ================================================================= priority classes
pcs = []
for name, value, desc, policy, created in [
        ("system-cluster-critical", 2000000000, "Used for system critical pods that must run in the cluster, but can be moved to another node if necessary.", "PreemptLowerPriority", "2024-05-14T08:46:49Z"),
        ("system-node-critical", 2000001000, "Used for system critical pods that must not be moved from their current node.", "PreemptLowerPriority", "2024-05-14T08:46:49Z"),
        ("business-critical", 100000, "Customer-facing and money-moving workloads.", "PreemptLowerPriority", "2025-03-11T09:14:27Z"),
        ("batch-low", 100, "Backfills and reindexing; first to make room when capacity is short.", "Never", "2025-03-11T09:14:27Z")]:
    pc = {"apiVersion": "scheduling.k8s.io/v1", "description": desc, "kind": "PriorityClass",
          "metadata": {"creationTimestamp": created, "generation": 1, "name": name, "resourceVersion": rv(), "uid": uid()},
          "preemptionPolicy": policy, "value": value}
    if name.startswith("system-"):
        pc["globalDefault"] = False
    pcs.append(pc)
write("k8s/cluster/priorityclasses.yaml", klist(pcs))

# ================================================================= storage
SC_CREATED = "2024-05-14T09:05:12Z"
storage_classes = [
    {"allowVolumeExpansion": True, "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
     "metadata": {"annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
                  "creationTimestamp": SC_CREATED, "name": "gp3", "resourceVersion": rv(), "uid": uid()},
     "parameters": {"encrypted": "true", "fsType": "ext4", "type": "gp3"}, "provisioner": "ebs.csi.aws.com",
     "reclaimPolicy": "Delete", "volumeBindingMode": "WaitForFirstConsumer"},
    {"allowVolumeExpansion": True, "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
     "metadata": {"creationTimestamp": SC_CREATED, "name": "gp3-retain", "resourceVersion": rv(), "uid": uid()},
     "parameters": {"encrypted": "true", "fsType": "ext4", "type": "gp3"}, "provisioner": "ebs.csi.aws.com",
     "reclaimPolicy": "Retain", "volumeBindingMode": "WaitForFirstConsumer"},
    {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
     "metadata": {"annotations": {"storageclass.kubernetes.io/is-default-class": "false"},
                  "creationTimestamp": "2024-05-14T08:46:55Z", "name": "gp2", "resourceVersion": rv(), "uid": uid()},
     "parameters": {"fsType": "ext4", "type": "gp2"}, "provisioner": "kubernetes.io/aws-ebs",
     "reclaimPolicy": "Delete", "volumeBindingMode": "WaitForFirstConsumer"},
]
PVS = []
PVCS = []


def bound_claim(ns, name, size, created, node, sc="gp3", labels=None, owner_sts=None):
    claim_uid = uid()
    vol = f"vol-0{hexs(16)}"
    zone = NODE_ZONE[node]
    pv_name = f"pvc-{claim_uid}"
    pvc = {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
           "metadata": {"annotations": {"pv.kubernetes.io/bind-completed": "yes",
                                        "pv.kubernetes.io/bound-by-controller": "yes",
                                        "volume.beta.kubernetes.io/storage-provisioner": "ebs.csi.aws.com",
                                        "volume.kubernetes.io/selected-node": node,
                                        "volume.kubernetes.io/storage-provisioner": "ebs.csi.aws.com"},
                        "creationTimestamp": z(created), "finalizers": ["kubernetes.io/pvc-protection"],
                        **({"labels": labels} if labels else {}),
                        "name": name, "namespace": ns, "resourceVersion": rv(), "uid": claim_uid},
           "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": size}},
                    "storageClassName": sc, "volumeMode": "Filesystem", "volumeName": pv_name},
           "status": {"accessModes": ["ReadWriteOnce"], "capacity": {"storage": size}, "phase": "Bound"}}
    pv = {"apiVersion": "v1", "kind": "PersistentVolume",
          "metadata": {"annotations": {"pv.kubernetes.io/provisioned-by": "ebs.csi.aws.com",
                                       "volume.kubernetes.io/provisioner-deletion-secret-name": "",
                                       "volume.kubernetes.io/provisioner-deletion-secret-namespace": ""},
                       "creationTimestamp": z(add_seconds(created, 4)),
                       "finalizers": ["external-provisioner.volume.kubernetes.io/finalizer",
                                      "kubernetes.io/pv-protection", "external-attacher/ebs-csi-aws-com"],
                       "name": pv_name, "resourceVersion": rv(), "uid": uid()},
          "spec": {"accessModes": ["ReadWriteOnce"], "capacity": {"storage": size},
                   "claimRef": {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "name": name, "namespace": ns,
                                "resourceVersion": pvc["metadata"]["resourceVersion"], "uid": claim_uid},
                   "csi": {"driver": "ebs.csi.aws.com", "fsType": "ext4",
                           "volumeAttributes": {"storage.kubernetes.io/csiProvisionerIdentity": "1763461489301-2468-ebs.csi.aws.com"},
                           "volumeHandle": vol},
                   "nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": [
                       {"key": "topology.kubernetes.io/zone", "operator": "In", "values": [zone]}]}]}},
                   "persistentVolumeReclaimPolicy": "Retain" if sc == "gp3-retain" else "Delete",
                   "storageClassName": sc, "volumeMode": "Filesystem"},
          "status": {"lastPhaseTransitionTime": z(add_seconds(created, 5)), "phase": "Bound"}}
    PVS.append(pv)
    PVCS.append(pvc)
    return pvc


# ================================================================= app helpers
SERVICES = []


def service(ns, name, selector, ports, created, headless=False, labels=None):
    ip = None if headless else f"172.20.{R.randint(20, 250)}.{R.randint(2, 250)}"
    spec = {"clusterIP": "None" if headless else ip, "clusterIPs": ["None" if headless else ip],
            "internalTrafficPolicy": "Cluster", "ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack",
            "ports": ports, "selector": selector, "sessionAffinity": "None", "type": "ClusterIP"}
    if headless:
        spec["publishNotReadyAddresses"] = True
    svc = {"apiVersion": "v1", "kind": "Service",
           "metadata": {"creationTimestamp": z(created), "labels": labels or dict(selector), "name": name,
                        "namespace": ns, "resourceVersion": rv(), "uid": uid()},
           "spec": spec, "status": {"loadBalancer": {}}}
    SERVICES.append(svc)
    return svc


def pdb(ns, name, selector, created, *, min_available=None, max_unavailable=None, healthy, desired, expected,
        allowed):
    spec = {}
    if min_available is not None:
        spec["minAvailable"] = min_available
    if max_unavailable is not None:
        spec["maxUnavailable"] = max_unavailable
    spec["selector"] = {"matchLabels": selector}
    return {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
            "metadata": {"creationTimestamp": z(created), "generation": 1, "name": name, "namespace": ns,
                         "resourceVersion": rv(), "uid": uid()},
            "spec": spec,
            "status": {"conditions": [{"lastTransitionTime": "2026-11-18T10:40:12Z", "message": "",
                                       "observedGeneration": 1,
                                       "reason": "SufficientPods" if allowed else "InsufficientPods",
                                       "status": "True" if allowed else "False", "type": "DisruptionAllowed"}],
                       "currentHealthy": healthy, "desiredHealthy": desired, "disruptionsAllowed": allowed,
                       "expectedPods": expected, "observedGeneration": 1}}


def statefulset(ns, name, labels, replicas, spec_tpl, claim_templates, created, *, ready, service_name,
                revision_hash=None, current=None):
    sts_uid = uid()
    rev = f"{name}-{revision_hash or ''.join(R.choice(ALNUM) for _ in range(10))}"
    sts = {"apiVersion": "apps/v1", "kind": "StatefulSet",
           "metadata": {"creationTimestamp": z(created), "generation": 4 if replicas > 1 else 1,
                        "labels": dict(labels), "name": name, "namespace": ns, "resourceVersion": rv(),
                        "uid": sts_uid},
           "spec": {"persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Retain", "whenScaled": "Retain"},
                    "podManagementPolicy": "OrderedReady", "replicas": replicas, "revisionHistoryLimit": 10,
                    "selector": {"matchLabels": dict(labels)}, "serviceName": service_name,
                    "template": {"metadata": {"labels": dict(labels)}, "spec": spec_tpl},
                    "updateStrategy": {"rollingUpdate": {"partition": 0}, "type": "RollingUpdate"},
                    "volumeClaimTemplates": claim_templates},
           "status": {"availableReplicas": ready, "collisionCount": 0, "currentReplicas": current or replicas,
                      "currentRevision": rev, "observedGeneration": 4 if replicas > 1 else 1,
                      "readyReplicas": ready, "replicas": replicas, "updateRevision": rev,
                      "updatedReplicas": current or replicas}}
    if ready == 0:
        for k in ("availableReplicas", "readyReplicas"):
            sts["status"][k] = 0
    return sts, rev


def claim_template(name, size, sc, labels):
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": {"creationTimestamp": None, "labels": labels, "name": name},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": size}},
                     "storageClassName": sc, "volumeMode": "Filesystem"},
            "status": {"phase": "Pending"}}


def sts_pod(ns, sts, rev, labels, i, spec_tpl, node, created, started, claim_names, status=None):
    spec = json.loads(json.dumps(spec_tpl))
    spec["hostname"] = f"{sts['metadata']['name']}-{i}"
    spec["subdomain"] = sts["spec"]["serviceName"]
    for tpl_name, claim in claim_names:
        spec.setdefault("volumes", []).insert(0, {"name": tpl_name, "persistentVolumeClaim": {"claimName": claim}})
    p = make_pod(ns, f"{sts['metadata']['name']}-{i}",
                 {**labels, "apps.kubernetes.io/pod-index": str(i), "controller-revision-hash": rev,
                  "statefulset.kubernetes.io/pod-name": f"{sts['metadata']['name']}-{i}"},
                 spec, owner=sts, node=node, created=created, started=started, status=status,
                 generate_name=sts["metadata"]["name"] + "-")
    p["metadata"]["ownerReferences"][0]["kind"] = "StatefulSet"
    return p


def pending_status(containers, message, reason="Unschedulable", at=None, nominated=None):
    st = {"conditions": [{"lastProbeTime": None, "lastTransitionTime": z(at), "message": message,
                          "reason": reason, "status": "False", "type": "PodScheduled"}]}
    if nominated:
        st["nominatedNodeName"] = nominated
    st["phase"] = "Pending"
    st["qosClass"] = qos(containers)
    return st


# ================================================================= namespace: shop
SHOP = "shop"
sf_labels = {"app.kubernetes.io/name": "storefront", "app.kubernetes.io/part-of": "shop"}
sf_spec = pod_spec([container("web", f"{ECR}/shop/storefront:5.12.3", cpu="250m", mem="384Mi", mem_limit="768Mi",
                              ports=[{"containerPort": 8080, "name": "http", "protocol": "TCP"}],
                              env=[("CART_URL", "http://cart.shop.svc.cluster.local:8080"),
                                   ("SEARCH_URL", "http://typesense.search.svc.cluster.local:8108"),
                                   ("PAYMENTS_URL", "http://payments-api.payments.svc.cluster.local:8080")],
                              readiness=http_probe("/healthz", "http", timeout=2),
                              liveness=http_probe("/livez", "http", timeout=2, failure=6, initial=20))],
                   sa="storefront")
dep_sf, rs_sf, h_sf, st_sf = deployment(SHOP, "storefront", sf_labels, 2, sf_spec, created=t("2025-02-03T11:20:05"),
                                        revision=27, progressing_since=t("2026-11-17T15:02:44"))
sf_pods = rs_pods(SHOP, rs_sf, h_sf, sf_spec, [(N1A, t("2026-11-18T10:22:44"), t("2026-11-18T10:22:53")),
                                               (N1B, t("2026-11-18T10:24:05"), t("2026-11-18T10:24:11"))], sf_labels)
finish_deployment(dep_sf, rs_sf, st_sf, t("2026-11-18T10:24:30"), t("2026-11-18T10:24:30"))
cart_labels = {"app.kubernetes.io/name": "cart", "app.kubernetes.io/part-of": "shop"}
cart_spec = pod_spec([container("cart", f"{ECR}/shop/cart:2.9.1", cpu="250m", mem="256Mi", mem_limit="512Mi",
                                ports=[{"containerPort": 8080, "name": "http", "protocol": "TCP"}],
                                env=[("REDIS_ADDR", "cart-redis.shop.svc.cluster.local:6379"), ("LOG_LEVEL", "info")],
                                readiness=http_probe("/healthz", "http"))])
dep_cart, rs_cart, h_cart, st_cart = deployment(SHOP, "cart", cart_labels, 2, cart_spec, created=t("2025-02-03T11:20:05"),
                                                revision=14, progressing_since=t("2026-11-12T09:47:31"))
cart_pods = rs_pods(SHOP, rs_cart, h_cart, cart_spec, [(N1A, t("2026-11-18T10:22:45"), t("2026-11-18T10:22:50")),
                                                       (N1B, t("2026-11-18T10:24:06"), t("2026-11-18T10:24:10"))],
                    cart_labels)
finish_deployment(dep_cart, rs_cart, st_cart, t("2026-11-18T10:24:30"), t("2026-11-18T10:24:30"))
redis_labels = {"app.kubernetes.io/name": "cart-redis", "app.kubernetes.io/part-of": "shop"}
redis_spec = pod_spec([container("redis", "public.ecr.aws/docker/library/redis:7.4.2-alpine", cpu="200m", mem="512Mi",
                                 mem_limit="1Gi", args=["--appendonly", "yes", "--maxmemory", "768mb"],
                                 ports=[{"containerPort": 6379, "name": "redis", "protocol": "TCP"}],
                                 readiness={"exec": {"command": ["redis-cli", "ping"]}, "failureThreshold": 3,
                                            "periodSeconds": 10, "successThreshold": 1, "timeoutSeconds": 2},
                                 mounts=[{"mountPath": "/data", "name": "data"}])],
                      security_context={"fsGroup": 999, "runAsUser": 999})
sts_redis, rev_redis = statefulset(SHOP, "cart-redis", redis_labels, 1, redis_spec,
                                   [claim_template("data", "20Gi", "gp3", redis_labels)], t("2025-02-03T11:20:05"),
                                   ready=1, service_name="cart-redis")
pvc_redis = bound_claim(SHOP, "data-cart-redis-0", "20Gi", t("2025-02-03T11:20:06"), N1B, labels=redis_labels)
redis_pod = sts_pod(SHOP, sts_redis, rev_redis, redis_labels, 0, redis_spec, N1B, t("2026-11-18T10:24:08"),
                    t("2026-11-18T10:24:31"), [("data", "data-cart-redis-0")])
put("k8s/shop/workloads.yaml", dep_sf, rs_sf, *sf_pods, dep_cart, rs_cart, *cart_pods, sts_redis, redis_pod,
    service(SHOP, "storefront", sf_labels, [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": "http"}],
            t("2025-02-03T11:20:05")),
    service(SHOP, "cart", cart_labels, [{"name": "http", "port": 8080, "protocol": "TCP", "targetPort": "http"}],
            t("2025-02-03T11:20:05")),
    service(SHOP, "cart-redis", redis_labels, [{"name": "redis", "port": 6379, "protocol": "TCP", "targetPort": "redis"}],
            t("2025-02-03T11:20:05"), headless=True),
    pdb(SHOP, "storefront", sf_labels, t("2025-02-03T11:20:05"), max_unavailable=1, healthy=2, desired=1,
        expected=2, allowed=1))
# storefront felt the DNS trouble: a couple of slow readiness probes
event(sf_pods[1], "Unhealthy",
      f'Readiness probe failed: Get "http://{sf_pods[1]["status"]["podIP"]}:8080/healthz": context deadline exceeded (Client.Timeout exceeded while awaiting headers)',
      type_="Warning", first=t("02:44:31"), last=t("03:03:12"), count=3, component="kubelet", host=N1B,
      field_path="spec.containers{web}")

# ================================================================= namespace: payments
PAY = "payments"
papi_labels = {"app.kubernetes.io/name": "payments-api", "app.kubernetes.io/part-of": "payments"}
papi_spec = pod_spec([container("api", f"{ECR}/payments/payments-api:3.18.0", cpu="500m", mem="768Mi",
                                mem_limit="1Gi", ports=[{"containerPort": 8080, "name": "http", "protocol": "TCP"}],
                                env=[("PSP_ENDPOINT", "https://api.adyen.com"), ("DB_HOST", "payments-db.cluster-c7m2x9q4k1ab.eu-west-1.rds.amazonaws.com")],
                                readiness=http_probe("/ready", "http", timeout=2))],
                     sa="payments-api", priority=100000, priority_class="business-critical")
dep_papi, rs_papi, h_papi, st_papi = deployment(PAY, "payments-api", papi_labels, 2, papi_spec,
                                                created=t("2025-03-11T09:30:44"), revision=31,
                                                progressing_since=t("2026-11-16T13:12:09"))
papi_pods = rs_pods(PAY, rs_papi, h_papi, papi_spec, [(N1A, t("2026-11-18T10:22:46"), t("2026-11-18T10:22:58")),
                                                      (N1B, t("2026-11-18T10:24:07"), t("2026-11-18T10:24:17"))],
                    papi_labels)
finish_deployment(dep_papi, rs_papi, st_papi, t("2026-11-18T10:24:30"), t("2026-11-18T10:24:30"))

sw_labels = {"app.kubernetes.io/name": "settlement-worker", "app.kubernetes.io/part-of": "payments"}
sw_spec = pod_spec([container("worker", f"{ECR}/payments/settlement-worker:1.7.4", cpu="2", mem="2Gi", cpu_limit="2",
                              mem_limit="2Gi", env=[("SETTLEMENT_WINDOW", "T-1"), ("BATCH_SIZE", "5000")])],
                   sa="settlement-worker", priority=100000, priority_class="business-critical", grace=120)
dep_sw, rs_sw, h_sw, st_sw = deployment(PAY, "settlement-worker", sw_labels, 2, sw_spec, created=t("2025-03-11T09:30:44"),
                                        revision=12, status_counts=(1, 1), progressing_since=t("2026-11-04T16:20:18"))
sw_running = rs_pods(PAY, rs_sw, h_sw, sw_spec, [(N1A, t("2026-11-18T10:22:47"), t("2026-11-18T10:22:55"))],
                     sw_labels)[0]
sw_new_name = f"{rs_sw['metadata']['name']}-{suffix()}"
SW_MSG = "0/4 nodes are available: 1 node(s) had untolerated taint {dedicated: reporting}, 3 Insufficient cpu."
sw_new = make_pod(PAY, sw_new_name, {**sw_labels, "pod-template-hash": h_sw}, sw_spec, owner=rs_sw,
                  created=t("03:11:19"), generate_name=rs_sw["metadata"]["name"] + "-",
                  status=pending_status(sw_spec["containers"], SW_MSG, at=t("03:11:20"), nominated=N1C))
finish_deployment(dep_sw, rs_sw, st_sw, t("2026-11-18T10:23:01"), t("2026-11-18T10:23:01"))
dep_sw["status"]["conditions"][1] = {"lastTransitionTime": "2026-11-04T16:21:02Z", "lastUpdateTime": "2026-11-20T03:11:19Z",
                                     "message": f'ReplicaSet "{rs_sw["metadata"]["name"]}" is progressing.',
                                     "reason": "ReplicaSetUpdated", "status": "True", "type": "Progressing"}
put("k8s/payments/workloads.yaml", dep_papi, rs_papi, *papi_pods, dep_sw, rs_sw, sw_running, sw_new,
    service(PAY, "payments-api", papi_labels, [{"name": "http", "port": 8080, "protocol": "TCP", "targetPort": "http"}],
            t("2025-03-11T09:30:44")),
    pdb(PAY, "payments-api", papi_labels, t("2025-03-11T09:30:44"), min_available=1, healthy=2, desired=1,
        expected=2, allowed=1))
dep_obj_sw = dep_sw
event(dep_sw, "ScalingReplicaSet", f"Scaled up replica set {rs_sw['metadata']['name']} from 1 to 2",
      first=t("03:11:19"), component="deployment-controller")
event(rs_sw, "SuccessfulCreate", f"Created pod: {sw_new_name}", first=t("03:11:19"), component="replicaset-controller")
sched_event(sw_new, "FailedScheduling", SW_MSG, first=t("03:11:20"))

# ================================================================= namespace: batch (the preempted pod)
BATCH = "batch"
cb_labels = {"app.kubernetes.io/name": "catalog-backfill", "app.kubernetes.io/part-of": "search"}
cb_spec = pod_spec([container("backfill", f"{ECR}/search/catalog-backfill:0.22.0", cpu="2500m", mem="3Gi",
                              mem_limit="4Gi", env=[("TYPESENSE_URL", "http://typesense.search.svc.cluster.local:8108"),
                                                    ("SOURCE", "s3://demo-prod-catalog-exports/2026-11-19/")])],
                   priority=100, priority_class="batch-low", preemption="Never", grace=120)
dep_cb, rs_cb, h_cb, st_cb = deployment(BATCH, "catalog-backfill", cb_labels, 1, cb_spec, created=t("2026-11-19T21:30:02"),
                                        revision=1, status_counts=(0, 0))
victim_name = f"{rs_cb['metadata']['name']}-{suffix()}"
victim = make_pod(BATCH, victim_name, {**cb_labels, "pod-template-hash": h_cb}, cb_spec, owner=rs_cb, node=N1C,
                  created=t("2026-11-19T21:30:03"), started=t("2026-11-19T21:30:09"),
                  generate_name=rs_cb["metadata"]["name"] + "-",
                  meta_extra={"deletionGracePeriodSeconds": 120, "deletionTimestamp": z(t("03:13:20"))})
victim["status"]["conditions"].insert(0, {"lastProbeTime": None, "lastTransitionTime": z(t("03:11:20")),
                                          "message": "default-scheduler: preempting to accommodate a higher priority pod",
                                          "reason": "PreemptionByScheduler", "status": "True",
                                          "type": "DisruptionTarget"})
repl_name = f"{rs_cb['metadata']['name']}-{suffix()}"
CB_MSG = ("0/4 nodes are available: 1 node(s) had untolerated taint {dedicated: reporting}, 3 Insufficient cpu. "
          "preemption: not eligible due to preemptionPolicy=Never.")
cb_repl = make_pod(BATCH, repl_name, {**cb_labels, "pod-template-hash": h_cb}, cb_spec, owner=rs_cb,
                   created=t("03:11:21"), generate_name=rs_cb["metadata"]["name"] + "-",
                   status=pending_status(cb_spec["containers"], CB_MSG, at=t("03:11:21")))
rs_cb["status"].update({"fullyLabeledReplicas": 2, "replicas": 2, "readyReplicas": 0, "availableReplicas": 0})
finish_deployment(dep_cb, rs_cb, st_cb, t("03:11:21"), t("2026-11-19T21:30:31"), min_available=False)
dep_cb["status"].update({"replicas": 2, "updatedReplicas": 2, "readyReplicas": 0, "availableReplicas": 0,
                         "unavailableReplicas": 2})
put("k8s/batch/workloads.yaml", dep_cb, rs_cb, victim, cb_repl)
sched_event(victim, "Preempted", f"Preempted by pod {sw_new['metadata']['uid']} on node {N1C}", first=t("03:11:20"),
            type_="Normal", action="Preempting",
            related={"apiVersion": "v1", "kind": "Pod", "name": sw_new_name, "namespace": PAY,
                     "uid": sw_new["metadata"]["uid"]})
event(victim, "Killing", "Stopping container backfill", first=t("03:11:20"), component="kubelet", host=N1C,
      field_path="spec.containers{backfill}")
event(rs_cb, "SuccessfulCreate", f"Created pod: {repl_name}", first=t("03:11:21"), component="replicaset-controller")
sched_event(cb_repl, "FailedScheduling", CB_MSG, first=t("03:11:21"))

# ================================================================= namespace: billing (NetworkPolicy blocks DNS)
BILL = "billing"
im_labels = {"app.kubernetes.io/name": "invoice-mailer", "app.kubernetes.io/part-of": "billing", "tier": "worker"}
im_spec = pod_spec([container("mailer", f"{ECR}/billing/invoice-mailer:2.3.0", cpu="100m", mem="192Mi", mem_limit="384Mi",
                              env=[("SMTP_HOST", "email-smtp.eu-west-1.amazonaws.com"), ("SMTP_PORT", "587"),
                                   ("PAYMENTS_API", "http://payments-api.payments.svc.cluster.local:8080"),
                                   ("QUEUE_URL", f"https://sqs.eu-west-1.amazonaws.com/{ACCOUNT}/invoices-outbound")])],
                   sa="invoice-mailer")
dep_im, rs_im, h_im, st_im = deployment(BILL, "invoice-mailer", im_labels, 1, im_spec, created=t("2025-06-23T08:05:51"),
                                        revision=8, progressing_since=t("2026-11-10T12:31:40"))
im_pod = rs_pods(BILL, rs_im, h_im, im_spec, [(N1B, t("2026-11-18T10:24:09"), t("2026-11-18T10:24:14"))], im_labels)[0]
finish_deployment(dep_im, rs_im, st_im, t("2026-11-18T10:24:20"), t("2026-11-18T10:24:20"))
netpols = [
    {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
     "metadata": {"annotations": {"argocd.argoproj.io/tracking-id": "billing:networking.k8s.io/NetworkPolicy:billing/invoice-mailer-egress"},
                  "creationTimestamp": z(t("02:09:30")), "generation": 1, "name": "invoice-mailer-egress",
                  "namespace": BILL, "resourceVersion": rv(), "uid": uid()},
     "spec": {"egress": [{"ports": [{"port": 587, "protocol": "TCP"}, {"port": 443, "protocol": "TCP"}]},
                         {"ports": [{"port": 8080, "protocol": "TCP"}],
                          "to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "payments"}},
                                  "podSelector": {"matchLabels": {"app.kubernetes.io/name": "payments-api"}}}]}],
              "podSelector": {"matchLabels": {"app.kubernetes.io/name": "invoice-mailer"}},
              "policyTypes": ["Egress"]}},
    {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
     "metadata": {"creationTimestamp": "2025-06-23T08:05:51Z", "generation": 1, "name": "default-deny-ingress",
                  "namespace": BILL, "resourceVersion": rv(), "uid": uid()},
     "spec": {"podSelector": {}, "policyTypes": ["Ingress"]}},
]
put("k8s/billing/workloads.yaml", dep_im, rs_im, im_pod, *netpols)

# ================================================================= namespace: search (claim whose walk asks)
SEARCH = "search"
ts_labels = {"app.kubernetes.io/instance": "typesense", "app.kubernetes.io/name": "typesense"}
ts_spec = pod_spec([container("typesense", "docker.io/typesense/typesense:27.1", cpu="500m", mem="2Gi", mem_limit="3Gi",
                              args=["--data-dir=/data", "--api-port=8108", "--peering-port=8107",
                                    "--nodes=/etc/typesense/nodes", "--enable-cors"],
                              ports=[{"containerPort": 8108, "name": "http", "protocol": "TCP"},
                                     {"containerPort": 8107, "name": "peering", "protocol": "TCP"}],
                              readiness=http_probe("/health", "http", timeout=2),
                              mounts=[{"mountPath": "/data", "name": "data"},
                                      {"mountPath": "/etc/typesense", "name": "nodes"}])],
                   volumes=[{"configMap": {"defaultMode": 420, "name": "typesense-nodes"}, "name": "nodes"}],
                   security_context={"fsGroup": 2000, "runAsGroup": 3000, "runAsNonRoot": True, "runAsUser": 10000},
                   extra={"affinity": {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
                       {"labelSelector": {"matchLabels": {"app.kubernetes.io/name": "typesense"}},
                        "topologyKey": "topology.kubernetes.io/zone"}]}}})
sts_ts, rev_ts = statefulset(SEARCH, "typesense", ts_labels, 3, ts_spec,
                             [claim_template("data", "50Gi", "gp3", ts_labels)], t("2025-09-01T14:02:17"), ready=2,
                             service_name="typesense")
sts_ts["status"].update({"availableReplicas": 2, "readyReplicas": 2, "replicas": 3, "currentReplicas": 3,
                         "updatedReplicas": 3})
pvc_ts0 = bound_claim(SEARCH, "data-typesense-0", "50Gi", t("2025-09-01T14:02:17"), N1A, labels=ts_labels)
pvc_ts1 = bound_claim(SEARCH, "data-typesense-1", "50Gi", t("2025-09-01T14:03:02"), N1B, labels=ts_labels)
ts0 = sts_pod(SEARCH, sts_ts, rev_ts, ts_labels, 0, ts_spec, N1A, t("2026-11-18T10:22:48"), t("2026-11-18T10:23:20"),
              [("data", "data-typesense-0")])
ts1 = sts_pod(SEARCH, sts_ts, rev_ts, ts_labels, 1, ts_spec, N1B, t("2026-11-18T10:24:12"), t("2026-11-18T10:24:40"),
              [("data", "data-typesense-1")])
TS2_CREATED = t("00:04:51")
ts2_claim_uid = uid()
pvc_ts2 = {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
           "metadata": {"annotations": {"volume.beta.kubernetes.io/storage-provisioner": "ebs.csi.aws.com",
                                        "volume.kubernetes.io/selected-node": N1C,
                                        "volume.kubernetes.io/storage-provisioner": "ebs.csi.aws.com"},
                        "creationTimestamp": z(TS2_CREATED), "finalizers": ["kubernetes.io/pvc-protection"],
                        "labels": dict(ts_labels), "name": "data-typesense-2", "namespace": SEARCH,
                        "resourceVersion": rv(), "uid": ts2_claim_uid},
           "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "50Gi"}},
                    "storageClassName": "gp3", "volumeMode": "Filesystem"},
           "status": {"phase": "Pending"}}
PVCS.append(pvc_ts2)
TS2_MSG = 'running PreBind plugin "VolumeBinding": binding volumes: context deadline exceeded'
ts2 = sts_pod(SEARCH, sts_ts, rev_ts, ts_labels, 2, ts_spec, None, add_seconds(TS2_CREATED, 0), None,
              [("data", "data-typesense-2")],
              status=pending_status(ts_spec["containers"], TS2_MSG, reason="SchedulerError", at=t("03:05:03")))
put("k8s/search/workloads.yaml", sts_ts, ts0, ts1, ts2,
    service(SEARCH, "typesense", ts_labels, [{"name": "http", "port": 8108, "protocol": "TCP", "targetPort": "http"},
                                             {"name": "peering", "port": 8107, "protocol": "TCP", "targetPort": "peering"}],
            t("2025-09-01T14:02:17"), headless=True),
    {"apiVersion": "v1", "data": {"nodes": "typesense-0.typesense.search.svc.cluster.local:8107:8108,"
                                           "typesense-1.typesense.search.svc.cluster.local:8107:8108,"
                                           "typesense-2.typesense.search.svc.cluster.local:8107:8108\n"},
     "kind": "ConfigMap", "metadata": {"creationTimestamp": "2025-09-01T14:02:17Z", "name": "typesense-nodes",
                                       "namespace": SEARCH, "resourceVersion": rv(), "uid": uid()}})
EXT_PROV_MSG = ("Waiting for a volume to be created either by the external provisioner 'ebs.csi.aws.com' or manually "
                "by the system administrator. If volume creation is delayed, please verify that the provisioner is "
                "running and correctly registered.")
event(pvc_ts2, "ExternalProvisioning", EXT_PROV_MSG, first=add_seconds(TS2_CREATED, 1), last=t("03:09:51"), count=61,
      component="persistentvolume-controller")
sched_event(ts2, "FailedScheduling", TS2_MSG, first=t("00:14:52"), last=t("03:05:03"), count=18)

# ================================================================= namespace: observability (StorageClass not found)
OBS = "observability"
gf_labels = {"app.kubernetes.io/instance": "grafana", "app.kubernetes.io/name": "grafana"}
gf_spec = pod_spec([container("grafana", "docker.io/grafana/grafana:11.4.0", cpu="100m", mem="256Mi", mem_limit="512Mi",
                              ports=[{"containerPort": 3000, "name": "grafana", "protocol": "TCP"}],
                              readiness=http_probe("/api/health", 3000),
                              mounts=[{"mountPath": "/var/lib/grafana", "name": "storage"}])],
                   sa="grafana", volumes=[{"name": "storage", "persistentVolumeClaim": {"claimName": "grafana"}}],
                   security_context={"fsGroup": 472, "runAsGroup": 472, "runAsNonRoot": True, "runAsUser": 472})
dep_gf, rs_gf, h_gf, st_gf = deployment(OBS, "grafana", gf_labels, 1, gf_spec, created=t("2025-04-08T10:12:40"), revision=6,
                                        strategy={"type": "Recreate"}, progressing_since=t("2026-10-29T08:55:03"))
pvc_gf = bound_claim(OBS, "grafana", "10Gi", t("2025-04-08T10:12:40"), N1B, labels=gf_labels)
gf_pod = rs_pods(OBS, rs_gf, h_gf, gf_spec, [(N1B, t("2026-11-18T10:24:10"), t("2026-11-18T10:24:33"))], gf_labels)[0]
finish_deployment(dep_gf, rs_gf, st_gf, t("2026-11-18T10:24:45"), t("2026-11-18T10:24:45"))
LOKI_CREATED = t("02:41:07")
loki_labels = {"app.kubernetes.io/component": "single-binary", "app.kubernetes.io/instance": "loki",
               "app.kubernetes.io/name": "loki"}
loki_spec = pod_spec([container("loki", "docker.io/grafana/loki:3.3.2", cpu="250m", mem="512Mi", mem_limit="2Gi",
                                args=["-config.file=/etc/loki/config/config.yaml", "-target=all"],
                                ports=[{"containerPort": 3100, "name": "http-metrics", "protocol": "TCP"},
                                       {"containerPort": 9095, "name": "grpc", "protocol": "TCP"}],
                                readiness=http_probe("/ready", "http-metrics", initial=30),
                                mounts=[{"mountPath": "/var/loki", "name": "storage"},
                                        {"mountPath": "/etc/loki/config", "name": "config"}])],
                     sa="loki", volumes=[{"configMap": {"defaultMode": 420, "name": "loki"}, "name": "config"}],
                     security_context={"fsGroup": 10001, "runAsGroup": 10001, "runAsNonRoot": True, "runAsUser": 10001},
                     grace=30)
sts_loki, rev_loki = statefulset(OBS, "loki", loki_labels, 1, loki_spec,
                                 [claim_template("storage", "100Gi", "gp3-xfs", loki_labels)], LOKI_CREATED, ready=0,
                                 service_name="loki-headless")
sts_loki["metadata"]["labels"].update({"app.kubernetes.io/managed-by": "Helm", "helm.sh/chart": "loki-6.24.0"})
sts_loki["metadata"]["annotations"] = {"meta.helm.sh/release-name": "loki", "meta.helm.sh/release-namespace": OBS}
loki_claim = {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
              "metadata": {"creationTimestamp": z(LOKI_CREATED), "finalizers": ["kubernetes.io/pvc-protection"],
                           "labels": dict(loki_labels), "name": "storage-loki-0", "namespace": OBS,
                           "resourceVersion": rv(), "uid": uid()},
              "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "100Gi"}},
                       "storageClassName": "gp3-xfs", "volumeMode": "Filesystem"},
              "status": {"phase": "Pending"}}
PVCS.append(loki_claim)
LOKI_MSG = ("0/4 nodes are available: pod has unbound immediate PersistentVolumeClaims. preemption: 0/4 nodes are "
            "available: 4 Preemption is not helpful for scheduling.")
loki_pod = sts_pod(OBS, sts_loki, rev_loki, loki_labels, 0, loki_spec, None, LOKI_CREATED, None,
                   [("storage", "storage-loki-0")],
                   status=pending_status(loki_spec["containers"], LOKI_MSG, at=add_seconds(LOKI_CREATED, 1)))
put("k8s/observability/workloads.yaml", dep_gf, rs_gf, gf_pod, sts_loki, loki_pod,
    service(OBS, "grafana", gf_labels, [{"name": "service", "port": 80, "protocol": "TCP", "targetPort": 3000}],
            t("2025-04-08T10:12:40")),
    service(OBS, "loki", loki_labels, [{"name": "http-metrics", "port": 3100, "protocol": "TCP", "targetPort": "http-metrics"},
                                       {"name": "grpc", "port": 9095, "protocol": "TCP", "targetPort": "grpc"}],
            LOKI_CREATED),
    service(OBS, "loki-headless", loki_labels, [{"name": "http-metrics", "port": 3100, "protocol": "TCP",
                                                 "targetPort": "http-metrics"}], LOKI_CREATED, headless=True),
    {"apiVersion": "v1", "data": {"config.yaml": (
        "auth_enabled: false\ncommon:\n  path_prefix: /var/loki\n  replication_factor: 1\n"
        "  storage:\n    s3:\n      bucketnames: demo-prod-loki-chunks\n      region: eu-west-1\n"
        "schema_config:\n  configs:\n  - from: \"2024-04-01\"\n    index:\n      period: 24h\n      prefix: loki_index_\n"
        "    object_store: s3\n    schema: v13\n    store: tsdb\nserver:\n  http_listen_port: 3100\n")},
     "kind": "ConfigMap", "metadata": {"annotations": {"meta.helm.sh/release-name": "loki",
                                                       "meta.helm.sh/release-namespace": OBS},
                                       "creationTimestamp": z(LOKI_CREATED),
                                       "labels": {"app.kubernetes.io/managed-by": "Helm", **loki_labels},
                                       "name": "loki", "namespace": OBS, "resourceVersion": rv(), "uid": uid()}})
event(sts_loki, "SuccessfulCreate", "create Claim storage-loki-0 Pod loki-0 in StatefulSet loki success",
      first=LOKI_CREATED, component="statefulset-controller")
event(sts_loki, "SuccessfulCreate", "create Pod loki-0 in StatefulSet loki successful", first=LOKI_CREATED,
      component="statefulset-controller")
event(loki_claim, "ProvisioningFailed", 'storageclass.storage.k8s.io "gp3-xfs" not found', type_="Warning",
      first=LOKI_CREATED, last=t("03:11:52"), count=31, component="persistentvolume-controller")
sched_event(loki_pod, "FailedScheduling", LOKI_MSG, first=add_seconds(LOKI_CREATED, 1), last=t("03:06:08"), count=9)

# ================================================================= namespace: reporting (memory pressure)
REP = "reporting"
REP_SEL = {"eks.amazonaws.com/nodegroup": "ng-reporting"}
REP_TOL = [{"effect": "NoSchedule", "key": "dedicated", "operator": "Equal", "value": "reporting"}]
pe_labels = {"app.kubernetes.io/name": "pdf-exporter", "app.kubernetes.io/part-of": "reporting"}
pe_spec = pod_spec([container("exporter", f"{ECR}/reporting/pdf-exporter:4.2.0", cpu="500m", mem="768Mi", mem_limit="3Gi",
                              ports=[{"containerPort": 8080, "name": "http", "protocol": "TCP"}],
                              env=[("CHROMIUM_FLAGS", "--no-sandbox --disable-dev-shm-usage"),
                                   ("MAX_PARALLEL_JOBS", "8"), ("ASSET_BUCKET", "s3://demo-prod-report-assets")],
                              readiness=http_probe("/healthz", "http", timeout=3))],
                   sa="pdf-exporter", node_selector=REP_SEL, tolerations=REP_TOL, grace=60)
dep_pe, rs_pe, h_pe, st_pe = deployment(REP, "pdf-exporter", pe_labels, 2, pe_spec, created=t("2025-10-02T07:44:19"),
                                        revision=19, status_counts=(1, 1), progressing_since=t("2026-11-13T17:26:55"))
cr_labels = {"app.kubernetes.io/name": "chart-render", "app.kubernetes.io/part-of": "reporting"}
cr_spec = pod_spec([container("render", f"{ECR}/reporting/chart-render:1.9.2", cpu="200m", mem="256Mi", mem_limit="1Gi",
                              ports=[{"containerPort": 8090, "name": "http", "protocol": "TCP"}],
                              readiness=http_probe("/healthz", "http"))],
                   node_selector=REP_SEL, tolerations=REP_TOL)
dep_cr, rs_cr, h_cr, st_cr = deployment(REP, "chart-render", cr_labels, 2, cr_spec, created=t("2025-10-02T07:44:19"),
                                        revision=7, status_counts=(1, 1), progressing_since=t("2026-11-05T10:02:37"))
rsch_labels = {"app.kubernetes.io/name": "report-scheduler", "app.kubernetes.io/part-of": "reporting"}
rsch_spec = pod_spec([container("scheduler", f"{ECR}/reporting/report-scheduler:2.0.6", cpu="100m", mem="256Mi",
                                mem_limit="512Mi", env=[("EXPORTER_URL", "http://pdf-exporter.reporting.svc.cluster.local:8080"),
                                                        ("NIGHTLY_RUN", "02:30")])],
                     node_selector=REP_SEL, tolerations=REP_TOL)
dep_rsch, rs_rsch, h_rsch, st_rsch = deployment(REP, "report-scheduler", rsch_labels, 1, rsch_spec,
                                                created=t("2025-10-02T07:44:19"), revision=4,
                                                progressing_since=t("2026-10-21T12:10:09"))


def evicted_pod(rs, h, spec, labels, cname, created, started, at, msg, unknown=False):
    name = f"{rs['metadata']['name']}-{suffix()}"
    p = make_pod(REP, name, {**labels, "pod-template-hash": h}, spec, owner=rs, node=NREP, created=created,
                 started=started, generate_name=rs["metadata"]["name"] + "-")
    st = p["status"]
    c = st["containerStatuses"][0]
    if unknown:
        c["state"] = {"terminated": {"exitCode": 137, "finishedAt": None,
                                     "message": "The container could not be located when the pod was terminated",
                                     "reason": "ContainerStatusUnknown", "startedAt": None}}
    else:
        c["state"] = {"terminated": {"containerID": c["containerID"], "exitCode": 137, "finishedAt": z(add_seconds(at, 1)),
                                     "reason": "Error", "startedAt": c["state"]["running"]["startedAt"]}}
    c["ready"] = False
    c["started"] = False
    conds = {x["type"]: x for x in st["conditions"]}
    conds["PodReadyToStartContainers"].update({"status": "False", "lastTransitionTime": z(add_seconds(at, 2))})
    for k in ("Ready", "ContainersReady"):
        conds[k].update({"status": "False", "lastTransitionTime": z(add_seconds(at, 1)), "reason": "PodFailed"})
    st["conditions"].insert(0, {"lastProbeTime": None, "lastTransitionTime": z(at), "message": msg,
                                "reason": "TerminationByKubelet", "status": "True", "type": "DisruptionTarget"})
    st["phase"] = "Failed"
    st["reason"] = "Evicted"
    st["message"] = msg
    return p


PE_MSG = ("The node was low on resource: memory. Threshold quantity: 100Mi, available: 91236Ki. Container exporter "
          "was using 2871304Ki, request is 768Mi, has larger consumption of memory. ")
CR_MSG = ("The node was low on resource: memory. Threshold quantity: 100Mi, available: 99812Ki. Container render was "
          "using 1048212Ki, request is 256Mi, has larger consumption of memory. ")
EV1, EV2 = t("02:58:14"), t("02:58:27")
pe_evicted = evicted_pod(rs_pe, h_pe, pe_spec, pe_labels, "exporter", t("2026-11-18T10:35:12"), t("2026-11-18T10:35:20"),
                         EV1, PE_MSG)
pe_running = rs_pods(REP, rs_pe, h_pe, pe_spec, [(NREP, t("2026-11-18T10:35:12"), t("2026-11-18T10:35:21"))], pe_labels)[0]
REP_PENDING_MSG = ("0/4 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/memory-pressure: }, "
                   "3 node(s) didn't match Pod's node affinity/selector. preemption: 0/4 nodes are available: "
                   "4 Preemption is not helpful for scheduling.")
pe_repl_name = f"{rs_pe['metadata']['name']}-{suffix()}"
pe_repl = make_pod(REP, pe_repl_name, {**pe_labels, "pod-template-hash": h_pe}, pe_spec, owner=rs_pe,
                   created=add_seconds(EV1, 1), generate_name=rs_pe["metadata"]["name"] + "-",
                   status=pending_status(pe_spec["containers"], REP_PENDING_MSG, at=add_seconds(EV1, 1)))
cr_evicted = evicted_pod(rs_cr, h_cr, cr_spec, cr_labels, "render", t("2026-11-18T10:35:13"), t("2026-11-18T10:35:19"),
                         EV2, CR_MSG, unknown=True)
cr_running = rs_pods(REP, rs_cr, h_cr, cr_spec, [(NREP, t("2026-11-18T10:35:13"), t("2026-11-18T10:35:18"))], cr_labels)[0]
cr_repl_name = f"{rs_cr['metadata']['name']}-{suffix()}"
cr_repl = make_pod(REP, cr_repl_name, {**cr_labels, "pod-template-hash": h_cr}, cr_spec, owner=rs_cr,
                   created=add_seconds(EV2, 1), generate_name=rs_cr["metadata"]["name"] + "-",
                   status=pending_status(cr_spec["containers"], REP_PENDING_MSG, at=add_seconds(EV2, 1)))
rsch_pod = rs_pods(REP, rs_rsch, h_rsch, rsch_spec, [(NREP, t("2026-11-18T10:35:14"), t("2026-11-18T10:35:19"))],
                   rsch_labels)[0]
for dep, rs, name in ((dep_pe, rs_pe, "pdf-exporter"), (dep_cr, rs_cr, "chart-render")):
    finish_deployment(dep, rs, {"availableReplicas": 1, "conditions": [], "observedGeneration": dep["metadata"]["generation"],
                                                            "readyReplicas": 1, "replicas": 2, "unavailableReplicas": 1,
                                                            "updatedReplicas": 2}, t("2026-11-18T10:35:40"),
                      t("2026-11-18T10:35:40"))
finish_deployment(dep_rsch, rs_rsch, st_rsch, t("2026-11-18T10:35:40"), t("2026-11-18T10:35:40"))
put("k8s/reporting/workloads.yaml", dep_pe, rs_pe, pe_evicted, pe_running, pe_repl, dep_cr, rs_cr, cr_evicted,
    cr_running, cr_repl, dep_rsch, rs_rsch, rsch_pod,
    service(REP, "pdf-exporter", pe_labels, [{"name": "http", "port": 8080, "protocol": "TCP", "targetPort": "http"}],
            t("2025-10-02T07:44:19")),
    service(REP, "chart-render", cr_labels, [{"name": "http", "port": 8090, "protocol": "TCP", "targetPort": "http"}],
            t("2025-10-02T07:44:19")))
nrep_obj = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": NREP, "uid": NREP}}
node_io = {"apiVersion": "v1", "kind": "Node", "name": NREP, "uid": NREP}
event(nrep_obj, "NodeHasInsufficientMemory", f"Node {NREP} status is now: NodeHasInsufficientMemory",
      first=t("02:57:51"), component="kubelet", host=NREP, ns="default", involved_override=node_io)
event(nrep_obj, "EvictionThresholdMet", "Attempting to reclaim memory", type_="Warning", first=t("02:57:51"),
      last=t("03:06:40"), count=3, component="kubelet", host=NREP, ns="default", involved_override=node_io)
for p, msg, at, cname, usage in ((pe_evicted, PE_MSG, EV1, "exporter", "2871304Ki"),
                                 (cr_evicted, CR_MSG, EV2, "render", "1048212Ki")):
    event(p, "Evicted", msg, type_="Warning", first=at, component="kubelet", host=NREP,
          annotations={"offending_containers": cname, "offending_containers_usage": usage,
                       "starved_resource": "memory"})
    event(p, "Killing", f"Stopping container {cname}", first=at, component="kubelet", host=NREP,
          field_path=f"spec.containers{{{cname}}}")
event(rs_pe, "SuccessfulCreate", f"Created pod: {pe_repl_name}", first=add_seconds(EV1, 1), component="replicaset-controller")
event(rs_cr, "SuccessfulCreate", f"Created pod: {cr_repl_name}", first=add_seconds(EV2, 1), component="replicaset-controller")
sched_event(pe_repl, "FailedScheduling", REP_PENDING_MSG, first=add_seconds(EV1, 1), last=t("03:08:15"), count=4)
sched_event(cr_repl, "FailedScheduling", REP_PENDING_MSG, first=add_seconds(EV2, 1), last=t("03:08:28"), count=4)

# ================================================================= namespace: ingest (waits for ng-ingest)
ING = "ingest"
sp_labels = {"app.kubernetes.io/name": "stream-parser", "app.kubernetes.io/part-of": "ingest"}
sp_spec = pod_spec([container("parser", f"{ECR}/ingest/stream-parser:0.14.2", cpu="1500m", mem="2Gi", mem_limit="3Gi",
                              env=[("KINESIS_STREAM", "demo-prod-clickstream"), ("CHECKPOINT_TABLE", "stream-parser-checkpoints")])],
                   sa="stream-parser", node_selector={"eks.amazonaws.com/nodegroup": "ng-ingest"})
SP_CREATED = t("02:36:40")
dep_sp, rs_sp, h_sp, st_sp = deployment(ING, "stream-parser", sp_labels, 2, sp_spec, created=SP_CREATED, revision=1,
                                        status_counts=(0, 0))
SP_MSG = ("0/4 nodes are available: 1 node(s) had untolerated taint {dedicated: reporting}, 3 node(s) didn't match "
          "Pod's node affinity/selector. preemption: 0/4 nodes are available: 4 Preemption is not helpful for scheduling.")
sp_pods = []
for i in range(2):
    nm = f"{rs_sp['metadata']['name']}-{suffix()}"
    sp_pods.append(make_pod(ING, nm, {**sp_labels, "pod-template-hash": h_sp}, sp_spec, owner=rs_sp,
                            created=SP_CREATED, generate_name=rs_sp["metadata"]["name"] + "-",
                            status=pending_status(sp_spec["containers"], SP_MSG, at=add_seconds(SP_CREATED, 1))))
finish_deployment(dep_sp, rs_sp, {"conditions": [], "observedGeneration": 1, "replicas": 2, "unavailableReplicas": 2,
                                  "updatedReplicas": 2}, SP_CREATED, SP_CREATED, min_available=False)
dep_sp["status"]["conditions"][1] = {"lastTransitionTime": z(SP_CREATED), "lastUpdateTime": z(SP_CREATED),
                                     "message": f'ReplicaSet "{rs_sp["metadata"]["name"]}" is progressing.',
                                     "reason": "ReplicaSetUpdated", "status": "True", "type": "Progressing"}
rs_sp["status"] = {"fullyLabeledReplicas": 2, "observedGeneration": 1, "replicas": 2}
put("k8s/ingest/workloads.yaml", dep_sp, rs_sp, *sp_pods)
event(dep_sp, "ScalingReplicaSet", f"Scaled up replica set {rs_sp['metadata']['name']} from 0 to 2", first=SP_CREATED,
      component="deployment-controller")
for p in sp_pods:
    event(rs_sp, "SuccessfulCreate", f"Created pod: {p['metadata']['name']}", first=SP_CREATED,
          component="replicaset-controller")
    sched_event(p, "FailedScheduling", SP_MSG, first=add_seconds(SP_CREATED, 1), last=t("03:06:41"), count=7)

# ================================================================= namespaces, service accounts
NS_CREATED = {"default": "2024-05-14T08:46:51Z", "kube-node-lease": "2024-05-14T08:46:51Z",
              "kube-public": "2024-05-14T08:46:51Z", "kube-system": "2024-05-14T08:46:51Z",
              SHOP: "2025-02-03T11:19:58Z", PAY: "2025-03-11T09:30:40Z", BILL: "2025-06-23T08:05:47Z",
              SEARCH: "2025-09-01T14:02:11Z", OBS: "2025-04-08T10:12:31Z", REP: "2025-10-02T07:44:12Z",
              BATCH: "2025-03-11T09:14:20Z", ING: "2026-11-20T02:36:38Z"}
namespaces = []
for ns, created in NS_CREATED.items():
    labels = {"kubernetes.io/metadata.name": ns}
    if ns not in ("default", "kube-node-lease", "kube-public", "kube-system"):
        labels["team"] = {SHOP: "storefront", PAY: "payments", BILL: "payments", SEARCH: "search", OBS: "platform",
                          REP: "insights", BATCH: "search", ING: "data"}[ns]
    namespaces.append({"apiVersion": "v1", "kind": "Namespace",
                       "metadata": {"creationTimestamp": created, "labels": labels, "name": ns,
                                    "resourceVersion": rv(), "uid": uid()},
                       "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}})
write("k8s/cluster/namespaces.json", {"apiVersion": "v1", "kind": "NamespaceList",
                                      "metadata": {"resourceVersion": ""},
                                      "items": [{k: v for k, v in n.items() if k not in ("apiVersion", "kind")}
                                                for n in namespaces]})
app_sas = []
for ns in NS_CREATED:
    if ns == KS:
        continue
    app_sas.append(sa(ns, "default", dt.datetime.fromisoformat(NS_CREATED[ns].rstrip("Z")).replace(tzinfo=UTC)))
for ns, name in ((SHOP, "storefront"), (PAY, "payments-api"), (PAY, "settlement-worker"), (BILL, "invoice-mailer"),
                 (OBS, "grafana"), (OBS, "loki"), (REP, "pdf-exporter"), (ING, "stream-parser")):
    created = dt.datetime.fromisoformat(NS_CREATED[ns].rstrip("Z")).replace(tzinfo=UTC) + dt.timedelta(seconds=5)
    ann = None
    if name in ("pdf-exporter", "loki", "stream-parser", "invoice-mailer"):
        ann = {"eks.amazonaws.com/role-arn": f"arn:aws:iam::{ACCOUNT}:role/demo-prod-{name}"}
    app_sas.append(sa(ns, name, created, ann))
write("k8s/cluster/serviceaccounts.yaml", klist(app_sas))

# ================================================================= endpoints of every Service
def pod_ready(p):
    return any(c["type"] == "Ready" and c["status"] == "True" for c in p["status"].get("conditions", []))


def port_number(p, target):
    if isinstance(target, int):
        return target
    for c in p["spec"]["containers"]:
        for cp in c.get("ports", []):
            if cp.get("name") == target:
                return cp["containerPort"]
    return None


for svc in SERVICES:
    ns, name = svc["metadata"]["namespace"], svc["metadata"]["name"]
    sel = svc["spec"]["selector"]
    headless = svc["spec"]["clusterIP"] == "None"
    members = [p for p in PODS if p["metadata"]["namespace"] == ns and p["status"].get("podIP")
               and p["status"]["phase"] == "Running"
               and all(p["metadata"]["labels"].get(k) == v for k, v in sel.items())]
    members.sort(key=lambda p: p["metadata"]["name"])
    ports = []
    for sp in svc["spec"]["ports"]:
        num = port_number(members[0], sp["targetPort"]) if members else None
        ports.append({"name": sp["name"], "port": num if num is not None else sp["port"], "protocol": sp["protocol"]})
    last_change = max([c["lastTransitionTime"] for p in members for c in p["status"]["conditions"]
                       if c["type"] == "Ready"] or [svc["metadata"]["creationTimestamp"]])
    ready_addr = [p for p in members if pod_ready(p) or (headless and svc["spec"].get("publishNotReadyAddresses"))]
    not_ready = [p for p in members if p not in ready_addr]

    def addr(p):
        a = {"ip": p["status"]["podIP"], "nodeName": p["spec"]["nodeName"],
             "targetRef": {"kind": "Pod", "name": p["metadata"]["name"], "namespace": ns, "uid": p["metadata"]["uid"]}}
        if headless:
            a = {"hostname": p["spec"].get("hostname", p["metadata"]["name"]), **a}
        return a

    subset = {}
    if ready_addr:
        subset["addresses"] = [addr(p) for p in ready_addr]
    if not_ready:
        subset["notReadyAddresses"] = [addr(p) for p in not_ready]
    ep = {"apiVersion": "v1", "kind": "Endpoints",
          "metadata": {"annotations": {"endpoints.kubernetes.io/last-change-trigger-time": last_change},
                       "creationTimestamp": svc["metadata"]["creationTimestamp"],
                       "labels": dict(svc["metadata"]["labels"], **({"service.kubernetes.io/headless": ""} if headless else {})),
                       "name": name, "namespace": ns, "resourceVersion": rv(), "uid": uid()}}
    if subset:
        subset["ports"] = ports
        ep["subsets"] = [subset]
    eps = {"addressType": "IPv4", "apiVersion": "discovery.k8s.io/v1",
           "endpoints": [dict(**({"hostname": p["spec"]["hostname"]} if headless and p["spec"].get("hostname") else {}),
                              addresses=[p["status"]["podIP"]],
                              conditions={"ready": pod_ready(p), "serving": pod_ready(p), "terminating": False},
                              nodeName=p["spec"]["nodeName"],
                              targetRef={"kind": "Pod", "name": p["metadata"]["name"], "namespace": ns,
                                         "uid": p["metadata"]["uid"]},
                              zone=NODE_ZONE[p["spec"]["nodeName"]]) for p in members] or None,
           "kind": "EndpointSlice",
           "metadata": {"annotations": {"endpoints.kubernetes.io/last-change-trigger-time": last_change},
                        "creationTimestamp": svc["metadata"]["creationTimestamp"], "generateName": name + "-",
                        "generation": R.randint(2, 40),
                        "labels": {"endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io",
                                   "kubernetes.io/service-name": name, **svc["metadata"]["labels"],
                                   **({"service.kubernetes.io/headless": ""} if headless else {})},
                        "name": f"{name}-{suffix(5)}", "namespace": ns,
                        "ownerReferences": [{"apiVersion": "v1", "blockOwnerDeletion": True, "controller": True,
                                             "kind": "Service", "name": name, "uid": svc["metadata"]["uid"]}],
                        "resourceVersion": rv(), "uid": uid()},
           "ports": ports if members else None}
    put(f"k8s/{ns}/endpoints.yaml", ep, eps)

# the API server's own Service (no selector: EKS manages its endpoints, the control plane's cross-account ENIs)
API_IPS = ["10.40.52.187", "10.40.118.34"]
svc_k8s = {"apiVersion": "v1", "kind": "Service",
           "metadata": {"creationTimestamp": "2024-05-14T08:46:50Z",
                        "labels": {"component": "apiserver", "provider": "kubernetes"}, "name": "kubernetes",
                        "namespace": "default", "resourceVersion": rv(), "uid": uid()},
           "spec": {"clusterIP": "172.20.0.1", "clusterIPs": ["172.20.0.1"], "internalTrafficPolicy": "Cluster",
                    "ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack",
                    "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 443}],
                    "sessionAffinity": "None", "type": "ClusterIP"},
           "status": {"loadBalancer": {}}}
ep_k8s = {"apiVersion": "v1", "kind": "Endpoints",
          "metadata": {"creationTimestamp": "2024-05-14T08:46:50Z",
                       "labels": {"endpointslice.kubernetes.io/skip-mirror": "true"}, "name": "kubernetes",
                       "namespace": "default", "resourceVersion": rv(), "uid": uid()},
          "subsets": [{"addresses": [{"ip": ip} for ip in API_IPS],
                       "ports": [{"name": "https", "port": 443, "protocol": "TCP"}]}]}
eps_k8s = {"addressType": "IPv4", "apiVersion": "discovery.k8s.io/v1",
           "endpoints": [{"addresses": [ip], "conditions": {"ready": True}} for ip in API_IPS],
           "kind": "EndpointSlice",
           "metadata": {"creationTimestamp": "2024-05-14T08:46:50Z", "generation": 212,
                        "labels": {"kubernetes.io/service-name": "kubernetes"}, "name": "kubernetes",
                        "namespace": "default", "resourceVersion": rv(), "uid": uid()},
           "ports": [{"name": "https", "port": 443, "protocol": "TCP"}]}
put("k8s/default/kubernetes.yaml", svc_k8s, ep_k8s, eps_k8s)

# ================================================================= cluster-scoped files
write("k8s/cluster/nodes.yaml", klist(nodes))
write("k8s/cluster/storage.yaml", klist(storage_classes + [csidriver]))
write("k8s/cluster/persistentvolumes.yaml", klist(PVS))
# claims live with their namespace, as `kubectl get pvc -A -o yaml` prints them
write("k8s/cluster/persistentvolumeclaims.yaml",
      {"apiVersion": "v1", "kind": "PersistentVolumeClaimList", "metadata": {"resourceVersion": ""},
       "items": [{k: v for k, v in c.items() if k not in ("apiVersion", "kind")} for c in
                 sorted(PVCS, key=lambda c: (c["metadata"]["namespace"], c["metadata"]["name"]))]})

for path, items in objs.items():
    write(path, items)

# events: one v1 EventList per namespace (kubectl get events -n NS -o yaml)
for ns, evs in EVENTS.items():
    evs.sort(key=lambda e: e["lastTimestamp"] or e["eventTime"])
    write(f"k8s/events/{ns}.yaml", klist(evs))
# namespaces with no events left (captured, found none)
for ns in NS_CREATED:
    if ns not in EVENTS:
        write(f"k8s/events/{ns}.yaml", {"apiVersion": "v1", "kind": "EventList", "metadata": {"resourceVersion": ""},
                                        "items": []})

# ================================================================= logs
_clock = [0]


def reset_clock():
    _clock[0] = 0


def stamp_ns(d):
    """A monotonic runtime timestamp (ns since epoch) within the second of d, after the previous line's."""
    base = int(d.timestamp()) * 1_000_000_000
    ns = max(base + R.randint(0, 999_999_999), _clock[0] + R.randint(40_000, 2_000_000))
    _clock[0] = ns
    return ns


def fmt_ns(ns):
    sec, frac = divmod(ns, 1_000_000_000)
    return dt.datetime.fromtimestamp(sec, UTC).strftime("%Y-%m-%dT%H:%M:%S") + f".{frac:09d}Z"


def klog_ts(d):
    return fmt_ns(stamp_ns(d))


# CoreDNS: the VPC resolver drops queries (per-ENI 1024 pps limit) since the nightly reporting run started.
UPSTREAM_NAMES = [
    ("s3.eu-west-1.amazonaws.com.", "A"), ("s3.eu-west-1.amazonaws.com.", "AAAA"),
    ("sts.eu-west-1.amazonaws.com.", "A"), ("fonts.googleapis.com.", "A"), ("fonts.gstatic.com.", "AAAA"),
    ("s3.eu-west-1.amazonaws.com.eu-west-1.compute.internal.", "A"),
    ("fonts.googleapis.com.eu-west-1.compute.internal.", "AAAA"),
    ("api.hubapi.com.", "A"), ("email-smtp.eu-west-1.amazonaws.com.", "A"),
    ("sqs.eu-west-1.amazonaws.com.", "A"), ("payments-db.cluster-c7m2x9q4k1ab.eu-west-1.rds.amazonaws.com.", "A"),
    ("api.adyen.com.", "A"), ("kinesis.eu-west-1.amazonaws.com.", "A"),
]
for p in coredns_pods:
    reset_clock()
    start = dt.datetime.fromisoformat(p["status"]["containerStatuses"][0]["state"]["running"]["startedAt"].rstrip("Z")).replace(tzinfo=UTC)
    ip = p["status"]["podIP"]
    lines = [f"{klog_ts(start)} .:53",
             f"{klog_ts(start)} [INFO] plugin/reload: Running configuration SHA512 = 8a3f1c5e9b2d7e4f0a6c8b1d3e5f7a9c2b4d6e8f0a1c3e5b7d9f1a3c5e7b9d0f2a4c6e8b1d3f5a7c9e0b2d4f6a8c1e3b5d7f9a0c2e4b6d8f1a3c5e7b9",
             f"{klog_ts(start)} CoreDNS-1.11.4",
             f"{klog_ts(start)} linux/amd64, go1.23.6, 6e11ebd"]
    # a short, self-healing burst the night before (not in the last hour)
    cur = t("2026-11-19T02:41:10") + dt.timedelta(seconds=R.randint(0, 30))
    for _ in range(3):
        cur += dt.timedelta(seconds=R.randint(5, 40))
        nm, q = R.choice(UPSTREAM_NAMES[:5])
        lines.append(f"{klog_ts(cur)} [ERROR] plugin/errors: 2 {nm} {q}: read udp {ip}:{R.randint(32768, 60999)}->{VPC_RESOLVER}:53: i/o timeout")
    cur = t("02:31:00") + dt.timedelta(seconds=R.randint(0, 50))
    while cur < t("03:11:50"):
        nm, q = R.choice(UPSTREAM_NAMES)
        lines.append(f"{klog_ts(cur)} [ERROR] plugin/errors: 2 {nm} {q}: read udp {ip}:{R.randint(32768, 60999)}->{VPC_RESOLVER}:53: i/o timeout")
        cur += dt.timedelta(seconds=R.randint(25, 95))
    write_text(f"logs/kube-system/{p['metadata']['name']}/coredns.log", "\n".join(lines) + "\n")

# EBS CSI controller: csi-provisioner of the leader and of the follower.
LEASE = "kube-system/ebs-csi-aws-com"


def klog(d, sev, src, msg):
    ns = stamp_ns(d)
    inner = ns - R.randint(30_000, 900_000)  # klog's own clock, a little before the runtime's
    sec, frac = divmod(inner, 1_000_000_000)
    it = dt.datetime.fromtimestamp(sec, UTC)
    return f"{fmt_ns(ns)} {sev}{it.strftime('%m%d %H:%M:%S')}.{frac // 1000:06d}       1 {src}] {msg}"


leader, follower = ebs_ctrl_pods
reset_clock()
ls = dt.datetime.fromisoformat(leader["status"]["containerStatuses"][1]["state"]["running"]["startedAt"].rstrip("Z")).replace(tzinfo=UTC)
ll = [klog(ls, "I", "feature_gate.go:387", "feature gates: {map[Topology:true]}"),
      klog(ls, "I", "csi-provisioner.go:168", "Version: v5.3.0"),
      klog(ls, "I", "csi-provisioner.go:191", "Building kube configs for running in cluster..."),
      klog(add_seconds(ls, 1), "I", "common.go:143", 'Probing CSI driver for readiness'),
      klog(add_seconds(ls, 1), "I", "csi-provisioner.go:305", 'Detected CSI driver ebs.csi.aws.com'),
      klog(add_seconds(ls, 1), "I", "csi-provisioner.go:372", 'CSI driver supports PUBLISH_UNPUBLISH_VOLUME, watching VolumeAttachments'),
      klog(add_seconds(ls, 1), "I", "csi-provisioner.go:590", 'Supports migration from in-tree plugin: kubernetes.io/aws-ebs'),
      klog(add_seconds(ls, 1), "I", "leaderelection.go:257", f'attempting to acquire leader lease {LEASE}...'),
      klog(add_seconds(ls, 17), "I", "leaderelection.go:271", f'successfully acquired lease {LEASE}'),
      klog(add_seconds(ls, 17), "I", "leader_election.go:184", 'became leader, starting'),
      klog(add_seconds(ls, 17), "I", "controller.go:810", 'Starting provisioner controller ebs.csi.aws.com_' + leader["metadata"]["name"] + '_' + uid() + '!'),
      klog(add_seconds(ls, 17), "I", "volume_store.go:98", 'Starting save volume queue'),
      klog(add_seconds(ls, 18), "I", "controller.go:859", 'Started provisioner controller ebs.csi.aws.com_' + leader["metadata"]["name"] + '!')]
# one short-lived scratch claim provisioned fine the evening before
sc_at = t("2026-11-19T17:02:41")
sc_uid = uid()
ll += [klog(sc_at, "I", "controller.go:1366", f'provision "batch/scratch-price-export-29391420-kx8fq" class "gp3": started'),
       klog(sc_at, "I", "event.go:389", f'"Event occurred" object="batch/scratch-price-export-29391420-kx8fq" fieldPath="" kind="PersistentVolumeClaim" apiVersion="v1" type="Normal" reason="Provisioning" message="External provisioner is provisioning volume for claim \\"batch/scratch-price-export-29391420-kx8fq\\""'),
       klog(add_seconds(sc_at, 3), "I", "controller.go:1449", f'provision "batch/scratch-price-export-29391420-kx8fq" class "gp3": volume "pvc-{sc_uid}" provisioned'),
       klog(add_seconds(sc_at, 3), "I", "controller.go:1462", f'provision "batch/scratch-price-export-29391420-kx8fq" class "gp3": succeeded'),
       klog(add_seconds(sc_at, 3), "I", "event.go:389", f'"Event occurred" object="batch/scratch-price-export-29391420-kx8fq" fieldPath="" kind="PersistentVolumeClaim" apiVersion="v1" type="Normal" reason="ProvisioningSucceeded" message="Successfully provisioned volume pvc-{sc_uid}"'),
       klog(t("2026-11-19T17:41:09"), "I", "controller.go:1500", f'delete "pvc-{sc_uid}": started'),
       klog(t("2026-11-19T17:41:11"), "I", "controller.go:1515", f'delete "pvc-{sc_uid}": volume deleted'),
       klog(t("2026-11-19T17:41:11"), "I", "controller.go:1560", f'delete "pvc-{sc_uid}": persistentvolume deleted succeeded'),
       # the API server connection drops during a control-plane scaling event; the watches restart...
       klog(t("2026-11-19T23:58:12"), "W", "reflector.go:484", 'k8s.io/client-go/informers/factory.go:160: watch of *v1.PersistentVolumeClaim ended with: an error on the server ("unable to decode an event from the watch stream: http2: client connection lost") has prevented the request from succeeding'),
       klog(t("2026-11-19T23:58:12"), "W", "reflector.go:484", 'k8s.io/client-go/informers/factory.go:160: watch of *v1.StorageClass ended with: an error on the server ("unable to decode an event from the watch stream: http2: client connection lost") has prevented the request from succeeding'),
       klog(t("2026-11-19T23:58:12"), "W", "reflector.go:484", 'sigs.k8s.io/sig-storage-lib-external-provisioner/v11/controller/controller.go:873: watch of *v1.PersistentVolume ended with: an error on the server ("unable to decode an event from the watch stream: http2: client connection lost") has prevented the request from succeeding'),
       klog(t("2026-11-19T23:58:13"), "I", "leaderelection.go:297", f'failed to renew lease {LEASE}: Put "https://172.20.0.1:443/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/ebs-csi-aws-com?timeout=10s": http2: client connection lost'),
       klog(t("2026-11-19T23:58:19"), "I", "leaderelection.go:271", f'successfully acquired lease {LEASE}'),
       ]
write_text(f"logs/kube-system/{leader['metadata']['name']}/csi-provisioner.log", "\n".join(ll) + "\n")
fs = dt.datetime.fromisoformat(follower["status"]["containerStatuses"][1]["state"]["running"]["startedAt"].rstrip("Z")).replace(tzinfo=UTC)
reset_clock()
fl = [klog(fs, "I", "feature_gate.go:387", "feature gates: {map[Topology:true]}"),
      klog(fs, "I", "csi-provisioner.go:168", "Version: v5.3.0"),
      klog(fs, "I", "csi-provisioner.go:191", "Building kube configs for running in cluster..."),
      klog(add_seconds(fs, 1), "I", "common.go:143", 'Probing CSI driver for readiness'),
      klog(add_seconds(fs, 1), "I", "csi-provisioner.go:305", 'Detected CSI driver ebs.csi.aws.com'),
      klog(add_seconds(fs, 1), "I", "csi-provisioner.go:372", 'CSI driver supports PUBLISH_UNPUBLISH_VOLUME, watching VolumeAttachments'),
      klog(add_seconds(fs, 1), "I", "csi-provisioner.go:590", 'Supports migration from in-tree plugin: kubernetes.io/aws-ebs'),
      klog(add_seconds(fs, 1), "I", "leaderelection.go:257", f'attempting to acquire leader lease {LEASE}...')]
write_text(f"logs/kube-system/{follower['metadata']['name']}/csi-provisioner.log", "\n".join(fl) + "\n")

# invoice-mailer: every lookup times out since the egress policy landed at 02:09:30
ml = []
reset_clock()
im_ip = im_pod["status"]["podIP"]
ms = dt.datetime.fromisoformat(im_pod["status"]["containerStatuses"][0]["state"]["running"]["startedAt"].rstrip("Z")).replace(tzinfo=UTC)


def jl(d, level, msg, **kv):
    ns = stamp_ns(d)
    body = {"level": level, "ts": round(ns / 1e9, 6), "caller": kv.pop("caller", "worker/loop.go:88"), "msg": msg}
    body.update(kv)
    return f"{fmt_ns(ns + R.randint(20_000, 300_000))} {json.dumps(body, separators=(',', ':'))}"


# captured with --tail: the container's start (11-18) is out of the window
cur = t("01:40:00")
while cur < t("02:09:30"):
    ml.append(jl(cur, "info", "batch sent", invoices=R.randint(3, 40), smtp="email-smtp.eu-west-1.amazonaws.com:587"))
    cur += dt.timedelta(seconds=R.randint(240, 320))
cur = t("02:10:04")
targets = ["sqs.eu-west-1.amazonaws.com", "email-smtp.eu-west-1.amazonaws.com",
           "payments-api.payments.svc.cluster.local"]
while cur < t("03:11:30"):
    host = R.choice(targets)
    port = R.randint(32768, 60999)
    ml.append(jl(cur, "error", "request failed", host=host,
                 error=f"dial tcp: lookup {host} on {DNS_IP}:53: read udp {im_ip}:{port}->{DNS_IP}:53: i/o timeout"))
    cur += dt.timedelta(seconds=R.randint(40, 75))
write_text(f"logs/{BILL}/{im_pod['metadata']['name']}/mailer.log", "\n".join(ml) + "\n")

# ================================================================= AWS
OIDC = "7D3E9A1C5B2F8E4D6A0C3B9E1F5D7A2C"
SUBNETS = {"eu-west-1a": "subnet-0e3f4a81c2d95b7a1", "eu-west-1b": "subnet-07d2c9b4e16a8f3d0",
           "eu-west-1c": "subnet-0a65b1f8e4c27d903"}
NEW_SUBNET = "subnet-0f19c7a3b5d2e8064"  # eu-west-1c, added for ng-reporting on 11-19; its route table has no NAT route
cluster = {"cluster": {
    "name": CLUSTER, "arn": f"arn:aws:eks:{REGION}:{ACCOUNT}:cluster/{CLUSTER}",
    "createdAt": "2024-05-14T08:39:27.604000+00:00", "version": "1.31",
    "endpoint": f"https://{OIDC}.gr7.{REGION}.eks.amazonaws.com",
    "roleArn": f"arn:aws:iam::{ACCOUNT}:role/demo-prod-cluster-role",
    "resourcesVpcConfig": {"subnetIds": list(SUBNETS.values()), "securityGroupIds": ["sg-0b4d8e2a6c1f9e357"],
                           "clusterSecurityGroupId": "sg-05e1c9a7d3b8f2460", "vpcId": "vpc-0a9d5e3c71b24f680",
                           "endpointPublicAccess": True, "endpointPrivateAccess": True,
                           "publicAccessCidrs": ["0.0.0.0/0"]},
    "kubernetesNetworkConfig": {"serviceIpv4Cidr": "172.20.0.0/16", "ipFamily": "ipv4",
                                "elasticLoadBalancing": {"enabled": False}},
    "logging": {"clusterLogging": [{"types": ["api", "audit", "authenticator"], "enabled": True},
                                   {"types": ["controllerManager", "scheduler"], "enabled": False}]},
    "identity": {"oidc": {"issuer": f"https://oidc.eks.{REGION}.amazonaws.com/id/{OIDC}"}},
    "status": "ACTIVE",
    "certificateAuthority": {"data": "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSURCVENDQWUyZ0F3SUJBZ0lJUjRrZTlkZW1vMEF3RFFZSktvWklodmNOQVFFTEJRQXdGVEVUTUJFR0ExVUUKQXhNS2EzVmlaWEp1WlhSbGN6QWVGdzB5TkRBMU1UUXdPRE01TWpkYUZ3MHpOREExTVRJd09EUTBNamRhTUJVeApFekFSQmdOVkJBTVRDbXQxWW1WeWJtVjBaWE13Z2dFaU1BMEdDU3FHU0liM0RRRUJBUVVBQTRJQkR3QXdnZ0VLCi0tLS0tRU5EIENFUlRJRklDQVRFLS0tLS0K"},
    "platformVersion": "eks.24", "tags": {"env": "prod", "team": "platform", "managed-by": "terraform"},
    "health": {"issues": []}, "accessConfig": {"authenticationMode": "CONFIG_MAP"},
    "upgradePolicy": {"supportType": "STANDARD"}}}
write("aws/eks/describe-cluster.json", cluster)
write("aws/eks/list-nodegroups.json", {"nodegroups": ["ng-core", "ng-ingest", "ng-reporting"]})


def nodegroup(name, ngid, created, modified, status, itype, desired, mn, mx, role, subnets, issues=(), labels=None,
              taints=()):
    return {"nodegroup": {
        "nodegroupName": name,
        "nodegroupArn": f"arn:aws:eks:{REGION}:{ACCOUNT}:nodegroup/{CLUSTER}/{name}/{ngid}",
        "clusterName": CLUSTER, "version": "1.31", "releaseVersion": "1.31.9-20250623",
        "createdAt": created, "modifiedAt": modified, "status": status, "capacityType": "ON_DEMAND",
        "scalingConfig": {"minSize": mn, "maxSize": mx, "desiredSize": desired},
        "instanceTypes": [itype], "subnets": subnets, "amiType": "AL2023_x86_64_STANDARD",
        "nodeRole": f"arn:aws:iam::{ACCOUNT}:role/{role}", "labels": labels or {}, "taints": list(taints),
        "resources": {"autoScalingGroups": [{"name": f"eks-{name}-{ngid}"}]}, "diskSize": 80,
        "health": {"issues": list(issues)}, "updateConfig": {"maxUnavailable": 1},
        "tags": {"team": "platform", "managed-by": "terraform"}}}


write("aws/eks/describe-nodegroup-ng-core.json",
      nodegroup("ng-core", "4ec7a1d2-9b3f-4e8a-b6c5-2d1f0e9a8b7c", "2024-05-14T08:51:44.902000+00:00",
                "2026-11-18T10:19:31.228000+00:00", "ACTIVE", "m6i.xlarge", 3, 3, 6, "demo-prod-core-node-role",
                list(SUBNETS.values())))
write("aws/eks/describe-nodegroup-ng-reporting.json",
      nodegroup("ng-reporting", "b2d9f4e6-1a7c-4c3b-8e5d-6f0a9c2b4d1e", "2025-10-02T07:31:06.517000+00:00",
                "2026-11-20T01:40:12.331000+00:00", "ACTIVE", "m6i.large", 2, 1, 3, "demo-prod-reporting-node-role",
                [SUBNETS["eu-west-1a"], SUBNETS["eu-west-1b"], NEW_SUBNET],
                issues=[{"code": "NodeCreationFailure", "message": "Instances failed to join the kubernetes cluster",
                         "resourceIds": ["i-05d9e3b7a2c8f4161"]}],
                labels={"workload": "reporting"},
                taints=[{"key": "dedicated", "value": "reporting", "effect": "NO_SCHEDULE"}]))
write("aws/eks/describe-nodegroup-ng-ingest.json",
      nodegroup("ng-ingest", "7a3c5e9b-2d4f-4a6c-9e1b-8f3d5a7c0e2b", "2026-11-20T02:31:18.770000+00:00",
                "2026-11-20T02:53:44.108000+00:00", "CREATE_FAILED", "c6i.xlarge", 2, 2, 6,
                "demo-prod-ingest-node-role", list(SUBNETS.values()),
                issues=[{"code": "NodeCreationFailure", "message": "Instances failed to join the kubernetes cluster",
                         "resourceIds": ["i-0b8c2f6a4d9e17352", "i-07e1a5d3c8b96f240"]}]))
write("aws/eks/list-addons.json", {"addons": ["aws-ebs-csi-driver", "coredns", "kube-proxy", "vpc-cni"]})
for name, ver, role in (("aws-ebs-csi-driver", "v1.45.0-eksbuild.2", "demo-prod-ebs-csi-driver"),
                        ("coredns", "v1.11.4-eksbuild.14", None), ("kube-proxy", "v1.31.9-eksbuild.2", None),
                        ("vpc-cni", "v1.19.5-eksbuild.3", "demo-prod-vpc-cni")):
    a = {"addonName": name, "clusterName": CLUSTER, "status": "ACTIVE", "addonVersion": ver, "health": {"issues": []},
         "addonArn": f"arn:aws:eks:{REGION}:{ACCOUNT}:addon/{CLUSTER}/{name}/{uid()}",
         "createdAt": "2024-05-14T09:02:31.118000+00:00", "modifiedAt": "2026-10-07T15:40:58.402000+00:00",
         "tags": {}}
    if role:
        a["serviceAccountRoleArn"] = f"arn:aws:iam::{ACCOUNT}:role/{role}"
    if name == "vpc-cni":
        a["configurationValues"] = '{"enableNetworkPolicy":"true"}'
    write(f"aws/eks/describe-addon-{name}.json", {"addon": a})
write("aws/eks/list-pod-identity-associations.json", {"associations": []})

# authenticator log (aws logs filter-log-events --log-group-name /aws/eks/demo-prod/cluster
#   --log-stream-name-prefix authenticator- --start-time <6h ago>)
STREAM = "authenticator-5e0c9a3f71d2b84e6a1c3f5d7b9e0a2c"
auth_events = []


def auth_line(d, granted, role, node=None):
    port = R.randint(32768, 60999)
    if granted:
        msg = (f'time="{z(d)}" level=info msg="access granted" arn="arn:aws:iam::{ACCOUNT}:role/{role}" '
               f'client="127.0.0.1:{port}" groups="[system:bootstrappers system:nodes]" method=POST path=/authenticate '
               f'uid="aws-iam-authenticator:{ACCOUNT}:AROA{hexs(17).upper()}" username="system:node:{node}"')
    else:
        msg = (f'time="{z(d)}" level=warning msg="access denied" arn="arn:aws:iam::{ACCOUNT}:role/{role}" '
               f'client="127.0.0.1:{port}" error="ARN is not mapped" method=POST path=/authenticate '
               f'sts=sts.{REGION}.amazonaws.com')
    ms = int(d.timestamp() * 1000)
    auth_events.append({"logStreamName": STREAM, "timestamp": ms, "message": msg,
                        "ingestionTime": ms + R.randint(800, 2600), "eventId": str(ms) + "".join(R.choice("0123456789") for _ in range(43))})


for inst_start in (t("02:34:02"), t("02:34:19")):
    cur = inst_start
    while cur < t("03:11:45"):
        auth_line(cur, False, "demo-prod-ingest-node-role")
        cur += dt.timedelta(seconds=R.randint(140, 165))
cur = t("2026-11-19T21:14:37")
granted_nodes = [(n["name"], "demo-prod-core-node-role" if n["ng"] == "ng-core" else "demo-prod-reporting-node-role")
                 for n in NODES.values()]
while cur < NOW:
    node, role = R.choice(granted_nodes)
    auth_line(cur, True, role, node)
    cur += dt.timedelta(seconds=R.randint(900, 1800))
auth_events.sort(key=lambda e: e["timestamp"])
write("aws/logs/authenticator.json", {"logGroupName": f"/aws/eks/{CLUSTER}/cluster", "events": auth_events,
                                      "searchedLogStreams": []})

# ================================================================= manifest
write_text("snapshot.yaml", f"""kind: ktriage-snapshot
version: 1
# ktriage's built-in demo cluster (`ktriage demo`): a made-up EKS cluster, not a capture of a real one.
capturedAt: '{z(NOW)}'
context: arn:aws:eks:{REGION}:{ACCOUNT}:cluster/{CLUSTER}
cluster:
  name: {CLUSTER}
  region: {REGION}
source: ktriage demo cluster
""")

# ================================================================= sanity: CPU requests per node
def cpu_m(q):
    return int(q[:-1]) if q.endswith("m") else int(float(q) * 1000)


for n in NODES.values():
    total = 0
    for p in PODS:
        if p["spec"].get("nodeName") != n["name"] or p["status"]["phase"] in ("Failed", "Succeeded"):
            continue
        total += sum(cpu_m(c["resources"].get("requests", {}).get("cpu", "0m")) for c in p["spec"]["containers"])
    alloc = cpu_m(n["typ"]["cpu_alloc"])
    print(f"{n['name']}: cpu requests {total}m of {alloc}m (free {alloc - total}m)", file=sys.stderr)
print(f"pods: {len(PODS)}", file=sys.stderr)
