//! Prune: delete the objects that left the inventory, in reverse apply order, keeping what is not
//! ours or what the user protected (fluxcd/pkg `ssa.ResourceManager.DeleteAll`).

use std::fmt;

use futures::{StreamExt, stream};

use crate::changeset::{Action, ChangeSet};
use crate::client;
use crate::error::Error;
use crate::manager::{DeleteOptions, ResourceManager};
use crate::object::{self, ObjectRef};
use crate::sort::compare;

/// Some deletes failed; the others were done.
#[derive(Debug)]
pub struct DeleteError {
    /// What was done (deleted, already gone, or skipped).
    pub changes: ChangeSet,
    pub errors: Vec<Error>,
}

impl fmt::Display for DeleteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("delete failed, errors: ")?;
        for (i, e) in self.errors.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for DeleteError {}

impl ResourceManager {
    /// Deletes `objects` (reverse Flux order). An object already gone counts as deleted; one
    /// whose live labels lack an inclusion, or that carries an exclusion, is skipped. A failure
    /// does not stop the others: every error is returned with the change set of the rest.
    pub async fn delete_all(
        &self,
        objects: &[ObjectRef],
        options: &DeleteOptions,
    ) -> Result<ChangeSet, DeleteError> {
        let mut sorted = objects.to_vec();
        sorted.sort_by(|a, b| compare(b, a));
        let results: Vec<(ObjectRef, Result<Action, Error>)> = stream::iter(sorted)
            .map(|object| async move {
                let result = self.delete_one(&object, options).await;
                (object, result)
            })
            .buffered(options.concurrency.max(1))
            .collect()
            .await;
        let mut changes = ChangeSet::new();
        let mut errors = vec![];
        for (object, result) in results {
            match result {
                Ok(action) => changes.add(object, action),
                Err(e) => errors.push(e),
            }
        }
        if errors.is_empty() {
            Ok(changes)
        } else {
            Err(DeleteError { changes, errors })
        }
    }

    async fn delete_one(
        &self,
        object: &ObjectRef,
        options: &DeleteOptions,
    ) -> Result<Action, Error> {
        let resolved = self.resolve(object).await?;
        let Some(live) = client::get(&self.client, &resolved, object)
            .await
            .map_err(|f| Error::Get {
                object: object.clone(),
                message: f.message,
            })?
        else {
            return Ok(Action::Deleted);
        };
        if !is_prunable(&live, options) {
            tracing::debug!(%object, "prune skipped");
            return Ok(Action::Skipped);
        }
        client::delete(&self.client, &resolved, object, options.propagation.clone())
            .await
            .map_err(|f| Error::Delete {
                object: object.clone(),
                message: f.message,
            })?;
        Ok(Action::Deleted)
    }
}

/// Whether a prune may delete `live`: it carries every inclusion label (the owner labels) and no
/// exclusion label or annotation.
pub(crate) fn is_prunable(live: &serde_json::Value, options: &DeleteOptions) -> bool {
    let labels = object::string_map(live, "labels");
    let ours = options
        .inclusions
        .iter()
        .all(|(k, v)| labels.get(k) == Some(v));
    ours && !object::any_in_metadata(live, &options.exclusions)
}
