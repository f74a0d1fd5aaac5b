//! A small REST mapper: which resource (plural, scope) serves a kind in a group version, from the
//! API server's discovery documents, cached per group version.
//!
//! A kind missing from a cached document makes the mapper fetch that document again once, so the
//! custom resources of a CRD applied a moment ago resolve without a full rediscovery.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use kube::Client;
use kube::discovery::ApiResource;

use crate::error::{ApiFailure, Error};
use crate::object::ObjectRef;

/// Where an object lives on the API server.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub resource: ApiResource,
    pub namespaced: bool,
}

impl Resolved {
    /// The collection URL for `namespace` (ignored for cluster-scoped resources).
    pub fn url_path(&self, namespace: &str) -> String {
        let ns = (self.namespaced && !namespace.is_empty()).then_some(namespace);
        <kube::api::DynamicObject as kube::Resource>::url_path(&self.resource, ns)
    }
}

type Kinds = Arc<HashMap<String, Resolved>>;

pub struct Mapper {
    client: Client,
    /// apiVersion → kind → resource.
    cache: Mutex<HashMap<String, Kinds>>,
}

impl std::fmt::Debug for Mapper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mapper").finish_non_exhaustive()
    }
}

impl Mapper {
    pub fn new(client: Client) -> Mapper {
        Mapper {
            client,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// Forgets every cached document (after CRDs changed).
    pub fn invalidate(&self) {
        self.cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    /// The resource serving `object`'s kind in its version; without a version, in its group's
    /// preferred version.
    pub async fn resolve(&self, object: &ObjectRef) -> Result<Resolved, Error> {
        let mut object = object.clone();
        if object.version.is_empty() {
            object.version = self.preferred_version(&object).await?;
        }
        let api_version = object.api_version();
        let cached = self
            .cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&api_version)
            .cloned();
        if let Some(found) = cached.as_ref().and_then(|kinds| kinds.get(&object.kind)) {
            return Ok(found.clone());
        }
        let kinds = self.fetch(&object.group, &object.version).await?;
        self.cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(api_version.clone(), kinds.clone());
        kinds
            .get(&object.kind)
            .cloned()
            .ok_or_else(|| Error::UnknownKind {
                kind: object.kind.clone(),
                api_version,
                object,
            })
    }

    async fn preferred_version(&self, object: &ObjectRef) -> Result<String, Error> {
        if object.group.is_empty() {
            return Ok("v1".to_owned());
        }
        let group = kube::discovery::group(&self.client, &object.group)
            .await
            .map_err(|e| Error::UnknownKind {
                object: object.clone(),
                api_version: object.group.clone(),
                kind: format!("{} ({})", object.kind, ApiFailure::from_kube(&e)),
            })?;
        Ok(group.preferred_version_or_latest().to_owned())
    }

    async fn fetch(&self, group: &str, version: &str) -> Result<Kinds, Error> {
        let api_version = if group.is_empty() {
            version.to_owned()
        } else {
            format!("{group}/{version}")
        };
        let list = if group.is_empty() {
            self.client.list_core_api_resources(version).await
        } else {
            self.client.list_api_group_resources(&api_version).await
        };
        let list = match list {
            Ok(list) => list,
            // A group version nobody serves: every kind in it is unknown.
            Err(e) if ApiFailure::from_kube(&e).is_not_found() => return Ok(Kinds::default()),
            Err(e) => {
                return Err(Error::Discovery {
                    group_version: api_version,
                    message: ApiFailure::from_kube(&e).message,
                });
            }
        };
        let kinds = list
            .resources
            .into_iter()
            .filter(|r| !r.name.contains('/'))
            .map(|r| {
                let resolved = Resolved {
                    resource: ApiResource {
                        group: group.to_owned(),
                        version: version.to_owned(),
                        api_version: api_version.clone(),
                        kind: r.kind.clone(),
                        plural: r.name,
                    },
                    namespaced: r.namespaced,
                };
                (r.kind, resolved)
            })
            .collect();
        Ok(Arc::new(kinds))
    }
}
