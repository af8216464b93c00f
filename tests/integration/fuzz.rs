//! The fuzz targets on stable: every committed corpus input (fuzz/corpus/TARGET/), then
//! a bounded number of deterministic mutations of each (bit flips, byte insertions and
//! deletions, repeats, splices with another input of the target, truncations), through
//! the same `ktriage::fuzz` functions cargo-fuzz drives on nightly. An input that panics,
//! or is still running when the guard runs out, fails the test and is written to
//! fuzz/artifacts/TARGET/, where `cargo +nightly fuzz run TARGET FILE` reproduces it.
//! `KTRIAGE_FUZZ_MUTATIONS` sets the mutations per corpus input (default 40).

use crate::common::root;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

/// Generous for a debug build on a loaded machine: a guard against hangs, not a timing.
const GUARD: Duration = Duration::from_secs(300);

fn corpus(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = root().join("fuzz/corpus").join(target);
    let mut inputs: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&p).unwrap())
        })
        .collect();
    inputs.sort();
    inputs
}

/// xorshift64*: the same mutations on every run and machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

/// Bytes that mean something to the readers: structure, escapes, controls, and the
/// first bytes of gzip and of multi-byte UTF-8.
const INTERESTING: &[&[u8]] = &[
    b"{",
    b"}",
    b"[",
    b"]",
    b":",
    b"\n- ",
    b"\n---\n",
    b"&a ",
    b"*a",
    b"\"",
    b"\\u202e",
    b"\x1b[2J",
    b"\x00",
    b"\xff",
    b"\xe2\x80\xae",
    b"\x1f\x8b",
    b"9999999999999999999",
    b"-1",
    b"${",
    b"%",
    b"?",
    b"&",
    b"=",
    b",",
    b"!",
];

fn mutate(rng: &mut Rng, input: &[u8], others: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut out = input.to_vec();
    for _ in 0..=rng.below(4) {
        let at = rng.below(out.len() + 1);
        match rng.below(7) {
            0 if !out.is_empty() => {
                let i = rng.below(out.len());
                out[i] ^= 1 << rng.below(8);
            }
            1 => {
                let token = INTERESTING[rng.below(INTERESTING.len())];
                out.splice(at..at, token.iter().copied());
            }
            2 if !out.is_empty() => {
                let end = (at + rng.below(16)).min(out.len());
                out.drain(at.min(end)..end);
            }
            3 if !out.is_empty() => {
                // Repeat a slice: nesting and size, where quadratic code shows.
                let start = rng.below(out.len());
                let end = (start + 1 + rng.below(32)).min(out.len());
                let piece = out[start..end].to_vec();
                for _ in 0..rng.below(64) {
                    out.splice(at..at, piece.iter().copied());
                }
            }
            4 if !others.is_empty() => {
                let (_, other) = &others[rng.below(others.len())];
                let from = rng.below(other.len() + 1);
                out.truncate(at);
                out.extend_from_slice(&other[from..]);
            }
            5 => out.truncate(at),
            _ => {
                let i = rng.below(out.len() + 1);
                out.insert(i, rng.next() as u8);
            }
        }
    }
    out
}

fn artifact(target: &str, input: &[u8]) -> PathBuf {
    let dir = root().join("fuzz/artifacts").join(target);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!(
        "crash-{}",
        ktriage::evidence::archive::sha256_hex(input)
    ));
    std::fs::write(&path, input).unwrap();
    path
}

fn run(target: &str) {
    let (_, function) = ktriage::fuzz::TARGETS
        .iter()
        .find(|(name, _)| *name == target)
        .unwrap_or_else(|| panic!("no fuzz target {target}"));
    let function = *function;
    let inputs = corpus(target);
    assert!(!inputs.is_empty(), "fuzz/corpus/{target} is empty");
    let mutations: usize = std::env::var("KTRIAGE_FUZZ_MUTATIONS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(40);
    let current = Arc::new(Mutex::new(Vec::new()));
    let (done, finished) = mpsc::channel();
    let worker = {
        let current = current.clone();
        let inputs = inputs.clone();
        let target = target.to_string();
        std::thread::Builder::new()
            .stack_size(64 << 20)
            .spawn(move || {
                let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ target.len() as u64);
                let mut ran = 0usize;
                for (name, input) in &inputs {
                    let mut batch = vec![input.clone()];
                    batch.extend((0..mutations).map(|_| mutate(&mut rng, input, &inputs)));
                    for (i, data) in batch.into_iter().enumerate() {
                        *current.lock().unwrap() = data.clone();
                        let outcome =
                            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                                function(&data)
                            }));
                        if let Err(panic) = outcome {
                            let why = panic
                                .downcast_ref::<String>()
                                .cloned()
                                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                                .unwrap_or_default();
                            let _ = done.send(Err(format!(
                                "{name}, mutation {i}: {why}\n  input: {}",
                                artifact(&target, &data).display()
                            )));
                            return;
                        }
                        ran += 1;
                    }
                }
                let _ = done.send(Ok(ran));
            })
            .unwrap()
    };
    match finished.recv_timeout(GUARD) {
        Ok(Ok(ran)) => {
            assert_eq!(ran, inputs.len() * (mutations + 1));
            worker.join().unwrap();
            eprintln!("fuzz {target}: {ran} inputs clean");
        }
        Ok(Err(failure)) => panic!("fuzz {target}: {failure}"),
        Err(_) => {
            let input = current.lock().unwrap().clone();
            panic!(
                "fuzz {target}: an input ran past {GUARD:?}\n  input: {}",
                artifact(target, &input).display()
            );
        }
    }
}

#[test]
fn snapshot_reader() {
    run("snapshot");
}

#[test]
fn archive_reader() {
    run("archive");
}

#[test]
fn runbook_loader() {
    run("runbook");
}

#[test]
fn cel_evaluation() {
    run("cel");
}

#[test]
fn serve_request_parsing() {
    run("request");
}

#[test]
fn redactor() {
    run("redact");
}

#[test]
fn every_target_has_a_corpus_and_a_cargo_fuzz_binary() {
    let manifest = std::fs::read_to_string(root().join("fuzz/Cargo.toml")).unwrap();
    for (name, _) in ktriage::fuzz::TARGETS {
        assert!(
            manifest.contains(&format!("name = \"{name}\"")),
            "fuzz/Cargo.toml has no [[bin]] {name}"
        );
        assert!(
            Path::new(&root().join("fuzz/fuzz_targets").join(format!("{name}.rs"))).is_file(),
            "fuzz/fuzz_targets/{name}.rs is missing"
        );
        assert!(!corpus(name).is_empty(), "fuzz/corpus/{name} is empty");
    }
}
