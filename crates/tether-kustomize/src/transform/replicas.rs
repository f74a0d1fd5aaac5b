//! The replica count transformer (kustomize's `ReplicaCountTransformer`): one per entry of a
//! kustomization's `replicas:`, or a `ReplicaCountTransformer` entry of `transformers:`.
//!
//! For each field spec (by default `spec/replicas` of Deployments, ReplicationControllers,
//! ReplicaSets and StatefulSets, created when missing), the resources any of whose ids (original,
//! intermediate or current) has the entry's name and a GVK the spec selects get the count. No
//! resource found for any spec is an error.

use serde::Deserialize;
use serde_json::Value;

use crate::config::TransformerConfig;
use crate::error::{Error, Result};
use crate::fieldspec::{
    CreateKind, FieldSpec, LenientFieldSpec, apply_field_spec, from_lenient,
    set_scalar_keeping_style, wrong_node_kind,
};
use crate::resmap::ResMap;
use crate::resource::{Gvk, Resource};
use crate::transform::Transformer;
use crate::transform::images::json_type;

/// One entry of `replicas:` (kustomize's `types.Replica`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct Replica {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub count: i64,
}

/// Reads a kustomization's `replicas:` entries as kustomize's strict decoder does.
pub fn parse_replicas(entries: &[Value]) -> Result<Vec<Replica>> {
    entries.iter().map(parse_replica).collect()
}

fn parse_replica(entry: &Value) -> Result<Replica> {
    let invalid = |message: String| Error::Kustomization { message };
    let field_err = |key: &str, go_type: &str, v: &Value| {
        let what = match v {
            // Go names the number when it does not fit the integer type.
            Value::Number(n) => format!("number {n}"),
            other => json_type(other).to_owned(),
        };
        invalid(format!(
            "json: cannot unmarshal {what} into Go struct field Replica.replicas.{key} of type {go_type}"
        ))
    };
    let map = match entry {
        Value::Object(map) => map,
        Value::Null => return Ok(Replica::default()),
        other => {
            return Err(invalid(format!(
                "json: cannot unmarshal {} into Go struct field Kustomization.replicas of type types.Replica",
                json_type(other)
            )));
        }
    };
    let mut replica = Replica::default();
    for (key, value) in map {
        match (key.as_str(), value) {
            (_, Value::Null) => {}
            ("name", Value::String(s)) => replica.name = s.clone(),
            ("name", other) => return Err(field_err("name", "string", other)),
            ("count", Value::Number(n)) => {
                replica.count = n
                    .as_i64()
                    .ok_or_else(|| field_err("count", "int64", value))?;
            }
            ("count", other) => return Err(field_err("count", "int64", other)),
            (other, _) => return Err(invalid(format!("json: unknown field \"{other}\""))),
        }
    }
    Ok(replica)
}

/// Sets the replica count of the resources named by its entry.
#[derive(Debug, Clone)]
pub struct ReplicaCountTransformer {
    replica: Replica,
    field_specs: Vec<FieldSpec>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PluginConfig {
    #[serde(default)]
    replica: Replica,
    #[serde(default)]
    field_specs: Option<Vec<LenientFieldSpec>>,
}

impl ReplicaCountTransformer {
    /// One `replicas:` entry with the configuration's `replicas` specs.
    pub fn new(replica: Replica, tc: &TransformerConfig) -> Self {
        ReplicaCountTransformer {
            replica,
            field_specs: tc.replicas.clone(),
        }
    }

    /// A `ReplicaCountTransformer` of `transformers:` (`replica`, `fieldSpecs`).
    pub fn from_plugin_config(config: &Value, _tc: &TransformerConfig) -> Result<Self> {
        let c: PluginConfig = serde_json::from_value(config.clone()).map_err(|e| {
            Error::msg(format!("unmarshalling ReplicaCountTransformer config: {e}"))
        })?;
        Ok(ReplicaCountTransformer {
            replica: c.replica,
            field_specs: from_lenient(c.field_specs).unwrap_or_default(),
        })
    }

    fn set(&self, v: &mut Value) -> Result<()> {
        match v {
            Value::Object(_) | Value::Array(_) => Err(wrong_node_kind("ScalarNode", v)),
            _ => {
                set_scalar_keeping_style(v, self.replica.count.to_string());
                Ok(())
            }
        }
    }
}

/// Whether any id of `r` has `name` and a GVK `selector` selects.
fn any_id_matches(r: &Resource, name: &str, selector: &Gvk) -> bool {
    (r.name() == name && r.gvk().is_selected_by(selector))
        || r.previous_ids
            .iter()
            .any(|id| id.name == name && id.gvk.is_selected_by(selector))
}

impl Transformer for ReplicaCountTransformer {
    fn transform(&self, resources: &mut ResMap) -> Result<()> {
        let mut found = false;
        for spec in &self.field_specs {
            let selector = spec.gvk();
            for r in resources.iter_mut() {
                if !any_id_matches(r, &self.replica.name, &selector) {
                    continue;
                }
                found = true;
                let gvk = r.gvk();
                apply_field_spec(&mut r.object, &gvk, spec, CreateKind::Scalar, &mut |v| {
                    self.set(v)
                })?;
            }
        }
        if !found {
            let gvks: Vec<String> = self
                .field_specs
                .iter()
                .map(|fs| fs.gvk().to_string())
                .collect();
            return Err(Error::msg(format!(
                "resource with name {} does not match a config with the following GVK [{}]",
                self.replica.name,
                gvks.join(" ")
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resource::ResId;
    use crate::transform::defaults::builtin_field_specs;
    use serde_json::json;

    fn replica(name: &str, count: i64) -> Replica {
        Replica {
            name: name.to_owned(),
            count,
        }
    }

    #[test]
    fn sets_by_any_id_keeping_quoted_strings() {
        let mut renamed = Resource::new(
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "p-d"}}),
        );
        renamed
            .previous_ids
            .push(ResId::new(Gvk::new("apps", "v1", "Deployment"), "d", ""));
        let mut m = ResMap {
            resources: vec![
                renamed,
                Resource::new(json!({"apiVersion": "apps/v1", "kind": "StatefulSet",
                    "metadata": {"name": "d"}, "spec": {"replicas": "1"}})),
                Resource::new(
                    json!({"apiVersion": "x/v1", "kind": "Foo", "metadata": {"name": "d"}}),
                ),
            ],
        };
        ReplicaCountTransformer::new(replica("d", 5), &builtin_field_specs())
            .transform(&mut m)
            .unwrap();
        assert_eq!(m.resources[0].object["spec"]["replicas"], json!(5));
        assert_eq!(m.resources[1].object["spec"]["replicas"], json!("5"));
        assert!(m.resources[2].object.get("spec").is_none());
    }

    #[test]
    fn nothing_found_is_an_error() {
        let mut m = ResMap::new();
        let err = ReplicaCountTransformer::new(replica("zz", 1), &builtin_field_specs())
            .transform(&mut m)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "resource with name zz does not match a config with the following GVK \
             [Deployment.[noVer].[noGrp] StatefulSet.[noVer].[noGrp] ReplicaSet.[noVer].[noGrp] \
             ReplicationController.[noVer].[noGrp]]"
        );
    }

    #[test]
    fn parses_entries_strictly() {
        assert_eq!(
            parse_replicas(&[json!({"name": "a", "count": 3})]).unwrap(),
            [replica("a", 3)]
        );
        let err = parse_replicas(&[json!({"name": "a", "count": "3"})]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid Kustomization: json: cannot unmarshal string into Go struct field Replica.replicas.count of type int64"
        );
        let err = parse_replicas(&[json!({"name": "a", "count": 2.5})]).unwrap_err();
        assert!(
            err.to_string().contains("cannot unmarshal number 2.5"),
            "{err}"
        );
    }

    #[test]
    fn plugin_config() {
        let t = ReplicaCountTransformer::from_plugin_config(
            &json!({"kind": "ReplicaCountTransformer", "replica": {"name": "f", "count": 2},
                    "fieldSpecs": [{"kind": "Foo", "path": "spec/size", "create": true}]}),
            &builtin_field_specs(),
        )
        .unwrap();
        let mut m = ResMap {
            resources: vec![Resource::new(
                json!({"apiVersion": "x/v1", "kind": "Foo", "metadata": {"name": "f"}}),
            )],
        };
        t.transform(&mut m).unwrap();
        assert_eq!(m.resources[0].object["spec"]["size"], json!(2));
    }
}
