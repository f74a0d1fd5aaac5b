//! `authorization.k8s.io/v1` reviews: SelfSubjectAccessReview, SubjectAccessReview,
//! LocalSubjectAccessReview (may a user do something?) and SelfSubjectRulesReview (what may
//! I do in a namespace?), answered by the request authorizer and never stored. This is what
//! `kubectl auth can-i` asks.

use serde_json::{Map, Value, json};

use super::{Attributes, UserInfo, authorize, rbac};
use crate::core::Core;
use crate::registry::Resource;
use crate::status::{ApiError, Cause};

/// Answers a review `body` created by `user` (in `namespace` for the local kind).
pub fn review(
    core: &Core,
    r: &Resource,
    user: &UserInfo,
    namespace: Option<&str>,
    mut body: Value,
) -> Result<Value, ApiError> {
    if body.get("kind").and_then(Value::as_str) != Some(r.kind.as_str()) {
        return Err(ApiError::bad_request(format!(
            "the kind in the request body does not match the resource's kind ({}) at {}",
            r.kind,
            r.api_version()
        )));
    }
    let spec = body.get("spec").cloned().unwrap_or_else(|| json!({}));
    let status = match r.resource.as_str() {
        "selfsubjectaccessreviews" => access(core, r, user.clone(), &spec, None)?,
        "subjectaccessreviews" => access(core, r, subject(r, &spec)?, &spec, None)?,
        "localsubjectaccessreviews" => access(
            core,
            r,
            subject(r, &spec)?,
            &spec,
            Some(namespace.unwrap_or("")),
        )?,
        "selfsubjectrulesreviews" => rules(core, user, &spec),
        _ => return Err(ApiError::method_not_allowed()),
    };
    body["apiVersion"] = Value::String(r.api_version());
    if let Some(map) = body.as_object_mut() {
        map.entry("metadata").or_insert_with(|| json!({}));
        map.insert("status".into(), status);
    }
    Ok(body)
}

fn invalid(r: &Resource, field: &str, detail: &str) -> ApiError {
    ApiError::invalid(
        &r.group,
        &r.kind,
        "",
        vec![Cause::new(
            "FieldValueInvalid",
            field,
            format!("Invalid value: null: {detail}"),
        )],
    )
}

fn strings(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// The user a SubjectAccessReview asks about: exactly as given, no groups added.
fn subject(r: &Resource, spec: &Value) -> Result<UserInfo, ApiError> {
    let name = spec.get("user").and_then(Value::as_str).unwrap_or("");
    let groups = strings(spec.get("groups"));
    if name.is_empty() && groups.is_empty() {
        return Err(invalid(
            r,
            "spec.user",
            "at least one of user or group must be specified",
        ));
    }
    let extra = spec
        .get("extra")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), strings(Some(v))))
                .collect()
        })
        .unwrap_or_default();
    Ok(UserInfo {
        name: name.to_owned(),
        uid: spec
            .get("uid")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned(),
        groups,
        extra,
    })
}

fn access(
    core: &Core,
    r: &Resource,
    user: UserInfo,
    spec: &Value,
    local: Option<&str>,
) -> Result<Value, ApiError> {
    let text = |v: &Value, f: &str| v.get(f).and_then(Value::as_str).unwrap_or("").to_owned();
    let attrs = match (
        spec.get("resourceAttributes"),
        spec.get("nonResourceAttributes"),
    ) {
        (Some(_), Some(_)) => {
            return Err(invalid(
                r,
                "spec.nonResourceAttributes",
                "cannot be specified in combination with resourceAttributes",
            ));
        }
        (None, None) => {
            return Err(invalid(
                r,
                "spec.resourceAttributes",
                "exactly one of nonResourceAttributes or resourceAttributes must be specified",
            ));
        }
        (Some(a), None) => {
            let mut namespace = text(a, "namespace");
            if let Some(local) = local {
                if namespace.is_empty() {
                    namespace = local.to_owned();
                } else if namespace != local {
                    return Err(ApiError::bad_request(format!(
                        "spec.resourceAttributes.namespace must match namespace: {local}"
                    )));
                }
            }
            Attributes {
                user,
                verb: text(a, "verb"),
                resource_request: true,
                group: text(a, "group"),
                version: text(a, "version"),
                namespace,
                resource: text(a, "resource"),
                subresource: text(a, "subresource"),
                name: text(a, "name"),
                ..Default::default()
            }
        }
        (None, Some(a)) => Attributes {
            user,
            verb: text(a, "verb"),
            path: text(a, "path"),
            ..Default::default()
        },
    };
    let decision = authorize(core, &attrs);
    let mut status = Map::new();
    status.insert("allowed".into(), Value::Bool(decision.allowed));
    if !decision.reason.is_empty() {
        status.insert("reason".into(), Value::String(decision.reason));
    }
    Ok(Value::Object(status))
}

/// Everything `user` may do in `spec.namespace`, as upstream's rule resolver lists it.
fn rules(core: &Core, user: &UserInfo, spec: &Value) -> Value {
    if user.is_master() {
        return json!({
            "resourceRules": [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}],
            "nonResourceRules": [{"verbs": ["*"], "nonResourceURLs": ["*"]}],
            "incomplete": false,
        });
    }
    let namespace = spec.get("namespace").and_then(Value::as_str).unwrap_or("");
    let (mut resource_rules, mut non_resource_rules) = (vec![], vec![]);
    let errors = rbac::visit_rules(&rbac::StorePolicy::new(core), user, namespace, |_, rule| {
        if rule.get("nonResourceURLs").is_some() {
            non_resource_rules.push(json!({"verbs": rule["verbs"],
                    "nonResourceURLs": rule["nonResourceURLs"]}));
        } else {
            let mut r = json!({"verbs": rule["verbs"], "apiGroups": rule["apiGroups"],
                    "resources": rule["resources"]});
            if let Some(names) = rule.get("resourceNames") {
                r["resourceNames"] = names.clone();
            }
            resource_rules.push(r);
        }
        true
    });
    let mut status = json!({"resourceRules": resource_rules,
        "nonResourceRules": non_resource_rules, "incomplete": !errors.is_empty()});
    if !errors.is_empty() {
        status["evaluationError"] = Value::String(errors.join(", "));
    }
    status
}
