//! `tether bootstrap github` and `tether bootstrap gitlab` against a stand-in for the providers'
//! REST APIs (GitHub and GitLab cannot run here; this is the one place a stand-in is used). The
//! stand-in keeps repositories as bare Git repositories served by a real smart-HTTP server (the
//! CLI pushes there with the token) and a real sshd (the cluster fetches there); adding a deploy
//! key through the API authorizes it on the sshd, so the cluster syncs only if the key was added.
//!
//! Endpoints and payloads answered (only what `tether bootstrap` sends):
//! - GitHub, under `/github`, `Authorization: Bearer <token>`: `GET /user` → `{"login"}`;
//!   `GET /repos/{owner}/{repo}` → `{"full_name","clone_url","ssh_url"}` or 404;
//!   `POST /user/repos` and `POST /orgs/{org}/repos` `{"name","private","auto_init"}` → 201 and
//!   the repository; `GET /repos/{o}/{r}/keys` → `[{"id","title","key","read_only"}]`;
//!   `POST /repos/{o}/{r}/keys` `{"title","key","read_only"}` → 201; `DELETE …/keys/{id}` → 204.
//! - GitLab, under `/gitlab/api/v4`, `PRIVATE-TOKEN: <token>`: `GET /user` → `{"username"}`;
//!   `GET /projects/{owner%2Frepo | id}` → `{"id","path_with_namespace","http_url_to_repo",
//!   "ssh_url_to_repo"}` or 404; `GET /groups/{group}` → `{"id","full_path"}`;
//!   `POST /projects` `{"name","path","namespace_id"?,"visibility","initialize_with_readme"}`;
//!   `GET|POST /projects/{id}/deploy_keys` (`{"title","key","can_push"}`);
//!   `DELETE /projects/{id}/deploy_keys/{key}`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a panic is a failed assertion.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use common::{client, dev};
use kube::api::Api;
use serde_json::{Value, json};
use tether_api::{GitRepository, Kustomization};
use tether_testkit::{GitHttpConfig, GitHttpServer, SshGitServer, init_bare};

const TOKEN: &str = "tok-123";
/// GitLab's id of the group `team`.
const TEAM_ID: u64 = 7;

struct Config {
    root: PathBuf,
    github_git: String,
    gitlab_git: String,
    sshd: Arc<SshGitServer>,
}

#[derive(Default)]
struct State {
    /// Repositories by `owner/name`, with GitLab's numeric id.
    repos: BTreeMap<String, u64>,
    /// Deploy keys by `owner/name`.
    keys: BTreeMap<String, Vec<Value>>,
    /// `METHOD /path` of every request, in order.
    log: Vec<String>,
    next_id: u64,
}

#[derive(Clone)]
struct Fake {
    config: Arc<Config>,
    state: Arc<Mutex<State>>,
}

fn reply(status: StatusCode, body: Value) -> Response {
    (status, axum::Json(body)).into_response()
}

fn not_found() -> Response {
    reply(StatusCode::NOT_FOUND, json!({"message": "Not Found"}))
}

impl Fake {
    fn bare(&self, full: &str) -> PathBuf {
        self.config.root.join(format!("{full}.git"))
    }

    /// Creates `full` as GitHub does with `auto_init`: a bare repository with one commit.
    fn create(&self, full: &str) -> u64 {
        let bare = init_bare(&self.bare(full)).unwrap();
        let work = tempfile::tempdir().unwrap();
        let git = |args: &[&str]| {
            let out = Command::new("git")
                .args([
                    "-c",
                    "user.name=p",
                    "-c",
                    "user.email=p@p",
                    "-c",
                    "commit.gpgsign=false",
                ])
                .args(args)
                .current_dir(work.path())
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "git {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        git(&["init", "-q", "-b", "main"]);
        std::fs::write(work.path().join("README.md"), format!("# {full}\n")).unwrap();
        git(&["add", "-A"]);
        git(&["commit", "-q", "-m", "Initial commit"]);
        git(&["push", "-q", bare.to_str().unwrap(), "main"]);
        let mut state = self.state.lock().unwrap();
        state.next_id += 1;
        let id = state.next_id;
        state.repos.insert(full.to_owned(), id);
        id
    }

    fn github_repo(&self, full: &str) -> Value {
        json!({
            "full_name": full,
            "clone_url": format!("{}/{full}.git", self.config.github_git),
            "ssh_url": self.config.sshd.url(&self.bare(full)),
        })
    }

    fn gitlab_project(&self, full: &str, id: u64) -> Value {
        json!({
            "id": id,
            "path_with_namespace": full,
            "http_url_to_repo": format!("{}/{full}.git", self.config.gitlab_git),
            "ssh_url_to_repo": self.config.sshd.url(&self.bare(full)),
        })
    }

    fn add_key(&self, full: &str, mut key: Value) -> Response {
        let public = key["key"].as_str().unwrap().to_owned();
        self.config.sshd.authorize(&public).unwrap();
        let mut state = self.state.lock().unwrap();
        state.next_id += 1;
        key["id"] = json!(state.next_id);
        state
            .keys
            .entry(full.to_owned())
            .or_default()
            .push(key.clone());
        reply(StatusCode::CREATED, key)
    }

    fn delete_key(&self, full: &str, id: &str) -> Response {
        let mut state = self.state.lock().unwrap();
        let keys = state.keys.entry(full.to_owned()).or_default();
        keys.retain(|k| k["id"].as_u64().map(|n| n.to_string()).as_deref() != Some(id));
        StatusCode::NO_CONTENT.into_response()
    }

    fn keys(&self, full: &str) -> Vec<Value> {
        self.state
            .lock()
            .unwrap()
            .keys
            .get(full)
            .cloned()
            .unwrap_or_default()
    }

    fn log(&self) -> Vec<String> {
        self.state.lock().unwrap().log.clone()
    }

    fn github(&self, method: &Method, path: &str, headers: &HeaderMap, body: &Value) -> Response {
        if headers.get("authorization").and_then(|v| v.to_str().ok())
            != Some(&format!("Bearer {TOKEN}"))
        {
            return reply(
                StatusCode::UNAUTHORIZED,
                json!({"message": "Bad credentials"}),
            );
        }
        let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let exists = |full: &str| self.state.lock().unwrap().repos.contains_key(full);
        match (method.as_str(), parts.as_slice()) {
            ("GET", ["user"]) => reply(StatusCode::OK, json!({"login": "me"})),
            ("GET", ["repos", o, r]) => {
                let full = format!("{o}/{r}");
                if exists(&full) {
                    reply(StatusCode::OK, self.github_repo(&full))
                } else {
                    not_found()
                }
            }
            ("POST", ["user", "repos"]) | ("POST", ["orgs", _, "repos"]) => {
                let owner = if parts[0] == "user" { "me" } else { parts[1] };
                let full = format!("{owner}/{}", body["name"].as_str().unwrap());
                assert_eq!(body["auto_init"], true, "{body}");
                self.create(&full);
                reply(StatusCode::CREATED, self.github_repo(&full))
            }
            ("GET", ["repos", o, r, "keys"]) => {
                reply(StatusCode::OK, json!(self.keys(&format!("{o}/{r}"))))
            }
            ("POST", ["repos", o, r, "keys"]) => {
                assert_eq!(
                    body["read_only"], true,
                    "deploy keys must be read-only: {body}"
                );
                self.add_key(&format!("{o}/{r}"), body.clone())
            }
            ("DELETE", ["repos", o, r, "keys", id]) => self.delete_key(&format!("{o}/{r}"), id),
            _ => not_found(),
        }
    }

    fn gitlab(&self, method: &Method, path: &str, headers: &HeaderMap, body: &Value) -> Response {
        if headers.get("private-token").and_then(|v| v.to_str().ok()) != Some(TOKEN) {
            return reply(
                StatusCode::UNAUTHORIZED,
                json!({"message": "401 Unauthorized"}),
            );
        }
        let parts: Vec<String> = path
            .trim_start_matches('/')
            .split('/')
            .map(|p| p.replace("%2F", "/"))
            .collect();
        let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
        let find = |key: &str| {
            let state = self.state.lock().unwrap();
            state
                .repos
                .iter()
                .find(|(full, id)| *full == key || id.to_string() == key)
                .map(|(full, id)| (full.clone(), *id))
        };
        match (method.as_str(), parts.as_slice()) {
            ("GET", ["user"]) => reply(StatusCode::OK, json!({"username": "me"})),
            ("GET", ["groups", "team"]) => {
                reply(StatusCode::OK, json!({"id": TEAM_ID, "full_path": "team"}))
            }
            ("GET", ["projects", key]) => match find(key) {
                Some((full, id)) => reply(StatusCode::OK, self.gitlab_project(&full, id)),
                None => not_found(),
            },
            ("POST", ["projects"]) => {
                let owner = if body["namespace_id"] == json!(TEAM_ID) {
                    "team"
                } else {
                    "me"
                };
                let full = format!("{owner}/{}", body["path"].as_str().unwrap());
                assert_eq!(body["visibility"], "private", "{body}");
                let id = self.create(&full);
                reply(StatusCode::CREATED, self.gitlab_project(&full, id))
            }
            ("GET", ["projects", key, "deploy_keys"]) => match find(key) {
                Some((full, _)) => reply(StatusCode::OK, json!(self.keys(&full))),
                None => not_found(),
            },
            ("POST", ["projects", key, "deploy_keys"]) => match find(key) {
                Some((full, _)) => {
                    assert_eq!(
                        body["can_push"], false,
                        "deploy keys must be read-only: {body}"
                    );
                    self.add_key(&full, body.clone())
                }
                None => not_found(),
            },
            ("DELETE", ["projects", key, "deploy_keys", id]) => match find(key) {
                Some((full, _)) => self.delete_key(&full, id),
                None => not_found(),
            },
            _ => not_found(),
        }
    }
}

async fn handle(
    axum::extract::State(fake): axum::extract::State<Fake>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_owned();
    fake.state
        .lock()
        .unwrap()
        .log
        .push(format!("{method} {path}"));
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    if let Some(rest) = path.strip_prefix("/github") {
        fake.github(&method, rest, &headers, &body)
    } else if let Some(rest) = path.strip_prefix("/gitlab/api/v4") {
        fake.gitlab(&method, rest, &headers, &body)
    } else {
        not_found()
    }
}

/// The stand-in API on 127.0.0.1; its base URL.
async fn serve(fake: Fake) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new().fallback(handle).with_state(fake);
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

struct World {
    dir: tempfile::TempDir,
    fake: Fake,
    api: String,
    known_hosts: PathBuf,
    _github_git: GitHttpServer,
    _gitlab_git: GitHttpServer,
}

async fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("repos");
    std::fs::create_dir_all(&root).unwrap();
    let github_git =
        GitHttpServer::start(GitHttpConfig::new(&root).with_basic_auth("git", TOKEN)).unwrap();
    let gitlab_git =
        GitHttpServer::start(GitHttpConfig::new(&root).with_basic_auth("oauth2", TOKEN)).unwrap();
    let sshd = Arc::new(SshGitServer::start().unwrap());
    let known_hosts = dir.path().join("known_hosts");
    std::fs::write(&known_hosts, sshd.known_hosts()).unwrap();
    let fake = Fake {
        config: Arc::new(Config {
            root,
            github_git: github_git.url("").trim_end_matches('/').to_owned(),
            gitlab_git: gitlab_git.url("").trim_end_matches('/').to_owned(),
            sshd,
        }),
        state: Arc::default(),
    };
    let api = serve(fake.clone()).await;
    World {
        dir,
        fake,
        api,
        known_hosts,
        _github_git: github_git,
        _gitlab_git: gitlab_git,
    }
}

fn tether(kubeconfig: &Path, args: &[&str], token: Option<(&str, &str)>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tether"));
    cmd.args(args)
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .env("NO_COLOR", "1")
        .env_remove("GITHUB_TOKEN")
        .env_remove("GITLAB_TOKEN")
        .env_remove("TETHER_NAMESPACE");
    if let Some((name, value)) = token {
        cmd.env(name, value);
    }
    cmd.output().unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn files(bare: &Path) -> String {
    let out = Command::new("git")
        .arg("--git-dir")
        .arg(bare)
        .args(["ls-tree", "-r", "--name-only", "main"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

fn head(bare: &Path) -> String {
    let out = Command::new("git")
        .arg("--git-dir")
        .arg(bare)
        .args(["rev-parse", "main"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bootstrap_github_creates_the_repository_and_a_read_only_deploy_key() {
    let w = world().await;
    let (_dev, kubeconfig) = dev(w.dir.path(), "github");
    let api = format!("{}/github", w.api);
    let known_hosts = w.known_hosts.to_str().unwrap();
    let args = [
        "bootstrap",
        "github",
        "--owner=me",
        "--repository=fleet",
        "--personal",
        "--path=clusters/dev",
        "--api-url",
        &api,
        "--known-hosts-file",
        known_hosts,
        "--silent",
        "--timeout=2m",
    ];

    // No token: refused before any request.
    let out = tether(&kubeconfig, &args, None);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("GITHUB_TOKEN is not set"),
        "{}",
        stderr(&out)
    );
    assert!(
        w.fake.log().is_empty(),
        "requests without a token: {:?}",
        w.fake.log()
    );
    // A bad token: the provider's message, nothing created.
    let out = tether(&kubeconfig, &args, Some(("GITHUB_TOKEN", "wrong")));
    assert!(!out.status.success());
    let message = stderr(&out);
    assert!(
        message.contains(
            "GitHub GET /user: 401 Unauthorized: Bad credentials (is GITHUB_TOKEN valid?)"
        ),
        "{message}"
    );
    // --personal with someone else's name.
    let mut other = args.to_vec();
    other[2] = "--owner=someone";
    let out = tether(&kubeconfig, &other, Some(("GITHUB_TOKEN", TOKEN)));
    assert!(
        stderr(&out).contains("--owner 'someone' with --personal, but the token belongs to 'me'"),
        "{}",
        stderr(&out)
    );
    assert!(
        w.fake.state.lock().unwrap().repos.is_empty(),
        "bad input created a repository"
    );

    let out = tether(&kubeconfig, &args, Some(("GITHUB_TOKEN", TOKEN)));
    let text = stderr(&out);
    assert!(
        out.status.success(),
        "bootstrap github failed:\n{text}\nsshd:\n{}",
        w.fake.config.sshd.log()
    );
    assert!(
        text.contains("✔ repository me/fleet created")
            && text.contains("✔ deploy key 'tether' added (read-only)"),
        "{text}"
    );
    let log = w.fake.log();
    for call in [
        "GET /github/user",
        "GET /github/repos/me/fleet",
        "POST /github/user/repos",
        "GET /github/repos/me/fleet/keys",
        "POST /github/repos/me/fleet/keys",
    ] {
        assert!(log.contains(&call.to_owned()), "missing {call}: {log:?}");
    }
    let keys = w.fake.keys("me/fleet");
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0]["title"], "tether");
    let bare = w.fake.bare("me/fleet");
    assert_eq!(
        files(&bare),
        "README.md\nclusters/dev/tether-system/components.yaml\nclusters/dev/tether-system/kustomization.yaml\nclusters/dev/tether-system/sync.yaml"
    );
    // The cluster fetches over SSH with the deploy key.
    let kube = client(&kubeconfig).await;
    let source = Api::<GitRepository>::namespaced(kube.clone(), "tether-system")
        .get("tether-system")
        .await
        .unwrap();
    assert_eq!(source.spec.url, w.fake.config.sshd.url(&bare));
    let ks = Api::<Kustomization>::namespaced(kube.clone(), "tether-system")
        .get("tether-system")
        .await
        .unwrap();
    assert_eq!(
        ks.status.unwrap().last_applied_revision,
        Some(format!("main@sha1:{}", head(&bare)))
    );

    // Again: the same repository, key and commit.
    let before = head(&bare);
    let out = tether(&kubeconfig, &args, Some(("GITHUB_TOKEN", TOKEN)));
    let text = stderr(&out);
    assert!(out.status.success(), "second bootstrap failed:\n{text}");
    assert!(
        text.contains("✔ repository me/fleet exists")
            && text.contains("✔ deploy key 'tether' is up to date"),
        "{text}"
    );
    assert_eq!(head(&bare), before);
    assert_eq!(w.fake.keys("me/fleet").len(), 1);
    let posts = w
        .fake
        .log()
        .iter()
        .filter(|c| c.starts_with("POST /github/repos/me/fleet/keys"))
        .count();
    assert_eq!(posts, 1, "the deploy key was added twice");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bootstrap_gitlab_creates_a_group_project_and_a_read_only_deploy_key() {
    let w = world().await;
    let (_dev, kubeconfig) = dev(w.dir.path(), "gitlab");
    let api = format!("{}/gitlab/api/v4", w.api);
    let known_hosts = w.known_hosts.to_str().unwrap();
    let args = [
        "bootstrap",
        "gitlab",
        "--owner=team",
        "--repository=fleet",
        "--path=clusters/prod",
        "--api-url",
        &api,
        "--known-hosts-file",
        known_hosts,
        "--silent",
        "--timeout=2m",
    ];
    let out = tether(&kubeconfig, &args, None);
    assert!(
        stderr(&out).contains("GITLAB_TOKEN is not set"),
        "{}",
        stderr(&out)
    );
    assert!(w.fake.log().is_empty());

    let out = tether(&kubeconfig, &args, Some(("GITLAB_TOKEN", TOKEN)));
    let text = stderr(&out);
    assert!(
        out.status.success(),
        "bootstrap gitlab failed:\n{text}\nsshd:\n{}",
        w.fake.config.sshd.log()
    );
    let log = w.fake.log();
    for call in [
        "GET /gitlab/api/v4/projects/team%2Ffleet",
        "GET /gitlab/api/v4/groups/team",
        "POST /gitlab/api/v4/projects",
        "POST /gitlab/api/v4/projects/1/deploy_keys",
    ] {
        assert!(log.contains(&call.to_owned()), "missing {call}: {log:?}");
    }
    let keys = w.fake.keys("team/fleet");
    assert_eq!(keys.len(), 1, "{keys:?}");
    let bare = w.fake.bare("team/fleet");
    assert!(files(&bare).contains("clusters/prod/tether-system/sync.yaml"));
    let kube = client(&kubeconfig).await;
    let ks = Api::<Kustomization>::namespaced(kube.clone(), "tether-system")
        .get("tether-system")
        .await
        .unwrap();
    assert_eq!(
        ks.status.unwrap().last_applied_revision,
        Some(format!("main@sha1:{}", head(&bare)))
    );
}
