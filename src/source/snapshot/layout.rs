//! What each file of a snapshot means, from where it sits: the native layout
//! (SNAPSHOT-FORMAT.md), `kubectl cluster-info dump --output-directory`, and
//! Troubleshoot support bundles. Layouts are detected, never declared, and may be mixed
//! (a `k8s/` folder added to a dump fills in what the dump lacks).

use crate::facts::kinds::{self, KnownResource};
use std::fmt;
use std::path::PathBuf;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Flavours {
    pub native: bool,
    pub dump: bool,
    pub bundle: bool,
}

impl Flavours {
    pub(crate) fn any(&self) -> bool {
        self.native || self.dump || self.bundle
    }
}

impl fmt::Display for Flavours {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = [
            (self.native, "ktriage snapshot"),
            (self.dump, "kubectl cluster-info dump"),
            (self.bundle, "support bundle"),
        ]
        .into_iter()
        .filter_map(|(on, name)| on.then_some(name))
        .collect();
        f.write_str(&names.join(" + "))
    }
}

const LAYOUT_FOLDERS: [&str; 4] = ["k8s", "logs", "aws", "cluster-resources"];

/// The files `kubectl cluster-info dump` writes per namespace, by resource.
const DUMP_FILES: [(&str, &str); 7] = [
    ("events", "events"),
    ("replication-controllers", "replicationcontrollers"),
    ("services", "services"),
    ("daemonsets", "daemonsets"),
    ("deployments", "deployments"),
    ("replicasets", "replicasets"),
    ("pods", "pods"),
];

/// Support-bundle resource names (pkg/constants of replicatedhq/troubleshoot) that
/// differ from the API plural.
const BUNDLE_ALIASES: [(&str, &str); 8] = [
    ("pod-disruption-budgets", "poddisruptionbudgets"),
    ("ingress", "ingresses"),
    ("network-policy", "networkpolicies"),
    ("resource-quota", "resourcequotas"),
    ("storage-classes", "storageclasses"),
    ("custom-resource-definitions", "customresourcedefinitions"),
    ("pvs", "persistentvolumes"),
    ("pvcs", "persistentvolumeclaims"),
];

const fn extra(group: &'static str, kind: &'static str, plural: &'static str) -> KnownResource {
    KnownResource {
        group,
        version: "v1",
        kind,
        plural,
        namespaced: false,
        short_names: &[],
    }
}

/// Cluster-scoped kinds support bundles collect that the known-resources table lacks.
static BUNDLE_EXTRAS: [(&str, KnownResource); 4] = [
    (
        "ingress-classes",
        extra("networking.k8s.io", "IngressClass", "ingressclasses"),
    ),
    (
        "certificatesigningrequests",
        extra(
            "certificates.k8s.io",
            "CertificateSigningRequest",
            "certificatesigningrequests",
        ),
    ),
    (
        "validating-webhook-configurations",
        extra(
            "admissionregistration.k8s.io",
            "ValidatingWebhookConfiguration",
            "validatingwebhookconfigurations",
        ),
    ),
    (
        "mutating-webhook-configurations",
        extra(
            "admissionregistration.k8s.io",
            "MutatingWebhookConfiguration",
            "mutatingwebhookconfigurations",
        ),
    ),
];

fn bundle_resource(name: &str) -> Option<&'static KnownResource> {
    if let Some((_, r)) = BUNDLE_EXTRAS.iter().find(|(n, _)| *n == name) {
        return Some(r);
    }
    let plural = BUNDLE_ALIASES
        .iter()
        .find(|(n, _)| *n == name)
        .map_or(name, |(_, p)| p);
    kinds::KNOWN.iter().find(|r| r.plural == plural)
}

fn dump_resource(stem: &str) -> Option<&'static KnownResource> {
    let (_, plural) = DUMP_FILES.iter().find(|(file, _)| *file == stem)?;
    kinds::KNOWN.iter().find(|r| r.plural == *plural)
}

fn split_ext(name: &str) -> Option<(&str, &str)> {
    name.rsplit_once('.')
}

pub(crate) fn detect(paths: &[&str]) -> Flavours {
    let mut f = Flavours::default();
    for path in paths {
        let mut parts = path.split('/');
        let top = parts.next().unwrap_or_default();
        match top {
            "snapshot.yaml" | "k8s" | "logs" | "aws"
                if path.contains('/') || top == "snapshot.yaml" =>
            {
                f.native = true
            }
            "cluster-resources" => f.bundle = true,
            "nodes.json" | "nodes.yaml" => f.dump = true,
            _ => {
                if let (Some(file), None) = (parts.next(), parts.next())
                    && split_ext(file).is_some_and(|(stem, ext)| {
                        matches!(ext, "json" | "yaml") && DUMP_FILES.iter().any(|(f, _)| *f == stem)
                    })
                {
                    f.dump = true;
                }
            }
        }
    }
    f
}

/// Where a file's objects come from, and what that says about capture.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Origin {
    /// The resource the file holds, for items that name no kind (support bundles, dumps).
    pub resource: Option<&'static KnownResource>,
    /// The namespace to give namespaced objects that name none.
    pub namespace: Option<String>,
    /// True when the file is a whole collection of `resource` (in `namespace`, or
    /// cluster-wide), so the kind counts as captured even when the file is empty; and
    /// objects read from it are captured only where the file says.
    pub collection: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    Manifest,
    Objects(Origin),
    Aws,
    Log {
        namespace: String,
        pod: String,
        container: String,
        previous: bool,
    },
    LogError {
        namespace: String,
        pod: String,
        container: String,
    },
    DumpLogs {
        namespace: String,
        pod: String,
    },
    /// `cluster-resources/<resource>-errors.json`: what the bundle could not collect.
    BundleErrors {
        resource: Option<&'static KnownResource>,
        name: String,
    },
    Ignored,
    /// In a layout folder, but not something the layout holds.
    Stray(&'static str),
}

pub(crate) fn role(path: &str, flavours: Flavours) -> Role {
    let parts: Vec<&str> = path.split('/').collect();
    if parts.iter().any(|p| p.starts_with('.')) {
        return Role::Ignored;
    }
    let last = parts.last().copied().unwrap_or_default();
    match parts.as_slice() {
        ["snapshot.yaml"] if flavours.native => Role::Manifest,
        ["k8s", ..] if flavours.native => {
            if split_ext(last).is_some_and(|(_, e)| matches!(e, "json" | "yaml" | "yml")) {
                Role::Objects(Origin {
                    resource: None,
                    namespace: Some("default".to_string()),
                    collection: false,
                })
            } else {
                Role::Stray("not a .yaml, .yml or .json file; ignored")
            }
        }
        ["logs", ns, pod, file] if flavours.native => match file.strip_suffix(".log") {
            Some(stem) => {
                let (container, previous) = match stem.strip_suffix(".previous") {
                    Some(c) => (c, true),
                    None => (stem, false),
                };
                log(ns, pod, container, previous)
            }
            None => Role::Stray(
                "a log must be named <container>.log or <container>.previous.log; ignored",
            ),
        },
        ["logs", ..] if flavours.native => {
            Role::Stray("logs go in logs/<namespace>/<pod>/<container>.log; ignored")
        }
        ["aws", ..] if flavours.native => {
            if last.ends_with(".json") {
                Role::Aws
            } else {
                Role::Stray("AWS responses are JSON files; ignored")
            }
        }
        ["cluster-resources", rest @ ..] if flavours.bundle => bundle_role(rest),
        [file] if flavours.dump => match split_ext(file) {
            Some(("nodes", "json" | "yaml")) => Role::Objects(Origin {
                resource: kinds::by_kind("Node"),
                namespace: None,
                collection: true,
            }),
            _ => Role::Ignored,
        },
        [ns, file] if flavours.dump && !LAYOUT_FOLDERS.contains(ns) => match split_ext(file) {
            Some((stem, "json" | "yaml")) if dump_resource(stem).is_some() => {
                Role::Objects(Origin {
                    resource: dump_resource(stem),
                    namespace: Some(ns.to_string()),
                    collection: true,
                })
            }
            _ => Role::Ignored,
        },
        [ns, pod, "logs.txt"] if flavours.dump && !LAYOUT_FOLDERS.contains(ns) => Role::DumpLogs {
            namespace: ns.to_string(),
            pod: pod.to_string(),
        },
        _ => Role::Ignored,
    }
}

fn log(ns: &str, pod: &str, container: &str, previous: bool) -> Role {
    Role::Log {
        namespace: ns.to_string(),
        pod: pod.to_string(),
        container: container.to_string(),
        previous,
    }
}

/// The `.json` twin of a support bundle's custom-resource `.yaml`, which is read only
/// when the twin is absent: troubleshoot ≤ 0.75 writes the YAML sequence alone, later
/// versions both (0.133 on, the `.yaml` as a symlink to the `.json`).
pub(crate) fn json_twin(path: &str) -> Option<String> {
    let stem = path.strip_suffix(".yaml")?;
    path.starts_with("cluster-resources/custom-resources/")
        .then(|| format!("{stem}.json"))
}

fn yaml_stem(file: &str) -> Option<String> {
    file.strip_suffix(".yaml").map(str::to_string)
}

fn bundle_role(rest: &[&str]) -> Role {
    let json_stem = |file: &str| file.strip_suffix(".json").map(str::to_string);
    match rest {
        ["pods", "logs", ns, pod, file] => {
            let Some(stem) = file.strip_suffix(".log") else {
                return Role::Ignored;
            };
            if let Some(container) = stem.strip_suffix("-logs-errors") {
                Role::LogError {
                    namespace: ns.to_string(),
                    pod: pod.to_string(),
                    container: container.to_string(),
                }
            } else if let Some(container) = stem.strip_suffix("-previous") {
                log(ns, pod, container, true)
            } else {
                log(ns, pod, stem, false)
            }
        }
        ["custom-resources", file] => match json_stem(file) {
            Some(stem) if stem.ends_with("-errors") => Role::BundleErrors {
                resource: None,
                name: "custom-resources".to_string(),
            },
            // Cluster-scoped custom resources; items carry their own kinds.
            Some(_) => custom_resources(None),
            None if yaml_stem(file).is_some() => custom_resources(None),
            None => Role::Ignored,
        },
        ["custom-resources", _crd, file] => match json_stem(file).or_else(|| yaml_stem(file)) {
            Some(ns) => custom_resources(Some(ns)),
            None => Role::Ignored,
        },
        [file] => match json_stem(file) {
            Some(stem) => match stem.strip_suffix("-errors") {
                Some(name) => Role::BundleErrors {
                    resource: bundle_resource(name),
                    name: name.to_string(),
                },
                None => match bundle_resource(&stem) {
                    Some(r) if !r.namespaced => Role::Objects(Origin {
                        resource: Some(r),
                        namespace: None,
                        collection: true,
                    }),
                    _ => Role::Ignored,
                },
            },
            None => Role::Ignored,
        },
        [dir, file] => match (bundle_resource(dir), json_stem(file)) {
            (Some(r), Some(ns)) if r.namespaced => Role::Objects(Origin {
                resource: Some(r),
                namespace: Some(ns),
                collection: true,
            }),
            _ => Role::Ignored,
        },
        _ => Role::Ignored,
    }
}

fn custom_resources(namespace: Option<String>) -> Role {
    Role::Objects(Origin {
        resource: None,
        namespace,
        collection: true,
    })
}

/// When `path` is a layout folder of a snapshot or support bundle (`SNAP/k8s`,
/// `SNAP/logs`, `SNAP/aws`, `BUNDLE/cluster-resources`) or inside one: that folder, the
/// parent to pass instead, and what the parent is. The folder names are those of
/// `source/snapshot/layout.rs`; the parent counts as a layout by its unambiguous marks
/// (`snapshot.yaml`, a support bundle's `cluster-resources/`, or two of `k8s/`, `logs/`
/// and `aws/`), so a snapshot kept in a folder that happens to be called `logs` still
/// opens, as does any folder that is a snapshot root itself.
pub fn layout_folder(path: &std::path::Path) -> Option<(PathBuf, PathBuf, &'static str)> {
    if !path.is_dir() {
        return None;
    }
    // `.` from inside `SNAP/k8s` names no folder: then the absolute path says where.
    folder_in(path).or_else(|| folder_in(&path.canonicalize().ok()?))
}

fn folder_in(path: &std::path::Path) -> Option<(PathBuf, PathBuf, &'static str)> {
    const LAYOUT_FOLDERS: [&str; 4] = ["k8s", "logs", "aws", "cluster-resources"];
    let is_root = |p: &std::path::Path| {
        p.join("snapshot.yaml").is_file() || p.join("cluster-resources").is_dir()
    };
    for folder in path.ancestors() {
        if is_root(folder) {
            return None;
        }
        let Some(name) = folder.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        if !LAYOUT_FOLDERS.contains(&name) {
            continue;
        }
        let parent = match folder.parent() {
            Some(p) if p.as_os_str().is_empty() => std::path::Path::new("."),
            Some(p) => p,
            None => continue,
        };
        let native_folders = ["k8s", "logs", "aws"]
            .iter()
            .filter(|f| parent.join(f).is_dir())
            .count();
        let what = if name == "cluster-resources" {
            "support bundle"
        } else if parent.join("snapshot.yaml").is_file() || native_folders >= 2 {
            "snapshot"
        } else if parent.join("cluster-resources").is_dir() {
            "support bundle"
        } else {
            continue;
        };
        return Some((folder.to_path_buf(), parent.to_path_buf(), what));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: Flavours = Flavours {
        native: true,
        dump: true,
        bundle: true,
    };

    fn objects(path: &str) -> Origin {
        match role(path, ALL) {
            Role::Objects(o) => o,
            other => panic!("{path}: {other:?}"),
        }
    }

    #[test]
    fn detects_each_layout_by_its_marks() {
        assert_eq!(
            detect(&["snapshot.yaml"]),
            Flavours {
                native: true,
                ..Default::default()
            }
        );
        assert!(detect(&["k8s/a.yaml"]).native);
        assert!(!detect(&["k8s"]).native);
        assert!(detect(&["nodes.json", "kube-system/pods.json"]).dump);
        assert!(detect(&["default/pods.yaml"]).dump);
        assert!(detect(&["cluster-resources/pods/a.json"]).bundle);
        assert!(!detect(&["README.md", "random/file.json"]).any());
    }

    #[test]
    fn bundle_files_map_to_their_resources() {
        let pvcs = objects("cluster-resources/pvcs/shop.json");
        assert_eq!(pvcs.resource.map(|r| r.kind), Some("PersistentVolumeClaim"));
        assert_eq!(pvcs.namespace.as_deref(), Some("shop"));
        assert_eq!(
            objects("cluster-resources/storage-classes.json")
                .resource
                .map(|r| r.kind),
            Some("StorageClass")
        );
        assert_eq!(
            objects("cluster-resources/pvs.json")
                .resource
                .map(|r| r.kind),
            Some("PersistentVolume")
        );
        assert_eq!(
            objects("cluster-resources/ingress-classes.json")
                .resource
                .map(|r| r.group),
            Some("networking.k8s.io")
        );
        assert_eq!(
            objects("cluster-resources/network-policy/a.json")
                .resource
                .map(|r| r.kind),
            Some("NetworkPolicy")
        );
        assert_eq!(role("cluster-resources/groups.json", ALL), Role::Ignored);
        assert_eq!(
            role(
                "cluster-resources/custom-resources/w.example.com/ns.yaml",
                ALL
            ),
            custom_resources(Some("ns".to_string()))
        );
        assert_eq!(
            json_twin("cluster-resources/custom-resources/w.example.com/ns.yaml").as_deref(),
            Some("cluster-resources/custom-resources/w.example.com/ns.json")
        );
        assert_eq!(json_twin("k8s/custom-resources/ns.yaml"), None);
        assert!(matches!(
            role("cluster-resources/pods-errors.json", ALL),
            Role::BundleErrors { resource: Some(r), .. } if r.kind == "Pod"
        ));
        assert_eq!(
            role("cluster-resources/pods/logs/ns/p/app-previous.log", ALL),
            log("ns", "p", "app", true)
        );
        assert!(matches!(
            role("cluster-resources/pods/logs/ns/p/app-logs-errors.log", ALL),
            Role::LogError { .. }
        ));
    }

    #[test]
    fn native_and_dump_paths() {
        assert_eq!(
            role("logs/ns/p/c.previous.log", ALL),
            log("ns", "p", "c", true)
        );
        assert!(matches!(role("logs/ns/p.log", ALL), Role::Stray(_)));
        assert!(matches!(role("k8s/notes.md", ALL), Role::Stray(_)));
        assert_eq!(role("k8s/.hidden.yaml", ALL), Role::Ignored);
        assert_eq!(
            objects("kube-system/replication-controllers.json")
                .resource
                .map(|r| r.kind),
            Some("ReplicationController")
        );
        assert_eq!(objects("nodes.yaml").resource.map(|r| r.kind), Some("Node"));
        assert!(matches!(
            role("k8s/pods.json", ALL),
            Role::Objects(Origin { resource: None, .. })
        ));
        assert_eq!(
            role("shop/web-1/logs.txt", ALL),
            Role::DumpLogs {
                namespace: "shop".into(),
                pod: "web-1".into()
            }
        );
    }
}
