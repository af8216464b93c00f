//! Finding a secret in what a bundle holds, in any form a reader could get it back from:
//! as it is, behind JSON string escapes (up to three levels), and base64-encoded (at any
//! alignment, standard or URL-safe, nested twice). Written apart from the redactor on
//! purpose: it is the check, not the thing checked.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE};
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use regex::Regex;
use std::sync::LazyLock;

static RUN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[A-Za-z0-9+/_=-]{8,}(?:\r?\n[A-Za-z0-9+/_=-]{4,})*").unwrap());

const LENIENT: GeneralPurposeConfig = GeneralPurposeConfig::new()
    .with_decode_padding_mode(DecodePaddingMode::Indifferent)
    .with_decode_allow_trailing_bits(true);

/// Whether `text` gives `secret` back in any form.
pub fn reveals(text: &str, secret: &str) -> bool {
    let encoded = base64_forms(secret);
    forms(text)
        .iter()
        .any(|f| f.contains(secret) || encoded.iter().any(|e| f.contains(e.as_str())))
}

/// `text`, its JSON-unescaped forms, and the text of every base64 run in those (twice over).
pub fn forms(text: &str) -> Vec<String> {
    let mut out = vec![text.to_string()];
    for _ in 0..3 {
        let last = out.last().unwrap();
        let next = unescape(last);
        if next == *last {
            break;
        }
        out.push(next);
    }
    let mut decoded: Vec<String> = Vec::new();
    let mut layer = out.clone();
    for _ in 0..2 {
        let mut next = Vec::new();
        for f in &layer {
            for run in RUN.find_iter(f) {
                let compact: String = run.as_str().split_whitespace().collect();
                let trimmed = compact.trim_end_matches('=');
                for engine in [&base64::alphabet::STANDARD, &base64::alphabet::URL_SAFE] {
                    // Every start, so a run that begins before the base64 does still decodes.
                    for skip in 0..4.min(trimmed.len()) {
                        if let Ok(bytes) =
                            GeneralPurpose::new(engine, LENIENT).decode(&trimmed[skip..])
                        {
                            let text = String::from_utf8_lossy(&bytes).into_owned();
                            next.push(unescape(&text));
                            next.push(text);
                        }
                    }
                }
            }
        }
        decoded.extend(next.iter().cloned());
        layer = next;
    }
    out.extend(decoded);
    out
}

/// The part of `secret`'s base64 that does not depend on what surrounds it, at each of the
/// three alignments it can start at, in both alphabets.
pub fn base64_forms(secret: &str) -> Vec<String> {
    let mut out = Vec::new();
    for pad in 0..3usize {
        let mut bytes = vec![b'A'; pad];
        bytes.extend_from_slice(secret.as_bytes());
        for engine in [&STANDARD, &URL_SAFE] {
            let full = engine.encode(&bytes);
            let full = full.trim_end_matches('=');
            let start = if pad == 0 { 0 } else { 4 };
            let end = if bytes.len() % 3 == 0 {
                full.len()
            } else {
                full.len().saturating_sub(4)
            };
            if end > start + 8 {
                out.push(full[start..end].to_string());
            }
        }
    }
    out
}

/// One level of JSON string escapes decoded (`\"`, `\\`, `\/`, `\n`, `\t`, `\r`, `\uXXXX`).
pub fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.peek().copied() {
            Some('"') | Some('\\') | Some('/') => out.push(chars.next().unwrap()),
            Some('n') => {
                chars.next();
                out.push('\n');
            }
            Some('t') => {
                chars.next();
                out.push('\t');
            }
            Some('r') => {
                chars.next();
                out.push('\r');
            }
            Some('u') => {
                let hex: String = chars.clone().skip(1).take(4).collect();
                match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                    Some(decoded) if hex.len() == 4 => {
                        for _ in 0..5 {
                            chars.next();
                        }
                        out.push(decoded);
                    }
                    _ => out.push(c),
                }
            }
            _ => out.push(c),
        }
    }
    out
}
