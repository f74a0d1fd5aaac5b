//! The cases of `xform_differential.rs`, one transformer at a time, then combinations.

use crate::Case;

const WORKLOADS: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels:
    app: old
spec:
  replicas: 1
  template:
    spec:
      containers:
      - name: web
        image: nginx:1.19
      initContainers:
      - name: init
        image: busybox
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db
spec:
  volumeClaimTemplates:
  - metadata:
      name: data
  template:
    spec:
      affinity:
        podAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
          - labelSelector:
              matchLabels:
                q: r
            topologyKey: zone
        podAntiAffinity:
          preferredDuringSchedulingIgnoredDuringExecution:
          - weight: 1
            podAffinityTerm:
              labelSelector:
                matchLabels:
                  q: r
              topologyKey: zone
      topologySpreadConstraints:
      - labelSelector:
          matchLabels: {}
        maxSkew: 1
      containers:
      - name: db
        image: postgres:13
---
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: agent
spec:
  template:
    spec:
      containers:
      - name: agent
        image: agent@sha256:abc
---
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: rs
spec:
  replicas: 2
---
apiVersion: batch/v1
kind: Job
metadata:
  name: job
spec:
  template:
    spec:
      containers:
      - name: j
        image: busybox:1
---
apiVersion: batch/v1
kind: CronJob
metadata:
  name: cron
spec:
  schedule: "* * * * *"
  jobTemplate:
    spec:
      template:
        spec:
          containers:
          - name: c
            image: busybox:1
---
apiVersion: v1
kind: Service
metadata:
  name: svc
spec:
  ports:
  - port: 80
---
apiVersion: v1
kind: ReplicationController
metadata:
  name: rc
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: pdb
spec:
  selector:
    matchLabels:
      app: web
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: np
spec:
  podSelector: {}
  ingress:
  - from:
    - podSelector:
        matchLabels:
          role: fe
    - namespaceSelector: {}
  egress:
  - to:
    - podSelector:
        matchLabels: null
---
apiVersion: v1
kind: Pod
metadata:
  name: pod
spec:
  containers:
  - name: p
    image: nginx
"#;

const MIXED: &str = r#"
apiVersion: v1
kind: ConfigMap
metadata:
  name: cm
data:
  a: b
---
apiVersion: v1
kind: Secret
metadata:
  name: sec
  namespace: elsewhere
---
apiVersion: example.io/v1
kind: Widget
metadata:
  name: w
spec:
  size: 1
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: reader
---
apiVersion: v1
kind: PersistentVolume
metadata:
  name: pv
  namespace: bogus
---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: fast
---
apiVersion: v1
kind: Namespace
metadata:
  name: team
---
apiVersion: other.io/v1
kind: Namespace
metadata:
  name: not-core
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.io
spec:
  group: example.io
  conversion:
    webhook:
      clientConfig:
        service:
          name: conv
          namespace: old
---
apiVersion: apiregistration.k8s.io/v1
kind: APIService
metadata:
  name: v1.metrics.example.io
spec:
  service:
    name: metrics
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata:
  name: vwh
webhooks:
- name: check.example.io
  clientConfig:
    service:
      name: hook
      namespace: hooks
"#;

const BINDINGS: &str = r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: rb
subjects:
- kind: ServiceAccount
  name: default
- kind: ServiceAccount
  name: robot
  namespace: ci
- kind: ServiceAccount
  name: bare
- kind: ServiceAccount
  name: blank
  namespace: ""
- kind: User
  name: default
- kind: Group
  name: admins
  namespace: null
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: absent
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: crb
subjects:
- kind: ServiceAccount
  name: default
  namespace: kube-system
- kind: ServiceAccount
  name: other
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: absent
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: empty
subjects: null
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: absent
"#;

const IMAGES: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata:
  name: d
spec:
  template:
    spec:
      initContainers:
      - name: i
        image: nginx
      containers:
      - name: a
        image: nginx:1.0
      - name: b
        image: nginx@sha256:0123
      - name: c
        image: nginx:1.0@sha256:0123
      - name: d
        image: nginx-extra:1.0
      - name: e
        image: library/nginx:1.0
      - name: f
        image: registry.local:5000/team/app:1.0
      - name: g
        image: registry.local:5000/team/app
      - name: h
        image: my.reg/app:3
      - name: k
        image: myXreg/app:3
---
apiVersion: v1
kind: Pod
metadata:
  name: p
spec:
  containers: null
  initContainers:
  - name: x
    image: null
  - name: z
---
apiVersion: example.io/v1
kind: Runner
metadata:
  name: r
spec:
  runtime:
    image: nginx:1.0
  stages:
  - containers:
    - image: nginx:2.0
      sidecars:
        initContainers:
        - image: nginx
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: runners.example.io
spec:
  containers:
  - image: nginx
  template:
    spec:
      containers:
      - image: nginx
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: cm
data:
  image: nginx
"#;

const REPLICAS: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: web
spec:
  replicas: "2"
---
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: web
---
apiVersion: v1
kind: ReplicationController
metadata:
  name: other
spec:
  replicas: 4
---
apiVersion: example.io/v1
kind: Scaler
metadata:
  name: web
spec:
  size: 1
"#;

pub fn all() -> Vec<Case> {
    let mut cases = namespace();
    cases.extend(prefix_suffix());
    cases.extend(labels());
    cases.extend(annotations());
    cases.extend(images());
    cases.extend(replicas());
    cases.extend(combinations());
    cases
}

fn case(name: &'static str, resources: &'static str, kustomization: &'static str) -> Case {
    Case {
        name,
        resources,
        kustomization,
        files: &[],
    }
}

fn with_files(
    name: &'static str,
    resources: &'static str,
    kustomization: &'static str,
    files: &'static [(&'static str, &'static str)],
) -> Case {
    Case {
        name,
        resources,
        kustomization,
        files,
    }
}

fn namespace() -> Vec<Case> {
    vec![
        case("namespace_workloads", WORKLOADS, "namespace: prod\n"),
        case("namespace_mixed_kinds", MIXED, "namespace: prod\n"),
        case(
            "namespace_bindings_default_subjects",
            BINDINGS,
            "namespace: prod\n",
        ),
        with_files(
            "namespace_plugin_all_service_accounts",
            BINDINGS,
            "transformers:\n- ns.yaml\n",
            &[(
                "ns.yaml",
                "apiVersion: builtin\nkind: NamespaceTransformer\nmetadata:\n  name: ns\n  namespace: prod\nsetRoleBindingSubjects: allServiceAccounts\n",
            )],
        ),
        with_files(
            "namespace_plugin_unset_only",
            BINDINGS,
            "transformers:\n- ns.yaml\n",
            &[(
                "ns.yaml",
                "apiVersion: builtin\nkind: NamespaceTransformer\nmetadata:\n  name: ns\n  namespace: prod\nunsetOnly: true\nsetRoleBindingSubjects: allServiceAccounts\n",
            )],
        ),
        with_files(
            "namespace_plugin_no_subjects",
            BINDINGS,
            "transformers:\n- ns.yaml\n",
            &[(
                "ns.yaml",
                "apiVersion: builtin\nkind: NamespaceTransformer\nmetadata:\n  name: ns\n  namespace: prod\nsetRoleBindingSubjects: none\n",
            )],
        ),
        with_files(
            "namespace_plugin_field_specs",
            MIXED,
            "transformers:\n- ns.yaml\n",
            &[(
                "ns.yaml",
                r#"apiVersion: builtin
kind: NamespaceTransformer
metadata:
  name: ns
  namespace: prod
unsetOnly: true
fieldSpecs:
- path: metadata/namespace
  create: true
- path: spec/targetNamespace
  kind: Widget
  create: true
- path: metadata/name
  kind: Namespace
  create: true
"#,
            )],
        ),
        with_files(
            "namespace_plugin_bad_subject_mode",
            BINDINGS,
            "transformers:\n- ns.yaml\n",
            &[(
                "ns.yaml",
                "apiVersion: builtin\nkind: NamespaceTransformer\nmetadata:\n  name: ns\n  namespace: prod\nsetRoleBindingSubjects: some\n",
            )],
        ),
        with_files(
            "namespace_configurations",
            MIXED,
            "namespace: prod\nconfigurations:\n- conf.yaml\n",
            &[(
                "conf.yaml",
                "namespace:\n- path: spec/targetNamespace\n  kind: Widget\n  create: true\n",
            )],
        ),
        case(
            "namespace_id_conflict",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n  namespace: a\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n  namespace: b\n",
            "namespace: prod\n",
        ),
        case(
            "namespace_field_on_a_map",
            "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: a.b\nspec:\n  conversion:\n    webhook:\n      clientConfig:\n        service:\n          namespace: {a: b}\n",
            "namespace: prod\n",
        ),
    ]
}

fn prefix_suffix() -> Vec<Case> {
    vec![
        case("prefix_workloads", WORKLOADS, "namePrefix: p-\n"),
        case("suffix_mixed_kinds", MIXED, "nameSuffix: -s\n"),
        case(
            "prefix_and_suffix",
            MIXED,
            "namePrefix: p-\nnameSuffix: -s\n",
        ),
        case(
            "suffix_numeric_names",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: 123\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: \"456\"\n",
            "nameSuffix: \"0\"\n",
        ),
        with_files(
            "prefix_suffix_plugin_extra_field",
            MIXED,
            "transformers:\n- ps.yaml\n",
            &[(
                "ps.yaml",
                r#"apiVersion: builtin
kind: PrefixSuffixTransformer
metadata:
  name: ps
prefix: a-
suffix: -z
fieldSpecs:
- path: metadata/name
- path: spec/owner
  kind: Widget
  create: true
  name: unknown keys are ignored in plugin configs
"#,
            )],
        ),
        with_files(
            "prefix_and_suffix_plugins",
            MIXED,
            "transformers:\n- p.yaml\n- s.yaml\n",
            &[
                (
                    "p.yaml",
                    "apiVersion: builtin\nkind: PrefixTransformer\nmetadata:\n  name: p\nprefix: pre-\nfieldSpecs:\n- path: metadata/name\n",
                ),
                (
                    "s.yaml",
                    "apiVersion: builtin\nkind: SuffixTransformer\nmetadata:\n  name: s\nsuffix: -post\nfieldSpecs:\n- path: metadata/name\n  kind: ConfigMap\n",
                ),
            ],
        ),
        with_files(
            "prefix_plugin_without_field_specs",
            MIXED,
            "transformers:\n- p.yaml\n",
            &[(
                "p.yaml",
                "apiVersion: builtin\nkind: PrefixTransformer\nmetadata:\n  name: p\nprefix: pre-\n",
            )],
        ),
        with_files(
            "prefix_configurations_kind_spec_applies_twice",
            WORKLOADS,
            "namePrefix: p-\nconfigurations:\n- conf.yaml\n",
            &[(
                "conf.yaml",
                "namePrefix:\n- path: metadata/name\n  kind: Deployment\n",
            )],
        ),
    ]
}

fn labels() -> Vec<Case> {
    vec![
        case(
            "common_labels_workloads",
            WORKLOADS,
            "commonLabels:\n  app: web\n  tier: \"1\"\n",
        ),
        case(
            "common_labels_mixed_kinds",
            MIXED,
            "commonLabels:\n  team: a\n",
        ),
        case(
            "common_labels_null_maps",
            r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: d
  labels: null
spec:
  selector: null
  template: null
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: np
spec:
  podSelector: null
  ingress:
  - null
  - from:
    - null
    - podSelector: null
"#,
            "commonLabels:\n  app: web\n",
        ),
        case(
            "common_labels_on_a_scalar_selector",
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: s\nspec:\n  selector: \"str\"\n",
            "commonLabels:\n  app: web\n",
        ),
        case(
            "labels_plain",
            WORKLOADS,
            "labels:\n- pairs:\n    owner: alice\n    app: bingo\n",
        ),
        case(
            "labels_include_selectors",
            WORKLOADS,
            "labels:\n- pairs:\n    owner: alice\n  includeSelectors: true\n",
        ),
        case(
            "labels_include_templates",
            WORKLOADS,
            "labels:\n- pairs:\n    owner: alice\n  includeTemplates: true\n",
        ),
        case(
            "labels_fields_and_order",
            MIXED,
            r#"labels:
- pairs:
    same: from-labels
- pairs:
    a: "1"
  fields:
  - path: spec/selectorLabels
    kind: Widget
    create: true
  - path: spec/absent/labels
- pairs:
    b: "2"
  includeTemplates: true
commonLabels:
  same: from-common
"#,
        ),
        case(
            "labels_conflicting_fields",
            WORKLOADS,
            "labels:\n- pairs:\n    a: b\n  includeSelectors: true\n  fields:\n  - path: metadata/labels\n",
        ),
        with_files(
            "labels_configurations_labels_list",
            MIXED,
            "configurations:\n- conf.yaml\nlabels:\n- pairs:\n    env: dev\ncommonLabels:\n  c: x\n",
            &[(
                "conf.yaml",
                "labels:\n- path: spec/custom/labels\n  kind: Widget\n  create: true\n",
            )],
        ),
        // kustomize sorts field specs after every merge, so a kind-specific spec merged first
        // hides the all-kinds spec of the same path: only the Widget gets the label.
        with_files(
            "labels_configurations_kind_spec_hides_default",
            MIXED,
            "configurations:\n- conf.yaml\ncommonLabels:\n  team: x\n",
            &[(
                "conf.yaml",
                "commonLabels:\n- path: metadata/labels\n  kind: Widget\n  create: true\n",
            )],
        ),
        with_files(
            "labels_plugin",
            WORKLOADS,
            "transformers:\n- l.yaml\n",
            &[(
                "l.yaml",
                r#"apiVersion: builtin
kind: LabelTransformer
metadata:
  name: l
labels:
  plugged: "yes"
fieldSpecs:
- path: metadata/labels
  create: true
- path: spec/template/metadata/labels
  kind: Deployment
  create: true
"#,
            )],
        ),
        case(
            "common_labels_old_api_versions",
            r#"apiVersion: extensions/v1beta1
kind: Deployment
metadata:
  name: old
---
apiVersion: apps/v1beta2
kind: StatefulSet
metadata:
  name: old
---
apiVersion: batch/v1beta1
kind: CronJob
metadata:
  name: old
spec:
  jobTemplate:
    spec: {}
"#,
            "commonLabels:\n  app: web\n",
        ),
    ]
}

fn annotations() -> Vec<Case> {
    vec![
        case(
            "common_annotations_workloads",
            WORKLOADS,
            "commonAnnotations:\n  team: a\n  note: \"true\"\n",
        ),
        case(
            "common_annotations_overwrite",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n  annotations:\n    team: old\n    keep: me\n",
            "commonAnnotations:\n  team: new\n",
        ),
        with_files(
            "annotations_plugin",
            MIXED,
            "transformers:\n- a.yaml\n",
            &[(
                "a.yaml",
                "apiVersion: builtin\nkind: AnnotationsTransformer\nmetadata:\n  name: a\nannotations:\n  x: z\nfieldSpecs:\n- path: spec/notes\n  kind: Widget\n  create: true\n",
            )],
        ),
        with_files(
            "annotations_configurations",
            MIXED,
            "commonAnnotations:\n  x: z\nconfigurations:\n- conf.yaml\n",
            &[(
                "conf.yaml",
                "commonAnnotations:\n- path: spec/template/metadata/annotations\n  kind: Widget\n  create: true\n",
            )],
        ),
    ]
}

fn images() -> Vec<Case> {
    vec![
        case(
            "images_new_tag",
            IMAGES,
            "images:\n- name: nginx\n  newTag: \"1.21\"\n",
        ),
        case(
            "images_new_name",
            IMAGES,
            "images:\n- name: nginx\n  newName: mirror/nginx\n",
        ),
        case(
            "images_digest",
            IMAGES,
            "images:\n- name: nginx\n  digest: sha256:ffff\n",
        ),
        case(
            "images_tag_and_digest",
            IMAGES,
            "images:\n- name: nginx\n  newName: x/nginx\n  newTag: v2\n  digest: sha256:ffff\n",
        ),
        case(
            "images_tag_suffix",
            IMAGES,
            "images:\n- name: nginx\n  tagSuffix: -fips\n",
        ),
        case(
            "images_registry_port",
            IMAGES,
            "images:\n- name: registry.local:5000/team/app\n  newTag: \"2.0\"\n",
        ),
        case(
            "images_name_is_a_pattern",
            IMAGES,
            "images:\n- name: my.reg/app\n  newName: other/app\n",
        ),
        case(
            "images_several_entries",
            IMAGES,
            "images:\n- name: nginx\n  newName: nginx2\n- name: nginx2\n  newTag: chained\n- name: busybox\n  newTag: \"1.36\"\n",
        ),
        case(
            "images_workloads",
            WORKLOADS,
            "images:\n- name: busybox\n  newTag: musl\n- name: postgres\n  newName: pg\n",
        ),
        with_files(
            "images_plugin_custom_field_specs",
            IMAGES,
            "transformers:\n- i.yaml\n",
            &[(
                "i.yaml",
                "apiVersion: builtin\nkind: ImageTagTransformer\nmetadata:\n  name: i\nimageTag:\n  name: nginx\n  newTag: plugged\nfieldSpecs:\n- path: spec/runtime/image\n  kind: Runner\n- path: data/image\n  kind: ConfigMap\n",
            )],
        ),
        with_files(
            "images_configurations",
            IMAGES,
            "images:\n- name: nginx\n  newTag: conf\nconfigurations:\n- conf.yaml\n",
            &[(
                "conf.yaml",
                "images:\n- path: spec/runtime/image\n  kind: Runner\n",
            )],
        ),
        case(
            "images_non_scalar_image",
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - image: {a: b}\n",
            "images:\n- name: nginx\n  newTag: \"2\"\n",
        ),
    ]
}

fn replicas() -> Vec<Case> {
    vec![
        case(
            "replicas_by_name",
            REPLICAS,
            "replicas:\n- name: web\n  count: 5\n",
        ),
        case(
            "replicas_after_prefix",
            REPLICAS,
            "namePrefix: p-\nreplicas:\n- name: web\n  count: 3\n- name: p-other\n  count: 0\n",
        ),
        case(
            "replicas_not_found",
            REPLICAS,
            "replicas:\n- name: nothing\n  count: 1\n",
        ),
        with_files(
            "replicas_plugin",
            REPLICAS,
            "transformers:\n- r.yaml\n",
            &[(
                "r.yaml",
                "apiVersion: builtin\nkind: ReplicaCountTransformer\nmetadata:\n  name: r\nreplica:\n  name: web\n  count: 7\nfieldSpecs:\n- path: spec/size\n  kind: Scaler\n  create: true\n- path: spec/replicas\n  kind: Deployment\n",
            )],
        ),
    ]
}

fn combinations() -> Vec<Case> {
    vec![
        case(
            "all_builtin_fields",
            WORKLOADS,
            r#"namespace: prod
namePrefix: p-
nameSuffix: -v1
commonLabels:
  app: shop
labels:
- pairs:
    owner: alice
  includeTemplates: true
commonAnnotations:
  team: a
replicas:
- name: web
  count: 3
images:
- name: nginx
  newTag: "1.21"
- name: busybox
  digest: sha256:beef
"#,
        ),
        case(
            "namespace_prefix_labels_mixed",
            MIXED,
            "namespace: prod\nnamePrefix: p-\ncommonLabels:\n  app: shop\ncommonAnnotations:\n  a: b\n",
        ),
        with_files(
            "builtins_then_transformers",
            WORKLOADS,
            "namespace: prod\nnamePrefix: p-\ntransformers:\n- t.yaml\n",
            &[(
                "t.yaml",
                r#"apiVersion: builtin
kind: SuffixTransformer
metadata:
  name: s
suffix: -late
fieldSpecs:
- path: metadata/name
---
apiVersion: builtin
kind: ReplicaCountTransformer
metadata:
  name: r
replica:
  name: web
  count: 9
fieldSpecs:
- path: spec/replicas
  kind: Deployment
---
apiVersion: builtin
kind: NamespaceTransformer
metadata:
  name: late-ns
  namespace: late
unsetOnly: true
"#,
            )],
        ),
    ]
}
