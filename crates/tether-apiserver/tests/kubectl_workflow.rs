//! kubectl's everyday commands with **default flags** (client-side validation on) against the
//! embedded control plane, once per pinned kubectl (1.27, 1.30, 1.33): client-side `apply`,
//! `replace`, `edit` (with `KUBE_EDITOR`), `describe`, `get -o wide`, `scale` on a custom
//! resource with a scale subresource, and `apply --prune`.

#[allow(dead_code)] // Helpers shared by the kubectl suites; this one uses some.
#[macro_use]
mod support;

use support::Cluster;

per_version!(v1_27 => "1.27", v1_30 => "1.30", v1_33 => "1.33"; [
    apply_replace_edit_and_describe,
    wide_tables_crd_scale_and_prune,
]);

fn settings(colour: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: shop\n  labels:\n    app: shop\ndata:\n  colour: {colour}\n"
    )
}

async fn apply_replace_edit_and_describe(version: &'static str) {
    let k = Cluster::start(version).await;
    let file = k.file("settings.yaml", &settings("blue"));
    let path = file.to_str().unwrap_or_default();
    let out = k.ok(&["apply", "-f", path]).await;
    assert!(
        out.contains("namespace/shop created") && out.contains("configmap/settings created"),
        "{out}"
    );
    let out = k.ok(&["apply", "-f", path]).await;
    assert!(out.contains("configmap/settings unchanged"), "{out}");
    let cm = k.get_json(&["configmap", "settings", "-n", "shop"]).await;
    let last = cm["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"]
        .as_str()
        .unwrap_or_default();
    assert!(last.contains("\"colour\":\"blue\""), "{cm}");
    k.file("settings.yaml", &settings("red"));
    let out = k.ok(&["apply", "-f", path]).await;
    assert!(out.contains("configmap/settings configured"), "{out}");

    // Client-side validation refuses an unknown field before anything is sent.
    let bad = k.file(
        "bad.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bad\n  namespace: shop\ncolour: red\n",
    );
    let run = k
        .run(&["apply", "-f", bad.to_str().unwrap_or_default()])
        .await;
    assert_ne!(
        run.code(),
        Some(0),
        "an unknown field was accepted:\n{}",
        run.stdout
    );
    assert!(
        run.stderr.contains("unknown field \"colour\""),
        "{}",
        run.stderr
    );

    k.file("settings.yaml", &settings("amber"));
    let out = k.ok(&["replace", "-f", path]).await;
    assert!(out.contains("configmap/settings replaced"), "{out}");

    let edit = k
        .run_with_env(
            &["edit", "configmap", "settings", "-n", "shop"],
            &[
                ("KUBE_EDITOR", "sed -i s/amber/green/"),
                ("EDITOR", "false"),
            ],
        )
        .await;
    assert_eq!(
        edit.code(),
        Some(0),
        "kubectl edit failed:\n{}\n{}",
        edit.stdout,
        edit.stderr
    );
    assert!(
        edit.stdout.contains("configmap/settings edited"),
        "{}",
        edit.stdout
    );
    let cm = k.get_json(&["configmap", "settings", "-n", "shop"]).await;
    assert_eq!(cm["data"]["colour"], "green");

    let described = k
        .ok(&["describe", "configmap", "settings", "-n", "shop"])
        .await;
    for wanted in [
        "Name:",
        "settings",
        "Namespace:",
        "shop",
        "Labels:",
        "app=shop",
        "colour:",
        "green",
    ] {
        assert!(
            described.contains(wanted),
            "describe lacks {wanted:?}:\n{described}"
        );
    }
    k.shutdown().await;
}

const GADGETS: &str = r#"apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: gadgets.example.com
spec:
  group: example.com
  names:
    kind: Gadget
    listKind: GadgetList
    plural: gadgets
    singular: gadget
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    subresources:
      scale:
        specReplicasPath: .spec.replicas
        statusReplicasPath: .status.replicas
      status: {}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              replicas:
                type: integer
          status:
            type: object
            properties:
              replicas:
                type: integer
"#;

async fn wide_tables_crd_scale_and_prune(version: &'static str) {
    let k = Cluster::start(version).await;
    let deployment = k.file(
        "web.yaml",
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: shop\nspec:\n  replicas: 2\n  selector:\n    matchLabels:\n      app: web\n  template:\n    metadata:\n      labels:\n        app: web\n    spec:\n      containers:\n      - name: main\n        image: nginx:1.27\n",
    );
    k.ok(&["apply", "-f", deployment.to_str().unwrap_or_default()])
        .await;
    let wide = k
        .ok(&["get", "deployments", "-n", "shop", "-o", "wide"])
        .await;
    let header: Vec<&str> = wide
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    assert_eq!(
        header,
        [
            "NAME",
            "READY",
            "UP-TO-DATE",
            "AVAILABLE",
            "AGE",
            "CONTAINERS",
            "IMAGES",
            "SELECTOR"
        ],
        "{wide}"
    );
    assert!(
        wide.contains("nginx:1.27") && wide.contains("app=web"),
        "{wide}"
    );
    let described = k.ok(&["describe", "deployment", "web", "-n", "shop"]).await;
    assert!(
        described.contains("Replicas:") && described.contains("2 desired"),
        "{described}"
    );

    let crd = k.file("gadgets.yaml", GADGETS);
    k.ok(&["apply", "-f", crd.to_str().unwrap_or_default()])
        .await;
    k.ok(&[
        "wait",
        "--for=condition=Established",
        "crd/gadgets.example.com",
        "--timeout=30s",
    ])
    .await;
    let gadget = k.file(
        "gadget.yaml",
        "apiVersion: example.com/v1\nkind: Gadget\nmetadata:\n  name: g\n  namespace: shop\nspec:\n  replicas: 1\n",
    );
    k.ok(&["apply", "-f", gadget.to_str().unwrap_or_default()])
        .await;
    let out = k
        .ok(&["scale", "gadget", "g", "-n", "shop", "--replicas=5"])
        .await;
    assert!(out.contains("gadget.example.com/g scaled"), "{out}");
    let g = k.get_json(&["gadget", "g", "-n", "shop"]).await;
    assert_eq!(g["spec"]["replicas"], 5, "{g}");

    // apply --prune removes what left the applied set (within the label selector).
    let cm = |name: &str| {
        format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: shop\n  labels:\n    set: prune\ndata:\n  k: v\n"
        )
    };
    let a = k.file("prune-a.yaml", &cm("a"));
    let b = k.file("prune-b.yaml", &cm("b"));
    let (a, b) = (
        a.to_str().unwrap_or_default(),
        b.to_str().unwrap_or_default(),
    );
    k.ok(&[
        "apply",
        "-f",
        a,
        "-f",
        b,
        "--prune",
        "-l",
        "set=prune",
        "--prune-allowlist=core/v1/ConfigMap",
    ])
    .await;
    let out = k
        .ok(&[
            "apply",
            "-f",
            a,
            "--prune",
            "-l",
            "set=prune",
            "--prune-allowlist=core/v1/ConfigMap",
        ])
        .await;
    assert!(
        out.contains("configmap/a unchanged") && out.contains("configmap/b pruned"),
        "{out}"
    );
    k.assert_gone(&["configmap", "b", "-n", "shop"]).await;
    k.shutdown().await;
}
