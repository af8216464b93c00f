//! `ktriage serve`: a snapshot as a read-only Kubernetes API, so that `kubectl` (and
//! ktriage's own live source) can browse what was captured. Plain HTTP on loopback;
//! every verb but GET is answered `405 MethodNotAllowed`.

pub mod catalog;
pub mod conn;
pub mod route;
pub mod table;

use crate::facts::Source;
use crate::facts::{FactError, GroupKind, shape};
use crate::source::NOT_CAPTURED_WARNING;
use crate::source::selector::{FieldSelector, LabelSelector};
use crate::source::snapshot::Snapshot;
use bytes::Bytes;
use catalog::{Catalog, Served};
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use http::{Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full, StreamBody, combinators::BoxBody};
use hyper::body::{Frame, Incoming};
use route::{Route, Target};
use serde_json::{Value, json};
use std::convert::Infallible;
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::net::TcpListener;

pub type Body = BoxBody<Bytes, Infallible>;

/// The JSON texts of the objects a list selects, and why it is empty when the snapshot
/// did not capture them.
type Selected = (Vec<String>, Option<String>);

#[derive(Clone, Debug, Default)]
pub struct ServeOptions {
    pub listen: Option<SocketAddr>,
    /// Allow a non-loopback address (the API is unauthenticated without the token).
    pub listen_any: bool,
    pub kubeconfig_out: Option<PathBuf>,
    /// RBAC resource names (`configmaps`, `deployments.apps`, `pods/log`) answered 403.
    pub forbid: Vec<String>,
    pub latency: Option<Duration>,
    /// Every Nth request is answered 500.
    pub fail_every: Option<u64>,
    pub access_log: Option<PathBuf>,
    /// Connections, requests and watches at once, and the clients' deadlines.
    pub limits: conn::Limits,
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(
        "refusing to listen on {0}: it is not a loopback address, and the snapshot would be readable by anyone who can reach it\n  hint: use 127.0.0.1:PORT, or pass --listen-any if that is what you want"
    )]
    NotLoopback(SocketAddr),
    #[error(
        "cannot listen on {addr}: {source}\n  hint: pick another port with --listen 127.0.0.1:PORT"
    )]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
}

/// A bound listener, its address known before serving starts (tests use port 0).
pub struct Server {
    listener: TcpListener,
    state: Arc<State>,
    pool: Arc<conn::Pool>,
}

struct State {
    snapshot: Arc<Snapshot>,
    catalog: Catalog,
    options: ServeOptions,
    token: Option<String>,
    requests: AtomicU64,
    access_log: Option<Mutex<std::fs::File>>,
    now: DateTime<Utc>,
    /// `/version`, read off the snapshot once.
    version: Value,
}

const DEFAULT_PORT_ADDR: &str = "127.0.0.1:0";

impl Server {
    pub async fn bind(
        snapshot: Arc<Snapshot>,
        options: ServeOptions,
    ) -> Result<Server, ServeError> {
        let addr = options
            .listen
            .unwrap_or_else(|| DEFAULT_PORT_ADDR.parse().expect("a valid literal address"));
        if !addr.ip().is_loopback() && !options.listen_any {
            return Err(ServeError::NotLoopback(addr));
        }
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| ServeError::Bind { addr, source })?;
        let access_log = match &options.access_log {
            Some(path) => Some(Mutex::new(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .map_err(|source| ServeError::Write {
                        path: path.display().to_string(),
                        source,
                    })?,
            )),
            None => None,
        };
        // Off loopback the API is guarded by a bearer token only the kubeconfig holds.
        let token = options.listen_any.then(random_token);
        let now = snapshot.info().now;
        let catalog = Catalog::new(&snapshot);
        let version = version_of(&snapshot);
        let pool = conn::Pool::new(options.limits);
        Ok(Server {
            listener,
            pool,
            state: Arc::new(State {
                snapshot,
                catalog,
                options,
                token,
                requests: AtomicU64::new(0),
                access_log,
                now,
                version,
            }),
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound TCP listener has an address")
    }

    /// The snapshot's "now" (its capture time).
    pub fn now(&self) -> DateTime<Utc> {
        self.state.now
    }

    /// The snapshot's "now" (its capture time), as RFC 3339.
    pub fn captured_at(&self) -> String {
        self.state
            .now
            .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.local_addr())
    }

    /// A kubeconfig whose current context reaches this server; the context keeps the
    /// snapshot's name (an EKS ARN names the cluster the same way live).
    pub fn kubeconfig(&self) -> String {
        let context = self
            .state
            .snapshot
            .info()
            .context
            .clone()
            .unwrap_or_else(|| "ktriage-serve".into());
        let token = self
            .state
            .token
            .clone()
            .unwrap_or_else(|| "ktriage-serve".into());
        let doc = json!({
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "ktriage-serve", "cluster": {"server": self.url()}}],
            "users": [{"name": "ktriage-serve", "user": {"token": token}}],
            "contexts": [{"name": context, "context": {"cluster": "ktriage-serve", "user": "ktriage-serve"}}],
            "current-context": context,
        });
        serde_json::to_string_pretty(&doc).expect("JSON values serialise")
    }

    pub fn write_kubeconfig(&self, path: &std::path::Path) -> Result<(), ServeError> {
        let write = || -> std::io::Result<()> {
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create(true).truncate(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                options.mode(0o600);
            }
            let mut file = options.open(path)?;
            file.write_all(self.kubeconfig().as_bytes())?;
            file.write_all(b"\n")
        };
        write().map_err(|source| ServeError::Write {
            path: path.display().to_string(),
            source,
        })
    }

    /// Serves until the task is dropped; each connection on its own task, admitted by
    /// the pool (which may close an idle one to make room) and closed when its headers
    /// are late or its client stops reading.
    pub async fn run(self) {
        let limits = self.pool.limits();
        let mut http = hyper::server::conn::http1::Builder::new();
        http.timer(hyper_util::rt::TokioTimer::new())
            .header_read_timeout(limits.headers);
        loop {
            // Room first: a full pool leaves the next client in the listen backlog.
            let admitted = self.pool.admit().await;
            let (stream, peer) = match self.listener.accept().await {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors, most likely: wait for some to be freed.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            admitted.slot.accepted();
            let state = self.state.clone();
            let pool = self.pool.clone();
            let http = http.clone();
            tokio::spawn(async move {
                let slot = admitted.slot.clone();
                let service = hyper::service::service_fn(move |request| {
                    let state = state.clone();
                    let pool = pool.clone();
                    let slot = slot.clone();
                    async move { Ok::<_, Infallible>(state.handle(request, &pool, &slot).await) }
                });
                let io = conn::Watched::new(stream, admitted.slot.clone());
                tokio::select! {
                    served = http.serve_connection(io, service) => {
                        if let Err(e) = served {
                            tracing::debug!(%peer, error = %e, "connection ended");
                        }
                    }
                    () = admitted.slot.stalled(limits.stalled) => {
                        tracing::info!(
                            %peer,
                            "cut off a client that stopped reading its response ({:?}, --stall-timeout)",
                            limits.stalled
                        );
                    }
                    () = admitted.slot.closed() => {
                        tracing::info!(
                            %peer,
                            "closed an idle connection to make room (--max-connections {})",
                            limits.connections
                        );
                    }
                }
                drop(admitted);
            });
        }
    }
}

fn random_token() -> String {
    use std::hash::{BuildHasher, Hasher};
    let part = || {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos()),
        );
        h.finish()
    };
    format!("{:016x}{:016x}", part(), part())
}

impl State {
    async fn handle(
        &self,
        request: Request<Incoming>,
        pool: &conn::Pool,
        slot: &Arc<conn::Slot>,
    ) -> Response<Body> {
        let method = request.method().clone();
        let path = request.uri().path().to_string();
        let query = request.uri().query().map(str::to_string);
        // A watch is long-running, so it has places of its own (as the API server's
        // max-in-flight filter exempts it); anything else waits for a turn.
        let params = route::Params::parse(query.as_deref());
        let turn = if params.is_watch() {
            pool.watch(slot)
        } else {
            Some(pool.turn(slot).await)
        };
        let response = match turn {
            Some(turn) => {
                let response = self.respond(&request, &method, &path, &params).await;
                response.map(|body| conn::Held::new(body, turn).boxed())
            }
            None => too_many_requests(),
        };
        if let Some(log) = &self.access_log {
            let line = format!(
                "{} {} {}{}{} {}\n",
                Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                method,
                // Paths are the client's: a file people read gets them escaped.
                crate::text::sanitize_line(&path),
                if query.is_some() { "?" } else { "" },
                crate::text::sanitize_line(query.as_deref().unwrap_or("")),
                response.status().as_u16()
            );
            let mut file = log
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let _ = file.write_all(line.as_bytes());
        }
        response
    }

    async fn respond(
        &self,
        request: &Request<Incoming>,
        method: &Method,
        path: &str,
        params: &route::Params,
    ) -> Response<Body> {
        let n = self.requests.fetch_add(1, Ordering::SeqCst) + 1;
        if let Some(latency) = self.options.latency {
            tokio::time::sleep(latency).await;
        }
        if let Some(token) = &self.token {
            let presented = request
                .headers()
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "));
            if presented != Some(token.as_str()) {
                return status(
                    StatusCode::UNAUTHORIZED,
                    "Unauthorized",
                    "Unauthorized",
                    None,
                );
            }
        }
        if method != Method::GET {
            return status(
                StatusCode::METHOD_NOT_ALLOWED,
                "MethodNotAllowed",
                "the server does not allow this method on the requested resource",
                None,
            );
        }
        if self
            .options
            .fail_every
            .is_some_and(|every| every > 0 && n.is_multiple_of(every))
        {
            return status(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalError",
                &format!("Internal error occurred: injected failure (request {n}, --fail-every)"),
                None,
            );
        }
        let param = |key: &str| params.get(key);
        let accept = request
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        match route::parse(path) {
            Route::Version => json_response(StatusCode::OK, &self.version),
            Route::CoreVersions => json_response(
                StatusCode::OK,
                &json!({"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}]}),
            ),
            Route::Groups => json_response(StatusCode::OK, &self.group_list()),
            Route::Group(group) => match self.group(&group) {
                Some(doc) => json_response(StatusCode::OK, &doc),
                None => not_found_path(path),
            },
            Route::Resources { group, version } => {
                let doc = self.resource_list(&group, &version);
                match doc {
                    Some(doc) => json_response(StatusCode::OK, &doc),
                    None => not_found_path(path),
                }
            }
            Route::Collection(target) => {
                let Some(served) = self.served(&target) else {
                    return not_found_path(path);
                };
                if let Some(denied) =
                    self.forbidden("list", served, target.namespace.as_deref(), None)
                {
                    return denied;
                }
                let watch = params.is_watch();
                let selectors = (param("labelSelector"), param("fieldSelector"));
                let (objects, not_captured) =
                    match self.select(served, target.namespace.as_deref(), selectors) {
                        Ok(selected) => selected,
                        Err(bad) => return *bad,
                    };
                let mut response = if watch {
                    let timeout = param("timeoutSeconds")
                        .and_then(|t| t.parse::<u64>().ok())
                        .unwrap_or(1800)
                        .min(3600);
                    watch_response(objects, Duration::from_secs(timeout))
                } else if accept.contains("as=Table") {
                    let values: Vec<Value> = objects
                        .iter()
                        .filter_map(|t| serde_json::from_str(t).ok())
                        .collect();
                    let include = table::IncludeObject::parse(param("includeObject"));
                    json_response(
                        StatusCode::OK,
                        &table::table(&served.kind, &values, self.now, include),
                    )
                } else {
                    list_response(served, objects, param("limit"), param("continue"))
                };
                if let Some(reason) = not_captured {
                    warn_not_captured(&mut response, &reason);
                }
                response
            }
            Route::Object { target, name } => {
                let Some(served) = self.served(&target) else {
                    return not_found_path(path);
                };
                if let Some(denied) =
                    self.forbidden("get", served, target.namespace.as_deref(), Some(&name))
                {
                    return denied;
                }
                let ns = target.namespace.as_deref().filter(|_| served.namespaced);
                let found = match self.snapshot.get_json(&served.group_kind(), ns, &name) {
                    Ok(found) => found,
                    Err(e) => return not_captured(&e),
                };
                match found {
                    Some(text) if accept.contains("as=Table") => {
                        let value: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
                        let include = table::IncludeObject::parse(param("includeObject"));
                        json_response(
                            StatusCode::OK,
                            &table::table(&served.kind, &[value], self.now, include),
                        )
                    }
                    Some(text) => {
                        text_response(StatusCode::OK, "application/json", text.into_owned())
                    }
                    None => not_found(&served.plural, &served.group, &name),
                }
            }
            Route::Log { namespace, pod } => self.log(&namespace, &pod, params),
            Route::Subresource { what } => status(
                StatusCode::NOT_FOUND,
                "NotFound",
                &format!(
                    "ktriage serve does not serve {what}: a snapshot has no live subresources"
                ),
                None,
            ),
            Route::NotFound => not_found_path(path),
        }
    }

    fn served(&self, target: &Target) -> Option<&Served> {
        self.catalog
            .find(&target.group, &target.version, &target.plural)
    }

    /// `--forbid`: answered as RBAC would, naming user, verb, resource and namespace.
    fn forbidden(
        &self,
        verb: &str,
        served: &Served,
        namespace: Option<&str>,
        name: Option<&str>,
    ) -> Option<Response<Body>> {
        let rbac = served.rbac_name();
        self.deny(verb, &rbac, &served.plural, &served.group, namespace, name)
    }

    fn deny(
        &self,
        verb: &str,
        rbac: &str,
        resource: &str,
        group: &str,
        namespace: Option<&str>,
        name: Option<&str>,
    ) -> Option<Response<Body>> {
        if !self.options.forbid.iter().any(|f| f == rbac) {
            return None;
        }
        let scope = match namespace {
            Some(ns) => format!(" in the namespace \"{ns}\""),
            None => " at the cluster scope".into(),
        };
        let subject = match name {
            Some(n) => format!("{resource} \"{n}\" is forbidden"),
            None => format!("{resource} is forbidden"),
        };
        let message = format!(
            "{subject}: User \"ktriage-serve\" cannot {verb} resource \"{resource}\" in API group \"{group}\"{scope}"
        );
        Some(status(
            StatusCode::FORBIDDEN,
            "Forbidden",
            &message,
            Some(json!({"name": name.unwrap_or(""), "kind": resource})),
        ))
    }

    /// The objects a list selects, as JSON texts, and why the list is empty when the
    /// snapshot did not capture the kind (there). Selectors the API would reject are a 400.
    fn select(
        &self,
        served: &Served,
        namespace: Option<&str>,
        (labels, fields): (Option<&str>, Option<&str>),
    ) -> Result<Selected, Box<Response<Body>>> {
        let bad = |what: &str, text: &str, e: String| {
            Box::new(status(
                StatusCode::BAD_REQUEST,
                "BadRequest",
                &format!("unable to parse requirement: invalid {what} selector \"{text}\": {e}"),
                None,
            ))
        };
        if let Some(l) = labels {
            LabelSelector::parse(l).map_err(|e| bad("label", l, e))?;
        }
        let field_selector = match fields {
            Some(f) => Some(FieldSelector::parse(f).map_err(|e| bad("field", f, e))?),
            None => None,
        };
        let ns = namespace.filter(|_| served.namespaced);
        let gk = served.group_kind();
        let own = self.snapshot.list_json(&gk, ns, labels, fields);
        if gk != GroupKind::new("", "Event") {
            return Ok(match own {
                Ok(list) => (list.into_iter().map(|c| c.into_owned()).collect(), None),
                Err(e) => (Vec::new(), Some(reason_of(&e))),
            });
        }
        // The API server shows every event through both event APIs; a snapshot keeps
        // each where it was captured, so the core API also shows events.k8s.io ones.
        let newer = GroupKind::new("events.k8s.io", "Event");
        let converted = self
            .snapshot
            .list_json(&newer, ns, labels, None)
            .map(|list| {
                list.iter()
                    .filter_map(|text| serde_json::from_str::<Value>(text).ok())
                    .map(|value| shape::from_events_api(&value))
                    .filter(|core| field_selector.as_ref().is_none_or(|f| f.matches(core)))
                    .map(|core| core.to_string())
                    .collect::<Vec<String>>()
            });
        let mut texts: Vec<String> = match (own, &converted) {
            (Ok(list), _) => list.into_iter().map(|c| c.into_owned()).collect(),
            (Err(_), Ok(_)) => Vec::new(),
            (Err(e), Err(_)) => return Ok((Vec::new(), Some(reason_of(&e)))),
        };
        texts.extend(converted.unwrap_or_default());
        Ok((texts, None))
    }

    fn log(&self, namespace: &str, pod: &str, params: &route::Params) -> Response<Body> {
        let param = |key: &str| params.get(key);
        if let Some(denied) = self.deny(
            "get",
            "pods/log",
            "pods/log",
            "",
            Some(namespace),
            Some(pod),
        ) {
            return denied;
        }
        let pod_object = self
            .snapshot
            .get_json(&GroupKind::new("", "Pod"), Some(namespace), pod)
            .ok()
            .flatten()
            .and_then(|t| serde_json::from_str::<Value>(&t).ok());
        let Some(pod_object) = pod_object else {
            return not_found("pods", "", pod);
        };
        let names = |key: &str| -> Vec<String> {
            pod_object
                .pointer(&format!("/spec/{key}"))
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|c| c.get("name")?.as_str().map(str::to_string))
                .collect()
        };
        let main = names("containers");
        let container = match param("container") {
            Some(c) if !c.is_empty() => c.to_string(),
            // Without `container`, only a pod with one container has a log to give.
            _ => match main.as_slice() {
                [only] => only.clone(),
                _ => {
                    return status(
                        StatusCode::BAD_REQUEST,
                        "BadRequest",
                        &format!(
                            "a container name must be specified for pod {pod}, choose one of: [{}]",
                            main.join(" ")
                        ),
                        None,
                    );
                }
            },
        };
        let containers: Vec<String> = ["initContainers", "ephemeralContainers"]
            .iter()
            .flat_map(|key| names(key))
            .chain(main)
            .collect();
        if !containers.contains(&container) {
            return status(
                StatusCode::BAD_REQUEST,
                "BadRequest",
                &format!("container {container} is not valid for pod {pod}"),
                None,
            );
        }
        let previous = matches!(param("previous"), Some("true" | "1"));
        let text = match self.snapshot.log_text(namespace, pod, &container, previous) {
            Ok(text) => text,
            // The snapshot's own reason, as the API server gives its own.
            Err(e) => {
                let message = match &e {
                    FactError::Unavailable { reason, .. } => reason.clone(),
                    other => other.to_string(),
                };
                return status(StatusCode::BAD_REQUEST, "BadRequest", &message, None);
            }
        };
        let timestamps = matches!(param("timestamps"), Some("true" | "1"));
        let since = param("sinceSeconds")
            .and_then(|s| s.parse::<i64>().ok())
            .map(|s| self.now - chrono::Duration::seconds(s))
            .or_else(|| {
                param("sinceTime")
                    .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                    .map(|t| t.with_timezone(&Utc))
            });
        let mut lines: Vec<&str> = text.split_inclusive('\n').collect();
        if let Some(since) = since {
            lines.retain(|line| {
                shape::split_timestamp(line)
                    .0
                    .and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
                    .is_none_or(|t| t.with_timezone(&Utc) >= since)
            });
        }
        if let Some(n) = param("tailLines").and_then(|n| n.parse::<usize>().ok()) {
            let skip = lines.len().saturating_sub(n);
            lines.drain(..skip);
        }
        let mut out = String::new();
        for line in lines {
            if timestamps {
                out.push_str(line);
            } else {
                out.push_str(shape::split_timestamp(line).1);
                if line.ends_with('\n') && !out.ends_with('\n') {
                    out.push('\n');
                }
            }
        }
        if let Some(limit) = param("limitBytes").and_then(|n| n.parse::<usize>().ok()) {
            let mut cut = limit.min(out.len());
            while !out.is_char_boundary(cut) {
                cut -= 1;
            }
            out.truncate(cut);
        }
        text_response(StatusCode::OK, "text/plain", out)
    }

    fn group_list(&self) -> Value {
        let groups: Vec<Value> = self
            .catalog
            .groups()
            .into_iter()
            .map(|(group, versions)| group_doc(group, &versions))
            .collect();
        json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
    }

    fn group(&self, group: &str) -> Option<Value> {
        let groups = self.catalog.groups();
        let versions = groups.get(group)?;
        let mut doc = group_doc(group, versions);
        doc["kind"] = json!("APIGroup");
        doc["apiVersion"] = json!("v1");
        Some(doc)
    }

    fn resource_list(&self, group: &str, version: &str) -> Option<Value> {
        let resources: Vec<Value> = self
            .catalog
            .in_group_version(group, version)
            .flat_map(|r| {
                let main = json!({
                    "name": r.plural,
                    "singularName": r.singular,
                    "namespaced": r.namespaced,
                    "kind": r.kind,
                    "verbs": ["get", "list", "watch"],
                    "shortNames": r.short_names,
                });
                let log = (r.group.is_empty() && r.kind == "Pod").then(|| {
                    json!({"name": "pods/log", "singularName": "", "namespaced": true, "kind": "Pod", "verbs": ["get"]})
                });
                std::iter::once(main).chain(log)
            })
            .collect();
        if resources.is_empty() {
            return None;
        }
        let group_version = if group.is_empty() {
            version.to_string()
        } else {
            format!("{group}/{version}")
        };
        Some(json!({
            "kind": "APIResourceList",
            "apiVersion": "v1",
            "groupVersion": group_version,
            "resources": resources,
        }))
    }
}

/// `/version` for a snapshot.
fn version_of(snapshot: &Snapshot) -> Value {
    // The newest kubelet the snapshot shows is the best evidence of the server's
    // version it holds; without nodes the version is not claimed.
    let kubelet = snapshot
        .list_json(&GroupKind::new("", "Node"), None, None, None)
        .ok()
        .into_iter()
        .flatten()
        .filter_map(|t| serde_json::from_str::<Value>(&t).ok())
        .filter_map(|n| {
            n.pointer("/status/nodeInfo/kubeletVersion")?
                .as_str()
                .map(str::to_string)
        })
        // Numerically: v1.31 is newer than v1.9.
        .max_by_key(|v| {
            v.trim_start_matches('v')
                .split(['.', '-', '+'])
                .map_while(|p| p.parse::<u64>().ok())
                .collect::<Vec<_>>()
        });
    let git = kubelet.unwrap_or_else(|| "v0.0.0-unknown".into());
    let mut parts = git.trim_start_matches('v').split(['.', '-', '+']);
    let major = parts.next().unwrap_or("0").to_string();
    let minor = parts.next().unwrap_or("0").to_string();
    json!({
        "major": major, "minor": minor, "gitVersion": git,
        "gitCommit": "", "gitTreeState": "", "buildDate": "",
        "goVersion": "", "compiler": "ktriage-serve", "platform": "linux/amd64"
    })
}

fn group_doc(group: &str, versions: &[&str]) -> Value {
    let versions: Vec<Value> = versions
        .iter()
        .map(|v| json!({"groupVersion": format!("{group}/{v}"), "version": v}))
        .collect();
    json!({
        "name": group,
        "versions": versions,
        "preferredVersion": versions.first().cloned().unwrap_or(Value::Null),
    })
}

fn list_response(
    served: &Served,
    objects: Vec<String>,
    limit: Option<&str>,
    continue_token: Option<&str>,
) -> Response<Body> {
    let start = match continue_token.filter(|t| !t.is_empty()) {
        Some(token) => match token.parse::<usize>() {
            Ok(offset) if offset <= objects.len() => offset,
            _ => {
                return status(
                    StatusCode::GONE,
                    "Expired",
                    "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.",
                    None,
                );
            }
        },
        None => 0,
    };
    let limit = limit
        .and_then(|l| l.parse::<usize>().ok())
        .filter(|l| *l > 0)
        .unwrap_or(usize::MAX);
    let end = start.saturating_add(limit).min(objects.len());
    let mut meta = json!({"resourceVersion": "1"});
    if end < objects.len() {
        meta["continue"] = json!(end.to_string());
        meta["remainingItemCount"] = json!(objects.len() - end);
    }
    let mut body = format!(
        "{{\"kind\":\"{}List\",\"apiVersion\":\"{}\",\"metadata\":{},\"items\":[",
        served.kind,
        served.group_version(),
        meta
    );
    for (i, text) in objects[start..end].iter().enumerate() {
        if i > 0 {
            body.push(',');
        }
        body.push_str(text);
    }
    body.push_str("]}");
    text_response(StatusCode::OK, "application/json", body)
}

/// Every selected object as an ADDED event, then the stream stays open (nothing ever
/// changes in a snapshot) until the client's `timeoutSeconds`.
fn watch_response(objects: Vec<String>, timeout: Duration) -> Response<Body> {
    let events = futures_util::stream::iter(objects.into_iter().map(|o| {
        Ok::<_, Infallible>(Frame::data(Bytes::from(format!(
            "{{\"type\":\"ADDED\",\"object\":{o}}}\n"
        ))))
    }));
    let hold = futures_util::stream::once(tokio::time::sleep(timeout))
        .filter_map(|()| std::future::ready(None::<Result<Frame<Bytes>, Infallible>>));
    let body = BodyExt::boxed(StreamBody::new(events.chain(hold)));
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::TRANSFER_ENCODING, "chunked")
        .body(body)
        .expect("static headers are valid")
}

/// What the API server's max-in-flight filter answers past its limit, word for word
/// (k8s.io/apiserver/pkg/server/filters/maxinflight.go `tooManyRequests`): plain text, and
/// a Retry-After that client-go honours.
fn too_many_requests() -> Response<Body> {
    Response::builder()
        .status(StatusCode::TOO_MANY_REQUESTS)
        .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
        .header(header::RETRY_AFTER, "1")
        .body(
            Full::new(Bytes::from_static(
                b"Too many requests, please try again later.\n",
            ))
            .boxed(),
        )
        .expect("static headers are valid")
}

fn text_response(code: StatusCode, content_type: &str, body: String) -> Response<Body> {
    Response::builder()
        .status(code)
        .header(header::CONTENT_TYPE, content_type)
        .body(Full::new(Bytes::from(body)).boxed())
        .expect("static headers are valid")
}

fn json_response(code: StatusCode, value: &Value) -> Response<Body> {
    text_response(code, "application/json", value.to_string())
}

fn status(code: StatusCode, reason: &str, message: &str, details: Option<Value>) -> Response<Body> {
    let mut doc = json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code.as_u16(),
    });
    if let Some(d) = details {
        doc["details"] = d;
    }
    json_response(code, &doc)
}

fn not_found(plural: &str, group: &str, name: &str) -> Response<Body> {
    let resource = crate::facts::kinds::qualified(plural, group);
    status(
        StatusCode::NOT_FOUND,
        "NotFound",
        &format!("{resource} \"{name}\" not found"),
        Some(json!({"name": name, "kind": plural})),
    )
}

fn reason_of(e: &FactError) -> String {
    match e {
        FactError::Unavailable { reason, .. } => reason.clone(),
        other => other.to_string(),
    }
}

/// A kind the snapshot did not capture lists empty, as a cluster without such objects
/// would (kubectl's `cluster-info dump` lists every standard kind), with a standard
/// `Warning` header that says the emptiness is unknown, not observed.
fn warn_not_captured(response: &mut Response<Body>, reason: &str) {
    let text: String = format!("{NOT_CAPTURED_WARNING}{reason}")
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '?'
            }
        })
        .filter(|c| *c != '"' && *c != '\\')
        .collect();
    if let Ok(value) = http::HeaderValue::from_str(&format!("299 - \"{text}\"")) {
        response.headers_mut().append(header::WARNING, value);
    }
}

/// A kind (or namespace) the snapshot did not capture, asked for by name: a 404 that
/// names no object (a missing object's 404 names it), with the snapshot's own reason.
fn not_captured(e: &FactError) -> Response<Body> {
    status(StatusCode::NOT_FOUND, "NotFound", &reason_of(e), None)
}

fn not_found_path(path: &str) -> Response<Body> {
    status(
        StatusCode::NOT_FOUND,
        "NotFound",
        &format!("the server could not find the requested resource ({path})"),
        None,
    )
}
