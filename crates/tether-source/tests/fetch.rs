//! Fetching from real remotes: smart HTTP (basic, bearer, TLS), SSH and local paths.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::fixture;
use tether_source::{FetchErrorKind, FetchOutcome, GitAuth, GitReference, GitSourceSpec, fetch};
use tether_testkit::{GitHttpConfig, GitHttpServer, SshGitServer, generate_ed25519_key};

fn secret(pairs: &[(&str, &str)]) -> BTreeMap<String, Vec<u8>> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.as_bytes().to_vec()))
        .collect()
}

async fn revision(url: &str, auth: &GitAuth, reference: GitReference) -> String {
    let spec = GitSourceSpec::new(url).with_reference(reference.clone());
    match fetch(&spec, auth, None).await {
        Ok(FetchOutcome::Fetched(checkout)) => checkout.revision().to_owned(),
        other => panic!("{reference:?}: {other:?}"),
    }
}

#[tokio::test]
async fn http_basic_auth_resolves_every_kind_of_reference() {
    let f = fixture();
    let server =
        GitHttpServer::start(GitHttpConfig::new(f.root.path()).with_basic_auth("alice", "s3cret"))
            .unwrap();
    let url = server.url("app.git");
    let auth = GitAuth::from_secret_data(
        &url,
        &secret(&[("username", "alice"), ("password", "s3cret")]),
    )
    .unwrap();
    let (c1, c2, dev, pr) = (&f.c1, &f.c2, &f.dev, &f.pr);

    assert_eq!(
        revision(&url, &auth, GitReference::branch("main")).await,
        format!("main@sha1:{c2}")
    );
    assert_eq!(
        revision(&url, &auth, GitReference::branch("dev")).await,
        format!("dev@sha1:{dev}")
    );
    // An annotated tag's revision names the commit it points to, not the tag object.
    assert_eq!(
        revision(&url, &auth, GitReference::tag("v1.0.0")).await,
        format!("v1.0.0@sha1:{c1}")
    );
    assert_eq!(
        revision(&url, &auth, GitReference::tag("v1.1.0")).await,
        format!("v1.1.0@sha1:{c2}")
    );
    assert_eq!(
        revision(&url, &auth, GitReference::semver(">=1.0.0 <2.0.0")).await,
        format!("v1.1.0@sha1:{c2}")
    );
    assert_eq!(
        revision(&url, &auth, GitReference::semver("~1.0")).await,
        format!("v1.0.0@sha1:{c1}")
    );
    assert_eq!(
        revision(&url, &auth, GitReference::semver(">=2.0.0-rc.0")).await,
        format!("v2.0.0-rc.1@sha1:{dev}")
    );
    assert_eq!(
        revision(&url, &auth, GitReference::name("refs/pull/1/head")).await,
        format!("refs/pull/1/head@sha1:{pr}")
    );
    assert_eq!(
        revision(&url, &auth, GitReference::name("refs/heads/dev")).await,
        format!("refs/heads/dev@sha1:{dev}")
    );
    assert_eq!(
        revision(&url, &auth, GitReference::commit(c1)).await,
        format!("sha1:{c1}")
    );
    let on_main = GitReference {
        branch: Some("main".into()),
        ..GitReference::commit(c1)
    };
    assert_eq!(
        revision(&url, &auth, on_main).await,
        format!("main@sha1:{c1}")
    );
    // The commit is found without a branch even when only a non-default branch holds it.
    assert_eq!(
        revision(&url, &auth, GitReference::commit(dev)).await,
        format!("sha1:{dev}")
    );
}

#[tokio::test]
async fn a_wrong_password_is_an_authentication_error_naming_url_and_ref() {
    let f = fixture();
    let server =
        GitHttpServer::start(GitHttpConfig::new(f.root.path()).with_basic_auth("alice", "s3cret"))
            .unwrap();
    let url = server.url("app.git");
    let spec = GitSourceSpec::new(&url).with_reference(GitReference::branch("main"));
    let wrong = GitAuth::from_secret_data(
        &url,
        &secret(&[("username", "alice"), ("password", "nope")]),
    )
    .unwrap();
    let err = fetch(&spec, &wrong, None).await.unwrap_err();
    assert!(
        matches!(err.kind, FetchErrorKind::Authentication(_)),
        "{err}"
    );
    let text = err.to_string();
    assert!(
        text.contains(&url)
            && text.contains("branch 'main'")
            && text.contains("authentication failed"),
        "{text}"
    );

    let err = fetch(&spec, &GitAuth::none(), None).await.unwrap_err();
    assert!(
        matches!(err.kind, FetchErrorKind::Authentication(_)),
        "{err}"
    );
    assert_eq!(server.fetch_count(), 0);
}

#[tokio::test]
async fn bearer_token() {
    let f = fixture();
    let server =
        GitHttpServer::start(GitHttpConfig::new(f.root.path()).with_bearer_token("t0ken")).unwrap();
    let url = server.url("app.git");
    let auth = GitAuth::from_secret_data(&url, &secret(&[("bearerToken", "t0ken")])).unwrap();
    assert_eq!(
        revision(&url, &auth, GitReference::branch("main")).await,
        format!("main@sha1:{}", f.c2)
    );
    let wrong = GitAuth::from_secret_data(&url, &secret(&[("bearerToken", "other")])).unwrap();
    let spec = GitSourceSpec::new(&url).with_reference(GitReference::branch("main"));
    let err = fetch(&spec, &wrong, None).await.unwrap_err();
    assert!(
        matches!(err.kind, FetchErrorKind::Authentication(_)),
        "{err}"
    );
}

#[tokio::test]
async fn https_with_the_secrets_ca_and_a_tls_error_without_it() {
    let f = fixture();
    let server = GitHttpServer::start(
        GitHttpConfig::new(f.root.path())
            .with_tls()
            .with_basic_auth("alice", "s3cret"),
    )
    .unwrap();
    let url = server.url("app.git");
    let ca = server.ca_pem().unwrap();
    let auth = GitAuth::from_secret_data(
        &url,
        &secret(&[
            ("username", "alice"),
            ("password", "s3cret"),
            ("ca.crt", ca),
        ]),
    )
    .unwrap();
    assert_eq!(
        revision(&url, &auth, GitReference::branch("main")).await,
        format!("main@sha1:{}", f.c2)
    );
    // The legacy key works the same.
    let legacy = GitAuth::from_secret_data(
        &url,
        &secret(&[
            ("username", "alice"),
            ("password", "s3cret"),
            ("caFile", ca),
        ]),
    )
    .unwrap();
    assert_eq!(
        revision(&url, &legacy, GitReference::tag("v1.0.0")).await,
        format!("v1.0.0@sha1:{}", f.c1)
    );

    let without_ca = GitAuth::from_secret_data(
        &url,
        &secret(&[("username", "alice"), ("password", "s3cret")]),
    )
    .unwrap();
    let spec = GitSourceSpec::new(&url).with_reference(GitReference::branch("main"));
    let err = fetch(&spec, &without_ca, None).await.unwrap_err();
    assert!(matches!(err.kind, FetchErrorKind::Tls(_)), "{err}");
    assert!(err.to_string().contains(&url), "{err}");
}

fn ssh_secret(
    server: &SshGitServer,
    identity: &str,
    known_hosts: &str,
) -> BTreeMap<String, Vec<u8>> {
    let _ = server;
    secret(&[("identity", identity), ("known_hosts", known_hosts)])
}

#[tokio::test]
async fn ssh_with_host_key_and_client_key() {
    let f = fixture();
    let server = SshGitServer::start()
        .unwrap_or_else(|e| panic!("the SSH remote needs openssh-server: {e}"));
    let url = server.url(&f.bare);
    let data = ssh_secret(
        &server,
        &server.client_key().private_key,
        &server.known_hosts(),
    );
    let auth = GitAuth::from_secret_data(&url, &data).unwrap();
    let spec = GitSourceSpec::new(&url).with_reference(GitReference::branch("main"));
    match fetch(&spec, &auth, None).await {
        Ok(FetchOutcome::Fetched(c)) => assert_eq!(c.revision(), format!("main@sha1:{}", f.c2)),
        other => panic!("{other:?}\nsshd log:\n{}", server.log()),
    }
    assert_eq!(
        revision(&url, &auth, GitReference::semver("1.x")).await,
        format!("v1.1.0@sha1:{}", f.c2)
    );
}

#[tokio::test]
async fn ssh_refuses_a_host_key_not_in_known_hosts() {
    let f = fixture();
    let server = SshGitServer::start()
        .unwrap_or_else(|e| panic!("the SSH remote needs openssh-server: {e}"));
    let url = server.url(&f.bare);
    let other_host = generate_ed25519_key("another-host", "").unwrap();
    let mut fields = other_host.public_key.split_whitespace();
    let wrong_known_hosts = format!(
        "[127.0.0.1]:{} {} {}\n",
        server.port(),
        fields.next().unwrap(),
        fields.next().unwrap()
    );
    let auth = GitAuth::from_secret_data(
        &url,
        &ssh_secret(
            &server,
            &server.client_key().private_key,
            &wrong_known_hosts,
        ),
    )
    .unwrap();
    let spec = GitSourceSpec::new(&url).with_reference(GitReference::branch("main"));
    let err = fetch(&spec, &auth, None).await.unwrap_err();
    assert!(
        matches!(err.kind, FetchErrorKind::HostKeyVerification(_)),
        "{err}"
    );
    assert!(err.to_string().contains(&url), "{err}");

    // A known_hosts naming another host does not trust this one either.
    let elsewhere = server.known_hosts().replace("[127.0.0.1]", "[127.0.0.2]");
    let auth = GitAuth::from_secret_data(
        &url,
        &ssh_secret(&server, &server.client_key().private_key, &elsewhere),
    )
    .unwrap();
    let err = fetch(&spec, &auth, None).await.unwrap_err();
    assert!(
        matches!(err.kind, FetchErrorKind::HostKeyVerification(_)),
        "{err}"
    );
}

#[tokio::test]
async fn ssh_refuses_an_unknown_client_key() {
    let f = fixture();
    let server = SshGitServer::start()
        .unwrap_or_else(|e| panic!("the SSH remote needs openssh-server: {e}"));
    let url = server.url(&f.bare);
    let stranger = generate_ed25519_key("stranger", "").unwrap();
    let auth = GitAuth::from_secret_data(
        &url,
        &ssh_secret(&server, &stranger.private_key, &server.known_hosts()),
    )
    .unwrap();
    let spec = GitSourceSpec::new(&url).with_reference(GitReference::branch("main"));
    let err = fetch(&spec, &auth, None).await.unwrap_err();
    assert!(
        matches!(err.kind, FetchErrorKind::Authentication(_)),
        "{err}"
    );
}

#[tokio::test]
async fn ssh_with_a_passphrase_protected_key() {
    let f = fixture();
    let server = SshGitServer::start()
        .unwrap_or_else(|e| panic!("the SSH remote needs openssh-server: {e}"));
    let url = server.url(&f.bare);
    let key = generate_ed25519_key("locked", "open sesame").unwrap();
    server.authorize(&key.public_key).unwrap();
    let data = secret(&[
        ("identity", &key.private_key),
        ("known_hosts", &server.known_hosts()),
        ("password", "open sesame"),
    ]);
    let auth = GitAuth::from_secret_data(&url, &data).unwrap();
    assert_eq!(
        revision(&url, &auth, GitReference::branch("main")).await,
        format!("main@sha1:{}", f.c2)
    );
}

#[tokio::test]
async fn file_urls_and_local_paths() {
    let f = fixture();
    let file_url = format!("file://{}", f.bare.display());
    assert_eq!(
        revision(&file_url, &GitAuth::none(), GitReference::branch("main")).await,
        format!("main@sha1:{}", f.c2)
    );
    let path = f.bare.display().to_string();
    assert_eq!(
        revision(&path, &GitAuth::none(), GitReference::tag("v1.0.0")).await,
        format!("v1.0.0@sha1:{}", f.c1)
    );
}

#[tokio::test]
async fn a_new_commit_changes_the_revision_and_an_unchanged_remote_downloads_nothing() {
    let mut f = fixture();
    let server = GitHttpServer::start(GitHttpConfig::new(f.root.path())).unwrap();
    let url = server.url("app.git");
    let spec = GitSourceSpec::new(&url).with_reference(GitReference::branch("main"));
    let first = revision(&url, &GitAuth::none(), GitReference::branch("main")).await;
    assert_eq!(server.fetch_count(), 1);

    match fetch(&spec, &GitAuth::none(), Some(&first)).await.unwrap() {
        FetchOutcome::Unchanged { revision } => assert_eq!(revision, first),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        server.fetch_count(),
        1,
        "the no-op check must not download a pack"
    );

    let next = f.advance_main("deploy/new.yaml", "kind: Secret\n");
    match fetch(&spec, &GitAuth::none(), Some(&first)).await.unwrap() {
        FetchOutcome::Fetched(c) => {
            assert_eq!(c.revision(), format!("main@sha1:{next}"));
            assert_eq!(c.commit(), next);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(server.fetch_count(), 2);
}

#[tokio::test]
async fn missing_references_are_named() {
    let f = fixture();
    let url = format!("file://{}", f.bare.display());
    let cases = [
        (GitReference::branch("nope"), "branch 'nope' not found"),
        (GitReference::tag("v9"), "tag 'v9' not found"),
        (
            GitReference::name("refs/pull/9/head"),
            "ref 'refs/pull/9/head' not found",
        ),
        (
            GitReference::semver(">=5.0.0"),
            "no tag matches the semver range '>=5.0.0'",
        ),
        (GitReference::commit(&"0".repeat(40)), "not found"),
        (GitReference::default(), "branch 'master' not found"),
    ];
    for (reference, expected) in cases {
        let spec = GitSourceSpec::new(&url).with_reference(reference.clone());
        let err = fetch(&spec, &GitAuth::none(), None).await.unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains(expected) && text.contains(&url),
            "{reference:?}: {text}"
        );
    }
    let spec = GitSourceSpec::new(&url).with_reference(GitReference::commit("abc123"));
    let err = fetch(&spec, &GitAuth::none(), None).await.unwrap_err();
    assert!(matches!(err.kind, FetchErrorKind::InvalidSpec(_)), "{err}");
}

#[tokio::test]
async fn a_silent_remote_times_out() {
    // Accepts connections (the kernel's backlog) and never answers.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "http://127.0.0.1:{}/app.git",
        listener.local_addr().unwrap().port()
    );
    let mut spec = GitSourceSpec::new(&url).with_reference(GitReference::branch("main"));
    spec.timeout = Duration::from_secs(1);
    let err = fetch(&spec, &GitAuth::none(), None).await.unwrap_err();
    assert!(matches!(err.kind, FetchErrorKind::Timeout(_)), "{err}");
    drop(listener);
}
