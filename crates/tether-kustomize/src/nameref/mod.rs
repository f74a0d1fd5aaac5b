//! Name references (kustomize's `FixBackReferences` and its `nameref` filter): once every
//! rename of a build is done (prefixes, suffixes, namespaces, hash suffixes, renaming patches),
//! fields that name another resource by its old name are rewritten to its new name.
//!
//! For each referrer (a resource whose *original* kind matches a referrer field spec), each
//! field value is looked up among resources that once had that name
//! ([`Resource::previous_ids`]; a resource never renamed needs no fixing), then sieved as
//! kustomize does:
//!
//! 1. the candidate must be reachable from the referrer: same current namespace, either side
//!    cluster-scoped, or a namespace listed by a RoleBinding's ServiceAccount subjects;
//! 2. for `{name, namespace}` maps (RoleBinding subjects, webhook services) with a namespace,
//!    only candidates originally (or else currently) in that namespace;
//! 3. one of its previous ids has the referenced kind (so kind changes are followed), and for
//!    `roleRef/name` the kind and group written in `roleRef`;
//! 4. same current namespace as the referrer, unless either is cluster-scoped or the candidate
//!    is a ServiceAccount;
//! 5. if several remain, those whose prefixes and suffixes end like the referrer's, first
//!    counting a side without any as a match, then exactly; if still several and their names
//!    (and for maps, namespaces) differ, the build fails with kustomize's "found multiple
//!    possible referrals".
//!
//! Candidates are found through an index of previous names, so the work grows with the number
//! of reference fields, not with referrers × resources.

pub mod defaults;
pub(crate) mod path;

use std::cmp::Ordering;
use std::collections::HashMap;

use serde_json::{Map, Value};

use crate::config::NameBackReferences;
use crate::error::{Error, Result};
use crate::resmap::ResMap;
use crate::resource::{Gvk, ResId, Resource};

/// Rewrites name references in every resource of `resources` (kustomize's
/// `ResAccumulator.FixBackReferences`). `refs` is the merged `nameReference` configuration.
pub fn fix_back_references(resources: &mut ResMap, refs: &[NameBackReferences]) -> Result<()> {
    let infos: Vec<Info> = resources.iter().map(Info::of).collect();
    let mut by_prev_name: HashMap<&str, Vec<usize>> = HashMap::new();
    let mut by_org_ns: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, info) in infos.iter().enumerate() {
        let mut names: Vec<&str> = info.prev.iter().map(|(_, n)| n.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        for n in names {
            by_prev_name.entry(n).or_default().push(i);
        }
        if let Some(ns) = &info.org_ns {
            by_org_ns.entry(ns.as_str()).or_default().push(i);
        }
    }
    let index = Index {
        infos: &infos,
        by_prev_name,
        by_org_ns,
    };

    // kustomize keeps its nameReference list sorted by kind priority, then by GVK string;
    // the order decides which target wins when one field names several renamed kinds.
    let mut refs: Vec<&NameBackReferences> = refs.iter().collect();
    refs.sort_by(|a, b| gvk_order(&gvk_of(a), &gvk_of(b)));
    let filters: Vec<Filter> = refs
        .iter()
        .flat_map(|back| {
            let target = gvk_of(back);
            back.referrers.iter().map(move |spec| Filter {
                referrer_gvk: spec.gvk(),
                raw_path: spec.path.clone(),
                path: path::split(&spec.path),
                is_role_ref: spec.path.ends_with("roleRef/name"),
                target: target.clone(),
            })
        })
        .collect();

    // Resources share few kinds: work out once per original GVK which specs apply.
    let mut applicable: HashMap<&Gvk, Vec<&Filter>> = HashMap::new();
    for (i, resource) in resources.iter_mut().enumerate() {
        let referrer = &infos[i];
        let specs = applicable.entry(&referrer.org_gvk).or_insert_with(|| {
            filters
                .iter()
                .filter(|f| referrer.org_gvk.is_selected_by(&f.referrer_gvk))
                .collect()
        });
        let mut reachable: Option<Reachable> = None;
        for filter in specs.iter() {
            let reach = match &mut reachable {
                Some(r) => &*r,
                None => &*reachable.insert(Reachable::for_referrer(resource, referrer)?),
            };
            filter.apply(resource, i, reach, &index).map_err(|e| {
                e.context(format!(
                    "updating name reference in '{}' field of '{}'",
                    filter.raw_path, referrer.cur
                ))
            })?;
        }
    }
    Ok(())
}

fn gvk_of(back: &NameBackReferences) -> Gvk {
    Gvk::new(back.group.clone(), back.version.clone(), back.kind.clone())
}

/// kustomize's `Gvk.IsLessThan`: kinds it installs first, then others, then webhooks; ties
/// broken by `Kind.version.group`.
pub(crate) fn gvk_order(a: &Gvk, b: &Gvk) -> Ordering {
    kind_rank(&a.kind)
        .cmp(&kind_rank(&b.kind))
        .then_with(|| a.to_string().cmp(&b.to_string()))
}

fn kind_rank(kind: &str) -> i64 {
    crate::kind_order::rank(kind)
}

/// What name references need to know about a resource, read once before any rewrite.
struct Info {
    cur: ResId,
    cur_cluster_scoped: bool,
    /// Previous ids as kustomize rebuilds them from its annotations: the kind and name of each,
    /// under the *current* apiVersion.
    prev: Vec<(Gvk, String)>,
    org_gvk: Gvk,
    /// Effective namespace of the original id; `None` when that id is cluster-scoped.
    org_ns: Option<String>,
    prefixes: Vec<String>,
    suffixes: Vec<String>,
}

impl Info {
    fn of(r: &Resource) -> Info {
        let cur = r.cur_id();
        let with_kind = |kind: &str| Gvk::new(cur.gvk.group.clone(), cur.gvk.version.clone(), kind);
        let prev: Vec<(Gvk, String)> = r
            .previous_ids
            .iter()
            .map(|id| (with_kind(&id.gvk.kind), id.name.clone()))
            .collect();
        let org = match r.previous_ids.first() {
            Some(first) => ResId::new(with_kind(&first.gvk.kind), &first.name, &first.namespace),
            None => cur.clone(),
        };
        let org_ns = (!org.gvk.is_cluster_scoped()).then(|| org.effective_namespace().to_owned());
        let non_empty = |v: &[String]| v.iter().filter(|s| !s.is_empty()).cloned().collect();
        Info {
            cur_cluster_scoped: cur.gvk.is_cluster_scoped(),
            prev,
            org_gvk: org.gvk,
            org_ns,
            prefixes: non_empty(&r.prefixes),
            suffixes: non_empty(&r.suffixes),
            cur,
        }
    }

    fn previous_kind_selected_by(&self, gvk: &Gvk) -> bool {
        self.prev.iter().any(|(g, _)| g.is_selected_by(gvk))
    }

    /// kustomize's `PrefixesSuffixesEquals`: for prefixes and for suffixes, one list ends with
    /// the other; with `allow_empty`, a side without any counts as matching.
    fn same_prefixes_suffixes(&self, other: &Info, allow_empty: bool) -> bool {
        let same = |a: &[String], b: &[String]| {
            (allow_empty && (a.is_empty() || b.is_empty())) || same_ending(a, b)
        };
        same(&self.prefixes, &other.prefixes) && same(&self.suffixes, &other.suffixes)
    }
}

fn same_ending(a: &[String], b: &[String]) -> bool {
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    if short.is_empty() {
        return long.is_empty();
    }
    long.ends_with(short)
}

struct Index<'a> {
    infos: &'a [Info],
    by_prev_name: HashMap<&'a str, Vec<usize>>,
    by_org_ns: HashMap<&'a str, Vec<usize>>,
}

/// Which resources a referrer can name at all (kustomize's
/// `SubsetThatCouldBeReferencedByResource`).
struct Reachable {
    referrer_cluster_scoped: bool,
    referrer_ns: String,
    /// Namespaces of the ServiceAccount subjects of a RoleBinding.
    role_binding_namespaces: Vec<String>,
}

impl Reachable {
    fn for_referrer(r: &Resource, info: &Info) -> Result<Reachable> {
        let mut role_binding_namespaces = Vec::new();
        if r.kind() == "RoleBinding"
            && let Some(subjects) = r.object.get("subjects").and_then(Value::as_array)
        {
            for s in subjects.iter().filter_map(Value::as_object) {
                let (Some(ns), Some(kind)) = (s.get("namespace"), s.get("kind")) else {
                    continue;
                };
                if kind.as_str() != Some("ServiceAccount") {
                    continue;
                }
                match ns.as_str() {
                    Some(ns) => role_binding_namespaces.push(ns.to_owned()),
                    None => {
                        return Err(Error::msg(format!(
                            "Invalid Input: namespace is blank for resource \"{}\"",
                            info.cur
                        )));
                    }
                }
            }
        }
        Ok(Reachable {
            referrer_cluster_scoped: info.cur_cluster_scoped,
            referrer_ns: info.cur.effective_namespace().to_owned(),
            role_binding_namespaces,
        })
    }

    fn reaches(&self, c: &Info) -> bool {
        self.referrer_cluster_scoped
            || c.cur_cluster_scoped
            || c.cur.effective_namespace() == self.referrer_ns
            || self.role_binding_namespaces.contains(&c.cur.namespace)
    }
}

/// One referrer field spec of one referenced kind.
struct Filter {
    referrer_gvk: Gvk,
    raw_path: String,
    path: Vec<String>,
    is_role_ref: bool,
    target: Gvk,
}

/// Everything one rewrite needs to choose a referral.
struct Ctx<'a> {
    referrer: usize,
    reach: &'a Reachable,
    index: &'a Index<'a>,
    target: &'a Gvk,
    role_ref: Option<Gvk>,
    /// Set when a field had several possible referrals.
    ambiguous: bool,
}

impl Filter {
    fn apply(
        &self,
        r: &mut Resource,
        i: usize,
        reach: &Reachable,
        index: &Index<'_>,
    ) -> Result<()> {
        let role_ref = if self.is_role_ref {
            role_ref_gvk(&r.object)
        } else {
            None
        };
        let mut ctx = Ctx {
            referrer: i,
            reach,
            index,
            target: &self.target,
            role_ref,
            ambiguous: false,
        };
        let result = path::walk(&mut r.object, &self.path, &mut |node| ctx.set(node));
        match result {
            // Like kustomize, show the referrer so the user can tell which field is at fault.
            Err(Error::Message(m)) if ctx.ambiguous => Err(Error::msg(format!(
                "{m}\n**** Too many possible referral targets to referrer:\n{}",
                tether_yaml::to_yaml(&r.object)
            ))),
            other => other,
        }
    }
}

/// `roleRef`'s group and kind; `None` (no restriction) when either is missing.
fn role_ref_gvk(object: &Value) -> Option<Gvk> {
    let role_ref = object.get("roleRef")?;
    let group = role_ref.get("apiGroup")?;
    let kind = role_ref.get("kind")?;
    Some(Gvk::new(
        scalar_text(group).unwrap_or_default(),
        "",
        scalar_text(kind).unwrap_or_default(),
    ))
}

fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

impl Ctx<'_> {
    fn set(&mut self, node: &mut Value) -> Result<()> {
        match node {
            Value::Null => Ok(()),
            Value::Object(map) => self.set_mapping(map),
            Value::Array(items) => {
                for item in items {
                    match item {
                        Value::Null => {}
                        Value::Object(map) => self.set_mapping(map)?,
                        Value::Array(_) => {
                            return Err(Error::msg(
                                "list element is expected to be either a string or a map of string",
                            ));
                        }
                        scalar => self.set_scalar(scalar)?,
                    }
                }
                Ok(())
            }
            scalar => self.set_scalar(scalar),
        }
    }

    fn set_scalar(&mut self, node: &mut Value) -> Result<()> {
        let Some(old) = scalar_text(node) else {
            return Ok(());
        };
        let candidates = self.candidates(&old, None);
        let Some(referral) = self.select(candidates, false)? else {
            return Ok(());
        };
        let new = &self.index.infos[referral].cur.name;
        if *new != old {
            *node = Value::String(new.clone());
        }
        Ok(())
    }

    fn set_mapping(&mut self, map: &mut Map<String, Value>) -> Result<()> {
        let Some(name) = map.get("name") else {
            return Err(Error::msg("path config error; no 'name' field in node"));
        };
        let old = scalar_text(name).unwrap_or_default();
        let ns = map
            .get("namespace")
            .map(|v| scalar_text(v).unwrap_or_default());
        let candidates = self.candidates(&old, ns.as_deref());
        let Some(referral) = self.select(candidates, true)? else {
            return Ok(());
        };
        let info = &self.index.infos[referral].cur;
        if info.name == old && info.namespace.is_empty() {
            return Ok(());
        }
        map.insert("name".into(), Value::String(info.name.clone()));
        // An empty namespace would replace "default" with a wildcard; leave it alone.
        if !info.namespace.is_empty() {
            map.insert("namespace".into(), Value::String(info.namespace.clone()));
        }
        Ok(())
    }

    /// Reachable resources once named `old`, in build order; with `ns`, only those
    /// originally in `ns` (or, when no reachable resource was originally there, currently).
    fn candidates(&self, old: &str, ns: Option<&str>) -> Vec<usize> {
        let infos = self.index.infos;
        let Some(named) = self.index.by_prev_name.get(old) else {
            return Vec::new();
        };
        let reachable = named
            .iter()
            .copied()
            .filter(|&c| self.reach.reaches(&infos[c]));
        let Some(ns) = ns else {
            return reachable.collect();
        };
        let by_original = self
            .index
            .by_org_ns
            .get(ns)
            .is_some_and(|group| group.iter().any(|&c| self.reach.reaches(&infos[c])));
        if by_original {
            reachable
                .filter(|&c| infos[c].org_ns.as_deref() == Some(ns))
                .collect()
        } else {
            reachable
                .filter(|&c| {
                    !infos[c].cur_cluster_scoped && infos[c].cur.effective_namespace() == ns
                })
                .collect()
        }
    }

    /// kustomize's `selectReferral`.
    fn select(&mut self, mut c: Vec<usize>, with_namespace: bool) -> Result<Option<usize>> {
        let infos = self.index.infos;
        let referrer = &infos[self.referrer];
        c.retain(|&i| infos[i].previous_kind_selected_by(self.target));
        if let Some(role_ref) = &self.role_ref {
            c.retain(|&i| infos[i].previous_kind_selected_by(role_ref));
        }
        if !referrer.cur_cluster_scoped {
            c.retain(|&i| {
                let cand = &infos[i];
                cand.cur_cluster_scoped
                    || cand.cur.gvk.kind == "ServiceAccount"
                    || cand.cur.ns_equals(&referrer.cur)
            });
        }
        if c.len() == 1 {
            return Ok(Some(c[0]));
        }
        // First leniently (a referrer or candidate that got no prefix, or no suffix, matches
        // any), then exactly; a tie that survives both is ambiguous.
        c.retain(|&i| infos[i].same_prefixes_suffixes(referrer, true));
        if c.len() == 1 {
            return Ok(Some(c[0]));
        }
        c.retain(|&i| infos[i].same_prefixes_suffixes(referrer, false));
        match c.len() {
            0 => return Ok(None),
            1 => return Ok(Some(c[0])),
            _ => {}
        }
        let first = &infos[c[0]].cur;
        let identical = c.iter().all(|&i| {
            let id = &infos[i].cur;
            id.name == first.name && (!with_namespace || id.namespace == first.namespace)
        });
        if identical {
            return Ok(Some(c[0]));
        }
        let ids: Vec<String> = c.iter().map(|&i| infos[i].cur.to_string()).collect();
        self.ambiguous = true;
        Err(Error::msg(format!(
            " found multiple possible referrals: {}",
            ids.join(", ")
        )))
    }
}

#[cfg(test)]
mod tests;
