//! The test remotes against the real `git` CLI: push through them, list refs back.
#![allow(clippy::unwrap_used)] // Tests: a panic is a failed assertion.

use tether_testkit::{
    GitHttpConfig, GitHttpServer, SshGitServer, WorkRepo, git_command, init_bare,
};

fn ls_remote(url: &str, config: &[(&str, &str)]) -> Result<String, String> {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = git_command(dir.path());
    for (k, v) in config {
        cmd.arg("-c").arg(format!("{k}={v}"));
    }
    let out = cmd.args(["ls-remote", url]).output().unwrap();
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

fn work_repo() -> (WorkRepo, String) {
    let mut work = WorkRepo::new().unwrap();
    work.write("deploy/app.yaml", "kind: ConfigMap\n").unwrap();
    let sha = work.commit("first").unwrap();
    (work, sha)
}

#[test]
fn same_steps_give_the_same_shas() {
    let (_a, first) = work_repo();
    let (_b, second) = work_repo();
    assert_eq!(first, second);
    assert_eq!(first.len(), 40);
}

#[test]
fn http_basic_auth_push_and_list() {
    let root = tempfile::tempdir().unwrap();
    init_bare(&root.path().join("app.git")).unwrap();
    let server =
        GitHttpServer::start(GitHttpConfig::new(root.path()).with_basic_auth("alice", "s3cret"))
            .unwrap();
    let (work, sha) = work_repo();
    work.push(&server.url_with_credentials("app.git"), &["main"])
        .unwrap();
    let refs = ls_remote(&server.url_with_credentials("app.git"), &[]).unwrap();
    assert!(refs.contains(&format!("{sha}\trefs/heads/main")), "{refs}");

    let wrong = server
        .url("app.git")
        .replace("http://", "http://alice:wrong@");
    let err = ls_remote(&wrong, &[]).unwrap_err();
    assert!(
        err.contains("Authentication failed") || err.contains("401"),
        "{err}"
    );
    assert!(server.requests().iter().any(|r| r.status == 401));
}

#[test]
fn http_bearer_token() {
    let root = tempfile::tempdir().unwrap();
    let bare = init_bare(&root.path().join("app.git")).unwrap();
    let (work, sha) = work_repo();
    work.push(bare.to_str().unwrap(), &["main"]).unwrap();
    let server =
        GitHttpServer::start(GitHttpConfig::new(root.path()).with_bearer_token("tok3n")).unwrap();
    let refs = ls_remote(
        &server.url("app.git"),
        &[("http.extraHeader", "Authorization: Bearer tok3n")],
    )
    .unwrap();
    assert!(refs.contains(&sha), "{refs}");
    ls_remote(
        &server.url("app.git"),
        &[("http.extraHeader", "Authorization: Bearer nope")],
    )
    .unwrap_err();
}

#[test]
fn https_needs_the_generated_ca() {
    let root = tempfile::tempdir().unwrap();
    init_bare(&root.path().join("app.git")).unwrap();
    let server = GitHttpServer::start(GitHttpConfig::new(root.path()).with_tls()).unwrap();
    let ca = root.path().join("ca.pem");
    std::fs::write(&ca, server.ca_pem().unwrap()).unwrap();
    let ca = ca.to_str().unwrap();
    let (work, sha) = work_repo();
    work.push_with(&server.url("app.git"), &["main"], &[("http.sslCAInfo", ca)])
        .unwrap();
    let refs = ls_remote(&server.url("app.git"), &[("http.sslCAInfo", ca)]).unwrap();
    assert!(refs.contains(&sha), "{refs}");
    let err = ls_remote(&server.url("app.git"), &[]).unwrap_err();
    assert!(err.to_lowercase().contains("certificate"), "{err}");
}

#[test]
fn http_server_stops_on_drop_and_restarts_on_the_same_port() {
    let root = tempfile::tempdir().unwrap();
    let bare = init_bare(&root.path().join("app.git")).unwrap();
    let (work, sha) = work_repo();
    work.push(bare.to_str().unwrap(), &["main"]).unwrap();
    let server = GitHttpServer::start(GitHttpConfig::new(root.path())).unwrap();
    let url = server.url("app.git");
    let port = server.addr().port();
    drop(server);
    ls_remote(&url, &[]).unwrap_err();
    let again = GitHttpServer::start(GitHttpConfig::new(root.path()).with_port(port)).unwrap();
    assert_eq!(again.url("app.git"), url);
    assert!(ls_remote(&url, &[]).unwrap().contains(&sha));
}

#[test]
fn ssh_push_and_list() {
    let server = match SshGitServer::start() {
        Ok(server) => server,
        Err(e) => panic!("the SSH test remote needs openssh-server: {e}"),
    };
    let root = tempfile::tempdir().unwrap();
    let bare = init_bare(&root.path().join("app.git")).unwrap();
    let (work, sha) = work_repo();
    let ssh = server.git_ssh_command().unwrap();
    let url = server.url(&bare);
    work.push_with(&url, &["main"], &[("core.sshCommand", &ssh)])
        .unwrap_or_else(|e| panic!("{e}\nsshd log:\n{}", server.log()));
    let refs = ls_remote(&url, &[("core.sshCommand", &ssh)]).unwrap();
    assert!(refs.contains(&format!("{sha}\trefs/heads/main")), "{refs}");
    assert!(
        server
            .known_hosts()
            .starts_with(&format!("[127.0.0.1]:{} ssh-ed25519 ", server.port()))
    );
    assert!(
        server
            .client_key()
            .private_key
            .contains("OPENSSH PRIVATE KEY")
    );
}
