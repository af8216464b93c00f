//! What each headless command does. Output goes to the given writers so commands are
//! tested without a process; the exit code is returned, never `exit()`ed here.

use crate::cli::{
    BundleArgs, BundleCommand, Cli, Command, LiveArgs, RunArgs, RunbooksCommand, ServeArgs,
    SourceArgs, ThemesCommand, TriageArgs,
};
use crate::drive::testing;
use crate::drive::triage;
use crate::drive::{Round, Session};
use crate::evidence::report::{self, Format};
use crate::facts::FactLookup;
use crate::facts::{AwsAccess, Source};
use crate::runbook::Catalog;
use crate::runbook::catalog::{self, RunbookFile};
use crate::runbook::format::WhenAbsent;
use crate::runbook::model::{Runbook, StepKind, TargetKind};
use crate::runbook::record::WalkRecord;
use crate::source::aws::{self, AwsLink, AwsOptions};
use crate::source::live::{self, LiveOptions, LiveSource};
use crate::source::snapshot::Snapshot;
use crate::text::{Breaks, Sanitizing, sanitize_line};
use crate::tui;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

pub const EXIT_USAGE: i32 = 2;
pub const EXIT_FAILURE: i32 = 1;
/// Nothing could be concluded (DESIGN.md exit codes).
pub const EXIT_INCONCLUSIVE: i32 = 5;

pub struct Io<'a> {
    pub out: &'a mut dyn Write,
    pub err: &'a mut dyn Write,
}

/// Reads the user's settings in `dirs` once, then runs the command.
pub async fn execute(cli: Cli, dirs: crate::config::Dirs, io: &mut Io<'_>) -> i32 {
    let settings = match crate::config::Settings::read(dirs, &cli.runbook_dirs) {
        Ok(s) => s,
        Err(e) => {
            let _ = writeln!(io.err, "error: {e}\n  hint: {}", e.hint());
            return EXIT_USAGE;
        }
    };
    let catalog = Catalog::load(&settings.runbook_dirs);
    execute_with(&catalog, &settings, cli, io).await
}

/// `execute` with runbooks already loaded (tests run many commands over one catalog).
pub async fn execute_with(
    catalog: &Catalog,
    settings: &crate::config::Settings,
    cli: Cli,
    io: &mut Io<'_>,
) -> i32 {
    // Every command's output reaches a terminal (or a pipe into a pager) through these: no
    // message that quotes a name, a reason or a file path can bypass the sanitiser. The
    // interface draws on the terminal by its own handle.
    let mut out = Sanitizing::new(&mut *io.out, Breaks::Keep);
    let mut err = Sanitizing::new(&mut *io.err, Breaks::Keep);
    let io = &mut Io {
        out: &mut out,
        err: &mut err,
    };
    match cli.command {
        None => {
            let opened = match connect_live(&cli.live, io).await {
                Ok((live, _)) => {
                    let live = Arc::new(live);
                    tui::Opened {
                        source: live.clone(),
                        live: Some(live),
                        pinned_now: cli.live.as_of,
                    }
                }
                Err(code) => return code,
            };
            interface(catalog, settings, opened, cli.theme.as_deref(), io).await
        }
        Some(Command::Open(args)) => match open_snapshot(&args.path, args.as_of, io) {
            Ok(snapshot) => {
                let opened = tui::Opened {
                    source: Arc::new(snapshot),
                    live: None,
                    pinned_now: args.as_of,
                };
                interface(catalog, settings, opened, cli.theme.as_deref(), io).await
            }
            Err(code) => code,
        },
        Some(Command::Demo) => match crate::demo::snapshot() {
            Ok(snapshot) => {
                let opened = tui::Opened {
                    source: Arc::new(snapshot),
                    live: None,
                    pinned_now: None,
                };
                interface(catalog, settings, opened, cli.theme.as_deref(), io).await
            }
            Err(e) => {
                let _ = writeln!(
                    io.err,
                    "error: the built-in demo cluster does not load: {e}"
                );
                EXIT_FAILURE
            }
        },
        Some(Command::Themes(ThemesCommand::List)) => themes_list(settings, io),
        Some(Command::Run(args)) => run(catalog, args, io).await,
        Some(Command::Triage(args)) => triage(catalog, args, io).await,
        Some(Command::Runbooks(cmd)) => runbooks(catalog, &settings.runbook_dirs, cmd, io).await,
        Some(Command::Serve(args)) => serve(args, io).await,
        Some(Command::Bundle(args)) => bundle(catalog, settings, args, io).await,
    }
}

/// `ktriage bundle`: walks, collection and the archive, headless; or `verify` / `rules`.
async fn bundle(
    catalog: &Catalog,
    settings: &crate::config::Settings,
    args: BundleArgs,
    io: &mut Io<'_>,
) -> i32 {
    use crate::drive::collect;
    use crate::evidence::{archive, bundle as assemble, export, redact};
    match &args.command {
        Some(BundleCommand::Verify { file }) => {
            return match archive::verify(file) {
                Ok(v) => {
                    let _ = writeln!(
                        io.out,
                        "ok: {} — {} file(s) match the manifest's SHA-256 sums",
                        sanitize_line(&file.display().to_string()),
                        v.files
                    );
                    0
                }
                Err(e) => {
                    let _ = writeln!(io.err, "error: {e}");
                    EXIT_FAILURE
                }
            };
        }
        Some(BundleCommand::Rules) => {
            return match redact::RuleSet::with_user_file(settings.redaction.as_ref()) {
                Ok(rules) => {
                    for r in rules.rules() {
                        let _ = writeln!(
                            io.out,
                            "{:<28} {:<8} {:<9} {}",
                            r.id,
                            r.kind,
                            if r.enabled { "on" } else { "off" },
                            r.description
                        );
                    }
                    0
                }
                Err(e) => {
                    let _ = writeln!(io.err, "error: {e}");
                    EXIT_USAGE
                }
            };
        }
        None => {}
    }
    let rules = match redact::RuleSet::with_user_file(settings.redaction.as_ref()) {
        Ok(r) => r,
        Err(e) => {
            let _ = writeln!(io.err, "error: {e}");
            return EXIT_USAGE;
        }
    };
    let redactor = redact::Redactor::new(
        &rules,
        redact::Profile {
            redact_ips: args.redact_ips,
        },
    );
    // Every runbook and answer is checked before anything is collected.
    let mut planned = Vec::new();
    for (id, target) in &args.walks {
        let Some(runbook) = catalog.get(id) else {
            let ids = catalog.ids();
            let _ = writeln!(
                io.err,
                "error: no runbook `{}`{}\n  available: {}",
                sanitize_line(id),
                did_you_mean(id, &ids),
                ids.join(", ")
            );
            return EXIT_USAGE;
        };
        let target = target.as_ref().map(|t| {
            match (
                &runbook.target.kind,
                t.contains('/'),
                args.namespaces.first(),
            ) {
                (
                    TargetKind::Kubernetes {
                        namespaced: true, ..
                    },
                    false,
                    Some(ns),
                ) => format!("{ns}/{t}"),
                _ => t.clone(),
            }
        });
        if let Err(msg) = check_target_form(runbook, target.as_deref()) {
            let _ = writeln!(io.err, "error: {msg}");
            return EXIT_USAGE;
        }
        let answers = match parse_answers_lenient(catalog, runbook, &args.answers) {
            Ok(a) => a,
            Err(msg) => {
                let _ = writeln!(io.err, "error: {msg}");
                return EXIT_USAGE;
            }
        };
        planned.push((runbook.clone(), target, answers));
    }
    let source_args = SourceArgs {
        snapshot: args.snapshot.clone(),
        live: LiveArgs {
            kubeconfig: args.kubeconfig.clone(),
            context: args.context.clone(),
            namespace: args.namespaces.first().cloned(),
            as_of: args.as_of,
            cluster_name: args.cluster_name.clone(),
            region: args.region.clone(),
            profile: args.profile.clone(),
            no_aws: args.no_aws,
        },
    };
    let session = match open_source(&source_args, io).await {
        Ok(s) => Session::new(s),
        Err(code) => return code,
    };
    let round = session.round(catalog);
    let mut walks: Vec<assemble::Walked> = Vec::new();
    for (runbook, target, answers) in &planned {
        if let Some(t) = target
            && let Err(msg) = target_exists(&round, runbook, t).await
        {
            let _ = writeln!(io.err, "error: {msg}");
            return EXIT_USAGE;
        }
        let targets: Vec<Option<String>> = match target {
            Some(t) => vec![Some(t.clone())],
            None if runbook.target.when_absent == WhenAbsent::Symptomatic => {
                match triage::scan(&round, runbook).await {
                    Ok(scan) => scan.matched.into_iter().map(|(t, _)| t).collect(),
                    Err(reason) => {
                        let _ = writeln!(
                            io.err,
                            "warning: {}: cannot tell which objects to walk ({reason}); walking without a target",
                            runbook.id
                        );
                        vec![None]
                    }
                }
            }
            None => vec![None],
        };
        for t in targets {
            let record = round.walk(runbook, t.as_deref(), answers).await;
            let _ = writeln!(
                io.err,
                "walked {} on {}: {}",
                runbook.id,
                t.as_deref()
                    .map_or_else(|| "the cluster".into(), sanitize_line),
                record.conclusion.as_ref().map_or_else(
                    || format!("{:?}", record.status).to_lowercase(),
                    |c| c.code.clone()
                )
            );
            walks.push(assemble::Walked {
                record,
                answers: answers.clone(),
            });
        }
    }
    let mut scope = collect::Scope::default();
    scope.namespaces.extend(args.namespaces.iter().cloned());
    let options = export::Options {
        limits: collect::Limits {
            max_log_lines: args.max_log_lines,
            since: args.since,
            deadline: std::time::Duration::from_secs(args.deadline),
            ..collect::Limits::default()
        },
        scope,
        redactor: &redactor,
        output: args.output.clone(),
        dir: PathBuf::from("."),
    };
    let err = std::sync::Mutex::new(Vec::<String>::new());
    let progress = |line: String| {
        if let Ok(mut e) = err.lock() {
            e.push(line);
        }
    };
    let cancel = std::sync::atomic::AtomicBool::new(false);
    let result = export::export(
        &*session.source,
        round.cache,
        catalog,
        &walks,
        &[],
        round.env.now(),
        options,
        &progress,
        &cancel,
    )
    .await;
    for line in err.into_inner().unwrap_or_default() {
        let _ = writeln!(io.err, "{line}");
    }
    match result {
        Ok(w) => {
            let _ = writeln!(
                io.out,
                "{}\n  {} file(s), {} KiB; {} collection problem(s) (errors.json), {} redaction(s) (redactions.json)\n  reopen: ktriage open {0}\n  check:  ktriage bundle verify {0}",
                w.path.display(),
                w.files,
                w.bytes.div_ceil(1024),
                w.errors,
                w.redactions
            );
            most_serious(walks.iter().map(|w| w.record.exit_code()))
        }
        Err(e) => {
            let _ = writeln!(io.err, "error: {e}");
            EXIT_FAILURE
        }
    }
}

/// The interface over an opened source; its errors are printed once the terminal is back.
async fn interface(
    catalog: &Catalog,
    settings: &crate::config::Settings,
    opened: tui::Opened,
    theme: Option<&str>,
    io: &mut Io<'_>,
) -> i32 {
    report_load_errors(catalog, io);
    let choice = match theme {
        Some(name) => tui::theme::Choice::Named(name),
        None => tui::theme::Choice::Auto {
            colour: tui::theme::colour_supported(
                std::env::var("NO_COLOR").ok().as_deref(),
                std::env::var("TERM").ok().as_deref(),
            ),
        },
    };
    let theme = match tui::theme::select(choice, settings) {
        Ok(t) => t,
        Err(e) => {
            let _ = writeln!(io.err, "error: {e}");
            return EXIT_USAGE;
        }
    };
    let keymap = match tui::keymap::Keymap::with_user_file(settings.keys.as_ref()) {
        Ok(k) => k,
        Err(e) => {
            let _ = writeln!(io.err, "error: keys: {e}");
            return EXIT_USAGE;
        }
    };
    // Checked before the terminal is taken, so a bad file is said at start, not in the
    // middle of an export.
    let rules = match crate::evidence::redact::RuleSet::with_user_file(settings.redaction.as_ref())
    {
        Ok(r) => Arc::new(r),
        Err(e) => {
            let _ = writeln!(io.err, "error: {e}");
            return EXIT_USAGE;
        }
    };
    tracing::info!(theme = %theme.name, source = %opened.source.info().description, "interface starts");
    match tui::run(
        opened,
        Arc::new(catalog.clone()),
        tui::Options {
            theme,
            keymap,
            rules,
        },
    )
    .await
    {
        Ok(tui::Ended::Quit) => 0,
        // As a shell reports a process a signal ended: 128 + its number. The message may
        // find no terminal (SIGHUP); the log has it either way.
        Ok(tui::Ended::Signalled(name, number)) => {
            tracing::info!(signal = name, "interface stopped by a signal");
            let _ = writeln!(
                io.err,
                "ktriage: stopped by {name}; the terminal was restored"
            );
            128 + number
        }
        Err(e) => {
            let _ = writeln!(io.err, "error: {e}");
            EXIT_FAILURE
        }
    }
}

fn themes_list(settings: &crate::config::Settings, io: &mut Io<'_>) -> i32 {
    let (themes, errors) = tui::theme::all(settings);
    for t in &themes {
        let _ = writeln!(io.out, "{:<16} {:<56} {}", t.name, t.description, t.origin);
    }
    for e in &errors {
        let _ = writeln!(io.err, "warning: theme not loaded: {e}");
    }
    if errors.is_empty() { 0 } else { EXIT_USAGE }
}

fn report_load_errors(catalog: &Catalog, io: &mut Io<'_>) {
    for e in &catalog.errors {
        let _ = writeln!(io.err, "warning: runbook not loaded: {e}");
    }
}

/// The source the flags name: a snapshot with `--snapshot`, else the live cluster of
/// the kube context (kubectl's rules for which one).
async fn open_source(args: &SourceArgs, io: &mut Io<'_>) -> Result<Arc<dyn Source>, i32> {
    open_source_in(args, io).await.map(|(source, _)| source)
}

/// [`open_source`] with the namespace of a target named without one: `-n`, else the
/// kube context's namespace (live) or `default` (a snapshot), as kubectl resolves it.
async fn open_source_in(
    args: &SourceArgs,
    io: &mut Io<'_>,
) -> Result<(Arc<dyn Source>, String), i32> {
    match &args.snapshot {
        Some(path) => open_snapshot(path, args.live.as_of, io).map(|s| {
            let namespace = args.live.namespace.as_deref().unwrap_or("default");
            (Arc::new(s) as Arc<dyn Source>, namespace.to_string())
        }),
        None => connect_live(&args.live, io)
            .await
            .map(|(s, namespace)| (Arc::new(s) as Arc<dyn Source>, namespace)),
    }
}

/// Connects and checks the cluster answers (once, with one clear error) before any walk;
/// with the namespace of the context (or `-n`).
async fn connect_live(args: &LiveArgs, io: &mut Io<'_>) -> Result<(LiveSource, String), i32> {
    let options = LiveOptions {
        kubeconfig: args.kubeconfig.clone(),
        context: args.context.clone(),
        namespace: args.namespace.clone(),
    };
    let (source, namespace) = match live::connect(&options).await {
        Ok(connection) => {
            let namespace = connection.namespace.clone();
            (LiveSource::new(connection, args.as_of), namespace)
        }
        Err(e) => {
            let _ = writeln!(io.err, "error: {e}");
            return Err(EXIT_FAILURE);
        }
    };
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
        let _ = writeln!(
            io.err,
            "error: cannot reach the cluster of {}: {}\n  hint: {}",
            source.info().description,
            e,
            e.hint()
        );
        return Err(EXIT_FAILURE);
    }
    Ok((source, namespace))
}

pub(crate) fn open_snapshot(
    path: &std::path::Path,
    as_of: Option<chrono::DateTime<chrono::Utc>>,
    io: &mut Io<'_>,
) -> Result<Snapshot, i32> {
    if !path.exists() {
        let _ = writeln!(
            io.err,
            "error: snapshot {} does not exist (pass a directory, a .tar.gz, a cluster-info dump or a support bundle)",
            path.display()
        );
        return Err(EXIT_USAGE);
    }
    if let Some((folder, parent, what)) = folder_of_snapshot(path) {
        let name = folder
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        let _ = writeln!(
            io.err,
            "error: {} is {}the {name}/ folder of the {what} {}, not a {what} of its own: read alone, everything else the {what} holds would look absent\n  hint: pass its parent instead: {}",
            path.display(),
            if folder == path { "" } else { "inside " },
            parent.display(),
            parent.display(),
        );
        return Err(EXIT_USAGE);
    }
    match Snapshot::open(path) {
        Ok(mut s) => {
            for p in &s.info().problems {
                let _ = writeln!(io.err, "warning: {}: {p}", path.display(),);
            }
            if let Some(at) = as_of {
                s.set_now(at);
            }
            Ok(s)
        }
        Err(e) => {
            let _ = writeln!(io.err, "error: {e}");
            Err(EXIT_FAILURE)
        }
    }
}

/// When `path` is a layout folder of a snapshot or support bundle (`SNAP/k8s`,
/// `SNAP/logs`, `SNAP/aws`, `BUNDLE/cluster-resources`) or inside one: that folder, the
/// parent to pass instead, and what the parent is. The folder names are those of
/// `source/snapshot/layout.rs`; the parent counts as a layout by its unambiguous marks
/// (`snapshot.yaml`, a support bundle's `cluster-resources/`, or two of `k8s/`, `logs/`
/// and `aws/`), so a snapshot kept in a folder that happens to be called `logs` still
/// opens, as does any folder that is a snapshot root itself.
fn folder_of_snapshot(path: &std::path::Path) -> Option<(PathBuf, PathBuf, &'static str)> {
    if !path.is_dir() {
        return None;
    }
    // `.` from inside `SNAP/k8s` names no folder: then the absolute path says where.
    folder_of_snapshot_in(path).or_else(|| folder_of_snapshot_in(&path.canonicalize().ok()?))
}

fn folder_of_snapshot_in(path: &std::path::Path) -> Option<(PathBuf, PathBuf, &'static str)> {
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

/// The flags that name this source again, for commands a report suggests.
fn source_flag(args: &SourceArgs) -> String {
    let mut flags = String::new();
    if let Some(path) = &args.snapshot {
        flags.push_str(&format!(" --snapshot {}", path.display()));
    }
    if let Some(path) = &args.live.kubeconfig {
        flags.push_str(&format!(" --kubeconfig {}", path.display()));
    }
    if let Some(context) = &args.live.context {
        flags.push_str(&format!(" --context {context}"));
    }
    flags
}

async fn run(catalog: &Catalog, args: RunArgs, io: &mut Io<'_>) -> i32 {
    let Some(runbook) = catalog.get(&args.runbook) else {
        let own_errors: Vec<_> = catalog
            .errors
            .iter()
            .filter(|e| e.file.contains(&format!("{}.y", args.runbook)))
            .collect();
        if own_errors.is_empty() {
            let ids = catalog.ids();
            let _ = writeln!(
                io.err,
                "error: no runbook `{}`{}",
                sanitize_line(&args.runbook),
                did_you_mean(&args.runbook, &ids)
            );
            let _ = writeln!(io.err, "  available: {}", ids.join(", "));
        } else {
            let _ = writeln!(
                io.err,
                "error: runbook `{}` does not load:",
                sanitize_line(&args.runbook)
            );
            for e in own_errors {
                let _ = writeln!(io.err, "  {e}");
            }
        }
        return EXIT_USAGE;
    };
    report_load_errors(catalog, io);
    let answers = match parse_answers(catalog, runbook, &args.answers) {
        Ok(a) => a,
        Err(msg) => {
            let _ = writeln!(io.err, "error: {msg}");
            return EXIT_USAGE;
        }
    };
    if let Err(msg) = check_target_form(runbook, args.target.as_deref()).and_then(|()| {
        check_target_namespace(
            runbook,
            args.target.as_deref(),
            args.source.live.namespace.as_deref(),
        )
    }) {
        let _ = writeln!(io.err, "error: {msg}");
        return EXIT_USAGE;
    }
    let (session, namespace) = match open_source_in(&args.source, io).await {
        Ok((s, namespace)) => (Session::new(s), namespace),
        Err(code) => return code,
    };
    let round = session.round(catalog);
    let target = args
        .target
        .as_deref()
        .map(|t| qualify_target(runbook, t, &namespace));
    if let Some(target) = &target
        && let Err(msg) = target_exists(&round, runbook, target).await
    {
        let _ = writeln!(io.err, "error: {msg}");
        return EXIT_USAGE;
    }
    let warnings = session.source.info().problems.clone();
    let ctx = report::Context {
        source_flag: &source_flag(&args.source),
        warnings: &warnings,
    };
    if args.target.is_none() && runbook.target.when_absent == WhenAbsent::Symptomatic {
        return run_symptomatic(&round, runbook, &answers, args.output, &ctx, io).await;
    }
    let record = round.walk(runbook, target.as_deref(), &answers).await;
    let _ = io
        .out
        .write_all(report::walk(&record, args.output, &ctx).as_bytes());
    record.exit_code()
}

/// A target given as `NS/NAME` names its own namespace: `-n` naming another is a usage
/// error rather than a silent choice of one of them. Cluster-scoped kinds ignore `-n`,
/// as kubectl does.
fn check_target_namespace(
    runbook: &Runbook,
    target: Option<&str>,
    namespace: Option<&str>,
) -> Result<(), String> {
    let (Some(target), Some(ns)) = (target, namespace) else {
        return Ok(());
    };
    let TargetKind::Kubernetes {
        namespaced: true, ..
    } = runbook.target.kind
    else {
        return Ok(());
    };
    match target.split_once('/') {
        Some((own, name)) if own != ns => Err(format!(
            "--target {} is in namespace `{}` but -n says `{}`; give one: --target {}/{} or -n {} --target {}",
            sanitize_line(target),
            sanitize_line(own),
            sanitize_line(ns),
            sanitize_line(own),
            sanitize_line(name),
            sanitize_line(ns),
            sanitize_line(name)
        )),
        _ => Ok(()),
    }
}

/// A bare `NAME` of a namespaced kind as `NS/NAME` in `namespace` (`-n`, the context's,
/// or `default`); anything else as given.
fn qualify_target(runbook: &Runbook, target: &str, namespace: &str) -> String {
    match runbook.target.kind {
        TargetKind::Kubernetes {
            namespaced: true, ..
        } if !target.contains('/') => format!("{namespace}/{target}"),
        _ => target.to_string(),
    }
}

/// A run without a target of a `whenAbsent: symptomatic` runbook walks every object whose
/// symptom shows (JSON: an array of walk records); the exit code is the most serious.
async fn run_symptomatic(
    round: &Round<'_>,
    runbook: &Runbook,
    answers: &BTreeMap<String, String>,
    output: Format,
    ctx: &report::Context<'_>,
    io: &mut Io<'_>,
) -> i32 {
    let scan = match triage::scan(round, runbook).await {
        Ok(s) => s,
        Err(reason) => {
            let _ = writeln!(
                io.err,
                "error: cannot tell which {} objects to walk: {reason}\n  name one: --target {}",
                runbook.target.kind_name(),
                runbook.target.ref_form()
            );
            return EXIT_INCONCLUSIVE;
        }
    };
    for (target, reason) in &scan.undecided {
        let _ = writeln!(
            io.err,
            "warning: could not tell whether {} shows the symptom: {reason}",
            target
                .as_deref()
                .map_or_else(|| "the cluster".into(), sanitize_line)
        );
    }
    let mut targets: Vec<(Option<String>, Option<chrono::DateTime<chrono::Utc>>)> = scan
        .matched
        .into_iter()
        .map(|(t, r)| (t, r.since))
        .collect();
    targets.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    if targets.is_empty() {
        let _ = writeln!(
            io.err,
            "No {} shows the symptom of `{}`; nothing to walk. Name one to walk it anyway: --target {}",
            runbook.target.kind_name(),
            runbook.id,
            runbook.target.ref_form()
        );
        if output == Format::Json {
            let _ = io.out.write_all(b"[]\n");
        }
        return if scan.undecided.is_empty() {
            0
        } else {
            EXIT_INCONCLUSIVE
        };
    }
    let mut records = Vec::new();
    for (target, _) in &targets {
        records.push(round.walk(runbook, target.as_deref(), answers).await);
    }
    let text = match output {
        Format::Json => {
            let records: Vec<serde_json::Value> = records
                .iter()
                .map(|r| {
                    serde_json::from_str(&report::walk(r, Format::Json, ctx)).unwrap_or_default()
                })
                .collect();
            crate::text::to_json_pretty(&records) + "\n"
        }
        _ => records
            .iter()
            .map(|r| report::walk(r, output, ctx))
            .collect::<Vec<_>>()
            .join("\n"),
    };
    let _ = io.out.write_all(text.as_bytes());
    most_serious(records.iter().map(WalkRecord::exit_code))
}

/// The exit code of several walks: critical (3) over warning (4) over inconclusive (5)
/// over nothing wrong (0).
fn most_serious(codes: impl Iterator<Item = i32>) -> i32 {
    codes
        .max_by_key(|c| match c {
            3 => 3,
            4 => 2,
            5 => 1,
            _ => 0,
        })
        .unwrap_or(0)
}

fn did_you_mean(name: &str, candidates: &[&str]) -> String {
    let close = close_names(name, candidates, 5);
    if close.is_empty() {
        String::new()
    } else {
        format!("; did you mean {}?", close.join(", "))
    }
}

/// The best matches, best first, quoted for a message.
pub fn close_names(name: &str, candidates: &[&str], n: usize) -> Vec<String> {
    crate::suggest::ranked(name, candidates, n)
        .into_iter()
        .map(|c| format!("`{}`", sanitize_line(c)))
        .collect()
}

/// The answers of several walks given at once: those meant for `runbook` (its own
/// question steps, or `RUNBOOK/STEP` for a hand-over), checked as `run` checks them.
fn parse_answers_lenient(
    catalog: &Catalog,
    runbook: &Runbook,
    raw: &[String],
) -> Result<BTreeMap<String, String>, String> {
    let mine: Vec<String> = raw
        .iter()
        .filter(|a| {
            let step = a.split_once('=').map_or(a.as_str(), |(s, _)| s);
            step.contains('/') || runbook.steps.contains_key(step)
        })
        .cloned()
        .collect();
    parse_answers(catalog, runbook, &mine)
}

fn parse_answers(
    catalog: &Catalog,
    runbook: &Runbook,
    raw: &[String],
) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    for a in raw {
        // The answer as typed, quoted in every message below.
        let quoted = sanitize_line(a);
        let Some((step, choice)) = a.split_once('=') else {
            return Err(format!("--answer `{quoted}` is not STEP=CHOICE"));
        };
        let (rb, step_id) = match step.split_once('/') {
            Some((rb_id, s)) => (catalog.get(rb_id).map(|r| r.as_ref()), s),
            None => (Some(runbook), step),
        };
        let Some(rb) = rb else {
            return Err(format!(
                "--answer `{quoted}`: no runbook `{}`",
                sanitize_line(step.split('/').next().unwrap_or_default())
            ));
        };
        let asks: Vec<&str> = rb
            .steps
            .values()
            .filter(|s| matches!(s.kind, StepKind::Ask { .. }))
            .map(|s| s.id.as_str())
            .collect();
        let Some(StepKind::Ask { choices, .. }) = rb.steps.get(step_id).map(|s| &s.kind) else {
            return Err(format!(
                "--answer `{quoted}`: `{}` is not a question step of {}{}; its questions are: {}",
                sanitize_line(step_id),
                rb.id,
                did_you_mean(step_id, &asks),
                asks.join(", ")
            ));
        };
        if !choices.iter().any(|c| c.id == choice) {
            let ids: Vec<&str> = choices.iter().map(|c| c.id.as_str()).collect();
            return Err(format!(
                "--answer `{quoted}`: `{}` is not a choice of `{step_id}`; choose one of: {}",
                sanitize_line(choice),
                ids.join(", ")
            ));
        }
        out.insert(step.to_string(), choice.to_string());
    }
    Ok(out)
}

fn check_target_form(runbook: &Runbook, target: Option<&str>) -> Result<(), String> {
    match (target, &runbook.target.kind) {
        (None, _) if !runbook.target.optional => Err(format!(
            "runbook `{}` needs a {} target: --target {}",
            runbook.id,
            runbook.target.kind_name(),
            runbook.target.ref_form()
        )),
        (Some(t), TargetKind::Cluster) => Err(format!(
            "runbook `{}` is about the whole cluster; drop --target {}",
            runbook.id,
            sanitize_line(t)
        )),
        (
            Some(t),
            TargetKind::Kubernetes {
                namespaced: false, ..
            },
        ) if t.contains('/') => Err(format!(
            "{} is cluster-scoped: --target NAME, not {}",
            runbook.target.kind_name(),
            sanitize_line(t)
        )),
        _ => Ok(()),
    }
}

/// A target that does not exist is a usage error that lists the closest names. So is
/// one that cannot be seen (a namespace the snapshot did not capture) when objects of
/// close names can: `reports-archive` taken as `default/reports-archive` over a
/// snapshot of `shop` is a slip, not a case to walk blind.
async fn target_exists(round: &Round<'_>, runbook: &Runbook, target: &str) -> Result<(), String> {
    let (Some(get), Some(list)) = (
        runbook.target.get_query(target),
        runbook.target.list_query(None),
    ) else {
        return Ok(());
    };
    round.cache.fetch_all(round.source, vec![get.clone()]).await;
    let unseen = match round.cache.lookup(&get) {
        Some(Ok(v)) if !v.is_null() => return Ok(()),
        None => return Ok(()),
        Some(Err(e)) => Some(e.to_string()),
        Some(Ok(_)) => None,
    };
    round
        .cache
        .fetch_all(round.source, vec![list.clone()])
        .await;
    let names: Vec<String> = match round.cache.lookup(&list) {
        Some(Ok(v)) => runbook.target.references(&v),
        _ => Vec::new(),
    };
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let close = close_names(target, &refs, 5);
    if let Some(reason) = unseen {
        // Unknown is not "missing": without a close name the walk reports why it could
        // not see the target.
        if close.is_empty() {
            return Ok(());
        }
        return Err(format!(
            "{} `{}` cannot be seen ({}); did you mean {}?",
            runbook.target.kind_name(),
            sanitize_line(target),
            reason,
            close.join(", ")
        ));
    }
    let hint = if close.is_empty() {
        if names.is_empty() {
            format!("there are no {} objects", runbook.target.kind_name())
        } else {
            format!("{} exist, none close to that name", names.len())
        }
    } else {
        format!("did you mean {}?", close.join(", "))
    };
    Err(format!(
        "{} `{}` does not exist; {hint}",
        runbook.target.kind_name(),
        sanitize_line(target)
    ))
}

async fn triage(catalog: &Catalog, args: TriageArgs, io: &mut Io<'_>) -> i32 {
    report_load_errors(catalog, io);
    let session = match open_source(&args.source, io).await {
        Ok(s) => Session::new(s),
        Err(code) => return code,
    };
    let report = crate::drive::triage::triage(&session.round(catalog)).await;
    let warnings = session.source.info().problems.clone();
    let ctx = report::Context {
        source_flag: &source_flag(&args.source),
        warnings: &warnings,
    };
    let _ = io
        .out
        .write_all(report::triage(&report, args.output, &ctx).as_bytes());
    report.exit_code()
}

async fn runbooks(
    catalog: &Catalog,
    extra: &[PathBuf],
    cmd: RunbooksCommand,
    io: &mut Io<'_>,
) -> i32 {
    match cmd {
        RunbooksCommand::List => {
            report_load_errors(catalog, io);
            for rb in catalog.iter() {
                let origin = if rb.origin.builtin {
                    "built-in".to_string()
                } else {
                    rb.origin.path.clone()
                };
                let _ = writeln!(
                    io.out,
                    "{:<20} {:<26} {}",
                    rb.id,
                    rb.target.kind_name(),
                    rb.title
                );
                let _ = writeln!(io.out, "{:<20} {} ({origin})", "", rb.codes().join(" "));
            }
            if catalog.errors.is_empty() {
                0
            } else {
                EXIT_USAGE
            }
        }
        RunbooksCommand::Show { id, source } => {
            let Some(rb) = catalog.get(&id) else {
                let _ = writeln!(
                    io.err,
                    "error: no runbook `{}`{}",
                    sanitize_line(&id),
                    did_you_mean(&id, &catalog.ids())
                );
                return EXIT_USAGE;
            };
            let text = if source {
                rb.origin.text.to_string()
            } else {
                show(rb)
            };
            let _ = io.out.write_all(text.as_bytes());
            0
        }
        RunbooksCommand::Validate { paths } => {
            let files: Vec<RunbookFile> = if paths.is_empty() {
                let mut f = catalog::builtin_files();
                for dir in extra {
                    match catalog::read_dir_files(dir) {
                        Ok(mut more) => f.append(&mut more),
                        Err(e) => {
                            let _ = writeln!(io.err, "{e}");
                            return EXIT_USAGE;
                        }
                    }
                }
                f
            } else {
                let mut f = Vec::new();
                for p in &paths {
                    match catalog::read_dir_files(p) {
                        Ok(mut more) => f.append(&mut more),
                        Err(e) => {
                            let _ = writeln!(io.err, "{e}");
                            return EXIT_USAGE;
                        }
                    }
                }
                f
            };
            // Hand-overs are checked against built-in runbooks plus the ones validated.
            let mut all = catalog::builtin_files();
            all.extend(files.iter().cloned());
            let checked = Catalog::from_files(all);
            let mut bad = 0;
            for f in &files {
                let errs: Vec<_> = checked.errors.iter().filter(|e| e.file == f.path).collect();
                if errs.is_empty() {
                    let _ = writeln!(io.out, "ok    {}", f.path);
                } else {
                    bad += 1;
                    for e in errs {
                        let _ = writeln!(io.out, "{e}");
                    }
                }
            }
            if files.is_empty() {
                let _ = writeln!(io.err, "error: no runbook files found");
                return EXIT_USAGE;
            }
            if bad == 0 { 0 } else { EXIT_USAGE }
        }
        RunbooksCommand::Test { paths } => {
            let paths = if paths.is_empty() {
                vec![PathBuf::from("runbooks")]
            } else {
                paths
            };
            let files = match testing::find_test_files(&paths) {
                Ok(f) if !f.is_empty() => f,
                Ok(_) => {
                    let _ = writeln!(
                        io.err,
                        "error: no *.tests.yaml files under {}; run from the repository or pass their paths",
                        paths
                            .iter()
                            .map(|p| p.display().to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    );
                    return EXIT_USAGE;
                }
                Err(e) => {
                    let _ = writeln!(io.err, "error: {e}");
                    return EXIT_USAGE;
                }
            };
            // The runbooks beside the tests are the ones under test, edited or not.
            let mut dirs = extra.to_vec();
            for p in &paths {
                let dir = if p.is_dir() {
                    Some(p.as_path())
                } else {
                    p.parent()
                };
                if let Some(d) = dir.filter(|d| d.is_dir()) {
                    dirs.push(d.to_path_buf());
                }
            }
            let local = Catalog::load(&dirs);
            for e in &local.errors {
                let _ = writeln!(io.err, "warning: runbook not loaded: {e}");
            }
            let report = testing::run(&local, &files).await;
            let _ = io.out.write_all(test_report(&report).as_bytes());
            if report.passed() { 0 } else { EXIT_FAILURE }
        }
        RunbooksCommand::Schema => {
            let _ = writeln!(io.out, "{}", schema());
            0
        }
        RunbooksCommand::Codes { output } => {
            report_load_errors(catalog, io);
            let codes = catalog.finding_codes();
            let text = match output {
                Format::Text => catalog::codes_text(&codes),
                Format::Markdown => catalog::codes_markdown(&codes),
                Format::Json => crate::text::to_json_pretty(&codes) + "\n",
            };
            let _ = io.out.write_all(text.as_bytes());
            if catalog.errors.is_empty() {
                0
            } else {
                EXIT_USAGE
            }
        }
    }
}

pub fn schema() -> String {
    let schema = schemars::schema_for!(crate::runbook::format::RunbookDoc);
    crate::text::to_json_pretty(&schema)
}

pub fn test_report(report: &testing::TestReport) -> String {
    let mut out = String::new();
    for e in &report.errors {
        out.push_str(&format!("ERROR {e}\n"));
    }
    for c in &report.cases {
        let code = c
            .record
            .as_ref()
            .and_then(|r| r.conclusion.as_ref())
            .map(|c| c.code.as_str())
            .unwrap_or("-");
        if c.passed() {
            out.push_str(&format!("ok    {:<16} {:<44} {code}\n", c.runbook, c.name));
        } else {
            out.push_str(&format!(
                "FAIL  {:<16} {} ({})\n",
                c.runbook, c.name, c.file
            ));
            for f in &c.failures {
                out.push_str(&format!("        {f}\n"));
            }
        }
    }
    for (rb, id, code) in &report.uncovered {
        out.push_str(&format!(
            "FAIL  {rb}: conclusion `{id}` ({code}) is reached by no passing case\n"
        ));
    }
    let passed = report.cases.iter().filter(|c| c.passed()).count();
    out.push_str(&format!(
        "\n{passed} of {} cases passed; {} conclusion(s) uncovered\n",
        report.cases.len(),
        report.uncovered.len()
    ));
    out
}

fn show(rb: &Runbook) -> String {
    let mut out = format!(
        "{} — {}\ntarget: {}{}\n",
        rb.id,
        rb.title,
        rb.target.kind_name(),
        if rb.target.optional {
            " (optional)"
        } else {
            ""
        }
    );
    out.push_str(&format!("source: {}\n", rb.origin.path));
    if let Some(d) = &rb.description {
        out.push_str(&format!("\n{}\n", d.trim_end()));
    }
    if let Some(s) = &rb.symptom {
        out.push_str(&format!(
            "\nsymptom ({}): {}\n",
            s.severity.as_str(),
            s.when.source.trim()
        ));
    }
    out.push_str("\nfacts:\n");
    for (name, f) in &rb.facts {
        out.push_str(&format!(
            "  {name}{}\n",
            f.description
                .as_ref()
                .map(|d| format!(" — {d}"))
                .unwrap_or_default()
        ));
    }
    out.push_str("\nsteps:\n");
    for s in rb.steps.values() {
        out.push_str(&format!(
            "  {:<28} {:<8} → {}\n",
            s.id,
            s.kind_name(),
            s.exits().join(", ")
        ));
    }
    out.push_str("\nconclusions:\n");
    for c in rb.conclusions.values() {
        out.push_str(&format!(
            "  {:<28} {:<8} {}\n",
            c.id,
            c.severity.as_str(),
            c.code
        ));
    }
    out
}

/// Serves until interrupted; the URL and kubeconfig are printed before the first request
/// can arrive, so a script can wait for the first line.
async fn serve(args: ServeArgs, io: &mut Io<'_>) -> i32 {
    let snapshot = match open_snapshot(&args.path, None, io) {
        Ok(s) => Arc::new(s),
        Err(code) => return code,
    };
    let options = crate::serve::ServeOptions {
        listen: args.listen,
        listen_any: args.listen_any,
        kubeconfig_out: args.kubeconfig_out.clone(),
        forbid: args.forbid,
        latency: args.latency.map(std::time::Duration::from_millis),
        fail_every: args.fail_every,
        access_log: args.access_log,
        limits: crate::serve::conn::Limits {
            connections: args.max_connections as usize,
            in_flight: args.max_in_flight as usize,
            watches: args.max_watches as usize,
            headers: args.header_timeout,
            stalled: args.stall_timeout,
        },
    };
    let server = match crate::serve::Server::bind(snapshot, options).await {
        Ok(s) => s,
        Err(e) => {
            let _ = writeln!(io.err, "error: {e}");
            return EXIT_USAGE;
        }
    };
    let _ = writeln!(
        io.out,
        "serving {} at {}",
        args.path.display(),
        server.url()
    );
    if let Some(path) = &args.kubeconfig_out {
        if let Err(e) = server.write_kubeconfig(path) {
            let _ = writeln!(io.err, "error: {e}");
            return EXIT_FAILURE;
        }
        let _ = writeln!(
            io.out,
            "kubeconfig: {} (try: kubectl --kubeconfig {} get pods -A)",
            path.display(),
            path.display()
        );
    } else {
        let _ = writeln!(
            io.out,
            "kubectl: kubectl --server {} get pods -A",
            server.url()
        );
    }
    let captured = server.captured_at();
    // kubectl get's ages come from the server's tables (computed at the capture), but
    // kubectl describe computes its own from the local clock: say once how they differ.
    let later = crate::clock::now().signed_duration_since(server.now());
    let describe = if later.num_seconds() > 0 {
        format!(
            "kubectl describe counts ages from this machine's clock, {} later: subtract that there",
            crate::text::kubectl_duration(later)
        )
    } else {
        "kubectl describe counts ages from this machine's clock".to_string()
    };
    let _ = writeln!(
        io.out,
        "as of: {captured} (kubectl get shows ages at that time; {describe}; ktriage judges ages over this server by the clock, --as-of {captured} judges them as captured)"
    );
    let _ = writeln!(
        io.out,
        "read-only: every verb but GET is refused; Ctrl-C stops"
    );
    let _ = io.out.flush();
    tokio::select! {
        () = server.run() => EXIT_FAILURE,
        _ = tokio::signal::ctrl_c() => 0,
    }
}
