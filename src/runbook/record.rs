//! The walk record: what a walk did and found. Views (text, JSON, Markdown, TUI,
//! bundles) read it and nothing else; `--output json` serialises it as a stable contract.

use crate::facts::{FactError, FactQuery};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Concluded,
    Inconclusive,
    NeedsInput,
}

#[derive(Debug, Clone, Serialize)]
pub struct WalkRecord {
    pub runbook: String,
    pub target: Option<String>,
    pub status: Status,
    pub conclusion: Option<ConclusionRecord>,
    pub path: Vec<StepRecord>,
    /// Facts that were unknown along the path, why, and what would resolve them.
    pub missing: Vec<Missing>,
    pub question: Option<Question>,
    /// Every fact the walk read, in order of first use: the evidence it rests on.
    pub facts: Vec<FactUse>,
    /// Filled by the driver (the engine has no clock).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timing: Option<Timing>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Timing {
    pub started_at: String,
    pub finished_at: String,
    /// Fetch rounds the walk needed (lazy facts arrive in waves).
    pub rounds: usize,
    pub queries: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct ConclusionRecord {
    /// The conclusion's id in its runbook.
    pub id: String,
    pub code: String,
    pub severity: String,
    pub title: String,
    pub summary: String,
    pub remediation: Vec<String>,
    pub evidence: Vec<EvidenceRecord>,
    pub commands: Vec<CommandRecord>,
    pub references: Vec<String>,
    /// The runbook that concluded (differs from the walk's after a hand-over).
    pub runbook: String,
    pub follow_up: Option<FollowUp>,
}

#[derive(Debug, Clone, Serialize)]
pub struct EvidenceRecord {
    pub label: String,
    pub quotes: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CommandRecord {
    pub run: String,
    pub description: Option<String>,
    /// A fix that changes the cluster or AWS, as opposed to a read-only check.
    pub changes: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct FollowUp {
    pub runbook: String,
    pub target: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    True,
    False,
    Unknown,
    Matched,
    Default,
    Answered,
    AwaitingAnswer,
    Handover,
}

impl Outcome {
    /// The symbol a view shows; meaning never rides on colour alone.
    pub fn symbol(self) -> &'static str {
        match self {
            Outcome::True | Outcome::Matched => "✓",
            Outcome::False | Outcome::Default => "✗",
            Outcome::Unknown => "?",
            Outcome::Answered => "»",
            Outcome::AwaitingAnswer => "…",
            Outcome::Handover => "→",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct StepRecord {
    pub runbook: String,
    pub step: String,
    pub title: String,
    pub kind: String,
    pub outcome: Outcome,
    pub reason: String,
    /// Where the walk went next (a step or conclusion id).
    pub next: Option<String>,
    /// Facts this step read.
    pub facts: Vec<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Missing {
    pub fact: String,
    pub query: String,
    pub reason: String,
    pub hint: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Question {
    pub runbook: String,
    pub step: String,
    pub prompt: String,
    pub command: Option<String>,
    pub look_for: Option<String>,
    pub choices: Vec<ChoiceRecord>,
    /// Set when an answer was given but is not one of the choices.
    pub rejected_answer: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ChoiceRecord {
    pub id: String,
    pub label: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct FactUse {
    pub runbook: String,
    pub name: String,
    pub description: Option<String>,
    /// The kubectl / aws commands that show the same data.
    pub commands: Vec<String>,
    pub queries: Vec<FactQuery>,
    /// Queries that failed (the fact is unknown if all did).
    pub errors: Vec<FactError>,
}

/// What a walk or a triage found, least serious first: several combine as the most
/// serious (`max`), so a run of many walks ends with the worst one's exit code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verdict {
    Clean,
    Inconclusive,
    Warning,
    Critical,
}

impl Verdict {
    /// Exit code of DESIGN.md: 0 nothing wrong, 3 critical, 4 warning, 5 inconclusive.
    pub fn code(self) -> i32 {
        match self {
            Verdict::Clean => 0,
            Verdict::Critical => 3,
            Verdict::Warning => 4,
            Verdict::Inconclusive => 5,
        }
    }
}

impl WalkRecord {
    pub fn verdict(&self) -> Verdict {
        match (&self.status, &self.conclusion) {
            (Status::Concluded, Some(c)) => match c.severity.as_str() {
                "critical" => Verdict::Critical,
                "warning" => Verdict::Warning,
                _ => Verdict::Clean,
            },
            _ => Verdict::Inconclusive,
        }
    }
}
