//! Reaching a cluster the way kubectl does: which kubeconfig, which context, which
//! credentials — and what to tell the user when any of it fails.

use super::readonly::ReadOnlyLayer;
use kube::client::ClientBuilder;
use kube::config::{ExecInteractiveMode, KubeConfigOptions, Kubeconfig, KubeconfigError};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The kubectl-style flags that pick a cluster.
#[derive(Clone, Debug, Default)]
pub struct LiveOptions {
    /// `--kubeconfig`: this file only, as kubectl does (no merging with `$KUBECONFIG`).
    pub kubeconfig: Option<PathBuf>,
    pub context: Option<String>,
    pub namespace: Option<String>,
}

/// A client ready to send read-only requests, and where it points.
#[derive(Clone)]
pub struct Connection {
    pub client: kube::Client,
    /// The context used; `None` in a pod (in-cluster configuration).
    pub context: Option<String>,
    pub server: String,
    pub namespace: String,
    /// The exec credential plugin of the user, if any: the AWS cluster name and region
    /// can be read from an `aws eks get-token` command line.
    pub exec: Option<(String, Vec<String>)>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error(
        "no kubeconfig found (looked at {looked}) and not running in a pod\n  \
         hint: pass --kubeconfig FILE, set KUBECONFIG, or use --snapshot PATH to work offline"
    )]
    NoConfig { looked: String },
    #[error("cannot read kubeconfig {path}: {message}\n  hint: {hint}")]
    Kubeconfig {
        path: String,
        message: String,
        hint: String,
    },
    #[error(
        "context \"{name}\" is not in {files}\n  hint: known contexts: {known} (see `kubectl config get-contexts`)"
    )]
    NoContext {
        name: String,
        files: String,
        known: String,
    },
    #[error("cannot use context \"{context}\": {message}\n  hint: {hint}")]
    Config {
        context: String,
        message: String,
        hint: String,
    },
    #[error("cannot create the Kubernetes client: {0}")]
    Client(String),
    #[error("cannot get credentials for context \"{context}\": {reason}\n  hint: {hint}")]
    Credentials {
        context: String,
        reason: String,
        hint: String,
    },
}

/// Connect timeout: a bastion that cannot reach the API should say so in seconds.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

pub async fn connect(options: &LiveOptions) -> Result<Connection, ConnectError> {
    let (kubeconfig, files) = match load_kubeconfig(options)? {
        Some(found) => found,
        None => return in_cluster(options),
    };
    let context = options
        .context
        .clone()
        .or_else(|| kubeconfig.current_context.clone())
        .filter(|c| !c.is_empty());
    let Some(context) = context else {
        return Err(ConnectError::Config {
            context: String::new(),
            message: format!("{files} sets no current-context"),
            hint: "pass --context NAME or run `kubectl config use-context NAME`".into(),
        });
    };
    if !kubeconfig.contexts.iter().any(|c| c.name == context) {
        let known: Vec<&str> = kubeconfig
            .contexts
            .iter()
            .map(|c| c.name.as_str())
            .collect();
        return Err(ConnectError::NoContext {
            name: context,
            files,
            known: if known.is_empty() {
                "none".into()
            } else {
                known.join(", ")
            },
        });
    }
    let kubeconfig = non_interactive(kubeconfig);
    let exec = exec_of(&kubeconfig, &context);
    let kube_options = KubeConfigOptions {
        context: Some(context.clone()),
        cluster: None,
        user: None,
    };
    let mut config = kube::Config::from_custom_kubeconfig(kubeconfig, &kube_options)
        .await
        .map_err(|e| ConnectError::Config {
            context: context.clone(),
            message: chain(&e),
            hint: config_hint(&e),
        })?;
    if let Some(ns) = &options.namespace {
        config.default_namespace = ns.clone();
    }
    build(config, Some(context), exec)
}

fn in_cluster(options: &LiveOptions) -> Result<Connection, ConnectError> {
    let looked = if std::env::var_os("KUBECONFIG").is_some() {
        "the files in $KUBECONFIG".to_string()
    } else {
        default_path().map_or("~/.kube/config".into(), |p| p.display().to_string())
    };
    let mut config = match kube::Config::incluster() {
        Ok(config) => config,
        Err(_) => return Err(ConnectError::NoConfig { looked }),
    };
    if let Some(ns) = &options.namespace {
        config.default_namespace = ns.clone();
    }
    build(config, None, None)
}

fn build(
    mut config: kube::Config,
    context: Option<String>,
    exec: Option<(String, Vec<String>)>,
) -> Result<Connection, ConnectError> {
    config.connect_timeout = Some(CONNECT_TIMEOUT);
    // Retries are ours (`request.rs`): bounded, logged, and counted in the walk's reason.
    config.default_retry = false;
    let server = config.cluster_url.to_string();
    let namespace = config.default_namespace.clone();
    // Building the client runs an exec credential plugin once; its failure is the
    // plugin's own message, never the command line (it carries the environment).
    let plugin = exec
        .as_ref()
        .map(|(cmd, args)| format!("{cmd} {}", args.join(" ")));
    let builder =
        ClientBuilder::try_from(config).map_err(|e| match super::request::find_auth_error(&e) {
            Some(auth) => {
                let failure = super::request::credential_failure(auth, plugin.as_deref());
                ConnectError::Credentials {
                    context: context.clone().unwrap_or_else(|| "in-cluster".into()),
                    reason: match &failure {
                        crate::facts::FactError::Unavailable { reason, .. } => reason.clone(),
                        other => other.to_string(),
                    },
                    hint: failure.hint().to_string(),
                }
            }
            None => ConnectError::Client(chain(&e)),
        })?;
    let client = builder.with_layer(&ReadOnlyLayer).build();
    Ok(Connection {
        client,
        context,
        server,
        namespace,
        exec,
    })
}

/// `--kubeconfig` alone, else every file of `$KUBECONFIG` that exists (merged, first
/// wins, as kubectl), else `~/.kube/config`; `None` when there is none to read.
fn load_kubeconfig(options: &LiveOptions) -> Result<Option<(Kubeconfig, String)>, ConnectError> {
    let read = |path: &Path| {
        Kubeconfig::read_from(path).map_err(|e| ConnectError::Kubeconfig {
            path: path.display().to_string(),
            message: chain(&e),
            hint: "fix the file (`kubectl config view` shows how kubectl reads it)".into(),
        })
    };
    if let Some(path) = &options.kubeconfig {
        if !path.exists() {
            return Err(ConnectError::Kubeconfig {
                path: path.display().to_string(),
                message: "no such file".into(),
                hint: "check the --kubeconfig path".into(),
            });
        }
        return Ok(Some((read(path)?, path.display().to_string())));
    }
    if let Some(value) = std::env::var_os("KUBECONFIG") {
        let paths: Vec<PathBuf> = std::env::split_paths(&value)
            .filter(|p| !p.as_os_str().is_empty() && p.exists())
            .collect();
        if !paths.is_empty() {
            let mut merged = Kubeconfig::default();
            for path in &paths {
                merged = merged
                    .merge(read(path)?)
                    .map_err(|e| ConnectError::Kubeconfig {
                        path: path.display().to_string(),
                        message: chain(&e),
                        hint: "the files in KUBECONFIG must agree on kind and apiVersion".into(),
                    })?;
            }
            let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
            return Ok(Some((merged, names.join(":"))));
        }
    }
    match default_path() {
        Some(path) if path.exists() => Ok(Some((read(&path)?, path.display().to_string()))),
        _ => Ok(None),
    }
}

fn default_path() -> Option<PathBuf> {
    std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".kube").join("config"))
}

/// Exec plugins never prompt: a token refresh that asked for input would write into the
/// TUI and wait forever. With `Never` the plugin's stderr is captured and shown when it
/// fails (an expired SSO session says so there).
fn non_interactive(mut kubeconfig: Kubeconfig) -> Kubeconfig {
    for named in &mut kubeconfig.auth_infos {
        if let Some(auth) = &mut named.auth_info
            && let Some(exec) = &mut auth.exec
        {
            exec.interactive_mode = Some(ExecInteractiveMode::Never);
        }
    }
    kubeconfig
}

fn exec_of(kubeconfig: &Kubeconfig, context: &str) -> Option<(String, Vec<String>)> {
    let user = kubeconfig
        .contexts
        .iter()
        .find(|c| c.name == context)?
        .context
        .as_ref()?
        .user
        .clone()?;
    let exec = kubeconfig
        .auth_infos
        .iter()
        .find(|a| a.name == user)?
        .auth_info
        .as_ref()?
        .exec
        .as_ref()?;
    Some((exec.command.clone()?, exec.args.clone().unwrap_or_default()))
}

fn config_hint(e: &KubeconfigError) -> String {
    match e {
        KubeconfigError::MissingClusterUrl => "the context's cluster has no `server:`".into(),
        KubeconfigError::LoadContext(_) | KubeconfigError::LoadClusterOfContext(_) => {
            "the context names a cluster or user missing from the kubeconfig".into()
        }
        _ => "check the context with `kubectl config view --minify`".into(),
    }
}

/// An error and its causes on one line: kube's top-level messages alone rarely say which
/// file or field.
pub(crate) fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let part = cause.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = cause.source();
    }
    text
}
