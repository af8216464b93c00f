//! Evidence bundles end to end: every runbook case is walked into a bundle, the bundle
//! verifies, reopens to the same walk, reads as a postmortem, and a flipped byte fails
//! verification; planted secrets never reach the archive.

use crate::common::secrets::reveals;
use crate::common::{Case, cases, copy_dir, ktriage, root};
use ktriage::runbook::Catalog;
use serde_json::Value;
use std::io::Read;
use std::path::{Path, PathBuf};

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// Status, code and path (step, outcome, next) of a `run --output json` record.
fn verdict(stdout: &str, what: &str) -> Value {
    let record: Value = serde_json::from_str(stdout)
        .unwrap_or_else(|e| panic!("{what}: no record ({e}): {stdout}"));
    let path: Vec<Value> = record["path"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| serde_json::json!([s["runbook"], s["step"], s["outcome"], s["next"]]))
        .collect();
    serde_json::json!({
        "status": record["status"],
        "code": record["conclusion"]["code"],
        "summary": record["conclusion"]["summary"],
        "path": path,
    })
}

/// Every file of a bundle, by its path under the top folder.
fn extract(bundle: &Path) -> (String, Vec<(String, Vec<u8>)>) {
    let file = std::fs::File::open(bundle).unwrap();
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
    let mut top = String::new();
    let mut files = Vec::new();
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let path = entry.path().unwrap().to_string_lossy().to_string();
        let (first, rest) = path.split_once('/').unwrap_or((&path, ""));
        top = first.to_string();
        if entry.header().entry_type().is_file() {
            let mut bytes = Vec::new();
            entry.read_to_end(&mut bytes).unwrap();
            files.push((rest.to_string(), bytes));
        }
    }
    (top, files)
}

fn run_args(case: &Case, snapshot: &Path) -> Vec<String> {
    let mut args = strings(&["run", &case.runbook, "--output", "json", "--snapshot"]);
    args.push(snapshot.display().to_string());
    args.extend(case.flags());
    args
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_case_reopens_from_its_bundle_to_the_same_walk() {
    let catalog = Catalog::load(&[]);
    let scratch = tempfile::tempdir().unwrap();
    let mut checked = 0;
    for (i, case) in cases().iter().enumerate() {
        let what = format!("{} / {}", case.runbook, case.name);
        let bundle = scratch.path().join(format!("{i}.tar.gz"));
        let mut args = strings(&["bundle", "--snapshot"]);
        args.push(case.snapshot.display().to_string());
        args.extend(strings(&["--run", &case.runbook]));
        args.extend(case.flags());
        args.extend(strings(&["-o", &bundle.display().to_string()]));
        let (code, out, err) = ktriage(&catalog, &args).await;
        assert!(
            bundle.exists(),
            "{what}: no bundle (exit {code}): {out}{err}"
        );
        assert!(out.contains("ktriage bundle verify"), "{what}: {out}");

        let (_, original, _) = ktriage(&catalog, &run_args(case, &case.snapshot)).await;
        let (_, reopened, err) = ktriage(&catalog, &run_args(case, &bundle)).await;
        assert_eq!(
            verdict(&reopened, &what),
            verdict(&original, &what),
            "{what}: the walk over the bundle differs ({err})"
        );

        let (code, out, err) = ktriage(
            &catalog,
            &strings(&["bundle", "verify", &bundle.display().to_string()]),
        )
        .await;
        assert_eq!(code, 0, "{what}: verify: {out}{err}");
        checked += 1;
    }
    assert!(checked >= 90, "only {checked} cases");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bundle_reads_as_a_postmortem_and_a_flipped_byte_fails_verification() {
    let catalog = Catalog::load(&[]);
    let scratch = tempfile::tempdir().unwrap();
    let bundle = scratch.path().join("b.tar.gz");
    let fixture = root().join("tests/fixtures/pvc-storageclass-not-found");
    let mut args = strings(&["bundle", "--snapshot"]);
    args.push(fixture.display().to_string());
    let target = cases()
        .into_iter()
        .find(|c| c.snapshot.ends_with("pvc-storageclass-not-found"))
        .and_then(|c| c.target)
        .expect("a pvc-storageclass-not-found case");
    args.extend(strings(&[
        "--run",
        "pvc-pending",
        "--target",
        &target,
        "--run",
        "dns-timeouts",
        "-o",
        &bundle.display().to_string(),
    ]));
    let (code, out, err) = ktriage(&catalog, &args).await;
    assert_eq!(code, 3, "a critical finding: {out}{err}");

    let (top, files) = extract(&bundle);
    assert!(top.starts_with("ktriage-"), "{top}");
    let names: Vec<&str> = files.iter().map(|(p, _)| p.as_str()).collect();
    for expected in [
        "snapshot.yaml",
        "manifest.json",
        "report.md",
        "notes.md",
        "errors.json",
        "redactions.json",
        "walks/1-pvc-pending.json",
        "walks/2-dns-timeouts.json",
        "runbooks/pvc-pending.yaml",
    ] {
        assert!(names.contains(&expected), "{expected} missing: {names:?}");
    }
    assert!(names.iter().any(|n| n.starts_with("k8s/")), "{names:?}");
    let file = |name: &str| {
        String::from_utf8(
            files
                .iter()
                .find(|(p, _)| p == name)
                .map(|(_, b)| b.clone())
                .unwrap(),
        )
        .unwrap()
    };
    let report = file("report.md");
    for part in [
        "## Findings",
        "## Timeline (UTC)",
        "PVC_STORAGECLASS_NOT_FOUND",
        "#### Evidence",
        "#### What to do",
        "## Still unknown",
        "## Collection problems",
    ] {
        assert!(report.contains(part), "report.md lacks {part}:\n{report}");
    }
    let manifest: Value = serde_json::from_str(&file("manifest.json")).unwrap();
    assert_eq!(manifest["schemaVersion"], 1);
    assert!(manifest["files"]["report.md"].as_str().unwrap().len() == 64);
    assert!(manifest["runbooks"]["pvc-pending"].is_string());
    let walk: Value = serde_json::from_str(&file("walks/1-pvc-pending.json")).unwrap();
    assert_eq!(walk["runbookSha256"], manifest["runbooks"]["pvc-pending"]);

    // The same bundle, served: kubectl-shaped data back out of it.
    let (code, _, err) = ktriage(
        &catalog,
        &strings(&["triage", "--snapshot", &bundle.display().to_string()]),
    )
    .await;
    assert_ne!(code, 1, "triage over the bundle: {err}");

    let mut bytes = std::fs::read(&bundle).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    let flipped: PathBuf = scratch.path().join("flipped.tar.gz");
    std::fs::write(&flipped, &bytes).unwrap();
    let (code, out, err) = ktriage(
        &catalog,
        &strings(&["bundle", "verify", &flipped.display().to_string()]),
    )
    .await;
    assert_ne!(code, 0, "a flipped byte must fail: {out}");
    assert!(!err.is_empty());
}

/// Everything of the corpus goes into one bundle — every object of every kind, every log,
/// every AWS response — so each planted secret meets the redactor on the way to the
/// archive; then the archive's bytes are searched for every one of them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_planted_secret_reaches_the_archive() {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use ktriage::drive::collect;
    use ktriage::evidence::casefile::Note;
    use ktriage::evidence::{archive, bundle, redact};
    use ktriage::facts::Source;
    use ktriage::facts::{EksQuery, FactQuery, LogEventsQuery};
    use ktriage::source::snapshot::Snapshot;

    let corpus = root().join("tests/fixtures/redaction-corpus");
    let planted: Vec<String> = std::fs::read_to_string(corpus.join("PLANTED.txt"))
        .unwrap()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect();
    assert!(planted.len() >= 10, "{planted:?}");
    let snapshot = Snapshot::open(&corpus).unwrap();
    let mut collected = collect::Collected::default();
    for kind in snapshot.kinds() {
        let q = FactQuery::List {
            resource: kind.clone(),
            namespace: None,
            label_selector: None,
            field_selector: None,
            fields: None,
        };
        let items = snapshot.fetch(&q).await.unwrap();
        collected.lists.insert(
            collect::Capture {
                kind,
                namespace: None,
            },
            items.as_array().unwrap().clone(),
        );
    }
    for entry in walk_files(&corpus.join("logs")) {
        let rel = entry.strip_prefix(corpus.join("logs")).unwrap();
        let parts: Vec<String> = rel
            .iter()
            .map(|p| p.to_string_lossy().to_string())
            .collect();
        let container = parts[2].trim_end_matches(".log");
        let (container, previous) = match container.strip_suffix(".previous") {
            Some(c) => (c.to_string(), true),
            None => (container.to_string(), false),
        };
        let q = FactQuery::Logs {
            namespace: parts[0].clone(),
            pod: parts[1].clone(),
            container: container.clone(),
            previous,
            tail_lines: None,
        };
        let text = snapshot.fetch(&q).await.unwrap();
        collected.logs.insert(
            collect::LogRef {
                namespace: parts[0].clone(),
                pod: parts[1].clone(),
                container,
                previous,
            },
            text.as_str().unwrap().to_string(),
        );
    }
    for entry in walk_files(&corpus.join("aws")) {
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&entry).unwrap()).unwrap();
        if let Some(group) = v["logGroupName"].as_str() {
            let events = snapshot
                .fetch(&FactQuery::LogEvents(LogEventsQuery {
                    log_group: group.into(),
                    stream_prefix: None,
                    contains: None,
                    start_ms: None,
                    limit: None,
                }))
                .await
                .unwrap();
            collected
                .log_events
                .insert(group.into(), events.as_array().unwrap().clone());
        } else if let Some(name) = v["addon"]["addonName"].as_str() {
            let q = EksQuery::DescribeAddon { name: name.into() };
            let answer = snapshot.fetch(&FactQuery::Eks(q.clone())).await.unwrap();
            collected.eks.insert(q, answer);
        }
    }
    // A collection problem quotes the request that failed.
    collected.errors.push(collect::CollectError {
        what: "kubectl get --raw /apis/metrics.k8s.io/v1beta1/pods".into(),
        kind: "transient".into(),
        reason: format!("GET https://metrics.example.com/pods failed: 503; request had Authorization: Bearer {ERROR_TOKEN}"),
        hint: "retry later".into(),
        event_capture: None,
    });
    // Every planted secret is somewhere in what goes in, in some form.
    let everything = serde_json::to_string(&serde_json::json!({
        "lists": collected.lists.values().collect::<Vec<_>>(),
        "logs": collected.logs.values().collect::<Vec<_>>(),
        "eks": collected.eks.values().collect::<Vec<_>>(),
        "events": collected.log_events,
    }))
    .unwrap();
    let missing: Vec<&String> = planted
        .iter()
        .filter(|p| !reveals(&everything, p))
        .collect();
    assert!(missing.is_empty(), "planted but not collected: {missing:?}");

    let rules = redact::RuleSet::builtin();
    let redactor = redact::Redactor::new(&rules, redact::Profile::default());
    let now = snapshot.info().now;
    let files = bundle::files(bundle::Input {
        info: snapshot.info(),
        catalog: &Catalog::load(&[]),
        walks: &[],
        notes: &[
            Note {
                at: now,
                text: "pasted by mistake: AKIA2E0A8F3B5C7D9E1F".into(),
                walk: None,
                context: "home".into(),
            },
            Note {
                at: now,
                text: format!(
                    "the pull secret decodes to {}",
                    STANDARD.encode(format!(
                        "{{\"auths\":{{\"ghcr.io\":{{\"auth\":\"{}\"}}}}}}",
                        base64::engine::general_purpose::STANDARD
                            .encode(format!("bot:{NOTE_PASSWORD}"))
                    ))
                ),
                walk: Some(("pvc-pending".into(), Some("shop/data-0".into()))),
                context: "pvc-pending · shop/data-0".into(),
            },
        ],
        collected,
        now,
        started: now,
        finished: now,
        redactor: &redactor,
    });
    let scratch = tempfile::tempdir().unwrap();
    let path = scratch.path().join("corpus.tar.gz");
    archive::write(
        &path,
        &files.top,
        &files.files,
        0,
        &std::sync::atomic::AtomicBool::new(false),
    )
    .unwrap();
    archive::verify(&path).unwrap();
    let (_, extracted) = extract(&path);
    let planted: Vec<String> = planted
        .into_iter()
        .chain([ERROR_TOKEN.to_string(), NOTE_PASSWORD.to_string()])
        .collect();
    for (file, bytes) in &extracted {
        let text = String::from_utf8_lossy(bytes);
        for secret in &planted {
            assert!(
                !reveals(&text, secret),
                "{file} still holds a planted secret, raw, escaped or encoded ({} chars, starting {:?})",
                secret.len(),
                secret.chars().take(4).collect::<String>()
            );
        }
    }
    // Evidence that looks like secrets to a careless rule is still there.
    let pods = String::from_utf8_lossy(
        &extracted
            .iter()
            .find(|(p, _)| p == "k8s/_all/Pod.json")
            .unwrap()
            .1,
    )
    .into_owned();
    for kept in [
        "registry.acme.io/billing@sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        "\"uid\": \"9e1a3c5e-7f2b-4d6a-8c0e-2f4a6c8e0b1d\"",
        "\"--listen\"",
    ] {
        assert!(pods.contains(kept), "{kept} was redacted");
    }
    let redactions: Value = serde_json::from_slice(
        &extracted
            .iter()
            .find(|(p, _)| p == "redactions.json")
            .unwrap()
            .1,
    )
    .unwrap();
    let entries = redactions["redactions"].as_array().unwrap();
    let fired: std::collections::BTreeSet<&str> =
        entries.iter().filter_map(|r| r["rule"].as_str()).collect();
    for rule in [
        "aws-access-key",
        "aws-secret-key",
        "jwt",
        "eks-token",
        "pem-private-key",
        "authorization-header",
        "url-credentials",
        "last-applied-configuration",
        "github-token",
        "gitlab-token",
        "slack-token",
        "slack-webhook",
        "stripe-key",
        "npm-token",
        "gcp-api-key",
        "docker-auth",
        "env-literal",
        "flag-value",
        "connection-string-password",
        "base64-encoded",
    ] {
        assert!(fired.contains(rule), "{rule} never fired: {fired:?}");
    }
    for file in [
        "notes.md",
        "report.md",
        "errors.json",
        "k8s/_all/ConfigMap.json",
        "aws/logs/aws_eks_prod-eu_cluster.json",
        "aws/logs/aws_containerinsights_prod-eu_application.json",
    ] {
        assert!(
            entries.iter().any(|r| r["file"] == file),
            "no redaction recorded in {file}: {entries:#?}"
        );
    }
}

/// Planted beside the corpus: in a collection problem, and in a note (base64 twice over).
const ERROR_TOKEN: &str = "Err0r-Quoted-Bearer-T0ken";
const NOTE_PASSWORD: &str = "N0te-Pasted-Pa55";

/// A real walk quotes what it saw: the event message it concludes on goes into the walk
/// record, the postmortem report and the captured events. Secrets in that message, in every
/// form, stay out of every file of the bundle and out of what the command prints.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_a_walk_quotes_stay_out_of_its_records_and_report() {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    let catalog = Catalog::load(&[]);
    let scratch = tempfile::tempdir().unwrap();
    let snap = scratch.path().join("snap");
    copy_dir(
        &root().join("tests/fixtures/examples/pvc-storageclass-not-found/snapshot"),
        &snap,
        "",
    );
    let secrets = [
        "ghp_Qu0tedInTheSummaryToken0123456789abcd",
        "xoxb-7777777777-8888888888-Qu0tedSlackBotT0ken",
        "Qu0ted-Bearer-T0ken-In-Event",
        "Qu0ted-B64-Pa55word",
        "Qu0ted-Escaped-Pa55",
        "Qu0ted-Url-Pa55",
    ];
    let message = format!(
        "storageclass.storage.k8s.io \\\"gp3-encrypted\\\" not found (provisioner said: token {} \
         slack {} Authorization: Bearer {} config {} {{\\\"pass\\\\u0077ord\\\":\\\"{}\\\"}} \
         dsn postgres://app:{}@db:5432/app)",
        secrets[0],
        secrets[1],
        secrets[2],
        STANDARD.encode(format!("PGPASSWORD={}\n", secrets[3])),
        secrets[4],
        secrets[5],
    );
    let events = snap.join("k8s/events/shop.json");
    let text = std::fs::read_to_string(&events).unwrap().replace(
        "\"storageclass.storage.k8s.io \\\"gp3-encrypted\\\" not found\"",
        &format!("\"{message}\""),
    );
    assert!(text.contains("Qu0ted-Url-Pa55"), "the message was planted");
    std::fs::write(&events, text).unwrap();
    let bundle = scratch.path().join("b.tar.gz");
    let args: Vec<String> = [
        "bundle",
        "--snapshot",
        snap.to_str().unwrap(),
        "--run",
        "pvc-pending",
        "--target",
        "shop/reports-archive",
        "-o",
        bundle.to_str().unwrap(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let (code, out, err) = ktriage(&catalog, &args).await;
    assert_eq!(code, 3, "{out}{err}");
    let (_, files) = extract(&bundle);
    let report = files
        .iter()
        .find(|(p, _)| p == "report.md")
        .map(|(_, b)| String::from_utf8_lossy(b).into_owned())
        .unwrap();
    assert!(
        report.contains("provisioner said"),
        "the report quotes the event:\n{report}"
    );
    for (file, bytes) in &files {
        let text = String::from_utf8_lossy(bytes);
        for secret in secrets {
            assert!(
                !reveals(&text, secret),
                "{file} gives back {secret}:\n{text}"
            );
        }
    }
    for secret in secrets {
        assert!(
            !reveals(&out, secret) && !reveals(&err, secret),
            "{secret} printed"
        );
    }
}

fn walk_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk_files(&path));
        } else {
            out.push(path);
        }
    }
    out.sort();
    out
}
