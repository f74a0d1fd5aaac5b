//! `spec.ref.semver` ranges (Masterminds syntax) and the tag they select, on arbitrary range
//! text and tag names: a range or an error, never a panic. Besides:
//!
//! - the chosen tag is one of the tags, a strict SemVer version (after an optional `v`) that
//!   the range matches, and no matching tag has a higher version;
//! - no tag is chosen only when none matches;
//! - a tag's bare version (`1.2.3-rc.1`, build metadata dropped) is a range that matches it
//!   and selects a tag of that version (a bare version is exact, as in Masterminds).
//!
//! An input is the range on the first line, then one tag per line.
//!
//! `fuzz_targets/semver_range.rs` runs it under libFuzzer; `tests/fuzz_seeds.rs` replays the
//! seeds.

use semver::Version;
use tether_source::fuzzing::Range;

pub fn check(data: &[u8]) {
    let input = String::from_utf8_lossy(data);
    let mut lines = input.split('\n');
    let range_text = lines.next().unwrap_or_default();
    let tags: Vec<&str> = lines.take(256).collect();

    if let Ok(range) = Range::parse(range_text) {
        check_choice(&range, range_text, &tags);
    }

    if let Some(version) = tags.iter().find_map(|t| tag_version(t)) {
        let exact = Version {
            build: semver::BuildMetadata::EMPTY,
            ..version
        };
        let range = Range::parse(&exact.to_string())
            .unwrap_or_else(|e| panic!("the bare version {exact} is not a range: {e}"));
        let chosen = range
            .best_tag(tags.iter().copied())
            .unwrap_or_else(|| panic!("{exact} selects none of {tags:?}"));
        let chosen = tag_version(chosen).expect("a version");
        assert_eq!(
            (&chosen.major, &chosen.minor, &chosen.patch, &chosen.pre),
            (&exact.major, &exact.minor, &exact.patch, &exact.pre),
            "{exact} selected {chosen}"
        );
    }
}

fn check_choice(range: &Range, text: &str, tags: &[&str]) {
    let matching: Vec<(&str, Version)> = tags
        .iter()
        .filter(|t| range.matches_tag(t))
        .map(|t| (*t, tag_version(t).expect("a matching tag is a version")))
        .collect();
    let Some(chosen) = range.best_tag(tags.iter().copied()) else {
        assert!(
            matching.is_empty(),
            "{text:?} chose nothing among {matching:?}"
        );
        return;
    };
    assert!(tags.contains(&chosen), "{chosen:?} is not a tag");
    assert!(
        range.matches_tag(chosen),
        "{text:?} does not match {chosen:?}"
    );
    let best = tag_version(chosen).expect("the chosen tag is a version");
    for (tag, v) in &matching {
        assert!(
            v <= &best,
            "{text:?} chose {chosen:?} over the higher {tag:?}"
        );
    }
}

/// A tag as Flux reads it: strict SemVer after an optional leading `v`.
fn tag_version(tag: &str) -> Option<Version> {
    Version::parse(tag.strip_prefix('v').unwrap_or(tag)).ok()
}
