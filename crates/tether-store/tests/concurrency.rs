//! Many writers and watchers at once: every watcher sees exactly the committed sequence (per its
//! filter), in order, whenever and from wherever it started.

// Test code: a panic is a failed assertion with a backtrace (clippy.toml allows this only
// inside #[test] functions, not in their helpers).
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;

use common::*;
use tether_store::{EventKind, Filter, HistoryLimits, Object, Store, StoreConfig, WriteError};

const WRITERS: u64 = 8;
const WRITES_EACH: u64 = 400;
const NAMESPACES: u64 = 3;

/// Each writer cycles create → update → update → delete over its own keys, and also fights the
/// others over shared keys with compare-and-swap updates.
async fn writer(store: Store, id: u64) -> Vec<(u64, String)> {
    let mut acked = Vec::new();
    for i in 0..WRITES_EACH {
        let ns = (id + i / 4) % NAMESPACES;
        let own = format!("ns{ns}/w{id}-{}", i / 4);
        let op = match i % 4 {
            0 => create(&own, i),
            1 | 2 => update(&own, i, None),
            _ if i % 8 == 3 => delete(&own, None),
            _ => {
                let shared = format!("ns{ns}/shared{}", i % 5);
                match store.get(&shared) {
                    Some(current) => update(&shared, i, Some(current.revision)),
                    None => create(&shared, i),
                }
            }
        };
        let key = op.key().to_owned();
        match store.write(op).await {
            Ok(outcome) => acked.push((outcome.revision, key)),
            Err(WriteError::Conflict { .. } | WriteError::AlreadyExists { .. }) => {}
            Err(other) => panic!("writer {id}: {other}"),
        }
        if i % 16 == 0 {
            tokio::task::yield_now().await;
        }
    }
    acked
}

fn filters() -> Vec<(&'static str, Filter)> {
    let even = |o: &Object| data_of(&o.value).is_multiple_of(2);
    vec![
        ("all", Filter::all()),
        ("ns0", Filter::prefix("ns0/")),
        ("ns1 shared", Filter::prefix("ns1/shared")),
        (
            "even either side",
            Filter::all().with_predicate(move |e| {
                even(&e.object) || e.previous.as_deref().is_some_and(even)
            }),
        ),
        (
            "deletes in ns2",
            Filter::prefix("ns2/").with_predicate(|e| e.kind == EventKind::Deleted),
        ),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_watcher_sees_exactly_the_committed_sequence() {
    let dir = tempfile::tempdir().unwrap();
    let config = StoreConfig {
        // Durable, so batches take real fsync time and grow.
        path: Some(dir.path().join("store.redb")),
        history: HistoryLimits {
            max_events: 100_000,
        },
        ..StoreConfig::in_memory()
    };
    let store = Store::open(config).unwrap();

    // Watchers from the start, plus watchers that join mid-stream from the current revision
    // and from a past one.
    let mut watchers = Vec::new();
    for (name, filter) in filters() {
        watchers.push((name, 0, store.watch(0, filter).unwrap()));
    }
    let writers: Vec<_> = (0..WRITERS)
        .map(|id| tokio::spawn(writer(store.clone(), id)))
        .collect();
    // Join mid-stream: once a quarter of the writes are in (or a writer is already done).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while store.revision() < WRITERS * WRITES_EACH / 4 && writers.iter().all(|w| !w.is_finished()) {
        assert!(std::time::Instant::now() < deadline, "writers stalled");
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    for (name, filter) in filters() {
        let now = store.revision();
        watchers.push((name, now, store.watch(now, filter.clone()).unwrap()));
        let past = now / 2;
        watchers.push((name, past, store.watch(past, filter).unwrap()));
    }
    let readers: Vec<_> = watchers
        .into_iter()
        .map(|(name, start, mut watch)| {
            tokio::spawn(async move {
                // Read until the writers are done; the final revision arrives below.
                let mut seen = Vec::new();
                while let Some(item) = watch.next().await {
                    let event = item.unwrap_or_else(|e| panic!("{name} from {start}: {e}"));
                    seen.push(event);
                }
                (name, start, seen)
            })
        })
        .collect();

    let mut acked = BTreeMap::new();
    for writer in writers {
        for (revision, key) in writer.await.unwrap() {
            assert!(
                acked.insert(revision, key).is_none(),
                "revision {revision} acked twice"
            );
        }
    }
    let last = store.revision();
    // Every revision belongs to exactly one acknowledged write: nothing lost, no holes.
    assert_eq!(
        acked.keys().copied().collect::<Vec<_>>(),
        (1..=last).collect::<Vec<_>>()
    );

    // The committed sequence, read back after the fact.
    let mut replay = store.watch(0, Filter::all()).unwrap();
    let committed = collect_until(&mut replay, last).await;
    assert_eq!(committed.len() as u64, last);
    for event in &committed {
        assert_eq!(
            acked[&event.revision],
            event.key(),
            "revision {}",
            event.revision
        );
    }
    // Closing ends the watches, so the readers return what they saw.
    store.close().await.unwrap();

    let filters: BTreeMap<_, _> = filters().into_iter().collect();
    for reader in readers {
        let (name, start, seen) = reader.await.unwrap();
        let want: Vec<&Arc<tether_store::Event>> = committed
            .iter()
            .filter(|e| e.revision > start && filters[name].matches(e))
            .collect();
        let seen_revisions: Vec<u64> = seen.iter().map(|e| e.revision).collect();
        let want_revisions: Vec<u64> = want.iter().map(|e| e.revision).collect();
        assert_eq!(
            seen_revisions, want_revisions,
            "watcher {name:?} from {start}"
        );
        for (s, w) in seen.iter().zip(want) {
            assert_eq!(summary(s), summary(w), "watcher {name:?} from {start}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watches_started_during_writes_neither_miss_nor_repeat() {
    // Races the history copy against the live subscription: watch from the revision seen just
    // before, while writers commit continuously.
    let store = Store::open(StoreConfig::in_memory()).unwrap();
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let store = store.clone();
            tokio::spawn(async move {
                for i in 0..500u64 {
                    store.write(create(&format!("r/{w}/{i}"), i)).await.unwrap();
                }
            })
        })
        .collect();
    let mut watches = Vec::new();
    while watches.len() < 200 {
        let start = store.revision();
        watches.push((start, store.watch(start, Filter::all()).unwrap()));
        tokio::task::yield_now().await;
    }
    for writer in writers {
        writer.await.unwrap();
    }
    let last = store.revision();
    assert_eq!(last, 2000);
    for (start, mut watch) in watches {
        let seen: Vec<u64> = collect_until(&mut watch, last)
            .await
            .iter()
            .map(|e| e.revision)
            .collect();
        assert_eq!(
            seen,
            (start + 1..=last).collect::<Vec<_>>(),
            "watch from {start}"
        );
    }
}
