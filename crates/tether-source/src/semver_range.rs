//! Flux's `spec.ref.semver`: a Masterminds/semver constraint over the remote's tags.
//!
//! The `semver` crate speaks Cargo's dialect, where a bare `1.2.3` means `^1.2.3`; Flux's means
//! `=1.2.3`. So constraints are rewritten comparator by comparator: bare versions get `=`,
//! `~>` becomes `~`, a leading `v` is dropped, `a - b` becomes `>=a, <=b`, spaces and commas both
//! separate comparators of one alternative, `||` separates alternatives, and `!=v` is checked
//! beside the requirement (Cargo has no such operator).

use semver::{Version, VersionReq};

#[derive(Debug)]
pub(crate) struct Range {
    alternatives: Vec<Alternative>,
}

#[derive(Debug)]
struct Alternative {
    req: VersionReq,
    excluded: Vec<Version>,
}

impl Range {
    pub(crate) fn parse(range: &str) -> Result<Range, String> {
        let alternatives = range
            .split("||")
            .map(parse_alternative)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Range { alternatives })
    }

    pub(crate) fn matches(&self, version: &Version) -> bool {
        self.alternatives
            .iter()
            .any(|a| a.req.matches(version) && !a.excluded.contains(version))
    }
}

fn parse_alternative(text: &str) -> Result<Alternative, String> {
    // Glue operators written apart from their version (`>= 1.2`) back on.
    let mut tokens: Vec<String> = Vec::new();
    let mut pending_op = String::new();
    for raw in text.split(|c: char| c.is_whitespace() || c == ',') {
        if raw.is_empty() {
            continue;
        }
        if raw.chars().all(|c| "<>=!~^".contains(c)) && raw != "-" {
            pending_op.push_str(raw);
            continue;
        }
        tokens.push(format!("{pending_op}{raw}"));
        pending_op.clear();
    }
    if !pending_op.is_empty() {
        return Err(format!("operator '{pending_op}' has no version"));
    }
    let mut comparators = Vec::new();
    let mut excluded = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        if tokens.get(i + 1).map(String::as_str) == Some("-") {
            let upper = tokens
                .get(i + 2)
                .ok_or_else(|| format!("range '{} -' has no upper bound", tokens[i]))?;
            comparators.push(format!(">={}", strip_v(&tokens[i])));
            comparators.push(format!("<={}", strip_v(upper)));
            i += 3;
            continue;
        }
        let token = &tokens[i];
        i += 1;
        let split = token
            .find(|c: char| !"<>=!~^".contains(c))
            .unwrap_or(token.len());
        let (op, version) = token.split_at(split);
        let version = strip_v(version);
        if version.is_empty() {
            return Err(format!("comparator '{token}' has no version"));
        }
        match op {
            "!=" => excluded.push(Version::parse(version).map_err(|e| format!("'{token}': {e}"))?),
            "" | "=" if is_wildcard(version) => comparators.push("*".to_owned()),
            "" => comparators.push(format!("={version}")),
            "~>" => comparators.push(format!("~{version}")),
            "=" | ">" | "<" | ">=" | "<=" | "~" | "^" => comparators.push(format!("{op}{version}")),
            other => return Err(format!("unknown operator '{other}' in '{token}'")),
        }
    }
    if comparators.is_empty() {
        comparators.push("*".to_owned());
    }
    let req_text = comparators.join(", ");
    let req = VersionReq::parse(&req_text).map_err(|e| format!("'{}': {e}", text.trim()))?;
    Ok(Alternative { req, excluded })
}

fn strip_v(version: &str) -> &str {
    version.strip_prefix('v').unwrap_or(version)
}

fn is_wildcard(version: &str) -> bool {
    matches!(version, "*" | "x" | "X")
}

/// A tag as a version, as Flux parses it: strict SemVer 2.0 after an optional leading `v`.
pub(crate) fn tag_version(tag: &str) -> Option<Version> {
    Version::parse(strip_v(tag)).ok()
}

/// The tag with the highest version that `range` matches.
pub(crate) fn best_tag<'a>(
    range: &Range,
    tags: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    tags.into_iter()
        .filter_map(|tag| tag_version(tag).map(|v| (v, tag)))
        .filter(|(v, _)| range.matches(v))
        .max_by(|(a, ta), (b, tb)| a.cmp(b).then_with(|| ta.cmp(tb)))
        .map(|(_, tag)| tag)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pick(range: &str, tags: &[&'static str]) -> Option<&'static str> {
        best_tag(&Range::parse(range).unwrap(), tags.iter().copied())
    }

    const TAGS: &[&str] = &[
        "v0.9.0",
        "v1.0.0",
        "v1.2.3",
        "1.2.4",
        "v1.3.0-rc.1",
        "v2.0.0",
        "latest",
        "v1.2",
    ];

    #[test]
    fn ranges_pick_the_highest_matching_tag() {
        assert_eq!(pick(">=1.0.0 <2.0.0", TAGS), Some("1.2.4"));
        assert_eq!(pick(">=1.0.0, <2.0.0", TAGS), Some("1.2.4"));
        assert_eq!(pick("~1.2", TAGS), Some("1.2.4"));
        assert_eq!(pick("^1", TAGS), Some("1.2.4"));
        assert_eq!(pick("*", TAGS), Some("v2.0.0"));
        assert_eq!(pick("1.x", TAGS), Some("1.2.4"));
        assert_eq!(pick("v1.0.0 - v1.2.3", TAGS), Some("v1.2.3"));
        assert_eq!(pick("<1.0.0 || >=2.0.0", TAGS), Some("v2.0.0"));
        assert_eq!(pick(">= 1.0.0 != 1.2.4 < 2.0.0", TAGS), Some("v1.2.3"));
    }

    #[test]
    fn a_bare_version_is_exact_as_in_masterminds() {
        // Cargo would read `1.2.3` as `^1.2.3` and pick 1.2.4.
        assert_eq!(pick("1.2.3", TAGS), Some("v1.2.3"));
        assert_eq!(pick("v1.0.0", TAGS), Some("v1.0.0"));
    }

    #[test]
    fn prereleases_only_when_asked_for() {
        assert_eq!(pick(">=1.3.0-rc.0", TAGS), Some("v2.0.0"));
        assert_eq!(pick(">=1.3.0-rc.0 <2.0.0", TAGS), Some("v1.3.0-rc.1"));
        assert_eq!(pick("~1.3", TAGS), None);
    }

    #[test]
    fn tags_that_are_not_strict_semver_are_skipped() {
        assert_eq!(tag_version("v1.2"), None);
        assert_eq!(tag_version("latest"), None);
        assert_eq!(tag_version("v1.2.3").unwrap(), Version::new(1, 2, 3));
    }

    #[test]
    fn bad_ranges_are_errors() {
        assert!(Range::parse(">=").is_err());
        assert!(Range::parse("not-a-version").is_err());
    }
}
