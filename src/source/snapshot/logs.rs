//! Container logs, exactly as captured: one text per (namespace, pod, container,
//! previous), from native `logs/` files, a dump's per-pod `logs.txt`, or a bundle.

use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct LogKey {
    pub namespace: String,
    pub pod: String,
    pub container: String,
    pub previous: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum LogEntry {
    Text(Box<str>),
    /// The collector tried and failed; its message explains the absence.
    Failed(Box<str>),
}

#[derive(Debug, Default)]
pub(crate) struct LogStore {
    entries: BTreeMap<LogKey, (LogEntry, String)>,
}

impl LogStore {
    /// Adds a log; on a duplicate, keeps the first and returns its file.
    pub(crate) fn insert(
        &mut self,
        key: LogKey,
        entry: LogEntry,
        file: &str,
    ) -> Result<(), String> {
        match self.entries.get(&key) {
            Some((_, first)) => Err(first.clone()),
            None => {
                self.entries.insert(key, (entry, file.to_string()));
                Ok(())
            }
        }
    }

    pub(crate) fn get(&self, key: &LogKey) -> Option<&LogEntry> {
        self.entries.get(key).map(|(e, _)| e)
    }

    /// The newest line timestamp over all logs.
    pub(crate) fn newest_timestamp(&self) -> Option<DateTime<Utc>> {
        self.entries
            .values()
            .filter_map(|(e, _)| match e {
                LogEntry::Text(t) => last_timestamp(t),
                LogEntry::Failed(_) => None,
            })
            .max()
    }
}

/// The timestamp a line carries: an RFC 3339 time and a space at its start, as
/// `kubectl logs --timestamps` prints.
pub(crate) fn line_timestamp(line: &str) -> Option<DateTime<Utc>> {
    let (first, _) = line.split_once(' ')?;
    DateTime::parse_from_rfc3339(first)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// Logs run oldest to newest, so the last stamped line is the newest.
fn last_timestamp(text: &str) -> Option<DateTime<Utc>> {
    text.lines().rev().find_map(line_timestamp)
}

/// The last `n` lines, as `kubectl logs --tail=n` prints them.
pub(crate) fn tail(text: &str, n: u32) -> &str {
    if n == 0 {
        return "";
    }
    let body = text.strip_suffix('\n').unwrap_or(text);
    let mut seen = 0;
    for (i, b) in body.bytes().enumerate().rev() {
        if b == b'\n' {
            seen += 1;
            if seen == n {
                return &text[i + 1..];
            }
        }
    }
    text
}

/// One container's section of a dump's `logs.txt`.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct DumpSection<'a> {
    pub namespace: &'a str,
    pub pod: &'a str,
    pub container: &'a str,
    pub entry: Result<&'a str, &'a str>,
}

const START: &str = "==== START logs for container ";

/// Splits `kubectl cluster-info dump`'s `logs.txt`: each container (init containers
/// too) between `==== START logs for container C of pod NS/P ====` and the matching
/// END line. kubectl writes the END marker right after the log bytes, so it ends the
/// last line when the log lacks a final newline; in place of a log it may have written
/// `Request log error: …`, which is kept as the reason there is none.
pub(crate) fn split_dump_logs(text: &str) -> Vec<DumpSection<'_>> {
    let mut sections = Vec::new();
    let mut pos = 0;
    while let Some(found) = find_line_start(text, pos, START) {
        let header_end = text[found..].find('\n').map_or(text.len(), |i| found + i);
        let header = &text[found + START.len()..header_end];
        let body_start = (header_end + 1).min(text.len());
        let Some((container, namespace, pod)) = parse_header(header) else {
            pos = body_start;
            continue;
        };
        let end_marker =
            format!("==== END logs for container {container} of pod {namespace}/{pod} ====");
        let (body, next) = match text[body_start..].find(&end_marker) {
            Some(i) => {
                let end = body_start + i;
                let after = text[end..].find('\n').map_or(text.len(), |j| end + j + 1);
                (&text[body_start..end], after)
            }
            None => (&text[body_start..], text.len()),
        };
        let failed = ["Create log request error: ", "Request log error: "]
            .iter()
            .any(|p| body.starts_with(p))
            && body.trim_end().lines().count() == 1;
        sections.push(DumpSection {
            namespace,
            pod,
            container,
            entry: if failed {
                Err(body.trim_end())
            } else {
                Ok(body)
            },
        });
        pos = next;
    }
    sections
}

fn find_line_start(text: &str, from: usize, needle: &str) -> Option<usize> {
    let mut pos = from;
    while let Some(i) = text.get(pos..)?.find(needle) {
        let at = pos + i;
        if at == 0 || text.as_bytes()[at - 1] == b'\n' {
            return Some(at);
        }
        pos = at + needle.len();
    }
    None
}

/// `C of pod NS/P ====` → (C, NS, P).
fn parse_header(header: &str) -> Option<(&str, &str, &str)> {
    let header = header.trim_end().strip_suffix(" ====")?;
    let (container, rest) = header.split_once(" of pod ")?;
    let (namespace, pod) = rest.split_once('/')?;
    Some((container, namespace, pod))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_counts_lines_like_kubectl() {
        assert_eq!(tail("a\nb\nc\n", 2), "b\nc\n");
        assert_eq!(tail("a\nb\nc", 2), "b\nc");
        assert_eq!(tail("a\nb\n", 5), "a\nb\n");
        assert_eq!(tail("a\nb\n", 0), "");
        assert_eq!(tail("", 3), "");
    }

    #[test]
    fn line_timestamps_need_rfc3339_and_a_space() {
        assert!(line_timestamp("2026-11-20T03:00:44.123456789Z level=error").is_some());
        assert!(line_timestamp("level=error 2026-11-20T03:00:44Z").is_none());
        assert!(line_timestamp("2026-11-20T03:00:44Z").is_none());
    }

    #[test]
    fn dump_logs_split_per_container_including_unterminated_lines() {
        let text = "==== START logs for container init of pod shop/web ====\n\
                    init done\n\
                    ==== END logs for container init of pod shop/web ====\n\
                    ==== START logs for container app of pod shop/web ====\n\
                    line 1\nline 2 without newline==== END logs for container app of pod shop/web ====\n\
                    ==== START logs for container side of pod shop/web ====\n\
                    Request log error: container \"side\" is waiting to start\n\
                    ==== END logs for container side of pod shop/web ====\n";
        let sections = split_dump_logs(text);
        let got: Vec<_> = sections.iter().map(|s| (s.container, s.entry)).collect();
        assert_eq!(
            got,
            [
                ("init", Ok("init done\n")),
                ("app", Ok("line 1\nline 2 without newline")),
                (
                    "side",
                    Err("Request log error: container \"side\" is waiting to start")
                ),
            ]
        );
        assert_eq!((sections[0].namespace, sections[0].pod), ("shop", "web"));
    }

    #[test]
    fn a_log_line_that_mentions_the_marker_is_not_a_marker() {
        let text = "==== START logs for container a of pod n/p ====\nsee ==== START logs for container b of pod n/p ====\n==== END logs for container a of pod n/p ====\n";
        let sections = split_dump_logs(text);
        assert_eq!(sections.len(), 1);
        assert_eq!(
            sections[0].entry,
            Ok("see ==== START logs for container b of pod n/p ====\n")
        );
    }
}
