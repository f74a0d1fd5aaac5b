//! The ordered set of resources a build works on (kustomize's `resmap.ResMap`).

use crate::error::{Error, Result};
use crate::resource::{ResId, Resource};

/// Resources in build order; ids are unique (by [`ResId::equals`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ResMap {
    pub resources: Vec<Resource>,
}

impl ResMap {
    pub fn new() -> Self {
        ResMap::default()
    }

    pub fn len(&self) -> usize {
        self.resources.len()
    }

    pub fn is_empty(&self) -> bool {
        self.resources.is_empty()
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Resource> {
        self.resources.iter()
    }

    pub fn iter_mut(&mut self) -> std::slice::IterMut<'_, Resource> {
        self.resources.iter_mut()
    }

    /// Adds a resource; fails if one with the same current id is already there.
    pub fn append(&mut self, resource: Resource) -> Result<()> {
        let id = resource.cur_id();
        if self.index_of_cur_id(&id).is_some() {
            return Err(Error::msg(format!(
                "may not add resource with an already registered id: {id}"
            )));
        }
        self.resources.push(resource);
        Ok(())
    }

    /// Adds every resource of `other`, failing on the first duplicate id. Ids are hashed once
    /// (appending one by one would compare every pair: quadratic in a 2,000-resource build).
    pub fn append_all(&mut self, other: ResMap) -> Result<()> {
        let key = |id: ResId| {
            let ns = id.effective_namespace().to_owned();
            (id.gvk, id.name, ns)
        };
        let mut seen: std::collections::HashSet<_> =
            self.resources.iter().map(|r| key(r.cur_id())).collect();
        for r in other.resources {
            let id = r.cur_id();
            if !seen.insert(key(id.clone())) {
                return Err(Error::msg(format!(
                    "may not add resource with an already registered id: {id}"
                )));
            }
            self.resources.push(r);
        }
        Ok(())
    }

    pub fn index_of_cur_id(&self, id: &ResId) -> Option<usize> {
        self.resources.iter().position(|r| r.cur_id().equals(id))
    }

    /// Indexes of resources whose current id is selected by `selector` (empty fields match
    /// anything).
    pub fn selected_by_cur_id(&self, selector: &ResId) -> Vec<usize> {
        (0..self.resources.len())
            .filter(|&i| self.resources[i].cur_id().is_selected_by(selector))
            .collect()
    }

    /// Indexes of resources whose original id equals `id` (kustomize's `GetMatchingResourcesByOriginalId`).
    pub fn matching_org_id(&self, id: &ResId) -> Vec<usize> {
        (0..self.resources.len())
            .filter(|&i| self.resources[i].org_id().equals(id))
            .collect()
    }

    /// Indexes of resources for which any id (original, intermediate or current) equals `id`.
    pub fn matching_any_id(&self, id: &ResId) -> Vec<usize> {
        (0..self.resources.len())
            .filter(|&i| self.resources[i].all_ids().iter().any(|x| x.equals(id)))
            .collect()
    }

    pub fn remove(&mut self, index: usize) -> Resource {
        self.resources.remove(index)
    }
}

impl IntoIterator for ResMap {
    type Item = Resource;
    type IntoIter = std::vec::IntoIter<Resource>;
    fn into_iter(self) -> Self::IntoIter {
        self.resources.into_iter()
    }
}
