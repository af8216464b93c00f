//! The live AWS source through the real SDK clients, with HTTP answers mocked by
//! aws-smithy-mocks: what moto does not implement (add-ons, access entries, Pod Identity,
//! health issues) and what AWS refuses (AccessDenied on every call, expired tokens,
//! throttling). Wire bodies are the fixtures' own `aws/` files, so the SDK's
//! deserialisation and ktriage's CLI shaping are both on the path: a walk over
//! "Kubernetes from the snapshot + AWS through the SDK" must equal the offline walk.

use crate::common;

use crate::common::{cases, copy_dir};
use aws_sdk_eks::config::http::HttpResponse;
use aws_smithy_mocks::{MockResponse, Rule, RuleMode, mock, mock_client};
use aws_smithy_types::body::SdkBody;
use ktriage::drive::Session;
use ktriage::facts::{Answer, AwsAccess, BoxFuture, Source, SourceInfo};
use ktriage::facts::{EksQuery, FactError, FactQuery, LogEventsQuery};
use ktriage::runbook::Catalog;
use ktriage::runbook::record::WalkRecord;
use ktriage::source::aws::AwsSource;
use ktriage::source::snapshot::Snapshot;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

const DENIED_BY: &str = "arn:aws:sts::111122223333:assumed-role/oncall-readonly/alice";

fn http(status: u16, error_type: Option<&str>, body: String) -> HttpResponse {
    let mut response = http::Response::builder()
        .status(status)
        .header("content-type", "application/json");
    if let Some(t) = error_type {
        response = response.header("x-amzn-errortype", t);
    }
    HttpResponse::try_from(response.body(SdkBody::from(body)).unwrap()).unwrap()
}

fn ok(body: &Value) -> HttpResponse {
    http(200, None, wire(body).to_string())
}

/// EKS (restJson1) names its error in a header; CloudWatch Logs (awsJson1.1) in `__type`.
fn eks_error(status: u16, code: &str, message: &str) -> HttpResponse {
    http(status, Some(code), json!({"message": message}).to_string())
}

fn logs_error(code: &str, message: &str) -> HttpResponse {
    http(
        400,
        None,
        json!({"__type": code, "message": message}).to_string(),
    )
}

fn denied(action: &str) -> HttpResponse {
    eks_error(
        403,
        "AccessDeniedException",
        &format!(
            "User: {DENIED_BY} is not authorized to perform: {action} on resource: arn:aws:eks:eu-west-1:918273645501:cluster/prod-eu"
        ),
    )
}

/// The CLI prints times as ISO 8601; EKS sends epoch seconds on the wire.
fn wire(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let is_time = k.ends_with("At") || k == "activationExpiry";
                    let converted = match (is_time, v.as_str()) {
                        (true, Some(s)) => chrono::DateTime::parse_from_rfc3339(s)
                            .map(|t| {
                                json!(
                                    t.timestamp() as f64
                                        + f64::from(t.timestamp_subsec_micros()) / 1e6
                                )
                            })
                            .unwrap_or_else(|_| v.clone()),
                        _ => wire(v),
                    };
                    (k.clone(), converted)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(wire).collect()),
        other => other.clone(),
    }
}

/// A fixture's `aws/` folder, indexed the way the API is asked.
#[derive(Default)]
struct Recorded {
    responses: BTreeMap<String, Value>,
    events: BTreeMap<String, Vec<Value>>,
}

impl Recorded {
    fn load(dir: &Path) -> Recorded {
        let mut recorded = Recorded::default();
        for sub in ["eks", "logs"] {
            let Ok(entries) = std::fs::read_dir(dir.join("aws").join(sub)) else {
                continue;
            };
            for entry in entries {
                let v: Value =
                    serde_json::from_str(&std::fs::read_to_string(entry.unwrap().path()).unwrap())
                        .unwrap();
                let key =
                    |top: &str, name: &str| format!("{top}/{}", v[top][name].as_str().unwrap());
                let id = if v.get("events").is_some() {
                    let group = v["logGroupName"].as_str().unwrap().to_string();
                    let events = v["events"].as_array().unwrap().clone();
                    recorded.events.entry(group).or_default().extend(events);
                    continue;
                } else if v.get("nodegroup").is_some() {
                    key("nodegroup", "nodegroupName")
                } else if v.get("addon").is_some() {
                    key("addon", "addonName")
                } else if v.get("accessEntry").is_some() {
                    key("accessEntry", "principalArn")
                } else {
                    v.as_object().unwrap().keys().next().unwrap().clone()
                };
                recorded.responses.insert(id, v);
            }
        }
        recorded
    }

    /// A describe: the response, 404 when the saved list lacks the name, and "not
    /// recorded" (a 400) when nothing says either way.
    fn describe(&self, top: &str, list: &str, name: &str) -> HttpResponse {
        if let Some(v) = self.responses.get(&format!("{top}/{name}")) {
            return ok(v);
        }
        let listed = self.responses.get(list).and_then(|l| l[list].as_array());
        match listed {
            Some(names) if !names.iter().any(|n| n.as_str() == Some(name)) => eks_error(
                404,
                "ResourceNotFoundException",
                &format!("No {top} found for name: {name}."),
            ),
            _ => eks_error(
                400,
                "InvalidRequestException",
                "not recorded in this fixture",
            ),
        }
    }

    /// A list, one item per page so pagination is always exercised.
    fn list(&self, key: &str, token: Option<&str>) -> HttpResponse {
        let Some(v) = self.responses.get(key) else {
            return eks_error(
                400,
                "InvalidRequestException",
                "not recorded in this fixture",
            );
        };
        let items = v[key].as_array().cloned().unwrap_or_default();
        let at: usize = token.map_or(0, |t| t.parse().unwrap());
        let mut page = json!({ key: items.get(at..at + 1).unwrap_or_default() });
        if at + 1 < items.len() {
            page["nextToken"] = json!((at + 1).to_string());
        }
        ok(&page)
    }
}

fn eks_rules(recorded: Arc<Recorded>) -> Vec<Rule> {
    let r = recorded;
    vec![
        mock!(aws_sdk_eks::Client::describe_cluster).then_compute_response({
            let r = r.clone();
            move |_| {
                MockResponse::Http(match r.responses.get("cluster") {
                    Some(v) => ok(v),
                    None => eks_error(400, "InvalidRequestException", "not recorded"),
                })
            }
        }),
        mock!(aws_sdk_eks::Client::list_nodegroups).then_compute_response({
            let r = r.clone();
            move |req| MockResponse::Http(r.list("nodegroups", req.next_token()))
        }),
        mock!(aws_sdk_eks::Client::describe_nodegroup).then_compute_response({
            let r = r.clone();
            move |req| {
                MockResponse::Http(r.describe(
                    "nodegroup",
                    "nodegroups",
                    req.nodegroup_name().unwrap(),
                ))
            }
        }),
        mock!(aws_sdk_eks::Client::list_addons).then_compute_response({
            let r = r.clone();
            move |req| MockResponse::Http(r.list("addons", req.next_token()))
        }),
        mock!(aws_sdk_eks::Client::describe_addon).then_compute_response({
            let r = r.clone();
            move |req| MockResponse::Http(r.describe("addon", "addons", req.addon_name().unwrap()))
        }),
        mock!(aws_sdk_eks::Client::list_access_entries).then_compute_response({
            let r = r.clone();
            move |req| MockResponse::Http(r.list("accessEntries", req.next_token()))
        }),
        mock!(aws_sdk_eks::Client::describe_access_entry).then_compute_response({
            let r = r.clone();
            move |req| {
                MockResponse::Http(r.describe(
                    "accessEntry",
                    "accessEntries",
                    req.principal_arn().unwrap(),
                ))
            }
        }),
        mock!(aws_sdk_eks::Client::list_pod_identity_associations).then_compute_response({
            let r = r.clone();
            move |req| MockResponse::Http(r.list("associations", req.next_token()))
        }),
    ]
}

/// FilterLogEvents as CloudWatch answers it: prefix, start time and a quoted term,
/// three events per page.
fn logs_rule(recorded: Arc<Recorded>) -> Rule {
    mock!(aws_sdk_cloudwatchlogs::Client::filter_log_events).then_compute_response(move |req| {
        let Some(events) = recorded
            .events
            .get(req.log_group_name().unwrap_or_default())
        else {
            return MockResponse::Http(logs_error(
                "ResourceNotFoundException",
                "The specified log group does not exist.",
            ));
        };
        let term = req
            .filter_pattern()
            .map(|p| p.trim_matches('"').to_string());
        let selected: Vec<&Value> = events
            .iter()
            .filter(|e| {
                req.log_stream_name_prefix()
                    .is_none_or(|p| e["logStreamName"].as_str().unwrap().starts_with(p))
            })
            .filter(|e| {
                req.start_time()
                    .is_none_or(|s| e["timestamp"].as_i64().unwrap() >= s)
            })
            .filter(|e| {
                term.as_deref()
                    .is_none_or(|t| e["message"].as_str().unwrap().contains(t))
            })
            .collect();
        let at: usize = req.next_token().map_or(0, |t| t.parse().unwrap());
        let mut page =
            json!({"events": selected.get(at..(at + 3).min(selected.len())).unwrap_or_default()});
        if at + 3 < selected.len() {
            page["nextToken"] = json!((at + 3).to_string());
        }
        MockResponse::Http(ok(&page))
    })
}

fn source(cluster: &str, eks: Vec<Rule>, logs: Vec<Rule>) -> AwsSource {
    AwsSource::new(
        cluster.to_string(),
        "eu-west-1".to_string(),
        mock_client!(aws_sdk_eks, RuleMode::MatchAny, &eks),
        mock_client!(aws_sdk_cloudwatchlogs, RuleMode::MatchAny, &logs),
    )
}

/// Kubernetes from a snapshot without `aws/`, AWS through the SDK: what a live session
/// on an EKS cluster is made of.
struct Mixed {
    k8s: Snapshot,
    aws: AwsSource,
    info: SourceInfo,
}

impl Source for Mixed {
    fn info(&self) -> &SourceInfo {
        &self.info
    }

    fn fetch<'a>(&'a self, query: &'a FactQuery) -> BoxFuture<'a, Result<Answer, FactError>> {
        Box::pin(async move {
            match query {
                FactQuery::Eks(q) => self.aws.eks(q).await,
                FactQuery::LogEvents(q) => self.aws.log_events(q).await,
                _ => self.k8s.fetch(query).await,
            }
        })
    }
}

/// Compiled once: the built-in runbooks' CEL takes a while to compile in a test build.
fn catalog() -> &'static Catalog {
    static CATALOG: std::sync::OnceLock<Catalog> = std::sync::OnceLock::new();
    CATALOG.get_or_init(Catalog::builtin)
}

async fn walk(source: impl Source, runbook: &str, target: Option<&str>) -> WalkRecord {
    let catalog = catalog();
    let session = Session::new(source);
    let round = session.round(catalog);
    round
        .walk(catalog.get(runbook).unwrap(), target, &BTreeMap::new())
        .await
}

fn verdict(record: &WalkRecord) -> Value {
    let v = serde_json::to_value(record).unwrap();
    let path: Vec<Value> = v["path"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| json!([s["step"], s["outcome"], s["next"]]))
        .collect();
    json!({"status": v["status"], "conclusion": v["conclusion"], "path": path})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_aws_case_walks_the_same_through_the_sdk_as_offline() {
    let scratch = tempfile::tempdir().unwrap();
    let mut compared = BTreeMap::<String, usize>::new();
    for (i, case) in cases().iter().enumerate() {
        if !case.snapshot.join("aws").is_dir() || !case.answers.is_empty() {
            continue;
        }
        let offline = Snapshot::open(&case.snapshot).unwrap();
        let k8s_dir = scratch.path().join(i.to_string());
        copy_dir(&case.snapshot, &k8s_dir, "aws");
        let k8s = Snapshot::open(&k8s_dir).unwrap();
        let recorded = Arc::new(Recorded::load(&case.snapshot));
        let cluster = offline.info().cluster.clone().expect("an EKS fixture");
        let mut info = k8s.info().clone();
        info.cluster = Some(cluster.clone());
        info.aws = AwsAccess::Live {
            cluster: cluster.name.clone(),
            region: "eu-west-1".into(),
            identity: DENIED_BY.into(),
        };
        let mixed = Mixed {
            k8s,
            aws: source(
                &cluster.name,
                eks_rules(recorded.clone()),
                vec![logs_rule(recorded)],
            ),
            info,
        };
        let through_sdk = walk(mixed, &case.runbook, case.target.as_deref()).await;
        let from_files = walk(offline, &case.runbook, case.target.as_deref()).await;
        assert_eq!(
            verdict(&through_sdk),
            verdict(&from_files),
            "{} / {}: the walk through the SDK differs from the offline walk",
            case.runbook,
            case.name
        );
        *compared.entry(case.runbook.clone()).or_default() += 1;
    }
    assert!(
        compared.get("node-not-joining").copied().unwrap_or(0) >= 15,
        "{compared:?}"
    );
    assert!(compared.len() >= 3, "{compared:?}");
}

/// Every call, refused: `forbidden`, naming the IAM action to grant.
#[tokio::test]
async fn access_denied_on_each_call_names_the_iam_action() {
    let calls: Vec<(EksQuery, &str, Rule)> = vec![
        (
            EksQuery::DescribeCluster,
            "eks:DescribeCluster",
            mock!(aws_sdk_eks::Client::describe_cluster)
                .then_http_response(|| denied("eks:DescribeCluster")),
        ),
        (
            EksQuery::ListNodegroups,
            "eks:ListNodegroups",
            mock!(aws_sdk_eks::Client::list_nodegroups)
                .then_http_response(|| denied("eks:ListNodegroups")),
        ),
        (
            EksQuery::DescribeNodegroup {
                name: "ng-ingest".into(),
            },
            "eks:DescribeNodegroup",
            mock!(aws_sdk_eks::Client::describe_nodegroup)
                .then_http_response(|| denied("eks:DescribeNodegroup")),
        ),
        (
            EksQuery::ListAddons,
            "eks:ListAddons",
            mock!(aws_sdk_eks::Client::list_addons).then_http_response(|| denied("eks:ListAddons")),
        ),
        (
            EksQuery::DescribeAddon {
                name: "coredns".into(),
            },
            "eks:DescribeAddon",
            mock!(aws_sdk_eks::Client::describe_addon)
                .then_http_response(|| denied("eks:DescribeAddon")),
        ),
        (
            EksQuery::ListAccessEntries,
            "eks:ListAccessEntries",
            mock!(aws_sdk_eks::Client::list_access_entries)
                .then_http_response(|| denied("eks:ListAccessEntries")),
        ),
        (
            EksQuery::DescribeAccessEntry {
                principal_arn: "arn:aws:iam::918273645501:role/node".into(),
            },
            "eks:DescribeAccessEntry",
            mock!(aws_sdk_eks::Client::describe_access_entry)
                .then_http_response(|| denied("eks:DescribeAccessEntry")),
        ),
        (
            EksQuery::ListPodIdentityAssociations,
            "eks:ListPodIdentityAssociations",
            mock!(aws_sdk_eks::Client::list_pod_identity_associations)
                .then_http_response(|| denied("eks:ListPodIdentityAssociations")),
        ),
    ];
    for (query, action, rule) in calls {
        let aws = source("prod-eu", vec![rule], vec![]);
        match aws.eks(&query).await {
            Err(FactError::Forbidden { resource, hint, .. }) => {
                assert_eq!(resource, action, "{query:?}");
                assert!(hint.contains(&format!("grant {action}")), "{hint}");
                assert!(hint.contains(DENIED_BY), "AWS's own words are kept: {hint}");
            }
            other => panic!("{query:?}: expected forbidden, got {other:?}"),
        }
    }

    let logs = mock!(aws_sdk_cloudwatchlogs::Client::filter_log_events).then_http_response(|| {
        logs_error(
            "AccessDeniedException",
            &format!("User: {DENIED_BY} is not authorized to perform: logs:FilterLogEvents"),
        )
    });
    let aws = source("prod-eu", vec![], vec![logs]);
    let query = LogEventsQuery {
        log_group: "/aws/containerinsights/prod-eu/application".into(),
        stream_prefix: None,
        contains: Some("error".into()),
        start_ms: None,
        limit: Some(10),
    };
    match aws.log_events(&query).await {
        Err(FactError::Forbidden { resource, .. }) => assert_eq!(resource, "logs:FilterLogEvents"),
        other => panic!("expected forbidden, got {other:?}"),
    }
}

/// A walk whose node group AWS will not describe says so and concludes nothing.
#[tokio::test]
async fn a_denied_call_is_shown_as_such_never_as_a_finding() {
    let fixture = common::root().join("tests/fixtures/nnj-role-not-mapped-configmap");
    let scratch = tempfile::tempdir().unwrap();
    copy_dir(&fixture, scratch.path(), "aws");
    let k8s = Snapshot::open(scratch.path()).unwrap();
    let recorded = Arc::new(Recorded::load(&fixture));
    let mut rules = vec![
        mock!(aws_sdk_eks::Client::describe_nodegroup)
            .then_http_response(|| denied("eks:DescribeNodegroup")),
    ];
    rules.extend(eks_rules(recorded.clone()));
    let mut info = k8s.info().clone();
    info.cluster = Snapshot::open(&fixture).unwrap().info().cluster.clone();
    let record = walk(
        Mixed {
            k8s,
            aws: source("prod-eu", rules, vec![logs_rule(recorded)]),
            info,
        },
        "node-not-joining",
        Some("ng-memory"),
    )
    .await;
    let v = serde_json::to_value(&record).unwrap();
    assert!(record.conclusion.is_none(), "{v:#}");
    assert!(
        record
            .missing
            .iter()
            .any(|m| m.fact == "target" && m.reason.contains("eks:DescribeNodegroup")),
        "{v:#}"
    );
}

#[tokio::test]
async fn what_does_not_exist_answers_null_but_a_missing_cluster_is_unavailable() {
    let rules = vec![
        mock!(aws_sdk_eks::Client::describe_nodegroup).then_http_response(|| {
            eks_error(
                404,
                "ResourceNotFoundException",
                "No node group found for name: ng-x.",
            )
        }),
        mock!(aws_sdk_eks::Client::describe_cluster).then_http_response(|| {
            eks_error(
                404,
                "ResourceNotFoundException",
                "No cluster found for name: prod-us.",
            )
        }),
    ];
    let aws = source("prod-us", rules, vec![]);
    let answer = aws
        .eks(&EksQuery::DescribeNodegroup {
            name: "ng-x".into(),
        })
        .await
        .unwrap();
    assert_eq!(answer, Value::Null);
    match aws.eks(&EksQuery::DescribeCluster).await {
        Err(FactError::Unavailable { reason, hint }) => {
            assert!(
                reason.contains("prod-us was not found in eu-west-1"),
                "{reason}"
            );
            assert!(hint.contains("--cluster-name"), "{hint}");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn expired_credentials_and_throttling_are_not_findings() {
    let rules = vec![
        mock!(aws_sdk_eks::Client::describe_cluster).then_http_response(|| {
            eks_error(
                403,
                "ExpiredTokenException",
                "The security token included in the request is expired",
            )
        }),
        mock!(aws_sdk_eks::Client::list_nodegroups)
            .then_http_response(|| eks_error(429, "TooManyRequestsException", "Rate exceeded")),
    ];
    let aws = source("prod-eu", rules, vec![]);
    match aws.eks(&EksQuery::DescribeCluster).await {
        Err(FactError::Unavailable { reason, .. }) => {
            assert!(reason.contains("AWS rejected the credentials"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        aws.eks(&EksQuery::ListNodegroups).await,
        Err(FactError::Transient { .. })
    ));
}

#[tokio::test]
async fn lists_follow_every_page_in_order() {
    let recorded = Arc::new(Recorded::load(
        &common::root().join("tests/fixtures/nnj-role-not-mapped-api"),
    ));
    let aws = source("prod-eu", eks_rules(recorded.clone()), vec![]);
    let groups = aws.eks(&EksQuery::ListNodegroups).await.unwrap();
    assert_eq!(groups, recorded.responses["nodegroups"]);
    assert!(groups["nodegroups"].as_array().unwrap().len() >= 2);
    let entries = aws.eks(&EksQuery::ListAccessEntries).await.unwrap();
    assert_eq!(entries, recorded.responses["accessEntries"]);
    assert!(entries["accessEntries"].as_array().unwrap().len() >= 3);
}

/// Health issues of add-ons and node groups, access entries and Pod Identity
/// associations come back exactly as the AWS CLI prints them.
#[tokio::test]
async fn answers_are_what_the_aws_cli_prints() {
    let addon = json!({"addon": {
        "addonName": "aws-ebs-csi-driver",
        "clusterName": "prod-eu",
        "status": "DEGRADED",
        "addonVersion": "v1.37.0-eksbuild.1",
        "health": {"issues": [{
            "code": "InsufficientNumberOfReplicas",
            "message": "The add-on is unhealthy because it doesn't have the desired number of replicas.",
            "resourceIds": ["ebs-csi-controller"]
        }]},
        "addonArn": "arn:aws:eks:eu-west-1:918273645501:addon/prod-eu/aws-ebs-csi-driver/aec9f2d1-1111-2222-3333-cfab054fdf7a",
        "createdAt": "2025-06-03T19:44:24.512000+00:00",
        "modifiedAt": "2026-11-20T02:58:11.101000+00:00",
        "serviceAccountRoleArn": "arn:aws:iam::918273645501:role/prod-eu-ebs-csi",
        "tags": {}
    }});
    let associations = json!({"associations": [{
        "clusterName": "prod-eu",
        "namespace": "kube-system",
        "serviceAccount": "ebs-csi-controller-sa",
        "associationArn": "arn:aws:eks:eu-west-1:918273645501:podidentityassociation/prod-eu/a-0123456789abcdef0",
        "associationId": "a-0123456789abcdef0"
    }]});
    let rules = vec![
        mock!(aws_sdk_eks::Client::describe_addon).then_http_response({
            let a = addon.clone();
            move || ok(&a)
        }),
        mock!(aws_sdk_eks::Client::list_pod_identity_associations).then_http_response({
            let a = associations.clone();
            move || ok(&a)
        }),
    ];
    let aws = source("prod-eu", rules, vec![]);
    let got = aws
        .eks(&EksQuery::DescribeAddon {
            name: "aws-ebs-csi-driver".into(),
        })
        .await
        .unwrap();
    assert_eq!(got, addon);
    let got = aws
        .eks(&EksQuery::ListPodIdentityAssociations)
        .await
        .unwrap();
    assert_eq!(got, associations);
}

/// Bounded by the runbook's limit across pages; a log type the cluster does not send is
/// unavailable without a search.
#[tokio::test]
async fn log_searches_are_bounded_and_disabled_types_are_not_searched() {
    let fixture = common::root().join("tests/fixtures/nnj-role-not-mapped-configmap");
    let recorded = Arc::new(Recorded::load(&fixture));
    let logs = logs_rule(recorded.clone());
    let aws = source("prod-eu", eks_rules(recorded), vec![logs.clone()]);
    let query = LogEventsQuery {
        log_group: "/aws/eks/prod-eu/cluster".into(),
        stream_prefix: Some("authenticator-".into()),
        contains: Some("access denied".into()),
        start_ms: None,
        limit: Some(4),
    };
    let events = aws.log_events(&query).await.unwrap();
    assert_eq!(events.as_array().unwrap().len(), 4);
    assert!(logs.num_calls() >= 2, "the bound spans pages");

    let off = common::root().join("tests/fixtures/nnj-authenticator-logs-off");
    let recorded = Arc::new(Recorded::load(&off));
    let logs = logs_rule(recorded.clone());
    let aws = source("prod-eu", eks_rules(recorded), vec![logs.clone()]);
    match aws.log_events(&query).await {
        Err(FactError::Unavailable { reason, hint }) => {
            assert!(
                reason.starts_with("authenticator logs are not enabled for cluster prod-eu"),
                "{reason}"
            );
            assert!(
                hint.contains(
                    "aws eks update-cluster-config --name prod-eu --region eu-west-1 --logging"
                ),
                "{hint}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(logs.num_calls(), 0, "a disabled type is not searched");
}
