//! A live cluster through kube-rs. Fact queries become GETs with server-side selectors
//! and pagination; answers are shaped exactly like a snapshot's (`managedFields`
//! dropped, list items carrying `apiVersion`/`kind`), so a runbook cannot tell them apart.

pub mod connect;
pub mod readonly;
pub mod request;
pub mod resources;
pub mod watch;

use crate::facts::{Answer, AwsAccess, BoxFuture, ClusterIdentity, Source, SourceInfo};
use crate::facts::{FactError, FactQuery, FieldSet, GroupKind, ObjectRef};
use crate::source::aws::{AwsLink, AwsSource};
use chrono::{DateTime, Utc};
pub use connect::{ConnectError, Connection, LiveOptions, connect};
use http::StatusCode;
use request::{Api, Intent, Reply};
use resources::{Resolver, Resource, query_value};
use serde::Deserialize;
use serde_json::Value;

/// Objects per list page: kubectl's own chunk size.
pub const PAGE_SIZE: u32 = 500;
/// A list whose continue token expired (410) is started again this many times at most.
const LIST_RESTARTS: u32 = 3;

pub struct LiveSource {
    api: Api,
    info: SourceInfo,
    resolver: Resolver,
    aws: Option<AwsSource>,
    server: String,
}

impl LiveSource {
    /// `now` fixes the clock every age is judged by (reproducing an earlier run);
    /// otherwise it is the time of connecting.
    pub fn new(connection: Connection, now: Option<DateTime<Utc>>) -> LiveSource {
        let cluster = identity(connection.context.as_deref(), connection.exec.as_ref());
        let description = match &connection.context {
            Some(context) => format!("context {context} ({})", connection.server),
            None => format!("in-cluster ({})", connection.server),
        };
        let plugin = connection.exec.as_ref().map(|(cmd, args)| {
            std::iter::once(cmd.clone())
                .chain(args.iter().cloned())
                .collect::<Vec<_>>()
                .join(" ")
        });
        LiveSource {
            api: Api {
                client: connection.client,
                plugin,
            },
            info: SourceInfo {
                description,
                live: true,
                context: connection.context,
                cluster,
                now: now.unwrap_or_else(crate::clock::now),
                aws: AwsAccess::Unavailable {
                    reason: "AWS was not asked".into(),
                    hint: "ktriage connects to AWS when it starts on a live context".into(),
                },
                problems: Vec::new(),
            },
            resolver: Resolver::default(),
            aws: None,
            server: connection.server,
        }
    }

    /// The cluster's API server URL (its region, for EKS).
    pub fn server(&self) -> &str {
        &self.server
    }

    /// AWS facts from here on come through `link`, and the cluster is the one it names.
    pub fn with_aws(mut self, link: AwsLink) -> LiveSource {
        if link.cluster.is_some() {
            self.info.cluster = link.cluster;
        }
        self.info.aws = link.access;
        self.aws = link.source;
        self
    }

    fn aws_unavailable(&self) -> FactError {
        match &self.info.aws {
            AwsAccess::Unavailable { reason, hint } => FactError::unavailable(reason, hint),
            _ => FactError::unavailable("AWS was not asked", "run on a live context"),
        }
    }

    pub fn client(&self) -> &kube::Client {
        &self.api.client
    }

    /// One request before any walk, so that unreachable servers and failing credentials
    /// are said once, plainly, instead of as an unknown on every step. The server's
    /// `gitVersion` on success.
    pub async fn probe(&self, retrying: &mut impl FnMut(u32, &str)) -> Result<String, FactError> {
        let intent = Intent {
            verb: "get",
            resource: "/version".into(),
            namespace: None,
        };
        match request::get_reporting(&self.api, "/version", &intent, retrying).await? {
            Reply::Ok(body) => Ok(serde_json::from_slice::<Value>(&body)
                .ok()
                .and_then(|v| v.get("gitVersion")?.as_str().map(str::to_string))
                .unwrap_or_default()),
            // Some API servers hide /version; the cluster still answered.
            Reply::Status { .. } => Ok(String::new()),
        }
    }

    async fn answer(&self, query: &FactQuery) -> Result<Answer, FactError> {
        match query {
            FactQuery::Get {
                resource,
                namespace,
                name,
            } => self.get(resource, namespace.as_deref(), name).await,
            FactQuery::List {
                resource,
                namespace,
                label_selector,
                field_selector,
                fields,
            } => {
                let r = self.resolver.resolve(&self.api, resource).await?;
                let items = self
                    .list(
                        &r,
                        namespace.as_deref(),
                        label_selector.as_deref(),
                        field_selector.as_deref(),
                        fields.as_ref(),
                    )
                    .await?;
                Ok(Value::Array(items))
            }
            FactQuery::Events { object } => self.events(object).await,
            FactQuery::Logs {
                namespace,
                pod,
                container,
                previous,
                tail_lines,
            } => {
                self.logs(namespace, pod, container, *previous, *tail_lines)
                    .await
            }
            FactQuery::Eks(q) => match &self.aws {
                Some(aws) => aws.eks(q).await,
                None => Err(self.aws_unavailable()),
            },
            FactQuery::LogEvents(q) => match &self.aws {
                Some(aws) => aws.log_events(q).await,
                None => Err(self.aws_unavailable()),
            },
        }
    }

    async fn get(
        &self,
        gk: &GroupKind,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<Answer, FactError> {
        let r = self.resolver.resolve(&self.api, gk).await?;
        let ns = namespace.filter(|_| r.namespaced);
        let intent = Intent {
            verb: "get",
            resource: r.rbac_name(),
            namespace: ns.map(str::to_string),
        };
        match request::get(&self.api, &r.item(ns, name), &intent).await? {
            Reply::Ok(body) => {
                let mut object = parse(&body, &intent)?;
                strip_managed_fields(&mut object);
                Ok(object)
            }
            Reply::Status {
                code: StatusCode::NOT_FOUND,
                names_object: true,
                ..
            } => Ok(Value::Null),
            Reply::Status { code, message, .. } => Err(refused(&intent, code, &message)),
        }
    }

    /// Every page of a list, each object trimmed as it arrives; a continue token that
    /// expired mid-way (410) starts the list again, since pages of two different
    /// moments would mix.
    async fn list(
        &self,
        r: &Resource,
        namespace: Option<&str>,
        labels: Option<&str>,
        fields_selector: Option<&str>,
        fields: Option<&FieldSet>,
    ) -> Result<Vec<Value>, FactError> {
        let ns = namespace.filter(|_| r.namespaced);
        let intent = Intent {
            verb: "list",
            resource: r.rbac_name(),
            namespace: ns.map(str::to_string),
        };
        let mut base = format!("{}?limit={PAGE_SIZE}", r.collection(ns));
        if let Some(l) = labels.filter(|l| !l.is_empty()) {
            base.push_str(&format!("&labelSelector={}", query_value(l)));
        }
        if let Some(f) = fields_selector.filter(|f| !f.is_empty()) {
            base.push_str(&format!("&fieldSelector={}", query_value(f)));
        }
        'restart: for _ in 0..=LIST_RESTARTS {
            let mut items = Vec::new();
            let mut token: Option<String> = None;
            loop {
                let path = match &token {
                    Some(t) => format!("{base}&continue={}", query_value(t)),
                    None => base.clone(),
                };
                let page: Page = match request::get(&self.api, &path, &intent).await? {
                    Reply::Ok(body) => {
                        serde_json::from_slice(&body).map_err(|e| unreadable(&intent, e))?
                    }
                    Reply::Status {
                        code: StatusCode::GONE,
                        ..
                    } if token.is_some() => {
                        tracing::debug!(%path, "continue token expired; listing again");
                        continue 'restart;
                    }
                    Reply::Status { code, message, .. } => {
                        return Err(refused(&intent, code, &message));
                    }
                };
                for mut item in page.items {
                    as_stored(&mut item, r);
                    items.push(match fields {
                        Some(f) => f.prune(item),
                        None => item,
                    });
                }
                match page.metadata.continue_token.filter(|t| !t.is_empty()) {
                    Some(t) => token = Some(t),
                    None => return Ok(items),
                }
            }
        }
        Err(FactError::Transient {
            reason: format!(
                "cannot list {}: the list kept changing faster than it could be read ({} restarts after 410 Expired)",
                intent.resource, LIST_RESTARTS
            ),
            hint: "re-run the round; on a very large cluster narrow the query".into(),
        })
    }

    /// The core event API shows every event, whichever API wrote it; `events.k8s.io`
    /// is asked only when RBAC refuses the core one, so a walk costs one request per
    /// object's events.
    async fn events(&self, about: &ObjectRef) -> Result<Answer, FactError> {
        let namespace = about.events_namespace();
        let selector = |prefix: &str| {
            let mut s = format!("{prefix}.kind={},{prefix}.name={}", about.kind, about.name);
            if let Some(ns) = namespace {
                s.push_str(&format!(",{prefix}.namespace={ns}"));
            }
            s
        };
        let core = GroupKind::new("", "Event");
        let mut events = match self
            .list_kind(&core, namespace, &selector("involvedObject"))
            .await
        {
            Err(forbidden @ FactError::Forbidden { .. }) => {
                let new = GroupKind::new("events.k8s.io", "Event");
                self.list_kind(&new, namespace, &selector("regarding"))
                    .await
                    .map_err(|_| forbidden)?
            }
            other => other?,
        };
        // The uid is compared here, not in the selector: the kubelet writes node events
        // with the node's name as uid, which a uid selector would drop.
        events.retain(|ev| {
            let reference = ev.get("involvedObject").or_else(|| ev.get("regarding"));
            about.same_uid(reference.and_then(|r| r.get("uid")).and_then(Value::as_str))
        });
        Ok(Value::Array(events))
    }

    async fn list_kind(
        &self,
        gk: &GroupKind,
        namespace: Option<&str>,
        field_selector: &str,
    ) -> Result<Vec<Value>, FactError> {
        let r = self.resolver.resolve(&self.api, gk).await?;
        self.list(&r, namespace, None, Some(field_selector), None)
            .await
    }

    async fn logs(
        &self,
        namespace: &str,
        pod: &str,
        container: &str,
        previous: bool,
        tail_lines: Option<u32>,
    ) -> Result<Answer, FactError> {
        let intent = Intent {
            verb: "get",
            resource: "pods/log".into(),
            namespace: Some(namespace.to_string()),
        };
        let mut path = format!(
            "/api/v1/namespaces/{}/pods/{}/log?container={}&timestamps=true",
            resources::segment(namespace),
            resources::segment(pod),
            query_value(container)
        );
        if previous {
            path.push_str("&previous=true");
        }
        if let Some(n) = tail_lines {
            path.push_str(&format!("&tailLines={n}"));
        }
        let which = if previous { "previous log" } else { "log" };
        match request::get(&self.api, &path, &intent).await? {
            Reply::Ok(body) => Ok(Value::String(String::from_utf8_lossy(&body).into_owned())),
            // No such container, no previous instance, pod gone: the API says which.
            Reply::Status { code, message, .. }
                if code == StatusCode::BAD_REQUEST || code == StatusCode::NOT_FOUND =>
            {
                Err(FactError::unavailable(
                    if message.contains(container) {
                        message
                    } else {
                        format!(
                            "no {which} of container {container} of pod {namespace}/{pod}: {message}"
                        )
                    },
                    format!(
                        "`kubectl logs -n {namespace} {pod} -c {container}{}` shows the same",
                        if previous { " --previous" } else { "" }
                    ),
                ))
            }
            Reply::Status { code, message, .. } => Err(refused(&intent, code, &message)),
        }
    }
}

impl Source for LiveSource {
    fn info(&self) -> &SourceInfo {
        &self.info
    }

    fn fetch<'a>(&'a self, query: &'a FactQuery) -> BoxFuture<'a, Result<Answer, FactError>> {
        Box::pin(self.answer(query))
    }
}

#[derive(Deserialize)]
struct Page {
    #[serde(default)]
    metadata: PageMeta,
    #[serde(default)]
    items: Vec<Value>,
}

#[derive(Deserialize, Default)]
struct PageMeta {
    #[serde(rename = "continue")]
    continue_token: Option<String>,
}

/// An object from a list or watch shaped as a snapshot stores it: `managedFields`
/// dropped, and the `apiVersion`/`kind` that list items omit filled in.
fn as_stored(item: &mut Value, r: &Resource) {
    strip_managed_fields(item);
    if let Value::Object(map) = item {
        map.entry("apiVersion")
            .or_insert_with(|| Value::String(r.api_version()));
        map.entry("kind")
            .or_insert_with(|| Value::String(r.kind.clone()));
    }
}

fn strip_managed_fields(object: &mut Value) {
    if let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.remove("managedFields");
    }
}

fn parse(body: &[u8], intent: &Intent) -> Result<Value, FactError> {
    serde_json::from_slice(body).map_err(|e| unreadable(intent, e))
}

fn unreadable(intent: &Intent, e: serde_json::Error) -> FactError {
    FactError::unavailable(
        format!(
            "cannot read the answer to {} {}: {e}",
            intent.verb, intent.resource
        ),
        "the API server (or a proxy in front of it) answered something that is not Kubernetes JSON",
    )
}

/// A status the query has no meaning for: a 404 for a resource the server does not serve
/// (or, from `ktriage serve`, did not capture: its message says so), a 400 for a selector
/// it rejects.
fn refused(intent: &Intent, code: StatusCode, message: &str) -> FactError {
    let where_ = intent
        .namespace
        .as_deref()
        .map_or(String::new(), |ns| format!(" in {ns}"));
    if code == StatusCode::NOT_FOUND {
        let reason = if message.is_empty() || message.starts_with("the server could not find") {
            format!("the cluster does not serve {}", intent.resource)
        } else {
            message.to_string()
        };
        return FactError::unavailable(
            reason,
            format!(
                "`kubectl api-resources` lists what the cluster serves; {} may need its CRD or add-on installed",
                intent.resource
            ),
        );
    }
    FactError::unavailable(
        format!(
            "cannot {} {}{where_}: the API server answered {} {message}",
            intent.verb,
            intent.resource,
            code.as_u16()
        ),
        "`kubectl get --raw` with the same path shows the server's full answer",
    )
}

/// The EKS cluster behind a context: its ARN as the context name, or the arguments of an
/// `aws eks get-token` credential plugin.
fn identity(
    context: Option<&str>,
    exec: Option<&(String, Vec<String>)>,
) -> Option<ClusterIdentity> {
    if let Some((region, name)) = context.and_then(super::snapshot::parse_eks_arn) {
        return Some(ClusterIdentity {
            name: name.to_string(),
            region: Some(region.to_string()),
        });
    }
    let (_, args) = exec?;
    let arg = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .cloned()
            .or_else(|| {
                args.iter()
                    .find_map(|a| a.strip_prefix(&format!("{flag}=")).map(str::to_string))
            })
    };
    let name = arg("--cluster-name").or_else(|| arg("--cluster-id"))?;
    Some(ClusterIdentity {
        name,
        region: arg("--region"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_identity_from_context_arn_or_get_token_args() {
        let eks = identity(
            Some("arn:aws:eks:eu-west-1:111122223333:cluster/prod"),
            None,
        )
        .unwrap();
        assert_eq!(
            (eks.name.as_str(), eks.region.as_deref()),
            ("prod", Some("eu-west-1"))
        );
        let exec = (
            "aws".to_string(),
            [
                "--region",
                "us-east-2",
                "eks",
                "get-token",
                "--cluster-name",
                "shop",
            ]
            .map(String::from)
            .to_vec(),
        );
        let eks = identity(Some("shop-admin"), Some(&exec)).unwrap();
        assert_eq!(
            (eks.name.as_str(), eks.region.as_deref()),
            ("shop", Some("us-east-2"))
        );
        let authenticator = (
            "aws-iam-authenticator".to_string(),
            ["token", "-i", "x", "--cluster-id=blue"]
                .map(String::from)
                .to_vec(),
        );
        assert_eq!(identity(None, Some(&authenticator)).unwrap().name, "blue");
        assert_eq!(identity(Some("kind-dev"), None), None);
    }
}
