//! Real kubectl against the embedded control plane: every scenario runs once per pinned kubectl
//! (1.27, 1.30, 1.33), each against its own in-memory server, and a failure names the version
//! (`v1_30::delete_waits_for_finalizer`).
//!
//! The pinned binaries sit beside the `kubectl` on `PATH` (or in `TETHER_KUBECTL_DIR`); a missing
//! one fails its tests with its name.

#[macro_use]
mod support;

use std::time::Duration;

use serde_json::Value;
use support::Cluster;

per_version!(v1_27 => "1.27", v1_30 => "1.30", v1_33 => "1.33"; [
    apply_server_side,
    get_formats_and_selectors,
    get_watch_sees_later_changes,
    wait_for_deployment_available,
    diff_server_side,
    label_annotate_and_patch,
    delete_waits_for_finalizer,
    delete_namespace_with_content,
]);

/// How long a background kubectl may take to show what it is waiting for.
const SHOW: Duration = Duration::from_secs(30);

const CRD: &str = r#"apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  names:
    kind: Widget
    listKind: WidgetList
    plural: widgets
    singular: widget
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              size:
                type: integer
              color:
                type: string
"#;

fn namespace(name: &str) -> String {
    format!("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {name}\n")
}

fn widget(namespace: &str, name: &str, color: &str) -> String {
    format!(
        "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: {name}\n  namespace: {namespace}\n  labels:\n    app: shop\nspec:\n  size: 3\n  color: {color}\n"
    )
}

fn deployment(namespace: &str, name: &str, ports: &[(&str, u16)]) -> String {
    let mut ports_yaml = String::new();
    for (port_name, port) in ports {
        ports_yaml.push_str(&format!(
            "        - name: {port_name}\n          containerPort: {port}\n"
        ));
    }
    format!(
        r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  namespace: {namespace}
  labels:
    app: {name}
spec:
  replicas: 2
  selector:
    matchLabels:
      app: {name}
  template:
    metadata:
      labels:
        app: {name}
    spec:
      containers:
      - name: main
        image: nginx:1.27
        ports:
{ports_yaml}"#
    )
}

fn config_map(
    namespace: &str,
    name: &str,
    labels: &[(&str, &str)],
    data: &[(&str, &str)],
) -> String {
    let mut out = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: {namespace}\n"
    );
    if !labels.is_empty() {
        out.push_str("  labels:\n");
        for (k, v) in labels {
            out.push_str(&format!("    {k}: {v:?}\n"));
        }
    }
    out.push_str("data:\n");
    for (k, v) in data {
        out.push_str(&format!("  {k}: {v:?}\n"));
    }
    out
}

const SECRET: &str = r#"apiVersion: v1
kind: Secret
metadata:
  name: creds
  namespace: shop
type: Opaque
data:
  password: c2VjcmV0
stringData:
  user: admin
"#;

fn documents(docs: &[&str]) -> String {
    docs.iter()
        .map(|d| d.trim_end())
        .collect::<Vec<_>>()
        .join("\n---\n")
        + "\n"
}

/// `managedFields` entry of `manager`, if any.
fn managed_entry<'a>(object: &'a Value, manager: &str) -> Option<&'a Value> {
    object["metadata"]["managedFields"]
        .as_array()?
        .iter()
        .find(|e| e["manager"] == manager)
}

fn port_names(deployment: &Value) -> Vec<String> {
    deployment["spec"]["template"]["spec"]["containers"][0]["ports"]
        .as_array()
        .map(|ports| {
            ports
                .iter()
                .filter_map(|p| p["name"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Scenario 1: one multi-document file applied server-side, before and after its CRD is
/// established; field removal on re-apply; conflicts between field managers.
async fn apply_server_side(version: &'static str) {
    let k = Cluster::start(version).await;
    let deploy_v1 = deployment("shop", "web", &[("http", 80), ("metrics", 9090)]);
    let cm_v1 = config_map(
        "shop",
        "settings",
        &[],
        &[("mode", "fast"), ("level", "3"), ("extra", "remove-me")],
    );
    let gear = widget("shop", "gear", "blue");
    let all = k.file(
        "all.yaml",
        &documents(&[&namespace("shop"), CRD, &gear, &deploy_v1, &cm_v1, SECRET]),
    );
    let all = all.to_str().expect("utf-8 path");
    let apply = ["apply", "--server-side", "-f", all];

    // The custom resource's kind is not served yet: kubectl applies the rest and fails naming it.
    let first = k.exits(1, &apply).await;
    let applied: Vec<&str> = first.stdout.lines().collect();
    assert_eq!(
        applied,
        [
            "namespace/shop serverside-applied",
            "customresourcedefinition.apiextensions.k8s.io/widgets.example.com serverside-applied",
            "deployment.apps/web serverside-applied",
            "configmap/settings serverside-applied",
            "secret/creds serverside-applied",
        ],
        "first apply (stderr: {})",
        first.stderr
    );
    assert_eq!(
        first.stderr,
        format!(
            "error: resource mapping not found for name: \"gear\" namespace: \"shop\" from \"{all}\": \
             no matches for kind \"Widget\" in version \"example.com/v1\"\n\
             ensure CRDs are installed first\n"
        ),
        "first apply's error"
    );
    k.ok(&[
        "wait",
        "--for",
        "condition=established",
        "--timeout=30s",
        "crd/widgets.example.com",
    ])
    .await;

    let second = k.ok(&apply).await;
    assert_eq!(
        second.lines().collect::<Vec<_>>(),
        [
            "namespace/shop serverside-applied",
            "customresourcedefinition.apiextensions.k8s.io/widgets.example.com serverside-applied",
            "widget.example.com/gear serverside-applied",
            "deployment.apps/web serverside-applied",
            "configmap/settings serverside-applied",
            "secret/creds serverside-applied",
        ]
    );
    // Applying the same file again changes nothing.
    let versions = |list: &Value| -> Vec<(String, String)> {
        list["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|o| {
                let meta = &o["metadata"];
                (
                    format!(
                        "{}/{}",
                        o["kind"].as_str().unwrap_or(""),
                        meta["name"].as_str().unwrap_or("")
                    ),
                    meta["resourceVersion"].as_str().unwrap_or("").to_owned(),
                )
            })
            .collect()
    };
    // The simulated rollout writes the Deployment's status; let it settle first.
    k.ok(&[
        "wait",
        "--for=condition=Available",
        "--timeout=30s",
        "-n",
        "shop",
        "deployment/web",
    ])
    .await;
    let before = versions(&k.json(&["get", "-f", all, "-o", "json"]).await);
    assert_eq!(
        before.len(),
        6,
        "get -f lists the file's objects: {before:?}"
    );
    k.ok(&apply).await;
    let after = versions(&k.json(&["get", "-f", all, "-o", "json"]).await);
    assert_eq!(before, after, "a re-apply without changes wrote");

    let gear = k.get_json(&["widget", "gear", "-n", "shop"]).await;
    assert_eq!(gear["spec"]["color"], "blue");
    assert_eq!(gear["spec"]["size"], 3);
    let secret = k.get_json(&["secret", "creds", "-n", "shop"]).await;
    // stringData is write-only: folded into data, never stored.
    assert_eq!(
        secret["data"],
        serde_json::json!({"password": "c2VjcmV0", "user": "YWRtaW4="})
    );
    assert!(
        secret.get("stringData").is_none(),
        "stored stringData: {secret:#}"
    );
    let web = k.get_json(&["deployment", "web", "-n", "shop"]).await;
    assert_eq!(port_names(&web), ["http", "metrics"]);

    // Fields the file no longer has are removed from the objects.
    let deploy_v2 = deployment("shop", "web", &[("http", 80)]);
    let cm_v2 = config_map("shop", "settings", &[], &[("mode", "fast"), ("level", "3")]);
    let gear = widget("shop", "gear", "blue");
    let all_v2 = k.file(
        "all-v2.yaml",
        &documents(&[&namespace("shop"), CRD, &gear, &deploy_v2, &cm_v2, SECRET]),
    );
    k.apply_file(&all_v2).await;
    let settings = k.get_json(&["configmap", "settings", "-n", "shop"]).await;
    assert_eq!(
        settings["data"],
        serde_json::json!({"mode": "fast", "level": "3"}),
        "the dropped key stays"
    );
    let web = k.get_json(&["deployment", "web", "-n", "shop"]).await;
    assert_eq!(port_names(&web), ["http"], "the dropped port stays");
    assert_eq!(web["metadata"]["generation"], 2);

    // A second manager applying another value conflicts with kubectl's ownership.
    let other = k.file(
        "settings-ops.yaml",
        &config_map("shop", "settings", &[], &[("mode", "slow")]),
    );
    let other = other.to_str().expect("utf-8 path");
    let conflict = k
        .exits(
            1,
            &["apply", "--server-side", "--field-manager=ops", "-f", other],
        )
        .await;
    for needle in ["conflict with \"kubectl\"", ".data.mode"] {
        assert!(
            conflict.stderr.contains(needle),
            "the conflict message lacks {needle:?}:\n{}",
            conflict.stderr
        );
    }
    let settings = k.get_json(&["configmap", "settings", "-n", "shop"]).await;
    assert_eq!(
        settings["data"]["mode"], "fast",
        "a conflicting apply wrote"
    );

    k.ok(&[
        "apply",
        "--server-side",
        "--field-manager=ops",
        "--force-conflicts",
        "-f",
        other,
    ])
    .await;
    let settings = k
        .get_json(&[
            "configmap",
            "settings",
            "-n",
            "shop",
            "--show-managed-fields",
        ])
        .await;
    assert_eq!(settings["data"]["mode"], "slow");
    assert_eq!(settings["data"]["level"], "3");
    let ops = managed_entry(&settings, "ops").unwrap_or_else(|| {
        panic!(
            "no managedFields entry of \"ops\": {:#}",
            settings["metadata"]
        )
    });
    assert_eq!(ops["operation"], "Apply");
    assert_eq!(ops["fieldsType"], "FieldsV1");
    assert!(
        ops["fieldsV1"]["f:data"].get("f:mode").is_some(),
        "ops owns .data.mode: {ops:#}"
    );
    let kubectl = managed_entry(&settings, "kubectl").unwrap_or_else(|| {
        panic!(
            "no managedFields entry of \"kubectl\": {:#}",
            settings["metadata"]
        )
    });
    assert_eq!(kubectl["operation"], "Apply");
    let kubectl_data = &kubectl["fieldsV1"]["f:data"];
    assert!(
        kubectl_data.get("f:level").is_some() && kubectl_data.get("f:mode").is_none(),
        "kubectl keeps .data.level and lost .data.mode: {kubectl:#}"
    );
    // Without the flag kubectl hides them.
    let plain = k.get_json(&["configmap", "settings", "-n", "shop"]).await;
    assert!(plain["metadata"].get("managedFields").is_none());
    k.shutdown().await;
}

/// Scenario 2a: output formats, all namespaces, label selectors.
async fn get_formats_and_selectors(version: &'static str) {
    let k = Cluster::start(version).await;
    let objects = k.file(
        "objects.yaml",
        &documents(&[
            &namespace("alpha"),
            &namespace("beta"),
            &config_map("alpha", "a1", &[("app", "x")], &[("k", "1")]),
            &config_map("alpha", "a2", &[("app", "y")], &[("k", "2")]),
            &config_map("beta", "b1", &[("app", "x")], &[("k", "3")]),
        ]),
    );
    k.create_file(&objects).await;

    let a1 = k.get_json(&["configmap", "a1", "-n", "alpha"]).await;
    assert_eq!(a1["kind"], "ConfigMap");
    assert_eq!(a1["metadata"]["namespace"], "alpha");
    assert_eq!(a1["data"]["k"], "1");

    let yaml = k
        .ok(&[
            "get",
            "configmaps",
            "-n",
            "alpha",
            "-l",
            "app",
            "-o",
            "yaml",
        ])
        .await;
    let list: Value = serde_saphyr::from_str(&yaml)
        .unwrap_or_else(|e| panic!("`get -o yaml` printed no YAML ({e}):\n{yaml}"));
    assert_eq!(list["kind"], "List");
    let names: Vec<&str> = list["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["metadata"]["name"].as_str().expect("name"))
        .collect();
    assert_eq!(names, ["a1", "a2"]);
    assert_eq!(list["items"][1]["data"]["k"], "2");

    let rows = |table: &str| -> Vec<(String, String)> {
        let mut lines = table.lines();
        let header = lines.next().unwrap_or("");
        assert!(
            header.starts_with("NAMESPACE") && header.contains("NAME"),
            "not an all-namespaces table:\n{table}"
        );
        lines
            .map(|l| {
                let mut cols = l.split_whitespace();
                (
                    cols.next().unwrap_or("").to_owned(),
                    cols.next().unwrap_or("").to_owned(),
                )
            })
            .collect()
    };
    let pair = |ns: &str, name: &str| (ns.to_owned(), name.to_owned());
    let all = rows(&k.ok(&["get", "configmaps", "-A"]).await);
    for wanted in [pair("alpha", "a1"), pair("alpha", "a2"), pair("beta", "b1")] {
        assert!(all.contains(&wanted), "get -A lacks {wanted:?}: {all:?}");
    }
    let selected = rows(&k.ok(&["get", "configmaps", "-A", "-l", "app=x"]).await);
    assert_eq!(selected, [pair("alpha", "a1"), pair("beta", "b1")]);
    let namespaces = k.ok(&["get", "namespaces", "-o", "name"]).await;
    for ns in ["namespace/alpha", "namespace/beta", "namespace/default"] {
        assert!(
            namespaces.lines().any(|l| l == ns),
            "{ns} missing:\n{namespaces}"
        );
    }
    k.shutdown().await;
}

/// Scenario 2b: `get -w` prints changes made after it started.
async fn get_watch_sees_later_changes(version: &'static str) {
    let k = Cluster::start(version).await;
    let objects = k.file(
        "objects.yaml",
        &documents(&[
            &namespace("alpha"),
            &config_map("alpha", "a1", &[], &[("k", "1")]),
        ]),
    );
    k.create_file(&objects).await;

    let mut watch = k.spawn(&[
        "get",
        "configmaps",
        "-n",
        "alpha",
        "-w",
        "--output-watch-events",
    ]);
    // The initial list is printed before the watch starts from its revision.
    watch
        .line(SHOW, |l| l.starts_with("ADDED") && l.contains("a1"))
        .await;
    k.ok(&["label", "configmap", "a1", "-n", "alpha", "stage=two"])
        .await;
    watch
        .line(SHOW, |l| l.starts_with("MODIFIED") && l.contains("a1"))
        .await;
    let late = k.file(
        "late.yaml",
        &config_map("alpha", "late", &[], &[("k", "2")]),
    );
    k.create_file(&late).await;
    watch
        .line(SHOW, |l| l.starts_with("ADDED") && l.contains("late"))
        .await;
    k.ok(&["delete", "configmap", "late", "-n", "alpha"]).await;
    watch
        .line(SHOW, |l| l.starts_with("DELETED") && l.contains("late"))
        .await;
    assert!(watch.running(), "get -w ended by itself");
    watch.kill().await;
    k.shutdown().await;
}

/// Scenario 2c: `wait --for=condition=Available` on a Deployment the server makes ready.
async fn wait_for_deployment_available(version: &'static str) {
    let k = Cluster::start(version).await;
    let objects = k.file(
        "objects.yaml",
        &documents(&[
            &namespace("alpha"),
            &deployment("alpha", "web", &[("http", 80)]),
        ]),
    );
    k.apply_file(&objects).await;
    let out = k
        .ok(&[
            "wait",
            "--for=condition=Available",
            "--timeout=30s",
            "-n",
            "alpha",
            "deployment/web",
        ])
        .await;
    assert_eq!(out.trim(), "deployment.apps/web condition met");
    let web = k.get_json(&["deployment", "web", "-n", "alpha"]).await;
    assert_eq!(web["status"]["readyReplicas"], 2);
    let rollout = k
        .ok(&[
            "rollout",
            "status",
            "-n",
            "alpha",
            "deployment/web",
            "--timeout=30s",
        ])
        .await;
    assert!(
        rollout.contains("successfully rolled out"),
        "rollout status: {rollout}"
    );

    // Scaling goes through the scale subresource; readiness follows the new replica count.
    let scaled = k
        .ok(&["scale", "deployment", "web", "-n", "alpha", "--replicas=3"])
        .await;
    assert_eq!(scaled.trim(), "deployment.apps/web scaled");
    k.ok(&[
        "wait",
        "--for=jsonpath={.status.readyReplicas}=3",
        "--timeout=30s",
        "-n",
        "alpha",
        "deployment/web",
    ])
    .await;
    let web = k
        .get_json(&["deployment", "web", "-n", "alpha", "--show-managed-fields"])
        .await;
    assert_eq!(web["spec"]["replicas"], 3);
    // The manager is the user agent's program name, which is the binary's file name.
    let scaler = format!("kubectl.{version}");
    let entry = managed_entry(&web, &scaler).unwrap_or_else(|| {
        panic!(
            "no managedFields entry of {scaler:?}: {:#}",
            web["metadata"]
        )
    });
    assert_eq!(entry["operation"], "Update");
    assert_eq!(entry["subresource"], "scale");
    assert_eq!(
        entry["fieldsV1"],
        serde_json::json!({"f:spec": {"f:replicas": {}}})
    );
    let applier = managed_entry(&web, "kubectl").expect("kubectl's apply entry");
    assert!(
        applier["fieldsV1"]["f:spec"].get("f:replicas").is_none(),
        "an update takes ownership from the applier: {applier:#}"
    );
    k.shutdown().await;
}

/// Scenario 2d: `diff --server-side` exits 0 without changes and 1 with a diff, changing nothing.
async fn diff_server_side(version: &'static str) {
    let k = Cluster::start(version).await;
    let objects = k.file(
        "objects.yaml",
        &documents(&[
            &namespace("alpha"),
            &config_map("alpha", "settings", &[], &[("mode", "fast")]),
        ]),
    );
    k.apply_file(&objects).await;
    let objects = objects.to_str().expect("utf-8 path");

    let same = k.exits(0, &["diff", "--server-side", "-f", objects]).await;
    assert_eq!(same.stdout, "", "a diff without changes");

    let changed = k.file(
        "changed.yaml",
        &documents(&[
            &namespace("alpha"),
            &config_map("alpha", "settings", &[], &[("mode", "slow")]),
        ]),
    );
    let diff = k
        .exits(
            1,
            &[
                "diff",
                "--server-side",
                "-f",
                changed.to_str().expect("utf-8 path"),
            ],
        )
        .await;
    for needle in ["-  mode: fast", "+  mode: slow"] {
        assert!(
            diff.stdout.lines().any(|l| l == needle),
            "the diff lacks {needle:?}:\n{}",
            diff.stdout
        );
    }
    assert!(
        !diff.stdout.contains("Namespace"),
        "the unchanged namespace is in the diff:\n{}",
        diff.stdout
    );
    let live = k.get_json(&["configmap", "settings", "-n", "alpha"]).await;
    assert_eq!(live["data"]["mode"], "fast", "diff changed the object");
    k.shutdown().await;
}

/// Scenario 2e: `label`, `annotate`, `patch --type=merge` and `patch --type=json`.
async fn label_annotate_and_patch(version: &'static str) {
    let k = Cluster::start(version).await;
    let objects = k.file(
        "objects.yaml",
        &documents(&[
            &namespace("alpha"),
            &config_map("alpha", "a1", &[("app", "x")], &[("k", "1")]),
        ]),
    );
    k.create_file(&objects).await;
    let cm = ["configmap", "a1", "-n", "alpha"];
    let on_cm = |verb: &[&'static str], rest: &[&'static str]| -> Vec<&'static str> {
        [verb, &cm[..], rest].concat()
    };

    let out = k.ok(&on_cm(&["label"], &["tier=gold"])).await;
    assert_eq!(out.trim(), "configmap/a1 labeled");
    let out = k.ok(&on_cm(&["annotate"], &["note=hello world"])).await;
    // kubectl 1.27 itself words it "annotate" (1.28 and later: "annotated").
    let annotated = if version == "1.27" {
        "annotate"
    } else {
        "annotated"
    };
    assert_eq!(out.trim(), format!("configmap/a1 {annotated}"));
    let live = k.get_json(&cm).await;
    assert_eq!(live["metadata"]["labels"]["tier"], "gold");
    assert_eq!(live["metadata"]["labels"]["app"], "x");
    assert_eq!(live["metadata"]["annotations"]["note"], "hello world");

    // Overwrite and removal; without --overwrite a value stays.
    let out = k
        .ok(&on_cm(&["label", "--overwrite"], &["tier=silver", "app-"]))
        .await;
    assert_eq!(out.trim(), "configmap/a1 labeled");
    let live = k.get_json(&cm).await;
    assert_eq!(
        live["metadata"]["labels"],
        serde_json::json!({"tier": "silver"})
    );
    let refused = k.run(&on_cm(&["label"], &["tier=bronze"])).await;
    assert!(
        !refused.status.success() && refused.stderr.contains("already has a value (silver)"),
        "label without --overwrite replaced a value: {refused:?}"
    );

    let merge = on_cm(
        &[
            "patch",
            "--type=merge",
            "-p",
            r#"{"data":{"k":"merged","m":"new"}}"#,
        ],
        &[],
    );
    assert_eq!(k.ok(&merge).await.trim(), "configmap/a1 patched");
    let live = k.get_json(&cm).await;
    assert_eq!(live["data"], serde_json::json!({"k": "merged", "m": "new"}));

    let json = on_cm(
        &[
            "patch",
            "--type=json",
            "-p",
            r#"[{"op":"replace","path":"/data/k","value":"json"},{"op":"remove","path":"/data/m"},{"op":"add","path":"/metadata/labels/via","value":"json"}]"#,
        ],
        &[],
    );
    assert_eq!(k.ok(&json).await.trim(), "configmap/a1 patched");
    let live = k.get_json(&cm).await;
    assert_eq!(live["data"], serde_json::json!({"k": "json"}));
    assert_eq!(live["metadata"]["labels"]["via"], "json");

    // A JSON patch whose test fails changes nothing.
    let failing = on_cm(
        &[
            "patch",
            "--type=json",
            "-p",
            r#"[{"op":"test","path":"/data/k","value":"other"},{"op":"remove","path":"/data/k"}]"#,
        ],
        &[],
    );
    let failed = k.run(&failing).await;
    assert!(
        !failed.status.success(),
        "a failed test op patched: {failed:?}"
    );
    let live = k.get_json(&cm).await;
    assert_eq!(live["data"], serde_json::json!({"k": "json"}));

    let noop = on_cm(
        &["patch", "--type=merge", "-p", r#"{"data":{"k":"json"}}"#],
        &[],
    );
    assert_eq!(k.ok(&noop).await.trim(), "configmap/a1 patched (no change)");
    k.shutdown().await;
}

/// Scenario 3a: a delete waits for the object's finalizer; removing it lets the delete finish.
async fn delete_waits_for_finalizer(version: &'static str) {
    let k = Cluster::start(version).await;
    let held = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kept\n  namespace: hold\n  finalizers:\n  - example.com/hold\ndata:\n  k: v\n";
    let objects = k.file("objects.yaml", &documents(&[&namespace("hold"), held]));
    k.create_file(&objects).await;

    let mut delete = k.spawn(&["delete", "configmap", "kept", "-n", "hold"]);
    // kubectl prints `deleted` once the server accepted the delete, then waits for the object
    // to be gone.
    delete.line(SHOW, |l| l.contains("\"kept\" deleted")).await;
    let kept = k.get_json(&["configmap", "kept", "-n", "hold"]).await;
    assert!(
        kept["metadata"]["deletionTimestamp"].is_string(),
        "no deletionTimestamp: {:#}",
        kept["metadata"]
    );
    assert_eq!(
        kept["metadata"]["finalizers"],
        serde_json::json!(["example.com/hold"])
    );
    // Give a wrongly finishing wait time to show itself: kubectl must still be waiting.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let again = k.get_json(&["configmap", "kept", "-n", "hold"]).await;
    assert_eq!(again["metadata"]["uid"], kept["metadata"]["uid"]);
    assert!(
        delete.running(),
        "kubectl delete returned while a finalizer holds the object"
    );

    let patched = k
        .ok(&[
            "patch",
            "configmap",
            "kept",
            "-n",
            "hold",
            "--type=json",
            "-p",
            r#"[{"op":"remove","path":"/metadata/finalizers"}]"#,
        ])
        .await;
    assert_eq!(patched.trim(), "configmap/kept patched");
    let done = delete.finish(SHOW).await;
    assert!(
        done.status.success(),
        "kubectl delete failed after the finalizer went: {done:?}"
    );
    k.assert_gone(&["configmap", "kept", "-n", "hold"]).await;
    k.shutdown().await;
}

/// Scenario 3b: deleting a namespace returns once it and all its content (a custom resource
/// among it) are gone.
async fn delete_namespace_with_content(version: &'static str) {
    let k = Cluster::start(version).await;
    let crd = k.file("crd.yaml", CRD);
    k.apply_file(&crd).await;
    k.ok(&[
        "wait",
        "--for",
        "condition=established",
        "--timeout=30s",
        "crd/widgets.example.com",
    ])
    .await;
    let content = k.file(
        "content.yaml",
        &documents(&[
            &namespace("doomed"),
            &namespace("spared"),
            &config_map("doomed", "settings", &[], &[("k", "v")]),
            &deployment("doomed", "web", &[("http", 80)]),
            &widget("doomed", "gear", "red"),
            &widget("spared", "cog", "green"),
        ]),
    );
    k.apply_file(&content).await;

    let out = k
        .ok(&["delete", "namespace", "doomed", "--timeout=60s"])
        .await;
    assert_eq!(out.trim(), "namespace \"doomed\" deleted");
    k.assert_gone(&["namespace", "doomed"]).await;
    let widgets = k.ok(&["get", "widgets", "-A", "-o", "name"]).await;
    assert_eq!(widgets.trim(), "widget.example.com/cog");
    let left = k
        .ok(&["get", "configmaps,deployments,widgets", "-A", "-o", "name"])
        .await;
    for gone in [
        "configmap/settings",
        "deployment.apps/web",
        "widget.example.com/gear",
    ] {
        assert!(!left.lines().any(|l| l == gone), "{gone} survived:\n{left}");
    }
    k.shutdown().await;
}
