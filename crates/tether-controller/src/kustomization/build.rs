//! The build step: post-build variables from the cluster, the artifact from the source's HTTP
//! server (digest checked), and tether-build's cache, so Kustomizations over one artifact and
//! path build once however many there are.

use std::collections::BTreeMap;
use std::sync::Arc;

use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::ResourceExt;
use kube::api::Api;
use serde_json::Value;
use tether_api::{Artifact, Kustomization};
use tether_build::{BuildCache, BuildOptions, VarSource};

/// Unpacked artifacts kept (the largest entries).
const ARTIFACTS_CACHED: usize = 8;
/// kustomize outputs kept: one per artifact, path and kustomize-visible spec.
const KUSTOMIZED_CACHED: usize = 1024;
/// Post-built object sets kept: often one per Kustomization (own variables), each a full copy
/// of its objects, while post-build itself takes microseconds. At 1,000 Kustomizations an
/// unbounded level held ~30 MiB (`tether bench gitops`); 256 keeps bursts of reconciles of
/// one Kustomization cheap.
const BUILT_CACHED: usize = 256;

/// The build cache shared by all Kustomization reconciles.
pub struct Builds {
    cache: Arc<BuildCache>,
}

impl Default for Builds {
    fn default() -> Self {
        Builds {
            cache: Arc::new(BuildCache::with_capacities(
                ARTIFACTS_CACHED,
                KUSTOMIZED_CACHED,
                BUILT_CACHED,
            )),
        }
    }
}

/// A download failure, kept apart from build errors so it is never cached.
#[derive(Debug)]
enum BuildFailure {
    Load(String),
    Build(tether_build::Error),
}

impl From<tether_build::Error> for BuildFailure {
    fn from(e: tether_build::Error) -> Self {
        BuildFailure::Build(e)
    }
}

impl Builds {
    /// The objects of `ks` over `artifact` with `variables` substituted, or the message of
    /// `BuildFailed`.
    pub async fn build(
        &self,
        ks: &Kustomization,
        artifact: &Artifact,
        variables: &BTreeMap<String, String>,
    ) -> Result<Arc<Vec<Value>>, String> {
        let Some(digest) = artifact.digest.clone() else {
            return Err(format!(
                "artifact of revision {} has no digest",
                artifact.revision
            ));
        };
        let cache = self.cache.clone();
        let spec = ks.spec.clone();
        let variables = variables.clone();
        let url = artifact.url.clone();
        let runtime = tokio::runtime::Handle::current();
        let result = tokio::task::spawn_blocking(move || {
            cache.get_or_build(
                &digest,
                &spec,
                &variables,
                &BuildOptions::default(),
                || -> Result<Arc<tether_build::Artifact>, BuildFailure> {
                    // A blocking thread may wait on the runtime for the download.
                    let bytes = runtime
                        .block_on(tether_source::fetch_artifact(&url, &digest))
                        .map_err(|e| BuildFailure::Load(e.to_string()))?;
                    tether_build::Artifact::from_tar_gz(&bytes)
                        .map(Arc::new)
                        .map_err(BuildFailure::Build)
                },
            )
        })
        .await
        .map_err(|e| format!("build task failed: {e}"))?;
        match result {
            Ok(built) => Ok(built.objects),
            Err(BuildFailure::Load(m)) => Err(m),
            Err(BuildFailure::Build(e)) => Err(e.to_string()),
        }
    }

    pub fn stats(&self) -> tether_build::CacheStats {
        self.cache.stats()
    }
}

/// The post-build variables: `substituteFrom` ConfigMaps and Secrets in order, then
/// `substitute`. The inner `Err` is the message of `BuildFailed` (a missing, non-optional
/// source).
pub async fn substitution_variables(
    ks: &Kustomization,
    client: &kube::Client,
) -> Result<Result<BTreeMap<String, String>, String>, kube::Error> {
    let Some(post_build) = &ks.spec.post_build else {
        return Ok(Ok(BTreeMap::new()));
    };
    let namespace = ks.namespace().unwrap_or_default();
    let mut config_maps = Vec::new();
    let mut secrets = Vec::new();
    let mut order = Vec::new();
    for from in &post_build.substitute_from {
        match from.kind.as_str() {
            "ConfigMap" => {
                let api: Api<ConfigMap> = Api::namespaced(client.clone(), &namespace);
                match api.get_opt(&from.name).await? {
                    Some(cm) => {
                        order.push((true, config_maps.len()));
                        config_maps.push(cm);
                    }
                    None if from.optional => {}
                    None => {
                        return Ok(Err(format!(
                            "substitute from 'ConfigMap/{}' error: configmaps \"{}\" not found",
                            from.name, from.name
                        )));
                    }
                }
            }
            "Secret" => {
                let api: Api<Secret> = Api::namespaced(client.clone(), &namespace);
                match api.get_opt(&from.name).await? {
                    Some(s) => {
                        order.push((false, secrets.len()));
                        secrets.push(s);
                    }
                    None if from.optional => {}
                    None => {
                        return Ok(Err(format!(
                            "substitute from 'Secret/{}' error: secrets \"{}\" not found",
                            from.name, from.name
                        )));
                    }
                }
            }
            other => {
                return Ok(Err(format!(
                    "substitute from '{other}/{}' error: unsupported kind (ConfigMap or Secret)",
                    from.name
                )));
            }
        }
    }
    let sources = order.iter().map(|&(is_cm, i)| {
        if is_cm {
            VarSource::ConfigMap(&config_maps[i])
        } else {
            VarSource::Secret(&secrets[i])
        }
    });
    Ok(Ok(tether_build::merge_variables(
        sources,
        &post_build.substitute,
    )))
}
