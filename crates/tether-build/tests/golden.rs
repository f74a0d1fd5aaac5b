//! Generated kustomizations and the spec's overlay give the objects `kubectl.1.33 kustomize`
//! builds from the same tree with the same (rewritten) kustomization file, and the rewrite
//! itself is what Flux writes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use serde_json::json;
use support::{artifact, assert_objects_eq, kubectl_kustomize, spec};
use tether_api::{Image, Patch, Selector};
use tether_build::{BuildOptions, kustomize, prepare};

const DEPLOYMENT: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels:
    app: web
spec:
  replicas: 1
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: web
        image: ghcr.io/example/web:1.0.0
      - name: sidecar
        image: busybox
";

const SERVICE: &str = "apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector:
    app: web
  ports:
  - port: 80
";

#[test]
fn generated_kustomization_lists_manifests_like_flux() {
    let a = artifact(&[
        ("apps/web/deployment.yaml", DEPLOYMENT),
        ("apps/web/service.yml", SERVICE),
        ("apps/web/README.md", "# not a manifest"),
        ("apps/web/values.json", "{}"),
        (
            "apps/web/config/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  k: v\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n",
        ),
        (
            "apps/web/overlay/kustomization.yaml",
            "resources:\n- sa.yaml\nnamePrefix: o-\n",
        ),
        (
            "apps/web/overlay/sa.yaml",
            "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: sa\n",
        ),
        // Inside a directory with its own kustomization: not listed separately.
        ("apps/web/overlay/ignored.yaml", "not: [valid"),
        (
            "apps/web/z-last.yaml",
            "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: web\n",
        ),
    ]);
    let prepared = prepare(&a, &spec("./apps/web")).unwrap();
    assert!(prepared.generated);
    assert_eq!(prepared.path(), "apps/web/kustomization.yaml");
    assert_eq!(
        prepared.kustomization,
        json!({
            "apiVersion": "kustomize.config.k8s.io/v1beta1",
            "kind": "Kustomization",
            "resources": [
                "./config/cm.yaml",
                "./deployment.yaml",
                "./overlay",
                "./service.yml",
                "./z-last.yaml",
            ],
        })
    );
    let ours = kustomize(&a, &spec("./apps/web")).unwrap();
    assert_eq!(ours.objects.len(), 6);
    assert_objects_eq(
        &ours.objects,
        &kubectl_kustomize(&a, &prepared),
        "generated",
    );
}

#[test]
fn empty_directory_builds_nothing() {
    let a = artifact(&[("apps/README.md", "nothing here")]);
    let prepared = prepare(&a, &spec("apps")).unwrap();
    assert_eq!(prepared.kustomization["namespace"], json!("_placeholder"));
    let ours = kustomize(&a, &spec("apps")).unwrap();
    assert!(ours.objects.is_empty());
    assert_objects_eq(&ours.objects, &kubectl_kustomize(&a, &prepared), "empty");
}

fn overlay_spec() -> tether_api::KustomizationSpec {
    let mut s = spec("./clusters/prod");
    s.target_namespace = Some("prod".into());
    s.name_prefix = Some("p-".into());
    s.name_suffix = Some("-s".into());
    s.patches = vec![
        Patch {
            patch: "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: any\nspec:\n  replicas: 3\n".into(),
            target: Some(Selector {
                kind: Some("Deployment".into()),
                label_selector: Some("app=web".into()),
                ..Default::default()
            }),
        },
        Patch {
            patch: "- op: add\n  path: /metadata/annotations\n  value:\n    patched: json6902\n".into(),
            target: Some(Selector {
                version: Some("v1".into()),
                kind: Some("Service".into()),
                name: Some("web".into()),
                ..Default::default()
            }),
        },
    ];
    s.images = vec![
        Image {
            name: "ghcr.io/example/web".into(),
            new_tag: Some("2.0.0".into()),
            ..Default::default()
        },
        Image {
            name: "busybox".into(),
            new_name: Some("registry.local/busybox".into()),
            digest: Some(
                "sha256:24a0c4b4a4c0eb97a1aabb8e29f18e917d05abfe1b7a7c07857230879ce7d3d3".into(),
            ),
            ..Default::default()
        },
    ];
    s.components = vec!["../../components/monitoring".into()];
    s
}

fn overlay_artifact(kustomization_name: &str) -> std::sync::Arc<tether_build::Artifact> {
    let kustomization = "apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
- ../../apps/web
images:
- name: ghcr.io/example/web
  newTag: 1.5.0
  newName: ghcr.io/example/web-fork
commonLabels:
  env: prod
unknownFieldFluxDrops: true
";
    artifact(&[
        ("apps/web/deployment.yaml", DEPLOYMENT),
        ("apps/web/service.yaml", SERVICE),
        (
            "apps/web/kustomization.yaml",
            "resources:\n- deployment.yaml\n- service.yaml\n",
        ),
        (
            &format!("clusters/prod/{kustomization_name}"),
            kustomization,
        ),
        (
            "components/monitoring/kustomization.yaml",
            "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\npatches:\n- patch: |\n    apiVersion: v1\n    kind: Service\n    metadata:\n      name: web\n      labels:\n        monitored: \"true\"\n",
        ),
    ])
}

#[test]
fn spec_overlay_is_written_into_the_kustomization_like_flux() {
    let a = overlay_artifact("kustomization.yaml");
    let s = overlay_spec();
    let prepared = prepare(&a, &s).unwrap();
    assert!(!prepared.generated);
    let k = &prepared.kustomization;
    assert!(k.get("unknownFieldFluxDrops").is_none());
    assert_eq!(k["namespace"], json!("prod"));
    assert_eq!(k["namePrefix"], json!("p-"));
    assert_eq!(k["nameSuffix"], json!("-s"));
    assert_eq!(k["commonLabels"], json!({"env": "prod"}));
    assert_eq!(k["components"], json!(["../../components/monitoring"]));
    // The spec's image replaces the file's entry of the same name whole, and adds new ones.
    assert_eq!(
        k["images"],
        json!([
            {"name": "ghcr.io/example/web", "newTag": "2.0.0"},
            {"name": "busybox", "newName": "registry.local/busybox",
             "digest": "sha256:24a0c4b4a4c0eb97a1aabb8e29f18e917d05abfe1b7a7c07857230879ce7d3d3"},
        ])
    );
    assert_eq!(
        k["patches"][0]["target"],
        json!({"kind": "Deployment", "labelSelector": "app=web"})
    );
    let ours = kustomize(&a, &s).unwrap();
    let reference = kubectl_kustomize(&a, &prepared);
    assert_objects_eq(&ours.objects, &reference, "overlay");
    let deployment = ours
        .objects
        .iter()
        .find(|o| o["kind"] == "Deployment")
        .unwrap();
    assert_eq!(deployment["metadata"]["name"], json!("p-web-s"));
    assert_eq!(deployment["metadata"]["namespace"], json!("prod"));
    assert_eq!(deployment["spec"]["replicas"], json!(3));
    assert_eq!(
        deployment["spec"]["template"]["spec"]["containers"][0]["image"],
        json!("ghcr.io/example/web:2.0.0")
    );
    let service = ours
        .objects
        .iter()
        .find(|o| o["kind"] == "Service")
        .unwrap();
    assert_eq!(
        service["metadata"]["annotations"]["patched"],
        json!("json6902")
    );
    assert_eq!(service["metadata"]["labels"]["monitored"], json!("true"));
}

#[test]
fn a_kustomization_yml_is_rewritten_in_place() {
    // A second file named kustomization.yaml would make kustomize refuse the directory.
    let a = overlay_artifact("kustomization.yml");
    let s = overlay_spec();
    let prepared = prepare(&a, &s).unwrap();
    assert_eq!(prepared.path(), "clusters/prod/kustomization.yml");
    let ours = kustomize(&a, &s).unwrap();
    assert_objects_eq(
        &ours.objects,
        &kubectl_kustomize(&a, &prepared),
        "kustomization.yml",
    );
    let expected = kustomize(&overlay_artifact("kustomization.yaml"), &s).unwrap();
    assert_eq!(ours.objects, expected.objects);
}

#[test]
fn kustomization_without_resources_gets_origin_annotations_like_flux() {
    let a = artifact(&[(
        "app/kustomization.yaml",
        "configMapGenerator:\n- name: settings\n  literals:\n  - mode=fast\n",
    )]);
    let prepared = prepare(&a, &spec("app")).unwrap();
    assert_eq!(
        prepared.kustomization["buildMetadata"],
        json!(["originAnnotations"])
    );
    let ours = kustomize(&a, &spec("app")).unwrap();
    assert_objects_eq(&ours.objects, &kubectl_kustomize(&a, &prepared), "origin");
    assert!(
        ours.objects[0]["metadata"]["annotations"]
            .get("config.kubernetes.io/origin")
            .is_some(),
        "{:?}",
        ours.objects[0]
    );
}

#[test]
fn missing_components_are_skipped_only_when_asked() {
    let a = artifact(&[(
        "app/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n",
    )]);
    let mut s = spec("app");
    s.components = vec!["../nope".into()];
    let err = kustomize(&a, &s).unwrap_err().to_string();
    assert!(err.starts_with("kustomize build failed: "), "{err}");
    assert!(err.contains("nope"), "{err}");
    s.ignore_missing_components = true;
    let built = kustomize(&a, &s).unwrap();
    assert_eq!(built.objects.len(), 1);
}

#[test]
fn repeated_builds_are_identical_and_leave_the_artifact_alone() {
    let a = overlay_artifact("kustomization.yaml");
    let original = a.file("clusters/prod/kustomization.yaml").unwrap().to_vec();
    let s = overlay_spec();
    let vars = Default::default();
    let first = tether_build::build(&a, &s, &vars, &BuildOptions::default()).unwrap();
    let second = tether_build::build(&a, &s, &vars, &BuildOptions::default()).unwrap();
    assert_eq!(first.objects, second.objects);
    assert_eq!(first.digest, second.digest);
    assert!(first.digest.starts_with("sha256:") && first.digest.len() == 71);
    assert_eq!(
        a.file("clusters/prod/kustomization.yaml").unwrap(),
        &original[..]
    );
    // Without the overlay, the same artifact builds the file as written.
    let plain =
        tether_build::build(&a, &spec("clusters/prod"), &vars, &BuildOptions::default()).unwrap();
    assert_ne!(plain.digest, first.digest);
    assert!(
        plain
            .objects
            .iter()
            .all(|o| o["metadata"].get("namespace").is_none())
    );
}

/// The layout `flux bootstrap` writes: `clusters/<name>` without a kustomization of its own,
/// holding `flux-system/` (with one) and the Kustomizations of the other layers.
#[test]
fn flux_bootstrap_layout_builds_like_kubectl() {
    let gotk_sync = "apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: flux-system
  namespace: flux-system
spec:
  interval: 1m0s
  ref:
    branch: main
  url: ssh://git@github.com/org/fleet
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: flux-system
  namespace: flux-system
spec:
  interval: 10m0s
  path: ./clusters/dev
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
";
    let layer = |name: &str, depends: &str| {
        format!(
            "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: {name}\n  namespace: flux-system\nspec:\n  interval: 1h\n  path: ./{name}/dev\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n{depends}"
        )
    };
    let apps = layer("apps", "  dependsOn:\n  - name: infrastructure\n");
    let infrastructure = layer("infrastructure", "");
    let a = artifact(&[
        (
            "clusters/dev/flux-system/gotk-components.yaml",
            "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: flux-system\n",
        ),
        ("clusters/dev/flux-system/gotk-sync.yaml", gotk_sync),
        (
            "clusters/dev/flux-system/kustomization.yaml",
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- gotk-components.yaml\n- gotk-sync.yaml\n",
        ),
        ("clusters/dev/apps.yaml", &apps),
        ("clusters/dev/infrastructure.yaml", &infrastructure),
        ("apps/dev/kustomization.yaml", "resources: []\n"),
    ]);
    let prepared = prepare(&a, &spec("./clusters/dev")).unwrap();
    assert_eq!(
        prepared.kustomization["resources"],
        json!(["./apps.yaml", "./flux-system", "./infrastructure.yaml"])
    );
    let ours = kustomize(&a, &spec("./clusters/dev")).unwrap();
    assert_eq!(ours.objects.len(), 5);
    assert_objects_eq(
        &ours.objects,
        &kubectl_kustomize(&a, &prepared),
        "bootstrap layout",
    );
}
