//! Differential test of the patch engines against kustomize v5.6.0 (`kubectl.1.33 kustomize`).
//!
//! Every case is a resource and a patch. The cases run through kubectl in batches (one
//! kustomization with every resource and one `patches:` entry per case, targeted by name), and
//! each result is compared, as a `serde_json::Value` with list order, with
//! `apply_strategic_merge_resource` / `apply_json6902`. Cases kustomize rejects run alone and
//! must fail in both, with kustomize's message contained in ours.
//!
//! Without `kubectl.1.33` the test fails when `CI` is set and is skipped loudly otherwise.

// Helpers outside #[test] fns: a panic there is a failed test too.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use tether_kustomize::patch::{
    OpenApiSchema, PatchError, PatchSchema, SmpOptions, SmpOutcome, apply_json6902,
    apply_strategic_merge_resource,
};

fn find_kubectl() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    let dirs: Vec<PathBuf> = std::env::split_paths(&path).collect();
    for dir in &dirs {
        let candidate = dir.join("kubectl.1.33");
        if candidate.is_file() {
            return Some(candidate);
        }
    }
    // The machine's `kubectl` is a dispatcher next to the versioned binaries.
    for dir in &dirs {
        let kubectl = dir.join("kubectl");
        if let Ok(real) = std::fs::canonicalize(&kubectl)
            && let Some(candidate) = real.parent().map(|p| p.join("kubectl.1.33"))
            && candidate.is_file()
        {
            return Some(candidate);
        }
    }
    None
}

fn yaml(text: &str) -> Value {
    serde_saphyr::from_str::<Value>(text).unwrap_or_else(|e| panic!("bad case YAML: {e}\n{text}"))
}

fn case_name(index: usize) -> String {
    format!("case-{index:03}")
}

/// What kustomize's loader does to every document it reads, resources and patches alike:
/// `metadata.annotations` values become strings, and an empty or null map disappears.
fn load(mut document: Value) -> Value {
    let Some(meta) = document.get_mut("metadata").and_then(Value::as_object_mut) else {
        return document;
    };
    let strings: serde_json::Map<String, Value> = match meta.get("annotations") {
        Some(Value::Object(m)) => m
            .iter()
            .map(|(k, v)| {
                let text = match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                (k.clone(), Value::String(text))
            })
            .collect(),
        _ => serde_json::Map::new(),
    };
    if strings.is_empty() {
        meta.remove("annotations");
    } else {
        meta.insert("annotations".to_owned(), Value::Object(strings));
    }
    document
}

/// The case's resource, renamed so a batch can target it.
fn resource(index: usize, case: &Case) -> Value {
    let mut r = yaml(case.resource);
    r["metadata"]["name"] = Value::String(case_name(index));
    load(r)
}

fn schema_of(case: &Case) -> PatchSchema {
    if case.custom_schema {
        PatchSchema::Custom(OpenApiSchema::from_document(yaml(CUSTOM_SCHEMA)).unwrap())
    } else {
        PatchSchema::Builtin
    }
}

/// The case's patch; an untargeted patch names its resource.
fn patch(index: usize, case: &Case, targeted: bool) -> Value {
    let mut p = yaml(case.patch);
    if case.kind == Kind::Json {
        return p;
    }
    if !targeted {
        p["metadata"]["name"] = Value::String(case_name(index));
    }
    load(p)
}

/// Whether kustomize can find the case's resource by the patch's own identity.
fn untargetable(case: &Case) -> bool {
    let (r, p) = (yaml(case.resource), yaml(case.patch));
    case.kind == Kind::Smp
        && !case.custom_schema
        && r["apiVersion"] == p["apiVersion"]
        && r["kind"] == p["kind"]
        && p["metadata"].get("namespace").is_none()
        && !case.allow_changes
}

/// Ours: the patched resource, `None` when deleted.
fn ours(index: usize, case: &Case, targeted: bool) -> Result<Option<Value>, PatchError> {
    let mut target = resource(index, case);
    let patch = patch(index, case, targeted);
    match case.kind {
        Kind::Smp => {
            let outcome = apply_strategic_merge_resource(
                &mut target,
                &patch,
                &schema_of(case),
                SmpOptions {
                    targeted,
                    allow_name_change: case.allow_changes,
                    allow_kind_change: case.allow_changes,
                },
            )?;
            Ok((outcome == SmpOutcome::Patched).then_some(target))
        }
        Kind::Json => {
            apply_json6902(&mut target, &patch)?;
            Ok(Some(target))
        }
    }
}

/// Writes one kustomization with the cases `indices`.
fn write_batch(dir: &Path, indices: &[usize], custom: bool, targeted: bool) {
    let mut resources = String::new();
    let mut kustomization = String::from("resources:\n- resources.yaml\npatches:\n");
    for &i in indices {
        let case = &CASES[i];
        resources.push_str("---\n");
        resources.push_str(&serde_json::to_string_pretty(&resource(i, case)).unwrap());
        resources.push('\n');
        let file = format!("patch-{i:03}.json");
        let text = serde_json::to_string_pretty(&patch(i, case, targeted)).unwrap();
        std::fs::write(dir.join(&file), text).unwrap();
        kustomization.push_str(&format!("- path: {file}\n"));
        if targeted {
            kustomization.push_str(&format!("  target:\n    name: {}\n", case_name(i)));
        }
        if case.allow_changes {
            kustomization
                .push_str("  options:\n    allowNameChange: true\n    allowKindChange: true\n");
        }
    }
    if custom {
        std::fs::write(
            dir.join("schema.json"),
            serde_json::to_string_pretty(&yaml(CUSTOM_SCHEMA)).unwrap(),
        )
        .unwrap();
        kustomization.push_str("openapi:\n  path: schema.json\n");
    }
    std::fs::write(dir.join("resources.yaml"), resources).unwrap();
    std::fs::write(dir.join("kustomization.yaml"), kustomization).unwrap();
}

/// Runs kustomize on the cases; `Ok` maps each output resource's name to it.
fn kustomize(
    kubectl: &Path,
    indices: &[usize],
    custom: bool,
    targeted: bool,
) -> Result<BTreeMap<String, Value>, String> {
    let dir = tempfile::tempdir().unwrap();
    write_batch(dir.path(), indices, custom, targeted);
    let out = Command::new(kubectl)
        .arg("kustomize")
        .arg(dir.path())
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", kubectl.display()));
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    let text = String::from_utf8(out.stdout).unwrap();
    let mut by_name = BTreeMap::new();
    for doc in text.split("\n---\n") {
        if doc.trim().is_empty() {
            continue;
        }
        let value = yaml(doc);
        let name = value["metadata"]["name"].as_str().unwrap().to_owned();
        by_name.insert(name, value);
    }
    Ok(by_name)
}

/// kustomize's output for case `index`: under the case's name, or under the patch's name when
/// the patch may rename.
fn output_of(index: usize, outputs: &BTreeMap<String, Value>) -> Option<&Value> {
    let case = &CASES[index];
    if case.allow_changes {
        let renamed = yaml(case.patch)["metadata"]["name"]
            .as_str()
            .map(str::to_owned);
        if let Some(v) = renamed.and_then(|n| outputs.get(&n)) {
            return Some(v);
        }
    }
    outputs.get(&case_name(index))
}

fn pretty(v: &Option<Value>) -> String {
    match v {
        Some(v) => serde_json::to_string_pretty(v).unwrap(),
        None => "<deleted>".to_owned(),
    }
}

fn compare(index: usize, targeted: bool, expected: Option<&Value>, failures: &mut Vec<String>) {
    let case = &CASES[index];
    let how = if targeted { "targeted" } else { "by name" };
    let got = match ours(index, case, targeted) {
        Ok(v) => v,
        Err(e) => {
            failures.push(format!(
                "{} ({}, {how}): kustomize succeeded, we failed: {e}",
                case_name(index),
                case.name
            ));
            return;
        }
    };
    let expected = expected.cloned();
    if got != expected {
        failures.push(format!(
            "{} ({}, {how}): differs from kustomize\n--- kustomize\n{}\n--- ours\n{}",
            case_name(index),
            case.name,
            pretty(&expected),
            pretty(&got)
        ));
    }
}

#[test]
fn patches_match_kustomize() {
    assert!(CASES.len() >= 60, "the table should keep at least 60 cases");
    let Some(kubectl) = find_kubectl() else {
        if std::env::var_os("CI").is_some() {
            panic!(
                "kubectl.1.33 (kustomize v5.6.0) not found: the differential test needs it in CI"
            );
        }
        eprintln!(
            "\n\n*** SKIPPED patch_differential: kubectl.1.33 not found on PATH or next to kubectl ***\n\n"
        );
        return;
    };

    let mut failures = Vec::new();
    let mut runs = 0;
    for (custom, targeted) in [(false, true), (true, true), (false, false)] {
        let batch: Vec<usize> = (0..CASES.len())
            .filter(|&i| {
                let case = &CASES[i];
                case.custom_schema == custom
                    && case.expect == Expect::Output
                    && (targeted || untargetable(case))
            })
            .collect();
        runs += batch.len();
        match kustomize(&kubectl, &batch, custom, targeted) {
            Ok(outputs) => {
                for &i in &batch {
                    compare(i, targeted, output_of(i, &outputs), &mut failures);
                }
            }
            // Find the culprits one by one.
            Err(batch_error) => {
                for &i in &batch {
                    match kustomize(&kubectl, &[i], custom, targeted) {
                        Ok(outputs) => {
                            compare(i, targeted, outputs.get(&case_name(i)), &mut failures)
                        }
                        Err(e) => failures.push(format!(
                            "{} ({}): kustomize failed: {e} (batch: {batch_error})",
                            case_name(i),
                            CASES[i].name
                        )),
                    }
                }
            }
        }
    }

    for (i, case) in CASES.iter().enumerate() {
        let Expect::Error(phrase) = case.expect else {
            continue;
        };
        runs += 1;
        // Errors from the merge itself, not from kustomize's handling of a targeted copy.
        let targeted = !untargetable(case);
        let theirs = match kustomize(&kubectl, &[i], case.custom_schema, targeted) {
            Ok(_) => {
                failures.push(format!(
                    "{} ({}): kustomize did not fail",
                    case_name(i),
                    case.name
                ));
                continue;
            }
            Err(e) => e,
        };
        match ours(i, case, targeted) {
            Ok(v) => failures.push(format!(
                "{} ({}): kustomize failed ({theirs}), we produced {}",
                case_name(i),
                case.name,
                pretty(&v)
            )),
            Err(e) => {
                let message = match &e {
                    PatchError::JsonPatchOperation { message, .. } => message.clone(),
                    other => other.to_string(),
                };
                if !theirs.contains(phrase) || !message.contains(phrase) {
                    failures.push(format!(
                        "{} ({}): expected both errors to contain {phrase:?}\n  kustomize: {theirs}\n  ours: {e}",
                        case_name(i),
                        case.name
                    ));
                }
                if let PatchError::JsonPatchOperation { message, .. } = &e
                    && !theirs.contains(message.as_str())
                {
                    failures.push(format!(
                        "{} ({}): kustomize's message {theirs:?} does not contain ours {message:?}",
                        case_name(i),
                        case.name
                    ));
                }
            }
        }
    }

    assert!(
        failures.is_empty(),
        "{} of {runs} case runs differ from kustomize:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    eprintln!("{runs} case runs ({} cases) match kustomize", CASES.len());
}

// ---------------------------------------------------------------------------------------------
// The cases.

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Smp,
    Json,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// kustomize builds; compare the resource.
    Output,
    /// kustomize fails with a message containing this phrase, and so must we.
    Error(&'static str),
}

struct Case {
    name: &'static str,
    kind: Kind,
    resource: &'static str,
    patch: &'static str,
    custom_schema: bool,
    expect: Expect,
    /// `options: {allowNameChange: true, allowKindChange: true}` on the patch entry.
    allow_changes: bool,
}

const fn smp(name: &'static str, resource: &'static str, patch: &'static str) -> Case {
    Case {
        name,
        kind: Kind::Smp,
        resource,
        patch,
        custom_schema: false,
        expect: Expect::Output,
        allow_changes: false,
    }
}

const fn json(name: &'static str, resource: &'static str, patch: &'static str) -> Case {
    Case {
        name,
        kind: Kind::Json,
        resource,
        patch,
        custom_schema: false,
        expect: Expect::Output,
        allow_changes: false,
    }
}

const fn smp_custom(name: &'static str, resource: &'static str, patch: &'static str) -> Case {
    Case {
        name,
        kind: Kind::Smp,
        resource,
        patch,
        custom_schema: true,
        expect: Expect::Output,
        allow_changes: false,
    }
}

const fn allowing_changes(mut case: Case) -> Case {
    case.allow_changes = true;
    case
}

const fn fails(mut case: Case, phrase: &'static str) -> Case {
    case.expect = Expect::Error(phrase);
    case
}

const DEPLOY: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web, tier: front}
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: app
        image: app:1
        args: [serve, --port=8080]
        env:
        - {name: A, value: "1"}
        - {name: B, value: "2"}
        - {name: C, value: "3"}
        ports:
        - {containerPort: 8080, protocol: TCP, name: http}
        - {containerPort: 8080, protocol: UDP, name: quic}
        - {containerPort: 9090, name: metrics}
        volumeMounts:
        - {name: data, mountPath: /data}
        - {name: cache, mountPath: /cache}
      - name: sidecar
        image: side:1
      - name: logger
        image: log:1
      volumes:
      - name: data
        emptyDir: {}
      - name: cache
        configMap: {name: cache}
      tolerations:
      - {key: a, operator: Exists}
"#;

const SERVICE: &str = r#"
apiVersion: v1
kind: Service
metadata:
  name: svc
spec:
  selector: {app: web}
  ports:
  - {port: 80, targetPort: 8080, protocol: TCP, name: http}
  - {port: 53, protocol: UDP, name: dns}
"#;

const CR: &str = r#"
apiVersion: example.com/v1
kind: Widget
metadata:
  name: w
spec:
  size: 3
  settings: {a: 1, b: 2}
  items:
  - {name: a, value: 1}
  - {name: b, value: 2}
  mounts:
  - {mountPath: /a}
  tags: [x, y]
"#;

const CRD_INSTANCE: &str = r#"
apiVersion: example.com/v1alpha1
kind: MyCRD
metadata:
  name: m
spec:
  template:
    spec:
      containers:
      - name: server
        image: server:1
        ports:
        - {containerPort: 8080, protocol: TCP, name: grpc}
      other:
      - {name: a}
"#;

/// The document of the custom-schema cases (kustomize's TestCustomOpenApiFieldYaml, plus an
/// associative list of its own).
const CUSTOM_SCHEMA: &str = r##"
definitions:
  v1alpha1.MyCRD:
    type: object
    properties:
      apiVersion: {type: string}
      kind: {type: string}
      metadata: {type: object}
      spec:
        type: object
        properties:
          template: {$ref: "#/definitions/io.k8s.api.core.v1.PodTemplateSpec"}
    x-kubernetes-group-version-kind:
    - {group: example.com, kind: MyCRD, version: v1alpha1}
  io.k8s.api.core.v1.PodTemplateSpec:
    type: object
    properties:
      spec: {$ref: "#/definitions/io.k8s.api.core.v1.PodSpec"}
  io.k8s.api.core.v1.PodSpec:
    type: object
    properties:
      containers:
        type: array
        items: {$ref: "#/definitions/io.k8s.api.core.v1.Container"}
        x-kubernetes-patch-merge-key: name
        x-kubernetes-patch-strategy: merge
  io.k8s.api.core.v1.Container:
    type: object
    properties:
      name: {type: string}
      image: {type: string}
      ports:
        type: array
        items: {$ref: "#/definitions/io.k8s.api.core.v1.ContainerPort"}
        x-kubernetes-list-map-keys: [containerPort, protocol]
        x-kubernetes-list-type: map
        x-kubernetes-patch-merge-key: containerPort
        x-kubernetes-patch-strategy: merge
  io.k8s.api.core.v1.ContainerPort:
    type: object
    properties:
      containerPort: {type: integer}
      name: {type: string}
      protocol: {type: string}
"##;

const CASES: &[Case] = &[
    // --- Deployments: containers merge by name, patch elements first.
    smp(
        "add a container",
        DEPLOY,
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      containers:
      - {name: new, image: new:1}
"#,
    ),
    smp(
        "update a container image",
        DEPLOY,
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      containers:
      - {name: sidecar, image: side:2}
"#,
    ),
    smp(
        "patch reorders existing containers",
        DEPLOY,
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      containers:
      - {name: logger}
      - {name: app}
"#,
    ),
    smp(
        "new container in the middle of the patch list",
        DEPLOY,
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      containers:
      - {name: logger, image: log:2}
      - {name: middle, image: mid:1}
      - {name: app, image: app:2}
"#,
    ),
    smp(
        "delete a container",
        DEPLOY,
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      containers:
      - {name: sidecar, $patch: delete}
"#,
    ),
    smp(
        "delete a container that does not exist",
        DEPLOY,
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      containers:
      - {name: ghost, $patch: delete}
      - {name: extra, image: extra:1}
"#,
    ),
    smp(
        "replace directive on a list element is ignored",
        DEPLOY,
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      containers:
      - {name: app, $patch: replace, image: only:1}
"#,
    ),
    smp(
        "replace directive on a new list element is dropped",
        DEPLOY,
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      containers:
      - {name: fresh, $patch: replace, image: fresh:1}
"#,
    ),
    smp(
        "env merges by name with new entries first",
        DEPLOY,
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      containers:
      - name: app
        env:
        - {name: C, value: "33"}
        - {name: Z, value: "26"}
        - {name: A, value: "11"}
"#,
    ),
    smp(
        "null inside a list element removes the field",
        DEPLOY,
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      containers:
      - name: app
        env:
        - {name: B, value: null, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
"#,
    ),
    smp(
        "emptyDir null removes it (TestRemoveEmptyDirWithNullFieldInSmp)",
        DEPLOY,
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      volumes:
      - name: data
        emptyDir: null
        persistentVolumeClaim: {claimName: data}
"#,
    ),
    smp(
        "volumes add and change",
        DEPLOY,
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      volumes:
      - {name: secret, secret: {secretName: s}}
      - {name: cache, configMap: {name: cache2, defaultMode: 420}}
"#,
    ),
    smp(
        "volumeMounts merge by mountPath",
        DEPLOY,
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      containers:
      - name: app
        volumeMounts:
        - {mountPath: /cache, name: cache, readOnly: true}
        - {mountPath: /tmp, name: tmp}
"#,
    ),
    smp(
        "ports merge by containerPort and protocol",
        DEPLOY,
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      containers:
      - name: app
        ports:
        - {containerPort: 8080, protocol: UDP, name: quic2}
        - {containerPort: 7070}
        - {containerPort: 9090, name: prom}
"#,
    ),
    smp(
        "port without protocol meets the port with one",
        DEPLOY,
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      containers:
      - name: app
        ports:
        - {containerPort: 9090, protocol: TCP}
"#,
    ),
    smp(
        "port key compares by text",
        DEPLOY,
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      containers:
      - name: app
        ports:
        - {containerPort: "9090", name: text}
"#,
    ),
    smp(
        "untouched ports: a port without protocol swallows its UDP twin",
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      containers:
      - name: app
        ports:
        - {containerPort: 80, protocol: UDP}
        - {containerPort: 80}
"#,
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, labels: {x: z}}
"#,
    ),
    smp(
        "env entry without a name drops its neighbours",
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      containers:
      - name: app
        env:
        - {name: A, value: a}
        - {value: nameless}
        - {name: B, value: b}
"#,
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      containers:
      - name: app
        env:
        - {name: P, value: p}
"#,
    ),
    smp(
        "empty element in the resource's volumes",
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      volumes:
      - {}
      - {name: v1, emptyDir: {}}
"#,
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, labels: {x: z}}
"#,
    ),
    smp(
        "duplicate container names collapse to the last",
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      containers:
      - {name: a, image: a1}
      - {name: b, image: b}
      - {name: a, image: a2}
"#,
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, labels: {x: z}}
"#,
    ),
    smp(
        "finalizers merge as a set, patch first",
        r#"
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  finalizers: [f1, f2, f3]
"#,
        r#"
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  finalizers: [f4, f2]
"#,
    ),
    smp(
        "null finalizer disappears",
        r#"
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  finalizers: [f1, null, f2]
"#,
        r#"
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  finalizers: [f0]
"#,
    ),
    smp(
        "args are replaced",
        DEPLOY,
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      containers:
      - {name: app, args: [run, null]}
"#,
    ),
    smp(
        "tolerations are replaced",
        DEPLOY,
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      tolerations:
      - {key: b, operator: Equal, value: v, effect: null}
"#,
    ),
    smp(
        "imagePullSecrets merge by name",
        r#"
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  imagePullSecrets: [{name: one}]
  containers: [{name: c, image: c}]
"#,
        r#"
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  imagePullSecrets: [{name: two}, {name: one}]
"#,
    ),
    smp(
        "delete directive on a map",
        DEPLOY,
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    metadata:
      labels: {$patch: delete}
"#,
    ),
    smp(
        "replace directive on a map",
        DEPLOY,
        r#"
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {$patch: replace, only: this}
"#,
    ),
    smp(
        "merge directive on a map",
        DEPLOY,
        r#"
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {$patch: merge, more: here}
"#,
    ),
    smp(
        "retainKeys is just a field",
        DEPLOY,
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  strategy:
    $retainKeys: [type]
    type: Recreate
"#,
    ),
    smp(
        "setElementOrder is just a field",
        DEPLOY,
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      $setElementOrder/containers: [{name: logger}, {name: app}, {name: sidecar}]
      containers:
      - {name: logger, image: log:3}
"#,
    ),
    smp(
        "deleteFromPrimitiveList is just a field",
        DEPLOY,
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      containers:
      - name: app
        $deleteFromPrimitiveList/args: [serve]
"#,
    ),
    smp(
        "unknown directive on a new map is kept",
        DEPLOY,
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      securityContext: {$patch: bogus, runAsUser: 1000}
"#,
    ),
    smp(
        "directives inside new content",
        DEPLOY,
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      containers:
      - name: fresh
        image: fresh:1
        args: [keep, null]
        securityContext:
          runAsUser: null
          capabilities: {$patch: delete, add: [NET_ADMIN]}
          seLinuxOptions: {$patch: replace, user: u, level: null}
        env:
        - {name: X, value: x}
        - {name: Y, $patch: delete}
"#,
    ),
    smp(
        "null removes a scalar field",
        DEPLOY,
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: null
"#,
    ),
    smp(
        "null removes a list",
        DEPLOY,
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      volumes: null
      tolerations: null
"#,
    ),
    smp(
        "resource nulls the patch does not mention stay",
        r#"
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {a: null, b: x}
spec:
  replicas: null
  template:
    spec:
      containers:
      - {name: app, image: app, env: [{name: E, value: null}]}
"#,
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  paused: true
"#,
    ),
    smp(
        "a map replaces a resource null",
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  strategy: null
"#,
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  strategy: {type: Recreate}
"#,
    ),
    smp(
        "null label value deletes the label, empty map stays",
        DEPLOY,
        r#"
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: null, tier: null}
"#,
    ),
    smp(
        "name and namespace of the patch do not rename",
        DEPLOY,
        r#"
apiVersion: apps/v1
kind: Deployment
metadata:
  name: other
  namespace: elsewhere
  annotations: {note: hi}
"#,
    ),
    smp(
        "patch apiVersion and kind do not change the resource",
        DEPLOY,
        r#"
apiVersion: apps/v2
kind: Deployment2
metadata:
  name: web
  annotations: {note: hi}
"#,
    ),
    smp(
        "delete the whole resource",
        DEPLOY,
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
$patch: delete
"#,
    ),
    smp(
        "replace the whole resource is ignored",
        DEPLOY,
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
$patch: replace
spec: {replicas: 9}
"#,
    ),
    smp(
        "initContainers merge by name",
        r#"
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: st}
spec:
  serviceName: st
  template:
    spec:
      initContainers: [{name: init, image: i:1}]
      containers: [{name: c, image: c:1}]
  volumeClaimTemplates:
  - metadata: {name: data}
    spec: {accessModes: [ReadWriteOnce]}
"#,
        r#"
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: st}
spec:
  template:
    spec:
      initContainers: [{name: init, image: i:2}, {name: init2, image: j:1}]
  volumeClaimTemplates:
  - metadata: {name: logs}
"#,
    ),
    smp(
        "hostAliases merge by ip",
        r#"
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  hostAliases:
  - {ip: 10.0.0.1, hostnames: [a]}
  containers: [{name: c, image: c}]
"#,
        r#"
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  hostAliases:
  - {ip: 10.0.0.2, hostnames: [b]}
  - {ip: 10.0.0.1, hostnames: [c]}
"#,
    ),
    smp(
        "topologySpreadConstraints merge by two keys",
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      containers: [{name: c, image: c}]
      topologySpreadConstraints:
      - {topologyKey: zone, whenUnsatisfiable: DoNotSchedule, maxSkew: 1}
      - {topologyKey: host, whenUnsatisfiable: ScheduleAnyway, maxSkew: 1}
"#,
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      topologySpreadConstraints:
      - {topologyKey: zone, whenUnsatisfiable: DoNotSchedule, maxSkew: 2}
      - {topologyKey: rack, whenUnsatisfiable: DoNotSchedule, maxSkew: 1}
"#,
    ),
    smp(
        "ownerReferences merge by uid",
        r#"
apiVersion: v1
kind: ConfigMap
metadata:
  name: cm
  ownerReferences:
  - {apiVersion: v1, kind: Pod, name: a, uid: u1}
data: {k: v}
"#,
        r#"
apiVersion: v1
kind: ConfigMap
metadata:
  name: cm
  ownerReferences:
  - {apiVersion: v1, kind: Pod, name: b, uid: u2}
"#,
    ),
    smp(
        "schedulingGates are newer than kustomize's schema: replaced",
        r#"
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  schedulingGates: [{name: g1}]
  containers: [{name: c, image: c}]
"#,
        r#"
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  schedulingGates: [{name: g2}]
"#,
    ),
    // --- Services: ports merge by port and protocol.
    smp(
        "service ports add and update",
        SERVICE,
        r#"
apiVersion: v1
kind: Service
metadata: {name: svc}
spec:
  ports:
  - {port: 443, targetPort: 8443, name: https}
  - {port: 80, protocol: TCP, targetPort: 9090}
"#,
    ),
    smp(
        "service port with another protocol",
        SERVICE,
        r#"
apiVersion: v1
kind: Service
metadata: {name: svc}
spec:
  ports:
  - {port: 53, protocol: TCP, name: dns-tcp}
"#,
    ),
    smp(
        "service selector merges",
        SERVICE,
        r#"
apiVersion: v1
kind: Service
metadata: {name: svc}
spec:
  selector: {app: null, role: api}
  type: NodePort
"#,
    ),
    // --- Kinds kyaml knows in another version, and kinds it does not know.
    smp(
        "CronJob containers merge",
        r#"
apiVersion: batch/v1
kind: CronJob
metadata: {name: cj}
spec:
  schedule: "* * * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          containers: [{name: job, image: job:1}]
"#,
        r#"
apiVersion: batch/v1
kind: CronJob
metadata: {name: cj}
spec:
  jobTemplate:
    spec:
      template:
        spec:
          containers: [{name: helper, image: h:1}]
"#,
    ),
    smp(
        "batch/v1beta1 CronJob containers merge",
        r#"
apiVersion: batch/v1beta1
kind: CronJob
metadata: {name: cj}
spec:
  schedule: "* * * * *"
  jobTemplate:
    spec:
      template:
        spec:
          containers: [{name: job, image: job:1}]
"#,
        r#"
apiVersion: batch/v1beta1
kind: CronJob
metadata: {name: cj}
spec:
  jobTemplate:
    spec:
      template:
        spec:
          containers: [{name: helper, image: h:1}]
"#,
    ),
    smp(
        "autoscaling/v2 is unknown to kustomize's schema",
        r#"
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: h
  finalizers: [a]
spec:
  maxReplicas: 3
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
"#,
        r#"
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: h
  finalizers: [b]
spec:
  maxReplicas: 5
"#,
    ),
    smp(
        "custom resource lists are replaced",
        CR,
        r#"
apiVersion: example.com/v1
kind: Widget
metadata: {name: w}
spec:
  items:
  - {name: c, value: 3}
  mounts:
  - {mountPath: /b}
  tags: [z]
"#,
    ),
    smp(
        "custom resource maps merge",
        CR,
        r#"
apiVersion: example.com/v1
kind: Widget
metadata: {name: w}
spec:
  size: null
  settings: {b: 20, c: 30}
  extra: {deep: {er: true}}
"#,
    ),
    smp(
        "custom resource embedding a typed object",
        r#"
apiVersion: example.com/v1
kind: Wrapper
metadata: {name: wr}
spec:
  object:
    apiVersion: apps/v1
    kind: Deployment
    spec:
      template:
        spec:
          containers: [{name: a, image: a}]
"#,
        r#"
apiVersion: example.com/v1
kind: Wrapper
metadata: {name: wr}
spec:
  object:
    spec:
      template:
        spec:
          containers: [{name: b, image: b}]
"#,
    ),
    smp(
        "ConfigMap data",
        r#"
apiVersion: v1
kind: ConfigMap
metadata: {name: cm}
data: {a: "1", b: "2"}
"#,
        r#"
apiVersion: v1
kind: ConfigMap
metadata: {name: cm}
data: {b: null, c: "3"}
"#,
    ),
    smp(
        "envFrom is replaced (TestMergeEnvFrom)",
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      containers:
      - name: app
        image: app
        envFrom:
        - configMapRef: {name: one}
        - configMapRef: {name: two}
"#,
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      containers:
      - name: app
        envFrom:
        - configMapRef: {name: three}
"#,
    ),
    smp(
        "patch element without the merge key",
        DEPLOY,
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      containers:
      - {image: nameless:1}
"#,
    ),
    smp(
        "DaemonSet env with boolean-looking values",
        r#"
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: ds}
spec:
  template:
    spec:
      containers:
      - name: c
        image: c
        env: [{name: FOO, value: "true"}]
"#,
        r#"
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: ds}
spec:
  template:
    spec:
      containers:
      - name: c
        env: [{name: FOO, value: "false"}, {name: BAR, value: "1"}]
"#,
    ),
    smp(
        "merge into a list the resource lacks",
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      containers: [{name: app, image: app}]
"#,
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      containers:
      - name: app
        ports:
        - {containerPort: 80, name: a}
        - {containerPort: 80, name: b}
        env:
        - {name: X, value: "1"}
        - {name: X, value: "2"}
"#,
    ),
    smp(
        "null finalizer at the end stays",
        r#"
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  finalizers: [f1, null]
"#,
        r#"
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  finalizers: [f0]
"#,
    ),
    smp(
        "empty patch list keeps the resource's list",
        DEPLOY,
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      containers: []
      volumes: []
      tolerations: []
"#,
    ),
    smp(
        "list element with only a delete directive empties the list",
        DEPLOY,
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      volumes:
      - {$patch: delete}
"#,
    ),
    smp(
        "list element with only a replace directive acts as a replace",
        DEPLOY,
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      containers:
      - {$patch: replace}
      - {name: only, image: only:1}
"#,
    ),
    smp(
        "scalar in a keyed patch list",
        DEPLOY,
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      volumes: [oops]
"#,
    ),
    smp(
        "resource port without protocol, patch port with one",
        r#"
apiVersion: v1
kind: Service
metadata: {name: svc}
spec:
  ports:
  - {port: 80, targetPort: 8080}
  - {port: 81}
"#,
        r#"
apiVersion: v1
kind: Service
metadata: {name: svc}
spec:
  ports:
  - {port: 80, protocol: TCP, name: web}
  - {port: 82, protocol: UDP}
"#,
    ),
    smp(
        "null element among containers",
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      containers:
      - {name: a, image: a}
      - null
      - {name: b, image: b}
"#,
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      containers:
      - {name: c, image: c}
"#,
    ),
    smp(
        "null over a missing field",
        DEPLOY,
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      initContainers: null
      hostNetwork: null
      securityContext: null
"#,
    ),
    smp(
        "new map with nested merge lists and duplicates",
        r#"
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers: [{name: c, image: c}]
"#,
        r#"
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  initContainers:
  - name: i
    image: i
    env: [{name: E, value: "1"}, {name: E, value: "2"}, {name: F, value: null}]
    volumeMounts: [{mountPath: /a, name: a}, {$patch: delete, mountPath: /b}]
"#,
    ),
    smp(
        "ports touched with a name only",
        DEPLOY,
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      containers:
      - name: app
        ports:
        - {name: renamed, containerPort: 8080}
"#,
    ),
    allowing_changes(smp(
        "allowNameChange renames",
        DEPLOY,
        r#"
apiVersion: apps/v1
kind: Deployment
metadata:
  name: renamed
  namespace: ns
"#,
    )),
    allowing_changes(smp(
        "allowKindChange changes the kind",
        DEPLOY,
        r#"
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: web}
spec:
  serviceName: web
"#,
    )),
    smp(
        "labels and annotations of a targeted patch become strings",
        DEPLOY,
        r#"
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {count: 3, flag: true}
  annotations: {n: 1.5}
"#,
    ),
    json(
        "remove through a negative index",
        DEPLOY,
        r#"
- {op: remove, path: /spec/template/spec/containers/-1}
- {op: replace, path: /spec/template/spec/containers/-2/image, value: neg}
"#,
    ),
    json(
        "test a null field, add over an existing key",
        r#"
apiVersion: v1
kind: ConfigMap
metadata: {name: cm}
data: {a: b, n: null}
"#,
        r#"
- {op: test, path: /data/n, value: null}
- {op: test, path: /data/a, value: b}
- {op: add, path: /data/a, value: c}
- {op: remove, path: /data/n}
"#,
    ),
    json(
        "move a map key",
        DEPLOY,
        r#"
- {op: move, from: /metadata/labels/tier, path: /metadata/labels/layer}
- {op: copy, from: /spec/template/spec/containers/0/env, path: /spec/template/spec/containers/1/env}
"#,
    ),
    fails(
        json(
            "move from a missing key",
            DEPLOY,
            r#"
- {op: move, from: /metadata/labels/nope, path: /metadata/labels/x}
"#,
        ),
        "Unable to remove nonexistent key: nope",
    ),
    fails(
        json(
            "dash in the middle of a path",
            DEPLOY,
            r#"
- {op: add, path: /spec/template/spec/containers/-/image, value: x}
"#,
        ),
        "doc is missing path",
    ),
    fails(
        smp(
            "scalar element in a keyed resource list",
            r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      containers:
      - {name: a, image: a}
      - oops
"#,
            r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  paused: true
"#,
        ),
        "expected MappingNode but got ScalarNode",
    ),
    smp(
        "CSINode drivers merge by name",
        r#"
apiVersion: storage.k8s.io/v1
kind: CSINode
metadata: {name: n}
spec:
  drivers: [{name: a, nodeID: "1"}]
"#,
        r#"
apiVersion: storage.k8s.io/v1
kind: CSINode
metadata: {name: n}
spec:
  drivers: [{name: b, nodeID: "2"}]
"#,
    ),
    smp(
        "ServiceAccount secrets merge by name",
        r#"
apiVersion: v1
kind: ServiceAccount
metadata: {name: sa}
secrets: [{name: s1}]
imagePullSecrets: [{name: p1}]
"#,
        r#"
apiVersion: v1
kind: ServiceAccount
metadata: {name: sa}
secrets: [{name: s2}]
imagePullSecrets: [{name: p2}]
"#,
    ),
    smp(
        "webhooks merge by name, matchConditions are newer and replaced",
        r#"
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {name: v}
webhooks:
- name: a.example.com
  sideEffects: None
  admissionReviewVersions: [v1]
  clientConfig: {url: "https://a"}
  matchConditions: [{name: m1, expression: "true"}]
"#,
        r#"
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {name: v}
webhooks:
- name: b.example.com
  clientConfig: {url: "https://b"}
- name: a.example.com
  matchConditions: [{name: m2, expression: "false"}]
"#,
    ),
    smp(
        "CRD validations are newer and replaced",
        r#"
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  names: {kind: Widget, plural: widgets}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        x-kubernetes-validations: [{rule: "a"}]
"#,
        r#"
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  versions:
  - name: v1
    schema:
      openAPIV3Schema:
        x-kubernetes-validations: [{rule: "b"}]
"#,
    ),
    smp(
        "Node podCIDRs merge as a set, addresses by type",
        r#"
apiVersion: v1
kind: Node
metadata: {name: n}
spec:
  podCIDRs: [10.0.0.0/24]
status:
  addresses: [{type: InternalIP, address: 10.1.1.1}]
"#,
        r#"
apiVersion: v1
kind: Node
metadata: {name: n}
spec:
  podCIDRs: [10.0.1.0/24]
status:
  addresses: [{type: Hostname, address: n}]
"#,
    ),
    smp(
        "Job containers merge, status conditions by type",
        r#"
apiVersion: batch/v1
kind: Job
metadata: {name: j}
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{name: a, image: a}]
status:
  conditions: [{type: Complete, status: "True"}]
"#,
        r#"
apiVersion: batch/v1
kind: Job
metadata: {name: j}
spec:
  template:
    spec:
      containers: [{name: b, image: b}]
status:
  conditions: [{type: Failed, status: "False"}]
"#,
    ),
    smp(
        "list directives where the resource has no list are kept as elements",
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      containers: [{name: a, image: a}]
"#,
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      volumes:
      - {$patch: replace}
      - {name: v, emptyDir: {}}
      initContainers:
      - {$patch: delete}
"#,
    ),
    // --- Errors.
    fails(
        smp(
            "list in the resource, map in the patch",
            DEPLOY,
            r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      containers: {name: app}
"#,
        ),
        "wrong node kind",
    ),
    fails(
        smp(
            "scalar in the resource, map in the patch",
            DEPLOY,
            r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: {count: 3}
"#,
        ),
        "expected ScalarNode but got MappingNode",
    ),
    fails(
        smp(
            "map in the resource, list in the patch",
            DEPLOY,
            r#"
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: [a]
"#,
        ),
        "expected MappingNode but got SequenceNode",
    ),
    fails(
        smp(
            "unknown directive on an existing map",
            DEPLOY,
            r#"
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {$patch: bogus}
"#,
        ),
        "unknown patch strategy 'bogus'",
    ),
    fails(
        smp(
            "unknown directive nested in new content",
            DEPLOY,
            r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      containers:
      - name: fresh
        lifecycle: {postStart: {exec: {command: [a], $patch: bogus2}}}
"#,
        ),
        "unknown patch strategy 'bogus2'",
    ),
    // --- Custom OpenAPI schema (`openapi: path:`).
    smp_custom(
        "custom schema merges containers and ports",
        CRD_INSTANCE,
        r#"
apiVersion: example.com/v1alpha1
kind: MyCRD
metadata: {name: m}
spec:
  template:
    spec:
      containers:
      - {name: helper, image: h:1}
      - name: server
        image: server:2
        ports: [{containerPort: 9090}]
      other: [{name: b}]
"#,
    ),
    smp_custom(
        "custom schema hides the built-in kinds",
        DEPLOY,
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      containers:
      - {name: sidecar, image: side:9}
"#,
    ),
    // --- JSON 6902.
    json(
        "add a field",
        DEPLOY,
        r#"
- {op: add, path: /spec/paused, value: true}
- {op: add, path: /metadata/annotations, value: {a: b}}
"#,
    ),
    json(
        "add to the end of a list",
        DEPLOY,
        r#"
- {op: add, path: /spec/template/spec/containers/-, value: {name: x, image: x}}
"#,
    ),
    json(
        "add at an index",
        DEPLOY,
        r#"
- {op: add, path: /spec/template/spec/containers/0/args/0, value: first}
"#,
    ),
    json(
        "add at a negative index",
        DEPLOY,
        r#"
- {op: add, path: /spec/template/spec/containers/0/args/-1, value: last}
- {op: add, path: /spec/template/spec/containers/0/env/-2, value: {name: N, value: n}}
"#,
    ),
    json(
        "replace a value",
        DEPLOY,
        r#"
- {op: replace, path: /spec/replicas, value: 5}
- {op: replace, path: /spec/template/spec/containers/1/image, value: side:2}
"#,
    ),
    json(
        "replace a missing key adds it",
        DEPLOY,
        r#"
- {op: replace, path: /spec/minReadySeconds, value: 10}
"#,
    ),
    json(
        "remove a field and a list element",
        DEPLOY,
        r#"
- {op: remove, path: /spec/template/spec/tolerations}
- {op: remove, path: /spec/template/spec/containers/1}
- {op: remove, path: /spec/template/spec/containers/0/env/-1}
"#,
    ),
    json(
        "move and copy",
        DEPLOY,
        r#"
- {op: move, from: /spec/template/spec/containers/2, path: /spec/template/spec/containers/0}
- {op: copy, from: /metadata/labels, path: /spec/template/metadata/annotations}
"#,
    ),
    json(
        "test then replace",
        DEPLOY,
        r#"
- {op: test, path: /spec/replicas, value: 2}
- {op: test, path: /spec/template/spec/containers/0/env/0, value: {name: A, value: "1"}}
- {op: test, path: /spec/nothing, value: null}
- {op: replace, path: /spec/replicas, value: 3}
"#,
    ),
    json(
        "escaped keys",
        DEPLOY,
        r#"
- {op: add, path: /metadata/annotations, value: {}}
- {op: add, path: /metadata/annotations/example.com~1a~0b, value: x}
"#,
    ),
    json(
        "add without a value adds null",
        DEPLOY,
        r#"
- {op: add, path: /spec/paused}
"#,
    ),
    json(
        "path without a leading slash",
        DEPLOY,
        r#"
- {op: add, path: spec/revisionHistoryLimit, value: 3}
"#,
    ),
    json(
        "big integers lose precision",
        r#"
apiVersion: v1
kind: ConfigMap
metadata: {name: cm}
big: 12345678901234567
small: 42
"#,
        r#"
- {op: add, path: /data, value: {k: v}}
"#,
    ),
    json(
        "replace the root with a scalar does nothing",
        CR,
        r#"
- {op: replace, path: "", value: 3}
"#,
    ),
    fails(
        json(
            "remove a missing key",
            DEPLOY,
            r#"
- {op: remove, path: /spec/nothing}
"#,
        ),
        "Unable to remove nonexistent key: nothing",
    ),
    fails(
        json(
            "failing test",
            DEPLOY,
            r#"
- {op: test, path: /spec/replicas, value: 7}
"#,
        ),
        "testing value /spec/replicas failed",
    ),
    fails(
        json(
            "add under a missing parent",
            DEPLOY,
            r#"
- {op: add, path: /spec/missing/child, value: 1}
"#,
        ),
        "doc is missing path",
    ),
    fails(
        json(
            "index past the end",
            DEPLOY,
            r#"
- {op: add, path: /spec/template/spec/containers/9, value: {}}
"#,
        ),
        "Unable to access invalid index: 9",
    ),
    fails(
        json(
            "unknown operation",
            DEPLOY,
            r#"
- {op: frobnicate, path: /spec}
"#,
        ),
        "Unexpected kind: frobnicate",
    ),
    fails(
        json(
            "replace past the end of a list",
            DEPLOY,
            r#"
- {op: replace, path: /spec/template/spec/containers/0/args/5, value: x}
"#,
        ),
        "doc is missing key",
    ),
];
