//! The TUI's state and how messages change it. Pure: no terminal, no I/O, no clock (time
//! arrives in `Msg::Tick`); what needs the cluster is returned as [`Job`]s for the runner,
//! whose answers come back as messages. Tests drive it key by key.

use super::cluster_state::ClusterState;
use super::keymap::{Action, Key, Keymap};
use crate::drive::triage::{TargetChoice, TriageReport};
use crate::evidence::casefile::{CaseWalk, Casefile, Note};
use crate::facts::{FactQuery, FactResult};
use crate::runbook::Catalog;
use crate::runbook::model::TargetKind;
use crate::runbook::record::{FollowUp, Outcome, Status, StepRecord, WalkRecord};
use crate::source::live::watch::Freshness;
use chrono::{DateTime, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use fuzzy_matcher::FuzzyMatcher;
use fuzzy_matcher::skim::SkimMatcherV2;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;

/// The target-picker row that walks without a target (no Kubernetes name has spaces or
/// parentheses, so it cannot be an object's).
pub const WHOLE_CLUSTER: &str = "(whole cluster)";

/// Work for the runner; every answer comes back as a [`Msg`].
#[derive(Clone, Debug)]
pub enum Job {
    /// Triage (and, offline, the state panel) over a round; `fresh` starts a new round.
    Triage { fresh: bool },
    /// The targets a runbook can be walked on, symptom matches first.
    Targets { runbook: String, fresh: bool },
    Walk {
        seq: u64,
        runbook: String,
        target: Option<String>,
        answers: BTreeMap<String, String>,
        fresh: bool,
    },
    /// Writes an evidence bundle of the case file into `dir`, over the current round
    /// (what the walks read is not asked again). Progress comes back as
    /// [`Msg::ExportProgress`], the end as [`Msg::Exported`].
    Export { case: Casefile, dir: PathBuf },
    /// Stops the running export (the runner's flag): it ends with a cancelled
    /// [`Msg::Exported`], leaving nothing at the destination.
    CancelExport,
}

// A message is moved once, a few times a second at most: boxing would buy nothing.
#[allow(clippy::large_enum_variant)]
pub enum Msg {
    Key(KeyEvent),
    /// The terminal's size: scrolling moves by what fits.
    Resize(u16, u16),
    /// The clock, a few times a second: ages and spinners move, nothing else happens.
    Tick(DateTime<Utc>),
    Triaged {
        report: TriageReport,
        /// Offline sources answer the panel from the same round; live ones from watches.
        state: Option<ClusterState>,
        at: DateTime<Utc>,
    },
    /// Triage ended without a report (a bug): said, and `r` tries again.
    TriageFailed(String),
    LiveState {
        state: ClusterState,
        freshness: Vec<(String, Freshness)>,
    },
    Targets {
        runbook: String,
        result: Result<Vec<TargetChoice>, String>,
    },
    Walked {
        seq: u64,
        record: WalkRecord,
        facts: Vec<(FactQuery, FactResult)>,
        at: DateTime<Utc>,
    },
    WalkFailed {
        seq: u64,
        error: String,
    },
    /// One line of the running export's progress (`collecting 12 object lists`).
    ExportProgress(String),
    /// The export ended: what was written, or why nothing was.
    Exported(Result<ExportSummary, String>),
}

/// A bundle written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportSummary {
    pub path: PathBuf,
    pub bytes: u64,
    pub files: usize,
    /// Things that could not be collected whole (`errors.json`).
    pub errors: usize,
    /// Values replaced by the redaction rules (`redactions.json`).
    pub redactions: usize,
}

/// Where the export overlay is.
#[derive(Clone, Debug)]
pub enum ExportState {
    /// Says what will be written; Enter starts.
    Ready,
    Running {
        since: DateTime<Utc>,
        /// Progress lines as they came.
        progress: Vec<String>,
        /// Esc was pressed: the runner was asked to stop.
        cancelling: bool,
        /// Notes in the bundle (the first `notes` of the session's).
        notes: usize,
    },
    Done {
        result: Result<ExportSummary, String>,
        /// Esc stopped it.
        cancelled: bool,
        took: chrono::TimeDelta,
    },
}

/// What the header says about where the data comes from.
#[derive(Clone, Debug)]
pub struct SourceSummary {
    pub description: String,
    pub live: bool,
    pub context: Option<String>,
    pub cluster: Option<String>,
    pub region: Option<String>,
    /// Capture time of a snapshot.
    pub captured: Option<DateTime<Utc>>,
    /// Said once in the header instead of on every step (e.g. why AWS facts are missing).
    pub notice: Option<String>,
}

/// Something fetched in the background: its value, when, and whether a refresh is
/// under way or failed. Old data stays visible while new data loads.
#[derive(Clone, Debug)]
pub struct Tracked<T> {
    pub value: Option<T>,
    pub at: Option<DateTime<Utc>>,
    pub loading_since: Option<DateTime<Utc>>,
}

impl<T> Default for Tracked<T> {
    fn default() -> Self {
        Tracked {
            value: None,
            at: None,
            loading_since: None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Screen {
    Home,
    Runbooks,
    Targets,
    Walk,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HomePane {
    Suggestions,
    State,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WalkPane {
    Path,
    Detail,
    Evidence,
}

/// A list with a fuzzy filter line.
#[derive(Clone, Debug, Default)]
pub struct FilteredList {
    pub filter: String,
    /// Keys go to the filter line.
    pub editing: bool,
    pub selected: usize,
}

/// What a list made of a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ListMove {
    /// `Esc` with no filter: leave the screen.
    Close,
    Handled,
    NotMine,
}

impl FilteredList {
    /// The keys every filtered list shares: moving, `/` (or ↑ past the top) to type a
    /// filter, `Esc` clearing it before leaving.
    fn navigate(&mut self, action: Action, len: usize) -> ListMove {
        match action {
            Action::Back if self.filter.is_empty() => return ListMove::Close,
            Action::Back => self.filter.clear(),
            Action::Filter => self.editing = true,
            Action::Up if self.selected == 0 => self.editing = true,
            Action::Up
            | Action::Down
            | Action::PageUp
            | Action::PageDown
            | Action::Top
            | Action::Bottom => move_in(&mut self.selected, len, action),
            _ => return ListMove::NotMine,
        }
        ListMove::Handled
    }
}

#[derive(Clone, Debug)]
pub struct Walk {
    pub seq: u64,
    pub runbook: String,
    pub target: Option<String>,
    /// Answers in the order given, so a back-track drops what came after.
    pub answers: Vec<(String, String)>,
    pub record: Option<WalkRecord>,
    pub facts: Vec<(FactQuery, FactResult)>,
    /// Steps (`runbook/step`) whose outcome or reason differs from the run before `r`.
    pub changed: BTreeSet<String>,
    pub running_since: Option<DateTime<Utc>>,
    pub ran_at: Option<DateTime<Utc>>,
    pub runs: usize,
    pub focus: WalkPane,
    pub path_selected: usize,
    pub choice_selected: usize,
    pub detail_scroll: u16,
    pub evidence_selected: usize,
    /// Walks this one followed from (`runbook target → CODE`).
    pub trail: Vec<String>,
    /// The answer given before a back-track, shown beside the question again.
    pub previous_answer: Option<String>,
}

#[derive(Clone, Debug)]
pub enum Overlay {
    Help,
    Note {
        input: String,
    },
    ConfirmQuit,
    Viewer(Viewer),
    Message {
        title: String,
        text: String,
    },
    /// The export: what it will write, its progress, what it wrote ([`App::export`]).
    Export,
}

#[derive(Clone, Debug)]
pub struct Viewer {
    pub title: String,
    pub lines: Vec<String>,
    pub scroll: usize,
    pub search: String,
    pub searching: bool,
    /// Line numbers that match `search`.
    pub matches: Vec<usize>,
    /// The match the cursor is on.
    pub current: Option<usize>,
    /// Rows on screen.
    pub page: usize,
}

pub struct App {
    pub keymap: Keymap,
    pub catalog: Arc<Catalog>,
    pub source: SourceSummary,
    pub now: DateTime<Utc>,
    pub screen: Screen,
    pub home_pane: HomePane,
    pub suggestion_selected: usize,
    pub state_scroll: usize,
    pub triage: Tracked<TriageReport>,
    pub state: Tracked<ClusterState>,
    pub live_freshness: Vec<(String, Freshness)>,
    pub runbooks: FilteredList,
    pub targets_for: Option<String>,
    pub targets: Tracked<Result<Vec<TargetChoice>, String>>,
    pub target_list: FilteredList,
    pub walk: Option<Walk>,
    /// The session's walks as last left and its notes: what an export writes.
    pub case: Casefile,
    /// Where bundles are written (the current directory; tests set their own).
    pub export_dir: PathBuf,
    /// The export overlay's state, kept while it runs.
    pub export: Option<ExportState>,
    pub overlay: Option<Overlay>,
    /// A one-line message under the body (what just happened).
    pub flash: Option<String>,
    pub quit: bool,
    /// Terminal size, for page-wise scrolling.
    pub viewport: (u16, u16),
    next_seq: u64,
}

/// Text rows the viewer shows at a terminal height (header, hint lines and borders off).
fn viewer_page(height: u16) -> usize {
    (height as usize).saturating_sub(5).max(1)
}

/// One row of the runbook picker.
#[derive(Clone, Debug)]
pub struct RunbookRow {
    pub id: String,
    pub title: String,
    pub tags: Vec<String>,
    pub target: String,
}

impl App {
    pub fn new(
        keymap: Keymap,
        catalog: Arc<Catalog>,
        source: SourceSummary,
        now: DateTime<Utc>,
    ) -> App {
        App {
            keymap,
            catalog,
            source,
            now,
            screen: Screen::Home,
            home_pane: HomePane::Suggestions,
            suggestion_selected: 0,
            state_scroll: 0,
            triage: Tracked::default(),
            state: Tracked::default(),
            live_freshness: Vec::new(),
            runbooks: FilteredList::default(),
            targets_for: None,
            targets: Tracked::default(),
            target_list: FilteredList::default(),
            walk: None,
            case: Casefile::default(),
            export_dir: PathBuf::from("."),
            export: None,
            overlay: None,
            flash: None,
            quit: false,
            viewport: (80, 24),
            next_seq: 0,
        }
    }

    /// "Now" for the data's own ages: the round's time (a snapshot's capture time), not
    /// the clock, so "seen 2m ago" means two minutes before the data was read.
    pub fn data_now(&self) -> DateTime<Utc> {
        self.triage.at.unwrap_or(self.now)
    }

    /// The jobs to start with.
    pub fn start(&mut self) -> Vec<Job> {
        self.triage.loading_since = Some(self.now);
        if !self.source.live {
            self.state.loading_since = Some(self.now);
        }
        vec![Job::Triage { fresh: false }]
    }

    pub fn update(&mut self, msg: Msg) -> Vec<Job> {
        match msg {
            Msg::Tick(now) => {
                self.now = now;
                Vec::new()
            }
            Msg::Resize(w, h) => {
                self.viewport = (w, h);
                if let Some(Overlay::Viewer(v)) = &mut self.overlay {
                    v.page = viewer_page(h);
                }
                Vec::new()
            }
            Msg::Triaged { report, state, at } => {
                self.triage = Tracked {
                    value: Some(report),
                    at: Some(at),
                    loading_since: None,
                };
                if let Some(state) = state {
                    self.state = Tracked {
                        value: Some(state),
                        at: Some(at),
                        loading_since: None,
                    };
                }
                self.suggestion_selected = self
                    .suggestion_selected
                    .min(self.suggestion_rows().saturating_sub(1));
                Vec::new()
            }
            Msg::TriageFailed(error) => {
                self.triage.loading_since = None;
                self.state.loading_since = None;
                self.flash = Some(format!("triage failed: {error}"));
                Vec::new()
            }
            Msg::LiveState { state, freshness } => {
                self.state.value = Some(state);
                self.state.at = Some(self.now);
                self.state.loading_since = None;
                self.live_freshness = freshness;
                Vec::new()
            }
            Msg::Targets { runbook, result } => {
                if self.targets_for.as_deref() == Some(runbook.as_str()) {
                    self.targets = Tracked {
                        value: Some(result),
                        at: Some(self.now),
                        loading_since: None,
                    };
                }
                Vec::new()
            }
            Msg::Walked {
                seq,
                record,
                facts,
                at,
            } => {
                if let Some(w) = self.walk.as_mut().filter(|w| w.seq == seq) {
                    w.changed = match &w.record {
                        Some(old) if w.runs > 0 => changed_steps(old, &record),
                        _ => BTreeSet::new(),
                    };
                    let waiting = record.status == Status::NeedsInput;
                    w.path_selected = rows_of(&record).saturating_sub(1);
                    w.record = Some(record);
                    w.facts = facts;
                    w.running_since = None;
                    w.ran_at = Some(at);
                    w.runs += 1;
                    w.detail_scroll = 0;
                    w.choice_selected = 0;
                    if let (Some(prev), Some(q)) = (
                        &w.previous_answer,
                        w.record.as_ref().and_then(|r| r.question.as_ref()),
                    ) && let Some(i) = q.choices.iter().position(|c| &c.id == prev)
                    {
                        w.choice_selected = i;
                    }
                    // A question wants an answer: put the cursor on its choices.
                    w.focus = if waiting {
                        WalkPane::Detail
                    } else {
                        WalkPane::Path
                    };
                    let Some(record) = w.record.clone() else {
                        return Vec::new();
                    };
                    self.case.file(CaseWalk {
                        runbook: w.runbook.clone(),
                        target: w.target.clone(),
                        answers: w.answers.iter().cloned().collect(),
                        record,
                    });
                }
                Vec::new()
            }
            Msg::ExportProgress(line) => {
                if let Some(ExportState::Running { progress, .. }) = &mut self.export {
                    progress.push(line);
                }
                Vec::new()
            }
            Msg::Exported(result) => {
                if let Some(ExportState::Running {
                    since,
                    cancelling,
                    notes,
                    ..
                }) = self.export.take()
                {
                    if let Ok(summary) = &result {
                        self.case.exported = self.case.exported.max(notes);
                        self.flash = Some(format!(
                            "bundle written: {}",
                            crate::text::sanitize(&summary.path.display().to_string())
                        ));
                    }
                    self.export = Some(ExportState::Done {
                        cancelled: cancelling && result.is_err(),
                        result,
                        took: self.now - since,
                    });
                }
                Vec::new()
            }
            Msg::WalkFailed { seq, error } => {
                if let Some(w) = self.walk.as_mut().filter(|w| w.seq == seq) {
                    w.running_since = None;
                    self.flash = Some(format!("cannot walk: {error}"));
                }
                Vec::new()
            }
            Msg::Key(key) => {
                if key.kind != KeyEventKind::Press {
                    return Vec::new();
                }
                self.flash = None;
                self.on_key(key)
            }
        }
    }

    fn on_key(&mut self, key: KeyEvent) -> Vec<Job> {
        if let Some(overlay) = self.overlay.take() {
            return self.on_overlay_key(overlay, key);
        }
        if self.screen == Screen::Runbooks && self.runbooks.editing {
            return self.on_filter_key(key, true);
        }
        if self.screen == Screen::Targets && self.target_list.editing {
            return self.on_filter_key(key, false);
        }
        let Some(action) = Key::from_event(&key).and_then(|k| self.keymap.action(&k)) else {
            return Vec::new();
        };
        match action {
            Action::Help => {
                self.overlay = Some(Overlay::Help);
                return Vec::new();
            }
            Action::Quit => {
                if self.case.unexported() == 0 {
                    self.quit = true;
                } else {
                    self.overlay = Some(Overlay::ConfirmQuit);
                }
                return Vec::new();
            }
            Action::Export => {
                self.open_export();
                return Vec::new();
            }
            Action::Note => {
                self.overlay = Some(Overlay::Note {
                    input: String::new(),
                });
                return Vec::new();
            }
            _ => {}
        }
        match self.screen {
            Screen::Home => self.on_home(action),
            Screen::Runbooks => self.on_runbooks(action),
            Screen::Targets => self.on_targets(action),
            Screen::Walk => self.on_walk(action),
        }
    }

    fn on_overlay_key(&mut self, overlay: Overlay, key: KeyEvent) -> Vec<Job> {
        let action = Key::from_event(&key).and_then(|k| self.keymap.action(&k));
        match overlay {
            Overlay::Note { mut input } => match key.code {
                KeyCode::Enter => {
                    let text = input.trim().to_string();
                    if !text.is_empty() {
                        let walk = match (&self.screen, &self.walk) {
                            (Screen::Walk, Some(w)) => Some((w.runbook.clone(), w.target.clone())),
                            _ => None,
                        };
                        self.case.notes.push(Note {
                            at: self.now,
                            text,
                            walk,
                            context: self.note_context(),
                        });
                        self.flash = Some(format!(
                            "note {} added · {} exports it with the walks in an evidence bundle",
                            self.case.notes.len(),
                            self.keymap.label(Action::Export)
                        ));
                    }
                }
                KeyCode::Esc => {}
                KeyCode::Backspace => {
                    input.pop();
                    self.overlay = Some(Overlay::Note { input });
                }
                KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
                    input.push(c);
                    self.overlay = Some(Overlay::Note { input });
                }
                _ => self.overlay = Some(Overlay::Note { input }),
            },
            Overlay::ConfirmQuit => match key.code {
                KeyCode::Char('y') | KeyCode::Char('Y') => self.quit = true,
                _ if action == Some(Action::Export) => self.open_export(),
                _ => {}
            },
            Overlay::Export => return self.on_export_key(action),
            Overlay::Viewer(mut v) => {
                if v.searching {
                    match key.code {
                        KeyCode::Enter => {
                            v.searching = false;
                            v.run_search();
                        }
                        KeyCode::Esc => {
                            v.searching = false;
                            v.search.clear();
                            v.matches.clear();
                        }
                        KeyCode::Backspace => {
                            v.search.pop();
                        }
                        KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
                            v.search.push(c)
                        }
                        _ => {}
                    }
                    self.overlay = Some(Overlay::Viewer(v));
                    return Vec::new();
                }
                match action {
                    Some(Action::Back) if !v.matches.is_empty() => {
                        v.matches.clear();
                        v.search.clear();
                        v.current = None;
                    }
                    Some(Action::Back) | Some(Action::Quit) => return Vec::new(),
                    Some(Action::Up) => v.scroll = v.scroll.saturating_sub(1),
                    Some(Action::Down) => v.scroll = (v.scroll + 1).min(v.max_scroll()),
                    Some(Action::PageUp) => v.scroll = v.scroll.saturating_sub(v.page),
                    Some(Action::PageDown) => v.scroll = (v.scroll + v.page).min(v.max_scroll()),
                    Some(Action::Top) => v.scroll = 0,
                    Some(Action::Bottom) => v.scroll = v.max_scroll(),
                    Some(Action::Filter) => {
                        v.searching = true;
                        v.search.clear();
                    }
                    Some(Action::Select) => v.next_match(),
                    _ => {}
                }
                self.overlay = Some(Overlay::Viewer(v));
            }
            Overlay::Help | Overlay::Message { .. } => {
                if !matches!(
                    action,
                    Some(Action::Back | Action::Help | Action::Quit | Action::Select)
                ) {
                    self.overlay = Some(overlay);
                }
            }
        }
        Vec::new()
    }

    /// The export overlay: what it will write, or the running export's progress.
    fn open_export(&mut self) {
        if !matches!(self.export, Some(ExportState::Running { .. })) {
            self.export = Some(ExportState::Ready);
        }
        self.overlay = Some(Overlay::Export);
    }

    /// The case file as it stands, for the bundle.
    fn export_job(&self) -> Job {
        Job::Export {
            case: self.case.clone(),
            dir: self.export_dir.clone(),
        }
    }

    fn on_export_key(&mut self, action: Option<Action>) -> Vec<Job> {
        self.overlay = Some(Overlay::Export);
        match (&mut self.export, action) {
            (Some(ExportState::Ready), Some(Action::Select)) => {
                let job = self.export_job();
                self.export = Some(ExportState::Running {
                    since: self.now,
                    progress: Vec::new(),
                    cancelling: false,
                    notes: self.case.notes.len(),
                });
                return vec![job];
            }
            (Some(ExportState::Running { cancelling, .. }), Some(Action::Back)) if !*cancelling => {
                *cancelling = true;
                return vec![Job::CancelExport];
            }
            // Running: only Esc does something; the overlay stays until it ends.
            (Some(ExportState::Running { .. }), _) => {}
            (_, Some(Action::Back | Action::Quit | Action::Select)) | (None, _) => {
                self.overlay = None;
            }
            _ => {}
        }
        Vec::new()
    }

    fn on_filter_key(&mut self, key: KeyEvent, runbooks: bool) -> Vec<Job> {
        let list = if runbooks {
            &mut self.runbooks
        } else {
            &mut self.target_list
        };
        match key.code {
            KeyCode::Esc => {
                list.filter.clear();
                list.editing = false;
            }
            KeyCode::Enter => {
                list.editing = false;
                return if runbooks {
                    self.on_runbooks(Action::Select)
                } else {
                    self.on_targets(Action::Select)
                };
            }
            KeyCode::Down | KeyCode::Tab => list.editing = false,
            KeyCode::Backspace => {
                list.filter.pop();
                list.selected = 0;
            }
            KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
                list.filter.push(c);
                list.selected = 0;
            }
            _ => {}
        }
        Vec::new()
    }

    fn note_context(&self) -> String {
        match (&self.screen, &self.walk) {
            (Screen::Walk, Some(w)) => {
                let step = w
                    .record
                    .as_ref()
                    .and_then(|r| r.path.get(w.path_selected))
                    .map(|s| format!(" · {}", s.step))
                    .unwrap_or_default();
                format!(
                    "{} {}{step}",
                    w.runbook,
                    w.target.as_deref().unwrap_or("(cluster)")
                )
            }
            _ => "home".to_string(),
        }
    }

    // ---- home --------------------------------------------------------------------------

    /// Suggestions, then one row per runbook not checked, then "all runbooks".
    pub fn suggestion_rows(&self) -> usize {
        let report = self.triage.value.as_ref();
        report.map_or(0, |r| r.suggestions.len() + r.not_checked.len()) + 1
    }

    fn on_home(&mut self, action: Action) -> Vec<Job> {
        match action {
            Action::NextPane => {
                self.home_pane = match self.home_pane {
                    HomePane::Suggestions => HomePane::State,
                    HomePane::State => HomePane::Suggestions,
                };
            }
            Action::Up
            | Action::Down
            | Action::PageUp
            | Action::PageDown
            | Action::Top
            | Action::Bottom => match self.home_pane {
                HomePane::Suggestions => {
                    let rows = self.suggestion_rows();
                    move_in(&mut self.suggestion_selected, rows, action)
                }
                HomePane::State => {
                    let n = self
                        .state
                        .value
                        .as_ref()
                        .and_then(|s| s.warnings.as_ref().ok())
                        .map_or(0, Vec::len);
                    move_in(&mut self.state_scroll, n, action)
                }
            },
            Action::Filter => self.open_runbooks(true),
            Action::Select if self.home_pane == HomePane::Suggestions => {
                let report = self.triage.value.as_ref();
                let suggestions = report.map_or(0, |r| r.suggestions.len());
                let i = self.suggestion_selected;
                if let Some(s) = report.and_then(|r| r.suggestions.get(i)) {
                    let (runbook, target) = (s.runbook.clone(), s.target.clone());
                    return self.start_walk(runbook, target, Vec::new());
                }
                if let Some(n) = report.and_then(|r| r.not_checked.get(i - suggestions)) {
                    // Nothing was suggested, but the runbook can still be walked by hand.
                    let id = n.runbook.clone();
                    self.open_runbooks(false);
                    self.select_runbook(&id);
                    return Vec::new();
                }
                self.open_runbooks(false);
            }
            Action::Rerun => {
                self.triage.loading_since = Some(self.now);
                if !self.source.live {
                    self.state.loading_since = Some(self.now);
                }
                return vec![Job::Triage { fresh: true }];
            }
            _ => {}
        }
        Vec::new()
    }

    fn open_runbooks(&mut self, editing: bool) {
        self.screen = Screen::Runbooks;
        self.runbooks.editing = editing;
        if editing {
            self.runbooks.filter.clear();
            self.runbooks.selected = 0;
        }
    }

    fn select_runbook(&mut self, id: &str) {
        if let Some(i) = self.runbook_rows().iter().position(|r| r.id == id) {
            self.runbooks.selected = i;
        }
    }

    // ---- runbook picker ----------------------------------------------------------------

    /// Every runbook, fuzzy-filtered over id, title and tags, best match first.
    pub fn runbook_rows(&self) -> Vec<RunbookRow> {
        let rows: Vec<RunbookRow> = self
            .catalog
            .iter()
            .map(|rb| RunbookRow {
                id: rb.id.clone(),
                title: rb.title.clone(),
                tags: rb.tags.clone(),
                target: rb.target.kind_name(),
            })
            .collect();
        fuzzy(rows, &self.runbooks.filter, |r| {
            format!("{} {} {}", r.id, r.title, r.tags.join(" "))
        })
    }

    fn on_runbooks(&mut self, action: Action) -> Vec<Job> {
        let rows = self.runbook_rows();
        if self.runbooks.navigate(action, rows.len()) == ListMove::Close {
            self.screen = Screen::Home;
        }
        if action != Action::Select {
            return Vec::new();
        }
        let Some(row) = rows.get(self.runbooks.selected) else {
            return Vec::new();
        };
        let Some(rb) = self.catalog.get(&row.id) else {
            return Vec::new();
        };
        if rb.target.kind == TargetKind::Cluster {
            return self.start_walk(row.id.clone(), None, Vec::new());
        }
        self.screen = Screen::Targets;
        self.targets_for = Some(row.id.clone());
        self.targets = Tracked {
            value: None,
            at: None,
            loading_since: Some(self.now),
        };
        self.target_list = FilteredList::default();
        vec![Job::Targets {
            runbook: row.id.clone(),
            fresh: false,
        }]
    }

    // ---- target picker -----------------------------------------------------------------

    pub fn target_rows(&self) -> Vec<TargetChoice> {
        let Some(Ok(all)) = &self.targets.value else {
            return Vec::new();
        };
        let mut rows = all.clone();
        // A runbook whose target is optional can also be walked on the whole cluster.
        if self
            .targets_for
            .as_deref()
            .and_then(|id| self.catalog.get(id))
            .is_some_and(|rb| rb.target.optional)
        {
            rows.insert(
                0,
                TargetChoice {
                    reference: WHOLE_CLUSTER.into(),
                    matched: Some(false),
                    reason: "no target: the runbook looks at every one".into(),
                    since: None,
                },
            );
        }
        if self.target_list.filter.is_empty() {
            return rows;
        }
        fuzzy(rows, &self.target_list.filter, |t| t.reference.clone())
    }

    fn on_targets(&mut self, action: Action) -> Vec<Job> {
        let rows = self.target_rows();
        if self.target_list.navigate(action, rows.len()) == ListMove::Close {
            self.screen = Screen::Runbooks;
        }
        match action {
            Action::Rerun => {
                if let Some(rb) = self.targets_for.clone() {
                    self.targets.loading_since = Some(self.now);
                    return vec![Job::Targets {
                        runbook: rb,
                        fresh: true,
                    }];
                }
            }
            Action::Select => {
                if let (Some(row), Some(rb)) = (
                    rows.get(self.target_list.selected),
                    self.targets_for.clone(),
                ) {
                    let target = (row.reference != WHOLE_CLUSTER).then(|| row.reference.clone());
                    return self.start_walk(rb, target, Vec::new());
                }
            }
            _ => {}
        }
        Vec::new()
    }

    // ---- walk --------------------------------------------------------------------------

    fn start_walk(
        &mut self,
        runbook: String,
        target: Option<String>,
        trail: Vec<String>,
    ) -> Vec<Job> {
        self.next_seq += 1;
        let seq = self.next_seq;
        self.screen = Screen::Walk;
        self.walk = Some(Walk {
            seq,
            runbook: runbook.clone(),
            target: target.clone(),
            answers: Vec::new(),
            record: None,
            facts: Vec::new(),
            changed: BTreeSet::new(),
            running_since: Some(self.now),
            ran_at: None,
            runs: 0,
            focus: WalkPane::Path,
            path_selected: 0,
            choice_selected: 0,
            detail_scroll: 0,
            evidence_selected: 0,
            trail,
            previous_answer: None,
        });
        vec![Job::Walk {
            seq,
            runbook,
            target,
            answers: BTreeMap::new(),
            fresh: false,
        }]
    }

    /// Walks again with the answers as they stand now.
    fn rewalk(&mut self, fresh: bool) -> Vec<Job> {
        self.next_seq += 1;
        let seq = self.next_seq;
        let Some(w) = self.walk.as_mut() else {
            return Vec::new();
        };
        w.seq = seq;
        w.running_since = Some(self.now);
        if !fresh {
            // A new answer is a new walk of the same data: nothing "changed".
            w.runs = 0;
        }
        vec![Job::Walk {
            seq,
            runbook: w.runbook.clone(),
            target: w.target.clone(),
            answers: w.answers.iter().cloned().collect(),
            fresh,
        }]
    }

    fn on_walk(&mut self, action: Action) -> Vec<Job> {
        let Some(w) = self.walk.as_mut() else {
            self.screen = Screen::Home;
            return Vec::new();
        };
        if action == Action::Rerun {
            return self.rewalk(true);
        }
        if action == Action::Back {
            if w.focus != WalkPane::Path {
                w.focus = WalkPane::Path;
            } else {
                self.screen = Screen::Home;
            }
            return Vec::new();
        }
        if action == Action::NextPane {
            w.focus = match w.focus {
                WalkPane::Path => WalkPane::Detail,
                WalkPane::Detail => WalkPane::Evidence,
                WalkPane::Evidence => WalkPane::Path,
            };
            return Vec::new();
        }
        let Some(record) = w.record.clone() else {
            return Vec::new();
        };
        match w.focus {
            WalkPane::Path => match action {
                Action::Select => {
                    let Some(step) = record.path.get(w.path_selected) else {
                        // The conclusion row: read it, or follow it to the next runbook.
                        if let Some(follow) =
                            record.conclusion.as_ref().and_then(|c| c.follow_up.clone())
                        {
                            let code = record
                                .conclusion
                                .as_ref()
                                .map(|c| c.code.clone())
                                .unwrap_or_default();
                            let mut trail = w.trail.clone();
                            trail.push(format!(
                                "{} {} → {code}",
                                w.runbook,
                                w.target.as_deref().unwrap_or("(cluster)")
                            ));
                            return self.start_walk(follow.runbook, follow.target, trail);
                        }
                        w.focus = WalkPane::Detail;
                        return Vec::new();
                    };
                    match step.outcome {
                        Outcome::Answered => {
                            // Back-track: forget this answer and every later one, and ask again.
                            let key = format!("{}/{}", step.runbook, step.step);
                            if let Some(i) = w.answers.iter().position(|(k, _)| *k == key) {
                                w.previous_answer = Some(w.answers[i].1.clone());
                                w.answers.truncate(i);
                            }
                            self.flash = Some(format!(
                                "back to “{}”: choose again",
                                crate::text::sanitize(&step.title)
                            ));
                            return self.rewalk(false);
                        }
                        _ => w.focus = WalkPane::Detail,
                    }
                }
                a => {
                    let rows = rows_of(&record);
                    move_in(&mut w.path_selected, rows, a);
                    w.detail_scroll = 0;
                }
            },
            WalkPane::Detail => {
                let page = self.viewport.1.saturating_sub(12).max(1);
                let asking = w.asking();
                let choices = record.question.as_ref().map_or(0, |q| q.choices.len());
                match action {
                    Action::Select if asking => {
                        let Some(q) = &record.question else {
                            return Vec::new();
                        };
                        let Some(choice) = q.choices.get(w.choice_selected) else {
                            return Vec::new();
                        };
                        let key = format!("{}/{}", q.runbook, q.step);
                        w.answers.retain(|(k, _)| *k != key);
                        w.answers.push((key, choice.id.clone()));
                        w.previous_answer = None;
                        self.flash = Some(format!(
                            "answered: {}",
                            crate::text::sanitize(&choice.label)
                        ));
                        return self.rewalk(false);
                    }
                    Action::Up | Action::Down | Action::Top | Action::Bottom if asking => {
                        move_in(&mut w.choice_selected, choices, action)
                    }
                    Action::Up => w.detail_scroll = w.detail_scroll.saturating_sub(1),
                    Action::Down => w.detail_scroll = w.detail_scroll.saturating_add(1),
                    Action::PageUp => w.detail_scroll = w.detail_scroll.saturating_sub(page),
                    Action::PageDown => w.detail_scroll = w.detail_scroll.saturating_add(page),
                    Action::Top => w.detail_scroll = 0,
                    // The view clamps this to the last page.
                    Action::Bottom => w.detail_scroll = u16::MAX,
                    _ => {}
                }
            }
            WalkPane::Evidence => {
                let items = evidence_items(w, &self.case.notes, Some(w.evidence_selected));
                match action {
                    Action::Select => {
                        if let Some(item) = items.get(w.evidence_selected) {
                            let mut v = Viewer::new(item.title.clone(), item.body.clone());
                            v.page = viewer_page(self.viewport.1);
                            self.overlay = Some(Overlay::Viewer(v));
                        }
                    }
                    a => move_in(&mut w.evidence_selected, items.len(), a),
                }
            }
        }
        Vec::new()
    }
}

impl Walk {
    /// The step under the path cursor (`None` on the conclusion row).
    pub fn selected_step(&self) -> Option<&StepRecord> {
        self.record.as_ref()?.path.get(self.path_selected)
    }

    /// The cursor is on the question the walk waits for.
    pub fn asking(&self) -> bool {
        self.selected_step()
            .is_some_and(|s| s.outcome == Outcome::AwaitingAnswer)
    }

    /// The cursor is on a conclusion that continues in another runbook.
    pub fn follow_up(&self) -> Option<&FollowUp> {
        let record = self.record.as_ref()?;
        if self.path_selected != record.path.len() {
            return None;
        }
        record.conclusion.as_ref()?.follow_up.as_ref()
    }
}

/// Rows of the path pane: every step, plus the conclusion or the reason there is none
/// (a question is already the last step).
pub fn rows_of(record: &WalkRecord) -> usize {
    record.path.len() + usize::from(record.status != Status::NeedsInput)
}

fn changed_steps(old: &WalkRecord, new: &WalkRecord) -> BTreeSet<String> {
    let before: BTreeMap<String, (Outcome, &str)> = old
        .path
        .iter()
        .map(|s| {
            (
                format!("{}/{}", s.runbook, s.step),
                (s.outcome, s.reason.as_str()),
            )
        })
        .collect();
    new.path
        .iter()
        .filter(|s| {
            let key = format!("{}/{}", s.runbook, s.step);
            before.get(&key) != Some(&(s.outcome, s.reason.as_str()))
        })
        .map(|s| format!("{}/{}", s.runbook, s.step))
        .collect()
}

fn move_in(selected: &mut usize, len: usize, action: Action) {
    let last = len.saturating_sub(1);
    *selected = match action {
        Action::Up => selected.saturating_sub(1),
        Action::Down => (*selected + 1).min(last),
        Action::PageUp => selected.saturating_sub(10),
        Action::PageDown => (*selected + 10).min(last),
        Action::Top => 0,
        Action::Bottom => last,
        _ => *selected,
    }
    .min(last);
}

fn fuzzy<T>(rows: Vec<T>, pattern: &str, text: impl Fn(&T) -> String) -> Vec<T> {
    if pattern.is_empty() {
        return rows;
    }
    let matcher = SkimMatcherV2::default().ignore_case();
    let mut scored: Vec<(i64, usize, T)> = rows
        .into_iter()
        .enumerate()
        .filter_map(|(i, r)| matcher.fuzzy_match(&text(&r), pattern).map(|s| (s, i, r)))
        .collect();
    scored.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    scored.into_iter().map(|(_, _, r)| r).collect()
}

/// One entry of the evidence pane and what its viewer shows.
#[derive(Clone, Debug)]
pub struct EvidenceItem {
    pub title: String,
    /// `ok`, `forbidden`, ... : what the list shows beside the title.
    pub status: String,
    pub failed: bool,
    pub body: Vec<String>,
}

/// Facts the walk read (with their answers) and the session's notes.
///
/// Only item `open`'s body is rendered (YAML of thousands of objects is not free, and
/// the list is drawn on every frame); the others' bodies are empty.
pub fn evidence_items(walk: &Walk, notes: &[Note], open: Option<usize>) -> Vec<EvidenceItem> {
    let mut items = Vec::new();
    if let Some(record) = &walk.record {
        // Facts computed from other facts are reasoning, not evidence: only what was read.
        for f in record.facts.iter().filter(|f| !f.queries.is_empty()) {
            let with_body = open == Some(items.len());
            let mut body = Vec::new();
            if let Some(d) = &f.description {
                body.extend(one_lines(d));
            }
            for c in &f.commands {
                body.push(format!("$ {}", super::view::text::one_line(c)));
            }
            let mut status = String::from("ok");
            let mut failed = false;
            for q in &f.queries {
                body.push(String::new());
                body.push(format!(
                    "── {}",
                    super::view::text::one_line(&q.to_string())
                ));
                match walk.facts.iter().find(|(k, _)| k == q).map(|(_, v)| v) {
                    Some(Ok(v)) => {
                        status = super::view::text::summarize_answer(q, v);
                        if with_body {
                            body.extend(super::view::text::render_answer(v));
                        }
                    }
                    Some(Err(e)) => {
                        failed = true;
                        status = super::view::text::one_line(&e.to_string());
                        body.push(status.clone());
                        body.push(format!("hint: {}", super::view::text::one_line(e.hint())));
                    }
                    None => body.push("(not fetched)".into()),
                }
            }
            items.push(EvidenceItem {
                title: if f.runbook == walk.runbook {
                    f.name.clone()
                } else {
                    format!("{} · {}", f.runbook, f.name)
                },
                status,
                failed,
                body,
            });
        }
    }
    let this = (walk.runbook.clone(), walk.target.clone());
    for n in notes
        .iter()
        .filter(|n| n.walk.as_ref().is_none_or(|w| *w == this))
    {
        items.push(EvidenceItem {
            title: format!("note {}", n.at.format("%H:%M:%SZ")),
            status: n.text.clone(),
            failed: false,
            body: vec![
                format!(
                    "{} — {}",
                    n.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    n.context
                ),
                String::new(),
                n.text.clone(),
            ],
        });
    }
    items
}

fn one_lines(s: &str) -> Vec<String> {
    super::view::text::lines(s)
}

impl Viewer {
    pub fn new(title: String, lines: Vec<String>) -> Viewer {
        Viewer {
            title,
            lines,
            scroll: 0,
            search: String::new(),
            searching: false,
            matches: Vec::new(),
            current: None,
            page: 19,
        }
    }

    /// The last page starts here: the end of the text fills the screen.
    fn max_scroll(&self) -> usize {
        self.lines.len().saturating_sub(self.page)
    }

    /// Shows match `i` with a few lines of context above it.
    fn show(&mut self, line: usize) {
        self.current = Some(line);
        self.scroll = line.saturating_sub(3).min(self.max_scroll());
    }

    fn run_search(&mut self) {
        let needle = self.search.to_lowercase();
        self.matches = if needle.is_empty() {
            Vec::new()
        } else {
            self.lines
                .iter()
                .enumerate()
                .filter(|(_, l)| l.to_lowercase().contains(&needle))
                .map(|(i, _)| i)
                .collect()
        };
        let from = self.scroll;
        if let Some(&first) = self
            .matches
            .iter()
            .find(|&&i| i >= from)
            .or(self.matches.first())
        {
            self.show(first);
        }
    }

    fn next_match(&mut self) {
        let after = self.current.unwrap_or(self.scroll);
        if let Some(&next) = self
            .matches
            .iter()
            .find(|&&i| i > after)
            .or(self.matches.first())
        {
            self.show(next);
        }
    }
}
