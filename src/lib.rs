//! ktriage: runbook decision trees over live or captured Kubernetes and EKS state.

pub mod cli;
pub mod clock;
pub mod cmd;
pub mod config;
pub mod demo;
pub mod drive;
pub mod evidence;
pub mod facts;
pub mod fuzz;
pub mod logging;
pub mod panics;
pub mod runbook;
pub mod serve;
pub mod source;
pub mod suggest;
pub mod text;
pub mod tui;
