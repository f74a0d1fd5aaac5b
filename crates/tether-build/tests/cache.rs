//! The build cache: one build per artifact, path and spec; shared results; bounded size;
//! concurrent callers wait for one build.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use support::{artifact, spec};
use tether_api::PostBuild;
use tether_build::{Artifact, BuildCache, BuildOptions, CacheStats, Error};

const DIGEST: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";

fn fleet() -> Arc<Artifact> {
    artifact(&[
        (
            "apps/web/deploy.yaml",
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  labels:\n    team: ${team:=none}\n",
        ),
        (
            "apps/db/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: db\n",
        ),
    ])
}

fn vars(team: &str) -> BTreeMap<String, String> {
    [("team".to_owned(), team.to_owned())].into()
}

#[test]
fn many_kustomizations_over_one_artifact_and_path_build_once() {
    let cache = BuildCache::new(64);
    let a = fleet();
    let loads = AtomicUsize::new(0);
    let load = || -> Result<Arc<Artifact>, Error> {
        loads.fetch_add(1, Ordering::SeqCst);
        Ok(a.clone())
    };
    let mut s = spec("apps/web");
    s.post_build = Some(PostBuild::default());
    let first = cache
        .get_or_build(DIGEST, &s, &vars("a"), &BuildOptions::default(), load)
        .unwrap();
    for _ in 0..999 {
        let again = cache
            .get_or_build(DIGEST, &s, &vars("a"), &BuildOptions::default(), load)
            .unwrap();
        assert!(
            Arc::ptr_eq(&first.objects, &again.objects),
            "same Arc for equal keys"
        );
        assert_eq!(again.digest, first.digest);
    }
    assert_eq!(first.objects[0]["metadata"]["labels"]["team"], "a");
    assert_eq!(loads.load(Ordering::SeqCst), 1);
    assert_eq!(
        cache.stats(),
        CacheStats {
            artifact_loads: 1,
            kustomize_builds: 1,
            post_builds: 1,
            hits: 999,
        }
    );

    // Other variables reuse kustomize's output and only substitute again.
    let other = cache
        .get_or_build(DIGEST, &s, &vars("b"), &BuildOptions::default(), load)
        .unwrap();
    assert_eq!(other.objects[0]["metadata"]["labels"]["team"], "b");
    assert_ne!(other.digest, first.digest);
    let stats = cache.stats();
    assert_eq!((stats.kustomize_builds, stats.post_builds), (1, 2));

    // Another path builds again, from the cached artifact.
    cache
        .get_or_build(
            DIGEST,
            &spec("apps/db"),
            &vars("a"),
            &BuildOptions::default(),
            load,
        )
        .unwrap();
    let stats = cache.stats();
    assert_eq!((stats.artifact_loads, stats.kustomize_builds), (1, 2));
    assert_eq!(loads.load(Ordering::SeqCst), 1);

    // Another artifact digest is another build.
    let other_digest = DIGEST.replace('1', "2");
    cache
        .get_or_build(
            &other_digest,
            &s,
            &vars("a"),
            &BuildOptions::default(),
            load,
        )
        .unwrap();
    assert_eq!(cache.stats().kustomize_builds, 3);
    assert_eq!(loads.load(Ordering::SeqCst), 2);
}

#[test]
fn spec_fields_that_change_the_build_change_the_key() {
    let cache = BuildCache::new(64);
    let a = fleet();
    let load = || -> Result<Arc<Artifact>, Error> { Ok(a.clone()) };
    let base = spec("apps/web");
    let mut namespaced = base.clone();
    namespaced.target_namespace = Some("team-a".into());
    let mut labelled = base.clone();
    labelled.common_metadata = Some(tether_api::CommonMetadata {
        labels: [("x".to_owned(), "y".to_owned())].into(),
        ..Default::default()
    });
    let mut suspended = base.clone();
    suspended.suspend = true; // does not change the build
    let empty = BTreeMap::new();
    let b = cache
        .get_or_build(DIGEST, &base, &empty, &BuildOptions::default(), load)
        .unwrap();
    let n = cache
        .get_or_build(DIGEST, &namespaced, &empty, &BuildOptions::default(), load)
        .unwrap();
    let l = cache
        .get_or_build(DIGEST, &labelled, &empty, &BuildOptions::default(), load)
        .unwrap();
    let s = cache
        .get_or_build(DIGEST, &suspended, &empty, &BuildOptions::default(), load)
        .unwrap();
    assert_eq!(n.objects[0]["metadata"]["namespace"], "team-a");
    assert_eq!(l.objects[0]["metadata"]["labels"]["x"], "y");
    assert!(Arc::ptr_eq(&b.objects, &s.objects));
    let stats = cache.stats();
    assert_eq!(
        (stats.kustomize_builds, stats.post_builds, stats.hits),
        (2, 3, 1)
    );
}

#[test]
fn entries_are_bounded_least_recently_used_first() {
    let cache = BuildCache::with_artifact_capacity(2, 1);
    let a = fleet();
    let load = || -> Result<Arc<Artifact>, Error> { Ok(a.clone()) };
    let build = |team: &str| {
        let mut s = spec("apps/web");
        s.post_build = Some(PostBuild::default());
        cache
            .get_or_build(DIGEST, &s, &vars(team), &BuildOptions::default(), load)
            .unwrap()
    };
    build("a");
    build("b");
    build("a"); // `a` is now more recent than `b`
    build("c"); // evicts `b`
    assert_eq!(cache.len(), (1, 1, 2));
    assert_eq!(cache.stats().post_builds, 3);
    build("a");
    assert_eq!(cache.stats().post_builds, 3, "a stayed");
    build("b");
    assert_eq!(cache.stats().post_builds, 4, "b was evicted");
}

#[test]
fn build_errors_are_cached_load_errors_are_not() {
    let cache = BuildCache::new(8);
    let broken = artifact(&[("apps/bad.yaml", "kind: [oops\n")]);
    let load = || -> Result<Arc<Artifact>, Error> { Ok(broken.clone()) };
    for _ in 0..3 {
        let err = cache
            .get_or_build(
                DIGEST,
                &spec("apps"),
                &BTreeMap::new(),
                &BuildOptions::default(),
                load,
            )
            .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("failed to decode Kubernetes YAML from apps/bad.yaml")
        );
    }
    assert_eq!(cache.stats().kustomize_builds, 1);

    #[derive(Debug, PartialEq)]
    enum Fetch {
        Unavailable,
        Build(String),
    }
    impl From<Error> for Fetch {
        fn from(e: Error) -> Fetch {
            Fetch::Build(e.to_string())
        }
    }
    let other = DIGEST.replace('1', "3");
    let err = cache
        .get_or_build(
            &other,
            &spec("apps"),
            &BTreeMap::new(),
            &BuildOptions::default(),
            || Err::<Arc<Artifact>, _>(Fetch::Unavailable),
        )
        .unwrap_err();
    assert_eq!(err, Fetch::Unavailable);
    let a = fleet();
    let ok = cache
        .get_or_build(
            &other,
            &spec("apps"),
            &BTreeMap::new(),
            &BuildOptions::default(),
            || Ok::<_, Fetch>(a.clone()),
        )
        .unwrap();
    assert_eq!(ok.objects.len(), 2, "the failed load was retried");
}

#[test]
fn concurrent_requests_share_one_build() {
    let cache = Arc::new(BuildCache::new(8));
    let a = fleet();
    let loads = Arc::new(AtomicUsize::new(0));
    let handles: Vec<_> = (0..8)
        .map(|_| {
            let (cache, a, loads) = (cache.clone(), a.clone(), loads.clone());
            std::thread::spawn(move || {
                cache
                    .get_or_build(
                        DIGEST,
                        &spec("apps"),
                        &BTreeMap::new(),
                        &BuildOptions::default(),
                        || {
                            loads.fetch_add(1, Ordering::SeqCst);
                            Ok::<_, Error>(a)
                        },
                    )
                    .unwrap()
            })
        })
        .collect();
    let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert!(
        results
            .iter()
            .all(|r| Arc::ptr_eq(&r.objects, &results[0].objects))
    );
    assert_eq!(loads.load(Ordering::SeqCst), 1);
    let stats = cache.stats();
    assert_eq!(
        (stats.kustomize_builds, stats.post_builds, stats.hits),
        (1, 1, 7)
    );
}
