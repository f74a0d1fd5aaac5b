//! RBAC authorization (upstream's `plugin/pkg/auth/authorizer/rbac`): the rules of every
//! ClusterRoleBinding, and of every RoleBinding in the request's namespace, whose subjects
//! include the user; a request is allowed when one rule matches its verb, API group,
//! resource (with subresource), name, or non-resource path.
//!
//! ClusterRoles with an `aggregationRule` get the rules of the ClusterRoles their selectors
//! pick when they are evaluated, instead of an aggregation controller writing them into the
//! stored object (so `kubectl get clusterrole admin` shows no rules). Privilege escalation
//! checks (`escalate`, `bind`) on writes of roles and bindings are not made.

use std::collections::BTreeSet;
use std::sync::Arc;

use serde_json::Value;
use tether_store::{ListRequest, Object};

use super::{Attributes, Decision, UserInfo};
use crate::core::Core;

const GROUP: &str = "rbac.authorization.k8s.io";

/// Where the roles and bindings come from.
pub trait Policy {
    fn cluster_role_bindings(&self) -> Vec<Arc<Object>>;
    fn role_bindings(&self, namespace: &str) -> Vec<Arc<Object>>;
    fn cluster_roles(&self) -> Vec<Arc<Object>>;
    fn cluster_role(&self, name: &str) -> Option<Arc<Object>>;
    fn role(&self, namespace: &str, name: &str) -> Option<Arc<Object>>;
}

/// The roles and bindings in the store.
pub struct StorePolicy<'a> {
    core: &'a Core,
}

impl<'a> StorePolicy<'a> {
    pub fn new(core: &'a Core) -> Self {
        StorePolicy { core }
    }

    fn list(&self, resource: &str, namespace: Option<&str>) -> Vec<Arc<Object>> {
        let Some(r) = self.core.registry.get(GROUP, "v1", resource) else {
            return vec![];
        };
        let prefix = r.prefix(namespace);
        self.core
            .store
            .list(ListRequest::new(&prefix))
            .map(|page| page.items)
            .unwrap_or_default()
    }

    fn get(&self, resource: &str, namespace: Option<&str>, name: &str) -> Option<Arc<Object>> {
        let r = self.core.registry.get(GROUP, "v1", resource)?;
        self.core.store.get(&r.key(namespace, name))
    }
}

impl Policy for StorePolicy<'_> {
    fn cluster_role_bindings(&self) -> Vec<Arc<Object>> {
        self.list("clusterrolebindings", None)
    }

    fn role_bindings(&self, namespace: &str) -> Vec<Arc<Object>> {
        self.list("rolebindings", Some(namespace))
    }

    fn cluster_roles(&self) -> Vec<Arc<Object>> {
        self.list("clusterroles", None)
    }

    fn cluster_role(&self, name: &str) -> Option<Arc<Object>> {
        self.get("clusterroles", None, name)
    }

    fn role(&self, namespace: &str, name: &str) -> Option<Arc<Object>> {
        self.get("roles", Some(namespace), name)
    }
}

fn strings<'a>(value: &'a Value, field: &str) -> impl Iterator<Item = &'a str> {
    value
        .get(field)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
}

fn text<'a>(value: &'a Value, field: &str) -> &'a str {
    value.get(field).and_then(Value::as_str).unwrap_or("")
}

/// Upstream's `RuleAllows`: whether one PolicyRule grants the request.
pub fn rule_allows(attrs: &Attributes, rule: &Value) -> bool {
    let verb = strings(rule, "verbs").any(|v| v == "*" || v == attrs.verb);
    if !verb {
        return false;
    }
    if !attrs.resource_request {
        return strings(rule, "nonResourceURLs").any(|url| {
            url == "*"
                || url == attrs.path
                || url
                    .strip_suffix('*')
                    .is_some_and(|prefix| attrs.path.starts_with(prefix))
        });
    }
    let group = strings(rule, "apiGroups").any(|g| g == "*" || g == attrs.group);
    let combined = if attrs.subresource.is_empty() {
        attrs.resource.clone()
    } else {
        format!("{}/{}", attrs.resource, attrs.subresource)
    };
    let resource = strings(rule, "resources").any(|r| {
        r == "*"
            || r == combined
            || (!attrs.subresource.is_empty()
                && r.strip_prefix("*/") == Some(attrs.subresource.as_str()))
    });
    let mut names = strings(rule, "resourceNames").peekable();
    let name = names.peek().is_none() || names.any(|n| n == attrs.name);
    group && resource && name
}

/// Upstream's `appliesToUser`; `namespace` is a RoleBinding's (a ServiceAccount subject
/// without a namespace is in it).
fn applies_to(user: &UserInfo, subject: &Value, namespace: &str) -> bool {
    let name = text(subject, "name");
    match text(subject, "kind") {
        "User" => user.name == name,
        "Group" => user.groups.iter().any(|g| g == name),
        "ServiceAccount" => {
            let ns = match text(subject, "namespace") {
                "" => namespace,
                ns => ns,
            };
            !ns.is_empty() && super::split_service_account(&user.name) == Some((ns, name))
        }
        _ => false,
    }
}

/// Whether a structured label selector (`matchLabels`, `matchExpressions`) picks `object`.
fn selects(selector: &Value, object: &Value) -> bool {
    let labels = object.pointer("/metadata/labels");
    let label = |key: &str| labels.and_then(|l| l.get(key)).and_then(Value::as_str);
    let by_labels = selector
        .get("matchLabels")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .all(|(k, v)| label(k) == v.as_str());
    let by_expressions = selector
        .get("matchExpressions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .all(|e| {
            let value = label(text(e, "key"));
            let listed = |v: &str| strings(e, "values").any(|x| x == v);
            match text(e, "operator") {
                "In" => value.is_some_and(listed),
                "NotIn" => value.is_none_or(|v| !listed(v)),
                "Exists" => value.is_some(),
                "DoesNotExist" => value.is_none(),
                _ => false,
            }
        });
    by_labels && by_expressions
}

/// A ClusterRole's rules; an aggregated role's are those of the roles it selects, themselves
/// resolved the same way (`seen` stops cycles).
fn cluster_role_rules(
    policy: &dyn Policy,
    role: &Value,
    seen: &mut BTreeSet<String>,
) -> Vec<Value> {
    let Some(aggregation) = role.get("aggregationRule") else {
        return rules_of(role);
    };
    seen.insert(crate::object::name(role).to_owned());
    let selectors: Vec<&Value> = aggregation
        .get("clusterRoleSelectors")
        .and_then(Value::as_array)
        .map(|s| s.iter().collect())
        .unwrap_or_default();
    let mut rules = vec![];
    for candidate in policy.cluster_roles() {
        let name = crate::object::name(&candidate.value);
        if seen.contains(name) || !selectors.iter().any(|s| selects(s, &candidate.value)) {
            continue;
        }
        for rule in cluster_role_rules(policy, &candidate.value, seen) {
            if !rules.contains(&rule) {
                rules.push(rule);
            }
        }
    }
    rules
}

fn rules_of(role: &Value) -> Vec<Value> {
    role.get("rules")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

/// The rules a binding's `roleRef` grants, or upstream's error for a missing role.
fn role_ref_rules(
    policy: &dyn Policy,
    binding: &Value,
    namespace: Option<&str>,
) -> Result<Vec<Value>, String> {
    let role_ref = binding.get("roleRef").unwrap_or(&Value::Null);
    let name = text(role_ref, "name");
    match (text(role_ref, "kind"), namespace) {
        ("ClusterRole", _) => policy
            .cluster_role(name)
            .map(|role| cluster_role_rules(policy, &role.value, &mut BTreeSet::new()))
            .ok_or_else(|| format!("clusterrole.rbac.authorization.k8s.io {name:?} not found")),
        ("Role", Some(ns)) => policy
            .role(ns, name)
            .map(|role| rules_of(&role.value))
            .ok_or_else(|| format!("role.rbac.authorization.k8s.io {name:?} not found")),
        (kind, _) => Err(format!("unsupported role reference kind: {kind:?}")),
    }
}

/// Where a rule comes from, described as upstream's RBAC reasons describe it.
pub struct Source<'a> {
    binding: &'a Value,
    subject: &'a Value,
}

impl Source<'_> {
    pub fn describe(&self) -> String {
        let role_ref = self.binding.get("roleRef").unwrap_or(&Value::Null);
        let namespace = crate::object::namespace(self.binding);
        let name = crate::object::name(self.binding);
        let subject_kind = text(self.subject, "kind");
        let subject_name = text(self.subject, "name");
        let subject = if subject_kind == "ServiceAccount" {
            let ns = match text(self.subject, "namespace") {
                "" => namespace.unwrap_or(""),
                ns => ns,
            };
            format!("{subject_kind} {:?}", format!("{subject_name}/{ns}"))
        } else {
            format!("{subject_kind} {subject_name:?}")
        };
        let (kind, binding) = match namespace {
            Some(ns) => ("RoleBinding", format!("{name}/{ns}")),
            None => ("ClusterRoleBinding", name.to_owned()),
        };
        format!(
            "{kind} {binding:?} of {} {:?} to {subject}",
            text(role_ref, "kind"),
            text(role_ref, "name")
        )
    }
}

/// Calls `visit` with every rule granted to `user` cluster-wide and, with a namespace, in it,
/// until `visit` answers false. Answers the errors met (roles that do not exist).
pub fn visit_rules(
    policy: &dyn Policy,
    user: &UserInfo,
    namespace: &str,
    mut visit: impl FnMut(&Source<'_>, &Value) -> bool,
) -> Vec<String> {
    let mut errors = vec![];
    let mut bindings: Vec<(Arc<Object>, Option<&str>)> = policy
        .cluster_role_bindings()
        .into_iter()
        .map(|b| (b, None))
        .collect();
    if !namespace.is_empty() {
        bindings.extend(
            policy
                .role_bindings(namespace)
                .into_iter()
                .map(|b| (b, Some(namespace))),
        );
    }
    for (binding, ns) in &bindings {
        let binding = &binding.value;
        let Some(subject) = binding
            .get("subjects")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .find(|s| applies_to(user, s, ns.unwrap_or("")))
        else {
            continue;
        };
        match role_ref_rules(policy, binding, *ns) {
            Ok(rules) => {
                let source = Source { binding, subject };
                for rule in &rules {
                    if !visit(&source, rule) {
                        return errors;
                    }
                }
            }
            Err(e) => {
                if !errors.contains(&e) {
                    errors.push(e);
                }
            }
        }
    }
    errors
}

/// Upstream's RBAC authorizer: allowed by the first matching rule, else refused with the
/// errors met as the reason.
pub fn authorize(policy: &dyn Policy, attrs: &Attributes) -> Decision {
    let mut allowed_by = None;
    let errors = visit_rules(policy, &attrs.user, &attrs.namespace, |source, rule| {
        if rule_allows(attrs, rule) {
            allowed_by = Some(source.describe());
            false
        } else {
            true
        }
    });
    match allowed_by {
        Some(source) => Decision {
            allowed: true,
            reason: format!("RBAC: allowed by {source}"),
        },
        None => Decision {
            allowed: false,
            reason: match errors.as_slice() {
                [] => String::new(),
                [one] => format!("RBAC: {one}"),
                many => format!("RBAC: [{}]", many.join(", ")),
            },
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn resource(verb: &str, group: &str, resource: &str, sub: &str, name: &str) -> Attributes {
        Attributes {
            user: sa(),
            verb: verb.into(),
            resource_request: true,
            group: group.into(),
            namespace: "apps".into(),
            resource: resource.into(),
            subresource: sub.into(),
            name: name.into(),
            ..Default::default()
        }
    }

    fn sa() -> UserInfo {
        UserInfo {
            name: "system:serviceaccount:apps:deployer".into(),
            groups: vec![
                "system:serviceaccounts".into(),
                "system:serviceaccounts:apps".into(),
                "system:authenticated".into(),
            ],
            ..Default::default()
        }
    }

    #[test]
    fn verbs_groups_and_wildcards() {
        let rule =
            json!({"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["get", "patch"]});
        assert!(rule_allows(
            &resource("patch", "apps", "deployments", "", "web"),
            &rule
        ));
        assert!(!rule_allows(
            &resource("delete", "apps", "deployments", "", "web"),
            &rule
        ));
        assert!(!rule_allows(
            &resource("get", "", "deployments", "", "web"),
            &rule
        ));
        assert!(!rule_allows(
            &resource("get", "apps", "statefulsets", "", "web"),
            &rule
        ));
        let all = json!({"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]});
        assert!(rule_allows(
            &resource("deletecollection", "x.io", "widgets", "status", ""),
            &all
        ));
    }

    #[test]
    fn subresources_match_exactly_or_by_star() {
        let status = json!({"apiGroups": ["apps"], "resources": ["deployments/status"], "verbs": ["update"]});
        assert!(rule_allows(
            &resource("update", "apps", "deployments", "status", "web"),
            &status
        ));
        assert!(!rule_allows(
            &resource("update", "apps", "deployments", "", "web"),
            &status
        ));
        assert!(!rule_allows(
            &resource("update", "apps", "deployments", "scale", "web"),
            &status
        ));
        let main =
            json!({"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["update"]});
        assert!(!rule_allows(
            &resource("update", "apps", "deployments", "status", "web"),
            &main
        ));
        let any_status =
            json!({"apiGroups": ["*"], "resources": ["*/status"], "verbs": ["update"]});
        assert!(rule_allows(
            &resource("update", "batch", "jobs", "status", "j"),
            &any_status
        ));
        assert!(!rule_allows(
            &resource("update", "batch", "jobs", "", "j"),
            &any_status
        ));
    }

    #[test]
    fn resource_names_restrict_and_empty_names_do_not_match_them() {
        let rule = json!({"apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["settings"], "verbs": ["get", "list"]});
        assert!(rule_allows(
            &resource("get", "", "configmaps", "", "settings"),
            &rule
        ));
        assert!(!rule_allows(
            &resource("get", "", "configmaps", "", "other"),
            &rule
        ));
        assert!(!rule_allows(
            &resource("list", "", "configmaps", "", ""),
            &rule
        ));
    }

    #[test]
    fn non_resource_urls_with_star_suffix() {
        let rule = json!({"nonResourceURLs": ["/apis/*", "/version"], "verbs": ["get"]});
        let path = |p: &str| Attributes {
            user: sa(),
            verb: "get".into(),
            path: p.into(),
            ..Default::default()
        };
        assert!(rule_allows(&path("/apis/apps/v1"), &rule));
        assert!(rule_allows(&path("/version"), &rule));
        assert!(!rule_allows(&path("/version/x"), &rule));
        assert!(!rule_allows(&path("/healthz"), &rule));
        // A resource rule grants no path, a path rule no resource.
        assert!(!rule_allows(
            &resource("get", "", "configmaps", "", "x"),
            &rule
        ));
    }

    #[test]
    fn subjects_users_groups_and_service_accounts() {
        let user = sa();
        assert!(applies_to(
            &user,
            &json!({"kind": "ServiceAccount", "name": "deployer", "namespace": "apps"}),
            ""
        ));
        assert!(applies_to(
            &user,
            &json!({"kind": "ServiceAccount", "name": "deployer"}),
            "apps"
        ));
        assert!(!applies_to(
            &user,
            &json!({"kind": "ServiceAccount", "name": "deployer"}),
            ""
        ));
        assert!(!applies_to(
            &user,
            &json!({"kind": "ServiceAccount", "name": "deployer", "namespace": "other"}),
            "apps"
        ));
        assert!(applies_to(
            &user,
            &json!({"kind": "Group", "name": "system:serviceaccounts:apps"}),
            ""
        ));
        assert!(applies_to(
            &user,
            &json!({"kind": "User", "name": "system:serviceaccount:apps:deployer"}),
            ""
        ));
        assert!(!applies_to(
            &user,
            &json!({"kind": "User", "name": "deployer"}),
            ""
        ));
    }

    /// Roles and bindings held in memory.
    struct Fixed(Vec<Value>);

    impl Fixed {
        fn of(&self, kind: &str, namespace: Option<&str>) -> Vec<Arc<Object>> {
            self.0
                .iter()
                .filter(|o| o["kind"] == kind && crate::object::namespace(o) == namespace)
                .map(|o| {
                    Arc::new(Object {
                        key: String::new(),
                        revision: 1,
                        value: o.clone(),
                        json: bytes::Bytes::new(),
                    })
                })
                .collect()
        }
    }

    impl Policy for Fixed {
        fn cluster_role_bindings(&self) -> Vec<Arc<Object>> {
            self.of("ClusterRoleBinding", None)
        }
        fn role_bindings(&self, namespace: &str) -> Vec<Arc<Object>> {
            self.of("RoleBinding", Some(namespace))
        }
        fn cluster_roles(&self) -> Vec<Arc<Object>> {
            self.of("ClusterRole", None)
        }
        fn cluster_role(&self, name: &str) -> Option<Arc<Object>> {
            self.cluster_roles()
                .into_iter()
                .find(|r| crate::object::name(&r.value) == name)
        }
        fn role(&self, namespace: &str, name: &str) -> Option<Arc<Object>> {
            self.of("Role", Some(namespace))
                .into_iter()
                .find(|r| crate::object::name(&r.value) == name)
        }
    }

    #[test]
    fn bindings_aggregation_and_reasons() {
        let policy = Fixed(vec![
            json!({"kind": "ClusterRole", "metadata": {"name": "admin"},
                "aggregationRule": {"clusterRoleSelectors": [{"matchLabels": {"to-admin": "true"}}]}}),
            json!({"kind": "ClusterRole", "metadata": {"name": "edit", "labels": {"to-admin": "true"}},
                "aggregationRule": {"clusterRoleSelectors": [{"matchLabels": {"to-edit": "true"}}]}}),
            json!({"kind": "ClusterRole", "metadata": {"name": "apps-edit", "labels": {"to-edit": "true"}},
                "rules": [{"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["patch"]}]}),
            json!({"kind": "RoleBinding", "metadata": {"name": "tenant", "namespace": "apps"},
                "roleRef": {"kind": "ClusterRole", "name": "admin"},
                "subjects": [{"kind": "ServiceAccount", "name": "deployer"}]}),
            json!({"kind": "RoleBinding", "metadata": {"name": "broken", "namespace": "apps"},
                "roleRef": {"kind": "Role", "name": "missing"},
                "subjects": [{"kind": "Group", "name": "system:authenticated"}]}),
        ]);
        let allowed = authorize(
            &policy,
            &resource("patch", "apps", "deployments", "", "web"),
        );
        assert_eq!(
            allowed,
            Decision {
                allowed: true,
                reason: "RBAC: allowed by RoleBinding \"tenant/apps\" of ClusterRole \"admin\" to ServiceAccount \"deployer/apps\"".into()
            }
        );
        let refused = authorize(
            &policy,
            &resource("delete", "apps", "deployments", "", "web"),
        );
        assert_eq!(
            refused,
            Decision {
                allowed: false,
                reason: "RBAC: role.rbac.authorization.k8s.io \"missing\" not found".into()
            }
        );
        // Cluster scope: the RoleBindings do not apply.
        let mut cluster = resource("patch", "apps", "deployments", "", "web");
        cluster.namespace.clear();
        assert!(!authorize(&policy, &cluster).allowed);
    }
}
