//! The command line, as clap definitions only.

use crate::evidence::report::Format;
use chrono::{DateTime, Utc};
use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "ktriage",
    version,
    about = "Troubleshooting assistant for Kubernetes and Amazon EKS: runbook decision trees over cluster state",
    long_about = "ktriage walks declarative runbooks (decision trees) over cluster state — a live \
cluster (the current kube context, as kubectl finds it), a snapshot directory or .tar.gz, a `kubectl cluster-info dump`, or a support bundle — and concludes with a stable \
finding code, the evidence it rests on, and what to do.\n\nExit codes: 0 nothing wrong, 3 a critical \
finding, 4 a warning, 5 inconclusive (or waiting for an answer), 2 bad usage or a bad runbook, 1 the \
tool failed."
)]
pub struct Cli {
    /// Extra runbook directory (or file); its runbooks replace built-in ones with the same id.
    #[arg(long = "runbooks", value_name = "DIR", global = true)]
    pub runbook_dirs: Vec<PathBuf>,

    /// Colour theme of the interface (see `ktriage themes list`; default: `default`, or
    /// `mono` when NO_COLOR is set or the terminal has no colour).
    #[arg(long, value_name = "NAME", global = true)]
    pub theme: Option<String>,

    /// Without a command: the interface on the live cluster of the current kube context.
    #[command(flatten)]
    pub live: LiveArgs,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// The interface on a snapshot, evidence bundle, `kubectl cluster-info dump` or
    /// support bundle (offline).
    Open(OpenArgs),
    /// The interface on a broken demo cluster built into ktriage: the whole flow, no
    /// cluster needed.
    Demo,
    /// List the interface's colour themes (built-in and yours).
    #[command(subcommand)]
    Themes(ThemesCommand),
    /// Walk one runbook over a target and print the conclusion, its evidence and the path.
    Run(RunArgs),
    /// Evaluate every runbook's symptom and rank what to look at first.
    Triage(TriageArgs),
    /// Serve a snapshot as a read-only Kubernetes API on loopback, for kubectl and ktriage.
    Serve(ServeArgs),
    /// List, show, validate, test or describe runbooks.
    #[command(subcommand)]
    Runbooks(RunbooksCommand),
}

/// Where the cluster state comes from: a snapshot, or the live cluster of a kube context
/// (found as kubectl finds it: `--kubeconfig`, `$KUBECONFIG`, `~/.kube/config`, in-cluster).
#[derive(Debug, Args)]
pub struct SourceArgs {
    /// Snapshot to read instead of a live cluster: a directory or .tar.gz in the ktriage
    /// snapshot format, a `kubectl cluster-info dump --output-directory` or a troubleshoot
    /// support bundle.
    #[arg(long, value_name = "PATH", conflicts_with_all = ["kubeconfig", "context"])]
    pub snapshot: Option<PathBuf>,
    #[command(flatten)]
    pub live: LiveArgs,
}

/// The live cluster of a kube context, chosen as kubectl chooses it.
#[derive(Debug, Args, Default)]
pub struct LiveArgs {
    /// Kubeconfig file to use (only this file, as with kubectl).
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// Kube context to use (default: the kubeconfig's current-context).
    #[arg(long, value_name = "NAME")]
    pub context: Option<String>,
    /// Namespace of a --target given without one (default: the context's namespace).
    #[arg(long, short = 'n', value_name = "NS")]
    pub namespace: Option<String>,
    /// Judge ages and time windows as of this moment (RFC 3339) instead of the clock
    /// (live) or the capture time (snapshot): reproduces an earlier run.
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub as_of: Option<DateTime<Utc>>,
    /// EKS cluster to read from AWS (default: from the context's ARN or its
    /// `aws eks get-token --cluster-name` plugin).
    #[arg(long, value_name = "NAME")]
    pub cluster_name: Option<String>,
    /// AWS region of the cluster (default: from the context, the API server URL, then
    /// AWS_REGION or the profile).
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
    /// AWS profile for credentials (default: the standard chain: env, AWS_PROFILE, SSO,
    /// credential_process, web identity, instance profile).
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// Do not call AWS at all: every EKS and CloudWatch Logs fact is unknown, said once.
    #[arg(long, conflicts_with_all = ["cluster_name", "region", "profile"])]
    pub no_aws: bool,
}

fn parse_time(s: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| format!("{e} (expected RFC 3339, e.g. 2026-11-20T03:12:44Z)"))
}

#[derive(Debug, Args)]
pub struct OpenArgs {
    /// Snapshot directory or .tar.gz, evidence bundle, cluster-info dump or support bundle.
    pub path: PathBuf,
    /// Judge ages as of this moment (RFC 3339) instead of the capture time.
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub as_of: Option<DateTime<Utc>>,
}

#[derive(Debug, Subcommand)]
pub enum ThemesCommand {
    /// Every theme that loads (built-in, then $XDG_CONFIG_HOME/ktriage/themes/), and files that do not.
    List,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Snapshot to serve: directory, .tar.gz, bundle, cluster-info dump or support bundle.
    pub path: PathBuf,
    /// Address to listen on (default: 127.0.0.1 and a free port).
    #[arg(long, value_name = "ADDR:PORT")]
    pub listen: Option<SocketAddr>,
    /// Allow a non-loopback --listen address; requests then need the kubeconfig's token.
    #[arg(long)]
    pub listen_any: bool,
    /// Write a kubeconfig that reaches this server to FILE (mode 0600).
    #[arg(long, value_name = "FILE")]
    pub kubeconfig_out: Option<PathBuf>,
    /// Answer 403 for these resources as RBAC would (`configmaps`, `deployments.apps`, `pods/log`).
    #[arg(long, value_name = "RESOURCE,...", value_delimiter = ',')]
    pub forbid: Vec<String>,
    /// Delay every answer by MS milliseconds.
    #[arg(long, value_name = "MS")]
    pub latency: Option<u64>,
    /// Answer every Nth request with a 500 (to exercise clients' retries).
    #[arg(long, value_name = "N")]
    pub fail_every: Option<u64>,
    /// Append one line per request (time, method, path?query, status) to FILE.
    #[arg(long, value_name = "FILE")]
    pub access_log: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Runbook id (see `ktriage runbooks list`).
    pub runbook: String,
    #[command(flatten)]
    pub source: SourceArgs,
    /// What the runbook is about: NAMESPACE/NAME for namespaced kinds, NAME otherwise.
    #[arg(long, value_name = "REF")]
    pub target: Option<String>,
    /// Answer to a question step, as STEP=CHOICE (repeatable).
    #[arg(long = "answer", value_name = "STEP=CHOICE")]
    pub answers: Vec<String>,
    #[arg(long, short, value_enum, default_value_t = Format::Text)]
    pub output: Format,
}

#[derive(Debug, Args)]
pub struct TriageArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    #[arg(long, short, value_enum, default_value_t = Format::Text)]
    pub output: Format,
}

#[derive(Debug, Subcommand)]
pub enum RunbooksCommand {
    /// Every runbook that loads, with its target kind and codes.
    List,
    /// One runbook: its description, facts, steps and conclusions.
    Show {
        id: String,
        /// Print the runbook's YAML as loaded (a starting point for an override).
        #[arg(long)]
        source: bool,
    },
    /// Check runbook files (default: every loaded runbook) and report errors with file:line:column.
    Validate { paths: Vec<PathBuf> },
    /// Run the test cases beside runbooks (`*.tests.yaml`; default: ./runbooks).
    Test { paths: Vec<PathBuf> },
    /// Print the JSON Schema of the runbook format.
    Schema,
}
