//! A large kustomize tree, generated deterministically, for `tether bench kustomize` and the
//! `tether-kustomize` divan benchmark (which includes this file by path, so it uses `std` only).
//!
//! Layout, for `bases` bases (50 in the benchmark):
//!
//! - `bases/bNN`: 40 resources (8 Deployments with env, envFrom, volumes and a service account
//!   that reference ConfigMaps and Secrets; 8 Services; 8 ConfigMaps; 4 Secrets;
//!   4 ServiceAccounts; 3 Roles and 3 RoleBindings; an HPA and a PDB), a `configMapGenerator`
//!   (literals and a file) and a `secretGenerator`, labels (new `labels:` in even bases, the
//!   deprecated `commonLabels` in odd ones).
//! - `overlays/l1/gK`: five bases each; namePrefix, namespace, labels, images, a merging
//!   `configMapGenerator`, strategic-merge patches by target and by name, JSON 6902 patches.
//! - `overlays/l2/rM`: five level-1 groups each; namePrefix, annotations, labels, replicas,
//!   patches with a regex target, replacements.
//! - `overlays/top`: every level-2 group; namePrefix, labels, images, replicas, patches,
//!   replacements. Its build has `42 × bases` resources.

use std::fmt::Write as _;
use std::path::Path;

/// Bases per level-1 group, and level-1 groups per level-2 group.
const FAN_IN: usize = 5;

/// A generated tree: files relative to its root, and the kustomization to build.
#[derive(Debug, Clone)]
pub struct Tree {
    pub files: Vec<(String, String)>,
    /// The directory of the top kustomization, relative to the root.
    pub entry: &'static str,
}

impl Tree {
    /// Resources in the top build: 40 per base plus two generated per base.
    pub fn resources(bases: usize) -> usize {
        bases * 42
    }

    /// Writes every file under `root`.
    pub fn write_to(&self, root: &Path) -> std::io::Result<()> {
        for (path, text) in &self.files {
            let path = root.join(path);
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            std::fs::write(path, text)?;
        }
        Ok(())
    }
}

/// The tree with `bases` bases (at least one).
pub fn generate(bases: usize) -> Tree {
    let bases = bases.max(1);
    let mut files = Vec::new();
    for b in 0..bases {
        base(b, &mut files);
    }
    let groups = bases.div_ceil(FAN_IN);
    for g in 0..groups {
        level1(
            g,
            (g * FAN_IN..((g + 1) * FAN_IN).min(bases)).collect(),
            &mut files,
        );
    }
    let regions = groups.div_ceil(FAN_IN);
    for r in 0..regions {
        level2(
            r,
            (r * FAN_IN..((r + 1) * FAN_IN).min(groups)).collect(),
            &mut files,
        );
    }
    top(regions, &mut files);
    Tree {
        files,
        entry: "overlays/top",
    }
}

const HEADER: &str = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n";
const COMPONENTS: [&str; 3] = ["api", "worker", "web"];

/// A deterministic pseudo-random number from a seed (so values differ between objects).
fn mix(seed: usize) -> u64 {
    let mut x = seed as u64 ^ 0x9e37_79b9_7f4a_7c15;
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// Base64 of ASCII text, so Secret data is valid without a dependency.
fn base64(text: &str) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let bytes = text.as_bytes();
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | (u32::from(b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i)) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn base(b: usize, files: &mut Vec<(String, String)>) {
    let dir = format!("bases/b{b:02}");
    let p = format!("b{b:02}");
    let mut deployments = String::new();
    let mut services = String::new();
    let mut configs = String::new();
    for i in 0..8 {
        let component = COMPONENTS[i % 3];
        let sep = if i == 0 { "" } else { "---\n" };
        let seed = mix(b * 100 + i);
        write!(
            deployments,
            "{sep}apiVersion: apps/v1
kind: Deployment
metadata:
  name: {p}-app-{i}
  labels:
    app: {p}-app-{i}
    component: {component}
  annotations:
    example.com/revision: \"{rev}\"
spec:
  replicas: 1
  selector:
    matchLabels:
      app: {p}-app-{i}
  template:
    metadata:
      labels:
        app: {p}-app-{i}
        component: {component}
    spec:
      serviceAccountName: {p}-sa-{sa}
      containers:
      - name: app
        image: registry.example.com/app:1.0.{i}
        ports:
        - containerPort: 8080
          name: http
        env:
        - name: LOG_LEVEL
          value: info
        - name: DB_PASSWORD
          valueFrom:
            secretKeyRef:
              name: {p}-db-{sa}
              key: password
        - name: FEATURE
          valueFrom:
            configMapKeyRef:
              name: {p}-settings
              key: feature
        envFrom:
        - configMapRef:
            name: {p}-app-{i}-config
        resources:
          requests:
            cpu: {cpu}m
            memory: 128Mi
        volumeMounts:
        - name: config
          mountPath: /etc/app
        - name: credentials
          mountPath: /etc/credentials
          readOnly: true
      - name: sidecar
        image: registry.example.com/sidecar:2.1
        args:
        - --port=9090
        - --upstream=http://localhost:8080
      volumes:
      - name: config
        configMap:
          name: {p}-settings
      - name: credentials
        secret:
          secretName: {p}-credentials
",
            rev = seed % 1000,
            sa = i % 4,
            cpu = 50 + seed % 200,
        )
        .ok();
        write!(
            services,
            "{sep}apiVersion: v1
kind: Service
metadata:
  name: {p}-app-{i}
  labels:
    app: {p}-app-{i}
  annotations:
    example.com/scrape: \"true\"
spec:
  selector:
    app: {p}-app-{i}
  ports:
  - name: http
    port: 80
    targetPort: http
"
        )
        .ok();
        write!(
            configs,
            "{sep}apiVersion: v1
kind: ConfigMap
metadata:
  name: {p}-app-{i}-config
data:
  LOG_LEVEL: debug
  CACHE_SIZE: \"{cache}\"
  UPSTREAM: http://{p}-app-{next}:80
  TIMEOUT: 30s
",
            cache = seed % 4096,
            next = (i + 1) % 8,
        )
        .ok();
    }
    let mut rbac = String::new();
    for j in 0..4 {
        write!(
            configs,
            "---
apiVersion: v1
kind: Secret
metadata:
  name: {p}-db-{j}
type: Opaque
data:
  username: {user}
  password: {password}
",
            user = base64(&format!("user-{b}-{j}")),
            password = base64(&format!("pw-{:016x}", mix(b * 10 + j))),
        )
        .ok();
        let sep = if j == 0 { "" } else { "---\n" };
        write!(
            rbac,
            "{sep}apiVersion: v1
kind: ServiceAccount
metadata:
  name: {p}-sa-{j}
"
        )
        .ok();
    }
    for r in 0..3 {
        write!(
            rbac,
            "---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: {p}-role-{r}
rules:
- apiGroups:
  - \"\"
  resources:
  - configmaps
  - secrets
  verbs:
  - get
  - list
  - watch
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: {p}-rb-{r}
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: {p}-role-{r}
subjects:
- kind: ServiceAccount
  name: {p}-sa-{r}
  namespace: default
"
        )
        .ok();
    }
    let scaling = format!(
        "apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {p}-app-0
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {p}-app-0
  minReplicas: 2
  maxReplicas: 10
  metrics:
  - type: Resource
    resource:
      name: cpu
      target:
        type: Utilization
        averageUtilization: 75
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {p}-app-1
spec:
  minAvailable: 1
  selector:
    matchLabels:
      app: {p}-app-1
"
    );
    let labels = if b.is_multiple_of(2) {
        format!("labels:\n- pairs:\n    team: team-{b:02}\n  includeSelectors: true\n")
    } else {
        format!("commonLabels:\n  team: team-{b:02}\n")
    };
    let kustomization = format!(
        "{HEADER}{labels}resources:
- deployments.yaml
- services.yaml
- config.yaml
- rbac.yaml
- scaling.yaml
configMapGenerator:
- name: {p}-settings
  literals:
  - feature=on
  - base={p}
  files:
  - app.properties
secretGenerator:
- name: {p}-credentials
  literals:
  - username=admin-{b}
  - password=secret-{seed:x}
",
        seed = mix(b)
    );
    let properties = format!("color=blue\nretries={}\nbase={p}\n", b % 7);
    for (name, text) in [
        ("kustomization.yaml", kustomization),
        ("deployments.yaml", deployments),
        ("services.yaml", services),
        ("config.yaml", configs),
        ("rbac.yaml", rbac),
        ("scaling.yaml", scaling),
        ("app.properties", properties),
    ] {
        files.push((format!("{dir}/{name}"), text));
    }
}

fn list(items: impl IntoIterator<Item = String>) -> String {
    items.into_iter().map(|i| format!("- {i}\n")).collect()
}

fn level1(g: usize, bases: Vec<usize>, files: &mut Vec<(String, String)>) {
    let first = bases.first().copied().unwrap_or(0);
    let resources = list(bases.iter().map(|b| format!("../../../bases/b{b:02}")));
    let kustomization = format!(
        "{HEADER}namePrefix: g{g}-
namespace: ns-g{g}
labels:
- pairs:
    tier: g{g}
  includeTemplates: true
resources:
{resources}images:
- name: registry.example.com/app
  newTag: 1.1.{g}
configMapGenerator:
- name: b{first:02}-settings
  behavior: merge
  literals:
  - group=g{g}
patches:
- target:
    kind: Deployment
    labelSelector: component=api
  patch: |-
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: any
    spec:
      template:
        spec:
          containers:
          - name: app
            resources:
              limits:
                memory: 512Mi
            env:
            - name: GROUP
              value: g{g}
- target:
    kind: Service
  patch: |-
    - op: add
      path: /spec/sessionAffinity
      value: ClientIP
    - op: replace
      path: /metadata/annotations/example.com~1scrape
      value: \"false\"
- path: app-0.yaml
"
    );
    let by_name = format!(
        "apiVersion: apps/v1
kind: Deployment
metadata:
  name: b{first:02}-app-0
spec:
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxSurge: 25%
      maxUnavailable: 0
  template:
    spec:
      containers:
      - name: sidecar
        $patch: delete
"
    );
    let dir = format!("overlays/l1/g{g}");
    files.push((format!("{dir}/kustomization.yaml"), kustomization));
    files.push((format!("{dir}/app-0.yaml"), by_name));
}

fn level2(r: usize, groups: Vec<usize>, files: &mut Vec<(String, String)>) {
    let first = groups.first().copied().unwrap_or(0);
    let base = first * FAN_IN;
    let resources = list(groups.iter().map(|g| format!("../../l1/g{g}")));
    let kustomization = format!(
        "{HEADER}namePrefix: r{r}-
commonAnnotations:
  example.com/region: r{r}
labels:
- pairs:
    region: r{r}
resources:
{resources}replicas:
- name: g{first}-b{base:02}-app-2
  count: 3
patches:
- target:
    kind: HorizontalPodAutoscaler
  patch: |-
    - op: replace
      path: /spec/maxReplicas
      value: 20
- target:
    kind: Deployment
    name: .*-app-[0-3]
  patch: |-
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: any
    spec:
      template:
        spec:
          nodeSelector:
            example.com/pool: r{r}
          tolerations:
          - key: example.com/dedicated
            operator: Equal
            value: r{r}
            effect: NoSchedule
replacements:
- source:
    kind: ConfigMap
    name: r{r}-g{first}-b{base:02}-app-0-config
    fieldPath: data.LOG_LEVEL
  targets:
  - select:
      kind: Deployment
    fieldPaths:
    - spec.template.spec.containers.[name=app].env.[name=LOG_LEVEL].value
"
    );
    files.push((
        format!("overlays/l2/r{r}/kustomization.yaml"),
        kustomization,
    ));
}

fn top(regions: usize, files: &mut Vec<(String, String)>) {
    let resources = list((0..regions).map(|r| format!("../l2/r{r}")));
    let kustomization = format!(
        "{HEADER}namePrefix: prod-
labels:
- pairs:
    env: prod
  includeTemplates: true
resources:
{resources}images:
- name: registry.example.com/sidecar
  newName: mirror.example.com/sidecar
  newTag: \"2.2\"
replicas:
- name: r0-g0-b01-app-1
  count: 2
patches:
- target:
    kind: Deployment
  patch: |-
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: any
      annotations:
        example.com/environment: prod
    spec:
      revisionHistoryLimit: 5
- target:
    kind: PodDisruptionBudget
  patch: |-
    - op: replace
      path: /spec/minAvailable
      value: 2
replacements:
- source:
    kind: Secret
    name: prod-r0-g0-b00-db-0
    fieldPath: metadata.name
  targets:
  - select:
      kind: Deployment
      labelSelector: component=worker
    fieldPaths:
    - metadata.annotations.[example.com/primary-db]
    options:
      create: true
"
    );
    files.push(("overlays/top/kustomization.yaml".to_owned(), kustomization));
}
