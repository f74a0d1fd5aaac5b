use std::sync::Arc;

use bytes::Bytes;
use serde_json::Value;

/// One stored object at one revision. Shared as `Arc<Object>` between the index, the history,
/// watchers and callers, so nothing is copied on fan-out.
#[derive(Debug, Clone, PartialEq)]
pub struct Object {
    /// The store key (`{group}/{resource}/{namespace}/{name}` for the API server).
    pub key: String,
    /// The revision of the write that produced this state (for a deletion event: the deletion).
    pub revision: u64,
    /// The object, with `metadata.resourceVersion` set to `revision` in decimal.
    pub value: Value,
    /// `value` serialized once, for cheap fan-out to many watchers and list responses.
    pub json: Bytes,
}

impl Object {
    /// Stamps `metadata.resourceVersion` and serializes. The error is a reason for the caller.
    pub(crate) fn new(key: String, revision: u64, mut value: Value) -> Result<Object, String> {
        set_resource_version(&mut value, revision)?;
        let json =
            serde_json::to_vec(&value).map_err(|e| format!("cannot serialize the object: {e}"))?;
        Ok(Object {
            key,
            revision,
            value,
            json: Bytes::from(json),
        })
    }

    /// The same object stamped with another revision (a deletion's last state).
    pub(crate) fn restamped(&self, revision: u64) -> Result<Object, String> {
        Object::new(self.key.clone(), revision, self.value.clone())
    }

    /// Parses a stored record and checks that it carries the revision it is stored under.
    pub(crate) fn decode(key: &str, revision: u64, json: &[u8]) -> Result<Object, String> {
        let value: Value =
            serde_json::from_slice(json).map_err(|e| format!("invalid JSON: {e}"))?;
        let stamped = value
            .get("metadata")
            .and_then(|m| m.get("resourceVersion"))
            .and_then(Value::as_str);
        if stamped != Some(revision.to_string().as_str()) {
            return Err(format!(
                "metadata.resourceVersion is {stamped:?}, but the record is at revision {revision}"
            ));
        }
        Ok(Object {
            key: key.to_owned(),
            revision,
            value,
            json: Bytes::copy_from_slice(json),
        })
    }
}

fn set_resource_version(value: &mut Value, revision: u64) -> Result<(), String> {
    let Some(fields) = value.as_object_mut() else {
        return Err("the object is not a JSON object".to_owned());
    };
    let metadata = fields
        .entry("metadata")
        .or_insert_with(|| Value::Object(serde_json::Map::new()));
    let Some(metadata) = metadata.as_object_mut() else {
        return Err("metadata is not a JSON object".to_owned());
    };
    metadata.insert(
        "resourceVersion".to_owned(),
        Value::String(revision.to_string()),
    );
    Ok(())
}

/// What a committed write did to its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    Added,
    Modified,
    Deleted,
}

impl EventKind {
    pub(crate) fn code(self) -> u8 {
        match self {
            EventKind::Added => 0,
            EventKind::Modified => 1,
            EventKind::Deleted => 2,
        }
    }

    pub(crate) fn from_code(code: u8) -> Option<EventKind> {
        match code {
            0 => Some(EventKind::Added),
            1 => Some(EventKind::Modified),
            2 => Some(EventKind::Deleted),
            _ => None,
        }
    }
}

/// One committed write, as watchers and the history see it.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub kind: EventKind,
    /// The revision this write was committed at (unique across the store).
    pub revision: u64,
    /// The new state; for `Deleted`, the last state stamped with the deletion revision.
    pub object: Arc<Object>,
    /// The state before this write (`None` for `Added`), with its own revision.
    pub previous: Option<Arc<Object>>,
}

impl Event {
    /// The key this event is about.
    pub fn key(&self) -> &str {
        &self.object.key
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn stamps_resource_version_keeping_field_order() {
        let o = Object::new(
            "k".into(),
            42,
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "resourceVersion": "7", "uid": "u"}}),
        )
        .unwrap();
        assert_eq!(
            std::str::from_utf8(&o.json).unwrap(),
            r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a","resourceVersion":"42","uid":"u"}}"#
        );
        assert_eq!(o.value["metadata"]["resourceVersion"], "42");
    }

    #[test]
    fn adds_missing_metadata_and_rejects_non_objects() {
        let o = Object::new("k".into(), 1, json!({"kind": "X"})).unwrap();
        assert_eq!(
            o.value,
            json!({"kind": "X", "metadata": {"resourceVersion": "1"}})
        );
        assert!(Object::new("k".into(), 1, json!([1])).is_err());
        assert!(Object::new("k".into(), 1, json!({"metadata": 3})).is_err());
    }

    #[test]
    fn decode_checks_the_revision() {
        let o = Object::new("k".into(), 9, json!({"metadata": {}})).unwrap();
        assert_eq!(Object::decode("k", 9, &o.json).unwrap(), o);
        let err = Object::decode("k", 10, &o.json).unwrap_err();
        assert!(err.contains("revision 10"), "{err}");
        assert!(
            Object::decode("k", 9, b"{not json")
                .unwrap_err()
                .contains("invalid JSON")
        );
    }
}
