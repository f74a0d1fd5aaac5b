//! `tether bootstrap`: Flux's bootstrap, step for step. Clone the branch, commit the components
//! to `<path>/tether-system/components.yaml`, push, install them, create the source Secret, commit
//! and push `sync.yaml` (the GitRepository and Kustomization that make the cluster follow the
//! repository), apply it, and wait until both are Ready at the pushed commit. Each step is
//! skipped when its result is already there, so a second run changes nothing, and a fresh
//! cluster bootstrapped onto an existing path becomes what that path describes.
//!
//! A path Flux bootstrapped (`<path>/flux-system/gotk-sync.yaml`) is taken over in place: its
//! `gotk-components.yaml` gets tether's components (Flux's other CRDs are kept, so no custom
//! resource is lost), its sync objects keep their names, and nothing in the cluster is recreated.

mod git;
mod layout;
pub mod provider;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use kube::api::{Api, Patch, PatchParams};
use serde_json::{Value, json};
use tether_api::{GitRepository, Kustomization};
use tether_apply::Owner;

use super::ClusterArgs;
use super::components::{self, ComponentFlags};
use super::progress::Progress;
pub use git::PushAuth;
use layout::Layout;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub provider: ProviderCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum ProviderCommand {
    /// Bootstrap from any Git server (SSH, HTTPS or file://).
    Git(GitArgs),
    /// Bootstrap from GitHub: create the repository when missing and add a deploy key.
    Github(provider::ProviderArgs),
    /// Bootstrap from GitLab: create the project when missing and add a deploy key.
    Gitlab(provider::ProviderArgs),
}

/// What every provider shares.
#[derive(Debug, Clone, clap::Args)]
pub struct CommonArgs {
    #[command(flatten)]
    pub cluster: ClusterArgs,
    #[command(flatten)]
    pub components: ComponentFlags,
    /// Branch the cluster follows (created when missing).
    #[arg(long, default_value = "main")]
    pub branch: String,
    /// Directory of this cluster in the repository, e.g. `clusters/staging`.
    #[arg(long)]
    pub path: String,
    /// How often the cluster fetches the repository.
    #[arg(long, default_value = "1m")]
    pub interval: String,
    /// Author of the commits bootstrap makes.
    #[arg(long, default_value = "tether")]
    pub author_name: String,
    #[arg(long, default_value = "tether@users.noreply.localhost")]
    pub author_email: String,
    /// Do not ask for confirmation (e.g. to add a generated deploy key).
    #[arg(short, long)]
    pub silent: bool,
}

#[derive(Debug, clap::Args)]
pub struct GitArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// Repository URL: `ssh://`, `https://`, `http://` or `file://`.
    #[arg(long)]
    pub url: String,
    /// SSH private key to push with and to store for the cluster; without it a new ed25519 key
    /// is generated for the cluster and you add its public half to the repository.
    #[arg(long, value_name = "FILE")]
    pub private_key_file: Option<PathBuf>,
    /// Passphrase of the SSH private key.
    #[arg(long, env = "TETHER_SSH_KEY_PASSWORD", hide_env_values = true)]
    pub ssh_key_password: Option<String>,
    /// `known_hosts` with the server's key; without it the key is scanned (trust on first use).
    #[arg(long, value_name = "FILE")]
    pub known_hosts_file: Option<PathBuf>,
    /// HTTPS user name.
    #[arg(short = 'u', long, default_value = "git")]
    pub username: String,
    /// HTTPS password or access token.
    #[arg(short = 'p', long, env = "GIT_PASSWORD", hide_env_values = true)]
    pub password: Option<String>,
    /// Send the password as a bearer token instead of basic auth.
    #[arg(long, requires = "password")]
    pub token_auth: bool,
    /// PEM CA bundle to trust for HTTPS.
    #[arg(long, value_name = "FILE")]
    pub ca_file: Option<PathBuf>,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    match args.provider {
        ProviderCommand::Git(args) => {
            let plan = git_plan(&args)?;
            super::runtime()?.block_on(bootstrap(&args.common, plan))
        }
        ProviderCommand::Github(args) => provider::run(provider::Kind::GitHub, args),
        ProviderCommand::Gitlab(args) => provider::run(provider::Kind::GitLab, args),
    }
}

/// The repository as the CLI and as the cluster reach it.
#[derive(Debug)]
pub struct Plan {
    /// The URL the CLI pushes to.
    pub push_url: String,
    pub push_auth: PushAuth,
    /// The URL the cluster's GitRepository fetches.
    pub sync_url: String,
    /// The source Secret's data; `None` for a repository that needs none (`file://`).
    pub secret: Option<serde_json::Map<String, Value>>,
    /// A public key the user must grant read access before the cluster can fetch.
    pub deploy_key: Option<String>,
    /// Keeps files (a generated key, scanned host keys) alive while bootstrap runs.
    pub _scratch: Option<tempfile::TempDir>,
}

impl Plan {
    /// A `file://` repository: pushed and fetched at the same URL, with no credentials.
    pub fn local(url: &str) -> Plan {
        Plan {
            push_url: url.to_owned(),
            push_auth: PushAuth::default(),
            sync_url: url.to_owned(),
            secret: None,
            deploy_key: None,
            _scratch: None,
        }
    }
}

fn git_plan(args: &GitArgs) -> anyhow::Result<Plan> {
    validate_path(&args.common.path)?;
    let url = args.url.trim();
    let scheme = url.split_once("://").map(|(s, _)| s);
    match scheme {
        Some("ssh") => ssh_plan(args, url),
        Some("https" | "http") => {
            let mut data = serde_json::Map::new();
            let mut auth = PushAuth {
                ca_file: args.ca_file.clone(),
                ..PushAuth::default()
            };
            if let Some(password) = &args.password {
                if args.token_auth {
                    data.insert("bearerToken".into(), password.clone().into());
                    auth.bearer = Some(password.clone());
                } else {
                    data.insert("username".into(), args.username.clone().into());
                    data.insert("password".into(), password.clone().into());
                    auth.basic = Some((args.username.clone(), password.clone()));
                }
            }
            if let Some(ca) = &args.ca_file {
                data.insert("ca.crt".into(), super::install::read_file(ca)?.into());
            }
            Ok(Plan {
                push_url: url.to_owned(),
                push_auth: auth,
                sync_url: url.to_owned(),
                secret: (!data.is_empty()).then_some(data),
                deploy_key: None,
                _scratch: None,
            })
        }
        Some("file") => Ok(Plan::local(url)),
        _ => bail!(
            "--url '{url}': not a repository URL tether can bootstrap from (use ssh://, https://, http:// or file://)"
        ),
    }
}

fn ssh_plan(args: &GitArgs, url: &str) -> anyhow::Result<Plan> {
    let (host, port) = ssh_host(url)
        .with_context(|| format!("--url '{url}': expected ssh://[user@]host[:port]/path"))?;
    let scratch = tempfile::tempdir().context("cannot create a temporary directory")?;
    let known_hosts = match &args.known_hosts_file {
        Some(path) => super::install::read_file(path)?,
        None => scan_host_keys(&host, port)?,
    };
    let known_hosts_path = scratch.path().join("known_hosts");
    std::fs::write(&known_hosts_path, &known_hosts).context("cannot write known_hosts")?;
    let mut data = serde_json::Map::new();
    data.insert("known_hosts".into(), known_hosts.into());
    let (deploy_key, ssh_key) = match &args.private_key_file {
        Some(path) => {
            data.insert("identity".into(), super::install::read_file(path)?.into());
            if let Some(p) = &args.ssh_key_password {
                data.insert("password".into(), p.clone().into());
            }
            (None, Some(path.clone()))
        }
        None => {
            let pair = super::keys::generate_ed25519("tether")?;
            data.insert("identity".into(), pair.private_openssh.into());
            data.insert("identity.pub".into(), pair.public_openssh.clone().into());
            (Some(pair.public_openssh), None)
        }
    };
    Ok(Plan {
        push_url: url.to_owned(),
        push_auth: PushAuth {
            ssh_key,
            known_hosts: Some(known_hosts_path),
            ..PushAuth::default()
        },
        sync_url: url.to_owned(),
        secret: Some(data),
        deploy_key,
        _scratch: Some(scratch),
    })
}

/// Host and port of `ssh://[user@]host[:port]/path`.
pub fn ssh_host(url: &str) -> Option<(String, u16)> {
    let rest = url.strip_prefix("ssh://")?;
    let authority = rest.split('/').next()?;
    let host_port = authority.rsplit('@').next()?;
    let (host, port) = match host_port.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || h.starts_with('[') => (h, p.parse().ok()?),
        _ => (host_port, 22),
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    (!host.is_empty()).then(|| (host.to_owned(), port))
}

/// The server's host keys as `known_hosts` lines, from `ssh-keyscan`.
pub fn scan_host_keys(host: &str, port: u16) -> anyhow::Result<String> {
    let output = std::process::Command::new("ssh-keyscan")
        .args(["-p", &port.to_string(), "-T", "10", host])
        .output()
        .context("cannot run ssh-keyscan (install openssh-client, or pass --known-hosts-file)")?;
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    if text
        .lines()
        .all(|l| l.starts_with('#') || l.trim().is_empty())
    {
        bail!(
            "cannot read the host keys of {host}:{port}: {} (is the server reachable? or pass --known-hosts-file)",
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    eprintln!("► scanned the host keys of {host}:{port} (pass --known-hosts-file to pin them)");
    Ok(text)
}

/// A cluster path: relative, `/`-separated, without `..`.
pub fn validate_path(path: &str) -> anyhow::Result<()> {
    let trimmed = path.trim_start_matches("./");
    if trimmed.is_empty()
        || trimmed.starts_with('/')
        || trimmed.split('/').any(|s| s == ".." || s == ".")
    {
        bail!("--path '{path}': give a directory inside the repository, e.g. clusters/staging");
    }
    Ok(())
}

/// The steps shared by every provider.
pub async fn bootstrap(common: &CommonArgs, plan: Plan) -> anyhow::Result<()> {
    tether_api::Duration::parse(&common.interval)
        .map_err(|e| anyhow::anyhow!("--interval '{}': {e}", common.interval))?;
    let path = common
        .path
        .trim_start_matches("./")
        .trim_end_matches('/')
        .to_owned();
    let client = common.cluster.client().await?;
    super::check::require_cluster(&client).await?;

    eprintln!(
        "► cloning branch '{}' from {}",
        common.branch, plan.push_url
    );
    let ws = git::Workspace::clone(&plan.push_url, &common.branch, &plan.push_auth)?;
    eprintln!("✔ cloned repository");
    let layout = Layout::detect(&ws, &path, &common.cluster.namespace)?;
    refuse_other_bootstrap(&client, &layout, &plan.sync_url, &path).await?;
    let author = (common.author_name.as_str(), common.author_email.as_str());

    eprintln!("► generating component manifests");
    let objects = components::components(&common.components, &layout.namespace);
    let text = layout.components_file(&ws, &common.components, &objects)?;
    ws.write(&layout.components_path(), &text)?;
    match ws.commit(
        &[&layout.dir],
        &format!(
            "Add tether v{} component manifests",
            env!("CARGO_PKG_VERSION")
        ),
        author,
    )? {
        Some(sha) => {
            eprintln!(
                "✔ committed component manifests to '{}' ({sha})",
                common.branch
            );
            eprintln!("► pushing component manifests to {}", plan.push_url);
            ws.push()?;
        }
        None => eprintln!("✔ component manifests are up to date"),
    }

    eprintln!(
        "► installing components in namespace '{}'",
        layout.namespace
    );
    let owner = Owner::kustomize_controller();
    let labels = layout.owner_labels(&owner);
    let applied = super::install::apply(
        &client,
        owner.clone(),
        labels.clone(),
        objects,
        common.cluster.timeout,
    )
    .await?;
    eprintln!("✔ installed components ({} objects)", applied.len());

    if let Some(data) = &plan.secret {
        apply_secret(&client, &layout, data).await?;
    }
    if let Some(key) = &plan.deploy_key {
        grant_deploy_key(key, common.silent)?;
    }

    eprintln!("► generating sync manifests");
    let sync = layout.sync_file(&ws, &plan.sync_url, common, plan.secret.is_some());
    ws.write(&layout.sync_path(), &sync)?;
    ws.write(
        &layout.kustomization_path(),
        &layout.kustomization_file(&ws),
    )?;
    match ws.commit(&[&layout.dir], "Add tether sync manifests", author)? {
        Some(sha) => {
            eprintln!("✔ committed sync manifests to '{}' ({sha})", common.branch);
            eprintln!("► pushing sync manifests to {}", plan.push_url);
            ws.push()?;
        }
        None => eprintln!("✔ sync manifests are up to date"),
    }
    let head = ws.head()?;

    eprintln!("► applying sync manifests");
    let sync_objects: Vec<Value> = tether_yaml::parse_documents(&sync)
        .map_err(|e| anyhow::anyhow!("{}: {e}", layout.sync_path()))?
        .into_iter()
        .map(|d| d.value)
        .collect();
    super::install::apply(&client, owner, labels, sync_objects, common.cluster.timeout).await?;
    eprintln!("✔ applied sync manifests");

    super::install::wait_for_controller(&client, &layout.namespace, common.cluster.timeout).await?;
    let revision = format!("{}@sha1:{head}", common.branch);
    wait_synced(&client, &layout, &revision, common.cluster.timeout).await?;
    eprintln!("✔ bootstrap finished");
    Ok(())
}

/// A cluster already bootstrapped from another repository or path is not silently re-pointed.
async fn refuse_other_bootstrap(
    client: &kube::Client,
    layout: &Layout,
    url: &str,
    path: &str,
) -> anyhow::Result<()> {
    let sources: Api<GitRepository> = Api::namespaced(client.clone(), &layout.namespace);
    let kss: Api<Kustomization> = Api::namespaced(client.clone(), &layout.namespace);
    let existing_url = match sources.get_opt(&layout.name).await {
        Ok(found) => found.map(|s| s.spec.url),
        // Before the CRDs are installed there is nothing to compare with.
        Err(kube::Error::Api(e)) if e.code == 404 => None,
        Err(e) => return Err(e).context("cannot read the existing sync GitRepository"),
    };
    let existing_path = match kss.get_opt(&layout.name).await {
        Ok(found) => found.and_then(|k| k.spec.path),
        Err(kube::Error::Api(e)) if e.code == 404 => None,
        Err(e) => return Err(e).context("cannot read the existing sync Kustomization"),
    };
    let clean = |p: &str| p.trim_start_matches("./").trim_end_matches('/').to_owned();
    if let Some(existing) =
        existing_url.filter(|u| u.trim_end_matches('/') != url.trim_end_matches('/'))
    {
        bail!(
            "this cluster is already bootstrapped from {existing} (GitRepository {}/{}); \
             run `tether uninstall` first to move it to {url}",
            layout.namespace,
            layout.name
        );
    }
    if let Some(existing) = existing_path.filter(|p| clean(p) != path) {
        bail!(
            "this cluster is already bootstrapped from path '{}' (Kustomization {}/{}); \
             bootstrap with --path {} or run `tether uninstall` first",
            clean(&existing),
            layout.namespace,
            layout.name,
            clean(&existing)
        );
    }
    Ok(())
}

async fn apply_secret(
    client: &kube::Client,
    layout: &Layout,
    data: &serde_json::Map<String, Value>,
) -> anyhow::Result<()> {
    let secrets: Api<k8s_openapi::api::core::v1::Secret> =
        Api::namespaced(client.clone(), &layout.namespace);
    let name = &layout.secret_name;
    eprintln!(
        "► determining if source secret '{}/{name}' exists",
        layout.namespace
    );
    if layout.adopted && secrets.get_opt(name).await?.is_some() {
        eprintln!("✔ source secret exists: keeping it");
        return Ok(());
    }
    let secret = json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": name, "namespace": layout.namespace},
        "type": "Opaque",
        "stringData": data,
    });
    secrets
        .patch(
            name,
            &PatchParams::apply("tether").force(),
            &Patch::Apply(&secret),
        )
        .await
        .with_context(|| format!("cannot apply the source Secret {}/{name}", layout.namespace))?;
    eprintln!("✔ source secret applied");
    Ok(())
}

fn grant_deploy_key(key: &str, silent: bool) -> anyhow::Result<()> {
    eprintln!("✔ public key: {key}");
    if silent {
        eprintln!(
            "► add this key to the repository with read access (the cluster fetches with it)"
        );
        return Ok(());
    }
    super::keys::confirm("Have you added the deploy key to the repository with read access?")
}

/// Waits until the GitRepository has fetched `revision` and the Kustomization applied it.
async fn wait_synced(
    client: &kube::Client,
    layout: &Layout,
    revision: &str,
    timeout: Duration,
) -> anyhow::Result<()> {
    let sources: Api<GitRepository> = Api::namespaced(client.clone(), &layout.namespace);
    let kss: Api<Kustomization> = Api::namespaced(client.clone(), &layout.namespace);
    let name = &layout.name;
    let ns = &layout.namespace;
    let deadline = Instant::now() + timeout;
    let progress = Progress::start(&format!(
        "waiting for GitRepository '{ns}/{name}' to fetch {revision}"
    ));
    loop {
        let source = sources.get(name).await?;
        let fetched = source
            .status
            .as_ref()
            .and_then(|s| s.artifact.as_ref())
            .is_some_and(|a| a.revision == revision);
        if fetched {
            break;
        }
        if Instant::now() >= deadline {
            progress.finish();
            bail!(
                "GitRepository '{ns}/{name}' did not fetch {revision} within {}: {}",
                tether_api::Duration::from_std(timeout),
                ready_message(source.status.as_ref().map(|s| s.conditions.as_slice()))
            );
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    progress.finish();
    eprintln!("✔ GitRepository reconciled successfully");
    let progress = Progress::start(&format!(
        "waiting for Kustomization '{ns}/{name}' to apply {revision}"
    ));
    loop {
        let ks = kss.get(name).await?;
        let status = ks.status.as_ref();
        let applied = status
            .and_then(|s| s.last_applied_revision.as_deref())
            .is_some_and(|r| r == revision);
        let ready = status.is_some_and(|s| {
            s.conditions
                .iter()
                .any(|c| c.type_ == "Ready" && c.status == "True")
        });
        if applied && ready {
            break;
        }
        if Instant::now() >= deadline {
            progress.finish();
            bail!(
                "Kustomization '{ns}/{name}' did not apply {revision} within {}: {}",
                tether_api::Duration::from_std(timeout),
                ready_message(status.map(|s| s.conditions.as_slice()))
            );
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    progress.finish();
    eprintln!("✔ Kustomization reconciled successfully");
    Ok(())
}

fn ready_message(
    conditions: Option<&[k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition]>,
) -> String {
    conditions
        .and_then(|cs| cs.iter().find(|c| c.type_ == "Ready"))
        .map_or_else(
            || "not reconciled yet (is the controller running?)".to_owned(),
            |c| format!("{} ({})", c.message, c.reason),
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ssh_urls_give_host_and_port() {
        assert_eq!(
            ssh_host("ssh://git@127.0.0.1:2222/srv/repo.git"),
            Some(("127.0.0.1".into(), 2222))
        );
        assert_eq!(
            ssh_host("ssh://git@github.com/org/repo"),
            Some(("github.com".into(), 22))
        );
        assert_eq!(
            ssh_host("ssh://[::1]:2022/repo"),
            Some(("::1".into(), 2022))
        );
        assert_eq!(ssh_host("ssh:///repo"), None);
    }

    #[test]
    fn cluster_paths_stay_inside_the_repository() {
        assert!(validate_path("clusters/staging").is_ok());
        assert!(validate_path("./clusters/staging/").is_ok());
        for bad in ["", "/abs", "../up", "clusters/../x", "./"] {
            let err = validate_path(bad).unwrap_err().to_string();
            assert!(err.contains("--path"), "{bad}: {err}");
        }
    }
}
