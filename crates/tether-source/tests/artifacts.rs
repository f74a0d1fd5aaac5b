//! Packing, storing, serving and collecting artifacts.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::{Read, Write};

use common::fixture;
use tether_source::{
    ArtifactError, ArtifactServer, ArtifactStore, Checkout, FetchOutcome, GitAuth, GitReference,
    GitSourceSpec, digest, fetch, fetch_artifact, read_artifact_files,
};
use tether_testkit::{WorkRepo, init_bare};

async fn checkout_of(url: &str, reference: GitReference) -> Box<Checkout> {
    let spec = GitSourceSpec::new(url).with_reference(reference);
    match fetch(&spec, &GitAuth::none(), None).await.unwrap() {
        FetchOutcome::Fetched(c) => c,
        other => panic!("{other:?}"),
    }
}

/// A remote holding `files` on main, returned as (tempdir, url).
fn remote_with(files: &[(&str, &str)]) -> (tempfile::TempDir, String) {
    let root = tempfile::tempdir().unwrap();
    let bare = init_bare(&root.path().join("r.git")).unwrap();
    let mut work = WorkRepo::new().unwrap();
    for (path, contents) in files {
        work.write(path, contents).unwrap();
    }
    work.commit("files").unwrap();
    work.push(bare.to_str().unwrap(), &["main"]).unwrap();
    let url = bare.display().to_string();
    (root, url)
}

async fn packed_names(files: &[(&str, &str)], spec_ignore: Option<&str>) -> Vec<String> {
    let (_root, url) = remote_with(files);
    let checkout = checkout_of(&url, GitReference::branch("main")).await;
    let store_dir = tempfile::tempdir().unwrap();
    let store = ArtifactStore::new(store_dir.path(), "source.example:80").unwrap();
    let artifact = store
        .archive("ns", "app", &checkout, spec_ignore)
        .await
        .unwrap();
    let bytes = std::fs::read(store.local_path(&artifact.path).unwrap()).unwrap();
    read_artifact_files(&bytes).unwrap().into_keys().collect()
}

#[tokio::test]
async fn flux_default_excludes_apply_without_other_patterns() {
    let files = [
        ("deploy/app.yaml", "a"),
        ("logo.png", "png"),
        ("docs/shot.jpg", "jpg"),
        (".github/workflows/ci.yaml", "ci"),
        (".gitignore", "x"),
        ("dist/release.tar.gz", "gz"),
        ("apps/.sops.yaml", "sops"),
    ];
    assert_eq!(packed_names(&files, None).await, ["deploy/app.yaml"]);
}

#[tokio::test]
async fn sourceignore_files_and_spec_ignore_decide_the_contents() {
    let files = [
        (".sourceignore", "*.md\n# a comment\n"),
        ("README.md", "readme"),
        ("apps/.sourceignore", "secret.yaml\n"),
        ("apps/secret.yaml", "s"),
        ("apps/web/secret.yaml", "s"),
        ("apps/web/app.yaml", "a"),
        (
            "secret.yaml",
            "kept: the nested .sourceignore only applies below apps/",
        ),
        (
            "logo.png",
            "kept: a .sourceignore switches Flux's default excludes off",
        ),
        ("tmp/scratch.yaml", "x"),
        ("tmp/keep.yaml", "k"),
        (".gitattributes", "always excluded"),
    ];
    let names = packed_names(&files, Some("/tmp/\n!/tmp/keep.yaml\n")).await;
    assert_eq!(
        names,
        [
            ".sourceignore",
            "apps/.sourceignore",
            "apps/web/app.yaml",
            "logo.png",
            "secret.yaml",
            "tmp/keep.yaml",
        ]
    );
}

#[tokio::test]
async fn exclude_everything_but_one_directory() {
    let files = [
        ("README.md", "r"),
        ("src/main.go", "m"),
        ("deploy/app.yaml", "a"),
        ("deploy/base/kustomization.yaml", "k"),
    ];
    let names = packed_names(&files, Some("/*\n!/deploy\n")).await;
    assert_eq!(names, ["deploy/app.yaml", "deploy/base/kustomization.yaml"]);
}

#[tokio::test]
async fn two_packs_of_one_tree_are_identical_and_the_digest_is_of_the_bytes() {
    let f = fixture();
    let url = f.bare.display().to_string();
    let first = checkout_of(&url, GitReference::branch("main")).await;
    // The same commit reached another way: a separate fetch, its own repository.
    let second = checkout_of(&url, GitReference::tag("v1.1.0")).await;
    let a_dir = tempfile::tempdir().unwrap();
    let b_dir = tempfile::tempdir().unwrap();
    let a = ArtifactStore::new(a_dir.path(), "h:1")
        .unwrap()
        .archive("ns", "app", &first, None)
        .await
        .unwrap();
    let b = ArtifactStore::new(b_dir.path(), "h:1")
        .unwrap()
        .archive("other", "x", &second, None)
        .await
        .unwrap();
    assert_eq!(a.digest, b.digest);
    assert_eq!(a.size, b.size);
    let bytes = std::fs::read(a_dir.path().join(&a.path)).unwrap();
    assert_eq!(digest(&bytes), a.digest);
    assert_eq!(bytes.len() as u64, a.size);
    assert_eq!(a.path, format!("gitrepository/ns/app/{}.tar.gz", f.c2));
    assert_eq!(
        a.url,
        format!("http://h:1/gitrepository/ns/app/{}.tar.gz", f.c2)
    );
    assert_eq!(a.revision, format!("main@sha1:{}", f.c2));

    // A different tree gives a different digest.
    let older = checkout_of(&url, GitReference::tag("v1.0.0")).await;
    let c = ArtifactStore::new(a_dir.path(), "h:1")
        .unwrap()
        .archive("ns", "app", &older, None)
        .await
        .unwrap();
    assert_ne!(c.digest, a.digest);
}

#[tokio::test]
async fn tar_headers_carry_no_owner_or_time_and_links_are_left_out() {
    let root = tempfile::tempdir().unwrap();
    let bare = init_bare(&root.path().join("r.git")).unwrap();
    let mut work = WorkRepo::new().unwrap();
    work.write("bin/run.sh", "#!/bin/sh\n").unwrap();
    work.make_executable("bin/run.sh").unwrap();
    work.write("deploy/app.yaml", "a").unwrap();
    work.symlink("deploy/link.yaml", "app.yaml").unwrap();
    work.commit("files").unwrap();
    work.push(bare.to_str().unwrap(), &["main"]).unwrap();
    let checkout = checkout_of(bare.to_str().unwrap(), GitReference::branch("main")).await;
    let dir = tempfile::tempdir().unwrap();
    let store = ArtifactStore::new(dir.path(), "h").unwrap();
    let artifact = store
        .archive_blocking("ns", "app", &checkout, None)
        .unwrap();
    let bytes = std::fs::read(store.local_path(&artifact.path).unwrap()).unwrap();
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(bytes.as_slice()));
    let mut seen = Vec::new();
    for entry in archive.entries().unwrap() {
        let entry = entry.unwrap();
        let h = entry.header();
        assert_eq!(
            (h.mtime().unwrap(), h.uid().unwrap(), h.gid().unwrap()),
            (0, 0, 0)
        );
        assert_eq!(h.username().unwrap(), Some(""));
        seen.push((
            entry.path().unwrap().display().to_string(),
            h.mode().unwrap(),
        ));
    }
    assert_eq!(
        seen,
        [
            ("bin/".to_owned(), 0o755),
            ("bin/run.sh".to_owned(), 0o755),
            ("deploy/".to_owned(), 0o755),
            ("deploy/app.yaml".to_owned(), 0o644),
        ]
    );
}

fn raw_get(addr: std::net::SocketAddr, path: &str) -> String {
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = Vec::new();
    let _ = stream.read_to_end(&mut out);
    // The status line only: artifact bodies are not text.
    String::from_utf8_lossy(&out)
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn the_store_serves_artifacts_404s_the_rest_and_refuses_escapes() {
    let f = fixture();
    let dir = tempfile::tempdir().unwrap();
    let server = ArtifactServer::start(dir.path(), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let store = ArtifactStore::new(dir.path(), server.addr().to_string()).unwrap();
    let checkout = checkout_of(f.bare.to_str().unwrap(), GitReference::branch("main")).await;
    let artifact = store.archive("ns", "app", &checkout, None).await.unwrap();

    let bytes = fetch_artifact(&artifact.url, &artifact.digest)
        .await
        .unwrap();
    let files = read_artifact_files(&bytes).unwrap();
    assert_eq!(files["deploy/app.yaml"], b"kind: ConfigMap\nversion: 2\n");

    let err = fetch_artifact(&artifact.url, "sha256:0000")
        .await
        .unwrap_err();
    assert!(matches!(err, ArtifactError::DigestMismatch { .. }), "{err}");
    let missing = store.url_for("gitrepository/ns/app/nope.tar.gz");
    let err = fetch_artifact(&missing, &artifact.digest)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("404"), "{err}");

    std::fs::write(dir.path().join("secret.txt"), "outside the artifacts").unwrap();
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("x.tar.gz"), "x").unwrap();
    std::os::unix::fs::symlink(
        outside.path().join("x.tar.gz"),
        dir.path().join("gitrepository/ns/app/link.tar.gz"),
    )
    .unwrap();
    let addr = server.addr();
    let status = |path: &'static str| tokio::task::spawn_blocking(move || raw_get(addr, path));
    assert!(
        status("/gitrepository/ns/app/../app/x")
            .await
            .unwrap()
            .contains("404")
    );
    assert!(
        status("/gitrepository/../secret.txt")
            .await
            .unwrap()
            .contains("404")
    );
    assert!(
        status("/gitrepository/%2e%2e/secret.txt")
            .await
            .unwrap()
            .contains("404")
    );
    assert!(
        status("/gitrepository/ns/app/")
            .await
            .unwrap()
            .contains("404")
    );
    assert!(
        status("/gitrepository/ns/app")
            .await
            .unwrap()
            .contains("404")
    );
    assert!(
        status("/gitrepository/ns/app/link.tar.gz")
            .await
            .unwrap()
            .contains("404")
    );
    let path = format!("/{}", artifact.path);
    let ok = tokio::task::spawn_blocking(move || raw_get(addr, &path))
        .await
        .unwrap();
    assert!(ok.contains("200"), "{ok}");
}

#[tokio::test]
async fn garbage_collection_keeps_the_newest_and_the_current() {
    let mut f = fixture();
    let url = f.bare.display().to_string();
    let dir = tempfile::tempdir().unwrap();
    let store = ArtifactStore::new(dir.path(), "h").unwrap();
    let mut artifacts = Vec::new();
    for i in 0..4 {
        f.advance_main("deploy/counter.yaml", &format!("n: {i}\n"));
        let checkout = checkout_of(&url, GitReference::branch("main")).await;
        artifacts.push(store.archive("ns", "app", &checkout, None).await.unwrap());
        // Distinct modification times, whatever the file system's resolution.
        let file = std::fs::File::options()
            .write(true)
            .open(store.local_path(&artifacts[i].path).unwrap())
            .unwrap();
        file.set_modified(
            std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000 + i as u64),
        )
        .unwrap();
    }
    // The current artifact (in status) is the oldest one here: it survives anyway.
    let deleted = store
        .garbage_collect("ns", "app", 2, Some(&artifacts[0].path))
        .unwrap();
    assert_eq!(deleted.len(), 1);
    assert!(store.exists(&artifacts[0]));
    assert!(!store.exists(&artifacts[1]));
    assert!(store.exists(&artifacts[2]) && store.exists(&artifacts[3]));

    assert_eq!(store.remove_all("ns", "app").unwrap(), 3);
    assert!(artifacts.iter().all(|a| !store.exists(a)));
    assert_eq!(store.remove_all("ns", "app").unwrap(), 0);
}

#[tokio::test]
async fn a_failed_fetch_leaves_the_last_artifact_in_place() {
    let f = fixture();
    let dir = tempfile::tempdir().unwrap();
    let store = ArtifactStore::new(dir.path(), "h").unwrap();
    let url = f.bare.display().to_string();
    let good = store
        .archive(
            "ns",
            "app",
            &*checkout_of(&url, GitReference::branch("main")).await,
            None,
        )
        .await
        .unwrap();
    std::fs::rename(&f.bare, f.root.path().join("gone.git")).unwrap();
    let spec = GitSourceSpec::new(&url).with_reference(GitReference::branch("main"));
    fetch(&spec, &GitAuth::none(), Some(&good.revision))
        .await
        .unwrap_err();
    assert!(store.exists(&good));
}

#[test]
fn names_that_would_escape_the_store_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = ArtifactStore::new(dir.path(), "h").unwrap();
    assert!(store.artifact_path("..", "app", "abc").is_err());
    assert!(store.artifact_path("ns", "a/b", "abc").is_err());
    assert!(store.local_path("gitrepository/../x").is_err());
    assert!(store.local_path("/etc/passwd").is_err());
}

/// Entry names of a `.tar.gz` in archive order, directories with a trailing `/`.
fn entry_names(bytes: &[u8]) -> Vec<String> {
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(bytes));
    archive
        .entries()
        .unwrap()
        .map(|e| e.unwrap().path().unwrap().to_string_lossy().into_owned())
        .collect()
}

#[tokio::test]
async fn includes_replace_their_directory_in_walk_order_deterministically() {
    let (_root, url) = remote_with(&[
        ("apps/app.yaml", "app"),
        ("shared/stale.yaml", "replaced by the include"),
        ("z.yaml", "z"),
    ]);
    let checkout = checkout_of(&url, GitReference::branch("main")).await;
    let store_dir = tempfile::tempdir().unwrap();
    let store = ArtifactStore::new(store_dir.path(), "source.example:80").unwrap();
    let include = || {
        let files = [
            ("base/cm.yaml".to_owned(), b"cm".to_vec()),
            ("base/x/deep.yaml".to_owned(), b"deep".to_vec()),
            ("base/a.yaml".to_owned(), b"a".to_vec()),
        ];
        let mut tar = tar::Builder::new(flate2::write::GzEncoder::new(
            Vec::new(),
            flate2::Compression::default(),
        ));
        for (path, data) in &files {
            let mut header = tar::Header::new_gnu();
            header.set_size(data.len() as u64);
            header.set_mode(0o644);
            header.set_entry_type(tar::EntryType::Regular);
            tar.append_data(&mut header, path, data.as_slice()).unwrap();
        }
        let bytes = tar.into_inner().unwrap().finish().unwrap();
        tether_source::IncludedFiles::from_artifact(&bytes, "base", "shared").unwrap()
    };
    let first = store
        .archive_with_includes("ns", "app", &checkout, None, vec![include()])
        .await
        .unwrap();
    let bytes = std::fs::read(store.local_path(&first.path).unwrap()).unwrap();
    assert_eq!(
        entry_names(&bytes),
        [
            "apps/",
            "apps/app.yaml",
            "shared/",
            "shared/a.yaml",
            "shared/cm.yaml",
            "shared/x/",
            "shared/x/deep.yaml",
            "z.yaml"
        ]
    );
    let files = read_artifact_files(&bytes).unwrap();
    assert_eq!(files["shared/x/deep.yaml"], b"deep");
    let second = store
        .archive_with_includes("ns", "app", &checkout, None, vec![include()])
        .await
        .unwrap();
    assert_eq!(first.digest, second.digest);
    let without = store.archive("ns", "app", &checkout, None).await.unwrap();
    assert_ne!(first.digest, without.digest);
}

/// Pushes a commit of `files` plus gitlinks (`path`, `commit`, `url` in `.gitmodules`) to
/// `root/<name>.git`; returns the commit.
fn push_with_submodules(
    root: &std::path::Path,
    name: &str,
    files: &[(&str, &str)],
    links: &[(&str, &str, &str)],
) -> String {
    let bare = init_bare(&root.join(format!("{name}.git"))).unwrap();
    let mut work = WorkRepo::new().unwrap();
    for (path, text) in files {
        work.write(path, text).unwrap();
    }
    let mut gitmodules = String::new();
    for (path, commit, url) in links {
        gitmodules.push_str(&format!(
            "[submodule \"{path}\"]\n\tpath = {path}\n\turl = {url}\n"
        ));
        std::fs::create_dir_all(work.path().join(path)).unwrap();
        work.git(&[
            "update-index",
            "--add",
            "--cacheinfo",
            &format!("160000,{commit},{path}"),
        ])
        .unwrap();
    }
    if !links.is_empty() {
        work.write(".gitmodules", &gitmodules).unwrap();
    }
    let sha = work.commit(name).unwrap();
    work.push(bare.to_str().unwrap(), &["main"]).unwrap();
    sha
}

#[tokio::test]
async fn recurse_submodules_packs_nested_submodules_at_their_pinned_commits() {
    let root = tempfile::tempdir().unwrap();
    let inner = push_with_submodules(root.path(), "inner", &[("inner.yaml", "inner")], &[]);
    let lib = push_with_submodules(
        root.path(),
        "lib",
        &[("lib.yaml", "lib")],
        &[("inner", &inner, "../inner.git")],
    );
    push_with_submodules(
        root.path(),
        "fleet",
        &[("app.yaml", "app")],
        &[("vendor/lib", &lib, "../lib.git")],
    );
    let url = root.path().join("fleet.git").display().to_string();
    let store_dir = tempfile::tempdir().unwrap();
    let store = ArtifactStore::new(store_dir.path(), "source.example:80").unwrap();
    let packed = async |recurse: bool| {
        let mut spec = GitSourceSpec::new(&url).with_reference(GitReference::branch("main"));
        spec.recurse_submodules = recurse;
        let FetchOutcome::Fetched(checkout) = fetch(&spec, &GitAuth::none(), None).await.unwrap()
        else {
            panic!("nothing fetched")
        };
        let artifact = store.archive("ns", "app", &checkout, None).await.unwrap();
        let bytes = std::fs::read(store.local_path(&artifact.path).unwrap()).unwrap();
        read_artifact_files(&bytes).unwrap()
    };
    let with = packed(true).await;
    assert_eq!(
        with.keys().map(String::as_str).collect::<Vec<_>>(),
        // `.gitmodules` files are left out by Flux's default VCS excludes.
        [
            "app.yaml",
            "vendor/lib/inner/inner.yaml",
            "vendor/lib/lib.yaml"
        ]
    );
    assert_eq!(with["vendor/lib/inner/inner.yaml"], b"inner");
    let without = packed(false).await;
    assert_eq!(
        without.keys().map(String::as_str).collect::<Vec<_>>(),
        ["app.yaml"]
    );

    // A submodule whose remote is missing fails the fetch naming it.
    let broken = tempfile::tempdir().unwrap();
    push_with_submodules(
        broken.path(),
        "fleet",
        &[("app.yaml", "app")],
        &[("vendor/gone", &lib, "../gone.git")],
    );
    let mut spec = GitSourceSpec::new(broken.path().join("fleet.git").display().to_string())
        .with_reference(GitReference::branch("main"));
    spec.recurse_submodules = true;
    let err = fetch(&spec, &GitAuth::none(), None).await.unwrap_err();
    assert!(err.to_string().contains("submodule 'vendor/gone'"), "{err}");
}
