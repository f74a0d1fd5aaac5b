//! `tether trace KIND/NAME`: which Kustomization applied an object (its owner labels), from which
//! source, path and revision, which revision last changed the object (the controller's
//! `tether.dev/last-changed-revision` annotation), and how both are doing — the way back from a
//! live object to Git.

use anyhow::{Context as _, bail};
use kube::api::{Api, DynamicObject};
use kube::discovery::{Discovery, Scope};
use tether_api::{GitRepository, Kustomization, keys};

use super::ClusterArgs;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The object, as `KIND/NAME` (kind, plural or short name, any case: `deployment/web`,
    /// `deploy/web`, `ConfigMap/settings`).
    object: String,
    #[command(flatten)]
    cluster: ClusterArgs,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let runtime = super::runtime()?;
    let text = runtime.block_on(trace(&args))?;
    print!("{text}");
    Ok(())
}

async fn trace(args: &Args) -> anyhow::Result<String> {
    let Some((kind, name)) = args.object.split_once('/') else {
        bail!("'{}': give the object as KIND/NAME", args.object);
    };
    let client = args.cluster.client().await?;
    let discovery = Discovery::new(client.clone())
        .run()
        .await
        .context("cannot discover the cluster's resources")?;
    let wanted = kind.to_ascii_lowercase();
    let Some((resource, caps)) = discovery
        .groups()
        .flat_map(|g| g.recommended_resources())
        .find(|(r, _)| {
            r.kind.to_ascii_lowercase() == wanted
                || r.plural == wanted
                || r.plural.trim_end_matches('s') == wanted
                || short_name(&r.kind) == Some(wanted.as_str())
        })
    else {
        bail!("the cluster serves no resource of kind '{kind}'");
    };
    let ns = &args.cluster.namespace;
    let api: Api<DynamicObject> = match caps.scope {
        Scope::Namespaced => Api::namespaced_with(client.clone(), ns, &resource),
        Scope::Cluster => Api::all_with(client.clone(), &resource),
    };
    let object = api
        .get_opt(name)
        .await
        .with_context(|| format!("cannot get {}/{name}", resource.kind))?
        .with_context(|| match caps.scope {
            Scope::Namespaced => format!("{}/{name} not found in namespace {ns}", resource.kind),
            Scope::Cluster => format!("{}/{name} not found", resource.kind),
        })?;
    let labels = object.metadata.labels.clone().unwrap_or_default();
    let last_changed = object
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(keys::LAST_CHANGED_REVISION_ANNOTATION))
        .cloned();
    let mut out = String::new();
    field(&mut out, "Object", &format!("{}/{name}", resource.kind));
    if caps.scope == Scope::Namespaced {
        field(&mut out, "Namespace", ns);
    }
    let (Some(ks_name), Some(ks_ns)) = (
        labels.get(keys::OWNER_NAME_LABEL),
        labels.get(keys::OWNER_NAMESPACE_LABEL),
    ) else {
        field(&mut out, "Status", "Not managed by tether or Flux");
        return Ok(out);
    };
    field(&mut out, "Status", "Managed by tether");
    let ks = Api::<Kustomization>::namespaced(client.clone(), ks_ns)
        .get_opt(ks_name)
        .await?
        .with_context(|| {
            format!("the object names Kustomization '{ks_ns}/{ks_name}', which does not exist")
        })?;
    out.push_str("---\n");
    field(&mut out, "Kustomization", ks_name);
    field(&mut out, "Namespace", ks_ns);
    field(
        &mut out,
        "Path",
        &ks.spec.path.clone().unwrap_or_else(|| "./".into()),
    );
    let status = ks.status.clone().unwrap_or_default();
    field(
        &mut out,
        "Revision",
        status.last_applied_revision.as_deref().unwrap_or("-"),
    );
    // The annotation moves only when an apply writes the object, unlike the revision above,
    // which moves with every commit the Kustomization applies.
    field(
        &mut out,
        "Last changed",
        last_changed.as_deref().unwrap_or(
            "unknown (no apply has changed the object since tether began recording revisions)",
        ),
    );
    ready(&mut out, ks.conditions());
    let source_ns = ks.source_namespace().unwrap_or(ks_ns).to_owned();
    let repo = Api::<GitRepository>::namespaced(client, &source_ns)
        .get_opt(&ks.spec.source_ref.name)
        .await?;
    out.push_str("---\n");
    match repo {
        None => field(
            &mut out,
            "Source",
            &format!(
                "GitRepository '{source_ns}/{}' not found",
                ks.spec.source_ref.name
            ),
        ),
        Some(repo) => {
            field(&mut out, "GitRepository", &ks.spec.source_ref.name);
            field(&mut out, "Namespace", &source_ns);
            field(&mut out, "URL", &repo.spec.url);
            if let Some(r) = &repo.spec.reference {
                for (label, value) in [
                    ("Branch", &r.branch),
                    ("Tag", &r.tag),
                    ("Semver", &r.semver),
                    ("Commit", &r.commit),
                ] {
                    if let Some(v) = value {
                        field(&mut out, label, v);
                    }
                }
            }
            field(
                &mut out,
                "Revision",
                repo.artifact().map_or("-", |a| a.revision.as_str()),
            );
            ready(&mut out, repo.conditions());
        }
    }
    Ok(out)
}

fn field(out: &mut String, label: &str, value: &str) {
    out.push_str(&format!("{:<16}{value}\n", format!("{label}:")));
}

fn ready(
    out: &mut String,
    conditions: &[k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition],
) {
    match tether_api::conditions::find(conditions, "Ready") {
        Some(c) => {
            let at = c.last_transition_time.0.to_string();
            let state = if c.status == "True" {
                "Ready"
            } else {
                "Not ready"
            };
            field(out, "Status", &format!("{state} since {at} ({})", c.reason));
            field(out, "Message", &c.message);
        }
        None => field(out, "Status", "Unknown"),
    }
}

/// kubectl's short names for the kinds people trace most.
fn short_name(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "Deployment" => "deploy",
        "Service" => "svc",
        "ConfigMap" => "cm",
        "Namespace" => "ns",
        "ServiceAccount" => "sa",
        "Ingress" => "ing",
        "StatefulSet" => "sts",
        "DaemonSet" => "ds",
        "PersistentVolumeClaim" => "pvc",
        "CustomResourceDefinition" => "crd",
        "Kustomization" => "ks",
        _ => return None,
    })
}
