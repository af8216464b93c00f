//! ktriage's integration tests: one binary (one link, one process) with a module per
//! area, as bottom's and ripgrep's test suites are laid out. `cargo test --test
//! integration MODULE::` runs one area, e.g. `cargo test --test integration tui::`.

mod common;

mod aws_moto;
mod aws_sdk;
mod bundle;
mod cel_limits;
mod cli;
mod engine;
mod examples;
mod fuzz;
mod layers;
mod layouts;
mod live;
mod redaction;
mod round;
mod runbook_validation;
mod runbooks;
mod serve_kubectl;
mod snapshot_reader;
mod triage;
mod tui;
mod tui_tmux;
mod unobserved;
