//! The FieldsV1 wire form of a [`Set`] (`metadata.managedFields[].fieldsV1`), encoded
//! byte-for-byte as kube-apiserver encodes it.
//!
//! Each node is a JSON object whose keys are serialized path elements (`f:name`,
//! `k:{"name":"x"}`, `v:<json>`, `i:<n>`) in smd's element order; a member with no children maps
//! to `{}`, and a member that also has children carries `".": {}` first among them.

use std::fmt::Write as _;

use serde_json::{Map, Value};

use super::{PathElement, Set};
use crate::value::{write_go_json, write_go_json_string};

/// Why a FieldsV1 document could not be decoded.
#[derive(Debug, thiserror::Error)]
pub enum FieldsV1Error {
    #[error("fieldsV1 is not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("fieldsV1 at `{path}`: expected an object, found {found}")]
    NotAnObject { path: String, found: &'static str },
    #[error("fieldsV1 at `{path}`: key {key:?} is not a path element: {reason}")]
    BadKey {
        path: String,
        key: String,
        reason: String,
    },
}

/// The serialized form of one path element, as a FieldsV1 object key.
pub fn serialize_path_element(pe: &PathElement) -> String {
    let mut out = String::new();
    match pe {
        PathElement::Field(name) => {
            out.push_str("f:");
            out.push_str(name);
        }
        PathElement::Key(fields) => {
            out.push_str("k:{");
            for (i, (name, v)) in fields.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_go_json_string(&mut out, name);
                out.push(':');
                write_go_json(&mut out, v);
            }
            out.push('}');
        }
        PathElement::Value(v) => {
            out.push_str("v:");
            write_go_json(&mut out, v);
        }
        PathElement::Index(i) => {
            let _ = write!(out, "i:{i}");
        }
    }
    out
}

/// Parses one FieldsV1 key. `Ok(None)` for an unknown one-letter prefix, which smd skips so that
/// newer element kinds do not break older readers.
pub fn deserialize_path_element(key: &str) -> Result<Option<PathElement>, String> {
    let bytes = key.as_bytes();
    if bytes.len() < 2 {
        return Err("a path element has at least two characters".to_owned());
    }
    if bytes[1] != b':' {
        return Err("missing `:` after the element kind".to_owned());
    }
    let rest = &key[2..];
    Ok(Some(match bytes[0] {
        b'f' => PathElement::field(rest),
        b'v' => PathElement::Value(
            serde_json::from_str(rest).map_err(|e| format!("invalid value JSON: {e}"))?,
        ),
        b'k' => {
            let fields: Map<String, Value> =
                serde_json::from_str(rest).map_err(|e| format!("invalid key JSON object: {e}"))?;
            PathElement::key(fields)
        }
        b'i' => PathElement::Index(
            rest.parse()
                .map_err(|e| format!("invalid list index {rest:?}: {e}"))?,
        ),
        _ => return Ok(None),
    }))
}

/// Kinds of entries of one node, merged in element order.
enum Entry<'a> {
    Member(&'a PathElement),
    Child(&'a PathElement, &'a Set),
    Both(&'a PathElement, &'a Set),
}

fn entries(set: &Set) -> Vec<Entry<'_>> {
    let members = set.members();
    let children = set.children();
    let mut out = Vec::with_capacity(members.len() + children.len());
    let (mut i, mut j) = (0, 0);
    while i < members.len() || j < children.len() {
        match (members.get(i), children.get(j)) {
            (Some(m), Some((c, s))) => match m.cmp(c) {
                std::cmp::Ordering::Less => {
                    out.push(Entry::Member(m));
                    i += 1;
                }
                std::cmp::Ordering::Greater => {
                    out.push(Entry::Child(c, s));
                    j += 1;
                }
                std::cmp::Ordering::Equal => {
                    out.push(Entry::Both(c, s));
                    i += 1;
                    j += 1;
                }
            },
            (Some(m), None) => {
                out.push(Entry::Member(m));
                i += 1;
            }
            (None, Some((c, s))) => {
                out.push(Entry::Child(c, s));
                j += 1;
            }
            (None, None) => break,
        }
    }
    out
}

impl Set {
    /// The FieldsV1 JSON text, byte-identical to kube-apiserver's.
    pub fn to_fields_v1_json(&self) -> String {
        let mut out = String::new();
        out.push('{');
        emit_json(self, false, &mut out);
        out.push('}');
        out
    }

    /// The FieldsV1 document as a JSON value (keys in wire order).
    pub fn to_fields_v1(&self) -> Value {
        Value::Object(emit_value(self, false))
    }

    /// Decodes a FieldsV1 document.
    pub fn from_fields_v1(v: &Value) -> Result<Set, FieldsV1Error> {
        let mut path = String::new();
        let (children, _) = read(v, &mut path)?;
        Ok(children.unwrap_or_default())
    }

    /// Decodes FieldsV1 JSON text.
    pub fn from_fields_v1_json(text: &str) -> Result<Set, FieldsV1Error> {
        Set::from_fields_v1(&serde_json::from_str(text)?)
    }
}

fn emit_json(set: &Set, include_self: bool, out: &mut String) {
    let mut first = true;
    let mut sep = |out: &mut String| {
        if !first {
            out.push(',');
        }
        first = false;
    };
    if include_self && !set.is_empty() {
        sep(out);
        out.push_str("\".\":{}");
    }
    for entry in entries(set) {
        sep(out);
        let (pe, child, self_member) = match entry {
            Entry::Member(pe) => (pe, None, false),
            Entry::Child(pe, s) => (pe, Some(s), false),
            Entry::Both(pe, s) => (pe, Some(s), true),
        };
        write_go_json_string(out, &serialize_path_element(pe));
        out.push_str(":{");
        if let Some(child) = child {
            emit_json(child, self_member, out);
        }
        out.push('}');
    }
}

fn emit_value(set: &Set, include_self: bool) -> Map<String, Value> {
    let mut out = Map::new();
    if include_self && !set.is_empty() {
        out.insert(".".to_owned(), Value::Object(Map::new()));
    }
    for entry in entries(set) {
        let (pe, inner) = match entry {
            Entry::Member(pe) => (pe, Map::new()),
            Entry::Child(pe, s) => (pe, emit_value(s, false)),
            Entry::Both(pe, s) => (pe, emit_value(s, true)),
        };
        out.insert(serialize_path_element(pe), Value::Object(inner));
    }
    out
}

/// Reads one node: its child set (None when it has no known entries) and whether `.` marked it.
fn read(v: &Value, path: &mut String) -> Result<(Option<Set>, bool), FieldsV1Error> {
    let Value::Object(map) = v else {
        return Err(FieldsV1Error::NotAnObject {
            path: path.clone(),
            found: crate::value::kind_of(v),
        });
    };
    let mut children: Option<Set> = None;
    let mut is_member = false;
    for (key, inner) in map {
        if key == "." {
            is_member = true;
            continue;
        }
        let pe = match deserialize_path_element(key) {
            Ok(Some(pe)) => pe,
            Ok(None) => continue,
            Err(reason) => {
                return Err(FieldsV1Error::BadKey {
                    path: path.clone(),
                    key: key.clone(),
                    reason,
                });
            }
        };
        let len = path.len();
        let _ = write!(path, "{pe}");
        let (grandchildren, child_is_member) = read(inner, path)?;
        path.truncate(len);
        let node = children.get_or_insert_with(Set::new);
        if child_is_member {
            node.insert_member(&pe);
        }
        if let Some(grandchildren) = grandchildren {
            *node.descend(&pe) = grandchildren;
        }
    }
    if children.is_none() {
        is_member = true;
    }
    Ok((children, is_member))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// managedFields entries returned by kube-apiserver (a Deployment applied server-side by a
    /// provider and updated by kube-controller-manager on `/status`; a StatefulSet written by
    /// `kubectl`), as published in public repositories' test data.
    const DEPLOYMENT_APPLY: &str = r#"{"f:metadata":{"f:labels":{"f:app":{}}},"f:spec":{"f:replicas":{},"f:selector":{},"f:template":{"f:metadata":{"f:labels":{"f:app":{}}},"f:spec":{"f:containers":{"k:{\"name\":\"nginx\"}":{".":{},"f:env":{"k:{\"name\":\"MY_NODE_NAME\"}":{".":{},"f:name":{},"f:valueFrom":{"f:fieldRef":{}}}},"f:image":{},"f:name":{},"f:ports":{"k:{\"containerPort\":80,\"protocol\":\"TCP\"}":{".":{},"f:containerPort":{}}}}}}}}}"#;

    const DEPLOYMENT_CONTROLLER: &str = r#"{"f:metadata":{"f:annotations":{".":{},"f:deployment.kubernetes.io/revision":{}}},"f:status":{"f:availableReplicas":{},"f:conditions":{".":{},"k:{\"type\":\"Available\"}":{".":{},"f:lastTransitionTime":{},"f:lastUpdateTime":{},"f:message":{},"f:reason":{},"f:status":{},"f:type":{}},"k:{\"type\":\"Progressing\"}":{".":{},"f:lastTransitionTime":{},"f:lastUpdateTime":{},"f:message":{},"f:reason":{},"f:status":{},"f:type":{}}},"f:observedGeneration":{},"f:readyReplicas":{},"f:replicas":{},"f:updatedReplicas":{}}}"#;

    const STATEFULSET_KUBECTL: &str = r#"{"f:spec":{"f:podManagementPolicy":{},"f:replicas":{},"f:revisionHistoryLimit":{},"f:selector":{},"f:serviceName":{},"f:template":{"f:metadata":{"f:labels":{".":{},"f:app":{}}},"f:spec":{"f:containers":{"k:{\"name\":\"iab\"}":{".":{},"f:image":{},"f:imagePullPolicy":{},"f:name":{},"f:ports":{".":{},"k:{\"containerPort\":80,\"protocol\":\"TCP\"}":{".":{},"f:containerPort":{},"f:name":{},"f:protocol":{}}},"f:resources":{},"f:terminationMessagePath":{},"f:terminationMessagePolicy":{}}},"f:dnsPolicy":{},"f:restartPolicy":{},"f:schedulerName":{},"f:securityContext":{},"f:terminationGracePeriodSeconds":{}}},"f:updateStrategy":{"f:rollingUpdate":{".":{},"f:partition":{}},"f:type":{}}}}"#;

    #[test]
    fn real_managed_fields_round_trip_byte_for_byte() {
        for text in [DEPLOYMENT_APPLY, DEPLOYMENT_CONTROLLER, STATEFULSET_KUBECTL] {
            let set = Set::from_fields_v1_json(text).unwrap();
            assert_eq!(set.to_fields_v1_json(), text);
            assert_eq!(serde_json::to_string(&set.to_fields_v1()).unwrap(), text);
        }
        let set = Set::from_fields_v1_json(DEPLOYMENT_APPLY).unwrap();
        assert!(set.has(&[
            PathElement::field("spec"),
            PathElement::field("template"),
            PathElement::field("spec"),
            PathElement::field("containers"),
            PathElement::key([("name", json!("nginx"))]),
            PathElement::field("ports"),
            PathElement::key([("containerPort", json!(80)), ("protocol", json!("TCP"))]),
        ]));
        assert_eq!(set.len(), 12);
    }

    #[test]
    fn set_values_indexes_and_escaping() {
        let mut set = Set::new();
        set.insert(&[
            PathElement::field("finalizers"),
            PathElement::Value(json!("a<b")),
        ]);
        set.insert(&[PathElement::field("args"), PathElement::Index(2)]);
        set.insert(&[PathElement::field("n"), PathElement::Value(json!(1.5))]);
        let text = set.to_fields_v1_json();
        assert_eq!(
            text,
            r#"{"f:args":{"i:2":{}},"f:finalizers":{"v:\"a\\u003cb\"":{}},"f:n":{"v:1.5":{}}}"#
        );
        assert_eq!(Set::from_fields_v1_json(&text).unwrap(), set);
    }

    #[test]
    fn malformed_input_is_rejected_with_the_place() {
        let err = Set::from_fields_v1_json(r#"{"f:spec":{"k:{oops":{}}}"#).unwrap_err();
        assert!(err.to_string().contains("at `.spec`"), "{err}");
        let err = Set::from_fields_v1_json(r#"{"f:spec":[]}"#).unwrap_err();
        assert!(err.to_string().contains("expected an object"), "{err}");
        let err = Set::from_fields_v1_json(r#"{"fx":{}}"#).unwrap_err();
        assert!(err.to_string().contains("missing `:`"), "{err}");
        assert!(Set::from_fields_v1_json("{").is_err());
        // Unknown element kinds are skipped, as smd does for forward compatibility.
        let set = Set::from_fields_v1_json(r#"{"x:future":{},"f:a":{}}"#).unwrap();
        assert_eq!(set.to_fields_v1_json(), r#"{"f:a":{}}"#);
    }
}
