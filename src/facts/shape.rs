//! The shapes runbooks read, made from raw answers: events of both APIs in one form,
//! logs as lines. Pure, so live and snapshot sources give runbooks identical facts.

use super::field::text;
use serde_json::{Map, Value, json};

/// Events from `v1` and `events.k8s.io/v1` in the core/v1 shape, the same event seen
/// through both APIs counted once, newest first. `lastTimestamp` is always filled
/// (from `eventTime` or the series when the event API left it empty).
pub fn normalize_events(raw: &[Value]) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for ev in raw {
        let core = if ev.get("apiVersion").and_then(Value::as_str) == Some("events.k8s.io/v1") {
            from_events_api(ev)
        } else {
            let mut ev = ev.clone();
            if let Some(obj) = ev.as_object_mut() {
                let last = newest_time(obj);
                obj.insert(
                    "lastTimestamp".into(),
                    last.map_or(Value::Null, Value::String),
                );
                if obj.get("count").is_none_or(Value::is_null) {
                    // A core event in series form keeps its count in the series.
                    let count = obj
                        .get("series")
                        .and_then(|s| s.get("count"))
                        .filter(|c| c.is_u64())
                        .cloned()
                        .unwrap_or(json!(1));
                    obj.insert("count".into(), count);
                }
            }
            ev
        };
        let key = (
            text(&core, &["metadata", "namespace"]).to_string(),
            text(&core, &["metadata", "name"]).to_string(),
        );
        if seen.insert(key) {
            out.push(core);
        }
    }
    out.sort_by(|a, b| {
        text(b, &["lastTimestamp"])
            .cmp(text(a, &["lastTimestamp"]))
            .then_with(|| text(a, &["metadata", "name"]).cmp(text(b, &["metadata", "name"])))
    });
    out
}

/// An `events.k8s.io/v1` event in the core/v1 shape (what the API server shows of it
/// through `/api/v1/events`).
pub fn from_events_api(ev: &Value) -> Value {
    let get = |k: &str| ev.get(k).cloned().unwrap_or(Value::Null);
    let series_count = ev.pointer("/series/count").cloned();
    let mut obj = Map::new();
    obj.insert("apiVersion".into(), json!("v1"));
    obj.insert("kind".into(), json!("Event"));
    obj.insert("metadata".into(), get("metadata"));
    obj.insert("involvedObject".into(), get("regarding"));
    obj.insert("reason".into(), get("reason"));
    obj.insert("message".into(), get("note"));
    obj.insert("type".into(), get("type"));
    obj.insert(
        "count".into(),
        series_count
            .or_else(|| ev.get("deprecatedCount").cloned())
            .unwrap_or(json!(1)),
    );
    obj.insert(
        "firstTimestamp".into(),
        ev.get("deprecatedFirstTimestamp")
            .cloned()
            .unwrap_or_else(|| get("eventTime")),
    );
    obj.insert("reportingComponent".into(), get("reportingController"));
    // Only the events API says what was done and to whom (a preemption names its
    // preemptor here): kept so runbooks can read it whichever API the event came from.
    for key in ["action", "related", "reportingInstance"] {
        if let Some(v) = ev.get(key).filter(|v| !v.is_null()) {
            obj.insert(key.into(), v.clone());
        }
    }
    obj.insert(
        "source".into(),
        ev.get("deprecatedSource")
            .cloned()
            .unwrap_or_else(|| json!({"component": get("reportingController")})),
    );
    let mut shaped = Value::Object(obj);
    let last = ev
        .pointer("/series/lastObservedTime")
        .and_then(Value::as_str)
        .or_else(|| ev.get("deprecatedLastTimestamp").and_then(Value::as_str))
        .or_else(|| ev.get("eventTime").and_then(Value::as_str))
        .map(normalize_time);
    if let Some(o) = shaped.as_object_mut() {
        o.insert(
            "lastTimestamp".into(),
            last.map_or(Value::Null, Value::String),
        );
    }
    shaped
}

fn newest_time(obj: &Map<String, Value>) -> Option<String> {
    ["lastTimestamp", "eventTime", "firstTimestamp"]
        .iter()
        .filter_map(|k| obj.get(*k).and_then(Value::as_str))
        .chain(
            obj.get("series")
                .and_then(|s| s.get("lastObservedTime"))
                .and_then(Value::as_str),
        )
        .map(normalize_time)
        .max()
}

/// Micro-second event times (`2026-11-20T03:11:44.123456Z`) compare as text with
/// second-precision ones only once both are cut to seconds.
fn normalize_time(t: &str) -> String {
    match chrono::DateTime::parse_from_rfc3339(t) {
        Ok(dt) => dt
            .with_timezone(&chrono::Utc)
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        Err(_) => t.to_string(),
    }
}

/// Log text as lines: `{namespace, pod, container, previous, time, text}`; a line that
/// starts with an RFC 3339 timestamp and a space carries it in `time`.
pub fn log_lines(
    namespace: &str,
    pod: &str,
    container: &str,
    previous: bool,
    text: &str,
) -> Vec<Value> {
    text.lines()
        .filter(|l| !l.is_empty())
        .map(|line| {
            let (time, rest) = split_timestamp(line);
            json!({
                "namespace": namespace,
                "pod": pod,
                "container": container,
                "previous": previous,
                "time": time,
                "text": rest,
            })
        })
        .collect()
}

pub fn split_timestamp(line: &str) -> (Option<String>, &str) {
    if let Some((head, rest)) = line.split_once(' ')
        && head.len() >= 20
        && head.as_bytes()[4] == b'-'
        && let Ok(dt) = chrono::DateTime::parse_from_rfc3339(head)
    {
        let t = dt
            .with_timezone(&chrono::Utc)
            .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true);
        return (Some(t), rest);
    }
    (None, line)
}

/// CloudWatch events with a readable `time` beside the epoch milliseconds.
pub fn log_events(raw: &[Value]) -> Vec<Value> {
    raw.iter()
        .map(|e| {
            let mut e = e.clone();
            let time = e
                .get("timestamp")
                .and_then(Value::as_i64)
                .and_then(chrono::DateTime::from_timestamp_millis)
                .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
            if let (Some(obj), Some(t)) = (e.as_object_mut(), time) {
                obj.insert("time".into(), Value::String(t));
            }
            e
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_event_apis_become_one_shape_newest_first() {
        let core = json!({"apiVersion": "v1", "kind": "Event", "metadata": {"name": "a.1", "namespace": "shop"},
            "reason": "ProvisioningFailed", "message": "old", "type": "Warning", "count": 3,
            "lastTimestamp": "2026-11-20T02:00:00Z", "involvedObject": {"kind": "PersistentVolumeClaim", "name": "a"}});
        let new_api = json!({"apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": {"name": "a.2", "namespace": "shop"},
            "reason": "ProvisioningFailed", "note": "new", "type": "Warning", "eventTime": "2026-11-20T03:00:00.123456Z",
            "series": {"count": 4, "lastObservedTime": "2026-11-20T03:05:00.000001Z"},
            "regarding": {"kind": "PersistentVolumeClaim", "name": "a"}, "reportingController": "ebs.csi.aws.com",
            "action": "Provisioning", "related": {"kind": "Pod", "name": "web-0", "uid": "p1"}});
        let same_as_core = json!({"apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": {"name": "a.1", "namespace": "shop"}, "note": "old"});
        let core_series = json!({"apiVersion": "v1", "kind": "Event", "metadata": {"name": "s.1", "namespace": "shop"},
            "reason": "FailedScheduling", "count": null, "series": {"count": 9, "lastObservedTime": "2026-11-20T01:00:00.000000Z"},
            "eventTime": "2026-11-20T00:30:00.000000Z", "involvedObject": {"kind": "Pod", "name": "b"}});
        let out = normalize_events(&[core, new_api, same_as_core, core_series]);
        assert_eq!(out[2]["count"], 9, "a series keeps its count: {:#}", out[2]);
        assert_eq!(out.len(), 3, "the event seen through both APIs counts once");
        assert_eq!(out[0]["message"], "new");
        assert_eq!(out[0]["count"], 4);
        assert_eq!(out[0]["lastTimestamp"], "2026-11-20T03:05:00Z");
        assert_eq!(out[0]["involvedObject"]["name"], "a");
        assert_eq!(out[0]["related"]["uid"], "p1", "who it was done to is kept");
        assert_eq!(out[0]["action"], "Provisioning");
        assert_eq!(out[1]["message"], "old");
        assert!(out[1].get("related").is_none());
    }

    #[test]
    fn log_lines_carry_their_timestamps() {
        let lines = log_lines(
            "kube-system",
            "p",
            "c",
            false,
            "2026-11-20T03:00:01.5Z E1120 failed\nplain line\n\n",
        );
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["time"], "2026-11-20T03:00:01.500Z");
        assert_eq!(lines[0]["text"], "E1120 failed");
        assert_eq!(lines[1]["time"], Value::Null);
        assert_eq!(lines[1]["text"], "plain line");
    }

    #[test]
    fn cloudwatch_events_get_a_readable_time() {
        let out = log_events(&[json!({"timestamp": 1795144184000i64, "message": "x"})]);
        assert_eq!(out[0]["time"], "2026-11-20T03:09:44Z");
    }
}
