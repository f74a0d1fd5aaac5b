//! Adding and removing tether's finalizer (`finalizers.fluxcd.io`) with an optimistic merge
//! patch (the object's resourceVersion), for both kinds.

use kube::api::{Api, Patch, PatchParams};
use kube::{Resource, ResourceExt};
use serde::de::DeserializeOwned;
use serde_json::json;
use tether_api::keys;

/// Sets whether `obj` carries our finalizer, keeping the others. Removing it from an object
/// that is already gone (another replica finished first) is not an error.
pub(crate) async fn set<K>(api: &Api<K>, obj: &K, ours: bool) -> Result<(), kube::Error>
where
    K: Resource + Clone + DeserializeOwned + std::fmt::Debug,
{
    let mut finalizers: Vec<&String> = obj
        .finalizers()
        .iter()
        .filter(|f| *f != keys::FINALIZER)
        .collect();
    let own = keys::FINALIZER.to_owned();
    if ours {
        finalizers.push(&own);
    }
    let patch =
        json!({"metadata": {"finalizers": finalizers, "resourceVersion": obj.resource_version()}});
    match api
        .patch(
            &obj.name_any(),
            &PatchParams::default(),
            &Patch::Merge(&patch),
        )
        .await
    {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(s)) if s.code == 404 && !ours => Ok(()),
        Err(e) => Err(e),
    }
}

/// Whether `obj` carries our finalizer.
pub(crate) fn has<K: Resource>(obj: &K) -> bool {
    obj.finalizers().iter().any(|f| f == keys::FINALIZER)
}
