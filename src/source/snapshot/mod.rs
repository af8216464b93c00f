//! A snapshot as a source: cluster state frozen in files (SNAPSHOT-FORMAT.md), read from
//! a directory or a `.tar.gz`, in the native layout, as a `kubectl cluster-info dump`,
//! or as a Troubleshoot support bundle.
//!
//! Opening happens in two phases: every JSON/YAML file is parsed on all cores as it is
//! read (pipeline.rs, document.rs, transcode.rs) into compact objects, then the files
//! are given their meaning from where they sit (layout.rs, build.rs). Queries are
//! answered from memory (store.rs, logs.rs, aws.rs) and never fail for want of I/O.
//!
//! "Now" is `capturedAt` from `snapshot.yaml`; without it, the newest timestamp found
//! (object creation, event times, log line timestamps, CloudWatch events); without any,
//! the system clock when the snapshot was opened.

pub mod archive;
mod aws;
mod build;
mod document;
mod fastjson;
mod files;
mod layout;
mod logs;
mod pipeline;
mod split;
mod store;
mod transcode;

/// The one rule for archive entry paths, shared with the bundle verifier.
pub use files::{DEFAULT_MAX_ENTRIES, DEFAULT_MAX_TOTAL_BYTES, Limits};
pub use layout::layout_folder;

use crate::facts::{Answer, AwsAccess, BoxFuture, ClusterIdentity, Source, SourceInfo};
use crate::facts::{FactError, FactQuery, FieldSet, GroupKind};
use chrono::{DateTime, Utc};
use files::Input;
use logs::{LogEntry, LogKey};
use serde_json::Value;
use std::borrow::Cow;
use std::io;
use std::path::{Path, PathBuf};

/// Why a snapshot could not be opened at all. Anything less is a [`crate::facts::Problem`].
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error(
        "snapshot {path} does not exist: check the path (a snapshot is a directory or a .tar.gz)"
    )]
    NotFound { path: PathBuf },
    #[error("cannot read snapshot {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error(
        "{path} is neither a directory nor a .tar.gz archive: give a snapshot directory, a .tar.gz of one, a \
         `kubectl cluster-info dump` directory or a support bundle (unzip a .zip first)"
    )]
    NotASnapshot { path: PathBuf },
    #[error(
        "refusing archive {path}: entry `{}` {}; an archive from someone else may be hostile, so nothing was read",
        crate::text::sanitize_line(.entry),
        crate::text::sanitize_line(.why)
    )]
    Unsafe {
        path: PathBuf,
        entry: String,
        why: String,
    },
    #[error("refusing {path}: {what}; unpack what you need into a directory and open that")]
    TooLarge { path: PathBuf, what: String },
    #[error("archive {path} is truncated or corrupt ({message}); download or copy it again")]
    Corrupt { path: PathBuf, message: String },
    #[error(
        "nothing in {path} looks like a snapshot: expected snapshot.yaml, k8s/, logs/ or aws/ (ktriage snapshot), \
         nodes.json (kubectl cluster-info dump --output-directory) or cluster-resources/ (support bundle)"
    )]
    Unrecognised { path: PathBuf },
}

/// A snapshot, read whole into memory; see the module documentation.
pub struct Snapshot {
    info: SourceInfo,
    store: store::Store,
    logs: logs::LogStore,
    aws: aws::AwsStore,
}

impl std::fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Snapshot")
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

impl Snapshot {
    /// Opens a snapshot directory or archive (`.tar.gz`, `.tgz` or `.tar`, recognised by
    /// content), with the default [`Limits`].
    pub fn open(path: &Path) -> Result<Snapshot, SnapshotError> {
        Self::open_with_limits(path, Limits::default())
    }

    pub fn open_with_limits(path: &Path, limits: Limits) -> Result<Snapshot, SnapshotError> {
        let io_error = |source| SnapshotError::Io {
            path: path.to_path_buf(),
            source,
        };
        let meta = match std::fs::metadata(path) {
            Ok(meta) => meta,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(SnapshotError::NotFound {
                    path: path.to_path_buf(),
                });
            }
            Err(e) => return Err(io_error(e)),
        };
        let input = if meta.is_dir() {
            Input::Dir(path.to_path_buf())
        } else if meta.is_file() && archive::looks_like_archive(path).map_err(io_error)? {
            Input::Archive(path.to_path_buf())
        } else {
            return Err(SnapshotError::NotASnapshot {
                path: path.to_path_buf(),
            });
        };
        Self::load(input, limits, path)
    }

    /// The same reader over files already in memory, named by relative paths (the demo
    /// snapshot embedded in the binary, tests). `name` stands for the path in messages.
    pub fn from_files(
        name: &str,
        files: Vec<(String, Vec<u8>)>,
    ) -> Result<Snapshot, SnapshotError> {
        Self::load(Input::Memory(files), Limits::default(), Path::new(name))
    }

    fn load(input: Input, limits: Limits, path: &Path) -> Result<Snapshot, SnapshotError> {
        let (files, problems) = pipeline::read(input, limits).map_err(|e| match e {
            SnapshotError::Unsafe { entry, why, .. } => SnapshotError::Unsafe {
                path: path.to_path_buf(),
                entry,
                why,
            },
            SnapshotError::TooLarge { what, .. } => SnapshotError::TooLarge {
                path: path.to_path_buf(),
                what,
            },
            other => other,
        })?;
        let built = build::build(files, problems).ok_or_else(|| SnapshotError::Unrecognised {
            path: path.to_path_buf(),
        })?;
        let manifest = &built.manifest;
        let label = manifest
            .source
            .clone()
            .unwrap_or_else(|| built.flavours.to_string());
        let (context, cluster) = identity(manifest, &built.aws);
        let info = SourceInfo {
            description: format!("snapshot {} ({label})", path.display()),
            live: false,
            context,
            cluster,
            now: built.captured_at.or(built.newest).unwrap_or_else(Utc::now),
            aws: if built.aws.present {
                AwsAccess::Recorded
            } else {
                AwsAccess::Unavailable {
                    reason: "no AWS data in this snapshot".into(),
                    hint: "capture `aws eks ... --output json` responses under aws/ (docs/snapshots.md)"
                        .into(),
                }
            },
            problems: built.problems,
        };
        Ok(Snapshot {
            info,
            store: built.store,
            logs: built.logs,
            aws: built.aws,
        })
    }

    /// Judge ages as of `now` instead of the capture time.
    pub fn set_now(&mut self, now: DateTime<Utc>) {
        self.info.now = now;
    }

    /// The kinds this snapshot captured (including those it holds none of).
    pub fn kinds(&self) -> Vec<GroupKind> {
        self.store.captured_kinds().cloned().collect()
    }

    /// One object as compact JSON text, for callers that pass objects on without looking
    /// inside (`ktriage serve`). Same rules as a `Get` query.
    pub fn get_json(
        &self,
        resource: &GroupKind,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<Option<Cow<'_, str>>, FactError> {
        Ok(self.store.get(resource, namespace, name)?.map(|o| o.text()))
    }

    /// The objects a `List` query selects, as compact JSON text, sorted by namespace then
    /// name, without building a JSON tree for any of them.
    pub fn list_json(
        &self,
        resource: &GroupKind,
        namespace: Option<&str>,
        label_selector: Option<&str>,
        field_selector: Option<&str>,
    ) -> Result<Vec<Cow<'_, str>>, FactError> {
        let objects = self
            .store
            .list(resource, namespace, label_selector, field_selector)?;
        Ok(objects.into_iter().map(|o| o.text()).collect())
    }

    /// A container's whole log as captured, each line led by its timestamp (what
    /// `kubectl logs --timestamps` prints).
    pub fn log_text(
        &self,
        namespace: &str,
        pod: &str,
        container: &str,
        previous: bool,
    ) -> Result<&str, FactError> {
        let key = LogKey {
            namespace: namespace.to_string(),
            pod: pod.to_string(),
            container: container.to_string(),
            previous,
        };
        let which = if previous { "previous log" } else { "log" };
        let missing = format!(
            "no {which} of container {container} of pod {namespace}/{pod} in this snapshot"
        );
        let file = if previous { ".previous.log" } else { ".log" };
        let flag = if previous { " --previous" } else { "" };
        let hint = format!(
            "save the output of `kubectl logs -n {namespace} {pod} -c {container} --timestamps{flag}` as \
             logs/{namespace}/{pod}/{container}{file} in the snapshot"
        );
        match self.logs.get(&key) {
            Some(LogEntry::Text(text)) => Ok(text),
            Some(LogEntry::Failed(why)) => Err(FactError::unavailable(
                format!("{missing} (the collector reported: {why})"),
                hint,
            )),
            None => Err(FactError::unavailable(missing, hint)),
        }
    }

    fn answer(&self, query: &FactQuery) -> Result<Answer, FactError> {
        match query {
            FactQuery::Get {
                resource,
                namespace,
                name,
            } => match self.store.get(resource, namespace.as_deref(), name)? {
                Some(object) => object.to_value(),
                None => Ok(Value::Null),
            },
            FactQuery::List {
                resource,
                namespace,
                label_selector,
                field_selector,
                fields,
            } => {
                let objects = self.store.list(
                    resource,
                    namespace.as_deref(),
                    label_selector.as_deref(),
                    field_selector.as_deref(),
                )?;
                to_array(&objects, fields.as_ref())
            }
            FactQuery::Events { object } => to_array(&self.store.events(object)?, None),
            FactQuery::Logs {
                namespace,
                pod,
                container,
                previous,
                tail_lines,
            } => {
                let text = self.log_text(namespace, pod, container, *previous)?;
                let text = tail_lines.map_or(text, |n| logs::tail(text, n));
                Ok(Value::String(text.to_string()))
            }
            FactQuery::Eks(q) => {
                let cluster = self
                    .info
                    .cluster
                    .as_ref()
                    .map_or("CLUSTER", |c| c.name.as_str());
                self.aws.eks(q, cluster)
            }
            FactQuery::LogEvents(q) => self.aws.log_events(q),
        }
    }
}

/// Objects as a JSON array. Building JSON trees is the dearest part of answering a
/// cluster-wide list, so large answers are built on every core.
/// The objects as one JSON array, each pruned to `fields` as soon as it is parsed so that
/// a projected list never holds the whole objects at once.
fn to_array(objects: &[&store::Stored], fields: Option<&FieldSet>) -> Result<Answer, FactError> {
    let value = |o: &&store::Stored| -> Result<Value, FactError> {
        let v = o.to_value()?;
        Ok(match fields {
            Some(f) => f.prune(v),
            None => v,
        })
    };
    const PER_THREAD: usize = 2048;
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    if objects.len() < 2 * PER_THREAD || threads < 2 {
        let values = objects.iter().map(value).collect::<Result<_, _>>()?;
        return Ok(Value::Array(values));
    }
    let chunk = objects.len().div_ceil(threads);
    let parts: Vec<Result<Vec<Value>, FactError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = objects
            .chunks(chunk)
            .map(|part| scope.spawn(move || part.iter().map(value).collect()))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    });
    let mut values = Vec::with_capacity(objects.len());
    for part in parts {
        values.extend(part?);
    }
    Ok(Value::Array(values))
}

impl Source for Snapshot {
    fn info(&self) -> &SourceInfo {
        &self.info
    }

    fn fetch<'a>(&'a self, query: &'a FactQuery) -> BoxFuture<'a, Result<Answer, FactError>> {
        Box::pin(std::future::ready(self.answer(query)))
    }
}

/// The context and cluster: as `snapshot.yaml` says, else from an EKS ARN (the context's
/// or the `describe-cluster` response's), else the response's cluster name.
fn identity(
    manifest: &build::Manifest,
    aws: &aws::AwsStore,
) -> (Option<String>, Option<ClusterIdentity>) {
    let context = manifest.context.clone();
    if let Some(c) = &manifest.cluster {
        return (
            context,
            Some(ClusterIdentity {
                name: c.name.clone(),
                region: c.region.clone(),
            }),
        );
    }
    let from_aws = aws.cluster_identity();
    let arn = context
        .as_deref()
        .and_then(parse_eks_arn)
        .or_else(|| from_aws.and_then(|(_, arn)| arn).and_then(parse_eks_arn));
    let cluster = match arn {
        Some((region, name)) => Some(ClusterIdentity {
            name: name.to_string(),
            region: Some(region.to_string()),
        }),
        None => from_aws
            .and_then(|(name, _)| name)
            .map(|name| ClusterIdentity {
                name: name.to_string(),
                region: None,
            }),
    };
    (context, cluster)
}

/// `arn:aws:eks:REGION:ACCOUNT:cluster/NAME` → (REGION, NAME).
pub(crate) fn parse_eks_arn(arn: &str) -> Option<(&str, &str)> {
    let mut parts = arn.splitn(6, ':');
    let (_arn, _partition, service, region, _account, resource) = (
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
    );
    let name = resource.strip_prefix("cluster/")?;
    (service == "eks" && !region.is_empty() && !name.is_empty()).then_some((region, name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eks_arns_name_region_and_cluster() {
        assert_eq!(
            parse_eks_arn("arn:aws:eks:eu-west-1:111122223333:cluster/prod-eu"),
            Some(("eu-west-1", "prod-eu"))
        );
        assert_eq!(
            parse_eks_arn("arn:aws-cn:eks:cn-north-1:1:cluster/x"),
            Some(("cn-north-1", "x"))
        );
        assert_eq!(parse_eks_arn("kind-dev"), None);
        assert_eq!(parse_eks_arn("arn:aws:iam::1:role/x"), None);
    }
}
