//! The interface without a terminal: keys drive `App::update`, jobs run for real against
//! snapshot fixtures (the same `jobs::execute` the runner spawns), and screens are drawn
//! on ratatui's `TestBackend` and compared with insta snapshots.

use chrono::{DateTime, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ktriage::drive::RoundState;
use ktriage::drive::triage::{Suggestion, TriageReport};
use ktriage::facts::Source;
use ktriage::runbook::Catalog;
use ktriage::runbook::format::Severity;
use ktriage::runbook::record::Status;
use ktriage::source::snapshot::Snapshot;
use ktriage::tui::app::{App, Overlay, Screen};
use ktriage::tui::cluster_state::{ClusterState, PodCounts, WarningLine};
use ktriage::tui::jobs::{self, Context, ExportControl};
use ktriage::tui::keymap::Keymap;
use ktriage::tui::msg::{Job, Msg};
use ktriage::tui::overlays::export::ExportState;
use ktriage::tui::screens::walk::WalkPane;
use ktriage::tui::theme::{self, Theme};
use ktriage::tui::{summary_of, view};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::style::Color;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

fn catalog() -> Arc<Catalog> {
    static CATALOG: OnceLock<Arc<Catalog>> = OnceLock::new();
    CATALOG.get_or_init(|| Arc::new(Catalog::builtin())).clone()
}

/// A fixed clock, so ages and spinners draw the same every run.
fn clock() -> DateTime<Utc> {
    "2026-11-21T09:00:00Z".parse().unwrap()
}

fn theme(name: &str) -> Theme {
    theme::select(
        theme::Choice::Named(name),
        &ktriage::config::Settings::builtin(),
    )
    .unwrap()
}

struct Harness {
    app: App,
    ctx: Context,
    round: Arc<RoundState>,
    /// The runner's hold on exports: progress lines land in `progress` until fed back.
    export: ExportControl,
    progress: Arc<Mutex<Vec<String>>>,
    /// Every progress line fed to the app.
    progress_seen: Vec<String>,
}

impl Harness {
    async fn open(source: Arc<dyn Source>) -> Harness {
        let round = Arc::new(RoundState::new(&*source, source.info().now));
        let app = App::new(Keymap::default(), catalog(), summary_of(&*source), clock());
        let progress = Arc::new(Mutex::new(Vec::new()));
        let sink = progress.clone();
        let mut h = Harness {
            app,
            ctx: Context {
                source,
                catalog: catalog(),
                state_from_round: true,
                rules: std::sync::Arc::new(ktriage::evidence::redact::RuleSet::builtin()),
            },
            round,
            export: ExportControl {
                progress: Arc::new(move |line| sink.lock().unwrap().push(line)),
                cancel: Arc::new(AtomicBool::new(false)),
            },
            progress,
            progress_seen: Vec::new(),
        };
        let jobs = h.app.start();
        h.run(jobs).await;
        h
    }

    async fn fixture(name: &str) -> Harness {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name);
        Harness::open(Arc::new(Snapshot::open(&path).unwrap())).await
    }

    async fn demo() -> Harness {
        Harness::open(Arc::new(ktriage::demo::snapshot().unwrap())).await
    }

    /// Runs jobs to completion and feeds their answers back, as the runner does (an
    /// export's progress lines first, as they would have arrived before its end).
    async fn run(&mut self, mut jobs: Vec<Job>) {
        while let Some(job) = jobs.pop() {
            let fresh = matches!(
                job,
                Job::Triage { fresh: true }
                    | Job::Targets { fresh: true, .. }
                    | Job::Walk { fresh: true, .. }
            );
            if fresh {
                self.round = Arc::new(RoundState::new(
                    &*self.ctx.source,
                    self.ctx.source.info().now,
                ));
            }
            let msg = jobs::execute_with(job, &self.ctx, &self.round, &self.export).await;
            let lines: Vec<String> = std::mem::take(&mut *self.progress.lock().unwrap());
            for line in lines {
                self.progress_seen.push(line.clone());
                jobs.extend(self.app.update(Msg::ExportProgress(line)));
            }
            jobs.extend(self.app.update(msg));
        }
    }

    async fn key(&mut self, code: KeyCode) {
        let jobs = self
            .app
            .update(Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)));
        self.run(jobs).await;
    }

    async fn keys(&mut self, codes: &[KeyCode]) {
        for c in codes {
            self.key(*c).await;
        }
    }

    async fn type_text(&mut self, s: &str) {
        for c in s.chars() {
            self.key(KeyCode::Char(c)).await;
        }
    }

    fn draw(&self, width: u16, height: u16, theme: &Theme) -> Terminal<TestBackend> {
        let mut t = Terminal::new(TestBackend::new(width, height)).unwrap();
        t.draw(|f| view::draw(f, &self.app, theme)).unwrap();
        t
    }

    fn screen(&self, width: u16, height: u16) -> String {
        self.draw(width, height, &theme("default"))
            .backend()
            .to_string()
    }

    fn record(&self) -> &ktriage::runbook::record::WalkRecord {
        self.app.walk.as_ref().unwrap().record.as_ref().unwrap()
    }

    fn code(&self) -> Option<String> {
        self.record().conclusion.as_ref().map(|c| c.code.clone())
    }

    /// Moves the home cursor to the suggestion for `runbook` on `target`.
    async fn select_suggestion(&mut self, runbook: &str, target: &str) {
        let report = self.app.home.triage.value.as_ref().unwrap();
        let i = report
            .suggestions
            .iter()
            .position(|s| s.runbook == runbook && s.target.as_deref() == Some(target))
            .unwrap_or_else(|| panic!("no suggestion {runbook} {target}"));
        self.key(KeyCode::Home).await;
        for _ in 0..i {
            self.key(KeyCode::Char('j')).await;
        }
    }
}

fn assert_fits(screen: &str, width: usize) {
    for line in screen.lines() {
        // TestBackend quotes each line.
        let inner = line.trim_start_matches('"').trim_end_matches('"');
        assert!(
            unicode_width(inner) <= width,
            "line wider than {width}: {inner}"
        );
        assert!(
            !inner.chars().any(|c| c.is_control()),
            "control char in {inner:?}"
        );
    }
}

fn unicode_width(s: &str) -> usize {
    use unicode_width::UnicodeWidthStr;
    s.width()
}

// ---- update logic: keys → state --------------------------------------------------------

#[tokio::test]
async fn the_top_suggestion_walks_to_its_conclusion_and_esc_comes_home() {
    let mut h = Harness::fixture("evict-memory-pressure").await;
    assert_eq!(h.app.screen, Screen::Home);
    let top = h.app.home.triage.value.as_ref().unwrap().suggestions[0].clone();
    assert_eq!(top.runbook, "pod-evictions");
    h.key(KeyCode::Enter).await;
    assert_eq!(h.app.screen, Screen::Walk);
    assert_eq!(h.record().status, Status::Concluded);
    assert_eq!(h.code().as_deref(), Some("EVICTION_MEMORY_PRESSURE"));
    // The cursor rests on the conclusion row.
    let w = h.app.walk.as_ref().unwrap();
    assert_eq!(w.path_selected, h.record().path.len());
    h.key(KeyCode::Esc).await;
    assert_eq!(h.app.screen, Screen::Home);
}

#[tokio::test]
async fn picker_filter_then_target_then_ask_then_backtrack() {
    let mut h = Harness::fixture("pvc-pending-no-trace").await;
    h.key(KeyCode::Char('/')).await;
    assert_eq!(h.app.screen, Screen::Runbooks);
    assert!(h.app.runbooks.list.editing);
    // `q` typed into a filter is text, not quit.
    h.type_text("pvcq").await;
    assert!(!h.app.quit);
    assert!(h.app.runbook_rows().is_empty(), "nothing matches pvcq");
    h.key(KeyCode::Backspace).await;
    let rows = h.app.runbook_rows();
    assert_eq!(rows[0].id, "pvc-pending");
    h.key(KeyCode::Enter).await;
    assert_eq!(h.app.screen, Screen::Targets);
    let targets = h.app.target_rows();
    assert_eq!(targets[0].reference, "notebooks/claim-alice");
    assert_eq!(
        targets[0].matched,
        Some(true),
        "the symptom's match comes first"
    );
    assert!(targets.iter().skip(1).all(|t| t.matched != Some(true)));
    h.key(KeyCode::Enter).await;
    assert_eq!(h.record().status, Status::NeedsInput);
    let q = h.record().question.clone().unwrap();
    assert_eq!(q.step, "ask-provisioner-log");
    assert_eq!(h.app.walk.as_ref().unwrap().focus, WalkPane::Detail);

    // Answer the first choice, then the walk concludes on it.
    h.key(KeyCode::Enter).await;
    assert_eq!(h.record().status, Status::Concluded);
    let first = h.code().unwrap();

    // Back-track: the answered step, Enter, and the question is open again with the
    // earlier answer preselected.
    let answered = h
        .record()
        .path
        .iter()
        .position(|s| s.step == "ask-provisioner-log")
        .unwrap();
    let w = h.app.walk.as_mut().unwrap();
    assert_eq!(w.focus, WalkPane::Path);
    let up = w.path_selected - answered;
    for _ in 0..up {
        h.key(KeyCode::Up).await;
    }
    h.key(KeyCode::Enter).await;
    assert_eq!(h.record().status, Status::NeedsInput);
    let w = h.app.walk.as_ref().unwrap();
    assert_eq!(w.previous_answer.as_deref(), Some(q.choices[0].id.as_str()));
    assert!(w.answers.is_empty());
    h.keys(&[KeyCode::Down, KeyCode::Enter]).await;
    assert_eq!(h.record().status, Status::Concluded);
    let second = h.code().unwrap();
    assert_ne!(first, second, "another answer leads elsewhere");
}

#[tokio::test]
async fn quitting_with_notes_asks_first() {
    let mut h = Harness::fixture("evict-memory-pressure").await;
    h.key(KeyCode::Char('q')).await;
    assert!(h.app.quit, "nothing to lose: quits at once");

    let mut h = Harness::fixture("evict-memory-pressure").await;
    h.key(KeyCode::Enter).await;
    h.key(KeyCode::Char('n')).await;
    h.type_text("paged by alertmanager").await;
    h.key(KeyCode::Enter).await;
    assert_eq!(h.app.case.notes.len(), 1);
    assert_eq!(h.app.case.notes[0].text, "paged by alertmanager");
    assert_eq!(h.app.case.notes[0].at, clock());
    assert!(
        h.app.case.notes[0]
            .context
            .starts_with("pod-evictions insights/")
    );
    h.key(KeyCode::Char('q')).await;
    assert!(!h.app.quit);
    assert!(matches!(h.app.overlay, Some(Overlay::ConfirmQuit)));
    h.key(KeyCode::Char('n')).await;
    assert!(!h.app.quit && h.app.overlay.is_none());
    h.key(KeyCode::Char('q')).await;
    h.key(KeyCode::Char('y')).await;
    assert!(h.app.quit);
}

#[tokio::test]
async fn evidence_viewer_shows_objects_as_yaml_and_searches() {
    let mut h = Harness::fixture("evict-memory-pressure").await;
    h.key(KeyCode::Enter).await;
    h.keys(&[KeyCode::Tab, KeyCode::Tab]).await;
    assert_eq!(h.app.walk.as_ref().unwrap().focus, WalkPane::Evidence);
    h.key(KeyCode::Enter).await;
    let Some(Overlay::Viewer(v)) = &h.app.overlay else {
        panic!("no viewer");
    };
    assert!(
        v.lines
            .iter()
            .any(|l| l.starts_with("metadata:") || l.contains("kind: Pod")),
        "{:?}",
        &v.lines[..v.lines.len().min(20)]
    );
    h.key(KeyCode::Char('/')).await;
    h.type_text("memory").await;
    h.key(KeyCode::Enter).await;
    let Some(Overlay::Viewer(v)) = &h.app.overlay else {
        panic!("viewer closed");
    };
    assert!(!v.matches.is_empty());
    let at = v.current.expect("the cursor is on a match");
    assert!(v.lines[at].to_lowercase().contains("memory"));
    // Shown with context above it, not on the top row.
    assert!(v.scroll < at || at == 0, "scroll {} match {at}", v.scroll);
    if v.matches.len() > 1 {
        h.key(KeyCode::Enter).await;
        let Some(Overlay::Viewer(v)) = &h.app.overlay else {
            panic!("viewer closed");
        };
        assert_eq!(
            v.current,
            Some(v.matches[1]),
            "Enter goes to the next match"
        );
    }
    h.key(KeyCode::Esc).await; // clears the search
    h.key(KeyCode::Esc).await; // closes
    assert!(h.app.overlay.is_none());
}

#[tokio::test]
async fn rerun_walks_again_on_a_fresh_round_and_marks_nothing_changed() {
    let mut h = Harness::fixture("evict-memory-pressure").await;
    h.key(KeyCode::Enter).await;
    let before = h.round.clone();
    h.key(KeyCode::Char('r')).await;
    assert!(!Arc::ptr_eq(&before, &h.round), "r starts a new round");
    let w = h.app.walk.as_ref().unwrap();
    assert_eq!(w.runs, 2);
    assert!(w.changed.is_empty(), "the same snapshot: {:?}", w.changed);
    assert_eq!(h.code().as_deref(), Some("EVICTION_MEMORY_PRESSURE"));
}

#[tokio::test]
async fn every_core_runbook_of_the_demo_concludes_from_its_suggestion() {
    let mut h = Harness::demo().await;
    let report = h.app.home.triage.value.clone().unwrap();
    let runbooks: std::collections::BTreeSet<&str> = report
        .suggestions
        .iter()
        .map(|s| s.runbook.as_str())
        .collect();
    for core in [
        "dns-timeouts",
        "node-not-joining",
        "pod-evictions",
        "pvc-pending",
    ] {
        assert!(
            runbooks.contains(core),
            "demo suggests no {core}: {runbooks:?}"
        );
    }
    for (i, s) in report.suggestions.iter().enumerate() {
        h.key(KeyCode::Home).await;
        for _ in 0..i {
            h.key(KeyCode::Down).await;
        }
        h.key(KeyCode::Enter).await;
        // Answer whatever is asked with the first choice until the walk ends.
        for _ in 0..5 {
            if h.record().status != Status::NeedsInput {
                break;
            }
            h.key(KeyCode::Enter).await;
        }
        assert_eq!(
            h.record().status,
            Status::Concluded,
            "{} {:?}: {:?}",
            s.runbook,
            s.target,
            h.record().missing
        );
        h.key(KeyCode::Esc).await;
    }
}

// ---- drawing --------------------------------------------------------------------------

#[tokio::test]
async fn screens_at_80x24_and_120x40() {
    let mut h = Harness::demo().await;
    for (w, ht) in [(80, 24), (120, 40)] {
        let s = h.screen(w, ht);
        assert_fits(&s, w as usize);
        insta::assert_snapshot!(format!("home_{w}x{ht}"), s);
    }
    h.select_suggestion("pvc-pending", "search/data-typesense-2")
        .await;
    h.key(KeyCode::Enter).await;
    for (w, ht) in [(80, 24), (120, 40)] {
        let s = h.screen(w, ht);
        assert_fits(&s, w as usize);
        insta::assert_snapshot!(format!("walk_question_{w}x{ht}"), s);
    }
    h.key(KeyCode::Enter).await;
    for (w, ht) in [(80, 24), (120, 40)] {
        let s = h.screen(w, ht);
        assert_fits(&s, w as usize);
        insta::assert_snapshot!(format!("walk_conclusion_{w}x{ht}"), s);
    }
    h.keys(&[KeyCode::Tab, KeyCode::Tab]).await;
    insta::assert_snapshot!("walk_evidence_80x24", h.screen(80, 24));
    h.key(KeyCode::Enter).await;
    insta::assert_snapshot!("viewer_80x24", h.screen(80, 24));
    h.key(KeyCode::Esc).await;
    h.key(KeyCode::Char('?')).await;
    insta::assert_snapshot!("help_80x24", h.screen(80, 24));
    h.key(KeyCode::Esc).await;
    h.key(KeyCode::Esc).await;
    h.key(KeyCode::Esc).await;
    assert_eq!(h.app.screen, Screen::Home);
    h.key(KeyCode::Char('/')).await;
    h.type_text("evict").await;
    insta::assert_snapshot!("runbooks_filtered_80x24", h.screen(80, 24));
    h.key(KeyCode::Enter).await;
    let s = h.screen(80, 24);
    assert_fits(&s, 80);
    insta::assert_snapshot!("targets_80x24", s);
}

#[tokio::test]
async fn mono_carries_meaning_without_colour_and_default_uses_colour() {
    let mut h = Harness::demo().await;
    h.select_suggestion("node-not-joining", "ng-ingest").await;
    h.key(KeyCode::Enter).await;
    assert_eq!(h.code().as_deref(), Some("NODE_ROLE_NOT_MAPPED"));
    let mono = h.draw(80, 24, &theme("mono"));
    let buf = mono.backend().buffer();
    for cell in buf.content() {
        assert!(
            matches!(cell.fg, Color::Reset) && matches!(cell.bg, Color::Reset),
            "mono has colour at {cell:?}"
        );
    }
    let text = mono.backend().to_string();
    // Meaning is in symbols and words.
    assert!(text.contains("▲ CRIT NODE_ROLE_NOT_MAPPED"), "{text}");
    insta::assert_snapshot!("walk_conclusion_mono_80x24", text);
    h.key(KeyCode::Esc).await;
    insta::assert_snapshot!(
        "home_mono_80x24",
        h.draw(80, 24, &theme("mono")).backend().to_string()
    );

    // The colour themes colour the critical marker (as the slot says) when the row is
    // not under the cursor (the selection's colours win there).
    h.key(KeyCode::Enter).await;
    h.key(KeyCode::Up).await;
    for name in ["default", "light", "high-contrast"] {
        let t = theme(name);
        let term = h.draw(80, 24, &t);
        let buf = term.backend().buffer();
        let want = t.style(theme::Slot::Critical).fg.unwrap();
        let area = buf.area;
        let mut found = false;
        for y in 0..area.height {
            let line: String = (0..area.width).map(|x| buf[(x, y)].symbol()).collect();
            if let Some(pos) = line.find("▲ CRIT NODE_ROLE") {
                let x = line[..pos].chars().count() as u16;
                assert_eq!(buf[(x, y)].fg, want, "{name}: ▲ not in the critical colour");
                found = true;
            }
        }
        assert!(found, "{name}: no conclusion row");
    }
}

fn state_with(warnings: Vec<WarningLine>) -> ClusterState {
    ClusterState {
        node_groups: Ok(Vec::new()),
        pods: Ok(PodCounts::default()),
        pvcs: Ok((0, 0)),
        coredns: Ok(Some((2, 2))),
        warnings: Ok(warnings),
        version: None,
    }
}

#[tokio::test]
async fn cluster_text_cannot_repaint_the_screen_and_long_names_are_cut() {
    let mut h = Harness::fixture("evict-memory-pressure").await;
    let long = format!("ns/{}", "very-long-name-".repeat(12));
    let report = TriageReport {
        suggestions: vec![Suggestion {
            runbook: "pod-evictions".into(),
            title: "t".into(),
            target: Some(long.clone()),
            severity: Severity::Critical,
            reason: "evil\x1b[2J\x1b]0;title\x07 reason\nsecond line".into(),
            since: None,
            count: 1,
            also: Vec::new(),
        }],
        ..TriageReport::default()
    };
    let state = state_with(vec![WarningLine {
        age: None,
        reason: "Bad\x1b[31m".into(),
        object: "Pod/x/\u{202e}gpj.exe".into(),
        message: "line1\nline2\r\x1b[1A".into(),
        count: 1,
    }]);
    h.app.update(Msg::Triaged {
        report,
        state: Some(state),
        at: clock(),
    });
    for (w, ht) in [(80, 24), (120, 40)] {
        let s = h.screen(w, ht);
        assert_fits(&s, w as usize);
        assert!(s.contains("\\x1b[2J"), "escapes shown as text: {s}");
        assert!(s.contains("\\u{202e}"), "bidi override shown as text");
        assert!(s.contains('…'), "long target cut with an ellipsis");
        assert!(
            !s.contains(&long),
            "the long name is never shown whole in a row"
        );
    }
}

#[tokio::test]
async fn a_small_terminal_is_told_to_grow() {
    let h = Harness::fixture("evict-memory-pressure").await;
    let s = h.screen(79, 24);
    assert!(s.contains("at least 80×24"), "{s}");
    assert!(s.contains("79×24"));
    let s = h.screen(80, 23);
    assert!(s.contains("80×23"));
    // Tiny terminals draw without panicking.
    h.screen(10, 3);
    h.screen(1, 1);
}

/// Missing AWS data is said once, in the header; a snapshot that has it says nothing.
#[tokio::test]
async fn the_header_says_once_why_aws_facts_are_unknown() {
    let h = Harness::fixture("nnj-no-aws").await;
    let screen = h.screen(160, 40);
    let header = screen.lines().next().unwrap();
    assert!(
        header.contains("AWS facts unknown: no AWS data in this snapshot"),
        "{header}"
    );
    assert_eq!(screen.matches("AWS facts unknown").count(), 1, "{screen}");

    let h = Harness::fixture("nnj-role-not-mapped-configmap").await;
    let screen = h.screen(160, 40);
    assert!(!screen.contains("AWS facts unknown"), "{screen}");
}

// ---- export -----------------------------------------------------------------------------

/// The bundle in `dir` (the only file there).
fn only_file(dir: &Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect()
}

/// Walk, note, `e`, Enter: the bundle is written where the overlay says, verifies, and
/// walking the same runbook over it concludes the same; the notes are then safe to quit.
#[tokio::test]
async fn export_writes_a_bundle_that_verifies_and_walks_the_same() {
    let mut h = Harness::fixture("evict-memory-pressure").await;
    h.key(KeyCode::Enter).await;
    let code = h.code().expect("the walk concludes");
    h.key(KeyCode::Char('n')).await;
    h.type_text("paged by alertmanager").await;
    h.key(KeyCode::Enter).await;
    let flash = h.app.flash.clone().unwrap();
    assert!(flash.contains("note 1 added"), "{flash}");
    assert!(!flash.contains("not in this build"), "{flash}");
    assert_eq!(h.app.case.walks.len(), 1);
    let walked = h.app.case.walks[0].clone();
    assert_eq!(walked.runbook, "pod-evictions");

    // What will be written, before anything is: drawn with a fixed folder.
    h.app.export_dir = "/home/oncall/incident-4711".into();
    h.key(KeyCode::Char('e')).await;
    assert!(matches!(h.app.overlay, Some(Overlay::Export(_))));
    assert!(matches!(h.app.export(), Some(ExportState::Ready)));
    let s = h.screen(80, 24);
    assert_fits(&s, 80);
    assert!(s.contains("1 walk(s)") && s.contains("1 note(s)"), "{s}");
    assert!(s.contains("in /home/oncall/incident-4711"), "{s}");
    assert!(s.contains("  pod-evictions "), "the walk is listed: {s}");
    assert!(s.contains(&format!("→ {code}")), "{s}");
    insta::assert_snapshot!("export_ready_80x24", s);

    let out = tempfile::tempdir().unwrap();
    h.app.export_dir = out.path().to_path_buf();
    h.key(KeyCode::Enter).await;
    assert!(
        h.progress_seen.iter().any(|l| l.starts_with("collecting")),
        "progress: {:?}",
        h.progress_seen
    );
    let Some(ExportState::Done {
        result: Ok(summary),
        cancelled: false,
        ..
    }) = h.app.export().cloned()
    else {
        panic!("export did not succeed: {:?}", h.app.export());
    };
    assert_eq!(
        only_file(out.path()),
        vec![summary.path.clone()],
        "one bundle, no leftovers"
    );
    let name = summary
        .path
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    assert!(
        name.starts_with("ktriage-") && name.ends_with(".tar.gz"),
        "{name}"
    );
    let s = h.screen(80, 24);
    assert_fits(&s, 80);
    assert!(s.contains("Evidence bundle written"), "{s}");
    assert!(s.contains(&name), "the path is shown: {s}");
    assert!(
        s.contains(&format!(
            "{} collection problem(s) — see errors.json",
            summary.errors
        )),
        "{s}"
    );
    assert!(
        s.contains(&format!(
            "{} redaction(s) — see redactions.json",
            summary.redactions
        )),
        "{s}"
    );
    assert!(
        s.contains("ktriage open ") && s.contains("ktriage bundle verify "),
        "{s}"
    );

    let verified = ktriage::evidence::archive::verify(&summary.path).unwrap();
    assert!(verified.files > 0);

    // The bundle reopens as a snapshot and the walk concludes the same over it.
    let reopened = Snapshot::open(&summary.path).unwrap();
    let session = ktriage::drive::Session::new(reopened);
    let catalog = catalog();
    let round = session.round(&catalog);
    let rb = catalog.get(&walked.runbook).unwrap();
    let again = round
        .walk(rb, walked.target.as_deref(), &walked.answers)
        .await;
    assert_eq!(
        again.conclusion.as_ref().map(|c| c.code.clone()),
        Some(code),
        "{:?}",
        again.missing
    );

    // The note is in a bundle now: quitting does not ask.
    h.key(KeyCode::Esc).await;
    assert!(h.app.overlay.is_none());
    assert_eq!(h.app.case.unexported(), 0);
    h.key(KeyCode::Char('q')).await;
    assert!(h.app.quit, "the notes are exported: no confirmation");
}

/// Esc while the export runs: the runner's flag is set before the job gets going, the
/// overlay says it was cancelled, and nothing is at the destination.
#[tokio::test]
async fn esc_cancels_a_running_export_and_nothing_is_written() {
    let mut h = Harness::fixture("evict-memory-pressure").await;
    let out = tempfile::tempdir().unwrap();
    h.app.export_dir = out.path().to_path_buf();
    h.key(KeyCode::Enter).await;
    h.key(KeyCode::Char('n')).await;
    h.type_text("cordoned ip-10-0-1-12").await;
    h.key(KeyCode::Enter).await;
    h.key(KeyCode::Char('e')).await;
    // Enter starts the export; the job is held, as if still running.
    let export = h
        .app
        .update(Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)));
    assert!(
        matches!(export.as_slice(), [Job::Export { case, .. }] if case.walks.len() == 1 && case.notes.len() == 1)
    );
    h.app
        .update(Msg::ExportProgress("collecting 12 object lists".into()));
    let s = h.screen(80, 24);
    assert_fits(&s, 80);
    assert!(s.contains("Exporting") && s.contains("cancels"), "{s}");
    insta::assert_snapshot!("export_running_80x24", s);
    // Other keys do nothing while it runs; Esc asks the runner to stop.
    assert!(
        h.app
            .update(Msg::Key(KeyEvent::new(
                KeyCode::Char('q'),
                KeyModifiers::NONE
            )))
            .is_empty()
    );
    assert!(!h.app.quit);
    let cancel = h
        .app
        .update(Msg::Key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE)));
    assert!(matches!(cancel.as_slice(), [Job::CancelExport]));
    let s = h.screen(80, 24);
    assert!(s.contains("cancelling…"), "{s}");
    // A second Esc asks nothing more.
    assert!(
        h.app
            .update(Msg::Key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE)))
            .is_empty()
    );
    h.run(cancel).await;
    assert!(h.export.cancel.load(Ordering::SeqCst), "the flag is set");
    h.run(export).await;
    let Some(ExportState::Done {
        result: Err(_),
        cancelled: true,
        ..
    }) = h.app.export()
    else {
        panic!("not cancelled: {:?}", h.app.export());
    };
    let s = h.screen(80, 24);
    assert_fits(&s, 80);
    assert!(s.contains("Export cancelled"), "{s}");
    assert!(s.contains("Nothing was written"), "{s}");
    assert!(
        only_file(out.path()).is_empty(),
        "{:?}",
        only_file(out.path())
    );
    // The note is in no bundle: quitting still asks, and says how to keep it.
    h.key(KeyCode::Esc).await;
    h.key(KeyCode::Char('q')).await;
    assert!(matches!(h.app.overlay, Some(Overlay::ConfirmQuit)));
    let s = h.screen(80, 24);
    assert!(s.contains("Press e to export them first"), "{s}");
    // `e` from there opens the export.
    h.key(KeyCode::Char('e')).await;
    assert!(matches!(h.app.overlay, Some(Overlay::Export(_))));
    assert!(matches!(h.app.export(), Some(ExportState::Ready)));
}
