//! `tether create source git`, `create secret git`, `create kustomization` and
//! `create receiver`: build the object
//! from flags, then either print it (`--export`, for committing to Git) or apply it with
//! server-side apply (field manager `tether`) and wait until it is Ready, as `flux create` does.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context as _, bail};
use kube::api::{Api, DynamicObject, Patch, PatchParams};
use kube::discovery::ApiResource;
use serde_json::{Value, json};

use super::ClusterArgs;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    what: What,
    #[command(flatten)]
    cluster: ClusterArgs,
    /// Print the object as YAML instead of creating it.
    #[arg(long, global = true)]
    export: bool,
}

#[derive(Debug, clap::Subcommand)]
enum What {
    /// A source.
    #[command(subcommand)]
    Source(SourceKind),
    /// A Secret for a source.
    #[command(subcommand)]
    Secret(SecretKind),
    /// A Kustomization.
    #[command(alias = "ks")]
    Kustomization(KustomizationFlags),
    /// A Receiver: a webhook that reconciles its resources when called (with its token Secret).
    #[command(alias = "rcv")]
    Receiver(ReceiverFlags),
}

#[derive(Debug, clap::Args)]
struct ReceiverFlags {
    name: String,
    /// Who calls the webhook: generic, generic-hmac or github.
    #[arg(long = "type", value_name = "TYPE")]
    receiver_type: String,
    /// Event types to handle (e.g. `push`, `ping` for GitHub); all when none.
    #[arg(long = "event")]
    events: Vec<String>,
    /// Objects to reconcile, as `Kind/NAME[.NAMESPACE]` (`Kind/*` needs --match-label).
    #[arg(long = "resource", required = true)]
    resources: Vec<String>,
    /// Labels (`key=value`) selecting the objects of `Kind/*` resources.
    #[arg(long = "match-label")]
    match_labels: Vec<String>,
    /// Secret whose `token` key validates the webhooks.
    #[arg(long)]
    secret_ref: String,
    /// Store this token in the Secret (created or replaced); without it or
    /// --generate-token, the Secret must exist.
    #[arg(long, conflicts_with = "generate_token")]
    token: Option<String>,
    /// Store a new random token in the Secret and print it (configure the sender with it).
    #[arg(long)]
    generate_token: bool,
    /// How often the Receiver re-reads its Secret.
    #[arg(long, default_value = "10m")]
    interval: String,
}

#[derive(Debug, clap::Subcommand)]
enum SourceKind {
    /// A GitRepository.
    Git(GitFlags),
}

#[derive(Debug, clap::Subcommand)]
enum SecretKind {
    /// Credentials for a Git remote (basic auth, bearer token, CA, or SSH key).
    Git(SecretFlags),
}

#[derive(Debug, clap::Args)]
struct GitFlags {
    name: String,
    /// Repository URL: https://, ssh:// or file://.
    #[arg(long)]
    url: String,
    /// Branch to follow.
    #[arg(long, group = "reference")]
    branch: Option<String>,
    /// Tag to follow.
    #[arg(long, group = "reference")]
    tag: Option<String>,
    /// Semver range over tags, e.g. `>=1.0.0 <2.0.0`.
    #[arg(long, group = "reference")]
    tag_semver: Option<String>,
    /// Commit SHA to pin.
    #[arg(long, group = "reference")]
    commit: Option<String>,
    /// How often to fetch.
    #[arg(long, default_value = "1m")]
    interval: String,
    /// Secret with the credentials (see `tether create secret git`).
    #[arg(long)]
    secret_ref: Option<String>,
    /// Paths to leave out of the artifact (`.sourceignore` syntax).
    #[arg(long)]
    ignore_paths: Vec<String>,
    /// `known_hosts` for an SSH URL without --secret-ref; without it the host keys are scanned.
    #[arg(long, value_name = "FILE")]
    known_hosts_file: Option<PathBuf>,
    /// Do not ask whether the generated deploy key was added to the repository.
    #[arg(short, long)]
    silent: bool,
}

#[derive(Debug, clap::Args)]
struct SecretFlags {
    name: String,
    /// The repository URL the Secret is for (decides which keys are needed).
    #[arg(long)]
    url: String,
    /// Basic auth user (HTTPS).
    #[arg(short = 'u', long, requires = "password")]
    username: Option<String>,
    /// Basic auth password (HTTPS), or the passphrase of an SSH key.
    #[arg(short = 'p', long)]
    password: Option<String>,
    /// Bearer token (HTTPS).
    #[arg(long, conflicts_with = "username")]
    bearer_token: Option<String>,
    /// PEM CA certificate(s) to trust (HTTPS).
    #[arg(long, value_name = "FILE")]
    ca_file: Option<PathBuf>,
    /// SSH private key (ssh://).
    #[arg(long, value_name = "FILE")]
    private_key_file: Option<PathBuf>,
    /// `known_hosts` with the server's host key (ssh://).
    #[arg(long, value_name = "FILE")]
    known_hosts_file: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
struct KustomizationFlags {
    name: String,
    /// Source, as `[GitRepository/]NAME[.NAMESPACE]`.
    #[arg(long)]
    source: String,
    /// Path in the source.
    #[arg(long, default_value = "./")]
    path: String,
    /// Delete objects that leave the source.
    #[arg(long)]
    prune: bool,
    /// How often to reconcile.
    #[arg(long, default_value = "1m")]
    interval: String,
    /// Kustomizations that must be Ready first, as `NAME[.NAMESPACE]`.
    #[arg(long)]
    depends_on: Vec<String>,
    /// Objects whose health decides Ready, as `Kind/NAME.NAMESPACE`.
    #[arg(long)]
    health_check: Vec<String>,
    /// Wait for every applied object to be healthy.
    #[arg(long)]
    wait: bool,
    /// Namespace set on every namespaced object.
    #[arg(long)]
    target_namespace: Option<String>,
    /// Limit of applying and health checks (default: the interval).
    #[arg(
        long = "health-check-timeout",
        alias = "ks-timeout",
        value_name = "DURATION"
    )]
    ks_timeout: Option<String>,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let ns = args.cluster.namespace.clone();
    let object = match &args.what {
        What::Source(SourceKind::Git(flags)) => git_repository(flags, &ns)?,
        What::Secret(SecretKind::Git(flags)) => git_secret(flags, &ns)?,
        What::Kustomization(flags) => kustomization(flags, &ns)?,
        What::Receiver(flags) => receiver(flags, &ns)?,
    };
    let token_secret = match &args.what {
        What::Receiver(flags) => receiver_secret(flags, &ns)?,
        _ => None,
    };
    if args.export {
        if let Some(secret) = &token_secret {
            print!("---\n{}", tether_yaml::to_yaml(secret));
        }
        print!("---\n{}", tether_yaml::to_yaml(&object));
        return Ok(());
    }
    let runtime = super::runtime()?;
    if let Some(secret) = token_secret {
        runtime.block_on(apply_and_wait(&args.cluster, secret))?;
    }
    let mut object = object;
    if matches!(args.what, What::Kustomization(_)) {
        runtime.block_on(require_source(&args.cluster, &object))?;
    }
    if let What::Source(SourceKind::Git(flags)) = &args.what
        && flags.secret_ref.is_none()
        && flags.url.starts_with("ssh://")
    {
        let secret = deploy_key_secret(flags, &ns)?;
        runtime.block_on(apply_and_wait(&args.cluster, secret))?;
        object["spec"]["secretRef"] = json!({"name": flags.name});
    }
    runtime.block_on(apply_and_wait(&args.cluster, object))
}

/// A Kustomization is not created for a GitRepository that does not exist (it could only fail).
async fn require_source(cluster: &ClusterArgs, ks: &Value) -> anyhow::Result<()> {
    let source = &ks["spec"]["sourceRef"];
    let name = source["name"].as_str().unwrap_or_default();
    let ns = source["namespace"].as_str().unwrap_or(&cluster.namespace);
    let api: Api<tether_api::GitRepository> = Api::namespaced(cluster.client().await?, ns);
    let found = api.get_opt(name).await.with_context(|| {
        format!("cannot read GitRepository '{ns}/{name}' (are tether's CRDs installed?)")
    })?;
    if found.is_none() {
        bail!(
            "GitRepository '{name}' not found in namespace {ns}: create it first with `tether create source git {name} --url …`"
        );
    }
    Ok(())
}

/// An SSH URL without credentials gets a new ed25519 deploy key (as `flux create source git`
/// does): its public half is printed for the user to add to the repository, read-only.
fn deploy_key_secret(flags: &GitFlags, ns: &str) -> anyhow::Result<Value> {
    let (host, port) = super::bootstrap::ssh_host(&flags.url).with_context(|| {
        format!(
            "--url '{}': expected ssh://[user@]host[:port]/path",
            flags.url
        )
    })?;
    let known_hosts = match &flags.known_hosts_file {
        Some(path) => super::install::read_file(path)?,
        None => super::bootstrap::scan_host_keys(&host, port)?,
    };
    let pair = super::keys::generate_ed25519(&flags.name)?;
    eprintln!("✔ generated deploy key: {}", pair.public_openssh);
    if flags.silent {
        eprintln!("► add it to the repository with read access");
    } else {
        super::keys::confirm("Have you added the deploy key to the repository with read access?")?;
    }
    Ok(json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": flags.name, "namespace": ns},
        "stringData": {
            "identity": pair.private_openssh,
            "identity.pub": pair.public_openssh,
            "known_hosts": known_hosts,
        },
    }))
}

fn git_repository(flags: &GitFlags, ns: &str) -> anyhow::Result<Value> {
    check_duration("--interval", &flags.interval)?;
    check_url(&flags.url)?;
    let reference = match (&flags.branch, &flags.tag, &flags.tag_semver, &flags.commit) {
        (_, Some(tag), _, _) => json!({"tag": tag}),
        (_, _, Some(range), _) => json!({"semver": range}),
        (branch, _, _, Some(commit)) => match branch {
            Some(b) => json!({"branch": b, "commit": commit}),
            None => json!({"commit": commit}),
        },
        (Some(branch), _, _, _) => json!({"branch": branch}),
        _ => json!({"branch": "main"}),
    };
    let mut spec = json!({"url": flags.url, "interval": flags.interval, "ref": reference});
    if let Some(secret) = &flags.secret_ref {
        spec["secretRef"] = json!({"name": secret});
    }
    if !flags.ignore_paths.is_empty() {
        spec["ignore"] = Value::String(flags.ignore_paths.join("\n"));
    }
    Ok(json!({
        "apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository",
        "metadata": {"name": flags.name, "namespace": ns}, "spec": spec,
    }))
}

fn git_secret(flags: &SecretFlags, ns: &str) -> anyhow::Result<Value> {
    let read = |path: &PathBuf| {
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
    };
    let mut data = serde_json::Map::new();
    let ssh =
        flags.url.starts_with("ssh://") || flags.url.contains('@') && !flags.url.contains("://");
    if ssh {
        let (Some(key), Some(hosts)) = (&flags.private_key_file, &flags.known_hosts_file) else {
            bail!(
                "an SSH URL needs --private-key-file and --known-hosts-file (host keys are always verified)"
            );
        };
        data.insert("identity".into(), read(key)?.into());
        data.insert("known_hosts".into(), read(hosts)?.into());
        if let Some(p) = &flags.password {
            data.insert("password".into(), p.clone().into());
        }
    } else {
        if let (Some(u), Some(p)) = (&flags.username, &flags.password) {
            data.insert("username".into(), u.clone().into());
            data.insert("password".into(), p.clone().into());
        }
        if let Some(token) = &flags.bearer_token {
            data.insert("bearerToken".into(), token.clone().into());
        }
        if let Some(ca) = &flags.ca_file {
            data.insert("ca.crt".into(), read(ca)?.into());
        }
        if data.is_empty() {
            bail!("give --username/--password, --bearer-token or --ca-file for an HTTPS URL");
        }
    }
    Ok(json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": flags.name, "namespace": ns},
        "stringData": data,
    }))
}

fn kustomization(flags: &KustomizationFlags, ns: &str) -> anyhow::Result<Value> {
    check_duration("--interval", &flags.interval)?;
    let source = flags
        .source
        .strip_prefix("GitRepository/")
        .unwrap_or(&flags.source);
    if source.contains('/') {
        bail!(
            "--source '{}': only GitRepository sources are supported",
            flags.source
        );
    }
    let (source_name, source_ns) = split_namespace(source);
    let mut source_ref = json!({"kind": "GitRepository", "name": source_name});
    if let Some(n) = source_ns {
        source_ref["namespace"] = json!(n);
    }
    let mut spec = json!({
        "interval": flags.interval, "path": flags.path, "prune": flags.prune,
        "sourceRef": source_ref,
    });
    if !flags.depends_on.is_empty() {
        spec["dependsOn"] = flags
            .depends_on
            .iter()
            .map(|d| match split_namespace(d) {
                (name, Some(n)) => json!({"name": name, "namespace": n}),
                (name, None) => json!({"name": name}),
            })
            .collect();
    }
    if !flags.health_check.is_empty() {
        let mut checks = Vec::new();
        for check in &flags.health_check {
            let Some((kind, rest)) = check.split_once('/') else {
                bail!("--health-check '{check}': expected Kind/NAME.NAMESPACE");
            };
            let (name, namespace) = split_namespace(rest);
            let mut c = json!({"kind": kind, "name": name, "namespace": namespace.unwrap_or(ns)});
            if let Some(api_version) = api_version_of(kind) {
                c["apiVersion"] = json!(api_version);
            }
            checks.push(c);
        }
        spec["healthChecks"] = Value::Array(checks);
    }
    if flags.wait {
        spec["wait"] = json!(true);
    }
    if let Some(t) = &flags.target_namespace {
        spec["targetNamespace"] = json!(t);
    }
    if let Some(t) = &flags.ks_timeout {
        check_duration("--health-check-timeout", t)?;
        spec["timeout"] = json!(t);
    }
    Ok(json!({
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
        "metadata": {"name": flags.name, "namespace": ns}, "spec": spec,
    }))
}

fn receiver(flags: &ReceiverFlags, ns: &str) -> anyhow::Result<Value> {
    check_duration("--interval", &flags.interval)?;
    if tether_api::ReceiverType::parse(&flags.receiver_type).is_none() {
        bail!(
            "--type '{}': tether supports generic, generic-hmac and github receivers",
            flags.receiver_type
        );
    }
    let mut labels = serde_json::Map::new();
    for label in &flags.match_labels {
        let Some((k, v)) = label.split_once('=') else {
            bail!("--match-label '{label}': expected key=value");
        };
        labels.insert(k.to_owned(), json!(v));
    }
    let mut resources = Vec::new();
    for resource in &flags.resources {
        let Some((kind, rest)) = resource.split_once('/') else {
            bail!("--resource '{resource}': expected Kind/NAME[.NAMESPACE]");
        };
        if !tether_api::RECEIVER_RESOURCE_KINDS.contains(&kind) {
            bail!(
                "--resource '{resource}': a Receiver can notify {}",
                tether_api::RECEIVER_RESOURCE_KINDS.join(", ")
            );
        }
        let (name, namespace) = if rest == "*" {
            ("*", None)
        } else {
            split_namespace(rest)
        };
        let mut r = json!({"kind": kind, "name": name});
        if let Some(n) = namespace {
            r["namespace"] = json!(n);
        }
        if name == "*" {
            if labels.is_empty() {
                bail!("--resource '{resource}': the wildcard '*' needs --match-label");
            }
            r["matchLabels"] = Value::Object(labels.clone());
        }
        resources.push(r);
    }
    let mut spec = json!({
        "type": flags.receiver_type, "interval": flags.interval,
        "resources": resources, "secretRef": {"name": flags.secret_ref},
    });
    if !flags.events.is_empty() {
        spec["events"] = json!(flags.events);
    }
    Ok(json!({
        "apiVersion": "notification.toolkit.fluxcd.io/v1", "kind": "Receiver",
        "metadata": {"name": flags.name, "namespace": ns}, "spec": spec,
    }))
}

/// The token Secret of `create receiver --token/--generate-token` (a generated token is
/// printed, since the webhook's sender needs it).
fn receiver_secret(flags: &ReceiverFlags, ns: &str) -> anyhow::Result<Option<Value>> {
    let token = match (&flags.token, flags.generate_token) {
        (Some(t), _) if t.is_empty() => bail!("--token must not be empty"),
        (Some(t), _) => t.clone(),
        (None, true) => {
            use ssh_key::rand_core::RngCore as _;
            let mut bytes = [0u8; 24];
            ssh_key::rand_core::OsRng.fill_bytes(&mut bytes);
            let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
            eprintln!("✔ generated token: {token}");
            token
        }
        (None, false) => return Ok(None),
    };
    Ok(Some(json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": flags.secret_ref, "namespace": ns},
        "stringData": {"token": token},
    })))
}

/// `name.namespace` → (`name`, `Some(namespace)`).
fn split_namespace(text: &str) -> (&str, Option<&str>) {
    match text.split_once('.') {
        Some((name, ns)) if !ns.is_empty() => (name, Some(ns)),
        _ => (text, None),
    }
}

/// The apiVersion of the workload kinds people health-check; others take the server's.
fn api_version_of(kind: &str) -> Option<&'static str> {
    match kind {
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" => Some("apps/v1"),
        "Job" | "CronJob" => Some("batch/v1"),
        "Service" | "ConfigMap" | "Secret" | "PersistentVolumeClaim" | "Pod" => Some("v1"),
        _ => None,
    }
}

/// A URL the source controller can fetch: `ssh://`, `https://`, `http://` or `file://` with a
/// host (or, for `file://`, a path).
fn check_url(url: &str) -> anyhow::Result<()> {
    let valid = match url.split_once("://") {
        Some(("ssh" | "https" | "http", rest)) => {
            let authority = rest.split('/').next().unwrap_or_default();
            let host = authority.rsplit('@').next().unwrap_or_default();
            !host.is_empty() && !host.contains(char::is_whitespace)
        }
        Some(("file", rest)) => rest.starts_with('/'),
        _ => false,
    };
    if !valid {
        bail!(
            "--url '{url}': not a Git URL the controller can fetch (ssh://[user@]host[:port]/path, https://host/path, or file:///path)"
        );
    }
    Ok(())
}

fn check_duration(flag: &str, text: &str) -> anyhow::Result<()> {
    tether_api::Duration::parse(text)
        .map(|_| ())
        .map_err(|e| anyhow::anyhow!("{flag} '{text}': {e}"))
}

/// Server-side applies `object` as `tether`, then waits for Ready at its generation (not for
/// Secrets).
async fn apply_and_wait(cluster: &ClusterArgs, object: Value) -> anyhow::Result<()> {
    let client = cluster.client().await?;
    let kind = object["kind"].as_str().unwrap_or_default().to_owned();
    let name = object["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let ns = cluster.namespace.clone();
    let (group, version, plural) = match kind.as_str() {
        "GitRepository" => ("source.toolkit.fluxcd.io", "v1", "gitrepositories"),
        "Kustomization" => ("kustomize.toolkit.fluxcd.io", "v1", "kustomizations"),
        "Receiver" => ("notification.toolkit.fluxcd.io", "v1", "receivers"),
        _ => ("", "v1", "secrets"),
    };
    let resource = ApiResource {
        group: group.into(),
        version: version.into(),
        api_version: object["apiVersion"].as_str().unwrap_or_default().into(),
        kind: kind.clone(),
        plural: plural.into(),
    };
    let api: Api<DynamicObject> = Api::namespaced_with(client, &ns, &resource);
    let progress =
        super::progress::Progress::start(&format!("applying {kind} {name} in namespace {ns}"));
    let applied = api
        .patch(
            &name,
            &PatchParams::apply("tether").force(),
            &Patch::Apply(&object),
        )
        .await
        .with_context(|| format!("cannot apply {kind} '{ns}/{name}'"))?;
    if kind == "Secret" {
        progress.finish();
        eprintln!("✔ Secret '{ns}/{name}' created");
        return Ok(());
    }
    let generation = applied.metadata.generation.unwrap_or(0);
    progress.step(&format!("waiting for {kind} reconciliation"));
    let deadline = std::time::Instant::now() + cluster.timeout;
    loop {
        let current = api
            .get(&name)
            .await
            .with_context(|| format!("cannot read {kind} '{ns}/{name}'"))?;
        let status = &current.data["status"];
        let ready = status["conditions"]
            .as_array()
            .and_then(|cs| cs.iter().find(|c| c["type"] == "Ready"))
            .filter(|c| {
                c["observedGeneration"].as_i64() == Some(generation)
                    || status["observedGeneration"].as_i64() == Some(generation)
            });
        if let Some(c) = ready {
            match c["status"].as_str() {
                Some("True") => {
                    progress.finish();
                    eprintln!(
                        "✔ {kind} '{ns}/{name}' is ready: {}",
                        c["message"].as_str().unwrap_or_default()
                    );
                    return Ok(());
                }
                Some("False") => {
                    progress.finish();
                    bail!(
                        "{kind} '{ns}/{name}' failed: {} ({})",
                        c["message"].as_str().unwrap_or_default(),
                        c["reason"].as_str().unwrap_or_default()
                    );
                }
                _ => {}
            }
        }
        if std::time::Instant::now() >= deadline {
            progress.finish();
            bail!(
                "timed out after {} waiting for {kind} '{ns}/{name}' to be ready (is the controller running?)",
                tether_api::Duration::from_std(cluster.timeout)
            );
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}
