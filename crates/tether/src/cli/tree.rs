//! `tether tree kustomization NAME`: the objects a Kustomization applied (its inventory), as a
//! tree, descending into the Kustomizations it applied. Read from status alone, so it shows what
//! the controller recorded, not what a new build would give.

use anyhow::Context as _;
use kube::api::Api;
use tether_api::{InventoryId, Kustomization};

use super::{ClusterArgs, Output};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    what: What,
    #[command(flatten)]
    cluster: ClusterArgs,
    /// Output format (`table` draws the tree).
    #[arg(short = 'o', long, global = true, value_enum, default_value = "table")]
    output: Output,
}

#[derive(Debug, clap::Subcommand)]
enum What {
    /// A Kustomization.
    #[command(alias = "ks")]
    Kustomization { name: String },
}

/// One object and what it applied.
#[derive(Debug, serde::Serialize)]
struct Node {
    #[serde(rename = "resource")]
    label: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    resources: Vec<Node>,
}

/// Nesting past this means Kustomizations apply each other in a loop.
const MAX_DEPTH: usize = 16;

pub fn run(args: Args) -> anyhow::Result<()> {
    let runtime = super::runtime()?;
    let What::Kustomization { name } = &args.what;
    let root = runtime.block_on(async {
        let client = args.cluster.client().await?;
        node(&client, &args.cluster.namespace, name, 0).await
    })?;
    match args.output {
        Output::Table => {
            let mut out = format!("{}\n", root.label);
            draw(&root.resources, "", &mut out);
            print!("{out}");
        }
        Output::Json => println!("{}", serde_json::to_string_pretty(&root)?),
        Output::Yaml => print!("{}", tether_yaml::to_yaml(&serde_json::to_value(&root)?)),
    }
    Ok(())
}

fn node<'a>(
    client: &'a kube::Client,
    namespace: &'a str,
    name: &'a str,
    depth: usize,
) -> futures::future::BoxFuture<'a, anyhow::Result<Node>> {
    Box::pin(async move {
        let api: Api<Kustomization> = Api::namespaced(client.clone(), namespace);
        let ks = api
            .get_opt(name)
            .await
            .with_context(|| format!("cannot get Kustomization '{namespace}/{name}'"))?
            .with_context(|| format!("Kustomization '{namespace}/{name}' not found"))?;
        let mut resources = Vec::new();
        let entries = ks
            .status
            .as_ref()
            .and_then(|s| s.inventory.as_ref())
            .map(|i| i.entries.clone())
            .unwrap_or_default();
        for entry in entries {
            let id = InventoryId::parse(&entry.id).with_context(|| {
                format!("Kustomization '{namespace}/{name}' has an invalid inventory entry")
            })?;
            let is_kustomization =
                id.group == "kustomize.toolkit.fluxcd.io" && id.kind == "Kustomization";
            if is_kustomization && depth < MAX_DEPTH {
                match node(client, &id.namespace, &id.name, depth + 1).await {
                    Ok(child) => resources.push(child),
                    // Applied but gone or not yet created: show the entry alone.
                    Err(_) => resources.push(leaf(&id)),
                }
            } else {
                resources.push(leaf(&id));
            }
        }
        Ok(Node {
            label: format!("Kustomization/{namespace}/{name}"),
            resources,
        })
    })
}

fn leaf(id: &InventoryId) -> Node {
    let label = if id.namespace.is_empty() {
        format!("{}/{}", id.kind, id.name)
    } else {
        format!("{}/{}/{}", id.kind, id.namespace, id.name)
    };
    Node {
        label,
        resources: Vec::new(),
    }
}

fn draw(nodes: &[Node], prefix: &str, out: &mut String) {
    for (i, node) in nodes.iter().enumerate() {
        let last = i + 1 == nodes.len();
        out.push_str(prefix);
        out.push_str(if last { "└── " } else { "├── " });
        out.push_str(&node.label);
        out.push('\n');
        let child_prefix = format!("{prefix}{}", if last { "    " } else { "│   " });
        draw(&node.resources, &child_prefix, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(label: &str, resources: Vec<Node>) -> Node {
        Node {
            label: label.into(),
            resources,
        }
    }

    #[test]
    fn draws_like_flux_tree() {
        let nodes = vec![
            n("Namespace/apps", vec![]),
            n(
                "Kustomization/flux-system/child",
                vec![
                    n("ConfigMap/default/a", vec![]),
                    n("ConfigMap/default/b", vec![]),
                ],
            ),
            n("Deployment/apps/web", vec![]),
        ];
        let mut out = String::new();
        draw(&nodes, "", &mut out);
        assert_eq!(
            out,
            "├── Namespace/apps\n├── Kustomization/flux-system/child\n│   ├── ConfigMap/default/a\n│   └── ConfigMap/default/b\n└── Deployment/apps/web\n"
        );
    }
}
