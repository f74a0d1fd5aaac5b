//! Strategic merge patch on built-in kinds, with patch metadata from the generated schema
//! model (`SchemaPatchMeta`): what kubectl `patch`, `edit` and client-side `apply` send to the
//! API server for a Deployment.

use serde_json::{Value, json};
use tether_schema::{
    JsonMergePatchMeta, SchemaPatchMeta, SmpErrorKind, create_three_way_merge_patch,
    create_two_way_merge_patch, strategic_merge_patch, strategic_merge_patch_json,
};

fn deployment_meta() -> SchemaPatchMeta<'static> {
    SchemaPatchMeta::for_gvk("apps", "v1", "Deployment").expect("Deployment is a built-in kind")
}

fn deployment() -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "labels": {"app": "web"}, "finalizers": ["a", "b"]},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {
                    "containers": [
                        {
                            "name": "web",
                            "image": "web:1",
                            "args": ["--port=8080", "--verbose"],
                            "ports": [
                                {"containerPort": 8080, "name": "http"},
                                {"containerPort": 9090, "name": "metrics"}
                            ],
                            "env": [{"name": "MODE", "value": "prod"}]
                        },
                        {"name": "sidecar", "image": "sidecar:1"}
                    ],
                    "volumes": [
                        {"name": "config", "configMap": {"name": "web-config"}},
                        {"name": "cache", "emptyDir": {}}
                    ],
                    "tolerations": [
                        {"key": "a", "operator": "Exists"},
                        {"key": "b", "operator": "Exists"}
                    ]
                }
            }
        }
    })
}

fn pod_spec_patch(spec: Value) -> Value {
    json!({"spec": {"template": {"spec": spec}}})
}

fn apply(patch: Value) -> Value {
    strategic_merge_patch(deployment(), patch, &deployment_meta()).expect("the patch applies")
}

fn containers(d: &Value) -> &Value {
    &d["spec"]["template"]["spec"]["containers"]
}

#[test]
fn changing_one_containers_image_keeps_the_other_container() {
    let out = apply(pod_spec_patch(json!({
        "containers": [{"name": "web", "image": "web:2"}]
    })));
    let mut expected = deployment();
    expected["spec"]["template"]["spec"]["containers"][0]["image"] = json!("web:2");
    assert_eq!(out, expected);
}

#[test]
fn patch_delete_removes_a_container_by_name() {
    let out = apply(pod_spec_patch(json!({
        "containers": [{"name": "sidecar", "$patch": "delete"}]
    })));
    let names: Vec<&str> = containers(&out)
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["web"]);
    assert_eq!(containers(&out)[0], containers(&deployment())[0]);
}

#[test]
fn set_element_order_reorders_and_places_new_containers() {
    // Without an order, upstream puts a new item before the live ones.
    let out = apply(pod_spec_patch(json!({
        "containers": [{"name": "init", "image": "init:1"}]
    })));
    let names = |d: &Value| -> Vec<String> {
        containers(d)
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(names(&out), ["init", "web", "sidecar"]);

    // With $setElementOrder (what kubectl sends), the order is the patch's.
    let out = apply(pod_spec_patch(json!({
        "$setElementOrder/containers": [{"name": "sidecar"}, {"name": "web"}, {"name": "init"}],
        "containers": [{"name": "init", "image": "init:1"}]
    })));
    assert_eq!(names(&out), ["sidecar", "web", "init"]);
    assert_eq!(containers(&out)[1], containers(&deployment())[0]);

    // An order naming an item the patch list lacks, in another order, is rejected.
    let err = strategic_merge_patch(
        deployment(),
        pod_spec_patch(json!({
            "$setElementOrder/containers": [{"name": "web"}],
            "containers": [{"name": "init", "image": "init:1"}]
        })),
        &deployment_meta(),
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .starts_with(".spec.template.spec.containers: the order in patch list:"),
        "{err}"
    );
}

#[test]
fn volumes_merge_by_name_and_retain_keys_clears_the_old_source() {
    let out = apply(pod_spec_patch(json!({
        "volumes": [{"name": "tmp", "emptyDir": {"medium": "Memory"}}]
    })));
    assert_eq!(
        out["spec"]["template"]["spec"]["volumes"],
        json!([
            {"name": "tmp", "emptyDir": {"medium": "Memory"}},
            {"name": "config", "configMap": {"name": "web-config"}},
            {"name": "cache", "emptyDir": {}}
        ])
    );
    // volumes have the retainKeys strategy: switching the source drops the old one.
    let out = apply(pod_spec_patch(json!({
        "volumes": [{"name": "config", "secret": {"secretName": "web"},
                     "$retainKeys": ["name", "secret"]}]
    })));
    assert_eq!(
        out["spec"]["template"]["spec"]["volumes"][0],
        json!({"name": "config", "secret": {"secretName": "web"}})
    );
}

#[test]
fn ports_merge_by_container_port_and_env_by_name() {
    let out = apply(pod_spec_patch(json!({
        "containers": [{
            "name": "web",
            "ports": [{"containerPort": 9090, "name": "prom"}, {"containerPort": 7070}],
            "env": [{"name": "DEBUG", "value": "1"}]
        }]
    })));
    let web = &containers(&out)[0];
    assert_eq!(
        web["ports"],
        json!([
            {"containerPort": 8080, "name": "http"},
            {"containerPort": 9090, "name": "prom"},
            {"containerPort": 7070}
        ])
    );
    assert_eq!(
        web["env"],
        json!([{"name": "DEBUG", "value": "1"}, {"name": "MODE", "value": "prod"}])
    );
}

#[test]
fn atomic_lists_are_replaced() {
    let out = apply(pod_spec_patch(json!({
        "tolerations": [{"key": "c", "operator": "Exists"}],
        "containers": [{"name": "web", "args": ["--port=9000"]}]
    })));
    assert_eq!(
        out["spec"]["template"]["spec"]["tolerations"],
        json!([{"key": "c", "operator": "Exists"}])
    );
    assert_eq!(containers(&out)[0]["args"], json!(["--port=9000"]));
}

#[test]
fn primitive_merge_lists_take_deletions_from_the_parallel_list() {
    let out = apply(json!({
        "metadata": {"finalizers": ["c"], "$deleteFromPrimitiveList/finalizers": ["a"]}
    }));
    // The added value goes before the live ones (no $setElementOrder), then "a" is removed.
    assert_eq!(out["metadata"]["finalizers"], json!(["c", "b"]));
}

#[test]
fn null_deletes_and_replace_directive_replaces_a_map() {
    let out = apply(json!({
        "metadata": {"labels": {"app": null, "tier": "front"}},
        "spec": {"selector": {"$patch": "replace", "matchLabels": {"tier": "front"}}}
    }));
    assert_eq!(out["metadata"]["labels"], json!({"tier": "front"}));
    assert_eq!(
        out["spec"]["selector"],
        json!({"matchLabels": {"tier": "front"}})
    );
}

#[test]
fn two_way_patch_round_trips_an_edit() {
    let original = deployment();
    let mut modified = deployment();
    modified["spec"]["replicas"] = json!(3);
    modified["spec"]["template"]["spec"]["containers"][0]["image"] = json!("web:2");
    modified["spec"]["template"]["spec"]["containers"]
        .as_array_mut()
        .unwrap()
        .pop();
    let patch = create_two_way_merge_patch(&original, &modified, &deployment_meta()).unwrap();
    assert_eq!(
        patch,
        json!({"spec": {"replicas": 3, "template": {"spec": {
            "$setElementOrder/containers": [{"name": "web"}],
            "containers": [
                {"name": "web", "image": "web:2"},
                {"name": "sidecar", "$patch": "delete"}
            ]
        }}}})
    );
    let applied = strategic_merge_patch(original, patch, &deployment_meta()).unwrap();
    assert_eq!(applied, modified);
}

#[test]
fn three_way_patch_keeps_live_changes_and_reports_conflicts() {
    // Last applied, new configuration, and the live object (a controller set an annotation).
    let original = json!({"metadata": {"name": "web", "labels": {"app": "web", "old": "x"}},
                          "spec": {"replicas": 2}});
    let modified = json!({"metadata": {"name": "web", "labels": {"app": "web"}},
                          "spec": {"replicas": 3}});
    let mut current = original.clone();
    current["metadata"]["annotations"] = json!({"deployment.kubernetes.io/revision": "4"});
    let meta = deployment_meta();
    let patch = create_three_way_merge_patch(&original, &modified, &current, &meta, false).unwrap();
    assert_eq!(
        patch,
        json!({"metadata": {"labels": {"old": null}}, "spec": {"replicas": 3}})
    );
    let live = strategic_merge_patch(current.clone(), patch, &meta).unwrap();
    assert_eq!(
        live["metadata"]["annotations"],
        current["metadata"]["annotations"]
    );
    assert_eq!(live["metadata"]["labels"], json!({"app": "web"}));

    // Someone scaled to 5 since the last apply: changing replicas conflicts...
    current["spec"]["replicas"] = json!(5);
    let err =
        create_three_way_merge_patch(&original, &modified, &current, &meta, false).unwrap_err();
    assert!(err.is_conflict(), "{err}");
    assert!(matches!(err.kind, SmpErrorKind::Conflict { .. }));
    // ...unless overwriting.
    let patch = create_three_way_merge_patch(&original, &modified, &current, &meta, true).unwrap();
    assert_eq!(patch["spec"]["replicas"], json!(3));
}

#[test]
fn errors_name_the_field_path() {
    let err = strategic_merge_patch(
        deployment(),
        pod_spec_patch(json!({"containers": [{"image": "x"}]})),
        &deployment_meta(),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        ".spec.template.spec.containers: map: map[image:x] does not contain declared merge key: name"
    );
    let err = strategic_merge_patch(
        deployment(),
        pod_spec_patch(json!({"containers": [{"name": "web", "ports": [{"$patch": "merge", "containerPort": 1}]}]})),
        &deployment_meta(),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        r#".spec.template.spec.containers[name="web"].ports: merging lists cannot yet be specified in the patch"#
    );
    let err = strategic_merge_patch_json(b"{}", b"[1]", &deployment_meta()).unwrap_err();
    assert_eq!(err.to_string(), "invalid JSON document");
}

#[test]
fn without_schema_lists_are_replaced_and_maps_merged() {
    let original =
        json!({"spec": {"items": [{"name": "a"}, {"name": "b"}], "m": {"x": 1, "y": 2}}});
    let patch = json!({"spec": {"items": [{"name": "c"}], "m": {"x": null, "z": 3}}});
    let out = strategic_merge_patch(original, patch, &JsonMergePatchMeta).unwrap();
    assert_eq!(
        out,
        json!({"spec": {"items": [{"name": "c"}], "m": {"y": 2, "z": 3}}})
    );
}

#[test]
fn retain_keys_strategy_on_a_map_clears_the_other_union_member() {
    // DeploymentStrategy has the retainKeys strategy: switching the type drops rollingUpdate.
    let mut original = deployment();
    original["spec"]["strategy"] = json!({"type": "RollingUpdate",
                                          "rollingUpdate": {"maxSurge": 1}});
    let mut modified = deployment();
    modified["spec"]["strategy"] = json!({"type": "Recreate"});
    let patch = create_two_way_merge_patch(&original, &modified, &deployment_meta()).unwrap();
    assert_eq!(
        patch,
        json!({"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate", "rollingUpdate": null}}})
    );
    // The directive alone also clears fields the patch does not mention.
    let out = strategic_merge_patch(
        original,
        json!({"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}}),
        &deployment_meta(),
    )
    .unwrap();
    assert_eq!(out["spec"]["strategy"], json!({"type": "Recreate"}));
}
