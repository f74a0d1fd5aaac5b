//! The audit stamp: an annotation written with every object an apply creates or changes, naming
//! what it was applied from (the controller puts the source revision there), and left out of
//! every comparison, so an object whose only difference is the stamp is not written and keeps
//! naming the revision that last changed it.

use serde_json::{Map, Value};

/// An annotation recording what an object was last written from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stamp {
    /// The annotation key, e.g. `tether.dev/last-changed-revision`.
    pub annotation: String,
    /// The value written with Created and Configured objects. `None` writes nothing and only
    /// keeps the annotation out of the comparisons (what a diff uses, which does not know the
    /// revision the controller will apply).
    pub value: Option<String>,
}

impl Stamp {
    /// Sets the annotation on a prepared manifest when there is a value to write.
    pub(crate) fn write_into(&self, manifest: &mut Value) {
        let Some(value) = &self.value else {
            return;
        };
        let Some(meta) = manifest.get_mut("metadata").and_then(Value::as_object_mut) else {
            return;
        };
        let annotations = meta
            .entry("annotations")
            .or_insert_with(|| Value::Object(Map::new()));
        if !annotations.is_object() {
            *annotations = Value::Object(Map::new());
        }
        if let Some(annotations) = annotations.as_object_mut() {
            annotations.insert(self.annotation.clone(), Value::String(value.clone()));
        }
    }

    /// Removes the annotation (and an annotation map left empty) from an object shown in a diff.
    pub(crate) fn remove_from(&self, object: &mut Value) {
        let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) else {
            return;
        };
        let emptied = meta
            .get_mut("annotations")
            .and_then(Value::as_object_mut)
            .is_some_and(|a| {
                a.remove(&self.annotation);
                a.is_empty()
            });
        if emptied {
            meta.remove("annotations");
        }
    }
}

/// The annotation keys a drift comparison ignores under `stamp`.
pub(crate) fn ignored(stamp: Option<&Stamp>) -> Vec<&str> {
    stamp.map(|s| s.annotation.as_str()).into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn stamp(value: Option<&str>) -> Stamp {
        Stamp {
            annotation: "tether.dev/last-changed-revision".into(),
            value: value.map(str::to_owned),
        }
    }

    #[test]
    fn a_value_is_written_next_to_other_annotations() {
        let mut cm = json!({"metadata": {"name": "c", "annotations": {"a": "b"}}});
        stamp(Some("main@sha1:1")).write_into(&mut cm);
        assert_eq!(
            cm["metadata"]["annotations"],
            json!({"a": "b", "tether.dev/last-changed-revision": "main@sha1:1"})
        );
        let mut bare = json!({"metadata": {"name": "c"}});
        stamp(Some("main@sha1:2")).write_into(&mut bare);
        assert_eq!(
            bare["metadata"]["annotations"]["tether.dev/last-changed-revision"],
            "main@sha1:2"
        );
    }

    #[test]
    fn no_value_writes_nothing() {
        let mut cm = json!({"metadata": {"name": "c"}});
        stamp(None).write_into(&mut cm);
        assert_eq!(cm, json!({"metadata": {"name": "c"}}));
    }

    #[test]
    fn removal_drops_an_emptied_map_only() {
        let mut only = json!({"metadata": {"name": "c",
            "annotations": {"tether.dev/last-changed-revision": "x"}}});
        stamp(None).remove_from(&mut only);
        assert_eq!(only, json!({"metadata": {"name": "c"}}));
        let mut more = json!({"metadata": {"name": "c",
            "annotations": {"a": "b", "tether.dev/last-changed-revision": "x"}}});
        stamp(None).remove_from(&mut more);
        assert_eq!(more["metadata"]["annotations"], json!({"a": "b"}));
    }
}
