//! Sets of field paths (smd's `fieldpath.Set`): a tree whose nodes list member elements and
//! child subsets, each sorted by [`PathElement`] order.

use std::cmp::Ordering;
use std::fmt;

use super::{Path, PathElement};

/// A set of field paths. A path is a member when its last element is in the member list of the
/// node reached by the elements before it; a node with children is not a member by itself.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Set {
    members: Vec<PathElement>,
    children: Vec<(PathElement, Set)>,
}

impl Set {
    pub fn new() -> Self {
        Set::default()
    }

    /// A set of the given paths.
    pub fn from_paths<'a>(paths: impl IntoIterator<Item = &'a Path>) -> Self {
        let mut set = Set::new();
        for p in paths {
            set.insert(&p.0);
        }
        set
    }

    /// The direct members of this node, sorted.
    pub fn members(&self) -> &[PathElement] {
        &self.members
    }

    /// The child subsets of this node, sorted by element.
    pub fn children(&self) -> &[(PathElement, Set)] {
        &self.children
    }

    pub(crate) fn from_parts(members: Vec<PathElement>, children: Vec<(PathElement, Set)>) -> Self {
        Set { members, children }
    }

    /// Adds a path. Parents are not added. The empty path (the whole object) is never tracked.
    pub fn insert(&mut self, path: &[PathElement]) {
        let Some((last, parents)) = path.split_last() else {
            return;
        };
        let mut node = self;
        for pe in parents {
            node = node.descend(pe);
        }
        if let Err(at) = node.members.binary_search(last) {
            node.members.insert(at, last.clone());
        }
    }

    /// Adds a single member element to this node.
    pub(crate) fn insert_member(&mut self, pe: &PathElement) {
        if let Err(at) = self.members.binary_search(pe) {
            self.members.insert(at, pe.clone());
        }
    }

    /// The child subset for `pe`, created when missing.
    pub(crate) fn descend(&mut self, pe: &PathElement) -> &mut Set {
        let at = match self.children.binary_search_by(|(e, _)| e.cmp(pe)) {
            Ok(at) => at,
            Err(at) => {
                self.children.insert(at, (pe.clone(), Set::new()));
                at
            }
        };
        &mut self.children[at].1
    }

    /// Whether `path` is a member.
    pub fn has(&self, path: &[PathElement]) -> bool {
        let Some((last, parents)) = path.split_last() else {
            return false;
        };
        let mut node = self;
        for pe in parents {
            match node.child(pe) {
                Some(child) => node = child,
                None => return false,
            }
        }
        node.has_member(last)
    }

    /// Whether `pe` is a direct member of this node.
    pub fn has_member(&self, pe: &PathElement) -> bool {
        self.members.binary_search(pe).is_ok()
    }

    /// The child subset under `pe`, if any.
    pub fn child(&self, pe: &PathElement) -> Option<&Set> {
        self.children
            .binary_search_by(|(e, _)| e.cmp(pe))
            .ok()
            .map(|at| &self.children[at].1)
    }

    /// The paths below `pe`, without `pe` itself (smd's `WithPrefix`).
    pub fn with_prefix(&self, pe: &PathElement) -> Option<&Set> {
        self.child(pe)
    }

    /// True when no path is a member.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty() && self.children.iter().all(|(_, s)| s.is_empty())
    }

    /// The number of member paths.
    pub fn len(&self) -> usize {
        self.members.len() + self.children.iter().map(|(_, s)| s.len()).sum::<usize>()
    }

    /// Paths in either set.
    pub fn union(&self, other: &Set) -> Set {
        Set {
            members: merge_sorted(&self.members, &other.members),
            children: merge_join(&self.children, &other.children, |a, b| match (a, b) {
                (Some(a), Some(b)) => Some(a.union(b)),
                (Some(s), None) | (None, Some(s)) => Some(s.clone()),
                (None, None) => None,
            }),
        }
    }

    /// Paths in both sets.
    pub fn intersection(&self, other: &Set) -> Set {
        let members = self
            .members
            .iter()
            .filter(|pe| other.has_member(pe))
            .cloned()
            .collect();
        Set {
            members,
            children: merge_join(&self.children, &other.children, |a, b| match (a, b) {
                (Some(a), Some(b)) => Some(a.intersection(b)).filter(|s| !s.is_empty()),
                _ => None,
            }),
        }
    }

    /// Paths of `self` that are not members of `other`. Children of a removed member stay.
    pub fn difference(&self, other: &Set) -> Set {
        let members = self
            .members
            .iter()
            .filter(|pe| !other.has_member(pe))
            .cloned()
            .collect();
        Set {
            members,
            children: merge_join(&self.children, &other.children, |a, b| match (a, b) {
                (Some(a), Some(b)) => Some(a.difference(b)).filter(|s| !s.is_empty()),
                (Some(a), None) => Some(a.clone()),
                _ => None,
            }),
        }
    }

    /// Paths of `self` that are neither members of `other` nor below one of its members.
    pub fn recursive_difference(&self, other: &Set) -> Set {
        let members = self
            .members
            .iter()
            .filter(|pe| !other.has_member(pe))
            .cloned()
            .collect();
        let mut children = Vec::with_capacity(self.children.len());
        for (pe, set) in &self.children {
            if other.has_member(pe) {
                continue;
            }
            match other.child(pe) {
                Some(o) => {
                    let d = set.recursive_difference(o);
                    if !d.is_empty() {
                        children.push((pe.clone(), d));
                    }
                }
                None => children.push((pe.clone(), set.clone())),
            }
        }
        Set { members, children }
    }

    /// Only the members that have no children in the set.
    pub fn leaves(&self) -> Set {
        let members = self
            .members
            .iter()
            .filter(|pe| self.child(pe).is_none())
            .cloned()
            .collect();
        Set {
            members,
            children: self
                .children
                .iter()
                .map(|(pe, s)| (pe.clone(), s.leaves()))
                .collect(),
        }
    }

    /// Every member path, depth first: a node's members before its children's paths.
    pub fn paths(&self) -> Vec<Path> {
        let mut out = Vec::new();
        self.for_each_path(|p| out.push(Path(p.to_vec())));
        out
    }

    /// Calls `f` with every member path (see [`Set::paths`]).
    pub fn for_each_path(&self, mut f: impl FnMut(&[PathElement])) {
        let mut prefix = Vec::new();
        self.walk(&mut prefix, &mut f);
    }

    fn walk(&self, prefix: &mut Vec<PathElement>, f: &mut impl FnMut(&[PathElement])) {
        for pe in &self.members {
            prefix.push(pe.clone());
            f(prefix);
            prefix.pop();
        }
        for (pe, set) in &self.children {
            prefix.push(pe.clone());
            set.walk(prefix, f);
            prefix.pop();
        }
    }

    /// Keeps only paths that start with one of `prefixes` (every element equal), and everything
    /// below them (smd's include filter built from prefix matchers).
    pub fn filter_prefixes(&self, prefixes: &[Path]) -> Set {
        let mut out = Set::new();
        for prefix in prefixes {
            out = out.union(&self.filter_prefix(&prefix.0));
        }
        out
    }

    fn filter_prefix(&self, prefix: &[PathElement]) -> Set {
        let Some((first, rest)) = prefix.split_first() else {
            return self.clone();
        };
        let mut out = Set::new();
        if rest.is_empty() && self.has_member(first) {
            out.members.push(first.clone());
        }
        if let Some(child) = self.child(first) {
            let sub = child.filter_prefix(rest);
            if !sub.is_empty() {
                out.children.push((first.clone(), sub));
            }
        }
        out
    }
}

/// Builds one node of a set bottom-up, for walkers that visit a value once: members and children
/// arrive in value order and are sorted once at the end.
#[derive(Debug, Default)]
pub(crate) struct SetBuilder {
    members: Vec<PathElement>,
    children: Vec<(PathElement, Set)>,
}

impl SetBuilder {
    pub(crate) fn member(&mut self, pe: PathElement) {
        self.members.push(pe);
    }

    pub(crate) fn child(&mut self, pe: PathElement, set: Set) {
        if !set.is_empty() {
            self.children.push((pe, set));
        }
    }

    pub(crate) fn finish(mut self) -> Set {
        if self.members.len() > 1 {
            self.members.sort();
            self.members.dedup();
        }
        if self.children.len() > 1 {
            self.children.sort_by(|a, b| a.0.cmp(&b.0));
            let mut merged: Vec<(PathElement, Set)> = Vec::with_capacity(self.children.len());
            for (pe, set) in self.children {
                match merged.last_mut() {
                    Some((last, existing)) if *last == pe => *existing = existing.union(&set),
                    _ => merged.push((pe, set)),
                }
            }
            self.children = merged;
        }
        Set {
            members: self.members,
            children: self.children,
        }
    }
}

fn merge_sorted(a: &[PathElement], b: &[PathElement]) -> Vec<PathElement> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            Ordering::Less => {
                out.push(a[i].clone());
                i += 1;
            }
            Ordering::Greater => {
                out.push(b[j].clone());
                j += 1;
            }
            Ordering::Equal => {
                out.push(a[i].clone());
                i += 1;
                j += 1;
            }
        }
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
    out
}

/// Walks two sorted child lists together, keeping what `f` returns for each element.
fn merge_join(
    a: &[(PathElement, Set)],
    b: &[(PathElement, Set)],
    f: impl Fn(Option<&Set>, Option<&Set>) -> Option<Set>,
) -> Vec<(PathElement, Set)> {
    let mut out = Vec::with_capacity(a.len().max(b.len()));
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        let order = match (a.get(i), b.get(j)) {
            (Some(x), Some(y)) => x.0.cmp(&y.0),
            (Some(_), None) => Ordering::Less,
            _ => Ordering::Greater,
        };
        let (pe, result) = match order {
            Ordering::Less => {
                i += 1;
                (&a[i - 1].0, f(Some(&a[i - 1].1), None))
            }
            Ordering::Greater => {
                j += 1;
                (&b[j - 1].0, f(None, Some(&b[j - 1].1)))
            }
            Ordering::Equal => {
                i += 1;
                j += 1;
                (&a[i - 1].0, f(Some(&a[i - 1].1), Some(&b[j - 1].1)))
            }
        };
        if let Some(set) = result {
            out.push((pe.clone(), set));
        }
    }
    out
}

impl fmt::Display for Set {
    /// One path per line, as smd prints sets.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        let mut result = Ok(());
        self.for_each_path(|p| {
            if result.is_err() {
                return;
            }
            if !first {
                result = f.write_str("\n");
            }
            first = false;
            for pe in p {
                if result.is_ok() {
                    result = write!(f, "{pe}");
                }
            }
        });
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &[&str]) -> Vec<PathElement> {
        s.iter().map(|n| PathElement::field(n)).collect()
    }

    fn set(paths: &[&[&str]]) -> Set {
        let mut s = Set::new();
        for path in paths {
            s.insert(&p(path));
        }
        s
    }

    #[test]
    fn set_operations_follow_smd() {
        let a = set(&[&["a"], &["a", "b"], &["c", "d"]]);
        let b = set(&[&["a", "b"], &["c"], &["e"]]);
        assert_eq!(a.union(&b).to_string(), ".a\n.c\n.e\n.a.b\n.c.d");
        assert_eq!(a.intersection(&b).to_string(), ".a.b");
        // Plain difference keeps `.c.d` although `.c` is removed; the recursive one does not.
        assert_eq!(a.difference(&b).to_string(), ".a\n.c.d");
        assert_eq!(a.recursive_difference(&b).to_string(), ".a");
        assert_eq!(a.leaves().to_string(), ".a.b\n.c.d");
        assert!(a.has(&p(&["c", "d"])) && !a.has(&p(&["c"])));
        assert_eq!(a.len(), 3);
        assert!(set(&[]).is_empty());
        assert_eq!(
            a.filter_prefixes(&[Path::fields(["c"])]).to_string(),
            ".c.d"
        );
    }
}
