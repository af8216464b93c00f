//! What every part of the interface reads and none owns: the keys, the runbooks, where
//! the data comes from, the clock and the terminal's size. The app keeps it and lends it
//! to the part it routes to; a part never changes it.

use super::keymap::Keymap;
use crate::runbook::Catalog;
use chrono::{DateTime, Utc};
use std::sync::Arc;

pub struct Shared {
    pub keymap: Keymap,
    pub catalog: Arc<Catalog>,
    pub source: SourceSummary,
    pub now: DateTime<Utc>,
    /// Terminal size, for page-wise scrolling.
    pub viewport: (u16, u16),
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
