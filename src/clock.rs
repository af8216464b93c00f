//! The wall clock, read in one place. Everything that judges an age on a live cluster
//! (or stamps when a walk ran) asks here, so a run can be moved in time as a whole.
//!
//! `KTRIAGE_CLOCK_OFFSET` (seconds, signed) shifts the clock, the way `faketime` would:
//! the test suite runs its live comparisons a year ahead with it to prove that every
//! judgement it compares is pinned with `--as-of` and none reads the real date.

use chrono::{DateTime, TimeDelta, Utc};
use std::sync::OnceLock;

/// Now, as this process sees it.
pub fn now() -> DateTime<Utc> {
    Utc::now() + offset()
}

fn offset() -> TimeDelta {
    static OFFSET: OnceLock<TimeDelta> = OnceLock::new();
    *OFFSET.get_or_init(|| {
        std::env::var("KTRIAGE_CLOCK_OFFSET")
            .ok()
            .and_then(|v| v.trim().parse::<i64>().ok())
            .and_then(TimeDelta::try_seconds)
            .unwrap_or_default()
    })
}
