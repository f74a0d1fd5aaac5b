//! Server-side printing as `kubectl get` shows it: each pinned kubectl (1.27, 1.30, 1.33) lists
//! built-ins across namespaces, plain and `-o wide`, and sees kube-apiserver's column sets and
//! cell formats.

#[allow(dead_code)]
#[macro_use]
mod support;

use std::time::Duration;

use support::Cluster;

per_version!(v1_27 => "1.27", v1_30 => "1.30", v1_33 => "1.33"; [
    builtins_print_kubectl_columns,
    pods_print_status_and_wide_columns,
    watches_print_rows_as_objects_change,
]);

const OBJECTS: &str = r#"apiVersion: v1
kind: Namespace
metadata:
  name: shop
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  replicas: 2
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: main
        image: nginx:1.27
      - name: log
        image: busybox:1.36
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: shop
spec:
  clusterIP: 10.96.0.20
  selector:
    app: web
  ports:
  - name: http
    port: 80
  - name: https
    port: 443
    protocol: TCP
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: shop
data:
  color: blue
  size: "3"
---
apiVersion: v1
kind: Secret
metadata:
  name: creds
  namespace: shop
type: kubernetes.io/basic-auth
stringData:
  username: admin
  password: s3cret
---
apiVersion: batch/v1
kind: Job
metadata:
  name: migrate
  namespace: shop
spec:
  completions: 1
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: migrate
        image: busybox:1.36
"#;

/// One printed table: its column names and rows of cells, cut at the header's column starts
/// (cells may hold single spaces, such as `NOMINATED NODE`'s header).
struct Table {
    columns: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// The row whose NAME ends in `name` (`deployment.apps/web` for `web`).
    fn row(&self, name: &str) -> Vec<&str> {
        let at = self
            .columns
            .iter()
            .position(|c| c == "NAME")
            .unwrap_or_else(|| panic!("no NAME column in {:?}", self.columns));
        let row = self
            .rows
            .iter()
            .find(|r| r[at] == name || r[at].ends_with(&format!("/{name}")))
            .unwrap_or_else(|| panic!("no row {name} in {:?}", self.rows));
        row.iter().map(String::as_str).collect()
    }
}

/// The tables kubectl printed (one per resource type, separated by blank lines).
fn tables(out: &str) -> Vec<Table> {
    out.split("\n\n")
        .filter(|block| !block.trim().is_empty())
        .map(|block| {
            let mut lines = block.lines();
            let header = lines.next().unwrap_or("");
            let mut starts = Vec::new();
            let mut columns = Vec::new();
            let mut i = 0;
            while i < header.len() {
                if header.as_bytes()[i] == b' ' {
                    i += 1;
                    continue;
                }
                let rest = &header[i..];
                let len = rest.find("  ").unwrap_or(rest.len());
                starts.push(i);
                columns.push(rest[..len].to_string());
                i += len;
            }
            let rows = lines
                .map(|line| {
                    (0..starts.len())
                        .map(|c| {
                            let from = starts[c].min(line.len());
                            let to = starts.get(c + 1).map_or(line.len(), |&e| e.min(line.len()));
                            line[from..to].trim().to_string()
                        })
                        .collect()
                })
                .collect();
            Table { columns, rows }
        })
        .collect()
}

/// The table whose header is exactly `columns`.
fn table<'a>(tables: &'a [Table], columns: &[&str], out: &str) -> &'a Table {
    tables
        .iter()
        .find(|t| t.columns == columns)
        .unwrap_or_else(|| panic!("no table with columns {columns:?} in:\n{out}"))
}

fn is_age(cell: &str) -> bool {
    cell.chars().next().is_some_and(|c| c.is_ascii_digit())
        && cell
            .chars()
            .all(|c| c.is_ascii_digit() || "smhdy".contains(c))
}

async fn builtins_print_kubectl_columns(version: &'static str) {
    let k = Cluster::start(version).await;
    let objects = k.file("objects.yaml", OBJECTS);
    k.create_file(&objects).await;
    // The control plane makes the workloads ready and the job complete shortly after creation.
    for what in ["--for=condition=Available", "deployment/web"]
        .chunks(2)
        .chain(["--for=condition=Complete", "job/migrate"].chunks(2))
    {
        k.ok(&["wait", what[0], "--timeout=30s", "-n", "shop", what[1]])
            .await;
    }

    let what = "deployments,services,configmaps,secrets,namespaces,jobs";
    let out = k.ok(&["get", what, "-A"]).await;
    let printed = tables(&out);
    let deployments = table(
        &printed,
        &[
            "NAMESPACE",
            "NAME",
            "READY",
            "UP-TO-DATE",
            "AVAILABLE",
            "AGE",
        ],
        &out,
    );
    let row = deployments.row("web");
    assert_eq!(
        row[..5],
        ["shop", "deployment.apps/web", "2/2", "2", "2"],
        "{out}"
    );
    assert!(is_age(row[5]), "age {:?} in\n{out}", row[5]);
    let services = table(
        &printed,
        &[
            "NAMESPACE",
            "NAME",
            "TYPE",
            "CLUSTER-IP",
            "EXTERNAL-IP",
            "PORT(S)",
            "AGE",
        ],
        &out,
    );
    assert_eq!(
        services.row("web")[..6],
        [
            "shop",
            "service/web",
            "ClusterIP",
            "10.96.0.20",
            "<none>",
            "80/TCP,443/TCP"
        ],
        "{out}"
    );
    let config_maps = table(&printed, &["NAMESPACE", "NAME", "DATA", "AGE"], &out);
    assert_eq!(
        config_maps.row("settings")[..3],
        ["shop", "configmap/settings", "2"]
    );
    let secrets = table(
        &printed,
        &["NAMESPACE", "NAME", "TYPE", "DATA", "AGE"],
        &out,
    );
    assert_eq!(
        secrets.row("creds")[..4],
        ["shop", "secret/creds", "kubernetes.io/basic-auth", "2"],
        "{out}"
    );
    // Namespaces are cluster-scoped: in a listing of several types their NAMESPACE is empty.
    let namespaces = table(&printed, &["NAMESPACE", "NAME", "STATUS", "AGE"], &out);
    assert_eq!(
        namespaces.row("shop")[..3],
        ["", "namespace/shop", "Active"]
    );
    let jobs = table(
        &printed,
        &[
            "NAMESPACE",
            "NAME",
            "STATUS",
            "COMPLETIONS",
            "DURATION",
            "AGE",
        ],
        &out,
    );
    let row = jobs.row("migrate");
    assert_eq!(
        row[..4],
        ["shop", "job.batch/migrate", "Complete", "1/1"],
        "{out}"
    );
    assert!(is_age(row[4]), "duration {:?} in\n{out}", row[4]);

    let out = k.ok(&["get", what, "-A", "-o", "wide"]).await;
    let printed = tables(&out);
    let deployments = table(
        &printed,
        &[
            "NAMESPACE",
            "NAME",
            "READY",
            "UP-TO-DATE",
            "AVAILABLE",
            "AGE",
            "CONTAINERS",
            "IMAGES",
            "SELECTOR",
        ],
        &out,
    );
    assert_eq!(
        deployments.row("web")[6..],
        ["main,log", "nginx:1.27,busybox:1.36", "app=web"],
        "{out}"
    );
    let services = table(
        &printed,
        &[
            "NAMESPACE",
            "NAME",
            "TYPE",
            "CLUSTER-IP",
            "EXTERNAL-IP",
            "PORT(S)",
            "AGE",
            "SELECTOR",
        ],
        &out,
    );
    assert_eq!(services.row("web")[7], "app=web", "{out}");
    let jobs = table(
        &printed,
        &[
            "NAMESPACE",
            "NAME",
            "STATUS",
            "COMPLETIONS",
            "DURATION",
            "AGE",
            "CONTAINERS",
            "IMAGES",
            "SELECTOR",
        ],
        &out,
    );
    let row = jobs.row("migrate");
    assert_eq!(row[6..8], ["migrate", "busybox:1.36"], "{out}");
    // The selector is the one the API generates for the job (its controller-uid).
    assert!(
        row[8].starts_with("batch.kubernetes.io/controller-uid="),
        "selector {:?} in\n{out}",
        row[8]
    );
    table(&printed, &["NAMESPACE", "NAME", "DATA", "AGE"], &out);
    k.shutdown().await;
}

const POD: &str = r#"apiVersion: v1
kind: Pod
metadata:
  name: solo
  namespace: default
spec:
  containers:
  - name: main
    image: nginx:1.27
"#;

async fn pods_print_status_and_wide_columns(version: &'static str) {
    let k = Cluster::start(version).await;
    let pod = k.file("pod.yaml", POD);
    k.create_file(&pod).await;
    let out = k.ok(&["get", "pods", "-o", "wide"]).await;
    let printed = tables(&out);
    let pods = table(
        &printed,
        &[
            "NAME",
            "READY",
            "STATUS",
            "RESTARTS",
            "AGE",
            "IP",
            "NODE",
            "NOMINATED NODE",
            "READINESS GATES",
        ],
        &out,
    );
    let row = pods.row("solo");
    // No kubelet runs here: the pod is never scheduled, so it stays as created (or Pending).
    assert_eq!(row[1], "0/1", "{out}");
    assert!(row[2] == "Pending" || row[2].is_empty(), "status in\n{out}");
    assert_eq!(row[3], "0", "{out}");
    assert_eq!(row[5..], ["<none>", "<none>", "<none>", "<none>"], "{out}");

    let out = k.ok(&["get", "pods"]).await;
    let printed = tables(&out);
    table(
        &printed,
        &["NAME", "READY", "STATUS", "RESTARTS", "AGE"],
        &out,
    );
    k.shutdown().await;
}

const NAMESPACE: &str = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n";

/// `get -w` prints the header once, then a row per change, computed by the server for each
/// watch event: the deployment shows up not ready, then `2/2` once the control plane readies it.
async fn watches_print_rows_as_objects_change(version: &'static str) {
    let k = Cluster::start(version).await;
    let namespace = k.file("namespace.yaml", NAMESPACE);
    k.create_file(&namespace).await;
    let mut watch = k.spawn(&["get", "deployments", "-n", "shop", "-w"]);
    let objects = k.file(
        "objects.yaml",
        OBJECTS.split("---").nth(1).unwrap_or_default(),
    );
    k.create_file(&objects).await;
    let limit = Duration::from_secs(30);
    let header = watch.line(limit, |l| l.starts_with("NAME")).await;
    assert_eq!(
        header.split_whitespace().collect::<Vec<_>>(),
        ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
    );
    let ready = watch
        .line(limit, |l| l.split_whitespace().take(2).eq(["web", "2/2"]))
        .await;
    assert_eq!(ready.split_whitespace().nth(3), Some("2"), "{ready}");
    watch.kill().await;
    k.shutdown().await;
}
