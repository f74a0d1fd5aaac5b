//! Classes, controller revisions, pod templates and admission webhook configurations.

use serde_json::Value;

use super::format::{age, containers, int, labels, list, map, name, s, text};
use super::{AGE, Def, NAME, col};

pub const INGRESS_CLASS: &[Def] = &[
    NAME,
    col(
        "Controller",
        "string",
        "Controller that is responsible for handling this class",
    ),
    col(
        "Parameters",
        "string",
        "A reference to a resource with additional parameters",
    ),
    AGE,
];

/// Parameters print as `Kind[.group]/name`.
pub fn ingress_class(o: &Value) -> Vec<Value> {
    let parameters = match o.pointer("/spec/parameters") {
        Some(p) if p.is_object() => {
            let group = text(p, "/apiGroup");
            let kind = if group.is_empty() {
                text(p, "/kind").to_string()
            } else {
                format!("{}.{group}", text(p, "/kind"))
            };
            format!("{kind}/{}", text(p, "/name"))
        }
        _ => "<none>".into(),
    };
    vec![
        name(o),
        s(text(o, "/spec/controller")),
        s(parameters),
        age(o),
    ]
}

pub const PRIORITY_CLASS: &[Def] = &[
    NAME,
    col(
        "Value",
        "integer",
        "value represents the integer value of this priority class.",
    ),
    col(
        "Global-Default",
        "boolean",
        "globalDefault specifies whether this PriorityClass should be considered as the default priority for pods that do not have any priority class.",
    ),
    AGE,
    col(
        "PreemptionPolicy",
        "string",
        "preemptionPolicy is the Policy for preempting pods with lower priority.",
    ),
];

pub fn priority_class(o: &Value) -> Vec<Value> {
    let policy = match text(o, "/preemptionPolicy") {
        "" => "PreemptLowerPriority",
        p => p,
    };
    vec![
        name(o),
        Value::from(int(o, "/value")),
        Value::Bool(o.pointer("/globalDefault") == Some(&Value::Bool(true))),
        age(o),
        s(policy),
    ]
}

pub const RUNTIME_CLASS: &[Def] = &[
    NAME,
    col(
        "Handler",
        "string",
        "handler specifies the underlying runtime and configuration that the CRI implementation will use to handle pods of this class.",
    ),
    AGE,
];

pub fn runtime_class(o: &Value) -> Vec<Value> {
    vec![name(o), s(text(o, "/handler")), age(o)]
}

pub const CONTROLLER_REVISION: &[Def] = &[
    NAME,
    col("Controller", "string", "Controller of the object"),
    col(
        "Revision",
        "string",
        "Revision indicates the revision of the state represented by Data.",
    ),
    AGE,
];

/// The controller prints as `kind.group/name`, lower-cased like kubectl's resource names.
pub fn controller_revision(o: &Value) -> Vec<Value> {
    let owner = list(o, "/metadata/ownerReferences")
        .iter()
        .find(|r| r.pointer("/controller") == Some(&Value::Bool(true)));
    let controller = match owner {
        Some(r) => {
            let kind = text(r, "/kind");
            let group_kind = match text(r, "/apiVersion").split_once('/') {
                Some((group, _)) => format!("{kind}.{group}"),
                None => kind.to_string(),
            };
            format!("{}/{}", group_kind.to_lowercase(), text(r, "/name"))
        }
        None => "<none>".into(),
    };
    vec![
        name(o),
        s(controller),
        Value::from(int(o, "/revision")),
        age(o),
    ]
}

pub const WEBHOOK_CONFIGURATION: &[Def] = &[
    NAME,
    col(
        "Webhooks",
        "integer",
        "Webhooks is a list of webhooks and the affected resources and operations.",
    ),
    AGE,
];

pub fn webhook_configuration(o: &Value) -> Vec<Value> {
    vec![name(o), Value::from(list(o, "/webhooks").len()), age(o)]
}

pub const POD_TEMPLATE: &[Def] = &[
    NAME,
    col(
        "Containers",
        "string",
        "Names of each container in the template.",
    ),
    col(
        "Images",
        "string",
        "Images referenced by each container in the template.",
    ),
    col("Pod Labels", "string", "The labels for the pod template."),
];

pub fn pod_template(o: &Value) -> Vec<Value> {
    let [names, images] = containers(o, "/template/spec");
    vec![
        name(o),
        names,
        images,
        s(labels(map(o, "/template/metadata/labels"))),
    ]
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn classes_show_their_handlers() {
        let ic = json!({"spec": {"controller": "k8s.io/ingress-nginx",
            "parameters": {"apiGroup": "k8s.example.com", "kind": "IngressParameters", "name": "p"}}});
        assert_eq!(
            ingress_class(&ic)[1..3],
            [
                json!("k8s.io/ingress-nginx"),
                json!("IngressParameters.k8s.example.com/p")
            ]
        );
        assert_eq!(ingress_class(&json!({}))[2], json!("<none>"));
        let pc = json!({"value": 1000, "globalDefault": true});
        assert_eq!(
            priority_class(&pc)[1..],
            [
                json!(1000),
                json!(true),
                json!("<unknown>"),
                json!("PreemptLowerPriority")
            ]
        );
        assert_eq!(runtime_class(&json!({"handler": "runc"}))[1], json!("runc"));
    }

    #[test]
    fn revisions_templates_and_webhooks() {
        let rev = json!({"revision": 3, "metadata": {"ownerReferences": [
            {"apiVersion": "apps/v1", "kind": "DaemonSet", "name": "agent", "controller": true}]}});
        assert_eq!(
            controller_revision(&rev)[1..3],
            [json!("daemonset.apps/agent"), json!(3)]
        );
        assert_eq!(controller_revision(&json!({}))[1], json!("<none>"));
        let pt = json!({"template": {"metadata": {"labels": {"app": "a"}},
            "spec": {"containers": [{"name": "c", "image": "i"}]}}});
        assert_eq!(
            pod_template(&pt)[1..],
            [json!("c"), json!("i"), json!("app=a")]
        );
        assert_eq!(
            webhook_configuration(&json!({"webhooks": [{}, {}]}))[1],
            json!(2)
        );
    }
}
