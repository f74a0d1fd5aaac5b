//! `tether create source git` with a generated deploy key over SSH (the cluster fetches only once
//! the key is authorized on the sshd the test runs), and `tether get --watch` printing a row when
//! an object changes. `tether dev --empty` is the cluster; the binary runs as a process.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a panic is a failed assertion.

mod common;

use std::ffi::OsStr;
use std::process::Output;
use std::time::Duration;

use common::{Proc, client, tether_at as tether};
use k8s_openapi::api::core::v1::Secret;
use kube::api::Api;
use tether_testkit::{SshGitServer, WorkRepo, init_bare};

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_generated_deploy_key_works_once_added_and_watch_shows_the_change() {
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

    let sshd = SshGitServer::start().unwrap();
    let bare = init_bare(&dir.path().join("fleet.git")).unwrap();
    let mut work = WorkRepo::new().unwrap();
    work.write(
        "app/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n  namespace: default\n",
    )
    .unwrap();
    work.commit("app").unwrap();
    work.push(bare.to_str().unwrap(), &["main"]).unwrap();
    let known_hosts = dir.path().join("known_hosts");
    std::fs::write(&known_hosts, sshd.known_hosts()).unwrap();
    let url = sshd.url(&bare);

    // Without a terminal and without --silent, it says how to go on, and creates nothing.
    let args = [
        "create",
        "source",
        "git",
        "fleet",
        "--url",
        &url,
        "--branch=main",
        "--known-hosts-file",
        known_hosts.to_str().unwrap(),
    ];
    let out = tether(&kubeconfig, &args);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("pass --silent"), "{}", stderr(&out));
    let secrets: Api<Secret> = Api::namespaced(kube.clone(), "tether-system");
    assert!(secrets.get_opt("fleet").await.unwrap().is_none());

    // --silent: the key is printed and stored, but not yet on the server: the fetch is refused.
    let mut silent = args.to_vec();
    silent.extend(["--silent", "--timeout=20s"]);
    let out = tether(&kubeconfig, &silent);
    let text = stderr(&out);
    assert!(
        !out.status.success(),
        "the fetch succeeded with a key the server does not know:\n{text}"
    );
    let printed = text
        .lines()
        .find_map(|l| l.strip_prefix("✔ generated deploy key: "))
        .unwrap_or_else(|| panic!("no public key printed:\n{text}"))
        .to_owned();
    assert!(printed.starts_with("ssh-ed25519 AAAA"), "{printed}");
    assert!(
        text.contains("GitRepository 'tether-system/fleet' failed"),
        "{text}"
    );
    let secret = secrets.get("fleet").await.unwrap();
    let data = secret.data.unwrap();
    assert_eq!(
        String::from_utf8(data["identity.pub"].0.clone())
            .unwrap()
            .trim(),
        printed
    );
    assert_eq!(
        String::from_utf8(data["known_hosts"].0.clone()).unwrap(),
        sshd.known_hosts()
    );

    // Once the key is on the server, the source becomes Ready.
    sshd.authorize(&printed).unwrap();
    let out = tether(
        &kubeconfig,
        &["reconcile", "source", "git", "fleet", "--timeout=30s"],
    );
    assert!(
        out.status.success(),
        "{}\nsshd:\n{}",
        stderr(&out),
        sshd.log()
    );

    // `get --watch`: the table, then a row when the source is suspended.
    let watch = Proc::spawn(
        "watch",
        &[
            OsStr::new("get"),
            OsStr::new("sources"),
            OsStr::new("git"),
            OsStr::new("--watch"),
            OsStr::new("--kubeconfig"),
            kubeconfig.as_os_str(),
        ],
        &[("NO_COLOR", "1")],
        dir.path(),
    );
    watch.wait_line("NAME ", Duration::from_secs(20));
    let first = watch.wait_line("fleet ", Duration::from_secs(20));
    assert!(first.contains("True") && first.contains("false"), "{first}");
    let out = tether(&kubeconfig, &["suspend", "source", "git", "fleet"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let changed = watch.wait_line("fleet ", Duration::from_secs(20));
    assert!(
        changed.contains("true"),
        "the watch printed {changed:?} after the suspend"
    );
}
