//! The cluster and identity a Kustomization applies with (kustomize-controller's impersonation):
//!
//! - `spec.kubeConfig.secretRef`: a kubeconfig in a Secret of the Kustomization's namespace
//!   (key `value`, then `value.yaml`, or the key given) names a remote cluster;
//! - `spec.serviceAccountName` (or the controller's `--default-service-account`): requests carry
//!   `Impersonate-User: system:serviceaccount:<namespace>:<name>`, so the cluster's RBAC decides
//!   what the Kustomization may change (Flux's multi-tenancy lockdown);
//! - neither: the controller's own client.
//!
//! Only the apply, prune and health checks go to the target; the Kustomization, its source,
//! dependencies and substitution sources are read with the controller's client, as Flux does.
//! A kubeconfig from a Secret may not run commands (`exec`, `auth-provider`) or read the
//! controller's files (paths instead of `-data`): whoever can write a Secret could otherwise run
//! code or read credentials inside the controller.

use std::collections::HashMap;
use std::sync::Mutex;

use k8s_openapi::api::core::v1::{Secret, ServiceAccount};
use kube::api::Api;
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, ResourceExt};
use sha2::{Digest, Sha256};
use tether_api::Kustomization;
use tether_apply::{Owner, ResourceManager};

/// Secret keys read for a kubeconfig when `secretRef.key` is empty, in order (Flux's).
const KUBECONFIG_KEYS: [&str; 2] = ["value", "value.yaml"];

/// Distinct targets kept; past this the cache starts over (kubeconfigs rotate, tenants come
/// and go, and each entry holds a client and a discovery cache).
const MAX_TARGETS: usize = 64;

/// What the controller needs to build clients for targets.
pub struct Targets {
    /// The controller's own cluster: the base of impersonated clients.
    local: kube::Config,
    /// The controller's own applier, for Kustomizations with no target of their own.
    local_applier: ResourceManager,
    /// Impersonated when a Kustomization names no ServiceAccount (`--default-service-account`).
    default_service_account: Option<String>,
    cache: Mutex<HashMap<TargetKey, ResourceManager>>,
}

#[derive(Clone, PartialEq, Eq, Hash)]
struct TargetKey {
    /// sha256 of the kubeconfig, `None` for the local cluster.
    kubeconfig: Option<[u8; 32]>,
    impersonate: Option<String>,
}

impl std::fmt::Debug for Targets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Targets")
            .field("default_service_account", &self.default_service_account)
            .finish_non_exhaustive()
    }
}

impl Targets {
    pub fn new(
        local: kube::Config,
        local_client: Client,
        default_service_account: Option<String>,
    ) -> Targets {
        Targets {
            local_applier: ResourceManager::new(local_client, Owner::kustomize_controller()),
            local,
            default_service_account,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// The controller's own applier (no kubeconfig, no impersonation).
    pub fn local(&self) -> &ResourceManager {
        &self.local_applier
    }

    /// The ServiceAccount `ks` impersonates, if any.
    pub fn service_account<'a>(&'a self, ks: &'a Kustomization) -> Option<&'a str> {
        ks.spec
            .service_account_name
            .as_deref()
            .filter(|s| !s.is_empty())
            .or(self.default_service_account.as_deref())
    }

    /// The applier for `ks`, or a message saying why there is none (the reconcile fails with it).
    /// `client` reads the kubeconfig Secret.
    pub async fn applier(
        &self,
        client: &Client,
        ks: &Kustomization,
    ) -> Result<Result<ResourceManager, String>, kube::Error> {
        let namespace = ks.namespace().unwrap_or_default();
        let impersonate = self
            .service_account(ks)
            .map(|sa| format!("system:serviceaccount:{namespace}:{sa}"));
        let kubeconfig = match &ks.spec.kube_config {
            None => None,
            Some(reference) => match read_kubeconfig(client, &namespace, reference).await? {
                Ok(text) => Some(text),
                Err(message) => return Ok(Err(message)),
            },
        };
        if kubeconfig.is_none() && impersonate.is_none() {
            return Ok(Ok(self.local_applier.clone()));
        }
        let key = TargetKey {
            kubeconfig: kubeconfig
                .as_ref()
                .map(|text| Sha256::digest(text.as_bytes()).into()),
            impersonate: impersonate.clone(),
        };
        if let Some(found) = self.lock().get(&key) {
            return Ok(Ok(found.clone()));
        }
        let mut config = match &kubeconfig {
            None => self.local.clone(),
            Some(text) => match remote_config(text).await {
                Ok(config) => config,
                Err(message) => {
                    return Ok(Err(format!(
                        "invalid kubeconfig in Secret '{namespace}/{}': {message}",
                        secret_name(ks)
                    )));
                }
            },
        };
        if let Some(user) = impersonate {
            config.auth_info.impersonate = Some(user);
        }
        let client = match Client::try_from(config) {
            Ok(c) => c,
            Err(e) => return Ok(Err(format!("cannot build a client for the target: {e}"))),
        };
        let applier = ResourceManager::new(client, Owner::kustomize_controller());
        let mut cache = self.lock();
        if cache.len() >= MAX_TARGETS {
            cache.clear();
        }
        cache.insert(key, applier.clone());
        Ok(Ok(applier))
    }

    /// Whether the target of `ks` can still be reached with its identity: the kubeconfig Secret
    /// and the ServiceAccount exist (Flux's `CanImpersonate`). When not, deletion skips pruning
    /// rather than blocking forever.
    pub async fn reachable(
        &self,
        client: &Client,
        ks: &Kustomization,
    ) -> Result<bool, kube::Error> {
        let namespace = ks.namespace().unwrap_or_default();
        if let Some(reference) = &ks.spec.kube_config {
            if let Some(secret) = &reference.secret_ref {
                let api: Api<Secret> = Api::namespaced(client.clone(), &namespace);
                return Ok(api.get_opt(&secret.name).await?.is_some());
            }
            return Ok(false);
        }
        if let Some(sa) = self.service_account(ks) {
            let api: Api<ServiceAccount> = Api::namespaced(client.clone(), &namespace);
            return Ok(api.get_opt(sa).await?.is_some());
        }
        Ok(true)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<TargetKey, ResourceManager>> {
        // A panic while holding the lock leaves a map that is still valid.
        self.cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

fn secret_name(ks: &Kustomization) -> &str {
    ks.spec
        .kube_config
        .as_ref()
        .and_then(|k| k.secret_ref.as_ref())
        .map_or("", |s| s.name.as_str())
}

/// The kubeconfig text of `reference`, or the message of a failed reconcile.
async fn read_kubeconfig(
    client: &Client,
    namespace: &str,
    reference: &tether_api::KubeConfigReference,
) -> Result<Result<String, String>, kube::Error> {
    let Some(secret_ref) = &reference.secret_ref else {
        return Ok(Err(if reference.config_map_ref.is_some() {
            "spec.kubeConfig.configMapRef (secret-less workload identity) is not supported; \
             use spec.kubeConfig.secretRef"
                .to_owned()
        } else {
            "spec.kubeConfig needs secretRef".to_owned()
        }));
    };
    let api: Api<Secret> = Api::namespaced(client.clone(), namespace);
    let Some(secret) = api.get_opt(&secret_ref.name).await? else {
        return Ok(Err(format!(
            "failed to get kubeconfig: Secret '{namespace}/{}' not found",
            secret_ref.name
        )));
    };
    let data = secret.data.unwrap_or_default();
    let keys: Vec<&str> = match secret_ref.key.as_deref().filter(|k| !k.is_empty()) {
        Some(key) => vec![key],
        None => KUBECONFIG_KEYS.to_vec(),
    };
    let Some(bytes) = keys.iter().find_map(|k| data.get(*k)) else {
        return Ok(Err(format!(
            "failed to get kubeconfig: Secret '{namespace}/{}' has no key {}",
            secret_ref.name,
            keys.iter()
                .map(|k| format!("'{k}'"))
                .collect::<Vec<_>>()
                .join(" or ")
        )));
    };
    match String::from_utf8(bytes.0.clone()) {
        Ok(text) => Ok(Ok(text)),
        Err(_) => Ok(Err(format!(
            "failed to get kubeconfig: Secret '{namespace}/{}' holds no UTF-8 text",
            secret_ref.name
        ))),
    }
}

/// A client configuration from a kubeconfig held in a Secret, refusing what would run commands
/// or read files inside the controller.
async fn remote_config(text: &str) -> Result<kube::Config, String> {
    let kubeconfig = Kubeconfig::from_yaml(text).map_err(|e| e.to_string())?;
    check_self_contained(&kubeconfig)?;
    kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .map_err(|e| e.to_string())
}

fn check_self_contained(kubeconfig: &Kubeconfig) -> Result<(), String> {
    for named in &kubeconfig.auth_infos {
        let Some(user) = &named.auth_info else {
            continue;
        };
        let refuse = |what: &str| {
            Err(format!(
                "user '{}' uses {what}, which tether refuses in kubeconfigs from Secrets; \
                 embed credentials (token, client-certificate-data/client-key-data) instead",
                named.name
            ))
        };
        if user.exec.is_some() {
            return refuse("an exec credential plugin");
        }
        if user.auth_provider.is_some() {
            return refuse("an auth-provider");
        }
        if user.token_file.is_some() {
            return refuse("tokenFile");
        }
        if user.client_certificate.is_some() || user.client_key.is_some() {
            return refuse("client certificate or key files");
        }
    }
    for named in &kubeconfig.clusters {
        if let Some(cluster) = &named.cluster
            && cluster.certificate_authority.is_some()
        {
            return Err(format!(
                "cluster '{}' reads certificate-authority from a file, which tether refuses in \
                 kubeconfigs from Secrets; use certificate-authority-data",
                named.name
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn parse(text: &str) -> Kubeconfig {
        Kubeconfig::from_yaml(text).unwrap()
    }

    const BASE: &str = "apiVersion: v1\nkind: Config\ncurrent-context: c\n\
        contexts: [{name: c, context: {cluster: k, user: u}}]\n\
        clusters: [{name: k, cluster: {server: 'https://127.0.0.1:1'}}]\n";

    #[test]
    fn embedded_credentials_pass() {
        let text = format!("{BASE}users: [{{name: u, user: {{token: abc}}}}]\n");
        assert_eq!(check_self_contained(&parse(&text)), Ok(()));
    }

    #[test]
    fn commands_and_files_are_refused_naming_the_entry() {
        for (user, what) in [
            (
                "{exec: {apiVersion: client.authentication.k8s.io/v1, command: sh}}",
                "exec",
            ),
            ("{tokenFile: /var/run/secrets/token}", "tokenFile"),
            (
                "{client-certificate: /etc/cert, client-key: /etc/key}",
                "files",
            ),
            ("{auth-provider: {name: oidc}}", "auth-provider"),
        ] {
            let text = format!("{BASE}users: [{{name: u, user: {user}}}]\n");
            let err = check_self_contained(&parse(&text)).unwrap_err();
            assert!(err.contains("user 'u'") && err.contains(what), "{err}");
        }
        let text = BASE.replace("server:", "certificate-authority: /ca.pem, server:")
            + "users: [{name: u, user: {token: abc}}]\n";
        let err = check_self_contained(&parse(&text)).unwrap_err();
        assert!(err.contains("cluster 'k'"), "{err}");
    }
}
