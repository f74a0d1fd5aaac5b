//! Drift correction: fields someone changed or added with kubectl (`edit`, `patch`, client-side
//! and server-side `apply`) are set back or removed by the next apply, because the engine takes
//! kubectl's managed fields over first; `ssa: Merge` keeps what others added.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a panic is a failed assertion.

mod common;

use std::path::{Path, PathBuf};
use std::process::Stdio;

use common::*;
use kube::api::{Patch, PatchParams};
use serde_json::json;
use tether_apply::{Action, LAST_APPLIED_ANNOTATION};

fn edit_params(manager: &str) -> PatchParams {
    PatchParams {
        field_manager: Some(manager.to_owned()),
        ..PatchParams::default()
    }
}

#[tokio::test]
async fn kubectl_edit_changes_are_reverted_and_added_fields_removed() {
    let env = Env::start().await;
    let objects = vec![
        namespace("apps"),
        deployment("apps", "web", 2, "nginx:1.27"),
    ];
    env.apply(&objects).await;

    // What `kubectl edit` does: an Update by the manager kubectl-edit.
    let api = env.api("apps/v1", "Deployment", "apps").await;
    api.patch(
        "web",
        &edit_params("kubectl-edit"),
        &Patch::Merge(
            json!({"metadata": {"labels": {"edited": "by-hand"}}, "spec": {"replicas": 5}}),
        ),
    )
    .await
    .unwrap();
    let edited = env
        .get("apps/v1", "Deployment", "apps", "web")
        .await
        .unwrap();
    assert_eq!(edited["spec"]["replicas"], 5);
    assert!(managers(&edited).contains(&"kubectl-edit/Update".to_owned()));

    let result = env.apply(&objects).await;
    assert_eq!(
        result.action_of(&tether_apply::ObjectRef::new(
            "apps/v1",
            "Deployment",
            "apps",
            "web"
        )),
        Some(Action::Configured)
    );
    let fixed = env
        .get("apps/v1", "Deployment", "apps", "web")
        .await
        .unwrap();
    assert_eq!(fixed["spec"]["replicas"], 2);
    assert!(
        fixed["metadata"]["labels"].get("edited").is_none(),
        "{}",
        fixed["metadata"]["labels"]
    );
    assert!(
        !managers(&fixed).iter().any(|m| m.starts_with("kubectl")),
        "{:?}",
        managers(&fixed)
    );

    // Converged: nothing left to do.
    let again = env.apply(&objects).await;
    assert!(
        again.entries.iter().all(|e| e.action == Action::Unchanged),
        "{again}"
    );
    env.shutdown().await;
}

#[tokio::test]
async fn ssa_merge_keeps_fields_others_added() {
    let env = Env::start().await;
    let mut cm = config_map("default", "shared", json!({"mine": "1"}));
    cm["metadata"]["annotations"] = json!({"kustomize.toolkit.fluxcd.io/ssa": "Merge"});
    env.apply(std::slice::from_ref(&cm)).await;
    let api = env.api("v1", "ConfigMap", "default").await;
    api.patch(
        "shared",
        &edit_params("kubectl-edit"),
        &Patch::Merge(json!({"data": {"mine": "2", "theirs": "x"}})),
    )
    .await
    .unwrap();
    let result = env.apply(&[cm]).await;
    assert_eq!(lines(&result), ["ConfigMap/default/shared configured"]);
    let live = env
        .get("v1", "ConfigMap", "default", "shared")
        .await
        .unwrap();
    // Our field is ours again (a forced apply), theirs stays.
    assert_eq!(live["data"], json!({"mine": "1", "theirs": "x"}));
    env.shutdown().await;
}

/// The pinned `kubectl.1.33`, found beside the `kubectl` on PATH (or in `TETHER_KUBECTL_DIR`).
fn kubectl() -> PathBuf {
    let dir = match std::env::var_os("TETHER_KUBECTL_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => {
            let path = std::env::var_os("PATH").unwrap_or_default();
            let found = std::env::split_paths(&path)
                .map(|d| d.join("kubectl"))
                .find(|c| c.is_file())
                .expect(
                    "no `kubectl` on PATH: the pinned kubectl.1.XX binaries are found beside it",
                );
            std::fs::canonicalize(&found)
                .unwrap()
                .parent()
                .unwrap()
                .to_path_buf()
        }
    };
    let binary = dir.join("kubectl.1.33");
    assert!(
        binary.is_file(),
        "the pinned kubectl binary {} is missing",
        binary.display()
    );
    binary
}

async fn run_kubectl(dir: &Path, envs: &[(&str, &str)], args: &[&str]) -> String {
    let mut command = tokio::process::Command::new(kubectl());
    command
        .arg(format!("--kubeconfig={}", dir.join("kubeconfig").display()))
        .arg(format!("--cache-dir={}", dir.join("cache").display()))
        .args(args)
        .env_remove("KUBECONFIG")
        .env("HOME", dir)
        .stdin(Stdio::null())
        .kill_on_drop(true);
    for (k, v) in envs {
        command.env(k, v);
    }
    let output = tokio::time::timeout(std::time::Duration::from_secs(60), command.output())
        .await
        .unwrap_or_else(|_| panic!("kubectl {args:?} hung"))
        .unwrap();
    assert!(
        output.status.success(),
        "kubectl {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[tokio::test]
async fn real_kubectl_edit_patch_and_apply_are_corrected_by_the_next_apply() {
    let env = Env::start().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("kubeconfig"), env.server.kubeconfig()).unwrap();
    let objects = vec![
        namespace("apps"),
        config_map("apps", "settings", json!({"mode": "blue", "size": "3"})),
        deployment("apps", "web", 2, "nginx:1.27"),
    ];
    env.apply(&objects).await;

    // kubectl edit (manager kubectl-edit): an editor that rewrites the file.
    run_kubectl(
        dir.path(),
        &[("KUBE_EDITOR", "sed -i -e s/blue/edited/")],
        &[
            "edit",
            "configmap",
            "settings",
            "-n",
            "apps",
            "--validate=false",
        ],
    )
    .await;
    // kubectl patch (manager kubectl-patch) adds a key.
    run_kubectl(
        dir.path(),
        &[],
        &[
            "patch",
            "configmap",
            "settings",
            "-n",
            "apps",
            "--type=merge",
            "-p",
            r#"{"data":{"extra":"x"}}"#,
        ],
    )
    .await;
    // kubectl apply --server-side --force-conflicts (manager kubectl, Apply) changes the image.
    let mut hand = deployment("apps", "web", 2, "nginx:hand");
    hand["metadata"]["labels"] = json!({"hand": "yes"});
    let hand_file = dir.path().join("hand.json");
    std::fs::write(&hand_file, serde_json::to_string(&hand).unwrap()).unwrap();
    run_kubectl(
        dir.path(),
        &[],
        &[
            "apply",
            "--server-side",
            "--force-conflicts",
            "--validate=false",
            "-f",
            hand_file.to_str().unwrap(),
        ],
    )
    .await;

    let cm = env
        .get("v1", "ConfigMap", "apps", "settings")
        .await
        .unwrap();
    assert_eq!(
        cm["data"],
        json!({"mode": "edited", "size": "3", "extra": "x"})
    );
    let ms = managers(&cm);
    assert!(
        ms.contains(&"kubectl-edit/Update".to_owned())
            && ms.contains(&"kubectl-patch/Update".to_owned()),
        "{ms:?}"
    );
    let d = env
        .get("apps/v1", "Deployment", "apps", "web")
        .await
        .unwrap();
    assert_eq!(
        d["spec"]["template"]["spec"]["containers"][0]["image"],
        "nginx:hand"
    );

    let result = env.apply(&objects).await;
    assert_eq!(
        result.changes_summary(),
        "ConfigMap/apps/settings configured\nDeployment/apps/web configured"
    );
    let cm = env
        .get("v1", "ConfigMap", "apps", "settings")
        .await
        .unwrap();
    assert_eq!(cm["data"], json!({"mode": "blue", "size": "3"}));
    let d = env
        .get("apps/v1", "Deployment", "apps", "web")
        .await
        .unwrap();
    assert_eq!(
        d["spec"]["template"]["spec"]["containers"][0]["image"],
        "nginx:1.27"
    );
    assert!(
        d["metadata"]["labels"].get("hand").is_none(),
        "{}",
        d["metadata"]["labels"]
    );
    for o in [&cm, &d] {
        assert!(
            !managers(o).iter().any(|m| m.starts_with("kubectl")),
            "{:?}",
            managers(o)
        );
    }
    // What kubectl shows afterwards agrees.
    let shown: serde_json::Value = serde_json::from_str(
        &run_kubectl(
            dir.path(),
            &[],
            &["get", "configmap", "settings", "-n", "apps", "-o", "json"],
        )
        .await,
    )
    .unwrap();
    assert_eq!(shown["data"], json!({"mode": "blue", "size": "3"}));
    env.shutdown().await;
}

#[tokio::test]
async fn client_side_kubectl_apply_is_taken_over_and_its_annotation_dropped() {
    let env = Env::start().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("kubeconfig"), env.server.kubeconfig()).unwrap();
    // The object existed before tether: created with client-side `kubectl apply`.
    let before = config_map("default", "legacy", json!({"a": "1", "old": "x"}));
    let file = dir.path().join("legacy.json");
    std::fs::write(&file, serde_json::to_string(&before).unwrap()).unwrap();
    run_kubectl(
        dir.path(),
        &[],
        &["apply", "--validate=false", "-f", file.to_str().unwrap()],
    )
    .await;
    let live = env
        .get("v1", "ConfigMap", "default", "legacy")
        .await
        .unwrap();
    assert!(
        live["metadata"]["annotations"]
            .get(LAST_APPLIED_ANNOTATION)
            .is_some()
    );
    assert!(
        managers(&live).contains(&"kubectl-client-side-apply/Update".to_owned()),
        "{:?}",
        managers(&live)
    );

    let result = env
        .apply(&[config_map("default", "legacy", json!({"a": "1"}))])
        .await;
    assert_eq!(lines(&result), ["ConfigMap/default/legacy configured"]);
    let live = env
        .get("v1", "ConfigMap", "default", "legacy")
        .await
        .unwrap();
    assert_eq!(live["data"], json!({"a": "1"}));
    assert!(
        live["metadata"]
            .get("annotations")
            .is_none_or(|a| a.get(LAST_APPLIED_ANNOTATION).is_none()),
        "{}",
        live["metadata"]
    );
    assert_eq!(managers(&live), ["kustomize-controller/Apply"]);
    env.shutdown().await;
}
