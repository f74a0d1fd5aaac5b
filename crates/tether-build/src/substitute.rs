//! Post-build variable substitution on built objects, and the variables' merge order.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use serde_json::Value;
use tether_api::keys::{DISABLED_VALUE, SUBSTITUTE_ANNOTATION};

use crate::envsubst;
use crate::error::Error;

/// The rule Flux checks variable names against (ASCII letters, digits, `_`; no leading digit).
pub const VAR_NAME_PATTERN: &str = "^[_[:alpha:]][_[:alpha:][:digit:]]*$";

/// A ConfigMap or Secret named in `spec.postBuild.substituteFrom`, as fetched.
#[derive(Debug, Clone, Copy)]
pub enum VarSource<'a> {
    ConfigMap(&'a ConfigMap),
    Secret(&'a Secret),
}

/// The variables of a Kustomization in Flux's order: the `substituteFrom` objects in list
/// order (their `data` keys; later ones override earlier), then `spec.postBuild.substitute`
/// over them. New lines are removed from every value, as Flux does. Pass only the objects that
/// exist: a missing `optional` one contributes nothing (the caller decides whether a missing
/// one is an error). Secret bytes that are not UTF-8 are read lossily.
pub fn merge_variables<'a>(
    sources: impl IntoIterator<Item = VarSource<'a>>,
    substitute: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let mut vars = BTreeMap::new();
    for source in sources {
        match source {
            VarSource::ConfigMap(cm) => {
                for (k, v) in cm.data.iter().flatten() {
                    vars.insert(k.clone(), v.replace('\n', ""));
                }
            }
            VarSource::Secret(secret) => {
                for (k, v) in secret.data.iter().flatten() {
                    vars.insert(k.clone(), String::from_utf8_lossy(&v.0).replace('\n', ""));
                }
            }
        }
    }
    for (k, v) in substitute {
        vars.insert(k.clone(), v.replace('\n', ""));
    }
    vars
}

/// `Kind/namespace/name` (`Kind/name` for cluster-scoped objects), as errors name objects.
pub fn object_name(object: &Value) -> String {
    let s = |p: &str| object.pointer(p).and_then(Value::as_str).unwrap_or("");
    let (kind, ns, name) = (s("/kind"), s("/metadata/namespace"), s("/metadata/name"));
    if ns.is_empty() {
        format!("{kind}/{name}")
    } else {
        format!("{kind}/{ns}/{name}")
    }
}

/// Whether the object opts out with the label or annotation
/// `kustomize.toolkit.fluxcd.io/substitute: disabled` (compared exactly, as Flux does).
pub fn substitution_disabled(object: &Value) -> bool {
    ["labels", "annotations"].iter().any(|field| {
        object
            .pointer(&format!("/metadata/{field}"))
            .and_then(|m| m.get(SUBSTITUTE_ANNOTATION))
            .and_then(Value::as_str)
            == Some(DISABLED_VALUE)
    })
}

fn valid_var_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes
        .next()
        .is_some_and(|b| b == b'_' || b.is_ascii_alphabetic())
        && bytes.all(|b| b == b'_' || b.is_ascii_alphanumeric())
}

/// Substitutes `vars` into `object` as Flux does: on the object's YAML text (as kustomize
/// prints it), read back as sigs.k8s.io/yaml reads it (YAML 1.1 scalars: a substituted `true`
/// or `3` becomes a boolean or number unless quoted). Objects that opt out are returned as
/// they are.
pub fn substitute_object(
    object: &Value,
    vars: &BTreeMap<String, String>,
    strict: bool,
) -> Result<Value, Error> {
    if substitution_disabled(object) {
        return Ok(object.clone());
    }
    let fail = |message: String| Error::Substitution {
        object: object_name(object),
        message,
    };
    if let Some(bad) = vars.keys().find(|k| !valid_var_name(k)) {
        return Err(fail(format!(
            "'{bad}' var name is invalid, must match '{VAR_NAME_PATTERN}'"
        )));
    }
    let text = tether_yaml::to_yaml(object);
    let substituted = envsubst::eval(&text, vars, strict)
        .map_err(|e| fail(format!("variable substitution failed: {e}")))?;
    if substituted == text {
        return Ok(object.clone());
    }
    tether_yaml::parse_document_last_key_wins(&substituted)
        .map_err(|e| fail(format!("YAMLToJSON: {e}")))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use k8s_openapi::ByteString;
    use serde_json::json;

    #[test]
    fn variables_merge_in_fluxs_order() {
        let cm: ConfigMap = serde_json::from_value(json!({
            "metadata": {"name": "a"},
            "data": {"region": "eu-1", "env": "dev", "multi": "a\nb\n"}
        }))
        .unwrap();
        let secret = Secret {
            data: Some(
                [
                    ("env".to_owned(), ByteString(b"staging".to_vec())),
                    ("token".to_owned(), ByteString(b"s3cr3t\n".to_vec())),
                ]
                .into(),
            ),
            ..Default::default()
        };
        let inline: BTreeMap<String, String> = [("env".to_owned(), "prod".to_owned())].into();
        let vars = merge_variables(
            [VarSource::ConfigMap(&cm), VarSource::Secret(&secret)],
            &inline,
        );
        let expect: BTreeMap<String, String> = [
            ("env", "prod"),
            ("multi", "ab"),
            ("region", "eu-1"),
            ("token", "s3cr3t"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        assert_eq!(vars, expect);
        let without_inline = merge_variables(
            [VarSource::ConfigMap(&cm), VarSource::Secret(&secret)],
            &BTreeMap::new(),
        );
        assert_eq!(
            without_inline["env"], "staging",
            "later sources override earlier"
        );
    }

    #[test]
    fn var_names_follow_fluxs_rule() {
        for ok in ["a", "_a", "A1_b", "cluster_env"] {
            assert!(valid_var_name(ok), "{ok}");
        }
        for bad in ["", "1a", "a-b", "a.b", "é"] {
            assert!(!valid_var_name(bad), "{bad}");
        }
    }
}
