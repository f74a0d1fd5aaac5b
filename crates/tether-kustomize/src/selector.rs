//! Resource selectors of patches, replacements and transformers (kustomize's
//! `types.Selector`): GVK, anchored regular expressions on name and namespace, and label and
//! annotation selectors in Kubernetes' selector syntax.

use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::resmap::ResMap;
use crate::resource::Resource;

/// A selector as written in a kustomization (`target:`, `select:`, `reject:`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Selector {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub group: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub version: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub namespace: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub label_selector: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub annotation_selector: String,
}

/// A [`Selector`] with its expressions compiled.
#[derive(Debug, Clone)]
pub struct CompiledSelector {
    group: Option<Regex>,
    version: Option<Regex>,
    kind: Option<Regex>,
    name: Option<Regex>,
    namespace: Option<Regex>,
    labels: Vec<Requirement>,
    annotations: Vec<Requirement>,
}

fn anchored(what: &str, pattern: &str) -> Result<Option<Regex>> {
    if pattern.is_empty() {
        return Ok(None);
    }
    Regex::new(&format!("^(?:{pattern})$"))
        .map(Some)
        .map_err(|e| {
            Error::msg(format!(
                "invalid {what} regular expression {pattern:?}: {e}"
            ))
        })
}

impl Selector {
    pub fn compile(&self) -> Result<CompiledSelector> {
        Ok(CompiledSelector {
            group: anchored("group", &self.group)?,
            version: anchored("version", &self.version)?,
            kind: anchored("kind", &self.kind)?,
            name: anchored("name", &self.name)?,
            namespace: anchored("namespace", &self.namespace)?,
            labels: parse_selector(&self.label_selector)?,
            annotations: parse_selector(&self.annotation_selector)?,
        })
    }
}

impl CompiledSelector {
    /// Whether the selector picks `r`: name and namespace may match the original or the
    /// current id, as kustomize's `ResMap.Select` does.
    pub fn matches(&self, r: &Resource) -> bool {
        let (org, cur) = (r.org_id(), r.cur_id());
        if let Some(ns) = &self.namespace
            && !ns.is_match(org.effective_namespace())
            && !ns.is_match(cur.effective_namespace())
        {
            return false;
        }
        if let Some(name) = &self.name
            && !name.is_match(&org.name)
            && !name.is_match(&cur.name)
        {
            return false;
        }
        // Group, version and kind are regular expressions too (`kind: Deployment|StatefulSet`).
        let gvk_matches = |re: &Option<Regex>, s: &str| re.as_ref().is_none_or(|re| re.is_match(s));
        if !gvk_matches(&self.group, &cur.gvk.group)
            || !gvk_matches(&self.version, &cur.gvk.version)
            || !gvk_matches(&self.kind, &cur.gvk.kind)
        {
            return false;
        }
        matches_all(&self.labels, &r.labels()) && matches_all(&self.annotations, &r.annotations())
    }

    /// Indexes of the resources of `resources` this selector picks.
    pub fn select(&self, resources: &ResMap) -> Vec<usize> {
        (0..resources.len())
            .filter(|&i| self.matches(&resources.resources[i]))
            .collect()
    }
}

/// One requirement of a label selector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requirement {
    Exists(String),
    NotExists(String),
    Equals(String, String),
    NotEquals(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Greater(String, i64),
    Less(String, i64),
}

fn matches_all(reqs: &[Requirement], pairs: &[(String, String)]) -> bool {
    let get = |k: &str| {
        pairs
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
    };
    reqs.iter().all(|req| match req {
        Requirement::Exists(k) => get(k).is_some(),
        Requirement::NotExists(k) => get(k).is_none(),
        Requirement::Equals(k, v) => get(k) == Some(v.as_str()),
        Requirement::NotEquals(k, v) => get(k) != Some(v.as_str()),
        Requirement::In(k, vs) => get(k).is_some_and(|x| vs.iter().any(|v| v == x)),
        Requirement::NotIn(k, vs) => get(k).is_none_or(|x| !vs.iter().any(|v| v == x)),
        Requirement::Greater(k, n) => get(k)
            .and_then(|x| x.parse::<i64>().ok())
            .is_some_and(|x| x > *n),
        Requirement::Less(k, n) => get(k)
            .and_then(|x| x.parse::<i64>().ok())
            .is_some_and(|x| x < *n),
    })
}

/// Parses a Kubernetes label selector (`app=web,tier in (a,b),!legacy`).
pub fn parse_selector(text: &str) -> Result<Vec<Requirement>> {
    let err = |m: &str| {
        Error::msg(format!(
            "unable to parse requirement: {m} in selector {text:?}"
        ))
    };
    let mut reqs = Vec::new();
    for part in split_top_level(text) {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        if let Some(key) = part.strip_prefix('!') {
            reqs.push(Requirement::NotExists(key.trim().to_owned()));
            continue;
        }
        if let Some((key, set)) = split_set_op(part, " notin ") {
            reqs.push(Requirement::NotIn(
                key,
                parse_set(set).ok_or_else(|| err(part))?,
            ));
        } else if let Some((key, set)) = split_set_op(part, " in ") {
            reqs.push(Requirement::In(
                key,
                parse_set(set).ok_or_else(|| err(part))?,
            ));
        } else if let Some((k, v)) = part.split_once("!=") {
            reqs.push(Requirement::NotEquals(
                k.trim().to_owned(),
                v.trim().to_owned(),
            ));
        } else if let Some((k, v)) = part.split_once("==") {
            reqs.push(Requirement::Equals(
                k.trim().to_owned(),
                v.trim().to_owned(),
            ));
        } else if let Some((k, v)) = part.split_once('=') {
            reqs.push(Requirement::Equals(
                k.trim().to_owned(),
                v.trim().to_owned(),
            ));
        } else if let Some((k, v)) = part.split_once('>') {
            let n = v.trim().parse().map_err(|_| err(part))?;
            reqs.push(Requirement::Greater(k.trim().to_owned(), n));
        } else if let Some((k, v)) = part.split_once('<') {
            let n = v.trim().parse().map_err(|_| err(part))?;
            reqs.push(Requirement::Less(k.trim().to_owned(), n));
        } else {
            reqs.push(Requirement::Exists(part.to_owned()));
        }
    }
    Ok(reqs)
}

/// Splits on commas outside parentheses.
fn split_top_level(text: &str) -> Vec<&str> {
    let (mut parts, mut depth, mut start) = (Vec::new(), 0i32, 0);
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

fn split_set_op<'a>(part: &'a str, op: &str) -> Option<(String, &'a str)> {
    let i = part.find(op)?;
    Some((part[..i].trim().to_owned(), part[i + op.len()..].trim()))
}

fn parse_set(set: &str) -> Option<Vec<String>> {
    let inner = set.strip_prefix('(')?.strip_suffix(')')?;
    Some(
        inner
            .split(',')
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect(),
    )
}
