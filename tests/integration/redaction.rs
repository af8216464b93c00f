//! The redaction corpus (`tests/fixtures/redaction-corpus/`): a snapshot with secrets planted
//! in every place the issue lists (env vars, annotations, last-applied copies, ConfigMaps,
//! Secrets, event messages, logs, EKS add-on configuration, CloudWatch events). Every file goes
//! through the redactor as a bundle would write it; then no planted secret may survive in any
//! output byte, and `redactions.json` must account for each one.

use crate::common::secrets::reveals;
use ktriage::evidence::redact::{Profile, Redactor, Report, RuleSet};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

const CORPUS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/redaction-corpus"
);

/// The rule that names each planted secret (the first to reach it; the same secret repeated
/// in a last-applied copy is named by `last-applied-configuration` there too).
const EXPECTED: &[(&str, &str)] = &[
    ("Ch3ckout-DB-Pa55-2026", "sensitive-name"),
    ("AKIA2E0A8F3B5C7D9E1F", "sensitive-name"),
    ("q8Vd3LxT0pR7nZ2mW5kY9hB4cF6gJ1sA0eU8iO3r", "sensitive-name"),
    ("pat_4f9c2b7e1d8a6035c9e2", "sensitive-name"),
    ("acme-tok-9d1e7c3b5a2f", "sensitive-name"),
    ("S3cretPassw0rd", "url-credentials"),
    ("R3p0rtingPa55w0rd", "connection-string-password"),
    ("Spr1ngDatasourceSecret42", "connection-string-password"),
    ("sm7p-Pa55-Relay-2026", "sensitive-name"),
    ("Q2gzY2tvdXQtREItUGE1NS0yMDI2", "secret-value"),
    (
        "sk_live_51HcheckoutApiToken0000",
        "last-applied-configuration",
    ),
    (
        "c2tfbGl2ZV81MUhjaGVja291dEFwaVRva2VuMDAwMA==",
        "secret-value",
    ),
    (
        "MIIEpAIBAAKCAQEAxq9Lw3TgRkB2mZrN7u0cQ1v8eXyJfHsD4aPbWt6oKiLnMz5c",
        "pem-private-key",
    ),
    (
        "Vr0GhQyT8e1uYwZ3kNpA6bXs9fCjD2mLoE4tRqHiU7gKvB1nW5zP0aSdF3yJcM8x",
        "pem-private-key",
    ),
    (
        "O1lQ9rT4vX7zC2eG5hJ8kN0pS3uW6yB9dF1gI4jL7mO0qR3tU6wZ9aC2eF5hK8nP",
        "pem-private-key",
    ),
    (
        "LS0tLS1CRUdJTiBSU0EgUFJJVkFURSBLRVktLS0tLQpNSUlFcEFJQkFBS0NBUUVBeHE5THczVGdSa0IybVpyTjd1MGNRMXY4ZVh5SmZIc0Q0YVBiV3Q2b0tpTG5NejVjClZyMEdoUXlUOGUxdVl3WjNrTnBBNmJYczlmQ2pEMm1Mb0U0dFJxSGlVN2dLdkIxblc1elAwYVNkRjN5SmNNOHgKTzFsUTlyVDR2WDd6QzJlRzVoSjhrTjBwUzN1VzZ5QjlkRjFnSTRqTDdtTzBxUjN0VTZ3WjlhQzJlRjVoSzhuUApBYkNkRWZHaElqS2w9PQotLS0tLUVORCBSU0EgUFJJVkFURSBLRVktLS0tLQo=",
        "secret-value",
    ),
    ("8c1f4e2a9b7d3c5e6f0a1b2c3d4e5f60", "authorization-header"),
    (
        "eyJhbGciOiJSUzI1NiIsImtpZCI6IjNmOWEifQ.eyJpc3MiOiJodHRwczovL29pZGMuZWtzLmV1LXdlc3QtMS5hbWF6b25hd3MuY29tL2lkL0VYQU1QTEUiLCJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6c2hvcDpjaGVja291dCJ9.TW9ja1NpZ25hdHVyZUZvclRlc3RpbmdPbmx5",
        "jwt",
    ),
    ("tk_live_7Hq2Zp9Xw4RvLm3N", "authorization-header"),
    ("AKIAQ3EGUZ7YLOGLINE1", "aws-access-key"),
    ("Zx9Wv8Ut7Sr6Qp5On4Ml3Kj2Ih1Gf0EdCbA/+xyz", "aws-secret-key"),
    ("Tr0ub4dor-3-horse", "secret-key-value"),
    (
        "k8s-aws-v1.aHR0cHM6Ly9zdHMuZXUtd2VzdC0xLmFtYXpvbmF3cy5jb20vP0FjdGlvbj1HZXRDYWxsZXJJZGVudGl0eSZWZXJzaW9uPTIwMTEtMDYtMTUmWC1BbXotQWxnb3JpdGhtPUFXUzQtSE1BQy1TSEEyNTY",
        "eks-token",
    ),
    ("glc_3xampleGrafanaCloudT0ken99", "secret-key-value"),
    ("gcloud-basic-Pa55word-77", "secret-key-value"),
    (
        "IQoJb3JpZ2luX2VjEJr%2F%2F%2F%2FwEaCWV1LXdlc3QtMSJHMEUCIQDsessionTokenInUrl0001",
        "aws-session-token",
    ),
    ("ASIAY34FZKBOKMUTVV7A", "aws-access-key"),
    (
        "IQoJb3JpZ2luX2VjEPlainSessionToken0002/abc+def==",
        "aws-session-token",
    ),
    (
        "k8s-aws-v1.aHR0cHM6Ly9zdHMuZXUtd2VzdC0xLmFtYXpvbmF3cy5jb20vP0FjdGlvbj1HZXRDYWxsZXJJZGVudGl0eSZhdWRpdD0x",
        "eks-token",
    ),
    ("gr4fana-DS-Passw0rd", "secret-field"),
    ("gr4fana-Basic-Auth-88", "secret-field"),
    // The payments namespace: provider tokens, secrets behind JSON escapes and in base64,
    // database URLs, env literals and flags.
    ("ghs_Pq7Rs8Tu9Vw0Xy1Za2Bc3De4Fg5Hi6Jk7Lm8", "github-token"),
    (
        "MIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQC7VJTUt9Us8cKj",
        "pem-private-key",
    ),
    (
        "MHcCAQEEIBm5TqXZr0CkLh3hD2eQ0pZ9yWv8uS7tR6qP5oN4mL3kAoGCCqGSM49A",
        "pem-private-key",
    ),
    (
        "xoxb-2222222222-3333333333-BiLLiNgBoTtOkEn0123456789",
        "slack-token",
    ),
    ("npm_B1lL1nGnPmT0kEnAbCdEfGhIjKlMnOpQrStU", "npm-token"),
    ("Jdbc-B1ll1ng-Pa55", "connection-string-password"),
    ("M0ngo-B1ll1ng-Pa55", "url-credentials"),
    ("Pg-L3dger-Pa55", "url-credentials"),
    ("Env-L1teral-S3cret", "env-literal"),
    (
        "MIIEpQIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM9Oi4Qj5u6QH0d4w7cM1vWq8yJr2k",
        "pem-private-key",
    ),
    ("D0cker-Reg-Pa55", "docker-auth"),
    ("B64-Annot-Reg-Pa55", "base64-encoded"),
    (
        "MIIEogIBAAKCAQEAwJ7bq3Cq0lmO5uQ8t2VxYfWk9sZr4dNh6pLg1jTe0aXy3bcD",
        "base64-encoded",
    ),
    ("Kube-B1n-T0ken-77", "base64-encoded"),
    ("Wr4pped-B64-Pa55", "base64-encoded"),
    (
        "T0BILL000/B0BILL000/BiLLiNgWeBhOoKsEcReT0123",
        "slack-webhook",
    ),
    ("sk_live_B1ll1ngG4tewayStr1peKey000", "stripe-key"),
    ("Env-Db-Pa55-B1ll", "sensitive-name"),
    ("Sh3ll-Flag-Pa55", "flag-value"),
    ("Args-Db-Pa55-B1ll", "sensitive-name"),
    ("glpat-B1ll1ngGitLabT0ken00", "gitlab-token"),
    (
        "eyJhbGciOiJSUzI1NiIsImtpZCI6ImJpbGwifQ.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6cGF5bWVudHM6YmlsbGluZyJ9.QmlsbGluZ09pZGNTaWduYXR1cmVGb3JUZXN0cw",
        "jwt",
    ),
    ("AIzaSyB1ll1ngGcpApiKeyForTests0123456_x", "gcp-api-key"),
    (
        "github_pat_11BILLING0aBcDeFgHiJkL_MnOpQrStUvWxYz0123456789aBcDeFgHiJkLmNoPqRsTuVwXyZ012340123",
        "github-token",
    ),
    (
        "xoxp-1234567890-1234567890-1234567890-b1ll1ngabcdef0123456789abcdef01",
        "slack-token",
    ),
    ("Pr0be-Basic-Pa55", "authorization-header"),
    ("Be4rer-Opaque-T0ken-B1ll1ng", "authorization-header"),
    ("Pl4in-Env-Pa55", "connection-string-password"),
    ("Db-Env-L0g-Pa55", "secret-key-value"),
    (
        "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQDlogLineKey000",
        "pem-private-key",
    ),
    ("Un1code-Esc-Pa55", "secret-key-value"),
    ("My-L0g-Flag-Pa55", "flag-value"),
    ("B64-L0g-T0ken-99", "base64-encoded"),
    ("rk_live_B1ll1ngRestr1ctedKey00", "stripe-key"),
    ("Jdbc-L0g-Pa55", "connection-string-password"),
    ("AKIAB1LL1NGL0GKEY0X1", "aws-access-key"),
    (
        "xoxb-4444444444-5555555555-Cl0udW4tchB0tT0ken000",
        "slack-token",
    ),
    ("Cw-M0ngo-Pa55", "url-credentials"),
    ("Cw-Api-K3y-Value-0", "secret-key-value"),
    ("Cw-B64-Json-Pa55", "base64-encoded"),
];

/// Addresses in the corpus: kept by default, gone with `--redact-ips`.
const IPS: &[&str] = &[
    "10.0.34.40",
    "10.0.32.17",
    "10.0.64.21",
    "10.0.96.201",
    "fd00:ec2:0:1::2b",
];

/// Things that are not secrets and must stay readable.
const KEPT: &[&str] = &[
    "checkout-db",
    "kubernetes.io/tls",
    "\"tls.key\"",
    "\"password\"",
    "DB_HOST",
    "orders-db.data.svc.cluster.local",
    "STRIPE_KEY",
    "letsencrypt-prod",
    "ip-10-0-32-17.eu-west-1.compute.internal",
    "arn:aws:iam::111122223333:role/prod-eu-general-node-role",
    "AROAEXAMPLE00003",
    "Readiness probe failed",
    "grafana_reader",
    // Digests, hashes and uids look like secrets to a careless rule.
    "registry.acme.io/billing@sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "\"checksum/config\": \"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\"",
    "9e1a3c5e-7f2b-4d6a-8c0e-2f4a6c8e0b1d",
    "3f1c0e9a8b7d6c5e4f3a2b1c0d9e8f7a6b5c4d3e",
    // A certificate, plain and base64: public.
    "MIIC5zCCAc+gAwIBAgIBADANBgkqhkiG9w0BAQsFADAVMRMwEQYDVQQDEwprdWJl",
    "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUM1ekNDQWMrZ0F3SUJBZ0lCQURBTkJna3Foa2lHOXcwQkFRc0ZBREFWTVJNd0VRWURWUVFERXdwcmRXSmwKY201bGRHVnpNQjRYRFRJMk1UQXdNakE1TVRRd05Wb1hEVE0yTURreU9UQTVNVFF3TlZvd0ZURVRNQkVHQTFVRQotLS0tLUVORCBDRVJUSUZJQ0FURS0tLS0tCg==",
    // What a redacted URL, header or Docker config keeps.
    "https://hooks.slack.com/services/<redacted:slack-webhook>",
    "\\\"registry.acme.io\\\": {\\\"auth\\\": \\\"<redacted:docker-auth>\\\"",
    "mongodb+srv://billing:<redacted:url-credentials>@cluster0.ab1cd.mongodb.net/billing",
    "billing@acme-billing.iam.gserviceaccount.com",
    "value: debug",
];

fn planted() -> Vec<String> {
    std::fs::read_to_string(Path::new(CORPUS).join("PLANTED.txt"))
        .expect("PLANTED.txt")
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

/// Every snapshot file of the corpus, relative to it (PLANTED.txt and README.md are not part
/// of the snapshot).
fn corpus_files() -> Vec<String> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else {
                out.push(path);
            }
        }
    }
    let mut paths = Vec::new();
    walk(Path::new(CORPUS), &mut paths);
    let mut files: Vec<String> = paths
        .iter()
        .map(|p| {
            p.strip_prefix(CORPUS)
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|p| p != "PLANTED.txt" && p != "README.md")
        .collect();
    files.sort();
    files
}

enum Input {
    Doc(Value),
    Text(String),
}

fn read(file: &str) -> Input {
    let text = std::fs::read_to_string(Path::new(CORPUS).join(file)).unwrap();
    if file.ends_with(".json") {
        Input::Doc(serde_json::from_str(&text).unwrap())
    } else if file.ends_with(".yaml") || file.ends_with(".yml") {
        // A stream of several documents is redacted as an array of them.
        let mut docs: Vec<Value> = serde_saphyr::from_multiple(&text).unwrap();
        Input::Doc(if docs.len() == 1 {
            docs.remove(0)
        } else {
            Value::Array(docs)
        })
    } else {
        Input::Text(text)
    }
}

/// Where `secret` occurs in an input: JSON pointers of the strings holding it, or `line N`.
fn occurrences(input: &Input, secret: &str) -> Vec<String> {
    fn walk(v: &Value, pointer: &str, secret: &str, out: &mut Vec<String>) {
        match v {
            Value::String(s) if reveals(s, secret) => out.push(pointer.to_string()),
            Value::Array(a) => {
                for (i, x) in a.iter().enumerate() {
                    walk(x, &format!("{pointer}/{i}"), secret, out);
                }
            }
            Value::Object(o) => {
                for (k, x) in o {
                    let token = k.replace('~', "~0").replace('/', "~1");
                    walk(x, &format!("{pointer}/{token}"), secret, out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    match input {
        Input::Doc(v) => walk(v, "", secret, &mut out),
        Input::Text(t) => {
            for (i, line) in t.lines().enumerate() {
                if reveals(line, secret) {
                    out.push(format!("line {}", i + 1));
                }
            }
        }
    }
    out
}

/// The corpus as a bundle would write it: (file, redacted bytes), and the report.
fn redact_corpus(redactor: &Redactor) -> (Vec<(String, String)>, Report) {
    let mut report = Report::default();
    let mut out = Vec::new();
    for file in corpus_files() {
        let bytes = match read(&file) {
            Input::Doc(mut v) => {
                redactor.json(&mut v, &file, &mut report);
                serde_json::to_string_pretty(&v).unwrap()
            }
            Input::Text(t) => redactor.text(&t, &file, &mut report),
        };
        out.push((file, bytes));
    }
    (out, report)
}

fn builtin(profile: Profile) -> Redactor {
    Redactor::new(&RuleSet::builtin(), profile)
}

#[test]
fn every_planted_secret_has_an_expected_rule() {
    let planted = planted();
    let expected: Vec<&str> = EXPECTED.iter().map(|(s, _)| *s).collect();
    assert_eq!(
        planted, expected,
        "PLANTED.txt and EXPECTED must list the same secrets"
    );
    let rules = RuleSet::builtin();
    for (secret, rule) in EXPECTED {
        assert!(rules.get(rule).is_some(), "{secret}: no rule {rule}");
        let places: usize = corpus_files()
            .iter()
            .map(|f| occurrences(&read(f), secret).len())
            .sum();
        assert!(
            places > 0,
            "planted secret {secret} is nowhere in the corpus"
        );
    }
}

#[test]
fn no_planted_secret_survives_anywhere() {
    let (out, _) = redact_corpus(&builtin(Profile::default()));
    let mut survivors = Vec::new();
    for secret in planted() {
        for (file, bytes) in &out {
            if reveals(bytes, &secret) {
                survivors.push(format!("{secret} in {file}"));
            }
        }
    }
    assert!(survivors.is_empty(), "survived:\n{}", survivors.join("\n"));
    let all: String = out.iter().map(|(_, b)| b.as_str()).collect();
    for kept in KEPT {
        assert!(
            all.contains(kept),
            "`{kept}` is not a secret but was redacted"
        );
    }
}

#[test]
fn the_report_accounts_for_every_planted_secret() {
    let redactor = builtin(Profile::default());
    let (_, report) = redact_corpus(&redactor);
    let entries: BTreeSet<(&str, &str, &str)> = report
        .redactions()
        .map(|r| (r.rule.as_str(), r.file.as_str(), r.location.as_str()))
        .collect();
    let mut missing = Vec::new();
    for (secret, rule) in EXPECTED {
        let mut named = false;
        for file in corpus_files() {
            for location in occurrences(&read(&file), secret) {
                // Every place it was is in the report, by some rule...
                if !entries.iter().any(|(_, f, l)| *f == file && *l == location) {
                    missing.push(format!("{secret}: nothing reported at {file} {location}"));
                }
                named |= entries.contains(&(*rule, file.as_str(), location.as_str()));
            }
        }
        // ...and its own rule at one of them at least.
        if !named {
            missing.push(format!("{secret}: rule {rule} reported nowhere it was"));
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));

    // Secret values come with their lengths, never their values.
    let lengths: Vec<(String, Option<usize>)> = report
        .redactions()
        .filter(|r| r.rule == "secret-value")
        .map(|r| (format!("{}#{}", r.file, r.location), r.length))
        .collect();
    assert!(lengths.contains(&(
        "k8s/shop/secrets.yaml#/0/data/password".to_string(),
        Some("Ch3ckout-DB-Pa55-2026".len())
    )));
    assert!(lengths.contains(&(
        "k8s/shop/secrets.yaml#/0/data/username".to_string(),
        Some(3)
    )));

    let json = report.to_json(&redactor).to_string();
    for secret in planted() {
        assert!(!reveals(&json, &secret), "redactions.json holds {secret}");
    }
    let file: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(file["profile"]["redactIps"], false);
    assert!(file["rules"].as_array().unwrap().len() >= 14);
    assert_eq!(file["redactions"].as_array().unwrap().len(), report.len());
}

#[test]
fn the_corpus_redacts_once() {
    let redactor = builtin(Profile::default());
    let (out, _) = redact_corpus(&redactor);
    let mut again = Report::default();
    for (file, bytes) in &out {
        if file.ends_with(".log") {
            assert_eq!(&redactor.text(bytes, file, &mut again), bytes, "{file}");
        } else {
            let mut v: Value = serde_json::from_str(bytes).unwrap();
            let before = v.clone();
            redactor.json(&mut v, file, &mut again);
            assert_eq!(v, before, "{file}");
        }
    }
    assert!(again.is_empty(), "{:?}", again);
}

#[test]
fn ips_stay_unless_the_profile_redacts_them() {
    let (kept, _) = redact_corpus(&builtin(Profile::default()));
    let kept: String = kept.iter().map(|(_, b)| b.as_str()).collect();
    for ip in IPS {
        assert!(kept.contains(ip), "{ip} redacted without --redact-ips");
    }
    let (gone, report) = redact_corpus(&builtin(Profile { redact_ips: true }));
    for (file, bytes) in &gone {
        for ip in IPS {
            assert!(!bytes.contains(ip), "{ip} survives --redact-ips in {file}");
        }
    }
    assert!(report.redactions().any(|r| r.rule == "ip-address"));
    // Names built from addresses are names.
    let gone: String = gone.iter().map(|(_, b)| b.as_str()).collect();
    assert!(gone.contains("ip-10-0-32-17.eu-west-1.compute.internal"));
}

/// The check itself: a secret is found raw, JSON-escaped and base64-encoded at any
/// alignment, nested.
#[test]
fn the_check_finds_every_form_of_a_secret() {
    use base64::Engine;
    let secret = "Hunter2-Is-Not-A-Password";
    let json = serde_json::to_string(&format!("{{\"password\":\"{secret}\"}}")).unwrap();
    for pad in ["", "x", "xy"] {
        let encoded =
            base64::engine::general_purpose::STANDARD.encode(format!("{pad}password={secret}\n"));
        assert!(reveals(&format!("v: {encoded}"), secret), "{encoded}");
        let nested =
            base64::engine::general_purpose::STANDARD.encode(format!("{{\"auth\":\"{encoded}\"}}"));
        assert!(reveals(&nested, secret), "{nested}");
    }
    assert!(reveals(&json, secret));
    assert!(reveals(r"Hunter2\u002dIs-Not-A-Password", secret));
    assert!(!reveals("<redacted:secret-key-value>", secret));
}
