//! Name reference cases (see `refs_differential.rs` for the format).

pub const CASES: &[(&str, &str)] = &[
    (
        "kind_and_name_changed_by_a_patch",
        r#"
=== kustomization.yaml
resources:
- r.yaml
patches:
- target:
    kind: ConfigMap
    name: cfg
  options:
    allowNameChange: true
    allowKindChange: true
  patch: |-
    apiVersion: v1
    kind: Secret
    metadata:
      name: moved
=== r.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: cfg
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      volumes:
      - name: a
        configMap:
          name: cfg
      - name: b
        secret:
          secretName: cfg
"#,
    ),
    (
        "renamed_by_json_patch_and_prefix",
        r#"
=== kustomization.yaml
namePrefix: p-
resources:
- r.yaml
patches:
- target:
    kind: Service
    name: svc
  patch: |-
    - op: replace
      path: /metadata/name
      value: renamed
=== r.yaml
apiVersion: v1
kind: Service
metadata:
  name: svc
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db
spec:
  serviceName: svc
"#,
    ),
    (
        "lenient_sieve_picks_the_candidate_without_a_suffix",
        r#"
=== kustomization.yaml
resources:
- a
- b
- pod
=== a/kustomization.yaml
nameSuffix: -x
resources:
- ../common
=== b/kustomization.yaml
namePrefix: b-
resources:
- ../common2
=== common/kustomization.yaml
resources:
- cm.yaml
=== common/cm.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: cfg
=== common2/kustomization.yaml
resources:
- cm.yaml
=== common2/cm.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: cfg
  namespace: default
=== pod/kustomization.yaml
nameSuffix: -z
resources:
- pod.yaml
=== pod/pod.yaml
apiVersion: v1
kind: Pod
metadata:
  name: p
spec:
  containers:
  - name: c
    envFrom:
    - configMapRef:
        name: cfg
"#,
    ),
    (
        "strict_sieve_drops_both_prefixed_candidates",
        r#"
=== kustomization.yaml
resources:
- a
- b
- pod
=== a/kustomization.yaml
namePrefix: a-
resources:
- ../common
=== b/kustomization.yaml
namePrefix: b-
resources:
- ../common2
=== common/kustomization.yaml
resources:
- cm.yaml
=== common/cm.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: cfg
=== common2/kustomization.yaml
resources:
- cm.yaml
=== common2/cm.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: cfg
  namespace: default
=== pod/kustomization.yaml
nameSuffix: -z
resources:
- pod.yaml
=== pod/pod.yaml
apiVersion: v1
kind: Pod
metadata:
  name: p
spec:
  containers:
  - name: c
    envFrom:
    - configMapRef:
        name: cfg
"#,
    ),
    (
        "lenient_sieve_picks_the_candidate_without_a_prefix",
        r#"
=== kustomization.yaml
resources:
- a
- b
- pod
=== a/kustomization.yaml
namePrefix: a-
resources:
- ../common
=== b/kustomization.yaml
nameSuffix: -y
resources:
- ../common2
=== common/kustomization.yaml
resources:
- cm.yaml
=== common/cm.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: cfg
=== common2/kustomization.yaml
resources:
- cm.yaml
=== common2/cm.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: cfg
  namespace: default
=== pod/kustomization.yaml
namePrefix: q-
resources:
- pod.yaml
=== pod/pod.yaml
apiVersion: v1
kind: Pod
metadata:
  name: p
spec:
  containers:
  - name: c
    envFrom:
    - configMapRef:
        name: cfg
"#,
    ),
    (
        "suffixes_alone_disambiguate",
        r#"
=== kustomization.yaml
resources:
- a
- b
- pod
=== a/kustomization.yaml
nameSuffix: -x
resources:
- ../common
=== b/kustomization.yaml
nameSuffix: -y
resources:
- ../common2
=== common/kustomization.yaml
resources:
- cm.yaml
=== common/cm.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: cfg
=== common2/kustomization.yaml
resources:
- cm.yaml
=== common2/cm.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: cfg
  namespace: default
=== pod/kustomization.yaml
nameSuffix: -y
resources:
- pod.yaml
=== pod/pod.yaml
apiVersion: v1
kind: Pod
metadata:
  name: p
spec:
  containers:
  - name: c
    envFrom:
    - configMapRef:
        name: cfg
"#,
    ),
    (
        "unprefixed_referrer_names_no_prefixed_candidate",
        r#"
=== kustomization.yaml
resources:
- a
- b
- pod
=== a/kustomization.yaml
namePrefix: a-
resources:
- ../common
=== b/kustomization.yaml
namePrefix: b-
resources:
- ../common2
=== common/kustomization.yaml
resources:
- cm.yaml
=== common/cm.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: cfg
=== common2/kustomization.yaml
resources:
- cm.yaml
=== common2/cm.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: cfg
  namespace: default
=== pod/kustomization.yaml
namespace: default
resources:
- pod.yaml
=== pod/pod.yaml
apiVersion: v1
kind: Pod
metadata:
  name: p
spec:
  containers:
  - name: c
    envFrom:
    - configMapRef:
        name: cfg
"#,
    ),
    (
        "prefix_and_suffix_referrer",
        r#"
=== kustomization.yaml
resources:
- a
- b
- pod
=== a/kustomization.yaml
namePrefix: a-
resources:
- ../common
=== b/kustomization.yaml
namePrefix: b-
resources:
- ../common2
=== common/kustomization.yaml
resources:
- cm.yaml
=== common/cm.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: cfg
=== common2/kustomization.yaml
resources:
- cm.yaml
=== common2/cm.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: cfg
  namespace: default
=== pod/kustomization.yaml
namePrefix: a-
nameSuffix: -api
resources:
- pod.yaml
=== pod/pod.yaml
apiVersion: v1
kind: Pod
metadata:
  name: p
spec:
  containers:
  - name: c
    envFrom:
    - configMapRef:
        name: cfg
"#,
    ),
    (
        "webhook_services_take_their_new_namespace",
        r#"
=== kustomization.yaml
resources:
- svc
- hooks.yaml
=== svc/kustomization.yaml
namespace: system
namePrefix: sys-
resources:
- svc.yaml
=== svc/svc.yaml
apiVersion: v1
kind: Service
metadata:
  name: webhook
  namespace: default
=== hooks.yaml
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata:
  name: hooks
webhooks:
- name: a.example.com
  clientConfig:
    service:
      name: webhook
      namespace: default
      path: /mutate
- name: b.example.com
  clientConfig:
    service:
      name: webhook
      namespace: system
- name: c.example.com
  clientConfig:
    service:
      name: webhook
"#,
    ),
    (
        "user_subjects_named_like_a_service_account",
        r#"
=== kustomization.yaml
namePrefix: p-
resources:
- r.yaml
=== r.yaml
apiVersion: v1
kind: ServiceAccount
metadata:
  name: alice
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: crb
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: view
subjects:
- kind: User
  name: alice
- kind: Group
  name: alice
"#,
    ),
    (
        "generated_configmap_followed_in_pod_templates",
        r#"
=== kustomization.yaml
resources:
- workloads.yaml
configMapGenerator:
- name: cfg
  literals: [a=1]
=== workloads.yaml
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
          name: cfg
      - name: p
        projected:
          sources:
          - configMap:
              name: cfg
      initContainers:
      - name: i
        envFrom:
        - configMapRef:
            name: cfg
      containers:
      - name: c
        env:
        - name: A
          valueFrom:
            configMapKeyRef:
              name: cfg
              key: a
        - name: B
          valueFrom:
            configMapKeyRef:
              name: unrelated
              key: a
---
apiVersion: batch/v1
kind: CronJob
metadata:
  name: cron
spec:
  jobTemplate:
    spec:
      template:
        spec:
          volumes:
          - name: v
            configMap:
              name: cfg
          containers:
          - name: c
            envFrom:
            - configMapRef:
                name: cfg
---
apiVersion: v1
kind: PodTemplate
metadata:
  name: pt
template:
  spec:
    containers:
    - name: c
      envFrom:
      - configMapRef:
          name: cfg
"#,
    ),
    (
        "generated_secret_followed_everywhere",
        r#"
=== kustomization.yaml
resources:
- r.yaml
secretGenerator:
- name: creds
  literals: [password=x]
=== r.yaml
apiVersion: v1
kind: Pod
metadata:
  name: pod
spec:
  imagePullSecrets:
  - name: creds
  volumes:
  - name: s
    secret:
      secretName: creds
  containers:
  - name: c
    env:
    - name: P
      valueFrom:
        secretKeyRef:
          name: creds
          key: password
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: sa
imagePullSecrets:
- name: creds
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: ing
  annotations:
    nginx.ingress.kubernetes.io/auth-secret: creds
    ingress.kubernetes.io/auth-secret: creds
spec:
  tls:
  - secretName: creds
---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: sc
provisioner: x
parameters:
  secretName: creds
  adminSecretName: creds
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: reader
rules:
- resources: [secrets]
  resourceNames: [creds, other]
  verbs: [get]
---
apiVersion: serving.knative.dev/v1
kind: Service
metadata:
  name: kn
spec:
  template:
    spec:
      containers:
      - env:
        - name: P
          valueFrom:
            secretKeyRef:
              name: creds
              key: password
"#,
    ),
    (
        "prefixed_services_followed",
        r#"
=== kustomization.yaml
namePrefix: p-
resources:
- r.yaml
=== r.yaml
apiVersion: v1
kind: Service
metadata:
  name: svc
spec:
  ports:
  - port: 80
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db
spec:
  serviceName: svc
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: ing
spec:
  defaultBackend:
    service:
      name: svc
  rules:
  - http:
      paths:
      - path: /
        backend:
          service:
            name: svc
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata:
  name: hook
webhooks:
- name: a.example.com
  clientConfig:
    service:
      name: svc
      namespace: default
- name: b.example.com
  clientConfig:
    service:
      name: svc
---
apiVersion: apiregistration.k8s.io/v1
kind: APIService
metadata:
  name: v1.example.com
spec:
  service:
    name: svc
---
# Upstream follows HTTPRoute backends only after v5.6.0.
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: route
spec:
  rules:
  - backendRefs:
    - name: svc
      port: 80
"#,
    ),
    (
        "rbac_with_namespace_and_prefix",
        r#"
=== kustomization.yaml
namespace: team
namePrefix: t-
resources:
- rbac.yaml
=== rbac.yaml
apiVersion: v1
kind: ServiceAccount
metadata:
  name: runner
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: edit
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: view
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: runner-edit
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: edit
subjects:
- kind: ServiceAccount
  name: runner
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: runner-view
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: view
subjects:
- kind: ServiceAccount
  name: runner
  namespace: default
- kind: User
  name: someone
"#,
    ),
    (
        "hpa_targets_follow_workloads",
        r#"
=== kustomization.yaml
nameSuffix: -v2
resources:
- r.yaml
=== r.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: web
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: web
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: db
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: StatefulSet
    name: db
"#,
    ),
    (
        "storage_and_priority_references",
        r#"
=== kustomization.yaml
namePrefix: s-
resources:
- r.yaml
=== r.yaml
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: fast
provisioner: x
---
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata:
  name: high
value: 1000
---
apiVersion: v1
kind: PersistentVolume
metadata:
  name: vol
spec:
  storageClassName: fast
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: claim
spec:
  volumeName: vol
  storageClassName: fast
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db
spec:
  volumeClaimTemplates:
  - metadata:
      name: data
    spec:
      storageClassName: fast
  template:
    spec:
      priorityClassName: high
      volumes:
      - name: c
        persistentVolumeClaim:
          claimName: claim
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: pv-reader
rules:
- resources: [persistentvolumes]
  resourceNames: [vol]
  verbs: [get]
"#,
    ),
    (
        "ingress_class_references_are_never_followed",
        r#"
=== kustomization.yaml
namePrefix: p-
resources:
- r.yaml
=== r.yaml
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata:
  name: nginx
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: ing
spec:
  ingressClassName: nginx
"#,
    ),
    (
        "references_across_namespaces_are_not_followed",
        r#"
=== kustomization.yaml
namePrefix: p-
resources:
- r.yaml
=== r.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: cfg
  namespace: a
---
apiVersion: v1
kind: Pod
metadata:
  name: same-ns
  namespace: a
spec:
  containers:
  - name: c
    envFrom:
    - configMapRef:
        name: cfg
---
apiVersion: v1
kind: Pod
metadata:
  name: other-ns
  namespace: b
spec:
  containers:
  - name: c
    envFrom:
    - configMapRef:
        name: cfg
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: cluster-scoped-referrer
rules:
- resources: [configmaps]
  resourceNames: [cfg]
  verbs: [get]
"#,
    ),
    (
        "service_accounts_with_the_same_name_are_ambiguous",
        r#"
#! error: found multiple possible referrals: ServiceAccount.v1.[noGrp]/sa.a, ServiceAccount.v1.[noGrp]/sa.b
=== kustomization.yaml
resources:
- a
- b
- crb.yaml
=== a/kustomization.yaml
namespace: a
resources:
- ../sa
=== b/kustomization.yaml
namespace: b
resources:
- ../sa
=== sa/kustomization.yaml
resources:
- sa.yaml
=== sa/sa.yaml
apiVersion: v1
kind: ServiceAccount
metadata:
  name: sa
=== crb.yaml
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: crb
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: admin
subjects:
- kind: ServiceAccount
  name: sa
"#,
    ),
    (
        "service_account_subjects_with_namespaces_disambiguate",
        r#"
=== kustomization.yaml
resources:
- a
- b
- crb.yaml
=== a/kustomization.yaml
namespace: a
namePrefix: a-
resources:
- ../sa
=== b/kustomization.yaml
namespace: b
namePrefix: b-
resources:
- ../sa
=== sa/kustomization.yaml
resources:
- sa.yaml
=== sa/sa.yaml
apiVersion: v1
kind: ServiceAccount
metadata:
  name: sa
=== crb.yaml
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: crb
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: admin
subjects:
- kind: ServiceAccount
  name: sa
  namespace: a
- kind: ServiceAccount
  name: sa
  namespace: b
"#,
    ),
    (
        "diamond_overlays_pick_by_prefix",
        r#"
=== kustomization.yaml
resources:
- left
- right
=== left/kustomization.yaml
namePrefix: left-
resources:
- ../base
=== right/kustomization.yaml
namePrefix: right-
resources:
- ../base
=== base/kustomization.yaml
resources:
- r.yaml
configMapGenerator:
- name: cfg
  literals: [k=v]
=== base/r.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
spec:
  template:
    spec:
      containers:
      - name: c
        envFrom:
        - configMapRef:
            name: cfg
"#,
    ),
    (
        "role_refs_pick_the_named_kind",
        r#"
=== kustomization.yaml
resources:
- roles
- clusterroles
- bindings.yaml
=== roles/kustomization.yaml
namePrefix: ns-
resources:
- role.yaml
=== roles/role.yaml
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: reader
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: writer
=== clusterroles/kustomization.yaml
namePrefix: cluster-
resources:
- role.yaml
=== clusterroles/role.yaml
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: reader
=== bindings.yaml
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: to-role
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: reader
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: to-cluster-role
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: reader
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: crb
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: reader
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: no-kind
roleRef:
  name: writer
"#,
    ),
    (
        "configmap_wins_over_secret_of_the_same_name",
        r#"
=== kustomization.yaml
resources:
- role.yaml
configMapGenerator:
- name: shared
  literals: [a=1]
secretGenerator:
- name: shared
  literals: [b=2]
=== role.yaml
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: r
rules:
- resources: [configmaps, secrets]
  resourceNames: [shared]
  verbs: [get]
"#,
    ),
    (
        "prefix_and_suffix_across_layers",
        r#"
#! entry: overlay
=== overlay/kustomization.yaml
namePrefix: o-
nameSuffix: -x
resources:
- ../base
configMapGenerator:
- name: extra
  literals: [k=v]
=== base/kustomization.yaml
namePrefix: b-
resources:
- r.yaml
=== base/r.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: cfg
---
apiVersion: v1
kind: Pod
metadata:
  name: pod
spec:
  containers:
  - name: c
    envFrom:
    - configMapRef:
        name: cfg
    - configMapRef:
        name: extra
"#,
    ),
    (
        "custom_name_reference_configuration",
        r#"
=== kustomization.yaml
namePrefix: p-
resources:
- r.yaml
configurations:
- refs.yaml
=== refs.yaml
nameReference:
- kind: ConfigMap
  version: v1
  fieldSpecs:
  - kind: Widget
    path: spec/configName
  - kind: Widget
    path: spec/targets
- kind: Secret
  version: v1
  fieldSpecs:
  - kind: Widget
    path: spec/auth/secretRef
=== r.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: cfg
---
apiVersion: v1
kind: Secret
metadata:
  name: auth
---
apiVersion: example.com/v1
kind: Widget
metadata:
  name: w
spec:
  configName: cfg
  targets:
  - cfg
  - nothing
  - name: cfg
  auth:
    secretRef:
      name: auth
"#,
    ),
    (
        "nodes_ingress_annotations_and_replication_controllers",
        r#"
=== kustomization.yaml
nameSuffix: -s
resources:
- r.yaml
=== r.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: kubelet
---
apiVersion: v1
kind: Node
metadata:
  name: node-1
spec:
  configSource:
    configMap: kubelet
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: ing
  annotations:
    nginx.ingress.kubernetes.io/fastcgi-params-configmap: kubelet
---
apiVersion: v1
kind: ReplicationController
metadata:
  name: rc
spec:
  template:
    spec:
      serviceAccountName: runner
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: runner
---
apiVersion: autoscaling/v1
kind: HorizontalPodAutoscaler
metadata:
  name: rc
spec:
  scaleTargetRef:
    kind: ReplicationController
    name: rc
"#,
    ),
    (
        "role_binding_subjects_in_other_namespaces",
        r#"
=== kustomization.yaml
resources:
- ops
- app
=== ops/kustomization.yaml
namespace: ops
namePrefix: ops-
resources:
- sa.yaml
=== ops/sa.yaml
apiVersion: v1
kind: ServiceAccount
metadata:
  name: deployer
=== app/kustomization.yaml
namespace: app
resources:
- rb.yaml
=== app/rb.yaml
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: deployer
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: edit
subjects:
- kind: ServiceAccount
  name: deployer
  namespace: ops
"#,
    ),
    (
        "unrenamed_resources_leave_references_alone",
        r#"
=== kustomization.yaml
resources:
- r.yaml
=== r.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: cfg
---
apiVersion: v1
kind: Pod
metadata:
  name: pod
spec:
  serviceAccountName: missing
  containers:
  - name: c
    envFrom:
    - configMapRef:
        name: cfg
"#,
    ),
];
