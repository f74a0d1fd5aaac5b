//! Vars cases (see `refs_differential.rs` for the format).

pub const CASES: &[(&str, &str)] = &[
    (
        "typed_vars_in_template_annotations_and_labels",
        r#"
=== kustomization.yaml
resources:
- r.yaml
vars:
- name: REPLICAS
  objref: {apiVersion: apps/v1, kind: Deployment, name: web}
  fieldref: {fieldpath: spec.replicas}
- name: LABELS
  objref: {apiVersion: apps/v1, kind: Deployment, name: web}
  fieldref: {fieldpath: metadata.labels}
=== r.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels:
    app: web
  annotations:
    replicas: $(REPLICAS)
    labels: $(LABELS)
spec:
  replicas: 3
  template:
    metadata:
      annotations:
        replicas: $(REPLICAS)
        note: "has $(REPLICAS) replicas, ünïcode $(LABELS)"
"#,
    ),
    (
        "var_follows_prefix",
        r#"
=== kustomization.yaml
namePrefix: p-
resources:
- r.yaml
vars:
- name: SVC
  objref:
    apiVersion: v1
    kind: Service
    name: svc
=== r.yaml
apiVersion: v1
kind: Service
metadata:
  name: svc
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
      - name: c
        command: ["connect", "--to=$(SVC)"]
        args: ["$(SVC)"]
        env:
        - name: TARGET
          value: http://$(SVC):80/
"#,
    ),
    (
        "var_types_and_escapes",
        r#"
=== kustomization.yaml
resources:
- svc.yaml
- pod.yaml
vars:
- name: PORT
  objref: {apiVersion: v1, kind: Service, name: svc}
  fieldref: {fieldpath: "spec.ports[0].port"}
- name: FLAG
  objref: {apiVersion: v1, kind: Service, name: svc}
  fieldref: {fieldpath: spec.publishNotReadyAddresses}
- name: WEIGHT
  objref: {apiVersion: v1, kind: Service, name: svc}
  fieldref: {fieldpath: spec.weight}
- name: SEL
  objref: {apiVersion: v1, kind: Service, name: svc}
  fieldref: {fieldpath: spec.selector}
- name: NAME
  objref: {apiVersion: v1, kind: Service, name: svc}
=== pod.yaml
apiVersion: v1
kind: Pod
metadata:
  name: pod
spec:
  containers:
  - name: c
    command: ["$(PORT)", "x$(PORT)y", "$(FLAG)", "$(WEIGHT)", "w$(WEIGHT)", "$(SEL)",
      "a$(SEL)", "$(NOPE)", "$$(NAME)", "$(NAME", "$$", "$x", "end$", "$(NAME)$(NAME)"]
    env:
    - name: A
      value: $(PORT)
    - name: B
      value: $(FLAG)
=== svc.yaml
apiVersion: v1
kind: Service
metadata:
  name: svc
  labels:
    app: web
spec:
  publishNotReadyAddresses: true
  weight: 1.5
  selector:
    app: web
  ports:
  - name: http
    port: 8080
"#,
    ),
    (
        "vars_in_all_reference_fields",
        r#"
=== kustomization.yaml
resources:
- svc.yaml
- r.yaml
vars:
- name: V
  objref: {apiVersion: v1, kind: Service, name: svc}
  fieldref: {fieldpath: metadata.labels.app}
=== r.yaml
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: ing
  labels:
    l: $(V)
  annotations:
    a: x-$(V)
spec:
  rules:
  - host: $(V).example.com
  tls:
  - hosts: [$(V).example.com]
    secretName: $(V)-tls
---
apiVersion: v1
kind: PersistentVolume
metadata:
  name: pv
spec:
  nfs:
    server: $(V).nfs
    path: /$(V)
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: sts
spec:
  volumeClaimTemplates:
  - metadata:
      name: d
    spec:
      nfs:
        server: $(V)
  template:
    metadata:
      annotations:
        a: $(V)
    spec:
      initContainers:
      - name: i
        volumeMounts:
        - name: d
          mountPath: /$(V)
      containers:
      - name: c
        image: $(V)
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: dep
spec:
  template:
    metadata:
      annotations:
        a: $(V)
      labels:
        l: $(V)
    spec:
      volumes:
      - name: n
        nfs:
          server: $(V)
=== svc.yaml
apiVersion: v1
kind: Service
metadata:
  name: svc
  labels:
    app: web
spec:
  publishNotReadyAddresses: true
  weight: 1.5
  selector:
    app: web
  ports:
  - name: http
    port: 8080
"#,
    ),
    (
        "var_declared_in_a_base_used_in_an_overlay",
        r#"
#! entry: overlay
=== overlay/kustomization.yaml
namePrefix: o-
resources:
- ../base
- job.yaml
=== overlay/job.yaml
apiVersion: batch/v1
kind: Job
metadata:
  name: migrate
spec:
  template:
    spec:
      containers:
      - name: m
        args: ["--db=$(DB)"]
=== base/kustomization.yaml
namePrefix: b-
resources:
- db.yaml
vars:
- name: DB
  objref: {apiVersion: v1, kind: Service, name: db}
=== base/db.yaml
apiVersion: v1
kind: Service
metadata:
  name: db
"#,
    ),
    (
        "var_name_collision_between_bases",
        r#"
#! error: var 'DB' already encountered
=== kustomization.yaml
resources:
- a
- b
=== a/kustomization.yaml
resources:
- svc.yaml
vars:
- name: DB
  objref: {apiVersion: v1, kind: Service, name: a}
=== a/svc.yaml
apiVersion: v1
kind: Service
metadata:
  name: a
=== b/kustomization.yaml
resources:
- svc.yaml
vars:
- name: DB
  objref: {apiVersion: v1, kind: Service, name: b}
=== b/svc.yaml
apiVersion: v1
kind: Service
metadata:
  name: b
"#,
    ),
    (
        "var_without_its_resource",
        r#"
#! error: var '{X Service.v1.[noGrp] {metadata.name}}' cannot be mapped to a field in the set of known resources
=== kustomization.yaml
resources:
- svc.yaml
vars:
- name: X
  objref: {apiVersion: v1, kind: Service, name: nope}
=== svc.yaml
apiVersion: v1
kind: Service
metadata:
  name: svc
  labels:
    app: web
spec:
  publishNotReadyAddresses: true
  weight: 1.5
  selector:
    app: web
  ports:
  - name: http
    port: 8080
"#,
    ),
    (
        "var_without_api_version_matches_nothing",
        r#"
#! error: var '{X Service.[noVer].[noGrp] {metadata.name}}' cannot be mapped
=== kustomization.yaml
resources:
- svc.yaml
vars:
- name: X
  objref: {kind: Service, name: svc}
=== svc.yaml
apiVersion: v1
kind: Service
metadata:
  name: svc
  labels:
    app: web
spec:
  publishNotReadyAddresses: true
  weight: 1.5
  selector:
    app: web
  ports:
  - name: http
    port: 8080
"#,
    ),
    (
        "var_field_missing",
        r#"
#! error: field specified in var '{X Service.v1.[noGrp] {spec.nothing}}' not found in corresponding resource
=== kustomization.yaml
resources:
- svc.yaml
vars:
- name: X
  objref: {apiVersion: v1, kind: Service, name: svc}
  fieldref: {fieldpath: spec.nothing}
=== svc.yaml
apiVersion: v1
kind: Service
metadata:
  name: svc
  labels:
    app: web
spec:
  publishNotReadyAddresses: true
  weight: 1.5
  selector:
    app: web
  ports:
  - name: http
    port: 8080
"#,
    ),
    (
        "var_ambiguous_without_namespace",
        r#"
#! error: resId matches for var
=== kustomization.yaml
resources:
- a.yaml
vars:
- name: X
  objref: {apiVersion: v1, kind: ConfigMap, name: cfg}
=== a.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: cfg
  namespace: one
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: cfg
  namespace: two
"#,
    ),
    (
        "var_with_namespace_disambiguates",
        r#"
=== kustomization.yaml
resources:
- a.yaml
vars:
- name: X
  objref: {apiVersion: v1, kind: ConfigMap, name: cfg, namespace: two}
  fieldref: {fieldpath: data.v}
=== a.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: cfg
  namespace: one
data:
  v: first
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: cfg
  namespace: two
  annotations:
    note: $(X)
data:
  v: second
"#,
    ),
    (
        "var_reads_a_hashed_generated_name",
        r#"
=== kustomization.yaml
resources:
- pod.yaml
configMapGenerator:
- name: settings
  literals: [mode=fast]
vars:
- name: SETTINGS
  objref: {apiVersion: v1, kind: ConfigMap, name: settings}
- name: MODE
  objref: {apiVersion: v1, kind: ConfigMap, name: settings}
  fieldref: {fieldpath: data.mode}
=== pod.yaml
apiVersion: v1
kind: Pod
metadata:
  name: pod
spec:
  containers:
  - name: c
    args: ["--settings=$(SETTINGS)", "--mode=$(MODE)"]
"#,
    ),
    (
        "custom_var_reference_configuration",
        r#"
=== kustomization.yaml
resources:
- r.yaml
configurations:
- varrefs.yaml
vars:
- name: HOST
  objref: {apiVersion: v1, kind: Service, name: api}
=== varrefs.yaml
varReference:
- kind: Widget
  path: spec/endpoint
- kind: Widget
  path: spec/hosts
=== r.yaml
apiVersion: v1
kind: Service
metadata:
  name: api
---
apiVersion: example.com/v1
kind: Widget
metadata:
  name: w
spec:
  endpoint: https://$(HOST)/
  hosts: [$(HOST), other]
  untouched: $(HOST)
"#,
    ),
    (
        "var_objref_by_group_and_version_with_list_index",
        r#"
=== kustomization.yaml
resources:
- r.yaml
vars:
- name: IMAGE
  objref: {group: apps, version: v1, kind: Deployment, name: web}
  fieldref: {fieldpath: "spec.template.spec.containers[1].image"}
=== r.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
      - name: a
        image: a:1
      - name: b
        image: b:2
---
apiVersion: v1
kind: Pod
metadata:
  name: pod
spec:
  containers:
  - name: c
    command: [run, $(IMAGE)]
"#,
    ),
];
