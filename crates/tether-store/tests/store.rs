//! Behaviour of the public API, one property per test.

// Test code: a panic is a failed assertion with a backtrace (clippy.toml allows this only
// inside #[test] functions, not in their helpers).
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use tether_store::{
    Error, EventKind, Filter, HistoryLimits, ListRequest, Object, Store, StoreConfig, WatchError,
    WriteError,
};

fn memory() -> Store {
    Store::open(StoreConfig::in_memory()).unwrap()
}

fn keys(items: &[Arc<Object>]) -> Vec<&str> {
    items.iter().map(|o| o.key.as_str()).collect()
}

#[tokio::test]
async fn revisions_are_global_dense_and_stamped() {
    let store = memory();
    assert_eq!(store.revision(), 0);
    let a = store.write(create("g/r/ns/a", 1)).await.unwrap();
    let b = store.write(create("g/r/ns/b", 2)).await.unwrap();
    let a2 = store.write(update("g/r/ns/a", 3, Some(1))).await.unwrap();
    assert_eq!((a.revision, b.revision, a2.revision), (1, 2, 3));
    assert_eq!(store.revision(), 3);
    let got = store.get("g/r/ns/a").unwrap();
    assert_eq!(got.revision, 3);
    assert_eq!(got.value, stamped(object("g/r/ns/a", 3), 3));
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&got.json).unwrap(),
        got.value
    );
    assert_eq!(a2.previous.unwrap().revision, 1);
}

#[tokio::test]
async fn refused_writes_consume_no_revision() {
    let store = memory();
    store.write(create("k/a", 1)).await.unwrap();
    let exists = store.write(create("k/a", 2)).await.unwrap_err();
    assert!(
        matches!(&exists, WriteError::AlreadyExists { key } if key == "k/a"),
        "{exists}"
    );
    let missing = store.write(update("k/b", 1, None)).await.unwrap_err();
    assert!(matches!(missing, WriteError::NotFound { .. }));
    let missing = store.write(delete("k/b", None)).await.unwrap_err();
    assert!(matches!(missing, WriteError::NotFound { .. }));
    let conflict = store.write(update("k/a", 9, Some(7))).await.unwrap_err();
    assert!(
        matches!(
            conflict,
            WriteError::Conflict {
                expected: 7,
                current: 1,
                ..
            }
        ),
        "{conflict}"
    );
    let conflict = store.write(delete("k/a", Some(2))).await.unwrap_err();
    assert!(matches!(conflict, WriteError::Conflict { current: 1, .. }));
    let invalid = store
        .write(tether_store::WriteOp::Create {
            key: "k/c".into(),
            value: serde_json::json!("not an object"),
        })
        .await
        .unwrap_err();
    assert!(
        matches!(invalid, WriteError::InvalidObject { .. }),
        "{invalid}"
    );
    assert_eq!(store.revision(), 1);
    assert_eq!(store.write(create("k/b", 1)).await.unwrap().revision, 2);
}

#[tokio::test]
async fn delete_carries_last_state_stamped_with_the_deletion_revision() {
    let store = memory();
    store.write(create("k/a", 5)).await.unwrap();
    let mut watch = store.watch(1, Filter::all()).unwrap();
    let deleted = store.write(delete("k/a", Some(1))).await.unwrap();
    assert_eq!(deleted.revision, 2);
    assert_eq!(deleted.object.value, stamped(object("k/a", 5), 2));
    assert_eq!(deleted.previous.as_ref().unwrap().revision, 1);
    assert!(store.get("k/a").is_none());
    let events = collect_until(&mut watch, 2).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].kind, EventKind::Deleted);
    assert_eq!(events[0].object, deleted.object);
    // The key can be created again and numbering goes on.
    assert_eq!(store.write(create("k/a", 6)).await.unwrap().revision, 3);
}

#[tokio::test]
async fn lists_are_in_key_order_and_prefixes_are_isolated() {
    let store = memory();
    for key in [
        "apps/deployments/ns2/b",
        "apps/deployments/ns1/z",
        "apps/deployments/ns1/a",
        "apps/deploymentsx/ns1/a",
        "apps/deployment/ns1/a",
        "/configmaps/ns1/a",
        "apps/deployments/ns10/a",
    ] {
        store.write(create(key, 0)).await.unwrap();
    }
    let all = store.list(ListRequest::new("")).unwrap();
    let mut sorted = keys(&all.items);
    sorted.sort();
    assert_eq!(keys(&all.items), sorted, "key order");
    assert_eq!(all.revision, 7);
    let deployments = store.list(ListRequest::new("apps/deployments/")).unwrap();
    assert_eq!(
        keys(&deployments.items),
        [
            "apps/deployments/ns1/a",
            "apps/deployments/ns1/z",
            "apps/deployments/ns10/a",
            "apps/deployments/ns2/b"
        ]
    );
    let ns1 = store
        .list(ListRequest::new("apps/deployments/ns1/"))
        .unwrap();
    assert_eq!(
        keys(&ns1.items),
        ["apps/deployments/ns1/a", "apps/deployments/ns1/z"]
    );
    assert!(
        store
            .list(ListRequest::new("nothing/"))
            .unwrap()
            .items
            .is_empty()
    );
}

#[tokio::test]
async fn paging_applies_the_filter_before_the_limit() {
    let store = memory();
    for i in 0..10 {
        store.write(create(&format!("p/{i:02}"), i)).await.unwrap();
    }
    let even = |o: &Object| data_of(&o.value).is_multiple_of(2);
    let mut seen = Vec::new();
    let mut start_after: Option<String> = None;
    let mut pages = 0;
    loop {
        let page = store
            .list(ListRequest {
                start_after: start_after.as_deref(),
                limit: Some(2),
                filter: Some(&even),
                ..ListRequest::new("p/")
            })
            .unwrap();
        pages += 1;
        assert!(page.items.len() <= 2);
        assert_eq!(page.remaining, None, "not counted with a filter");
        seen.extend(page.items.iter().map(|o| data_of(&o.value)));
        match page.next_key {
            Some(next) => start_after = Some(next),
            None => break,
        }
    }
    assert_eq!(seen, [0, 2, 4, 6, 8]);
    assert_eq!(pages, 3, "the last page knows nothing follows");
}

#[tokio::test]
async fn remaining_counts_what_follows_the_page() {
    let store = memory();
    for i in 0..7 {
        store.write(create(&format!("p/{i}"), i)).await.unwrap();
    }
    store.write(create("q/0", 0)).await.unwrap();
    let page = store
        .list(ListRequest {
            limit: Some(3),
            ..ListRequest::new("p/")
        })
        .unwrap();
    assert_eq!(keys(&page.items), ["p/0", "p/1", "p/2"]);
    assert_eq!(page.next_key.as_deref(), Some("p/2"));
    assert_eq!(page.remaining, Some(4));
    let last = store
        .list(ListRequest {
            limit: Some(4),
            start_after: Some("p/2"),
            ..ListRequest::new("p/")
        })
        .unwrap();
    assert_eq!(keys(&last.items), ["p/3", "p/4", "p/5", "p/6"]);
    assert_eq!((last.next_key, last.remaining), (None, None));
    let unlimited = store
        .list(ListRequest {
            limit: Some(0),
            ..ListRequest::new("p/")
        })
        .unwrap();
    assert_eq!(
        unlimited.items.len(),
        7,
        "limit 0 means no limit, as in Kubernetes"
    );
}

#[tokio::test]
async fn snapshot_pages_stay_consistent_while_writes_go_on() {
    let store = memory();
    for i in 0..6 {
        store.write(create(&format!("s/{i}"), i)).await.unwrap();
    }
    let first = store
        .list(ListRequest {
            limit: Some(3),
            ..ListRequest::new("s/")
        })
        .unwrap();
    assert_eq!(first.revision, 6);
    // Change the world between pages: delete one not yet listed, add one, modify one.
    store.write(delete("s/4", None)).await.unwrap();
    store.write(create("s/35", 100)).await.unwrap();
    store.write(update("s/5", 500, None)).await.unwrap();
    let second = store
        .list(ListRequest {
            at_revision: Some(first.revision),
            start_after: first.next_key.as_deref(),
            ..ListRequest::new("s/")
        })
        .unwrap();
    assert_eq!(keys(&second.items), ["s/3", "s/4", "s/5"]);
    assert_eq!(second.items[1].revision, 5);
    assert_eq!(data_of(&second.items[2].value), 5);
    assert_eq!(second.revision, 6);
    let now = store.list(ListRequest::new("s/")).unwrap();
    assert_eq!(
        keys(&now.items),
        ["s/0", "s/1", "s/2", "s/3", "s/35", "s/5"]
    );
}

#[tokio::test]
async fn old_revisions_expire_and_future_ones_are_refused() {
    let config = StoreConfig {
        history: HistoryLimits { max_events: 10 },
        ..StoreConfig::in_memory()
    };
    let store = Store::open(config).unwrap();
    for i in 0..30 {
        store.write(create(&format!("e/{i}"), i)).await.unwrap();
    }
    assert_eq!(store.oldest_revision(), 20);
    let expired = store.watch(19, Filter::all()).unwrap_err();
    assert!(
        matches!(
            expired,
            Error::Expired {
                requested: 19,
                oldest: 20
            }
        ),
        "{expired}"
    );
    let expired = store
        .list(ListRequest {
            at_revision: Some(5),
            ..ListRequest::new("")
        })
        .unwrap_err();
    assert!(matches!(
        expired,
        Error::Expired {
            requested: 5,
            oldest: 20
        }
    ));
    let mut watch = store.watch(20, Filter::all()).unwrap();
    let events = collect_until(&mut watch, 30).await;
    assert_eq!(
        events.iter().map(|e| e.revision).collect::<Vec<_>>(),
        (21..=30).collect::<Vec<_>>()
    );
    let at20 = store
        .list(ListRequest {
            at_revision: Some(20),
            ..ListRequest::new("")
        })
        .unwrap();
    assert_eq!(at20.items.len(), 20);
    let future = store.watch(31, Filter::all()).unwrap_err();
    assert!(matches!(
        future,
        Error::FutureRevision {
            requested: 31,
            current: 30
        }
    ));
}

#[tokio::test]
async fn watch_replays_history_then_goes_live_with_its_filter() {
    let store = memory();
    store.write(create("w/a/1", 1)).await.unwrap();
    store.write(create("w/b/1", 2)).await.unwrap();
    store.write(update("w/a/1", 3, None)).await.unwrap();
    let mut watch = store.watch(1, Filter::prefix("w/a/")).unwrap();
    store.write(create("w/b/2", 4)).await.unwrap();
    store.write(delete("w/a/1", None)).await.unwrap();
    let events = collect_until(&mut watch, 5).await;
    let seen: Vec<_> = events.iter().map(|e| (e.kind, e.revision)).collect();
    assert_eq!(seen, [(EventKind::Modified, 3), (EventKind::Deleted, 5)]);
    assert_eq!(watch.last_revision(), 5);
}

#[tokio::test]
async fn predicate_sees_new_and_previous_state_for_selector_transitions() {
    let store = memory();
    // "parity=even" selector: an event passes if either side matches, so the API server can
    // turn "stopped matching" into DELETED and "started matching" into ADDED.
    let even = |o: &Object| o.value["metadata"]["labels"]["parity"] == "even";
    let filter = Filter::prefix("l/")
        .with_predicate(move |e| even(&e.object) || e.previous.as_deref().is_some_and(even));
    let mut watch = store.watch(0, filter).unwrap();
    store.write(create("l/x", 1)).await.unwrap(); // odd: hidden
    store.write(update("l/x", 2, None)).await.unwrap(); // odd -> even: passes
    store.write(update("l/x", 4, None)).await.unwrap(); // even -> even: passes
    store.write(update("l/x", 5, None)).await.unwrap(); // even -> odd: passes
    store.write(update("l/x", 7, None)).await.unwrap(); // odd -> odd: hidden
    let events = collect_until(&mut watch, 5).await;
    let seen: Vec<_> = events
        .iter()
        .map(|e| {
            (
                e.revision,
                e.previous.as_ref().map(|p| data_of(&p.value)),
                data_of(&e.object.value),
            )
        })
        .collect();
    assert_eq!(seen, [(2, Some(1), 2), (3, Some(2), 4), (4, Some(4), 5)]);
}

#[tokio::test]
async fn a_watcher_that_falls_behind_gets_a_terminal_lagged_error() {
    let config = StoreConfig {
        watch_buffer: 16,
        ..StoreConfig::in_memory()
    };
    let store = Store::open(config).unwrap();
    store.write(create("lag/0", 0)).await.unwrap();
    let mut slow = store.watch(0, Filter::all()).unwrap();
    let mut fast = store.watch(0, Filter::all()).unwrap();
    let first = slow.next().await.unwrap().unwrap();
    assert_eq!(first.revision, 1);
    let mut fast_seen = collect_until(&mut fast, 1).await.len();
    for i in 1..=100 {
        store.write(create(&format!("lag/{i}"), i)).await.unwrap();
        if i % 8 == 0 {
            fast_seen += collect_until(&mut fast, i + 1).await.len();
        }
    }
    fast_seen += collect_until(&mut fast, 101).await.len();
    assert_eq!(fast_seen, 101, "a watcher that keeps up is not dropped");
    match slow.next().await {
        Some(Err(WatchError::Lagged {
            last_revision,
            missed,
        })) => {
            assert_eq!(last_revision, 1, "nothing after revision 1 was processed");
            assert!(missed > 0);
        }
        other => panic!("expected Lagged, got {other:?}"),
    }
    assert!(slow.next().await.is_none(), "Lagged is terminal");
    // The advertised resume point works while the history has it.
    let mut resumed = store.watch(1, Filter::all()).unwrap();
    assert_eq!(collect_until(&mut resumed, 101).await.len(), 100);
}

#[tokio::test]
async fn same_batch_writes_see_each_other_in_call_order() {
    let store = memory();
    // Issued together, awaited later: they reach the writer in call order, mostly in one batch.
    let creates: Vec<_> = (0..32).map(|i| store.write(create("race/a", i))).collect();
    let mut created = Vec::new();
    for (i, write) in creates.into_iter().enumerate() {
        match write.await {
            Ok(outcome) => created.push((i, outcome.revision)),
            Err(WriteError::AlreadyExists { .. }) => {}
            Err(other) => panic!("{other}"),
        }
    }
    assert_eq!(created, [(0, 1)], "exactly the first create wins");
    let updates: Vec<_> = (0..32)
        .map(|i| store.write(update("race/a", i, Some(1))))
        .collect();
    let mut winners = Vec::new();
    for (i, write) in updates.into_iter().enumerate() {
        match write.await {
            Ok(outcome) => winners.push((i, outcome.revision)),
            Err(WriteError::Conflict { current: 2, .. }) => {}
            Err(other) => panic!("{other}"),
        }
    }
    assert_eq!(winners, [(0, 2)], "exactly the first compare-and-swap wins");
    // Chains inside one batch: create, update, delete, create again.
    let chain = [
        store.write(create("race/b", 1)),
        store.write(update("race/b", 2, Some(3))),
        store.write(delete("race/b", Some(4))),
        store.write(create("race/b", 3)),
    ];
    let mut revisions = Vec::new();
    for write in chain {
        revisions.push(write.await.unwrap().revision);
    }
    assert_eq!(revisions, [3, 4, 5, 6]);
    assert_eq!(store.get("race/b").unwrap().revision, 6);
}

#[tokio::test]
async fn close_ends_watches_and_refuses_writes_but_keeps_reads() {
    let store = memory();
    store.write(create("c/a", 1)).await.unwrap();
    let other = store.clone();
    let mut watch = store.watch(0, Filter::all()).unwrap();
    store.close().await.unwrap();
    assert_eq!(watch.next().await.unwrap().unwrap().revision, 1);
    assert!(watch.next().await.is_none());
    assert!(matches!(
        other.write(create("c/b", 1)).await,
        Err(WriteError::Closed { .. })
    ));
    assert!(matches!(
        other.watch(0, Filter::all()),
        Err(Error::Closed { .. })
    ));
    assert_eq!(other.get("c/a").unwrap().revision, 1);
    other.close().await.unwrap();
}

#[tokio::test]
async fn restart_serves_the_same_objects_revisions_and_history() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.redb");
    let store = Store::open(StoreConfig::at(&path)).unwrap();
    for i in 0..20 {
        store.write(create(&format!("r/{i}"), i)).await.unwrap();
    }
    for i in 0..10 {
        store
            .write(update(&format!("r/{i}"), 100 + i, None))
            .await
            .unwrap();
    }
    store.write(delete("r/19", None)).await.unwrap();
    let before_objects = store.list(ListRequest::new("")).unwrap();
    let before_snapshot = store
        .list(ListRequest {
            at_revision: Some(15),
            ..ListRequest::new("")
        })
        .unwrap();
    let mut watch = store.watch(0, Filter::all()).unwrap();
    let before_events: Vec<_> = collect_until(&mut watch, 31)
        .await
        .iter()
        .map(|e| summary(e))
        .collect();
    drop(watch);
    store.close().await.unwrap();

    let store = Store::open(StoreConfig::at(&path)).unwrap();
    assert_eq!(store.revision(), 31);
    let after = store.list(ListRequest::new("")).unwrap();
    assert_eq!(after.items, before_objects.items);
    let snapshot = store
        .list(ListRequest {
            at_revision: Some(15),
            ..ListRequest::new("")
        })
        .unwrap();
    assert_eq!(snapshot.items, before_snapshot.items);
    let mut watch = store.watch(0, Filter::all()).unwrap();
    let after_events: Vec<_> = collect_until(&mut watch, 31)
        .await
        .iter()
        .map(|e| summary(e))
        .collect();
    assert_eq!(after_events, before_events);
    assert_eq!(store.write(create("r/new", 0)).await.unwrap().revision, 32);
    assert_eq!(collect_until(&mut watch, 32).await[0].key(), "r/new");
}

#[tokio::test]
async fn reopening_with_a_smaller_history_trims_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.redb");
    let store = Store::open(StoreConfig::at(&path)).unwrap();
    for i in 0..50 {
        store.write(create(&format!("t/{i}"), i)).await.unwrap();
    }
    store.close().await.unwrap();
    let small = StoreConfig {
        history: HistoryLimits { max_events: 5 },
        ..StoreConfig::at(&path)
    };
    let store = Store::open(small.clone()).unwrap();
    assert_eq!(store.oldest_revision(), 45);
    store.close().await.unwrap();
    // The trim reached the file: a larger limit does not bring the events back.
    let store = Store::open(StoreConfig::at(&path)).unwrap();
    assert_eq!((store.oldest_revision(), store.revision()), (45, 50));
    assert!(matches!(
        store.watch(44, Filter::all()),
        Err(Error::Expired { .. })
    ));
}

#[test]
fn a_file_that_is_not_a_store_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("garbage.redb");
    std::fs::write(&path, vec![0x5a; 64 * 1024]).unwrap();
    let error = Store::open(StoreConfig::at(&path)).unwrap_err();
    assert!(matches!(error, Error::Open { .. }), "{error}");
    assert!(error.to_string().contains("garbage.redb"), "{error}");
}

#[tokio::test]
async fn a_damaged_file_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.redb");
    let store = Store::open(StoreConfig::at(&path)).unwrap();
    for i in 0..200 {
        store.write(create(&format!("d/{i}"), i)).await.unwrap();
    }
    store.close().await.unwrap();
    let good = std::fs::read(&path).unwrap();

    let truncated = dir.path().join("truncated.redb");
    std::fs::write(&truncated, &good[..good.len() / 2]).unwrap();
    let error = Store::open(StoreConfig::at(&truncated)).unwrap_err();
    assert!(error.to_string().contains("truncated.redb"), "{error}");

    // Flip bytes across the data pages (past redb's header).
    let flipped = dir.path().join("flipped.redb");
    let mut bytes = good.clone();
    for i in (8192..bytes.len()).step_by(997) {
        bytes[i] ^= 0xff;
    }
    std::fs::write(&flipped, &bytes).unwrap();
    let error = Store::open(StoreConfig::at(&flipped)).unwrap_err();
    assert!(error.to_string().contains("flipped.redb"), "{error}");
}

#[tokio::test]
async fn watches_end_when_the_last_handle_is_dropped() {
    let store = memory();
    let mut watch = store.watch(0, Filter::all()).unwrap();
    drop(store);
    let end = tokio::time::timeout(Duration::from_secs(10), watch.next()).await;
    assert!(matches!(end, Ok(None)), "{end:?}");
}

#[test]
fn handles_move_across_tasks_and_threads() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send + 'static>(_: &T) {}
    send_sync::<Store>();
    send_sync::<tether_store::Event>();
    send_sync::<Filter>();
    let store = memory();
    send(&store.watch(0, Filter::all()).unwrap());
    send(&store.write(create("k", 0)));
}
