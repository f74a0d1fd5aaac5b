//! Fields of built-in kinds that an update may not change, with kube-apiserver's messages
//! (`pkg/apis/*/validation`'s `Validate*Update`): one rule per resource in [`RULES`].
//!
//! Values are compared semantically, as upstream's `apiequality.Semantic.DeepEqual` after
//! defaulting: `null`, `""`, `[]` and `{}` equal an absent field, and the few defaults that
//! matter here (a Secret's `type`, a Job's `completionMode`, ...) fill absent fields on both
//! sides, so re-applying an unchanged manifest is never refused. Approximations:
//! - values that upstream prints with Go's `%#v` print as Go for label selectors and string
//!   lists, as JSON for anything larger (a pod template);
//! - the diff upstream appends to Pod and PersistentVolumeClaim refusals lists the changed
//!   top-level spec fields instead of `cmp.Diff` output;
//! - a Job's template may change where upstream allows it (labels, annotations, node
//!   selector, tolerations, scheduling gates, node affinity of a suspended Job that never
//!   started); other upstream nuances (a Pod's scheduling-gate and node-affinity rules, the
//!   shrink check of a bound claim's storage request) are not enforced.

use serde_json::{Map, Value, json};

use crate::registry::Resource;
use crate::status::Cause;
use crate::validation::quote;

type Rule = fn(old: &Value, new: &Value) -> Vec<Cause>;

/// (group, resource, rule) of every built-in resource with immutable fields. CronJobs have none.
const RULES: &[(&str, &str, Rule)] = &[
    ("apps", "deployments", selector_immutable),
    ("apps", "replicasets", selector_immutable),
    ("apps", "daemonsets", selector_immutable),
    ("apps", "statefulsets", statefulset),
    ("batch", "jobs", job),
    ("", "services", service),
    ("", "configmaps", configmap),
    ("", "secrets", secret),
    ("", "persistentvolumeclaims", claim),
    ("", "pods", pod),
];

/// What an update of `old` to `new` changes that it may not.
pub fn check(r: &Resource, old: &Value, new: &Value) -> Vec<Cause> {
    if !r.origin.is_builtin() {
        return vec![];
    }
    RULES
        .iter()
        .find(|(group, resource, _)| r.group == *group && r.resource == *resource)
        .map(|(_, _, rule)| rule(old, new))
        .unwrap_or_default()
}

const IMMUTABLE: &str = "field is immutable";

fn invalid(field: &str, value: String, detail: &str) -> Cause {
    Cause::new(
        "FieldValueInvalid",
        field,
        format!("Invalid value: {value}: {detail}"),
    )
}

fn forbidden(field: &str, detail: &str) -> Cause {
    Cause::new("FieldValueForbidden", field, format!("Forbidden: {detail}"))
}

fn at<'a>(object: &'a Value, pointer: &str) -> Option<&'a Value> {
    object.pointer(pointer)
}

/// A copy without empty values (`null`, `""`, `[]`, `{}`, recursively); `None` when nothing is
/// left. Array elements keep their positions.
fn normalized(value: &Value) -> Option<Value> {
    match value {
        Value::Null => None,
        Value::String(s) if s.is_empty() => None,
        Value::Array(items) if items.is_empty() => None,
        Value::Array(items) => Some(Value::Array(
            items
                .iter()
                .map(|v| normalized(v).unwrap_or(Value::Null))
                .collect(),
        )),
        Value::Object(map) => {
            let kept: Map<String, Value> = map
                .iter()
                .filter_map(|(k, v)| normalized(v).map(|v| (k.clone(), v)))
                .collect();
            (!kept.is_empty()).then_some(Value::Object(kept))
        }
        Value::Number(n) => Some(
            // 1 and 1.0 are the same quantity once decoded into a Go int.
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                .map(|f| Value::from(f as i64))
                .unwrap_or_else(|| value.clone()),
        ),
        other => Some(other.clone()),
    }
}

/// Semantic equality of two optional values.
fn same(a: Option<&Value>, b: Option<&Value>) -> bool {
    a.and_then(normalized) == b.and_then(normalized)
}

/// `object` with `defaults` (JSON pointer, value) filled in where absent or empty, as
/// upstream's defaulting would have stored them.
fn defaulted(object: &Value, defaults: &[(&str, Value)]) -> Value {
    let mut object = object.clone();
    for (pointer, default) in defaults {
        if object.pointer(pointer).and_then(normalized).is_some() {
            continue;
        }
        let Some((parent, field)) = pointer.rsplit_once('/') else {
            continue;
        };
        if let Some(map) = object.pointer_mut(parent).and_then(Value::as_object_mut) {
            map.insert(field.to_owned(), default.clone());
        }
    }
    object
}

/// A value as upstream's `field.Invalid` prints it: scalars as Go prints them, `null` for
/// nothing, JSON for structures.
fn go_value(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => "null".into(),
        Some(Value::String(s)) => quote(s),
        Some(other) => other.to_string(),
    }
}

fn go_strings(value: Option<&Value>) -> String {
    let items: Vec<String> = value
        .and_then(Value::as_array)
        .map(|a| a.iter().map(|v| quote(v.as_str().unwrap_or(""))).collect())
        .unwrap_or_default();
    if items.is_empty() {
        "[]string(nil)".into()
    } else {
        format!("[]string{{{}}}", items.join(", "))
    }
}

/// A `metav1.LabelSelector` as Go's `%#v` prints it, the most quoted immutable-field error.
fn go_label_selector(value: Option<&Value>) -> String {
    let Some(selector) = value.filter(|v| v.is_object()) else {
        return "null".into();
    };
    let labels = match selector.get("matchLabels").and_then(Value::as_object) {
        Some(labels) if !labels.is_empty() => {
            let mut pairs: Vec<(&String, &Value)> = labels.iter().collect();
            pairs.sort_by(|a, b| a.0.cmp(b.0));
            let pairs: Vec<String> = pairs
                .iter()
                .map(|(k, v)| format!("{}:{}", quote(k), quote(v.as_str().unwrap_or(""))))
                .collect();
            format!("map[string]string{{{}}}", pairs.join(", "))
        }
        _ => "map[string]string(nil)".into(),
    };
    let expressions = match selector.get("matchExpressions").and_then(Value::as_array) {
        Some(list) if !list.is_empty() => {
            let items: Vec<String> = list
                .iter()
                .map(|e| {
                    format!(
                        "v1.LabelSelectorRequirement{{Key:{}, Operator:{}, Values:{}}}",
                        quote(e.get("key").and_then(Value::as_str).unwrap_or("")),
                        quote(e.get("operator").and_then(Value::as_str).unwrap_or("")),
                        go_strings(e.get("values"))
                    )
                })
                .collect();
            format!("[]v1.LabelSelectorRequirement{{{}}}", items.join(", "))
        }
        _ => "[]v1.LabelSelectorRequirement(nil)".into(),
    };
    format!("v1.LabelSelector{{MatchLabels:{labels}, MatchExpressions:{expressions}}}")
}

/// `ValidateImmutableField` of one field.
fn immutable_field(
    old: &Value,
    new: &Value,
    pointer: &str,
    field: &str,
    render: fn(Option<&Value>) -> String,
) -> Option<Cause> {
    let (before, after) = (at(old, pointer), at(new, pointer));
    (!same(before, after)).then(|| invalid(field, render(after), IMMUTABLE))
}

/// Lines naming the top-level fields of `old` and `new` that differ, for the message tail.
fn spec_diff(old: &Value, new: &Value) -> String {
    let mut keys: Vec<&String> = old
        .as_object()
        .into_iter()
        .chain(new.as_object())
        .flat_map(|m| m.keys())
        .collect();
    keys.sort();
    keys.dedup();
    keys.iter()
        .filter(|k| !same(old.get(k.as_str()), new.get(k.as_str())))
        .map(|k| {
            let show = |v: Option<&Value>| v.map_or("null".into(), Value::to_string);
            format!(
                "\n  {k}: {} -> {}",
                show(old.get(k.as_str())),
                show(new.get(k.as_str()))
            )
        })
        .collect()
}

/// Copies `fields` of `from`'s object at `pointer` over `to`'s (removing those `from` lacks).
fn copy_fields(from: &Value, to: &mut Value, pointer: &str, fields: &[&str]) {
    let source = from.pointer(pointer).and_then(Value::as_object).cloned();
    let Some(target) = to.pointer_mut(pointer).and_then(Value::as_object_mut) else {
        return;
    };
    for field in fields {
        match source.as_ref().and_then(|s| s.get(*field)) {
            Some(v) => {
                target.insert((*field).to_owned(), v.clone());
            }
            None => {
                target.remove(*field);
            }
        }
    }
}

fn spec_of(object: &Value) -> Value {
    object.get("spec").cloned().unwrap_or_else(|| json!({}))
}

/// Deployments, ReplicaSets and DaemonSets of `apps/v1`: the selector is fixed at creation.
fn selector_immutable(old: &Value, new: &Value) -> Vec<Cause> {
    immutable_field(
        old,
        new,
        "/spec/selector",
        "spec.selector",
        go_label_selector,
    )
    .into_iter()
    .collect()
}

fn statefulset(old: &Value, new: &Value) -> Vec<Cause> {
    let (old_spec, mut new_spec) = (spec_of(old), spec_of(new));
    // What upstream copies from the old spec before comparing.
    copy_fields(
        &old_spec,
        &mut new_spec,
        "",
        &[
            "replicas",
            "template",
            "updateStrategy",
            "minReadySeconds",
            "ordinals",
            "persistentVolumeClaimRetentionPolicy",
        ],
    );
    let defaults = [
        ("/podManagementPolicy", json!("OrderedReady")),
        ("/revisionHistoryLimit", json!(10)),
    ];
    if same(
        Some(&defaulted(&old_spec, &defaults)),
        Some(&defaulted(&new_spec, &defaults)),
    ) {
        return vec![];
    }
    vec![forbidden(
        "spec",
        "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
    )]
}

fn job(old: &Value, new: &Value) -> Vec<Cause> {
    let defaults = [("/spec/completionMode", json!("NonIndexed"))];
    let (old, new) = (defaulted(old, &defaults), defaulted(new, &defaults));
    let mut causes = vec![];
    causes.extend(job_completions(&old, &new));
    causes.extend(immutable_field(
        &old,
        &new,
        "/spec/selector",
        "spec.selector",
        go_label_selector,
    ));
    causes.extend(job_template(&old, &new));
    for (pointer, field) in [
        ("/spec/completionMode", "spec.completionMode"),
        ("/spec/podFailurePolicy", "spec.podFailurePolicy"),
        ("/spec/backoffLimitPerIndex", "spec.backoffLimitPerIndex"),
        ("/spec/managedBy", "spec.managedBy"),
        ("/spec/successPolicy", "spec.successPolicy"),
    ] {
        causes.extend(immutable_field(&old, &new, pointer, field, go_value));
    }
    causes
}

/// Completions are fixed, except that an Indexed Job may scale them together with parallelism
/// (elastic Indexed Jobs).
fn job_completions(old: &Value, new: &Value) -> Option<Cause> {
    let (before, after) = (at(old, "/spec/completions"), at(new, "/spec/completions"));
    if same(before, after) {
        return None;
    }
    if at(new, "/spec/completionMode").and_then(Value::as_str) != Some("Indexed") {
        return Some(invalid("spec.completions", go_value(after), IMMUTABLE));
    }
    let after = after.filter(|v| !v.is_null())?;
    (Some(after) != at(new, "/spec/parallelism")).then(|| {
        invalid(
            "spec.completions",
            go_value(Some(after)),
            "can only be modified in tandem with spec.parallelism",
        )
    })
}

/// The pod template is fixed; a suspended Job that never started may change where its pods
/// will be scheduled and its template's labels and annotations.
fn job_template(old: &Value, new: &Value) -> Option<Cause> {
    let mut before = at(old, "/spec/template")
        .cloned()
        .unwrap_or_else(|| json!({}));
    let after = at(new, "/spec/template");
    let suspended = at(old, "/spec/suspend").and_then(Value::as_bool) == Some(true);
    let started = at(old, "/status/startTime").is_some_and(|v| !v.is_null());
    if suspended
        && !started
        && let Some(after) = after
    {
        copy_fields(after, &mut before, "/metadata", &["labels", "annotations"]);
        copy_fields(
            after,
            &mut before,
            "/spec",
            &["nodeSelector", "tolerations", "schedulingGates"],
        );
        copy_fields(after, &mut before, "/spec/affinity", &["nodeAffinity"]);
    }
    (!same(Some(&before), after)).then(|| invalid("spec.template", go_value(after), IMMUTABLE))
}

/// The cluster IPs a Service holds: `clusterIPs`, or the single `clusterIP` of an object
/// written before `clusterIPs` existed.
pub fn cluster_ips(service: &Value) -> Vec<String> {
    let plural: Vec<String> = at(service, "/spec/clusterIPs")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    if !plural.is_empty() {
        return plural;
    }
    at(service, "/spec/clusterIP")
        .and_then(Value::as_str)
        .filter(|ip| !ip.is_empty())
        .map(|ip| vec![ip.to_owned()])
        .unwrap_or_default()
}

pub fn is_external_name(service: &Value) -> bool {
    at(service, "/spec/type").and_then(Value::as_str) == Some("ExternalName")
}

/// Upstream's `validateUpgradeDowngradeClusterIPs`: the primary IP (and a kept secondary) may
/// not change once set; `None` (headless) is a value too.
fn service(old: &Value, new: &Value) -> Vec<Cause> {
    if is_external_name(old) || is_external_name(new) {
        return vec![];
    }
    let (before, after) = (cluster_ips(old), cluster_ips(new));
    let headless = |ips: &[String]| ips.len() == 1 && ips[0] == "None";
    if headless(&before) && headless(&after) {
        return vec![];
    }
    let shown = || {
        let list: Vec<Value> = after.iter().map(|s| Value::String(s.clone())).collect();
        go_strings(Some(&Value::Array(list)))
    };
    let changed = |i: usize| {
        invalid(
            &format!("spec.clusterIPs[{i}]"),
            shown(),
            "may not change once set",
        )
    };
    let mut causes = vec![];
    if before.len() == after.len() {
        causes.extend(
            (0..before.len())
                .filter(|&i| before[i] != after[i])
                .map(changed),
        );
    } else if before.len() > after.len() {
        if after.is_empty() {
            causes.push(invalid(
                "spec.clusterIPs[0]",
                shown(),
                "primary clusterIP can not be unset",
            ));
        } else if before[0] != after[0] {
            causes.push(changed(0));
        }
    } else if !before.is_empty() && before[0] != after[0] {
        causes.push(changed(0));
    }
    causes
}

const WHEN_IMMUTABLE: &str = "field is immutable when `immutable` is set";

/// With `immutable: true`, `immutable` stays set and the listed data fields stay as they are.
fn frozen_data(old: &Value, new: &Value, fields: &[&str]) -> Vec<Cause> {
    if old.get("immutable").and_then(Value::as_bool) != Some(true) {
        return vec![];
    }
    let mut causes = vec![];
    if new.get("immutable").and_then(Value::as_bool) != Some(true) {
        causes.push(forbidden("immutable", WHEN_IMMUTABLE));
    }
    for field in fields {
        if !same(old.get(*field), new.get(*field)) {
            causes.push(forbidden(field, WHEN_IMMUTABLE));
        }
    }
    causes
}

fn configmap(old: &Value, new: &Value) -> Vec<Cause> {
    frozen_data(old, new, &["data", "binaryData"])
}

fn secret(old: &Value, new: &Value) -> Vec<Cause> {
    let defaults = [("/type", json!("Opaque"))];
    let mut causes: Vec<Cause> = immutable_field(
        &defaulted(old, &defaults),
        &defaulted(new, &defaults),
        "/type",
        "type",
        go_value,
    )
    .into_iter()
    .collect();
    causes.extend(frozen_data(old, new, &["data"]));
    causes
}

/// A claim's spec is fixed, except that `volumeName` may be set once, a `storageClassName` may
/// be given to a claim that had none, and a bound claim may change its storage request and
/// volume attributes class.
fn claim(old: &Value, new: &Value) -> Vec<Cause> {
    let defaults = [("/volumeMode", json!("Filesystem"))];
    let mut before = defaulted(&spec_of(old), &defaults);
    let mut after = defaulted(&spec_of(new), &defaults);
    if before.get("volumeName").and_then(normalized).is_none() {
        copy_fields(&after, &mut before, "", &["volumeName"]);
    }
    if before.get("storageClassName").is_none_or(Value::is_null) {
        copy_fields(&after, &mut before, "", &["storageClassName"]);
    }
    let bound = at(new, "/status/phase").and_then(Value::as_str) == Some("Bound");
    if bound {
        copy_fields(&before, &mut after, "/resources/requests", &["storage"]);
        copy_fields(&before, &mut after, "", &["volumeAttributesClassName"]);
    }
    if same(Some(&before), Some(&after)) {
        return vec![];
    }
    let detail = format!(
        "spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims{}",
        spec_diff(&before, &after)
    );
    vec![forbidden("spec", &detail)]
}

const POD_UPDATABLE: &str = "`spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)";

fn pod(old: &Value, new: &Value) -> Vec<Cause> {
    let (old_spec, new_spec) = (spec_of(old), spec_of(new));
    let mut causes = vec![];
    for list in ["containers", "initContainers"] {
        let count = |spec: &Value| spec.get(list).and_then(Value::as_array).map_or(0, Vec::len);
        if count(&old_spec) != count(&new_spec) {
            causes.push(forbidden(
                &format!("spec.{list}"),
                "pod updates may not add or remove containers",
            ));
            return causes;
        }
    }
    causes.extend(active_deadline(&old_spec, &new_spec));
    causes.extend(only_added_tolerations(&old_spec, &new_spec));
    // Munge what may change to the old values, then nothing else may differ.
    let mut munged = new_spec.clone();
    for list in ["containers", "initContainers"] {
        let old_items = old_spec.get(list).and_then(Value::as_array);
        if let (Some(items), Some(old_items)) = (
            munged.get_mut(list).and_then(Value::as_array_mut),
            old_items,
        ) {
            for (item, old_item) in items.iter_mut().zip(old_items) {
                copy_fields(old_item, item, "", &["image"]);
            }
        }
    }
    copy_fields(
        &old_spec,
        &mut munged,
        "",
        &["activeDeadlineSeconds", "tolerations", "schedulingGates"],
    );
    let negative = |spec: &Value| {
        spec.get("terminationGracePeriodSeconds")
            .and_then(Value::as_i64)
    };
    if negative(&old_spec).is_some_and(|s| s < 0) && negative(&munged) == Some(1) {
        copy_fields(
            &old_spec,
            &mut munged,
            "",
            &["terminationGracePeriodSeconds"],
        );
    }
    if !same(Some(&old_spec), Some(&munged)) {
        let detail = format!(
            "pod updates may not change fields other than {POD_UPDATABLE}{}",
            spec_diff(&old_spec, &munged)
        );
        causes.push(forbidden("spec", &detail));
    }
    causes
}

/// `activeDeadlineSeconds` may be set, or lowered, but not raised or removed.
fn active_deadline(old: &Value, new: &Value) -> Option<Cause> {
    let field = "spec.activeDeadlineSeconds";
    let before = old.get("activeDeadlineSeconds").and_then(Value::as_i64);
    match new.get("activeDeadlineSeconds").filter(|v| !v.is_null()) {
        Some(after) => {
            let value = after.as_i64().unwrap_or(-1);
            if !(0..=i64::from(i32::MAX)).contains(&value) {
                Some(invalid(
                    field,
                    after.to_string(),
                    "must be between 0 and 2147483647, inclusive",
                ))
            } else if before.is_some_and(|b| b < value) {
                Some(invalid(
                    field,
                    after.to_string(),
                    "must be less than or equal to previous value",
                ))
            } else {
                None
            }
        }
        None if before.is_some() => Some(invalid(
            field,
            "null".into(),
            "must not update from a positive integer to nil value",
        )),
        None => None,
    }
}

/// Every existing toleration stays (its `tolerationSeconds` may change); new ones may be added.
fn only_added_tolerations(old: &Value, new: &Value) -> Option<Cause> {
    let list = |spec: &Value| {
        spec.get("tolerations")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    let without_seconds = |t: &Value| {
        let mut t = t.clone();
        if let Some(map) = t.as_object_mut() {
            map.remove("tolerationSeconds");
        }
        t
    };
    let after: Vec<Value> = list(new).iter().map(without_seconds).collect();
    let kept = list(old)
        .iter()
        .map(without_seconds)
        .all(|old| after.iter().any(|new| same(Some(&old), Some(new))));
    (!kept).then(|| {
        forbidden(
            "spec.tolerations",
            "existing toleration can not be modified except its tolerationSeconds",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::Registry;

    fn rule(group: &str, resource: &str, old: Value, new: Value) -> Vec<String> {
        let r = Registry::with_builtins()
            .versions_of(group, resource)
            .into_iter()
            .next()
            .unwrap();
        check(&r, &old, &new)
            .into_iter()
            .map(|c| format!("{}: {}", c.field, c.message))
            .collect()
    }

    fn deployment(labels: Value) -> Value {
        json!({"spec": {"replicas": 1, "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": {"app": "web"}}}}})
    }

    #[test]
    fn a_changed_selector_is_refused_with_the_go_rendering() {
        let old = deployment(json!({"app": "web"}));
        let new = deployment(json!({"app": "web2", "tier": "a"}));
        assert_eq!(
            rule("apps", "deployments", old.clone(), new),
            vec![
                "spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{\"app\":\"web2\", \"tier\":\"a\"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable"
            ]
        );
        let mut scaled = old.clone();
        scaled["spec"]["replicas"] = json!(5);
        assert!(rule("apps", "deployments", old, scaled).is_empty());
    }

    #[test]
    fn empty_values_and_defaults_compare_equal() {
        let old = json!({"spec": {"completions": 1, "selector": {"matchLabels": {"a": "b"}},
            "template": {"spec": {"containers": [{"name": "c", "image": "x"}]}}}});
        let mut new = old.clone();
        new["spec"]["completionMode"] = json!("NonIndexed");
        new["spec"]["template"]["metadata"] = json!({"labels": {}});
        new["spec"]["selector"]["matchExpressions"] = json!([]);
        assert!(rule("batch", "jobs", old.clone(), new).is_empty());
        let mut indexed = old;
        indexed["spec"]["completionMode"] = json!("Indexed");
        assert_eq!(
            rule("batch", "jobs", json!({"spec": {}}), indexed),
            vec![
                // Indexed now, so upstream checks the elastic rule, not immutability.
                "spec.completions: Invalid value: 1: can only be modified in tandem with spec.parallelism",
                "spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{\"a\":\"b\"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable",
                "spec.template: Invalid value: {\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"x\"}]}}: field is immutable",
                "spec.completionMode: Invalid value: \"Indexed\": field is immutable",
            ]
        );
    }

    #[test]
    fn indexed_jobs_scale_completions_with_parallelism() {
        let job = |c: i64, p: i64| json!({"spec": {"completionMode": "Indexed", "completions": c, "parallelism": p}});
        assert!(rule("batch", "jobs", job(3, 3), job(5, 5)).is_empty());
        assert_eq!(
            rule("batch", "jobs", job(3, 3), job(5, 3)),
            vec![
                "spec.completions: Invalid value: 5: can only be modified in tandem with spec.parallelism"
            ]
        );
    }

    #[test]
    fn a_suspended_job_that_never_started_may_move_its_pods() {
        let job = |suspend: bool, selector: &str| {
            json!({"spec": {"suspend": suspend, "template": {
                "metadata": {"labels": {"queue": selector}},
                "spec": {"nodeSelector": {"pool": selector}, "containers": [{"name": "c"}]}}}})
        };
        assert!(rule("batch", "jobs", job(true, "a"), job(true, "b")).is_empty());
        assert_eq!(
            rule("batch", "jobs", job(false, "a"), job(false, "b")).len(),
            1
        );
        let mut started = job(true, "a");
        started["status"] = json!({"startTime": "2026-01-01T00:00:00Z"});
        assert_eq!(rule("batch", "jobs", started, job(true, "b")).len(), 1);
    }

    #[test]
    fn statefulset_spec_outside_the_mutable_fields_is_forbidden() {
        let old = json!({"spec": {"replicas": 1, "serviceName": "db", "template": {"a": 1},
            "volumeClaimTemplates": [{"metadata": {"name": "data"}}]}});
        let mut mutable = old.clone();
        mutable["spec"]["replicas"] = json!(3);
        mutable["spec"]["template"] = json!({"a": 2});
        mutable["spec"]["updateStrategy"] = json!({"type": "OnDelete"});
        mutable["spec"]["podManagementPolicy"] = json!("OrderedReady");
        assert!(rule("apps", "statefulsets", old.clone(), mutable).is_empty());
        let mut storage = old.clone();
        storage["spec"]["volumeClaimTemplates"][0]["spec"] = json!({"storageClassName": "x"});
        assert_eq!(
            rule("apps", "statefulsets", old, storage),
            vec![
                "spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"
            ]
        );
    }

    #[test]
    fn service_cluster_ips_may_not_change_once_set() {
        let svc = |ip: &str| json!({"spec": {"clusterIP": ip, "clusterIPs": [ip]}});
        assert_eq!(
            rule("", "services", svc("10.0.0.1"), svc("10.0.0.2")),
            vec![
                "spec.clusterIPs[0]: Invalid value: []string{\"10.0.0.2\"}: may not change once set"
            ]
        );
        assert_eq!(
            rule("", "services", svc("None"), svc("10.0.0.2")),
            vec![
                "spec.clusterIPs[0]: Invalid value: []string{\"10.0.0.2\"}: may not change once set"
            ]
        );
        assert!(rule("", "services", json!({"spec": {}}), svc("10.0.0.2")).is_empty());
        let external = json!({"spec": {"type": "ExternalName", "externalName": "a.example"}});
        assert!(rule("", "services", svc("10.0.0.1"), external).is_empty());
        // Only the old singular field (an object stored before clusterIPs existed).
        let legacy = json!({"spec": {"clusterIP": "10.0.0.1"}});
        assert!(rule("", "services", legacy, svc("10.0.0.1")).is_empty());
    }

    #[test]
    fn immutable_configmaps_and_secrets_keep_their_data() {
        let cm = |immutable: Option<bool>, v: &str| {
            let mut o = json!({"data": {"k": v}});
            if let Some(i) = immutable {
                o["immutable"] = json!(i);
            }
            o
        };
        assert!(rule("", "configmaps", cm(None, "a"), cm(None, "b")).is_empty());
        assert!(rule("", "configmaps", cm(Some(true), "a"), cm(Some(true), "a")).is_empty());
        assert_eq!(
            rule("", "configmaps", cm(Some(true), "a"), cm(None, "b")),
            vec![
                "immutable: Forbidden: field is immutable when `immutable` is set",
                "data: Forbidden: field is immutable when `immutable` is set",
            ]
        );
        let secret = |t: Option<&str>| match t {
            Some(t) => json!({"type": t, "data": {"k": "YQ=="}}),
            None => json!({"data": {"k": "YQ=="}}),
        };
        assert!(rule("", "secrets", secret(None), secret(Some("Opaque"))).is_empty());
        assert_eq!(
            rule(
                "",
                "secrets",
                secret(None),
                secret(Some("kubernetes.io/tls"))
            ),
            vec!["type: Invalid value: \"kubernetes.io/tls\": field is immutable"]
        );
    }

    #[test]
    fn claims_change_their_request_only_when_bound() {
        let pvc = |size: &str, phase: Option<&str>| {
            let mut o = json!({"spec": {"accessModes": ["ReadWriteOnce"],
                "resources": {"requests": {"storage": size}}}});
            if let Some(p) = phase {
                o["status"] = json!({"phase": p});
            }
            o
        };
        assert!(
            rule(
                "",
                "persistentvolumeclaims",
                pvc("1Gi", None),
                pvc("1Gi", None)
            )
            .is_empty()
        );
        assert!(
            rule(
                "",
                "persistentvolumeclaims",
                pvc("1Gi", Some("Bound")),
                pvc("2Gi", Some("Bound"))
            )
            .is_empty()
        );
        let refused = rule(
            "",
            "persistentvolumeclaims",
            pvc("1Gi", None),
            pvc("2Gi", None),
        );
        assert_eq!(refused.len(), 1);
        assert!(refused[0].starts_with(
            "spec: Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims\n  resources:"
        ), "{refused:?}");
        let mut named = pvc("1Gi", None);
        named["spec"]["volumeName"] = json!("pv-1");
        named["spec"]["storageClassName"] = json!("fast");
        assert!(rule("", "persistentvolumeclaims", pvc("1Gi", None), named).is_empty());
    }

    #[test]
    fn pods_change_images_deadlines_and_added_tolerations_only() {
        let pod = |image: &str, port: i64| {
            json!({"spec": {"containers": [{"name": "c", "image": image,
                "ports": [{"containerPort": port}]}],
                "tolerations": [{"key": "a", "operator": "Exists"}]}})
        };
        let mut allowed = pod("nginx:2", 80);
        allowed["spec"]["activeDeadlineSeconds"] = json!(30);
        allowed["spec"]["tolerations"] = json!([{"key": "a", "operator": "Exists"}, {"key": "b"}]);
        assert!(rule("", "pods", pod("nginx:1", 80), allowed).is_empty());
        let refused = rule("", "pods", pod("nginx:1", 80), pod("nginx:1", 81));
        assert_eq!(refused.len(), 1);
        assert!(refused[0].starts_with("spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`"));
        let mut removed = pod("nginx:1", 80);
        removed["spec"]["tolerations"] = json!([]);
        assert_eq!(
            rule("", "pods", pod("nginx:1", 80), removed),
            vec![
                "spec.tolerations: Forbidden: existing toleration can not be modified except its tolerationSeconds"
            ]
        );
        let mut added = pod("nginx:1", 80);
        added["spec"]["containers"] = json!([{"name": "a"}, {"name": "b"}]);
        assert_eq!(
            rule("", "pods", pod("nginx:1", 80), added),
            vec!["spec.containers: Forbidden: pod updates may not add or remove containers"]
        );
    }

    #[test]
    fn cronjobs_and_custom_resources_have_no_immutable_fields() {
        let old = json!({"spec": {"schedule": "* * * * *"}});
        let new = json!({"spec": {"schedule": "0 * * * *"}});
        assert!(rule("batch", "cronjobs", old, new).is_empty());
    }
}
