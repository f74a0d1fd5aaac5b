//! Packing a 2,000-file tree (100 directories of 20 YAML files) into a `.tar.gz` artifact:
//! tree walk, ignore rules, tar, gzip and sha256, read from the object database.
#![allow(clippy::unwrap_used)]

use tether_source::{ArtifactStore, Checkout, FetchOutcome, GitAuth, GitReference, GitSourceSpec};
use tether_testkit::{WorkRepo, init_bare};

fn main() {
    divan::main();
}

struct Fixture {
    _root: tempfile::TempDir,
    checkout: Box<Checkout>,
    store: ArtifactStore,
}

fn fixture() -> Fixture {
    let root = tempfile::tempdir().unwrap();
    let bare = init_bare(&root.path().join("fleet.git")).unwrap();
    let mut work = WorkRepo::new().unwrap();
    for d in 0..100 {
        for f in 0..20 {
            let body = format!(
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-{d}-{f}\n  namespace: team-{d}\ndata:\n  key: value-{d}-{f}\n"
            );
            work.write(&format!("apps/team-{d:03}/cm-{f:02}.yaml"), body)
                .unwrap();
        }
    }
    work.write(".sourceignore", "*.md\n").unwrap();
    work.commit("fleet").unwrap();
    work.push(bare.to_str().unwrap(), &["main"]).unwrap();
    let spec =
        GitSourceSpec::new(bare.display().to_string()).with_reference(GitReference::branch("main"));
    let checkout = match tether_source::fetch_blocking(&spec, &GitAuth::none(), None).unwrap() {
        FetchOutcome::Fetched(c) => c,
        other => panic!("{other:?}"),
    };
    let store = ArtifactStore::new(root.path().join("store"), "bench:80").unwrap();
    Fixture {
        _root: root,
        checkout,
        store,
    }
}

#[divan::bench(sample_count = 20)]
fn pack_2000_files(bencher: divan::Bencher) {
    let f = fixture();
    bencher.bench(|| {
        f.store
            .archive_blocking("ns", "fleet", &f.checkout, None)
            .unwrap()
    });
}
