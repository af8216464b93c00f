//! Evidence bundles end to end: every runbook case is walked into a bundle, the bundle
//! verifies, reopens to the same walk, reads as a postmortem, and a flipped byte fails
//! verification; planted secrets never reach the archive.

mod common;

use common::{Case, cases, ktriage, root};
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
    use ktriage::evidence::{archive, bundle, collect, redact};
    use ktriage::facts::{EksQuery, FactQuery, LogEventsQuery};
    use ktriage::source::Source;
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
    // Every planted secret is somewhere in what goes in.
    let everything = format!(
        "{:?}{:?}{:?}{:?}",
        collected.lists, collected.logs, collected.eks, collected.log_events
    );
    let missing: Vec<&String> = planted
        .iter()
        .filter(|p| {
            !everything.contains(p.as_str()) && !everything.contains(&p.replace('"', "\\\""))
        })
        .collect();
    assert!(missing.is_empty(), "planted but not collected: {missing:?}");

    let rules = redact::RuleSet::builtin();
    let redactor = redact::Redactor::new(&rules, redact::Profile::default());
    let now = snapshot.info().now;
    let files = bundle::files(bundle::Input {
        info: snapshot.info(),
        catalog: &Catalog::load(&[]),
        walks: &[],
        notes: &[bundle::Note {
            at: now,
            text: "pasted by mistake: AKIA2E0A8F3B5C7D9E1F".into(),
            context: None,
        }],
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
    for (file, bytes) in &extracted {
        let text = String::from_utf8_lossy(bytes);
        for secret in &planted {
            assert!(
                !text.contains(secret.as_str()),
                "{file} still holds a planted secret ({} chars, starting {:?})",
                secret.len(),
                secret.chars().take(4).collect::<String>()
            );
        }
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
    ] {
        assert!(fired.contains(rule), "{rule} never fired: {fired:?}");
    }
    for file in [
        "notes.md",
        "k8s/_all/ConfigMap.json",
        "aws/logs/aws_eks_prod-eu_cluster.json",
    ] {
        assert!(
            entries.iter().any(|r| r["file"] == file),
            "no redaction recorded in {file}: {entries:#?}"
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
