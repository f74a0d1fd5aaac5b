//! `crds/crds.yaml` must be what `tether_api::crds_yaml()` generates from the Rust types.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

#[test]
fn checked_in_crds_are_current() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("crds/crds.yaml");
    let generated = tether_api::crds_yaml();
    if std::env::var_os("TETHER_BLESS").is_some() {
        std::fs::write(&path, &generated).unwrap();
        return;
    }
    let on_disk = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read {}: {e}; create it with `TETHER_BLESS=1 cargo test -p tether-api`",
            path.display()
        )
    });
    if on_disk != generated {
        let line = on_disk
            .lines()
            .zip(generated.lines())
            .position(|(a, b)| a != b)
            .map_or_else(
                || on_disk.lines().count().min(generated.lines().count()) + 1,
                |i| i + 1,
            );
        panic!(
            "{} is stale (first difference at line {line}); regenerate it with \
             `TETHER_BLESS=1 cargo test -p tether-api`",
            path.display()
        );
    }
}
