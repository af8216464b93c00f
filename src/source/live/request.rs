//! One GET to the API server, with the failure policy of DESIGN.md: answers that are
//! refusals become `forbidden`/`unavailable` at once; timeouts, 5xx and 429 are retried
//! with backoff a bounded number of times and then become `transient`.

use super::connect::chain;
use crate::facts::FactError;
use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::BodyExt;
use std::time::Duration;

/// Attempts per request, the first included.
pub const ATTEMPTS: u32 = 4;
/// One attempt, headers and body: long enough for a 500-object page from a busy API
/// server, short enough that a hung connection does not hold a walk for minutes.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
/// The longest `Retry-After` honoured; a server asking for more is treated as down.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(10);

/// What a request is for, so a refusal can say what was refused.
#[derive(Clone, Debug)]
pub struct Intent {
    /// RBAC verb: `get`, `list`, `watch`.
    pub verb: &'static str,
    /// RBAC resource: `configmaps`, `deployments.apps`, `pods/log`.
    pub resource: String,
    pub namespace: Option<String>,
}

impl Intent {
    fn forbidden(&self, message: &str) -> FactError {
        let ns_flag = match &self.namespace {
            Some(ns) => format!(" -n {ns}"),
            None => " -A".into(),
        };
        let scope = match &self.namespace {
            Some(ns) => format!("in namespace {ns}"),
            None => "cluster-wide".into(),
        };
        FactError::Forbidden {
            verb: self.verb.into(),
            resource: self.resource.clone(),
            namespace: self.namespace.clone(),
            hint: format!(
                "ask for RBAC `{}` on `{}` {scope} (check with `kubectl auth can-i {} {}{ns_flag}`); the API server said: {message}",
                self.verb, self.resource, self.verb, self.resource
            ),
        }
    }
}

/// A successful answer's body, or a status the caller gives meaning to (404, 410, 400).
pub enum Reply {
    Ok(Bytes),
    Status {
        code: StatusCode,
        message: String,
        /// A 404 that names the object (`details.name`): the object does not exist, as
        /// opposed to the resource not being served at all.
        names_object: bool,
    },
}

/// The client and what a failure message needs to know about how it authenticates.
#[derive(Clone)]
pub struct Api {
    pub client: kube::Client,
    /// The exec credential plugin's command line, to tell the user what to run.
    pub plugin: Option<String>,
}

pub async fn get(api: &Api, path: &str, intent: &Intent) -> Result<Reply, FactError> {
    get_reporting(api, path, intent, &mut |_, _| {}).await
}

/// `get`, telling `retrying(attempt, why the last one failed)` before each attempt after
/// the first, so that a user waiting on an unreachable server sees it being tried.
pub async fn get_reporting(
    api: &Api,
    path: &str,
    intent: &Intent,
    retrying: &mut impl FnMut(u32, &str),
) -> Result<Reply, FactError> {
    let mut backoff = FIRST_BACKOFF;
    let mut last = String::new();
    for attempt in 1..=ATTEMPTS {
        if attempt > 1 {
            retrying(attempt, &last);
        }
        let outcome = tokio::time::timeout(REQUEST_TIMEOUT, once(api, path)).await;
        let wait = match outcome {
            Err(_elapsed) => {
                last = format!("no answer within {}s", REQUEST_TIMEOUT.as_secs());
                backoff
            }
            Ok(Err(Failure::Fatal(e))) => return Err(e),
            Ok(Err(Failure::Retry(why))) => {
                last = why;
                backoff
            }
            Ok(Ok((code, headers, body))) => {
                if code.is_success() {
                    if let Some(reason) = not_captured(&headers) {
                        return Err(FactError::unavailable(
                            reason,
                            "the server serves a snapshot that did not capture this; capture it, or run against the cluster",
                        ));
                    }
                    return Ok(Reply::Ok(body));
                }
                let message = status_message(&body, code);
                match code {
                    StatusCode::FORBIDDEN => return Err(intent.forbidden(&message)),
                    StatusCode::UNAUTHORIZED => {
                        return Err(FactError::unavailable(
                            format!("the API server rejected the credentials: {message}"),
                            "the token or certificate is expired or wrong: refresh the credentials \
                             (for EKS: `aws sso login` or check `aws sts get-caller-identity`)",
                        ));
                    }
                    StatusCode::TOO_MANY_REQUESTS => {
                        last = format!("throttled by the API server (429): {message}");
                        retry_after(&headers).unwrap_or(backoff)
                    }
                    c if c.is_server_error() => {
                        last = format!("{} {message}", c.as_u16());
                        backoff
                    }
                    code => {
                        return Ok(Reply::Status {
                            code,
                            message,
                            names_object: names_object(&body),
                        });
                    }
                }
            }
        };
        if attempt < ATTEMPTS {
            tracing::debug!(path, attempt, reason = %last, ?wait, "retrying");
            tokio::time::sleep(wait.min(MAX_RETRY_AFTER)).await;
            backoff *= 2;
        }
    }
    Err(FactError::Transient {
        reason: format!("{} {path}: {last} (after {ATTEMPTS} attempts)", intent.verb),
        hint: "the API server is overloaded or unreachable: try again when it answers".into(),
    })
}

enum Failure {
    Fatal(FactError),
    Retry(String),
}

async fn once(api: &Api, path: &str) -> Result<(StatusCode, http::HeaderMap, Bytes), Failure> {
    let request = Request::get(path)
        .header(http::header::ACCEPT, "application/json")
        .body(kube::client::Body::empty())
        .map_err(|e| {
            Failure::Fatal(FactError::unavailable(
                format!("cannot build the request for {path}: {e}"),
                "this is a bug in ktriage: report the query",
            ))
        })?;
    let response = api
        .client
        .send(request)
        .await
        .map_err(|e| classify(e, api.plugin.as_deref()))?;
    let (parts, body) = response.into_parts();
    let body = body
        .collect()
        .await
        .map_err(|e| Failure::Retry(format!("the answer was cut off: {}", chain(&e))))?
        .to_bytes();
    Ok((parts.status, parts.headers, body))
}

/// Credentials that cannot be had will not appear on a retry; a dropped connection may.
fn classify(e: kube::Error, plugin: Option<&str>) -> Failure {
    if let Some(auth) = find_auth_error(&e) {
        return Failure::Fatal(credential_failure(auth, plugin));
    }
    if let Some(refused) = find::<super::readonly::Refused>(&e) {
        return Failure::Fatal(FactError::unavailable(
            refused.to_string(),
            "this is a bug in ktriage",
        ));
    }
    Failure::Retry(chain(&e))
}

fn find<'a, T: std::error::Error + 'static>(
    e: &'a (dyn std::error::Error + 'static),
) -> Option<&'a T> {
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = current {
        if let Some(found) = err.downcast_ref::<T>() {
            return Some(found);
        }
        current = err.source();
    }
    None
}

pub(super) fn find_auth_error(e: &kube::Error) -> Option<&kube::client::AuthError> {
    if let kube::Error::Auth(auth) = e {
        return Some(auth);
    }
    find::<kube::client::AuthError>(e)
}

/// The plugin's own words: "Error when retrieving token from sso: Token has expired and
/// refresh failed" is what the user needs, not "exec plugin failed".
pub(super) fn credential_failure(e: &kube::client::AuthError, plugin: Option<&str>) -> FactError {
    let plugin = plugin.unwrap_or("the exec command of the kubeconfig's user");
    use kube::client::AuthError;
    match e {
        AuthError::AuthExecRun { out, .. } => {
            let stderr = String::from_utf8_lossy(&out.stderr);
            let stderr = crate::text::sanitize(stderr.trim());
            FactError::unavailable(
                format!(
                    "the credential plugin failed ({}): {}",
                    out.status,
                    if stderr.is_empty() {
                        "it printed nothing on stderr".into()
                    } else {
                        stderr
                    }
                ),
                format!(
                    "run `{plugin}` yourself to see what it needs (for EKS often `aws sso login` first)"
                ),
            )
        }
        AuthError::AuthExecStart(io) if io.kind() == std::io::ErrorKind::NotFound => {
            FactError::unavailable(
                format!(
                    "the kubeconfig's credential plugin `{plugin}` is not installed (not found on PATH)"
                ),
                "install it (for EKS the AWS CLI v2 provides `aws eks get-token`), or fix `users[].user.exec.command` in the kubeconfig",
            )
        }
        other => FactError::unavailable(
            format!("cannot get credentials for the cluster: {}", chain(other)),
            "check the kubeconfig's user entry (`kubectl config view --minify`)",
        ),
    }
}

/// The `message` of a `Status` body, else the body's first line.
fn status_message(body: &[u8], code: StatusCode) -> String {
    let parsed: Option<String> = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| {
            v.get("message")
                .and_then(|m| m.as_str())
                .map(str::to_string)
        });
    let text = parsed.unwrap_or_else(|| {
        String::from_utf8_lossy(body)
            .lines()
            .next()
            .unwrap_or_default()
            .chars()
            .take(300)
            .collect()
    });
    if text.trim().is_empty() {
        code.to_string()
    } else {
        text
    }
}

/// `ktriage serve`'s warning on a list it could only answer empty for want of data.
fn not_captured(headers: &http::HeaderMap) -> Option<String> {
    headers
        .get_all(http::header::WARNING)
        .iter()
        .find_map(|value| {
            let text = value.to_str().ok()?;
            let quoted = text.split_once('"')?.1.strip_suffix('"')?;
            quoted
                .strip_prefix(crate::source::NOT_CAPTURED_WARNING)
                .map(str::to_string)
        })
}

fn names_object(body: &[u8]) -> bool {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.pointer("/details/name")?.as_str().map(|n| !n.is_empty()))
        .unwrap_or(false)
}

fn retry_after(headers: &http::HeaderMap) -> Option<Duration> {
    let seconds: u64 = headers
        .get(http::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(Duration::from_secs(seconds))
}
