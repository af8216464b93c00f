//! AWS facts through the AWS SDK for Rust (EKS and CloudWatch Logs), answered in the
//! shape `aws ... --output json` prints, so a runbook reads a live answer exactly as it
//! reads a file saved under a snapshot's `aws/`. Read-only: only `Describe*`, `List*`,
//! `FilterLogEvents` and `sts get-caller-identity` are ever sent.

mod connect;
mod error;
pub(crate) mod logging;
pub(crate) mod shape;

pub use connect::{AwsLink, AwsOptions, connect, region_of_endpoint};

use crate::facts::Answer;
use crate::facts::{EksQuery, FactError, LogEventsQuery};
use error::{Call, Failure, classify};
use serde_json::{Value, json};

/// At most this many CloudWatch events per query, whatever the runbook asks.
pub const MAX_LOG_EVENTS: usize = 10_000;
/// At most this many bytes of event messages per query: a runbook quotes lines, it does
/// not need a day of audit log.
pub const MAX_LOG_BYTES: usize = 8 << 20;
/// FilterLogEvents may return empty pages while it scans; this many pages end the scan.
const MAX_LOG_PAGES: usize = 200;

/// The items of every page of a paginated call, or its first failure.
macro_rules! every_page {
    ($pages:expr, |$page:ident| $items:expr) => {{
        let mut pages = $pages;
        let mut all = Vec::new();
        let mut failed = None;
        while let Some(page) = pages.next().await {
            match page {
                Ok($page) => all.extend($items),
                Err(e) => {
                    failed = Some(e);
                    break;
                }
            }
        }
        match failed {
            Some(e) => Err(e),
            None => Ok(all),
        }
    }};
}

/// One EKS cluster's API, with the clients that read it.
pub struct AwsSource {
    cluster: String,
    region: String,
    eks: aws_sdk_eks::Client,
    logs: aws_sdk_cloudwatchlogs::Client,
}

impl AwsSource {
    /// Clients built elsewhere (tests give mocked ones).
    pub fn new(
        cluster: String,
        region: String,
        eks: aws_sdk_eks::Client,
        logs: aws_sdk_cloudwatchlogs::Client,
    ) -> AwsSource {
        AwsSource {
            cluster,
            region,
            eks,
            logs,
        }
    }

    pub fn cluster(&self) -> &str {
        &self.cluster
    }

    fn call<'a>(&self, action: &'static str, cli: &'a str, resource: &str) -> Call<'a> {
        Call {
            action,
            cli,
            resource: format!("arn:aws:eks:{}:ACCOUNT:{resource}", self.region),
        }
    }

    /// One EKS call (every page of a list), as the AWS CLI prints its response.
    pub async fn eks(&self, query: &EksQuery) -> Result<Answer, FactError> {
        let cli = query.cli_command(&self.cluster);
        let c = self.cluster.as_str();
        let cluster_arn = format!("cluster/{c}");
        let fail = |failure: Failure, call: &Call<'_>| -> Result<Answer, FactError> {
            match failure {
                Failure::Fact(e) => Err(e),
                // A describe of something that is not there answers "nothing", as a
                // Kubernetes GET of a missing object does.
                Failure::NotFound(_) if !matches!(query, EksQuery::DescribeCluster) => {
                    Ok(Value::Null)
                }
                Failure::NotFound(message) => Err(FactError::unavailable(
                    format!(
                        "EKS cluster {c} was not found in {} ({message})",
                        self.region
                    ),
                    format!(
                        "check --cluster-name and --region (`aws eks list-clusters --region {}`), and that the credentials are for the cluster's account ({})",
                        self.region, call.action
                    ),
                )),
            }
        };
        match query {
            EksQuery::DescribeCluster => {
                let call = self.call("eks:DescribeCluster", &cli, &cluster_arn);
                match self.eks.describe_cluster().name(c).send().await {
                    Ok(out) => Ok(json!({"cluster": out.cluster().map(shape::cluster)})),
                    Err(e) => fail(classify(&e, &call), &call),
                }
            }
            EksQuery::ListNodegroups => {
                let call = self.call("eks:ListNodegroups", &cli, &cluster_arn);
                match every_page!(
                    self.eks
                        .list_nodegroups()
                        .cluster_name(c)
                        .into_paginator()
                        .send(),
                    |p| p.nodegroups().iter().cloned()
                ) {
                    Ok(names) => Ok(json!({"nodegroups": names})),
                    Err(e) => fail(classify(&e, &call), &call),
                }
            }
            EksQuery::DescribeNodegroup { name } => {
                let call = self.call(
                    "eks:DescribeNodegroup",
                    &cli,
                    &format!("nodegroup/{c}/{name}/*"),
                );
                match self
                    .eks
                    .describe_nodegroup()
                    .cluster_name(c)
                    .nodegroup_name(name)
                    .send()
                    .await
                {
                    Ok(out) => Ok(json!({"nodegroup": out.nodegroup().map(shape::nodegroup)})),
                    Err(e) => fail(classify(&e, &call), &call),
                }
            }
            EksQuery::ListAddons => {
                let call = self.call("eks:ListAddons", &cli, &cluster_arn);
                match every_page!(
                    self.eks
                        .list_addons()
                        .cluster_name(c)
                        .into_paginator()
                        .send(),
                    |p| p.addons().iter().cloned()
                ) {
                    Ok(names) => Ok(json!({"addons": names})),
                    Err(e) => fail(classify(&e, &call), &call),
                }
            }
            EksQuery::DescribeAddon { name } => {
                let call = self.call("eks:DescribeAddon", &cli, &format!("addon/{c}/{name}/*"));
                match self
                    .eks
                    .describe_addon()
                    .cluster_name(c)
                    .addon_name(name)
                    .send()
                    .await
                {
                    Ok(out) => Ok(json!({"addon": out.addon().map(shape::addon)})),
                    Err(e) => fail(classify(&e, &call), &call),
                }
            }
            EksQuery::ListAccessEntries => {
                let call = self.call("eks:ListAccessEntries", &cli, &cluster_arn);
                match every_page!(
                    self.eks
                        .list_access_entries()
                        .cluster_name(c)
                        .into_paginator()
                        .send(),
                    |p| p.access_entries().iter().cloned()
                ) {
                    Ok(arns) => Ok(json!({"accessEntries": arns})),
                    Err(e) => fail(classify(&e, &call), &call),
                }
            }
            EksQuery::DescribeAccessEntry { principal_arn } => {
                let call = self.call(
                    "eks:DescribeAccessEntry",
                    &cli,
                    &format!("access-entry/{c}/*"),
                );
                match self
                    .eks
                    .describe_access_entry()
                    .cluster_name(c)
                    .principal_arn(principal_arn)
                    .send()
                    .await
                {
                    Ok(out) => {
                        Ok(json!({"accessEntry": out.access_entry().map(shape::access_entry)}))
                    }
                    Err(e) => fail(classify(&e, &call), &call),
                }
            }
            EksQuery::ListPodIdentityAssociations => {
                let call = self.call("eks:ListPodIdentityAssociations", &cli, &cluster_arn);
                match every_page!(
                    self.eks
                        .list_pod_identity_associations()
                        .cluster_name(c)
                        .into_paginator()
                        .send(),
                    |p| p.associations().iter().map(shape::pod_identity_association)
                ) {
                    Ok(associations) => Ok(json!({"associations": associations})),
                    Err(e) => fail(classify(&e, &call), &call),
                }
            }
        }
    }

    /// FilterLogEvents, every page up to the bounds. A control-plane log type the cluster
    /// does not send is unavailable, not "no lines".
    pub async fn log_events(&self, query: &LogEventsQuery) -> Result<Answer, FactError> {
        if logging::is_control_plane_group(&query.log_group, &self.cluster) {
            let cluster = self.eks(&EksQuery::DescribeCluster).await?;
            if let Some(disabled) = logging::disabled(&cluster, query) {
                return Err(disabled);
            }
        }
        let cli = format!(
            "aws logs filter-log-events --log-group-name {}",
            query.log_group
        );
        let call = Call {
            action: "logs:FilterLogEvents",
            cli: &cli,
            resource: format!(
                "arn:aws:logs:{}:ACCOUNT:log-group:{}:*",
                self.region, query.log_group
            ),
        };
        let limit = query
            .limit
            .map_or(MAX_LOG_EVENTS, |l| (l as usize).min(MAX_LOG_EVENTS));
        let mut events = Vec::new();
        let mut bytes = 0usize;
        let mut token: Option<String> = None;
        for page in 0.. {
            if page == MAX_LOG_PAGES {
                if events.is_empty() {
                    return Err(FactError::Transient {
                        reason: format!(
                            "CloudWatch Logs had not finished searching {} after {MAX_LOG_PAGES} pages",
                            query.log_group
                        ),
                        hint: "narrow the time window, or search in the CloudWatch console (Logs Insights)".into(),
                    });
                }
                tracing::warn!(group = %query.log_group, "log search cut at {MAX_LOG_PAGES} pages");
                break;
            }
            let mut request = self
                .logs
                .filter_log_events()
                .log_group_name(&query.log_group)
                .set_log_stream_name_prefix(query.stream_prefix.clone())
                .set_start_time(query.start_ms)
                .set_next_token(token.take())
                .limit(((limit - events.len()).min(10_000)) as i32);
            if let Some(term) = &query.contains {
                // A quoted term is matched literally; the runbook does the real matching.
                request = request.filter_pattern(format!("\"{}\"", term.replace('"', "")));
            }
            let out = match request.send().await {
                Ok(out) => out,
                Err(e) => {
                    return match classify(&e, &call) {
                        Failure::Fact(e) => Err(e),
                        Failure::NotFound(_) => Err(FactError::unavailable(
                            format!(
                                "log group {} does not exist in {}",
                                query.log_group, self.region
                            ),
                            logging::enable_hint(&self.cluster, &self.region, None),
                        )),
                    };
                }
            };
            // The prefix again, client-side: an endpoint that ignores it (moto does) must
            // not put another component's lines in front of a runbook.
            let prefix = query.stream_prefix.as_deref().unwrap_or_default();
            for event in out
                .events()
                .iter()
                .filter(|e| e.log_stream_name().unwrap_or_default().starts_with(prefix))
            {
                bytes += event.message().map_or(0, str::len);
                events.push(shape::log_event(event));
            }
            token = out.next_token().map(str::to_string);
            if events.len() >= limit || bytes >= MAX_LOG_BYTES {
                tracing::info!(
                    group = %query.log_group,
                    events = events.len(),
                    bytes,
                    "log search stopped at its bound"
                );
                events.truncate(limit);
                break;
            }
            if token.is_none() {
                break;
            }
        }
        Ok(Value::Array(events))
    }
}
