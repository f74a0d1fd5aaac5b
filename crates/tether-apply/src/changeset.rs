//! What an apply or a prune did to each object, and the one-line summaries Flux puts in events.

use std::fmt;

use crate::object::ObjectRef;

/// What happened to one object (Flux's `ssa.Action`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    Created,
    Configured,
    Unchanged,
    Deleted,
    /// Left alone on purpose: an `ssa: Ignore` or `ssa: IfNotPresent` annotation on apply, a
    /// `prune: disabled` annotation or foreign owner labels on prune.
    Skipped,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Created => "created",
            Action::Configured => "configured",
            Action::Unchanged => "unchanged",
            Action::Deleted => "deleted",
            Action::Skipped => "skipped",
        }
    }

    /// Whether the cluster changed (what Flux's event text lists).
    pub fn changed(self) -> bool {
        matches!(self, Action::Created | Action::Configured | Action::Deleted)
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeSetEntry {
    pub object: ObjectRef,
    pub action: Action,
}

/// `Deployment/default/web configured`.
impl fmt::Display for ChangeSetEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.object, self.action)
    }
}

/// The entries in the order the objects were handled.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChangeSet {
    pub entries: Vec<ChangeSetEntry>,
}

impl ChangeSet {
    pub fn new() -> ChangeSet {
        ChangeSet::default()
    }

    pub fn add(&mut self, object: ObjectRef, action: Action) {
        self.entries.push(ChangeSetEntry { object, action });
    }

    pub fn append(&mut self, other: ChangeSet) {
        self.entries.extend(other.entries);
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// The action taken for `object`, if it is in the set.
    pub fn action_of(&self, object: &ObjectRef) -> Option<Action> {
        self.entries
            .iter()
            .find(|e| &e.object == object)
            .map(|e| e.action)
    }

    /// The objects whose action is not [`Action::Skipped`] (what a health check should wait for).
    pub fn objects_not_skipped(&self) -> Vec<ObjectRef> {
        self.entries
            .iter()
            .filter(|e| e.action != Action::Skipped)
            .map(|e| e.object.clone())
            .collect()
    }

    /// One line per object that changed the cluster, as in Flux's events; empty when nothing did.
    pub fn changes_summary(&self) -> String {
        let lines: Vec<String> = self
            .entries
            .iter()
            .filter(|e| e.action.changed())
            .map(ToString::to_string)
            .collect();
        lines.join("\n")
    }
}

/// One line per entry.
impl fmt::Display for ChangeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, entry) in self.entries.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{entry}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries_list_changes_only() {
        let mut cs = ChangeSet::new();
        cs.add(
            ObjectRef::new("v1", "Namespace", "", "apps"),
            Action::Created,
        );
        cs.add(
            ObjectRef::new("apps/v1", "Deployment", "apps", "web"),
            Action::Configured,
        );
        cs.add(
            ObjectRef::new("v1", "ConfigMap", "apps", "c"),
            Action::Unchanged,
        );
        cs.add(ObjectRef::new("v1", "Secret", "apps", "s"), Action::Skipped);
        assert_eq!(
            cs.changes_summary(),
            "Namespace/apps created\nDeployment/apps/web configured"
        );
        assert_eq!(cs.to_string().lines().count(), 4);
        assert_eq!(cs.objects_not_skipped().len(), 3);
        assert_eq!(
            cs.action_of(&ObjectRef::new("v1", "ConfigMap", "apps", "c")),
            Some(Action::Unchanged)
        );
    }
}
