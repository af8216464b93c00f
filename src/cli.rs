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
    ///
    /// Exits 3 when a suggestion is critical, 4 for a warning; otherwise 5 when a runbook's
    /// symptom could not be decided (RBAC, data not in the snapshot, no AWS access: the
    /// report leads with what it could not see), and 0 only when every symptom was decided.
    Triage(TriageArgs),
    /// Serve a snapshot as a read-only Kubernetes API on loopback, for kubectl and ktriage.
    Serve(ServeArgs),
    /// List, show, validate, test or describe runbooks, or list their finding codes.
    #[command(subcommand)]
    Runbooks(RunbooksCommand),
    /// Collect an evidence bundle for the postmortem (walks, the facts they read, a
    /// baseline, notes, a report; redacted, hashed, written atomically), verify one, or
    /// list the redaction rules.
    Bundle(BundleArgs),
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct BundleArgs {
    #[command(subcommand)]
    pub command: Option<BundleCommand>,
    /// Snapshot to collect from instead of a live cluster (a bundle of a bundle works too).
    #[arg(long, value_name = "PATH", conflicts_with_all = ["kubeconfig", "context"])]
    pub snapshot: Option<PathBuf>,
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// Namespace whose workloads and events go in the bundle (repeatable); the first is
    /// also the namespace of a --target given without one.
    #[arg(long = "namespace", short = 'n', value_name = "NS")]
    pub namespaces: Vec<String>,
    /// Walk this runbook into the bundle (repeatable). A --target right after it names its
    /// target; without one, a runbook that can scan walks every object showing its symptom.
    #[arg(long = "run", value_name = "RUNBOOK")]
    pub runs: Vec<String>,
    /// The target of the --run before it.
    #[arg(long = "target", value_name = "REF")]
    pub targets: Vec<String>,
    /// Answer to a question step of any walk, as STEP=CHOICE (repeatable).
    #[arg(long = "answer", value_name = "STEP=CHOICE")]
    pub answers: Vec<String>,
    /// Keep container log lines this recent only (`30m`, `2h`, `1d`).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub since: Option<chrono::Duration>,
    /// Keep at most this many lines of each container log (its newest).
    #[arg(long, value_name = "N", default_value_t = 2000)]
    pub max_log_lines: u32,
    /// Stop collecting after this many seconds; what is left is listed in errors.json.
    #[arg(long, value_name = "SECONDS", default_value_t = 300)]
    pub deadline: u64,
    /// Also redact IP addresses (kept by default: they are usually the evidence).
    #[arg(long)]
    pub redact_ips: bool,
    /// The bundle file (default: ./ktriage-CLUSTER-TIMESTAMP.tar.gz).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Filled from the order of --run and --target on the command line.
    #[arg(skip)]
    pub walks: Vec<(String, Option<String>)>,
}

#[derive(Debug, Subcommand)]
pub enum BundleCommand {
    /// Re-check a bundle's files against the SHA-256 sums in its manifest.
    Verify { file: PathBuf },
    /// The redaction rules: built-in and yours (`~/.config/ktriage/redaction.toml`).
    Rules,
}

fn parse_duration(s: &str) -> Result<chrono::Duration, String> {
    crate::runbook::compile::parse_duration(s)
        .ok_or_else(|| format!("`{s}` is not a duration (e.g. 30m, 2h, 1d, 1h30m)"))
}

fn parse_timeout(s: &str) -> Result<std::time::Duration, String> {
    parse_duration(s)?
        .to_std()
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| format!("`{s}` is not a positive duration (e.g. 15s, 1m)"))
}

/// Parses the command line, pairing each `ktriage bundle --target` with the `--run`
/// before it (clap keeps repeated flags apart, their order only in the indices).
pub fn try_parse_from<I, T>(args: I) -> Result<Cli, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    use clap::{CommandFactory, FromArgMatches};
    let matches = Cli::command().try_get_matches_from(args)?;
    let mut cli = Cli::from_arg_matches(&matches)?;
    if let (Some(Command::Bundle(b)), Some(("bundle", m))) =
        (&mut cli.command, matches.subcommand())
    {
        let indexed = |id: &str| -> Vec<(usize, String)> {
            match (m.indices_of(id), m.get_many::<String>(id)) {
                (Some(i), Some(v)) => i.zip(v.cloned()).collect(),
                _ => Vec::new(),
            }
        };
        let runs = indexed("runs");
        let targets = indexed("targets");
        let mut walks: Vec<(String, Option<String>)> = Vec::new();
        for (i, run) in &runs {
            let next_run = runs
                .iter()
                .map(|(j, _)| *j)
                .find(|j| j > i)
                .unwrap_or(usize::MAX);
            let target = targets
                .iter()
                .find(|(j, _)| j > i && *j < next_run)
                .map(|(_, t)| t.clone());
            walks.push((run.clone(), target));
        }
        if targets.len() > walks.iter().filter(|(_, t)| t.is_some()).count() {
            return Err(Cli::command().error(
                clap::error::ErrorKind::ArgumentConflict,
                "each --target names the target of the --run before it; one --target came before any --run or after another --target",
            ));
        }
        b.walks = walks;
    }
    Ok(cli)
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

/// A live cluster and the namespace a bare target name is in.
#[derive(Debug, Args, Default)]
pub struct LiveArgs {
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// Namespace of a --target given as a bare NAME: `-n shop --target web` walks
    /// shop/web (default: the context's namespace, live; `default` over a snapshot). A
    /// --target NS/NAME names its own namespace; an -n naming another is a usage error.
    #[arg(long, short = 'n', value_name = "NS")]
    pub namespace: Option<String>,
}

/// The live cluster of a kube context, chosen as kubectl chooses it, and its AWS side:
/// the flags every command that can read a live cluster shares.
#[derive(Clone, Debug, Args, Default)]
pub struct ClusterArgs {
    /// Kubeconfig file to use (only this file, as with kubectl).
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// Kube context to use (default: the kubeconfig's current-context).
    #[arg(long, value_name = "NAME")]
    pub context: Option<String>,
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
    /// Open connections at most; when full, the one idle longest is closed for a new client.
    #[arg(long, value_name = "N", default_value_t = 512, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: u32,
    /// Requests answered at once (watches aside); the others wait their turn.
    #[arg(long, value_name = "N", default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_in_flight: u32,
    /// Watches open at once; more are answered 429, as the API server does.
    #[arg(long, value_name = "N", default_value_t = 128)]
    pub max_watches: u32,
    /// Close a connection whose request headers take longer than this (also the idle keep-alive).
    #[arg(long, value_name = "DURATION", default_value = "15s", value_parser = parse_timeout)]
    pub header_timeout: std::time::Duration,
    /// Close a connection whose client has not read its response for this long.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_timeout)]
    pub stall_timeout: std::time::Duration,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Runbook id (see `ktriage runbooks list`).
    pub runbook: String,
    #[command(flatten)]
    pub source: SourceArgs,
    /// What the runbook is about: NAMESPACE/NAME (or NAME with -n NAMESPACE) for
    /// namespaced kinds, NAME otherwise.
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
    /// Every finding code the runbooks conclude (code, severity, title), by runbook and
    /// in priority order: the contract scripts and alerts match on. docs/findings.md is
    /// `ktriage runbooks codes --output markdown` over the built-in runbooks.
    Codes {
        #[arg(long, short, value_enum, default_value_t = Format::Text)]
        output: Format,
    },
}
