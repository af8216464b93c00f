//! The standard Kubernetes resources ktriage knows by name: their group, version,
//! plural, scope and short names. Used to resolve `kind: Pod` in a runbook to a group,
//! to name kinds in hints, and to read layouts that name resources by plural
//! (support bundles). Kinds not listed here (CRDs) still work wherever an
//! `apiVersion` is given.

use crate::facts::GroupKind;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KnownResource {
    pub group: &'static str,
    pub version: &'static str,
    pub kind: &'static str,
    pub plural: &'static str,
    pub namespaced: bool,
    pub short_names: &'static [&'static str],
}

impl KnownResource {
    pub fn group_kind(&self) -> GroupKind {
        GroupKind::new(self.group, self.kind)
    }

    pub fn api_version(&self) -> String {
        api_version(self.group, self.version)
    }
}

/// `apps/v1`, or `v1` for the core group.
pub fn api_version(group: &str, version: &str) -> String {
    if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    }
}

/// A resource as RBAC and error messages qualify it: `deployments.apps`, or `pods` in the
/// core group.
pub fn qualified(plural: &str, group: &str) -> String {
    if group.is_empty() {
        plural.to_string()
    } else {
        format!("{plural}.{group}")
    }
}

macro_rules! res {
    ($group:expr, $version:expr, $kind:expr, $plural:expr, $ns:expr, [$($short:expr),*]) => {
        KnownResource { group: $group, version: $version, kind: $kind, plural: $plural, namespaced: $ns, short_names: &[$($short),*] }
    };
}

pub const KNOWN: &[KnownResource] = &[
    res!("", "v1", "Pod", "pods", true, ["po"]),
    res!("", "v1", "Node", "nodes", false, ["no"]),
    res!("", "v1", "Namespace", "namespaces", false, ["ns"]),
    res!("", "v1", "Service", "services", true, ["svc"]),
    res!("", "v1", "Endpoints", "endpoints", true, ["ep"]),
    res!("", "v1", "ConfigMap", "configmaps", true, ["cm"]),
    res!("", "v1", "Secret", "secrets", true, []),
    res!("", "v1", "ServiceAccount", "serviceaccounts", true, ["sa"]),
    res!(
        "",
        "v1",
        "PersistentVolumeClaim",
        "persistentvolumeclaims",
        true,
        ["pvc"]
    ),
    res!(
        "",
        "v1",
        "PersistentVolume",
        "persistentvolumes",
        false,
        ["pv"]
    ),
    res!("", "v1", "Event", "events", true, ["ev"]),
    res!(
        "",
        "v1",
        "ReplicationController",
        "replicationcontrollers",
        true,
        ["rc"]
    ),
    res!("", "v1", "ResourceQuota", "resourcequotas", true, ["quota"]),
    res!("", "v1", "LimitRange", "limitranges", true, ["limits"]),
    res!("apps", "v1", "Deployment", "deployments", true, ["deploy"]),
    res!("apps", "v1", "ReplicaSet", "replicasets", true, ["rs"]),
    res!("apps", "v1", "StatefulSet", "statefulsets", true, ["sts"]),
    res!("apps", "v1", "DaemonSet", "daemonsets", true, ["ds"]),
    res!("batch", "v1", "Job", "jobs", true, []),
    res!("batch", "v1", "CronJob", "cronjobs", true, ["cj"]),
    res!(
        "storage.k8s.io",
        "v1",
        "StorageClass",
        "storageclasses",
        false,
        ["sc"]
    ),
    res!("storage.k8s.io", "v1", "CSIDriver", "csidrivers", false, []),
    res!("storage.k8s.io", "v1", "CSINode", "csinodes", false, []),
    res!(
        "storage.k8s.io",
        "v1",
        "VolumeAttachment",
        "volumeattachments",
        false,
        []
    ),
    res!(
        "discovery.k8s.io",
        "v1",
        "EndpointSlice",
        "endpointslices",
        true,
        []
    ),
    res!(
        "networking.k8s.io",
        "v1",
        "NetworkPolicy",
        "networkpolicies",
        true,
        ["netpol"]
    ),
    res!(
        "networking.k8s.io",
        "v1",
        "Ingress",
        "ingresses",
        true,
        ["ing"]
    ),
    res!(
        "policy",
        "v1",
        "PodDisruptionBudget",
        "poddisruptionbudgets",
        true,
        ["pdb"]
    ),
    res!(
        "scheduling.k8s.io",
        "v1",
        "PriorityClass",
        "priorityclasses",
        false,
        ["pc"]
    ),
    res!("events.k8s.io", "v1", "Event", "events", true, ["ev"]),
    res!("rbac.authorization.k8s.io", "v1", "Role", "roles", true, []),
    res!(
        "rbac.authorization.k8s.io",
        "v1",
        "RoleBinding",
        "rolebindings",
        true,
        []
    ),
    res!(
        "rbac.authorization.k8s.io",
        "v1",
        "ClusterRole",
        "clusterroles",
        false,
        []
    ),
    res!(
        "rbac.authorization.k8s.io",
        "v1",
        "ClusterRoleBinding",
        "clusterrolebindings",
        false,
        []
    ),
    res!(
        "autoscaling",
        "v2",
        "HorizontalPodAutoscaler",
        "horizontalpodautoscalers",
        true,
        ["hpa"]
    ),
    res!(
        "apiextensions.k8s.io",
        "v1",
        "CustomResourceDefinition",
        "customresourcedefinitions",
        false,
        ["crd", "crds"]
    ),
    res!("coordination.k8s.io", "v1", "Lease", "leases", true, []),
];

/// The resource a bare kind name means. Core wins over `events.k8s.io` for `Event`,
/// as kubectl resolves `events`.
pub fn by_kind(kind: &str) -> Option<&'static KnownResource> {
    KNOWN.iter().find(|r| r.kind == kind)
}

pub fn by_group_kind(gk: &GroupKind) -> Option<&'static KnownResource> {
    KNOWN
        .iter()
        .find(|r| r.kind == gk.kind && r.group == gk.group)
}

/// A name as a user or a layout spells it: kind, plural, singular or short name,
/// case-insensitively, optionally `plural.group`.
pub fn lookup(name: &str) -> Option<&'static KnownResource> {
    let lower = name.to_ascii_lowercase();
    let (base, group) = match lower.split_once('.') {
        Some((b, g)) => (b.to_string(), Some(g.to_string())),
        None => (lower.clone(), None),
    };
    KNOWN.iter().find(|r| {
        let names_match = r.kind.eq_ignore_ascii_case(&base)
            || r.plural == base
            || r.short_names.contains(&base.as_str());
        names_match && group.as_deref().is_none_or(|g| g == r.group)
    })
}

/// Is this kind cluster-scoped? Unknown kinds are assumed namespaced unless the object
/// itself says otherwise (it has no namespace).
pub fn is_cluster_scoped(gk: &GroupKind) -> bool {
    by_group_kind(gk).is_some_and(|r| !r.namespaced)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_resolves_every_spelling() {
        assert_eq!(lookup("po").unwrap().kind, "Pod");
        assert_eq!(lookup("pods").unwrap().kind, "Pod");
        assert_eq!(
            lookup("PersistentVolumeClaim").unwrap().plural,
            "persistentvolumeclaims"
        );
        assert_eq!(
            lookup("storageclasses.storage.k8s.io").unwrap().kind,
            "StorageClass"
        );
        assert!(lookup("storageclasses.apps").is_none());
        assert!(lookup("widgets").is_none());
    }

    #[test]
    fn bare_event_is_core() {
        assert_eq!(by_kind("Event").unwrap().group, "");
    }

    #[test]
    fn scope_is_known_for_standard_kinds() {
        assert!(is_cluster_scoped(&GroupKind::new(
            "storage.k8s.io",
            "StorageClass"
        )));
        assert!(!is_cluster_scoped(&GroupKind::new("", "Pod")));
        assert!(!is_cluster_scoped(&GroupKind::new("example.com", "Widget")));
    }
}
