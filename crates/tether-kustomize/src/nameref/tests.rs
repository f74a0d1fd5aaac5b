use serde_json::{Value, json};

use super::*;
use crate::nameref::defaults::builtin_name_references;

fn resmap(yaml: &str) -> ResMap {
    let mut m = ResMap::new();
    for doc in tether_yaml::parse_documents(yaml).unwrap() {
        m.append(Resource::new(doc.value)).unwrap();
    }
    m
}

fn find<'a>(m: &'a ResMap, kind: &str, name: &str) -> &'a Resource {
    m.iter()
        .find(|r| r.kind() == kind && r.name() == name)
        .unwrap_or_else(|| panic!("no {kind} {name}"))
}

fn find_mut<'a>(m: &'a mut ResMap, kind: &str, name: &str) -> &'a mut Resource {
    m.iter_mut()
        .find(|r| r.kind() == kind && r.name() == name)
        .unwrap_or_else(|| panic!("no {kind} {name}"))
}

/// Renames as the prefix transformer does: records the old id and the prefix.
fn prefix(m: &mut ResMap, kind: &str, name: &str, p: &str) {
    let r = find_mut(m, kind, name);
    r.store_previous_id();
    r.set_name(&format!("{p}{name}"));
    r.prefixes.push(p.to_owned());
}

fn rename(m: &mut ResMap, kind: &str, name: &str, new: &str) {
    let r = find_mut(m, kind, name);
    r.store_previous_id();
    r.set_name(new);
}

fn at<'a>(v: &'a Value, pointer: &str) -> &'a Value {
    v.pointer(pointer)
        .unwrap_or_else(|| panic!("nothing at {pointer} in {v}"))
}

const DEPLOYMENT_USING_CM: &str = r#"
apiVersion: v1
kind: ConfigMap
metadata:
  name: cm
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      volumes:
      - name: v
        configMap:
          name: cm
      - name: p
        projected:
          sources:
          - configMap:
              name: cm
          - secret:
              name: cm
      containers:
      - name: c
        envFrom:
        - configMapRef:
            name: cm
        env:
        - name: A
          valueFrom:
            configMapKeyRef:
              name: cm
              key: k
        - name: B
          valueFrom:
            configMapKeyRef:
              name: other
              key: k
"#;

#[test]
fn renamed_configmap_is_followed_everywhere_in_a_pod_template() {
    let mut m = resmap(DEPLOYMENT_USING_CM);
    prefix(&mut m, "ConfigMap", "cm", "p-");
    fix_back_references(&mut m, &builtin_name_references()).unwrap();
    let d = &find(&m, "Deployment", "web").object;
    let spec = at(d, "/spec/template/spec");
    assert_eq!(at(spec, "/volumes/0/configMap/name"), "p-cm");
    assert_eq!(
        at(spec, "/volumes/1/projected/sources/0/configMap/name"),
        "p-cm"
    );
    // A Secret named like the ConfigMap is another resource: untouched.
    assert_eq!(at(spec, "/volumes/1/projected/sources/1/secret/name"), "cm");
    assert_eq!(
        at(spec, "/containers/0/envFrom/0/configMapRef/name"),
        "p-cm"
    );
    assert_eq!(
        at(spec, "/containers/0/env/0/valueFrom/configMapKeyRef/name"),
        "p-cm"
    );
    assert_eq!(
        at(spec, "/containers/0/env/1/valueFrom/configMapKeyRef/name"),
        "other"
    );
}

#[test]
fn nothing_renamed_nothing_changes() {
    let mut m = resmap(DEPLOYMENT_USING_CM);
    let before = m.clone();
    fix_back_references(&mut m, &builtin_name_references()).unwrap();
    assert_eq!(m, before);
}

#[test]
fn references_from_other_namespaces_are_not_followed() {
    let mut m = resmap(
        r#"
apiVersion: v1
kind: ConfigMap
metadata:
  name: cm
  namespace: a
---
apiVersion: v1
kind: Pod
metadata:
  name: pod
  namespace: b
spec:
  containers:
  - name: c
    envFrom:
    - configMapRef:
        name: cm
"#,
    );
    prefix(&mut m, "ConfigMap", "cm", "p-");
    fix_back_references(&mut m, &builtin_name_references()).unwrap();
    let pod = &find(&m, "Pod", "pod").object;
    assert_eq!(
        at(pod, "/spec/containers/0/envFrom/0/configMapRef/name"),
        "cm"
    );
}

#[test]
fn kind_change_is_followed() {
    let mut m = resmap(DEPLOYMENT_USING_CM);
    // A patch turned the ConfigMap into a Secret named "sec": references by ConfigMap
    // fields still follow it, since one of its previous ids is a ConfigMap; Secret fields
    // do not, since only previous ids count.
    let r = find_mut(&mut m, "ConfigMap", "cm");
    r.store_previous_id();
    r.set_kind("Secret");
    r.set_name("sec");
    fix_back_references(&mut m, &builtin_name_references()).unwrap();
    let d = &find(&m, "Deployment", "web").object;
    assert_eq!(at(d, "/spec/template/spec/volumes/0/configMap/name"), "sec");
    assert_eq!(
        at(
            d,
            "/spec/template/spec/volumes/1/projected/sources/1/secret/name"
        ),
        "cm"
    );
}

const RBAC: &str = r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: reader
  namespace: ns
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: reader
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: to-cluster-role
  namespace: ns
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: reader
subjects:
- kind: ServiceAccount
  name: sa
  namespace: other
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: to-role
  namespace: ns
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: reader
subjects:
- kind: ServiceAccount
  name: sa
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: sa
  namespace: other
"#;

#[test]
fn role_ref_follows_the_kind_it_names() {
    let mut m = resmap(RBAC);
    rename(&mut m, "Role", "reader", "role-reader");
    rename(&mut m, "ClusterRole", "reader", "cluster-reader");
    fix_back_references(&mut m, &builtin_name_references()).unwrap();
    let to_cluster = &find(&m, "RoleBinding", "to-cluster-role").object;
    assert_eq!(at(to_cluster, "/roleRef/name"), "cluster-reader");
    let to_role = &find(&m, "RoleBinding", "to-role").object;
    assert_eq!(at(to_role, "/roleRef/name"), "role-reader");
}

#[test]
fn subjects_follow_service_accounts_across_namespaces() {
    let mut m = resmap(RBAC);
    let sa = find_mut(&mut m, "ServiceAccount", "sa");
    sa.store_previous_id();
    sa.set_name("p-sa");
    sa.set_namespace("ns");
    fix_back_references(&mut m, &builtin_name_references()).unwrap();
    // Named with its original namespace: name and namespace both follow.
    let to_cluster = &find(&m, "RoleBinding", "to-cluster-role").object;
    assert_eq!(
        at(to_cluster, "/subjects/0"),
        &json!({"kind": "ServiceAccount", "name": "p-sa", "namespace": "ns"})
    );
    // Named without a namespace: service accounts are reachable from any namespace, and the
    // namespace is written in.
    let to_role = &find(&m, "RoleBinding", "to-role").object;
    assert_eq!(
        at(to_role, "/subjects/0"),
        &json!({"kind": "ServiceAccount", "name": "p-sa", "namespace": "ns"})
    );
}

#[test]
fn same_old_name_in_two_namespaces_is_ambiguous() {
    let mut m = resmap(
        r#"
apiVersion: v1
kind: ServiceAccount
metadata:
  name: sa
  namespace: a
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: sa
  namespace: b
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: crb
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: r
subjects:
- kind: ServiceAccount
  name: sa
"#,
    );
    for r in m.iter_mut().filter(|r| r.kind() == "ServiceAccount") {
        r.store_previous_id();
    }
    let err = fix_back_references(&mut m, &builtin_name_references()).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("found multiple possible referrals: ServiceAccount.v1.[noGrp]/sa.a, ServiceAccount.v1.[noGrp]/sa.b"),
        "{msg}"
    );
    assert!(msg.contains("updating name reference in 'subjects' field of 'ClusterRoleBinding"));
}

#[test]
fn prefixes_and_suffixes_break_ties() {
    // Two ConfigMaps once named "cm", renamed by different overlays; the referrer went
    // through the same overlay as one of them.
    let mut m = resmap(
        r#"
apiVersion: v1
kind: ConfigMap
metadata:
  name: a-cm
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: b-cm
---
apiVersion: v1
kind: Pod
metadata:
  name: b-pod
spec:
  containers:
  - name: c
    envFrom:
    - configMapRef:
        name: cm
"#,
    );
    for (name, p) in [("a-cm", "a-"), ("b-cm", "b-")] {
        let r = find_mut(&mut m, "ConfigMap", name);
        r.previous_ids
            .push(ResId::new(Gvk::new("", "v1", "ConfigMap"), "cm", ""));
        r.prefixes.push(p.to_owned());
    }
    find_mut(&mut m, "Pod", "b-pod")
        .prefixes
        .push("b-".to_owned());
    fix_back_references(&mut m, &builtin_name_references()).unwrap();
    let pod = &find(&m, "Pod", "b-pod").object;
    assert_eq!(
        at(pod, "/spec/containers/0/envFrom/0/configMapRef/name"),
        "b-cm"
    );
}

#[test]
fn role_resource_names_list_is_rewritten_element_by_element() {
    let mut m = resmap(
        r#"
apiVersion: v1
kind: Secret
metadata:
  name: s
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: cr
rules:
- resources: [secrets]
  resourceNames: [s, t]
"#,
    );
    prefix(&mut m, "Secret", "s", "x-");
    fix_back_references(&mut m, &builtin_name_references()).unwrap();
    let cr = &find(&m, "ClusterRole", "cr").object;
    assert_eq!(at(cr, "/rules/0/resourceNames"), &json!(["x-s", "t"]));
}

#[test]
fn annotation_paths_with_escaped_slashes() {
    let mut m = resmap(
        r#"
apiVersion: v1
kind: Secret
metadata:
  name: auth
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: ing
  annotations:
    nginx.ingress.kubernetes.io/auth-secret: auth
"#,
    );
    prefix(&mut m, "Secret", "auth", "p-");
    fix_back_references(&mut m, &builtin_name_references()).unwrap();
    let ing = &find(&m, "Ingress", "ing").object;
    assert_eq!(
        at(
            ing,
            "/metadata/annotations/nginx.ingress.kubernetes.io~1auth-secret"
        ),
        "p-auth"
    );
}

#[test]
fn subject_without_name_is_a_config_error() {
    let mut m = resmap(
        r#"
apiVersion: v1
kind: ServiceAccount
metadata:
  name: sa
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: crb
subjects:
- kind: ServiceAccount
"#,
    );
    let err = fix_back_references(&mut m, &builtin_name_references()).unwrap_err();
    assert!(err.to_string().contains("no 'name' field in node"), "{err}");
}

#[test]
fn backrefs_sort_like_kustomize() {
    let mut gvks = [
        Gvk::new("", "v1", "Secret"),
        Gvk::new("apps", "v1", "Deployment"),
        Gvk::new("", "v1", "ConfigMap"),
        Gvk::new("x", "v1", "Foo"),
        Gvk::new(
            "admissionregistration.k8s.io",
            "v1",
            "ValidatingWebhookConfiguration",
        ),
        Gvk::new("", "v1", "Namespace"),
    ];
    gvks.sort_by(gvk_order);
    let kinds: Vec<&str> = gvks.iter().map(|g| g.kind.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "Namespace",
            "ConfigMap",
            "Secret",
            "Deployment",
            "Foo",
            "ValidatingWebhookConfiguration"
        ]
    );
}

#[test]
fn a_missing_suffix_matches_any_before_exact_comparison() {
    // kustomize's TestPrefixSuffix: the referrer went through a suffix its ConfigMaps never
    // saw; the lenient pass still tells the two overlays apart by prefix.
    let mut m = resmap(
        r#"
apiVersion: v1
kind: ConfigMap
metadata:
  name: a-cm
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: b-cm
---
apiVersion: v1
kind: Pod
metadata:
  name: a-pod-api
spec:
  containers:
  - name: c
    envFrom:
    - configMapRef:
        name: cm
"#,
    );
    for (name, p) in [("a-cm", "a-"), ("b-cm", "b-")] {
        let r = find_mut(&mut m, "ConfigMap", name);
        r.previous_ids
            .push(ResId::new(Gvk::new("", "v1", "ConfigMap"), "cm", ""));
        r.prefixes.push(p.to_owned());
    }
    let pod = find_mut(&mut m, "Pod", "a-pod-api");
    pod.prefixes.push("a-".to_owned());
    pod.suffixes.push("-api".to_owned());
    fix_back_references(&mut m, &builtin_name_references()).unwrap();
    let pod = &find(&m, "Pod", "a-pod-api").object;
    assert_eq!(
        at(pod, "/spec/containers/0/envFrom/0/configMapRef/name"),
        "a-cm"
    );
}
