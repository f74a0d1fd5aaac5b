//! Reading objects and formatting cells the way kube-apiserver's printers do.

use serde_json::{Map, Value};

use super::super::human_duration;

/// The string at `pointer`, or "" (Go's zero value) when absent or not a string.
pub fn text<'a>(o: &'a Value, pointer: &str) -> &'a str {
    o.pointer(pointer).and_then(Value::as_str).unwrap_or("")
}

/// The integer at `pointer`, or 0 when absent.
pub fn int(o: &Value, pointer: &str) -> i64 {
    o.pointer(pointer).and_then(Value::as_i64).unwrap_or(0)
}

/// The integer at `pointer` if set (an optional `*int32` upstream).
pub fn int_opt(o: &Value, pointer: &str) -> Option<i64> {
    o.pointer(pointer).and_then(Value::as_i64)
}

pub fn list<'a>(o: &'a Value, pointer: &str) -> &'a [Value] {
    o.pointer(pointer)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
}

pub fn map<'a>(o: &'a Value, pointer: &str) -> Option<&'a Map<String, Value>> {
    o.pointer(pointer).and_then(Value::as_object)
}

pub fn or_none(s: &str) -> String {
    if s.is_empty() {
        "<none>".into()
    } else {
        s.into()
    }
}

/// `translateTimestampSince`: the age of an RFC 3339 time, `<unknown>` when unset.
pub fn since(timestamp: &str) -> String {
    match timestamp.parse::<jiff::Timestamp>() {
        Ok(t) => human_duration(jiff::Timestamp::now().as_second() - t.as_second()),
        Err(_) => "<unknown>".into(),
    }
}

pub fn age(o: &Value) -> Value {
    Value::String(since(text(o, "/metadata/creationTimestamp")))
}

pub fn name(o: &Value) -> Value {
    Value::String(text(o, "/metadata/name").into())
}

pub fn deleting(o: &Value) -> bool {
    o.pointer("/metadata/deletionTimestamp")
        .is_some_and(|v| !v.is_null())
}

/// A JSON scalar as Go's `%v` prints it (strings bare).
pub fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// `labels.FormatLabels`: sorted `k=v` pairs, `<none>` when empty.
pub fn labels(m: Option<&Map<String, Value>>) -> String {
    let mut pairs: Vec<String> = m
        .into_iter()
        .flatten()
        .map(|(k, v)| format!("{k}={}", scalar(v)))
        .collect();
    pairs.sort();
    or_none(&pairs.join(","))
}

/// `metav1.FormatLabelSelector`: requirements sorted by key, `<none>` for an empty or missing
/// selector.
pub fn selector(s: Option<&Value>) -> String {
    let Some(s) = s else {
        return "<none>".into();
    };
    let mut requirements: Vec<(String, String)> = Vec::new();
    for (k, v) in map(s, "/matchLabels").into_iter().flatten() {
        requirements.push((k.clone(), format!("{k}={}", scalar(v))));
    }
    for e in list(s, "/matchExpressions") {
        let key = text(e, "/key");
        let mut values: Vec<String> = list(e, "/values").iter().map(scalar).collect();
        values.sort();
        let values = values.join(",");
        let r = match text(e, "/operator") {
            "In" => format!("{key} in ({values})"),
            "NotIn" => format!("{key} notin ({values})"),
            "Exists" => key.to_string(),
            "DoesNotExist" => format!("!{key}"),
            _ => return "<error>".into(),
        };
        requirements.push((key.to_string(), r));
    }
    requirements.sort();
    let joined: Vec<String> = requirements.into_iter().map(|(_, r)| r).collect();
    or_none(&joined.join(","))
}

/// The comma-joined names and images of a pod spec's containers (`layoutContainerCells`).
pub fn containers(o: &Value, pod_spec: &str) -> [Value; 2] {
    let cs = list(o, &format!("{pod_spec}/containers"));
    let names: Vec<&str> = cs.iter().map(|c| text(c, "/name")).collect();
    let images: Vec<&str> = cs.iter().map(|c| text(c, "/image")).collect();
    [
        Value::String(names.join(",")),
        Value::String(images.join(",")),
    ]
}

/// `loadBalancerStatusStringer`: ingress IPs and hostnames, shortened unless wide. The server
/// always prints wide tables, so only `kubectl` trims.
pub fn load_balancer(o: &Value, pointer: &str) -> String {
    let ingress: Vec<&str> = list(o, pointer)
        .iter()
        .filter_map(|i| {
            let ip = text(i, "/ip");
            let host = text(i, "/hostname");
            if !ip.is_empty() {
                Some(ip)
            } else if !host.is_empty() {
                Some(host)
            } else {
                None
            }
        })
        .collect();
    ingress.join(",")
}

/// `GetAccessModesAsString`: in upstream's fixed order.
pub fn access_modes(modes: &[Value]) -> String {
    let has = |m: &str| modes.iter().any(|v| v.as_str() == Some(m));
    [
        ("ReadWriteOnce", "RWO"),
        ("ReadOnlyMany", "ROX"),
        ("ReadWriteMany", "RWX"),
        ("ReadWriteOncePod", "RWOP"),
    ]
    .iter()
    .filter(|(m, _)| has(m))
    .map(|(_, short)| *short)
    .collect::<Vec<_>>()
    .join(",")
}

/// An IntOrString (`intstr.String()`), or `N/A` when unset.
pub fn int_or_string(o: &Value, pointer: &str) -> String {
    match o.pointer(pointer) {
        None | Some(Value::Null) => "N/A".into(),
        Some(v) => scalar(v),
    }
}

pub fn bool_word(b: bool) -> &'static str {
    if b { "True" } else { "False" }
}

/// Whether `conditions` hold one of `type_` with status True.
pub fn condition_true(conditions: &[Value], type_: &str) -> bool {
    conditions
        .iter()
        .any(|c| text(c, "/type") == type_ && text(c, "/status") == "True")
}

pub fn s(v: impl Into<String>) -> Value {
    Value::String(v.into())
}
