//! `tether bootstrap github|gitlab`: the repository is found or created through the provider's
//! REST API, a read-only deploy key for the cluster is added (replacing a stale one of the same
//! title), then the Git steps run as for `bootstrap git`: the CLI pushes over HTTPS with the token,
//! the cluster fetches over SSH with the deploy key (or over HTTPS with the token when
//! `--token-auth`).
//!
//! Endpoints used. GitHub (`https://api.github.com`, or `https://HOST/api/v3`): `GET /user`,
//! `GET /repos/{owner}/{repo}`, `POST /user/repos` or `POST /orgs/{owner}/repos`,
//! `GET|POST /repos/{owner}/{repo}/keys`, `DELETE /repos/{owner}/{repo}/keys/{id}`. GitLab
//! (`https://gitlab.com/api/v4`, or `https://HOST/api/v4`): `GET /user`, `GET /projects/{path}`,
//! `GET /groups/{owner}`, `POST /projects`, `GET|POST /projects/{id}/deploy_keys`,
//! `DELETE /projects/{id}/deploy_keys/{key}`.

use anyhow::{Context as _, bail};
use serde_json::{Value, json};

use super::{CommonArgs, Plan, PushAuth};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    GitHub,
    GitLab,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::GitHub => "GitHub",
            Kind::GitLab => "GitLab",
        }
    }

    fn token_env(self) -> &'static str {
        match self {
            Kind::GitHub => "GITHUB_TOKEN",
            Kind::GitLab => "GITLAB_TOKEN",
        }
    }

    /// The user name that goes with a token over HTTPS.
    fn token_user(self) -> &'static str {
        match self {
            Kind::GitHub => "git",
            Kind::GitLab => "oauth2",
        }
    }
}

#[derive(Debug, clap::Args)]
pub struct ProviderArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// The user or organization (GitHub) / group (GitLab) owning the repository.
    #[arg(long)]
    pub owner: String,
    /// The repository's name.
    #[arg(long)]
    pub repository: String,
    /// The owner is the token's user, not an organization or group.
    #[arg(long)]
    pub personal: bool,
    /// Create the repository private (`--private=false` for public).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    pub private: bool,
    /// The provider's host for self-hosted instances (GitHub Enterprise, GitLab CE/EE).
    #[arg(long)]
    pub hostname: Option<String>,
    /// The REST API's base URL, when it is not where `--hostname` implies.
    #[arg(long, value_name = "URL")]
    pub api_url: Option<String>,
    /// The cluster fetches over HTTPS with the token instead of SSH with a deploy key.
    #[arg(long)]
    pub token_auth: bool,
    /// Title of the deploy key.
    #[arg(long, default_value = "tether")]
    pub deploy_key_title: String,
    /// `known_hosts` for the provider's SSH host; without it the key is scanned.
    #[arg(long, value_name = "FILE")]
    pub known_hosts_file: Option<std::path::PathBuf>,
}

pub fn run(kind: Kind, args: ProviderArgs) -> anyhow::Result<()> {
    let token = std::env::var(kind.token_env())
        .ok()
        .filter(|t| !t.trim().is_empty());
    let Some(token) = token else {
        bail!(
            "{} is not set: export a personal access token of {} with rights to create repositories and deploy keys",
            kind.token_env(),
            kind.name()
        );
    };
    super::validate_path(&args.common.path)?;
    super::super::runtime()?.block_on(async {
        let api = Client::new(kind, &args, token.trim())?;
        let repo = api.ensure_repository(&args).await?;
        let kube = args.common.cluster.client().await?;
        let plan = api.plan(&args, &repo, &kube).await?;
        super::bootstrap(&args.common, plan).await
    })
}

/// The repository as the provider describes it.
#[derive(Debug)]
struct Repository {
    /// GitHub's `owner/repo`, GitLab's numeric project id.
    id: String,
    https_url: String,
    ssh_url: String,
}

struct Client {
    kind: Kind,
    base: String,
    token: String,
    http: reqwest::Client,
}

impl Client {
    fn new(kind: Kind, args: &ProviderArgs, token: &str) -> anyhow::Result<Client> {
        let base = match (&args.api_url, &args.hostname, kind) {
            (Some(url), _, _) => url.trim_end_matches('/').to_owned(),
            (None, Some(host), Kind::GitHub) => format!("https://{host}/api/v3"),
            (None, Some(host), Kind::GitLab) => format!("https://{host}/api/v4"),
            (None, None, Kind::GitHub) => "https://api.github.com".to_owned(),
            (None, None, Kind::GitLab) => "https://gitlab.com/api/v4".to_owned(),
        };
        let http = reqwest::Client::builder()
            .user_agent(concat!("tether/", env!("CARGO_PKG_VERSION")))
            .timeout(std::time::Duration::from_secs(30))
            .build()
            .context("cannot build an HTTP client")?;
        Ok(Client {
            kind,
            base,
            token: token.to_owned(),
            http,
        })
    }

    /// Sends a request; `None` for 404, the JSON body otherwise, an error naming the endpoint
    /// and the provider's message for any other failure.
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<Option<Value>> {
        let url = format!("{}{path}", self.base);
        let mut request = self.http.request(method.clone(), &url);
        request = match self.kind {
            Kind::GitHub => request
                .bearer_auth(&self.token)
                .header("Accept", "application/vnd.github+json"),
            Kind::GitLab => request.header("PRIVATE-TOKEN", &self.token),
        };
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request
            .send()
            .await
            .with_context(|| format!("cannot reach {} at {url}", self.kind.name()))?;
        let status = response.status();
        if status == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        let text = response.text().await.unwrap_or_default();
        if !status.is_success() {
            let message = serde_json::from_str::<Value>(&text)
                .ok()
                .and_then(|v| {
                    v["message"]
                        .as_str()
                        .map(str::to_owned)
                        .or_else(|| v["error"].as_str().map(str::to_owned))
                })
                .unwrap_or(text);
            let hint = if status == reqwest::StatusCode::UNAUTHORIZED {
                format!(" (is {} valid?)", self.kind.token_env())
            } else {
                String::new()
            };
            bail!(
                "{} {method} {path}: {status}: {message}{hint}",
                self.kind.name()
            );
        }
        if text.trim().is_empty() {
            return Ok(Some(Value::Null));
        }
        serde_json::from_str(&text).map(Some).with_context(|| {
            format!(
                "{} {method} {path}: the answer is not JSON",
                self.kind.name()
            )
        })
    }

    async fn ensure_repository(&self, args: &ProviderArgs) -> anyhow::Result<Repository> {
        let user = self
            .call(reqwest::Method::GET, "/user", None)
            .await?
            .context("the token's user was not found")?;
        let login = user[match self.kind {
            Kind::GitHub => "login",
            Kind::GitLab => "username",
        }]
        .as_str()
        .unwrap_or_default()
        .to_owned();
        if args.personal && !login.is_empty() && login != args.owner {
            bail!(
                "--owner '{}' with --personal, but the token belongs to '{login}'",
                args.owner
            );
        }
        let full = format!("{}/{}", args.owner, args.repository);
        let found = match self.kind {
            Kind::GitHub => {
                self.call(reqwest::Method::GET, &format!("/repos/{full}"), None)
                    .await?
            }
            Kind::GitLab => {
                let path = full.replace('/', "%2F");
                self.call(reqwest::Method::GET, &format!("/projects/{path}"), None)
                    .await?
            }
        };
        let repo = match found {
            Some(repo) => {
                eprintln!("✔ repository {full} exists");
                repo
            }
            None => {
                eprintln!("► creating repository {full}");
                let repo = self.create(args).await?;
                eprintln!("✔ repository {full} created");
                repo
            }
        };
        self.describe(&repo, &full)
    }

    async fn create(&self, args: &ProviderArgs) -> anyhow::Result<Value> {
        let created = match self.kind {
            Kind::GitHub => {
                let path = if args.personal {
                    "/user/repos".to_owned()
                } else {
                    format!("/orgs/{}/repos", args.owner)
                };
                let body =
                    json!({"name": args.repository, "private": args.private, "auto_init": true});
                self.call(reqwest::Method::POST, &path, Some(body)).await?
            }
            Kind::GitLab => {
                let mut body = json!({
                    "name": args.repository,
                    "path": args.repository,
                    "visibility": if args.private { "private" } else { "public" },
                    "initialize_with_readme": true,
                });
                if !args.personal {
                    let group = self
                        .call(
                            reqwest::Method::GET,
                            &format!("/groups/{}", args.owner.replace('/', "%2F")),
                            None,
                        )
                        .await?
                        .with_context(|| format!("GitLab group '{}' not found", args.owner))?;
                    body["namespace_id"] = group["id"].clone();
                }
                self.call(reqwest::Method::POST, "/projects", Some(body))
                    .await?
            }
        };
        created.with_context(|| {
            format!(
                "{} answered 404 creating {}/{}",
                self.kind.name(),
                args.owner,
                args.repository
            )
        })
    }

    fn describe(&self, repo: &Value, full: &str) -> anyhow::Result<Repository> {
        let field = |name: &str| {
            repo[name].as_str().map(str::to_owned).with_context(|| {
                format!(
                    "{}'s description of {full} has no '{name}'",
                    self.kind.name()
                )
            })
        };
        Ok(match self.kind {
            Kind::GitHub => Repository {
                id: full.to_owned(),
                https_url: field("clone_url")?,
                ssh_url: ssh_url(&field("ssh_url")?),
            },
            Kind::GitLab => Repository {
                id: repo["id"]
                    .as_u64()
                    .map(|i| i.to_string())
                    .with_context(|| format!("GitLab's description of {full} has no 'id'"))?,
                https_url: field("http_url_to_repo")?,
                ssh_url: ssh_url(&field("ssh_url_to_repo")?),
            },
        })
    }

    fn keys_path(&self, repo: &Repository) -> String {
        match self.kind {
            Kind::GitHub => format!("/repos/{}/keys", repo.id),
            Kind::GitLab => format!("/projects/{}/deploy_keys", repo.id),
        }
    }

    /// Adds `public_key` as a read-only deploy key titled `title`, replacing a different key of
    /// that title; nothing when it is already there.
    async fn ensure_deploy_key(
        &self,
        repo: &Repository,
        title: &str,
        public_key: &str,
    ) -> anyhow::Result<()> {
        let path = self.keys_path(repo);
        let keys = self
            .call(reqwest::Method::GET, &path, None)
            .await?
            .unwrap_or(Value::Null);
        let wanted = key_material(public_key);
        for key in keys.as_array().into_iter().flatten() {
            if key["title"].as_str() != Some(title) {
                continue;
            }
            if key["key"].as_str().map(key_material) == Some(wanted) {
                eprintln!("✔ deploy key '{title}' is up to date");
                return Ok(());
            }
            let id = key["id"].as_u64().unwrap_or_default();
            self.call(reqwest::Method::DELETE, &format!("{path}/{id}"), None)
                .await?;
        }
        let body = match self.kind {
            Kind::GitHub => json!({"title": title, "key": public_key, "read_only": true}),
            Kind::GitLab => json!({"title": title, "key": public_key, "can_push": false}),
        };
        self.call(reqwest::Method::POST, &path, Some(body)).await?;
        eprintln!("✔ deploy key '{title}' added (read-only)");
        Ok(())
    }

    /// How the CLI pushes and the cluster fetches.
    async fn plan(
        &self,
        args: &ProviderArgs,
        repo: &Repository,
        kube: &kube::Client,
    ) -> anyhow::Result<Plan> {
        let push_auth = PushAuth {
            basic: Some((self.kind.token_user().to_owned(), self.token.clone())),
            ..PushAuth::default()
        };
        if args.token_auth {
            let mut data = serde_json::Map::new();
            data.insert("username".into(), self.kind.token_user().into());
            data.insert("password".into(), self.token.clone().into());
            return Ok(Plan {
                push_url: repo.https_url.clone(),
                push_auth,
                sync_url: repo.https_url.clone(),
                secret: Some(data),
                deploy_key: None,
                _scratch: None,
            });
        }
        let (host, port) = super::ssh_host(&repo.ssh_url)
            .with_context(|| format!("cannot read the SSH URL {}", repo.ssh_url))?;
        let known_hosts = match &args.known_hosts_file {
            Some(path) => crate::cli::install::read_file(path)?,
            None => super::scan_host_keys(&host, port)?,
        };
        // A second run keeps the cluster's key, so the deploy key stays as it is.
        let ns = &args.common.cluster.namespace;
        let pair = match existing_key(kube, ns).await? {
            Some(pair) => pair,
            None => crate::cli::keys::generate_ed25519(&args.deploy_key_title)?,
        };
        self.ensure_deploy_key(repo, &args.deploy_key_title, &pair.public_openssh)
            .await?;
        let mut data = serde_json::Map::new();
        data.insert("identity".into(), pair.private_openssh.into());
        data.insert("identity.pub".into(), pair.public_openssh.into());
        data.insert("known_hosts".into(), known_hosts.into());
        Ok(Plan {
            push_url: repo.https_url.clone(),
            push_auth,
            sync_url: repo.ssh_url.clone(),
            secret: Some(data),
            deploy_key: None,
            _scratch: None,
        })
    }
}

/// The key pair in the source Secret bootstrap wrote before (`<ns>/<ns>`), if any.
async fn existing_key(
    kube: &kube::Client,
    namespace: &str,
) -> anyhow::Result<Option<crate::cli::keys::KeyPair>> {
    let secrets: kube::Api<k8s_openapi::api::core::v1::Secret> =
        kube::Api::namespaced(kube.clone(), namespace);
    let secret = secrets
        .get_opt(namespace)
        .await
        .with_context(|| format!("cannot read the source Secret {namespace}/{namespace}"))?;
    let data = secret.and_then(|s| s.data).unwrap_or_default();
    let text = |key: &str| {
        data.get(key)
            .and_then(|b| String::from_utf8(b.0.clone()).ok())
    };
    Ok(match (text("identity"), text("identity.pub")) {
        (Some(private_openssh), Some(public_openssh)) => Some(crate::cli::keys::KeyPair {
            private_openssh,
            public_openssh: public_openssh.trim().to_owned(),
        }),
        _ => None,
    })
}

/// `git@host:owner/repo.git` as `ssh://git@host/owner/repo.git` (what GitRepository takes).
fn ssh_url(url: &str) -> String {
    if url.contains("://") {
        return url.to_owned();
    }
    match url.split_once(':') {
        Some((user_host, path)) => format!("ssh://{user_host}/{}", path.trim_start_matches('/')),
        None => url.to_owned(),
    }
}

/// The key type and base64 of a public key line, without its comment.
fn key_material(line: &str) -> (&str, &str) {
    let mut fields = line.split_whitespace();
    (
        fields.next().unwrap_or_default(),
        fields.next().unwrap_or_default(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scp_like_urls_become_ssh_urls() {
        assert_eq!(
            ssh_url("git@github.com:org/fleet.git"),
            "ssh://git@github.com/org/fleet.git"
        );
        assert_eq!(
            ssh_url("ssh://git@host:2222/x.git"),
            "ssh://git@host:2222/x.git"
        );
    }

    #[test]
    fn deploy_keys_compare_without_comments() {
        assert_eq!(
            key_material("ssh-ed25519 AAAA tether"),
            key_material("ssh-ed25519 AAAA other")
        );
        assert_ne!(
            key_material("ssh-ed25519 AAAA"),
            key_material("ssh-ed25519 BBBB")
        );
    }
}
