//! What `serve` offers through discovery: the standard resources (empty when the
//! snapshot holds none, as on a real cluster) and every other kind the snapshot holds.

use crate::facts::GroupKind;
use crate::facts::kinds::KNOWN;
use crate::source::snapshot::Snapshot;
use std::collections::BTreeMap;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Served {
    pub group: String,
    pub version: String,
    pub kind: String,
    pub plural: String,
    pub singular: String,
    pub namespaced: bool,
    pub short_names: Vec<String>,
}

impl Served {
    pub fn group_kind(&self) -> GroupKind {
        GroupKind::new(self.group.clone(), self.kind.clone())
    }

    pub fn group_version(&self) -> String {
        crate::facts::kinds::api_version(&self.group, &self.version)
    }

    /// As RBAC names it: `deployments.apps`.
    pub fn rbac_name(&self) -> String {
        crate::facts::kinds::qualified(&self.plural, &self.group)
    }
}

pub struct Catalog {
    resources: Vec<Served>,
}

impl Catalog {
    pub fn new(snapshot: &Snapshot) -> Catalog {
        let mut resources: Vec<Served> = KNOWN
            .iter()
            .map(|k| Served {
                group: k.group.into(),
                version: k.version.into(),
                kind: k.kind.into(),
                plural: k.plural.into(),
                singular: k.kind.to_ascii_lowercase(),
                namespaced: k.namespaced,
                short_names: k.short_names.iter().map(|s| s.to_string()).collect(),
            })
            .collect();
        for gk in snapshot.kinds() {
            if resources
                .iter()
                .any(|r| r.group == gk.group && r.kind == gk.kind)
            {
                continue;
            }
            // A custom kind: its version and scope as its objects show them. Its plural
            // is guessed the way CRDs are usually named (no CRD object to ask).
            let first = snapshot
                .list_json(&gk, None, None, None)
                .ok()
                .and_then(|objects| objects.first().map(|o| o.to_string()))
                .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok());
            let version = first
                .as_ref()
                .and_then(|o| o.get("apiVersion")?.as_str().map(str::to_string))
                .map(|av| av.rsplit('/').next().unwrap_or("v1").to_string())
                .unwrap_or_else(|| "v1".into());
            let namespaced = first.as_ref().is_none_or(|o| {
                o.pointer("/metadata/namespace")
                    .and_then(|n| n.as_str())
                    .is_some_and(|n| !n.is_empty())
            });
            resources.push(Served {
                plural: plural_of(&gk.kind),
                singular: gk.kind.to_ascii_lowercase(),
                group: gk.group,
                version,
                kind: gk.kind,
                namespaced,
                short_names: Vec::new(),
            });
        }
        Catalog { resources }
    }

    pub fn find(&self, group: &str, version: &str, plural: &str) -> Option<&Served> {
        self.resources
            .iter()
            .find(|r| r.group == group && r.version == version && r.plural == plural)
    }

    pub fn in_group_version<'a>(
        &'a self,
        group: &'a str,
        version: &'a str,
    ) -> impl Iterator<Item = &'a Served> + 'a {
        self.resources
            .iter()
            .filter(move |r| r.group == group && r.version == version)
    }

    /// Named groups (not core) and their versions, sorted.
    pub fn groups(&self) -> BTreeMap<&str, Vec<&str>> {
        let mut groups: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for r in self.resources.iter().filter(|r| !r.group.is_empty()) {
            let versions = groups.entry(r.group.as_str()).or_default();
            if !versions.contains(&r.version.as_str()) {
                versions.push(r.version.as_str());
            }
        }
        groups
    }
}

/// `NodePool` → `nodepools`, `NetworkPolicy` → `networkpolicies`, `Ingress` → `ingresses`.
pub fn plural_of(kind: &str) -> String {
    let lower = kind.to_ascii_lowercase();
    if let Some(stem) = lower.strip_suffix('y')
        && !stem.ends_with(['a', 'e', 'i', 'o', 'u'])
    {
        return format!("{stem}ies");
    }
    if lower.ends_with('s')
        || lower.ends_with('x')
        || lower.ends_with("ch")
        || lower.ends_with("sh")
    {
        return format!("{lower}es");
    }
    format!("{lower}s")
}

#[cfg(test)]
mod tests {
    use super::plural_of;

    #[test]
    fn plurals_follow_crd_naming() {
        assert_eq!(plural_of("NodePool"), "nodepools");
        assert_eq!(plural_of("NetworkPolicy"), "networkpolicies");
        assert_eq!(plural_of("Ingress"), "ingresses");
        assert_eq!(plural_of("Gateway"), "gateways");
    }
}
