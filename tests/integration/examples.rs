//! The worked examples (tests/fixtures/examples, copied from the shared contract) give
//! the verdicts of their `expect.yaml` — run and triage — from the directory and from a
//! `.tar.gz` of it, through the real binary. Examples whose runbook is not built yet
//! still get their triage expectations checked where they say "nothing critical".

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn examples() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/examples");
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("expect.yaml").exists())
        .collect();
    v.sort();
    assert!(v.len() >= 4, "the four worked examples are present");
    v
}

fn ktriage(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_ktriage"))
        .args(args)
        .output()
        .expect("binary runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn tar_gz(dir: &Path, with_top_folder: bool, into: &Path) -> PathBuf {
    let path = into.join(if with_top_folder {
        "wrapped.tar.gz"
    } else {
        "flat.tar.gz"
    });
    let file = std::fs::File::create(&path).unwrap();
    let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
        file,
        flate2::Compression::fast(),
    ));
    builder
        .append_dir_all(
            if with_top_folder {
                "prod-eu-snapshot"
            } else {
                "."
            },
            dir,
        )
        .unwrap();
    builder.into_inner().unwrap().finish().unwrap();
    path
}

fn expectation(example: &Path) -> Value {
    let text = std::fs::read_to_string(example.join("expect.yaml")).unwrap();
    serde_saphyr::from_str(&text).unwrap()
}

fn runbook_exists(id: &str) -> bool {
    let (code, out, _) = ktriage(&["runbooks", "list"]);
    assert_eq!(code, 0);
    out.lines().any(|l| l.split_whitespace().next() == Some(id))
}

fn severity_exit(code: &str) -> i32 {
    // The example codes' severities, as FINDINGS.md gives them.
    match code {
        "NODES_JOINED" | "NODE_JOIN_UNDETERMINED" | "DNS_UNDETERMINED" => 0,
        "NODES_JOINED_NOT_READY" => 4,
        _ => 3,
    }
}

fn check_example(example: &Path, snapshot: &str) {
    let expect = expectation(example);
    let runbook = expect["runbook"].as_str().unwrap();
    let name = example.file_name().unwrap().to_string_lossy();
    if runbook_exists(runbook) {
        let mut args = vec!["run", runbook, "--snapshot", snapshot, "--output", "json"];
        if let Some(t) = expect["target"].as_str() {
            args.extend(["--target", t]);
        }
        let (code, out, err) = ktriage(&args);
        let record: Value = serde_json::from_str(&out)
            .unwrap_or_else(|e| panic!("{name}: not JSON ({e}): {out}\n{err}"));
        let want = expect["code"].as_str().unwrap();
        assert_eq!(
            record["conclusion"]["code"], want,
            "{name} from {snapshot}: {record:#}"
        );
        assert_eq!(code, severity_exit(want), "{name}: exit code");
    }
    let (code, out, err) = ktriage(&["triage", "--snapshot", snapshot, "--output", "json"]);
    let report: Value = serde_json::from_str(&out)
        .unwrap_or_else(|e| panic!("{name}: triage not JSON ({e}): {out}\n{err}"));
    let suggestions = report["suggestions"].as_array().unwrap();
    if expect["triage_clean"].as_bool() == Some(true) {
        assert!(
            !suggestions.iter().any(|s| s["severity"] == "critical"),
            "{name}: a healthy cluster gets no critical suggestion: {report:#}"
        );
        assert_ne!(code, 3);
    }
    if let Some(t) = expect["triage"].as_object()
        && runbook_exists(t["runbook"].as_str().unwrap())
    {
        let top3 = &suggestions[..suggestions.len().min(3)];
        assert!(
            top3.iter()
                .any(|s| s["runbook"] == t["runbook"] && s["target"] == t["target"]),
            "{name}: triage must rank {t:?} in its top three: {report:#}"
        );
    }
}

#[test]
fn examples_give_their_verdicts_from_directories() {
    for example in examples() {
        check_example(&example, example.join("snapshot").to_str().unwrap());
    }
}

#[test]
fn examples_give_their_verdicts_from_archives() {
    let tmp = tempfile::tempdir().unwrap();
    for example in examples() {
        for wrapped in [false, true] {
            let dir = tmp.path().join(example.file_name().unwrap());
            std::fs::create_dir_all(&dir).unwrap();
            let archive = tar_gz(&example.join("snapshot"), wrapped, &dir);
            check_example(&example, archive.to_str().unwrap());
        }
    }
}

#[test]
fn the_storageclass_example_ranks_first_with_its_reason() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/examples/pvc-storageclass-not-found/snapshot");
    let (code, out, _) = ktriage(&["triage", "--snapshot", example.to_str().unwrap()]);
    assert_eq!(code, 3, "a critical suggestion exits 3");
    let first = out.lines().next().unwrap();
    assert!(
        first.contains("CRITICAL") && first.contains("pvc-pending · shop/reports-archive"),
        "{out}"
    );
    assert!(
        out.contains("storageclass.storage.k8s.io \"gp3-encrypted\" not found"),
        "{out}"
    );
}
