//! Opening what the flags name: a snapshot, or the live cluster of a kube context with
//! its AWS side, each checked once with one clear error before any work.

use super::{CmdError, Io};
use crate::cli::{ClusterArgs, SourceArgs};
use crate::facts::{AwsAccess, Source};
use crate::source::aws::{self, AwsLink, AwsOptions};
use crate::source::live::{self, LiveOptions, LiveSource};
use crate::source::snapshot::{self, Snapshot};
use chrono::{DateTime, Utc};
use std::path::Path;
use std::sync::Arc;

/// The source the flags name: a snapshot with `--snapshot`, else the live cluster of
/// the kube context (kubectl's rules for which one).
pub async fn source(args: &SourceArgs, io: &mut Io<'_>) -> Result<Arc<dyn Source>, CmdError> {
    source_in(args, io).await.map(|(source, _)| source)
}

/// [`source`] with the namespace of a target named without one: `-n`, else the kube
/// context's namespace (live) or `default` (a snapshot), as kubectl resolves it.
pub async fn source_in(
    args: &SourceArgs,
    io: &mut Io<'_>,
) -> Result<(Arc<dyn Source>, String), CmdError> {
    let namespace = args.live.namespace.clone();
    match &args.snapshot {
        Some(path) => snapshot(path, args.live.cluster.as_of, io).map(|s| {
            let namespace = namespace.unwrap_or_else(|| "default".into());
            (Arc::new(s) as Arc<dyn Source>, namespace)
        }),
        None => live(&args.live.cluster, namespace, io)
            .await
            .map(|(s, namespace)| (Arc::new(s) as Arc<dyn Source>, namespace)),
    }
}

/// Connects and checks the cluster answers (once, with one clear error) before any walk;
/// with the namespace of the context (or `namespace`, `-n`).
pub async fn live(
    args: &ClusterArgs,
    namespace: Option<String>,
    io: &mut Io<'_>,
) -> Result<(LiveSource, String), CmdError> {
    let options = LiveOptions {
        kubeconfig: args.kubeconfig.clone(),
        context: args.context.clone(),
        namespace,
    };
    let connection = live::connect(&options)
        .await
        .map_err(|e| CmdError::failed(e.to_string()))?;
    let namespace = connection.namespace.clone();
    let source = LiveSource::new(connection, args.as_of);
    let aws_options = AwsOptions {
        cluster_name: args.cluster_name.clone(),
        region: args.region.clone(),
        profile: args.profile.clone(),
    };
    // Said from the first second: an unreachable server takes a minute to give up on,
    // and a blank terminal for that long reads as a hang.
    // The description names the context and its server: `context prod-eu (https://…)`.
    let where_to = source.info().description.clone();
    let _ = writeln!(io.err, "connecting to {where_to}…");
    let _ = io.err.flush();
    let err = &mut *io.err;
    let mut retrying = |attempt: u32, why: &str| {
        let _ = writeln!(
            err,
            "connecting to {where_to}… attempt {attempt} of {} ({})",
            live::request::ATTEMPTS,
            why
        );
        let _ = err.flush();
    };
    // Credentials may take seconds (SSO, instance metadata): look while the API answers.
    let (probe, link) = tokio::join!(source.probe(&mut retrying), async {
        if args.no_aws {
            AwsLink::off(source.info().cluster.clone())
        } else {
            aws::connect(
                &aws_options,
                source.info().cluster.as_ref(),
                Some(source.server()),
            )
            .await
        }
    });
    let source = source.with_aws(link);
    if let (false, AwsAccess::Unavailable { reason, hint }) = (args.no_aws, &source.info().aws) {
        let _ = writeln!(
            io.err,
            "note: AWS facts unknown: {}\n  hint: {}",
            reason, hint
        );
    }
    if let Err(e) = probe {
        return Err(CmdError::failed(format!(
            "cannot reach the cluster of {}: {}",
            source.info().description,
            e
        ))
        .with_hint(e.hint()));
    }
    Ok((source, namespace))
}

/// A snapshot, bundle, cluster-info dump or support bundle, its reading problems said as
/// warnings; `as_of` pins its "now".
pub fn snapshot(
    path: &Path,
    as_of: Option<DateTime<Utc>>,
    io: &mut Io<'_>,
) -> Result<Snapshot, CmdError> {
    if !path.exists() {
        return Err(CmdError::usage(format!(
            "snapshot {} does not exist (pass a directory, a .tar.gz, a cluster-info dump or a support bundle)",
            path.display()
        )));
    }
    if let Some((folder, parent, what)) = snapshot::layout_folder(path) {
        let name = folder
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        return Err(CmdError::usage(format!(
            "{} is {}the {name}/ folder of the {what} {}, not a {what} of its own: read alone, everything else the {what} holds would look absent",
            path.display(),
            if folder == path { "" } else { "inside " },
            parent.display(),
        ))
        .with_hint(format!("pass its parent instead: {}", parent.display())));
    }
    let mut s = Snapshot::open(path).map_err(|e| CmdError::failed(e.to_string()))?;
    for p in &s.info().problems {
        let _ = writeln!(io.err, "warning: {}: {p}", path.display());
    }
    if let Some(at) = as_of {
        s.set_now(at);
    }
    Ok(s)
}

/// The flags that name this source again, for commands a report suggests.
pub fn flags(args: &SourceArgs) -> String {
    let mut flags = String::new();
    if let Some(path) = &args.snapshot {
        flags.push_str(&format!(" --snapshot {}", path.display()));
    }
    if let Some(path) = &args.live.cluster.kubeconfig {
        flags.push_str(&format!(" --kubeconfig {}", path.display()));
    }
    if let Some(context) = &args.live.cluster.context {
        flags.push_str(&format!(" --context {context}"));
    }
    flags
}
