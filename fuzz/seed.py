#!/usr/bin/env python3
"""Writes the seed corpus of each fuzz target (fuzz/corpus/TARGET/) from the project's
own fixtures and runbooks, plus hand-written hostile inputs for each class of defect
found so far. Run from anywhere; it only adds files. `cargo fuzz cmin TARGET` shrinks a
corpus grown by fuzzing back to the inputs that add coverage."""
import hashlib, io, json, os, pathlib, re, tarfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
CORPUS = ROOT / "fuzz" / "corpus"
PLACES = [  # the order of SNAPSHOT_PLACES in src/fuzz.rs
    "k8s/objects.yaml", "k8s/objects.json", "k8s/shop/pods.yaml",
    "logs/shop/web-1/web.log", "logs/shop/web-1/web.previous.log",
    "aws/eks/describe-cluster.json", "aws/eks/list-nodegroups.json",
    "aws/logs/filter-log-events.json", "snapshot.yaml",
]
LIMIT = 16 * 1024


def put(target, data, name=None):
    if isinstance(data, str):
        data = data.encode()
    d = CORPUS / target
    d.mkdir(parents=True, exist_ok=True)
    (d / (name or hashlib.sha1(data).hexdigest()[:16])).write_bytes(data)


def fixtures():
    return sorted(p for p in (ROOT / "tests" / "fixtures").iterdir() if p.is_dir())


def snapshot_seeds():
    # A few of each place and suffix: the fixtures repeat shapes, the fuzzer does the rest.
    seen = {}
    for fx in fixtures():
        for f in sorted(fx.rglob("*")):
            if not f.is_file() or f.stat().st_size > LIMIT:
                continue
            rel = f.relative_to(fx).as_posix()
            if rel.startswith("k8s/"):
                place = 1 if rel.endswith(".json") else 0
            elif rel.startswith("logs/"):
                place = 4 if rel.endswith(".previous.log") else 3
            elif rel.startswith("aws/eks/"):
                place = 6 if "nodegroup" in rel and "list" in rel else 5
            elif rel.startswith("aws/logs/"):
                place = 7
            elif rel == "snapshot.yaml":
                place = 8
            else:
                continue
            kind = (place, f.suffix)
            if seen.get(kind, 0) >= 8:
                continue
            seen[kind] = seen.get(kind, 0) + 1
            put("snapshot", bytes([place]) + f.read_bytes())
    hostile = [
        b"\x00apiVersion: v1\nkind: Pod\nmetadata: {name: \"\\e]52;c;aGk=\\a\", namespace: shop}\n",
        b"\x00a: &a [*a, *a]\nb: &b [*a, *a, *a, *a]\nc: [*b, *b, *b, *b, *b, *b]\n",
        b"\x01" + b"[" * 5000 + b"]" * 5000,
        b"\x00---\n---\n--- !!binary\n...\n",
        b"\x03not a timestamp \x1b[2J\n2026-11-20T03:12:44Z ok\n",
    ]
    for h in hostile:
        put("snapshot", h)


def archive_seeds():
    for fx in fixtures()[:4]:
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w:gz") as tar:
            for f in sorted(fx.rglob("*")):
                if f.is_file() and f.stat().st_size <= LIMIT:
                    tar.add(f, arcname=f"{fx.name}/{f.relative_to(fx).as_posix()}")
        put("archive", buf.getvalue(), f"{fx.name}.tar.gz")

    def tar_of(entries, gz=True):
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w:gz" if gz else "w") as tar:
            for name, kind, body in entries:
                info = tarfile.TarInfo(name)
                if kind == "sym":
                    info.type, info.linkname = tarfile.SYMTYPE, body
                    tar.addfile(info)
                elif kind == "hard":
                    info.type, info.linkname = tarfile.LNKTYPE, body
                    tar.addfile(info)
                else:
                    data = body.encode() if isinstance(body, str) else body
                    info.size = len(data)
                    tar.addfile(info, io.BytesIO(data))
        return buf.getvalue()

    pod = json.dumps({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web-1", "namespace": "shop"}})
    put("archive", tar_of([("k8s/pod.json", "f", pod)], gz=False), "plain.tar")
    put("archive", tar_of([("../escape/k8s/pod.json", "f", pod)]), "dotdot.tar.gz")
    put("archive", tar_of([("/etc/k8s/pod.json", "f", pod)]), "absolute.tar.gz")
    put("archive", tar_of([("k8s/link.json", "sym", "/etc/passwd")]), "symlink-out.tar.gz")
    put("archive", tar_of([("k8s/hard.json", "hard", "../../etc/shadow")]), "hardlink-out.tar.gz")
    put("archive", tar_of([("k8s/\x1b]52;c;aGk=\x07\n.json", "f", pod)]), "escape-name.tar.gz")
    put("archive", tar_of([("k8s/zeros.yaml", "f", b"\0" * 200_000)]), "zeros.tar.gz")


def runbook_seeds():
    for f in sorted((ROOT / "runbooks").glob("*.yaml")):
        if not f.name.endswith(".tests.yaml"):
            put("runbook", f.read_bytes(), f.name)
    put("runbook", "id: x\ntitle: \"\\e[2J\"\nsteps: &s [*s]\n")
    put("runbook", "id: " + "[" * 3000 + "\n")


CEL = [
    "object.metadata.name",
    "object.status.conditions.exists(c, c.type == 'Ready' && c.status == 'True')",
    "object.spec.containers.map(c, c.name).join(', ')",
    "size(object.items.filter(p, p.status.phase == 'Pending')) > 0",
    "age(object) > duration('10m')",
    "has(object.spec.nodeName) ? object.spec.nodeName : 'none'",
    "'%s has %d'.format([object.metadata.name, 3])",
    "'%.999999999f'.format([1.0])",
    "lists.range(999999999999)",
    "lists.range(-1)",
    "[1,2,3].map(x, [x, x, x, x].map(y, [y, y, y, y].map(z, [z, z, z, z])))",
    "parseYaml(object.data.mapRoles).map(r, r.rolearn)",
    "'a'.repeat(1000000000)" if False else "string(1) + string(2)",
    "selects(object.spec.selector, {'app': 'web'})",
    "typeName(parseYaml('a: [1, 2]'))",
    "timestamp('2026-11-20T03:12:44Z') - duration('1h')",
    "(" * 200 + "1" + ")" * 200,
    "-" * 500 + "1",
    "!" * 500 + "true",
    "1" + " + 1" * 2000,
]
OBJECTS = [
    {"metadata": {"name": "web-1", "namespace": "shop", "creationTimestamp": "2026-11-20T02:00:00Z"},
     "spec": {"nodeName": "ip-10-0-1-10.ec2.internal", "containers": [{"name": "web"}], "selector": {"matchLabels": {"app": "web"}}},
     "status": {"phase": "Pending", "conditions": [{"type": "Ready", "status": "False"}]},
     "items": [{"status": {"phase": "Pending"}}],
     "data": {"mapRoles": "- rolearn: arn:aws:iam::111122223333:role/node\n  username: system:node:{{EC2PrivateDNSName}}\n  groups: [system:bootstrappers, system:nodes]\n"}},
    {"data": {"mapRoles": "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c]\n"}},
]


def cel_seeds():
    for i, expr in enumerate(CEL):
        put("cel", expr.encode() + b"\0" + json.dumps(OBJECTS[i % len(OBJECTS)]).encode())
    # Expressions as the runbooks write them.
    for f in sorted((ROOT / "runbooks").glob("*.yaml")):
        for m in re.finditer(r"^\s*(?:when|value|expr|if|count|where|select|fact|cel):\s*(.+)$", f.read_text(), re.M):
            expr = m.group(1).strip().strip("'\"")
            if 4 < len(expr) < 400:
                put("cel", expr.encode() + b"\0" + json.dumps(OBJECTS[0]).encode())


REQUESTS = [
    "/version", "/api", "/apis", "/api/v1", "/apis/apps/v1", "/openapi/v2",
    "/api/v1/pods?limit=500", "/api/v1/namespaces/shop/pods/web-1",
    "/api/v1/namespaces/shop/pods?labelSelector=app%3Dweb%2Ctier+in+%28front%2Cback%29&limit=500&continue=eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJyIjo1MDB9",
    "/api/v1/namespaces/shop/events?fieldSelector=involvedObject.name%3Dweb-1%2CinvolvedObject.kind%3DPod",
    "/api/v1/namespaces/shop/pods/web-1/log?container=web&tailLines=100&previous=true&timestamps=true",
    "/apis/apps/v1/namespaces/shop/deployments?watch=true&timeoutSeconds=300&resourceVersion=0",
    "/api/v1/nodes?fieldSelector=spec.unschedulable!%3Dtrue&labelSelector=!node-role.kubernetes.io%2Fcontrol-plane",
    "/apis/storage.k8s.io/v1/storageclasses/gp3",
    "/api/v1/namespaces/%2e%2e/pods/%2F%00?labelSelector=%ZZ&&&=",
    "/api/v1/pods?labelSelector=" + "a," * 2000,
    "/api/v1/pods?fieldSelector=" + "a%3Db%2C" * 1000,
]


def request_seeds():
    for r in REQUESTS:
        put("request", r)


REDACT = [
    "2026-11-20T03:12:44Z GET /api Authorization: Bearer eyJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQifQ.c2lnbmF0dXJl\n",
    "aws_access_key_id=AKIAIOSFODNN7EXAMPLE aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n",
    "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA1234567890abcdef\nQUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=\n-----END RSA PRIVATE KEY-----\n",
    "url=postgres://app:s3cr3t-pass@db.internal:5432/shop password=hunter2\n",
    json.dumps({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web-1", "annotations": {"kubectl.kubernetes.io/last-applied-configuration": json.dumps({"kind": "Secret", "data": {"password": "aHVudGVyMg=="}})}},
                "spec": {"containers": [{"name": "web", "image": "nginx@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                                         "env": [{"name": "DB_PASSWORD", "value": "hunter2"}, {"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "s", "key": "t"}}}],
                                         "args": ["--token=ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789"]}]}}),
    json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "app"}, "data": {"sa.json": json.dumps({"type": "service_account", "private_key": "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n"}), "slack": "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"}}),
    "\x1b]52;c;aGk=\x07 \u202e txt.exe \x85 \r\n",
]


def redact_seeds():
    for r in REDACT:
        put("redact", r)


if __name__ == "__main__":
    snapshot_seeds(); archive_seeds(); runbook_seeds(); cel_seeds(); request_seeds(); redact_seeds()
    for t in sorted(CORPUS.iterdir()):
        print(t.name, len(list(t.iterdir())))
