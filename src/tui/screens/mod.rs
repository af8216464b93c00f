//! The screens, one at a time under the header: home, the runbook picker, the target
//! picker and the walk. Each holds its own state, makes what it can of a key, and draws
//! itself; what leaves the screen (another screen, a new walk, an overlay) it asks of
//! the app as a [`Step`], since the app owns which screen is shown.

pub mod home;
pub mod list;
pub mod runbooks;
pub mod targets;
pub mod walk;

use super::msg::Job;
use super::overlays::viewer::Viewer;

/// What a screen asks of the app after a key.
pub enum Step {
    /// Nothing more: the screen did what the key asked, or nothing.
    Stay,
    /// Work for the runner.
    Jobs(Vec<Job>),
    Home,
    /// The runbook picker: typing a fresh filter, or as it was left with the cursor on
    /// `select`.
    Runbooks {
        filtering: bool,
        select: Option<String>,
    },
    /// Back from the target picker to the runbook picker as it was left.
    BackToRunbooks,
    /// The target picker for this runbook.
    Targets(String),
    /// A new walk; `trail` holds the walks it follows from.
    Walk {
        runbook: String,
        target: Option<String>,
        trail: Vec<String>,
    },
    /// The walk again: with the answers as they now stand, or on a fresh round. `flash`
    /// says what changed.
    Rewalk {
        fresh: bool,
        flash: Option<String>,
    },
    /// Something to read in the viewer.
    View(Viewer),
}
