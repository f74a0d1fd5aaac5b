//! Where bootstrap keeps its files in the repository, and what they hold: tether's own layout
//! (`<path>/<namespace>/{components,sync,kustomization}.yaml`, objects named after the
//! namespace), or Flux's (`<path>/flux-system/gotk-*.yaml`), taken over in place.

use std::collections::BTreeMap;

use anyhow::Context as _;
use serde_json::{Value, json};
use tether_apply::Owner;

use super::CommonArgs;
use super::git::Workspace;
use crate::cli::components::{self, ComponentFlags};

const FLUX_DIR: &str = "flux-system";

#[derive(Debug)]
pub struct Layout {
    /// `<path>/<namespace>`: the directory bootstrap writes.
    pub dir: String,
    pub namespace: String,
    /// Name of the sync GitRepository and Kustomization.
    pub name: String,
    pub secret_name: String,
    /// A Flux bootstrap taken over: its files and objects keep their names.
    pub adopted: bool,
}

impl Layout {
    /// Flux's layout when `<path>/flux-system/gotk-sync.yaml` exists and tether's does not;
    /// tether's otherwise.
    pub fn detect(ws: &Workspace, path: &str, namespace: &str) -> anyhow::Result<Layout> {
        let ours = format!("{path}/{namespace}");
        let flux = format!("{path}/{FLUX_DIR}");
        let flux_sync = format!("{flux}/gotk-sync.yaml");
        if ws.exists(&format!("{ours}/sync.yaml")) || !ws.exists(&flux_sync) {
            return Ok(Layout {
                dir: ours,
                namespace: namespace.to_owned(),
                name: namespace.to_owned(),
                secret_name: namespace.to_owned(),
                adopted: false,
            });
        }
        let text = ws.read(&flux_sync).unwrap_or_default();
        let docs =
            tether_yaml::parse_documents(&text).map_err(|e| anyhow::anyhow!("{flux_sync}: {e}"))?;
        let source = docs
            .iter()
            .map(|d| &d.value)
            .find(|v| v["kind"] == "GitRepository")
            .with_context(|| format!("{flux_sync} holds no GitRepository"))?;
        let name = source["metadata"]["name"]
            .as_str()
            .unwrap_or(FLUX_DIR)
            .to_owned();
        let namespace = source["metadata"]["namespace"]
            .as_str()
            .unwrap_or(FLUX_DIR)
            .to_owned();
        let secret_name = source["spec"]["secretRef"]["name"]
            .as_str()
            .unwrap_or(&name)
            .to_owned();
        eprintln!("✔ found Flux's bootstrap in {flux}: taking it over ({namespace}/{name})");
        Ok(Layout {
            dir: flux,
            namespace,
            name,
            secret_name,
            adopted: true,
        })
    }

    pub fn components_path(&self) -> String {
        let file = if self.adopted {
            "gotk-components.yaml"
        } else {
            "components.yaml"
        };
        format!("{}/{file}", self.dir)
    }

    pub fn sync_path(&self) -> String {
        let file = if self.adopted {
            "gotk-sync.yaml"
        } else {
            "sync.yaml"
        };
        format!("{}/{file}", self.dir)
    }

    pub fn kustomization_path(&self) -> String {
        format!("{}/kustomization.yaml", self.dir)
    }

    /// The owner labels the sync Kustomization puts on what it applies, so installing before it
    /// exists leaves nothing for it to change.
    pub fn owner_labels(&self, owner: &Owner) -> BTreeMap<String, String> {
        BTreeMap::from([
            (format!("{}/name", owner.group), self.name.clone()),
            (format!("{}/namespace", owner.group), self.namespace.clone()),
        ])
    }

    /// The components file. Taking Flux over keeps the CRDs of its other APIs (HelmRelease,
    /// OCIRepository, …): dropping them would delete every such object in the cluster.
    pub fn components_file(
        &self,
        ws: &Workspace,
        flags: &ComponentFlags,
        objects: &[Value],
    ) -> anyhow::Result<String> {
        let mut all = objects.to_vec();
        if self.adopted {
            let path = self.components_path();
            let text = ws.read(&path).unwrap_or_default();
            let docs =
                tether_yaml::parse_documents(&text).map_err(|e| anyhow::anyhow!("{path}: {e}"))?;
            let ours: Vec<&str> = objects
                .iter()
                .filter(|o| o["kind"] == "CustomResourceDefinition")
                .filter_map(|o| o["metadata"]["name"].as_str())
                .collect();
            all.extend(docs.into_iter().map(|d| d.value).filter(|v| {
                v["kind"] == "CustomResourceDefinition"
                    && v["metadata"]["name"]
                        .as_str()
                        .is_some_and(|n| !ours.contains(&n))
            }));
        }
        Ok(components::to_yaml_stream(
            &crate::cli::install::export_header(&flags.image),
            &all,
        ))
    }

    /// The sync file: the existing one when taking Flux over, otherwise a GitRepository for
    /// `url` and a Kustomization for the cluster path.
    pub fn sync_file(
        &self,
        ws: &Workspace,
        url: &str,
        common: &CommonArgs,
        with_secret: bool,
    ) -> String {
        if let Some(text) = ws.read(&self.sync_path()).filter(|_| self.adopted) {
            return text;
        }
        let path = common.path.trim_start_matches("./").trim_end_matches('/');
        let mut source_spec = json!({
            "interval": common.interval,
            "ref": {"branch": common.branch},
            "url": url,
        });
        if with_secret {
            source_spec["secretRef"] = json!({"name": self.secret_name});
        }
        let objects = [
            json!({
                "apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository",
                "metadata": {"name": self.name, "namespace": self.namespace},
                "spec": source_spec,
            }),
            json!({
                "apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
                "metadata": {"name": self.name, "namespace": self.namespace},
                "spec": {
                    "interval": "10m0s",
                    "path": format!("./{path}"),
                    "prune": true,
                    "sourceRef": {"kind": "GitRepository", "name": self.name},
                },
            }),
        ];
        components::to_yaml_stream(
            "# Generated by `tether bootstrap`: the cluster follows this repository.\n",
            &objects,
        )
    }

    pub fn kustomization_file(&self, ws: &Workspace) -> String {
        if let Some(text) = ws.read(&self.kustomization_path()) {
            return text;
        }
        let file = |p: String| p.rsplit('/').next().unwrap_or_default().to_owned();
        format!(
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- {}\n- {}\n",
            file(self.components_path()),
            file(self.sync_path())
        )
    }
}
