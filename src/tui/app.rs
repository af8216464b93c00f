//! The TUI's state and how messages change it. Pure: no terminal, no I/O, no clock (time
//! arrives in `Msg::Tick`); what needs the cluster is returned as [`Job`]s for the runner,
//! whose answers come back as messages. Tests drive it key by key.
//!
//! The app is a router, as gitui's app is over its tabs and popups: each screen
//! (`screens/`) and overlay (`overlays/`) holds its own state, makes what it can of a key
//! and draws itself; the app holds which screen is shown and which overlay is open, what
//! they all read ([`Shared`]) and the case file, and hands each message to the part it
//! is for. The parts import nothing of this file: what they ask of it comes back as a
//! `Step` (a screen) or a small answer of the overlay's own, and the vocabulary they
//! share with it (`msg`, `shared`) sits below both.

use super::keymap::{Action, Key, Keymap};
use super::msg::{Job, Msg};
use super::overlays::export::{ExportKey, ExportState};
use super::overlays::note::{NoteInput, NoteKey};
use super::overlays::viewer::Viewer;
use super::overlays::{help, quit};
use super::screens::Step;
use super::screens::home::HomeScreen;
use super::screens::runbooks::{RunbookPicker, RunbookRow};
use super::screens::targets::TargetPicker;
use super::screens::walk::WalkScreen;
use super::shared::{Shared, SourceSummary};
use crate::drive::triage::TargetChoice;
use crate::evidence::casefile::{Casefile, Note};
use crate::runbook::Catalog;
use chrono::{DateTime, Utc};
use crossterm::event::{KeyEvent, KeyEventKind};
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Screen {
    Home,
    Runbooks,
    Targets,
    Walk,
}

/// At most one window over the screen; while open it takes every key.
#[derive(Clone, Debug)]
pub enum Overlay {
    Help,
    Note(NoteInput),
    ConfirmQuit,
    Viewer(Viewer),
    /// The export: what it will write, its progress, what it wrote.
    Export(ExportState),
}

pub struct App {
    pub shared: Shared,
    pub screen: Screen,
    pub home: HomeScreen,
    pub runbooks: RunbookPicker,
    pub targets: TargetPicker,
    /// The walk screen's walk: kept when home is shown, replaced by the next walk.
    pub walk: Option<WalkScreen>,
    /// The session's walks as last left and its notes: what an export writes.
    pub case: Casefile,
    /// Where bundles are written (the current directory; tests set their own).
    pub export_dir: PathBuf,
    pub overlay: Option<Overlay>,
    /// A one-line message under the body (what just happened).
    pub flash: Option<String>,
    pub quit: bool,
    /// The last walk job's number: an answer to an older one is dropped.
    next_seq: u64,
}

impl App {
    pub fn new(
        keymap: Keymap,
        catalog: Arc<Catalog>,
        source: SourceSummary,
        now: DateTime<Utc>,
    ) -> App {
        App {
            shared: Shared {
                keymap,
                catalog,
                source,
                now,
                viewport: (80, 24),
            },
            screen: Screen::Home,
            home: HomeScreen::default(),
            runbooks: RunbookPicker::default(),
            targets: TargetPicker::default(),
            walk: None,
            case: Casefile::default(),
            export_dir: PathBuf::from("."),
            overlay: None,
            flash: None,
            quit: false,
            next_seq: 0,
        }
    }

    /// The jobs to start with.
    pub fn start(&mut self) -> Vec<Job> {
        vec![self.home.start_triage(false, &self.shared)]
    }

    /// Live suggestions go stale: refreshed while home is shown, one triage at a time.
    pub fn refresh_live(&mut self) -> Vec<Job> {
        if self.screen != Screen::Home {
            return Vec::new();
        }
        self.home.refresh(self.shared.now).into_iter().collect()
    }

    /// Every runbook the picker shows, best match first.
    pub fn runbook_rows(&self) -> Vec<RunbookRow> {
        self.runbooks.rows(&self.shared.catalog)
    }

    /// The targets the picker shows, symptom matches first.
    pub fn target_rows(&self) -> Vec<TargetChoice> {
        self.targets.rows(&self.shared.catalog)
    }

    /// The export overlay's state, when it is open.
    pub fn export(&self) -> Option<&ExportState> {
        match &self.overlay {
            Some(Overlay::Export(e)) => Some(e),
            _ => None,
        }
    }

    pub fn update(&mut self, msg: Msg) -> Vec<Job> {
        match msg {
            Msg::Tick(now) => self.shared.now = now,
            Msg::Resize(w, h) => {
                self.shared.viewport = (w, h);
                if let Some(Overlay::Viewer(v)) = &mut self.overlay {
                    v.resize(h);
                }
            }
            Msg::Triaged { report, state, at } => self.home.triaged(report, state, at),
            Msg::TriageFailed(error) => {
                self.home.triage_failed();
                self.flash = Some(format!("triage failed: {error}"));
            }
            Msg::LiveState { state, freshness } => {
                self.home.live_state(state, freshness, self.shared.now)
            }
            Msg::Targets { runbook, result } => {
                self.targets.listed(&runbook, result, self.shared.now)
            }
            Msg::Walked {
                seq,
                record,
                facts,
                at,
            } => {
                if let Some(w) = self.walk.as_mut().filter(|w| w.seq == seq) {
                    self.case.file(w.walked(record, facts, at));
                }
            }
            Msg::WalkFailed { seq, error } => {
                if let Some(w) = self.walk.as_mut().filter(|w| w.seq == seq) {
                    w.running_since = None;
                    self.flash = Some(format!("cannot walk: {error}"));
                }
            }
            Msg::ExportProgress(line) => {
                if let Some(Overlay::Export(e)) = &mut self.overlay {
                    e.progress(line);
                }
            }
            Msg::Exported(result) => {
                if let Some(Overlay::Export(e)) = &mut self.overlay {
                    let flash = result.as_ref().ok().map(|summary| {
                        format!(
                            "bundle written: {}",
                            crate::text::sanitize(&summary.path.display().to_string())
                        )
                    });
                    if let Some(notes) = e.exported(result, self.shared.now) {
                        self.case.exported = self.case.exported.max(notes);
                        self.flash = flash;
                    }
                }
            }
            Msg::Key(key) => {
                if key.kind != KeyEventKind::Press {
                    return Vec::new();
                }
                self.flash = None;
                return self.on_key(key);
            }
        }
        Vec::new()
    }

    fn on_key(&mut self, key: KeyEvent) -> Vec<Job> {
        if let Some(overlay) = self.overlay.take() {
            return self.on_overlay_key(overlay, key);
        }
        if self.screen == Screen::Runbooks && self.runbooks.list.editing {
            let step = self.runbooks.on_edit(key, &self.shared);
            return self.step(step);
        }
        if self.screen == Screen::Targets && self.targets.list.editing {
            let step = self.targets.on_edit(key, &self.shared);
            return self.step(step);
        }
        let Some(action) = Key::from_event(&key).and_then(|k| self.shared.keymap.action(&k)) else {
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
                self.overlay = Some(Overlay::Export(ExportState::Ready));
                return Vec::new();
            }
            Action::Note => {
                self.overlay = Some(Overlay::Note(NoteInput::default()));
                return Vec::new();
            }
            _ => {}
        }
        let step = match self.screen {
            Screen::Home => self.home.on_action(action, &self.shared),
            Screen::Runbooks => self.runbooks.on_action(action, &self.shared),
            Screen::Targets => self.targets.on_action(action, &self.shared),
            Screen::Walk => match self.walk.as_mut() {
                Some(w) => w.on_action(action, &self.shared, &self.case.notes),
                None => Step::Home,
            },
        };
        self.step(step)
    }

    /// Does what a screen asked: the moves between screens are the app's.
    fn step(&mut self, step: Step) -> Vec<Job> {
        match step {
            Step::Stay => Vec::new(),
            Step::Jobs(jobs) => jobs,
            Step::Home => {
                self.screen = Screen::Home;
                Vec::new()
            }
            Step::Runbooks { filtering, select } => {
                self.screen = Screen::Runbooks;
                self.runbooks.open(filtering);
                if let Some(id) = select {
                    self.runbooks.select(&self.shared.catalog, &id);
                }
                Vec::new()
            }
            Step::BackToRunbooks => {
                self.screen = Screen::Runbooks;
                Vec::new()
            }
            Step::Targets(runbook) => {
                let (picker, job) = TargetPicker::open(runbook, self.shared.now);
                self.screen = Screen::Targets;
                self.targets = picker;
                vec![job]
            }
            Step::Walk {
                runbook,
                target,
                trail,
            } => {
                self.next_seq += 1;
                let (walk, job) =
                    WalkScreen::start(self.next_seq, runbook, target, trail, self.shared.now);
                self.screen = Screen::Walk;
                self.walk = Some(walk);
                vec![job]
            }
            Step::Rewalk { fresh, flash } => {
                self.next_seq += 1;
                if flash.is_some() {
                    self.flash = flash;
                }
                match self.walk.as_mut() {
                    Some(w) => vec![w.rewalk(self.next_seq, fresh, self.shared.now)],
                    None => Vec::new(),
                }
            }
            Step::View(viewer) => {
                self.overlay = Some(Overlay::Viewer(viewer));
                Vec::new()
            }
        }
    }

    fn on_overlay_key(&mut self, overlay: Overlay, key: KeyEvent) -> Vec<Job> {
        let action = Key::from_event(&key).and_then(|k| self.shared.keymap.action(&k));
        match overlay {
            Overlay::Note(mut note) => match note.on_key(key) {
                NoteKey::Typing => self.overlay = Some(Overlay::Note(note)),
                NoteKey::Cancel => {}
                NoteKey::Save(text) if text.is_empty() => {}
                NoteKey::Save(text) => self.add_note(text),
            },
            Overlay::ConfirmQuit => match quit::on_key(key, action) {
                quit::QuitKey::Quit => self.quit = true,
                quit::QuitKey::Export => self.overlay = Some(Overlay::Export(ExportState::Ready)),
                quit::QuitKey::Stay => {}
            },
            Overlay::Export(mut export) => {
                match export.on_action(action, &self.case, &self.export_dir, self.shared.now) {
                    ExportKey::Stay(jobs) => {
                        self.overlay = Some(Overlay::Export(export));
                        return jobs;
                    }
                    ExportKey::Close => {}
                }
            }
            Overlay::Viewer(mut v) => {
                if v.on_key(key, &self.shared.keymap) {
                    self.overlay = Some(Overlay::Viewer(v));
                }
            }
            Overlay::Help => {
                if !help::closes(action) {
                    self.overlay = Some(overlay);
                }
            }
        }
        Vec::new()
    }

    /// Files a note, saying where it was written: on the walk screen, the walk and the
    /// step under the cursor as they are now.
    fn add_note(&mut self, text: String) {
        let walk = self.walk.as_ref().filter(|_| self.screen == Screen::Walk);
        self.case.notes.push(Note {
            at: self.shared.now,
            text,
            walk: walk.map(WalkScreen::key),
            context: walk.map_or_else(|| "home".to_string(), WalkScreen::note_context),
        });
        self.flash = Some(format!(
            "note {} added · {} exports it with the walks in an evidence bundle",
            self.case.notes.len(),
            self.shared.keymap.label(Action::Export)
        ));
    }
}
