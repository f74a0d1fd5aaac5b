//! Unpacking artifacts: what is kept, what is followed, what is refused (naming the entry).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use support::{Entry, tar_gz};
use tether_build::{Artifact, Error};

fn unpack(entries: &[Entry]) -> Result<Artifact, Error> {
    Artifact::from_tar_gz(&tar_gz(entries))
}

#[test]
fn keeps_files_and_directories() {
    let a = unpack(&[
        Entry::GlobalHeader,
        Entry::Dir("./"),
        Entry::Dir("./apps/"),
        Entry::File("./apps/a.yaml", "a: 1\n"),
        Entry::File("apps/deep/b.yaml", "b: 2\n"),
        Entry::Dir("empty/"),
    ])
    .unwrap();
    assert_eq!(a.file("apps/a.yaml"), Some(&b"a: 1\n"[..]));
    assert_eq!(a.file("apps/deep/b.yaml"), Some(&b"b: 2\n"[..]));
    assert!(a.is_dir("") && a.is_dir("apps") && a.is_dir("apps/deep") && a.is_dir("empty"));
    assert!(!a.is_dir("apps/a.yaml") && a.file("pax_global_header").is_none());
    assert_eq!(
        a.children("apps"),
        [("a.yaml", false), ("deep", true)],
        "children in name order"
    );
    assert_eq!(a.files().count(), 2);
}

#[test]
fn later_entries_replace_earlier_ones() {
    let a = unpack(&[Entry::File("x.yaml", "old"), Entry::File("./x.yaml", "new")]).unwrap();
    assert_eq!(a.file("x.yaml"), Some(&b"new"[..]));
}

#[test]
fn refuses_paths_leaving_the_root() {
    let err = unpack(&[
        Entry::File("ok.yaml", "a: 1"),
        Entry::RawName("../x", "evil"),
    ])
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"artifact entry "../x": path leaves the artifact root ('..')"#
    );
    let err = unpack(&[Entry::RawName("apps/../../x", "evil")]).unwrap_err();
    assert!(
        err.to_string()
            .starts_with(r#"artifact entry "apps/../../x""#),
        "{err}"
    );
    let err = unpack(&[Entry::RawName("/etc/passwd", "evil")]).unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"artifact entry "/etc/passwd": absolute path"#
    );
    let err = unpack(&[Entry::RawName("a\\b.yaml", "x")]).unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"artifact entry "a\\b.yaml": backslash in path"#
    );
}

#[test]
fn follows_symlinks_inside_the_root() {
    let a = unpack(&[
        Entry::File("base/deploy.yaml", "kind: Deployment\n"),
        Entry::File("base/sub/cm.yaml", "kind: ConfigMap\n"),
        Entry::Symlink("apps/deploy.yaml", "../base/deploy.yaml"),
        Entry::Symlink("apps/base", "../base"),
        Entry::Symlink("apps/chain", "base/sub"),
        Entry::Symlink("apps/dangling.yaml", "../nowhere.yaml"),
    ])
    .unwrap();
    assert_eq!(a.file("apps/deploy.yaml"), Some(&b"kind: Deployment\n"[..]));
    assert_eq!(
        a.file("apps/base/sub/cm.yaml"),
        Some(&b"kind: ConfigMap\n"[..])
    );
    assert!(a.is_dir("apps/base/sub"));
    assert_eq!(
        a.file("apps/chain/cm.yaml"),
        Some(&b"kind: ConfigMap\n"[..])
    );
    assert!(a.file("apps/dangling.yaml").is_none() && !a.is_dir("apps/dangling.yaml"));
}

#[test]
fn refuses_symlinks_leaving_the_root_or_looping() {
    let err = unpack(&[Entry::Symlink("apps/passwd", "../../etc/passwd")]).unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"artifact entry "apps/passwd": symlink to "../../etc/passwd" leaves the artifact root"#
    );
    let err = unpack(&[Entry::Symlink("apps/passwd", "/etc/passwd")]).unwrap_err();
    assert!(
        err.to_string()
            .starts_with(r#"artifact entry "apps/passwd": symlink to absolute path"#),
        "{err}"
    );
    let err = unpack(&[
        Entry::File("apps/a.yaml", "a: 1"),
        Entry::Symlink("apps/self", "."),
    ])
    .unwrap_err();
    assert!(err.to_string().contains("symlink cycle"), "{err}");
    let err = unpack(&[Entry::Symlink("a", "b"), Entry::Symlink("b", "a")]).unwrap_err();
    assert!(
        err.to_string()
            .contains("too many levels of symbolic links"),
        "{err}"
    );
}

#[test]
fn refuses_what_is_not_a_tar_gz() {
    let err = Artifact::from_tar_gz(b"plain text").unwrap_err();
    assert!(
        err.to_string()
            .starts_with("artifact is not a readable .tar.gz: "),
        "{err}"
    );
}

#[test]
fn files_conflicting_with_directories_are_refused() {
    let err = unpack(&[Entry::File("a", "x"), Entry::File("a/b.yaml", "y")]).unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"artifact entry "a/b.yaml": "a" is a file or symlink, not a directory"#
    );
}
