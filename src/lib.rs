//! ktriage: runbook decision trees over live or captured Kubernetes and EKS state.

pub mod facts;
pub mod kinds;
pub mod runbook;
pub mod source;
