//! `.sourceignore` and `spec.ignore` rules on arbitrary pattern text and paths: parsing gives
//! rules or an error and matching gives an answer, never a panic. Besides:
//!
//! - the order the `.sourceignore` files are given in does not matter (the walk's order is
//!   restored) when their directories differ;
//! - a `.sourceignore` at the root decides like the same text in `spec.ignore`;
//! - a nested `.sourceignore` changes nothing outside its directory (nor for the directory
//!   itself) when `spec.ignore` holds a pattern, so Flux's defaults are off either way.
//!
//! An input is `\0`-separated: the root `.sourceignore`; a nested one (its directory on the
//! first line); `spec.ignore`; then the paths to match, one per line (a trailing `/` marks a
//! directory, which is also tried as a file).
//!
//! `fuzz_targets/ignore_rules.rs` runs it under libFuzzer; `tests/fuzz_seeds.rs` replays the
//! seeds.

use tether_source::fuzzing::IgnoreRules;

pub fn check(data: &[u8]) {
    let input = String::from_utf8_lossy(data);
    let mut parts = input.split('\0');
    let root = parts.next().unwrap_or_default().to_owned();
    let (dir, nested) = parts
        .next()
        .unwrap_or_default()
        .split_once('\n')
        .unwrap_or_default();
    let (dir, nested) = (dir.to_owned(), nested.to_owned());
    let spec = parts.next();
    let paths: Vec<(&str, bool)> = parts
        .next()
        .unwrap_or_default()
        .lines()
        .take(64)
        .flat_map(|line| match line.strip_suffix('/') {
            Some(dir) => vec![(dir, true), (dir, false)],
            None => vec![(line, false)],
        })
        .collect();

    let Ok(rules) = IgnoreRules::new(
        vec![(String::new(), root.clone()), (dir.clone(), nested.clone())],
        spec,
    ) else {
        return;
    };
    for &(path, is_dir) in &paths {
        let _ = rules.is_ignored(path, is_dir);
    }

    if segments(&dir) != segments("") {
        let reversed = IgnoreRules::new(
            vec![(dir.clone(), nested.clone()), (String::new(), root.clone())],
            spec,
        )
        .expect("the same rules parsed in the other order");
        for &(path, is_dir) in &paths {
            assert_eq!(
                rules.is_ignored(path, is_dir),
                reversed.is_ignored(path, is_dir),
                "{path:?} depends on the order of the .sourceignore files"
            );
        }
    }

    // Every rule here parsed above, in a longer list.
    let in_file = IgnoreRules::new(vec![(String::new(), root.clone())], None).expect("parsed");
    let in_spec = IgnoreRules::new(vec![], Some(&root)).expect("parsed");
    for &(path, is_dir) in &paths {
        assert_eq!(
            in_file.is_ignored(path, is_dir),
            in_spec.is_ignored(path, is_dir),
            "{path:?}: the root .sourceignore and spec.ignore disagree"
        );
    }

    if let Some(spec) = spec.filter(|s| has_pattern(s)) {
        let without = IgnoreRules::new(vec![], Some(spec)).expect("parsed");
        let with =
            IgnoreRules::new(vec![(dir.clone(), nested.clone())], Some(spec)).expect("parsed");
        for &(path, is_dir) in &paths {
            let below = path
                .strip_prefix(dir.as_str())
                .and_then(|rest| rest.strip_prefix('/'))
                .is_some_and(|rest| !rest.is_empty());
            if !dir.is_empty() && !below {
                assert_eq!(
                    with.is_ignored(path, is_dir),
                    without.is_ignored(path, is_dir),
                    "{path:?}: the .sourceignore of {dir:?} applies outside it"
                );
            }
        }
    }
}

fn segments(dir: &str) -> Vec<&str> {
    dir.split('/').filter(|s| !s.is_empty()).collect()
}

/// A line Flux reads as a pattern: neither blank nor a comment.
fn has_pattern(text: &str) -> bool {
    text.lines()
        .any(|l| !l.starts_with('#') && !l.trim().is_empty())
}
