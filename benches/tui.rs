//! How long the interface takes to answer a key: `App::update` plus a full draw, per
//! screen of the demo cluster, at 80×24 and 120×40, on ratatui's TestBackend (the cost
//! of ktriage's own work; the terminal's write is on top). Fetching never happens in
//! this path — jobs run off the loop — so this is the whole of a key's latency.
//!
//! `cargo bench --bench tui`. Figures go in the README with the machine; nothing here
//! asserts a time.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ktriage::drive::RoundState;
use ktriage::facts::Source;
use ktriage::runbook::Catalog;
use ktriage::tui::app::App;
use ktriage::tui::jobs::{self, Context};
use ktriage::tui::keymap::Keymap;
use ktriage::tui::msg::{Job, Msg};
use ktriage::tui::{summary_of, theme, view};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::sync::Arc;
use std::time::Instant;

async fn settle(app: &mut App, ctx: &Context, round: &RoundState, mut jobs: Vec<Job>) {
    while let Some(job) = jobs.pop() {
        let msg = jobs::execute(job, ctx, round).await;
        jobs.extend(app.update(msg));
    }
}

fn key(code: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

fn main() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let source: Arc<dyn Source> = Arc::new(ktriage::demo::snapshot().unwrap());
    let catalog = Arc::new(Catalog::builtin());
    let ctx = Context {
        source: source.clone(),
        catalog: catalog.clone(),
        state_from_round: true,
        rules: std::sync::Arc::new(ktriage::evidence::redact::RuleSet::builtin()),
    };
    let round = RoundState::new(&*source, source.info().now);
    let theme = theme::select(
        theme::Choice::Named("default"),
        &ktriage::config::Settings::builtin(),
    )
    .unwrap();
    let mut app = App::new(
        Keymap::default(),
        catalog,
        summary_of(&*source),
        source.info().now,
    );
    let start = app.start();
    rt.block_on(settle(&mut app, &ctx, &round, start));
    // Walk the top suggestion so the walk screen has a record to draw.
    let mut screens: Vec<(&str, Vec<Msg>)> = vec![("home", vec![])];
    screens.push(("walk", vec![key(KeyCode::Enter)]));
    screens.push(("evidence", vec![key(KeyCode::Tab), key(KeyCode::Tab)]));
    for (name, setup) in screens {
        for m in setup {
            let jobs = app.update(m);
            rt.block_on(settle(&mut app, &ctx, &round, jobs));
        }
        for (w, h) in [(80u16, 24u16), (120, 40)] {
            let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
            let n = 2000;
            let mut samples = Vec::with_capacity(n);
            for i in 0..n {
                let t = Instant::now();
                // Down then Up: the screen changes and comes back, as scrolling does.
                let code = if i % 2 == 0 {
                    KeyCode::Down
                } else {
                    KeyCode::Up
                };
                let jobs = app.update(key(code));
                assert!(jobs.is_empty(), "moving never starts work");
                term.draw(|f| view::draw(f, &app, &theme)).unwrap();
                samples.push(t.elapsed());
            }
            samples.sort();
            let p = |q: f64| samples[((n as f64 * q) as usize).min(n - 1)];
            println!(
                "{name:<9} {w}×{h}: key + draw median {:>7.1?}  p99 {:>7.1?}  max {:>7.1?}",
                p(0.5),
                p(0.99),
                samples[n - 1]
            );
        }
    }
}
