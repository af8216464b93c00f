//! What ktriage hands to people: reports now; evidence bundles build on them.

pub mod report;
