//! Where a kind lives in the API: the standard ones from the built-in table, anything
//! else (CRDs: Karpenter NodePools, ...) from the server's discovery, once per source.

use super::request::{self, Api, Intent, Reply};
use crate::facts::kinds;
use crate::facts::{FactError, GroupKind};
use serde::Deserialize;
use std::collections::HashMap;
use tokio::sync::Mutex;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resource {
    pub group: String,
    pub version: String,
    pub kind: String,
    pub plural: String,
    pub namespaced: bool,
}

impl Resource {
    /// `/api/v1/namespaces/shop/pods`, `/apis/apps/v1/deployments`.
    pub fn collection(&self, namespace: Option<&str>) -> String {
        let base = if self.group.is_empty() {
            format!("/api/{}", self.version)
        } else {
            format!("/apis/{}/{}", self.group, self.version)
        };
        match namespace.filter(|_| self.namespaced) {
            Some(ns) => format!("{base}/namespaces/{}/{}", segment(ns), self.plural),
            None => format!("{base}/{}", self.plural),
        }
    }

    pub fn item(&self, namespace: Option<&str>, name: &str) -> String {
        format!("{}/{}", self.collection(namespace), segment(name))
    }

    /// As RBAC names it: `pods`, `deployments.apps`.
    pub fn rbac_name(&self) -> String {
        kinds::qualified(&self.plural, &self.group)
    }

    pub fn api_version(&self) -> String {
        kinds::api_version(&self.group, &self.version)
    }
}

/// A path segment: names are DNS labels in practice, but nothing unescaped from a
/// runbook or the cluster goes into a URL.
pub fn segment(s: &str) -> String {
    percent_encode(s, b"-._~:@")
}

/// Query-string value.
pub fn query_value(s: &str) -> String {
    percent_encode(s, b"-._~")
}

/// `s` with every byte but ASCII alphanumerics and `keep` percent-encoded.
fn percent_encode(s: &str, keep: &[u8]) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || keep.contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[derive(Default)]
pub struct Resolver {
    discovered: Mutex<HashMap<GroupKind, Result<Resource, FactError>>>,
}

#[derive(Deserialize)]
struct ResourceList {
    #[serde(default)]
    resources: Vec<ApiResource>,
}

#[derive(Deserialize)]
struct ApiResource {
    name: String,
    kind: String,
    namespaced: bool,
}

#[derive(Deserialize)]
struct GroupList {
    #[serde(default)]
    groups: Vec<Group>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Group {
    name: String,
    preferred_version: Option<GroupVersion>,
    #[serde(default)]
    versions: Vec<GroupVersion>,
}

#[derive(Deserialize, Clone)]
#[serde(rename_all = "camelCase")]
struct GroupVersion {
    version: String,
}

impl Resolver {
    pub async fn resolve(&self, api: &Api, gk: &GroupKind) -> Result<Resource, FactError> {
        if let Some(known) = kinds::by_group_kind(gk) {
            return Ok(Resource {
                group: known.group.into(),
                version: known.version.into(),
                kind: known.kind.into(),
                plural: known.plural.into(),
                namespaced: known.namespaced,
            });
        }
        let mut cache = self.discovered.lock().await;
        if let Some(found) = cache.get(gk) {
            return found.clone();
        }
        let found = discover(api, gk).await;
        cache.insert(gk.clone(), found.clone());
        found
    }
}

async fn discover(api: &Api, gk: &GroupKind) -> Result<Resource, FactError> {
    let intent = Intent {
        verb: "get",
        resource: "API discovery".into(),
        namespace: None,
    };
    let version = if gk.group.is_empty() {
        "v1".to_string()
    } else {
        let groups: GroupList = json(request::get(api, "/apis", &intent).await?, "/apis")?;
        let group = groups
            .groups
            .into_iter()
            .find(|g| g.name == gk.group)
            .ok_or_else(|| not_served(gk))?;
        group
            .preferred_version
            .or_else(|| group.versions.first().cloned())
            .ok_or_else(|| not_served(gk))?
            .version
    };
    let path = if gk.group.is_empty() {
        "/api/v1".to_string()
    } else {
        format!("/apis/{}/{version}", gk.group)
    };
    let list: ResourceList = json(request::get(api, &path, &intent).await?, &path)?;
    list.resources
        .into_iter()
        .find(|r| r.kind == gk.kind && !r.name.contains('/'))
        .map(|r| Resource {
            group: gk.group.clone(),
            version,
            kind: r.kind,
            plural: r.name,
            namespaced: r.namespaced,
        })
        .ok_or_else(|| not_served(gk))
}

fn not_served(gk: &GroupKind) -> FactError {
    FactError::unavailable(
        format!("the cluster does not serve {gk}"),
        "is the component that defines it (its CRD) installed? `kubectl api-resources` lists what is served",
    )
}

fn json<T: serde::de::DeserializeOwned>(reply: Reply, path: &str) -> Result<T, FactError> {
    match reply {
        Reply::Ok(body) => serde_json::from_slice(&body).map_err(|e| {
            FactError::unavailable(
                format!("unreadable answer from {path}: {e}"),
                "the API server (or a proxy in front of it) answered something that is not Kubernetes JSON",
            )
        }),
        Reply::Status { code, message, .. } => Err(FactError::unavailable(
            format!("{path} answered {}: {message}", code.as_u16()),
            "`kubectl api-resources` shows what the server offers",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_follow_the_api_layout() {
        let pods = Resource {
            group: String::new(),
            version: "v1".into(),
            kind: "Pod".into(),
            plural: "pods".into(),
            namespaced: true,
        };
        assert_eq!(
            pods.collection(Some("shop")),
            "/api/v1/namespaces/shop/pods"
        );
        assert_eq!(pods.collection(None), "/api/v1/pods");
        assert_eq!(
            pods.item(Some("shop"), "web-0"),
            "/api/v1/namespaces/shop/pods/web-0"
        );
        let nodes = Resource {
            group: String::new(),
            version: "v1".into(),
            kind: "Node".into(),
            plural: "nodes".into(),
            namespaced: false,
        };
        // A namespace given for a cluster-scoped kind is ignored, as the API does.
        assert_eq!(
            nodes.item(Some("shop"), "ip-10-0-1-5"),
            "/api/v1/nodes/ip-10-0-1-5"
        );
        assert_eq!(segment("a/b c"), "a%2Fb%20c");
        assert_eq!(query_value("k in (a,b)"), "k%20in%20%28a%2Cb%29");
    }
}
