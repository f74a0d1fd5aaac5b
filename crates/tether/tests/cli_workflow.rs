//! The Flux-style workflow commands as a user runs them: `tether dev --empty` as the cluster, a
//! smart-HTTP Git remote, and `tether get`, `reconcile`, `suspend` and `resume` as processes.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a panic is a failed assertion.

mod common;

use std::ffi::OsStr;
use std::path::Path;
use std::time::Duration;

use common::{Proc, client, tether_at as tether, text, wait_ready};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::Api;
use tether_api::{GitRepository, Kustomization};
use tether_testkit::{GitHttpConfig, GitHttpServer, WorkRepo, init_bare};

/// Runs and expects success; returns stdout and stderr.
fn ok(kubeconfig: &Path, args: &[&str]) -> (String, String) {
    let out = tether(kubeconfig, args);
    assert!(
        out.status.success(),
        "tether {args:?} failed: {}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    (text(&out.stdout), text(&out.stderr))
}

/// Runs and expects failure; returns stderr.
fn fails(kubeconfig: &Path, args: &[&str]) -> String {
    let out = tether(kubeconfig, args);
    assert!(
        !out.status.success(),
        "tether {args:?} succeeded: {}",
        text(&out.stdout)
    );
    text(&out.stderr)
}

/// The table with commit SHAs as `<sha>` and the AGE column (the last) as `<age>`.
fn normalise_table(table: &str) -> String {
    let mut out = String::new();
    for line in table.lines() {
        let mut line = line.to_owned();
        while let Some(at) = line.find("sha1:") {
            let start = at + "sha1:".len();
            let end = line[start..]
                .find(|c: char| !c.is_ascii_hexdigit())
                .map_or(line.len(), |e| start + e);
            line.replace_range(at..end, "<sha>");
        }
        if !line.starts_with("NAMESPACE")
            && !line.starts_with("NAME ")
            && let Some((rest, _age)) = line.rsplit_once(' ')
        {
            line = format!("{rest} <age>");
        }
        out.push_str(&line);
        out.push('\n');
    }
    out
}

fn config_map(value: &str) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: default\ndata:\n  greeting: {value}\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_reconcile_suspend_and_resume_against_tether_dev() {
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    let _dev = Proc::spawn(
        "dev",
        &[
            OsStr::new("dev"),
            OsStr::new("--empty"),
            OsStr::new("--listen=127.0.0.1:0"),
            OsStr::new("--metrics-addr=127.0.0.1:0"),
            OsStr::new("--kubeconfig-out"),
            kubeconfig.as_os_str(),
        ],
        &[],
        dir.path(),
    );
    _dev.wait_line("serving on ", Duration::from_secs(30));
    let kube = client(&kubeconfig).await;

    // Nothing yet: an empty listing says so on stderr.
    let (stdout, stderr) = ok(&kubeconfig, &["get", "kustomizations"]);
    assert_eq!(stdout, "");
    assert!(
        stderr.contains("No objects found in namespace tether-system"),
        "{stderr}"
    );

    let root = tempfile::tempdir().unwrap();
    let bare = init_bare(&root.path().join("fleet.git")).unwrap();
    let mut work = WorkRepo::new().unwrap();
    work.write("apps/settings.yaml", config_map("one")).unwrap();
    let first = work.commit("one").unwrap();
    work.push(bare.to_str().unwrap(), &["main"]).unwrap();
    let git = GitHttpServer::start(GitHttpConfig::new(root.path())).unwrap();

    // create: --export prints what would be applied; without it, applied and waited for.
    let url = git.url("fleet.git");
    let (exported, _) = ok(
        &kubeconfig,
        &[
            "create",
            "source",
            "git",
            "fleet",
            "--url",
            &url,
            "--branch",
            "main",
            "--interval",
            "1h",
            "--export",
        ],
    );
    assert!(
        exported.starts_with("---\napiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\n"),
        "{exported}"
    );
    assert!(
        Api::<GitRepository>::namespaced(kube.clone(), "tether-system")
            .get_opt("fleet")
            .await
            .unwrap()
            .is_none()
    );
    let (_, stderr) = ok(
        &kubeconfig,
        &[
            "create",
            "source",
            "git",
            "fleet",
            "--url",
            &url,
            "--branch",
            "main",
            "--interval",
            "1h",
        ],
    );
    assert!(
        stderr.contains("✔ GitRepository 'tether-system/fleet' is ready: stored artifact"),
        "{stderr}"
    );
    let (_, stderr) = ok(
        &kubeconfig,
        &[
            "create",
            "kustomization",
            "apps",
            "--source",
            "GitRepository/fleet",
            "--path",
            "./apps",
            "--prune",
            "--interval",
            "1h",
        ],
    );
    assert!(
        stderr.contains("✔ Kustomization 'tether-system/apps' is ready: Applied revision"),
        "{stderr}"
    );
    let bad = fails(
        &kubeconfig,
        &["create", "ks", "x", "--source", "fleet", "--interval", "5"],
    );
    assert!(bad.contains("--interval '5'"), "{bad}");
    let kss = Api::<Kustomization>::namespaced(kube.clone(), "tether-system");
    wait_ready(
        &kss,
        "apps",
        &format!("Applied revision: main@sha1:{first}"),
        Duration::from_secs(60),
    )
    .await;

    // get: kubectl-like tables, one row per object, YAML and JSON.
    let (table, _) = ok(&kubeconfig, &["get", "kustomizations"]);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 2, "{table}");
    let header: Vec<&str> = lines[0].split_whitespace().collect();
    assert_eq!(
        header,
        ["NAME", "READY", "MESSAGE", "REVISION", "SUSPENDED", "AGE"]
    );
    assert!(
        lines[1].starts_with("apps   True    Applied revision: main@sha1:"),
        "{table}"
    );
    assert!(lines[1].contains("   false   "), "{table}");
    let (all, _) = ok(&kubeconfig, &["get", "all", "-A"]);
    // Snapshot of the whole table, commit and ages aside.
    assert_eq!(
        normalise_table(&all),
        concat!(
            "NAMESPACE       NAME                  READY   MESSAGE                                                                             REVISION                                             SUSPENDED   AGE\n",
            "tether-system   gitrepository/fleet   True    stored artifact for revision 'main@<sha>'   main@<sha>   false       <age>\n",
            "tether-system   kustomization/apps    True    Applied revision: main@<sha>                main@<sha>   false       <age>\n",
        ),
        "get all -A:\n{all}"
    );
    assert!(all.starts_with("NAMESPACE"), "{all}");
    assert!(
        all.contains("tether-system   gitrepository/fleet   True    stored artifact"),
        "{all}"
    );
    assert!(
        all.contains("tether-system   kustomization/apps    True"),
        "{all}"
    );
    let (json, _) = ok(&kubeconfig, &["get", "all", "-o", "json"]);
    let list: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(list["kind"], "List");
    assert_eq!(list["items"].as_array().unwrap().len(), 2);
    let (yaml, _) = ok(
        &kubeconfig,
        &["get", "sources", "git", "fleet", "-o", "yaml"],
    );
    assert!(yaml.contains("kind: GitRepository\n"), "{yaml}");
    assert!(
        yaml.contains(&format!("revision: main@sha1:{first}")),
        "{yaml}"
    );
    let missing = fails(&kubeconfig, &["get", "ks", "nope"]);
    assert!(
        missing.contains("Kustomization 'nope' not found in namespace tether-system"),
        "{missing}"
    );

    // reconcile --with-source: a new commit reaches the cluster now, not in an hour.
    work.write("apps/settings.yaml", config_map("two")).unwrap();
    let second = work.commit("two").unwrap();
    work.push(bare.to_str().unwrap(), &["main"]).unwrap();
    let (_, stderr) = ok(
        &kubeconfig,
        &["reconcile", "kustomization", "apps", "--with-source"],
    );
    assert!(
        stderr.contains(&format!("✔ fetched revision main@sha1:{second}")),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("✔ applied revision main@sha1:{second}")),
        "{stderr}"
    );
    assert!(
        stderr.contains("► annotating Kustomization apps in namespace tether-system"),
        "{stderr}"
    );
    let cms = Api::<ConfigMap>::namespaced(kube.clone(), "default");
    let greeting = cms.get("settings").await.unwrap().data.unwrap()["greeting"].clone();
    assert_eq!(greeting, "two");

    // A broken commit: reconcile exits non-zero with the controller's message.
    work.write(
        "apps/broken.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: [",
    )
    .unwrap();
    work.commit("broken").unwrap();
    work.push(bare.to_str().unwrap(), &["main"]).unwrap();
    let failed = fails(&kubeconfig, &["reconcile", "ks", "apps", "--with-source"]);
    assert!(failed.contains("reconciliation failed:"), "{failed}");
    assert!(failed.contains("broken.yaml"), "{failed}");
    assert!(failed.contains("(BuildFailed)"), "{failed}");

    // suspend: reconcile refuses; get shows it; resume reconciles again.
    ok(&kubeconfig, &["suspend", "kustomization", "apps"]);
    assert!(kss.get("apps").await.unwrap().spec.suspend);
    let refused = fails(&kubeconfig, &["reconcile", "ks", "apps"]);
    assert!(
        refused.contains("is suspended; run `tether resume` first"),
        "{refused}"
    );
    let (table, _) = ok(&kubeconfig, &["get", "ks", "apps"]);
    assert!(table.contains("   true   "), "{table}");
    work.remove("apps/broken.yaml").unwrap();
    // The fix also adds a child Kustomization, for `tree` below.
    work.write(
        "apps/child.yaml",
        "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: child\n  namespace: tether-system\nspec:\n  interval: 1h\n  path: ./child\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: fleet\n",
    )
    .unwrap();
    work.write(
        "child/extra.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\n  namespace: default\n",
    )
    .unwrap();
    work.commit("fixed").unwrap();
    work.push(bare.to_str().unwrap(), &["main"]).unwrap();
    ok(&kubeconfig, &["reconcile", "source", "git", "fleet"]);
    let (_, stderr) = ok(&kubeconfig, &["resume", "kustomization", "apps"]);
    assert!(
        stderr.contains("✔ Kustomization 'apps' resumed: Applied revision"),
        "{stderr}"
    );
    assert!(!kss.get("apps").await.unwrap().spec.suspend);

    // tree: the inventory, descending into the child Kustomization once it applied.
    common::wait_for(
        "the child Kustomization",
        Duration::from_secs(30),
        async || {
            let child = kss.get_opt("child").await.unwrap()?;
            child
                .status?
                .inventory
                .filter(|i| !i.entries.is_empty())
                .map(|_| ())
        },
    )
    .await;
    let (tree, _) = ok(&kubeconfig, &["tree", "kustomization", "apps"]);
    assert_eq!(
        tree,
        "Kustomization/tether-system/apps\n├── ConfigMap/default/settings\n└── Kustomization/tether-system/child\n    └── ConfigMap/default/extra\n"
    );

    // trace: from a live object back to its Kustomization, source and revision.
    let head = kss
        .get("apps")
        .await
        .unwrap()
        .status
        .unwrap()
        .last_applied_revision
        .unwrap();
    let (traced, _) = ok(&kubeconfig, &["trace", "cm/settings", "-n", "default"]);
    for expected in [
        "Object:         ConfigMap/settings\n",
        "Namespace:      default\n",
        "Status:         Managed by tether\n",
        "Kustomization:  apps\n",
        "Path:           ./apps\n",
        &format!("Revision:       {head}\n"),
        "GitRepository:  fleet\n",
        &format!("URL:            {url}\n"),
        "Branch:         main\n",
    ] {
        assert!(
            traced.contains(expected),
            "missing {expected:?} in:\n{traced}"
        );
    }
    let (unmanaged, _) = ok(&kubeconfig, &["trace", "namespace/default"]);
    assert!(
        unmanaged.contains("Not managed by tether or Flux"),
        "{unmanaged}"
    );
    let unknown = fails(&kubeconfig, &["trace", "widget/x"]);
    assert!(
        unknown.contains("no resource of kind 'widget'"),
        "{unknown}"
    );

    // events: what the controllers recorded, kubectl-style.
    let (events, _) = ok(&kubeconfig, &["events", "--for", "Kustomization/apps"]);
    let header: Vec<&str> = events
        .lines()
        .next()
        .unwrap()
        .split("   ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect();
    assert_eq!(
        header,
        ["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"],
        "{events}"
    );
    assert!(events.contains("Warning   BuildFailed"), "{events}");
    assert!(events.contains("Kustomization/apps"), "{events}");
    assert!(!events.contains("GitRepository/fleet"), "{events}");
    let (all_events, _) = ok(&kubeconfig, &["events"]);
    assert!(all_events.contains("GitRepository/fleet"), "{all_events}");

    // build: a local overlay built as the controller would, variables from the cluster.
    let vars: ConfigMap = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "vars", "namespace": "tether-system"}, "data": {"greeting": "hello"},
    }))
    .unwrap();
    Api::<ConfigMap>::namespaced(kube.clone(), "tether-system")
        .create(&Default::default(), &vars)
        .await
        .unwrap();
    let local = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(local.path().join(".git")).unwrap();
    std::fs::create_dir_all(local.path().join("base")).unwrap();
    std::fs::create_dir_all(local.path().join("overlay")).unwrap();
    std::fs::write(
        local.path().join("base/cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  greeting: ${greeting}-${suffix}\n",
    )
    .unwrap();
    std::fs::write(
        local.path().join("overlay/kustomization.yaml"),
        "resources:\n- ../base/cm.yaml\n",
    )
    .unwrap();
    let ks_file = local.path().join("ks.yaml");
    std::fs::write(
        &ks_file,
        "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: local\n  namespace: tether-system\nspec:\n  interval: 1m\n  path: ./somewhere\n  prune: true\n  namePrefix: p-\n  targetNamespace: team\n  sourceRef:\n    kind: GitRepository\n    name: fleet\n  postBuild:\n    substitute:\n      suffix: x\n    substituteFrom:\n    - kind: ConfigMap\n      name: vars\n",
    )
    .unwrap();
    let overlay = local.path().join("overlay");
    let (built, _) = ok(
        &kubeconfig,
        &[
            "build",
            "kustomization",
            "local",
            "--path",
            overlay.to_str().unwrap(),
            "--kustomization-file",
            ks_file.to_str().unwrap(),
        ],
    );
    assert_eq!(
        built,
        "apiVersion: v1\ndata:\n  greeting: hello-x\nkind: ConfigMap\nmetadata:\n  name: p-cm\n  namespace: team\n"
    );
    let (dry, stderr) = ok(
        &kubeconfig,
        &[
            "build",
            "ks",
            "local",
            "--path",
            overlay.to_str().unwrap(),
            "--kustomization-file",
            ks_file.to_str().unwrap(),
            "--dry-run",
        ],
    );
    assert!(stderr.contains("substituteFrom is skipped"), "{stderr}");
    assert!(dry.contains("  greeting: -x\n"), "{dry}");
    let missing_var_source = fails(
        &kubeconfig,
        &[
            "build",
            "ks",
            "apps",
            "--path",
            overlay.to_str().unwrap(),
            "-n",
            "nowhere",
        ],
    );
    assert!(
        missing_var_source.contains("Kustomization 'apps' not found in namespace nowhere"),
        "{missing_var_source}"
    );

    // export: what belongs in Git.
    let (exported_ks, _) = ok(&kubeconfig, &["export", "kustomization", "apps"]);
    assert!(!exported_ks.contains("status:"), "{exported_ks}");
    assert!(!exported_ks.contains("uid:"), "{exported_ks}");
    assert!(exported_ks.contains("  path: ./apps\n"), "{exported_ks}");
    let (all_sources, _) = ok(&kubeconfig, &["export", "source", "git", "--all"]);
    // The server's view: durations normalised and defaults filled in, nothing else added.
    assert!(all_sources.starts_with("---\napiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n  name: fleet\n  namespace: tether-system\nspec:\n  interval: 1h0m0s\n  ref:\n    branch: main\n"), "{all_sources}");
    assert!(
        all_sources.contains(&format!("  url: {url}\n")),
        "{all_sources}"
    );

    let (version, _) = ok(&kubeconfig, &["version"]);
    assert!(
        version.starts_with("tether: v") && version.contains("\nkubernetes: v1."),
        "{version}"
    );

    // delete waits until the finalizer pruned what the Kustomization applied.
    let (_, stderr) = ok(&kubeconfig, &["delete", "kustomization", "apps"]);
    assert!(
        stderr.contains("✔ Kustomization 'apps' deleted"),
        "{stderr}"
    );
    assert!(cms.get_opt("settings").await.unwrap().is_none());
}
