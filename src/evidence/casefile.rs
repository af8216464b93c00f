//! The case file: every walk of an investigation as it was last left, and the engineer's
//! notes. The interface fills one as the engineer works and `ktriage bundle` fills one
//! headless; an evidence bundle is written from it, so both write the same thing.
//!
//! Names, one per thing a walk is: [`WalkRecord`] is what the engine made of one walk;
//! [`CaseWalk`] is a walk in the case file (the record, and the answers and target it
//! was walked with); the interface's walk screen is `tui::screens::walk::WalkScreen`;
//! `Job::Walk` asks for a walk and `Msg::Walked` answers, named as every job and its
//! answer are (`Triage`/`Triaged`, `Export`/`Exported`).

use crate::runbook::record::WalkRecord;
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

#[derive(Clone, Debug, Default)]
pub struct Casefile {
    /// One per runbook and target, in the order first walked.
    pub walks: Vec<CaseWalk>,
    pub notes: Vec<Note>,
    /// Notes already in a bundle written this session (the first so many).
    pub exported: usize,
}

/// A walk as it was last left: what a bundle writes of it.
#[derive(Clone, Debug)]
pub struct CaseWalk {
    pub runbook: String,
    pub target: Option<String>,
    /// Step (`runbook/step`) → choice, as given.
    pub answers: BTreeMap<String, String>,
    pub record: WalkRecord,
}

#[derive(Clone, Debug)]
pub struct Note {
    pub at: DateTime<Utc>,
    pub text: String,
    /// The walk (runbook, target) it was written in; `None` outside a walk.
    pub walk: Option<(String, Option<String>)>,
    /// Where it was written: `runbook target · step` in a walk, `home` outside one.
    pub context: String,
}

impl Casefile {
    /// Files a walk as it now stands, in place of the last one on the same runbook and
    /// target: walking again (or answering differently) revises the case, it does not
    /// add to it.
    pub fn file(&mut self, walk: CaseWalk) {
        match self
            .walks
            .iter_mut()
            .find(|w| w.runbook == walk.runbook && w.target == walk.target)
        {
            Some(w) => *w = walk,
            None => self.walks.push(walk),
        }
    }

    /// Notes that no bundle written this session holds: quitting would lose them.
    pub fn unexported(&self) -> usize {
        self.notes.len().saturating_sub(self.exported)
    }
}

impl Note {
    /// What a bundle says the note was written on: only a walk is worth naming.
    pub fn written_on(&self) -> Option<&str> {
        self.walk.as_ref().map(|_| self.context.as_str())
    }
}
