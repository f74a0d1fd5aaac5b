//! Not API: entry points for the fuzz targets in `fuzz/` (and the stable test replaying their
//! seeds) into parsers that are otherwise crate-private. Hidden from the docs; may change
//! without notice.

use crate::ArtifactError;

/// `.sourceignore` and `spec.ignore` rules (see the crate docs, *Ignore rules*).
pub struct IgnoreRules(crate::ignore_rules::IgnoreRules);

impl IgnoreRules {
    /// `sourceignores` holds `(directory, contents)` per `.sourceignore`, `""` for the root.
    pub fn new(
        sourceignores: Vec<(String, String)>,
        spec_ignore: Option<&str>,
    ) -> Result<IgnoreRules, ArtifactError> {
        crate::ignore_rules::IgnoreRules::new(sourceignores, spec_ignore).map(IgnoreRules)
    }

    pub fn is_ignored(&self, path: &str, is_dir: bool) -> bool {
        self.0.is_ignored(path, is_dir)
    }
}

/// A `spec.ref.semver` range.
pub struct Range(crate::semver_range::Range);

impl Range {
    pub fn parse(range: &str) -> Result<Range, String> {
        crate::semver_range::Range::parse(range).map(Range)
    }

    /// Whether `tag` is a version (strict SemVer after an optional `v`) the range matches.
    pub fn matches_tag(&self, tag: &str) -> bool {
        crate::semver_range::tag_version(tag).is_some_and(|v| self.0.matches(&v))
    }

    /// The tag the controller would check out.
    pub fn best_tag<'a>(&self, tags: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
        crate::semver_range::best_tag(&self.0, tags)
    }
}
