//! What ktriage hands to people: reports, and evidence bundles for postmortems.

pub mod archive;
pub mod bundle;
pub mod casefile;
pub mod export;
pub mod redact;
pub mod report;
