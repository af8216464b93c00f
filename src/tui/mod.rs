//! The terminal interface: live cluster state beside runbook walks.
//!
//! One loop owns the terminal and the [`App`]: it draws, then waits for whichever comes
//! first — a key, a tick of the clock, or a background job's answer — and feeds it to
//! `App::update`. Jobs run on the async runtime, never in the loop, so a slow API
//! server cannot stall a key press.

pub mod app;
pub mod cluster_state;
pub mod jobs;
pub mod keymap;
pub mod msg;
pub mod overlays;
pub mod screens;
pub mod shared;
pub mod theme;
pub mod view;

use crate::drive::RoundState;
use app::App;
use chrono::{DateTime, Utc};
use crossterm::event::{Event, EventStream};
use futures_util::StreamExt;
use jobs::{Context, ExportControl};
use keymap::Keymap;
use msg::{Job, Msg};
use shared::SourceSummary;
use std::io::{IsTerminal, Stdout};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;
use theme::Theme;

use crate::facts::{AwsAccess, Source};
use crate::runbook::Catalog;
use crate::source::live::LiveSource;
use crate::source::live::watch::{Freshness, WatchSpec, Watches};

type Term = ratatui::Terminal<ratatui::backend::CrosstermBackend<Stdout>>;

/// What the interface runs on.
pub struct Opened {
    pub source: Arc<dyn Source>,
    /// The same source when it is live: the state panel watches it.
    pub live: Option<Arc<LiveSource>>,
    /// `--as-of`: every round is judged as of this moment instead of the clock.
    pub pinned_now: Option<DateTime<Utc>>,
}

pub struct Options {
    pub theme: Theme,
    pub keymap: Keymap,
    pub rules: Arc<crate::evidence::redact::RuleSet>,
}

/// How often the clock moves (spinners, ages) and live state is re-summarised.
const TICK: Duration = Duration::from_millis(250);
const LIVE_STATE_EVERY: Duration = Duration::from_secs(2);
/// Live suggestions go stale; they are refreshed this often while home is shown.
const LIVE_TRIAGE_EVERY: Duration = Duration::from_secs(60);

pub fn summary_of(source: &dyn Source) -> SourceSummary {
    let info = source.info();
    SourceSummary {
        description: info.description.clone(),
        live: info.live,
        context: info.context.clone(),
        cluster: info.cluster.as_ref().map(|c| c.name.clone()),
        region: info.cluster.as_ref().and_then(|c| c.region.clone()),
        captured: (!info.live).then_some(info.now),
        // Said once here rather than as "unknown" on every AWS step.
        notice: match &info.aws {
            AwsAccess::Recorded => None,
            aws => Some(aws.notice()),
        },
    }
}

/// "Now" of a new round: `--as-of` when given, else the clock for a live cluster and the
/// capture time for a snapshot.
fn round_now(source: &dyn Source, pinned: Option<DateTime<Utc>>) -> DateTime<Utc> {
    match pinned {
        Some(t) => t,
        None if source.info().live => crate::clock::now(),
        None => source.info().now,
    }
}

/// Starts jobs on the runtime; a new round for `fresh` ones.
struct Runner {
    ctx: Arc<Context>,
    round: Arc<RoundState>,
    pinned_now: Option<DateTime<Utc>>,
    tx: tokio::sync::mpsc::UnboundedSender<Msg>,
    /// The running (or last) export's progress channel and cancel flag.
    export: ExportControl,
}

impl Runner {
    fn spawn(&mut self, job: Job) {
        let fresh = match &job {
            Job::Triage { fresh } | Job::Targets { fresh, .. } | Job::Walk { fresh, .. } => *fresh,
            Job::Export { .. } | Job::CancelExport => false,
        };
        if fresh {
            self.round = Arc::new(RoundState::new(
                &*self.ctx.source,
                round_now(&*self.ctx.source, self.pinned_now),
            ));
        }
        match &job {
            Job::Export { case, dir } => {
                // Each export its own flag: an Esc meant for the last one cannot stop it.
                self.export.cancel = Arc::new(AtomicBool::new(false));
                tracing::debug!(
                    walks = case.walks.len(),
                    notes = case.notes.len(),
                    dir = %dir.display(),
                    "job: export"
                );
            }
            _ => tracing::debug!(?job, "job"),
        }
        let (ctx, round, tx) = (self.ctx.clone(), self.round.clone(), self.tx.clone());
        let export = self.export.clone();
        tokio::spawn(async move {
            let msg = jobs::execute_with(job, &ctx, &round, &export).await;
            // The loop is gone only when quitting; nothing is waiting for the answer.
            let _ = tx.send(msg);
        });
    }
}

/// Puts the terminal back as it was: on quit, on error (drop) and on panic (hook).
fn restore_terminal() {
    let _ = crossterm::terminal::disable_raw_mode();
    let _ = crossterm::execute!(
        std::io::stdout(),
        crossterm::terminal::LeaveAlternateScreen,
        crossterm::cursor::Show
    );
}

struct TerminalGuard;

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore_terminal();
    }
}

fn take_terminal() -> std::io::Result<(TerminalGuard, Term)> {
    // Restore before the previous hook (color-eyre's) prints, so the report is readable.
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        // A caught panic (a job's) leaves the interface running: keep its terminal.
        if !crate::panics::guarded() {
            restore_terminal();
        }
        previous(info);
    }));
    crossterm::terminal::enable_raw_mode()?;
    let guard = TerminalGuard;
    crossterm::execute!(
        std::io::stdout(),
        crossterm::terminal::EnterAlternateScreen,
        crossterm::cursor::Hide
    )?;
    let terminal =
        ratatui::Terminal::new(ratatui::backend::CrosstermBackend::new(std::io::stdout()))?;
    Ok((guard, terminal))
}

/// Runs the interface until the user quits. Errors are for the caller to print once the
/// terminal is back.
/// How the interface ended when it did not fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// The user quit.
    Quit,
    /// A signal stopped it (its name and number); the terminal was restored first.
    Signalled(&'static str, i32),
}

pub async fn run(opened: Opened, catalog: Arc<Catalog>, options: Options) -> Result<Ended, String> {
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        return Err(
            "the interface needs a terminal (stdin and stdout); for scripts use \
`ktriage triage` or `ktriage run`"
                .into(),
        );
    }
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let summary = summary_of(&*opened.source);
    let now = crate::clock::now();
    let mut app = App::new(options.keymap, catalog.clone(), summary, now);
    // Bundles go where `ktriage bundle` puts them: the current directory.
    if let Ok(dir) = std::env::current_dir() {
        app.export_dir = dir;
    }
    let ctx = Arc::new(Context {
        source: opened.source.clone(),
        catalog,
        state_from_round: opened.live.is_none(),
        rules: options.rules.clone(),
    });
    let mut runner = Runner {
        round: Arc::new(RoundState::new(
            &*opened.source,
            round_now(&*opened.source, opened.pinned_now),
        )),
        ctx,
        pinned_now: opened.pinned_now,
        tx: tx.clone(),
        export: ExportControl {
            progress: {
                let tx = tx.clone();
                Arc::new(move |line| {
                    let _ = tx.send(Msg::ExportProgress(line));
                })
            },
            cancel: Arc::new(AtomicBool::new(false)),
        },
    };
    let watcher = opened
        .live
        .clone()
        .map(|live| tokio::spawn(follow_live(live, tx.clone())));
    for job in app.start() {
        runner.spawn(job);
    }

    let (guard, mut terminal) =
        take_terminal().map_err(|e| format!("cannot take the terminal: {e}"))?;
    if let Ok(size) = terminal.size() {
        app.update(Msg::Resize(size.width, size.height));
    }
    let mut signals = Signals::new().map_err(|e| format!("cannot watch for signals: {e}"))?;
    let mut events = EventStream::new();
    let mut tick = tokio::time::interval(TICK);
    let mut refresh = tokio::time::interval(LIVE_TRIAGE_EVERY);
    refresh.tick().await;
    let result = loop {
        if let Err(e) = terminal.draw(|f| view::draw(f, &app, &options.theme)) {
            break Err(format!("cannot draw: {e}"));
        }
        let msg = tokio::select! {
            event = events.next() => match event {
                Some(Ok(Event::Key(key))) => Msg::Key(key),
                Some(Ok(Event::Resize(w, h))) => Msg::Resize(w, h),
                Some(Ok(_)) => Msg::Tick(crate::clock::now()),
                Some(Err(e)) => break Err(format!("cannot read the terminal: {e}")),
                None => break Ok(Ended::Quit),
            },
            _ = tick.tick() => Msg::Tick(crate::clock::now()),
            _ = refresh.tick(), if opened.live.is_some() => {
                for job in app.refresh_live() {
                    runner.spawn(job);
                }
                Msg::Tick(crate::clock::now())
            }
            Some(msg) = rx.recv() => msg,
            (name, number) = signals.next() => break Ok(Ended::Signalled(name, number)),
        };
        for job in app.update(msg) {
            runner.spawn(job);
        }
        if app.quit {
            break Ok(Ended::Quit);
        }
    };
    if let Some(w) = watcher {
        w.abort();
    }
    drop(terminal);
    drop(guard);
    result
}

/// The signals that end the interface (a dropped SSH session sends SIGHUP, `kill` and
/// systemd SIGTERM): the loop ends, so the terminal is restored as on quit, not left
/// in raw mode on the alternate screen.
struct Signals {
    term: tokio::signal::unix::Signal,
    hup: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
    quit: tokio::signal::unix::Signal,
}

impl Signals {
    fn new() -> std::io::Result<Signals> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Signals {
            term: signal(SignalKind::terminate())?,
            hup: signal(SignalKind::hangup())?,
            int: signal(SignalKind::interrupt())?,
            quit: signal(SignalKind::quit())?,
        })
    }

    /// The next signal's name and number (POSIX numbers, the same on every Unix).
    async fn next(&mut self) -> (&'static str, i32) {
        tokio::select! {
            _ = self.term.recv() => ("SIGTERM", 15),
            _ = self.hup.recv() => ("SIGHUP", 1),
            _ = self.int.recv() => ("SIGINT", 2),
            _ = self.quit.recv() => ("SIGQUIT", 3),
        }
    }
}

/// Watches the panel's kinds and sends a summary every couple of seconds.
async fn follow_live(live: Arc<LiveSource>, tx: tokio::sync::mpsc::UnboundedSender<Msg>) {
    let specs = cluster_state::panel_specs();
    let watches = live.watch(specs.clone()).await;
    let mut every = tokio::time::interval(LIVE_STATE_EVERY);
    loop {
        every.tick().await;
        if tx
            .send(live_state(&watches, &specs, crate::clock::now()))
            .is_err()
        {
            return;
        }
    }
}

/// The state panel from what the watches hold now, with each kind's freshness. A kind
/// still syncing is "not read yet"; one that failed before ever listing shows its error;
/// one that failed later keeps its last objects (the title says they are stale).
pub fn live_state(watches: &Watches, specs: &[WatchSpec], now: DateTime<Utc>) -> Msg {
    let mut inputs = cluster_state::Inputs::default();
    let mut freshness: Vec<(String, Freshness)> = Vec::new();
    for spec in specs {
        let Some(watched) = watches.get(&spec.kind) else {
            continue;
        };
        let listed = match (&watched.freshness, watched.objects.is_empty()) {
            (Freshness::Syncing, _) => None,
            (
                Freshness::Stale {
                    error,
                    last_live: None,
                    ..
                },
                true,
            ) => Some(Err(error.clone())),
            _ => Some(Ok(watched.objects.into_values().collect())),
        };
        if let Some(slot) = inputs.slot(&spec.kind) {
            *slot = listed;
        }
        freshness.push((spec.kind.kind.clone(), watched.freshness));
    }
    Msg::LiveState {
        state: cluster_state::summarize(&inputs, now),
        freshness,
    }
}
