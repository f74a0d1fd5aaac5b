//! Which files leave the artifact: source-controller's rules.
//!
//! Patterns come in this order (lowest priority first): the VCS defaults
//! ([`EXCLUDE_VCS`]); every `.sourceignore` in the tree (the root's first, then each directory's
//! before its subdirectories', names in byte order), each applying below its own directory; then
//! `spec.ignore` at the root. When there are no patterns besides the VCS ones (no
//! `.sourceignore` lines, no `spec.ignore`), Flux's default excludes ([`EXCLUDE_EXT`],
//! [`EXCLUDE_CI`], [`EXCLUDE_EXTRA`]) apply as well. As in go-git's matcher, which Flux uses,
//! the last pattern that matches a path or one of its parent directories decides, so a later
//! `!pattern` can re-include a file inside an excluded directory. Each pattern is matched with
//! the `ignore` crate's gitignore implementation.

use ignore::Match;
use ignore::gitignore::{Gitignore, GitignoreBuilder};

use crate::ArtifactError;

/// The file holding ignore rules for its directory and everything below it.
pub const IGNORE_FILE: &str = ".sourceignore";
/// Always excluded.
pub const EXCLUDE_VCS: &str = ".git/,.gitignore,.gitmodules,.gitattributes";
/// Excluded when no `.sourceignore` or `spec.ignore` gives patterns.
pub const EXCLUDE_EXT: &str = "*.jpg,*.jpeg,*.gif,*.png,*.wmv,*.flv,*.tar.gz,*.zip";
/// Excluded when no `.sourceignore` or `spec.ignore` gives patterns.
pub const EXCLUDE_CI: &str = ".github/,.circleci/,.travis.yml,.gitlab-ci.yml,appveyor.yml,.drone.yml,cloudbuild.yaml,codeship-services.yml,codeship-steps.yml";
/// Excluded when no `.sourceignore` or `spec.ignore` gives patterns.
pub const EXCLUDE_EXTRA: &str = "**/.goreleaser.yml,**/.sops.yaml,**/.flux.yaml";

struct Pattern {
    /// The directory the pattern applies below, `""` for the root.
    domain: String,
    matcher: Gitignore,
}

pub(crate) struct IgnoreRules {
    /// Lowest priority first.
    patterns: Vec<Pattern>,
}

fn parse(domain: &str, line: &str, origin: &str) -> Result<Pattern, ArtifactError> {
    let mut builder = GitignoreBuilder::new("");
    builder
        .add_line(None, line)
        .map_err(|e| ArtifactError::Ignore {
            origin: origin.to_owned(),
            detail: e.to_string(),
        })?;
    let matcher = builder.build().map_err(|e| ArtifactError::Ignore {
        origin: origin.to_owned(),
        detail: e.to_string(),
    })?;
    Ok(Pattern {
        domain: domain.to_owned(),
        matcher,
    })
}

/// Flux's `ReadPatterns`: every line that is neither blank nor a comment.
fn lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
}

impl IgnoreRules {
    /// `sourceignores` holds `(directory, contents)` for every `.sourceignore`, directory `""`
    /// for the root, in any order.
    pub(crate) fn new(
        mut sourceignores: Vec<(String, String)>,
        spec_ignore: Option<&str>,
    ) -> Result<IgnoreRules, ArtifactError> {
        // Parent before child, siblings by name: the order Flux's recursive walk reads them.
        sourceignores.sort_by(|(a, _), (b, _)| {
            let a: Vec<&str> = a.split('/').filter(|s| !s.is_empty()).collect();
            let b: Vec<&str> = b.split('/').filter(|s| !s.is_empty()).collect();
            a.cmp(&b)
        });
        let mut user = Vec::new();
        for (dir, text) in &sourceignores {
            let origin = if dir.is_empty() {
                IGNORE_FILE.to_owned()
            } else {
                format!("{dir}/{IGNORE_FILE}")
            };
            for line in lines(text) {
                user.push(parse(dir, line, &origin)?);
            }
        }
        if let Some(text) = spec_ignore {
            for line in lines(text) {
                user.push(parse("", line, "spec.ignore")?);
            }
        }
        let mut patterns = Vec::new();
        for p in EXCLUDE_VCS.split(',') {
            patterns.push(parse("", p, "the default excludes")?);
        }
        if user.is_empty() {
            for list in [EXCLUDE_EXT, EXCLUDE_CI, EXCLUDE_EXTRA] {
                for p in list.split(',') {
                    patterns.push(parse("", p, "the default excludes")?);
                }
            }
        }
        patterns.extend(user);
        Ok(IgnoreRules { patterns })
    }

    /// Whether `path` (relative, `/`-separated) stays out of the artifact.
    pub(crate) fn is_ignored(&self, path: &str, is_dir: bool) -> bool {
        for pattern in self.patterns.iter().rev() {
            let rel = if pattern.domain.is_empty() {
                path
            } else {
                // A pattern never applies to its own directory, only below it.
                match path
                    .strip_prefix(pattern.domain.as_str())
                    .and_then(|rest| rest.strip_prefix('/'))
                {
                    Some(rest) if !rest.is_empty() => rest,
                    _ => continue,
                }
            };
            match pattern.matcher.matched_path_or_any_parents(rel, is_dir) {
                Match::Ignore(_) => return true,
                Match::Whitelist(_) => return false,
                Match::None => {}
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(files: &[(&str, &str)], spec: Option<&str>) -> IgnoreRules {
        IgnoreRules::new(
            files
                .iter()
                .map(|(d, t)| (d.to_string(), t.to_string()))
                .collect(),
            spec,
        )
        .unwrap()
    }

    #[test]
    fn defaults_apply_only_without_user_patterns() {
        let none = rules(&[], None);
        assert!(none.is_ignored("logo.png", false));
        assert!(none.is_ignored(".github/workflows/ci.yaml", false));
        assert!(none.is_ignored("deep/dir/.sops.yaml", false));
        assert!(none.is_ignored(".gitignore", false));
        assert!(!none.is_ignored("deploy/app.yaml", false));

        let some = rules(&[("", "*.txt\n")], None);
        assert!(!some.is_ignored("logo.png", false));
        assert!(some.is_ignored("notes.txt", false));
        // The VCS excludes stay.
        assert!(some.is_ignored(".gitmodules", false));
    }

    #[test]
    fn comments_and_blank_lines_are_not_patterns() {
        let r = rules(&[("", "# only a comment\n\n")], None);
        // No pattern was read, so Flux's defaults apply.
        assert!(r.is_ignored("logo.png", false));
    }

    #[test]
    fn nested_sourceignore_applies_below_its_directory() {
        let r = rules(&[("apps", "*.md\n")], None);
        assert!(r.is_ignored("apps/README.md", false));
        assert!(r.is_ignored("apps/web/README.md", false));
        assert!(!r.is_ignored("README.md", false));
    }

    #[test]
    fn exclude_all_then_include_a_directory() {
        // The layout Flux's docs recommend.
        let r = rules(&[], Some("/*\n!/deploy\n"));
        assert!(r.is_ignored("README.md", false));
        assert!(r.is_ignored("src", true));
        assert!(!r.is_ignored("deploy", true));
        assert!(!r.is_ignored("deploy/app.yaml", false));
    }

    #[test]
    fn spec_ignore_outranks_sourceignore() {
        let r = rules(&[("", "secret.yaml\n")], Some("!secret.yaml\n"));
        assert!(!r.is_ignored("secret.yaml", false));
    }

    #[test]
    fn a_later_negation_reincludes_a_file_in_an_excluded_directory() {
        let r = rules(&[], Some("tmp/\n!tmp/keep.yaml\n"));
        assert!(r.is_ignored("tmp/drop.yaml", false));
        assert!(!r.is_ignored("tmp/keep.yaml", false));
    }
}
