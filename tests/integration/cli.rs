//! The headless CLI as a user meets it: exit codes, error messages that say what to do,
//! the three output formats, runbook management, and bad input that must not crash.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
        .display()
        .to_string()
}

fn example() -> String {
    fixture("examples/pvc-storageclass-not-found/snapshot")
}

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

fn ktriage(args: &[&str]) -> Out {
    ktriage_in(args, None)
}

fn ktriage_in(args: &[&str], config_home: Option<&Path>) -> Out {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ktriage"));
    cmd.args(args);
    // Keep the user's own runbooks and logs out of the tests.
    let isolated = tempfile::tempdir().unwrap();
    cmd.env("XDG_CONFIG_HOME", config_home.unwrap_or(isolated.path()))
        .env("XDG_STATE_HOME", isolated.path());
    let out = cmd.output().expect("binary runs");
    Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[test]
fn text_output_fits_80_columns_and_exits_by_severity() {
    let o = ktriage(&[
        "run",
        "pvc-pending",
        "--snapshot",
        &example(),
        "--target",
        "shop/reports-archive",
    ]);
    assert_eq!(o.code, 3, "{}", o.stderr);
    assert!(o.stdout.contains("✗ CRITICAL  PVC_STORAGECLASS_NOT_FOUND"));
    for line in o.stdout.lines() {
        assert!(line.chars().count() <= 80, "line over 80 columns: {line:?}");
    }
    let info = ktriage(&[
        "run",
        "pvc-pending",
        "--snapshot",
        &fixture("pvc-wffc-no-consumer"),
        "--target",
        "reporting/quarterly-exports",
    ]);
    assert_eq!(info.code, 0, "an info finding exits 0: {}", info.stdout);
    let warning = ktriage(&[
        "run",
        "pvc-pending",
        "--snapshot",
        &fixture("pvc-consumer-unschedulable"),
        "--target",
        "monitoring/prometheus-server",
    ]);
    assert_eq!(warning.code, 4, "a warning exits 4");
}

#[test]
fn markdown_output_is_pasteable() {
    let o = ktriage(&[
        "run",
        "pvc-pending",
        "--snapshot",
        &example(),
        "--target",
        "shop/reports-archive",
        "-o",
        "markdown",
    ]);
    assert_eq!(o.code, 3);
    assert!(
        o.stdout
            .starts_with("### ktriage: `pvc-pending` on `shop/reports-archive`"),
        "{}",
        o.stdout
    );
    assert!(o.stdout.contains("`PVC_STORAGECLASS_NOT_FOUND`"));
    assert!(
        o.stdout.contains(
            "  > ProvisioningFailed: storageclass.storage.k8s.io \"gp3-encrypted\" not found"
        ),
        "{}",
        o.stdout
    );
    assert!(
        o.stdout
            .contains("#### Read-only checks\n\n```sh\nkubectl get storageclass\n")
    );
    assert!(
        o.stdout
            .contains("| ✗ | Does StorageClass \"gp3-encrypted\" exist? |")
    );
}

#[test]
fn a_question_waits_for_an_answer_and_the_answer_is_checked() {
    let snap = fixture("pvc-pending-no-trace");
    let run = |extra: &[&str]| {
        let mut args = vec![
            "run",
            "pvc-pending",
            "--snapshot",
            &snap,
            "--target",
            "notebooks/claim-alice",
        ];
        args.extend_from_slice(extra);
        ktriage(&args)
    };
    let o = run(&["-o", "json"]);
    assert_eq!(o.code, 5, "waiting for an answer is not a conclusion");
    let v: Value = serde_json::from_str(&o.stdout).unwrap();
    assert_eq!(v["status"], "needs-input");
    assert_eq!(v["question"]["step"], "ask-provisioner-log");
    assert!(
        v["question"]["command"].as_str().unwrap().starts_with(
            "kubectl logs -n kube-system deploy/ebs-csi-controller -c csi-provisioner"
        )
    );
    let text = run(&[]);
    assert!(
        text.stdout
            .contains("Answer with --answer ask-provisioner-log=CHOICE"),
        "{}",
        text.stdout
    );

    let answered = run(&["--answer", "ask-provisioner-log=kms"]);
    assert_eq!(answered.code, 3);
    assert!(answered.stdout.contains("PVC_KMS_KEY_UNUSABLE"));

    let bad_choice = run(&["--answer", "ask-provisioner-log=maybe"]);
    assert_eq!(bad_choice.code, 2);
    assert!(
        bad_choice
            .stderr
            .contains("choose one of: quota, kms, other, nothing"),
        "{}",
        bad_choice.stderr
    );
    let bad_step = run(&["--answer", "ask-provisoner-log=kms"]);
    assert_eq!(bad_step.code, 2);
    assert!(
        bad_step
            .stderr
            .contains("did you mean `ask-provisioner-log`"),
        "{}",
        bad_step.stderr
    );
}

#[test]
fn a_target_that_does_not_exist_lists_close_names() {
    let o = ktriage(&[
        "run",
        "pvc-pending",
        "--snapshot",
        &example(),
        "--target",
        "shop/reports-archiv",
    ]);
    assert_eq!(o.code, 2);
    assert!(o.stderr.contains("PersistentVolumeClaim `shop/reports-archiv` does not exist; did you mean `shop/reports-archive`"), "{}", o.stderr);
    let bare = ktriage(&[
        "run",
        "pvc-pending",
        "--snapshot",
        &example(),
        "--target",
        "reports-archive",
    ]);
    assert_eq!(bare.code, 2);
    assert!(
        bare.stderr.contains("`shop/reports-archive`"),
        "{}",
        bare.stderr
    );
}

#[test]
fn usage_errors_exit_2_and_say_what_to_do() {
    let no_target = ktriage(&["run", "pvc-pending", "--snapshot", &example()]);
    assert_eq!(no_target.code, 2);
    assert!(
        no_target.stderr.contains("--target NAMESPACE/NAME"),
        "{}",
        no_target.stderr
    );
    let unknown = ktriage(&[
        "run",
        "pvc-pendin",
        "--snapshot",
        &example(),
        "--target",
        "a/b",
    ]);
    assert_eq!(unknown.code, 2);
    assert!(
        unknown.stderr.contains("did you mean `pvc-pending`"),
        "{}",
        unknown.stderr
    );
    let missing = ktriage(&["triage", "--snapshot", "/nonexistent/snapshot"]);
    assert_eq!(missing.code, 2);
    assert!(
        missing
            .stderr
            .contains("/nonexistent/snapshot does not exist"),
        "{}",
        missing.stderr
    );
    let bad_flag = ktriage(&["triage", "--snapshot", &example(), "--output", "yaml"]);
    assert_eq!(bad_flag.code, 2);
}

#[test]
fn what_a_conclusion_could_not_see_is_listed_with_how_to_get_it() {
    let o = ktriage(&[
        "run",
        "pvc-pending",
        "--snapshot",
        &fixture("pvc-csi-unauthorized-noaws"),
        "--target",
        "billing/invoice-pdf-cache",
        "-o",
        "json",
    ]);
    assert_eq!(o.code, 3);
    let v: Value = serde_json::from_str(&o.stdout).unwrap();
    assert_eq!(v["conclusion"]["code"], "PVC_CSI_UNAUTHORIZED");
    let missing = v["missing"].as_array().unwrap();
    let pod_identity = missing
        .iter()
        .find(|m| m["fact"] == "podIdentity")
        .expect("the unknown Pod Identity is listed");
    assert_eq!(
        pod_identity["reason"],
        "unavailable: no AWS data in this snapshot"
    );
    assert!(
        pod_identity["query"]
            .as_str()
            .unwrap()
            .contains("aws eks list-pod-identity-associations --cluster-name prod-eu"),
        "{pod_identity}"
    );
}

#[test]
fn triage_json_is_the_contract() {
    let o = ktriage(&["triage", "--snapshot", &example(), "-o", "json"]);
    assert_eq!(o.code, 3);
    let v: Value = serde_json::from_str(&o.stdout).unwrap();
    let s = &v["suggestions"][0];
    assert_eq!(s["runbook"], "pvc-pending");
    assert_eq!(s["target"], "shop/reports-archive");
    assert_eq!(s["severity"], "critical");
    assert!(
        s["reason"].as_str().unwrap().starts_with("Pending for 19m"),
        "{s}"
    );
}

#[test]
fn escape_sequences_from_the_cluster_are_neutralised() {
    let tmp = tempfile::tempdir().unwrap();
    let snap = tmp.path().join("snap");
    copy_dir(Path::new(&example()), &snap);
    let events = snap.join("k8s/events/shop.json");
    let text = std::fs::read_to_string(&events)
        .unwrap()
        .replace("not found\"", "not found\\u001b[2J\\u001b]0;pwned\\u0007\"");
    std::fs::write(&events, text).unwrap();
    let o = ktriage(&[
        "run",
        "pvc-pending",
        "--snapshot",
        snap.to_str().unwrap(),
        "--target",
        "shop/reports-archive",
    ]);
    assert_eq!(o.code, 3);
    assert!(
        !o.stdout.contains('\u{1b}') && !o.stdout.contains('\u{7}'),
        "raw escape reached the terminal"
    );
    assert!(
        o.stdout.contains("found\\x1b[2J\\x1b]0;pwned\\x07"),
        "{}",
        o.stdout
    );
}

#[test]
fn a_broken_snapshot_file_is_named_and_the_rest_still_serves() {
    let tmp = tempfile::tempdir().unwrap();
    let snap = tmp.path().join("snap");
    copy_dir(Path::new(&example()), &snap);
    std::fs::write(
        snap.join("k8s/broken.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [oops\n",
    )
    .unwrap();
    let o = ktriage(&[
        "run",
        "pvc-pending",
        "--snapshot",
        snap.to_str().unwrap(),
        "--target",
        "shop/reports-archive",
    ]);
    assert_eq!(o.code, 3, "{}", o.stderr);
    assert!(o.stdout.contains("PVC_STORAGECLASS_NOT_FOUND"));
    assert!(
        o.stderr.contains("k8s/broken.yaml:4:"),
        "the broken file is reported with its position: {}",
        o.stderr
    );
}

/// What the reader skipped reaches scripts: `--output json` of `run` (one walk or
/// many) and `triage` carries `"warnings"` with file, line, column and message, and a
/// bundle keeps them in errors.json.
#[test]
fn read_problems_are_in_every_json_output_and_the_bundle() {
    let tmp = tempfile::tempdir().unwrap();
    let snap = tmp.path().join("snap");
    copy_dir(Path::new(&example()), &snap);
    std::fs::write(
        snap.join("k8s/broken.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [oops\n",
    )
    .unwrap();
    let snap = snap.to_str().unwrap();
    let check = |warnings: &Value, what: &str| {
        let w = warnings
            .as_array()
            .unwrap_or_else(|| panic!("{what}: no warnings array"));
        assert_eq!(w.len(), 1, "{what}: {w:?}");
        assert!(
            w[0]["file"].as_str().unwrap().ends_with("k8s/broken.yaml"),
            "{what}: {w:?}"
        );
        assert_eq!(w[0]["line"], 4, "{what}: {w:?}");
        assert!(w[0]["column"].is_u64(), "{what}: {w:?}");
        assert!(
            !w[0]["message"].as_str().unwrap().is_empty(),
            "{what}: {w:?}"
        );
    };
    let one = ktriage(&[
        "run",
        "pvc-pending",
        "--output",
        "json",
        "--snapshot",
        snap,
        "--target",
        "shop/reports-archive",
    ]);
    check(
        &serde_json::from_str::<Value>(&one.stdout).unwrap()["warnings"],
        "run",
    );
    // A runbook walked wherever its symptom shows prints an array: each record has them.
    let nodes = tmp.path().join("nodes");
    copy_dir(Path::new(&fixture("nnj-role-not-mapped-configmap")), &nodes);
    std::fs::copy(
        tmp.path().join("snap/k8s/broken.yaml"),
        nodes.join("k8s/broken.yaml"),
    )
    .unwrap();
    let many = ktriage(&[
        "run",
        "node-not-joining",
        "--output",
        "json",
        "--snapshot",
        nodes.to_str().unwrap(),
    ]);
    let many: Value = serde_json::from_str(&many.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}{}", many.stdout, many.stderr));
    assert!(!many.as_array().unwrap().is_empty(), "{many:#}");
    check(&many[0]["warnings"], "run without --target");
    let triage = ktriage(&["triage", "--output", "json", "--snapshot", snap]);
    check(
        &serde_json::from_str::<Value>(&triage.stdout).unwrap()["warnings"],
        "triage",
    );
    // A clean source says so with an empty list rather than no field.
    let clean = ktriage(&["triage", "--output", "json", "--snapshot", &example()]);
    assert_eq!(
        serde_json::from_str::<Value>(&clean.stdout).unwrap()["warnings"],
        serde_json::json!([])
    );
    let out = tmp.path().join("b.tar.gz");
    let b = ktriage(&[
        "bundle",
        "--snapshot",
        snap,
        "--run",
        "pvc-pending",
        "--target",
        "shop/reports-archive",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(out.is_file(), "{}", b.stderr);
    let unpacked = tmp.path().join("b");
    std::fs::create_dir_all(&unpacked).unwrap();
    let tar = Command::new("tar")
        .arg("-xzf")
        .arg(&out)
        .arg("-C")
        .arg(&unpacked)
        .status()
        .unwrap();
    assert!(tar.success());
    let errors = walkdir_find(&unpacked, "errors.json");
    let errors: Value = serde_json::from_str(&std::fs::read_to_string(errors).unwrap()).unwrap();
    check(&errors["warnings"], "bundle errors.json");
}

fn walkdir_find(dir: &Path, name: &str) -> PathBuf {
    find_file(dir, name).unwrap_or_else(|| panic!("no {name} under {}", dir.display()))
}

fn find_file(dir: &Path, name: &str) -> Option<PathBuf> {
    std::fs::read_dir(dir).ok()?.find_map(|entry| {
        let path = entry.ok()?.path();
        if path.is_dir() {
            find_file(&path, name)
        } else {
            path.file_name().is_some_and(|n| n == name).then_some(path)
        }
    })
}

/// A CEL library function that panics (kube-cel's quantities overflow an i128 on an
/// exponent of 99) fails the expression (the walk is inconclusive, saying why), never
/// the process.
#[test]
fn an_expression_that_panics_the_interpreter_fails_alone() {
    let config = tempfile::tempdir().unwrap();
    let dir = config.path().join("ktriage/runbooks");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("boom.yaml"),
        "id: boom\ntitle: Boom\ntarget: {kind: Cluster}\nsteps:\n  - id: a\n    title: A\n    check: 'quantity(\"1e99\").isGreaterThan(quantity(\"1m\"))'\n    then: c\n    else: c\nconclusions:\n  - {id: c, code: C, severity: info, title: C, summary: C}\n",
    )
    .unwrap();
    let o = ktriage_in(
        &["run", "boom", "--snapshot", &example()],
        Some(config.path()),
    );
    assert_eq!(o.code, 5, "{}{}", o.stdout, o.stderr);
    assert!(!o.stderr.contains("panicked"), "{}", o.stderr);
    assert!(
        o.stdout
            .contains("the CEL interpreter failed on this expression"),
        "{}",
        o.stdout
    );
}

/// What would ask the interpreter for more than it can build (a `format` precision of
/// 99,999,999,999 used to panic it) is refused when the runbook loads.
#[test]
fn an_expression_beyond_the_limits_is_refused_at_validation() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("boom.yaml");
    std::fs::write(&file, "id: boom\ntitle: Boom\ntarget: {kind: Cluster}\nsteps:\n  - id: a\n    title: A\n    check: '\"%.99999999999f\".format([1.0]) != \"\"'\n    then: c\n    else: c\nconclusions:\n  - {id: c, code: C, severity: info, title: C, summary: C}\n").unwrap();
    let o = ktriage(&["runbooks", "validate", file.to_str().unwrap()]);
    assert_eq!(o.code, 2, "{}", o.stdout);
    assert!(
        o.stdout.contains(&format!(
            "{}:7:14: CEL refused: format precision",
            file.display()
        )),
        "{}",
        o.stdout
    );
}

#[test]
fn user_runbooks_override_and_broken_ones_do_not_stop_the_rest() {
    let config = tempfile::tempdir().unwrap();
    let dir = config.path().join("ktriage/runbooks");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("broken.yaml"), "id: broken\ntitle: Broken\ntarget: {kind: Cluster}\nsteps:\n  - id: a\n    title: A\n    check: 'size(('\n    then: c\n    else: c\nconclusions:\n  - {id: c, code: C, severity: info, title: C, summary: C}\n").unwrap();
    let o = ktriage_in(
        &[
            "run",
            "pvc-pending",
            "--snapshot",
            &example(),
            "--target",
            "shop/reports-archive",
        ],
        Some(config.path()),
    );
    assert_eq!(o.code, 3, "pvc-pending still runs: {}", o.stderr);
    assert!(
        o.stderr.contains("broken.yaml:7:"),
        "the broken runbook is reported: {}",
        o.stderr
    );

    // A user runbook with a built-in id replaces it.
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("runbooks/pvc-pending.yaml"),
    )
    .unwrap()
    .replace(
        "title: A PersistentVolumeClaim stays Pending",
        "title: Our own pvc-pending",
    );
    std::fs::remove_file(dir.join("broken.yaml")).unwrap();
    std::fs::write(dir.join("pvc-pending.yaml"), text).unwrap();
    let list = ktriage_in(&["runbooks", "list"], Some(config.path()));
    assert_eq!(list.code, 0, "{}", list.stderr);
    assert!(
        list.stdout.contains("Our own pvc-pending"),
        "{}",
        list.stdout
    );
}

#[test]
fn validate_reports_file_line_column_and_fails() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("typo.yaml");
    std::fs::write(&file, "id: typo\ntitle: Typo\ntarget: {kind: Cluster}\nsteps:\n  - id: a\n    title: A\n    check: 'true'\n    then: c\n    else: nowhere\nconclusions:\n  - {id: c, code: C, severity: info, title: C, summary: C}\n").unwrap();
    let o = ktriage(&["runbooks", "validate", file.to_str().unwrap()]);
    assert_eq!(o.code, 2);
    assert!(
        o.stdout.contains(&format!(
            "{}:9:11: step `a` leads to `nowhere`",
            file.display()
        )),
        "{}",
        o.stdout
    );
    let ok = ktriage(&["runbooks", "validate"]);
    assert_eq!(ok.code, 0, "{}", ok.stdout);
    assert!(
        ok.stdout
            .contains("ok    builtin:runbooks/pvc-pending.yaml")
    );
}

#[test]
fn show_and_list_describe_runbooks() {
    let show = ktriage(&["runbooks", "show", "pvc-pending"]);
    assert_eq!(show.code, 0);
    assert!(show.stdout.contains("target: PersistentVolumeClaim"));
    assert!(show.stdout.contains("class-exists"));
    let list = ktriage(&["runbooks", "list"]);
    assert!(list.stdout.contains("PVC_STORAGECLASS_NOT_FOUND"));
    let source = ktriage(&["runbooks", "show", "pvc-pending", "--source"]);
    let on_disk = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("runbooks/pvc-pending.yaml"),
    )
    .unwrap();
    assert_eq!(
        source.stdout, on_disk,
        "--source prints the runbook as loaded"
    );
}

#[test]
fn the_committed_schema_is_the_generated_one() {
    let o = ktriage(&["runbooks", "schema"]);
    assert_eq!(o.code, 0);
    let generated: Value = serde_json::from_str(&o.stdout).unwrap();
    let committed: Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/runbook.schema.json"),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(
        generated, committed,
        "run `ktriage runbooks schema > docs/runbook.schema.json`"
    );
    assert_eq!(generated["title"], "ktriage runbook");
    assert!(generated["properties"]["steps"].is_object());
}

#[test]
fn runbooks_test_runs_the_cases() {
    let o = ktriage(&[
        "runbooks",
        "test",
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("runbooks")
            .to_str()
            .unwrap(),
    ]);
    assert_eq!(o.code, 0, "{}", o.stdout);
    assert!(o.stdout.contains("cases passed; 0 conclusion(s) uncovered"));
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target: PathBuf = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

#[test]
fn without_a_target_node_not_joining_walks_every_short_node_group() {
    let o = ktriage(&[
        "run",
        "node-not-joining",
        "--snapshot",
        &fixture("examples/cluster-health-issue/snapshot"),
        "--output",
        "json",
    ]);
    assert_eq!(o.code, 3, "{}", o.stderr);
    let records: Value = serde_json::from_str(&o.stdout).unwrap();
    let targets: Vec<&str> = records
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["target"].as_str().unwrap())
        .collect();
    // ng-general has all its nodes Ready: only the short group is walked.
    assert_eq!(targets, ["ng-batch"]);
    assert_eq!(records[0]["conclusion"]["code"], "CLUSTER_HEALTH_ISSUE");

    let o = ktriage(&[
        "run",
        "node-not-joining",
        "--snapshot",
        &fixture("examples/healthy-cluster/snapshot"),
        "--output",
        "json",
    ]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_eq!(o.stdout.trim(), "[]");
    assert!(o.stderr.contains("nothing to walk"), "{}", o.stderr);
}

#[test]
fn themes_list_names_builtin_and_user_themes_and_where_a_bad_one_is_wrong() {
    let out = ktriage(&["themes", "list"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    for name in ["default", "light", "high-contrast", "mono"] {
        assert!(
            out.stdout.lines().any(|l| l.starts_with(name)),
            "{name} missing: {}",
            out.stdout
        );
    }
    let home = tempfile::tempdir().unwrap();
    let dir = home.path().join("ktriage/themes");
    std::fs::create_dir_all(&dir).unwrap();
    let good =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("themes/mono.toml"))
            .unwrap()
            .replace("name = \"mono\"", "name = \"night-shift\"");
    std::fs::write(dir.join("night-shift.toml"), good).unwrap();
    std::fs::write(dir.join("broken.toml"), "[slots]\ntext = \"purple\"\n").unwrap();
    let out = ktriage_in(&["themes", "list"], Some(home.path()));
    assert_eq!(out.code, 2, "a theme that does not load is a usage error");
    assert!(out.stdout.contains("night-shift"), "{}", out.stdout);
    assert!(
        out.stderr
            .contains("broken.toml:2:8: text: `purple` is not a colour"),
        "{}",
        out.stderr
    );
    // Asking for a theme that does not exist is refused before the terminal is taken.
    let out = ktriage_in(&["--theme", "nope", "demo"], Some(home.path()));
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("no theme named `nope`"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("night-shift"), "{}", out.stderr);
}

#[test]
fn a_bad_keys_file_stops_the_interface_with_where_it_is_wrong() {
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(home.path().join("ktriage")).unwrap();
    std::fs::write(
        home.path().join("ktriage/keys.toml"),
        "[keys]\nquit = \"q\"\nhelp = \"F1\"\n",
    )
    .unwrap();
    let out = ktriage_in(&["demo"], Some(home.path()));
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("keys.toml:3:8"), "{}", out.stderr);
    assert!(
        out.stderr.contains("function keys are not offered"),
        "{}",
        out.stderr
    );
}

/// A folder of a snapshot read alone looks like a cluster missing everything else: it is
/// refused as a usage error that names the parent to pass instead.
#[test]
fn a_folder_inside_a_snapshot_is_refused_naming_its_parent() {
    let snapshot = fixture("pvc-csi-unauthorized");
    for folder in ["k8s", "logs", "aws", "k8s/shop"] {
        let path = format!("{snapshot}/{folder}");
        for args in [
            vec!["triage", "--snapshot", &path],
            vec![
                "run",
                "pvc-pending",
                "--snapshot",
                &path,
                "--target",
                "data/orders",
            ],
        ] {
            let o = ktriage(&args);
            assert_eq!(o.code, 2, "{args:?}: {}{}", o.stdout, o.stderr);
            assert!(
                o.stderr.contains(&format!(
                    "the {}/ folder of the snapshot {snapshot}",
                    folder.split('/').next().unwrap()
                )) && o
                    .stderr
                    .contains(&format!("pass its parent instead: {snapshot}")),
                "{args:?}: {}",
                o.stderr
            );
        }
    }
    // From inside the folder, `.` is named by its absolute parent.
    let inside = Command::new(env!("CARGO_BIN_EXE_ktriage"))
        .args(["triage", "--snapshot", "."])
        .current_dir(format!("{snapshot}/k8s"))
        .env("XDG_CONFIG_HOME", "/nonexistent")
        .output()
        .unwrap();
    assert_eq!(inside.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&inside.stderr)
            .contains(&format!("pass its parent instead: {snapshot}")),
        "{}",
        String::from_utf8_lossy(&inside.stderr)
    );

    // A support bundle's cluster-resources/ folder, the same.
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("support-bundle-2026-11-20");
    std::fs::create_dir_all(bundle.join("cluster-resources/pods")).unwrap();
    std::fs::write(
        bundle.join("cluster-resources/pods/default.json"),
        r#"{"kind": "PodList", "apiVersion": "v1", "items": []}"#,
    )
    .unwrap();
    let resources = bundle.join("cluster-resources");
    let o = ktriage(&["open", resources.to_str().unwrap()]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(
        o.stderr.contains("folder of the support bundle")
            && o.stderr
                .contains(&format!("pass its parent instead: {}", bundle.display())),
        "{}",
        o.stderr
    );

    // A snapshot kept in a folder that happens to be called `logs` still opens.
    let kept = dir.path().join("logs").join("incident-42");
    copy_dir(Path::new(&snapshot), &kept);
    let o = ktriage(&["triage", "--snapshot", kept.to_str().unwrap()]);
    assert_eq!(o.code, 3, "{}", o.stderr);
}

/// `-n NS --target NAME` walks NS/NAME, over a snapshot and live; a target that names
/// its own namespace and an -n that names another is a usage error.
#[test]
fn the_namespace_flag_names_the_namespace_of_a_bare_target() {
    let o = ktriage(&[
        "run",
        "pvc-pending",
        "--snapshot",
        &example(),
        "-n",
        "shop",
        "--target",
        "reports-archive",
        "-o",
        "json",
    ]);
    assert_eq!(o.code, 3, "{}", o.stderr);
    let v: Value = serde_json::from_str(&o.stdout).unwrap();
    assert_eq!(v["target"], "shop/reports-archive");
    assert_eq!(v["conclusion"]["code"], "PVC_STORAGECLASS_NOT_FOUND");

    let same = ktriage(&[
        "run",
        "pvc-pending",
        "--snapshot",
        &example(),
        "--namespace",
        "shop",
        "--target",
        "shop/reports-archive",
    ]);
    assert_eq!(same.code, 3, "{}", same.stderr);

    let conflict = ktriage(&[
        "run",
        "pvc-pending",
        "--snapshot",
        &example(),
        "-n",
        "data",
        "--target",
        "shop/reports-archive",
    ]);
    assert_eq!(conflict.code, 2);
    assert!(
        conflict
            .stderr
            .contains("--target shop/reports-archive is in namespace `shop` but -n says `data`"),
        "{}",
        conflict.stderr
    );

    // Without -n, a bare name over a snapshot is in `default`, as kubectl would read it;
    // this snapshot holds no claim of `default`, so it cannot tell, and says so.
    let bare = ktriage(&[
        "run",
        "pvc-pending",
        "--snapshot",
        &example(),
        "--target",
        "reports-archive",
    ]);
    assert_eq!(bare.code, 2);
    assert!(
        bare.stderr
            .contains("`default/reports-archive` cannot be seen (unavailable: no PersistentVolumeClaim objects of namespace default in this snapshot (captured only in data, shop))")
            && bare.stderr.contains("did you mean `shop/reports-archive`"),
        "{}",
        bare.stderr
    );

    let help = ktriage(&["run", "--help"]);
    assert!(
        help.stdout.contains("-n shop --target web") && help.stdout.contains("usage error"),
        "{}",
        help.stdout
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_the_namespace_flag_and_the_contexts_namespace_name_a_bare_target() {
    use ktriage::serve::{ServeOptions, Server};
    let dir = tempfile::tempdir().unwrap();
    let snapshot = ktriage::source::snapshot::Snapshot::open(Path::new(&example())).unwrap();
    let server = Server::bind(std::sync::Arc::new(snapshot), ServeOptions::default())
        .await
        .unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    server.write_kubeconfig(&kubeconfig).unwrap();
    // The same cluster through a context whose namespace is `shop`.
    let mut config: Value =
        serde_saphyr::from_str(&std::fs::read_to_string(&kubeconfig).unwrap()).unwrap();
    for context in config["contexts"].as_array_mut().unwrap() {
        context["context"]["namespace"] = "shop".into();
    }
    let in_shop = dir.path().join("kubeconfig-shop");
    std::fs::write(&in_shop, serde_json::to_string(&config).unwrap()).unwrap();
    let task = tokio::spawn(server.run());
    let catalog = ktriage::runbook::Catalog::builtin();
    let run = |args: Vec<String>| {
        let catalog = &catalog;
        async move { crate::common::ktriage(catalog, &args).await }
    };
    let args = |config: &Path, extra: &[&str]| -> Vec<String> {
        [
            "run",
            "pvc-pending",
            "--no-aws",
            "-o",
            "json",
            "--kubeconfig",
        ]
        .iter()
        .map(|s| s.to_string())
        .chain(std::iter::once(config.display().to_string()))
        .chain(extra.iter().map(|s| s.to_string()))
        .collect()
    };
    for (config, extra) in [
        (
            &kubeconfig,
            &["-n", "shop", "--target", "reports-archive"][..],
        ),
        (&in_shop, &["--target", "reports-archive"][..]),
    ] {
        let (code, out, err) = run(args(config, extra)).await;
        assert_eq!(code, 3, "{extra:?}: {err}");
        let v: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["target"], "shop/reports-archive", "{extra:?}");
    }
    let (code, _, err) = run(args(
        &in_shop,
        &["-n", "data", "--target", "shop/reports-archive"],
    ))
    .await;
    assert_eq!(code, 2, "{err}");
    task.abort();
}

/// The finding codes are the contract: docs/findings.md is what `runbooks codes` makes of
/// the built-in runbooks, regenerated and compared here so it cannot fall behind.
#[test]
fn the_committed_finding_codes_are_the_generated_ones() {
    let o = ktriage(&["runbooks", "codes", "--output", "markdown"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/findings.md");
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        o.stdout == committed,
        "docs/findings.md is not what the built-in runbooks say; regenerate it with\n  \
         cargo run -- runbooks codes --output markdown > docs/findings.md\n\
         (or `ktriage runbooks codes --output markdown > docs/findings.md`) and commit it"
    );

    // Every code of every built-in runbook, once per runbook, in its conclusions' order.
    let catalog = ktriage::runbook::Catalog::builtin();
    let json = ktriage(&["runbooks", "codes", "-o", "json"]);
    assert_eq!(json.code, 0);
    let listed: Vec<Value> = serde_json::from_str(&json.stdout).unwrap();
    for rb in catalog.iter() {
        let codes: Vec<&str> = listed
            .iter()
            .filter(|c| c["runbook"] == rb.id.as_str())
            .map(|c| c["code"].as_str().unwrap())
            .collect();
        assert_eq!(codes, rb.codes(), "{}", rb.id);
        let section = format!("\n## {} — ", rb.id);
        assert!(committed.contains(&section), "{section}");
    }
    let storage = listed
        .iter()
        .find(|c| c["code"] == "PVC_STORAGECLASS_NOT_FOUND")
        .unwrap();
    assert_eq!(storage["severity"], "critical");
    assert_eq!(storage["runbook"], "pvc-pending");
    assert_eq!(
        storage["titles"][0],
        "StorageClass \"${className}\" does not exist"
    );
    assert!(committed.contains(
        "| `PVC_STORAGECLASS_NOT_FOUND` | critical | StorageClass \"`${className}`\" does not exist |"
    ));

    let text = ktriage(&["runbooks", "codes"]);
    assert_eq!(text.code, 0);
    assert!(
        text.stdout.starts_with("dns-timeouts — "),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout
            .lines()
            .any(|l| l.starts_with("  PVC_STORAGECLASS_NOT_FOUND ") && l.contains("critical")),
        "{}",
        text.stdout
    );
    for line in text.stdout.lines() {
        assert!(line.chars().count() <= 80, "over 80 columns: {line:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// Hostile text: whatever a snapshot, an archive or an argument holds reaches the terminal and
// the log file escaped, and a quoted name cannot start a line of its own.

/// An OSC 52 clipboard write, a screen clear, a right-to-left override, NEL (C1) and a
/// carriage return.
const HOSTILE: &str = "\u{1b}]52;c;cHduZWQ=\u{7}\u{1b}[2J\u{202e}\u{85}\r";

/// What a terminal or a pager acts on: controls but newline and tab, and bidirectional controls.
fn acted_on(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        || matches!(
            c,
            '\u{61c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        )
}

fn assert_terminal_safe(text: &str, what: &str) {
    let raw: Vec<String> = text
        .chars()
        .filter(|&c| acted_on(c))
        .map(|c| format!("U+{:04X}", c as u32))
        .collect();
    assert!(
        raw.is_empty(),
        "{what}: {raw:?} reached the terminal raw:\n{text:?}"
    );
}

/// The example snapshot with the PVC `shop/reports-archive` renamed to carry [`HOSTILE`].
fn hostile_snapshot(dir: &Path) -> PathBuf {
    let snap = dir.join("snap");
    copy_dir(Path::new(&example()), &snap);
    let file = snap.join("k8s/shop/reports.yaml");
    let text = std::fs::read_to_string(&file).unwrap().replace(
        "  name: reports-archive\n",
        "  name: \"reports-archive\\e]52;c;cHduZWQ=\\a\\e[2J\\u202e\\N\\r\"\n",
    );
    std::fs::write(&file, text).unwrap();
    snap
}

#[test]
fn hostile_names_in_messages_and_suggestions_are_escaped_on_one_line() {
    let tmp = tempfile::tempdir().unwrap();
    let snap = hostile_snapshot(tmp.path());
    let snap = snap.to_str().unwrap();
    // A runbook id typed (or pasted) with escapes, and a close one suggested.
    let typed = format!("pvc-pendin{HOSTILE}\nerror: forged");
    let o = ktriage(&["run", &typed, "--snapshot", snap, "--target", "a/b"]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert_terminal_safe(&o.stderr, "an unknown runbook id");
    assert!(o.stderr.contains("\\x1b]52;c;"), "{}", o.stderr);
    assert!(
        !o.stderr.lines().any(|l| l.starts_with("error: forged")),
        "a name started a line of its own: {}",
        o.stderr
    );
    // "Did you mean" quotes names from the cluster.
    let o = ktriage(&[
        "run",
        "pvc-pending",
        "--snapshot",
        snap,
        "--target",
        "shop/reports-archiv",
    ]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert_terminal_safe(&o.stderr, "a suggested target");
    assert!(
        o.stderr.contains(
            "did you mean `shop/reports-archive\\x1b]52;c;cHduZWQ=\\x07\\x1b[2J\\u{202e}\\x85\\x0d`"
        ),
        "{}",
        o.stderr
    );
    // An answer is quoted back as typed.
    let o = ktriage(&[
        "run",
        "pvc-pending",
        "--snapshot",
        snap,
        "--target",
        "shop/reports-archiv",
        "--answer",
        &format!("{HOSTILE}\nok    forged=x"),
    ]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert_terminal_safe(&o.stderr, "an answer");
    assert!(
        !o.stderr.lines().any(|l| l.starts_with("ok    forged")),
        "{}",
        o.stderr
    );
}

#[test]
fn the_walked_lines_of_a_bundle_are_escaped() {
    let tmp = tempfile::tempdir().unwrap();
    let snap = hostile_snapshot(tmp.path());
    let bundle = tmp.path().join("b.tar.gz");
    let target = format!("shop/reports-archive{HOSTILE}");
    let o = ktriage(&[
        "bundle",
        "--snapshot",
        snap.to_str().unwrap(),
        "--run",
        "pvc-pending",
        "--target",
        &target,
        "-o",
        bundle.to_str().unwrap(),
    ]);
    assert_eq!(o.code, 3, "{}{}", o.stdout, o.stderr);
    assert_terminal_safe(&o.stdout, "bundle");
    assert_terminal_safe(&o.stderr, "bundle progress");
    assert!(
        o.stderr
            .contains("walked pvc-pending on shop/reports-archive\\x1b]52;c;"),
        "{}",
        o.stderr
    );
    // The bundle's report is read by people too.
    let v = ktriage(&["bundle", "verify", bundle.to_str().unwrap()]);
    assert_eq!(v.code, 0, "{}", v.stderr);
    let archive = tar::Archive::new(flate2::read::GzDecoder::new(
        std::fs::File::open(&bundle).unwrap(),
    ));
    let mut archive = archive;
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let path = entry.path().unwrap().display().to_string();
        if path.ends_with(".md") || path.ends_with(".json") {
            let mut text = String::new();
            std::io::Read::read_to_string(&mut entry, &mut text).unwrap();
            assert_terminal_safe(&text, &path);
        }
    }
}

/// A bundle whose entry names carry escapes and line breaks: `bundle verify` names them
/// escaped, each on its line.
#[test]
fn bundle_verify_names_hostile_entries_escaped() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("evil.tar.gz");
    let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
        std::fs::File::create(&path).unwrap(),
        flate2::Compression::default(),
    ));
    let mut add = |name: &[u8], data: &[u8]| {
        let mut header = tar::Header::new_gnu();
        header.as_gnu_mut().unwrap().name[..name.len()].copy_from_slice(name);
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_entry_type(tar::EntryType::Regular);
        header.set_cksum();
        builder.append(&header, data).unwrap();
    };
    add(b"top/manifest.json", br#"{"files": {}}"#);
    let name = format!("top/x{HOSTILE}\nok: forged.json");
    add(name.as_bytes(), b"{}");
    builder.into_inner().unwrap().finish().unwrap();
    let o = ktriage(&["bundle", "verify", path.to_str().unwrap()]);
    assert_eq!(o.code, 1, "{}{}", o.stdout, o.stderr);
    assert_terminal_safe(&o.stdout, "verify");
    assert_terminal_safe(&o.stderr, "verify");
    assert!(
        o.stderr.contains("x\\x1b]52;c;cHduZWQ=\\x07\\x1b[2J\\u{202e}\\x85\\x0d\\nok: forged.json: in the archive but not listed"),
        "{}",
        o.stderr
    );
    assert!(
        !o.stderr.lines().any(|l| l.starts_with("ok: forged")),
        "{}",
        o.stderr
    );

    // The snapshot reader refuses an entry that climbs out, naming it escaped.
    let snapshot = tmp.path().join("evil-snapshot.tar.gz");
    let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
        std::fs::File::create(&snapshot).unwrap(),
        flate2::Compression::default(),
    ));
    let name = format!("../{HOSTILE}\nwarning: forged");
    let mut header = tar::Header::new_gnu();
    header.as_gnu_mut().unwrap().name[..name.len()].copy_from_slice(name.as_bytes());
    header.set_size(2);
    header.set_mode(0o644);
    header.set_entry_type(tar::EntryType::Regular);
    header.set_cksum();
    builder.append(&header, &b"{}"[..]).unwrap();
    builder.into_inner().unwrap().finish().unwrap();
    let o = ktriage(&["triage", "--snapshot", snapshot.to_str().unwrap()]);
    assert_eq!(o.code, 1, "{}{}", o.stdout, o.stderr);
    assert_terminal_safe(&o.stderr, "a refused snapshot");
    assert!(o.stderr.contains("refusing archive"), "{}", o.stderr);
    assert!(
        !o.stderr.lines().any(|l| l.starts_with("warning: forged")),
        "{}",
        o.stderr
    );
}

/// serde_json leaves C1 controls and bidirectional controls raw; `less -R` and terminals act
/// on them. JSON output escapes them and keeps the data.
#[test]
fn json_output_escapes_c1_and_bidi_controls_and_keeps_the_data() {
    let tmp = tempfile::tempdir().unwrap();
    let snap = tmp.path().join("snap");
    copy_dir(Path::new(&example()), &snap);
    let events = snap.join("k8s/events/shop.json");
    let text = std::fs::read_to_string(&events).unwrap().replace(
        "not found\"",
        "not found\\u0085\\u009b31m\\u202egpj.exe\\u2066\\u200f\\u061c\\u007f\"",
    );
    std::fs::write(&events, text).unwrap();
    for command in ["run", "triage"] {
        let mut args = vec![command];
        if command == "run" {
            args.extend(["pvc-pending", "--target", "shop/reports-archive"]);
        }
        args.extend(["--snapshot", snap.to_str().unwrap(), "--output", "json"]);
        let o = ktriage(&args);
        assert_terminal_safe(&o.stdout, command);
        assert!(
            o.stdout.contains("\\u0085\\u009b31m\\u202egpj.exe"),
            "{command}: {}",
            o.stdout
        );
        let parsed: Value = serde_json::from_str(&o.stdout).unwrap();
        assert!(
            parsed
                .to_string()
                .contains("not found\u{85}\u{9b}31m\u{202e}gpj.exe\u{2066}\u{200f}\u{61c}\u{7f}"),
            "{command}: the data is kept: {parsed}"
        );
    }
}

/// The log file is read with `less` and `tail -f`: what the cluster or a user typed is
/// logged escaped, one event per line.
#[test]
fn the_log_file_holds_hostile_text_escaped_one_event_per_line() {
    let state = tempfile::tempdir().unwrap();
    let target = format!("shop/reports-archive{HOSTILE}\n2026-11-20T03:00:00Z ERROR forged");
    let o = Command::new(env!("CARGO_BIN_EXE_ktriage"))
        .args([
            "run",
            "pvc-pending",
            "--snapshot",
            &example(),
            "--target",
            &target,
        ])
        .env("XDG_CONFIG_HOME", state.path())
        .env("XDG_STATE_HOME", state.path())
        .env("KTRIAGE_LOG", "debug")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let log = std::fs::read_to_string(state.path().join("ktriage/ktriage.log")).unwrap();
    assert!(
        log.contains("reports-archive\\x1b]52;c;"),
        "the query is logged: {log}"
    );
    assert_terminal_safe(&log, "the log file");
    assert!(
        !log.lines()
            .any(|l| l.starts_with("2026-11-20T03:00:00Z ERROR forged")),
        "a value forged a log line:\n{log}"
    );
}
