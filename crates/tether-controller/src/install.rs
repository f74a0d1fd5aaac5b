//! Installing tether's CRDs (and the `flux-system` namespace) into a cluster, as `tether dev`
//! does at start and as tests do before running the controllers.

use std::time::Duration;

use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, Patch, PatchParams};

#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    #[error("cannot install {what}: {source}")]
    Api {
        what: String,
        #[source]
        source: kube::Error,
    },
    #[error("CRD {0} was not Established within 30s")]
    NotEstablished(String),
}

/// Server-side applies tether's CRDs (field manager `tether`), waits until each is Established,
/// and applies the `flux-system` namespace.
pub async fn install_crds(client: &kube::Client) -> Result<(), InstallError> {
    let api: Api<CustomResourceDefinition> = Api::all(client.clone());
    let params = PatchParams::apply("tether").force();
    for crd in tether_api::crds() {
        let name = crd.metadata.name.clone().unwrap_or_default();
        let err = |source| InstallError::Api {
            what: format!("CRD {name}"),
            source,
        };
        api.patch(&name, &params, &Patch::Apply(&crd))
            .await
            .map_err(err)?;
        let established = kube::runtime::wait::conditions::is_crd_established();
        match tokio::time::timeout(
            Duration::from_secs(30),
            kube::runtime::wait::await_condition(api.clone(), &name, established),
        )
        .await
        {
            Ok(Ok(_)) => {}
            _ => return Err(InstallError::NotEstablished(name)),
        }
    }
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let mut ns = Namespace::default();
    ns.metadata.name = Some("flux-system".to_owned());
    namespaces
        .patch("flux-system", &params, &Patch::Apply(&ns))
        .await
        .map_err(|source| InstallError::Api {
            what: "namespace flux-system".to_owned(),
            source,
        })?;
    Ok(())
}
