//! Snapshot reader (in progress).
