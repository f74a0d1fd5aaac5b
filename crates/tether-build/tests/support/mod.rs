//! Helpers for tether-build's tests: tar.gz artifacts made in memory (malformed ones too),
//! Kustomization specs, and `kubectl.1.33 kustomize` as the reference.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::Value;
use tether_api::{CrossNamespaceSourceReference, Duration, KustomizationSpec};
use tether_build::Artifact;

/// One tar entry.
pub enum Entry<'a> {
    File(&'a str, &'a str),
    Dir(&'a str),
    Symlink(&'a str, &'a str),
    /// A file whose header name is written verbatim (`../x`, `/etc/x`): tar builders refuse
    /// such names, so the header is filled by hand.
    RawName(&'a str, &'a str),
    /// A pax global header, as `git archive` writes first.
    GlobalHeader,
}

/// A gzip-compressed tar of `entries`, in order.
pub fn tar_gz(entries: &[Entry]) -> Vec<u8> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut builder = tar::Builder::new(gz);
    for entry in entries {
        let mut header = tar::Header::new_gnu();
        header.set_mode(0o644);
        header.set_mtime(1_700_000_000);
        match entry {
            Entry::File(path, content) => {
                header.set_entry_type(tar::EntryType::Regular);
                header.set_size(content.len() as u64);
                builder
                    .append_data(&mut header, path, content.as_bytes())
                    .unwrap();
            }
            Entry::Dir(path) => {
                header.set_entry_type(tar::EntryType::Directory);
                header.set_mode(0o755);
                header.set_size(0);
                builder.append_data(&mut header, path, &[][..]).unwrap();
            }
            Entry::Symlink(path, target) => {
                header.set_entry_type(tar::EntryType::Symlink);
                header.set_size(0);
                builder.append_link(&mut header, path, target).unwrap();
            }
            Entry::RawName(name, content) => {
                header.set_entry_type(tar::EntryType::Regular);
                header.set_size(content.len() as u64);
                let raw = &mut header.as_old_mut().name;
                raw.fill(0);
                raw[..name.len()].copy_from_slice(name.as_bytes());
                header.set_cksum();
                builder.append(&header, content.as_bytes()).unwrap();
            }
            Entry::GlobalHeader => {
                let data = b"52 comment=5394cb7f48332b2de7c17dd8b8384bbc84b7e738\n";
                header.set_entry_type(tar::EntryType::XGlobalHeader);
                header.set_size(data.len() as u64);
                builder
                    .append_data(&mut header, "pax_global_header", &data[..])
                    .unwrap();
            }
        }
    }
    let gz = builder.into_inner().unwrap();
    gz.finish().unwrap()
}

/// An artifact of plain files, through a real tar.gz.
pub fn artifact(files: &[(&str, &str)]) -> Arc<Artifact> {
    let entries: Vec<Entry> = files.iter().map(|(p, c)| Entry::File(p, c)).collect();
    Arc::new(Artifact::from_tar_gz(&tar_gz(&entries)).unwrap())
}

/// A Kustomization spec for `path` with nothing else set.
pub fn spec(path: &str) -> KustomizationSpec {
    KustomizationSpec {
        interval: Duration::parse("10m").unwrap(),
        path: Some(path.to_owned()),
        prune: true,
        source_ref: CrossNamespaceSourceReference {
            kind: "GitRepository".into(),
            name: "flux-system".into(),
            ..Default::default()
        },
        ..Default::default()
    }
}

/// `kubectl.1.33`, found beside the `kubectl` on PATH (or in `TETHER_KUBECTL_DIR`); a missing
/// binary fails the test and names it.
pub fn kubectl_133() -> PathBuf {
    let dir = match std::env::var_os("TETHER_KUBECTL_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => {
            let path = std::env::var_os("PATH").unwrap_or_default();
            let found = std::env::split_paths(&path)
                .map(|d| d.join("kubectl"))
                .find(|c| c.is_file())
                .expect("no `kubectl` on PATH: kubectl.1.33 is looked for beside it");
            std::fs::canonicalize(&found)
                .unwrap()
                .parent()
                .unwrap()
                .to_path_buf()
        }
    };
    let binary = dir.join("kubectl.1.33");
    assert!(binary.is_file(), "{} is missing", binary.display());
    binary
}

/// The artifact written to disk with the prepared kustomization file in place of the
/// original, built by `kubectl.1.33 kustomize`; the objects it prints.
pub fn kubectl_kustomize(
    artifact: &Artifact,
    prepared: &tether_build::PreparedKustomization,
) -> Vec<Value> {
    let dir = tempfile::tempdir().unwrap();
    for (path, content) in artifact.files() {
        write(dir.path(), path, content);
    }
    write(dir.path(), &prepared.path(), prepared.yaml.as_bytes());
    let target = dir.path().join(&prepared.dir);
    let out = std::process::Command::new(kubectl_133())
        .arg("kustomize")
        .arg("--load-restrictor=LoadRestrictionsNone")
        .arg(&target)
        .env_remove("KUBECONFIG")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "kubectl.1.33 kustomize {} failed:\n{}\nkustomization:\n{}",
        target.display(),
        String::from_utf8_lossy(&out.stderr),
        prepared.yaml
    );
    let text = String::from_utf8(out.stdout).unwrap();
    tether_yaml::parse_documents(&text)
        .unwrap()
        .into_iter()
        .map(|d| d.value)
        .collect()
}

fn write(root: &Path, path: &str, content: &[u8]) {
    let full = root.join(path);
    std::fs::create_dir_all(full.parent().unwrap()).unwrap();
    let mut f = std::fs::File::create(&full).unwrap();
    f.write_all(content).unwrap();
}

/// Asserts two object lists are equal, printing both as YAML streams when not.
pub fn assert_objects_eq(ours: &[Value], reference: &[Value], what: &str) {
    if ours != reference {
        let show = |objects: &[Value]| {
            objects
                .iter()
                .map(tether_yaml::to_yaml)
                .collect::<Vec<_>>()
                .join("---\n")
        };
        panic!(
            "{what}: objects differ from kubectl.1.33 kustomize\n--- ours:\n{}\n--- kubectl:\n{}",
            show(ours),
            show(reference)
        );
    }
}

/// The YAML stream of objects (what `kustomize build` prints).
pub fn stream(objects: &[Value]) -> String {
    objects
        .iter()
        .map(tether_yaml::to_yaml)
        .collect::<Vec<_>>()
        .join("---\n")
}
