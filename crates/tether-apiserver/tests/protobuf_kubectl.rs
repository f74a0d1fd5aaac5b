//! kubectl 1.33 sends built-in objects as protobuf (client-go ≥ 1.31, kubernetes#125314): each
//! `kubectl create …` here goes through the protobuf decoder, and the object the server stored
//! must be the one `kubectl create … --dry-run=client -o json` prints from the same Go object,
//! apart from what the server sets.
//!
//! The binary is `kubectl.1.33` beside the `kubectl` on `PATH` (or in `TETHER_KUBECTL_DIR`); a
//! missing one fails the test with its name.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;
use tempfile::TempDir;
use tokio::process::Command;

const RUN_LIMIT: Duration = Duration::from_secs(60);

fn kubectl_133() -> PathBuf {
    let dir = match std::env::var_os("TETHER_KUBECTL_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => {
            let path = std::env::var_os("PATH").unwrap_or_default();
            let found = std::env::split_paths(&path)
                .map(|d| d.join("kubectl"))
                .find(|c| c.is_file())
                .expect("no `kubectl` on PATH: kubectl.1.33 is looked for beside it");
            let real = std::fs::canonicalize(&found).expect("resolve kubectl");
            real.parent().expect("kubectl's directory").to_path_buf()
        }
    };
    let binary = dir.join("kubectl.1.33");
    assert!(
        binary.is_file(),
        "this test needs the kubectl binary {} (kubectl 1.33 sends protobuf); set \
         TETHER_KUBECTL_DIR to the directory holding kubectl.1.33",
        binary.display()
    );
    binary
}

struct Kubectl {
    binary: PathBuf,
    kubeconfig: PathBuf,
    cache: PathBuf,
}

impl Kubectl {
    /// Runs kubectl to completion; returns (stdout, stderr) or fails the test with both.
    async fn run(&self, args: &[&str]) -> (String, String) {
        let mut command = Command::new(&self.binary);
        command
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .arg("--cache-dir")
            .arg(&self.cache)
            .args(args)
            .env("HOME", self.cache.parent().unwrap_or(Path::new("/")))
            .kill_on_drop(true);
        let output = tokio::time::timeout(RUN_LIMIT, command.output())
            .await
            .unwrap_or_else(|_| panic!("kubectl {args:?} ran longer than {RUN_LIMIT:?}"))
            .expect("start kubectl");
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        assert!(
            output.status.success(),
            "kubectl {args:?} failed ({}):\n{stdout}\n{stderr}",
            output.status
        );
        (stdout, stderr)
    }
}

/// Fields the server owns: identity, bookkeeping, and status (which the server resets on
/// create and its controllers then write).
fn strip_server_fields(object: &mut Value) {
    if let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        for key in [
            "uid",
            "resourceVersion",
            "creationTimestamp",
            "generation",
            "managedFields",
        ] {
            meta.remove(key);
        }
    }
    if let Some(o) = object.as_object_mut() {
        o.remove("status");
    }
    // Namespace lifecycle adds its finalizer, as kube-apiserver does.
    if object["kind"] == "Namespace"
        && let Some(spec) = object.get_mut("spec").and_then(Value::as_object_mut)
    {
        spec.remove("finalizers");
    }
    // A Job's selector and its pods' controller-uid/job-name labels are generated on create, as
    // kube-apiserver generates them.
    if object["kind"] == "Job" {
        if let Some(spec) = object.get_mut("spec").and_then(Value::as_object_mut) {
            spec.remove("selector");
        }
        if let Some(meta) = object
            .pointer_mut("/spec/template/metadata")
            .and_then(Value::as_object_mut)
        {
            if let Some(labels) = meta.get_mut("labels").and_then(Value::as_object_mut) {
                for key in [
                    "batch.kubernetes.io/controller-uid",
                    "batch.kubernetes.io/job-name",
                    "controller-uid",
                    "job-name",
                ] {
                    labels.remove(key);
                }
            }
            if meta
                .get("labels")
                .is_some_and(|l| l == &Value::Object(Default::default()))
            {
                meta.remove("labels");
            }
        }
    }
}

/// Go writes a zero `metav1.Time` (and nil slices without omitempty) as `null`; the decoder
/// leaves such fields out, so `null` and absent compare equal.
fn drop_nulls(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|_, v| !v.is_null());
            map.values_mut().for_each(drop_nulls);
        }
        Value::Array(items) => items.iter_mut().for_each(drop_nulls),
        _ => {}
    }
}

/// Paths where the two differ, for a readable failure.
fn differences(path: &str, want: &Value, got: &Value, out: &mut Vec<String>) {
    match (want, got) {
        (Value::Object(w), Value::Object(g)) => {
            let keys: Vec<&String> = w
                .keys()
                .chain(g.keys().filter(|k| !w.contains_key(*k)))
                .collect();
            for k in keys {
                let p = format!("{path}.{k}");
                match (w.get(k), g.get(k)) {
                    (Some(a), Some(b)) => differences(&p, a, b, out),
                    (Some(a), None) => out.push(format!("{p}: missing, kubectl printed {a}")),
                    (None, Some(b)) => out.push(format!("{p}: extra {b}")),
                    (None, None) => {}
                }
            }
        }
        (Value::Array(w), Value::Array(g)) if w.len() == g.len() => {
            for (i, (a, b)) in w.iter().zip(g).enumerate() {
                differences(&format!("{path}[{i}]"), a, b, out);
            }
        }
        (a, b) if a != b => out.push(format!("{path}: kubectl printed {a}, server stored {b}")),
        _ => {}
    }
}

/// Whether a `-v=8` log shows a request body sent as protobuf (its request headers; responses
/// are JSON).
fn sent_protobuf(log: &str) -> bool {
    log.contains("Content-Type: application/vnd.kubernetes.protobuf")
}

/// `args` with `flags` added before a `--` (after which come the container's command).
fn with_flags<'a>(args: &[&'a str], flags: &[&'a str]) -> Vec<&'a str> {
    let at = args.iter().position(|a| *a == "--").unwrap_or(args.len());
    let mut out = args[..at].to_vec();
    out.extend_from_slice(flags);
    out.extend_from_slice(&args[at..]);
    out
}

/// (what to create, `kubectl get` arguments for it).
const CASES: &[(&[&str], &[&str])] = &[
    (
        &[
            "create",
            "configmap",
            "cm1",
            "-n",
            "demo",
            "--from-literal=a=1",
            "--from-literal=b=two words",
        ],
        &["configmap", "cm1", "-n", "demo"],
    ),
    (
        &[
            "create",
            "secret",
            "generic",
            "s1",
            "-n",
            "demo",
            "--from-literal=password=hunter2",
            "--from-literal=empty=",
        ],
        &["secret", "s1", "-n", "demo"],
    ),
    (
        &[
            "create",
            "deployment",
            "web",
            "-n",
            "demo",
            "--image=nginx:1.27",
            "--replicas=2",
            "--port=80",
        ],
        &["deployment", "web", "-n", "demo"],
    ),
    (
        // `replicas` is a *int32: zero must survive the trip.
        &[
            "create",
            "deployment",
            "idle",
            "-n",
            "demo",
            "--image=nginx",
            "--replicas=0",
        ],
        &["deployment", "idle", "-n", "demo"],
    ),
    (
        &[
            "create",
            "service",
            "clusterip",
            "svc1",
            "-n",
            "demo",
            "--tcp=80:8080",
            "--tcp=443:https",
        ],
        &["service", "svc1", "-n", "demo"],
    ),
    (
        &[
            "create",
            "job",
            "job1",
            "-n",
            "demo",
            "--image=busybox",
            "--",
            "echo",
            "hi",
        ],
        &["job", "job1", "-n", "demo"],
    ),
    (
        &[
            "create",
            "cronjob",
            "cj1",
            "-n",
            "demo",
            "--image=busybox",
            "--schedule=*/5 * * * *",
            "--",
            "date",
        ],
        &["cronjob", "cj1", "-n", "demo"],
    ),
    (
        &[
            "create",
            "role",
            "r1",
            "-n",
            "demo",
            "--verb=get,list",
            "--resource=pods,configmaps",
            "--resource-name=x",
        ],
        &["role", "r1", "-n", "demo"],
    ),
    (
        &[
            "create",
            "rolebinding",
            "rb1",
            "-n",
            "demo",
            "--role=r1",
            "--user=alice",
            "--serviceaccount=demo:default",
        ],
        &["rolebinding", "rb1", "-n", "demo"],
    ),
    (
        &[
            "create",
            "ingress",
            "ing1",
            "-n",
            "demo",
            "--class=nginx",
            "--rule=example.com/path*=svc1:80",
            "--rule=other.example/=svc1:https,tls=cert",
        ],
        &["ingress", "ing1", "-n", "demo"],
    ),
    (
        &[
            "create",
            "priorityclass",
            "high",
            "--value=1000",
            "--description=important",
            "--preemption-policy=Never",
        ],
        &["priorityclass", "high"],
    ),
    (
        // minAvailable is a *IntOrString: 0 must survive.
        &[
            "create",
            "poddisruptionbudget",
            "pdb1",
            "-n",
            "demo",
            "--selector=app=web",
            "--min-available=0",
        ],
        &["poddisruptionbudget", "pdb1", "-n", "demo"],
    ),
    (
        &[
            "create",
            "secret",
            "docker-registry",
            "reg1",
            "-n",
            "demo",
            "--docker-server=registry.example.com",
            "--docker-username=u",
            "--docker-password=p",
        ],
        &["secret", "reg1", "-n", "demo"],
    ),
    (
        &["create", "serviceaccount", "sa1", "-n", "demo"],
        &["serviceaccount", "sa1", "-n", "demo"],
    ),
    (
        &[
            "create",
            "quota",
            "q1",
            "-n",
            "demo",
            "--hard=cpu=1,memory=1Gi,pods=10",
        ],
        &["resourcequota", "q1", "-n", "demo"],
    ),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_creates_arrive_as_protobuf_and_store_what_kubectl_built() {
    let binary = kubectl_133();
    let server = tether_apiserver::start(tether_apiserver::ServerConfig::ephemeral())
        .await
        .expect("start the server");
    let dir = TempDir::new().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(&kubeconfig, server.kubeconfig()).unwrap();
    let kubectl = Kubectl {
        binary,
        kubeconfig,
        cache: dir.path().join("cache"),
    };

    let (_, log) = kubectl.run(&["create", "namespace", "demo", "-v=8"]).await;
    assert!(
        sent_protobuf(&log),
        "kubectl 1.33 did not send protobuf, so this test proves nothing:\n{log}"
    );
    let mut problems = Vec::new();
    let mut cases: Vec<(Vec<&str>, Vec<&str>)> = vec![(
        vec!["create", "namespace", "demo"],
        vec!["namespace", "demo"],
    )];
    cases.extend(CASES.iter().map(|(c, g)| (c.to_vec(), g.to_vec())));
    // Bytes that are not UTF-8 go to `binaryData`, a map of bytes on the wire.
    let binary = dir.path().join("blob.bin");
    std::fs::write(&binary, (0u8..=255).rev().collect::<Vec<u8>>()).unwrap();
    let from_file = format!("--from-file=blob={}", binary.display());
    cases.push((
        vec!["create", "configmap", "bin1", "-n", "demo", &from_file],
        vec!["configmap", "bin1", "-n", "demo"],
    ));
    for (i, (create, get)) in cases.iter().enumerate() {
        let (printed, _) = kubectl
            .run(&with_flags(create, &["--dry-run=client", "-o", "json"]))
            .await;
        let mut want: Value = serde_json::from_str(&printed)
            .unwrap_or_else(|e| panic!("{create:?} --dry-run printed no JSON ({e}): {printed}"));
        // The namespace was created above, with -v=8.
        if i > 0 {
            let (_, log) = kubectl.run(&with_flags(create, &["-v=8"])).await;
            if !sent_protobuf(&log) {
                problems.push(format!("{create:?}: not sent as protobuf"));
            }
        }
        let (stored, _) = kubectl
            .run(&[&["get"], get.as_slice(), &["-o", "json"]].concat())
            .await;
        let mut got: Value = serde_json::from_str(&stored).unwrap();
        for v in [&mut want, &mut got] {
            strip_server_fields(v);
            drop_nulls(v);
        }
        let mut diffs = Vec::new();
        differences("", &want, &got, &mut diffs);
        if !diffs.is_empty() {
            problems.push(format!("{create:?}:\n    {}", diffs.join("\n    ")));
        }
    }
    server.shutdown().await.expect("shut down");
    assert!(
        problems.is_empty(),
        "stored objects differ from kubectl's own:\n{}",
        problems.join("\n")
    );
}
