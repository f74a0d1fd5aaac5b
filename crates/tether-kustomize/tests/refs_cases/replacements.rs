//! Replacement cases (see `refs_differential.rs` for the format).

pub const CASES: &[(&str, &str)] = &[
    (
        "wildcards_with_create",
        r#"
=== kustomization.yaml
resources:
- r.yaml
replacements:
- source: {kind: ConfigMap, name: src, fieldPath: data.v}
  targets:
  - select: {name: dst}
    fieldPaths:
    - spec.list.*.value
    - spec.list.[name=zz].value
    - spec.missing.[name=new].value
    options: {create: true}
=== r.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: src
data:
  v: hello
---
apiVersion: example.com/v1
kind: Thing
metadata:
  name: dst
spec:
  list:
  - name: a
  - name: b
    value: old
"#,
    ),
    (
        "null_target_cannot_take_text",
        r#"
#! error: cannot decode !!str `hello` as a !!null
=== kustomization.yaml
resources:
- r.yaml
replacements:
- source: {kind: ConfigMap, name: src, fieldPath: data.v}
  targets:
  - select: {name: dst}
    fieldPaths: [spec.x]
=== r.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: src
data:
  v: hello
---
apiVersion: example.com/v1
kind: Thing
metadata:
  name: dst
spec:
  x: null
"#,
    ),
    (
        "source_lookups_by_index_last_and_value",
        r#"
=== kustomization.yaml
resources:
- r.yaml
replacements:
- source: {kind: Thing, name: src, fieldPath: spec.args.-}
  targets:
  - select: {kind: ConfigMap}
    fieldPaths: [data.last]
- source: {kind: Thing, name: src, fieldPath: "spec.args.[=--b]"}
  targets:
  - select: {kind: ConfigMap}
    fieldPaths: [data.exact]
- source: {kind: Thing, name: src, fieldPath: spec.items.[name=x].port}
  targets:
  - select: {kind: ConfigMap}
    fieldPaths: [data.port]
=== r.yaml
apiVersion: example.com/v1
kind: Thing
metadata:
  name: src
spec:
  args: [--a, --b, --c]
  items:
  - name: xx
    port: 1
  - name: x
    port: 2
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: dst
data:
  last: ""
  exact: ""
  port: ""
"#,
    ),
    (
        "replacement_copies_an_unhashed_generated_name",
        r#"
=== kustomization.yaml
resources:
- r.yaml
configMapGenerator:
- name: settings
  literals: [a=b]
replacements:
- source: {kind: ConfigMap, name: settings}
  targets:
  - select: {kind: Deployment}
    fieldPaths:
    - spec.template.spec.volumes.0.configMap.name
    - spec.template.metadata.annotations.settings
=== r.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    metadata:
      annotations:
        settings: x
    spec:
      volumes:
      - name: s
        configMap:
          name: placeholder
"#,
    ),
    (
        "scalar_targets_keep_their_type_created_fields_resolve",
        r#"
=== kustomization.yaml
resources:
- r.yaml
replacements:
- source:
    kind: ConfigMap
    name: src
    fieldPath: data.v
  targets:
  - select:
      kind: Deployment
    fieldPaths:
    - spec.replicas
    - spec.template.spec.containers.[name=ng].image
    - spec.template.spec.containers.*.env.[name=A].value
    - spec.template.metadata.labels.[app.kubernetes.io/version]
    - spec.template.metadata.annotations.created
    - spec.template.spec.containers.0.ports.0.containerPort
    options:
      create: true
=== r.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: src
data:
  v: "007"
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1
  template:
    metadata:
      labels:
        app.kubernetes.io/version: old
    spec:
      containers:
      - name: nginx
        image: nginx:1
        env:
        - name: A
          value: a
        - name: AB
          value: ab
        ports:
        - containerPort: 80
      - name: sidecar
        image: side:1
        env:
        - name: A
          value: a
"#,
    ),
    (
        "delimiters_on_source_and_targets",
        r#"
=== kustomization.yaml
resources:
- r.yaml
replacements:
- source:
    kind: ConfigMap
    name: src
    fieldPath: data.image
    options:
      delimiter: ":"
      index: 1
  targets:
  - select: {name: a}
    fieldPaths: [data.replace]
    options: {delimiter: ":", index: 1}
  - select: {name: a}
    fieldPaths: [data.prefix]
    options: {delimiter: ".", index: -1}
  - select: {name: a}
    fieldPaths: [data.suffix]
    options: {delimiter: "-", index: 9}
=== r.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: src
data:
  image: registry.example.com/app:1.2.3
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: a
data:
  replace: nginx:latest
  prefix: example.com
  suffix: a-b
"#,
    ),
    (
        "selection_by_namespace_kind_labels_and_rejects",
        r#"
=== kustomization.yaml
resources:
- r.yaml
replacements:
- source:
    kind: Secret
    name: src
    namespace: tools
    fieldPath: metadata.name
  targets:
  - select:
      namespace: apps
    reject:
    - kind: Secret
    - name: frozen
    - labelSelector: pinned=true
    fieldPaths: [metadata.annotations.source]
    options: {create: true}
=== r.yaml
apiVersion: v1
kind: Secret
metadata:
  name: src
  namespace: tools
---
apiVersion: v1
kind: Secret
metadata:
  name: src
  namespace: apps
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: open
  namespace: apps
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: frozen
  namespace: apps
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: pinned
  namespace: apps
  labels:
    pinned: "true"
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: elsewhere
  namespace: other
"#,
    ),
    (
        "renamed_resources_match_by_original_and_current_names",
        r#"
=== kustomization.yaml
namePrefix: p-
resources:
- r.yaml
replacements:
- source:
    kind: ConfigMap
    name: src
  targets:
  - select: {name: two}
    reject:
    - name: p-two
    fieldPaths: [data.x]
  - select: {name: p-three}
    fieldPaths: [data.x]
  - select: {name: four}
    fieldPaths: [data.x]
=== r.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: src
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: two
data:
  x: old
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: three
data:
  x: old
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: four
data:
  x: old
"#,
    ),
    (
        "replacement_files_single_and_list",
        r#"
=== kustomization.yaml
resources:
- r.yaml
replacements:
- path: one.yaml
- path: many.yaml
=== one.yaml
source:
  kind: ConfigMap
  name: src
  fieldPath: data.a
  ignored: true
targets:
- select: {name: dst}
  fieldPaths: [data.a]
=== many.yaml
- source: {kind: ConfigMap, name: src, fieldPath: data.b}
  targets:
  - select: {name: dst}
    fieldPaths: [data.b]
- source: {kind: ConfigMap, name: dst, fieldPath: data.b}
  targets:
  - select: {name: dst}
    fieldPaths: [data.c]
=== r.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: src
data:
  a: A
  b: B
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: dst
data:
  a: x
  b: x
  c: x
"#,
    ),
    (
        "replacement_transformer_plugin_config",
        r#"
=== kustomization.yaml
resources:
- r.yaml
transformers:
- repl.yaml
=== repl.yaml
apiVersion: builtin
kind: ReplacementTransformer
metadata:
  name: copy
unknownField: 1
replacements:
- source:
    kind: ConfigMap
    name: src
    fieldPath: data.v
    extra: 3
  targets:
  - select:
      name: dst
    fieldPaths:
    - spec.list.[name=n1].value
    - spec.prims.[=p1]
    - spec.idx.1.a
    options:
      create: true
=== r.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: src
data:
  v: "true"
---
apiVersion: example.com/v1
kind: Thing
metadata:
  name: dst
spec:
  idx:
  - a: 1
"#,
    ),
    (
        "source_not_found",
        r#"
#! error: nothing selected by ConfigMap.[noVer].[noGrp]/nope.[noNs]:data.v
=== kustomization.yaml
resources:
- r.yaml
replacements:
- source: {kind: ConfigMap, name: nope, fieldPath: data.v}
  targets:
  - select: {kind: ConfigMap}
=== r.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: src
"#,
    ),
    (
        "source_ambiguous",
        r#"
#! error: multiple matches for selector ConfigMap.[noVer].[noGrp]/[noName].[noNs]
=== kustomization.yaml
resources:
- r.yaml
replacements:
- source: {kind: ConfigMap}
  targets:
  - select: {kind: ConfigMap}
=== r.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: a
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: b
"#,
    ),
    (
        "source_field_missing",
        r#"
#! error: fieldPath `data.none` is missing for replacement source ConfigMap.[noVer].[noGrp]/a.[noNs]
=== kustomization.yaml
resources:
- r.yaml
replacements:
- source: {kind: ConfigMap, name: a, fieldPath: data.none}
  targets:
  - select: {kind: ConfigMap}
=== r.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: a
"#,
    ),
    (
        "target_field_missing",
        r#"
#! error: unable to find field "data.missing" in replacement target
=== kustomization.yaml
resources:
- r.yaml
replacements:
- source: {kind: ConfigMap, name: a}
  targets:
  - select: {name: b}
    fieldPaths: [data.missing]
=== r.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: a
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: b
data:
  x: y
"#,
    ),
    (
        "target_path_through_a_list",
        r#"
#! error: unable to find or create field "spec.list.name" in replacement target: wrong node kind: expected MappingNode but got SequenceNode
=== kustomization.yaml
resources:
- r.yaml
replacements:
- source: {kind: ConfigMap, name: a}
  targets:
  - select: {name: b}
    fieldPaths: [spec.list.name]
    options: {create: true}
=== r.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: a
---
apiVersion: example.com/v1
kind: Thing
metadata:
  name: b
spec:
  list:
  - name: x
"#,
    ),
    (
        "index_out_of_bounds",
        r#"
#! error: options.index 3 is out of bounds for value a-b
=== kustomization.yaml
resources:
- r.yaml
replacements:
- source:
    kind: ConfigMap
    name: a
    fieldPath: data.v
    options: {delimiter: "-", index: 3}
  targets:
  - select: {name: a}
    fieldPaths: [data.w]
=== r.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: a
data:
  v: a-b
  w: x
"#,
    ),
    (
        "string_into_an_int_field_fails",
        r#"
#! error: cannot decode !!str `abc` as a !!int
=== kustomization.yaml
resources:
- r.yaml
replacements:
- source: {kind: ConfigMap, name: a, fieldPath: data.v}
  targets:
  - select: {kind: Deployment}
    fieldPaths: [spec.replicas]
=== r.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: a
data:
  v: abc
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: d
spec:
  replicas: 1
"#,
    ),
    (
        "maps_and_lists_are_copied_whole",
        r#"
=== kustomization.yaml
resources:
- r.yaml
replacements:
- source:
    kind: Deployment
    name: web
    fieldPath: spec.template.spec.containers.[name=app].env
  targets:
  - select: {kind: Deployment, name: worker}
    fieldPaths:
    - spec.template.spec.containers.0.env
- source:
    kind: Deployment
    name: web
    fieldPath: spec.template.metadata.labels
  targets:
  - select: {kind: Deployment, name: worker}
    fieldPaths:
    - spec.template.metadata.labels
    - spec.selector.matchLabels
    options: {create: true}
=== r.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    metadata:
      labels:
        app: web
        tier: front
    spec:
      containers:
      - name: app
        env:
        - name: MODE
          value: prod
        - name: PORT
          value: "80"
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: worker
spec:
  template:
    metadata:
      labels:
        app: worker
    spec:
      containers:
      - name: w
        env:
        - name: OLD
          value: x
"#,
    ),
    (
        "replacements_in_base_and_overlay",
        r#"
#! entry: overlay
=== overlay/kustomization.yaml
nameSuffix: -o
resources:
- ../base
replacements:
- source: {kind: Service, name: api}
  targets:
  - select: {kind: Deployment}
    fieldPaths: [spec.template.spec.containers.0.args.1]
=== base/kustomization.yaml
namePrefix: b-
resources:
- r.yaml
replacements:
- source: {kind: Service, name: api}
  targets:
  - select: {kind: Deployment}
    fieldPaths: [spec.template.spec.containers.0.args.0]
=== base/r.yaml
apiVersion: v1
kind: Service
metadata:
  name: api
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: client
spec:
  template:
    spec:
      containers:
      - name: c
        args: [base, overlay]
"#,
    ),
    (
        "numbers_and_booleans_between_fields",
        r#"
=== kustomization.yaml
resources:
- r.yaml
replacements:
- source: {kind: Service, name: svc, fieldPath: spec.ports.0.port}
  targets:
  - select: {kind: Deployment}
    fieldPaths:
    - spec.template.spec.containers.0.ports.0.containerPort
    - spec.template.spec.containers.0.env.[name=PORT].value
    - spec.template.metadata.annotations.port
- source: {kind: Service, name: svc, fieldPath: spec.publishNotReadyAddresses}
  targets:
  - select: {kind: Deployment}
    fieldPaths: [spec.paused, spec.template.spec.containers.0.args.0]
=== r.yaml
apiVersion: v1
kind: Service
metadata:
  name: svc
spec:
  publishNotReadyAddresses: true
  ports:
  - port: 8443
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  paused: false
  template:
    metadata:
      annotations:
        port: "1"
    spec:
      containers:
      - name: c
        args: ["x"]
        ports:
        - containerPort: 80
        env:
        - name: PORT
          value: "80"
"#,
    ),
    (
        "escaped_dots_and_bracketed_keys",
        r#"
=== kustomization.yaml
resources:
- r.yaml
replacements:
- source: {kind: ConfigMap, name: src, fieldPath: data.[config.json]}
  targets:
  - select: {name: dst}
    fieldPaths:
    - metadata.annotations.[example.com/config]
    - data.a\.b
=== r.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: src
data:
  config.json: '{"a": 1}'
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: dst
  annotations:
    example.com/config: old
data:
  a.b: old
"#,
    ),
];
